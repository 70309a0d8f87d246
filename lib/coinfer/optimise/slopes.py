"""The distortion's derivative in the pruning ratio and its inverse (model.md section 4).

The fast solver equates marginal distortion with a marginal saving of work;
these scalar functions give the slope of ``D_model(rho; b) / b`` and the ratio
at which it reaches a given slope.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from coinfer.model.system import LN2, unit_distortion


@lru_cache(maxsize=128)
def flat_end(q: int) -> float:
    """End ``rho0`` of the flat region of ``D_LB``: the root of ``h2(rho) = rho q`` in (0, 1).

    For ``rho <= rho0`` the dense ``q``-bit store is cheaper than mask plus
    values, so ``D_LB = b 2^-q`` there (model.md section 4).
    """

    def excess(rho: float) -> float:
        h2 = -(rho * math.log2(rho) + (1 - rho) * math.log1p(-rho) / LN2)  # log1p: rho can be ~1e-19
        return h2 - rho * q

    return brentq(excess, 1e-300, 1 - 1e-16, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


def _slope(rho: float, model: str, q: int) -> float:
    """Right derivative of ``D_model(rho; b) / b`` (0 on the flat region of ``rd_bound``)."""
    if model == "magnitude":
        return -math.log1p(-rho)
    if rho < flat_end(q):
        return 0.0
    z = math.log(rho / (1 - rho)) + q * LN2
    return unit_distortion(rho, model, q) * z


@lru_cache(maxsize=256)
def _slope_limits(model: str, q: int, rho_max: float) -> tuple[float, float, float, float]:
    """``(rho0, slope at rho0, slope at rho_max, logit rho_max)`` for :func:`_inverse_slope`."""
    rho0 = 0.0 if model == "magnitude" else flat_end(q)
    z_max = math.log(rho_max / (1 - rho_max)) if rho_max > 0 else -math.inf
    return rho0, _slope(rho0, model, q), _slope(rho_max, model, q), z_max


#: Keys of different q in the inverse-slope table are this far apart (|ln D'| stays far below).
_TABLE_OFFSET = 1e4


@lru_cache(maxsize=64)
def _slope_table(q: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ln D'(z), z)`` of ``rd_bound`` on a grid of logits ``z`` of the ratio (model.md section 4.3).

    ``ln D'(z) = rho ln rho + (1 - rho) ln(1 - rho) - q ln2 (1 - rho) + ln(z + q ln2)`` increases
    with ``z`` beyond the flat end; linear interpolation in this table starts the Newton iteration
    of :func:`_inverse_slope` (and of its compiled copy in ``kernel``) within ~1e-5 of the root, so that two steps
    reach full precision.
    """
    qln2 = q * LN2
    r0 = flat_end(q)
    z_lo = max(math.log(r0 / (1 - r0)), -qln2 + 1e-6)
    z = np.linspace(z_lo, 40.0, 8192)
    rho = 1.0 / (1.0 + np.exp(-z))
    kept = 1.0 / (1.0 + np.exp(z))
    h = rho * np.log(rho) + kept * np.log(kept) - qln2 * kept + np.log(z + qln2)
    return np.maximum.accumulate(np.maximum(h, -0.4 * _TABLE_OFFSET)), z


@lru_cache(maxsize=64)
def _slope_table_lists(q: int) -> tuple[list[float], list[float]]:
    """:func:`_slope_table` as lists, for :func:`bisect.bisect_left` (scalar NumPy calls cost more)."""
    keys, logits = _slope_table(q)
    return keys.tolist(), logits.tolist()


def _inverse_slope(s: float, model: str, q: int, rho_max: float, guess: list | None = None) -> float:
    """Smallest minimiser of ``D(rho)/b - s rho`` over ``[0, rho_max]``, for ``s > 0``
    (the ratio where the marginal distortion equals the marginal saving ``s``).

    ``guess`` is a one-element list holding a starting logit (updated in place):
    the callers' root finders ask for nearby slopes, so warm starts save most
    Newton steps.
    """
    if model == "magnitude":
        return min(-math.expm1(-s), rho_max)
    rho0, s0, smax, z_max = _slope_limits(model, q, rho_max)
    if rho0 >= rho_max or s >= smax:
        return rho_max
    if s <= s0:
        return rho0
    # Safeguarded Newton on ln D'(z) = ln s in the logit z of rho, which is smooth and increasing.
    target = math.log(s)
    lo, hi = math.log(rho0 / (1 - rho0)), z_max
    if guess is not None and guess[0] is not None and lo < guess[0] < hi:
        z = guess[0]
    else:  # cold: interpolate in the table, then Newton needs about two steps
        keys, logits = _slope_table_lists(q)
        j = bisect_left(keys, target)
        z = 0.5 * (lo + hi)
        if 0 < j < len(keys) and keys[j] > keys[j - 1]:
            z = logits[j - 1] + (target - keys[j - 1]) * (logits[j] - logits[j - 1]) / (keys[j] - keys[j - 1])
            z = z if lo < z < hi else 0.5 * (lo + hi)
    qln2 = q * LN2
    tol_value = 2e-16 * (1.0 + abs(target))
    tol_z = 1e-15 * max(1.0, abs(lo), abs(hi))
    for _ in range(100):
        rho = 1.0 / (1.0 + math.exp(-z))
        kept = 1.0 - rho
        m = z + qln2
        value = rho * math.log(rho) + kept * math.log1p(-rho) - qln2 * kept + math.log(m) - target
        if -tol_value <= value <= tol_value:
            break
        if value > 0:
            hi = z
        else:
            lo = z
        step = z - value / (m * rho * kept + 1.0 / m)
        if not lo <= step <= hi:
            step = 0.5 * (lo + hi)
        done = -tol_z <= step - z <= tol_z
        z = step
        if done or hi - lo <= tol_z:
            break
    if guess is not None:
        guess[0] = z
    return min(max(1.0 / (1.0 + math.exp(-z)), rho0), rho_max)


