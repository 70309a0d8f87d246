"""Execute the notebooks in order with papermill (what ``run_all.sh`` calls).

Usage (``run_all.sh`` does this)::

    python -m coinfer run [--profile quick|full|FILE] [--only NOTEBOOK]... [-p NAME VALUE]...
                          [--output-root DIR | --update-committed]

Everything is validated before the first notebook starts: the profile file,
every parameter in it (:mod:`coinfer.pipeline.notebook_params`), that each notebook
exists and that its ``parameters`` cell declares exactly its schema. Bad
input prints one line and exits with code 2.

**Where a run writes.** The full profile, run whole, writes to the project root (the committed ``data/``,
``figures/`` and ``notebooks/executed/``); any other profile to ``build/<profile>/``. A *partial* run (``--only``
or ``-p``) of the full profile writes to ``build/full-partial/`` (:data:`PARTIAL_ROOT_NAME`), starting from a
copy of the committed results, unless ``update_committed`` (``--update-committed``) asks for the committed
results themselves; a partial run never writes into the project root otherwise.

**Downstream notebooks rerun.** Which files of ``data/`` each notebook reads and writes is declared once
(:data:`coinfer.base.notebooks.READS`, :data:`~coinfer.base.notebooks.WRITES`). After the selected notebooks,
every notebook that has run in the output root and reads a file that changed (directly or through another
notebook) reruns, with the parameters it last ran with, down to ``11_report`` (figures and claims); then the
manifest is rewritten. So ``data/``, ``figures/`` and ``data/claims.json`` always agree. Each notebook's actual
reads and writes (logged by :func:`coinfer.base.paths.log_io`) are checked against the declaration; a
mismatch stops the run before anything is published. The published copy of each notebook records its profile
and the hashes of what it read (:mod:`coinfer.pipeline.status`), so the report of any output root can say
whether its verdicts are current.

**Outputs are never half-written.** The notebooks write into a staging folder
(``<output root>/.coinfer-staging``, via ``COINFER_OUTPUT_ROOT``); only when every
notebook succeeded are the staged ``data/``, ``figures/`` and ``notebooks/executed/`` renamed over the
output root's, and the manifest ``MANIFEST.sha256`` rewritten. A failing
notebook stops the run with its name and the path of its partly executed
copy; the output root keeps its last good contents.

**Stopping.** Ctrl-C (SIGINT), SIGTERM or SIGHUP stop the kernel and every process under it (joblib
workers included: :func:`stop_children_on_exit`), remove the staging folder and leave the output root as it
was; the command exits with 128 + the signal number.

After a successful run each executed notebook is cleaned and published (:mod:`coinfer.pipeline.publish`), and
the documentation site is rebuilt (:mod:`coinfer.pipeline.site`). Kernels run over IPC (no plain-TCP warning) with
plain-text progress bars (:mod:`coinfer.base.progress`).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.base.parallel import stop_children
from coinfer.base.validation import ParameterError, require_known
from coinfer.pipeline import _dependencies, publish, site, status
from coinfer.pipeline.notebook_params import load_profile, validate

#: What a run publishes into its output root: tables, figures and the executed notebooks.
OUTPUT_SUBDIRS = ("data", "figures", "notebooks/executed")
#: What the manifest lists (the executed notebooks print timings, so their bytes vary).
MANIFEST_SUBDIRS = ("data", "figures")
MANIFEST_NAME = "MANIFEST.sha256"
#: Output root (under ``build/``) of a partial run of the full profile that does not update the committed results.
PARTIAL_ROOT_NAME = "full-partial"
#: Signals that stop a run. SIGINT too: Python's own KeyboardInterrupt can land inside code that catches it (the
#: notebook client), and a CI rehearsal once saw a Ctrl-C'd run still going after 120 s; stopping the kernel first
#: ends the run whatever the main thread is doing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STAGING_NAME = paths.STAGING_NAME
#: Kernel environment: plain-text progress bars (see :mod:`coinfer.base.progress`), no "IProgress not found"
#: warning from libraries (transformers) that import ``tqdm.auto`` themselves, and a fixed hash seed, so that
#: a run gives the same bytes whether ``run_all.sh`` (which exports it too) or a test started it.
KERNEL_ENVIRONMENT = {"COINFER_PLAIN_PROGRESS": "1", "PYTHONHASHSEED": "0"}
KERNEL_WARNING_FILTERS = ("ignore:IProgress not found:Warning",)


def _kernel_environment() -> dict[str, str]:
    """:data:`KERNEL_ENVIRONMENT` plus :data:`KERNEL_WARNING_FILTERS` appended to any ``PYTHONWARNINGS``."""
    filters = [f for f in os.environ.get("PYTHONWARNINGS", "").split(",") if f]
    return {**KERNEL_ENVIRONMENT, "PYTHONWARNINGS": ",".join([*filters, *KERNEL_WARNING_FILTERS])}


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names it and its partly executed copy."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT, SIGTERM, SIGHUP); ``signal_number`` says which."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


@dataclass(frozen=True)
class NotebookRun:
    """Wall time and peak memory of one executed notebook."""

    notebook: str
    seconds: float
    peak_rss_mib: float


# --------------------------------------------------------------------------- checks
def notebook_source(notebook: str, notebooks_dir: Path = paths.NOTEBOOKS_DIR) -> Path:
    """The jupytext source of ``notebook``.

    Parameters
    ----------
    notebook : str
        The notebook's name (``"06_joint_optimisation"``).
    notebooks_dir : pathlib.Path, optional
        Folder of the py:percent sources [path].

    Returns
    -------
    pathlib.Path
        ``<notebooks_dir>/<notebook>.py`` [path].

    Raises
    ------
    ParameterError
        If the source is missing.
    """
    source = notebooks_dir / f"{notebook}.py"
    if not source.is_file():
        raise ParameterError(f"notebook {notebook!r}: source {source.name} is missing from {notebooks_dir.name}/")
    return source


def declared_parameters(source: Path) -> dict[str, Any]:
    """Names and literal defaults of the ``parameters`` cell of a py:percent notebook.

    Parameters
    ----------
    source : pathlib.Path
        The notebook's py:percent source [path].

    Returns
    -------
    dict of str to object
        ``{name: default}``, each default in the unit its schema states.

    Raises
    ------
    ParameterError
        If the source has not exactly one cell tagged ``parameters``, or that cell holds anything but
        ``name = literal`` lines.
    """
    import jupytext

    cells = [c for c in jupytext.read(source).cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{source.name}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    declared: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ParameterError(f"{source.name}: the parameters cell may only hold 'name = literal' lines")
        declared[node.targets[0].id] = ast.literal_eval(node.value)
    return declared


def check_notebook(
    notebook: str, notebooks_dir: Path = paths.NOTEBOOKS_DIR, overrides: dict[str, Any] | None = None
) -> None:
    """Check that the notebook exists, its parameters cell matches its schema and its defaults with ``overrides`` pass.

    Parameters
    ----------
    notebook : str
        The notebook's name.
    notebooks_dir : pathlib.Path, optional
        Folder of the py:percent sources [path].
    overrides : dict of str to object, optional
        Parameter values replacing the defaults, each in the unit its schema states.

    Returns
    -------
    None

    Raises
    ------
    ParameterError
        Naming the first problem found.
    """
    declared = declared_parameters(notebook_source(notebook, notebooks_dir))
    schema = SCHEMAS[notebook]
    if set(declared) != set(schema):
        extra, missing = sorted(set(declared) - set(schema)), sorted(set(schema) - set(declared))
        raise ParameterError(
            f"{notebook}: parameters cell and schema differ "
            f"(undeclared in schema: {extra}; missing from cell: {missing})"
        )
    validate(notebook, {**declared, **(overrides or {})}, partial=False)


def _resolve_profile(profile: str) -> Path:
    """``quick``/``full`` name a file in ``params/``; anything else is a path."""
    candidate = paths.PARAMS_DIR / f"{profile}.yaml"
    return candidate if candidate.is_file() else Path(profile)


def _profile_label(profile_path: Path) -> str:
    """The profile's name in folder names (``build/<label>``); a safe file-name stem or a clear error."""
    label = profile_path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", label) or ".." in label:
        raise ParameterError(
            f"profile: file name {profile_path.name!r} must start with a letter or digit and use "
            "only letters, digits, '_', '-' and '.'"
        )
    return label


