"""The claim verdicts follow their criteria on hand-made tables (coinfer.claims)."""

import json

import numpy as np
import pandas as pd
import pytest

from coinfer import claims


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    (tmp_path / "data").mkdir()

    def write(name, rows):
        pd.DataFrame(rows).to_csv(tmp_path / "data" / name, index=False)

    return write


def c1_tables(write, violations=0, large_share=1.0, relative_share=0.2, old_reading=True, mode="per_ratio"):
    write("bound_summary.csv", [{"source": "random", "n_checks": 100, "violations": violations}])
    write("exact_bound_digits.csv", [{"n_inputs": 10, "violations_operator": 0, "violations_entrywise": 0}])
    rows = [
        {
            "model": m,
            "ratio": r,
            "H_mode": mode,
            "n_heldout": n,
            "frac_holds": share,
            "frac_holds_relative": relative,
            **({"frac_holds_max_over_ratios": 1.0} if old_reading else {}),
        }
        for m in claims.FIRST_ORDER_MODELS
        for r, n, share, relative in [(0.3, 10, 0.5, 0.0), (0.8, 10, large_share, relative_share), (0.9, 30, 1.0, 1.0)]
    ]
    write("first_order_bound.csv", rows)


def test_c1_holds_only_without_violations_and_with_a_reliable_first_order_bound(data):
    c1_tables(data)
    verdict = claims.claim_c1()
    assert verdict["holds"] and verdict["measured"]["exact_violations"] == 0
    assert verdict["measured"]["first_order_holding_share_ratio_below_0.5"]["minilm"] == 0.5
    c1_tables(data, violations=1)
    assert not claims.claim_c1()["holds"]
    c1_tables(data, large_share=0.8)  # (0.8 * 10 + 1.0 * 30) / 40 = 0.95: on the threshold
    verdict = claims.claim_c1()
    assert verdict["holds"] and verdict["measured"]["first_order_holding_share_large_ratio"]["minilm"] == 0.95
    c1_tables(data, large_share=0.7)  # (0.7 * 10 + 30) / 40 = 0.925 < 0.95
    verdict = claims.claim_c1()
    assert not verdict["holds"] and verdict["measured"]["first_order_holding_share_large_ratio"]["minilm"] == 0.925


def test_c1_reports_the_scale_free_form_and_the_old_reading_without_letting_them_decide(data):
    c1_tables(data, large_share=0.7)  # per-ratio H fails; the old reading held everywhere
    verdict = claims.claim_c1()
    measured = verdict["measured"]
    assert not verdict["holds"] and measured["first_order_max_over_ratios_share_large_ratio"]["minilm"] == 1.0
    assert measured["first_order_scale_free_share_large_ratio"]["efficientnet_lite0"] == (0.2 * 10 + 30) / 40
    [robust] = verdict["robustness"]
    assert robust["reading"] == "first-order bound: scale-free form (no fitted H)"
    assert not robust["holds"] and robust["measured"] == measured["first_order_scale_free_share_large_ratio"]
    c1_tables(data, relative_share=1.0, old_reading=False)  # scale-free form holds at every large ratio
    verdict = claims.claim_c1()
    assert verdict["holds"] and verdict["robustness"][0]["holds"]
    assert "first_order_max_over_ratios_share_large_ratio" not in verdict["measured"]
    c1_tables(data, relative_share=1.0, violations=1)  # (a) fails under every reading
    assert not claims.claim_c1()["robustness"][0]["holds"]


def test_c1_refuses_a_table_fitted_with_one_h_over_all_ratios(data):
    c1_tables(data, mode="max_over_ratios")
    with pytest.raises(ValueError, match="H_mode max_over_ratios, not per_ratio"):
        claims.claim_c1()
    data("first_order_bound.csv", [{"model": "minilm", "ratio": 0.8, "n_inputs": 10, "frac_holds": 1.0}])  # old table
    with pytest.raises(ValueError, match="no column n_heldout, frac_holds_relative"):
        claims.claim_c1()


def c2_tables(write, laplace_like=(True, True, False), lb_holds=(True, True)):
    write(
        "weight_fit_verdicts.csv",
        [
            {"model": m, "part": "layer", "n": n, "laplace_like": flag}
            for m in claims.PRETRAINED_MODELS
            for n, flag in zip((10, 10, 5), laplace_like, strict=True)
        ],
    )
    write(
        "pruning_param_distortion.csv",
        [
            {
                "model": "minilm",
                "part": "all",
                "ratio": r,
                "quantisation": "q16",
                "lb_holds": ok,
                "measured_over_lb": 1.5,
            }
            for r, ok in zip((0.5, 0.9), lb_holds, strict=True)
        ]
        + [
            {
                "model": "minilm",
                "part": "all",
                "ratio": 0.0,
                "quantisation": "q16",
                "lb_holds": False,
                "measured_over_lb": 0.0,
            }
        ],
    )  # below c2_min_ratio: not counted


