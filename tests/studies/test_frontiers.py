"""Quality-versus-cost frontiers (coinfer.studies.frontiers; model.md section 9.1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from coinfer.base.validation import ParameterError
from coinfer.nets.metrics import accuracy_metric, logits_vector
from coinfer.nets.split import SplitModel
from coinfer.pipeline.notebook_params import validate
from coinfer.studies import frontiers


# --------------------------------------------------------------------------- the grid search
@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.99, 0.9999])
@pytest.mark.parametrize("size", [5, 17, 33])
def test_bisection_brackets_the_true_threshold_of_a_monotone_curve(level: float, size: int) -> None:
    budgets = np.geomspace(1e-6, 1e-1, size)
    scale = 3e-4  # quality 1 - exp(-b / scale): the least budget keeping `level` is -scale * ln(1 - level)
    truth = -scale * math.log1p(-level)
    calls: list[int] = []

    def quality(i: int) -> float:
        calls.append(i)
        return 1.0 - math.exp(-budgets[i] / scale)

    bracket, measured = frontiers.bisect_grid(quality, size, level, coarse_points=5)
    assert bracket.status == frontiers.REACHED
    assert bracket.high is not None and bracket.low == bracket.high - 1
    assert budgets[bracket.low] < truth <= budgets[bracket.high]
    assert not bracket.non_monotone
    assert len(set(calls)) == len(calls) == len(measured)  # nothing measured twice
    assert len(calls) <= 5 + math.ceil(math.log2(size))  # bisection, not a scan
    if size == 33:
        assert len(calls) < size


def test_a_non_monotone_curve_is_flagged() -> None:
    # passes at the coarse index 4, fails again at 12 (above the least passing budget)
    values = [0.1, 0.2, 0.5, 0.96, 0.97, 0.98, 0.99, 0.99, 0.99, 0.9, 0.8, 0.7, 0.5, 0.97, 0.98, 0.99, 1.0]
    bracket, measured = frontiers.bisect_grid(lambda i: values[i], len(values), 0.95, coarse_points=5)
    assert bracket.status == frontiers.REACHED
    assert (bracket.low, bracket.high) == (2, 3)
    assert bracket.non_monotone
    monotone, _ = frontiers.bisect_grid(lambda i: sorted(values)[i], len(values), 0.95, coarse_points=5)
    assert not monotone.non_monotone


def test_statuses_infeasible_not_reached_and_first_feasible() -> None:
    nan = math.nan
    assert frontiers.bisect_grid(lambda i: nan, 9, 0.9)[0].status == frontiers.INFEASIBLE
    assert frontiers.bisect_grid(lambda i: 0.5, 9, 0.9)[0].status == frontiers.NOT_REACHED
    # infeasible below index 5, then full quality: feasibility binds, the bracket is (4, 5]
    first = frontiers.bisect_grid(lambda i: nan if i < 5 else 1.0, 9, 0.9)[0]
    assert (first.status, first.low, first.high) == (frontiers.REACHED_FIRST, 4, 5)
    # feasible below index 5 but too poor: quality binds
    quality = frontiers.bisect_grid(lambda i: 0.5 if i < 5 else 1.0, 9, 0.9)[0]
    assert (quality.status, quality.low, quality.high) == (frontiers.REACHED, 4, 5)
    at_zero = frontiers.bisect_grid(lambda i: 1.0, 9, 0.9)[0]
    assert (at_zero.status, at_zero.low, at_zero.high) == (frontiers.REACHED_FIRST, None, 0)


@pytest.mark.parametrize("levels", [[0.0], [1.5], [-0.1], [0.9, 2.0], []])
def test_bad_levels_are_one_line_parameter_errors(levels: list[float]) -> None:
    with pytest.raises(ParameterError, match=r"^levels: .*(\(0, 1\]|non-empty|empty)") as error:
        frontiers.check_levels(levels)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"frontier_levels": [0.0]}, r"frontier_levels\[0\]: .*\(0, 1\]"),
        ({"frontier_levels": [1.01]}, r"frontier_levels\[0\]: .*\(0, 1\]"),
        ({"frontier_models": []}, r"frontier_models: .*non-empty"),
        ({"frontier_grid_points": 2}, r"frontier_grid_points: .*"),
    ],
)
def test_bad_notebook_parameters(params: dict[str, Any], named: str) -> None:
    with pytest.raises(ParameterError, match=named) as error:
        validate("07_deployed_designs", params)
    assert "\n" not in str(error.value)


def test_fixed_budgets_come_from_the_grid() -> None:
    grid = np.geomspace(1e-3, 1e-1, 13)
    chosen = frontiers.fixed_budgets(grid, 3)
    assert set(chosen) <= set(grid) and chosen[-1] == grid[-1] and grid[0] not in chosen and len(chosen) == 3
    with pytest.raises(ParameterError, match="fixed_points"):
        frontiers.fixed_budgets(grid, 0)


# --------------------------------------------------------------------------- one model, end to end
@dataclass
class _Grid:
    latency: np.ndarray
    energy: np.ndarray


@dataclass
class _FakeStudy:
    """Three schemes whose decisions depend on the budgets as a solver's would (shapes, not physics)."""

    grids: dict[str, _Grid] = field(default_factory=dict)
    reference: dict[str, tuple[float, float]] = field(default_factory=dict)

    def compare(self, name: str, starts: int | None = None, **setting: Any) -> tuple[pd.DataFrame, list]:
        t0, e0 = self.reference[name]
        latency, energy = setting["latency_factor"] * t0, setting["energy_factor"] * e0
        budget = min(latency / self.grids[name].latency[-1], energy / self.grids[name].energy[-1])
        rho = max(0.0, 0.95 * (1.0 - budget**0.25))  # prunes less as both budgets loosen
        rows = [
            {"scheme": "proposed", "status": "optimal", "split": 1, "rho_device": rho, "rho_server": rho},
            {"scheme": "on_server", "status": "infeasible", "split": None, "rho_device": np.nan, "rho_server": np.nan},
            {"scheme": "quantised_4bit", "status": "optimal", "split": 1, "rho_device": 0.0, "rho_server": 0.0},
        ]
        return pd.DataFrame(rows), []


