"""Vectorised fast solver over many problems at once (model.md section 5.3).

:func:`solve_batch` returns, for every problem of a sequence (all splits x
sweep points x fading draws), the same answer as :func:`coinfer.optimise.solve`:
the same status and reason, and the same objective and decision to ~1e-12
relative (except the ratio of a side with almost no work, which the budgets pin
only to about ``ulp(T0) / (a / f)``; see :func:`solve_batch`). It
follows the same KKT structure (model.md section 5.3), with every 1-D root
(the price of time in the floors, the ratio multiplier, the inverse of the
distortion slope) run as a safeguarded Newton iteration over NumPy arrays, one
entry per problem, and the four cases of section 5.3 (floors infeasible;
least-distortion point fits; latency-only optimum at maximum resources; both
budgets bind) selected by masks. Where both budgets bind on two pruned sides,
:func:`_joint_newton` runs ``solve``'s damped 2-D Newton over the arrays, and
the few instances it does not settle go to the scalar ``solve``; the other
both-binding instances take the nested roots (outer root in ``log nu``).
Arrays of shape ``(2, n)`` hold the device (row 0) and server (row 1) sides.

The polish of model.md section 5.3 (pruning a few ulps more so that the
decision is feasible in the original variables) is vectorised too; the rare
instances whose residual violation it cannot remove in one vectorised step
are polished by the scalar :func:`coinfer.optimise.polish`. Infeasible
instances take their ``reason`` text from the floors computed over arrays,
formatted with ``fast``'s own text functions; a number within rounding of
changing a printed digit is printed by the scalar floors, so the text is
exactly ``solve``'s. Batches too small to pay for the vectorised loops, and
a few both-binding instances without two pruned sides, go to ``solve``.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from coinfer.optimise.fast import (
    _HALVINGS,
    _INSIDE,
    _MAX_STEP_X,
    _MAX_STEP_Y,
    JOINT_NEWTON_EVALUATIONS,
    _answer,
    _energy_floor_reason,
    _floors,
    _latency_floor_reason,
    _limits,
    _Model,
    solve,
)
from coinfer.optimise.slopes import _TABLE_OFFSET, _slope, _slope_table, flat_end
from coinfer.optimise.solution import _EDGE, Solution, _infeasible, _optimal
from coinfer.system import COMPUTE_MODELS, DISTORTION_MODELS, ENERGY_SCOPES, LN2, Decision, Problem

Array = np.ndarray


@dataclass
class _Batch:
    """Plain arrays of a batch of problems (model.md section 2); ``(2, n)`` arrays per side."""

    T0: Array
    E0: Array
    rho_max: Array
    qln2: Array
    mag: Array
    shared: Array
    a: Array
    g: Array
    runs: Array
    fmax: Array
    k: Array
    counted: Array
    c: Array
    S: Array
    B: Array
    C: Array
    pmax: Array
    u_max: Array
    nu_sat_f: Array
    nu_sat_tx: Array
    nu_sat: Array
    rho0: Array
    s0: Array
    smax: Array
    z_lo: Array
    z_max: Array
    flat: Array
    top: Array
    two_pruned: Array  # two sides with their own ratio, each with work to prune and weights to lose
    key: Array  # offset of each problem's q in the inverse-slope table
    table_h: Array  # the inverse-slope table of every q in the batch: keys ln D'(z) + offset ...
    table_z: Array  # ... and logits z (see _slope_table)

    def take(self, idx: Array) -> _Batch:
        """The sub-batch of the problems ``idx``."""
        fields = {name: value[..., idx] for name, value in vars(self).items() if not name.startswith("table_")}
        return _Batch(**fields, table_h=self.table_h, table_z=self.table_z)


#: The numeric Problem fields that :func:`_build` reads, in the order of its array rows.
_NUMERIC = (
    "latency_budget", "energy_budget", "rho_max", "bits_per_weight", "shared_ratio",
    "flops_device", "flops_server", "flops_device_fixed", "flops_server_fixed",
    "flops_per_cycle_device", "flops_per_cycle_server", "sparse_efficiency_device", "sparse_efficiency_server",
    "sparse_overhead_device", "sparse_overhead_server", "f_device_max", "f_server_max",
    "pue_device", "pue_server", "psi_device", "psi_server", "params_device", "params_server",
    "scale_device", "scale_server", "feature_bits", "bandwidth", "noise_psd", "channel_gain", "p_max",
)  # fmt: skip


def _build(problems: Sequence[Problem]) -> _Batch:
    """Arrays of :class:`coinfer.optimise.fast._Model`'s plain floats, for every problem.

    The cycles ``(a, g)`` of each side are :meth:`coinfer.system.Problem.cycles` over arrays
    (model.md section 2.3), with the same floating-point operations.
    """
    n = len(problems)
    # One pass over the problems for the numbers (straight into one array) and one for the three choices.
    numeric = attrgetter(*_NUMERIC)
    v = np.fromiter(chain.from_iterable(map(numeric, problems)), dtype=float, count=n * len(_NUMERIC))
    v = v.reshape(n, len(_NUMERIC)).T
    choices = attrgetter("distortion_model", "energy_scope", "compute_model")
    kinds = np.fromiter(map(_CHOICE_CODES.__getitem__, map(choices, problems)), dtype=np.int8, count=n)
    T0, E0, rho_max, q, shared_f = v[:5]
    flops, fixed, per_cycle, efficiency, overhead = v[5:7], v[7:9], v[9:11], v[11:13], v[13:15]
    fmax, k = v[15:17], v[17:19] * v[19:21]
    params, scale = v[21:23], v[23:25]
    S, B, noise_psd, gain, pmax = v[25:30]
    mag, shared, counted_s = (kinds & 1) > 0, shared_f > 0, (kinds & 2) > 0
    dense, sparse = (kinds & 12) == 4, (kinds & 12) == 8
    a = np.where(dense, 0.0, np.where(sparse, flops / (efficiency * per_cycle), flops / per_cycle))
    g = np.where(
        dense,
        (flops + fixed) / per_cycle,
        np.where(sparse, (fixed + np.where(flops > 0, overhead, 0.0)) / per_cycle, fixed / per_cycle),
    )
    counted = np.stack([np.ones_like(T0, dtype=bool), counted_s])
    c = params / (params[0] + params[1]) * scale
    C = noise_psd * B / gain
    runs = a + g > 0
    u_max = np.log1p(pmax / C)
    nu_sat_f = np.where(counted, 2 * k * fmax**3, 0.0)
    nu_sat_tx = np.where(S > 0, C * ((u_max - 1.0) * np.exp(u_max) + 1.0), 0.0)
    nu_sat = np.maximum(nu_sat_tx, np.max(np.where(runs, nu_sat_f, 0.0), axis=0))
    # The flat end and the slope there per q (scalar, cached; 0 for magnitude), the slope at rho_max over arrays.
    qs = sorted(set(q.astype(int).tolist()))
    q_index = np.searchsorted(np.array(qs, dtype=float), q)
    rd_rho0 = np.array([flat_end(qi) for qi in qs])[q_index]
    rd_s0 = np.array([_slope(flat_end(qi), "rd_bound", qi) for qi in qs])[q_index]
    rho0, s0 = np.where(mag, 0.0, rd_rho0), np.where(mag, 0.0, rd_s0)
    qln2 = q * LN2
    with np.errstate(divide="ignore", invalid="ignore"):  # rho_max = 0: log(0), unused where it arises
        smax = _slope_of(mag, rho0, qln2, rho_max)
        z_lo = np.log(rho0 / (1 - rho0))
        z_max = np.log(rho_max / (1 - rho_max))
    flat_pt = np.minimum(rho0, rho_max)
    has_work = (a > 0).any(axis=0)
    flat = np.where(shared, flat_pt, np.where((c == 0) & (a > 0), rho_max, flat_pt))
    top = np.where(shared, np.where(has_work, rho_max, flat_pt), np.where(a > 0, rho_max, flat))
    two_pruned = ~shared & (a > 0).all(axis=0) & (c > 0).all(axis=0)
    # One inverse-slope table for the batch: each q's keys shifted by _TABLE_OFFSET times its index.
    key = q_index * _TABLE_OFFSET
    tables = [_slope_table(qi) for qi in qs]
    table_h = np.concatenate([h + j * _TABLE_OFFSET for j, (h, _) in enumerate(tables)])
    table_z = np.concatenate([z for _, z in tables])
    return _Batch(
        T0, E0, rho_max, qln2, mag, shared, a, g, runs, fmax, k, counted, c, S, B, C, pmax, u_max,
        nu_sat_f, nu_sat_tx, nu_sat, rho0, s0, smax, z_lo, z_max, flat, top, two_pruned, key, table_h, table_z,
    )  # fmt: skip


#: ``(distortion_model, energy_scope, compute_model)`` -> bits: 1 magnitude, 2 system scope, 4 dense, 8 sparse.
_CHOICE_CODES = {
    (model, scope, compute): (model == "magnitude") | 2 * (scope == "system") | 4 * (compute == "dense")
    | 8 * (compute == "sparse")
    for model in DISTORTION_MODELS
    for scope in ENERGY_SCOPES
    for compute in COMPUTE_MODELS
}  # fmt: skip


# --- the uplink's KKT condition C((u - 1) e^u + 1) = nu (model.md section 5.3) ---


def _psi(u: Array) -> Array:
    """``(u - 1) e^u + 1``; below ``u = 0.05`` its series ``sum_{n >= 2} (n - 1) u^n / n!`` (no cancellation)."""
    series = np.zeros_like(u)
    for n in range(11, 1, -1):
        series = series * u + (n - 1) / math.factorial(n)
    return np.where(u > 0.05, (u - 1.0) * np.exp(u) + 1.0, series * u * u)


def _lambert_w0(x: Array) -> Array:
    """Principal branch of Lambert W for ``x > -0.3`` (Halley's iteration over arrays)."""
    lx = np.log(np.maximum(x, 3.0))
    small = np.log1p(x) * (1 - np.log1p(np.log1p(x)) / (2 + np.log1p(x)))
    w = np.where(x < 3.0, small, lx - np.log(lx))
    for _ in range(20):
        ew = np.exp(w)
        f = w * ew - x
        wp1 = w + 1.0
        step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1))
        w = w - step
        if np.all(np.abs(step) <= 1e-15 * (1.0 + np.abs(w))):
            break
    return w


