"""The benchmark schemes of model.md section 5.6 under the physical model (section 2.7), against independent
computations in the original variables.

The independent computations use :func:`coinfer.model.system.evaluate` and scipy only:

- the least energy at fixed ratios within the latency budget (fixed_ratio, quantised, decoupled's first stage)
  is the Lagrangian dual ``max_nu sum_parts min_x (E_part + nu t_part) - nu T0``: every part (device clock,
  server clock, transmit power) is a 1-D convex problem in its own time, and the problem is convex in the times
  (model.md section 5.2), so the dual's maximum is the least energy; its value is insensitive to first order to
  the inner minimisers' errors;
- the least distortion at fixed resources (max_resources, decoupled's second stage) is a brute force: for each
  device ratio the least feasible server ratio by bisection (time and energy fall with either ratio), and a 1-D
  bounded minimisation over the device ratio (the feasible set is convex, so the partial minimum is convex);
- shared_ratio against the conic reference (:func:`coinfer.optimise.solve_reference`).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from coinfer import optimise as opt
from coinfer.model.system import Decision, Problem, evaluate, make_problem, objective_value, random_problem

SEED, COUNT = 20251208, 300
RHO_FIXED = 0.5


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    rng = np.random.default_rng(SEED)
    return [random_problem(rng, physical=True) for _ in range(COUNT)]


@pytest.fixture(scope="module")
def proposed(problems):
    return [opt.solve(p) for p in problems]


# --- independent computations ---


def _part_minimum(problem: Problem, rho: tuple[float, float], part: str, nu: float) -> float:
    """``min_x (E_part + nu t_part)`` of one part (``device``, ``server``: its clock; ``tx``: the power) at the
    ratios ``rho``, counted energy only: a bounded 1-D minimisation in the log of the variable, through
    ``evaluate`` (the other variables at their maximum; the parts are separable)."""
    p = problem
    if part == "tx":
        if p.feature_bits <= 0:
            return 0.0
        top = p.p_max
        hi = math.log(top)
        lo = hi - 60.0
    else:
        top = getattr(p, f"f_{part}_max")
        hi = math.log(top)
        lo = math.log(max(getattr(p, f"f_{part}_min"), top * 1e-12))
    counted = part != "server" or p.energy_scope == "system"

    def cost(x: float) -> float:
        value = top * math.exp(x - hi)  # exactly the maximum at x = hi
        power, f_d, f_s = _maximum(p)
        if part == "tx":
            power = min(value, p.p_max)
        elif part == "device":
            f_d = min(value, p.f_device_max)
        else:
            f_s = min(value, p.f_server_max)
        ev = evaluate(p, Decision(rho[0], rho[1], power, f_d, f_s))
        energy = {"device": ev.energy_device, "server": ev.energy_server, "tx": ev.energy_tx}[part]
        time = {"device": ev.t_device, "server": ev.t_server, "tx": ev.t_tx}[part]
        return (energy if counted else 0.0) + (nu * (time - fastest) if nu > 0 else 0.0)

    # Time is counted from the part's fastest (at its maximum): at large prices ``nu t`` would otherwise swamp the
    # energy in rounding.
    ev_max = evaluate(p, Decision(rho[0], rho[1], *_maximum(p)))
    fastest = {"device": ev_max.t_device, "server": ev_max.t_server, "tx": ev_max.t_tx}[part]

    if hi - lo < 1e-12:
        return cost(hi)
    found = minimize_scalar(cost, bounds=(lo, hi), method="bounded", options={"xatol": 1e-11})
    return min(float(found.fun), cost(lo), cost(hi))


def _dual(problem: Problem, rho: tuple[float, float], nu: float) -> float:
    """The dual function ``sum_parts min_x (E_part + nu (t_part - t_part_fastest)) - nu (T0 - T_fastest)`` at the
    ratios ``rho`` and the price of time ``nu`` [W] (:func:`_part_minimum`): a lower bound on the least energy [J]
    for every ``nu >= 0``."""
    # A floor within the solvers' relative 1e-9 (EDGE) of the budget counts as meeting it: no slack, not below 0.
    slack = max(problem.latency_budget - evaluate(problem, Decision(rho[0], rho[1], *_maximum(problem))).latency, 0.0)
    parts = sum(_part_minimum(problem, rho, part, nu) for part in ("device", "server", "tx"))
    return parts - (nu * slack if nu > 0 else 0.0)


def least_energy(problem: Problem, rho: tuple[float, float], scale: float) -> float:
    """The least energy [J] at the ratios ``rho`` within the latency budget, by the Lagrangian dual (module
    docstring); ``scale`` [J] sets where the price of time ``nu`` [W] is searched (``scale / T0`` times
    ``e^(+-45)``)."""
    t0 = problem.latency_budget
    centre = math.log(max(scale, 1e-300) / t0)

    def negative_dual(x: float) -> float:
        return -_dual(problem, rho, math.exp(x))

    res = minimize_scalar(negative_dual, bounds=(centre - 45.0, centre + 45.0), method="bounded",
                          options={"xatol": 1e-10})  # fmt: skip
    return max(-float(res.fun), _dual(problem, rho, 0.0))


def _fits(problem: Problem, rho: tuple[float, float], res: tuple[float, float, float]) -> bool:
    ev = evaluate(problem, Decision(rho[0], rho[1], *res))
    return ev.latency <= problem.latency_budget * (1 + 1e-12) and ev.energy <= problem.energy_budget * (1 + 1e-12)


def _least_feasible(fits, hi: float) -> float:
    """The least ratio in ``[0, hi]`` for which ``fits`` holds (monotone), by bisection; ``hi`` must fit."""
    if fits(0.0):
        return 0.0
    lo = 0.0
    for _ in range(60):
        middle = 0.5 * (lo + hi)
        if fits(middle):
            hi = middle
        else:
            lo = middle
    return hi


def least_distortion(problem: Problem, res: tuple[float, float, float]) -> float | None:
    """The least objective with the resources ``res = (power, f_d, f_s)`` fixed, by brute force (module
    docstring); None where even ``rho_max`` on both sides does not fit."""
    p, top = problem, problem.rho_max
    if not _fits(p, (top, top), res):
        return None
    if p.shared_ratio:
        rho = _least_feasible(lambda r: _fits(p, (r, r), res), top)
        return objective_value(p, rho, rho)

    def server_ratio(rho_d: float) -> float:
        return _least_feasible(lambda r: _fits(p, (rho_d, r), res), top)

    low = _least_feasible(lambda r: _fits(p, (r, top), res), top)  # the least device ratio with any fit

    def value(rho_d: float) -> float:
        return objective_value(p, rho_d, server_ratio(rho_d))

    best = min(value(low), value(top))
    if top - low > 1e-12:
        found = minimize_scalar(value, bounds=(low, top), method="bounded", options={"xatol": 1e-12})
        best = min(best, float(found.fun))
    return best


def _maximum(problem: Problem) -> tuple[float, float, float]:
    return (problem.p_max if problem.feature_bits > 0 else 0.0, problem.f_device_max, problem.f_server_max)


def _close(value: float, reference: float, rel: float) -> bool:
    return abs(value - reference) <= rel * abs(reference) + 1e-300


# --- every scheme: a status, a feasible decision, never better than the proposed design ---


def _schemes(problem: Problem) -> dict[str, tuple[Problem, opt.Solution]]:
    """Each scheme's answer with the problem it is feasible for (quantised: at its own bits per weight)."""
    out = {
        "fixed_ratio": (problem, opt.solve_fixed_ratio(problem, min(RHO_FIXED, problem.rho_max))),
        "max_resources": (problem, opt.solve_max_resources(problem)),
        "decoupled": (problem, opt.solve_decoupled(problem)),
        "shared_ratio": (problem.replace(shared_ratio=True), opt.solve_shared_ratio(problem)),
        "local_nonconvex": (problem, opt.solve_local(problem, n_starts=3, seed=1)),
    }
    for bits in (8, 4):
        out[f"quantised_{bits}bit"] = (problem.replace(bits_per_weight=bits), opt.solve_quantised(problem, bits))
    return out