def _ratio_and_derivative(s: float, model: str, q: int, rho_max: float, guess: list) -> tuple[float, float]:
    """``(rho, d rho / d ln s)`` of :func:`_inverse_slope` (0 where clipped or flat)."""
    if model == "magnitude":
        e = math.exp(-s)
        rho = -math.expm1(-s)
        return (rho, s * e) if rho < rho_max else (rho_max, 0.0)
    rho = _inverse_slope(s, model, q, rho_max, guess)
    rho0 = _slope_limits(model, q, rho_max)[0]
    if rho <= rho0 or rho >= rho_max:
        return rho, 0.0
    m = math.log(rho / (1 - rho)) + q * LN2
    # d ln D'/dz = m rho (1 - rho) + 1/m with z = logit(rho), and d rho/dz = rho (1 - rho)
    return rho, rho * (1 - rho) / (m * rho * (1 - rho) + 1.0 / m)


def _table_logit(target: float, q: int, lo: float, hi: float) -> float:
    """Logit where ``ln D'`` of ``rd_bound`` is ``target``, interpolated in :func:`_slope_table` (~1e-5)."""
    keys, logits = _slope_table_lists(q)
    j = bisect_left(keys, target)
    if 0 < j < len(keys) and keys[j] > keys[j - 1]:
        z = logits[j - 1] + (target - keys[j - 1]) * (logits[j] - logits[j - 1]) / (keys[j] - keys[j - 1])
        if lo < z < hi:
            return z
    return 0.5 * (lo + hi)


def _paired_ratios(
    log_sigma: tuple[float, float], weight: tuple[float, float], budget: float, q: int, rho_max: float, start: float
) -> tuple[float, float] | None:
    """``rd_bound`` ratios of two sides with one multiplier, ``ln D'(z_i) - ln sigma_i`` equal on both
    sides, and kept work ``sum_i weight_i (1 - rho_i) = budget`` just met (model.md section 5.3).

    Newton in the two logits ``z_i`` of the ratios, where ``ln D'`` has a closed form: no inverse
    of the slope per step. ``start`` is a log multiplier. ``None`` when the iteration leaves the
    open interval ``(rho0, rho_max)`` (a ratio is clipped) or does not converge in a few steps;
    the caller then takes the 1-D root in the multiplier.
    """
    rho0, _, _, z_max = _slope_limits("rd_bound", q, rho_max)
    lo = math.log(rho0 / (1 - rho0))
    qln2 = q * LN2
    log_sigma_d, log_sigma_s = log_sigma
    weight_d, weight_s = weight
    z_d, z_s = _table_logit(start + log_sigma_d, q, lo, z_max), _table_logit(start + log_sigma_s, q, lo, z_max)
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
            return (1.0 - kept_d, 1.0 - kept_s) if f2 <= 0 else None
        det = dh_d * dkept_s + dh_s * dkept_d  # of [[dh_d, -dh_s], [dkept_d, dkept_s]]
        if det == 0.0:
            return None
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
            return None
    return None


def _magnitude_ratios(
    sigma: tuple[float, float], weight: tuple[float, float], budget: float, rho_max: float, start: float
) -> tuple[float, float] | None:
    """``magnitude`` ratios of two sides with one multiplier ``s``, ``rho_i = min(1 - e^(-s sigma_i), rho_max)``
    (``D'(rho) = -ln(1 - rho)``), whose kept work ``sum_i weight_i (1 - rho_i)`` just meets ``budget``.

    Newton on the log of the kept work in ``s`` itself: a log-sum-exp of functions linear in ``s``,
    so convex and exactly linear while one side dominates (one or two steps). ``start`` is a log
    multiplier. ``None`` when both ratios are clipped or it does not converge in a few steps; the
    caller then takes the 1-D root in the log multiplier.
    """
    floor = 1.0 - rho_max
    log_budget = math.log(budget)
    sigma_d, sigma_s = sigma
    weight_d, weight_s = weight
    mult = math.exp(start)
    aim = 0.0
    for _ in range(12):
        kept_d, kept_s = max(math.exp(-mult * sigma_d), floor), max(math.exp(-mult * sigma_s), floor)
        load = weight_d * kept_d + weight_s * kept_s
        gap = math.log(load) - log_budget
        if aim:  # the last step was aimed just inside the budget: keep it if it is inside
            return (1.0 - kept_d, 1.0 - kept_s) if load <= budget else None
        # d load / d mult of the sides that are not clipped at rho_max
        slope = 0.0
        if kept_d > floor:
            slope += weight_d * sigma_d * kept_d
        if kept_s > floor:
            slope += weight_s * sigma_s * kept_s
        slope = -slope / load
        if slope >= 0.0:
            return None
        step = -gap / slope
        if abs(step) <= 1e-9 * mult:
            # Quadratic convergence: the next step lands within ~1e-18; aim it 2e-15 inside the budget.
            aim = 2e-15
            step = -(gap + aim) / slope
        mult = max(mult + step, 0.5 * mult)  # convex: a step below zero means far to the left
    return None
