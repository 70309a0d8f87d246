"""Split selection: solve every split point and keep the best (model.md section 5)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from coinfer.optimise.fast import solve
from coinfer.optimise.solution import Solution
from coinfer.system import Problem


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