@pytest.fixture(scope="module")
def answers(problems):
    return [_schemes(p) for p in problems]


def test_every_scheme_answers_feasibly_and_never_beats_the_proposed_design(problems, proposed, answers):
    statuses: dict[str, Counter] = {}
    for problem, best, schemes in zip(problems, proposed, answers, strict=True):
        for name, (own, answer) in schemes.items():
            statuses.setdefault(name, Counter())[answer.status] += 1
            assert answer.status in ("optimal", "infeasible"), (name, problem, answer)
            if answer.status != "optimal":
                assert answer.reason, (name, answer)
                continue
            ev = evaluate(own, answer.decision)  # latency, energy, resource limits and f >= f_min
            assert ev.violations == [], (name, own, answer, ev.violations)
            assert answer.f_device >= own.f_device_min and answer.f_server >= own.f_server_min
            # The proposed design solves a relaxation of every scheme on the same problem (quantised: the problem
            # at its bits per weight); the local solver only finds feasible points of the same problem.
            reference = best if own.bits_per_weight == problem.bits_per_weight else opt.solve(own)
            if name == "shared_ratio":
                reference = best
            assert reference.status == "optimal", (name, problem, answer, reference)
            assert reference.objective <= answer.objective * (1 + 1e-9) + 1e-300, (name, problem, answer, reference)
    for name, counts in statuses.items():
        assert counts["optimal"] >= 20 and counts["infeasible"] >= 20, (name, counts)


