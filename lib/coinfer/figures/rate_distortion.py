"""Figures of notebook 02 (rate distortion, claim C2): R(D), D_LB against magnitude pruning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import register
from coinfer.figures.style import RHO_LABEL, bits_colour, legend_outside, new_figure

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "02_rate_distortion"


@register(
    "rate_distortion",
    data=("rd_rate_function.csv", "rd_curves.csv", "rd_monte_carlo.csv", "rd_crossover.csv", "rd_digits_mlp.csv"),
    notebook=NOTEBOOK,
    claim="C2",
    description="R(D) of a Laplace source, the lower bound D_LB(rho) against magnitude pruning, and real weights",
)
def rate_distortion(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """R(D); D_LB and D_mag under the Laplace model with Monte Carlo; measured distortion of the digits MLP.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``rd_rate_function.csv``, ``rd_curves.csv``, ``rd_monte_carlo.csv``,
        ``rd_crossover.csv``, ``rd_digits_mlp.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``02_rate_distortion`` (``data/parameters_02_rate_distortion.json``), each
        in the unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 4, claim C2.
    """
    rate_function = tables["rd_rate_function.csv"]
    curves = tables["rd_curves.csv"]
    monte_carlo = tables["rd_monte_carlo.csv"]
    crossover = tables["rd_crossover.csv"]
    real = tables["rd_digits_mlp.csv"]
    bits = sorted(int(q) for q in curves.q.unique())
    fig, axes = new_figure(1, 3, width=4.6, height=4.0)
    ax = axes[0, 0]
    ax.semilogx(rate_function.distortion_over_b, rate_function.rate_bits, color="k")
    ax.set_xlabel(r"distortion $D/b$ [per weight, units of $b$]")
    ax.set_ylabel(r"$R(D)$ [bits per weight]")
    ax.set_title(r"$R(D)=\log_2(b/D)$: Laplace source, $\ell_1$ distortion", fontsize=9)

    ax = axes[0, 1]
    for q in bits:
        c = curves[curves.q == q]
        ax.plot(c.rho, c.d_lb_over_b, color=bits_colour(q, bits), label=rf"$D_{{LB}}$, q = {q} bits")
    closed = curves[curves.q == bits[0]]
    ax.plot(closed.rho, closed.d_mag_over_b, "k", lw=2, label=r"$D_{mag}$ (closed form)")
    mc = monte_carlo[monte_carlo.distortion > 0]
    ax.plot(
        mc.rho,
        mc.distortion / mc.b,
        "o",
        ms=3,
        mfc="none",
        color="0.45",
        label=f"Monte Carlo, n = {int(monte_carlo.n.iloc[0]):,} weights",
    )
    for row in crossover[crossover.source == "laplace_model"].itertuples():
        if int(row.q) in bits:
            ax.axvline(row.rho_crossover, ls=":", lw=0.9, color=bits_colour(row.q, bits))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-5, 1)
    ax.set_ylim(1e-11, 2)
    ax.set_xlabel(RHO_LABEL)
    ax.set_ylabel(r"distortion $D/b$ [per weight, units of $b$]")
    ax.set_title(r"Laplace model: $D_{mag}\geq D_{LB}$ right of the dotted crossovers", fontsize=9)
    legend_outside(ax)  # inside, it covers the curves

    ax = axes[0, 2]
    whole = real[real.layer == "all"]
    for q_bits, group in whole.groupby("bits", sort=True):
        if q_bits == 0:
            ax.plot(group.rho, group.distortion, "x", ms=4, color="0.3", label="measured, float32 kept weights")
            continue
        colour = bits_colour(q_bits, bits) if int(q_bits) in bits else "0.5"
        ax.plot(group.rho, group.distortion, color=colour, lw=1.5, label=f"measured, {int(q_bits)}-bit kept weights")
        ax.plot(group.rho, group.d_lb, ls="--", color=colour, lw=1)
    laplace = whole[whole.bits == 0]
    ax.plot(
        laplace.rho, laplace.d_mag_laplace, "k", lw=1, label=rf"Laplace $D_{{mag}}$, fitted b = {laplace.b.iloc[0]:.3g}"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_xlabel(RHO_LABEL)
    ax.set_ylabel(r"distortion $E|w-\hat w|$ [weight units]")
    ax.set_title(r"digits MLP weights, pooled (dashed: $D_{LB}$, same q)", fontsize=9)
    legend_outside(ax)  # inside, it covers the curves
    fig.suptitle("C2: rate-distortion lower bound on parameter distortion versus magnitude pruning", fontsize=10)
    return fig
