"""Parameter schema of every notebook, and profile files.

Each notebook has one ``parameters`` cell (papermill) whose names must be
exactly the keys of its entry in :data:`SCHEMAS`; a test enforces it. Profile
files (``params/quick.yaml``, ``params/full.yaml``) map notebook names to
parameter overrides. Everything is validated before any notebook runs: an
unknown notebook or parameter name, a wrong type or an out-of-range value is a
:class:`~coinfer.validation.ParameterError`, never a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from coinfer.validation import ParameterError, Spec, read_yaml, require_known

#: The notebooks in execution order (file stems under ``notebooks/``).
NOTEBOOKS: tuple[str, ...] = (
    "01_distortion_bound",
    "02_rate_distortion",
    "03_weight_distributions",
    "04_pruning_distortion",
    "05_system_profiles",
    "06_joint_optimisation",
    "08_deployed_designs",  # runs after 06 (it reads opt_budget_sweep.csv) and before 07, which redraws everything
    "09_model_size",  # after 08 (deployment machinery) and before 07
    "09_multi_user",  # after the model size study, before the figures and claims report
    "07_figures",
)

_SEED = Spec("int", 0, 2**32 - 1)
#: The model-size study's members outside ``zoo.MODEL_NAMES`` (``zoo.SIZE_STUDY_MODELS``; a test keeps them equal).
_SIZE_MODELS = (
    *(f"digits_mlp_w{w}" for w in (8, 16, 32, 64, 128, 256)),
    "mpnet_base",
    "efficientnet_lite1",
    "efficientnet_lite2",
)
_RATIO = Spec("float", 0.0, 1.0, high_open=True)
#: Where the measurement notebooks run their models (``coinfer.devices.DEVICES``; a test keeps them equal).
_DEVICE = Spec("str", choices=("cpu", "cuda"))

#: name -> parameter -> allowed values. Each notebook owns its entry.
SCHEMAS: dict[str, dict[str, Spec]] = {
    "01_distortion_bound": {
        "seed": _SEED,
        "n_networks": Spec("int", 1, 10_000),
        "n_cnns": Spec("int", 0, 1_000),
        "n_inputs": Spec("int", 1, 1_000),
        "depths": Spec("list[int]", 1, 32),
        "widths": Spec("list[int]", 1, 1_024),
        "weight_scales": Spec("list[float]", 0.0, 100.0, low_open=True),
        "ratios": Spec("list[float]", 0.0, 0.99),
        "digits_ratio_points": Spec("int", 2, 1_000),
    },
    "02_rate_distortion": {
        "seed": _SEED,
        "bits": Spec("list[int]", 1, 64),
        "rho_points": Spec("int", 3, 100_000),
        "laplace_b": Spec("float", 0.0, 100.0, low_open=True),
        "mc_weights": Spec("int", 1_000, 100_000_000),
        "se_tolerance": Spec("float", 1.0, 100.0),
    },
    "03_weight_distributions": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "split_fractions": Spec("list[float]", 0.0, 1.0, low_open=True, high_open=True),
        "max_fit_weights": Spec("int", 1000, 10**9),
        "max_ks_weights": Spec("int", 1000, 10**9),
        "hist_bins": Spec("int", 10, 1000),
        "device": _DEVICE,
    },
    "04_pruning_distortion": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "split_fractions": Spec("list[float]", 0.0, 1.0, low_open=True, high_open=True),
        "ratios": Spec("list[float]", 0.0, 0.99),
        "c2_ratios": Spec("list[float]", 0.0, 0.99),
        "bits": Spec("list[int]", 2, 32),
        "n_calibration": Spec("int", 2, 500),
        "n_heldout": Spec("int", 2, 332),  # the held-out sentence pool
        "n_heldout_images": Spec("int", 0, 62),  # the held-out grid crops; 0: all of them
        "n_digits_calibration": Spec("int", 2, 500),
        "n_digits_heldout": Spec("int", 2, 540),
        "n_digits_heldout_training": Spec("int", 0, 757),  # training digits outside the calibration pool
        "scope": Spec("str", choices=("global", "layer")),
        "device": _DEVICE,
    },
    "05_system_profiles": {
        "seed": _SEED,
        "models": Spec(
            "list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", *_SIZE_MODELS)
        ),
        "meta_models": Spec("list[str]", choices=("bert_large", "gpt2_xl", "llama_7b")),
        "meta_seq_len": Spec("int", 1, 8192),
        "bits_per_element": Spec("int", 1, 64),
        "distance": Spec("float", 1.0, 1e5),
        "feature_inputs": Spec("int", 1, 10_000),
        "feature_models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "device": _DEVICE,
    },
    "06_joint_optimisation": {
        "seed": _SEED,
        "models": Spec(
            "list[str]",
            choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b"),
        ),
        "latency_factor": Spec("float", 0.0, 1e6, low_open=True),
        "energy_factor": Spec("float", 0.0, 1e6, low_open=True),
        "energy_scope": Spec("str", choices=("system", "device")),
        "distortion_model": Spec("str", choices=("rd_bound", "magnitude")),
        "sweep_points": Spec("int", 2, 200),
        "latency_factor_range": Spec("list[float]", 0.0, 1e6, low_open=True),
        "energy_factor_range": Spec("list[float]", 0.0, 1e6, low_open=True),
        "bandwidth_range": Spec("list[float]", 1e3, 1e10),
        "distance_range": Spec("list[float]", 1.0, 1e5),
        "split_bandwidths": Spec("list[float]", 1e3, 1e10),
        "split_latency_factors": Spec("list[float]", 0.0, 1e6, low_open=True),
        "grid_points": Spec("int", 2, 100),
        "fading_draws": Spec("int", 1, 100000),
        "agreement_instances": Spec("int", 1, 100000),
        "rho_fixed": Spec("float", 0.0, 0.99),
        "local_starts": Spec("int", 1, 100),
        "fading_local_starts": Spec("int", 1, 100),
        "robustness_sweep_points": Spec("int", 2, 200),
        "single_starts": Spec("int", 1, 1000),
        "sensitivity_base_samples": Spec("int", 2, 2**20),
        "sensitivity_models": Spec(
            "list[str]",
            choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b"),
        ),
        "workers": Spec("int", -1, 1024),
        "scheduler_address": Spec("str"),
    },
    "08_deployed_designs": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "n_digits": Spec("int", 1, 540),
        "n_text": Spec("int", 1, 1_000),
        "n_images": Spec("int", 1, 10_000),
        "n_topics": Spec("int", 2, 30),
        "bits": Spec("int", 2, 32),
        "feature_bits": Spec("int", choices=(4, 8, 16, 32)),
        "workers": Spec("int", -1, 1024),
        "scheduler_address": Spec("str"),
        "device": _DEVICE,
    },
    "09_model_size": {
        "seed": _SEED,
        "digits_models": Spec("list[str]", choices=_SIZE_MODELS[:6]),
        "text_models": Spec("list[str]", choices=("minilm", "mpnet_base")),
        "efficientnet_models": Spec(
            "list[str]", choices=("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
        ),
        "meta_models": Spec("list[str]", choices=("bert_large", "gpt2_xl", "llama_7b")),
        "budget_points": Spec("int", 2, 200),
        "bandwidth": Spec("float", 1e3, 1e10),
        "distance": Spec("float", 1.0, 1e5),
        "n_heldout_digits": Spec("int", 2, 540),
        "n_heldout_text": Spec("int", 2, 500),
        "n_heldout_images": Spec("int", 2, 500),
        "workers": Spec("int", -1, 1024),
        "scheduler_address": Spec("str"),
        "device": _DEVICE,
    },
    "09_multi_user": {
        "seed": _SEED,
        "models": Spec(
            "list[str]",
            choices=("digits_cnn", "minilm", "mpnet_base", "efficientnet_lite0", "efficientnet_lite1",
                     "efficientnet_lite2"),
        ),  # fmt: skip
        "users": Spec("list[int]", 1, 1000),
        "populations": Spec("int", 1, 100),
        "weighting": Spec("str", choices=("parameters", "users", "normalised")),
        "check_users": Spec("int", 1, 8),
        "check_populations": Spec("int", 0, 100),
    },
    "07_figures": {
        "skip_missing": Spec("bool"),
    },
}


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
    from coinfer.devices import check_device  # imports torch: only when a notebook with a device is checked

    check_device(params["device"])


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
        _ranges("latency_factor_range", "energy_factor_range", "bandwidth_range", "distance_range"),
        _power_of_two("sensitivity_base_samples"),
    ),
    **dict.fromkeys(
        (
            "03_weight_distributions",
            "04_pruning_distortion",
            "05_system_profiles",
            "08_deployed_designs",
            "09_model_size",
        ),
        _device_available,
    ),
}


def validate(notebook: str, params: Mapping[str, Any], *, partial: bool = True) -> dict[str, Any]:
    """Validate ``params`` for ``notebook`` and return the normalised values.

    With ``partial`` (profile overrides) missing names keep the notebook's
    defaults; without it (a notebook checking its own namespace) every schema
    name must be present.
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

    Returns the validated parameters, e.g. for stating them in figure captions.
    """
    params = {name: namespace[name] for name in SCHEMAS[notebook] if name in namespace}
    return validate(notebook, params, partial=False)


def record(notebook: str, params: Mapping[str, Any]) -> Path:
    """Write ``notebook``'s validated parameters to ``data/parameters_<notebook>.json``.

    Called by each notebook right after :func:`check_namespace`, so that
    ``07_figures`` can state them in the captions of figures it redraws from
    ``data/`` alone (:mod:`coinfer.figures`).
    """
    from coinfer.paths import write_json

    return write_json(validate(notebook, params, partial=False), f"parameters_{notebook}.json")


def load_profile(path: Path) -> dict[str, dict[str, Any]]:
    """Read and validate a profile file: ``{notebook: {parameter: value}}``."""
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
