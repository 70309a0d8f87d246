"""Notebook 10's back end: the public measurement's projection, the timing fit, the D1 reading (model.md 14)."""

import numpy as np
import pandas as pd
import pytest

from coinfer.claims.decoding import d1_verdict
from coinfer.model.hardware import EDGE_SERVER, SERVER_SHARE
from coinfer.model.system import paper_model
from coinfer.nets import decode_timing
from coinfer.nets.budgets import SERVICE_POWER
from coinfer.studies.decoding import budgets, problem_at, public_projection, server_power, timing_fit


def test_public_projection_reproduces_the_published_numbers():
    table = public_projection().set_index("quantity")["value"]
    # 8.3 tok/s with 64 % in the round trip: a 77 ms round trip ("about 80 ms") and 43 ms of compute per token
    assert table["round trip implied by the 64 % share"] == pytest.approx(0.080, rel=0.05)
    # replacing the round trip by 20 ms gives the published 15.9 tok/s to within 1 %
    assert table["projected tokens/s at 20 ms"] == pytest.approx(15.9, rel=0.01)
    assert table["projected tokens/s at 20 ms"] < 39.0  # still slower than fully local
    moved = public_projection(round_trip_share=0.5).set_index("quantity")["value"]
    assert moved["projected tokens/s at 20 ms"] != pytest.approx(15.9, rel=0.01)  # the share matters


def test_the_system_scope_budget_adds_the_servers_full_power_to_the_battery_share():
    device, system = (problem_at(5e6, 200.0, 4e-3, scope) for scope in ("device", "system"))
    assert budgets(device).energy_token == pytest.approx(SERVICE_POWER * 0.1, rel=1e-12)  # 0.01925 J
    # pue 2 x (psi f^3 = 1e-28 x 1e30 W, one inference's share of 30 W static, 1.3 nJ/64 bit x 8 x 4.8e9 x 64 bit/s)
    watts = 2.0 * (100.0 + 30.0 * SERVER_SHARE + EDGE_SERVER.memory_energy * EDGE_SERVER.memory_bandwidth)
    assert server_power(system) == pytest.approx(watts, rel=1e-12)
    assert budgets(system).energy_token == pytest.approx((SERVICE_POWER + watts) * 0.1, rel=1e-12)
    assert budgets(system).tpot == budgets(device).tpot == 0.1 and budgets(system).ttft == 2.0
    # the paper's model: no memory energy, unbounded bandwidth, no nan
    paper = paper_model(system)
    assert server_power(paper) == pytest.approx(paper.pue_server * paper.psi_server * paper.f_server_max**3)


def test_timing_fit_recovers_known_constants():
    rng = np.random.default_rng(0)
    flops = rng.uniform(1e7, 1e9, 30)
    bits = rng.uniform(1e7, 1e9, 30)
    t = np.maximum(flops / 3e10, bits / 2e11)
    table = pd.DataFrame({"median_s": t, "decode_flops": flops, "weight_bits": bits, "kv_bits": 0.0})
    _, fit = timing_fit(table)
    assert fit["flop_rate"] == pytest.approx(3e10, rel=1e-3)
    assert fit["bandwidth"] == pytest.approx(2e11, rel=1e-3)
    assert fit["max_abs_error"] < 1e-3


def test_committed_timings_have_every_model_and_context():
    table = decode_timing.timing_table()
    assert set(table["model"]) == set(decode_timing.TIMING_CONFIGS)
    assert table["context"].nunique() >= 3 and (table["median_s"] > 0).all() and (table["threads"] == 1).all()


def test_recorder_bad_argument_exits_2(capsys):
    assert decode_timing.main(["--repeats", "1"]) == 2
    assert "repeats" in capsys.readouterr().err


def _best(scope, pruning, split, access):
    return {
        "scope": scope,
        "pruning": pruning,
        "bandwidth": 5e6,
        "distance": 200.0,
        "access_latency": access,
        "best_split": split,
        "best_label": "x",
        "interior": 0 < split < 32,
        "round_trip": 0.01,
    }


def test_d1_reading():
    rows = [_best("system", "with", -1, 1e-3), _best("device", "with", 0, 1e-3), _best("device", "with", 3, 4e-3)]
    rows += [_best(s, "without", 0, 1e-3) for s in ("system", "device")]
    measured, holds = d1_verdict(pd.DataFrame(rows))
    assert holds is True and measured["parts"]["D1b"]["interior_access_latencies"] == [4e-3]
    assert measured["parts"]["D1a"]["verdict"] == "inconclusive"
    measured, holds = d1_verdict(pd.DataFrame(rows[:2] + rows[3:]))
    assert holds is False
    measured, holds = d1_verdict(pd.DataFrame([rows[0], _best("device", "with", -1, 1e-3)]))
    assert holds is None


def test_d1_sentence_names_the_winning_access_latencies():
    from coinfer.claims import SENTENCES

    rows = [_best("system", "with", 2, 4e-3), _best("device", "with", 0, 1e-3)]
    measured, _ = d1_verdict(pd.DataFrame(rows))
    text = SENTENCES["D1"](measured)
    assert "D1a (system scope): an interior split is best at 1 of 1" in text and "access latencies 4 ms" in text
    assert "D1b (device scope): an interior split is best at 0 of 1" in text
