"""Figures of notebook 04 (pruning distortion, claims C1 and C2) on pretrained models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import in_order, register
from coinfer.figures.style import RHO_LABEL, legend_outside, new_figure, palette_colour

#: The pruning-ratio label short enough for four narrow panels side by side.
RHO_SHORT_LABEL = r"pruning ratio $\rho$ [fraction removed]"

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "04_pruning_distortion"


def _part_label(part: str, split_name: Any) -> str:
    """``whole model`` or ``device @ <split name>``."""
    return "whole model" if part == "all" else f"{part} @ {split_name}"


@register(
    "pruning_c2_distortion",
    data=("pruning_param_distortion.csv",),
    notebook=NOTEBOOK,
    claim="C2",
    description="measured parameter distortion of pretrained models against D_LB and D_mag (whole model)",
)
def pruning_c2_distortion(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Whole model, per storage: measured l1 distortion per weight / b, with D_LB (same q) and the Laplace D_mag.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``pruning_param_distortion.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``04_pruning_distortion`` (``data/parameters_04_pruning_distortion.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 3 and 4.4, claim C2.
    """
    curves = tables["pruning_param_distortion.csv"]
    models = in_order(curves.model)
    quants = in_order(curves.quantisation)
    fig, axes = new_figure(1, len(models), width=3.6, height=3.4)
    for ax, name in zip(axes[0], models, strict=True):
        sub = curves[(curves.model == name) & (curves.part == "all")]
        b = float(sub.scale.iloc[0])
        for i, quant in enumerate(quants):
            group = sub[sub.quantisation == quant]
            ax.plot(group.ratio, group.measured / b, marker=".", color=palette_colour(i), label=f"measured, {quant}")
            ax.plot(
                group.ratio,
                group.d_lb / b,
                "--",
                color=palette_colour(i),
                label=f"$D_{{LB}}$, q = {int(group.q_bound.iloc[0])}",
            )
        first = sub[sub.quantisation == quants[0]]
        ax.plot(first.ratio, first.d_mag / b, ":k", label="$D_{mag}$ (Laplace)")
        ax.set_yscale("log")
        ax.set_title(f"{name} (b = {b:.3g})", fontsize=9)
        ax.set_xlabel(RHO_SHORT_LABEL)
    axes[0, 0].set_ylabel(r"$\ell_1$ distortion per weight / b [-]")
    legend_outside(axes[0, -1])
    fig.suptitle(
        "C2 on pretrained weights: magnitude pruning (+ q-bit quantisation) against the lower bound", fontsize=10
    )
    return fig


