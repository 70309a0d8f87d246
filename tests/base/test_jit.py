"""coinfer.base.jit: numba's cache of a compiled caller is refreshed when a compiled callee in another file changes, and
every module whose compiled code calls another file's declares that file."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coinfer.base import jit

CALLEE = """
from coinfer.base.jit import jcompile

@jcompile()
def value():
    return {value}
"""

CALLER = """
import callee
from coinfer.base.jit import jcompile, refresh_cache

if {guarded}:
    refresh_cache(__file__, [callee.__file__])

@jcompile("f8()")
def read():
    return callee.value()
"""


def run_caller(folder: Path) -> float:
    """``caller.read()`` in a fresh process (numba loads what it cached in ``folder/__pycache__``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("COINFER_JIT", None)
    run = subprocess.run(
        [sys.executable, "-c", "import caller; print(caller.read())"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return float(run.stdout)


@pytest.mark.parametrize("guarded", [True, False])
def test_a_changed_callee_in_another_file_recompiles_its_caller(tmp_path, guarded):
    """With the guard, the caller's cached machine code follows the callee's file; without it numba loads the
    stale code (the reason for the guard: this half of the test shows the failure it prevents)."""
    (tmp_path / "callee.py").write_text(textwrap.dedent(CALLEE.format(value=1.0)))
    (tmp_path / "caller.py").write_text(textwrap.dedent(CALLER.format(guarded=guarded)))
    assert run_caller(tmp_path) == 1.0
    assert run_caller(tmp_path) == 1.0  # loaded from the cache: nothing changed
    (tmp_path / "callee.py").write_text(textwrap.dedent(CALLEE.format(value=2.0)))
    assert run_caller(tmp_path) == (2.0 if guarded else 1.0)


def test_refresh_cache_keeps_a_current_cache(tmp_path):
    """The cached code is deleted only when a dependency changed, not on every import."""
    module, dependency = tmp_path / "module.py", tmp_path / "dependency.py"
    module.write_text("x = 1\n")
    dependency.write_text("y = 1\n")
    assert jit.refresh_cache(str(module), [str(dependency)])  # no record yet
    cache = jit._cache_directory(str(module))  # numba's: module's __pycache__, unless NUMBA_CACHE_DIR is set
    assert cache is not None
    kept = cache / "module.f-1.py311.nbi"
    kept.write_bytes(b"cached")
    assert not jit.refresh_cache(str(module), [str(dependency)]) and kept.exists()
    dependency.write_text("y = 2\n")
    assert jit.refresh_cache(str(module), [str(dependency)]) and not kept.exists()


@pytest.mark.parametrize("name", ["coinfer.optimise.kernel", "coinfer.optimise.solution", "coinfer.model.arithmetic"])
def test_every_compiled_dependency_is_declared(name):
    """A compiled function that calls a compiled function of another file: that file is in its module's
    COMPILED_DEPENDENCIES (and so refreshes its cache). Checked on the names each compiled function reads."""
    from numba.core.registry import CPUDispatcher

    module = importlib.import_module(name)
    declared = {Path(f) for f in getattr(module, "COMPILED_DEPENDENCIES", ())}
    needed = set()
    compiled = [v for v in vars(module).values() if isinstance(v, CPUDispatcher) and v.py_func.__module__ == name]
    assert compiled
    for dispatcher in compiled:
        for global_name in dispatcher.py_func.__code__.co_names:
            callee = vars(module).get(global_name)
            if isinstance(callee, CPUDispatcher) and callee.py_func.__module__ != name:
                needed.add(Path(importlib.import_module(callee.py_func.__module__).__file__))
    assert needed <= declared, needed - declared
