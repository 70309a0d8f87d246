"""L1, the artifact's own question "the larger the merrier?" (model.md section 10), from ``size_study.csv``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from coinfer.base.paths import data_dir, read_csv
from coinfer.claims.deployed_designs import measured_intervals
from coinfer.claims.paper import THRESHOLDS, Thresholds
from coinfer.model.stats import combine, decided_bracket, judge


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


def claim_l1(t: Thresholds = THRESHOLDS) -> dict | None:
    """L1 from ``size_study.csv`` (notebook 08): an extension (the artifact's own question); ``None`` without it.

    Parameters
    ----------
    t : Thresholds
        Unused (L1's criterion lives in :mod:`coinfer.studies.model_size`); taken so every claim has one signature.

    Returns
    -------
    dict or None
        The extension (``id``, ``extension``, ``criterion``, ``measured`` of :func:`l1_verdict`, ``holds``,
        ``verdict``, ``robustness``, ``figures``, ``notebooks``); None when ``data/size_study.csv`` is absent.

    References
    ----------
    docs/model.md, section 10.
    """
    from coinfer.studies.model_size import HOLDS_SHARE, TIE_MARGIN

    if not (data_dir() / "size_study.csv").exists():
        return None
    measured, holds = l1_verdict(read_csv("size_study.csv"))
    return {
        "id": "L1",
        "extension": True,
        "criterion": (
            f"per family with a measured task metric, at the same absolute budgets for every member: the largest "
            f"member measures best (members within {TIE_MARGIN:g} of the best tie, a tie counts for the larger) "
            f"at >= {HOLDS_SHARE:.0%} of the budget points where some member is feasible; holds when it holds "
            f"for every family"
        ),
        "measured": measured,
        "holds": holds,
        "verdict": measured["verdict"],
        "robustness": [],
        "figures": ["size_metric_vs_budget", "size_designs"],
        "notebooks": ["08_model_size"],
    }
