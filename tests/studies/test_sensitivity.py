"""Global sensitivity of the C3/C4 verdicts (coinfer.studies.sensitivity, model.md 7.4) and its claims entries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coinfer import claims, optimise
from coinfer.base import paths
from coinfer.base.validation import ParameterError
from coinfer.model import system
from coinfer.model.stats import clopper_pearson
from coinfer.nets import profiles
from coinfer.studies import sensitivity
from coinfer.studies.sensitivity import RANGES, Range

_BASE = dict(
    flops_device=1e9, flops_server=1e9, params_device=1e6, params_server=1e6, scale_device=0.05, scale_server=0.05,
    feature_bits=1e5, latency_budget=1.0, energy_budget=1.0,
)  # fmt: skip


def _profile(model: str, rows: list[tuple[float, float, float, float, float]]) -> pd.DataFrame:
    """Split rows ``(flops_device, flops_server, params_device, params_server, feature_bits)`` of one model."""
    last = len(rows) - 1
    return pd.DataFrame(
        [
            {
                "model": model,
                "split": s,
                "split_name": f"s{s}",
                "num_blocks": last,
                "flops_device": fd,
                "flops_server": fs,
                "params_device": pd_,
                "params_server": ps,
                "feature_bits": bits,
                "scale_device": 0.05,
                "scale_server": 0.05,
                "bits_per_element": 16,
            }
            for s, (fd, fs, pd_, ps, bits) in enumerate(rows)
        ]
    )


#: Split 1 wins outright: split 0 must send 1e15 bits (no pruning shortens it) and split 2 must run 1e20 FLOPs on
#: the device (pruning removes at most 99 %), so both extremes are infeasible at every sample.
MIDDLE_WINS = _profile("middle", [(0, 2e9, 0, 2e6, 1e15), (1e9, 1e9, 1e6, 1e6, 1e5), (1e20, 0, 2e6, 0, 0)])
#: Split 1 must send 1e15 bits: an extreme always wins, the intermediate split never.
MIDDLE_LOSES = _profile("extremes", [(0, 2e9, 0, 2e6, 1e5), (1e9, 1e9, 1e6, 1e6, 1e15), (2e9, 0, 2e6, 0, 0)])


@pytest.mark.parametrize("spec", RANGES, ids=lambda r: r.name)
def test_ranges_are_inside_the_problems_allowed_values(spec: Range):
    problem = system.make_problem(**_BASE)
    values = list(spec.choices) if spec.kind == "choice" else [spec.low, spec.high]
    for value in values:
        if spec.name == "distance":
            problem.replace(channel_gain=system.channel_gain(value))
        elif spec.name == "feature_bits":
            assert profiles.with_feature_bits(MIDDLE_WINS, value)["bits_per_element"].eq(value).all()
        elif spec.name in sensitivity.BUDGET_FACTORS:  # multiplies a budget: any positive factor is allowed
            assert value > 0
        else:
            changes = {spec.name: value, **sensitivity.clock_floors({spec.name: value})}
            assert getattr(problem.replace(**changes), spec.name) == value
    if spec.kind == "log":
        default = {"distance": system.INPUT_FIELDS["distance"], **dict.fromkeys(sensitivity.BUDGET_FACTORS, 1.0)}.get(
            spec.name, system.DEFAULTS.get(spec.name)
        )
        assert spec.low < default < spec.high  # the defaults sit inside their ranges


def test_samples_lie_in_their_ranges_and_have_the_saltelli_size():
    constants = sensitivity.sample_constants(8, seed=3)
    assert len(constants) == sensitivity.samples_per_model(8) == 8 * (len(RANGES) + 2)
    for spec in RANGES:
        if spec.kind == "choice":
            assert set(constants[spec.name]) == set(spec.choices)  # every category is drawn
        else:
            assert constants[spec.name].between(spec.low, spec.high).all()
    with pytest.raises(ParameterError, match="power of two"):
        sensitivity.sample_constants(12, seed=0)


def test_the_sampler_and_the_study_are_seeded(tmp_path, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    profile = pd.concat([MIDDLE_WINS, MIDDLE_LOSES], ignore_index=True)
    written = []
    for _ in range(2):  # seed 0, the notebook's default (SALib would take a bare 0 as "unseeded")
        constants = sensitivity.sample_constants(4, seed=0)
        table = sensitivity.study(profile, ["middle", "extremes"], constants, workers=1, progress=False)
        indices = sensitivity.sobol_indices(table, 4, seed=0)
        paths.write_csv(table, "sensitivity_samples.csv")
        paths.write_csv(indices, "sensitivity_indices.csv")
        written.append(
            [(tmp_path / "data" / n).read_bytes() for n in ("sensitivity_samples.csv", "sensitivity_indices.csv")]
        )
    assert written[0] == written[1]
    assert not sensitivity.sample_constants(4, seed=8).equals(sensitivity.sample_constants(4, seed=0))


def test_references_are_the_systems_at_each_samples_constants():
    """One computation of T_ref, E_ref (model.md section 7.3): the study's are system.reference_budgets of the
    sample's problems, to the bit, and the budgets are the factors times them."""
    constants = sensitivity.sample_constants(4, seed=1)
    for name, profile in (("middle", MIDDLE_WINS), ("extremes", MIDDLE_LOSES)):
        table = sensitivity.study(
            profile, [name], constants, latency_factor=0.5, energy_factor=2.0, workers=1, progress=False
        )
        for i, row in constants.iloc[::5].iterrows():
            skip = ("feature_bits", "distance", *sensitivity.BUDGET_FACTORS)
            fields = {n: row[n] for n in sensitivity.NAMES if n not in skip}
            fields["bits_per_weight"] = int(fields["bits_per_weight"])
            fields.update(sensitivity.clock_floors(fields))
            problems = system.problems_for_splits(
                sensitivity.feature_variant(profile, int(row["feature_bits"]), None),
                latency_budget=1.0,
                energy_budget=1.0,
                distance=row["distance"],
                **fields,
            )
            assert (table.loc[i, "T_ref"], table.loc[i, "E_ref"]) == system.reference_budgets(problems)
            assert (table.loc[i, "T0"], table.loc[i, "E0"]) == (  # times the sampled budget factors
                0.5 * table.loc[i, "T_ref"] * row["latency_budget_factor"],
                2.0 * table.loc[i, "E_ref"] * row["energy_budget_factor"],
            )


