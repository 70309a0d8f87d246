"""The fast solver's steps, compiled by numba (model.md section 5.3).

:func:`solve_row` (one problem, for :func:`coinfer.optimise.solve`) and
:func:`solve_rows` (many, for :func:`coinfer.optimise.solve_batch`) run the
algorithm described in ``solve``'s docstring: the floors, the least-distortion
point, the latency-only optimum, and where both budgets bind the joint 2-D
Newton with the nested roots as its fallback; then the answer (canonical
values, the decision's latency, energy and objective in the original
variables, and the polish when a budget is broken by a few ulps). A problem is
a row of plain numbers (the columns below), built by ``fast._row`` or
``batch._rows``; the building blocks (resources, times, energies, the
distortion slope and its inverse, the two-sided ratios) follow
:class:`coinfer.optimise.fast._Model` and :mod:`coinfer.optimise.slopes`
operation for operation, so the answers agree with the Python building blocks
to the last bit in practice. Warm starts and the points a root remembers live
in small arrays, and each safeguarded Newton iteration is a loop that asks
:func:`_newton_step` for its next point (numba passes no closures around).

Why compiled code: the same steps in Python take ~20-50 us per problem, and
over NumPy arrays each of their thousands of calls costs ~1-3 us whatever the
batch size (370x the conic reference at 300 problems); compiled, a problem
takes a few microseconds. The steps stay in this one file on purpose: numba's
cache of a compiled function watches only its own file, so a compiled callee in
another module could change without its callers being recompiled. With
``NUMBA_DISABLE_JIT=1`` this module runs as plain Python (slowly), for
debugging; there an overflow in ``math.exp`` raises, where the compiled code
carries ``inf`` on (and the steps treat it as an unbracketed root).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from coinfer.model.system import COMPUTE_MODELS, DISTORTION_MODELS, ENERGY_SCOPES

# numba freezes the globals a compiled function reads into its cached machine code, and its cache watches only
# this file: the constants it reads are defined here (tests check they equal solution._EDGE and system.LN2).
LN2 = 0.6931471805599453
#: Relative slack under which a budget counts as met exactly at its floor.
_EDGE = 1e-12

#: Evaluations of the KKT state after which the joint Newton gives up and the nested roots take over (most
#: instances converge within 4-8). Passed to the compiled code at each call, so a test may change it.
JOINT_NEWTON_EVALUATIONS = 32
#: Halvings of one joint Newton step before it gives up.
_HALVINGS = 10
#: How far inside both budgets (relative) the joint Newton aims when it converged just outside.
_INSIDE = 2e-15
#: Largest joint Newton step in ``x = ln nu`` and in ``y = ln`` multiplier (a trust region).
_MAX_STEP_X, _MAX_STEP_Y = 3.0, 20.0

# --- a problem row: the numeric Problem fields in this order, its CHOICES code, and the end of the flat region
# of D_LB at its bits per weight (fast._row, batch._rows) ---
ROW_FIELDS = (
    "latency_budget", "energy_budget", "rho_max", "bits_per_weight", "shared_ratio",
    "flops_device", "flops_server", "flops_device_fixed", "flops_server_fixed",
    "flops_per_cycle_device", "flops_per_cycle_server", "sparse_efficiency_device", "sparse_efficiency_server",
    "sparse_overhead_device", "sparse_overhead_server", "f_device_max", "f_server_max",
    "pue_device", "pue_server", "psi_device", "psi_server", "params_device", "params_server",
    "scale_device", "scale_server", "feature_bits", "bandwidth", "noise_psd", "channel_gain", "p_max",
)  # fmt: skip
(R_T0, R_E0, R_RHO_MAX, R_Q, R_SHARED, R_FLOPS, _, R_FIXED, _, R_PER_CYCLE, _, R_EFFICIENCY, _, R_OVERHEAD, _,
 R_FMAX, _, R_PUE, _, R_PSI, _, R_PARAMS, _, R_SCALE, _, R_S_BITS, R_BANDWIDTH, R_NOISE_PSD, R_GAIN,
 R_PMAX) = range(len(ROW_FIELDS))  # fmt: skip  # device at R_*, server at R_* + 1
R_CHOICES, R_FLAT_END = len(ROW_FIELDS), len(ROW_FIELDS) + 1
ROW_WIDTH = len(ROW_FIELDS) + 2

#: ``(distortion_model, energy_scope, compute_model)`` -> the row's CHOICES code: bit 1 magnitude, 2 system
#: energy scope, 4 dense, 8 sparse.
CHOICES = {
    (model, scope, compute): (model == "magnitude") | 2 * (scope == "system") | 4 * (compute == "dense")
    | 8 * (compute == "sparse")
    for model in DISTORTION_MODELS
    for scope in ENERGY_SCOPES
    for compute in COMPUTE_MODELS
}  # fmt: skip

# --- the model of one problem (fast._Model's fields), derived from its row by _derive: slots of `m` ---
T0, E0, RHO_MAX, Q, MAG, SHARED = 0, 1, 2, 3, 4, 5
A_D, A_S, G_D, G_S = 6, 7, 8, 9  # cycles W(rho) = a (1 - rho) + g of each side (coinfer.system.Problem.cycles)
FMAX_D, FMAX_S, K_D, K_S, COUNTED_S = 10, 11, 12, 13, 14
C_D, C_S, S_BITS, BANDWIDTH, NOISE, PMAX = 15, 16, 17, 18, 19, 20
FLAT_END, PARAMS_D, PARAMS_S, SCALE_D, SCALE_S = 21, 22, 23, 24, 25
RUNS_D, RUNS_S, U_MAX, NU_SAT_F_D, NU_SAT_F_S, NU_SAT_TX, NU_SAT = 26, 27, 28, 29, 30, 31, 32
FLAT_D, FLAT_S, TOP_D, TOP_S, TWO_PRUNED, RHO0, S0, SMAX, Z_MAX = 33, 34, 35, 36, 37, 38, 39, 40, 41
_WIDTH = 42

# --- the warm state of one solve, slots of `st`: the inverse slope's starting logits per side, the ratio
# multiplier's last root (a start for the next), and the ratios with their slopes at that root ---
GUESS_D, GUESS_S, Y_GUESS, LAST_VALID, LAST_Y, LAST_R_D, LAST_R_S, LAST_D_D, LAST_D_S = 0, 1, 2, 3, 4, 5, 6, 7, 8
MULT_GUESS_D, MULT_GUESS_S = 9, 10  # the fresh guesses of _multiplier_ratios
_STATE = 11
NO_GUESS = -1

#: Points a root remembers, to answer with the ratios it computed at its root: an inner root takes at most
#: 200 steps, the nested roots' outer search at most 412 evaluations (a fuller buffer only recomputes).
_SEEN, _PATH = 256, 1024

# --- the answer of one problem: codes, and the columns of `out` ---
#: TO_POLISH: the polish left a violation (the caller reports it); STEP4_FAILED: the nested roots found no
#: bracket of the energy budget along the path (seen only at absurd inputs, e.g. distortion weights 1e120 apart;
#: the caller reports a solver error instead of a wrong optimum).
OPTIMAL, INFEASIBLE_LATENCY, INFEASIBLE_ENERGY, TO_POLISH, STEP4_FAILED = 0, 1, 2, 3, 4
#: Which step of model.md section 5.3 settled an optimal or to-polish answer.
AT_FLOOR, LEAST_DISTORTION, LATENCY_ONLY, JOINT_NEWTON, NESTED_ROOTS = 0, 1, 2, 3, 4
O_RHO_D, O_RHO_S, O_POWER, O_F_D, O_F_S, O_OBJECTIVE, O_LATENCY, O_ENERGY, O_FLOOR_T, O_E_MIN = range(10)
OUT_WIDTH = 10


# --- the uplink ---


@njit(cache=True)
def _lambert_w0(x):
    """Principal branch of Lambert W for ``x >= -1/e`` (Halley's iteration)."""
    if x < -1 / math.e:
        x = -1 / math.e
    if x < -0.3:
        p = math.sqrt(max(2.0 * (math.e * x + 1.0), 0.0))
        w = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p**3.0
    elif x < 3.0:
        w = math.log1p(x) * (1 - math.log1p(math.log1p(x)) / (2 + math.log1p(x)))
    else:
        lx = math.log(x)
        w = lx - math.log(lx)
    for _ in range(20):
        ew = math.exp(w)
        f = w * ew - x
        wp1 = w + 1.0
        if wp1 == 0.0:
            break
        step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1))
        w -= step
        if abs(step) <= 1e-15 * (1.0 + abs(w)):
            break
    return w


