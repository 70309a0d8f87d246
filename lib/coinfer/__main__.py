"""``python -m coinfer`` and the ``coinfer`` console script: see :mod:`coinfer.pipeline.cli`."""

from __future__ import annotations

import sys

from coinfer.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
