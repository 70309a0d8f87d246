"""coinfer.figures: every figure from tidy tables alone, captions with parameters, byte-identical redraws.

One module for the whole package: the hand-made tables below feed every figure of every subject module
(``coinfer.figures.distortion_bound`` ... ``coinfer.figures.joint_optimisation``); the sections after the registry tests
check the figure-specific layout of one subject module each.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection

from coinfer import figures
from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.figures import layout, registry, style
from coinfer.pipeline import notebook_params, runner
from coinfer.studies import joint_optimisation

NOTEBOOKS_DIR = paths.NOTEBOOKS_DIR


# --------------------------------------------------------------------------- tiny hand-made tables
def _bound_random() -> pd.DataFrame:
    rows = []
    for arch in ("mlp", "cnn"):
        for mask in ("random", "magnitude"):
            for net in range(2):
                for ratio in (0.0, 0.5, 0.9):
                    t = 0.0 if ratio == 0 else 1e-3 * (1 + net) * ratio
                    rows.append(
                        {
                            "network": net,
                            "architecture": arch,
                            "mask": mask,
                            "ratio": ratio,
                            "tightness_operator_median": t,
                            "tightness_operator_max": 2 * t,
                            "tightness_entrywise_median": t / 10,
                            "tightness_entrywise_max": t / 5,
                        }
                    )
    return pd.DataFrame(rows)


def _bound_digits() -> pd.DataFrame:
    rows = []
    for scope in ("layer", "global"):
        for ratio in (0.0, 0.5, 0.9):
            rows.append(
                {
                    "scope": scope,
                    "ratio": ratio,
                    "param_distortion": 100 * ratio,
                    "output_distortion_mean": 10 * ratio,
                    "accuracy": 0.97 - 0.5 * ratio,
                    "tightness_operator_median": 1e-3 if ratio else np.nan,
                    "tightness_entrywise_median": 1e-4 if ratio else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _rd_tables() -> dict[str, pd.DataFrame]:
    rho = np.array([0.0, 1e-3, 0.1, 0.5, 0.99])
    curves = pd.concat(
        [
            pd.DataFrame(
                {"rho": rho, "q": q, "rate_bits": float(q), "d_lb_over_b": 2.0**-q + rho, "d_mag_over_b": rho**2 / 2}
            )
            for q in (8, 16)
        ],
        ignore_index=True,
    )
    real = pd.concat(
        [
            pd.DataFrame(
                {
                    "layer": "all",
                    "rho": rho,
                    "bits": bits,
                    "b": 0.1,
                    "distortion": 0.1 * rho**2 + 1e-9,
                    "d_mag_laplace": 0.05 * rho**2,
                    "d_lb": 0.1 * 2.0 ** -(bits or 32),
                }
            )
            for bits in (0, 8, 16)
        ],
        ignore_index=True,
    )
    return {
        "rd_rate_function.csv": pd.DataFrame({"distortion_over_b": [1e-6, 1e-3, 1.0], "rate_bits": [19.9, 9.97, 0.0]}),
        "rd_curves.csv": curves,
        "rd_monte_carlo.csv": pd.DataFrame({"rho": rho, "n": 1000, "b": 0.05, "distortion": 0.05 * rho**2 / 2}),
        "rd_crossover.csv": pd.DataFrame(
            {"source": ["laplace_model"] * 2 + ["digits_mlp"], "q": [8, 16, 8], "rho_crossover": [0.097, 0.0056, 0.0]}
        ),
        "rd_digits_mlp.csv": real,
    }


def _weight_tables() -> dict[str, pd.DataFrame]:
    sets = [("all", np.nan, ""), ("device", 1.0, "block1"), ("server", 1.0, "block1")]
    edges = np.linspace(-0.4, 0.4, 6)
    hist = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": "minilm",
                    "part": part,
                    "split": split,
                    "split_name": sname,
                    "bin_left": edges[:-1],
                    "bin_right": edges[1:],
                    "density": [0.1, 1, 3, 1, 0.1],
                    "half_range": 0.4,
                    "n": 1000,
                    "n_shown": 500,
                }
            )
            for part, split, sname in sets
        ]
    )
    fits = pd.DataFrame(
        [
            {"model": "minilm", "part": part, "split": split, "family": family, "loc": 0.0, "scale": 0.1}
            for part, split, _ in sets
            for family in ("laplace", "gaussian")
        ]
    )
    verdicts = pd.DataFrame(
        [
            {
                "model": model,
                "part": "layer",
                "layer": f"l{i}",
                "loglik_gain": 0.1 * (i - 1),
                "ks_laplace": 0.02 * i,
                "ks_gaussian": 0.03,
                "laplace_like": i > 1,
            }
            for model in ("digits_mlp", "minilm")
            for i in range(3)
        ]
    )
    return {"weight_histograms.csv": hist, "weight_fits.csv": fits, "weight_fit_verdicts.csv": verdicts}


_PARTS = [("all", np.nan, ""), ("device", 2.0, "block2"), ("server", 2.0, "block2")]


def _pruning_tables() -> dict[str, pd.DataFrame]:
    ratio = np.array([0.0, 0.5, 0.9])
    curves = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": model,
                    "part": part,
                    "split": split,
                    "split_name": sname,
                    "ratio": ratio,
                    "quantisation": quant,
                    "q_bound": q,
                    "scale": 0.1,
                    "measured": 0.1 * ratio + 1e-6,
                    "d_lb": 0.05 * ratio + 1e-7,
                    "d_mag": 0.08 * ratio,
                    "measured_over_lb": 2.0,
                }
            )
            for model in ("digits_mlp", "minilm")
            for part, split, sname in _PARTS
            for quant, q in (("none", 32), ("q8", 8))
        ],
        ignore_index=True,
    )
    first = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": model,
                    "part": part,
                    "split": split,
                    "split_name": sname,
                    "ratio": [0.5, 0.9],
                    "frac_holds": [0.9, 1.0],
                    "frac_holds_relative": [0.2, 0.5],
                }
            )
            for model in ("digits_mlp", "minilm")
            for part, split, sname in _PARTS
        ],
        ignore_index=True,
    )
    sweep = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": model,
                    "part": part,
                    "split": split,
                    "split_name": sname,
                    "ratio": ratio,
                    "subset": subset,
                    "param_rel": ratio / 2,
                    "out_rel": ratio / 3,
                    "metric": "test_accuracy",
                    "metric_value": 1 - ratio / 2,
                }
            )
            for model in ("digits_mlp", "minilm")
            for part, split, sname in _PARTS
            for subset in ("calibration", "heldout")
        ],
        ignore_index=True,
    )
    by_ratio = pd.DataFrame(
        {
            "model": ["digits_mlp", "digits_mlp", "minilm", "minilm"],
            "ratio": [0.5, 0.9, 0.5, 0.9],
            "frac_holds": [0.9, 1.0, 0.9, 1.0],
            "cluster_ci_low": [0.8, 0.95, 0.7, 0.9],
            "cluster_ci_high": [1.0, 1.0, 1.0, 1.0],
        }
    )
    return {
        "pruning_param_distortion.csv": curves,
        "first_order_bound.csv": first,
        "first_order_by_ratio.csv": by_ratio,
        "pruning_sweep.csv": sweep,
    }


def _profile_tables() -> dict[str, pd.DataFrame]:
    rows, costs = [], []
    for model in ("digits_mlp", "minilm", "gpt2_xl"):
        for s in range(3):
            rows.append(
                {
                    "model": model,
                    "split": s,
                    "split_name": f"b{s}",
                    "flops_device": 10.0 * s,
                    "flops_server": 10.0 * (2 - s),
                    "params_device": 5 * s,
                    "params_server": 5 * (2 - s),
                    "feature_bits": 0 if s == 2 else 100 + s,
                    "weights": "meta" if model == "gpt2_xl" else "pretrained",
                }
            )
            costs.append(
                {
                    "model": model,
                    "split": s,
                    "split_name": f"b{s}",
                    "t_device": 1e-3 * s,
                    "t_tx": 1e-3,
                    "t_server": 1e-4 * (2 - s),
                    "latency": 2e-3,
                    "energy_device": 1e-3 * s,
                    "energy_tx": 1e-3,
                    "energy_server": 1e-2 * (2 - s),
                    "energy": 2e-2,
                }
            )
    return {"profiles.csv": pd.DataFrame(rows), "profile_costs.csv": pd.DataFrame(costs)}


_SCHEMES = ("proposed", "on_device", "on_server", "fixed_ratio", "max_resources", "shared_ratio", "local_nonconvex")


def _optimisation_tables() -> dict[str, pd.DataFrame]:
    sweep = pd.DataFrame(
        [
            {
                "model": "minilm",
                "sweep": sweep,
                "x": x,
                "scheme": scheme,
                "status": "infeasible" if (scheme == "on_device" and x < 1) else "optimal",
                "objective_norm": 0.1 / x * (1 + k),
            }
            for sweep in ("latency_budget", "bandwidth")
            for x in (0.1, 1.0, 10.0)
            for k, scheme in enumerate(_SCHEMES)
        ]
    )
    decisions = pd.DataFrame(
        [
            {
                "model": "minilm",
                "sweep": "latency_budget",
                "x": x,
                "status": "optimal",
                "split": 0,
                "rho_device": np.nan,
                "rho_server": 0.5,
                "power_share": 1.0,
                "f_device_share": np.nan,
                "f_server_share": 0.5,
                "t_device_share": 0.0,
                "t_tx_share": 0.2,
                "t_server_share": 0.8,
            }
            for x in (0.1, 1.0)
        ]
    )
    split = pd.DataFrame(
        [
            {
                "model": "minilm",
                "bandwidth": b,
                "latency_factor": f,
                "split": s,
                "status": "infeasible" if s == 2 else "optimal",
                "objective_norm": np.nan if s == 2 else 0.1 * (s + 1) / f,
                "best": s == 0,
            }
            for b in (5e5, 5e6)
            for f in (0.5, 2.0)
            for s in range(3)
        ]
    )
    winners = pd.DataFrame(
        [
            {"model": "minilm", "bandwidth": b, "latency_factor": f, "status": "optimal", "winner": 0 if b < 1e6 else 2}
            for b in (1e5, 1e6, 1e7)
            for f in (0.1, 1.0, 10.0)
        ]
    )
    fading = pd.DataFrame(
        [
            {
                "model": model,
                "scheme": scheme,
                "p_feasible": 1.0,
                "p_feasible_ci95_low": 0.8,
                "p_feasible_ci95_high": 1.0,
                "mean_objective_norm": 0.01 * (k + 1),
            }
            for model in ("minilm", "efficientnet_lite0")
            for k, scheme in enumerate(_SCHEMES)
        ]
    )
    starts = pd.DataFrame(
        [
            {"model": model, "split": 0, "start": k, "status": "optimal", "over_optimum": 1.0, "success": k < hits}
            for model, hits in (("minilm", 3), ("efficientnet_lite0", 9))
            for k in range(10)
        ]
    )
    agreement = pd.DataFrame(
        {
            "objective_reference": [1e-3, 1e-2, np.nan],
            "objective_solve": [1e-3, 1e-2, np.nan],
            "relative_gap": [1e-9, 2e-9, np.nan],
        }
    )
    return {
        "opt_budget_sweep.csv": sweep,
        "opt_decisions.csv": decisions,
        "opt_split_sweep.csv": split,
        "opt_split_winners.csv": winners,
        "profiles.csv": _profile_tables()["profiles.csv"],
        "opt_fading_summary.csv": fading,
        "opt_solver_agreement.csv": agreement,
        "opt_single_starts_summary.csv": joint_optimisation.single_start_summary(starts).reset_index(),
    }


def _deployed_tables() -> dict[str, pd.DataFrame]:
    """A tiny ``deployed_designs.csv``: MiniLM (with topic accuracy) and the digits CNN, 2 sweeps x 3 points."""
    rows = [
        {
            "model": model,
            "sweep": sweep,
            "point": point,
            "x": x,
            "scheme": scheme,
            "status": "infeasible" if (scheme == "on_device" and x < 1) else "optimal",
            "objective": 1e-3 * (1 + k) / x,
            "measured_distortion": 0.1 * (1 + k) / x,
            "measured_distortion_ci95_low": 0.08 * (1 + k) / x,
            "measured_distortion_ci95_high": 0.12 * (1 + k) / x,
            "task_metric": 0.9 - 0.01 * k,
            "task_metric_ci95_low": 0.85 - 0.01 * k,
            "task_metric_ci95_high": 0.95 - 0.01 * k,
            "task_metric_name": metric,
            "topic_accuracy": 0.5 if model == "minilm" else np.nan,
            "topic_accuracy_ci95_low": 0.4 if model == "minilm" else np.nan,
            "topic_accuracy_ci95_high": 0.6 if model == "minilm" else np.nan,
            "unpruned_task_metric": 1.0,
            "unpruned_topic_accuracy": 0.6 if model == "minilm" else np.nan,
        }
        for model, metric in (("minilm", "cosine_similarity"), ("digits_cnn", "test_accuracy"))
        for sweep in ("latency_budget", "bandwidth")
        for point, x in enumerate((0.1, 1.0, 10.0))
        for k, scheme in enumerate(_SCHEMES)
    ]
    return {"deployed_designs.csv": pd.DataFrame(rows)}


_PROFILE_PARAMS = {"models": ["digits_mlp", "minilm"], "meta_models": ["gpt2_xl"]}


def _sensitivity_tables() -> dict[str, pd.DataFrame]:
    """Two models x 8 samples; for minilm the C4 gain never holds (no indices: the axes come from another gain)."""
    samples = pd.DataFrame(
        [
            {
                "model": model,
                "sample": k,
                "bandwidth": 1e6 * (k + 1),
                "bits_per_weight": (4, 8, 16)[k % 3],
                "p_max": 0.1 + 0.05 * k,
                "intermediate_beats_extremes": model != "minilm" and k % 2 == 0,
            }
            for model in ("minilm", "efficientnet_lite0")
            for k in range(8)
        ]
    )
    indices = pd.DataFrame(
        [
            {"model": "minilm", "gain": "intermediate_beats_extremes", "constant": "bandwidth", "ST": np.nan},
            {"model": "minilm", "gain": "beats_on_device", "constant": "bandwidth", "ST": 0.2},
            {"model": "minilm", "gain": "beats_on_device", "constant": "p_max", "ST": 0.6},
            {"model": "efficientnet_lite0", "gain": "intermediate_beats_extremes", "constant": "bandwidth", "ST": 0.9},
            {
                "model": "efficientnet_lite0",
                "gain": "intermediate_beats_extremes",
                "constant": "bits_per_weight",
                "ST": 0.3,
            },
        ]
    )
    return {"sensitivity_samples.csv": samples, "sensitivity_indices.csv": indices}


def _size_tables() -> dict[str, pd.DataFrame]:
    """Digits: w8 wins the tight latency points, w16 the loosest (one change) and all energy points; meta: no metric."""
    metrics = {
        ("digits_mlp_w8", "latency_budget"): [0.5, 0.9, 0.9],
        ("digits_mlp_w16", "latency_budget"): [None, 0.5, 0.95],
        ("digits_mlp_w8", "energy_budget"): [0.5, 0.6, 0.7],
        ("digits_mlp_w16", "energy_budget"): [0.9, 0.9, 0.9],
        ("bert_large", "latency_budget"): [None, None, None],
        ("bert_large", "energy_budget"): [None, None, None],
    }
    rows = []
    for (model, sweep), values in metrics.items():
        family = "meta_large" if model == "bert_large" else "digits_mlp"
        for i, metric in enumerate(values):
            feasible = metric is not None or family == "meta_large"
            rows.append(
                {
                    "family": family,
                    "model": model,
                    "params": {"digits_mlp_w8": 656, "digits_mlp_w16": 1440, "bert_large": 3e8}[model],
                    "sweep": sweep,
                    "budget_value": 10.0 ** (i - 3),
                    "status": "optimal" if feasible else "infeasible",
                    "split": 2 if feasible else None,
                    "num_blocks": 3,
                    "rho_device": 0.5 / (i + 1) if feasible else None,
                    "rho_server": 0.0 if feasible else None,
                    "task_metric": metric,
                    "task_metric_ci95_low": None if metric is None else metric - 0.05,
                    "task_metric_ci95_high": None if metric is None else min(metric + 0.05, 1.0),
                    "task_metric_name": "test_accuracy" if metric is not None else None,
                }
            )
    return {"size_study.csv": pd.DataFrame(rows)}


def _decoding_tables() -> dict[str, pd.DataFrame]:
    """Two bandwidths x two distances x three splits; the best split at two access latencies per scope."""
    costs = [
        {"bandwidth": b, "distance": d, "split": s, "label": str(s), "ttft": 1.0 + s, "tpot": 0.05 * (1 + s),
         "energy_token": 0.5 / (1 + s), "energy_device": 0.01 * s + 1e-4, "device_memory": 1e9 * s}
        for b in (5e6, 20e6) for d in (50.0, 200.0) for s in range(3)
    ]  # fmt: skip
    best = [
        {"scope": scope, "pruning": pruning, "bandwidth": 5e6, "distance": 200.0, "access_latency": a,
         "best_split": split, "best_label": str(split), "interior": split == 1, "rho": 0.0, "tpot": 0.05,
         "energy_token": 0.01, "round_trip": 0.01, "feasible_splits": 1}
        for scope, split in (("system", -1), ("device", 0)) for pruning in ("with", "without") for a in (1e-3, 4e-3)
    ]  # fmt: skip
    return {"decoding_split_costs.csv": pd.DataFrame(costs), "decoding_best_split.csv": pd.DataFrame(best)}


def _multi_user_tables() -> dict[str, pd.DataFrame]:
    """Two sizes x two populations: the joint design, equal shares and shared ratio (infeasible once)."""
    populations, users = [], []
    for k in (2, 20):
        for population in range(2):
            for scheme, factor in (("joint", 1.0), ("equal_shares", 1.3), ("shared_ratio", 1.1)):
                feasible = not (scheme == "shared_ratio" and k == 20 and population == 1)
                objective = factor * 0.01 * k if feasible else None
                populations.append({"users": k, "population": population, "scheme": scheme,
                                    "status": "optimal" if feasible else "infeasible", "objective": objective,
                                    "relative_gap": 1e-7 * k if scheme == "joint" else None})  # fmt: skip
                for user in range(3):
                    kind = ("on_device", "split", "on_server")[user]
                    users.append({"users": k, "population": population, "scheme": scheme, "user": user,
                                  "model": ("minilm", "digits_cnn", "minilm")[user],
                                  "normalised_distortion": factor * 0.01 * (user + 1) if feasible else None,
                                  "split_kind": kind if feasible else "",
                                  "f_server_share": 0.0 if kind == "on_device" else 1e9 / k})  # fmt: skip
    return {"multi_user_populations.csv": pd.DataFrame(populations), "multi_user_users.csv": pd.DataFrame(users)}


#: figure -> (its tables, expected number of lines on each axes with data, in order, parameter overrides).
def _compute_tables() -> dict[str, pd.DataFrame]:
    rows = [
        {
            "model": model,
            "layer": "l",
            "variant": variant,
            "ratio": ratio,
            "speedup": speed,
            "speedup_ci_low": 0.9 * speed,
            "speedup_ci_high": 1.1 * speed,
        }
        for model in ("minilm", "digits_cnn")
        for variant, base in (("dense", 1.0), ("csr", 0.3), ("structured", 1.0))
        for ratio in (0.0, 0.5, 0.9)
        for speed in [base if variant == "dense" else base / (1 - ratio)]
    ]
    fits = pd.DataFrame({"model": ["minilm", "digits_cnn"], "layer": "all", "e": [0.3, 0.8], "F0_per_flop": [0.1, 4.0]})
    return {"compute_timings.csv": pd.DataFrame(rows), "compute_fits.csv": fits}


def _frontier_tables() -> dict[str, pd.DataFrame]:
    """Tiny frontier tables: two models, two schemes, three energy budgets at two fixed latencies, two levels."""
    points, rows = [], []
    for model in ("digits_cnn", "minilm"):
        for latency in (0.01, 0.1):
            for scheme, shares in (("proposed", (0.5, 0.95, 1.0)), ("on_server", (math.nan, 0.8, 0.92))):
                for energy, share in zip((1e-4, 1e-3, 1e-2), shares, strict=True):
                    points.append(
                        {"model": model, "fixed_budget": "latency_s", "fixed_value": latency, "latency_s": latency}
                        | {"energy_J": energy, "scheme": scheme, "quality": share, "quality_metric": "acc"}
                    )
                for level, least in ((0.9, 1e-3 if scheme == "proposed" else 1e-2), (0.99, 1e-2)):
                    reached = not (scheme == "on_server" and level == 0.99)
                    rows.append(
                        {"model": model, "scheme": scheme, "level": level, "fixed_budget": "latency_s"}
                        | {"fixed_value": latency, "least_budget": least if reached else math.nan}
                        | {"quality": 1.0 if reached else math.nan}
                    )
    return {"deployed_frontier_points.csv": pd.DataFrame(points), "deployed_frontiers.csv": pd.DataFrame(rows)}


TINY: dict[str, tuple[dict[str, pd.DataFrame], list[int], dict]] = {
    # 2 architectures x 2 masks x (median, max) + 2 digits scopes + the line at 1
    "bound_tightness": (
        {"bound_random_networks.csv": _bound_random(), "bound_digits_mlp.csv": _bound_digits()},
        [11, 11],
        {},
    ),
    # per scope: parameter and output distortion (left), accuracy (right)
    "bound_digits_mlp": ({"bound_digits_mlp.csv": _bound_digits()}, [4, 2], {}),
    # R(D); 2 D_LB + D_mag + Monte Carlo (+2 crossover verticals); float32 + 2 x (measured, D_LB) + Laplace D_mag
    "rate_distortion": (_rd_tables(), [1, 6, 6], {}),
    # three panels, each with the two fitted densities (the histogram is a patch)
    "weight_histograms": (_weight_tables(), [2, 2, 2], {}),
    # one line per model + the zero line; the diagonal
    "weight_fits_layers": (_weight_tables(), [3, 1], {}),
    # per model: 2 storages x (measured, D_LB) + D_mag
    "pruning_c2_distortion": (_pruning_tables(), [5, 5], {}),
    # per storage and model: 3 parts + the line at 1
    "pruning_c2_ratio_to_bound": (_pruning_tables(), [4, 4, 4, 4], {}),
    # per model: the share over all parts, then 3 parts x (fitted H, relative); the band is a collection
    "pruning_first_order_bound": (_pruning_tables(), [7, 7], {}),
    # top: 3 parts x (output, parameter); bottom: 3 parts
    "pruning_output_distortion": (_pruning_tables(), [6, 6, 3, 3], {}),
    # rows FLOPs (device, server), parameters (device, server), feature bits; one column per model
    "profiles_real": (_profile_tables(), [2, 2, 2, 2, 1, 1], _PROFILE_PARAMS),
    "profiles_meta": (_profile_tables(), [2, 2, 1], _PROFILE_PARAMS),
    # rows time and energy: device, uplink, server, total
    "profile_costs_real": (_profile_tables(), [4, 4, 4, 4], _PROFILE_PARAMS),
    "profile_costs_meta": (_profile_tables(), [4, 4], _PROFILE_PARAMS),
    # per model: ideal, dense, CSR, structured, the fitted sparse model and the line at 1
    "compute_speedups": (_compute_tables(), [6, 6], {}),
    # one line per scheme in each sweep
    "opt_budget_sweep": (_optimisation_tables(), [7, 7], {}),
    # rows: MiniLM cosine, MiniLM topic accuracy, digits accuracy; one line per scheme + the unpruned level
    "deployed_metric_sweep": (_deployed_tables(), [8] * 6, {}),
    # rows: the two models; one line per scheme
    "deployed_distortion_sweep": (_deployed_tables(), [7] * 4, {}),
    # scatter points only, one panel per model
    "deployed_bound_vs_measured": (_deployed_tables(), [0, 0], {}),
    # one line per scheme and one dotted line per level, one panel per model
    "deployed_frontiers": (_frontier_tables(), [4, 4], {}),
    # ratios (2), resources (3), latency shares (3)
    "opt_decisions_latency_budget": (_optimisation_tables(), [2, 3, 3], {}),
    # one line per latency budget, per bandwidth
    "opt_split_objective": (_optimisation_tables(), [2, 2], {}),
    # a colour map (no lines) and its colour bar
    "opt_split_winner": (_optimisation_tables(), [0], {}),
    # bars, each with its interval (two cap lines per scheme); the mean objective has no interval columns here
    "opt_fading": (_optimisation_tables(), [2 * len(_SCHEMES), 0], {}),
    # bars with their Clopper-Pearson interval: two cap lines
    "opt_single_starts": (_optimisation_tables(), [2], {}),
    # the points and the diagonal
    "opt_solver_agreement": (_optimisation_tables(), [2], {}),
    # scatters only (no lines), one panel per model
    "opt_sensitivity": (_sensitivity_tables(), [0, 0], {}),
    # digits only (meta has no metric): two sizes per sweep, plus the one winner change of the latency sweep
    "size_metric_vs_budget": (_size_tables(), [3, 2], {}),
    # digits (two sizes) then meta (one), each in 2 sweeps x (split, rho_d, rho_s)
    "size_designs": (_size_tables(), [2] * 6 + [1] * 6, {}),
    # one line per scheme; the gap's largest and median and the dotted line at 1e-6
    "multi_user_objective": (_multi_user_tables(), [3, 3], {}),
    # the joint design and equal shares (medians; the percentile bands are areas)
    "multi_user_fairness": (_multi_user_tables(), [2], {}),
    # the kinds of split are stacked areas; one line per model on the server
    "multi_user_splits": (_multi_user_tables(), [0, 2], {}),
    # one line per bandwidth / distance and the 100 ms line; energy per token and the device's share per value
    "decoding_tpot_energy": (_decoding_tables(), [3, 3, 4, 4], {}),
    # one grid point, with and without pruning, per scope
    "decoding_best_split": (_decoding_tables(), [2, 2], {}),
}


def _params(notebook: str) -> dict:
    """The notebook's own parameters-cell defaults, as recorded by a run."""
    declared = runner.declared_parameters(NOTEBOOKS_DIR / f"{notebook}.py")
    return notebook_params.validate(notebook, declared, partial=False)


