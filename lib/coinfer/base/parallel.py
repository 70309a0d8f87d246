"""Embarrassingly parallel loops on joblib: local processes by default, a Dask cluster on request.

Every sweep driver that loops over independent points (budget sweeps, fading
draws, single starts, readings) hands its loop to :func:`parallel_map`.
Results come back in input order and each task is deterministic (seeded) and
runs with BLAS and OpenMP on one thread (:func:`coinfer.base.threads.blas_threads`),
so the tables are byte-identical whatever the backend, the number of workers
and the thread counts the machine's libraries start with (the determinism tests
of notebook 06's sweeps check it, a ``dask.distributed.LocalCluster`` and other
``OPENBLAS_NUM_THREADS`` included).

- ``workers``: ``1`` runs in this process (no pickling), ``-1`` (default) uses
  every core with joblib's ``loky`` processes.
- ``scheduler_address``: ``"tcp://host:8786"`` runs the same tasks on that Dask
  cluster through joblib's Dask backend (``dask.distributed.Client``); ``""``
  keeps them local.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from coinfer.base.progress import tqdm
from coinfer.base.threads import blas_threads
from coinfer.base.validation import ParameterError

T = TypeVar("T")
R = TypeVar("R")

#: Environment variables that set the defaults, so a whole run moves to a cluster without editing notebooks.
WORKERS_ENV = "COINFER_WORKERS"
SCHEDULER_ENV = "COINFER_SCHEDULER_ADDRESS"


def default_workers() -> int:
    """``$COINFER_WORKERS`` if set, else ``-1`` (every core)."""
    value = os.environ.get(WORKERS_ENV, "-1")
    try:
        workers = int(value)
    except ValueError:
        raise ParameterError(f"{WORKERS_ENV}: got {value!r}; expected an integer (-1 = every core)") from None
    return check_workers(workers)


def check_workers(workers: int) -> int:
    """``workers`` must be ``-1`` (every core) or a positive count."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not (workers == -1 or workers >= 1):
        raise ParameterError(f"workers: got {workers!r}; allowed -1 (every core) or an integer >= 1")
    return workers


@contextlib.contextmanager
def _backend(scheduler_address: str) -> Iterator[str | None]:
    """The backend to hand ``joblib.Parallel``: ``"loky"``, or ``None`` inside a Dask client's joblib config."""
    if not scheduler_address:
        yield "loky"
        return
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - dask is a dependency
        raise ParameterError(f"scheduler_address: {scheduler_address!r} needs dask.distributed ({error})") from None
    import joblib

    with Client(scheduler_address), joblib.parallel_config(backend="dask", wait_for_workers_timeout=60):
        yield None  # the configured (Dask) backend


def parallel_map(
    func: Callable[[T], R],
    items: Sequence[T] | Iterable[T],
    *,
    workers: int | None = None,
    scheduler_address: str | None = None,
    desc: str | None = None,
    progress: bool = True,
) -> list[R]:
    """``[func(item) for item in items]``, in parallel, in input order.

    ``workers`` and ``scheduler_address`` default to ``$COINFER_WORKERS`` and
    ``$COINFER_SCHEDULER_ADDRESS``. ``func`` and the items must pickle (plain
    functions and :func:`functools.partial` do; the loky backend also takes
    closures).
    """
    items = list(items)
    workers = default_workers() if workers is None else check_workers(workers)
    address = os.environ.get(SCHEDULER_ENV, "") if scheduler_address is None else scheduler_address
    bar = tqdm(total=len(items), desc=desc, disable=not progress or not items)
    try:
        results = []
        if (workers == 1 and not address) or len(items) <= 1:
            for item in items:
                results.append(_pinned(func, item))
                bar.update()
            return results
        import joblib

        with _backend(address) as backend, warnings.catch_warnings():
            # loky replaces a worker whose memory grew by more than 300 MB since its first task (its guard against
            # leaks), as a task that loads another model does, and warns if jobs were waiting; none is lost.
            warnings.filterwarnings("ignore", "A worker stopped while some jobs were given", UserWarning)
            runner = joblib.Parallel(n_jobs=workers, backend=backend, return_as="generator")
            for result in runner(joblib.delayed(_pinned)(func, item) for item in items):
                results.append(result)
                bar.update()
        return results
    finally:
        bar.close()


def _pinned(func: Callable[[T], R], item: T) -> R:
    """``func(item)`` with BLAS and OpenMP on one thread: the same bytes in process, in workers and on a cluster,
    whatever thread counts the machine's libraries start with (:func:`coinfer.base.threads.blas_threads`)."""
    with blas_threads():
        return func(item)


def describe(workers: int | None = None, scheduler_address: str | None = None) -> str:
    """One line saying where :func:`parallel_map` will run, for notebooks to print."""
    workers = default_workers() if workers is None else check_workers(workers)
    address = os.environ.get(SCHEDULER_ENV, "") if scheduler_address is None else scheduler_address
    if address:
        return f"Dask cluster at {address}"
    count = (os.cpu_count() or 1) if workers == -1 else workers
    return f"{count} local process{'es' if count != 1 else ''} (joblib loky)"


__all__ = ["check_workers", "default_workers", "describe", "parallel_map"]
