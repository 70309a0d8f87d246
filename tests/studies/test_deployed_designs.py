"""Deployed designs and the extensions E1-E3 (model.md section 9): measure_designs, the topic task, the verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from coinfer import claims
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.base.validation import ParameterError
from coinfer.model import stats
from coinfer.nets import deploy as deploy_module
from coinfer.nets import inputs
from coinfer.nets.deploy import deploy, relative_distortion
from coinfer.nets.zoo import load_model
from coinfer.pipeline import notebook_params
from coinfer.studies import deployed_designs

MODEL = "digits_cnn"


def _row(x: float, scheme: str, split: float, rho_d: float, rho_s: float, status: str = "optimal", **extra) -> dict:
    return {
        "model": MODEL,
        "sweep": "latency_budget",
        "x": x,
        "scheme": scheme,
        "status": status,
        "split": split,
        "rho_device": rho_d,
        "rho_server": rho_s,
        "objective": extra.pop("objective", 0.1),
        **extra,
    }


@pytest.fixture(scope="module")
def cnn():
    return load_model(MODEL)


@pytest.fixture(scope="module")
def measured(cnn):
    """A tiny hand-made sweep: two points, a repeated decision, an infeasible row, a 4-bit scheme."""
    rows = [
        _row(0.5, "proposed", 2, 0.5, 0.3),
        _row(0.5, "on_device", np.nan, np.nan, np.nan, status="infeasible"),
        _row(0.5, "quantised_4bit", 0, np.nan, 0.0),
        _row(2.0, "proposed", 2, 0.5, 0.3000000001),  # the same decision (same pruned counts)
        _row(2.0, "shared_ratio", 1, 0.7, 0.7),
        _row(2.0, "on_device", 4, 0.9, np.nan),
    ]
    table = pd.DataFrame(rows)
    calls: list[int] = []
    original = deployed_designs.EvaluationSet.score

    def counting(self, vectors):
        calls.append(1)
        return original(self, vectors)

    deployed_designs.EvaluationSet.score = counting  # type: ignore[method-assign]
    try:
        frame = deployed_designs.measure_designs(
            table, MODEL, n_inputs=120, seed=3, model=cnn, progress=False, workers=1
        )
    finally:
        deployed_designs.EvaluationSet.score = original  # type: ignore[method-assign]
    return table, frame, len(calls)


def test_every_row_is_kept_with_its_status_and_infeasible_rows_are_nan(measured):
    table, frame, _ = measured
    assert list(frame.columns) == list(deployed_designs.COLUMNS)
    assert len(frame) == len(table) and list(frame.scheme) == list(table.scheme)
    assert list(frame.point) == [0, 0, 0, 1, 1, 1]
    infeasible = frame[frame.status != "optimal"]
    assert len(infeasible) == 1 and infeasible[["measured_distortion", "task_metric"]].isna().all().all()
    assert frame.loc[frame.status == "optimal", "measured_distortion"].notna().all()
    assert frame.task_metric_name.eq("test_accuracy").all() and frame.topic_accuracy.isna().all()
    assert list(frame.bits[frame.status == "optimal"]) == [16, 4, 16, 16, 16]


def test_identical_decisions_are_measured_once(measured):
    _, frame, scores = measured
    # 4 distinct decisions measured, plus the unpruned model scored once
    assert scores == 4 + 1
    first, again = frame.iloc[0], frame.iloc[3]
    assert first.measured_distortion == again.measured_distortion and first.task_metric == again.task_metric


def test_measurements_equal_deploy_and_measure(cnn, measured):
    _, frame, _ = measured
    evaluation = deployed_designs.evaluation_set(cnn, 120, 3)
    for i in (0, 4, 5):
        row = frame.iloc[i]
        rho_d = 0.0 if math.isnan(row.rho_device) else row.rho_device
        rho_s = 0.0 if math.isnan(row.rho_server) else row.rho_server
        design = deploy(cnn, int(row.split), rho_d, rho_s, bits=16, feature_bits=16)
        device_pruned, _, server_pruned, _ = design.pruned_counts()
        assert (row.pruned_device, row.pruned_server) == (device_pruned, server_pruned)
        vectors = torch.cat([design.forward(chunk) for chunk in evaluation.chunks])
        expected = evaluation.score(vectors)
        assert row.measured_distortion == pytest.approx(expected["measured_distortion"], rel=1e-12)
        assert row.task_metric == pytest.approx(expected["task_metric"])
    pruned = frame.iloc[5]
    assert pruned.measured_distortion > frame.iloc[0].measured_distortion > 0


def test_each_measurement_carries_its_interval_over_the_inputs(cnn, measured):
    _, frame, _ = measured
    row = frame.iloc[5]
    # accuracy on 120 digits is a share: Clopper-Pearson of its hits
    hits = int(round(row.task_metric * row.n_inputs))
    assert (row.task_metric_ci95_low, row.task_metric_ci95_high) == pytest.approx(stats.clopper_pearson(hits, 120))
    # the distortion is a mean over inputs: the seeded bootstrap of the per-input distortions
    evaluation = deployed_designs.evaluation_set(cnn, 120, 3)
    design = deploy(cnn, int(row.split), row.rho_device, 0.0, bits=16, feature_bits=16)
    vectors = torch.cat([design.forward(chunk) for chunk in evaluation.chunks])
    per_input = relative_distortion(evaluation.reference, vectors.double())
    expected = stats.bootstrap_mean(per_input)
    assert (row.measured_distortion_ci95_low, row.measured_distortion_ci95_high) == pytest.approx(expected, rel=1e-9)
    assert row.measured_distortion_ci95_low < row.measured_distortion < row.measured_distortion_ci95_high
    assert frame.loc[frame.status == "optimal", "topic_accuracy_ci95_low"].isna().all()  # digits: no topic task
    # a cosine similarity is a mean: the bootstrap of the per-input similarities
    reference = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    outputs = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    cosines = deploy_module.per_input_metric("cosine_similarity", reference, outputs, None)
    assert cosines == pytest.approx([1.0, 2**-0.5, 2**-0.5])
    assert deploy_module.interval_columns("c", cosines, binary=False) == dict(
        zip(("c_ci95_low", "c_ci95_high"), stats.bootstrap_mean(cosines), strict=True)
    )


def test_unpruned_exact_design_has_zero_distortion_and_the_unpruned_metric(cnn):
    table = pd.DataFrame([_row(1.0, "proposed", s, 0.0, 0.0) for s in range(cnn.num_blocks + 1)])
    frame = deployed_designs.measure_designs(
        table, MODEL, n_inputs=540, bits=None, feature_bits=None, model=cnn, progress=False
    )
    assert (frame.measured_distortion == 0.0).all()
    assert (frame.task_metric == frame.unpruned_task_metric).all()
    assert 0.9 < frame.unpruned_task_metric.iloc[0] <= 1.0 and frame.n_inputs.iloc[0] == 540


def test_bad_arguments_are_parameter_errors(cnn):
    table = pd.DataFrame([_row(1.0, "proposed", 1, 0.1, 0.1)])
    with pytest.raises(ParameterError, match="no rows"):
        deployed_designs.measure_designs(table, "minilm", n_inputs=2, progress=False)
    with pytest.raises(ParameterError, match="feature_bits"):
        deployed_designs.measure_designs(table, MODEL, n_inputs=2, feature_bits=5, model=cnn, progress=False)
    with pytest.raises(ParameterError, match="n: got 541"):
        deployed_designs.measure_designs(table, MODEL, n_inputs=541, model=cnn, progress=False)


def test_worse_than_benchmarks_lists_the_shortfalls(measured):
    _, frame, _ = measured
    changed = frame.copy()
    changed.loc[4, "task_metric"] = changed.loc[3, "task_metric"] + 0.05
    worse = deployed_designs.worse_than_benchmarks(changed, margin=0.01)
    assert list(worse.benchmark) == ["shared_ratio"] and worse.shortfall.iloc[0] == pytest.approx(0.05)
    assert deployed_designs.worse_than_benchmarks(changed, margin=0.06).empty


# --------------------------------------------------------------------------- the topic task
def test_topic_task_is_deterministic_with_disjoint_sentences():
    task = inputs.topic_task(12, 200, seed=4)
    again = inputs.topic_task(12, 200, seed=4)
    assert task == again and task != inputs.topic_task(12, 200, seed=5)
    assert len(task.topics) == 12 and len(set(task.topics)) == 12
    assert len(task.sentences) == 200 and len(set(task.sentences)) == 200
    assert not set(task.sentences) & set(task.centroid_sentences)
    assert set(task.labels) <= set(range(12)) and set(task.centroid_labels) == set(range(12))
    topics = inputs.topic_sentences()
    every_sentence = task.sentences + task.centroid_sentences
    for sentence, label in zip(every_sentence, task.labels + task.centroid_labels, strict=True):
        assert sentence in topics[task.topics[label]]
    # a sentence belongs to one topic only, so the classes are disjoint sets of sentences
    every = [s for found in topics.values() for s in found]
    assert len(every) == len(set(every))
    sizes = [len(topics[t]) for t in task.topics]
    assert sizes == sorted(sizes, reverse=True)


def test_topic_task_refuses_too_many_sentences_or_topics():
    pool = len(inputs.topic_task(12, None).sentences)
    with pytest.raises(ParameterError):
        inputs.topic_task(12, pool + 1)
    with pytest.raises(ParameterError):
        inputs.topic_task(10_000, 10)


def test_sentence_pools_still_alternate_topics():
    pools = {subset: set(inputs.sentence_pool(subset)) for subset in ("calibration", "heldout")}
    assert pools["calibration"] and pools["heldout"] and not pools["calibration"] & pools["heldout"]
    heldout_topics = list(inputs.topic_sentences())[1::2]
    assert set(inputs.sentence_pool("heldout")) == {s for t in heldout_topics for s in inputs.topic_sentences()[t]}


# --------------------------------------------------------------------------- verdicts E1-E3 on hand-made tables
def _designs(rows: list[tuple]) -> pd.DataFrame:
    """Rows ``(model, point, scheme, objective, distortion, metric)``; metric None = infeasible; each row its own
    decision (E1 and E3 on per-input outcomes are tested in tests/claims/test_deployed_paired.py)."""
    return pd.DataFrame(
        [
            {
                "model": model,
                "sweep": "latency_budget",
                "point": point,
                "x": float(point),
                "scheme": scheme,
                "status": "optimal" if metric is not None else "infeasible",
                "split": 1,
                "bits": 16,
                "pruned_device": i,
                "pruned_server": 0,
                "objective": objective,
                "measured_distortion": distortion,
                "task_metric": metric,
                "task_metric_name": "test_accuracy",
                "topic_accuracy": np.nan,
                "unpruned_task_metric": 1.0,
                "unpruned_topic_accuracy": np.nan,
            }
            for i, (model, point, scheme, objective, distortion, metric) in enumerate(rows)
        ]
    )


def _outcomes_of(table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Per-input outcomes whose means are ``table``'s (metric rounded to tenths of ``n`` inputs)."""
    blocks = []
    for row in table[table["status"] == "optimal"].itertuples():
        metric = (np.arange(n) < round(row.task_metric * n)).astype(float)
        blocks.append(
            pd.DataFrame(
                {
                    "model": row.model,
                    "split": row.split,
                    "bits": row.bits,
                    "pruned_device": row.pruned_device,
                    "pruned_server": row.pruned_server,
                    "input": range(n),
                    "source": [str(i) for i in range(n)],
                    "task_metric": metric,
                    "measured_distortion": row.measured_distortion,
                    "topic_accuracy": np.nan,
                }
            )
        )
    return pd.concat(blocks, ignore_index=True)


