"""Magnitude pruning and uniform quantisation of tensors and models (SPEC sections 2 and 4).

Functions return new tensors, masks or model copies; they never modify their
inputs. The number of pruned entries is exact: ``prune_count(n, ratio)`` of
the ``n`` entries with the smallest magnitudes (ties broken by position, so
results are deterministic).

Model-level pruning works on a *part* of a :class:`~coinfer.models.SplitModel`
(SPEC 2): the device side or the server side at a split point, or the whole
model. With ``scope="global"`` one magnitude threshold is taken over all of
the part's prunable weights together (one order over their concatenation, in
name order); with ``scope="layer"`` every layer is pruned at the same ratio
on its own. Kept weights can be quantised to ``bits`` with a per-layer range
(the largest kept magnitude of that layer), so pruned entries stay exactly zero.

A ratio sweep should use :class:`MagnitudeSweep`, which sorts the magnitudes
once and then answers every ratio with one comparison per weight.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from coinfer.validation import ParameterError, require_choice, require_range

if TYPE_CHECKING:
    from coinfer.models import SplitModel

#: How a ratio is applied to several layers: one threshold, or per layer.
SCOPES: tuple[str, ...] = ("global", "layer")
#: Which part of a split model is pruned (SPEC 2).
PARTS: tuple[str, ...] = ("device", "server", "all")


# --------------------------------------------------------------------------- tensors
def prune_count(n: int, ratio: float) -> int:
    """Number of entries pruned from ``n`` at ``ratio``: ``round(ratio * n)``, halves rounded up."""
    check_ratio(ratio)
    return min(n, math.floor(ratio * n + 0.5))


def check_ratio(ratio: float, name: str = "ratio") -> float:
    """``ratio`` if it is a number in ``[0, 1]``, else :class:`ParameterError`."""
    if hasattr(ratio, "item"):  # numpy / torch scalars from a ratio grid
        ratio = ratio.item()
    return float(require_range(name, ratio, 0.0, 1.0))


def check_bits(bits: int | None, name: str = "bits") -> int | None:
    """``bits`` if it is ``None`` or an integer >= 1, else :class:`ParameterError`."""
    if bits is None:
        return None
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise ParameterError(f"{name}: got {bits!r}; allowed None or an integer >= 1")
    return bits


def magnitude_order(weights: torch.Tensor) -> torch.Tensor:
    """Flat indices of ``weights`` sorted by increasing magnitude (stable).

    Sort once and reuse the order for every ratio of a sweep
    (:func:`mask_from_order`, :class:`MagnitudeSweep`).
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
    check_bits(bits)
    values = values.detach()
    scale = float(values.abs().max()) if max_abs is None else float(max_abs)
    if scale == 0.0 or values.numel() == 0:
        return values.clone()
    levels = 2**bits
    step = 2.0 * scale / levels
    index = torch.floor(values.double() / step).clamp(-levels // 2, levels // 2 - 1)
    return ((index + 0.5) * step).to(values.dtype)


def apply_mask(weights: torch.Tensor, keep: torch.Tensor, bits: int | None = None) -> torch.Tensor:
    """Copy of ``weights`` with ``~keep`` entries zeroed and kept entries quantised to ``bits``.

    The quantiser's range is the largest kept magnitude of this tensor (a
    per-layer range), so pruned entries stay exactly zero and the kept values
    take at most ``2**bits`` distinct values.
    """
    check_bits(bits)
    weights = weights.detach()
    pruned = torch.where(keep, weights, torch.zeros((), dtype=weights.dtype))
    if bits is not None and bool(keep.any()):
        pruned[keep] = quantize_uniform(pruned[keep], bits)
    return pruned


def prune_tensor(weights: torch.Tensor, ratio: float, bits: int | None = None) -> torch.Tensor:
    """Magnitude-pruned copy of ``weights``; kept entries quantised to ``bits`` if given."""
    return apply_mask(weights, magnitude_mask(weights, ratio), bits)


# --------------------------------------------------------------------------- weight dictionaries
def _check_scope(scope: str) -> str:
    return require_choice("scope", scope, SCOPES)


def magnitude_masks(
    weights: Mapping[str, torch.Tensor], ratio: float, *, scope: str = "global"
) -> dict[str, torch.Tensor]:
    """Keep-masks of magnitude pruning at ``ratio``, sorting from scratch.

    ``scope="global"``: ``prune_count(N, ratio)`` smallest magnitudes of all
    ``N`` weights together (ties broken by position in the concatenation in
    the mapping's order). ``scope="layer"``: ``prune_count(n_l, ratio)`` per layer.
    """
    check_ratio(ratio)
    _check_scope(scope)
    if scope == "layer":
        return {name: magnitude_mask(w, ratio) for name, w in weights.items()}
    if not weights:
        return {}
    flat = torch.cat([w.detach().flatten() for w in weights.values()])
    keep = magnitude_mask(flat, ratio)
    return _unflatten(keep, weights)


def _flat(weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """All weights concatenated (a new tensor), in the mapping's order."""
    return torch.cat([w.detach().flatten() for w in weights.values()]) if weights else torch.zeros(0)


def _unflatten(flat: torch.Tensor, like: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    sizes = [w.numel() for w in like.values()]
    return {name: piece.reshape(w.shape) for (name, w), piece in zip(like.items(), torch.split(flat, sizes))}


def apply_masks(
    weights: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor], bits: int | None = None
) -> dict[str, torch.Tensor]:
    """Pruned (and optionally quantised, per-layer range) copies of ``weights`` under ``masks``."""
    return {name: apply_mask(w, masks[name], bits) for name, w in weights.items()}


def prune_weights(
    weights: Mapping[str, torch.Tensor], ratio: float, *, scope: str = "global", bits: int | None = None
) -> dict[str, torch.Tensor]:
    """Magnitude-pruned copies of ``weights`` at ``ratio`` (sorting from scratch; see :func:`magnitude_masks`)."""
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
        #: One private copy of all weights, flat in the mapping's order; ``weights`` are views into it.
        self.flat: torch.Tensor = _flat(weights)
        self.weights: dict[str, torch.Tensor] = _unflatten(self.flat, weights)
        if scope == "global":
            ranks = {"": _ranks(self.flat)} if self.weights else {}
        else:
            ranks = {name: _ranks(w.flatten()) for name, w in self.weights.items()}
        self._init_caches(ranks)

    def _init_caches(self, ranks: dict[str, torch.Tensor], orders: dict[str, torch.Tensor] | None = None,
                     errors: dict[int, torch.Tensor] | None = None) -> None:
        self._ranks = ranks
        self._orders: dict[str, torch.Tensor] = dict(orders or {})
        self._errors: dict[int, torch.Tensor] = dict(errors or {})
        self._abs_prefix: dict[str, torch.Tensor] = {}

    @property
    def num_weights(self) -> int:
        """Total number of weights swept."""
        return self.flat.numel()

    def masks(self, ratio: float) -> dict[str, torch.Tensor]:
        """Keep-masks at ``ratio`` (equal to :func:`magnitude_masks` with this scope)."""
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
        """Pruned (and optionally ``bits``-quantised) copies at ``ratio``."""
        check_bits(bits)
        return apply_masks(self.weights, self.masks(ratio), bits)

    def sweep(
        self, ratios: Iterable[float], bits: int | None = None
    ) -> Iterator[tuple[float, dict[str, torch.Tensor]]]:
        """``(ratio, pruned weights)`` for each ratio in order."""
        for ratio in ratios:
            yield ratio, self.pruned(ratio, bits)

    def restrict(self, names: Iterable[str]) -> MagnitudeSweep:
        """The sweep of ``names``, a contiguous run of this sweep's layers in order, without sorting again.

        Equal to ``MagnitudeSweep({n: weights[n] for n in names}, scope=...)``:
        filtering the stable global order to a contiguous block keeps the
        relative order of its entries, ties included.
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
        if first < 0 or all_names[first:first + len(names)] != names:
            raise ParameterError("names: must be a contiguous run of the sweep's layers, in the same order")
        offsets = np.cumsum([0, *[w.numel() for w in self.weights.values()]])
        low, high = int(offsets[first]), int(offsets[first + len(names)])
        child.flat = self.flat[low:high]
        child.weights = _unflatten(child.flat, {n: self.weights[n] for n in names})
        errors = {bits: e[low:high] for bits, e in self._errors.items()}
        if self.scope == "layer":
            child._init_caches({n: self._ranks[n] for n in names},
                               {n: self._orders[n] for n in names if n in self._orders}, errors)
            return child
        order = self._order("")
        sub = order[(order >= low) & (order < high)] - low
        ranks = torch.empty(sub.numel(), dtype=self._ranks[""].dtype)
        ranks[sub] = torch.arange(sub.numel(), dtype=ranks.dtype)
        child._init_caches({"": ranks}, {"": sub}, errors)
        return child

    def distortion(self, ratios: Iterable[float], bits: int | None = None) -> np.ndarray:
        """l1 parameter distortion per weight, ``sum |w - w^| / N``, of :meth:`pruned` at each ratio (SPEC 4).

        Computed without building any pruned copy: a layer's largest kept
        magnitude is its largest magnitude whenever anything in it is kept
        (the smallest go first), so each weight's quantisation error does not
        depend on the ratio, and the distortion at a ratio is a prefix sum of
        ``|w|`` over the pruned entries plus the suffix sum of quantisation
        errors over the kept ones, both along the stored order (float64).
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
        """``sum |w|`` over all weights (float64): the parameter distortion of pruning everything."""
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
            self._errors[bits] = torch.cat([
                (w.flatten().double() - quantize_uniform(w.flatten(), bits).double()).abs()
                for w in self.weights.values()
            ])
        return self._errors[bits]


def _prefix(values: torch.Tensor) -> torch.Tensor:
    """``[0, v0, v0 + v1, ...]`` in float64."""
    return torch.cat([torch.zeros(1, dtype=torch.float64), values.double().cumsum(0)])


def _ranks(flat: torch.Tensor) -> torch.Tensor:
    """Rank of each entry in the stable increasing-magnitude order (int32 when it fits, to halve memory)."""
    order = magnitude_order(flat)
    dtype = torch.int32 if flat.numel() < 2**31 else torch.int64
    ranks = torch.empty(flat.numel(), dtype=dtype)
    ranks[order] = torch.arange(flat.numel(), dtype=dtype)
    return ranks


# --------------------------------------------------------------------------- split models
def part_weights(model: SplitModel, part: str, split: int | str | None = None) -> dict[str, torch.Tensor]:
    """The prunable weights of one part of ``model`` (SPEC 2), detached, in model order.

    ``part="device"``/``"server"`` need ``split``; ``part="all"`` ignores it.
    The tensors share storage with the model: read them, do not write them.
    """
    require_choice("part", part, PARTS)
    if part == "all":
        found = model.all_weights()
    else:
        if split is None:
            raise ParameterError(f"split: got None for part={part!r}; allowed 0..{model.num_blocks} or a split name")
        try:
            found = model.device_weights(split) if part == "device" else model.server_weights(split)
        except ValueError as error:
            raise ParameterError(str(error)) from None
    return {name: w.detach() for name, w in found.items()}


def set_weights(model: SplitModel, new_weights: Mapping[str, torch.Tensor]) -> SplitModel:
    """Overwrite named prunable weights of ``model`` IN PLACE and return it.

    Only for a model the caller owns (a copy from :func:`copy_model`); use
    :func:`with_weights` to leave the original untouched.
    """
    params = model.all_weights()
    for name, value in new_weights.items():
        if name not in params:
            raise ParameterError(f"weights: {name!r} is not a prunable weight of model {model.name!r}")
        if tuple(value.shape) != tuple(params[name].shape):
            raise ParameterError(
                f"weights[{name!r}]: shape {tuple(value.shape)}; expected {tuple(params[name].shape)}"
            )
        with torch.no_grad():
            params[name].copy_(value)
    return model


def copy_model(model: SplitModel) -> SplitModel:
    """Independent deep copy of ``model`` (modules shared between stages stay shared)."""
    return copy.deepcopy(model)


def with_weights(model: SplitModel, new_weights: Mapping[str, torch.Tensor]) -> SplitModel:
    """Deep copy of ``model`` with the named prunable weights replaced; the original never changes."""
    return set_weights(copy_model(model), new_weights)


def model_masks(
    model: SplitModel, ratio: float, *, part: str, split: int | str | None = None, scope: str = "global"
) -> dict[str, torch.Tensor]:
    """Keep-masks of magnitude pruning ``part`` of ``model`` at ``ratio`` (names as in ``model.all_weights()``)."""
    return magnitude_masks(part_weights(model, part, split), ratio, scope=scope)


def prune_model(
    model: SplitModel,
    ratio: float,
    *,
    part: str,
    split: int | str | None = None,
    scope: str = "global",
    bits: int | None = None,
) -> SplitModel:
    """Copy of ``model`` with ``part`` magnitude-pruned at ``ratio`` (SPEC 2); other weights unchanged."""
    weights = part_weights(model, part, split)
    return with_weights(model, prune_weights(weights, ratio, scope=scope, bits=bits))


# --------------------------------------------------------------------------- experiments over model parts
# Shared by notebooks 03 (weight distributions) and 04 (pruning distortion).
PartConfig = tuple[str, "int | None"]


def interior_splits(model: SplitModel, fractions: Iterable[float]) -> list[int]:
    """Split points ``round(f L)`` for each fraction ``f``, clipped to ``1..L-1`` and de-duplicated, sorted."""
    last = model.num_blocks - 1
    if last < 1:
        return []
    return sorted({min(max(int(math.floor(f * model.num_blocks + 0.5)), 1), last) for f in fractions})


def part_configs(model: SplitModel, splits: Iterable[int]) -> list[PartConfig]:
    """``("all", None)`` then ``("device", s), ("server", s)`` for each split ``s``."""
    configs: list[PartConfig] = [("all", None)]
    for split in splits:
        configs += [("device", int(split)), ("server", int(split))]
    return configs


def _config_columns(model: SplitModel, part: str, split: int | None) -> dict[str, object]:
    return {"model": model.name, "part": part, "split": split,
            "split_name": model.split_names[split] if split is not None else ""}


def weight_fit_table(
    model: SplitModel, configs: Iterable[PartConfig], *, max_weights: int | None = None, seed: int = 0,
    layers: bool = True, max_ks_weights: int | None = None,
) -> pd.DataFrame:
    """Laplace and Gaussian fits of the weights of each part and each prunable layer (SPEC 4, claim C2).

    One row per (part or layer, family): ``model, part, split, split_name,
    layer, n, n_fit, family, loc, scale, loglik_per_weight, ks``. ``part`` is
    ``all``/``device``/``server`` (all weights of that part pooled) or
    ``layer`` (one prunable layer; ``layer`` names it). Sets larger than
    ``max_weights`` are fitted on a seeded uniform subsample of that size
    (``n_fit``), which only affects the last digits of the fitted values.
    ``max_ks_weights`` caps the KS subsample (default: the fits' own cap,
    :data:`coinfer.rate_distortion.KS_MAX_SAMPLES`).
    """
    from coinfer.rate_distortion import KS_MAX_SAMPLES, fit_gaussian, fit_laplace

    ks_cap = KS_MAX_SAMPLES if max_ks_weights is None else max_ks_weights

    items: list[tuple[dict[str, object], torch.Tensor]] = []
    for part, split in configs:
        items.append(({**_config_columns(model, part, split), "layer": ""}, _flat(part_weights(model, part, split))))
    if layers:
        for name, w in part_weights(model, "all").items():
            items.append(({**_config_columns(model, "layer", None), "layer": name}, w.flatten()))
    rows = []
    for index, (columns, values) in enumerate(items):
        n = values.numel()
        if n == 0:
            continue
        sample = values
        if max_weights is not None and n > max_weights:
            rng = np.random.default_rng([seed, index])
            chosen = np.sort(rng.choice(n, size=max_weights, replace=False))
            sample = values[torch.from_numpy(chosen)]
        fits = (fit_laplace(sample, seed=seed, max_ks_samples=ks_cap),
                fit_gaussian(sample, seed=seed, max_ks_samples=ks_cap))
        for fit in fits:
            rows.append({**columns, "n": n, "n_fit": sample.numel(), "family": fit.family, "loc": fit.loc,
                         "scale": fit.scale, "loglik_per_weight": fit.loglik_per_weight, "ks": fit.ks_statistic})
    return pd.DataFrame(rows)


def laplace_verdicts(fits: pd.DataFrame) -> pd.DataFrame:
    """One row per fitted set: Laplace-like when its log-likelihood is higher AND its KS statistic smaller."""
    keys = ["model", "part", "split", "split_name", "layer"]
    wide = fits.pivot_table(index=keys, columns="family", values=["loglik_per_weight", "ks", "n", "scale"],
                            aggfunc="first", dropna=False, sort=False)
    wide = wide.dropna(how="all")
    out = pd.DataFrame({
        "n": wide[("n", "laplace")].astype(int),
        "scale_laplace": wide[("scale", "laplace")],
        "scale_gaussian": wide[("scale", "gaussian")],
        "loglik_laplace": wide[("loglik_per_weight", "laplace")],
        "loglik_gaussian": wide[("loglik_per_weight", "gaussian")],
        "ks_laplace": wide[("ks", "laplace")],
        "ks_gaussian": wide[("ks", "gaussian")],
    }).reset_index()
    out["loglik_gain"] = out["loglik_laplace"] - out["loglik_gaussian"]
    out["laplace_like"] = (out["loglik_gain"] > 0) & (out["ks_laplace"] < out["ks_gaussian"])
    return out


def laplace_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per model: fraction of layers and of weights in Laplace-like layers, and the whole-model verdict."""
    rows = []
    for model, group in verdicts.groupby("model", sort=False):
        layers = group[group["part"] == "layer"]
        whole = group[group["part"] == "all"]
        rows.append({
            "model": model,
            "layers": len(layers),
            "laplace_like_layers": int(layers["laplace_like"].sum()),
            "frac_layers_laplace_like": float(layers["laplace_like"].mean()) if len(layers) else float("nan"),
            "frac_weights_laplace_like": float(layers.loc[layers["laplace_like"], "n"].sum() / layers["n"].sum())
            if len(layers) else float("nan"),
            "whole_model_laplace_like": bool(whole["laplace_like"].iloc[0]) if len(whole) else False,
            "whole_model_loglik_gain": float(whole["loglik_gain"].iloc[0]) if len(whole) else float("nan"),
            "whole_model_ks_laplace": float(whole["ks_laplace"].iloc[0]) if len(whole) else float("nan"),
            "whole_model_ks_gaussian": float(whole["ks_gaussian"].iloc[0]) if len(whole) else float("nan"),
        })
    return pd.DataFrame(rows)


def parameter_distortion_curves(
    model: SplitModel, configs: Iterable[PartConfig], ratios: Iterable[float], bits: Iterable[int], *,
    scope: str = "global", float_bits: int = 32,
) -> pd.DataFrame:
    """Measured l1 distortion per weight of magnitude pruning each part, against ``D_LB`` and ``D_mag`` (SPEC 4, C2).

    One row per (part, ratio, quantisation): ``quantisation`` is ``"none"``
    (float weights; the bound uses ``q = float_bits``, their storage) or
    ``"q<bits>"`` (kept weights uniformly quantised, per-layer range; the
    bound uses that ``q``). ``scale`` is the part's Laplace MLE ``b``.
    ``lb_holds`` says whether the measured distortion is >= ``D_LB``.
    """
    from coinfer.rate_distortion import laplace_scale

    whole = MagnitudeSweep(part_weights(model, "all"), scope=scope)  # the one sort; parts restrict it
    rows = []
    for part, split in configs:
        weights = part_weights(model, part, split)
        if weights:
            sweep = whole if part == "all" else whole.restrict(weights)
            rows += _curve_rows(model, part, split, sweep, laplace_scale(sweep.flat), ratios, bits, float_bits)
    return pd.DataFrame(rows)


def _curve_rows(
    model: SplitModel, part: str, split: int | None, sweep: MagnitudeSweep, b: float, ratios: Iterable[float],
    bits: Iterable[int], float_bits: int,
) -> list[dict[str, object]]:
    from coinfer.rate_distortion import distortion_lower_bound, magnitude_distortion

    ratios = [check_ratio(r) for r in ratios]
    d_mag = magnitude_distortion(ratios, b)
    rows = []
    for q in (None, *[check_bits(q) for q in bits]):
        measured = sweep.distortion(ratios, bits=q)
        q_bound = float_bits if q is None else q
        d_lb = distortion_lower_bound(ratios, b, q_bound)
        for ratio, m, lb, dm in zip(ratios, measured, d_lb, d_mag):
            rows.append({**_config_columns(model, part, split), "ratio": ratio,
                         "quantisation": "none" if q is None else f"q{q}", "q_bound": q_bound,
                         "n_weights": sweep.num_weights, "scale": b, "measured": float(m),
                         "d_lb": float(lb), "d_mag": float(dm), "lb_holds": bool(m >= lb),
                         "measured_over_lb": float(m / lb) if lb > 0 else float("nan")})
    return rows


def concat_inputs(values: list[object]) -> object:
    """Inputs of several batches as one batch (tensors concatenated on dim 0, tuples element-wise)."""
    first = values[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(values)
    if isinstance(first, (tuple, list)):
        return type(first)(concat_inputs([v[i] for v in values]) for i in range(len(first)))
    raise ParameterError(f"inputs: got {type(first).__name__}; allowed a tensor or a tuple of tensors")


class _OutputRunner:
    """Runs pruned parts of a private model copy on all subsets at once and measures against the unpruned outputs."""

    def __init__(self, model_name: str, model: SplitModel, batches: Mapping[str, object]) -> None:
        from coinfer.models import output_vectors

        self.model_name, self.model = model_name, model
        self.work = copy_model(model)
        self.subsets = list(batches)
        self.sizes = [batches[s].size for s in self.subsets]
        self.labels = [getattr(batches[s], "labels", None) for s in self.subsets]
        self.inputs = concat_inputs([batches[s].inputs for s in self.subsets])
        self.reference = output_vectors(model_name, model.forward(self.inputs)).double()
        self.reference_l1 = self.reference.abs().sum(dim=1).numpy()

    def rows(self, part: str, split: int | None, sweep: MagnitudeSweep, b: float, ratios: Iterable[float],
             bits: int | None, progress) -> tuple[list[pd.DataFrame], list[dict[str, object]]]:
        from coinfer.bounds import output_distortion
        from coinfer.models import output_vectors, task_metric

        ratios = [check_ratio(r) for r in ratios]
        n = sweep.num_weights
        total_abs = sweep.total_abs()
        sent = self.model.run_device(self.inputs, split) if part == "server" else None
        samples, summary = [], []
        for ratio, d in zip(ratios, sweep.distortion(ratios, bits=bits)):
            set_weights(self.work, sweep.pruned(ratio, bits=bits))
            if part == "server":
                out = self.work.run_server(sent, split)
            elif part == "device":
                out = self.work.run_server(self.work.run_device(self.inputs, split), split)
            else:
                out = self.work.forward(self.inputs)
            vec = output_vectors(self.model_name, out).double()
            dist = output_distortion(self.reference, vec).numpy()
            param_l1 = float(d) * n
            start = 0
            for subset, size, labels in zip(self.subsets, self.sizes, self.labels):
                part_slice = slice(start, start + size)
                start += size
                ref, got = self.reference[part_slice], vec[part_slice]
                # the metric's output_vector is the identity on [batch, dim] vectors
                metric, value = task_metric(self.model_name, ref, got, labels)
                columns = {**_config_columns(self.model, part, split), "ratio": ratio, "subset": subset}
                samples.append(pd.DataFrame({**columns, "sample": np.arange(size), "param_l1": param_l1,
                                             "param_rel": param_l1 / total_abs, "out_l1": dist[part_slice],
                                             "ref_l1": self.reference_l1[part_slice]}))
                summary.append({**columns, "n_weights": n, "scale": b, "param_l1": param_l1,
                                "param_per_weight": float(d), "param_rel": param_l1 / total_abs,
                                "out_l1_mean": float(dist[part_slice].mean()),
                                "out_rel": float(dist[part_slice].sum() / self.reference_l1[part_slice].sum()),
                                "metric": metric, "metric_value": value})
            progress.update(1)
        set_weights(self.work, sweep.weights)
        return samples, summary


@torch.no_grad()
def output_sweep(
    model_name: str, model: SplitModel, configs: Iterable[PartConfig], ratios: Iterable[float],
    batches: Mapping[str, object], *, scope: str = "global", bits: int | None = None, progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Output distortion and task metric of magnitude pruning each part at each ratio (SPEC 3, claim C1).

    ``batches`` maps a subset name (``"calibration"``, ``"heldout"``) to a
    :class:`coinfer.models.Batch`; all subsets run as one batch. Pruning
    works on one private copy of the model whose weights are swapped per
    ratio; the caller's model is only run. Returns ``(samples, summary)``:

    - ``samples``: one row per (part, ratio, subset, sample): ``param_l1``
      (entrywise ``||W - W^||_1`` of the part), ``param_rel`` (over
      ``||W||_1``), ``out_l1`` (``||f - f^||_1`` of the output vectors),
      ``ref_l1`` (``||f||_1``);
    - ``summary``: one row per (part, ratio, subset): ``n_weights``,
      ``scale`` (Laplace ``b``), ``param_l1``, ``param_per_weight``,
      ``param_rel``, ``out_l1_mean``, ``out_rel`` (``sum ||df|| / sum ||f||``),
      ``metric``, ``metric_value`` (:func:`coinfer.models.task_metric`).
    """
    _, samples, summary = pruning_experiment(model_name, model, configs, ratios=ratios, curve_ratios=(), bits=(),
                                             batches=batches, scope=scope, output_bits=bits, progress=progress)
    return samples, summary


@torch.no_grad()
def pruning_experiment(
    model_name: str, model: SplitModel, configs: Iterable[PartConfig], *, ratios: Iterable[float],
    curve_ratios: Iterable[float], bits: Iterable[int], batches: Mapping[str, object], scope: str = "global",
    output_bits: int | None = None, float_bits: int = 32, progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`parameter_distortion_curves` and :func:`output_sweep` in one pass, sorting each part once.

    Returns ``(curves, samples, summary)`` (empty curves when ``curve_ratios`` is empty).
    """
    from tqdm.auto import tqdm

    from coinfer.rate_distortion import laplace_scale

    ratios, curve_ratios, bits = list(ratios), list(curve_ratios), list(bits)
    configs = list(configs)
    runner = _OutputRunner(model_name, model, batches)
    whole = MagnitudeSweep(part_weights(model, "all"), scope=scope)  # the one sort; parts restrict it
    curves, samples, summary = [], [], []
    with tqdm(total=len(configs) * len(ratios), desc=f"{model_name} sweep", disable=not progress) as bar:
        for part, split in configs:
            weights = part_weights(model, part, split)
            if not weights:
                bar.update(len(ratios))
                continue
            sweep = whole if part == "all" else whole.restrict(weights)
            b = laplace_scale(sweep.flat)
            if curve_ratios:
                curves += _curve_rows(model, part, split, sweep, b, curve_ratios, bits, float_bits)
            new_samples, new_summary = runner.rows(part, split, sweep, b, ratios, output_bits, bar)
            samples += new_samples
            summary += new_summary
    return pd.DataFrame(curves), pd.concat(samples, ignore_index=True), pd.DataFrame(summary)


def first_order_check(
    samples: pd.DataFrame, *, fit_subset: str = "calibration", test_subset: str = "heldout"
) -> pd.DataFrame:
    """First-order form of SPEC 3, ``||df||_1 <= H ||dW||_1``, fitted on one subset and tested on another.

    Per (model, part, split), ``H`` is the smallest constant that holds on
    every ``fit_subset`` pair (sample, ratio) with ``||dW|| > 0``
    (:func:`coinfer.bounds.fit_first_order_constant`). Per ratio > 0 the
    ``test_subset`` pairs give ``frac_holds`` (``out <= H param``),
    ``ratio_median``/``ratio_max`` of ``out / (H param)``, and
    ``frac_holds_relative``: the scale-free form with ``H = 1``,
    ``||df|| / ||f|| <= ||dW|| / ||W||``.
    """
    from coinfer.bounds import fit_first_order_constant

    rows = []
    keys = ["model", "part", "split", "split_name"]
    for key, group in samples.groupby(keys, sort=False, dropna=False):
        fit = group[(group["subset"] == fit_subset) & (group["param_l1"] > 0)]
        h = fit_first_order_constant(fit["out_l1"], fit["param_l1"])
        test = group[(group["subset"] == test_subset) & (group["ratio"] > 0)]
        for ratio, at in test.groupby("ratio", sort=True):
            scaled = at["out_l1"] / (h * at["param_l1"])
            rows.append({**dict(zip(keys, key)), "ratio": float(ratio), "n_inputs": len(at), "h": h,
                         "frac_holds": float((at["out_l1"] <= h * at["param_l1"]).mean()),
                         "ratio_median": float(scaled.median()), "ratio_max": float(scaled.max()),
                         "frac_holds_relative": float((at["out_l1"] / at["ref_l1"] <= at["param_rel"]).mean())})
    return pd.DataFrame(rows)


def exact_bound_sweep(
    model: SplitModel, configs: Iterable[PartConfig], ratios: Iterable[float], x: torch.Tensor, *,
    scope: str = "global",
) -> pd.DataFrame:
    """The exact SPEC 3 bound on a Sequential-built model, per (part, ratio): violations and tightness.

    Uses :func:`coinfer.bounds.check_pair` on ``as_sequential`` of the model
    and of each pruned copy. A violation is a bug, so callers assert zero.
    """
    from coinfer.bounds import check_pair
    from coinfer.models import as_sequential

    ratios = [check_ratio(r) for r in ratios]
    reference = as_sequential(model)
    rows = []
    for part, split in configs:
        weights = part_weights(model, part, split)
        sweep = MagnitudeSweep(weights, scope=scope)
        for ratio in ratios:
            pruned = with_weights(model, sweep.pruned(ratio))
            frame = check_pair(reference, as_sequential(pruned), x)
            rows.append({**_config_columns(model, part, split), "ratio": ratio, "n_inputs": len(frame),
                         "param_l1": float(sweep.distortion([ratio])[0]) * sweep.num_weights,
                         "violations_operator": int(frame["violated_operator"].sum()),
                         "violations_entrywise": int(frame["violated_entrywise"].sum()),
                         "out_l1_mean": float(frame["output_distortion"].mean()),
                         "bound_operator_mean": float(frame["bound_operator"].mean()),
                         "bound_entrywise_mean": float(frame["bound_entrywise"].mean()),
                         "tightness_operator_max": float(frame["tightness_operator"].max()),
                         "tightness_entrywise_max": float(frame["tightness_entrywise"].max())})
    return pd.DataFrame(rows)


def holds_from(frame: pd.DataFrame, flag: str, *, by: Iterable[str], ratio: str = "ratio") -> pd.DataFrame:
    """Per group: the smallest ratio from which ``flag`` is true at every larger ratio of the grid.

    ``holds_from`` is NaN when the flag fails at the largest ratio; ``frac``
    is the fraction of grid ratios where it is true (``flag`` may be a
    fraction in [0, 1]; only 1 counts as true).
    """
    rows = []
    for key, group in frame.groupby(list(by), sort=False, dropna=False):
        group = group.sort_values(ratio)
        ok = group[flag].to_numpy(dtype=float) >= 1.0
        values = group[ratio].to_numpy(dtype=float)
        failing = np.flatnonzero(~ok)
        if failing.size == 0:
            start = values[0]
        else:
            start = values[failing[-1] + 1] if failing[-1] + 1 < len(values) else np.nan
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), "holds_from": float(start),
                     "frac": float(ok.mean()), "ratio_min": float(values[0]), "ratio_max": float(values[-1])})
    return pd.DataFrame(rows)
