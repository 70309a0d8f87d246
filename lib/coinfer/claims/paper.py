"""The paper's claims C1-C4 (model.md section 1): criteria fixed in advance, verdicts from ``data/``.

Each criterion is a number computed from the tidy data with a threshold fixed
in this module before the full-profile data existed (see the git history of
this module and of the former ``claims.py``). A claim that fails is reported as
failing; nothing here is tuned to the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coinfer.base.paths import data_dir, read_csv
from coinfer.base.validation import ParameterError
from coinfer.claims.verdicts import NEEDS_DATA, conjunction, from_point, holds_value
from coinfer.model.stats import (
    GRID,
    clopper_pearson,
    cluster_bootstrap_share,
    combine,
    conformal_coverage_interval,
    judge,
)


@dataclass(frozen=True)
class Thresholds:
    """The numbers each verdict is compared with. Fixed before the full-profile data was seen."""

    #: C1: a single violation of the model.md section 3 theorem is a bug, not a statistic.
    c1_max_violations: int = 0
    #: C1: "large pruning ratio" taken at the conservative end of the paper's 0.5-0.7.
    c1_large_ratio: float = 0.7
    #: C1, the old part (b) (until issue 24, kept as a reading): share of held-out (input, ratio >= c1_large_ratio)
    #: pairs where the first-order bound with H(rho) = the largest of the calibration inputs must hold. It cannot be
    #: met with n calibration inputs: such an H covers n / (n + 1) of exchangeable held-out inputs (16/17 = 94.1 %).
    c1_min_holding_fraction: float = 0.95
    #: C1b (issue 24, fixed before its data exist): coverage targeted by the split-conformal H(rho) of each part and
    #: ratio (the ceil((n + 1) level)-th smallest calibration score, model.md section 3.3) ...
    c1b_level: float = 0.95
    #: ... with at least this many calibration inputs per (part, ratio), drawn by the held-out inputs' process ...
    c1b_min_calibration: int = 100
    #: ... judged on the interval resampling calibration and held-out clusters: "does not hold" when its upper end is
    #: below the guarantee ceil((n + 1) level) / (n + 1); "holds" when it is not and its lower end is at least
    #: c1b_level - c1b_tolerance; else inconclusive (the interval cannot tell). 0.075: with n = 100 calibration and
    #: 200 held-out inputs a true relation (exchangeable scores) meets it in about 9 of 10 runs (simulated, 60 runs:
    #: 56 hold, 1 false "does not hold"); 0.05 would leave it inconclusive in about 1 of 3.
    c1b_tolerance: float = 0.075
    #: C2: share of each pretrained model's prunable weights that sit in layers where the Laplace fit has the
    #: higher log-likelihood than the Gaussian fit.
    c2_min_laplace_weight_share: float = 0.5
    #: C2: share of measured (model, part, split, q, ratio) points with ratio >= c2_min_ratio where the measured
    #: parameter distortion of magnitude pruning + q-bit quantisation is at least D_LB(ratio; q, fitted b).
    c2_min_bound_fraction: float = 0.99
    c2_min_ratio: float = 0.01
    #: C3: the proposed design may never be worse than a benchmark by more than this relative tolerance ...
    c3_tolerance: float = 1e-6
    #: ... and must beat fully on-device and fully on-server (objective lower by this relative margin, or feasible
    #: where the benchmark is not) at this share of the sweep points where it is feasible.
    c3_min_margin: float = 0.01
    c3_min_share_beaten: float = 0.5
    #: C3b (issue 24): per model, the share of the points where the proposed design is feasible at which it beats
    #: the better of the two extremes, and the strongest other baseline, by c3_min_margin.
    c3b_min_share_beaten: float = 0.5
    #: C4: the best split must change across the settings swept (at least this many distinct winners) ...
    c4_min_distinct_winners: int = 2
    #: ... and the best single fixed split (chosen with hindsight) must lose at least this relative objective
    #: (or feasibility) against per-setting split selection in some setting.
    c4_min_regret: float = 0.05
    #: Objectives this close (relative) count as a tie between splits.
    c4_tie_tolerance: float = 1e-6
    #: C4 where budgets bind (the review of issue 22, on the winner map ``opt_split_winners``): for some model, among
    #: the grid points where at least two splits are feasible and a budget binds, at least this many distinct best
    #: splits ...
    c4_binding_min_distinct: int = 2
    #: ... and an intermediate best split (0 < s < L, ties credited to an extreme) at this share of them.
    c4_binding_min_interior_share: float = 0.5


THRESHOLDS = Thresholds()


# --------------------------------------------------------------------------- the verdicts
#: Pretrained models outside the theorem's assumptions (attention, LayerNorm, GELU, SiLU, BatchNorm + depthwise convs).
FIRST_ORDER_MODELS = ("minilm", "efficientnet_lite0")
#: Pretrained models whose weights are tested for the Laplace premise (the paper reports BERT-like and CNN models).
PRETRAINED_MODELS = ("minilm", "efficientnet_lite0")
#: Fully on-device and fully on-server: the two benchmarks C3 must beat outright.
EXTREME_SCHEMES = ("on_device", "on_server")


def _share(values: pd.Series, weights: pd.Series | None = None) -> float:
    if len(values) == 0:
        return float("nan")
    if weights is None:
        return float(values.mean())
    return float((values * weights).sum() / weights.sum())


#: Columns ``claim_c1`` needs from ``first_order_bound.csv``
#: (written by :func:`coinfer.studies.pruning_distortion.first_order_table`).
FIRST_ORDER_COLUMNS = ("model", "ratio", "n_calibration", "n_heldout", "frac_holds", "frac_holds_relative")
#: Reading label of the scale-free form in a claim's ``robustness`` list.
SCALE_FREE_READING = "C1 as first stated, (b) on the scale-free form (no fitted H)"


def _first_order_shares(first_order: pd.DataFrame, column: str, keep: pd.Series) -> dict[str, float]:
    """Per first-order model: share of held-out (input, ratio) pairs in the rows ``keep`` where ``column`` holds.

    ``column`` is a per-row share of the row's ``n_heldout`` pairs, so the
    rows are weighted by ``n_heldout`` (model.md section 3.3).
    """
    shares = {}
    for model in FIRST_ORDER_MODELS:
        rows = first_order[keep & (first_order["model"] == model)]
        shares[model] = _share(rows[column], rows["n_heldout"])
    return shares


def _first_order_intervals(first_order: pd.DataFrame, column: str, keep: pd.Series) -> dict[str, list[float]]:
    """Per first-order model: the Clopper-Pearson 95 % interval of the share :func:`_first_order_shares` gives.

    The (input, ratio) pairs of one input at several ratios are not independent,
    so the interval is optimistic about its width; it is stated as such.
    """
    intervals = {}
    for model in FIRST_ORDER_MODELS:
        rows = first_order[keep & (first_order["model"] == model)]
        trials = int(rows["n_heldout"].sum())
        successes = int(round(float((rows[column] * rows["n_heldout"]).sum())))
        intervals[model] = list(clopper_pearson(successes, trials))
    return intervals


#: Per-cluster held-out counts of notebook 04 (:func:`coinfer.studies.pruning_distortion.first_order_clusters`);
#: optional.
FIRST_ORDER_CLUSTERS_FILE = "first_order_heldout_clusters.csv"
#: Reading label of C1 judged on the interval that resamples whole inputs (photos for crops).
CLUSTERED_READING = "C1 as first stated, (b) on the interval resampling inputs, photos for crops"


def _first_order_dependence(clusters: pd.DataFrame, keep: pd.Series) -> dict[str, dict]:
    """Per first-order model: the share over the rows ``keep`` resampled by cluster, and per source.

    ``clusters`` has one row per (model, ratio, subset, source, cluster) with
    ``n_pairs`` and ``n_holds`` (model.md section 3.3). Returns, per model,
    ``ci95`` (the cluster bootstrap interval, seeded), ``clusters`` (how many
    independent units) and ``by_source`` (share per photo or digits pool).
    """
    found = {}
    for model in FIRST_ORDER_MODELS:
        rows = clusters[keep & (clusters["model"] == model)]
        per_cluster = rows.groupby("cluster", sort=True)[["n_holds", "n_pairs"]].sum()
        per_source = rows.groupby("source", sort=True)[["n_holds", "n_pairs"]].sum()
        found[model] = {
            "ci95": list(cluster_bootstrap_share(per_cluster["n_holds"], per_cluster["n_pairs"])),
            "clusters": len(per_cluster),
            "by_source": {str(k): float(v.n_holds / v.n_pairs) for k, v in per_source.iterrows() if v.n_pairs > 0},
        }
    return found


def _read_first_order() -> pd.DataFrame:
    """``first_order_bound.csv`` with H calibrated per ratio; a table from the old single-H fit is refused."""
    first_order = read_csv("first_order_bound.csv")
    missing = [c for c in FIRST_ORDER_COLUMNS if c not in first_order.columns]
    modes = sorted(set(first_order["H_mode"].dropna())) if "H_mode" in first_order.columns else ["per_ratio"]
    if missing:
        problem = f"no column {', '.join(missing)}"
    elif modes != ["per_ratio"]:
        problem = f"H_mode {', '.join(modes)}, not per_ratio"
    else:
        return first_order
    raise ValueError(
        f"first_order_bound.csv: {problem}; the verdict needs H calibrated per pruning ratio "
        "(model.md section 3.3): rerun notebook 04"
    )


#: Per-pair scores for C1b, written by notebook 04 (:func:`coinfer.studies.pruning_distortion.first_order_scores`):
#: one row per (model, part, split, ratio, subset, cluster, input) with ``subset`` "calibration" or "heldout",
#: ``process`` (how the input was drawn: the calibration and held-out inputs of a model must share it) and
#: ``score`` = ||df||_1 / ||dW||_1.
FIRST_ORDER_SCORES_FILE = "first_order_scores.csv"
#: Columns C1b needs from :data:`FIRST_ORDER_SCORES_FILE`.
FIRST_ORDER_SCORE_COLUMNS = ("model", "part", "split", "ratio", "subset", "process", "cluster", "score")
#: What C1b needs that the committed data lack (said in the part's ``needs``).
C1B_NEEDS = (
    "data/first_order_scores.csv from a notebook-04 run with >= {n} calibration inputs per (part, ratio) per model, "
    "drawn by the held-out inputs' process (for EfficientNet-Lite0 the same grid-crop process on photos disjoint "
    "from the held-out ones: the seven calibration photos bundled offline give 34 grid crops, every other bundled "
    "photo 25 more, so it needs photos the offline pools do not hold)"
)
#: What each interval of C1 resamples (model.md section 1.1 table).
C1_INTERVALS = {
    "C1a": "none: exact checks, a complete enumeration (grid share, no sampling interval)",
    "C1b": (
        "percentile bootstrap (2000 resamples, seed 0) drawing calibration clusters and held-out clusters with "
        "replacement (an input, or a photo for crops, with all its parts and ratios) and recomputing every H(rho)"
    ),
    "committed_reading": (
        "percentile bootstrap (2000 resamples, seed 0) drawing held-out clusters (inputs; photos for crops); "
        "leaves out the calibration's randomness (H(rho) held fixed)"
    ),
}


def c1b_judge(interval: tuple[float, float], guarantee: float, t: Thresholds = THRESHOLDS) -> str:
    """C1b's rule for one model: its held-out coverage interval against the coverage exchangeability guarantees.

    Parameters
    ----------
    interval : tuple of float
        95 % interval of the held-out share where the first-order bound holds [-].
    guarantee : float
        The coverage the conformal H guarantees, ``ceil((n + 1) level) / (n + 1)`` averaged over the pairs [-].
    t : Thresholds
        ``c1b_level`` and ``c1b_tolerance`` [-].

    Returns
    -------
    str
        "does not hold" when the interval's upper end is below ``guarantee``; else "holds" when its lower end is
        at least ``c1b_level - c1b_tolerance``; else "inconclusive".
    """
    low, high = interval
    if high < guarantee:
        return "does not hold"
    return "holds" if low >= t.c1b_level - t.c1b_tolerance else "inconclusive"


def c1b_model(scores: pd.DataFrame, t: Thresholds = THRESHOLDS) -> dict[str, Any]:
    """C1b for one model from its rows of :data:`FIRST_ORDER_SCORES_FILE` at ratios >= ``t.c1_large_ratio``.

    Parameters
    ----------
    scores : pandas.DataFrame
        The model's rows, columns :data:`FIRST_ORDER_SCORE_COLUMNS` (``score`` [-]).
    t : Thresholds
        ``c1_large_ratio``, ``c1b_level``, ``c1b_min_calibration``, ``c1b_tolerance``.

    Returns
    -------
    dict
        :func:`coinfer.model.stats.conformal_coverage_interval`'s numbers and ``verdict``: "needs data" when a
        (part, ratio) has fewer than ``c1b_min_calibration`` calibration inputs or the calibration and held-out
        inputs come from different processes, else :func:`c1b_judge`.
    """
    rows = scores[scores["ratio"] >= t.c1_large_ratio]
    processes = {s: set(rows.loc[rows["subset"] == s, "process"]) for s in ("calibration", "heldout")}
    ids = {s: pd.factorize(rows.loc[rows["subset"] == s, "cluster"], sort=True) for s in processes}
    rows = rows.assign(cluster_id=-1)
    for subset, (codes, _) in ids.items():
        rows.loc[rows["subset"] == subset, "cluster_id"] = codes
    groups = [g for _, g in rows.groupby(["part", "split", "ratio"], dropna=False, sort=True)]
    calibration = [
        (g.loc[g.subset == "calibration", "score"], g.loc[g.subset == "calibration", "cluster_id"]) for g in groups
    ]
    heldout = [(g.loc[g.subset == "heldout", "score"], g.loc[g.subset == "heldout", "cluster_id"]) for g in groups]
    if not groups or min(len(c) for c, _ in calibration) == 0 or min(len(h) for h, _ in heldout) == 0:
        return {"verdict": NEEDS_DATA, "reason": "no calibration or held-out scores at large ratios"}
    found: dict[str, Any] = dict(conformal_coverage_interval(calibration, heldout, level=t.c1b_level))
    if found["n_calibration_min"] < t.c1b_min_calibration:
        found.update(
            verdict=NEEDS_DATA,
            reason=f"{found['n_calibration_min']} calibration inputs, fewer than {t.c1b_min_calibration}",
        )
    elif processes["calibration"] != processes["heldout"]:
        found.update(verdict=NEEDS_DATA, reason="calibration and held-out inputs drawn by different processes")
    else:
        found["verdict"] = c1b_judge((found["ci95"][0], found["ci95"][1]), float(found["guarantee"]), t)
    return found


def c1b_across_ratios(scores: pd.DataFrame, t: Thresholds = THRESHOLDS) -> dict[str, Any]:
    """C1b with ``H`` carried across ratios: each large ratio is left out in turn and tested with the others' ``H``.

    For each large ratio ``r`` (``>= t.c1_large_ratio``), each part's ``H`` is the conformal rank statistic of its
    calibration inputs' scores pooled over the other large ratios, and the held-out inputs' scores at ``r`` are
    checked against it; the groups (part, ``r``) are judged together with :func:`c1b_model`'s rules (the
    first-order relation's constant should not depend on ``rho``; issue 24 item 1's first form). Leaving out the
    end ratios makes it extrapolate, so a constant that grows or falls with ``rho`` fails at the ends. A robustness
    reading, added after the scores existed.

    Parameters
    ----------
    scores : pandas.DataFrame
        One model's rows of :data:`FIRST_ORDER_SCORES_FILE` (``score`` [-], ``ratio`` [-]).
    t : Thresholds
        ``c1_large_ratio``, ``c1b_level``, ``c1b_min_calibration``, ``c1b_tolerance``.

    Returns
    -------
    dict
        :func:`c1b_model`'s numbers and ``verdict``, with the ``test_ratios``.
    """
    rows = scores[scores["ratio"] >= t.c1_large_ratio]
    ratios = sorted(set(rows["ratio"]))
    if len(ratios) < 2:
        return {"verdict": NEEDS_DATA, "reason": "fewer than two large ratios", "test_ratios": ratios}
    calibration, heldout = rows[rows["subset"] == "calibration"], rows[rows["subset"] == "heldout"]
    # group (part, r): the calibration scores of every other ratio, relabelled r, beside the held-out scores at r
    left_out = pd.concat(
        [
            part
            for r in ratios
            for part in (calibration[calibration["ratio"] != r].assign(ratio=r), heldout[heldout["ratio"] == r])
        ]
    )
    return c1b_model(left_out, t) | {"test_ratios": ratios}


def _c1b_needs(by_model: dict[str, dict[str, Any]], t: Thresholds) -> str:
    """What C1b needs: :data:`C1B_NEEDS`, with each undecided model's reason from the scores table if there is one."""
    reasons = [f"{m}: {v['reason']}" for m, v in by_model.items() if v["verdict"] == NEEDS_DATA and "reason" in v]
    return C1B_NEEDS.format(n=t.c1b_min_calibration) + (f" (now {'; '.join(reasons)})" if reasons else "")


