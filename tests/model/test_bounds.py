"""model.md section 3: output distortion bounded by parameter distortion (coinfer.model.bounds)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from coinfer.base.validation import ParameterError
from coinfer.model import bounds
from coinfer.model.pruning import MagnitudeSweep
from coinfer.nets import split
from coinfer.studies import distortion_bound


def _tiny_model() -> nn.Sequential:
    """Linear(2, 2) W1 = [[1, 2], [3, -1]], ReLU, Linear(2, 1) W2 = [[1, -1]], zero biases."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 2.0], [3.0, -1.0]]))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
        model[2].bias.zero_()
    return model.eval()


# --------------------------------------------------------------------------- hand-computed
def test_norms_hand_computed() -> None:
    model = _tiny_model()
    assert bounds.l1_operator_norm(model[0]) == 4.0  # column sums 1+3, 2+1
    assert bounds.l1_operator_norm(model[2]) == 1.0


def test_bound_hand_computed_and_tight() -> None:
    model = _tiny_model()
    pruned_w = {
        "0.weight": torch.tensor([[1.0, 0.0], [3.0, -1.0]], dtype=torch.float64),
        "2.weight": model[2].weight.detach().clone(),
    }
    x = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    # ||dW1|| = 2 (operator and entrywise), prod of later norms = 1, ||x||_1 = 2 and 1
    bound = bounds.layerwise_bound(model, pruned_w, x)
    assert bound.operator.tolist() == [4.0, 2.0]
    assert bound.entrywise.tolist() == [4.0, 2.0]
    assert bound.norms == [4.0, 1.0] and bound.delta_operator == [2.0, 0.0]
    # outputs: x1: 1 -> -1 (distortion 2); x2: 2 -> 0 (distortion 2, the bound is attained)
    rows = bounds.check_pair(model, pruned_w, x)
    assert rows.output_distortion.tolist() == [2.0, 2.0]
    assert rows.tightness_operator.tolist() == [0.5, 1.0]
    assert not rows.violated_operator.any()
    assert bounds.parameter_distortion(split.prunable_of(model), pruned_w) == 2.0


def test_module_and_mapping_forms_agree() -> None:
    model = _tiny_model()
    pruned_w = {"0.weight": torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)}
    pruned = distortion_bound.with_sequential_weights(model, pruned_w)
    x = torch.randn(5, 2, dtype=torch.float64)
    for form in bounds.FORMS:
        a = bounds.sequential_output_bound(model, pruned, x, form=form)
        b = bounds.sequential_output_bound(model, pruned_w, x, form=form)
        assert torch.equal(a, b)
    assert model[0].weight[0, 1] == 2.0  # the original is untouched


def test_first_order_constant() -> None:
    out = np.array([[1.0, 4.0], [2.0, 1.0]])
    param = np.array([2.0, 0.0])  # second column has param == 0: ignored
    assert bounds.fit_first_order_constant(out, param) == 1.0
    with pytest.raises(ParameterError):
        bounds.fit_first_order_constant([1.0], [0.0])


def test_output_distortion_per_sample() -> None:
    ref = torch.zeros(3, 2, 2)
    out = torch.ones(3, 2, 2)
    out[1] *= -2
    assert bounds.output_distortion(ref, out).tolist() == [4.0, 8.0, 4.0]
    with pytest.raises(ParameterError):
        bounds.output_distortion(ref, out[:2])


def test_parameter_distortion_rejects_mismatch() -> None:
    w = {"a": torch.ones(2)}
    with pytest.raises(ParameterError):
        bounds.parameter_distortion(w, {"b": torch.ones(2)})
    with pytest.raises(ParameterError):
        bounds.parameter_distortion(w, {"a": torch.ones(3)})


