"""Checks of every notebook's parameters, and profile files.

Each notebook has one ``parameters`` cell (papermill) whose names must be
exactly the keys of its entry in :data:`coinfer.base.notebooks.SCHEMAS` (the
declaration of every notebook's parameters); a test enforces it. Profile
files (``params/quick.yaml``, ``params/full.yaml``) map notebook names to
parameter overrides. Everything is validated before any notebook runs: an
unknown notebook or parameter name, a wrong type or an out-of-range value is a
:class:`~coinfer.base.validation.ParameterError`, never a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from coinfer.base.notebooks import SCHEMAS
from coinfer.base.validation import ParameterError, read_yaml, require_known


def _ranges(*names: str) -> Callable[[dict[str, Any]], None]:
    """Each named parameter is a ``[low, high]`` pair with ``low < high``."""

    def check(params: dict[str, Any]) -> None:
        for name in names:
            pair = params[name]
            if len(pair) != 2 or not pair[0] < pair[1]:
                raise ParameterError(f"{name}: got {pair}; expected [low, high] with low < high")

    return check


def _power_of_two(name: str) -> Callable[[dict[str, Any]], None]:
    """The named parameter is a power of two (Sobol designs balance only then)."""

    def check(params: dict[str, Any]) -> None:
        value = params[name]
        if value < 1 or value & (value - 1):
            raise ParameterError(f"{name}: got {value}; expected a power of two")

    return check


def _device_available(params: dict[str, Any]) -> None:
    """The ``device`` parameter names a device this machine has (``cuda`` needs a CUDA GPU)."""
    from coinfer.nets.devices import check_device  # imports torch: only when a notebook with a device is checked

    check_device(params["device"])


def _physical_budgets(params: dict[str, Any]) -> None:
    """``latency_budget_s`` is 0 (the family's default) or at least one device clock cycle at the model.md 7.1
    default ``f_device_max``; the radio slot and the least energy of one inference depend on the profiles and are
    checked when the notebook builds its study (:func:`coinfer.nets.budgets.check_budget`)."""
    from coinfer.model.system import DEFAULTS

    cycle = 1.0 / float(DEFAULTS["f_device_max"])
    value = params["latency_budget_s"]
    if value != 0 and value < cycle:
        raise ParameterError(f"latency_budget_s: got {value!r} s; allowed 0 (family default) or >= {cycle:g} s")


def _all(*checks: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """Every one of ``checks``, in order."""

    def check(params: dict[str, Any]) -> None:
        for one in checks:
            one(params)

    return check


#: Checks across the parameters of one notebook, run on the full parameter set
#: (defaults merged with overrides) before the notebook starts.
CROSS_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "06_joint_optimisation": _all(
        _ranges("bandwidth_range", "distance_range"),
        _physical_budgets,
        _power_of_two("sensitivity_base_samples"),
    ),
    **dict.fromkeys(
        (
            "03_weight_distributions",
            "04_pruning_distortion",
            "05_system_profiles",
            "07_deployed_designs",
            "08_model_size",
        ),
        _device_available,
    ),
}


def validate(notebook: str, params: Mapping[str, Any], *, partial: bool = True) -> dict[str, Any]:
    """Validate ``params`` for ``notebook`` and return the normalised values.

    With ``partial`` (profile overrides) missing names keep the notebook's
    defaults; without it (a notebook checking its own namespace) every schema
    name must be present, and the notebook's cross-parameter checks (:data:`CROSS_CHECKS`) run too.

    Parameters
    ----------
    notebook : str
        A notebook name of :data:`coinfer.base.notebooks.SCHEMAS`, e.g. ``"06_joint_optimisation"``.
    params : mapping of str to object
        Parameter name -> value, in the units of the notebook's schema.
    partial : bool, default True
        Whether names may be missing (a profile's overrides).

    Returns
    -------
    dict
        Parameter name -> the value its schema's check returns (possibly normalised, units unchanged).

    Raises
    ------
    ParameterError
        For an unknown notebook or parameter, a missing parameter (``partial=False``), a wrong type or an
        out-of-range value; the message names ``notebook.parameter`` and the allowed range.
    """
    require_known("notebook", [notebook], SCHEMAS)
    schema = SCHEMAS[notebook]
    require_known(f"{notebook}: parameter", params, schema)
    if not partial:
        missing = sorted(set(schema) - set(params))
        if missing:
            raise ParameterError(f"{notebook}: parameter {missing[0]!r} is missing")
    checked = {name: schema[name].check(f"{notebook}.{name}", value) for name, value in params.items()}
    if not partial and notebook in CROSS_CHECKS:
        try:
            CROSS_CHECKS[notebook](checked)
        except ParameterError as error:
            raise ParameterError(f"{notebook}.{error}") from None
    return checked


def check_namespace(notebook: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a notebook's parameters from its global namespace (first cell after ``parameters``).

    Parameters
    ----------
    notebook : str
        A notebook name of :data:`coinfer.base.notebooks.SCHEMAS`.
    namespace : mapping of str to object
        The notebook's globals; only the names of its schema are read.

    Returns
    -------
    dict
        The validated parameters (:func:`validate` with ``partial=False``), e.g. for stating them in figure captions.

    Raises
    ------
    ParameterError
        As :func:`validate`'s, including a schema name missing from ``namespace``.
    """
    params = {name: namespace[name] for name in SCHEMAS[notebook] if name in namespace}
    return validate(notebook, params, partial=False)


def record(notebook: str, params: Mapping[str, Any]) -> Path:
    """Write ``notebook``'s validated parameters to ``data/parameters_<notebook>.json``.

    Called by each notebook right after :func:`check_namespace`, so that
    ``11_report`` can state them in the captions of figures it redraws from
    ``data/`` alone (:mod:`coinfer.figures`).

    Parameters
    ----------
    notebook : str
        A notebook name of :data:`coinfer.base.notebooks.SCHEMAS`.
    params : mapping of str to object
        Every parameter of the notebook (validated again with ``partial=False``).

    Returns
    -------
    pathlib.Path
        The file written, under the output root's ``data/`` (:func:`coinfer.base.paths.data_dir`).
    """
    from coinfer.base.paths import write_json

    return write_json(validate(notebook, params, partial=False), f"parameters_{notebook}.json")


def load_profile(path: Path) -> dict[str, dict[str, Any]]:
    """Read and validate a profile file: ``{notebook: {parameter: value}}``.

    Parameters
    ----------
    path : pathlib.Path
        A YAML profile, e.g. ``params/quick.yaml``; an empty file is an empty profile.

    Returns
    -------
    dict
        Notebook name -> its validated overrides (:func:`validate` with ``partial=True``).

    Raises
    ------
    ParameterError
        If the file is not a mapping of notebook names to parameter mappings, names an unknown notebook, or an
        override fails :func:`validate` (the message starts with ``profile <file name>``).
    """
    path = Path(path)
    content = read_yaml(path, "profile")
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise ParameterError(f"profile: {path} must map notebook names to parameters, got {type(content).__name__}")
    profile: dict[str, dict[str, Any]] = {}
    for notebook, params in content.items():
        require_known(f"profile {path.name}: notebook", [str(notebook)], SCHEMAS)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ParameterError(f"profile {path.name}: {notebook} must map parameter names to values")
        try:
            profile[notebook] = validate(notebook, params)
        except ParameterError as error:
            raise ParameterError(f"profile {path.name}: {error}") from None
    return profile
