"""Measured compute of pruned layers on this CPU: the ``sparse`` execution model (model.md section 2.3).

The system model's ``ideal`` reading assumes that pruning a fraction ``rho``
of a side's weights removes ``rho`` of its compute. This module measures what
real kernels do with a pruned layer, on real layer shapes and real
activations of the zoo (MiniLM-L6 linear layers at 128 tokens, EfficientNet-
Lite0 pointwise and depthwise convolutions, the digits CNN), at pruning ratios
from 0 to 0.99, with three execution variants:

``dense``
    the layer's own dense kernel (``F.linear`` / ``F.conv2d``) on
    magnitude-zeroed weights: zeros are multiplied like any other weight.
``csr``
    PyTorch sparse CSR kernels: the pruned weight as ``weight.to_sparse_csr()``
    (``[out, in * kh * kw / groups]``) times the activations in
    ``[features, positions]`` layout (``torch.addmm``/``torch.sparse.mm``).
    Linear layers take the activations already transposed (a sparse pipeline
    keeps that layout end to end; the transpose is not timed). Convolutions
    are an ``F.unfold`` (im2col, timed) then the CSR product; a 1x1 stride-1
    convolution needs no im2col (a free reshape). A depthwise convolution is
    the block-diagonal CSR matrix ``[C, C * kh * kw]`` times the im2col of
    all channels.
``structured``
    whole output rows / channels removed at the same parameter count: keep
    ``round((1 - rho) * out)`` rows with the largest l1 norm, a smaller dense
    layer (a depthwise layer keeps the matching input channels too; the
    sliced input is prepared outside the timing). Its output distortion is
    measured, since it is not the same function as magnitude pruning.

Every layer and every ``(variant, ratio)`` is timed in the same rounds, in a
seeded random order within each round (interleaved), on one torch thread,
after a warm-up; a sample is the mean of ``inner`` back-to-back calls, with
``inner`` chosen so that the dense unpruned call takes about ``target_s``.
Each sample of a point is preceded by a sample of the dense layer at ``rho =
0``: the speed-up is the median of these paired ratios (both calls ran under
the same background load, which on a shared CPU comes in bursts longer than
a round), with its 95 % order-statistic interval. Reported are also the
point's median time with its interval, the ideal speed-up ``1 / (1 - rho)``
and the efficiency ``speed-up / ideal``.

:func:`fit_sparse_model` fits, per model, ``T(rho) = A (1 - rho) / e + t0``
to the CSR timings summed over the model's timed layers, ``A`` being their
summed dense time at ``rho = 0`` (and the same per layer); the overhead is
reported as ``F0_per_flop = t0 / A``, a fraction of the dense FLOPs
(``F0 = t0 / t_per_flop_dense`` with ``t_per_flop_dense = A / F``).
:func:`sparse_constants` turns a fit into the Problem overrides of
``compute_model = "sparse"``.

The tables ``compute_timings.csv`` and ``compute_fits.csv`` in
``lib/coinfer/nets/measurements/`` are MEASUREMENTS of the machine named in their
``machine`` column, written by ``benchmarks/bench_compute.py`` and committed
as inputs, like the trained weights: ``./run_all.sh`` does not regenerate
them (timings are not reproducible bit for bit, and a rerun on other hardware
would silently change the ``sparse`` reading). Notebook 05 copies them into
``data/`` beside the profiles and draws them (:func:`load_measurements`).
"""

from __future__ import annotations

import gc
import math
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from coinfer.model.pruning import prune_count, prune_tensor

#: Pruning ratios of a full run (model.md section 2.3).
DEFAULT_RATIOS: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
#: Execution variants, in table order.
VARIANTS: tuple[str, ...] = ("dense", "csr", "structured")

#: The layers timed per model: qualified names as in :meth:`coinfer.nets.split.SplitModel.all_weights`
#: (without ``.weight``). MiniLM: Q (same shape as K, V and the attention output, 384x384), FFN
#: up (384 -> 1536) and down (1536 -> 384) of one layer. EfficientNet-Lite0: pointwise expansions
#: and projections at three resolutions and one depthwise 3x3. Digits CNN: all four layers.
LAYERS: dict[str, tuple[str, ...]] = {
    "minilm": (
        "layer01.layer.attention.self.query",
        "layer01.layer.intermediate.dense",
        "layer01.layer.output.dense",
    ),
    "efficientnet_lite0": (
        "block02._expand_conv",
        "block07._expand_conv",
        "block07._depthwise_conv",
        "block07._project_conv",
        "block16._project_conv",
    ),
    "digits_cnn": ("conv1.0", "conv2.0", "conv3.0", "fc1.1"),
}

