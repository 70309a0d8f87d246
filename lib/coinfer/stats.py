"""Intervals on measured numbers: Clopper-Pearson for shares, seeded bootstrap for means and clustered shares.

The claims report states a 95 % interval beside every measured share and
applies one rule, fixed before the data: a claim whose interval straddles its
threshold is *inconclusive* rather than holding or failing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

from coinfer.validation import ParameterError, require_range

#: Confidence level of every interval in the claims report.
LEVEL = 0.95


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
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


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
    shares = s[index].sum(axis=1)[drawn > 0] / drawn[drawn > 0]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(shares, [tail, 1.0 - tail])
    return float(low), float(high)


def judge(interval: tuple[float, float], threshold: float) -> str:
    """``"holds"`` if the whole interval is at or above ``threshold``, ``"does not hold"`` if wholly below,
    else ``"inconclusive"`` (the rule the claims report applies to every measured share)."""
    low, high = interval
    if low >= threshold:
        return "holds"
    if high < threshold:
        return "does not hold"
    return "inconclusive"
