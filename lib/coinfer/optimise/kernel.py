"""The fast solver's steps and building blocks, written once and compiled (model.md section 5.3).

:func:`solve_row` (one problem, for :func:`coinfer.optimise.solve`) and
:func:`solve_rows` (many, for :func:`coinfer.optimise.solve_batch`) run the
algorithm described in ``solve``'s docstring: the floors, the least-distortion
point, the latency-only optimum, and where both budgets bind the joint 2-D
Newton with the nested roots as its fallback; then the answer
(:func:`coinfer.optimise.solution.finish_decision`: canonical values, the
decision's latency, energy and objective in the original variables, and the
polish when a budget is broken by a few ulps). A problem is a row of plain
numbers (:func:`coinfer.model.arithmetic.problem_row`), from which :func:`derive`
fills the model's numbers (:mod:`coinfer.model.arithmetic`) and the solver's own
(the slots below). Warm starts and the points a root remembers live in small
arrays, and each safeguarded Newton iteration is a loop that asks
:func:`_newton_step` for its next point (numba passes no closures around).

The building blocks are the only copies: the resources at a price of time
(:func:`resources`), the upload (:func:`upload`), latency and energy at given
ratios and resources (:func:`latency_of`, :func:`energy_of`), the least energy
at fixed ratios (:func:`least_energy`), the least-distortion ratios for a
budget (:func:`budget_ratios`, :func:`latency_ratios`), the distortion slope's
inverse and the two-sided ratio solves. The benchmark schemes call the same
compiled functions from Python, through :class:`coinfer.optimise.blocks.Blocks`.

Why compiled code: the same steps in Python take ~20-50 us per problem, and
over NumPy arrays each of their thousands of calls costs ~1-3 us whatever the
batch size (370x the conic reference at 300 problems); compiled, a problem
takes a few microseconds. Every function is decorated with
:func:`coinfer.base.jit.jcompile`: with ``COINFER_JIT=0`` this module runs as plain
Python (slowly; a test compares its answers with the compiled ones). numba's
cache of a compiled function watches only its own file, and these functions
call compiled functions of :mod:`coinfer.model.arithmetic` and
:mod:`coinfer.optimise.solution`: :func:`coinfer.base.jit.refresh_cache` below
deletes this module's cached machine code when either file changes, before
anything here is compiled.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from coinfer.base.jit import jcompile, refresh_cache
from coinfer.model import arithmetic
from coinfer.model.arithmetic import (
    A_D,
    A_S,
    BANDWIDTH,
    C_D,
    C_S,
    COUNTED_S,
    E0,
    FLAT_D,
    FLAT_END,
    FLAT_S,
    FMAX_D,
    FMAX_S,
    G_D,
    G_S,
    K_D,
    K_S,
    LN2,
    MAG,
    MODEL_WIDTH,
    NOISE,
    PMAX,
    RHO_MAX,
    S_BITS,
    SHARED,
    T0,
    TOP_D,
    TOP_S,
    Q,
    decision_terms,
    derive_model,
    distortion_slope,
    flat_end,
)
from coinfer.optimise import solution
from coinfer.optimise.solution import EDGE, finish_decision

# The public functions and sizes; the slots of `m` and `st`, the answer's codes and columns are module constants.
__all__ = [
    "JOINT_NEWTON_EVALUATIONS",
    "OUT_WIDTH",
    "SEEN",
    "STATE",
    "WIDTH",
    "answer_numbers",
    "brent_step",
    "budget_ratios",
    "decision_values",
    "derive",
    "energy_of",
    "fixed_energy",
    "fixed_time",
    "latency_of",
    "latency_ratios",
    "least_energy",
    "newton_result",
    "newton_start",
    "newton_step",
    "ratio_and_derivative",
    "remember",
    "remembered",
    "resources",
    "slope_table",
    "solve_paper",
    "solve_row",
    "solve_rows",
    "tx_exponent",
    "upload",
    "uplink_psi",
]

#: The files whose compiled functions this module's compiled code calls (coinfer.base.jit.refresh_cache).
COMPILED_DEPENDENCIES = (arithmetic.__file__, solution.__file__)
refresh_cache(__file__, COMPILED_DEPENDENCIES)

#: Evaluations of the KKT state after which the joint Newton gives up and the nested roots take over (most
#: instances converge within 4-8). Passed to the compiled code at each call, so a test may change it.
JOINT_NEWTON_EVALUATIONS = 32
#: Halvings of one joint Newton step before it gives up.
_HALVINGS = 10
#: How far inside both budgets (relative) the joint Newton aims when it converged just outside.
_INSIDE = 2e-15
#: Largest joint Newton step in ``x = ln nu`` and in ``y = ln`` multiplier (a trust region).
_MAX_STEP_X, _MAX_STEP_Y = 3.0, 20.0

# --- the solver's numbers of one problem, derived from its row by `derive`: slots of `m` after the model's ---
RUNS_D, RUNS_S = MODEL_WIDTH, MODEL_WIDTH + 1  # whether each side runs anything, W(0) > 0
U_MAX = MODEL_WIDTH + 2  # the uplink's exponent at P_max, ln(1 + P_max / C)
#: The price of time nu (W) at which each resource reaches its maximum (2 k f_max^3, C((u - 1) e^u + 1)), and
#: the largest of them.
NU_SAT_F_D, NU_SAT_F_S, NU_SAT_TX, NU_SAT = MODEL_WIDTH + 3, MODEL_WIDTH + 4, MODEL_WIDTH + 5, MODEL_WIDTH + 6
#: Two sides with their own ratio, each with work to prune and weights to lose: step 4 has two multipliers.
TWO_PRUNED = MODEL_WIDTH + 7
#: The distortion slope's range (:func:`_inverse_slope`): the flat end rho0, the slopes at rho0 and rho_max,
#: the logit of rho_max.
RHO0, S0, SMAX, Z_MAX = MODEL_WIDTH + 8, MODEL_WIDTH + 9, MODEL_WIDTH + 10, MODEL_WIDTH + 11
WIDTH = MODEL_WIDTH + 12

# --- the warm state of one solve, slots of `st`: the inverse slope's starting logits per side, the ratio
# multiplier's last root (a start for the next), and the ratios with their slopes at that root ---
GUESS_D, GUESS_S, Y_GUESS, LAST_VALID, LAST_Y, LAST_R_D, LAST_R_S, LAST_D_D, LAST_D_S = 0, 1, 2, 3, 4, 5, 6, 7, 8
MULT_GUESS_D, MULT_GUESS_S = 9, 10  # the fresh guesses of _multiplier_ratios
STATE = 11
NO_GUESS = -1

#: Points a root remembers, to answer with the ratios it computed at its root: an inner root takes at most
#: 200 steps, the nested roots' outer search at most 412 evaluations (a fuller buffer only recomputes).
SEEN, _PATH = 256, 1024

# --- the answer of one problem: codes, and the columns of `out` ---
#: TO_POLISH: the polish left a violation (the caller reports it, from the partly polished decision in
#: ``out``); STEP4_FAILED: the nested roots found no bracket of the energy budget along the path (seen only at
#: absurd inputs, e.g. distortion weights 1e120 apart; the caller reports a solver error instead of a wrong
#: optimum).
OPTIMAL, INFEASIBLE_LATENCY, INFEASIBLE_ENERGY, TO_POLISH, STEP4_FAILED = 0, 1, 2, 3, 4
#: Which step of model.md section 5.3 settled an optimal or to-polish answer.
AT_FLOOR, LEAST_DISTORTION, LATENCY_ONLY, JOINT_NEWTON, NESTED_ROOTS = 0, 1, 2, 3, 4
#: The decision, its objective, latency and energy, its per-part breakdown (the last eight terms of
#: coinfer.model.arithmetic.decision_terms, from O_PARTS on), then the floors of an infeasible answer.
(O_RHO_D, O_RHO_S, O_POWER, O_F_D, O_F_S, O_OBJECTIVE, O_LATENCY, O_ENERGY, O_PARTS,
 O_FLOOR_T, O_E_MIN) = 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 17  # fmt: skip
#: The columns of an answer with a decision (the decision, its terms and its breakdown).
O_ANSWER = 16
OUT_WIDTH = 18

#: Keys of different q in the inverse-slope table are this far apart (|ln D'| stays far below).
_TABLE_OFFSET = 1e4


@lru_cache(maxsize=64)
def slope_table(q: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ln D'(z), z)`` of ``rd_bound`` on a grid of logits ``z`` of the ratio (model.md section 4.3).

    ``ln D'(z) = rho ln rho + (1 - rho) ln(1 - rho) - q ln2 (1 - rho) + ln(z + q ln2)`` increases with ``z``
    beyond the flat end; linear interpolation in this table starts the Newton iteration of
    :func:`_inverse_slope` within ~1e-5 of the root, so that two steps reach full precision. The solver's
    entry points take it as two arrays (``keys``, ``logits``) of 8192 floats.
    """
    qln2 = q * LN2
    r0 = flat_end(q)
    z_lo = max(math.log(r0 / (1 - r0)), -qln2 + 1e-6)
    z = np.linspace(z_lo, 40.0, 8192)
    rho = 1.0 / (1.0 + np.exp(-z))
    kept = 1.0 / (1.0 + np.exp(z))
    h = rho * np.log(rho) + kept * np.log(kept) - qln2 * kept + np.log(z + qln2)
    return np.maximum.accumulate(np.maximum(h, -0.4 * _TABLE_OFFSET)), z


