"""Layer 7, the pipeline: runs the notebooks with validated parameters, publishes and verifies their outputs,
builds the documentation site and the README's tables, and is the command line (``python -m coinfer``, whose
``coinfer/__main__.py`` calls :func:`coinfer.pipeline.cli.main`). It may import every other layer; no layer
imports it.
"""

from __future__ import annotations

from coinfer.pipeline import cli, notebook_params, publish, readme, runner, site, verify
from coinfer.pipeline.cli import main
from coinfer.pipeline.notebook_params import check_namespace, load_profile, record, validate
from coinfer.pipeline.runner import run

__all__ = [
    "check_namespace",
    "cli",
    "load_profile",
    "main",
    "notebook_params",
    "publish",
    "readme",
    "record",
    "run",
    "runner",
    "site",
    "validate",
    "verify",
]
