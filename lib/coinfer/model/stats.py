"""Intervals on measured numbers: Clopper-Pearson for shares, seeded bootstrap for means and clustered shares
(model.md sections 1.1 and 3.3).

The claims report states a 95 % interval beside every measured share and
applies one rule, fixed before the data: a claim whose interval straddles its
threshold is *inconclusive* rather than holding or failing. Every bootstrap
here is the percentile bootstrap, vectorised over its seeded resamples.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from scipy import stats

from coinfer.base.validation import ParameterError, require_range

#: Confidence level of every interval in the claims report.
LEVEL = 0.95
#: What the claims report states instead of an interval for a share over a deterministic enumeration.
GRID = "grid share, no sampling interval"
#: Task metrics that are shares of the held-out inputs (a 0/1 outcome per input): Clopper-Pearson (model.md 1.1).
SHARE_METRICS = ("test_accuracy", "top1_agreement", "topic_accuracy")


def clopper_pearson(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial share; ``(nan, nan)`` for zero trials.

    Parameters
    ----------
    successes : int
        Successes [count], in ``0..trials``.
    trials : int
        Trials [count].
    level : float
        Confidence level [1] (default 0.95).

    Returns
    -------
    tuple of float
        ``(low, high)`` bounds of the share [1].

    References
    ----------
    docs/model.md, section 1.1 (intervals and the inconclusive rule).
    """
    require_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    if trials == 0:
        return float("nan"), float("nan")
    require_range("successes", successes, 0, trials, integer=True)
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level, method="exact")
    return float(interval.low), float(interval.high)