def _c1b_committed(first_order: pd.DataFrame, big: pd.Series, t: Thresholds) -> dict[str, Any]:
    """C1b's rule on the committed data: H(rho) = the largest of n calibration inputs, guarantee n / (n + 1).

    A reading only: n = 16 < ``c1b_min_calibration`` for the first-order models, EfficientNet's calibration crops
    come from another process than its held-out tiles, and the interval leaves out the calibration's randomness.
    """
    found: dict[str, Any] = {"share": {}, "guarantee": {}, "n_calibration": {}}
    for model in FIRST_ORDER_MODELS:
        rows = first_order[big & (first_order["model"] == model)]
        n = rows["n_calibration"].astype(float)
        found["share"][model] = _share(rows["frac_holds"], rows["n_heldout"])
        found["guarantee"][model] = _share(n / (n + 1), rows["n_heldout"])
        found["n_calibration"][model] = int(n.min()) if len(n) else 0
    if (data_dir() / FIRST_ORDER_CLUSTERS_FILE).exists():
        clusters = read_csv(FIRST_ORDER_CLUSTERS_FILE)
        dependence = _first_order_dependence(clusters, clusters["ratio"] >= t.c1_large_ratio)
        found["ci95"] = {m: d["ci95"] for m, d in dependence.items()}
        found["verdict_by_model"] = {
            m: c1b_judge((d["ci95"][0], d["ci95"][1]), found["guarantee"][m], t) for m, d in dependence.items()
        }
        found["interval"] = C1_INTERVALS["committed_reading"]
    return found