@njit(cache=True)
def _psi(u):
    """``(u - 1) e^u + 1`` without cancellation for small ``u`` (series ``sum (n-1) u^n / n!``)."""
    if u > 0.05:
        return (u - 1.0) * math.exp(u) + 1.0
    term, total = u * u / 2.0, 0.0
    for n in range(2, 14):
        total += (n - 1) * term
        term *= u / (n + 1)
    return total


@njit(cache=True)
def _tx_exponent(r):
    """``u >= 0`` with ``(u - 1) e^u + 1 = r`` (the uplink's KKT condition, ``r = nu / C``).

    Lambert W for moderate ``r``; for small ``r`` (``u ~ sqrt(2 r)``) Newton on the series of :func:`_psi`,
    because ``(r - 1)/e`` would lose every digit of ``r``. ``fast._Model.resources`` calls it too."""
    if r > 0.1:
        return 1.0 + _lambert_w0((r - 1.0) / math.e)
    u = math.sqrt(2.0 * r)
    for _ in range(8):
        step = (_psi(u) - r) / (u * math.exp(u))
        u -= step
        if abs(step) <= 1e-16 * u:
            break
    return u


# --- distortion slopes (coinfer.system.unit_distortion, slopes._slope, _inverse_slope, ...) ---


@njit(cache=True)
def _unit_distortion(m, rho):
    if m[MAG]:
        if rho < 1e-3:
            return (
                rho * rho / 2 + rho**3.0 / 6 + rho**4.0 / 12 + rho**5.0 / 20 + rho**6.0 / 30 + rho**7.0 / 42
                + rho**8.0 / 56
            )  # fmt: skip
        return rho + ((1.0 - rho) * math.log1p(-rho) if rho < 1.0 else 0.0)
    q = m[Q]
    entropy_nats = -(rho * math.log(rho) if rho > 0 else 0.0) - ((1.0 - rho) * math.log1p(-rho) if rho < 1.0 else 0.0)
    return math.exp(-min(entropy_nats + LN2 * q * (1.0 - rho), LN2 * q))


@njit(cache=True)
def _slope(m, rho):
    if m[MAG]:
        return -math.log1p(-rho)
    if rho < m[FLAT_END]:
        return 0.0
    z = math.log(rho / (1 - rho)) + m[Q] * LN2
    return _unit_distortion(m, rho) * z


@njit(cache=True)
def _table_logit(keys, logits, target, lo, hi):
    j = np.searchsorted(keys, target)  # bisect_left
    if 0 < j < keys.size and keys[j] > keys[j - 1]:
        z = logits[j - 1] + (target - keys[j - 1]) * (logits[j] - logits[j - 1]) / (keys[j] - keys[j - 1])
        if lo < z < hi:
            return z
    return 0.5 * (lo + hi)


@njit(cache=True)
def _inverse_slope(m, keys, logits, s, st, slot):
    rho_max = m[RHO_MAX]
    if m[MAG]:
        return min(-math.expm1(-s), rho_max)
    rho0, s0, smax, z_max = m[RHO0], m[S0], m[SMAX], m[Z_MAX]
    if rho0 >= rho_max or s >= smax:
        return rho_max
    if s <= s0:
        return rho0
    target = math.log(s)
    lo, hi = math.log(rho0 / (1 - rho0)), z_max
    guess = st[slot] if slot != NO_GUESS else math.nan
    if not math.isnan(guess) and lo < guess < hi:
        z = guess
    else:
        j = np.searchsorted(keys, target)
        z = 0.5 * (lo + hi)
        if 0 < j < keys.size and keys[j] > keys[j - 1]:
            z = logits[j - 1] + (target - keys[j - 1]) * (logits[j] - logits[j - 1]) / (keys[j] - keys[j - 1])
            z = z if lo < z < hi else 0.5 * (lo + hi)
    qln2 = m[Q] * LN2
    tol_value = 2e-16 * (1.0 + abs(target))
    tol_z = 1e-15 * max(1.0, abs(lo), abs(hi))
    for _ in range(100):
        rho = 1.0 / (1.0 + math.exp(-z))
        kept = 1.0 - rho
        mm = z + qln2
        value = rho * math.log(rho) + kept * math.log1p(-rho) - qln2 * kept + math.log(mm) - target
        if -tol_value <= value <= tol_value:
            break
        if value > 0:
            hi = z
        else:
            lo = z
        step = z - value / (mm * rho * kept + 1.0 / mm)
        if not lo <= step <= hi:
            step = 0.5 * (lo + hi)
        done = -tol_z <= step - z <= tol_z
        z = step
        if done or hi - lo <= tol_z:
            break
    if slot != NO_GUESS:
        st[slot] = z
    return min(max(1.0 / (1.0 + math.exp(-z)), rho0), rho_max)


@njit(cache=True)
def _ratio_and_derivative(m, keys, logits, s, st, slot):
    rho_max = m[RHO_MAX]
    if m[MAG]:
        e = math.exp(-s)
        rho = -math.expm1(-s)
        return (rho, s * e) if rho < rho_max else (rho_max, 0.0)
    rho = _inverse_slope(m, keys, logits, s, st, slot)
    if rho <= m[RHO0] or rho >= rho_max:
        return rho, 0.0
    mm = math.log(rho / (1 - rho)) + m[Q] * LN2
    return rho, rho * (1 - rho) / (mm * rho * (1 - rho) + 1.0 / mm)


@njit(cache=True)
def _paired_ratios(m, keys, logits, log_sigma_d, log_sigma_s, weight_d, weight_s, budget, start):
    """``(found, rho_d, rho_s)``: slopes._paired_ratios (found False where it returns None)."""
    rho0, z_max = m[RHO0], m[Z_MAX]
    lo = math.log(rho0 / (1 - rho0))
    qln2 = m[Q] * LN2
    z_d = _table_logit(keys, logits, start + log_sigma_d, lo, z_max)
    z_s = _table_logit(keys, logits, start + log_sigma_s, lo, z_max)
    aim = 0.0
    for _ in range(12):
        rho_d, rho_s = 1.0 / (1.0 + math.exp(-z_d)), 1.0 / (1.0 + math.exp(-z_s))
        kept_d, kept_s = 1.0 - rho_d, 1.0 - rho_s
        m_d, m_s = z_d + qln2, z_s + qln2
        h_d = rho_d * math.log(rho_d) + kept_d * math.log1p(-rho_d) - qln2 * kept_d + math.log(m_d) - log_sigma_d
        h_s = rho_s * math.log(rho_s) + kept_s * math.log1p(-rho_s) - qln2 * kept_s + math.log(m_s) - log_sigma_s
        dh_d, dh_s = m_d * rho_d * kept_d + 1.0 / m_d, m_s * rho_s * kept_s + 1.0 / m_s
        dkept_d, dkept_s = -weight_d * rho_d * kept_d, -weight_s * rho_s * kept_s
        f1 = h_d - h_s
        f2 = weight_d * kept_d + weight_s * kept_s - budget
        if aim:
            return f2 <= 0, 1.0 - kept_d, 1.0 - kept_s
        det = dh_d * dkept_s + dh_s * dkept_d
        if det == 0.0:
            return False, 0.0, 0.0
        dz_d = (-f1 * dkept_s - dh_s * f2) / det
        dz_s = (dkept_d * f1 - dh_d * f2) / det
        if abs(dz_d) <= 1e-9 * max(1.0, abs(z_d)) and abs(dz_s) <= 1e-9 * max(1.0, abs(z_s)):
            aim = 2e-15 * max(abs(budget), 1e-300)
            f2 += aim
            dz_d = (-f1 * dkept_s - dh_s * f2) / det
            dz_s = (dkept_d * f1 - dh_d * f2) / det
        z_d += dz_d
        z_s += dz_s
        if not (lo < z_d < z_max and lo < z_s < z_max):
            return False, 0.0, 0.0
    return False, 0.0, 0.0


