"""Figures of notebook 06 (joint optimisation, claims C3 and C4): schemes, decisions, split choice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation

from coinfer.figures.registry import in_order, register
from coinfer.figures.style import (
    PROPOSED_ZORDER,
    SCHEME_LINESTYLES,
    SCHEME_MARKERS,
    SCHEME_ORDER,
    SCHEME_SHORT,
    figure_legend,
    new_figure,
    palette_colour,
    scheme_colour,
    scheme_label,
    text_colour_on,
)

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "06_joint_optimisation"

SWEEP_LABELS = {
    "latency_budget": r"latency budget $T_0 / T_{ref}$ [-]",
    "energy_budget": r"energy budget $E_0 / E_{ref}$ [-]",
    "bandwidth": "bandwidth B [Hz]",
    "distance": "distance d [m]",
}
OBJECTIVE_LABEL = r"distortion bound $D / \bar b$ [-]"


#: Budget sweeps: what moves and what is held, by sweep (``{t}``/``{e}``: the default budget factors).
SWEEP_TITLES = {
    "latency_budget": r"latency budget $T_0$ swept, $E_0$ = {e:g} $E_{{ref}}$",
    "energy_budget": r"energy budget $E_0$ swept, $T_0$ = {t:g} $T_{{ref}}$",
    "bandwidth": r"bandwidth swept, $T_0$ = {t:g} $T_{{ref}}$, $E_0$ = {e:g} $E_{{ref}}$",
    "distance": r"distance swept, $T_0$ = {t:g} $T_{{ref}}$, $E_0$ = {e:g} $E_{{ref}}$",
}
#: The reference budgets, stated under every figure that uses them.
BUDGET_REFERENCES = (
    r"$T_{ref}$, $E_{ref}$: the model's default budgets in s and J (model.md 7.3): its family's published "
    r"latency requirement and an assumed energy per inference; each sweep spans the model's grid."
)
#: The normalisation of the objective, stated under every figure that shows it.
OBJECTIVE_REFERENCE = (
    r"$\bar b = (N_d b_d + N_s b_s) / (N_d + N_s)$: the distortion of pruning every weight "
    r"($N$: prunable weights, $b$: Laplace scale, of the device and server parts)."
)

#: Infeasible points are drawn in a strip below the x axis: first row and row spacing, in points.
INFEASIBLE_GAP = 6.0
INFEASIBLE_STEP = 6.5
#: Size of the row labels of the strip, in points (a row is :data:`INFEASIBLE_STEP` high).
INFEASIBLE_FONT = 5.5
#: Room the row labels take right of the last column [inch]; a figure legend there moves past them.
STRIP_LABEL_WIDTH = 0.75
INFEASIBLE_LABEL = "infeasible at that x\n(crosses below the axis)"


def _state_references(fig: Figure, *, objective: bool = True) -> None:
    """Define T_ref, E_ref and (with ``objective``) b_bar at the bottom of ``fig``, above its caption footer."""
    text = BUDGET_REFERENCES + ("\n" + OBJECTIVE_REFERENCE if objective else "")
    fig.supxlabel(text, fontsize=8, color="0.25")


def infeasible_strip(ax: Axes, rows: int) -> None:
    """Make room for ``rows`` rows of infeasible markers between the x axis and its tick labels, shaded grey.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    rows : int
        Number of marker rows (one per scheme with infeasible points) [count].

    Returns
    -------
    None
    """
    if rows <= 0:
        return
    depth = INFEASIBLE_GAP + INFEASIBLE_STEP * (rows - 1)
    band = depth + INFEASIBLE_GAP / 2
    offset = ScaledTranslation(0, -(band / 2 + 1) / 72, ax.figure.dpi_scale_trans)
    ax.add_collection(
        LineCollection(
            [[(0.0, 0.0), (1.0, 0.0)]],
            transform=ax.transAxes + offset,
            linewidths=band,
            colors="0.93",
            capstyle="butt",
            clip_on=False,
            zorder=0,
        ),
        autolim=False,
    )
    ax.tick_params(axis="x", which="both", pad=3.5 + band + 1)


def mark_infeasible(ax: Axes, xs: Sequence[float], colour: Any, row: int = 0) -> None:
    """Infeasible points as crosses in row ``row`` of the strip below the x axis (see :func:`infeasible_strip`).

    The crosses sit outside the data area, so they never read as values of the objective.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel, prepared by :func:`infeasible_strip`.
    xs : sequence of float
        The x values (budgets) of the infeasible points, in the unit of the panel's x axis [s], [J] or [-].
    colour : matplotlib colour
        The scheme's colour.
    row : int, optional
        Row of the strip, 0 nearest the axis [count].

    Returns
    -------
    None

    References
    ----------
    docs/model.md section 5.7 (infeasibility reporting).
    """
    if len(xs):
        below = ScaledTranslation(0, -(INFEASIBLE_GAP + INFEASIBLE_STEP * row) / 72, ax.figure.dpi_scale_trans)
        ax.scatter(
            xs,
            np.zeros(len(xs)),
            transform=ax.get_xaxis_transform() + below,
            marker="x",
            s=14,
            linewidths=1.0,
            color=colour,
            clip_on=False,
            zorder=5,
        )
        # the blended transform hides these points from autoscaling: widen the x data limits by hand
        ax.dataLim.update_from_data_x(np.asarray(xs, dtype=float), ignore=False)
        ax.autoscale_view(scaley=False)


def label_infeasible_rows(ax: Axes, rows: Mapping[Any, int], names: Mapping[Any, str] | None = None) -> None:
    """Name each row of the infeasible strip of ``ax`` right of the panel.

    Labels go right of the last column's panel: on the left the tick and axis labels would meet them.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel, prepared by :func:`infeasible_strip`.
    rows : mapping
        ``{key: row}``: the scheme (or other key) of each row [count].
    names : mapping, optional
        ``{key: label}``; default the scheme's short name (:data:`~coinfer.figures.style.SCHEME_SHORT`).

    Returns
    -------
    None
    """
    for key, row in rows.items():
        below = ScaledTranslation(0, -(INFEASIBLE_GAP + INFEASIBLE_STEP * row) / 72, ax.figure.dpi_scale_trans)
        ax.text(
            1.02,
            0.0,
            (names or {}).get(key) or SCHEME_SHORT.get(str(key), str(key)),
            transform=ax.transAxes + below,
            ha="left",
            va="center",
            fontsize=INFEASIBLE_FONT,
            color="0.25",
            clip_on=False,
        )


def infeasible_handle() -> Line2D:
    """The legend entry explaining the infeasible markers.

    Returns
    -------
    matplotlib.lines.Line2D
        A grey cross labelled for the legend.
    """
    return Line2D([], [], linestyle="none", marker="x", color="0.3", label=INFEASIBLE_LABEL)


def scheme_style(scheme: str) -> dict[str, Any]:
    """Line style of a scheme: its fixed colour, marker and line style; the proposed design thick, solid, on top.

    Parameters
    ----------
    scheme : str
        The scheme's code name (``"proposed"``, ``"local_nonconvex"`` ...; model.md section 5.6).

    Returns
    -------
    dict of str to object
        Keyword arguments for :meth:`matplotlib.axes.Axes.plot`.
    """
    proposed = scheme == "proposed"
    return {
        "marker": SCHEME_MARKERS.get(scheme, "o"),
        "markersize": 4 if proposed else 3,
        "color": scheme_colour(scheme),
        "linestyle": SCHEME_LINESTYLES.get(scheme, "--"),
        "linewidth": 2.2 if proposed else 1.1,
        "zorder": PROPOSED_ZORDER if proposed else 2.0,
    }


def scheme_line(ax: Axes, x: Any, y: Any, scheme: str) -> None:
    """One scheme's curve in its fixed style (:func:`scheme_style`), labelled with its readable name.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    x, y : array_like
        The curve's points, in the units of the panel's axes [-].
    scheme : str
        The scheme's code name (model.md section 5.6).

    Returns
    -------
    None
    """
    ax.plot(x, y, label=scheme_label(scheme), **scheme_style(scheme))


@register(
    "opt_budget_sweep",
    data=("opt_budget_sweep.csv",),
    notebook=NOTEBOOK,
    claim="C3",
    description="objective of every scheme against latency and energy budgets, bandwidth and distance",
)
def opt_budget_sweep(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: models; columns: the four sweeps; one line per scheme; crosses below the axis: infeasible.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_budget_sweep.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C3.
    """
    table = tables["opt_budget_sweep.csv"]
    models, sweeps = in_order(table.model), in_order(table.sweep)
    schemes = [s for s in SCHEME_ORDER if s in set(table.scheme)]
    schemes += [s for s in in_order(table.scheme) if s not in SCHEME_ORDER]
    # one strip row per scheme that is infeasible somewhere, the same row in every panel
    failing = set(table.scheme[table.status != "optimal"])
    strip_row = {scheme: row for row, scheme in enumerate(s for s in schemes if s in failing)}
    defaults = {"t": params.get("latency_factor", 1.0), "e": params.get("energy_factor", 1.0)}
    fig, axes = new_figure(len(models), len(sweeps), width=3.5, height=2.9)
    for i, name in enumerate(models):
        for j, sweep in enumerate(sweeps):
            ax = axes[i, j]
            part = table[(table.model == name) & (table.sweep == sweep)]
            infeasible_strip(ax, len(strip_row))
            for scheme in schemes:
                rows = part[part.scheme == scheme].sort_values("x")
                ok = rows[rows.status == "optimal"]
                scheme_line(ax, ok.x, ok.objective_norm, scheme)
                if scheme in strip_row:
                    xs = rows.x[rows.status != "optimal"].to_numpy()
                    mark_infeasible(ax, xs, scheme_colour(scheme), strip_row[scheme])
            if j == len(sweeps) - 1:
                label_infeasible_rows(ax, strip_row)
            ax.set_xscale("log")
            ax.set_yscale("log")
            meaning = SWEEP_TITLES[sweep].format(**defaults) if sweep in SWEEP_TITLES else f"{sweep} swept"
            ax.set_title(f"{name}\n{meaning}", fontsize=8)
            ax.set_xlabel(SWEEP_LABELS.get(sweep, sweep) if i == len(models) - 1 else "")
            ax.set_ylabel(OBJECTIVE_LABEL if j == 0 else "")
    handles = [Line2D([], [], label=scheme_label(s), **scheme_style(s)) for s in schemes]
    if strip_row:
        handles.append(infeasible_handle())
    figure_legend(fig, handles, shift=STRIP_LABEL_WIDTH if strip_row else 0.0)
    fig.suptitle(
        "C3: proposed joint design against the benchmarks, one budget, the bandwidth or the distance swept at a time "
        "(lower is better)",
        fontsize=10,
    )
    _state_references(fig)
    return fig


