"""The co-inference system model and the ``Problem`` instance (model.md sections 2, 7, 8).

A :class:`Problem` is one split of one model with its radio and compute
parameters and budgets, in SI units, with exactly the field names of model.md section 8.
It is validated on construction: every bad field raises
:class:`~coinfer.base.validation.ParameterError` with a one-line message naming the
field, the value and what is allowed. :func:`evaluate` computes latency,
energy and the distortion objective of a :class:`Decision` and lists every
violated constraint, in the original (non-convex) variables of model.md section 2.

Consistency decisions (documented in ``docs/bad_inputs.md``):

- ``params_device + params_server`` must be positive (the objective is a
  parameter-weighted mean).
- A side with parameters but zero FLOPs is accepted: pruning it saves
  nothing, so the optimum keeps it dense (or in the flat region of
  ``rd_bound``). A side with FLOPs but zero parameters is accepted too:
  pruning it is free in the objective.
- ``scale_*`` must be positive even when that side has no parameters
  (:func:`problems_for_splits` fills 1.0 there, where it has no effect).
- The physical terms (model.md section 2.7: frequency floors, static power,
  memory energy and bandwidth, access latency, circuit power) default to the
  sourced constants of :mod:`coinfer.model.hardware`; :data:`PAPER_MODEL` holds
  their zero values (infinite memory bandwidth), at which the model is the
  paper's exactly (:func:`paper_model`). ``memory_bandwidth_*`` may be infinite
  (YAML ``.inf``); ``f_*_min`` may not exceed ``f_*_max``.
- ``compute_model`` sets the execution model of both sides, a shorthand for
  ``compute_model_device`` and ``compute_model_server`` (not together with them).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coinfer.base.validation import ParameterError, read_yaml, require_bool, require_choice, require_range, show_value
from coinfer.model import arithmetic, hardware
from coinfer.model.arithmetic import LN2, canonicalise, decision_terms, distortion_per_weight, model_numbers, objective

#: Allowed ``energy_scope`` and ``distortion_model`` values (model.md sections 2, 5).
ENERGY_SCOPES = ("system", "device")
DISTORTION_MODELS = ("rd_bound", "magnitude")
#: Execution models (model.md section 2): how pruning changes the cycles a side runs.
COMPUTE_MODELS = ("ideal", "dense", "sparse")

#: Legal but absurd magnitudes are refused: every positive physical quantity
#: must lie in [TINY, HUGE] so that cubes and products stay finite in doubles.
TINY = 1e-60
HUGE = 1e60


def noise_psd_from_dbm(dbm_per_hz: float) -> float:
    """Noise power spectral density in W/Hz from dBm/Hz (model.md section 7: -174 dBm/Hz).

    Parameters
    ----------
    dbm_per_hz : float
        Noise density [dBm/Hz].

    Returns
    -------
    float
        Noise density [W/Hz].

    References
    ----------
    docs/model.md, section 7.1.
    """
    return 10.0 ** ((dbm_per_hz - 30.0) / 10.0)


def path_loss_db(distance_m: float) -> float:
    """Path loss ``128.1 + 37.6 log10(d / 1 km)`` dB (model.md section 7).

    Parameters
    ----------
    distance_m : float
        Device-server distance [m].

    Returns
    -------
    float
        Path loss [dB].

    References
    ----------
    docs/model.md, section 7.1.
    """
    require_range("distance", distance_m, 0.0, low_open=True)
    return 128.1 + 37.6 * math.log10(distance_m / 1000.0)


def channel_gain(distance_m: float = 200.0, fading: float = 1.0) -> float:
    """Channel power gain ``g = 10^(-PL/10) |h|^2`` (model.md sections 2, 7).

    Parameters
    ----------
    distance_m : float
        Device-server distance [m].
    fading : float
        Fading power draw ``|h|^2`` [1].

    Returns
    -------
    float
        Channel power gain ``g`` [1].

    References
    ----------
    docs/model.md, sections 2 and 7.1.
    """
    require_range("fading", fading, 0.0, low_open=True)
    return 10.0 ** (-path_loss_db(distance_m) / 10.0) * fading


def rayleigh_fading(rng: np.random.Generator, size: Any = None) -> np.ndarray:
    """Rayleigh power fading draws ``|h|^2 ~ Exp(1)`` (model.md section 2).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the draws.
    size : int or tuple of int, optional
        Shape of the draws; one float by default.

    Returns
    -------
    numpy.ndarray
        Fading power draws [1].

    References
    ----------
    docs/model.md, section 2.4.
    """
    return rng.exponential(1.0, size=size)


#: model.md section 7 defaults keyed by Problem field names (workloads and budgets have none).
DEFAULTS: dict[str, Any] = {
    "f_device_max": 2e9,
    "flops_per_cycle_device": 32.0,
    "psi_device": 2e-29,
    "pue_device": 1.0,
    "f_server_max": 10e9,
    "flops_per_cycle_server": 128.0,
    "psi_server": 1e-28,
    "pue_server": 2.0,
    "bandwidth": 5e6,
    "noise_psd": noise_psd_from_dbm(-174.0),
    "channel_gain": channel_gain(200.0),
    "p_max": 0.2,
    "energy_scope": "system",
    "rho_max": 0.99,
    "bits_per_weight": 16,
    "distortion_model": "rd_bound",
    "shared_ratio": False,
    "flops_device_fixed": 0.0,
    "flops_server_fixed": 0.0,
    "compute_model_device": "ideal",
    "compute_model_server": "ideal",
    "sparse_efficiency_device": 1.0,
    "sparse_efficiency_server": 1.0,
    "sparse_overhead_device": 0.0,
    "sparse_overhead_server": 0.0,
}

#: The physical model's fields (model.md section 2.7) at their zero values: no frequency floor, static power,
#: memory energy or memory limit (infinite bandwidth), access latency or circuit power. With these the model is the
#: paper's, exactly (:func:`paper_model`).
PAPER_MODEL: dict[str, float] = {
    "f_device_min": 0.0,
    "f_server_min": 0.0,
    "static_power_device": 0.0,
    "static_power_server": 0.0,
    "memory_energy_device": 0.0,
    "memory_energy_server": 0.0,
    "memory_bandwidth_device": math.inf,
    "memory_bandwidth_server": math.inf,
    "access_latency": 0.0,
    "circuit_power": 0.0,
}
#: The physical fields' defaults: a phone SoC's big CPU cluster, one edge-server CPU socket and a 5G NR uplink
#: (:func:`coinfer.model.hardware.problem_defaults`; sources in model.md sections 7.1, 7.5 and 11).
DEFAULTS.update({name: hardware.problem_defaults()[name] for name in PAPER_MODEL})

#: Fields without a default: the workload of the split and the two budgets (model.md section 8).
REQUIRED_FIELDS = (
    "flops_device",
    "flops_server",
    "params_device",
    "params_server",
    "scale_device",
    "scale_server",
    "feature_bits",
    "latency_budget",
    "energy_budget",
)

# (field, lower bound, lower bound open?) for the numeric fields; upper bound HUGE.
_NONNEGATIVE = (
    "flops_device",
    "flops_server",
    "params_device",
    "params_server",
    "feature_bits",
    "flops_device_fixed",
    "flops_server_fixed",
    "sparse_overhead_device",
    "sparse_overhead_server",
    "f_device_min",
    "f_server_min",
    "static_power_device",
    "static_power_server",
    "memory_energy_device",
    "memory_energy_server",
    "access_latency",
    "circuit_power",
)
#: Positive, or infinite (``.inf`` in a file: no limit, the paper's model).
_POSITIVE_OR_INFINITE = ("memory_bandwidth_device", "memory_bandwidth_server")
_POSITIVE = (
    "scale_device",
    "scale_server",
    "f_device_max",
    "flops_per_cycle_device",
    "psi_device",
    "pue_device",
    "f_server_max",
    "flops_per_cycle_server",
    "psi_server",
    "pue_server",
    "bandwidth",
    "noise_psd",
    "channel_gain",
    "p_max",
    "latency_budget",
    "energy_budget",
)
_CHOICES = {
    "energy_scope": ENERGY_SCOPES,
    "distortion_model": DISTORTION_MODELS,
    "compute_model": COMPUTE_MODELS,
    "compute_model_device": COMPUTE_MODELS,
    "compute_model_server": COMPUTE_MODELS,
}


def _check_magnitude(name: str, value: float, low_open: bool) -> float:
    value = require_range(name, value, 0.0, HUGE, low_open=low_open)
    if value != 0 and value < TINY:
        zero = "" if low_open else "0 or "
        raise ParameterError(f"{name}: got {show_value(value)}; allowed {zero}[{TINY:g}, {HUGE:g}]")
    return float(value)


def _check_positive_or_infinite(name: str, value: Any) -> float:
    """A positive magnitude in [TINY, HUGE], or +inf (no limit)."""
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    try:
        return _check_magnitude(name, value, low_open=True)
    except ParameterError as error:
        raise ParameterError(f"{error.lines[0]} or .inf (no limit)") from None


#: Input conveniences of a problem file, converted on load (model.md section 8.2), with their defaults:
#: ``distance`` (m) and ``fading_gain`` (``|h|^2``) give ``channel_gain``; ``noise_psd_dbm_hz`` gives ``noise_psd``;
#: ``compute_model`` gives ``compute_model_device`` and ``compute_model_server`` (the same on both sides).
INPUT_FIELDS: dict[str, Any] = {
    "distance": 200.0,
    "fading_gain": 1.0,
    "noise_psd_dbm_hz": -174.0,
    "compute_model": "ideal",
}


def accepted_fields() -> tuple[str, ...]:
    """Every name a problem file may hold: the :class:`Problem` fields, then :data:`INPUT_FIELDS`.

    Returns
    -------
    tuple of str
        The names.

    References
    ----------
    docs/model.md, section 8.2.
    """
    return Problem.fields() + tuple(INPUT_FIELDS)


def _unknown_field_message(key: Any, value: Any) -> str:
    """``key: got value; unknown field (did you mean 'x'?), allowed: ...``; the hint only when a name is close."""
    accepted = accepted_fields()
    shown = key if isinstance(key, str) and key.isidentifier() else show_value(key)
    close = difflib.get_close_matches(str(key), accepted, n=1) if isinstance(key, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{shown}: got {show_value(value)}; unknown field{hint}, allowed: {', '.join(accepted)}"


def _attempt(errors: list[str], check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``check(*args, **kwargs)``; a :class:`ParameterError` is appended to ``errors`` (and ``None`` returned)."""
    try:
        return check(*args, **kwargs)
    except ParameterError as error:
        errors.extend(error.lines)
        return None


