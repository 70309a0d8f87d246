"""L1, the artifact's own question "the larger the merrier?" (model.md section 10), from ``size_study.csv``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coinfer.base.paths import data_dir, read_csv
from coinfer.claims.deployed_designs import measured_intervals
from coinfer.claims.paper import THRESHOLDS, Thresholds
from coinfer.model.stats import TIE, combine, decided_bracket, judge, paired_comparison

#: L1's verdict for a family (or the whole) whose data cannot tell its members apart (issue 23, item 4).
NOT_TESTABLE = "not testable on these models"


def l1_verdict(table: pd.DataFrame) -> tuple[dict, bool]:
    """``(measured, holds)`` of L1 on a ``size_study.csv`` table (criterion of :mod:`coinfer.studies.model_size`).

    Per family with a task metric: the share of feasible budget points where the
    largest member measures best (ties within ``TIE_MARGIN`` count for the
    larger), holding when it is at least ``HOLDS_SHARE``; L1 holds when it holds
    for every such family.

    Parameters
    ----------
    table : pandas.DataFrame
        ``size_study.csv`` rows (family, model, params, sweep, budget_value, task_metric, heldout_samples, ...).

    Returns
    -------
    measured : dict
        ``by_family`` (the study's verdict per family plus ``largest_best_share_ci95`` [-], ``points_undecided``
        [count], ``without_metric_interval`` and ``verdict``) and the combined ``verdict``.
    holds : bool
        Whether every family holds at its point share (False without families).

    References
    ----------
    docs/model.md, sections 1.1 and 10 (model size study).
    """
    from coinfer.studies.model_size import HOLDS_SHARE, verdict

    by_family = verdict(table)
    for family, decided in l1_decided_points(table).items():
        found = by_family[family]
        points = found["feasible_points"]
        found["largest_best_share_ci95"] = list(decided_bracket(decided["won"], decided["undecided"], points))
        found["points_undecided"] = decided["undecided"]
        found["without_metric_interval"] = decided["missing"]
        found["verdict"] = judge(tuple(found["largest_best_share_ci95"]), HOLDS_SHARE)
    verdict_all = combine(v.get("verdict", "does not hold") for v in by_family.values())
    measured = {"by_family": by_family, "verdict": verdict_all}
    return measured, bool(by_family) and all(v["holds"] for v in by_family.values())


def l1_decided_points(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per family: budget points where the members' metric intervals decide that the largest wins, or leave it open.

    The largest member wins a point when its task metric is within
    ``TIE_MARGIN`` of the best (:func:`coinfer.studies.model_size.winners`). The
    intervals (:func:`measured_intervals`, ``heldout_samples`` inputs) decide it
    when the largest's lower end is within the margin of every other member's
    upper end (won) or some member's lower end is above the largest's upper end
    by more than the margin (lost); otherwise it is undecided (model.md section 1.1).
    ``missing`` lists members whose metric has no interval (the point value is used).

    Parameters
    ----------
    table : pandas.DataFrame
        ``size_study.csv`` rows.

    Returns
    -------
    dict
        Family -> ``won`` and ``undecided`` [count of budget points] and ``missing`` (sorted model names).

    References
    ----------
    docs/model.md, sections 1.1 and 10.
    """
    from coinfer.studies.model_size import TIE_MARGIN

    measured = table[table["task_metric"].notna()]
    bounds = measured_intervals(measured, "task_metric", count="heldout_samples")
    measured = measured.assign(low=bounds["low"], high=bounds["high"], missing=bounds["missing"])
    largest = table.loc[table.groupby("family")["params"].idxmax(), ["family", "model"]].set_index("family")["model"]
    result: dict[str, dict[str, Any]] = {}
    for (family, _, _), rows in measured.groupby(["family", "sweep", "budget_value"], sort=True):
        found = result.setdefault(str(family), {"won": 0, "undecided": 0, "missing": set()})
        found["missing"].update(str(m) for m in rows.loc[rows["missing"], "model"])
        mine = rows[rows["model"] == largest[family]]
        others = rows[rows["model"] != largest[family]]
        if mine.empty:
            continue  # the largest is infeasible or unmeasured here: lost, without doubt
        if others.empty or mine["low"].iloc[0] >= others["high"].max() - TIE_MARGIN:
            found["won"] += 1
        elif not mine["high"].iloc[0] < others["low"].max() - TIE_MARGIN:
            found["undecided"] += 1
    return {family: {**v, "missing": sorted(v["missing"])} for family, v in result.items()}


