"""Deploying a design on the real weights (model.md §9): exactness, counts, sort-once, no mutation, rounding, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from coinfer.base.validation import ParameterError
from coinfer.model import pruning
from coinfer.model.pruning import MagnitudeSweep, magnitude_masks, prune_count, quantize_uniform
from coinfer.nets import deploy as deploy_module
from coinfer.nets.deploy import deploy, measure, relative_distortion, round_feature
from coinfer.nets.metrics import accuracy, top1_agreement_metric
from coinfer.nets.profiles import profile_model
from coinfer.nets.split import PartSweeps, SplitModel, part_weights
from coinfer.nets.split import copy_model as copy_of
from coinfer.nets.zoo import load_model, model_inputs

DIGITS = ("digits_mlp", "digits_cnn")


def _state(model: SplitModel) -> dict[str, torch.Tensor]:
    """Every parameter and buffer of every stage, cloned."""
    return {
        f"{i}.{key}": value.detach().clone()
        for i, stage in enumerate(model.stages())
        for key, value in stage.state_dict().items()
    }


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _zeros(weights: dict[str, torch.Tensor]) -> int:
    return sum(int((w == 0).sum()) for w in weights.values())


@pytest.fixture(scope="module")
def digits() -> dict[str, tuple[SplitModel, object]]:
    """The zoo's digits MLP and CNN (trained deterministically in seconds) with 40 held-out inputs each."""
    return {name: (load_model(name), model_inputs(name, "heldout", 40, seed=1)) for name in DIGITS}


@pytest.fixture(scope="module")
def minilm() -> tuple[SplitModel, object]:
    """The real MiniLM-L6 encoder and 3 held-out sentences (padded to 128 tokens)."""
    return load_model("minilm"), model_inputs("minilm", "heldout", 3, seed=0)


# --------------------------------------------------------------------------- (a) exactness at rho = 0
@pytest.mark.parametrize("name", DIGITS)
def test_unpruned_unrounded_deployment_is_exact_at_every_split(digits, name: str) -> None:
    model, batch = digits[name]
    reference = model.forward(batch.inputs)
    sweeps = PartSweeps(model)
    for split in range(model.num_blocks + 1):
        design = deploy(model, split, 0.0, 0.0, bits=None, feature_bits=None, sweeps=sweeps)
        assert torch.equal(design.forward(batch.inputs), reference), f"{name} split {split}"
    by_name = deploy(model, model.split_names[1], 0.0, 0.0, bits=None, feature_bits=None)
    assert by_name.split == 1 and torch.equal(by_name.forward(batch.inputs), reference)


@pytest.mark.slow
def test_minilm_unpruned_unrounded_deployment_is_exact(minilm) -> None:
    model, batch = minilm
    reference = model.forward(batch.inputs)
    sweeps = PartSweeps(model)
    for split in (0, 3, model.num_blocks):
        design = deploy(model, split, 0.0, 0.0, bits=None, feature_bits=None, sweeps=sweeps)
        assert torch.equal(design.forward(batch.inputs), reference), f"split {split}"


# --------------------------------------------------------------------------- (b) counts and weights per side
@pytest.mark.parametrize("name", DIGITS)
@pytest.mark.parametrize(("rho_d", "rho_s", "bits"), [(0.3, 0.7, None), (0.55, 0.1, 8), (0.013, 0.9, 4)])
def test_pruned_counts_per_side_match_prune_count_and_profiles(digits, name, rho_d, rho_s, bits) -> None:
    model, batch = digits[name]
    profiles = profile_model(model, model_inputs(name, "heldout", 1))
    sweeps = PartSweeps(model)
    for split in range(model.num_blocks + 1):
        design = deploy(model, split, rho_d, rho_s, bits=bits, sweeps=sweeps)
        n_d, n_s = profiles[split].params_device, profiles[split].params_server
        assert design.pruned_counts() == (prune_count(n_d, rho_d), n_d, prune_count(n_s, rho_s), n_s)
        # the deployed copy really holds that many zeros per side (trained weights have none; kept ones stay non-zero)
        assert _zeros(part_weights(design.model, "device", split)) == prune_count(n_d, rho_d)
        assert _zeros(part_weights(design.model, "server", split)) == prune_count(n_s, rho_s)


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_side_sweeps_equal_sorting_each_side_from_scratch(digits, scope: str) -> None:
    """Restricting the whole model's order is each side's own order (ties included), for both scopes."""
    model, _ = digits["digits_cnn"]
    sweeps = PartSweeps(model, scope=scope)
    for split in range(model.num_blocks + 1):
        for side in ("device", "server"):
            weights = part_weights(model, side, split)
            cached = sweeps.sweep(split, side)
            for ratio in (0.0, 0.2, 0.5, 0.93):
                expected = magnitude_masks(weights, ratio, scope=scope)
                got = cached.masks(ratio)
                assert expected.keys() == got.keys()
                assert all(torch.equal(expected[k], got[k]) for k in expected), (split, side, ratio)


