"""Execute the notebooks in order with papermill (what ``run_all.sh`` calls).

Usage (``run_all.sh`` does this)::

    python -m coinfer run [--profile quick|full|FILE] [--only NOTEBOOK]... [--output-root DIR]

Everything is validated before the first notebook starts: the profile file,
every parameter in it (:mod:`coinfer.pipeline.notebook_params`), that each notebook
exists and that its ``parameters`` cell declares exactly its schema. Bad
input prints one line and exits with code 2.

Outputs are never half-written. The notebooks write into a staging folder
(``<output root>/.coinfer-staging``, via ``COINFER_OUTPUT_ROOT``); only when every
notebook succeeded is the staging ``data/`` and ``figures/`` renamed over the
output root's, and the manifest ``MANIFEST.sha256`` rewritten. A failing
notebook stops the run with its name and the path of its partly executed
copy; ``data/`` and ``figures/`` keep their last good contents, and the next
run starts from a fresh staging folder.

After a successful run each executed notebook is cleaned and published to
``<output root>/notebooks/executed/`` (:mod:`coinfer.pipeline.publish`), and the web
report is rebuilt (:mod:`coinfer.pipeline.site`). Kernels run over IPC (no plain-TCP
warning) with plain-text progress bars (:mod:`coinfer.base.progress`).

The full profile writes to the project root (the committed ``data/`` and
``figures/``); any other profile writes under ``build/<profile>/`` so that a
quick run never overwrites the committed results.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.base.validation import ParameterError, require_known
from coinfer.pipeline import publish, site
from coinfer.pipeline.notebook_params import load_profile, validate

OUTPUT_SUBDIRS = ("data", "figures")
MANIFEST_NAME = "MANIFEST.sha256"
STAGING_NAME = paths.STAGING_NAME
#: Kernel environment: plain-text progress bars (see :mod:`coinfer.base.progress`), no "IProgress not found"
#: warning from libraries (transformers) that import ``tqdm.auto`` themselves, and a fixed hash seed, so that
#: a run gives the same bytes whether ``run_all.sh`` (which exports it too) or a test started it.
KERNEL_ENVIRONMENT = {"COINFER_PLAIN_PROGRESS": "1", "PYTHONHASHSEED": "0"}
KERNEL_WARNING_FILTERS = ("ignore:IProgress not found:Warning",)


def kernel_environment() -> dict[str, str]:
    """:data:`KERNEL_ENVIRONMENT` plus :data:`KERNEL_WARNING_FILTERS` appended to any ``PYTHONWARNINGS``."""
    filters = [f for f in os.environ.get("PYTHONWARNINGS", "").split(",") if f]
    return {**KERNEL_ENVIRONMENT, "PYTHONWARNINGS": ",".join([*filters, *KERNEL_WARNING_FILTERS])}


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names it and its partly executed copy."""


@dataclass(frozen=True)
class NotebookRun:
    """Wall time and peak memory of one executed notebook."""

    notebook: str
    seconds: float
    peak_rss_mib: float


# --------------------------------------------------------------------------- checks
def notebook_source(notebook: str, notebooks_dir: Path = paths.NOTEBOOKS_DIR) -> Path:
    """The jupytext source of ``notebook``; a clear error if it is missing."""
    source = notebooks_dir / f"{notebook}.py"
    if not source.is_file():
        raise ParameterError(f"notebook {notebook!r}: source {source.name} is missing from {notebooks_dir.name}/")
    return source


def declared_parameters(source: Path) -> dict[str, Any]:
    """Names and literal defaults of the ``parameters`` cell of a py:percent notebook."""
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
    """The notebook exists, its parameters cell matches its schema, and its defaults with ``overrides`` are valid."""
    declared = declared_parameters(notebook_source(notebook, notebooks_dir))
    schema = SCHEMAS[notebook]
    if set(declared) != set(schema):
        extra, missing = sorted(set(declared) - set(schema)), sorted(set(schema) - set(declared))
        raise ParameterError(
            f"{notebook}: parameters cell and schema differ "
            f"(undeclared in schema: {extra}; missing from cell: {missing})"
        )
    validate(notebook, {**declared, **(overrides or {})}, partial=False)


def resolve_profile(profile: str) -> Path:
    """``quick``/``full`` name a file in ``params/``; anything else is a path."""
    candidate = paths.PARAMS_DIR / f"{profile}.yaml"
    return candidate if candidate.is_file() else Path(profile)


def profile_label(profile_path: Path) -> str:
    """The profile's name in folder names (``build/<label>``); a safe file-name stem or a clear error."""
    label = profile_path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", label) or ".." in label:
        raise ParameterError(
            f"profile: file name {profile_path.name!r} must start with a letter or digit and use "
            "only letters, digits, '_', '-' and '.'"
        )
    return label


def default_output_root(profile_path: Path) -> Path:
    """``COINFER_OUTPUT_ROOT`` if set; else the project root for the full profile, ``build/<profile>`` otherwise."""
    if "COINFER_OUTPUT_ROOT" in os.environ:
        return paths.output_root()
    if profile_path.resolve() == (paths.PARAMS_DIR / "full.yaml").resolve():
        return paths.PROJECT_ROOT
    return paths.BUILD_DIR / profile_label(profile_path)


