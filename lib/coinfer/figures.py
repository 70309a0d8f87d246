"""Every figure of the artifact, drawn from the tidy tables in ``data/`` alone.

One function per figure, ``plot(tables, params) -> Figure``: ``tables`` maps
the data files the figure reads (names as in ``data/``) to the frames read back
with :func:`coinfer.paths.read_csv`, ``params`` are the validated parameters
of the notebook that computed them (``data/parameters_<notebook>.json``,
written by :func:`coinfer.notebook_params.record`). The functions never see a
model or recompute a result, so the computing notebooks (which call
:func:`show` right after writing their tables) and ``07_figures`` (which calls
:func:`regenerate_all`) produce the same bytes from the same data. The
figures show claims C1 (SPEC 3), C2 (SPEC 4), C3 and C4 (SPEC 5) and the
workload profiles of SPEC 6.

:data:`FIGURES` is the registry: figure name -> plotting function, the data
files it reads, the notebook whose parameters its caption states, and the
claim of SPEC section 1 it supports.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from coinfer import paths, plotting
from coinfer.notebook_params import NOTEBOOKS, SCHEMAS
from coinfer.optimise import SCHEMES

PlotFunction = Callable[[Mapping[str, pd.DataFrame], Mapping[str, Any]], Figure]


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure: what draws it, from which data, with whose parameters."""

    name: str
    plot: PlotFunction
    data: tuple[str, ...]
    notebook: str
    claim: str
    description: str


#: name -> :class:`FigureSpec`, in notebook order.
FIGURES: dict[str, FigureSpec] = {}


def register(
    name: str, *, data: Sequence[str], notebook: str, claim: str, description: str
) -> Callable[[PlotFunction], PlotFunction]:
    """Decorator adding a plotting function to :data:`FIGURES`."""
    if notebook not in NOTEBOOKS:
        raise ValueError(f"figure {name}: unknown notebook {notebook!r}")

    def add(function: PlotFunction) -> PlotFunction:
        if name in FIGURES:
            raise ValueError(f"figure {name} is registered twice")
        FIGURES[name] = FigureSpec(name, function, tuple(data), notebook, claim, description)
        return function

    return add


# --------------------------------------------------------------------------- reading and saving
def parameters_file(notebook: str) -> str:
    """Name of the file in ``data/`` holding ``notebook``'s validated parameters."""
    return f"parameters_{notebook}.json"


def load_parameters(notebook: str) -> dict[str, Any]:
    """The recorded parameters of ``notebook``, in the order of its schema."""
    path = paths.data_dir() / parameters_file(notebook)
    if not path.exists():
        raise FileNotFoundError(f"data/{path.name} does not exist; run notebook {notebook} first (see README)")
    stored = json.loads(path.read_text(encoding="utf-8"))
    order = list(SCHEMAS[notebook])
    return {key: stored[key] for key in sorted(stored, key=lambda k: (order.index(k) if k in order else len(order), k))}


def spec_of(name: str) -> FigureSpec:
    """The registered figure ``name``; a clear error for an unknown name."""
    if name not in FIGURES:
        raise KeyError(f"figure {name!r} is not registered in coinfer.figures; known: {', '.join(FIGURES)}")
    return FIGURES[name]


def load_tables(name: str) -> dict[str, pd.DataFrame]:
    """The data files figure ``name`` reads, as written to ``data/``."""
    return {file: paths.read_csv(file) for file in spec_of(name).data}


def caption(name: str, params: Mapping[str, Any]) -> str:
    """The caption line of a figure: its notebook's parameters and its data files."""
    spec = spec_of(name)
    return (
        f"{spec.notebook} parameters: {plotting.format_params(params) or 'none'}. "
        f"Data: {', '.join('data/' + f for f in spec.data)}."
    )


