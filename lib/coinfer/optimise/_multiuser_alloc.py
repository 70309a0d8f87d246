"""Shares of band and server cycles for given splits (model.md section 13.4).

For fixed candidate splits the problem is ``min sum_k w_k V_k(B_k, F_k)`` subject to ``sum_k B_k <= B`` and
``sum_k F_k <= F``, ``V_k`` the single-user optimum at the user's shares (a compiled solve,
:class:`~coinfer.optimise._multiuser_pool.Pool`). Its KKT conditions equalise the marginal values:
``w_k dV_k/dB_k = -lambda`` and ``w_k dV_k/dF_k = -pi`` for every user with a positive share.

- :func:`feasible_start`: shares at which every user is feasible, or proof that none exist. Each user's
  feasible shares form a convex, upward-closed set (model.md section 13.2), so a convex combination of feasible
  points of one user is feasible: the start is found by a small linear programme over feasible points along a
  few directions per user.
- :func:`allocate`: Newton's method on the KKT conditions. Each iteration evaluates every user on a six-point
  stencil (its shares, a relative step up and down in each, one up in both): central differences give its
  gradient and 2x2 Hessian. A Hessian that is not positive definite (``V_k`` need not be convex in ``F_k``,
  model.md section 13.2) has its eigenvalues raised, so the step is a descent direction; the prices come from
  the two sums (the Schur complement of the block-diagonal KKT matrix, a 2x2 system) and every user moves by
  ``-M_k^-1 (g_k + (lambda, pi))``. A backtracking line search keeps every share positive and every user
  feasible and asks for an Armijo decrease. A user whose step is blocked by its feasibility wall (where its
  latency or energy floor meets its budget) is held there and leaves the Newton system.
- :func:`priced_demand`: for prices ``(lambda, pi)``, a local minimum of ``w V(B, F) + lambda B + pi F`` of
  each candidate split (what a user would buy at these prices), by the same stencil and a damped Newton step.

All of them find local minima; the certificate (:mod:`~coinfer.optimise._multiuser_dual`) bounds the distance
to the global one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from coinfer.optimise._multiuser_pool import Pool

Array = np.ndarray

#: Relative finite-difference step of the shares. Central differences err by ~h^2 in the gradient and
#: ~eps/h^2 ~ 1e-8 (relative) in the Hessian: far below what the objective's agreement needs.
_STEP = 1e-4
#: Smallest eigenvalue kept in a user's modified Hessian, relative to its largest.
_EIG_FLOOR = 1e-6
#: Armijo constant of the line search.
_ARMIJO = 1e-4
#: Bisection steps of a multiplier along a direction (relative precision 2^-60 of a 1e30 range).
_BISECTIONS = 80


@dataclass
class Allocation:
    """Shares (Hz), values (weight units, unweighted) and prices (weight units per Hz) of one allocation."""

    band: Array
    server: Array
    values: Array
    band_price: float
    server_price: float
    iterations: int
    converged: bool
    walled: Array
    #: ``S = sum_k M_k^-1`` (2x2) at the last iteration: how the users' demand moves with the prices; its
    #: inverse is the curvature of the best total value of everyone as a function of the resources it holds.
    spread: Array


def _stencil(pool: Pool, cand: Array, band: Array, server: Array, move_b: Array, move_f: Array):
    """Values, gradients and Hessians (unweighted) of every candidate at its shares, by finite differences.

    Returns ``(v0, g, h, ok)``: ``g`` is ``(n, 2)`` (d/dB, d/dF), ``h`` ``(n, 2, 2)``, ``ok`` whether every
    stencil point was feasible (one near its wall has an infeasible point below its share). Points whose
    step would be zero (a share not moved) are not solved twice.
    """
    n = len(cand)
    hb = np.where(move_b, _STEP * band, 0.0)
    hf = np.where(move_f, _STEP * server, 0.0)
    # points: 0, b+, b-, f+, f-, b+f+
    bands = np.concatenate([band, band + hb, band - hb, band, band, band + hb])
    servers = np.concatenate([server, server, server, server + hf, server - hf, server + hf])
    needed = np.concatenate([np.ones(n, bool), move_b, move_b, move_f, move_f, move_b & move_f])
    values = np.full(6 * n, np.nan)
    values[needed] = pool.values(np.tile(cand, 6)[needed], bands[needed], servers[needed])
    values = values.reshape(6, n)
    v0, vbp, vbm, vfp, vfm, vpp = values
    ok = np.where(np.isnan(values), True, np.isfinite(values)).all(axis=0)
    g = np.zeros((n, 2))
    h = np.zeros((n, 2, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        g[:, 0] = np.where(move_b, (vbp - vbm) / (2 * hb), 0.0)
        g[:, 1] = np.where(move_f, (vfp - vfm) / (2 * hf), 0.0)
        h[:, 0, 0] = np.where(move_b, (vbp - 2 * v0 + vbm) / (hb * hb), 0.0)
        h[:, 1, 1] = np.where(move_f, (vfp - 2 * v0 + vfm) / (hf * hf), 0.0)
        h[:, 0, 1] = h[:, 1, 0] = np.where(move_b & move_f, (vpp - vbp - vfp + v0) / (hb * hf), 0.0)
    bad = ~ok | ~np.isfinite(g).all(axis=1) | ~np.isfinite(h).all(axis=(1, 2))
    g[bad] = 0.0
    h[bad] = 0.0
    return v0, g, h, ok & ~bad


def _modified_inverse(h: Array, move_b: Array, move_f: Array) -> Array:
    """Per candidate, the inverse of its Hessian with eigenvalues made positive and raised to at least
    ``_EIG_FLOOR`` of the largest curvature of any candidate in that share, on the shares it moves (zero rows
    and columns elsewhere). The floor keeps the step of a satiated user (zero curvature: its share buys nothing)
    finite; the line search then limits it."""
    n = h.shape[0]
    inv = np.zeros((n, 2, 2))
    floor_b = _EIG_FLOOR * max(float(np.abs(h[move_b, 0, 0]).max(initial=0.0)), 1e-300)
    floor_f = _EIG_FLOOR * max(float(np.abs(h[move_f, 1, 1]).max(initial=0.0)), 1e-300)
    both = move_b & move_f
    if both.any():
        # eigenvalues in shares scaled by the floors, so that the two floors act alike
        scale = np.array([1 / np.sqrt(floor_b), 1 / np.sqrt(floor_f)])
        hs = h[both] * np.outer(scale, scale)
        w, vec = np.linalg.eigh(hs)
        top = np.abs(w).max(axis=1, keepdims=True)
        w = np.maximum(np.abs(w), np.maximum(_EIG_FLOOR * top, 1.0))
        inv[both] = np.einsum("nij,nj,nkj->nik", vec, 1.0 / w, vec) * np.outer(scale, scale)
    only_b = move_b & ~move_f
    inv[only_b, 0, 0] = 1.0 / np.maximum(np.abs(h[only_b, 0, 0]), floor_b)
    only_f = move_f & ~move_b
    inv[only_f, 1, 1] = 1.0 / np.maximum(np.abs(h[only_f, 1, 1]), floor_f)
    return inv


def allocate(
    pool: Pool,
    cand: Array,
    band: Array,
    server: Array,
    move_b: Array,
    move_f: Array,
    *,
    max_iterations: int = 60,
    rtol: float = 1e-13,
) -> Allocation:
    """Newton's method on the KKT conditions of the shares, from the feasible start ``(band, server)``.

    ``move_b`` / ``move_f`` mark the users whose band / server share is optimised; the others keep theirs.
    The optimised shares keep their sums (the start's). Every user must be feasible at the start.
    """
    band = np.asarray(band, dtype=float).copy()
    server = np.asarray(server, dtype=float).copy()
    w = pool.weight[cand]
    walled = np.zeros(len(cand), dtype=bool)
    lam = pi = 0.0
    converged = False
    spread = np.zeros((2, 2))
    v0 = pool.values(cand, band, server)
    if not np.isfinite(v0).all():
        raise ValueError("allocate needs a feasible start")
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        mb, mf = move_b & ~walled, move_f & ~walled
        v0, grad, hess, ok = _stencil(pool, cand, band, server, mb, mf)
        # A user with an infeasible point a relative 1e-4 below its share sits on its wall: hold it there.
        newly = ~ok & (mb | mf)
        if newly.any():
            walled |= newly
            mb, mf = move_b & ~walled, move_f & ~walled
            grad[newly] = 0.0
        g = w[:, None] * grad
        inv = _modified_inverse(w[:, None, None] * hess, mb, mf)
        active = np.array([mb.any(), mf.any()])
        if not active.any():
            converged = True
            break
        s = inv.sum(axis=0)
        spread = s
        r = np.einsum("nij,nj->i", inv, g)
        y = np.zeros(2)
        if active.all():
            y = -np.linalg.solve(s, r)
        elif active[0]:
            y[0] = -r[0] / s[0, 0]
        else:
            y[1] = -r[1] / s[1, 1]
        delta = -np.einsum("nij,nj->ni", inv, g + y)
        delta[~mb, 0] = 0.0
        delta[~mf, 1] = 0.0
        lam, pi = float(y[0]), float(y[1])
        slope = float(np.sum(g * delta))  # directional derivative (the prices' terms cancel: sum delta = 0)
        f0 = float(np.sum(w * v0))
        small = np.all(np.abs(delta[:, 0]) <= rtol * np.maximum(band, 1e-300)) and np.all(
            np.abs(delta[:, 1]) <= rtol * np.maximum(server, 1e-300)
        )
        if small or slope >= -rtol * abs(f0):
            converged = True
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink_b = np.where(delta[:, 0] < 0, -0.9 * band / delta[:, 0], np.inf)
            shrink_f = np.where(delta[:, 1] < 0, -0.9 * server / delta[:, 1], np.inf)
        alpha = float(min(1.0, shrink_b.min(initial=np.inf), shrink_f.min(initial=np.inf)))
        accepted = False
        blocked = np.zeros(len(cand), dtype=bool)
        for _ in range(40):
            nb = band + alpha * delta[:, 0]
            ns = server + alpha * delta[:, 1]
            v1 = pool.values(cand, nb, ns)
            finite = np.isfinite(v1)
            if finite.all():
                f1 = float(np.sum(w * v1))
                if f1 <= f0 + _ARMIJO * alpha * slope:
                    accepted = True
                    break
            else:
                blocked |= ~finite
            alpha *= 0.5
        if not accepted:
            if blocked.any():  # the users whose wall blocks every step are held where they are
                walled |= blocked
                continue
            break
        band, server, v0 = nb, ns, v1
    return Allocation(band, server, v0, lam, pi, iterations, converged, walled, spread)


def feasible_start(
    pool: Pool, cand: Array, band_avail: float, server_avail: float, move_b: Array, move_f: Array,
    fixed_band: Array, fixed_server: Array,
) -> tuple[Array, Array] | None:  # fmt: skip
    """Shares (Hz) at which every user of ``cand`` is feasible and whose optimised parts sum to the available
    band and server; ``None`` when no such shares were found.

    Users with ``move_b`` / ``move_f`` false keep ``fixed_band`` / ``fixed_server``. For the others, along
    each of a few directions around its floors (:func:`~coinfer.optimise._multiuser_pool.share_floors`) the
    least feasible multiple is found by bisection; feasible shares of one user form a convex set (model.md
    section 13.2), so any convex combination of those points is feasible too, and a linear programme picks
    one per user whose sums fit. The leftover of each resource is then shared in proportion to the shares.
    """
    n = len(cand)
    need_b = move_b & pool.band[cand]
    need_f = move_f & pool.server[cand]
    fb = np.where(need_b, np.maximum(pool.floor_band[cand], band_avail * 1e-12), 0.0)
    ff = np.where(need_f, np.maximum(pool.floor_server[cand], server_avail * 1e-12), 0.0)
    if not (np.isfinite(fb).all() and np.isfinite(ff).all()):
        return None
    fixed_b = np.where(move_b, 0.0, fixed_band)
    fixed_f = np.where(move_f, 0.0, fixed_server)
    tilts = (1.0,) if not (need_b & need_f).any() else (1.0, 4.0, 0.25, 16.0, 1 / 16, 64.0, 1 / 64)
    points = []  # per tilt: (band, server) of each user, or inf where none is feasible
    for tilt in tilts:
        db = fb * np.sqrt(tilt)
        df = ff / np.sqrt(tilt)
        with np.errstate(divide="ignore"):
            top = np.minimum(
                np.where(db > 0, band_avail / np.where(db > 0, db, 1.0), np.inf),
                np.where(df > 0, server_avail / np.where(df > 0, df, 1.0), np.inf),
            )
        top = np.where(np.isfinite(top), top, 1.0)
        feasible_top = np.isfinite(pool.values(cand, np.where(need_b, db * top, fixed_b), np.where(need_f, df * top, fixed_f)))
        low = np.full(n, 1e-12)
        high = top.copy()
        for _ in range(_BISECTIONS):
            mid = np.sqrt(low * high)
            ok = np.isfinite(pool.values(cand, np.where(need_b, db * mid, fixed_b), np.where(need_f, df * mid, fixed_f)))
            high = np.where(ok, mid, high)
            low = np.where(ok, low, mid)
            if np.all(high <= low * (1 + 1e-9)):
                break
        multiple = np.where(feasible_top, high, np.inf)
        points.append((np.where(need_b, db * multiple, 0.0), np.where(need_f, df * multiple, 0.0)))
    pb = np.stack([p[0] for p in points], axis=1)  # (n, tilts)
    pf = np.stack([p[1] for p in points], axis=1)
    usable = np.isfinite(pb) & np.isfinite(pf)
    if not usable.any(axis=1).all():
        return None
    # Simple case first: the first direction fits.
    sb = float(np.sum(pb[:, 0])) if usable[:, 0].all() else np.inf
    sf = float(np.sum(pf[:, 0])) if usable[:, 0].all() else np.inf
    if sb <= band_avail and sf <= server_avail:
        weights = np.zeros(pb.shape)
        weights[:, 0] = 1.0
    else:
        m = len(tilts)
        cols = np.flatnonzero(usable.ravel())
        a_ub = np.vstack([np.where(usable, pb, 0.0).ravel()[cols] / band_avail,
                          np.where(usable, pf, 0.0).ravel()[cols] / server_avail])  # fmt: skip
        a_eq = np.zeros((n, len(cols)))
        a_eq[cols // m, np.arange(len(cols))] = 1.0
        result = linprog(np.zeros(len(cols)), A_ub=a_ub, b_ub=np.ones(2), A_eq=a_eq, b_eq=np.ones(n),
                         bounds=(0, None), method="highs")  # fmt: skip
        if result.status != 0:
            return None
        weights = np.zeros(n * m)
        weights[cols] = np.clip(result.x, 0.0, None)
        weights = weights.reshape(n, m)
        weights /= weights.sum(axis=1, keepdims=True)
    band = np.einsum("nm,nm->n", weights, np.where(usable, pb, 0.0))
    server = np.einsum("nm,nm->n", weights, np.where(usable, pf, 0.0))
    # share the leftover in proportion (more of a share never hurts: the value is nonincreasing)
    for share, avail, need in ((band, band_avail, need_b), (server, server_avail, need_f)):
        total = float(np.sum(share))
        if need.any() and total > 0:
            share *= min(avail / total, 1e300) * (1 - 1e-15)
    band = np.where(move_b, band, fixed_band)
    server = np.where(move_f, server, fixed_server)
    if not np.isfinite(pool.values(cand, band, server)).all():
        return None
    return band, server


def priced_demand(
    pool: Pool,
    cand: Array,
    band: Array,
    server: Array,
    lam: float,
    pi: float,
    band_cap: float,
    server_cap: float,
    *,
    iterations: int = 4,
) -> tuple[Array, Array, Array]:
    """A local minimum of ``w V(B, F) + lambda B + pi F`` for each candidate, from feasible ``(band, server)``.

    Returns ``(band, server, values)`` (values unweighted). Shares stay in ``(0, cap]``; a candidate that does
    not use a share keeps it. Damped Newton steps with the stencil's derivatives and a backtracking line
    search on the priced value.
    """
    band = np.asarray(band, dtype=float).copy()
    server = np.asarray(server, dtype=float).copy()
    w = pool.weight[cand]
    mb = pool.band[cand].copy()
    mf = pool.server[cand].copy()
    price = np.array([lam, pi])
    v0 = pool.values(cand, band, server)
    for _ in range(iterations):
        v0, grad, hess, ok = _stencil(pool, cand, band, server, mb, mf)
        g = w[:, None] * grad + price * np.stack([mb, mf], axis=1)
        inv = _modified_inverse(w[:, None, None] * hess, mb & ok, mf & ok)
        delta = -np.einsum("nij,nj->ni", inv, g)
        # keep within (0.1 x, cap]
        with np.errstate(divide="ignore", invalid="ignore"):
            lim = np.minimum.reduce([
                np.where(delta[:, 0] < 0, -0.9 * band / delta[:, 0], np.inf),
                np.where(delta[:, 1] < 0, -0.9 * server / delta[:, 1], np.inf),
                np.where(delta[:, 0] > 0, (band_cap - band) / delta[:, 0], np.inf),
                np.where(delta[:, 1] > 0, (server_cap - server) / delta[:, 1], np.inf),
                np.ones(len(cand)),
            ])  # fmt: skip
        alpha = np.clip(np.nan_to_num(lim, nan=0.0, posinf=1.0), 0.0, 1.0)
        phi0 = w * v0 + lam * band * mb + pi * server * mf
        slope = np.sum(g * delta, axis=1)
        # backtracking on the rows still searching only; a row that descends no further keeps its point
        moving = np.flatnonzero((slope < 0) & (alpha > 0))
        for _ in range(12):
            if not len(moving):
                break
            tb = band[moving] + alpha[moving] * delta[moving, 0]
            ts = server[moving] + alpha[moving] * delta[moving, 1]
            v1 = pool.values(cand[moving], tb, ts)
            phi1 = w[moving] * v1 + lam * tb * mb[moving] + pi * ts * mf[moving]
            good = np.isfinite(v1) & (phi1 <= phi0[moving] + _ARMIJO * alpha[moving] * slope[moving])
            band[moving[good]] = tb[good]
            server[moving[good]] = ts[good]
            alpha[moving] *= 0.5
            moving = moving[~good]
    v0 = pool.values(cand, band, server)
    return band, server, v0
