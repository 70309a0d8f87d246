"""Decode profiles against the architectures' published sizes (issue 28, model.md 14.1)."""

import pytest

from coinfer.base.validation import ParameterError
from coinfer.nets.decoding import decode_profile, decoder_shape


@pytest.mark.parametrize(
    ("name", "published", "rtol"),
    [
        ("gpt2_xl", 1.56e9, 0.005),
        ("llama_7b", 6.74e9, 0.001),
        ("mistral_7b", 7.24e9, 0.001),
        ("qwen2_7b", 7.62e9, 0.001),
    ],
)
def test_parameter_counts_match_published_sizes(name, published, rtol):
    assert decoder_shape(name).total_params == pytest.approx(published, rel=rtol)


@pytest.mark.parametrize(
    ("name", "kv_bytes"), [("llama_7b", 2 * 32 * 4096 * 2), ("mistral_7b", 131_072), ("qwen2_7b", 2 * 28 * 4 * 128 * 2)]
)
def test_kv_bytes_per_token(name, kv_bytes):
    shape = decoder_shape(name)
    profile = decode_profile(shape, 16, 32)
    total = profile["kv_bits_per_token_device"] + profile["kv_bits_per_token_server"]
    assert (total / 8 == kv_bytes).all()


def test_profile_conserves_work_and_weights_across_splits():
    shape = decoder_shape("llama_7b")
    p = decode_profile(shape, 128, 1024)
    assert len(p) == shape.layers + 1
    for column in ("decode_flops", "prefill_flops", "prunable", "params"):
        total = p[f"{column}_device"] + p[f"{column}_server"]
        assert (total == total.iloc[0]).all(), column
    # every parameter is kept on one side; the count is the published size
    assert p["params_device"].iloc[-1] == shape.total_params
    # decode per token: 2 FLOP per kept weight plus 4 n d per block of attention
    assert (
        p["decode_flops_server"].iloc[0] == 2 * (32 * shape.block_prunable + shape.head_prunable) + 4 * 32 * 4096 * 1024
    )
    interior = p.iloc[1:-1]
    assert (interior["bits_up"] == 4096 * 16).all() and (interior["bits_down"] == 16).all()
    assert p["bits_up"].iloc[0] == 0 and p["bits_down"].iloc[-1] == 0 and p["prompt_bits_up"].iloc[-1] == 0
    assert p["prompt_bits_up"].iloc[0] == 128 * 16 and p["prompt_bits_up"].iloc[1] == 128 * 4096 * 16


def test_gqa_shrinks_only_the_kv_cache():
    llama, mistral = decoder_shape("llama_7b"), decoder_shape("mistral_7b")
    assert (llama.kv_heads, mistral.kv_heads) == (32, 8)
    assert llama.hidden == mistral.hidden and llama.layers == mistral.layers


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"prompt_tokens": 0, "context": 4}, "prompt_tokens"),
        ({"prompt_tokens": 8, "context": 4}, "context"),
        ({"prompt_tokens": 8, "context": 4096}, "context"),
        ({"prompt_tokens": 8, "context": 8, "bits": 3}, "bits"),
    ],
)
def test_bad_inputs_name_the_parameter(kwargs, name):
    with pytest.raises(ParameterError, match=f"^{name}"):
        decode_profile(decoder_shape("llama_7b"), **kwargs)


def test_unknown_model():
    with pytest.raises(ParameterError, match="^model"):
        decoder_shape("gpt5")