# --- the uplink ---


@jcompile()
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


@jcompile()
def _psi(u):
    """``(u - 1) e^u + 1`` without cancellation for small ``u`` (series ``sum (n-1) u^n / n!``)."""
    if u > 0.05:
        return (u - 1.0) * math.exp(u) + 1.0
    term, total = u * u / 2.0, 0.0
    for n in range(2, 14):
        total += (n - 1) * term
        term *= u / (n + 1)
    return total


@jcompile()
def _tx_exponent(r):
    """``u >= 0`` with ``(u - 1) e^u + 1 = r`` (the uplink's KKT condition, ``r = nu / C``).

    Lambert W for moderate ``r``; for small ``r`` (``u ~ sqrt(2 r)``) Newton on the series of :func:`_psi`,
    because ``(r - 1)/e`` would lose every digit of ``r``."""
    if r > 0.1:
        return 1.0 + _lambert_w0((r - 1.0) / math.e)
    u = math.sqrt(2.0 * r)
    for _ in range(8):
        step = (_psi(u) - r) / (u * math.exp(u))
        u -= step
        if abs(step) <= 1e-16 * u:
            break
    return u


# --- the inverse of the distortion slope (coinfer.model.arithmetic.distortion_slope) and the two-sided ratios ---


@jcompile()
def _table_logit(keys, logits, target, lo, hi):
    """Logit where ``ln D'`` of ``rd_bound`` is ``target``, interpolated in :func:`slope_table` (~1e-5); the
    middle of ``(lo, hi)`` where the table does not place it inside."""
    j = np.searchsorted(keys, target)  # bisect_left
    if 0 < j < keys.size and keys[j] > keys[j - 1]:
        z = logits[j - 1] + (target - keys[j - 1]) * (logits[j] - logits[j - 1]) / (keys[j] - keys[j - 1])
        if lo < z < hi:
            return z
    return 0.5 * (lo + hi)


@jcompile()
def _inverse_slope(m, keys, logits, s, st, slot):
    """Smallest minimiser of ``D(rho)/b - s rho`` over ``[0, rho_max]``, for a slope ``s > 0``: the ratio where the
    marginal distortion equals the marginal saving ``s`` (model.md section 5.3).

    ``magnitude``: ``1 - e^-s`` in closed form. ``rd_bound``: a safeguarded Newton iteration on
    ``ln D'(z) = ln s`` in the logit ``z`` of the ratio, which is smooth and increasing, clipped to
    ``[rho0, rho_max]``. ``st[slot]`` holds a starting logit, updated in place (``slot`` NO_GUESS: none): the
    callers' root finders ask for nearby slopes, so warm starts save most Newton steps; cold, the table
    (``keys``, ``logits``: :func:`slope_table`) starts it about two steps from full precision.
    """
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
    z = guess if not math.isnan(guess) and lo < guess < hi else _table_logit(keys, logits, target, lo, hi)
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


