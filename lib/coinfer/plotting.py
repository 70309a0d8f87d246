"""The artifact's figure style and atomic, reproducible figure output.

Every figure is saved as PDF and PNG under ``figures/`` with its parameters
stated in a caption line at the bottom, and with metadata stripped of dates so
that the same data gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless; notebooks display the returned figure themselves
import matplotlib.pyplot as plt
import seaborn as sns

from coinfer.paths import atomic_path, figures_dir

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
