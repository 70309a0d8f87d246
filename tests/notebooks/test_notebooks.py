"""Every notebook runs end to end through papermill with the quick profile, twice, with identical data.

This is the slowest test (two quick runs of the whole pipeline); it is what
proves that ``./run_all.sh --quick`` works from a clean checkout and that
``data/`` is reproducible byte for byte.
"""

import filecmp

import pytest

from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS
from coinfer.pipeline import publish, runner, site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_quick_runs(tmp_path_factory):
    roots = [tmp_path_factory.mktemp(f"quick{i}") for i in range(2)]
    runs = [runner.run("quick", (), root) for root in roots]
    return roots, runs


def test_every_notebook_executes(two_quick_runs):
    _, runs = two_quick_runs
    assert [r.notebook for r in runs[0]] == list(NOTEBOOKS)


def test_quick_profile_outputs_exist(two_quick_runs):
    roots, _ = two_quick_runs
    assert any((roots[0] / "data").glob("*.csv"))
    assert any((roots[0] / "figures").glob("*.pdf"))
    assert (roots[0] / "data" / "claims.json").is_file()


def test_rerun_gives_identical_data_bytes(two_quick_runs):
    roots, _ = two_quick_runs
    first, second = (sorted(p.name for p in (root / "data").iterdir()) for root in roots)
    assert first == second
    match, mismatch, errors = filecmp.cmpfiles(roots[0] / "data", roots[1] / "data", first, shallow=False)
    assert mismatch == [] and errors == [], f"data differs between reruns: {mismatch + errors}"


def test_manifests_agree_on_data(two_quick_runs):
    roots, _ = two_quick_runs
    data_lines = [
        [line for line in (root / runner.MANIFEST_NAME).read_text().splitlines() if "  data/" in line] for root in roots
    ]
    assert data_lines[0] == data_lines[1] and data_lines[0]


#: What a published notebook must not hold: set-up warnings, progress bars, times, terminal controls.
NOISE = ("IProgress not found", "without encryption", "it/s]", "s/it]", "start_time", "end_time", '"duration"')
NOISE += ("iopub.", "\\u001b")


def test_executed_notebooks_are_published_clean_and_small(two_quick_runs):
    roots, _ = two_quick_runs
    for notebook in NOTEBOOKS:
        path = publish.executed_dir(roots[0]) / f"{notebook}.ipynb"
        text = path.read_text(encoding="utf-8")
        assert path.stat().st_size < 3_000_000, f"{notebook}: {path.stat().st_size} bytes"
        found = [noise for noise in NOISE if noise in text]
        assert found == [], f"{notebook}: {found}"
        assert str(roots[0]) not in text and str(paths.PROJECT_ROOT) not in text


def test_every_run_builds_its_report(two_quick_runs):
    roots, _ = two_quick_runs
    index = site.site_dir(roots[0]) / "index.html"
    text = index.read_text(encoding="utf-8")
    assert 'href="claims.html"' in text
    for notebook in NOTEBOOKS:
        assert f'href="notebooks/executed/{notebook}.html"' in text
        assert (index.parent / "notebooks" / "executed" / f"{notebook}.html").is_file()


def test_rerun_gives_identical_executed_notebooks_except_printed_wall_times(two_quick_runs):
    roots, _ = two_quick_runs
    # 06 and 09 print solver wall times, 07 and 08 measurement wall times (their data are compared byte for byte)
    timed = {"06_joint_optimisation", "07_deployed_designs", "08_model_size", "09_multi_user"}
    differ = [
        notebook
        for notebook in NOTEBOOKS
        if notebook not in timed
        and (publish.executed_dir(roots[0]) / f"{notebook}.ipynb").read_bytes()
        != (publish.executed_dir(roots[1]) / f"{notebook}.ipynb").read_bytes()
    ]
    assert differ == []
