"""Model-level magnitude pruning (model.md sections 2, 4): exact counts, sides, no mutation, sweeps, quantisation."""

from __future__ import annotations

import copy

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from coinfer.base.validation import ParameterError
from coinfer.model.pruning import MagnitudeSweep, apply_masks, magnitude_masks, prune_count, prune_tensor, prune_weights
from coinfer.nets.split import SplitModel, model_masks, part_weights, prune_model, with_weights
from coinfer.nets.zoo import digits_mlp

RATIOS = (0.0, 0.013, 0.1, 0.37, 0.5, 0.9, 0.99, 1.0)


def _state(model: SplitModel) -> dict[str, torch.Tensor]:
    """Every parameter and buffer of every stage, cloned."""
    state = {}
    for i, stage in enumerate(model.stages()):
        for key, value in stage.state_dict().items():
            state[f"{i}.{key}"] = value.detach().clone()
    return state


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def mlp() -> SplitModel:
    """The digits MLP (briefly trained) as a split model: 3 blocks, L = 3."""
    net, _ = digits_mlp(seed=0, epochs=15)
    layers = list(net)
    return SplitModel(
        name="digits_mlp_test",
        stem=nn.Identity(),
        blocks=[nn.Sequential(*layers[0:2]), nn.Sequential(*layers[2:4]), layers[4]],
        block_names=["fc1", "fc2", "fc3"],
        head=nn.Identity(),
    )


@pytest.fixture(scope="module")
def cnn() -> SplitModel:
    """A small random conv net with a layer of much smaller weights, so global and per-layer pruning differ."""
    torch.manual_seed(1)
    conv1, conv2, fc = nn.Conv2d(1, 4, 3), nn.Conv2d(4, 6, 3), nn.Linear(6 * 4 * 4, 10)
    with torch.no_grad():
        conv2.weight.mul_(0.05)
    return SplitModel(
        name="cnn_test",
        stem=nn.Sequential(conv1, nn.ReLU()),
        blocks=[nn.Sequential(conv2, nn.ReLU()), nn.Sequential(nn.Flatten(), fc)],
        block_names=["conv2", "fc"],
        head=nn.Identity(),
    )


def _zeros(weights: dict[str, torch.Tensor]) -> int:
    return sum(int((w == 0).sum()) for w in weights.values())


@pytest.mark.parametrize("part", ["device", "server", "all"])
@pytest.mark.parametrize("scope", ["global", "layer"])
def test_pruned_counts_are_exact_per_part(mlp: SplitModel, part: str, scope: str) -> None:
    for split in range(mlp.num_blocks + 1):
        original = part_weights(mlp, part, split)
        assert _zeros(original) == 0  # so every zero below was made by pruning
        n_part = sum(w.numel() for w in original.values())
        for ratio in RATIOS:
            pruned_model = prune_model(mlp, ratio, part=part, split=split, scope=scope)
            pruned = part_weights(pruned_model, part, split)
            if scope == "global":
                expected = prune_count(n_part, ratio)
            else:
                expected = sum(prune_count(w.numel(), ratio) for w in original.values())
            assert _zeros(pruned) == expected, (part, split, ratio)


def test_device_and_server_pruning_touch_only_their_side(mlp: SplitModel) -> None:
    before = [_state_of(stage) for stage in mlp.stages()]
    for split in range(mlp.num_blocks + 1):
        n_device = len(mlp.device_stages(split))
        for part in ("device", "server"):
            pruned = prune_model(mlp, 0.5, part=part, split=split)
            for i, stage in enumerate(pruned.stages()):
                on_device = i < n_device
                untouched = on_device != (part == "device")
                state = _state_of(stage)
                if untouched or not any(k.endswith("weight") for k in state):
                    assert _same(state, before[i]), (part, split, i)
                else:  # a pruned side: prunable weights changed, biases kept exactly
                    assert not _same(state, before[i]), (part, split, i)
                    for key, value in state.items():
                        if key.endswith("bias"):
                            assert torch.equal(value, before[i][key])


def _state_of(stage: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in stage.state_dict().items()}