def _tx_exponent(r: Array) -> Array:
    """``u >= 0`` with ``(u - 1) e^u + 1 = r`` (``r = nu / C``), as ``fast._tx_exponent`` over arrays."""
    big = r > 0.1
    u = np.empty_like(r)
    if big.any():
        u[big] = 1.0 + _lambert_w0((r[big] - 1.0) / math.e)
    if not big.all():
        # Near the branch point W0(-1/e + r/e): the series of 1 + W0 in p = sqrt(2 r) (exact p, no
        # cancellation), then Newton on the series of (u - 1) e^u + 1.
        rs = r[~big]
        p = np.sqrt(2.0 * rs)
        us = np.maximum(
            p * (1 + p * (-1 / 3 + p * (11 / 72 + p * (-43 / 540 + p * (769 / 17280 - 221 / 8505 * p))))), 1e-300
        )
        for _ in range(8):
            step = (_psi(us) - rs) / (us * np.exp(us))
            us = us - step
            if np.all(np.abs(step) <= 4e-16 * us):
                break
        u[~big] = us
    return u


@dataclass
class _Resources:
    """Frequencies ``f`` (2, n), uplink exponent ``u``, and their log-derivatives in ``x = ln nu``."""

    nu: Array
    f: Array
    u: Array
    dlnf: Array
    du: Array


def _resources(m: _Batch, x: Array) -> _Resources:
    """Resources minimising ``energy + nu * time`` at the price of time ``nu = e^x`` (model.md section 5.3)."""
    nu = np.exp(x)
    priced = m.counted & (nu < m.nu_sat_f)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(priced, np.cbrt(nu / (2 * m.k)), m.fmax)
    tx_priced = (m.S > 0) & (nu < m.nu_sat_tx)
    u = m.u_max.copy()
    du = np.zeros_like(u)
    if tx_priced.any():
        nu_p, c_p = nu[tx_priced], m.C[tx_priced]
        u_p = np.maximum(np.minimum(_tx_exponent(nu_p / c_p), m.u_max[tx_priced]), 1e-300)
        u[tx_priced] = u_p
        du[tx_priced] = nu_p / (c_p * u_p * np.exp(u_p))
    return _Resources(nu, f, u, np.where(priced, 1.0 / 3.0, 0.0), du)


def _max_resources(m: _Batch) -> _Resources:
    zero = np.zeros_like(m.T0)
    return _Resources(np.full_like(zero, np.inf), m.fmax, m.u_max, np.zeros_like(m.fmax), zero)


def _tx(m: _Batch, u: Array) -> tuple[Array, Array]:
    """Upload time and energy at exponent ``u`` (0 when nothing is sent)."""
    sent = m.S > 0
    t = np.where(sent, m.S * LN2 / (m.B * u), 0.0)
    return t, np.where(sent, m.C * np.expm1(u) * t, 0.0)


def _time_energy(m: _Batch, rho: Array, res: _Resources) -> tuple[Array, Array]:
    """Latency and energy (in the energy scope) at ratios ``rho`` and resources ``res``."""
    t_tx, e_tx = _tx(m, res.u)
    work = m.a * (1 - rho) + m.g
    t_side = np.where(m.runs, work / res.f, 0.0)
    e_side = np.where(m.runs & m.counted, m.k * work * res.f**2, 0.0)
    return t_tx + t_side[0] + t_side[1], e_tx + e_side[0] + e_side[1]


# --- vectorised safeguarded Newton for a non-increasing function ---


def _newton_decreasing(
    func: Callable[[Array], tuple[Array, Array]],
    lo: Array,
    hi: Array,
    start: Array,
    rtol: float,
) -> Array:
    """Root of a non-increasing ``g`` on ``[lo, hi]`` per entry, from the feasible side (``g <= 0``).

    The array form of ``fast._newton_decreasing`` (``func`` returns ``(g, g')``):
    safeguarded Newton, bisection when a step leaves the bracket or when, after
    six steps, it crossed the root without at least halving ``|g|`` (Newton
    zigzagging across the root of a strongly curved ``g`` shrinks the bracket
    only slowly, and a vectorised loop runs until its slowest entry has
    converged); ``hi`` where ``g > 0`` on the whole bracket, ``lo`` where
    ``g <= 0`` on the whole bracket.
    """
    return _newton_decreasing_over(lambda _m, _args, y: func(y), None, (), lo, hi, start, rtol)


