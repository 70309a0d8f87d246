"""Layer 1, the model and its mathematics: the co-inference system, the distortion bounds, rate-distortion,
tensor-level pruning and quantisation, the statistics of the claims, and the sourced hardware and radio
constants of the physical model (model.md sections 1-5, 7, 8, 11). It may import :mod:`coinfer.base` only: it
knows no real network (:mod:`coinfer.nets`) and no solver (:mod:`coinfer.optimise`).
"""

from __future__ import annotations

from coinfer.model import arithmetic, bounds, hardware, pruning, rate_distortion, stats, system
from coinfer.model.bounds import (
    check_pair,
    layerwise_bound,
    output_distortion,
    parameter_distortion,
    sequential_output_bound,
)
from coinfer.model.pruning import (
    MagnitudeSweep,
    check_ratio,
    magnitude_masks,
    prune_count,
    prune_tensor,
    prune_weights,
    quantize_uniform,
)
from coinfer.model.rate_distortion import (
    distortion_lower_bound,
    fit_gaussian,
    fit_laplace,
    laplace_scale,
    magnitude_distortion,
)
from coinfer.model.stats import (
    bootstrap_mean,
    clopper_pearson,
    cluster_bootstrap_share,
    mcnemar_exact,
    paired_bootstrap_difference,
    paired_comparison,
)
from coinfer.model.system import (
    DEFAULTS,
    Decision,
    Evaluation,
    Problem,
    evaluate,
    full_resources,
    make_problem,
    problem_from_profile,
    problems_for_splits,
    reference_budgets,
)

__all__ = [
    "arithmetic",
    "hardware",
    "bootstrap_mean",
    "bounds",
    "check_pair",
    "check_ratio",
    "clopper_pearson",
    "cluster_bootstrap_share",
    "distortion_lower_bound",
    "evaluate",
    "fit_gaussian",
    "fit_laplace",
    "full_resources",
    "laplace_scale",
    "layerwise_bound",
    "magnitude_distortion",
    "magnitude_masks",
    "make_problem",
    "mcnemar_exact",
    "output_distortion",
    "paired_bootstrap_difference",
    "paired_comparison",
    "parameter_distortion",
    "problem_from_profile",
    "problems_for_splits",
    "prune_count",
    "prune_tensor",
    "prune_weights",
    "pruning",
    "quantize_uniform",
    "rate_distortion",
    "reference_budgets",
    "sequential_output_bound",
    "stats",
    "system",
    "DEFAULTS",
    "Decision",
    "Evaluation",
    "MagnitudeSweep",
    "Problem",
]
