"""The system model's arithmetic on plain numbers, written once (model.md sections 2, 4, 5.1, 8.4).

A :class:`coinfer.model.system.Problem` becomes a row of floats (:func:`problem_row`:
its numeric fields in :data:`ROW_FIELDS` order, a code of its four choices,
and the end of the flat region of ``D_LB``), and a row becomes the model's
numbers ``m`` (:func:`derive_model`; ``Problem.numbers``): each side's cycles
``W(rho) = a (1 - rho) + g`` (model.md section 2.3), its energy per cycle and
Hz^2 ``k = eta psi``, the objective's weights, the uplink's noise power, the
flat point and the ratios of the latency floor; and the terms of the physical
model (model.md section 2.7): each side's frequency floor, static power, weight
bits read per inference ``M(rho)`` as memory time ``M / BW`` and memory energy,
the uplink's access latency and circuit power, and a flag ``PHYS`` that is 0
exactly when every one of them is at its zero value (the paper's model, whose
arithmetic is then the old one, bit for bit). On these numbers,
:func:`decision_terms` gives a decision's latency, energy and objective in the
original variables (model.md sections 2, 5.1), :func:`meets_constraints`
whether it breaks no constraint, :func:`canonicalise` the canonical values of
the variables without effect (section 8.4), :func:`distortion_per_weight` and
:func:`distortion_slope` the distortion per weight and its derivative in the
ratio (section 4).

These are the only copies. :mod:`coinfer.model.system` calls them from Python
(``evaluate``, ``objective_value``, ``unit_distortion``, the canonical values);
the solvers of :mod:`coinfer.optimise` call them inside their compiled steps,
on the first :data:`MODEL_WIDTH` slots of their own arrays. Each function is
decorated with :func:`coinfer.base.jit.jcompile`: compiled by numba (and cached on
disk), or plain Python with ``COINFER_JIT=0``. Powers are products (``f * f``)
or float powers (``x**3.0``): numba computes an integer power by repeated
multiplication, which differs from ``pow`` in the last bit, and a float power
by ``pow`` as Python does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import chain, starmap
from operator import attrgetter
from typing import Any

import numpy as np

from coinfer.base.jit import jcompile

__all__ = [
    "LN2",
    "MODEL_WIDTH",
    "ROW_FIELDS",
    "ROW_WIDTH",
    "canonicalise",
    "choices_code",
    "decision_terms",
    "derive_model",
    "distortion_per_weight",
    "distortion_slope",
    "flat_end",
    "meets_constraints",
    "model_numbers",
    "model_numbers_rows",
    "objective",
    "problem_row",
    "problem_rows",
]

#: ln 2 (a global of compiled code is frozen into its machine code when it is compiled).
LN2 = math.log(2.0)

# --- a problem as a row of floats: its numeric fields in this order, its choices code, the flat end ---
ROW_FIELDS = (
    "latency_budget", "energy_budget", "rho_max", "bits_per_weight", "shared_ratio",
    "flops_device", "flops_server", "flops_device_fixed", "flops_server_fixed",
    "flops_per_cycle_device", "flops_per_cycle_server", "sparse_efficiency_device", "sparse_efficiency_server",
    "sparse_overhead_device", "sparse_overhead_server", "f_device_max", "f_server_max",
    "pue_device", "pue_server", "psi_device", "psi_server", "params_device", "params_server",
    "scale_device", "scale_server", "feature_bits", "bandwidth", "noise_psd", "channel_gain", "p_max",
    "f_device_min", "f_server_min", "static_power_device", "static_power_server", "memory_energy_device",
    "memory_energy_server", "memory_bandwidth_device", "memory_bandwidth_server", "access_latency", "circuit_power",
)  # fmt: skip
(R_T0, R_E0, R_RHO_MAX, R_Q, R_SHARED, R_FLOPS, _, R_FIXED, _, R_PER_CYCLE, _, R_EFFICIENCY, _, R_OVERHEAD, _,
 R_FMAX, _, R_PUE, _, R_PSI, _, R_PARAMS, _, R_SCALE, _, R_S_BITS, R_BANDWIDTH, R_NOISE_PSD, R_GAIN,
 R_PMAX, R_FMIN, _, R_STATIC, _, R_MEMORY_ENERGY, _, R_MEMORY_BANDWIDTH, _, R_ACCESS,
 R_CIRCUIT) = range(len(ROW_FIELDS))  # fmt: skip  # device at R_*, server at R_* + 1
R_CHOICES, R_FLAT_END = len(ROW_FIELDS), len(ROW_FIELDS) + 1
ROW_WIDTH = len(ROW_FIELDS) + 2

# --- the model's numbers, slots of `m`; the pairs (device, server) are adjacent, server at the device slot + 1 ---
T0, E0, RHO_MAX, Q, MAG, SHARED = 0, 1, 2, 3, 4, 5  # budgets (s, J), rho_max, bits per weight, magnitude?, shared?
A_D, A_S, G_D, G_S = 6, 7, 8, 9  # cycles W(rho) = a (1 - rho) + g of each side (Problem.cycles)
FMAX_D, FMAX_S, K_D, K_S, COUNTED_S = 10, 11, 12, 13, 14  # f_max (Hz), eta psi (J/(cycle Hz^2)), server counted?
C_D, C_S = 15, 16  # the objective's weight of each side's distortion per weight, N_i b_i / N
S_BITS, BANDWIDTH, NOISE, PMAX = 17, 18, 19, 20  # feature bits, B (Hz), noise power N0 B / g (W), P_max (W)
FLAT_END, PARAMS_D, PARAMS_S, SCALE_D, SCALE_S = 21, 22, 23, 24, 25  # rho0(q), N_i, b_i
FLAT_D, FLAT_S, TOP_D, TOP_S = 26, 27, 28, 29  # the flat point; the ratios of the latency floor
# The physical model (model.md section 2.7), 0 in the paper's model: per side the frequency floor (Hz), the static
# power (W, times the PUE), the memory energy (J, times the PUE) and memory time (s) of the weights read, per unit
# of kept fraction (ideal, sparse: M = q N (1 - rho)) and fixed (dense: M = q N); the uplink's access latency (s)
# and circuit power (W) where something is sent; PHYS: 1 where any of them is not 0.
FMIN_D, FMIN_S, STATIC_D, STATIC_S = 30, 31, 32, 33
MEM_E_D, MEM_E_S, MEM_E0_D, MEM_E0_S, MEM_T_D, MEM_T_S, MEM_T0_D, MEM_T0_S = 34, 35, 36, 37, 38, 39, 40, 41
T_ACCESS, P_CIRCUIT, PHYS = 42, 43, 44
MODEL_WIDTH = 45


@lru_cache(maxsize=128)
def flat_end(q: int) -> float:
    """End ``rho0`` of the flat region of ``D_LB``: the root of ``h2(rho) = rho q`` in (0, 1) (model.md section 4.3).

    For ``rho <= rho0`` the dense ``q``-bit store is cheaper than mask plus
    values, so ``D_LB = b 2^-q`` there.

    Parameters
    ----------
    q : int
        Bits per kept weight.

    Returns
    -------
    float
        ``rho0`` (a ratio, dimensionless).
    """

    from scipy.optimize import brentq  # here: importing scipy.optimize costs 0.25 s, and this runs once per q

    def excess(rho: float) -> float:
        h2 = -(rho * math.log2(rho) + (1 - rho) * math.log1p(-rho) / LN2)  # log1p: rho can be ~1e-19
        return h2 - rho * q

    return brentq(excess, 1e-300, 1 - 1e-16, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


@cache
def choices_code(distortion_model: str, energy_scope: str, compute_model_device: str, compute_model_server: str) -> int:
    """The row's code of a problem's four choices: bit 1 ``magnitude``, 2 energy scope ``system``; the device's
    execution model 4 ``dense``, 8 ``sparse``, the server's 16 ``dense``, 32 ``sparse`` (``ideal`` has neither)."""
    magnitude, system_scope = distortion_model == "magnitude", energy_scope == "system"
    code = magnitude | 2 * system_scope
    for shift, model in ((2, compute_model_device), (4, compute_model_server)):
        code |= ((model == "dense") | 2 * (model == "sparse")) << shift
    return code