@dataclass(frozen=True)
class _Evaluation:
    chunks: tuple[Any, ...]
    labels: torch.Tensor
    reference: torch.Tensor
    metric: Any = accuracy_metric
    output_vector: Any = logits_vector

    def topic_accuracy(self, vectors: torch.Tensor) -> float:
        raise AssertionError("not a text model")


def _toy() -> tuple[SplitModel, _Evaluation]:
    torch.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(8, 32), nn.ReLU()), nn.Linear(32, 4)]
    model = SplitModel("digits_cnn", nn.Identity(), blocks, ["fc1", "fc2"], nn.Identity())
    x = torch.randn(64, 8)
    with torch.inference_mode():
        reference = model.forward(x).double()
    labels = reference.argmax(dim=-1)  # the unpruned model is right everywhere
    return model, _Evaluation((x[:32], x[32:]), labels, reference)


def test_model_frontiers_table_has_every_scheme_level_and_budget() -> None:
    model, evaluation = _toy()
    grid = _Grid(np.geomspace(1e-3, 1e-1, 7), np.geomspace(1e-4, 1e-1, 7))
    study = _FakeStudy({"digits_cnn": grid}, {"digits_cnn": (1e-2, 1e-2)})
    levels = (0.99, 0.9, 0.5)
    table, points = frontiers.model_frontiers(
        study,
        model,
        evaluation,
        scheme_bits={"quantised_4bit": 4},
        levels=levels,
        fixed_points=2,
        grid_points=9,
        coarse_points=3,
        local_starts=1,
        workers=1,
        progress=False,
    )
    assert list(table.columns) == list(frontiers.FRONTIER_COLUMNS)
    keys = set(zip(table.scheme, table.level, table.fixed_budget, table.fixed_value, strict=True))
    expected = {
        (s, lv, kind, v)
        for s in ("proposed", "on_server", "quantised_4bit")
        for lv in levels
        for kind, values in (("latency_s", grid.latency), ("energy_J", grid.energy))
        for v in frontiers.fixed_budgets(values, 2)
    }
    assert keys == expected and len(table) == len(expected)
    assert set(table.status) <= set(frontiers.STATUSES)
    assert (table[table.scheme == "on_server"].status == frontiers.INFEASIBLE).all()
    assert (table.unpruned_quality == 1.0).all()
    # every reached bracket: the measured quality at its high end passes, at its low end fails
    for row in table[table.status.isin([frontiers.REACHED, frontiers.REACHED_FIRST])].itertuples():
        mine = points[
            (points.scheme == row.scheme)
            & (points.fixed_budget == row.fixed_budget)
            & (points.fixed_value == row.fixed_value)
        ]
        free = mine[row.frontier_budget]
        assert mine[np.isclose(free, row.bracket_high)].quality.iloc[0] >= row.level
        assert row.quality >= row.level
        if not math.isnan(row.bracket_low):
            low = mine[np.isclose(free, row.bracket_low)].quality.iloc[0]
            assert math.isnan(low) or low < row.level
            assert row.bracket_high / row.bracket_low == pytest.approx(row.grid_step)
    # the proposed design prunes less as the budget loosens, so it reaches every level at the loosest
    proposed = table[(table.scheme == "proposed") & (table.fixed_value == table.fixed_value.max())]
    assert proposed.status.isin([frontiers.REACHED, frontiers.REACHED_FIRST]).all()
    # a higher level never needs less budget on a monotone curve
    for _, group in proposed.groupby(["fixed_budget", "fixed_value"]):
        ordered = group.sort_values("level")
        assert ordered.least_budget.is_monotonic_increasing
    leaders = frontiers.frontier_leaders(table, 0.9)
    assert set(leaders.columns) >= {"model", "fixed_value", "leaders", "least_budget"}
    with pytest.raises(ParameterError, match="level"):
        frontiers.frontier_leaders(table, 0.42)


def test_leaders_tie_where_brackets_overlap() -> None:
    rows = [
        ("a", 1.0, 2.0, frontiers.REACHED),
        ("b", 1.5, 3.0, frontiers.REACHED),  # overlaps a's (1, 2]
        ("c", 2.0, 4.0, frontiers.REACHED),  # starts where a's ends: no overlap
        ("d", math.nan, math.nan, frontiers.NOT_REACHED),
    ]
    table = pd.DataFrame(
        [
            {"model": "m", "scheme": s, "level": 0.9, "fixed_budget": "latency_s", "fixed_value": 1.0}
            | {"bracket_low": low, "bracket_high": high, "status": status}
            for s, low, high, status in rows
        ]
    )
    found = frontiers.frontier_leaders(table, 0.9).iloc[0]
    assert found.leaders == "a, b" and found.least_budget == 2.0 and found.reached == 3
    sentence = frontiers.headline_sentences(table.assign(quality_metric="acc", unpruned_quality=0.9), 0.9)["m"]
    assert "a, b (tied: brackets overlap)" in sentence and "1 J < E* <= 2 J" in sentence
