"""Hardware and radio constants of the physical model (coinfer.model.hardware; model.md 2, 7.1, 11)."""

from __future__ import annotations

import dataclasses
import doctest
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from coinfer.model import hardware
from coinfer.model.hardware import (
    EDGE_SERVER,
    NR_DOWNLINK,
    NR_SLOT_DURATIONS,
    NR_UPLINK,
    PHONE_SOC,
    PLAUSIBLE_RANGES,
    SPLIT_INFERENCE_KPIS,
    RadioAccess,
    SideHardware,
    SplitInferenceKPI,
    problem_defaults,
)
from coinfer.model.system import DEFAULTS

MODEL_MD = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def test_every_default_is_positive_and_inside_its_documented_range():
    defaults = problem_defaults()
    assert set(defaults) == set(PLAUSIBLE_RANGES)
    for field, value in defaults.items():
        low, high = PLAUSIBLE_RANGES[field]
        assert 0 < low < high, field
        assert math.isfinite(value) and low <= value <= high, (field, value, low, high)


def test_problem_defaults_come_from_the_presets():
    defaults = problem_defaults()
    assert defaults["f_device_min"] == PHONE_SOC.f_min and defaults["f_server_min"] == EDGE_SERVER.f_min
    assert defaults["memory_bandwidth_server"] == EDGE_SERVER.memory_bandwidth
    assert defaults["static_power_device"] == PHONE_SOC.static_power
    assert defaults["access_latency"] == NR_UPLINK.access_latency
    assert defaults["downlink_access_latency"] == NR_DOWNLINK.access_latency


def test_floors_lie_below_the_model_md_maxima():
    # a floor at or above f_max would leave DVFS no room (model.md 7.1 defaults)
    assert PHONE_SOC.f_min < DEFAULTS["f_device_max"]
    assert EDGE_SERVER.f_min < DEFAULTS["f_server_max"]


def test_derived_presets_keep_their_arithmetic():
    assert EDGE_SERVER.f_min == pytest.approx(1e10 * 0.8 / 3.0, rel=1e-15)
    assert EDGE_SERVER.memory_energy == pytest.approx(1.3e-9 / 64, rel=1e-15)
    assert EDGE_SERVER.memory_bandwidth == pytest.approx(8 * 38.4e9 * 8, rel=1e-15)  # 8 x 38.4 GB/s
    assert PHONE_SOC.memory_bandwidth == pytest.approx(51.2e9 * 8, rel=1e-15)  # 51.2 GB/s


def test_nr_slots_follow_ts_38_211():
    # 1 ms subframe holding 2^mu slots, mu = 0..4
    assert sorted(NR_SLOT_DURATIONS) == [0, 1, 2, 3, 4]
    for mu, slot in NR_SLOT_DURATIONS.items():
        assert slot * 2**mu == pytest.approx(1e-3, rel=1e-15)
    assert NR_UPLINK.slot_duration == NR_DOWNLINK.slot_duration == 5e-4  # 30 kHz
    # the smallest transfer time a sweep may ask for exceeds one device clock cycle by far
    assert NR_UPLINK.access_latency + NR_UPLINK.slot_duration > 1 / DEFAULTS["f_device_max"]


_ATTRIBUTE = re.compile(r"^    (\w+) : [^\n]+\n((?:        [^\n]*\n)+)", re.MULTILINE)


def _documented_units(cls: type) -> dict[str, str]:
    """Attribute name -> unit in brackets, from the numpydoc ``Attributes`` section of ``cls``."""
    doc = cls.__doc__ or ""
    section = doc.split("Attributes\n    ----------\n", 1)[1].split("\n\n    References", 1)[0] + "\n"
    units = {}
    for name, body in _ATTRIBUTE.findall(section):
        text = " ".join(body.split())
        match = re.search(r"\[([^\]]+)\]\.?$", text)
        units[name] = match.group(1) if match else ""
    return units