#: Columns of :func:`time_layers` (one row per model, layer, variant and ratio).
TIMING_COLUMNS: tuple[str, ...] = (
    "model",
    "layer",
    "kind",
    "shape",
    "variant",
    "ratio",
    "params_kept",
    "flops_dense",
    "repeats",
    "inner",
    "median_s",
    "ci_low_s",
    "ci_high_s",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "ideal_speedup",
    "efficiency",
    "distortion_rel_l1",
    "machine",
)
#: Columns of :func:`fit_sparse_model` (one row per model).
FIT_COLUMNS: tuple[str, ...] = (
    "model",
    "layer",
    "e",
    "F0_per_flop",
    "crossover_ratio",
    "crossover_measured",
    "residual",
    "n_layers",
    "n_points",
    "machine",
)


# --------------------------------------------------------------------------- layers
@dataclass(frozen=True)
class LayerCase:
    """One prunable layer with real activations (model.md section 2.3).

    ``x`` is ONE inference's input (what is timed), ``x_batch`` several
    inputs (what output distortion is measured on); a convolution's inputs
    are already padded when the layer pads statically (``padding`` is then 0).
    """

    model: str
    layer: str
    kind: str  # "linear", "conv" or "depthwise"
    weight: torch.Tensor
    bias: torch.Tensor | None
    x: torch.Tensor
    x_batch: torch.Tensor
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    @property
    def shape(self) -> str:
        """The weight shape as ``"out x in"`` (times the kernel for convolutions)."""
        return "x".join(str(d) for d in self.weight.shape)

    @property
    def flops_dense(self) -> float:
        """Dense FLOPs of one inference (2 per multiply-add, model.md section 2.2)."""
        return 2.0 * self.weight.numel() * _positions(self, dense_forward(self, self.weight, self.x))


def _positions(case: LayerCase, out: torch.Tensor) -> int:
    """Positions at which each output row is computed (tokens or output pixels), per inference."""
    if case.kind == "linear":
        return out.numel() // out.shape[-1]
    return out.shape[-1] * out.shape[-2]


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def layer_case(model: str, layer: str, module: nn.Module, inputs: torch.Tensor) -> LayerCase:
    """A :class:`LayerCase` from a ``Linear``/``Conv2d`` module and its captured inputs (first = timed).

    A module with a ``static_padding`` (EfficientNet's same-padding convolutions) has it applied here.

    Parameters
    ----------
    model : str
        Name of the model.
    layer : str
        Name of the layer.
    module : torch.nn.Module
        The ``Linear`` or ``Conv2d`` module.
    inputs : torch.Tensor
        Its captured inputs [activation units].

    Returns
    -------
    LayerCase
        The case.
    """
    raw_weight: torch.Tensor = module.weight  # type: ignore[assignment]
    raw_bias: torch.Tensor | None = module.bias  # type: ignore[assignment]
    weight = raw_weight.detach().clone()
    bias = None if raw_bias is None else raw_bias.detach().clone()
    inputs = inputs.detach()
    if isinstance(module, nn.Linear):
        return LayerCase(model, layer, "linear", weight, bias, inputs[:1].contiguous(), inputs)
    if not isinstance(module, nn.Conv2d):
        raise TypeError(f"module: got {type(module).__name__}; allowed Linear or Conv2d")
    pad: Any = getattr(module, "static_padding", None)
    if pad is not None:
        inputs = pad(inputs)
    groups = int(module.groups)
    if groups not in (1, weight.shape[0]) or (groups > 1 and weight.shape[1] != 1):
        raise ValueError(f"groups: got {groups}; allowed 1 or depthwise (groups = channels)")
    return LayerCase(
        model,
        layer,
        "conv" if groups == 1 else "depthwise",
        weight,
        bias,
        inputs[:1].contiguous(),
        inputs,
        stride=_pair(module.stride),
        padding=_pair(module.padding),
        dilation=_pair(module.dilation),
        groups=groups,
    )