def bootstrap_mean(
    values: npt.ArrayLike, *, resamples: int = 2000, level: float = LEVEL, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, vectorised over ``resamples`` seeded resamples.

    Parameters
    ----------
    values : array_like
        The observations [any unit].
    resamples : int
        Bootstrap resamples [count].
    level : float
        Confidence level [1] (default 0.95).
    seed : int
        Seed of the resampling [1].

    Returns
    -------
    tuple of float
        ``(low, high)`` bounds of the mean [unit of ``values``].

    References
    ----------
    docs/model.md, section 1.1.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    return _percentiles(means, level)


def _percentiles(replicates: npt.NDArray[np.float64], level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return float(low), float(high)


def _ranks(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Average ranks (ties share their mean rank) along the last axis of a 2-D array."""
    return np.asarray(stats.rankdata(rows, axis=1), dtype=float)


def bootstrap_spearman(
    x: npt.ArrayLike, y: npt.ArrayLike, *, resamples: int = 2000, level: float = LEVEL, seed: int = 0
) -> tuple[float, float]:
    """Pairs bootstrap (percentile) interval of Spearman's rank correlation of ``x`` and ``y``.

    The pairs ``(x_i, y_i)`` are resampled together; a resample in which
    either side is constant has no correlation and is left out. Fewer than
    three pairs give ``(nan, nan)``.

    Parameters
    ----------
    x, y : array_like
        Paired values (any units).
    resamples : int
        Bootstrap resamples [count].
    level : float
        Confidence level [1] in (0, 1).
    seed : int
        Seed of the resampling.

    Returns
    -------
    tuple of float
        Lower and upper end of the interval [1].

    References
    ----------
    docs/model.md, section 1.1.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"x, y: lengths {a.size} and {b.size} differ")
    if a.size < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    index = rng.integers(0, a.size, size=(resamples, a.size))
    ra, rb = _ranks(a[index]), _ranks(b[index])
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    scale = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    valid = scale > 0
    if not valid.any():
        return float("nan"), float("nan")
    return _percentiles((ra * rb).sum(axis=1)[valid] / scale[valid], level)


def share_interval(successes: int, trials: int, kind: str, level: float = LEVEL) -> list[float] | str:
    """The ``..._ci95`` entry of a share: Clopper-Pearson for ``kind="sampled"``, a statement for ``"grid"``.

    A share over a deterministic enumeration (a sweep grid, every layer) has
    no sampling error, so it gets the words :data:`GRID` instead of an interval.

    Parameters
    ----------
    successes : int
        Cases that hold [count].
    trials : int
        All cases [count].
    kind : str
        ``"sampled"`` or ``"grid"``.
    level : float
        Confidence level [1].

    Returns
    -------
    list of float or str
        The interval [1], or :data:`GRID` for a grid share.

    References
    ----------
    docs/model.md, section 1.1.
    """
    if kind == "grid":
        return GRID
    if kind != "sampled":
        raise ValueError(f"kind: {kind!r}; allowed: 'sampled', 'grid'")
    return list(clopper_pearson(successes, trials, level))


def mean_interval(values: npt.ArrayLike, *, binary: bool, seed: int = 0) -> tuple[float, float]:
    """95 % interval of a mean over inputs: Clopper-Pearson if the values are 0/1 outcomes, else the bootstrap.

    ``binary`` marks a share-valued metric (accuracy, top-1 agreement), whose
    mean is a share over the inputs (model.md section 1.1).

    Parameters
    ----------
    values : array_like
        Per-input values of the metric [metric units].
    binary : bool
        Whether the values are 0/1 outcomes.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    tuple of float
        Lower and upper end of the 95 % interval [metric units].

    References
    ----------
    docs/model.md, section 1.1.
    """
    x = np.asarray(values, dtype=float)
    if not binary:
        return bootstrap_mean(x, seed=seed)
    if not np.isin(x, (0.0, 1.0)).all():
        raise ValueError("values: a binary metric takes only 0 and 1")
    return clopper_pearson(int(x.sum()), int(x.size))


def cluster_bootstrap_share(
    successes: npt.ArrayLike, trials: npt.ArrayLike, *, resamples: int = 2000, level: float = LEVEL, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of a pooled share ``sum(successes) / sum(trials)`` resampling whole clusters.

    Entry ``i`` counts the successes and trials of cluster ``i`` (an input
    with its pairs at several ratios and parts; a photo with all its crops).
    Pairs inside a cluster are dependent, so a resample draws clusters with
    replacement and keeps each one's pairs together (model.md section 3.3);
    vectorised over ``resamples`` seeded resamples. With few clusters the
    interval is coarse and, as every bootstrap, too narrow; one cluster
    gives a zero-width interval.

    Parameters
    ----------
    successes, trials : array_like
        Successes and trials of each cluster [count].
    resamples : int
        Bootstrap resamples [count].
    level : float
        Confidence level [1] (default 0.95).
    seed : int
        Seed of the resampling [1].

    Returns
    -------
    tuple of float
        ``(low, high)`` bounds of the pooled share [1]; ``(nan, nan)`` without trials.

    References
    ----------
    docs/model.md, sections 1.1 and 3.3.
    """
    require_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    require_range("resamples", resamples, 1, integer=True)
    s, t = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    if s.shape != t.shape or np.any(s < 0) or np.any(s > t):
        raise ParameterError("successes: expected one count per cluster, each in 0..trials of that cluster")
    if t.sum() <= 0:
        return float("nan"), float("nan")
    index = np.random.default_rng(seed).integers(0, s.size, size=(resamples, s.size))
    drawn = t[index].sum(axis=1)
    return _percentiles(s[index].sum(axis=1)[drawn > 0] / drawn[drawn > 0], level)


def judge(interval: tuple[float, float], threshold: float) -> str:
    """The verdict of a measured share's interval against its threshold.

    ``"holds"`` if the whole interval is at or above ``threshold``, ``"does not hold"`` if wholly below,
    else ``"inconclusive"`` (the rule the claims report applies to every measured share).

    Parameters
    ----------
    interval : tuple of float
        Lower and upper end of the share's interval [1].
    threshold : float
        The criterion's threshold [1].

    Returns
    -------
    str
        ``"holds"``, ``"does not hold"`` or ``"inconclusive"``.

    References
    ----------
    docs/model.md, section 1.1.
    """
    low, high = interval
    if low >= threshold:
        return "holds"
    if high < threshold:
        return "does not hold"
    return "inconclusive"


def combine(verdicts: Iterable[str], quantifier: str = "every") -> str:
    """One verdict from per-model verdicts of :func:`judge` (model.md section 1.1).

    ``"every"``: any "does not hold" decides "does not hold", else any
    "inconclusive" makes it inconclusive. ``"some"``: any "holds" decides
    "holds", else any "inconclusive" makes it inconclusive. No verdicts at all:
    "does not hold" (there is nothing that holds).

    Parameters
    ----------
    verdicts : iterable of str
        Verdicts of :func:`judge`.
    quantifier : str
        ``"every"`` or ``"some"``.

    Returns
    -------
    str
        ``"holds"``, ``"does not hold"`` or ``"inconclusive"``.

    References
    ----------
    docs/model.md, section 1.1.
    """
    found = list(verdicts)
    if quantifier not in ("every", "some"):
        raise ValueError(f"quantifier: {quantifier!r}; allowed: 'every', 'some'")
    decisive, other = ("does not hold", "holds") if quantifier == "every" else ("holds", "does not hold")
    if not found or decisive in found:
        return decisive if found else "does not hold"
    return "inconclusive" if "inconclusive" in found else other


def decided_bracket(in_favour: int, undecided: int, total: int) -> tuple[float, float]:
    """Bracket of a share of comparisons, some undecided by their intervals, counted both ways (section 1.1).

    Parameters
    ----------
    in_favour : int
        Comparisons decided in favour [count].
    undecided : int
        Comparisons their intervals leave undecided [count].
    total : int
        All comparisons [count].

    Returns
    -------
    tuple of float
        ``(in_favour / total, (in_favour + undecided) / total)`` [1]: the undecided counted against, then for;
        NaN for no comparisons.

    References
    ----------
    docs/model.md, section 1.1.
    """
    if total == 0:
        return float("nan"), float("nan")
    return in_favour / total, (in_favour + undecided) / total


def conformal_rank(n: int, level: float = LEVEL) -> int:
    """Rank ``k = ceil((n + 1) level)`` of the calibration order statistic of split-conformal coverage ``level``.

    Parameters
    ----------
    n : int
        Number of calibration scores [-], >= 1.
    level : float
        Target coverage [-], in (0, 1).

    Returns
    -------
    int
        ``k`` [-]; ``k > n`` means no finite calibration constant reaches ``level`` (the constant is infinite).

    References
    ----------
    docs/model.md, section 3.3.
    """
    require_range("n", n, 1, integer=True)
    require_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    # the product is formed in floating point: 101 * 0.95 must give 96, not 97
    return int(np.ceil((n + 1) * level - 1e-9))


def conformal_guarantee(n: int, level: float = LEVEL) -> float:
    """Coverage of a held-out score exchangeable with ``n`` calibration scores under the constant of rank ``k``.

    With ``H`` the ``k``-th smallest calibration score, ``k`` from
    :func:`conformal_rank`, ``P(score <= H) = k / (n + 1)`` (continuous
    scores), at least ``level`` (model.md section 3.3); ``1`` when ``k > n``.

    Parameters
    ----------
    n : int
        Number of calibration scores [-], >= 1.
    level : float
        Target coverage [-], in (0, 1).

    Returns
    -------
    float
        The guaranteed coverage [-], in [level, 1].

    References
    ----------
    docs/model.md, section 3.3.
    """
    k = conformal_rank(n, level)
    return 1.0 if k > n else k / (n + 1)


def _weighted_rank_statistic(
    scores: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], level: float
) -> npt.NDArray[np.float64]:
    """Per resample (row of ``weights``): the conformal constant of the sorted ``scores`` repeated ``weights`` times."""
    cumulative = np.cumsum(weights, axis=1)
    n = cumulative[:, -1]
    k = np.ceil((n + 1) * level - 1e-9)
    index = np.argmax(cumulative >= k[:, None], axis=1)
    return np.where((k <= n) & (n > 0), scores[index], np.inf)


def conformal_coverage_interval(
    calibration: Iterable[tuple[npt.ArrayLike, npt.ArrayLike]],
    heldout: Iterable[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    level: float = LEVEL,
    resamples: int = 2000,
    interval_level: float = LEVEL,
    seed: int = 0,
) -> dict[str, float | list[float]]:
    """Held-out coverage of per-group split-conformal constants, with a bootstrap over calibration and held-out units.

    Group ``g`` (one part at one pruning ratio, model.md section 3.3) has
    calibration scores with their cluster ids (``calibration[g] = (scores,
    clusters)``) and held-out scores with theirs (``heldout[g]``). Its
    constant is the ``k``-th smallest calibration score
    (:func:`conformal_rank`); a held-out pair holds when its score is at most
    the constant. The interval resamples calibration clusters and held-out
    clusters, each with replacement and each cluster with all its scores in
    every group, and recomputes every constant: it carries the calibration's
    randomness as well as the held-out sample's (percentile bootstrap, seeded).

    Parameters
    ----------
    calibration : iterable of (array, array)
        Per group: calibration scores [-] (``||df||_1 / ||dW||_1``) and their integer cluster ids.
    heldout : iterable of (array, array)
        Per group, in the same order: held-out scores [-] and their integer cluster ids.
    level : float
        Target coverage of each constant [-], in (0, 1).
    resamples : int
        Bootstrap resamples [-], >= 1.
    interval_level : float
        Confidence level of the interval [-], in (0, 1).
    seed : int
        Seed of the resampling.

    Returns
    -------
    dict
        ``share`` (held-out pairs that hold / all held-out pairs) [-], ``guarantee`` (the pairs' mean of
        :func:`conformal_guarantee` of their group) [-], ``ci95`` (interval of ``share``) [-],
        ``n_calibration_min`` (fewest calibration scores of a group) [-], ``calibration_clusters`` and
        ``heldout_clusters`` [-].

    References
    ----------
    docs/model.md, sections 1.1 and 3.3.
    """
    require_range("resamples", resamples, 1, integer=True)
    cal, held = list(calibration), list(heldout)
    if len(cal) != len(held) or not cal:
        raise ParameterError("calibration, heldout: expected the same number (>= 1) of groups")
    cal_arrays = [(np.asarray(s, float), np.asarray(c, int)) for s, c in cal]
    held_arrays = [(np.asarray(s, float), np.asarray(c, int)) for s, c in held]
    n_cal = 1 + max(int(c.max()) for _, c in cal_arrays if c.size)
    n_held = 1 + max(int(c.max()) for _, c in held_arrays if c.size)
    rng = np.random.default_rng(seed)
    w_cal = np.apply_along_axis(np.bincount, 1, rng.integers(0, n_cal, (resamples, n_cal)), minlength=n_cal)
    w_held = np.apply_along_axis(np.bincount, 1, rng.integers(0, n_held, (resamples, n_held)), minlength=n_held)
    holds, pairs = np.zeros(resamples), np.zeros(resamples)
    point_holds, point_pairs, guaranteed = 0.0, 0.0, 0.0
    for (c_scores, c_ids), (h_scores, h_ids) in zip(cal_arrays, held_arrays, strict=True):
        order = np.argsort(c_scores, kind="stable")
        c_scores, c_ids = c_scores[order], c_ids[order]
        constant = _weighted_rank_statistic(c_scores, np.ones((1, c_scores.size)), level)[0]
        point_holds += float((h_scores <= constant).sum())
        point_pairs += h_scores.size
        guaranteed += h_scores.size * conformal_guarantee(c_scores.size, level)
        constants = _weighted_rank_statistic(c_scores, w_cal[:, c_ids].astype(float), level)
        weights = w_held[:, h_ids].astype(float)
        holds += (weights * (h_scores[None, :] <= constants[:, None])).sum(axis=1)
        pairs += weights.sum(axis=1)
    valid = pairs > 0
    return {
        "share": point_holds / point_pairs,
        "guarantee": guaranteed / point_pairs,
        "ci95": list(_percentiles(holds[valid] / pairs[valid], interval_level)),
        "n_calibration_min": int(min(s.size for s, _ in cal_arrays)),
        "calibration_clusters": n_cal,
        "heldout_clusters": n_held,
    }


#: What :func:`paired_comparison` calls a difference its test does not decide.
TIE = "tie"


def mcnemar_exact(first_only: int, second_only: int) -> float:
    """Two-sided exact McNemar p-value of two designs scored 0/1 on the same inputs.

    Only the discordant inputs carry information: under the null hypothesis
    each is equally likely to favour either design, so the count favouring
    the first is Binomial(``first_only + second_only``, 1/2). The same
    statistic is the sign test of paired differences (ties dropped).

    Parameters
    ----------
    first_only : int
        Inputs where only the first design succeeds (or the difference is positive) [count].
    second_only : int
        Inputs where only the second design succeeds (or the difference is negative) [count].

    Returns
    -------
    float
        Two-sided p-value [1]; 1.0 without discordant inputs.

    References
    ----------
    docs/model.md, section 1.1. McNemar, Q. (1947), Psychometrika 12, 153-157.
    """
    require_range("first_only", first_only, 0, integer=True)
    require_range("second_only", second_only, 0, integer=True)
    discordant = int(first_only) + int(second_only)
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(int(first_only), discordant, 0.5).pvalue)


def paired_bootstrap_difference(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    *,
    clusters: npt.ArrayLike | None = None,
    resamples: int = 2000,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean paired difference ``first - second`` with a percentile bootstrap interval, clustered by source.

    Both designs are scored on the same inputs, so the difference is taken per
    input and the inputs (or, with ``clusters``, whole clusters such as the
    crops of one photo or the sentences of one topic) are resampled with their
    differences: the interval is that of a paired design, not of two
    independent samples.

    Parameters
    ----------
    first, second : array_like
        Per-input scores of the two designs, same order [unit of the metric].
    clusters : array_like, optional
        Source label of every input; inputs of one label are resampled together.
    resamples : int
        Bootstrap resamples [count].
    level : float
        Confidence level [1] (default 0.95).
    seed : int
        Seed of the resampling [1].

    Returns
    -------
    tuple of float
        ``(mean difference, low, high)`` [unit of the metric]; NaNs without inputs.

    References
    ----------
    docs/model.md, section 1.1.
    """
    require_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    require_range("resamples", resamples, 1, integer=True)
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ParameterError(f"first, second: expected two 1-D arrays of one length, got {a.shape}, {b.shape}")
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    difference = a - b
    labels = np.arange(a.size) if clusters is None else np.asarray(clusters)
    if labels.shape != a.shape:
        raise ParameterError(f"clusters: expected one label per input ({a.size}), got shape {labels.shape}")
    _, cluster_of = np.unique(labels, return_inverse=True)
    sums = np.bincount(cluster_of, weights=difference)
    counts = np.bincount(cluster_of).astype(float)
    index = np.random.default_rng(seed).integers(0, sums.size, size=(resamples, sums.size))
    low, high = _percentiles(sums[index].sum(axis=1) / counts[index].sum(axis=1), level)
    return float(difference.mean()), low, high


def paired_comparison(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    *,
    binary: bool,
    clusters: npt.ArrayLike | None = None,
    alpha: float = 1.0 - LEVEL,
    seed: int = 0,
) -> tuple[str, float, float, float]:
    """Which of two designs measured on the same inputs is better, or a tie (model.md section 1.1).

    0/1 outcomes on independent inputs use the exact McNemar test; continuous
    metrics, and any metric whose inputs share a source (``clusters``), use
    the paired (cluster) bootstrap of the mean difference. A difference the
    test does not decide at ``alpha`` is a tie.

    Parameters
    ----------
    first, second : array_like
        Per-input scores of the two designs, same inputs in the same order [unit of the metric].
    binary : bool
        True if the scores are 0/1 outcomes (accuracy, top-1 agreement).
    clusters : array_like, optional
        Source label of every input (photo of a crop, topic of a sentence).
    alpha : float
        Two-sided significance level [1] (default 0.05).
    seed : int
        Seed of the bootstrap [1].

    Returns
    -------
    tuple
        ``(decision, mean difference, low, high)``: ``decision`` is ``"first"``,
        ``"second"`` or :data:`TIE`; the difference ``first - second`` [unit of the
        metric] with its ``1 - alpha`` interval (for McNemar the bootstrap interval
        of the same difference, reported beside the exact test).

    References
    ----------
    docs/model.md, section 1.1.
    """
    require_range("alpha", alpha, 0.0, 1.0, low_open=True, high_open=True)
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if binary and not (np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()):
        raise ParameterError("first, second: a binary metric takes only 0 and 1")
    mean, low, high = paired_bootstrap_difference(a, b, clusters=clusters, level=1.0 - alpha, seed=seed)
    if a.size == 0:
        return TIE, mean, low, high
    if binary and clusters is None:
        decided = mcnemar_exact(int(np.sum(a > b)), int(np.sum(a < b))) < alpha
    else:
        decided = low > 0.0 or high < 0.0
    if not decided or mean == 0.0:
        return TIE, mean, low, high
    return ("first" if mean > 0.0 else "second"), mean, low, high