@jcompile()
def _ratio_and_derivative(m, keys, logits, s, st, slot):
    """``(rho, d rho / d ln s)`` of :func:`_inverse_slope` (the derivative 0 where the ratio is clipped or flat)."""
    rho_max = m[RHO_MAX]
    if m[MAG]:
        e = math.exp(-s)
        rho = -math.expm1(-s)
        return (rho, s * e) if rho < rho_max else (rho_max, 0.0)
    rho = _inverse_slope(m, keys, logits, s, st, slot)
    if rho <= m[RHO0] or rho >= rho_max:
        return rho, 0.0
    mm = math.log(rho / (1 - rho)) + m[Q] * LN2
    # d ln D'/dz = mm rho (1 - rho) + 1/mm with z = logit(rho), and d rho/dz = rho (1 - rho)
    return rho, rho * (1 - rho) / (mm * rho * (1 - rho) + 1.0 / mm)


@jcompile()
def _paired_ratios(m, keys, logits, log_sigma_d, log_sigma_s, weight_d, weight_s, budget, start):
    """``rd_bound`` ratios of two sides with one multiplier, ``ln D'(z_i) - ln sigma_i`` equal on both sides, and
    kept work ``sum_i weight_i (1 - rho_i) = budget`` just met (model.md section 5.3): ``(found, rho_d, rho_s)``.

    Newton in the two logits ``z_i`` of the ratios, where ``ln D'`` has a closed form: no inverse of the slope
    per step. ``start`` is a log multiplier. Not found when the iteration leaves the open interval
    ``(rho0, rho_max)`` (a ratio is clipped) or does not converge in a few steps; the caller then takes the
    1-D root in the multiplier (:func:`_multiplier_ratios`).
    """
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
        if aim:  # the last step was aimed just inside the budget: keep it if it is inside
            return f2 <= 0, 1.0 - kept_d, 1.0 - kept_s
        det = dh_d * dkept_s + dh_s * dkept_d  # of [[dh_d, -dh_s], [dkept_d, dkept_s]]
        if det == 0.0:
            return False, 0.0, 0.0
        dz_d = (-f1 * dkept_s - dh_s * f2) / det
        dz_s = (dkept_d * f1 - dh_d * f2) / det
        if abs(dz_d) <= 1e-9 * max(1.0, abs(z_d)) and abs(dz_s) <= 1e-9 * max(1.0, abs(z_s)):
            # Quadratic convergence: the next step lands within ~1e-18; aim it 2e-15 inside the budget
            # (a 1-D root from the feasible side does the same), so that no polish is needed.
            aim = 2e-15 * max(abs(budget), 1e-300)
            f2 += aim
            dz_d = (-f1 * dkept_s - dh_s * f2) / det
            dz_s = (dkept_d * f1 - dh_d * f2) / det
        z_d += dz_d
        z_s += dz_s
        if not (lo < z_d < z_max and lo < z_s < z_max):
            return False, 0.0, 0.0
    return False, 0.0, 0.0


@jcompile()
def _magnitude_ratios(m, sigma_d, sigma_s, weight_d, weight_s, budget, start):
    """``magnitude`` ratios of two sides with one multiplier ``s``, ``rho_i = min(1 - e^(-s sigma_i), rho_max)``
    (``D'(rho) = -ln(1 - rho)``), whose kept work ``sum_i weight_i (1 - rho_i)`` just meets ``budget``:
    ``(found, rho_d, rho_s)``.

    Newton on the log of the kept work in ``s`` itself: a log-sum-exp of functions linear in ``s``, so convex
    and exactly linear while one side dominates (one or two steps). ``start`` is a log multiplier. Not found
    when both ratios are clipped or it does not converge in a few steps; the caller then takes the 1-D root in
    the log multiplier (:func:`_multiplier_ratios`).
    """
    floor = 1.0 - m[RHO_MAX]
    log_budget = math.log(budget)
    mult = math.exp(start)
    aim = 0.0
    for _ in range(12):
        kept_d, kept_s = max(math.exp(-mult * sigma_d), floor), max(math.exp(-mult * sigma_s), floor)
        load = weight_d * kept_d + weight_s * kept_s
        gap = math.log(load) - log_budget
        if aim:  # the last step was aimed just inside the budget: keep it if it is inside
            return load <= budget, 1.0 - kept_d, 1.0 - kept_s
        # d load / d mult of the sides that are not clipped at rho_max
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
            # Quadratic convergence: the next step lands within ~1e-18; aim it 2e-15 inside the budget.
            aim = 2e-15
            step = -(gap + aim) / slope
        mult = max(mult + step, 0.5 * mult)  # convex: a step below zero means far to the left
    return False, 0.0, 0.0


# --- a safeguarded Newton root of a non-increasing g from the feasible side, as a loop the caller drives:
# _newton_start, then _newton_step(g(y), g'(y)) at y = nw[_NW_Y] until it returns True, then _newton_result.
# It returns a point with g <= 0 within ~rtol of the root, or hi if g > 0 on the whole bracket, or lo if g <= 0
# on the whole bracket. `nw` holds its state ---

_NW_Y, _NW_LO, _NW_HI, _NW_LO0, _NW_FEASIBLE, _NW_LAST, _NW_RTOL, _NW_STEPS = range(8)


@jcompile()
def _newton_start(lo, hi, start, rtol):
    """The state of a safeguarded Newton root on ``[lo, hi]`` (``start`` NaN: none); its first point is ``nw[0]``."""
    nw = np.empty(8)
    nw[_NW_Y] = start if (not math.isnan(start) and lo < start < hi) else 0.5 * (lo + hi)
    nw[_NW_LO], nw[_NW_HI], nw[_NW_LO0] = lo, hi, lo
    nw[_NW_FEASIBLE], nw[_NW_LAST], nw[_NW_RTOL], nw[_NW_STEPS] = math.nan, 0.0, rtol, 0.0
    return nw