def test_global_scope_prunes_the_smallest_magnitudes_of_the_whole_side(digits) -> None:
    model, _ = digits["digits_mlp"]
    design = deploy(model, 2, 0.4, 0.0, bits=None)
    original = torch.cat([w.flatten() for w in part_weights(model, "device", 2).values()])
    kept = torch.cat([w.flatten() for w in part_weights(design.model, "device", 2).values()]) != 0
    assert original[~kept].abs().max() <= original[kept].abs().min()


def test_kept_weights_quantised_like_magnitude_sweep_pruned(digits) -> None:
    model, _ = digits["digits_mlp"]
    design = deploy(model, 1, 0.3, 0.6, bits=4)
    for side, rho in (("device", 0.3), ("server", 0.6)):
        expected = MagnitudeSweep(part_weights(model, side, 1)).pruned(rho, bits=4)
        got = part_weights(design.model, side, 1)
        assert all(torch.equal(expected[k], got[k]) for k in expected)
        for w in got.values():  # per-layer range: at most 2**4 distinct kept values per layer
            assert torch.unique(w[w != 0]).numel() <= 16


# --------------------------------------------------------------------------- sort once
def test_deploying_many_decisions_sorts_the_weights_once(digits, monkeypatch) -> None:
    model, batch = digits["digits_cnn"]
    calls = []
    original = pruning._ranks
    monkeypatch.setattr(
        pruning, "_ranks", lambda pieces: calls.append(sum(p.numel() for p in pieces)) or original(pieces)
    )
    sweeps = PartSweeps(model)
    outputs = {}
    for split in (1, 3):
        for rho_d, rho_s in ((0.1, 0.2), (0.5, 0.5), (0.8, 0.3)):
            outputs[split, rho_d] = deploy(model, split, rho_d, rho_s, sweeps=sweeps).forward(batch.inputs)
    assert calls == [model.info["prunable_parameters"]]  # one sort, of the whole model
    assert len(sweeps) == 4 and sweeps.sweep(1, "device") is sweeps.sweep(1, "device")
    monkeypatch.undo()
    fresh = deploy(model, 3, 0.5, 0.5).forward(batch.inputs)  # a fresh sort gives the same design
    assert torch.equal(fresh, outputs[3, 0.5])


def test_notebook_04_parts_come_from_the_same_cache(digits) -> None:
    """``part`` serves notebook 04's sweeps over parts: the whole model's order, and each side's derived from it."""
    model, _ = digits["digits_cnn"]
    sweeps = PartSweeps(model, max_entries=1)
    assert sweeps.part("all") is sweeps.whole()
    for side in ("device", "server"):
        sweep = sweeps.part(side, 2)
        fresh = MagnitudeSweep(part_weights(model, side, 2))
        assert list(sweep.weights) == list(fresh.weights)
        assert (sweep.distortion([0.2, 0.7], bits=8) == fresh.distortion([0.2, 0.7], bits=8)).all()
    assert len(sweeps) == 1
    with pytest.raises(ParameterError, match="^split: got None for part='device'"):
        sweeps.part("device")
    with pytest.raises(ParameterError, match="^part: "):
        sweeps.part("cloud", 1)


def test_sweep_cache_bound_drops_least_recently_used(digits) -> None:
    model, _ = digits["digits_mlp"]
    sweeps = PartSweeps(model, max_entries=2)
    first = sweeps.sweep(1, "device")
    sweeps.sweep(1, "server")
    sweeps.sweep(1, "device")  # touched: now the most recent
    sweeps.sweep(2, "device")
    assert len(sweeps) == 2 and sweeps.sweep(1, "device") is first
    sweeps.clear()
    assert len(sweeps) == 0