@pytest.fixture
def output_root(tmp_path, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(tmp_path))
    return tmp_path


def _write_inputs(name: str) -> dict:
    spec = figures.FIGURES[name]
    tables, _, overrides = TINY[name]
    for file in spec.data:
        paths.write_csv(tables[file], file)
    params = {**_params(spec.notebook), **overrides}
    notebook_params.record(spec.notebook, params)
    return params


def test_every_registered_figure_has_a_tiny_test_case():
    assert set(TINY) <= set(figures.FIGURES)
    untested = sorted(set(figures.FIGURES) - set(TINY))
    assert not untested, f"figures without a hand-made test case: {untested}"


def test_sensitivity_titles_state_the_share_interval(output_root):
    _write_inputs("opt_sensitivity")
    indices = _sensitivity_tables()["sensitivity_indices.csv"].assign(share_ci95_low=0.25, share_ci95_high=0.75)
    paths.write_csv(indices, "sensitivity_indices.csv")
    titles = [ax.get_title() for ax in figures.render("opt_sensitivity").axes if ax.get_title()]
    assert any("95 % CI 25.0 %-75.0 %" in title for title in titles), titles


def test_size_metric_draws_the_interval_bars(output_root):
    _write_inputs("size_metric_vs_budget")
    fig = figures.render("size_metric_vs_budget")
    assert all(ax.collections for ax in fig.axes if ax.has_data())  # one bar collection per member at least


