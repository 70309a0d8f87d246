"""Rate-distortion lower bound on parameter distortion (model.md section 4, claim C2).

Weights are modelled as i.i.d. Laplace(0, b); distortion is the l1 distortion
per weight, ``d = E|w - w_hat|``. The closed forms are vectorised over
``rho``. Below them: maximum-likelihood Laplace/Gaussian fits with a KS
statistic, the crossover where magnitude pruning stops beating the lower
bound, and empirical distortion curves of real or synthetic weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from scipy import optimize, stats

from coinfer.base.threads import single_thread
from coinfer.base.validation import ParameterError

ArrayLike = npt.ArrayLike


def laplace_scale(weights: torch.Tensor | np.ndarray) -> float:
    """Laplace MLE scale ``b = mean |w - median(w)|`` (model.md section 4: ``b = mean|w|`` after centring).

    Parameters
    ----------
    weights : torch.Tensor or numpy.ndarray
        The weights [weight units], any shape.

    Returns
    -------
    float
        The scale ``b`` [weight units].

    References
    ----------
    docs/model.md, section 4.1 (Laplace model of the weights).
    """
    w = torch.as_tensor(weights).detach().double().flatten()
    return float((w - w.median()).abs().mean())


def rate_laplace(distortion: ArrayLike, b: float) -> np.ndarray:
    """``R(D) = max(log2(b / D), 0)`` bits per weight for a Laplace(0, b) source, l1 distortion (model.md section 4).

    Parameters
    ----------
    distortion : array_like
        l1 distortion per weight [weight units].
    b : float
        Laplace scale of the weights [weight units].

    Returns
    -------
    numpy.ndarray
        ``R(D)`` [bit per weight].

    References
    ----------
    docs/model.md, section 4.
    """
    d = np.asarray(distortion, dtype=float)
    return np.maximum(np.log2(b / d), 0.0)


def distortion_laplace(rate: ArrayLike, b: float) -> np.ndarray:
    """``D(R) = b 2^(-R)``, the inverse of :func:`rate_laplace` (model.md section 4).

    Parameters
    ----------
    rate : array_like
        Rate [bit per weight].
    b : float
        Laplace scale of the weights [weight units].

    Returns
    -------
    numpy.ndarray
        l1 distortion per weight [weight units].

    References
    ----------
    docs/model.md, section 4.
    """
    return b * np.exp2(-np.asarray(rate, dtype=float))


def binary_entropy(rho: ArrayLike) -> np.ndarray:
    """``h2(rho)`` in bits, with ``h2(0) = h2(1) = 0``.

    Parameters
    ----------
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        ``h2(rho)`` [bit].

    References
    ----------
    docs/model.md, section 4.
    """
    p = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log1p keeps the (1 - p) term accurate for tiny p, where the flat region of D_LB ends
        h = -p * np.log2(p) - (1 - p) * np.log1p(-p) / np.log(2.0)
    return np.where((p <= 0) | (p >= 1), 0.0, h)


def pruned_rate(rho: ArrayLike, q: int) -> np.ndarray:
    """Bits per weight of a pruned model with ``q``-bit kept weights (model.md section 4).

    ``R(rho) = min(h2(rho) + (1 - rho) q, q)``: a mask plus kept values, or a
    dense ``q``-bit store, whichever is smaller.

    Parameters
    ----------
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.
    q : int
        Bits per kept weight [bit].

    Returns
    -------
    numpy.ndarray
        ``R(rho)`` [bit per weight].

    References
    ----------
    docs/model.md, section 4.
    """
    rho = np.asarray(rho, dtype=float)
    return np.minimum(binary_entropy(rho) + (1 - rho) * q, q)


def distortion_lower_bound(rho: ArrayLike, b: float, q: int) -> np.ndarray:
    """``D_LB(rho) = b 2^(-R(rho))``: no model pruned at ``rho`` with ``q``-bit weights does better (model.md §4).

    Parameters
    ----------
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.
    b : float
        Laplace scale of the weights [weight units], positive.
    q : int
        Bits per kept weight [bit].

    Returns
    -------
    numpy.ndarray
        The lower bound on the l1 parameter distortion per weight [weight units], one per ``rho``.

    References
    ----------
    docs/model.md, sections 4.2 (rate-distortion function) and 4.3 (the bound ``D_LB``).
    """
    return distortion_laplace(pruned_rate(rho, q), b)


def magnitude_distortion(rho: ArrayLike, b: float) -> np.ndarray:
    """Expected l1 distortion per weight of magnitude pruning Laplace(0, b) weights (model.md section 4).

    ``D_mag(rho) = b (rho + (1 - rho) ln(1 - rho))``, with ``D_mag(1) = b``.

    Parameters
    ----------
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.
    b : float
        Laplace scale of the weights [weight units].

    Returns
    -------
    numpy.ndarray
        ``D_mag(rho)`` [weight units], one per ``rho``.

    References
    ----------
    docs/model.md, section 4.4 (exact distortion of magnitude pruning).
    """
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(rho >= 1, 0.0, (1 - rho) * np.log1p(-np.minimum(rho, 1 - 1e-300)))
    return b * (rho + tail)


# --------------------------------------------------------------------------- distribution fits
#: Weights used for the KS statistic at most; above this a seeded subsample is
#: taken (the statistic's sampling error is ~1/sqrt(n), 0.002 at 2e5).
KS_MAX_SAMPLES = 200_000


@dataclass(frozen=True)
class DistributionFit:
    """A maximum-likelihood fit of weights to one family (model.md section 4).

    ``loglik_per_weight`` is the mean log-density (nats) of all ``n`` weights
    at the fitted parameters; ``ks_statistic`` the Kolmogorov-Smirnov distance
    between the empirical and the fitted CDF (on a seeded subsample of at most
    :data:`KS_MAX_SAMPLES` weights).
    """

    family: str
    loc: float
    scale: float
    loglik_per_weight: float
    ks_statistic: float
    n: int


def _flat_weights(weights: torch.Tensor | np.ndarray | Mapping[str, torch.Tensor]) -> np.ndarray:
    """All weights as one float64 vector (a mapping is concatenated in its order)."""
    if isinstance(weights, Mapping):
        parts = [np.asarray(torch.as_tensor(w).detach().double().flatten()) for w in weights.values()]
        flat = np.concatenate(parts) if parts else np.empty(0)
    else:
        flat = np.asarray(torch.as_tensor(weights).detach().double().flatten())
    if flat.size < 2:
        raise ParameterError(f"weights: got {flat.size} values; a fit needs at least 2")
    if not np.all(np.isfinite(flat)):
        raise ParameterError("weights: contains NaN or infinite values")
    return flat


def _ks(flat: np.ndarray, cdf: str, loc: float, scale: float, seed: int, max_samples: int) -> float:
    if flat.size > max_samples:
        flat = flat[np.random.default_rng(seed).choice(flat.size, max_samples, replace=False)]
    return float(stats.kstest(flat, cdf, args=(loc, scale)).statistic)


def fit_laplace(
    weights: torch.Tensor | np.ndarray | Mapping[str, torch.Tensor],
    *,
    seed: int = 0,
    max_ks_samples: int = KS_MAX_SAMPLES,
) -> DistributionFit:
    """Laplace MLE (model.md section 4): ``loc = median``, ``b = mean |w - loc|`` (:func:`laplace_scale`).

    At the MLE the mean log-likelihood is ``-ln(2 b) - 1`` nats per weight.

    Parameters
    ----------
    weights : torch.Tensor or numpy.ndarray or mapping of str to torch.Tensor
        The weights [weight units] (a mapping is concatenated in its order).
    seed : int
        Seed of the Kolmogorov-Smirnov subsample [1].
    max_ks_samples : int
        Largest subsample for the Kolmogorov-Smirnov distance [count].

    Returns
    -------
    DistributionFit
        ``loc``, ``scale`` [weight units], ``loglik_per_weight`` [nat], ``ks_statistic`` [1], ``n`` [count].

    References
    ----------
    docs/model.md, section 4.1.
    """
    flat = _flat_weights(weights)
    loc = float(np.median(flat))
    b = laplace_scale(flat)
    if b <= 0:
        raise ParameterError("weights: all equal; the Laplace scale is 0")
    loglik = float(-np.log(2 * b) - np.mean(np.abs(flat - loc)) / b)
    return DistributionFit("laplace", loc, b, loglik, _ks(flat, "laplace", loc, b, seed, max_ks_samples), flat.size)


def fit_gaussian(
    weights: torch.Tensor | np.ndarray | Mapping[str, torch.Tensor],
    *,
    seed: int = 0,
    max_ks_samples: int = KS_MAX_SAMPLES,
) -> DistributionFit:
    """Gaussian MLE (model.md §4): ``loc = mean``, ``scale = std`` (ddof 0); loglik ``-ln(2 pi e sigma^2) / 2``.

    Parameters
    ----------
    weights : torch.Tensor or numpy.ndarray or mapping of str to torch.Tensor
        The weights [weight units] (a mapping is concatenated in its order).
    seed : int
        Seed of the Kolmogorov-Smirnov subsample [1].
    max_ks_samples : int
        Largest subsample for the Kolmogorov-Smirnov distance [count].

    Returns
    -------
    DistributionFit
        ``loc``, ``scale`` [weight units], ``loglik_per_weight`` [nat], ``ks_statistic`` [1], ``n`` [count].

    References
    ----------
    docs/model.md, section 4.1 (the Gaussian as the alternative to the Laplace model).
    """
    flat = _flat_weights(weights)
    loc = float(flat.mean())
    sigma = float(flat.std())
    if sigma <= 0:
        raise ParameterError("weights: all equal; the Gaussian scale is 0")
    loglik = float(-0.5 * np.log(2 * np.pi * sigma**2) - np.mean((flat - loc) ** 2) / (2 * sigma**2))
    return DistributionFit(
        "gaussian", loc, sigma, loglik, _ks(flat, "norm", loc, sigma, seed, max_ks_samples), flat.size
    )


# --------------------------------------------------------------------------- where D_mag >= D_LB
def bound_gap(rho: ArrayLike, q: int) -> np.ndarray:
    """``(D_mag(rho) - D_LB(rho; q)) / b``: negative where magnitude pruning beats the lower bound (model.md section 4).

    Scale-free: both sides are proportional to ``b``.

    Parameters
    ----------
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.
    q : int
        Bits per kept weight [bit].

    Returns
    -------
    numpy.ndarray
        The gap per unit of ``b`` [1] at each ratio.

    References
    ----------
    docs/model.md, section 4.
    """
    return magnitude_distortion(rho, 1.0) - distortion_lower_bound(rho, 1.0, q)


def bound_crossover(q: int, *, grid_points: int = 20_001) -> float:
    """The smallest ``rho*`` with ``D_mag(rho) >= D_LB(rho; q)`` for every ``rho >= rho*`` (Laplace model).

    The gap is scanned on a grid that is geometric from 1e-12 (where D_mag ~
    rho^2 / 2 is tiny) and linear up to 1, and the last sign change is refined
    by bisection (:func:`scipy.optimize.brentq`). ``D_mag(0) = 0 < D_LB(0) =
    b 2^-q``, so ``rho* > 0`` for every finite ``q``.

    Parameters
    ----------
    q : int
        Bits per kept weight [bit].
    grid_points : int
        Points of the scan grid [count].

    Returns
    -------
    float
        ``rho*`` [1].

    References
    ----------
    docs/model.md, section 4.
    """
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 1:
        raise ParameterError(f"q: got {q!r}; allowed an integer >= 1")
    grid = np.unique(np.concatenate([[0.0], np.geomspace(1e-12, 1.0, grid_points), np.linspace(0, 1, grid_points)]))
    gap = bound_gap(grid, int(q))
    failing = np.flatnonzero(gap < 0)
    last = failing[-1]
    if last + 1 >= grid.size:  # fails at rho = 1 itself: impossible since D_mag(1) = D_LB(1) = b
        return 1.0
    return float(
        optimize.brentq(lambda r: float(bound_gap(r, int(q))), grid[last], grid[last + 1], xtol=1e-15, rtol=1e-12)
    )


def failure_intervals(rho: ArrayLike, gap: ArrayLike) -> list[tuple[float, float]]:
    """Maximal runs ``[first, last]`` of grid points ``rho`` where ``gap < 0`` (the bound fails).

    Parameters
    ----------
    rho : array_like
        Increasing grid of pruning ratios [1].
    gap : array_like
        The gap of :func:`bound_gap` at each ratio [1].

    Returns
    -------
    list of tuple of float
        ``(first, last)`` ratio of each run [1].

    References
    ----------
    docs/model.md, section 4.
    """
    rho = np.asarray(rho, dtype=float)
    bad = np.asarray(gap, dtype=float) < 0
    runs, start = [], None
    for i, flag in enumerate(bad):
        if flag and start is None:
            start = i
        if start is not None and (not flag or i == bad.size - 1):
            end = i if flag else i - 1
            runs.append((float(rho[start]), float(rho[end])))
            start = None
    return runs


# --------------------------------------------------------------------------- empirical distortions
def magnitude_pruning_curve(weights: torch.Tensor | np.ndarray, rho: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Empirical l1 distortion per weight of magnitude pruning at each ``rho``, and its standard error.

    Sorts once: pruning ``k = prune_count(n, rho)`` smallest magnitudes costs
    ``sum_{i<k} |w|_(i) / n``. The standard error is the asymptotic one of
    this trimmed sum (an L-statistic), ``std(min(|w|, t)) / sqrt(n)`` with
    ``t`` the pruning threshold (the influence function of
    ``int_0^rho F^-1(u) du`` is ``-(t - |w|)_+`` plus a constant).

    Parameters
    ----------
    weights : torch.Tensor or numpy.ndarray
        The weights [weight units].
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.

    Returns
    -------
    tuple of numpy.ndarray
        Distortion per weight and its standard error at each ratio [weight units].

    References
    ----------
    docs/model.md, section 4.
    """
    from coinfer.model.pruning import prune_count

    mags = np.sort(np.abs(np.asarray(torch.as_tensor(weights).detach().double().flatten())))
    n = mags.size
    cums = np.concatenate([[0.0], np.cumsum(mags)])
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    dist = np.empty(rho.size)
    se = np.empty(rho.size)
    for j, r in enumerate(rho):
        k = prune_count(n, float(r))
        dist[j] = cums[k] / n
        threshold = mags[k - 1] if k > 0 else 0.0
        se[j] = np.std(np.minimum(mags, threshold)) / np.sqrt(n)
    return dist, se


