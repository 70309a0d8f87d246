"""Rate-distortion lower bound on parameter distortion (SPEC section 4, claim C2).

Weights are modelled as i.i.d. Laplace(0, b); distortion is the l1 distortion
per weight, ``d = E|w - w_hat|``. All functions are vectorised over ``rho``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

ArrayLike = npt.ArrayLike


def laplace_scale(weights: torch.Tensor | np.ndarray) -> float:
    """Laplace MLE scale ``b = mean |w - median(w)|`` (SPEC 4: ``b = mean|w|`` after centring)."""
    w = torch.as_tensor(weights).detach().double().flatten()
    return float((w - w.median()).abs().mean())


def rate_laplace(distortion: ArrayLike, b: float) -> np.ndarray:
    """``R(D) = max(log2(b / D), 0)`` bits per weight for a Laplace(0, b) source, l1 distortion (SPEC 4)."""
    d = np.asarray(distortion, dtype=float)
    return np.maximum(np.log2(b / d), 0.0)


def distortion_laplace(rate: ArrayLike, b: float) -> np.ndarray:
    """``D(R) = b 2^(-R)``, the inverse of :func:`rate_laplace` (SPEC 4)."""
    return b * np.exp2(-np.asarray(rate, dtype=float))


def binary_entropy(rho: ArrayLike) -> np.ndarray:
    """``h2(rho)`` in bits, with ``h2(0) = h2(1) = 0``."""
    p = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    return np.where((p <= 0) | (p >= 1), 0.0, h)


def pruned_rate(rho: ArrayLike, q: int) -> np.ndarray:
    """Bits per weight of a pruned model with ``q``-bit kept weights (SPEC 4).

    ``R(rho) = min(h2(rho) + (1 - rho) q, q)``: a mask plus kept values, or a
    dense ``q``-bit store, whichever is smaller.
    """
    rho = np.asarray(rho, dtype=float)
    return np.minimum(binary_entropy(rho) + (1 - rho) * q, q)


def distortion_lower_bound(rho: ArrayLike, b: float, q: int) -> np.ndarray:
    """``D_LB(rho) = b 2^(-R(rho))``: no model pruned at ``rho`` with ``q``-bit weights does better (SPEC 4)."""
    return distortion_laplace(pruned_rate(rho, q), b)


def magnitude_distortion(rho: ArrayLike, b: float) -> np.ndarray:
    """Expected l1 distortion per weight of magnitude pruning Laplace(0, b) weights (SPEC 4).

    ``D_mag(rho) = b (rho + (1 - rho) ln(1 - rho))``, with ``D_mag(1) = b``.
    """
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(rho >= 1, 0.0, (1 - rho) * np.log1p(-np.minimum(rho, 1 - 1e-300)))
    return b * (rho + tail)
