"""Layer 0, the base: one-line parameter errors, where files live, the notebooks and their parameters, progress
bars, thread pinning and parallel loops. It knows nothing of the model or of any experiment and imports no other
layer of ``coinfer``, only the standard library and light third-party packages (torch, threadpoolctl, joblib and
dask where they are used); every other layer may import it.
"""

from __future__ import annotations

from coinfer.base import jit, notebooks, parallel, paths, progress, threads, validation
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.base.parallel import parallel_map
from coinfer.base.paths import (
    PROJECT_ROOT,
    data_dir,
    figures_dir,
    output_root,
    read_csv,
    read_json,
    write_csv,
    write_json,
    write_text,
)
from coinfer.base.progress import tqdm
from coinfer.base.threads import blas_threads, single_thread
from coinfer.base.validation import EXIT_BAD_INPUT, ParameterError, Spec, read_yaml, require_choice, require_range

__all__ = [
    "blas_threads",
    "data_dir",
    "figures_dir",
    "jit",
    "notebooks",
    "output_root",
    "parallel",
    "parallel_map",
    "paths",
    "progress",
    "read_csv",
    "read_json",
    "read_yaml",
    "require_choice",
    "require_range",
    "single_thread",
    "threads",
    "tqdm",
    "validation",
    "write_csv",
    "write_json",
    "write_text",
    "EXIT_BAD_INPUT",
    "NOTEBOOKS",
    "PROJECT_ROOT",
    "ParameterError",
    "SCHEMAS",
    "Spec",
]
