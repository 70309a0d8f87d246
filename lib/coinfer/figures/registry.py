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
    """Decorator adding a plotting function to :data:`FIGURES`.

    The registry is kept in notebook order whatever order the subject modules are imported in.

    Parameters
    ----------
    name : str
        The figure's name (its files are ``figures/<name>.pdf`` and ``.png``).
    data : sequence of str
        The files in ``data/`` the plotting function reads.
    notebook : str
        The notebook whose recorded parameters the caption states (one of :data:`coinfer.base.notebooks.NOTEBOOKS`).
    claim : str
        The model.md section 1 claim the figure supports (``"C1"`` ...), or ``""``.
    description : str
        One line for the registry table and the claim displays.

    Returns
    -------
    callable
        The decorator; it returns the plotting function unchanged.

    Raises
    ------
    ValueError
        For an unknown notebook, or (when the decorator is applied) a name registered twice.
    """
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
    """Name of the file in ``data/`` holding ``notebook``'s validated parameters.

    Parameters
    ----------
    notebook : str
        A notebook name, e.g. ``"06_joint_optimisation"``.

    Returns
    -------
    str
        ``parameters_<notebook>.json`` (written by :func:`coinfer.pipeline.record`).
    """
    return f"parameters_{notebook}.json"


def load_parameters(notebook: str) -> dict[str, Any]:
    """The recorded parameters of ``notebook``, in the order of its schema.

    Parameters
    ----------
    notebook : str
        A notebook name of :data:`coinfer.base.notebooks.SCHEMAS`.

    Returns
    -------
    dict
        Parameter name -> value as recorded (units of the notebook's schema); names outside the schema last,
        sorted.

    Raises
    ------
    FileNotFoundError
        If the notebook has not recorded its parameters under the current output root.
    """
    path = paths.data_dir() / parameters_file(notebook)
    if not path.exists():
        raise FileNotFoundError(f"data/{path.name} does not exist; run notebook {notebook} first (see README)")
    stored = paths.read_json(path.name)
    order = list(SCHEMAS[notebook])
    return {key: stored[key] for key in sorted(stored, key=lambda k: (order.index(k) if k in order else len(order), k))}


def spec_of(name: str) -> FigureSpec:
    """The registered figure ``name``; a clear error for an unknown name.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.

    Returns
    -------
    FigureSpec
        Its plotting function, data files, notebook, claim and description.

    Raises
    ------
    KeyError
        If ``name`` is not registered (the message lists the known names).
    """
    if name not in FIGURES:
        raise KeyError(f"figure {name!r} is not registered in coinfer.figures; known: {', '.join(FIGURES)}")
    return FIGURES[name]


