"""The tensor functions of coinfer.model.pruning: exact prune counts, masks, quantiser levels and error, no mutation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coinfer.model import pruning
from coinfer.model.pruning import (
    magnitude_mask,
    magnitude_order,
    mask_from_order,
    prune_count,
    prune_tensor,
    quantize_uniform,
)

sizes = st.integers(0, 500)
ratios = st.floats(0.0, 1.0)


def _tensor(seed: int, n: int, dtype: torch.dtype = torch.float32, ties: bool = False) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    values = rng.integers(-3, 4, n) if ties else rng.laplace(0.0, 1.0, n)
    return torch.tensor(values, dtype=dtype)


# --------------------------------------------------------------------------- prune_count
@pytest.mark.parametrize(
    ("n", "ratio", "expected"),
    [
        (10, 0.0, 0),
        (10, 1.0, 10),
        (10, 0.25, 3),
        (10, 0.24, 2),
        (10, 0.35, 4),
        (4, 0.125, 1),
        (3, 0.5, 2),
        (0, 0.7, 0),
        (1000, 0.999, 999),
        (7, 0.99, 7),
    ],
)
def test_prune_count_examples(n, ratio, expected) -> None:
    assert prune_count(n, ratio) == expected


@given(n=sizes, ratio=ratios, other=ratios)
def test_prune_count_properties(n, ratio, other) -> None:
    k = prune_count(n, ratio)
    assert 0 <= k <= n
    assert abs(k - ratio * n) <= 0.5 + 1e-9
    if ratio <= other:
        assert k <= prune_count(n, other)


@pytest.mark.parametrize("ratio", [-0.01, 1.01, math.nan])
def test_prune_count_rejects_bad_ratio(ratio) -> None:
    with pytest.raises(ValueError):
        prune_count(10, ratio)


# --------------------------------------------------------------------------- masks
@settings(max_examples=60)
@given(seed=st.integers(0, 2**31), n=sizes, ratio=ratios, ties=st.booleans())
def test_magnitude_mask_prunes_exactly_the_smallest(seed, n, ratio, ties) -> None:
    w = _tensor(seed, n, ties=ties).reshape(-1, 1) if n else torch.zeros(0, 1)
    before = w.clone()
    keep = magnitude_mask(w, ratio)
    assert keep.shape == w.shape and keep.dtype == torch.bool
    k = prune_count(n, ratio)
    assert int((~keep).sum()) == k
    if 0 < k < n:
        assert float(w[~keep].abs().max()) <= float(w[keep].abs().min())
    assert torch.equal(w, before)


def test_ties_broken_by_position() -> None:
    w = torch.ones(2, 3)
    assert magnitude_mask(w, 0.5).flatten().tolist() == [False, False, False, True, True, True]
    assert magnitude_order(torch.tensor([2.0, -1.0, 1.0, 0.0])).tolist() == [3, 1, 2, 0]


@settings(max_examples=30)
@given(seed=st.integers(0, 2**31), ratio=ratios)
def test_mask_from_order_equals_magnitude_mask(seed, ratio) -> None:
    w = _tensor(seed, 60, ties=True).reshape(6, 10)
    order = magnitude_order(w)
    assert torch.equal(mask_from_order(order, w.shape, ratio), magnitude_mask(w, ratio))
    assert sorted(order.tolist()) == list(range(60))


# --------------------------------------------------------------------------- quantiser
@settings(max_examples=60)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 400), bits=st.integers(1, 20))
def test_quantiser_levels_and_error_float64(seed, n, bits) -> None:
    x = _tensor(seed, n, dtype=torch.float64)
    before = x.clone()
    q = quantize_uniform(x, bits)
    scale = float(x.abs().max())
    step = 2 * scale / 2**bits
    assert torch.equal(x, before)
    assert q.dtype == x.dtype and q.shape == x.shape
    assert int(torch.unique(q).numel()) <= 2**bits
    index = q / step - 0.5  # every output is a cell midpoint (k + 1/2) step, k in [-2^(bits-1), 2^(bits-1) - 1]
    assert torch.allclose(index, index.round(), atol=1e-6)
    assert index.min() >= -(2 ** (bits - 1)) - 1e-6 and index.max() <= 2 ** (bits - 1) - 1 + 1e-6
    assert float((q - x).abs().max()) <= step / 2 * (1 + 1e-9)


@pytest.mark.parametrize("bits", [1, 4, 8, 12])
def test_quantiser_error_float32(bits) -> None:
    """float32 outputs: the midpoint itself is rounded to float32, so the error is step/2 plus half an ulp."""
    x = _tensor(0, 5000)
    q = quantize_uniform(x, bits)
    step = 2 * float(x.abs().max()) / 2**bits
    err = (q.double() - x.double()).abs()
    assert float((err - step / 2 - x.double().abs() * 2**-24).max()) <= 1e-12
    assert int(torch.unique(q).numel()) <= 2**bits


def test_quantiser_one_bit_and_explicit_range() -> None:
    x = torch.tensor([-2.0, -0.1, 0.1, 2.0])
    assert quantize_uniform(x, 1).tolist() == [-1.0, -1.0, 1.0, 1.0]
    # values beyond an explicit max_abs are clamped to the outermost cells
    assert quantize_uniform(torch.tensor([5.0, -5.0]), 2, max_abs=1.0).tolist() == [0.75, -0.75]
    assert torch.equal(quantize_uniform(torch.zeros(3), 4), torch.zeros(3))


@pytest.mark.parametrize("bits", [0, -1, 2.0, True])
def test_quantiser_rejects_bad_bits(bits) -> None:
    with pytest.raises(ValueError):
        quantize_uniform(torch.ones(3), bits)


def test_quantiser_rejects_none_bits() -> None:
    with pytest.raises(ValueError):
        quantize_uniform(torch.ones(3), None)


def test_quantiser_empty_tensor() -> None:
    assert quantize_uniform(torch.zeros(0), 8).numel() == 0


# --------------------------------------------------------------------------- prune_tensor
@settings(max_examples=60)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 300), ratio=ratios, bits=st.one_of(st.none(), st.integers(1, 12)))
def test_prune_tensor(seed, n, ratio, bits) -> None:
    w = _tensor(seed, n, dtype=torch.float64).reshape(1, -1)
    before = w.clone()
    pruned = prune_tensor(w, ratio, bits)
    assert torch.equal(w, before)
    assert pruned.shape == w.shape and pruned.dtype == w.dtype
    keep = magnitude_mask(w, ratio)
    assert torch.all(pruned[~keep] == 0)
    assert int((pruned == 0).sum()) == prune_count(n, ratio)  # the midrise quantiser never outputs 0
    if bits is None:
        assert torch.equal(pruned[keep], w[keep])
    elif bool(keep.any()):
        kept = w[keep]
        step = 2 * float(kept.abs().max()) / 2**bits
        assert int(torch.unique(pruned[keep]).numel()) <= 2**bits
        assert float((pruned[keep] - kept).abs().max()) <= step / 2 * (1 + 1e-9)


def test_prune_tensor_returns_a_copy() -> None:
    w = torch.arange(1.0, 7.0)
    out = prune_tensor(w, 0.0)
    out[0] = 100.0
    assert w[0] == 1.0


# --------------------------------------------------------------------------- the sort-once ranks (issue 23: memory)
def _argsort_ranks(flat: torch.Tensor) -> torch.Tensor:
    """The ranks from ``torch.argsort(stable=True)``: what :func:`pruning._ranks` computed before its key sort."""
    ranks = torch.empty(flat.numel(), dtype=torch.int32)
    ranks[pruning.magnitude_order(flat)] = torch.arange(flat.numel(), dtype=torch.int32)
    return ranks


@pytest.mark.parametrize("n", [0, 1, 2, 37, 1000, 5003])
def test_key_sorted_ranks_equal_the_stable_argsort_ranks_ties_included(n, monkeypatch) -> None:
    monkeypatch.setattr(pruning, "_RANK_CHUNK", 64)  # several slices of the key building and scattering
    generator = torch.Generator().manual_seed(n)
    flat = torch.randn(n, generator=generator).half().float()  # float16 values: many ties
    flat[::7] = 0.0
    flat[1::11] = -0.0  # the same magnitude as 0.0
    flat[2::13] = -flat[2::13]  # a weight and its negation tie
    flat[3::29] = float("inf")
    ranks = pruning._ranks(flat)
    assert ranks.dtype == torch.int32
    assert torch.equal(ranks, _argsort_ranks(flat))
    assert torch.equal(torch.sort(ranks).values, torch.arange(n, dtype=torch.int32))  # a permutation


def test_ranks_of_other_dtypes_and_nan_take_the_argsort_path() -> None:
    generator = torch.Generator().manual_seed(3)
    doubles = torch.randn(500, generator=generator, dtype=torch.float64)
    with_nan = torch.randn(500, generator=generator)
    with_nan[[4, 9]] = float("nan")
    for flat in (doubles, with_nan):
        assert torch.equal(pruning._ranks(flat), _argsort_ranks(flat))


def test_ranks_of_pieces_equal_the_ranks_of_their_concatenation(monkeypatch) -> None:
    monkeypatch.setattr(pruning, "_RANK_CHUNK", 16)
    generator = torch.Generator().manual_seed(5)
    pieces = [torch.randn(shape, generator=generator).half().float() for shape in ((3, 40), (0,), (7,), (5, 2, 3))]
    pieces[2][:] = pieces[0][0, :7]  # ties across pieces: the earlier piece first
    flat = torch.cat([p.flatten() for p in pieces])
    assert torch.equal(pruning._ranks(pieces), _argsort_ranks(flat))
    assert torch.equal(pruning._ranks([]), torch.empty(0, dtype=torch.int32))