def test_gains_on_hand_made_three_split_profiles():
    constants = sensitivity.sample_constants(2, seed=0)
    profile = pd.concat([MIDDLE_WINS, MIDDLE_LOSES], ignore_index=True)
    lossless = pd.DataFrame(  # every width of every intermediate split within the cap: the sampled width is sent
        [(m, 1, b, 0.0) for m in ("middle", "extremes") for b in (4, 8, 16)],
        columns=["model", "split", "bits_per_element", "distortion_mean"],
    )
    table = sensitivity.study(
        profile, ["middle", "extremes"], constants, feature_quantisation=lossless, workers=1, progress=False,
        chunk_samples=5,
    )  # fmt: skip
    middle, extremes = table[table.model == "middle"], table[table.model == "extremes"]
    assert middle[["beats_on_device", "beats_on_server", "beats_both_extremes"]].all().all()
    assert middle["intermediate_beats_extremes"].all() and (middle["best_split"] == 1).all()
    assert middle[["on_device_norm", "on_server_norm"]].isna().all().all()  # infeasible extremes
    assert not extremes["intermediate_beats_extremes"].any()
    # never the middle split; a sample whose budget factors and physical constants leave nothing feasible: -1
    assert extremes["best_split"].isin([-1, 0, 2]).all() and extremes["best_split"].isin([0, 2]).mean() > 0.9
    # the batch solver's best split is the scalar solver's, sample by sample
    rows = MIDDLE_LOSES.reset_index(drop=True)
    for i in (0, 7):
        record = constants.iloc[i]
        skip = ("feature_bits", "distance", *sensitivity.BUDGET_FACTORS)
        fields = {n: record[n] for n in sensitivity.NAMES if n not in skip}
        fields["bits_per_weight"] = int(fields["bits_per_weight"])
        fields.update(sensitivity.clock_floors(fields))
        t0, e0 = float(extremes.iloc[i]["T0"]), float(extremes.iloc[i]["E0"])
        probs = system.problems_for_splits(
            profiles.with_feature_bits(rows, int(record["feature_bits"])),  # lossless: the sampled width is sent
            latency_budget=t0,
            energy_budget=e0,
            distance=float(record["distance"]),
            **fields,
        )
        best, solutions = optimise.select_split(probs)
        assert extremes.iloc[i]["best_split"] == (-1 if best is None else best)