# --------------------------------------------------------------------------- (c) determinism, (d) no mutation
@pytest.mark.parametrize("name", DIGITS)
def test_two_deployments_give_identical_outputs(digits, name: str) -> None:
    model, batch = digits[name]
    a = deploy(model, 2, 0.35, 0.65, bits=8, feature_bits=8).forward(batch.inputs)
    b = deploy(model, 2, 0.35, 0.65, bits=8, feature_bits=8, sweeps=PartSweeps(model)).forward(batch.inputs)
    assert torch.equal(a, b)
    assert not torch.equal(a, model.forward(batch.inputs))  # the design did change something


@pytest.mark.parametrize("name", DIGITS)
def test_original_model_is_unchanged(digits, name: str) -> None:
    model, batch = digits[name]
    before = _state(model)
    reference = model.forward(batch.inputs)
    sweeps = PartSweeps(model)
    for split in range(model.num_blocks + 1):
        design = deploy(model, split, 0.9, 0.9, bits=2, feature_bits=4, sweeps=sweeps)
        design.forward(batch.inputs)
        assert _same(_state(model), before)
        assert design.model.stem is not model.stem
    assert torch.equal(model.forward(batch.inputs), reference)


# --------------------------------------------------------------------------- (e) feature rounding
def test_sixteen_bit_feature_changes_outputs_only_slightly(digits) -> None:
    model, batch = digits["digits_mlp"]
    reference = model.forward(batch.inputs)
    for split in range(1, model.num_blocks):
        fine, coarse = (
            measure(deploy(model, split, 0.0, 0.0, bits=None, feature_bits=b), reference, batch.inputs, batch.labels)
            for b in (16, 4)
        )
        assert 0 < fine["distortion"] < 1e-3, split
        assert coarse["distortion"] > fine["distortion"]


@pytest.mark.parametrize("name", DIGITS)
def test_raw_input_and_on_device_output_are_not_rounded(digits, name: str) -> None:
    """At s = 0 the raw input is sent at its own bits, exactly; at s = L nothing is sent."""
    model, batch = digits[name]
    reference = model.forward(batch.inputs)
    for split in (0, model.num_blocks):
        design = deploy(model, split, 0.0, 0.0, bits=None, feature_bits=4)
        assert not design.sends_feature()
        assert torch.equal(design.forward(batch.inputs), reference)


def test_token_ids_at_split_zero_are_untouched(minilm) -> None:
    model, batch = minilm
    design = deploy(model, 0, 0.0, 0.0, bits=None, feature_bits=4)
    sent = design.run_device(batch.inputs)
    assert sent is batch.inputs or all(torch.equal(a, b) for a, b in zip(sent, batch.inputs, strict=True))
    ids, tokens = batch.inputs
    rounded = round_feature((ids, tokens), 4)  # integer tensors are never rounded, even if asked
    assert rounded[0] is ids and rounded[1] is tokens


def test_transformer_state_rounds_only_the_hidden_states() -> None:
    torch.manual_seed(0)
    hidden, mask = torch.randn(2, 5, 8), torch.full((2, 1, 5, 5), torch.finfo(torch.float32).min)
    tokens = torch.ones(2, 5, dtype=torch.long)
    state = (hidden, mask, {}, tokens)
    rounded = round_feature(state, 16)
    assert isinstance(rounded, tuple) and len(rounded) == 4
    assert rounded[1] is mask and rounded[3] is tokens  # side information stays exact
    assert torch.equal(rounded[0], hidden.half().float()) and not torch.equal(rounded[0], hidden)
    assert torch.equal(round_feature(hidden, 32), hidden) and round_feature(hidden, None) is hidden


