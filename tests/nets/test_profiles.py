"""Per-split profiles (model.md section 6): FLOPs, parameters per side, feature bits, scales."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from coinfer.base import paths
from coinfer.base.validation import ParameterError
from coinfer.model.rate_distortion import laplace_scale
from coinfer.nets import profiles, split
from coinfer.nets.split import SplitModel, prunable_weights


@dataclass
class Batch:
    """Stand-in with the fields of ``coinfer.nets.split.Batch`` that profiles use."""

    inputs: Any
    size: int
    input_bits: int


def linear_chain(widths: list[int], seed: int = 0, device: str = "cpu") -> SplitModel:
    """Stem = first Linear, one block per further Linear (+ReLU), identity head."""
    torch.manual_seed(seed)
    layers = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
    blocks = [nn.Sequential(layer, nn.ReLU()) for layer in layers[1:]]
    model = SplitModel("chain", layers[0], blocks, [f"b{i}" for i in range(len(blocks))], nn.Identity())
    for stage in model.stages():
        stage.to(device).eval()
    return model


def one_sample(widths: list[int], device: str = "cpu") -> Batch:
    return Batch(torch.zeros(1, widths[0], device=device), 1, 8 * widths[0])


widths_strategy = st.lists(st.integers(1, 24), min_size=3, max_size=6)


@settings(max_examples=25, deadline=None)
@given(widths=widths_strategy, batch=st.integers(1, 4))
def test_linear_flops_are_analytic(widths, batch):
    model = linear_chain(widths)
    stages = profiles.stage_profiles(model, torch.randn(batch, widths[0]))
    expected = [2 * a * b * batch for a, b in zip(widths[:-1], widths[1:], strict=True)] + [0]
    assert [s.flops for s in stages] == expected
    assert [s.output_elements for s in stages] == [w * batch for w in widths[1:]] + [widths[-1] * batch]


@settings(max_examples=20, deadline=None)
@given(widths=widths_strategy, bits=st.integers(1, 32))
def test_split_profiles_partition_the_model(widths, bits):
    model = linear_chain(widths)
    rows = profiles.profile_model(model, one_sample(widths), bits_per_element=bits)
    total = sum(2 * a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    all_params = sum(w.numel() for w in model.all_weights().values())
    assert [r.split for r in rows] == list(range(model.num_blocks + 1))
    for r in rows:
        assert r.flops_device + r.flops_server == total
        assert r.params_device + r.params_server == all_params
        names_d, names_s = set(model.device_weights(r.split)), set(model.server_weights(r.split))
        assert not names_d & names_s and names_d | names_s == set(model.all_weights())
        assert r.scale_device > 0 and r.scale_server > 0
    first, last = rows[0], rows[-1]
    assert first.flops_device == 0 and first.params_device == 0
    assert first.feature_bits == 8 * widths[0]  # raw input bits, not bits_per_element
    assert last.flops_server == 0 and last.params_server == 0 and last.feature_bits == 0
    # Split s (1..L-1) sends the output of block s: widths[s + 1] elements.
    for r in rows[1:-1]:
        assert r.feature_bits == widths[r.split + 1] * bits
    # Device FLOPs grow with the split; the device at split s runs layers 0..s.
    for r in rows[1:-1]:
        pairs = zip(widths[: r.split + 2], widths[1 : r.split + 2], strict=False)
        assert r.flops_device == sum(2 * a * b for a, b in pairs)


def test_scales_share_the_whole_models_centre_and_empty_side_borrows():
    widths = [6, 9, 7, 5]
    model = linear_chain(widths, seed=3)
    rows = profiles.profile_model(model, one_sample(widths))
    w = [p.detach().flatten() for p in model.all_weights().values()]
    centre = torch.cat(w).median()
    # Split 1: device = stem + block b0 (layers 0, 1), server = layer 2; both around the whole model's median.
    assert rows[1].scale_device == pytest.approx(float((torch.cat(w[:2]) - centre).abs().mean()))
    assert rows[1].scale_server == pytest.approx(float((w[2] - centre).abs().mean()))
    assert rows[1].scale_device != pytest.approx(rows[1].scale_server)
    # Per-side medians would differ: the common centre is a choice, not a coincidence.
    assert laplace_scale(w[2]) != pytest.approx(rows[1].scale_server, rel=1e-9)
    whole = laplace_scale(torch.cat(w))
    assert rows[0].scale_device == rows[0].scale_server == pytest.approx(whole)
    assert rows[-1].scale_device == rows[-1].scale_server == pytest.approx(whole)


@settings(max_examples=40, deadline=None)
@given(widths=widths_strategy, seed=st.integers(0, 2**16), ties=st.booleans())
def test_stage_scales_equal_laplace_scale_of_the_concatenation(widths, seed, ties):
    model = linear_chain(widths, seed=seed)
    if ties:  # few distinct values: the median sits in a run of equal weights
        with torch.no_grad():
            for w in model.all_weights().values():
                w.copy_(torch.round(w * 4))
    scales = profiles.StageScales(model)
    stages = model.stages()
    weights = [list(prunable_weights(stage).values()) for stage in stages]
    for low in range(len(stages)):
        for high in range(low + 1, len(stages) + 1):
            flat = [w.detach().flatten() for ws in weights[low:high] for w in ws]
            expected = laplace_scale(torch.cat(flat)) if flat else None
            got = scales.scale(range(low, high))
            if expected is None:
                assert got is None
            else:
                assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
                assert scales.median(range(low, high)) == float(torch.cat(flat).double().median())


def test_profile_split_and_frame_agree_with_profile_model():
    widths = [5, 8, 8, 3]
    model = linear_chain(widths)
    rows = profiles.profile_model(model, one_sample(widths))
    assert profiles.profile_split(model, one_sample(widths), "b0") == rows[1]
    frame = profiles.profile_frame(model, one_sample(widths))
    assert list(frame.columns) == list(profiles.COLUMNS)
    assert frame["weights"].unique().tolist() == ["user"]  # not the zoo's: never called pretrained
    assert frame["seq_len"].isna().all()
    assert frame["flops_device"].tolist() == [r.flops_device for r in rows]


def test_bad_inputs_are_parameter_errors():
    widths = [4, 4, 4]
    model = linear_chain(widths)
    with pytest.raises(ParameterError, match="batch.size"):
        profiles.profile_model(model, Batch(torch.zeros(2, 4), 2, 32))
    with pytest.raises(ParameterError, match="bits_per_element"):
        profiles.profile_model(model, one_sample(widths), bits_per_element=0)


def test_meta_chain_profiles_without_weights():
    widths = [4096, 4096, 4096, 4096]  # 50 M parameters: would be 200 MB if allocated
    model = linear_chain(widths, device="meta")
    assert profiles.is_meta(model)
    with pytest.raises(ParameterError, match="assumed_scale"):
        profiles.profile_model(model, one_sample(widths, "meta"))
    frame = profiles.profile_frame(model, one_sample(widths, "meta"), seq_len=1, assumed_scale=0.02)
    assert (frame["flops_device"] + frame["flops_server"] == 3 * 2 * 4096**2).all()
    assert (frame[["scale_device", "scale_server"]] == 0.02).all().all()
    assert frame["weights"].unique().tolist() == ["meta"]


def test_zoo_meta_model_profiles_without_weights():
    from coinfer.nets import meta

    seq_len = 16
    model = meta.build_meta_model("llama_7b", seq_len)
    assert profiles.is_meta(model)
    frame = profiles.profile_frame(model, meta.meta_inputs("llama_7b", seq_len, 1), seq_len=seq_len, assumed_scale=0.02)
    total = frame["flops_device"] + frame["flops_server"]
    params = frame["params_device"] + frame["params_server"]
    assert total.nunique() == 1 and params.nunique() == 1
    # Every prunable matrix multiplies each token once: at least 2 N FLOPs per token (model.md section 6 sanity).
    assert total.iloc[0] >= 2 * params.iloc[0] * seq_len * 0.9
    assert 6e9 < params.iloc[0] < 8e9


def test_full_resource_costs_and_reference_budgets():
    from coinfer.model import system

    widths = [64, 128, 64, 10]
    frame = profiles.profile_frame(linear_chain(widths), one_sample(widths))
    costs = profiles.full_resource_costs(frame, distance=300.0, **system.PAPER_MODEL)  # the paper's closed forms
    d = system.DEFAULTS
    gain = system.channel_gain(300.0)
    rate = (
        d["bandwidth"]
        * torch.log2(
            torch.tensor(1 + d["p_max"] * gain / (d["noise_psd"] * d["bandwidth"]), dtype=torch.float64)
        ).item()
    )
    assert costs["t_device"].tolist() == pytest.approx(
        (frame["flops_device"] / (d["flops_per_cycle_device"] * d["f_device_max"])).tolist(), rel=1e-9
    )
    assert costs["t_server"].tolist() == pytest.approx(
        (frame["flops_server"] / (d["flops_per_cycle_server"] * d["f_server_max"])).tolist(), rel=1e-9
    )
    assert costs["t_tx"].tolist() == pytest.approx((frame["feature_bits"] / rate).tolist(), rel=1e-9)
    cycles_d = frame["flops_device"] / d["flops_per_cycle_device"]
    assert costs["energy_device"].tolist() == pytest.approx(
        (d["pue_device"] * d["psi_device"] * cycles_d * d["f_device_max"] ** 2).tolist(), rel=1e-9
    )
    problems = system.problems_for_splits(frame, latency_budget=1.0, energy_budget=1.0, distance=300.0)
    physical = profiles.full_resource_costs(frame, distance=300.0)
    t_ref, e_ref = system.reference_budgets(problems)
    assert t_ref == physical["latency"].min() and e_ref == physical["energy"].min()  # the same arithmetic, to the bit
    assert (t_ref, e_ref) == system.reference_budgets([p.replace(latency_budget=9.0) for p in problems])
    for found in (costs, physical):
        assert found["latency"].tolist() == pytest.approx(
            (found["t_device"] + found["t_tx"] + found["t_server"]).tolist()
        )
    # model.md 2.7: a side's time is the longer of computing and reading its weights; the upload waits for access
    weights_read = d["bits_per_weight"] * frame["params_device"] / d["memory_bandwidth_device"]
    compute = frame["flops_device"] / (d["flops_per_cycle_device"] * d["f_device_max"])
    assert physical["t_device"].tolist() == pytest.approx(
        [max(c, m) if c > 0 else 0.0 for c, m in zip(compute, weights_read, strict=True)], rel=1e-9
    )
    sent = frame["feature_bits"] > 0
    assert physical["t_tx"][sent].tolist() == pytest.approx(
        (frame["feature_bits"][sent] / rate + d["access_latency"]).tolist(), rel=1e-9
    )


@settings(max_examples=30, deadline=None)
@given(widths=widths_strategy, seed=st.integers(0, 2**16))
def test_unpruned_total_distortion_does_not_depend_on_the_split(widths, seed):
    model = linear_chain(widths, seed=seed)
    rows = profiles.profile_model(model, one_sample(widths))
    totals = [r.params_device * r.scale_device + r.params_server * r.scale_server for r in rows]
    assert max(totals) == pytest.approx(min(totals), rel=1e-12)


def test_fixed_flops_are_the_activation_products():
    assert profiles.is_fixed_op(torch.ops.aten.bmm) and profiles.is_fixed_op(torch.ops.aten.baddbmm)
    assert profiles.is_fixed_op(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu)
    assert not profiles.is_fixed_op(torch.ops.aten.addmm) and not profiles.is_fixed_op(torch.ops.aten.convolution)
    widths = [6, 9, 7, 5]
    rows = profiles.profile_model(linear_chain(widths, seed=0), one_sample(widths))
    assert all(r.flops_device_fixed == r.flops_server_fixed == 0 for r in rows)


def test_committed_profiles_have_a_split_independent_unpruned_objective():
    table = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    for model, rows in table.groupby("model"):
        totals = rows["params_device"] * rows["scale_device"] + rows["params_server"] * rows["scale_server"]
        # to rounding: profiles.csv keeps 9 significant digits (per-side centres moved it by ~1e-3)
        assert totals.max() == pytest.approx(totals.min(), rel=2e-8), model
        fixed = rows["flops_device_fixed"] + rows["flops_server_fixed"]
        assert (fixed == fixed.iloc[0]).all(), model
        if model.startswith(("digits", "efficientnet")):
            assert (fixed == 0).all(), model
        if model in ("minilm", "bert_large", "gpt2_xl", "llama_7b"):
            assert (fixed > 0).all(), model


def test_feature_bits_change_only_at_intermediate_splits():
    table = pd.DataFrame(
        {"split": [0, 1, 2, 3], "num_blocks": 3, "feature_bits": [800, 1600, 320, 0], "bits_per_element": 16}
    )
    eight = profiles.with_feature_bits(table, 8)
    assert eight["feature_bits"].tolist() == [800, 800, 160, 0]
    assert (eight["bits_per_element"] == 8).all() and table["feature_bits"].tolist() == [800, 1600, 320, 0]


def test_compressed_features_take_the_fewest_bits_within_the_distortion_limit():
    table = pd.DataFrame(
        {
            "model": "m",
            "split": [0, 1, 2, 3],
            "num_blocks": 3,
            "feature_bits": [800, 1600, 320, 0],
            "bits_per_element": 16,
        }
    )
    measured = pd.DataFrame(
        {
            "model": "m",
            "split": [1, 1, 1, 2, 2, 2],
            "bits_per_element": [16, 8, 4] * 2,
            "distortion_mean": [1e-4, 5e-3, 0.1, 1e-4, 0.02, 0.3],
        }
    )
    out = profiles.with_compressed_features(table, measured, 0.01)
    assert out["feature_bits"].tolist() == [800, 800, 320, 0]
    assert out["bits_per_element"].tolist() == [16, 8, 16, 16]
    assert profiles.with_compressed_features(table, measured, 0.5)["feature_bits"].tolist() == [800, 400, 80, 0]


def test_own_model_profiles_from_a_plain_tensor_and_makes_a_problem():
    # issue 26.4: a user's model, profiled from a plain tensor, then one split's problem solved
    from coinfer.model.system import problem_from_profile, problems_for_splits
    from coinfer.optimise import solve

    widths = [6, 10, 10, 4]
    model = linear_chain(widths)
    frame = profiles.profile_frame(model, torch.randn(1, widths[0]))
    batch_frame = profiles.profile_frame(model, one_sample(widths))
    assert frame.drop(columns="feature_bits").equals(batch_frame.drop(columns="feature_bits"))
    assert frame["feature_bits"].iloc[0] == widths[0] * split.PIXEL_BITS  # raw input: 8 bits per element
    problem = problem_from_profile(frame.iloc[1], latency_budget=0.015, energy_budget=0.01)
    assert problem == problems_for_splits(frame, latency_budget=0.015, energy_budget=0.01)[1]
    assert solve(problem).status == "optimal"
    with pytest.raises(ParameterError, match="row: column 'feature_bits' missing"):
        problem_from_profile(frame.iloc[1].drop("feature_bits"), latency_budget=0.015, energy_budget=0.01)


def test_as_batch_reads_tensors_and_tokenised_batches():
    ids = torch.tensor([[101, 7, 8, 102]])
    batch = split.as_batch({"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    assert batch.size == 1 and batch.input_bits == 4 * split.TOKEN_BITS and batch.inputs[0] is ids
    assert split.as_batch(ids).input_bits == 4 * split.TOKEN_BITS  # integer tensor: token ids
    assert split.as_batch(torch.zeros(3, 1, 28, 28)).size == 3
    assert split.as_batch(torch.zeros(1, 5), input_bits=40).input_bits == 40
    with pytest.raises(ParameterError, match="inputs: got list"):
        split.as_batch([1, 2])
    with pytest.raises(ParameterError, match="input_bits"):
        split.as_batch(torch.zeros(1, 5), input_bits=0)
    with pytest.raises(ParameterError, match="batch.size: got 2; allowed 1"):
        profiles.profile_frame(linear_chain([3, 3, 3]), torch.zeros(2, 3))


def test_zoo_models_are_labelled_pretrained():
    from coinfer.nets import zoo

    frame = profiles.profile_frame(zoo.load_model("digits_mlp"), zoo.model_inputs("digits_mlp", "calibration", 1))
    assert frame["weights"].unique().tolist() == ["pretrained"]