@njit(cache=True)
def _magnitude_ratios(m, sigma_d, sigma_s, weight_d, weight_s, budget, start):
    """``(found, rho_d, rho_s)``: slopes._magnitude_ratios (found False where it returns None)."""
    floor = 1.0 - m[RHO_MAX]
    log_budget = math.log(budget)
    mult = math.exp(start)
    aim = 0.0
    for _ in range(12):
        kept_d, kept_s = max(math.exp(-mult * sigma_d), floor), max(math.exp(-mult * sigma_s), floor)
        load = weight_d * kept_d + weight_s * kept_s
        gap = math.log(load) - log_budget
        if aim:
            return load <= budget, 1.0 - kept_d, 1.0 - kept_s
        slope = 0.0
        if kept_d > floor:
            slope += weight_d * sigma_d * kept_d
        if kept_s > floor:
            slope += weight_s * sigma_s * kept_s
        slope = -slope / load
        if slope >= 0.0:
            return False, 0.0, 0.0
        step = -gap / slope
        if abs(step) <= 1e-9 * mult:
            aim = 2e-15
            step = -(gap + aim) / slope
        mult = max(mult + step, 0.5 * mult)
    return False, 0.0, 0.0


# --- fast._newton_decreasing as a loop the caller drives: `nw` holds its state ---

_NW_Y, _NW_LO, _NW_HI, _NW_LO0, _NW_FEASIBLE, _NW_LAST, _NW_RTOL, _NW_STEPS = range(8)


@njit(cache=True)
def _newton_start(lo, hi, start, rtol):
    """The state of a safeguarded Newton root on ``[lo, hi]`` (``start`` NaN: none); its first point is ``nw[0]``."""
    nw = np.empty(8)
    nw[_NW_Y] = start if (not math.isnan(start) and lo < start < hi) else 0.5 * (lo + hi)
    nw[_NW_LO], nw[_NW_HI], nw[_NW_LO0] = lo, hi, lo
    nw[_NW_FEASIBLE], nw[_NW_LAST], nw[_NW_RTOL], nw[_NW_STEPS] = math.nan, 0.0, rtol, 0.0
    return nw


@njit(cache=True)
def _newton_step(nw, g, dg):
    """Take ``(g, g')`` at ``nw[0]``; True when the root is found (then :func:`_newton_result`), else ``nw[0]``
    is the next point. One pass of the loop of fast._newton_decreasing (safeguarded Newton from the feasible
    side, bisection when a step leaves the bracket)."""
    y, lo, hi = nw[_NW_Y], nw[_NW_LO], nw[_NW_HI]
    nw[_NW_STEPS] += 1
    if g <= 0:
        hi = nw[_NW_HI] = y
        nw[_NW_FEASIBLE] = y
        if nw[_NW_LAST]:
            return True
    else:
        lo = nw[_NW_LO] = y
    tol = nw[_NW_RTOL] * max(1.0, abs(y))
    if g == 0 or hi - lo <= tol:
        return True
    step = -g / dg if dg < 0 else math.inf
    if abs(step) <= tol:
        if g <= 0:
            return True
        step = 2 * tol
    last = abs(step) <= 1e-7 * max(1.0, abs(y))
    nw[_NW_LAST] = last
    if last:
        step += 2 * tol
    nxt = y + step
    if not lo < nxt < hi:
        nxt = 0.5 * (lo + hi)
    nw[_NW_Y] = nxt
    return nw[_NW_STEPS] >= 200


@njit(cache=True)
def _newton_result(nw):
    feasible = nw[_NW_FEASIBLE]
    if math.isnan(feasible):
        return nw[_NW_HI]
    return nw[_NW_LO0] if feasible <= nw[_NW_LO0] else feasible


# --- the building blocks of fast._Model ---


@njit(cache=True)
def _derive(row, m):
    """Fill ``m`` with the model of the problem ``row``: fast._Model's fields, by the same operations (and
    coinfer.system.Problem.cycles', for the cycles)."""
    m[T0], m[E0], m[RHO_MAX], m[Q], m[SHARED] = row[R_T0], row[R_E0], row[R_RHO_MAX], row[R_Q], row[R_SHARED]
    choices = int(row[R_CHOICES])
    m[MAG], m[COUNTED_S] = choices & 1, (choices & 2) >> 1
    execution = choices & 12
    for i in range(2):
        flops, fixed, per_cycle = row[R_FLOPS + i], row[R_FIXED + i], row[R_PER_CYCLE + i]
        if execution == 4:  # dense: pruned weights are computed anyway
            m[A_D + i], m[G_D + i] = 0.0, (flops + fixed) / per_cycle
        elif execution == 8:  # sparse: sparse kernels at an efficiency, with an overhead where they run
            overhead = row[R_OVERHEAD + i] if flops > 0 else 0.0
            m[A_D + i] = flops / (row[R_EFFICIENCY + i] * per_cycle)
            m[G_D + i] = (fixed + overhead) / per_cycle
        else:
            m[A_D + i], m[G_D + i] = flops / per_cycle, fixed / per_cycle
        m[FMAX_D + i] = row[R_FMAX + i]
        m[K_D + i] = row[R_PUE + i] * row[R_PSI + i]
        m[PARAMS_D + i], m[SCALE_D + i] = row[R_PARAMS + i], row[R_SCALE + i]
    total = m[PARAMS_D] + m[PARAMS_S]
    m[C_D], m[C_S] = m[PARAMS_D] / total * m[SCALE_D], m[PARAMS_S] / total * m[SCALE_S]
    m[S_BITS], m[BANDWIDTH], m[PMAX] = row[R_S_BITS], row[R_BANDWIDTH], row[R_PMAX]
    m[NOISE] = row[R_NOISE_PSD] * row[R_BANDWIDTH] / row[R_GAIN]
    m[FLAT_END] = row[R_FLAT_END]
    rho_max, shared = m[RHO_MAX], m[SHARED]
    a_d, a_s, g_d, g_s = m[A_D], m[A_S], m[G_D], m[G_S]
    runs_d, runs_s = a_d + g_d > 0, a_s + g_s > 0
    k_d, k_s, fmax_d, fmax_s = m[K_D], m[K_S], m[FMAX_D], m[FMAX_S]
    c_d, c_s = m[C_D], m[C_S]
    m[RUNS_D], m[RUNS_S] = runs_d, runs_s
    m[TWO_PRUNED] = shared == 0.0 and a_d > 0 and a_s > 0 and c_d > 0 and c_s > 0
    u_max = m[U_MAX] = math.log1p(m[PMAX] / m[NOISE])
    nu_sat_d = m[NU_SAT_F_D] = 2 * k_d * fmax_d**3.0
    nu_sat_s = m[NU_SAT_F_S] = 2 * k_s * fmax_s**3.0 if m[COUNTED_S] else 0.0
    nu_sat_tx = m[NU_SAT_TX] = m[NOISE] * ((u_max - 1.0) * math.exp(u_max) + 1.0) if m[S_BITS] > 0 else 0.0
    m[NU_SAT] = max(nu_sat_tx, nu_sat_d if runs_d else 0.0, nu_sat_s if runs_s else 0.0)
    flat = min(0.0 if m[MAG] else m[FLAT_END], rho_max)
    if shared:
        m[FLAT_D] = m[FLAT_S] = flat
        m[TOP_D] = m[TOP_S] = rho_max if a_d > 0 or a_s > 0 else flat
    else:
        m[FLAT_D] = rho_max if c_d == 0 and a_d > 0 else flat
        m[FLAT_S] = rho_max if c_s == 0 and a_s > 0 else flat
        m[TOP_D] = rho_max if a_d > 0 else m[FLAT_D]
        m[TOP_S] = rho_max if a_s > 0 else m[FLAT_S]
    # slopes._slope_limits
    m[RHO0] = 0.0 if m[MAG] else m[FLAT_END]
    m[S0] = _slope(m, m[RHO0])
    m[SMAX] = _slope(m, rho_max)
    m[Z_MAX] = math.log(rho_max / (1 - rho_max)) if rho_max > 0 else -math.inf