def test_fixed_ratio_schemes_are_the_least_energy_at_their_ratio(problems, answers):
    """fixed_ratio and quantised: the least energy at the scheme's ratio within the latency budget equals the
    Lagrangian dual's (module docstring) to 1e-6; an energy-infeasible answer's floor is the dual's too, and a
    latency-infeasible one misses the budget at maximum resources."""
    checked: Counter = Counter()
    for problem, schemes in zip(problems, answers, strict=True):
        for name in ("fixed_ratio", "quantised_8bit", "quantised_4bit"):
            own, answer = schemes[name]
            rho = 0.0 if name.startswith("quantised") else min(RHO_FIXED, problem.rho_max)
            fastest = evaluate(own, Decision(rho, rho, *_maximum(own))).latency
            if answer.status == "optimal":
                assert answer.rho_device in (rho, 0.0) and answer.rho_server in (rho, 0.0), (name, answer)
                e_min = least_energy(own, (rho, rho), answer.energy)
                assert _close(answer.energy, e_min, 1e-6), (name, own, answer, e_min)
                checked[name] += 1
            elif answer.reason.startswith("latency"):
                assert fastest > own.latency_budget, (name, own, answer)
            else:
                assert answer.reason.startswith("energy floor"), answer.reason
                floor = float(answer.reason.split(" ")[2])
                e_min = least_energy(own, (rho, rho), floor)
                assert _close(floor, e_min, 1e-5) and e_min > own.energy_budget, (name, own, answer, e_min)
                checked[name + " infeasible"] += 1
    assert min(checked.values()) >= 20 and len(checked) == 6, checked