# --------------------------------------------------------------------------- property: never violated
@settings(max_examples=60)
@given(
    depth=st.integers(1, 6),
    width=st.integers(1, 24),
    scale=st.sampled_from([0.1, 0.5, 1.0, 2.0, 4.0]),
    ratio=st.floats(0.0, 0.99),
    seed=st.integers(0, 2**31),
    bias=st.booleans(),
    activation=st.sampled_from(["relu", "relu6", "tanh"]),
    magnitude=st.booleans(),
)
def test_bound_never_violated_on_random_mlps(depth, width, scale, ratio, seed, bias, activation, magnitude) -> None:
    rng = np.random.default_rng(seed)
    model = distortion_bound.random_network(
        rng,
        depth=depth,
        width=width,
        in_features=7,
        out_features=3,
        weight_scale=scale,
        bias=bias,
        activation=activation,
    )
    weights = split.prunable_of(model)
    pruned = (
        MagnitudeSweep(weights, scope="layer").pruned(ratio)
        if magnitude
        else distortion_bound.random_mask_weights(weights, ratio, rng)
    )
    # random inputs plus scaled basis vectors, which attain the bound of a single linear layer
    x = torch.cat([torch.from_numpy(rng.normal(0.0, 2.0, (4, 7))), 2.0 * torch.eye(7, dtype=torch.float64)])
    rows = bounds.check_pair(model, pruned, x)
    assert not rows.violated_operator.any() and not rows.violated_entrywise.any()
    assert (rows.bound_operator <= rows.bound_entrywise * (1 + 1e-12)).all()
    if depth == 1 and rows.bound_operator.max() > 0:
        assert rows.tightness_operator.max() == pytest.approx(1.0, rel=1e-12)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), ratio=st.floats(0.0, 0.99), scale=st.sampled_from([0.5, 1.0, 3.0]))
def test_bound_never_violated_on_random_cnns(seed, ratio, scale) -> None:
    rng = np.random.default_rng(seed)
    model = distortion_bound.random_cnn(rng, channels=3, size=5, weight_scale=scale, bias=True)
    weights = split.prunable_of(model)
    pruned = distortion_bound.random_mask_weights(weights, ratio, rng)
    x = torch.from_numpy(rng.normal(0.0, 1.0, (3, 2, 5, 5)))
    rows = bounds.check_pair(model, pruned, x)
    assert not rows.violated_operator.any() and not rows.violated_entrywise.any()


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31), factor=st.floats(-3.0, 3.0), layer=st.integers(0, 2))
def test_bound_holds_for_non_mask_changes(seed, factor, layer) -> None:
    """Scaled (e.g. quantised) weights and changed biases: the max-norm and bias terms keep the bound valid."""
    rng = np.random.default_rng(seed)
    model = distortion_bound.random_network(
        rng, depth=3, width=6, in_features=4, out_features=2, weight_scale=1.0, bias=True
    )
    modified = copy.deepcopy(model)
    with torch.no_grad():
        target = modified[2 * layer]
        target.weight.mul_(factor)
        target.bias.add_(torch.from_numpy(rng.normal(0.0, 1.0, target.bias.shape)))
    x = torch.from_numpy(rng.normal(0.0, 1.0, (5, 4)))
    rows = bounds.check_pair(model, modified, x)
    assert not rows.violated_operator.any() and not rows.violated_entrywise.any()


def test_a_wrong_bound_would_be_caught() -> None:
    """The check is sharp: the hand case attains the bound, so 1 % less would be flagged."""
    model = _tiny_model()
    pruned_w = {"0.weight": torch.tensor([[1.0, 0.0], [3.0, -1.0]], dtype=torch.float64)}
    x = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    rows = bounds.check_pair(model, pruned_w, x)
    assert bounds.bound_violated(rows.output_distortion, rows.bound_operator * 0.99).all()


# --------------------------------------------------------------------------- conv norm vs brute force
def _conv_matrix(conv: nn.Conv2d, shape: tuple[int, int, int]) -> torch.Tensor:
    """The conv (without bias) as a matrix [out elements, in elements], column j = conv(e_j)."""
    n = int(np.prod(shape))
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
    with torch.no_grad():
        out = nn.functional.conv2d(
            basis, conv.weight.double(), None, conv.stride, conv.padding, conv.dilation, conv.groups
        )
    return out.reshape(n, -1).T