def labelled_scores(outcomes: pd.DataFrame, inputs: pd.DataFrame) -> dict[tuple[str, str, str], np.ndarray]:
    """Per ``(family, model, design)``: the seed-mean of each labelled input's 0/1 outcome (model.md section 10).

    An outcome is 1 where the predicted class equals the input's label of ``size_inputs.csv``; inputs without a
    label (-1) are left out. With one seed the scores are 0/1, with several the share of seeds that are right.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        ``size_outcomes.csv`` rows (:data:`coinfer.studies.model_size.OUTCOME_COLUMNS`).
    inputs : pandas.DataFrame
        ``size_inputs.csv`` rows (:data:`coinfer.studies.model_size.INPUT_COLUMNS`).

    Returns
    -------
    dict
        ``(family, model, design)`` -> scores [1] of the labelled inputs in input order.
    """
    labels = {str(f): rows.sort_values("input")["label"].to_numpy(dtype=int) for f, rows in inputs.groupby("family")}
    found: dict[tuple[str, str, str], list[np.ndarray]] = {}
    for row in outcomes.itertuples(index=False):
        family = str(row.family)
        predicted = np.array(str(row.predictions).split(), dtype=int)
        label = labels[family]
        if predicted.shape != label.shape:
            raise ValueError(f"size_outcomes.csv: {row.model} has {predicted.size} predictions, {label.size} inputs")
        kept = label >= 0
        found.setdefault((family, str(row.model), str(row.design)), []).append(
            (predicted[kept] == label[kept]).astype(float)
        )
    return {key: np.mean(np.stack(rows), axis=0) for key, rows in found.items()}


def _clusters(inputs: pd.DataFrame, family: str) -> np.ndarray | None:
    """The labelled inputs' sources of ``family``, or None where every input is its own source."""
    rows = inputs[inputs["family"] == family].sort_values("input")
    clusters = rows.loc[rows["label"] >= 0, "cluster"].to_numpy()
    return None if len(np.unique(clusters)) == len(clusters) else clusters


