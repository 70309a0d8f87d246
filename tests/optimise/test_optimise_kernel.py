"""The compiled steps (coinfer.optimise.kernel) are built from the same operations as the Python building blocks
(fast._Model, slopes, coinfer.model.system), which the benchmark schemes and the conic reference use: bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coinfer.model import system
from coinfer.model.system import random_problem, unit_distortion
from coinfer.optimise import fast, kernel, slopes, solution, solve, solve_reference


def models(seed: int, count: int):
    """``(problem, its fast._Model, its kernel model m, keys, logits, rng)`` for seeded random problems."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        problem = random_problem(rng)
        m = np.empty(kernel._WIDTH)
        kernel._derive(fast._row(problem), m)
        yield problem, fast._Model(problem), m, *slopes._slope_table(problem.bits_per_weight), rng


def fresh_state() -> np.ndarray:
    state = np.full(kernel._STATE, np.nan)
    state[kernel.LAST_VALID] = 0.0
    return state


def test_constants_are_the_solution_and_system_constants():
    """numba freezes the kernel's globals into its cache, which watches only kernel.py: it keeps its own copies."""
    assert kernel.LN2 == system.LN2 and kernel._EDGE == solution._EDGE


def test_derived_model_is_fast_models():
    for problem, mp, m, *_ in models(1, 300):
        assert (m[kernel.A_D], m[kernel.A_S], m[kernel.G_D], m[kernel.G_S]) == mp.a + mp.g, problem
        assert (m[kernel.K_D], m[kernel.K_S], m[kernel.C_D], m[kernel.C_S]) == mp.k + mp.c
        assert (m[kernel.NOISE], m[kernel.U_MAX], m[kernel.NU_SAT]) == (mp.C, mp.u_max, mp.nu_sat)
        assert (m[kernel.NU_SAT_F_D], m[kernel.NU_SAT_F_S], m[kernel.NU_SAT_TX]) == (*mp.nu_sat_f, mp.nu_sat_tx)
        assert (m[kernel.FLAT_D], m[kernel.FLAT_S], m[kernel.TOP_D], m[kernel.TOP_S]) == mp.rho_flat + mp.rho_top
        assert bool(m[kernel.TWO_PRUNED]) == mp.two_pruned and bool(m[kernel.COUNTED_S]) == mp.counted[1]


def test_resources_times_energies_and_least_energy_are_fast_models():
    """Enough points that a one-ulp difference in an operation (e.g. ``f**2`` by ``pow`` against ``f * f``,
    which differ on ~1 in 1,000 inputs) would show."""
    checked = 0
    for problem, mp, m, _, _, rng in models(2, 200):
        for i in range(25):
            nu = math.exp(rng.uniform(-30.0, 5.0)) * max(mp.nu_sat, 1e-12)
            res = mp.resources(nu)
            assert kernel._resources(m, nu) == res, (problem, nu)
            rho = tuple(rng.uniform(0.0, mp.rho_max, 2))
            assert kernel._time(m, *rho, *res) == mp.time(rho, res)
            assert kernel._energy(m, *rho, *res) == mp.energy(rho, res), (problem, rho, res)
            if i < 5:
                energy, price, resources = mp.min_energy(rho)
                assert kernel._min_energy(m, *rho, math.nan) == (energy, price, *resources), (problem, rho)
            checked += 1
    assert checked == 5000


def test_latency_ratios_are_fast_models():
    """The least-distortion ratios for the latency budget: closed forms, the two-sided Newton in the logits or in
    the multiplier, and the 1-D root in the log multiplier."""
    two_pruned = 0
    for problem, mp, m, keys, logits, rng in models(3, 300):
        res = mp.resources(math.exp(rng.uniform(-10.0, 3.0)) * max(mp.nu_sat, 1e-12))
        got = kernel._latency_ratios(m, keys, logits, fresh_state(), np.empty((kernel._SEEN, 6)), *res)
        assert got == mp.latency_ratios(res), problem
        two_pruned += mp.two_pruned
    assert two_pruned >= 50


