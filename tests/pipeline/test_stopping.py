"""A stopped run stops every process it started (kernel, joblib workers, their helpers) and publishes nothing.

Each test starts a real process tree (a runner executing a notebook that starts two loky workers, or a plain
``parallel_map`` loop), waits until the workers are busy, stops the top process with a signal and checks
that no process of the tree is left a few seconds later.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from coinfer.base import paths
from coinfer.pipeline import runner

ROOT = paths.PROJECT_ROOT
#: Seconds a stopped tree may take to disappear ("a few seconds").
GONE_WITHIN = 8.0
#: Seconds a signalled process may take to end: the runner first stops its kernel and workers, which took more than
#: 18 s once in a fresh-clone CI rehearsal on the loaded 2-core machine (26 s for both cases when idle, test included).
EXIT_WITHIN = 120.0

#: Two workers that announce themselves and then sleep far longer than the test waits.
LOOP = """
import os, pathlib, time
from coinfer.base.parallel import parallel_map

def task(item, markers={markers!r}):
    pathlib.Path(markers, f"{{item}}-{{os.getpid()}}").write_text("")
    time.sleep(600)
    return item

parallel_map(task, range(4), workers=2, progress=False)
"""


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())[:100]}")
        except psutil.NoSuchProcess:
            pass
    return left


def _stop_and_check(top: subprocess.Popen, markers: Path, number: int) -> list[psutil.Process]:
    """Wait for both workers, signal ``top``, and check that ``top`` and everything under it are gone."""
    _wait_for(lambda: len(list(markers.iterdir())) >= 2 or top.poll() is not None, 240, "two busy workers")
    assert top.poll() is None, f"the process ended early with code {top.returncode}"
    tree = psutil.Process(top.pid).children(recursive=True)
    worker_pids = {int(p.name.split("-")[1]) for p in markers.iterdir()}
    assert worker_pids <= {p.pid for p in tree}, "the workers run under the stopped process"
    try:
        top.send_signal(number)
        top.wait(timeout=EXIT_WITHIN)
        _wait_for(lambda: not _alive(tree), GONE_WITHIN, "the stopped tree to disappear")
    finally:
        for process in tree:  # never leave a sleeping worker behind, whatever the assertion said
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
    return tree


def _git_status() -> str:
    paths_ = ["data", "figures", "notebooks", "MANIFEST.sha256"]
    return subprocess.run(
        ["git", "status", "--porcelain", "--", *paths_], cwd=ROOT, capture_output=True, text=True
    ).stdout


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_runner_leaves_no_process_and_no_output(tmp_path, number):
    notebook = "01_distortion_bound"
    declared = runner.declared_parameters(runner.notebook_source(notebook))
    params = "\n".join(f"{name} = {value!r}" for name, value in declared.items())
    markers = tmp_path / "markers"
    markers.mkdir()
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / f"{notebook}.py").write_text(
        f'# %% tags=["parameters"]\n{params}\n# %%\n' + LOOP.format(markers=str(markers))
    )
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "data" / "previous.csv").write_text("a\n1\n")
    before, tracked = _snapshot(out), _git_status()
    code = (
        "from coinfer.pipeline import runner; "
        f"runner.run('quick', [{notebook!r}], {str(out)!r}, notebooks_dir={str(tmp_path / 'nb')!r}, "
        "build_report=False)"
    )
    with open(tmp_path / "runner.log", "w") as log:
        top = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        tree = _stop_and_check(top, markers, number)
    assert len(tree) >= 3, "kernel and two workers"
    assert top.returncode != 0
    assert _snapshot(out) == before  # nothing published
    assert _git_status() == tracked  # and no committed result touched
    assert not runner.staging_dir(out).exists()


def _loop_process(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    code = textwrap.dedent(LOOP.format(markers=str(markers)))
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT), markers


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_the_process_running_the_loop(tmp_path, number):
    # SIGTERM: the loop's handler stops the workers; SIGKILL (no handler runs): the workers' parent-death signal
    top, markers = _loop_process(tmp_path)
    _stop_and_check(top, markers, number)
    assert top.returncode == -number


def test_a_failed_run_stops_what_it_started_and_leaves_the_callers_processes():
    theirs = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(RuntimeError), runner.stop_children_on_exit():
            ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            raise RuntimeError("a notebook failed")
        assert ours.wait(timeout=GONE_WITHIN) is not None  # started within the run: stopped
        assert theirs.poll() is None  # the caller's own child: left running
    finally:
        theirs.kill()
        theirs.wait()
