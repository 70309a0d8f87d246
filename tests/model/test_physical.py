"""The physical model (model.md section 2.7): its fields, their defaults and bad values, and ``evaluate``'s terms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from workloads import WORKLOAD

from coinfer.base.validation import ParameterError
from coinfer.model import hardware
from coinfer.model.system import (
    DEFAULTS,
    PAPER_MODEL,
    Decision,
    Problem,
    evaluate,
    make_problem,
    paper_model,
    random_problem,
    rate,
)

PHYSICAL_FIELDS = tuple(PAPER_MODEL)


def lines_of(data: object) -> list[str]:
    with pytest.raises(ParameterError) as info:
        Problem.from_dict(data)
    return info.value.lines


def test_defaults_are_the_hardware_presets_and_paper_model_zeroes_them():
    problem = make_problem(**WORKLOAD)
    presets = hardware.problem_defaults()
    assert {name: getattr(problem, name) for name in PHYSICAL_FIELDS} == {n: presets[n] for n in PHYSICAL_FIELDS}
    assert all(DEFAULTS[name] == presets[name] for name in PHYSICAL_FIELDS)
    assert not problem.is_paper_model
    paper = paper_model(problem)
    assert paper.is_paper_model and paper_model(paper) is paper
    assert paper.memory_bandwidth_device == math.inf and paper.f_device_min == 0.0
    # nothing but the physical fields changes
    assert paper.replace(**{n: getattr(problem, n) for n in PHYSICAL_FIELDS}) == problem


def side_by_hand(p: Problem, side: str, rho: float, f: float) -> tuple[float, float, bool]:
    """One side's time, energy and memory-bound flag, written out from model.md section 2.7."""
    a, g = p.cycles(side)
    work = a * (1 - rho) + g
    if work == 0:
        return 0.0, 0.0, False
    pue, psi = getattr(p, f"pue_{side}"), getattr(p, f"psi_{side}")
    bits = p.bits_per_weight * getattr(p, f"params_{side}")
    execution = getattr(p, f"compute_model_{side}")
    read = bits if execution == "dense" else bits * (1 - rho)
    compute, memory = work / f, read / getattr(p, f"memory_bandwidth_{side}")
    t = max(compute, memory)
    energy = pue * (
        psi * work * f * f + getattr(p, f"static_power_{side}") * t + getattr(p, f"memory_energy_{side}") * read
    )
    return t, energy, memory > compute


@pytest.mark.parametrize("execution", [("ideal", "ideal"), ("dense", "sparse"), ("sparse", "dense")])
@pytest.mark.parametrize("scope", ["device", "system"])
def test_evaluate_is_the_physical_model_and_its_parts_sum(execution, scope):
    p = make_problem(
        **WORKLOAD,
        compute_model_device=execution[0],
        compute_model_server=execution[1],
        sparse_efficiency_device=0.5,
        sparse_overhead_server=1e8,
        energy_scope=scope,
        memory_bandwidth_device=1e8,  # slow enough that the device waits for its weights
    )
    rng = np.random.default_rng(5)
    bound_seen = False
    for _ in range(50):
        rho_d, rho_s, power = rng.uniform(0, p.rho_max), rng.uniform(0, p.rho_max), rng.uniform(0.01, 1) * p.p_max
        f_d = rng.uniform(p.f_device_min, p.f_device_max)
        f_s = rng.uniform(p.f_server_min, p.f_server_max)
        ev = evaluate(p, Decision(rho_d, rho_s, power, f_d, f_s))
        t_d, e_d, b_d = side_by_hand(p, "device", rho_d, f_d)
        t_s, e_s, b_s = side_by_hand(p, "server", rho_s, f_s)
        air = p.feature_bits / rate(p, power)
        assert ev.t_device == pytest.approx(t_d, rel=1e-12) and ev.energy_device == pytest.approx(e_d, rel=1e-12)
        assert ev.t_server == pytest.approx(t_s, rel=1e-12) and ev.energy_server == pytest.approx(e_s, rel=1e-12)
        assert ev.t_tx == pytest.approx(air + p.access_latency, rel=1e-12)
        assert ev.energy_tx == pytest.approx((power + p.circuit_power) * air, rel=1e-12)
        assert (ev.memory_bound_device, ev.memory_bound_server) == (b_d, b_s)
        bound_seen = bound_seen or b_d
        assert ev.latency == pytest.approx(ev.t_device + ev.t_tx + ev.t_server, rel=1e-14)
        counted = ev.energy_server if scope == "system" else 0.0
        assert ev.energy == pytest.approx(ev.energy_device + ev.energy_tx + counted, rel=1e-14)
        if f_d < p.f_device_min or f_s < p.f_server_min:
            raise AssertionError("drawn inside the range")
    assert bound_seen
    below = evaluate(p, Decision(0.1, 0.1, p.p_max, 0.5 * p.f_device_min, p.f_server_max))
    assert any("below f_device_min" in v for v in below.violations)