@jcompile()
def _newton_step(nw, g, dg):
    """Take ``(g, g')`` at ``nw[0]``; True when the root is found (then :func:`_newton_result`), else ``nw[0]``
    is the next point (a Newton step, bisection when the step leaves the bracket)."""
    y, lo, hi = nw[_NW_Y], nw[_NW_LO], nw[_NW_HI]
    nw[_NW_STEPS] += 1
    if g <= 0:
        hi = nw[_NW_HI] = y
        nw[_NW_FEASIBLE] = y
        if nw[_NW_LAST]:  # the step that quadratic convergence makes final landed on the feasible side
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
        step = 2 * tol  # converged from the infeasible side: step over the root
    # Within 1e-7 of the root Newton's next point is within ~1e-14 of it: aim just past the root (g <= 0) and
    # stop there, instead of a further step that only confirms convergence.
    last = abs(step) <= 1e-7 * max(1.0, abs(y))
    nw[_NW_LAST] = last
    if last:
        step += 2 * tol
    nxt = y + step
    if not lo < nxt < hi:
        nxt = 0.5 * (lo + hi)
    nw[_NW_Y] = nxt
    return nw[_NW_STEPS] >= 200


@jcompile()
def _newton_result(nw):
    """The root found by :func:`_newton_step`: the last feasible point (``lo`` if it is at or below ``lo``), or
    ``hi`` if none was feasible."""
    feasible = nw[_NW_FEASIBLE]
    if math.isnan(feasible):
        return nw[_NW_HI]
    return nw[_NW_LO0] if feasible <= nw[_NW_LO0] else feasible


# --- the building blocks: resources as functions of the price of time nu = lambda / mu (W), and the latency and
# energy of ratios and resources (f_d, f_s in Hz; u = S ln2 / (B t_tx), the uplink's exponent) ---


@jcompile()
def derive(row, m):
    """Fill ``m`` (:data:`WIDTH` floats) with the numbers of the problem ``row``: the model's
    (:func:`coinfer.model.arithmetic.derive_model`), then the solver's (the slots from ``RUNS_D`` on)."""
    derive_model(row, m)
    rho_max = m[RHO_MAX]
    a_d, a_s, g_d, g_s = m[A_D], m[A_S], m[G_D], m[G_S]
    runs_d, runs_s = a_d + g_d > 0, a_s + g_s > 0
    k_d, k_s, fmax_d, fmax_s = m[K_D], m[K_S], m[FMAX_D], m[FMAX_S]
    m[RUNS_D], m[RUNS_S] = runs_d, runs_s
    m[TWO_PRUNED] = m[SHARED] == 0.0 and a_d > 0 and a_s > 0 and m[C_D] > 0 and m[C_S] > 0
    u_max = m[U_MAX] = math.log1p(m[PMAX] / m[NOISE])
    nu_sat_d = m[NU_SAT_F_D] = 2 * k_d * fmax_d**3.0
    nu_sat_s = m[NU_SAT_F_S] = 2 * k_s * fmax_s**3.0 if m[COUNTED_S] else 0.0
    nu_sat_tx = m[NU_SAT_TX] = m[NOISE] * ((u_max - 1.0) * math.exp(u_max) + 1.0) if m[S_BITS] > 0 else 0.0
    m[NU_SAT] = max(nu_sat_tx, nu_sat_d if runs_d else 0.0, nu_sat_s if runs_s else 0.0)
    m[RHO0] = 0.0 if m[MAG] else m[FLAT_END]
    m[S0] = distortion_slope(m, m[RHO0])
    m[SMAX] = distortion_slope(m, rho_max)
    m[Z_MAX] = math.log(rho_max / (1 - rho_max)) if rho_max > 0 else -math.inf


@jcompile()
def resources(m, nu):
    """``(f_d, f_s, u)`` minimising ``energy + nu * time`` per cycle and per sent bit at the price of time ``nu``
    (W): ``f = min(f_max, (nu / (2 k))^(1/3))`` (``f_max`` where its energy is not counted), and ``u`` from
    ``C((u - 1) e^u + 1) = nu``, clipped at ``u_max`` (model.md section 5.3)."""
    f_d = m[FMAX_D] if nu >= m[NU_SAT_F_D] else (nu / (2 * m[K_D])) ** (1 / 3)
    f_s = m[FMAX_S] if not m[COUNTED_S] or nu >= m[NU_SAT_F_S] else (nu / (2 * m[K_S])) ** (1 / 3)
    if m[S_BITS] <= 0 or nu >= m[NU_SAT_TX]:
        u = m[U_MAX]
    else:
        u = max(min(_tx_exponent(nu / m[NOISE]), m[U_MAX]), 1e-300)
    return f_d, f_s, u


@jcompile()
def upload(m, u):
    """``(t_tx, E_tx, p)`` of the upload at exponent ``u`` [s, J, W] (zeros when nothing is sent)."""
    if m[S_BITS] <= 0:
        return 0.0, 0.0, 0.0
    t = m[S_BITS] * LN2 / (m[BANDWIDTH] * u)
    p = m[NOISE] * math.expm1(u)
    return t, p * t, p


@jcompile()
def latency_of(m, rho_d, rho_s, f_d, f_s, u):
    """Latency [s] of the ratios ``rho_d, rho_s`` at the resources ``f_d, f_s, u``."""
    t = m[S_BITS] * LN2 / (m[BANDWIDTH] * u) if m[S_BITS] > 0 else 0.0
    if m[RUNS_D]:
        t += (m[A_D] * (1 - rho_d) + m[G_D]) / f_d
    if m[RUNS_S]:
        t += (m[A_S] * (1 - rho_s) + m[G_S]) / f_s
    return t


@jcompile()
def energy_of(m, rho_d, rho_s, f_d, f_s, u):
    """Energy [J] of the ratios at the resources (the server's only with the ``system`` energy scope)."""
    e = upload(m, u)[1]
    if m[RUNS_D]:
        e += m[K_D] * (m[A_D] * (1 - rho_d) + m[G_D]) * (f_d * f_d)
    if m[RUNS_S] and m[COUNTED_S]:
        e += m[K_S] * (m[A_S] * (1 - rho_s) + m[G_S]) * (f_s * f_s)
    return e


@jcompile()
def fixed_time(m, f_d, f_s, u):
    """Time [s] that pruning cannot remove at the resources: the upload plus the fixed cycles."""
    fixed = 0.0
    if m[G_D] > 0:
        fixed += m[G_D] / f_d
    if m[G_S] > 0:
        fixed += m[G_S] / f_s
    return (m[S_BITS] * LN2 / (m[BANDWIDTH] * u) if m[S_BITS] > 0 else 0.0) + fixed


