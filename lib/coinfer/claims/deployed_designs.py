"""E1-E3, the artifact's own questions about the designs of notebook 06 deployed on the real weights
(model.md section 9, ``deployed_designs.csv`` of notebook 07).

They are marked ``"extension": True`` and their statements say they are not
claims of the paper; a data folder without ``deployed_designs.csv`` gets no E rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from coinfer.base.paths import read_csv
from coinfer.claims.verdicts import NEEDS_DATA
from coinfer.model.stats import (
    SHARE_METRICS,
    bootstrap_spearman,
    clopper_pearson,
    combine,
    judge,
    mcnemar_exact,
    paired_comparison,
)


@dataclass(frozen=True)
class ExtensionThresholds:
    """Criteria of the artifact's own questions E1-E3 on deployed designs (model.md section 9).

    Rewritten for issue 23 (paired tests on per-input outcomes, distinct decisions only, usable points only)
    and committed before any ``deployed_outcomes.csv`` existed; the previous criteria (a 0.01 noise margin on
    unpaired means over all pairs, a share of points for E3) are in the git history and README.
    """

    #: Usable point: a sweep point counts only where at least one compared design keeps at least this fraction of
    #: the unpruned model's task metric (``unpruned_task_metric``); elsewhere it is "no usable design", left out of
    #: every share and counted (issue 23 item 2).
    usable_fraction: float = 0.5
    #: Two-sided level of each paired comparison (``coinfer.model.stats.paired_comparison``: exact McNemar for 0/1
    #: outcomes on independent inputs, the paired bootstrap of the mean difference clustered by source otherwise).
    alpha: float = 0.05
    #: E1: per model, over the distinct (benchmark, usable point) pairs (identical decisions reported, not counted),
    #: the share of pairs NOT decided against the proposed design must reach this, judged on its Clopper-Pearson
    #: interval (model.md section 1.1); E1 holds when it does for every model with distinct pairs.
    e1_min_share: float = 0.9
    #: E2: per model, Spearman rank correlation between the objective and the measured distortion over the distinct
    #: decisions at usable points (each decision once), judged on its pairs-bootstrap interval.
    e2_min_spearman: float = 0.5
    #: E2: per model, share of pairs of distinct decisions at one usable sweep point that the objective orders as
    #: the measured distortion does (pairs tied in either left out), judged on its Clopper-Pearson interval; 0.5 is
    #: chance.
    e2_min_concordance: float = 0.6
    #: E3: level of the sign test (``coinfer.model.stats.mcnemar_exact``) on the distinct usable points the paired
    #: comparison of measured distortion decides for the rd_bound design or for the magnitude design. E3 holds when
    #: the sign test does not decide for the magnitude design; the better objective is named only where it decides.
    e3_alpha: float = 0.05


EXTENSION_THRESHOLDS = ExtensionThresholds()
#: The table the extensions read (notebook 07).
DEPLOYED_FILE = "deployed_designs.csv"
#: The rd_bound design and the magnitude design of notebook 06
#: (``coinfer.studies.joint_optimisation.MAGNITUDE_DESIGN``).
PROPOSED, MAGNITUDE_DESIGN = "proposed", "proposed_magnitude"
#: Extension figures and notebook (``coinfer.figures.deployed_designs``).
DEPLOYED_FIGURES = ["deployed_metric_sweep", "deployed_distortion_sweep", "deployed_bound_vs_measured"]
DEPLOYED_NOTEBOOK = "07_deployed_designs"


def _measured(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Feasible rows with a finite ``column``."""
    rows = table[(table["status"] == "optimal")]
    return rows[np.isfinite(rows[column].astype(float))]


#: Columns that name one deployed decision: two rows with equal values measure identically.
DECISION_COLUMNS = ("split", "pruned_device", "pruned_server", "bits")


