"""coinfer.nets.timing: the variants compute what they should, the fit and crossover are exact on synthetic data.

No assertion depends on a measured time (model.md section 2.3).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from coinfer.model.pruning import prune_count, prune_tensor
from coinfer.model.system import make_problem
from coinfer.nets import timing

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def _linear_case() -> timing.LayerCase:
    torch.manual_seed(0)
    layer = nn.Linear(48, 40)
    return timing.layer_case("toy", "fc", layer, torch.randn(3, 16, 48))


def _conv_case(kind: str) -> timing.LayerCase:
    torch.manual_seed(1)
    if kind == "pointwise":
        layer = nn.Conv2d(12, 20, 1, bias=False)
    elif kind == "conv":
        layer = nn.Conv2d(6, 10, 3, stride=2, padding=1)
    else:
        layer = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
    return timing.layer_case("toy", kind, layer, torch.randn(3, layer.in_channels, 9, 9))


CASES = [_linear_case, lambda: _conv_case("pointwise"), lambda: _conv_case("conv"), lambda: _conv_case("depthwise")]


@pytest.mark.parametrize("make", CASES, ids=["linear", "pointwise", "conv", "depthwise"])
@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.9, 0.99])
def test_csr_matches_dense_masked_layer(make, ratio: float) -> None:
    case = make()
    pruned = prune_tensor(case.weight, ratio)
    reference = timing.dense_forward(case, pruned, case.x)
    csr = timing.csr_weight(case, pruned)
    assert csr.layout == torch.sparse_csr
    assert csr._nnz() == int(torch.count_nonzero(pruned))
    out = timing.csr_as_layer_output(case, timing.csr_forward(case, csr, timing.csr_input(case, case.x)), case.x)
    assert out.shape == reference.shape
    assert float((out - reference).norm() / reference.norm()) <= 1e-5


def test_timing_prunes_by_the_one_rounding_rule() -> None:
    """The timed layers prune ``prune_count`` weights and rows, halves rounded up like every other pruning."""
    weight = torch.arange(1.0, 11.0).view(10, 1)  # 10 weights (and 10 rows) at 0.25: 2.5 rounds up to 3
    assert prune_count(10, 0.25) == 3
    case = timing.LayerCase("toy", "fc", "linear", weight, None, torch.ones(1, 1), torch.ones(4, 1))
    table = timing.time_layer(case, [0.0, 0.25], repeats=1, target_s=1e-5).set_index(["variant", "ratio"])
    assert table.loc[("dense", 0.25), "params_kept"] == table.loc[("csr", 0.25), "params_kept"] == 7
    assert table.loc[("structured", 0.25), "params_kept"] == 7  # 10 rows of one weight: 3 pruned
    assert timing.structured_rows(weight, 0.25).tolist() == [3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("make", CASES, ids=["linear", "pointwise", "conv", "depthwise"])
@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.75, 0.99])
def test_structured_keeps_the_largest_rows(make, ratio: float) -> None:
    case = make()
    rows = case.weight.shape[0]
    kept = timing.structured_rows(case.weight, ratio)
    assert len(kept) == max(1, round((1 - ratio) * rows))
    norms = case.weight.abs().reshape(rows, -1).sum(1)
    dropped = sorted(set(range(rows)) - set(kept.tolist()))
    if dropped:
        assert float(norms[kept].min()) >= float(norms[dropped].max())
    forward, _ = timing.structured_layer(case, ratio)
    xin = case.x[:, kept] if case.kind == "depthwise" else case.x
    small = forward(xin)
    full = timing.dense_forward(case, case.weight, case.x)
    axis = -1 if case.kind == "linear" else 1
    expected_shape = list(full.shape)
    expected_shape[axis] = len(kept)
    assert list(small.shape) == expected_shape
    # the kept rows are computed exactly; the others are zero in the full-layout output
    out = timing.structured_output(case, ratio, case.x)
    torch.testing.assert_close(out.index_select(axis, kept), full.index_select(axis, kept))
    if dropped:
        assert float(out.index_select(axis, torch.tensor(dropped)).abs().max()) == 0.0
    expected = 0.0 if not dropped else timing.relative_l1(out, full)
    assert timing.relative_l1(out, full) == pytest.approx(expected)


def test_median_interval_covers_the_median() -> None:
    samples = np.arange(1.0, 61.0)
    median, low, high = timing.median_interval(samples)
    assert median == 30.5
    assert low < median < high
    # [x_(22), x_(39)] for n = 60: coverage 1 - 2 P(Binom(60, 1/2) <= 21) = 0.973 >= 0.95, one step in is < 0.95
    assert (low, high) == (22.0, 39.0)
    assert timing.median_interval([1.0, 2.0, 3.0]) == (2.0, 1.0, 3.0)


def _synthetic_table(e: dict[str, float], f0: dict[str, float], ratios: list[float]) -> pd.DataFrame:
    """Times that follow the sparse model exactly: dense flat at A, CSR = A ((1 - rho) / e + F0)."""
    rows = []
    for model in e:
        for layer, a in (("l1", 1e-3), ("l2", 3e-4)):
            for ratio in ratios:
                for variant, t in (
                    ("dense", a),
                    ("csr", a * ((1 - ratio) / e[model] + f0[model])),
                    ("structured", a * (1 - ratio)),
                ):
                    rows.append(
                        {
                            "model": model,
                            "layer": layer,
                            "variant": variant,
                            "ratio": ratio,
                            "median_s": t,
                            "speedup": a / t,
                            "machine": "x",
                        }
                    )
    return pd.DataFrame(rows)


RATIOS = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]


def test_fit_recovers_known_constants() -> None:
    e, f0 = {"m1": 0.25, "m2": 0.8}, {"m1": 0.05, "m2": 0.0}
    fits = timing.fit_sparse_model(_synthetic_table(e, f0, RATIOS))
    assert list(fits.columns) == list(timing.FIT_COLUMNS)
    assert set(fits["layer"]) == {timing.ALL_LAYERS, "l1", "l2"}
    for _, row in fits.iterrows():
        assert row["e"] == pytest.approx(e[row["model"]], abs=1e-9)
        assert row["F0_per_flop"] == pytest.approx(f0[row["model"]], abs=1e-9)
        assert row["residual"] == pytest.approx(0.0, abs=1e-9)
        assert row["n_points"] == len(RATIOS) * (2 if row["layer"] == timing.ALL_LAYERS else 1)


def test_crossover_on_synthetic_data() -> None:
    fits = timing.fit_sparse_model(_synthetic_table({"m": 0.25}, {"m": 0.05}, RATIOS)).set_index("layer")
    # CSR meets dense where (1 - rho) / e + F0 = 1: rho = 1 - e (1 - F0) = 1 - 0.25 * 0.95
    assert fits.loc[timing.ALL_LAYERS, "crossover_ratio"] == pytest.approx(0.7625, abs=1e-9)
    # measured: CSR faster from 0.8 on (0.2 / 0.25 + 0.05 = 0.85 < 1, while 0.7 gives 1.25)
    assert fits.loc[timing.ALL_LAYERS, "crossover_measured"] == 0.8
    never = timing.fit_sparse_model(_synthetic_table({"m": 0.5}, {"m": 1.2}, RATIOS)).iloc[0]
    assert math.isnan(never["crossover_ratio"])
    assert never["crossover_measured"] == math.inf
    always = timing.fit_sparse_model(_synthetic_table({"m": 1.0}, {"m": 0.0}, [0.0, 0.5, 0.9])).iloc[0]
    assert always["crossover_ratio"] == pytest.approx(0.0, abs=1e-9)


def test_measured_crossover_needs_all_larger_ratios_faster() -> None:
    table = _synthetic_table({"m": 0.25}, {"m": 0.05}, RATIOS)
    bump = (table["variant"] == "csr") & (table["ratio"] == 0.9) & (table["layer"] == "l1")
    table.loc[bump, "speedup"] = 0.5  # CSR slower than dense again at 0.9 on l1
    crossings = timing.measured_crossovers(table).set_index("layer")["crossover_measured"]
    assert crossings["l1"] == 0.95
    assert crossings["l2"] == 0.8


def test_timing_table_columns_without_timing_assertions() -> None:
    table = timing.time_layer(_linear_case(), ratios=[0.0, 0.9], repeats=3, target_s=1e-5, machine="test")
    assert list(table.columns) == list(timing.TIMING_COLUMNS)
    assert len(table) == 2 * len(timing.VARIANTS)
    assert set(table["variant"]) == set(timing.VARIANTS)
    assert (table["ci_low_s"] <= table["median_s"]).all() and (table["median_s"] <= table["ci_high_s"]).all()
    assert (table["speedup_ci_low"] <= table["speedup"]).all() and (table["speedup"] <= table["speedup_ci_high"]).all()
    np.testing.assert_allclose(table["efficiency"], table["speedup"] / table["ideal_speedup"])
    dense = table[table["variant"] == "dense"].set_index("ratio")
    csr = table[table["variant"] == "csr"].set_index("ratio")
    assert dense.loc[0.9, "params_kept"] == csr.loc[0.9, "params_kept"] == round(0.1 * 40 * 48)
    assert table[table["variant"] == "structured"].set_index("ratio").loc[0.9, "params_kept"] == 4 * 48
    assert dense.loc[0.9, "distortion_rel_l1"] == csr.loc[0.9, "distortion_rel_l1"] > 0
    assert (table["flops_dense"] == 2 * 40 * 48 * 16).all()


def test_sparse_constants_give_a_valid_problem() -> None:
    fits = timing.fit_sparse_model(_synthetic_table({"m": 0.25}, {"m": 0.05}, RATIOS))
    constants = timing.sparse_constants(fits, "m", flops_device=2e9, flops_server=6e9)
    assert constants == {
        "compute_model": "sparse",
        "sparse_efficiency_device": pytest.approx(0.25),
        "sparse_efficiency_server": pytest.approx(0.25),
        "sparse_overhead_device": pytest.approx(0.05 * 2e9),
        "sparse_overhead_server": pytest.approx(0.05 * 6e9),
    }
    problem = make_problem(
        flops_device=2e9,
        flops_server=6e9,
        params_device=1e6,
        params_server=3e6,
        scale_device=0.02,
        scale_server=0.02,
        feature_bits=1e5,
        latency_budget=1.0,
        energy_budget=1.0,
        **constants,
    )
    a, g = problem.cycles("device")
    assert a == pytest.approx(2e9 / (0.25 * problem.flops_per_cycle_device))
    assert g == pytest.approx(0.05 * 2e9 / problem.flops_per_cycle_device)
    # e > 1 is capped to the Problem's range
    fast = timing.fit_sparse_model(_synthetic_table({"m": 2.0}, {"m": 0.5}, RATIOS))
    assert timing.sparse_constants(fast, "m", flops_device=1.0, flops_server=1.0)["sparse_efficiency_device"] == 1.0
    with pytest.raises(ValueError, match="model"):
        timing.sparse_constants(fits, "other", flops_device=1.0, flops_server=1.0)


def test_committed_measurements_have_the_columns_and_data_holds_their_copy() -> None:
    """The measurements are committed with the package (benchmarks/bench_compute.py wrote them); notebook 05
    copies them into data/ unchanged, so the committed data/ holds the same bytes."""
    from coinfer.base.paths import PROJECT_ROOT

    timings, fits = timing.load_measurements()
    assert list(timings.columns) == list(timing.TIMING_COLUMNS) and len(timings) > 0
    assert list(fits.columns) == list(timing.FIT_COLUMNS) and len(fits) > 0
    for name in ("compute_timings.csv", "compute_fits.csv"):
        committed = (timing.MEASUREMENTS_DIR / name).read_bytes()
        assert (PROJECT_ROOT / "data" / name).read_bytes() == committed, name
