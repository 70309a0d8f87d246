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
    """Solve every split and return ``(best split index or None if none is feasible, solutions)``."""
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
        The split; its own ``compute_model_*`` are replaced.
    compute_models : sequence of str
        The execution models each side may use.
    solver : callable
        ``Problem -> Solution`` (default :func:`coinfer.optimise.solve`).

    Returns
    -------
    tuple
        The best ``(compute_model_device, compute_model_server)`` (or None) and its :class:`Solution`.
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
