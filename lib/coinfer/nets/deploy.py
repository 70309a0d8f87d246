"""Deploying a co-inference design on the real weights (model.md section 9, "closing the loop").

A design is a decision ``(s, rho_d, rho_s)`` of section 5. :func:`deploy`
builds it from a loaded :class:`~coinfer.nets.split.SplitModel`: the device part at
split ``s`` (the stem and blocks ``1..s``; at ``s = L`` also the head) is
magnitude-pruned at ``rho_d``, the server part at ``rho_s``, the kept weights
are uniformly quantised to ``bits``, and the feature sent at the split is
rounded to ``feature_bits`` per element (model.md section 2). :func:`measure` then runs
held-out inputs and reports the output distortion and the task metric.

Which weights and which order
-----------------------------
Each side prunes exactly the prunable weights that :mod:`coinfer.nets.profiles`
counts for it (``N_d``, ``N_s``: :func:`coinfer.nets.split.part_weights`, i.e.
``SplitModel.device_weights`` / ``server_weights``). With the default
``scope="global"`` a side's ``prune_count(N_side, rho)`` smallest magnitudes
over all of its weights together are zeroed (one order over their
concatenation, ties by position), which is the scope of the pruning sweeps of
notebook 04 (:func:`coinfer.studies.pruning_distortion.pruning_experiment`). Quantisation is
:func:`coinfer.model.pruning.apply_masks`: per-layer range, pruned entries stay zero.

Sorting once
------------
:class:`coinfer.nets.split.PartSweeps` (the one cache of magnitude orders, which
notebook 04 uses too) sorts the whole model's prunable weights once and derives
each side's sweep from that order; the sweep of each ``(split, side)`` is
cached, so deploying many decisions re-sorts nothing.

The feature at the split
------------------------
Only the tensor that crosses the link is rounded (``coinfer.nets.split.feature_tensor``:
the tensor itself, or the first element of a transformer state); the rest of
a state (attention mask, token mask) is side information the server rebuilds
from the token mask and is not counted as sent bits (:mod:`coinfer.nets.profiles`),
so it is left exact. At ``s = 0`` the raw input is sent at its own bits
(``Batch.input_bits``: 8-bit pixels, 16-bit token ids), exactly, and at
``s = L`` nothing is sent, so neither is rounded. Integer tensors are never
rounded. See :func:`round_feature` for the quantisers.

Many designs at once
--------------------
:func:`measure_decisions` is the one deploy-and-measure loop of the studies
(notebooks 07 and 08): it builds each distinct decision on one model pruned in
place (its weights written back afterwards), runs the device part once per ``(split, bits, device
count)`` and hands the output vectors to the caller's scoring; the outputs
equal :func:`deploy` followed by ``forward`` exactly (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch

from coinfer.base.validation import ParameterError
from coinfer.model.pruning import apply_masks, check_ratio, prune_count, quantize_uniform
from coinfer.model.stats import mean_interval
from coinfer.nets.devices import check_device, move_model, placed, to_cpu64, to_device
from coinfer.nets.metrics import logits_vector
from coinfer.nets.split import (
    PartSweeps,
    SplitModel,
    check_split,
    copy_model,
    feature_tensor,
    part_weights,
    set_weights,
)
from coinfer.nets.zoo import REGISTRY

#: Bits per element the uplink can carry for the feature (model.md section 2; ``None`` = exact float).
FEATURE_BITS: tuple[int, ...] = (4, 8, 16, 32)
#: Range of the weight quantiser's bits (as notebook 04's ``bits``; ``None`` = float weights).
WEIGHT_BITS_RANGE: tuple[int, int] = (2, 32)

#: ``(reference_vectors, vectors, labels) -> (metric name, value)``, as ``coinfer.nets.zoo.ModelEntry.metric``.
Metric = Callable[[torch.Tensor, torch.Tensor, Any], tuple[str, float]]


# --------------------------------------------------------------------------- validation
def check_weight_bits(bits: int | None) -> int | None:
    """``bits`` if it is ``None`` (float weights) or an integer in :data:`WEIGHT_BITS_RANGE`.

    Parameters
    ----------
    bits : int or None
        Bits of each kept weight [bit].

    Returns
    -------
    int or None
        ``bits`` as a Python int, or ``None``.
    """
    if bits is None:
        return None
    low, high = WEIGHT_BITS_RANGE
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not low <= bits <= high:
        raise ParameterError(f"bits: got {bits!r}; allowed None or an integer in [{low}, {high}]")
    return int(bits)


def check_feature_bits(feature_bits: int | None) -> int | None:
    """``feature_bits`` if it is ``None`` (exact) or one of :data:`FEATURE_BITS`.

    Parameters
    ----------
    feature_bits : int or None
        Bits per element of the sent feature [bit].

    Returns
    -------
    int or None
        ``feature_bits`` as a Python int, or ``None``.
    """
    if feature_bits is None:
        return None
    if isinstance(feature_bits, bool) or feature_bits not in FEATURE_BITS:
        allowed = ", ".join(str(b) for b in FEATURE_BITS)
        raise ParameterError(f"feature_bits: got {feature_bits!r}; allowed None or one of {allowed}")
    return int(feature_bits)


# --------------------------------------------------------------------------- feature rounding
def round_tensor(values: torch.Tensor, bits: int | None) -> torch.Tensor:
    """``values`` as received after sending them at ``bits`` per element (a new tensor when rounded).

    ``None``: unchanged. ``16`` / ``32``: cast to ``float16`` / ``float32`` and
    back (a value beyond the float16 range becomes infinite, as it would on
    such a link). ``8`` / ``4``: the uniform quantiser with a zero level and a
    scale per sample (:func:`coinfer.model.pruning.quantize_uniform`). Integer and
    boolean tensors are returned unchanged (they are sent exactly).

    Parameters
    ----------
    values : torch.Tensor
        The sent tensor [feature units], batch first.
    bits : int or None
        Bits per element [bit]: one of :data:`FEATURE_BITS`, or ``None``.

    Returns
    -------
    torch.Tensor
        The received values [feature units], same shape and dtype.

    References
    ----------
    docs/model.md, section 2.4 (uplink).
    """
    bits = check_feature_bits(bits)
    if bits is None or not values.is_floating_point():
        return values
    if bits in (16, 32):
        wire = torch.float16 if bits == 16 else torch.float32
        return values.detach().to(wire).to(values.dtype)
    return quantize_uniform(values, bits, zero_level=True, per_sample=True)


def round_feature(value: Any, bits: int | None) -> Any:
    """The stage value ``value`` with its sent tensor (:func:`coinfer.nets.split.feature_tensor`) rounded to ``bits``.

    A plain tensor is rounded as a whole; for a tuple or list (a transformer
    state) only the first element crosses the link, the side information after
    it is returned as is. The container type is kept.

    Parameters
    ----------
    value : torch.Tensor or tuple or list
        The output of the device part at the split.
    bits : int or None
        Bits per element of the sent feature [bit]: 16 or 32 (float cast), 8 or 4 (uniform quantiser with a zero
        level and a scale per sample), ``None`` (exact).

    Returns
    -------
    torch.Tensor or tuple or list
        ``value`` as the server receives it (:func:`round_tensor`).

    References
    ----------
    docs/model.md, section 2.4 (uplink, feature bits).
    """
    if isinstance(value, (tuple, list)):
        if not value:
            return value
        return type(value)([round_tensor(feature_tensor(value), bits), *value[1:]])
    if isinstance(value, torch.Tensor):
        return round_tensor(value, bits)
    raise ParameterError(f"feature: got {type(value).__name__}; allowed a tensor or a tuple whose first item is one")


# --------------------------------------------------------------------------- deployed model
@dataclass(frozen=True)
class DeployedModel:
    """A design built on a private copy of the weights (returned by :func:`deploy`)."""

    #: The pruned (and quantised) copy; the loaded model is never changed.
    model: SplitModel
    #: Split index ``s`` in ``0..L``.
    split: int
    rho_device: float
    rho_server: float
    #: Bits of the kept weights (``None``: float).
    bits: int | None
    #: Bits per element of the sent feature (``None``: exact).
    feature_bits: int | None
    #: ``(device_pruned, device_total, server_pruned, server_total)``.
    counts: tuple[int, int, int, int]

    def sends_feature(self) -> bool:
        """Whether the feature at the split is rounded: ``0 < s < L`` (the raw input is sent exactly).

        Returns
        -------
        bool
            True for an interior split.
        """
        return 0 < self.split < self.model.num_blocks

    def run_device(self, inputs: Any) -> Any:
        """The device part on ``inputs``, then the rounding of what is sent: what the server receives.

        Parameters
        ----------
        inputs : Any
            A batch of the model's inputs (a tensor, or the tokenised dict of a text model).

        Returns
        -------
        Any
            The rounded value sent (the output at ``s = L``).
        """
        with torch.inference_mode():
            sent = self.model.run_device(inputs, self.split)
            return round_feature(sent, self.feature_bits) if self.sends_feature() else sent

    def forward(self, inputs: Any) -> Any:
        """Device part, feature rounding, server part: the deployed model's outputs.

        Parameters
        ----------
        inputs : Any
            A batch of the model's inputs (a tensor, or the tokenised dict of a text model).

        Returns
        -------
        Any
            The deployed model's output.
        """
        with torch.inference_mode():
            return self.model.run_server(self.run_device(inputs), self.split)

    __call__ = forward

    def pruned_counts(self) -> tuple[int, int, int, int]:
        """``(device_pruned, device_total, server_pruned, server_total)`` prunable weights per side.

        Returns
        -------
        tuple of int
            The four counts [count].
        """
        return self.counts


def deploy(
    model: SplitModel,
    split: int | str,
    rho_device: float,
    rho_server: float,
    *,
    bits: int | None = 16,
    feature_bits: int | None = 16,
    sweeps: PartSweeps | None = None,
) -> DeployedModel:
    """Build the design ``(split, rho_device, rho_server)`` on the real weights of ``model`` (model.md section 9).

    Parameters
    ----------
    model : SplitModel
        A loaded split model; it is copied (like :func:`coinfer.nets.split.with_weights`) and never changed.
    split : int or str
        Split point ``s``: an index ``0..L`` [1] or a name in ``model.split_names``.
    rho_device, rho_server : float
        Pruning ratios [1] in ``[0, 1)`` of the device part (stem and blocks ``1..s``) and the server part; each
        side prunes ``prune_count(N_side, rho)`` of its prunable weights, smallest magnitudes first over the
        whole side (``scope="global"``, or the scope of ``sweeps``).
    bits : int or None
        Bits of each kept weight [bit], an integer in ``[2, 32]`` (uniform, per-layer range, pruned weights
        stay zero); ``None`` keeps them float.
    feature_bits : int or None
        Bits per element of the feature sent at ``0 < s < L`` [bit]: ``16`` or ``32`` (float cast), ``8`` or
        ``4`` (:func:`coinfer.model.pruning.quantize_uniform` with a zero level), ``None`` (exact).
    sweeps : PartSweeps, optional
        Sort-once cache for deploying many decisions of ``model`` (:class:`coinfer.nets.split.PartSweeps`);
        built on the fly when ``None``. Must have been built for this ``model``.

    Returns
    -------
    DeployedModel
        ``forward(inputs)`` runs device part, feature rounding and server part;
        ``pruned_counts()`` gives the pruned and total weights per side [count].

    References
    ----------
    docs/model.md, section 9.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from coinfer.nets.split import SplitModel
    >>> from coinfer.nets.deploy import deploy
    >>> _ = torch.manual_seed(0)
    >>> blocks = [nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 3)]
    >>> model = SplitModel("toy", nn.Identity(), blocks, ["fc1", "fc2"], nn.Identity())
    >>> design = deploy(model, "fc1", 0.5, 0.25, bits=8, feature_bits=8)
    >>> design.pruned_counts()
    (16, 32, 6, 24)
    >>> design.forward(torch.ones(2, 4)).shape
    torch.Size([2, 3])
    >>> exact = deploy(model, 1, 0.0, 0.0, bits=None, feature_bits=None)
    >>> torch.equal(exact.forward(torch.ones(2, 4)), model.forward(torch.ones(2, 4)))
    True
    """
    s = check_split(model, split)
    rho_device = check_ratio(rho_device, "rho_device", high_open=True)
    rho_server = check_ratio(rho_server, "rho_server", high_open=True)
    bits = check_weight_bits(bits)
    feature_bits = check_feature_bits(feature_bits)
    if sweeps is None:
        sweeps = PartSweeps(model)
    elif not isinstance(sweeps, PartSweeps) or sweeps.model is not model:
        raise ParameterError(f"sweeps: not built for model {model.name!r}; allowed None or PartSweeps(model)")
    work = copy_model(model)
    counts: list[int] = []
    for side, rho in (("device", rho_device), ("server", rho_server)):
        sweep = sweeps.sweep(s, side)
        masks = sweep.masks(rho)
        counts += [sum(int((~keep).sum()) for keep in masks.values()), sweep.num_weights]
        set_weights(work, apply_masks(sweep.weights, masks, bits))
    device_pruned, device_total, server_pruned, server_total = counts
    return DeployedModel(
        work, s, rho_device, rho_server, bits, feature_bits, (device_pruned, device_total, server_pruned, server_total)
    )


# --------------------------------------------------------------------------- measurement
def relative_distortion(reference: torch.Tensor, outputs: torch.Tensor) -> np.ndarray:
    """Per-input ``||f - f^||_1 / ||f||_1`` over all non-batch dimensions (float64; ``0/0 = 0``).

    Parameters
    ----------
    reference, outputs : torch.Tensor
        Output vectors of the unmodified and the deployed model [output units], same shape, batch first.

    Returns
    -------
    numpy.ndarray
        The relative output distortion of each input [1].

    References
    ----------
    docs/model.md, section 9.
    """
    if reference.shape != outputs.shape or reference.dim() == 0:
        raise ParameterError(f"outputs: shape {tuple(outputs.shape)}; expected {tuple(reference.shape)} with a batch")
    ref = to_cpu64(reference).reshape(reference.shape[0], -1)
    diff = (ref - to_cpu64(outputs).reshape(ref.shape)).abs().sum(dim=1)
    norm = ref.abs().sum(dim=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff.numpy() == 0, 0.0, diff.numpy() / norm.numpy())
    return ratio


#: The zoo metrics :func:`per_input_metric` evaluates per input.
PER_INPUT_METRICS = ("test_accuracy", "top1_agreement", "cosine_similarity")


def per_input_metric(name: str, reference: torch.Tensor, vectors: torch.Tensor, labels: Any) -> np.ndarray:
    """The zoo metric ``name`` per held-out input; its mean is the metric (model.md section 9).

    Parameters
    ----------
    name : str
        ``test_accuracy`` (against ``labels``), ``top1_agreement`` (against ``reference``) or
        ``cosine_similarity``.
    reference, vectors : torch.Tensor
        Output vectors of the unmodified and the deployed model [output units].
    labels : torch.Tensor or None
        True labels [class index] (``test_accuracy`` only).

    Returns
    -------
    numpy.ndarray
        0/1 outcomes, or the cosine similarity of each input [1].
    """
    if name == "test_accuracy":
        return (vectors.argmax(dim=-1) == labels).double().numpy()
    if name == "top1_agreement":
        return (vectors.argmax(dim=-1) == reference.argmax(dim=-1)).double().numpy()
    if name == "cosine_similarity":
        return torch.nn.functional.cosine_similarity(reference, vectors, dim=-1).double().numpy()
    raise ValueError(f"name: {name!r}; allowed: test_accuracy, top1_agreement, cosine_similarity")


def interval_columns(column: str, values: np.ndarray, *, binary: bool) -> dict[str, float]:
    """``{column}_ci95_low``/``_high`` of a mean over inputs (model.md section 1.1: Clopper-Pearson or bootstrap).

    Parameters
    ----------
    column : str
        Name of the measured column.
    values : numpy.ndarray
        Per-input values [unit of the column] (0/1 outcomes when ``binary``).
    binary : bool
        Clopper-Pearson of the share of ones instead of the seeded bootstrap of the mean.

    Returns
    -------
    dict of str to float
        The two interval bounds [unit of the column]; NaN without values.

    References
    ----------
    docs/model.md, section 1.1.
    """
    low, high = mean_interval(values, binary=binary) if len(values) else (float("nan"), float("nan"))
    return {f"{column}_ci95_low": low, f"{column}_ci95_high": high}


def _vectors(outputs: Any, output_vector: Callable[[Any], torch.Tensor]) -> torch.Tensor:
    """CPU float64 output vectors of model ``outputs``: one batch's, or a list of chunks' concatenated."""
    if isinstance(outputs, list):
        return torch.cat([to_cpu64(output_vector(chunk)) for chunk in outputs])
    return to_cpu64(output_vector(outputs))


def score_vectors(
    reference: torch.Tensor, vectors: torch.Tensor, labels: torch.Tensor | None, metric: Metric
) -> dict[str, Any]:
    """Output distortion and task metric of output ``vectors`` against the unmodified model's (model.md section 9).

    Parameters
    ----------
    reference : torch.Tensor
        Output vectors of the unmodified model ``[inputs, dim]`` [output units], CPU float64.
    vectors : torch.Tensor
        Output vectors of the deployed model on the same inputs, same shape [output units].
    labels : torch.Tensor or None
        True labels of the inputs [class index], in the same order (needed by the digits accuracy).
    metric : callable
        ``(reference, vectors, labels) -> (name, value)``, as :attr:`coinfer.nets.zoo.ModelEntry.metric`.

    Returns
    -------
    dict
        ``distortion`` [1] (mean over inputs of ``||f - f^||_1 / ||f||_1``), ``distortion_per_input`` [1]
        (array), ``distortion_pooled`` [1] (``sum ||f - f^||_1 / sum ||f||_1``, the ``out_rel`` of
        notebook 04), ``metric`` (name), ``metric_value`` [1], ``metric_per_input`` [1]
        (:func:`per_input_metric`; ``None`` for a metric it does not know) and ``samples`` [count].
    """
    per_input = relative_distortion(reference, vectors)
    try:
        name, value = metric(reference, vectors, labels)
    except ValueError as error:  # e.g. the digits accuracy without labels
        raise ParameterError(str(error)) from None
    metric_per_input = per_input_metric(name, reference, vectors, labels) if name in PER_INPUT_METRICS else None
    diff_l1 = float((reference - vectors).abs().sum())
    ref_l1 = float(reference.abs().sum())
    return {
        "distortion": float(per_input.mean()),
        "distortion_per_input": per_input,
        "metric_per_input": metric_per_input,
        "distortion_pooled": 0.0 if diff_l1 == 0 else diff_l1 / ref_l1,
        "metric": name,
        "metric_value": float(value),
        "samples": int(per_input.shape[0]),
    }


def measure(
    deployed: DeployedModel,
    reference_outputs: Any,
    inputs: Any,
    labels: torch.Tensor | None = None,
    metric: Metric | None = None,
    output_vector: Callable[[Any], torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Output distortion and task metric of one deployed design on ``inputs`` (model.md section 9).

    Parameters
    ----------
    deployed : DeployedModel
        A design built by :func:`deploy`.
    reference_outputs : Any
        The unmodified model's outputs on ``inputs`` (``model.forward(inputs)``, or their output vectors); for
        chunked ``inputs`` a list of per-chunk outputs or one tensor in chunk order.
    inputs : Any
        One batch, or a list of chunks of one batch, each run as one forward pass.
    labels : torch.Tensor, optional
        True labels [class index] in the order of the outputs (needed by the digits accuracy).
    metric : callable, optional
        ``(reference, vectors, labels) -> (name, value)``; default the zoo entry's
        (:data:`coinfer.nets.zoo.REGISTRY`: accuracy for digits, cosine similarity for MiniLM, top-1
        agreement for EfficientNet). Required for a model outside the zoo.
    output_vector : callable, optional
        Model output -> ``[inputs, dim]`` vectors; default the zoo entry's, else
        :func:`coinfer.nets.metrics.logits_vector`.

    Returns
    -------
    dict
        The measurements of :func:`score_vectors` (distortions [1], metric [1], ``samples`` [count]).
    """
    entry = REGISTRY.get(deployed.model.name)
    if metric is None:
        if entry is None:
            raise ParameterError(f"metric: got None for model {deployed.model.name!r} outside the zoo; pass one")
        metric = entry.metric
    if output_vector is None:
        output_vector = entry.output_vector if entry is not None else logits_vector
    with torch.inference_mode():
        reference = _vectors(reference_outputs, output_vector)
        vectors = _vectors(
            [deployed.forward(x) for x in inputs] if isinstance(inputs, list) else deployed.forward(inputs),
            output_vector,
        )
        return score_vectors(reference, vectors, labels, metric)


