"""Per-split workload profiles of split models (model.md section 6, inputs of model.md sections 2 and 8).

For a :class:`~coinfer.nets.split.SplitModel` and one input sample, the profile of
split ``s`` holds what the system model of model.md section 2 needs:

- ``flops_device`` / ``flops_server``: prunable FLOPs per inference ``F_d, F_s``,
  counted by :class:`torch.utils.flop_counter.FlopCounterMode`: the products
  with weights (linear layers, convolutions), which weight pruning removes.
- ``flops_device_fixed`` / ``flops_server_fixed``: the FLOPs ``G_d, G_s`` that
  weight pruning cannot remove, the products of two activations (attention
  scores ``Q K^T`` and the weighted sum of values: ``bmm`` and the
  scaled-dot-product attention kernels); zero for MLPs and CNNs.
  Element-wise operations (activations, norms, softmax) are not counted.
- ``params_device`` / ``params_server``: prunable parameters ``N_d, N_s``
  (:meth:`SplitModel.device_weights` / :meth:`SplitModel.server_weights`).
- ``feature_bits``: bits ``S`` sent at the split, elements of the sent tensor
  times ``bits_per_element`` (default 16); the raw input bits at ``s = 0``
  (``Batch.input_bits``); 0 at ``s = L``.
- ``scale_device`` / ``scale_server``: Laplace scale ``b`` of each side's
  prunable weights around ONE centre, the median of all the model's prunable
  weights (model.md section 4), so that ``N_d b_d + N_s b_s = N b`` at every split: the
  unpruned model's distortion does not depend on where it is cut.

Every stage runs exactly once, so a whole profile costs one forward pass: the
per-split numbers are sums over the stages each side runs.

Meta-device models (large architectures built from their configs without
weights) have no weight values, so their Laplace scale is an assumption: by
default the scale of all prunable weights of the real transformer in the zoo
(MiniLM), see :func:`assumed_meta_scale`; such rows carry ``weights = "meta"``.
The assumed ``b`` only multiplies the distortion objective of model.md section 5 by a
constant when both sides share it, so it changes objective values but not the
optimal decisions or the best split.

A side with no prunable weights (the device at ``s = 0``, the server at
``s = L``) gets the other side's scale: its weight in the objective is
``N = 0`` so the value is irrelevant, but ``Problem`` requires ``b > 0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from coinfer.base.validation import ParameterError, require_range
from coinfer.model.rate_distortion import laplace_scale
from coinfer.nets.split import SplitModel, as_batch, feature_tensor, prunable_weights

#: Bits per element of a sent feature (model.md section 6 default: 16-bit floats).
BITS_PER_ELEMENT = 16
#: Relative output distortion a rounded split feature may add [1] (model.md 2.4): the compressed-features reading
#: of notebook 06 and the sampled feature widths of its sensitivity study (model.md 7.4) both keep to it.
FEATURE_DISTORTION_CAP = 0.01
#: Sequence length of the meta-device large models (model.md section 6 "a stated sequence length").
DEFAULT_META_SEQ_LEN = 128
#: Reference model whose weights give the assumed scale of meta models.
META_SCALE_REFERENCE = "minilm"

#: Column order of the profile table (the contract of ``data/profiles.csv``).
COLUMNS: tuple[str, ...] = (
    "model",
    "split",
    "split_name",
    "num_blocks",
    "flops_device",
    "flops_server",
    "flops_device_fixed",
    "flops_server_fixed",
    "params_device",
    "params_server",
    "feature_bits",
    "scale_device",
    "scale_server",
    "seq_len",
    "bits_per_element",
    "weights",
)


class BatchLike(Protocol):
    """What :func:`profile_model` needs of a :class:`coinfer.nets.split.Batch`."""

    inputs: Any
    size: int
    input_bits: int


@dataclass(frozen=True)
class StageProfile:
    """One stage run once: its prunable and fixed FLOPs and the number of elements of its output feature."""

    flops: int
    fixed_flops: int
    output_elements: int


@dataclass(frozen=True)
class SplitProfile:
    """Workload of one split point (model.md section 2: ``F_d, F_s, N_d, N_s, S``, and ``b_d, b_s``)."""

    split: int
    split_name: str
    flops_device: int
    flops_server: int
    flops_device_fixed: int
    flops_server_fixed: int
    params_device: int
    params_server: int
    feature_bits: int
    scale_device: float
    scale_server: float


def is_meta(model: SplitModel) -> bool:
    """True if the model's weights live on the meta device (shapes only, no values).

    Parameters
    ----------
    model : SplitModel
        The split model.

    Returns
    -------
    bool
        Whether its weights are on the meta device.
    """
    return any(p.is_meta for stage in model.stages() for p in stage.parameters())


def is_fixed_op(op: Any) -> bool:
    """True for counted ops that multiply two activations (weight pruning cannot remove them).

    ``bmm``/``baddbmm`` are the attention products of eager attention; the
    ``scaled_dot_product`` kernels hold both ``Q K^T`` and the weighted sum of
    values. Linear layers reach the counter as ``mm``/``addmm`` and
    convolutions as ``convolution``: those are the prunable FLOPs.

    Parameters
    ----------
    op : Any
        An operator counted by the FLOP counter.

    Returns
    -------
    bool
        Whether its FLOPs are activation-activation products.

    References
    ----------
    docs/model.md, section 2.7.
    """
    name = str(op)
    return name in ("aten.bmm", "aten.baddbmm") or "scaled_dot_product" in name


@torch.no_grad()
def stage_profiles(model: SplitModel, inputs: Any) -> list[StageProfile]:
    """Run every stage of ``model`` once on ``inputs`` and count its FLOPs and output size.

    Parameters
    ----------
    model : SplitModel
        The split model.
    inputs : Any
        One sample of the model's inputs.

    Returns
    -------
    list of StageProfile
        FLOPs [FLOP] and output elements [count] per stage.

    References
    ----------
    docs/model.md, section 6.
    """
    found = []
    value = inputs
    for stage in model.stages():
        with FlopCounterMode(display=False) as counter:
            value = stage(value)
        by_op = counter.get_flop_counts().get("Global", {})
        fixed = sum(count for op, count in by_op.items() if is_fixed_op(op))
        total = int(counter.get_total_flops())
        found.append(StageProfile(total - fixed, fixed, int(feature_tensor(value).numel())))
    return found


def _count(weights: Mapping[str, torch.Tensor]) -> int:
    return int(sum(w.numel() for w in weights.values()))


def _scale(weights: Mapping[str, torch.Tensor]) -> float | None:
    if not weights:
        return None
    return laplace_scale(torch.cat([w.detach().flatten() for w in weights.values()]))


class StageScales:
    """Laplace scales of unions of stages, from one sort of each stage's prunable weights.

    ``scale(stage_indices)`` equals :func:`coinfer.model.rate_distortion.laplace_scale`
    of the concatenated weights of those stages (``mean |w - median(w)|`` with
    ``torch.median``'s lower median; tested), but a profile needs it for the
    ``2 L`` sides of all splits, and a median over millions of weights per side
    would dominate the cost of a profile. Here each stage is sorted once; a
    side's median is found by bisection on the value with ``searchsorted``
    counts, and ``sum |w - m|`` from prefix sums.
    """

    def __init__(self, model: SplitModel) -> None:
        names = ["stem", *model.block_names, "head"]
        self.values: list[np.ndarray] = []
        for name, stage in zip(names, model.stages(), strict=True):
            weights = prunable_weights(stage, prefix=name)
            flat = [w.detach().double().flatten().numpy() for w in weights.values()]
            self.values.append(np.sort(np.concatenate(flat)) if flat else np.empty(0))
        self.prefix = [np.concatenate([[0.0], np.cumsum(v)]) for v in self.values]

    def _count_le(self, arrays: list[np.ndarray], x: float) -> int:
        return sum(int(np.searchsorted(a, x, side="right")) for a in arrays)

    def median(self, stage_indices: Sequence[int]) -> float | None:
        """Lower median of the union (``torch.median`` convention), ``None`` if empty.

        Parameters
        ----------
        stage_indices : sequence of int
            Stage indices [1].

        Returns
        -------
        float or None
            The median [weight units].
        """
        arrays = [self.values[i] for i in stage_indices if self.values[i].size]
        n = sum(a.size for a in arrays)
        if n == 0:
            return None
        rank = (n - 1) // 2 + 1  # the median is the smallest x with rank elements <= x
        low = min(float(a[0]) for a in arrays)
        if self._count_le(arrays, low) >= rank:
            return low
        high = max(float(a[-1]) for a in arrays)
        while True:  # invariant: count(<= low) < rank <= count(<= high)
            middle = low + (high - low) / 2
            if middle <= low or middle >= high:
                break
            if self._count_le(arrays, middle) >= rank:
                high = middle
            else:
                low = middle
        # high and low are adjacent doubles, so the median is the first element above low.
        return min(float(a[i]) for a in arrays if (i := int(np.searchsorted(a, low, side="right"))) < a.size)

    def scale(self, stage_indices: Sequence[int], centre: float | None = None) -> float | None:
        """``mean |w - centre|`` over the union of the stages' weights, ``None`` if empty.

        ``centre`` defaults to the union's own median (the Laplace MLE).

        Parameters
        ----------
        stage_indices : sequence of int
            Stage indices [1].
        centre : float, optional
            The centre [weight units].

        Returns
        -------
        float or None
            The Laplace scale [weight units].
        """
        m = self.median(stage_indices) if centre is None else centre
        if m is None or not any(self.values[i].size for i in stage_indices):
            return None
        total, n = 0.0, 0
        for i in stage_indices:
            v, c = self.values[i], self.prefix[i]
            below = int(np.searchsorted(v, m, side="left"))
            total += (m * below - c[below]) + (c[-1] - c[below] - m * (v.size - below))
            n += v.size
        return total / n


def _side_scales(
    model: SplitModel, split: int, assumed_scale: float | None, scales: StageScales | None
) -> tuple[float, float]:
    """``(b_d, b_s)``; an empty side borrows the other side's scale (its weight is 0)."""
    if scales is None:
        if assumed_scale is None:
            raise ParameterError(f"assumed_scale: got None for meta model {model.name!r}; expected a number > 0")
        return assumed_scale, assumed_scale
    on_device = len(model.device_stages(split))
    stages = range(model.num_blocks + 2)
    centre = scales.median(stages)  # one centre for both sides: N_d b_d + N_s b_s = N b at every split
    device, server = scales.scale(stages[:on_device], centre), scales.scale(stages[on_device:], centre)
    if device is None:
        if server is None:
            raise ParameterError(f"model {model.name!r} has no prunable weights")
        return server, server
    return device, (server if server is not None else device)


def _as_batch_like(batch: BatchLike | torch.Tensor | Mapping[str, Any]) -> BatchLike:
    """A Batch (or anything shaped like one) as it is; a plain tensor or a tokenised batch through ``as_batch``."""
    if isinstance(batch, (torch.Tensor, Mapping)):
        return as_batch(batch)
    return batch


def profile_model(
    model: SplitModel,
    batch: BatchLike | torch.Tensor | Mapping[str, Any],
    *,
    bits_per_element: int = BITS_PER_ELEMENT,
    assumed_scale: float | None = None,
) -> list[SplitProfile]:
    """Profiles of every split ``0..L`` of ``model`` on one sample (model.md section 6).

    ``batch`` must hold exactly one sample: a :class:`coinfer.nets.split.Batch`, a plain tensor or a
    tokenised batch (:func:`coinfer.nets.split.as_batch`). ``assumed_scale`` is the Laplace scale used
    for meta-device models (ignored for real weights).

    Parameters
    ----------
    model : SplitModel
        The split model.
    batch : Batch or torch.Tensor or mapping
        Exactly one sample (:func:`coinfer.nets.split.as_batch`).
    bits_per_element : int
        Bits per element of an intermediate feature [bit].
    assumed_scale : float, optional
        Laplace scale for meta-device models [weight units].

    Returns
    -------
    list of SplitProfile
        One profile per split.

    References
    ----------
    docs/model.md, section 6.
    """
    batch = _as_batch_like(batch)
    if batch.size != 1:
        raise ParameterError(f"batch.size: got {batch.size}; allowed 1 (profiles are per inference)")
    require_range("bits_per_element", bits_per_element, 1, 64, integer=True)
    if assumed_scale is not None:
        require_range("assumed_scale", assumed_scale, 0, low_open=True)
    stages = stage_profiles(model, batch.inputs)
    index = {id(stage): i for i, stage in enumerate(model.stages())}
    total = sum(p.flops for p in stages)
    total_fixed = sum(p.fixed_flops for p in stages)
    scales = None if is_meta(model) else StageScales(model)
    result = []
    for split, name in enumerate(model.split_names):
        on_device = [index[id(stage)] for stage in model.device_stages(split)]
        flops_device = sum(stages[i].flops for i in on_device)
        fixed_device = sum(stages[i].fixed_flops for i in on_device)
        if split == 0:
            bits = int(batch.input_bits)
        elif split == model.num_blocks:
            bits = 0
        else:
            bits = stages[on_device[-1]].output_elements * bits_per_element
        scale_device, scale_server = _side_scales(model, split, assumed_scale, scales)
        result.append(
            SplitProfile(
                split=split,
                split_name=name,
                flops_device=flops_device,
                flops_server=total - flops_device,
                flops_device_fixed=fixed_device,
                flops_server_fixed=total_fixed - fixed_device,
                params_device=_count(model.device_weights(split)),
                params_server=_count(model.server_weights(split)),
                feature_bits=bits,
                scale_device=scale_device,
                scale_server=scale_server,
            )
        )
    return result


def profile_split(
    model: SplitModel,
    batch: BatchLike | torch.Tensor | Mapping[str, Any],
    split: int | str,
    *,
    bits_per_element: int = BITS_PER_ELEMENT,
    assumed_scale: float | None = None,
) -> SplitProfile:
    """Profile of one split (a whole forward pass is needed anyway for the server FLOPs).

    Parameters
    ----------
    model : SplitModel
        The split model.
    batch : Batch or torch.Tensor or mapping
        Exactly one sample (:func:`coinfer.nets.split.as_batch`).
    split : int or str
        Split index [1] or name.
    bits_per_element : int
        Bits per element of an intermediate feature [bit].
    assumed_scale : float, optional
        Laplace scale for meta-device models [weight units].

    Returns
    -------
    SplitProfile
        The profile.

    References
    ----------
    docs/model.md, section 6.
    """
    s = model.split_index(split)
    return profile_model(model, batch, bits_per_element=bits_per_element, assumed_scale=assumed_scale)[s]


def profile_frame(
    model: SplitModel,
    batch: BatchLike | torch.Tensor | Mapping[str, Any],
    *,
    seq_len: int | None = None,
    bits_per_element: int = BITS_PER_ELEMENT,
    assumed_scale: float | None = None,
) -> pd.DataFrame:
    """:func:`profile_model` as tidy rows with the columns of :data:`COLUMNS`.

    Parameters
    ----------
    model : SplitModel
        The split model to profile.
    batch : Batch, torch.Tensor or mapping
        Exactly one input sample: a :class:`coinfer.nets.split.Batch`, a plain tensor with a batch dimension
        of 1, or a tokenised batch (:func:`coinfer.nets.split.as_batch` counts its raw bits).
    seq_len : int, optional
        Sequence length of a text input [token], recorded in the ``seq_len`` column.
    bits_per_element : int
        Bits per element of an intermediate feature sent at ``0 < s < L`` [bit].
    assumed_scale : float, optional
        Laplace scale of the weights assumed for a meta-device model [weight units]; ignored for real weights.

    Returns
    -------
    pandas.DataFrame
        One row per split ``0..L``: FLOPs per side [FLOP], feature bits [bit], prunable weights per side [count],
        Laplace scales per side [weight units], and the model's metadata.

    References
    ----------
    docs/model.md, section 6 (models, data and profiles).
    """
    rows = [
        asdict(p) for p in profile_model(model, batch, bits_per_element=bits_per_element, assumed_scale=assumed_scale)
    ]
    frame = pd.DataFrame(rows)
    frame.insert(0, "model", model.name)
    frame["num_blocks"] = model.num_blocks
    frame["seq_len"] = pd.array([seq_len] * len(frame), dtype="Int64")
    frame["bits_per_element"] = bits_per_element
    frame["weights"] = "meta" if is_meta(model) else model.info.get("weights", "user")
    return frame[list(COLUMNS)]


def assumed_meta_scale(reference: SplitModel) -> float:
    """Laplace scale assumed for meta-device models: ``b`` of all prunable weights of ``reference``.

    Parameters
    ----------
    reference : SplitModel
        A model with real weights.

    Returns
    -------
    float
        Its Laplace scale ``b`` [weight units].

    References
    ----------
    docs/model.md, section 6.
    """
    if is_meta(reference):
        raise ParameterError(f"reference: got meta model {reference.name!r}; expected a model with weights")
    scale = _scale(reference.all_weights())
    if scale is None:
        raise ParameterError(f"reference: model {reference.name!r} has no prunable weights")
    return scale


def build_profiles(
    models: Sequence[str] = ("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0"),
    meta_models: Sequence[str] = ("bert_large", "gpt2_xl", "llama_7b"),
    *,
    meta_seq_len: int = DEFAULT_META_SEQ_LEN,
    bits_per_element: int = BITS_PER_ELEMENT,
    seed: int = 0,
    assumed_scale: float | None = None,
) -> pd.DataFrame:
    """The tidy profile table of ``data/profiles.csv``: one row per (model, split).

    Real models are profiled on one calibration sample
    (:func:`coinfer.nets.zoo.model_inputs`; text models at their fixed padded
    length ``info["seq_len"]``); meta models on
    :func:`coinfer.nets.meta.meta_inputs` at ``meta_seq_len`` tokens. The meta
    models' scale is ``assumed_scale`` or, if ``None``, :func:`assumed_meta_scale`
    of :data:`META_SCALE_REFERENCE`.

    Parameters
    ----------
    models : sequence of str
        Zoo models with real weights.
    meta_models : sequence of str
        Meta-device zoo models.
    meta_seq_len : int
        Tokens of the meta models' input [count].
    bits_per_element : int
        Bits per element of an intermediate feature [bit].
    seed : int
        Seed of the calibration sample [1].
    assumed_scale : float, optional
        Laplace scale for meta-device models [weight units].

    Returns
    -------
    pandas.DataFrame
        One row per (model, split): FLOPs [FLOP], parameters [count], scales [weight units], feature bits [bit].

    References
    ----------
    docs/model.md, section 6.
    """
    from coinfer.nets import zoo
    from coinfer.nets.meta import build_meta_model, meta_inputs

    require_range("meta_seq_len", meta_seq_len, 1, 8192, integer=True)
    frames = []
    for name in models:
        model = zoo.load_model(name, seed=seed)
        batch = zoo.model_inputs(name, "calibration", 1, seed=seed)
        frames.append(profile_frame(model, batch, seq_len=model.info.get("seq_len"), bits_per_element=bits_per_element))
    if meta_models:
        if assumed_scale is None:
            assumed_scale = assumed_meta_scale(zoo.load_model(META_SCALE_REFERENCE, seed=seed))
        for name in meta_models:
            model = build_meta_model(name, meta_seq_len)
            batch = meta_inputs(name, meta_seq_len, 1)
            frames.append(
                profile_frame(
                    model, batch, seq_len=meta_seq_len, bits_per_element=bits_per_element, assumed_scale=assumed_scale
                )
            )
    return pd.concat(frames, ignore_index=True)


def full_resource_costs(profile: pd.DataFrame, **make_problem_kwargs: Any) -> pd.DataFrame:
    """Unpruned cost of every split at full resources: ``f = f_max``, ``p = P_max``, ``rho = 0`` (model.md section 2).

    What each split trades before any optimisation.

    Parameters
    ----------
    profile : pandas.DataFrame
        Rows of one or more models of the profile table (``profiles.csv``, notebook 05).
    **make_problem_kwargs
        Fields of :func:`coinfer.model.system.make_problem` overriding the model.md section 7 defaults
        (e.g. ``distance`` [m], ``bandwidth`` [Hz]); the budgets do not enter the costs.

    Returns
    -------
    pandas.DataFrame
        One row per (model, split): ``t_device``, ``t_tx``, ``t_server``, ``latency`` [s] and
        ``energy_device``, ``energy_tx``, ``energy_server``, ``energy`` [J].

    References
    ----------
    docs/model.md, sections 2.3 (computation), 2.4 (uplink) and 7 (defaults).
    """
    from coinfer.model.system import evaluate, full_resources, problems_for_splits

    kwargs = {"latency_budget": 1.0, "energy_budget": 1.0, **make_problem_kwargs}  # budgets do not enter the costs
    rows = []
    for model, rows_of_model in profile.groupby("model", sort=False):
        rows_of_model = rows_of_model.sort_values("split")
        problems = problems_for_splits(rows_of_model, **kwargs)
        for (_, row), problem in zip(rows_of_model.iterrows(), problems, strict=True):
            ev = evaluate(problem, full_resources(problem))
            rows.append(
                {
                    "model": model,
                    "split": int(row["split"]),
                    "split_name": row["split_name"],
                    "t_device": ev.t_device,
                    "t_tx": ev.t_tx,
                    "t_server": ev.t_server,
                    "latency": ev.latency,
                    "energy_device": ev.energy_device,
                    "energy_tx": ev.energy_tx,
                    "energy_server": ev.energy_server,
                    "energy": ev.energy,
                }
            )
    return pd.DataFrame(rows)


def with_feature_bits(profile: pd.DataFrame, bits_per_element: int) -> pd.DataFrame:
    """``profile`` with the intermediate features sent at ``bits_per_element`` bits (model.md section 2.4).

    Only the splits ``0 < s < L`` change: split 0 sends the raw input at its
    own bits and split ``L`` sends nothing. The column ``bits_per_element``
    records the new width.

    Parameters
    ----------
    profile : pandas.DataFrame
        The profile table.
    bits_per_element : int
        Bits per element of an intermediate feature [bit].

    Returns
    -------
    pandas.DataFrame
        The profile with ``feature_bits`` [bit] changed.

    References
    ----------
    docs/model.md, section 2.4.
    """
    require_range("bits_per_element", bits_per_element, 1, 64, integer=True)
    out = profile.copy()
    middle = (out["split"] > 0) & (out["split"] < out["num_blocks"])
    out.loc[middle, "feature_bits"] = (
        out.loc[middle, "feature_bits"] * bits_per_element / out.loc[middle, "bits_per_element"]
    ).round()
    out["bits_per_element"] = bits_per_element
    return out


def with_compressed_features(profile: pd.DataFrame, quantisation: pd.DataFrame, max_distortion: float) -> pd.DataFrame:
    """``profile`` with each intermediate feature sent at the fewest bits within a distortion limit.

    ``profile`` with each intermediate feature sent at the fewest bits whose rounding adds at most
    ``max_distortion`` relative output distortion (model.md section 2.4).

    ``quantisation`` is :func:`coinfer.nets.deploy.feature_quantisation_table`
    output (``model, split, bits_per_element, distortion_mean``). Fewer bits
    only shorten the upload and leave the objective unchanged, so among the
    widths that meet the distortion constraint the split selection always
    takes the fewest: choosing them here is choosing the decision. Splits
    without a measurement (meta models, split 0 and ``L``) keep their bits.

    Parameters
    ----------
    profile : pandas.DataFrame
        The profile table.
    quantisation : pandas.DataFrame
        The feature quantisation table.
    max_distortion : float
        Largest added relative output distortion [1].

    Returns
    -------
    pandas.DataFrame
        The profile with ``feature_bits`` [bit] and ``bits_per_element`` [bit] changed.

    References
    ----------
    docs/model.md, section 2.4.
    """
    require_range("max_distortion", max_distortion, 0.0)
    allowed = quantisation[quantisation["distortion_mean"] <= max_distortion]
    fewest = allowed.groupby(["model", "split"])["bits_per_element"].min()
    out = profile.copy()
    chosen = pd.Series(list(zip(out["model"], out["split"], strict=True)), index=out.index).map(fewest)
    middle = (out["split"] > 0) & (out["split"] < out["num_blocks"]) & chosen.notna()
    out.loc[middle, "feature_bits"] = (
        out.loc[middle, "feature_bits"] * chosen[middle] / out.loc[middle, "bits_per_element"]
    ).round()
    out.loc[middle, "bits_per_element"] = chosen[middle].astype(int)
    return out
