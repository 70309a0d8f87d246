"""Magnitude pruning and uniform quantisation (SPEC sections 2 and 4).

Functions return new tensors or masks; they never modify their inputs. The
number of pruned entries is exact: ``prune_count(n, ratio)`` of the ``n``
entries with the smallest magnitudes (ties broken by position, so results are
deterministic).
"""

from __future__ import annotations

import math

import torch


def prune_count(n: int, ratio: float) -> int:
    """Number of entries pruned from ``n`` at ``ratio``: ``round(ratio * n)``, halves rounded up."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio: got {ratio}; allowed [0, 1]")
    return min(n, math.floor(ratio * n + 0.5))


def magnitude_order(weights: torch.Tensor) -> torch.Tensor:
    """Flat indices of ``weights`` sorted by increasing magnitude (stable).

    Sort once and reuse the order for every ratio of a sweep
    (:func:`mask_from_order`).
    """
    return torch.argsort(weights.detach().abs().flatten(), stable=True)


def mask_from_order(order: torch.Tensor, shape: torch.Size, ratio: float) -> torch.Tensor:
    """Boolean keep-mask of ``shape`` that prunes the first ``prune_count`` entries of ``order``."""
    n = order.numel()
    keep = torch.ones(n, dtype=torch.bool)
    keep[order[: prune_count(n, ratio)]] = False
    return keep.reshape(shape)


def magnitude_mask(weights: torch.Tensor, ratio: float) -> torch.Tensor:
    """Boolean keep-mask pruning the ``round(ratio * n)`` smallest-magnitude entries."""
    return mask_from_order(magnitude_order(weights), weights.shape, ratio)


def quantize_uniform(values: torch.Tensor, bits: int, max_abs: float | None = None) -> torch.Tensor:
    """Symmetric uniform mid-rise quantiser with exactly ``2**bits`` levels.

    The range ``[-max_abs, max_abs]`` (default: the largest magnitude of
    ``values``) is cut into ``2**bits`` cells of width
    ``step = 2 max_abs / 2**bits``; each value is replaced by its cell's
    midpoint, so the error is at most ``step / 2``. Returns a new tensor.
    """
    if not isinstance(bits, int) or bits < 1:
        raise ValueError(f"bits: got {bits!r}; allowed an integer >= 1")
    values = values.detach()
    scale = float(values.abs().max()) if max_abs is None else float(max_abs)
    if scale == 0.0 or values.numel() == 0:
        return values.clone()
    levels = 2**bits
    step = 2.0 * scale / levels
    index = torch.floor(values.double() / step).clamp(-levels // 2, levels // 2 - 1)
    return ((index + 0.5) * step).to(values.dtype)


def prune_tensor(weights: torch.Tensor, ratio: float, bits: int | None = None) -> torch.Tensor:
    """Magnitude-pruned copy of ``weights``; kept entries quantised to ``bits`` if given.

    The quantiser's range is the largest kept magnitude, so pruned entries stay
    exactly zero.
    """
    keep = magnitude_mask(weights, ratio)
    pruned = torch.where(keep, weights.detach(), torch.zeros((), dtype=weights.dtype))
    if bits is not None and bool(keep.any()):
        quantised = quantize_uniform(pruned[keep], bits)
        pruned = pruned.clone()
        pruned[keep] = quantised
    return pruned
