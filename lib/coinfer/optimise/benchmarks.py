"""The benchmarks of model.md section 5 and :func:`compare_schemes` over all splits.

Fully on-device and fully on-server are split choices; the fixed ratio,
maximum resources and shared ratio benchmarks restrict the proposed design;
the local solver works on the original non-convex variables from random
starts, to show what the convex reformulation buys.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from coinfer.base.validation import ParameterError, require_range
from coinfer.model.system import Decision, Problem, evaluate, objective_value
from coinfer.optimise.blocks import Blocks
from coinfer.optimise.fast import solve
from coinfer.optimise.solution import EDGE, Solution, answer, infeasible
from coinfer.optimise.splits import select_split

__all__ = [
    "LOCAL_FLAT_TOLERANCE",
    "OWN_SPLIT_SCHEMES",
    "SCHEMES",
    "compare_schemes",
    "least_energy_resources",
    "solve_decoupled",
    "solve_fixed_ratio",
    "solve_local",
    "solve_max_resources",
    "solve_quantised",
    "solve_shared_ratio",
    "solve_split_then_prune",
]

SCHEMES = (
    "proposed",
    "on_device",
    "on_server",
    "fixed_ratio",
    "max_resources",
    "shared_ratio",
    "local_nonconvex",
    "split_then_prune",
    "decoupled",
    "quantised_8bit",
    "quantised_4bit",
)
#: Benchmarks that pick their own split rather than the best split by objective.
OWN_SPLIT_SCHEMES = ("on_device", "on_server", "split_then_prune")

#: A ratio the local solver ends within this distance above the flat point is the flat point (model.md section
#: 5.5): SLSQP stops when the objective over ``b_bar`` changes by less than 1e-12, and near a flat or quadratic
#: minimum (``magnitude`` at 0: ``D/b ~ rho^2 / 2``, below 1e-12 for ``rho < 1.4e-6``) it cannot tell such ratios
#: apart; its answers are feasible to the same 1e-6. Without the rule the last bits of its linear algebra would
#: pick the winning split among objectives of 1e-46, 1e-49 and 0.
LOCAL_FLAT_TOLERANCE = 1e-6


def solve_fixed_ratio(problem: Problem, rho: float) -> Solution:
    """Benchmark ``fixed_ratio``: ``rho_d = rho_s = rho`` fixed; least-energy power and frequencies (model.md 5.6).

    The ratios are not optimised: the decision is the least-energy power and frequencies that meet the latency
    budget at ``rho`` (the same step :func:`coinfer.optimise.solve` uses for given ratios; under the physical model
    of model.md section 2.7 with the frequency floors, static, memory and circuit energy).

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units).
    rho : float
        The pruning ratio of both sides, the fraction of weights removed, in ``[0, problem.rho_max]`` [-].

    Returns
    -------
    Solution
        ``optimal`` with the least-energy decision at ``rho``; ``infeasible`` with a ``reason`` naming the latency
        floor [s] at maximum resources (and the memory bandwidths [bit/s] and access latency [s] that bound it) or the
        energy floor [J] within the latency budget that exceeds its budget (and the physical terms that hold it up:
        a frequency floor [Hz], static power [W], memory energy [J/bit], circuit power [W]; model.md section 5.7).

    Raises
    ------
    ParameterError
        If ``rho`` is outside ``[0, problem.rho_max]``.

    References
    ----------
    docs/model.md, sections 5.6 (benchmarks) and 5.7 (infeasibility reporting).
    """
    require_range("rho", rho, 0.0, problem.rho_max)
    m = Blocks(problem)
    ratios = (rho, rho)
    floor_t = m.time(ratios, m.max_resources())
    if floor_t > m.T0 * (1 + EDGE):
        return infeasible(
            f"latency floor {floor_t:.6g} s at fixed rho={rho:g}, {m.limits_text()} exceeds latency_budget {m.T0:.6g} s"
        )
    e_min, _, res = m.min_energy(ratios)
    if e_min > m.E0 * (1 + EDGE):
        return infeasible(
            f"energy floor {e_min:.6g} J at fixed rho={rho:g} within latency_budget "
            f"{m.T0:.6g} s{_held_up(m, ratios, res)} exceeds energy_budget {m.E0:.6g} J"
        )
    return answer(problem, m.decision(ratios, res))


def _held_up(m: Blocks, rho: tuple[float, float], res: tuple[float, float, float]) -> str:
    """`` (held up by ...)``: the physical terms under an energy floor (model.md 5.7); empty in the paper's model."""
    text = m.energy_limits_text(rho, res)
    return f" (held up by {text})" if text else ""


