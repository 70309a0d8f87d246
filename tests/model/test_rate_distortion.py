"""model.md section 4: rate-distortion lower bound, magnitude-pruning distortion, distribution fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from coinfer.base.validation import ParameterError
from coinfer.model import rate_distortion as rd
from coinfer.model.pruning import prune_tensor

FINE = np.linspace(0.0, 1.0, 20_001)


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("b", [0.01, 1.0, 7.5])
def test_endpoints(b) -> None:
    assert rd.magnitude_distortion(0.0, b) == 0.0
    assert rd.magnitude_distortion(1.0, b) == pytest.approx(b, rel=1e-15)
    for q in (1, 8, 16, 32):
        assert rd.distortion_lower_bound(1.0, b, q) == pytest.approx(b, rel=1e-15)
        assert rd.distortion_lower_bound(0.0, b, q) == pytest.approx(b * 2.0**-q, rel=1e-15)


@pytest.mark.parametrize("q", [2, 8, 16, 32])
def test_lower_bound_flat_while_entropy_exceeds_savings(q) -> None:
    rho = np.geomspace(1e-15, 0.5, 3000)
    flat = rd.binary_entropy(rho) > rho * q
    assert flat.any() and (~flat).any()
    np.testing.assert_allclose(rd.distortion_lower_bound(rho[flat], 2.0, q), 2.0 * 2.0**-q, rtol=1e-14)
    assert np.all(rd.distortion_lower_bound(rho[~flat], 2.0, q) >= 2.0 * 2.0**-q * (1 - 1e-14))
    # the flat part is an initial interval
    assert flat[: np.argmin(flat)].all() and not flat[np.argmin(flat) :].any()


@pytest.mark.parametrize("q", [1, 2, 4, 8, 16, 32])
def test_lower_bound_monotone_and_convex(q) -> None:
    d = rd.distortion_lower_bound(FINE, 1.0, q)
    assert np.all(np.diff(d) >= -1e-15)
    assert np.all(np.diff(d, 2) >= -1e-13)


def test_without_min_the_bound_would_dip() -> None:
    """model.md §4: the `min` matters; without it D_LB is below b 2^-q just above 0 (so the monotonicity test bites)."""
    rho = np.geomspace(1e-6, 0.01, 100)
    unclipped = 2.0 ** -(rd.binary_entropy(rho) + (1 - rho) * 16)
    assert np.any(unclipped < 2.0**-16)
    assert np.all(rd.distortion_lower_bound(rho, 1.0, 16) >= 2.0**-16)


def test_magnitude_distortion_monotone_convex_and_small_rho() -> None:
    d = rd.magnitude_distortion(FINE, 1.0)
    assert np.all(np.diff(d) > 0)
    assert np.all(np.diff(d, 2) >= -1e-13)
    rho = np.array([1e-4, 1e-3])
    np.testing.assert_allclose(rd.magnitude_distortion(rho, 3.0), 3.0 * rho**2 / 2, rtol=1e-3)


def test_rate_function_inverse() -> None:
    d = np.geomspace(1e-6, 2.0, 50)
    np.testing.assert_allclose(rd.distortion_laplace(rd.rate_laplace(d, 2.0), 2.0), d, rtol=1e-12)
    assert rd.rate_laplace(2.0, 2.0) == 0.0


# --------------------------------------------------------------------------- Monte Carlo
def test_magnitude_pruning_curve_hand_computed() -> None:
    w = np.array([3.0, -1.0, 2.0, -4.0])
    dist, se = rd.magnitude_pruning_curve(w, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(dist, [0.0, 0.75, 2.5])
    assert se[0] == 0.0


def test_closed_form_matches_monte_carlo() -> None:
    rho = rd.rho_grid(41)
    mc = rd.laplace_monte_carlo(rho, 0.3, 300_000, seed=1)
    mc = mc[mc.pruned >= rd.MC_MIN_PRUNED]
    assert len(mc) > 40
    assert (mc.z.abs() <= 5).all(), mc[mc.z.abs() > 5]
    # and the comparison is sensitive: a 2 % error in b would be caught at large rho
    wrong = rd.magnitude_distortion(mc.rho_realised, 0.3 * 1.02)
    assert (((mc.distortion - wrong) / mc.standard_error).abs() > 5).any()


def test_monte_carlo_is_seeded() -> None:
    a = rd.laplace_monte_carlo([0.1, 0.5], 1.0, 10_000, seed=3)
    b = rd.laplace_monte_carlo([0.1, 0.5], 1.0, 10_000, seed=3)
    assert a.equals(b)


# --------------------------------------------------------------------------- crossover
@pytest.mark.parametrize(("q", "expected"), [(8, 0.097), (16, 0.0056), (32, 2.16e-5)])
def test_crossover(q, expected) -> None:
    rho_star = rd.bound_crossover(q)
    assert rho_star == pytest.approx(expected, rel=0.01)
    assert rd.bound_gap(rho_star * (1 + 1e-6), q) >= 0
    assert rd.bound_gap(rho_star * (1 - 1e-6), q) < 0
    above = np.linspace(rho_star * (1 + 1e-9), 1.0, 10_001)
    assert np.all(rd.bound_gap(above, q) >= -1e-15)


@settings(max_examples=30)
@given(q=st.integers(1, 40), rho=st.floats(0.0, 1.0))
def test_gap_sign_matches_crossover(q, rho) -> None:
    rho_star = rd.bound_crossover(q)
    if abs(rho - rho_star) > 1e-9:
        assert (rd.bound_gap(rho, q) >= -1e-15) == (rho > rho_star)


def test_crossover_rejects_bad_q() -> None:
    with pytest.raises(ParameterError):
        rd.bound_crossover(0)
    with pytest.raises(ParameterError):
        rd.bound_crossover(8.5)


def test_failure_intervals() -> None:
    rho = np.arange(6.0)
    assert rd.failure_intervals(rho, [-1, -1, 1, -1, 1, -1]) == [(0.0, 1.0), (3.0, 3.0), (5.0, 5.0)]
    assert rd.failure_intervals(rho, np.ones(6)) == []


# --------------------------------------------------------------------------- fits
def test_fits_recover_laplace() -> None:
    w = np.random.default_rng(0).laplace(0.2, 0.05, 200_000)
    lap, gau = rd.fit_laplace(w), rd.fit_gaussian(w)
    assert lap.family == "laplace" and lap.n == w.size
    assert lap.loc == pytest.approx(0.2, abs=1e-3) and lap.scale == pytest.approx(0.05, rel=0.01)
    assert lap.loglik_per_weight == pytest.approx(np.mean(stats.laplace.logpdf(w, lap.loc, lap.scale)), rel=1e-10)
    assert gau.loglik_per_weight == pytest.approx(np.mean(stats.norm.logpdf(w, gau.loc, gau.scale)), rel=1e-10)
    assert lap.loglik_per_weight > gau.loglik_per_weight and lap.ks_statistic < gau.ks_statistic
    assert lap.ks_statistic < 0.01


def test_fits_recover_gaussian() -> None:
    w = torch.from_numpy(np.random.default_rng(1).normal(-1.0, 2.0, (300, 400)))
    lap, gau = rd.fit_laplace(w), rd.fit_gaussian(w)
    assert gau.loc == pytest.approx(-1.0, abs=0.02) and gau.scale == pytest.approx(2.0, rel=0.01)
    assert gau.loglik_per_weight > lap.loglik_per_weight and gau.ks_statistic < lap.ks_statistic


def test_fit_subsamples_ks_deterministically() -> None:
    w = np.random.default_rng(2).laplace(0.0, 1.0, 50_000)
    a = rd.fit_laplace(w, seed=5, max_ks_samples=1_000)
    b = rd.fit_laplace(w, seed=5, max_ks_samples=1_000)
    c = rd.fit_laplace(w, seed=6, max_ks_samples=1_000)
    full = rd.fit_laplace(w, max_ks_samples=10**9)
    assert a == b and a.ks_statistic != c.ks_statistic
    assert a.scale == full.scale and a.n == 50_000  # parameters always use every weight


def test_fit_accepts_mappings_and_rejects_degenerate() -> None:
    parts = {"a": torch.randn(10, 10), "b": torch.randn(5)}
    assert rd.fit_gaussian(parts).n == 105
    with pytest.raises(ParameterError):
        rd.fit_laplace(np.ones(10))
    with pytest.raises(ParameterError):
        rd.fit_gaussian(np.array([1.0, np.nan]))


# --------------------------------------------------------------------------- real-weight sweep
def test_layer_distortion_sweep_matches_prune_tensor() -> None:
    g = torch.Generator().manual_seed(0)
    weights = {"x": torch.randn(7, 9, generator=g), "y": torch.randn(31, generator=g)}
    table = rd.layer_distortion_sweep(weights, [0.0, 0.3, 0.99], [None, 4])
    assert len(table) == 2 * 3 * 2
    for row in table.itertuples():
        w = weights[row.layer]
        expected = float((w.double() - prune_tensor(w, row.rho, row.bits or None).double()).abs().sum())
        assert row.abs_error == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert row.n == w.numel()