# --------------------------------------------------------------------------- many designs: the one loop
#: A decision to deploy: ``(split index, weight bits or None, rho_device, rho_server)``.
Decision = tuple[int, int | None, float, float]
#: What a caller's scoring returns for one decision.
Score = TypeVar("Score")


class _Sides:
    """Prunes one side of a working model in place at a ratio: masks from sorted orders, values from the sweeps.

    The quantiser's range of a layer is its largest kept magnitude, which is
    its largest magnitude whenever anything in it is kept (global scope prunes
    the smallest first; see :meth:`coinfer.model.pruning.MagnitudeSweep.distortion`),
    so each kept weight's quantised value does not depend on the ratio. It is
    computed layer by layer when a side is written (no copy of a whole side is
    kept: for MPNet-base that copy was 0.3 GiB of notebook 08's peak memory, issue 23).
    The result equals :func:`coinfer.model.pruning.apply_masks` exactly.
    """

    def __init__(self, work: SplitModel, sweeps: PartSweeps) -> None:
        self.params = work.all_weights()
        self.sweeps = sweeps

    def prune(self, split: int, side: str, rho: float, bits: int | None) -> None:
        """Write ``side``'s weights at ``split``, pruned at ``rho`` and quantised to ``bits``, into the working copy."""
        sweep = self.sweeps.sweep(split, side)
        for name, keep in sweep.masks(rho).items():
            weight = sweep.weights[name]
            value = weight if bits is None else quantize_uniform(weight, bits)
            self.params[name].copy_(torch.where(keep, value, torch.zeros((), dtype=value.dtype)))

    def restore(self) -> None:
        """Write the sweeps' copy of every prunable weight (the model's own values) back into the working model."""
        for name, weight in self.sweeps.whole().weights.items():
            self.params[name].copy_(weight)

    def holds_the_weights_of(self, model: SplitModel) -> bool:
        """Whether the sweeps' copy of the prunable weights equals ``model``'s current ones."""
        whole = self.sweeps.whole().weights
        current = model.all_weights()
        return list(whole) == list(current) and all(
            torch.equal(weight, current[name].detach().cpu()) for name, weight in whole.items()
        )