def test_paper_model_terms_are_the_old_ones():
    p = paper_model(make_problem(**WORKLOAD))
    d = Decision(0.3, 0.4, 0.1, 1e9, 2e9)
    ev = evaluate(p, d)
    a, g = p.cycles("device")
    assert ev.t_device == (a * 0.7 + g) / 1e9
    assert ev.energy_tx == 0.1 * (p.feature_bits / rate(p, 0.1))
    assert not ev.memory_bound_device and not ev.memory_bound_server


def test_infinite_bandwidth_from_a_yaml_file():
    text = yaml.safe_dump(WORKLOAD) + "memory_bandwidth_device: .inf\nmemory_bandwidth_server: .inf\n"
    problem = Problem.from_dict(yaml.safe_load(text))
    assert problem.memory_bandwidth_device == math.inf == problem.memory_bandwidth_server


@pytest.mark.parametrize("name", PHYSICAL_FIELDS)
@pytest.mark.parametrize("value", [-1.0, float("nan"), "fast", True, 1e300])
def test_bad_values_of_every_physical_field_get_one_line(name, value):
    if name.startswith("memory_bandwidth") and value == 1e300:
        value = 0.0  # a bandwidth of 0 never reads a bit
    if name.startswith("f_") and value == 1e300:
        value = 1e30  # above f_max: the floor may not exceed the ceiling
    (line,) = lines_of({**WORKLOAD, name: value})
    assert line.startswith(f"{name}: got "), line
    assert "\n" not in line


@pytest.mark.parametrize("name", PHYSICAL_FIELDS)
def test_zero_values_are_allowed_except_a_bandwidth(name):
    if name.startswith("memory_bandwidth"):
        (line,) = lines_of({**WORKLOAD, name: 0.0})
        assert line.startswith(f"{name}: got 0") and ".inf" in line
        (line,) = lines_of({**WORKLOAD, name: -math.inf})
        assert line.startswith(f"{name}: got ")
    else:
        assert getattr(Problem.from_dict({**WORKLOAD, name: 0.0}), name) == 0.0
        (line,) = lines_of({**WORKLOAD, name: math.inf})
        assert line.startswith(f"{name}: got ")


def test_floor_above_ceiling_names_both():
    (line,) = lines_of({**WORKLOAD, "f_device_min": 3e9, "f_device_max": 2e9})
    assert line.startswith("f_device_min: got 3e+09 with f_device_max 2e+09")


def test_per_side_execution_and_its_shorthand():
    both = Problem.from_dict({**WORKLOAD, "compute_model": "sparse"})
    assert (both.compute_model_device, both.compute_model_server) == ("sparse", "sparse")
    one = Problem.from_dict({**WORKLOAD, "compute_model_device": "dense"})
    assert (one.compute_model_device, one.compute_model_server) == ("dense", "ideal")
    (line,) = lines_of({**WORKLOAD, "compute_model": "dense", "compute_model_server": "sparse"})
    assert line.startswith("compute_model: given together with 'compute_model_server'")
    (line,) = lines_of({**WORKLOAD, "compute_model_server": "csr"})
    assert line.startswith("compute_model_server: got 'csr'")
    assert one.replace(compute_model="dense").compute_model_server == "dense"


def test_random_physical_instances_draw_every_term():
    rng = np.random.default_rng(3)
    problems = [random_problem(rng, physical=True) for _ in range(200)]
    for name in PHYSICAL_FIELDS:
        values = [getattr(p, name) for p in problems]
        low, high = hardware.PLAUSIBLE_RANGES[name]
        drawn = [v for v in values if v != PAPER_MODEL[name]]
        assert drawn and len(drawn) < len(values)
        if not name.startswith("f_"):  # the floors are capped by the drawn f_max
            assert all(low <= v <= high for v in drawn)
    # the paper's instances are drawn as before the physical model existed
    assert random_problem(np.random.default_rng(3)).is_paper_model
