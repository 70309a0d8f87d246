"""M1, the artifact's own question on many users sharing one edge server (model.md section 13.9), from
``multi_user_populations.csv``.

The criterion is fixed here, before any study data existed: over the populations with at least two users, for
each baseline, a population is *beaten* when the joint design's objective is at least :data:`MARGIN` below the
baseline's (relative), or the baseline is infeasible while the joint design is feasible; a *tie* when the two
differ by at most :data:`TIE_RTOL`; *undecided* when both are infeasible; otherwise *not beaten* (the joint design
better by less than the margin, worse, or infeasible where the baseline is not). M1 holds for a baseline when it
is beaten at >= :data:`SHARE` of the populations that are neither ties nor undecided and the joint design is
never worse than it by more than :data:`TIE_RTOL`; a baseline that ties (or is undecided) everywhere does not
decide. M1 holds when it holds for every baseline that decides.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coinfer.base.paths import data_dir, read_csv
from coinfer.claims.paper import THRESHOLDS, Thresholds

#: The data file of M1, written by notebook 09_multi_user.
POPULATIONS_FILE = "multi_user_populations.csv"
#: The same populations in the other system model (column ``system_model``), M1's reading; notebook 09.
OTHER_MODEL_FILE = "multi_user_other_model.csv"
#: The least relative improvement that counts as beating a baseline.
MARGIN = 0.01
#: The share of decided populations at which a baseline must be beaten.
SHARE = 0.5
#: Relative difference under which the joint design and a baseline tie.
TIE_RTOL = 1e-6
#: The least number of users of a population that decides M1 (one user: the share baselines are the joint design).
MIN_USERS = 2


def _compare(joint: pd.Series, baseline: pd.Series) -> pd.Series:
    """Per population: ``beaten``, ``beaten_infeasible``, ``tie``, ``not_beaten``, ``worse`` or ``undecided``."""
    j_ok = joint["status"].isin(["optimal", "feasible"]).to_numpy()
    b_ok = baseline["status"].isin(["optimal", "feasible"]).to_numpy()
    j = joint["objective"].to_numpy(dtype=float)
    b = baseline["objective"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        diff = (b - j) / np.abs(np.where(b != 0, b, 1.0))
    out = np.full(len(j), "not_beaten", dtype=object)
    both = j_ok & b_ok
    out[both & (np.abs(diff) <= TIE_RTOL)] = "tie"
    out[both & (diff >= MARGIN)] = "beaten"
    out[both & (diff < -TIE_RTOL)] = "worse"
    out[j_ok & ~b_ok] = "beaten_infeasible"
    out[~j_ok & b_ok] = "worse"
    out[~j_ok & ~b_ok] = "undecided"
    return pd.Series(out, index=joint.index)


def m1_verdict(table: pd.DataFrame) -> tuple[dict, bool | None]:
    """``(measured, holds)`` of M1 on a ``multi_user_populations.csv`` table (module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (users, population, scheme) with ``status`` and the objective [-].

    Returns
    -------
    tuple of (dict, bool or None)
        The per-baseline counts and verdict, and ``holds``: ``None`` when no baseline decides (ties or
        both infeasible everywhere).
    """
    table = table[table["users"] >= MIN_USERS]
    joint = table[table["scheme"] == "joint"].set_index(["users", "population"]).sort_index()
    by_baseline: dict[str, Any] = {}
    for name in [s for s in table["scheme"].unique() if s != "joint"]:
        baseline = table[table["scheme"] == name].set_index(["users", "population"]).sort_index()
        joint_b = joint.loc[baseline.index]
        outcome = _compare(joint_b, baseline)
        counts = {key: int((outcome == key).sum()) for key in
                  ("beaten", "beaten_infeasible", "tie", "not_beaten", "worse", "undecided")}  # fmt: skip
        decided = counts["beaten"] + counts["beaten_infeasible"] + counts["not_beaten"] + counts["worse"]
        beaten = counts["beaten"] + counts["beaten_infeasible"]
        share = beaten / decided if decided else None
        holds = share is not None and share >= SHARE and counts["worse"] == 0
        by_users = {
            int(k): {key: int(((outcome == key) & (outcome.index.get_level_values("users") == k)).sum())
                     for key in ("beaten", "beaten_infeasible", "tie", "not_beaten", "worse", "undecided")}
            for k in sorted(set(outcome.index.get_level_values("users")))
        }  # fmt: skip
        by_baseline[name] = {
            **counts,
            "populations": int(len(outcome)),
            "decided": decided,
            "beaten_share": share,
            "decides": decided > 0,
            "holds": bool(holds) if decided > 0 else None,
            "by_users": by_users,
        }
    deciding = [v for v in by_baseline.values() if v["decides"]]
    # Ties everywhere decide nothing: the verdict is then inconclusive, not "does not hold".
    overall = all(v["holds"] for v in deciding) if deciding else None
    verdict = "inconclusive" if overall is None else "holds" if overall else "does not hold"
    measured = {"by_baseline": by_baseline, "verdict": verdict}
    return measured, overall


def claim_m1(t: Thresholds = THRESHOLDS) -> dict | None:
    """M1 from ``multi_user_populations.csv`` (notebook 09): an extension; ``None`` without it.

    Parameters
    ----------
    t : Thresholds
        Unused (M1's criterion is this module's constants); taken so every claim has one signature.

    Returns
    -------
    dict or None
        The extension (``id``, ``extension``, ``criterion``, ``measured`` of :func:`m1_verdict`, ``holds`` true,
        false or null, ``verdict``, ``robustness``, ``figures``, ``notebooks``); None without the data file.

    References
    ----------
    docs/model.md, section 13.9 (notebook 09: populations, budgets and M1).
    """
    if not (data_dir() / POPULATIONS_FILE).exists():
        return None
    measured, holds = m1_verdict(read_csv(POPULATIONS_FILE))
    robustness = []
    if (data_dir() / OTHER_MODEL_FILE).exists():
        other = read_csv(OTHER_MODEL_FILE)
        other_measured, _ = m1_verdict(other.drop(columns=["system_model"]))
        (name,) = set(other["system_model"])  # one model per file
        model = "the paper's model" if name == "paper" else "the physical model"
        robustness.append(
            {
                "reading": f"M1 in {model} (the same populations)",
                "verdict": other_measured["verdict"],
                "measured": other_measured,
            }  # fmt: skip
        )
    return {
        "id": "M1",
        "extension": True,
        "criterion": (
            f"over populations of >= {MIN_USERS} users on real profiles, for each baseline: the joint design's "
            f"objective is >= {MARGIN:.0%} below the baseline's (or the baseline is infeasible and the joint "
            f"design feasible) at >= {SHARE:.0%} of the populations that are neither ties (within {TIE_RTOL:g}) nor "
            f"both infeasible, and never worse by more than {TIE_RTOL:g}; holds when it holds for every baseline "
            "that decides"
        ),
        "measured": measured,
        "holds": holds,
        "verdict": measured["verdict"],
        "robustness": robustness,
        "figures": ["multi_user_objective", "multi_user_fairness", "multi_user_splits"],
        "notebooks": ["09_multi_user"],
    }