def decision_counts(model: SplitModel, split: int, rho_device: float, rho_server: float) -> tuple[int, int]:
    """Pruned weights per side of the decision ``(split, rho_device, rho_server)`` (model.md section 9).

    Parameters
    ----------
    model : SplitModel
        The loaded split model.
    split : int
        Split index ``s`` in ``0..L`` [1].
    rho_device, rho_server : float
        Pruning ratios [1] in ``[0, 1]`` of the device and the server part.

    Returns
    -------
    tuple of int
        ``(prune_count(N_d, rho_device), prune_count(N_s, rho_server))`` [count]: decisions with equal
        counts (and split and bits) deploy the same weights.
    """
    s = check_split(model, split)
    n_device = sum(w.numel() for w in part_weights(model, "device", s).values())
    n_server = sum(w.numel() for w in part_weights(model, "server", s).values())
    return prune_count(n_device, rho_device), prune_count(n_server, rho_server)


def measure_decisions(
    model: SplitModel,
    decisions: Sequence[Decision],
    chunks: Sequence[Any],
    score: Callable[[torch.Tensor], Score],
    *,
    feature_bits: int | None = 16,
    output_vector: Callable[[Any], torch.Tensor] | None = None,
    sweeps: PartSweeps | None = None,
    device: str = "cpu",
) -> list[Score]:
    """Deploy each decision on the real weights, run the inputs and score the outputs: the studies' one loop.

    Each decision is built as :func:`deploy` builds it (magnitude pruning per side in global scope, the kept
    weights quantised, the sent feature rounded) and run on every chunk; ``score`` receives the concatenated
    output vectors. Decisions with the same split, weight bits and pruned counts per side
    (:func:`decision_counts`) are measured once; the device part runs once per ``(split, bits, device
    count)``. On the CPU ``model`` itself is pruned in place and its weights are written back from the sorted
    copy before returning (also on an error), so ``model`` is unchanged afterwards and the memory is the model, the
    sorted copy and its ranks whatever the number of decisions; elsewhere (or with sweeps sorted from other weights)
    one working copy is pruned instead.

    Parameters
    ----------
    model : SplitModel
        The loaded split model, placed on ``device`` (:func:`coinfer.nets.devices.placed`).
    decisions : sequence of (int, int or None, float, float)
        ``(split, bits, rho_device, rho_server)``: split index ``s`` in ``0..L`` [1], bits of the kept weights
        [bit] (an integer in ``[2, 32]``, ``None`` for float weights), pruning ratios [1] in ``[0, 1)``.
    chunks : sequence
        The inputs, in chunks each run as one forward pass (:func:`coinfer.nets.inputs.length_chunks`).
    score : callable
        ``vectors -> result``: scores the deployed model's output vectors ``[inputs, dim]`` (CPU float64,
        the chunks' outputs concatenated in chunk order), e.g. :func:`score_vectors` with a reference bound.
    feature_bits : int or None
        Bits per element of the feature sent at ``0 < s < L`` [bit], as in :func:`deploy`.
    output_vector : callable, optional
        Model output -> output vectors; default the zoo entry's, else
        :func:`coinfer.nets.metrics.logits_vector`.
    sweeps : PartSweeps, optional
        Sort-once magnitude orders of ``model`` in global scope (built when ``None``).
    device : str
        Where the forward passes run (``"cpu"`` or ``"cuda"``); masks and quantised values are computed on the
        CPU and copied in.

    Returns
    -------
    list
        ``score``'s result for each decision, in the order of ``decisions`` (equal decisions share one).

    References
    ----------
    docs/model.md, section 9 (closing the loop: deploying and measuring designs).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from coinfer.nets.split import SplitModel
    >>> from coinfer.nets.deploy import deploy, measure_decisions
    >>> _ = torch.manual_seed(0)
    >>> blocks = [nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 3)]
    >>> model = SplitModel("toy", nn.Identity(), blocks, ["fc1", "fc2"], nn.Identity())
    >>> chunks = [torch.ones(2, 4), torch.zeros(3, 4)]
    >>> found = measure_decisions(model, [(1, 8, 0.5, 0.25), (1, None, 0.0, 0.0)], chunks, lambda v: v)
    >>> [tuple(v.shape) for v in found]
    [(5, 3), (5, 3)]
    >>> design = deploy(model, 1, 0.5, 0.25, bits=8, feature_bits=16)
    >>> torch.equal(found[0], torch.cat([design.forward(c).double() for c in chunks]))
    True
    """
    feature_bits = check_feature_bits(feature_bits)
    device = check_device(device)
    if sweeps is None:
        sweeps = PartSweeps(model)
    elif not isinstance(sweeps, PartSweeps) or sweeps.model is not model or sweeps.scope != "global":
        raise ParameterError(f"sweeps: not global-scope sweeps of {model.name!r}; allowed None or PartSweeps(model)")
    if output_vector is None:
        entry = REGISTRY.get(model.name)
        output_vector = entry.output_vector if entry is not None else logits_vector
    keys: list[tuple[int, int | None, int, int]] = []
    ratios: dict[tuple[int, int | None, int, int], tuple[float, float]] = {}
    for split, bits, rho_device, rho_server in decisions:
        split = check_split(model, split)
        bits = check_weight_bits(bits)
        rho_device = check_ratio(rho_device, "rho_device", high_open=True)
        rho_server = check_ratio(rho_server, "rho_server", high_open=True)
        key = (split, bits, *decision_counts(model, split, rho_device, rho_server))
        keys.append(key)
        ratios.setdefault(key, (rho_device, rho_server))
    chunks = [to_device(chunk, device) for chunk in chunks]
    # On the CPU ``model`` itself is the working copy when the sweeps hold its prunable weights (then written back
    # below): a second copy of a large model was most of notebook 08's peak memory (issue 23). Elsewhere, or when the
    # sweeps are older than the weights, a copy is pruned as before.
    in_place = device == "cpu" and bool(ratios) and _Sides(model, sweeps).holds_the_weights_of(model)
    work = model if in_place else move_model(copy_model(model), device)
    sides = _Sides(work, sweeps)
    try:
        results = _measure_keys(work, model.num_blocks, sides, ratios, chunks, score, feature_bits, output_vector)
    finally:
        if in_place:
            with torch.inference_mode():
                sides.restore()
    return [results[key] for key in keys]