#: The numeric fields of a row, read in one call.
_row_numbers = attrgetter(*ROW_FIELDS)
_choices = attrgetter("distortion_model", "energy_scope", "compute_model_device", "compute_model_server")


def problem_row(problem: Any) -> np.ndarray:
    """The row of floats of one problem that the compiled model reads.

    :data:`ROW_FIELDS`, the choices code
    (:func:`choices_code`) and the flat end (:func:`flat_end`; 0 for ``magnitude``, which has no flat region).

    Parameters
    ----------
    problem : Problem
        A :class:`coinfer.model.system.Problem`.

    Returns
    -------
    numpy.ndarray
        :data:`ROW_FIELDS` in their problem-file units (SI), then the choices code and the flat end [1].

    References
    ----------
    docs/model.md, sections 2 and 8.
    """
    p = problem
    flat = 0.0 if p.distortion_model == "magnitude" else flat_end(p.bits_per_weight)
    return np.array((*_row_numbers(p), choices_code(*_choices(p)), flat), dtype=float)


def problem_rows(problems: Sequence[Any]) -> np.ndarray:
    """The rows of :func:`problem_row` of many problems, as one array.

    One pass over the problems per kind of column, straight into the array: the batch solver builds thousands.

    Parameters
    ----------
    problems : sequence of Problem
        The problems, in order.

    Returns
    -------
    numpy.ndarray
        One row per problem, columns as :func:`problem_row` (SI units).

    References
    ----------
    docs/model.md, sections 2 and 8.
    """
    n = len(problems)
    rows = np.empty((n, ROW_WIDTH))
    fields = len(ROW_FIELDS)
    numbers = np.fromiter(chain.from_iterable(map(_row_numbers, problems)), float, n * fields)
    rows[:, :fields] = numbers.reshape(n, fields)
    rows[:, R_CHOICES] = np.fromiter(starmap(choices_code, map(_choices, problems)), float, n)
    # The flat end per bits-per-weight value (scalar, cached); magnitude has no flat region.
    q = rows[:, R_Q]
    qs = sorted(set(q.astype(int).tolist()))
    ends = np.array([flat_end(qi) for qi in qs])[np.searchsorted(np.array(qs, dtype=float), q)]
    rows[:, R_FLAT_END] = np.where(rows[:, R_CHOICES].astype(int) & 1 > 0, 0.0, ends)
    return rows