def test_fixed_resource_schemes_are_the_least_distortion_at_their_resources(problems, answers):
    """max_resources (``f = f_max``, ``p = P_max``) and decoupled (the least-energy resources of the unpruned model,
    by the dual; then the ratios) against the brute force at the same resources, to 1e-6."""
    checked: Counter = Counter()
    for problem, schemes in zip(problems, answers, strict=True):
        p = problem
        _, maximum = schemes["max_resources"]
        ref = least_distortion(p, _maximum(p))
        if maximum.status == "optimal":
            assert (maximum.power, maximum.f_device, maximum.f_server) == _maximum(p), maximum
            assert ref is not None and _close(maximum.objective, ref, 1e-6), (p, maximum, ref)
            checked["max_resources"] += 1
        else:
            assert ref is None, (p, maximum)
        _, decoupled = schemes["decoupled"]
        if decoupled.status != "optimal":
            continue
        resources = (decoupled.power, decoupled.f_device, decoupled.f_server)
        dense = evaluate(p, Decision(0.0, 0.0, *resources))
        fastest = evaluate(p, Decision(0.0, 0.0, *_maximum(p)))
        if fastest.latency <= p.latency_budget:
            # stage 1: the least energy of the unpruned model within the latency budget
            assert dense.latency <= p.latency_budget * (1 + 1e-9)
            assert _close(dense.energy, least_energy(p, (0.0, 0.0), dense.energy), 1e-6), (p, decoupled)
            checked["decoupled stage 1"] += 1
        else:  # the unpruned model cannot meet the budget: its fastest resources (a memory-bound side clocks down)
            assert _close(dense.latency, fastest.latency, 1e-12) and dense.energy <= fastest.energy * (1 + 1e-12)
        ref = least_distortion(p, resources)
        assert ref is not None and _close(decoupled.objective, ref, 1e-6), (p, decoupled, ref)
        checked["decoupled"] += 1
    assert min(checked.values()) >= 20 and len(checked) == 3, checked


def test_shared_ratio_agrees_with_the_conic_reference(problems, answers):
    checked, unchecked = 0, []
    for schemes in answers:
        own, answer = schemes["shared_ratio"]
        ref = opt.solve_reference(own)
        if ref.status == "solver_error":  # the conic solver's failure (it says so); SCS as a second opinion
            ref = opt.solve_reference(own, solver="SCS")
        if ref.status == "solver_error":
            unchecked.append(ref.reason)
            continue
        assert answer.status == ref.status, (own, answer, ref)
        if answer.status == "optimal":
            assert answer.rho_device == answer.rho_server or answer.rho_device == 0.0 or answer.rho_server == 0.0
            # the conic solver's accuracy, as tests/optimise/test_physical_solver.py compares solve with it
            # ... or lower than the reference and feasible in the original variables: the conic reference leaves up
            # to ~2e-6 relative slack in a tight budget (seed 20251208, instance 25: 1.1e-6 lower, both feasible)
            lower_and_feasible = (
                answer.objective < ref.objective
                and not evaluate(
                    own, Decision(answer.rho_device, answer.rho_server, answer.power, answer.f_device, answer.f_server)
                ).violations
            )
            assert lower_and_feasible or answer.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-9), (
                own,
                answer,
                ref,
            )
            checked += 1
    assert checked >= 50 and len(unchecked) <= 3, (checked, unchecked)


def test_the_local_solver_is_feasible_and_never_below_the_optimum(problems, proposed, answers):
    found = 0
    for problem, best, schemes in zip(problems, proposed, answers, strict=True):
        _, local = schemes["local_nonconvex"]
        if local.status == "optimal":
            assert evaluate(problem, local.decision).violations == []
            assert local.objective >= best.objective * (1 - 1e-9), (problem, local, best)
            found += 1
    assert found >= 50


# --- the reasons of infeasible answers name the physical limits (model.md section 5.7) ---


def _restricted(problem: Problem) -> dict[str, opt.Solution]:
    return {
        "fixed_ratio": opt.solve_fixed_ratio(problem, 0.5),
        "max_resources": opt.solve_max_resources(problem),
        "decoupled": opt.solve_decoupled(problem),
        "quantised_8bit": opt.solve_quantised(problem, 8),
    }


def test_latency_floor_reasons_name_memory_bandwidth_and_access_latency():
    from workloads import WORKLOAD

    problem = make_problem(**WORKLOAD, memory_bandwidth_device=1e6)  # seconds to read the device's weights
    for name, answer in _restricted(problem).items():
        assert answer.status == "infeasible" and answer.reason.startswith("latency floor"), (name, answer)
        assert "memory_bandwidth_device=1e+06 bit/s" in answer.reason and "access_latency=0.004 s" in answer.reason