def claim_c1(t: Thresholds = THRESHOLDS) -> dict:
    """C1 in two parts, from notebooks 01 and 04; the claim is their conjunction (model.md section 1.2).

    C1a, the theorem: no violation in the exact checks (``bound_summary.csv``, ``exact_bound_digits.csv``).
    C1b, the first-order form: per first-order model, the held-out coverage of the split-conformal ``H(rho)``
    against its own guarantee (:func:`c1b_model`, from :data:`FIRST_ORDER_SCORES_FILE`); "needs data" without
    that table. ``measured`` keeps the numbers of the old criterion (b) (fixed 95 % against ``H`` = the largest
    calibration input) and the committed data judged by C1b's rule against ``n / (n + 1)`` (a reading).

    Parameters
    ----------
    t : Thresholds
        The thresholds.

    Returns
    -------
    dict
        The claim: ``parts`` (C1a, C1b, each with ``criterion``, ``measured``, ``verdict``, ``holds``,
        ``interval``), the conjunction's ``verdict`` and ``holds`` (true, false or null), ``measured``,
        ``robustness``.
    """
    summary = read_csv("bound_summary.csv")
    exact = read_csv("exact_bound_digits.csv")
    first_order = _read_first_order()
    violations = int(
        summary["violations"].sum() + exact["violations_operator"].sum() + exact["violations_entrywise"].sum()
    )
    checks = int(summary["n_checks"].sum() + (exact["n_inputs"]).sum())
    big = first_order["ratio"] >= t.c1_large_ratio
    large = _first_order_shares(first_order, "frac_holds", big)
    small = _first_order_shares(first_order, "frac_holds", first_order["ratio"] < 0.5)
    scale_free = _first_order_shares(first_order, "frac_holds_relative", big)
    c1a_verdict = from_point(violations <= t.c1_max_violations)

    def old_criterion(shares: dict[str, float]) -> bool:
        return violations <= t.c1_max_violations and all(v >= t.c1_min_holding_fraction for v in shares.values())

    intervals = _first_order_intervals(first_order, "frac_holds", big)
    measured: dict = {
        "exact_checks": checks,
        "exact_violations": violations,
        "first_order_holding_share_large_ratio": large,
        "first_order_holding_share_ratio_below_0.5": small,
        "first_order_holding_share_large_ratio_ci95": intervals,
        "first_order_scale_free_share_large_ratio": scale_free,
    }
    if "frac_holds_max_over_ratios" in first_order.columns:
        measured["first_order_max_over_ratios_share_large_ratio"] = _first_order_shares(
            first_order, "frac_holds_max_over_ratios", big
        )
    clustered_verdict = None
    if (data_dir() / FIRST_ORDER_CLUSTERS_FILE).exists():
        clusters = read_csv(FIRST_ORDER_CLUSTERS_FILE)
        dependence = _first_order_dependence(clusters, clusters["ratio"] >= t.c1_large_ratio)
        measured["first_order_holding_share_large_ratio_cluster_ci95"] = {m: d["ci95"] for m, d in dependence.items()}
        measured["first_order_clusters_large_ratio"] = {m: d["clusters"] for m, d in dependence.items()}
        measured["first_order_holding_share_large_ratio_by_source"] = {m: d["by_source"] for m, d in dependence.items()}
        clustered_verdict = conjunction(
            [c1a_verdict, combine(judge((lo, hi), t.c1_min_holding_fraction) for lo, hi in _pairs(dependence))]
        )
    old_verdict = conjunction(
        [c1a_verdict, combine(judge((low, high), t.c1_min_holding_fraction) for low, high in intervals.values())]
    )
    measured["old_criterion_b_verdict"] = old_verdict

    c1b: dict[str, Any] = {"by_model": {}, "committed_reading": _c1b_committed(first_order, big, t)}
    if (data_dir() / FIRST_ORDER_SCORES_FILE).exists():
        scores = read_csv(FIRST_ORDER_SCORES_FILE)
        c1b["by_model"] = {m: c1b_model(scores[scores["model"] == m], t) for m in FIRST_ORDER_MODELS}
        # every model must hold: one that does not decides; one without data leaves the part undecided
        c1b_verdict = conjunction(v["verdict"] for v in c1b["by_model"].values())
    else:
        c1b_verdict = NEEDS_DATA
    parts: list[dict[str, Any]] = [
        {
            "id": "C1a",
            "criterion": (
                f"no more than {t.c1_max_violations} violations of the model.md section 3 bound in the exact checks "
                "(random networks, digits MLP)"
            ),
            "measured": {"exact_checks": checks, "exact_violations": violations, "sampling_interval": GRID},
            "verdict": c1a_verdict,
            "interval": C1_INTERVALS["C1a"],
        },
        {
            "id": "C1b",
            "criterion": (
                f"for each of {', '.join(FIRST_ORDER_MODELS)}, at ratios >= {t.c1_large_ratio}: with H(rho) per part "
                f"and ratio the ceil((n + 1) {t.c1b_level})-th smallest of n >= {t.c1b_min_calibration} calibration "
                f"scores ||df||_1 / ||dW||_1 (inputs drawn by the held-out inputs' process), the 95 % interval of the "
                f"held-out share where the bound holds reaches the guarantee ceil((n + 1) {t.c1b_level}) / (n + 1) "
                f"(else does not hold) and its lower end is >= {t.c1b_level - t.c1b_tolerance:.2f} (else "
                "inconclusive)"
            ),
            "measured": c1b,
            "verdict": c1b_verdict,
            "interval": C1_INTERVALS["C1b"],
            **({"needs": _c1b_needs(c1b["by_model"], t)} if c1b_verdict == NEEDS_DATA else {}),
        },
    ]
    _with_holds(parts)
    verdict = conjunction(part["verdict"] for part in parts)
    claim: dict[str, Any] = {
        "id": "C1",
        "criterion": "C1a and C1b (the paper's claim is their conjunction)",
        "parts": parts,
        "measured": measured,
        "verdict": verdict,
        "holds": holds_value(verdict),
        "figures": ["bound_tightness", "pruning_first_order_bound"],
        "notebooks": ["01_distortion_bound", "04_pruning_distortion"],
    }
    claim["robustness"] = [
        {
            "reading": OLD_C1B_READING,
            "verdict": old_verdict,
            "measured": {"share": large, "ci95": intervals},
        },
        {"reading": SCALE_FREE_READING, "verdict": from_point(old_criterion(scale_free)), "measured": scale_free},
    ]
    if clustered_verdict is not None:
        claim["robustness"].append(
            {
                "reading": CLUSTERED_READING,
                "verdict": clustered_verdict,
                "measured": measured["first_order_holding_share_large_ratio_cluster_ci95"],
            }
        )
    if (data_dir() / FIRST_ORDER_SCORES_FILE).exists():
        across = {m: c1b_across_ratios(scores[scores["model"] == m], t) for m in FIRST_ORDER_MODELS}
        claim["robustness"].append(
            {
                "reading": ACROSS_RATIOS_READING,
                "verdict": conjunction([c1a_verdict, *(v["verdict"] for v in across.values())]),
                "measured": across,
            }
        )
    return claim