def layer_distortion_sweep(
    weights: Mapping[str, torch.Tensor], rho: ArrayLike, bits: Sequence[int | None]
) -> pd.DataFrame:
    """Per-layer magnitude pruning (optionally with ``q``-bit kept weights) of real weights.

    One row per (layer, rho, bits): ``abs_error`` = ``sum |w - w_hat|``,
    ``n`` = weights in the layer and ``pruned`` = how many of them are pruned,
    via :func:`coinfer.model.pruning.MagnitudeSweep`
    (one sort per layer; ``bits=None`` means no quantisation). The per-weight
    distortion of any group of layers is ``sum abs_error / sum n``. Meant for
    layers of up to a few million weights (one pass over them per ratio and ``bits``).

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        Layer name -> weights [weight units].
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.
    bits : sequence of int or None
        Bits of the kept weights [bit]; ``None`` for none.

    Returns
    -------
    pandas.DataFrame
        One row per (layer, rho [1], bits [bit]): ``abs_error`` [weight units], ``n`` and ``pruned`` [count].

    References
    ----------
    docs/model.md, section 4.
    """
    from coinfer.model.pruning import MagnitudeSweep, prune_count

    sweep = MagnitudeSweep(weights, scope="layer")
    rows = []
    with single_thread():
        for r in np.asarray(rho, dtype=float):
            for q in bits:
                pruned = sweep.pruned(float(r), q)
                for name, w in sweep.weights.items():
                    rows.append(
                        {
                            "layer": name,
                            "rho": float(r),
                            "bits": 0 if q is None else int(q),
                            "n": w.numel(),
                            "pruned": prune_count(w.numel(), float(r)),
                            "abs_error": float((w.double() - pruned[name].double()).abs().sum()),
                        }
                    )
    return pd.DataFrame(rows)


