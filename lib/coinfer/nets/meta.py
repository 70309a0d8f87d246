"""Large architectures on the meta device (BERT-large, GPT-2 XL, LLaMA-7B): shapes only, no weights, for the
FLOP profiles of model.md section 6.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from coinfer.base.validation import require_choice, require_range
from coinfer.nets.split import TOKEN_BITS, Batch, SplitModel
from coinfer.nets.transformers import GPT2Stem, LlamaStem, LMHead, PoolerHead, bert_split_model, transformer_split_model


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
    """Architecture ``name`` with all tensors on the meta device (shapes only; for FLOP counting, model.md §6).

    Parameters
    ----------
    name : str
        A meta model of the zoo.
    seq_len : int
        Input tokens [count].

    Returns
    -------
    SplitModel
        The meta-device split model.

    References
    ----------
    docs/model.md, section 6.
    """
    arch = _meta_entry(name, seq_len)
    with torch.device("meta"):
        model = arch.build(arch.config())
    model.info["seq_len"] = int(seq_len)
    return model


def meta_inputs(name: str, seq_len: int, batch: int = 1) -> Batch:
    """Meta-device token ids ``[batch, seq_len]``, all tokens valid (token mask ``None``).

    Parameters
    ----------
    name : str
        A meta model of the zoo.
    seq_len : int
        Tokens [count].
    batch : int
        Sequences [count].

    Returns
    -------
    Batch
        The meta-device inputs.
    """
    _meta_entry(name, seq_len)
    require_range("batch", batch, 1, integer=True)
    ids = torch.zeros(batch, seq_len, dtype=torch.long, device="meta")
    return Batch((ids, None), batch, None, TOKEN_BITS * seq_len, f"{batch} x {seq_len} meta token ids")