def test_c2_weighs_layers_by_weight_count_and_ignores_tiny_ratios(data):
    c2_tables(data)
    verdict = claims.claim_c2()
    assert verdict["holds"] and verdict["measured"]["laplace_weight_share"]["minilm"] == pytest.approx(0.8)
    c2_tables(data, laplace_like=(True, False, False))  # 10 of 25 weights
    assert not claims.claim_c2()["holds"]
    c2_tables(data, lb_holds=(True, False))
    assert claims.claim_c2()["measured"]["bound_holding_share"] == 0.5


def c3_table(write, proposed, benchmarks):
    rows = []
    for x, value in enumerate(proposed):
        rows.append(
            {
                "model": "m",
                "sweep": "s",
                "x": x,
                "scheme": "proposed",
                "status": "optimal" if value is not None else "infeasible",
                "objective": value,
            }
        )
        for scheme, values in benchmarks.items():
            rows.append(
                {
                    "model": "m",
                    "sweep": "s",
                    "x": x,
                    "scheme": scheme,
                    "status": "optimal" if values[x] is not None else "infeasible",
                    "objective": values[x],
                }
            )
    write("opt_budget_sweep.csv", rows)


def test_c3_needs_never_worse_and_beating_both_extremes(data):
    c3_table(data, [1.0, 1.0], {"on_device": [2.0, None], "on_server": [1.5, 1.2]})
    verdict = claims.claim_c3()
    assert verdict["holds"]
    assert verdict["measured"]["by_benchmark"]["on_device"]["points_only_proposed_feasible"] == 1
    c3_table(data, [1.0, 1.0], {"on_device": [2.0, 2.0], "on_server": [1.0, 1.0]})  # ties with on-server
    verdict = claims.claim_c3()
    assert not verdict["holds"] and verdict["measured"]["by_benchmark"]["on_server"]["share_beaten"] == 0.0
    c3_table(data, [1.0, 1.0], {"on_device": [2.0, 2.0], "on_server": [2.0, 0.9]})  # a benchmark wins once
    assert claims.claim_c3()["measured"]["points_where_proposed_is_worse"] == 1


def c4_table(write, objectives):
    rows = [
        {
            "model": "m",
            "bandwidth": setting,
            "latency_factor": 1,
            "energy_factor": 1,
            "split": split,
            "status": "optimal" if value is not None else "infeasible",
            "objective": value,
        }
        for setting, values in enumerate(objectives)
        for split, value in enumerate(values)
    ]
    write("opt_split_sweep.csv", rows)


