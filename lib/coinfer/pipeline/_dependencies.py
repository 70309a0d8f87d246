"""What each notebook reads and writes, expanded from the declaration, and what a change forces to rerun.

The declaration is :data:`coinfer.base.notebooks.READS` and :data:`~coinfer.base.notebooks.WRITES` (files in
``data/``). This module turns it into the questions the runner and the status of an output root ask:

- :func:`writes_of` / :func:`reads_of`: the files of one notebook, with its ``parameters_<notebook>.json`` and
  with the report's "every earlier file" expanded;
- :func:`readers_closure`: the notebooks that may have to rerun after some notebooks ran (every notebook that
  reads, directly or through another, what they write);
- :func:`check_io`: one executed notebook's actual reads and writes (the log that :func:`coinfer.base.paths.log_io`
  keeps while the runner executes it) against its declaration.

Paths are relative to the output root (``data/profiles.csv``), as :func:`coinfer.base.paths.log_io` writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from coinfer.base.notebooks import EVERY_EARLIER_FILE, NOTEBOOKS, READS, WRITES

DATA = "data/"


class DeclarationError(RuntimeError):
    """A notebook read or wrote a file of ``data/`` that :mod:`coinfer.base.notebooks` does not declare."""


def parameters_path(notebook: str) -> str:
    """``data/parameters_<notebook>.json``, which every notebook writes first."""
    return f"{DATA}parameters_{notebook}.json"


def writes_of(notebook: str) -> frozenset[str]:
    """The files ``notebook`` writes in ``data/`` (its declared tables and its parameters record)."""
    return frozenset({parameters_path(notebook), *(DATA + name for name in WRITES[notebook])})


def reads_of(notebook: str) -> frozenset[str]:
    """The files of earlier notebooks that ``notebook`` reads; the report's ``"*"`` expands to all of them."""
    names = READS[notebook]
    if EVERY_EARLIER_FILE in names:
        earlier = NOTEBOOKS[: NOTEBOOKS.index(notebook)]
        return frozenset(path for other in earlier for path in writes_of(other))
    return frozenset(DATA + name for name in names)


def writer_of(path: str) -> str | None:
    """The notebook that writes ``path`` (``data/x.csv``), or ``None``."""
    return next((nb for nb in NOTEBOOKS if path in writes_of(nb)), None)


def readers_closure(changed: Iterable[str]) -> list[str]:
    """Notebooks after ``changed`` that read, directly or through another notebook, what ``changed`` write.

    In run order, without the notebooks of ``changed`` themselves.
    """
    affected = set(changed)
    written = {path for nb in affected for path in writes_of(nb)}
    readers = []
    for notebook in NOTEBOOKS:
        if notebook in affected:
            continue
        if reads_of(notebook) & written:
            readers.append(notebook)
            affected.add(notebook)
            written |= writes_of(notebook)
    return readers


def read_log(log: Path) -> tuple[set[str], set[str]]:
    """``(reads, writes)`` of one notebook's I/O log (``read<TAB>path`` lines); empty sets if there is none."""
    reads: set[str] = set()
    writes: set[str] = set()
    if not Path(log).is_file():
        return reads, writes
    for line in Path(log).read_text(encoding="utf-8").splitlines():
        kind, _, path = line.partition("\t")
        (reads if kind == "read" else writes).add(path)
    return reads, writes


def check_io(notebook: str, reads: Iterable[str], writes: Iterable[str]) -> list[str]:
    """Reads and writes of ``data/`` that ``notebook``'s declaration does not cover, as one line each.

    A notebook may read back what it wrote itself; figures (``figures/``) are not checked here.
    """
    own = writes_of(notebook)
    problems = [
        f"{notebook} read {path}, which coinfer.base.notebooks.READS does not declare for it"
        for path in sorted(set(reads) - own - reads_of(notebook))
        if path.startswith(DATA)
    ]
    problems += [
        f"{notebook} wrote {path}, which coinfer.base.notebooks.WRITES does not declare for it"
        for path in sorted(set(writes) - own)
        if path.startswith(DATA)
    ]
    return problems


def in_run_order(notebooks: Sequence[str]) -> list[str]:
    """``notebooks`` in the order of :data:`~coinfer.base.notebooks.NOTEBOOKS`."""
    return [nb for nb in NOTEBOOKS if nb in set(notebooks)]


__all__ = [
    "DeclarationError",
    "check_io",
    "in_run_order",
    "parameters_path",
    "read_log",
    "readers_closure",
    "reads_of",
    "writer_of",
    "writes_of",
]
