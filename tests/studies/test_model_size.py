"""The model-size study (model.md section 10): budgets, designs measured once, winners and claim L1."""

import json

import numpy as np
import pandas as pd
import pytest

from coinfer import claims
from coinfer.base.validation import ParameterError
from coinfer.model import stats
from coinfer.nets import deploy, profiles, zoo
from coinfer.studies import model_size

SETTINGS = {"bandwidth": 5e6, "distance": 200.0}
MEMBERS = ["digits_mlp_w8", "digits_mlp_w16"]


@pytest.fixture(scope="module")
def digits_profile():
    return profiles.build_profiles(MEMBERS, [])


def test_log_threshold_finds_the_switch():
    assert model_size.log_threshold(lambda x: x >= 3.0, 1e-3, 1e3) == pytest.approx(3.0, rel=1e-8)
    assert model_size.log_threshold(lambda x: True, 2.0, 5.0) == 2.0
    with pytest.raises(ParameterError, match="upper end"):
        model_size.log_threshold(lambda x: False, 1.0, 2.0)


def test_digits_family_study_two_widths(digits_profile, monkeypatch):
    calls = []
    real_score = deploy.score_vectors

    def counting(reference, vectors, labels, metric):
        calls.append(1)
        return real_score(reference, vectors, labels, metric)

    monkeypatch.setattr(deploy, "score_vectors", counting)
    table, budgets = model_size.run_study(
        digits_profile,
        {"digits_mlp": MEMBERS},
        points=5,
        heldout=dict.fromkeys(MEMBERS, 120),
        settings=SETTINGS,
        workers=1,  # in this process, where the monkeypatch counts the deployments
    )
    assert list(table.columns) == list(model_size.COLUMNS)
    assert len(table) == 2 * sum(len(budgets["digits_mlp"].grid(s)) for s in model_size.SWEEPS) and set(
        table["family"]
    ) == {"digits_mlp"}
    frame = budgets["digits_mlp"]
    for sweep in model_size.SWEEPS:
        low, high = frame.sweep_range(sweep)
        rows = table[table["sweep"] == sweep]
        grid = frame.grid(sweep)
        assert low == grid[0] and high == grid[-1]
        for _, values in rows.groupby("model")["budget_value"]:
            assert np.allclose(values, grid, rtol=1e-12, atol=0)
        # physical grid (model.md 7.3): some member feasible at the first point, every member at the last
        first = rows[rows["budget_value"] == rows["budget_value"].min()]
        assert (first["status"] == "optimal").any()
        minima = frame.physical.minima
        least = minima.least_latency if sweep == "latency_budget" else minima.least_energy
        thresholds = frame.latency_thresholds if sweep == "latency_budget" else frame.energy_thresholds
        assert low == pytest.approx(max(least, min(floor for floor, _ in thresholds.values())), rel=1e-6)
        last = rows[rows["budget_value"] == rows["budget_value"].max()]
        assert (last["status"] == "optimal").all()
        assert (last[["rho_device", "rho_server"]] < 1e-3).all().all()  # the unpruned model fits
    # the same absolute budgets for both widths
    assert table.groupby(["sweep", "budget_value"])[["latency_budget", "energy_budget"]].nunique().eq(1).all().all()
    measured = table[table["status"] == "optimal"]
    assert measured["task_metric"].notna().all() and (measured["task_metric_name"] == "test_accuracy").all()
    assert (measured["heldout_samples"] == 120).all()
    keys = model_size.design_key(table, digits_profile).dropna()
    # each distinct design deployed and scored once per training seed (model.md section 10, item 5)
    assert len(calls) == keys.nunique() * len(model_size.DIGITS_SEEDS) and keys.nunique() < len(keys)
    assert table.loc[keys.index, "design"].tolist() == [model_size.design_name(k) for k in keys]
    # unconstrained: the unpruned model's accuracy on the same held-out inputs
    for name in MEMBERS:
        batch = zoo.model_inputs(name, "heldout", 120)
        model = zoo.load_model(name)
        accuracy = float((model.forward(batch.inputs).argmax(-1) == batch.labels).float().mean())
        top = measured[measured["model"] == name].sort_values("budget_value").iloc[-1]
        assert top["task_metric"] == pytest.approx(accuracy, abs=1 / 120 + 1e-9)
    found = model_size.verdict(table)
    assert set(found) == {"digits_mlp"} and found["digits_mlp"]["largest"] == "digits_mlp_w16"


def test_family_members_are_checked(digits_profile):
    with pytest.raises(ParameterError, match="allowed a non-empty subset"):
        model_size.run_study(digits_profile, {"digits_mlp": ["minilm"]}, points=2, heldout={}, settings=SETTINGS)
    with pytest.raises(ParameterError, match="no rows of model"):
        model_size.family_budgets(digits_profile, ["digits_mlp_w32"], SETTINGS)


# --------------------------------------------------------------------------- claim L1 on hand-made tables
def l1_table(metrics_small, metrics_large, family="digits_mlp", infeasible_large=()):
    rows = []
    for i, (small, large) in enumerate(zip(metrics_small, metrics_large, strict=True)):
        for model, params, metric in (("small", 10, small), ("large", 100, large)):
            feasible = not (model == "large" and i in infeasible_large) and metric is not None
            rows.append(
                {
                    "family": family,
                    "model": model,
                    "params": params,
                    "sweep": "latency_budget",
                    "budget_value": 10.0**i,
                    "status": "optimal" if feasible else "infeasible",
                    "task_metric": metric if feasible else None,
                    "task_metric_name": "test_accuracy" if feasible else None,
                }
            )
    return pd.DataFrame(rows)


