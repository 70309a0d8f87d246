"""First-order bound calibrated per pruning ratio (model.md section 3.3) on hand-made sample tables."""

import numpy as np
import pandas as pd
import pytest

from coinfer.base.validation import ParameterError
from coinfer.studies.pruning_distortion import (
    first_order_by_source,
    first_order_check,
    first_order_clusters,
    first_order_pairs,
    first_order_ratio_intervals,
    first_order_table,
)


def _samples(pairs):
    """Sample rows from ``(ratio, subset, param_l1, out_l1, param_rel, ref_l1)`` of one part."""
    return pd.DataFrame(
        [
            {
                "model": "toy",
                "part": "all",
                "split": np.nan,
                "split_name": np.nan,
                "ratio": ratio,
                "subset": subset,
                "sample": i,
                "param_l1": param,
                "param_rel": rel,
                "out_l1": out,
                "ref_l1": ref,
            }
            for i, (ratio, subset, param, out, rel, ref) in enumerate(pairs)
        ]
    )


#: At ratio 0.2 output/parameter distortion reaches 3 on calibration; at 0.8 only 0.5.
TOY = _samples(
    [
        (0.0, "calibration", 0.0, 0.0, 0.0, 10.0),
        (0.2, "calibration", 1.0, 3.0, 0.1, 10.0),
        (0.2, "calibration", 1.0, 2.0, 0.1, 10.0),
        (0.8, "calibration", 4.0, 1.0, 0.4, 10.0),
        (0.8, "calibration", 4.0, 2.0, 0.4, 10.0),
        (0.0, "heldout", 0.0, 0.0, 0.0, 10.0),
        (0.2, "heldout", 1.0, 2.5, 0.1, 10.0),  # relative 0.25 > 0.1: scale-free form fails
        (0.2, "heldout", 1.0, 3.5, 0.1, 10.0),  # above H(0.2) = 3
        (0.8, "heldout", 4.0, 2.2, 0.4, 10.0),  # relative 0.22 <= 0.4; 2.2 / 4 = 0.55 > H(0.8) = 0.5
        (0.8, "heldout", 4.0, 2.4, 0.4, 10.0),  # 2.4 / 4 = 0.6 > H(0.8) = 0.5: fails per ratio only
        (0.8, "heldout", 4.0, 14.0, 0.4, 10.0),  # relative 1.4 > 0.4; 14 / 4 = 3.5 above both fits
        (0.8, "heldout", 4.0, 0.4, 0.4, 40.0),  # relative 0.01: holds everywhere
    ]
)


def test_per_ratio_constant_is_the_calibration_maximum_at_that_ratio():
    table = first_order_check(TOY).set_index("ratio")
    assert list(table.index) == [0.2, 0.8]  # ratio 0 is never tested
    assert table.loc[0.2, "H"] == 3.0 and table.loc[0.8, "H"] == 0.5
    assert (table["H_mode"] == "per_ratio").all()
    assert list(table["n_calibration"]) == [2, 2] and list(table["n_heldout"]) == [2, 4]


def test_heldout_pair_above_its_ratio_constant_fails():
    table = first_order_check(TOY).set_index("ratio")
    assert table.loc[0.2, "frac_holds"] == 0.5  # 3.5 > 3 * 1 fails
    assert table.loc[0.8, "frac_holds"] == 0.25  # only 0.4 <= 0.5 * 4
    assert table.loc[0.2, "ratio_max"] == pytest.approx(3.5 / 3.0)
    assert table.loc[0.8, "ratio_max"] == pytest.approx(3.5 / 0.5)
    assert table.loc[0.8, "ratio_median"] == pytest.approx(np.median([1.1, 1.2, 7.0, 0.2]))


def test_max_over_ratios_reading_is_set_by_the_smallest_ratio():
    table = first_order_check(TOY, H_mode="max_over_ratios").set_index("ratio")
    assert (table["H"] == 3.0).all() and (table["H_mode"] == "max_over_ratios").all()
    assert table.loc[0.8, "frac_holds"] == 0.75  # 2.2, 2.4, 0.4 <= 3 * 4; only 14.0 fails
    with pytest.raises(ParameterError):
        first_order_check(TOY, H_mode="max")


