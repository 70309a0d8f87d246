"""C1b's scores table (coinfer.studies.pruning_distortion.first_order_scores; model.md sections 1.2 and 3.3)."""

import numpy as np
import pandas as pd
import pytest

from coinfer import claims
from coinfer.base.validation import ParameterError
from coinfer.nets import zoo
from coinfer.nets.split import part_configs
from coinfer.studies.pruning_distortion import (
    C1B_CALIBRATION_SUBSET,
    FIRST_ORDER_SCORE_TABLE_COLUMNS,
    first_order_scores,
    pruning_experiment,
)

RATIOS = (0.0, 0.8, 0.9)


def _toy_samples(n_cal=100, n_held=200, held_scale=1.0, seed=1, cal_cluster="calibration"):
    """Samples of one model with two parts: each set takes the quantiles of one distribution on an even grid,
    shuffled, so the held-out coverage of the conformal H is its guarantee up to the grid (held_scale 1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for part, split in (("all", np.nan), ("device", 2.0)):
        for subset, count, scale, cluster in (
            (C1B_CALIBRATION_SUBSET, n_cal, 1.0, cal_cluster),
            ("heldout", n_held, held_scale, "heldout"),
            ("calibration", 3, 1.0, "calibration"),  # notebook 04's 16 inputs that fit H: not C1b's
        ):
            for ratio in RATIOS:
                quotient = rng.permutation(np.exp((np.arange(count) + 0.5) / count * 6 - 3))
                param = 0.0 if ratio == 0 else 10.0 * ratio
                for i in range(count):
                    rows.append(
                        {
                            "model": "minilm",
                            "part": part,
                            "split": split,
                            "split_name": np.nan if part == "all" else "layer2",
                            "ratio": ratio,
                            "subset": subset,
                            "sample": i,
                            "source": subset,
                            "cluster": f"{cluster}:{i}",
                            "param_l1": param,
                            "out_l1": 0.0 if ratio == 0 else scale * quotient[i] * param,
                        }
                    )
    return pd.DataFrame(rows)


def test_scores_table_has_one_row_per_input_part_and_ratio():
    samples = _toy_samples()
    table = first_order_scores(samples, process="pydoc_sentences")
    assert tuple(table.columns) == FIRST_ORDER_SCORE_TABLE_COLUMNS
    assert set(claims.FIRST_ORDER_SCORE_COLUMNS) <= set(table.columns)
    # ratio 0 (no pruned weight) is left out; notebook 04's own "calibration" subset is not C1b's
    assert len(table) == 2 * 2 * (100 + 200) and set(table["ratio"]) == {0.8, 0.9}
    counts = table.groupby(["part", "ratio", "subset"])["input"].nunique()
    assert set(counts.xs("calibration", level="subset")) == {100} and set(counts.xs("heldout", level="subset")) == {200}
    assert not table.duplicated(["model", "part", "split", "ratio", "subset", "cluster", "input"]).any()
    np.testing.assert_allclose(table["score"], table["out_l1"] / table["param_l1"], rtol=0)
    assert set(table["process"]) == {"pydoc_sentences"}
    calibration = set(table.loc[table["subset"] == "calibration", "cluster"])
    assert not calibration & set(table.loc[table["subset"] == "heldout", "cluster"])
    # sorted, so the bytes do not depend on the order the sweep produced them in
    shuffled = first_order_scores(samples.sample(frac=1.0, random_state=0), process="pydoc_sentences")
    pd.testing.assert_frame_equal(shuffled, table)


def test_scores_refuse_calibration_inputs_that_share_a_cluster_with_the_heldout_ones():
    with pytest.raises(ParameterError, match="calibration: shares the clusters"):
        first_order_scores(_toy_samples(cal_cluster="heldout"), process="photo_grid_crops")


def test_score_of_an_unchanged_parameter_set():
    samples = _toy_samples(n_cal=2, n_held=2)
    samples.loc[samples["ratio"] == 0.8, "param_l1"] = 0.0
    samples.loc[(samples["ratio"] == 0.8) & (samples["sample"] == 0), "out_l1"] = 0.0
    table = first_order_scores(samples, process="p")
    at = table[table["ratio"] == 0.8]
    assert set(at.loc[at["input"] == 0, "score"]) == {0.0} and set(at.loc[at["input"] == 1, "score"]) == {np.inf}


def test_c1b_on_the_scores_table_judges_against_the_guarantee():
    holds = claims.c1b_model(first_order_scores(_toy_samples(), process="pydoc_sentences"))
    assert holds["n_calibration_min"] == 100 and holds["guarantee"] == pytest.approx(96 / 101)
    assert holds["calibration_clusters"] == 100 and holds["heldout_clusters"] == 200
    assert holds["verdict"] == "holds"
    # held-out scores 1.5x the calibration's: the coverage falls far below the guarantee
    worse = claims.c1b_model(first_order_scores(_toy_samples(held_scale=1.5), process="pydoc_sentences"))
    assert worse["share"] < 0.9 and worse["ci95"][1] < worse["guarantee"] and worse["verdict"] == "does not hold"
    # one calibration input fewer than C1b asks for: not a test yet
    few = claims.c1b_model(first_order_scores(_toy_samples(n_cal=99), process="pydoc_sentences"))
    assert few["verdict"] == claims.NEEDS_DATA and few["reason"] == "99 calibration inputs, fewer than 100"
    # the threshold on n moves the verdict where the data sit on its other side
    relaxed = claims.Thresholds(c1b_min_calibration=99)
    assert claims.c1b_model(first_order_scores(_toy_samples(n_cal=99), process="p"), relaxed)["verdict"] == "holds"


def test_c1b_calibration_sweep_leaves_the_other_outputs_unchanged():
    model = zoo.load_model("digits_mlp")
    configs = part_configs(model, [1])
    batches = {
        "calibration": zoo.model_inputs("digits_mlp", "calibration", 10, 0),
        "heldout": zoo.model_inputs("digits_mlp", "heldout", 12, 0),
    }
    extra = {C1B_CALIBRATION_SUBSET: zoo.model_inputs("digits_mlp", "calibration", 7, 1)}
    kwargs = {"ratios": [0.0, 0.5, 0.9], "curve_ratios": [0.5], "bits": [8], "batches": batches, "progress": False}
    curves, samples, summary = pruning_experiment("digits_mlp", model, configs, **kwargs)
    curves2, samples2, summary2 = pruning_experiment("digits_mlp", model, configs, **kwargs, separate_batches=extra)
    pd.testing.assert_frame_equal(curves2, curves)
    pd.testing.assert_frame_equal(summary2, summary)  # no summary rows for the separate inputs
    own = samples2[samples2["subset"] != C1B_CALIBRATION_SUBSET].reset_index(drop=True)
    pd.testing.assert_frame_equal(own, samples)
    separate = samples2[samples2["subset"] == C1B_CALIBRATION_SUBSET]
    assert len(separate) == 3 * 3 * 7 and (separate.loc[separate["ratio"] == 0.9, "out_l1"] > 0).all()
    table = first_order_scores(samples2, process="digits")
    assert table.groupby("subset")["input"].nunique().to_dict() == {"calibration": 7, "heldout": 12}
    with pytest.raises(ParameterError, match="separate_batches"):
        pruning_experiment("digits_mlp", model, configs, **kwargs, separate_batches={"heldout": batches["heldout"]})
