"""E1-E3, the artifact's own questions about the designs of notebook 06 deployed on the real weights
(model.md section 9, ``deployed_designs.csv`` of notebook 07).

They are marked ``"extension": True`` and their statements say they are not
claims of the paper; a data folder without ``deployed_designs.csv`` gets no E rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from coinfer.base.paths import read_csv
from coinfer.model.stats import SHARE_METRICS, bootstrap_spearman, clopper_pearson, combine, decided_bracket, judge


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
    #: Previous criteria, read by the previous verdict functions until they are replaced (next commit).
    e1_margin: float = 0.01
    e3_min_share: float = 0.5
    e3_tolerance: float = 1e-9


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


def _paired(table: pd.DataFrame, column: str, first: str, second: str | None = None) -> pd.DataFrame:
    """``column`` of scheme ``first`` beside each other scheme's (or ``second``'s) at the same (model, sweep, point).

    Columns: model, sweep, point, scheme (the other one), ``mine``, ``theirs``,
    their intervals (``mine_low`` ...; :func:`measured_intervals`), ``same``
    (both rows are one decision, so they measure identically) and
    ``interval_missing``; only pairs where both are measured.
    """
    rows = _measured(table, column)
    bounds = measured_intervals(rows, column)
    rows = rows.assign(value=rows[column], low=bounds["low"], high=bounds["high"], missing=bounds["missing"])
    decision = [c for c in DECISION_COLUMNS if c in rows.columns]
    rows = rows.assign(
        decision=rows[decision].astype(str).agg("/".join, axis=1) if decision else rows.index.astype(str)
    )
    keys = ["model", "sweep", "point"]
    carried = ["value", "low", "high", "missing", "decision"]
    mine = rows[rows["scheme"] == first][[*keys, *carried]]
    others = rows[~rows["scheme"].astype(str).str.startswith("proposed")] if second is None else rows
    if second is not None:
        others = others[others["scheme"] == second]
    theirs = others[[*keys, "scheme", *carried]]
    pairs = mine.merge(theirs, on=keys, suffixes=("_mine", "_theirs"))
    return pd.DataFrame(
        {
            **{k: pairs[k] for k in [*keys, "scheme"]},
            "mine": pairs["value_mine"],
            "theirs": pairs["value_theirs"],
            "mine_low": pairs["low_mine"],
            "mine_high": pairs["high_mine"],
            "theirs_low": pairs["low_theirs"],
            "theirs_high": pairs["high_theirs"],
            "same": pairs["decision_mine"] == pairs["decision_theirs"],
            "interval_missing": pairs["missing_mine"] | pairs["missing_theirs"],
        }
    )


def _bracket(ok: pd.Series, decided_ok: pd.Series, decided_not: pd.Series) -> dict[str, Any]:
    """Counts of comparisons decided either way by their intervals, and the bracket of the share (section 1.1)."""
    undecided = ~(decided_ok | decided_not)
    return {
        "share": float(ok.mean()) if len(ok) else float("nan"),
        "share_ci95": list(decided_bracket(int(decided_ok.sum()), int(undecided.sum()), len(ok))),
        "undecided": int(undecided.sum()),
    }


def _higher_is_better(pairs: pd.DataFrame, margin: float) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``mine >= theirs - margin``: its point outcome, and where the two intervals decide it for and against."""
    ok = pairs["mine"] >= pairs["theirs"] - margin
    decided_ok = pairs["same"] | (pairs["mine_low"] >= pairs["theirs_high"] - margin)
    decided_not = ~pairs["same"] & (pairs["mine_high"] < pairs["theirs_low"] - margin)
    return ok, decided_ok, decided_not


