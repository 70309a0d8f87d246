"""The fast dedicated solver for one split (model.md section 5): KKT structure, a 2-D Newton, 1-D roots.

The algorithm is described in :func:`solve`'s docstring; its steps and
building blocks run compiled (:mod:`coinfer.optimise.kernel`). It returns the
same optimum as :func:`coinfer.optimise.conic.solve_reference`, several hundred
times faster (``benchmarks/bench_solver.py``). Every returned decision is
checked in the original variables (:mod:`coinfer.optimise.solution`);
infeasible instances are an answer (status ``"infeasible"`` with a ``reason``
naming the binding limit and its numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

from coinfer.model.arithmetic import problem_row
from coinfer.model.system import Problem
from coinfer.optimise import kernel, physical
from coinfer.optimise.solution import (
    Solution,
    energy_floor_reason,
    infeasible,
    latency_floor_reason,
    optimal_numbers,
    problem_limits,
    settled,
)

__all__ = ["solution_of", "solve"]


def solve(problem: Problem) -> Solution:
    """Globally optimal ratios, power and frequencies for one split (model.md section 5), by KKT structure.

    With multipliers ``lambda`` (latency) and ``mu`` (energy) the Lagrangian
    separates. Each resource depends only on the price of time
    ``nu = lambda / mu``: ``f = min(f_max, (nu / (2 eta psi))^(1/3))`` (``f_max``
    when its energy is not counted) and the uplink's ``u = S ln2 / (B t_tx)``
    solves ``C((u - 1) e^u + 1) = nu`` (Lambert W), clipped at ``P_max``. Each
    ratio equates marginal distortion with ``mu (eta psi f^2 + nu / f) F / c``.
    The solver (1) checks the floor at ``rho_max`` with maximum resources
    (latency) and the least energy there (energy; a 1-D root in ``nu``, needed
    only when the energy at maximum resources does not already fit with
    slack); (2) returns the least distortion point if its least energy fits
    the budget; (3) returns the latency-only optimum at maximum resources
    (``mu = 0``; a safeguarded Newton in the log multiplier) if its energy
    fits; (4) otherwise both budgets bind. With two pruned sides it solves
    ``T(x, y) = T0`` and ``E(x, y) = E0`` jointly, ``x = ln nu`` and ``y`` the
    log ratio multiplier, by a damped 2-D Newton iteration on
    ``(ln T/T0, ln E/E0)``. If that does not converge within
    ``kernel.JOINT_NEWTON_EVALUATIONS`` evaluations it falls back to nested
    roots: for each ``nu`` the latency budget fixes ``mu`` (inner 1-D root,
    safeguarded Newton in ``log mu``), and the energy at that point increases
    with ``nu`` (checked by a test), so an outer 1-D root in ``log nu`` meets
    the energy budget (safeguarded Newton with the slope along the path from
    the implicit function theorem; Brent when a side has nothing to prune).
    Any such point satisfies the KKT conditions of the convex reformulation,
    so it is the global optimum. The result is polished to be feasible in the
    original variables (:func:`coinfer.optimise.solution.polish_numbers`).

    The steps run compiled (:func:`coinfer.optimise.kernel.solve_row`);
    :func:`coinfer.optimise.solve_batch` runs the same code over many problems.

    Parameters
    ----------
    problem : Problem
        One split with its budgets (latency [s], energy [J]) and limits (model.md section 8, SI units).

    Returns
    -------
    Solution
        ``"optimal"`` with the decision (ratios, power [W], frequencies [Hz]), its objective [the weights'
        unit], latency [s] and energy [J]; ``"infeasible"`` with a reason naming the binding floor (model.md
        section 5.7); ``"solver_error"`` where the nested roots find no bracket (absurd inputs only) or the
        polish cannot make the point feasible.

    References
    ----------
    docs/model.md, sections 5.3-5.7.

    Examples
    --------
    >>> from coinfer.model.system import make_problem
    >>> from coinfer.optimise import solve
    >>> problem = make_problem(
    ...     flops_device=2e8, flops_server=8e8, params_device=1e5, params_server=4e5, scale_device=0.02,
    ...     scale_server=0.03, feature_bits=4096, latency_budget=0.01, energy_budget=0.01, distance=150.0)
    >>> answer = solve(problem)  # the physical model's defaults (model.md 2.7, 7.5)
    >>> answer.status, round(answer.rho_device, 3), round(answer.rho_server, 3)  # ratios pruned [-]
    ('optimal', 0.278, 0.449)
    >>> answer.latency <= problem.latency_budget and answer.energy <= problem.energy_budget  # [s], [J]
    True
    >>> solve(problem.replace(energy_budget=1e-4)).reason.split(" J")[0]  # below the least energy [J]
    'energy floor 0.0002025065304'
    """
    keys, logits = kernel.slope_table(problem.bits_per_weight)
    code, _, out = physical.solve_row(problem_row(problem), keys, logits, kernel.JOINT_NEWTON_EVALUATIONS)
    return solution_of(problem, code, out)


def solution_of(problem: Problem, code: int, out: Sequence[float]) -> Solution:
    """The :class:`Solution` of the compiled steps' answer ``code`` and numbers ``out``.

    The :class:`Solution` of the compiled steps' answer ``code`` and numbers ``out`` (see
    :func:`coinfer.optimise.kernel.solve_row`).

    Parameters
    ----------
    problem : Problem
        The problem solved.
    code : int
        The answer code of :func:`coinfer.optimise.kernel.solve_row` [1].
    out : sequence of float
        Its numbers (SI units).

    Returns
    -------
    Solution
        The answer.
    """
    rho_d, rho_s, power, f_d, f_s, objective, latency, energy = out[: kernel.O_ENERGY + 1]
    if code == kernel.OPTIMAL:
        return optimal_numbers(*out[: kernel.O_ANSWER])
    if code == kernel.TO_POLISH:  # the polish left a violation: evaluate reports it
        return settled(problem, False, (rho_d, rho_s, power, f_d, f_s), objective, latency, energy)
    p = problem
    if code == kernel.INFEASIBLE_LATENCY:
        limits = problem_limits(p)
        return infeasible(latency_floor_reason(float(out[kernel.O_FLOOR_T]), p.rho_max, limits, p.latency_budget))
    if code == kernel.INFEASIBLE_ENERGY:
        return infeasible(
            energy_floor_reason(
                float(out[kernel.O_E_MIN]), p.energy_scope, p.rho_max, p.latency_budget, p.energy_budget
            )
        )
    # STEP4_FAILED: a solver error, never a wrong optimum (model.md section 5.3)
    return Solution(status="solver_error", reason="both budgets bind, and no price of time brackets the energy budget")
