"""E1-E3 recomputed from tables in the committed format, independently of the claims code (issue 23 items 2-3).

The recomputation here walks the designs table point by point with plain loops, pairs decisions by their key
columns, leaves out identical decisions and points where no compared design keeps half the unpruned quality, and
decides each pair with scipy's binomial test (independent inputs) or its own cluster bootstrap (another seed);
the hand-made tables are built so that every pair is far from its test's threshold. The same recomputation is run
on the committed ``data/deployed_designs.csv`` and ``data/deployed_outcomes.csv`` when both exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from coinfer import claims
from coinfer.base import paths
from coinfer.model.stats import paired_comparison
from coinfer.studies import deployed_designs

KEY = ["split", "bits", "pruned_device", "pruned_server"]
DATA = paths.PROJECT_ROOT / "data"


# --------------------------------------------------------------------------- building tables
class Tables:
    """A designs table and its outcomes table, in the columns notebook 07 writes."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.outcomes: dict[tuple, pd.DataFrame] = {}

    def decision(
        self, model: str, key: tuple[int, int, int, int], metric, distortion=None, sources=None
    ) -> tuple[int, int, int, int]:
        metric = np.asarray(metric, dtype=float)
        distortion = 1.0 - metric if distortion is None else np.asarray(distortion, dtype=float)
        sources = [str(i) for i in range(metric.size)] if sources is None else list(sources)
        self.outcomes[(model, key)] = pd.DataFrame(
            {
                "model": model,
                **dict(zip(KEY, key, strict=True)),
                "input": range(metric.size),
                "source": sources,
                "task_metric": metric,
                "measured_distortion": distortion,
                "topic_accuracy": np.nan,
            }
        )
        return key

    def design(self, model: str, point: int, scheme: str, key, objective: float = 1.0, unpruned: float = 1.0) -> None:
        found = self.outcomes[(model, key)]
        self.rows.append(
            {
                "model": model,
                "sweep": "latency_budget",
                "point": point,
                "x": float(point),
                "scheme": scheme,
                "status": "optimal",
                **dict(zip(KEY, key, strict=True)),
                "objective": objective,
                "n_inputs": len(found),
                "measured_distortion": found["measured_distortion"].mean(),
                "task_metric": found["task_metric"].mean(),
                "task_metric_name": "top1_agreement",
                "topic_accuracy": np.nan,
                "unpruned_task_metric": unpruned,
                "unpruned_topic_accuracy": np.nan,
            }
        )

    def written(self, tmp_path) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Both tables written as CSV and read back (what the claims read)."""
        designs = pd.DataFrame(self.rows)
        outcomes = pd.concat(self.outcomes.values(), ignore_index=True)
        designs.to_csv(tmp_path / "designs.csv", index=False)
        outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
        return pd.read_csv(tmp_path / "designs.csv"), pd.read_csv(tmp_path / "outcomes.csv")


def hits(n: int, ones: list[int] | range) -> np.ndarray:
    found = np.zeros(n)
    found[list(ones)] = 1.0
    return found


# --------------------------------------------------------------------------- the independent recomputation
def own_compare(a: np.ndarray, b: np.ndarray, sources: np.ndarray, binary: bool, alpha: float = 0.05) -> str:
    """win / loss / tie of ``a`` against ``b`` (higher is better): binomial test or a cluster bootstrap (seed 7)."""
    difference = a - b
    if binary and len(set(sources)) == len(sources):
        discordant = int((difference != 0).sum())
        p = stats.binomtest(int((difference > 0).sum()), discordant, 0.5).pvalue if discordant else 1.0
        decided = p < alpha
    else:
        labels = pd.Series(sources).astype("category").cat.codes.to_numpy()
        sums, counts = np.bincount(labels, difference), np.bincount(labels).astype(float)
        draw = np.random.default_rng(7).integers(0, sums.size, (4000, sums.size))
        means = sums[draw].sum(axis=1) / counts[draw].sum(axis=1)
        low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
        decided = low > 0 or high < 0
    if not decided or difference.mean() == 0:
        return "tie"
    return "win" if difference.mean() > 0 else "loss"


def library_compare(a: np.ndarray, b: np.ndarray, sources: np.ndarray, binary: bool, alpha: float = 0.05) -> str:
    """The shared statistic of model.stats (seed 0), for the committed data (borderline pairs decide alike)."""
    clusters = None if len(set(sources)) == len(sources) else sources
    decision = paired_comparison(a, b, binary=binary, clusters=clusters, alpha=alpha)[0]
    return {"first": "win", "second": "loss"}.get(decision, "tie")


def recompute(
    designs: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    other: str | None = None,
    column: str = "task_metric",
    lower_is_better: bool = False,
    compare: Callable[..., str] = own_compare,
) -> dict[str, dict[str, int]]:
    """Per model: win / loss / tie / identical / unusable pairs and points of proposed against ``other`` (or
    every benchmark)."""
    found: dict[str, dict[str, int]] = {}
    measured = designs[(designs["status"] == "optimal") & designs[column].notna()]
    for (model, _sweep, _point), at in measured.groupby(["model", "sweep", "point"]):
        if other is None:
            compared = at[(at["scheme"] == "proposed") | ~at["scheme"].str.startswith("proposed")]
        else:
            compared = at[at["scheme"].isin(["proposed", other])]
        mine = compared[compared["scheme"] == "proposed"]
        if mine.empty or len(compared) < 2:
            continue
        counts = found.setdefault(model, dict.fromkeys(["win", "loss", "tie", "identical", "unusable", "points"], 0))
        usable = bool((compared["task_metric"] >= 0.5 * compared["unpruned_task_metric"]).any())
        mine_key = tuple(int(mine.iloc[0][k]) for k in KEY)
        counts["points"] += 0 if usable else 1
        for _, theirs in compared[compared["scheme"] != "proposed"].iterrows():
            their_key = tuple(int(theirs[k]) for k in KEY)
            if their_key == mine_key:
                counts["identical"] += 1
                continue
            if not usable:
                counts["unusable"] += 1
                continue
            select = outcomes["model"] == model
            a_rows = outcomes[select & (outcomes[KEY] == pd.Series(mine_key, index=KEY)).all(axis=1)]
            b_rows = outcomes[select & (outcomes[KEY] == pd.Series(their_key, index=KEY)).all(axis=1)]
            a_rows, b_rows = a_rows.sort_values("input"), b_rows.sort_values("input")
            a, b = a_rows[column].to_numpy(float), b_rows[column].to_numpy(float)
            if lower_is_better:
                a, b = -a, -b
            binary = bool(np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all())
            counts[compare(a, b, a_rows["source"].astype(str).to_numpy(), binary)] += 1
    return found


def as_claims(counts: dict[str, int]) -> dict[str, int]:
    return {
        "wins": counts["win"],
        "losses": counts["loss"],
        "ties": counts["tie"],
        "pairs_identical": counts["identical"],
        "pairs_unusable": counts["unusable"],
        "points_no_usable_design": counts["points"],
        "pairs_distinct": counts["win"] + counts["loss"] + counts["tie"],
    }


# --------------------------------------------------------------------------- hand-made tables
N = 60


@pytest.fixture()
def e1_tables(tmp_path):
    """Digits-like (independent 0/1) and crop-like (0/1 clustered by photo) designs with known outcomes."""
    made = Tables()
    m = "digits_cnn"
    good = made.decision(m, (1, 16, 10, 0), hits(N, range(55)))
    much_worse = made.decision(m, (1, 16, 40, 0), hits(N, range(30)))  # 25 discordant, all for the proposed: a win
    nearly = made.decision(m, (1, 16, 12, 0), hits(N, range(54)))  # 1 discordant: a tie
    made.design(m, 0, "proposed", good)
    made.design(m, 0, "on_device", good)  # the same decision: identical, reported not counted
    made.design(m, 0, "shared_ratio", much_worse)
    made.design(m, 0, "decoupled", nearly)
    weak = made.decision(m, (2, 16, 50, 3), hits(N, range(35)))
    made.design(m, 1, "proposed", weak)
    made.design(m, 1, "on_server", good)  # 20 discordant against the proposed: a loss
    broken = made.decision(m, (3, 16, 90, 9), hits(N, range(3)))
    less_broken = made.decision(m, (3, 16, 80, 9), hits(N, range(25)))  # 25/60 < half of 1.0: unusable too
    made.design(m, 2, "proposed", broken)
    made.design(m, 2, "on_device", less_broken)  # a decided loss at a point with no usable design: left out
    made.design(m, 2, "proposed_magnitude", good)  # not a benchmark of E1: does not make the point usable

    e = "efficientnet_lite0"
    photos = [f"photo{i}" for i in range(7) for _ in range(4)]
    mine = made.decision(e, (1, 16, 5, 5), np.tile([1, 1, 1, 0], 7), sources=photos)
    worse = made.decision(e, (1, 16, 9, 5), np.tile([1, 0, 0, 0], 7), sources=photos)  # every photo: a win
    mixed = made.decision(
        e, (1, 16, 7, 5), np.concatenate([[1, 1, 1, 1]] * 3 + [[0, 0, 1, 0]] * 4), sources=photos
    )  # better on 3 photos, worse on 4: a tie
    made.design(e, 0, "proposed", mine)
    made.design(e, 0, "fixed_ratio", worse)
    made.design(e, 0, "on_server", mixed)
    return made.written(tmp_path)


def test_e1_counts_equal_the_independent_recomputation(e1_tables):
    designs, outcomes = e1_tables
    measured, holds = claims.e1_verdict(designs, outcomes)
    expected = recompute(designs, outcomes)
    assert expected["digits_cnn"] == {"win": 1, "loss": 1, "tie": 1, "identical": 1, "unusable": 1, "points": 1}
    assert expected["efficientnet_lite0"] == {"win": 1, "loss": 0, "tie": 1, "identical": 0, "unusable": 0, "points": 0}
    for model, counts in expected.items():
        found = measured["by_model"][model]
        assert {k: found[k] for k in as_claims(counts)} == as_claims(counts), model
    digits = measured["by_model"]["digits_cnn"]
    assert digits["share_not_lost"] == pytest.approx(2 / 3) and not holds  # below 90 % at the point estimate
    assert digits["share_not_lost_ci95"] == pytest.approx(list(stats.binomtest(2, 3).proportion_ci(method="exact")))
    assert digits["verdict"] == measured["verdict"] == "inconclusive"  # three pairs: the interval straddles 90 %
    assert measured["by_model"]["efficientnet_lite0"]["share_not_lost"] == 1.0


def test_e1_counts_no_identical_decision_no_tie_as_a_win_and_no_unusable_point(e1_tables):
    """The three mistakes of issue 23, each of which changes a count here."""
    designs, outcomes = e1_tables
    digits = claims.e1_verdict(designs, outcomes)[0]["by_model"]["digits_cnn"]
    assert digits["pairs_distinct"] == 3 and digits["pairs_identical"] == 1  # the identical pair is not a win
    assert digits["wins"] == 1 and digits["ties"] == 1  # the one-input difference is a tie, not a win
    assert digits["losses"] == 1 and digits["points_no_usable_design"] == 1  # the broken point's loss is left out
    # without the loss at point 1 every distinct pair is not lost: the verdict follows the counts
    kept = designs[~((designs["point"] == 1) & (designs["model"] == "digits_cnn"))]
    again = claims.e1_verdict(kept, outcomes, claims.ExtensionThresholds(e1_min_share=0.5))
    assert again[0]["by_model"]["digits_cnn"]["share_not_lost"] == 1.0 and again[1]


def test_e1_share_threshold_and_verdict_flip(e1_tables):
    designs, outcomes = e1_tables
    digits_only = designs[designs["model"] == "digits_cnn"]
    assert claims.e1_verdict(digits_only, outcomes, claims.ExtensionThresholds(e1_min_share=0.6))[1]
    assert not claims.e1_verdict(digits_only, outcomes, claims.ExtensionThresholds(e1_min_share=0.7))[1]
    # a usability threshold that makes point 2 usable counts its loss
    loose = claims.e1_verdict(digits_only, outcomes, claims.ExtensionThresholds(usable_fraction=0.4))[0]
    assert loose["by_model"]["digits_cnn"]["losses"] == 2 and loose["points_no_usable_design"] == 0


def e3_tables(tmp_path, rd_better: int, magnitude_better: int, ties: int, identical: int = 1):
    made = Tables()
    m = "minilm"
    topics = [f"topic{i}" for i in range(6) for _ in range(5)]
    rng = np.random.default_rng(3)
    point = 0
    for kind, n in (("rd", rd_better), ("mag", magnitude_better), ("tie", ties), ("same", identical)):
        for _ in range(n):
            base = 0.2 + 0.05 * rng.random(30)
            low, high = base, base + 0.1
            cosine = np.full(30, 0.9)
            if kind == "tie":
                high = base + np.where(np.arange(30) < 15, 0.05, -0.05)  # symmetric within every topic
            first = made.decision(m, (1, 16, 100 + point, 0), cosine, low if kind != "mag" else high, topics)
            second = made.decision(m, (1, 16, 500 + point, 0), cosine, high if kind != "mag" else low, topics)
            made.design(m, point, "proposed", first)
            made.design(m, point, "proposed_magnitude", first if kind == "same" else second)
            point += 1
    return made.written(tmp_path)


def test_e3_sign_test_names_the_better_objective_and_cannot_contradict_its_verdict(tmp_path):
    designs, outcomes = e3_tables(tmp_path, 0, 6, 1)
    measured, holds = claims.e3_verdict(designs, outcomes)
    counts = recompute(
        designs, outcomes, other="proposed_magnitude", column="measured_distortion", lower_is_better=True
    )
    assert as_claims(counts["minilm"])["wins"] == measured["points_rd_bound_better"] == 0
    assert as_claims(counts["minilm"])["losses"] == measured["points_magnitude_better"] == 6
    assert measured["points_tied"] == 1 and measured["points_identical"] == 1 and measured["points_distinct"] == 7
    assert measured["sign_test_p"] == pytest.approx(stats.binomtest(0, 6, 0.5).pvalue)  # 0.031
    assert measured["better_objective"] == "magnitude" and measured["verdict"] == "does not hold" and not holds
    balanced, holds = claims.e3_verdict(*e3_tables(tmp_path, 3, 3, 0))
    assert balanced["better_objective"] == "neither" and balanced["verdict"] == "holds" and holds
    assert "neither objective" in claims.SENTENCES["E3"](balanced)
    # 5 wins of 5 decided: p = 0.0625, not decided at 5 %: neither is named, although every decided point is rd_bound's
    close, holds = claims.e3_verdict(*e3_tables(tmp_path, 5, 0, 2))
    assert close["points_rd_bound_better"] == 5 and close["better_objective"] == "neither" and holds
    assert claims.e3_verdict(*e3_tables(tmp_path, 0, 0, 0, identical=3))[0]["verdict"] == "needs data"


def test_e2_ranks_each_distinct_decision_once_and_counts_concordance_within_points(tmp_path):
    made = Tables()
    m = "digits_cnn"
    # five distinct decisions whose objective orders their distortion except one swapped pair
    keys = [made.decision(m, (1, 16, i, 0), hits(N, range(50)), np.full(N, d)) for i, d in enumerate([1, 2, 4, 3, 5])]
    for point in range(4):
        for j, key in enumerate(keys):
            made.design(m, point, f"scheme{j}", key, objective=float(j))
    repeated = made.decision(m, (2, 16, 0, 0), hits(N, range(50)), np.full(N, 9.0))
    for point in range(4, 12):  # one decision at eight points: counted once by Spearman
        made.design(m, point, "proposed", repeated, objective=0.5)
    designs, outcomes = made.written(tmp_path)
    measured = claims.e2_verdict(designs)[0]["by_model"][m]
    distinct = designs.drop_duplicates(KEY)
    assert measured["decisions"] == len(distinct) == 6
    assert measured["spearman"] == pytest.approx(
        stats.spearmanr(distinct["objective"], distinct["measured_distortion"])[0]
    )
    # within each of the first four points: 10 pairs, 9 concordant; the later points have one decision each
    assert measured["pairs_within_points"] == 40 and measured["concordant"] == 36
    assert measured["concordance"] == pytest.approx(0.9)


def test_operating_regime_lines_read_the_default_budget_sweeps(e1_tables):
    designs, _ = e1_tables
    designs = designs.copy()
    designs.loc[designs["point"] == 1, "sweep"] = "bandwidth"
    lines = claims.operating_regime_lines(designs)
    assert lines[0].startswith("digits_cnn: at the default budgets the proposed design keeps top-1 agreement 0.58")
    assert "at 1 of 2 feasible points" in lines[0]  # point 0 (0.92) is usable, point 2 (0.05) is not


# --------------------------------------------------------------------------- the committed data
def committed_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    files = [DATA / deployed_designs.DEPLOYED_FILE, DATA / deployed_designs.OUTCOMES_FILE]
    assert all(f.exists() for f in files), "notebook 07 writes both tables"
    return pd.read_csv(files[0]), pd.read_csv(files[1])


def test_committed_outcome_means_are_the_committed_design_means():
    designs, outcomes = committed_tables()
    means = outcomes.groupby(["model", *KEY])[["task_metric", "measured_distortion"]].mean().reset_index()
    measured = designs[designs["status"] == "optimal"]
    joined = measured.merge(means, on=["model", *KEY], suffixes=("", "_outcomes"), how="left")
    assert joined["task_metric_outcomes"].notna().all()  # every measured design has its per-input outcomes
    np.testing.assert_allclose(joined["task_metric_outcomes"], joined["task_metric"], atol=1e-6)
    np.testing.assert_allclose(joined["measured_distortion_outcomes"], joined["measured_distortion"], rtol=1e-5)
    assert not outcomes.duplicated(["model", *KEY, "input"]).any()  # each decision stored once


def test_committed_e1_and_e3_recompute_to_the_committed_claims():
    designs, outcomes = committed_tables()
    found = {c["id"]: c for c in json.loads((DATA / "claims.json").read_text(encoding="utf-8"))}
    assert "points_rd_bound_better" in found["E3"]["measured"]  # the paired E1-E3 of issue 23
    for model, counts in recompute(designs, outcomes, compare=library_compare).items():
        committed = found["E1"]["measured"]["by_model"][model]
        assert {k: committed[k] for k in as_claims(counts)} == as_claims(counts), model
    e3 = recompute(
        designs,
        outcomes,
        other="proposed_magnitude",
        column="measured_distortion",
        lower_is_better=True,
        compare=library_compare,
    )
    measured = found["E3"]["measured"]
    assert sum(c["win"] for c in e3.values()) == measured["points_rd_bound_better"]
    assert sum(c["loss"] for c in e3.values()) == measured["points_magnitude_better"]
    assert sum(c["tie"] for c in e3.values()) == measured["points_tied"]
    assert sum(c["identical"] for c in e3.values()) == measured["points_identical"]
    assert sum(c["points"] for c in e3.values()) == measured["points_no_usable_design"]
    p_value = (
        stats.binomtest(
            measured["points_rd_bound_better"], measured["points_rd_bound_better"] + measured["points_magnitude_better"]
        ).pvalue
        if measured["points_rd_bound_better"] + measured["points_magnitude_better"]
        else 1.0
    )
    assert measured["sign_test_p"] == pytest.approx(p_value)
    named = measured["better_objective"]
    assert (named == "magnitude") == (
        p_value < 0.05 and measured["points_magnitude_better"] > measured["points_rd_bound_better"]
    ) and (found["E3"]["verdict"] == "holds") == (named != "magnitude")