def e1_verdict(
    table: pd.DataFrame, t: ExtensionThresholds = EXTENSION_THRESHOLDS, *, metric: Mapping[str, str] | None = None
) -> tuple[dict, bool]:
    """``(measured, holds)`` of E1 on a ``deployed_designs`` table.

    Per (model, sweep, point), the proposed design's metric is compared with each benchmark's where both are
    measured; it counts as at least as good when it is no more than ``t.e1_margin`` below. Each pair's comparison
    is also judged on the two designs' intervals (model.md section 1.1): ``..._ci95`` is the bracket of the share,
    ``verdict`` the rule applied to it.

    Parameters
    ----------
    table : pandas.DataFrame
        ``deployed_designs.csv`` rows (model, sweep, point, scheme, status, the measured columns).
    t : ExtensionThresholds
        The thresholds (``e1_margin`` in the metric's unit, ``e1_min_share`` [-]).
    metric : mapping of str to str, optional
        Model -> the column judged (default ``task_metric``; higher is better for every metric used).

    Returns
    -------
    measured : dict
        ``pairs`` [count], ``share_at_least_as_good`` [-] with its ``_ci95`` bracket, ``pairs_undecided``,
        ``pairs_worse``, ``largest_shortfall`` (metric units), ``models_without_metric_interval``, the same summary
        ``by_model`` and ``by_benchmark``, and ``verdict``.
    holds : bool
        Whether the point share reaches ``t.e1_min_share`` (False without pairs).

    References
    ----------
    docs/model.md, sections 1.1 and 9 (closing the loop: deployed designs).
    """
    metric = dict(metric or {})
    pairs = []
    for model, rows in table.groupby("model", sort=False):
        column = metric.get(str(model), "task_metric")
        pairs.append(_paired(rows, column, PROPOSED).assign(column=column))
    joined = pd.concat(pairs, ignore_index=True) if pairs else _paired(table.iloc[:0], "task_metric", PROPOSED)
    ok, decided_ok, decided_not = _higher_is_better(joined, t.e1_margin)
    joined["ok"] = ok

    def summary(keep: pd.Series) -> dict[str, Any]:
        found = _bracket(ok[keep], decided_ok[keep], decided_not[keep])
        return {
            "pairs": int(keep.sum()),
            "share_at_least_as_good": found["share"],
            "share_at_least_as_good_ci95": found["share_ci95"],
            "pairs_undecided": found["undecided"],
        }

    overall = summary(pd.Series(True, index=joined.index))
    measured = {
        **overall,
        "pairs_worse": int((~joined["ok"]).sum()),
        "largest_shortfall": float((joined["theirs"] - joined["mine"]).max()) if len(joined) else float("nan"),
        "models_without_metric_interval": sorted(
            str(m) for m in joined.loc[joined["interval_missing"], "model"].unique()
        ),
        "by_model": {str(m): summary(joined["model"] == m) for m in joined["model"].unique()},
        "by_benchmark": {str(s): summary(joined["scheme"] == s) for s in joined["scheme"].unique()},
        "verdict": judge(tuple(overall["share_at_least_as_good_ci95"]), t.e1_min_share)
        if len(joined)
        else "does not hold",
    }
    return measured, bool(len(joined) and overall["share_at_least_as_good"] >= t.e1_min_share)