@pytest.mark.parametrize("cls", [SideHardware, RadioAccess, SplitInferenceKPI])
def test_every_field_documents_its_unit(cls):
    units = _documented_units(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    assert list(units) == fields
    assert all(units[name] for name in fields), {name: unit for name, unit in units.items() if not unit}


def test_numeric_fields_carry_si_units():
    expected = {"f_min": "Hz", "static_power": "W", "memory_energy": "J/bit", "memory_bandwidth": "bit/s"}
    assert {k: v for k, v in _documented_units(SideHardware).items() if k in expected} == expected
    radio = _documented_units(RadioAccess)
    assert (radio["access_latency"], radio["circuit_power"], radio["slot_duration"]) == ("s", "W", "s")


_CELL_UNITS = {"ms": 1e-3, "Mbit/s": 1e6, "MByte": 8e6, "MByte /frame": 8e6, "kByte": 8e3, "%": 1e-2}


def _cell_value(cell: str) -> float:
    number, unit = cell.split(" ", 1)
    return float(number) * _CELL_UNITS[unit]


_NUMERIC = [f.name for f in dataclasses.fields(SplitInferenceKPI) if f.name not in ("use_case", "cells", "unplaced")]


def test_kpi_table_rows_are_well_formed():
    assert [row.use_case for row in SPLIT_INFERENCE_KPIS] == [
        "Split AI/ML image recognition",
        "Enhanced media recognition",
        "Split control for robotics",
    ]
    for row in SPLIT_INFERENCE_KPIS:
        placed = [getattr(row, name) for name in _NUMERIC if getattr(row, name) is not None]
        # every verbatim cell is either converted into exactly one field or listed as unplaced
        assert len(placed) + len(row.unplaced) == len(row.cells), row.use_case
        assert set(row.unplaced) <= set(row.cells)
        converted = Counter(round(v, 12) for v in placed + [_cell_value(c) for c in row.unplaced])
        assert converted == Counter(round(_cell_value(c), 12) for c in row.cells), row.use_case
        for name in ("availability", "ul_reliability", "dl_reliability"):
            value = getattr(row, name)
            assert value is None or 0 < value <= 1
        assert all(v > 0 for v in placed)


def test_image_recognition_row_is_self_consistent():
    # 0.27 MByte in 15 ms is 144 Mbit/s: the check that fixes the row's column reading
    row = SPLIT_INFERENCE_KPIS[0]
    assert row.ul_payload is not None and row.ul_latency is not None and row.ul_data_rate is not None
    assert row.ul_payload / row.ul_latency == pytest.approx(row.ul_data_rate, rel=1e-12)
    assert row.ul_payload == 2.16e6


_ROW = re.compile(r"^\| `(\w+)`[^|]*\| [^|]+ \| ([0-9.e+-]+)[^|]*\| ([0-9.e+-]+) \.\. ([0-9.e+-]+) \| ([^|]+) \|", re.M)


#: A physical field's row of model.md section 7.1: field, symbol, default, unit, source with "range LOW .. HIGH:".
_ROW_71 = re.compile(
    r"^\| `(\w+)`[^|]*\| [^|]+ \| ([0-9.e+-]+)[^|]*\| ([^|]+) \| [^|]*range ([0-9.e+-]+) \.\. ([0-9.e+-]+):", re.M
)


def test_model_md_tables_match_the_module():
    """model.md section 7.1 (the problem-file fields) and 7.5 (the decoding constants) give every default of
    problem_defaults() with its range and unit."""
    text = MODEL_MD.read_text(encoding="utf-8")
    rows = {m.group(1): m.groups()[1:] for m in _ROW.finditer(text)}
    for m in _ROW_71.finditer(text):
        field, default, unit, low, high = m.groups()
        rows[field] = (default, low, high, unit)
    defaults = problem_defaults()
    assert set(rows) == set(defaults)
    for field, (default, low, high, unit) in rows.items():
        assert float(default) == pytest.approx(defaults[field], rel=1e-12), field
        assert (float(low), float(high)) == pytest.approx(PLAUSIBLE_RANGES[field], rel=1e-12), field
        assert unit.strip() in {"Hz", "W", "J/bit", "bit/s", "s"}, field


def test_docstring_examples_run():
    assert doctest.testmod(hardware, raise_on_error=False).failed == 0


def test_one_inference_is_charged_its_share_of_the_server_socket_static_power():
    """Review of issue 22: the socket's static power (30 W) was charged whole to one inference that uses 1e10 Hz of
    a 56-core socket; the default is now that share (model.md 2.7, 11), and the paper's model still has none."""
    from coinfer.model.hardware import SERVER_SHARE
    from coinfer.model.system import PAPER_MODEL

    assert SERVER_SHARE == pytest.approx(DEFAULTS["f_server_max"] / (56 * 3.0e9), rel=1e-15)
    assert problem_defaults()["static_power_server"] == pytest.approx(EDGE_SERVER.static_power * SERVER_SHARE)
    assert problem_defaults()["static_power_server"] < 2.0 < EDGE_SERVER.static_power
    assert DEFAULTS["static_power_server"] == problem_defaults()["static_power_server"]
    assert PAPER_MODEL["static_power_server"] == 0.0
