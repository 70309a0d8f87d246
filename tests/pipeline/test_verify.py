"""``coinfer.pipeline.verify``: a rerun's data/ against a reference data/, within declared tolerances."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coinfer.base import paths
from coinfer.pipeline import verify
from coinfer.pipeline.cli import main

DATA = paths.PROJECT_ROOT / "data"
#: A few committed files covering every kind of rule: measured with digits rows, closed form,
#: a decision table, claims and parameters JSON, and the rendered report.
FILES = (
    "first_order_bound.csv",
    "rd_curves.csv",
    "opt_budget_sweep.csv",
    "claims.json",
    "parameters_02_rate_distortion.json",
    "claims.md",
)


def make_root(root: Path, files=FILES) -> Path:
    (root / "data").mkdir(parents=True)
    for name in files:
        shutil.copy(DATA / name, root / "data" / name)
    return root


@pytest.fixture
def roots(tmp_path):
    """(rerun, reference): two output roots holding identical copies of a few committed files."""
    return make_root(tmp_path / "rerun"), make_root(tmp_path / "reference")


def edit_table(root: Path, name: str, edit) -> None:
    """Apply ``edit`` to the table's cells as text, so every other cell keeps its exact bytes."""
    path = root / "data" / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edited = edit(frame)
    frame = frame if edited is None else edited
    frame.to_csv(path, index=False, lineterminator="\n")


def scale_cell(frame: pd.DataFrame, column: str, row: int, factor: float) -> None:
    frame.loc[row, column] = repr(float(frame.loc[row, column]) * factor)


def first_row(frame: pd.DataFrame, **where: str) -> int:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    return int(np.flatnonzero(mask)[0])


def results_by_name(rerun: Path, reference: Path) -> tuple[dict[str, verify.FileResult], int]:
    results, code = verify.verify(rerun, reference)
    return {r.name: r for r in results}, code


def test_identical_copies_pass(roots):
    by_name, code = results_by_name(*roots)
    assert code == 0
    assert set(by_name) == set(FILES)
    assert all(r.passed for r in by_name.values())


def test_value_beyond_tolerance_fails_and_within_passes(roots):
    rerun, reference = roots
    frame = pd.read_csv(DATA / "first_order_bound.csv", dtype=str, keep_default_na=False)
    row = first_row(frame, model="minilm")
    assert verify.rule_for("first_order_bound.csv").tolerance.rtol == 1e-4

    edit_table(rerun, "first_order_bound.csv", lambda f: scale_cell(f, "ratio_max", row, 1 + 5e-5))
    by_name, code = results_by_name(rerun, reference)
    assert code == 0 and by_name["first_order_bound.csv"].passed
    assert by_name["first_order_bound.csv"].worst.column == "ratio_max"
    assert by_name["first_order_bound.csv"].worst.relative == pytest.approx(5e-5, rel=1e-3)

    edit_table(rerun, "first_order_bound.csv", lambda f: scale_cell(f, "ratio_max", row, 1 + 1e-3))
    by_name, code = results_by_name(rerun, reference)
    assert code == 1
    line = by_name["first_order_bound.csv"].line()
    # issue 26.4: the column, the worst row and the tolerance, in under 200 characters
    assert line.startswith(f"FAIL  first_order_bound.csv  ratio_max row {row + 1}: ") and "beyond rtol 1e-04" in line
    assert len(line) < 200
    assert all(r.passed for name, r in by_name.items() if name != "first_order_bound.csv")


def test_digits_rows_get_the_looser_retrained_tolerance(roots):
    rerun, reference = roots
    frame = pd.read_csv(DATA / "first_order_bound.csv", dtype=str, keep_default_na=False)
    digits, minilm = first_row(frame, model="digits_mlp"), first_row(frame, model="minilm")
    edit_table(rerun, "first_order_bound.csv", lambda f: scale_cell(f, "ratio_max", digits, 1 + 5e-4))
    assert results_by_name(rerun, reference)[1] == 0
    edit_table(rerun, "first_order_bound.csv", lambda f: scale_cell(f, "ratio_max", minilm, 1 + 5e-4))
    assert results_by_name(rerun, reference)[1] == 1


