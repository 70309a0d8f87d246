"""Figures of notebook 07 (deployed designs, extensions E1-E3, model.md section 9): what the designs measure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.stats import spearmanr

from coinfer.figures.joint_optimisation import (
    STRIP_LABEL_WIDTH,
    SWEEP_LABELS,
    infeasible_handle,
    infeasible_strip,
    label_infeasible_rows,
    mark_infeasible,
    scheme_line,
    scheme_style,
)
from coinfer.figures.registry import in_order, register
from coinfer.figures.style import SCHEME_MARKERS, SCHEME_ORDER, figure_legend, new_figure, scheme_colour, scheme_label

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "07_deployed_designs"
DATA = ("deployed_designs.csv",)
#: Readable names of the measured metrics.
METRIC_LABELS = {
    "test_accuracy": "test accuracy [-]",
    "top1_agreement": "top-1 agreement with unpruned [-]",
    "cosine_similarity": "cosine similarity to unpruned [-]",
    "topic_accuracy": "topic accuracy (nearest centroid) [-]",
}
DISTORTION_LABEL = r"measured $\|f - \hat f\|_1 / \|f\|_1$ [-]"
BOUND_LABEL = r"objective $D_{LB}$ of the design [-]"


def _schemes(table: pd.DataFrame) -> list[str]:
    """Schemes of ``table`` in the fixed order of :data:`coinfer.figures.style.SCHEME_ORDER`, others after."""
    present = set(table.scheme)
    return [s for s in SCHEME_ORDER if s in present] + [s for s in in_order(table.scheme) if s not in SCHEME_ORDER]


def _metric_rows(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(model, column, metric name)`` per figure row: every model's task metric, and topic accuracy where measured."""
    rows = []
    for model in in_order(table.model):
        part = table[table.model == model]
        names = in_order(part.task_metric_name)
        rows.append((model, "task_metric", str(names[0]) if names else "task metric"))
        if "topic_accuracy" in part and part.topic_accuracy.notna().any():
            rows.append((model, "topic_accuracy", "topic_accuracy"))
    return rows


def _interval_band(ax: Axes, rows: pd.DataFrame, column: str, scheme: str, *, log: bool) -> None:
    """The 95 % interval over held-out inputs the table states for ``column`` (model.md 1.1), as a band."""
    low, high = f"{column}_ci95_low", f"{column}_ci95_high"
    if low not in rows.columns or rows[low].isna().all():
        return
    floor = 1e-12 if log else -float("inf")
    ax.fill_between(
        rows.x,
        rows[low].clip(lower=floor),
        rows[high].clip(lower=floor),
        color=scheme_colour(scheme),
        alpha=0.15,
        linewidth=0,
    )


def _sweep_grid(
    table: pd.DataFrame, rows: list[tuple[str, str, str]], ylabel: Any, *, log: bool, reference: str | None
) -> Figure:
    """One panel per (row, sweep): each scheme's measured ``column`` against the swept quantity."""
    sweeps, schemes = in_order(table.sweep), _schemes(table)
    failing = set(table.scheme[table.status != "optimal"])
    strip_row = {scheme: row for row, scheme in enumerate(s for s in schemes if s in failing)}
    fig, axes = new_figure(len(rows), len(sweeps), width=3.5, height=2.9)
    for i, (model, column, metric) in enumerate(rows):
        for j, sweep in enumerate(sweeps):
            ax = axes[i, j]
            part = table[(table.model == model) & (table.sweep == sweep)]
            infeasible_strip(ax, len(strip_row))
            for scheme in schemes:
                lines = part[part.scheme == scheme].sort_values("x")
                ok = lines[(lines.status == "optimal") & lines[column].notna()]
                values = ok[column].clip(lower=1e-12) if log else ok[column]
                scheme_line(ax, ok.x, values, scheme)
                _interval_band(ax, ok, column, scheme, log=log)
                if scheme in strip_row:
                    xs = lines.x[lines.status != "optimal"].to_numpy()
                    mark_infeasible(ax, xs, scheme_colour(scheme), strip_row[scheme])
            if j == len(sweeps) - 1:
                label_infeasible_rows(ax, strip_row)
            if reference is not None:
                unpruned = part[f"unpruned_{column}"].dropna() if f"unpruned_{column}" in part else pd.Series([])
                if len(unpruned):
                    ax.axhline(float(unpruned.iloc[0]), color="0.4", linewidth=0.8, linestyle=":")
            ax.set_xscale("log")
            if log:
                ax.set_yscale("log")
            ax.set_title(f"{model}: {sweep.replace('_', ' ')} swept", fontsize=8)
            ax.set_xlabel(SWEEP_LABELS.get(sweep, sweep) if i == len(rows) - 1 else "")
            ax.set_ylabel((ylabel(metric) if callable(ylabel) else ylabel) if j == 0 else "", fontsize=8)
    handles = [Line2D([], [], label=scheme_label(s), **scheme_style(s)) for s in schemes]
    if reference is not None:
        handles.append(Line2D([], [], color="0.4", linewidth=0.8, linestyle=":", label=reference))
    if strip_row:
        handles.append(infeasible_handle())
    figure_legend(fig, handles, shift=STRIP_LABEL_WIDTH if strip_row else 0.0)
    return fig


