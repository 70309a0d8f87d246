"""Split models: a network as a chain of stages with named split points, its parts and their weights
(model.md sections 2 and 6).

A :class:`SplitModel` is a network cut into an ordered chain
``stem, block 1, ..., block L, head``. Split point ``s`` in ``0..L`` puts the
stem and blocks ``1..s`` on the device and the rest on the server; ``s = 0`` is
fully on-server (the raw input is sent) and ``s = L`` fully on-device (the
head runs on the device too, nothing is sent).

Values passed between stages are either a tensor or a tuple whose first
element is the feature tensor that crosses the link (later elements are small
side information such as an attention mask, not counted as sent bits);
:class:`Batch` is a batch of model inputs with the raw bits of one sample
(:data:`PIXEL_BITS`, :data:`TOKEN_BITS`); :func:`as_batch` makes one of a plain tensor or a
tokenised batch.

A *part* is the device side or the server side at a split, or the whole model
(:data:`PARTS`, :func:`part_weights`); :func:`prune_model` prunes one part of a
copy with :mod:`coinfer.model.pruning`, :func:`part_configs` lists the parts a
notebook sweeps, and :class:`PartSweeps` is the one cache of their magnitude
orders (sorted once per model). The families (:mod:`coinfer.nets.digits`,
:mod:`coinfer.nets.transformers`, :mod:`coinfer.nets.efficientnet`,
:mod:`coinfer.nets.meta`) build split models; :mod:`coinfer.nets.zoo` registers them.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from coinfer.base.validation import ParameterError, require_choice, require_range
from coinfer.model.pruning import SCOPES, MagnitudeSweep, magnitude_masks, prune_weights

#: Layer types whose ``weight`` is prunable: the ones that carry the FLOPs, so
#: pruning them is what reduces compute (embeddings, norms, biases are kept).
PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d)


def prunable_weights(module: nn.Module, prefix: str = "") -> dict[str, nn.Parameter]:
    """Name -> weight of every prunable layer inside ``module`` (see :data:`PRUNABLE_TYPES`).

    Parameters
    ----------
    module : torch.nn.Module
        Any module.
    prefix : str
        Prefix of the returned names.

    Returns
    -------
    dict of str to torch.nn.Parameter
        Name -> weight [weight units].
    """
    found: dict[str, nn.Parameter] = {}
    for name, sub in module.named_modules(prefix=prefix.rstrip(".")):
        if isinstance(sub, PRUNABLE_TYPES) or type(sub).__name__ == "Conv1D":  # transformers' GPT-2 Conv1D
            found[f"{name}.weight" if name else "weight"] = sub.weight
    return found


def feature_tensor(value: Any) -> torch.Tensor:
    """The tensor that crosses the link for a value passed between stages.

    Parameters
    ----------
    value : Any
        A value passed between stages (a tensor, or a tuple whose first item is the hidden state).

    Returns
    -------
    torch.Tensor
        The tensor that is sent.

    References
    ----------
    docs/model.md, section 2.4.
    """
    return value[0] if isinstance(value, (tuple, list)) else value


@dataclass
class SplitModel:
    """A model as a chain ``stem, blocks..., head`` with named split points (model.md section 2).

    ``split_names[s]`` names split ``s``: ``"input"`` for 0, the name of block
    ``s`` for ``1..L-1``, and ``"output"`` for ``L``.
    """

    name: str
    stem: nn.Module
    blocks: list[nn.Module]
    block_names: list[str]
    head: nn.Module
    #: Free-form facts shown in tables (task, parameter count, input description).
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.blocks) != len(self.block_names) or not self.blocks:
            raise ValueError("blocks and block_names must be non-empty and of equal length")

    @property
    def num_blocks(self) -> int:
        """``L``, the number of blocks."""
        return len(self.blocks)

    @property
    def split_names(self) -> list[str]:
        """Names of split points ``0..L``."""
        return ["input", *self.block_names[:-1], "output"]

    def split_index(self, split: int | str) -> int:
        """Index of a split given by index or name.

        Parameters
        ----------
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        int
            The index ``s`` [1].
        """
        if isinstance(split, str):
            if split not in self.split_names:
                raise ValueError(f"split: got {split!r}; allowed one of {self.split_names}")
            return self.split_names.index(split)
        if not 0 <= split <= self.num_blocks:
            raise ValueError(f"split: got {split}; allowed 0..{self.num_blocks}")
        return int(split)

    def stages(self) -> list[nn.Module]:
        """All stages in order: ``[stem, *blocks, head]``.

        Returns
        -------
        list of torch.nn.Module
            ``[stem, *blocks, head]``.
        """
        return [self.stem, *self.blocks, self.head]

    def device_stages(self, split: int | str) -> list[nn.Module]:
        """Stages run on the device at ``split``.

        Parameters
        ----------
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        list of torch.nn.Module
            The stem and the first ``s`` blocks.
        """
        s = self.split_index(split)
        if s == 0:
            return []
        if s == self.num_blocks:
            return self.stages()
        return [self.stem, *self.blocks[:s]]

    def server_stages(self, split: int | str) -> list[nn.Module]:
        """Stages run on the server at ``split``.

        Parameters
        ----------
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        list of torch.nn.Module
            The blocks from ``s`` on and the head.
        """
        s = self.split_index(split)
        return self.stages()[len(self.device_stages(s)) :]

    @staticmethod
    def _run(stages: list[nn.Module], value: Any) -> Any:
        for stage in stages:
            value = stage(value)
        return value

    @torch.no_grad()
    def run_device(self, inputs: Any, split: int | str) -> Any:
        """Device part at ``split``: what is sent (or the output when ``split = L``).

        Parameters
        ----------
        inputs : Any
            A batch of the model's inputs (a tensor, or the tokenised dict of a text model).
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        Any
            The value sent at ``split`` (the output at ``s = L``).
        """
        return self._run(self.device_stages(split), inputs)

    @torch.no_grad()
    def run_server(self, features: Any, split: int | str) -> Any:
        """Server part at ``split``, from the sent features to the output.

        Parameters
        ----------
        features : Any
            What the device part sent (:meth:`run_device`).
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        Any
            The model's output.
        """
        return self._run(self.server_stages(split), features)

    @torch.no_grad()
    def forward(self, inputs: Any) -> Any:
        """The whole model.

        Parameters
        ----------
        inputs : Any
            A batch of the model's inputs (a tensor, or the tokenised dict of a text model).

        Returns
        -------
        Any
            The model's output.
        """
        return self._run(self.stages(), inputs)

    def device_weights(self, split: int | str) -> dict[str, nn.Parameter]:
        """Prunable weights on the device side at ``split``.

        Parameters
        ----------
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        dict of str to torch.nn.Parameter
            Weight name -> weight [weight units].
        """
        return self._weights(self.device_stages(split))

    def server_weights(self, split: int | str) -> dict[str, nn.Parameter]:
        """Prunable weights on the server side at ``split``.

        Parameters
        ----------
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

        Returns
        -------
        dict of str to torch.nn.Parameter
            Weight name -> weight [weight units].
        """
        return self._weights(self.server_stages(split))

    def all_weights(self) -> dict[str, nn.Parameter]:
        """Prunable weights of the whole model.

        Returns
        -------
        dict of str to torch.nn.Parameter
            Weight name -> weight [weight units].
        """
        return self._weights(self.stages())

    def _weights(self, stages: list[nn.Module]) -> dict[str, nn.Parameter]:
        index = {id(stage): i for i, stage in enumerate(self.stages())}
        names = ["stem", *self.block_names, "head"]
        found: dict[str, nn.Parameter] = {}
        for stage in stages:
            found.update(prunable_weights(stage, prefix=names[index[id(stage)]]))
        return found

    def modules(self) -> Iterator[nn.Module]:
        """Every stage module, e.g. to call ``.eval()`` or copy.

        Yields
        ------
        torch.nn.Module
            Each stage, in order.
        """
        yield from self.stages()


def as_sequential(model: SplitModel) -> nn.Sequential:
    """The chain of a Sequential-built split model flattened into one ``nn.Sequential``.

    The layers are shared, not copied, so the exact bound of model.md section 3
    can be evaluated layer by layer on any (pruned) copy of ``model``.

    Parameters
    ----------
    model : SplitModel
        The split model.

    Returns
    -------
    torch.nn.Sequential
        The flattened chain (layers shared with ``model``).

    References
    ----------
    docs/model.md, section 3.
    """
    layers: list[nn.Module] = []
    for stage in model.stages():
        if isinstance(stage, nn.Sequential):
            layers.extend(stage)
        elif not isinstance(stage, nn.Identity):
            layers.append(stage)
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- inputs
#: Raw-input bits per element sent at split 0 (model.md section 6): 8-bit pixels, 16-bit token ids.
PIXEL_BITS = 8
TOKEN_BITS = 16


@dataclass
class Batch:
    """A batch of model inputs (see the ``coinfer.nets.split`` contract).

    ``inputs`` is what :meth:`SplitModel.forward` takes; ``input_bits`` the raw
    bits of ONE sample as sent at split 0. ``sources`` optionally names where
    each sample comes from (a photo, a digits split); with
    ``dependent_sources`` the samples of one source are not independent
    (crops of one photo, model.md section 3.3), so statistics resample sources,
    not samples.
    """

    inputs: Any
    size: int
    labels: torch.Tensor | None
    input_bits: int
    description: str
    sources: tuple[str, ...] | None = None
    dependent_sources: bool = False


def as_batch(inputs: Any, *, input_bits: int | None = None) -> Batch:
    """``inputs`` as a :class:`Batch`: a Batch as it is, a plain tensor, or a tokenised batch.

    A tensor is a batch along its first dimension; a mapping with ``input_ids``
    (what a Hugging Face tokenizer returns) becomes ``(input_ids,
    attention_mask)``, the inputs of the transformer families. Unless
    ``input_bits`` is given, one sample's raw bits (sent at split 0) are counted
    as for the zoo's inputs (model.md section 6): :data:`TOKEN_BITS` per token
    id (an integer tensor or ``input_ids``), :data:`PIXEL_BITS` per element of a
    floating tensor (an 8-bit sensor sample, whatever dtype it was normalised to).

    Parameters
    ----------
    inputs : Batch, torch.Tensor or mapping
        The model's inputs.
    input_bits : int, optional
        Raw bits of one sample sent at split 0 [bit]; at least 1.

    Returns
    -------
    Batch
        The inputs with their size [count] and ``input_bits`` [bit]; no labels.

    References
    ----------
    docs/model.md, section 6.
    """
    if isinstance(inputs, Batch):
        return inputs
    model_inputs: Any
    if isinstance(inputs, Mapping) and "input_ids" in inputs:
        ids = inputs["input_ids"]
        mask = inputs.get("attention_mask")
        tensor, model_inputs, per_element = ids, (ids, mask), TOKEN_BITS
    elif isinstance(inputs, torch.Tensor):
        per_element = PIXEL_BITS if inputs.is_floating_point() else TOKEN_BITS
        tensor, model_inputs = inputs, inputs
    else:
        raise ParameterError(
            f"inputs: got {type(inputs).__name__}; allowed a torch.Tensor, a tokenised batch (a mapping with "
            "input_ids) or a coinfer.nets.split.Batch"
        )
    if not isinstance(tensor, torch.Tensor) or tensor.dim() < 1 or tensor.shape[0] < 1:
        raise ParameterError("inputs: expected a tensor with a batch dimension of at least one sample")
    size = int(tensor.shape[0])
    if input_bits is None:
        input_bits = int(tensor[0].numel()) * per_element
    require_range("input_bits", input_bits, 1, integer=True)
    return Batch(model_inputs, size, None, int(input_bits), f"{size} samples of shape {tuple(tensor.shape[1:])}")


def _parameter_count(model: SplitModel) -> int:
    """All parameters of ``model`` (embeddings, norms and biases included), each shared tensor once."""
    seen: dict[int, int] = {}
    for stage in model.stages():
        for p in stage.parameters():
            seen[id(p)] = p.numel()
    return sum(seen.values())


def with_counts(model: SplitModel, **info: Any) -> SplitModel:
    """``model`` with ``info`` and its parameter counts recorded, every stage in eval mode.

    ``model`` with ``info`` and its parameter counts recorded in ``model.info`` (``parameters``,
    ``prunable_parameters`` [count]) and every stage in eval mode: how each family finishes a split model.

    Parameters
    ----------
    model : SplitModel
        The split model.
    **info
        Entries for ``model.info``.

    Returns
    -------
    SplitModel
        ``model`` itself.
    """
    model.info.update(info)
    model.info["parameters"] = _parameter_count(model)
    model.info["prunable_parameters"] = sum(w.numel() for w in model.all_weights().values())
    for stage in model.stages():
        stage.eval()
    return model


# --------------------------------------------------------------------------- parts and their weights
#: Which part of a split model is pruned (model.md section 2).
PARTS: tuple[str, ...] = ("device", "server", "all")


def part_weights(model: SplitModel, part: str, split: int | str | None = None) -> dict[str, torch.Tensor]:
    """The prunable weights of one part of ``model`` (model.md section 2), detached, in model order.

    The tensors share storage with the model: read them, do not write them.

    Parameters
    ----------
    model : SplitModel
        The split model.
    part : str
        ``"device"`` (stem and blocks ``1..s``), ``"server"`` (the rest) or ``"all"``.
    split : int or str, optional
        Split point ``s`` [1] (index ``0..L`` or name); needed by ``"device"`` and ``"server"``, ignored by ``"all"``.

    Returns
    -------
    dict of str to torch.Tensor
        Weight name -> weight tensor [weight units] of the Linear/Conv2d layers of the part.

    References
    ----------
    docs/model.md, section 2.1 (split model and decisions).
    """
    require_choice("part", part, PARTS)
    if part == "all":
        found = model.all_weights()
    else:
        split = _part_split(part, split, model)
        try:
            found = model.device_weights(split) if part == "device" else model.server_weights(split)
        except ValueError as error:
            raise ParameterError(str(error)) from None
    return {name: w.detach() for name, w in found.items()}


def _part_split(part: str, split: int | str | None, model: SplitModel) -> int | str:
    """``split`` of the device or server part; ``None`` is a :class:`ParameterError` (only ``"all"`` has none)."""
    if split is None:
        raise ParameterError(f"split: got None for part={part!r}; allowed 0..{model.num_blocks} or a split name")
    return split


def set_weights(model: SplitModel, new_weights: Mapping[str, torch.Tensor]) -> SplitModel:
    """Overwrite named prunable weights of ``model`` IN PLACE and return it.

    Only for a model the caller owns (a copy from :func:`copy_model`); use
    :func:`with_weights` to leave the original untouched.

    Parameters
    ----------
    model : SplitModel
        The split model.
    new_weights : mapping of str to torch.Tensor
        Weight name -> new values [weight units], same shapes.

    Returns
    -------
    SplitModel
        ``model`` itself.
    """
    params = model.all_weights()
    for name, value in new_weights.items():
        if name not in params:
            raise ParameterError(f"weights: {name!r} is not a prunable weight of model {model.name!r}")
        if tuple(value.shape) != tuple(params[name].shape):
            raise ParameterError(f"weights[{name!r}]: shape {tuple(value.shape)}; expected {tuple(params[name].shape)}")
        with torch.no_grad():
            params[name].copy_(value)
    return model


def copy_model(model: SplitModel) -> SplitModel:
    """Independent deep copy of ``model`` (modules shared between stages stay shared).

    Parameters
    ----------
    model : SplitModel
        The split model to copy.

    Returns
    -------
    SplitModel
        A copy whose weights can be changed without touching ``model``.
    """
    return copy.deepcopy(model)


def with_weights(model: SplitModel, new_weights: Mapping[str, torch.Tensor]) -> SplitModel:
    """Deep copy of ``model`` with the named prunable weights replaced; the original never changes.

    Parameters
    ----------
    model : SplitModel
        The split model.
    new_weights : mapping of str to torch.Tensor
        Weight name (as in :func:`part_weights`) -> new values [weight units], same shapes.

    Returns
    -------
    SplitModel
        The copy with the new weights.
    """
    return set_weights(copy_model(model), new_weights)


def model_masks(
    model: SplitModel, ratio: float, *, part: str, split: int | str | None = None, scope: str = "global"
) -> dict[str, torch.Tensor]:
    """Keep-masks of magnitude pruning ``part`` of ``model`` at ``ratio`` (names as in ``model.all_weights()``).

    Parameters
    ----------
    model : SplitModel
        The split model.
    ratio : float
        Pruning ratio [1] in ``[0, 1]``.
    part : str
        A part of :data:`PARTS`.
    split : int or str, optional
        Split index [1] or name, for ``"device"`` and ``"server"``.
    scope : str
        ``"global"`` or ``"layer"``.

    Returns
    -------
    dict of str to torch.Tensor
        Weight name -> boolean keep-mask.

    References
    ----------
    docs/model.md, section 2.1.
    """
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
    """Copy of ``model`` with ``part`` magnitude-pruned at ``ratio`` (model.md section 2); other weights unchanged.

    Parameters
    ----------
    model : SplitModel
        The split model (never changed).
    ratio : float
        Pruning ratio [1] in ``[0, 1]``: the share of the part's prunable weights set to zero, smallest magnitudes
        first.
    part : str
        ``"device"``, ``"server"`` or ``"all"`` (:func:`part_weights`).
    split : int or str, optional
        Split point ``s`` [1]; needed by ``"device"`` and ``"server"``.
    scope : str
        ``"global"`` (one order over the part) or ``"layer"`` (each layer pruned at ``ratio``).
    bits : int, optional
        Bits of each kept weight [bit] (uniform quantiser, per-layer range); ``None`` keeps them float.

    Returns
    -------
    SplitModel
        The pruned copy.

    References
    ----------
    docs/model.md, sections 2.1 and 4.4 (magnitude pruning).
    """
    weights = part_weights(model, part, split)
    return with_weights(model, prune_weights(weights, ratio, scope=scope, bits=bits))


def prunable_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """Name -> weight of the Linear/Conv2d layers of ``model`` (state-dict names).

    Parameters
    ----------
    model : torch.nn.Module
        Any module.

    Returns
    -------
    dict of str to torch.Tensor
        State-dict name -> weight [weight units].
    """
    pass

    return {name: w.detach() for name, w in prunable_weights(model).items()}


# --------------------------------------------------------------------------- the parts a notebook sweeps
# Shared by notebooks 03 (weight distributions) and 04 (pruning distortion).
PartConfig = tuple[str, "int | None"]


def interior_splits(model: SplitModel, fractions: Iterable[float]) -> list[int]:
    """Split points ``round(f L)`` for each fraction ``f``, clipped to ``1..L-1`` and de-duplicated, sorted.

    Parameters
    ----------
    model : SplitModel
        The split model.
    fractions : iterable of float
        Fractions of the depth [1] in ``[0, 1]``.

    Returns
    -------
    list of int
        Split indices [1], sorted.
    """
    last = model.num_blocks - 1
    if last < 1:
        return []
    return sorted({min(max(int(math.floor(f * model.num_blocks + 0.5)), 1), last) for f in fractions})


def part_configs(model: SplitModel, splits: Iterable[int]) -> list[PartConfig]:
    """``("all", None)`` then ``("device", s), ("server", s)`` for each split ``s``.

    Parameters
    ----------
    model : SplitModel
        The split model.
    splits : iterable of int
        Split indices [1].

    Returns
    -------
    list of PartConfig
        ``(part, split)`` pairs.
    """
    configs: list[PartConfig] = [("all", None)]
    for split in splits:
        configs += [("device", int(split)), ("server", int(split))]
    return configs


def part_columns(model: SplitModel, part: str, split: int | None) -> dict[str, object]:
    """The columns naming a part in the notebooks' tables: ``model``, ``part``, ``split``, ``split_name``.

    Parameters
    ----------
    model : SplitModel
        The split model.
    part : str
        A part of :data:`PARTS`.
    split : int or None
        Split index [1]; ``None`` for ``"all"``.

    Returns
    -------
    dict of str to object
        ``model``, ``part``, ``split`` [1], ``split_name``.
    """
    return {
        "model": model.name,
        "part": part,
        "split": split,
        "split_name": model.split_names[split] if split is not None else "",
    }


#: The two sides of a split (model.md section 2).
SIDES: tuple[str, ...] = ("device", "server")


def check_split(model: SplitModel, split: int | str) -> int:
    """Index of ``split`` (an index ``0..L`` or a name in ``model.split_names``), else :class:`ParameterError`.

    Parameters
    ----------
    model : SplitModel
        The split model.
    split : int or str
        Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.

    Returns
    -------
    int
        The index ``s`` [1].

    References
    ----------
    docs/model.md, section 2.1.
    """
    if isinstance(split, str):
        require_choice("split", split, model.split_names)
        return model.split_names.index(split)
    return int(require_range("split", split, 0, model.num_blocks, integer=True))


# --------------------------------------------------------------------------- magnitude orders, sorted once
class PartSweeps:
    """Magnitude orders of the parts of one model, sorted once and reused (model.md sections 2, 9): the one cache
    of magnitude orders, for notebook 04's sweeps over parts and for deploying designs (notebooks 07, 08).

    The first request sorts the whole model's prunable weights once (a
    :class:`~coinfer.model.pruning.MagnitudeSweep` with ``scope``); the sweep of a
    ``(split, side)`` is then derived with
    :meth:`~coinfer.model.pruning.MagnitudeSweep.restrict` (no sorting) and cached
    in a dict keyed by ``(split index, side)``. That is each side's own order for
    global scope: the device weights are a prefix and the server weights a
    suffix of the model's weights in name order, and filtering the stable
    global order to a contiguous run keeps the relative order of its entries,
    ties included, so the restricted sweep equals a sweep sorted from the
    side's own weights (tested). The weights are copied when sorted, so later
    changes to ``model`` do not reach the sweeps.

    A cached sweep holds about 12 bytes per weight of its side (ranks and
    order); ``max_entries`` bounds the cache (least recently used dropped
    first), ``None`` keeps every entry.
    """

    def __init__(self, model: SplitModel, *, scope: str = "global", max_entries: int | None = None) -> None:
        self.model = model
        self.scope: str = require_choice("scope", scope, SCOPES)
        if max_entries is not None:
            max_entries = int(require_range("max_entries", max_entries, 1, integer=True))
        self.max_entries = max_entries
        self._whole: MagnitudeSweep | None = None
        self._cache: OrderedDict[tuple[int, str], MagnitudeSweep] = OrderedDict()

    def whole(self) -> MagnitudeSweep:
        """The sweep of all of the model's prunable weights (sorted on first use).

        Returns
        -------
        MagnitudeSweep
            The sweep of every prunable weight, in name order.
        """
        if self._whole is None:
            self._whole = MagnitudeSweep(part_weights(self.model, "all"), scope=self.scope)
        return self._whole

    def sweep(self, split: int | str, side: str) -> MagnitudeSweep:
        """The sweep of ``side`` (``"device"`` or ``"server"``) at ``split``, from the cache when present.

        Parameters
        ----------
        split : int or str
            Split index ``s`` in ``0..L`` [1], or a name of ``split_names``.
        side : str
            ``"device"`` or ``"server"``.

        Returns
        -------
        MagnitudeSweep
            The sweep.
        """
        key = (check_split(self.model, split), require_choice("side", side, SIDES))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        names = list(part_weights(self.model, side, key[0]))
        whole = self.whole()
        found = whole if names == list(whole.weights) else whole.restrict(names)  # s = 0 or L: one side is all
        self._cache[key] = found
        if self.max_entries is not None and len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return found

    def part(self, part: str, split: int | str | None = None) -> MagnitudeSweep:
        """The sweep of a part (:data:`PARTS`): :meth:`whole` for ``"all"``, else :meth:`sweep` at ``split``.

        Parameters
        ----------
        part : str
            A part of :data:`PARTS`.
        split : int or str, optional
            Split index [1] or name; not used for ``"all"``.

        Returns
        -------
        MagnitudeSweep
            The sweep.
        """
        if require_choice("part", part, PARTS) == "all":
            return self.whole()
        return self.sweep(_part_split(part, split, self.model), part)

    def __len__(self) -> int:
        """Number of cached ``(split, side)`` sweeps."""
        return len(self._cache)

    def clear(self) -> None:
        """Drop every cached sweep and the whole-model order."""
        self._cache.clear()
        self._whole = None