def _measure_keys(
    work: SplitModel,
    num_blocks: int,
    sides: _Sides,
    ratios: Mapping[tuple[int, int | None, int, int], tuple[float, float]],
    chunks: Sequence[Any],
    score: Callable[[torch.Tensor], Score],
    feature_bits: int | None,
    output_vector: Callable[[Any], torch.Tensor],
) -> dict[tuple[int, int | None, int, int], Score]:
    """:func:`measure_decisions`' loop over the distinct ``(split, bits, device count, server count)`` keys."""
    results: dict[tuple[int, int | None, int, int], Score] = {}
    device_key: tuple[int, int | None, int] | None = None
    features: list[Any] = []
    with torch.inference_mode():
        for key in sorted(ratios, key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2], k[3])):
            split, bits = key[0], key[1]
            rho_device, rho_server = ratios[key]
            if key[:3] != device_key:
                sides.prune(split, "device", rho_device, bits)
                features = [work.run_device(chunk, split) for chunk in chunks]
                if 0 < split < num_blocks:
                    features = [round_feature(feature, feature_bits) for feature in features]
                device_key = key[:3]
            sides.prune(split, "server", rho_server, bits)
            outputs = [work.run_server(feature, split) for feature in features]
            results[key] = score(torch.cat([to_cpu64(output_vector(out)) for out in outputs]))
    return results


