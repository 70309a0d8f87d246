"""``python -m coinfer solve``: JSON answers, exit codes, one-line errors (model.md section 8)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from workloads import WORKLOAD

from coinfer.base import paths
from coinfer.model.system import REQUIRED_FIELDS, Problem, canonical_values, make_problem
from coinfer.pipeline.cli import ANSWER_UNITS, main

KEYS = {
    "status",
    "rho_device",
    "rho_server",
    "power",
    "f_device",
    "f_server",
    "objective",
    "latency",
    "energy",
    "reason",
    "units",
    "free_variables",
    "tie_rule",
    # the per-part breakdown (model.md section 8.3)
    "t_device",
    "t_tx",
    "t_server",
    "energy_device",
    "energy_tx",
    "energy_server",
    "memory_bound_device",
    "memory_bound_server",
}


def write(tmp_path, data, name="p.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "coinfer", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_solve_prints_the_answer(tmp_path):
    path = write(tmp_path, make_problem(**WORKLOAD).to_dict())
    done = run("solve", path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == KEYS and answer["status"] == "optimal"
    assert 0 <= answer["rho_device"] <= 0.99 and answer["latency"] <= 0.05 * (1 + 1e-9)
    reference = run("solve", path, "--reference")
    assert reference.returncode == 0
    assert json.loads(reference.stdout)["objective"] == pytest.approx(answer["objective"], rel=1e-6)


def test_infeasible_is_an_answer(tmp_path, capsys):
    path = write(tmp_path, make_problem(**{**WORKLOAD, "latency_budget": 1e-5}).to_dict())
    assert main(["solve", str(path)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == "infeasible" and "latency floor" in answer["reason"]


def good():
    return make_problem(**WORKLOAD).to_dict()


BAD_FILES = {
    "empty": "",
    "not_yaml": "a: [1, 2\nb: }\n",
    "a_list": "- 1\n- 2\n",
    "a_scalar": "hello\n",
    "unknown_field": {**good(), "colour": "red"},
    "missing_field": {k: v for k, v in good().items() if k != "energy_budget"},
    "string_number": {**good(), "bandwidth": "five MHz"},
    "bool_number": {**good(), "p_max": True},
    "nan": "\n".join(f"{k}: {'.nan' if k == 'rho_max' else json.dumps(v)}" for k, v in good().items()),
    "inf": "\n".join(f"{k}: {'.inf' if k == 'latency_budget' else json.dumps(v)}" for k, v in good().items()),
    "negative_bandwidth": {**good(), "bandwidth": -1.0},
    "rho_max_one": {**good(), "rho_max": 1.0},
    "absurd_flops": {**good(), "flops_server": 1e200},
    "bad_scope": {**good(), "energy_scope": "cloud"},
    "bits_float": {**good(), "bits_per_weight": 7.5},
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, name):
    path = write(tmp_path, BAD_FILES[name])
    assert main(["solve", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


@pytest.mark.parametrize("args", [["solve", "does/not/exist.yaml"], ["solve"], [], ["frobnicate"]])
def test_bad_invocations_via_subprocess(args):
    done = run(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_bad_file_via_subprocess_names_the_field(tmp_path):
    done = run("solve", write(tmp_path, BAD_FILES["negative_bandwidth"]))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "error: bandwidth: got -1.0; allowed (0, 1e+60]"


def test_legal_extremes_answer(tmp_path, capsys):
    for changes in (
        {"latency_budget": 1e40, "energy_budget": 1e40},
        {"latency_budget": 1e-40},
        {"channel_gain": 1e-50},
        {"flops_device": 1e50, "flops_server": 1e50},
        {"feature_bits": 1e55},
    ):
        path = write(tmp_path, {**good(), **changes})
        assert main(["solve", str(path)]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["status"] in ("optimal", "infeasible")


def test_solver_option_without_reference_is_refused(tmp_path, capsys):
    path = write(tmp_path, good())
    assert main(["solve", str(path), "--solver", "SCS"]) == 2
    assert "--solver" in capsys.readouterr().err


def test_abbreviated_options_are_refused(tmp_path, capsys):
    path = write(tmp_path, good())
    assert main(["solve", str(path), "--refer"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_budget_a_hair_below_its_floor_reads_as_different_numbers(tmp_path, capsys):
    from coinfer.optimise import solve

    problem = make_problem(**WORKLOAD)
    floor = solve(problem.replace(latency_budget=1e-5)).reason
    assert "latency floor" in floor
    floor_value = float(floor.split("latency floor ")[1].split(" s")[0])
    answer = solve(problem.replace(latency_budget=floor_value * (1 - 1e-8)))
    assert answer.status == "infeasible"
    shown = answer.reason.split("latency floor ")[1].split(" s")[0], answer.reason.rsplit("latency_budget ", 1)[1]
    assert shown[0] != shown[1].split(" s")[0]


@pytest.mark.parametrize("changed", [True, False])
def test_readme_exits_0(monkeypatch, capsys, changed):
    from coinfer.pipeline import readme

    monkeypatch.setattr(readme, "update", lambda: changed)  # never rewrites the real README
    assert main(["readme"]) == 0
    assert capsys.readouterr().out.startswith("README.md: claims table ")


def test_several_bad_fields_get_one_line_each(tmp_path, capsys):
    data = {k: v for k, v in good().items() if k != "energy_budget"}
    data.update(bandwith=5e6, rho_max=1.5, energy_scope="cloud")
    data.pop("bandwidth")
    assert main(["solve", str(write(tmp_path, data))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines)
    assert [line.split(":")[1].strip() for line in lines] == ["bandwith", "energy_budget", "energy_scope", "rho_max"]
    assert "did you mean 'bandwidth'?" in lines[0]
    assert lines[1] == "error: energy_budget: missing; required (no default): " + ", ".join(REQUIRED_FIELDS)
    assert lines[3] == "error: rho_max: got 1.5; allowed [0, 1)"  # value errors in field order


def test_several_bad_fields_via_subprocess_have_no_traceback(tmp_path):
    data = {**good(), "p_max": -1, "feature_bits": "lots", "colour": "red"}
    done = run("solve", write(tmp_path, data))
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)


def test_answer_states_units_and_free_variables(tmp_path, capsys):
    assert main(["solve", str(write(tmp_path, good()))]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["units"] == ANSWER_UNITS
    numeric = [k for k, v in answer.items() if isinstance(v, float)]
    assert sorted(numeric) == sorted(answer["units"])
    assert answer["units"]["power"] == "W" and answer["units"]["objective"].startswith("per-weight l1 distortion")
    assert answer["free_variables"] == []
    assert "compare answers through objective, latency and energy" in answer["tie_rule"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"flops_device": 0.0, "params_device": 0.0}, ["rho_device", "f_device"]),  # split 0
        ({"flops_server": 0.0, "params_server": 0.0, "feature_bits": 0.0}, ["rho_server", "power", "f_server"]),
    ],
)
def test_free_variables_agree_between_solvers(tmp_path, capsys, changes, expected):
    path = write(tmp_path, {**good(), **changes, "latency_budget": 1.0, "energy_budget": 1.0})
    answers = []
    for extra in ([], ["--reference"]):
        assert main(["solve", str(path), *extra]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0]["free_variables"] == answers[1]["free_variables"] == expected
    assert answers[0]["status"] == answers[1]["status"] == "optimal"
    problem = Problem.from_yaml(path)
    for name in expected:  # reported at the canonical value by both solvers
        assert answers[0][name] == answers[1][name] == canonical_values(problem)[name]


def test_physical_example_agrees_with_the_reference_and_its_parts_sum():
    from coinfer.base import paths

    path = paths.PROJECT_ROOT / "examples" / "minilm_physical.yaml"
    fast, reference = (run("solve", path, *extra) for extra in ((), ("--reference",)))
    assert fast.returncode == 0 and reference.returncode == 0, fast.stderr + reference.stderr
    a, b = json.loads(fast.stdout), json.loads(reference.stdout)
    assert a["status"] == b["status"] == "optimal"
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-6)
    assert not Problem.from_yaml(path).is_paper_model
    for answer in (a, b):
        assert answer["latency"] == pytest.approx(answer["t_device"] + answer["t_tx"] + answer["t_server"], rel=1e-12)
        parts = answer["energy_device"] + answer["energy_tx"] + answer["energy_server"]
        assert answer["energy"] == pytest.approx(parts, rel=1e-12)  # energy_scope system
        assert answer["t_tx"] > 0.004  # the access latency is in the upload's time


PROFILES = paths.PROJECT_ROOT / "data" / "profiles.csv"


def test_problem_command_writes_a_file_that_solves(tmp_path):
    # issue 26.4: a profile row -> a problem file -> an answer with the per-part breakdown
    out = tmp_path / "split2.yaml"
    done = run(
        "problem", PROFILES, "--model", "digits_cnn", "--split", "2",
        "--latency-budget", "0.015", "--energy-budget", "0.01", "--set", "distance=50", "-o", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    problem = Problem.from_yaml(out)
    assert problem.latency_budget == 0.015 and problem.energy_budget == 0.01
    assert problem.channel_gain > make_problem(**WORKLOAD).channel_gain  # 50 m, not the 200 m default
    assert main(["solve", str(out)]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--split", "2"], "--model: the table holds"),
        (["--model", "digits_cnn", "--split", "9"], "--split: got '9'; allowed: 0..4"),
        (["--model", "nonexistent", "--split", "1"], "--model: got 'nonexistent'"),
        (["--model", "digits_cnn", "--split", "1", "--set", "distance"], "--set: got 'distance'"),
        (["--model", "digits_cnn", "--split", "1", "--set", "distance=-5"], "distance"),
    ],
)
def test_problem_command_bad_input_one_line_nothing_written(tmp_path, capsys, extra, message):
    out = tmp_path / "p.yaml"
    args = ["problem", str(PROFILES), "--latency-budget", "0.015", "--energy-budget", "0.01", "-o", str(out)]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()
