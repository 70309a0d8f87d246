"""The fast solver's steps under the physical model, and the entry points for every problem row (model.md 2.7, 5.3).

:func:`solve_row` and :func:`solve_rows` take any problem row: a row of the paper's
model (``PHYS`` 0) runs :mod:`coinfer.optimise.kernel`'s steps unchanged, so its
answers are the old ones to the bit; a physical row runs the steps here.

Under the physical model each side's time is ``max(W / f, M / BW)`` with ``f`` in
``[f_min, f_max]``, and its energy adds static power for that time and memory
energy per weight bit read (model.md section 2.7). At a price of time ``nu`` a
side's frequency is ``max(f_min, min(f_max, f_mb(rho), ((nu + P_static) / (2 k))^(1/3)))``:
static power folds into the price, and the memory floor caps the useful clock
at ``f_mb = W / (M / BW)``; the uplink's exponent solves
``C((u - 1) e^u + 1) = nu + P_circuit``. Because ``f_mb`` may depend on the ratio
(fixed FLOPs, sparse overhead), each side's cost at fixed prices is a convex
function of its kept fraction in up to three regimes (compute-bound;
memory-bound at ``f = f_mb``, where its slope varies smoothly; memory-bound at
``f_min``), and its optimal ratio is a monotone 1-D root (:func:`side_ratio`:
the inverse of the distortion slope in the constant regimes, a kink, or a
safeguarded Newton root in the smooth one).

The steps (:func:`solve_physical`): the floors; the least-distortion point; the
latency-only optimum (``nu`` infinite); the energy-only optimum (``nu = 0``, where
static power or the frequency floor make the energy-optimal resources finite
in time: the latency budget may then be slack while the energy budget binds);
and where both bind, nested 1-D roots: for each ``nu`` the latency budget fixes
the ratio multiplier (or the one free ratio), and Brent's method in ``ln nu``
meets the energy budget. The least energy at fixed ratios is a 1-D root in
``ln nu``; the benchmarks' least-distortion ratios at fixed resources
(:func:`fixed_resource_ratios`) handle the kink of ``max(W / f, M / BW)``.

numba's cache watches only this file; :func:`coinfer.base.jit.refresh_cache`
deletes this module's cached machine code when a file whose compiled functions
it calls changes.
"""

from __future__ import annotations

import math

import numpy as np

from coinfer.base.jit import jcompile, refresh_cache
from coinfer.model import arithmetic
from coinfer.model.arithmetic import (
    A_D,
    BANDWIDTH,
    C_D,
    COUNTED_S,
    E0,
    FLAT_D,
    FLAT_END,
    FLAT_S,
    FMAX_D,
    FMIN_D,
    G_D,
    K_D,
    LN2,
    MAG,
    MEM_E0_D,
    MEM_E_D,
    MEM_T0_D,
    MEM_T_D,
    NOISE,
    P_CIRCUIT,
    PHYS,
    RHO_MAX,
    S_BITS,
    SHARED,
    STATIC_D,
    T0,
    T_ACCESS,
    TOP_D,
    TOP_S,
    Q,
    distortion_per_weight,
    distortion_slope,
    objective,
)
from coinfer.optimise import kernel, solution
from coinfer.optimise.kernel import (
    AT_FLOOR,
    INFEASIBLE_ENERGY,
    INFEASIBLE_LATENCY,
    LATENCY_ONLY,
    LEAST_DISTORTION,
    NESTED_ROOTS,
    NU_SAT_TX,
    O_E_MIN,
    O_FLOOR_T,
    OUT_WIDTH,
    RUNS_D,
    S0,
    SEEN,
    STATE,
    STEP4_FAILED,
    U_MAX,
    WIDTH,
    answer_numbers,
    brent_step,
    newton_result,
    newton_start,
    newton_step,
    ratio_and_derivative,
    remember,
    remembered,
    solve_paper,
    tx_exponent,
    uplink_psi,
)
from coinfer.optimise.kernel import derive as kernel_derive
from coinfer.optimise.solution import EDGE

__all__ = [
    "ENERGY_ONLY",
    "PWIDTH",
    "derive",
    "fixed_resource_ratios",
    "fixed_terms",
    "least_energy",
    "price_resources",
    "side_ratio",
    "solve_physical",
    "solve_row",
    "solve_rows",
]

#: The files whose compiled functions this module's compiled code calls (coinfer.base.jit.refresh_cache).
COMPILED_DEPENDENCIES = (arithmetic.__file__, solution.__file__, kernel.__file__)
refresh_cache(__file__, COMPILED_DEPENDENCIES)

#: The step of model.md section 5.3 that settles an answer with the energy budget alone binding (physical model
#: only: the kernel's steps are AT_FLOOR .. NESTED_ROOTS).
ENERGY_ONLY = 5

# --- the physical model's solver numbers, slots of `m` after the kernel's ---
#: The price of time (W) at which every priced resource is at its maximum: 2 k f_max^3 - P_static per counted
#: side, C psi(u_max) - P_circuit for the uplink (0 if none has a price).
NU_SAT_P = WIDTH
#: The uplink's exponent at nu = 0, from C psi(u) = P_circuit (0 without circuit power: the upload then takes
#: forever at nu = 0).
U_ZERO = WIDTH + 1
#: Free ratio variables: 2 (two sides with their own ratio, each with work to prune and weights to lose), 1 (a
#: shared ratio, or one such side), 0.
FREE = WIDTH + 2
PWIDTH = WIDTH + 3

# --- the warm state of one physical solve: the inverse slope's logits per side (the kernel's slots 0 and 1), the
# last multiplier root, the smooth middle regime's last ratio per side, the one free ratio's last root ---
P_GUESS_D, P_Y, P_MID_D, P_R = 0, 2, 3, 5
PSTATE = 6

#: Budgets a ratio search meets: the latency budget or the energy budget.
LATENCY, ENERGY = 0, 1
#: Points the nested roots' outer search remembers.
_PATH = 1024


