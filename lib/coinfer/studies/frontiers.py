"""Quality-versus-cost frontiers of the deployed designs (model.md section 9.1; issue 23, item 1).

For one real-weight model and every scheme of notebook 06 (:data:`coinfer.optimise.SCHEMES` and
``proposed_magnitude``), :func:`model_frontiers` finds

- the least energy budget [J], at each of a few latency budgets [s] of the family grid, and
- the least latency budget [s], at each of a few energy budgets [J] of the family grid,

at which the scheme's deployed design keeps at least a share ``level`` of the unpruned model's task quality.
Each candidate budget pair is solved by the caller's study (notebook 06's :class:`Study`: every scheme at once,
under the physical model of model.md section 2.7), each decision is deployed and measured on the real weights by
:func:`coinfer.nets.deploy.measure_decisions` (one call per search round for all pending decisions, with the
model's sort-once magnitude orders; identical decisions are measured once and remembered across rounds).

The search (:func:`next_index`, :func:`bisect_grid`)
----------------------------------------------------
The free budget runs over a log-spaced grid of ``grid_points`` values from the family grid's first feasible
budget to its loosest (:class:`coinfer.nets.budgets.BudgetGrid`). Quality need not be monotone in the budget
(a looser budget can move the design to another split), so the search first measures ``coarse_points`` evenly
spaced grid indices (the first and the last included), takes the least passing one, and bisects the grid
interval below it down to adjacent indices. The answer is a bracket ``[low, high]``: ``high`` the least
measured budget that passes, ``low`` the grid budget just below it (which fails), so the true least budget of a
monotone curve lies in ``(low, high]`` and the bracket's width is one grid step (the tolerance, a factor
``(last / first) ** (1 / (grid_points - 1))``). A measured budget above ``high`` that fails (or is infeasible)
marks the bracket ``non_monotone``: a least budget exists, but not every looser budget keeps the quality.
Statuses (:data:`STATUSES`): ``reached``; ``reached at the first feasible budget`` (the budget just below is
infeasible for the scheme, or ``high`` is the grid's first value: feasibility, not quality, binds);
``not reached at the loosest budget``; ``infeasible`` (no measured budget is feasible).

Task quality (:data:`QUALITY_METRIC`)
-------------------------------------
The share of the unpruned model's task quality on the same held-out inputs: digits accuracy against the true
labels; EfficientNet-Lite0 top-1 agreement with the unpruned model (no labels ship offline; the unpruned model
scores 1); MiniLM topic accuracy (nearest class centroid, :func:`coinfer.nets.inputs.topic_task`), a task with
true labels, rather than the cosine to the unpruned embedding, which measures distortion, not usability
(cosine 0.9 can leave the topic accuracy anywhere).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from coinfer.base.parallel import parallel_map
from coinfer.base.threads import single_thread
from coinfer.base.validation import ParameterError, require_range
from coinfer.nets.deploy import decision_counts, measure_decisions
from coinfer.nets.split import PartSweeps, SplitModel

__all__ = [
    "Bracket",
    "FRONTIER_COLUMNS",
    "FRONTIER_FILE",
    "KINDS",
    "POINTS_FILE",
    "QUALITY_METRIC",
    "STATUSES",
    "bisect_grid",
    "check_levels",
    "fixed_budgets",
    "frontier_leaders",
    "headline_sentences",
    "model_frontiers",
    "next_index",
]

#: The table of :func:`model_frontiers` (notebook 07).
FRONTIER_FILE = "deployed_frontiers.csv"
#: Every measured (budget pair, scheme) of the searches, for the figure (notebook 07).
POINTS_FILE = "deployed_frontier_points.csv"
#: Fixed budget -> the budget searched: a fixed latency [s] searches the energy [J], and the reverse.
KINDS: dict[str, str] = {"latency_s": "energy_J", "energy_J": "latency_s"}
REACHED = "reached"
REACHED_FIRST = "reached at the first feasible budget"
NOT_REACHED = "not reached at the loosest budget"
INFEASIBLE = "infeasible"
#: The statuses of a frontier row.
STATUSES: tuple[str, ...] = (REACHED, REACHED_FIRST, NOT_REACHED, INFEASIBLE)
#: The task quality of each model (``task_metric``: the zoo metric; ``topic_accuracy``: MiniLM's topic task).
QUALITY_METRIC: dict[str, str] = {
    "digits_cnn": "test_accuracy",
    "digits_mlp": "test_accuracy",
    "efficientnet_lite0": "top1_agreement",
    "minilm": "topic_accuracy",
}
#: A quality within this of the level passes (a share of equal counts must not fail by rounding) [1].
LEVEL_TOLERANCE = 1e-12
#: Every column of :data:`FRONTIER_FILE`, in order.
FRONTIER_COLUMNS: tuple[str, ...] = (
    "model",
    "scheme",
    "level",
    "fixed_budget",
    "fixed_value",
    "frontier_budget",
    "least_budget",
    "bracket_low",
    "bracket_high",
    "status",
    "non_monotone",
    "quality",
    "quality_metric",
    "unpruned_quality",
    "grid_step",
    "measured_points",
)


# --------------------------------------------------------------------------- the search on one grid
@dataclass(frozen=True)
class Bracket:
    """Where a quality curve on a grid first reaches a level (model.md section 9.1).

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    high : int or None
        Least measured grid index whose quality passes [index]; ``None`` unless reached.
    low : int or None
        The grid index just below ``high`` (fails) [index]; ``None`` when ``high`` is 0 or not reached.
    non_monotone : bool
        Some measured index above ``high`` fails or is infeasible.
    """

    status: str
    high: int | None
    low: int | None
    non_monotone: bool


def _passes(value: float, level: float) -> bool:
    """``value`` (NaN: infeasible) keeps at least ``level``."""
    return not math.isnan(value) and value >= level - LEVEL_TOLERANCE


def _coarse_indices(size: int, coarse_points: int) -> list[int]:
    """``coarse_points`` evenly spaced indices of a grid of ``size`` values, the first and the last included."""
    return sorted({int(round(i)) for i in np.linspace(0, size - 1, min(coarse_points, size))})


def next_index(measured: Mapping[int, float], level: float, size: int, coarse_points: int) -> Bracket | list[int]:
    """The grid indices still to measure for ``level``, or the :class:`Bracket` when there are none.

    Parameters
    ----------
    measured : mapping of int to float
        Grid index -> quality share [1] (NaN where the scheme is infeasible) measured so far.
    level : float
        The share of the unpruned quality to keep [1], in ``(0, 1]``.
    size : int
        Grid values [count].
    coarse_points : int
        Indices measured before bisecting [count], at least 2.

    Returns
    -------
    Bracket or list of int
        The answer, or the indices to measure next (the missing coarse indices, or one bisection midpoint).
    """
    missing = [i for i in _coarse_indices(size, coarse_points) if i not in measured]
    if missing:
        return missing
    passing = [i for i, value in measured.items() if _passes(value, level)]
    if not passing:
        feasible = any(not math.isnan(value) for value in measured.values())
        return Bracket(NOT_REACHED if feasible else INFEASIBLE, None, None, False)
    high = min(passing)
    non_monotone = any(i > high and not _passes(value, level) for i, value in measured.items())
    below = [i for i in measured if i < high]
    if not below:
        return Bracket(REACHED_FIRST, high, None, non_monotone)
    low = max(below)
    if high - low > 1:
        return [(low + high) // 2]
    status = REACHED_FIRST if math.isnan(measured[low]) else REACHED
    return Bracket(status, high, low, non_monotone)


def bisect_grid(
    quality: Callable[[int], float], size: int, level: float, coarse_points: int = 5
) -> tuple[Bracket, dict[int, float]]:
    """Search one quality curve on a grid (:func:`next_index` until it answers).

    Parameters
    ----------
    quality : callable
        Grid index -> quality share [1] (NaN: infeasible).
    size : int
        Grid values [count], at least 2.
    level : float
        Share to keep [1], in ``(0, 1]``.
    coarse_points : int
        Indices measured before bisecting [count], in ``[2, size]``.

    Returns
    -------
    tuple of (Bracket, dict)
        The bracket and every measured index -> quality.

    References
    ----------
    docs/model.md, section 9.1.
    """
    size = int(require_range("size", size, 2, integer=True))
    coarse_points = int(require_range("coarse_points", coarse_points, 2, size, integer=True))
    check_levels([level])
    measured: dict[int, float] = {}
    while True:
        found = next_index(measured, level, size, coarse_points)
        if isinstance(found, Bracket):
            return found, measured
        for index in found:
            measured[index] = float(quality(index))


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """``levels`` if it is a non-empty sequence of shares in ``(0, 1]``, else a one-line :class:`ParameterError`.

    Parameters
    ----------
    levels : sequence of float
        Quality levels [1].

    Returns
    -------
    tuple of float
        The levels [1].
    """
    values = tuple(levels)
    if not values:
        raise ParameterError("levels: got an empty list; allowed one or more shares in (0, 1]")
    for value in values:
        require_range("levels", value, 0.0, 1.0, low_open=True)
    return tuple(float(v) for v in values)


def fixed_budgets(values: Sequence[float] | np.ndarray, points: int) -> np.ndarray:
    """``points`` values of a family grid to hold fixed: evenly spaced by index, the first (tightest) left out.

    Parameters
    ----------
    values : sequence of float
        A family grid along one budget, increasing [s or J] (:class:`coinfer.nets.budgets.BudgetGrid`).
    points : int
        Values to return [count], at least 1.

    Returns
    -------
    numpy.ndarray
        Distinct grid values [s or J], increasing, the loosest always included.
    """
    points = int(require_range("fixed_points", points, 1, integer=True))
    values = np.asarray(values, dtype=float)
    indices = np.unique(np.round(np.linspace(0, len(values) - 1, points + 1)[1:]).astype(int))
    return values[indices]


# --------------------------------------------------------------------------- one model
class _Grid(Protocol):
    """The family grid's budgets (:class:`coinfer.nets.budgets.BudgetGrid`)."""

    @property
    def latency(self) -> np.ndarray: ...

    @property
    def energy(self) -> np.ndarray: ...


