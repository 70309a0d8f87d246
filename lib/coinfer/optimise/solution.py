"""The answer of every solver (model.md sections 5.3, 5.7, 8): :class:`Solution`, the polish, the reasons.

Every solver (the fast one, the conic reference, the benchmarks) ends the same
way: a decision that is optimal up to a root's or a conic solver's tolerance
gets the canonical values of its variables without effect (model.md section
8.4), its latency, energy and objective in the original variables
(:func:`coinfer.model.arithmetic.decision_terms`), and, where it breaks a constraint
by a few ulps, the polish (:func:`polish_numbers`: clip power and frequencies
to their limits, then prune a little more on the side where that costs the
least distortion per unit of violation). :func:`answer` does this for a
:class:`~coinfer.model.system.Decision` from Python; the compiled steps of the fast
solver call :func:`finish_decision` themselves. An infeasible problem is an
answer too, with a reason that names the binding limit and its numbers
(:func:`latency_floor_reason`, :func:`energy_floor_reason`).

:func:`polish_numbers` and :func:`finish_decision` are compiled
(:func:`coinfer.base.jit.jcompile`) and call :mod:`coinfer.model.arithmetic`'s compiled
functions: :func:`coinfer.base.jit.refresh_cache` below recompiles them when that
file changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from coinfer.base.jit import jcompile, refresh_cache
from coinfer.model import arithmetic
from coinfer.model.arithmetic import (
    A_D,
    COUNTED_S,
    E0,
    FMAX_D,
    FMAX_S,
    FMIN_D,
    FMIN_S,
    G_D,
    K_D,
    MEM_E_D,
    MEM_T0_D,
    MEM_T_D,
    PARAMS_D,
    PHYS,
    PMAX,
    RHO_MAX,
    SCALE_D,
    SHARED,
    STATIC_D,
    T0,
    canonicalise,
    decision_terms,
    distortion_slope,
    meets_constraints,
)
from coinfer.model.system import Decision, Problem, evaluate

__all__ = [
    "EDGE",
    "Solution",
    "answer",
    "energy_floor_reason",
    "finish_decision",
    "infeasible",
    "latency_floor_reason",
    "limits_text",
    "optimal",
    "optimal_numbers",
    "polish",
    "polish_numbers",
    "problem_limits",
    "settled",
]

#: The files whose compiled functions this module's compiled code calls (coinfer.base.jit.refresh_cache).
COMPILED_DEPENDENCIES = (arithmetic.__file__,)
refresh_cache(__file__, COMPILED_DEPENDENCIES)

#: Relative slack under which a budget counts as met exactly at its floor.
EDGE = 1e-12


@dataclass(frozen=True)
class Solution:
    """The model.md section 8.3 answer for one problem. ``status`` is ``"optimal"`` or ``"infeasible"``
    (``solve_reference`` may also return ``"solver_error"`` when the conic solver fails).

    Besides the decision, its objective, latency [s] and energy [J], an answer with a decision carries the
    per-part breakdown of :func:`coinfer.model.system.evaluate` (the one computation,
    :func:`coinfer.model.arithmetic.decision_terms`): ``t_device``, ``t_tx`` (air time plus access latency),
    ``t_server`` [s], which sum to ``latency``; ``energy_device``, ``energy_tx``, ``energy_server`` [J], which sum
    to ``energy`` (without ``energy_server`` in the ``device`` energy scope); ``memory_bound_device`` and
    ``memory_bound_server``, whether a side waits for its weights (model.md section 2.7).
    """

    status: str
    rho_device: float | None = None
    rho_server: float | None = None
    power: float | None = None
    f_device: float | None = None
    f_server: float | None = None
    objective: float | None = None
    latency: float | None = None
    energy: float | None = None
    reason: str | None = None
    t_device: float | None = None
    t_tx: float | None = None
    t_server: float | None = None
    energy_device: float | None = None
    energy_tx: float | None = None
    energy_server: float | None = None
    memory_bound_device: bool | None = None
    memory_bound_server: bool | None = None

    def as_dict(self) -> dict:
        """The model.md section 8.3 answer as a JSON-ready dict.

        Returns
        -------
        dict
            Every field of the answer by name (``None`` where it has no value): the status, the decision
            (``rho_device``, ``rho_server`` [dimensionless], ``power`` [W], ``f_device``, ``f_server`` [Hz]), its
            ``objective``, ``latency`` [s] and ``energy`` [J], the ``reason`` and the per-part breakdown.

        References
        ----------
        docs/model.md, section 8.3.
        """
        return asdict(self)

    @property
    def decision(self) -> Decision | None:
        """The decision, or ``None`` when infeasible."""
        if self.status != "optimal":
            return None
        rho_d, rho_s, power, f_d, f_s = self.rho_device, self.rho_server, self.power, self.f_device, self.f_server
        assert rho_d is not None and rho_s is not None and power is not None and f_d is not None and f_s is not None
        return Decision(rho_d, rho_s, power, f_d, f_s)


def infeasible(reason: str) -> Solution:
    """An ``"infeasible"`` :class:`Solution` with its ``reason`` (built as :func:`optimal` builds its answers).

    Parameters
    ----------
    reason : str
        Why no decision meets the constraints (model.md section 5.7).

    Returns
    -------
    Solution
        The answer, without a decision.

    References
    ----------
    docs/model.md, sections 5.7 and 8.3.
    """
    return _built("infeasible", None, None, None, None, None, None, None, None, reason, _NO_PARTS)


#: The breakdown of an answer without a decision.
_NO_PARTS = (None,) * 8


def optimal(
    rho_device: float,
    rho_server: float,
    power: float,
    f_device: float,
    f_server: float,
    objective: float,
    latency: float,
    energy: float,
    reason: str | None = None,
    parts: Sequence[float] | None = None,
) -> Solution:
    """An ``"optimal"`` :class:`Solution` of a decision whose terms are given (see :func:`_built`).

    Parameters
    ----------
    rho_device, rho_server : float
        Pruning ratios [dimensionless].
    power : float
        Transmit power [W].
    f_device, f_server : float
        CPU frequencies [Hz].
    objective : float
        Distortion ``D`` of model.md section 5.1 [the weights' unit].
    latency : float
        [s]
    energy : float
        Per the problem's energy scope [J].
    reason : str, optional
        A note (e.g. a conic solver's inaccurate status).
    parts : sequence of 8 floats, optional
        The per-part breakdown (the last eight values of :func:`coinfer.model.arithmetic.decision_terms`: times
        [s], energies [J], memory-bound flags as 0.0 or 1.0); none if not given.

    Returns
    -------
    Solution
        The ``"optimal"`` answer.

    References
    ----------
    docs/model.md, section 8.3.
    """
    breakdown = _NO_PARTS if parts is None else _parts(*parts)
    return _built(
        "optimal", rho_device, rho_server, power, f_device, f_server, objective, latency, energy, reason, breakdown
    )


def optimal_numbers(
    rho_device: float,
    rho_server: float,
    power: float,
    f_device: float,
    f_server: float,
    objective: float,
    latency: float,
    energy: float,
    t_device: float,
    t_tx: float,
    t_server: float,
    energy_device: float,
    energy_tx: float,
    energy_server: float,
    memory_bound_device: float,
    memory_bound_server: float,
) -> Solution:
    """:func:`optimal` of the sixteen numbers of a compiled answer, without a note: the batch's answers.

    The numbers are the decision, its terms and its breakdown, in the order of
    :func:`coinfer.model.arithmetic.decision_terms`.

    Parameters
    ----------
    rho_device, rho_server : float
        Pruning ratios [dimensionless].
    power : float
        Transmit power [W].
    f_device, f_server : float
        CPU frequencies [Hz].
    objective : float
        Distortion ``D`` of model.md section 5.1 [the weights' unit].
    latency : float
        Latency [s].
    energy : float
        Energy, per the problem's energy scope [J].
    t_device, t_tx, t_server : float
        Each part's time: device compute, upload (air time plus access latency), server compute [s].
    energy_device, energy_tx, energy_server : float
        Each part's energy [J].
    memory_bound_device, memory_bound_server : float
        Whether a side waits for its weights, as 0.0 or 1.0 [1].

    Returns
    -------
    Solution
        The ``"optimal"`` answer.

    References
    ----------
    docs/model.md, sections 2.7 and 8.3.
    """
    return _built(
        "optimal",
        rho_device,
        rho_server,
        power,
        f_device,
        f_server,
        objective,
        latency,
        energy,
        None,
        (t_device, t_tx, t_server, energy_device, energy_tx, energy_server,
         memory_bound_device > 0, memory_bound_server > 0),
    )  # fmt: skip


def _parts(
    t_device: float,
    t_tx: float,
    t_server: float,
    energy_device: float,
    energy_tx: float,
    energy_server: float,
    memory_bound_device: float,
    memory_bound_server: float,
) -> tuple:
    """The breakdown as the answer holds it: plain floats, and the memory-bound flags as bools."""
    return (
        float(t_device),
        float(t_tx),
        float(t_server),
        float(energy_device),
        float(energy_tx),
        float(energy_server),
        bool(memory_bound_device),
        bool(memory_bound_server),
    )


def _built(
    status: str,
    rho_device: float | None,
    rho_server: float | None,
    power: float | None,
    f_device: float | None,
    f_server: float | None,
    objective: float | None,
    latency: float | None,
    energy: float | None,
    reason: str | None,
    parts: tuple,
) -> Solution:
    """A :class:`Solution` built without the frozen dataclass's ``__init__``.

    That ``__init__`` sets each of the eighteen fields by ``object.__setattr__``, about half of what building the
    answers of :func:`coinfer.optimise.solve_batch` costs per instance; one instance ``__dict__`` holds the
    same values (equality, hashing, ``repr`` and ``as_dict`` read the fields alike).
    """
    solution = _new(Solution)
    t_device, t_tx, t_server, energy_device, energy_tx, energy_server, bound_device, bound_server = parts
    _set(
        solution,
        "__dict__",
        {
            "status": status,
            "rho_device": rho_device,
            "rho_server": rho_server,
            "power": power,
            "f_device": f_device,
            "f_server": f_server,
            "objective": objective,
            "latency": latency,
            "energy": energy,
            "reason": reason,
            "t_device": t_device,
            "t_tx": t_tx,
            "t_server": t_server,
            "energy_device": energy_device,
            "energy_tx": energy_tx,
            "energy_server": energy_server,
            "memory_bound_device": bound_device,
            "memory_bound_server": bound_server,
        },
    )
    return solution


_new, _set = object.__new__, object.__setattr__


# --- the polish and the answer's numbers, on the model's numbers m (coinfer.model.arithmetic) and a decision d, the
# array (rho_d, rho_s, power, f_d, f_s) ---


@jcompile()
def _terms(m, d):
    """``(latency, energy, objective)`` of the decision ``d`` (:func:`coinfer.model.arithmetic.decision_terms`)."""
    terms = decision_terms(m, d[0], d[1], d[2], d[3], d[4])
    return terms[0], terms[1], terms[2]


@jcompile()
def polish_numbers(m, d, latency, energy, objective):
    """Make the (nearly) optimal decision ``d`` feasible in the original variables, in place (model.md section 5.3).

    Solver roots and conic tolerances leave residuals of a few ulps (or ~1e-9 for cvxpy). Power and frequencies
    are clipped to their limits, ratios to ``[0, rho_max]`` (a shared ratio to the larger of the two). With the
    resources fixed, latency and energy are affine in each side's kept work ``a (1 - rho)``, so what is left of a
    violation is removed by pruning a little more on the side (both sides, for a shared ratio) where that costs
    the least distortion per unit of violation removed; up to six rounds.

    Parameters
    ----------
    m : array
        The model's numbers (:func:`coinfer.model.arithmetic.derive_model`).
    d : array of 5 floats
        ``rho_d, rho_s`` [dimensionless], ``power`` [W], ``f_d, f_s`` [Hz]; changed in place.
    latency, energy, objective : float
        ``d``'s terms (:func:`coinfer.model.arithmetic.decision_terms`) [s, J, the weights' unit].

    Returns
    -------
    tuple
        ``(met, latency, energy, objective)`` of the polished ``d``; ``met`` False when a violation is left (the
        terms are then those of the last decision that was checked).
    """
    rho_max = m[RHO_MAX]
    given = d.copy()
    d[0] = min(max(d[0], 0.0), rho_max)
    d[1] = min(max(d[1], 0.0), rho_max)
    d[2] = min(max(d[2], 0.0), m[PMAX])
    d[3] = min(d[3], m[FMAX_D])
    d[4] = min(d[4], m[FMAX_S])
    if m[PHYS]:
        d[3] = max(d[3], m[FMIN_D])
        d[4] = max(d[4], m[FMIN_S])
    if m[SHARED] and d[0] != d[1]:
        d[0] = d[1] = max(d[0], d[1])
    if (d != given).any():  # the clipping moved the decision
        latency, energy, objective = _terms(m, d)
    if meets_constraints(m, d[0], d[1], d[2], d[3], d[4], latency, energy):  # the common case
        return True, latency, energy, objective
    for attempt in range(6):
        if attempt:
            latency, energy, objective = _terms(m, d)
            if meets_constraints(m, d[0], d[1], d[2], d[3], d[4], latency, energy):
                return True, latency, energy, objective
        need_t = max(latency - m[T0], 0.0)
        need_e = max(energy - m[E0], 0.0)
        if need_t == 0 and need_e == 0:
            break  # a box violation that clipping cannot fix
        best_cost, best_side, best_step = math.inf, -1, 0.0
        for side in range(1 if m[SHARED] else 2):
            # a shared ratio moves both sides (one group); else each side is its own group
            tau = eps = price_sum = 0.0  # time and energy removed per unit of ratio, distortion added
            for i in range(2) if m[SHARED] else range(side, side + 1):
                if m[PHYS]:
                    t_slope, e_slope = _physical_slopes(m, i, d[i], d[3 + i])
                    tau += t_slope
                    if i == 0 or m[COUNTED_S]:
                        eps += e_slope
                    continue
                tau += m[A_D + i] / d[3 + i]
                if i == 0 or m[COUNTED_S]:
                    eps += m[K_D + i] * m[A_D + i] * (d[3 + i] * d[3 + i])
            room = rho_max - d[side]
            if room <= 0 or (need_t > 0 and tau <= 0) or (need_e > 0 and eps <= 0):
                continue
            step = max(need_t / tau if need_t > 0 else 0.0, need_e / eps if need_e > 0 else 0.0)
            step = step * (1 + 1e-9) + 4e-16
            for i in range(2) if m[SHARED] else range(side, side + 1):
                price_sum += m[PARAMS_D + i] * m[SCALE_D + i] * distortion_slope(m, min(d[i] + step, rho_max))
            cost = (price_sum + 1e-300) * step
            if cost < best_cost or best_side < 0:  # ties: the device side, the first looked at
                best_cost, best_side, best_step = cost, side, min(step, room)
        if best_side < 0:
            break
        for i in range(2) if m[SHARED] else range(best_side, best_side + 1):
            d[i] = min(d[i] + best_step, rho_max)
    return False, latency, energy, objective


@jcompile()
def _physical_slopes(m, i, rho, f):
    """Time [s] and energy [J] one side saves per unit of ratio at the frequency ``f`` (model.md section 2.7):
    ``a / f`` while compute takes longer than the weights' memory time, else the memory time's slope; the
    dynamic, static and memory energy with them."""
    work = m[A_D + i] * (1 - rho) + m[G_D + i]
    memory = m[MEM_T_D + i] * (1 - rho) + m[MEM_T0_D + i]
    t_slope = m[A_D + i] / f if work / f >= memory else m[MEM_T_D + i]
    return t_slope, m[K_D + i] * m[A_D + i] * (f * f) + m[STATIC_D + i] * t_slope + m[MEM_E_D + i]


@jcompile()
def finish_decision(m, d):
    """The answer's numbers of the (nearly) optimal decision ``d``, in place: its canonical values
    (:func:`coinfer.model.arithmetic.canonicalise`; variables the polish never moves), its terms, and the polish
    (:func:`polish_numbers`) when it breaks a constraint at relative tolerance 0.

    Returns ``(met, latency, energy, objective)`` as :func:`polish_numbers` does [s, J, the weights' unit].
    """
    canonicalise(m, d)
    latency, energy, objective = _terms(m, d)
    if meets_constraints(m, d[0], d[1], d[2], d[3], d[4], latency, energy):
        return True, latency, energy, objective
    return polish_numbers(m, d, latency, energy, objective)


# --- the same from Python ---


def _values(decision: Decision) -> np.ndarray:
    """The decision as the array ``(rho_d, rho_s, power, f_d, f_s)`` the compiled functions take."""
    d = decision
    return np.array((d.rho_device, d.rho_server, d.power, d.f_device, d.f_server), dtype=float)


def polish(problem: Problem, decision: Decision) -> Decision:
    """Make a (nearly) optimal decision feasible in the original variables (model.md sections 2, 5.3).

    Clips power and frequencies to their limits and removes residual violations by pruning a little more
    where that costs the least distortion (:func:`polish_numbers`); canonical values are not applied.

    Parameters
    ----------
    problem : Problem
    decision : Decision
        Ratios [dimensionless], power [W], frequencies [Hz].

    Returns
    -------
    Decision
        The polished decision (the given one where it breaks no constraint).
    """
    m, d = problem.numbers, _values(decision)
    latency, energy, objective = decision_terms(m, d[0], d[1], d[2], d[3], d[4])[:3]
    polish_numbers(m, d, latency, energy, objective)
    return Decision(*d.tolist())


def _breakdown(problem: Problem, d: Sequence[float]) -> tuple:
    """The per-part breakdown of the decision ``d`` (``rho_d, rho_s, power, f_d, f_s``): the last eight terms of
    :func:`coinfer.model.arithmetic.decision_terms` (:func:`coinfer.model.system.evaluate`'s), as the answer holds
    them."""
    terms = decision_terms(problem.numbers, float(d[0]), float(d[1]), float(d[2]), float(d[3]), float(d[4]))
    return _parts(*terms[3:11])


def answer(problem: Problem, decision: Decision, note: str | None = None) -> Solution:
    """The :class:`Solution` of a (nearly) optimal decision: canonical values, polish, terms (:func:`finish_decision`).

    Parameters
    ----------
    problem : Problem
    decision : Decision
        Ratios [dimensionless], power [W], frequencies [Hz].
    note : str, optional
        The answer's ``reason`` (e.g. a conic solver's inaccurate status).

    Returns
    -------
    Solution
        ``"optimal"``; ``"solver_error"`` with the violations when the polish cannot remove them (see
        :func:`settled`).
    """
    d = _values(decision)
    met, latency, energy, objective = finish_decision(problem.numbers, d)
    return settled(problem, met, d.tolist(), objective, latency, energy, note)


def settled(
    problem: Problem,
    met: bool,
    d: Sequence[float],
    objective: float,
    latency: float,
    energy: float,
    note: str | None = None,
) -> Solution:
    """The :class:`Solution` of a finished decision ``d`` (:func:`finish_decision`'s numbers).

    Where the polish met every constraint at relative tolerance 0 (``met``), ``d`` is optimal with the given
    terms [the weights' unit, s, J]. Else :func:`coinfer.model.system.evaluate` judges it at its default tolerance:
    ``"optimal"`` with its numbers if it finds no violation, otherwise ``"solver_error"`` with the violations:
    a solver never calls a point optimal that breaks a constraint, however slightly.

    Parameters
    ----------
    problem : Problem
        The problem the decision is for.
    met : bool
        Whether the polish met every constraint at relative tolerance 0.
    d : sequence of float
        The decision ``(rho_d, rho_s, power, f_d, f_s)`` [-, -, W, Hz, Hz].
    objective : float
        Its distortion [the weights' unit].
    latency : float
        Its latency [s].
    energy : float
        Its energy, per the problem's energy scope [J].
    note : str, optional
        The answer's ``reason`` (e.g. a conic solver's inaccurate status); violations are appended to it.

    Returns
    -------
    Solution
        ``"optimal"`` or ``"solver_error"``, with the per-part breakdown.

    References
    ----------
    docs/model.md, sections 5.3 and 8.3.
    """
    rho_d, rho_s, power, f_d, f_s = (float(v) for v in d)
    parts = _breakdown(problem, (rho_d, rho_s, power, f_d, f_s))
    if met:
        return _built(
            "optimal", rho_d, rho_s, power, f_d, f_s, float(objective), float(latency), float(energy), note, parts
        )
    ev = evaluate(problem, Decision(rho_d, rho_s, power, f_d, f_s))
    status, reason = "optimal", note
    if ev.violations:
        status = "solver_error"
        reason = ((note + "; ") if note else "") + "residual violation: " + "; ".join(ev.violations)
    return _built(status, rho_d, rho_s, power, f_d, f_s, ev.objective, ev.latency, ev.energy, reason, parts)


# --- reasons of infeasible answers (model.md section 5.7) ---


def limits_text(runs: tuple[bool, bool], fmax: tuple[float, float], sent: bool, p_max: float) -> str:
    """The resource limits of the sides that run and of the uplink, as the reasons of infeasible answers name them.

    Parameters
    ----------
    runs : tuple of bool
        Whether the device and the server run any cycles.
    fmax : tuple of float
        The CPU frequency caps of device and server [Hz].
    sent : bool
        Whether the split sends a feature.
    p_max : float
        The transmit power cap [W].

    Returns
    -------
    str
        ``name=value unit`` items separated by commas, or ``"no workload"``.

    References
    ----------
    docs/model.md, section 5.7.
    """
    parts = []
    if runs[0]:
        parts.append(f"f_device_max={fmax[0]:.4g} Hz")
    if runs[1]:
        parts.append(f"f_server_max={fmax[1]:.4g} Hz")
    if sent:
        parts.append(f"p_max={p_max:.4g} W")
    return ", ".join(parts) if parts else "no workload"


def problem_limits(problem: Problem) -> str:
    """:func:`limits_text` of ``problem``, plus the physical limits that bound its latency floor.

    Those are each running side's finite memory bandwidth (where it reads weights) and the access latency (where
    something is sent). The paper's model has none, so its text is :func:`limits_text`'s.

    Parameters
    ----------
    problem : Problem
        The problem.

    Returns
    -------
    str
        ``name=value unit`` items separated by commas.

    References
    ----------
    docs/model.md, sections 2.7 and 5.7.
    """
    p = problem
    runs = (sum(p.cycles("device")) > 0, sum(p.cycles("server")) > 0)
    text = limits_text(runs, (p.f_device_max, p.f_server_max), p.feature_bits > 0, p.p_max)
    extra = []
    for i, side in enumerate(("device", "server")):
        bandwidth = getattr(p, f"memory_bandwidth_{side}")
        if runs[i] and math.isfinite(bandwidth) and sum(p.memory_bits(side)) > 0:
            extra.append(f"memory_bandwidth_{side}={bandwidth:.4g} bit/s")
    if p.feature_bits > 0 and p.access_latency > 0:
        extra.append(f"access_latency={p.access_latency:.4g} s")
    return ", ".join([text, *extra]) if extra else text


def latency_floor_reason(floor_t: float, rho_max: float, limits: str, latency_budget: float) -> str:
    """The ``reason`` of a problem whose latency floor exceeds its budget.

    Parameters
    ----------
    floor_t : float
        The latency floor: the latency with every side that has work pruned at ``rho_max`` and run at maximum
        resources [s].
    rho_max : float
        The largest pruning ratio [dimensionless].
    limits : str
        The limits that bound the floor (:func:`problem_limits`).
    latency_budget : float
        The latency budget [s].

    Returns
    -------
    str
        The reason.

    References
    ----------
    docs/model.md, section 5.7.
    """
    return (
        f"latency floor {floor_t:.10g} s at rho_max={rho_max:g}, {limits} "
        f"exceeds latency_budget {latency_budget:.10g} s"
    )


def energy_floor_reason(e_min: float, scope: str, rho_max: float, latency_budget: float, energy_budget: float) -> str:
    """The ``reason`` of a problem whose energy floor exceeds its energy budget.

    Parameters
    ----------
    e_min : float
        The energy floor: the least energy at ``rho_max`` that still meets the latency budget [J].
    scope : str
        The energy scope (``device`` or ``system``).
    rho_max : float
        The largest pruning ratio [dimensionless].
    latency_budget : float
        The latency budget [s].
    energy_budget : float
        The energy budget [J].

    Returns
    -------
    str
        The reason.

    References
    ----------
    docs/model.md, section 5.7.
    """
    return (
        f"energy floor {e_min:.10g} J ({scope}) at rho_max={rho_max:g} within "
        f"latency_budget {latency_budget:.10g} s exceeds energy_budget {energy_budget:.10g} J"
    )