def e2_verdict(
    table: pd.DataFrame, t: ExtensionThresholds = EXTENSION_THRESHOLDS, *, measure: str = "measured_distortion"
) -> tuple[dict, bool]:
    """``(measured, holds)`` of E2: per model, Spearman of objective vs ``measure`` over feasible (scheme, point).

    ``measure`` is ``measured_distortion`` (lower is better, like the
    objective) or a task metric column (higher is better: its negative is
    ranked). Each correlation gets a seeded pairs-bootstrap interval
    (``spearman_ci95``), judged against the threshold (model.md section 1.1).
    A model with fewer than 3 pairs or constant values has a NaN correlation and is left out of the verdict.

    Parameters
    ----------
    table : pandas.DataFrame
        ``deployed_designs.csv`` rows (model, scheme, status, ``objective``, ``measure``).
    t : ExtensionThresholds
        The thresholds (``e2_min_spearman`` [-]).
    measure : str, default "measured_distortion"
        The measured column ranked against the objective.

    Returns
    -------
    measured : dict
        ``by_model`` (``pairs`` [count], ``spearman`` [-], ``spearman_ci95`` [-]) and the combined ``verdict``.
    holds : bool
        Whether every model with a finite correlation reaches ``t.e2_min_spearman`` (False if none has one).

    References
    ----------
    docs/model.md, sections 1.1 and 9.
    """
    per_model: dict[str, dict[str, Any]] = {}
    for model, rows in table.groupby("model", sort=False):
        rows = _measured(rows, measure)
        rows = rows[np.isfinite(rows["objective"].astype(float))]
        values = rows[measure].astype(float) * (1.0 if "distortion" in measure else -1.0)
        correlation, interval = float("nan"), [float("nan"), float("nan")]
        if len(rows) >= 3 and rows["objective"].nunique() > 1 and values.nunique() > 1:
            correlation = float(spearmanr(rows["objective"].astype(float), values).statistic)
            interval = list(bootstrap_spearman(rows["objective"].astype(float), values))
        per_model[str(model)] = {"pairs": int(len(rows)), "spearman": correlation, "spearman_ci95": interval}
    finite = [m for m in per_model.values() if np.isfinite(m["spearman"])]
    holds = bool(finite) and all(m["spearman"] >= t.e2_min_spearman for m in finite)
    verdict = combine(judge(tuple(m["spearman_ci95"]), t.e2_min_spearman) for m in finite)
    return {"by_model": per_model, "verdict": verdict}, holds


def e3_verdict(
    table: pd.DataFrame, t: ExtensionThresholds = EXTENSION_THRESHOLDS, *, measure: str = "measured_distortion"
) -> tuple[dict, bool]:
    """``(measured, holds)`` of E3: the rd_bound design (``proposed``) against the magnitude design, per point.

    With ``measure="measured_distortion"`` lower is better (ties within
    ``e3_tolerance`` relative); with a task metric higher is better (ties
    within ``e1_margin``). Each point's comparison is also judged on the two
    designs' intervals (model.md section 1.1), giving the bracket
    ``share_rd_bound_not_worse_ci95`` and ``verdict``.

    Parameters
    ----------
    table : pandas.DataFrame
        ``deployed_designs.csv`` rows with the ``proposed`` and ``proposed_magnitude`` schemes.
    t : ExtensionThresholds
        The thresholds (``e3_min_share`` [-], ``e3_tolerance`` [-], ``e1_margin`` in the metric's unit).
    measure : str, default "measured_distortion"
        The measured column compared.

    Returns
    -------
    measured : dict
        ``points`` [count], ``share_rd_bound_not_worse`` [-] with its ``_ci95`` bracket, ``points_undecided``,
        ``share_magnitude_not_worse``, the points where either design is strictly better, ``better_objective``
        (``rd_bound``, ``magnitude`` or ``tie``), the share per model, ``models_without_interval`` and ``verdict``.
    holds : bool
        Whether the point share reaches ``t.e3_min_share`` (False without points).

    References
    ----------
    docs/model.md, sections 1.1 and 9.
    """
    pairs = _paired(table, measure, PROPOSED, MAGNITUDE_DESIGN)
    mine, theirs = pairs["mine"].astype(float), pairs["theirs"].astype(float)
    if "distortion" in measure:
        relative = 1 + t.e3_tolerance
        bound_ok = mine <= theirs * relative + 1e-15
        magnitude_ok = theirs <= mine * relative + 1e-15
        decided_ok = pairs["same"] | (pairs["mine_high"] <= pairs["theirs_low"] * relative + 1e-15)
        decided_not = ~pairs["same"] & (pairs["mine_low"] > pairs["theirs_high"] * relative + 1e-15)
    else:
        bound_ok, decided_ok, decided_not = _higher_is_better(pairs, t.e1_margin)
        magnitude_ok = theirs >= mine - t.e1_margin
    found = _bracket(bound_ok, decided_ok, decided_not)
    share_magnitude = float(magnitude_ok.mean()) if len(pairs) else float("nan")
    strict_bound, strict_magnitude = int((bound_ok & ~magnitude_ok).sum()), int((magnitude_ok & ~bound_ok).sum())
    winner = "tie"
    if strict_bound != strict_magnitude:
        winner = "rd_bound" if strict_bound > strict_magnitude else "magnitude"
    by_model = {str(model): float(bound_ok[pairs["model"] == model].mean()) for model in pairs["model"].unique()}
    measured = {
        "points": int(len(pairs)),
        "share_rd_bound_not_worse": found["share"],
        "share_rd_bound_not_worse_ci95": found["share_ci95"],
        "points_undecided": found["undecided"],
        "share_magnitude_not_worse": share_magnitude,
        "points_rd_bound_better": strict_bound,
        "points_magnitude_better": strict_magnitude,
        "better_objective": winner,
        "share_rd_bound_not_worse_by_model": by_model,
        "models_without_interval": sorted(str(m) for m in pairs.loc[pairs["interval_missing"], "model"].unique()),
        "verdict": judge(tuple(found["share_ci95"]), t.e3_min_share) if len(pairs) else "does not hold",
    }
    return measured, bool(len(pairs) and found["share"] >= t.e3_min_share)


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


