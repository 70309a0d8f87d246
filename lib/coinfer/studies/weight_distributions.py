"""The back end of notebook 03 (claim C2's premise, model.md section 4): Laplace and Gaussian fits of the
weights of each part and each prunable layer of the zoo's models, and which of them are Laplace-like.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from coinfer.model.pruning import flat_weights
from coinfer.nets.split import PartConfig, part_columns, part_weights

if TYPE_CHECKING:
    from coinfer.nets.split import SplitModel


def weight_fit_table(
    model: SplitModel,
    configs: Iterable[PartConfig],
    *,
    max_weights: int | None = None,
    seed: int = 0,
    layers: bool = True,
    max_ks_weights: int | None = None,
) -> pd.DataFrame:
    """Laplace and Gaussian fits of the weights of each part and each prunable layer (model.md section 4, claim C2).

    ``part`` is ``all``/``device``/``server`` (all weights of that part pooled) or ``layer`` (one prunable
    layer; ``layer`` names it). Sets larger than ``max_weights`` are fitted on a seeded uniform subsample of that
    size (``n_fit``), which only affects the last digits of the fitted values.

    Parameters
    ----------
    model : SplitModel
        The split model.
    configs : iterable of (str, int or None)
        ``(part, split)`` pairs to fit.
    max_weights : int, optional
        Largest set fitted whole [count].
    seed : int
        Seed of the subsamples [1].
    layers : bool
        Also fit each prunable layer.
    max_ks_weights : int, optional
        Largest Kolmogorov-Smirnov subsample [count] (default
        :data:`coinfer.model.rate_distortion.KS_MAX_SAMPLES`).

    Returns
    -------
    pandas.DataFrame
        One row per (part or layer, family): ``model, part, split, split_name, layer``, ``n``, ``n_fit``
        [count], ``family``, ``loc``, ``scale`` [weight units], ``loglik_per_weight`` [nat], ``ks`` [1].

    References
    ----------
    docs/model.md, section 4.1.
    """
    from coinfer.model.rate_distortion import KS_MAX_SAMPLES, fit_gaussian, fit_laplace

    ks_cap = KS_MAX_SAMPLES if max_ks_weights is None else max_ks_weights

    items: list[tuple[dict[str, object], torch.Tensor]] = []
    for part, split in configs:
        items.append(
            ({**part_columns(model, part, split), "layer": ""}, flat_weights(part_weights(model, part, split)))
        )
    if layers:
        for name, w in part_weights(model, "all").items():
            items.append(({**part_columns(model, "layer", None), "layer": name}, w.flatten().cpu()))
    rows = []
    for index, (columns, values) in enumerate(items):
        n = values.numel()
        if n == 0:
            continue
        sample = values
        if max_weights is not None and n > max_weights:
            rng = np.random.default_rng([seed, index])
            chosen = np.sort(rng.choice(n, size=max_weights, replace=False))
            sample = values[torch.from_numpy(chosen)]
        fits = (
            fit_laplace(sample, seed=seed, max_ks_samples=ks_cap),
            fit_gaussian(sample, seed=seed, max_ks_samples=ks_cap),
        )
        for fit in fits:
            rows.append(
                {
                    **columns,
                    "n": n,
                    "n_fit": sample.numel(),
                    "family": fit.family,
                    "loc": fit.loc,
                    "scale": fit.scale,
                    "loglik_per_weight": fit.loglik_per_weight,
                    "ks": fit.ks_statistic,
                }
            )
    return pd.DataFrame(rows)


def laplace_verdicts(fits: pd.DataFrame) -> pd.DataFrame:
    """One row per fitted set: Laplace-like when its log-likelihood is higher AND its KS statistic smaller.

    Parameters
    ----------
    fits : pandas.DataFrame
        The table of :func:`weight_fit_table`.

    Returns
    -------
    pandas.DataFrame
        One row per fitted set with both families' log-likelihoods [nat] and KS statistics [1] and the
        verdict.

    References
    ----------
    docs/model.md, section 4.1 (claim C2).
    """
    keys = ["model", "part", "split", "split_name", "layer"]
    wide = fits.pivot_table(
        index=keys,
        columns="family",
        values=["loglik_per_weight", "ks", "n", "scale"],
        aggfunc="first",
        dropna=False,
        sort=False,
    )
    wide = wide.dropna(how="all")
    out = pd.DataFrame(
        {
            "n": wide[("n", "laplace")].astype(int),
            "scale_laplace": wide[("scale", "laplace")],
            "scale_gaussian": wide[("scale", "gaussian")],
            "loglik_laplace": wide[("loglik_per_weight", "laplace")],
            "loglik_gaussian": wide[("loglik_per_weight", "gaussian")],
            "ks_laplace": wide[("ks", "laplace")],
            "ks_gaussian": wide[("ks", "gaussian")],
        }
    ).reset_index()
    out["loglik_gain"] = out["loglik_laplace"] - out["loglik_gaussian"]
    out["laplace_like"] = (out["loglik_gain"] > 0) & (out["ks_laplace"] < out["ks_gaussian"])
    return out


def laplace_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per model: fraction of layers and of weights in Laplace-like layers, and the whole-model verdict.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        The table of :func:`laplace_verdicts`.

    Returns
    -------
    pandas.DataFrame
        One row per model: the shares of layers and of weights [1] and the verdict.
    """
    rows = []
    for model, group in verdicts.groupby("model", sort=False):
        layers = group[group["part"] == "layer"]
        whole = group[group["part"] == "all"]
        rows.append(
            {
                "model": model,
                "layers": len(layers),
                "laplace_like_layers": int(layers["laplace_like"].sum()),
                "frac_layers_laplace_like": float(layers["laplace_like"].mean()) if len(layers) else float("nan"),
                "frac_weights_laplace_like": float(layers.loc[layers["laplace_like"], "n"].sum() / layers["n"].sum())
                if len(layers)
                else float("nan"),
                "whole_model_laplace_like": bool(whole["laplace_like"].iloc[0]) if len(whole) else False,
                "whole_model_loglik_gain": float(whole["loglik_gain"].iloc[0]) if len(whole) else float("nan"),
                "whole_model_ks_laplace": float(whole["ks_laplace"].iloc[0]) if len(whole) else float("nan"),
                "whole_model_ks_gaussian": float(whole["ks_gaussian"].iloc[0]) if len(whole) else float("nan"),
            }
        )
    return pd.DataFrame(rows)