def model_numbers(problem: Any) -> np.ndarray:
    """The model's numbers ``m`` of one problem, a fresh array.

    :func:`derive_model` of its :func:`problem_row`, :data:`MODEL_WIDTH` floats (``Problem.numbers`` holds a
    read-only copy, computed once).

    Parameters
    ----------
    problem : Problem
        A :class:`coinfer.model.system.Problem`.

    Returns
    -------
    numpy.ndarray
        :data:`MODEL_WIDTH` floats in the units of :func:`derive_model` (SI).

    References
    ----------
    docs/model.md, section 2.7.
    """
    m = np.empty(MODEL_WIDTH)
    derive_model(problem_row(problem), m)
    return m


def model_numbers_rows(rows: np.ndarray) -> np.ndarray:
    """The model's numbers ``m`` of many problem rows at once: :func:`derive_model` of each row, in one compiled call.

    Row ``i`` of the result equals :func:`model_numbers` of the problem whose :func:`problem_row` is ``rows[i]``
    (the same compiled arithmetic), without a Python call per row.

    Parameters
    ----------
    rows : numpy.ndarray
        Rows of :func:`problem_rows`, one per problem [SI units of each field].

    Returns
    -------
    numpy.ndarray
        ``(len(rows), MODEL_WIDTH)`` floats [SI units of :func:`derive_model`'s numbers].

    References
    ----------
    docs/model.md, section 2.7.
    """
    rows = np.ascontiguousarray(rows, dtype=float)
    m = np.empty((rows.shape[0], MODEL_WIDTH))
    _derive_models(rows, m)
    return m


@jcompile()
def _derive_models(rows, m):
    """:func:`derive_model` of every row of ``rows`` into the same row of ``m``."""
    for i in range(rows.shape[0]):
        derive_model(rows[i], m[i])