@jcompile()
def fixed_energy(m, f_d, f_s, u):
    """Energy [J] that pruning cannot remove at the resources: the upload plus the counted fixed cycles."""
    fixed = 0.0
    if m[G_D] > 0:
        fixed += m[K_D] * m[G_D] * (f_d * f_d)
    if m[G_S] > 0 and m[COUNTED_S]:
        fixed += m[K_S] * m[G_S] * (f_s * f_s)
    return upload(m, u)[1] + fixed


@jcompile()
def decision_values(m, rho_d, rho_s, f_d, f_s, u):
    """The decision ``(rho_d, rho_s, power, f_d, f_s)`` of ratios and resources: ``f_max`` on a side that runs
    nothing, the power of ``u`` (``P_max`` at ``u_max``, where ``C (e^u - 1)`` could round past it; 0 when
    nothing is sent)."""
    f_d = f_d if m[RUNS_D] else m[FMAX_D]
    f_s = f_s if m[RUNS_S] else m[FMAX_S]
    if m[S_BITS] > 0:
        power = m[PMAX] if u >= m[U_MAX] else min(upload(m, u)[2], m[PMAX])
    else:
        power = 0.0
    return rho_d, rho_s, power, f_d, f_s


@jcompile()
def _log_time_and_slope(m, rho_d, rho_s, x):
    """``ln(time / T0)`` (the sign of ``time - T0``) at the resources of price ``nu = e^x``, and its derivative in
    ``x``: nearly linear in ``x`` (each priced time falls like ``nu^(-1/3)``), so Newton needs fewer steps than
    on the time itself."""
    nu = math.exp(x)
    f_d, f_s, u = resources(m, nu)
    t0 = m[T0]
    t_tx = slope = 0.0
    if m[S_BITS] > 0:
        t_tx = m[S_BITS] * LN2 / (m[BANDWIDTH] * u)
        if nu < m[NU_SAT_TX]:
            slope = -t_tx / u * nu / (m[NOISE] * u * math.exp(u))  # du/dx from C((u - 1) e^u + 1) = nu
    gap = t_tx - t0
    if m[RUNS_D]:
        t_d = (m[A_D] * (1 - rho_d) + m[G_D]) / f_d
        gap += t_d
        if nu < m[NU_SAT_F_D]:
            slope -= t_d / 3.0  # f ~ nu^(1/3)
    if m[RUNS_S]:
        t_s = (m[A_S] * (1 - rho_s) + m[G_S]) / f_s
        gap += t_s
        if m[COUNTED_S] and nu < m[NU_SAT_F_S]:
            slope -= t_s / 3.0
    return math.log1p(gap / t0), slope / (t0 + gap)


@jcompile()
def least_energy(m, rho_d, rho_s, t_top):
    """Least energy meeting the latency budget at fixed ratios: ``(E, nu, f_d, f_s, u)`` [J, W, Hz, Hz, -].

    Each resource then minimises ``energy + nu * time``; the price ``nu`` is found by a 1-D root on
    ``time(nu) = T0`` (time falls as ``nu`` grows), bracketed downwards from the saturation price. ``t_top`` is
    the time at the ratios and maximum resources if the caller has it (NaN: not known); where even that does not
    meet the budget, or no resource has a price, the answer is maximum resources (``nu`` infinite).
    """
    f_d, f_s, u = m[FMAX_D], m[FMAX_S], m[U_MAX]
    if math.isnan(t_top):
        t_top = latency_of(m, rho_d, rho_s, f_d, f_s, u)
    if m[NU_SAT] <= 0 or t_top >= m[T0]:
        return energy_of(m, rho_d, rho_s, f_d, f_s, u), math.inf, f_d, f_s, u
    hi = math.log(m[NU_SAT])
    lo = hi - 2.0
    bracketed = False
    for _ in range(400):
        f_d, f_s, u = resources(m, math.exp(lo))
        if latency_of(m, rho_d, rho_s, f_d, f_s, u) > m[T0]:
            bracketed = True
            break
        hi = lo
        lo -= 4.0
    if not bracketed:
        f_d, f_s, u = resources(m, math.exp(lo))
        return energy_of(m, rho_d, rho_s, f_d, f_s, u), math.exp(lo), f_d, f_s, u
    nw = _newton_start(lo, hi, math.nan, 1e-13)
    while True:
        g, dg = _log_time_and_slope(m, rho_d, rho_s, nw[_NW_Y])
        if _newton_step(nw, g, dg):
            break
    x = _newton_result(nw)
    f_d, f_s, u = resources(m, math.exp(x))
    return energy_of(m, rho_d, rho_s, f_d, f_s, u), math.exp(x), f_d, f_s, u


@jcompile()
def _remembered(seen, count, y):
    """Index of the last remembered point ``y`` among ``seen[:count]`` (column 0), or -1."""
    for j in range(min(count, seen.shape[0]) - 1, -1, -1):
        if seen[j, 0] == y:
            return j
    return -1


@jcompile()
def _remember(seen, count, y, v1, v2, v3, v4, v5):
    """Remember the point ``y`` with five values in ``seen[count]`` (while there is room): ``count + 1``."""
    if count < seen.shape[0]:
        seen[count, 0], seen[count, 1], seen[count, 2] = y, v1, v2
        seen[count, 3], seen[count, 4], seen[count, 5] = v3, v4, v5
    return count + 1


