"""Figures of notebook 10_decoding (decoding a split LLM token by token, model.md section 14)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import register
from coinfer.figures.style import legend_outside, new_figure, palette_colour

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "10_decoding"
SPLIT_COSTS = "decoding_split_costs.csv"
BEST = "decoding_best_split.csv"


@register(
    "decoding_tpot_energy",
    data=(SPLIT_COSTS,),
    notebook=NOTEBOOK,
    claim="D1",
    description="TPOT and energy per token of the 7B LLaMA against the split, unpruned at full resources, over "
    "bandwidth and distance",
)
def tpot_energy(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Draw figure ``decoding_tpot_energy`` (notebook 10).

    Top: time per output token against the split, one line per bandwidth (at the middle distance) and per distance
    (at the second bandwidth); bottom: energy per token (``system`` scope) and the device's share of it.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        ``decoding_split_costs.csv`` as read back by :func:`coinfer.base.paths.read_csv` [-].
    params : mapping of str to object
        The validated parameters of notebook ``10_decoding`` [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer.

    References
    ----------
    docs/model.md section 14, question D1.
    """
    table = tables[SPLIT_COSTS]
    bandwidths = sorted(table["bandwidth"].unique())
    distances = sorted(table["distance"].unique())
    d_mid = distances[len(distances) // 2]
    b_mid = bandwidths[min(1, len(bandwidths) - 1)]
    fig, axes = new_figure(2, 2, width=3.6, height=2.6, sharex=True)
    for col, (varied, fixed_name, fixed_value, values) in enumerate(
        (("bandwidth", "distance", d_mid, bandwidths), ("distance", "bandwidth", b_mid, distances))
    ):
        for i, value in enumerate(values):
            rows = table[(table[varied] == value) & (table[fixed_name] == fixed_value)].sort_values("split")
            label = f"{value / 1e6:g} MHz" if varied == "bandwidth" else f"{value:g} m"
            colour = palette_colour(i)
            axes[0, col].plot(rows["split"], rows["tpot"] * 1e3, color=colour, label=label)
            axes[1, col].plot(rows["split"], rows["energy_token"], color=colour, label=label)
            axes[1, col].plot(rows["split"], rows["energy_device"], color=colour, linestyle=":")
        fixed_label = f"{fixed_value:g} m" if fixed_name == "distance" else f"{fixed_value / 1e6:g} MHz"
        axes[0, col].set_title(f"over {varied} ({fixed_name} {fixed_label})", fontsize=9)
        axes[0, col].axhline(100.0, color="0.5", linestyle="--", linewidth=1)
        axes[0, col].set_yscale("log")
        axes[1, col].set_yscale("log")
        axes[0, col].set_ylabel("TPOT [ms] (dashed: 100 ms)")
        axes[1, col].set_ylabel("energy per token [J] (dotted: device)")
        axes[1, col].set_xlabel("split s [blocks on the device]")
        axes[0, col].legend(fontsize=7)
    fig.suptitle(
        f"{params['model']}: decoding at context {params['max_context']}, unpruned, full resources", fontsize=10
    )
    return fig


@register(
    "decoding_best_split",
    data=(BEST,),
    notebook=NOTEBOOK,
    claim="D1",
    description="best decoding split of the 7B LLaMA against the access latency, with and without pruning, per "
    "energy scope",
)
def best_split(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Draw figure ``decoding_best_split`` (notebook 10).

    Per energy scope, the best split (model.md 14.3) against the one-way access latency, one marker per bandwidth
    and distance, with pruning (filled) and without (open); ``-1``: no split feasible.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        ``decoding_best_split.csv`` as read back by :func:`coinfer.base.paths.read_csv` [-].
    params : mapping of str to object
        The validated parameters of notebook ``10_decoding`` [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer.

    References
    ----------
    docs/model.md section 14.4, question D1.
    """
    table = tables[BEST]
    fig, axes = new_figure(1, 2, width=3.8, height=3.0, sharey=True)
    points = table[["bandwidth", "distance"]].drop_duplicates().sort_values(["bandwidth", "distance"])
    for col, scope in enumerate(("system", "device")):
        ax = axes[0, col]
        for i, (bandwidth, distance) in enumerate(points.itertuples(index=False)):
            for pruning, fill in (("with", True), ("without", False)):
                rows = table[(table["scope"] == scope) & (table["pruning"] == pruning)
                             & (table["bandwidth"] == bandwidth) & (table["distance"] == distance)]  # fmt: skip
                rows = rows.sort_values("access_latency")
                colour = palette_colour(i)
                ax.plot(rows["access_latency"] * 1e3, rows["best_split"] + (0.25 if fill else -0.25),
                        marker="o", markersize=4, linestyle="-" if fill else ":", color=colour,
                        markerfacecolor=colour if fill else "none",
                        label=f"{bandwidth / 1e6:g} MHz, {distance:g} m" if fill else None)  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("access latency, each direction [ms]")
        ax.set_title(f"{scope} scope (filled: pruned; -1: none)", fontsize=9)
        ax.set_ylabel("best split [blocks]")
    legend_outside(axes[0, 0], fontsize=6)
    fig.suptitle(f"{params['model']}: best decoding split under TTFT 2 s, TPOT 0.1 s", fontsize=10)
    return fig