def solve_max_resources(problem: Problem) -> Solution:
    """Benchmark ``max_resources``: ``p = P_max``, ``f = f_max``; ratios optimised (model.md 5.6).

    With the resources fixed both budgets are affine in the kept work, so the least distortion meets the latency
    budget alone, the energy budget alone, or both (a 2x2 linear system in the kept work). Under the physical model
    (model.md section 2.7) the clocks stay at ``f_max`` even on a memory-bound side, and the budgets are piecewise
    affine (:func:`coinfer.optimise.physical.fixed_resource_ratios`).

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units).

    Returns
    -------
    Solution
        ``optimal`` with the least-distortion ratios at maximum power [W] and frequencies [Hz]; ``infeasible`` with a
        ``reason`` when even ``rho_max`` misses the latency [s] or energy [J] budget at those resources.

    References
    ----------
    docs/model.md, section 5.6 (benchmarks).
    """
    m = Blocks(problem)
    return _solve_at_resources(problem, m, m.max_resources(), "maximum resources")


def solve_decoupled(problem: Problem) -> Solution:
    """Benchmark ``decoupled``: resources first, then ratios (model.md section 5.6).

    The resources are the least-energy ones that meet the latency budget with
    the UNPRUNED model (maximum resources where even they cannot); the
    pruning ratios are then optimised with those resources fixed. This is
    what a system designer does who sizes the radio and the clocks for the
    dense model and prunes afterwards. Under the physical model the first stage's resources are
    :func:`coinfer.optimise.physical.least_energy`'s (frequency floors, static power; the least-energy resources of
    least time where the unpruned model misses the latency budget).

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units).

    Returns
    -------
    Solution
        ``optimal`` with the least-distortion ratios at the resources sized for the unpruned model; ``infeasible``
        with a ``reason`` when even ``rho_max`` misses the latency [s] or energy [J] budget at those resources.

    References
    ----------
    docs/model.md, section 5.6 (benchmarks).
    """
    m = Blocks(problem)
    _, _, res = m.min_energy((0.0, 0.0))
    return _solve_at_resources(problem, m, res, "the resources sized for the unpruned model")


def solve_quantised(problem: Problem, bits: int) -> Solution:
    """Benchmark ``quantised_8bit``/``quantised_4bit``: no pruning, weights at ``bits`` bits, resources optimised.

    Quantising weights saves no FLOPs in this system model, only distortion
    bits: the objective is ``D_LB(0; bits)``. It is :func:`solve_fixed_ratio` at ratio 0 on ``problem`` with
    ``bits_per_weight=bits``.

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units).
    bits : int
        Bits per kept weight [bit].

    Returns
    -------
    Solution
        As :func:`solve_fixed_ratio`'s at ``rho = 0``.

    References
    ----------
    docs/model.md, section 5.6 (benchmarks).
    """
    return solve_fixed_ratio(problem.replace(bits_per_weight=bits), 0.0)


def solve_split_then_prune(problems: Sequence[Problem]) -> tuple[int, Solution]:
    """Benchmark ``split_then_prune``: the Neurosurgeon rule, then uniform pruning (model.md section 5.6).

    The split is the one with the least latency for the unpruned model at
    maximum resources (ties: the smallest split); there, the smallest shared
    ratio ``rho_d = rho_s`` whose least-energy resources meet both budgets
    is found by bisection (feasibility is monotone in the ratio; 60 halvings).

    Parameters
    ----------
    problems : sequence of Problem
        The instances of one model's splits 0..L, in order (model.md section 8, SI units).

    Returns
    -------
    split : int
        Index of the chosen split in ``problems``.
    solution : Solution
        :func:`solve_fixed_ratio`'s answer at that split: at ratio 0 if the dense model fits, else at the smallest
        feasible ratio found; its ``infeasible`` answer at ``rho_max`` if even that does not fit.

    References
    ----------
    docs/model.md, section 5.6 (benchmarks).
    """
    split = int(np.argmin([_dense_latency(p) for p in problems]))
    problem = problems[split]
    dense = solve_fixed_ratio(problem, 0.0)
    if dense.status == "optimal":
        return split, dense
    top = solve_fixed_ratio(problem, problem.rho_max)
    if top.status != "optimal":
        return split, top
    lo, hi = 0.0, problem.rho_max
    for _ in range(60):
        middle = 0.5 * (lo + hi)
        if solve_fixed_ratio(problem, middle).status == "optimal":
            hi = middle
        else:
            lo = middle
    return split, solve_fixed_ratio(problem, hi)