def test_pruning_and_masks_leave_the_model_untouched(mlp: SplitModel, cnn: SplitModel) -> None:
    for model in (mlp, cnn):
        before = _state(model)
        live = model.all_weights()
        ids = {name: w.data_ptr() for name, w in live.items()}
        for part, split in (("all", None), ("device", 1), ("server", 1)):
            prune_model(model, 0.7, part=part, split=split, bits=4)
            model_masks(model, 0.7, part=part, split=split)
            weights = part_weights(model, part, split)
            prune_weights(weights, 0.7, scope="layer", bits=3)
            sweep = MagnitudeSweep(weights)
            sweep.pruned(0.4, bits=2)
            with_weights(model, sweep.pruned(0.9))
        assert _same(before, _state(model))
        assert {name: w.data_ptr() for name, w in model.all_weights().items()} == ids


def test_with_weights_copies_and_replaces(mlp: SplitModel) -> None:
    weights = part_weights(mlp, "all")
    zeros = {name: torch.zeros_like(w) for name, w in weights.items()}
    copy_ = with_weights(mlp, zeros)
    assert _zeros(part_weights(copy_, "all")) == sum(w.numel() for w in weights.values())
    assert _zeros(part_weights(mlp, "all")) == 0
    x = torch.rand(5, 64)
    assert not torch.equal(copy_.forward(x), mlp.forward(x))
    with pytest.raises(ParameterError):
        with_weights(mlp, {"nope.weight": torch.zeros(1)})
    name = next(iter(weights))
    with pytest.raises(ParameterError):
        with_weights(mlp, {name: torch.zeros(3)})


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("bits", [None, 3, 16])
def test_sweep_equals_pruning_from_scratch(mlp: SplitModel, cnn: SplitModel, scope: str, bits: int | None) -> None:
    grid = np.linspace(0.0, 1.0, 41)
    for model in (mlp, cnn):
        for part, split in (("all", None), ("device", 1), ("server", 2)):
            weights = part_weights(model, part, split)
            sweep = MagnitudeSweep(weights, scope=scope)
            for ratio, swept in sweep.sweep(grid, bits=bits):
                scratch = prune_weights(weights, ratio, scope=scope, bits=bits)
                assert _same(swept, scratch), (model.name, part, ratio)


def test_sweep_with_ties_matches_scratch() -> None:
    """Equal magnitudes (including +-w) across layers: both paths break ties by position."""
    weights = {"a": torch.tensor([[1.0, -1.0], [0.5, 2.0]]), "b": torch.tensor([-0.5, 1.0, 1.0, -2.0, 0.5])}
    sweep = MagnitudeSweep(weights)
    for ratio in np.linspace(0, 1, 19):
        assert _same(sweep.masks(ratio), magnitude_masks(weights, ratio))
    # 4 of 9 pruned: the three 0.5 magnitudes, then the first 1.0 in concatenation order (a[0, 0])
    masks = sweep.masks(4 / 9)
    assert masks["a"].tolist() == [[False, True], [False, True]]
    assert masks["b"].tolist() == [False, True, True, True, False]


def test_global_scope_uses_one_threshold_and_layer_scope_does_not(cnn: SplitModel) -> None:
    weights = part_weights(cnn, "all")
    masks = magnitude_masks(weights, 0.5, scope="global")
    kept = torch.cat([w.abs()[masks[n]] for n, w in weights.items()])
    pruned = torch.cat([w.abs()[~masks[n]] for n, w in weights.items()])
    assert pruned.max() <= kept.min()
    # conv2 was scaled down: one threshold prunes it far more than 50 %
    frac_conv2 = 1 - masks[next(n for n in weights if n.startswith("conv2"))].float().mean()
    assert frac_conv2 > 0.9
    layer = magnitude_masks(weights, 0.5, scope="layer")
    for name, w in weights.items():
        assert int((~layer[name]).sum()) == prune_count(w.numel(), 0.5)


