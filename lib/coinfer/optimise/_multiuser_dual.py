"""The certificate of :func:`coinfer.optimise.solve_multiuser`: a lower bound by weak duality (model.md 13.5).

For prices ``lambda, pi >= 0`` (weight units per Hz of band and of server cycles),

    q(lambda, pi) = sum_k min_x [w_k V_k(x) + lambda B + pi F] - lambda B_avail - pi F_avail

is at most the optimum of the multi-user problem, whatever its convexity (weak duality), provided every inner
minimum is bounded from below correctly. ``V_k`` is the minimum over the user's candidate splits, so the inner
minimum is the least over candidates; and the shares are relaxed to ``0 < B <= B_cap`` and ``F > 0`` (dropping
``F <= F_cap`` only lowers the minimum).

One candidate's priced minimum ``Phi = min_{B, F} w V(B, F) + lambda B + pi F`` is not a convex problem: the
server time ``t_s = W_s(rho_s) / F`` is bilinear in the work and the share. For a fixed server time ``tau`` it is
convex, and it separates (model.md 13.2, energy scope ``device``: the server's energy is not in the budget):

    Phi = min_tau A(tau) + Q(T0 - tau),
    A(tau) = min_rho  w c_s D(rho) + pi W_s(rho) / tau          (the server side, closed form)
    Q(sigma) = min_B  w R(B, sigma) + lambda B                  (device and uplink within sigma)

with ``R(B, sigma)`` the device-and-uplink problem (the candidate with its server part removed, latency budget
``sigma``), solved by the compiled single-user solver. ``A`` is a minimum of functions affine in ``1/tau``, so
it is concave in ``1/tau`` and nonincreasing in ``tau``; ``R`` is jointly convex in ``(B, sigma)``, so ``Q`` is
convex and nonincreasing in ``sigma``. On a cell ``[tau_i, tau_i+1]`` therefore

- ``A >= `` the chord through its values at the ends, in ``1/tau`` (a concave function lies above its chords);
- ``Q(T0 - tau) >= Q(T0 - tau_i)`` (monotone), and ``>=`` the secant of the neighbouring cells extended into
  this one (a convex function lies above its secants outside their interval),

and the least of their sum over the cell is a valid lower bound there; the cells and the two end regions
cover every ``tau``. Each value entering a bound is itself bounded from below: ``A`` by the tangent of the
convex function of ``rho`` at the computed minimiser, ``Q`` by the secants of the convex function of ``B``
around the computed minimiser. The cells where the bound falls short of the best value found are split until
the gap closes (or a round limit is reached): the result is a valid bound whatever the limit, only less tight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coinfer.model import arithmetic
from coinfer.model.arithmetic import LN2
from coinfer.optimise import kernel
from coinfer.optimise.batch import solve_kernel_rows

Array = np.ndarray

#: Kernel row column of the latency budget and of the bandwidth.
_T0_COLUMN = arithmetic.R_T0
_BAND_COLUMN = arithmetic.R_BANDWIDTH
#: Points of the relative stencil of the B-minimisation, and its Newton iterations.
_B_STEP = 1e-5
#: Relative spacing of the final stencil of a band on its feasibility wall.
_WALL_STEP = 1e-9
_B_NEWTON = 6
#: Grid of tau / T0 every candidate starts with (log-spaced: the server time of a crowded server is short).
_START_GRID = np.concatenate([np.geomspace(1e-5, 0.5, 10), 1 - np.geomspace(0.45, 1e-4, 6)])
#: The grid of a candidate without a hint (not its user's current split).
_COARSE_GRID = np.array([1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.8, 0.95])
#: Points added around the current server time of a user's chosen candidate.
_AROUND = np.array([0.8, 0.95, 0.99, 0.999, 1.0, 1.001, 1.01, 1.05, 1.25])
#: Rounds of cell splitting, cells split per candidate and round, and points per candidate at most.
_ROUNDS = 16
_SPLITS = 3
_MAX_POINTS = 160
#: Relative accuracy of the single-user solver's values (the kernel's KKT tolerance, with room).
_SOLVER_RTOL = 1e-12


@dataclass
class CandidateBound:
    """Per candidate: ``lower`` bounds its priced minimum; ``upper`` is a priced value reached at ``(band,
    server)`` (within the user's caps, ``inf`` if none was found there)."""

    lower: Array
    upper: Array
    band: Array
    server: Array


def unit_distortion(rho: Array, magnitude: Array, q: Array) -> Array:
    """``D_model(rho; b) / b`` element by element (:func:`coinfer.model.system.unit_distortion` over arrays)."""
    rho = np.asarray(rho, dtype=float)
    out = np.empty(rho.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        rd = ~magnitude
        if rd.any():
            r = rho[rd]
            ent = -np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0) - np.where(
                r < 1, (1 - r) * np.log1p(-np.where(r < 1, r, 0.0)), 0.0
            )
            out[rd] = np.exp(-np.minimum(ent + LN2 * q[rd] * (1 - r), LN2 * q[rd]))
        if magnitude.any():
            r = rho[magnitude]
            series = r * r * (1 / 2 + r * (1 / 6 + r * (1 / 12 + r * (1 / 20 + r * (1 / 30 + r * (1 / 42 + r / 56))))))
            exact = r + np.where(r < 1, (1 - r) * np.log1p(-np.where(r < 1, r, 0.0)), 0.0)
            out[magnitude] = np.where(r < 1e-3, series, exact)
    return out


def unit_slope(rho: Array, magnitude: Array, q: Array, flat: Array) -> tuple[Array, Array]:
    """``(d/drho, d2/drho2)`` of :func:`unit_distortion` (both 0 on the flat region of ``rd_bound``)."""
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = unit_distortion(rho, magnitude, q)
        z = np.log(rho / (1 - rho)) + q * LN2
        rd_1 = d * z
        rd_2 = d * (z * z + 1 / (rho * (1 - rho)))
        first = np.where(magnitude, -np.log1p(-rho), np.where(rho < flat, 0.0, rd_1))
        second = np.where(magnitude, 1 / (1 - rho), np.where(rho < flat, 0.0, rd_2))
    return first, second


def _row_objective(rows: Array, rho_d: Array, rho_s: Array) -> Array:
    """The objective ``D(rho_d, rho_s)`` of model.md section 5.1 of kernel rows."""
    params_d, params_s = rows[:, arithmetic.R_PARAMS], rows[:, arithmetic.R_PARAMS + 1]
    magnitude = rows[:, arithmetic.R_CHOICES].astype(int) & 1 > 0
    q = rows[:, arithmetic.R_Q]
    d = params_d * rows[:, arithmetic.R_SCALE] * unit_distortion(rho_d, magnitude, q)
    s = params_s * rows[:, arithmetic.R_SCALE + 1] * unit_distortion(rho_s, magnitude, q)
    return (d + s) / (params_d + params_s)


@dataclass
class ServerSide:
    """The closed-form server side of each candidate: ``W_s(rho) = a (1 - rho) + g`` cycles, weight
    ``c = N_s b_s / N`` in the objective, and its distortion model."""

    a: Array
    g: Array
    c: Array
    magnitude: Array
    q: Array
    flat: Array
    rho_max: Array

    @classmethod
    def of(cls, rows: Array, cycles: Array) -> ServerSide:
        """The server sides of kernel ``rows`` with their ``(a_d, g_d, a_s, g_s)`` cycles."""
        params_d, params_s = rows[:, arithmetic.R_PARAMS], rows[:, arithmetic.R_PARAMS + 1]
        c = params_s * rows[:, arithmetic.R_SCALE + 1] / (params_d + params_s)
        magnitude = rows[:, arithmetic.R_CHOICES].astype(int) & 1 > 0
        rho_max = rows[:, arithmetic.R_RHO_MAX]
        flat = np.where(magnitude, 0.0, np.minimum(rows[:, arithmetic.R_FLAT_END], rho_max))
        q = rows[:, arithmetic.R_Q].copy()
        return cls(cycles[:, 2].copy(), cycles[:, 3].copy(), c, magnitude, q, flat, rho_max)

    def subset(self, cid: Array) -> ServerSide:
        """The server sides of candidates ``cid``."""
        return ServerSide(*(getattr(self, name)[cid] for name in ("a", "g", "c", "magnitude", "q", "flat", "rho_max")))

    def priced(self, idx: Array, w: Array, pi: float, tau: Array) -> tuple[Array, Array, Array]:
        """``(lower, upper, rho)`` of ``A(tau) = min_rho w c D(rho) + pi W(rho) / tau`` for candidates ``idx``.

        ``rho`` minimises the convex ``h(rho)``; ``upper = h(rho)`` and ``lower = h(rho)`` plus the least of the
        tangent at ``rho`` over ``[0, rho_max]`` (valid for a convex ``h``).
        """
        a, g, c = self.a[idx], self.g[idx], self.c[idx]
        mag, q, flat, top = self.magnitude[idx], self.q[idx], self.flat[idx], self.rho_max[idx]
        wc = w * c
        target = np.where(wc > 0, pi * a / np.maximum(tau, 1e-300) / np.where(wc > 0, wc, 1.0), np.inf)
        # the slope rises on [flat, rho_max]: safeguarded Newton in the logit x of rho, bracket [lo, hi]
        lo = np.log(np.maximum(flat, 1e-300) / (1 - np.minimum(flat, 1 - 1e-16)))
        hi = np.log(np.maximum(top, 1e-300) / (1 - np.minimum(top, 1 - 1e-16)))
        lo = np.minimum(lo, hi)
        slope_top, _ = unit_slope(top, mag, q, flat)
        at_top = slope_top <= target
        x = np.clip(np.where(np.isfinite(lo), 0.5 * (lo + hi), hi), lo, hi)
        for _ in range(60):
            rho_x = 1 / (1 + np.exp(-x))
            d1, d2 = unit_slope(rho_x, mag, q, flat)
            resid = d1 - target
            lo = np.where(resid < 0, x, lo)
            hi = np.where(resid > 0, x, hi)
            with np.errstate(invalid="ignore", divide="ignore"):
                newton = x - resid / (d2 * rho_x * (1 - rho_x))
            ok = np.isfinite(newton) & (newton > lo) & (newton < hi)
            x_new = np.where(ok, newton, 0.5 * (lo + hi))
            converged = np.abs(x_new - x) <= 1e-13 * np.maximum(1.0, np.abs(x))
            x = x_new
            if converged.all():
                break
        rho = np.clip(1 / (1 + np.exp(-x)), flat, top)
        rho = np.where(at_top, top, rho)
        # the minimiser is the flat point itself where the slope's jump there covers the target (the logit's
        # round trip would land an ulp beside it)
        slope_flat, _ = unit_slope(flat, mag, q, flat)
        rho = np.where(slope_flat >= target, flat, rho)
        rho = np.where(wc > 0, rho, np.where(a > 0, top, flat))  # no weight: prune for free; no work: keep
        rho = np.where((a > 0) | (wc <= 0), rho, flat)
        rho = np.where(top <= flat, top, rho)
        with np.errstate(invalid="ignore"):
            work = a * (1 - rho) + g
            h = wc * unit_distortion(rho, mag, q) + pi * work / tau
            dh = wc * unit_slope(rho, mag, q, flat)[0] - pi * a / tau
            # rd_bound has a kink at its flat point: its left slope there is 0 (both are subgradients)
            dh_left = np.where(rho <= flat, -pi * a / tau, dh)
            lower = h + np.minimum(dh_left * (0.0 - rho), dh * (top - rho))
        # no room to prune (rho_max at the flat point): the ratio is fixed, and so is the value
        fixed = top <= flat
        lower = np.where(fixed, h, lower)
        return lower, h, rho


def device_uplink_rows(rows: Array) -> tuple[Array, Array]:
    """Kernel rows of each candidate without its server part, objective weight kept: ``R(B, sigma)``.

    The server's FLOPs and parameters are set to zero and the device's Laplace scale to ``c_d = N_d b_d / N``,
    so the objective is ``c_d D(rho_d)`` as in the whole problem (the kernel derives everything else from the
    row, so fields added to the single-user model follow). A candidate without device parameters has no device
    term in the objective: ``R`` is 0 where its device and uplink are feasible, else ``inf``. Its row gets one
    device parameter at scale 1 (a problem needs some, and a well-scaled objective keeps the compiled solver in
    its tested range) and ``mute`` marks it, so that its value is read as 0. Returns ``(rows, mute)``.
    """
    du = rows.copy()
    params_d, params_s = rows[:, arithmetic.R_PARAMS], rows[:, arithmetic.R_PARAMS + 1]
    mute = params_d <= 0
    du[:, arithmetic.R_FLOPS + 1] = 0.0
    du[:, arithmetic.R_FIXED + 1] = 0.0
    du[:, arithmetic.R_PARAMS + 1] = 0.0
    du[:, arithmetic.R_PARAMS] = np.where(mute, 1.0, params_d)
    du[:, arithmetic.R_SCALE] = np.where(mute, 1.0, params_d * rows[:, arithmetic.R_SCALE] / (params_d + params_s))
    return du, mute


@dataclass
class Parts:
    """What the bounds need of every candidate of a pool, computed once per problem: its server side, the kernel
    rows of its device-and-uplink problem and of itself, and its latency-floor numbers."""

    server: ServerSide
    du_rows: Array
    du_table: Array
    du_mute: Array
    rows: Array
    table: Array
    keys: Array
    logits: Array
    bits: Array
    snr_hz: Array
    t_dev: Array
    t0: Array

    @classmethod
    def of(cls, rows: Array, table: Array, keys: Array, logits: Array, cycles: Array) -> Parts:
        du_rows, mute = device_uplink_rows(rows)
        rho = rows[:, arithmetic.R_RHO_MAX]
        t_dev = (cycles[:, 0] * (1 - rho) + cycles[:, 1]) / rows[:, arithmetic.R_FMAX]
        return cls(
            ServerSide.of(rows, cycles), du_rows, table, mute, rows, table, keys, logits,
            rows[:, arithmetic.R_S_BITS].copy(),
            rows[:, arithmetic.R_PMAX] * rows[:, arithmetic.R_GAIN] / rows[:, arithmetic.R_NOISE_PSD],
            t_dev, rows[:, arithmetic.R_T0].copy(),
        )  # fmt: skip


class _Uplink:
    """``Q(sigma) = min_B w R(B, sigma) + lambda B`` of candidates, with lower bounds (convex in ``B``)."""

    def __init__(self, parts: Parts, cid: Array, weight: Array, lam: float, cap_b: Array, band_free: Array, *,
                 whole: bool = False):  # fmt: skip
        # the rows of candidates cid (pool indices): as they are, or without their server part
        self.rows = (parts.rows if whole else parts.du_rows)[cid]
        self.table = (parts.table if whole else parts.du_table)[cid]
        self.keys, self.logits = parts.keys, parts.logits
        self.mute = np.zeros(len(cid), dtype=bool) if whole else parts.du_mute[cid]
        self.w = weight
        self.lam = lam
        self.cap = cap_b
        self.free = band_free  # the band share is priced and chosen (else fixed at cap)
        self.bits = parts.bits[cid]
        self.sends = self.bits > 0
        self.snr_hz = parts.snr_hz[cid]
        self.t_dev = parts.t_dev[cid]
        self._fine = np.zeros(len(cid), dtype=bool)  # least found next to the wall: a fine stencil

    def _values(self, idx: Array, band: Array, sigma: Array) -> Array:
        rows = self.rows[idx].copy()
        rows[:, _T0_COLUMN] = sigma
        rows[:, _BAND_COLUMN] = band
        code, out = solve_kernel_rows(rows, self.table[idx], self.keys, self.logits)
        solved = (code == kernel.OPTIMAL) | (code == kernel.TO_POLISH)
        # the kernel leaves the outputs of the rows it did not solve unwritten (np.empty): masked before any
        # arithmetic, else their bytes can overflow or give nan
        objective = np.where(code == kernel.OPTIMAL, out[:, kernel.O_OBJECTIVE], np.inf)
        # TO_POLISH: the optimum sits on the wall and its polish breaks a budget by a few ulps; the kernel leaves
        # the objective out, so it is computed from the decision's ratios (a point a few ulps outside the budget:
        # its value is the optimum's to far below _SOLVER_RTOL)
        polish = code == kernel.TO_POLISH
        if polish.any():
            objective[polish] = _row_objective(rows[polish], out[polish, kernel.O_RHO_D], out[polish, kernel.O_RHO_S])
        value = np.where(self.mute[idx], 0.0, self.w[idx] * np.where(solved, objective, 0.0))
        return np.where(solved, value, np.inf)

    def band_floor(self, idx: Array, sigma: Array) -> Array:
        """A band below which the candidates cannot send their bits within ``sigma`` even at ``P_max`` with the
        device at its latency floor: ``S / r(P_max; B) <= sigma - t_d``, by bisection in ``log B`` (model.md
        section 5.7's floor; a lower bound of the true least band)."""
        bits, snr_hz, t_d = self.bits[idx], self.snr_hz[idx], self.t_dev[idx]
        cap = self.cap[idx]
        room = sigma - t_d
        low = cap * 1e-15
        high = cap.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            for _ in range(60):
                mid = np.sqrt(low * high)
                fits = bits * LN2 / (mid * np.log1p(snr_hz / mid)) <= room
                high = np.where(fits, mid, high)
                low = np.where(fits, low, mid)
        return np.where((bits > 0) & (room > 0), low, np.where(bits > 0, cap, cap * 1e-15))

    def cheap(self, idx: Array, sigma: Array) -> tuple[Array, Array, Array]:
        """``(lower, upper, band)`` of ``Q(sigma)`` from one solve: ``R`` falls in ``B``, so
        ``Q >= w R(B_cap, sigma) + lambda B_floor(sigma)``; ``Q <= w R(B_cap, sigma) + lambda B_cap``."""
        cap = self.cap[idx]
        sigma = np.maximum(sigma, 1e-300)
        value = self._values(idx, cap, sigma)
        free = self.free[idx] & self.sends[idx]
        floor = np.where(free, np.minimum(self.band_floor(idx, sigma), cap), cap)
        charged = np.where(free, 1.0, 0.0) * self.lam
        lower = value + charged * floor
        return lower, value + charged * cap, cap

    def priced(self, idx: Array, sigma: Array, start: Array) -> tuple[Array, Array, Array]:
        """``(lower, upper, band)`` of ``Q(sigma)`` for candidates ``idx`` (``start``: a guess of the band).

        ``g(B) = w R(B, sigma) + lambda B`` is convex in ``B`` and infeasible below some band (the wall). A
        candidate whose band is not priced is evaluated at its cap. Otherwise: infeasible at the cap means
        infeasible everywhere; a slope at the cap that is not positive puts the minimum there; else a
        safeguarded Newton iteration on the slope in ``log B`` keeps a bracket (infeasible or falling at its
        low end, rising at its high end), bisects when Newton leaves it, and stops at the wall when the
        minimum is there. The lower bound comes from five points around the result (:func:`_convex_floor`).
        """
        n = len(idx)
        sigma = np.maximum(sigma, 1e-300)
        free = self.free[idx] & self.sends[idx]
        cap = self.cap[idx]
        lam = self.lam
        hs = _B_STEP
        floor = np.minimum(self.band_floor(idx, sigma), cap)
        band = cap.copy()
        rows = np.flatnonzero(free)
        spacing = np.where(free, 10 * hs, 0.0)
        wall_below = np.full(n, np.nan)
        if len(rows):
            # slope at the cap (one-sided: the cap and one point below it)
            pts = np.stack([cap[rows] * (1 - hs), cap[rows]])
            vals = self._values(np.tile(idx[rows], 2), pts.ravel(), np.tile(sigma[rows], 2)).reshape(2, len(rows))
            g = vals + lam * pts
            with np.errstate(invalid="ignore"):
                d_cap = (g[1] - g[0]) / hs
            inner = rows[np.isfinite(g[1]) & ~(np.isfinite(d_cap) & (d_cap <= 0))]
            if len(inner):
                band[inner], below = self._interior(idx, inner, sigma, start, floor, cap)
                on_wall = np.isfinite(below)
                # on the wall the bound of the interval across it loses slope x spacing: a fine stencil,
                # whose lowest point is the infeasible end of the wall's bracket
                spacing[inner[on_wall]] = _WALL_STEP
                wall_below[inner[on_wall]] = below[on_wall]
                near = self._fine[idx[inner]]
                spacing[inner[near]] = _WALL_STEP
                self._fine[idx[inner]] = False
        # final stencil: 5 points around the band, capped, at the band floor if the band sits on its wall
        offsets = np.array([-2, -1, 0, 1, 2])
        pts = band[None, :] * np.exp(offsets[:, None] * spacing[None, :])
        pts = np.where(free[None, :], np.minimum(pts, cap[None, :]), cap[None, :])
        on_wall = np.isfinite(wall_below)
        if on_wall.any():  # [just below the wall, the band, and three points above it]
            b = band[on_wall]
            pts[:, on_wall] = np.stack([wall_below[on_wall], b, b * (1 + _WALL_STEP), b * (1 + 2 * _WALL_STEP),
                                        b * (1 + 3 * _WALL_STEP)])  # fmt: skip
            pts[:, on_wall] = np.minimum(pts[:, on_wall], cap[on_wall])
        vals = np.full((5, n), np.nan)
        need = np.ones((5, n), dtype=bool)
        need[:, ~free] = False
        need[2] = True
        vals[need] = self._values(np.tile(idx, 5)[need.ravel()], pts[need], np.tile(sigma, 5)[need.ravel()])
        vals[:, ~free] = vals[2, ~free]
        g = vals + lam * np.where(free[None, :], pts, 0.0)
        upper = g.min(axis=0)
        best = np.argmin(g, axis=0)
        chosen = pts[best, np.arange(n)]
        lower = _convex_floor(pts, g, cap, free, floor)
        lower = np.where(free, lower, g[2])
        return lower, upper, chosen

    def _interior(self, idx: Array, rows: Array, sigma: Array, start: Array, floor: Array,
                  cap: Array) -> tuple[Array, Array]:  # fmt: skip
        """The minimising band of the rows whose minimum is below the cap (safeguarded Newton, see priced),
        and for those whose minimum is on the wall a band just below it (infeasible), else ``nan``."""
        lam = self.lam
        hs = _B_STEP
        lo = np.log(np.maximum(floor[rows], cap[rows] * 1e-15))
        hi = np.log(cap[rows])
        x = np.clip(np.log(np.clip(start[rows], floor[rows], cap[rows])), lo, hi)
        active = np.ones(len(rows), dtype=bool)
        wall = np.zeros(len(rows), dtype=bool)
        for _ in range(80):
            a = np.flatnonzero(active)
            if not len(a):
                break
            r = rows[a]
            b = np.exp(x[a])
            pts = np.stack([b * (1 - hs), b, b * (1 + hs)])
            vals = self._values(np.tile(idx[r], 3), pts.ravel(), np.tile(sigma[r], 3)).reshape(3, len(a))
            g = vals + lam * pts
            with np.errstate(invalid="ignore"):
                d1 = np.where(np.isfinite(g[0]), (g[2] - g[0]) / (2 * hs), (g[2] - g[1]) / hs)
                d2 = (g[2] - 2 * g[1] + g[0]) / hs**2
            infeasible = ~np.isfinite(g[1])
            at_wall = np.isfinite(g[1]) & ~np.isfinite(g[0]) & (d1 > 0)  # the minimum is at the wall (within hs)
            lo[a] = np.where(infeasible | (d1 < 0), x[a], lo[a])
            hi[a] = np.where(~infeasible & (d1 > 0), x[a], hi[a])
            with np.errstate(invalid="ignore", divide="ignore"):
                newton = x[a] - d1 / d2
            ok = ~infeasible & (d2 > 0) & np.isfinite(newton) & (newton > lo[a]) & (newton < hi[a])
            x_new = np.where(ok, newton, 0.5 * (lo[a] + hi[a]))
            done = at_wall | (np.abs(x_new - x[a]) < 1e-9) | (hi[a] - lo[a] < 1e-9)
            x[a] = np.where(at_wall, x[a], x_new)
            wall[a] |= at_wall
            lo[a] = np.where(at_wall, np.log(b * (1 - hs)), lo[a])  # infeasible: the minus point
            active[a[done]] = False
        x = np.where(np.isfinite(x), x, hi)
        # on the wall: bisect on feasibility alone (one solve a step) to a relative 1e-12
        w_rows = np.flatnonzero(wall)
        low_w, high_w = lo[w_rows], x[w_rows]
        for _ in range(40):
            if not len(w_rows):
                break
            mid = 0.5 * (low_w + high_w)
            ok = np.isfinite(self._values(idx[rows[w_rows]], np.exp(mid), sigma[rows[w_rows]]))
            high_w = np.where(ok, mid, high_w)
            low_w = np.where(ok, low_w, mid)
            if np.all(high_w - low_w < 1e-12):
                break
        x[w_rows] = high_w
        below = np.full(len(rows), np.nan)
        below[w_rows] = np.exp(low_w)
        # The slope was judged on the scale hs: right at the wall the value can still fall steeply before it
        # rises. Where it falls over the first 1e-9, the least lies within hs of the wall: a golden-section
        # search there (g is convex), and the stencil then sits around that point, not on the wall.
        if len(w_rows):
            r = rows[w_rows]
            b0 = np.exp(high_w)
            vals = self._values(np.tile(idx[r], 2), np.concatenate([b0, b0 * (1 + _WALL_STEP)]),
                                np.tile(sigma[r], 2)).reshape(2, len(r))  # fmt: skip
            g = vals + lam * np.stack([b0, b0 * (1 + _WALL_STEP)])
            falls = np.flatnonzero(np.isfinite(g[1]) & (g[1] < g[0]))
            if len(falls):
                fr = r[falls]
                a_x, b_x = np.log(b0[falls]), np.log(b0[falls] * (1 + 4 * hs))
                golden = 0.3819660112501051
                c_x = a_x + golden * (b_x - a_x)
                d_x = b_x - golden * (b_x - a_x)

                def value(xx: Array) -> Array:
                    return self._values(idx[fr], np.exp(xx), sigma[fr]) + lam * np.exp(xx)

                g_c, g_d = value(c_x), value(d_x)
                for _ in range(40):
                    left = g_c <= g_d
                    b_x = np.where(left, d_x, b_x)
                    a_x = np.where(left, a_x, c_x)
                    new_c = a_x + golden * (b_x - a_x)
                    new_d = b_x - golden * (b_x - a_x)
                    c_x, d_x = np.where(left, new_c, d_x), np.where(left, c_x, new_d)
                    g_new = value(np.where(left, c_x, d_x))
                    g_c, g_d = np.where(left, g_new, g_d), np.where(left, g_c, g_new)
                    if np.all(b_x - a_x < 1e-12):
                        break
                x[w_rows[falls]] = np.where(g_c <= g_d, c_x, d_x)
                below[w_rows[falls]] = np.nan  # an interior least: the ordinary stencil, spaced finely
                self._fine[r[falls] if False else idx[fr]] = True
        return np.exp(x), below


def _convex_floor(x: Array, g: Array, cap: Array, free: Array, floor: Array) -> Array:
    """A lower bound of ``min_{0 < B <= cap} g(B)`` for a convex ``g`` known at the sorted points ``x`` (5 x n).

    Between two known points the function lies above the secants of the neighbouring intervals extended into
    it; left of the first point above the secant of the first interval extended; right of the last point (up to
    ``cap``) above the secant of the last interval extended. Points with ``inf`` (infeasible) make the secants
    through them useless and are skipped; where every point is infeasible the bound is ``inf`` only if the
    rightmost point is the cap (no feasible band at all); otherwise ``-inf`` (no information).
    """
    m, n = x.shape
    lower = np.full(n, np.inf)
    fin = np.isfinite(g)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = (g[1:] - g[:-1]) / (x[1:] - x[:-1])  # (m-1, n)
        slopes = np.where(fin[1:] & fin[:-1] & (x[1:] > x[:-1]), slopes, np.nan)
        # interval [x_i, x_i+1], i = 0..m-2: secants (i-1, i) extended right and (i+1, i+2) extended left
        for i in range(m - 1):
            cands = []
            if i >= 1:
                s = slopes[i - 1]
                # for B in [x_i, x_i+1]: g >= g_i + s (B - x_i); least at x_i if s >= 0 else at x_i+1
                cands.append(np.where(np.isfinite(s), g[i] + np.minimum(0.0, s * (x[i + 1] - x[i])), np.nan))
            if i + 2 <= m - 1:
                s = slopes[i + 1]
                cands.append(np.where(np.isfinite(s), g[i + 1] + np.minimum(0.0, s * (x[i] - x[i + 1])), np.nan))
            cell = np.full(n, -np.inf)
            for c in cands:
                cell = np.where(np.isnan(c), cell, np.maximum(cell, c))
            # an interval with both ends infeasible lies below the wall (convex: infeasible between): skip
            both_inf = ~fin[i] & ~fin[i + 1]
            cell = np.where(both_inf | (x[i + 1] <= x[i]), np.inf, cell)  # below the wall, or no interval
            lower = np.minimum(lower, cell)
        # left of x_0, down to the band floor (infeasible below): the secant (0, 1) extended,
        # g >= g_0 + s (B - x_0), least at x_0 if s <= 0, else at the floor
        s = slopes[0]
        left = np.where(np.isfinite(s), g[0] + np.minimum(0.0, s * (floor - x[0])), np.where(fin[0], -np.inf, np.inf))
        left = np.where(x[0] <= floor, np.inf, left)
        lower = np.minimum(lower, left)
        # right of x_{m-1} up to the cap
        s = slopes[m - 2]
        right = np.where(
            x[m - 1] >= cap * (1 - 1e-15),
            np.inf,
            np.where(np.isfinite(s), g[m - 1] + np.minimum(0.0, s * (cap - x[m - 1])), -np.inf),
        )
        lower = np.minimum(lower, right)
    return np.where(free, lower, g.min(axis=0))


def _cell_bounds(tau, a_lo, q_lo, q_hi) -> Array:
    """Lower bound of ``A(tau) + Q(T0 - tau)`` on each cell ``[tau_i, tau_i+1]`` (rows: candidates; columns:
    points, sorted; padding ``nan``). Returns ``(n, m - 1)``."""
    n, m = tau.shape
    s = 1.0 / tau
    # The values come from the single-user solver, accurate to a relative _SOLVER_RTOL: widen them before they
    # enter a secant that is extended beyond its interval (the error grows with the ratio of the widths).
    with np.errstate(invalid="ignore"):
        q_lo = np.where(np.isfinite(q_lo), q_lo - _SOLVER_RTOL * np.abs(q_lo), q_lo)
        q_hi = np.where(np.isfinite(q_hi), q_hi + _SOLVER_RTOL * np.abs(q_hi), q_hi)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # chord of A in s = 1/tau: A >= alpha + beta s, beta = (A_i+1 - A_i)/(s_i+1 - s_i) >= 0 (s falls)
        beta = (a_lo[:, 1:] - a_lo[:, :-1]) / (s[:, 1:] - s[:, :-1])
        alpha = a_lo[:, 1:] - beta * s[:, 1:]
        beta = np.where(np.isfinite(beta), np.maximum(beta, 0.0), np.nan)
        lo_t, hi_t = tau[:, :-1], tau[:, 1:]
        # q(tau) = Q(T0 - tau) is convex nondecreasing in tau: q >= q_lo(lo_t) on the cell, and the secants
        # of the neighbouring cells extended
        pieces = [(q_lo[:, :-1], np.zeros((n, m - 1)))]  # (intercept at lo_t, slope)
        left_slope = np.full((n, m - 1), np.nan)
        left_slope[:, 1:] = (q_lo[:, 1:-1] - q_hi[:, :-2]) / (tau[:, 1:-1] - tau[:, :-2])
        pieces.append((q_lo[:, :-1], left_slope))  # through (lo_t, q_lo) with that slope, valid right of lo_t
        right_slope = np.full((n, m - 1), np.nan)
        right_slope[:, :-1] = (q_hi[:, 2:] - q_lo[:, 1:-1]) / (tau[:, 2:] - tau[:, 1:-1])
        # through (hi_t, q_lo(hi_t)) with that slope, valid left of hi_t: value at lo_t
        pieces.append((q_lo[:, 1:] + right_slope * (lo_t - hi_t), right_slope))
        best = np.full((n, m - 1), -np.inf)
        for intercept, slope in pieces:
            ok = np.isfinite(intercept) & np.isfinite(slope)
            # min over [lo_t, hi_t] of alpha + beta / t + intercept + slope (t - lo_t)
            b = np.where(np.isfinite(beta), beta, 0.0)
            sl = np.where(ok, slope, 0.0)
            t_star = np.where(sl > 0, np.sqrt(b / np.where(sl > 0, sl, 1.0)), hi_t)
            t_star = np.clip(t_star, lo_t, hi_t)
            val = alpha + b / t_star + intercept + sl * (t_star - lo_t)
            val = np.where(np.isfinite(beta), val, np.nan)
            best = np.where(ok & np.isfinite(val), np.maximum(best, val), best)
        # a cell whose right end is infeasible for A or whose left end is infeasible for Q is infeasible only
        # if Q is infeasible at its left end (Q(T0 - tau) >= Q(T0 - lo_t) = inf)
        best = np.where(np.isinf(q_lo[:, :-1]) & (q_lo[:, :-1] > 0), np.inf, best)
        best = np.where(np.isnan(tau[:, :-1]) | np.isnan(tau[:, 1:]) | (tau[:, 1:] <= tau[:, :-1]), np.inf, best)
    return best


def candidate_bounds(
    parts: Parts,
    cid: Array,
    weight: Array,
    lam: float,
    pi: float,
    cap_b: Array,
    cap_f: Array,
    band_free: Array,
    tau_hint: Array,
    band_hint: Array,
    incumbent: Array,
    *,
    rtol: float,
    offer_rtol: float | None = None,
) -> CandidateBound:
    """Bounds of the priced minimum of candidates whose server share is priced (model.md 13.5).

    ``weight``: each candidate's user weight; ``cap_b`` / ``cap_f`` its user's caps; ``band_free`` whether its
    band is priced (else fixed at ``cap_b``); ``tau_hint`` a server time (s) to refine around (``nan``: none);
    ``band_hint`` a band to start from; ``incumbent`` a priced value its user already reaches (a candidate whose
    bound reaches it needs no refinement: it cannot be the user's least). With ``offer_rtol``, a candidate that
    reaches a value below its incumbent is refined only until its bound is within ``offer_rtol`` of that value
    (enough to offer it to the split rounds).

    Every point ``tau`` first gets the one-solve bound ``Q(sigma) >= w R(B_cap, sigma) + lambda B_floor(sigma)``
    (``R`` falls in ``B``; the band floor of :meth:`_Uplink.band_floor`); the points around the cells whose
    bound falls short then get the precise bound (the minimisation over ``B``), and cells between two precise
    points are split. Every bound used is valid at every stage.
    """
    n = len(cid)
    idx = np.arange(n)
    t0 = parts.t0[cid]
    server = parts.server.subset(cid)
    uplink = _Uplink(parts, cid, weight, lam, cap_b, band_free)
    m0 = len(_START_GRID)
    tau = np.full((n, _MAX_POINTS), np.nan)
    hint = np.isfinite(tau_hint) & (tau_hint > 0)
    # a candidate without a hint starts on a coarse grid: most are settled by its one-solve bounds
    grid = np.where(hint[:, None], _START_GRID[None, :], np.pad(_COARSE_GRID, (0, m0 - len(_COARSE_GRID)),
                                                                 constant_values=np.nan)[None, :])  # fmt: skip
    tau[:, :m0] = t0[:, None] * grid
    extra = np.where(hint[:, None], tau_hint[:, None] * _AROUND[None, :], np.nan)
    tau[:, m0 : m0 + len(_AROUND)] = np.where(extra < t0[:, None] * (1 - 1e-6), extra, np.nan)
    arrays = {name: np.full((n, _MAX_POINTS), np.nan) for name in ("a_lo", "a_hi", "rho", "q_lo", "q_hi", "band")}
    precise = np.zeros((n, _MAX_POINTS), dtype=bool)
    start = np.where(np.isfinite(band_hint), band_hint, cap_b)

    def evaluate(rr: Array, cc: Array, exact: bool) -> None:
        if not len(rr):
            return
        sigma = t0[rr] - tau[rr, cc]
        if exact:
            # warm start: the band of the nearest precise point of the same candidate, else the hint
            near = _nearest_band(tau, arrays["band"], precise, rr, cc)
            lo_q, hi_q, band = uplink.priced(rr, sigma, np.where(np.isfinite(near), near, start[rr]))
            precise[rr, cc] = True
        else:
            lo_q, hi_q, band = uplink.cheap(rr, sigma)
        arrays["q_lo"][rr, cc], arrays["q_hi"][rr, cc], arrays["band"][rr, cc] = lo_q, hi_q, band

    rr, cc = np.nonzero(np.isfinite(tau))
    lo_a, hi_a, rho = server.priced(rr, weight[rr], pi, tau[rr, cc])
    arrays["a_lo"][rr, cc], arrays["a_hi"][rr, cc], arrays["rho"][rr, cc] = lo_a, hi_a, rho
    evaluate(rr, cc, exact=False)
    # Q at sigma = T0 (tau -> 0) bounds the left end region: Q(sigma) >= Q(T0) for every sigma <= T0 (the
    # one-solve bound first; the precise one where the left region turns out to be what falls short)
    q_t0_lo, _, _ = uplink.cheap(idx, t0)
    q_t0_precise = np.zeros(n, dtype=bool)
    a_t0_lo, _, _ = server.priced(idx, weight, pi, t0)
    lower = np.full(n, -np.inf)
    act = idx.copy()  # candidates still short of their target
    for round_ in range(_ROUNDS + 1):
        # sort the points of the active candidates and bound their cells
        sub_tau = tau[act]
        order = np.argsort(np.where(np.isnan(sub_tau), np.inf, sub_tau), axis=1)
        tau[act] = np.take_along_axis(sub_tau, order, axis=1)
        precise[act] = np.take_along_axis(precise[act], order, axis=1)
        for arr in arrays.values():
            arr[act] = np.take_along_axis(arr[act], order, axis=1)
        slot = np.isfinite(tau[act]).sum(axis=1)
        count = int(slot.max())
        t_a = tau[act, :count]
        cells = _cell_bounds(t_a, arrays["a_lo"][act, :count], arrays["q_lo"][act, :count],
                             arrays["q_hi"][act, :count])  # fmt: skip
        last_i = slot - 1
        local = np.arange(len(act))
        # end regions: tau in (0, first]: A(tau) >= A(first), Q >= Q(T0); tau in [last, T0): A >= A(T0) (A is
        # nonincreasing in tau), Q(T0 - tau) >= Q(T0 - last)
        left_region = arrays["a_lo"][act, 0] + q_t0_lo[act]
        right_region = a_t0_lo[act] + arrays["q_lo"][act, last_i]
        lower[act] = np.minimum(np.min(np.where(np.isnan(cells), np.inf, cells), axis=1, initial=np.inf),
                                np.minimum(left_region, right_region))  # fmt: skip
        reached = arrays["a_hi"][act, :count] + arrays["q_hi"][act, :count]
        best_value = np.min(np.where(np.isfinite(reached), reached, np.inf), axis=1, initial=np.inf)
        target = np.minimum(best_value, incumbent[act])
        margin = target - rtol * np.abs(target)
        short = lower[act] < margin
        if offer_rtol is not None:  # an offer found: bound it to offer_rtol only
            offer = best_value < incumbent[act] - rtol * np.abs(incumbent[act])
            short &= ~(offer & (lower[act] >= best_value - offer_rtol * np.abs(best_value)))
        if round_ == _ROUNDS or not short.any():
            break
        # the worst cells of the candidates still short: make their ends (and the neighbours whose secants
        # enter their bound) precise; split the cells already bounded by precise points
        need_r: list[Array] = []
        need_c: list[Array] = []
        split_l: list[Array] = []
        split_c: list[Array] = []
        worst = np.argsort(np.where(np.isfinite(cells), cells, np.inf), axis=1)[:, :_SPLITS]
        prec_a = precise[act, :count]
        for j in range(worst.shape[1]):
            i = worst[:, j]
            weak = short & (cells[local, i] < margin)
            ends = np.stack([i - 1, i, i + 1, i + 2])
            valid = (ends >= 0) & (ends < slot[None, :])
            ends_c = np.clip(ends, 0, count - 1)
            ends_precise = prec_a[local[None, :], ends_c] | ~valid
            to_make = weak[None, :] & ~ends_precise
            need_r.append(np.broadcast_to(local[None, :], ends.shape)[to_make])
            need_c.append(ends_c[to_make])
            ready = weak & ends_precise.all(axis=0) & (i + 1 < slot)
            split_l.append(local[ready])
            split_c.append(i[ready])
        need = np.zeros((len(act), _MAX_POINTS), dtype=bool)
        if need_r:
            need[np.concatenate(need_r), np.concatenate(need_c)] = True
        # the regions outside the grid: the precise bound of Q(T0) first, then a point further left
        weak_left = short & (left_region < margin)
        refine = act[weak_left & ~q_t0_precise[act]]
        if len(refine):
            q_t0_lo[refine], _, _ = uplink.priced(refine, t0[refine], start[refine])
            q_t0_precise[refine] = True
            left_region = arrays["a_lo"][act, 0] + q_t0_lo[act]
        for region, new_tau in (
            (left_region, t_a[:, 0] * 0.1),
            (right_region, t_a[local, last_i] + 0.5 * (t0[act] - t_a[local, last_i])),
        ):
            grow = np.flatnonzero(short & (region < margin) & (slot < _MAX_POINTS))
            rows_g = act[grow]
            tau[rows_g, slot[grow]] = new_tau[grow]
            la, ha, rh = server.priced(rows_g, weight[rows_g], pi, new_tau[grow])
            at = (rows_g, slot[grow])
            arrays["a_lo"][at], arrays["a_hi"][at], arrays["rho"][at] = la, ha, rh
            need[grow, slot[grow]] = True
            slot[grow] += 1
        sl = np.concatenate(split_l) if split_l else np.zeros(0, dtype=np.int64)
        sc = np.concatenate(split_c) if split_c else np.zeros(0, dtype=np.int64)
        if len(sl):
            key = np.unique(sl * _MAX_POINTS + sc)
            sl, sc = key // _MAX_POINTS, key % _MAX_POINTS
            # one new point per (candidate, cell); a candidate with several split cells takes consecutive slots
            offs = np.zeros(len(sl), dtype=np.int64)
            for r in np.unique(sl):
                k = np.flatnonzero(sl == r)
                offs[k] = np.arange(len(k))
            new_c = slot[sl] + offs
            keep = new_c < _MAX_POINTS
            sl, sc, new_c = sl[keep], sc[keep], new_c[keep]
            rows_s = act[sl]
            new_tau = 0.5 * (tau[rows_s, sc] + tau[rows_s, sc + 1])
            tau[rows_s, new_c] = new_tau
            la, ha, rh = server.priced(rows_s, weight[rows_s], pi, new_tau)
            arrays["a_lo"][rows_s, new_c], arrays["a_hi"][rows_s, new_c], arrays["rho"][rows_s, new_c] = la, ha, rh
            need[sl, new_c] = True
        nl, nc = np.nonzero(need)
        nr = act[nl]
        ok = np.isfinite(tau[nr, nc])
        if not ok.any():
            break
        evaluate(nr[ok], nc[ok], exact=True)
        act = act[short]
    # the best reached point within the caps: server share W / tau <= cap_f
    reached = arrays["a_hi"] + arrays["q_hi"]
    work = server.a[:, None] * (1 - arrays["rho"]) + server.g[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = work / tau
    reached = np.where(np.isfinite(reached) & (share <= cap_f[:, None]), reached, np.inf)
    j = np.argmin(reached, axis=1)
    upper = reached[idx, j]
    return CandidateBound(lower, upper, arrays["band"][idx, j], share[idx, j])


def _nearest_band(tau: Array, band: Array, precise: Array, rr: Array, cc: Array) -> Array:
    """For each requested point, the band of the nearest precise point of the same row (``nan``: none)."""
    out = np.full(len(rr), np.nan)
    dist = np.where(precise[rr], np.abs(tau[rr] - tau[rr, cc][:, None]), np.inf)
    j = np.argmin(dist, axis=1)
    has = np.isfinite(dist[np.arange(len(rr)), j])
    out[has] = band[rr[has], j[has]]
    return out


def band_bounds(
    parts: Parts, cid: Array, weight: Array, lam: float, cap_b: Array, band_hint: Array, cap_f: Array
) -> CandidateBound:
    """Bounds of ``min_B w V(B) + lambda B`` for candidates whose server share is not priced (no server work, or
    a fixed server share): ``V`` is convex in ``B`` (model.md 13.2), so the secant bound of the band applies to
    the whole candidate at its latency budget."""
    n = len(cid)
    uplink = _Uplink(parts, cid, weight, lam, cap_b, np.ones(n, dtype=bool), whole=True)
    start = np.where(np.isfinite(band_hint), band_hint, cap_b)
    lower, upper, band = uplink.priced(np.arange(n), parts.t0[cid], start)
    return CandidateBound(lower, upper, band, cap_f)