def claim_e1(t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> dict:
    """E1 from ``deployed_designs.csv`` (notebook 07): the proposed design's task metric against each benchmark's.

    Parameters
    ----------
    t : ExtensionThresholds
        The thresholds of E1-E3.

    Returns
    -------
    dict
        The extension: ``id``, ``extension`` (True), ``criterion``, ``measured`` (:func:`e1_verdict`), ``holds``,
        ``verdict``, ``robustness`` (MiniLM judged by topic accuracy; no noise margin), ``figures``, ``notebooks``.

    References
    ----------
    docs/model.md, section 9.
    """
    table = read_csv(DEPLOYED_FILE)
    measured, holds = e1_verdict(table, t)
    topic, topic_holds = e1_verdict(table, t, metric={"minilm": "topic_accuracy"})
    strict, strict_holds = e1_verdict(table, replace(t, e1_margin=0.0))
    return _extension(
        "E1",
        f"where the proposed design and a benchmark are both feasible, the proposed design's measured task metric "
        f"(digits accuracy, EfficientNet top-1 agreement, MiniLM cosine similarity) is at least the benchmark's "
        f"minus {t.e1_margin:g} at >= {t.e1_min_share:.0%} of all (benchmark, sweep point) pairs",
        measured,
        holds,
        [
            _reading("MiniLM judged by topic accuracy", topic_holds, topic),
            _reading("E1 without a noise margin", strict_holds, strict),
        ],
    )


def claim_e2(t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> dict:
    """E2 from ``deployed_designs.csv``: does the bound rank designs as measurement does?

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
        f"per model, the Spearman rank correlation between the objective D_LB and the measured output distortion "
        f"over all feasible (scheme, sweep point) pairs is >= {t.e2_min_spearman:g} for every model",
        measured,
        holds,
        [_reading("E2 ranked by task metric, not distortion", metric_holds, by_metric)],
    )


def claim_e3(t: ExtensionThresholds = EXTENSION_THRESHOLDS) -> dict:
    """E3 from ``deployed_designs.csv``: the rd_bound design against the magnitude-objective design.

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
    table = read_csv(DEPLOYED_FILE)
    measured, holds = e3_verdict(table, t)
    by_metric, metric_holds = e3_verdict(table, t, measure="task_metric")
    return _extension(
        "E3",
        f"at the sweep points where both are feasible, the design minimising D_LB (proposed) has measured output "
        f"distortion no larger (relative tolerance {t.e3_tolerance:g}) than the design minimising D_mag "
        f"(proposed_magnitude) at >= {t.e3_min_share:.0%} of the points; the objective with more strictly better "
        "points is reported as the better one",
        measured,
        holds,
        [_reading("E3 compared by task metric, not distortion", metric_holds, by_metric)],
    )


#: The extensions, evaluated when ``data/deployed_designs.csv`` exists (an older data folder has none).
EXTENSIONS: dict[str, Callable[[ExtensionThresholds], dict]] = {"E1": claim_e1, "E2": claim_e2, "E3": claim_e3}