@pytest.mark.parametrize("bits", [4, 8])
def test_symmetric_quantiser_levels_error_zeros_and_per_sample_scale(bits: int) -> None:
    torch.manual_seed(bits)
    x = torch.relu(torch.randn(3, 200)) * torch.tensor([[1.0], [100.0], [0.0]])
    q = quantize_uniform(x, bits, zero_level=True, per_sample=True)
    levels = 2 ** (bits - 1) - 1
    for i in range(2):
        step = float(x[i].abs().max()) / levels
        assert float((q[i] - x[i]).abs().max()) <= step / 2 * (1 + 1e-6)
        assert torch.unique(q[i]).numel() <= 2 * levels + 1
        assert torch.equal(
            quantize_uniform(x[i : i + 1], bits, zero_level=True, per_sample=True), q[i : i + 1]
        )  # independent of the batch
    assert torch.equal(q[x == 0], torch.zeros(int((x == 0).sum())))
    assert torch.equal(q[2], x[2])


@pytest.mark.slow
def test_minilm_feature_rounding_and_pruning_are_measured(minilm) -> None:
    model, batch = minilm
    reference = model.forward(batch.inputs)
    sweeps = PartSweeps(model)
    fp16 = measure(deploy(model, 3, 0.0, 0.0, bits=None, feature_bits=16, sweeps=sweeps), reference, batch.inputs)
    assert fp16["metric"] == "cosine_similarity"
    assert 0 < fp16["distortion"] < 1e-2 and fp16["metric_value"] > 0.9999
    pruned = measure(deploy(model, 3, 0.5, 0.5, bits=8, feature_bits=8, sweeps=sweeps), reference, batch.inputs)
    assert pruned["distortion"] > fp16["distortion"] and pruned["metric_value"] < 1.0


# --------------------------------------------------------------------------- measure
def test_measure_reports_distortion_and_the_zoo_metric(digits) -> None:
    model, batch = digits["digits_mlp"]
    reference = model.forward(batch.inputs)
    exact = measure(deploy(model, 1, 0.0, 0.0, bits=None, feature_bits=None), reference, batch.inputs, batch.labels)
    assert exact["distortion"] == 0.0 and exact["distortion_pooled"] == 0.0 and exact["samples"] == batch.size
    assert exact["metric"] == "test_accuracy"
    assert exact["metric_value"] == pytest.approx(accuracy(model.forward, batch.inputs, batch.labels))
    design = deploy(model, 1, 0.6, 0.6, bits=4, feature_bits=4)
    result = measure(design, reference, batch.inputs, batch.labels)
    per_input = result["distortion_per_input"]
    assert isinstance(per_input, np.ndarray) and per_input.shape == (batch.size,)
    assert result["distortion"] == pytest.approx(per_input.mean()) and result["distortion"] > 0
    expected = (design.forward(batch.inputs) - reference).abs().sum(dim=1) / reference.abs().sum(dim=1)
    np.testing.assert_allclose(per_input, expected.double().numpy(), rtol=1e-5)
    agreement = measure(design, reference, batch.inputs, metric=top1_agreement_metric)
    assert agreement["metric"] == "top1_agreement" and 0 <= agreement["metric_value"] <= 1


def test_relative_distortion_zero_reference() -> None:
    ref = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    got = relative_distortion(ref, torch.tensor([[0.0, 0.0], [1.5, -1.0]]))
    assert got.tolist() == [0.0, 0.25]
    assert math.isinf(relative_distortion(ref, torch.tensor([[1.0, 0.0], [1.0, -1.0]]))[0])


# --------------------------------------------------------------------------- (f) bad input
@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"rho_device": -0.1}, "rho_device"),
        ({"rho_device": 1.0}, "rho_device"),
        ({"rho_server": float("nan")}, "rho_server"),
        ({"rho_server": "0.5"}, "rho_server"),
        ({"bits": 1}, "bits"),
        ({"bits": 33}, "bits"),
        ({"bits": 8.0}, "bits"),
        ({"bits": True}, "bits"),
        ({"feature_bits": 12}, "feature_bits"),
        ({"feature_bits": 0}, "feature_bits"),
        ({"split": "layer99"}, "split"),
        ({"split": 4}, "split"),
        ({"split": -1}, "split"),
        ({"split": 1.5}, "split"),
    ],
)
def test_bad_input_names_the_parameter(digits, kwargs: dict, parameter: str) -> None:
    model, _ = digits["digits_mlp"]
    arguments = {"split": 1, "rho_device": 0.2, "rho_server": 0.2, **kwargs}
    split, rho_d, rho_s = arguments.pop("split"), arguments.pop("rho_device"), arguments.pop("rho_server")
    with pytest.raises(ParameterError, match=rf"^{parameter}: got ") as error:
        deploy(model, split, rho_d, rho_s, **arguments)
    assert "\n" not in str(error.value)