def test_slopes_and_distortions_are_the_python_ones():
    rng = np.random.default_rng(4)
    for problem, _, m, keys, logits, _ in models(5, 100):
        model, q, rho_max = problem.distortion_model, problem.bits_per_weight, problem.rho_max
        for rho in np.concatenate([rng.uniform(0.0, rho_max, 150), rng.uniform(0.0, 1e-3, 150)]).tolist():
            assert kernel._unit_distortion(m, rho) == unit_distortion(rho, model, q), (model, q, rho)
            assert kernel._slope(m, rho) == slopes._slope(rho, model, q), (model, q, rho)
        for s in np.exp(rng.uniform(-12.0, 4.0, 20)).tolist():
            got = kernel._inverse_slope(m, keys, logits, s, fresh_state(), kernel.NO_GUESS)
            assert got == slopes._inverse_slope(s, model, q, rho_max), (model, q, rho_max, s)


def test_answer_terms_and_polish_are_the_python_ones():
    """The decision's latency, energy and objective (coinfer.model.system._decision_terms), and the polish of a
    decision a little outside its budgets (fast._polish), on seeded random decisions."""
    polished = 0
    for problem, mp, m, _, _, rng in models(6, 300):
        d = [*rng.uniform(0.0, mp.rho_max, 2), rng.uniform(0.0, mp.pmax), *(rng.uniform(0.3, 1.0, 2) * mp.fmax)]
        terms = system._decision_terms(problem, *d)
        assert kernel._terms(m, np.array(d)) == terms[:3], problem
        # Budgets just below this decision's latency and energy: the polish prunes a little more.
        tight = problem.replace(
            latency_budget=max(terms[0], 1e-30) * (1 - 1e-9), energy_budget=max(terms[1], 1e-30) * (1 - 1e-9)
        )
        m_tight = np.empty(kernel._WIDTH)
        kernel._derive(fast._row(tight), m_tight)
        want, want_terms = fast._polish(tight, list(d))
        got = np.array(d)
        met, latency, energy, objective = kernel._polish(m_tight, got, *system._decision_terms(tight, *d)[:3])
        assert got.tolist() == want and met == (want_terms is not None), tight
        if met:
            polished += 1
            assert (latency, energy, objective) == want_terms[:3]
    assert polished >= 100


@pytest.mark.parametrize("scale", [1e-60, 1e60])
def test_distortion_weights_at_the_ends_of_their_range(scale):
    """Distortion weights 1e120 apart (scale_device at the ends of its allowed range): the ratio multiplier's
    bracket must hold both sides' roots. solve's answer is feasible and no worse than the conic reference's."""
    problem = system.make_problem(
        flops_device=2.87e7, flops_server=2.88e10, params_device=1.39e6, params_server=2.08e5, scale_device=scale,
        scale_server=0.0106, feature_bits=2.48e6, latency_budget=0.0976, energy_budget=11.46,
        distortion_model="magnitude", energy_scope="system", rho_max=0.364,
    )  # fmt: skip
    got, reference = solve(problem), solve_reference(problem)
    assert got.status == "optimal"
    assert system.evaluate(problem, got.decision, rtol=1e-9).violations == []
    assert reference.status != "optimal" or got.objective <= reference.objective * (1 + 1e-6)


def test_an_unbracketed_step_4_is_a_solver_error():
    """Where the nested roots find no price of time that brackets the energy budget (STEP4_FAILED), solve
    reports a solver error with a reason, never an optimum."""
    problem = random_problem(np.random.default_rng(9))
    answer = fast._solution_of(problem, kernel.STEP4_FAILED, (math.nan,) * kernel.OUT_WIDTH)
    assert answer.status == "solver_error" and answer.decision is None
    assert answer.reason is not None and "energy budget" in answer.reason