def _named_module(model: Any, name: str) -> nn.Module:
    """The module of a :class:`~coinfer.nets.split.SplitModel` named like its weights (``block07._expand_conv``)."""
    names = ["stem", *model.block_names, "head"]
    stage_name, _, rest = name.partition(".")
    stage = model.stages()[names.index(stage_name)]
    return stage.get_submodule(rest) if rest else stage


def model_cases(
    model_name: str, layers: Sequence[str] | None = None, n_inputs: int = 8, seed: int = 0
) -> list[LayerCase]:
    """The timed layers of a zoo model with their real calibration activations (model.md section 2.3).

    Parameters
    ----------
    model_name : str
        A zoo model.
    layers : sequence of str, optional
        Layers to time; default the model's timed layers.
    n_inputs : int
        Calibration inputs captured [count].
    seed : int
        Seed of the inputs [1].

    Returns
    -------
    list of LayerCase
        The cases.

    References
    ----------
    docs/model.md, section 2.3.
    """
    from coinfer.nets import zoo

    entry = zoo.REGISTRY[model_name]
    model = entry.loader(0)
    batch = entry.inputs("calibration", n_inputs, seed)
    wanted = tuple(layers) if layers is not None else LAYERS[model_name]
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for name in wanted:

        def hook(_module: nn.Module, args: tuple[Any, ...], _out: Any, name: str = name) -> None:
            captured[name] = args[0].detach().clone()

        handles.append(_named_module(model, name).register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.forward(batch.inputs)
    finally:
        for handle in handles:
            handle.remove()
    return [layer_case(model_name, name, _named_module(model, name), captured[name]) for name in wanted]


# --------------------------------------------------------------------------- pruning and kernels
def structured_rows(weight: torch.Tensor, ratio: float) -> torch.Tensor:
    """Sorted indices of the ``max(1, out - prune_count(out, ratio))`` output rows with the largest l1 norm.

    Removing whole rows at the same parameter count as unstructured pruning
    at ``ratio`` (up to rounding to whole rows, by the one rule of
    :func:`coinfer.model.pruning.prune_count`).

    Parameters
    ----------
    weight : torch.Tensor
        The weight [weight units].
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.

    Returns
    -------
    torch.Tensor
        Sorted row indices.
    """
    rows = weight.shape[0]
    keep = max(1, rows - prune_count(rows, ratio))
    norms = weight.detach().abs().reshape(rows, -1).sum(dim=1)
    order = torch.argsort(norms, descending=True, stable=True)
    return torch.sort(order[:keep]).values


def dense_forward(case: LayerCase, weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The layer's dense kernel with ``weight`` (``F.linear`` or ``F.conv2d``).

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    weight : torch.Tensor
        The weight [weight units].
    x : torch.Tensor
        The layer's input [activation units].

    Returns
    -------
    torch.Tensor
        The layer's output.
    """
    if case.kind == "linear":
        return F.linear(x, weight, case.bias)
    return F.conv2d(x, weight, case.bias, case.stride, case.padding, case.dilation, case.groups)


def _is_pointwise(case: LayerCase) -> bool:
    return case.kind == "conv" and case.weight.shape[2:] == (1, 1) and case.stride == (1, 1) and case.padding == (0, 0)


def csr_weight(case: LayerCase, weight: torch.Tensor) -> torch.Tensor:
    """The (pruned) ``weight`` as a CSR matrix: ``[out, in]``, ``[out, in*kh*kw]``, or block-diagonal for depthwise.

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    weight : torch.Tensor
        The (pruned) weight [weight units].

    Returns
    -------
    torch.Tensor
        The sparse CSR matrix.
    """
    if case.kind != "depthwise":
        with warnings.catch_warnings():  # torch announces its CSR support as beta on first use; we test it
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta state", UserWarning)
            return weight.reshape(weight.shape[0], -1).to_sparse_csr()
    channels, taps = weight.shape[0], weight[0].numel()
    flat = weight.reshape(channels, taps)
    rows, cols = torch.nonzero(flat, as_tuple=True)
    indices = torch.stack([rows, rows * taps + cols])
    coo = torch.sparse_coo_tensor(indices, flat[rows, cols], (channels, channels * taps), check_invariants=True)
    return coo.coalesce().to_sparse_csr()


def csr_input(case: LayerCase, x: torch.Tensor) -> torch.Tensor:
    """Activations in the layout the CSR product takes (prepared once, not timed).

    Linear: ``[in, tokens]`` (transposed, contiguous); convolutions: the input as is (im2col is timed).

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    x : torch.Tensor
        The layer's input [activation units].

    Returns
    -------
    torch.Tensor
        The prepared activations.
    """
    if case.kind == "linear":
        return x.reshape(-1, x.shape[-1]).t().contiguous()
    return x.contiguous()


def csr_forward(case: LayerCase, csr: torch.Tensor, xin: torch.Tensor) -> torch.Tensor:
    """The CSR product: ``[out, positions]`` for ONE inference (``xin`` from :func:`csr_input`).

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    csr : torch.Tensor
        The CSR weight (:func:`csr_weight`).
    xin : torch.Tensor
        The prepared input (:func:`csr_input`) [activation units].

    Returns
    -------
    torch.Tensor
        ``[out, positions]``.
    """
    if case.kind == "linear":
        cols = xin
    elif _is_pointwise(case):
        cols = xin.reshape(xin.shape[1], -1)
    else:
        cols = F.unfold(xin, case.weight.shape[2:], case.dilation, case.padding, case.stride)[0]
    if case.bias is None:
        return torch.sparse.mm(csr, cols)
    return torch.addmm(case.bias.unsqueeze(1), csr, cols)


def csr_as_layer_output(case: LayerCase, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A CSR result ``[out, positions]`` reshaped to the dense layer's output layout (for checks, not timed).

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    out : torch.Tensor
        The CSR result ``[out, positions]``.
    x : torch.Tensor
        The layer's input [activation units].

    Returns
    -------
    torch.Tensor
        The result in the dense layer's layout.
    """
    reference_shape = dense_forward(case, case.weight, x).shape
    if case.kind == "linear":
        return out.t().reshape(reference_shape)
    return out.reshape(reference_shape)


def structured_layer(case: LayerCase, ratio: float) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    """The smaller dense layer keeping :func:`structured_rows` and the kept row indices.

    The returned function takes the FULL layer input; for depthwise layers it
    takes the kept channels of it (slice before timing).

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.

    Returns
    -------
    tuple of (callable, torch.Tensor)
        The smaller layer and the kept row indices.
    """
    kept = structured_rows(case.weight, ratio)
    weight = case.weight[kept].contiguous()
    bias = None if case.bias is None else case.bias[kept].contiguous()
    if case.kind == "linear":
        return (lambda x: F.linear(x, weight, bias)), kept
    groups = len(kept) if case.kind == "depthwise" else 1
    return (lambda x: F.conv2d(x, weight, bias, case.stride, case.padding, case.dilation, groups)), kept


def structured_output(case: LayerCase, ratio: float, x: torch.Tensor) -> torch.Tensor:
    """The structured-pruned layer's output in the full layout: removed rows/channels are 0.

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.
    x : torch.Tensor
        The layer's input [activation units].

    Returns
    -------
    torch.Tensor
        The output in the full layout.
    """
    forward, kept = structured_layer(case, ratio)
    xin = x[:, kept] if case.kind == "depthwise" else x
    small = forward(xin)
    full = torch.zeros_like(dense_forward(case, case.weight, x))
    full.index_copy_(-1 if case.kind == "linear" else 1, kept, small)
    return full


def relative_l1(output: torch.Tensor, reference: torch.Tensor) -> float:
    """``sum |output - reference| / sum |reference|``.

    Parameters
    ----------
    output : torch.Tensor
        The output checked [output units].
    reference : torch.Tensor
        The reference [output units].

    Returns
    -------
    float
        The relative l1 error [1].
    """
    return float((output - reference).abs().sum() / reference.abs().sum().clamp_min(1e-30))


# --------------------------------------------------------------------------- statistics
def median_interval(samples: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Median and its distribution-free order-statistic interval at ``level`` (binomial, conservative).

    With fewer than 6 samples the interval is the sample range.

    Parameters
    ----------
    samples : sequence of float
        The samples [any unit].
    level : float
        Confidence level [1].

    Returns
    -------
    tuple of float
        Median, lower and upper end [the samples' unit].
    """
    x = np.sort(np.asarray(samples, dtype=float))
    n = len(x)
    if n == 0:
        raise ValueError("samples: got none; need at least one")
    median = float(np.median(x))
    # largest j with P(Binom(n, 1/2) < j) <= (1 - level) / 2: [x_(j), x_(n+1-j)] (1-based) covers the median
    j = int(stats.binom.ppf((1.0 - level) / 2.0, n, 0.5))
    while j > 0 and stats.binom.cdf(j - 1, n, 0.5) > (1.0 - level) / 2.0:
        j -= 1
    if j < 1:
        return median, float(x[0]), float(x[-1])
    return median, float(x[j - 1]), float(x[n - j])


def _machine_description() -> str:
    """CPU, torch version, threads and parallel backend: what the timings were measured on."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = torch.__config__.parallel_info()
    backend = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if "parallel backend" in ln), "?")
    mkl = "MKL" if torch.backends.mkl.is_available() else "no MKL"
    return (
        f"{platform.machine()} {cpu or 'unknown CPU'}; torch {torch.__version__}; "
        f"{torch.get_num_threads()} thread(s), {backend}, {mkl}"
    )


# --------------------------------------------------------------------------- measurement
@dataclass
class _Point:
    variant: str
    ratio: float
    call: Callable[[], Any]
    params_kept: int
    distortion: float
    samples: list[float]
    #: dense-at-0 time over this point's time, the dense call timed right before it (same load)
    paired: list[float]


def _points(case: LayerCase, ratios: Sequence[float]) -> list[_Point]:
    """Every ``(variant, ratio)`` of a layer as a timed closure with its kept parameters and distortion."""
    reference = dense_forward(case, case.weight, case.x_batch)
    points: list[_Point] = []
    x = case.x
    for ratio in ratios:
        pruned = prune_tensor(case.weight, ratio)  # the prune_count smallest magnitudes, as everywhere
        kept = int(torch.count_nonzero(pruned))
        distortion = relative_l1(dense_forward(case, pruned, case.x_batch), reference)

        def dense_call(pruned: torch.Tensor = pruned) -> Any:
            return dense_forward(case, pruned, x)

        csr, xin = csr_weight(case, pruned), csr_input(case, x)

        def csr_call(csr: torch.Tensor = csr, xin: torch.Tensor = xin) -> Any:
            return csr_forward(case, csr, xin)

        forward, rows = structured_layer(case, ratio)
        xs = x[:, rows].contiguous() if case.kind == "depthwise" else x

        def structured_call(forward: Callable[[torch.Tensor], torch.Tensor] = forward, xs: torch.Tensor = xs) -> Any:
            return forward(xs)

        s_kept = len(rows) * case.weight[0].numel()
        s_distortion = relative_l1(structured_output(case, ratio, case.x_batch), reference)
        points += [
            _Point("dense", float(ratio), dense_call, kept, distortion, [], []),
            _Point("csr", float(ratio), csr_call, kept, distortion, [], []),
            _Point("structured", float(ratio), structured_call, s_kept, s_distortion, [], []),
        ]
    return points


def _time_once(call: Callable[[], Any], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        call()
    return (time.perf_counter() - start) / inner


def time_layer(
    case: LayerCase,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    repeats: int = 30,
    target_s: float = 2e-3,
    seed: int = 0,
    machine: str | None = None,
) -> pd.DataFrame:
    """Time every variant at every ratio of one layer, interleaved (model.md section 2.3).

    Columns :data:`TIMING_COLUMNS`.

    Call inside :func:`coinfer.base.threads.single_thread` (as :func:`time_layers` does).

    Parameters
    ----------
    case : LayerCase
        The timed layer.
    ratios : sequence of float
        Pruning ratios [1].
    repeats : int
        Timed repeats per variant and ratio [count].
    target_s : float
        Least duration of one timed sample [s] (calls are repeated to reach it).
    seed : int
        Seed of the interleaving order [1].
    machine : str, optional
        Description of the machine; default the one running.

    Returns
    -------
    pandas.DataFrame
        The timings (times [s]).

    References
    ----------
    docs/model.md, section 2.3.
    """
    if 0.0 not in [float(r) for r in ratios]:
        raise ValueError("ratios: must include 0 (the dense reference)")
    if repeats < 1:
        raise ValueError(f"repeats: got {repeats}; allowed >= 1")
    rng = np.random.default_rng(seed)
    with torch.inference_mode():
        points = _points(case, ratios)
        for point in points:  # warm-up
            for _ in range(3):
                point.call()
        base = next(p for p in points if p.variant == "dense" and p.ratio == 0.0)
        single = min(_time_once(base.call, 1) for _ in range(5))
        inner = max(1, int(round(target_s / max(single, 1e-9))))
        enabled = gc.isenabled()
        gc.disable()
        try:
            for _ in range(repeats):
                for index in rng.permutation(len(points)):
                    reference = _time_once(base.call, inner)
                    sample = _time_once(points[index].call, inner)
                    points[index].samples.append(sample)
                    points[index].paired.append(reference / sample)
        finally:
            if enabled:
                gc.enable()
    flops = case.flops_dense
    machine = _machine_description() if machine is None else machine
    rows = []
    for point in points:
        median, low, high = median_interval(point.samples)
        speedup, s_low, s_high = median_interval(point.paired)
        ideal = 1.0 / (1.0 - point.ratio)
        rows.append(
            {
                "model": case.model,
                "layer": case.layer,
                "kind": case.kind,
                "shape": case.shape,
                "variant": point.variant,
                "ratio": point.ratio,
                "params_kept": point.params_kept,
                "flops_dense": flops,
                "repeats": repeats,
                "inner": inner,
                "median_s": median,
                "ci_low_s": low,
                "ci_high_s": high,
                "speedup": speedup,
                "speedup_ci_low": s_low,
                "speedup_ci_high": s_high,
                "ideal_speedup": ideal,
                "efficiency": speedup / ideal,
                "distortion_rel_l1": point.distortion,
                "machine": machine,
            }
        )
    return pd.DataFrame(rows, columns=list(TIMING_COLUMNS))


def time_layers(
    cases: Sequence[LayerCase],
    ratios: Sequence[float] = DEFAULT_RATIOS,
    repeats: int = 30,
    target_s: float = 2e-3,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """:func:`time_layer` for each layer on ONE torch thread; the tidy table of model.md section 2.3.

    Parameters
    ----------
    cases : sequence of LayerCase
        The timed layers.
    ratios : sequence of float
        Pruning ratios [1].
    repeats : int
        Timed repeats per variant and ratio [count].
    target_s : float
        Least duration of one timed sample [s] (calls are repeated to reach it).
    seed : int
        Seed of the interleaving order [1].
    progress : callable, optional
        Called with each layer's name.

    Returns
    -------
    pandas.DataFrame
        The timings (times [s]).

    References
    ----------
    docs/model.md, section 2.3.
    """
    from coinfer.base.threads import single_thread

    frames = []
    with single_thread():
        machine = _machine_description()
        for i, case in enumerate(cases):
            if progress is not None:
                progress(f"{case.model} {case.layer} ({case.shape})")
            frames.append(time_layer(case, ratios, repeats, target_s, seed + i, machine))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- fit
def _dense_reference(table: pd.DataFrame) -> pd.Series:
    """Per (model, layer): the dense median time at ``rho = 0`` (``a``)."""
    base = table[(table["variant"] == "dense") & (table["ratio"] == 0.0)]
    if base.duplicated(["model", "layer"]).any():
        raise ValueError("table: more than one dense rho = 0 row for a layer")
    return base.set_index(["model", "layer"])["median_s"]


def measured_crossovers(table: pd.DataFrame) -> pd.DataFrame:
    """Per layer: the smallest measured ratio from which CSR is faster (paired speed-up) than dense at every larger one.

    ``inf`` when CSR is not faster at the largest measured ratio. Columns model, layer, crossover_measured.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings (:func:`time_layers`; times [s]).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``layer``, ``crossover_measured`` [1].

    References
    ----------
    docs/model.md, section 2.3.
    """
    rows = []
    for (model, layer), group in table.groupby(["model", "layer"], sort=False):
        speedups = group.pivot_table(index="ratio", columns="variant", values="speedup").sort_index()
        faster = (speedups["csr"] > speedups["dense"]).to_numpy()
        ratios = speedups.index.to_numpy(dtype=float)
        crossover = math.inf
        for i in range(len(ratios) - 1, -1, -1):
            if not faster[i]:
                break
            crossover = float(ratios[i])
        rows.append({"model": model, "layer": layer, "crossover_measured": crossover})
    return pd.DataFrame(rows, columns=["model", "layer", "crossover_measured"])


#: The ``layer`` value of a fit over all of a model's timed layers.
ALL_LAYERS = "all"


def _fit_rows(group: pd.DataFrame, dense0: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(1 - rho, T / A)`` per ratio over the group's layers.

    ``A = sum a_l`` (dense medians at 0) and ``T = sum a_l / speedup_l`` (the
    paired speed-ups, robust to bursts of background load).
    """
    layers = group["layer"].unique()
    a = dense0.loc[list(zip(group["model"], group["layer"], strict=True))].to_numpy(dtype=float)
    times = pd.Series(a / group["speedup"].to_numpy(dtype=float), index=group.index)
    summed = times.groupby(group["ratio"]).sum()
    counts = group.groupby("ratio")["layer"].nunique()
    if (counts != len(layers)).any():
        raise ValueError("table: every layer of a fit needs a CSR time at every ratio")
    total_dense = float(sum(dense0.loc[(group["model"].iloc[0], layer)] for layer in layers))
    return 1.0 - summed.index.to_numpy(dtype=float), summed.to_numpy(dtype=float) / total_dense


def _fit_one(kept: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Non-negative least squares of relative errors: min sum ((s (1 - rho) + c - y) / y)^2 over s, c >= 0."""
    from scipy.optimize import nnls

    design = np.column_stack([kept, np.ones_like(kept)])
    (slope, intercept), _ = nnls(design / y[:, None], np.ones_like(y))
    e = 1.0 / slope if slope > 0 else math.inf
    if intercept >= 1.0:
        crossover = math.nan
    else:
        crossover = max(0.0, 1.0 - e * (1.0 - intercept)) if math.isfinite(e) else 0.0
    residual = float(np.sqrt(np.mean((design @ np.array([slope, intercept]) / y - 1.0) ** 2)))
    return {"e": float(e), "F0_per_flop": float(intercept), "crossover_ratio": float(crossover), "residual": residual}


def fit_sparse_model(table: pd.DataFrame) -> pd.DataFrame:
    """Fit ``T(rho) / A = (1 - rho) / e + F0_per_flop`` to the CSR rows (model.md section 2.3).

    One row per model with ``layer = "all"`` (:data:`ALL_LAYERS`), then one
    per timed layer. ``A`` is the dense median time at ``rho = 0`` and
    ``T(rho)`` the CSR median time, both summed over the fit's layers: the
    timed layers of a model are treated as one small network, each weighted
    by its time, which is what a side's total time adds up (a per-layer
    row is the same fit on one layer). ``e`` is the sparse efficiency and
    ``F0_per_flop = t0 / A`` the overhead in FLOP equivalents as a fraction
    of the dense FLOPs (``F0 = t0 / t_per_flop_dense`` with
    ``t_per_flop_dense = A / F``). Side-agnostic: device and server run the
    same kernels, only their FLOPs differ. ``crossover_ratio`` is where the
    fitted CSR time meets the dense time ``A`` (zeros computed, so dense
    time does not fall with ``rho``): ``1 - e (1 - F0_per_flop)``, clipped
    at 0, NaN when ``F0_per_flop >= 1`` (CSR never faster);
    ``crossover_measured`` is the median over the fit's layers of
    :func:`measured_crossovers`.

    The fit is least squares on RELATIVE errors with ``1 / e >= 0`` and
    ``F0_per_flop >= 0`` (non-negative least squares): CSR at low ratios is
    several times slower than dense, and absolute errors would let those
    points pull the line below zero at high ratios, where sparse execution
    is actually chosen. ``residual`` is the root-mean-square relative
    residual. Columns :data:`FIT_COLUMNS`.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings (:func:`time_layers`; times [s]).

    Returns
    -------
    pandas.DataFrame
        The fits (:data:`FIT_COLUMNS`): ``e`` [1], ``F0_per_flop`` [1], crossovers [1], ``residual`` [1].

    References
    ----------
    docs/model.md, section 2.3.
    """
    dense0 = _dense_reference(table)
    measured = measured_crossovers(table).set_index(["model", "layer"])["crossover_measured"]
    csr = table[table["variant"] == "csr"]
    rows = []
    for model, group in csr.groupby("model", sort=False):
        layers = list(group["layer"].unique())
        for layer in [ALL_LAYERS, *layers]:
            part = group if layer == ALL_LAYERS else group[group["layer"] == layer]
            names = layers if layer == ALL_LAYERS else [layer]
            crossings = np.array([measured.loc[(model, name)] for name in names], dtype=float)
            rows.append(
                {
                    "model": model,
                    "layer": layer,
                    **_fit_one(*_fit_rows(part, dense0)),
                    "crossover_measured": float(np.median(crossings)),
                    "n_layers": len(names),
                    "n_points": len(part),
                    "machine": part["machine"].iloc[0] if "machine" in part else "",
                }
            )
    return pd.DataFrame(rows, columns=list(FIT_COLUMNS))


#: Where the committed measurements live (package data).
MEASUREMENTS_DIR = Path(__file__).resolve().parent / "measurements"
#: Which fitted model's kernels stand in for each optimised model (the meta decoder runs transformer kernels).
FIT_FOR_MODEL = {
    "minilm": "minilm",
    "llama_7b": "minilm",
    "bert_large": "minilm",
    "gpt2_xl": "minilm",
    "efficientnet_lite0": "efficientnet_lite0",
    "digits_cnn": "digits_cnn",
}


def load_measurements() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The committed ``(compute_timings, compute_fits)`` tables.

    Returns
    -------
    tuple of pandas.DataFrame
        The timings (times [s]) and the fits.

    References
    ----------
    docs/model.md, section 2.3.
    """
    return (
        pd.read_csv(MEASUREMENTS_DIR / "compute_timings.csv"),
        pd.read_csv(MEASUREMENTS_DIR / "compute_fits.csv"),
    )


def sparse_constants(fits: pd.DataFrame, model: str, *, flops_device: float, flops_server: float) -> dict[str, Any]:
    """Problem overrides for the measured ``sparse`` execution model of ``model`` (model.md section 2.3).

    ``sparse_efficiency_*`` is the fitted ``e`` on both sides (side-agnostic
    fit), capped to the Problem's range ``(0, 1]``: a fitted ``e > 1`` (CSR
    faster per kept FLOP than the dense kernel) is charged as ``e = 1``, which
    overstates the sparse time (conservative). ``sparse_overhead_*`` is the
    overhead in FLOP per inference of that side: ``max(0, F0_per_flop) x``
    the side's prunable FLOPs (``flops_device`` / ``flops_server`` of the
    split's Problem), because the fitted overhead is a fraction of each
    layer's dense FLOPs and a side is a sum of such layers.

    Parameters
    ----------
    fits : pandas.DataFrame
        The fits (:func:`fit_sparse_model`).
    model : str
        Name of the model.
    flops_device, flops_server : float
        Prunable FLOPs of the split's sides [FLOP].

    Returns
    -------
    dict of str to Any
        ``sparse_efficiency_*`` [1] and ``sparse_overhead_*`` [FLOP].

    References
    ----------
    docs/model.md, section 2.3.
    """
    row = fits[(fits["model"] == model) & (fits["layer"] == ALL_LAYERS)]
    if len(row) != 1:
        raise ValueError(f"model: got {model!r}; the fits table has {len(row)} rows for it, need exactly 1")
    e = float(row["e"].iloc[0])
    overhead = max(0.0, float(row["F0_per_flop"].iloc[0]))  # >= 0 already when fitted here
    if not e > 0:
        raise ValueError(f"e: got {e} for {model!r}; a sparse execution model needs e > 0")
    e = min(e, 1.0)
    return {
        "compute_model": "sparse",
        "sparse_efficiency_device": e,
        "sparse_efficiency_server": e,
        "sparse_overhead_device": overhead * float(flops_device),
        "sparse_overhead_server": overhead * float(flops_server),
    }
