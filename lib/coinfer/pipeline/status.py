"""The state of an output root: which profile made it, how its parameters differ from the committed run, and
whether its verdicts are current.

Every notebook the runner executes carries a run record in its published copy
(``notebooks/executed/<name>.ipynb``, metadata key :data:`RECORD_KEY`): the profile, and the SHA-256 of every
file of ``data/`` it read from earlier notebooks, taken when it finished. A notebook is *stale* when one of
those files has changed since, or when a notebook it reads from is stale; the verdicts
(``data/claims.json``, written by ``11_report``) are *current* when the report is not stale. Parameters are
compared file by file with the committed run's ``data/parameters_<notebook>.json``.

:func:`root_status` gathers this; :meth:`RootStatus.lines` says it in a few lines, which the runner prints after
a run, ``python -m coinfer status DIR`` prints, and the documentation site (:mod:`coinfer.pipeline.site`) shows on
its first page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS
from coinfer.pipeline import _dependencies, publish

#: Metadata key of the run record in a published executed notebook.
RECORD_KEY = publish.RECORD_KEY
#: The notebook that writes the verdicts.
REPORT = "11_report"
CLAIMS_FILE = "data/claims.json"


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, hex.

    Parameters
    ----------
    path : pathlib.Path
        The file [path].

    Returns
    -------
    str
        The 64-character hexadecimal digest.
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def executed_notebook(root: Path, notebook: str) -> Path:
    """The published executed copy of ``notebook`` in output root ``root``.

    Parameters
    ----------
    root : pathlib.Path
        The output root [path].
    notebook : str
        The notebook's name.

    Returns
    -------
    pathlib.Path
        Its ``.ipynb`` (it may not exist) [path].
    """
    return Path(root) / "notebooks" / "executed" / f"{notebook}.ipynb"


def read_record(root: Path, notebook: str) -> dict[str, Any] | None:
    """The run record of ``notebook`` in ``root`` (``None`` if it has no executed copy or no record).

    Parameters
    ----------
    root : pathlib.Path
        The output root [path].
    notebook : str
        The notebook's name.

    Returns
    -------
    dict of str to object or None
        The record the runner stored in the notebook's metadata (profile, hashes of the inputs read).
    """
    path = executed_notebook(root, notebook)
    if not path.is_file():
        return None
    try:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    record = metadata.get(RECORD_KEY)
    return record if isinstance(record, dict) else None


def read_parameters(root: Path, notebook: str) -> dict[str, Any] | None:
    """``data/parameters_<notebook>.json`` of ``root``, or ``None`` when the notebook has not run there.

    Parameters
    ----------
    root : pathlib.Path
        The output root [path].
    notebook : str
        The notebook's name.

    Returns
    -------
    dict of str to object or None
        The validated parameters the notebook ran with, each in its schema's unit.
    """
    path = Path(root) / _dependencies.parameters_path(notebook)
    if not path.is_file():
        return None
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def parameter_changes(
    mine: Mapping[str, Any] | None, committed: Mapping[str, Any] | None
) -> dict[str, tuple[Any, Any]]:
    """``{name: (value here, committed value)}`` for every parameter whose value differs (``None`` if absent).

    Parameters
    ----------
    mine : mapping of str to object or None
        The parameters of this run, in their schemas' units.
    committed : mapping of str to object or None
        The parameters of the committed run.

    Returns
    -------
    dict of str to tuple
        The differing parameters, sorted by name; empty when either side is None.
    """
    if mine is None or committed is None:
        return {}
    return {
        name: (mine.get(name), committed.get(name))
        for name in sorted(set(mine) | set(committed))
        if mine.get(name) != committed.get(name)
    }


def _verdicts(root: Path) -> dict[str, str]:
    path = Path(root) / CLAIMS_FILE
    if not path.is_file():
        return {}
    try:
        claims = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return {str(c.get("id")): str(c.get("verdict") or ("holds" if c.get("holds") else "does not hold")) for c in claims}


@dataclass(frozen=True)
class NotebookState:
    """One notebook in one output root."""

    notebook: str
    #: It has run in this root (its parameters record exists).
    ran: bool
    #: The profile of its last run, from its run record (``None``: no record, e.g. a run before records were kept).
    profile: str | None
    #: Files it read whose bytes changed since it ran.
    changed_inputs: tuple[str, ...]
    #: Parameters whose values differ from the committed run's: ``{name: (here, committed)}``.
    parameter_changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class RootStatus:
    """What an output root holds, against the committed results (:func:`root_status`)."""

    root: Path
    #: The root is the project root (the committed results).
    committed: bool
    notebooks: dict[str, NotebookState]
    #: Notebooks whose inputs changed since they ran, or that read from such a notebook, in run order.
    stale: tuple[str, ...]
    #: ``True``/``False``: the verdicts were (not) computed from the data as they are; ``None``: no claims report,
    #: or the report ran before run records were kept.
    verdicts_current: bool | None
    #: Claims whose verdict differs from the committed one: ``{claim: (here, committed)}``.
    verdict_changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def profiles(self) -> tuple[str, ...]:
        """Profiles of the recorded runs in this root, in order of first appearance."""
        found = [s.profile for s in self.notebooks.values() if s.ran and s.profile]
        return tuple(dict.fromkeys(found))

    @property
    def changed_parameters(self) -> dict[str, dict[str, tuple[Any, Any]]]:
        """``{notebook: {name: (here, committed)}}`` for notebooks whose parameters differ from the committed run."""
        return {nb: s.parameter_changes for nb, s in self.notebooks.items() if s.parameter_changes}

    def profile_text(self) -> str:
        """``full profile``, ``quick profile``, or ``unknown profile`` (no record).

        Returns
        -------
        str
            The words.
        """
        if not self.profiles:
            return "profile not recorded"
        return " and ".join(self.profiles) + " profile" + ("s" if len(self.profiles) > 1 else "")

    def lines(self, values: bool = False, name: str | None = None) -> list[str]:
        """The status in a few plain sentences.

        Parameters
        ----------
        values : bool
            List the changed parameters with their values.
        name : str, optional
            How the root is called; default its path, relative to the project when inside it.

        Returns
        -------
        list of str
            The sentences.
        """
        where = name or ("the committed results" if self.committed else f"output root {_shown(self.root)}")
        ran = [nb for nb, s in self.notebooks.items() if s.ran]
        if not ran:
            return [f"{where}: no notebook has run here."]
        lines = [f"{where}: {self.profile_text()}, {len(ran)} of {len(self.notebooks)} notebooks have run here."]
        missing = [nb for nb, s in self.notebooks.items() if not s.ran]
        if missing:
            lines.append("Not run here: " + ", ".join(missing) + ".")
        if not self.committed:
            changes = self.changed_parameters
            if changes and values:
                described = "; ".join(
                    f"{nb}: " + ", ".join(f"{name} = {_value(a)} (committed {_value(b)})" for name, (a, b) in c.items())
                    for nb, c in changes.items()
                )
                lines.append(f"Parameters that differ from the committed run: {described}.")
            elif changes:
                described = "; ".join(f"{nb} ({', '.join(c)})" for nb, c in changes.items())
                lines.append(f"Parameters that differ from the committed run: {described}.")
            else:
                lines.append("Parameters: the same as the committed run in every notebook that ran here.")
        if self.stale:
            lines.append(
                "Stale (their inputs changed after they ran): " + ", ".join(self.stale) + "; rerun them (the runner "
                "reruns everything downstream of what it runs)."
            )
        if self.verdicts_current is None:
            lines.append("Verdicts: no claims report here, or it ran before run records were kept; currency unknown.")
        elif self.verdicts_current:
            lines.append("Verdicts: current (computed from the data as they are now).")
        else:
            lines.append("Verdicts: NOT current (the data changed after the claims report was written).")
        if not self.committed and self.verdict_changes:
            lines.append(
                "Verdicts that differ from the committed ones: "
                + ", ".join(f"{c} {a} (committed: {b})" for c, (a, b) in self.verdict_changes.items())
                + "."
            )
        elif not self.committed and _verdicts(self.root):
            lines.append("Every verdict is the same as the committed one.")
        return lines


def _shown(path: Path) -> str:
    resolved = Path(path).resolve()
    project = paths.PROJECT_ROOT.resolve()
    return resolved.relative_to(project).as_posix() if resolved.is_relative_to(project) else str(path)


def _value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def root_status(root: Path, committed_root: Path | None = None) -> RootStatus:
    """The :class:`RootStatus` of output root ``root``, against ``committed_root`` (default: the project root).

    Parameters
    ----------
    root : pathlib.Path
        The output root [path].
    committed_root : pathlib.Path, optional
        The root holding the committed results [path].

    Returns
    -------
    RootStatus
        The profile, each notebook's state (parameters changed, inputs changed, stale) and whether the verdicts are
        current.
    """
    root = Path(root).resolve()
    reference = Path(committed_root or paths.PROJECT_ROOT).resolve()
    committed = root == reference
    states: dict[str, NotebookState] = {}
    stale: list[str] = []
    for notebook in NOTEBOOKS:
        mine = read_parameters(root, notebook)
        record = read_record(root, notebook) if mine is not None else None
        changed: list[str] = []
        for path, digest in (record or {}).get("reads", {}).items():
            file = root / path
            # a declared input that did not exist when the notebook ran (digest None) and still does not is unchanged
            if (sha256(file) if file.is_file() else None) != digest:
                changed.append(path)
        upstream_stale = bool(
            _dependencies.reads_of(notebook) & {p for nb in stale for p in _dependencies.writes_of(nb)}
        )
        if mine is not None and (changed or upstream_stale):
            stale.append(notebook)
        states[notebook] = NotebookState(
            notebook=notebook,
            ran=mine is not None,
            profile=(record or {}).get("profile"),
            changed_inputs=tuple(changed),
            parameter_changes={} if committed else parameter_changes(mine, read_parameters(reference, notebook)),
        )
    report = states[REPORT]
    current: bool | None
    if not report.ran or not (root / CLAIMS_FILE).is_file() or read_record(root, REPORT) is None:
        current = None
    else:
        current = REPORT not in stale
    mine_verdicts, committed_verdicts = _verdicts(root), _verdicts(reference)
    verdict_changes = {
        claim: (verdict, committed_verdicts.get(claim, "not evaluated"))
        for claim, verdict in mine_verdicts.items()
        if verdict != committed_verdicts.get(claim)
    }
    return RootStatus(root, committed, states, tuple(stale), current, {} if committed else verdict_changes)


__all__ = [
    "CLAIMS_FILE",
    "RECORD_KEY",
    "NotebookState",
    "RootStatus",
    "executed_notebook",
    "parameter_changes",
    "read_parameters",
    "read_record",
    "root_status",
    "sha256",
]
