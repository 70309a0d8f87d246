"""System model and Problem validation (model.md sections 2, 7, 8)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workloads import WORKLOAD

from coinfer.base.validation import ParameterError
from coinfer.model import rate_distortion as rd
from coinfer.model.arithmetic import decision_terms, flat_end, meets_constraints
from coinfer.model.system import (
    DEFAULTS,
    REQUIRED_FIELDS,
    Decision,
    Problem,
    channel_gain,
    evaluate,
    flat_ratios,
    floor_ratios,
    make_problem,
    noise_psd_from_dbm,
    objective_value,
    path_loss_db,
    problems_for_splits,
    random_problem,
    rate,
    rayleigh_fading,
    unit_distortion,
)


def base() -> dict:
    return make_problem(**WORKLOAD).to_dict()


def test_defaults_follow_spec7():
    assert DEFAULTS["noise_psd"] == pytest.approx(10 ** (-20.4), rel=1e-12)  # -174 dBm/Hz = 3.98e-21 W/Hz
    assert path_loss_db(1000.0) == pytest.approx(128.1)
    assert path_loss_db(200.0) == pytest.approx(128.1 + 37.6 * math.log10(0.2))
    assert DEFAULTS["channel_gain"] == pytest.approx(10 ** (-(128.1 + 37.6 * math.log10(0.2)) / 10))
    assert channel_gain(200.0, 0.5) == pytest.approx(0.5 * DEFAULTS["channel_gain"])
    assert noise_psd_from_dbm(-174.0) == pytest.approx(3.981e-21, rel=1e-3)
    assert (
        DEFAULTS["f_device_max"],
        DEFAULTS["flops_per_cycle_device"],
        DEFAULTS["psi_device"],
        DEFAULTS["pue_device"],
    ) == (2e9, 32.0, 2e-29, 1.0)
    assert (
        DEFAULTS["f_server_max"],
        DEFAULTS["flops_per_cycle_server"],
        DEFAULTS["psi_server"],
        DEFAULTS["pue_server"],
    ) == (10e9, 128.0, 1e-28, 2.0)
    assert (DEFAULTS["bandwidth"], DEFAULTS["p_max"], DEFAULTS["rho_max"], DEFAULTS["bits_per_weight"]) == (
        5e6,
        0.2,
        0.99,
        16,
    )
    assert set(DEFAULTS) | set(WORKLOAD) == set(Problem.fields())


def test_field_names_are_spec8():
    spec8 = """flops_device, flops_server, params_device, params_server, scale_device, scale_server, feature_bits,
    f_device_max, flops_per_cycle_device, psi_device, pue_device, f_server_max, flops_per_cycle_server, psi_server,
    pue_server, bandwidth, noise_psd, channel_gain, p_max, latency_budget, energy_budget, energy_scope, rho_max,
    bits_per_weight, distortion_model, shared_ratio, flops_device_fixed, flops_server_fixed, compute_model,
    sparse_efficiency_device, sparse_efficiency_server, sparse_overhead_device, sparse_overhead_server"""
    assert Problem.fields() == tuple(name.strip() for name in spec8.split(","))


def test_fields_with_defaults_may_be_omitted():
    data = {name: base()[name] for name in REQUIRED_FIELDS}
    problem = Problem.from_dict(data)
    assert problem.p_max == DEFAULTS["p_max"] and problem.compute_model == "ideal"
    assert problem.flops_device_fixed == 0.0 and problem.sparse_efficiency_server == 1.0


def test_execution_models_give_the_affine_cycles():
    problem = make_problem(**WORKLOAD).replace(flops_device_fixed=3e8, sparse_overhead_device=1e8)
    a, g = problem.cycles("device")
    assert (a, g) == (problem.flops_device / 32.0, 3e8 / 32.0)
    a, g = problem.replace(compute_model="dense").cycles("device")
    assert (a, g) == (0.0, (problem.flops_device + 3e8) / 32.0)
    a, g = problem.replace(compute_model="sparse", sparse_efficiency_device=0.25).cycles("device")
    assert (a, g) == (problem.flops_device / (0.25 * 32.0), (3e8 + 1e8) / 32.0)
    # No prunable work: no sparse overhead either.
    assert problem.replace(compute_model="sparse", flops_device=0.0).cycles("device") == (0.0, 3e8 / 32.0)
    with pytest.raises(ParameterError, match="^sparse_efficiency_device: .*"):
        problem.replace(sparse_efficiency_device=1.5)
    with pytest.raises(ParameterError, match="^compute_model: "):
        problem.replace(compute_model="quantum")


def test_numbers_are_computed_once_and_read_only():
    """Problem.numbers (coinfer.model.arithmetic) is cached per problem and cannot be changed by a caller."""
    problem = make_problem(**WORKLOAD)
    numbers = problem.numbers
    assert problem.numbers is numbers and not numbers.flags.writeable
    with pytest.raises(ValueError):
        numbers[0] = 1.0
    assert problem.replace(latency_budget=1.0).numbers is not numbers  # a new problem, its own numbers


@pytest.mark.parametrize("model", ["rd_bound", "magnitude"])
def test_flat_point_and_floor_ratios(model):
    """The flat point: every ratio at the end of the flat region (0 for magnitude), a side with FLOPs but no
    parameters at rho_max (pruning it is free); the floors' ratios: rho_max on every side with work to prune."""
    problem = make_problem(**WORKLOAD, distortion_model=model, bits_per_weight=8)
    flat = flat_end(8) if model == "rd_bound" else 0.0
    assert flat_ratios(problem) == (flat, flat) and floor_ratios(problem) == (0.99, 0.99)
    free = problem.replace(params_server=0.0)
    assert flat_ratios(free) == (flat, 0.99) and floor_ratios(free) == (0.99, 0.99)
    no_work = problem.replace(flops_device=0.0)
    assert flat_ratios(no_work) == (flat, flat) and floor_ratios(no_work) == (flat, 0.99)
    capped = problem.replace(rho_max=flat / 2) if flat > 0 else problem.replace(rho_max=0.0)
    assert flat_ratios(capped) == (capped.rho_max, capped.rho_max)