def test_closed_form_table_is_tight(roots):
    rerun, reference = roots
    edit_table(rerun, "rd_curves.csv", lambda f: scale_cell(f, "rate_bits", 5, 1 + 1e-6))
    by_name, code = results_by_name(rerun, reference)
    assert code == 1 and not by_name["rd_curves.csv"].passed


def test_flipped_verdict_in_claims_fails(roots):
    rerun, reference = roots
    path = rerun / "data" / "claims.json"
    claims = json.loads(path.read_text())
    claims[2]["holds"] = not claims[2]["holds"]
    path.write_text(json.dumps(claims, indent=2, sort_keys=True) + "\n")
    by_name, code = results_by_name(rerun, reference)
    assert code == 1
    assert "C3.holds verdict changed" in by_name["claims.json"].line()


def test_claims_numbers_within_tolerance_pass_and_beyond_fail(roots):
    rerun, reference = roots
    path = rerun / "data" / "claims.json"
    claims = json.loads(path.read_text())
    share = claims[1]["measured"]["laplace_weight_share"]
    share["minilm"] *= 1 + 1e-3
    path.write_text(json.dumps(claims))
    assert results_by_name(rerun, reference)[1] == 0
    share["minilm"] *= 1.1
    path.write_text(json.dumps(claims))
    by_name, code = results_by_name(rerun, reference)
    assert code == 1 and "C2.measured.laplace_weight_share.minilm" in by_name["claims.json"].line()


def test_changed_parameter_fails(roots):
    rerun, reference = roots
    path = rerun / "data" / "parameters_02_rate_distortion.json"
    params = json.loads(path.read_text())
    params["rho_points"] += 1
    path.write_text(json.dumps(params))
    results, code = verify.verify(rerun, reference)
    # issue 26.4: other parameters are said once, instead of a list of table failures
    assert code == 1 and [r.name for r in results] == ["parameters_02_rate_distortion.json"]
    rho_points = params["rho_points"]
    assert f"rho_points {rho_points} vs {rho_points - 1}" in results[0].line()
    assert "different parameters" in verify.report(results).splitlines()[-1]


def test_every_failure_line_is_short_whatever_fails(roots):
    rerun, reference = roots
    for name in ("first_order_bound.csv", "opt_budget_sweep.csv", "rd_curves.csv"):
        edit_table(rerun, name, lambda f: f.apply(lambda c: c.where(c.str.len() == 0, c + "1")))
    results, code = verify.verify(rerun, reference)
    failed = [r.line() for r in results if not r.passed]
    assert code == 1 and len(failed) == 3
    assert all(len(line) < 200 and "(+" in line for line in failed)


@pytest.mark.parametrize("side", ["rerun", "reference"])
def test_missing_file_on_either_side_fails_and_is_named(roots, side):
    rerun, reference = roots
    (rerun if side == "rerun" else reference).joinpath("data", "rd_curves.csv").unlink()
    by_name, code = results_by_name(rerun, reference)
    assert code == 1
    line = by_name["rd_curves.csv"].line()
    assert line.startswith("FAIL  rd_curves.csv") and f"missing in the {side}" in line


def test_changed_categorical_cell_fails(roots):
    rerun, reference = roots

    def flip_status(frame: pd.DataFrame) -> None:
        row = first_row(frame, status="optimal")
        frame.loc[row, "status"] = "infeasible"

    edit_table(rerun, "opt_budget_sweep.csv", flip_status)
    by_name, code = results_by_name(rerun, reference)
    assert code == 1 and "status row" in by_name["opt_budget_sweep.csv"].line()


def test_row_count_and_column_set_are_compared_exactly(tmp_path):
    reference = make_root(tmp_path / "reference", ["rd_curves.csv"])
    fewer = make_root(tmp_path / "fewer", ["rd_curves.csv"])
    edit_table(fewer, "rd_curves.csv", lambda f: f.iloc[:-1])
    assert "row count" in verify.verify(fewer, reference)[0][0].line()
    extra = make_root(tmp_path / "extra", ["rd_curves.csv"])
    edit_table(extra, "rd_curves.csv", lambda f: f.insert(1, "new", "1"))
    results, code = verify.verify(extra, reference)
    assert code == 1 and "columns differ" in results[0].line()


