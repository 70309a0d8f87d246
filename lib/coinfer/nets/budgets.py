"""Budget grids in physical units, one per model family (model.md section 7.3; issue 22, item 3).

Every sweep of notebooks 06, 08 and 09 asks for latency budgets in seconds and energy budgets in joules that a
deployment could ask for. A family's grid along each budget (the other budget held loose: the largest unpruned
cost of any split of any member at full resources, as in model.md section 10):

- starts at the least budget at which some scheme is feasible for some member (the proposed design is a superset
  of every benchmark, so it is the one solved: :func:`coinfer.optimise.select_split` with
  :func:`coinfer.optimise.solve`, exact), found by bisection in ``log`` budget;
- ends at the least budget at which the unpruned model of every member fits (``rho_max = 0``), or at the family's
  published anchor if that lies higher (the anchor is then appended, so that the resolution stays where pruning
  trades);
- is log-spaced between the two, with every published anchor of the family inside the span inserted;
- never goes below the physical minima (:func:`physical_minima`): one device clock cycle ``1 / f_device_max``,
  one radio slot (:data:`coinfer.model.hardware.NR_UPLINK`) when every split of the family uploads something,
  and the least energy of one inference under the physical model (:func:`least_inference_energy`). These are
  computed, not constants; the first feasible point lies above them by construction, and the grid is clipped
  at them in any case.

The anchors (:data:`FAMILIES`) are published latency requirements: 3GPP TS 22.261 Table 7.10.1-1 and the
MLPerf Inference server-scenario latency constraints (``loadgen/mlperf.conf``). No published energy requirement
per inference was found; the energy anchors are assumed battery shares, marked as such.

References
----------
.. [TS22261] 3GPP TS 22.261 v20.1.0, section 7.10.1, Table 7.10.1-1 (KPIs for split AI/ML inference): split AI/ML
   image recognition, max allowed UL end-to-end latency 15 ms, payload 0.27 MByte; enhanced media recognition,
   100 ms UL and DL (:data:`coinfer.model.hardware.SPLIT_INFERENCE_KPIS`).
.. [MLPerfConf] MLCommons, MLPerf Inference, ``loadgen/mlperf.conf`` (github.com/mlcommons/inference, commit 001712e9):
   server-scenario 99th-percentile latency constraints ``resnet50.Server.target_latency = 15`` ms,
   ``bert.Server.target_latency = 130`` ms, ``llama3_1-8b.Server.ttft_latency = 2000`` ms (time to first
   token) and ``tpot_latency = 100`` ms (time per output token).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coinfer.base.validation import ParameterError, require_range
from coinfer.model import hardware
from coinfer.model.system import Problem, evaluate, full_resources, problems_for_splits

__all__ = [
    "Anchor",
    "BATTERY_SCOPE",
    "BudgetGrid",
    "FAMILIES",
    "FAMILY_OF",
    "Family",
    "PhysicalMinima",
    "SERVICE_POWER",
    "budget_grid",
    "check_budget",
    "family_of",
    "impossible_budgets",
    "least_inference_energy",
    "physical_minima",
]

#: A 15.4 Wh battery (4000 mAh at 3.85 V) of which 10 % serves the task over 8 h: the power one task may draw
#: [W] (assumed; the same battery share as model.md 13.9).
SERVICE_POWER = 15.4 * 3600 * 0.10 / (8 * 3600)

#: The energy scope (model.md 2.6) in which a battery-share energy budget applies: a battery limits the energy the
#: device draws (its computation and its uplink), not the server's, which a mains supply feeds.
BATTERY_SCOPE = "device"


@dataclass(frozen=True)
class Anchor:
    """A budget a deployment asks for, with its source.

    Attributes
    ----------
    value : float
        The budget [s for a latency, J for an energy].
    source : str
        Where the value comes from; starts with ``"assumed"`` when no published source was found [text].
    """

    value: float
    source: str

    @property
    def published(self) -> bool:
        """Whether the value comes from a published requirement (not ``assumed``)."""
        return not self.source.startswith("assumed")


@dataclass(frozen=True)
class Family:
    """A model family: its members in increasing size and its anchored budgets.

    Attributes
    ----------
    name : str
        The family's name [text].
    members : tuple of str
        Models of ``data/profiles.csv`` in the family [text].
    latency_anchors : tuple of Anchor
        Published latency requirements [s].
    energy_anchors : tuple of Anchor
        Energy budgets [J] (assumed: no published per-inference energy requirement was found).
    """

    name: str
    members: tuple[str, ...]
    latency_anchors: tuple[Anchor, ...]
    energy_anchors: tuple[Anchor, ...]

    @property
    def energy_scope(self) -> str:
        """The energy scope of the family's energy budgets (model.md 2.6): :data:`BATTERY_SCOPE` where every energy
        anchor is an assumed battery share, else ``system``."""
        battery = all(not a.published and "battery" in a.source for a in self.energy_anchors)
        return BATTERY_SCOPE if battery and self.energy_anchors else "system"


_IMAGE_15MS = Anchor(
    0.015,
    "3GPP TS 22.261 Table 7.10.1-1, split AI/ML image recognition: max allowed UL end-to-end latency 15 ms; "
    "MLPerf Inference resnet50.Server.target_latency = 15 ms",
)
_MEDIA_100MS = Anchor(
    0.1, "3GPP TS 22.261 Table 7.10.1-1, enhanced media recognition: max allowed UL and DL end-to-end latency 100 ms"
)
_BERT_130MS = Anchor(0.13, "MLPerf Inference bert.Server.target_latency = 130 ms (99th percentile, one query)")
_LLM_TTFT = Anchor(2.0, "MLPerf Inference llama3_1-8b.Server.ttft_latency = 2000 ms (time to first token)")
_IMAGE_ENERGY = Anchor(
    SERVICE_POWER / 10.0, "assumed: 10 % of a 15.4 Wh battery over 8 h at 10 inferences/s (model.md 13.9)"
)
_TEXT_ENERGY = Anchor(
    SERVICE_POWER / 1.0, "assumed: 10 % of a 15.4 Wh battery over 8 h at 1 inference/s (model.md 13.9)"
)
_LLM_ENERGY = Anchor(
    SERVICE_POWER * 2.0, "assumed: 10 % of a 15.4 Wh battery over 8 h, one prompt per 2 s (the TTFT anchor)"
)

#: The families and their anchors (model.md section 7.3). ``digits`` holds the digits CNN and the MLP widths of
#: notebook 08; ``meta_large`` the three models without weights.
FAMILIES: dict[str, Family] = {
    "digits": Family(
        "digits",
        ("digits_cnn", "digits_mlp", *(f"digits_mlp_w{w}" for w in (8, 16, 32, 64, 128, 256))),
        (_IMAGE_15MS,),
        (_IMAGE_ENERGY,),
    ),
    "efficientnet_lite": Family(
        "efficientnet_lite",
        ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"),
        (_IMAGE_15MS,),
        (_IMAGE_ENERGY,),
    ),
    "text_encoder": Family("text_encoder", ("minilm", "mpnet_base"), (_MEDIA_100MS, _BERT_130MS), (_TEXT_ENERGY,)),
    "meta_large": Family("meta_large", ("bert_large", "gpt2_xl", "llama_7b"), (_LLM_TTFT, _BERT_130MS), (_LLM_ENERGY,)),
}

#: model -> its family's name.
FAMILY_OF: dict[str, str] = {member: family.name for family in FAMILIES.values() for member in family.members}


def family_of(model: str) -> Family:
    """The family of ``model`` (:data:`FAMILIES`).

    Parameters
    ----------
    model : str
        A model of ``data/profiles.csv`` [text].

    Returns
    -------
    Family
    """
    if model not in FAMILY_OF:
        raise ParameterError(f"model: got {model!r}; allowed one of {', '.join(sorted(FAMILY_OF))}")
    return FAMILIES[FAMILY_OF[model]]


@dataclass(frozen=True)
class PhysicalMinima:
    """The least budgets hardware can meet (issue 22, item 3).

    Attributes
    ----------
    clock_cycle : float
        One device clock cycle, ``1 / f_device_max`` [s].
    radio_slot : float
        One NR slot (:data:`coinfer.model.hardware.NR_UPLINK`) [s].
    least_energy : float
        The least energy of one inference of any split of any member under the physical model [J].
    every_split_sends : bool
        Whether every split uploads something (no fully on-device split): the latency floor is then the slot.
    """

    clock_cycle: float
    radio_slot: float
    least_energy: float
    every_split_sends: bool

    @property
    def least_latency(self) -> float:
        """The least latency budget of the grid [s]: the clock cycle, or the slot when every split sends."""
        return max(self.clock_cycle, self.radio_slot) if self.every_split_sends else self.clock_cycle


def _golden_min(energy: Any, low: float, high: float, iterations: int = 200) -> float:
    """The least value of a unimodal ``energy(x)`` on ``[low, high]``, golden-section search in ``log x``."""
    if high <= low:
        return float(energy(low))
    lo, hi = math.log(low), math.log(high)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = energy(math.exp(a)), energy(math.exp(b))
    for _ in range(iterations):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = energy(math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = energy(math.exp(b))
    return float(min(fa, fb, energy(low), energy(high)))


def least_inference_energy(problem: Problem) -> float:
    """The least energy of one inference of one split under its model, with no latency budget [J].

    At the floor ratios (``rho_max`` on every side with work to prune, model.md 5.7) the energy of model.md 2.7
    is a sum of three terms, each of one resource: the device's ``eta psi W f^2 + P_static t + e_mem M`` (convex
    in ``f``), the upload's ``(p + P_c) S / r(p)`` (unimodal in ``p``) and the server's. Each is minimised on its
    own range (``[f_min, f_max]``, ``(0, P_max]``) by a golden-section search in ``log`` on
    :func:`coinfer.model.system.evaluate`'s terms, independently of the solvers. Static power and memory energy
    make it positive under the physical model.

    Parameters
    ----------
    problem : Problem
        One split (its budgets play no part).

    Returns
    -------
    float
        The least energy [J] per the problem's ``energy_scope`` (the server's term only in the ``system`` scope).
    """
    from coinfer.model.system import Decision, floor_ratios

    rho_d, rho_s = floor_ratios(problem)
    f_d_max, f_s_max, p_max = problem.f_device_max, problem.f_server_max, problem.p_max

    def terms(power: float, f_d: float, f_s: float) -> Any:
        return evaluate(problem, Decision(rho_d, rho_s, power, f_d, f_s))

    device = _golden_min(lambda f: terms(p_max, f, f_s_max).energy_device, max(problem.f_device_min, 1.0), f_d_max)
    server = _golden_min(lambda f: terms(p_max, f_d_max, f).energy_server, max(problem.f_server_min, 1.0), f_s_max)
    upload = 0.0
    if problem.feature_bits > 0:
        upload = _golden_min(lambda p: terms(p, f_d_max, f_s_max).energy_tx, p_max * 1e-9, p_max)
    counted_server = server if problem.energy_scope == "system" else 0.0
    return float(device + upload + counted_server)


def physical_minima(problems: Sequence[Problem]) -> PhysicalMinima:
    """The physical minima of a family's splits (module docstring).

    Parameters
    ----------
    problems : sequence of Problem
        Every split of every member.

    Returns
    -------
    PhysicalMinima
        ``clock_cycle`` [s], ``radio_slot`` [s], ``least_energy`` [J], ``every_split_sends``.
    """
    if not problems:
        raise ParameterError("problems: got none; expected every split of the family's members")
    return PhysicalMinima(
        clock_cycle=1.0 / max(p.f_device_max for p in problems),
        radio_slot=float(hardware.problem_defaults()["slot_duration"]),
        least_energy=min(least_inference_energy(p) for p in problems),
        every_split_sends=all(p.feature_bits > 0 for p in problems),
    )


@dataclass(frozen=True)
class BudgetGrid:
    """A family's budget grids in seconds and joules (model.md section 7.3).

    Attributes
    ----------
    family : str
        The family's name [text].
    members : tuple of str
        The members it was computed for [text].
    latency : numpy.ndarray
        Latency budgets, increasing [s].
    energy : numpy.ndarray
        Energy budgets, increasing [J].
    latency_loose : float
        Latency budget held in the energy sweep: the largest unpruned latency at full resources [s].
    energy_loose : float
        Energy budget held in the latency sweep: the largest unpruned energy at full resources [J].
    latency_first, energy_first : float
        Least budget at which some scheme is feasible (other budget loose) [s], [J].
    latency_unpruned, energy_unpruned : float
        Least budget at which the unpruned model of every member fits (other budget loose) [s], [J].
    latency_default, energy_default : float
        The default operating point [s], [J]: the first published latency anchor inside the grid, and the first
        energy anchor inside the grid or else the geometric middle of the energy grid.
    minima : PhysicalMinima
        The physical minima the grid respects.
    anchors : tuple of tuple
        ``(sweep, Anchor, in_grid)`` per anchor of the family: ``in_grid`` False where the anchor lies below the
        first feasible point (no scheme meets it).
    """

    family: str
    members: tuple[str, ...]
    latency: np.ndarray
    energy: np.ndarray
    latency_loose: float
    energy_loose: float
    latency_first: float
    energy_first: float
    latency_unpruned: float
    energy_unpruned: float
    latency_default: float
    energy_default: float
    minima: PhysicalMinima
    anchors: tuple[tuple[str, Anchor, bool], ...]

    def values(self, sweep: str) -> np.ndarray:
        """The grid of ``sweep`` (``"latency_budget"`` [s] or ``"energy_budget"`` [J]).

        Parameters
        ----------
        sweep : str
            ``"latency_budget"`` or ``"energy_budget"``.

        Returns
        -------
        numpy.ndarray
            The budgets [s or J], increasing.
        """
        if sweep not in ("latency_budget", "energy_budget"):
            raise ParameterError(f"sweep: got {sweep!r}; allowed latency_budget, energy_budget")
        return self.latency if sweep == "latency_budget" else self.energy

    def fixed(self, sweep: str, value: float) -> tuple[float, float]:
        """``(latency_budget [s], energy_budget [J])`` at the point ``value`` of ``sweep`` (the other loose).

        Parameters
        ----------
        sweep : str
            ``"latency_budget"`` or ``"energy_budget"``.
        value : float
            The swept budget [s or J].

        Returns
        -------
        tuple of float
            Latency budget [s] and energy budget [J].
        """
        return (value, self.energy_loose) if sweep == "latency_budget" else (self.latency_loose, value)

    def table(self) -> pd.DataFrame:
        """One row per grid point: ``family``, ``sweep``, ``budget`` [s or J], ``anchor`` (source or empty).

        Returns
        -------
        pandas.DataFrame
            The grid points.
        """
        rows = []
        for sweep in ("latency_budget", "energy_budget"):
            anchored = {a.value: a.source for s, a, inside in self.anchors if s == sweep and inside}
            for value in self.values(sweep):
                rows.append(
                    {"family": self.family, "sweep": sweep, "budget": float(value), "anchor": anchored.get(value, "")}
                )
        return pd.DataFrame(rows)


def _feasible(problems: Sequence[Problem], latency: float, energy: float) -> bool:
    from coinfer.optimise import select_split

    best, _ = select_split([p.replace(latency_budget=latency, energy_budget=energy) for p in problems])
    return best is not None


def _threshold(feasible: Any, high: float, iterations: int = 48) -> float:
    """The least ``x`` in ``(0, high]`` with ``feasible(x)`` (monotone), bisected in ``log x``; the feasible end."""
    if not feasible(high):
        raise ParameterError(f"budget: no scheme is feasible at {high:g}; expected feasibility at the loose budget")
    low = high * 1e-3
    while feasible(low):
        if low < 1e-300:
            raise ParameterError(f"budget: still feasible at {low:g}; no least budget found")
        low *= 1e-3
    lo, hi = math.log(low), math.log(high)
    for _ in range(iterations):
        middle = 0.5 * (lo + hi)
        if feasible(math.exp(middle)):
            hi = middle
        else:
            lo = middle
    return math.exp(hi)


def _round_up(value: float, digits: int = 9) -> float:
    """``value`` rounded up to ``digits`` significant digits, as the tables keep it (``paths.CSV_FLOAT_FORMAT``)."""
    if value <= 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    up = math.ceil(value / step) * step
    return up if up >= value else math.nextafter(up, math.inf)


def _log_grid(first: float, last: float, points: int, anchors: Sequence[float]) -> np.ndarray:
    inner = np.geomspace(first, last, points) if last > first else np.array([first])
    extra = [a for a in anchors if a >= first]
    return np.unique(np.concatenate([inner, np.asarray(extra, dtype=float)]))


def budget_grid(
    profile: pd.DataFrame,
    members: Sequence[str],
    settings: Mapping[str, Any] | None = None,
    points: int = 13,
    family: str | None = None,
) -> BudgetGrid:
    """The latency and energy grids of ``members`` of one family (module docstring; model.md section 7.3).

    Parameters
    ----------
    profile : pandas.DataFrame
        The profile table (``profiles.csv``) holding every member's rows.
    members : sequence of str
        The members to cover (one model for notebook 06, a family's members for notebook 08).
    settings : mapping, optional
        :func:`coinfer.model.system.make_problem` fields shared by every member (``bandwidth`` [Hz],
        ``distance`` [m], ``energy_scope``, ...); the physical defaults of model.md 7.1 otherwise.
    points : int
        Log-spaced points between the first feasible and the unpruned budget [count, >= 2]; anchors add to them.
    family : str, optional
        The family whose anchors apply; by default that of ``members[0]`` (:data:`FAMILY_OF`).

    Returns
    -------
    BudgetGrid
        The grids [s], [J], their ends, the default point, the physical minima and the anchors.

    References
    ----------
    docs/model.md, sections 7.3 (budgets) and 10 (model size study).
    """
    points = int(require_range("points", points, 2, integer=True))
    if not members:
        raise ParameterError("members: got none; expected at least one model of the family")
    spec = FAMILIES[family] if family is not None else family_of(members[0])
    settings = dict(settings or {})
    settings.pop("latency_budget", None)
    settings.pop("energy_budget", None)
    problems_of: dict[str, list[Problem]] = {}
    for member in members:
        rows = profile[profile["model"] == member].sort_values("split")
        if rows.empty:
            raise ParameterError(f"profile: no rows of model {member!r}; run notebook 05 with it in `models`")
        problems_of[member] = problems_for_splits(rows, latency_budget=1.0, energy_budget=1.0, **settings)
    every = [p for ps in problems_of.values() for p in ps]
    minima = physical_minima(every)
    costs = [evaluate(p, full_resources(p)) for p in every]
    t_loose = max(c.latency for c in costs)
    e_loose = max(c.energy for c in costs)
    # some member, some split feasible: the least budget over members
    t_first = min(_threshold(lambda t, ps=ps: _feasible(ps, t, e_loose), t_loose) for ps in problems_of.values())
    e_first = min(_threshold(lambda e, ps=ps: _feasible(ps, t_loose, e), e_loose) for ps in problems_of.values())
    # every member's unpruned model fits: the largest of the members' least budgets with rho_max = 0
    unpruned = {m: [p.replace(rho_max=0.0) for p in ps] for m, ps in problems_of.items()}
    t_unpruned = max(_threshold(lambda t, ps=ps: _feasible(ps, t, e_loose), t_loose) for ps in unpruned.values())
    e_unpruned = max(_threshold(lambda e, ps=ps: _feasible(ps, t_loose, e), e_loose) for ps in unpruned.values())
    t_first, e_first = max(t_first, minima.least_latency), max(e_first, minima.least_energy)
    # The bisection ends within 1e-13 of the feasibility edge, where every side but the budget's is free and the
    # solvers' answers are fragile (`solve` returned rho_s = rho_max at MiniLM's split 0 under the device scope);
    # a written budget is 9 digits, so the first point is that rounding up: feasible as written, 1e-9 inside.
    t_first, e_first = _round_up(t_first), _round_up(e_first)
    lat_anchors = [a.value for a in spec.latency_anchors]
    en_anchors = [a.value for a in spec.energy_anchors]
    latency = _log_grid(t_first, max(t_unpruned, t_first), points, lat_anchors)
    energy = _log_grid(e_first, max(e_unpruned, e_first), points, en_anchors)
    anchors = tuple(
        [("latency_budget", a, a.value >= t_first) for a in spec.latency_anchors]
        + [("energy_budget", a, a.value >= e_first) for a in spec.energy_anchors]
    )
    inside_latency = [a.value for s, a, inside in anchors if s == "latency_budget" and inside and a.published]
    inside_energy = [a.value for s, a, inside in anchors if s == "energy_budget" and inside]
    latency_default = inside_latency[0] if inside_latency else float(np.sqrt(latency[0] * latency[-1]))
    energy_default = inside_energy[0] if inside_energy else float(np.sqrt(energy[0] * energy[-1]))
    return BudgetGrid(
        family=spec.name,
        members=tuple(members),
        latency=latency,
        energy=energy,
        latency_loose=float(max(t_loose, latency[-1])),
        energy_loose=float(max(e_loose, energy[-1])),
        latency_first=float(t_first),
        energy_first=float(e_first),
        latency_unpruned=float(t_unpruned),
        energy_unpruned=float(e_unpruned),
        latency_default=float(latency_default),
        energy_default=float(energy_default),
        minima=minima,
        anchors=anchors,
    )


def check_budget(name: str, value: float, minima: PhysicalMinima, sends: bool = True) -> float:
    """``value`` if it is a budget hardware can meet, else a one-line :class:`ParameterError` (exit 2).

    Parameters
    ----------
    name : str
        The parameter's name; ``latency`` in it marks a latency budget, else an energy budget [text].
    value : float
        The budget [s or J].
    minima : PhysicalMinima
        The minima of the model or family (:func:`physical_minima`).
    sends : bool
        Whether the split uploads something (then one radio slot is the latency floor).

    Returns
    -------
    float
        ``value`` [s or J].
    """
    value = float(value)
    if "latency" in name:
        floor = max(minima.clock_cycle, minima.radio_slot) if sends else minima.clock_cycle
        what = "one radio slot" if sends and minima.radio_slot > minima.clock_cycle else "one device clock cycle"
        if not (math.isfinite(value) and value >= floor):
            raise ParameterError(f"{name}: got {value!r} s; allowed >= {floor:g} s ({what})")
    else:
        floor = minima.least_energy
        if not (math.isfinite(value) and value >= floor):
            raise ParameterError(f"{name}: got {value!r} J; allowed >= {floor:g} J (least energy of one inference)")
    return value


#: Relative tolerance of :func:`impossible_budgets`: tables keep 9 significant digits (``paths.CSV_FLOAT_FORMAT``),
#: so a grid point at a minimum reads up to 5e-9 below it.
_CSV_RTOL = 1e-8


def impossible_budgets(
    table: pd.DataFrame, profile: pd.DataFrame, settings: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The rows of a sweep table whose budgets no hardware can meet (issue 22, item 3; the referee's check).

    A row is impossible when its ``latency_budget`` is below one device clock cycle, or below one radio slot
    where its split uploads something (a row without a split: where every split of its model does), or its
    ``energy_budget`` is below the least energy of one inference of any split of its model
    (:func:`least_inference_energy`) at the row's channel (``bandwidth`` [Hz] and ``distance`` [m] columns, or
    ``x`` of a ``bandwidth`` / ``distance`` sweep; the model.md 7.1 defaults otherwise). Where the table has a
    ``family`` column (``size_study.csv``: one grid per family, the same budgets for every member), the least
    energy is that of the family's most frugal member in the table, and a row without a split needs one slot only
    if every split of every member sends.

    Parameters
    ----------
    table : pandas.DataFrame
        A sweep table with ``model``, ``latency_budget`` [s], ``energy_budget`` [J] and optionally ``split``,
        ``bandwidth``, ``distance``, ``sweep``, ``x`` (``data/opt_budget_sweep.csv``, ``data/size_study.csv``).
    profile : pandas.DataFrame
        The profile table (``profiles.csv``) with every model of ``table``.
    settings : mapping, optional
        :func:`coinfer.model.system.make_problem` fields of the study (e.g. ``energy_scope``).

    Returns
    -------
    pandas.DataFrame
        The impossible rows of ``table`` with a column ``why`` [text]; empty when every budget is possible.
    """
    base = dict(settings or {})
    cache: dict[tuple[Any, ...], tuple[list[Problem], list[float]]] = {}

    def problems_at(model: str, bandwidth: float | None, distance: float | None) -> tuple[list[Problem], list[float]]:
        key = (model, bandwidth, distance)
        if key not in cache:
            fields = dict(base)
            if bandwidth is not None:
                fields["bandwidth"] = bandwidth
            if distance is not None:
                fields["distance"] = distance
            rows = profile[profile["model"] == model].sort_values("split")
            if rows.empty:
                raise ParameterError(f"profile: no rows of model {model!r}")
            problems = problems_for_splits(rows, latency_budget=1.0, energy_budget=1.0, **fields)
            cache[key] = (problems, [least_inference_energy(p) for p in problems])
        return cache[key]

    def number(row: Any, name: str) -> float | None:
        value = getattr(row, name, None)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return float(value)

    slot = float(hardware.problem_defaults()["slot_duration"])
    pooled: dict[str, list[str]] = {}
    if "family" in table.columns:
        pooled = {str(f): sorted(set(rows["model"].astype(str))) for f, rows in table.groupby("family")}
    why: list[str] = []
    keep: list[int] = []
    for i, row in enumerate(table.itertuples(index=False)):
        sweep = getattr(row, "sweep", "")
        bandwidth, distance = number(row, "bandwidth"), number(row, "distance")
        if sweep == "bandwidth":
            bandwidth = number(row, "x")
        elif sweep == "distance":
            distance = number(row, "x")
        problems, energies = problems_at(str(row.model), bandwidth, distance)
        split = number(row, "split")
        sends = (
            problems[int(split)].feature_bits > 0 if split is not None else all(p.feature_bits > 0 for p in problems)
        )
        cycle = 1.0 / max(p.f_device_max for p in problems)
        if pooled:  # one grid for the family: its least energy is that of its most frugal member
            members = [problems_at(m, bandwidth, distance) for m in pooled[str(row.family)]]
            energies = [e for _, es in members for e in es]
            if split is None:
                sends = all(p.feature_bits > 0 for ps, _ in members for p in ps)
        latency, energy = float(row.latency_budget), float(row.energy_budget)
        reasons = []
        if latency < cycle * (1 - _CSV_RTOL):
            reasons.append(f"latency_budget {latency:g} s below one clock cycle {cycle:g} s")
        if sends and latency < slot * (1 - _CSV_RTOL):
            reasons.append(f"latency_budget {latency:g} s below one radio slot {slot:g} s")
        least = min(energies)
        if energy < least * (1 - _CSV_RTOL):
            reasons.append(f"energy_budget {energy:g} J below the least energy of one inference {least:g} J")
        if reasons:
            keep.append(i)
            why.append("; ".join(reasons))
    out = table.iloc[keep].copy()
    out["why"] = why
    return out
