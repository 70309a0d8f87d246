"""Joint optimisation of pruning ratios, transmit power and CPU frequencies (SPEC section 5).

Minimise the parameter-weighted distortion ``D(rho_d, rho_s)`` subject to the
latency and energy budgets and resource limits of SPEC 2, per split point.

- :func:`solve_reference`: the convex reformulation of SPEC 5 in cvxpy
  (times ``t_d, t_tx, t_s`` as variables; power cones for ``W^3/t^2``, an
  exponential cone for the transmit energy; all quantities normalised by the
  budgets, see :func:`_solve_conic`).
- :func:`solve`: the fast dedicated solver (the algorithm is described in
  :func:`solve`'s docstring). It returns the same optimum, about two orders of
  magnitude faster (``benchmarks/bench_solver.py``).
- :func:`select_split` and the benchmarks of SPEC 5 (fixed ratio, maximum
  resources, shared ratio, a local solver on the original non-convex
  variables) and :func:`compare_schemes`.

Every returned decision is checked with :func:`coinfer.system.evaluate` in the
original variables; infeasible instances are an answer (``status
"infeasible"`` with a ``reason`` naming the binding limit and its numbers).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from coinfer.system import LN2, Decision, Problem, evaluate, objective_value, unit_distortion
from coinfer.validation import ParameterError, require_range

SCHEMES = ("proposed", "on_device", "on_server", "fixed_ratio", "max_resources", "shared_ratio", "local_nonconvex")

#: Relative slack under which a budget counts as met exactly at its floor.
_EDGE = 1e-12


@dataclass(frozen=True)
class Solution:
    """The SPEC 8 answer for one problem. ``status`` is ``"optimal"`` or ``"infeasible"``
    (``solve_reference`` may also return ``"solver_error"`` when the conic solver fails)."""

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

    def as_dict(self) -> dict:
        """The SPEC 8 answer as a JSON-ready dict."""
        return asdict(self)

    @property
    def decision(self) -> Decision | None:
        """The decision, or ``None`` when infeasible."""
        if self.status != "optimal":
            return None
        return Decision(self.rho_device, self.rho_server, self.power, self.f_device, self.f_server)


def _infeasible(reason: str) -> Solution:
    return Solution("infeasible", reason=reason)


# --- Distortion derivative and its inverse (SPEC 4) -------------------------------------------


@lru_cache(maxsize=128)
def flat_end(q: int) -> float:
    """End ``rho0`` of the flat region of ``D_LB``: the root of ``h2(rho) = rho q`` in (0, 1).

    For ``rho <= rho0`` the dense ``q``-bit store is cheaper than mask plus
    values, so ``D_LB = b 2^-q`` there (SPEC 4).
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
    z = guess[0] if guess is not None and guess[0] is not None and lo < guess[0] < hi else 0.5 * (lo + hi)
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


# --- The fast solver -----------------------------------------------------------------------------