def check_output_root(root: Path) -> Path:
    """The output root as an absolute path (kernels run in ``notebooks/``), existing and writable."""
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
    """``MANIFEST.sha256`` of every file under ``root/data`` and ``root/figures`` (``sha256sum -c`` format)."""
    lines = []
    for sub in OUTPUT_SUBDIRS:
        for file in sorted((root / sub).rglob("*")):
            if file.is_file() and not file.name.startswith("."):
                digest = hashlib.sha256(file.read_bytes()).hexdigest()
                lines.append(f"{digest}  {file.relative_to(root).as_posix()}")
    return paths.write_text(root / MANIFEST_NAME, "\n".join(lines) + "\n")


def staging_dir(output_root: Path) -> Path:
    """Where a run writes before publishing: inside the output root, so publishing is a rename."""
    return output_root / STAGING_NAME


def prepare_staging(stage: Path, output_root: Path, keep_existing: bool) -> None:
    """A fresh staging folder; seeded with the current outputs when only some notebooks run."""
    shutil.rmtree(stage, ignore_errors=True)
    for sub in OUTPUT_SUBDIRS:
        target = stage / sub
        if keep_existing and (output_root / sub).is_dir():
            shutil.copytree(output_root / sub, target)
        else:
            target.mkdir(parents=True)


def publish_staging(stage: Path, output_root: Path) -> None:
    """Rename the staged ``data/`` and ``figures/`` over the output root's, then rewrite the manifest."""
    output_root.mkdir(parents=True, exist_ok=True)
    for sub in OUTPUT_SUBDIRS:
        final, retired = output_root / sub, stage / f"{sub}.previous"
        if final.exists():
            os.replace(final, retired)
        os.replace(stage / sub, final)
        shutil.rmtree(retired, ignore_errors=True)
    write_manifest(output_root)
    shutil.rmtree(stage, ignore_errors=True)


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


def execute_notebook(
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
    """``-p NAME VALUE`` pairs as ``{name: value}``, each value read as YAML (``-p device cuda``, ``-p seed 3``)."""
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
    """
    merged = {notebook: dict(values) for notebook, values in settings.items()}
    for name, value in parameters.items():
        targets = [nb for nb in selected if name in SCHEMAS[nb]]
        if not targets:
            raise ParameterError(f"-p {name}: no selected notebook has this parameter; selected: {list(selected)}")
        for notebook in targets:
            merged.setdefault(notebook, {})[name] = validate(notebook, {name: value})[name]
    return merged


def run(
    profile: str = "full",
    only: Sequence[str] = (),
    output_root: Path | None = None,
    notebooks_dir: Path = paths.NOTEBOOKS_DIR,
    parameters: Mapping[str, Any] | None = None,
) -> list[NotebookRun]:
    """Validate everything, execute the selected notebooks into staging, publish on success.

    ``parameters`` (the command line's ``-p NAME VALUE``) override the profile in every selected
    notebook that declares them (:func:`with_parameters`).
    """
    profile_path = resolve_profile(profile)
    settings = load_profile(profile_path)
    require_known("notebook", only, NOTEBOOKS)
    selected = [nb for nb in NOTEBOOKS if not only or nb in only]
    settings = with_parameters(settings, selected, parameters or {})
    for notebook in selected:
        check_notebook(notebook, notebooks_dir, settings.get(notebook))
    label = profile_label(profile_path)
    root = check_output_root(Path(output_root) if output_root is not None else default_output_root(profile_path))
    stage = staging_dir(root)
    executed_dir = stage / "executed"  # raw papermill copies, private to this output root
    failed_dir = paths.BUILD_DIR / "executed" / label  # where a failing notebook's copy is kept
    prepare_staging(stage, root, keep_existing=bool(only))
    runs = []
    try:
        with _environment(COINFER_OUTPUT_ROOT=str(stage), **kernel_environment()):  # inherited by each kernel
            for notebook in selected:
                print(f"== {notebook} ({label} profile)", flush=True)
                result = execute_notebook(notebook, settings.get(notebook, {}), executed_dir, notebooks_dir, failed_dir)
                print(f"   {notebook}: {result.seconds:.1f} s, peak memory {result.peak_rss_mib:.0f} MiB", flush=True)
                runs.append(result)
        publish.publish_executed(executed_dir, selected, root, extra_roots=[stage])
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # the output root's data/ and figures/ stay as they were
        raise
    publish_staging(stage, root)
    write_timings(runs, label)
    print(f"   report: {site.build_site(root)}", flush=True)
    return runs


def write_timings(runs: Sequence[NotebookRun], profile: str) -> Path:
    """Per-notebook wall time and peak memory, in ``build/logs`` (not ``data/``: timings vary)."""
    lines = ["notebook,seconds,peak_rss_mib"] + [f"{r.notebook},{r.seconds:.1f},{r.peak_rss_mib:.0f}" for r in runs]
    lines.append(f"total,{sum(r.seconds for r in runs):.1f},{max((r.peak_rss_mib for r in runs), default=0):.0f}")
    return paths.write_text(paths.BUILD_DIR / "logs" / f"timings-{profile}.csv", "\n".join(lines) + "\n")
