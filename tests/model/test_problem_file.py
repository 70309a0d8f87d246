"""Problem files a user can write: input conveniences, every error in one run, did-you-mean (model.md section 8)."""

from __future__ import annotations

import pytest
from workloads import WORKLOAD

from coinfer.base.validation import ParameterError
from coinfer.model.system import (
    DEFAULTS,
    FIELD_INFO,
    INPUT_FIELDS,
    REQUIRED_FIELDS,
    Problem,
    accepted_fields,
    channel_gain,
    field_table,
    free_variables,
    make_problem,
    noise_psd_from_dbm,
)


def lines_of(data: object) -> list[str]:
    with pytest.raises(ParameterError) as info:
        Problem.from_dict(data)
    return info.value.lines


def test_only_required_fields_are_needed():
    problem = Problem.from_dict(WORKLOAD)
    assert problem == make_problem(**WORKLOAD)
    assert problem.channel_gain == DEFAULTS["channel_gain"] and problem.noise_psd == DEFAULTS["noise_psd"]


def test_distance_and_fading_give_the_channel_gain():
    problem = Problem.from_dict({**WORKLOAD, "distance": 350.0, "fading_gain": 0.4})
    assert problem.channel_gain == channel_gain(350.0, 0.4)
    assert Problem.from_dict({**WORKLOAD, "distance": 350}).channel_gain == channel_gain(350.0)
    # fading alone applies at the default distance (200 m), like make_problem(fading=...)
    assert Problem.from_dict({**WORKLOAD, "fading_gain": 2.0}).channel_gain == channel_gain(200.0, 2.0)
    assert make_problem(**WORKLOAD, distance=350.0, fading=0.4) == problem
    assert Problem.fields() == tuple(f for f in Problem.fields() if f not in INPUT_FIELDS)  # dataclass unchanged
    assert "distance" not in problem.to_dict() and problem.to_dict()["channel_gain"] == channel_gain(350.0, 0.4)


def test_noise_psd_in_dbm_per_hz():
    problem = Problem.from_dict({**WORKLOAD, "noise_psd_dbm_hz": -170})
    assert problem.noise_psd == noise_psd_from_dbm(-170.0)
    assert Problem.from_dict({**WORKLOAD, "noise_psd_dbm_hz": -174.0}).noise_psd == DEFAULTS["noise_psd"]


def test_conflicting_inputs_name_both():
    (line,) = lines_of({**WORKLOAD, "channel_gain": 1e-10, "distance": 300.0})
    assert line.startswith("channel_gain: ") and "distance" in line
    (line,) = lines_of({**WORKLOAD, "channel_gain": 1e-10, "fading_gain": 0.5})
    assert line.startswith("channel_gain: ") and "fading_gain" in line
    (line,) = lines_of({**WORKLOAD, "noise_psd": 4e-21, "noise_psd_dbm_hz": -174})
    assert line.startswith("noise_psd: ") and "noise_psd_dbm_hz" in line
    # the values of conflicting inputs are still checked, each on its own line
    lines = lines_of({**WORKLOAD, "channel_gain": 1e-10, "fading_gain": 0, "noise_psd": 4e-21, "noise_psd_dbm_hz": "x"})
    assert [line.split(":")[0] for line in lines] == ["channel_gain", "fading_gain", "noise_psd", "noise_psd_dbm_hz"]
    with pytest.raises(ParameterError, match="channel_gain.*distance"):
        make_problem(**WORKLOAD, distance=400.0, channel_gain=1e-10)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"distance": 0}, "distance"),
        ({"distance": -5.0}, "distance"),
        ({"distance": "far"}, "distance"),
        ({"distance": 1e60, "fading_gain": 1e-50}, "distance"),  # the gain it gives is below 1e-60
        ({"fading_gain": 0.0}, "fading_gain"),
        ({"fading_gain": float("nan")}, "fading_gain"),
        ({"noise_psd_dbm_hz": float("inf")}, "noise_psd_dbm_hz"),
        ({"noise_psd_dbm_hz": 1000}, "noise_psd_dbm_hz"),
        ({"noise_psd_dbm_hz": True}, "noise_psd_dbm_hz"),
    ],
)
def test_bad_conveniences_name_the_input_given(changes, field):
    (line,) = lines_of({**WORKLOAD, **changes})
    assert line.startswith(f"{field}: got ")