def test_energy_floor_reasons_name_the_terms_that_hold_it_up():
    from workloads import WORKLOAD

    problem = make_problem(**{**WORKLOAD, "latency_budget": 10.0, "energy_budget": 1e-9})
    for name, answer in _restricted(problem).items():
        assert answer.status == "infeasible" and answer.reason.startswith("energy"), (name, answer)
        for term in ("static_power_device=0.05 W", "static_power_server=1.786 W", "circuit_power=0.2 W",
                     "memory_energy_device=8e-12 J/bit"):  # fmt: skip
            assert term in answer.reason, (name, term, answer.reason)
        # the device's static power keeps its clock above the floor; the server's share of a socket's static power
        # (1.786 W, model.md 2.7) does not: its least-energy clock (P_st / 2 psi)^(1/3) = 2.07e9 Hz < f_server_min
        assert "frequency floor f_device_min" not in answer.reason
    # Without static power the least-energy clock of a slack latency budget is the frequency floor.
    floor = problem.replace(static_power_device=0.0)
    reason = opt.solve_fixed_ratio(floor, 0.5).reason
    assert f"frequency floor f_device_min={floor.f_device_min:.4g} Hz" in reason, reason
    assert "static_power_device" not in reason
    # max_resources runs at f_max: no frequency floor holds up its energy.
    assert "frequency floor" not in opt.solve_max_resources(floor).reason
    reason = opt.solve_fixed_ratio(floor.replace(f_device_min=0.0), 0.5).reason
    assert "f_device_min" not in reason and "circuit_power=0.2 W" in reason


# --- over the splits: split_then_prune and compare_schemes ---


def _splits(latency_budget: float, energy_budget: float) -> list[Problem]:
    from workloads import WORKLOAD

    base = make_problem(**{**WORKLOAD, "latency_budget": latency_budget, "energy_budget": energy_budget})
    total_f, total_n = 1e10, 5e6
    return [
        base.replace(
            flops_device=total_f * s / 4,
            flops_server=total_f * (1 - s / 4),
            params_device=total_n * s / 4,
            params_server=total_n * (1 - s / 4),
            feature_bits=0.0 if s == 4 else [2e6, 5e5, 2e5, 1e5][s],
        )
        for s in range(5)
    ]


@pytest.mark.parametrize(("latency_budget", "energy_budget"), [(0.1, 0.3), (0.05, 0.5), (0.5, 0.05), (0.02, 0.02)])
def test_compare_schemes_under_the_physical_model(latency_budget, energy_budget):
    problems = _splits(latency_budget, energy_budget)
    table = opt.compare_schemes(problems, n_starts=3).set_index("scheme")
    assert set(table["status"]) <= {"optimal", "infeasible"}, table[["status", "reason"]]
    proposed = table.loc["proposed"]
    for scheme, row in table.iterrows():
        if row["status"] != "optimal":
            continue
        problem = problems[int(row["split"])]
        if scheme.startswith("quantised"):
            problem = problem.replace(bits_per_weight=int(scheme[len("quantised_")]))
        decision = Decision(row["rho_device"], row["rho_server"], row["power"], row["f_device"], row["f_server"])
        assert evaluate(problem, decision).violations == [], (scheme, row)
        if not scheme.startswith("quantised"):  # the same problem at its split: the proposed design is no worse
            assert proposed["objective"] <= row["objective"] * (1 + 1e-9) + 1e-300, (scheme, row, proposed)
    # split_then_prune: the split of least dense latency at maximum resources, then the least feasible ratio
    split, answer = opt.solve_split_then_prune(problems)
    dense = [evaluate(p, Decision(0.0, 0.0, *_maximum(p))).latency for p in problems]
    assert split == int(np.argmin(dense))
    if answer.status == "optimal":
        rho = max(answer.rho_device, answer.rho_server)
        assert rho == 0.0 or opt.solve_fixed_ratio(problems[split], rho * (1 - 1e-6)).status == "infeasible"
