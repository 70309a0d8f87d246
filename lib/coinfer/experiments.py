"""Experiment drivers behind notebooks 01, 03 and 04: each builds the tidy tables a notebook writes to ``data/``.

- Notebook 01 (claim C1 on random and trained networks): random networks and
  masks, per-sample checks of the exact model.md section 3 bound (:func:`check_pair`)
  and the sweeps built on them.
- Notebooks 03 and 04 (claims C1 and C2 on the model zoo): experiments over
  the parts of a :class:`~coinfer.models.SplitModel` (the whole model, or the
  device or server side at a split): weight fits, parameter-distortion
  curves, output sweeps and first-order checks.

The library concepts live in :mod:`coinfer.bounds` (the bound),
:mod:`coinfer.pruning` (pruning) and :mod:`coinfer.rate_distortion`; this
module only combines them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from coinfer.bounds import (
    AFFINE,
    bound_violated,
    fit_first_order_constant,
    forward_float64,
    layerwise_bound,
    output_distortion,
    parameter_distortion,
)
from coinfer.devices import check_device, move_model, to_cpu64, to_device
from coinfer.pruning import (
    MagnitudeSweep,
    _flat,
    check_bits,
    check_ratio,
    copy_model,
    part_weights,
    prune_count,
    set_weights,
    with_weights,
)
from coinfer.threads import single_thread
from coinfer.validation import ParameterError, require_choice

if TYPE_CHECKING:
    from coinfer.models import Batch, SplitModel


# --- random networks and bound checks (notebook 01) ---
MASK_KINDS: tuple[str, ...] = ("random", "magnitude")


def random_network(
    rng: np.random.Generator,
    *,
    depth: int,
    width: int,
    in_features: int,
    out_features: int,
    weight_scale: float,
    bias: bool,
    activation: str = "relu",
) -> nn.Sequential:
    """A random ``depth``-layer MLP ``Linear, act, ..., Linear`` with i.i.d. N(0, (scale / sqrt(fan_in))^2) weights."""
    acts = {"relu": nn.ReLU, "relu6": nn.ReLU6, "tanh": nn.Tanh}
    require_choice("activation", activation, tuple(acts))
    widths = [in_features] + [width] * (depth - 1) + [out_features]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        linear = nn.Linear(fan_in, fan_out, bias=bias, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(rng.normal(0.0, weight_scale / np.sqrt(fan_in), (fan_out, fan_in))))
            if bias:
                linear.bias.copy_(torch.from_numpy(rng.normal(0.0, 0.5, fan_out)))
        layers.append(linear)
        if i < depth - 1:
            layers.append(acts[activation]())
    return nn.Sequential(*layers).eval()


def random_cnn(rng: np.random.Generator, *, channels: int, size: int, weight_scale: float, bias: bool) -> nn.Sequential:
    """A small random CNN ``Conv-BN-ReLU, Conv(stride 2)-BN-ReLU6, Flatten, Linear``.

    Its BatchNorm layers are in eval mode with random statistics.

    Input ``[batch, 2, size, size]``; weights i.i.d. N(0, (scale / sqrt(fan_in))^2), all drawn from ``rng``.
    """
    c = channels
    model = nn.Sequential(
        nn.Conv2d(2, c, 3, padding=1, bias=bias),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.Conv2d(c, c, 3, stride=2, padding=1, bias=bias),
        nn.BatchNorm2d(c),
        nn.ReLU6(),
        nn.Flatten(),
        nn.Linear(c * ((size + 1) // 2) ** 2, 5, bias=bias),
    ).double()
    draw = lambda *shape, sd=1.0, mean=0.0: torch.from_numpy(rng.normal(mean, sd, shape))  # noqa: E731
    with torch.no_grad():
        for module in model:
            if isinstance(module, AFFINE):
                fan_in = module.weight[0].numel()
                module.weight.copy_(draw(*module.weight.shape, sd=weight_scale / np.sqrt(fan_in)))
                if module.bias is not None:
                    module.bias.copy_(draw(*module.bias.shape, sd=0.5))
            if isinstance(module, nn.BatchNorm2d):
                assert module.running_mean is not None and module.running_var is not None  # tracked by default
                module.running_mean.copy_(draw(c, sd=0.3))
                module.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, c)))
                module.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c)))
                module.bias.copy_(draw(c, sd=0.3))
    return model.eval()


def prunable_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """Name -> weight of the Linear/Conv2d layers of ``model`` (state-dict names)."""
    from coinfer.models import prunable_weights

    return {name: w.detach() for name, w in prunable_weights(model).items()}


def with_sequential_weights(model: nn.Module, weights: Mapping[str, torch.Tensor]) -> nn.Module:
    """A deep copy of ``model`` with the named weights replaced; ``model`` is unchanged."""
    copied = copy.deepcopy(model)
    params = dict(copied.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    return copied


def random_mask_weights(
    weights: Mapping[str, torch.Tensor], ratio: float, rng: np.random.Generator
) -> dict[str, torch.Tensor]:
    """Copies of ``weights`` with exactly ``prune_count(n, ratio)`` uniformly random entries per layer zeroed."""
    pruned = {}
    for name, w in weights.items():
        n = w.numel()
        drop = rng.permutation(n)[: prune_count(n, ratio)]
        flat = w.detach().flatten().clone()
        flat[torch.from_numpy(drop)] = 0.0
        pruned[name] = flat.reshape(w.shape)
    return pruned


def check_pair(
    model: nn.Sequential, modified: nn.Sequential | Mapping[str, torch.Tensor], x: torch.Tensor
) -> pd.DataFrame:
    """One row per sample of ``x``: output distortion, both bounds, tightness, violation flags (float64).

    ``modified`` is a modified copy of ``model`` or a mapping of replaced weights.
    """
    bound = layerwise_bound(model, modified, x)
    reference = forward_float64(model, x)
    # the bound is computed on the canonical (folded) layers: they must be the same function as the model
    scale = float(reference.abs().max()) if reference.numel() else 0.0
    if not torch.allclose(bound.output, reference, rtol=1e-9, atol=1e-9 * scale):
        raise ParameterError(
            "model: its canonical Linear/Conv2d chain does not reproduce its output "
            "(a layer is used in a way model.md section 3 does not cover, e.g. BatchNorm1d on 3-d input)"
        )
    if isinstance(modified, Mapping):
        output = forward_float64(model, x, modified)
    else:
        output = forward_float64(modified, x)
    out = output_distortion(reference, output).numpy()
    op, ent = bound.operator.numpy(), bound.entrywise.numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "sample": np.arange(len(out)),
                "output_distortion": out,
                "bound_operator": op,
                "bound_entrywise": ent,
                "tightness_operator": np.where(op > 0, out / op, np.nan),
                "tightness_entrywise": np.where(ent > 0, out / ent, np.nan),
                "violated_operator": bound_violated(out, op),
                "violated_entrywise": bound_violated(out, ent),
            }
        )


def summarise_checks(frame: pd.DataFrame) -> dict[str, Any]:
    """Per-sample rows of :func:`check_pair` reduced to one observation (count, worst case, median)."""
    return {
        "n_checks": len(frame),
        "violations_operator": int(frame["violated_operator"].sum()),
        "violations_entrywise": int(frame["violated_entrywise"].sum()),
        "output_distortion_mean": float(frame["output_distortion"].mean()),
        "bound_operator_mean": float(frame["bound_operator"].mean()),
        "bound_entrywise_mean": float(frame["bound_entrywise"].mean()),
        "tightness_operator_median": float(frame["tightness_operator"].median()),
        "tightness_operator_max": float(frame["tightness_operator"].max()),
        "tightness_entrywise_median": float(frame["tightness_entrywise"].median()),
        "tightness_entrywise_max": float(frame["tightness_entrywise"].max()),
    }


def random_network_checks(
    *,
    seed: int,
    n_networks: int,
    depths: Sequence[int],
    widths: Sequence[int],
    weight_scales: Sequence[float],
    ratios: Sequence[float],
    n_inputs: int,
    n_cnns: int = 0,
    in_features: int = 16,
    progress: bool = True,
) -> pd.DataFrame:
    """model.md section 3 bound checks on random networks: one row per (network, mask kind, ratio).

    Each row summarises ``n_inputs`` checks (:func:`summarise_checks`: counts
    of violations, worst and median tightness).

    Network ``i`` draws its depth, width, weight scale, bias on/off and
    activation from the given choices with a generator seeded by ``(seed, i)``;
    every ratio is applied with a random mask and with a per-layer magnitude
    mask (:class:`coinfer.pruning.MagnitudeSweep`). ``n_cnns`` small
    Conv-BN networks (model.md section 3's conv/BatchNorm case) are appended.
    """
    from coinfer.progress import tqdm

    frames = []
    total = n_networks + n_cnns
    with single_thread():
        for i in tqdm(range(total), desc="random networks", disable=not progress, mininterval=2.0):
            frames.append(
                _check_random_network(
                    i,
                    seed=seed,
                    n_networks=n_networks,
                    depths=depths,
                    widths=widths,
                    weight_scales=weight_scales,
                    ratios=ratios,
                    n_inputs=n_inputs,
                    in_features=in_features,
                )
            )
    return pd.concat(frames, ignore_index=True)


def _check_random_network(
    i: int,
    *,
    seed: int,
    n_networks: int,
    depths: Sequence[int],
    widths: Sequence[int],
    weight_scales: Sequence[float],
    ratios: Sequence[float],
    n_inputs: int,
    in_features: int,
) -> pd.DataFrame:
    """Rows of :func:`random_network_checks` for network ``i``."""
    rng = np.random.default_rng([seed, i])
    bias = bool(rng.integers(2))
    scale = float(rng.choice(weight_scales))
    if i < n_networks:
        depth, width = int(rng.choice(depths)), int(rng.choice(widths))
        activation = str(rng.choice(["relu", "relu", "relu6", "tanh"]))
        model = random_network(
            rng,
            depth=depth,
            width=width,
            in_features=in_features,
            out_features=int(rng.integers(1, 11)),
            weight_scale=scale,
            bias=bias,
            activation=activation,
        )
        x = torch.from_numpy(rng.normal(0.0, 1.0, (n_inputs, in_features)))
        arch = "mlp"
    else:
        depth, width, activation, arch = 3, int(rng.choice([2, 4])), "relu", "cnn"
        size = 6
        model = random_cnn(rng, channels=width, size=size, weight_scale=scale, bias=bias)
        x = torch.from_numpy(rng.normal(0.0, 1.0, (n_inputs, 2, size, size)))
    weights = prunable_of(model)
    sweep = MagnitudeSweep(weights, scope="layer")
    rows = []
    for kind in MASK_KINDS:
        for ratio in ratios:
            pruned_w = sweep.pruned(ratio) if kind == "magnitude" else random_mask_weights(weights, ratio, rng)
            rows.append(
                {
                    "network": i,
                    "architecture": arch,
                    "depth": depth,
                    "width": width,
                    "weight_scale": scale,
                    "bias": bias,
                    "activation": activation,
                    "mask": kind,
                    "ratio": float(ratio),
                    "param_distortion": parameter_distortion(weights, pruned_w),
                    **summarise_checks(check_pair(model, pruned_w, x)),
                }
            )
    return pd.DataFrame(rows)


def digits_bound_sweep(
    model: nn.Sequential,
    x: torch.Tensor,
    y: torch.Tensor,
    ratios: Sequence[float],
    *,
    scopes: Sequence[str] = ("layer", "global"),
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bound checks of a trained ``nn.Sequential`` classifier over a magnitude-pruning ratio sweep.

    Returns ``(per_sample, per_ratio)``: the per-sample rows of
    :func:`check_pair` (with ``scope``, ``ratio``) and one row per (scope,
    ratio) with the number of checks and violations, tightness summaries, the
    parameter distortion, the fraction of samples with output distortion <=
    parameter distortion (``H = 1``), and the pruned model's accuracy on ``(x, y)``.
    """
    with single_thread():
        return _digits_sweep(model, x, y, ratios, scopes, progress)


def _digits_sweep(
    model: nn.Sequential,
    x: torch.Tensor,
    y: torch.Tensor,
    ratios: Sequence[float],
    scopes: Sequence[str],
    progress: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from coinfer.models import accuracy
    from coinfer.progress import tqdm

    weights = prunable_of(model)
    samples, summary = [], []
    for scope in scopes:
        sweep = MagnitudeSweep(weights, scope=scope)
        for ratio in tqdm(ratios, desc=f"digits ({scope})", disable=not progress, mininterval=2.0):
            pruned_w = sweep.pruned(ratio)
            frame = check_pair(model, pruned_w, x)
            param = parameter_distortion(weights, pruned_w)
            frame.insert(0, "scope", scope)
            frame.insert(1, "ratio", float(ratio))
            samples.append(frame)
            out = frame["output_distortion"].to_numpy()
            pruned_forward = lambda inputs, w=pruned_w: torch.func.functional_call(model, w, (inputs,))  # noqa: E731
            summary.append(
                {
                    "scope": scope,
                    "ratio": float(ratio),
                    "param_distortion": param,
                    **summarise_checks(frame),
                    "frac_output_le_param": float(np.mean(out <= param)),
                    "max_output_over_param": float(out.max() / param) if param > 0 else float("nan"),
                    "accuracy": accuracy(pruned_forward, x, y),
                }
            )
    return pd.concat(samples, ignore_index=True), pd.DataFrame(summary)


# --- experiments over model parts (notebooks 03, 04) ---
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
    return {
        "model": model.name,
        "part": part,
        "split": split,
        "split_name": model.split_names[split] if split is not None else "",
    }


def weight_fit_table(
    model: SplitModel,
    configs: Iterable[PartConfig],
    *,
    max_weights: int | None = None,
    seed: int = 0,
    layers: bool = True,
    max_ks_weights: int | None = None,
) -> pd.DataFrame:
    """Laplace and Gaussian fits of the weights of each part and each prunable layer (model.md section 4, claim C2).

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
            items.append(({**_config_columns(model, "layer", None), "layer": name}, w.flatten().cpu()))
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
        fits = (
            fit_laplace(sample, seed=seed, max_ks_samples=ks_cap),
            fit_gaussian(sample, seed=seed, max_ks_samples=ks_cap),
        )
        for fit in fits:
            rows.append(
                {
                    **columns,
                    "n": n,
                    "n_fit": sample.numel(),
                    "family": fit.family,
                    "loc": fit.loc,
                    "scale": fit.scale,
                    "loglik_per_weight": fit.loglik_per_weight,
                    "ks": fit.ks_statistic,
                }
            )
    return pd.DataFrame(rows)


def laplace_verdicts(fits: pd.DataFrame) -> pd.DataFrame:
    """One row per fitted set: Laplace-like when its log-likelihood is higher AND its KS statistic smaller."""
    keys = ["model", "part", "split", "split_name", "layer"]
    wide = fits.pivot_table(
        index=keys,
        columns="family",
        values=["loglik_per_weight", "ks", "n", "scale"],
        aggfunc="first",
        dropna=False,
        sort=False,
    )
    wide = wide.dropna(how="all")
    out = pd.DataFrame(
        {
            "n": wide[("n", "laplace")].astype(int),
            "scale_laplace": wide[("scale", "laplace")],
            "scale_gaussian": wide[("scale", "gaussian")],
            "loglik_laplace": wide[("loglik_per_weight", "laplace")],
            "loglik_gaussian": wide[("loglik_per_weight", "gaussian")],
            "ks_laplace": wide[("ks", "laplace")],
            "ks_gaussian": wide[("ks", "gaussian")],
        }
    ).reset_index()
    out["loglik_gain"] = out["loglik_laplace"] - out["loglik_gaussian"]
    out["laplace_like"] = (out["loglik_gain"] > 0) & (out["ks_laplace"] < out["ks_gaussian"])
    return out


def laplace_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per model: fraction of layers and of weights in Laplace-like layers, and the whole-model verdict."""
    rows = []
    for model, group in verdicts.groupby("model", sort=False):
        layers = group[group["part"] == "layer"]
        whole = group[group["part"] == "all"]
        rows.append(
            {
                "model": model,
                "layers": len(layers),
                "laplace_like_layers": int(layers["laplace_like"].sum()),
                "frac_layers_laplace_like": float(layers["laplace_like"].mean()) if len(layers) else float("nan"),
                "frac_weights_laplace_like": float(layers.loc[layers["laplace_like"], "n"].sum() / layers["n"].sum())
                if len(layers)
                else float("nan"),
                "whole_model_laplace_like": bool(whole["laplace_like"].iloc[0]) if len(whole) else False,
                "whole_model_loglik_gain": float(whole["loglik_gain"].iloc[0]) if len(whole) else float("nan"),
                "whole_model_ks_laplace": float(whole["ks_laplace"].iloc[0]) if len(whole) else float("nan"),
                "whole_model_ks_gaussian": float(whole["ks_gaussian"].iloc[0]) if len(whole) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def parameter_distortion_curves(
    model: SplitModel,
    configs: Iterable[PartConfig],
    ratios: Iterable[float],
    bits: Iterable[int],
    *,
    scope: str = "global",
    float_bits: int = 32,
) -> pd.DataFrame:
    """Measured l1 distortion per weight of magnitude pruning each part, vs ``D_LB`` and ``D_mag`` (model.md §4, C2).

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
    model: SplitModel,
    part: str,
    split: int | None,
    sweep: MagnitudeSweep,
    b: float,
    ratios: Iterable[float],
    bits: Iterable[int],
    float_bits: int,
) -> list[dict[str, object]]:
    from coinfer.rate_distortion import distortion_lower_bound, magnitude_distortion

    ratios = [check_ratio(r) for r in ratios]
    d_mag = magnitude_distortion(ratios, b)
    rows = []
    for q in (None, *[check_bits(q) for q in bits]):
        measured = sweep.distortion(ratios, bits=q)
        q_bound = float_bits if q is None else q
        d_lb = distortion_lower_bound(ratios, b, q_bound)
        for ratio, m, lb, dm in zip(ratios, measured, d_lb, d_mag, strict=True):
            rows.append(
                {
                    **_config_columns(model, part, split),
                    "ratio": ratio,
                    "quantisation": "none" if q is None else f"q{q}",
                    "q_bound": q_bound,
                    "n_weights": sweep.num_weights,
                    "scale": b,
                    "measured": float(m),
                    "d_lb": float(lb),
                    "d_mag": float(dm),
                    "lb_holds": bool(m >= lb),
                    "measured_over_lb": float(m / lb) if lb > 0 else float("nan"),
                }
            )
    return rows


def concat_inputs(values: list[Any]) -> Any:
    """Inputs of several batches as one batch (tensors concatenated on dim 0, tuples element-wise)."""
    first = values[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(values)
    if isinstance(first, (tuple, list)):
        return type(first)(concat_inputs([v[i] for v in values]) for i in range(len(first)))
    raise ParameterError(f"inputs: got {type(first).__name__}; allowed a tensor or a tuple of tensors")


def _part_split(part: str, split: int | None) -> int:
    """The split index of a device or server part (only the whole model, part ``"all"``, has none)."""
    if split is None:
        raise ParameterError(f"split: got None for part {part!r}; expected a split index")
    return split


#: Sentences per forward chunk of a text batch (:func:`length_chunks`).
TEXT_CHUNK = 16
#: Input elements per forward chunk of a tensor batch: 8 images of 3 x 224 x 224 (the digits fit in one chunk).
CHUNK_ELEMENTS = 8 * 3 * 224 * 224


def length_chunks(inputs: Any, size: int) -> list[tuple[torch.Tensor, Any]]:
    """``(indices, inputs)`` chunks of a batch of ``size`` inputs, each run as one forward pass.

    A text batch ``(token ids, attention mask)`` is sorted by sentence length
    and cut into chunks of :data:`TEXT_CHUNK`, each trimmed to its longest
    sentence: padding is masked out of attention and pooling, so the outputs
    do not depend on it, and the sentences average 25 of the 128 padded
    tokens, so the padded positions were most of the compute. A tensor batch
    is cut into chunks of at most :data:`CHUNK_ELEMENTS` input elements: on
    the 2-core CPU, EfficientNet-Lite0 ran 78 images 3-4x faster in chunks of
    8 than in one batch, whose activations (hundreds of MB) are allocated and
    returned to the system at every layer. Every output row depends on its own
    input only, so the chunked outputs equal the one-batch outputs.
    """
    if isinstance(inputs, tuple) and len(inputs) == 2 and isinstance(inputs[1], torch.Tensor):
        ids, mask = inputs
        lengths = mask.sum(dim=1)
        order = torch.argsort(lengths, stable=True)
        chunks = []
        for start in range(0, size, TEXT_CHUNK):
            index = order[start : start + TEXT_CHUNK]
            longest = int(lengths[index].max())
            chunks.append((index, (ids[index, :longest], mask[index, :longest])))
        return chunks
    if isinstance(inputs, torch.Tensor) and size > 0:
        step = max(1, CHUNK_ELEMENTS // max(1, inputs[0].numel()))
        return [
            (torch.arange(start, min(start + step, size)), inputs[start : start + step])
            for start in range(0, size, step)
        ]
    return [(torch.arange(size), inputs)]


def _sources_of(subset: str, batch: Batch) -> list[str]:
    """Where each sample of ``batch`` comes from: its ``sources`` tags, else the subset name."""
    return list(batch.sources) if batch.sources is not None else [subset] * batch.size


def _clusters_of(subset: str, batch: Batch) -> list[str]:
    """The independent unit of each sample (model.md section 3.3): its source if the batch's sources are
    dependent (crops of one photo), else the sample itself (``subset:index``)."""
    if batch.dependent_sources and batch.sources is not None:
        return list(batch.sources)
    return [f"{subset}:{i}" for i in range(batch.size)]


class _OutputRunner:
    """Runs pruned parts of a private model copy on all subsets at once and measures against the unpruned outputs."""

    def __init__(self, model_name: str, model: SplitModel, batches: Mapping[str, Batch], device: str = "cpu") -> None:

        self.model_name, self.model = model_name, model
        # The private copy runs on ``device``; its unpruned weights give the reference (on the CPU the same
        # arithmetic as running ``model`` itself). Outputs come back as CPU float64 (coinfer.devices).
        self.work = move_model(copy_model(model), device)
        self.subsets = list(batches)
        self.sizes = [batches[s].size for s in self.subsets]
        self.labels = [getattr(batches[s], "labels", None) for s in self.subsets]
        self.sources = [_sources_of(s, batches[s]) for s in self.subsets]
        self.clusters = [_clusters_of(s, batches[s]) for s in self.subsets]
        chunks = length_chunks(concat_inputs([batches[s].inputs for s in self.subsets]), sum(self.sizes))
        self.chunks = [(index, to_device(x, device)) for index, x in chunks]
        self.inverse = torch.argsort(torch.cat([index for index, _ in self.chunks]))
        self.reference = self._vectors(lambda _, x: self.work.forward(x))
        self.reference_l1 = self.reference.abs().sum(dim=1).numpy()

    def _vectors(self, run: Callable[[int, Any], Any]) -> torch.Tensor:
        """Output vectors of ``run(chunk number, chunk inputs)`` over all chunks, in the inputs' original order."""
        from coinfer.zoo import output_vectors

        found = [to_cpu64(output_vectors(self.model_name, run(k, x))) for k, (_, x) in enumerate(self.chunks)]
        return torch.cat(found)[self.inverse]

    def rows(
        self,
        part: str,
        split: int | None,
        sweep: MagnitudeSweep,
        b: float,
        ratios: Iterable[float],
        bits: int | None,
        progress,
    ) -> tuple[list[pd.DataFrame], list[dict[str, object]]]:
        from coinfer.zoo import task_metric

        ratios = [check_ratio(r) for r in ratios]
        n = sweep.num_weights
        total_abs = sweep.total_abs()
        at = 0 if part == "all" else _part_split(part, split)  # the whole model runs without a split
        # the unpruned device features, once per split: pruning the server part does not change them
        # (self.work holds the unpruned weights here; they are restored at the end of every call)
        sent = [self.work.run_device(x, at) for _, x in self.chunks] if part == "server" else []
        samples, summary = [], []
        for ratio, d in zip(ratios, sweep.distortion(ratios, bits=bits), strict=True):
            set_weights(self.work, sweep.pruned(ratio, bits=bits))
            if ratio == 0 and bits is None:
                vec = self.reference  # nothing pruned: the unpruned outputs, without a forward pass
            elif part == "server":
                vec = self._vectors(lambda k, _: self.work.run_server(sent[k], at))
            elif part == "device":
                vec = self._vectors(lambda _, x: self.work.run_server(self.work.run_device(x, at), at))
            else:
                vec = self._vectors(lambda _, x: self.work.forward(x))
            dist = output_distortion(self.reference, vec).numpy()
            param_l1 = float(d) * n
            start = 0
            for subset, size, labels, sources, clusters in zip(
                self.subsets, self.sizes, self.labels, self.sources, self.clusters, strict=True
            ):
                part_slice = slice(start, start + size)
                start += size
                ref, got = self.reference[part_slice], vec[part_slice]
                # the metric's output_vector is the identity on [batch, dim] vectors
                metric, value = task_metric(self.model_name, ref, got, labels)
                columns = {**_config_columns(self.model, part, split), "ratio": ratio, "subset": subset}
                samples.append(
                    pd.DataFrame(
                        {
                            **columns,
                            "sample": np.arange(size),
                            "source": sources,
                            "cluster": clusters,
                            "param_l1": param_l1,
                            "param_rel": param_l1 / total_abs,
                            "out_l1": dist[part_slice],
                            "ref_l1": self.reference_l1[part_slice],
                        }
                    )
                )
                summary.append(
                    {
                        **columns,
                        "n_weights": n,
                        "scale": b,
                        "param_l1": param_l1,
                        "param_per_weight": float(d),
                        "param_rel": param_l1 / total_abs,
                        "out_l1_mean": float(dist[part_slice].mean()),
                        "out_rel": float(dist[part_slice].sum() / self.reference_l1[part_slice].sum()),
                        "metric": metric,
                        "metric_value": value,
                    }
                )
            progress.update(1)
        set_weights(self.work, sweep.weights)
        return samples, summary


@torch.no_grad()
def output_sweep(
    model_name: str,
    model: SplitModel,
    configs: Iterable[PartConfig],
    ratios: Iterable[float],
    batches: Mapping[str, Batch],
    *,
    scope: str = "global",
    bits: int | None = None,
    progress: bool = True,
    device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Output distortion and task metric of magnitude pruning each part at each ratio (model.md section 3, claim C1).

    ``batches`` maps a subset name (``"calibration"``, ``"heldout"``) to a
    :class:`coinfer.models.Batch`; all subsets run as one batch. Pruning
    works on one private copy of the model whose weights are swapped per
    ratio (on ``device``); the caller's model is not touched. Returns ``(samples, summary)``:

    - ``samples``: one row per (part, ratio, subset, sample): ``param_l1``
      (entrywise ``||W - W^||_1`` of the part), ``param_rel`` (over
      ``||W||_1``), ``out_l1`` (``||f - f^||_1`` of the output vectors),
      ``ref_l1`` (``||f||_1``);
    - ``summary``: one row per (part, ratio, subset): ``n_weights``,
      ``scale`` (Laplace ``b``), ``param_l1``, ``param_per_weight``,
      ``param_rel``, ``out_l1_mean``, ``out_rel`` (``sum ||df|| / sum ||f||``),
      ``metric``, ``metric_value`` (:func:`coinfer.zoo.task_metric`).
    """
    _, samples, summary = pruning_experiment(
        model_name,
        model,
        configs,
        ratios=ratios,
        curve_ratios=(),
        bits=(),
        batches=batches,
        scope=scope,
        output_bits=bits,
        progress=progress,
        device=device,
    )
    return samples, summary


@torch.no_grad()
def pruning_experiment(
    model_name: str,
    model: SplitModel,
    configs: Iterable[PartConfig],
    *,
    ratios: Iterable[float],
    curve_ratios: Iterable[float],
    bits: Iterable[int],
    batches: Mapping[str, Batch],
    scope: str = "global",
    output_bits: int | None = None,
    float_bits: int = 32,
    progress: bool = True,
    device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`parameter_distortion_curves` and :func:`output_sweep` in one pass, sorting each part once.

    Returns ``(curves, samples, summary)`` (empty curves when ``curve_ratios`` is empty).
    The forward passes run on ``device`` (a private copy of ``model`` is moved
    there); sorting, masks and parameter distortions stay on the CPU, so every
    device prunes the same weights, and outputs come back as CPU float64: the
    tables agree across devices within :data:`coinfer.verify.DEVICE`.
    """
    from coinfer.progress import tqdm
    from coinfer.rate_distortion import laplace_scale

    ratios, curve_ratios, bits = list(ratios), list(curve_ratios), list(bits)
    configs = list(configs)
    runner = _OutputRunner(model_name, model, batches, check_device(device))
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


#: Subsets whose pairs test the first-order bound: the held-out inputs and, for the digits models, the
#: training-split digits outside the calibration pool (:data:`coinfer.zoo.HELDOUT_TRAINING`, model.md section 6).
HELDOUT_SUBSETS: tuple[str, ...] = ("heldout", "heldout_training")
#: How :func:`first_order_check` calibrates ``H`` (model.md section 3.3): one constant per pruning ratio (the
#: method), or the earlier single constant per part fitted over all ratios (kept as a documented reading only).
FIRST_ORDER_H_MODES: tuple[str, ...] = ("per_ratio", "max_over_ratios")
#: Columns of :func:`first_order_check` that :func:`first_order_table` repeats for the ``max_over_ratios`` reading.
_MAX_OVER_RATIOS_COLUMNS: tuple[str, ...] = ("H", "frac_holds", "ratio_max")


def _first_order_constant_or_nan(fit: pd.DataFrame) -> float:
    """``H`` of model.md section 3.3 on the calibration pairs ``fit``; NaN when no pair has ``||dW|| > 0``."""
    usable = fit[fit["param_l1"] > 0]
    if usable.empty:
        return float("nan")
    return fit_first_order_constant(usable["out_l1"], usable["param_l1"])


def _first_order_holds(out: np.ndarray, param: np.ndarray, h: float) -> np.ndarray:
    """Per pair: does ``out <= h param`` hold (model.md section 3.3)? With ``param == 0``: only if ``out == 0``."""
    positive = param > 0
    quotient = np.divide(out, param, out=np.full_like(out, np.nan), where=positive)
    return np.where(positive, quotient <= h, out <= 0.0)


def _first_order_row(at: pd.DataFrame, h: float) -> dict[str, Any]:
    """The held-out statistics at one ratio for the constant ``h`` (model.md section 3.3).

    A pair holds when ``out / param <= h``: the same quotient
    :func:`coinfer.bounds.fit_first_order_constant` maximises, so every
    calibration pair holds exactly against its own fit. A pair with
    ``param == 0`` (nothing pruned that changes a weight) holds only if its
    output is unchanged; its quotient is undefined and left out of the
    median and maximum. ``frac_holds_relative`` is the scale-free form,
    ``||df|| / ||f|| <= ||dW|| / ||W||``, which has no fitted constant.
    """
    out, param = at["out_l1"].to_numpy(dtype=float), at["param_l1"].to_numpy(dtype=float)
    positive = param > 0
    quotient = np.divide(out, param, out=np.full_like(out, np.nan), where=positive)
    holds = _first_order_holds(out, param, h)
    scaled = quotient[positive] / h
    relative = out / at["ref_l1"].to_numpy(dtype=float) <= at["param_rel"].to_numpy(dtype=float)
    return {
        "n_heldout": len(at),
        "H": h,
        "frac_holds": float(holds.mean()),
        "ratio_median": float(np.median(scaled)) if scaled.size else float("nan"),
        "ratio_max": float(np.max(scaled)) if scaled.size else float("nan"),
        "frac_holds_relative": float(relative.mean()),
    }


def first_order_check(
    samples: pd.DataFrame,
    *,
    fit_subset: str = "calibration",
    test_subset: str | Sequence[str] = HELDOUT_SUBSETS,
    H_mode: str = "per_ratio",
) -> pd.DataFrame:
    """First-order bound ``||df||_1 <= H(rho) ||dW||_1`` (model.md section 3.3): fit on one subset, test on another.

    ``samples`` has one row per (model, part, split, ratio, subset, sample)
    as returned by :func:`output_sweep`. One row per (model, part, split,
    ratio > 0) with at least one ``test_subset`` pair:

    - ``H``: with ``H_mode="per_ratio"`` (the method, model.md section 3.3)
      the smallest constant that holds on every ``fit_subset`` pair at that
      ratio with ``||dW|| > 0`` (:func:`coinfer.bounds.fit_first_order_constant`;
      NaN if there is none). With ``H_mode="max_over_ratios"`` one constant per
      (model, part, split) over the ``fit_subset`` pairs of all ratios: the
      earlier fit, kept only as a documented reading, because it is set by the
      smallest ratios and makes the test at large ratios nearly unfailable.
    - ``frac_holds``: share of the ``n_heldout`` ``test_subset`` pairs at that
      ratio with ``out <= H param`` (a pair above ``H`` fails);
      ``ratio_median``/``ratio_max`` of ``out / (H param)``;
    - ``frac_holds_relative``: share holding in the scale-free form,
      ``||df|| / ||f|| <= ||dW|| / ||W||`` (no fitted constant, independent
      of ``H_mode``);
    - ``H_mode`` and ``n_calibration`` (``fit_subset`` pairs at that ratio).

    ``test_subset`` may name several subsets (default: the test split and
    the unused training digits, :data:`HELDOUT_SUBSETS`); their pairs pool.
    """
    require_choice("H_mode", H_mode, FIRST_ORDER_H_MODES)
    tested = [test_subset] if isinstance(test_subset, str) else list(test_subset)
    rows = []
    keys = ["model", "part", "split", "split_name"]
    for key, group in samples.groupby(keys, sort=False, dropna=False):
        fit = group[group["subset"] == fit_subset]
        h_all = _first_order_constant_or_nan(fit) if H_mode == "max_over_ratios" else float("nan")
        test = group[group["subset"].isin(tested) & (group["ratio"] > 0)]
        for ratio, at in test.groupby("ratio", sort=True):
            fit_at = fit[fit["ratio"] == ratio]
            h = h_all if H_mode == "max_over_ratios" else _first_order_constant_or_nan(fit_at)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "ratio": float(ratio),
                    "H_mode": H_mode,
                    "n_calibration": len(fit_at),
                    **_first_order_row(at, h),
                }
            )
    return pd.DataFrame(rows)


def first_order_table(
    samples: pd.DataFrame, *, fit_subset: str = "calibration", test_subset: str | Sequence[str] = HELDOUT_SUBSETS
) -> pd.DataFrame:
    """:func:`first_order_check` per ratio, with the ``max_over_ratios`` reading beside it (model.md section 3.3).

    The per-ratio table (the method) gains the columns ``H_max_over_ratios``,
    ``frac_holds_max_over_ratios`` and ``ratio_max_max_over_ratios``: the same
    held-out pairs judged against one ``H`` per part fitted over all ratios,
    so a report can say what the earlier fit gave.
    """
    keys = ["model", "part", "split", "split_name", "ratio"]
    table = first_order_check(samples, fit_subset=fit_subset, test_subset=test_subset)
    old = first_order_check(samples, fit_subset=fit_subset, test_subset=test_subset, H_mode="max_over_ratios")
    old = old[keys + list(_MAX_OVER_RATIOS_COLUMNS)].rename(
        columns={c: f"{c}_max_over_ratios" for c in _MAX_OVER_RATIOS_COLUMNS}
    )
    return table.merge(old, on=keys, how="left", validate="one_to_one")


def first_order_pairs(
    samples: pd.DataFrame, *, fit_subset: str = "calibration", test_subset: str | Sequence[str] = HELDOUT_SUBSETS
) -> pd.DataFrame:
    """Every held-out (model, part, split, ratio > 0, input) pair with ``holds``: ``out <= H(rho) param``.

    ``H(rho)`` is fitted per ratio on the ``fit_subset`` pairs as in
    :func:`first_order_check` (model.md section 3.3), so the shares of
    ``holds`` per (part, ratio) equal its ``frac_holds``. Keeps each pair's
    ``subset``, ``sample``, ``source`` and ``cluster`` (the independent unit:
    the input, or its photo for crops).
    """
    tested = [test_subset] if isinstance(test_subset, str) else list(test_subset)
    keys = ["model", "part", "split", "split_name", "ratio"]
    fit = samples[samples["subset"] == fit_subset]
    h = fit.groupby(keys, sort=False, dropna=False).apply(_first_order_constant_or_nan, include_groups=False)
    test = samples[samples["subset"].isin(tested) & (samples["ratio"] > 0)]
    pairs = test[[*keys, "subset", "sample", "source", "cluster", "out_l1", "param_l1"]].merge(
        h.rename("H").reset_index(), on=keys, how="left", validate="many_to_one"
    )
    pairs["holds"] = _first_order_holds(
        pairs["out_l1"].to_numpy(dtype=float), pairs["param_l1"].to_numpy(dtype=float), pairs["H"].to_numpy()
    )
    return pairs.drop(columns=["out_l1", "param_l1"])


def first_order_by_source(pairs: pd.DataFrame, *, large_ratio: float) -> pd.DataFrame:
    """Per (model, part, split, subset, source): the share of held-out pairs where the first-order bound holds.

    The breakdown that shows the dependence of model.md section 3.3: one row
    per photo for EfficientNet, per digits split for the digits models.
    ``n_inputs`` and ``n_pairs``/``frac_holds`` count all ratios > 0;
    ``n_pairs_large``/``frac_holds_large`` the ratios ``>= large_ratio``
    (C1's large ratios, :class:`coinfer.claims.Thresholds`).
    """
    keys = ["model", "part", "split", "split_name", "subset", "source"]
    large = pairs.assign(
        large=pairs["ratio"] >= large_ratio, holds_large=pairs["holds"] & (pairs["ratio"] >= large_ratio)
    )
    table = (
        large.groupby(keys, sort=False, dropna=False)
        .agg(
            n_inputs=("sample", "nunique"),
            n_pairs=("holds", "size"),
            frac_holds=("holds", "mean"),
            n_pairs_large=("large", "sum"),
            n_holds_large=("holds_large", "sum"),
        )
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["frac_holds_large"] = table["n_holds_large"] / table["n_pairs_large"].where(table["n_pairs_large"] > 0)
    return table.drop(columns="n_holds_large")


def first_order_clusters(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per (model, ratio, cluster): held-out pairs and how many hold, summed over parts (model.md section 3.3).

    A cluster is the unit a resampling interval must draw as a whole (an
    input; a photo for crops): the input of :func:`coinfer.stats.cluster_bootstrap_share`.
    """
    keys = ["model", "ratio", "subset", "source", "cluster"]
    return (
        pairs.groupby(keys, sort=False)
        .agg(n_pairs=("holds", "size"), n_holds=("holds", "sum"))
        .reset_index()
        .astype({"n_pairs": int, "n_holds": int})
    )


def first_order_ratio_intervals(clusters: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Per (model, ratio): the share of held-out pairs (all parts) where the bound holds, with two 95 % intervals.

    ``ci_low``/``ci_high``: Clopper-Pearson over the pairs as if independent
    (the declared rule of C1); ``cluster_ci_low``/``cluster_ci_high``: the
    cluster bootstrap that resamples inputs, or photos for crops
    (:func:`coinfer.stats.cluster_bootstrap_share`, model.md section 3.3).
    """
    from coinfer.stats import clopper_pearson, cluster_bootstrap_share

    rows = []
    for (model, ratio), group in clusters.groupby(["model", "ratio"], sort=False):
        by_cluster = group.groupby("cluster", sort=True)[["n_holds", "n_pairs"]].sum()
        holds, trials = int(by_cluster["n_holds"].sum()), int(by_cluster["n_pairs"].sum())
        low, high = clopper_pearson(holds, trials)
        cluster_low, cluster_high = cluster_bootstrap_share(by_cluster["n_holds"], by_cluster["n_pairs"], seed=seed)
        rows.append(
            {
                "model": model,
                "ratio": float(ratio),
                "n_clusters": len(by_cluster),
                "n_pairs": trials,
                "frac_holds": holds / trials if trials else float("nan"),
                "ci_low": low,
                "ci_high": high,
                "cluster_ci_low": cluster_low,
                "cluster_ci_high": cluster_high,
            }
        )
    return pd.DataFrame(rows)


#: :func:`summarise_checks` key -> column of ``exact_bound_sweep`` (as in data/exact_bound_digits.csv).
_EXACT_SWEEP_COLUMNS = {
    "violations_operator": "violations_operator",
    "violations_entrywise": "violations_entrywise",
    "output_distortion_mean": "out_l1_mean",
    "bound_operator_mean": "bound_operator_mean",
    "bound_entrywise_mean": "bound_entrywise_mean",
    "tightness_operator_max": "tightness_operator_max",
    "tightness_entrywise_max": "tightness_entrywise_max",
}


def exact_bound_sweep(
    model: SplitModel,
    configs: Iterable[PartConfig],
    ratios: Iterable[float],
    x: torch.Tensor,
    *,
    scope: str = "global",
) -> pd.DataFrame:
    """The exact model.md section 3 bound on a Sequential-built model, per (part, ratio): violations and tightness.

    Uses :func:`check_pair` on ``as_sequential`` of the model
    and of each pruned copy. A violation is a bug, so callers assert zero.
    """
    from coinfer.models import as_sequential

    ratios = [check_ratio(r) for r in ratios]
    reference = as_sequential(model)
    rows = []
    for part, split in configs:
        weights = part_weights(model, part, split)
        sweep = MagnitudeSweep(weights, scope=scope)
        for ratio in ratios:
            pruned = with_weights(model, sweep.pruned(ratio))
            summary = summarise_checks(check_pair(reference, as_sequential(pruned), x))
            rows.append(
                {
                    **_config_columns(model, part, split),
                    "ratio": ratio,
                    "n_inputs": summary["n_checks"],
                    "param_l1": float(sweep.distortion([ratio])[0]) * sweep.num_weights,
                    **{column: summary[key] for key, column in _EXACT_SWEEP_COLUMNS.items()},
                }
            )
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
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "holds_from": float(start),
                "frac": float(ok.mean()),
                "ratio_min": float(values[0]),
                "ratio_max": float(values[-1]),
            }
        )
    return pd.DataFrame(rows)


def integer_split(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``split`` column as nullable integers: blank for the whole model, integers otherwise."""
    frame["split"] = frame["split"].astype("Int64")
    return frame