def _converted_inputs(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The :class:`Problem` fields given in ``data``, with the :data:`INPUT_FIELDS` converted; and the errors.

    ``channel_gain`` with ``distance`` or ``fading_gain``, and ``noise_psd`` with
    ``noise_psd_dbm_hz``, are conflicts. ``fading_gain`` without ``distance``
    applies at the default distance (200 m). A converted value outside the
    allowed magnitudes is reported under the input the user gave.
    """
    names = Problem.fields()
    values = {name: data[name] for name in names if name in data}
    errors: list[str] = []
    conflict = "channel_gain" in data and ("distance" in data or "fading_gain" in data)
    if conflict:
        given = " and ".join(repr(n) for n in ("distance", "fading_gain") if n in data)
        errors.append(
            f"channel_gain: given together with {given}; give channel_gain, or distance (with fading_gain), not both"
        )
    if "distance" in data or "fading_gain" in data:
        distance = _attempt(
            errors, _check_magnitude, "distance", data.get("distance", INPUT_FIELDS["distance"]), low_open=True
        )
        fading = _attempt(
            errors, _check_magnitude, "fading_gain", data.get("fading_gain", INPUT_FIELDS["fading_gain"]), low_open=True
        )
        if distance is not None and fading is not None and not conflict:
            gain = channel_gain(distance, fading)
            if TINY <= gain <= HUGE:
                values["channel_gain"] = gain
            else:
                errors.append(
                    f"distance: got {show_value(distance)} with fading_gain {show_value(fading)}, "
                    f"giving channel_gain {gain:g}; "
                    f"allowed channel_gain in [{TINY:g}, {HUGE:g}]"
                )
    if "noise_psd" in data and "noise_psd_dbm_hz" in data:
        errors.append(
            "noise_psd: given together with 'noise_psd_dbm_hz'; give noise_psd (W/Hz) or noise_psd_dbm_hz, not both"
        )
    if "noise_psd_dbm_hz" in data:
        # [-570, 630] dBm/Hz is [1e-60, 1e60] W/Hz, the magnitudes allowed for noise_psd.
        dbm = _attempt(errors, require_range, "noise_psd_dbm_hz", data["noise_psd_dbm_hz"], -570.0, 630.0)
        if dbm is not None and "noise_psd" not in data:
            values["noise_psd"] = min(max(noise_psd_from_dbm(float(dbm)), TINY), HUGE)
    if "compute_model" in data:
        sides = [name for name in _PER_SIDE_MODELS if name in data]
        if sides:
            given = " and ".join(repr(n) for n in sides)
            errors.append(
                f"compute_model: given together with {given}; give compute_model (both sides) or "
                "compute_model_device and compute_model_server, not both"
            )
        model = _attempt(errors, _check_field, "compute_model", data["compute_model"])
        if model is not None and not sides:
            values.update(dict.fromkeys(_PER_SIDE_MODELS, model))
    return values, errors


#: The per-side execution models that ``compute_model`` sets together.
_PER_SIDE_MODELS = ("compute_model_device", "compute_model_server")
_CROSS_CHECKED_PAIRS = (
    ("params_device", "params_server"),
    ("f_device_min", "f_device_max"),
    ("f_server_min", "f_server_max"),
)  # the fields _checked_fields compares with each other


def _check_field(name: str, value: Any) -> Any:
    """The validated, normalised value of one :class:`Problem` field, else :class:`ParameterError`."""
    if name in _NONNEGATIVE:
        return _check_magnitude(name, value, low_open=False)
    if name in _POSITIVE:
        return _check_magnitude(name, value, low_open=True)
    if name in _POSITIVE_OR_INFINITE:
        return _check_positive_or_infinite(name, value)
    if name == "rho_max":
        return float(require_range("rho_max", value, 0.0, 1.0, high_open=True))
    if name == "bits_per_weight":
        return int(require_range("bits_per_weight", value, 1, 64, integer=True))
    if name in ("sparse_efficiency_device", "sparse_efficiency_server"):
        return float(require_range(name, value, 0.0, 1.0, low_open=True))
    if name in _CHOICES:
        choices = _CHOICES[name]
        if not isinstance(value, str):
            raise ParameterError(
                f"{name}: got {show_value(value)} ({type(value).__name__}); allowed one of "
                + ", ".join(repr(c) for c in choices)
            )
        return require_choice(name, value, choices)
    if name == "shared_ratio":
        return require_bool("shared_ratio", value)
    raise ParameterError(f"{name}: unknown field, allowed: {', '.join(accepted_fields())}")


def _checked_fields(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Each field of ``values`` checked independently, then the cross-field check; ``(normalised, errors)``.

    ``params_device + params_server > 0`` is checked only when both are present and valid.
    """
    checked: dict[str, Any] = {}
    errors: list[str] = []
    for name, value in values.items():
        try:
            checked[name] = _check_field(name, value)
        except ParameterError as error:
            errors.extend(error.lines)
    if "params_device" in checked and "params_server" in checked:
        params_device, params_server = checked["params_device"], checked["params_server"]
        if params_device + params_server <= 0:
            errors.append(
                f"params_device: got {params_device:g} with params_server {params_server:g}; "
                "allowed params_device + params_server > 0"
            )
    for side in ("device", "server"):
        low, high = f"f_{side}_min", f"f_{side}_max"
        if low in checked and high in checked and checked[low] > checked[high]:
            errors.append(f"{low}: got {checked[low]:g} with {high} {checked[high]:g}; allowed {low} <= {high}")
    return checked, errors


@dataclass(frozen=True)
class Problem:
    """One co-inference instance (model.md section 8), SI units; validated on construction."""

    flops_device: float
    flops_server: float
    params_device: float
    params_server: float
    scale_device: float
    scale_server: float
    feature_bits: float
    f_device_max: float
    flops_per_cycle_device: float
    psi_device: float
    pue_device: float
    f_server_max: float
    flops_per_cycle_server: float
    psi_server: float
    pue_server: float
    bandwidth: float
    noise_psd: float
    channel_gain: float
    p_max: float
    latency_budget: float
    energy_budget: float
    energy_scope: str
    rho_max: float
    bits_per_weight: int
    distortion_model: str
    shared_ratio: bool
    flops_device_fixed: float = 0.0
    flops_server_fixed: float = 0.0
    compute_model_device: str = "ideal"
    compute_model_server: str = "ideal"
    sparse_efficiency_device: float = 1.0
    sparse_efficiency_server: float = 1.0
    sparse_overhead_device: float = 0.0
    sparse_overhead_server: float = 0.0
    f_device_min: float = DEFAULTS["f_device_min"]
    f_server_min: float = DEFAULTS["f_server_min"]
    static_power_device: float = DEFAULTS["static_power_device"]
    static_power_server: float = DEFAULTS["static_power_server"]
    memory_energy_device: float = DEFAULTS["memory_energy_device"]
    memory_energy_server: float = DEFAULTS["memory_energy_server"]
    memory_bandwidth_device: float = DEFAULTS["memory_bandwidth_device"]
    memory_bandwidth_server: float = DEFAULTS["memory_bandwidth_server"]
    access_latency: float = DEFAULTS["access_latency"]
    circuit_power: float = DEFAULTS["circuit_power"]

    def __post_init__(self) -> None:
        values, errors = _checked_fields({name: getattr(self, name) for name in self.fields()})
        if errors:
            raise ParameterError.from_lines(errors)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The model.md section 8 field names, in order.

        Returns
        -------
        tuple of str
            The field names.
        """
        return _PROBLEM_FIELDS

    @classmethod
    def from_dict(cls, data: Any) -> Problem:
        """Build from a flat mapping of model.md §8 fields; fields with a model.md §7 default may be omitted.

        The input conveniences of :data:`INPUT_FIELDS` are converted on load:
        ``distance`` (m, with ``fading_gain``) gives ``channel_gain`` and
        ``noise_psd_dbm_hz`` gives ``noise_psd``. Every problem of the mapping
        (unknown fields, with a "did you mean" hint; missing required fields;
        conflicting inputs; each bad value, checked independently) is
        collected, and one :class:`ParameterError` with one line per problem
        is raised. The cross-field check (``params_device + params_server > 0``)
        runs when both fields are valid.

        Parameters
        ----------
        data : mapping
            Field name -> value, in the units of :data:`FIELD_INFO`.

        Returns
        -------
        Problem
            The validated problem.
        """
        if not isinstance(data, Mapping):
            raise ParameterError(
                f"problem: got {show_value(data)} ({type(data).__name__}); expected a mapping of the model.md §8 fields"
            )
        names = cls.fields()
        accepted = accepted_fields()
        errors: list[str] = []
        for key in data:
            if key not in accepted:
                errors.append(_unknown_field_message(key, data[key]))
        for name in REQUIRED_FIELDS:
            if name not in data:
                errors.append(f"{name}: missing; required (no default): {', '.join(REQUIRED_FIELDS)}")
        converted, conversion_errors = _converted_inputs(data)
        errors += conversion_errors
        given = {
            name: converted.get(name, DEFAULTS.get(name)) for name in names if name in converted or name in DEFAULTS
        }
        values, value_errors = _checked_fields(given)
        errors += value_errors
        if errors:
            raise ParameterError.from_lines(errors)
        # Every field is validated and normalised above: build without checking again (__post_init__).
        problem = cls.__new__(cls)
        for name in names:
            object.__setattr__(problem, name, values[name])
        return problem

    @classmethod
    def from_yaml(cls, path: str | Path) -> Problem:
        """Read a flat YAML problem file (model.md section 8); any unreadable or bad file -> ParameterError.

        Parameters
        ----------
        path : str or pathlib.Path
            The problem file.

        Returns
        -------
        Problem
            The validated problem.
        """
        data = read_yaml(path, "file")
        if data is None:
            raise ParameterError(f"file: got {str(path)!r}; it is empty, expected a YAML mapping of the problem fields")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields (round-trips through :meth:`from_dict`).

        Returns
        -------
        dict of str to Any
            Field name -> value, in the units of :data:`FIELD_INFO`.
        """
        return {name: getattr(self, name) for name in self.fields()}

    def replace(self, **changes: Any) -> Problem:
        """A validated copy with some fields changed (``compute_model`` sets both sides' execution models).

        Only the changed fields are checked (with a cross-field check when one of its fields changes): the others
        are valid already. That makes a copy ~20 times cheaper than building a problem, which matters where
        thousands are made (the users' shares of :func:`coinfer.optimise.solve_multiuser`).

        Parameters
        ----------
        **changes
            Field name -> new value, in the units of :data:`FIELD_INFO`.

        Returns
        -------
        Problem
            The validated copy.
        """
        if "compute_model" in changes:
            sides = [name for name in _PER_SIDE_MODELS if name in changes]
            if sides:
                raise ParameterError(
                    f"compute_model: given together with {sides[0]!r}; give compute_model (both sides) or "
                    "compute_model_device and compute_model_server, not both"
                )
            model = _check_field("compute_model", changes.pop("compute_model"))  # named as given
            changes.update(dict.fromkeys(_PER_SIDE_MODELS, model))
        unknown = sorted(set(changes) - set(self.fields()))
        if unknown:
            raise ParameterError(f"{unknown[0]}: unknown field, allowed: {', '.join(self.fields())}")
        check = {name: changes[name] for name in _PROBLEM_FIELDS if name in changes}  # errors in field order
        for pair in _CROSS_CHECKED_PAIRS:
            if pair[0] in changes or pair[1] in changes:
                check.setdefault(pair[0], getattr(self, pair[0]))
                check.setdefault(pair[1], getattr(self, pair[1]))
        values, errors = _checked_fields(check)
        if errors:
            raise ParameterError.from_lines(errors)
        problem = Problem.__new__(Problem)
        problem.__dict__.update({name: getattr(self, name) for name in _PROBLEM_FIELDS})
        problem.__dict__.update(values)
        return problem

    def memory_bits(self, side: str) -> tuple[float, float]:
        """``(m, m0)``: the weight bits read per inference on ``side`` (model.md section 2.7).

        ``M(rho) = m (1 - rho) + m0``: ``q N`` per unit of kept fraction under ``ideal`` and ``sparse``, a fixed
        ``q N`` under ``dense``; none where the side's weights are not used (no prunable FLOPs).

        Parameters
        ----------
        side : str
            ``"device"`` or ``"server"``.

        Returns
        -------
        tuple of float
            ``m`` and ``m0`` [bit].
        """
        i = {"device": 0, "server": 1}[side]
        bits = self.bits_per_weight * getattr(self, f"params_{side}") if getattr(self, f"flops_{side}") > 0 else 0.0
        model = (self.compute_model_device, self.compute_model_server)[i]
        return (0.0, float(bits)) if model == "dense" else (float(bits), 0.0)

    @property
    def compute_model(self) -> str:
        """Both sides' execution model where they share one (``ideal``, ``dense``, ``sparse``), else ``"mixed"``:
        the shorthand of ``compute_model_device`` and ``compute_model_server`` (model.md section 2.3)."""
        same = self.compute_model_device == self.compute_model_server
        return self.compute_model_device if same else "mixed"

    @property
    def is_paper_model(self) -> bool:
        """Whether every physical term is at its zero value (:data:`PAPER_MODEL`): the paper's model."""
        return all(getattr(self, name) == value for name, value in PAPER_MODEL.items())

    # Derived quantities used by the solvers (model.md section 2): each side runs W(rho) = a (1 - rho) + g cycles.
    def cycles(self, side: str) -> tuple[float, float]:
        """``(a, g)``: the cycles pruning scales and the cycles it cannot remove, on ``side``.

        ``ideal``: ``a = F / c``, ``g = G / c``; ``dense`` (zeros are computed):
        ``a = 0``, ``g = (F + G) / c``; ``sparse``: ``a = F / (e c)``,
        ``g = (G + F0) / c``, the overhead ``F0`` paid only where ``F > 0``
        (:func:`coinfer.model.arithmetic.derive_model`).

        Parameters
        ----------
        side : str
            ``"device"`` or ``"server"``.

        Returns
        -------
        tuple of float
            ``a`` and ``g`` [cycle].
        """
        i = {"device": 0, "server": 1}[side]
        m = self.numbers
        return float(m[arithmetic.A_D + i]), float(m[arithmetic.G_D + i])

    # Values derived from the fields alone, computed once per problem: every evaluation and every answer asks
    # for them. A frozen dataclass may cache in its instance __dict__: equality, hashing, repr and replace see
    # only the fields. (Not functools.cached_property, whose first access takes a lock in Python 3.11.)
    @property
    def numbers(self) -> np.ndarray:
        """The model's numbers of this problem (:func:`coinfer.model.arithmetic.model_numbers`: cycles, energy per
        cycle, objective weights, noise power, flat point, ...), read-only, computed once."""
        cached = self.__dict__.get("_numbers_cache")
        if cached is None:
            cached = model_numbers(self)
            cached.flags.writeable = False
            object.__setattr__(self, "_numbers_cache", cached)
        return cached

    @property
    def _canonical(self) -> dict[str, float]:
        """:func:`canonical_values` (read-only: :func:`canonical_values` hands out copies)."""
        cached = self.__dict__.get("_canonical_cache")
        if cached is None:
            cached = _canonical_values(self)
            object.__setattr__(self, "_canonical_cache", cached)
        return cached

    @property
    def noise_power(self) -> float:
        """``N0 B / g``: the transmit power that gives SNR 1 (W)."""
        return self.noise_psd * self.bandwidth / self.channel_gain


#: :meth:`Problem.fields`, computed once (the loaders call it for every problem).
_PROBLEM_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Problem))


