"""Joint optimisation (model.md section 5): fast solver vs the cvxpy reference, a dense grid, edge cases, benchmarks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from workloads import WORKLOAD

from coinfer import optimise as opt
from coinfer.model import rate_distortion as rd
from coinfer.model.arithmetic import distortion_slope, problem_row
from coinfer.model.system import Decision, evaluate, make_problem, random_problem, unit_distortion
from coinfer.optimise import fast, kernel
from coinfer.optimise.blocks import Blocks


def agree(a: float, b: float) -> bool:
    """The acceptance rule: 1e-6 relative or 1e-9 absolute."""
    return abs(a - b) <= max(1e-6 * abs(b), 1e-9)


def check_pair(problem, fast, ref):
    assert fast.status == ref.status, (problem, fast, ref)
    if fast.status == "optimal":
        assert fast.reason is None
        assert evaluate(problem, fast.decision, rtol=1e-9).violations == []
        assert evaluate(problem, ref.decision, rtol=1e-9).violations == []
        assert agree(fast.objective, ref.objective), (problem, fast, ref)
    else:
        assert fast.reason and any(ch.isdigit() for ch in fast.reason)
        assert ref.reason


def test_fast_matches_reference_on_random_instances():
    rng = np.random.default_rng(20250509)
    statuses = {"optimal": 0, "infeasible": 0}
    optimal_kinds = {"ideal": 0, "dense": 0, "sparse": 0, "fixed_flops": 0}
    for _ in range(220):
        problem = random_problem(rng)
        fast, ref = opt.solve(problem), opt.solve_reference(problem)
        check_pair(problem, fast, ref)
        statuses[fast.status] += 1
        if fast.status == "optimal":
            optimal_kinds[problem.compute_model] += 1
            optimal_kinds["fixed_flops"] += problem.flops_device_fixed + problem.flops_server_fixed > 0
    # The generator must exercise both answers, every execution model and fixed FLOPs.
    assert statuses["optimal"] >= 90 and statuses["infeasible"] >= 20
    assert min(optimal_kinds.values()) >= 10, optimal_kinds


def grid_best(problem, n_rho=21, n_res=12) -> float:
    """Best objective over a dense grid in the ORIGINAL variables (independent NumPy model of model.md section 2)."""
    p = problem
    rho = np.linspace(0, p.rho_max, n_rho)
    frac = np.linspace(1 / n_res, 1, n_res)
    rd_, rs, pw, fd, fs = np.meshgrid(
        rho, rho, frac * p.p_max, frac * p.f_device_max, frac * p.f_server_max, indexing="ij", sparse=True
    )
    if p.shared_ratio:
        rs = rd_ + 0 * rs
    wd, ws = (1 - rd_) * p.flops_device / p.flops_per_cycle_device, (1 - rs) * p.flops_server / p.flops_per_cycle_server
    r = p.bandwidth * np.log2(1 + pw * p.channel_gain / (p.noise_psd * p.bandwidth))
    t_tx = p.feature_bits / r
    lat = wd / fd + ws / fs + t_tx
    en = p.pue_device * p.psi_device * wd * fd**2 + pw * t_tx
    if p.energy_scope == "system":
        en = en + p.pue_server * p.psi_server * ws * fs**2
    dist = rd.distortion_lower_bound if p.distortion_model == "rd_bound" else None

    def model(x, b):
        return dist(x, b, p.bits_per_weight) if dist else rd.magnitude_distortion(x, b)

    obj = (p.params_device * model(rd_, p.scale_device) + p.params_server * model(rs, p.scale_server)) / (
        p.params_device + p.params_server
    )
    ok = (lat <= p.latency_budget) & (en <= p.energy_budget)
    obj = np.broadcast_to(obj, ok.shape)
    return float(obj[ok].min()) if ok.any() else math.inf


@pytest.mark.parametrize("seed", range(8))
def test_no_grid_point_beats_the_optimum(seed):
    rng = np.random.default_rng(seed)
    problem = make_problem(
        flops_device=float(rng.uniform(5e8, 5e9)),
        flops_server=float(rng.uniform(1e9, 2e10)),
        params_device=float(rng.uniform(1e5, 1e7)),
        params_server=float(rng.uniform(1e5, 1e7)),
        scale_device=float(rng.uniform(0.01, 0.05)),
        scale_server=float(rng.uniform(0.01, 0.05)),
        feature_bits=float(rng.uniform(1e4, 1e6)),
        latency_budget=float(rng.uniform(0.02, 0.2)),
        energy_budget=float(rng.uniform(0.005, 0.2)),
        distortion_model=["rd_bound", "magnitude"][seed % 2],
        energy_scope=["system", "device"][(seed // 2) % 2],
        shared_ratio=seed >= 6,
    )
    sol = opt.solve(problem)
    best = grid_best(problem)
    if sol.status == "infeasible":
        assert best == math.inf
        return
    assert evaluate(problem, sol.decision, rtol=1e-9).violations == []
    assert best >= sol.objective * (1 - 1e-9) - 1e-12


@pytest.mark.parametrize("model", ["rd_bound", "magnitude"])
def test_infeasible_instances_have_reasons(model):
    base = make_problem(**WORKLOAD, distortion_model=model)
    latency = base.replace(latency_budget=1e-4)
    energy = base.replace(energy_budget=1e-6)
    for problem, word in ((latency, "latency floor"), (energy, "energy floor")):
        fast, ref = opt.solve(problem), opt.solve_reference(problem)
        assert fast.status == ref.status == "infeasible"
        assert word in fast.reason and "rho_max=0.99" in fast.reason
        assert fast.objective is None and fast.decision is None


@pytest.mark.parametrize("model", ["rd_bound", "magnitude"])
@pytest.mark.parametrize(
    "changes",
    [
        dict(flops_device=0.0, params_device=0.0),  # split 0: all on the server
        dict(flops_server=0.0, params_server=0.0, feature_bits=0.0),  # split L: all on the device
        dict(feature_bits=0.0),
        dict(flops_device=0.0),  # parameters without FLOPs
        dict(params_server=0.0),  # FLOPs without parameters: pruned for free
        dict(energy_scope="device"),
        dict(shared_ratio=True),
        dict(shared_ratio=True, energy_scope="device"),
        dict(rho_max=0.0),
        dict(bits_per_weight=1),
        dict(bits_per_weight=64),
        dict(latency_budget=100.0, energy_budget=100.0),  # nothing binds
        dict(energy_budget=100.0),  # latency alone binds
        dict(latency_budget=10.0, energy_budget=0.002),  # energy binds hardest
    ],
)
def test_degenerate_and_edge_cases(model, changes):
    problem = make_problem(**WORKLOAD, distortion_model=model).replace(**changes)
    fast, ref = opt.solve(problem), opt.solve_reference(problem)
    check_pair(problem, fast, ref)
    if fast.status != "optimal":
        return
    if problem.shared_ratio:
        assert fast.rho_device == fast.rho_server
    if problem.energy_scope == "device" and problem.flops_server > 0:
        assert fast.f_server == problem.f_server_max  # server energy is free: run at f_max
    if problem.feature_bits == 0:
        assert fast.power == 0.0


def test_budgets_exactly_at_the_floor():
    problem = make_problem(**{**WORKLOAD, "energy_budget": 100.0})
    m = Blocks(problem)
    floor = m.time((0.99, 0.99), m.max_resources())
    at_floor = problem.replace(latency_budget=floor)
    sol = opt.solve(at_floor)
    assert sol.status == "optimal" and sol.rho_device == sol.rho_server == 0.99
    assert evaluate(at_floor, sol.decision, rtol=1e-12).violations == []
    assert opt.solve(problem.replace(latency_budget=floor * (1 - 1e-6))).status == "infeasible"
    e_floor = Blocks(at_floor).min_energy((0.99, 0.99))[0]
    both = at_floor.replace(energy_budget=e_floor)
    sol = opt.solve(both)
    assert sol.status == "optimal" and evaluate(both, sol.decision, rtol=1e-12).violations == []


def both_binding_instances(seed: int, count: int) -> list:
    """Seeded random instances that reach step 4 of solve (both budgets bind) with two pruned sides."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        problem = random_problem(rng)
        m = Blocks(problem)
        if not m.two_pruned:
            continue
        top = m.max_resources()
        if m.time(m.rho_flat, top) <= m.T0 and m.min_energy(m.rho_flat)[0] <= m.E0:
            continue
        floor_t, e_min = m.time(m.rho_top, top), m.min_energy(m.rho_top)[0]
        if floor_t >= m.T0 * (1 - 1e-12) or e_min >= m.E0 * (1 - 1e-12):  # infeasible, or at a floor
            continue
        excess = m.energy(m.latency_ratios(top), top) / m.E0 - 1.0
        if excess > 0:
            found.append((problem, excess))
    return found