def render(name: str) -> Figure:
    """Draw figure ``name`` from ``data/`` (tables and recorded parameters), unsaved."""
    spec = spec_of(name)
    plotting.set_style()  # the same style whoever calls, whatever ran before
    params = load_parameters(spec.notebook)
    return spec.plot(load_tables(name), params)


def save(name: str) -> list[Path]:
    """Draw figure ``name`` from ``data/`` and save ``figures/<name>.pdf`` and ``.png``."""
    fig = render(name)
    return plotting.save_figure(fig, name, caption(name, load_parameters(spec_of(name).notebook)))


def display_saved(name: str) -> None:
    """Show ``figures/<name>.png`` in a notebook: exactly the saved file, whatever the backend."""
    from IPython.display import Image, display

    display(Image(data=(paths.figures_dir() / f"{name}.png").read_bytes()))


def show(name: str) -> None:
    """Save figure ``name`` (see :func:`save`) and display it: what a computing notebook calls."""
    save(name)
    display_saved(name)


def figures_of(notebooks: Iterable[str] | None = None) -> list[FigureSpec]:
    """Registered figures of the given notebooks (all when ``None``), in notebook order."""
    wanted = list(NOTEBOOKS) if notebooks is None else list(notebooks)
    unknown = sorted(set(wanted) - set(NOTEBOOKS))
    if unknown:
        raise ValueError(f"unknown notebook {unknown[0]!r}")
    return [spec for nb in NOTEBOOKS if nb in wanted for spec in FIGURES.values() if spec.notebook == nb]


def missing_inputs(name: str) -> list[str]:
    """Files in ``data/`` that figure ``name`` needs and that do not exist."""
    spec = spec_of(name)
    needed = [*spec.data, parameters_file(spec.notebook)]
    return [file for file in needed if not (paths.data_dir() / file).exists()]


def regenerate_all(notebooks: Iterable[str] | None = None, *, skip_missing: bool = False) -> list[Path]:
    """Redraw and save every registered figure (of ``notebooks``) from ``data/``.

    A figure whose data files are missing raises ``FileNotFoundError`` naming
    them, or is skipped with ``skip_missing``.
    """
    written: list[Path] = []
    for spec in figures_of(notebooks):
        missing = missing_inputs(spec.name)
        if missing:
            if skip_missing:
                continue
            raise FileNotFoundError(f"figure {spec.name}: data/{missing[0]} does not exist; run {spec.notebook} first")
        written += save(spec.name)
    return written


def registry_table() -> pd.DataFrame:
    """:data:`FIGURES` as a table: figure, claim, notebook, data files, description."""
    return pd.DataFrame(
        [
            {
                "figure": s.name,
                "claim": s.claim or "-",
                "notebook": s.notebook,
                "data": ", ".join(s.data),
                "description": s.description,
            }
            for s in figures_of()
        ]
    )


