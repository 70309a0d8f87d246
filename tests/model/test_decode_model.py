"""The per-phase decoding model (model.md 14.2): agreement with the physical model of section 2.7, its limits."""

import math

import pytest

from coinfer.base.validation import ParameterError
from coinfer.model import hardware
from coinfer.model.decoding import DecodeSetting, decode_costs, downlink_time, side_time_energy
from coinfer.model.system import Decision, evaluate, make_problem
from coinfer.nets.decoding import decode_profile, decoder_shape


def _problem(**overrides):
    base = dict(
        flops_device=3e9,
        flops_server=5e9,
        params_device=1e9,
        params_server=2e9,
        scale_device=1,
        scale_server=1,
        feature_bits=65536,
        latency_budget=1.0,
        energy_budget=1.0,
    )
    return make_problem(**(base | overrides))


def _row(p, kv=0.0, down=0.0):
    return {
        "prefill_flops_device": 0.0,
        "prefill_fixed_device": 0.0,
        "prefill_flops_server": 0.0,
        "prefill_fixed_server": 0.0,
        "decode_flops_device": p.flops_device,
        "decode_fixed_device": 0.0,
        "decode_flops_server": p.flops_server,
        "decode_fixed_server": 0.0,
        "prunable_device": p.params_device,
        "prunable_server": p.params_server,
        "kv_bits_per_token_device": kv,
        "kv_bits_per_token_server": kv,
        "weight_bits_device": 16 * p.params_device,
        "prompt_bits_up": 0.0,
        "bits_up": p.feature_bits,
        "bits_down": down,
    }


@pytest.mark.parametrize("scope", ["system", "device"])
@pytest.mark.parametrize(
    "decision", [(0.0, 0.0, 0.2, 2e9, 1e10), (0.3, 0.7, 0.05, 1e9, 4e9), (0.9, 0.1, 0.01, 7e8, 3e9)]
)
def test_step_without_kv_or_downlink_is_the_physical_model(scope, decision):
    p = _problem(energy_scope=scope)
    d = Decision(*decision)
    costs = decode_costs(p, _row(p), DecodeSetting(), d, d)
    ev = evaluate(p, d)
    assert costs.tpot == pytest.approx(ev.latency, rel=1e-12)
    assert costs.energy_token == pytest.approx(ev.energy, rel=1e-12)


def test_kv_cache_and_downlink_add_their_terms():
    p = _problem(memory_bandwidth_device=1e10, memory_bandwidth_server=1e10)  # memory-bound sides
    d = Decision(0.0, 0.0, 0.2, 2e9, 1e10)
    s = DecodeSetting(prompt_tokens=8, max_context=100)
    plain = decode_costs(p, _row(p), s, d, d)
    kv = decode_costs(p, _row(p, kv=1e6, down=16), s, d, d)
    # both sides memory-bound: each reads 1e6 x 100 KV bits more at 1e10 bit/s
    assert kv.tpot - plain.tpot == pytest.approx(2 * 1e8 / 1e10 + downlink_time(s), rel=1e-9)
    assert downlink_time(s) == hardware.NR_DOWNLINK.access_latency + hardware.NR_DOWNLINK.slot_duration
    assert kv.round_trip >= p.access_latency + downlink_time(s)


def test_side_limits():
    p = _problem(memory_bandwidth_device=math.inf)
    t, _ = side_time_energy(p, "device", 64e9, 0.0, 1e9, 0.0, 0.0, 2e9)
    assert t == pytest.approx(64e9 / 32 / 2e9)  # compute-bound: W / f
    p = _problem(memory_bandwidth_device=1e9)
    t, _ = side_time_energy(p, "device", 64e9, 0.0, 1e9, 0.0, 0.5, 2e9)
    assert t == pytest.approx(16 * 1e9 * 0.5 / 1e9)  # memory-bound: kept bits / BW
    assert side_time_energy(p, "device", 0.0, 0.0, 0.0, 0.0, 0.0, 2e9) == (0.0, 0.0)


def test_llama_splits_ends_and_context():
    p = _problem()
    shape = decoder_shape("llama_7b")
    s = DecodeSetting(prompt_tokens=128, max_context=1024)
    prof = decode_profile(shape, 128, 1024).to_dict("records")
    full = Decision(0.0, 0.0, p.p_max, p.f_device_max, p.f_server_max)
    server, one, local = (decode_costs(p, prof[i], s, full, full) for i in (0, 1, shape.layers))
    assert server.round_trip == 0 and server.t_device == 0 and server.device_memory == 0
    assert local.round_trip == 0 and local.t_server == 0
    assert one.round_trip > p.access_latency + downlink_time(s)
    # memory: kept weights plus 1024 tokens of the KV cache at 524,288 B per token
    assert local.device_memory == pytest.approx(16 * shape.total_params + 1024 * 524_288 * 8)
    short = decode_profile(shape, 128, 128).to_dict("records")[1]
    assert decode_costs(p, short, s, full, full, context=128).tpot < one.tpot  # the KV cache grows the step


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"prompt_tokens": 0}, "prompt_tokens"),
        ({"prompt_tokens": 64, "max_context": 8}, "max_context"),
        ({"device_memory": 0.0}, "device_memory"),
        ({"index_bits": -1}, "index_bits"),
    ],
)
def test_bad_settings(kwargs, name):
    with pytest.raises(ParameterError, match=f"^{name}"):
        DecodeSetting(**kwargs)
