"""Intervals and the inconclusive rule (coinfer.model.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coinfer.base.validation import ParameterError
from coinfer.model import stats


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


def test_bootstrap_spearman_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    y = x + rng.normal(scale=1.0, size=200)
    first = stats.bootstrap_spearman(x, y, seed=3)
    assert first == stats.bootstrap_spearman(x, y, seed=3)
    from scipy.stats import spearmanr

    rho = spearmanr(x, y).statistic
    assert first[0] < rho < first[1]
    # Fisher z: the standard error of atanh(Spearman) is about 1.03 / sqrt(n - 3)
    half = 1.96 * 1.03 / np.sqrt(197)
    width = np.tanh(np.arctanh(rho) + half) - np.tanh(np.arctanh(rho) - half)
    assert first[1] - first[0] == pytest.approx(width, rel=0.25)
    # a perfect monotone relation: every resample has correlation 1
    assert stats.bootstrap_spearman(np.arange(10), np.arange(10) ** 3) == (1.0, 1.0)
    assert all(math.isnan(v) for v in stats.bootstrap_spearman([1, 2], [1, 2]))


def test_mean_interval_of_a_binary_metric_is_clopper_pearson():
    outcomes = np.array([1] * 30 + [0] * 2)
    assert stats.mean_interval(outcomes, binary=True) == stats.clopper_pearson(30, 32)
    assert stats.mean_interval(outcomes * 0.5, binary=False) == stats.bootstrap_mean(outcomes * 0.5)
    with pytest.raises(ValueError, match="^values"):
        stats.mean_interval([0.5, 1.0], binary=True)


def test_share_interval_states_grid_shares_in_words():
    assert stats.share_interval(3, 14, "grid") == stats.GRID
    assert stats.share_interval(3, 14, "sampled") == list(stats.clopper_pearson(3, 14))


def test_combine_every_and_some():
    assert stats.combine(["holds", "inconclusive", "does not hold"]) == "does not hold"
    assert stats.combine(["holds", "inconclusive"]) == "inconclusive"
    assert stats.combine(["holds", "holds"]) == "holds"
    assert stats.combine(["does not hold", "inconclusive"], "some") == "inconclusive"
    assert stats.combine(["does not hold", "holds"], "some") == "holds"
    assert stats.combine(["does not hold"], "some") == "does not hold"
    assert stats.combine([]) == "does not hold"


def test_decided_bracket_counts_undecided_both_ways():
    # 6 of 10 decided in favour, 3 undecided: [0.6, 0.9], judged inconclusive against 0.75
    bracket = stats.decided_bracket(6, 3, 10)
    assert bracket == (0.6, 0.9) and stats.judge(bracket, 0.75) == "inconclusive"
    assert all(math.isnan(v) for v in stats.decided_bracket(0, 0, 0))


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


def test_mcnemar_exact_matches_the_binomial_sign_test() -> None:
    # 9 discordant pairs all favouring one design: p = 2 * 0.5**9.
    assert stats.mcnemar_exact(9, 0) == pytest.approx(2 * 0.5**9)
    assert stats.mcnemar_exact(3, 3) == pytest.approx(1.0)
    assert stats.mcnemar_exact(0, 0) == 1.0
    assert stats.mcnemar_exact(13, 15) == pytest.approx(0.85, abs=0.01)  # issue 23's E3 example


def test_paired_comparison_decides_a_consistent_gain_and_calls_noise_a_tie() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2, 200).astype(float)
    better = base.copy()
    better[np.flatnonzero(base == 0)[:30]] = 1.0  # 30 inputs only the first gets right
    assert stats.paired_comparison(better, base, binary=True)[0] == "first"
    assert stats.paired_comparison(base, better, binary=True)[0] == "second"
    noisy = base.copy()
    noisy[:4] = 1.0 - noisy[:4]
    assert stats.paired_comparison(noisy, base, binary=True)[0] == stats.TIE
    assert stats.paired_comparison(base, base, binary=True)[0] == stats.TIE


def test_paired_bootstrap_clusters_widen_the_interval_when_sources_share_an_effect() -> None:
    rng = np.random.default_rng(2)
    clusters = np.repeat(np.arange(7), 32)  # 7 photos, 32 crops each
    effect = rng.normal(0.0, 0.3, 7)[clusters]
    first = effect + rng.normal(0.0, 0.01, clusters.size)
    second = np.zeros(clusters.size)
    _, low_iid, high_iid = stats.paired_bootstrap_difference(first, second)
    mean, low, high = stats.paired_bootstrap_difference(first, second, clusters=clusters)
    assert mean == pytest.approx(first.mean())
    assert high - low > 3 * (high_iid - low_iid)


def test_paired_inputs_are_checked() -> None:
    with pytest.raises(ParameterError, match="first, second"):
        stats.paired_bootstrap_difference([1.0, 2.0], [1.0])
    with pytest.raises(ParameterError, match="first, second"):
        stats.paired_comparison([0.5], [1.0], binary=True)
