"""Split selection: solve every split point and keep the best (model.md section 5)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from coinfer.model.system import Problem
from coinfer.optimise.fast import solve
from coinfer.optimise.solution import Solution

__all__ = ["select_execution", "select_split"]


def select_split(
    problems: Sequence[Problem], solver: Callable[[Problem], Solution] = solve
) -> tuple[int | None, list[Solution]]:
    """Solve every split and keep the feasible one of least objective (model.md section 5.5).

    Parameters
    ----------
    problems : sequence of Problem
        The instances of one model's splits, in order (model.md section 8, SI units).
    solver : callable, default :func:`coinfer.optimise.solve`
        Maps a problem to its :class:`Solution`.

    Returns
    -------
    best : int or None
        Index in ``problems`` of the ``optimal`` answer of least objective (ties: the smallest index); None if no
        split is feasible.
    solutions : list of Solution
        ``solver``'s answer for every problem, in order.

    References
    ----------
    docs/model.md, section 5.5 (split selection and tie rules).
    """
    solutions = [solver(pr) for pr in problems]
    best, best_value = None, math.inf
    for s, sol in enumerate(solutions):
        if sol.status == "optimal" and sol.objective is not None and sol.objective < best_value:
            best, best_value = s, sol.objective
    return best, solutions


def select_execution(
    problem: Problem, compute_models: Sequence[str] = ("dense", "sparse"), solver: Callable[[Problem], Solution] = solve
) -> tuple[tuple[str, str] | None, Solution]:
    """The best execution model per side for one split (model.md section 2.3): ``((device, server), solution)``.

    Each side runs its own kernels, so every pair of ``compute_models`` (device, server) is a problem of its own,
    each convex; "dense or sparse kernels on each side, whichever is better" is solved by solving all of them
    (four for dense and sparse) and keeping the smallest objective (ties: the first pair in the order of
    ``compute_models``, device first). A side left unpruned is thus charged dense cycles whenever that is better,
    without the sparse overhead. ``(None, the first pair's infeasible answer)`` when none is feasible.

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units); its ``compute_model_*`` are replaced.
    compute_models : sequence of str, default ("dense", "sparse")
        The execution models each side may use, in order of preference on ties.
    solver : callable, default :func:`coinfer.optimise.solve`
        Maps a problem to its :class:`Solution`.

    Returns
    -------
    compute_models : tuple of str or None
        The ``(compute_model_device, compute_model_server)`` of the least objective; None when none is feasible.
    solution : Solution
        Its answer; the first pair's (infeasible) answer when none is feasible.

    References
    ----------
    docs/model.md, sections 2.3 (computation) and 5.5.
    """
    pairs = [(device, server) for device in compute_models for server in compute_models]
    answers = [
        (pair, solver(problem.replace(compute_model_device=pair[0], compute_model_server=pair[1]))) for pair in pairs
    ]
    feasible = [(sol.objective, i) for i, (_, sol) in enumerate(answers) if sol.status == "optimal"]
    if not feasible:
        return None, answers[0][1]
    _, best = min(feasible)
    return answers[best]
