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
) -> tuple[str | None, Solution]:
    """The better of several execution models for one split (model.md section 2.3): ``(compute_model, solution)``.

    Each execution model keeps the problem convex, so "run the zeros with dense
    kernels, or use sparse kernels, whichever is better" is solved by solving
    both and keeping the smaller objective (ties: the first in
    ``compute_models``).

    Parameters
    ----------
    problem : Problem
        One split's instance (model.md section 8, SI units); its ``compute_model`` is overridden.
    compute_models : sequence of str, default ("dense", "sparse")
        The execution models tried, in order of preference on ties.
    solver : callable, default :func:`coinfer.optimise.solve`
        Maps a problem to its :class:`Solution`.

    Returns
    -------
    compute_model : str or None
        The execution model of the least objective; None when none is feasible.
    solution : Solution
        Its answer; the first execution model's (infeasible) answer when none is feasible.

    References
    ----------
    docs/model.md, sections 2.3 (computation) and 5.5.
    """
    answers = [(model, solver(problem.replace(compute_model=model))) for model in compute_models]
    feasible = [(sol.objective, i) for i, (_, sol) in enumerate(answers) if sol.status == "optimal"]
    if not feasible:
        return None, answers[0][1]
    _, best = min(feasible)
    return answers[best]
