"""The artifact's figure style and atomic, reproducible figure output.

Every figure is saved as PDF and PNG under ``figures/`` with its parameters
stated in a caption line at the bottom, and with metadata stripped of dates so
that the same data gives the same bytes.

This module is the one place for style: the seaborn theme (:func:`set_style`),
the fixed colours and markers of schemes, models and bit widths, shared axis
labels, and the figure and legend helpers every figure of
:mod:`coinfer.figures` uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless; notebooks display the returned figure themselves
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from coinfer.base.paths import atomic_path, figures_dir

#: Colours of the schemes in every optimisation figure, so they match across figures.
PALETTE = "colorblind"
_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}


def set_style() -> None:
    """Apply the one seaborn style used by every figure."""
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, font_scale=1.1)
    plt.rcParams.update(
        {"figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight", "pdf.fonttype": 42, "svg.hashsalt": "coinfer"}
    )


def format_params(params: Mapping[str, Any]) -> str:
    """``a=1, b=0.5`` with compact numbers, for captions."""

    def show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(show(v) for v in value) + "]"
        return str(value)

    return ", ".join(f"{key}={show(value)}" for key, value in params.items())


def save_figure(fig: plt.Figure, name: str, params: Mapping[str, Any] | str | None = None) -> list[Path]:
    """Save ``fig`` as ``figures/<name>.pdf`` and ``.png`` atomically.

    ``params`` (a mapping or a ready string) is written as a caption below the
    axes, so a figure never circulates without the parameters that made it.
    """
    if params:
        caption = params if isinstance(params, str) else format_params(params)
        fig.text(0.5, -0.02, caption, ha="center", va="top", fontsize=7, wrap=True, color="0.3")
    written = []
    for ext in ("pdf", "png"):
        target = figures_dir() / f"{name}.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, metadata=_METADATA[ext])
        written.append(target)
    return written


# --------------------------------------------------------------------------- shared figure style
#: Fixed colours and markers, so a scheme, model or bit width looks the same in every figure.
SCHEME_ORDER: tuple[str, ...] = (
    "proposed",
    "on_device",
    "on_server",
    "fixed_ratio",
    "max_resources",
    "shared_ratio",
    "local_nonconvex",
    "split_then_prune",
    "decoupled",
    "quantised_8bit",
    "quantised_4bit",
    "proposed_magnitude",
)
SCHEME_MARKERS = dict(zip(SCHEME_ORDER, ("o", "s", "^", "v", "D", "P", "X", "<", ">", "h", "p", "*"), strict=True))
#: Colours past the palette's ten, for the schemes that come after them in :data:`SCHEME_ORDER`.
EXTRA_SCHEME_COLOURS = ((0.25, 0.25, 0.25), (0.55, 0.45, 0.0))
#: What a scheme is called in legends: the one mapping from the code names of :data:`SCHEME_ORDER`.
SCHEME_LABELS = {
    "proposed": "proposed (joint design)",
    "on_device": "fully on-device",
    "on_server": "fully on-server",
    "fixed_ratio": r"fixed ratio $\rho_d = \rho_s = \rho_{fix}$",
    "max_resources": "maximum resources",
    "shared_ratio": r"shared ratio $\rho_d = \rho_s$",
    "local_nonconvex": "local non-convex (SLSQP)",
    "split_then_prune": "split, then prune (Neurosurgeon rule)",
    "decoupled": "resources for the dense model, then pruning",
    "quantised_8bit": "no pruning, 8-bit weights",
    "quantised_4bit": "no pruning, 4-bit weights",
    "proposed_magnitude": "proposed, magnitude objective",
}
#: ``zoo.MODEL_NAMES + models.META_MODEL_NAMES`` (a test keeps them equal; importing them would load torch).
MODEL_ORDER = ("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b")
RHO_LABEL = r"pruning ratio $\rho$ [fraction of weights removed]"


def palette_colour(index: int) -> tuple[float, float, float]:
    """Colour ``index`` of the artifact's palette (:data:`PALETTE`)."""
    colours = sns.color_palette(PALETTE, 10)
    return colours[index % len(colours)]


def scheme_colour(scheme: str) -> tuple[float, float, float]:
    """The colour of an optimisation scheme, the same in every figure."""
    index = SCHEME_ORDER.index(scheme) if scheme in SCHEME_ORDER else len(SCHEME_ORDER)
    extra = index - 10
    return EXTRA_SCHEME_COLOURS[extra] if 0 <= extra < len(EXTRA_SCHEME_COLOURS) else palette_colour(index)


def scheme_label(scheme: str) -> str:
    """The readable name of an optimisation scheme in legends (its code name if it has none)."""
    return SCHEME_LABELS.get(scheme, scheme)


def luminance(colour: Any) -> float:
    """Relative luminance (WCAG, 0 black to 1 white) of a matplotlib colour."""
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def text_colour_on(background: Any) -> str:
    """Black or white, whichever reads better on ``background``."""
    return "k" if luminance(background) > 0.18 else "w"


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
