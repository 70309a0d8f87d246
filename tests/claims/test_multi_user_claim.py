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
