"""Figures of notebook 08 (model-size study, model.md section 10): task metric and designs of each size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import register
from coinfer.figures.style import new_figure, palette_colour

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "08_model_size"

SWEEP_LABELS = {"latency_budget": "latency budget $T_0$ [s]", "energy_budget": "energy budget $E_0$ [J]"}
MARKERS = ("o", "s", "^", "D", "v", "P")


def _members(table: pd.DataFrame, family: str) -> list[str]:
    """The family's members present in ``table``, smallest first."""
    rows = table[table["family"] == family]
    return list(rows.drop_duplicates("model").sort_values("params")["model"])


def _colour(family: str, model: str) -> Any:
    from coinfer.studies.model_size import FAMILIES

    return palette_colour(FAMILIES[family].index(model) if model in FAMILIES[family] else len(FAMILIES[family]))


def _interval_bars(ax: Any, shown: pd.DataFrame, colour: Any) -> None:
    """The task metric's 95 % interval over held-out inputs, as the table states it (model.md 1.1), as bars."""
    if "task_metric_ci95_low" not in shown.columns or shown["task_metric_ci95_low"].isna().all():
        return
    ax.errorbar(
        shown["budget_value"],
        shown["task_metric"],
        yerr=[
            (shown["task_metric"] - shown["task_metric_ci95_low"]).clip(lower=0),
            (shown["task_metric_ci95_high"] - shown["task_metric"]).clip(lower=0),
        ],
        fmt="none",
        ecolor=colour,
        elinewidth=0.8,
        alpha=0.6,
    )


@register(
    "size_metric_vs_budget",
    data=("size_study.csv",),
    notebook=NOTEBOOK,
    claim="L1",
    description="task metric of each size's deployed design against the shared budget, winner changes marked",
)
def metric_vs_budget(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """One row per measured family, one column per sweep; one curve per member; dotted lines: the winner changes.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``size_study.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``08_model_size`` (``data/parameters_08_model_size.json``), each in the
        unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 10, claim L1.
    """
    from coinfer.studies.model_size import FAMILIES, SWEEPS, winner_changes, winners  # the study's rules, not its run

    table = tables["size_study.csv"]
    measured = table[table["task_metric"].notna()]
    families = [f for f in FAMILIES if f in set(measured["family"])]
    fig, axes = new_figure(max(len(families), 1), len(SWEEPS), width=3.6, height=2.5)
    changes = winner_changes(winners(table))
    for row, family in enumerate(families):
        rows = measured[measured["family"] == family]
        metric = f"{str(rows['task_metric_name'].iloc[0]).replace('_', ' ')} [fraction]"
        for col, sweep in enumerate(SWEEPS):
            ax = axes[row, col]
            for i, model in enumerate(_members(table, family)):
                shown = rows[(rows["model"] == model) & (rows["sweep"] == sweep)].sort_values("budget_value")
                ax.plot(
                    shown["budget_value"],
                    shown["task_metric"],
                    marker=MARKERS[i % len(MARKERS)],
                    markersize=3,
                    color=_colour(family, model),
                    label=f"{model} ({shown['params'].iloc[0] / 1e6:.3g} M)" if len(shown) else model,
                )
                _interval_bars(ax, shown, _colour(family, model))
            for value in changes[(changes["family"] == family) & (changes["sweep"] == sweep)]["budget_value"]:
                ax.axvline(value, color="0.4", linestyle=":", linewidth=1)
            ax.set_xscale("log")
            ax.set_title(f"{family}: {sweep.replace('_', ' ')} sweep", fontsize=9)
            ax.set_xlabel(SWEEP_LABELS[sweep] if row == len(families) - 1 else "")
            ax.set_ylabel(metric if col == 0 else "")
            if col == len(SWEEPS) - 1:
                ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7)
    fig.suptitle(
        f"Larger or smaller? Each size deployed at the same budgets ({params['bandwidth'] / 1e6:g} MHz, "
        f"{params['distance']:g} m); bars: 95 % intervals over the held-out inputs; dotted: the winner changes",
        fontsize=10,
    )
    return fig


DESIGN_PANELS = (
    ("split", "split s / L [fraction]"),
    ("rho_device", r"$\rho_d$ [fraction pruned]"),
    ("rho_server", r"$\rho_s$ [fraction pruned]"),
)


@register(
    "size_designs",
    data=("size_study.csv",),
    notebook=NOTEBOOK,
    claim="L1",
    description="chosen split (as a fraction of the blocks) and pruning ratios of each size along both sweeps",
)
def designs(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: families (meta included); columns: split fraction, rho_d, rho_s for each sweep.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``size_study.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``08_model_size`` (``data/parameters_08_model_size.json``), each in the
        unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 10, claim L1.
    """
    from coinfer.studies.model_size import FAMILIES, SWEEPS

    table = tables["size_study.csv"]
    families = [f for f in FAMILIES if f in set(table["family"])]
    panels = [(sweep, column, label) for sweep in SWEEPS for column, label in DESIGN_PANELS]
    fig, axes = new_figure(max(len(families), 1), len(panels), width=2.4, height=2.0)
    for row, family in enumerate(families):
        rows = table[(table["family"] == family) & (table["status"] == "optimal")]
        for col, (sweep, column, label) in enumerate(panels):
            ax = axes[row, col]
            for i, model in enumerate(_members(table, family)):
                shown = rows[(rows["model"] == model) & (rows["sweep"] == sweep)].sort_values("budget_value")
                values = shown[column].astype(float)
                if column == "split":
                    values = values / shown["num_blocks"].astype(float)
                ax.plot(
                    shown["budget_value"],
                    np.asarray(values),
                    marker=MARKERS[i % len(MARKERS)],
                    markersize=3,
                    color=_colour(family, model),
                    label=model,
                )
            ax.set_xscale("log")
            ax.set_ylim(-0.05, 1.05)
            ax.set_title(f"{family}" if col == 0 else "", fontsize=9, loc="left")
            ax.set_xlabel(SWEEP_LABELS[sweep] if row == len(families) - 1 else "", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            if col == len(panels) - 1:
                ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7)
    fig.suptitle("The design each size gets: split point and pruning ratios along the two budget sweeps", fontsize=10)
    return fig