def test_round_trips(tmp_path):
    problem = make_problem(**WORKLOAD)
    assert Problem.from_dict(problem.to_dict()) == problem
    path = tmp_path / "p.yaml"
    text = "\n".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in problem.to_dict().items())
    path.write_text(text.replace("flops_device: 2000000000.0", "flops_device: 2e9"))
    assert Problem.from_yaml(path) == problem  # "2e9" is a number (YAML 1.2), not a string
    assert problem.replace(rho_max=0.5).rho_max == 0.5
    assert isinstance(Problem.from_dict({**base(), "bits_per_weight": 8.0}).bits_per_weight, int)


BAD = [
    ("bandwidth", -5.0),
    ("bandwidth", 0.0),
    ("noise_psd", 0.0),
    ("channel_gain", -1e-10),
    ("p_max", 0),
    ("rho_max", 1.0),
    ("rho_max", 1.5),
    ("rho_max", -0.1),
    ("scale_device", 0.0),
    ("scale_server", -1.0),
    ("energy_scope", "cloud"),
    ("energy_scope", 1),
    ("distortion_model", "l2"),
    ("distortion_model", None),
    ("bits_per_weight", 0),
    ("bits_per_weight", 65),
    ("bits_per_weight", 16.5),
    ("bits_per_weight", True),
    ("flops_device", -1.0),
    ("params_server", -3),
    ("feature_bits", -8),
    ("latency_budget", 0.0),
    ("energy_budget", -1.0),
    ("flops_device", True),
    ("flops_device", "1e9 flops"),
    ("psi_device", float("nan")),
    ("f_device_max", float("inf")),
    ("shared_ratio", "yes"),
    ("shared_ratio", 1),
    ("flops_server", 1e300),
    ("channel_gain", 1e-300),
    ("pue_server", [1.0]),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_bad_field_is_one_line_error_naming_it(field, value):
    with pytest.raises(ParameterError) as info:
        Problem.from_dict({**base(), field: value})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{field}: got ")


def test_unknown_missing_and_inconsistent():
    with pytest.raises(ParameterError, match="^foo: .*unknown field"):
        Problem.from_dict({**base(), "foo": 1})
    data = base()
    del data["latency_budget"]
    with pytest.raises(ParameterError, match="^latency_budget: missing"):
        Problem.from_dict(data)
    with pytest.raises(ParameterError, match="params_device .*> 0"):
        Problem.from_dict({**base(), "params_device": 0, "params_server": 0})
    with pytest.raises(ParameterError, match="expected a mapping"):
        Problem.from_dict([1, 2])
    with pytest.raises(ParameterError, match="unknown field"):
        make_problem(**WORKLOAD, bogus=3)
    # Documented as accepted: parameters without FLOPs and FLOPs without parameters.
    Problem.from_dict({**base(), "flops_device": 0.0})
    Problem.from_dict({**base(), "params_device": 0.0})


@pytest.mark.parametrize("content", ["", "   \n", "a: [\n", "- 1\n- 2\n", "just a string\n", "42\n"])
def test_bad_yaml_files(tmp_path, content):
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(ParameterError):
        Problem.from_yaml(path)
    with pytest.raises(ParameterError, match="does not exist"):
        Problem.from_yaml(tmp_path / "missing.yaml")


NUMERIC = [f for f in Problem.fields() if f not in ("energy_scope", "distortion_model", "shared_ratio")]


@settings(max_examples=150)
@given(
    field=st.sampled_from(NUMERIC),
    value=st.one_of(
        st.floats(max_value=-1e-300),
        st.just(float("nan")),
        st.just(float("inf")),
        st.just(-float("inf")),
        st.floats(min_value=1e61, allow_infinity=False),
        st.text(max_size=5),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    ),
)
def test_random_bad_numbers_rejected(field, value):
    with pytest.raises(ParameterError) as info:
        Problem.from_dict({**base(), field: value})
    assert str(info.value).startswith(f"{field}: ") and "\n" not in str(info.value)


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_problems_are_valid(seed):
    problem = random_problem(np.random.default_rng(seed))
    assert Problem.from_dict(problem.to_dict()) == problem


@pytest.mark.parametrize("model", ["rd_bound", "magnitude"])
@pytest.mark.parametrize("q", [1, 4, 8, 16, 32])
def test_unit_distortion_matches_rate_distortion(model, q):
    rhos = np.concatenate([[0.0, 1e-12, 1e-6], np.linspace(0.001, 0.999, 101)])
    expected = rd.distortion_lower_bound(rhos, 1.0, q) if model == "rd_bound" else rd.magnitude_distortion(rhos, 1.0)
    got = [unit_distortion(float(r), model, q) for r in rhos]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-16)


