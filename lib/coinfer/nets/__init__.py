"""Layer 3, the real networks and their measurement: the offline zoo, split models per family, their inputs,
the committed digits weights, per-split profiles, sparse-kernel timings and deployment (model.md sections 2, 6,
9). It may import :mod:`coinfer.base`, :mod:`coinfer.model` and :mod:`coinfer.optimise`; no study, claim,
figure or pipeline module.
"""

from __future__ import annotations

from coinfer.nets import (
    archives,
    budgets,
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
from coinfer.nets.deploy import DeployedModel, measure, round_feature
from coinfer.nets.devices import DEVICES, check_device
from coinfer.nets.inputs import length_chunks, text_batch
from coinfer.nets.profiles import full_resource_costs, profile_frame
from coinfer.nets.split import (
    PARTS,
    Batch,
    PartSweeps,
    SplitModel,
    as_batch,
    copy_model,
    part_weights,
    prune_model,
    with_weights,
)
from coinfer.nets.zoo import MODEL_NAMES, REGISTRY, ModelEntry, load_model, model_inputs, output_vectors, task_metric

__all__ = [
    "archives",
    "as_batch",
    "budgets",
    "check_device",
    "copy_model",
    "deploy",
    "devices",
    "digits",
    "efficientnet",
    "full_resource_costs",
    "inputs",
    "length_chunks",
    "load_model",
    "measure",
    "meta",
    "metrics",
    "model_inputs",
    "output_vectors",
    "part_weights",
    "profile_frame",
    "profiles",
    "prune_model",
    "round_feature",
    "split",
    "task_metric",
    "text_batch",
    "timing",
    "trained",
    "transformers",
    "with_weights",
    "zoo",
    "Batch",
    "DEVICES",
    "DeployedModel",
    "MODEL_NAMES",
    "ModelEntry",
    "PARTS",
    "PartSweeps",
    "REGISTRY",
    "SplitModel",
]