def test_e2_flips_with_the_rank_correlation():
    ranked = [("m", p, "proposed", float(p + 1), 0.1 * (p + 1), 0.9) for p in range(5)]
    measured, holds = claims.e2_verdict(_designs(ranked))
    assert measured["by_model"]["m"]["spearman"] == pytest.approx(1.0) and holds
    reversed_rows = [("m", p, "proposed", float(p + 1), 0.1 * (5 - p), 0.9) for p in range(5)]
    measured, holds = claims.e2_verdict(_designs(reversed_rows))
    assert measured["by_model"]["m"]["spearman"] == pytest.approx(-1.0) and not holds
    # objective ranks 1..5 against distortion ranks 2,1,3,5,4: rho = 0.8, between two thresholds
    mixed = [("m", p, "proposed", float(p + 1), d, 0.9) for p, d in enumerate([0.2, 0.1, 0.3, 0.5, 0.4])]
    assert claims.e2_verdict(_designs(mixed), claims.ExtensionThresholds(e2_min_spearman=0.79))[1]
    assert not claims.e2_verdict(_designs(mixed), claims.ExtensionThresholds(e2_min_spearman=0.81))[1]
    # a model with a constant column cannot be ranked: it does not decide
    constant = [("c", p, "proposed", 1.0, 0.1, 0.9) for p in range(4)]
    measured, holds = claims.e2_verdict(_designs(mixed + constant))
    assert math.isnan(measured["by_model"]["c"]["spearman"]) and holds