def _newton_decreasing_over(
    func: Callable[[Any, tuple[Array, ...], Array], tuple[Array, Array]],
    m: _Batch | None,
    args: tuple[Array, ...],
    lo: Array,
    hi: Array,
    start: Array,
    rtol: float,
) -> Array:
    """:func:`_newton_decreasing` of ``func(m, args, y)``, whose entries are those of the batch ``m`` and of the
    per-entry arrays ``args`` (last axis): once half of the entries have converged, ``func`` sees only the
    entries still iterating (a sub-batch), so that the slowest entries do not keep the others' cost."""
    lo0 = lo
    y = np.where((start > lo) & (start < hi), start, 0.5 * (lo + hi))
    hi_feasible = np.full_like(y, np.nan)
    active = np.ones(y.shape, dtype=bool)
    g_prev = np.full_like(y, np.inf)
    # The answers of entries that left the working set (`live`: their indices).
    out_hi, out_feasible, live = hi.copy(), hi_feasible.copy(), np.arange(y.size)
    for it in range(200):
        g, dg = func(m, args, y)
        stalled = ((g > 0) != (g_prev > 0)) & (np.abs(g) > 0.5 * np.abs(g_prev))
        g_prev = g
        feasible = g <= 0
        hi = np.where(active & feasible, y, hi)
        hi_feasible = np.where(active & feasible, y, hi_feasible)
        lo = np.where(active & ~feasible, y, lo)
        tol = rtol * np.maximum(1.0, np.abs(y))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where((dg < 0) & np.isfinite(dg), -g / dg, np.inf)  # no usable slope: bisect
        small = np.abs(step) <= tol
        done = (g == 0) | (hi - lo <= tol) | (small & feasible)
        step = np.where(small & ~feasible, 2 * tol, step)
        nxt = y + step
        # Only after a few steps (Newton alone is faster where it is not slow), and not in the last
        # steps, which step over the root on purpose.
        zigzag = stalled & (it >= 6) & (hi - lo > 1e6 * tol)
        nxt = np.where((nxt > lo) & (nxt < hi) & ~zigzag, nxt, 0.5 * (lo + hi))
        active &= ~done
        if not active.any():
            break
        y = np.where(active, nxt, y)
        if m is not None and active.sum() <= active.size // 2:
            leave = ~active
            out_hi[live[leave]], out_feasible[live[leave]] = hi[leave], hi_feasible[leave]
            keep = np.flatnonzero(active)
            m, args, live = m.take(keep), tuple(a[..., keep] for a in args), live[keep]
            y, lo, hi, g_prev = y[keep], lo[keep], hi[keep], g_prev[keep]
            hi_feasible, active = hi_feasible[keep], active[keep]
    out_hi[live], out_feasible[live] = hi, hi_feasible
    out = np.where(np.isnan(out_feasible), out_hi, out_feasible)
    return np.where(out <= lo0, lo0, out)


# --- ratios (model.md section 5.3) ---


def _ratio(m: _Batch, s: Array) -> tuple[Array, Array]:
    """``(rho, d rho / d ln s)`` of the ratio whose marginal distortion is ``s`` (2, n) (model.md section 5.3).

    ``fast``'s ``_inverse_slope`` / ``_ratio_and_derivative`` over arrays: closed
    form for ``magnitude``; for ``rd_bound`` Newton in the logit ``z`` from the
    table of :func:`_slope_table` (two steps), with the bracketed iteration of
    ``_inverse_slope`` for any entry whose second step was not below 1e-9.
    """
    rho_max, rho0, s0, smax = m.rho_max, m.rho0, m.s0, m.smax
    # magnitude: rho = 1 - e^-s
    r_mag = -np.expm1(-s)
    d_mag = np.where(r_mag < rho_max, s * np.exp(-s), 0.0)
    r_mag = np.minimum(r_mag, rho_max)
    interior = ~m.mag & (rho0 < rho_max) & (s > s0) & (s < smax)
    rho = np.where((rho0 >= rho_max) | (s >= smax), rho_max, rho0) + 0.0 * s
    drho = np.zeros_like(s)
    if interior.any():
        qln2 = m.qln2
        target = np.log(np.where(interior, s, 1.0))
        z = np.interp(target + m.key, m.table_h, m.table_z)
        z = np.minimum(np.maximum(z, m.z_lo), m.z_max)
        step = np.zeros_like(z)
        for _ in range(2):  # table error ~1e-5: the second step is ~1e-10, and what it leaves ~1e-20
            r = 1.0 / (1.0 + np.exp(-z))
            kept = 1.0 - r
            mm = z + qln2
            value = r * np.log(r) + kept * np.log1p(-r) - qln2 * kept + np.log(mm) - target
            step = value / (mm * r * kept + 1.0 / mm)
            z = z - step
        slow = interior & ~(np.abs(step) <= 1e-9 * np.maximum(1.0, np.abs(z)))
        if slow.any():
            z = np.where(slow, _bracketed_logit(m, target, z, slow), z)
        r = np.minimum(np.maximum(1.0 / (1.0 + np.exp(-z)), rho0), rho_max)
        inside = interior & (r > rho0) & (r < rho_max)
        mm = np.log(r / (1 - r)) + qln2
        rho = np.where(interior, r, rho)
        drho = np.where(inside, r * (1 - r) / (mm * r * (1 - r) + 1.0 / mm), 0.0)
    return np.where(m.mag, r_mag, rho), np.where(m.mag, d_mag, drho)


def _bracketed_logit(m: _Batch, target: Array, guess: Array, active: Array) -> Array:
    """The safeguarded Newton of ``fast``'s ``_inverse_slope`` on the ``active`` entries."""
    qln2 = m.qln2
    lo = np.broadcast_to(m.z_lo, target.shape)
    hi = np.broadcast_to(m.z_max, target.shape)
    z = np.where((guess > lo) & (guess < hi), guess, 0.5 * (lo + hi))
    tol_value = 2e-16 * (1.0 + np.abs(target))
    tol_z = 1e-15 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
    active = active.copy()
    for _ in range(100):
        r = 1.0 / (1.0 + np.exp(-z))
        kept = 1.0 - r
        mm = z + qln2
        value = r * np.log(r) + kept * np.log1p(-r) - qln2 * kept + np.log(mm) - target
        close = np.abs(value) <= tol_value
        hi = np.where(active & (value > 0), z, hi)
        lo = np.where(active & (value <= 0), z, lo)
        nxt = z - value / (mm * r * kept + 1.0 / mm)
        nxt = np.where((lo <= nxt) & (nxt <= hi), nxt, 0.5 * (lo + hi))
        done = close | (np.abs(nxt - z) <= tol_z) | (hi - lo <= tol_z)
        z = np.where(active & ~close, nxt, z)
        active &= ~done
        if not active.any():
            break
    return z


@dataclass
class _Path:
    """Ratios where the latency budget binds, with their derivatives (see :func:`_binding_ratios`)."""

    rho: Array
    d_x: Array  # d rho / d x at a fixed multiplier (2, n)
    d_v: Array  # d rho / d v, v the free variable (the log multiplier, or the free ratio)