@jcompile()
def budget_ratios(m, keys, logits, st, seen, alpha_d, alpha_s, const, target):
    """Least-distortion ratios with the weighted kept work ``sum_i alpha_i a_i (1 - rho_i) + const <= target``:
    ``(rho_d, rho_s)`` (model.md section 5.3).

    KKT: each side's marginal distortion ``c_i D'(rho_i) = mult alpha_i a_i``, with one multiplier. The flat
    point where it fits; the most useful pruning where even that does not fit; closed forms for a shared ratio
    and for one side to prune; else Newton where the slope has a closed form (:func:`_magnitude_ratios`,
    :func:`_paired_ratios`), with the 1-D root in the log multiplier (:func:`_multiplier_ratios`) where a ratio
    is clipped. ``alpha`` prices a cycle (``1 / f``: latency, s per cycle; ``k f^2``: energy, J per cycle).
    """
    a_d, a_s = m[A_D], m[A_S]
    flat_d, flat_s = m[FLAT_D], m[FLAT_S]
    w_d = alpha_d * a_d if a_d > 0 else 0.0
    w_s = alpha_s * a_s if a_s > 0 else 0.0
    if const + w_d * (1 - flat_d) + w_s * (1 - flat_s) <= target:
        return flat_d, flat_s
    # The most useful pruning: sides that do not load this budget stay at the flat point.
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
    if not (w_d > 0 and c_d > 0 and w_s > 0 and c_s > 0):  # one side to prune: the budget fixes its ratio
        if w_d > 0 and c_d > 0:
            rho = 1.0 - (target - const - w_s * (1 - flat_s)) / w_d
            return min(max(rho, flat_d), rmax), flat_s
        rho = 1.0 - (target - const - w_d * (1 - flat_d)) / w_s
        return flat_d, min(max(rho, flat_s), rmax)
    sigma_d, sigma_s = w_d / c_d, w_s / c_s
    # Start at the multiplier at which a common ratio would meet the budget, with the sides' log-slopes averaged
    # by their loads (Newton then needs ~3 steps).
    common = min(max(1.0 - (target - const) / (w_d + w_s), 1e-6), 0.999999 * rmax)
    log_sigma_d, log_sigma_s = math.log(sigma_d), math.log(sigma_s)
    mean_log_sigma = (w_d * log_sigma_d + w_s * log_sigma_s) / (w_d + w_s)
    start = math.log(max(distortion_slope(m, common), 1e-300)) - mean_log_sigma
    if m[MAG]:
        found, rho_d, rho_s = _magnitude_ratios(m, sigma_d, sigma_s, w_d, w_s, target - const, start)
    else:
        found, rho_d, rho_s = _paired_ratios(m, keys, logits, log_sigma_d, log_sigma_s, w_d, w_s, target - const, start)
    if found:
        return rho_d, rho_s
    return _multiplier_ratios(m, keys, logits, st, seen, w_d, w_s, sigma_d, sigma_s, target - const, start)


@jcompile()
def _multiplier_ratios(m, keys, logits, st, seen, weight_d, weight_s, sigma_d, sigma_s, budget, start):
    """:func:`budget_ratios` of two pruned sides by the 1-D root in the log multiplier (a ratio clipped): the
    kept work ``weight_d (1 - rho_d) + weight_s (1 - rho_s) - budget`` falls as the multiplier grows. The ratios
    are those computed at the root (remembered in ``seen``), not recomputed."""
    smax = distortion_slope(m, m[RHO_MAX])
    m_hi = max(smax / sigma_d, smax / sigma_s)
    if m[MAG]:
        m_lo = m_hi * 1e-40
    else:
        s0 = max(distortion_slope(m, m[FLAT_END]), 1e-300)
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


@jcompile()
def latency_ratios(m, keys, logits, st, seen, f_d, f_s, u):
    """Least-distortion ratios that meet the latency budget at the resources ``f_d, f_s`` [Hz], ``u``
    (:func:`budget_ratios` with a cycle priced at ``1 / f`` seconds)."""
    return budget_ratios(m, keys, logits, st, seen, 1 / f_d, 1 / f_s, fixed_time(m, f_d, f_s, u), m[T0])


@jcompile()
def _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u):
    """KKT ratios at the price of time ``nu`` and its resources: each side's marginal distortion equals
    ``mu (eta psi f^2 [counted] + nu / f) a / c``, with the multiplier ``mu`` set by the latency budget (a root in
    ``ln mu``, started from the last one). Leaves that root and the ratios' slopes there in ``st``."""
    t_fixed = fixed_time(m, f_d, f_s, u)
    weight_d = m[K_D] * (f_d * f_d) + nu / f_d
    weight_s = (m[K_S] * (f_s * f_s) if m[COUNTED_S] else 0.0) + nu / f_s
    if not m[TWO_PRUNED]:
        return latency_ratios(m, keys, logits, st, seen, f_d, f_s, u)
    alpha_d, alpha_s = 1 / f_d, 1 / f_s
    a_d, a_s = m[A_D], m[A_S]
    sigma_d, sigma_s = weight_d * a_d / m[C_D], weight_s * a_s / m[C_S]
    st[LAST_VALID] = 0.0
    smax = distortion_slope(m, m[RHO_MAX])
    hi = math.log(max(smax / sigma_d, smax / sigma_s))
    if m[MAG]:  # e^-92: every ratio below 1e-40; sides whose prices differ by more widen the bracket
        lo = hi - 92.0 - abs(math.log(sigma_d / sigma_s))
    else:
        s0 = max(distortion_slope(m, m[FLAT_END]), 1e-300)
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


@jcompile()
def _kkt_state(m, keys, logits, st, x, y, f0, f1, u):
    """The KKT ratios of ``(x, y) = (ln nu, ln mu)`` (two pruned sides) at the resources ``f0, f1, u`` of ``nu``,
    and ``(rho_d, rho_s, T/T0 - 1, E/E0 - 1)`` with the partial derivatives of the last two in ``x`` and ``y``
    (model.md section 5.3). The ratios and slopes of :func:`_price_ratios`' last root are reused at its ``y``."""
    nu = math.exp(x)
    last = st[LAST_VALID] != 0.0 and st[LAST_Y] == y
    t_tx, e_tx, _ = upload(m, u)
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


@jcompile()
def _log_kkt_state(m, keys, logits, st, x, y):
    """:func:`_kkt_state` at the resources of ``nu = e^x``, its residuals as ``(lt, le) = (ln T/T0, ln E/E0)``
    and their partial derivatives: ``(rho_d, rho_s, f_d, f_s, u, lt, le, tx, ty, ex, ey)``."""
    f_d, f_s, u = resources(m, math.exp(x))
    rho_d, rho_s, t, e, tx, ty, ex, ey = _kkt_state(m, keys, logits, st, x, y, f_d, f_s, u)
    if t <= -1.0 or e <= -1.0:
        return rho_d, rho_s, f_d, f_s, u, math.inf, math.inf, 0.0, 0.0, 0.0, 0.0
    lt, le = math.log1p(t), math.log1p(e)
    return rho_d, rho_s, f_d, f_s, u, lt, le, tx / (1 + t), ty / (1 + t), ex / (1 + e), ey / (1 + e)


