"""A partial run (``--only``, ``-p``) never touches the committed results, reruns what reads what it changed, and
the status of its output root says how it differs from the committed run.

The notebooks here are small stand-ins with the real names and parameter cells (the runner checks both): 06
writes ``opt_budget_sweep.csv`` from its ``sweep_points``, 07 derives ``deployed_designs.csv`` from it and 11
writes ``claims.json`` from both, so a stale downstream file shows as a wrong number.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from coinfer.base import paths
from coinfer.base.validation import ParameterError
from coinfer.pipeline import runner, site, status

ROOT = paths.PROJECT_ROOT
#: What a run must never change unless asked (--update-committed).
COMMITTED = ("data", "figures", "notebooks", runner.MANIFEST_NAME)

BODIES = {
    "06_joint_optimisation": (
        "profiles = paths.read_csv('profiles.csv')\n"
        "paths.write_csv(pd.DataFrame({'points': [sweep_points], 'models': [len(profiles)]}), 'opt_budget_sweep.csv')\n"
    ),
    "07_deployed_designs": (
        "sweep = paths.read_csv('opt_budget_sweep.csv')\n"
        "paths.write_csv(pd.DataFrame({'deployed': [int(sweep['points'][0]) * 10]}), 'deployed_designs.csv')\n"
    ),
    "11_report": (
        "sweep = paths.read_csv('opt_budget_sweep.csv')\n"
        "deployed = paths.read_csv('deployed_designs.csv')\n"
        "verdict = 'holds' if int(deployed['deployed'][0]) == 10 * int(sweep['points'][0]) else 'does not hold'\n"
        "paths.write_json([{'id': 'T1', 'verdict': verdict, 'points': int(sweep['points'][0])}], 'claims.json')\n"
        "paths.write_text(paths.data_dir() / 'claims.md', verdict + '\\n')\n"
    ),
}


def _write_notebooks(folder: Path) -> None:
    folder.mkdir()
    for notebook, body in BODIES.items():
        declared = runner.declared_parameters(runner.notebook_source(notebook))
        params = "\n".join(f"{name} = {value!r}" for name, value in declared.items())
        (folder / f"{notebook}.py").write_text(
            f'# %% tags=["parameters"]\n{params}\n'
            "# %%\nimport pandas as pd\nimport coinfer.pipeline.notebook_params\nfrom coinfer.base import paths\n"
            f"params = coinfer.pipeline.notebook_params.check_namespace({notebook!r}, globals())\n"
            f"coinfer.pipeline.notebook_params.record({notebook!r}, params)\n"
            f"# %%\n{body}"
        )


def _digests(root: Path) -> dict[str, str]:
    found = {}
    for name in COMMITTED:
        target = root / name
        files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        found |= {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    return found


def _git_status() -> str:
    result = subprocess.run(
        ["git", "status", "--porcelain", "--", *COMMITTED], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.mark.slow
def test_partial_run_leaves_committed_results_alone_and_reruns_downstream(tmp_path, monkeypatch):
    monkeypatch.delenv("COINFER_OUTPUT_ROOT", raising=False)
    monkeypatch.setattr(paths, "BUILD_DIR", tmp_path / "build")  # the default partial root, build/full-partial
    _write_notebooks(tmp_path / "nb")
    before, git_before = _digests(ROOT), _git_status()

    runner.run(
        "full", ["06_joint_optimisation"], notebooks_dir=tmp_path / "nb", parameters={"sweep_points": 3},
        build_report=False,
    )  # fmt: skip

    assert _digests(ROOT) == before and _git_status() == git_before  # nothing committed changed
    partial = tmp_path / "build" / runner.PARTIAL_ROOT_NAME
    data = partial / "data"
    # 07 and 11 read what 06 changed and reran: every file agrees with the new sweep
    assert (data / "deployed_designs.csv").read_text() == "deployed\n30\n"
    assert json.loads((data / "claims.json").read_text()) == [{"id": "T1", "points": 3, "verdict": "holds"}]
    # 08 reads only profiles.csv, which did not change: its committed outputs were copied, not rerun
    assert (data / "size_study.csv").read_bytes() == (ROOT / "data" / "size_study.csv").read_bytes()
    # the manifest lists the files as they are now
    manifest = dict(reversed(line.split("  ", 1)) for line in (partial / runner.MANIFEST_NAME).read_text().splitlines())
    assert manifest["data/claims.json"] == hashlib.sha256((data / "claims.json").read_bytes()).hexdigest()

    state = status.root_status(partial)
    assert state.profiles == ("full",) and state.stale == () and state.verdicts_current is True
    assert state.changed_parameters["06_joint_optimisation"]["sweep_points"][0] == 3
    text = "\n".join(state.lines())
    assert "06_joint_optimisation (sweep_points)" in text and "Verdicts: current" in text
    shown = "\n".join(site.status_lines(partial))  # first on the site's index
    assert "sweep_points = 3 (committed 13)" in shown and shown.startswith("This output root: full profile")

    # a file changed behind the runner's back makes its readers stale and the verdicts not current
    (data / "opt_budget_sweep.csv").write_text("points,models\n4,1\n")
    state = status.root_status(partial)
    assert state.stale == ("07_deployed_designs", "11_report") and state.verdicts_current is False
    assert "NOT current" in "\n".join(state.lines())


def test_partial_run_into_the_committed_results_needs_the_flag():
    full = paths.PARAMS_DIR / "full.yaml"
    with pytest.raises(ParameterError, match="--update-committed"):
        runner.choose_output_root(full, ROOT, partial=True, update_committed=False)
    assert runner.choose_output_root(full, None, partial=True, update_committed=True) == ROOT
    assert runner.choose_output_root(full, None, partial=False, update_committed=False) == ROOT
    with pytest.raises(ParameterError, match="full profile"):
        runner.choose_output_root(paths.PARAMS_DIR / "quick.yaml", None, partial=True, update_committed=True)


def test_run_all_passes_update_committed_and_rejects_it_with_quick():
    result = subprocess.run(
        ["bash", "run_all.sh", "--quick", "--update-committed"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "--update-committed" in result.stderr


def test_status_command_describes_the_committed_results_and_rejects_a_folder_without_data(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "coinfer", "status"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.startswith("the committed results:")
    assert "Verdicts:" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "coinfer", "status", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "holds no data/" in result.stderr
