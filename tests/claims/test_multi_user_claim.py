"""M1's verdict (claims.multi_user, model.md 13.9) on small hand-made tables."""

from __future__ import annotations

import pandas as pd

from coinfer.claims.multi_user import MARGIN, m1_verdict


def _table(joint: list[float], baseline: list[float]) -> pd.DataFrame:
    rows = []
    for population, (j, b) in enumerate(zip(joint, baseline, strict=True)):
        for scheme, objective in (("joint", j), ("equal_shares", b)):
            rows.append({"users": 2, "population": population, "scheme": scheme, "objective": objective,
                         "status": "optimal"})  # fmt: skip
    return pd.DataFrame(rows)


def test_ties_everywhere_are_inconclusive_not_a_failure():
    measured, holds = m1_verdict(_table([1.0, 2.0], [1.0, 2.0]))
    assert holds is None and measured["verdict"] == "inconclusive"
    assert measured["by_baseline"]["equal_shares"]["tie"] == 2


def test_a_margin_win_holds_and_a_loss_does_not():
    better = 1.0 - 2 * MARGIN
    assert m1_verdict(_table([better, better], [1.0, 1.0]))[1] is True
    assert m1_verdict(_table([1.0, 1.1], [1.0, 1.0]))[1] is False


def test_the_other_system_model_is_a_reading_of_m1(tmp_path, monkeypatch):
    from coinfer.claims.multi_user import OTHER_MODEL_FILE, POPULATIONS_FILE, claim_m1

    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    (tmp_path / "data").mkdir()
    better = 1.0 - 2 * MARGIN
    _table([better, better], [1.0, 1.0]).to_csv(tmp_path / "data" / POPULATIONS_FILE, index=False)
    assert claim_m1()["robustness"] == []  # no reading without its file
    other = _table([1.0, 1.1], [1.0, 1.0]).assign(system_model="paper")  # the joint design loses there
    other.to_csv(tmp_path / "data" / OTHER_MODEL_FILE, index=False)
    claim = claim_m1()
    assert claim["verdict"] == "holds"
    (reading,) = claim["robustness"]
    assert reading["reading"] == "M1 in the paper's model (the same populations)"
    assert reading["verdict"] == "does not hold" == m1_verdict(other.drop(columns=["system_model"]))[0]["verdict"]