def test_every_problem_of_a_file_in_one_error():
    data = {k: v for k, v in WORKLOAD.items() if k not in ("latency_budget", "feature_bits")}
    data.update(bandwith=5e6, p_max=-1.0, rho_max="high", colour="red", params_device=-1.0)
    lines = lines_of(data)
    assert [line.split(":")[0] for line in lines] == [
        "bandwith",
        "colour",
        "feature_bits",
        "latency_budget",
        "params_device",
        "p_max",
        "rho_max",
    ]
    assert lines[0].startswith("bandwith: got 5000000.0; unknown field (did you mean 'bandwidth'?), allowed: ")
    assert "did you mean" not in lines[1]
    assert lines[2] == "feature_bits: missing; required (no default): " + ", ".join(REQUIRED_FIELDS)
    assert lines[4] == "params_device: got -1.0; allowed [0, 1e+60]"
    assert lines[5] == "p_max: got -1.0; allowed (0, 1e+60]"
    assert lines[6] == "rho_max: got 'high' (str); expected a finite number"


def test_cross_field_check_joins_the_batch_when_its_fields_are_valid():
    lines = lines_of({**WORKLOAD, "params_device": 0, "params_server": 0, "p_max": 0})
    assert lines == [
        "p_max: got 0.0; allowed (0, 1e+60]",
        "params_device: got 0 with params_server 0; allowed params_device + params_server > 0",
    ]
    # an invalid params field: only its own line, no sum check
    assert lines_of({**WORKLOAD, "params_device": -1, "params_server": 0}) == [
        "params_device: got -1.0; allowed [0, 1e+60]"
    ]


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("distnace", "distance"), ("fading", "fading_gain"), ("noise_psd_dbm", "noise_psd_dbm_hz"), ("p_mx", "p_max")],
)
def test_did_you_mean_covers_the_conveniences(typo, meant):
    (line,) = lines_of({**WORKLOAD, typo: 1.0})
    assert f"(did you mean {meant!r}?)" in line


def test_odd_keys_are_shown_escaped():
    (line,) = lines_of({**WORKLOAD, "\x1b[31mred": 1})
    assert "\x1b" not in line and "unknown field" in line
    (line,) = lines_of({**WORKLOAD, 7: 1})
    assert line.startswith("7: got 1; unknown field")


def test_replace_reports_every_bad_field():
    problem = make_problem(**WORKLOAD)
    with pytest.raises(ParameterError) as info:
        problem.replace(p_max=-1.0, bandwidth=0.0)
    assert [line.split(":")[0] for line in info.value.lines] == ["bandwidth", "p_max"]


def test_field_table_covers_every_accepted_name():
    rows = field_table()
    assert [row[0] for row in rows] == list(FIELD_INFO)
    assert sorted(FIELD_INFO) == sorted(accepted_fields())
    defaults = {name: default for name, _, default, _ in rows}
    assert all(defaults[name] == "required" for name in REQUIRED_FIELDS)
    assert defaults["f_device_max"] == "2e9" and defaults["distance"] == "200" and defaults["shared_ratio"] == "false"
    assert float(defaults["noise_psd"]) == DEFAULTS["noise_psd"]
    assert all("|" not in cell for row in rows for cell in row)  # Markdown table cells


def test_free_variables_follow_the_canonical_rules():
    problem = make_problem(**WORKLOAD)
    assert free_variables(problem) == []
    assert free_variables(problem.replace(flops_device=0.0, params_device=0.0)) == ["rho_device", "f_device"]
    assert free_variables(problem.replace(flops_device=0.0, params_device=0.0, shared_ratio=True)) == ["f_device"]
    assert free_variables(problem.replace(feature_bits=0.0)) == ["power"]


def test_readme_table_is_the_field_table():
    from coinfer.base import paths
    from coinfer.model.system import field_table_markdown

    section = (paths.PROJECT_ROOT / "docs" / "problem_files.md").read_text(encoding="utf-8")
    assert field_table_markdown() in section, "docs/problem_files.md's table differs from system.field_table_markdown()"
    for name, _, default, _ in field_table():
        assert f"| `{name}` |" in section and default in section
    assert "python -m coinfer solve examples/minilm_middle_split.yaml" in section