def test_evaluate_by_hand():
    problem = make_problem(**WORKLOAD)
    d = Decision(rho_device=0.5, rho_server=0.25, power=0.1, f_device=1e9, f_server=5e9)
    ev = evaluate(problem, d)
    w_d, w_s = 0.5 * 2e9 / 32, 0.75 * 8e9 / 128
    r = 5e6 * math.log2(1 + 0.1 * problem.channel_gain / (problem.noise_psd * 5e6))
    assert rate(problem, 0.1) == pytest.approx(r, rel=1e-12)
    assert ev.t_device == pytest.approx(w_d / 1e9)
    assert ev.t_server == pytest.approx(w_s / 5e9)
    assert ev.t_tx == pytest.approx(2e5 / r)
    assert ev.latency == pytest.approx(w_d / 1e9 + w_s / 5e9 + 2e5 / r)
    e_d, e_s = 2e-29 * w_d * 1e18, 2 * 1e-28 * w_s * 25e18
    assert ev.energy == pytest.approx(e_d + e_s + 0.1 * 2e5 / r)
    assert evaluate(problem.replace(energy_scope="device"), d).energy == pytest.approx(e_d + 0.1 * 2e5 / r)
    expected = (
        1e6 * 0.02 * float(rd.distortion_lower_bound(0.5, 1, 16))
        + 4e6 * 0.03 * float(rd.distortion_lower_bound(0.25, 1, 16))
    ) / 5e6
    assert ev.objective == pytest.approx(expected, rel=1e-12)
    assert objective_value(problem, 0.5, 0.25) == pytest.approx(expected, rel=1e-12)
    assert [v.split()[0] for v in ev.violations] == ["energy"]  # 0.04 s fits 0.05 s; 0.23 J does not fit 0.02 J
    tight = evaluate(problem.replace(latency_budget=0.01), d).violations
    assert [v.split()[0] for v in tight] == ["latency", "energy"]