@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_quantised_kept_weights_take_at_most_2q_values_and_zeros_stay(cnn: SplitModel, bits: int) -> None:
    weights = part_weights(cnn, "all")
    for scope in ("global", "layer"):
        for ratio in (0.0, 0.3, 0.8):
            masks = magnitude_masks(weights, ratio, scope=scope)
            pruned = prune_weights(weights, ratio, scope=scope, bits=bits)
            for name, w in pruned.items():
                keep = masks[name]
                assert torch.all(w[~keep] == 0)
                assert torch.all(w[keep] != 0)  # mid-rise levels never hit 0
                assert torch.unique(w[keep]).numel() <= 2**bits
                # per-layer range: error at most half a step of this layer's kept range
                if keep.any():
                    top = float(weights[name][keep].abs().max())
                    step = 2 * top / 2**bits
                    # float32 rounding of the midpoints: a few ulps of the range
                    assert float((w[keep] - weights[name][keep]).abs().max()) <= step / 2 + 1e-6 * top
    # at 8 bits a conv layer with > 256 kept weights really is quantised
    dense = prune_weights(weights, 0.0, bits=2)
    assert all(torch.unique(w).numel() <= 4 for w in dense.values())
    assert any(torch.unique(w).numel() < torch.unique(weights[n]).numel() for n, w in dense.items())


def test_single_tensor_matches_prune_tensor() -> None:
    w = torch.randn(7, 9, generator=torch.Generator().manual_seed(3))
    for ratio in (0.0, 0.2, 0.77, 1.0):
        for bits in (None, 4):
            assert torch.equal(prune_weights({"w": w}, ratio, bits=bits)["w"], prune_tensor(w, ratio, bits))


@settings(max_examples=60, deadline=None)
@given(
    a=hnp.arrays(np.float32, st.integers(1, 30), elements=st.floats(-4, 4, width=32)),
    b=hnp.arrays(np.float32, st.integers(1, 30), elements=st.floats(-4, 4, width=32)),
    ratio=st.floats(0, 1),
    scope=st.sampled_from(["global", "layer"]),
)
def test_property_sweep_equals_scratch_and_count(a: np.ndarray, b: np.ndarray, ratio: float, scope: str) -> None:
    weights = {"a": torch.from_numpy(a), "b": torch.from_numpy(b)}
    masks = magnitude_masks(weights, ratio, scope=scope)
    assert _same(MagnitudeSweep(weights, scope=scope).masks(ratio), masks)
    pruned = sum(int((~m).sum()) for m in masks.values())
    if scope == "global":
        assert pruned == prune_count(a.size + b.size, ratio)
        kept = np.concatenate([np.abs(w.numpy())[masks[n].numpy()] for n, w in weights.items()])
        gone = np.concatenate([np.abs(w.numpy())[~masks[n].numpy()] for n, w in weights.items()])
        if kept.size and gone.size:
            assert gone.max() <= kept.min()
    else:
        assert pruned == prune_count(a.size, ratio) + prune_count(b.size, ratio)
    out = apply_masks(weights, masks)
    for name in weights:
        assert torch.equal(out[name][masks[name]], weights[name][masks[name]])


def test_bad_inputs_raise_parameter_errors(mlp: SplitModel) -> None:
    weights = part_weights(mlp, "all")
    for bad in (-0.1, 1.5, float("nan"), "0.5"):
        with pytest.raises(ParameterError, match="ratio"):
            prune_weights(weights, bad)
    with pytest.raises(ParameterError, match="scope"):
        prune_weights(weights, 0.5, scope="row")
    with pytest.raises(ParameterError, match="bits"):
        prune_weights(weights, 0.5, bits=0)
    with pytest.raises(ParameterError, match="part"):
        prune_model(mlp, 0.5, part="edge", split=1)
    with pytest.raises(ParameterError, match="split"):
        prune_model(mlp, 0.5, part="device")
    with pytest.raises(ParameterError, match="split"):
        prune_model(mlp, 0.5, part="server", split=99)


def test_empty_part_is_a_no_op(mlp: SplitModel) -> None:
    assert part_weights(mlp, "device", 0) == {}
    assert part_weights(mlp, "server", mlp.num_blocks) == {}
    pruned = prune_model(mlp, 0.9, part="device", split=0)
    assert _same(_state(pruned), _state(mlp))
    assert MagnitudeSweep({}).pruned(0.5) == {}
    assert copy.deepcopy(pruned) is not pruned


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("bits", [None, 2, 8, 16])
def test_sweep_distortion_curve_equals_pruned_copies(
    cnn: SplitModel, mlp: SplitModel, scope: str, bits: int | None
) -> None:
    grid = [0.0, 0.004, 0.1, 0.5, 0.93, 0.999, 1.0]
    for model in (cnn, mlp):
        weights = part_weights(model, "all")
        n = sum(w.numel() for w in weights.values())
        sweep = MagnitudeSweep(weights, scope=scope)
        curve = sweep.distortion(grid, bits=bits)
        for ratio, value in zip(grid, curve, strict=True):
            pruned = sweep.pruned(ratio, bits=bits)
            direct = sum(float((weights[k].double() - pruned[k].double()).abs().sum()) for k in weights) / n
            # the curve uses float64 quantisation errors; the copies hold float32 levels
            assert value == pytest.approx(direct, rel=1e-5, abs=1e-9), (model.name, ratio)
    assert curve[-1] == pytest.approx(sum(float(w.double().abs().sum()) for w in weights.values()) / n, rel=1e-9)


