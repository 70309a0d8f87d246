"""Clean copies of executed notebooks, readable without running anything.

Papermill's executed notebook holds things a reader does not need and that
change on every run: timestamps and durations, random cell ids, absolute paths
of the machine that ran it, text progress-bar fragments on stderr, and the
full-resolution figure PNGs (about 5 MB for notebook 11). :func:`clean`
removes or normalises all of them; :func:`write_notebook` writes with fixed
JSON formatting, so that a rerun with the same versions gives the same bytes
wherever the content is the same.

The runner (:mod:`coinfer.pipeline.runner`) publishes every executed notebook of a
successful run with :func:`publish_executed` to
``<output root>/notebooks/executed/<name>.ipynb``: for the full profile, whose
output root is the project root, that is the committed
``notebooks/executed/``.

Notebook 06 prints solver timings, so the executed copies are not byte-stable
as a set and stay out of ``MANIFEST.sha256``.
"""

from __future__ import annotations

import base64
import copy
import io
import os
import re
import sys
import sysconfig
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from coinfer.base import paths

#: Where published notebooks live, relative to an output root.
EXECUTED_SUBDIR = Path("notebooks") / "executed"
#: Metadata key of the run record (:data:`coinfer.pipeline.status.RECORD_KEY`).
RECORD_KEY = "coinfer"

#: Inline figures wider than this are scaled down (the saved ``figures/*.png`` keep their size).
MAX_IMAGE_WIDTH = 1000

#: One tqdm text bar: ``desc: 40%|####  | 2/5 [00:01<00:01, 1.9it/s]``, or without a total
#: ``desc: 5it [00:01, 4.9it/s]``.
PROGRESS_BAR = re.compile(
    r"[^\r\n|]*?\d{1,3}%\|[^|\r\n]*\|[^\[\r\n]*\[[^\]\r\n]*\]"
    r"|[^\r\n]*?\d+(?:\.\d+)?[kMGT]?it \[[^\]\r\n]*(?:it/s|s/it)\]"
)

#: Terminal control sequences (nested bars move the cursor up with ``ESC[A``).
ANSI_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: Warnings that say something about the kernel's set-up, not about the results (with their source line).
NOISE_WARNINGS = re.compile(r"TqdmWarning: IProgress not found|Kernel is running over TCP without encryption")

#: Per-cell and per-notebook papermill fields that hold times.
TIME_FIELDS = ("start_time", "end_time", "duration")


def clean_stderr(text: str) -> str:
    """``text`` without progress-bar fragments, terminal controls, carriage returns, noise warnings, blank lines.

    A warning line matched by :data:`NOISE_WARNINGS` is dropped together with the indented source line Python prints
    under it.

    Parameters
    ----------
    text : str
        A stderr stream of an executed notebook.

    Returns
    -------
    str
        The cleaned text: ``""`` or ending with a newline.
    """
    text = ANSI_CONTROL.sub("", PROGRESS_BAR.sub("", text)).replace("\r", "\n")
    kept: list[str] = []
    skip_source_line = False
    for line in text.split("\n"):
        if skip_source_line and line.startswith((" ", "\t")):
            skip_source_line = False
            continue
        skip_source_line = False
        if NOISE_WARNINGS.search(line):
            skip_source_line = True
            continue
        if line.strip():
            kept.append(line)
    return "".join(f"{line}\n" for line in kept)


def default_replacements(*roots: Path) -> list[tuple[str, str]]:
    """Absolute prefixes and what stands for them, longest first.

    Each of ``roots`` (output root, staging folder, project root...) becomes ``.``; the Python installation becomes
    ``<site-packages>``, ``<stdlib>`` or ``<python>``; the home folder becomes ``~``.

    Parameters
    ----------
    *roots : pathlib.Path
        Folders shown as ``.`` [path].

    Returns
    -------
    list of tuple of str
        ``(absolute prefix, replacement)`` pairs, the longest prefix first.
    """
    pairs: dict[str, str] = {}
    for name in ("purelib", "platlib"):
        pairs[sysconfig.get_paths()[name]] = "<site-packages>"
    pairs[sysconfig.get_paths()["stdlib"]] = "<stdlib>"
    pairs[sys.prefix] = "<python>"
    pairs[sys.base_prefix] = "<python>"
    for root in roots:
        for form in {str(root), str(Path(root).resolve())}:
            pairs[form] = "."
    home = os.path.expanduser("~")
    if home not in ("", "/", "~"):
        pairs[home] = "~"
    return sorted(((k, v) for k, v in pairs.items() if len(k) > 1), key=lambda kv: len(kv[0]), reverse=True)