def test_evaluate_flags_every_box_violation():
    problem = make_problem(**WORKLOAD, shared_ratio=True)
    ev = evaluate(problem, Decision(1.2, -0.1, 0.5, 3e9, 0.0))
    text = " | ".join(ev.violations)
    for word in ("rho_device", "rho_server", "shared_ratio", "power", "f_device", "f_server"):
        assert word in text
    ok = evaluate(
        make_problem(**{**WORKLOAD, "latency_budget": 10.0, "energy_budget": 10.0}), Decision(0.1, 0.1, 0.2, 2e9, 1e10)
    )
    assert ok.violations == []


def test_plain_float_evaluation_is_evaluate():
    """The solvers' plain-float evaluation (coinfer.model.arithmetic.decision_terms) gives evaluate's numbers to the
    bit, and meets_constraints is evaluate at rtol 0 finding nothing: decisions at, just inside and just outside each
    budget and box, on seeded random problems."""
    rng = np.random.default_rng(11)
    agree = {True: 0, False: 0}
    for _ in range(400):
        p = random_problem(rng)
        base = [
            float(rng.uniform(0.0, p.rho_max)),
            float(rng.uniform(0.0, p.rho_max)),
            float(rng.uniform(0.0, p.p_max)),
            float(rng.uniform(0.1, 1.0)) * p.f_device_max,
            float(rng.uniform(0.1, 1.0)) * p.f_server_max,
        ]
        if p.shared_ratio and rng.random() < 0.7:
            base[1] = base[0]
        candidates = [base]
        for j, bound in enumerate((p.rho_max, p.rho_max, p.p_max, p.f_device_max, p.f_server_max)):
            for value in (bound, math.nextafter(bound, math.inf), 0.0, -0.0, math.nextafter(0.0, -1.0)):
                candidates.append([*base[:j], value, *base[j + 1 :]])
        for d in candidates:
            terms = decision_terms(p.numbers, *d)
            ev = evaluate(p, Decision(*d), rtol=0.0)
            assert terms == (
                ev.latency, ev.energy, ev.objective, ev.t_device, ev.t_tx, ev.t_server,
                ev.energy_device, ev.energy_tx, ev.energy_server,
            )  # fmt: skip
            if not (0 < ev.latency < math.inf and 0 < ev.energy < math.inf):
                continue
            # budgets exactly at this decision's latency and energy, and one ulp below them
            for latency_budget, energy_budget in (
                (ev.latency, ev.energy),
                (math.nextafter(ev.latency, 0.0), math.nextafter(ev.energy, 0.0)),
            ):
                q = p.replace(latency_budget=latency_budget, energy_budget=energy_budget)
                meets = meets_constraints(q.numbers, *d, *decision_terms(q.numbers, *d)[:2])
                assert meets == (evaluate(q, Decision(*d), rtol=0.0).violations == []), (q, d)
                agree[meets] += 1
    assert min(agree.values()) >= 100, agree


def test_rayleigh_and_profiles():
    draws = rayleigh_fading(np.random.default_rng(0), 20000)
    assert draws.min() >= 0 and abs(draws.mean() - 1) < 0.03
    profile = pd.DataFrame(
        {
            "model": ["m"] * 3,
            "split": [2, 0, 1],
            "flops_device": [2e9, 0.0, 1e9],
            "flops_server": [0.0, 2e9, 1e9],
            "params_device": [2e6, 0.0, 1e6],
            "params_server": [0.0, 2e6, 1e6],
            "feature_bits": [0.0, 1e5, 1e4],
            "scale_device": [0.02, float("nan"), 0.02],
            "scale_server": [float("nan"), 0.03, 0.03],
        }
    )
    problems = problems_for_splits(profile, latency_budget=0.1, energy_budget=1.0, distance=100.0)
    assert [p.flops_device for p in problems] == [0.0, 1e9, 2e9]
    assert problems[0].scale_device == 1.0 and problems[2].scale_server == 1.0
    assert problems[0].channel_gain == pytest.approx(channel_gain(100.0))
    with pytest.raises(ParameterError):
        problems_for_splits(profile.assign(model=["a", "b", "a"]), latency_budget=0.1, energy_budget=1.0)


def test_channel_gain_and_distance_together_are_refused():
    with pytest.raises(ParameterError, match="channel_gain"):
        make_problem(**WORKLOAD, distance=400.0, channel_gain=1e-10)
    assert make_problem(**WORKLOAD, channel_gain=1e-10).channel_gain == 1e-10