@register(
    "deployed_metric_sweep",
    data=DATA,
    notebook=NOTEBOOK,
    claim="E1",
    description="measured task metric of every scheme's deployed design against budgets, bandwidth and distance",
)
def deployed_metric_sweep(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: model (and MiniLM's topic accuracy); columns: sweeps; one line per scheme (higher is better).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``deployed_designs.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``07_deployed_designs`` (``data/parameters_07_deployed_designs.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 9, claim E1.
    """
    table = tables["deployed_designs.csv"]
    fig = _sweep_grid(
        table,
        _metric_rows(table),
        lambda metric: METRIC_LABELS.get(metric, metric),
        log=False,
        reference="unpruned model",
    )
    fig.suptitle(
        "E1 (the artifact's own question): task metric of each scheme's design deployed on the real weights\n"
        f"({params.get('bits', '?')}-bit weights unless the scheme fixes them, "
        f"{params.get('feature_bits', '?')}-bit feature; bands: 95 % intervals over the inputs; higher is better)",
        fontsize=10,
    )
    return fig


@register(
    "deployed_distortion_sweep",
    data=DATA,
    notebook=NOTEBOOK,
    claim="E1",
    description="measured output distortion of every scheme's deployed design against budgets, bandwidth, distance",
)
def deployed_distortion_sweep(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: models; columns: sweeps; measured relative output distortion per scheme (log scale, lower is better).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``deployed_designs.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``07_deployed_designs`` (``data/parameters_07_deployed_designs.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 9, claim E1.
    """
    table = tables["deployed_designs.csv"]
    rows = [(model, "measured_distortion", "distortion") for model in in_order(table.model)]
    fig = _sweep_grid(table, rows, DISTORTION_LABEL, log=True, reference=None)
    fig.suptitle(
        "Measured counterpart of opt_budget_sweep: output distortion of each scheme's deployed design "
        "(mean over held-out inputs, bands: 95 % bootstrap interval; lower is better)",
        fontsize=10,
    )
    return fig


def spearman(objective: pd.Series, measured: pd.Series) -> float:
    """Spearman rank correlation of two columns (NaN with fewer than 3 pairs or a constant column).

    Parameters
    ----------
    objective : pandas.Series
        The model's objective of each design (normalised distortion bound, model.md section 5.1) [-].
    measured : pandas.Series
        The measured distortion (or metric) of the same designs, in the same order [-].

    Returns
    -------
    float
        The rank correlation, in [-1, 1] [-], or NaN.

    References
    ----------
    docs/model.md section 9 (closing the loop: deployed designs).
    """
    if len(objective) < 3 or objective.nunique() < 2 or measured.nunique() < 2:
        return float("nan")
    return float(spearmanr(objective.astype(float), measured.astype(float)).statistic)


@register(
    "deployed_bound_vs_measured",
    data=DATA,
    notebook=NOTEBOOK,
    claim="E2",
    description="the bound objective against the measured output distortion, every (scheme, sweep point), per model",
)
def deployed_bound_vs_measured(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """One panel per model: objective (x) vs measured distortion (y), a marker per scheme, Spearman printed.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``deployed_designs.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``07_deployed_designs`` (``data/parameters_07_deployed_designs.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 9, claim E2.
    """
    table = tables["deployed_designs.csv"]
    models, schemes = in_order(table.model), _schemes(table)
    fig, axes = new_figure(1, len(models), width=3.8, height=3.4)
    for j, model in enumerate(models):
        ax = axes[0, j]
        part = table[(table.model == model) & (table.status == "optimal")]
        part = part[part.objective.notna() & part.measured_distortion.notna()]
        for scheme in schemes:
            points = part[part.scheme == scheme]
            if "measured_distortion_ci95_low" in points.columns and points.measured_distortion_ci95_low.notna().any():
                ax.errorbar(  # the measured distortion's 95 % bootstrap interval over inputs
                    points.objective,
                    points.measured_distortion.clip(lower=1e-12),
                    yerr=[
                        (points.measured_distortion - points.measured_distortion_ci95_low).clip(lower=0),
                        (points.measured_distortion_ci95_high - points.measured_distortion).clip(lower=0),
                    ],
                    fmt="none",
                    ecolor=scheme_colour(scheme),
                    elinewidth=0.5,
                    alpha=0.5,
                )
            ax.scatter(
                points.objective,
                points.measured_distortion.clip(lower=1e-12),
                marker=SCHEME_MARKERS.get(scheme, "o"),
                color=scheme_colour(scheme),
                s=22 if scheme == "proposed" else 14,
                alpha=0.8,
                linewidths=0.5,
            )
        rho = spearman(part.objective, part.measured_distortion)
        ax.text(
            0.97,
            0.03,
            f"Spearman {rho:.2f}\n{len(part)} feasible (scheme, point) pairs",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9},
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(model, fontsize=9)
        ax.set_xlabel(BOUND_LABEL)
        ax.set_ylabel(DISTORTION_LABEL if j == 0 else "")
    handles = [
        Line2D([], [], linestyle="none", marker=SCHEME_MARKERS.get(s, "o"), color=scheme_colour(s), label=label)
        for s, label in ((s, scheme_label(s)) for s in schemes)
    ]
    figure_legend(fig, handles)
    fig.suptitle(
        "E2 (own question): bound vs measured distortion",
        fontsize=10,
    )
    return fig


#: The data of :func:`deployed_frontiers` (``coinfer.studies.frontiers.POINTS_FILE`` and ``FRONTIER_FILE``).
FRONTIER_DATA = ("deployed_frontier_points.csv", "deployed_frontiers.csv")


@register(
    "deployed_frontiers",
    data=FRONTIER_DATA,
    notebook=NOTEBOOK,
    claim="",
    description="task quality kept against the energy budget per scheme, with each scheme's least energy per level",
)
def deployed_frontiers(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """One panel per model: quality share against energy budget at the loosest fixed latency, frontiers marked.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``deployed_frontier_points.csv``, ``deployed_frontiers.csv``), by their
        names in ``data/``; budgets in s and J, quality shares [-].
    params : mapping of str to object
        The validated parameters of notebook ``07_deployed_designs`` [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 9.1.
    """
    points, frontier = tables["deployed_frontier_points.csv"], tables["deployed_frontiers.csv"]
    points = points[points.fixed_budget == "latency_s"]
    frontier = frontier[frontier.fixed_budget == "latency_s"]
    models = in_order(points.model)
    fig, axes = new_figure(1, len(models), width=4.2, height=3.4)
    handles: dict[str, Line2D] = {}
    for ax, model in zip(axes[0], models, strict=True):
        mine = points[points.model == model]
        latency = float(mine.fixed_value.max())
        mine = mine[mine.fixed_value == latency]
        marks = frontier[(frontier.model == model) & (frontier.fixed_value == latency)]
        for scheme in _schemes(mine):
            rows = mine[(mine.scheme == scheme) & mine.quality.notna()].sort_values("energy_J")
            colour, marker = scheme_colour(scheme), SCHEME_MARKERS.get(scheme, "o")
            (line,) = ax.plot(rows.energy_J, rows.quality, color=colour, marker=marker, ms=3, lw=0.9, alpha=0.85)
            handles.setdefault(scheme, line)
            reached = marks[(marks.scheme == scheme) & marks.least_budget.notna()]
            ax.scatter(reached.least_budget, reached.quality, s=60, facecolors="none", edgecolors=[colour], lw=1.2)
        for level in in_order(frontier.level):
            ax.axhline(float(level), color="0.5", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("energy budget [J]")
        metric = str(in_order(mine.quality_metric)[0]) if len(mine) else "quality"
        ax.set_ylabel(f"share of unpruned {metric} [-]")
        ax.set_title(f"{model}, latency budget {latency:.3g} s", fontsize=9)
    figure_legend(fig, list(handles.values()), [scheme_label(s) for s in handles], fontsize=7)
    fig.suptitle(
        "Quality kept by each scheme's deployed design against the energy budget (dotted: the levels; "
        "open circles: each scheme's least energy per level, the top of its bracket)",
        fontsize=10,
    )
    return fig