@njit(cache=True)
def _resources(m, nu):
    f_d = m[FMAX_D] if nu >= m[NU_SAT_F_D] else (nu / (2 * m[K_D])) ** (1 / 3)
    f_s = m[FMAX_S] if not m[COUNTED_S] or nu >= m[NU_SAT_F_S] else (nu / (2 * m[K_S])) ** (1 / 3)
    if m[S_BITS] <= 0 or nu >= m[NU_SAT_TX]:
        u = m[U_MAX]
    else:
        u = max(min(_tx_exponent(nu / m[NOISE]), m[U_MAX]), 1e-300)
    return f_d, f_s, u


@njit(cache=True)
def _tx(m, u):
    if m[S_BITS] <= 0:
        return 0.0, 0.0, 0.0
    t = m[S_BITS] * LN2 / (m[BANDWIDTH] * u)
    p = m[NOISE] * math.expm1(u)
    return t, p * t, p


@njit(cache=True)
def _time(m, rho_d, rho_s, f_d, f_s, u):
    t = m[S_BITS] * LN2 / (m[BANDWIDTH] * u) if m[S_BITS] > 0 else 0.0
    if m[RUNS_D]:
        t += (m[A_D] * (1 - rho_d) + m[G_D]) / f_d
    if m[RUNS_S]:
        t += (m[A_S] * (1 - rho_s) + m[G_S]) / f_s
    return t


@njit(cache=True)
def _energy(m, rho_d, rho_s, f_d, f_s, u):
    e = _tx(m, u)[1]
    if m[RUNS_D]:
        e += m[K_D] * (m[A_D] * (1 - rho_d) + m[G_D]) * (f_d * f_d)
    if m[RUNS_S] and m[COUNTED_S]:
        e += m[K_S] * (m[A_S] * (1 - rho_s) + m[G_S]) * (f_s * f_s)
    return e


@njit(cache=True)
def _log_time_and_slope(m, rho_d, rho_s, x):
    nu = math.exp(x)
    f_d, f_s, u = _resources(m, nu)
    t0 = m[T0]
    t_tx = slope = 0.0
    if m[S_BITS] > 0:
        t_tx = m[S_BITS] * LN2 / (m[BANDWIDTH] * u)
        if nu < m[NU_SAT_TX]:
            slope = -t_tx / u * nu / (m[NOISE] * u * math.exp(u))
    gap = t_tx - t0
    if m[RUNS_D]:
        t_d = (m[A_D] * (1 - rho_d) + m[G_D]) / f_d
        gap += t_d
        if nu < m[NU_SAT_F_D]:
            slope -= t_d / 3.0
    if m[RUNS_S]:
        t_s = (m[A_S] * (1 - rho_s) + m[G_S]) / f_s
        gap += t_s
        if m[COUNTED_S] and nu < m[NU_SAT_F_S]:
            slope -= t_s / 3.0
    return math.log1p(gap / t0), slope / (t0 + gap)


@njit(cache=True)
def _min_energy(m, rho_d, rho_s, t_top):
    """``(E, nu, f_d, f_s, u)``: fast._Model.min_energy (``t_top`` NaN: not known)."""
    f_d, f_s, u = m[FMAX_D], m[FMAX_S], m[U_MAX]
    if math.isnan(t_top):
        t_top = _time(m, rho_d, rho_s, f_d, f_s, u)
    if m[NU_SAT] <= 0 or t_top >= m[T0]:
        return _energy(m, rho_d, rho_s, f_d, f_s, u), math.inf, f_d, f_s, u
    hi = math.log(m[NU_SAT])
    lo = hi - 2.0
    bracketed = False
    for _ in range(400):
        f_d, f_s, u = _resources(m, math.exp(lo))
        if _time(m, rho_d, rho_s, f_d, f_s, u) > m[T0]:
            bracketed = True
            break
        hi = lo
        lo -= 4.0
    if not bracketed:
        f_d, f_s, u = _resources(m, math.exp(lo))
        return _energy(m, rho_d, rho_s, f_d, f_s, u), math.exp(lo), f_d, f_s, u
    nw = _newton_start(lo, hi, math.nan, 1e-13)
    while True:
        g, dg = _log_time_and_slope(m, rho_d, rho_s, nw[_NW_Y])
        if _newton_step(nw, g, dg):
            break
    x = _newton_result(nw)
    f_d, f_s, u = _resources(m, math.exp(x))
    return _energy(m, rho_d, rho_s, f_d, f_s, u), math.exp(x), f_d, f_s, u


@njit(cache=True)
def _fixed_time(m, f_d, f_s, u):
    fixed = 0.0
    if m[G_D] > 0:
        fixed += m[G_D] / f_d
    if m[G_S] > 0:
        fixed += m[G_S] / f_s
    return (m[S_BITS] * LN2 / (m[BANDWIDTH] * u) if m[S_BITS] > 0 else 0.0) + fixed


@njit(cache=True)
def _remembered(seen, count, y):
    """Index of the last remembered point ``y`` among ``seen[:count]`` (column 0), or -1."""
    for j in range(min(count, seen.shape[0]) - 1, -1, -1):
        if seen[j, 0] == y:
            return j
    return -1


@njit(cache=True)
def _remember(seen, count, y, v1, v2, v3, v4, v5):
    if count < seen.shape[0]:
        seen[count, 0], seen[count, 1], seen[count, 2] = y, v1, v2
        seen[count, 3], seen[count, 4], seen[count, 5] = v3, v4, v5
    return count + 1


@njit(cache=True)
def _ratios(m, keys, logits, st, seen, alpha_d, alpha_s, const, target):
    """fast._Model.ratios."""
    a_d, a_s = m[A_D], m[A_S]
    flat_d, flat_s = m[FLAT_D], m[FLAT_S]
    w_d = alpha_d * a_d if a_d > 0 else 0.0
    w_s = alpha_s * a_s if a_s > 0 else 0.0
    if const + w_d * (1 - flat_d) + w_s * (1 - flat_s) <= target:
        return flat_d, flat_s
    top_d = m[TOP_D] if w_d > 0 else flat_d
    top_s = m[TOP_S] if w_s > 0 else flat_s
    if const + w_d * (1 - top_d) + w_s * (1 - top_s) >= target:
        return top_d, top_s
    rmax = m[RHO_MAX]
    if m[SHARED]:
        common = 1.0 - (target - const) / (w_d + w_s)
        common = min(max(common, flat_d), rmax)
        return common, common
    c_d, c_s = m[C_D], m[C_S]
    if not (w_d > 0 and c_d > 0 and w_s > 0 and c_s > 0):
        if w_d > 0 and c_d > 0:
            rho = 1.0 - (target - const - w_s * (1 - flat_s)) / w_d
            return min(max(rho, flat_d), rmax), flat_s
        rho = 1.0 - (target - const - w_d * (1 - flat_d)) / w_s
        return flat_d, min(max(rho, flat_s), rmax)
    sigma_d, sigma_s = w_d / c_d, w_s / c_s
    common = min(max(1.0 - (target - const) / (w_d + w_s), 1e-6), 0.999999 * rmax)
    log_sigma_d, log_sigma_s = math.log(sigma_d), math.log(sigma_s)
    mean_log_sigma = (w_d * log_sigma_d + w_s * log_sigma_s) / (w_d + w_s)
    start = math.log(max(_slope(m, common), 1e-300)) - mean_log_sigma
    if m[MAG]:
        found, rho_d, rho_s = _magnitude_ratios(m, sigma_d, sigma_s, w_d, w_s, target - const, start)
    else:
        found, rho_d, rho_s = _paired_ratios(m, keys, logits, log_sigma_d, log_sigma_s, w_d, w_s, target - const, start)
    if found:
        return rho_d, rho_s
    return _multiplier_ratios(m, keys, logits, st, seen, w_d, w_s, sigma_d, sigma_s, target - const, start)


