"""L1 on labelled tasks (model.md section 10, item 5): paired wins, ties and usable points, recomputed independently."""

import numpy as np
import pandas as pd
import pytest
import torch

from coinfer import claims
from coinfer.base import paths
from coinfer.claims import model_size as claims_size
from coinfer.model.stats import paired_comparison
from coinfer.studies import model_size

N, CLUSTERS = 60, 6  # ten inputs per source


def _predictions(right: np.ndarray) -> str:
    """Predicted classes: the label (0) where ``right``, else 1."""
    return " ".join("0" if r else "1" for r in right)


def _right(count: int) -> np.ndarray:
    """``count`` right inputs spread evenly over the sources (the same number in every source)."""
    per = count // CLUSTERS
    return np.concatenate([np.arange(N // CLUSTERS) < per for _ in range(CLUSTERS)])


def _synthetic() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two text members: the largest wins at 1, ties at 2, none is usable at 3, only the small is feasible at 4."""
    inputs = pd.DataFrame(
        {"family": "text_encoder", "input": range(N), "cluster": np.repeat(range(CLUSTERS), N // CLUSTERS), "label": 0}
    )
    right = {  # (model, budget) -> right inputs; design names are the point's
        ("small", 1.0): _right(30),
        ("large", 1.0): _right(60),
        ("small", 2.0): _right(54),
        ("large", 2.0): _right(54),
        ("small", 3.0): _right(12),
        ("large", 3.0): _right(12),
        ("small", 4.0): _right(48),
    }
    rows, outcomes = [], []
    for model, params in (("small", 10), ("large", 20)):
        outcomes.append(("text_encoder", model, params, 0, model_size.UNPRUNED, _predictions(np.ones(N, bool))))
        for budget in (1.0, 2.0, 3.0, 4.0):
            found = right.get((model, budget))
            design = "" if found is None else f"d{budget:g}"
            rows.append(
                ("text_encoder", model, params, "latency_budget", budget, "optimal" if design else "infeasible", design)
            )
            if found is not None:
                outcomes.append(("text_encoder", model, params, 0, design, _predictions(found)))
    table = pd.DataFrame(rows, columns=["family", "model", "params", "sweep", "budget_value", "status", "design"])
    table["design"] = table["design"].replace("", np.nan)
    return table, pd.DataFrame(outcomes, columns=list(model_size.OUTCOME_COLUMNS)), inputs


def recompute(
    table: pd.DataFrame, outcomes: pd.DataFrame, inputs: pd.DataFrame
) -> dict[str, tuple[int, int, int, int]]:
    """Per family ``(no usable points, usable points, won by the largest, ties)``, straight from the three tables."""
    found = {}
    for family, rows in table[table["family"].isin(outcomes["family"])].groupby("family"):
        meta = inputs[inputs["family"] == family].sort_values("input")
        keep = meta["label"].to_numpy() >= 0
        label, cluster = meta["label"].to_numpy()[keep], meta["cluster"].to_numpy()[keep]
        clusters = None if len(set(cluster)) == len(cluster) else cluster
        mine = outcomes[outcomes["family"] == family]
        single_seed = mine.groupby("model")["seed"].nunique().max() == 1

        def score(model, design, mine=mine, keep=keep, label=label):
            picked = mine[(mine["model"] == model) & (mine["design"] == design)]
            return np.mean([np.array(p.split(), dtype=int)[keep] == label for p in picked["predictions"]], axis=0)

        largest = rows.loc[rows["params"].idxmax(), "model"]
        none = usable = won = ties = 0
        for _, point in rows.groupby(["sweep", "budget_value"]):
            feasible = point[point["status"] == "optimal"]
            s = {m: score(m, d) for m, d in zip(feasible["model"], feasible["design"], strict=True)}
            if not any(s[m].mean() >= 0.5 * score(m, model_size.UNPRUNED).mean() for m in s):
                none += 1
                continue
            usable += 1
            beats = [
                a
                for a in s
                if all(
                    paired_comparison(s[a], s[b], binary=bool(single_seed), clusters=clusters)[0] == "first"
                    for b in s
                    if b != a
                )
            ]
            won += beats == [largest]
            ties += not beats
        found[family] = (none, usable, won, ties)
    return found


def _counts(measured: dict) -> dict[str, tuple[int, int, int, int]]:
    return {
        f: (v["no_usable_points"], v["usable_points"], v["won_by_largest"], v["ties"])
        for f, v in measured["by_family"].items()
    }


def test_synthetic_points_wins_ties_and_unusable():
    table, outcomes, inputs = _synthetic()
    points = claims.l1_labelled_points(table, outcomes, inputs).set_index("budget_value")
    assert list(points["status"]) == ["won", "tie", "no usable member", "won"]
    assert list(points["winner"]) == ["large", "", "", "small"]
    assert points.loc[2.0, "largest_open"] and not points.loc[4.0, "largest_open"]
    measured, holds = claims.l1_labelled_verdict(table, outcomes, inputs)
    family = measured["by_family"]["text_encoder"]
    assert _counts(measured) == recompute(table, outcomes, inputs) == {"text_encoder": (1, 3, 1, 1)}
    assert family["won_by_other"] == {"small": 1}
    assert family["bracket"] == pytest.approx([1 / 3, 2 / 3])
    assert family["verdict"] == measured["verdict"] == "inconclusive" and not holds


def test_only_ties_is_not_testable():
    table, outcomes, inputs = _synthetic()
    table = table[table["budget_value"].isin([2.0, 3.0])]
    measured, holds = claims.l1_labelled_verdict(table, outcomes, inputs)
    assert measured["by_family"]["text_encoder"]["verdict"] == measured["verdict"] == claims_size.NOT_TESTABLE
    assert not holds


def test_mutations_are_caught_by_the_recomputation(monkeypatch):
    """A tie counted as a win, or an unusable point counted, changes the claims' counts away from the recomputation."""
    table, outcomes, inputs = _synthetic()
    expected = recompute(table, outcomes, inputs)

    def tie_wins(first, second, **kwargs):
        decision, *rest = paired_comparison(first, second, **kwargs)
        return ("first" if decision == "tie" else decision), *rest

    monkeypatch.setattr(claims_size, "paired_comparison", tie_wins)
    assert _counts(claims.l1_labelled_verdict(table, outcomes, inputs)[0]) != expected
    monkeypatch.undo()
    monkeypatch.setattr(model_size, "USABLE_SHARE", 0.0)
    assert _counts(claims.l1_labelled_verdict(table, outcomes, inputs)[0]) != expected


def test_seed_means_are_compared_by_the_paired_bootstrap():
    table, outcomes, inputs = _synthetic()
    extra = outcomes.assign(seed=1)
    both = pd.concat([outcomes, extra], ignore_index=True)
    scores = claims_size.labelled_scores(both, inputs)
    assert scores[("text_encoder", "small", "d1")].mean() == pytest.approx(0.5)
    assert _counts(claims.l1_labelled_verdict(table, both, inputs)[0]) == recompute(table, both, inputs)


def test_committed_l1_recomputes_from_the_tables(monkeypatch):
    """The committed counts follow from notebook 08's three tables alone (the committed data/, whatever the
    interactive output root holds)."""
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(paths.PROJECT_ROOT))
    table, outcomes, inputs = (paths.read_csv(f) for f in ("size_study.csv", "size_outcomes.csv", "size_inputs.csv"))
    assert _counts(claims.l1_labelled_verdict(table, outcomes, inputs)[0]) == recompute(table, outcomes, inputs)


def test_a_family_of_one_member_is_not_testable():
    table, outcomes, inputs = _synthetic()
    table, outcomes = table[table["model"] == "large"], outcomes[outcomes["model"] == "large"]
    measured, holds = claims.l1_labelled_verdict(table, outcomes, inputs)
    assert measured["by_family"]["text_encoder"]["won_by_largest"] == 2  # it wins every usable point, alone ...
    assert measured["verdict"] == claims_size.NOT_TESTABLE and not holds  # ... which tests nothing


def test_majority_labels_need_a_strict_majority():
    votes = {"a": np.array([1, 2, 3, 4]), "b": np.array([1, 2, 5, 6]), "c": np.array([1, 7, 5, 8])}
    assert model_size.majority_labels(votes).tolist() == [1, 2, 5, -1]
    assert model_size.majority_labels({"a": np.array([1, 2]), "b": np.array([1, 3])}).tolist() == [1, -1]


def test_crop_photos_follow_image_crops():
    """The first pass of image_crops is each photo's centred square: two seeds' crops match where their photos do."""
    from coinfer.nets import inputs

    names = inputs.PHOTO_SOURCES["heldout"]
    a, b = ([names.index(p) for p in inputs.image_crop_photos("heldout", n, seed=s)] for n, s in ((9, 3), (7, 5)))
    assert sorted(a[:7]) == list(range(7)) and list(a[7:]) == list(a[:2])
    crops_a, crops_b = (
        inputs.image_crops("heldout", 7, seed=3, size=32),
        inputs.image_crops("heldout", 7, seed=5, size=32),
    )
    for i in range(7):
        for j in range(7):
            assert torch.equal(crops_a[i], crops_b[j]) == (a[i] == b[j])


def test_family_inputs_carry_labels_and_sources():
    digits = model_size.family_inputs("digits_mlp", 20, 0)
    assert list(digits.columns) == list(model_size.INPUT_COLUMNS)
    assert digits["cluster"].tolist() == list(range(20)) and digits["label"].between(0, 9).all()
    text = model_size.family_inputs("text_encoder", 30, 0)
    assert (text["cluster"] == text["label"]).all() and text["label"].between(0, model_size.TOPIC_CLASSES - 1).all()
    images = model_size.family_inputs("efficientnet_lite", 9, 0)
    assert (images["label"] == -1).all() and images["cluster"].nunique() == 7
