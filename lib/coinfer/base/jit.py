"""One switch for compiled code: :func:`jcompile` is ``numba.njit`` or a pass-through (pvlib's ``spa.py`` pattern).

The solver's arithmetic is written once, as plain Python on floats and NumPy
arrays, and decorated with :func:`jcompile`. With the switch on (the default)
numba compiles it to machine code and caches that code on disk; with
``COINFER_JIT=0`` in the environment (read once, at import) the same
functions run as plain Python, which is slow but can be stepped through in a
debugger, and which a test compares with the compiled run answer by answer.
Plain Python differs from compiled code only where an operation fails:
``math.exp`` overflowing or ``math.log`` of 0 raises there, where compiled
code carries ``inf`` or ``nan`` on.

numba's cache of a compiled function is checked against its own source file
only: when a compiled function calls one defined in another file and that
file changes, the caller's cached machine code (which holds the old callee)
would still be loaded. :func:`refresh_cache` closes that gap: a module whose
compiled functions call another file's calls it, before any of its functions
is compiled, naming the files it depends on; when their contents differ from
those its cache was built with, it deletes the module's cached machine code,
so that numba compiles it afresh.
"""

from __future__ import annotations

import hashlib
import os
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

__all__ = ["JIT", "jcompile", "refresh_cache"]

#: Whether :func:`jcompile` compiles (environment variable ``COINFER_JIT``; ``0`` runs plain Python).
JIT = os.environ.get("COINFER_JIT", "1").strip() != "0"

F = TypeVar("F", bound=Callable[..., Any])


def jcompile(signature: str | None = None) -> Callable[[F], F]:
    """Decorator: ``numba.njit(signature, cache=True)`` when :data:`JIT` is on, else the function itself.

    Parameters
    ----------
    signature : str, optional
        A numba signature. With one, the function is compiled (or loaded from
        numba's cache) when it is decorated, i.e. when its module is imported;
        without one, at its first call.

    Returns
    -------
    Callable
        The decorator. A compiled function is a numba dispatcher: callable from
        Python with the same arguments, its plain function at ``.py_func``.
    """
    if not JIT:
        return lambda func: func
    from numba import njit

    def compile_(func: F) -> F:
        compiled = njit(signature, cache=True)(func) if signature else njit(cache=True)(func)
        return cast(F, compiled)  # a dispatcher, called as the function is

    return compile_


def refresh_cache(module_file: str, dependencies: Iterable[str]) -> bool:
    """Delete the cached machine code of ``module_file`` if a file it depends on changed since it was cached.

    Call it in a module whose compiled functions call compiled functions of
    other files, before any of its functions is compiled (before the first
    :func:`jcompile` with a signature). The digest of the dependencies'
    contents is kept beside numba's cache files of the module, in the
    directory numba caches it in (``NUMBA_CACHE_DIR``, else the module's
    ``__pycache__``, else the user's cache directory).

    Parameters
    ----------
    module_file : str
        The module's source file (its ``__file__``).
    dependencies : iterable of str
        The source files of the compiled functions it calls.

    Returns
    -------
    bool
        True if cached code was deleted (or there was no record of the dependencies yet), False if the
        cache is current, or when nothing is compiled (:data:`JIT` off) or numba will not cache the module.
    """
    if not JIT:
        return False
    directory = _cache_directory(module_file)
    if directory is None:
        return False
    digest = hashlib.sha256()
    for path in sorted(dependencies):
        digest.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes())
    stamp = directory / f"{Path(module_file).stem}.dependencies.sha256"
    try:
        if stamp.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass  # no record yet: the cache, if any, predates it
    stem = Path(module_file).stem
    for cached in [*directory.glob(f"{stem}.*.nbi"), *directory.glob(f"{stem}.*.nbc")]:
        cached.unlink(missing_ok=True)  # another process may have deleted it first
    part = stamp.with_name(f"{stamp.name}.{os.getpid()}")
    try:
        part.write_text(digest.hexdigest())
        part.replace(stamp)  # atomic: a process reading the record sees the old or the new digest
    except OSError:
        pass  # a cache numba can write to but this record not: the module is compiled afresh next time too
    return True


def _cache_directory(module_file: str) -> Path | None:
    """The directory numba caches the compiled functions of ``module_file`` in, by numba's own rule (its cache
    locators, asked about a stand-in function of that file), or None where numba will not cache them."""
    from numba.core.caching import FunctionCache

    module_code = compile("def stand_in(): pass", module_file, "exec")
    code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    try:
        return Path(FunctionCache(types.FunctionType(code, {})).cache_path)
    except RuntimeError:  # no locator can write a cache for this file
        return None