class _Study(Protocol):
    """What :func:`model_frontiers` needs of notebook 06's study (a study may not import another)."""

    @property
    def grids(self) -> Mapping[str, _Grid]: ...

    @property
    def reference(self) -> Mapping[str, tuple[float, float]]: ...

    def compare(self, name: str, starts: int | None = None, **setting: Any) -> tuple[pd.DataFrame, list]: ...


class _Evaluation(Protocol):
    """What :func:`model_frontiers` needs of the held-out set (``deployed_designs.EvaluationSet``)."""

    @property
    def chunks(self) -> tuple[Any, ...]: ...

    @property
    def labels(self) -> torch.Tensor | None: ...

    @property
    def reference(self) -> torch.Tensor: ...

    @property
    def metric(self) -> Callable[[torch.Tensor, torch.Tensor, Any], tuple[str, float]]: ...

    @property
    def output_vector(self) -> Callable[[Any], torch.Tensor]: ...

    def topic_accuracy(self, vectors: torch.Tensor) -> float: ...


def _quality(evaluation: _Evaluation, metric: str, vectors: torch.Tensor) -> float:
    """Absolute task quality [1] of output ``vectors`` (:data:`QUALITY_METRIC`)."""
    if metric == "topic_accuracy":
        return float(evaluation.topic_accuracy(vectors))
    return float(evaluation.metric(evaluation.reference, vectors.double(), evaluation.labels)[1])


