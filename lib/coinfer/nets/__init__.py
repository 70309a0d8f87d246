"""Layer 3, the real networks and their measurement: the offline zoo, split models per family, their inputs,
the committed digits weights, per-split profiles, sparse-kernel timings and deployment (model.md sections 2, 6, 9).

It may import :mod:`coinfer.base`, :mod:`coinfer.model` and :mod:`coinfer.optimise`; no study, claim, figure
or pipeline module.
"""

from coinfer.nets import (
    archives,
    deploy,
    devices,
    digits,
    efficientnet,
    inputs,
    meta,
    metrics,
    profiles,
    split,
    timing,
    trained,
    transformers,
    zoo,
)

__all__ = [
    "archives",
    "deploy",
    "devices",
    "digits",
    "efficientnet",
    "inputs",
    "meta",
    "metrics",
    "profiles",
    "split",
    "timing",
    "trained",
    "transformers",
    "zoo",
]
