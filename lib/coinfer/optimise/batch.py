"""The fast solver for many problems at once (model.md section 5.3).

:func:`solve_batch` returns, for every problem of a sequence (all splits x
sweep points x fading draws), exactly :func:`coinfer.optimise.solve`'s answer.
It reads every problem's numbers into one array row (:func:`_rows`, the same
rows as :func:`coinfer.model.arithmetic.problem_row`), runs ``solve``'s compiled
steps over all rows in one call (:func:`coinfer.optimise.kernel.solve_rows`),
and builds the answers as ``solve`` does.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coinfer.model.arithmetic import R_Q, problem_rows
from coinfer.model.system import Problem
from coinfer.optimise import kernel, physical
from coinfer.optimise.fast import solution_of, solve
from coinfer.optimise.solution import Solution, optimal_numbers

__all__ = ["SCALAR_BELOW", "solve_batch"]

Array = np.ndarray


def _rows(problems: Sequence[Problem]) -> tuple[Array, Array, Array, Array]:
    """``(rows, table, keys, logits)``: the row of every problem (:func:`coinfer.model.arithmetic.problem_rows`),
    and the inverse-slope table (:func:`coinfer.optimise.kernel.slope_table`) of each bits-per-weight among them:
    ``keys[table[i]]``, ``logits[table[i]]`` for problem ``i``."""
    rows = problem_rows(problems)
    q = rows[:, R_Q]
    qs = sorted(set(q.astype(int).tolist()))
    table = np.searchsorted(np.array(qs, dtype=float), q)
    tables = [kernel.slope_table(qi) for qi in qs]
    return rows, table, np.stack([keys for keys, _ in tables]), np.stack([logits for _, logits in tables])


#: Which step of model.md section 5.3 settled each answer of the kernel, by its code (``stats`` keys).
_STEPS = {
    kernel.AT_FLOOR: "at_floor",
    kernel.LEAST_DISTORTION: "least_distortion",
    kernel.LATENCY_ONLY: "latency_only",
    kernel.JOINT_NEWTON: "joint_newton",
    kernel.NESTED_ROOTS: "nested_roots",
    physical.ENERGY_ONLY: "energy_only",
}


def solve_batch(problems: Sequence[Problem], stats: dict[str, int] | None = None) -> list[Solution]:
    """:func:`coinfer.optimise.solve` for many problems at once (model.md section 5.3).

    Returns one :class:`Solution` per problem, in order, equal to ``solve``'s (the same compiled steps on the
    same numbers). Empty input gives ``[]``. Batches of fewer than :data:`SCALAR_BELOW` problems are solved by
    ``solve`` itself, whose per-call cost is then below that of building the rows.

    ``stats``, if given, is filled with counts: ``n``; ``scalar``, instances given to ``solve`` because they
    are too few; ``polish``, answers whose decision the polish could not bring within the budgets at rtol 0
    (reported through :func:`coinfer.model.system.evaluate`, as ``solve`` does); and, per step of model.md section 5.3
    that settled an answer with a decision, ``at_floor``, ``least_distortion``, ``latency_only``,
    ``joint_newton``, ``nested_roots``.

    Parameters
    ----------
    problems : sequence of Problem
        The instances (model.md section 8, SI units); any mix of splits, budgets and limits.
    stats : dict, optional
        Cleared, then filled with the counts above when given [count].

    Returns
    -------
    list of Solution
        One answer per problem, in order, equal to :func:`coinfer.optimise.solve`'s.

    References
    ----------
    docs/model.md, section 5.3.

    Examples
    --------
    >>> from coinfer.model.system import make_problem
    >>> from coinfer.optimise import solve, solve_batch
    >>> problems = [make_problem(
    ...     flops_device=2e8, flops_server=8e8, params_device=1e5, params_server=4e5, scale_device=0.02,
    ...     scale_server=0.03, feature_bits=4096, latency_budget=0.01, energy_budget=budget, distance=150.0)
    ...     for budget in [0.01, 0.02, 1e-4] * 100]  # energy budgets [J]
    >>> counts = {}
    >>> answers = solve_batch(problems, counts)
    >>> answers == [solve(problem) for problem in problems], counts["n"], counts["scalar"]
    (True, 300, 0)
    >>> [answer.status for answer in answers[:3]]
    ['optimal', 'optimal', 'infeasible']
    """
    n = len(problems)
    counts = {"n": n, "scalar": 0, "polish": 0, **dict.fromkeys(_STEPS.values(), 0)}
    if stats is not None:
        stats.clear()
        stats.update(counts)
        counts = stats
    if n == 0:
        return []
    if n < SCALAR_BELOW:
        counts["scalar"] = n
        return [solve(problem) for problem in problems]
    # The answers are thousands of small objects and no reference cycle: the cyclic collector's passes over
    # the caller's whole heap, which their allocation would trigger, would find nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _solve_many(problems, counts)
    finally:
        if collecting:
            gc.enable()


def _solve_many(problems: Sequence[Problem], counts: dict[str, int]) -> list[Solution]:
    """:func:`solve_batch` of at least :data:`SCALAR_BELOW` problems, ``counts`` as its ``stats``."""
    n = len(problems)
    rows, table, keys, logits = _rows(problems)
    out = np.empty((n, kernel.OUT_WIDTH))
    code = np.empty(n, dtype=np.int8)
    step = np.empty(n, dtype=np.int8)
    try:
        physical.solve_rows(rows, table, keys, logits, kernel.JOINT_NEWTON_EVALUATIONS, out, code, step)
    except ZeroDivisionError:  # absurd numbers in some problem: each raises (or not) as solve raises for it
        return [solve(problem) for problem in problems]
    decided = (code == kernel.OPTIMAL) | (code == kernel.TO_POLISH)
    for step_code, name in _STEPS.items():
        counts[name] = int((decided & (step == step_code)).sum())
    counts["polish"] = int((code == kernel.TO_POLISH).sum())
    answers: list[Solution | None] = [None] * n
    solved = code == kernel.OPTIMAL
    columns = out[solved, : kernel.O_ANSWER].T.tolist()
    for i, solution in zip(np.flatnonzero(solved).tolist(), map(optimal_numbers, *columns), strict=True):
        answers[i] = solution
    for i in np.flatnonzero(~solved).tolist():
        answers[i] = solution_of(problems[i], int(code[i]), out[i].tolist())
    return answers  # type: ignore[return-value]  # every entry is set above


@dataclass(frozen=True)
class KernelRows:
    """The compiled solver's rows of many problems (:func:`kernel_rows`), to be solved with some numbers changed.

    ``rows[i]`` holds problem ``i``'s numbers in the columns of :mod:`coinfer.optimise.kernel` (``R_*``);
    ``keys[table[i]]`` and ``logits[table[i]]`` are its inverse-slope table. A caller that solves the same
    problems many times with one field varied (the shares of band and server cycles of
    :func:`coinfer.optimise.solve_multiuser`) overwrites that column of a copy of ``rows`` and calls
    :func:`solve_kernel_rows`, without building a :class:`Problem` per solve.
    """

    rows: Array
    table: Array
    keys: Array
    logits: Array


def kernel_rows(problems: Sequence[Problem]) -> KernelRows:
    """The :class:`KernelRows` of ``problems`` (the rows :func:`solve_batch` solves).

    Parameters
    ----------
    problems : sequence of Problem
        The problems (SI units).

    Returns
    -------
    KernelRows
        Their rows.

    References
    ----------
    docs/model.md, section 5.3.
    """
    rows, table, keys, logits = _rows(problems)
    return KernelRows(rows, table.astype(np.int64), keys, logits)


def solve_kernel_rows(rows: Array, table: Array, keys: Array, logits: Array) -> tuple[Array, Array]:
    """``(code, out)``: the compiled steps of :func:`coinfer.optimise.solve` on every row (model.md section 5.3).

    ``rows`` are :class:`KernelRows` rows, possibly with some numeric columns changed (each row is derived
    afresh); ``code[i]`` is ``kernel.OPTIMAL``, ``kernel.TO_POLISH``, ``kernel.INFEASIBLE_LATENCY``,
    ``kernel.INFEASIBLE_ENERGY`` or ``kernel.STEP4_FAILED`` and ``out[i]`` its ``kernel.O_*`` numbers, exactly
    what :func:`solve_batch` builds its answers from. A row whose numbers make the compiled code divide by zero
    is solved on its own and reported as ``STEP4_FAILED`` if it raises again.

    Parameters
    ----------
    rows : numpy.ndarray
        Rows of :class:`KernelRows` (SI units).
    table : numpy.ndarray
        Per row, the index of its inverse-slope table (:func:`coinfer.optimise.kernel.slope_table`) [1].
    keys : numpy.ndarray
        The tables' keys ``ln D'(z)`` [1], one row per table.
    logits : numpy.ndarray
        The tables' logits ``z`` of the ratio [1], one row per table.

    Returns
    -------
    tuple of numpy.ndarray
        ``code`` per row and ``out`` numbers per row (SI units).

    References
    ----------
    docs/model.md, section 5.3.
    """
    rows = np.ascontiguousarray(rows, dtype=float)
    n = rows.shape[0]
    out = np.empty((n, kernel.OUT_WIDTH))
    code = np.empty(n, dtype=np.int8)
    step = np.empty(n, dtype=np.int8)
    table = np.ascontiguousarray(table, dtype=np.int64)
    if n == 0:
        return code, out
    try:
        physical.solve_rows(rows, table, keys, logits, kernel.JOINT_NEWTON_EVALUATIONS, out, code, step)
    except ZeroDivisionError:  # absurd numbers in some row: solve each alone, as solve_batch falls back to solve
        for i in range(n):
            try:
                c, _, values = physical.solve_row(rows[i], keys[table[i]], logits[table[i]],
                                                  kernel.JOINT_NEWTON_EVALUATIONS)  # fmt: skip
                code[i], out[i] = c, values
            except ZeroDivisionError:
                code[i], out[i] = kernel.STEP4_FAILED, np.nan
    return code, out


#: Batches smaller than this are solved by ``solve``, one by one: building the rows over arrays costs a fixed
#: ~50 us, and below ~60 problems it does not pay back (``solve`` takes ~5 us per problem, the batch ~4 us).
SCALAR_BELOW = 64