def paper_model(problem: Problem) -> Problem:
    """The paper's model of ``problem``: every physical term at its zero value (model.md section 2.7).

    The physical terms and their zero values are :data:`PAPER_MODEL`.

    No frequency floor, static power, memory energy or memory limit, access latency or circuit power: the
    model of model.md sections 2.3-2.6 as the paper states it, and the model of every result committed before the
    physical model. Fields other than the physical ones are kept.

    Parameters
    ----------
    problem : Problem
        Any problem (physical or not).

    Returns
    -------
    Problem
        The validated copy; ``problem`` itself where it already is the paper's model.

    References
    ----------
    docs/model.md, section 2.7.

    Examples
    --------
    >>> from coinfer.model.system import make_problem, paper_model
    >>> physical = make_problem(flops_device=2e8, flops_server=8e8, params_device=1e5, params_server=4e5,
    ...     scale_device=0.02, scale_server=0.03, feature_bits=4096, latency_budget=0.01, energy_budget=0.1)
    >>> physical.access_latency, paper_model(physical).access_latency, paper_model(physical).is_paper_model
    (0.004, 0.0, True)
    """
    return problem if problem.is_paper_model else problem.replace(**PAPER_MODEL)


def make_problem(
    *,
    flops_device: float,
    flops_server: float,
    params_device: float,
    params_server: float,
    scale_device: float,
    scale_server: float,
    feature_bits: float,
    latency_budget: float,
    energy_budget: float,
    distance: float | None = None,
    fading: float | None = None,
    **overrides: Any,
) -> Problem:
    """The joint-optimisation problem of one split of one model, with the model.md section 7 defaults filled in.

    The workload and the budgets are required; every other field of a problem
    file (model.md section 8.2, :data:`FIELD_INFO`) takes its default unless it
    is given as a keyword. The channel gain comes from ``distance`` (default
    200 m) and ``fading`` (``fading_gain`` of a problem file, default 1), or is
    given directly as ``channel_gain``, not both. Every bad field is reported
    in one :class:`~coinfer.base.validation.ParameterError`, one line each (as
    :meth:`Problem.from_dict`).

    Parameters
    ----------
    flops_device, flops_server : float
        Prunable (weight) FLOPs of one inference on the device and on the server [FLOP].
    params_device, params_server : float
        Prunable parameters on each side [count]; their sum is positive.
    scale_device, scale_server : float
        Laplace scale ``b`` of each side's weights [weight units]; positive.
    feature_bits : float
        Bits sent from the device to the server at the split [bit]; 0 when nothing is sent.
    latency_budget : float
        Latency budget of one inference [s].
    energy_budget : float
        Energy budget of one inference [J], in the scope of ``energy_scope`` (default ``"system"``).
    distance : float, optional
        Device-server distance [m] (default 200); the path loss of model.md section 7.1 gives ``channel_gain``.
    fading : float, optional
        Rayleigh fading power draw ``|h|^2`` [1] multiplying the path gain (default 1).
    **overrides
        Any other field in the unit of :data:`FIELD_INFO`: ``bandwidth`` [Hz], ``p_max`` [W],
        ``f_device_max`` [Hz], ``psi_device`` [J s^2/cycle], ``rho_max`` [1], ``bits_per_weight`` [bit], ...

    Returns
    -------
    Problem
        The validated, immutable problem (:func:`coinfer.solve` solves it).

    References
    ----------
    docs/model.md, sections 2, 7 and 8.

    Examples
    --------
    >>> from coinfer.model.system import make_problem, paper_model, reference_budgets
    >>> problem = make_problem(
    ...     flops_device=2e8, flops_server=8e8, params_device=1e5, params_server=4e5, scale_device=0.02,
    ...     scale_server=0.03, feature_bits=4096, latency_budget=0.004, energy_budget=0.01, distance=150.0)
    >>> problem.p_max, problem.bandwidth, problem.energy_scope
    (0.2, 5000000.0, 'system')
    >>> [round(x, 5) for x in reference_budgets([problem])]  # the fastest unpruned inference [s] and [J]
    [0.00782, 0.12819]
    >>> [round(x, 5) for x in reference_budgets([paper_model(problem)])]  # the same in the paper's model
    [0.00382, 0.12551]
    >>> make_problem(flops_device=-1, flops_server=8e8, params_device=1e5, params_server=4e5, scale_device=0.02,
    ...     scale_server=0.03, feature_bits=4096, latency_budget=0.004, energy_budget=0.01)
    Traceback (most recent call last):
    coinfer.base.validation.ParameterError: flops_device: got -1.0; allowed [0, 1e+60]
    """
    data: dict[str, Any] = dict(overrides)
    for name, value in (("distance", distance), ("fading_gain", fading)):
        if value is not None:
            data[name] = value
    data.update(
        flops_device=flops_device,
        flops_server=flops_server,
        params_device=params_device,
        params_server=params_server,
        scale_device=scale_device,
        scale_server=scale_server,
        feature_bits=feature_bits,
        latency_budget=latency_budget,
        energy_budget=energy_budget,
    )
    return Problem.from_dict(data)


