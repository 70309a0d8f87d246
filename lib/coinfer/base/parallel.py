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

Local workers never outlive the process that started them: each loky worker asks the kernel (Linux
``PR_SET_PDEATHSIG``) for SIGTERM when its parent dies, whatever killed the parent, and while a loop runs a
SIGTERM to the parent first stops the workers and their helpers, then ends the parent as SIGTERM would have
(:func:`stop_workers_on_sigterm`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from coinfer.base.progress import tqdm
from coinfer.base.threads import blas_threads
from coinfer.base.validation import ParameterError

T = TypeVar("T")
R = TypeVar("R")

#: Environment variables that set the defaults, so a whole run moves to a cluster without editing notebooks.
WORKERS_ENV = "COINFER_WORKERS"
SCHEDULER_ENV = "COINFER_SCHEDULER_ADDRESS"
#: Seconds the workers get to exit after SIGTERM before they are killed.
STOP_GRACE_SECONDS = 3.0
#: ``prctl`` option: the signal a process receives when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def default_workers() -> int:
    """The default number of workers: ``$COINFER_WORKERS`` if set, else ``-1`` (every core).

    Returns
    -------
    int
        ``-1`` (every core) or a positive number of worker processes [count].

    Raises
    ------
    ParameterError
        If ``$COINFER_WORKERS`` is not an integer, or is neither ``-1`` nor at least 1.
    """
    value = os.environ.get(WORKERS_ENV, "-1")
    try:
        workers = int(value)
    except ValueError:
        raise ParameterError(f"{WORKERS_ENV}: got {value!r}; expected an integer (-1 = every core)") from None
    return check_workers(workers)


def check_workers(workers: int) -> int:
    """Check that ``workers`` is ``-1`` (every core) or a positive count.

    Parameters
    ----------
    workers : int
        Number of worker processes, ``-1`` for every core [count].

    Returns
    -------
    int
        ``workers`` unchanged [count].

    Raises
    ------
    ParameterError
        If ``workers`` is not an integer (a bool is not one), or is neither ``-1`` nor at least 1.
    """
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
    closures). Every call of ``func`` runs with BLAS and OpenMP on one thread
    (:func:`coinfer.base.threads.blas_threads`), so the results are the same bytes in process, in local workers
    and on a Dask cluster. One worker without a scheduler, or at most one item, runs in this process.

    Parameters
    ----------
    func : callable
        Applied to each item.
    items : sequence or iterable
        The inputs; consumed into a list first.
    workers : int, optional
        Local worker processes (loky): ``-1`` every core, or at least 1 [count]; default ``$COINFER_WORKERS``
        (else ``-1``).
    scheduler_address : str, optional
        A Dask scheduler's address to run on instead of local workers; ``""`` none; default
        ``$COINFER_SCHEDULER_ADDRESS``.
    desc : str, optional
        Label of the progress bar.
    progress : bool, default True
        Whether to show a progress bar (:func:`coinfer.base.progress.tqdm`).

    Returns
    -------
    list
        ``func(item)`` for every item, in input order.

    Raises
    ------
    ParameterError
        If ``workers`` (or ``$COINFER_WORKERS``) is neither ``-1`` nor an integer of at least 1.
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

        parent = None if address else os.getpid()  # local workers die with this process; cluster workers do not
        with stop_workers_on_sigterm(), _backend(address) as backend, warnings.catch_warnings():
            # loky replaces a worker whose memory grew by more than 300 MB since its first task (its guard against
            # leaks), as a task that loads another model does, and warns if jobs were waiting; none is lost.
            warnings.filterwarnings("ignore", "A worker stopped while some jobs were given", UserWarning)
            runner = joblib.Parallel(n_jobs=workers, backend=backend, return_as="generator")
            for result in runner(joblib.delayed(_pinned)(func, item, parent) for item in items):
                results.append(result)
                bar.update()
        return results
    finally:
        bar.close()


def _pinned(func: Callable[[T], R], item: T, parent: int | None = None) -> R:
    """``func(item)`` with BLAS and OpenMP on one thread: the same bytes in process, in workers and on a cluster,
    whatever thread counts the machine's libraries start with (:func:`coinfer.base.threads.blas_threads`).

    ``parent``: the pid of the process that started the loop, when the task runs in one of its local (loky)
    workers; the worker then dies with it (:func:`die_with_parent`).
    """
    if parent is not None and parent != os.getpid():
        die_with_parent(parent)
    with blas_threads():
        return func(item)


_GUARDED = False


def die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux; elsewhere nothing), once per process.

    If the parent is already gone (this process was re-parented before asking), exit now.

    Parameters
    ----------
    parent : int
        Process id of the parent that started this worker [-].

    Returns
    -------
    None
    """
    global _GUARDED
    if _GUARDED or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        return  # not allowed here: the SIGTERM handler of the parent still stops the workers
    _GUARDED = True
    if os.getppid() != parent:
        os._exit(128 + int(signal.SIGTERM))


def stop_children(grace: float = STOP_GRACE_SECONDS, processes: list[Any] | None = None) -> None:
    """SIGTERM every process under this one (or ``processes``), then SIGKILL those alive after ``grace`` s.

    Parameters
    ----------
    grace : float, optional
        Seconds the processes get to exit after SIGTERM [s].
    processes : list of psutil.Process, optional
        The processes to stop; default: every process under this one (workers and their helpers), found by
        parentage, not by process group (the kernel runs in its own session).

    Returns
    -------
    None
    """
    import psutil

    found = processes if processes is not None else psutil.Process().children(recursive=True)
    for process in found:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(found, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)


class _Terminated(BaseException):
    """SIGTERM arrived while a parallel loop ran (a BaseException, so no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def stop_workers_on_sigterm() -> Iterator[None]:
    """Within: SIGTERM stops every process under this one, then ends this process as SIGTERM would have.

    Every process under this one is stopped with :func:`stop_children`; the signal is then delivered again with the
    handler that was in place before. Only in the main thread (Python runs signal handlers there); elsewhere a plain
    ``yield``.

    Yields
    ------
    None
        Control, once, with the handler installed; the previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        stop_children()
        os.kill(os.getpid(), signal.SIGTERM)  # as if this handler had not been here
        raise KeyboardInterrupt("SIGTERM") from None  # reached only if the previous handler returns
    finally:
        signal.signal(signal.SIGTERM, previous)


def describe(workers: int | None = None, scheduler_address: str | None = None) -> str:
    """One line saying where :func:`parallel_map` will run, for notebooks to print.

    Parameters
    ----------
    workers : int, optional
        Number of local worker processes, ``-1`` for every core [count]; default :func:`default_workers`.
    scheduler_address : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``), ``""`` for local processes; default
        ``$COINFER_SCHEDULER_ADDRESS``.

    Returns
    -------
    str
        For example ``"4 local processes (joblib loky)"`` or ``"Dask cluster at tcp://host:8786"``.
    """
    workers = default_workers() if workers is None else check_workers(workers)
    address = os.environ.get(SCHEDULER_ENV, "") if scheduler_address is None else scheduler_address
    if address:
        return f"Dask cluster at {address}"
    count = (os.cpu_count() or 1) if workers == -1 else workers
    return f"{count} local process{'es' if count != 1 else ''} (joblib loky)"


__all__ = [
    "check_workers",
    "default_workers",
    "describe",
    "die_with_parent",
    "parallel_map",
    "stop_children",
    "stop_workers_on_sigterm",
]