def solve_with_step(problem, evaluations: int = kernel.JOINT_NEWTON_EVALUATIONS):
    """``solve``'s answer and the step of model.md section 5.3 that settled it (kernel's codes), with at most
    ``evaluations`` evaluations for the joint Newton (0: it gives up at once, and the nested roots answer)."""
    code, step, out = kernel.solve_row(problem_row(problem), *kernel.slope_table(problem.bits_per_weight), evaluations)
    return fast.solution_of(problem, code, out), step


def test_joint_newton_agrees_with_the_nested_roots_and_the_reference():
    """The fast path of step 4 (2-D Newton in (ln nu, ln multiplier)) finds the nested roots' KKT point."""
    joint_found = 0
    for i, (problem, _) in enumerate(both_binding_instances(31, 60)):
        got, step = solve_with_step(problem)
        want, nested_step = solve_with_step(problem, evaluations=0)
        assert nested_step == kernel.NESTED_ROOTS
        if step != kernel.JOINT_NEWTON:
            continue
        joint_found += 1
        assert got.status == want.status == "optimal"
        assert got.objective == pytest.approx(want.objective, rel=1e-9, abs=1e-15)
        for name in ("rho_device", "rho_server", "power", "f_device", "f_server"):
            assert getattr(got, name) == pytest.approx(getattr(want, name), rel=1e-7), (name, problem)
        if i < 15:  # the reference is slow: a sample
            check_pair(problem, got, opt.solve_reference(problem))
    assert joint_found >= 50  # the fast path is the rule, the fallback the exception