#: Unit and meaning of every name a problem file may hold, in the order of the README table (model.md 8.2).
FIELD_INFO: dict[str, tuple[str, str]] = {
    "flops_device": ("FLOP", "prunable (weight) FLOPs per inference on the device; 0: nothing prunable runs there"),
    "flops_server": ("FLOP", "prunable (weight) FLOPs per inference on the server"),
    "flops_device_fixed": ("FLOP", "FLOPs on the device that pruning does not remove (attention products)"),
    "flops_server_fixed": ("FLOP", "FLOPs on the server that pruning does not remove"),
    "params_device": ("count", "prunable parameters on the device (params_device + params_server > 0)"),
    "params_server": ("count", "prunable parameters on the server"),
    "scale_device": ("weight units", "Laplace scale b of the device's weights; > 0 even without device parameters"),
    "scale_server": ("weight units", "Laplace scale b of the server's weights"),
    "feature_bits": ("bit", "bits sent from device to server at the split; 0: nothing is sent"),
    "f_device_max": ("Hz", "largest device CPU frequency"),
    "flops_per_cycle_device": ("FLOP/cycle", "device FLOPs per cycle"),
    "psi_device": ("J s^2/cycle", "device effective switched capacitance (E = pue psi W f^2)"),
    "pue_device": ("1", "device energy overhead factor"),
    "f_server_max": ("Hz", "largest server CPU frequency"),
    "flops_per_cycle_server": ("FLOP/cycle", "server FLOPs per cycle"),
    "psi_server": ("J s^2/cycle", "server effective switched capacitance"),
    "pue_server": ("1", "server energy overhead factor (power usage effectiveness)"),
    "compute_model_device": ("", "how pruning changes the device's cycles: ideal, dense (zeros computed) or sparse"),
    "compute_model_server": ("", "how pruning changes the server's cycles: ideal, dense (zeros computed) or sparse"),
    "compute_model": ("", "both sides' execution model at once (instead of compute_model_device and _server)"),
    "sparse_efficiency_device": ("1", "device sparse-kernel efficiency in (0, 1] (compute_model sparse only)"),
    "sparse_efficiency_server": ("1", "server sparse-kernel efficiency in (0, 1] (compute_model sparse only)"),
    "sparse_overhead_device": ("FLOP", "device sparse-kernel overhead per inference (compute_model sparse only)"),
    "sparse_overhead_server": ("FLOP", "server sparse-kernel overhead per inference (compute_model sparse only)"),
    "bandwidth": ("Hz", "uplink bandwidth"),
    "noise_psd": ("W/Hz", "noise power spectral density (default = -174 dBm/Hz); or give noise_psd_dbm_hz"),
    "noise_psd_dbm_hz": ("dBm/Hz", "the noise PSD in dBm/Hz instead of noise_psd (not both)"),
    "channel_gain": ("1", "linear channel power gain incl. path loss and fading (default: 200 m, no fading)"),
    "distance": ("m", "device-server distance; gives channel_gain by 128.1 + 37.6 log10(d / 1 km) dB path loss"),
    "fading_gain": ("1", "Rayleigh fading power draw (abs(h)^2) multiplying the path gain; not with channel_gain"),
    "p_max": ("W", "largest transmit power"),
    "latency_budget": ("s", "latency budget of one inference"),
    "energy_budget": ("J", "energy budget of one inference, in the scope of energy_scope"),
    "energy_scope": ("", "what energy_budget covers: system (device, uplink, server) or device (no server)"),
    "rho_max": ("1", "largest pruning ratio, in [0, 1)"),
    "bits_per_weight": ("bit", "bits per kept weight in the objective, an integer in [1, 64]"),
    "distortion_model": ("", "distortion of the objective: rd_bound (lower bound) or magnitude (exact)"),
    "shared_ratio": ("", "true: force rho_device = rho_server"),
    "f_device_min": ("Hz", "lowest device CPU frequency (DVFS floor), <= f_device_max"),
    "f_server_min": ("Hz", "lowest server CPU frequency (DVFS floor), <= f_server_max"),
    "static_power_device": ("W", "device power drawn while it computes, beyond psi f^3 (leakage, uncore, DRAM)"),
    "static_power_server": ("W", "server power drawn while it computes, beyond psi f^3 (times pue_server)"),
    "memory_energy_device": ("J/bit", "device energy per weight bit read from DRAM"),
    "memory_energy_server": ("J/bit", "server energy per weight bit read from DRAM (times pue_server)"),
    "memory_bandwidth_device": ("bit/s", "device DRAM read bandwidth; .inf: no limit"),
    "memory_bandwidth_server": ("bit/s", "server DRAM read bandwidth; .inf: no limit"),
    "access_latency": ("s", "uplink scheduling and processing delay added to every upload (feature_bits > 0)"),
    "circuit_power": ("W", "transmitter circuit power drawn while the feature is on air, beyond the radiated power"),
}


