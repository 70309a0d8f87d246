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
    """Exact (Clopper-Pearson) interval of a binomial share; ``(nan, nan)`` for zero trials."""
    require_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    if trials == 0:
        return float("nan"), float("nan")
    require_range("successes", successes, 0, trials, integer=True)
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level, method="exact")
    return float(interval.low), float(interval.high)


def bootstrap_mean(
    values: npt.ArrayLike, *, resamples: int = 2000, level: float = LEVEL, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, vectorised over ``resamples`` seeded resamples."""
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
    gives a zero-width interval. ``(nan, nan)`` without trials.
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
    """``"holds"`` if the whole interval is at or above ``threshold``, ``"does not hold"`` if wholly below,
    else ``"inconclusive"`` (the rule the claims report applies to every measured share)."""
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
    """
    found = list(verdicts)
    if quantifier not in ("every", "some"):
        raise ValueError(f"quantifier: {quantifier!r}; allowed: 'every', 'some'")
    decisive, other = ("does not hold", "holds") if quantifier == "every" else ("holds", "does not hold")
    if not found or decisive in found:
        return decisive if found else "does not hold"
    return "inconclusive" if "inconclusive" in found else other


def decided_bracket(in_favour: int, undecided: int, total: int) -> tuple[float, float]:
    """Bracket of a share of comparisons, some undecided by their intervals, counted both ways (section 1.1)."""
    if total == 0:
        return float("nan"), float("nan")
    return in_favour / total, (in_favour + undecided) / total