@jcompile()
def derive(row, m):
    """Fill ``m`` (:data:`PWIDTH` floats) with the numbers of ``row``: the kernel's (:func:`kernel.derive`), then
    the physical steps' own."""
    kernel_derive(row, m)
    nu_sat = 0.0
    for i in range(2):
        if m[RUNS_D + i] and (i == 0 or m[COUNTED_S]):
            nu_sat = max(nu_sat, 2.0 * m[K_D + i] * m[FMAX_D + i] ** 3.0 - m[STATIC_D + i])
    if m[S_BITS] > 0:
        nu_sat = max(nu_sat, m[NOISE] * uplink_psi(m[U_MAX]) - m[P_CIRCUIT])
    m[NU_SAT_P] = nu_sat
    m[U_ZERO] = 0.0
    if m[S_BITS] > 0 and m[P_CIRCUIT] > 0:
        m[U_ZERO] = m[U_MAX] if m[P_CIRCUIT] >= m[NU_SAT_TX] else min(tx_exponent(m[P_CIRCUIT] / m[NOISE]), m[U_MAX])
    free_d = m[A_D] > 0 and m[C_D] > 0
    free_s = m[A_D + 1] > 0 and m[C_D + 1] > 0
    if m[SHARED]:
        m[FREE] = 1.0 if m[TOP_D] != m[FLAT_D] else 0.0
    else:
        m[FREE] = (1.0 if free_d else 0.0) + (1.0 if free_s else 0.0)


# --- resources at a price of time nu (W) ---


@jcompile()
def compute_frequency(m, i, nu):
    """Side ``i``'s clock [Hz] of least ``energy + nu * time`` per cycle while it is compute-bound:
    ``max(f_min, min(f_max, ((nu + P_static) / (2 k))^(1/3)))``; ``f_max`` where its energy is not counted or
    ``nu`` is infinite."""
    fmax = m[FMAX_D + i]
    if not (i == 0 or m[COUNTED_S] != 0.0):
        return fmax
    price = nu + m[STATIC_D + i]
    k = m[K_D + i]
    if price >= 2.0 * k * fmax**3.0:
        return fmax
    return max(m[FMIN_D + i], (price / (2.0 * k)) ** (1 / 3))


@jcompile()
def uplink_exponent(m, nu):
    """The uplink's exponent ``u`` of least ``energy + nu * time``: ``C((u - 1) e^u + 1) = nu + P_circuit``,
    clipped at ``u_max``; 0 (forever) where neither has a price."""
    if m[S_BITS] <= 0:
        return m[U_MAX]
    price = nu + m[P_CIRCUIT]
    if price >= m[NU_SAT_TX]:
        return m[U_MAX]
    if not price > 0:
        return 0.0
    if nu == 0.0:
        return m[U_ZERO]
    return max(min(tx_exponent(price / m[NOISE]), m[U_MAX]), 1e-300)


@jcompile()
def upload_terms(m, u):
    """``(t, E, p, t_air)`` of the upload at exponent ``u``: air time plus access latency [s], radiated plus
    circuit energy [J], power [W], air time [s]; zeros when nothing is sent, forever at ``u = 0``."""
    if m[S_BITS] <= 0:
        return 0.0, 0.0, 0.0, 0.0
    if not u > 0:
        return math.inf, math.inf, 0.0, math.inf
    air = m[S_BITS] * LN2 / (m[BANDWIDTH] * u)
    p = m[NOISE] * math.expm1(u)
    return air + m[T_ACCESS], (p + m[P_CIRCUIT]) * air, p, air


@jcompile()
def side_terms(m, i, rho, fc, fmin):
    """Side ``i`` at ratio ``rho`` with compute clock ``fc`` and floor ``fmin`` [Hz]: ``(t, E, dt, dE, f)``.

    The side runs at ``f = max(fmin, min(fc, f_mb))``, ``f_mb = W / (M / BW)``, and takes ``t = max(W / f, M / BW)``
    [s]; ``E`` is its dynamic, static and memory energy [J] (whether or not the energy scope counts it); ``dt`` and
    ``dE`` are their derivatives in the kept fraction ``1 - rho`` with ``f`` optimal (compute-bound: ``f = fc``;
    memory-bound at ``f_mb``; memory-bound at ``fmin``). With ``fc = fmin = f`` these are the terms at the fixed
    clock ``f``. A side that runs nothing: zeros, at ``f_max``.
    """
    if not m[RUNS_D + i]:
        return 0.0, 0.0, 0.0, 0.0, m[FMAX_D + i]
    a, g, ell = m[A_D + i], m[G_D + i], m[MEM_T_D + i]
    k, static, em = m[K_D + i], m[STATIC_D + i], m[MEM_E_D + i]
    kept = 1.0 - rho
    work = a * kept + g
    memory = ell * kept + m[MEM_T0_D + i]
    if not fc > 0:  # no clock at all (a price of 0 with neither static power nor a floor): forever
        return math.inf, em * kept + m[MEM_E0_D + i], 0.0, 0.0, 0.0
    if work >= fc * memory:  # compute-bound at fc
        f = fc
        t = work / fc
        dt = a / fc
        de = k * a * (f * f) + static * dt + em
    else:
        f_mb = work / memory
        if f_mb > fmin:
            f = f_mb
            de = k * (f * f) * (3.0 * a - 2.0 * f * ell) + static * ell + em
        else:
            f = fmin
            de = k * a * (f * f) + static * ell + em
        t = memory
        dt = ell
    e = k * work * (f * f) + static * t + em * kept + m[MEM_E0_D + i]
    return t, e, dt, de, f


@jcompile()
def terms(m, rho_d, rho_s, fc_d, fc_s, fmin_d, fmin_s, u):
    """Latency [s] and energy [J, per the energy scope] of the ratios at the clocks ``fc``, floors ``fmin`` and
    uplink exponent ``u`` (:func:`side_terms`): ``(T, E, f_d, f_s, dt_d, dt_s, de_d, de_s)``, the last four
    derivatives in each side's kept fraction (``de`` 0 where the energy is not counted)."""
    t_d, e_d, dt_d, de_d, f_d = side_terms(m, 0, rho_d, fc_d, fmin_d)
    t_s, e_s, dt_s, de_s, f_s = side_terms(m, 1, rho_s, fc_s, fmin_s)
    t_up, e_up, _, _ = upload_terms(m, u)
    if not m[COUNTED_S]:
        e_s = de_s = 0.0
    return t_d + t_up + t_s, e_d + e_up + e_s, f_d, f_s, dt_d, dt_s, de_d, de_s


