"""Reference solver: the convex reformulation of model.md section 5 in cvxpy.

Times ``t_d, t_tx, t_s`` are the variables; power cones hold ``W^3/t^2``, an
exponential cone the transmit energy; all quantities are normalised by the
budgets (see :func:`_solve_conic`). Slow but independent of the fast solver's
algebra: the tests and ``benchmarks/bench_solver.py`` compare the two.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from coinfer.model.system import LN2, Decision, Problem
from coinfer.optimise.fast import _answer, _decision, _floors, _Model
from coinfer.optimise.solution import Solution, _infeasible

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


def _solve_conic(problem: Problem, solver: str, options: dict | None = None) -> Solution:
    """The model.md section 5 convex reformulation in cvxpy, one solve with ``solver`` and ``options``.

    Variables: the ratios, compute times and extra upload time in units of
    ``T_r = T0 - S / r(P_max)`` (the budget left after the fastest upload), and
    compute-energy epigraphs in units of ``E0``. With
    ``w = (1 - rho) F / (c f_max T_r)``: ``f <= f_max`` is ``w <= t``; the
    compute energy ``eta psi W^3 / t^2`` over ``E0`` is ``K w^3 / t^2`` with
    ``K = eta psi f_max^3 T_r / E0``, i.e. ``K^(1/3) w <= geo_mean(e, t, t)``
    (power cone); the upload energy ``t C (2^(S/(B t)) - 1)`` over ``E0`` is
    ``z - (C T0/E0) t`` with the exponential cone ``z >= (C T0/E0) t exp(sigma/t)``,
    ``t`` the upload time over ``T0`` and ``sigma = S ln2 / (B T0)``. The
    distortion is ``rho - entr(1 - rho)`` (magnitude) or
    ``max(2^-q, exp(-entr(rho) - entr(1 - rho) - q ln2 (1 - rho)))`` (rd_bound),
    weighted per side and normalised to sum 1. Solver failures return
    ``status "solver_error"``, never raise.
    """
    import cvxpy as cp

    m = _Model(problem)
    p = problem
    # A ratio is fixed where its optimum is obvious (no FLOPs: pruning gains nothing, flat point;
    # no parameters: pruning is free, rho_max); leaving it free makes the conic problem degenerate.
    free = [m.a[i] > 0 and m.c[i] > 0 for i in (0, 1)]
    if m.shared:
        free = [any(m.a[i] > 0 for i in (0, 1))] * 2
    n_rho = 1 if m.shared else sum(free)
    rho_var = cp.Variable(max(n_rho, 1))
    cons = [rho_var >= 0, rho_var <= m.rho_max]
    rho: list[Any]  # cvxpy expressions (free ratios) and floats (fixed ones)
    if m.shared:
        rho = [rho_var[0], rho_var[0]] if free[0] else list(m.rho_flat)
    else:
        rho, j = [], 0
        for i in (0, 1):
            if free[i]:
                rho.append(rho_var[j])
                j += 1
            else:
                rho.append(m.rho_flat[i])
    time_terms, energy_terms = [], []
    times = {}
    # Times are measured in units of the budget left after the fastest upload, T_r = T0 - S/r(P_max):
    # when the upload nearly fills the budget, normalising by T0 would make the compute
    # times a tiny difference of O(1) numbers and the conic solver loses accuracy.
    t_min = m.tx(m.u_max)[0]
    t_r = m.T0 - t_min
    if t_r <= 0:
        bad, _ = _floors(m)
        return bad if bad is not None else _answer(p, _decision(m, m.rho_top, m.max_resources()))
    for i in (0, 1):
        if not m.runs[i]:
            continue
        t = cp.Variable(nonneg=True)
        w = (1 - rho[i]) * (m.a[i] / (m.fmax[i] * t_r)) + m.g[i] / (m.fmax[i] * t_r)
        cons.append(w <= t)
        time_terms.append(t)
        times[i] = t
        if m.counted[i]:
            e = cp.Variable(nonneg=True)
            big_k = m.k[i] * m.fmax[i] ** 3 * t_r / m.E0
            cons.append(big_k ** (1 / 3) * w <= cp.geo_mean(cp.hstack([e, t, t])))
            energy_terms.append(e)
    t_tx = None
    if m.S > 0:
        t_tx = cp.Variable(nonneg=True)  # extra upload time beyond t_min, in units of T_r
        sigma = m.S * LN2 / (m.B * m.T0)
        scale = m.C * m.T0 / m.E0
        t_norm = t_min / m.T0 + (t_r / m.T0) * t_tx  # upload time / T0
        z = cp.Variable()
        # z >= scale * t exp(sigma / t): the perspective of exp (model.md section 5), so E_tx / E0 = z - scale t
        cons.append(cp.constraints.ExpCone(sigma + math.log(scale) * t_norm, t_norm, z))
        time_terms.append(t_tx)
        energy_terms.append(z - scale * t_norm)
    if time_terms:
        cons.append(cp.sum(cp.hstack(time_terms)) <= 1)
    if energy_terms:
        cons.append(cp.sum(cp.hstack(energy_terms)) <= 1)
    total_c = m.c[0] + m.c[1]
    weights = [m.c[0] / total_c, m.c[1] / total_c]
    terms = []
    for i in (0, 1):
        if weights[i] <= 0:
            continue
        if m.model == "magnitude":
            terms.append(weights[i] * (rho[i] - cp.entr(1 - rho[i])))
        else:
            expo = -cp.entr(rho[i]) - cp.entr(1 - rho[i]) - LN2 * m.q * (1 - rho[i])
            terms.append(weights[i] * cp.maximum(2.0**-m.q, cp.exp(expo)))
    objective = cp.Minimize(cp.sum(cp.hstack(terms)))
    prob = cp.Problem(objective, cons)
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
    status = prob.status
    if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        bad, _ = _floors(m)
        if bad is None:  # the analytic floors are met, so the instance is feasible: the solver is wrong
            return Solution(
                "solver_error",
                reason=f"{solver}: reports infeasible, but the latency and energy floors at rho_max are met",
            )
        return _infeasible(f"{solver}: {bad.reason}")
    if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or rho_var.value is None:
        return Solution("solver_error", reason=f"{solver}: status {status}")
    rho_val = tuple(_solved(r) if isinstance(r, cp.Expression) else float(r) for r in rho)
    rho_val = tuple(min(max(v, 0.0), m.rho_max) for v in rho_val)
    f = list(m.fmax)
    for i, t in times.items():
        tv = _solved(t) * t_r
        f[i] = min(m.fmax[i], m.work(i, rho_val[i]) / tv) if tv > 0 else m.fmax[i]
    power = 0.0
    if t_tx is not None:
        u = m.S * LN2 / (m.B * (t_min + max(_solved(t_tx), 0.0) * t_r))
        power = min(m.pmax, m.C * math.expm1(min(u, m.u_max)))
    note = None if status == cp.OPTIMAL else f"{solver}: {status}"
    return _answer(p, Decision(rho_val[0], rho_val[1], power, f[0], f[1]), note)


def _solved(expression: Any) -> float:
    """The value of a cvxpy expression of a problem solved to (inaccurate) optimality (never ``None`` then)."""
    value = expression.value
    assert value is not None, "a solved problem has a value for every expression"
    return float(value)
