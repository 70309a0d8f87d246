"""Progress bars: widgets in an interactive notebook, plain text everywhere else.

``tqdm.auto`` picks the widget bar inside a Jupyter kernel. Without
``ipywidgets`` it warns (``TqdmWarning: IProgress not found``) and falls back
to the text bar; with ``ipywidgets`` a papermill run would store widget views
that no static copy can show. The notebook runner (:mod:`coinfer.pipeline.runner`)
therefore sets :data:`PLAIN_PROGRESS_ENV` for its kernels, and :func:`tqdm`
then uses the plain text bar on stderr directly. The stored copies drop those
progress fragments (:func:`coinfer.pipeline.publish.clean`). In a terminal, and in a
notebook opened by hand, nothing changes.
"""

from __future__ import annotations

import os
from typing import Any

from tqdm.std import tqdm as std_tqdm

#: Set to ``1`` (the runner does, for its kernels) to force the plain text bar.
PLAIN_PROGRESS_ENV = "COINFER_PLAIN_PROGRESS"


def plain_progress() -> bool:
    """Whether :data:`PLAIN_PROGRESS_ENV` asks for the plain text bar.

    Returns
    -------
    bool
        True when ``$COINFER_PLAIN_PROGRESS`` is set to anything but an empty string or ``0``.
    """
    return os.environ.get(PLAIN_PROGRESS_ENV, "").strip() not in ("", "0")


def tqdm(*args: Any, **kwargs: Any) -> std_tqdm:
    """A ``tqdm`` progress bar (same arguments): ``tqdm.std`` when :func:`plain_progress`, else ``tqdm.auto``.

    Parameters
    ----------
    *args, **kwargs : object
        Passed to ``tqdm`` unchanged (e.g. ``total`` [count], ``desc``, ``disable``).

    Returns
    -------
    tqdm.std.tqdm
        The bar: the plain text bar on stderr under :data:`PLAIN_PROGRESS_ENV`, else ``tqdm.auto``'s choice.
    """
    if plain_progress():
        return std_tqdm(*args, **kwargs)
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(*args, **kwargs)
