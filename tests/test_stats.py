"""Intervals and the inconclusive rule (coinfer.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coinfer import stats
from coinfer.validation import ParameterError


def test_clopper_pearson_known_values():
    # 16 of 16: the lower bound is (0.025)^(1/16), the README's "79 %".
    low, high = stats.clopper_pearson(16, 16)
    assert low == pytest.approx(0.025 ** (1 / 16), rel=1e-9) and high == 1.0
    low, high = stats.clopper_pearson(0, 10)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    assert all(math.isnan(v) for v in stats.clopper_pearson(0, 0))
    with pytest.raises(ParameterError, match="^successes"):
        stats.clopper_pearson(11, 10)


def test_bootstrap_mean_is_seeded_and_covers_the_mean():
    x = np.random.default_rng(1).normal(3.0, 1.0, 400)
    first, second = stats.bootstrap_mean(x, seed=5), stats.bootstrap_mean(x, seed=5)
    assert first == second and first[0] < x.mean() < first[1]
    assert first[1] - first[0] == pytest.approx(2 * 1.96 / 20, rel=0.2)  # about 2 z sigma / sqrt(n)
    assert all(math.isnan(v) for v in stats.bootstrap_mean([]))


def test_judge_rule():
    assert stats.judge((0.96, 0.99), 0.95) == "holds"
    assert stats.judge((0.90, 0.94), 0.95) == "does not hold"
    assert stats.judge((0.90, 0.99), 0.95) == "inconclusive"


def test_cluster_bootstrap_of_two_opposite_clusters_spans_everything():
    # Clusters 0/1 and 1/1: a resample has share 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4, so the
    # 2.5 % and 97.5 % quantiles are 0 and 1; Clopper-Pearson over the 2 pairs is narrower only in name.
    assert stats.cluster_bootstrap_share([0, 1], [1, 1], resamples=4000, seed=1) == (0.0, 1.0)


def test_cluster_bootstrap_keeps_a_cluster_together():
    # Ten clusters with the same share: every resample has that share, however many pairs each holds.
    assert stats.cluster_bootstrap_share([3] * 10, [4] * 10) == (0.75, 0.75)
    # One photo with 40 crops: the bootstrap has no spread to show (stated in the docstring).
    assert stats.cluster_bootstrap_share([30], [40]) == (0.75, 0.75)
    # Pooled share, not the mean of shares: (9 + 0) / (10 + 1) in the resample that draws both once.
    low, high = stats.cluster_bootstrap_share([9, 0], [10, 1], resamples=4000)
    assert low == 0.0 and high == 0.9


def test_cluster_bootstrap_is_seeded_and_wider_than_pairs_when_clusters_differ():
    rng = np.random.default_rng(0)
    trials = rng.integers(5, 30, size=7)  # seven photos with many crops each
    successes = np.minimum(trials, rng.binomial(trials, [0.2, 0.5, 0.9, 1.0, 1.0, 0.7, 0.95]))
    first = stats.cluster_bootstrap_share(successes, trials, seed=3)
    assert first == stats.cluster_bootstrap_share(successes, trials, seed=3)
    pairs = stats.clopper_pearson(int(successes.sum()), int(trials.sum()))
    assert first[1] - first[0] > pairs[1] - pairs[0]
    assert first[0] <= successes.sum() / trials.sum() <= first[1]


def test_cluster_bootstrap_refuses_bad_counts():
    assert all(math.isnan(v) for v in stats.cluster_bootstrap_share([], []))
    with pytest.raises(ParameterError, match="successes"):
        stats.cluster_bootstrap_share([2], [1])
    with pytest.raises(ParameterError, match="resamples"):
        stats.cluster_bootstrap_share([1], [1], resamples=0)