@jcompile()
def _common_multiplier(m, x):
    """Log ratio multiplier at ``nu = e^x`` at which one common ratio meets the latency budget, with the sides'
    log-prices averaged by their loads: the joint Newton's start."""
    nu = math.exp(x)
    f_d, f_s, u = resources(m, nu)
    load_d, load_s = m[A_D] / f_d, m[A_S] / f_s
    target = m[T0] - fixed_time(m, f_d, f_s, u)
    common = min(max(1.0 - target / (load_d + load_s), 1e-6), 0.999999 * m[RHO_MAX])
    log_sigma_d = math.log((m[K_D] * (f_d * f_d) + nu / f_d) * m[A_D] / m[C_D])
    log_sigma_s = math.log(((m[K_S] * (f_s * f_s) if m[COUNTED_S] else 0.0) + nu / f_s) * m[A_S] / m[C_S])
    mean_log_sigma = (load_d * log_sigma_d + load_s * log_sigma_s) / (load_d + load_s)
    return math.log(max(distortion_slope(m, common), 1e-300)) - mean_log_sigma


@jcompile()
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
        f_d, f_s, u = resources(m, nu)
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


@jcompile()
def _path_point(m, keys, logits, st, seen, path, count, x):
    """The point at ``x = ln nu`` of the path where the latency budget binds: its ratios and resources,
    remembered in ``path``; returns ``(count, rho_d, rho_s, f_d, f_s, u)``."""
    nu = math.exp(x)
    f_d, f_s, u = resources(m, nu)
    rho_d, rho_s = _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u)
    count = _remember(path, count, x, rho_d, rho_s, f_d, f_s, u)
    return count, rho_d, rho_s, f_d, f_s, u


@jcompile()
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
    g_hi = energy_of(m, r_d, r_s, f_d, f_s, u) - m[E0]
    while g_hi <= 0 and hi < lo + 1500.0:
        hi += 10.0
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, hi)
        g_hi = energy_of(m, r_d, r_s, f_d, f_s, u) - m[E0]
    if math.isfinite(nu_min):
        g_lo = e_min_top - m[E0]
    else:
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, lo)
        g_lo = energy_of(m, r_d, r_s, f_d, f_s, u) - m[E0]
    for _ in range(60):
        if g_lo <= 0:
            break
        lo -= 1e-9 * max(1.0, abs(lo))
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, lo)
        g_lo = energy_of(m, r_d, r_s, f_d, f_s, u) - m[E0]
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
    f_d, f_s, u = resources(m, nu)
    r_d, r_s = _price_ratios(m, keys, logits, st, seen, nu, f_d, f_s, u)
    return True, r_d, r_s, f_d, f_s, u


@jcompile()
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


@jcompile()
def brent_step(a, fa, b, fb, c, fc, d, e, xtol):
    """One step of Brent's method (inverse quadratic interpolation, secant, bisection) on the bracket of a root.

    ``b`` is the current best point, ``a`` the previous one and ``c`` the
    contrapoint (``f(b)`` and ``f(c)`` of opposite signs); ``d``, ``e`` the
    last two steps. Returns ``(done, a, fa, b, fb, c, fc, d, e)``: ``done``
    when the bracket is within ``xtol`` (or ``f(b) = 0``), else the next ``b``
    to evaluate (its ``fb`` is stale until the caller sets it). The one copy of
    the step for the nested roots of both system models (model.md section 5.3).
    """
    if (fb > 0) == (fc > 0):
        c, fc = a, fa
        d = e = b - a
    if abs(fc) < abs(fb):
        a, b, c = b, c, b
        fa, fb, fc = fb, fc, fb
    tol = 2e-16 * abs(b) + 0.5 * xtol
    mid = 0.5 * (c - b)
    if abs(mid) <= tol or fb == 0:
        return True, a, fa, b, fb, c, fc, d, e
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
    return False, a, fa, b, fb, c, fc, d, e


@jcompile()
def _brent_energy(m, keys, logits, st, seen, path, count, a, b, fa, fb):
    """Brent's method (:func:`brent_step`; xtol 1e-13) for the root of the energy along the path on
    ``[a, b]``, given its values there: ``(found, x, count)``."""
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
        done, a, fa, b, fb, c, fc, d, e = brent_step(a, fa, b, fb, c, fc, d, e, xtol)
        if done:
            return True, b, count
        count, r_d, r_s, f_d, f_s, u = _path_point(m, keys, logits, st, seen, path, count, b)
        fb = energy_of(m, r_d, r_s, f_d, f_s, u) - m[E0]
    return True, b, count


# --- the answer ---


@jcompile()
def _answer(m, rho_d, rho_s, f_d, f_s, u, out):
    """The answer of ratios and resources into ``out`` (model.md sections 5.3, 8.4): the decision
    (:func:`decision_values`), finished by :func:`coinfer.optimise.solution.finish_decision` (canonical values,
    latency, energy and objective, polished when it breaks a constraint at rtol 0). OPTIMAL, or TO_POLISH when
    the polish left a violation (``out`` then holds the partly polished decision)."""
    d = out[: O_F_S + 1]
    d[0], d[1], d[2], d[3], d[4] = decision_values(m, rho_d, rho_s, f_d, f_s, u)
    met, latency, energy, objective = finish_decision(m, d)
    if not met:
        return TO_POLISH
    out[O_OBJECTIVE], out[O_LATENCY], out[O_ENERGY] = objective, latency, energy
    _, _, _, t_d, t_tx, t_s, e_d, e_tx, e_s, bound_d, bound_s = decision_terms(m, d[0], d[1], d[2], d[3], d[4])
    out[O_PARTS], out[O_PARTS + 1], out[O_PARTS + 2], out[O_PARTS + 3] = t_d, t_tx, t_s, e_d
    out[O_PARTS + 4], out[O_PARTS + 5], out[O_PARTS + 6], out[O_PARTS + 7] = e_tx, e_s, bound_d, bound_s
    return OPTIMAL


# --- the building blocks the physical model's steps share (coinfer.optimise.physical), by their public names ---

