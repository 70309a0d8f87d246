"""The back end of notebook 01 (claim C1 on random and trained networks, model.md section 3): random networks
and masks, and the per-sample checks of the exact bound (:func:`coinfer.model.bounds.check_pair`) over them
and over a magnitude-pruning sweep of the trained digits MLP.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from coinfer.base.threads import single_thread
from coinfer.base.validation import require_choice
from coinfer.model.bounds import (
    AFFINE,
    check_pair,
    parameter_distortion,
    summarise_checks,
)
from coinfer.model.pruning import MagnitudeSweep, prune_count
from coinfer.nets.split import prunable_of

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
    """A random ``depth``-layer MLP ``Linear, act, ..., Linear`` with i.i.d. N(0, (scale / sqrt(fan_in))^2) weights.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every weight.
    depth : int
        Linear layers [count].
    width : int
        Hidden units per layer [count].
    in_features, out_features : int
        Input and output sizes [count].
    weight_scale : float
        Scale of the weights relative to ``1 / sqrt(fan_in)`` [1].
    bias : bool
        Whether the layers have random biases (N(0, 0.25)).
    activation : str
        Between the layers: ``"relu"``, ``"relu6"`` or ``"tanh"``.

    Returns
    -------
    torch.nn.Sequential
        The network, float64, in eval mode.

    References
    ----------
    docs/model.md, section 3.1 (the networks the theorem covers).
    """
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

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every weight and statistic.
    channels : int
        Channels of the convolutions [count].
    size : int
        Height and width of the ``[batch, 2, size, size]`` input [pixel].
    weight_scale : float
        Scale of the weights relative to ``1 / sqrt(fan_in)`` [1].
    bias : bool
        Whether the layers have random biases (N(0, 0.25)).

    Returns
    -------
    torch.nn.Sequential
        The network.

    References
    ----------
    docs/model.md, section 3.2 (convolutions and BatchNorm).
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


def with_sequential_weights(model: nn.Module, weights: Mapping[str, torch.Tensor]) -> nn.Module:
    """A deep copy of ``model`` with the named weights replaced; ``model`` is unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    weights : mapping of str to torch.Tensor
        State-dict name -> new values [weight units].

    Returns
    -------
    torch.nn.Module
        The copy.
    """
    copied = copy.deepcopy(model)
    params = dict(copied.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    return copied


def random_mask_weights(
    weights: Mapping[str, torch.Tensor], ratio: float, rng: np.random.Generator
) -> dict[str, torch.Tensor]:
    """Copies of ``weights`` with exactly ``prune_count(n, ratio)`` uniformly random entries per layer zeroed.

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        Weight name -> values [weight units].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.
    rng : numpy.random.Generator
        Source of the masks.

    Returns
    -------
    dict of str to torch.Tensor
        Weight name -> pruned copy [weight units].
    """
    pruned = {}
    for name, w in weights.items():
        n = w.numel()
        drop = rng.permutation(n)[: prune_count(n, ratio)]
        flat = w.detach().flatten().clone()
        flat[torch.from_numpy(drop)] = 0.0
        pruned[name] = flat.reshape(w.shape)
    return pruned


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

    Network ``i`` draws its depth, width, weight scale, bias on/off and
    activation from the given choices with a generator seeded by ``(seed, i)``;
    every ratio is applied with a random mask and with a per-layer magnitude
    mask (:class:`coinfer.model.pruning.MagnitudeSweep`). ``n_cnns`` small
    Conv-BN networks (model.md section 3's conv/BatchNorm case) are appended.

    Parameters
    ----------
    seed : int
        Seed of the networks, masks and inputs [1].
    n_networks : int
        Random MLPs [count].
    depths, widths : sequence of int
        Choices of layers and hidden units [count].
    weight_scales : sequence of float
        Choices of weight scale relative to ``1 / sqrt(fan_in)`` [1].
    ratios : sequence of float
        Pruning ratios [1].
    n_inputs : int
        Random inputs per network [count].
    n_cnns : int
        Random Conv-BN networks appended [count].
    in_features : int
        Input size of the MLPs [count].
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (network, mask kind, ratio) summarising ``n_inputs`` checks (:func:`summarise_checks`:
        violations [count], worst and median tightness [1]).

    References
    ----------
    docs/model.md, sections 3.1 and 3.2.
    """
    from coinfer.base.progress import tqdm

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

    Parameters
    ----------
    model : torch.nn.Sequential
        The trained classifier.
    x : torch.Tensor
        Inputs [input units].
    y : torch.Tensor
        Their labels [class index].
    ratios : sequence of float
        Pruning ratios [1].
    scopes : sequence of str
        Pruning scopes, ``"layer"`` and/or ``"global"``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(per_sample, per_ratio)``: the per-sample rows of :func:`check_pair` (with ``scope``, ``ratio``) and
        one row per (scope, ratio) with the number of checks and violations [count], tightness summaries [1],
        the parameter distortion [weight units], the fraction of samples with output distortion <= parameter
        distortion (``H = 1``) [1] and the pruned model's accuracy on ``(x, y)`` [1].

    References
    ----------
    docs/model.md, section 3.1.
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
    from coinfer.base.progress import tqdm
    from coinfer.nets.metrics import accuracy

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
