"""The figure registry: what draws each figure, from which data, and how it is saved and shown.

:data:`FIGURES` maps a figure name to its :class:`FigureSpec`: the plotting
function ``plot(tables, params) -> Figure``, the data files it reads (names as
in ``data/``), the notebook whose parameters its caption states, and the claim
of model.md section 1 it supports. Subject modules (one per computing notebook)
add their figures with :func:`register`; this module imports none of them, so
there is no import cycle (:mod:`coinfer.figures` imports them all so their
registrations run).

Everything else here reads a figure's inputs back from ``data/``, draws it
(:func:`render`), writes it with its caption footer (:func:`save`) and shows it
in a notebook (:func:`show`, :func:`display_claim`). Style lives in
:mod:`coinfer.figures.style`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.base.paths import STAGING_NAME
from coinfer.figures import style

PlotFunction = Callable[[Mapping[str, pd.DataFrame], Mapping[str, Any]], Figure]


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure: what draws it, from which data, with whose parameters."""

    name: str
    plot: PlotFunction
    data: tuple[str, ...]
    notebook: str
    claim: str
    description: str


#: name -> :class:`FigureSpec`, in notebook order.
FIGURES: dict[str, FigureSpec] = {}


def register(
    name: str, *, data: Sequence[str], notebook: str, claim: str, description: str
) -> Callable[[PlotFunction], PlotFunction]:
    """Decorator adding a plotting function to :data:`FIGURES`."""
    if notebook not in NOTEBOOKS:
        raise ValueError(f"figure {name}: unknown notebook {notebook!r}")

    def add(function: PlotFunction) -> PlotFunction:
        if name in FIGURES:
            raise ValueError(f"figure {name} is registered twice")
        FIGURES[name] = FigureSpec(name, function, tuple(data), notebook, claim, description)
        # keep the registry in notebook order whatever order the subject modules are imported in
        ordered = sorted(FIGURES.values(), key=lambda spec: NOTEBOOKS.index(spec.notebook))
        FIGURES.clear()
        FIGURES.update((spec.name, spec) for spec in ordered)
        return function

    return add


# --------------------------------------------------------------------------- reading and saving
def parameters_file(notebook: str) -> str:
    """Name of the file in ``data/`` holding ``notebook``'s validated parameters."""
    return f"parameters_{notebook}.json"


def load_parameters(notebook: str) -> dict[str, Any]:
    """The recorded parameters of ``notebook``, in the order of its schema."""
    path = paths.data_dir() / parameters_file(notebook)
    if not path.exists():
        raise FileNotFoundError(f"data/{path.name} does not exist; run notebook {notebook} first (see README)")
    stored = paths.read_json(path.name)
    order = list(SCHEMAS[notebook])
    return {key: stored[key] for key in sorted(stored, key=lambda k: (order.index(k) if k in order else len(order), k))}


def spec_of(name: str) -> FigureSpec:
    """The registered figure ``name``; a clear error for an unknown name."""
    if name not in FIGURES:
        raise KeyError(f"figure {name!r} is not registered in coinfer.figures; known: {', '.join(FIGURES)}")
    return FIGURES[name]


def load_tables(name: str) -> dict[str, pd.DataFrame]:
    """The data files figure ``name`` reads, as written to ``data/``."""
    return {file: paths.read_csv(file) for file in spec_of(name).data}


def data_location() -> str:
    """Where the data of the figures came from: ``data/`` of the output root, as text for the footer.

    Relative to the project root (``data/`` for the committed results,
    ``build/quick/data/`` for the quick profile); an output root outside the
    project is shown as ``<output root>/data/``, so that no machine path
    enters a figure and two runs into different folders draw the same
    figures. While :mod:`coinfer.pipeline.runner` executes notebooks into its staging
    folder the published location is named, not the staging folder, which is
    renamed away when the run succeeds.
    """
    root = Path(os.path.normpath(paths.output_root()))
    if root.name == STAGING_NAME:
        root = root.parent
    project = Path(os.path.normpath(paths.PROJECT_ROOT))
    if not root.is_relative_to(project):
        return "<output root>/data/"
    return (root.relative_to(project) / "data").as_posix() + "/"


def caption(name: str, params: Mapping[str, Any]) -> str:
    """The caption footer of a figure: its notebook's parameters and its data files under the output root."""
    spec = spec_of(name)
    folder = data_location()
    return (
        f"{spec.notebook} parameters: {style.format_params(params) or 'none'}. "
        f"Data: {', '.join(folder + f for f in spec.data)}."
    )