def _is_full_profile(profile_path: Path) -> bool:
    """``profile_path`` is ``params/full.yaml``, the profile of the committed results."""
    return Path(profile_path).resolve() == (paths.PARAMS_DIR / "full.yaml").resolve()


def default_output_root(profile_path: Path, partial: bool = False, update_committed: bool = False) -> Path:
    """Where a run writes when no ``--output-root`` is given.

    ``COINFER_OUTPUT_ROOT`` if set; else, for the full profile, the project root (a whole run, or a partial run with
    ``update_committed``) or ``build/full-partial`` (a partial run); ``build/<profile>`` for other profiles.

    Parameters
    ----------
    profile_path : pathlib.Path
        The profile YAML [path].
    partial : bool, optional
        Whether only some notebooks run.
    update_committed : bool, optional
        Whether a partial run of the full profile may write into the committed results.

    Returns
    -------
    pathlib.Path
        The output root [path].
    """
    if "COINFER_OUTPUT_ROOT" in os.environ and not update_committed:
        return paths.output_root()
    if _is_full_profile(profile_path):
        return paths.PROJECT_ROOT if update_committed or not partial else paths.BUILD_DIR / PARTIAL_ROOT_NAME
    return paths.BUILD_DIR / _profile_label(profile_path)


def choose_output_root(profile_path: Path, output_root: Path | None, *, partial: bool, update_committed: bool) -> Path:
    """The output root of a run; a partial run may write into the committed results only with ``update_committed``.

    Parameters
    ----------
    profile_path : pathlib.Path
        The profile YAML [path].
    output_root : pathlib.Path or None
        The ``--output-root`` given, or None for :func:`default_output_root` [path].
    partial : bool
        Whether only some notebooks run.
    update_committed : bool
        Whether a partial run may write into the committed results.

    Returns
    -------
    pathlib.Path
        The output root [path].

    Raises
    ------
    ParameterError
        If ``update_committed`` is given with another profile than the full one or another output root than the
        project root, or a partial run would write into the committed results without it.
    """
    if update_committed:
        if not _is_full_profile(profile_path):
            raise ParameterError(
                "--update-committed: the committed results are the full profile's; drop --quick/--profile"
            )
        if output_root is not None and Path(output_root).resolve() != paths.PROJECT_ROOT.resolve():
            raise ParameterError("--update-committed writes into the project root; drop --output-root")
    root = output_root if output_root is not None else default_output_root(profile_path, partial, update_committed)
    if partial and not update_committed and Path(root).resolve() == paths.PROJECT_ROOT.resolve():
        raise ParameterError(
            "output root: a partial run (--only, -p) writes into the committed results only with --update-committed "
            "(which also reruns everything downstream); without it, leave the output root to its default "
            f"(build/{PARTIAL_ROOT_NAME})"
        )
    return root