def _dense_latency(problem: Problem) -> float:
    """Latency of the unpruned split at maximum resources."""
    m = Blocks(problem)
    return m.time((0.0, 0.0), m.max_resources())


def _solve_at_resources(problem: Problem, m: Blocks, res: tuple[float, float, float], label: str) -> Solution:
    """Least distortion with the resources ``res = (f_d, f_s, u)`` fixed.

    With resources fixed both budgets are affine in the kept work, so the
    optimum meets the latency budget alone, the energy budget alone, or both
    (a 2x2 linear system in the kept work); piecewise affine under the physical
    model (:meth:`Blocks.fixed_resource_ratios`).
    """
    top = m.rho_top
    floor_t, floor_e = m.time(top, res), m.energy(top, res)
    if floor_t > m.T0 * (1 + EDGE):
        return infeasible(
            f"latency floor {floor_t:.6g} s at rho_max={m.rho_max:g}, {m.limits_text()} "
            f"exceeds latency_budget {m.T0:.6g} s"
        )
    if floor_e > m.E0 * (1 + EDGE):
        return infeasible(
            f"energy {floor_e:.6g} J at rho_max={m.rho_max:g} with {label}{_held_up(m, top, res)} "
            f"exceeds energy_budget {m.E0:.6g} J"
        )
    if m.physical:
        # Time and energy are piecewise linear in the kept work (memory-bound kinks): the compiled candidates.
        ratios = m.fixed_resource_ratios(res)
        return answer(problem, m.decision(top if ratios is None else ratios, res))

    t_fixed, e_fixed = m.fixed_time(res), m.fixed_energy(res)
    alpha_t = (1 / res[0], 1 / res[1])
    alpha_e = (m.k[0] * (res[0] * res[0]), m.k[1] * (res[1] * res[1]) if m.counted[1] else 0.0)

    def fits(rho) -> bool:
        return m.time(rho, res) <= m.T0 * (1 + 1e-12) and m.energy(rho, res) <= m.E0 * (1 + 1e-12)

    candidates = [m.rho_flat, m.ratios(alpha_t, t_fixed, m.T0), m.ratios(alpha_e, e_fixed, m.E0)]
    good = [r for r in candidates if fits(r)]
    if not good and not m.shared:
        # Both bind: solve for the kept work of the two sides.
        a11, a12 = alpha_t[0] * m.a[0], alpha_t[1] * m.a[1]
        a21, a22 = alpha_e[0] * m.a[0], alpha_e[1] * m.a[1]
        det = a11 * a22 - a12 * a21
        if det != 0:
            k0 = ((m.T0 - t_fixed) * a22 - a12 * (m.E0 - e_fixed)) / det
            k1 = (a11 * (m.E0 - e_fixed) - a21 * (m.T0 - t_fixed)) / det
            rho = (min(max(1 - k0, 0.0), m.rho_max), min(max(1 - k1, 0.0), m.rho_max))
            good.append(rho)
    if not good:
        good = [top]
    best = min(good, key=lambda r: objective_value(problem, *r))
    return answer(problem, m.decision(best, res))


def solve_shared_ratio(problem: Problem) -> Solution:
    """Benchmark ``shared_ratio``: one ratio for both sides, everything else optimised (model.md section 5.6).

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units); its ``shared_ratio`` field is overridden to True.

    Returns
    -------
    Solution
        :func:`coinfer.optimise.solve`'s answer with ``rho_d = rho_s``.

    References
    ----------
    docs/model.md, section 5.6 (benchmarks).
    """
    return solve(problem.replace(shared_ratio=True))