def feature_quantisation_table(
    model: SplitModel,
    inputs: Any,
    bits: Sequence[int] = (16, 8, 4),
    output_vector: Callable | None = None,
    *,
    device: str = "cpu",
) -> pd.DataFrame:
    """Output distortion that rounding the sent feature alone adds, per intermediate split (model.md section 2.4).

    No weight is pruned: for each split ``0 < s < L`` and each width in
    ``bits`` the device's feature is rounded (:func:`round_feature`) and the
    server finishes the forward pass. Splits 0 (the raw input, sent exactly)
    and ``L`` (nothing sent) have no rows.

    Parameters
    ----------
    model : SplitModel
        The split model.
    inputs : Any
        One batch of inputs.
    bits : sequence of int
        Bits per feature element to try [bit] (each one of :data:`FEATURE_BITS`).
    output_vector : callable, optional
        Model output -> output vectors; default the zoo entry's, else :func:`coinfer.nets.metrics.logits_vector`.
    device : str
        Where the forward passes run (``"cpu"`` or ``"cuda"``); distortions are CPU float64.

    Returns
    -------
    pandas.DataFrame
        One row per (split, bits): ``distortion_mean`` and ``distortion_max`` of ``||f - f^||_1 / ||f||_1`` [1]
        over the inputs, and ``inputs`` [count].

    References
    ----------
    docs/model.md, section 2.4.
    """
    for width in bits:
        check_feature_bits(width)
    model, inputs = placed(model, check_device(device)), to_device(inputs, device)
    entry = REGISTRY.get(model.name)
    vector = output_vector or (entry.output_vector if entry is not None else logits_vector)
    rows = []
    with torch.inference_mode():
        reference = vector(model.forward(inputs))
        for split in range(1, model.num_blocks):
            feature = model.run_device(inputs, split)
            for width in bits:
                values = relative_distortion(reference, vector(model.run_server(round_feature(feature, width), split)))
                rows.append(
                    {
                        "model": model.name,
                        "split": split,
                        "split_name": model.split_names[split],
                        "bits_per_element": width,
                        "distortion_mean": float(values.mean()),
                        "distortion_max": float(values.max()),
                        "inputs": int(values.size),
                    }
                )
    return pd.DataFrame(rows)
