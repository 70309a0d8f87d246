"""Layout checks of a drawn figure: no two text elements overlap, no legend covers a title, a label or data.

What a reader sees at a glance must not be hidden: :func:`layout_problems` draws the figure (without rendering
pixels) and compares the window extents of its texts (titles, axis labels, tick labels, annotations, legend
entries, the caption footer) pairwise, and each legend's frame against every title and axis label and against
the data points (line vertices and scatter markers) of the panels it sits over. The test suite runs it on every
registered figure (``tests/figures/test_figures.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis, XAxis
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

#: Pixels two boxes may share before they count as overlapping (anti-aliasing, glyph side bearings).
TOLERANCE_PX = 1.0


@dataclass(frozen=True)
class _Item:
    kind: str
    text: str
    box: Bbox


def _visible(artist: Text) -> bool:
    return bool(artist.get_visible() and artist.get_text().strip())


def _shrunk(box: Bbox) -> Bbox:
    return Bbox.from_extents(box.x0 + TOLERANCE_PX, box.y0 + TOLERANCE_PX, box.x1 - TOLERANCE_PX, box.y1 - TOLERANCE_PX)


def _overlap(a: Bbox, b: Bbox) -> bool:
    a, b = _shrunk(a), _shrunk(b)
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def in_view(axis: Axis, label: Text) -> bool:
    """Whether ``label`` (a tick label of ``axis``) is drawn: visible, not empty, its tick inside the panel (to 1 px).

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        The x or y axis of a panel.
    label : matplotlib.text.Text
        One of its tick labels.

    Returns
    -------
    bool
        True when the label is drawn.
    """
    if not _visible(label):
        return False
    ax = axis.axes
    x, y = label.get_position()
    if isinstance(axis, XAxis):
        where, low, high = ax.transData.transform((x, 1.0))[0], ax.bbox.x0, ax.bbox.x1
    else:
        where, low, high = ax.transData.transform((1.0, y))[1], ax.bbox.y0, ax.bbox.y1
    return bool(low - 1.0 <= where <= high + 1.0)


def _extent(text: Text, renderer: RendererBase) -> Bbox:
    """The window extent of ``text`` as drawn: a wrapped text (``wrap=True``) with its line breaks."""
    if not text.get_wrap():
        return text.get_window_extent(renderer)
    original = text.get_text()
    wrapped = text._get_wrapped_text()  # type: ignore[attr-defined]  # what Text.draw shows; no public form
    text.set_wrap(False)
    text.set_text(wrapped)
    try:
        return text.get_window_extent(renderer)
    finally:
        text.set_text(original)
        text.set_wrap(True)


def _axes_texts(ax: Axes, renderer: RendererBase) -> Iterator[_Item]:
    name = ax.get_label() or "axes"
    titles = (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None))
    for title in titles:
        if title is not None and _visible(title):
            yield _Item(f"title of {name}", title.get_text(), title.get_window_extent(renderer))
    for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if not axis.get_visible():
            continue
        if _visible(axis.label):
            yield _Item(f"{axis_name}-label of {name}", axis.label.get_text(), axis.label.get_window_extent(renderer))
        if _visible(axis.offsetText):
            yield _Item(
                f"{axis_name}-offset of {name}", axis.offsetText.get_text(), axis.offsetText.get_window_extent(renderer)
            )
        ticks = [t for t in (*axis.get_majorticklabels(), *axis.get_minorticklabels()) if _visible(t)]
        for tick in ticks:
            if not in_view(axis, tick):
                continue  # outside the view: matplotlib does not draw it
            yield _Item(f"{axis_name}-tick of {name}", tick.get_text(), tick.get_window_extent(renderer))
    for text in ax.texts:
        if _visible(text):
            yield _Item(f"text of {name}", text.get_text(), _extent(text, renderer))


def _legends(fig: Figure) -> list[tuple[Legend, Axes | None]]:
    found: list[tuple[Legend, Axes | None]] = [(legend, None) for legend in fig.legends]
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            found.append((legend, ax))
    return found


def texts(fig: Figure, renderer: RendererBase) -> list[_Item]:
    """Every visible, non-empty text of ``fig`` with its window extent [px].

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The drawn figure.
    renderer : matplotlib.backend_bases.RendererBase
        The renderer that drew it (window extents depend on it).

    Returns
    -------
    list
        One item per text: its kind (title, label, tick, legend ...), its string and its box [px].
    """
    items: list[_Item] = []
    # the figure's title and shared labels are among fig.texts; no public getter returns the title's Text
    title = getattr(fig, "_suptitle", None)
    shared = (title, getattr(fig, "_supxlabel", None), getattr(fig, "_supylabel", None))
    for text in dict.fromkeys(t for t in (*shared, *fig.texts) if t is not None):
        if _visible(text):
            kind = "title of the figure" if text is title else "figure text"
            items.append(_Item(kind, text.get_text(), _extent(text, renderer)))
    for ax in fig.axes:
        if ax.get_visible():
            items += list(_axes_texts(ax, renderer))
    for legend, _ in _legends(fig):
        title = legend.get_title()
        entries = [title, *legend.get_texts()] if _visible(title) else list(legend.get_texts())
        items += [_Item("legend entry", t.get_text(), t.get_window_extent(renderer)) for t in entries if _visible(t)]
    return items


def _data_points(ax: Axes) -> np.ndarray:
    """Display coordinates [px] of the line vertices and scatter markers of ``ax`` inside its panel."""
    found = []
    for line in ax.get_lines():
        if line.get_visible():
            xy = np.asarray(line.get_xydata(), dtype=float)
            if len(xy):
                found.append(line.get_transform().transform(xy))
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and collection.get_visible():
            offsets = np.asarray(collection.get_offsets(), dtype=float)
            if len(offsets):
                found.append(collection.get_offset_transform().transform(offsets))
    if not found:
        return np.empty((0, 2))
    points = np.concatenate(found)
    points = points[np.isfinite(points).all(axis=1)]
    box = ax.bbox
    inside = (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
    return points[inside]


def layout_problems(fig: Figure) -> list[str]:
    """What hides what in ``fig``, one line each (empty: nothing overlaps).

    - two texts overlap (titles, axis and tick labels, annotations, legend entries, the figure's texts);
    - a legend's frame covers a text outside it (a title, a label, a tick label, an annotation), or a data point
      of a panel it lies over.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to check (drawn here on an Agg canvas).

    Returns
    -------
    list of str
        One line per problem.
    """
    renderer = FigureCanvasAgg(fig).get_renderer()  # the canvas the files are written with
    fig.draw_without_rendering()
    items = texts(fig, renderer)
    problems = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if _overlap(a.box, b.box):
                problems.append(f"{a.kind} {a.text!r} overlaps {b.kind} {b.text!r}")
    for legend, owner in _legends(fig):
        frame = legend.get_window_extent(renderer)
        for item in items:  # every text but legend entries (those of two legends are compared above)
            if item.kind != "legend entry" and _overlap(frame, item.box):
                problems.append(f"a legend covers the {item.kind} {item.text!r}")
        for ax in [owner] if owner is not None else fig.axes:
            points = _data_points(ax)
            shrunk = _shrunk(frame)
            covered = (
                (points[:, 0] > shrunk.x0)
                & (points[:, 0] < shrunk.x1)
                & (points[:, 1] > shrunk.y0)
                & (points[:, 1] < shrunk.y1)
            )
            if covered.any():
                problems.append(f"a legend covers {int(covered.sum())} data point(s) of the panel {ax.get_title()!r}")
    return problems


__all__ = ["TOLERANCE_PX", "in_view", "layout_problems", "texts"]