def test_solve_falls_back_to_the_nested_roots(monkeypatch):
    """Where the joint Newton gives up, solve's answer comes from the nested roots, and it is the same."""
    instances = both_binding_instances(32, 25)
    fast_path = [opt.solve(problem) for problem, _ in instances]
    monkeypatch.setattr(kernel, "JOINT_NEWTON_EVALUATIONS", 0)  # never converges: always the fallback
    for (problem, _), want in zip(instances, fast_path, strict=True):
        got = opt.solve(problem)
        assert solve_with_step(problem, evaluations=0)[1] == kernel.NESTED_ROOTS
        assert got.status == want.status == "optimal"
        assert got.objective == pytest.approx(want.objective, rel=1e-9, abs=1e-15)
        assert evaluate(problem, got.decision, rtol=1e-9).violations == []


def test_joint_newton_gives_up_on_some_random_instances():
    """The fallback is not dead code: on seeded random instances the joint Newton sometimes gives up, and
    solve's answer there still agrees with the reference."""
    gave_up = [p for p, _ in both_binding_instances(5, 150) if solve_with_step(p)[1] == kernel.NESTED_ROOTS]
    assert gave_up
    for problem in gave_up[:5]:
        check_pair(problem, opt.solve(problem), opt.solve_reference(problem))