def _replace_paths(text: str, replacements: Sequence[tuple[str, str]]) -> str:
    """``text`` with every absolute prefix in ``replacements`` (longest first) replaced."""
    for prefix, short in replacements:
        text = text.replace(prefix, short)
    return text


def _replace_in(value: Any, replacements: Sequence[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return _replace_paths(value, replacements)
    if isinstance(value, list):
        return [_replace_in(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replace_in(item, replacements) for key, item in value.items()}
    return value


def _shrink_png(data: str, max_width: int = MAX_IMAGE_WIDTH) -> str:
    """A base64 PNG scaled to at most ``max_width`` pixels wide and reduced to a 256-colour palette.

    Deterministic (same input, same bytes); returns ``data`` unchanged if the
    result would not be smaller.
    """
    from PIL import Image

    raw = base64.b64decode(data)
    opened = Image.open(io.BytesIO(raw))
    opened.load()
    image: Image.Image
    if opened.mode in ("RGBA", "LA", "P"):
        rgba = opened.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    else:
        image = opened.convert("RGB")
    if image.width > max_width:
        image = image.resize(
            (max_width, max(1, round(image.height * max_width / image.width))), Image.Resampling.LANCZOS
        )
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    return base64.b64encode(smaller).decode("ascii") if len(smaller) < len(raw) else data


def _clean_outputs(outputs: Iterable[dict[str, Any]], replacements: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for output in outputs:  # consecutive stream outputs of one name become one, as a terminal shows them
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = _text(previous["text"]) + _text(output["text"])
        else:
            merged.append(dict(output))
    cleaned = []
    for output in merged:
        kind = output.get("output_type")
        if kind == "stream":
            text = _text(output["text"])
            if output.get("name") == "stderr":
                text = clean_stderr(text)
            if not text:
                continue
            output["text"] = _replace_paths(text, replacements)
        elif kind in ("display_data", "execute_result"):
            data = dict(output.get("data", {}))
            for mime, value in data.items():
                if mime == "image/png":
                    data[mime] = _shrink_png(_text(value).replace("\n", ""))
                elif not mime.startswith("image/"):
                    data[mime] = _replace_in(value, replacements)
            output["data"] = data
        elif kind == "error":
            output["traceback"] = _replace_in(output.get("traceback", []), replacements)
            output["evalue"] = _replace_in(output.get("evalue", ""), replacements)
        cleaned.append(output)
    return cleaned


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def clean(
    nb: Mapping[str, Any],
    replacements: Sequence[tuple[str, str]] = (),
    *,
    input_path: str | None = None,
    output_path: str | None = None,
) -> dict[str, Any]:
    """A cleaned deep copy of the executed notebook ``nb`` (a dict or ``NotebookNode``).

    - stderr streams lose progress-bar fragments and kernel set-up warnings (:func:`clean_stderr`); consecutive
      stream outputs are merged;
    - every absolute prefix in ``replacements`` is replaced in outputs and metadata (see
      :func:`default_replacements`);
    - papermill's ``start_time``/``end_time``/``duration`` (notebook and cells) and nbclient's per-cell
      ``execution`` timestamps are removed; ``input_path``/``output_path`` are set to the given relative paths;
    - cell ids become ``cell-<index>`` (nbformat draws random ones);
    - inline PNGs are shrunk with :func:`_shrink_png`.

    Parameters
    ----------
    nb : mapping
        The executed notebook (nbformat 4), not changed.
    replacements : sequence of tuple of str, optional
        ``(absolute prefix, replacement)`` pairs, applied in order.
    input_path, output_path : str, optional
        The relative paths papermill's metadata should record [path]; default left as they are.

    Returns
    -------
    dict of str to object
        The cleaned notebook.
    """
    import nbformat

    out = copy.deepcopy(dict(nb))
    metadata = _replace_in(dict(out.get("metadata", {})), replacements)
    papermill = {k: v for k, v in dict(metadata.get("papermill", {})).items() if k not in TIME_FIELDS}
    if papermill:
        if input_path is not None:
            papermill["input_path"] = input_path
        if output_path is not None:
            papermill["output_path"] = output_path
        metadata["papermill"] = papermill
    out["metadata"] = metadata
    cells = []
    for index, cell in enumerate(out.get("cells", [])):
        cell = dict(cell)
        cell_metadata = {k: v for k, v in dict(cell.get("metadata", {})).items() if k != "execution"}
        if "papermill" in cell_metadata:
            cell_metadata["papermill"] = {
                k: v for k, v in dict(cell_metadata["papermill"]).items() if k not in TIME_FIELDS
            }
        cell["metadata"] = cell_metadata
        if "id" in cell or (out.get("nbformat", 4), out.get("nbformat_minor", 0)) >= (4, 5):
            cell["id"] = f"cell-{index}"
        if cell.get("cell_type") == "code":
            cell["outputs"] = _clean_outputs(cell.get("outputs", []), replacements)
        cells.append(cell)
    out["cells"] = cells
    return dict(nbformat.from_dict(out))


def write_notebook(nb: Mapping[str, Any], target: Path) -> Path:
    """Write ``nb`` atomically with nbformat's fixed formatting (sorted keys, indent 1, trailing newline).

    Parameters
    ----------
    nb : mapping
        The notebook (nbformat 4).
    target : pathlib.Path
        The ``.ipynb`` file to write [path].

    Returns
    -------
    pathlib.Path
        ``target`` [path].
    """
    import nbformat

    text = nbformat.writes(nbformat.from_dict(dict(nb)), version=4)
    return paths.write_text(target, text if text.endswith("\n") else text + "\n")


def _publish_notebook(
    executed: Path,
    target: Path,
    output_root: Path,
    replacements: Sequence[tuple[str, str]] = (),
    record: Mapping[str, Any] | None = None,
) -> Path:
    """Clean the papermill output ``executed`` and write it to ``target`` (inside ``output_root``).

    ``record`` (the runner's run record: profile and hashes of the inputs, :mod:`coinfer.pipeline.status`)
    goes into the notebook's metadata under ``coinfer``.
    """
    import nbformat

    name = Path(executed).stem
    nb = nbformat.read(executed, as_version=4)
    shown_output = EXECUTED_SUBDIR.joinpath(Path(target).name).as_posix()
    cleaned = clean(
        nb,
        replacements or default_replacements(output_root, paths.PROJECT_ROOT),
        input_path=f"notebooks/{name}.py",
        output_path=shown_output,
    )
    if record is not None:
        cleaned["metadata"] = {**cleaned["metadata"], RECORD_KEY: dict(record)}
    return write_notebook(cleaned, target)


def executed_dir(output_root: Path) -> Path:
    """Where the published notebooks of ``output_root`` live.

    Parameters
    ----------
    output_root : pathlib.Path
        The output root of a run [path].

    Returns
    -------
    pathlib.Path
        Its folder of published executed notebooks [path].
    """
    return Path(output_root) / EXECUTED_SUBDIR


def publish_executed(
    source_dir: Path,
    notebooks: Sequence[str],
    output_root: Path,
    extra_roots: Sequence[Path] = (),
    target_dir: Path | None = None,
    records: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Publish ``<source_dir>/<name>.ipynb`` for each of ``notebooks`` to ``target_dir``, cleaned (:func:`clean`).

    Notebooks not in ``notebooks`` keep their previous copies.

    Parameters
    ----------
    source_dir : pathlib.Path
        Folder of the raw executed notebooks papermill wrote [path].
    notebooks : sequence of str
        The notebooks to publish (``"06_joint_optimisation"`` ...).
    output_root : pathlib.Path
        The run's output root, shown as ``.`` in the published copies [path].
    extra_roots : sequence of pathlib.Path, optional
        Other folders shown as ``.`` too (the staging folder the kernels wrote to) [path].
    target_dir : pathlib.Path, optional
        Where to publish [path]; default :func:`executed_dir` of ``output_root`` (the runner passes its staging copy
        of it).
    records : mapping of str to mapping, optional
        The run record of each notebook (profile and hashes of its inputs, :mod:`coinfer.pipeline.status`), stored in
        its metadata.

    Returns
    -------
    list of pathlib.Path
        The published files [path].
    """
    replacements = default_replacements(*extra_roots, output_root, paths.PROJECT_ROOT)
    folder = Path(target_dir) if target_dir is not None else executed_dir(output_root)
    return [
        _publish_notebook(
            Path(source_dir) / f"{name}.ipynb",
            folder / f"{name}.ipynb",
            output_root,
            replacements,
            (records or {}).get(name),
        )
        for name in notebooks
    ]
