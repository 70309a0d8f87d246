"""Layer 0, the base: one-line parameter errors, where files live, the notebooks and their parameters, progress
bars, thread pinning and parallel loops.

It knows nothing of the model or of any experiment, and imports no other layer of ``coinfer`` (only the
standard library and light third-party packages; torch, joblib and dask are imported where they are used).
Every other layer may import it.
"""

from coinfer.base import notebooks, parallel, paths, progress, threads, validation

__all__ = ["notebooks", "parallel", "paths", "progress", "threads", "validation"]