@njit(cache=True)
def _multiplier_ratios(m, keys, logits, st, seen, weight_d, weight_s, sigma_d, sigma_s, budget, start):
    """fast._Model._multiplier_ratios."""
    smax = _slope(m, m[RHO_MAX])
    m_hi = max(smax / sigma_d, smax / sigma_s)
    if m[MAG]:
        m_lo = m_hi * 1e-40
    else:
        s0 = max(_slope(m, m[FLAT_END]), 1e-300)
        m_lo = max(min(s0 / sigma_d, s0 / sigma_s), m_hi * 1e-300, 1e-300)
    st[MULT_GUESS_D] = st[MULT_GUESS_S] = math.nan
    count = 0
    nw = _newton_start(math.log(m_lo), math.log(m_hi), start, 1e-14)
    while True:
        y = nw[_NW_Y]
        s = math.exp(y)
        r_d, slope_d = _ratio_and_derivative(m, keys, logits, s * sigma_d, st, MULT_GUESS_D)
        r_s, slope_s = _ratio_and_derivative(m, keys, logits, s * sigma_s, st, MULT_GUESS_S)
        g = -budget + weight_d * (1 - r_d) + weight_s * (1 - r_s)
        dg = 0.0 - weight_d * slope_d - weight_s * slope_s
        count = _remember(seen, count, y, r_d, r_s, 0.0, 0.0, 0.0)
        if _newton_step(nw, g, dg):
            break
    y = _newton_result(nw)
    j = _remembered(seen, count, y)
    if j < 0:
        s = math.exp(y)
        r_d = _ratio_and_derivative(m, keys, logits, s * sigma_d, st, MULT_GUESS_D)[0]
        r_s = _ratio_and_derivative(m, keys, logits, s * sigma_s, st, MULT_GUESS_S)[0]
        return r_d, r_s
    return seen[j, 1], seen[j, 2]


@njit(cache=True)
def _latency_ratios(m, keys, logits, st, seen, f_d, f_s, u):
    return _ratios(m, keys, logits, st, seen, 1 / f_d, 1 / f_s, _fixed_time(m, f_d, f_s, u), m[T0])


@njit(cache=True)
def _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u):
    """KKT ratios at the price of time ``nu`` and its resources: each side's marginal distortion equals
    ``mu (eta psi f^2 [counted] + nu / f) a / c``, with the multiplier ``mu`` set by the latency budget (a root in
    ``ln mu``, started from the last one). Leaves that root and the ratios' slopes there in ``st``."""
    t_fixed = _fixed_time(m, f_d, f_s, u)
    weight_d = m[K_D] * (f_d * f_d) + nu / f_d
    weight_s = (m[K_S] * (f_s * f_s) if m[COUNTED_S] else 0.0) + nu / f_s
    if not m[TWO_PRUNED]:
        return _latency_ratios(m, keys, logits, st, seen, f_d, f_s, u)
    alpha_d, alpha_s = 1 / f_d, 1 / f_s
    a_d, a_s = m[A_D], m[A_S]
    sigma_d, sigma_s = weight_d * a_d / m[C_D], weight_s * a_s / m[C_S]
    st[LAST_VALID] = 0.0
    smax = _slope(m, m[RHO_MAX])
    hi = math.log(max(smax / sigma_d, smax / sigma_s))
    if m[MAG]:  # e^-92: every ratio below 1e-40; sides whose prices differ by more widen the bracket
        lo = hi - 92.0 - abs(math.log(sigma_d / sigma_s))
    else:
        s0 = max(_slope(m, m[FLAT_END]), 1e-300)
        lo = max(math.log(s0) - math.log(max(sigma_d, sigma_s)), hi - 1400.0)
    if t_fixed + (alpha_d * a_d * (1 - m[FLAT_D]) + alpha_s * a_s * (1 - m[FLAT_S])) <= m[T0]:
        st[Y_GUESS] = lo
        mult = math.exp(lo)
        return (
            _inverse_slope(m, keys, logits, mult * sigma_d, st, GUESS_D),
            _inverse_slope(m, keys, logits, mult * sigma_s, st, GUESS_S),
        )
    count = 0
    nw = _newton_start(lo, hi, st[Y_GUESS], 1e-14)
    while True:
        y = nw[_NW_Y]
        mult = math.exp(y)
        r_d, d_d = _ratio_and_derivative(m, keys, logits, mult * sigma_d, st, GUESS_D)
        r_s, d_s = _ratio_and_derivative(m, keys, logits, mult * sigma_s, st, GUESS_S)
        g = t_fixed - m[T0] + alpha_d * a_d * (1 - r_d) + alpha_s * a_s * (1 - r_s)
        dg = 0.0 - alpha_d * a_d * d_d - alpha_s * a_s * d_s
        count = _remember(seen, count, y, r_d, r_s, d_d, d_s, 0.0)
        if _newton_step(nw, g, dg):
            break
    y = _newton_result(nw)
    st[Y_GUESS] = y
    j = _remembered(seen, count, y)
    if j < 0:
        mult = math.exp(y)
        return (
            _inverse_slope(m, keys, logits, mult * sigma_d, st, GUESS_D),
            _inverse_slope(m, keys, logits, mult * sigma_s, st, GUESS_S),
        )
    st[LAST_VALID], st[LAST_Y] = 1.0, y
    st[LAST_R_D], st[LAST_R_S], st[LAST_D_D], st[LAST_D_S] = seen[j, 1], seen[j, 2], seen[j, 3], seen[j, 4]
    return seen[j, 1], seen[j, 2]


# --- step 4: both budgets bind ---


@njit(cache=True)
def _kkt_state(m, keys, logits, st, x, y, f0, f1, u):
    """The KKT ratios of ``(x, y) = (ln nu, ln mu)`` (two pruned sides) at the resources ``f0, f1, u`` of ``nu``,
    and ``(rho_d, rho_s, T/T0 - 1, E/E0 - 1)`` with the partial derivatives of the last two in ``x`` and ``y``
    (model.md section 5.3). The ratios and slopes of :func:`_price_ratios`' last root are reused at its ``y``."""
    nu = math.exp(x)
    last = st[LAST_VALID] != 0.0 and st[LAST_Y] == y
    t_tx, e_tx, _ = _tx(m, u)
    if m[S_BITS] > 0 and nu < m[NU_SAT_TX]:
        du = nu / (m[NOISE] * u * math.exp(u))
        dt_tx = -t_tx / u * du
        de_tx = m[NOISE] * math.exp(u) * t_tx * du + m[NOISE] * math.expm1(u) * dt_tx
    else:
        dt_tx = de_tx = 0.0
    t, e, tx, ty, ex, ey = t_tx - m[T0], e_tx - m[E0], dt_tx, 0.0, de_tx, 0.0
    mult = math.exp(y)
    ratios = np.empty(2)
    for i in range(2):
        fi = f0 if i == 0 else f1
        counted = True if i == 0 else m[COUNTED_S] != 0.0
        k, a, c = m[K_D + i], m[A_D + i], m[C_D + i]
        dlnf = 1 / 3 if (counted and nu < m[NU_SAT_F_D + i]) else 0.0
        w = (k * fi * fi if counted else 0.0) + nu / fi
        dw = (2 * k * fi * fi * dlnf if counted else 0.0) + nu / fi * (1 - dlnf)
        if last:
            rho, r_slope = st[LAST_R_D + i], st[LAST_D_D + i]
        else:
            rho, r_slope = _ratio_and_derivative(m, keys, logits, mult * w * a / c, st, GUESS_D + i)
        drx = r_slope * dw / w
        ratios[i] = rho
        work = a * (1 - rho) + m[G_D + i]
        t += work / fi
        ty -= a * r_slope / fi
        tx += -a * drx / fi - work / fi * dlnf
        if counted:
            e += k * work * fi * fi
            ey -= k * a * fi * fi * r_slope
            ex += k * fi * fi * (2 * work * dlnf - a * drx)
    t0, e0 = m[T0], m[E0]
    return ratios[0], ratios[1], t / t0, e / e0, tx / t0, ty / t0, ex / e0, ey / e0