# --------------------------------------------------------------------------- experiment helpers (notebooks 03, 04)
def _digits_batches(n_cal: int = 12, n_held: int = 20):
    from coinfer.nets.split import Batch

    gen = torch.Generator().manual_seed(5)
    make = lambda n: Batch(torch.rand(n, 64, generator=gen), n, torch.randint(0, 10, (n,), generator=gen), 512, "test")  # noqa: E731
    return {"calibration": make(n_cal), "heldout": make(n_held)}


def test_output_sweep_matches_pruned_models(mlp: SplitModel) -> None:
    from coinfer.model.bounds import output_distortion, parameter_distortion
    from coinfer.studies.pruning_distortion import output_sweep

    before = _state(mlp)
    batches = _digits_batches()
    configs = [("all", None), ("device", 1), ("server", 1), ("server", 2)]
    ratios = [0.0, 0.4, 0.9]
    samples, summary = output_sweep("digits_mlp", mlp, configs, ratios, batches, progress=False)
    assert _same(before, _state(mlp))
    assert len(summary) == len(configs) * len(ratios) * 2
    for (part, split), ratio in [(c, r) for c in configs for r in ratios]:
        pruned = prune_model(mlp, ratio, part=part, split=split)
        for subset, batch in batches.items():
            expected = output_distortion(mlp.forward(batch.inputs), pruned.forward(batch.inputs)).numpy()
            rows = samples[
                (samples["part"] == part)
                & (samples["ratio"] == ratio)
                & (samples["subset"] == subset)
                & (samples["split"].isna() if split is None else samples["split"] == split)
            ]
            np.testing.assert_allclose(rows["out_l1"].to_numpy(), expected, rtol=1e-5, atol=1e-6)
            param = parameter_distortion(part_weights(mlp, part, split), part_weights(pruned, part, split))
            np.testing.assert_allclose(rows["param_l1"].to_numpy(), param, rtol=1e-6)
            acc = float((pruned.forward(batch.inputs).argmax(-1) == batch.labels).float().mean())
            row = summary[
                (summary["part"] == part)
                & (summary["ratio"] == ratio)
                & (summary["subset"] == subset)
                & (summary["split"].isna() if split is None else summary["split"] == split)
            ]
            assert row["metric_value"].iloc[0] == pytest.approx(acc)
    assert (samples.loc[samples["ratio"] == 0, "out_l1"] == 0).all()


def test_first_order_check_holds_on_its_own_fit_set(mlp: SplitModel) -> None:
    from coinfer.studies.pruning_distortion import first_order_check, output_sweep

    samples, _ = output_sweep(
        "digits_mlp", mlp, [("all", None), ("device", 1)], [0.0, 0.3, 0.7, 0.95], _digits_batches(), progress=False
    )
    own = first_order_check(samples, fit_subset="calibration", test_subset="calibration")
    assert (own["frac_holds"] == 1.0).all() and (own["ratio_max"] == 1.0).all()  # H(rho) is tight at every ratio
    pooled = first_order_check(samples, fit_subset="calibration", test_subset="calibration", H_mode="max_over_ratios")
    largest = own.groupby(["part", "split"], dropna=False)["H"].transform("max")
    assert (pooled["H"] == largest).all()  # the old reading: one H per part, the largest H(rho)
    held = first_order_check(samples)
    assert set(held["ratio"]) == {0.3, 0.7, 0.95} and (held["n_heldout"] == 20).all()
    assert ((held["frac_holds"] >= 0) & (held["frac_holds"] <= 1)).all()


