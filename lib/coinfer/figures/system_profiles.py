"""Figures of notebook 05 (system profiles): per-split workload and unpruned cost of every model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import register
from coinfer.figures.style import MODEL_ORDER, RHO_LABEL, SCHEME_ORDER, figure_legend, new_figure, palette_colour

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "05_system_profiles"

#: Colours of the parts of the system in the profile figures (device and server as their fully-local schemes).
SIDE_COLOURS = {
    "device": SCHEME_ORDER.index("on_device"),
    "server": SCHEME_ORDER.index("on_server"),
    "uplink": 9,
    "total": None,
}


def _side_colour(side: str) -> Any:
    """Colour of a side of the system: device, uplink, server, or total (black)."""
    index = SIDE_COLOURS[side]
    return "k" if index is None else palette_colour(index)


PROFILE_PANELS = [
    ("prunable FLOPs [FLOP]", [("flops_device", "device"), ("flops_server", "server")]),
    ("prunable parameters [count]", [("params_device", "device"), ("params_server", "server")]),
    ("feature sent [bit]", [("feature_bits", "uplink")]),
]
COST_PANELS = [
    ("time [s]", [("t_device", "device"), ("t_tx", "uplink"), ("t_server", "server"), ("latency", "total")]),
    (
        "energy [J]",
        [("energy_device", "device"), ("energy_tx", "uplink"), ("energy_server", "server"), ("energy", "total")],
    ),
]


def _per_split(
    frame: pd.DataFrame, names: Sequence[str], panels: Sequence[tuple[str, list[tuple[str, str]]]], title: str
) -> Figure:
    """One column per model, one row per quantity against the split point, log scale; zeros are not drawn."""
    fig, axes = new_figure(len(panels), max(len(names), 1), width=3.0, height=2.3)
    for col, name in enumerate(names):
        rows = frame[frame.model == name]
        for row, (label, columns) in enumerate(panels):
            ax = axes[row, col]
            for column, side in columns:
                shown = rows[rows[column] > 0]
                style = {"linewidth": 1.8} if side == "total" else {"marker": "o", "markersize": 2.5}
                ax.plot(shown.split, shown[column], label=side, color=_side_colour(side), **style)
            ax.set_yscale("log")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_title(name if row == 0 else "", fontsize=9)
            ax.set_xlabel("split point s [blocks on device]" if row == len(panels) - 1 else "")
            ax.set_ylabel(label if col == 0 else "")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_lines()}
    figure_legend(fig, list(handles.values()), list(handles), fontsize=None)
    fig.suptitle(title, fontsize=10)
    return fig


def _profile_models(params: Mapping[str, Any], group: str) -> list[str]:
    if group == "real":  # the pipeline's models; the size-study members are drawn by notebook 08
        return [name for name in params["models"] if name in MODEL_ORDER]
    return list(params["meta_models"])


def _register_profiles(group: str) -> None:
    kind = "pretrained" if group == "real" else "meta-device (no weights)"

    @register(
        f"profiles_{group}",
        data=("profiles.csv",),
        notebook=NOTEBOOK,
        claim="",
        description=f"per-split FLOPs, prunable parameters and feature bits of the {kind} models",
    )
    def profiles_figure(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
        return _per_split(
            tables["profiles.csv"],
            _profile_models(params, group),
            PROFILE_PANELS,
            f"Workload of every split point ({kind} models): device and server compute, uplink",
        )

    @register(
        f"profile_costs_{group}",
        data=("profile_costs.csv",),
        notebook=NOTEBOOK,
        claim="C4",
        description=f"unpruned latency and energy of every split at full resources, {kind} models",
    )
    def costs_figure(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
        return _per_split(
            tables["profile_costs.csv"],
            _profile_models(params, group),
            COST_PANELS,
            f"Unpruned cost of every split at full resources, model.md section 7 defaults ({kind} models)",
        )


for _group in ("real", "meta"):
    _register_profiles(_group)


#: Line styles of the execution variants in the compute figure.
VARIANT_STYLES = {
    "dense": ("dense kernel, zeros computed", 0),
    "csr": ("sparse CSR kernel", 3),
    "structured": ("structured: fewer rows/channels", 2),
}


@register(
    "compute_speedups",
    data=("compute_timings.csv", "compute_fits.csv"),
    notebook=NOTEBOOK,
    claim="C3",
    description="measured speed-up of pruned layers on this CPU against the ideal 1/(1 - rho) (model.md section 2.3)",
)
def compute_speedups(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Speed-up against rho per model: ideal, dense, CSR (with the fitted sparse model) and structured pruning.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``compute_timings.csv``, ``compute_fits.csv``), by their names in ``data/``, as
        read back by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary
        [-].
    params : mapping of str to object
        The validated parameters of notebook ``05_system_profiles`` (``data/parameters_05_system_profiles.json``), each
        in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 6, claim C3.
    """
    timings, fits = tables["compute_timings.csv"], tables["compute_fits.csv"]
    names = list(dict.fromkeys(timings["model"]))
    fig, axes = new_figure(1, max(len(names), 1), width=3.2, height=2.8)
    for ax, name in zip(axes[0], names, strict=False):
        rows = timings[timings["model"] == name]
        ratios = np.array(sorted(rows["ratio"].unique()))
        ax.plot(ratios, 1.0 / (1.0 - ratios), color="k", linewidth=1.4, label="ideal 1/(1 - rho)")
        for variant, (label, colour) in VARIANT_STYLES.items():
            part = rows[rows["variant"] == variant]
            if part.empty:
                continue
            mean = part.groupby("ratio")["speedup"].median()
            low = part.groupby("ratio")["speedup_ci_low"].median()
            high = part.groupby("ratio")["speedup_ci_high"].median()
            ax.plot(mean.index, mean.to_numpy(), marker="o", markersize=3, color=palette_colour(colour), label=label)
            ax.fill_between(mean.index, low.to_numpy(), high.to_numpy(), color=palette_colour(colour), alpha=0.2)
        fit = fits[(fits["model"] == name) & (fits["layer"] == "all")]
        if len(fit):
            e, overhead = float(fit["e"].iloc[0]), float(fit["F0_per_flop"].iloc[0])
            grid = np.linspace(0.0, ratios.max(), 100)
            ax.plot(
                grid,
                1.0 / ((1.0 - grid) / e + overhead),
                linestyle="--",
                color=palette_colour(3),
                label="fitted sparse model",
            )
            ax.text(0.03, 0.97, f"e = {e:.2f}, F0 = {overhead:.2f} F", transform=ax.transAxes, va="top", fontsize=8)
        ax.axhline(1.0, color="0.6", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(r"speed-up [x dense at $\rho$ = 0]" if ax is axes[0][0] else "")
    fig.supxlabel(RHO_LABEL, fontsize=10)  # once: three copies of the long label overprint each other
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_lines() if not h.get_label().startswith("_")}
    figure_legend(fig, list(handles.values()), list(handles))
    fig.suptitle(
        "Does pruning pay on this CPU? Median speed-up of the timed layers (bands: 95 % intervals)", fontsize=10
    )
    return fig
