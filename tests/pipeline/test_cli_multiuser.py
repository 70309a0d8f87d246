"""The CLI on multi-user problem files (model.md section 13.8): the answer as JSON, bad files, held-out files
solved by the CLI and by its independent check."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from workloads import MULTIUSER_FILE as FILE

from coinfer.model.system import PAPER_MODEL
from coinfer.optimise import random_multiuser_problem
from coinfer.pipeline.cli import main


def write(tmp_path, data, name="users.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


# --------------------------------------------------------------------------------------------- the CLI


def test_cli_prints_decisions_prices_and_certificate(tmp_path, capsys):
    assert main(["solve", str(write(tmp_path, {**FILE, **PAPER_MODEL}))]) == 0  # the paper's model: a certificate
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] in ("optimal", "feasible")
    assert set(answer["prices"]) == {"band", "server"} and answer["prices"]["band"] >= 0
    assert set(answer["certificate"]) == {"lower_bound", "gap", "relative_gap", "note"}
    assert answer["certificate"]["gap"] >= -1e-12 * answer["objective"]
    assert [u["name"] for u in answer["users"]] == ["near", "far", "two splits"]
    for user in answer["users"]:
        assert {"split", "split_label", "bandwidth_share", "f_server_share", "rho_device", "power", "latency"} <= set(
            user
        )
    assert answer["units"]["prices.band"] == "objective units per Hz of band"


def test_cli_solves_a_physical_file_with_its_bound(tmp_path, capsys):
    """The physical model is a file's default (model.md 13.1); its lower bound is the physical one of 13.5 (the note
    says which)."""
    assert main(["solve", str(write(tmp_path, FILE))]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["certificate"]["lower_bound"] <= answer["objective"]
    assert answer["certificate"]["note"].startswith("physical model")


def test_cli_bad_file_one_line_per_problem_exit_2(tmp_path):
    data = {**FILE, "users": [{k: v for k, v in FILE["users"][0].items() if k != "feature_bits"},
                              {**FILE["users"][1], "bandwidth": 9e6}]}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "coinfer", "solve", str(write(tmp_path, data))],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "error: users[0]: feature_bits: missing; required (no default): flops_device, flops_server, params_device, "
        "params_server, scale_device, scale_server, feature_bits, latency_budget, energy_budget",
        "error: users[1].bandwidth: got 9000000.0; a fixed band share must be in (0, 4e+06] Hz (the total); a share "
        "that cannot be met",
    ]


@pytest.mark.parametrize(
    ("field", "share", "line"),
    [
        ("bandwidth", 3e6, "error: users: fixed band shares sum to 6e+06 Hz, more than bandwidth 4e+06 Hz; a band "
                           "share that cannot be met"),
        ("f_server_max", 3e9, "error: users: fixed server shares sum to 6e+09 Hz, more than f_server_max 4e+09 Hz; a "
                              "server share that cannot be met"),
    ],
)  # fmt: skip
def test_cli_fixed_shares_beyond_the_total_exit_2(tmp_path, capsys, field, share, line):
    """Each share is within the total, their sum is not: one line, exit 2, nothing on stdout."""
    data = {**FILE, "users": [{**u, field: share} for u in FILE["users"][:2]]}
    assert main(["solve", str(write(tmp_path, data))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), lines


@pytest.mark.parametrize("users", [[], None])
def test_cli_empty_user_list_exit_2(tmp_path, capsys, users):
    assert main(["solve", str(write(tmp_path, {**FILE, "users": users}))]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: users: got")


def test_cli_held_out_files_agree_with_the_reference(tmp_path, capsys):
    """Held-out style: small random files written out, solved by the CLI and by ``--reference``."""
    for seed in (31, 32):
        problem = random_multiuser_problem(np.random.default_rng(seed), 2)
        data = {"bandwidth": problem.bandwidth, "f_server_max": problem.f_server_max,
                "users": [{k: v for k, v in u.splits[0].to_dict().items() if k not in ("bandwidth", "f_server_max")}
                          for u in problem.users]}  # fmt: skip
        path = write(tmp_path, data, f"held_out_{seed}.yaml")
        assert main(["solve", str(path)]) == 0
        mine = json.loads(capsys.readouterr().out)
        assert main(["solve", "--reference", str(path)]) == 0
        reference = json.loads(capsys.readouterr().out)
        assert mine["status"] != "infeasible" or reference["status"] == "infeasible"
        if mine["objective"] is not None and reference["objective"] is not None:
            assert mine["objective"] <= reference["objective"] * (1 + 1e-6)
