"""Layer 2, the solvers: joint optimisation of pruning ratios, transmit power and CPU frequencies (model.md section 5).

It may import :mod:`coinfer.base` and :mod:`coinfer.model` only; the real networks, studies, claims, figures
and pipeline build on it.

Minimise the parameter-weighted distortion ``D(rho_d, rho_s)`` subject to the
latency and energy budgets and resource limits of model.md section 2, per split point.

- :func:`solve_reference`: the convex reformulation of model.md section 5 in cvxpy
  (times ``t_d, t_tx, t_s`` as variables; power cones for ``W^3/t^2``, an
  exponential cone for the transmit energy; all quantities normalised by the
  budgets, see :func:`_solve_conic`).
- :func:`solve`: the fast dedicated solver (the algorithm is described in
  :func:`solve`'s docstring, its steps and building blocks compiled in
  :mod:`coinfer.optimise.kernel`, written once: the benchmarks call the same
  compiled functions through :class:`coinfer.optimise.blocks.Blocks`).
  It returns the same optimum, hundreds of times faster (``benchmarks/bench_solver.py``).
- :func:`solve_batch`: :func:`solve` for many problems at once, the compiled
  steps over all of them in one call (the same answers).
- :func:`solve_multiuser`: many users sharing the band and the server's cycles (model.md section 13), with
  :func:`solve_multiuser_local` (its independent check) and the baselines of :func:`solve_baseline`.
- :func:`select_split` and the benchmarks of model.md section 5 (fixed ratio, maximum
  resources, shared ratio, a local solver on the original non-convex
  variables) and :func:`compare_schemes`.

Every solver ends in :mod:`coinfer.optimise.solution` (canonical values, the
polish, the decision's terms in the original variables); infeasible instances
are an answer (``status "infeasible"`` with a ``reason`` naming the binding
limit and its numbers).
"""

from coinfer.model.arithmetic import flat_end
from coinfer.optimise.batch import solve_batch
from coinfer.optimise.benchmarks import (
    SCHEMES,
    compare_schemes,
    solve_decoupled,
    solve_fixed_ratio,
    solve_local,
    solve_max_resources,
    solve_quantised,
    solve_shared_ratio,
    solve_split_then_prune,
)
from coinfer.optimise.conic import solve_reference
from coinfer.optimise.fast import solve
from coinfer.optimise.multiuser import (
    MULTIUSER_BASELINES,
    MultiUser,
    MultiUserProblem,
    MultiUserSolution,
    UserAnswer,
    random_multiuser_problem,
    solve_baseline,
    solve_multiuser,
    solve_multiuser_local,
)
from coinfer.optimise.solution import Solution, polish
from coinfer.optimise.splits import select_execution, select_split

__all__ = [
    "MULTIUSER_BASELINES",
    "MultiUser",
    "MultiUserProblem",
    "MultiUserSolution",
    "SCHEMES",
    "UserAnswer",
    "Solution",
    "compare_schemes",
    "solve_decoupled",
    "flat_end",
    "polish",
    "random_multiuser_problem",
    "select_execution",
    "select_split",
    "solve",
    "solve_baseline",
    "solve_batch",
    "solve_fixed_ratio",
    "solve_local",
    "solve_max_resources",
    "solve_multiuser",
    "solve_multiuser_local",
    "solve_quantised",
    "solve_reference",
    "solve_shared_ratio",
    "solve_split_then_prune",
]