@jcompile()
def derive_model(row, m):
    """Fill the first :data:`MODEL_WIDTH` slots of ``m`` with the model's numbers of the problem ``row``.

    The cycles per side follow that side's execution model (model.md section 2.3): ``ideal`` ``a = F / c``,
    ``g = G / c``; ``dense`` (zeros are computed) ``a = 0``, ``g = (F + G) / c``; ``sparse`` ``a = F / (e c)``,
    ``g = (G + F0) / c``, the overhead ``F0`` paid only where ``F > 0``. The flat point (model.md section 5.3):
    every ratio at the end of the flat region (0 for ``magnitude``), except that a side with FLOPs but no
    parameters is pruned at ``rho_max`` (free in the objective). The ratios of the latency floor (section 5.7):
    ``rho_max`` on every side with work to prune, the flat point elsewhere (one ratio for both sides when it is
    shared). The physical terms (section 2.7): the weight bits read per inference ``M = q N (1 - rho)`` (``ideal``,
    ``sparse``) or ``q N`` (``dense``) where the side's weights are used (``F > 0``), as memory time ``M / BW`` and
    memory energy ``eta e_mem M``; static power ``eta P_static`` and the frequency floor on a side that runs
    something; access latency and circuit power where something is sent.
    """
    m[T0], m[E0], m[RHO_MAX], m[Q], m[SHARED] = row[R_T0], row[R_E0], row[R_RHO_MAX], row[R_Q], row[R_SHARED]
    choices = int(row[R_CHOICES])
    m[MAG], m[COUNTED_S] = choices & 1, (choices & 2) >> 1
    physical = False
    for i in range(2):
        execution = (choices >> (2 + 2 * i)) & 3  # 1 dense, 2 sparse, 0 ideal
        flops, fixed, per_cycle = row[R_FLOPS + i], row[R_FIXED + i], row[R_PER_CYCLE + i]
        if execution == 1:  # dense: pruned weights are computed anyway
            m[A_D + i], m[G_D + i] = 0.0, (flops + fixed) / per_cycle
        elif execution == 2:  # sparse: sparse kernels at an efficiency, with an overhead where they run
            overhead = row[R_OVERHEAD + i] if flops > 0 else 0.0
            m[A_D + i] = flops / (row[R_EFFICIENCY + i] * per_cycle)
            m[G_D + i] = (fixed + overhead) / per_cycle
        else:
            m[A_D + i], m[G_D + i] = flops / per_cycle, fixed / per_cycle
        m[FMAX_D + i] = row[R_FMAX + i]
        m[K_D + i] = row[R_PUE + i] * row[R_PSI + i]
        m[PARAMS_D + i], m[SCALE_D + i] = row[R_PARAMS + i], row[R_SCALE + i]
        # the physical terms of this side
        runs = m[A_D + i] + m[G_D + i] > 0
        m[FMIN_D + i] = row[R_FMIN + i]
        m[STATIC_D + i] = row[R_PUE + i] * row[R_STATIC + i] if runs else 0.0
        bits = row[R_Q] * row[R_PARAMS + i] if flops > 0 else 0.0  # weight bits read by a dense inference
        seconds, joules = bits / row[R_MEMORY_BANDWIDTH + i], row[R_PUE + i] * row[R_MEMORY_ENERGY + i] * bits
        kept = 0 if execution == 1 else 1  # dense reads every weight whatever the ratio
        m[MEM_T_D + i], m[MEM_T0_D + i] = seconds * kept, seconds * (1 - kept)
        m[MEM_E_D + i], m[MEM_E0_D + i] = joules * kept, joules * (1 - kept)
        physical = physical or (runs and (m[FMIN_D + i] > 0 or m[STATIC_D + i] > 0)) or seconds > 0 or joules > 0
    total = m[PARAMS_D] + m[PARAMS_S]
    m[C_D], m[C_S] = m[PARAMS_D] / total * m[SCALE_D], m[PARAMS_S] / total * m[SCALE_S]
    m[S_BITS], m[BANDWIDTH], m[PMAX] = row[R_S_BITS], row[R_BANDWIDTH], row[R_PMAX]
    m[NOISE] = row[R_NOISE_PSD] * row[R_BANDWIDTH] / row[R_GAIN]
    sends = m[S_BITS] > 0
    m[T_ACCESS] = row[R_ACCESS] if sends else 0.0
    m[P_CIRCUIT] = row[R_CIRCUIT] if sends else 0.0
    m[PHYS] = 1.0 if physical or m[T_ACCESS] > 0 or m[P_CIRCUIT] > 0 else 0.0
    m[FLAT_END] = row[R_FLAT_END]
    rho_max, a_d, a_s = m[RHO_MAX], m[A_D], m[A_S]
    flat = min(0.0 if m[MAG] else m[FLAT_END], rho_max)
    if m[SHARED]:
        m[FLAT_D] = m[FLAT_S] = flat
        m[TOP_D] = m[TOP_S] = rho_max if a_d > 0 or a_s > 0 else flat
    else:
        # A side without parameters is pruned for free; a side without FLOPs gains nothing from pruning.
        m[FLAT_D] = rho_max if m[C_D] == 0 and a_d > 0 else flat
        m[FLAT_S] = rho_max if m[C_S] == 0 and a_s > 0 else flat
        m[TOP_D] = rho_max if a_d > 0 else m[FLAT_D]
        m[TOP_S] = rho_max if a_s > 0 else m[FLAT_S]