def test_l1_share_flips_across_one_half():
    # large best at 2 of 4 feasible points (one a tie within the margin) -> share 0.5 -> holds
    table = l1_table([0.9, 0.9, 0.5, None], [0.5, 0.6, 0.495, 0.95])
    measured, holds = claims.l1_verdict(table)
    family = measured["by_family"]["digits_mlp"]
    assert (family["feasible_points"], family["largest_best_points"], holds) == (4, 2, True)
    assert family["largest_best_share"] == 0.5
    # the tie moves just outside the margin: share 0.25 -> does not hold
    table = l1_table([0.9, 0.9, 0.5, None], [0.5, 0.6, 0.48, 0.95])
    measured, holds = claims.l1_verdict(table)
    assert measured["by_family"]["digits_mlp"]["largest_best_share"] == 0.25 and not holds
    changes = measured["by_family"]["digits_mlp"]["winner_changes"]
    assert [(c["from"], c["to"], c["budget"]) for c in changes] == [("small", "large", 1000.0)]


def test_l1_infeasible_largest_loses_and_meta_rows_are_ignored():
    table = l1_table([0.5, 0.5, 0.5], [0.9, 0.9, 0.9], infeasible_large=(0, 1))
    meta = table.assign(family="meta_large", task_metric=None, task_metric_name=None)
    measured, holds = claims.l1_verdict(pd.concat([table, meta], ignore_index=True))
    assert set(measured["by_family"]) == {"digits_mlp"}
    assert measured["by_family"]["digits_mlp"]["largest_best_share"] == pytest.approx(1 / 3) and not holds
    # L1 holds only when it holds for every measured family
    other = l1_table([0.1, 0.1, 0.1], [0.9, 0.9, 0.9], family="text_encoder")
    _, holds = claims.l1_verdict(pd.concat([other, table], ignore_index=True))
    assert not holds
    _, holds = claims.l1_verdict(other)
    assert holds


def test_claim_l1_is_an_extension_and_skipped_without_its_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    (tmp_path / "data").mkdir()
    assert claims.claim_l1() is None
    l1_table([0.5, 0.9], [0.9, 0.9]).to_csv(tmp_path / "data" / "size_study.csv", index=False)
    claim = claims.claim_l1()
    assert claim is not None and claim["extension"] and claim["holds"] and claim["id"] == "L1"
    sentence = claims.SENTENCES["L1"](claim["measured"])
    assert "digits_mlp" in sentence and "100.0 %" in sentence
    json.dumps(claim)


def test_l1_points_decided_by_clopper_pearson_of_the_held_out_accuracies():
    # 100 held-out inputs each: 0.9 against 0.5 is decided, 0.6 against 0.605 is a tie the intervals leave open
    table = l1_table([0.5, 0.605, 0.9, 0.5], [0.9, 0.6, 0.5, 0.95]).assign(heldout_samples=100)
    measured, holds = claims.l1_verdict(table)
    family = measured["by_family"]["digits_mlp"]
    assert family["largest_best_points"] == 3 and holds  # the point estimate counts the tie for the larger
    assert family["largest_best_share_ci95"] == [0.5, 0.75] and family["points_undecided"] == 1
    assert family["verdict"] == "holds" and measured["verdict"] == "holds"
    # one more undecided point: the bracket [0.25, 0.75] straddles one half
    table = l1_table([0.5, 0.605, 0.9, 0.9], [0.9, 0.6, 0.5, 0.88]).assign(heldout_samples=100)
    family = claims.l1_verdict(table)[0]["by_family"]["digits_mlp"]
    assert family["largest_best_share_ci95"] == [0.25, 0.75] and family["verdict"] == "inconclusive"
    # the notebook's interval columns take precedence over Clopper-Pearson
    table = table.assign(task_metric_ci95_low=table["task_metric"], task_metric_ci95_high=table["task_metric"])
    family = claims.l1_verdict(table)[0]["by_family"]["digits_mlp"]
    assert family["points_undecided"] == 0 and family["largest_best_share_ci95"] == [0.5, 0.5]


def test_measured_intervals_of_one_measurement():
    hits = np.array([1.0] * 18 + [0.0] * 2)
    distortions = np.linspace(0.1, 0.3, 20)
    found = {"metric": "test_accuracy", "metric_per_input": hits, "distortion_per_input": distortions}
    intervals = model_size.measured_intervals(found)
    assert (intervals["task_metric_ci95_low"], intervals["task_metric_ci95_high"]) == stats.clopper_pearson(18, 20)
    assert (intervals["distortion_ci95_low"], intervals["distortion_ci95_high"]) == stats.bootstrap_mean(distortions)
    cosine = model_size.measured_intervals({**found, "metric": "cosine_similarity", "metric_per_input": distortions})
    assert cosine["task_metric_ci95_low"] == intervals["distortion_ci95_low"]  # a mean: the same bootstrap
    unknown = model_size.measured_intervals({**found, "metric_per_input": None})
    assert np.isnan(unknown["task_metric_ci95_low"])