def test_deployed_sweeps_draw_the_interval_bands(output_root):
    """Every feasible scheme line of the deployed sweeps gets its band (a filled area) from the table's columns."""
    _write_inputs("deployed_metric_sweep")
    fig = figures.render("deployed_metric_sweep")
    panels = [ax for ax in fig.axes if ax.has_data()]
    assert all(len(ax.collections) >= len(_SCHEMES) - 1 for ax in panels)
    table = _deployed_tables()["deployed_designs.csv"]
    paths.write_csv(table.drop(columns=[c for c in table.columns if "_ci95_" in c]), "deployed_designs.csv")
    assert figures.png_bytes(figures.render("deployed_metric_sweep")) != figures.png_bytes(fig)


@pytest.mark.parametrize("name", sorted(TINY))
def test_figure_from_tiny_tables(name, output_root):
    params = _write_inputs(name)
    fig = figures.render(name)
    _, expected_lines, _ = TINY[name]
    axes = [ax for ax in fig.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
    assert [len(ax.get_lines()) for ax in axes] == expected_lines
    assert fig.get_suptitle()  # the title says what is shown
    for get in ("get_xlabel", "get_ylabel"):  # axes labelled, with units in brackets (categorical x: no label)
        labels = [getattr(ax, get)() for ax in axes if getattr(ax, get)()]
        assert all(re.search(r"\[.+\]", label) for label in labels), labels
        shared = fig.get_supxlabel() if get == "get_xlabel" else fig.get_supylabel()  # one label for all panels
        assert (
            labels
            or re.search(r"\[.+\]", shared)
            or (get == "get_xlabel" and name in ("opt_fading", "opt_single_starts"))
        )
    caption = figures.caption(name, params)
    for key, value in params.items():
        assert f"{key}={style.format_params({key: value}).split('=', 1)[1]}" in caption
    assert figures.FIGURES[name].notebook in caption and all(f in caption for f in figures.FIGURES[name].data)


def test_saved_figure_carries_the_caption(output_root, monkeypatch):
    params = _write_inputs("bound_digits_mlp")
    captured = []
    original = style.save_figure
    monkeypatch.setattr(style, "save_figure", lambda fig, *a, **k: captured.append(fig) or original(fig, *a, **k))
    written = figures.save("bound_digits_mlp")
    assert sorted(p.name for p in written) == ["bound_digits_mlp.pdf", "bound_digits_mlp.png"]
    assert all(p.stat().st_size > 0 and p.parent == output_root / "figures" for p in written)
    (fig,) = captured
    texts = "\n".join(t.get_text() for t in fig.texts)
    assert figures.caption("bound_digits_mlp", params) in texts and "n_networks=300" in texts


def test_figures_are_deterministic_bytes(output_root):
    _write_inputs("bound_digits_mlp")
    first = [p.read_bytes() for p in figures.save("bound_digits_mlp")]
    second = [p.read_bytes() for p in figures.save("bound_digits_mlp")]
    assert first == second


def test_the_figure_follows_the_data(output_root):
    """A figure is drawn from data/: changing a table changes the picture."""
    _write_inputs("bound_digits_mlp")
    before = figures.png_bytes(figures.render("bound_digits_mlp"))
    table = _bound_digits()
    table["accuracy"] = 0.5
    paths.write_csv(table, "bound_digits_mlp.csv")
    assert figures.png_bytes(figures.render("bound_digits_mlp")) != before


def test_missing_data_is_named_or_skipped(output_root):
    _write_inputs("bound_digits_mlp")
    with pytest.raises(FileNotFoundError, match="bound_random_networks.csv"):
        figures.regenerate_all(["01_distortion_bound"])
    written = figures.regenerate_all(["01_distortion_bound"], skip_missing=True)
    assert sorted(p.name for p in written) == ["bound_digits_mlp.pdf", "bound_digits_mlp.png"]
    with pytest.raises(FileNotFoundError, match="parameters_02_rate_distortion.json"):
        figures.load_parameters("02_rate_distortion")


def test_unknown_figure_is_named():
    with pytest.raises(KeyError, match="no_such_figure"):
        figures.render("no_such_figure")


def test_record_writes_validated_parameters_in_schema_order(output_root):
    params = _params("02_rate_distortion")
    path = notebook_params.record("02_rate_distortion", params)
    assert path == output_root / "data" / "parameters_02_rate_distortion.json"
    assert list(figures.load_parameters("02_rate_distortion")) == list(SCHEMAS["02_rate_distortion"])
    assert figures.load_parameters("02_rate_distortion") == params
    with pytest.raises(notebook_params.ParameterError, match="rho_points"):
        notebook_params.record("02_rate_distortion", {**params, "rho_points": 1})


def test_fixed_colour_orders_match_the_library():
    from coinfer import optimise
    from coinfer.nets import meta, zoo
    from coinfer.studies import joint_optimisation

    assert figures.SCHEME_ORDER == (*optimise.SCHEMES, joint_optimisation.MAGNITUDE_DESIGN)
    markers = [style.SCHEME_MARKERS[scheme] for scheme in figures.SCHEME_ORDER]
    assert len(set(markers)) == len(markers)
    assert all(scheme in style.SCHEME_LABELS for scheme in figures.SCHEME_ORDER)
    assert figures.MODEL_ORDER == zoo.MODEL_NAMES + meta.META_MODEL_NAMES
    assert len(set(map(figures.scheme_colour, figures.SCHEME_ORDER))) == len(figures.SCHEME_ORDER)


def test_registry_names_real_notebooks_and_covers_every_claim():
    claims = {spec.claim for spec in figures.FIGURES.values()}
    for spec in figures.FIGURES.values():
        assert spec.notebook in NOTEBOOKS and spec.notebook != "11_report"
        assert spec.data and all(f.endswith(".csv") for f in spec.data)
        assert figures.figures_of([spec.notebook]).count(spec) == 1
    assert {"C1", "C2", "C3", "C4"} <= claims
    assert {"weight_histograms", "weight_fits_layers"} <= set(figures.FIGURES)  # the weight distributions


@pytest.mark.parametrize("notebook", [nb for nb in NOTEBOOKS if nb != "11_report"])
def test_notebooks_plot_only_through_coinfer_figures(notebook):
    """No duplicated plotting code: a computing notebook draws nothing itself and shows each of its figures."""
    source = (NOTEBOOKS_DIR / f"{notebook}.py").read_text(encoding="utf-8")
    for forbidden in ("plt.", "subplots(", "save_figure(", ".plot(", "matplotlib"):
        assert forbidden not in source, f"{notebook} draws itself ({forbidden!r})"
    shown = set(re.findall(r'figures\.show\("([^"]+)"\)', source))
    assert shown == {spec.name for spec in figures.figures_of([notebook])}
    assert f'params_file = coinfer.pipeline.notebook_params.record("{notebook}", params)' in source


def test_every_figure_lives_in_its_notebooks_subject_module():
    """Each registered figure is drawn by a subject module, and each subject module's figures are registered."""
    subjects = {module.__name__: module for module in figures.SUBJECT_MODULES}
    assert len({module.NOTEBOOK for module in figures.SUBJECT_MODULES}) == len(subjects)
    for spec in figures.FIGURES.values():
        module = subjects.get(spec.plot.__module__)
        assert module is not None, f"{spec.name} is drawn outside the subject modules ({spec.plot.__module__})"
        assert spec.notebook == module.NOTEBOOK, f"{spec.name} is registered under another notebook"
    for module in figures.SUBJECT_MODULES:
        registered = {spec.name for spec in figures.FIGURES.values() if spec.plot.__module__ == module.__name__}
        assert registered, f"{module.__name__} registers no figure"
        assert registered == {spec.name for spec in figures.figures_of([module.NOTEBOOK])}
    computing = [nb for nb in NOTEBOOKS if nb != "11_report"]
    assert sorted(module.NOTEBOOK for module in figures.SUBJECT_MODULES) == sorted(computing)
    assert list(figures.FIGURES) == [spec.name for spec in figures.figures_of()]  # kept in notebook order


def test_public_surface():
    for name in figures.__all__:
        assert hasattr(figures, name), name
    assert figures.registry is registry and figures.FIGURES is registry.FIGURES  # one registry (tests/test_package.py)


@pytest.mark.parametrize(
    ("root", "shown"),
    [
        (".", "data/"),
        ("build/quick", "build/quick/data/"),
        ("build/quick/.coinfer-staging", "build/quick/data/"),  # a run names where its outputs are published
        (runner.STAGING_NAME, "data/"),
    ],
)
def test_footer_names_the_output_root(root, shown, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", root)
    params = _write_inputs("bound_digits_mlp")
    assert registry.data_location() == shown
    caption = figures.caption("bound_digits_mlp", params)
    assert caption.endswith(f"Data: {shown}bound_digits_mlp.csv.")
    captured = []
    original = style.save_figure
    monkeypatch.setattr(style, "save_figure", lambda fig, *a, **k: captured.append(fig) or original(fig, *a, **k))
    figures.save("bound_digits_mlp")
    assert any(t.get_text() == caption for t in captured[0].texts)


def test_footer_of_an_outside_output_root_names_no_machine_path(output_root):
    assert registry.data_location() == "<output root>/data/"
    assert str(output_root) not in registry.caption("bound_tightness", {})


def test_scheme_labels_cover_every_scheme():
    assert tuple(style.SCHEME_LABELS) == style.SCHEME_ORDER
    assert len(set(style.SCHEME_LABELS.values())) == len(style.SCHEME_ORDER)
    assert all(style.scheme_label(s) != s for s in style.SCHEME_ORDER)


def test_text_colour_follows_the_background():
    assert style.text_colour_on("#fde725") == "k"  # viridis yellow
    assert style.text_colour_on("#440154") == "w"  # viridis purple
    assert style.text_colour_on("white") == "k" and style.text_colour_on("black") == "w"


# --------------------------------------------------------------------------- weights (03)
def test_weight_histograms_legend_is_outside_the_panels(output_root):
    _write_inputs("weight_histograms")
    fig = figures.render("weight_histograms")
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()][0].startswith("weights")
    assert all("Laplace b = 0.1" in ax.get_title() for ax in fig.axes if ax.has_data())  # fitted scales in titles


# --------------------------------------------------------------------------- pruning (04)
def test_pruning_c2_distortion_x_labels_do_not_overlap(output_root):
    _write_inputs("pruning_c2_distortion")
    fig = figures.render("pruning_c2_distortion")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    boxes = [ax.xaxis.label.get_window_extent(renderer) for ax in fig.axes if ax.get_xlabel()]
    assert len(boxes) == 2
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:], strict=False))