def test_scale_free_share_needs_no_constant():
    for mode in ("per_ratio", "max_over_ratios"):
        table = first_order_check(TOY, H_mode=mode).set_index("ratio")
        assert table.loc[0.2, "frac_holds_relative"] == 0.0  # 0.25 and 0.35 > 0.1
        assert table.loc[0.8, "frac_holds_relative"] == 0.75  # 0.22, 0.24, 0.01 <= 0.4; 1.4 fails


def test_table_carries_the_max_over_ratios_reading_beside_the_per_ratio_one():
    table = first_order_table(TOY).set_index("ratio")
    assert list(table["H"]) == [3.0, 0.5] and list(table["H_max_over_ratios"]) == [3.0, 3.0]
    assert list(table["frac_holds"]) == [0.5, 0.25] and list(table["frac_holds_max_over_ratios"]) == [0.5, 0.75]
    assert table.loc[0.8, "ratio_max_max_over_ratios"] == pytest.approx(14.0 / 12.0)


def test_calibration_pairs_all_hold_against_their_own_fit():
    rng = np.random.default_rng(0)
    pairs = [
        (ratio, "calibration", param, out, 0.5, 1.0)
        for ratio in (0.1, 0.5, 0.9)
        for param, out in zip(rng.uniform(0.1, 3, 50), rng.uniform(0.1, 3, 50), strict=True)
    ]
    own = first_order_check(_samples(pairs), test_subset="calibration")
    assert (own["frac_holds"] == 1.0).all() and (own["ratio_max"] == 1.0).all()  # exact, no rounding slack


def test_ratio_without_changed_weights_has_no_constant():
    table = first_order_check(
        _samples([(0.1, "calibration", 0.0, 0.0, 0.0, 1.0), (0.1, "heldout", 0.0, 0.0, 0.0, 1.0)])
    )
    assert np.isnan(table["H"].iloc[0]) and table["frac_holds"].iloc[0] == 1.0 and np.isnan(table["ratio_max"].iloc[0])


def _tagged(samples):
    """TOY with sources: held-out rows alternate between two photos, each photo one cluster."""
    sources = np.where(samples["sample"] % 2 == 0, "photo_a", "photo_b")
    return samples.assign(source=sources, cluster=sources)


def test_pairs_reproduce_the_per_ratio_shares():
    pairs = first_order_pairs(_tagged(TOY))
    assert len(pairs) == 6 and set(pairs["subset"]) == {"heldout"}  # ratio 0 and calibration never tested
    table = first_order_check(TOY).set_index("ratio")
    shares = pairs.groupby("ratio")["holds"].mean()
    assert list(shares) == list(table["frac_holds"]) and list(pairs["H"].unique()) == [3.0, 0.5]


def test_breakdown_per_source_and_cluster_counts():
    pairs = first_order_pairs(_tagged(TOY))
    # Held-out samples 6..11: photo_a = 6 (0.2: 2.5 holds), 8 (0.8: 2.2 fails), 10 (0.8: 14 fails);
    # photo_b = 7 (0.2: 3.5 fails), 9 (0.8: 2.4 fails), 11 (0.8: 0.4 holds).
    by_source = first_order_by_source(pairs, large_ratio=0.5).set_index("source")
    assert by_source.loc["photo_a", "n_pairs"] == 3 and by_source.loc["photo_a", "frac_holds"] == pytest.approx(1 / 3)
    assert by_source.loc["photo_b", "n_pairs_large"] == 2 and by_source.loc["photo_b", "frac_holds_large"] == 0.5
    assert by_source.loc["photo_a", "frac_holds_large"] == 0.0 and by_source.loc["photo_a", "n_inputs"] == 3
    clusters = first_order_clusters(pairs).set_index(["ratio", "cluster"])
    assert clusters.loc[(0.8, "photo_a"), ["n_pairs", "n_holds"]].tolist() == [2, 0]
    assert clusters.loc[(0.8, "photo_b"), ["n_pairs", "n_holds"]].tolist() == [2, 1]


def test_ratio_intervals_state_both_intervals():
    intervals = first_order_ratio_intervals(first_order_clusters(first_order_pairs(_tagged(TOY)))).set_index("ratio")
    row = intervals.loc[0.8]
    assert row["n_clusters"] == 2 and row["n_pairs"] == 4 and row["frac_holds"] == 0.25
    assert row["ci_low"] < 0.25 < row["ci_high"]
    # photo_a 0/2, photo_b 1/2: resamples give 0, 1/4 or 1/2
    assert (row["cluster_ci_low"], row["cluster_ci_high"]) == (0.0, 0.5)
