"""Layer 7, the pipeline: runs the notebooks with validated parameters, publishes and verifies their outputs,
builds the web report and the README's tables, and the command line (``python -m coinfer``).

It may import every other layer; nothing imports it (``coinfer/__main__.py`` calls :func:`coinfer.pipeline.cli.main`).
"""

from coinfer.pipeline import cli, notebook_params, publish, readme, runner, site, verify

__all__ = ["cli", "notebook_params", "publish", "readme", "runner", "site", "verify"]