@jcompile()
def distortion_per_weight(rho, magnitude, q):
    """``D_model(rho; b) / b`` for one ratio (model.md section 4; scalar form of :mod:`coinfer.model.rate_distortion`).

    ``rd_bound``: ``2^-min(h2(rho) + (1 - rho) q, q)``; ``magnitude`` (``magnitude`` true):
    ``rho + (1 - rho) ln(1 - rho)``, by its series below ``rho = 1e-3``, where the closed form cancels.
    """
    if magnitude:
        if rho < 1e-3:
            # rho + (1 - rho) ln(1 - rho) = sum_k rho^k / (k (k - 1)), k = 2..8: no cancellation near 0.
            return (
                rho * rho / 2 + rho**3.0 / 6 + rho**4.0 / 12 + rho**5.0 / 20 + rho**6.0 / 30 + rho**7.0 / 42
                + rho**8.0 / 56
            )  # fmt: skip
        return rho + ((1.0 - rho) * math.log1p(-rho) if rho < 1.0 else 0.0)
    entropy_nats = -(rho * math.log(rho) if rho > 0 else 0.0) - ((1.0 - rho) * math.log1p(-rho) if rho < 1.0 else 0.0)
    return math.exp(-min(entropy_nats + LN2 * q * (1.0 - rho), LN2 * q))


@jcompile()
def distortion_slope(m, rho):
    """Right derivative in ``rho`` of ``D_model(rho; b) / b`` (model.md section 4): ``-ln(1 - rho)``
    (``magnitude``); 0 on the flat region of ``rd_bound``, beyond it ``D(rho) (logit(rho) + q ln 2)``."""
    if m[MAG]:
        return -math.log1p(-rho)
    if rho < m[FLAT_END]:
        return 0.0
    z = math.log(rho / (1 - rho)) + m[Q] * LN2
    return distortion_per_weight(rho, m[MAG], m[Q]) * z


@jcompile()
def objective(m, rho_d, rho_s):
    """The parameter-weighted mean distortion ``D(rho_d, rho_s)`` of model.md section 5.1 (the weights' unit)."""
    value = 0.0
    if m[PARAMS_D] > 0:
        value += m[PARAMS_D] * m[SCALE_D] * distortion_per_weight(rho_d, m[MAG], m[Q])
    if m[PARAMS_S] > 0:
        value += m[PARAMS_S] * m[SCALE_S] * distortion_per_weight(rho_s, m[MAG], m[Q])
    return value / (m[PARAMS_D] + m[PARAMS_S])