def measured_intervals(rows: pd.DataFrame, column: str, count: str = "n_inputs") -> pd.DataFrame:
    """The 95 % interval of each row's measured ``column`` (a mean over held-out inputs), as ``low``, ``high``.

    The notebook's own ``{column}_ci95_low``/``_high`` columns (model.md
    section 1.1) when the table has them; otherwise, for a share-valued metric
    (:data:`SHARE_METRICS`), Clopper-Pearson from the value and ``count``
    inputs; otherwise none: ``low = high =`` the value, and ``missing`` is True.

    Parameters
    ----------
    rows : pandas.DataFrame
        Measured rows (``deployed_designs`` or ``size_study``), with ``column`` and, for a share metric, ``count``.
    column : str
        The measured column, e.g. ``task_metric`` (its name in ``task_metric_name``) or ``measured_distortion``.
    count : str, default "n_inputs"
        The column holding each row's number of held-out inputs [count].

    Returns
    -------
    pandas.DataFrame
        Indexed as ``rows``: ``low`` and ``high`` (in ``column``'s unit) and ``missing`` (no interval available).

    References
    ----------
    docs/model.md, section 1.1 (intervals and the inconclusive rule).
    """
    value = rows[column].astype(float)
    low_column, high_column = f"{column}_ci95_low", f"{column}_ci95_high"
    if low_column in rows.columns and rows[low_column].notna().any():
        return pd.DataFrame(
            {"low": rows[low_column].astype(float), "high": rows[high_column].astype(float), "missing": False},
            index=rows.index,
        )
    names = pd.Series(column, index=rows.index)
    if column == "task_metric":
        names = rows["task_metric_name"].astype(str) if "task_metric_name" in rows.columns else names
    binary = names.isin(SHARE_METRICS) & (count in rows.columns)
    low, high = value.copy(), value.copy()
    for i in rows.index[binary.to_numpy()]:
        trials = int(rows.at[i, count])
        low[i], high[i] = clopper_pearson(int(round(value[i] * trials)), trials)
    return pd.DataFrame({"low": low, "high": high, "missing": ~binary}, index=rows.index)


# --------------------------------------------------------------------------- paired comparisons (issue 23)
#: The table of per-input outcomes (notebook 07, ``coinfer.studies.deployed_designs.OUTCOMES_FILE``).
OUTCOMES_FILE = "deployed_outcomes.csv"
#: Per-input columns of ``deployed_outcomes.csv`` scored 0/1.
_BINARY_OUTCOMES = ("test_accuracy", "top1_agreement", "topic_accuracy")


def _decision(rows: pd.DataFrame) -> pd.Series:
    """One hashable id per row: ``(split, bits, pruned_device, pruned_server)`` as integers (no bits: -1)."""
    columns = [rows[c].astype(float).fillna(-1).astype(np.int64) for c in DECISION_COLUMNS]
    return pd.Series(list(zip(*columns, strict=True)), index=rows.index, dtype=object)


class PerInput:
    """The per-input outcomes of ``deployed_outcomes.csv``, indexed by (model, decision) (model.md section 9)."""

    def __init__(self, outcomes: pd.DataFrame) -> None:
        outcomes = outcomes.sort_values(["model", *DECISION_COLUMNS, "input"], kind="stable")
        self._rows: dict[tuple[str, tuple[int, ...]], pd.DataFrame] = {}
        for (model, *key), block in outcomes.groupby(["model", *DECISION_COLUMNS], sort=False, dropna=False):
            ids = tuple(-1 if pd.isna(v) else int(v) for v in key)
            self._rows[(str(model), ids)] = block.reset_index(drop=True)
        self._cache: dict[tuple, tuple[str, float, float, float]] = {}

    def scores(self, model: str, decision: tuple[int, ...], column: str) -> tuple[np.ndarray, np.ndarray]:
        """``(per-input values of column, source of each input)``, inputs in id order.

        Parameters
        ----------
        model : str
            The model.
        decision : tuple of int
            The decision's key (split [1] and pruned counts [count]).
        column : str
            The per-input column.

        Returns
        -------
        tuple of numpy.ndarray
            The values [column unit] and the source of each input.
        """
        block = self._rows.get((model, decision))
        if block is None:
            raise KeyError(f"deployed_outcomes.csv has no decision {decision} of {model}")
        return block[column].to_numpy(dtype=float), block["source"].astype(str).to_numpy()

    def compare(
        self,
        model: str,
        first: tuple[int, ...],
        second: tuple[int, ...],
        column: str,
        *,
        lower_is_better: bool,
        alpha: float,
    ) -> tuple[str, float, float, float]:
        """:func:`coinfer.model.stats.paired_comparison` of two decisions on their common inputs.

        ``"first"`` means the first decision is better. 0/1 columns on inputs that are each their own source (the
        digits) use the exact McNemar test; otherwise the paired bootstrap, clustered by source.

        Parameters
        ----------
        model : str
            The model.
        first, second : tuple of int
            The two decisions' keys.
        column : str
            The per-input column compared.
        lower_is_better : bool
            Whether a lower value is better.
        alpha : float
            Level of the test [1].

        Returns
        -------
        tuple of (str, float, float, float)
            ``(decision, mean difference, low, high)`` of :func:`coinfer.model.stats.paired_comparison`: ``"first"``,
            ``"second"`` or a tie, and the difference ``first - second`` with its interval [column unit].
        """
        key = (model, first, second, column, lower_is_better, alpha)
        if key not in self._cache:
            a, sources = self.scores(model, first, column)
            b, _ = self.scores(model, second, column)
            if lower_is_better:
                a, b = -a, -b
            binary = column in _BINARY_OUTCOMES or bool(
                column == "task_metric" and np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()
            )
            clusters = None if len(set(sources)) == len(sources) else sources
            self._cache[key] = paired_comparison(a, b, binary=binary, clusters=clusters, alpha=alpha)
        return self._cache[key]


