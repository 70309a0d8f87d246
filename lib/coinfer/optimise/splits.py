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
) -> tuple[str | None, Solution]:
    """The better of several execution models for one split (model.md section 2.3): ``(compute_model, solution)``.

    Each execution model keeps the problem convex, so "run the zeros with dense
    kernels, or use sparse kernels, whichever is better" is solved by solving
    both and keeping the smaller objective (ties: the first in
    ``compute_models``). ``(None, first infeasible answer)`` when none is
    feasible.
    """
    answers = [(model, solver(problem.replace(compute_model=model))) for model in compute_models]
    feasible = [(sol.objective, i) for i, (_, sol) in enumerate(answers) if sol.status == "optimal"]
    if not feasible:
        return None, answers[0][1]
    _, best = min(feasible)
    return answers[best]
