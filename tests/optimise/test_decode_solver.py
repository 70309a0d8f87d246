"""The decoding decision (model.md 14.3) against an independent brute-force grid of the per-phase model."""

import itertools

import numpy as np
import pytest

from coinfer.base.validation import ParameterError
from coinfer.model.decoding import DecodeSetting, decode_costs
from coinfer.model.system import Decision, make_problem
from coinfer.nets.decoding import decode_profile, decoder_shape
from coinfer.optimise.decoding import DecodeBudgets, best_decode_split, solve_decode

SETTING = DecodeSetting(prompt_tokens=128, max_context=1024)


def _problem(**overrides):
    base = dict(
        flops_device=1,
        flops_server=1,
        params_device=1,
        params_server=1,
        scale_device=1,
        scale_server=1,
        feature_bits=1,
        latency_budget=1,
        energy_budget=1,
    )
    return make_problem(**(base | overrides))


@pytest.fixture(scope="module")
def profile():
    return decode_profile(decoder_shape("llama_7b"), 128, 1024)


@pytest.mark.parametrize(
    ("scope", "split", "rho", "tpot"), [("system", 2, 0.5, 0.05), ("device", 4, 0.3, 0.08), ("system", 1, 0.0, 0.07)]
)
def test_least_energy_matches_a_brute_force_grid(profile, scope, split, rho, tpot):
    p = _problem(energy_scope=scope)
    budgets = DecodeBudgets(ttft=100.0, tpot=tpot, energy_token=1e6)
    solved = solve_decode(p, profile.iloc[[split]].reset_index(drop=True), SETTING, budgets, np.array([rho]))
    got = solved.iloc[0]
    assert got["feasible"] and got["tpot"] <= tpot * (1 + 1e-9)
    row = profile.iloc[split].to_dict()
    full = Decision(rho, rho, p.p_max, p.f_device_max, p.f_server_max)
    best = np.inf
    for f_d, f_s, power in itertools.product(
        np.geomspace(p.f_device_min, p.f_device_max, 40),
        np.geomspace(p.f_server_min, p.f_server_max, 25),
        np.geomspace(1e-4, p.p_max, 30),
    ):
        c = decode_costs(p, row, SETTING, full, Decision(rho, rho, power, f_d, f_s))
        if c.tpot <= tpot:
            best = min(best, c.energy_token)
    assert got["energy_token"] <= best * (1 + 1e-9)  # no grid point beats the solver
    assert got["energy_token"] >= best * 0.97  # and the grid comes close to it


def test_budgets_and_best_split(profile):
    p = _problem()
    loose = solve_decode(p, profile, SETTING, DecodeBudgets(1e3, 1e3, 1e6), np.array([0.0, 0.5]))
    fits = profile["weight_bits_device"] + 1024 * profile["kv_bits_per_token_device"] <= SETTING.device_memory
    assert ((loose["rho"] == 0) == fits).all() and fits.iloc[:5].all() and not fits.iloc[-1]  # memory decides
    tight = solve_decode(p, profile, SETTING, DecodeBudgets(1e3, 1e-4, 1e6), np.array([0.0, 0.99]))
    assert not tight["feasible"].any() and (tight["reason"] == "tpot").all()
    assert best_decode_split(tight) is None
    best = best_decode_split(loose)
    assert best["rho"] == 0 and best["energy_token"] == loose[loose["rho"] == 0]["energy_token"].min()


def test_device_memory_binds_the_local_split(profile):
    p = _problem()
    solved = solve_decode(
        p,
        profile.iloc[[-1]].reset_index(drop=True),
        SETTING,
        DecodeBudgets(1e3, 1e3, 1e6),
        np.array([0.0, 0.2, 0.4, 0.6]),
    )
    row = profile.iloc[-1]
    spare = (
        SETTING.device_memory
        - (row["weight_bits_device"] - 16 * row["prunable_device"])
        - 1024 * row["kv_bits_per_token_device"]
    )
    need = 1 - spare / (16 * row["prunable_device"])  # the least ratio that fits: 0.47
    assert 0.4 < need < 0.6 and solved.iloc[0]["rho"] == 0.6
    assert solved.iloc[0]["device_memory"] <= SETTING.device_memory


def test_bad_budgets():
    with pytest.raises(ParameterError, match="^tpot"):
        DecodeBudgets(1.0, 0.0, 1.0)