@pytest.mark.parametrize(
    ("in_ch", "out_ch", "k", "stride", "padding", "dilation", "groups", "size", "exact"),
    [
        (2, 3, 3, 1, 1, 1, 1, 5, True),  # stride 1 with an interior pixel
        (2, 3, 3, 1, 0, 1, 1, 5, True),  # no padding, 5 >= 2 * 2 + 1
        (4, 4, 3, 1, 1, 2, 2, 9, True),  # dilation 2, groups 2
        (3, 3, 3, 1, 1, 1, 3, 4, True),  # depthwise
        (2, 3, 3, 2, 1, 1, 1, 6, False),  # stride 2: every pixel meets only some taps
        (2, 3, 3, 1, 0, 1, 1, 3, False),  # too small for an interior pixel
        (1, 2, (1, 3), 1, (0, 1), 1, 1, 4, True),  # non-square kernel
    ],
)
def test_conv_norm_against_brute_force(in_ch, out_ch, k, stride, padding, dilation, groups, size, exact) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(in_ch, out_ch, k, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=False)
    brute = float(_conv_matrix(conv, (in_ch, size, size)).abs().sum(dim=0).max())
    norm = bounds.l1_operator_norm(conv)
    assert norm >= brute * (1 - 1e-12)
    if exact:
        assert norm == pytest.approx(brute, rel=1e-12)
    else:
        assert norm > brute * (1 + 1e-6)


def test_conv_rejects_other_padding_modes() -> None:
    with pytest.raises(ParameterError):
        bounds.l1_operator_norm(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"))
    with pytest.raises(ParameterError):
        bounds.l1_operator_norm(nn.LayerNorm(3))


# --------------------------------------------------------------------------- BatchNorm folding
def _random_bn(bn: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    c = bn.num_features
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(c, generator=g))
        bn.running_var.copy_(torch.rand(c, generator=g) + 0.2)
        if bn.affine:
            bn.weight.copy_(torch.randn(c, generator=g))
            bn.bias.copy_(torch.randn(c, generator=g))
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_fold_batchnorm_conv(bias, affine) -> None:
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=bias).double().eval()
    bn = _random_bn(nn.BatchNorm2d(4, affine=affine).double(), 2)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        expected = bn(conv(x))
        got = bounds.fold_batchnorm(conv, bn)(x)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_fold_batchnorm_linear_and_standalone() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    _random_bn(model[1], 4)
    _random_bn(model[3], 5)
    model.eval()
    x = torch.randn(6, 5, dtype=torch.float64)
    layers = bounds.canonical_layers(model)
    assert [type(m).__name__ for m in layers] == ["Affine", "ReLU", "Affine", "Affine"]
    h = x
    for layer in layers:
        h = layer(h)
    torch.testing.assert_close(h, model(x).detach(), rtol=1e-12, atol=1e-12)
    folded = bounds.fold_batchnorm(model[0], model[1])
    torch.testing.assert_close(folded(x), model[1](model[0](x)).detach(), rtol=1e-12, atol=1e-12)


def test_rejects_unsupported_models() -> None:
    x = torch.randn(2, 3)
    with pytest.raises(ParameterError, match="GELU"):
        bounds.sequential_output_bound(
            nn.Sequential(nn.Linear(3, 3), nn.GELU()), nn.Sequential(nn.Linear(3, 3), nn.GELU()), x
        )
    with pytest.raises(ParameterError, match="Sequential"):
        bounds.canonical_layers(nn.Linear(3, 3))
    train_bn = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))  # training mode
    with pytest.raises(ParameterError, match="training"):
        bounds.canonical_layers(train_bn)
    with pytest.raises(ParameterError):
        bounds.canonical_layers(nn.Sequential(nn.Linear(3, 3)), {"9.weight": torch.zeros(3, 3)})


def test_check_rejects_a_model_its_canonical_form_misreads() -> None:
    """BatchNorm1d on [N, C, L] normalises dim 1, but a Linear's channels are the last dim: caught, not mis-bounded."""
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)).double()
    _random_bn(model[1], 0)
    model.eval()
    with pytest.raises(ParameterError, match="canonical"):
        bounds.check_pair(model, split.prunable_of(model), torch.randn(2, 3, 3, dtype=torch.float64))
    assert bounds.bound_violated([float("nan"), 1.0], [1.0, 1.0]).tolist() == [True, False]


def test_float32_model_checked_in_float64() -> None:
    """A float32 model is compared in float64, so rounding cannot produce a spurious violation at tiny ratios."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 50), nn.ReLU(), nn.Linear(50, 50), nn.ReLU(), nn.Linear(50, 10)).eval()
    weights = split.prunable_of(model)
    pruned = MagnitudeSweep(weights, scope="global").pruned(1e-4)  # prunes 1 weight
    rows = bounds.check_pair(model, pruned, torch.randn(8, 20))
    assert not rows.violated_operator.any()
    assert model[0].weight.dtype == torch.float32