def describe(value: Any) -> str:
    """A measured value (number, string or nested mapping) in one line of text."""
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {describe(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def display_claim(claim: str, verdicts: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """In a notebook: the verdict on ``claim`` (from the claims report) and its saved figures.

    ``claim`` is a SPEC 1 id (``"C1"``...) or ``""`` for figures that support no single claim.
    """
    from IPython.display import Markdown, display

    verdict = (verdicts or {}).get(claim)
    if verdict is not None:
        status = "**holds**" if verdict.get("holds") else "**does not hold**"
        display(
            Markdown(
                f"**{claim}** {status}. Criterion: {verdict.get('criterion', '')}.\n\n"
                f"Measured: {describe(verdict.get('measured', ''))}."
            )
        )
    for spec in figures_of():
        if spec.claim == claim and (paths.figures_dir() / f"{spec.name}.png").exists():
            display(Markdown(f"**`figures/{spec.name}`**: {spec.description} (data from {spec.notebook})."))
            display_saved(spec.name)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for tests and previews; saving goes through :func:`save`)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# --------------------------------------------------------------------------- shared helpers
#: Fixed colours and markers, so a scheme, model or bit width looks the same in every figure.
SCHEME_ORDER: tuple[str, ...] = SCHEMES
SCHEME_MARKERS = dict(zip(SCHEME_ORDER, ("o", "s", "^", "v", "D", "P", "X"), strict=True))
#: ``models.MODEL_NAMES + models.META_MODEL_NAMES`` (a test keeps them equal; importing models would load torch).
MODEL_ORDER = ("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b")
RHO_LABEL = r"pruning ratio $\rho$ [fraction of weights removed]"


def palette_colour(index: int) -> tuple[float, float, float]:
    """Colour ``index`` of the artifact's palette (:data:`coinfer.plotting.PALETTE`)."""
    import seaborn as sns

    colours = sns.color_palette(plotting.PALETTE, 10)
    return colours[index % len(colours)]


def scheme_colour(scheme: str) -> tuple[float, float, float]:
    """The colour of an optimisation scheme, the same in every figure."""
    return palette_colour(SCHEME_ORDER.index(scheme) if scheme in SCHEME_ORDER else len(SCHEME_ORDER))


def model_colour(model: str) -> tuple[float, float, float]:
    """The colour of a model, the same in every figure."""
    return palette_colour(MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER))


def bits_colour(q: int, all_bits: Sequence[int]) -> tuple[float, float, float]:
    """The colour of a bit width ``q`` among ``all_bits`` (sorted)."""
    return palette_colour(sorted(int(b) for b in all_bits).index(int(q)))


def new_figure(nrows: int, ncols: int, *, width: float, height: float, **subplot_kw: Any) -> tuple[Figure, np.ndarray]:
    """A figure (not registered with pyplot) and its 2-D array of axes; ``width``/``height`` per panel, inches."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def legend_outside(ax: Axes, **kw: Any) -> None:
    """A legend to the right of ``ax`` (so it never hides data)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, **kw)