def check_output_root(root: Path) -> Path:
    """The output root as an absolute path (kernels run in ``notebooks/``), existing and writable.

    Parameters
    ----------
    root : pathlib.Path
        The output root, relative or absolute [path]; created if missing.

    Returns
    -------
    pathlib.Path
        ``root`` resolved [path].

    Raises
    ------
    ParameterError
        If it cannot be created or is not writable.
    """
    root = Path(root).resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError(
            f"output root: cannot create {str(root)!r} ({error.strerror or type(error).__name__})"
        ) from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise ParameterError(f"output root: {str(root)!r} is not writable")
    return root


# --------------------------------------------------------------------------- outputs
def write_manifest(root: Path) -> Path:
    """Write ``MANIFEST.sha256`` of every file under ``root/data`` and ``root/figures`` (``sha256sum -c`` format).

    Parameters
    ----------
    root : pathlib.Path
        The output root [path].

    Returns
    -------
    pathlib.Path
        The manifest written [path].
    """
    lines = []
    for sub in MANIFEST_SUBDIRS:
        for file in sorted((root / sub).rglob("*")):
            if file.is_file() and not file.name.startswith("."):
                digest = hashlib.sha256(file.read_bytes()).hexdigest()
                lines.append(f"{digest}  {file.relative_to(root).as_posix()}")
    return paths.write_text(root / MANIFEST_NAME, "\n".join(lines) + "\n")