def render(name: str) -> Figure:
    """Draw figure ``name`` from ``data/`` (tables and recorded parameters), unsaved."""
    spec = spec_of(name)
    style.set_style()  # the same style whoever calls, whatever ran before
    params = load_parameters(spec.notebook)
    return style.declutter(spec.plot(load_tables(name), params))


def save(name: str) -> list[Path]:
    """Draw figure ``name`` from ``data/`` and save ``figures/<name>.pdf`` and ``.png``."""
    fig = render(name)
    return style.save_figure(fig, name, caption(name, load_parameters(spec_of(name).notebook)))


def display_saved(name: str) -> None:
    """Show ``figures/<name>.png`` in a notebook: exactly the saved file, whatever the backend."""
    from IPython.display import Image, display

    display(Image(data=(paths.figures_dir() / f"{name}.png").read_bytes()))


def show(name: str) -> None:
    """Save figure ``name`` (see :func:`save`) and display it: what a computing notebook calls."""
    save(name)
    display_saved(name)


def figures_of(notebooks: Iterable[str] | None = None) -> list[FigureSpec]:
    """Registered figures of the given notebooks (all when ``None``), in notebook order."""
    wanted = list(NOTEBOOKS) if notebooks is None else list(notebooks)
    unknown = sorted(set(wanted) - set(NOTEBOOKS))
    if unknown:
        raise ValueError(f"unknown notebook {unknown[0]!r}")
    return [spec for nb in NOTEBOOKS if nb in wanted for spec in FIGURES.values() if spec.notebook == nb]


def missing_inputs(name: str) -> list[str]:
    """Files in ``data/`` that figure ``name`` needs and that do not exist."""
    spec = spec_of(name)
    needed = [*spec.data, parameters_file(spec.notebook)]
    return [file for file in needed if not (paths.data_dir() / file).exists()]


def regenerate_all(notebooks: Iterable[str] | None = None, *, skip_missing: bool = False) -> list[Path]:
    """Redraw and save every registered figure (of ``notebooks``) from ``data/``.

    A figure whose data files are missing raises ``FileNotFoundError`` naming
    them, or is skipped with ``skip_missing``.
    """
    written: list[Path] = []
    for spec in figures_of(notebooks):
        missing = missing_inputs(spec.name)
        if missing:
            if skip_missing:
                continue
            raise FileNotFoundError(f"figure {spec.name}: data/{missing[0]} does not exist; run {spec.notebook} first")
        written += save(spec.name)
    return written


def registry_table() -> pd.DataFrame:
    """:data:`FIGURES` as a table: figure, claim, notebook, data files, description."""
    return pd.DataFrame(
        [
            {
                "figure": s.name,
                "claim": s.claim or "-",
                "notebook": s.notebook,
                "data": ", ".join(s.data),
                "description": s.description,
            }
            for s in figures_of()
        ]
    )


def describe(value: Any) -> str:
    """A measured value (number, string or nested mapping) in one line of text."""
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {describe(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def display_claim(claim: str, verdicts: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """In a notebook: the verdict on ``claim`` (from the claims report) and its saved figures.

    ``claim`` is a model.md section 1 id (``"C1"``...) or ``""`` for figures that support no single claim.
    """
    from IPython.display import Markdown, display

    verdict = (verdicts or {}).get(claim)
    if verdict is not None:
        status = f"**{verdict.get('verdict') or ('holds' if verdict.get('holds') else 'does not hold')}**"
        display(
            Markdown(
                f"**{claim}** {status}. Criterion: {verdict.get('criterion', '')}.\n\n"
                f"Measured: {describe(verdict.get('measured', ''))}."
            )
        )
    for spec in figures_of():
        if spec.claim == claim and (paths.figures_dir() / f"{spec.name}.png").exists():
            display(Markdown(f"**`figures/{spec.name}`**: {spec.description} (data from {spec.notebook})."))
            display_saved(spec.name)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for tests and previews; saving goes through :func:`save`)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# --------------------------------------------------------------------------- table helpers shared by the subjects
def in_order(values: Iterable[Any]) -> list[Any]:
    """Distinct values in order of first appearance (the order the notebook wrote them)."""
    return list(dict.fromkeys(v for v in values if not (isinstance(v, float) and np.isnan(v))))