def test_gains_from_objectives_with_known_answers():
    inf = np.inf
    objectives = pd.DataFrame(
        {
            "proposed": [1.0, 1.0, 1.0, inf, 1.0],
            "on_device": [1.0, 1.02, inf, inf, 1.005],
            "on_server": [2.0, inf, 1.5, inf, 1.02],
            "best_intermediate": [1.5, 1.0, inf, inf, 1.0],
            "max_resources": [1.5, inf, 1.0, inf, 1.0],
        }
    )
    g = sensitivity.gains(objectives)
    assert g["beats_on_device"].tolist() == [False, True, True, False, False]
    assert g["beats_on_server"].tolist() == [True, True, True, False, True]
    assert g["beats_both_extremes"].tolist() == [False, True, True, False, False]
    assert g["intermediate_beats_extremes"].tolist() == [False, True, False, False, False]
    assert g["beats_max_resources"].tolist() == [True, True, False, False, False]
    assert g["on_device_over_proposed"].iloc[1] == pytest.approx(1.02)
    assert np.isinf(g["on_server_over_proposed"].iloc[1]) and np.isnan(g["on_server_over_proposed"].iloc[3])


def test_sobol_analysis_recovers_the_dominant_constant():
    ranges = (
        Range("x1", "log", 1.0, 100.0, "1", "synthetic"),
        Range("x2", "log", 1.0, 100.0, "1", "synthetic"),
        Range("x3", "choice", 0, 2, "", "synthetic", ("a", "b")),
    )
    constants = sensitivity.sample_constants(256, seed=0, ranges=ranges)
    # gain = x1 above the middle of its (log) range, x2 a small nudge, x3 nothing
    constants["g"] = np.log10(constants["x1"]) + 0.05 * np.log10(constants["x2"]) > 1.05
    constants.insert(0, "model", "synthetic")
    indices = sensitivity.sobol_indices(constants, 256, seed=0, gains_analysed=["g"], ranges=ranges).set_index(
        "constant"
    )
    assert indices.loc["x1", "ST"] > 0.8 and indices.loc["x1", "S1"] > 0.6
    assert indices.loc["x3", "ST"] < 0.05 and indices.loc["x2", "ST"] < indices.loc["x1", "ST"] / 4
    assert sensitivity.top_constants(indices.reset_index(), "g", 1) == {"synthetic": ["x1"]}
    assert indices.loc["x1", "S1_conf"] > 0 and (indices["ST_conf"] >= 0).all()  # seeded bootstrap intervals


def test_a_gain_that_always_holds_has_no_indices():
    constants = sensitivity.sample_constants(4, seed=0)
    constants.insert(0, "model", "m")
    constants["beats_on_device"] = True
    indices = sensitivity.sobol_indices(constants, 4, seed=0, gains_analysed=["beats_on_device"])
    assert indices["ST"].isna().all() and (indices["share"] == 1.0).all()


def _shares_table(shares: dict[str, float], n: int = 100) -> pd.DataFrame:
    rows = []
    for model, share in shares.items():
        hits = round(share * n)
        for k in range(n):
            rows.append(
                {
                    "model": model,
                    "beats_both_extremes": k < hits,
                    "beats_max_resources": k < hits,
                    "intermediate_beats_extremes": k < hits,
                }
            )
    return pd.DataFrame(rows)