def test_bad_sweeps_side_and_metric(digits) -> None:
    mlp, batch = digits["digits_mlp"]
    cnn, _ = digits["digits_cnn"]
    with pytest.raises(ParameterError, match="^sweeps: "):
        deploy(mlp, 1, 0.1, 0.1, sweeps=PartSweeps(cnn))
    with pytest.raises(ParameterError, match="^side: "):
        PartSweeps(mlp).sweep(1, "cloud")
    with pytest.raises(ParameterError, match="^scope: "):
        PartSweeps(mlp, scope="row")
    with pytest.raises(ParameterError, match="^labels: "):
        measure(deploy(mlp, 1, 0.1, 0.1), mlp.forward(batch.inputs), batch.inputs)
    toy = SplitModel("toy_outside_zoo", nn.Identity(), [nn.Linear(4, 3)], ["fc"], nn.Identity())
    with pytest.raises(ParameterError, match="^metric: "):
        measure(deploy(toy, 0, 0.0, 0.0), torch.zeros(2, 3), torch.ones(2, 4))


def test_module_is_listed_in_its_layer() -> None:
    import coinfer.nets

    assert "deployment" in (coinfer.nets.__doc__ or "") and coinfer.nets.deploy is deploy_module
    assert deploy_module.deploy is deploy


@pytest.mark.parametrize("name", DIGITS)
def test_measure_on_chunks_equals_measure_on_the_batch(digits, name: str) -> None:
    """Chunks of one batch (the size study's length-sorted chunks) measure what the whole batch measures."""
    model, batch = digits[name]
    design = deploy(model, 1, 0.5, 0.3, bits=8, feature_bits=16)
    whole = measure(design, model.forward(batch.inputs), batch.inputs, batch.labels)
    order = torch.tensor([*range(20, 40), *range(20)])  # chunks in another order than the batch's
    chunks = [batch.inputs[order[:15]], batch.inputs[order[15:]]]
    chunked = measure(design, [model.forward(c) for c in chunks], chunks, batch.labels[order])
    assert chunked["metric_value"] == whole["metric_value"] and chunked["samples"] == whole["samples"] == 40
    np.testing.assert_allclose(chunked["distortion_per_input"], whole["distortion_per_input"][order], rtol=1e-12)
    assert chunked["distortion"] == pytest.approx(whole["distortion"], rel=1e-12)


# --------------------------------------------------------------------------- the one loop of notebooks 07 and 08
@pytest.mark.parametrize("name", DIGITS)
def test_measure_decisions_equals_deploy_then_forward_exactly(digits, name: str) -> None:
    model, batch = digits[name]
    before = _state(model)
    chunks = [batch.inputs[:15], batch.inputs[15:]]
    last = model.num_blocks
    decisions = [
        (1, 16, 0.5, 0.3),
        (0, None, 0.0, 0.6),  # the raw input is sent: nothing rounded
        (1, 8, 0.5, 0.7),  # the same device part as the first at other bits: run again
        (last, 4, 0.9, 0.0),  # nothing is sent
        (1, 16, 0.5, 0.3000000001),  # the first decision again (same pruned counts)
        (1, 16, 0.2, 0.3),
    ]
    scored: list[torch.Tensor] = []

    def score(vectors: torch.Tensor) -> torch.Tensor:
        scored.append(vectors)
        return vectors

    found = deploy_module.measure_decisions(model, decisions, chunks, score, feature_bits=8)
    assert len(found) == len(decisions) and len(scored) == 5  # the repeated decision is scored once
    assert found[4] is found[0]
    for (split, bits, rho_d, rho_s), vectors in zip(decisions, found, strict=True):
        design = deploy(model, split, rho_d, rho_s, bits=bits, feature_bits=8)
        expected = torch.cat([design.forward(chunk).double() for chunk in chunks])
        assert vectors.dtype == torch.float64 and torch.equal(vectors, expected)
    assert not torch.equal(found[0], found[2]) and not torch.equal(found[0], found[5])
    assert _same(before, _state(model))  # the loaded model is never changed


