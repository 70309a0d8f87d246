"""Where inputs and outputs live, and atomic writes.

Every output of the artifact goes through this module so that a crash never
leaves a half-written file: content is written to a temporary file in the
destination folder and then renamed over the target (``os.replace`` is atomic
on POSIX within one filesystem).

The output root defaults to the project root (``data/`` and ``figures/``
beside ``README.md``). ``run_all.sh`` points ``COINFER_OUTPUT_ROOT`` at a
staging folder and swaps it in only when every notebook succeeded.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

#: The checkout this package was installed from (``pip install -e .``).
PROJECT_ROOT: Path = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
PARAMS_DIR: Path = PROJECT_ROOT / "params"
BUILD_DIR: Path = PROJECT_ROOT / "build"
#: Folder inside an output root that :mod:`coinfer.runner` runs the notebooks into before publishing.
STAGING_NAME = ".coinfer-staging"

#: Significant digits of floats in CSV outputs: enough for every reported
#: number, few enough that last-bit differences of threaded BLAS kernels do
#: not change the bytes of ``data/`` between reruns.
CSV_FLOAT_FORMAT = "%.9g"


def output_root() -> Path:
    """Folder holding ``data/`` and ``figures/`` (env ``COINFER_OUTPUT_ROOT``).

    A relative ``COINFER_OUTPUT_ROOT`` is taken from the project root, not from
    the current directory: notebook kernels run inside ``notebooks/``.
    """
    return PROJECT_ROOT / os.environ.get("COINFER_OUTPUT_ROOT", ".")


def data_dir() -> Path:
    """The tidy-data folder, created on demand."""
    path = output_root() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir() -> Path:
    """The figures folder, created on demand."""
    path = output_root() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    On an exception the temporary file is removed and ``target`` keeps its
    previous content.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_csv(frame: pd.DataFrame, name: str) -> Path:
    """Write a tidy table to ``data/<name>`` atomically, with stable float formatting."""
    target = data_dir() / name
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")
    return target


def read_csv(name: str) -> pd.DataFrame:
    """Read a table written by :func:`write_csv`; names the notebook to run if missing."""
    path = data_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"data/{name} does not exist; run the notebook that writes it first (see README)")
    return pd.read_csv(path)


def write_json(obj: Any, name: str) -> Path:
    """Write ``obj`` as indented, key-sorted JSON to ``data/<name>`` atomically."""
    return write_text(data_dir() / name, json.dumps(obj, indent=2, sort_keys=True) + "\n")
