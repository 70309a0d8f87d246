"""Magnitude pruning and uniform quantisation of tensors and of named sets of weights (model.md sections 2 and 4).

Functions return new tensors or masks; they never modify their
inputs. The number of pruned entries is exact: ``prune_count(n, ratio)`` of
the ``n`` entries with the smallest magnitudes (ties broken by position, so
results are deterministic).

A set of weights is a mapping of names to tensors, e.g. the prunable weights of
a *part* of a split model (:func:`coinfer.nets.split.part_weights`: the device
side or the server side at a split point, or the whole model, model.md section 2).
With ``scope="global"`` one magnitude threshold is taken over all of
the set's weights together (one order over their concatenation, in
name order); with ``scope="layer"`` every layer is pruned at the same ratio
on its own. Kept weights can be quantised to ``bits`` with a per-layer range
(the largest kept magnitude of that layer), so pruned entries stay exactly zero.

A ratio sweep should use :class:`MagnitudeSweep`, which sorts the magnitudes
once and then answers every ratio with one comparison per weight.
"""

from __future__ import annotations

import math
import mmap
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch

from coinfer.base.validation import ParameterError, require_choice, require_range

#: How a ratio is applied to several layers: one threshold, or per layer.
SCOPES: tuple[str, ...] = ("global", "layer")


# --------------------------------------------------------------------------- tensors
def prune_count(n: int, ratio: float) -> int:
    """Number of entries pruned from ``n`` at ``ratio``: ``round(ratio * n)``, halves rounded up.

    Parameters
    ----------
    n : int
        Number of weights [count].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.

    Returns
    -------
    int
        Pruned weights [count], in ``0..n``.

    References
    ----------
    docs/model.md, section 2.1 (the pruned-count rounding rule).
    """
    check_ratio(ratio)
    return min(n, math.floor(ratio * n + 0.5))


def check_ratio(ratio: float, name: str = "ratio", *, high_open: bool = False) -> float:
    """``ratio`` as a float if it is a pruning ratio, else a one-line :class:`ParameterError` naming ``name``.

    The one ratio check (model.md section 2.1). Any pruning ratio lies in ``[0, 1]`` (a sweep may prune
    everything); a design's ratios ``rho_d``, ``rho_s`` lie in ``[0, 1)`` (``high_open=True``: a side that
    keeps no weight is no design). Numpy and torch scalars from a ratio grid are accepted.

    Parameters
    ----------
    ratio : float
        The pruning ratio to check [1].
    name : str
        Parameter name used in the error message.
    high_open : bool
        Exclude 1 (a design's ratio).

    Returns
    -------
    float
        ``ratio`` as a Python float [1].

    References
    ----------
    docs/model.md, section 2.1.
    """
    if hasattr(ratio, "item"):  # numpy / torch scalars from a ratio grid
        ratio = ratio.item()
    return float(require_range(name, ratio, 0.0, 1.0, high_open=high_open))


def check_bits(bits: int | None, name: str = "bits") -> int | None:
    """``bits`` if it is ``None`` or an integer >= 1, else :class:`ParameterError`.

    Parameters
    ----------
    bits : int or None
        Bits per kept weight [bit].
    name : str
        Parameter name used in the error message.

    Returns
    -------
    int or None
        ``bits`` [bit].

    References
    ----------
    docs/model.md, section 4.4.
    """
    if bits is None:
        return None
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise ParameterError(f"{name}: got {bits!r}; allowed None or an integer >= 1")
    return bits


def magnitude_order(weights: torch.Tensor) -> torch.Tensor:
    """Flat indices of ``weights`` sorted by increasing magnitude (stable).

    Sort once and reuse the order for every ratio of a sweep
    (:func:`mask_from_order`, :class:`MagnitudeSweep`). Always sorted on the
    CPU (``abs`` is exact, the sort stable), so weights on any device give the
    same order, ties included (:mod:`coinfer.nets.devices`).

    Parameters
    ----------
    weights : torch.Tensor
        The weights [weight units], any shape and device.

    Returns
    -------
    torch.Tensor
        int64 flat indices, smallest magnitude first (ties by position).

    References
    ----------
    docs/model.md, section 2.1.
    """
    return torch.argsort(weights.detach().abs().flatten().cpu(), stable=True)