@register(
    "pruning_c2_ratio_to_bound",
    data=("pruning_param_distortion.csv",),
    notebook=NOTEBOOK,
    claim="C2",
    description="measured distortion over D_LB for every part and split, per storage",
)
def pruning_c2_ratio_to_bound(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Measured / D_LB for every (part, split), one row per storage, one column per model; 1 is the bound.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``pruning_param_distortion.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``04_pruning_distortion`` (``data/parameters_04_pruning_distortion.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 3 and 4.4, claim C2.
    """
    curves = tables["pruning_param_distortion.csv"]
    models, quants = in_order(curves.model), in_order(curves.quantisation)
    fig, axes = new_figure(len(quants), len(models), width=3.6, height=2.7)
    for i, quant in enumerate(quants):
        for j, name in enumerate(models):
            ax = axes[i, j]
            sub = curves[(curves.model == name) & (curves.quantisation == quant) & (curves.ratio > 0)]
            for k, ((part, _split), group) in enumerate(sub.groupby(["part", "split"], sort=False, dropna=False)):
                ax.plot(
                    group.ratio,
                    group.measured_over_lb,
                    lw=1,
                    color=palette_colour(k),
                    label=_part_label(part, group.split_name.iloc[0]),
                )
            ax.axhline(1, color="k", lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{name}, {quant}", fontsize=8)
            ax.set_xlabel(r"pruning ratio $\rho$ [-]" if i == len(quants) - 1 else "")
            ax.legend(fontsize=5)
        axes[i, 0].set_ylabel(r"measured / $D_{LB}$ [-]")
    fig.suptitle(r"C2: measured parameter distortion over $D_{LB}$ (above 1: the bound holds)", fontsize=10)
    return fig


@register(
    "pruning_first_order_bound",
    data=("first_order_bound.csv", "first_order_by_ratio.csv"),
    notebook=NOTEBOOK,
    claim="C1",
    description="share of held-out inputs where the first-order bound |df| <= H |dW| holds, per ratio, "
    "with the cluster-bootstrap 95 % interval of the share over all parts",
)
def pruning_first_order_bound(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Fraction of held-out inputs where the fitted first-order bound (solid) and H = 1 relative form (dotted) hold.

    Black: the share over all parts, in a grey band: its 95 % cluster-bootstrap interval (inputs, or photos, resampled
    whole; model.md section 3.3).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``first_order_bound.csv``, ``first_order_by_ratio.csv``), by their names in
        ``data/``, as read back by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data
        dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``04_pruning_distortion`` (``data/parameters_04_pruning_distortion.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 3 and 4.4, claim C1.
    """
    first_order = tables["first_order_bound.csv"]
    by_ratio = tables["first_order_by_ratio.csv"]
    models = in_order(first_order.model)
    fig, axes = new_figure(1, len(models), width=3.6, height=3.4)
    for ax, name in zip(axes[0], models, strict=True):
        pooled = by_ratio[by_ratio.model == name].sort_values("ratio")
        ax.fill_between(
            pooled.ratio, pooled.cluster_ci_low, pooled.cluster_ci_high, color="0.8", lw=0, label="95 % CI (clusters)"
        )
        ax.plot(pooled.ratio, pooled.frac_holds, color="black", lw=1.5, label="all parts")
        sub = first_order[first_order.model == name]
        for k, ((part, _split), group) in enumerate(sub.groupby(["part", "split"], sort=False, dropna=False)):
            ax.plot(
                group.ratio,
                group.frac_holds,
                marker=".",
                lw=1,
                color=palette_colour(k),
                label=_part_label(part, group.split_name.iloc[0]),
            )
            ax.plot(group.ratio, group.frac_holds_relative, ":", lw=1, color=palette_colour(k))
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{name}\nsolid: fitted H, dotted: relative, H = 1", fontsize=8)
        ax.set_xlabel(RHO_LABEL)
        legend_outside(ax, fontsize=6)  # inside, it covers the curves near rho = 1
    axes[0, 0].set_ylabel("held-out inputs where it holds [fraction]")
    fig.suptitle(
        r"C1, first-order form $\|\Delta f\|_1 \leq H \|\Delta W\|_1$ (H fitted on calibration inputs)", fontsize=10
    )
    return fig


@register(
    "pruning_output_distortion",
    data=("pruning_sweep.csv",),
    notebook=NOTEBOOK,
    claim="C1",
    description="relative output and parameter distortion, and the task metric, on held-out inputs",
)
def pruning_output_distortion(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Top: relative output (solid) and parameter (dashed) distortion; bottom: task metric; held-out inputs.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``pruning_sweep.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``04_pruning_distortion`` (``data/parameters_04_pruning_distortion.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 3 and 4.4, claim C1.
    """
    sweep = tables["pruning_sweep.csv"]
    held = sweep[sweep.subset == "heldout"]
    models = in_order(held.model)
    fig, axes = new_figure(2, len(models), width=3.6, height=2.9)
    for j, name in enumerate(models):
        sub = held[(held.model == name) & (held.ratio > 0)]
        for k, ((part, _split), group) in enumerate(sub.groupby(["part", "split"], sort=False, dropna=False)):
            label = _part_label(part, group.split_name.iloc[0])
            axes[0, j].plot(group.ratio, group.out_rel, marker=".", lw=1, color=palette_colour(k), label=label)
            axes[0, j].plot(group.ratio, group.param_rel, "--", lw=0.8, color=palette_colour(k))
            axes[1, j].plot(group.ratio, group.metric_value, marker=".", lw=1, color=palette_colour(k), label=label)
        axes[0, j].set_yscale("log")
        axes[0, j].set_title(rf"{name}" "\n" r"solid: $\|\Delta f\|/\|f\|$, dashed: $\|\Delta W\|/\|W\|$", fontsize=8)
        metric = str(sub.metric.iloc[0]) if len(sub) else "task metric"
        axes[1, j].set_ylabel(f"{metric.replace('_', ' ')} [fraction]")
        axes[1, j].set_ylim(-0.03, 1.03)
        axes[1, j].set_xlabel(RHO_LABEL)
        axes[1, j].legend(fontsize=6)
    axes[0, 0].set_ylabel(r"relative $\ell_1$ distortion [-]")
    fig.suptitle("Pruned pretrained models on held-out inputs: output distortion and task metric", fontsize=10)
    return fig