DECISION_PANELS = [
    ("pruning ratio [-]", [("rho_device", r"$\rho_d$"), ("rho_server", r"$\rho_s$")]),
    (
        "fraction of maximum [-]",
        [
            ("power_share", r"$p / P_{max}$"),
            ("f_device_share", r"$f_d / f_{d,max}$"),
            ("f_server_share", r"$f_s / f_{s,max}$"),
        ],
    ),
    (
        "share of latency T [-]",
        [("t_device_share", "$t_d / T$"), ("t_tx_share", "$t_{tx} / T$"), ("t_server_share", "$t_s / T$")],
    ),
]


@register(
    "opt_decisions_latency_budget",
    data=("opt_decisions.csv",),
    notebook=NOTEBOOK,
    claim="C3",
    description="optimal ratios, power, frequencies and latency shares along the latency-budget sweep",
)
def opt_decisions_latency_budget(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Decisions of the proposed design along the latency sweep; the chosen split is written above the ratios.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_decisions.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C3.
    """
    decisions = tables["opt_decisions.csv"]
    decisions = decisions[decisions.sweep == "latency_budget"]
    models = in_order(decisions.model)
    fig, axes = new_figure(len(models), len(DECISION_PANELS), width=3.5, height=2.6)
    for i, name in enumerate(models):
        part = decisions[decisions.model == name].sort_values("x")
        for j, (label, columns) in enumerate(DECISION_PANELS):
            ax = axes[i, j]
            for k, (column, legend) in enumerate(columns):
                ax.plot(part.x, part[column], marker="o", markersize=2.5, color=palette_colour(k), label=legend)
            ax.set_xscale("log")
            ax.set_ylim(-0.03, 1.1)
            ax.set_title(f"{name}: {label.split(' [')[0]}", fontsize=9)
            ax.set_xlabel(SWEEP_LABELS["latency_budget"] if i == len(models) - 1 else "")
            ax.set_ylabel(label)
            if i == 0:
                ax.legend(fontsize=7)
            if j == 0:  # the chosen split where it changes (every point's number would overprint its neighbours)
                previous = None
                for x_value, split in part.loc[part.status == "optimal", ["x", "split"]].itertuples(index=False):
                    if split != previous:
                        ax.annotate(f"{int(split)}", (x_value, 1.0), fontsize=6, ha="center", va="bottom", color="0.4")
                    previous = split
    fig.suptitle("C3: decisions of the proposed design along the latency budget (numbers: chosen split)", fontsize=10)
    _state_references(fig, objective=False)
    return fig


@register(
    "opt_split_objective",
    data=("opt_split_sweep.csv",),
    notebook=NOTEBOOK,
    claim="C4",
    description="optimum of every split point at several bandwidths and latency budgets",
)
def opt_split_objective(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: models; columns: bandwidths; one line per latency budget; star: best split; x: infeasible split.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_split_sweep.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C4.
    """
    import seaborn as sns

    table = tables["opt_split_sweep.csv"]
    models = in_order(table.model)
    bandwidths, factors = sorted(table.bandwidth.unique()), sorted(table.latency_factor.unique())
    colours = dict(zip(factors, sns.color_palette("viridis", len(factors)), strict=True))
    failing = set(table.latency_factor[table.status != "optimal"])
    strip_row = {factor: row for row, factor in enumerate(f for f in factors if f in failing)}
    fig, axes = new_figure(len(models), len(bandwidths), width=3.5, height=2.8)
    for i, name in enumerate(models):
        for j, bandwidth in enumerate(bandwidths):
            ax = axes[i, j]
            part = table[(table.model == name) & (table.bandwidth == bandwidth)]
            infeasible_strip(ax, len(strip_row))
            for factor in factors:
                rows = part[part.latency_factor == factor].sort_values("split")
                ok = rows[rows.status == "optimal"]
                ax.plot(
                    ok.split,
                    ok.objective_norm,
                    marker="o",
                    markersize=2.5,
                    color=colours[factor],
                    label=rf"$T_0$ = {factor:g} $T_{{ref}}$",
                )
                if factor in strip_row:
                    xs = rows.split[rows.status != "optimal"].to_numpy()
                    mark_infeasible(ax, xs, colours[factor], strip_row[factor])
                win = rows[rows.best.astype(bool)]
                ax.scatter(
                    win.split, win.objective_norm, marker="*", s=90, color=colours[factor], edgecolor="k", zorder=5
                )
            if j == len(bandwidths) - 1:
                label_infeasible_rows(ax, strip_row, {f: rf"$T_0$ = {f:g} $T_{{ref}}$" for f in strip_row})
            ax.set_yscale("log")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_title(f"{name}, B = {bandwidth / 1e6:g} MHz", fontsize=9)
            ax.set_xlabel("split point s [blocks on device]" if i == len(models) - 1 else "")
            ax.set_ylabel(OBJECTIVE_LABEL if j == 0 else "")
    handles, _ = axes[0, 0].get_legend_handles_labels()
    # beside the top-right panel, not inside one: with three budgets the lines fill every panel's corners
    axes[0, -1].legend(
        handles=handles + ([infeasible_handle()] if strip_row else []),
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
    )
    fig.suptitle("C4: optimum at every split point (star: best split; lower is better)", fontsize=10)
    _state_references(fig)
    return fig


def _log_edges(centres: Sequence[float]) -> np.ndarray:
    """Cell edges of a log-spaced grid: geometric midpoints, extended by half a step at both ends."""
    logs = np.log(np.asarray(centres, dtype=float))
    step = logs[1] - logs[0] if len(logs) > 1 else 1.0
    return np.exp(np.concatenate([[logs[0] - step / 2], (logs[:-1] + logs[1:]) / 2, [logs[-1] + step / 2]]))


@register(
    "opt_split_winner",
    data=("opt_split_winners.csv", "profiles.csv"),
    notebook=NOTEBOOK,
    claim="C4",
    description="map of the best split point over bandwidth and latency budget",
)
def opt_split_winner(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Per model: the winning split over bandwidth x latency budget (grey: infeasible everywhere).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_split_winners.csv``, ``profiles.csv``), by their names in ``data/``, as
        read back by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary
        [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C4.
    """
    winners = tables["opt_split_winners.csv"]
    profile = tables["profiles.csv"]
    models = in_order(winners.model)
    fig, axes = new_figure(1, len(models), width=4.3, height=3.6)
    for ax, name in zip(axes[0], models, strict=True):
        part = winners[winners.model == name]
        last = int(profile.loc[profile.model == name, "split"].max())
        grid = part.pivot(index="latency_factor", columns="bandwidth", values="winner").astype(float)
        mesh = ax.pcolormesh(
            _log_edges(grid.columns),
            _log_edges(grid.index),
            np.ma.masked_invalid(grid.to_numpy()),
            shading="flat",
            cmap="viridis",
            vmin=0,
            vmax=max(last, 1),
        )
        ax.set_facecolor("0.85")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("bandwidth B [Hz]")
        ax.set_ylabel(r"latency budget $T_0 / T_{ref}$ [-]" if ax is axes[0, 0] else "")
        ax.set_title(f"{name}: best split (L = {last})", fontsize=9)
        bar = fig.colorbar(mesh, ax=ax, label="best split s [blocks on device]", pad=0.03)
        bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # splits are whole blocks: no tick at 0.5
        cells = max(grid.shape)
        if cells <= 16:
            size = 9 if cells <= 8 else 7
            for bandwidth, factor, split in part[["bandwidth", "latency_factor", "winner"]].itertuples(index=False):
                if pd.notna(split):
                    colour = text_colour_on(mesh.cmap(mesh.norm(split)))
                    ax.text(bandwidth, factor, f"{int(split)}", ha="center", va="center", fontsize=size, color=colour)
    # room between a colour bar's label and the next panel
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(w_pad=0.12, wspace=0.06)
    fig.suptitle("C4: which split point wins, over bandwidth and latency budget (grey: infeasible)", fontsize=10)
    _state_references(fig, objective=False)
    return fig


def _error_bars(rows: pd.DataFrame, column: str, values: np.ndarray) -> np.ndarray | None:
    """``yerr`` of ``column`` from its table's ``{column}_ci95_low``/``_high`` (model.md 1.1); ``None`` without them."""
    low, high = f"{column}_ci95_low", f"{column}_ci95_high"
    if low not in rows.columns or high not in rows.columns:
        return None
    below = np.clip(values - rows[low].fillna(0).to_numpy(dtype=float), 0.0, None)
    above = np.clip(rows[high].fillna(0).to_numpy(dtype=float) - values, 0.0, None)
    return np.vstack([below, above])


@register(
    "opt_fading",
    data=("opt_fading_summary.csv",),
    notebook=NOTEBOOK,
    claim="C3",
    description="Rayleigh fading: probability of feasibility and mean objective per scheme",
)
def opt_fading(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Bars per model and scheme: feasibility probability, and mean objective over the feasible draws.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_fading_summary.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C3.
    """
    summary = tables["opt_fading_summary.csv"]
    models = in_order(summary.model)
    schemes = [s for s in SCHEME_ORDER if s in set(summary.scheme)]
    width = 0.8 / max(len(schemes), 1)
    fig, axes = new_figure(1, 2, width=5.2, height=3.8)
    for ax, column, label in [
        (axes[0, 0], "p_feasible", "probability of feasibility [-]"),
        (axes[0, 1], "mean_objective_norm", r"mean $D / \bar b$, feasible draws [-]"),
    ]:
        for k, scheme in enumerate(schemes):
            rows = summary[summary.scheme == scheme].set_index("model").reindex(models)
            values = rows[column].fillna(0).to_numpy()
            ax.bar(
                np.arange(len(models)) + (k - (len(schemes) - 1) / 2) * width,
                values,
                width,
                color=scheme_colour(scheme),
                label=scheme_label(scheme),
                yerr=_error_bars(rows, column, values),
                error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "0.2"},
            )
        ax.set_xticks(np.arange(len(models)), models, rotation=35, ha="right", rotation_mode="anchor")
        ax.set_ylabel(label)
    axes[0, 1].set_yscale("log")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure_legend(fig, handles, labels)
    fig.suptitle(r"C3 under Rayleigh fading $|h|^2 \sim$ Exp(1), default budgets", fontsize=10)
    _state_references(fig)
    return fig


@register(
    "opt_solver_agreement",
    data=("opt_solver_agreement.csv",),
    notebook=NOTEBOOK,
    claim="C3",
    description="fast solver against the cvxpy reference on random instances",
)
def opt_solver_agreement(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Objective of ``solve`` against ``solve_reference`` on the instances optimal in both.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_solver_agreement.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C3.
    """
    agreement = tables["opt_solver_agreement.csv"]
    ok = agreement.dropna(subset=["relative_gap"])
    fig, axes = new_figure(1, 1, width=4.4, height=4.0)
    ax = axes[0, 0]
    ax.loglog(ok.objective_reference, ok.objective_solve, "o", markersize=3, alpha=0.6, color=scheme_colour("proposed"))
    if len(ok):
        values = ok[["objective_reference", "objective_solve"]].to_numpy()
        lims = [float(values.min()), float(values.max())]
        ax.plot(lims, lims, "k--", linewidth=0.8)
    ax.set_xlabel("objective D, solve_reference (cvxpy) [per weight]")
    ax.set_ylabel("objective D, solve (fast) [per weight]")
    gap = f"{ok.relative_gap.max():.1e}" if len(ok) else "n/a"
    ax.set_title(f"{len(ok)} of {len(agreement)} instances optimal in both; max rel. gap {gap}", fontsize=9)
    fig.suptitle("The fast solver agrees with the convex reference (model.md section 5)", fontsize=10)
    return fig


def _sensitivity_coordinate(samples: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str] | None]:
    """Plot coordinates of constant ``name``; a categorical constant gets its category index plus a spread."""
    from coinfer.studies.sensitivity import RANGES

    spec = next(r for r in RANGES if r.name == name)
    if spec.kind != "choice":
        return samples[name].to_numpy(float), None
    position = {str(c): k for k, c in enumerate(spec.choices)}
    index = samples[name].astype(str).map(position).to_numpy(float)
    spread = (samples["sample"].to_numpy(float) * 0.6180339887) % 1.0  # deterministic, fills the cell
    return index + 0.6 * (spread - 0.5), [str(c) for c in spec.choices]


def _share_interval(indices: pd.DataFrame, model: str, gain: str) -> str:
    """`` (95 % CI a-b)`` of a gain's share from ``sensitivity_indices`` (Clopper-Pearson), empty without it."""
    rows = indices[(indices.model == model) & (indices.gain == gain)]
    if rows.empty or "share_ci95_low" not in rows.columns:
        return ""
    return f"\n(95 % CI {100 * rows.share_ci95_low.iloc[0]:.1f} %-{100 * rows.share_ci95_high.iloc[0]:.1f} %)"


@register(
    "opt_single_starts",
    data=("opt_single_starts_summary.csv",),
    notebook=NOTEBOOK,
    claim="C3",
    description="how often one random start of the local solver reaches the global optimum (Clopper-Pearson 95 %)",
)
def opt_single_starts(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Per model: success rate of single SLSQP starts, with the 95 % interval the table states.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``opt_single_starts_summary.csv``), by their names in ``data/``, as read back
        by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C3.
    """
    summary = tables["opt_single_starts_summary.csv"].set_index("model")
    models = in_order(summary.index)
    rows = summary.reindex(models)
    values = rows["success_rate"].to_numpy(dtype=float)
    fig, axes = new_figure(1, 1, width=5.6, height=3.4)
    ax = axes[0, 0]
    ax.bar(
        np.arange(len(models)),
        values,
        0.6,
        color=scheme_colour("local_nonconvex"),
        yerr=_error_bars(rows, "success_rate", values),
        error_kw={"elinewidth": 0.8, "capsize": 3, "ecolor": "0.2"},
    )
    ax.set_xticks(np.arange(len(models)), [f"{m}\n({int(n)} runs)" for m, n in zip(models, rows["runs"], strict=True)])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share reaching the optimum [-]")
    fig.suptitle("C3: the local non-convex solver from one random start\n(bars: Clopper-Pearson 95 %)", fontsize=10)
    _state_references(fig, objective=False)
    return fig


@register(
    "opt_sensitivity",
    data=("sensitivity_samples.csv", "sensitivity_indices.csv"),
    notebook=NOTEBOOK,
    claim="C4",
    description="sampled constants: where an intermediate split beats both extremes, over the two most influential",
)
def opt_sensitivity(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Per model: the samples over the two constants of largest total Sobol index, coloured by the C4 gain.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``sensitivity_samples.csv``, ``sensitivity_indices.csv``), by their names in
        ``data/``, as read back by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data
        dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``06_joint_optimisation`` (``data/parameters_06_joint_optimisation.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 5, claim C4.
    """
    from coinfer.studies.sensitivity import CLAIM_GAINS, RANGES, plot_axes

    samples, indices = tables["sensitivity_samples.csv"], tables["sensitivity_indices.csv"]
    units = {r.name: r.unit or "-" for r in RANGES}
    logs = {r.name for r in RANGES if r.kind == "log"}
    gain = CLAIM_GAINS["C4"]
    models = in_order(samples.model)
    columns = min(2, len(models))  # two panels a row: four sampled models fit a page
    fig, axes = new_figure(-(-len(models) // columns), columns, width=4.2, height=3.8)
    for ax in axes.flat[len(models) :]:
        ax.set_visible(False)
    colours = {True: palette_colour(2), False: "0.7"}
    for ax, model in zip(axes.flat, models, strict=False):
        rows = samples[samples.model == model]
        (x_name, y_name), chosen = plot_axes(indices, model, gain)
        x, x_ticks = _sensitivity_coordinate(rows, x_name)
        y, y_ticks = _sensitivity_coordinate(rows, y_name)
        holds = rows[gain].astype(bool).to_numpy()
        for value, label in ((False, "does not hold"), (True, "holds")):
            mask = holds == value
            ax.scatter(x[mask], y[mask], s=3, alpha=0.5, color=colours[value], label=label, rasterized=True, lw=0)
        for name, ticks, axis, set_scale in (
            (x_name, x_ticks, ax.xaxis, ax.set_xscale),
            (y_name, y_ticks, ax.yaxis, ax.set_yscale),
        ):
            if ticks is not None:
                axis.set_ticks(range(len(ticks)), ticks)
            elif name in logs:
                set_scale("log")
        ax.set_xlabel(f"{x_name} [{units[x_name]}]")
        ax.set_ylabel(f"{y_name} [{units[y_name]}]")
        by = "" if chosen == gain else f"\n(no C4 indices: axes by {chosen})"
        ax.set_title(f"{model}: gain at {100 * holds.mean():.1f} %{_share_interval(indices, model, gain)} "
                     f"of {len(rows)} samples{by}", fontsize=9)  # fmt: skip
    axes[0, -1].legend(title="intermediate split\nbeats both extremes\nby >= 1 %", fontsize=7, title_fontsize=7,
                       loc="upper left", bbox_to_anchor=(1.02, 1.0), markerscale=3)  # fmt: skip
    fig.suptitle(
        "C4 over sampled constants (Sobol design): axes are the two constants of largest total Sobol index",
        fontsize=10,
    )
    _state_references(fig, objective=False)
    return fig