def test_c4_counts_winners_with_ties_credited_to_extremes(data):
    c4_table(data, [[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    verdict = claims.claim_c4()["measured"]["by_model"]["m"]
    assert verdict["distinct_winning_splits"] == 2 and verdict["best_fixed_split_worst_regret"] == pytest.approx(1.0)
    assert claims.claim_c4()["holds"]
    c4_table(data, [[1.0, 1.0 + 1e-9, 2.0], [1.0, 2.0, 3.0]])  # split 1 only ties the extreme
    verdict = claims.claim_c4()
    assert verdict["measured"]["by_model"]["m"]["winning_splits"] == [0] and not verdict["holds"]


def test_report_is_json_and_markdown_without_infinities(data, tmp_path):
    c1_tables(data)
    c2_tables(data)
    c3_table(data, [1.0], {"on_device": [None], "on_server": [2.0]})
    c4_table(data, [[1.0, None, 2.0], [2.0, None, 1.0]])
    written = claims.write_claims_report()
    loaded = json.loads((tmp_path / "data" / "claims.json").read_text())
    assert [c["id"] for c in loaded] == ["C1", "C2", "C3", "C4"] and loaded == written
    assert loaded[3]["measured"]["by_model"]["m"]["best_fixed_split_worst_regret"] == 1.0
    table = (tmp_path / "data" / "claims.md").read_text()
    verdicts, matrix = table.split("## How the verdicts move under other readings")
    assert verdicts.count("| C") == 4 and "Infinity" not in table
    # The matrix: one row per claim, a column per reading; C2's whole-model reading applies to C2 alone.
    assert matrix.count("| C") == 4
    header = next(line for line in matrix.splitlines() if line.startswith("| claim"))
    assert "Laplace premise judged on the whole model" in header
    c1_row = next(line for line in matrix.splitlines() if line.startswith("| C1 "))
    assert "n/a" in c1_row


def test_c1_verdict_is_inconclusive_when_the_interval_straddles_the_threshold(data):
    c1_tables(data)  # 40 of 40 held-out pairs at large ratios: CP lower bound 0.912 < 0.95
    verdict = claims.claim_c1()
    assert verdict["holds"] and verdict["verdict"] == "inconclusive"
    low, high = verdict["measured"]["first_order_holding_share_large_ratio_ci95"]["minilm"]
    assert low < claims.THRESHOLDS.c1_min_holding_fraction <= high == 1.0
    c1_tables(data, large_share=0.0)  # 30 of 40: the whole interval is below 0.95
    assert claims.claim_c1()["verdict"] == "does not hold"
    c1_tables(data, violations=1)
    assert claims.claim_c1()["verdict"] == "does not hold"


def test_c4_verdict_skips_a_model_with_no_feasible_setting():
    rows = pd.DataFrame(
        {
            "model": "m",
            "bandwidth": 1.0,
            "latency_factor": 1.0,
            "energy_factor": 1.0,
            "split": [0, 1],
            "status": "infeasible",
            "objective": np.nan,
        }
    )
    measured, holds = claims.c4_verdict(rows)
    assert not holds and measured["by_model"]["m"]["settings"] == 0


def test_c4_sentence_says_how_much_the_best_fixed_split_loses():
    def model(regret) -> dict:
        return {"best_fixed_split_worst_regret": regret, "distinct_winning_splits": 2}

    sentence = claims.SENTENCES["C4"](
        {"by_model": {"a": model(0.0), "b": model(0.004), "c": model(28.3434), "d": model("infeasible")}}
    )
    assert "a: 2 distinct best splits; the best fixed split is among the best at every setting" in sentence
    assert "b: 2 distinct best splits; the best fixed split is within 0.4 % of the best objective" in sentence
    assert "c: 2 distinct best splits; the best fixed split reaches up to 29.3x the best objective" in sentence
    assert "d: 2 distinct best splits; the best fixed split is infeasible somewhere" in sentence


def c1_clusters(write, shares):
    """One cluster table: per first-order model, one cluster per entry of ``shares`` (10 pairs at ratio 0.8 each)."""
    write(
        claims.FIRST_ORDER_CLUSTERS_FILE,
        [
            {
                "model": m,
                "ratio": ratio,
                "subset": "heldout",
                "source": f"photo_{i % 2}",
                "cluster": f"photo_{i % 2}" if m == "efficientnet_lite0" else f"heldout:{i}",
                "n_pairs": 10,
                "n_holds": int(10 * share) if ratio >= 0.7 else 0,
            }
            for m in claims.FIRST_ORDER_MODELS
            for i, share in enumerate(shares)
            for ratio in (0.3, 0.8)
        ],
    )


def test_c1_reports_the_clustered_interval_and_per_source_shares_beside_the_declared_verdict(data):
    c1_tables(data, large_share=1.0)
    verdict = claims.claim_c1()
    assert "first_order_holding_share_large_ratio_cluster_ci95" not in verdict["measured"]  # older data: no table
    assert [r["reading"] for r in verdict["robustness"]] == [claims.SCALE_FREE_READING]
    c1_clusters(data, [1.0] * 40)  # 40 inputs that always hold: the bootstrap interval is [1, 1]
    verdict = claims.claim_c1()
    measured = verdict["measured"]
    assert verdict["verdict"] == "inconclusive"  # the declared rule (Clopper-Pearson) still decides
    assert measured["first_order_holding_share_large_ratio_cluster_ci95"]["minilm"] == [1.0, 1.0]
    assert measured["first_order_clusters_large_ratio"] == {"minilm": 40, "efficientnet_lite0": 2}
    clustered = verdict["robustness"][-1]
    assert clustered["reading"] == claims.CLUSTERED_READING and clustered["verdict"] == "holds" and clustered["holds"]
    # Photo 0's crops always hold, photo 1's in 0.9 of pairs; two photos resampled whole give 0.9 to 1.
    c1_clusters(data, [1.0, 0.9] * 20)
    verdict = claims.claim_c1()
    measured = verdict["measured"]
    assert measured["first_order_holding_share_large_ratio_by_source"]["efficientnet_lite0"] == {
        "photo_0": 1.0,
        "photo_1": 0.9,
    }
    low, high = measured["first_order_holding_share_large_ratio_cluster_ci95"]["efficientnet_lite0"]
    assert (low, high) == (0.9, 1.0)
    low_inputs, high_inputs = measured["first_order_holding_share_large_ratio_cluster_ci95"]["minilm"]
    assert low < low_inputs < 0.95 < high_inputs < high  # 40 inputs resampled: narrower than 2 photos
    assert verdict["robustness"][-1]["verdict"] == "inconclusive" and not verdict["robustness"][-1]["holds"]
    assert "photo" in claims.SENTENCES["C1"](verdict["measured"])
    assert "inconclusive" in claims.robustness_matrix([verdict])