def solve_local(problem: Problem, n_starts: int = 20, seed: int = 0) -> Solution:
    """Benchmark ``local_nonconvex``: SLSQP on the original non-convex variables ``rho_d, rho_s, p, f_d, f_s``.

    Starts are drawn uniformly in the box from ``seed`` (frequencies in ``[f_min, f_max]``: the frequency floor of
    the physical model, 0 in the paper's model). The best answer that
    is feasible to relative 1e-6, polished, is returned with the tie rule of
    model.md section 5.5 (:func:`least_energy_resources`, ratios within
    :data:`LOCAL_FLAT_TOLERANCE` above the flat point taken as the flat
    point), or ``infeasible`` if no start converged to a feasible point.
    SLSQP's linear algebra runs on one BLAS/OpenMP thread (threadpoolctl), so
    the answer does not depend on the caller's thread count.

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units).
    n_starts : int
        Random starts, at least 1 [count].
    seed : int
        Seed of the starts.

    Returns
    -------
    Solution
        As :func:`coinfer.optimise.solve`'s.

    Raises
    ------
    ParameterError
        If ``n_starts`` is not an integer of at least 1.

    References
    ----------
    docs/model.md, sections 5.5 (tie rules) and 5.6 (benchmarks).
    """
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    require_range("n_starts", n_starts, 1, integer=True)
    p = problem
    m = Blocks(problem)
    rng = np.random.default_rng(seed)
    shared = p.shared_ratio
    total_c = m.c[0] + m.c[1]

    def unpack(x):
        rho_d = x[0]
        rho_s = x[0] if shared else x[1]
        j = 1 if shared else 2
        return Decision(
            rho_d, rho_s, x[j] * p.p_max if m.sends else 0.0, x[j + 1] * p.f_device_max, x[j + 2] * p.f_server_max
        )

    def objective(x):
        d = unpack(x)
        return objective_value(p, min(max(d.rho_device, 0), 1), min(max(d.rho_server, 0), 1)) / total_c

    def slack(x):
        ev = evaluate(p, unpack(x))
        lat = ev.latency / p.latency_budget if math.isfinite(ev.latency) else 1e6
        en = ev.energy / p.energy_budget if math.isfinite(ev.energy) else 1e6
        return np.array([1 - min(lat, 1e6), 1 - min(en, 1e6)])

    n_rho = 1 if shared else 2
    # Frequencies in units of f_max, never below the floor f_min (physical model; 0 in the paper's model).
    f_low = (max(1e-9, p.f_device_min / p.f_device_max), max(1e-9, p.f_server_min / p.f_server_max))
    bounds = [(0.0, p.rho_max)] * n_rho + [(1e-9, 1.0), (f_low[0], 1.0), (f_low[1], 1.0)]
    best: Solution | None = None
    best_objective = math.inf
    with threadpool_limits(limits=1):  # SLSQP's linear algebra on one thread, whatever the caller's thread count
        for _ in range(n_starts):
            x0 = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    result = minimize(
                        objective,
                        x0,
                        method="SLSQP",
                        bounds=bounds,
                        constraints=[{"type": "ineq", "fun": slack}],
                        options={"maxiter": 300, "ftol": 1e-12},
                    )
                except (ValueError, ArithmeticError):
                    continue
            x = np.clip(result.x, [b[0] for b in bounds], [b[1] for b in bounds])
            if evaluate(p, unpack(x), rtol=1e-6).violations:
                continue
            sol = answer(p, unpack(x))
            if sol.reason is None and sol.objective is not None and (best is None or sol.objective < best_objective):
                best, best_objective = sol, sol.objective
    if best is None:
        return infeasible(f"local solver (SLSQP, {n_starts} starts, seed {seed}) found no feasible point")
    return least_energy_resources(problem, best, flat_tolerance=LOCAL_FLAT_TOLERANCE)


def least_energy_resources(problem: Problem, solution: Solution, flat_tolerance: float = 0.0) -> Solution:
    """The tie rule of model.md §5.5 applied to a solution: same objective, canonical decision.

    Where a budget is slack, many decisions give the same objective: any
    ratio below the flat point (the objective is flat there) and any resources
    that fit a slack budget. Every scheme reports the one ``solve`` reaches:
    ratios raised to the flat point (the least work at no cost in distortion),
    then the resources of least energy within the latency budget. The
    objective does not grow; the rule makes the decision variables
    comparable across schemes and machines.

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units); under the physical model the least-energy resources
        are :func:`coinfer.optimise.physical.least_energy`'s (frequency floors, static and circuit power).
    solution : Solution
        An answer for ``problem``; returned as it is unless ``"optimal"``.
    flat_tolerance : float
        Ratios up to this far above the flat point are taken as the flat point too (a solver that cannot tell
        them apart, :data:`LOCAL_FLAT_TOLERANCE`); 0: only ratios below it [dimensionless].

    Returns
    -------
    Solution
        The canonical decision where it meets both budgets with an objective no larger (relative 1e-12): at the
        flat point where the tolerance allows and it fits, else at the solution's ratios raised to the flat point;
        ``solution`` where neither fits.
    """
    if solution.status != "optimal" or solution.rho_device is None or solution.rho_server is None:
        return solution
    m = Blocks(problem)
    # Below the flat point the objective does not change: the least work (the flat point) is the tie's answer.
    # Ratios within the tolerance above it are tried at the flat point first; where that does not fit, at their own
    # values (raised to the flat point only from below).
    flat_d, flat_s = m.rho_flat
    rho_d, rho_s = solution.rho_device, solution.rho_server
    snapped = (
        flat_d if rho_d <= flat_d + flat_tolerance else rho_d,
        flat_s if rho_s <= flat_s + flat_tolerance else rho_s,
    )
    raised = (max(rho_d, flat_d), max(rho_s, flat_s))
    for ratios in dict.fromkeys([snapped, raised]):  # the raised ratios alone where the tolerance moves nothing
        energy, _, resources = m.min_energy(ratios)
        if not energy <= m.E0 or not m.time(ratios, resources) <= m.T0 * (1 + 1e-12):
            continue
        candidate = answer(problem, m.decision(ratios, resources))
        if (
            candidate.status == "optimal"
            and candidate.objective is not None
            and solution.objective is not None
            and candidate.objective <= solution.objective * (1 + 1e-12) + 1e-300
        ):
            return candidate
    return solution