#: ``(u - 1) e^u + 1``; ``u`` where it equals ``r``; a ratio and its derivative for a slope; the safeguarded
#: Newton loop; remembered points; one problem's answer and steps (see the private functions).
uplink_psi, tx_exponent, ratio_and_derivative = _psi, _tx_exponent, _ratio_and_derivative
newton_start, newton_step, newton_result, remember, remembered = (
    _newton_start, _newton_step, _newton_result, _remember, _remembered
)  # fmt: skip


# --- solve: its steps, for one row and for many ---


@jcompile()
def _solve_one(m, keys, logits, st, seen, out, evaluations_allowed):
    """The steps of ``solve`` on the derived row ``m``: ``(code, step)``, the answer's numbers in ``out``."""
    out[O_FLOOR_T] = out[O_E_MIN] = math.nan
    st[:] = math.nan
    st[LAST_VALID] = 0.0
    t0, e0 = m[T0], m[E0]
    top_d, top_s = m[TOP_D], m[TOP_S]
    fmax_d, fmax_s, u_max = m[FMAX_D], m[FMAX_S], m[U_MAX]
    floor_t = latency_of(m, top_d, top_s, fmax_d, fmax_s, u_max)
    out[O_FLOOR_T] = floor_t
    have_floors = False
    e_min_top = nu_min = math.nan
    if not (floor_t < t0 * (1 - EDGE) and energy_of(m, top_d, top_s, fmax_d, fmax_s, u_max) < e0 * (1 - EDGE)):
        if floor_t > t0 * (1 + EDGE):
            return INFEASIBLE_LATENCY, AT_FLOOR
        e_min_top, nu_min, f_d, f_s, u = least_energy(m, top_d, top_s, floor_t)
        out[O_E_MIN] = e_min_top
        if e_min_top > e0 * (1 + EDGE):
            return INFEASIBLE_ENERGY, AT_FLOOR
        have_floors = True
        if floor_t >= t0 * (1 - EDGE) or e_min_top >= e0 * (1 - EDGE):
            return _answer(m, top_d, top_s, f_d, f_s, u, out), AT_FLOOR
    flat_d, flat_s = m[FLAT_D], m[FLAT_S]
    t_flat = latency_of(m, flat_d, flat_s, fmax_d, fmax_s, u_max)
    if t_flat <= t0:
        e_flat, _, f_d, f_s, u = least_energy(m, flat_d, flat_s, t_flat)
        if e_flat <= e0:
            return _answer(m, flat_d, flat_s, f_d, f_s, u, out), LEAST_DISTORTION
    rho_d, rho_s = latency_ratios(m, keys, logits, st, seen, fmax_d, fmax_s, u_max)
    e_l = energy_of(m, rho_d, rho_s, fmax_d, fmax_s, u_max)
    if e_l <= e0:
        return _answer(m, rho_d, rho_s, fmax_d, fmax_s, u_max, out), LATENCY_ONLY
    if m[TWO_PRUNED]:
        converged, rho_d, rho_s, f_d, f_s, u = _joint_newton(m, keys, logits, st, seen, e_l / e0 - 1.0,
                                                             evaluations_allowed)  # fmt: skip
        if converged:
            return _answer(m, rho_d, rho_s, f_d, f_s, u, out), JOINT_NEWTON
    if not have_floors:
        if floor_t > t0 * (1 + EDGE):
            return STEP4_FAILED, NESTED_ROOTS
        e_min_top, nu_min, _, _, _ = least_energy(m, top_d, top_s, floor_t)
        if e_min_top > e0 * (1 + EDGE):
            return STEP4_FAILED, NESTED_ROOTS
    solved, rho_d, rho_s, f_d, f_s, u = _both_bind_nested(m, keys, logits, st, seen, e_min_top, nu_min)
    if not solved:
        return STEP4_FAILED, NESTED_ROOTS
    return _answer(m, rho_d, rho_s, f_d, f_s, u, out), NESTED_ROOTS


#: One problem's answer of ratios and resources, and ``solve``'s steps on the paper's model, by public names.
answer_numbers, solve_paper = _answer, _solve_one


# The signatures make numba compile (or load from its cache in __pycache__) when this module is imported, not
# inside the first timed call: about 20 s once per checkout, ~0.1 s from the cache.
@jcompile("Tuple((i8, i8, UniTuple(f8, 18)))(f8[::1], f8[::1], f8[::1], i8)")
def solve_row(row, keys, logits, evaluations_allowed):
    """``solve`` of one problem row (:func:`coinfer.model.arithmetic.problem_row`): ``(code, step, out)``.

    ``out`` holds the answer's numbers (the ``O_*`` columns): the decision, objective, latency and energy of an
    optimal answer; the partly polished decision of a to-polish one; the floors of an infeasible one. ``keys``
    and ``logits`` are the inverse-slope table of its bits per weight (:func:`slope_table`);
    ``evaluations_allowed`` bounds the joint Newton (:data:`JOINT_NEWTON_EVALUATIONS`).
    """
    m = np.empty(WIDTH)
    derive(row, m)
    out = np.empty(OUT_WIDTH)
    code, step = _solve_one(m, keys, logits, np.empty(STATE), np.empty((SEEN, 6)), out, evaluations_allowed)
    return code, step, (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9], out[10],
                        out[11], out[12], out[13], out[14], out[15], out[16], out[17])  # fmt: skip


@jcompile("void(f8[:, ::1], i8[::1], f8[:, ::1], f8[:, ::1], i8, f8[:, ::1], i1[::1], i1[::1])")
def solve_rows(rows, table, keys, logits, evaluations_allowed, out, code, step):
    """:func:`solve_row` of every row, answers in ``out[i]``, ``code[i]``, ``step[i]``; ``keys[table[i]]`` and
    ``logits[table[i]]`` are row ``i``'s table."""
    m = np.empty(WIDTH)
    st = np.empty(STATE)
    seen = np.empty((SEEN, 6))
    for i in range(rows.shape[0]):
        derive(rows[i], m)
        row_keys, row_logits = keys[table[i]], logits[table[i]]
        code[i], step[i] = _solve_one(m, row_keys, row_logits, st, seen, out[i], evaluations_allowed)