def staging_dir(output_root: Path) -> Path:
    """Where a run writes before publishing: inside the output root, so publishing is a rename.

    Parameters
    ----------
    output_root : pathlib.Path
        The output root [path].

    Returns
    -------
    pathlib.Path
        The staging folder [path].
    """
    return output_root / STAGING_NAME


def _has_outputs(root: Path) -> bool:
    """``root`` holds the outputs of an earlier run (a file in ``data/``)."""
    data = Path(root) / "data"
    return data.is_dir() and any(p.is_file() for p in data.iterdir())


def prepare_staging(stage: Path, seed: Path | None) -> None:
    """Make a fresh staging folder: a copy of ``seed``'s outputs (a partial run), or empty.

    Parameters
    ----------
    stage : pathlib.Path
        The staging folder; anything there before is removed [path].
    seed : pathlib.Path or None
        The output root whose outputs a partial run starts from, or None [path].

    Returns
    -------
    None
    """
    shutil.rmtree(stage, ignore_errors=True)
    for sub in OUTPUT_SUBDIRS:
        target = stage / sub
        if seed is not None and (seed / sub).is_dir():
            shutil.copytree(seed / sub, target, ignore=shutil.ignore_patterns(STAGING_NAME, ".*"))
        else:
            target.mkdir(parents=True)


def publish_staging(stage: Path, output_root: Path) -> None:
    """Rename the staged outputs (:data:`OUTPUT_SUBDIRS`) over the output root's, then rewrite the manifest.

    Parameters
    ----------
    stage : pathlib.Path
        The staging folder [path].
    output_root : pathlib.Path
        The output root it publishes to [path].

    Returns
    -------
    None
    """
    output_root.mkdir(parents=True, exist_ok=True)
    for sub in OUTPUT_SUBDIRS:
        final, retired = output_root / sub, stage / f"{sub.replace('/', '.')}.previous"
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.replace(final, retired)
        os.replace(stage / sub, final)
        shutil.rmtree(retired, ignore_errors=True)
    write_manifest(output_root)
    shutil.rmtree(stage, ignore_errors=True)


def _digest(path: Path) -> str | None:
    return status.sha256(path) if path.is_file() else None


def _data_digests(root: Path) -> dict[str, str]:
    """``{"data/x.csv": sha256}`` of every file in ``root/data``."""
    data = Path(root) / "data"
    return {f"data/{f.name}": status.sha256(f) for f in sorted(data.glob("*")) if f.is_file()} if data.is_dir() else {}


def changed_inputs(notebook: str, before: dict[str, str], root: Path) -> list[str]:
    """The declared inputs of ``notebook`` whose bytes in ``root`` differ from ``before`` (added and removed too).

    Parameters
    ----------
    notebook : str
        The notebook's name.
    before : dict of str to str
        ``{path under root: SHA-256 hex}`` taken before the notebook ran.
    root : pathlib.Path
        The folder the notebook ran in [path].

    Returns
    -------
    list of str
        The changed input paths, relative to ``root``, sorted.
    """
    return [path for path in sorted(_dependencies.reads_of(notebook)) if before.get(path) != _digest(root / path)]


def _run_record(
    notebook: str, profile: str, root: Path, read: Iterable[str] = (), wrote: Iterable[str] = ()
) -> dict[str, Any]:
    """What the published copy of ``notebook`` records (:mod:`coinfer.pipeline.status`).

    ``profile``; ``reads``: the SHA-256 of every declared input in ``root`` (``None`` for one that does not
    exist), what staleness is judged by; ``read`` and ``wrote``: the files of ``data/`` it actually read (from
    other notebooks) and wrote, from its I/O log, so that any run shows its declaration was right.
    """
    own = _dependencies.writes_of(notebook)
    return {
        "profile": profile,
        "reads": {path: _digest(root / path) for path in sorted(_dependencies.reads_of(notebook))},
        "read": sorted(p for p in set(read) - own if p.startswith(_dependencies.DATA)),
        "wrote": sorted(p for p in set(wrote) if p.startswith(_dependencies.DATA)),
    }