# --------------------------------------------------------------------------- optimisation (06)
def test_budget_sweep_marks_infeasible_points_below_the_axis(output_root):
    params = _write_inputs("opt_budget_sweep")
    fig = figures.render("opt_budget_sweep")
    fig.draw_without_rendering()
    crosses = 0
    for ax in fig.axes:
        for collection in ax.collections:
            offsets = collection.get_offsets()
            if not isinstance(collection, PathCollection) or len(offsets) == 0:
                continue
            y = collection.get_offset_transform().transform(offsets)[:, 1]
            assert (y < ax.bbox.y0).all(), "an infeasible marker sits inside the data area"
            crosses += len(offsets)
    assert crosses == 2  # on_device at x = 0.1 in both sweeps
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:-1] == [style.SCHEME_LABELS[s] for s in _SCHEMES]
    assert "infeasible" in labels[-1]
    titles = [ax.get_title() for ax in fig.axes]
    assert all("swept" in title for title in titles)
    held = params.get("energy_factor", 1.0)  # the physical grids hold the default point, E_ref (model.md 7.3)
    assert f"$E_0$ = {held:g} $E_{{ref}}$" in titles[0]
    assert all(symbol in fig.get_supxlabel() for symbol in ("T_{ref}", "E_{ref}", r"\bar b"))


