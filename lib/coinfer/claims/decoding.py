"""D1, the artifact's own question on decoding a split LLM (model.md section 14.4), from ``decoding_best_split.csv``.

The criterion is fixed here, before any study data existed, except D1a's energy budget, changed on 2026-12-08 after
the first run (which found no feasible split in the ``system`` scope; model.md 14.4).
Notebook 10 solves, for the 7B LLaMA's decode profile
(prompt 128 tokens, context up to 1024), every split at every point of a grid of bandwidth, distance and access
latency (one-way, each direction), under the budgets of :data:`coinfer.optimise.decoding.DecodeBudgets` set from
``coinfer.nets.budgets`` (TTFT 2.0 s and TPOT 0.1 s, MLPerf ``llama3_1-8b``; energy per token: the battery share
``SERVICE_POWER`` times the TPOT budget, plus in the ``system`` scope the server's full power times the TPOT budget,
:func:`coinfer.studies.decoding.budgets`) and the device memory of ``coinfer.model.decoding``. The best split is the
one of least pruning ratio, then least energy per token, TPOT, split index (model.md 14.3). D1 is read in two parts,
one per energy scope: D1a ``system`` (the project's default scope), D1b ``device`` (the battery's scope).

A part *holds* when, with pruning, an interior split (``0 < s < L``) is the best split at one grid point or more; it
*does not hold* when at least one grid point has a feasible split and no grid point has an interior best split; it
is *inconclusive* when no grid point has any feasible split. D1 holds when a part holds, does not hold when every
deciding part does not hold, and is inconclusive when no part decides. The round-trip times (the grid's access
latency, and the per-token round trip of the best interior split) where interior splits win are reported.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from coinfer.base.paths import data_dir, read_csv
from coinfer.claims.paper import THRESHOLDS, Thresholds

__all__ = ["BEST_SPLIT_FILE", "claim_d1", "d1_verdict"]

#: The data file of D1, written by notebook 10_decoding.
BEST_SPLIT_FILE = "decoding_best_split.csv"
#: The parts of D1: energy scope -> part id.
PARTS = {"system": "D1a", "device": "D1b"}


def _part(rows: pd.DataFrame) -> dict[str, Any]:
    feasible = rows[rows["best_split"] >= 0]
    wins = feasible[feasible["interior"].astype(bool)]
    holds: bool | None = None if feasible.empty else not wins.empty
    return {
        "grid_points": int(len(rows)),
        "feasible_points": int(len(feasible)),
        "interior_best_points": int(len(wins)),
        "interior_access_latencies": sorted({float(v) for v in wins["access_latency"]}),
        "interior_round_trips": [float(wins["round_trip"].min()), float(wins["round_trip"].max())] if len(wins) else [],
        "best_splits": {str(k): int(v) for k, v in feasible["best_label"].value_counts().sort_index().items()},
        "holds": holds,
        "verdict": "inconclusive" if holds is None else "holds" if holds else "does not hold",
    }


def d1_verdict(table: pd.DataFrame) -> tuple[dict, bool | None]:
    """``(measured, holds)`` of D1 on a ``decoding_best_split.csv`` table (module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (scope, pruning, bandwidth, distance, access latency) with ``best_split`` (-1: none feasible),
        ``best_label``, ``interior``, ``round_trip`` [s] and ``access_latency`` [s].

    Returns
    -------
    tuple of (dict, bool or None)
        Per part (``D1a``, ``D1b``) its counts and verdict, and the pruning-free readings for reference; ``holds``
        of D1 (``None``: inconclusive).
    """
    parts: dict[str, Any] = {}
    without: dict[str, Any] = {}
    for scope, part in PARTS.items():
        parts[part] = {"scope": scope} | _part(table[(table["scope"] == scope) & (table["pruning"] == "with")])
        without[part] = _part(table[(table["scope"] == scope) & (table["pruning"] == "without")])
    deciding = [p["holds"] for p in parts.values() if p["holds"] is not None]
    overall = any(deciding) if deciding else None
    verdict = "inconclusive" if overall is None else "holds" if overall else "does not hold"
    return {"parts": parts, "without_pruning": without, "verdict": verdict}, overall


def claim_d1(t: Thresholds = THRESHOLDS) -> dict | None:
    """D1 from ``decoding_best_split.csv`` (notebook 10): an extension; ``None`` without it.

    Parameters
    ----------
    t : Thresholds
        Unused (D1's criterion is this module's); taken so every claim has one signature.

    Returns
    -------
    dict or None
        ``id``, ``extension``, ``criterion``, ``measured``, ``holds``, ``verdict``, ``robustness``, ``figures``,
        ``notebooks``; None without the data file.

    References
    ----------
    docs/model.md, section 14.4.
    """
    if not (data_dir() / BEST_SPLIT_FILE).exists():
        return None
    measured, holds = d1_verdict(read_csv(BEST_SPLIT_FILE))
    return {
        "id": "D1",
        "extension": True,
        "criterion": (
            "with pruning, an interior split of the 7B LLaMA is the best decoding split (least ratio, then energy per "
            "token) at >= 1 point of the bandwidth x distance x access-latency grid under TTFT 2.0 s, TPOT 0.1 s, "
            "energy per token = battery share x TPOT budget (D1b, device scope) plus the server's full power x TPOT "
            "budget (D1a, system scope: changed after the first run's data, and it does not bind) and 8 GB device "
            "memory; inconclusive where no point has a feasible split"
        ),
        "measured": measured,
        "holds": holds,
        "verdict": measured["verdict"],
        "robustness": [],
        "figures": ["decoding_tpot_energy", "decoding_best_split"],
        "notebooks": ["10_decoding"],
    }