# --------------------------------------------------------------------------- stopping
@contextlib.contextmanager
def stop_children_on_exit() -> Iterator[None]:
    """Within: SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted`; leaving by any exception stops the children.

    Leaving by any exception (Ctrl-C included) stops every process started under this one since entry
    (:func:`coinfer.base.parallel.stop_children`); the caller's earlier children are left alone. Signal handlers
    only in the main thread.

    Yields
    ------
    None
        Control, once; the previous signal handlers are restored on exit.
    """
    import psutil

    previous: dict[int, Any] = {}
    snapshot: list[Any] = []
    # processes the caller already had (an in-process caller's own pools, loky's resource tracker) are not ours
    theirs = {process.pid for process in psutil.Process().children(recursive=True)}

    def handler(signum: int, frame: object) -> None:
        # what runs under us now: once the kernel dies its workers are re-parented and no longer found as children
        snapshot.extend(p for p in psutil.Process().children(recursive=True) if p.pid not in theirs)
        for process in snapshot:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        raise Interrupted(signum)

    if threading.current_thread() is threading.main_thread():
        for number in STOP_SIGNALS:
            previous[number] = signal.signal(number, handler)
    try:
        yield
    except BaseException:
        ours = [p for p in [*snapshot, *psutil.Process().children(recursive=True)] if p.pid not in theirs]
        stop_children(processes=ours)
        raise
    finally:
        for stopped, old in previous.items():
            signal.signal(stopped, old)


