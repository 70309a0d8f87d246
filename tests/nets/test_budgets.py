"""Budget grids in physical units (model.md section 7.3; issue 22, item 3): every point of every family's grid is a
budget hardware can meet, the first is feasible for some scheme, the last lets the unpruned model fit, and each
family has a published anchor; the old factor grids fail the same checks."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from coinfer.base import paths
from coinfer.base.validation import ParameterError
from coinfer.model import system
from coinfer.model.system import Decision, evaluate, floor_ratios, problems_for_splits
from coinfer.nets import budgets
from coinfer.optimise import select_split
from coinfer.studies import model_size


@pytest.fixture(scope="module")
def profile():
    return pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")


@pytest.fixture(scope="module")
def grids(profile):
    present = set(profile["model"])
    return {
        name: budgets.budget_grid(profile, [m for m in family.members if m in present], points=7, family=name)
        for name, family in budgets.FAMILIES.items()
    }


def _problems(profile, members, **fields):
    return {
        m: problems_for_splits(profile[profile["model"] == m], latency_budget=1.0, energy_budget=1.0, **fields)
        for m in members
    }


def _some_feasible(problems_of, latency, energy):
    return any(
        select_split([p.replace(latency_budget=latency, energy_budget=energy) for p in ps])[0] is not None
        for ps in problems_of.values()
    )


def test_every_family_is_covered(grids):
    assert set(grids) == set(budgets.FAMILIES)
    for grid in grids.values():
        assert len(grid.members) >= 1


def test_every_point_is_above_the_physical_minima(grids, profile):
    for name, grid in grids.items():
        problems = [p for ps in _problems(profile, grid.members).values() for p in ps]
        cycle = 1.0 / max(p.f_device_max for p in problems)
        least = min(budgets.least_inference_energy(p) for p in problems)
        assert np.all(grid.latency >= cycle), name
        assert np.all(grid.energy >= least * (1 - 1e-12)), name
        assert np.all(np.diff(grid.latency) > 0) and np.all(np.diff(grid.energy) > 0), name
        # below one slot only a split that sends nothing can meet the budget
        slot = grid.minima.radio_slot
        for t in grid.latency[grid.latency < slot]:
            for ps in _problems(profile, grid.members).values():
                for p in ps:
                    if p.feature_bits > 0:
                        sol = select_split([p.replace(latency_budget=float(t), energy_budget=grid.energy_loose)])[0]
                        assert sol is None, (name, t)


def test_least_energy_is_the_least(profile):
    # no decision of the split uses less: random decisions at the floor ratios and at rho = 0 never go below it
    rng = np.random.default_rng(0)
    for model in ("digits_cnn", "minilm", "efficientnet_lite0"):
        for p in _problems(profile, [model])[model]:
            least = budgets.least_inference_energy(p)
            assert least > 0
            rho_d, rho_s = floor_ratios(p)
            for _ in range(50):
                d = Decision(
                    rho_d * rng.uniform(0, 1),
                    rho_s * rng.uniform(0, 1),
                    p.p_max * rng.uniform(1e-3, 1),
                    rng.uniform(p.f_device_min, p.f_device_max),
                    rng.uniform(p.f_server_min, p.f_server_max),
                )
                assert evaluate(p, d).energy >= least * (1 - 1e-9)


def test_first_point_feasible_last_point_unpruned(grids, profile):
    for name, grid in grids.items():
        problems_of = _problems(profile, grid.members)
        assert _some_feasible(problems_of, grid.latency[0], grid.energy_loose), name
        assert _some_feasible(problems_of, grid.latency_loose, grid.energy[0]), name
        # just below the first point no scheme is feasible, unless the first point is a physical minimum
        if grid.latency[0] > grid.minima.least_latency * (1 + 1e-9):
            assert not _some_feasible(problems_of, grid.latency[0] * (1 - 1e-6), grid.energy_loose), name
        if grid.energy[0] > grid.minima.least_energy * (1 + 1e-9):
            assert not _some_feasible(problems_of, grid.latency_loose, grid.energy[0] * (1 - 1e-6)), name
        unpruned = {m: [p.replace(rho_max=0.0) for p in ps] for m, ps in problems_of.items()}
        for member, ps in unpruned.items():
            assert _some_feasible({member: ps}, grid.latency[-1], grid.energy_loose), (name, member)
            assert _some_feasible({member: ps}, grid.latency_loose, grid.energy[-1]), (name, member)


def test_each_family_has_a_published_anchor_in_its_grid(grids):
    for name, grid in grids.items():
        inside = [a for sweep, a, ok in grid.anchors if sweep == "latency_budget" and ok and a.published]
        assert inside, name
        assert any(math.isclose(a.value, t) for a in inside for t in grid.latency), name
        assert grid.latency_default in grid.latency and grid.energy[0] <= grid.energy_default <= grid.energy[-1]
    assert any("22.261" in a.source for f in budgets.FAMILIES.values() for a in f.latency_anchors)
    assert not any(a.published for f in budgets.FAMILIES.values() for a in f.energy_anchors)


def _old_factor_grid(profile, model, points=13):
    """The pre-issue-22 recipe of notebook 06: factors 0.1..10 of T_ref and 0.1..30 of E_ref, paper's model."""
    problems = [system.paper_model(p) for p in _problems(profile, [model])[model]]
    t_ref, e_ref = system.reference_budgets(problems)
    return np.geomspace(0.1, 10, points) * t_ref, np.geomspace(0.1, 30, points) * e_ref


