"""Where inputs and outputs live, and atomic writes.

Every output of the artifact goes through this module so that a crash never
leaves a half-written file: content is written to a temporary file in the
destination folder and then renamed over the target (``os.replace`` is atomic
on POSIX within one filesystem).

The output root is ``COINFER_OUTPUT_ROOT``. ``run_all.sh`` always sets it: to a
staging folder inside the run's output root (the project root for the full
profile, ``build/<profile>/`` otherwise), swapped in only when every notebook
succeeded. Without it (a notebook run interactively, e.g. in JupyterLab) the
outputs go to ``build/interactive/``, never into the committed ``data/`` and
``figures/``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

#: The checkout this package was installed from (``pip install -e .``).
PROJECT_ROOT: Path = Path(__file__).resolve().parents[3]
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
PARAMS_DIR: Path = PROJECT_ROOT / "params"
BUILD_DIR: Path = PROJECT_ROOT / "build"
#: Output root of a notebook run without ``COINFER_OUTPUT_ROOT`` (interactively, outside ``run_all.sh``).
INTERACTIVE_ROOT: Path = BUILD_DIR / "interactive"
#: Name of the staging folder a run writes into, inside its output root (:mod:`coinfer.pipeline.runner`).
STAGING_NAME = ".coinfer-staging"

#: When set (by :mod:`coinfer.pipeline.runner`, one file per notebook), every read and write of a file under the
#: output root is appended to this file as ``read<TAB>data/x.csv`` or ``write<TAB>figures/y.png``: the record
#: the runner checks against each notebook's declared reads and writes (:data:`coinfer.base.notebooks.READS`).
IO_LOG_ENV = "COINFER_IO_LOG"

#: Significant digits of floats in CSV outputs: enough for every reported
#: number, few enough that last-bit differences of threaded BLAS kernels do
#: not change the bytes of ``data/`` between reruns.
CSV_FLOAT_FORMAT = "%.9g"


def output_root() -> Path:
    """Folder holding ``data/`` and ``figures/``: env ``COINFER_OUTPUT_ROOT``, else :data:`INTERACTIVE_ROOT`.

    A relative ``COINFER_OUTPUT_ROOT`` is taken from the project root, not from
    the current directory: notebook kernels run inside ``notebooks/``. Without
    it (an interactive run) nothing is written into the committed ``data/``.

    Returns
    -------
    pathlib.Path
        The output root (not created here).
    """
    if "COINFER_OUTPUT_ROOT" not in os.environ:
        return INTERACTIVE_ROOT
    return PROJECT_ROOT / os.environ["COINFER_OUTPUT_ROOT"]


def data_dir() -> Path:
    """The tidy-data folder, created on demand.

    Returns
    -------
    pathlib.Path
        ``output_root() / "data"``, which exists afterwards.
    """
    path = output_root() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir() -> Path:
    """The figures folder, created on demand.

    Returns
    -------
    pathlib.Path
        ``output_root() / "figures"``, which exists afterwards.
    """
    path = output_root() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_io(kind: str, path: Path) -> None:
    """Append ``kind`` and ``path`` relative to the output root to ``$COINFER_IO_LOG``, if set.

    The runner reads this log to check each notebook's declared inputs and outputs. Paths outside the output root
    (temporary files, the package's own data) are not logged.

    Parameters
    ----------
    kind : str
        ``"read"`` or ``"write"``.
    path : pathlib.Path
        The file read or written [path].

    Returns
    -------
    None
    """
    log = os.environ.get(IO_LOG_ENV)
    if not log:
        return
    root = Path(os.path.realpath(output_root()))
    try:
        shown = Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{kind}\t{shown}\n")


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    On an exception the temporary file is removed and ``target`` keeps its previous content.

    Parameters
    ----------
    target : pathlib.Path
        The file to write [path].

    Yields
    ------
    pathlib.Path
        The temporary file to write instead, in ``target``'s folder [path].
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
        log_io("write", target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` atomically.

    The text goes to a temporary file beside ``target`` that is renamed over it (:func:`atomic_path`): a crash
    leaves the previous content, never a half-written file.

    Parameters
    ----------
    target : pathlib.Path
        The file to write (its folder is created if needed).
    text : str
        The content, written as UTF-8.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_csv(frame: pd.DataFrame, name: str) -> Path:
    """Write a tidy table to ``data/<name>`` atomically, with stable float formatting.

    Floats are written with :data:`CSV_FLOAT_FORMAT` (9 significant digits), without the index, with Unix
    line ends, so a rerun gives the same bytes.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, its values in the units its column names state.
    name : str
        File name inside ``data/``, e.g. ``"opt_budget_sweep.csv"``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = data_dir() / name
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")
    return target


def csv_writers(notebooks_dir: Path = NOTEBOOKS_DIR) -> dict[str, str]:
    """Map every table the notebooks write (``write_csv(frame, "name")`` in their sources) to its notebook.

    Parameters
    ----------
    notebooks_dir : pathlib.Path, optional
        Folder of the notebooks' py:percent sources (``NN_name.py``) [path].

    Returns
    -------
    dict of str to str
        ``{table name: notebook}``; the first notebook in file order when two write the same table.
    """
    writers: dict[str, str] = {}
    for source in sorted(notebooks_dir.glob("[0-9][0-9]_*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            name = node.args[1]
            if called == "write_csv" and isinstance(name, ast.Constant) and isinstance(name.value, str):
                writers.setdefault(name.value, source.stem)
    return writers


def _shown(path: Path) -> str:
    """``path`` relative to the project root when inside it; a staging folder shown as the root it publishes to."""
    parts = path.parts
    if STAGING_NAME in parts:
        at = parts.index(STAGING_NAME)
        path = Path(*parts[:at], *parts[at + 1 :])
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def missing_table_message(name: str, notebooks_dir: Path = NOTEBOOKS_DIR) -> str:
    """One line: which path was looked at for ``data/<name>`` and which notebook writes it.

    Parameters
    ----------
    name : str
        File name of the table in ``data/`` (``"opt_budget_sweep.csv"``).
    notebooks_dir : pathlib.Path, optional
        Folder of the notebooks' py:percent sources, searched by :func:`csv_writers` [path].

    Returns
    -------
    str
        The message, naming the notebook to run (or saying that none writes the table).
    """
    root = output_root()
    shown = _shown(root / "data" / name)
    writer = csv_writers(notebooks_dir).get(name)
    if writer is None:
        return f"{shown} does not exist; no notebook in {notebooks_dir.name}/ writes it"
    published = Path(_shown(root))
    if root == INTERACTIVE_ROOT:
        example = f"open notebooks/{writer}.py in JupyterLab and run it"
    elif published == Path("."):
        example = f"./run_all.sh --only {writer}"
    elif published == Path("build") / "quick":
        example = f"./run_all.sh --quick --only {writer}"
    else:
        example = f"./run_all.sh --profile ... --only {writer}"
    return (
        f"{shown} does not exist; it is written by notebook {writer} "
        f"(run it into the same output root first, e.g. {example})"
    )


def read_csv(name: str) -> pd.DataFrame:
    """Read a table written by :func:`write_csv`; if missing, the error names the path and the notebook to run.

    Parameters
    ----------
    name : str
        File name inside ``data/`` of the current output root.

    Returns
    -------
    pandas.DataFrame
        The table.

    Raises
    ------
    FileNotFoundError
        If the file does not exist; the message is :func:`missing_table_message`'s.
    """
    path = data_dir() / name
    if not path.exists():
        raise FileNotFoundError(missing_table_message(name))
    log_io("read", path)
    return pd.read_csv(path)


def read_json(name: str) -> Any:
    """Read ``data/<name>`` written by :func:`write_json`; ``FileNotFoundError`` naming the path if it is missing.

    Parameters
    ----------
    name : str
        File name inside ``data/`` of the current output root.

    Returns
    -------
    object
        The parsed JSON.
    """
    path = data_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"{_shown(path)} does not exist")
    log_io("read", path)
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(obj: Any, name: str) -> Path:
    """Write ``obj`` as indented, key-sorted JSON to ``data/<name>`` atomically.

    Parameters
    ----------
    obj : object
        Anything :func:`json.dumps` takes (no infinities: see :func:`coinfer.claims.finite`).
    name : str
        File name inside ``data/``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return write_text(data_dir() / name, json.dumps(obj, indent=2, sort_keys=True) + "\n")