def _binding_ratios(m: _Batch, res: _Resources, price: Array | None, warm: dict[str, Array]) -> _Path:
    """Least-distortion ratios meeting the latency budget at resources ``res`` (model.md section 5.3).

    ``price`` is the per-cycle price ``eta psi f^2 [counted] + nu / f`` of each
    side (``fast._Model.price_ratios``), or ``None`` at fixed resources
    (``fast._Model.latency_ratios``): two sides with something to prune share one
    multiplier of the marginal distortion (a root in its log); shared ratios
    and a single prunable side follow from the budget in closed form.
    """
    t_tx, _ = _tx(m, res.u)
    f = res.f
    weight = np.where(m.a > 0, m.a / f, 0.0)  # latency per unit of kept fraction
    t_fixed = t_tx + np.where(m.g > 0, m.g / f, 0.0).sum(axis=0)
    target = m.T0 - t_fixed
    top = np.where(weight > 0, m.top, m.flat)

    def load(rho: Array) -> Array:
        return (weight * (1 - rho)).sum(axis=0)

    flat_fits = load(m.flat) <= target
    top_binds = load(top) >= target
    active = (weight > 0) & (m.c > 0)
    n_active = active.sum(axis=0)
    free = ~flat_fits & ~top_binds
    rho = np.where(flat_fits, m.flat, top)
    d_x, d_v = np.zeros_like(rho), np.zeros_like(rho)
    wsum = weight.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # shared ratio: one ratio from the budget
        shared = free & m.shared
        r_sh = 1.0 - target / wsum
        r_sh_c = np.minimum(np.maximum(r_sh, m.flat[0]), m.rho_max)
        rho = np.where(shared, r_sh_c, rho)
        d_v = np.where(shared & (r_sh_c == r_sh) & (m.a > 0), 1.0, d_v)
        # one prunable side
        one = free & ~m.shared & (n_active == 1)
        other = (weight * (1 - m.flat))[::-1]
        r_one = 1.0 - (target - other) / weight
        r_one_c = np.minimum(np.maximum(r_one, m.flat), m.rho_max)
        rho = np.where(one & active, r_one_c, np.where(one, m.flat, rho))
        d_v = np.where(one & active & (r_one_c == r_one), 1.0, d_v)
    two = free & ~m.shared & (n_active == 2)
    if two.any():
        idx = np.flatnonzero(two)
        sub = m.take(idx)
        w_sub = weight[:, idx]
        sigma = (w_sub if price is None else price[:, idx] * sub.a) / sub.c
        log_sigma = np.log(sigma)
        hi = np.log(np.max(sub.smax / sigma, axis=0))
        with np.errstate(divide="ignore"):
            lo_rd = np.maximum(np.log(np.maximum(sub.s0, 1e-300)) - np.max(log_sigma, axis=0), hi - 1400.0)
        lo = np.where(sub.mag, hi - 92.0, lo_rd)
        if "y" not in warm:
            warm["y"] = np.full_like(m.T0, np.nan)
        tgt = target[idx]

        def gap(part: _Batch, args: tuple[Array, ...], y: Array) -> tuple[Array, Array]:
            log_sigma_part, w_part, tgt_part = args
            r, dr = _ratio(part, np.exp(y + log_sigma_part))
            return (w_part * (1 - r)).sum(axis=0) - tgt_part, -(w_part * dr).sum(axis=0)

        start = warm["y"][idx]
        cold = ~np.isfinite(start)
        if cold.any():
            # Cold start: the multiplier at which a common ratio would meet the budget, with the sides'
            # log-slopes averaged by their loads.
            common = np.clip(1.0 - tgt / w_sub.sum(axis=0), 1e-6, 0.999999 * sub.rho_max)
            mean_log_sigma = (w_sub * log_sigma).sum(axis=0) / w_sub.sum(axis=0)
            guess = np.log(np.maximum(_slope_array(sub, common), 1e-300)) - mean_log_sigma
            start = np.where(cold, guess, start)
        y = _newton_decreasing_over(gap, sub, (log_sigma, w_sub, tgt), lo, hi, start, 1e-14)
        r, dr = _ratio(sub, np.exp(y + log_sigma))
        warm["y"][idx] = y
        rho[:, idx] = r
        d_v[:, idx] = dr
        if price is not None:
            # d ln(price)/dx: the price eta psi f^2 + nu/f moves with nu and with f(nu)
            dlnf = res.dlnf[:, idx]
            fi = f[:, idx]
            dp = np.where(sub.counted, 2 * sub.k * fi * fi * dlnf, 0.0) + res.nu[idx] / fi * (1 - dlnf)
            d_x[:, idx] = dr * dp / price[:, idx]
    return _Path(rho, d_x, d_v)