def _quality(rows: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """The task quality judged for usability and the unpruned model's (``column`` or the task metric)."""
    if column == "topic_accuracy":
        return rows["topic_accuracy"].astype(float), rows["unpruned_topic_accuracy"].astype(float)
    return rows["task_metric"].astype(float), rows["unpruned_task_metric"].astype(float)


def usable_points(
    rows: pd.DataFrame, t: ExtensionThresholds = EXTENSION_THRESHOLDS, *, column: str = "task_metric"
) -> pd.DataFrame:
    """Per (model, sweep, point): whether any of ``rows``' measured designs is usable (issue 23 item 2).

    A design is usable when its task quality is at least ``t.usable_fraction`` of the unpruned model's; a point
    where none of the compared designs (the rows given) is usable is "no usable design".

    Parameters
    ----------
    rows : pandas.DataFrame
        ``deployed_designs.csv`` rows of the compared schemes.
    t : ExtensionThresholds
        ``usable_fraction`` [1].
    column : str
        ``task_metric`` or ``topic_accuracy`` (MiniLM's second metric), with its unpruned value.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``sweep``, ``point`` and ``usable`` (bool), one row per point with a measured design.

    References
    ----------
    docs/model.md, section 9.
    """
    rows = _measured(rows, column)
    value, unpruned = _quality(rows, column)
    ok = rows.assign(ok=(value >= t.usable_fraction * unpruned).to_numpy())
    return (
        ok.groupby(["model", "sweep", "point"], as_index=False, sort=False)["ok"].any().rename(columns={"ok": "usable"})
    )


def _pairs(table: pd.DataFrame, column: str, first: str, second: str | None, t: ExtensionThresholds) -> pd.DataFrame:
    """``first``'s row beside each other scheme's (``second``, or every benchmark) at one point, with usability.

    Columns: model, sweep, point, scheme, ``mine`` / ``theirs`` (the decision ids), ``mine_value`` /
    ``theirs_value`` (the row means of ``column``), ``same`` (one decision) and ``usable`` (some compared design at
    the point keeps half the unpruned quality, judged on ``column``'s quality).
    """
    rows = _measured(table, column)
    rows = rows.assign(decision=_decision(rows))
    if second is None:
        compared = rows[(rows["scheme"] == first) | ~rows["scheme"].astype(str).str.startswith("proposed")]
    else:
        compared = rows[rows["scheme"].isin([first, second])]
    keys = ["model", "sweep", "point"]
    usable = usable_points(compared, t, column="topic_accuracy" if column == "topic_accuracy" else "task_metric")
    mine = compared[compared["scheme"] == first][[*keys, "decision", column]]
    theirs = compared[compared["scheme"] != first][[*keys, "scheme", "decision", column]]
    pairs = mine.merge(theirs, on=keys, suffixes=("_mine", "_theirs")).merge(usable, on=keys, how="left")
    return pd.DataFrame(
        {
            **{k: pairs[k] for k in [*keys, "scheme"]},
            "mine": pairs["decision_mine"],
            "theirs": pairs["decision_theirs"],
            "mine_value": pairs[f"{column}_mine"].astype(float),
            "theirs_value": pairs[f"{column}_theirs"].astype(float),
            "same": [a == b for a, b in zip(pairs["decision_mine"], pairs["decision_theirs"], strict=True)],
            "usable": pairs["usable"].fillna(False).astype(bool),
        }
    )


def judged_pairs(
    table: pd.DataFrame,
    outcomes: pd.DataFrame | PerInput,
    t: ExtensionThresholds = EXTENSION_THRESHOLDS,
    *,
    column: str = "task_metric",
    second: str | None = None,
    lower_is_better: bool = False,
) -> pd.DataFrame:
    """Every (proposed, other scheme) pair at a point, each distinct usable one judged by a paired test.

    Parameters
    ----------
    table : pandas.DataFrame
        ``deployed_designs.csv``.
    outcomes : pandas.DataFrame or PerInput
        ``deployed_outcomes.csv`` (or it indexed).
    t : ExtensionThresholds
        ``usable_fraction`` and ``alpha``.
    column : str
        The per-input column compared (``task_metric``, ``topic_accuracy``, ``measured_distortion``).
    second : str, optional
        The one other scheme (E3: ``proposed_magnitude``); default every benchmark (E1).
    lower_is_better : bool
        True for a distortion.

    Returns
    -------
    pandas.DataFrame
        The pairs of :func:`_pairs` with ``outcome``: ``"identical"`` (one decision), ``"unusable"`` (no usable
        design at the point), else ``"win"`` / ``"loss"`` / ``"tie"`` for the proposed design, and the paired
        ``difference`` (proposed minus other; for a distortion, other minus proposed) with ``low`` / ``high`` [unit of
        ``column``].

    References
    ----------
    docs/model.md, sections 1.1 and 9.
    """
    per_input = outcomes if isinstance(outcomes, PerInput) else PerInput(outcomes)
    pairs = _pairs(table, column, PROPOSED, second, t)
    found = []
    for row in pairs.itertuples():
        if row.same:
            found.append(("identical", 0.0, 0.0, 0.0))
        elif not row.usable:
            found.append(("unusable", np.nan, np.nan, np.nan))
        else:
            decision, mean, low, high = per_input.compare(
                str(row.model), row.mine, row.theirs, column, lower_is_better=lower_is_better, alpha=t.alpha
            )
            found.append(({"first": "win", "second": "loss"}.get(decision, "tie"), mean, low, high))
    outcome = pd.DataFrame(found, columns=["outcome", "difference", "low", "high"], index=pairs.index)
    return pd.concat([pairs, outcome], axis=1)


def _counts(pairs: pd.DataFrame) -> dict[str, Any]:
    """Wins, losses, ties of the distinct usable pairs, the identical ones and the points left out."""
    outcome = pairs["outcome"]
    # a point with no usable design counts once, whether its pairs are distinct or identical decisions
    unusable = pairs.loc[~pairs["usable"].astype(bool), ["model", "sweep", "point"]].drop_duplicates()
    return {
        "pairs_distinct": int(outcome.isin(["win", "loss", "tie"]).sum()),
        "wins": int((outcome == "win").sum()),
        "losses": int((outcome == "loss").sum()),
        "ties": int((outcome == "tie").sum()),
        "pairs_identical": int((outcome == "identical").sum()),
        "pairs_unusable": int((outcome == "unusable").sum()),
        "points_no_usable_design": int(len(unusable)),
    }


def e1_verdict(
    table: pd.DataFrame,
    outcomes: pd.DataFrame | PerInput,
    t: ExtensionThresholds = EXTENSION_THRESHOLDS,
    *,
    metric: Mapping[str, str] | None = None,
) -> tuple[dict, bool]:
    """``(measured, holds)`` of E1: per model, the proposed design against each benchmark on the same inputs.

    At every sweep point where both are measured, a pair of identical decisions is reported, not counted; a point
    where no compared design keeps half the unpruned quality is left out and counted; every other pair is judged by
    :func:`coinfer.model.stats.paired_comparison` (win, loss or tie for the proposed design). Per model the share
    of distinct pairs not lost, with its Clopper-Pearson interval, is judged against ``t.e1_min_share``.

    Parameters
    ----------
    table, outcomes : pandas.DataFrame
        ``deployed_designs.csv`` and ``deployed_outcomes.csv``.
    t : ExtensionThresholds
        ``e1_min_share`` [1], ``usable_fraction`` [1], ``alpha`` [1].
    metric : mapping of str to str, optional
        Model -> the column judged (default ``task_metric``; higher is better).

    Returns
    -------
    measured : dict
        ``by_model`` (the counts of :func:`_counts`, ``share_not_lost`` [1] with ``_ci95``, ``verdict``),
        ``by_benchmark`` counts, the counts over all models and ``verdict``.
    holds : bool
        Every model with distinct pairs reaches ``t.e1_min_share`` at its point share (False if none has one).

    References
    ----------
    docs/model.md, sections 1.1 and 9.
    """
    metric = dict(metric or {})
    per_input = outcomes if isinstance(outcomes, PerInput) else PerInput(outcomes)
    frames = [
        judged_pairs(rows, per_input, t, column=metric.get(str(model), "task_metric"))
        for model, rows in table.groupby("model", sort=False)
    ]
    pairs = pd.concat(frames, ignore_index=True) if frames else judged_pairs(table, per_input, t)
    by_model: dict[str, dict[str, Any]] = {}
    for model, rows in pairs.groupby("model", sort=False):
        counts = _counts(rows)
        n, kept = counts["pairs_distinct"], counts["wins"] + counts["ties"]
        interval = list(clopper_pearson(kept, n)) if n else [float("nan"), float("nan")]
        by_model[str(model)] = {
            **counts,
            "share_not_lost": kept / n if n else float("nan"),
            "share_not_lost_ci95": interval,
            "verdict": judge((interval[0], interval[1]), t.e1_min_share) if n else NEEDS_DATA,
        }
    decided = [m for m in by_model.values() if m["pairs_distinct"]]
    measured = {
        **_counts(pairs),
        "by_model": by_model,
        "by_benchmark": {str(s): _counts(rows) for s, rows in pairs.groupby("scheme", sort=False)},
        "verdict": combine(m["verdict"] for m in decided) if decided else NEEDS_DATA,
    }
    return measured, bool(decided) and all(m["share_not_lost"] >= t.e1_min_share for m in decided)


def _concordance(rows: pd.DataFrame, measure: str, sign: float) -> tuple[int, int]:
    """Pairs of distinct decisions at one point ordered alike by objective and ``measure`` (ties left out)."""
    concordant = total = 0
    for _, point in rows.groupby(["sweep", "point"], sort=False):
        point = point.drop_duplicates("decision")
        objective = point["objective"].to_numpy(dtype=float)
        value = sign * point[measure].to_numpy(dtype=float)
        i, j = np.triu_indices(len(point), k=1)
        a, b = np.sign(objective[i] - objective[j]), np.sign(value[i] - value[j])
        counted = (a != 0) & (b != 0)
        total += int(counted.sum())
        concordant += int((a[counted] == b[counted]).sum())
    return concordant, total


def e2_verdict(
    table: pd.DataFrame, t: ExtensionThresholds = EXTENSION_THRESHOLDS, *, measure: str = "measured_distortion"
) -> tuple[dict, bool]:
    """``(measured, holds)`` of E2: per model, does the objective rank distinct decisions as measurement does?

    Over the usable points (:func:`usable_points` over every measured scheme), each distinct decision once:
    Spearman between the objective and ``measure`` with its pairs-bootstrap interval; and within each usable point,
    the share of pairs of distinct decisions the two order alike (Clopper-Pearson interval). ``measure`` is
    ``measured_distortion`` (lower is better, like the objective) or a task metric (its negative is ranked).

    Parameters
    ----------
    table : pandas.DataFrame
        ``deployed_designs.csv``.
    t : ExtensionThresholds
        ``e2_min_spearman`` [1], ``e2_min_concordance`` [1], ``usable_fraction`` [1].
    measure : str
        The measured column ranked against the objective.

    Returns
    -------
    measured : dict
        ``by_model``: ``decisions`` [count], ``spearman`` [1] with ``_ci95``, ``concordant`` / ``pairs_within_points``
        [count], ``concordance`` [1] with ``_ci95``, ``points_no_usable_design`` [count], ``verdict``; and
        ``verdict``.
    holds : bool
        Every model with a finite correlation reaches both thresholds at its point estimates.

    References
    ----------
    docs/model.md, sections 1.1 and 9.
    """
    sign = 1.0 if "distortion" in measure else -1.0
    per_model: dict[str, dict[str, Any]] = {}
    for model, rows in table.groupby("model", sort=False):
        rows = _measured(rows, measure)
        rows = rows[np.isfinite(rows["objective"].astype(float))]
        usable = usable_points(rows, t)
        rows = rows.merge(usable, on=["model", "sweep", "point"])
        left_out = int((~usable["usable"]).sum())
        rows = rows[rows["usable"]].assign(decision=lambda r: _decision(r))
        distinct = rows.drop_duplicates("decision")
        objective, values = distinct["objective"].astype(float), sign * distinct[measure].astype(float)
        correlation, interval = float("nan"), [float("nan"), float("nan")]
        if len(distinct) >= 3 and objective.nunique() > 1 and values.nunique() > 1:
            correlation = float(spearmanr(objective, values).statistic)
            interval = list(bootstrap_spearman(objective, values))
        concordant, total = _concordance(rows, measure, sign)
        share = concordant / total if total else float("nan")
        share_interval = list(clopper_pearson(concordant, total)) if total else [float("nan"), float("nan")]
        verdicts = []
        if np.isfinite(correlation):
            verdicts.append(judge((interval[0], interval[1]), t.e2_min_spearman))
        if total:
            verdicts.append(judge((share_interval[0], share_interval[1]), t.e2_min_concordance))
        per_model[str(model)] = {
            "decisions": int(len(distinct)),
            "rows": int(len(rows)),
            "spearman": correlation,
            "spearman_ci95": interval,
            "concordant": concordant,
            "pairs_within_points": total,
            "concordance": share,
            "concordance_ci95": share_interval,
            "points_no_usable_design": left_out,
            "verdict": combine(verdicts) if verdicts else NEEDS_DATA,
        }
    finite = [m for m in per_model.values() if np.isfinite(m["spearman"])]
    holds = bool(finite) and all(
        m["spearman"] >= t.e2_min_spearman and not m["concordance"] < t.e2_min_concordance for m in finite
    )
    verdict = combine(m["verdict"] for m in finite) if finite else NEEDS_DATA
    return {"by_model": per_model, "verdict": verdict}, holds


def e3_verdict(
    table: pd.DataFrame,
    outcomes: pd.DataFrame | PerInput,
    t: ExtensionThresholds = EXTENSION_THRESHOLDS,
    *,
    measure: str = "measured_distortion",
) -> tuple[dict, bool]:
    """``(measured, holds)`` of E3: the rd_bound design (``proposed``) against the magnitude design, sign-tested.

    At each usable point where the two deploy distinct decisions, :func:`coinfer.model.stats.paired_comparison` of
    ``measure`` on the same inputs gives a win for either or a tie; the exact sign test
    (:func:`coinfer.model.stats.mcnemar_exact`) on the two win counts names the better objective, or neither. E3
    holds unless that test decides for the magnitude objective; without a distinct usable point it needs data.

    Parameters
    ----------
    table, outcomes : pandas.DataFrame
        ``deployed_designs.csv`` and ``deployed_outcomes.csv``.
    t : ExtensionThresholds
        ``e3_alpha`` [1], ``alpha`` [1], ``usable_fraction`` [1].
    measure : str
        ``measured_distortion`` (lower is better) or a task metric (higher is better).

    Returns
    -------
    measured : dict
        ``points_rd_bound_better``, ``points_magnitude_better``, ``points_tied`` (distinct usable points),
        ``points_identical``, ``points_no_usable_design``, ``sign_test_p`` [1], ``better_objective``
        (``rd_bound``, ``magnitude`` or ``neither``), ``by_model`` counts and ``verdict``.
    holds : bool
        A distinct usable point exists and the sign test does not decide for the magnitude objective.

    References
    ----------
    docs/model.md, sections 1.1 and 9.
    """
    pairs = judged_pairs(
        table, outcomes, t, column=measure, second=MAGNITUDE_DESIGN, lower_is_better="distortion" in measure
    )
    counts = _counts(pairs)
    wins, losses = counts["wins"], counts["losses"]
    p_value = mcnemar_exact(wins, losses)
    better = "neither"
    if p_value < t.e3_alpha:
        better = "rd_bound" if wins > losses else "magnitude"
    testable = counts["pairs_distinct"] > 0
    verdict = NEEDS_DATA if not testable else ("does not hold" if better == "magnitude" else "holds")
    measured = {
        "points_rd_bound_better": wins,
        "points_magnitude_better": losses,
        "points_tied": counts["ties"],
        "points_distinct": counts["pairs_distinct"],
        "points_identical": counts["pairs_identical"],
        "points_no_usable_design": counts["points_no_usable_design"],
        "sign_test_p": p_value,
        "better_objective": better,
        "by_model": {str(m): _counts(rows) for m, rows in pairs.groupby("model", sort=False)},
        "verdict": verdict,
    }
    return measured, testable and better != "magnitude"


def _extension(claim_id: str, criterion: str, measured: dict, holds: bool, robustness: list[dict]) -> dict:
    return {
        "id": claim_id,
        "extension": True,
        "criterion": criterion,
        "measured": measured,
        "holds": holds,
        "verdict": measured["verdict"],
        "robustness": robustness,
        "figures": list(DEPLOYED_FIGURES),
        "notebooks": [DEPLOYED_NOTEBOOK],
    }


def _reading(name: str, holds: bool, measured: dict) -> dict:
    """A robustness entry whose measured numbers carry their own judged ``verdict`` (model.md section 1.1)."""
    return {"reading": name, "holds": holds, "verdict": measured["verdict"], "measured": measured}


def _tables() -> tuple[pd.DataFrame, PerInput]:
    """``deployed_designs.csv`` and the indexed ``deployed_outcomes.csv`` of ``data/``."""
    return read_csv(DEPLOYED_FILE), PerInput(read_csv(OUTCOMES_FILE))


def claim_e1(t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> dict:
    """E1 from ``deployed_designs.csv`` and ``deployed_outcomes.csv`` (notebook 07): proposed against benchmarks.

    Parameters
    ----------
    t : ExtensionThresholds
        The thresholds of E1-E3.

    Returns
    -------
    dict
        The extension: ``id``, ``extension`` (True), ``criterion``, ``measured`` (:func:`e1_verdict`), ``holds``,
        ``verdict``, ``robustness`` (MiniLM judged by topic accuracy), ``figures``, ``notebooks`` and
        ``operating_regime`` (:func:`operating_regime_lines`).

    References
    ----------
    docs/model.md, section 9.
    """
    table, per_input = _tables()
    measured, holds = e1_verdict(table, per_input, t)
    topic, topic_holds = e1_verdict(table, per_input, t, metric={"minilm": "topic_accuracy"})
    claim = _extension(
        "E1",
        f"per model, over the distinct (benchmark, sweep point) pairs (identical decisions reported, not counted) at "
        f"usable points (some compared design keeps >= {t.usable_fraction:g} of the unpruned task metric), the "
        f"proposed design is not decided worse than the benchmark by a paired test on the same inputs (level "
        f"{t.alpha:g}, clustered by photo or topic) at >= {t.e1_min_share:.0%} of the pairs, for every model",
        measured,
        holds,
        [_reading("MiniLM judged by topic accuracy", topic_holds, topic)],
    )
    claim["operating_regime"] = operating_regime_lines(table, t)
    return claim


def claim_e2(t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> dict:
    """E2 from ``deployed_designs.csv``: does the bound rank distinct decisions as measurement does?

    Parameters
    ----------
    t : ExtensionThresholds
        The thresholds of E1-E3.

    Returns
    -------
    dict
        The extension as :func:`claim_e1`'s, ``measured`` from :func:`e2_verdict`; its reading ranks by task metric.

    References
    ----------
    docs/model.md, section 9.
    """
    table = read_csv(DEPLOYED_FILE)
    measured, holds = e2_verdict(table, t)
    by_metric, metric_holds = e2_verdict(table, t, measure="task_metric")
    return _extension(
        "E2",
        f"per model, over the distinct decisions at usable points, the Spearman rank correlation between the "
        f"objective D_LB and the measured output distortion is >= {t.e2_min_spearman:g}, and within each usable "
        f"sweep point the objective orders >= {t.e2_min_concordance:.0%} of the pairs of distinct decisions as the "
        "measured distortion does, for every model",
        measured,
        holds,
        [_reading("E2 ranked by task metric, not distortion", metric_holds, by_metric)],
    )


def claim_e3(t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> dict:
    """E3 from ``deployed_designs.csv`` and ``deployed_outcomes.csv``: rd_bound against the magnitude objective.

    Parameters
    ----------
    t : ExtensionThresholds
        The thresholds of E1-E3.

    Returns
    -------
    dict
        The extension as :func:`claim_e1`'s, ``measured`` from :func:`e3_verdict`; its reading compares by task
        metric.

    References
    ----------
    docs/model.md, section 9.
    """
    table, per_input = _tables()
    measured, holds = e3_verdict(table, per_input, t)
    by_metric, metric_holds = e3_verdict(table, per_input, t, measure="task_metric")
    return _extension(
        "E3",
        f"at the usable points where the design minimising D_LB (proposed) and the design minimising D_mag "
        f"(proposed_magnitude) deploy distinct decisions, each point is a win, a loss or a tie by a paired test of "
        f"measured output distortion (level {t.alpha:g}); the exact sign test on wins and losses (level "
        f"{t.e3_alpha:g}) does not decide for D_mag; the better objective is named only where the sign test decides",
        measured,
        holds,
        [_reading("E3 compared by task metric, not distortion", metric_holds, by_metric)],
    )


#: Names of the task metrics in the operating-regime sentences.
_METRIC_WORDS = {
    "cosine_similarity": "cosine similarity",
    "top1_agreement": "top-1 agreement",
    "test_accuracy": "accuracy",
}
#: The sweeps of notebook 06 that hold each model's default budgets (T0, E0) and vary the link (model.md 7.3).
DEFAULT_BUDGET_SWEEPS = ("bandwidth", "distance")
#: The sweeps that vary the budgets.
BUDGET_SWEEPS = ("latency_budget", "energy_budget")


def operating_regime_lines(table: pd.DataFrame, t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> list[str]:
    """One sentence per model: what the proposed design keeps of the unpruned task metric (issue 23 item 5).

    From ``deployed_designs.csv`` alone: the proposed design's task metric over the sweeps at the default budgets
    (bandwidth and distance, :data:`DEFAULT_BUDGET_SWEEPS`), and at how many points of the budget sweeps it keeps at
    least ``t.usable_fraction`` of the unpruned metric.

    Parameters
    ----------
    table : pandas.DataFrame
        ``deployed_designs.csv``.
    t : ExtensionThresholds
        ``usable_fraction`` [1].

    Returns
    -------
    list of str
        One sentence per model with a measured proposed design, in table order.

    References
    ----------
    docs/model.md, sections 7.3 and 9.
    """
    lines = []
    rows = _measured(table[table["scheme"] == PROPOSED], "task_metric")
    for model, found in rows.groupby("model", sort=False):
        name = str(found["task_metric_name"].iloc[0])
        word = _METRIC_WORDS.get(name, name)
        unpruned = float(found["unpruned_task_metric"].iloc[0])
        default = found[found["sweep"].isin(DEFAULT_BUDGET_SWEEPS)]["task_metric"].astype(float)
        budget = found[found["sweep"].isin(BUDGET_SWEEPS)]
        usable = int((budget["task_metric"].astype(float) >= t.usable_fraction * unpruned).sum())
        if len(default):
            low, high = float(default.min()), float(default.max())
            kept = f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"
            start = f"{model}: at the default budgets the proposed design keeps {word} {kept} (unpruned {unpruned:.2f})"
        else:
            start = f"{model}: no point at the default budgets was measured (unpruned {word} {unpruned:.2f})"
        lines.append(
            f"{start}; over the latency and energy budget sweeps it keeps at least {t.usable_fraction:.0%} of the "
            f"unpruned {word} at {usable} of {len(budget)} feasible points."
        )
    return lines


#: The extensions, evaluated when ``data/deployed_designs.csv`` exists (an older data folder has none).
EXTENSIONS: dict[str, Callable[[ExtensionThresholds], dict]] = {"E1": claim_e1, "E2": claim_e2, "E3": claim_e3}