def test_split_winner_numbers_are_readable(output_root):
    _write_inputs("opt_split_winner")
    fig = figures.render("opt_split_winner")
    texts = {t.get_text(): t for ax in fig.axes for t in ax.texts}
    assert texts["2"].get_color() == "k" and texts["0"].get_color() == "w"  # on yellow (last split) and on purple
    assert all(t.get_fontsize() >= 7 for t in texts.values())
    assert "T_{ref}" in fig.get_supxlabel()
    assert figures.joint_optimisation.INFEASIBLE_LABEL


# --------------------------------------------------------------------------- notebooks 01, 02 versus 11
TINY_PROFILE = """\
01_distortion_bound:
  n_networks: 4
  n_cnns: 1
  n_inputs: 2
  depths: [2, 3]
  widths: [4, 8]
  ratios: [0.0, 0.5, 0.9]
  digits_ratio_points: 3
02_rate_distortion:
  bits: [8, 16]
  rho_points: 11
  mc_weights: 20000
"""


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory):
    """Notebooks 01 and 02 executed (papermill) at tiny sizes into a temporary output root."""
    folder = tmp_path_factory.mktemp("figures_run")
    profile = folder / "pytest_figures.yaml"
    profile.write_text(TINY_PROFILE)
    root = folder / "out"
    try:
        runner.run(str(profile), ["01_distortion_bound", "02_rate_distortion"], root)
    finally:
        import shutil

        shutil.rmtree(paths.BUILD_DIR / "executed" / profile.stem, ignore_errors=True)
    return root