def test_claims_report_includes_the_extensions_only_with_their_data(tmp_path, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    (tmp_path / "data").mkdir()
    # The paper's claims are tested in claims/test_claims.py and L1 in studies/test_model_size.py; stub them here.
    for cid in claims.CLAIMS:
        monkeypatch.setitem(claims.CLAIMS, cid, lambda t, cid=cid: {"id": cid, "holds": True, "measured": {}})
    for extension in ("L1", "M1", "D1"):  # no size_study.csv, multi_user_*, decoding_*: the extensions are skipped
        monkeypatch.setitem(claims.CLAIMS, extension, lambda t: None)
    assert [c["id"] for c in claims.evaluate_claims()] == ["C1", "C2", "C3", "C4"]
    table = _designs(
        [
            ("m", p, s, 1.0 + p + (s != "proposed"), 0.1 * (p + 1), 0.9)
            for p in range(3)
            for s in ("proposed", "on_server", "proposed_magnitude")
        ]
    )
    table.to_csv(tmp_path / "data" / deployed_designs.DEPLOYED_FILE, index=False)
    assert [c["id"] for c in claims.evaluate_claims()] == ["C1", "C2", "C3", "C4"]  # no outcomes: no E rows
    _outcomes_of(table).to_csv(tmp_path / "data" / deployed_designs.OUTCOMES_FILE, index=False)
    found = claims.evaluate_claims()
    assert [c["id"] for c in found] == ["C1", "C2", "C3", "C4", "E1", "E2", "E3"]
    for claim in found[4:]:
        assert claim["extension"] is True and "not a claim of the paper" in claim["statement"]
        assert claim["figures"] and set(claim["figures"]) <= set(__import__("coinfer.figures").figures.FIGURES)
        assert claims.SENTENCES[claim["id"]](claim["measured"])
    assert claims.DEPLOYED_FILE == deployed_designs.DEPLOYED_FILE
    assert claims.OUTCOMES_FILE == deployed_designs.OUTCOMES_FILE
    assert found[4]["operating_regime"] and "Operating regime" in claims.render_markdown(found[4:])


# --------------------------------------------------------------------------- notebook parameters
def test_notebook_schema_and_order():
    assert (
        NOTEBOOKS.index("06_joint_optimisation") < NOTEBOOKS.index("07_deployed_designs") < NOTEBOOKS.index("11_report")
    )
    assert NOTEBOOKS[-1] == "11_report"
    schema = SCHEMAS["07_deployed_designs"]
    expected = {"seed", "models", "n_digits", "n_text", "n_images", "n_topics", "bits", "feature_bits", "device"}
    frontier = {name for name in schema if name.startswith("frontier_")}  # tested in studies/test_frontiers.py
    assert len(frontier) == 7
    assert expected | frontier | {"workers", "scheduler_address"} == set(schema)
    ok = notebook_params.validate("07_deployed_designs", {"n_digits": 540, "feature_bits": 8, "models": ["minilm"]})
    assert ok["n_digits"] == 540
    for bad in ({"n_digits": 541}, {"feature_bits": 12}, {"models": ["llama_7b"]}, {"bits": 1}):
        with pytest.raises(ParameterError):
            notebook_params.validate("07_deployed_designs", bad)


def _with_intervals(table: pd.DataFrame, column: str, bounds: list[tuple[float, float]]) -> pd.DataFrame:
    """``table`` with the notebook's ``{column}_ci95_low``/``_high`` columns, one bound pair per row."""
    table = table.copy()
    table[f"{column}_ci95_low"] = [b[0] for b in bounds]
    table[f"{column}_ci95_high"] = [b[1] for b in bounds]
    return table


def test_share_metrics_without_interval_columns_get_clopper_pearson_from_n_inputs():
    table = _designs([("m", 0, "proposed", 1.0, 0.1, 0.9)]).assign(task_metric_name="test_accuracy", n_inputs=100)
    bounds = claims.measured_intervals(table, "task_metric")
    assert (bounds["low"].iloc[0], bounds["high"].iloc[0]) == stats.clopper_pearson(90, 100)
    assert not bounds["missing"].iloc[0]
    cosine = table.assign(task_metric_name="cosine_similarity")
    bounds = claims.measured_intervals(cosine, "task_metric")  # a mean without its bootstrap columns: none
    assert bounds["low"].iloc[0] == bounds["high"].iloc[0] == 0.9 and bounds["missing"].iloc[0]


def test_e2_spearman_gets_a_pairs_bootstrap_interval_judged_against_the_threshold():
    ranked = [("m", p, "proposed", float(p + 1), 0.1 * (p + 1), 0.9) for p in range(5)]
    measured, _ = claims.e2_verdict(_designs(ranked))
    assert measured["by_model"]["m"]["spearman_ci95"] == [1.0, 1.0] and measured["verdict"] == "holds"
    # objective ranks 1..8 against distortion ranks with rho = 0.88: the bootstrap interval of 8 pairs is wide
    order = [2, 1, 3, 5, 4, 8, 6, 7]
    noisy = [("m", p, "proposed", float(p + 1), 0.1 * d, 0.9) for p, d in enumerate(order)]
    measured, holds = claims.e2_verdict(_designs(noisy), claims.ExtensionThresholds(e2_min_spearman=0.5))
    low, high = measured["by_model"]["m"]["spearman_ci95"]
    assert holds and low < 0.5 < high and measured["verdict"] == "inconclusive"
    assert (low, high) == stats.bootstrap_spearman(np.arange(1.0, 9.0), 0.1 * np.array(order))


# --------------------------------------------------------------------------- per-input outcomes
@pytest.fixture(scope="module")
def with_outcomes(cnn):
    rows = [
        _row(0.5, "proposed", 2, 0.5, 0.3),
        _row(0.5, "on_device", np.nan, np.nan, np.nan, status="infeasible"),
        _row(0.5, "quantised_4bit", 0, np.nan, 0.0),
        _row(2.0, "proposed", 2, 0.5, 0.3000000001),  # the same decision: stored once
        _row(2.0, "shared_ratio", 1, 0.7, 0.7),
    ]
    return deployed_designs.measure_designs_outcomes(
        pd.DataFrame(rows), MODEL, n_inputs=120, seed=3, model=cnn, progress=False, workers=1
    )


def test_outcomes_store_each_distinct_decision_once_per_input(with_outcomes):
    frame, outcomes = with_outcomes
    assert list(outcomes.columns) == list(deployed_designs.OUTCOME_COLUMNS)
    key = list(deployed_designs.DECISION_KEY)
    distinct = frame[frame.status == "optimal"][key].drop_duplicates()
    assert len(distinct) == 3 and len(outcomes) == 3 * 120
    for _, block in outcomes.groupby(key[1:]):
        assert sorted(block["input"]) == list(range(120))  # every input once, by its index in the draw
        assert (block["source"] == block["input"].astype(str)).all()  # digits: each digit is its own source


def test_outcome_means_are_the_committed_means(with_outcomes, tmp_path):
    frame, outcomes = with_outcomes
    path = tmp_path / "outcomes.csv"
    outcomes.to_csv(path, index=False)
    read = pd.read_csv(path)  # as the claims read it back: float32 text, 0/1 integers
    assert set(read["task_metric"].unique()) <= {0, 1}
    key = list(deployed_designs.DECISION_KEY)
    means = read.groupby(key)[["task_metric", "measured_distortion"]].mean().reset_index()
    joined = frame[frame.status == "optimal"].merge(means, on=key, suffixes=("", "_outcomes"))
    assert len(joined) == 4
    # the zoo metric is a float32 mean, the outcomes are exact 0/1: equal within float32 rounding
    np.testing.assert_allclose(joined["task_metric_outcomes"], joined["task_metric"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(joined["measured_distortion_outcomes"], joined["measured_distortion"], rtol=1e-6)


def test_evaluation_sets_name_the_source_of_every_input():
    efficientnet = load_model("efficientnet_lite0")
    images = deployed_designs.evaluation_set(efficientnet, 9, 2)
    assert images.sources == inputs.image_crop_photos("heldout", 9, 2)  # crops keep their draw order
    assert images.input_ids == tuple(range(9))