#: Reading label of C1 with C1b's H calibrated on some ratios and tested at the others (:func:`c1b_across_ratios`).
ACROSS_RATIOS_READING = "C1b across ratios: each large ratio tested with H calibrated at the other large ratios"


#: Reading label of C1 under the criterion (b) of before issue 24 (a fixed 95 % against H = the largest input).
OLD_C1B_READING = "C1 as first stated: (b) >= 95 % of held-out pairs under H(rho) = largest calibration input"


def _pairs(dependence: dict[str, dict]) -> list[tuple[float, float]]:
    return [(d["ci95"][0], d["ci95"][1]) for d in dependence.values()]


def _with_holds(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for part in parts:
        part["holds"] = holds_value(part["verdict"])
    return parts


def claim_c2(t: Thresholds = THRESHOLDS) -> dict:
    """C2 in two parts, from ``weight_fit_verdicts.csv`` (notebook 03) and ``pruning_param_distortion.csv`` (04).

    C2a, the Laplace premise: per pretrained model, the share of prunable weights in layers where the Laplace fit
    beats the Gaussian fit. C2b, the lower bound: the share of measured points where the measured parameter
    distortion is at least ``D_LB``. Both are shares of complete enumerations (no sampling interval); the claim is
    their conjunction (model.md section 1.2).

    Parameters
    ----------
    t : Thresholds
        ``c2_min_laplace_weight_share``, ``c2_min_bound_fraction``, ``c2_min_ratio``.

    Returns
    -------
    dict
        The claim with ``parts`` (C2a, C2b), ``verdict``, ``holds`` (true, false or null), ``measured``, ``robustness``.
    """
    verdicts = read_csv("weight_fit_verdicts.csv")
    distortion = read_csv("pruning_param_distortion.csv")
    layers = verdicts[verdicts["part"] == "layer"]
    laplace_share = {
        model: _share(
            layers.loc[layers["model"] == model, "laplace_like"].astype(float),
            layers.loc[layers["model"] == model, "n"],
        )
        for model in PRETRAINED_MODELS
    }
    whole = verdicts[verdicts["part"] == "all"]
    whole_like = {
        model: bool(whole.loc[whole["model"] == model, "laplace_like"].astype(bool).all())
        for model in PRETRAINED_MODELS
    }
    points = distortion[distortion["ratio"] >= t.c2_min_ratio]
    bound_share = {q: _share(group["lb_holds"].astype(float)) for q, group in points.groupby("quantisation")}
    worst = points.loc[points["measured_over_lb"].idxmin()] if len(points) else None
    overall = _share(points["lb_holds"].astype(float))
    laplace_ok = all(v >= t.c2_min_laplace_weight_share for v in laplace_share.values())
    bound_ok = overall >= t.c2_min_bound_fraction
    smallest = (
        None
        if worst is None
        else {
            "model": worst["model"],
            "part": worst["part"],
            "ratio": float(worst["ratio"]),
            "quantisation": worst["quantisation"],
            "value": float(worst["measured_over_lb"]),
        }
    )
    parts = _with_holds(
        [
            {
                "id": "C2a",
                "criterion": (
                    f"in each of {', '.join(PRETRAINED_MODELS)}, >= {t.c2_min_laplace_weight_share:.0%} of the "
                    "prunable weights sit in layers where the Laplace fit beats the Gaussian fit (higher "
                    "log-likelihood and smaller KS distance)"
                ),
                "measured": {"laplace_weight_share": laplace_share, "sampling_interval": GRID},
                "verdict": from_point(laplace_ok),
                "interval": "none: every layer of each model, a complete enumeration",
            },
            {
                "id": "C2b",
                "criterion": (
                    f"measured magnitude-pruning distortion (kept weights unquantised vs q=32, or q-bit quantised vs "
                    f"q) >= D_LB(ratio; q, fitted b) at >= {t.c2_min_bound_fraction:.0%} of points with ratio >= "
                    f"{t.c2_min_ratio}"
                ),
                "measured": {
                    "bound_holding_share": overall,
                    "bound_holding_share_by_quantisation": bound_share,
                    "smallest_measured_over_bound": smallest,
                    "sampling_interval": GRID,
                },
                "verdict": from_point(bound_ok),
                "interval": "none: every (model, part, split, q, ratio) point measured, a complete enumeration",
            },
        ]
    )
    verdict = conjunction(p["verdict"] for p in parts)
    return {
        "id": "C2",
        "criterion": "C2a and C2b (the paper's claim is their conjunction)",
        "parts": parts,
        "measured": {
            "laplace_weight_share": laplace_share,
            "bound_holding_share": overall,
            "bound_holding_share_by_quantisation": bound_share,
            "sampling_interval": GRID,
            "smallest_measured_over_bound": smallest,
        },
        "verdict": verdict,
        "holds": holds_value(verdict),
        "robustness": [
            {
                "reading": "Laplace premise judged on the whole model, not per layer",
                "part": "C2a",
                "verdict": conjunction([from_point(all(whole_like.values())), from_point(bound_ok)]),
                "measured": whole_like,
            },
            *_c2a_readings(layers, t, from_point(bound_ok)),
            *_c2b_readings(points, t, from_point(laplace_ok)),
        ],
        "figures": ["weight_histograms", "pruning_c2_distortion"],
        "notebooks": ["03_weight_distributions", "04_pruning_distortion"],
    }


#: Layers smaller than this many weights are left out by the "large layers only" reading of C2a [weights].
C2_LARGE_LAYER = 100_000


def _c2a_readings(layers: pd.DataFrame, t: Thresholds, c2b: str) -> list[dict[str, Any]]:
    """C2a under other readings of "Laplace-like"; ``claim_verdict`` joins C2b as stated (``c2b``).

    Likelihood alone, KS distance alone, layers counted instead of weights, and only layers of at least
    :data:`C2_LARGE_LAYER` weights; all from the per-layer fits of ``weight_fit_verdicts.csv``.
    """
    readings: dict[str, tuple[pd.Series, bool]] = {}
    if {"loglik_laplace", "loglik_gaussian", "ks_laplace", "ks_gaussian"} <= set(layers.columns):
        readings["C2a: Laplace-like by log-likelihood alone"] = (
            layers["loglik_laplace"] > layers["loglik_gaussian"],
            True,
        )
        readings["C2a: Laplace-like by KS distance alone"] = (layers["ks_laplace"] < layers["ks_gaussian"], True)
    readings["C2a: share of layers, not of weights"] = (layers["laplace_like"].astype(bool), False)
    readings[f"C2a: layers of >= {C2_LARGE_LAYER:,} weights only"] = (layers["laplace_like"].astype(bool), True)
    entries = []
    for name, (like, by_weight) in readings.items():
        keep = layers["n"] >= C2_LARGE_LAYER if name.startswith("C2a: layers of") else layers["n"] >= 0
        shares = {}
        for model in PRETRAINED_MODELS:
            here = keep & (layers["model"] == model)
            shares[model] = _share(like[here].astype(float), layers.loc[here, "n"] if by_weight else None)
        ok = all(v >= t.c2_min_laplace_weight_share for v in shares.values())
        entries.append(_part_reading(name, "C2a", from_point(ok), c2b, shares))
    return entries


def _c2b_readings(points: pd.DataFrame, t: Thresholds, c2a: str) -> list[dict[str, Any]]:
    """C2b on subsets of the measured points (``claim_verdict`` joins C2a as stated, ``c2a``): unquantised kept
    weights only, quantised only, ratios >= 0.5 only, and every model on its own."""
    quantised = points["quantisation"].astype(str) != "none"
    subsets = {
        "C2b: kept weights unquantised only": points[~quantised],
        "C2b: quantised kept weights only": points[quantised],
        "C2b: pruning ratios >= 0.5 only": points[points["ratio"] >= 0.5],
    }
    entries = []
    for name, rows in subsets.items():
        share = _share(rows["lb_holds"].astype(float))
        ok = bool(len(rows)) and share >= t.c2_min_bound_fraction
        entries.append(_part_reading(name, "C2b", from_point(ok), c2a, share))
    by_model = {str(m): _share(g["lb_holds"].astype(float)) for m, g in points.groupby("model")}
    ok = bool(by_model) and min(by_model.values()) >= t.c2_min_bound_fraction
    entries.append(_part_reading("C2b: every model on its own", "C2b", from_point(ok), c2a, by_model))
    return entries


def _part_reading(name: str, part: str, verdict: str, other: str, measured: Any) -> dict[str, Any]:
    """A reading of one part: its verdict is the part's; ``claim_verdict`` joins the other part as stated."""
    return {
        "reading": name,
        "part": part,
        "verdict": verdict,
        "claim_verdict": conjunction([verdict, other]),
        "measured": measured,
    }


#: Benchmarks that solve the proposed design's own problem with another solver: they can at best tie it, so
#: they test the solver (C3a), not the design (C3b).
SOLVER_BENCHMARKS = ("local_nonconvex",)
#: Benchmarks that are not restrictions of the proposed design's problem: they change ``bits_per_weight``, and under
#: the physical model (model.md 2.7) fewer weight bits read cost less memory time and energy, which no 16-bit decision
#: can match. C3a (a check of the solver) leaves them out; C3b counts them as baselines.
NOT_RESTRICTIONS = ("quantised_8bit", "quantised_4bit")


def _beaten(proposed: pd.Series, proposed_ok: pd.Series, bench: pd.Series, bench_ok: pd.Series, margin: float):
    """Where the proposed design beats a benchmark: feasible, and the benchmark infeasible or worse by ``margin``."""
    return proposed_ok & (~bench_ok | (bench >= proposed * (1 + margin)))


#: Sweeps along a channel setting, whose points may bind no budget (model.md 7.3: reported, left out of C3b).
CHANNEL_SWEEPS = ("bandwidth", "distance")


def degenerate_points(sweep: pd.DataFrame) -> pd.Series:
    """Channel-sweep points of ``opt_budget_sweep`` rows where no budget binds or every scheme is infeasible.

    No budget binds where the proposed design reaches the unpruned objective, ``objective_norm`` = ``2^-q`` (model.md
    5.1: ``D_LB(0; b) = b 2^-q`` on each side, so ``D / b_mean`` = ``2^-q`` at any split; ``q`` the default
    ``bits_per_weight``): every scheme that can run unpruned ties it there, so the point cannot tell them apart.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Rows ``model``, ``sweep``, ``x``, ``scheme``, ``status``, ``objective_norm`` [-].

    Returns
    -------
    pandas.Series
        Boolean, indexed by ``(model, sweep, x)``: True at a degenerate channel-sweep point.
    """
    from coinfer.model.system import DEFAULTS

    keys = ["model", "sweep", "x"]
    floor = 2.0 ** -float(DEFAULTS["bits_per_weight"])
    ours = sweep[sweep["scheme"] == "proposed"].set_index(keys)
    any_ok = (sweep["status"] == "optimal").groupby([sweep[k] for k in keys]).any()
    unbound = (ours["status"] == "optimal") & (ours["objective_norm"] <= floor * (1 + 1e-6))
    channel = ours.index.get_level_values("sweep").isin(CHANNEL_SWEEPS)
    out = pd.Series(
        channel & (unbound.to_numpy() | ~any_ok.reindex(ours.index).fillna(False).to_numpy()), index=ours.index
    )
    return out.astype(bool)


#: Share of the unpruned model's measured quality under which a design is broken (issue 23 item 2).
USABLE_QUALITY = 0.5


def unusable_points(deployed: pd.DataFrame) -> pd.Series:
    """Sweep points where every deployed design is below :data:`USABLE_QUALITY` of the unpruned quality.

    Parameters
    ----------
    deployed : pandas.DataFrame
        ``deployed_designs.csv`` rows (notebook 07): ``model``, ``sweep``, ``x``, ``status``, ``task_metric``,
        ``unpruned_task_metric`` (higher is better).

    Returns
    -------
    pandas.Series
        Boolean, indexed by ``(model, sweep, x)``: True where no measured design reaches half the unpruned quality.
    """
    rows = deployed[deployed["status"] == "optimal"]
    usable = rows["task_metric"] >= USABLE_QUALITY * rows["unpruned_task_metric"]
    return ~usable.groupby([rows["model"], rows["sweep"], rows["x"]]).any()


def c3_parts(
    sweep: pd.DataFrame, t: Thresholds = THRESHOLDS, deployed: pd.DataFrame | None = None
) -> tuple[dict, str, str]:
    """``(measured, C3a verdict, C3b verdict)`` on one budget-sweep table (``opt_budget_sweep`` rows).

    C3a: the proposed design is never worse than a benchmark that restricts its problem (relative tolerance
    ``c3_tolerance``; :data:`NOT_RESTRICTIONS` left out) and never infeasible where one is feasible. C3b: per
    model, at >= ``c3b_min_share_beaten`` of the points where the proposed design is feasible it beats (by
    ``c3_min_margin``, or feasible where they are not) the better of the two extremes, and likewise the strongest
    other baseline (the one it beats least often, solver benchmarks :data:`SOLVER_BENCHMARKS` excepted).

    Parameters
    ----------
    sweep : pandas.DataFrame
        Rows ``model``, ``sweep``, ``x``, ``scheme``, ``status``, ``objective`` [-] (``opt_budget_sweep.csv``).
    t : Thresholds
        ``c3_tolerance``, ``c3_min_margin``, ``c3_min_share_beaten``, ``c3b_min_share_beaten``.
    deployed : pandas.DataFrame, optional
        The measured designs (``deployed_designs.csv``): C3b leaves out the sweep points where every deployed
        design keeps less than half the unpruned task metric [1] (:func:`unusable_points`); None keeps them.

    Returns
    -------
    tuple
        ``measured`` (``points_where_proposed_is_worse``, ``by_benchmark``, ``by_model``), and the verdicts of
        C3a and C3b ("holds" or "does not hold": grid shares).
    """
    keys = ["model", "sweep", "x"]
    table = sweep.pivot_table(index=keys, columns="scheme", values="objective", aggfunc="first")
    feasible = sweep.assign(ok=sweep["status"] == "optimal").pivot_table(
        index=keys, columns="scheme", values="ok", aggfunc="first"
    )
    table = table.reindex(index=feasible.index, columns=feasible.columns)  # points where every scheme failed
    proposed_ok = feasible["proposed"].fillna(False).astype(bool)
    proposed = table["proposed"]
    per_scheme: dict[str, dict] = {}
    worse_total = 0
    beaten_by: dict[str, pd.Series] = {}
    for scheme in [c for c in table.columns if not str(c).startswith("proposed")]:
        bench_ok = feasible[scheme].fillna(False).astype(bool)
        both = proposed_ok & bench_ok
        bench = table[scheme]
        worse = both & (proposed > bench * (1 + t.c3_tolerance) + 1e-15)
        worse = worse | (~proposed_ok & bench_ok)
        beaten = _beaten(proposed, proposed_ok, bench, bench_ok, t.c3_min_margin)
        beaten_by[str(scheme)] = beaten
        margin = ((bench - proposed) / bench)[both]
        if scheme not in NOT_RESTRICTIONS:
            worse_total += int(worse.sum())
        per_scheme[str(scheme)] = {
            "points": int(proposed_ok.sum()),
            "share_beaten": float(beaten[proposed_ok].mean()) if proposed_ok.any() else float("nan"),
            "points_worse": int(worse.sum()),
            "points_only_proposed_feasible": int((proposed_ok & ~bench_ok).sum()),
            "median_relative_margin_where_both_feasible": float(margin.median()) if len(margin) else float("nan"),
        }
    extremes = [s for s in EXTREME_SCHEMES if s in table.columns]
    better = table[extremes].where(feasible[extremes].fillna(False).astype(bool)).min(axis=1)
    better_ok = better.notna()
    beaten_extreme = _beaten(proposed, proposed_ok, better.fillna(np.inf), better_ok, t.c3_min_margin)
    baselines = [s for s in beaten_by if s not in EXTREME_SCHEMES and s not in SOLVER_BENCHMARKS]
    # C3b leaves out channel-sweep points where no budget binds or nothing is feasible (model.md 7.3)
    degenerate = (
        degenerate_points(sweep).reindex(table.index).fillna(False).astype(bool).to_numpy()
        if "objective_norm" in sweep.columns
        else np.zeros(len(table), dtype=bool)
    )
    # ... and points where every measured design is broken (issue 23 item 2), where notebook 07 measured them
    broken = (
        unusable_points(deployed).reindex(table.index).fillna(False).astype(bool).to_numpy()
        if deployed is not None
        else np.zeros(len(table), dtype=bool)
    )
    by_model: dict[str, dict] = {}
    c3b_ok = True
    for model in sorted(set(table.index.get_level_values("model"))):
        of_model = table.index.get_level_values("model") == model
        left_out = int((of_model & degenerate).sum())
        unusable = int((of_model & broken & ~degenerate).sum())
        here = of_model & proposed_ok.to_numpy() & ~degenerate & ~broken
        points = int(here.sum())
        share_extreme = float(beaten_extreme[here].mean()) if points else float("nan")
        shares = {s: float(beaten_by[s][here].mean()) for s in baselines} if points else {}
        strongest = min(shares, key=lambda s: (shares[s], s)) if shares else None
        share_strongest = shares[strongest] if strongest is not None else float("nan")
        ok = (
            points > 0
            and share_extreme >= t.c3b_min_share_beaten
            and (strongest is None or share_strongest >= t.c3b_min_share_beaten)
        )
        c3b_ok = c3b_ok and ok
        by_model[model] = {
            "points_proposed_feasible": points,
            "share_beating_better_extreme": share_extreme,
            "strongest_baseline": strongest,
            "share_beating_strongest_baseline": share_strongest,
            "degenerate_channel_points_left_out": left_out,
            "unusable_points_left_out": unusable,
            "holds": bool(ok),
        }
    measured = {"points_where_proposed_is_worse": worse_total, "by_benchmark": per_scheme, "by_model": by_model}
    return measured, from_point(worse_total == 0), from_point(bool(by_model) and c3b_ok)


def c3_verdict(sweep: pd.DataFrame, t: Thresholds = THRESHOLDS) -> tuple[dict, bool]:
    """``(measured, holds)`` of C3 (C3a and C3b, :func:`c3_parts`) on one budget-sweep table; for the readings.

    Parameters
    ----------
    sweep : pandas.DataFrame
        ``opt_budget_sweep`` rows.
    t : Thresholds
        The thresholds.

    Returns
    -------
    tuple
        ``measured`` of :func:`c3_parts` with ``verdict_C3a`` and ``verdict_C3b``, and whether both hold.
    """
    measured, c3a, c3b = c3_parts(sweep, t)
    measured.update(verdict_C3a=c3a, verdict_C3b=c3b)
    return measured, conjunction([c3a, c3b]) == "holds"


def _robustness(name: str, verdict: Callable[[pd.DataFrame, Thresholds], tuple[dict, bool]], t: Thresholds) -> list:
    """The verdict of one claim under each reading of ``name`` (a table with a ``reading`` column), if written."""
    if not (data_dir() / name).exists():
        return []
    table = read_csv(name)
    entries = []
    for reading, rows in table.groupby("reading", sort=False):
        measured, holds = verdict(rows.drop(columns="reading"), t)
        entries.append({"reading": str(reading), "holds": holds, "measured": measured})
    return entries


#: Share of sampled constants at which a claim's gain must hold ("a majority of the sampled constants").
SENSITIVITY_MIN_SHARE = 0.5


#: What the sampled-constants intervals resample (model.md section 1.1 table).
SAMPLED_CONSTANTS_INTERVAL = (
    "percentile bootstrap (2000 resamples, seed 0) over the Sobol design's base rows, each with its D + 2 samples "
    "(A, the D AB rows that copy D - 1 of its coordinates, B); a table without the sample index: Clopper-Pearson "
    "over the samples as independent draws"
)


def sampled_constants_entry(claim: str, table: pd.DataFrame, min_share: float = SENSITIVITY_MIN_SHARE) -> dict:
    """The robustness entry of ``claim`` over sampled constants, from a ``sensitivity_samples`` table.

    C3 and C4 read different columns (:data:`coinfer.studies.sensitivity.CLAIM_GAINS`, derived by
    :func:`coinfer.studies.sensitivity.claim_gain`). The interval of each model's share resamples the design's
    base rows (:func:`coinfer.studies.sensitivity.share_interval`) when the table has the ``sample`` index.

    Parameters
    ----------
    claim : str
        "C3" or "C4".
    table : pandas.DataFrame
        ``sensitivity_samples`` rows (``model``, ``sample``, the gain columns).
    min_share : float
        Share of the samples at which the gain must hold [-].

    Returns
    -------
    dict
        ``reading``, ``criterion``, ``gain`` (the column read), ``measured`` (share per model [-]),
        ``measured_ci95`` (interval per model [-]), ``interval`` (what it resamples), ``verdict`` (judged per
        model, combined over every model for C3, some model for C4) and ``holds`` (true, false or null).
    """
    from coinfer.studies.sensitivity import CLAIM_GAINS, base_rows, claim_gain, share_interval

    gain = CLAIM_GAINS[claim]
    outcome = claim_gain(table, claim)
    groups = outcome.groupby(table["model"], sort=False)
    shares = {str(model): float(rows.mean()) for model, rows in groups}
    intervals: dict[str, list[float]] = {}
    for model, rows in groups:
        if "sample" in table.columns:
            intervals[str(model)] = list(share_interval(rows.to_numpy(), base_rows(table.loc[rows.index])))
        else:
            intervals[str(model)] = list(clopper_pearson(int(rows.sum()), len(rows)))
    counts = sorted(set(groups.size().tolist()))
    size = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    quantifier = "every" if claim == "C3" else "some"
    verdict = combine((judge((low, high), min_share) for low, high in intervals.values()), quantifier)
    return {
        "reading": f"sampled constants (Sobol design, {size} samples per model; holds: gain at a majority of them)",
        "criterion": (
            f"the claim's gain ({gain}, by >= 1 %) holds at >= {min_share:.0%} of the sampled constants "
            f"for {quantifier} model"
        ),
        "gain": gain,
        "verdict": verdict,
        "holds": holds_value(verdict),
        "meets_threshold_at_point_estimate": bool(
            shares and (all if claim == "C3" else any)(v >= min_share for v in shares.values())
        ),
        "measured": shares,
        "measured_ci95": intervals,
        "interval": SAMPLED_CONSTANTS_INTERVAL if "sample" in table.columns else "Clopper-Pearson over the samples",
    }


def sampled_constants_entries(claim: str) -> list[dict]:
    """:func:`sampled_constants_entry` of ``claim`` if notebook 06 wrote ``sensitivity_samples.csv``.

    Parameters
    ----------
    claim : str
        "C3" or "C4".

    Returns
    -------
    list of dict
        The one entry, read from ``data/sensitivity_samples.csv``; empty without that file.

    References
    ----------
    docs/model.md, sections 1.1 and 7.4 (sensitivity of the verdicts to the constants).
    """
    if not (data_dir() / "sensitivity_samples.csv").exists():
        return []
    return [sampled_constants_entry(claim, read_csv("sensitivity_samples.csv"))]


def single_start_rates() -> dict[str, dict[str, Any]]:
    """Per model: how often one random start of the local solver reaches the optimum, with Clopper-Pearson 95 %.

    From ``opt_single_starts.csv`` (notebook 06; :func:`coinfer.studies.joint_optimisation.single_start_summary`);
    empty without it. The starts are random draws (model.md section 1.1).

    Returns
    -------
    dict
        ``single_start_success`` (model -> share [-]), ``single_start_success_ci95`` (model -> [low, high] [-]) and
        ``single_start_runs`` (model -> starts [count]); empty when the file is absent.

    References
    ----------
    docs/model.md, sections 1.1 and 5.6.
    """
    if not (data_dir() / "opt_single_starts.csv").exists():
        return {}
    from coinfer.studies.joint_optimisation import single_start_summary

    summary = single_start_summary(read_csv("opt_single_starts.csv"))
    return {
        "single_start_success": {str(m): float(r.success_rate) for m, r in summary.iterrows()},
        "single_start_success_ci95": {
            str(m): [float(r.success_rate_ci95_low), float(r.success_rate_ci95_high)] for m, r in summary.iterrows()
        },
        "single_start_runs": {str(m): int(r.runs) for m, r in summary.iterrows()},
    }


def claim_c3(t: Thresholds = THRESHOLDS) -> dict:
    """C3 in two parts from ``opt_budget_sweep.csv`` (notebook 06); the claim is their conjunction (model.md 1.2).

    C3a (a correctness check of the solver): never worse than a benchmark on its own objective. C3b: the joint
    design beats, per model, the better of the two extremes and the strongest other baseline (:func:`c3_parts`).

    Parameters
    ----------
    t : Thresholds
        The thresholds.

    Returns
    -------
    dict
        The claim with ``parts`` (C3a, C3b), ``verdict``, ``holds`` (true, false or null), ``measured``,
        ``robustness``.
    """
    deployed = read_csv("deployed_designs.csv") if (data_dir() / "deployed_designs.csv").exists() else None
    measured, c3a, c3b = c3_parts(read_csv("opt_budget_sweep.csv"), t, deployed)
    measured["sampling_interval"] = GRID  # every budget, bandwidth and distance point of the sweep grid
    old = measured["points_where_proposed_is_worse"] == 0 and all(
        measured["by_benchmark"][s]["share_beaten"] >= t.c3_min_share_beaten
        for s in EXTREME_SCHEMES
        if s in measured["by_benchmark"]
    )
    measured["old_criterion_verdict"] = from_point(old)
    measured.update(single_start_rates())
    parts = _with_holds(
        [
            {
                "id": "C3a",
                "criterion": (
                    f"at every budget, bandwidth and distance sweep point the proposed design is never worse than a "
                    f"benchmark on its own objective (relative tolerance {t.c3_tolerance:g}) nor infeasible where "
                    "one is feasible (a correctness check of the solver)"
                ),
                "measured": {
                    "points_where_proposed_is_worse": measured["points_where_proposed_is_worse"],
                    "points_worse_by_benchmark": {s: v["points_worse"] for s, v in measured["by_benchmark"].items()},
                    "sampling_interval": GRID,
                },
                "verdict": c3a,
                "interval": "none: every point of the sweep grids, a complete enumeration",
            },
            {
                "id": "C3b",
                "criterion": (
                    f"for every model, at >= {t.c3b_min_share_beaten:.0%} of the sweep points where the proposed "
                    f"design is feasible, its objective is lower by >= {t.c3_min_margin:.0%} (or it is feasible where "
                    "they are not) than (i) the better of fully on-device and fully on-server and (ii) the strongest "
                    f"other baseline (the one it beats least often; {', '.join(SOLVER_BENCHMARKS)} excepted: it solves "
                    "the same problem, C3a)"
                ),
                "measured": {"by_model": measured["by_model"], "sampling_interval": GRID},
                "verdict": c3b,
                "interval": "none: every point of the sweep grids, a complete enumeration",
            },
        ]
    )
    verdict = conjunction(p["verdict"] for p in parts)
    return {
        "id": "C3",
        "criterion": "C3a and C3b (the paper's claim is their conjunction)",
        "parts": parts,
        "measured": measured,
        "verdict": verdict,
        "holds": holds_value(verdict),
        "robustness": _robustness("opt_robustness_sweep.csv", c3_verdict, t) + sampled_constants_entries("C3"),
        "figures": ["opt_budget_sweep", "opt_fading"],
        "notebooks": ["06_joint_optimisation"],
    }


def _tie_to_extreme(near_best: pd.Series, extremes: tuple[int, int]) -> int:
    """The winning split of one setting: an extreme among the tied best splits if there is one."""
    return next((s for s in extremes if near_best[s]), near_best.idxmax())


def c4_verdict(sweep: pd.DataFrame, t: Thresholds = THRESHOLDS) -> tuple[dict, bool]:
    """``(measured, holds)`` of the C4 criterion on one per-split table (``opt_split_sweep`` rows).

    Per model, over the (bandwidth, latency factor, energy factor) settings where some split is feasible: the
    winning split of each setting (splits within ``t.c4_tie_tolerance`` of the best tie, an extreme split first)
    and each split's worst regret ``objective / best - 1`` over the settings (inf where it is infeasible).

    Parameters
    ----------
    sweep : pandas.DataFrame
        ``opt_split_sweep`` rows (model, split, bandwidth, latency_factor, energy_factor, status, objective).
    t : Thresholds
        The thresholds (``c4_min_distinct_winners`` [count], ``c4_min_regret`` [-], ``c4_tie_tolerance`` [-]).

    Returns
    -------
    measured : dict
        ``by_model``: ``settings``, ``distinct_winning_splits`` [count], ``winning_splits``, ``best_fixed_split``
        (the least worst regret) and ``best_fixed_split_worst_regret`` [-].
    holds : bool
        Whether some model has enough distinct winners and a best fixed split with at least ``c4_min_regret``.

    References
    ----------
    docs/model.md, sections 1 (C4) and 5.5 (split selection).
    """
    settings = ["bandwidth", "latency_factor", "energy_factor"]
    per_model: dict[str, dict[str, Any]] = {}
    for model, rows in sweep.groupby("model", sort=True):
        objective = rows.assign(value=np.where(rows["status"] == "optimal", rows["objective"], np.inf)).pivot_table(
            index=settings, columns="split", values="value", aggfunc="first"
        )
        objective = objective[np.isfinite(objective).any(axis=1)]  # settings where some split is feasible
        if objective.empty:
            per_model[model] = {
                "settings": 0,
                "distinct_winning_splits": 0,
                "winning_splits": [],
                "best_fixed_split": None,
                "best_fixed_split_worst_regret": float("nan"),
            }
            continue
        best = objective.min(axis=1)
        # Splits within tie_tolerance of the best tie (the objective's floor is reached by several splits);
        # a tie is credited to a fully on-server/on-device extreme first, so ties never invent a winner.
        near_best = objective.le(best * (1 + t.c4_tie_tolerance), axis=0)
        extremes = (objective.columns.min(), objective.columns.max())
        winners = near_best.apply(_tie_to_extreme, axis=1, extremes=extremes)
        with np.errstate(divide="ignore", invalid="ignore"):
            # inf where that split is infeasible (or worse than a zero best); 0/0: both unpruned, no regret
            regret = (objective.div(best, axis=0) - 1.0).fillna(0.0)
        worst_regret = regret.max(axis=0)
        fixed = int(worst_regret.idxmin())
        per_model[model] = {
            "settings": int(len(objective)),
            "distinct_winning_splits": int(winners.nunique()),
            "winning_splits": sorted(int(s) for s in winners.unique()),
            "best_fixed_split": fixed,
            "best_fixed_split_worst_regret": float(worst_regret[fixed]),
        }
    holds = any(
        m["distinct_winning_splits"] >= t.c4_min_distinct_winners
        and m["best_fixed_split_worst_regret"] >= t.c4_min_regret
        for m in per_model.values()
    )
    return {"by_model": per_model}, bool(holds)


def c4_binding_verdict(winners: pd.DataFrame, t: Thresholds = THRESHOLDS) -> tuple[dict, bool | None]:
    """``(measured, holds)`` of C4 where budgets bind, on the winner map (``opt_split_winners`` rows).

    Per model, the grid points (bandwidth x latency budget) where at least two splits are feasible and a budget
    binds (``budget_binds``: the best design's objective is above its split's unpruned objective): how many
    distinct best splits (``winner``, ties credited to an extreme, model.md 5.5) and the share of those points
    whose best split is intermediate (``0 < winner < last_split``).

    Parameters
    ----------
    winners : pandas.DataFrame
        ``opt_split_winners`` rows (``model``, ``winner``, ``feasible_splits``, ``budget_binds``, ``last_split``).
    t : Thresholds
        ``c4_binding_min_distinct`` [count] and ``c4_binding_min_interior_share`` [-].

    Returns
    -------
    measured : dict
        ``by_model``: ``grid_points``, ``binding_points`` [count], ``binding_distinct_best_splits`` [count],
        ``binding_best_splits``, ``binding_interior_share`` [-] (null without binding points).
    holds : bool or None
        Whether some model meets both thresholds; None where no model has a binding point (needs data).

    References
    ----------
    docs/model.md, sections 1 (C4) and 5.5.
    """
    per_model: dict[str, dict[str, Any]] = {}
    for model, rows in winners.groupby("model", sort=True):
        binding = rows[(rows["feasible_splits"] >= 2) & rows["budget_binds"].astype(bool)]
        best = binding["winner"].astype(int)
        interior = (best > 0) & (best < binding["last_split"].astype(int))
        per_model[str(model)] = {
            "grid_points": int(len(rows)),
            "binding_points": int(len(binding)),
            "binding_distinct_best_splits": int(best.nunique()),
            "binding_best_splits": sorted(int(s) for s in best.unique()),
            "binding_interior_share": float(interior.mean()) if len(binding) else None,
        }
    if not any(m["binding_points"] for m in per_model.values()):
        return {"by_model": per_model}, None
    holds = any(
        m["binding_distinct_best_splits"] >= t.c4_binding_min_distinct
        and (m["binding_interior_share"] or 0.0) >= t.c4_binding_min_interior_share
        for m in per_model.values()
    )
    return {"by_model": per_model}, bool(holds)


def sweep_readings(claim: str, t: Thresholds = THRESHOLDS) -> dict:
    """``{"id", "robustness"}`` of C3 or C4 from notebook 06's reading tables alone (for its own printout).

    The readings (``opt_robustness_sweep.csv``, ``opt_robustness_splits.csv``) hold the physical model ("as run")
    and the paper's model; nothing downstream of notebook 06 is read, so the notebook can call it
    (:func:`coinfer.claims.report.model_comparison_lines` takes the result).

    Parameters
    ----------
    claim : str
        "C3" or "C4".
    t : Thresholds
        The thresholds.

    Returns
    -------
    dict
        ``id`` and ``robustness`` (the verdict under each reading).
    """
    if claim == "C3":
        return {"id": "C3", "robustness": _robustness("opt_robustness_sweep.csv", c3_verdict, t)}
    if claim == "C4":
        return {"id": "C4", "robustness": _robustness("opt_robustness_splits.csv", c4_verdict, t)}
    raise ParameterError(f"claim: got {claim!r}; allowed C3, C4")


def claim_c4(t: Thresholds = THRESHOLDS) -> dict:
    """C4 from ``opt_split_sweep.csv`` (notebook 06): how much a wrong split costs.

    Parameters
    ----------
    t : Thresholds
        The thresholds.

    Returns
    -------
    dict
        The claim: ``id``, ``criterion``, ``measured`` (:func:`c4_verdict`, with ``sampling_interval``), ``holds``,
        ``robustness`` (the sweep readings and the sampled constants), ``figures``, ``notebooks``.

    References
    ----------
    docs/model.md, sections 1 (C4), 1.2 and 5.5.
    """
    winners = read_csv("opt_split_winners.csv") if (data_dir() / "opt_split_winners.csv").exists() else None
    if winners is not None and {"budget_binds", "last_split"} <= set(winners.columns):
        measured, holds = c4_binding_verdict(winners, t)
    else:  # a winner map written before the criterion changed: no budget_binds column
        measured, holds = {"by_model": {}}, None
    measured["sampling_interval"] = GRID  # every cell of the bandwidth x latency grid
    # The criterion before the review (split curves at 0.5 / 1 / 2 x the default point), kept as a reading: under
    # the physical model those settings rarely bind (1 best split per model in the data it was judged on).
    curves, curves_hold = c4_verdict(read_csv("opt_split_sweep.csv"), t)
    before = {"reading": "split curves at 0.5, 1, 2 x the default point (criterion before the review)"}
    return {
        "id": "C4",
        "criterion": (
            f"for some model, among the winner-map grid points (bandwidth x latency budget) where >= 2 splits are "
            f"feasible and a budget binds, >= {t.c4_binding_min_distinct} distinct best splits and an intermediate "
            f"best split at >= {t.c4_binding_min_interior_share:.0%} of them"
        ),
        "measured": measured,
        "holds": holds,
        "robustness": [{**before, "holds": curves_hold, "measured": curves}]
        + _robustness("opt_robustness_splits.csv", c4_verdict, t)
        + sampled_constants_entries("C4"),
        "figures": ["opt_split_objective", "opt_split_winner"],
        "notebooks": ["06_joint_optimisation"],
    }