def _min_energy(m: _Batch, rho: Array) -> tuple[Array, Array, _Resources]:
    """Least energy meeting the latency budget at fixed ratios: ``(E, nu, resources)`` (``fast``'s ``min_energy``)."""
    top = _max_resources(m)
    t_top, e_top = _time_energy(m, rho, top)
    priced = (m.nu_sat > 0) & (t_top < m.T0)
    energy, nu, res = e_top, np.full_like(e_top, np.inf), top
    if priced.any():
        idx = np.flatnonzero(priced)
        sub = m.take(idx)
        r_sub = rho[:, idx]
        hi = np.log(sub.nu_sat)

        def log_time(part: _Batch, args: tuple[Array, ...], x: Array) -> tuple[Array, Array]:
            (rho_part,) = args
            res_x = _resources(part, x)
            t_tx, _ = _tx(part, res_x.u)
            dt = np.where(part.S > 0, -t_tx / res_x.u * res_x.du, 0.0)
            t_side = np.where(part.runs, (part.a * (1 - rho_part) + part.g) / res_x.f, 0.0)
            total = t_tx + t_side.sum(axis=0)
            dt = dt - (t_side * res_x.dlnf).sum(axis=0)
            # Model step instead of the tangent: the priced part t_p of the time falls like e^(-kappa x)
            # (kappa = 1/3 for a CPU, its local value for the upload) and the rest t_u stays, so the
            # budget is met after ln(t_p / (T0 - t_u)) / kappa; Newton's step -g/g' equals this for
            # the returned g'. It is exact for CPUs alone and tangent to Newton's near the root.
            t_p = np.where(res_x.dlnf > 0, t_side, 0.0).sum(axis=0) + np.where(res_x.du > 0, t_tx, 0.0)
            t_u = total - t_p
            kappa = -dt / np.where(t_p > 0, t_p, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                jump = np.log(t_p / (part.T0 - t_u)) / kappa
                g = np.log(total / part.T0)
                slope = np.where((part.T0 > t_u) & (t_p > 0) & (kappa > 0) & (jump != 0), -g / jump, dt / total)
            return g, slope

        x = _newton_decreasing_over(log_time, sub, (r_sub,), hi - 1600.0, hi, hi - 1.0, 1e-13)
        res_sub = _resources(sub, x)
        _, e_sub = _time_energy(sub, r_sub, res_sub)
        energy = energy.copy()
        energy[idx] = e_sub
        nu = nu.copy()
        nu[idx] = np.exp(x)
        res = _Resources(nu, _put(top.f, idx, res_sub.f), _put(top.u, idx, res_sub.u), top.dlnf, top.du)
    return energy, nu, res


def _put(base: Array, idx: Array, values: Array) -> Array:
    out = base.copy()
    out[..., idx] = values
    return out


def _both_bind(m: _Batch, nu_min: Array, e_min: Array) -> tuple[Array, _Resources]:
    """Step 4 of model.md section 5.3: the outer root in ``x = ln nu`` of the energy along the path
    where the latency budget binds (safeguarded Newton, slope by the implicit function theorem)."""
    warm: dict[str, Array] = {}

    def state(x: Array) -> tuple[Array, Array, _Path, _Resources]:
        res = _resources(m, x)
        f = res.f
        price = np.where(m.counted, m.k * f * f, 0.0) + res.nu / f
        if "y" in warm and "dydx" in warm:  # start the multiplier's root on the tangent of the path
            shift = warm["dydx"] * (x - warm["x"])
            warm["y"] = np.where(np.abs(shift) <= 1.0, warm["y"] + shift, warm["y"])  # far steps: no guess
        path = _binding_ratios(m, res, price, warm)
        t_tx, e_tx = _tx(m, res.u)
        work = m.a * (1 - path.rho) + m.g
        live = m.runs & m.counted
        energy = e_tx + np.where(live, m.k * work * f * f, 0.0).sum(axis=0)
        # partial derivatives at a fixed free variable v, and in v
        dt_tx = np.where(m.S > 0, -t_tx / res.u * res.du, 0.0)
        de_tx = np.where(m.S > 0, m.C * np.exp(res.u) * t_tx * res.du + m.C * np.expm1(res.u) * dt_tx, 0.0)
        t_x = dt_tx + np.where(m.runs, -work / f * res.dlnf - m.a * path.d_x / f, 0.0).sum(axis=0)
        t_v = np.where(m.runs, -m.a * path.d_v / f, 0.0).sum(axis=0)
        e_x = de_tx + np.where(live, m.k * f * f * (2 * work * res.dlnf - m.a * path.d_x), 0.0).sum(axis=0)
        e_v = np.where(live, -m.k * f * f * m.a * path.d_v, 0.0).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(t_v != 0, e_x - e_v * t_x / t_v, e_x)
            warm["x"], warm["dydx"] = x, np.where(t_v != 0, -t_x / t_v, 0.0)
        return energy - m.E0, slope, path, res

    finite = np.isfinite(nu_min)
    with np.errstate(divide="ignore"):
        lo = np.where(finite, np.log(np.where(finite, nu_min, 1.0)), np.log(np.maximum(m.nu_sat, 1e-300)))
        hi = np.maximum(lo, np.where(m.nu_sat > 0, np.log(np.where(m.nu_sat > 0, m.nu_sat, 1.0)), lo)) + 1.0
    g_hi = state(hi)[0]
    for _ in range(150):
        grow = (g_hi <= 0) & (hi < lo + 1500.0)
        if not grow.any():
            break
        hi = np.where(grow, hi + 10.0, hi)
        g_hi = np.where(grow, state(hi)[0], g_hi)
    # At nu_min (the floors' price) the path's ratios are the most pruned ones, whose least energy the floors
    # already know: its inner root would only creep up to the top of its bracket.
    g_lo = e_min - m.E0
    if not finite.all():
        g_lo = np.where(finite, g_lo, state(lo)[0])
    for _ in range(60):
        down = g_lo > 0
        if not down.any():
            break
        lo = np.where(down, lo - 1e-9 * np.maximum(1.0, np.abs(lo)), lo)
        g_lo = np.where(down, state(lo)[0], g_lo)
    start = lo + (hi - lo) * g_lo / (g_lo - g_hi)

    def reversed_gap(xr: Array) -> tuple[Array, Array]:
        gap, slope = state(-xr)[:2]
        return gap, np.where(np.isfinite(slope), -slope, 0.0)

    x = -_newton_decreasing(reversed_gap, -hi, -lo, -start, 1e-13)
    x = np.where(g_hi <= 0, hi, np.where(g_lo > 0, lo, x))
    _, _, path, res = state(x)
    return path.rho, res


def _decisions(m: _Batch, rho: Array, res: _Resources) -> Array:
    """Rows ``(rho_d, rho_s, power, f_d, f_s)`` as ``fast._decision`` builds them."""
    f = np.where(m.runs, res.f, m.fmax)
    power = np.where(m.S > 0, np.where(res.u >= m.u_max, m.pmax, np.minimum(m.C * np.expm1(res.u), m.pmax)), 0.0)
    return np.stack([rho[0], rho[1], power, f[0], f[1]])


def solve_batch(problems: Sequence[Problem], stats: dict[str, int] | None = None) -> list[Solution]:
    """:func:`coinfer.optimise.solve` for many problems at once, vectorised over NumPy arrays (model.md section 5.3).

    Returns one :class:`Solution` per problem, in order, with ``solve``'s
    status and reason, and its objective and decision to ~1e-12 relative
    (both find the unique KKT point of model.md section 5.2 to full precision;
    the ratio of a side with almost no work is pinned by the budgets only to
    about ``ulp(T0) / (a / f)``, and may differ by that much). Empty input
    gives ``[]``.

    Batches of fewer than :data:`SCALAR_BELOW` problems, and the both-binding instances without two
    pruned sides when there are fewer than :data:`NESTED_OVER_ARRAYS` of them, are solved by ``solve``
    itself: there the vectorised loops' fixed cost exceeds the scalar solver's.

    ``stats``, if given, is filled with counts: ``n``; ``scalar``, instances given to ``solve`` because they
    are too few for the vectorised loops; ``fallback``, instances solved by the scalar
    :func:`coinfer.optimise.solve` because the vectorised iteration did not settle them (a floor within
    rounding of its budget, or the joint Newton not converged); ``polish``, instances whose residual violation
    needed the scalar ``fast.polish`` after the vectorised step; ``infeasible``, instances whose reason text
    came from the scalar floors (``fast._floors``: a printed number within rounding of changing a digit).
    """
    n = len(problems)
    counts = {"n": n, "scalar": 0, "fallback": 0, "polish": 0, "infeasible": 0}
    if stats is not None:
        stats.clear()
        stats.update(counts)
        counts = stats
    if n == 0:
        return []
    if n < SCALAR_BELOW:
        counts["scalar"] = n
        return [solve(problem) for problem in problems]
    # The answers are thousands of small objects and no reference cycle: the cyclic collector's passes over
    # the caller's whole heap, which their allocation would trigger, would find nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _solve_many(problems, counts)
    finally:
        if collecting:
            gc.enable()


def _solve_many(problems: Sequence[Problem], counts: dict[str, int]) -> list[Solution]:
    """:func:`solve_batch` over arrays, ``counts`` as its ``stats``."""
    n = len(problems)
    m = _build(problems)
    with np.errstate(all="ignore"):
        decision, infeasible, scalar, few, floor_t, e_min = _decide(m)
        decision = _clip(m, decision)
        latency, energy, objective = _evaluate(m, decision)
        # fast.polish changes nothing where the clipped decision meets both budgets exactly (rtol 0);
        # elsewhere its first step, over arrays, removes the residual of a few ulps.
        over = ~infeasible & ~scalar & ~((latency <= m.T0) & (energy <= m.E0))
        if over.any():
            over_idx = np.flatnonzero(over)
            sub = m.take(over_idx)
            d_sub = _polish_step(sub, decision[:, over_idx], latency[over_idx], energy[over_idx])
            decision[:, over_idx] = d_sub
            latency[over_idx], energy[over_idx], objective[over_idx] = _evaluate(sub, d_sub)
    polished = (latency <= m.T0) & (energy <= m.E0)
    decision = _canonical(m, decision)
    out: list[Solution | None] = [None] * n
    # Optimal answers: variables without effect took their canonical values; latency, energy and objective
    # do not move with them.
    done = ~infeasible & ~scalar & polished
    optimal: list[int] = np.flatnonzero(done).tolist()
    columns = [row.tolist() for row in np.concatenate([decision, [objective, latency, energy]])[:, done]]
    for i, solution in zip(optimal, map(_optimal, *columns), strict=True):
        out[i] = solution
    # Infeasible answers: their reasons from the floors' numbers, unless a number is within rounding of its
    # budget (the scalar solver then decides) or of changing a printed digit (the scalar floors print it).
    reasons, unsure = _reasons(m, infeasible & ~scalar, floor_t, e_min)
    for i, reason in reasons.items():
        out[i] = _infeasible(reason)
    counts["infeasible"] += len(unsure)
    for i in unsure:
        bad = _floors(_Model(problems[i]))[0]
        if bad is None:  # a floor within rounding of its budget: the scalar solver decides
            counts["fallback"] += 1
            bad = solve(problems[i])
        out[i] = bad
    counts["scalar"] += int(few.sum())
    counts["fallback"] += int(scalar.sum()) - int(few.sum())
    for i in np.flatnonzero(scalar).tolist():  # the joint Newton did not converge, or nested roots for a few
        out[i] = solve(problems[i])
    residual = ~infeasible & ~scalar & ~polished
    rows = decision.T
    for i in np.flatnonzero(residual).tolist():  # a residual of a few ulps: fast.polish prunes a little more
        counts["polish"] += 1
        out[i] = _answer(problems[i], Decision(*rows[i].tolist()))
    return out  # type: ignore[return-value]  # every entry is set above


#: Relative distance within which a floor computed over arrays may differ from the scalar floors' (the
#: least energy comes from a root of its own: observed up to ~4e-12 relative); a printed number this
#: close to a change of its 10th digit is left to the scalar floors.
_FLOOR_RTOL = {"latency": 1e-13, "energy": 2e-11}


def _reasons(m: _Batch, infeasible: Array, floor_t: Array, e_min: Array) -> tuple[dict[int, str], list[int]]:
    """The ``reason`` of every instance of ``infeasible`` whose text the floors computed over arrays fix
    (``fast._floors``' text, model.md section 5.7), and the instances left to the scalar floors."""
    latency_edge, energy_edge = m.T0 * (1 + _EDGE), m.E0 * (1 + _EDGE)
    by_latency = infeasible & (floor_t > latency_edge)
    by_energy = infeasible & ~by_latency
    # Near its budget a floor could go either way: the scalar floors decide.
    near = (np.abs(floor_t - latency_edge) <= 4 * _FLOOR_RTOL["latency"] * floor_t) | (
        by_energy & ~(np.abs(e_min - energy_edge) > 4 * _FLOOR_RTOL["energy"] * e_min)
    )
    reasons: dict[int, str] = {}
    unsure: list[int] = []
    runs = m.runs.T.tolist()
    fmax = m.fmax.T.tolist()
    for i in np.flatnonzero(infeasible).tolist():
        if near[i]:
            unsure.append(i)
        elif by_latency[i]:
            t = float(floor_t[i])
            if not _prints_stably(t, _FLOOR_RTOL["latency"]):
                unsure.append(i)
                continue
            limits = _limits(runs[i], fmax[i], bool(m.S[i] > 0), float(m.pmax[i]))
            reasons[i] = _latency_floor_reason(t, float(m.rho_max[i]), limits, float(m.T0[i]))
        else:
            e = float(e_min[i])
            if not _prints_stably(e, _FLOOR_RTOL["energy"]):
                unsure.append(i)
                continue
            scope = "system" if m.counted[1, i] else "device"
            reasons[i] = _energy_floor_reason(e, scope, float(m.rho_max[i]), float(m.T0[i]), float(m.E0[i]))
    return reasons, unsure


def _prints_stably(value: float, rtol: float) -> bool:
    """Whether ``value`` prints the same with 10 significant digits (the reasons' format) anywhere within
    ``rtol`` of itself; if not, the scalar floors print it, so the text always matches ``solve``'s."""
    printed = f"{value:.10g}"
    return f"{value * (1 - rtol):.10g}" == printed == f"{value * (1 + rtol):.10g}"


def _canonical(m: _Batch, d: Array) -> Array:
    """``coinfer.system.canonical_decision`` over arrays (model.md section 8.4): ``rho = 0`` on a side with no
    prunable weights and no prunable work (no shared ratio), ``power = 0`` when nothing is sent, ``f = f_max``
    on a side that runs nothing."""
    rho = np.where((m.c == 0) & (m.a == 0) & ~m.shared, 0.0, d[:2])
    power = np.where(m.S == 0, 0.0, d[2])
    f = np.where(m.a + m.g == 0, m.fmax, d[3:])
    return np.concatenate([rho, power[None], f])


def _clip(m: _Batch, d: Array) -> Array:
    """The clipping of ``fast.polish``: ratios to ``[0, rho_max]`` (equal if shared), power and frequencies."""
    rho = np.minimum(np.maximum(d[:2], 0.0), m.rho_max)
    rho = np.where(m.shared & (rho[0] != rho[1]), rho.max(axis=0), rho)
    power = np.minimum(np.maximum(d[2], 0.0), m.pmax)
    f = np.minimum(d[3:], m.fmax)
    return np.concatenate([rho, power[None], f])


def _polish_step(m: _Batch, d: Array, latency: Array, energy: Array) -> Array:
    """One step of ``fast.polish`` over arrays: prune a little more on the side (or, shared, both sides)
    where removing the budgets' excess costs the least distortion (model.md section 5.3)."""
    need_t = np.maximum(latency - m.T0, 0.0)
    need_e = np.maximum(energy - m.E0, 0.0)
    f = d[3:]
    tau = m.a / f
    eps = np.where(m.counted, m.k * m.a * f * f, 0.0)
    shared = m.shared
    tau = np.where(shared, tau.sum(axis=0), tau)
    eps = np.where(shared, eps.sum(axis=0), eps)
    room = m.rho_max - d[:2]
    valid = ~((room <= 0) | ((need_t > 0) & (tau <= 0)) | ((need_e > 0) & (eps <= 0)))
    valid[1] &= ~shared
    step = np.maximum(np.where(need_t > 0, need_t / tau, 0.0), np.where(need_e > 0, need_e / eps, 0.0))
    step = step * (1 + 1e-9) + 4e-16
    price = m.c * _slope_array(m, np.minimum(d[:2] + step, m.rho_max))
    price = np.where(shared, price.sum(axis=0), price) + 1e-300
    cost = np.where(valid, price * step, np.inf)
    side = np.where(cost[1] < cost[0], 1, 0)
    chosen = (np.arange(2)[:, None] == side) | shared
    move = chosen & valid.any(axis=0)
    step_of = np.where(side == 1, step[1], step[0])
    rho = np.where(move, np.minimum(d[:2] + step_of, m.rho_max), d[:2])
    return np.concatenate([rho, d[2:]])


def _slope_array(m: _Batch, rho: Array) -> Array:
    """``fast``'s ``_slope`` over arrays: the right derivative of ``D_model(rho; b) / b``."""
    return _slope_of(m.mag, m.rho0, m.qln2, rho)


def _slope_of(mag: Array, rho0: Array, qln2: Array, rho: Array) -> Array:
    """:func:`_slope_array` from the fields it needs (``_build`` calls it before the batch exists)."""
    magnitude = -np.log1p(-rho)
    unit = _unit_distortion_of(mag, qln2, rho)
    rd_bound = np.where(rho < rho0, 0.0, unit * (np.log(rho / (1 - rho)) + qln2))
    return np.where(mag, magnitude, rd_bound)


def _evaluate(m: _Batch, d: Array) -> tuple[Array, Array, Array]:
    """Latency, energy and objective of decisions ``d`` (5, n), as :func:`coinfer.system.evaluate` computes them."""
    rho = np.minimum(np.maximum(d[:2], 0.0), 1.0)
    f, power = d[3:], d[2]
    work = (1 - rho) * m.a + m.g
    busy = work > 0
    t_side = np.where(busy, np.where(f > 0, work / f, np.inf), 0.0)
    e_side = np.where(busy, m.k * work * f * f, 0.0)
    rate = m.B * np.log1p(power / m.C) / LN2
    sent = m.S > 0
    t_tx = np.where(sent, np.where(rate > 0, m.S / rate, np.inf), 0.0)
    e_tx = np.where(sent, np.where(rate > 0, power * t_tx, np.inf), 0.0)
    latency = t_side[0] + t_tx + t_side[1]
    energy = e_side[0] + e_tx + np.where(m.counted[1], e_side[1], 0.0)
    return latency, energy, (m.c * _unit_distortion(m, rho)).sum(axis=0)


def _unit_distortion(m: _Batch, rho: Array) -> Array:
    """``D_model(rho; b) / b`` over arrays (:func:`coinfer.system.unit_distortion`, model.md section 4)."""
    return _unit_distortion_of(m.mag, m.qln2, rho)


def _unit_distortion_of(mag: Array, qln2: Array, rho: Array) -> Array:
    """:func:`_unit_distortion` from the fields it needs."""
    series = sum(rho**k / (k * (k - 1)) for k in range(2, 9))
    kept_log = np.where(rho < 1.0, (1.0 - rho) * np.log1p(-rho), 0.0)
    magnitude = np.where(rho < 1e-3, series, rho + kept_log)
    entropy = -np.where(rho > 0, rho * np.log(rho), 0.0) - kept_log
    rd_bound = np.exp(-np.minimum(entropy + qln2 * (1.0 - rho), qln2))
    return np.where(mag, magnitude, rd_bound)


def _decide(m: _Batch) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Decisions (5, n) of the four cases of model.md section 5.3, the infeasible mask, the mask of
    the instances left to the scalar solver (and of those among them left to it because they are few), and the
    floors: the latency at the most pruned workload and
    maximum resources, and the least energy there (NaN where not computed)."""
    top_res = _max_resources(m)
    floor_t, e_top = _time_energy(m, m.top, top_res)
    # 1. floors; their least energy only where a floor may reach its budget (as in solve): elsewhere it is
    # below the energy at maximum resources, and only the nested roots of step 4 need it
    decision = np.zeros((5, m.T0.size))
    e_min, nu_min = np.full_like(e_top, np.nan), np.full_like(e_top, np.nan)
    slack = (floor_t < m.T0 * (1 - _EDGE)) & (e_top < m.E0 * (1 - _EDGE))
    infeasible = floor_t > m.T0 * (1 + _EDGE)
    tight = ~slack & ~infeasible
    if tight.any():
        idx = np.flatnonzero(tight)
        sub = m.take(idx)
        e_min[idx], nu_min[idx], res_min = _min_energy(sub, sub.top)
        decision[:, idx] = _decisions(sub, sub.top, res_min)
    infeasible |= e_min > m.E0 * (1 + _EDGE)
    at_floor = tight & ~infeasible & ((floor_t >= m.T0 * (1 - _EDGE)) | (e_min >= m.E0 * (1 - _EDGE)))
    todo = ~infeasible & ~at_floor
    # 2. least distortion
    t_flat, _ = _time_energy(m, m.flat, top_res)
    try_flat = todo & (t_flat <= m.T0)
    if try_flat.any():
        idx = np.flatnonzero(try_flat)
        sub = m.take(idx)
        e_flat, _, res_flat = _min_energy(sub, sub.flat)
        ok = e_flat <= sub.E0
        decision[:, idx[ok]] = _decisions(sub, sub.flat, res_flat)[:, ok]
        todo[idx[ok]] = False
    # 3. latency only, at maximum resources
    excess = np.zeros_like(e_top)  # relative excess of the latency-only optimum's energy
    if todo.any():
        idx = np.flatnonzero(todo)
        sub = m.take(idx)
        sub_top = _max_resources(sub)
        rho_l = _binding_ratios(sub, sub_top, None, {}).rho
        excess[idx] = _time_energy(sub, rho_l, sub_top)[1] / sub.E0 - 1.0
        ok = excess[idx] <= 0
        decision[:, idx[ok]] = _decisions(sub, rho_l, sub_top)[:, ok]
        todo[idx[ok]] = False
    # 4. both budgets bind: a joint 2-D Newton where two sides are pruned (solve's fast path), with the scalar
    # solve for the few instances where it does not converge; nested roots for the others, over arrays when
    # there are enough of them to pay for the loops' fixed cost, else by the scalar solve
    scalar = np.zeros_like(todo)
    joint = todo & m.two_pruned
    if joint.any():
        idx = np.flatnonzero(joint)
        sub = m.take(idx)
        rho, res, converged = _joint_newton(sub, excess[idx])
        decision[:, idx] = _decisions(sub, rho, res)
        scalar[idx[~converged]] = True
        todo[idx] = False
    few = np.zeros_like(todo)
    if todo.sum() < NESTED_OVER_ARRAYS:
        few = todo
    else:
        idx = np.flatnonzero(todo)
        sub = m.take(idx)
        unknown = np.isnan(e_min[idx])
        if unknown.any():
            e_min[idx[unknown]], nu_min[idx[unknown]], _ = _min_energy(
                sub.take(np.flatnonzero(unknown)), sub.top[:, unknown]
            )
        rho, res = _both_bind(sub, nu_min[idx], e_min[idx])
        decision[:, idx] = _decisions(sub, rho, res)
    return decision, infeasible, scalar | few, few, floor_t, e_min


def _joint_state(m: _Batch, x: Array, y: Array) -> tuple[Array, _Resources, Array, Array]:
    """``fast._log_kkt_state`` over arrays (two pruned sides): the ratios and resources of
    ``(x, y) = (ln nu, ln multiplier)``, the residuals ``(ln T/T0, ln E/E0)`` (2, n) and their
    Jacobian ``[[T_x, T_y], [E_x, E_y]]`` (2, 2, n) (model.md section 5.3)."""
    res = _resources(m, x)
    f, dlnf = res.f, res.dlnf
    price = np.where(m.counted, m.k * f * f, 0.0) + res.nu / f
    rho, dr = _ratio(m, np.exp(y + np.log(price * m.a / m.c)))
    dr_x = dr * (np.where(m.counted, 2 * m.k * f * f * dlnf, 0.0) + res.nu / f * (1 - dlnf)) / price
    t_tx, e_tx = _tx(m, res.u)
    work = m.a * (1 - rho) + m.g
    live = m.runs & m.counted
    latency = t_tx + np.where(m.runs, work / f, 0.0).sum(axis=0)
    energy = e_tx + np.where(live, m.k * work * f * f, 0.0).sum(axis=0)
    dt_tx = np.where(m.S > 0, -t_tx / res.u * res.du, 0.0)
    de_tx = np.where(m.S > 0, m.C * np.exp(res.u) * t_tx * res.du + m.C * np.expm1(res.u) * dt_tx, 0.0)
    t_x = dt_tx + np.where(m.runs, -work / f * dlnf - m.a * dr_x / f, 0.0).sum(axis=0)
    t_y = np.where(m.runs, -m.a * dr / f, 0.0).sum(axis=0)
    e_x = de_tx + np.where(live, m.k * f * f * (2 * work * dlnf - m.a * dr_x), 0.0).sum(axis=0)
    e_y = np.where(live, -m.k * f * f * m.a * dr, 0.0).sum(axis=0)
    residual = np.stack([np.log(latency / m.T0), np.log(energy / m.E0)])
    jacobian = np.array([[t_x / latency, t_y / latency], [e_x / energy, e_y / energy]])
    return rho, res, residual, jacobian


def _fields(res: _Resources) -> tuple[Array, ...]:
    return res.nu, res.f, res.u, res.dlnf, res.du


def _newton_step(jacobian: Array, residual: Array) -> Array:
    """``-J^-1 r`` per entry (2, n); NaN where ``J`` is singular."""
    (a, b), (c, d) = jacobian
    det = a * d - b * c
    det = np.where(det != 0, det, np.nan)
    return np.stack([(b * residual[1] - d * residual[0]) / det, (c * residual[0] - a * residual[1]) / det])


def _joint_newton(m: _Batch, excess: Array) -> tuple[Array, _Resources, Array]:
    """``fast._joint_newton`` over arrays: ``(ratios, resources, converged)`` where both budgets bind.

    Every entry takes damped Newton steps (the natural monotonicity test of
    ``fast._joint_newton``, one halving per round for the entries that fail it);
    converged entries keep their point. Once half of the entries are done, the
    working set shrinks to those still iterating. Entries not converged within
    twice ``fast.JOINT_NEWTON_EVALUATIONS`` rounds (a halving costs a round), and
    the last :data:`_STRAGGLERS` after eight, are flagged for the scalar solver.
    """
    x = np.where(m.nu_sat > 0, np.log(np.where(m.nu_sat > 0, m.nu_sat, 1.0)), 0.0)
    x = x - 1.5 * np.log1p(np.maximum(excess, 0.0))
    res0 = _resources(m, x)
    load = m.a / res0.f
    target = m.T0 - _tx(m, res0.u)[0] - (m.g / res0.f).sum(axis=0)
    common = np.clip(1.0 - target / load.sum(axis=0), 1e-6, 0.999999 * m.rho_max)
    price = np.where(m.counted, m.k * res0.f**2, 0.0) + res0.nu / res0.f
    mean_log_sigma = (load * np.log(price * m.a / m.c)).sum(axis=0) / load.sum(axis=0)
    y = np.log(np.maximum(_slope_array(m, np.stack([common, common]))[0], 1e-300)) - mean_log_sigma
    rho, res, residual, jacobian = _joint_state(m, x, y)
    n = x.size
    # Every entry's answer, written when it leaves the working set (its indices `live` into the batch).
    out_rho, out_res, converged = rho.copy(), _Resources(*(v.copy() for v in _fields(res))), np.zeros(n, dtype=bool)
    live = np.arange(n)
    done, failed, inside = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    step, size, lam, halvings = np.zeros((2, n)), np.zeros(n), np.ones(n), np.zeros(n, dtype=int)

    def plan(mask: Array) -> None:
        """The next step of the entries ``mask`` from their accepted point (or mark them done/failed)."""
        nonlocal step, size, lam, halvings
        newton = _newton_step(jacobian, residual)
        failed[mask & ~np.isfinite(newton).all(axis=0)] = True
        small = mask & (np.abs(newton[0]) <= 1e-13 * np.maximum(1.0, np.abs(x)))
        small &= np.abs(newton[1]) <= 1e-13 * np.maximum(1.0, np.abs(y))
        finished = small & (residual <= 0).all(axis=0)
        done[finished] = True
        # converged just outside the budgets: one step aimed just inside, kept if it lands inside
        inside[:] = np.where(mask, small & ~finished, inside)
        step = np.where(mask, np.where(inside, _newton_step(jacobian, residual + _INSIDE), newton), step)
        size = np.where(mask, (newton * newton).sum(axis=0), size)
        limit = np.minimum(
            _MAX_STEP_X / np.maximum(np.abs(newton[0]), 1e-300), _MAX_STEP_Y / np.maximum(np.abs(newton[1]), 1e-300)
        )
        lam = np.where(mask, np.where(inside, 1.0, np.minimum(1.0, limit)), lam)
        halvings = np.where(mask, 0, halvings)

    def settle(keep: Array) -> None:
        """Write the answers of the entries not in ``keep`` and shrink the working set to ``keep``."""
        nonlocal m, x, y, rho, res, residual, jacobian, live, done, failed, inside, step, size, lam, halvings
        leave = ~keep
        out_rho[:, live[leave]] = rho[:, leave]
        for out, value in zip(_fields(out_res), _fields(res), strict=True):
            out[..., live[leave]] = value[..., leave]
        converged[live[leave]] = done[leave] & ~failed[leave]
        m, live = m.take(np.flatnonzero(keep)), live[keep]
        x, y, rho, residual, jacobian = x[keep], y[keep], rho[:, keep], residual[:, keep], jacobian[..., keep]
        res = _Resources(*(value[..., keep] for value in _fields(res)))
        done, failed, inside, step = done[keep], failed[keep], inside[keep], step[:, keep]
        size, lam, halvings = size[keep], lam[keep], halvings[keep]

    plan(np.ones(n, dtype=bool))
    # One trial point per entry and round: accepted entries take their next step in the next round while
    # the others halve theirs, so that no entry waits for another's line search.
    for evaluation in range(2 * JOINT_NEWTON_EVALUATIONS):  # a halving costs a round (one trial per round)
        active = ~done & ~failed
        n_active = int(active.sum())
        if evaluation >= 8 and n_active <= _STRAGGLERS:
            failed |= active  # a vectorised round costs about as much as solving this few by the scalar solve
            break
        if n_active == 0:
            break
        if n_active <= active.size // 2:  # each round then touches only the entries still iterating
            settle(active)
            active = active[active]
        t_rho, t_res, t_residual, t_jacobian = _joint_state(m, x + lam * step[0], y + lam * step[1])
        correction = _newton_step(jacobian, t_residual)
        regular = t_jacobian[0, 0] * t_jacobian[1, 1] != t_jacobian[0, 1] * t_jacobian[1, 0]
        monotone = ((correction * correction).sum(axis=0) < (1 - 0.5 * lam) ** 2 * size) & regular
        accept = active & np.where(inside, (t_residual <= 0).all(axis=0), monotone)
        x, y = np.where(accept, x + lam * step[0], x), np.where(accept, y + lam * step[1], y)
        rho, residual = np.where(accept, t_rho, rho), np.where(accept, t_residual, residual)
        jacobian = np.where(accept, t_jacobian, jacobian)
        res = _Resources(*(np.where(accept, new, old) for new, old in zip(_fields(t_res), _fields(res), strict=True)))
        done |= active & inside  # the aim inside is the last step, kept or not
        rejected = active & ~inside & ~accept
        halvings = halvings + rejected
        lam = np.where(rejected, 0.5 * lam, lam)
        failed |= rejected & (halvings >= _HALVINGS)
        plan(accept & ~inside)
    settle(np.zeros(live.size, dtype=bool))
    return out_rho, out_res, converged


#: Both-binding instances without two pruned sides, below which the scalar ``solve`` takes them: the nested
#: roots over arrays cost ~4 ms however few they are, ``solve`` ~0.1 ms per instance.
NESTED_OVER_ARRAYS = 40

#: Batches smaller than this are solved by the scalar ``solve``, instance by instance: the vectorised loops'
#: fixed cost (a few thousand NumPy calls) exceeds ``solve``'s ~40 us per instance (benchmarks/bench_solver.py).
SCALAR_BELOW = 400

#: Entries of the vectorised joint Newton still iterating after eight rounds, at or below which they are left
#: to the scalar ``solve`` (a round over arrays costs about as much as a scalar solve of ~this many).
_STRAGGLERS = 16
