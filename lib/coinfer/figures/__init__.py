"""Layer 6, the figures: every figure of the artifact, drawn from the tidy tables in ``data/`` alone.

It may import every lower layer, but a figure module imports :mod:`coinfer.studies` only inside the function
that needs a study's rules (importing the studies loads the solvers); :mod:`coinfer.figures.style` imports no
other layer than :mod:`coinfer.base`. Nothing here imports the pipeline.

One function per figure, ``plot(tables, params) -> Figure``: ``tables`` maps
the data files the figure reads (names as in ``data/``) to the frames read back
with :func:`coinfer.base.paths.read_csv`, ``params`` are the validated parameters
of the notebook that computed them (``data/parameters_<notebook>.json``,
written by :func:`coinfer.pipeline.notebook_params.record`). The functions never see a
model or recompute a result, so the computing notebooks (which call
:func:`show` right after writing their tables) and ``11_report`` (which calls
:func:`regenerate_all`) produce the same bytes from the same data. The
figures show claims C1 (model.md section 3), C2 (model.md section 4), C3 and C4 (model.md section 5) and the
workload profiles of model.md section 6.

Layout of the package:

- :mod:`coinfer.figures.registry`: :data:`FIGURES` (figure name -> plotting
  function, data files, notebook, claim), :func:`register`, and reading,
  rendering, saving (with the caption footer) and showing figures;
- one module per computing notebook, each registering its own figures:
  :mod:`~coinfer.figures.distortion_bound` (01), :mod:`~coinfer.figures.rate_distortion`
  (02), :mod:`~coinfer.figures.weight_distributions` (03), :mod:`~coinfer.figures.pruning_distortion`
  (04), :mod:`~coinfer.figures.system_profiles` (05),
  :mod:`~coinfer.figures.joint_optimisation` (06), :mod:`~coinfer.figures.deployed_designs` (07),
  :mod:`~coinfer.figures.model_size` (08), :mod:`~coinfer.figures.multi_user` (09) and
  :mod:`~coinfer.figures.decoding` (10);
- style (colours, markers, shared labels, figure and legend helpers) lives in
  :mod:`coinfer.figures.style`; :mod:`coinfer.figures.layout` checks a drawn figure for overlapping texts and
  legends over titles or data.

A new notebook adds its figures in a new module here, decorated with
:func:`register`, and imports it below (and lists it in :data:`SUBJECT_MODULES`).
"""

from __future__ import annotations

# The subject modules register their figures when imported: import all of them, in notebook order.
from coinfer.figures import (
    decoding,
    deployed_designs,
    distortion_bound,
    joint_optimisation,
    layout,
    model_size,
    multi_user,
    pruning_distortion,
    rate_distortion,
    registry,
    style,
    system_profiles,
    weight_distributions,
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
from coinfer.figures.style import MODEL_ORDER, SCHEME_ORDER, scheme_colour
from coinfer.figures.weight_distributions import histogram_rows

#: The subject modules, one per computing notebook, in notebook order.
SUBJECT_MODULES = (
    distortion_bound,
    rate_distortion,
    weight_distributions,
    pruning_distortion,
    system_profiles,
    joint_optimisation,
    deployed_designs,
    model_size,
    multi_user,
    decoding,
)

__all__ = [
    "decoding",
    "deployed_designs",
    "distortion_bound",
    "joint_optimisation",
    "layout",
    "model_size",
    "multi_user",
    "pruning_distortion",
    "rate_distortion",
    "registry",
    "style",
    "system_profiles",
    "weight_distributions",
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