@jcompile()
def fixed_terms(m, rho_d, rho_s, f_d, f_s, u):
    """``(T, E)`` [s, J] of the ratios at the fixed clocks ``f_d, f_s`` [Hz] and uplink exponent ``u``."""
    t, e, _, _, _, _, _, _ = terms(m, rho_d, rho_s, f_d, f_s, f_d, f_s, u)
    return t, e


@jcompile()
def price_resources(m, nu, rho_d, rho_s):
    """``(f_d, f_s, u)``: the resources of least ``energy + nu * time`` at the price of time ``nu`` [W] for the
    ratios (``nu`` infinite: the least-energy resources of least time)."""
    fc_d, fc_s = compute_frequency(m, 0, nu), compute_frequency(m, 1, nu)
    f_d = side_terms(m, 0, rho_d, fc_d, m[FMIN_D])[4]
    f_s = side_terms(m, 1, rho_s, fc_s, m[FMIN_D + 1])[4]
    return f_d, f_s, uplink_exponent(m, nu)


@jcompile()
def _priced_terms(m, nu, rho_d, rho_s):
    """:func:`terms` at the resources of price ``nu``, with ``(T, E, f_d, f_s, u)``."""
    fc_d, fc_s = compute_frequency(m, 0, nu), compute_frequency(m, 1, nu)
    u = uplink_exponent(m, nu)
    t, e, f_d, f_s, _, _, _, _ = terms(m, rho_d, rho_s, fc_d, fc_s, m[FMIN_D], m[FMIN_D + 1], u)
    return t, e, f_d, f_s, u


@jcompile()
def _log_time_and_slope(m, rho_d, rho_s, x):
    """``ln(T / T0)`` at the resources of price ``nu = e^x`` for fixed ratios, and its derivative in ``x``:
    a compute-bound side at its interior clock ``((nu + P) / 2k)^(1/3)`` falls like ``nu / (3 (nu + P))``, the
    air time through ``du / dx = nu / (C u e^u)``; clipped or memory-bound parts do not move."""
    nu = math.exp(x)
    t, _, f_d, f_s, u = _priced_terms(m, nu, rho_d, rho_s)
    slope = 0.0
    for i in range(2):
        f = f_d if i == 0 else f_s
        if not m[RUNS_D + i] or not (i == 0 or m[COUNTED_S]):
            continue
        kept = 1.0 - (rho_d if i == 0 else rho_s)
        work = m[A_D + i] * kept + m[G_D + i]
        memory = m[MEM_T_D + i] * kept + m[MEM_T0_D + i]
        price = nu + m[STATIC_D + i]
        interior = f > m[FMIN_D + i] and price < 2.0 * m[K_D + i] * m[FMAX_D + i] ** 3.0
        if interior and work >= f * memory:
            slope -= work / f * nu / (3.0 * price)
    if m[S_BITS] > 0 and u > 0:
        price = nu + m[P_CIRCUIT]
        if price < m[NU_SAT_TX]:
            air = m[S_BITS] * LN2 / (m[BANDWIDTH] * u)
            slope -= air / u * nu / (m[NOISE] * u * math.exp(u))
    return math.log(t / m[T0]), slope / t


@jcompile()
def least_energy(m, rho_d, rho_s):
    """Least energy meeting the latency budget at fixed ratios: ``(E, nu, f_d, f_s, u)`` [J, W, Hz, Hz, -].

    The resources of price ``nu`` minimise ``energy + nu * time``; ``nu = 0`` where its resources (static power
    and frequency floors make them finite in time) meet the budget, else the root of ``T(nu) = T0`` in ``ln nu``,
    bracketed downwards from the saturation price. Where even the fastest resources do not meet the budget, or
    no resource has a price, the answer is the resources of least time (``nu`` infinite).
    """
    t_fast, e_fast, f_d, f_s, u = _priced_terms(m, math.inf, rho_d, rho_s)
    if t_fast >= m[T0] or m[NU_SAT_P] <= 0:
        return e_fast, math.inf, f_d, f_s, u
    t_zero, e_zero, f_d0, f_s0, u0 = _priced_terms(m, 0.0, rho_d, rho_s)
    if t_zero <= m[T0]:
        return e_zero, 0.0, f_d0, f_s0, u0
    hi = math.log(m[NU_SAT_P])
    lo = hi - 2.0
    bracketed = False
    for _ in range(400):
        if _priced_terms(m, math.exp(lo), rho_d, rho_s)[0] > m[T0]:
            bracketed = True
            break
        hi = lo
        lo -= 4.0
    if not bracketed:
        _, e, f_d, f_s, u = _priced_terms(m, math.exp(lo), rho_d, rho_s)
        return e, math.exp(lo), f_d, f_s, u
    nw = newton_start(lo, hi, math.nan, 1e-13)
    while True:
        g, dg = _log_time_and_slope(m, rho_d, rho_s, nw[0])
        if newton_step(nw, g, dg):
            break
    x = newton_result(nw)
    _, e, f_d, f_s, u = _priced_terms(m, math.exp(x), rho_d, rho_s)
    return e, math.exp(x), f_d, f_s, u


# --- one side's optimal ratio at fixed prices: the marginal distortion c D'(rho) equals the multiplier times the
# side's marginal cost per unit of kept fraction (weights w_e on energy and w_t on time) ---


@jcompile()
def distortion_curvature(m, rho):
    """Second derivative in ``rho`` of ``D_model(rho; b) / b``: ``1 / (1 - rho)`` (``magnitude``); 0 on the flat
    region of ``rd_bound``, beyond it ``D (z^2 + 1 / (rho (1 - rho)))`` with ``z = logit(rho) + q ln 2``."""
    if m[MAG]:
        return 1.0 / (1.0 - rho)
    if rho < m[FLAT_END]:
        return 0.0
    z = math.log(rho / (1.0 - rho)) + m[Q] * LN2
    return distortion_per_weight(rho, m[MAG], m[Q]) * (z * z + 1.0 / (rho * (1.0 - rho)))


@jcompile()
def _middle_slope(m, i, kept, w_e, w_t):
    """The side's marginal cost per unit kept fraction while memory-bound at ``f = f_mb``, and its derivative in
    the kept fraction: ``w_e (k f^2 (3a - 2 f ell) + P ell + e_m) + w_t ell``, ``6 w_e k f g^2 / (ell kept^3)``."""
    a, g, ell, k = m[A_D + i], m[G_D + i], m[MEM_T_D + i], m[K_D + i]
    f = (a * kept + g) / (ell * kept)
    s = w_e * (k * (f * f) * (3.0 * a - 2.0 * f * ell) + m[STATIC_D + i] * ell + m[MEM_E_D + i]) + w_t * ell
    return s, 6.0 * w_e * k * f * g * g / (ell * kept * kept * kept)