def test_the_old_factor_grids_fail_the_same_checks(profile):
    # notebook 06's old grid of MiniLM: its first latency point (0.1 T_ref of the paper's model, 2.3e-4 s, below
    # one radio slot) is infeasible for every scheme under the physical model even with the energy budget loose
    # (the digits CNN's, EfficientNet-Lite0's and LLaMA's first points are feasible once the energy is loose:
    # there the old grids failed through the energy budget held at E_ref, and through notebook 08's floors below)
    latency, _ = _old_factor_grid(profile, "minilm")
    grid = budgets.budget_grid(profile, ["minilm"], points=3)
    assert latency[0] < grid.minima.radio_slot
    assert not _some_feasible(_problems(profile, ["minilm"]), latency[0], grid.energy_loose)
    # notebook 08's old grids: from the paper model's floors (bisected down to 1e-60) over 1.5; far below
    # the physical minima (one clock cycle, the least energy of one inference)
    member = "digits_mlp_w8"
    paper = {m: [system.paper_model(p) for p in ps] for m, ps in _problems(profile, [member]).items()}
    t_floor = model_size.log_threshold(lambda t: _some_feasible(paper, t, 1e3), 1e-60, 1e3, iterations=200)
    e_floor = model_size.log_threshold(lambda e: _some_feasible(paper, 1e3, e), 1e-60, 1e3, iterations=200)
    old = pd.DataFrame({"model": member, "latency_budget": [t_floor / 1.5, 1.0], "energy_budget": [1.0, e_floor / 1.5]})
    bad = budgets.impossible_budgets(old, profile)
    assert list(bad.index) == [0, 1]
    assert "clock cycle" in bad["why"][0] and "least energy" in bad["why"][1]


def test_impossible_budgets_flags_each_minimum(profile):
    frame = pd.DataFrame(
        {
            "model": ["digits_cnn"] * 4,
            "split": [4, 0, 4, np.nan],
            "latency_budget": [1e-10, 1e-4, 1e-3, 1e-3],
            "energy_budget": [1.0, 1.0, 1e-30, 1.0],
        }
    )
    bad = budgets.impossible_budgets(frame, profile)
    assert list(bad.index) == [0, 1, 2]
    assert "clock cycle" in bad["why"][0] and "radio slot" in bad["why"][1] and "least energy" in bad["why"][2]


def test_check_budget_one_line_errors(grids):
    minima = grids["digits"].minima
    assert budgets.check_budget("latency_budget_s", 0.015, minima) == 0.015
    with pytest.raises(
        ParameterError, match=r"^latency_budget_s: got 1e-10 s; allowed >= 0.0005 s \(one radio slot\)$"
    ):
        budgets.check_budget("latency_budget_s", 1e-10, minima)
    with pytest.raises(ParameterError, match="one device clock cycle"):
        budgets.check_budget("latency_budget_s", 1e-10, minima, sends=False)
    with pytest.raises(ParameterError, match="least energy of one inference"):
        budgets.check_budget("energy_budget_j", 1e-22, minima)
    with pytest.raises(ParameterError, match="model: got 'resnet'"):
        budgets.family_of("resnet")


