"""``python -m coinfer solve``: JSON answers, exit codes, one-line errors (SPEC 8)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from coinfer.cli import main
from coinfer.system import make_problem

WORKLOAD = dict(
    flops_device=2e9,
    flops_server=8e9,
    params_device=1e6,
    params_server=4e6,
    scale_device=0.02,
    scale_server=0.03,
    feature_bits=2e5,
    latency_budget=0.05,
    energy_budget=0.02,
)
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
    from coinfer import readme

    monkeypatch.setattr(readme, "update", lambda: changed)  # never rewrites the real README
    assert main(["readme"]) == 0
    assert capsys.readouterr().out.startswith("README.md: claims table ")
