"""Thread control for torch: small tensors run faster on one thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread inside the block: on tiny tensors thread hand-off costs 10-30x the arithmetic."""
    import torch  # here, so that importing coinfer.base stays light

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