@jcompile()
def _slope_below(m, i, rho, fc, fmin, w_e, w_t):
    """The side's marginal cost per unit kept fraction just below the ratio ``rho`` (a little more kept) in the
    memory-bound regimes: at ``f_mb`` while it is above ``fmin``, else at ``fmin``."""
    a, g, ell = m[A_D + i], m[G_D + i], m[MEM_T_D + i]
    kept = 1.0 - rho
    f_mb = (a * kept + g) / (ell * kept)
    if fc > fmin and f_mb > fmin:  # no regime at f_mb under a fixed clock (fc = fmin)
        return _middle_slope(m, i, kept, w_e, w_t)[0]
    return w_e * (m[K_D + i] * a * (fmin * fmin) + m[STATIC_D + i] * ell + m[MEM_E_D + i]) + w_t * ell


@jcompile()
def _middle_root(m, st, i, mult, lo, hi, w_e, w_t):
    """The ratio in ``(lo, hi)`` where ``c D'(rho) = mult s_mid(1 - rho)`` (the smooth memory-bound regime),
    ``c D' - mult s_mid`` increasing with a root inside: safeguarded Newton, warm-started from the last root of
    this side. Returns ``(rho, d rho / d ln mult)``."""
    c = m[C_D + i]
    guess = st[P_MID_D + i]
    rho = guess if (not math.isnan(guess) and lo < guess < hi) else 0.5 * (lo + hi)
    s = ds = d2 = 0.0
    for _ in range(100):
        kept = 1.0 - rho
        s, ds = _middle_slope(m, i, kept, w_e, w_t)
        value = c * distortion_slope(m, rho) - mult * s
        d2 = c * distortion_curvature(m, rho) + mult * ds
        if value == 0.0:
            break
        if value > 0:
            hi = rho
        else:
            lo = rho
        step = rho - value / d2 if d2 > 0 else 0.5 * (lo + hi)
        if not lo < step < hi:
            step = 0.5 * (lo + hi)
        done = abs(step - rho) <= 2e-16 * max(rho, 1e-300) or hi - lo <= 4e-16 * hi
        rho = step
        if done:
            break
    st[P_MID_D + i] = rho
    return rho, (mult * s / d2 if d2 > 0 else 0.0)


@jcompile()
def side_ratio(m, keys, logits, st, i, mult, fc, fmin, w_e, w_t):
    """Side ``i``'s least ``c D(rho) + mult (w_e E + w_t t)`` ratio with its clock optimal between ``fmin`` and
    ``fc`` (``fc = fmin``: a fixed clock): ``(rho, d rho / d ln mult)`` (model.md section 2.7).

    The marginal cost per unit kept fraction is constant while the side is compute-bound, varies smoothly while it
    is memory-bound at ``f_mb`` (fixed FLOPs or sparse overhead make ``f_mb`` depend on the ratio), and is constant
    again at ``fmin``; it jumps up at each boundary. ``c D'(rho) - mult cost'(1 - rho)`` increases with ``rho``,
    so the regimes are searched from the most pruned down: the inverse of the distortion slope in a constant
    regime, a boundary where the jump holds the root, a Newton root in the smooth regime.
    """
    a, g, ell = m[A_D + i], m[G_D + i], m[MEM_T_D + i]
    k, static, em, c = m[K_D + i], m[STATIC_D + i], m[MEM_E_D + i], m[C_D + i]
    rho_max = m[RHO_MAX]
    s_c = w_e * (k * a * (fc * fc) + static * a / fc + em) + w_t * a / fc
    slot = P_GUESS_D + i
    if not (ell > 0 and fc * ell > a):  # compute-bound at every ratio
        return ratio_and_derivative(m, keys, logits, mult * s_c / c, st, slot)
    kept_star = g / (fc * ell - a)  # memory-bound where more than this is kept
    if kept_star >= 1.0:
        return ratio_and_derivative(m, keys, logits, mult * s_c / c, st, slot)
    rho_star = 1.0 - kept_star
    top = rho_max
    if rho_star < rho_max:
        rho, drho = ratio_and_derivative(m, keys, logits, mult * s_c / c, st, slot)
        if rho >= rho_star:
            return rho, drho
        top = rho_star
    if c * distortion_slope(m, top) <= mult * _slope_below(m, i, top, fc, fmin, w_e, w_t):
        return top, 0.0  # pruning pays even just below top: at the boundary (or at rho_max)
    s_min = w_e * (k * a * (fmin * fmin) + static * ell + em) + w_t * ell
    rho_m = 1.0 - g / (fmin * ell - a) if fmin * ell > a else -math.inf  # below it, memory-bound at fmin
    if rho_m < top and fc > fmin:  # a regime memory-bound at f_mb lies below top
        low = max(rho_m, 0.0)
        if g > 0 and w_e > 0 and k > 0:  # its marginal cost varies with the ratio
            s_low = _middle_slope(m, i, 1.0 - low, w_e, w_t)[0]
            if low <= 0.0 or c * distortion_slope(m, low) <= mult * s_low:
                return _middle_root(m, st, i, mult, low, top, w_e, w_t)
        else:
            s_mid = _middle_slope(m, i, 1.0 - 0.5 * (low + top), w_e, w_t)[0]
            rho, drho = ratio_and_derivative(m, keys, logits, mult * s_mid / c, st, slot)
            if rho >= low or low <= 0.0:
                return max(rho, low), drho
        top = low
        if c * distortion_slope(m, top) <= mult * s_min:
            return top, 0.0  # the same at the boundary of the regime at f_min
    return ratio_and_derivative(m, keys, logits, mult * s_min / c, st, slot)


@jcompile()
def _side_slope_at(m, i, rho, fc, fmin, w_e, w_t):
    """The side's marginal cost per unit kept fraction at ``rho`` (in the regime that holds just above it)."""
    _, _, dt, de, _ = side_terms(m, i, rho, fc, fmin)
    return w_e * de + w_t * dt


# --- ratios that meet one budget: two free ratios through their common multiplier, one free ratio directly ---