def _solve_point(study: _Study, name: str, starts: int, budgets: tuple[float, float]) -> pd.DataFrame:
    """Every scheme's decision at ``budgets = (latency [s], energy [J])``: one task of the solve rounds."""
    t0, e0 = study.reference[name]
    frame, _ = study.compare(name, starts=starts, latency_factor=budgets[0] / t0, energy_factor=budgets[1] / e0)
    return frame[["scheme", "status", "split", "rho_device", "rho_server"]]


def _ratio(value: Any) -> float:
    """A ratio of a scheme row: NaN (a side without weights) counts as 0."""
    value = float(value)
    return 0.0 if math.isnan(value) else value


def model_frontiers(
    study: _Study,
    model: SplitModel,
    evaluation: _Evaluation,
    *,
    scheme_bits: Mapping[str, int],
    levels: Sequence[float] = (0.99, 0.95, 0.90),
    fixed_points: int = 3,
    grid_points: int = 17,
    coarse_points: int = 5,
    local_starts: int = 3,
    bits: int | None = 16,
    feature_bits: int | None = 16,
    workers: int | None = None,
    scheduler_address: str | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Least energy at fixed latencies and least latency at fixed energies keeping each quality level.

    Parameters
    ----------
    study : joint_optimisation.Study
        Notebook 06's study of ``model.name`` (its family grid, default point and every scheme's solver, under the
        physical model of model.md section 2.7).
    model : SplitModel
        The loaded model (never changed).
    evaluation : deployed_designs.EvaluationSet
        Held-out inputs, labels and unpruned outputs of ``model`` (``deployed_designs.evaluation_set``).
    scheme_bits : mapping of str to int
        Weight bits of the schemes that fix their own [bit] (``deployed_designs.SCHEME_WEIGHT_BITS``).
    levels : sequence of float
        Shares of the unpruned task quality to keep [1], each in ``(0, 1]``.
    fixed_points : int
        Budgets held fixed per kind [count]: values of the family grid (:func:`fixed_budgets`).
    grid_points : int
        Log-spaced values of the searched budget from the family grid's first to its loosest [count], >= 3.
    coarse_points : int
        Grid values measured before bisecting [count], in ``[2, grid_points]``.
    local_starts : int
        Random starts of ``local_nonconvex`` per split [count] (notebook 06's ``local_starts``).
    bits, feature_bits : int or None
        Bits of the kept weights and of each sent feature element [bit], as notebook 07's deployment.
    workers, scheduler_address
        Where the solves of each round run (:func:`coinfer.base.parallel.parallel_map`); deploying runs here.
    progress : bool
        Show progress bars.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(frontiers, points)``. ``frontiers``: one row per (fixed kind, fixed value, scheme, level) with
        :data:`FRONTIER_COLUMNS`: budgets [s or J], ``least_budget = bracket_high``, ``quality`` the share [1]
        measured there, ``grid_step`` the bracket's tolerance (ratio of adjacent grid values) [1],
        ``measured_points`` [count]. ``points``: every measured (fixed kind, fixed value, budget, scheme) with
        its status, decision and quality share.
        ``frontiers.attrs`` holds the search's cost: ``solves`` (budget pairs solved), ``deployed`` (distinct
        decisions measured) and ``rounds`` [count].

    References
    ----------
    docs/model.md, section 9.1.
    """
    levels = check_levels(levels)
    grid_points = int(require_range("grid_points", grid_points, 3, integer=True))
    coarse_points = int(require_range("coarse_points", coarse_points, 2, grid_points, integer=True))
    local_starts = int(require_range("local_starts", local_starts, 1, integer=True))
    name = model.name
    if name not in QUALITY_METRIC:
        raise ParameterError(f"model: {name!r} has no task quality; allowed: {', '.join(QUALITY_METRIC)}")
    metric = QUALITY_METRIC[name]
    grid = study.grids[name]
    unpruned = _quality(evaluation, metric, evaluation.reference)
    if not unpruned > 0:
        raise ParameterError(f"n_inputs: the unpruned {name} scores {metric} = {unpruned:g}; allowed more inputs")
    axes = {
        "latency_s": np.geomspace(grid.energy[0], grid.energy[-1], grid_points),
        "energy_J": np.geomspace(grid.latency[0], grid.latency[-1], grid_points),
    }
    fixed = {
        "latency_s": fixed_budgets(grid.latency, fixed_points),
        "energy_J": fixed_budgets(grid.energy, fixed_points),
    }
    searches = [(kind, j) for kind in KINDS for j in range(len(fixed[kind]))]

    def budgets(kind: str, j: int, i: int) -> tuple[float, float]:
        free = float(axes[kind][i])
        return (float(fixed[kind][j]), free) if kind == "latency_s" else (free, float(fixed[kind][j]))

    solved: dict[tuple[str, int, int], pd.DataFrame] = {}
    measured: dict[tuple[str, int, str], dict[int, float]] = {}
    decided: dict[tuple[str, int, int, str], tuple[int, int | None, float, float] | None] = {}
    qualities: dict[tuple[int, int | None, int, int], float] = {}
    sweeps = PartSweeps(model, max_entries=4)  # one split's two sides at a time: decisions are visited by split
    schemes: list[str] | None = None
    rounds = 0
    while True:
        pending: dict[tuple[str, int, int], set[str]] = {}
        answers: dict[tuple[str, int, str, float], Bracket] = {}
        for kind, j in searches:
            for scheme in schemes or [""]:
                for level in levels:
                    found = next_index(measured.get((kind, j, scheme), {}), level, grid_points, coarse_points)
                    if isinstance(found, Bracket):
                        answers[(kind, j, scheme, level)] = found
                    else:
                        for i in found:
                            pending.setdefault((kind, j, i), set()).add(scheme)
        if not pending:
            break
        rounds += 1
        to_solve = [key for key in pending if key not in solved]
        frames = parallel_map(
            functools.partial(_solve_point, study, name, local_starts),
            [budgets(*key) for key in to_solve],
            workers=workers,
            scheduler_address=scheduler_address,
            desc=f"{name}: solve round {rounds}",
            progress=progress,
        )
        solved.update(zip(to_solve, frames, strict=True))
        if schemes is None:  # every scheme of the study, in its order
            schemes = [str(s) for s in solved[to_solve[0]]["scheme"]]
            pending = {key: set(schemes) for key in pending}
        wanted: list[tuple[tuple[str, int, int], str]] = [(key, s) for key, ss in pending.items() for s in sorted(ss)]
        new: dict[tuple[int, int | None, int, int], tuple[int, int | None, float, float]] = {}
        for key, scheme in wanted:
            row = solved[key].set_index("scheme").loc[scheme]
            if row["status"] != "optimal":
                decided[(*key, scheme)] = None
                continue
            split, weight_bits = int(row["split"]), scheme_bits.get(scheme, bits)
            rho_d, rho_s = _ratio(row["rho_device"]), _ratio(row["rho_server"])
            decided[(*key, scheme)] = (split, weight_bits, rho_d, rho_s)
            counts = (split, weight_bits, *decision_counts(model, split, rho_d, rho_s))
            if counts not in qualities:
                new.setdefault(counts, (split, weight_bits, rho_d, rho_s))
        if new:
            with single_thread():
                found_q = measure_decisions(
                    model,
                    list(new.values()),
                    evaluation.chunks,
                    functools.partial(_quality, evaluation, metric),
                    feature_bits=feature_bits,
                    output_vector=evaluation.output_vector,
                    sweeps=sweeps,
                )
            qualities.update(zip(new, found_q, strict=True))
        for key, scheme in wanted:
            decision = decided[(*key, scheme)]
            if decision is None:
                share = math.nan
            else:
                split, weight_bits, rho_d, rho_s = decision
                share = qualities[(split, weight_bits, *decision_counts(model, split, rho_d, rho_s))] / unpruned
            measured.setdefault((key[0], key[1], scheme), {})[key[2]] = share

    rows = []
    for (kind, j, scheme, level), answer in answers.items():
        axis = axes[kind]
        values = measured[(kind, j, scheme)]
        high = answer.high
        rows.append(
            {
                "model": name,
                "scheme": scheme,
                "level": level,
                "fixed_budget": kind,
                "fixed_value": float(fixed[kind][j]),
                "frontier_budget": KINDS[kind],
                "least_budget": float(axis[high]) if high is not None else math.nan,
                "bracket_low": float(axis[answer.low]) if answer.low is not None else math.nan,
                "bracket_high": float(axis[high]) if high is not None else math.nan,
                "status": answer.status,
                "non_monotone": answer.non_monotone,
                "quality": values[high] if high is not None else math.nan,
                "quality_metric": metric,
                "unpruned_quality": unpruned,
                "grid_step": float(axis[1] / axis[0]),
                "measured_points": len(values),
            }
        )
    frontiers = pd.DataFrame(rows, columns=list(FRONTIER_COLUMNS))
    order = {s: k for k, s in enumerate(schemes or [])}
    frontiers = frontiers.sort_values(
        ["fixed_budget", "fixed_value", "scheme", "level"],
        key=lambda c: c.map(order) if c.name == "scheme" else (-c if c.name == "level" else c),
    ).reset_index(drop=True)
    frontiers.attrs.update(solves=len(solved), deployed=len(qualities), rounds=rounds)
    point_rows = []
    for (kind, j, scheme), values in measured.items():
        for i, share in sorted(values.items()):
            latency, energy = budgets(kind, j, i)
            decision = decided[(kind, j, i, scheme)]
            point_rows.append(
                {
                    "model": name,
                    "fixed_budget": kind,
                    "fixed_value": float(fixed[kind][j]),
                    "latency_s": latency,
                    "energy_J": energy,
                    "scheme": scheme,
                    "status": "optimal" if decision is not None else "infeasible",
                    "split": decision[0] if decision is not None else pd.NA,
                    "rho_device": decision[2] if decision is not None else math.nan,
                    "rho_server": decision[3] if decision is not None else math.nan,
                    "quality": share,
                    "quality_metric": metric,
                }
            )
    points = pd.DataFrame(point_rows).sort_values(["fixed_budget", "fixed_value", "scheme", "latency_s", "energy_J"])
    points["split"] = points["split"].astype("Int64")
    return frontiers, points.reset_index(drop=True)


# --------------------------------------------------------------------------- the headline
def frontier_leaders(frontiers: pd.DataFrame, level: float, fixed_budget: str = "latency_s") -> pd.DataFrame:
    """Per model and fixed value: the scheme(s) reaching ``level`` at the least budget, ties where brackets overlap.

    A scheme ties the leader (least ``bracket_high``) when its bracket ``(bracket_low, bracket_high]`` overlaps the
    leader's (its ``bracket_low`` lies below the leader's ``bracket_high``; a missing low counts as 0).

    Parameters
    ----------
    frontiers : pandas.DataFrame
        Rows of :func:`model_frontiers` (:data:`FRONTIER_FILE`).
    level : float
        The quality level [1], one of the table's.
    fixed_budget : str
        ``"latency_s"`` (least energy at fixed latencies) or ``"energy_J"``.

    Returns
    -------
    pandas.DataFrame
        One row per (model, fixed value): ``leaders`` (schemes, comma-separated; empty when none reaches),
        ``least_budget`` and ``bracket_low`` of the leader [J or s], ``reached`` [count of schemes].

    References
    ----------
    docs/model.md, section 9.1.
    """
    if fixed_budget not in KINDS:
        raise ParameterError(f"fixed_budget: got {fixed_budget!r}; allowed one of {', '.join(KINDS)}")
    rows = frontiers[(frontiers["fixed_budget"] == fixed_budget) & np.isclose(frontiers["level"], level)]
    if rows.empty:
        raise ParameterError(f"level: got {level!r}; allowed one of the table's levels")
    out = []
    for (model, value), group in rows.groupby(["model", "fixed_value"], sort=False):
        reached = group[group["status"].isin([REACHED, REACHED_FIRST])]
        record = {"model": model, "fixed_value": value, "leaders": "", "least_budget": math.nan}
        record["bracket_low"], record["reached"] = math.nan, len(reached)
        if not reached.empty:
            best = reached.loc[reached["bracket_high"].idxmin()]
            ties = reached[reached["bracket_low"].fillna(0.0) < best["bracket_high"]]
            record["leaders"] = ", ".join(ties["scheme"])
            record["least_budget"], record["bracket_low"] = best["bracket_high"], best["bracket_low"]
        out.append(record)
    return pd.DataFrame(out)


def headline_sentences(frontiers: pd.DataFrame, level: float, fixed_budget: str = "latency_s") -> dict[str, str]:
    """One sentence per model: which scheme keeps ``level`` of the quality at the least cost (model.md 9.1).

    Parameters
    ----------
    frontiers : pandas.DataFrame
        Rows of :func:`model_frontiers` (:data:`FRONTIER_FILE`).
    level : float
        The quality level [1], one of the table's.
    fixed_budget : str
        ``"latency_s"`` (least energy at each fixed latency) or ``"energy_J"`` (least latency at each energy).

    Returns
    -------
    dict of str to str
        Model -> sentence, with budgets in s or J, leaders tied where their brackets overlap
        (:func:`frontier_leaders`), and the fixed budgets at which no scheme reaches the level.
    """
    leaders = frontier_leaders(frontiers, level, fixed_budget)
    fixed_unit, free_unit = ("s", "J") if fixed_budget == "latency_s" else ("J", "s")
    free_name = "energy" if fixed_budget == "latency_s" else "latency"
    fixed_name = "latency" if fixed_budget == "latency_s" else "energy"
    out = {}
    for model, group in leaders.groupby("model", sort=False):
        rows = frontiers[frontiers["model"] == model]
        metric, unpruned = rows["quality_metric"].iloc[0], rows["unpruned_quality"].iloc[0]
        parts, none = [], []
        for row in group.itertuples():
            if not row.leaders:
                none.append(f"{row.fixed_value:.3g} {fixed_unit}")
                continue
            low = "" if math.isnan(row.bracket_low) else f"{row.bracket_low:.3g} {free_unit} < "
            tie = " (tied: brackets overlap)" if "," in row.leaders else ""
            parts.append(
                f"at {fixed_name} {row.fixed_value:.3g} {fixed_unit}, least {free_name} "
                f"{low}E* <= {row.least_budget:.3g} {free_unit}: {row.leaders}{tie}".replace(
                    "E*", "E*" if free_name == "energy" else "T*"
                )
            )
        if none:
            parts.append(f"no scheme reaches it at {fixed_name} {', '.join(none)}")
        out[str(model)] = f"{model} ({metric}, {level:.0%} of the unpruned {unpruned:.3g}): " + "; ".join(parts) + "."
    return out
