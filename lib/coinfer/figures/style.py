"""The artifact's figure style and atomic, reproducible figure output.

Every figure is saved as PDF and PNG under ``figures/`` with its parameters
stated in a caption line at the bottom, and with metadata stripped of dates so
that the same data gives the same bytes.

This module is the one place for style: the seaborn theme (:func:`set_style`),
the fixed colours and markers of schemes, models and bit widths, shared axis
labels, and the figure and legend helpers every figure of
:mod:`coinfer.figures` uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless; notebooks display the returned figure themselves
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.transforms import ScaledTranslation

from coinfer.base.paths import atomic_path, figures_dir

#: Colours of the schemes in every optimisation figure, so they match across figures.
PALETTE = "colorblind"
_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}


def set_style() -> None:
    """Apply the one seaborn style used by every figure.

    Returns
    -------
    None
    """
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, font_scale=1.1)
    plt.rcParams.update(
        {"figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight", "pdf.fonttype": 42, "svg.hashsalt": "coinfer"}
    )


def format_params(params: Mapping[str, Any]) -> str:
    """``a=1, b=0.5`` with compact numbers, for captions.

    Parameters
    ----------
    params : mapping of str to object
        The notebook's parameters, each in its profile unit (units are not repeated in the caption) [-].

    Returns
    -------
    str
        The parameters, comma-separated.
    """

    def show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(show(v) for v in value) + "]"
        return str(value)

    return ", ".join(f"{key}={show(value)}" for key, value in params.items())


def save_figure(fig: plt.Figure, name: str, params: Mapping[str, Any] | str | None = None) -> list[Path]:
    """Save ``fig`` as ``figures/<name>.pdf`` and ``.png`` atomically.

    ``params`` (a mapping or a ready string) is written as a caption below the axes, so a figure never circulates
    without the parameters that made it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        The figure's name (file stem).
    params : mapping of str to object or str, optional
        The caption: parameters (formatted by :func:`format_params`) or a ready line [-].

    Returns
    -------
    list of pathlib.Path
        The PDF and PNG written [path].
    """
    if params:
        add_caption(fig, params if isinstance(params, str) else format_params(params))
    written = []
    for ext in ("pdf", "png"):
        target = figures_dir() / f"{name}.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, metadata=_METADATA[ext])
        written.append(target)
    return written


def add_caption(fig: plt.Figure, caption: str) -> None:
    """Add the caption footer (parameters and data files) below the axes, as :func:`save_figure` writes it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    caption : str
        The caption line.

    Returns
    -------
    None
    """
    fig.text(0.5, -0.02, caption, ha="center", va="top", fontsize=7, wrap=True, color="0.3")


# --------------------------------------------------------------------------- shared figure style
#: Fixed colours and markers, so a scheme, model or bit width looks the same in every figure.
SCHEME_ORDER: tuple[str, ...] = (
    "proposed",
    "on_device",
    "on_server",
    "fixed_ratio",
    "max_resources",
    "shared_ratio",
    "local_nonconvex",
    "split_then_prune",
    "decoupled",
    "quantised_8bit",
    "quantised_4bit",
    "proposed_magnitude",
)
SCHEME_MARKERS = dict(zip(SCHEME_ORDER, ("o", "s", "^", "v", "D", "P", "X", "<", ">", "h", "p", "*"), strict=True))
#: Line styles: the proposed design solid, the benchmarks cycling through four dash patterns, so that colour, marker
#: and line style together tell any two schemes apart (two colours of the palette are close for some readers).
SCHEME_LINESTYLES = dict(
    zip(
        SCHEME_ORDER,
        ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), "--", ":", "-."),
        strict=True,
    )
)
#: Drawing order: the proposed design above every benchmark, so no benchmark hides it.
PROPOSED_ZORDER = 4.0
#: Colours past the palette's ten, for the schemes that come after them in :data:`SCHEME_ORDER`.
EXTRA_SCHEME_COLOURS = ((0.25, 0.25, 0.25), (0.55, 0.45, 0.0))
#: What a scheme is called in legends: the one mapping from the code names of :data:`SCHEME_ORDER`.
SCHEME_LABELS = {
    "proposed": "proposed (joint design)",
    "on_device": "fully on-device",
    "on_server": "fully on-server",
    "fixed_ratio": r"fixed ratio $\rho_d = \rho_s = \rho_{fix}$",
    "max_resources": "maximum resources",
    "shared_ratio": r"shared ratio $\rho_d = \rho_s$",
    "local_nonconvex": "local non-convex (SLSQP)",
    "split_then_prune": "split, then prune (Neurosurgeon rule)",
    "decoupled": "resources for the dense model, then pruning",
    "quantised_8bit": "no pruning, 8-bit weights",
    "quantised_4bit": "no pruning, 4-bit weights",
    "proposed_magnitude": "proposed, magnitude objective",
}
#: Short names of the schemes, for the row labels of the infeasible strips.
SCHEME_SHORT = {
    "proposed": "proposed",
    "on_device": "on-device",
    "on_server": "on-server",
    "fixed_ratio": "fixed ratio",
    "max_resources": "max. resources",
    "shared_ratio": "shared ratio",
    "local_nonconvex": "SLSQP",
    "split_then_prune": "split, then prune",
    "decoupled": "dense resources",
    "quantised_8bit": "8-bit",
    "quantised_4bit": "4-bit",
    "proposed_magnitude": "proposed, $D_{mag}$",
}
#: ``zoo.MODEL_NAMES + models.META_MODEL_NAMES`` (a test keeps them equal; importing them would load torch).
MODEL_ORDER = ("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b")
RHO_LABEL = r"pruning ratio $\rho$ [fraction of weights removed]"


def palette_colour(index: int) -> tuple[float, float, float]:
    """Colour ``index`` of the artifact's palette (:data:`PALETTE`).

    Parameters
    ----------
    index : int
        Position in the palette, taken modulo its length [count].

    Returns
    -------
    tuple of float
        RGB, each in [0, 1] [-].
    """
    colours = sns.color_palette(PALETTE, 10)
    return colours[index % len(colours)]


def scheme_colour(scheme: str) -> tuple[float, float, float]:
    """The colour of an optimisation scheme, the same in every figure.

    Parameters
    ----------
    scheme : str
        A scheme name; every name outside :data:`SCHEME_ORDER` gets one shared colour (that of the place after
        its end).

    Returns
    -------
    tuple of float
        RGB in [0, 1] [-]: the palette colour of its place in :data:`SCHEME_ORDER`, places 10 and 11 from
        :data:`EXTRA_SCHEME_COLOURS`.
    """
    index = SCHEME_ORDER.index(scheme) if scheme in SCHEME_ORDER else len(SCHEME_ORDER)
    extra = index - 10
    return EXTRA_SCHEME_COLOURS[extra] if 0 <= extra < len(EXTRA_SCHEME_COLOURS) else palette_colour(index)


def scheme_label(scheme: str) -> str:
    """The readable name of an optimisation scheme in legends (its code name if it has none).

    Parameters
    ----------
    scheme : str
        The scheme's code name (model.md section 5.6).

    Returns
    -------
    str
        The legend label.
    """
    return SCHEME_LABELS.get(scheme, scheme)


def _luminance(colour: Any) -> float:
    """Relative luminance (WCAG, 0 black to 1 white) of a matplotlib colour."""
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def text_colour_on(background: Any) -> str:
    """Black or white, whichever reads better on ``background``.

    Parameters
    ----------
    background : matplotlib colour
        The colour the text is written on.

    Returns
    -------
    str
        ``"k"`` when the background's relative luminance (WCAG) exceeds 0.18, else ``"w"``.
    """
    return "k" if _luminance(background) > 0.18 else "w"


def model_colour(model: str) -> tuple[float, float, float]:
    """The colour of a model, the same in every figure.

    Parameters
    ----------
    model : str
        The model's name (one of :data:`MODEL_ORDER`; any other gets the next colour).

    Returns
    -------
    tuple of float
        RGB, each in [0, 1] [-].
    """
    return palette_colour(MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER))


def bits_colour(q: int, all_bits: Sequence[int]) -> tuple[float, float, float]:
    """The colour of a bit width ``q`` among ``all_bits`` (sorted).

    Parameters
    ----------
    q : int
        The bit width [bit].
    all_bits : sequence of int
        Every bit width shown in the figure, ``q`` among them [bit].

    Returns
    -------
    tuple of float
        RGB, each in [0, 1] [-].
    """
    return palette_colour(sorted(int(b) for b in all_bits).index(int(q)))


def new_figure(nrows: int, ncols: int, *, width: float, height: float, **subplot_kw: Any) -> tuple[Figure, np.ndarray]:
    """A figure (not registered with pyplot) and its 2-D array of axes, with a constrained layout.

    Parameters
    ----------
    nrows, ncols : int
        Panels per column and per row [count].
    width, height : float
        Size of one panel [inch].
    **subplot_kw
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``sharex``, ``subplot_kw`` ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, ``width * ncols`` by ``height * nrows`` inches.
    axes : numpy.ndarray
        Its panels, shape ``(nrows, ncols)``.
    """
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def figure_legend(
    fig: Figure, handles: Sequence[Any], labels: Sequence[str] | None = None, *, shift: float = 0.0, **kw: Any
) -> Legend:
    """One legend for the whole figure, right of its top-right panel and level with that panel's top.

    Below the figure's title and beside no panel, so it covers neither (``loc="outside right upper"`` puts it
    beside the title, which a long title then runs under). Saved figures are cropped to their content
    (``savefig.bbox: tight``), so the legend is in the file. More than eight entries go in two columns, so that a
    tall legend does not run down beside the panels below.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, its panels made by :func:`new_figure`.
    handles : sequence of matplotlib artists
        The legend's entries.
    labels : sequence of str, optional
        Their labels; default each handle's own label.
    shift : float, optional
        How much further right to put the legend, past labels written beside the panels [inch].
    **kw
        Passed to :meth:`matplotlib.figure.Figure.legend` (all but the anchor).

    Returns
    -------
    matplotlib.legend.Legend
        The legend.
    """
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    spec = {ax: ax.get_subplotspec() for ax in panels}
    anchor = max(panels, key=lambda ax: (spec[ax].colspan.stop, -spec[ax].rowspan.start))  # type: ignore[union-attr]
    beside = anchor.transAxes + ScaledTranslation(shift, 0.0, fig.dpi_scale_trans)
    options: dict[str, Any] = {"fontsize": 8, "loc": "upper left", "borderaxespad": 0.0}
    options |= {"ncols": 2 if len(handles) > 8 else 1, **kw, "bbox_to_anchor": (1.04, 1.0), "bbox_transform": beside}
    if labels is not None:
        return fig.legend(list(handles), list(labels), **options)
    return fig.legend(handles=list(handles), **options)


def _any_overlap(boxes: Sequence[Any]) -> bool:
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def declutter(fig: Figure) -> Figure:
    """Keep tick labels from overprinting.

    On a log axis whose labels touch, label fewer minor ticks (2 and 5, then none); a panel whose first x and y tick
    labels meet at its corner gets its x labels moved down.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, changed in place (drawn once on an Agg canvas to measure its labels).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import LogLocator, NullFormatter

    from coinfer.figures.layout import in_view

    renderer = FigureCanvasAgg(fig).get_renderer()
    for step in range(3):
        fig.draw_without_rendering()
        changed = False
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_scale() != "log":
                    continue
                ticks = [t for t in (*axis.get_majorticklabels(), *axis.get_minorticklabels()) if in_view(axis, t)]
                if _any_overlap([t.get_window_extent(renderer) for t in ticks]):
                    if step == 0:
                        axis.set_minor_locator(LogLocator(base=10.0, subs=(2.0, 5.0)))
                    else:
                        axis.set_minor_formatter(NullFormatter())
                    changed = True
            xs = [t.get_window_extent(renderer) for t in ax.xaxis.get_majorticklabels() if in_view(ax.xaxis, t)]
            ys = [t.get_window_extent(renderer) for t in ax.yaxis.get_majorticklabels() if in_view(ax.yaxis, t)]
            clash = max((y.y1 - x.y0 for x in xs for y in ys if x.overlaps(y)), default=0.0)
            if clash > 0:
                marks: list[Any] = ax.xaxis.get_major_ticks()  # Tick.get_pad is typed as returning None
                pad = float(marks[0].get_pad()) if marks else 3.5
                ax.tick_params(axis="x", which="both", pad=pad + clash * 72.0 / fig.dpi + 1.0)
                changed = True
        if not changed:
            break
    return fig


def legend_outside(ax: Axes, **kw: Any) -> None:
    """A legend to the right of ``ax`` (so it never hides data).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.legend`, overriding the placement and font size.

    Returns
    -------
    None
    """
    ax.legend(**{"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "fontsize": 7, **kw})
