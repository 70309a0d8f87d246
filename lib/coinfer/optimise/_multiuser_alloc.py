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

All of them find local minima; the certificate (:mod:`~coinfer.optimise._multiuser_dual`) bounds the distance
to the global one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
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
#: Allocations where at most this many users hold an optimised share get the repositioning of users on kinks
#: and walls (:func:`_reposition`) and end with pairwise transfers and trades (:func:`_exchange`), at most
#: ``_EXCHANGES`` transfers, until no user buys at more than a relative ``_EXCHANGE_RTOL`` above another's sell.
#: Their cost grows with the square of that number; for more users the certificate states what is left.
_EXCHANGE_USERS = 8
#: Active-set rounds of allocate, and Newton iterations per round at most (a round that has not converged by
#: then hands over to the release and reposition steps, which unblock what stalls Newton).
_ROUNDS = 24
_ROUND_ITERATIONS = 25
_EXCHANGES = 400
_EXCHANGE_RTOL = 1e-9
#: Bisection steps of a multiplier along a direction (relative precision 2^-60 of a 1e30 range).
_BISECTIONS = 60


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


def _stencil(pool: Pool, cand: Array, band: Array, server: Array, move_b: Array, move_f: Array, v0: Array):
    """Values, gradients and Hessians (unweighted) of every candidate at its shares, by finite differences
    (``v0``: the values at the shares, known to the caller; only the moved points are solved).

    Returns ``(v0, g, h, ok)``: ``g`` is ``(n, 2)`` (d/dB, d/dF), ``h`` ``(n, 2, 2)``. Central differences; a
    candidate whose point a step below its share is infeasible (it sits within a relative ``_STEP`` of its
    wall) gets forward differences of the same order instead (one more point). ``ok`` is false where even those
    fail (the derivatives are then zero).
    """
    n = len(cand)
    hb = np.where(move_b, _STEP * band, 0.0)
    hf = np.where(move_f, _STEP * server, 0.0)
    # points: 0, b+, b-, f+, f-, b+f+
    bands = np.concatenate([band, band + hb, band - hb, band, band, band + hb])
    servers = np.concatenate([server, server, server, server + hf, server - hf, server + hf])
    needed = np.concatenate([np.zeros(n, bool), move_b, move_b, move_f, move_f, move_b & move_f])
    values = np.full(6 * n, np.nan)
    values[:n] = v0
    values[needed] = pool.values(np.tile(cand, 6)[needed], bands[needed], servers[needed])
    v0, vbp, vbm, vfp, vfm, vpp = values.reshape(6, n)
    g = np.zeros((n, 2))
    h = np.zeros((n, 2, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        g[:, 0] = np.where(move_b, (vbp - vbm) / (2 * hb), 0.0)
        g[:, 1] = np.where(move_f, (vfp - vfm) / (2 * hf), 0.0)
        h[:, 0, 0] = np.where(move_b, (vbp - 2 * v0 + vbm) / (hb * hb), 0.0)
        h[:, 1, 1] = np.where(move_f, (vfp - 2 * v0 + vfm) / (hf * hf), 0.0)
        h[:, 0, 1] = h[:, 1, 0] = np.where(move_b & move_f, (vpp - vbp - vfp + v0) / (hb * hf), 0.0)
        # near the wall: forward differences from 0, +h, +2h
        for col, minus, plus, hh, move in ((0, vbm, vbp, hb, move_b), (1, vfm, vfp, hf, move_f)):
            wall = np.flatnonzero(move & ~np.isfinite(minus) & np.isfinite(plus) & np.isfinite(v0))
            if len(wall):
                b2 = band[wall] + (2 * hb[wall] if col == 0 else 0.0)
                s2 = server[wall] + (2 * hf[wall] if col == 1 else 0.0)
                v2 = pool.values(cand[wall], b2, s2)
                g[wall, col] = (-3 * v0[wall] + 4 * plus[wall] - v2) / (2 * hh[wall])
                h[wall, col, col] = (v0[wall] - 2 * plus[wall] + v2) / (hh[wall] * hh[wall])
    ok = np.isfinite(g).all(axis=1) & np.isfinite(h).all(axis=(1, 2)) & np.isfinite(v0)
    g[~ok] = 0.0
    h[~ok] = 0.0
    return v0, g, h, ok


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
    max_iterations: int = 200,
    rtol: float = 1e-13,
    polish: bool = True,
) -> Allocation:
    """Newton's method on the KKT conditions of the shares, from the feasible start ``(band, server)``.

    ``move_b`` / ``move_f`` mark the users whose band / server share is optimised; the others keep theirs.
    The optimised shares keep their sums (the start's). Every user must be feasible at the start. ``polish``
    (for at most ``_EXCHANGE_USERS`` users holding a share) adds the repositioning and the transfers and trades.

    Walls are handled by an active set: a user whose step meets its wall is held there (the line search steps
    onto the nearest wall, found by bisection on that user's feasibility), and Newton goes on with the others.
    When it has converged, a held user whose marginal value into the feasible side exceeds the price is
    released and Newton resumes (a user released once is kept at least half way from its wall, since Newton on
    a value that falls steeply off a wall would otherwise bounce on it).
    """
    band = np.asarray(band, dtype=float).copy()
    server = np.asarray(server, dtype=float).copy()
    w = pool.weight[cand]
    n = len(cand)
    polish = polish and int(np.sum(move_b | move_f)) <= _EXCHANGE_USERS
    walled = np.zeros(n, dtype=bool)
    wall_b = np.full(n, np.nan)  # where each user last met its wall (nan: not yet)
    wall_f = np.full(n, np.nan)
    state: dict[str, Any] = {"lam": 0.0, "pi": 0.0, "spread": np.zeros((2, 2))}
    v0 = pool.values(cand, band, server)
    if not np.isfinite(v0).all():
        raise ValueError("allocate needs a feasible start")
    iterations = 0
    converged = False
    best = (float(np.sum(w * v0)), band.copy(), server.copy(), v0.copy())
    fraction = 1.0  # how far a reposition moves a user towards its cheapest mix
    moved = None
    for round_ in range(_ROUNDS):  # active-set rounds
        budget = min(_ROUND_ITERATIONS, max_iterations - iterations)
        converged, used, band, server, v0 = _newton(pool, cand, w, band, server, v0, move_b, move_f, walled,
                                                    wall_b, wall_f, state, budget, rtol)  # fmt: skip
        iterations += used
        if iterations >= max_iterations:
            break
        # release the held users that would buy more at the prices
        held = np.flatnonzero(walled)
        hb = _STEP * band[held]
        hf = _STEP * server[held]
        v_h = pool.values(
            np.tile(cand[held], 3),
            np.concatenate([band[held], band[held] + hb, band[held]]),
            np.concatenate([server[held], server[held], server[held] + hf]),
        ).reshape(3, len(held))
        with np.errstate(invalid="ignore"):
            gain_b = np.where(move_b[held], -w[held] * (v_h[1] - v_h[0]) / hb, 0.0)
            gain_f = np.where(move_f[held], -w[held] * (v_h[2] - v_h[0]) / hf, 0.0)
        release = (gain_b > max(state["lam"], 0.0) * (1 + 1e-6)) | (gain_f > max(state["pi"], 0.0) * (1 + 1e-6))
        walled[held[release]] = False
        if polish:
            # users on the edge of their satiation (their least value) or on their wall take the cheapest
            # mix of their two shares that keeps them there; the others share what that frees
            if float(np.sum(w * v0)) < best[0] * (1 - 1e-12):
                best = (float(np.sum(w * v0)), band.copy(), server.copy(), v0.copy())
                fraction = min(1.0, 2 * fraction)
            elif round_ > 0:
                # the last reposition did not pay: go back to the best point and move by less (prices move with
                # the shares, and a full move can swing between two mixes)
                _, band, server, v0 = best
                band, server, v0 = band.copy(), server.copy(), v0.copy()
                fraction *= 0.5
            moved = None
            if fraction > 1e-3:
                moved = _reposition(pool, cand, w, band, server, v0, move_b, move_f, walled, state, fraction)
            if moved is not None:
                band, server, v0 = moved
        elif float(np.sum(w * v0)) < best[0]:
            best = (float(np.sum(w * v0)), band.copy(), server.copy(), v0.copy())
        if converged and not release.any() and (moved is None if polish else True):
            break
    if float(np.sum(w * v0)) > best[0] or moved is not None:  # a reposition no Newton round followed
        _, band, server, v0 = best
    if polish:
        band, server, v0, prices = _exchange(pool, cand, w, band, server, v0, move_b, move_f, rtol)
        if prices is not None:
            state["lam"], state["pi"] = prices
    return Allocation(band, server, v0, state["lam"], state["pi"], iterations, converged, walled, state["spread"])


def _reposition(pool, cand, w, band, server, v0, move_b, move_f, walled, state, fraction=1.0):
    """Move every user of both shares to the mix that keeps its value (its wall, if held there) and costs least
    at the prices ``lambda B + pi F``: for each band ``B`` the least server share that keeps its value (bisection;
    the value does not rise with the server share), and the band by golden-section search in ``log B``. At a
    smooth KKT point this changes nothing; where a user sits on a kink (its value at its least, so more of either
    share buys nothing but the mix still matters) Newton's derivatives are blind to it and this moves it. The freed
    (or extra) resources are taken from (or given to) the other users in proportion to their shares. Returns
    ``(band, server, values)``, or ``None`` when nothing moved or the others would not stay feasible. Users
    moved are held (``walled``) for the next Newton round.
    """
    lam, pi = max(state["lam"], 0.0), max(state["pi"], 0.0)
    # users of both shares that Newton cannot move well: held on their wall, or on a kink of their value (what a
    # little more of a share buys differs from what a little less costs), or at their least value
    buy, sell, _ = _one_sided(pool, cand, w, band, server, move_b, move_f, 1e-7)
    with np.errstate(invalid="ignore", over="ignore"):
        kink = ((sell - buy) > 1e-3 * np.maximum(np.abs(sell), np.abs(buy)) + 1e-300).any(axis=0)
    least = v0 <= pool.flat[cand] * (1 + 1e-10) + 1e-300
    on_edge = move_b & move_f & (walled | kink | least)
    rows = np.flatnonzero(on_edge)
    if not len(rows):
        return None
    total_b = float(np.sum(band[move_b]))
    total_f = float(np.sum(server[move_f]))
    level = np.where(walled[rows], np.inf, v0[rows] * (1 + 1e-12) + 1e-300)

    def least_server(b: Array) -> Array:
        """Least server share keeping each user at its level at band ``b`` (``inf`` if none up to the total)."""
        v_top = pool.values(cand[rows], b, np.full(len(rows), total_f))
        ok_top = np.isfinite(v_top) & (v_top <= level)
        lo = np.full(len(rows), total_f * 1e-12)
        hi = np.full(len(rows), total_f)
        for _ in range(45):
            mid = np.sqrt(lo * hi)
            v = pool.values(cand[rows], b, mid)
            ok = np.isfinite(v) & (v <= level)
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return np.where(ok_top, hi, np.inf)

    def cost(x: Array) -> Array:
        b = np.exp(x)
        f = least_server(b)
        with np.errstate(invalid="ignore"):  # 0 x inf where the server is free and the band infeasible
            return lam * b + np.where(np.isfinite(f), pi * f, np.inf)

    a = np.log(np.maximum(band[rows] * 1e-2, total_b * 1e-9))
    z = np.log(np.full(len(rows), total_b))
    golden = 0.3819660112501051
    c, d = a + golden * (z - a), z - golden * (z - a)
    fc, fd = cost(c), cost(d)
    for _ in range(30):
        left = (fc <= fd) & np.isfinite(fc)  # infeasible probes lie below the least band: search to the right
        z = np.where(left, d, z)
        a = np.where(left, a, c)
        new_c = a + golden * (z - a)
        new_d = z - golden * (z - a)
        probe = np.where(left, new_c, new_d)
        f_probe = cost(probe)
        c, fc, d, fd = (np.where(left, new_c, d), np.where(left, f_probe, fd),
                        np.where(left, c, new_d), np.where(left, fc, f_probe))  # fmt: skip
    x = np.where((fc <= fd) & np.isfinite(fc), c, d)
    x = np.log(band[rows]) + fraction * (x - np.log(band[rows]))
    new_b = np.exp(x)
    new_f = least_server(new_b) * (1 + 1e-9)
    now = lam * band[rows] + pi * server[rows]
    better = np.isfinite(new_f) & (lam * new_b + pi * new_f < now * (1 - 1e-9))
    if not better.any():
        return None
    order = np.argsort(-(now - (lam * new_b + pi * new_f)))  # the largest saving first
    nb, ns = band.copy(), server.copy()
    fixed = np.zeros(len(cand), dtype=bool)  # moved users, held at their new mix
    moved_any = False
    for i in order:
        if not better[i]:
            continue
        k = rows[i]
        others_b = move_b & ~fixed & ~walled  # a user held on its wall can take more but not give
        others_f = move_f & ~fixed & ~walled
        others_b[k] = others_f[k] = False
        if not (others_b.any() or others_f.any()):
            continue

        def least_of(b: float, r: int = i) -> float:
            return float(least_server(np.full(len(rows), b))[r])

        trial = _move_one(pool, cand, nb, ns, k, band[k], new_b[i], level[i], total_b, total_f, move_b, move_f,
                          others_b, others_f, least_server_of=least_of)  # fmt: skip
        if trial is None:
            continue
        nb, ns = trial
        fixed[k] = True
        moved_any = True
    if not moved_any:
        return None
    values = pool.values(cand, nb, ns)
    if not np.isfinite(values).all():
        return None
    walled[fixed] = True  # held at the new mix; the next Newton round shares out what it freed
    return nb, ns, values


def _move_one(pool, cand, nb, ns, k, old_b, new_b, level, total_b, total_f, move_b, move_f, others_b, others_f,
              least_server_of):  # fmt: skip
    """Shares with user ``k`` moved (in log band) towards its band ``new_b`` on its level curve, the others of
    each share scaled to keep the sums: the whole way if everyone stays feasible, else the furthest fraction that
    keeps them so (bisection: prices hold for small moves, and a large one can take what the others need).
    ``None`` if no fraction works."""

    def moved_to(t: float):
        b_t = float(np.exp(np.log(old_b) + t * (np.log(new_b) - np.log(old_b))))
        f_t = least_server_of(b_t) * (1 + 1e-9)
        if not np.isfinite(f_t):
            return None
        b2, s2 = nb.copy(), ns.copy()
        b2[k], s2[k] = b_t, f_t
        for share, total, others, move in ((b2, total_b, others_b, move_b), (s2, total_f, others_f, move_f)):
            rest = total - float(np.sum(share[~others & move]))
            held = float(np.sum(share[others]))
            if held > 0:
                share[others] *= rest / held
            if float(np.sum(share[move])) > total * (1 + 1e-12):  # nobody left to give what user k takes
                return None
        if (b2[move_b] <= 0).any() or (s2[move_f] <= 0).any():
            return None
        if not np.isfinite(pool.values(cand, b2, s2)).all():
            return None
        return b2, s2

    whole = moved_to(1.0)
    if whole is not None:
        return whole
    lo, hi, best = 0.0, 1.0, None
    for _ in range(16):
        mid = 0.5 * (lo + hi)
        trial = moved_to(mid)
        if trial is not None:
            lo, best = mid, trial
        else:
            hi = mid
    return best


def _one_sided(pool, cand, w, band, server, move_b, move_f, h):
    """Per user and share: the gain per Hz of a little more (``buy``) and the loss per Hz of a little less
    (``sell``, ``inf`` where the user would become infeasible), by one-sided differences of relative step
    ``h``. Where the value has a kink (a satiation edge, a wall) the two differ, and the shares are optimal
    when no user buys above what another sells at."""
    n = len(cand)
    hb, hf = h * band, h * server
    pts_b = np.concatenate([band, band + hb, band - hb, band, band])
    pts_f = np.concatenate([server, server, server, server + hf, server - hf])
    v = pool.values(np.tile(cand, 5), pts_b, pts_f).reshape(5, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        buy = np.stack([np.where(move_b, w * (v[0] - v[1]) / hb, -np.inf),
                        np.where(move_f, w * (v[0] - v[3]) / hf, -np.inf)])  # fmt: skip
        sell = np.stack([np.where(move_b, w * (v[2] - v[0]) / hb, np.inf),
                         np.where(move_f, w * (v[4] - v[0]) / hf, np.inf)])  # fmt: skip
    return np.nan_to_num(buy, nan=-np.inf), np.nan_to_num(sell, nan=np.inf), v[0]


def _exchange(pool, cand, w, band, server, v0, move_b, move_f, rtol):
    """Pairwise transfers that finish what Newton leaves at kinks and walls (model.md 13.4): while some user
    would buy a share at more than another sells it (:func:`_one_sided`), move the amount between the two that
    minimises their summed value (golden-section search; the seller's wall bounds the amount). Returns
    ``(band, server, values, (lambda, pi) or None)``, the prices at the end between the highest buy and the
    lowest sell."""
    prices = None
    shares = [band.copy(), server.copy()]
    moves = (move_b, move_f)
    traded = True
    for _ in range(_EXCHANGES):
        buy, sell, v0 = _one_sided(pool, cand, w, shares[0], shares[1], move_b, move_f, 1e-7)
        best = None
        for r in (0, 1):
            if moves[r].sum() < 2:
                continue
            i = int(np.argmax(buy[r]))
            s_r = np.where(np.arange(len(cand)) == i, np.inf, sell[r])
            j = int(np.argmin(s_r))
            excess = buy[r, i] - s_r[j]
            if np.isfinite(excess) and excess > _EXCHANGE_RTOL * max(abs(buy[r, i]), abs(s_r[j]), 1e-300):
                if best is None or excess / max(abs(buy[r, i]), 1e-300) > best[0]:
                    best = (excess / max(abs(buy[r, i]), 1e-300), r, i, j)
        moved = best is not None and _transfer(pool, cand, w, shares, best[1], best[2], best[3], v0)
        if not moved:
            # no transfer of one share pays: try trades of band for server between users of both
            if not traded:
                break
            traded = _trades(pool, cand, w, shares, move_b & move_f)
            if not traded:
                break
    buy, sell, v0 = _one_sided(pool, cand, w, shares[0], shares[1], move_b, move_f, 1e-7)
    lam = [0.0, 0.0]
    for r in (0, 1):
        held = moves[r] & (shares[r] > 0)
        if held.sum() >= 1 and np.isfinite(buy[r][held]).any():
            lam[r] = max(float(np.max(buy[r][held])), 0.0)
    prices = (lam[0], lam[1])
    return shares[0], shares[1], v0, prices


def _trades(pool, cand, w, shares, both) -> bool:
    """For every pair of users of both shares, the trade of band from one for server from the other (amounts of
    either sign) that lowers their summed value most: alternating golden-section searches on the two amounts,
    each within what keeps both users' shares positive. ``True`` if some trade lowered the objective."""
    users = np.flatnonzero(both)
    improved = False
    for a in range(len(users)):
        for b in range(a + 1, len(users)):
            pair = np.array([users[a], users[b]])
            base = (shares[0][pair].copy(), shares[1][pair].copy())
            start = _pair_value(pool, cand, w, pair, base, 0.0, 0.0)
            db = df = 0.0
            for _ in range(3):
                db = _golden(lambda x, df=df, pair=pair, base=base: _pair_value(pool, cand, w, pair, base, x, df),
                             -base[0][1] * 0.999, base[0][0] * 0.999, db)  # fmt: skip
                df = _golden(lambda x, db=db, pair=pair, base=base: _pair_value(pool, cand, w, pair, base, db, x),
                             -base[1][0] * 0.999, base[1][1] * 0.999, df)  # fmt: skip
            if _pair_value(pool, cand, w, pair, base, db, df) < start * (1 - 1e-13):
                shares[0][pair] = base[0] + np.array([-db, db])
                shares[1][pair] = base[1] + np.array([df, -df])
                improved = True
    return improved


def _pair_value(pool, cand, w, pair, base, db: float, df: float) -> float:
    """Summed weighted value of a pair after the first gives band ``db`` to the second and takes server ``df``
    from it (``inf`` where a share would not stay positive or a user becomes infeasible)."""
    band = base[0] + np.array([-db, db])
    server = base[1] + np.array([df, -df])
    if (band <= 0).any() or (server <= 0).any():
        return np.inf
    v = pool.values(cand[pair], band, server)
    return float(np.sum(w[pair] * v)) if np.isfinite(v).all() else np.inf


def _golden(f, low: float, high: float, start: float) -> float:
    """A point of ``[low, high]`` minimising ``f`` (golden section; ``start`` is kept unless beaten), for
    functions that are ``inf`` where infeasible."""
    golden = 0.3819660112501051
    a, b = low, high
    c, d = a + golden * (b - a), b - golden * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(60):
        if fc <= fd and np.isfinite(fc) or not np.isfinite(fd) and np.isfinite(fc):
            b, d, fd = d, c, fc
            c = a + golden * (b - a)
            fc = f(c)
        elif np.isfinite(fd):
            a, c, fc = c, d, fd
            d = b - golden * (b - a)
            fd = f(d)
        else:  # both infeasible: the feasible amounts lie around the start
            a, b = a + golden * (start - a), b - golden * (b - start)
            c, d = a + golden * (b - a), b - golden * (b - a)
            fc, fd = f(c), f(d)
        if b - a <= 1e-13 * max(abs(high - low), 1e-300):
            break
    best, value = (c, fc) if fc <= fd else (d, fd)
    return best if value < f(start) else start


def _transfer(pool, cand, w, shares, r, i, j, v0) -> bool:
    """Move share ``r`` from user ``j`` to user ``i`` by the amount in ``[0, most]`` that minimises
    ``w_i V_i + w_j V_j`` (golden section), ``most`` where ``j`` meets its wall (bisection) or gives all but a
    relative 1e-12; ``False`` if no amount lowers the sum."""
    pair = np.array([i, j])
    base_b, base_f = shares[0][pair].copy(), shares[1][pair].copy()

    def pair_value(amount: float) -> float:
        b, f = base_b.copy(), base_f.copy()
        (b if r == 0 else f)[0] += amount
        (b if r == 0 else f)[1] -= amount
        v = pool.values(cand[pair], b, f)
        return float(np.sum(w[pair] * v)) if np.isfinite(v).all() else np.inf

    top = (base_b if r == 0 else base_f)[1] * (1 - 1e-12)
    if not np.isfinite(pair_value(top)):  # the seller's wall: bisection on its feasibility
        lo, hi = 0.0, top
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if np.isfinite(pair_value(mid)):
                lo = mid
            else:
                hi = mid
        top = lo
    start = float(np.sum(w[pair] * v0[pair]))
    a, b = 0.0, top
    golden = 0.3819660112501051
    c, d = a + golden * (b - a), b - golden * (b - a)
    fc, fd = pair_value(c), pair_value(d)
    for _ in range(80):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = a + golden * (b - a)
            fc = pair_value(c)
        else:
            a, c, fc = c, d, fd
            d = b - golden * (b - a)
            fd = pair_value(d)
        if b - a <= 1e-13 * max(top, 1e-300):
            break
    amount, value = (c, fc) if fc <= fd else (d, fd)
    if not value < start:
        return False
    shares[r][i] += amount
    shares[r][j] -= amount
    return True


def _newton(pool, cand, w, band, server, v0, move_b, move_f, walled, wall_b, wall_f, state, budget, rtol):
    """Newton iterations of :func:`allocate` with the held users fixed: ``(converged, iterations, band, server,
    values)``; ``walled``, ``wall_b``, ``wall_f`` and ``state`` (prices, spread) are updated in place."""
    converged = False
    used = 0
    while used < budget:
        used += 1
        mb, mf = move_b & ~walled, move_f & ~walled
        v0, grad, hess, ok = _stencil(pool, cand, band, server, mb, mf, v0)
        newly = ~ok & (mb | mf)  # no derivatives even one-sided (never seen): hold the user where it is
        if newly.any():
            walled |= newly
            mb, mf = move_b & ~walled, move_f & ~walled
        g = w[:, None] * grad
        inv = _modified_inverse(w[:, None, None] * hess, mb, mf)
        active = np.array([mb.any(), mf.any()])
        if not active.any():
            converged = True
            break
        s = inv.sum(axis=0)
        state["spread"] = s
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
        state["lam"], state["pi"] = float(y[0]), float(y[1])
        slope = float(np.sum(g * delta))  # directional derivative (the prices' terms cancel: sum delta = 0)
        f0 = float(np.sum(w * v0))
        small = np.all(np.abs(delta[:, 0]) <= rtol * np.maximum(band, 1e-300)) and np.all(
            np.abs(delta[:, 1]) <= rtol * np.maximum(server, 1e-300)
        )
        if small or slope >= -rtol * abs(f0):
            converged = True
            break
        # keep every share above a tenth of itself, and a user that has met its wall at most half way to it
        room_b = np.minimum(np.where(np.isfinite(wall_b), 0.5 * np.maximum(band - wall_b, 0.0), 0.9 * band), 0.9 * band)
        room_f = np.minimum(np.where(np.isfinite(wall_f), 0.5 * np.maximum(server - wall_f, 0.0), 0.9 * server),
                            0.9 * server)  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink_b = np.where(delta[:, 0] < 0, room_b / -delta[:, 0], np.inf)
            shrink_f = np.where(delta[:, 1] < 0, room_f / -delta[:, 1], np.inf)
        alpha = float(min(1.0, shrink_b.min(initial=np.inf), shrink_f.min(initial=np.inf)))
        if alpha <= 0:  # a user at its wall would be pushed in: hold it
            walled[(shrink_b <= 0) | (shrink_f <= 0)] = True
            continue
        accepted, hit, nb, ns, v1 = _line_search(pool, cand, w, band, server, delta, alpha, f0, slope, v0)
        if hit is not None:
            walled[hit] = True
            wall_b[hit], wall_f[hit] = (nb[hit], ns[hit]) if accepted else (band[hit], server[hit])
            if not accepted:
                continue
        if not accepted:
            break
        band, server, v0 = nb, ns, v1
    return converged, used, band, server, v0


def _moved_values(pool: Pool, cand: Array, nb: Array, ns: Array, band: Array, server: Array, v0: Array) -> Array:
    """Values at shares ``(nb, ns)``; the users whose shares did not move keep ``v0`` (their values at
    ``(band, server)``: the same solve would give the same bits), the others are solved."""
    moved = (nb != band) | (ns != server)
    v1 = v0.copy()
    v1[moved] = pool.values(cand[moved], nb[moved], ns[moved])
    return v1


def _line_search(pool, cand, w, band, server, delta, alpha, f0, slope, v0):
    """Backtracking from ``alpha`` with the Armijo test; a step that leaves some user infeasible is cut to the
    nearest wall (bisection on that user's feasibility alone). Returns ``(accepted, hit, band, server,
    values)``, ``hit`` the user whose wall the accepted step reached (or that sits on its wall: then not
    accepted). ``v0``: the values at ``(band, server)``."""
    for _ in range(40):
        nb = band + alpha * delta[:, 0]
        ns = server + alpha * delta[:, 1]
        v1 = _moved_values(pool, cand, nb, ns, band, server, v0)
        hit = None
        if not np.isfinite(v1).all():
            blocked = np.flatnonzero(~np.isfinite(v1))
            lo = np.zeros(len(blocked))
            hi = np.full(len(blocked), alpha)
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                ok = np.isfinite(pool.values(cand[blocked], band[blocked] + mid * delta[blocked, 0],
                                             server[blocked] + mid * delta[blocked, 1]))  # fmt: skip
                lo = np.where(ok, mid, lo)
                hi = np.where(ok, hi, mid)
                if np.all(hi - lo <= 1e-13 * alpha):
                    break
            first = int(np.argmin(lo))
            hit = int(blocked[first])
            if lo[first] <= 1e-9 * alpha:  # already on its wall
                return False, hit, band, server, None
            alpha = float(lo[first])
            nb = band + alpha * delta[:, 0]
            ns = server + alpha * delta[:, 1]
            v1 = _moved_values(pool, cand, nb, ns, band, server, v0)
            if not np.isfinite(v1).all():
                alpha *= 0.5
                continue
        f1 = float(np.sum(w * v1))
        if f1 <= f0 + _ARMIJO * alpha * slope or (hit is not None and f1 < f0):
            return True, hit, nb, ns, v1
        alpha *= 0.5
    return False, None, band, server, None


def _least_multiple(pool: Pool, cand: Array, db: Array, df: Array, need_b: Array, need_f: Array, fixed_b: Array,
                    fixed_f: Array, band_avail: float, server_avail: float) -> tuple[Array, Array]:  # fmt: skip
    """Per user, the least feasible multiple of its direction ``(db, df)`` by bisection in ``log`` (to a relative
    1e-9), as ``(band, server)`` (0 for a share it does not need, ``inf`` where even the largest multiple that
    fits the available resources is infeasible)."""
    n = len(cand)
    with np.errstate(divide="ignore"):
        top = np.minimum(
            np.where(db > 0, band_avail / np.where(db > 0, db, 1.0), np.inf),
            np.where(df > 0, server_avail / np.where(df > 0, df, 1.0), np.inf),
        )
    top = np.where(np.isfinite(top), top, 1.0)
    feasible_top = np.isfinite(
        pool.values(cand, np.where(need_b, db * top, fixed_b), np.where(need_f, df * top, fixed_f))
    )
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
    return np.where(need_b, db * multiple, 0.0), np.where(need_f, df * multiple, 0.0)


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
    # directions: the floors' own, then (for users of both shares) mixes of the two resources in proportion to
    # what is available, from nearly all band to nearly all server
    directions = [(fb, ff)]
    if (need_b & need_f).any():
        for angle in np.linspace(0.04, np.pi / 2 - 0.04, 12):
            both = need_b & need_f
            directions.append((np.where(both, band_avail * np.cos(angle), fb),
                               np.where(both, server_avail * np.sin(angle), ff)))  # fmt: skip
    # a user of one share has every direction equal to the first: only users of both shares are bisected again
    both = need_b & need_f
    points = []  # per direction: (band, server) of each user, or inf where none is feasible
    for i, (db, df) in enumerate(directions):
        sub = np.arange(n) if i == 0 else np.flatnonzero(both)
        pb0, pf0 = _least_multiple(pool, cand[sub], db[sub], df[sub], need_b[sub], need_f[sub], fixed_b[sub],
                                   fixed_f[sub], band_avail, server_avail)  # fmt: skip
        if i == 0:
            first = (pb0, pf0)
            points.append(first)
        else:
            pb_i, pf_i = first[0].copy(), first[1].copy()
            pb_i[sub], pf_i[sub] = pb0, pf0
            points.append((pb_i, pf_i))
    pb = np.stack([p[0] for p in points], axis=1)  # (n, directions)
    pf = np.stack([p[1] for p in points], axis=1)
    usable = np.isfinite(pb) & np.isfinite(pf)
    if not usable.any(axis=1).all():
        return None
    # Simple case first: the first direction fits.
    sb = float(np.sum(pb[:, 0])) if usable[:, 0].all() else np.inf
    sf = float(np.sum(pf[:, 0])) if usable[:, 0].all() else np.inf
    if sb <= band_avail and sf <= server_avail:
        weights: np.ndarray = np.zeros(pb.shape)
        weights[:, 0] = 1.0
    else:
        m = len(directions)
        cols = np.flatnonzero(usable.ravel())
        a_ub = np.vstack([np.where(usable, pb, 0.0).ravel()[cols] / band_avail,
                          np.where(usable, pf, 0.0).ravel()[cols] / server_avail])  # fmt: skip
        # sparse: one nonzero per column (a dense n x (n m) matrix costs more than the programme at K = 1000)
        a_eq = sparse.csr_array((np.ones(len(cols)), (cols // m, np.arange(len(cols)))), shape=(n, len(cols)))
        result = linprog(np.zeros(len(cols)), A_ub=a_ub, b_ub=np.ones(2), A_eq=a_eq, b_eq=np.ones(n),
                         bounds=(0, None), method="highs")  # fmt: skip
        if result.status != 0:
            return None
        flat = np.zeros(n * m)
        flat[cols] = np.clip(result.x, 0.0, None)
        weights = flat.reshape(n, m)
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