def mask_from_order(order: torch.Tensor, shape: torch.Size, ratio: float) -> torch.Tensor:
    """Boolean keep-mask of ``shape`` that prunes the first ``prune_count`` entries of ``order``.

    Parameters
    ----------
    order : torch.Tensor
        Flat indices in increasing-magnitude order (:func:`magnitude_order`).
    shape : torch.Size
        Shape of the weights.
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.

    Returns
    -------
    torch.Tensor
        Boolean keep-mask of ``shape``.

    References
    ----------
    docs/model.md, section 2.1.
    """
    n = order.numel()
    keep = torch.ones(n, dtype=torch.bool)
    keep[order[: prune_count(n, ratio)]] = False
    return keep.reshape(shape)


def magnitude_mask(weights: torch.Tensor, ratio: float) -> torch.Tensor:
    """Boolean keep-mask pruning the ``round(ratio * n)`` smallest-magnitude entries.

    Parameters
    ----------
    weights : torch.Tensor
        The weights [weight units].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.

    Returns
    -------
    torch.Tensor
        Boolean keep-mask of ``weights``' shape.

    References
    ----------
    docs/model.md, section 2.1.
    """
    return mask_from_order(magnitude_order(weights), weights.shape, ratio)


def quantize_uniform(
    values: torch.Tensor,
    bits: int,
    max_abs: float | None = None,
    *,
    zero_level: bool = False,
    per_sample: bool = False,
) -> torch.Tensor:
    """Symmetric uniform quantiser: the one quantiser of the artifact, for kept weights and for sent features.

    The range is ``[-m, m]``, ``m`` the largest magnitude of ``values`` (or ``max_abs``); with ``per_sample``
    every index of dimension 0 has its own ``m`` (what one inference sends; a 0-d tensor is one sample).

    - ``zero_level=False`` (mid-rise, the kept weights, model.md section 4.4): exactly ``2**bits`` levels,
      the midpoints of ``2**bits`` cells of width ``step = 2 m / 2**bits``; error at most ``step / 2``.
      Pruned weights are masked, not quantised (:func:`apply_masks`), so no zero level is needed.
    - ``zero_level=True`` (mid-tread, a feature sent at 8 or 4 bits per element, model.md section 2.4):
      the ``2 (2**(bits-1) - 1) + 1`` levels ``k m / (2**(bits-1) - 1)``, ``|k| <= 2**(bits-1) - 1``
      (signed ``bits``-bit integers and the scale), so zeros (ReLU features, padding) stay exactly zero;
      ``bits >= 2``.

    Computed in float64 and returned as a new tensor of ``values``' dtype; a range of zero leaves the values
    as they are.

    Parameters
    ----------
    values : torch.Tensor
        The values to quantise (any shape).
    bits : int
        Bits per value [bit]: at least 1 (mid-rise) or 2 (with a zero level).
    max_abs : float, optional
        The range ``m`` [same unit as ``values``]; default the largest magnitude (per sample with ``per_sample``).
    zero_level : bool
        Mid-tread with a zero level (features) instead of mid-rise (weights).
    per_sample : bool
        One range per index of dimension 0 instead of one for the tensor.

    Returns
    -------
    torch.Tensor
        The quantised values, same shape and dtype.

    References
    ----------
    docs/model.md, sections 2.4 and 4.4.

    Examples
    --------
    >>> import torch
    >>> quantize_uniform(torch.tensor([-1.0, -0.2, 0.0, 0.6, 1.0]), 2).tolist()
    [-0.75, -0.25, 0.25, 0.75, 0.75]
    >>> quantize_uniform(torch.tensor([-1.0, -0.2, 0.0, 0.6, 1.0]), 2, zero_level=True).tolist()
    [-1.0, -0.0, 0.0, 1.0, 1.0]
    """
    least = 2 if zero_level else 1
    if bits is None or isinstance(bits, bool) or not isinstance(bits, int) or bits < least:
        raise ParameterError(f"bits: got {bits!r}; allowed an integer >= {least}")
    values = values.detach()
    if values.numel() == 0:
        return values.clone()
    rows = (values.shape[0] if values.dim() > 0 else 1) if per_sample else 1
    flat = values.double().reshape(rows, -1)
    if max_abs is None:
        scale = flat.abs().amax(dim=1, keepdim=True)
    else:
        scale = torch.full((rows, 1), float(max_abs), dtype=torch.float64)
    if zero_level:
        levels = 2 ** (bits - 1) - 1
        step = scale / levels
        safe = torch.where(step > 0, step, torch.ones((), dtype=step.dtype))  # an all-zero sample stays zero
        quantised = torch.round(flat / safe).clamp(-levels, levels) * safe
    else:
        levels = 2**bits
        step = 2.0 * scale / levels
        safe = torch.where(step > 0, step, torch.ones((), dtype=step.dtype))
        index = torch.floor(flat / safe).clamp(-levels // 2, levels // 2 - 1)
        quantised = torch.where(step > 0, (index + 0.5) * safe, flat)  # a zero range: the values as they are
    return quantised.reshape(values.shape).to(values.dtype)


def _apply_mask(weights: torch.Tensor, keep: torch.Tensor, bits: int | None = None) -> torch.Tensor:
    """Copy of ``weights`` with ``~keep`` entries zeroed and kept entries quantised to ``bits``.

    The quantiser's range is the largest kept magnitude of this tensor (a
    per-layer range), so pruned entries stay exactly zero and the kept values
    take at most ``2**bits`` distinct values.
    """
    check_bits(bits)
    weights = weights.detach()
    keep = keep.to(weights.device)  # masks are built on the CPU; the weights may live elsewhere
    pruned = torch.where(keep, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
    if bits is not None and bool(keep.any()):
        pruned[keep] = quantize_uniform(pruned[keep], bits)
    return pruned


def prune_tensor(weights: torch.Tensor, ratio: float, bits: int | None = None) -> torch.Tensor:
    """Magnitude-pruned copy of ``weights``; kept entries quantised to ``bits`` if given.

    Parameters
    ----------
    weights : torch.Tensor
        One layer's weights [weight units].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``: the ``prune_count(numel, ratio)`` smallest magnitudes are zeroed.
    bits : int, optional
        Bits of each kept weight [bit] (uniform quantiser, range the largest kept magnitude); ``None`` keeps
        them float.

    Returns
    -------
    torch.Tensor
        The pruned copy [weight units], same shape and dtype.

    References
    ----------
    docs/model.md, section 4.4 (magnitude pruning).
    """
    return _apply_mask(weights, magnitude_mask(weights, ratio), bits)


# --------------------------------------------------------------------------- weight dictionaries
def _check_scope(scope: str) -> str:
    return require_choice("scope", scope, SCOPES)


def magnitude_masks(
    weights: Mapping[str, torch.Tensor], ratio: float, *, scope: str = "global"
) -> dict[str, torch.Tensor]:
    """Keep-masks of magnitude pruning at ``ratio``, sorting from scratch.

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        Weight name -> values [weight units].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.
    scope : str
        ``"global"``: the ``prune_count(N, ratio)`` smallest magnitudes of all ``N`` weights together (ties
        broken by position in the concatenation in the mapping's order); ``"layer"``: ``prune_count(n_l, ratio)``
        per layer.

    Returns
    -------
    dict of str to torch.Tensor
        Weight name -> boolean mask, ``True`` where the weight is kept.

    References
    ----------
    docs/model.md, sections 2.1 and 4.4.
    """
    check_ratio(ratio)
    _check_scope(scope)
    if scope == "layer":
        return {name: magnitude_mask(w, ratio) for name, w in weights.items()}
    if not weights:
        return {}
    flat = torch.cat([w.detach().flatten().cpu() for w in weights.values()])
    keep = magnitude_mask(flat, ratio)
    return _unflatten(keep, weights)


def flat_weights(weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """All weights concatenated (a new CPU tensor, whatever device they live on), in the mapping's order.

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        Weight name -> weights [weight units].

    Returns
    -------
    torch.Tensor
        The flat concatenation [weight units] (empty without weights).

    References
    ----------
    docs/model.md, section 2.1.
    """
    return torch.cat([w.detach().flatten().cpu() for w in weights.values()]) if weights else torch.zeros(0)


def _unflatten(flat: torch.Tensor, like: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    sizes = [w.numel() for w in like.values()]
    pieces = torch.split(flat, sizes)
    return {name: piece.reshape(w.shape) for (name, w), piece in zip(like.items(), pieces, strict=True)}


def apply_masks(
    weights: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor], bits: int | None = None
) -> dict[str, torch.Tensor]:
    """Pruned (and optionally quantised, per-layer range) copies of ``weights`` under ``masks``.

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        Weight name -> weights [weight units].
    masks : mapping of str to torch.Tensor
        Weight name -> boolean keep-mask of the same shape.
    bits : int, optional
        Bits of the kept weights [bit] (per-layer range); ``None`` keeps them exact.

    Returns
    -------
    dict of str to torch.Tensor
        Weight name -> pruned copy [weight units].

    References
    ----------
    docs/model.md, sections 2.1 and 4.4.
    """
    return {name: _apply_mask(w, masks[name], bits) for name, w in weights.items()}


def prune_weights(
    weights: Mapping[str, torch.Tensor], ratio: float, *, scope: str = "global", bits: int | None = None
) -> dict[str, torch.Tensor]:
    """Magnitude-pruned copies of ``weights`` at ``ratio`` (sorting from scratch; see :func:`magnitude_masks`).

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        Weight name -> values [weight units].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.
    scope : str
        ``"global"`` or ``"layer"`` (:func:`magnitude_masks`).
    bits : int, optional
        Bits of each kept weight [bit] (per-layer range); ``None`` keeps them float.

    Returns
    -------
    dict of str to torch.Tensor
        Weight name -> pruned (and quantised) copy [weight units].

    References
    ----------
    docs/model.md, section 4.4.
    """
    check_bits(bits)
    return apply_masks(weights, magnitude_masks(weights, ratio, scope=scope), bits)


class MagnitudeSweep:
    """Magnitude pruning of one set of weights at many ratios, sorting once.

    The constructor sorts all magnitudes once (one global order over the
    concatenation for ``scope="global"``, one order per layer for
    ``scope="layer"``) and stores each weight's rank; a ratio then prunes the
    entries whose rank is below ``prune_count``, with results identical to
    :func:`prune_weights` from scratch. The weights are copied, so later
    changes to the caller's tensors do not affect the sweep.
    :meth:`restrict` derives the sweep of a contiguous run of layers (a
    device or server part) from the whole model's order without sorting again.
    """

    def __init__(self, weights: Mapping[str, torch.Tensor], *, scope: str = "global") -> None:
        self.scope = _check_scope(scope)
        # global scope: ranked before the copy below exists, so the sort's temporaries and the copy never coexist
        global_ranks = _ranks(list(weights.values())) if scope == "global" and weights else None
        #: One private copy of all weights, flat in the mapping's order; ``weights`` are views into it.
        self.flat: torch.Tensor = flat_weights(weights)
        self.weights: dict[str, torch.Tensor] = _unflatten(self.flat, weights)
        if scope == "global":
            ranks = {"": global_ranks} if global_ranks is not None else {}
        else:
            ranks = {name: _ranks(w.flatten()) for name, w in self.weights.items()}
        self._init_caches(ranks)

    def _init_caches(
        self,
        ranks: dict[str, torch.Tensor],
        orders: dict[str, torch.Tensor] | None = None,
        errors: dict[int, torch.Tensor] | None = None,
    ) -> None:
        self._ranks = ranks
        self._orders: dict[str, torch.Tensor] = dict(orders or {})
        self._errors: dict[int, torch.Tensor] = dict(errors or {})
        self._abs_prefix: dict[str, torch.Tensor] = {}

    @property
    def num_weights(self) -> int:
        """Total number of weights swept."""
        return self.flat.numel()

    def masks(self, ratio: float) -> dict[str, torch.Tensor]:
        """Keep-masks at ``ratio`` (equal to :func:`magnitude_masks` with this scope).

        Parameters
        ----------
        ratio : float
            Pruning ratio [1] in ``[0, 1]``.

        Returns
        -------
        dict of str to torch.Tensor
            Weight name -> boolean keep-mask of its shape.
        """
        check_ratio(ratio)
        if not self.weights:
            return {}
        if self.scope == "global":
            ranks = self._ranks[""]
            return _unflatten(ranks >= prune_count(ranks.numel(), ratio), self.weights)
        return {
            name: (ranks >= prune_count(ranks.numel(), ratio)).reshape(self.weights[name].shape)
            for name, ranks in self._ranks.items()
        }

    def pruned(self, ratio: float, bits: int | None = None) -> dict[str, torch.Tensor]:
        """Pruned (and optionally ``bits``-quantised) copies at ``ratio``.

        Parameters
        ----------
        ratio : float
            Pruning ratio [1] in ``[0, 1]``.
        bits : int, optional
            Bits of the kept weights [bit]; ``None`` for float weights.

        Returns
        -------
        dict of str to torch.Tensor
            Weight name -> pruned copy [weight units].
        """
        check_bits(bits)
        return apply_masks(self.weights, self.masks(ratio), bits)

    def sweep(
        self, ratios: Iterable[float], bits: int | None = None
    ) -> Iterator[tuple[float, dict[str, torch.Tensor]]]:
        """``(ratio, pruned weights)`` for each ratio in order.

        Parameters
        ----------
        ratios : iterable of float
            Pruning ratios [1] in ``[0, 1]``.
        bits : int, optional
            Bits of the kept weights [bit]; ``None`` for float weights.

        Yields
        ------
        tuple of (float, dict of str to torch.Tensor)
            The ratio [1] and the pruned weights [weight units].
        """
        for ratio in ratios:
            yield ratio, self.pruned(ratio, bits)

    def restrict(self, names: Iterable[str]) -> MagnitudeSweep:
        """The sweep of ``names``, a contiguous run of this sweep's layers in order, without sorting again.

        Equal to ``MagnitudeSweep({n: weights[n] for n in names}, scope=...)``:
        filtering the stable global order to a contiguous block keeps the
        relative order of its entries, ties included.

        Parameters
        ----------
        names : iterable of str
            Consecutive weight names of this sweep, in its order.

        Returns
        -------
        MagnitudeSweep
            The sweep of those weights (sharing this sweep's copy).
        """
        names = list(names)
        all_names = list(self.weights)
        child = object.__new__(MagnitudeSweep)
        child.scope = self.scope
        if not names:
            child.flat, child.weights = torch.zeros(0), {}
            child._init_caches({})
            return child
        first = all_names.index(names[0]) if names[0] in all_names else -1
        if first < 0 or all_names[first : first + len(names)] != names:
            raise ParameterError("names: must be a contiguous run of the sweep's layers, in the same order")
        offsets = np.cumsum([0, *[w.numel() for w in self.weights.values()]])
        low, high = int(offsets[first]), int(offsets[first + len(names)])
        child.flat = self.flat[low:high]
        child.weights = _unflatten(child.flat, {n: self.weights[n] for n in names})
        errors = {bits: e[low:high] for bits, e in self._errors.items()}
        if self.scope == "layer":
            child._init_caches(
                {n: self._ranks[n] for n in names}, {n: self._orders[n] for n in names if n in self._orders}, errors
            )
            return child
        order = self._order("")
        sub = order[(order >= low) & (order < high)] - low
        ranks = torch.empty(sub.numel(), dtype=self._ranks[""].dtype)
        ranks[sub] = torch.arange(sub.numel(), dtype=ranks.dtype)
        child._init_caches({"": ranks}, {"": sub}, errors)
        return child

    def distortion(self, ratios: Iterable[float], bits: int | None = None) -> np.ndarray:
        """l1 parameter distortion per weight, ``sum |w - w^| / N``, of :meth:`pruned` at each ratio (model.md §4).

        Computed without building any pruned copy: a layer's largest kept
        magnitude is its largest magnitude whenever anything in it is kept
        (the smallest go first), so each weight's quantisation error does not
        depend on the ratio, and the distortion at a ratio is a prefix sum of
        ``|w|`` over the pruned entries plus the suffix sum of quantisation
        errors over the kept ones, both along the stored order (float64).

        Parameters
        ----------
        ratios : iterable of float
            Pruning ratios [1] in ``[0, 1]``.
        bits : int, optional
            Bits of the kept weights [bit]; ``None`` for float weights.

        Returns
        -------
        numpy.ndarray
            The distortion per weight at each ratio [weight units].
        """
        ratios = [check_ratio(r) for r in ratios]
        check_bits(bits)
        n = self.num_weights
        if n == 0:
            return np.full(len(ratios), np.nan)
        total = np.zeros(len(ratios))
        error = self._quantisation_errors(bits) if bits is not None else None
        for group, (low, high) in self._groups():
            order = self._order(group)
            counts = [prune_count(high - low, r) for r in ratios]
            total += self._abs_prefix_sums(group)[counts].numpy()
            if error is not None:
                error_prefix = _prefix(error[low:high][order])
                total += (error_prefix[-1] - error_prefix[counts]).numpy()
        return total / n

    def total_abs(self) -> float:
        """``sum |w|`` over all weights (float64): the parameter distortion of pruning everything.

        Returns
        -------
        float
            ``sum |w|`` [weight units].
        """
        return float(sum(self._abs_prefix_sums(group)[-1] for group, _ in self._groups()))

    def _groups(self) -> list[tuple[str, tuple[int, int]]]:
        """Order groups and their flat ranges: one for global scope, one per layer otherwise."""
        if self.scope == "global":
            return [("", (0, self.num_weights))] if self.weights else []
        offsets = np.cumsum([0, *[w.numel() for w in self.weights.values()]])
        return [(name, (int(offsets[i]), int(offsets[i + 1]))) for i, name in enumerate(self.weights)]

    def _order(self, group: str) -> torch.Tensor:
        """Flat indices (within the group) in increasing-magnitude order, from the ranks (cached)."""
        if group not in self._orders:
            ranks = self._ranks[group]
            order = torch.empty(ranks.numel(), dtype=torch.int64)
            order[ranks.long()] = torch.arange(ranks.numel())
            self._orders[group] = order
        return self._orders[group]

    def _abs_prefix_sums(self, group: str) -> torch.Tensor:
        if group not in self._abs_prefix:
            low, high = dict(self._groups())[group]
            self._abs_prefix[group] = _prefix(self.flat[low:high].double().abs()[self._order(group)])
        return self._abs_prefix[group]

    def _quantisation_errors(self, bits: int) -> torch.Tensor:
        """``|w - Q_bits(w)|`` per weight with each layer's own range (float64, flat, cached)."""
        if bits not in self._errors:
            self._errors[bits] = torch.cat(
                [
                    (w.flatten().double() - quantize_uniform(w.flatten(), bits).double()).abs()
                    for w in self.weights.values()
                ]
            )
        return self._errors[bits]


def _prefix(values: torch.Tensor) -> torch.Tensor:
    """``[0, v0, v0 + v1, ...]`` in float64."""
    return torch.cat([torch.zeros(1, dtype=torch.float64), values.double().cumsum(0)])


#: Entries per slice of :func:`_ranks`' key building and scattering (bounds its temporaries to a few MiB).
_RANK_CHUNK = 1 << 22


def _ranks(pieces: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """Rank of each entry of ``pieces`` (one tensor, or several read as their flat concatenation) in the stable
    increasing-magnitude order (int32 when it fits, to halve memory).

    For float32 weights without NaN (every real model's) the order is that of the int64 keys
    ``(bits of |w|) << 32 | index``: the bits of a non-negative float32 increase with its value and the index
    breaks ties as a stable sort does, so the keys are distinct and one in-place sort of them gives exactly
    :func:`magnitude_order`'s order. At most 8 bytes per weight of temporaries (the ranks included) where
    ``torch.argsort(stable=True)`` and a separate ranks array need about 28 (MPNet-base's 85 M weights: 0.65 GiB
    instead of 2.2 GiB, notebook 08's peak memory, issue 23), and the pieces are read where they are (no
    concatenated copy).
    """
    pieces = [pieces] if isinstance(pieces, torch.Tensor) else list(pieces)
    pieces = [piece.detach().flatten().cpu() for piece in pieces]
    n = sum(piece.numel() for piece in pieces)
    dtype = torch.int32 if n < 2**31 else torch.int64
    ranks = torch.empty(n, dtype=dtype)
    if n >= 2**31 or any(piece.dtype != torch.float32 or bool(torch.isnan(piece).any()) for piece in pieces):
        ranks[magnitude_order(torch.cat(pieces) if pieces else torch.zeros(0))] = torch.arange(n, dtype=dtype)
        return ranks
    if n == 0:
        return ranks
    # The keys live in an anonymous mapping so that, once the sorted order is compacted to int32 into its first
    # half, the second half goes back to the system before the ranks are written: 8 bytes per weight at the peak
    # instead of 12 (MPNet-base: 0.3 GiB less, issue 23).
    buffer = mmap.mmap(-1, 8 * n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # private: released pages are freed
    try:
        keys = np.frombuffer(buffer, dtype=np.int64, count=n)
        offset = 0
        for piece in pieces:
            source = piece.numpy()
            for low in range(0, source.size, _RANK_CHUNK):
                high = min(source.size, low + _RANK_CHUNK)
                magnitude_bits = np.abs(source[low:high]).view(np.int32).astype(np.int64)  # |w| >= 0: no sign bit
                keys[offset + low : offset + high] = (magnitude_bits << 32) | np.arange(
                    offset + low, offset + high, dtype=np.int64
                )
            offset += source.size
        keys.sort()  # distinct keys: any sort gives the one order
        order = np.frombuffer(buffer, dtype=np.int32, count=n)  # the first half of the keys' bytes
        for low in range(0, n, _RANK_CHUNK):  # writes only over keys already read (chunk k's bytes lie before k)
            high = min(n, low + _RANK_CHUNK)
            order[low:high] = (keys[low:high] & 0xFFFFFFFF).astype(np.int32)
        del keys
        released = -(-4 * n // mmap.PAGESIZE) * mmap.PAGESIZE  # the first page past the order
        if hasattr(buffer, "madvise") and hasattr(mmap, "MADV_DONTNEED") and released < 8 * n:
            buffer.madvise(mmap.MADV_DONTNEED, released, 8 * n - released)
        target = ranks.numpy()
        for low in range(0, n, _RANK_CHUNK):
            high = min(n, low + _RANK_CHUNK)
            target[order[low:high]] = np.arange(low, high, dtype=target.dtype)
        del order
    finally:
        buffer.close()
    return ranks


# --------------------------------------------------------------------------- split models
