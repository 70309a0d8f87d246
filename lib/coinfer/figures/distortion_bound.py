"""Figures of notebook 01 (distortion bound, claim C1): tightness of the model.md section 3 bound."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import register
from coinfer.figures.style import RHO_LABEL, legend_outside, new_figure, palette_colour

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "01_distortion_bound"


@register(
    "bound_tightness",
    data=("bound_random_networks.csv", "bound_digits_mlp.csv"),
    notebook=NOTEBOOK,
    claim="C1",
    description="output distortion / model.md section 3 bound versus pruning ratio, both forms of the bound",
)
def bound_tightness(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Tightness (output distortion / bound) of both forms of the model.md section 3 bound versus the pruning ratio.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``bound_random_networks.csv``, ``bound_digits_mlp.csv``), by their names in
        ``data/``, as read back by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data
        dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``01_distortion_bound`` (``data/parameters_01_distortion_bound.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 3, claim C1.
    """
    random = tables["bound_random_networks.csv"]
    random = random[random.ratio > 0]
    digits = tables["bound_digits_mlp.csv"]
    digits = digits[digits.ratio > 0]
    fig, axes = new_figure(1, 2, width=5.0, height=3.8, sharey=True)
    for ax, form in zip(axes[0], ("operator", "entrywise"), strict=True):
        colour = 0
        for (arch, mask), group in random.groupby(["architecture", "mask"], sort=True):
            by_ratio = group.groupby("ratio")
            median = by_ratio[f"tightness_{form}_median"].median()
            worst = by_ratio[f"tightness_{form}_max"].max()
            ax.plot(
                median.index,
                median.to_numpy(),
                marker="o",
                ms=3,
                color=palette_colour(colour),
                label=f"random {arch.upper()}s, {mask} mask: median",
            )
            ax.plot(
                worst.index,
                worst.to_numpy(),
                ls=":",
                color=palette_colour(colour),
                label=f"random {arch.upper()}s, {mask} mask: max",
            )
            colour += 1
        for scope, group in digits.groupby("scope", sort=True):
            ax.plot(
                group.ratio,
                group[f"tightness_{form}_median"],
                lw=2.2,
                color=palette_colour(colour),
                label=f"digits MLP, {scope} magnitude: median",
            )
            colour += 1
        ax.axhline(1.0, color="k", lw=1, label="bound met with equality")
        ax.set_yscale("log")
        ax.set_xlabel(RHO_LABEL)
        ax.set_title(
            r"operator form ($\|\cdot\|_{1\to1}$ of $W-\hat W$)"
            if form == "operator"
            else r"entrywise form ($\|W-\hat W\|_1$, parameter distortion)",
            fontsize=9,
        )
    axes[0, 0].set_ylabel(r"$\|f(x;W)-f(x;\hat W)\|_1$ / bound  [ratio]")
    legend_outside(axes[0, 1])
    fig.suptitle(
        "C1: output distortion over the model.md §3 bound (below 1 = bound holds), random networks and digits MLP",
        fontsize=10,
    )
    return fig


@register(
    "bound_digits_mlp",
    data=("bound_digits_mlp.csv",),
    notebook=NOTEBOOK,
    claim="C1",
    description="digits MLP: parameter vs output distortion, and test accuracy, versus pruning ratio",
)
def bound_digits_mlp(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Parameter distortion, mean output distortion and test accuracy of the pruned digits MLP.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``bound_digits_mlp.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``01_distortion_bound`` (``data/parameters_01_distortion_bound.json``),
        each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 3, claim C1.
    """
    table = tables["bound_digits_mlp.csv"]
    fig, axes = new_figure(1, 2, width=4.4, height=3.4)
    left, right = axes[0]
    for i, (scope, group) in enumerate(table.groupby("scope", sort=True)):
        pruned = group[group.ratio > 0]
        left.plot(
            pruned.ratio,
            pruned.param_distortion,
            color=palette_colour(i),
            marker="o",
            ms=3,
            label=rf"{scope}: parameter distortion $\|W-\hat W\|_1$",
        )
        left.plot(
            pruned.ratio,
            pruned.output_distortion_mean,
            color=palette_colour(i),
            ls="--",
            label=rf"{scope}: output distortion $\|\Delta f\|_1$ (mean)",
        )
        right.plot(
            group.ratio, group.accuracy, color=palette_colour(i), marker="o", ms=3, label=f"{scope} magnitude pruning"
        )
    left.set_yscale("log")
    left.set_xlabel(RHO_LABEL)
    left.set_ylabel(r"$\ell_1$ distortion [logit units]")
    left.set_title("parameter distortion bounds output distortion", fontsize=9)
    left.legend(fontsize=7)
    right.set_xlabel(RHO_LABEL)
    right.set_ylabel("test accuracy [fraction correct]")
    right.set_ylim(0, 1.02)
    right.set_title("accuracy of the pruned model", fontsize=9)
    right.legend(fontsize=7)
    fig.suptitle("C1 on the trained digits MLP (64-128-64-10, ReLU), magnitude pruning", fontsize=10)
    return fig