@jcompile()
def _free_ratios(m, r):
    """The ratios when the one free ratio is ``r``: a shared ratio on both sides, else on the side that is free."""
    if m[SHARED]:
        return r, r
    if m[A_D] > 0 and m[C_D] > 0:
        return r, m[FLAT_S]
    return m[FLAT_D], r


@jcompile()
def _one_ratio(m, st, fc_d, fc_s, fmin_d, fmin_s, u, kind, target):
    """The least ratio of the one free ratio (:func:`_free_ratios`) whose ``kind`` budget (latency or energy) at
    the clocks ``fc`` and floors ``fmin`` meets ``target``: a safeguarded Newton root (the budget falls with the
    ratio, piecewise smooth); the flat point where it fits, the most pruned point where nothing fits."""
    shared = m[SHARED] != 0.0
    free_d = shared or (m[A_D] > 0 and m[C_D] > 0)
    lo = m[FLAT_D] if free_d else m[FLAT_S]
    hi = m[TOP_D] if free_d else m[TOP_S]
    rho_d, rho_s = _free_ratios(m, lo)
    values = terms(m, rho_d, rho_s, fc_d, fc_s, fmin_d, fmin_s, u)
    if values[kind] <= target:
        return rho_d, rho_s
    rho_d, rho_s = _free_ratios(m, hi)
    if terms(m, rho_d, rho_s, fc_d, fc_s, fmin_d, fmin_s, u)[kind] >= target:
        return rho_d, rho_s
    nw = newton_start(lo, hi, st[P_R], 1e-14)
    while True:
        r = nw[0]
        rho_d, rho_s = _free_ratios(m, r)
        t, e, _, _, dt_d, dt_s, de_d, de_s = terms(m, rho_d, rho_s, fc_d, fc_s, fmin_d, fmin_s, u)
        value = t if kind == LATENCY else e
        slope_d = dt_d if kind == LATENCY else de_d
        slope_s = dt_s if kind == LATENCY else de_s
        dg = -(slope_d if (shared or free_d) else 0.0) - (slope_s if (shared or not free_d) else 0.0)
        if newton_step(nw, value - target, dg):
            break
    r = newton_result(nw)
    st[P_R] = r
    return _free_ratios(m, r)


@jcompile()
def _two_ratios(m, keys, logits, st, seen, fc_d, fc_s, fmin_d, fmin_s, u, w_e_d, w_e_s, w_t, kind, target):
    """The two free ratios of least distortion whose ``kind`` budget meets ``target``: each side's ratio at a
    common multiplier (:func:`side_ratio` with weights ``w_e``, ``w_t``), the multiplier a safeguarded Newton root
    in its log (the budget falls as it grows), warm-started from the last root; the ratios computed at the root
    (remembered in ``seen``). The flat point where it fits; the most pruned point where nothing fits."""
    flat_d, flat_s = m[FLAT_D], m[FLAT_S]
    if terms(m, flat_d, flat_s, fc_d, fc_s, fmin_d, fmin_s, u)[kind] <= target:
        return flat_d, flat_s
    top_d, top_s = m[TOP_D], m[TOP_S]
    if terms(m, top_d, top_s, fc_d, fc_s, fmin_d, fmin_s, u)[kind] >= target:
        return top_d, top_s
    # the multipliers at which each side reaches rho_max and leaves its flat point bound the root
    hi = -math.inf
    lo = math.inf
    spread = 0.0
    for i in range(2):
        w_e = w_e_d if i == 0 else w_e_s
        fc = fc_d if i == 0 else fc_s
        fmin = fmin_d if i == 0 else fmin_s
        c = m[C_D + i]
        s_top = _side_slope_at(m, i, m[RHO_MAX], fc, fmin, w_e, w_t)
        s_flat = _side_slope_at(m, i, m[FLAT_D + i], fc, fmin, w_e, w_t)
        if s_top > 0:
            hi = max(hi, math.log(c * distortion_slope(m, m[RHO_MAX]) / s_top))
        if s_flat > 0 and not m[MAG]:
            lo = min(lo, math.log(max(c * m[S0], 1e-300) / s_flat))
        if s_flat > 0:
            spread += math.log(s_flat / c) * (1.0 if i == 0 else -1.0)
    if not math.isfinite(hi):
        return flat_d, flat_s  # no side's ratio moves this budget
    hi += 1.0
    lo = hi - 92.0 - abs(spread) if (m[MAG] or not math.isfinite(lo)) else max(lo - 1.0, hi - 1400.0)
    count = 0
    nw = newton_start(lo, hi, st[P_Y], 1e-14)
    while True:
        y = nw[0]
        mult = math.exp(y)
        r_d, d_d = side_ratio(m, keys, logits, st, 0, mult, fc_d, fmin_d, w_e_d, w_t)
        r_s, d_s = side_ratio(m, keys, logits, st, 1, mult, fc_s, fmin_s, w_e_s, w_t)
        t, e, _, _, dt_d, dt_s, de_d, de_s = terms(m, r_d, r_s, fc_d, fc_s, fmin_d, fmin_s, u)
        value = t if kind == LATENCY else e
        dg = -(dt_d * d_d + dt_s * d_s) if kind == LATENCY else -(de_d * d_d + de_s * d_s)
        count = remember(seen, count, y, r_d, r_s, 0.0, 0.0, 0.0)
        if newton_step(nw, value - target, dg):
            break
    y = newton_result(nw)
    st[P_Y] = y
    j = remembered(seen, count, y)
    if j >= 0:
        return seen[j, 1], seen[j, 2]
    mult = math.exp(y)
    r_d = side_ratio(m, keys, logits, st, 0, mult, fc_d, fmin_d, w_e_d, w_t)[0]
    r_s = side_ratio(m, keys, logits, st, 1, mult, fc_s, fmin_s, w_e_s, w_t)[0]
    return r_d, r_s


