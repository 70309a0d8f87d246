"""The claims report: one verdict per paper claim C1-C4 (SPEC section 1), computed from ``data/``.

Each criterion is a number computed from the tidy data with a threshold fixed
in this module before the full-profile data existed (see the git history of
this file). A claim that fails is reported as failing; nothing here is tuned
to the results.
"""

from __future__ import annotations

from dataclasses import dataclass

#: SPEC 1 statements, verbatim in substance.
STATEMENTS = {
    "C1": "The output distortion of a pruned model is upper-bounded by its parameter distortion (a theorem); "
          "in experiments the parameter distortion is a reliable bound for large pruning ratios (about 0.5-0.7 and above).",
    "C2": "Rate-distortion theory lower-bounds the parameter distortion as a function of the pruning ratio; "
          "model weights are close to Laplacian.",
    "C3": "Jointly optimising pruning ratios, transmit power and CPU frequencies under latency, energy and resource "
          "limits beats the benchmarks (fully on-device, fully on-server, fixed ratio, maximum resources, shared ratio, "
          "local non-convex solver).",
    "C4": "The split point is critical in resource-limited, heterogeneous settings.",
}


@dataclass(frozen=True)
class Thresholds:
    """The numbers each verdict is compared with. Fixed before the full-profile data was seen."""

    #: C1: a single violation of the SPEC 3 theorem is a bug, not a statistic.
    c1_max_violations: int = 0
    #: C1: "large pruning ratio" taken at the conservative end of the paper's 0.5-0.7.
    c1_large_ratio: float = 0.7
    #: C1: share of held-out (input, ratio >= c1_large_ratio) pairs where the fitted first-order bound must hold,
    #: for every pretrained model outside the theorem's assumptions (MiniLM, EfficientNet-Lite0).
    c1_min_holding_fraction: float = 0.95
    #: C2: share of each pretrained model's prunable weights that sit in layers where the Laplace fit has the
    #: higher log-likelihood than the Gaussian fit.
    c2_min_laplace_weight_share: float = 0.5
    #: C2: share of measured (model, part, split, q, ratio) points with ratio >= c2_min_ratio where the measured
    #: parameter distortion of magnitude pruning + q-bit quantisation is at least D_LB(ratio; q, fitted b).
    c2_min_bound_fraction: float = 0.99
    c2_min_ratio: float = 0.01
    #: C3: the proposed design may never be worse than a benchmark by more than this relative tolerance ...
    c3_tolerance: float = 1e-6
    #: ... and must beat fully on-device and fully on-server (objective lower by this relative margin, or feasible
    #: where the benchmark is not) at this share of the sweep points where it is feasible.
    c3_min_margin: float = 0.01
    c3_min_share_beaten: float = 0.5
    #: C4: the best split must change across the settings swept (at least this many distinct winners) ...
    c4_min_distinct_winners: int = 2
    #: ... and the best single fixed split (chosen with hindsight) must lose at least this relative objective
    #: (or feasibility) against per-setting split selection in some setting.
    c4_min_regret: float = 0.05


THRESHOLDS = Thresholds()