@jcompile()
def decision_terms(m, rho_d, rho_s, power, f_d, f_s):
    """A decision's terms in the original variables (model.md sections 2, 5.1), without its constraint checks.

    ``power`` in W, frequencies in Hz. Returns ``(latency, energy, objective, t_device, t_tx, t_server,
    energy_device, energy_tx, energy_server, memory_bound_device, memory_bound_server)``: seconds, joules (``energy``
    counts the server's only with the ``system`` energy scope; ``energy_server`` is the server's whatever the scope),
    the weights' unit, and 1.0 where a side waits for its weights (memory time above compute time), else 0.0. Ratios
    are clipped to [0, 1] (the constraint checks report them); a side that runs nothing takes no time and energy;
    nothing sent takes none; a zero frequency or power where there is work takes forever. The physical terms
    (model.md section 2.7) are added only where the model has them (``PHYS``), so the paper's model keeps its
    arithmetic to the bit.
    """
    rho_d_c, rho_s_c = min(max(rho_d, 0.0), 1.0), min(max(rho_s, 0.0), 1.0)
    w_d = (1 - rho_d_c) * m[A_D] + m[G_D]
    w_s = (1 - rho_s_c) * m[A_S] + m[G_S]
    t_d = (w_d / f_d if f_d > 0 else math.inf) if w_d > 0 else 0.0
    t_s = (w_s / f_s if f_s > 0 else math.inf) if w_s > 0 else 0.0
    e_d = m[K_D] * w_d * f_d * f_d if w_d > 0 else 0.0
    e_s = m[K_S] * w_s * f_s * f_s if w_s > 0 else 0.0
    r = 0.0
    if m[S_BITS] > 0:
        r = m[BANDWIDTH] * math.log1p(power / m[NOISE]) / LN2 if power > 0 else 0.0  # bit/s
        t_tx = m[S_BITS] / r if r > 0 else math.inf
        e_tx = power * t_tx if r > 0 else math.inf
    else:
        t_tx = e_tx = 0.0
    bound_d = bound_s = 0.0
    if m[PHYS]:
        t_d, e_d, bound_d = _side_physical(m, 0, rho_d_c, w_d, t_d, e_d)
        t_s, e_s, bound_s = _side_physical(m, 1, rho_s_c, w_s, t_s, e_s)
        if m[S_BITS] > 0:
            if r > 0 and m[P_CIRCUIT] > 0:
                e_tx = (power + m[P_CIRCUIT]) * t_tx  # the radio's circuits draw while the bits are on air
            t_tx += m[T_ACCESS]
    latency = t_d + t_tx + t_s
    energy = e_d + e_tx + (e_s if m[COUNTED_S] else 0.0)
    return latency, energy, objective(m, rho_d_c, rho_s_c), t_d, t_tx, t_s, e_d, e_tx, e_s, bound_d, bound_s


@jcompile()
def _side_physical(m, i, rho, work, t, e):
    """One side's time and energy under the physical model (model.md section 2.7), from its compute time ``t``
    (``W / f``) and dynamic energy ``e`` at kept fraction ``1 - rho``: ``(time, energy, memory_bound)``. The side
    takes ``max(W / f, M / BW)``, draws its static power for that time and spends its memory energy; a side that
    runs nothing takes and spends nothing."""
    if not work > 0:
        return t, e, 0.0
    memory = m[MEM_T_D + i] * (1 - rho) + m[MEM_T0_D + i]
    bound = 0.0
    if memory > t:
        t, bound = memory, 1.0
    if m[STATIC_D + i] > 0:
        e += m[STATIC_D + i] * t
    if m[MEM_E_D + i] > 0 or m[MEM_E0_D + i] > 0:
        e += m[MEM_E_D + i] * (1 - rho) + m[MEM_E0_D + i]
    return t, e, bound


@jcompile()
def meets_constraints(m, rho_d, rho_s, power, f_d, f_s, latency, energy):
    """Whether the decision breaks no constraint of model.md section 2.6 at relative tolerance 0, given its
    ``latency`` (s) and ``energy`` (J) from :func:`decision_terms`."""
    rho_max = m[RHO_MAX]
    return (
        0.0 <= rho_d <= rho_max
        and 0.0 <= rho_s <= rho_max
        and not (m[SHARED] and rho_d != rho_s)
        and 0.0 <= power <= m[PMAX]
        and 0.0 < f_d <= m[FMAX_D]
        and 0.0 < f_s <= m[FMAX_S]
        and f_d >= m[FMIN_D]
        and f_s >= m[FMIN_S]
        and latency <= m[T0]
        and energy <= m[E0]
    )


@jcompile()
def canonicalise(m, d):
    """Set the variables of the decision ``d`` (``rho_d, rho_s, power, f_d, f_s``) that have no effect to their
    canonical values, in place (model.md section 8.4): ``rho = 0`` on a side with no prunable weights and no
    prunable work (and no shared ratio), ``power = 0`` when nothing is sent, ``f = f_max`` on a side that runs
    nothing."""
    if not m[SHARED]:
        if m[PARAMS_D] == 0 and m[A_D] == 0:
            d[0] = 0.0
        if m[PARAMS_S] == 0 and m[A_S] == 0:
            d[1] = 0.0
    if m[S_BITS] == 0:
        d[2] = 0.0
    if m[A_D] + m[G_D] == 0:
        d[3] = m[FMAX_D]
    if m[A_S] + m[G_S] == 0:
        d[4] = m[FMAX_S]