@jcompile()
def budget_point(m, keys, logits, st, seen, nu, kind):
    """The least-distortion ratios at the price of time ``nu`` whose ``kind`` budget binds (latency: ``T = T0``;
    energy: ``E = E0``), with their resources: ``(rho_d, rho_s, f_d, f_s, u)``. ``nu`` infinite: the latency-only
    optimum at the resources of least time; ``nu = 0`` with the energy budget: the energy-only optimum."""
    fc_d, fc_s = compute_frequency(m, 0, nu), compute_frequency(m, 1, nu)
    fmin_d, fmin_s = m[FMIN_D], m[FMIN_D + 1]
    u = uplink_exponent(m, nu)
    target = m[T0] if kind == LATENCY else m[E0]
    if m[FREE] == 2.0:
        time_only = nu == math.inf
        w_t = 1.0 if time_only else nu
        w_e_d = 0.0 if time_only else 1.0
        w_e_s = 0.0 if (time_only or not m[COUNTED_S]) else 1.0
        if kind == ENERGY:
            w_t = 0.0
        rho_d, rho_s = _two_ratios(m, keys, logits, st, seen, fc_d, fc_s, fmin_d, fmin_s, u, w_e_d, w_e_s, w_t,
                                   kind, target)  # fmt: skip
    elif m[FREE] == 1.0:
        rho_d, rho_s = _one_ratio(m, st, fc_d, fc_s, fmin_d, fmin_s, u, kind, target)
    else:
        rho_d, rho_s = m[FLAT_D], m[FLAT_S]
    _, _, f_d, f_s, _, _, _, _ = terms(m, rho_d, rho_s, fc_d, fc_s, fmin_d, fmin_s, u)
    return rho_d, rho_s, f_d, f_s, u


# --- both budgets bind: nested roots ---


@jcompile()
def _path_energy(m, keys, logits, st, seen, path, count, x):
    """The energy [J] of the latency-binding point at ``nu = e^x``, remembered in ``path``: ``(count, E)``."""
    rho_d, rho_s, f_d, f_s, u = budget_point(m, keys, logits, st, seen, math.exp(x), LATENCY)
    e = terms(m, rho_d, rho_s, f_d, f_s, f_d, f_s, u)[1]
    count = remember(path, count, x, rho_d, rho_s, f_d, f_s, u)
    return count, e


@jcompile()
def _both_bind(m, keys, logits, st, seen, e_min_top, nu_min):
    """Step 4 by nested 1-D roots: ``(solved, rho_d, rho_s, f_d, f_s, u)``. For each ``x = ln nu`` the latency
    budget fixes the ratios (:func:`budget_point`); the energy along this path grows with ``nu``, and Brent's
    method in ``x`` meets the energy budget, from the floors' price ``nu_min`` (or, where the floors' least energy
    needs no price, from below by steps) up to past the saturation price."""
    path = np.empty((_PATH, 6))
    count = 0
    e0 = m[E0]
    start = math.log(m[NU_SAT_P]) if m[NU_SAT_P] > 0 else 0.0
    hi = start + 1.0
    count, e = _path_energy(m, keys, logits, st, seen, path, count, hi)
    g_hi = e - e0
    while g_hi <= 0 and hi < start + 1500.0:
        hi += 10.0
        count, e = _path_energy(m, keys, logits, st, seen, path, count, hi)
        g_hi = e - e0
    if not g_hi > 0:
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    if nu_min > 0 and math.isfinite(nu_min):
        lo = math.log(nu_min)
        g_lo = e_min_top - e0
        if lo >= hi:
            lo = hi - 1.0
            count, e = _path_energy(m, keys, logits, st, seen, path, count, lo)
            g_lo = e - e0
    else:
        lo = hi - 10.0
        count, e = _path_energy(m, keys, logits, st, seen, path, count, lo)
        g_lo = e - e0
        while g_lo > 0 and lo > -745.0:
            lo -= 10.0
            count, e = _path_energy(m, keys, logits, st, seen, path, count, lo)
            g_lo = e - e0
    if g_lo > 0:
        x = lo
    else:
        x, count = _brent(m, keys, logits, st, seen, path, count, lo, hi, g_lo, g_hi)
    j = remembered(path, count, x)
    if j >= 0:
        return True, path[j, 1], path[j, 2], path[j, 3], path[j, 4], path[j, 5]
    rho_d, rho_s, f_d, f_s, u = budget_point(m, keys, logits, st, seen, math.exp(x), LATENCY)
    return True, rho_d, rho_s, f_d, f_s, u


@jcompile()
def _brent(m, keys, logits, st, seen, path, count, a, b, fa, fb):
    """Brent's method (:func:`coinfer.optimise.kernel.brent_step`; xtol 1e-13) for the root of the energy
    along the path on ``[a, b]`` given its values there (``fa <= 0 < fb``): ``(x, count)``, ``x`` the last point
    on the feasible side (energy within its budget)."""
    xtol = 1e-13
    feasible = a
    if fb <= 0:
        return b, count
    c, fc = a, fa
    d = e = b - a
    for _ in range(200):
        done, a, fa, b, fb, c, fc, d, e = brent_step(a, fa, b, fb, c, fc, d, e, xtol)
        if done:
            break
        count, energy = _path_energy(m, keys, logits, st, seen, path, count, b)
        fb = energy - m[E0]
        if fb <= 0:
            feasible = b
    if fb <= 0:
        return b, count
    if fc <= 0:
        return c, count
    return feasible, count


# --- the steps ---


@jcompile()
def _finite_at_zero_price(m):
    """Whether the resources at ``nu = 0`` take finite time: every counted side that runs has a clock above 0
    (static power or a frequency floor), and the uplink a power above 0 (circuit power) if something is sent."""
    for i in range(2):
        if m[RUNS_D + i] and (i == 0 or m[COUNTED_S]) and not compute_frequency(m, i, 0.0) > 0:
            return False
    return not (m[S_BITS] > 0 and not m[U_ZERO] > 0)


@jcompile()
def _uncounted_server_ratio(m, nu, rho_d, top_s):
    """The least server ratio in ``[flat_s, top_s]`` meeting the latency budget at the resources of price ``nu``
    when the server's energy is not counted (``top_s`` where it is, or where only ``top_s`` meets ``T0``): the
    time falls as the server prunes, so the ratio is found by bisection (60 halvings, to 1e-18 of the range)."""
    lo, hi = m[FLAT_S], top_s
    if m[COUNTED_S] or not m[RUNS_D + 1] or hi <= lo:
        return top_s
    if _priced_terms(m, nu, rho_d, lo)[0] <= m[T0]:
        return lo
    if _priced_terms(m, nu, rho_d, hi)[0] > m[T0]:
        return top_s
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _priced_terms(m, nu, rho_d, mid)[0] <= m[T0]:
            hi = mid
        else:
            lo = mid
    return hi


