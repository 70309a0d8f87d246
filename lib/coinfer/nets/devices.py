"""Where models run: device validation, and moving models, inputs and results (model.md section 6).

Every function that runs a model takes ``device="cpu"`` (the default) or
``"cuda"``. Models and their inputs are moved with :func:`move_model` and
:func:`to_device`; what a function measures is brought back with
:func:`to_cpu64` (CPU, float64) before any table is built, so tables do not
depend on where they were computed beyond :data:`coinfer.pipeline.verify.DEVICE`.
Pruning masks are always computed on the CPU (:mod:`coinfer.model.pruning` sorts
CPU copies of the magnitudes, a stable sort whose ties go by position), so
the same weights are pruned on every device.

On the CPU nothing is copied or converted: ``move_model(model, "cpu")``
returns ``model`` itself and ``to_device(x, "cpu")`` returns ``x``, which keeps
CPU results identical to those computed before devices existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from coinfer.base.validation import ParameterError, require_choice

if TYPE_CHECKING:
    from coinfer.nets.split import SplitModel

#: The devices a measurement can run on.
DEVICES: tuple[str, ...] = ("cpu", "cuda")


def check_device(device: str, name: str = "device") -> str:
    """``device`` if it is one of :data:`DEVICES` and usable here, else a one-line :class:`ParameterError`.

    Asking for ``"cuda"`` on a machine without a CUDA GPU is an error, not a
    silent fall-back to the CPU. Choosing CUDA also turns TensorFloat-32 off
    (cuBLAS matmuls and cuDNN convolutions): TF32 rounds float32 inputs to 10
    mantissa bits, about 1e-3 relative, far beyond :data:`coinfer.pipeline.verify.DEVICE`.

    Parameters
    ----------
    device : str
        Where torch runs: ``"cpu"`` or ``"cuda"``.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    str
        ``device``, unchanged.
    """
    require_choice(name, device, DEVICES)
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError(
                f"{name}: got 'cuda' but no CUDA GPU is available (torch.cuda.is_available() is False); allowed 'cpu'"
            )
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return device


def to_device(value: Any, device: str) -> Any:
    """``value`` with every tensor inside it (tuples, lists, dicts) on ``device``; ``value`` itself on the CPU.

    Parameters
    ----------
    value : Any
        A tensor, or tuples, lists and dicts of them.
    device : str
        ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    Any
        The same structure with its tensors on ``device``.
    """
    if device == "cpu":
        return value
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def to_cpu64(tensor: torch.Tensor) -> torch.Tensor:
    """A measured tensor as CPU float64 (on the CPU: the same values as ``tensor.double()``).

    Parameters
    ----------
    tensor : torch.Tensor
        A measured tensor (any device and dtype) [its own unit].

    Returns
    -------
    torch.Tensor
        The values as CPU float64.
    """
    return tensor.detach().to(device="cpu", dtype=torch.float64)


def move_model(model: SplitModel, device: str) -> SplitModel:
    """``model`` with every stage on ``device``, in place (``model`` itself, untouched, on the CPU).

    A model dispatched over several devices by ``accelerate`` (loaded with a
    ``device_map``, :func:`coinfer.nets.zoo.load_checkpoint`) is left where it is:
    its hooks move activations between devices themselves.

    Parameters
    ----------
    model : SplitModel
        The split model.
    device : str
        ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    SplitModel
        ``model`` itself.
    """
    if device == "cpu" or model.info.get("device_map") is not None:
        return model
    for stage in model.stages():
        stage.to(device)
    return model


def placed(model: SplitModel, device: str) -> SplitModel:
    """``model`` itself if it already runs on ``device`` (or is dispatched by ``accelerate``), else a moved copy.

    For functions that only run a model: the caller's model is never moved,
    and a model already on the GPU is not copied there a second time.

    Parameters
    ----------
    model : SplitModel
        The split model.
    device : str
        ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    SplitModel
        ``model`` or a moved copy.
    """
    import copy

    first = next((p for stage in model.stages() for p in stage.parameters()), None)
    if model.info.get("device_map") is not None or first is None or first.device.type == device:
        return model
    return move_model(copy.deepcopy(model), device)