def format_default(value: Any) -> str:
    """A default as written in a problem file: ``2e9``, ``0.2``, ``ideal``, ``false``.

    Parameters
    ----------
    value : Any
        A default of :data:`FIELD_INFO`.

    Returns
    -------
    str
        The value as a problem file writes it.

    References
    ----------
    docs/model.md, section 8.2.
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value
    value = float(value)
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        mantissa, _, exponent = np.format_float_scientific(value, trim="-").partition("e")
        return f"{mantissa}e{int(exponent)}"
    return np.format_float_positional(value, trim="-")


def field_table() -> list[tuple[str, str, str, str]]:
    """``(name, unit, default or "required", meaning)`` for every name a problem file may hold (README table).

    Returns
    -------
    list of tuple of str
        One ``(name, unit, default, meaning)`` per field.

    References
    ----------
    docs/model.md, section 8.2.
    """
    rows = []
    for name, (unit, meaning) in FIELD_INFO.items():
        if name in REQUIRED_FIELDS:
            default = "required"
        else:
            default = format_default(DEFAULTS[name] if name in DEFAULTS else INPUT_FIELDS[name])
        rows.append((name, unit, default, meaning))
    return rows


def field_table_markdown() -> str:
    """:func:`field_table` as the Markdown table of the README (section "Writing a problem file").

    Returns
    -------
    str
        The Markdown table.

    References
    ----------
    docs/model.md, section 8.2.
    """
    lines = ["| field | unit | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {unit} | {default} | {meaning} |" for name, unit, default, meaning in field_table()]
    return "\n".join(lines)


_PROFILE_COLUMNS = (
    "flops_device",
    "flops_server",
    "params_device",
    "params_server",
    "scale_device",
    "scale_server",
    "feature_bits",
)
#: Profile columns that older profiles may lack (their default applies).
_OPTIONAL_PROFILE_COLUMNS = ("flops_device_fixed", "flops_server_fixed")


def problem_from_profile(
    row: Mapping[str, Any] | pd.Series, *, latency_budget: float, energy_budget: float, **fields: Any
) -> Problem:
    """The problem of one split from one row of a profile table, with the model.md section 7 defaults.

    The table is ``profiles.csv``, or :func:`coinfer.nets.profiles.profile_frame` of your own model.

    The row gives the workload (model.md section 2: FLOPs, prunable parameters
    and Laplace scale per side, and the bits sent at the split); the budgets and
    any other field of a problem file come from the caller. A side without
    parameters has no weight scale; it gets ``scale = 1``, which cannot change
    anything because its weight in the objective is zero.

    Parameters
    ----------
    row : mapping or pandas.Series
        One profile row with the columns ``flops_device``, ``flops_server`` [FLOP], ``params_device``,
        ``params_server`` [count], ``scale_device``, ``scale_server`` [weight units] and ``feature_bits``
        [bit]; ``flops_device_fixed``, ``flops_server_fixed`` [FLOP] when present.
    latency_budget : float
        Latency budget of one inference [s].
    energy_budget : float
        Energy budget of one inference [J], in the scope of ``energy_scope``.
    **fields
        Any other field of a problem file (:func:`make_problem`), in the unit of :data:`FIELD_INFO`.

    Returns
    -------
    Problem
        The validated problem; ``Problem.to_dict()`` is its problem file.

    References
    ----------
    docs/model.md, sections 2, 6 and 8.

    Examples
    --------
    >>> row = {"flops_device": 2e6, "flops_server": 8e6, "params_device": 1e6, "params_server": 4e6,
    ...        "scale_device": 0.02, "scale_server": 0.02, "feature_bits": 8192}
    >>> problem = problem_from_profile(row, latency_budget=0.015, energy_budget=0.01)
    >>> problem.feature_bits, problem.latency_budget
    (8192.0, 0.015)
    """
    missing = [c for c in _PROFILE_COLUMNS if c not in row]
    if missing:
        raise ParameterError(f"row: column {missing[0]!r} missing; required: {', '.join(_PROFILE_COLUMNS)}")
    values = {c: float(row[c]) for c in (*_PROFILE_COLUMNS, *_OPTIONAL_PROFILE_COLUMNS) if c in row}
    for side in ("device", "server"):
        if values[f"params_{side}"] == 0 or not math.isfinite(values[f"scale_{side}"]):
            values[f"scale_{side}"] = 1.0
    return make_problem(**values, latency_budget=latency_budget, energy_budget=energy_budget, **fields)


def problems_for_splits(profile: pd.DataFrame, **make_problem_kwargs: Any) -> list[Problem]:
    """One :class:`Problem` per split of one model's rows of ``profiles.csv``, in split order.

    :func:`problem_from_profile` of each row.

    Parameters
    ----------
    profile : pandas.DataFrame
        The rows of one model (:func:`problem_from_profile`'s columns).
    **make_problem_kwargs
        Budgets (``latency_budget`` [s], ``energy_budget`` [J]) and other fields, as :func:`problem_from_profile`.

    Returns
    -------
    list of Problem
        One problem per split.

    References
    ----------
    docs/model.md, sections 2 and 8.
    """
    if "model" in profile.columns and profile["model"].nunique() > 1:
        raise ParameterError(f"profile: got models {sorted(profile['model'].unique())}; expected the rows of one model")
    missing = [c for c in _PROFILE_COLUMNS if c not in profile.columns]
    if missing:
        raise ParameterError(f"profile: column {missing[0]!r} missing; required: {', '.join(_PROFILE_COLUMNS)}")
    rows = profile.sort_values("split") if "split" in profile.columns else profile
    return [problem_from_profile(row, **make_problem_kwargs) for _, row in rows.iterrows()]


# --- Distortion per weight and the objective (model.md sections 4, 5.1): coinfer.model.arithmetic's, from Python ---


def unit_distortion(rho: float, model: str, q: int) -> float:
    """``D_model(rho; b) / b`` for one ratio (scalar form of :mod:`coinfer.model.rate_distortion`).

    ``rd_bound``: ``2^-min(h2(rho) + (1 - rho) q, q)``; ``magnitude``:
    ``rho + (1 - rho) ln(1 - rho)`` (:func:`coinfer.model.arithmetic.distortion_per_weight`).

    Parameters
    ----------
    rho : float
        Pruning ratio [dimensionless].
    model : str
        ``"rd_bound"`` or ``"magnitude"``.
    q : int
        Bits per kept weight.

    Returns
    -------
    float
        Distortion per unit of the Laplace scale ``b`` [dimensionless].

    References
    ----------
    docs/model.md, section 4.
    """
    return distortion_per_weight(float(rho), model == "magnitude", float(q))


def objective_value(problem: Problem, rho_device: float, rho_server: float) -> float:
    """The parameter-weighted mean distortion ``D(rho_d, rho_s)`` (model.md section 5.1).

    :func:`coinfer.model.arithmetic.objective` of the problem's numbers.

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).
    rho_device, rho_server : float
        Pruning ratios [1].

    Returns
    -------
    float
        The objective [weight units].

    References
    ----------
    docs/model.md, section 5.1.
    """
    return objective(problem.numbers, float(rho_device), float(rho_server))


def flat_ratios(problem: Problem) -> tuple[float, float]:
    """The flat point ``(rho_device, rho_server)``: the least work at the least distortion (model.md 5.3, 5.5).

    Every ratio at the end of the flat region of ``D_LB`` (0 for ``magnitude``), capped at
    ``rho_max``; a side with FLOPs but no parameters at ``rho_max`` (pruning it is free).

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).

    Returns
    -------
    tuple of float
        ``rho_device`` and ``rho_server`` [1].

    References
    ----------
    docs/model.md, sections 5.3 and 5.5.
    """
    m = problem.numbers
    return float(m[arithmetic.FLAT_D]), float(m[arithmetic.FLAT_S])


def floor_ratios(problem: Problem) -> tuple[float, float]:
    """The ratios of the latency and energy floors (model.md section 5.7).

    ``rho_max`` on every side with work
    to prune, the flat point elsewhere.

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).

    Returns
    -------
    tuple of float
        ``rho_device`` and ``rho_server`` [1].

    References
    ----------
    docs/model.md, section 5.7.
    """
    m = problem.numbers
    return float(m[arithmetic.TOP_D]), float(m[arithmetic.TOP_S])


# --- Decisions and their evaluation (model.md section 2) ---


@dataclass(frozen=True)
class Decision:
    """Pruning ratios, transmit power (W) and CPU frequencies (Hz) of one split."""

    rho_device: float
    rho_server: float
    power: float
    f_device: float
    f_server: float


@dataclass(frozen=True)
class Evaluation:
    """Latency (s), energy (J, per ``energy_scope``), objective and the per-part terms of a decision.

    The parts (model.md section 8.3): the device's time and energy (compute, memory traffic, static power), the
    upload's (air time plus access latency; radiated plus circuit energy) and the server's (its energy whatever the
    energy scope; ``energy`` counts it only in the ``system`` scope). ``memory_bound_*``: the side waits for its
    weights (memory time ``M / BW`` above compute time ``W / f``).
    """

    latency: float
    energy: float
    objective: float
    t_device: float
    t_tx: float
    t_server: float
    energy_device: float
    energy_tx: float
    energy_server: float
    violations: list[str]
    memory_bound_device: bool = False
    memory_bound_server: bool = False


#: Decision variables in answer order (model.md section 8.3).
DECISION_VARIABLES = ("rho_device", "rho_server", "power", "f_device", "f_server")

#: One sentence on how answers are made unique (``tie_rule`` of the CLI answer; model.md section 8.4).
TIE_RULE = (
    "Variables with no effect are set to canonical values (rho = 0 on a side with no prunable weights and no "
    "prunable work, f = f_max on a side that runs nothing, power = 0 W when nothing is sent); where the optimum is "
    "otherwise not unique (e.g. a slack energy budget leaves power free), the fast solver returns the point its KKT "
    "path reaches; compare answers through objective, latency and energy."
)


def canonical_values(problem: Problem) -> dict[str, float]:
    """The variables of ``problem`` that have no effect, each with its canonical value (model.md section 8.4).

    A side with no prunable weights and no prunable work (and no shared ratio)
    has ``rho = 0``; a side that runs nothing has ``f = f_max``; nothing sent
    has ``power = 0``. Keys are in :data:`DECISION_VARIABLES` order.

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).

    Returns
    -------
    dict of str to float
        Variable -> canonical value (ratios [1], power [W], clocks [Hz]).

    References
    ----------
    docs/model.md, section 8.4.
    """
    return dict(problem._canonical)


def _canonical_values(problem: Problem) -> dict[str, float]:
    """:func:`canonical_values`, computed once per problem (``Problem._canonical``): the rule of
    :func:`coinfer.model.arithmetic.canonicalise` (the one the solvers apply), applied to a decision of NaNs; the
    variables it sets are those without effect."""
    d = np.full(len(DECISION_VARIABLES), math.nan)
    canonicalise(problem.numbers, d)
    return {name: value for name, value in zip(DECISION_VARIABLES, d.tolist(), strict=True) if not math.isnan(value)}


def free_variables(problem: Problem) -> list[str]:
    """Names of the decision variables that have no effect in ``problem`` (set by :func:`canonical_decision`).

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).

    Returns
    -------
    list of str
        The names, in :data:`DECISION_VARIABLES` order.

    References
    ----------
    docs/model.md, section 8.4.
    """
    return list(canonical_values(problem))


def canonical_decision(problem: Problem, decision: Decision) -> Decision:
    """The same decision with every variable that has no effect set to its canonical value (model.md section 8.4).

    A side with no prunable weights and no prunable work reports ``rho = 0``;
    a side that runs nothing reports ``f = f_max``; nothing sent reports
    ``power = 0``. Every scheme's answer passes through here, so answers that
    differ only in such variables are reported identically.

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).
    decision : Decision
        A decision (ratios [1], power [W], clocks [Hz]).

    Returns
    -------
    Decision
        The decision with its free variables canonical.

    References
    ----------
    docs/model.md, section 8.4.
    """
    canonical = problem._canonical
    if not canonical:
        return decision
    # Positional construction: dataclasses.replace costs more than the rest of a fast solve's answer.
    return Decision(*(canonical.get(name, getattr(decision, name)) for name in DECISION_VARIABLES))


def rate(problem: Problem, power: float) -> float:
    """Uplink rate ``B log2(1 + p g / (N0 B))`` in bit/s (model.md section 2).

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).
    power : float
        Transmit power [W].

    Returns
    -------
    float
        Uplink rate [bit/s].

    References
    ----------
    docs/model.md, section 2.4.
    """
    return problem.bandwidth * math.log1p(power / problem.noise_power) / LN2


def evaluate(problem: Problem, decision: Decision, *, rtol: float = 1e-9) -> Evaluation:
    """Latency, energy and distortion of ``decision`` in the original variables (model.md sections 2, 5).

    ``violations`` lists every constraint that is broken by more than
    ``rtol`` (relative to its bound), one readable string each.

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).
    decision : Decision
        The decision (ratios [1], power [W], clocks [Hz]).
    rtol : float
        Relative tolerance of the constraint checks [1].

    Returns
    -------
    Evaluation
        Latency [s], energy [J], distortion [weight units] and the violated constraints.

    References
    ----------
    docs/model.md, sections 2 and 5.
    """
    p = problem
    rho_d, rho_s, power, f_d, f_s = (
        float(decision.rho_device),
        float(decision.rho_server),
        float(decision.power),
        float(decision.f_device),
        float(decision.f_server),
    )
    violations: list[str] = []
    rho_top = p.rho_max + rtol * max(p.rho_max, 1.0)
    if not (-rtol <= rho_d <= rho_top and -rtol <= rho_s <= rho_top):  # the usual case checks once
        for name, rho in (("rho_device", rho_d), ("rho_server", rho_s)):
            if not (-rtol <= rho <= rho_top):
                violations.append(f"{name}={rho:.10g} outside [0, rho_max={p.rho_max:.10g}]")
    if p.shared_ratio and abs(rho_d - rho_s) > rtol:
        violations.append(f"shared_ratio: rho_device={rho_d:.9g} != rho_server={rho_s:.9g}")
    if not (0 <= power <= p.p_max * (1 + rtol)):
        violations.append(f"power={power:.10g} W outside [0, p_max={p.p_max:.10g}]")
    if not (0 < f_d <= p.f_device_max * (1 + rtol) and 0 < f_s <= p.f_server_max * (1 + rtol)):
        for name, f, fmax in (("f_device", f_d, p.f_device_max), ("f_server", f_s, p.f_server_max)):
            if not (0 < f <= fmax * (1 + rtol)):
                violations.append(f"{name}={f:.10g} Hz outside (0, {fmax:.10g}]")
    if not (f_d >= p.f_device_min * (1 - rtol) and f_s >= p.f_server_min * (1 - rtol)):
        for name, f, fmin in (("f_device", f_d, p.f_device_min), ("f_server", f_s, p.f_server_min)):
            if not f >= fmin * (1 - rtol):
                violations.append(f"{name}={f:.10g} Hz below {name}_min={fmin:.10g} Hz")
    # coinfer.model.arithmetic's terms, the solvers' own (float(): plain Python floats also with COINFER_JIT=0)
    latency, energy, objective, t_d, t_tx, t_s, e_d, e_tx, e_s, bound_d, bound_s = (
        float(term) for term in decision_terms(p.numbers, rho_d, rho_s, power, f_d, f_s)
    )
    if not latency <= p.latency_budget * (1 + rtol):
        violations.append(f"latency {latency:.10g} s exceeds latency_budget {p.latency_budget:.10g} s")
    if not energy <= p.energy_budget * (1 + rtol):
        violations.append(f"energy {energy:.10g} J exceeds energy_budget {p.energy_budget:.10g} J ({p.energy_scope})")
    return Evaluation(
        latency, energy, objective, t_d, t_tx, t_s, e_d, e_tx, e_s, violations, bool(bound_d), bool(bound_s)
    )


def full_resources(problem: Problem) -> Decision:
    """The unpruned decision at full resources (model.md section 7.3).

    ``rho = 0`` on both sides, ``p = P_max``, ``f = f_max``: what each split costs before any optimisation.

    Parameters
    ----------
    problem : Problem
        The problem (SI units, model.md section 8).

    Returns
    -------
    Decision
        ``rho = 0`` [1], ``p = P_max`` [W], ``f = f_max`` [Hz].

    References
    ----------
    docs/model.md, section 7.3.
    """
    p = problem
    return Decision(rho_device=0.0, rho_server=0.0, power=p.p_max, f_device=p.f_device_max, f_server=p.f_server_max)


def reference_budgets(problems: Sequence[Problem]) -> tuple[float, float]:
    """``(T_ref, E_ref)`` of one model's splits: the scale its budgets are stated in (model.md section 7.3).

    ``T_ref`` is the least latency of any split without pruning at full resources (the fastest unpruned
    inference, :func:`full_resources`); ``E_ref`` the least energy of any split so (per ``energy_scope``; with the
    model.md section 7 defaults the fully on-device split, whose energy per FLOP is the lowest at maximum
    frequency). Budgets below ``T_ref`` can only be met by pruning; the energy of the fastest split is far above
    ``E_ref``. The budgets of ``problems`` play no part. The one computation of the references: notebook 06's
    sweeps and its sensitivity study (at every sample of the constants) both call it.

    Parameters
    ----------
    problems : sequence of Problem
        One problem per split of one model (:func:`problems_for_splits`), with any budgets.

    Returns
    -------
    tuple of float
        ``T_ref`` [s] and ``E_ref`` [J].

    References
    ----------
    docs/model.md, section 7.3.
    """
    if not problems:
        raise ParameterError("problems: got none; expected one per split of a model")
    costs = [evaluate(p, full_resources(p)) for p in problems]
    return min(c.latency for c in costs), min(c.energy for c in costs)


def random_problem(rng: np.random.Generator, physical: bool = False) -> Problem:
    """A realistic random instance around the model.md section 7 defaults (tests and ``benchmarks/bench_solver.py``).

    Workloads are log-uniform over four decades with occasional empty sides
    (``flops = 0``, ``feature_bits = 0``); constants vary by a factor of two
    around model.md section 7; the channel is drawn at 20-500 m with Rayleigh fading; the
    budgets are drawn relative to the dense workload at maximum resources,
    so that some instances are easy, some bind one or both budgets and some
    are infeasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of every draw.
    physical : bool
        False (default): the paper's model (:data:`PAPER_MODEL`), drawn exactly as before the physical model
        existed, so that seeded instances are the same. True: each physical term is drawn log-uniform over its
        plausible range (:data:`coinfer.model.hardware.PLAUSIBLE_RANGES`), or left out (zero; infinite memory
        bandwidth) with probability 0.15; each side draws its own execution model; the budgets are relative to
        the physical model's dense and most pruned costs at maximum resources.

    Returns
    -------
    Problem

    References
    ----------
    docs/model.md, section 7.
    """

    def logu(lo: float, hi: float) -> float:
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    def vary(name: str) -> float:
        return DEFAULTS[name] * logu(0.5, 2.0)

    flops = [0.0 if rng.random() < 0.15 else logu(1e7, 1e11) for _ in range(2)]
    params = [0.0 if (f == 0 and rng.random() < 0.8) else logu(1e4, 1e8) for f in flops]
    if sum(params) == 0:
        params[int(rng.integers(2))] = logu(1e4, 1e8)
    bits = 0.0 if rng.random() < 0.15 else logu(1e3, 1e8)
    fields: dict[str, Any] = {
        name: vary(name)
        for name in (
            "f_device_max",
            "flops_per_cycle_device",
            "psi_device",
            "pue_device",
            "f_server_max",
            "flops_per_cycle_server",
            "psi_server",
            "pue_server",
            "bandwidth",
            "noise_psd",
        )
    }
    fields.update(
        flops_device=flops[0],
        flops_server=flops[1],
        params_device=params[0],
        params_server=params[1],
        scale_device=logu(1e-3, 0.1),
        scale_server=logu(1e-3, 0.1),
        feature_bits=bits,
        channel_gain=channel_gain(rng.uniform(20.0, 500.0), max(float(rayleigh_fading(rng)), 1e-3)),
        p_max=logu(0.05, 1.0),
        energy_scope="device" if rng.random() < 0.3 else "system",
        rho_max=0.99 if rng.random() < 0.5 else float(rng.uniform(0.3, 0.999)),
        bits_per_weight=int(rng.choice([4, 8, 16, 32])),
        distortion_model="magnitude" if rng.random() < 0.5 else "rd_bound",
        shared_ratio=bool(rng.random() < 0.25),
    )
    # Fixed FLOPs and execution models, drawn before the budgets so that the budgets fit the workload.
    if rng.random() < 0.3:
        fields["flops_device_fixed"] = flops[0] * float(rng.uniform(0.0, 0.25))
        fields["flops_server_fixed"] = flops[1] * float(rng.uniform(0.0, 0.25))
    draw = rng.random()
    if draw < 0.2:
        fields["compute_model"] = "dense"
    elif draw < 0.4:
        fields["compute_model"] = "sparse"
        for side, f in (("device", flops[0]), ("server", flops[1])):
            fields[f"sparse_efficiency_{side}"] = float(rng.uniform(0.2, 1.0))
            fields[f"sparse_overhead_{side}"] = f * float(rng.uniform(0.0, 0.3))
    if physical:
        _draw_physical_terms(rng, fields, logu)
    else:
        fields.update(PAPER_MODEL)
    # Budgets relative to the workload at maximum resources: dense (rho = 0) and most pruned (rho_max).
    shape = Problem.from_dict({**fields, "latency_budget": 1.0, "energy_budget": 1.0})
    if physical:
        dense, floor = (
            evaluate(shape, Decision(rho, rho, shape.p_max, shape.f_device_max, shape.f_server_max))
            for rho in (0.0, shape.rho_max)
        )
        t_dense, t_floor, e_dense, e_floor = dense.latency, floor.latency, dense.energy, floor.energy
    else:
        t_dense, t_floor, e_dense, e_floor = _paper_costs(shape, bits)
    if rng.random() < 0.1:
        fields["latency_budget"] = max(t_floor, 1e-6) * logu(0.5, 1.0)
    else:
        fields["latency_budget"] = max(t_floor + (t_dense - t_floor) * logu(1e-3, 2.0), 1e-6)
    if rng.random() < 0.15:
        fields["energy_budget"] = max(e_floor * logu(0.01, 1.0), 1e-9)
    else:
        fields["energy_budget"] = max(e_floor + max(e_dense - e_floor, 0.1 * e_floor) * logu(1e-3, 2.0), 1e-9)
    return Problem.from_dict(fields)


def _paper_costs(shape: Problem, bits: float) -> tuple[float, float, float, float]:
    """``(t_dense, t_floor, e_dense, e_floor)`` of the paper's model at maximum resources, the arithmetic
    :func:`random_problem` has always drawn its budgets from (kept, so that seeded instances stay the same)."""
    t_tx = bits / rate(shape, shape.p_max) if bits > 0 else 0.0
    e_tx = shape.p_max * t_tx
    t_dense = t_floor = t_tx
    e_dense = e_floor = e_tx
    for side in ("device", "server"):
        a, g = shape.cycles(side)
        f_max = getattr(shape, f"f_{side}_max")
        per_cycle = getattr(shape, f"pue_{side}") * getattr(shape, f"psi_{side}") * f_max**2
        counted = side == "device" or shape.energy_scope == "system"
        t_dense += (a + g) / f_max
        t_floor += (a * (1 - shape.rho_max) + g) / f_max
        e_dense += (a + g) * per_cycle if counted else 0.0
        e_floor += (a * (1 - shape.rho_max) + g) * per_cycle if counted else 0.0
    return t_dense, t_floor, e_dense, e_floor


def _draw_physical_terms(rng: np.random.Generator, fields: dict[str, Any], logu: Callable[..., float]) -> None:
    """The physical terms of :func:`random_problem` (``physical=True``), into ``fields``: each side's execution
    model (ideal, dense, sparse with its constants), then each physical field log-uniform over
    :data:`coinfer.model.hardware.PLAUSIBLE_RANGES` or, with probability 0.15, at its zero value."""
    fields.pop("compute_model", None)
    for side in ("device", "server"):
        draw = rng.random()
        model = "dense" if draw < 0.25 else "sparse" if draw < 0.5 else "ideal"
        fields[f"compute_model_{side}"] = model
        if model == "sparse":
            fields[f"sparse_efficiency_{side}"] = float(rng.uniform(0.2, 1.0))
            fields[f"sparse_overhead_{side}"] = fields[f"flops_{side}"] * float(rng.uniform(0.0, 0.3))
    for name, zero in PAPER_MODEL.items():
        low, high = hardware.PLAUSIBLE_RANGES[name]
        fields[name] = zero if rng.random() < 0.15 else logu(low, high)
    for side in ("device", "server"):  # a floor above the drawn f_max: the drawn f_max is the floor too
        fields[f"f_{side}_min"] = min(fields[f"f_{side}_min"], fields[f"f_{side}_max"])