@pytest.mark.parametrize("table", ["opt_budget_sweep.csv", "opt_robustness_sweep.csv", "size_study.csv"])
def test_committed_sweeps_are_physical(profile, table):
    frame = pd.read_csv(paths.PROJECT_ROOT / "data" / table)
    if "scheme" in frame.columns:
        frame = frame[frame["scheme"] == "proposed"]
    # each row is judged in the energy scope it was solved in: notebook 06's (a battery share: the device's), or
    # the system scope of its "energy scope system" reading; the paper's-model reading has no physical minimum
    # energy to check against (no static or memory energy), only the clock and the slot
    scope = json.loads((paths.PROJECT_ROOT / "data" / "parameters_06_joint_optimisation.json").read_text())[
        "energy_scope"
    ]
    groups = frame.groupby("reading") if "reading" in frame.columns else [("as run", frame)]
    bad = []
    for reading, rows in groups:
        settings = {"energy_scope": "system" if reading == "energy scope system" else scope}
        if table == "size_study.csv":
            settings = {}  # notebook 08 states its budgets in its own (default) scope
        found = budgets.impossible_budgets(rows, profile, settings)
        if str(reading).startswith("the paper's model"):
            found = found[~found["why"].astype(str).str.contains("least energy")]
        bad.append(found)
    impossible = pd.concat(bad)
    assert impossible.empty, f"{len(impossible)} of {len(frame)} rows impossible, e.g. {impossible['why'].iloc[0]}"


def test_multi_user_task_budgets_are_physical(profile, monkeypatch):
    from coinfer.studies import multi_user

    models = [m for m in multi_user.MODELS if m in set(profile["model"])]
    multi_user.base_problems(profile, models)  # checks every model's task budgets against its minima
    assert multi_user.BUDGETS["image"].latency == 0.015 and "22.261" in multi_user.BUDGETS["image"].latency_source
    tiny = multi_user.Budget(1e-10, 1.0, "test", "test")
    monkeypatch.setitem(multi_user.BUDGETS, "text", tiny)
    with pytest.raises(
        ParameterError,
        match=r"^text latency budget of minilm: got 1e-10 s; allowed >= 5e-10 s \(one device clock cycle\)$",
    ):
        multi_user.base_problems(profile, ["minilm"])


def test_multi_user_base_problems_in_either_system_model(profile):
    """Notebook 09's ``system_model`` (model.md 13.1): the physical model's problems or the paper's; else one line."""
    from coinfer.studies import multi_user

    physical = multi_user.base_problems(profile, ["minilm"], "physical")["minilm"]
    paper = multi_user.base_problems(profile, ["minilm"], "paper")["minilm"]
    assert not any(p.is_paper_model for p in physical) and all(p.is_paper_model for p in paper)
    with pytest.raises(ParameterError, match=r"^system_model: got 'exact'; allowed one of 'physical', 'paper'$"):
        multi_user.base_problems(profile, ["minilm"], "exact")


def test_impossible_budgets_pools_a_family(profile):
    # one grid per family: a budget above the smaller member's least energy but below the larger one's is possible
    small, large = (
        min(budgets.least_inference_energy(p) for p in _problems(profile, [m])[m])
        for m in ("digits_mlp_w8", "digits_mlp_w256")
    )
    assert small < large
    frame = pd.DataFrame(
        {
            "model": ["digits_mlp_w8", "digits_mlp_w256"],
            "latency_budget": [1.0, 1.0],
            "energy_budget": [np.sqrt(small * large)] * 2,
        }
    )
    assert list(budgets.impossible_budgets(frame, profile).index) == [1]
    assert budgets.impossible_budgets(frame.assign(family="digits_mlp"), profile).empty
    assert list(
        budgets.impossible_budgets(frame.assign(family="digits_mlp", energy_budget=small / 2), profile).index
    ) == [0, 1]


def test_battery_share_budgets_bound_the_devices_energy():
    """A battery-share energy budget limits what the battery supplies: its scope is the device's (model.md 2.6)."""
    for family in budgets.FAMILIES.values():
        assert all("battery" in a.source and not a.published for a in family.energy_anchors)
        assert family.energy_scope == budgets.BATTERY_SCOPE == "device"
    published = budgets.Family("x", ("minilm",), (), (budgets.Anchor(1.0, "a measured requirement"),))
    assert published.energy_scope == "system"
