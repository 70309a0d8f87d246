"""Layer 4, the studies: one module per notebook, the back end that computes that notebook's tables for
``data/``, named like the notebook without its number (``distortion_bound`` for ``01_distortion_bound``;
notebook 06 has two, :mod:`~coinfer.studies.joint_optimisation` and its global sensitivity study
:mod:`~coinfer.studies.sensitivity`; notebooks 02 and 05 need no back end and call :mod:`coinfer.model` and
:mod:`coinfer.nets` directly). A study may import :mod:`coinfer.base`, :mod:`coinfer.model`,
:mod:`coinfer.optimise` and :mod:`coinfer.nets`, never another study (what two notebooks share lives below),
a claim, a figure or the pipeline. :mod:`~coinfer.studies.multi_user` is the back end of notebook
``09_multi_user`` (model.md section 13.9), :mod:`~coinfer.studies.decoding` of ``10_decoding`` (section 14);
:mod:`~coinfer.studies.frontiers` is notebook 07's second back end (quality-versus-cost frontiers, model.md
section 9.1).
"""

from __future__ import annotations

from coinfer.studies import (
    decoding,
    deployed_designs,
    distortion_bound,
    frontiers,
    joint_optimisation,
    model_size,
    multi_user,
    pruning_distortion,
    sensitivity,
    weight_distributions,
)

__all__ = [
    "decoding",
    "deployed_designs",
    "distortion_bound",
    "frontiers",
    "joint_optimisation",
    "model_size",
    "multi_user",
    "pruning_distortion",
    "sensitivity",
    "weight_distributions",
]