def test_exact_bound_sweep_never_violated(mlp: SplitModel) -> None:
    from coinfer.studies.pruning_distortion import exact_bound_sweep

    x = torch.rand(30, 64, generator=torch.Generator().manual_seed(2))
    table = exact_bound_sweep(mlp, [("all", None), ("server", 1)], [0.0, 0.5, 0.99], x)
    assert (table["violations_operator"] == 0).all() and (table["violations_entrywise"] == 0).all()
    assert (table.loc[table["ratio"] > 0, "bound_operator_mean"] > 0).all()
    assert (table["bound_operator_mean"] <= table["bound_entrywise_mean"] * (1 + 1e-12)).all()


def test_parameter_distortion_curves_columns_and_bound(mlp: SplitModel) -> None:
    from coinfer.model.rate_distortion import distortion_lower_bound, laplace_scale
    from coinfer.studies.pruning_distortion import parameter_distortion_curves

    curves = parameter_distortion_curves(mlp, [("all", None)], [0.0, 0.2, 0.99], [8])
    assert set(curves["quantisation"]) == {"none", "q8"}
    b = laplace_scale(torch.cat([w.flatten() for w in part_weights(mlp, "all").values()]))
    q8 = curves[curves["quantisation"] == "q8"]
    np.testing.assert_allclose(q8["d_lb"], distortion_lower_bound(q8["ratio"], b, 8))
    assert (curves["lb_holds"] == (curves["measured"] >= curves["d_lb"])).all()


def test_holds_from_and_splits(mlp: SplitModel) -> None:
    import pandas as pd

    from coinfer.nets.split import interior_splits, part_configs
    from coinfer.studies.pruning_distortion import holds_from

    frame = pd.DataFrame(
        {"g": ["a"] * 4 + ["b"] * 3, "ratio": [0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3], "ok": [1, 0, 1, 1, 1, 1, 0]}
    )
    out = holds_from(frame, "ok", by=["g"]).set_index("g")
    assert out.loc["a", "holds_from"] == 0.3 and out.loc["a", "frac"] == 0.75
    assert np.isnan(out.loc["b", "holds_from"])
    assert interior_splits(mlp, [0.1, 0.5, 0.9]) == [1, 2]
    assert part_configs(mlp, [1]) == [("all", None), ("device", 1), ("server", 1)]


def test_concat_inputs() -> None:
    from coinfer.nets.inputs import concat_inputs

    a, b = torch.zeros(2, 3), torch.ones(4, 3)
    assert concat_inputs([a, b]).shape == (6, 3)
    joined = concat_inputs([(a, a.long()), (b, b.long())])
    assert isinstance(joined, tuple) and joined[1].dtype == torch.long and joined[0].shape == (6, 3)
    with pytest.raises(ParameterError):
        concat_inputs([{"x": a}])


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_restricted_sweep_equals_a_fresh_sweep_of_the_part(mlp: SplitModel, cnn: SplitModel, scope: str) -> None:
    from coinfer.nets.split import part_configs

    grid = [0.0, 0.003, 0.25, 0.5, 0.8, 1.0]
    tied = {
        "a": torch.tensor([1.0, -1.0, 0.5, 2.0]),
        "b": torch.tensor([-0.5, 1.0, 1.0]),
        "c": torch.tensor([0.5, -1.0]),
    }
    cases = [(tied, ["b", "c"]), (tied, ["a", "b"]), (tied, ["b"])]
    for model in (mlp, cnn):
        whole = part_weights(model, "all")
        cases += [(whole, list(part_weights(model, part, split))) for part, split in part_configs(model, [1, 2])]
    for weights, names in cases:
        parent = MagnitudeSweep(weights, scope=scope)
        parent.distortion([0.5], bits=4)  # cached errors must carry over correctly
        child = parent.restrict(names)
        fresh = MagnitudeSweep({n: weights[n] for n in names}, scope=scope)
        assert child.num_weights == fresh.num_weights
        for ratio in grid:
            assert _same(child.masks(ratio), fresh.masks(ratio)), (names, ratio)
        for bits in (None, 4, 8):
            np.testing.assert_allclose(child.distortion(grid, bits), fresh.distortion(grid, bits), rtol=1e-12)
    with pytest.raises(ParameterError):
        MagnitudeSweep(tied).restrict(["a", "c"])
    assert MagnitudeSweep(tied).restrict([]).masks(0.5) == {}