@njit(cache=True)
def _log_kkt_state(m, keys, logits, st, x, y):
    """:func:`_kkt_state` at the resources of ``nu = e^x``, its residuals as ``(lt, le) = (ln T/T0, ln E/E0)``
    and their partial derivatives: ``(rho_d, rho_s, f_d, f_s, u, lt, le, tx, ty, ex, ey)``."""
    f_d, f_s, u = _resources(m, math.exp(x))
    rho_d, rho_s, t, e, tx, ty, ex, ey = _kkt_state(m, keys, logits, st, x, y, f_d, f_s, u)
    if t <= -1.0 or e <= -1.0:
        return rho_d, rho_s, f_d, f_s, u, math.inf, math.inf, 0.0, 0.0, 0.0, 0.0
    lt, le = math.log1p(t), math.log1p(e)
    return rho_d, rho_s, f_d, f_s, u, lt, le, tx / (1 + t), ty / (1 + t), ex / (1 + e), ey / (1 + e)


@njit(cache=True)
def _common_multiplier(m, x):
    """Log ratio multiplier at ``nu = e^x`` at which one common ratio meets the latency budget, with the sides'
    log-prices averaged by their loads: the joint Newton's start."""
    nu = math.exp(x)
    f_d, f_s, u = _resources(m, nu)
    load_d, load_s = m[A_D] / f_d, m[A_S] / f_s
    target = m[T0] - _fixed_time(m, f_d, f_s, u)
    common = min(max(1.0 - target / (load_d + load_s), 1e-6), 0.999999 * m[RHO_MAX])
    log_sigma_d = math.log((m[K_D] * (f_d * f_d) + nu / f_d) * m[A_D] / m[C_D])
    log_sigma_s = math.log(((m[K_S] * (f_s * f_s) if m[COUNTED_S] else 0.0) + nu / f_s) * m[A_S] / m[C_S])
    mean_log_sigma = (load_d * log_sigma_d + load_s * log_sigma_s) / (load_d + load_s)
    return math.log(max(_slope(m, common), 1e-300)) - mean_log_sigma


@njit(cache=True)
def _joint_newton(m, keys, logits, st, seen, energy_excess, evaluations_allowed):
    """Step 4 as one 2-D root where ``T(x, y) = T0`` and ``E(x, y) = E0`` (two pruned sides; ``x = ln nu``,
    ``y = ln mu``): ``(converged, rho_d, rho_s, f_d, f_s, u)``.

    Newton on ``(ln T/T0, ln E/E0)``, nearly linear in ``(x, y)`` because each priced resource moves like a power
    of ``nu``. It starts at the saturation price (lowered by the latency-only optimum's energy excess) with the
    multiplier at which a common ratio meets the latency budget, limits each step (a trust region), and damps it
    by the natural monotonicity test (Deuflhard): the simplified Newton correction at the trial point, computed
    with this Jacobian, must be shorter than this step's, a test that unlike the residual norm is not misled
    where the latency and energy surfaces are nearly parallel. Not converged after ``evaluations_allowed``
    evaluations, or at a singular Jacobian (e.g. both ratios clipped): the caller takes the nested roots, so the
    answer never depends on this fast path."""
    x = math.log(m[NU_SAT]) if m[NU_SAT] > 0 else 0.0
    if energy_excess > 0:
        x -= 1.5 * math.log1p(energy_excess)  # the CPUs' energy grows like nu^(2/3) along the path
    y = _common_multiplier(m, x)
    s = _log_kkt_state(m, keys, logits, st, x, y)
    if s[7] * s[10] == s[8] * s[9]:  # every ratio clipped at the guess: start where the latency budget binds
        nu = math.exp(x)
        f_d, f_s, u = _resources(m, nu)
        _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u)
        if math.isnan(st[Y_GUESS]):
            return False, 0.0, 0.0, 0.0, 0.0, 0.0
        y = st[Y_GUESS]
        s = _log_kkt_state(m, keys, logits, st, x, y)
    evaluations = 1
    while evaluations <= evaluations_allowed:
        lt, le, tx, ty, ex, ey = s[5], s[6], s[7], s[8], s[9], s[10]
        det = tx * ey - ty * ex
        if not (math.isfinite(det) and det != 0.0):
            return False, 0.0, 0.0, 0.0, 0.0, 0.0
        dx = (ty * le - ey * lt) / det
        dy = (ex * lt - tx * le) / det
        if abs(dx) <= 1e-13 * max(1.0, abs(x)) and abs(dy) <= 1e-13 * max(1.0, abs(y)):
            if lt <= 0 and le <= 0:
                return True, s[0], s[1], s[2], s[3], s[4]
            # Converged a few ulps on the infeasible side: one more step aimed just inside both budgets, as the
            # nested roots end on the feasible side (the polish would otherwise prune the side with the least
            # distortion per unit of violation, which may be a side with almost no work, by far more).
            lt, le = lt + _INSIDE, le + _INSIDE
            inside = _log_kkt_state(m, keys, logits, st, x + (ty * le - ey * lt) / det, y + (ex * lt - tx * le) / det)
            if inside[5] <= 0 and inside[6] <= 0:
                return True, inside[0], inside[1], inside[2], inside[3], inside[4]
            return True, s[0], s[1], s[2], s[3], s[4]
        size = dx * dx + dy * dy
        step = min(1.0, _MAX_STEP_X / max(abs(dx), 1e-300), _MAX_STEP_Y / max(abs(dy), 1e-300))
        accepted = False
        for _ in range(_HALVINGS):
            trial = _log_kkt_state(m, keys, logits, st, x + step * dx, y + step * dy)
            evaluations += 1
            cx = (ty * trial[6] - ey * trial[5]) / det
            cy = (ex * trial[5] - tx * trial[6]) / det
            shrink = 1.0 - 0.5 * step
            if cx * cx + cy * cy < shrink * shrink * size and trial[7] * trial[10] != trial[8] * trial[9]:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            return False, 0.0, 0.0, 0.0, 0.0, 0.0
        x, y, s = x + step * dx, y + step * dy, trial
    return False, 0.0, 0.0, 0.0, 0.0, 0.0


@njit(cache=True)
def _path_point(m, keys, logits, st, seen, path, count, x):
    """The point at ``x = ln nu`` of the path where the latency budget binds: its ratios and resources,
    remembered in ``path``; returns ``(count, rho_d, rho_s, f_d, f_s, u)``."""
    nu = math.exp(x)
    f_d, f_s, u = _resources(m, nu)
    rho_d, rho_s = _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u)
    count = _remember(path, count, x, rho_d, rho_s, f_d, f_s, u)
    return count, rho_d, rho_s, f_d, f_s, u