def compare_schemes(
    problems: Sequence[Problem], *, rho_fixed: float = 0.5, n_starts: int = 10, seed: int = 0
) -> pd.DataFrame:
    """One row per scheme of :data:`SCHEMES` for the splits ``problems`` (index = split, 0..L).

    ``proposed`` and every benchmark except ``on_device``, ``on_server`` and ``split_then_prune`` pick their best
    split with :func:`coinfer.optimise.select_split`; ``on_device`` is split ``L`` (the last problem),
    ``on_server`` split 0, ``split_then_prune`` the split of :func:`solve_split_then_prune`.

    Parameters
    ----------
    problems : sequence of Problem
        The instances of one model's splits 0..L, in order (model.md section 8, SI units); not empty.
    rho_fixed : float, default 0.5
        The ratio of ``fixed_ratio``, capped at each problem's ``rho_max`` [-].
    n_starts : int, default 10
        Random starts of ``local_nonconvex`` [count].
    seed : int, default 0
        Seed of ``local_nonconvex``'s starts.

    Returns
    -------
    pandas.DataFrame
        One row per scheme, in the order of :data:`SCHEMES`, with columns ``scheme``, ``split`` (None unless
        ``optimal``), ``status``, ``objective`` [-], ``rho_device``, ``rho_server`` [-], ``power`` [W],
        ``f_device``, ``f_server`` [Hz], ``latency`` [s], ``energy`` [J] and ``reason`` (why it is infeasible).

    Raises
    ------
    ParameterError
        If ``problems`` is empty.

    References
    ----------
    docs/model.md, sections 5.5 (split selection) and 5.6 (benchmarks).
    """
    if len(problems) == 0:
        raise ParameterError("problems: got an empty list; expected the splits 0..L of one model")
    runners: dict[str, Callable[[Problem], Solution]] = {
        "proposed": solve,
        "fixed_ratio": lambda pr: solve_fixed_ratio(pr, min(rho_fixed, pr.rho_max)),
        "max_resources": solve_max_resources,
        "shared_ratio": solve_shared_ratio,
        "local_nonconvex": lambda pr: solve_local(pr, n_starts=n_starts, seed=seed),
        "decoupled": solve_decoupled,
        "quantised_8bit": lambda pr: solve_quantised(pr, 8),
        "quantised_4bit": lambda pr: solve_quantised(pr, 4),
    }
    rows = []
    split: int | None
    for scheme in SCHEMES:
        if scheme == "on_device":
            split, sol = len(problems) - 1, solve(problems[-1])
        elif scheme == "on_server":
            split, sol = 0, solve(problems[0])
        elif scheme == "split_then_prune":
            split, sol = solve_split_then_prune(problems)
        else:
            split, solutions = select_split(problems, runners[scheme])
            sol = solutions[split] if split is not None else solutions[0]
        row = {"scheme": scheme, "split": split if sol.status == "optimal" else None}
        row.update({k: v for k, v in sol.as_dict().items()})
        if sol.status != "optimal" and split is None:
            row["reason"] = sol.reason
        rows.append(row)
    columns = [
        "scheme",
        "split",
        "status",
        "objective",
        "rho_device",
        "rho_server",
        "power",
        "f_device",
        "f_server",
        "latency",
        "energy",
        "reason",
    ]
    return pd.DataFrame(rows)[columns]