def test_c3_and_c4_read_different_named_columns():
    table = _shares_table({"minilm": 1.0})
    table["beats_max_resources"] = False  # the extremes are beaten, maximum resources never
    c3, c4 = (claims.sampled_constants_entry(claim, table) for claim in ("C3", "C4"))
    assert (c3["gain"], c4["gain"]) == ("beats_every_sampled_benchmark", "intermediate_beats_extremes")
    assert c3["measured"] == {"minilm": 0.0} and c4["measured"] == {"minilm": 1.0}
    assert (c3["verdict"], c3["holds"], c4["verdict"], c4["holds"]) == ("does not hold", False, "holds", True)
    # a table written with the column reads it as written
    table["beats_every_sampled_benchmark"] = True
    assert claims.sampled_constants_entry("C3", table)["measured"] == {"minilm": 1.0}


def test_share_intervals_resample_base_rows_not_samples():
    # 200 base rows of D + 2 = 14 samples; the outcome is constant within a base row (the worst case of copying)
    d = len(sensitivity.RANGES) + 2
    outcome = np.repeat(np.arange(200) % 2 == 0, d)
    table = pd.DataFrame({"model": "m", "sample": np.arange(200 * d), "intermediate_beats_extremes": outcome})
    entry = claims.sampled_constants_entry("C4", table)
    low, high = entry["measured_ci95"]["m"]
    cp_low, cp_high = clopper_pearson(int(outcome.sum()), outcome.size)
    assert entry["measured"]["m"] == 0.5 and "base rows" in entry["interval"]
    # 200 independent units, not 2800: about sqrt(14) times wider than Clopper-Pearson over the samples
    assert (high - low) / (cp_high - cp_low) > 3.0
    assert list(sensitivity.base_rows(table)[: d + 1]) == [0] * d + [1]
    assert (low, high) == sensitivity.share_interval(outcome, sensitivity.base_rows(table))


def test_claims_entries_flip_across_one_half():
    below = _shares_table({"minilm": 0.49, "efficientnet_lite0": 0.49})
    above = _shares_table({"minilm": 0.51, "efficientnet_lite0": 0.51})
    mixed = _shares_table({"minilm": 0.2, "efficientnet_lite0": 0.8})
    for claim in ("C3", "C4"):
        entry = claims.sampled_constants_entry(claim, below)
        assert entry["meets_threshold_at_point_estimate"] is False
        assert entry["measured"] == {"minilm": 0.49, "efficientnet_lite0": 0.49}
        assert entry["holds"] is None and entry["verdict"] == "inconclusive"  # 100 samples cannot tell 0.49 from 0.5
        assert "100 samples per model" in entry["reading"] and "majority" in entry["reading"]
        assert claims.sampled_constants_entry(claim, above)["meets_threshold_at_point_estimate"] is True
    assert claims.sampled_constants_entry("C3", mixed)["holds"] is False  # C3: every model
    assert claims.sampled_constants_entry("C4", mixed)["holds"] is True  # C4: some model


def test_claims_entries_appear_only_with_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    assert claims.sampled_constants_entries("C3") == []
    paths.write_csv(_shares_table({"minilm": 0.7}), "sensitivity_samples.csv")
    (entry,) = claims.sampled_constants_entries("C4")
    assert entry["holds"] is True and entry["verdict"] == "holds" and entry["measured"] == {"minilm": 0.7}


def test_claims_entries_carry_clopper_pearson_intervals_and_the_inconclusive_rule():
    # 100 samples all with the gain: the interval is [0.025^(1/100), 1]
    entry = claims.sampled_constants_entry("C4", _shares_table({"minilm": 1.0}))
    assert entry["measured_ci95"]["minilm"] == pytest.approx([0.025 ** (1 / 100), 1.0])
    for share, verdict in ((0.51, "inconclusive"), (0.49, "inconclusive"), (0.7, "holds"), (0.3, "does not hold")):
        assert claims.sampled_constants_entry("C4", _shares_table({"minilm": share}))["verdict"] == verdict, share
    mixed = _shares_table({"minilm": 0.2, "efficientnet_lite0": 0.51})
    assert claims.sampled_constants_entry("C3", mixed)["verdict"] == "does not hold"  # every model: one fails
    assert claims.sampled_constants_entry("C4", mixed)["verdict"] == "inconclusive"  # some model: one straddles


