"""Thread pinning: torch on one thread for tiny tensors, and BLAS on one thread where bytes must not move.

A BLAS library (OpenBLAS, MKL) splits a product over its threads, and the split changes the order of the
additions, so the last bits of a result can depend on how many threads it ran on. A machine whose BLAS runs two
threads in the main process and one in each worker then gives different bytes in process and in parallel
(issue 27: one ``local_nonconvex`` ratio of notebook 06 differed in its last bits on such a machine).
:func:`blas_threads` pins BLAS (and OpenMP) to one thread with threadpoolctl inside the code whose output is
written to ``data/``: every task of :func:`coinfer.base.parallel.parallel_map`, in process and in workers
alike, and the sweep tasks of notebook 06. The pin holds whatever ``OMP_NUM_THREADS`` or
``OPENBLAS_NUM_THREADS`` say and is undone when the block ends.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread inside the block: on tiny tensors thread hand-off costs 10-30x the arithmetic.

    BLAS and OpenMP are pinned too (:func:`blas_threads`), so results do not depend on the machine's thread
    counts either. Torch's previous thread count is restored when the block ends.

    Yields
    ------
    None
        Inside the block torch, BLAS and OpenMP run on one thread.
    """
    import torch  # here, so that importing coinfer.base stays light

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with blas_threads():
            yield
    finally:
        torch.set_num_threads(previous)


#: ``(number of imported modules, threadpoolctl controller)``: building a controller inspects every loaded
#: library (~2 ms), so one is kept until a module is imported (a BLAS is loaded by importing an extension module).
_CONTROLLER: list[Any] = [-1, None]


def _controller() -> Any:
    """A threadpoolctl controller that knows every thread-pool library loaded so far."""
    if _CONTROLLER[0] != len(sys.modules):
        from threadpoolctl import ThreadpoolController

        _CONTROLLER[1] = ThreadpoolController()
        _CONTROLLER[0] = len(sys.modules)
    return _CONTROLLER[1]


@contextlib.contextmanager
def blas_threads(limit: int = 1) -> Iterator[None]:
    """BLAS and OpenMP thread pools limited to ``limit`` threads inside the block (threadpoolctl).

    The libraries are those loaded when the block starts: numpy's and scipy's OpenBLAS are loaded first
    (scipy's carries SLSQP's linear algebra), torch's OpenMP if torch is imported. Costs about 0.1 ms, or 2 ms
    when a module was imported since the last call. The previous limits are restored when the block ends.

    Parameters
    ----------
    limit : int, default 1
        Threads allowed per pool [count].

    Yields
    ------
    None
        Inside the block the pools run on at most ``limit`` threads.
    """
    import numpy  # noqa: F401  the BLAS carriers, loaded before they are limited
    import scipy.linalg  # noqa: F401

    with _controller().limit(limits=limit, user_api=None):
        yield


def one_blas_thread(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``func`` to run inside :func:`blas_threads` (for the tasks whose results are written to ``data/``).

    Parameters
    ----------
    func : callable
        The task to run with BLAS and OpenMP pinned to one thread.

    Returns
    -------
    callable
        ``func`` wrapped, with the same signature and return value.
    """

    @functools.wraps(func)
    def pinned(*args: P.args, **kwargs: P.kwargs) -> R:
        with blas_threads():
            return func(*args, **kwargs)

    return pinned