def rho_grid(points: int, *, small_from: float = 1e-5, small_to: float = 0.2) -> np.ndarray:
    """Pruning ratios for curves.

    ``points`` linear in ``[0, 1]`` plus ``points // 2`` geometric in ``[small_from, small_to]``.

    The geometric part resolves the small-rho region where ``D_LB`` is flat and
    ``D_mag ~ b rho^2 / 2`` crosses it.

    Parameters
    ----------
    points : int
        Linear points in ``[0, 1]`` [count].
    small_from, small_to : float
        Range of the geometric points [1].

    Returns
    -------
    numpy.ndarray
        Sorted distinct ratios [1].

    References
    ----------
    docs/model.md, section 4.
    """
    if points < 3:
        raise ParameterError(f"points: got {points}; allowed >= 3")
    return np.unique(np.concatenate([np.linspace(0.0, 1.0, points), np.geomspace(small_from, small_to, points // 2)]))


#: Fewest pruned weights for which the asymptotic standard error of
#: :func:`laplace_monte_carlo` is trusted.
MC_MIN_PRUNED = 100


def laplace_monte_carlo(rho: ArrayLike, b: float, n: int, seed: int) -> pd.DataFrame:
    """Magnitude pruning of ``n`` seeded Laplace(0, b) weights against ``D_mag`` (model.md section 4).

    One row per ``rho``: the number of pruned weights and the ratio actually
    realised (``prune_count(n, rho) / n``), the empirical distortion per
    weight and its standard error (:func:`magnitude_pruning_curve`), the
    closed form ``D_mag`` at the realised ratio, and ``z = (empirical - D_mag)
    / se`` (0 where ``se = 0`` and both agree exactly, as at ``rho = 0``).

    The standard error is asymptotic: it needs many pruned weights. With a
    handful (``k`` < ~100) the trimmed sum is skewed, its plug-in variance is
    unreliable and ``D_mag`` has a relative discreteness bias of about
    ``1 / k``; compare such rows with :data:`MC_MIN_PRUNED` in mind.

    Parameters
    ----------
    rho : array_like
        Pruning ratios [1] in ``[0, 1]``.
    b : float
        Laplace scale of the weights [weight units].
    n : int
        Number of weights drawn [count].
    seed : int
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        One row per ratio: pruned [count], realised ratio [1], empirical and closed-form distortion
        [weight units], standard error [weight units], ``z`` [1].

    References
    ----------
    docs/model.md, section 4.
    """
    from coinfer.model.pruning import prune_count

    weights = np.random.default_rng(seed).laplace(0.0, b, n)
    rho = np.asarray(rho, dtype=float)
    pruned = np.array([prune_count(n, float(r)) for r in rho])
    realised = pruned / n
    dist, se = magnitude_pruning_curve(weights, rho)
    closed = magnitude_distortion(realised, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (dist - closed) / se, np.where(np.isclose(dist, closed, rtol=1e-12, atol=0), 0.0, np.inf))
    return pd.DataFrame(
        {
            "rho": rho,
            "pruned": pruned,
            "rho_realised": realised,
            "n": n,
            "b": b,
            "distortion": dist,
            "standard_error": se,
            "d_mag": closed,
            "z": z,
        }
    )
