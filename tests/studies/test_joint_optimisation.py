"""Notebook 06's random studies carry their Clopper-Pearson intervals (coinfer.studies.joint_optimisation)."""

from __future__ import annotations

import pandas as pd
import pytest

from coinfer.model import stats
from coinfer.studies import joint_optimisation


def test_single_start_summary_states_the_success_rate_with_its_interval():
    starts = pd.DataFrame(
        {
            "model": ["a"] * 10 + ["b"] * 4,
            "status": ["optimal"] * 9 + ["infeasible"] + ["optimal"] * 4,
            "success": [True] * 3 + [False] * 7 + [True] * 4,
            "over_optimum": [1.0] * 3 + [2.0] * 6 + [float("nan")] + [1.0] * 4,
        }
    )
    summary = joint_optimisation.single_start_summary(starts)
    a = summary.loc["a"]
    assert (a.runs, a.success_rate, a.feasible_rate) == (10, 0.3, 0.9)
    assert (a.success_rate_ci95_low, a.success_rate_ci95_high) == stats.clopper_pearson(3, 10)
    b = summary.loc["b"]  # 4 of 4: the lower end is 0.025^(1/4)
    assert b.success_rate_ci95_low == pytest.approx(0.025**0.25) and b.success_rate_ci95_high == 1.0
    assert list(summary.index) == ["a", "b"] and a.max_over_optimum == 2.0


def test_fading_summary_gives_the_feasible_share_with_its_interval():
    rows = []
    for draw in range(5):
        rows.append({"model": "m", "draw": draw, "scheme": "proposed", "status": "optimal", "objective": 1.0,
                     "objective_norm": 0.1})  # fmt: skip
        feasible = draw < 2
        rows.append({"model": "m", "draw": draw, "scheme": "on_server",
                     "status": "optimal" if feasible else "infeasible", "objective": 2.0 if feasible else None,
                     "objective_norm": 0.2 if feasible else None})  # fmt: skip
    summary = joint_optimisation.fading_summary(pd.DataFrame(rows)).set_index("scheme")
    server = summary.loc["on_server"]
    assert (server.draws, server.p_feasible, server.mean_ratio_to_proposed) == (5, 0.4, 2.0)
    assert (server.p_feasible_ci95_low, server.p_feasible_ci95_high) == stats.clopper_pearson(2, 5)
    # two equal feasible objectives: every bootstrap mean is 0.2
    assert (server.mean_objective_norm_ci95_low, server.mean_objective_norm_ci95_high) == pytest.approx((0.2, 0.2))
