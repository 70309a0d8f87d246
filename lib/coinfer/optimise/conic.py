"""Reference solver: the convex reformulation of model.md section 5 in cvxpy.

Times ``t_d, t_tx, t_s`` are the variables; power cones hold ``W^3/t^2``, an
exponential cone the transmit energy; all quantities are normalised by the
budgets (see :func:`_solve_conic`). Slow but independent of the fast solver:
it reads the problem through the model alone (:mod:`coinfer.model.system`: its
fields, cycles, flat point and ratios of the floors, and ``evaluate`` for the
latency floor), confirms an "infeasible" from the conic solver with its own
conic solve of the energy floor, and ends like every solver in
:func:`coinfer.optimise.solution.answer` (canonical values, polish). The tests
and ``benchmarks/bench_solver.py`` compare the two solvers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

from coinfer.model.system import LN2, Decision, Problem, evaluate, flat_ratios, floor_ratios
from coinfer.optimise.solution import (
    EDGE,
    Solution,
    answer,
    energy_floor_reason,
    infeasible,
    latency_floor_reason,
    limits_text,
)

__all__ = ["solve_reference"]

#: Retries when a conic solver stops at ``optimal_inaccurate`` (ill-conditioned corners, e.g. an upload
#: that nearly fills both budgets): other CLARABEL settings, then the other solver.
_RETRIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "CLARABEL": [
        ("CLARABEL", {"static_regularization_enable": False}),
        (
            "CLARABEL",
            {"max_step_fraction": 0.9, "iterative_refinement_reltol": 1e-15, "iterative_refinement_abstol": 1e-15},
        ),
        ("SCS", {}),
    ],
    "SCS": [("CLARABEL", {})],
}


def solve_reference(problem: Problem, solver: str = "CLARABEL") -> Solution:
    """The model.md section 5 convex reformulation in cvxpy (see :func:`_solve_conic`).

    When the solver stops at ``optimal_inaccurate``, a few retries follow
    (:data:`_RETRIES`) and the best feasible (polished) decision is returned;
    every candidate is a genuine feasible point, so this only removes solver
    inaccuracy.

    Parameters
    ----------
    problem : Problem
        One split with its budgets and limits (model.md section 8, SI units).
    solver : str
        ``"CLARABEL"`` or ``"SCS"``.

    Returns
    -------
    Solution
        As :func:`coinfer.optimise.solve`'s; ``"solver_error"`` when the conic solver fails (never raises).
    """
    best = _solve_conic(problem, solver)
    for name, options in _RETRIES.get(solver, []):
        if best.status != "optimal" or best.reason is None or "inaccurate" not in best.reason:
            break
        other = _solve_conic(problem, name, options)
        if (
            other.status == "optimal"
            and other.objective is not None
            and best.objective is not None
            and not (other.reason and "violation" in other.reason)
            and (other.objective < best.objective or not (other.reason and "inaccurate" in other.reason))
        ):
            best = other
    return best


@dataclass(frozen=True)
class _Numbers:
    """The model's quantities the conic form needs (model.md sections 2, 5.2), read from the problem's fields."""

    a: tuple[float, float]  # cycles pruning scales, per side (device, server)
    g: tuple[float, float]  # cycles pruning cannot remove
    runs: tuple[bool, bool]
    counted: tuple[bool, bool]  # whether the side's energy counts (energy_scope)
    k: tuple[float, float]  # eta psi (J per cycle and Hz^2)
    fmax: tuple[float, float]  # Hz
    c: tuple[float, float]  # the objective's weights N_i b_i / N
    t_min: float  # the fastest upload, at P_max (s)
    u_max: float  # the uplink's exponent at P_max, ln(1 + P_max / C)


def _numbers(problem: Problem) -> _Numbers:
    """:class:`_Numbers` of ``problem``: its cycles (``Problem.cycles``), the rest from its fields."""
    p = problem
    (a_d, g_d), (a_s, g_s) = p.cycles("device"), p.cycles("server")
    total = p.params_device + p.params_server
    u_max = math.log1p(p.p_max / p.noise_power)
    return _Numbers(
        a=(a_d, a_s),
        g=(g_d, g_s),
        runs=(a_d + g_d > 0, a_s + g_s > 0),
        counted=(True, p.energy_scope == "system"),
        k=(p.pue_device * p.psi_device, p.pue_server * p.psi_server),
        fmax=(p.f_device_max, p.f_server_max),
        c=(p.params_device / total * p.scale_device, p.params_server / total * p.scale_server),
        t_min=p.feature_bits * LN2 / (p.bandwidth * u_max) if p.feature_bits > 0 else 0.0,
        u_max=u_max,
    )


def _solve_conic(problem: Problem, solver: str, options: dict | None = None) -> Solution:
    """The model.md section 5 convex reformulation in cvxpy, one solve with ``solver`` and ``options``.

    Variables: the ratios, compute times and extra upload time in units of
    ``T_r = T0 - S / r(P_max)`` (the budget left after the fastest upload), and
    compute-energy epigraphs in units of ``E0`` (:func:`_cones`). The
    distortion is ``rho - entr(1 - rho)`` (magnitude) or
    ``max(2^-q, exp(-entr(rho) - entr(1 - rho) - q ln2 (1 - rho)))`` (rd_bound),
    weighted per side and normalised to sum 1. Phases: the ratios (free ones
    as variables), the cones, the solve, the status, the decision. Solver
    failures return ``status "solver_error"``, never raise.
    """
    import cvxpy as cp

    p, n = problem, _numbers(problem)
    # Times are measured in units of the budget left after the fastest upload, T_r = T0 - S/r(P_max): when the
    # upload nearly fills the budget, normalising by T0 would make the compute times a tiny difference of O(1)
    # numbers and the conic solver loses accuracy. No budget left: only the floor's decision can fit.
    t_r = p.latency_budget - n.t_min
    if t_r <= 0:
        return _at_the_floor(problem, n)
    # The ratios. One is fixed where its optimum is obvious (no FLOPs: pruning gains nothing, flat point; no
    # parameters: pruning is free, rho_max); leaving it free makes the conic problem degenerate.
    free = [n.a[i] > 0 and n.c[i] > 0 for i in (0, 1)]
    if p.shared_ratio:
        free = [any(n.a[i] > 0 for i in (0, 1))] * 2
    n_rho = 1 if p.shared_ratio else sum(free)
    rho_var = cp.Variable(max(n_rho, 1))
    cons = [rho_var >= 0, rho_var <= p.rho_max]
    flat = flat_ratios(p)
    rho: list[Any]  # cvxpy expressions (free ratios) and floats (fixed ones)
    if p.shared_ratio:
        rho = [rho_var[0], rho_var[0]] if free[0] else list(flat)
    else:
        rho, j = [], 0
        for i in (0, 1):
            if free[i]:
                rho.append(rho_var[j])
                j += 1
            else:
                rho.append(flat[i])
    # The cones of both budgets, and the objective.
    cones, times, t_tx, time_terms, energy_terms = _cones(p, n, rho, t_r, p.energy_budget)
    cons += cones
    if time_terms:
        cons.append(cp.sum(cp.hstack(time_terms)) <= 1)
    if energy_terms:
        cons.append(cp.sum(cp.hstack(energy_terms)) <= 1)
    total_c = n.c[0] + n.c[1]
    weights = [n.c[0] / total_c, n.c[1] / total_c]
    terms = []
    for i in (0, 1):
        if weights[i] <= 0:
            continue
        if p.distortion_model == "magnitude":
            terms.append(weights[i] * (rho[i] - cp.entr(1 - rho[i])))
        else:
            expo = -cp.entr(rho[i]) - cp.entr(1 - rho[i]) - LN2 * p.bits_per_weight * (1 - rho[i])
            terms.append(weights[i] * cp.maximum(2.0**-p.bits_per_weight, cp.exp(expo)))
    # The solve and its status.
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), cons)
    failure = _run(prob, solver, options)
    if failure is not None:
        return failure
    status = prob.status
    if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        bad = _floors(problem, n, solver, options)
        if bad is None:  # the floors are met, so the instance is feasible: the solver is wrong
            return Solution(
                "solver_error",
                reason=f"{solver}: reports infeasible, but the latency and energy floors at rho_max are met",
            )
        return infeasible(f"{solver}: {bad.reason}")
    if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or rho_var.value is None:
        return Solution("solver_error", reason=f"{solver}: status {status}")
    # The decision: ratios, the frequencies that fill each side's time, the power of the upload time.
    rho_val = tuple(_solved(r) if isinstance(r, cp.Expression) else float(r) for r in rho)
    rho_val = tuple(min(max(v, 0.0), p.rho_max) for v in rho_val)
    f = list(n.fmax)
    for i, t in times.items():
        tv = _solved(t) * t_r
        work = n.a[i] * (1 - rho_val[i]) + n.g[i]
        f[i] = min(n.fmax[i], work / tv) if tv > 0 else n.fmax[i]
    power = 0.0
    if t_tx is not None:
        u = p.feature_bits * LN2 / (p.bandwidth * (n.t_min + max(_solved(t_tx), 0.0) * t_r))
        power = min(p.p_max, p.noise_power * math.expm1(min(u, n.u_max)))
    note = None if status == cp.OPTIMAL else f"{solver}: {status}"
    return answer(p, Decision(rho_val[0], rho_val[1], power, f[0], f[1]), note)


def _cones(
    problem: Problem, n: _Numbers, rho: list[Any], t_r: float, e_unit: float
) -> tuple[list, dict, Any, list, list]:
    """The variables and cone constraints of both budgets at the ratios ``rho`` (expressions or floats):
    ``(constraints, times, t_tx, time_terms, energy_terms)``, times in units of ``t_r`` (s), energies of
    ``e_unit`` (J).

    With ``w = (1 - rho) F / (c f_max T_r)``: ``f <= f_max`` is ``w <= t``; the compute energy
    ``eta psi W^3 / t^2`` over ``E_u`` is ``K w^3 / t^2`` with ``K = eta psi f_max^3 T_r / E_u``, i.e.
    ``K^(1/3) w <= geo_mean(e, t, t)`` (power cone); the upload energy ``t C (2^(S/(B t)) - 1)`` over ``E_u`` is
    ``z - (C T0/E_u) t`` with the exponential cone ``z >= (C T0/E_u) t exp(sigma/t)``, ``t`` the upload time over
    ``T0`` and ``sigma = S ln2 / (B T0)``.
    """
    import cvxpy as cp

    p = problem
    cons: list = []
    time_terms, energy_terms, times = [], [], {}
    for i in (0, 1):
        if not n.runs[i]:
            continue
        t = cp.Variable(nonneg=True)
        w = (1 - rho[i]) * (n.a[i] / (n.fmax[i] * t_r)) + n.g[i] / (n.fmax[i] * t_r)
        cons.append(w <= t)
        time_terms.append(t)
        times[i] = t
        if n.counted[i]:
            e = cp.Variable(nonneg=True)
            big_k = n.k[i] * n.fmax[i] ** 3 * t_r / e_unit
            cons.append(big_k ** (1 / 3) * w <= cp.geo_mean(cp.hstack([e, t, t])))
            energy_terms.append(e)
    t_tx = None
    if p.feature_bits > 0:
        t_tx = cp.Variable(nonneg=True)  # extra upload time beyond t_min, in units of T_r
        sigma = p.feature_bits * LN2 / (p.bandwidth * p.latency_budget)
        scale = p.noise_power * p.latency_budget / e_unit
        t_norm = n.t_min / p.latency_budget + (t_r / p.latency_budget) * t_tx  # upload time / T0
        z = cp.Variable()
        # z >= scale * t exp(sigma / t): the perspective of exp (model.md section 5), so E_tx / E0 = z - scale t
        cons.append(cp.constraints.ExpCone(sigma + math.log(scale) * t_norm, t_norm, z))
        time_terms.append(t_tx)
        energy_terms.append(z - scale * t_norm)
    return cons, times, t_tx, time_terms, energy_terms


def _run(prob: Any, solver: str, options: dict | None) -> Solution | None:
    """Solve ``prob`` with ``solver`` at tight tolerances (``options`` over them); a ``"solver_error"`` answer if
    the solver raises, else None."""
    import cvxpy as cp

    opts = {}
    if solver == "CLARABEL":
        opts = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=400)
    elif solver == "SCS":
        opts = dict(eps_abs=1e-9, eps_rel=1e-9, max_iters=200000)
    opts.update(options or {})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prob.solve(solver=solver, **opts)
    except (cp.error.SolverError, ValueError, ArithmeticError, ZeroDivisionError) as error:
        return Solution("solver_error", reason=f"{solver}: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    return None


def _floor_decision(problem: Problem, n: _Numbers) -> Decision:
    """The most favourable workload at maximum resources: the ratios of the floors, ``P_max``, ``f_max``."""
    top_d, top_s = floor_ratios(problem)
    return Decision(top_d, top_s, problem.p_max if problem.feature_bits > 0 else 0.0, n.fmax[0], n.fmax[1])


def _latency_floor(problem: Problem, n: _Numbers) -> Solution | None:
    """An infeasible answer if the latency at the most favourable workload and maximum resources exceeds the
    budget (model.md section 5.7), else None."""
    p = problem
    floor_t = evaluate(p, _floor_decision(p, n)).latency
    if floor_t > p.latency_budget * (1 + EDGE):
        limits = limits_text(n.runs, n.fmax, p.feature_bits > 0, p.p_max)
        return infeasible(latency_floor_reason(floor_t, p.rho_max, limits, p.latency_budget))
    return None


def _energy_floor_answer(problem: Problem, e_min: float) -> Solution | None:
    """An infeasible answer if the energy floor ``e_min`` (J) exceeds the budget, else None."""
    p = problem
    if e_min > p.energy_budget * (1 + EDGE):
        return infeasible(energy_floor_reason(e_min, p.energy_scope, p.rho_max, p.latency_budget, p.energy_budget))
    return None


def _at_the_floor(problem: Problem, n: _Numbers) -> Solution:
    """The answer when the fastest upload leaves no time to compute: infeasible, unless the floor's decision (the
    only one that can fit) meets both budgets."""
    bad = _latency_floor(problem, n)
    if bad is not None:
        return bad
    decision = _floor_decision(problem, n)
    bad = _energy_floor_answer(problem, evaluate(problem, decision).energy)
    return bad if bad is not None else answer(problem, decision)


def _floors(problem: Problem, n: _Numbers, solver: str, options: dict | None) -> Solution | None:
    """Confirm a conic "infeasible" by the floors of model.md section 5.7: the latency floor (``evaluate`` of
    the most favourable workload at maximum resources) and the energy floor, the least energy at the floor's
    ratios within the latency budget, by its own conic solve (:func:`_cones` with the ratios fixed; energies in
    units of the energy at maximum resources, which bounds the floor from above, so that its optimum is of order
    1 however far it exceeds the budget). An infeasible answer naming the floor that breaks its budget, or None
    when both are met (or every conic solve of the energy floor fails, which leaves the infeasibility
    unconfirmed)."""
    import cvxpy as cp

    p = problem
    bad = _latency_floor(p, n)
    if bad is not None:
        return bad
    e_top = evaluate(p, _floor_decision(p, n)).energy
    if not e_top > 0:  # nothing costs energy: the energy floor is 0
        return None
    t_r = p.latency_budget - n.t_min
    for name, settings in [(solver, options), *_RETRIES.get(solver, [])]:
        cones, _, _, time_terms, energy_terms = _cones(p, n, list(floor_ratios(p)), t_r, e_top)
        cones.append(cp.sum(cp.hstack(time_terms)) <= 1)
        prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(energy_terms))), cones)
        if _run(prob, name, settings) is None and prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            value = prob.value
            assert value is not None, "a solved problem has a value"
            return _energy_floor_answer(p, float(value) * e_top)
    return None


def _solved(expression: Any) -> float:
    """The value of a cvxpy expression of a problem solved to (inaccurate) optimality (never ``None`` then)."""
    value = expression.value
    assert value is not None, "a solved problem has a value for every expression"
    return float(value)
