"""The co-inference system model and the ``Problem`` instance (SPEC sections 2, 7, 8).

A :class:`Problem` is one split of one model with its radio and compute
parameters and budgets, in SI units, with exactly the field names of SPEC 8.
It is validated on construction: every bad field raises
:class:`~coinfer.validation.ParameterError` with a one-line message naming the
field, the value and what is allowed. :func:`evaluate` computes latency,
energy and the distortion objective of a :class:`Decision` and lists every
violated constraint, in the original (non-convex) variables of SPEC 2.

Consistency decisions (documented in ``docs/bad_inputs.md``):

- ``params_device + params_server`` must be positive (the objective is a
  parameter-weighted mean).
- A side with parameters but zero FLOPs is accepted: pruning it saves
  nothing, so the optimum keeps it dense (or in the flat region of
  ``rd_bound``). A side with FLOPs but zero parameters is accepted too:
  pruning it is free in the objective.
- ``scale_*`` must be positive even when that side has no parameters
  (:func:`problems_for_splits` fills 1.0 there, where it has no effect).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coinfer.validation import ParameterError, _show, read_yaml, require_bool, require_choice, require_range

#: Allowed ``energy_scope`` and ``distortion_model`` values (SPEC 2, 5).
ENERGY_SCOPES = ("system", "device")
DISTORTION_MODELS = ("rd_bound", "magnitude")
#: Execution models (SPEC 2): how pruning changes the cycles a side runs.
COMPUTE_MODELS = ("ideal", "dense", "sparse")

#: Legal but absurd magnitudes are refused: every positive physical quantity
#: must lie in [TINY, HUGE] so that cubes and products stay finite in doubles.
TINY = 1e-60
HUGE = 1e60


def noise_psd_from_dbm(dbm_per_hz: float) -> float:
    """Noise power spectral density in W/Hz from dBm/Hz (SPEC 7: -174 dBm/Hz)."""
    return 10.0 ** ((dbm_per_hz - 30.0) / 10.0)


def path_loss_db(distance_m: float) -> float:
    """Path loss ``128.1 + 37.6 log10(d / 1 km)`` dB (SPEC 7)."""
    require_range("distance", distance_m, 0.0, low_open=True)
    return 128.1 + 37.6 * math.log10(distance_m / 1000.0)


def channel_gain(distance_m: float = 200.0, fading: float = 1.0) -> float:
    """Channel power gain ``g = 10^(-PL/10) |h|^2`` (SPEC 2, 7)."""
    require_range("fading", fading, 0.0, low_open=True)
    return 10.0 ** (-path_loss_db(distance_m) / 10.0) * fading


def rayleigh_fading(rng: np.random.Generator, size: Any = None) -> np.ndarray:
    """Rayleigh power fading draws ``|h|^2 ~ Exp(1)`` (SPEC 2)."""
    return rng.exponential(1.0, size=size)


#: SPEC 7 defaults keyed by Problem field names (workloads and budgets have none).
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
    "compute_model": "ideal",
    "sparse_efficiency_device": 1.0,
    "sparse_efficiency_server": 1.0,
    "sparse_overhead_device": 0.0,
    "sparse_overhead_server": 0.0,
}

#: Fields without a default: the workload of the split and the two budgets (SPEC 8).
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
)
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


def _check_magnitude(name: str, value: float, low_open: bool) -> float:
    value = require_range(name, value, 0.0, HUGE, low_open=low_open)
    if value != 0 and value < TINY:
        zero = "" if low_open else "0 or "
        raise ParameterError(f"{name}: got {_show(value)}; allowed {zero}[{TINY:g}, {HUGE:g}]")
    return float(value)


@dataclass(frozen=True)
class Problem:
    """One co-inference instance (SPEC 8), SI units; validated on construction."""

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
    compute_model: str = "ideal"
    sparse_efficiency_device: float = 1.0
    sparse_efficiency_server: float = 1.0
    sparse_overhead_device: float = 0.0
    sparse_overhead_server: float = 0.0

    def __post_init__(self) -> None:
        for name in _NONNEGATIVE:
            object.__setattr__(self, name, _check_magnitude(name, getattr(self, name), low_open=False))
        for name in _POSITIVE:
            object.__setattr__(self, name, _check_magnitude(name, getattr(self, name), low_open=True))
        rho_max = require_range("rho_max", self.rho_max, 0.0, 1.0, high_open=True)
        object.__setattr__(self, "rho_max", float(rho_max))
        q = require_range("bits_per_weight", self.bits_per_weight, 1, 64, integer=True)
        object.__setattr__(self, "bits_per_weight", int(q))
        for name in ("sparse_efficiency_device", "sparse_efficiency_server"):
            object.__setattr__(self, name, float(require_range(name, getattr(self, name), 0.0, 1.0, low_open=True)))
        choice_fields = (
            ("energy_scope", ENERGY_SCOPES),
            ("distortion_model", DISTORTION_MODELS),
            ("compute_model", COMPUTE_MODELS),
        )
        for name, choices in choice_fields:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ParameterError(
                    f"{name}: got {_show(value)} ({type(value).__name__}); allowed one of "
                    + ", ".join(repr(c) for c in choices)
                )
            require_choice(name, value, choices)
        require_bool("shared_ratio", self.shared_ratio)
        if self.params_device + self.params_server <= 0:
            raise ParameterError(
                f"params_device: got {self.params_device:g} with params_server {self.params_server:g}; "
                "allowed params_device + params_server > 0"
            )

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The SPEC 8 field names, in order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: Any) -> Problem:
        """Build from a flat mapping of SPEC 8 fields; fields with a SPEC 7 default may be omitted.

        An unknown field or a missing required one raises ParameterError.
        """
        if not isinstance(data, Mapping):
            raise ParameterError(
                f"problem: got {_show(data)} ({type(data).__name__}); expected a mapping of the SPEC 8 fields"
            )
        names = cls.fields()
        for key in data:
            if key not in names:
                raise ParameterError(f"{key}: got {_show(data[key])}; unknown field, allowed: {', '.join(names)}")
        for name in REQUIRED_FIELDS:
            if name not in data:
                raise ParameterError(f"{name}: missing; required (no default): {', '.join(REQUIRED_FIELDS)}")
        return cls(**{name: data[name] if name in data else DEFAULTS[name] for name in names})

    @classmethod
    def from_yaml(cls, path: str | Path) -> Problem:
        """Read a flat YAML problem file (SPEC 8); any unreadable or bad file -> ParameterError."""
        data = read_yaml(path, "file")
        if data is None:
            raise ParameterError(f"file: got {str(path)!r}; it is empty, expected a YAML mapping of the SPEC 8 fields")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields (round-trips through :meth:`from_dict`)."""
        return {name: getattr(self, name) for name in self.fields()}

    def replace(self, **changes: Any) -> Problem:
        """A validated copy with some fields changed."""
        unknown = sorted(set(changes) - set(self.fields()))
        if unknown:
            raise ParameterError(f"{unknown[0]}: unknown field, allowed: {', '.join(self.fields())}")
        return dataclasses.replace(self, **changes)

    # Derived quantities used by the solvers (SPEC 2): each side runs W(rho) = a (1 - rho) + g cycles.
    def cycles(self, side: str) -> tuple[float, float]:
        """``(a, g)``: the cycles pruning scales and the cycles it cannot remove, on ``side``.

        ``ideal``: ``a = F / c``, ``g = G / c``; ``dense`` (zeros are computed):
        ``a = 0``, ``g = (F + G) / c``; ``sparse``: ``a = F / (e c)``,
        ``g = (G + F0) / c``, the overhead ``F0`` paid only where ``F > 0``.
        """
        flops = getattr(self, f"flops_{side}")
        fixed = getattr(self, f"flops_{side}_fixed")
        per_cycle = getattr(self, f"flops_per_cycle_{side}")
        if self.compute_model == "dense":
            return 0.0, (flops + fixed) / per_cycle
        if self.compute_model == "sparse":
            overhead = getattr(self, f"sparse_overhead_{side}") if flops > 0 else 0.0
            return flops / (getattr(self, f"sparse_efficiency_{side}") * per_cycle), (fixed + overhead) / per_cycle
        return flops / per_cycle, fixed / per_cycle

    @property
    def noise_power(self) -> float:
        """``N0 B / g``: the transmit power that gives SNR 1 (W)."""
        return self.noise_psd * self.bandwidth / self.channel_gain


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
    """A :class:`Problem` with the SPEC 7 defaults filled in.

    The channel gain comes from ``distance`` (default 200 m) and ``fading``
    (default 1), or is given directly as ``channel_gain``, not both.
    """
    fields = dict(DEFAULTS)
    if "channel_gain" in overrides:
        if distance is not None or fading is not None:
            raise ParameterError("channel_gain: given together with distance/fading; give one or the other")
    else:
        fields["channel_gain"] = channel_gain(
            200.0 if distance is None else distance, 1.0 if fading is None else fading
        )
    unknown = sorted(set(overrides) - set(Problem.fields()))
    if unknown:
        raise ParameterError(f"{unknown[0]}: unknown field, allowed: {', '.join(Problem.fields())}")
    fields.update(overrides)
    fields.update(
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
    return Problem.from_dict(fields)


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


def problems_for_splits(profile: pd.DataFrame, **make_problem_kwargs: Any) -> list[Problem]:
    """One :class:`Problem` per row of ONE model's rows of ``profiles.csv``, in split order.

    A side without parameters has no weight scale; it gets ``scale = 1.0``,
    which cannot change anything because its weight in the objective is zero.
    """
    if "model" in profile.columns and profile["model"].nunique() > 1:
        raise ParameterError(f"profile: got models {sorted(profile['model'].unique())}; expected the rows of one model")
    missing = [c for c in _PROFILE_COLUMNS if c not in profile.columns]
    if missing:
        raise ParameterError(f"profile: column {missing[0]!r} missing; required: {', '.join(_PROFILE_COLUMNS)}")
    rows = profile.sort_values("split") if "split" in profile.columns else profile
    problems = []
    for _, row in rows.iterrows():
        values = {c: float(row[c]) for c in _PROFILE_COLUMNS}
        for c in _OPTIONAL_PROFILE_COLUMNS:
            if c in profile.columns:
                values[c] = float(row[c])
        for side in ("device", "server"):
            if values[f"params_{side}"] == 0 or not math.isfinite(values[f"scale_{side}"]):
                values[f"scale_{side}"] = 1.0
        problems.append(make_problem(**values, **make_problem_kwargs))
    return problems


# --- Distortion per weight (SPEC 4, 5), scalar forms for the solvers' inner loops ---

LN2 = math.log(2.0)


def _xlogx(x: float) -> float:
    return x * math.log(x) if x > 0 else 0.0


def unit_distortion(rho: float, model: str, q: int) -> float:
    """``D_model(rho; b) / b`` for one ratio (scalar form of :mod:`coinfer.rate_distortion`).

    ``rd_bound``: ``2^-min(h2(rho) + (1 - rho) q, q)``; ``magnitude``:
    ``rho + (1 - rho) ln(1 - rho)``. Plain ``math`` because the solver calls it
    in its inner loops, where NumPy's per-call overhead dominates.
    """
    if model == "magnitude":
        if rho < 1e-3:
            # rho + (1 - rho) ln(1 - rho) = sum_k rho^k / (k (k - 1)): no cancellation near 0.
            return sum(rho**k / (k * (k - 1)) for k in range(2, 9))
        return rho + ((1.0 - rho) * math.log1p(-rho) if rho < 1.0 else 0.0)
    entropy_nats = -_xlogx(rho) - ((1.0 - rho) * math.log1p(-rho) if rho < 1.0 else 0.0)
    return math.exp(-min(entropy_nats + LN2 * q * (1.0 - rho), LN2 * q))


def objective_value(problem: Problem, rho_device: float, rho_server: float) -> float:
    """The parameter-weighted mean distortion ``D(rho_d, rho_s)`` of SPEC 5."""
    model, q = problem.distortion_model, problem.bits_per_weight
    total = problem.params_device + problem.params_server
    value = 0.0
    if problem.params_device > 0:
        value += problem.params_device * problem.scale_device * unit_distortion(rho_device, model, q)
    if problem.params_server > 0:
        value += problem.params_server * problem.scale_server * unit_distortion(rho_server, model, q)
    return value / total


# --- Decisions and their evaluation (SPEC 2) ---


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
    """Latency (s), energy (J, per ``energy_scope``), objective and the per-stage terms of a decision."""

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


def canonical_decision(problem: Problem, decision: Decision) -> Decision:
    """The same decision with every variable that has no effect set to its canonical value (model.md section 8.4).

    A side with no prunable weights and no prunable work reports ``rho = 0``;
    a side that runs nothing reports ``f = f_max``; nothing sent reports
    ``power = 0``. Every scheme's answer passes through here, so answers that
    differ only in such variables are reported identically.
    """
    rho = [decision.rho_device, decision.rho_server]
    freq = [decision.f_device, decision.f_server]
    for i, side in enumerate(("device", "server")):
        prunable, fixed = problem.cycles(side)
        if getattr(problem, f"params_{side}") == 0 and prunable == 0 and not problem.shared_ratio:
            rho[i] = 0.0
        if prunable + fixed == 0:
            freq[i] = getattr(problem, f"f_{side}_max")
    power = decision.power if problem.feature_bits > 0 else 0.0
    return Decision(rho[0], rho[1], power, freq[0], freq[1])


def rate(problem: Problem, power: float) -> float:
    """Uplink rate ``B log2(1 + p g / (N0 B))`` in bit/s (SPEC 2)."""
    return problem.bandwidth * math.log1p(power / problem.noise_power) / LN2


def evaluate(problem: Problem, decision: Decision, *, rtol: float = 1e-9) -> Evaluation:
    """Latency, energy and distortion of ``decision`` in the original variables (SPEC 2, 5).

    ``violations`` lists every constraint that is broken by more than
    ``rtol`` (relative to its bound), one readable string each.
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
    for name, rho in (("rho_device", rho_d), ("rho_server", rho_s)):
        if not (-rtol <= rho <= p.rho_max + rtol * max(p.rho_max, 1.0)):
            violations.append(f"{name}={rho:.10g} outside [0, rho_max={p.rho_max:.10g}]")
    if p.shared_ratio and abs(rho_d - rho_s) > rtol:
        violations.append(f"shared_ratio: rho_device={rho_d:.9g} != rho_server={rho_s:.9g}")
    if not (0 <= power <= p.p_max * (1 + rtol)):
        violations.append(f"power={power:.10g} W outside [0, p_max={p.p_max:.10g}]")
    for name, f, fmax in (("f_device", f_d, p.f_device_max), ("f_server", f_s, p.f_server_max)):
        if not (0 < f <= fmax * (1 + rtol)):
            violations.append(f"{name}={f:.10g} Hz outside (0, {fmax:.10g}]")
    rho_d_c = min(max(rho_d, 0.0), 1.0)
    rho_s_c = min(max(rho_s, 0.0), 1.0)
    (a_d, g_d), (a_s, g_s) = p.cycles("device"), p.cycles("server")
    w_d = (1 - rho_d_c) * a_d + g_d
    w_s = (1 - rho_s_c) * a_s + g_s
    t_d = (w_d / f_d if f_d > 0 else math.inf) if w_d > 0 else 0.0
    t_s = (w_s / f_s if f_s > 0 else math.inf) if w_s > 0 else 0.0
    e_d = p.pue_device * p.psi_device * w_d * f_d * f_d if w_d > 0 else 0.0
    e_s = p.pue_server * p.psi_server * w_s * f_s * f_s if w_s > 0 else 0.0
    if p.feature_bits > 0:
        r = rate(p, power) if power > 0 else 0.0
        t_tx = p.feature_bits / r if r > 0 else math.inf
        e_tx = power * t_tx if r > 0 else math.inf
    else:
        t_tx = e_tx = 0.0
    latency = t_d + t_tx + t_s
    energy = e_d + e_tx + (e_s if p.energy_scope == "system" else 0.0)
    if not latency <= p.latency_budget * (1 + rtol):
        violations.append(f"latency {latency:.10g} s exceeds latency_budget {p.latency_budget:.10g} s")
    if not energy <= p.energy_budget * (1 + rtol):
        violations.append(f"energy {energy:.10g} J exceeds energy_budget {p.energy_budget:.10g} J ({p.energy_scope})")
    return Evaluation(latency, energy, objective_value(p, rho_d_c, rho_s_c), t_d, t_tx, t_s, e_d, e_tx, e_s, violations)


def random_problem(rng: np.random.Generator) -> Problem:
    """A realistic random instance around the SPEC 7 defaults (tests and ``benchmarks/bench_solver.py``).

    Workloads are log-uniform over four decades with occasional empty sides
    (``flops = 0``, ``feature_bits = 0``); constants vary by a factor of two
    around SPEC 7; the channel is drawn at 20-500 m with Rayleigh fading; the
    budgets are drawn relative to the dense workload at maximum resources,
    so that some instances are easy, some bind one or both budgets and some
    are infeasible.
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
    # Budgets relative to the workload at maximum resources: dense (rho = 0) and most pruned (rho_max).
    shape = Problem.from_dict({**fields, "latency_budget": 1.0, "energy_budget": 1.0})
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
    if rng.random() < 0.1:
        fields["latency_budget"] = max(t_floor, 1e-6) * logu(0.5, 1.0)
    else:
        fields["latency_budget"] = max(t_floor + (t_dense - t_floor) * logu(1e-3, 2.0), 1e-6)
    if rng.random() < 0.15:
        fields["energy_budget"] = max(e_floor * logu(0.01, 1.0), 1e-9)
    else:
        fields["energy_budget"] = max(e_floor + max(e_dense - e_floor, 0.1 * e_floor) * logu(1e-3, 2.0), 1e-9)
    return Problem.from_dict(fields)