@pytest.mark.slow
def test_regenerated_figures_are_byte_identical_to_the_notebooks(notebook_run, monkeypatch):
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(notebook_run))
    nbs = ["01_distortion_bound", "02_rate_distortion"]
    saved = _digests(notebook_run / "figures")
    expected = {f"{spec.name}.{ext}" for spec in figures.figures_of(nbs) for ext in ("pdf", "png")}
    assert set(saved) == expected
    for nb in nbs:
        assert figures.load_parameters(nb)["seed"] == 0
    written = figures.regenerate_all(nbs)
    assert {p.name for p in written} == expected
    assert _digests(notebook_run / "figures") == saved


# --------------------------------------------------------------------------- layout of every figure
@pytest.mark.parametrize("name", sorted(TINY))
def test_no_text_overlaps_and_no_legend_covers_a_title_or_data(name, output_root):
    """Every registered figure, drawn with its caption footer as saved: no two texts overlap, no legend covers a
    title, an axis label or a data point (coinfer.figures.layout)."""
    params = _write_inputs(name)
    fig = figures.render(name)
    style.add_caption(fig, figures.caption(name, params))
    assert layout.layout_problems(fig) == []


def test_the_layout_check_sees_overprinted_labels_and_a_legend_over_data():
    fig, axes = style.new_figure(1, 1, width=4, height=3)
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], marker="o", label="a line through the upper left corner")
    ax.set_xticks([0.0, 0.01], ["first label", "second label"])
    ax.legend(loc="upper left")
    ax.set_ylim(0, 1)
    problems = layout.layout_problems(fig)
    assert any("x-tick" in p and "overlaps x-tick" in p for p in problems), problems
    ax.plot([0.15], [0.9], marker="o")  # a point under the legend
    assert any("legend covers" in p and "data point" in p for p in layout.layout_problems(fig))
    fig.suptitle("a title")
    fig.legend(handles=ax.get_lines()[:1], loc="upper right")  # in the figure's corner, beside the title
    fig.suptitle("a very long title " * 5)
    assert any("legend covers the title of the figure" in p for p in layout.layout_problems(fig))


@pytest.mark.slow
def test_no_committed_figure_has_overlapping_text_or_a_legend_over_a_title_or_data(monkeypatch):
    """The same check on every figure drawn from the committed data/ (the figures a reader sees; about 2 min)."""
    monkeypatch.setenv("COINFER_OUTPUT_ROOT", str(paths.PROJECT_ROOT))
    found = {}
    for name, spec in figures.FIGURES.items():
        if figures.missing_inputs(name):
            continue
        fig = figures.render(name)
        style.add_caption(fig, figures.caption(name, figures.load_parameters(spec.notebook)))
        found[name] = layout.layout_problems(fig)
    assert len(found) == len(figures.FIGURES)
    assert {name: problems for name, problems in found.items() if problems} == {}