# --------------------------------------------------------------------------- execution
@contextlib.contextmanager
def _environment(**variables: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _PeakMemory:
    """Polls the resident memory of this process's children (the kernel) in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak_bytes = 0
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for child in self._process.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self._interval)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _execute_notebook(
    notebook: str,
    parameters: dict[str, Any],
    executed_dir: Path,
    notebooks_dir: Path = paths.NOTEBOOKS_DIR,
    failed_dir: Path | None = None,
) -> NotebookRun:
    """Convert the py:percent source to ``.ipynb`` and execute it with papermill (progress per cell).

    On failure the partly executed copy is also copied into ``failed_dir`` (if
    given), which the error message names, so it survives ``executed_dir``.
    """
    import jupytext
    import papermill
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"  # local sockets: no "running over TCP without encryption" warning
    executed_dir.mkdir(parents=True, exist_ok=True)
    unexecuted = executed_dir / f"{notebook}.source.ipynb"
    executed = executed_dir / f"{notebook}.ipynb"
    jupytext.write(jupytext.read(notebook_source(notebook, notebooks_dir)), unexecuted)
    start = time.perf_counter()
    with _PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(unexecuted),
                str(executed),
                parameters=parameters,
                kernel_name="python3",
                language="python",
                cwd=str(notebooks_dir),
                progress_bar=True,
                config=config,
            )
        except papermill.PapermillExecutionError as error:
            kept = executed
            if failed_dir is not None:
                failed_dir.mkdir(parents=True, exist_ok=True)
                kept = Path(shutil.copyfile(executed, failed_dir / executed.name))
            root = paths.PROJECT_ROOT
            shown = kept.relative_to(root) if kept.is_relative_to(root) else kept
            raise NotebookFailed(
                f"notebook {notebook} failed in cell {error.exec_count}: {error.ename}: "
                f"{str(error.evalue).splitlines()[0] if error.evalue else ''}; "
                f"partly executed copy: {shown}"
            ) from None
    unexecuted.unlink(missing_ok=True)
    return NotebookRun(notebook, time.perf_counter() - start, memory.peak_bytes / 2**20)


def parse_parameters(pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs as ``{name: value}``, each value read as YAML (``-p device cuda``, ``-p seed 3``).

    Parameters
    ----------
    pairs : sequence of sequence of str
        The ``(NAME, VALUE)`` pairs of the command line.

    Returns
    -------
    dict of str to object
        ``{name: value}``, each value in the unit the notebook's schema states.

    Raises
    ------
    ParameterError
        If a value is not valid YAML.
    """
    import yaml

    parsed = {}
    for name, text in pairs:
        try:
            parsed[name] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ParameterError(f"-p {name}: got {text!r}; expected a YAML value") from None
    return parsed


def with_parameters(
    settings: dict[str, dict[str, Any]], selected: Sequence[str], parameters: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """``settings`` with each of ``parameters`` set in every selected notebook whose schema declares it.

    A name that no selected notebook declares is an error, so a misspelt ``-p`` never runs silently ignored.

    Parameters
    ----------
    settings : dict of str to dict
        ``{notebook: {parameter: value}}`` of the profile.
    selected : sequence of str
        The notebooks that run.
    parameters : mapping of str to object
        ``{parameter: value}`` from the command line (:func:`parse_parameters`), in the schemas' units.

    Returns
    -------
    dict of str to dict
        A new ``{notebook: {parameter: value}}``.

    Raises
    ------
    ParameterError
        If no selected notebook declares one of ``parameters``.
    """
    merged = {notebook: dict(values) for notebook, values in settings.items()}
    for name, value in parameters.items():
        targets = [nb for nb in selected if name in SCHEMAS[nb]]
        if not targets:
            raise ParameterError(f"-p {name}: no selected notebook has this parameter; selected: {list(selected)}")
        for notebook in targets:
            merged.setdefault(notebook, {})[name] = validate(notebook, {name: value})[name]
    return merged


def _rerun_parameters(notebook: str, root: Path, settings: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """A downstream notebook reruns with the parameters it last ran with in ``root``; the profile's if unreadable."""
    recorded = status.read_parameters(root, notebook)
    if recorded is not None:
        with contextlib.suppress(ParameterError):
            return validate(notebook, recorded, partial=False)
    return dict(settings.get(notebook, {}))


def _shown(path: Path) -> str:
    resolved = Path(path).resolve()
    project = paths.PROJECT_ROOT.resolve()
    if resolved == project:
        return "the project root (the committed results)"
    return resolved.relative_to(project).as_posix() if resolved.is_relative_to(project) else str(path)


def run(
    profile: str = "full",
    only: Sequence[str] = (),
    output_root: Path | None = None,
    notebooks_dir: Path = paths.NOTEBOOKS_DIR,
    parameters: Mapping[str, Any] | None = None,
    *,
    update_committed: bool = False,
    build_report: bool = True,
) -> list[NotebookRun]:
    """Validate everything, execute the selected notebooks and their readers into staging, publish on success.

    Parameters
    ----------
    profile : str
        ``quick``, ``full`` or a profile YAML file.
    only : sequence of str
        Run only these notebooks (and, afterwards, every notebook downstream of a file they changed).
    output_root : Path, optional
        Folder receiving ``data/``, ``figures/`` and ``notebooks/executed/`` (default: :func:`default_output_root`).
    notebooks_dir : Path
        Folder of the notebooks' py:percent sources.
    parameters : mapping, optional
        The command line's ``-p NAME VALUE``: set in every selected notebook that declares them, over the profile
        (:func:`with_parameters`).
    update_committed : bool
        Let a partial run (``only`` or ``parameters``) of the full profile write into the committed results.
    build_report : bool
        Rebuild the documentation site (:mod:`coinfer.pipeline.site`) after publishing.

    Returns
    -------
    list of NotebookRun
        Wall time and peak memory of each executed notebook, in run order.
    """
    profile_path = _resolve_profile(profile)
    notebooks_dir = Path(notebooks_dir)
    settings = load_profile(profile_path)
    require_known("notebook", only, NOTEBOOKS)
    selected = [nb for nb in NOTEBOOKS if not only or nb in only]
    overrides = dict(parameters or {})
    settings = with_parameters(settings, selected, overrides)
    partial = bool(only) or bool(overrides)
    label = _profile_label(profile_path)
    root = check_output_root(
        choose_output_root(profile_path, output_root, partial=partial, update_committed=update_committed)
    )
    seed: Path | None = None
    if partial and _has_outputs(root):
        seed = root
    elif partial and _is_full_profile(profile_path) and _has_outputs(paths.PROJECT_ROOT):
        seed = paths.PROJECT_ROOT  # a new partial root starts from the committed results
    # notebooks that may have to rerun: readers of what the selected ones write that have run in the seed
    readers = [nb for nb in _dependencies.readers_closure(selected) if seed and status.read_parameters(seed, nb)]
    candidates = _dependencies.in_run_order([*selected, *readers])
    for notebook in candidates:
        check_notebook(notebook, notebooks_dir, settings.get(notebook))
    print(
        f"== {label} profile into {_shown(root)}"
        + (f", starting from {'its previous outputs' if seed == root else _shown(seed)}" if seed else "")
        + (f"; selected: {', '.join(selected)}" if only else ""),
        flush=True,
    )
    stage = staging_dir(root)
    raw_dir = stage / "papermill"  # raw papermill copies, private to this output root
    logs = stage / "io"
    failed_dir = paths.BUILD_DIR / "executed" / label  # where a failing notebook's copy is kept
    runs: list[NotebookRun] = []
    records: dict[str, dict[str, Any]] = {}
    try:
        with stop_children_on_exit():
            prepare_staging(stage, seed)
            logs.mkdir(parents=True)
            before = _data_digests(stage)
            with _environment(COINFER_OUTPUT_ROOT=str(stage), **_kernel_environment()):  # inherited by each kernel
                for notebook in candidates:
                    values = settings.get(notebook, {})
                    reason = ""
                    if notebook not in selected:
                        changed = changed_inputs(notebook, before, stage)
                        if not changed or status.read_parameters(stage, notebook) is None:
                            continue  # nothing it reads changed, or it never ran here: nothing to bring up to date
                        values = _rerun_parameters(notebook, stage, settings)
                        shown = ", ".join(p.removeprefix("data/") for p in changed[:3])
                        reason = f", downstream: {shown}{' ...' if len(changed) > 3 else ''} changed"
                    print(f"== {notebook} ({label} profile{reason})", flush=True)
                    log = logs / f"{notebook}.log"
                    with _environment(**{paths.IO_LOG_ENV: str(log)}):
                        result = _execute_notebook(notebook, values, raw_dir, notebooks_dir, failed_dir)
                    read, wrote = _dependencies.read_log(log)
                    problems = _dependencies.check_io(notebook, read, wrote)
                    if problems:
                        raise _dependencies.DeclarationError(
                            "; ".join(problems) + " (nothing was published; fix the declaration in "
                            "lib/coinfer/base/notebooks.py)"
                        )
                    records[notebook] = _run_record(notebook, label, stage, read, wrote)
                    print(
                        f"   {notebook}: {result.seconds:.1f} s, peak memory {result.peak_rss_mib:.0f} MiB", flush=True
                    )
                    runs.append(result)
            publish.publish_executed(
                raw_dir, list(records), root, extra_roots=[stage], target_dir=stage / publish.EXECUTED_SUBDIR,
                records=records,
            )  # fmt: skip
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # the output root's outputs stay as they were
        raise
    publish_staging(stage, root)
    write_timings(runs, label)
    for line in status.root_status(root).lines():
        print(f"   {line}", flush=True)
    if build_report:
        try:
            print(f"   site: {site.build_site(root)}", flush=True)
        except site.SiteBuildError as error:  # the results are published and consistent; only their site failed
            raise site.SiteBuildError(
                f"{error}\nThe run's outputs are published in {root}; only the site failed "
                f"(rebuild it with: python -m coinfer site {root})"
            ) from None
    return runs


def write_timings(runs: Sequence[NotebookRun], profile: str) -> Path:
    """Write per-notebook wall time and peak memory to ``build/logs`` (not ``data/``: timings vary).

    Parameters
    ----------
    runs : sequence of NotebookRun
        The notebooks run, each with its wall time [s] and peak resident memory [MiB].
    profile : str
        The profile's name, for the file name ``timings-<profile>.csv``.

    Returns
    -------
    pathlib.Path
        The CSV written, with a ``total`` row [path].
    """
    lines = ["notebook,seconds,peak_rss_mib"] + [f"{r.notebook},{r.seconds:.1f},{r.peak_rss_mib:.0f}" for r in runs]
    lines.append(f"total,{sum(r.seconds for r in runs):.1f},{max((r.peak_rss_mib for r in runs), default=0):.0f}")
    return paths.write_text(paths.BUILD_DIR / "logs" / f"timings-{profile}.csv", "\n".join(lines) + "\n")
