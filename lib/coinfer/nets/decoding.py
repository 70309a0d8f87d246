"""Decode profiles of split decoder LLMs: prefill and per-token work, weights and KV cache per side (model.md 14.1).

A decoder LLM generates token by token (issue 28). For a split ``s`` (the device runs the token embedding and
blocks ``1..s``, the server blocks ``s+1..L``, the final norm and the LM head; ``s = L`` runs everything on the
device) this module gives, per side: the prefill FLOPs of a prompt of ``P`` tokens, the FLOPs of one decoded token
at context length ``n``, the weight bits kept and read, the KV-cache bits per token of context, and the bits a
token sends up (the hidden state) and down (the token id). Parameter counts are read from the ``transformers``
models built on the meta device (shapes only, no weights); FLOPs are counted from the shapes (model.md 14.1).

References
----------
.. [1] A. Radford et al., "Language models are unsupervised multitask learners", 2019 (GPT-2 XL: 1.5 B).
.. [2] H. Touvron et al., "LLaMA: open and efficient foundation language models", arXiv:2302.13971 (6.7 B).
.. [3] A. Q. Jiang et al., "Mistral 7B", arXiv:2310.06825 (7.24 B, 8 KV heads, grouped-query attention).
.. [4] Qwen team, "Qwen2 technical report", arXiv:2407.10671 (Qwen2-7B: 28 layers, 28 heads, 4 KV heads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import torch

from coinfer.base.validation import require_choice, require_range
from coinfer.nets.meta import META_REGISTRY
from coinfer.nets.split import TOKEN_BITS, prunable_weights

__all__ = [
    "DECODER_NAMES",
    "DecoderShape",
    "decode_profile",
    "decoder_shape",
]

#: Bits per stored weight, KV element and sent activation element: half precision [bit].
HALF_BITS = 16


@dataclass(frozen=True)
class DecoderShape:
    """Sizes of a decoder LLM read from its ``transformers`` model on the meta device.

    Attributes
    ----------
    name : str
        Model name [text].
    layers : int
        Decoder blocks ``L`` [count].
    hidden : int
        Hidden size ``d`` [count].
    heads : int
        Attention (query) heads [count].
    kv_heads : int
        Key/value heads (fewer than ``heads`` under grouped-query attention) [count].
    head_dim : int
        Size of one head [count].
    vocab : int
        Vocabulary size [count].
    max_positions : int
        Longest context the architecture supports [tokens].
    embedding_params : int
        Parameters of the input embeddings (token, and position where learned) [count].
    block_params : int
        Parameters of one block [count].
    block_prunable : int
        Prunable weights of one block (linear layers; norms and biases are kept) [count].
    head_params : int
        Parameters of the final norm and the LM head (a tied head counts its matrix again: it is read again) [count].
    head_prunable : int
        Prunable weights of the LM head [count].
    total_params : int
        Distinct parameters of the model (a tied head counted once), the published size [count].
    """

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    max_positions: int
    embedding_params: int
    block_params: int
    block_prunable: int
    head_params: int
    head_prunable: int
    total_params: int


def _mistral_7b_config() -> Any:
    from transformers import MistralConfig

    # transformers' defaults are Mistral-7B-v0.1's [3]
    return MistralConfig(attn_implementation="eager")  # type: ignore[call-arg]


def _qwen2_7b_config() -> Any:
    from transformers import Qwen2Config

    # Qwen2-7B's config.json [4]
    return Qwen2Config(  # type: ignore[call-arg]
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        vocab_size=152064,
        max_position_embeddings=32768,
        attn_implementation="eager",
    )


def _causal_lm(config: Any) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_config(config)


_CONFIGS: dict[str, Callable[[], Any]] = {
    "gpt2_xl": META_REGISTRY["gpt2_xl"].config,
    "llama_7b": META_REGISTRY["llama_7b"].config,
    "mistral_7b": _mistral_7b_config,
    "qwen2_7b": _qwen2_7b_config,
}

#: The decoders with a decode profile.
DECODER_NAMES: tuple[str, ...] = tuple(_CONFIGS)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def shape_of(config: Any, name: str, max_positions: int) -> DecoderShape:
    """The :class:`DecoderShape` of a ``transformers`` causal-LM config (the model is built on the meta device).

    Parameters
    ----------
    config : Any
        A ``transformers`` causal-LM config.
    name : str
        Name of the model.
    max_positions : int
        Longest context [tokens].

    Returns
    -------
    DecoderShape
        The shape.

    References
    ----------
    docs/model.md, section 14.
    """
    with torch.device("meta"):
        net = _causal_lm(config)
    body = getattr(net, "transformer", None) or net.model
    blocks = body.h if hasattr(body, "h") else body.layers
    embeddings = [m for m in (getattr(body, "wte", None), getattr(body, "wpe", None)) if m is not None]
    if not embeddings:
        embeddings = [body.embed_tokens]
    norm = body.ln_f if hasattr(body, "ln_f") else body.norm
    head = net.lm_head
    block_params = {_count(b) for b in blocks}
    block_prunable = {sum(w.numel() for w in prunable_weights(b).values()) for b in blocks}
    assert len(block_params) == 1 and len(block_prunable) == 1  # all blocks alike in these architectures
    heads = int(config.num_attention_heads)
    hidden = int(config.hidden_size)
    return DecoderShape(
        name=name,
        layers=len(blocks),
        hidden=hidden,
        heads=heads,
        kv_heads=int(getattr(config, "num_key_value_heads", None) or heads),
        head_dim=int(getattr(config, "head_dim", None) or hidden // heads),
        vocab=int(config.vocab_size),
        max_positions=max_positions,
        embedding_params=sum(_count(m) for m in embeddings),
        block_params=block_params.pop(),
        block_prunable=block_prunable.pop(),
        head_params=_count(norm) + head.weight.numel() + (0 if head.bias is None else head.bias.numel()),
        head_prunable=head.weight.numel(),
        total_params=sum(p.numel() for p in net.parameters()),  # parameters() yields a tied matrix once
    )


@cache
def decoder_shape(name: str) -> DecoderShape:
    """Sizes of decoder ``name`` (one of :data:`DECODER_NAMES`), from its model on the meta device.

    Parameters
    ----------
    name : str
        ``gpt2_xl``, ``llama_7b``, ``mistral_7b`` or ``qwen2_7b`` [text].

    Returns
    -------
    DecoderShape
        Layers, widths, heads and parameter counts.
    """
    require_choice("model", name, DECODER_NAMES)
    config = _CONFIGS[name]()
    positions: Any = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 1024)
    if name == "llama_7b":
        positions = META_REGISTRY["llama_7b"].max_positions  # LLaMA-1's 2048-token context [2]
    return shape_of(config, name, int(positions))


def decode_profile(shape: DecoderShape, prompt_tokens: int, context: int, bits: int = HALF_BITS) -> pd.DataFrame:
    """Per-split decode workload of a decoder (model.md 14.1): one row per split ``s = 0..L``.

    FLOPs count a multiply-add as 2. A block's matrix products cost ``2 N_block`` per token; attention costs
    ``4 n d`` per block and token at context ``n`` (scores and weighted sum over all heads; grouped-query
    attention shares keys and values, not this work). Prefill runs the eager causal attention of ``transformers``,
    which computes the full ``P x P`` score matrix: ``4 P^2 d`` per block. The LM head runs for one token per
    step (generation keeps the last position's logits only).

    Parameters
    ----------
    shape : DecoderShape
        The decoder (:func:`decoder_shape`).
    prompt_tokens : int
        Prompt length ``P`` [tokens], 1 .. ``max_positions``.
    context : int
        Context length ``n`` at which a token is decoded [tokens], ``P`` .. ``max_positions``.
    bits : int, default 16
        Bits per weight, KV element and sent activation element [bit].

    Returns
    -------
    pandas.DataFrame
        Columns ``split``, ``label`` and, per side ``X`` in ``device``, ``server``:
        ``prefill_flops_X`` [FLOP] (of which ``prefill_fixed_X``: activation products pruning cannot remove),
        ``decode_flops_X``, ``decode_fixed_X`` [FLOP per token], ``prunable_X``, ``params_X`` [count],
        ``weight_bits_X`` (kept, all parameters) [bit], ``kv_bits_per_token_X`` [bit per token of context];
        and ``prompt_bits_up`` [bit], ``bits_up``, ``bits_down`` [bit per decoded token].
    """
    require_range("prompt_tokens", prompt_tokens, 1, shape.max_positions, integer=True)
    require_range("context", context, prompt_tokens, shape.max_positions, integer=True)
    require_choice("bits", bits, (4, 8, 16, 32))
    L, d = shape.layers, shape.hidden
    kv_block = 2 * shape.kv_heads * shape.head_dim * bits  # keys and values of one token in one block
    rows = []
    for s in range(L + 1):
        blocks = {"device": s, "server": L - s}
        head_side = "device" if s == L else "server"
        row: dict[str, Any] = {"split": s, "label": "input" if s == 0 else "output" if s == L else f"block {s}"}
        for side, k in blocks.items():
            head = side == head_side
            prunable = k * shape.block_prunable + (shape.head_prunable if head else 0)
            params = (
                k * shape.block_params
                + (shape.embedding_params if side == "device" and s > 0 else 0)
                + (shape.embedding_params if side == "server" and s == 0 else 0)
                + (shape.head_params if head else 0)
            )
            row[f"prefill_flops_{side}"] = (
                2.0 * prompt_tokens * k * shape.block_prunable + 4.0 * k * d * prompt_tokens**2
            )
            row[f"prefill_flops_{side}"] += 2.0 * shape.head_prunable if head else 0.0
            row[f"prefill_fixed_{side}"] = 4.0 * k * d * prompt_tokens**2
            row[f"decode_flops_{side}"] = 2.0 * prunable + 4.0 * k * d * context
            row[f"decode_fixed_{side}"] = 4.0 * k * d * context
            row[f"prunable_{side}"] = prunable
            row[f"params_{side}"] = params
            row[f"weight_bits_{side}"] = float(bits) * params
            row[f"kv_bits_per_token_{side}"] = float(k * kv_block)
        interior = 0 < s < L
        row["prompt_bits_up"] = float(prompt_tokens * (TOKEN_BITS if s == 0 else d * bits if interior else 0))
        row["bits_up"] = float(d * bits) if interior else 0.0
        row["bits_down"] = float(TOKEN_BITS) if s < L else 0.0
        rows.append(row)
    return pd.DataFrame(rows)