def load_tables(name: str) -> dict[str, pd.DataFrame]:
    """The data files figure ``name`` reads, as written to ``data/``.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.

    Returns
    -------
    dict
        File name -> its table (:func:`coinfer.base.paths.read_csv`).
    """
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

    Returns
    -------
    str
        The folder, ending in ``/``.
    """
    root = Path(os.path.normpath(paths.output_root()))
    if root.name == STAGING_NAME:
        root = root.parent
    project = Path(os.path.normpath(paths.PROJECT_ROOT))
    if not root.is_relative_to(project):
        return "<output root>/data/"
    return (root.relative_to(project) / "data").as_posix() + "/"


def caption(name: str, params: Mapping[str, Any]) -> str:
    """The caption footer of a figure: its notebook's parameters and its data files under the output root.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.
    params : mapping of str to object
        The notebook's parameters (:func:`load_parameters`).

    Returns
    -------
    str
        ``"<notebook> parameters: ... Data: <folder>/<file>, ..."``.
    """
    spec = spec_of(name)
    folder = data_location()
    return (
        f"{spec.notebook} parameters: {style.format_params(params) or 'none'}. "
        f"Data: {', '.join(folder + f for f in spec.data)}."
    )


def render(name: str) -> Figure:
    """Draw figure ``name`` from ``data/`` (tables and recorded parameters), unsaved.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure in the artifact's style, without its caption footer.
    """
    spec = spec_of(name)
    style.set_style()  # the same style whoever calls, whatever ran before
    params = load_parameters(spec.notebook)
    return style.declutter(spec.plot(load_tables(name), params))


def save(name: str) -> list[Path]:
    """Draw figure ``name`` from ``data/`` and save ``figures/<name>.pdf`` and ``.png``.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.

    Returns
    -------
    list of pathlib.Path
        The PDF and PNG written (atomically, with the :func:`caption` footer).
    """
    fig = render(name)
    return style.save_figure(fig, name, caption(name, load_parameters(spec_of(name).notebook)))


def display_saved(name: str) -> None:
    """Show ``figures/<name>.png`` in a notebook: exactly the saved file, whatever the backend.

    Parameters
    ----------
    name : str
        A figure name whose PNG exists under the output root.

    Returns
    -------
    None
        The image is displayed (IPython).
    """
    from IPython.display import Image, display

    display(Image(data=(paths.figures_dir() / f"{name}.png").read_bytes()))


def show(name: str) -> None:
    """Save figure ``name`` (see :func:`save`) and display it: what a computing notebook calls.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.

    Returns
    -------
    None
        The files are written and the PNG displayed.
    """
    save(name)
    display_saved(name)


def figures_of(notebooks: Iterable[str] | None = None) -> list[FigureSpec]:
    """Registered figures of the given notebooks (all when ``None``), in notebook order.

    Parameters
    ----------
    notebooks : iterable of str, optional
        Notebook names; None for all.

    Returns
    -------
    list of FigureSpec
        The figures, in notebook order, then registration order.

    Raises
    ------
    ValueError
        For an unknown notebook name.
    """
    wanted = list(NOTEBOOKS) if notebooks is None else list(notebooks)
    unknown = sorted(set(wanted) - set(NOTEBOOKS))
    if unknown:
        raise ValueError(f"unknown notebook {unknown[0]!r}")
    return [spec for nb in NOTEBOOKS if nb in wanted for spec in FIGURES.values() if spec.notebook == nb]


def missing_inputs(name: str) -> list[str]:
    """Files in ``data/`` that figure ``name`` needs and that do not exist.

    Parameters
    ----------
    name : str
        A figure name of :data:`FIGURES`.

    Returns
    -------
    list of str
        Its data files and its notebook's parameters file that are absent under the current output root.
    """
    spec = spec_of(name)
    needed = [*spec.data, parameters_file(spec.notebook)]
    return [file for file in needed if not (paths.data_dir() / file).exists()]


def regenerate_all(notebooks: Iterable[str] | None = None, *, skip_missing: bool = False) -> list[Path]:
    """Redraw and save every registered figure (of ``notebooks``) from ``data/``.

    A figure whose data files are missing raises ``FileNotFoundError`` naming
    them, or is skipped with ``skip_missing``.

    Parameters
    ----------
    notebooks : iterable of str, optional
        Notebook names; None for all.
    skip_missing : bool, default False
        Whether a figure with missing inputs is skipped rather than an error.

    Returns
    -------
    list of pathlib.Path
        Every file written (a PDF and a PNG per figure).

    Raises
    ------
    FileNotFoundError
        For the first figure with a missing input, unless ``skip_missing``.
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
    """:data:`FIGURES` as a table: figure, claim, notebook, data files, description.

    Returns
    -------
    pandas.DataFrame
        One row per registered figure, in notebook order; ``claim`` is ``"-"`` for none.
    """
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
    """A measured value (number, string or nested mapping) in one line of text.

    Parameters
    ----------
    value : object
        A mapping (``key: value; ...``), list or tuple (``[...]``), float (4 significant digits) or anything else
        (``str``).

    Returns
    -------
    str
        The one line.
    """
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

    Parameters
    ----------
    claim : str
        The claim's id, or ``""``.
    verdicts : mapping, optional
        Claim id -> its claim dictionary (``claims.json``); the verdict is shown only when ``claim`` is in it.

    Returns
    -------
    None
        The verdict (Markdown) and each of the claim's figures whose PNG exists are displayed.
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
    """The figure as PNG bytes (for tests and previews; saving goes through :func:`save`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    bytes
        Its PNG encoding at the current ``savefig`` settings.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# --------------------------------------------------------------------------- table helpers shared by the subjects
def in_order(values: Iterable[Any]) -> list[Any]:
    """Distinct values in order of first appearance (the order the notebook wrote them).

    Parameters
    ----------
    values : iterable
        A column's values; float NaNs are dropped.

    Returns
    -------
    list
        The distinct values.
    """
    return list(dict.fromkeys(v for v in values if not (isinstance(v, float) and np.isnan(v))))
