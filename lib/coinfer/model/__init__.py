"""Layer 1, the model and its mathematics: the co-inference system, the distortion bounds, rate-distortion,
tensor-level pruning and quantisation, and the statistics of the claims (model.md sections 1-5, 7, 8).

It may import :mod:`coinfer.base` only; it knows no real network (those are :mod:`coinfer.nets`) and no solver
(:mod:`coinfer.optimise`).
"""

from coinfer.model import bounds, pruning, rate_distortion, stats, system

__all__ = ["bounds", "pruning", "rate_distortion", "stats", "system"]
