"""Output vectors and task metrics of the zoo's models (model.md section 6): accuracy against labels, top-1
agreement and cosine similarity with the unpruned model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from coinfer.nets.split import feature_tensor


def accuracy(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``.

    Parameters
    ----------
    model : callable
        Inputs -> logits.
    x : torch.Tensor
        Inputs.
    y : torch.Tensor
        True labels [class index].

    Returns
    -------
    float
        Top-1 accuracy [1].
    """
    with torch.no_grad():
        return float((model(x).argmax(dim=-1) == y).float().mean())


def logits_vector(outputs: Any) -> torch.Tensor:
    """Outputs flattened to ``[batch, dim]``.

    Parameters
    ----------
    outputs : Any
        A model's outputs (a tensor, or a tuple whose first item is).

    Returns
    -------
    torch.Tensor
        ``[batch, dim]`` [output units].
    """
    return feature_tensor(outputs).reshape(feature_tensor(outputs).shape[0], -1)


def accuracy_metric(reference: torch.Tensor, outputs: torch.Tensor, labels: torch.Tensor | None) -> tuple[str, float]:
    """Top-1 accuracy against the true labels.

    Parameters
    ----------
    reference : torch.Tensor
        The unpruned model's output vectors ``[inputs, dim]``.
    outputs : torch.Tensor
        The pruned model's output vectors, same shape.
    labels : torch.Tensor or None
        True labels [class index].

    Returns
    -------
    tuple of (str, float)
        ``"test_accuracy"`` and the accuracy [1].
    """
    if labels is None:
        raise ValueError("labels: got None; the digits metric needs the true labels (Batch.labels)")
    return "test_accuracy", float((outputs.argmax(dim=-1) == labels).float().mean())


def top1_agreement_metric(reference: torch.Tensor, outputs: torch.Tensor, labels: Any = None) -> tuple[str, float]:
    """Fraction of samples whose top-1 class equals the unpruned model's (no ground truth needed).

    Parameters
    ----------
    reference : torch.Tensor
        The unpruned model's output vectors ``[inputs, dim]``.
    outputs : torch.Tensor
        The pruned model's output vectors, same shape.
    labels : Any
        Not used.

    Returns
    -------
    tuple of (str, float)
        ``"top1_agreement"`` and the agreement [1].
    """
    return "top1_agreement", float((outputs.argmax(dim=-1) == reference.argmax(dim=-1)).float().mean())


def cosine_metric(reference: torch.Tensor, outputs: torch.Tensor, labels: Any = None) -> tuple[str, float]:
    """Mean cosine similarity to the unpruned model's embeddings.

    Parameters
    ----------
    reference : torch.Tensor
        The unpruned model's output vectors ``[inputs, dim]``.
    outputs : torch.Tensor
        The pruned model's output vectors, same shape.
    labels : Any
        Not used.

    Returns
    -------
    tuple of (str, float)
        ``"cosine_similarity"`` and the mean cosine [1].
    """
    return "cosine_similarity", float(nn.functional.cosine_similarity(reference, outputs, dim=-1).mean())