def kernel_numbers(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(m, keys, logits, state, seen)``: the compiled steps' numbers of ``problem`` and fresh work arrays."""
    m = np.empty(kernel.WIDTH)
    kernel.derive(problem_row(problem), m)
    state = np.full(kernel.STATE, np.nan)
    state[kernel.LAST_VALID] = 0.0
    return m, *kernel.slope_table(problem.bits_per_weight), state, np.empty((kernel.SEEN, 6))


@pytest.mark.parametrize("model", ["rd_bound", "magnitude"])
def test_two_sided_ratios_by_newton_agree_with_the_root_in_the_log_multiplier(model):
    """Ratios of two pruned sides for the latency budget at maximum resources by Newton where the slope has a closed
    form (rd_bound: in the logits; magnitude: in the multiplier) = the 1-D root in the log multiplier, their
    fallback, called on the same numbers."""
    rng = np.random.default_rng(41)
    checked = used = 0
    while checked < 40:
        problem = random_problem(rng).replace(distortion_model=model, shared_ratio=False)
        if not Blocks(problem).two_pruned:
            continue
        m, keys, logits, state, seen = kernel_numbers(problem)
        f_d, f_s, u = m[kernel.FMAX_D], m[kernel.FMAX_S], m[kernel.U_MAX]
        got = kernel.latency_ratios(m, keys, logits, state, seen, f_d, f_s, u)
        # budget_ratios' two-sided case, by hand: loads w, prices sigma, budget, and its start
        w_d, w_s = m[kernel.A_D] / f_d, m[kernel.A_S] / f_s
        sigma_d, sigma_s = w_d / m[kernel.C_D], w_s / m[kernel.C_S]
        budget = m[kernel.T0] - kernel.fixed_time(m, f_d, f_s, u)
        if budget <= w_d * (1 - m[kernel.TOP_D]) + w_s * (1 - m[kernel.TOP_S]):
            continue  # the latency floor binds: no two-sided root
        if budget >= w_d * (1 - m[kernel.FLAT_D]) + w_s * (1 - m[kernel.FLAT_S]):
            continue  # the flat point fits
        checked += 1
        start = math.log(max(distortion_slope(m, 0.5 * m[kernel.RHO_MAX]), 1e-300)) - 0.5 * math.log(sigma_d * sigma_s)
        want = kernel._multiplier_ratios(m, keys, logits, state, seen, w_d, w_s, sigma_d, sigma_s, budget, start)
        for g, w in zip(got, want, strict=True):
            assert g == pytest.approx(w, rel=1e-9, abs=1e-12), (problem, got, want)
        if model == "magnitude":
            found = kernel._magnitude_ratios(m, sigma_d, sigma_s, w_d, w_s, budget, start)
        else:
            log_sigma = math.log(sigma_d), math.log(sigma_s)
            found = kernel._paired_ratios(m, keys, logits, *log_sigma, w_d, w_s, budget, start)
        used += found[0]
    assert used >= 10  # the closed-form path answers, not only the fallback


def test_latency_only_closed_form_magnitude():
    # One side, nothing sent, energy free: rho = 1 - T0 f_max c / F exactly.
    problem = make_problem(
        **{
            **WORKLOAD,
            "flops_server": 0.0,
            "params_server": 0.0,
            "feature_bits": 0.0,
            "latency_budget": 0.01,
            "energy_budget": 100.0,
        },
        distortion_model="magnitude",
    )
    sol = opt.solve(problem)
    assert sol.rho_device == pytest.approx(1 - 0.01 * 2e9 * 32 / 2e9, rel=1e-12)
    assert sol.f_device == 2e9


def test_absurd_but_legal_instance_is_feasible_in_original_variables():
    # Found by fuzzing: 1e20 s budget, tiny server FLOPs per cycle -> uplink power ~1e-22 W.
    problem = make_problem(
        **{**WORKLOAD, "feature_bits": 1.36e8, "latency_budget": 1.06e20},
        flops_per_cycle_server=3.47e-12,
        psi_server=2.35e-26,
        noise_psd=1.18e-21,
        shared_ratio=True,
        bits_per_weight=4,
    )
    sol = opt.solve(problem)
    assert sol.status == "optimal" and sol.reason is None
    assert evaluate(problem, sol.decision, rtol=1e-9).violations == []


def test_huge_and_tiny_budgets():
    problem = make_problem(**{**WORKLOAD, "latency_budget": 1e50, "energy_budget": 1e50})
    sol = opt.solve(problem)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx((1e6 * 0.02 + 4e6 * 0.03) / 5e6 * 2.0**-16, rel=1e-12)
    assert opt.solve(problem.replace(latency_budget=1e-50)).status == "infeasible"
    assert opt.solve(problem.replace(energy_budget=1e-50)).status == "infeasible"


def price_ratios(problem, nu: float, res: tuple[float, float, float]) -> tuple[float, float]:
    """The compiled steps' KKT ratios at the price of time ``nu`` and its resources ``res`` (a fresh solve)."""
    m, keys, logits, state, seen = kernel_numbers(problem)
    return kernel._price_ratios(m, keys, logits, state, seen, nu, *res)


def test_energy_rises_with_the_price_of_time():
    """The outer root of solve() needs E(nu) non-decreasing along the path where the latency budget binds."""
    rng = np.random.default_rng(11)
    checked = 0
    while checked < 25:
        problem = random_problem(rng)
        m = Blocks(problem)
        e_min, nu_min, _ = m.min_energy(m.rho_top)
        if m.time(m.rho_top, m.max_resources()) > m.T0 or e_min > m.E0 or not math.isfinite(nu_min) or m.nu_sat <= 0:
            continue
        checked += 1
        energies = []
        for x in np.linspace(math.log(nu_min), math.log(m.nu_sat) + 5, 40):
            res = m.resources(math.exp(x))
            energies.append(m.energy(price_ratios(problem, math.exp(x), res), res))
        assert all(b >= a * (1 - 1e-10) for a, b in itertools.pairwise(energies))


@settings(max_examples=200)
@given(x=st.floats(-1 / math.e + 1e-12, 1e12))
def test_lambert_w_matches_scipy(x):
    assert kernel._lambert_w0(x) == pytest.approx(float(scipy.special.lambertw(x).real), rel=1e-12, abs=1e-12)


@settings(max_examples=200)
@given(log_r=st.floats(-300.0, 12.0))
def test_uplink_exponent_solves_its_kkt_condition(log_r):
    r = 10.0**log_r
    u = kernel._tx_exponent(r)
    assert u > 0
    assert kernel._psi(u) == pytest.approx(r, rel=1e-12)
    if u > 1e-3:
        assert (u - 1) * math.exp(u) + 1 == pytest.approx(r, rel=1e-9)


@settings(max_examples=200)
@given(
    rho=st.floats(0.0, 0.995),
    q=st.sampled_from([1, 2, 8, 16, 32, 64]),
    model=st.sampled_from(["rd_bound", "magnitude"]),
)
def test_inverse_slope_inverts_slope(rho, q, model):
    rho0 = opt.flat_end(q) if model == "rd_bound" else 0.0
    m, keys, logits, state, _ = kernel_numbers(
        make_problem(**WORKLOAD, distortion_model=model, bits_per_weight=q, rho_max=0.995)
    )
    s = distortion_slope(m, rho)
    if s <= 0:
        assert rho < rho0 or rho == 0.0
        return
    back = kernel._inverse_slope(m, keys, logits, s, state, kernel.NO_GUESS)
    assert back == pytest.approx(max(rho, rho0), rel=1e-9, abs=1e-12)
    # the slope is the derivative of the unit distortion
    h = 1e-7 * max(rho, 1e-3)
    numeric = (unit_distortion(rho + h, model, q) - unit_distortion(rho - h, model, q)) / (2 * h)
    if rho - h > rho0:
        assert s == pytest.approx(numeric, rel=1e-4)


@pytest.mark.parametrize("q", [1, 4, 16, 64])
def test_flat_end_is_where_the_mask_pays(q):
    rho0 = opt.flat_end(q)
    h2 = -(rho0 * math.log2(rho0) + (1 - rho0) * math.log1p(-rho0) / math.log(2))
    assert h2 == pytest.approx(rho0 * q, rel=1e-9)
    m = make_problem(**WORKLOAD, bits_per_weight=q).numbers
    assert distortion_slope(m, rho0) > 0  # the flat region ends with a kink, not a minimum


def test_benchmarks_never_beat_the_proposed_optimum():
    rng = np.random.default_rng(7)
    checked = 0
    while checked < 4:
        problem = random_problem(rng).replace(shared_ratio=False)
        best = opt.solve(problem)
        if best.status != "optimal":
            continue
        checked += 1
        for sol in (
            opt.solve_fixed_ratio(problem, 0.5 * problem.rho_max),
            opt.solve_max_resources(problem),
            opt.solve_shared_ratio(problem),
            opt.solve_local(problem, n_starts=4, seed=0),
        ):
            if sol.status == "optimal":
                assert evaluate(problem, sol.decision, rtol=1e-9).violations == []
                assert sol.objective >= best.objective * (1 - 1e-6) - 1e-12
            else:
                assert sol.reason
    fixed = opt.solve_fixed_ratio(make_problem(**{**WORKLOAD, "energy_budget": 1.0}), 0.9)
    assert fixed.rho_device == fixed.rho_server == 0.9
    maxres = opt.solve_max_resources(make_problem(**{**WORKLOAD, "energy_budget": 1.0}))
    assert (maxres.power, maxres.f_device, maxres.f_server) == (0.2, 2e9, 1e10)


@pytest.mark.parametrize("seed", range(10))
def test_max_resources_against_a_fine_search(seed):
    # With p, f at their limits, latency and energy are affine in the kept work: for each rho_d the least
    # feasible rho_s is explicit, so a fine 1-D search over rho_d is a near-exact independent optimum.
    rng = np.random.default_rng(100 + seed)
    while True:
        problem = random_problem(rng).replace(shared_ratio=False)
        if (
            problem.flops_device > 0
            and problem.flops_server > 0
            and problem.params_server > 0
            and problem.cycles("server")[0] > 0
        ):
            break
    sol = opt.solve_max_resources(problem)
    p = problem
    (a_d, g_d), (a_s, g_s) = p.cycles("device"), p.cycles("server")
    t_tx = evaluate(p, Decision(0, 0, p.p_max, p.f_device_max, p.f_server_max)).t_tx
    e_tx = p.p_max * t_tx
    k_d, k_s = p.pue_device * p.psi_device * p.f_device_max**2, p.pue_server * p.psi_server * p.f_server_max**2
    if p.energy_scope == "device":
        k_s = 0.0
    best = math.inf
    for rho_d in np.linspace(0, p.rho_max, 4001):
        room_t = p.latency_budget - t_tx - (a_d * (1 - rho_d) + g_d) / p.f_device_max - g_s / p.f_server_max
        kept_t = room_t / (a_s / p.f_server_max)
        room_e = p.energy_budget - e_tx - k_d * (a_d * (1 - rho_d) + g_d) - k_s * g_s
        kept_e = room_e / (k_s * a_s) if k_s > 0 else (math.inf if room_e >= 0 else -math.inf)
        rho_s = max(1 - min(kept_t, kept_e, 1.0), 0.0)
        if rho_s <= p.rho_max:
            best = min(best, evaluate(p, Decision(rho_d, rho_s, p.p_max, p.f_device_max, p.f_server_max)).objective)
    if sol.status == "infeasible":
        assert best == math.inf
        return
    assert (sol.power, sol.f_device, sol.f_server) == (p.p_max, p.f_device_max, p.f_server_max)
    assert evaluate(p, sol.decision, rtol=1e-9).violations == []
    assert sol.objective <= best * (1 + 1e-9) + 1e-15  # never worse than the search
    assert sol.objective >= best * (1 - 1e-3) - 1e-12  # and the search is close to it


def test_select_split_and_compare_schemes():
    base = make_problem(**{**WORKLOAD, "latency_budget": 0.1, "energy_budget": 0.3})
    total_f, total_n = 1e10, 5e6
    problems = [
        base.replace(
            flops_device=total_f * s / 4,
            flops_server=total_f * (1 - s / 4),
            params_device=total_n * s / 4,
            params_server=total_n * (1 - s / 4),
            feature_bits=0.0 if s == 4 else [2e6, 5e5, 2e5, 1e5][s],
        )
        for s in range(5)
    ]
    best, sols = opt.select_split(problems)
    feasible = [s for s in range(5) if sols[s].status == "optimal"]
    assert best == min(feasible, key=lambda s: sols[s].objective)
    table = opt.compare_schemes(problems, n_starts=3)
    assert list(table["scheme"]) == list(opt.SCHEMES)
    assert {"scheme", "split", "status", "objective", "reason"} <= set(table.columns)
    row = table.set_index("scheme")
    assert row.loc["proposed", "split"] == best
    assert row.loc["on_device", "split"] in (4, None) and row.loc["on_server", "split"] in (0, None)
    optimal = row[row["status"] == "optimal"]
    assert (optimal["objective"] >= row.loc["proposed", "objective"] * (1 - 1e-6)).all()


def test_reference_reports_solver_failure_without_raising(monkeypatch):
    import cvxpy as cp

    def boom(self, *args, **kwargs):
        raise cp.error.SolverError("synthetic failure")

    monkeypatch.setattr(cp.Problem, "solve", boom)
    sol = opt.solve_reference(make_problem(**WORKLOAD))
    assert sol.status == "solver_error" and "synthetic failure" in sol.reason


def test_variables_without_effect_are_reported_canonically_by_every_scheme():
    # Split 0 of a model: the device holds nothing and runs nothing, so rho_device and f_device have no effect.
    problem = make_problem(**{**WORKLOAD, "flops_device": 0.0, "params_device": 0.0})
    answers = [
        opt.solve(problem),
        opt.solve_reference(problem),
        opt.solve_max_resources(problem),
        opt.solve_local(problem, n_starts=3, seed=1),
        opt.solve_local(problem, n_starts=3, seed=2),
    ]
    for sol in answers:
        assert sol.status == "optimal", sol.reason
        assert (sol.rho_device, sol.f_device) == (0.0, problem.f_device_max)
    # Nothing sent: the power is 0 whatever the scheme.
    on_device = make_problem(**{**WORKLOAD, "flops_server": 0.0, "params_server": 0.0, "feature_bits": 0.0})
    for sol in (opt.solve(on_device), opt.solve_local(on_device, n_starts=2, seed=3)):
        assert sol.status == "optimal" and sol.power == 0.0 and sol.f_server == on_device.f_server_max


def splits_of_a_chain(latency_budget: float, energy_budget: float) -> list:
    """Five splits of a 4-block model: FLOPs and parameters move from server to device, the feature shrinks."""
    total_flops, total_params = 8e9, 4e6
    bits = [4e6, 2e6, 5e5, 2e5, 0.0]
    return [
        make_problem(
            flops_device=total_flops * s / 4,
            flops_server=total_flops * (1 - s / 4),
            params_device=total_params * s / 4,
            params_server=total_params * (1 - s / 4),
            scale_device=0.02,
            scale_server=0.02,
            feature_bits=bits[s],
            latency_budget=latency_budget,
            energy_budget=energy_budget,
        )
        for s in range(5)
    ]


@pytest.mark.parametrize("budgets", [(0.05, 0.5), (0.2, 0.05), (1.0, 10.0)])
def test_practitioner_baselines_never_beat_the_proposed_design(budgets):
    problems = splits_of_a_chain(*budgets)
    best, solutions = opt.select_split(problems)
    frame = opt.compare_schemes(problems, n_starts=1)
    proposed = frame.set_index("scheme").loc["proposed"]
    for scheme in ("split_then_prune", "decoupled", "quantised_8bit", "quantised_4bit"):
        row = frame.set_index("scheme").loc[scheme]
        if row["status"] == "optimal":
            assert proposed["status"] == "optimal" and proposed["objective"] <= row["objective"] * (1 + 1e-9)


def test_split_then_prune_takes_the_fastest_dense_split_and_the_least_ratio_that_fits():
    problems = splits_of_a_chain(0.05, 0.5)
    split, sol = opt.solve_split_then_prune(problems)
    dense = [evaluate(p, Decision(0, 0, p.p_max, p.f_device_max, p.f_server_max)).latency for p in problems]
    assert split == int(np.argmin(dense))
    assert sol.status == "optimal" and sol.rho_device == pytest.approx(sol.rho_server, rel=1e-9)
    assert opt.solve_fixed_ratio(problems[split], max(sol.rho_device - 1e-6, 0.0)).status == "infeasible"


def test_decoupled_sizes_resources_for_the_dense_model_then_prunes():
    for energy_budget in (0.005, 0.02, 0.05):
        problem = make_problem(**{**WORKLOAD, "energy_budget": energy_budget})
        sol = opt.solve_decoupled(problem)
        # Sizing resources for the dense model costs orders of magnitude of distortion here.
        assert sol.status == "optimal" and sol.objective > 10 * opt.solve(problem).objective
    # A budget the joint design meets and the decoupled one cannot.
    tight = make_problem(**{**WORKLOAD, "energy_budget": 0.002})
    assert opt.solve(tight).status == "optimal" and opt.solve_decoupled(tight).status == "infeasible"
    # Slack budgets: the dense model fits, nothing is pruned beyond the flat region of the bound.
    slack = make_problem(**{**WORKLOAD, "latency_budget": 10.0, "energy_budget": 10.0})
    assert opt.solve_decoupled(slack).objective == pytest.approx(opt.solve(slack).objective, rel=1e-12)


def test_quantised_baseline_prices_only_the_bits():
    slack = make_problem(**{**WORKLOAD, "latency_budget": 10.0, "energy_budget": 10.0})
    sol = opt.solve_quantised(slack, 8)
    assert (sol.rho_device, sol.rho_server) == (0.0, 0.0)
    b_bar = (slack.params_device * slack.scale_device + slack.params_server * slack.scale_server) / (
        slack.params_device + slack.params_server
    )
    assert sol.objective == pytest.approx(b_bar * 2.0**-8, rel=1e-12)
    tight = make_problem(**{**WORKLOAD, "latency_budget": 1e-4})
    assert opt.solve_quantised(tight, 4).status == "infeasible"


def test_local_solver_reports_the_least_energy_resources_where_the_energy_budget_is_slack():
    # A slack energy budget leaves power and frequencies free; every scheme reports solve's choice.
    slack = make_problem(**{**WORKLOAD, "energy_budget": 10.0})
    proposed = opt.solve(slack)
    for seed in (1, 2, 3):
        local = opt.solve_local(slack, n_starts=2, seed=seed)
        assert local.objective == pytest.approx(proposed.objective, rel=1e-6)
        for name in ("rho_device", "rho_server", "power", "f_device", "f_server"):
            assert getattr(local, name) == pytest.approx(getattr(proposed, name), rel=1e-9), name


@pytest.mark.parametrize("model", ["magnitude", "rd_bound"])
def test_local_solver_reports_the_flat_point_where_it_fits(model):
    """Where the flat point meets both budgets, SLSQP stops within its tolerance of it (ratios ~1e-7 for
    magnitude, whose objective is quadratic there); the local benchmark reports the flat point itself with its
    least-energy resources: solve's answer, to the bit, from every start (model.md section 5.5)."""
    problem = make_problem(**{**WORKLOAD, "latency_budget": 1.0, "energy_budget": 10.0}, distortion_model=model)
    proposed = opt.solve(problem)
    assert proposed.rho_device == proposed.rho_server == (0.0 if model == "magnitude" else opt.flat_end(16))
    for seed in range(4):
        assert opt.solve_local(problem, n_starts=1, seed=seed) == proposed


def test_tie_rule_keeps_the_ratios_where_the_flat_point_does_not_fit():
    """A ratio within the tolerance above the flat point goes to the flat point only where that fits the budgets;
    else the answer keeps its ratios and still takes their least-energy resources (the plain tie rule)."""
    from coinfer.optimise.benchmarks import LOCAL_FLAT_TOLERANCE, least_energy_resources
    from coinfer.optimise.solution import answer

    base = make_problem(**{**WORKLOAD, "energy_budget": 10.0})
    ratios = (0.5, opt.flat_end(16) + 0.9 * LOCAL_FLAT_TOLERANCE)
    e_min = Blocks(base).min_energy(ratios)[0]
    problem = base.replace(energy_budget=e_min * (1 + 1e-8))  # the energy budget binds at these ratios
    m = Blocks(problem)
    assert m.min_energy((ratios[0], m.rho_flat[1]))[0] > problem.energy_budget  # the flat point does not fit
    # resources a little off their least energy: least energy at a latency budget 1e-10 tighter
    tighter = Blocks(problem.replace(latency_budget=problem.latency_budget * (1 - 1e-10)))
    given = answer(problem, m.decision(ratios, tighter.min_energy(ratios)[2]))
    assert given.status == "optimal" and given.reason is None
    canonical = least_energy_resources(problem, given)
    assert canonical != given and (canonical.rho_device, canonical.rho_server) == ratios
    assert least_energy_resources(problem, given, flat_tolerance=LOCAL_FLAT_TOLERANCE) == canonical


def test_local_solver_answers_do_not_depend_on_the_thread_count():
    """SLSQP's linear algebra runs on one BLAS/OpenMP thread inside solve_local: the same seeded calls under a
    caller's limit of 1 and of 2 threads give the same bytes (unpinned, most of these differ in the last bits on a
    two-core machine)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(5)
    problems = [random_problem(rng) for _ in range(20)]
    answers = {}
    for limit in (1, 2):
        with threadpool_limits(limits=limit):
            answers[limit] = [opt.solve_local(p, n_starts=2, seed=i) for i, p in enumerate(problems)]
    assert sum(a.status == "optimal" for a in answers[1]) >= 10
    for one, two in zip(answers[1], answers[2], strict=True):
        assert repr(one) == repr(two)


def test_select_execution_keeps_the_better_of_dense_and_sparse():
    problem = make_problem(**{**WORKLOAD, "latency_budget": 0.1, "energy_budget": 0.2}).replace(
        sparse_efficiency_device=0.3, sparse_efficiency_server=0.3
    )
    dense = opt.solve(problem.replace(compute_model="dense"))
    sparse = opt.solve(problem.replace(compute_model="sparse"))
    assert dense.status == sparse.status == "optimal"
    model, best = opt.select_execution(problem)
    assert best.objective == min(dense.objective, sparse.objective)
    assert model == ("dense" if dense.objective <= sparse.objective else "sparse")
    # The default budgets: dense execution cannot meet the energy budget, sparse can.
    model, best = opt.select_execution(make_problem(**WORKLOAD))
    assert model == "sparse" and best.status == "optimal"
    hopeless = problem.replace(latency_budget=1e-9)
    assert opt.select_execution(hopeless)[0] is None and opt.select_execution(hopeless)[1].status == "infeasible"


def test_answers_built_without_the_dataclass_init_are_solutions():
    """solution.optimal / infeasible build the same Solution as its __init__: equality, hash, repr, as_dict,
    decision, and it stays frozen."""
    from dataclasses import FrozenInstanceError

    from coinfer.optimise.solution import Solution, infeasible, optimal

    values = (0.1, 0.2, 0.05, 1e9, 2e9, 1e-4, 0.01, 0.002)
    built, plain = optimal(*values), Solution("optimal", *values)
    assert built == plain and hash(built) == hash(plain) and repr(built) == repr(plain)
    assert built.as_dict() == plain.as_dict() and built.decision == plain.decision
    assert optimal(*values, "note") == Solution("optimal", *values, reason="note")
    assert infeasible("why") == Solution("infeasible", reason="why")
    with pytest.raises(FrozenInstanceError):
        built.status = "infeasible"  # type: ignore[misc]