@jcompile()
def solve_physical(m, keys, logits, st, seen, out):
    """The steps of ``solve`` on the physical row ``m`` (model.md sections 2.7, 5.3): ``(code, step)``, the
    answer's numbers in ``out`` (the floors' in ``O_FLOOR_T``, ``O_E_MIN``; an infeasible energy answer also holds
    the floor's least-energy decision in its first five columns)."""
    out[O_FLOOR_T] = out[O_E_MIN] = math.nan
    st[:] = math.nan
    t0, e0 = m[T0], m[E0]
    top_d, top_s = m[TOP_D], m[TOP_S]
    floor_t, floor_e, f_d, f_s, u = _priced_terms(m, math.inf, top_d, top_s)
    out[O_FLOOR_T] = floor_t
    have_floors = False
    e_min_top = nu_min = math.nan
    if not (floor_t < t0 * (1 - EDGE) and floor_e < e0 * (1 - EDGE)):
        if floor_t > t0 * (1 + EDGE):
            return INFEASIBLE_LATENCY, AT_FLOOR
        e_min_top, nu_min, f_d, f_s, u = least_energy(m, top_d, top_s)
        out[O_E_MIN] = e_min_top
        if e_min_top > e0 * (1 + EDGE):
            out[0], out[1], out[3], out[4] = top_d, top_s, f_d, f_s
            out[2] = upload_terms(m, u)[2]
            return INFEASIBLE_ENERGY, AT_FLOOR
        have_floors = True
        if floor_t >= t0 * (1 - EDGE):
            return answer_numbers(m, top_d, top_s, f_d, f_s, u, out), AT_FLOOR
        if e_min_top >= e0 * (1 - EDGE):
            # Only the floors' least-energy resources meet E0; a ratio the counted energy does not see (the
            # server's in the device scope) still falls as far as the latency allows at those resources.
            rho_s = _uncounted_server_ratio(m, nu_min, top_d, top_s)
            if rho_s != top_s:
                _, _, f_d, f_s, u = _priced_terms(m, nu_min, top_d, rho_s)
            return answer_numbers(m, top_d, rho_s, f_d, f_s, u, out), AT_FLOOR
    flat_d, flat_s = m[FLAT_D], m[FLAT_S]
    if _priced_terms(m, math.inf, flat_d, flat_s)[0] <= t0:
        e_flat, _, f_d, f_s, u = least_energy(m, flat_d, flat_s)
        if e_flat <= e0:
            return answer_numbers(m, flat_d, flat_s, f_d, f_s, u, out), LEAST_DISTORTION
    rho_d, rho_s, f_d, f_s, u = budget_point(m, keys, logits, st, seen, math.inf, LATENCY)
    t_l, e_l = fixed_terms(m, rho_d, rho_s, f_d, f_s, u)
    if e_l <= e0 and t_l <= t0:
        return answer_numbers(m, rho_d, rho_s, f_d, f_s, u, out), LATENCY_ONLY
    if _finite_at_zero_price(m):
        st[P_Y] = math.nan
        rho_d, rho_s, f_d, f_s, u = budget_point(m, keys, logits, st, seen, 0.0, ENERGY)
        t_e, e_e = fixed_terms(m, rho_d, rho_s, f_d, f_s, u)
        if t_e <= t0 and e_e <= e0:
            return answer_numbers(m, rho_d, rho_s, f_d, f_s, u, out), ENERGY_ONLY
        st[P_Y] = math.nan
    if not have_floors:
        if floor_t > t0 * (1 + EDGE):
            return STEP4_FAILED, NESTED_ROOTS
        e_min_top, nu_min, _, _, _ = least_energy(m, top_d, top_s)
        if e_min_top > e0 * (1 + EDGE):
            return STEP4_FAILED, NESTED_ROOTS
    solved, rho_d, rho_s, f_d, f_s, u = _both_bind(m, keys, logits, st, seen, e_min_top, nu_min)
    if not solved:
        return STEP4_FAILED, NESTED_ROOTS
    return answer_numbers(m, rho_d, rho_s, f_d, f_s, u, out), NESTED_ROOTS


# --- the benchmarks' least-distortion ratios at fixed resources ---


@jcompile()
def _fits(m, rho_d, rho_s, f_d, f_s, u):
    t, e = fixed_terms(m, rho_d, rho_s, f_d, f_s, u)
    return t <= m[T0] * (1 + 1e-12) and e <= m[E0] * (1 + 1e-12)


@jcompile()
def fixed_resource_ratios(m, keys, logits, st, seen, f_d, f_s, u):
    """Least-distortion ratios meeting both budgets with the clocks ``f_d, f_s`` [Hz] and uplink exponent ``u``
    fixed (the ``max_resources`` and ``decoupled`` benchmarks under the physical model): ``(found, rho_d, rho_s)``.

    Each side's time ``max(W / f, M / BW)`` and energy are piecewise linear in its kept fraction, with one kink.
    Candidates: the flat point; the latency-only and energy-only optima (a common multiplier, or the one free
    ratio); and, with two free ratios, every point where both budgets bind (a 2x2 linear system per pair of
    regimes); the feasible candidate of least distortion. Not found where even the most pruned point does not fit.
    """
    top_d, top_s = m[TOP_D], m[TOP_S]
    if not _fits(m, top_d, top_s, f_d, f_s, u):
        return False, top_d, top_s
    best_d, best_s = top_d, top_s
    best = objective(m, top_d, top_s)
    candidates = np.empty((8, 2))
    n = 0
    candidates[n, 0], candidates[n, 1] = m[FLAT_D], m[FLAT_S]
    n += 1
    for kind in (LATENCY, ENERGY):
        target = m[T0] if kind == LATENCY else m[E0]
        if m[FREE] == 2.0:
            w_t = 1.0 if kind == LATENCY else 0.0
            w_e_d = 1.0 - w_t
            w_e_s = w_e_d if m[COUNTED_S] else 0.0
            st[P_Y] = math.nan
            r_d, r_s = _two_ratios(m, keys, logits, st, seen, f_d, f_s, f_d, f_s, u, w_e_d, w_e_s, w_t, kind, target)
        else:
            r_d, r_s = _one_ratio(m, st, f_d, f_s, f_d, f_s, u, kind, target)
        candidates[n, 0], candidates[n, 1] = r_d, r_s
        n += 1
    if m[FREE] == 1.0:  # one ratio: the larger of the two budgets' least ratios meets both
        candidates[n, 0] = max(candidates[1, 0], candidates[2, 0])
        candidates[n, 1] = max(candidates[1, 1], candidates[2, 1])
        n += 1
    if m[FREE] == 2.0:
        n = _both_binding_candidates(m, f_d, f_s, u, candidates, n)
    for j in range(n):
        r_d, r_s = candidates[j, 0], candidates[j, 1]
        if _fits(m, r_d, r_s, f_d, f_s, u):
            value = objective(m, r_d, r_s)
            if value < best:
                best, best_d, best_s = value, r_d, r_s
    return True, best_d, best_s