@njit(cache=True)
def _both_bind_nested(m, keys, logits, st, seen, e_min_top, nu_min):
    """Step 4 by nested 1-D roots: ``(solved, rho_d, rho_s, f_d, f_s, u)`` (not solved: no bracket of the energy
    budget along the path). For each ``x = ln nu`` the latency budget fixes the ratio multiplier (inner root,
    :func:`_price_ratios`); the outer root in ``x`` meets the energy budget, starting from the floors' price
    ``nu_min`` and least energy ``e_min_top``."""
    path = np.empty((_PATH, 6))  # the points of the path evaluated, to answer with the root's own
    count = 0
    lo = math.log(nu_min) if math.isfinite(nu_min) else math.log(max(m[NU_SAT], 1e-300))
    hi = max(lo, math.log(m[NU_SAT]) if m[NU_SAT] > 0 else lo) + 1.0
    count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, hi)
    g_hi = _energy(m, r_d, r_s, f_d, f_s, u) - m[E0]
    while g_hi <= 0 and hi < lo + 1500.0:
        hi += 10.0
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, hi)
        g_hi = _energy(m, r_d, r_s, f_d, f_s, u) - m[E0]
    if math.isfinite(nu_min):
        g_lo = e_min_top - m[E0]
    else:
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, lo)
        g_lo = _energy(m, r_d, r_s, f_d, f_s, u) - m[E0]
    for _ in range(60):
        if g_lo <= 0:
            break
        lo -= 1e-9 * max(1.0, abs(lo))
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, lo)
        g_lo = _energy(m, r_d, r_s, f_d, f_s, u) - m[E0]
    if g_hi <= 0 or not math.isfinite(hi):  # no price of time where the energy exceeds its budget
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    if g_lo > 0:
        x = lo
    elif m[TWO_PRUNED]:
        x, count = _outer_newton(m, keys, logits, st, seen, path, count, lo, hi, lo + (hi - lo) * g_lo / (g_lo - g_hi))
    else:
        solved, x, count = _brent_energy(m, keys, logits, st, seen, path, count, lo, hi, g_lo, g_hi)
        if not solved:
            return False, 0.0, 0.0, 0.0, 0.0, 0.0
    j = _remembered(path, count, x)
    if j >= 0:
        return True, path[j, 1], path[j, 2], path[j, 3], path[j, 4], path[j, 5]
    nu = math.exp(x)
    f_d, f_s, u = _resources(m, nu)
    r_d, r_s = _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u)
    return True, r_d, r_s, f_d, f_s, u


@njit(cache=True)
def _outer_newton(m, keys, logits, st, seen, path, count, x_lo, x_hi, start):
    """Root in ``x = ln nu`` of the energy along the latency-binding path (two pruned sides): ``(x, count)``.
    Safeguarded Newton with the slope along the path ``dE/dx - (dE/dy)(dT/dx)/(dT/dy)`` (implicit function
    theorem on ``T = T0``), ending on the energy-feasible side."""
    nw = _newton_start(-x_hi, -x_lo, -start, 1e-13)
    while True:
        x = -nw[_NW_Y]
        count, _, _, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, x)
        _, _, _, e, tx, ty, ex, ey = _kkt_state(m, keys, logits, st, x, st[Y_GUESS], f_d, f_s, u)
        slope = ex - ey * tx / ty if ty != 0 else math.nan
        if _newton_step(nw, e, -slope if math.isfinite(slope) else 0.0):
            break
    return -_newton_result(nw), count