# --------------------------------------------------------------------------- 01 distortion bound (C1)
@register(
    "bound_tightness",
    data=("bound_random_networks.csv", "bound_digits_mlp.csv"),
    notebook="01_distortion_bound",
    claim="C1",
    description="output distortion / SPEC 3 bound versus pruning ratio, both forms of the bound",
)
def bound_tightness(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Tightness (output distortion / bound) of both forms of the SPEC 3 bound versus the pruning ratio."""
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
        "C1: output distortion over the SPEC 3 bound (below 1 = bound holds), random networks and digits MLP",
        fontsize=10,
    )
    return fig


@register(
    "bound_digits_mlp",
    data=("bound_digits_mlp.csv",),
    notebook="01_distortion_bound",
    claim="C1",
    description="digits MLP: parameter vs output distortion, and test accuracy, versus pruning ratio",
)
def bound_digits_mlp(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Parameter distortion, mean output distortion and test accuracy of the pruned digits MLP."""
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


# --------------------------------------------------------------------------- 02 rate distortion (C2)
@register(
    "rate_distortion",
    data=("rd_rate_function.csv", "rd_curves.csv", "rd_monte_carlo.csv", "rd_crossover.csv", "rd_digits_mlp.csv"),
    notebook="02_rate_distortion",
    claim="C2",
    description="R(D) of a Laplace source, the lower bound D_LB(rho) against magnitude pruning, and real weights",
)
def rate_distortion(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """R(D); D_LB and D_mag under the Laplace model with Monte Carlo; measured distortion of the digits MLP."""
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
    ax.legend(fontsize=7)

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
    ax.legend(fontsize=7)
    fig.suptitle("C2: rate-distortion lower bound on parameter distortion versus magnitude pruning", fontsize=10)
    return fig


# --------------------------------------------------------------------------- shared by 03-06
def in_order(values: Iterable[Any]) -> list[Any]:
    """Distinct values in order of first appearance (the order the notebook wrote them)."""
    return list(dict.fromkeys(v for v in values if not (isinstance(v, float) and np.isnan(v))))


def part_label(part: str, split_name: Any) -> str:
    """``whole model`` or ``device @ <split name>``."""
    return "whole model" if part == "all" else f"{part} @ {split_name}"


def mark_infeasible(ax: Axes, xs: Sequence[float], colour: Any, offset: int = 0) -> None:
    """Infeasible points as crosses along the bottom edge inside ``ax`` (staggered upwards per series)."""
    if len(xs):
        ax.scatter(
            xs,
            np.full(len(xs), 0.03 + 0.03 * offset),
            transform=ax.get_xaxis_transform(),
            marker="x",
            s=16,
            color=colour,
            zorder=5,
        )
        # the blended transform hides these points from autoscaling: widen the x data limits by hand
        ax.dataLim.update_from_data_x(np.asarray(xs, dtype=float), ignore=False)
        ax.autoscale_view(scaley=False)


#: Colours of the parts of the system in the profile figures (device and server as their fully-local schemes).
SIDE_COLOURS = {
    "device": SCHEME_ORDER.index("on_device"),
    "server": SCHEME_ORDER.index("on_server"),
    "uplink": 9,
    "total": None,
}


def side_colour(side: str) -> Any:
    """Colour of a side of the system: device, uplink, server, or total (black)."""
    index = SIDE_COLOURS[side]
    return "k" if index is None else palette_colour(index)


# --------------------------------------------------------------------------- 03 weight distributions (C2 premise)
def histogram_rows(values: np.ndarray, centre: float, bins: int, quantile: float = 0.9999) -> pd.DataFrame:
    """A density histogram of ``values`` on ``centre +- q``-quantile of ``|values - centre|``, as tidy rows."""
    values = np.asarray(values, dtype=float)
    half = float(np.quantile(np.abs(values - centre), quantile))
    density, edges = np.histogram(values, bins=bins, range=(centre - half, centre + half), density=True)
    return pd.DataFrame({"bin_left": edges[:-1], "bin_right": edges[1:], "density": density, "half_range": half})


@register(
    "weight_histograms",
    data=("weight_histograms.csv", "weight_fits.csv"),
    notebook="03_weight_distributions",
    claim="C2",
    description="weight histograms with the fitted Laplace and Gaussian densities, whole model and both sides",
)
def weight_histograms(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """One row per model: histograms of the whole model and of both sides at the middle split, log density."""
    from scipy import stats

    hist = tables["weight_histograms.csv"]
    fits = tables["weight_fits.csv"]
    models = in_order(hist.model)
    ncols = int(hist[["model", "part", "split"]].drop_duplicates().groupby("model").size().max())
    fig, axes = new_figure(len(models), ncols, width=4.0, height=2.8)
    for row, name in enumerate(models):
        sets = hist[hist.model == name]
        keys = sets[["part", "split"]].drop_duplicates().itertuples(index=False)
        for col, (part, split) in enumerate(keys):
            ax = axes[row, col]
            same = (sets.part == part) & ((sets.split == split) | (sets.split.isna() & pd.isna(split)))
            bars = sets[same]
            first = bars.iloc[0]
            edges = np.append(bars.bin_left.to_numpy(), bars.bin_right.iloc[-1])
            ax.stairs(bars.density.to_numpy(), edges, fill=True, color="0.78", label="weights")
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
            ax.plot(grid, laplace, color=palette_colour(0), label=f"Laplace, b = {lap['scale']:.3g}")
            ax.plot(grid, gaussian, "--", color=palette_colour(1), label=rf"Gaussian, $\sigma$ = {gau['scale']:.3g}")
            ax.set_yscale("log")
            top = 2.0 * max(float(bars.density.max()), float(laplace.max()), float(gaussian.max()))
            ax.set_ylim(max(1e-3 / float(first.half_range), 1e-6), top)
            where = "whole model" if part == "all" else f"{part} part, split {int(split)} ({first.split_name})"
            ax.set_title(f"{name}: {where}\nn = {int(first.n):,} (shown {int(first.n_shown):,})", fontsize=8)
            ax.set_xlabel("weight value w [-]" if row == len(models) - 1 else "")
            ax.set_ylabel("density [1/weight unit]" if col == 0 else "")
            ax.legend(fontsize=6, loc="lower center")
        for col in range(ncols):
            if not axes[row, col].has_data():
                axes[row, col].axis("off")
    fig.suptitle("C2 premise: are pretrained weights Laplacian? Histograms (central 99.99 %) and ML fits", fontsize=10)
    return fig


@register(
    "weight_fits_layers",
    data=("weight_fit_verdicts.csv",),
    notebook="03_weight_distributions",
    claim="C2",
    description="per layer: Laplace minus Gaussian log-likelihood, and KS distance of both fits",
)
def weight_fits_layers(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Per prunable layer: log-likelihood gain of the Laplace fit, and KS distances of both fits."""
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


# --------------------------------------------------------------------------- 04 pruning distortion (C1, C2)
@register(
    "pruning_c2_distortion",
    data=("pruning_param_distortion.csv",),
    notebook="04_pruning_distortion",
    claim="C2",
    description="measured parameter distortion of pretrained models against D_LB and D_mag (whole model)",
)
def pruning_c2_distortion(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Whole model, per storage: measured l1 distortion per weight / b, with D_LB (same q) and the Laplace D_mag."""
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
        ax.set_xlabel(RHO_LABEL)
    axes[0, 0].set_ylabel(r"$\ell_1$ distortion per weight / b [-]")
    legend_outside(axes[0, -1])
    fig.suptitle(
        "C2 on pretrained weights: magnitude pruning (+ q-bit quantisation) against the lower bound", fontsize=10
    )
    return fig


@register(
    "pruning_c2_ratio_to_bound",
    data=("pruning_param_distortion.csv",),
    notebook="04_pruning_distortion",
    claim="C2",
    description="measured distortion over D_LB for every part and split, per storage",
)
def pruning_c2_ratio_to_bound(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Measured / D_LB for every (part, split), one row per storage, one column per model; 1 is the bound."""
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
                    label=part_label(part, group.split_name.iloc[0]),
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
    data=("first_order_bound.csv",),
    notebook="04_pruning_distortion",
    claim="C1",
    description="share of held-out inputs where the first-order bound |df| <= H |dW| holds, per ratio",
)
def pruning_first_order_bound(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Fraction of held-out inputs where the fitted first-order bound (solid) and H = 1 relative form (dotted) hold."""
    first_order = tables["first_order_bound.csv"]
    models = in_order(first_order.model)
    fig, axes = new_figure(1, len(models), width=3.6, height=3.4)
    for ax, name in zip(axes[0], models, strict=True):
        sub = first_order[first_order.model == name]
        for k, ((part, _split), group) in enumerate(sub.groupby(["part", "split"], sort=False, dropna=False)):
            ax.plot(
                group.ratio,
                group.frac_holds,
                marker=".",
                lw=1,
                color=palette_colour(k),
                label=part_label(part, group.split_name.iloc[0]),
            )
            ax.plot(group.ratio, group.frac_holds_relative, ":", lw=1, color=palette_colour(k))
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{name}\nsolid: fitted H, dotted: relative, H = 1", fontsize=8)
        ax.set_xlabel(RHO_LABEL)
        ax.legend(fontsize=6)
    axes[0, 0].set_ylabel("held-out inputs where it holds [fraction]")
    fig.suptitle(
        r"C1, first-order form $\|\Delta f\|_1 \leq H \|\Delta W\|_1$ (H fitted on calibration inputs)", fontsize=10
    )
    return fig


@register(
    "pruning_output_distortion",
    data=("pruning_sweep.csv",),
    notebook="04_pruning_distortion",
    claim="C1",
    description="relative output and parameter distortion, and the task metric, on held-out inputs",
)
def pruning_output_distortion(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Top: relative output (solid) and parameter (dashed) distortion; bottom: task metric; held-out inputs."""
    sweep = tables["pruning_sweep.csv"]
    held = sweep[sweep.subset == "heldout"]
    models = in_order(held.model)
    fig, axes = new_figure(2, len(models), width=3.6, height=2.9)
    for j, name in enumerate(models):
        sub = held[(held.model == name) & (held.ratio > 0)]
        for k, ((part, _split), group) in enumerate(sub.groupby(["part", "split"], sort=False, dropna=False)):
            label = part_label(part, group.split_name.iloc[0])
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


# --------------------------------------------------------------------------- 05 system profiles
PROFILE_PANELS = [
    ("dense FLOPs [FLOP]", [("flops_device", "device"), ("flops_server", "server")]),
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


def per_split(
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
                ax.plot(shown.split, shown[column], label=side, color=side_colour(side), **style)
            ax.set_yscale("log")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_title(name if row == 0 else "", fontsize=9)
            ax.set_xlabel("split point s [blocks on device]" if row == len(panels) - 1 else "")
            ax.set_ylabel(label if col == 0 else "")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_lines()}
    fig.legend(list(handles.values()), list(handles), loc="outside right upper")
    fig.suptitle(title, fontsize=10)
    return fig


def _profile_models(params: Mapping[str, Any], group: str) -> list[str]:
    return list(params["models"] if group == "real" else params["meta_models"])


def _register_profiles(group: str) -> None:
    kind = "pretrained" if group == "real" else "meta-device (no weights)"

    @register(
        f"profiles_{group}",
        data=("profiles.csv",),
        notebook="05_system_profiles",
        claim="",
        description=f"per-split FLOPs, prunable parameters and feature bits of the {kind} models",
    )
    def profiles_figure(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
        return per_split(
            tables["profiles.csv"],
            _profile_models(params, group),
            PROFILE_PANELS,
            f"Workload of every split point ({kind} models): device and server compute, uplink",
        )

    @register(
        f"profile_costs_{group}",
        data=("profile_costs.csv",),
        notebook="05_system_profiles",
        claim="C4",
        description=f"unpruned latency and energy of every split at full resources, {kind} models",
    )
    def costs_figure(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
        return per_split(
            tables["profile_costs.csv"],
            _profile_models(params, group),
            COST_PANELS,
            f"Unpruned cost of every split at full resources, SPEC 7 defaults ({kind} models)",
        )


for _group in ("real", "meta"):
    _register_profiles(_group)


# --------------------------------------------------------------------------- 06 joint optimisation (C3, C4)
SWEEP_LABELS = {
    "latency_budget": r"latency budget $T_0 / T_{ref}$ [-]",
    "energy_budget": r"energy budget $E_0 / E_{ref}$ [-]",
    "bandwidth": "bandwidth B [Hz]",
    "distance": "distance d [m]",
}
OBJECTIVE_LABEL = r"distortion bound $D / \bar b$ [-]"


def scheme_line(ax: Axes, x: Any, y: Any, scheme: str) -> None:
    """One scheme's curve in its fixed colour and marker (the proposed design thick and solid)."""
    proposed = scheme == "proposed"
    ax.plot(
        x,
        y,
        marker=SCHEME_MARKERS.get(scheme, "o"),
        markersize=3,
        color=scheme_colour(scheme),
        label=scheme,
        linestyle="-" if proposed else "--",
        linewidth=2.2 if proposed else 1.1,
    )


@register(
    "opt_budget_sweep",
    data=("opt_budget_sweep.csv",),
    notebook="06_joint_optimisation",
    claim="C3",
    description="objective of every scheme against latency and energy budgets, bandwidth and distance",
)
def opt_budget_sweep(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: models; columns: the four sweeps; one line per scheme; crosses at the bottom: infeasible."""
    table = tables["opt_budget_sweep.csv"]
    models, sweeps = in_order(table.model), in_order(table.sweep)
    schemes = [s for s in SCHEME_ORDER if s in set(table.scheme)]
    schemes += [s for s in in_order(table.scheme) if s not in SCHEME_ORDER]
    fig, axes = new_figure(len(models), len(sweeps), width=3.5, height=2.8)
    for i, name in enumerate(models):
        for j, sweep in enumerate(sweeps):
            ax = axes[i, j]
            part = table[(table.model == name) & (table.sweep == sweep)]
            for k, scheme in enumerate(schemes):
                rows = part[part.scheme == scheme].sort_values("x")
                ok = rows[rows.status == "optimal"]
                scheme_line(ax, ok.x, ok.objective_norm, scheme)
                mark_infeasible(ax, rows.x[rows.status != "optimal"].to_numpy(), scheme_colour(scheme), k)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel(SWEEP_LABELS.get(sweep, sweep) if i == len(models) - 1 else "")
            ax.set_ylabel(OBJECTIVE_LABEL if j == 0 else "")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    fig.suptitle(
        "C3: proposed joint design against the benchmarks (lower is better; x on the bottom edge: infeasible)",
        fontsize=10,
    )
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
    notebook="06_joint_optimisation",
    claim="C3",
    description="optimal ratios, power, frequencies and latency shares along the latency-budget sweep",
)
def opt_decisions_latency_budget(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Decisions of the proposed design along the latency sweep; the chosen split is written above the ratios."""
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
            if j == 0:
                for x_value, split in part.loc[part.status == "optimal", ["x", "split"]].itertuples(index=False):
                    ax.annotate(f"{int(split)}", (x_value, 1.0), fontsize=6, ha="center", va="bottom", color="0.4")
    fig.suptitle("C3: decisions of the proposed design along the latency budget (numbers: chosen split)", fontsize=10)
    return fig


@register(
    "opt_split_objective",
    data=("opt_split_sweep.csv",),
    notebook="06_joint_optimisation",
    claim="C4",
    description="optimum of every split point at several bandwidths and latency budgets",
)
def opt_split_objective(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Rows: models; columns: bandwidths; one line per latency budget; star: best split; x: infeasible split."""
    import seaborn as sns

    table = tables["opt_split_sweep.csv"]
    models = in_order(table.model)
    bandwidths, factors = sorted(table.bandwidth.unique()), sorted(table.latency_factor.unique())
    colours = dict(zip(factors, sns.color_palette("viridis", len(factors)), strict=True))
    fig, axes = new_figure(len(models), len(bandwidths), width=3.5, height=2.7)
    for i, name in enumerate(models):
        for j, bandwidth in enumerate(bandwidths):
            ax = axes[i, j]
            part = table[(table.model == name) & (table.bandwidth == bandwidth)]
            for k, factor in enumerate(factors):
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
                mark_infeasible(ax, rows.split[rows.status != "optimal"].to_numpy(), colours[factor], k)
                win = rows[rows.best.astype(bool)]
                ax.scatter(
                    win.split, win.objective_norm, marker="*", s=90, color=colours[factor], edgecolor="k", zorder=5
                )
            ax.set_yscale("log")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_title(f"{name}, B = {bandwidth / 1e6:g} MHz", fontsize=9)
            ax.set_xlabel("split point s [blocks on device]" if i == len(models) - 1 else "")
            ax.set_ylabel(OBJECTIVE_LABEL if j == 0 else "")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("C4: optimum at every split point (star: best split; x on the bottom edge: infeasible)", fontsize=10)
    return fig


def log_edges(centres: Sequence[float]) -> np.ndarray:
    """Cell edges of a log-spaced grid: geometric midpoints, extended by half a step at both ends."""
    logs = np.log(np.asarray(centres, dtype=float))
    step = logs[1] - logs[0] if len(logs) > 1 else 1.0
    return np.exp(np.concatenate([[logs[0] - step / 2], (logs[:-1] + logs[1:]) / 2, [logs[-1] + step / 2]]))


@register(
    "opt_split_winner",
    data=("opt_split_winners.csv", "profiles.csv"),
    notebook="06_joint_optimisation",
    claim="C4",
    description="map of the best split point over bandwidth and latency budget",
)
def opt_split_winner(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Per model: the winning split over bandwidth x latency budget (grey: infeasible everywhere)."""
    winners = tables["opt_split_winners.csv"]
    profile = tables["profiles.csv"]
    models = in_order(winners.model)
    fig, axes = new_figure(1, len(models), width=4.3, height=3.6)
    for ax, name in zip(axes[0], models, strict=True):
        part = winners[winners.model == name]
        last = int(profile.loc[profile.model == name, "split"].max())
        grid = part.pivot(index="latency_factor", columns="bandwidth", values="winner").astype(float)
        mesh = ax.pcolormesh(
            log_edges(grid.columns),
            log_edges(grid.index),
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
        ax.set_ylabel(r"latency budget $T_0 / T_{ref}$ [-]")
        ax.set_title(f"{name}: best split (L = {last})", fontsize=9)
        fig.colorbar(mesh, ax=ax, label="split point s [blocks on device]")
        if grid.shape[0] <= 16 and grid.shape[1] <= 16:
            for bandwidth, factor, split in part[["bandwidth", "latency_factor", "winner"]].itertuples(index=False):
                if pd.notna(split):
                    ax.text(bandwidth, factor, f"{int(split)}", ha="center", va="center", fontsize=5, color="w")
    fig.suptitle("C4: which split point wins, over bandwidth and latency budget (grey: infeasible)", fontsize=10)
    return fig


@register(
    "opt_fading",
    data=("opt_fading_summary.csv",),
    notebook="06_joint_optimisation",
    claim="C3",
    description="Rayleigh fading: probability of feasibility and mean objective per scheme",
)
def opt_fading(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Bars per model and scheme: feasibility probability, and mean objective over the feasible draws."""
    summary = tables["opt_fading_summary.csv"]
    models = in_order(summary.model)
    schemes = [s for s in SCHEME_ORDER if s in set(summary.scheme)]
    width = 0.8 / max(len(schemes), 1)
    fig, axes = new_figure(1, 2, width=5.2, height=3.4)
    for ax, column, label in [
        (axes[0, 0], "p_feasible", "probability of feasibility [-]"),
        (axes[0, 1], "mean_objective_norm", r"mean $D / \bar b$ over feasible draws [-]"),
    ]:
        for k, scheme in enumerate(schemes):
            rows = summary[summary.scheme == scheme].set_index("model").reindex(models)
            ax.bar(
                np.arange(len(models)) + (k - (len(schemes) - 1) / 2) * width,
                rows[column].fillna(0).to_numpy(),
                width,
                color=scheme_colour(scheme),
                label=scheme,
            )
        ax.set_xticks(np.arange(len(models)), models)
        ax.set_ylabel(label)
    axes[0, 1].set_yscale("log")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    fig.suptitle(r"C3 under Rayleigh fading $|h|^2 \sim$ Exp(1), default budgets", fontsize=10)
    return fig


@register(
    "opt_solver_agreement",
    data=("opt_solver_agreement.csv",),
    notebook="06_joint_optimisation",
    claim="C3",
    description="fast solver against the cvxpy reference on random instances",
)
def opt_solver_agreement(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Objective of ``solve`` against ``solve_reference`` on the instances optimal in both."""
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
    fig.suptitle("The fast solver agrees with the convex reference (SPEC 5)", fontsize=10)
    return fig