@jcompile()
def _both_binding_candidates(m, f_d, f_s, u, candidates, n):
    """The points where latency and energy both meet their budgets at fixed clocks, one per pair of regimes
    (compute- or memory-bound on each side) whose 2x2 linear system in the kept fractions has its solution inside
    those regimes and inside ``[flat, rho_max]``; appended to ``candidates`` from row ``n``; returns the new count."""
    t_up, e_up, _, _ = upload_terms(m, u)
    counted_s = m[COUNTED_S] != 0.0
    coef = np.empty((2, 2, 4))  # side, regime: time slope, time constant, energy slope, energy constant (per kept)
    limit = np.empty(2)  # the kept fraction above which each side is memory-bound
    for i in range(2):
        f = f_d if i == 0 else f_s
        a, g, ell = m[A_D + i], m[G_D + i], m[MEM_T_D + i]
        k, static, em, em0 = m[K_D + i], m[STATIC_D + i], m[MEM_E_D + i], m[MEM_E0_D + i]
        counted = 1.0 if (i == 0 or counted_s) else 0.0
        limit[i] = g / (f * ell - a) if (ell > 0 and f * ell > a) else math.inf
        # compute-bound: t = (a kept + g) / f
        coef[i, 0, 0], coef[i, 0, 1] = a / f, g / f
        coef[i, 0, 2] = counted * (k * a * f * f + static * a / f + em)
        coef[i, 0, 3] = counted * (k * g * f * f + static * g / f + em0)
        # memory-bound: t = ell kept (a side with work to prune reads no fixed bits)
        coef[i, 1, 0], coef[i, 1, 1] = ell, m[MEM_T0_D + i]
        coef[i, 1, 2] = counted * (k * a * f * f + static * ell + em)
        coef[i, 1, 3] = counted * (k * g * f * f + static * m[MEM_T0_D + i] + em0)
    for r_d in range(2):
        for r_s in range(2):
            a11, a12 = coef[0, r_d, 0], coef[1, r_s, 0]
            a21, a22 = coef[0, r_d, 2], coef[1, r_s, 2]
            b1 = m[T0] - t_up - coef[0, r_d, 1] - coef[1, r_s, 1]
            b2 = m[E0] - e_up - coef[0, r_d, 3] - coef[1, r_s, 3]
            det = a11 * a22 - a12 * a21
            if det == 0.0 or not math.isfinite(det):
                continue
            k_d = (b1 * a22 - a12 * b2) / det
            k_s = (a11 * b2 - a21 * b1) / det
            inside = True
            for i, kept, regime in ((0, k_d, r_d), (1, k_s, r_s)):
                lim = limit[i]
                if regime == 0 and kept > lim * (1 + 1e-12):
                    inside = False
                if regime == 1 and kept < lim * (1 - 1e-12):
                    inside = False
                if not (1.0 - m[TOP_D + i] - 1e-12 <= kept <= 1.0 - m[FLAT_D + i] + 1e-12):
                    inside = False
            if inside and n < candidates.shape[0]:
                candidates[n, 0] = min(max(1.0 - k_d, m[FLAT_D]), m[TOP_D])
                candidates[n, 1] = min(max(1.0 - k_s, m[FLAT_S]), m[TOP_S])
                n += 1
    return n


# --- every problem row: the paper's model by the kernel's steps (bit for bit), a physical one by the steps here ---


@jcompile()
def solve_one(m, keys, logits, st, pst, seen, out, evaluations_allowed):
    """``solve``'s steps on the derived row ``m``: the kernel's for the paper's model, :func:`solve_physical`
    else. ``(code, step)``, the answer's numbers in ``out``."""
    if m[PHYS]:
        return solve_physical(m, keys, logits, pst, seen, out)
    return solve_paper(m, keys, logits, st, seen, out, evaluations_allowed)


# The signatures make numba compile (or load from its cache) when this module is imported.
@jcompile("Tuple((i8, i8, UniTuple(f8, 18)))(f8[::1], f8[::1], f8[::1], i8)")
def solve_row(row, keys, logits, evaluations_allowed):
    """``solve`` of one problem row (:func:`coinfer.model.arithmetic.problem_row`): ``(code, step, out)``, as
    :func:`coinfer.optimise.kernel.solve_row` (whose steps answer a row of the paper's model)."""
    m = np.empty(PWIDTH)
    derive(row, m)
    out = np.empty(OUT_WIDTH)
    st = np.empty(STATE)
    pst = np.empty(PSTATE)
    code, step = solve_one(m, keys, logits, st, pst, np.empty((SEEN, 6)), out, evaluations_allowed)
    return code, step, (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9], out[10],
                        out[11], out[12], out[13], out[14], out[15], out[16], out[17])  # fmt: skip


@jcompile("void(f8[:, ::1], i8[::1], f8[:, ::1], f8[:, ::1], i8, f8[:, ::1], i1[::1], i1[::1])")
def solve_rows(rows, table, keys, logits, evaluations_allowed, out, code, step):
    """:func:`solve_row` of every row, answers in ``out[i]``, ``code[i]``, ``step[i]``; ``keys[table[i]]`` and
    ``logits[table[i]]`` are row ``i``'s table."""
    m = np.empty(PWIDTH)
    st = np.empty(STATE)
    pst = np.empty(PSTATE)
    seen = np.empty((SEEN, 6))
    for i in range(rows.shape[0]):
        derive(rows[i], m)
        row_keys, row_logits = keys[table[i]], logits[table[i]]
        code[i], step[i] = solve_one(m, row_keys, row_logits, st, pst, seen, out[i], evaluations_allowed)