@njit(cache=True)
def _brent_energy(m, keys, logits, st, seen, path, count, a, b, fa, fb):
    """Brent's method (inverse quadratic interpolation, secant, bisection; xtol 1e-13) for the root of the
    energy along the path on ``[a, b]``, given its values there: ``(found, x, count)``."""
    xtol = 1e-13
    if fa == 0:
        return True, a, count
    if fb == 0:
        return True, b, count
    if (fa > 0) == (fb > 0):
        return False, 0.0, count
    c, fc = a, fa
    d = e = b - a
    for _ in range(200):
        if (fb > 0) == (fc > 0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2e-16 * abs(b) + 0.5 * xtol
        mid = 0.5 * (c - b)
        if abs(mid) <= tol or fb == 0:
            return True, b, count
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p, q = 2 * mid * s, 1 - s
            else:
                q_, r = fa / fc, fb / fc
                p = s * (2 * mid * q_ * (q_ - r) - (b - a) * (r - 1))
                q = (q_ - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2 * p < min(3 * mid * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = mid
        else:
            d = e = mid
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if mid > 0 else -tol)
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, b)
        fb = _energy(m, r_d, r_s, f_d, f_s, u) - m[E0]
    return True, b, count


# --- the answer (fast._polish; coinfer.system._decision_terms, _meets_constraints) ---


@njit(cache=True)
def _terms(m, d):
    """coinfer.system._decision_terms of the decision ``d`` (rho_d, rho_s, power, f_d, f_s):
    ``(latency, energy, objective)``."""
    rho_d, rho_s, power, f_d, f_s = d[0], d[1], d[2], d[3], d[4]
    rho_d_c, rho_s_c = min(max(rho_d, 0.0), 1.0), min(max(rho_s, 0.0), 1.0)
    w_d = (1 - rho_d_c) * m[A_D] + m[G_D]
    w_s = (1 - rho_s_c) * m[A_S] + m[G_S]
    t_d = (w_d / f_d if f_d > 0 else math.inf) if w_d > 0 else 0.0
    t_s = (w_s / f_s if f_s > 0 else math.inf) if w_s > 0 else 0.0
    e_d = m[K_D] * w_d * f_d * f_d if w_d > 0 else 0.0
    e_s = m[K_S] * w_s * f_s * f_s if w_s > 0 else 0.0
    if m[S_BITS] > 0:
        r = m[BANDWIDTH] * math.log1p(power / m[NOISE]) / LN2 if power > 0 else 0.0
        t_tx = m[S_BITS] / r if r > 0 else math.inf
        e_tx = power * t_tx if r > 0 else math.inf
    else:
        t_tx = e_tx = 0.0
    latency = t_d + t_tx + t_s
    energy = e_d + e_tx + (e_s if m[COUNTED_S] else 0.0)
    objective = 0.0  # coinfer.system.objective_value
    if m[PARAMS_D] > 0:
        objective += m[PARAMS_D] * m[SCALE_D] * _unit_distortion(m, rho_d_c)
    if m[PARAMS_S] > 0:
        objective += m[PARAMS_S] * m[SCALE_S] * _unit_distortion(m, rho_s_c)
    return latency, energy, objective / (m[PARAMS_D] + m[PARAMS_S])


@njit(cache=True)
def _meets(m, d, latency, energy):
    """coinfer.system._meets_constraints."""
    rho_max = m[RHO_MAX]
    return (
        0.0 <= d[0] <= rho_max
        and 0.0 <= d[1] <= rho_max
        and not (m[SHARED] and d[0] != d[1])
        and 0.0 <= d[2] <= m[PMAX]
        and 0.0 < d[3] <= m[FMAX_D]
        and 0.0 < d[4] <= m[FMAX_S]
        and latency <= m[T0]
        and energy <= m[E0]
    )


@njit(cache=True)
def _polish(m, d, latency, energy, objective):
    """fast._polish of ``d`` in place, given its terms: ``(met, latency, energy, objective)``, ``met`` False when
    a violation is left (the caller then reports it through fast._answer_values, as solve always has)."""
    rho_max = m[RHO_MAX]
    given = d.copy()
    d[0] = min(max(d[0], 0.0), rho_max)
    d[1] = min(max(d[1], 0.0), rho_max)
    d[2] = min(max(d[2], 0.0), m[PMAX])
    d[3] = min(d[3], m[FMAX_D])
    d[4] = min(d[4], m[FMAX_S])
    if m[SHARED] and d[0] != d[1]:
        d[0] = d[1] = max(d[0], d[1])
    if (d != given).any():
        latency, energy, objective = _terms(m, d)
    if _meets(m, d, latency, energy):
        return True, latency, energy, objective
    for attempt in range(6):
        if attempt:
            latency, energy, objective = _terms(m, d)
            if _meets(m, d, latency, energy):
                return True, latency, energy, objective
        need_t = max(latency - m[T0], 0.0)
        need_e = max(energy - m[E0], 0.0)
        if need_t == 0 and need_e == 0:
            break
        best_cost, best_side, best_step = math.inf, -1, 0.0
        for side in range(1 if m[SHARED] else 2):
            # a shared ratio moves both sides (one group); else each side is its own group
            tau = eps = price_sum = 0.0
            for i in range(2) if m[SHARED] else range(side, side + 1):
                tau += m[A_D + i] / d[3 + i]
                if i == 0 or m[COUNTED_S]:
                    eps += m[K_D + i] * m[A_D + i] * (d[3 + i] * d[3 + i])
            room = rho_max - d[side]
            if room <= 0 or (need_t > 0 and tau <= 0) or (need_e > 0 and eps <= 0):
                continue
            step = max(need_t / tau if need_t > 0 else 0.0, need_e / eps if need_e > 0 else 0.0)
            step = step * (1 + 1e-9) + 4e-16
            for i in range(2) if m[SHARED] else range(side, side + 1):
                price_sum += m[PARAMS_D + i] * m[SCALE_D + i] * _slope(m, min(d[i] + step, rho_max))
            cost = (price_sum + 1e-300) * step
            if cost < best_cost or best_side < 0:
                best_cost, best_side, best_step = cost, side, min(step, room)
        if best_side < 0:
            break
        for i in range(2) if m[SHARED] else range(best_side, best_side + 1):
            d[i] = min(d[i] + best_step, rho_max)
    return False, latency, energy, objective


@njit(cache=True)
def _answer(m, rho_d, rho_s, f_d, f_s, u, out):
    """The answer of ratios and resources into ``out`` (model.md sections 5.3, 8.4): the decision (frequency
    ``f_max`` on a side that runs nothing, power from ``u``), its canonical values, latency, energy and
    objective; polished when it breaks a constraint at rtol 0. OPTIMAL, or TO_POLISH when a violation is left."""
    f_d = f_d if m[RUNS_D] else m[FMAX_D]
    f_s = f_s if m[RUNS_S] else m[FMAX_S]
    if m[S_BITS] > 0:
        power = m[PMAX] if u >= m[U_MAX] else min(_tx(m, u)[2], m[PMAX])
    else:
        power = 0.0
    # canonical values (coinfer.system._canonical_values)
    if not m[SHARED]:
        if m[PARAMS_D] == 0 and m[A_D] == 0:
            rho_d = 0.0
        if m[PARAMS_S] == 0 and m[A_S] == 0:
            rho_s = 0.0
    if m[S_BITS] == 0:
        power = 0.0
    if m[A_D] + m[G_D] == 0:
        f_d = m[FMAX_D]
    if m[A_S] + m[G_S] == 0:
        f_s = m[FMAX_S]
    d = out[: O_F_S + 1]
    d[0], d[1], d[2], d[3], d[4] = rho_d, rho_s, power, f_d, f_s
    latency, energy, objective = _terms(m, d)
    if not _meets(m, d, latency, energy):
        met, latency, energy, objective = _polish(m, d, latency, energy, objective)
        if not met:
            d[0], d[1], d[2], d[3], d[4] = rho_d, rho_s, power, f_d, f_s
            return TO_POLISH
    out[O_OBJECTIVE], out[O_LATENCY], out[O_ENERGY] = objective, latency, energy
    return OPTIMAL


# --- solve: its steps, for one row and for many ---


@njit(cache=True)
def _solve_one(m, keys, logits, st, seen, out, evaluations_allowed):
    """The steps of ``solve`` on the derived row ``m``: ``(code, step)``, the answer's numbers in ``out``."""
    out[O_FLOOR_T] = out[O_E_MIN] = math.nan
    st[:] = math.nan
    st[LAST_VALID] = 0.0
    t0, e0 = m[T0], m[E0]
    top_d, top_s = m[TOP_D], m[TOP_S]
    fmax_d, fmax_s, u_max = m[FMAX_D], m[FMAX_S], m[U_MAX]
    floor_t = _time(m, top_d, top_s, fmax_d, fmax_s, u_max)
    out[O_FLOOR_T] = floor_t
    have_floors = False
    e_min_top = nu_min = math.nan
    if not (floor_t < t0 * (1 - _EDGE) and _energy(m, top_d, top_s, fmax_d, fmax_s, u_max) < e0 * (1 - _EDGE)):
        if floor_t > t0 * (1 + _EDGE):
            return INFEASIBLE_LATENCY, AT_FLOOR
        e_min_top, nu_min, f_d, f_s, u = _min_energy(m, top_d, top_s, floor_t)
        out[O_E_MIN] = e_min_top
        if e_min_top > e0 * (1 + _EDGE):
            return INFEASIBLE_ENERGY, AT_FLOOR
        have_floors = True
        if floor_t >= t0 * (1 - _EDGE) or e_min_top >= e0 * (1 - _EDGE):
            return _answer(m, top_d, top_s, f_d, f_s, u, out), AT_FLOOR
    flat_d, flat_s = m[FLAT_D], m[FLAT_S]
    t_flat = _time(m, flat_d, flat_s, fmax_d, fmax_s, u_max)
    if t_flat <= t0:
        e_flat, _, f_d, f_s, u = _min_energy(m, flat_d, flat_s, t_flat)
        if e_flat <= e0:
            return _answer(m, flat_d, flat_s, f_d, f_s, u, out), LEAST_DISTORTION
    rho_d, rho_s = _latency_ratios(m, keys, logits, st, seen, fmax_d, fmax_s, u_max)
    e_l = _energy(m, rho_d, rho_s, fmax_d, fmax_s, u_max)
    if e_l <= e0:
        return _answer(m, rho_d, rho_s, fmax_d, fmax_s, u_max, out), LATENCY_ONLY
    if m[TWO_PRUNED]:
        converged, rho_d, rho_s, f_d, f_s, u = _joint_newton(m, keys, logits, st, seen, e_l / e0 - 1.0,
                                                             evaluations_allowed)  # fmt: skip
        if converged:
            return _answer(m, rho_d, rho_s, f_d, f_s, u, out), JOINT_NEWTON
    if not have_floors:
        if floor_t > t0 * (1 + _EDGE):
            return STEP4_FAILED, NESTED_ROOTS
        e_min_top, nu_min, _, _, _ = _min_energy(m, top_d, top_s, floor_t)
        if e_min_top > e0 * (1 + _EDGE):
            return STEP4_FAILED, NESTED_ROOTS
    solved, rho_d, rho_s, f_d, f_s, u = _both_bind_nested(m, keys, logits, st, seen, e_min_top, nu_min)
    if not solved:
        return STEP4_FAILED, NESTED_ROOTS
    return _answer(m, rho_d, rho_s, f_d, f_s, u, out), NESTED_ROOTS


# The signatures make numba compile (or load from its cache in __pycache__) when this module is imported, not
# inside the first timed call: about 20 s once per checkout, ~0.1 s from the cache.
@njit("Tuple((i8, i8, UniTuple(f8, 10)))(f8[::1], f8[::1], f8[::1], i8)", cache=True)
def solve_row(row, keys, logits, evaluations_allowed):
    """``solve`` of one problem row: ``(code, step, out)``, ``out`` the answer's numbers (the ``O_*`` columns:
    the decision, objective, latency and energy of an optimal answer; the unpolished decision of a to-polish one;
    the floors of an infeasible one). ``keys`` and ``logits`` are the inverse-slope table of its bits per weight
    (slopes._slope_table)."""
    m = np.empty(_WIDTH)
    _derive(row, m)
    out = np.empty(OUT_WIDTH)
    code, step = _solve_one(m, keys, logits, np.empty(_STATE), np.empty((_SEEN, 6)), out, evaluations_allowed)
    return code, step, (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9])


@njit("void(f8[:, ::1], i8[::1], f8[:, ::1], f8[:, ::1], i8, f8[:, ::1], i1[::1], i1[::1])", cache=True)
def solve_rows(rows, table, keys, logits, evaluations_allowed, out, code, step):
    """:func:`solve_row` of every row, answers in ``out[i]``; ``keys[table[i]]`` and ``logits[table[i]]`` are row
    ``i``'s table."""
    m = np.empty(_WIDTH)
    st = np.empty(_STATE)
    seen = np.empty((_SEEN, 6))
    for i in range(rows.shape[0]):
        _derive(rows[i], m)
        row_keys, row_logits = keys[table[i]], logits[table[i]]
        code[i], step[i] = _solve_one(m, row_keys, row_logits, st, seen, out[i], evaluations_allowed)