def test_opt_decision_columns_are_skipped_but_objective_is_compared(roots):
    rerun, reference = roots
    frame = pd.read_csv(DATA / "opt_budget_sweep.csv", dtype=str, keep_default_na=False)
    row = first_row(frame, scheme="proposed", status="optimal")

    def move_decisions(f: pd.DataFrame) -> None:
        for column in ("rho_device", "rho_server", "power", "f_device", "f_server"):
            scale_cell(f, column, row, 1.5)

    edit_table(rerun, "opt_budget_sweep.csv", move_decisions)
    by_name, code = results_by_name(rerun, reference)
    result = by_name["opt_budget_sweep.csv"]
    assert code == 0 and result.passed
    assert {"rho_device", "rho_server", "power", "f_device", "f_server"} <= set(result.skipped)
    assert "objective" not in result.skipped and "latency" not in result.skipped
    assert "skipped rho_device, rho_server, power, f_device, f_server: decision variable" in result.line()

    edit_table(rerun, "opt_budget_sweep.csv", lambda f: scale_cell(f, "objective", row, 1 + 1e-4))
    by_name, code = results_by_name(rerun, reference)
    assert code == 1 and "objective" in by_name["opt_budget_sweep.csv"].line()


def test_slsqp_benchmark_rows_get_the_looser_local_solver_tolerance(roots):
    rerun, reference = roots
    frame = pd.read_csv(DATA / "opt_budget_sweep.csv", dtype=str, keep_default_na=False)
    local = first_row(frame, scheme="local_nonconvex", status="optimal")
    proposed = first_row(frame, scheme="proposed", status="optimal")
    edit_table(rerun, "opt_budget_sweep.csv", lambda f: scale_cell(f, "energy", local, 1 + 1e-5))
    assert results_by_name(rerun, reference)[1] == 0
    edit_table(rerun, "opt_budget_sweep.csv", lambda f: scale_cell(f, "energy", proposed, 1 + 1e-5))
    assert results_by_name(rerun, reference)[1] == 1


def test_nan_equals_nan_and_nan_against_a_number_fails():
    a, b = np.array([np.nan, 1.0, np.inf, np.nan]), np.array([np.nan, 1.0, np.inf, 2.0])
    _, _, excess = verify._deviations(a, b, np.full(4, 1e-4), np.zeros(4))
    assert list(excess[:3]) == [0.0, 0.0, 0.0] and excess[3] == np.inf


def test_every_rule_has_a_reason_and_every_committed_file_its_own_rule():
    assert all(rule.reason.strip() for rule in verify.TOLERANCES.values())
    default = verify.TOLERANCES["*"]
    unlisted = [p.name for p in DATA.iterdir() if p.is_file() and verify.rule_for(p.name) is default]
    assert unlisted == []


def test_committed_data_verifies_against_itself():
    results, code = verify.verify(paths.PROJECT_ROOT)
    files = [p for p in DATA.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert code == 0 and len(results) == len(files)
    assert all(r.passed for r in results)
    report = verify.report(results)
    assert report.splitlines()[-1].startswith(f"verify: {len(files)} tables, {len(files)} passed, 0 failed")
    assert len(report.splitlines()) == len(files) + 1


def test_cli_prints_one_line_per_file_and_returns_the_code(roots, capsys):
    rerun, reference = roots
    assert main(["verify", str(rerun), "--reference", str(reference)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(FILES) + 1 and all(line.startswith("PASS  ") for line in out[:-1])
    (rerun / "data" / "claims.md").unlink()
    assert main(["verify", str(rerun), "--reference", str(reference)]) == 1


@pytest.mark.parametrize("flag", [None, "--reference"])
def test_cli_bad_dir_exits_2_with_one_line(tmp_path, flag):
    missing = tmp_path / "nowhere"
    args = [str(missing)] if flag is None else [str(paths.PROJECT_ROOT), flag, str(missing)]
    result = subprocess.run(
        [sys.executable, "-m", "coinfer", "verify", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and result.stdout == ""
    name = "DIR" if flag is None else "--reference"
    assert result.stderr == f"verify: {name}: no data/ folder at {missing / 'data'}\n"


def test_run_all_rerun_refuses_another_profile():
    result = subprocess.run(
        ["bash", "run_all.sh", "--rerun", "--quick"], cwd=paths.PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "usage:" in result.stderr
