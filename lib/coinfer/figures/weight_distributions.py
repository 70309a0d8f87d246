"""Figures of notebook 03 (weight distributions, premise of C2): are pretrained weights Laplacian?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from coinfer.figures.registry import in_order, register
from coinfer.figures.style import figure_legend, model_colour, new_figure, palette_colour

#: Fill of the weight histograms.
HISTOGRAM_GREY = "0.78"

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "03_weight_distributions"


def histogram_rows(values: np.ndarray, centre: float, bins: int, quantile: float = 0.9999) -> pd.DataFrame:
    """A density histogram of ``values`` on ``centre +- q``-quantile of ``|values - centre|``, as tidy rows.

    Parameters
    ----------
    values : numpy.ndarray
        The weights [weight units].
    centre : float
        Centre of the histogram's range [weight units].
    bins : int
        Number of equal bins [count].
    quantile : float, default 0.9999
        Quantile of ``|values - centre|`` that sets the half range ``q`` [-].

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin_left``, ``bin_right`` [weight units], ``density`` [1/weight units] (integrating to
        1 over the range) and ``half_range`` ``q`` [weight units].
    """
    values = np.asarray(values, dtype=float)
    half = float(np.quantile(np.abs(values - centre), quantile))
    density, edges = np.histogram(values, bins=bins, range=(centre - half, centre + half), density=True)
    return pd.DataFrame({"bin_left": edges[:-1], "bin_right": edges[1:], "density": density, "half_range": half})


@register(
    "weight_histograms",
    data=("weight_histograms.csv", "weight_fits.csv"),
    notebook=NOTEBOOK,
    claim="C2",
    description="weight histograms with the fitted Laplace and Gaussian densities, whole model and both sides",
)
def weight_histograms(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """One row per model: histograms of the whole model and of both sides at the middle split, log density.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``weight_histograms.csv``, ``weight_fits.csv``), by their names in ``data/``,
        as read back by :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary
        [-].
    params : mapping of str to object
        The validated parameters of notebook ``03_weight_distributions``
        (``data/parameters_03_weight_distributions.json``), each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 4.1, claim C2.
    """
    from scipy import stats

    hist = tables["weight_histograms.csv"]
    fits = tables["weight_fits.csv"]
    models = in_order(hist.model)
    ncols = int(hist[["model", "part", "split"]].drop_duplicates().groupby("model").size().max())
    fig, axes = new_figure(len(models), ncols, width=4.0, height=3.0)
    for row, name in enumerate(models):
        sets = hist[hist.model == name]
        keys = sets[["part", "split"]].drop_duplicates().itertuples(index=False)
        for col, (part, split) in enumerate(keys):
            ax = axes[row, col]
            same = (sets.part == part) & ((sets.split == split) | (sets.split.isna() & pd.isna(split)))
            bars = sets[same]
            first = bars.iloc[0]
            edges = np.append(bars.bin_left.to_numpy(), bars.bin_right.iloc[-1])
            ax.stairs(bars.density.to_numpy(), edges, fill=True, color=HISTOGRAM_GREY)
            fit = fits[
                (fits.model == name)
                & (fits.part == part)
                & ((fits.split == split) | (fits.split.isna() & pd.isna(split)))
            ]
            lap = fit[fit.family == "laplace"].iloc[0]
            gau = fit[fit.family == "gaussian"].iloc[0]
            grid = np.linspace(edges[0], edges[-1], 801)
            laplace = stats.laplace.pdf(grid, lap["loc"], lap["scale"])
            gaussian = stats.norm.pdf(grid, gau["loc"], gau["scale"])
            ax.plot(grid, laplace, color=palette_colour(0))
            ax.plot(grid, gaussian, "--", color=palette_colour(1))
            ax.set_yscale("log")
            top = 2.0 * max(float(bars.density.max()), float(laplace.max()), float(gaussian.max()))
            ax.set_ylim(max(1e-3 / float(first.half_range), 1e-6), top)
            where = "whole model" if part == "all" else f"{part} part, split {int(split)} ({first.split_name})"
            ax.set_title(
                f"{name}: {where}\nn = {int(first.n):,} (shown {int(first.n_shown):,})\n"
                rf"fits: Laplace b = {lap['scale']:.3g}, Gaussian $\sigma$ = {gau['scale']:.3g}",
                fontsize=8,
            )
            ax.set_xlabel("weight value w [-]" if row == len(models) - 1 else "")
            ax.set_ylabel("density [1/weight unit]" if col == 0 else "")
        for col in range(ncols):
            if not axes[row, col].has_data():
                axes[row, col].axis("off")
    # one legend for every panel, outside the data (the fitted scales are in the panel titles)
    handles = [
        Patch(color=HISTOGRAM_GREY, label="weights (density histogram)"),
        Line2D([], [], color=palette_colour(0), label="Laplace ML fit, scale b"),
        Line2D([], [], color=palette_colour(1), linestyle="--", label=r"Gaussian ML fit, std $\sigma$"),
    ]
    figure_legend(fig, handles)
    fig.suptitle("C2 premise: are pretrained weights Laplacian? Histograms (central 99.99 %) and ML fits", fontsize=10)
    return fig


@register(
    "weight_fits_layers",
    data=("weight_fit_verdicts.csv",),
    notebook=NOTEBOOK,
    claim="C2",
    description="per layer: Laplace minus Gaussian log-likelihood, and KS distance of both fits",
)
def weight_fits_layers(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Per prunable layer: log-likelihood gain of the Laplace fit, and KS distances of both fits.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``weight_fit_verdicts.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``03_weight_distributions``
        (``data/parameters_03_weight_distributions.json``), each in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 4.1, claim C2.
    """
    verdicts = tables["weight_fit_verdicts.csv"]
    layers = verdicts[verdicts.part == "layer"].copy()
    layers["index"] = layers.groupby("model", sort=False).cumcount()
    fig, axes = new_figure(1, 2, width=5.0, height=3.8)
    left, right = axes[0]
    for name in in_order(layers.model):
        group = layers[layers.model == name]
        like = group.laplace_like.astype(bool).to_numpy()
        colour = model_colour(name)
        left.plot(group["index"], group.loglik_gain, lw=0.8, color=colour, label=name)
        left.scatter(group["index"][like], group.loglik_gain[like], s=12, color=colour)
        left.scatter(group["index"][~like], group.loglik_gain[~like], s=12, facecolors="none", edgecolors=colour)
        right.scatter(group.ks_gaussian, group.ks_laplace, s=12, color=colour, label=name)
    left.axhline(0, color="0.3", lw=0.8)
    left.set_xlabel("prunable layer index (model order) [-]")
    left.set_ylabel("log-lik. Laplace - Gaussian [nats/weight]")
    left.set_title("above 0: Laplace fits better (filled: Laplace-like)", fontsize=9)
    left.legend(fontsize=7)
    top = float(max(layers.ks_gaussian.max(), layers.ks_laplace.max(), 1e-3)) * 1.05
    right.plot([0, top], [0, top], color="0.3", lw=0.8)
    right.set_xlabel("KS distance, Gaussian fit [-]")
    right.set_ylabel("KS distance, Laplace fit [-]")
    right.set_title("below the diagonal: Laplace closer", fontsize=9)
    fig.suptitle("C2 premise: Laplace versus Gaussian fit of every prunable layer", fontsize=10)
    return fig
