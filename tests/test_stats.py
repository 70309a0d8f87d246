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
