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


def test_measured_sparse_reading_uses_each_sides_best_kernels():
    """The "measured sparse kernels" reading (issue 22 item 2): each side runs the better of dense and the measured
    sparse kernels (select_execution's best of four pairs), never CSR forced on both sides."""
    import pandas as pd

    from coinfer.base import paths
    from coinfer.nets import timing
    from coinfer.optimise import select_execution
    from coinfer.studies import joint_optimisation

    profile = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    fits = timing.load_measurements()[1]
    study = joint_optimisation.Study(profile, ["digits_cnn"], local_starts=1, sparse_fits=fits)
    problems = study.problems("digits_cnn")
    plain = joint_optimisation.Study(profile, ["digits_cnn"], local_starts=1).problems("digits_cnn")
    assert len(problems) == len(plain)
    pairs = set()
    for chosen, base in zip(problems, plain, strict=True):
        measured = chosen.replace(compute_model="sparse")
        models, best = select_execution(measured)
        if models is not None:
            assert (chosen.compute_model_device, chosen.compute_model_server) == models
        pairs.add((chosen.compute_model_device, chosen.compute_model_server))
        assert chosen.sparse_efficiency_device == measured.sparse_efficiency_device <= 1.0
        assert base.compute_model == "ideal"
    assert pairs != {("sparse", "sparse")}, pairs  # the last split (all on the device) runs dense kernels


def test_one_budget_sweeps_hold_the_other_budget_loose_and_battery_budgets_count_the_device():
    """Notebook 06's sweeps (model.md 7.3): along the latency grid the energy budget is the grid's loose value, not
    the default point (which left 10 of 15 LLaMA latency points infeasible), and vice versa; the default scope of
    the family's battery-share energy budget is ``device``."""
    from coinfer.base import paths

    profile = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    study = joint_optimisation.Study(profile, ["digits_cnn"], local_starts=1, points=3)
    grid = study.grids["digits_cnn"]
    assert all(p.energy_scope == "device" for p in study.problems("digits_cnn"))
    sweeps = joint_optimisation.sweep_values({}, 3)
    for sweep in ("latency_budget", "energy_budget"):
        key = sweeps[sweep][0]
        x = float(study.budget_factors("digits_cnn", sweep)[0])
        frame, record = joint_optimisation.sweep_point(study, ("digits_cnn", sweep, key, x))
        latency, energy = float(frame["latency_budget"].iloc[0]), float(frame["energy_budget"].iloc[0])
        if sweep == "latency_budget":
            assert latency == pytest.approx(grid.latency[0]) and energy == pytest.approx(grid.energy_loose)
        else:
            assert energy == pytest.approx(grid.energy[0]) and latency == pytest.approx(grid.latency_loose)
        assert record["status"] == "optimal"  # the first grid point is feasible with the other budget loose
    explicit = joint_optimisation.Study(profile, ["digits_cnn"], base={"energy_scope": "system"}, points=3)
    assert all(p.energy_scope == "system" for p in explicit.problems("digits_cnn"))
