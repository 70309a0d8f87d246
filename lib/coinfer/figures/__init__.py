"""Every figure of the artifact, drawn from the tidy tables in ``data/`` alone.

One function per figure, ``plot(tables, params) -> Figure``: ``tables`` maps
the data files the figure reads (names as in ``data/``) to the frames read back
with :func:`coinfer.paths.read_csv`, ``params`` are the validated parameters
of the notebook that computed them (``data/parameters_<notebook>.json``,
written by :func:`coinfer.notebook_params.record`). The functions never see a
model or recompute a result, so the computing notebooks (which call
:func:`show` right after writing their tables) and ``07_figures`` (which calls
:func:`regenerate_all`) produce the same bytes from the same data. The
figures show claims C1 (model.md section 3), C2 (model.md section 4), C3 and C4 (model.md section 5) and the
workload profiles of model.md section 6.

Layout of the package:

- :mod:`coinfer.figures.registry`: :data:`FIGURES` (figure name -> plotting
  function, data files, notebook, claim), :func:`register`, and reading,
  rendering, saving (with the caption footer) and showing figures;
- one module per computing notebook, each registering its own figures:
  :mod:`~coinfer.figures.bounds` (01), :mod:`~coinfer.figures.rate_distortion`
  (02), :mod:`~coinfer.figures.weights` (03), :mod:`~coinfer.figures.pruning`
  (04), :mod:`~coinfer.figures.profiles` (05),
  :mod:`~coinfer.figures.optimisation` (06), :mod:`~coinfer.figures.size` (09) and
  :mod:`~coinfer.figures.multi_user` (09_multi_user);
- style (colours, markers, shared labels, figure and legend helpers) lives in
  :mod:`coinfer.plotting`.

A new notebook adds its figures in a new module here, decorated with
:func:`register`, and imports it below (and lists it in :data:`SUBJECT_MODULES`).
"""

from __future__ import annotations

# The subject modules register their figures when imported: import all of them, in notebook order.
from coinfer.figures import (
    bounds,
    deployed,
    multi_user,
    optimisation,
    profiles,
    pruning,
    rate_distortion,
    size,
    weights,
)
from coinfer.figures.registry import (
    FIGURES,
    FigureSpec,
    PlotFunction,
    caption,
    data_location,
    describe,
    display_claim,
    display_saved,
    figures_of,
    in_order,
    load_parameters,
    load_tables,
    missing_inputs,
    parameters_file,
    png_bytes,
    regenerate_all,
    register,
    registry_table,
    render,
    save,
    show,
    spec_of,
)
from coinfer.figures.weights import histogram_rows
from coinfer.plotting import MODEL_ORDER, SCHEME_ORDER, scheme_colour

#: The subject modules, one per computing notebook, in notebook order.
SUBJECT_MODULES = (bounds, rate_distortion, weights, pruning, profiles, optimisation, deployed, size, multi_user)

__all__ = [
    "FIGURES",
    "MODEL_ORDER",
    "SCHEME_ORDER",
    "SUBJECT_MODULES",
    "FigureSpec",
    "PlotFunction",
    "caption",
    "data_location",
    "describe",
    "display_claim",
    "display_saved",
    "figures_of",
    "histogram_rows",
    "in_order",
    "load_parameters",
    "load_tables",
    "missing_inputs",
    "parameters_file",
    "png_bytes",
    "register",
    "registry_table",
    "regenerate_all",
    "render",
    "save",
    "scheme_colour",
    "show",
    "spec_of",
]