def test_a_sampled_clock_ceiling_carries_its_floor_at_the_defaults_ratio():
    """model.md 7.4: a sampled f_X_max scales its DVFS floor f_X_min by the default chip's ratio, so every sample
    is a valid problem (a floor above the ceiling would be refused)."""
    floors = sensitivity.clock_floors({"f_device_max": 1e9, "f_server_max": 4e9, "p_max": 0.2})
    assert set(floors) == {"f_device_min", "f_server_min"}
    assert floors["f_device_min"] == pytest.approx(
        1e9 * system.DEFAULTS["f_device_min"] / system.DEFAULTS["f_device_max"]
    )
    assert floors["f_server_min"] == pytest.approx(4e9 * 0.8 / 3.0)
    for spec in RANGES:
        if spec.name.startswith("f_") and spec.name.endswith("_max"):
            low = sensitivity.clock_floors({spec.name: spec.low})
            assert 0 < next(iter(low.values())) < spec.low


def test_physical_constants_and_budget_factors_are_sampled():
    """Issue 24 item 4: the physical model's constants (within hardware.PLAUSIBLE_RANGES) and the budget factors
    enter the Sobol design, and a sampled budget factor scales the budgets a sample is solved at."""
    from coinfer.model import hardware

    for name in ("static_power_device", "static_power_server", "memory_energy_device", "memory_energy_server",
                 "memory_bandwidth_device", "memory_bandwidth_server", "access_latency", "circuit_power"):  # fmt: skip
        spec = next(r for r in RANGES if r.name == name)
        assert (spec.low, spec.high) == hardware.PLAUSIBLE_RANGES[name]
    assert set(sensitivity.BUDGET_FACTORS) <= set(sensitivity.NAMES)
    constants = sensitivity.sample_constants(2, seed=0).head(2).copy()
    constants["latency_budget_factor"], constants["energy_budget_factor"] = [1.0, 0.5], [1.0, 3.0]
    table = sensitivity.study(
        MIDDLE_WINS, ["middle"], constants, budgets={"middle": (0.1, 1.0)}, progress=False, workers=1
    )
    assert table["T0"].tolist() == pytest.approx([0.1, 0.05]) and table["E0"].tolist() == pytest.approx([1.0, 3.0])


def test_a_sampled_feature_width_is_charged_what_it_costs():
    """Issue 24 item 4: a sampled width is a floor among the measured widths within the 1 % cap; a split whose
    rounding at that width adds more sends the next measured width within the cap, else its 16 bits; a split
    with no measurement keeps 16 bits (the objective does not count feature rounding)."""
    rows = MIDDLE_WINS
    cap = profiles.FEATURE_DISTORTION_CAP
    quantisation = pd.DataFrame(
        {
            "model": "middle",
            "split": [1, 1, 1],
            "bits_per_element": [4, 8, 16],
            "distortion_mean": [3 * cap, cap / 2, 0.0],  # 4 bits break the cap, 8 bits meet it
        }
    )
    sent = {b: sensitivity.feature_variant(rows, b, quantisation).set_index("split") for b in (4, 8, 16)}
    assert sent[4].loc[1, "bits_per_element"] == 8 and sent[4].loc[1, "feature_bits"] == 1e5 / 2
    assert sent[8].loc[1, "bits_per_element"] == 8
    assert sent[16].loc[1, "bits_per_element"] == 16 and sent[16].loc[1, "feature_bits"] == 1e5
    for b in (4, 8, 16):  # the extremes send no rounded feature; nothing measured: nothing moves
        assert sent[b].loc[0, "feature_bits"] == 1e15 and sent[b].loc[2, "feature_bits"] == 0
        assert sensitivity.feature_variant(rows, b, None).equals(rows)
    over = quantisation.assign(distortion_mean=[3 * cap, 2 * cap, 2 * cap])  # no width meets the cap
    assert sensitivity.feature_variant(rows, 4, over).set_index("split").loc[1, "bits_per_element"] == 16