def l1_labelled_points(table: pd.DataFrame, outcomes: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """L1 on labelled tasks, point by point: usable members, the paired winner or a tie (model.md section 10).

    At each (family, sweep, budget point) of ``size_study.csv``: a member is *usable* when it is feasible and
    its mean labelled score is at least ``USABLE_SHARE`` of its unpruned score; a point without a usable member
    is ``"no usable member"``. Otherwise every pair of feasible members is compared on the same inputs by
    :func:`coinfer.model.stats.paired_comparison` (level ``PAIRED_ALPHA``; exact McNemar for one seed's 0/1
    outcomes on independent inputs, the paired bootstrap over inputs for seed means, resampling whole sources
    where inputs share one); a member that the test decides better than every other feasible member wins the
    point, else the point is a ``"tie"``. Infeasible members cannot win.

    Parameters
    ----------
    table : pandas.DataFrame
        ``size_study.csv`` rows (family, model, params, sweep, budget_value, status, design).
    outcomes, inputs : pandas.DataFrame
        ``size_outcomes.csv`` and ``size_inputs.csv`` rows.

    Returns
    -------
    pandas.DataFrame
        One row per point of a family with outcomes: ``family``, ``sweep``, ``budget_value`` [s or J],
        ``status`` (``"won"``, ``"tie"`` or ``"no usable member"``), ``winner`` (empty unless won), ``largest``,
        ``largest_open`` (a tie at which no member is decided better than the largest), ``usable`` (members),
        ``scores`` (member -> mean score [1]).

    References
    ----------
    docs/model.md, sections 1.1 and 10.
    """
    from coinfer.studies.model_size import PAIRED_ALPHA, UNPRUNED, USABLE_SHARE

    scores = labelled_scores(outcomes, inputs)
    seeds = outcomes.groupby(["family", "model"])["seed"].nunique()
    records = []
    for family, rows in table[table["family"].isin(outcomes["family"].unique())].groupby("family", sort=True):
        family = str(family)
        largest = str(rows.loc[rows["params"].idxmax(), "model"])
        clusters = _clusters(inputs, family)
        binary = bool((seeds.loc[family] == 1).all())
        unpruned = {str(m): float(np.mean(scores[(family, str(m), UNPRUNED)])) for m in rows["model"].unique()}
        for (sweep, value), point in rows.groupby(["sweep", "budget_value"], sort=True):
            feasible = point[point["status"] == "optimal"]
            member = {str(r.model): scores[(family, str(r.model), str(r.design))] for r in feasible.itertuples()}
            mean = {m: float(np.mean(v)) for m, v in member.items()}
            usable = [m for m in member if mean[m] >= USABLE_SHARE * unpruned[m]]
            status, winner, beaten_largest = "no usable member", "", False
            if usable:
                decided: dict[tuple[str, str], str] = {}
                names = list(member)
                for i, a in enumerate(names):  # one test per pair: the same resamples decide (b, a) as the mirror
                    for b in names[i + 1 :]:
                        found = paired_comparison(
                            member[a], member[b], binary=binary, clusters=clusters, alpha=PAIRED_ALPHA
                        )[0]
                        decided[(a, b)] = found
                        decided[(b, a)] = {"first": "second", "second": "first"}.get(found, found)
                winners = [a for a in member if all(decided[(a, b)] == "first" for b in member if b != a)]
                status, winner = ("won", winners[0]) if winners else (TIE, "")
                beaten_largest = largest not in member or any(
                    decided[(b, largest)] == "first" for b in member if b != largest
                )
            records.append(
                {
                    "family": family,
                    "sweep": str(sweep),
                    "budget_value": float(value),
                    "status": status,
                    "winner": winner,
                    "largest": largest,
                    "largest_open": status == TIE and not beaten_largest,
                    "usable": usable,
                    "scores": mean,
                }
            )
    columns = ["family", "sweep", "budget_value", "status", "winner", "largest", "largest_open", "usable", "scores"]
    return pd.DataFrame(records, columns=columns)


def l1_labelled_verdict(table: pd.DataFrame, outcomes: pd.DataFrame, inputs: pd.DataFrame) -> tuple[dict, bool]:
    """``(measured, holds)`` of L1 on labelled tasks with paired wins (model.md section 10; issue 23, item 4).

    Per family (points of :func:`l1_labelled_points`): the points without a usable member are counted and left
    out; over the ``usable`` points the largest member's share of wins has the bracket
    ``[won by the largest, won + ties it may win (largest_open)] / usable``, judged against ``HOLDS_SHARE`` by
    :func:`coinfer.model.stats.judge`. A family with fewer than two members, no usable point, or only ties at its
    usable points is :data:`NOT_TESTABLE`. The combined verdict is :func:`coinfer.model.stats.combine` over the testable
    families ("every"), :data:`NOT_TESTABLE` when none is.

    Parameters
    ----------
    table, outcomes, inputs : pandas.DataFrame
        ``size_study.csv``, ``size_outcomes.csv`` and ``size_inputs.csv`` rows.

    Returns
    -------
    measured : dict
        ``by_family`` (``largest``, ``points``, ``no_usable_points``, ``usable_points``, ``ties``,
        ``won_by_largest``, ``won_by_other`` (member -> points), ``largest_share`` [1] and its ``bracket`` [1],
        ``unpruned`` (member -> score [1]), ``verdict``) and the combined ``verdict``.
    holds : bool
        Whether the combined verdict is "holds".

    References
    ----------
    docs/model.md, sections 1.1 and 10.
    """
    from coinfer.studies.model_size import HOLDS_SHARE, UNPRUNED

    points = l1_labelled_points(table, outcomes, inputs)
    scores = labelled_scores(outcomes, inputs)
    by_family: dict[str, dict[str, Any]] = {}
    for family, rows in points.groupby("family", sort=True):
        largest = str(rows["largest"].iloc[0])
        usable = rows[rows["status"] != "no usable member"]
        won = usable[usable["status"] == "won"]
        by_largest = int((won["winner"] == largest).sum())
        open_ = int(usable["largest_open"].sum())
        bracket = decided_bracket(by_largest, open_, len(usable))
        members = int(table.loc[table["family"] == family, "model"].nunique())
        decides = members >= 2 and len(usable) > 0 and len(won) > 0
        by_family[str(family)] = {
            "largest": largest,
            "members": members,
            "points": int(len(rows)),
            "no_usable_points": int(len(rows) - len(usable)),
            "usable_points": int(len(usable)),
            "ties": int((usable["status"] == TIE).sum()),
            "won_by_largest": by_largest,
            "won_by_other": {
                str(m): int(n)
                for m, n in won.loc[won["winner"] != largest, "winner"].value_counts().sort_index().items()
            },
            "largest_share": by_largest / len(usable) if len(usable) else float("nan"),
            "bracket": list(bracket),
            "unpruned": {m: float(np.mean(v)) for (f, m, d), v in scores.items() if f == family and d == UNPRUNED},
            "verdict": judge(bracket, HOLDS_SHARE) if decides else NOT_TESTABLE,
        }
    testable = [v["verdict"] for v in by_family.values() if v["verdict"] != NOT_TESTABLE]
    verdict_all = combine(testable) if testable else NOT_TESTABLE
    return {"by_family": by_family, "verdict": verdict_all}, verdict_all == "holds"


def claim_l1(t: Thresholds = THRESHOLDS) -> dict | None:
    """L1 from ``size_study.csv`` (notebook 08): an extension (the artifact's own question); ``None`` without it.

    With ``size_outcomes.csv`` and ``size_inputs.csv`` (issue 23): the labelled, paired criterion of
    :func:`l1_labelled_verdict`; without them (data of an older notebook 08), the criterion as first stated
    (:func:`l1_verdict`), said so in the criterion.

    Parameters
    ----------
    t : Thresholds
        Unused (L1's criterion lives in :mod:`coinfer.studies.model_size`); taken so every claim has one signature.

    Returns
    -------
    dict or None
        The extension (``id``, ``extension``, ``criterion``, ``measured``, ``holds``, ``verdict``,
        ``robustness``, ``figures``, ``notebooks``); None when ``data/size_study.csv`` is absent.

    References
    ----------
    docs/model.md, section 10.
    """
    from coinfer.studies.model_size import HOLDS_SHARE, PAIRED_ALPHA, TIE_MARGIN, USABLE_SHARE

    if not (data_dir() / "size_study.csv").exists():
        return None
    table = read_csv("size_study.csv")
    labelled = all((data_dir() / name).exists() for name in ("size_outcomes.csv", "size_inputs.csv"))
    if labelled:
        measured, holds = l1_labelled_verdict(table, read_csv("size_outcomes.csv"), read_csv("size_inputs.csv"))
        measured["as_first_stated"] = l1_verdict(table)[0]["verdict"]
        criterion = (
            f"per family, on a labelled task (digits: true labels, seed means over the training seeds; text: the "
            f"topic task; images: ImageNet classes named by the unpruned members' majority), at the same absolute "
            f"budgets for every member: a member is usable at a budget point when feasible and scoring at least "
            f"{USABLE_SHARE:.0%} of its own unpruned score; points without a usable member are left out and "
            f"counted; a member wins a point only when a paired test on the same inputs (McNemar exact, or the "
            f"paired bootstrap clustered by source, two-sided {PAIRED_ALPHA:g}) decides it better than every other "
            f"feasible member, else the point is a tie; the largest member must win >= {HOLDS_SHARE:.0%} of the "
            f"usable points (bracket: ties it is not decided to lose counted both ways); a family with fewer than two "
            f"members, no usable point or only ties is '{NOT_TESTABLE}'; holds when it holds for every testable family"
        )
    else:
        measured, holds = l1_verdict(table)
        criterion = (
            f"(as first stated; notebook 08's labelled outcomes are absent) per family with a measured task "
            f"metric, at the same absolute budgets for every member: the largest "
            f"member measures best (members within {TIE_MARGIN:g} of the best tie, a tie counts for the larger) "
            f"at >= {HOLDS_SHARE:.0%} of the budget points where some member is feasible; holds when it holds "
            f"for every family"
        )
    return {
        "id": "L1",
        "extension": True,
        "criterion": criterion,
        "measured": measured,
        "holds": holds,
        "verdict": measured["verdict"],
        "robustness": [],
        "figures": ["size_metric_vs_budget", "size_designs"],
        "notebooks": ["08_model_size"],
    }