def test_measure_decisions_runs_each_device_part_once(digits, monkeypatch) -> None:
    model, batch = digits["digits_mlp"]
    calls: list[int] = []
    original = SplitModel.run_device

    def counting(self, inputs, split):
        calls.append(split)
        return original(self, inputs, split)

    monkeypatch.setattr(SplitModel, "run_device", counting)
    decisions = [(1, 16, 0.5, rho_s) for rho_s in (0.1, 0.4, 0.8)] + [(1, 16, 0.6, 0.1), (2, 16, 0.5, 0.0)]
    found = deploy_module.measure_decisions(model, decisions, [batch.inputs], lambda v: float(v.sum()))
    assert len(set(found)) == 5 and calls == [1, 1, 2]  # one device run per (split, bits, device count)


def test_score_vectors_is_what_measure_reports(digits) -> None:
    model, batch = digits["digits_cnn"]
    design = deploy(model, 2, 0.6, 0.4, bits=8, feature_bits=8)
    reference = model.forward(batch.inputs)
    measured = measure(design, reference, batch.inputs, batch.labels)
    entry_metric = deploy_module.REGISTRY[model.name].metric
    vectors = design.forward(batch.inputs).double()
    scored = deploy_module.score_vectors(reference.double(), vectors, batch.labels, entry_metric)
    assert scored.keys() == measured.keys()
    assert all(np.array_equal(scored[k], measured[k]) for k in ("distortion_per_input", "metric_per_input"))
    assert scored["metric_value"] == measured["metric_value"] and scored["distortion"] == measured["distortion"]


def test_measure_decisions_rejects_bad_decisions_and_layer_sweeps(digits) -> None:
    model, batch = digits["digits_mlp"]
    with pytest.raises(ParameterError, match="rho_server"):
        deploy_module.measure_decisions(model, [(1, 16, 0.5, 1.0)], [batch.inputs], float)
    with pytest.raises(ParameterError, match="bits"):
        deploy_module.measure_decisions(model, [(1, 1, 0.5, 0.5)], [batch.inputs], float)
    with pytest.raises(ParameterError, match="sweeps"):
        deploy_module.measure_decisions(model, [], [batch.inputs], float, sweeps=PartSweeps(model, scope="layer"))


# --------------------------------------------------------------------------- one model copy (issue 23: memory)
def test_measure_decisions_prunes_the_model_itself_and_writes_its_weights_back(digits, monkeypatch) -> None:
    model, batch = digits["digits_cnn"]
    before = _state(model)
    decisions = [(1, 16, 0.5, 0.3), (2, None, 0.7, 0.1)]
    expected = deploy_module.measure_decisions(copy_of(model), decisions, [batch.inputs], lambda v: v)

    def no_copy(_model):
        raise AssertionError("measure_decisions copied the model")

    monkeypatch.setattr(deploy_module, "copy_model", no_copy)
    found = deploy_module.measure_decisions(model, decisions, [batch.inputs], lambda v: v)
    assert all(torch.equal(a, b) for a, b in zip(found, expected, strict=True))
    assert _same(before, _state(model))

    def failing(vectors: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("score failed")

    with pytest.raises(RuntimeError, match="score failed"):  # written back on the way out of an error too
        deploy_module.measure_decisions(model, decisions, [batch.inputs], failing)
    assert _same(before, _state(model))


def test_measure_decisions_copies_the_model_when_the_sweeps_are_older_than_its_weights(digits) -> None:
    model = copy_of(digits["digits_mlp"][0])
    batch = digits["digits_mlp"][1]
    sweeps = PartSweeps(model)
    sweeps.whole()  # sorted from the weights as they were
    with torch.no_grad():
        next(iter(model.all_weights().values())).mul_(2.0)
    changed = _state(model)
    found = deploy_module.measure_decisions(model, [(1, None, 0.0, 0.0)], [batch.inputs], lambda v: v, sweeps=sweeps)
    assert _same(changed, _state(model))  # not overwritten with the sweeps' older copy
    assert found[0].shape[0] == batch.inputs.shape[0]