def _root(
    func: Callable[[float], float],
    a: float,
    b: float,
    fa: float | None = None,
    fb: float | None = None,
    xtol: float = 1e-14,
) -> float:
    """Brent's method (inverse quadratic interpolation, secant, bisection) for a sign change on [a, b].

    Pure Python, and it reuses known end values: the solver's roots are
    nested, so SciPy's per-call overhead would dominate.
    """
    fa = func(a) if fa is None else fa
    fb = func(b) if fb is None else fb
    if fa == 0:
        return a
    if fb == 0:
        return b
    if (fa > 0) == (fb > 0):
        raise ValueError("no sign change")
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
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p, q = 2 * m * s, 1 - s
            else:
                q_, r = fa / fc, fb / fc
                p = s * (2 * m * q_ * (q_ - r) - (b - a) * (r - 1))
                q = (q_ - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2 * p < min(3 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = func(b)
    return b


def _lambert_w0(x: float) -> float:
    """Principal branch of Lambert W for ``x >= -1/e`` (Halley's iteration)."""
    if x < -1 / math.e:
        x = -1 / math.e
    if x < -0.3:
        p = math.sqrt(max(2.0 * (math.e * x + 1.0), 0.0))
        w = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p**3
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


def _psi(u: float) -> float:
    """``(u - 1) e^u + 1`` without cancellation for small ``u`` (series ``sum (n-1) u^n / n!``)."""
    if u > 0.05:
        return (u - 1.0) * math.exp(u) + 1.0
    term, total = u * u / 2.0, 0.0
    for n in range(2, 14):
        total += (n - 1) * term
        term *= u / (n + 1)
    return total


def _tx_exponent(r: float) -> float:
    """``u >= 0`` with ``(u - 1) e^u + 1 = r`` (the uplink's KKT condition, ``r = nu / C``).

    Lambert W for moderate ``r``; for small ``r`` (``u ~ sqrt(2 r)``) Newton on the
    series of :func:`_psi`, because ``(r - 1)/e`` would lose every digit of ``r``.
    """
    if r > 0.1:
        return 1.0 + _lambert_w0((r - 1.0) / math.e)
    u = math.sqrt(2.0 * r)
    for _ in range(8):
        step = (_psi(u) - r) / (u * math.exp(u))
        u -= step
        if abs(step) <= 1e-16 * u:
            break
    return u


class _Model:
    """Plain-float view of a :class:`Problem` for the solver's inner loops (SPEC 2)."""

    def __init__(self, problem: Problem):
        p = problem
        self.problem = p
        self.T0, self.E0 = p.latency_budget, p.energy_budget
        self.rho_max = p.rho_max
        self.model, self.q = p.distortion_model, p.bits_per_weight
        self.shared = p.shared_ratio
        self.a = (p.cycles_device, p.cycles_server)
        self.fmax = (p.f_device_max, p.f_server_max)
        self.k = (p.pue_device * p.psi_device, p.pue_server * p.psi_server)
        self.counted = (True, p.energy_scope == "system")
        total = p.params_device + p.params_server
        self.c = (p.params_device / total * p.scale_device, p.params_server / total * p.scale_server)
        self.S, self.B, self.C, self.pmax = p.feature_bits, p.bandwidth, p.noise_power, p.p_max
        self.u_max = math.log1p(self.pmax / self.C)
        self._guesses = ([None], [None])  # warm starts of _inverse_slope across outer iterations
        self._y_guess = None  # warm start of the latency multiplier across outer iterations
        # nu (W) at which each resource reaches its maximum: 2 k fmax^3 and C((u-1)e^u + 1).
        self.nu_sat_f = tuple(
            2 * k * f**3 if cnt else 0.0 for k, f, cnt in zip(self.k, self.fmax, self.counted, strict=True)
        )
        self.nu_sat_tx = self.C * ((self.u_max - 1.0) * math.exp(self.u_max) + 1.0) if self.S > 0 else 0.0
        self.nu_sat = max([self.nu_sat_tx] + [n for n, a in zip(self.nu_sat_f, self.a, strict=True) if a > 0])
        rho0 = 0.0 if self.model == "magnitude" else flat_end(self.q)
        flat = min(rho0, self.rho_max)
        if self.shared:
            self.rho_flat = (flat, flat)
            self.rho_top = (self.rho_max, self.rho_max) if any(a > 0 for a in self.a) else (flat, flat)
        else:
            # The flat point: the least distortion at the least work. A side without
            # parameters is pruned for free; a side without FLOPs gains nothing from pruning.
            self.rho_flat = tuple(
                (self.rho_max if c == 0 and a > 0 else flat) for a, c in zip(self.a, self.c, strict=True)
            )
            self.rho_top = tuple((self.rho_max if a > 0 else r) for a, r in zip(self.a, self.rho_flat, strict=True))

    # resources as functions of the price of time nu = lambda / mu (W)
    def resources(self, nu: float) -> tuple[float, float, float]:
        """``(f_d, f_s, u)`` minimising ``energy + nu * time`` per cycle / per sent bit; ``u = S ln2/(B t_tx)``."""
        f = [
            fm if (not cnt or nu >= ns) else (nu / (2 * k)) ** (1 / 3)
            for fm, cnt, ns, k in zip(self.fmax, self.counted, self.nu_sat_f, self.k, strict=True)
        ]
        if self.S <= 0:
            u = self.u_max
        elif nu >= self.nu_sat_tx:
            u = self.u_max
        else:
            u = min(_tx_exponent(nu / self.C), self.u_max)
            u = max(u, 1e-300)
        return f[0], f[1], u

    def max_resources(self) -> tuple[float, float, float]:
        return self.fmax[0], self.fmax[1], self.u_max

    def tx(self, u: float) -> tuple[float, float, float]:
        """``(t_tx, E_tx, p)`` at ``u``."""
        if self.S <= 0:
            return 0.0, 0.0, 0.0
        t = self.S * LN2 / (self.B * u)
        p = self.C * math.expm1(u)
        return t, p * t, p

    def time(self, rho, res) -> float:
        t = self.tx(res[2])[0]
        for i in (0, 1):
            if self.a[i] > 0:
                t += self.a[i] * (1 - rho[i]) / res[i]
        return t

    def energy(self, rho, res) -> float:
        e = self.tx(res[2])[1]
        for i in (0, 1):
            if self.a[i] > 0 and self.counted[i]:
                e += self.k[i] * self.a[i] * (1 - rho[i]) * res[i] ** 2
        return e

    def min_energy(self, rho) -> tuple[float, float, tuple[float, float, float]]:
        """Least energy meeting the latency budget at fixed ratios: ``(E, nu, resources)``.

        Each resource then minimises ``energy + nu * time``; the price ``nu`` is
        found by a 1-D root on ``time(nu) = T0`` (time falls as nu grows).
        """
        top = self.max_resources()
        if self.nu_sat <= 0 or self.time(rho, top) >= self.T0:
            return self.energy(rho, top), math.inf, top
        hi = math.log(self.nu_sat)
        lo = hi - 2.0
        for _ in range(400):
            if self.time(rho, self.resources(math.exp(lo))) > self.T0:
                break
            hi = lo
            lo -= 4.0
        else:
            res = self.resources(math.exp(lo))
            return self.energy(rho, res), math.exp(lo), res
        x = _newton_decreasing(lambda y: self._time_and_slope(rho, y), lo, hi, None, rtol=1e-13)
        res = self.resources(math.exp(x))
        return self.energy(rho, res), math.exp(x), res

    def _time_and_slope(self, rho, x: float) -> tuple[float, float]:
        """``time - T0`` at the resources of price ``nu = e^x``, and its derivative in ``x``."""
        nu = math.exp(x)
        f0, f1, u = self.resources(nu)
        t_tx = self.tx(u)[0]
        slope = 0.0
        if self.S > 0 and nu < self.nu_sat_tx:
            slope = -t_tx / u * nu / (self.C * u * math.exp(u))  # du/dx from C((u - 1) e^u + 1) = nu
        g = t_tx - self.T0
        for i, fi in ((0, f0), (1, f1)):
            if self.a[i] > 0:
                t_i = self.a[i] * (1 - rho[i]) / fi
                g += t_i
                if self.counted[i] and nu < self.nu_sat_f[i]:
                    slope -= t_i / 3.0  # f ~ nu^(1/3)
        return g, slope

    # ratios for a given weighted work budget
    def ratios(self, alpha, const: float, target: float) -> tuple[float, float]:
        """Ratios of the least distortion with ``sum_i alpha_i a_i (1 - rho_i) + const <= target``
        (KKT: each side's marginal distortion ``c_i D'(rho_i) = m alpha_i a_i``, one multiplier ``m``)."""
        weight = [alpha[i] * self.a[i] if self.a[i] > 0 else 0.0 for i in (0, 1)]

        def load(rho) -> float:
            return const + weight[0] * (1 - rho[0]) + weight[1] * (1 - rho[1])

        if load(self.rho_flat) <= target:
            return self.rho_flat
        # The most useful pruning: sides that do not load this budget stay at the flat point.
        top = tuple(self.rho_top[i] if weight[i] > 0 else self.rho_flat[i] for i in (0, 1))
        if load(top) >= target:
            return top
        if self.shared:
            rho = 1.0 - (target - const) / (weight[0] + weight[1])
            rho = min(max(rho, self.rho_flat[0]), self.rho_max)
            return rho, rho
        active = [i for i in (0, 1) if weight[i] > 0 and self.c[i] > 0]
        if len(active) == 1:
            i = active[0]
            rho = list(self.rho_flat)
            rho[i] = 1.0 - (target - const - weight[1 - i] * (1 - rho[1 - i])) / weight[i]
            rho[i] = min(max(rho[i], self.rho_flat[i]), self.rho_max)
            return rho[0], rho[1]
        sigma = [weight[i] / self.c[i] for i in (0, 1)]
        model, q, rmax = self.model, self.q, self.rho_max
        smax = _slope(rmax, model, q)
        m_hi = max(smax / sigma[0], smax / sigma[1])
        if model == "magnitude":
            m_lo = m_hi * 1e-40
        else:
            s0 = max(_slope(flat_end(q), model, q), 1e-300)
            m_lo = max(min(s0 / sigma[0], s0 / sigma[1]), m_hi * 1e-300, 1e-300)

        guesses = ([None], [None])

        def rho_of(m: float) -> tuple[float, float]:
            return (
                _inverse_slope(m * sigma[0], model, q, rmax, guesses[0]),
                _inverse_slope(m * sigma[1], model, q, rmax, guesses[1]),
            )

        def gap(y: float) -> float:
            return load(rho_of(math.exp(y))) - target

        lo, hi = math.log(m_lo), math.log(m_hi)
        g_lo, g_hi = gap(lo), gap(hi)
        if g_lo <= 0:
            return rho_of(m_lo)
        if g_hi > 0:
            return rho_of(m_hi)
        y = _root(gap, lo, hi, g_lo, g_hi)
        rho = rho_of(math.exp(y))
        if load(rho) > target:
            rho = rho_of(math.exp(y + 1e-14 * max(1.0, abs(y))))
        return rho

    def latency_ratios(self, res) -> tuple[float, float]:
        """Least-distortion ratios that meet the latency budget at fixed resources."""
        t_tx = self.tx(res[2])[0]
        return self.ratios((1 / res[0], 1 / res[1]), t_tx, self.T0)

    def price_ratios(self, nu: float, res) -> tuple[float, float]:
        """KKT ratios at price ``nu``: marginal distortion ``= mu (k f^2 [counted] + nu / f) a``,
        with ``mu`` set so that the latency budget binds."""
        t_tx = self.tx(res[2])[0]
        weight = [(self.k[i] * res[i] ** 2 if self.counted[i] else 0.0) + nu / res[i] for i in (0, 1)]
        if self.shared or not all(self.a[i] > 0 and self.c[i] > 0 for i in (0, 1)):
            return self.latency_ratios(res)
        # Find mu through the latency budget, with the split between the sides set by `weight`.
        alpha_t = (1 / res[0], 1 / res[1])
        sigma = [weight[i] * self.a[i] / self.c[i] for i in (0, 1)]
        model, q, rmax = self.model, self.q, self.rho_max

        guesses = self._guesses
        a = self.a

        def rho_of(m: float) -> tuple[float, float]:
            return (
                _inverse_slope(m * sigma[0], model, q, rmax, guesses[0]),
                _inverse_slope(m * sigma[1], model, q, rmax, guesses[1]),
            )

        seen: dict[float, tuple[float, float]] = {}

        def gap_and_slope(y: float) -> tuple[float, float]:
            m = math.exp(y)
            g, dg = t_tx - self.T0, 0.0
            rho = [0.0, 0.0]
            for i in (0, 1):
                rho[i], drho = _ratio_and_derivative(m * sigma[i], model, q, rmax, guesses[i])
                g += alpha_t[i] * a[i] * (1 - rho[i])
                dg -= alpha_t[i] * a[i] * drho
            seen[y] = (rho[0], rho[1])
            return g, dg

        smax = _slope(rmax, model, q)
        hi = math.log(max(smax / sigma[0], smax / sigma[1]))
        if model == "magnitude":
            lo = hi - 92.0
        else:
            s0 = max(_slope(flat_end(q), model, q), 1e-300)
            lo = max(math.log(s0) - math.log(max(sigma)), hi - 1400.0)
        y = _newton_decreasing(gap_and_slope, lo, hi, self._y_guess)
        self._y_guess = y
        return seen[y] if y in seen else rho_of(math.exp(y))


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


def _newton_decreasing(
    func: Callable[[float], tuple[float, float]], lo: float, hi: float, start: float | None, rtol: float = 1e-14
) -> float:
    """Root of a non-increasing ``g`` on ``[lo, hi]`` (``func`` returns ``(g, g')``), from the feasible side.

    Safeguarded Newton (bisection when a step leaves the bracket). Returns a
    point with ``g <= 0`` within ~1e-14 of the root, or ``hi`` if ``g > 0``
    on the whole bracket, or ``lo`` if ``g <= 0`` on the whole bracket.
    """
    y = start if start is not None and lo < start < hi else 0.5 * (lo + hi)
    lo0, hi_feasible = lo, None
    for _ in range(200):
        g, dg = func(y)
        if g <= 0:
            hi, hi_feasible = y, y
        else:
            lo = y
        tol = rtol * max(1.0, abs(y))
        if g == 0 or hi - lo <= tol:
            break
        step = -g / dg if dg < 0 else math.inf
        if abs(step) <= tol:
            if g <= 0:
                break
            step = 2 * tol  # converged from the infeasible side: step over the root
        nxt = y + step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        y = nxt
    if hi_feasible is None:
        return hi
    return lo0 if hi_feasible <= lo0 else hi_feasible


def _decision(m: _Model, rho, res) -> Decision:
    f_d = res[0] if m.a[0] > 0 else m.fmax[0]
    f_s = res[1] if m.a[1] > 0 else m.fmax[1]
    power = (m.pmax if res[2] >= m.u_max else min(m.tx(res[2])[2], m.pmax)) if m.S > 0 else 0.0
    return Decision(float(rho[0]), float(rho[1]), float(power), float(f_d), float(f_s))


def polish(problem: Problem, decision: Decision) -> Decision:
    """Make a (nearly) optimal decision feasible in the original variables (SPEC 2).

    Solver roots and conic tolerances leave residuals of a few ulps (or
    ~1e-9 for cvxpy). With the resources fixed, latency and energy are affine
    in each side's kept work ``(1 - rho) F``, so the residual is removed by
    pruning a little more on the side where it costs the least distortion per
    unit of violation removed. Power and frequencies are clipped to their limits.
    """
    p = problem
    d = [
        min(max(decision.rho_device, 0.0), p.rho_max),
        min(max(decision.rho_server, 0.0), p.rho_max),
        min(max(decision.power, 0.0), p.p_max),
        min(decision.f_device, p.f_device_max),
        min(decision.f_server, p.f_server_max),
    ]
    if p.shared_ratio and d[0] != d[1]:
        d[0] = d[1] = max(d[0], d[1])
    cycles = (p.cycles_device, p.cycles_server)
    k = (p.pue_device * p.psi_device, p.pue_server * p.psi_server)
    counted = (True, p.energy_scope == "system")
    weight = (p.params_device * p.scale_device, p.params_server * p.scale_server)
    model, q = p.distortion_model, p.bits_per_weight
    for _ in range(6):
        ev = evaluate(p, Decision(*d), rtol=0.0)
        if not ev.violations:
            break
        need_t = max(ev.latency - p.latency_budget, 0.0)
        need_e = max(ev.energy - p.energy_budget, 0.0)
        if need_t == 0 and need_e == 0:
            break  # a box violation that clipping cannot fix
        groups = [(0, 1)] if p.shared_ratio else [(0,), (1,)]
        options = []
        for g in groups:
            tau = sum(cycles[i] / d[3 + i] for i in g)
            eps = sum(k[i] * cycles[i] * d[3 + i] ** 2 for i in g if counted[i])
            room = p.rho_max - d[g[0]]
            if room <= 0 or (need_t > 0 and tau <= 0) or (need_e > 0 and eps <= 0):
                continue
            step = max(need_t / tau if need_t > 0 else 0.0, need_e / eps if need_e > 0 else 0.0)
            step = step * (1 + 1e-9) + 4e-16
            price = sum(weight[i] * _slope(min(d[i] + step, p.rho_max), model, q) for i in g) + 1e-300
            options.append((price * step, g, min(step, room)))
        if not options:
            break
        _, g, step = min(options)
        for i in g:
            d[i] = min(d[i] + step, p.rho_max)
    return Decision(*d)


def _answer(problem: Problem, decision: Decision, note: str | None = None) -> Solution:
    decision = polish(problem, decision)
    ev = evaluate(problem, decision)
    reason = note
    status = "optimal"
    if ev.violations:  # never call a point optimal that breaks a constraint, however slightly
        status = "solver_error"
        reason = ((note + "; ") if note else "") + "residual violation: " + "; ".join(ev.violations)
    return Solution(
        status,
        decision.rho_device,
        decision.rho_server,
        decision.power,
        decision.f_device,
        decision.f_server,
        ev.objective,
        ev.latency,
        ev.energy,
        reason,
    )


def _limits_text(m: _Model) -> str:
    parts = []
    if m.a[0] > 0:
        parts.append(f"f_device_max={m.fmax[0]:.4g} Hz")
    if m.a[1] > 0:
        parts.append(f"f_server_max={m.fmax[1]:.4g} Hz")
    if m.S > 0:
        parts.append(f"p_max={m.pmax:.4g} W")
    return ", ".join(parts) if parts else "no workload"


def _floors(m: _Model) -> tuple[Solution | None, tuple]:
    """Feasibility at the most favourable workload (SPEC 5: 'latency floor at rho_max, P_max, f_max')."""
    top = m.rho_top
    floor_t = m.time(top, m.max_resources())
    if floor_t > m.T0 * (1 + _EDGE):
        return _infeasible(
            f"latency floor {floor_t:.10g} s at rho_max={m.rho_max:g}, {_limits_text(m)} "
            f"exceeds latency_budget {m.T0:.10g} s"
        ), ()
    e_min, nu_min, res_min = m.min_energy(top)
    if e_min > m.E0 * (1 + _EDGE):
        return _infeasible(
            f"energy floor {e_min:.10g} J ({m.problem.energy_scope}) at rho_max={m.rho_max:g} within "
            f"latency_budget {m.T0:.10g} s exceeds energy_budget {m.E0:.10g} J"
        ), ()
    return None, (floor_t, e_min, nu_min, res_min)


def solve(problem: Problem) -> Solution:
    """Globally optimal ratios, power and frequencies for one split (SPEC 5), by KKT structure.

    With multipliers ``lambda`` (latency) and ``mu`` (energy) the Lagrangian
    separates. Each resource depends only on the price of time
    ``nu = lambda / mu``: ``f = min(f_max, (nu / (2 eta psi))^(1/3))`` (``f_max``
    when its energy is not counted) and the uplink's ``u = S ln2 / (B t_tx)``
    solves ``C((u - 1) e^u + 1) = nu`` (Lambert W), clipped at ``P_max``. Each
    ratio equates marginal distortion with ``mu (eta psi f^2 + nu / f) F / c``.
    The solver (1) checks the floor at ``rho_max`` with maximum resources
    (latency) and the least energy there (energy); (2) returns the least
    distortion point if its least energy fits the budget; (3) returns the
    latency-only optimum at maximum resources (``mu = 0``) if its energy fits;
    (4) otherwise both budgets bind: for each ``nu`` the latency budget fixes
    ``mu`` (inner 1-D root, safeguarded Newton in ``log mu``), and the energy
    at that point increases with ``nu`` (checked by a test), so an outer 1-D
    root in ``log nu`` meets the energy budget (safeguarded Newton with the
    slope along the path from the implicit function theorem; Brent when a
    side has nothing to prune). Any such point satisfies the KKT conditions of
    the convex reformulation, so it is the global optimum. The result is
    polished to be feasible in the original variables (:func:`polish`).
    """
    m = _Model(problem)
    bad, floors = _floors(m)
    if bad is not None:
        return bad
    floor_t, e_min_top, nu_min, res_min = floors
    top = m.rho_top
    if floor_t >= m.T0 * (1 - _EDGE) or e_min_top >= m.E0 * (1 - _EDGE):
        # Only the most pruned workload fits: the budgets sit at their floors.
        return _answer(problem, _decision(m, top, res_min))
    flat = m.rho_flat
    if m.time(flat, m.max_resources()) <= m.T0:
        e_flat, _, res_flat = m.min_energy(flat)
        if e_flat <= m.E0:
            return _answer(problem, _decision(m, flat, res_flat))
    top_res = m.max_resources()
    rho_l = m.latency_ratios(top_res)
    if m.energy(rho_l, top_res) <= m.E0:
        return _answer(problem, _decision(m, rho_l, top_res))

    def energy_gap(x: float) -> float:
        nu = math.exp(x)
        res = m.resources(nu)
        return m.energy(m.price_ratios(nu, res), res) - m.E0

    lo = math.log(nu_min) if math.isfinite(nu_min) else math.log(max(m.nu_sat, 1e-300))
    hi = max(lo, math.log(m.nu_sat) if m.nu_sat > 0 else lo) + 1.0
    g_hi = energy_gap(hi)
    while g_hi <= 0 and hi < lo + 1500.0:
        hi += 10.0
        g_hi = energy_gap(hi)
    g_lo = energy_gap(lo)
    for _ in range(60):
        if g_lo <= 0:
            break
        # Rounding at nu_min: step down until the energy fits.
        lo -= 1e-9 * max(1.0, abs(lo))
        g_lo = energy_gap(lo)
    if g_hi <= 0:
        x = hi
    elif g_lo > 0:
        x = lo
    elif not m.shared and all(m.a[i] > 0 and m.c[i] > 0 for i in (0, 1)):
        x = _outer_newton(m, lo, hi, lo + (hi - lo) * g_lo / (g_lo - g_hi))
    else:
        x = _root(energy_gap, lo, hi, g_lo, g_hi, xtol=1e-13)
    nu = math.exp(x)
    res = m.resources(nu)
    return _answer(problem, _decision(m, m.price_ratios(nu, res), res))


def _kkt_state(m: _Model, x: float, y: float) -> tuple[float, float, float, float, float, float]:
    """Normalised ``(T/T0 - 1, E/E0 - 1)`` and their partial derivatives in ``x = ln nu`` and
    ``y = ln`` (ratio multiplier), at the KKT ratios and resources of ``(x, y)`` (two pruned sides)."""
    a, k, c, counted = m.a, m.k, m.c, m.counted
    nu = math.exp(x)
    f0, f1, u = m.resources(nu)
    f = (f0, f1)
    t_tx, e_tx, _ = m.tx(u)
    if m.S > 0 and nu < m.nu_sat_tx:
        du = nu / (m.C * u * math.exp(u))  # from C((u - 1) e^u + 1) = nu
        dt_tx = -t_tx / u * du
        de_tx = m.C * math.exp(u) * t_tx * du + m.C * math.expm1(u) * dt_tx
    else:
        dt_tx = de_tx = 0.0
    t, e, tx, ty, ex, ey = t_tx - m.T0, e_tx - m.E0, dt_tx, 0.0, de_tx, 0.0
    mult = math.exp(y)
    for i in (0, 1):
        fi = f[i]
        dlnf = 1 / 3 if (counted[i] and nu < m.nu_sat_f[i]) else 0.0
        w = (k[i] * fi * fi if counted[i] else 0.0) + nu / fi
        dw = (2 * k[i] * fi * fi * dlnf if counted[i] else 0.0) + nu / fi * (1 - dlnf)
        rho, r_slope = _ratio_and_derivative(mult * w * a[i] / c[i], m.model, m.q, m.rho_max, m._guesses[i])
        drx = r_slope * dw / w
        kept = 1 - rho
        t += a[i] * kept / fi
        ty -= a[i] * r_slope / fi
        tx += -a[i] * drx / fi - a[i] * kept / fi * dlnf
        if counted[i]:
            e += k[i] * a[i] * kept * fi * fi
            ey -= k[i] * a[i] * fi * fi * r_slope
            ex += k[i] * a[i] * fi * fi * (2 * kept * dlnf - drx)
    return t / m.T0, e / m.E0, tx / m.T0, ty / m.T0, ex / m.E0, ey / m.E0


def _outer_newton(m: _Model, x_lo: float, x_hi: float, start: float | None = None) -> float:
    """Root in ``x = ln nu`` of the energy along the latency-binding path (two pruned sides).

    The slope along the path is ``dE/dx - (dE/dy)(dT/dx)/(dT/dy)`` (implicit
    function theorem on ``T = T0``), so safeguarded Newton replaces ~12 Brent
    steps by ~4. Returns a point on the energy-feasible side.
    """

    def func(xr: float) -> tuple[float, float]:
        x = -xr
        nu = math.exp(x)
        m.price_ratios(nu, m.resources(nu))  # inner root: sets m._y_guess
        _, e, tx, ty, ex, ey = _kkt_state(m, x, m._y_guess)
        slope = ex - ey * tx / ty if ty != 0 else math.nan
        return e, (-slope if math.isfinite(slope) else 0.0)

    return -_newton_decreasing(func, -x_hi, -x_lo, None if start is None else -start, rtol=1e-13)


# --- Reference: the convex reformulation in cvxpy -------------------------------------------------


#: Retries when a conic solver stops at ``optimal_inaccurate`` (ill-conditioned corners, e.g. an upload
#: that nearly fills both budgets): other CLARABEL settings, then the other solver.
_RETRIES = {
    "CLARABEL": [
        ("CLARABEL", {"static_regularization_enable": False}),
        (
            "CLARABEL",
            {"max_step_fraction": 0.9, "iterative_refinement_reltol": 1e-15, "iterative_refinement_abstol": 1e-15},
        ),
        ("SCS", {}),
    ],
    "SCS": [("CLARABEL", {})],
}


def solve_reference(problem: Problem, solver: str = "CLARABEL") -> Solution:
    """The SPEC 5 convex reformulation in cvxpy (see :func:`_solve_conic`).

    When the solver stops at ``optimal_inaccurate``, a few retries follow
    (:data:`_RETRIES`) and the best feasible (polished) decision is returned;
    every candidate is a genuine feasible point, so this only removes solver
    inaccuracy.
    """
    best = _solve_conic(problem, solver)
    for name, options in _RETRIES.get(solver, []):
        if best.status != "optimal" or best.reason is None or "inaccurate" not in best.reason:
            break
        other = _solve_conic(problem, name, options)
        if (
            other.status == "optimal"
            and not (other.reason and "violation" in other.reason)
            and (other.objective < best.objective or not (other.reason and "inaccurate" in other.reason))
        ):
            best = other
    return best


def _solve_conic(problem: Problem, solver: str, options: dict | None = None) -> Solution:
    """The SPEC 5 convex reformulation in cvxpy, one solve with ``solver`` and ``options``.

    Variables: the ratios, compute times and extra upload time in units of
    ``T_r = T0 - S / r(P_max)`` (the budget left after the fastest upload), and
    compute-energy epigraphs in units of ``E0``. With
    ``w = (1 - rho) F / (c f_max T_r)``: ``f <= f_max`` is ``w <= t``; the
    compute energy ``eta psi W^3 / t^2`` over ``E0`` is ``K w^3 / t^2`` with
    ``K = eta psi f_max^3 T_r / E0``, i.e. ``K^(1/3) w <= geo_mean(e, t, t)``
    (power cone); the upload energy ``t C (2^(S/(B t)) - 1)`` over ``E0`` is
    ``z - (C T0/E0) t`` with the exponential cone ``z >= (C T0/E0) t exp(sigma/t)``,
    ``t`` the upload time over ``T0`` and ``sigma = S ln2 / (B T0)``. The
    distortion is ``rho - entr(1 - rho)`` (magnitude) or
    ``max(2^-q, exp(-entr(rho) - entr(1 - rho) - q ln2 (1 - rho)))`` (rd_bound),
    weighted per side and normalised to sum 1. Solver failures return
    ``status "solver_error"``, never raise.
    """
    import cvxpy as cp

    m = _Model(problem)
    p = problem
    # A ratio is fixed where its optimum is obvious (no FLOPs: pruning gains nothing, flat point;
    # no parameters: pruning is free, rho_max); leaving it free makes the conic problem degenerate.
    free = [m.a[i] > 0 and m.c[i] > 0 for i in (0, 1)]
    if m.shared:
        free = [any(m.a[i] > 0 for i in (0, 1))] * 2
    n_rho = 1 if m.shared else sum(free)
    rho_var = cp.Variable(max(n_rho, 1))
    cons = [rho_var >= 0, rho_var <= m.rho_max]
    if m.shared:
        rho = [rho_var[0], rho_var[0]] if free[0] else list(m.rho_flat)
    else:
        rho, j = [], 0
        for i in (0, 1):
            if free[i]:
                rho.append(rho_var[j])
                j += 1
            else:
                rho.append(m.rho_flat[i])
    time_terms, energy_terms = [], []
    times = {}
    # Times are measured in units of the budget left after the fastest upload, T_r = T0 - S/r(P_max):
    # when the upload nearly fills the budget, normalising by T0 would make the compute
    # times a tiny difference of O(1) numbers and the conic solver loses accuracy.
    t_min = m.tx(m.u_max)[0]
    t_r = m.T0 - t_min
    if t_r <= 0:
        bad, _ = _floors(m)
        return bad if bad is not None else _answer(p, _decision(m, m.rho_top, m.max_resources()))
    for i in (0, 1):
        if m.a[i] <= 0:
            continue
        t = cp.Variable(nonneg=True)
        w = (1 - rho[i]) * (m.a[i] / (m.fmax[i] * t_r))
        cons.append(w <= t)
        time_terms.append(t)
        times[i] = t
        if m.counted[i]:
            e = cp.Variable(nonneg=True)
            big_k = m.k[i] * m.fmax[i] ** 3 * t_r / m.E0
            cons.append(big_k ** (1 / 3) * w <= cp.geo_mean(cp.hstack([e, t, t])))
            energy_terms.append(e)
    t_tx = None
    if m.S > 0:
        t_tx = cp.Variable(nonneg=True)  # extra upload time beyond t_min, in units of T_r
        sigma = m.S * LN2 / (m.B * m.T0)
        scale = m.C * m.T0 / m.E0
        t_norm = t_min / m.T0 + (t_r / m.T0) * t_tx  # upload time / T0
        z = cp.Variable()
        # z >= scale * t exp(sigma / t): the perspective of exp (SPEC 5), so E_tx / E0 = z - scale t
        cons.append(cp.constraints.ExpCone(sigma + math.log(scale) * t_norm, t_norm, z))
        time_terms.append(t_tx)
        energy_terms.append(z - scale * t_norm)
    if time_terms:
        cons.append(cp.sum(cp.hstack(time_terms)) <= 1)
    if energy_terms:
        cons.append(cp.sum(cp.hstack(energy_terms)) <= 1)
    total_c = m.c[0] + m.c[1]
    weights = [m.c[0] / total_c, m.c[1] / total_c]
    terms = []
    for i in (0, 1):
        if weights[i] <= 0:
            continue
        if m.model == "magnitude":
            terms.append(weights[i] * (rho[i] - cp.entr(1 - rho[i])))
        else:
            expo = -cp.entr(rho[i]) - cp.entr(1 - rho[i]) - LN2 * m.q * (1 - rho[i])
            terms.append(weights[i] * cp.maximum(2.0**-m.q, cp.exp(expo)))
    objective = cp.Minimize(cp.sum(cp.hstack(terms)))
    prob = cp.Problem(objective, cons)
    opts = {}
    if solver == "CLARABEL":
        opts = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=400)
    elif solver == "SCS":
        opts = dict(eps_abs=1e-9, eps_rel=1e-9, max_iters=200000)
    opts.update(options or {})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prob.solve(solver=solver, **opts)
    except (cp.error.SolverError, ValueError, ArithmeticError, ZeroDivisionError) as error:
        return Solution("solver_error", reason=f"{solver}: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    status = prob.status
    if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        bad, _ = _floors(m)
        if bad is None:  # the analytic floors are met, so the instance is feasible: the solver is wrong
            return Solution(
                "solver_error",
                reason=f"{solver}: reports infeasible, but the latency and energy floors at rho_max are met",
            )
        return _infeasible(f"{solver}: {bad.reason}")
    if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or rho_var.value is None:
        return Solution("solver_error", reason=f"{solver}: status {status}")
    rho_val = tuple(float(r.value) if isinstance(r, cp.Expression) else float(r) for r in rho)
    rho_val = tuple(min(max(v, 0.0), m.rho_max) for v in rho_val)
    f = list(m.fmax)
    for i, t in times.items():
        tv = float(t.value) * t_r
        f[i] = min(m.fmax[i], m.a[i] * (1 - rho_val[i]) / tv) if tv > 0 else m.fmax[i]
    power = 0.0
    if t_tx is not None:
        u = m.S * LN2 / (m.B * (t_min + max(float(t_tx.value), 0.0) * t_r))
        power = min(m.pmax, m.C * math.expm1(min(u, m.u_max)))
    note = None if status == cp.OPTIMAL else f"{solver}: {status}"
    return _answer(p, Decision(rho_val[0], rho_val[1], power, f[0], f[1]), note)


# --- Split selection and benchmarks (SPEC 5) ---------------------------------------------------------


def select_split(
    problems: Sequence[Problem], solver: Callable[[Problem], Solution] = solve
) -> tuple[int | None, list[Solution]]:
    """Solve every split and return ``(best split index or None if none is feasible, solutions)``."""
    solutions = [solver(pr) for pr in problems]
    best, best_value = None, math.inf
    for s, sol in enumerate(solutions):
        if sol.status == "optimal" and sol.objective < best_value:
            best, best_value = s, sol.objective
    return best, solutions


def solve_fixed_ratio(problem: Problem, rho: float) -> Solution:
    """Benchmark: ``rho_d = rho_s = rho`` fixed; power and frequencies minimise the energy (SPEC 5)."""
    require_range("rho", rho, 0.0, problem.rho_max)
    m = _Model(problem)
    ratios = (rho, rho)
    floor_t = m.time(ratios, m.max_resources())
    if floor_t > m.T0 * (1 + _EDGE):
        return _infeasible(
            f"latency floor {floor_t:.6g} s at fixed rho={rho:g}, {_limits_text(m)} exceeds latency_budget {m.T0:.6g} s"
        )
    e_min, _, res = m.min_energy(ratios)
    if e_min > m.E0 * (1 + _EDGE):
        return _infeasible(
            f"energy floor {e_min:.6g} J at fixed rho={rho:g} within latency_budget "
            f"{m.T0:.6g} s exceeds energy_budget {m.E0:.6g} J"
        )
    return _answer(problem, _decision(m, ratios, res))


def solve_max_resources(problem: Problem) -> Solution:
    """Benchmark: ``p = P_max``, ``f = f_max``; ratios optimised (SPEC 5).

    With resources fixed both budgets are affine in the kept work, so the
    optimum meets the latency budget alone, the energy budget alone, or both
    (a 2x2 linear system in the kept work).
    """
    m = _Model(problem)
    res = m.max_resources()
    t_tx, e_tx, _ = m.tx(res[2])
    alpha_t = (1 / res[0], 1 / res[1])
    alpha_e = tuple(m.k[i] * res[i] ** 2 if m.counted[i] else 0.0 for i in (0, 1))
    top = m.rho_top
    floor_t, floor_e = m.time(top, res), m.energy(top, res)
    if floor_t > m.T0 * (1 + _EDGE):
        return _infeasible(
            f"latency floor {floor_t:.6g} s at rho_max={m.rho_max:g}, {_limits_text(m)} "
            f"exceeds latency_budget {m.T0:.6g} s"
        )
    if floor_e > m.E0 * (1 + _EDGE):
        return _infeasible(
            f"energy {floor_e:.6g} J at rho_max={m.rho_max:g} with maximum resources exceeds energy_budget {m.E0:.6g} J"
        )

    def fits(rho) -> bool:
        return m.time(rho, res) <= m.T0 * (1 + 1e-12) and m.energy(rho, res) <= m.E0 * (1 + 1e-12)

    candidates = [m.rho_flat, m.ratios(alpha_t, t_tx, m.T0), m.ratios(alpha_e, e_tx, m.E0)]
    good = [r for r in candidates if fits(r)]
    if not good and not m.shared:
        # Both bind: solve for the kept work of the two sides.
        a11, a12 = alpha_t[0] * m.a[0], alpha_t[1] * m.a[1]
        a21, a22 = alpha_e[0] * m.a[0], alpha_e[1] * m.a[1]
        det = a11 * a22 - a12 * a21
        if det != 0:
            k0 = ((m.T0 - t_tx) * a22 - a12 * (m.E0 - e_tx)) / det
            k1 = (a11 * (m.E0 - e_tx) - a21 * (m.T0 - t_tx)) / det
            rho = (min(max(1 - k0, 0.0), m.rho_max), min(max(1 - k1, 0.0), m.rho_max))
            good.append(rho)
    if not good:
        good = [top]
    best = min(good, key=lambda r: objective_value(problem, *r))
    return _answer(problem, _decision(m, best, res))


def solve_shared_ratio(problem: Problem) -> Solution:
    """Benchmark: one ratio for both sides (``shared_ratio``), everything else optimised."""
    return solve(problem.replace(shared_ratio=True))


def solve_local(problem: Problem, n_starts: int = 20, seed: int = 0) -> Solution:
    """Benchmark: SLSQP on the original non-convex variables ``rho_d, rho_s, p, f_d, f_s`` (SPEC 5).

    Starts are drawn uniformly in the box from ``seed``; returns the best
    feasible local solution, or ``infeasible`` if no start converged to one.
    """
    from scipy.optimize import minimize

    require_range("n_starts", n_starts, 1, integer=True)
    p = problem
    m = _Model(problem)
    rng = np.random.default_rng(seed)
    shared = p.shared_ratio
    total_c = m.c[0] + m.c[1]

    def unpack(x):
        rho_d = x[0]
        rho_s = x[0] if shared else x[1]
        j = 1 if shared else 2
        return Decision(
            rho_d, rho_s, x[j] * p.p_max if m.S > 0 else 0.0, x[j + 1] * p.f_device_max, x[j + 2] * p.f_server_max
        )

    def objective(x):
        d = unpack(x)
        return objective_value(p, min(max(d.rho_device, 0), 1), min(max(d.rho_server, 0), 1)) / total_c

    def slack(x):
        ev = evaluate(p, unpack(x))
        lat = ev.latency / p.latency_budget if math.isfinite(ev.latency) else 1e6
        en = ev.energy / p.energy_budget if math.isfinite(ev.energy) else 1e6
        return np.array([1 - min(lat, 1e6), 1 - min(en, 1e6)])

    n_rho = 1 if shared else 2
    bounds = [(0.0, p.rho_max)] * n_rho + [(1e-9, 1.0)] * 3
    best: Solution | None = None
    for _ in range(n_starts):
        x0 = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = minimize(
                    objective,
                    x0,
                    method="SLSQP",
                    bounds=bounds,
                    constraints=[{"type": "ineq", "fun": slack}],
                    options={"maxiter": 300, "ftol": 1e-12},
                )
            except (ValueError, ArithmeticError):
                continue
        x = np.clip(result.x, [b[0] for b in bounds], [b[1] for b in bounds])
        if not evaluate(p, unpack(x), rtol=1e-6).violations:
            sol = _answer(p, unpack(x))
            if sol.reason is None and (best is None or sol.objective < best.objective):
                best = sol
    if best is None:
        return _infeasible(f"local solver (SLSQP, {n_starts} starts, seed {seed}) found no feasible point")
    return best


def compare_schemes(
    problems: Sequence[Problem], *, rho_fixed: float = 0.5, n_starts: int = 10, seed: int = 0
) -> pd.DataFrame:
    """One row per scheme of :data:`SCHEMES` for the splits ``problems`` (index = split, 0..L).

    ``proposed`` and every benchmark except ``on_device``/``on_server`` pick
    their best split; ``on_device`` is split ``L``, ``on_server`` split 0.
    """
    if len(problems) == 0:
        raise ParameterError("problems: got an empty list; expected the splits 0..L of one model")
    runners: dict[str, Callable[[Problem], Solution]] = {
        "proposed": solve,
        "fixed_ratio": lambda pr: solve_fixed_ratio(pr, min(rho_fixed, pr.rho_max)),
        "max_resources": solve_max_resources,
        "shared_ratio": solve_shared_ratio,
        "local_nonconvex": lambda pr: solve_local(pr, n_starts=n_starts, seed=seed),
    }
    rows = []
    for scheme in SCHEMES:
        if scheme == "on_device":
            split, sol = len(problems) - 1, solve(problems[-1])
        elif scheme == "on_server":
            split, sol = 0, solve(problems[0])
        else:
            split, solutions = select_split(problems, runners[scheme])
            sol = solutions[split] if split is not None else solutions[0]
        row = {"scheme": scheme, "split": split if sol.status == "optimal" else None}
        row.update({k: v for k, v in sol.as_dict().items()})
        if sol.status != "optimal" and split is None:
            row["reason"] = sol.reason
        rows.append(row)
    columns = [
        "scheme",
        "split",
        "status",
        "objective",
        "rho_device",
        "rho_server",
        "power",
        "f_device",
        "f_server",
        "latency",
        "energy",
        "reason",
    ]
    return pd.DataFrame(rows)[columns]
