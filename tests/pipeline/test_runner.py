"""run_all.sh and the notebook runner fail loudly and never leave half-written outputs."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from coinfer.base import paths
from coinfer.base.notebooks import SCHEMAS
from coinfer.pipeline import runner

ROOT = paths.PROJECT_ROOT


def run_cli(*args, cwd=ROOT):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def output_root(tmp_path):
    """An output root holding a previous good run."""
    root = tmp_path / "out"
    (root / "data").mkdir(parents=True)
    (root / "figures").mkdir()
    (root / "data" / "previous.csv").write_text("a,b\n1,2\n")
    (root / "figures" / "previous.png").write_bytes(b"\x89PNG previous")
    return root


@pytest.mark.parametrize(
    "args", [["--bogus"], ["--only"], ["--profile"], ["extra"], ["-p", "device"], ["site", "a", "b"]]
)
def test_run_all_rejects_bad_options_with_usage_and_exit_2(args):
    result = run_cli("bash", "run_all.sh", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "usage:" in result.stderr


def test_run_all_help_exits_0():
    result = run_cli("bash", "run_all.sh", "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("01_distortion_bound:\n  seed: -3\n", "seed: got -3"),
        ("01_distortion_bound:\n  no_such_parameter: 1\n", "'no_such_parameter' is not known"),
        ("not: [valid\n", "not valid YAML"),
    ],
)
def test_bad_profile_exits_2_with_one_line_and_outputs_untouched(tmp_path, output_root, content, fragment):
    profile = tmp_path / "bad.yaml"
    profile.write_text(content)
    before = snapshot(output_root)
    result = run_cli(
        sys.executable, "-m", "coinfer", "run", "--profile", str(profile), "--output-root", str(output_root)
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert snapshot(output_root) == before


def test_unknown_notebook_in_only_exits_2(output_root):
    result = run_cli(
        sys.executable,
        "-m",
        "coinfer",
        "run",
        "--profile",
        "quick",
        "--only",
        "08_nope",
        "--output-root",
        str(output_root),
    )
    assert result.returncode == 2
    assert "notebook '08_nope' is not known" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_notebook_source_exits_2(tmp_path, output_root):
    with pytest.raises(runner.ParameterError, match="is missing"):
        runner.run("quick", ["01_distortion_bound"], output_root, notebooks_dir=tmp_path)


def _notebook_that_fails(notebooks_dir: Path, notebook: str) -> None:
    """A copy of ``notebook`` whose parameters are valid but which writes a file and then raises."""
    declared = runner.declared_parameters(runner.notebook_source(notebook))
    params = "\n".join(f"{name} = {value!r}" for name, value in declared.items())
    notebooks_dir.mkdir(exist_ok=True)
    (notebooks_dir / f"{notebook}.py").write_text(
        "# %%\nimport coinfer.base.paths, pandas\n"
        f'# %% tags=["parameters"]\n{params}\n'
        "# %%\ncoinfer.base.paths.write_csv(pandas.DataFrame({'x': [1]}), 'previous.csv')\n"
        "# %%\nraise RuntimeError('deliberate failure')\n"
    )


def test_failing_notebook_names_itself_and_keeps_last_good_outputs(tmp_path, output_root):
    notebook = "01_distortion_bound"
    assert SCHEMAS[notebook]
    _notebook_that_fails(tmp_path / "nb", notebook)
    before = snapshot(output_root)
    with pytest.raises(runner.NotebookFailed) as info:
        runner.run("quick", [notebook], output_root, notebooks_dir=tmp_path / "nb", build_report=False)
    message = str(info.value)
    assert notebook in message and "deliberate failure" in message and "partly executed copy" in message
    kept = Path(message.rsplit("partly executed copy: ", 1)[1])
    assert (kept if kept.is_absolute() else ROOT / kept).is_file()  # it outlives the staging folder
    assert snapshot(output_root) == before  # the half-done staging output never reached data/


def test_manifest_lists_every_output_with_its_sha256(output_root):
    manifest = runner.write_manifest(output_root).read_text().splitlines()
    assert manifest == [
        f"{hashlib.sha256((output_root / name).read_bytes()).hexdigest()}  {name}"
        for name in ("data/previous.csv", "figures/previous.png")
    ]


def test_publish_replaces_outputs_and_clears_staging(tmp_path, output_root):
    stage = runner.staging_dir(output_root)
    runner.prepare_staging(stage, None)
    assert not any(stage.rglob("*.csv"))  # a full run starts clean
    (stage / "data" / "new.csv").write_text("x\n1\n")
    runner.publish_staging(stage, output_root)
    assert sorted(p.name for p in (output_root / "data").iterdir()) == ["new.csv"]
    assert not stage.exists()
    assert "data/new.csv" in (output_root / runner.MANIFEST_NAME).read_text()


def test_partial_run_keeps_other_notebooks_outputs(tmp_path, output_root):
    stage = runner.staging_dir(output_root)
    runner.prepare_staging(stage, output_root)
    assert (stage / "data" / "previous.csv").read_text() == "a,b\n1,2\n"


@pytest.mark.parametrize("name", ["...yaml", "..yaml", "-x.yaml", "a b.yaml"])
def test_unsafe_profile_file_names_are_rejected(tmp_path, name):
    profile = tmp_path / name
    profile.write_text("")
    with pytest.raises(runner.ParameterError, match="file name"):
        runner.run(str(profile), ["01_distortion_bound"], tmp_path / "out")


def test_unusable_output_root_is_rejected_before_any_notebook_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(runner.ParameterError, match="output root"):
        runner.run("quick", ["01_distortion_bound"], blocker / "sub")


def test_staging_lives_inside_the_output_root(tmp_path):
    assert runner.staging_dir(tmp_path).parent == tmp_path


def test_inconsistent_combination_in_a_profile_is_rejected_before_running(tmp_path, output_root):
    profile = tmp_path / "p.yaml"
    profile.write_text("06_joint_optimisation:\n  bandwidth_range: [1.0e7, 1.0e6]\n")
    before = snapshot(output_root)
    result = run_cli(
        sys.executable,
        "-m",
        "coinfer",
        "run",
        "--profile",
        str(profile),
        "--only",
        "06_joint_optimisation",
        "--output-root",
        str(output_root),
    )
    assert result.returncode == 2
    assert (
        "06_joint_optimisation.bandwidth_range: got [10000000.0, 1000000.0]; expected [low, high] with low < high"
        in result.stderr
    )
    assert snapshot(output_root) == before


def test_relative_output_root_is_made_absolute(tmp_path, monkeypatch):
    # kernels run with cwd=notebooks/, so a relative root would send their outputs elsewhere
    monkeypatch.chdir(tmp_path)
    root = runner.check_output_root(Path("out"))
    assert root.is_absolute() and root == tmp_path / "out" and root.is_dir()


def test_relative_output_root_variable_is_taken_from_the_project_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", "build/mine")
    assert paths.output_root() == paths.PROJECT_ROOT / "build" / "mine"
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path / "abs"))
    assert paths.output_root() == tmp_path / "abs"
