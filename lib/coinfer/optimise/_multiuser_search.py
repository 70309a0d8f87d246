"""The search of :func:`coinfer.optimise.solve_multiuser`: splits and shares (model.md section 13.4).

:func:`search` returns a feasible design of every user (a candidate split and shares of band and server) and
the prices of the two resources at its KKT point:

1. Candidates that are infeasible even with all of the available band and server are dropped; a user left
   without any is infeasible, and so is the problem (the reason names the user).
2. Start: each user takes the candidate that is best for it at an equal share of each resource (the one with
   the least share floors where none is feasible there); :func:`~._multiuser_alloc.feasible_start` finds
   shares at which all of them are feasible, and :func:`~._multiuser_alloc.allocate` optimises the shares.
3. Split rounds: at the prices ``(lambda, pi)`` each user compares its priced value ``w V + lambda B + pi F``
   with what another of its candidates would cost at those prices (a cheap lower bound first,
   :func:`~._multiuser_alloc.priced_demand` where the bound does not rule it out). The users with the largest
   gains switch, the shares are optimised again, and the switch is kept if the objective falls; otherwise half
   as many users try. This is a local search over the splits: the certificate bounds what it can miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coinfer.optimise import kernel
from coinfer.optimise._multiuser_alloc import Allocation, allocate, feasible_start
from coinfer.optimise._multiuser_pool import Pool

Array = np.ndarray

#: Relative improvement of the objective below which a split round is not worth keeping.
_IMPROVEMENT = 1e-12
#: Single switches tried, in order of gain, when every group of switches failed.
_SINGLE_TRIES = 8
#: Offers per user kept (the best by estimated gain).
_OFFERS_PER_USER = 3


@dataclass
class Design:
    """A feasible design: per user its candidate (pool index), shares (Hz) and value (unweighted), and prices."""

    cand: Array
    band: Array
    server: Array
    values: Array
    band_price: float
    server_price: float
    rounds: int
    newton_iterations: int
    walled: Array
    spread: Array

    def objective(self, pool: Pool) -> float:
        return float(np.sum(pool.weight[self.cand] * self.values))


@dataclass
class Infeasible:
    """No feasible design: why (one sentence with numbers), and whether that is proven."""

    reason: str
    proven: bool


def _alone(pool: Pool, caps_b: Array, caps_f: Array) -> Array:
    """Value of every candidate with its user's whole available band and server (``inf`` where infeasible)."""
    code, out = pool.at_caps(caps_b, caps_f)
    return np.where(code == kernel.OPTIMAL, out[:, kernel.O_OBJECTIVE], np.inf)  # Pool.values at the caps


#: Multiples of a candidate's share floors on its menu (model.md 13.4).
_MENU = np.array([1.1, 1.5, 2.5, 5.0, 12.0, 40.0])
#: Bisection steps of the menu's price search (each halves both price brackets in log).
_PRICE_STEPS = 48


def _menu_start(pool: Pool, ok: Array, n_users: int, move_b_user: Array, move_f_user: Array, caps_b: Array,
                caps_f: Array, band_avail: float, server_avail: float) -> tuple[Array, Array, Array]:  # fmt: skip
    """Every user's choice from a menu, at prices that clear both resources (a Lagrangian relaxation of the
    splits): ``(cand, band, server)``.

    The menu of a candidate that uses a priced share holds its value at a few multiples of its share floors
    (:data:`_MENU`, capped at the user's caps); a candidate that uses none is one option at its value. At
    prices ``(lambda, pi)`` each user takes its option of least ``w V + lambda B + pi F``. Each price is found
    by bisection in ``log`` on its own resource's excess demand, both at once (the users' demand falls in its
    own price); the result is a start for Newton's method, not an answer.
    """
    c_all = np.flatnonzero(ok)
    user = pool.user[c_all]
    uses_b = pool.band[c_all] & move_b_user[user]
    uses_f = pool.server[c_all] & move_f_user[user]
    priced = uses_b | uses_f
    # options: (candidate, band, server) with values
    opt_c = [c_all[~priced]]
    opt_b = [np.zeros(int((~priced).sum()))]
    opt_f = [np.zeros(int((~priced).sum()))]
    pc = c_all[priced]
    for m in (*_MENU, np.inf):  # the last option: the whole of each resource (feasible: the candidate is ok)
        opt_c.append(pc)
        with np.errstate(invalid="ignore"):  # inf x 0 where a floor is 0
            want_b = np.where(pool.floor_band[pc] > 0, m * pool.floor_band[pc], caps_b[pool.user[pc]])
            want_f = np.where(pool.floor_server[pc] > 0, m * pool.floor_server[pc], caps_f[pool.user[pc]])
        opt_b.append(np.where(uses_b[priced], np.minimum(want_b, caps_b[pool.user[pc]]), 0.0))
        opt_f.append(np.where(uses_f[priced], np.minimum(want_f, caps_f[pool.user[pc]]), 0.0))
    oc = np.concatenate(opt_c)
    ob = np.concatenate(opt_b)
    of = np.concatenate(opt_f)
    ou = pool.user[oc]
    values = pool.values(oc, np.where(ob > 0, ob, caps_b[ou]), np.where(of > 0, of, caps_f[ou]))
    keep = np.isfinite(values)
    oc, ob, of, ou, values = oc[keep], ob[keep], of[keep], ou[keep], values[keep]
    order = np.argsort(ou, kind="stable")
    oc, ob, of, ou, values = oc[order], ob[order], of[order], ou[order], values[order]
    starts = np.flatnonzero(np.r_[True, ou[1:] != ou[:-1]])
    wv = pool.weight[oc] * values

    def choose(lam: float, pi: float) -> Array:
        cost = wv + lam * ob + pi * of
        least = np.minimum.reduceat(cost, starts)
        first = np.flatnonzero(cost <= least[np.searchsorted(starts, np.arange(len(cost)), side="right") - 1])
        return first[np.r_[True, ou[first][1:] != ou[first][:-1]]]

    # price brackets in log: a price at which nobody buys, and 0 (everyone buys what is best for them)
    scale = float(np.max(wv)) if len(wv) else 1.0
    scale = scale if scale > 0 else 1.0  # every value 0 (no pruning: no distortion), any positive scale
    hi_l = np.log(scale / max(float(ob[ob > 0].min(initial=np.inf)), 1e-300) * 1e3) if (ob > 0).any() else 0.0
    hi_p = np.log(scale / max(float(of[of > 0].min(initial=np.inf)), 1e-300) * 1e3) if (of > 0).any() else 0.0
    lo_l, lo_p = hi_l - 200.0, hi_p - 200.0
    pick = choose(0.0, 0.0)
    if (ob[pick].sum() <= band_avail) and (of[pick].sum() <= server_avail):
        return oc[pick], ob[pick], of[pick]
    for _ in range(_PRICE_STEPS):
        lam, pi = np.exp(0.5 * (lo_l + hi_l)), np.exp(0.5 * (lo_p + hi_p))
        pick = choose(lam, pi)
        if ob[pick].sum() > band_avail:
            lo_l = 0.5 * (lo_l + hi_l)
        else:
            hi_l = 0.5 * (lo_l + hi_l)
        if of[pick].sum() > server_avail:
            lo_p = 0.5 * (lo_p + hi_p)
        else:
            hi_p = 0.5 * (lo_p + hi_p)
    pick = choose(np.exp(hi_l), np.exp(hi_p))  # the upper ends: demand within both resources
    return oc[pick], ob[pick], of[pick]


def _dominated(pool: Pool, n_users: int, alone: Array, ok: Array) -> Array:
    """Candidates that can never beat their user's best candidate using no share: even with every share the user
    can have, their value is no better (``V`` is nonincreasing in the shares), so a tie at best."""
    free = ok & ~pool.band & ~pool.server
    best_free = np.full(n_users, np.inf)
    np.minimum.at(best_free, pool.user[free], alone[free])
    return ok & (pool.band | pool.server) & (alone >= best_free[pool.user])


def search(
    pool: Pool,
    n_users: int,
    fixed_band: Array,
    fixed_server: Array,
    band_avail: float,
    server_avail: float,
    *,
    allowed: Array | None = None,
) -> Design | Infeasible:
    """A feasible local optimum of the splits and shares (see the module docstring).

    ``fixed_band[k]`` / ``fixed_server[k]`` are user ``k``'s fixed shares (``nan``: optimised); ``band_avail`` /
    ``server_avail`` what the optimised shares share. ``allowed`` (per candidate) restricts the candidates.
    """
    move_b_user = np.isnan(fixed_band)
    move_f_user = np.isnan(fixed_server)
    caps_b = np.where(move_b_user, band_avail, fixed_band)
    caps_f = np.where(move_f_user, server_avail, fixed_server)
    alone = _alone(pool, caps_b, caps_f)
    ok = np.isfinite(alone) if allowed is None else np.isfinite(alone) & allowed
    ok &= ~_dominated(pool, n_users, alone, ok)
    has = np.zeros(n_users, dtype=bool)
    np.logical_or.at(has, pool.user, ok)
    if not has.all():
        k = int(np.flatnonzero(~has)[0])
        band_text = "its fixed band share" if not move_b_user[k] else "the whole available band"
        server_text = "its fixed server share" if not move_f_user[k] else "the whole available server"
        return Infeasible(
            f"user {k} is infeasible at every one of its splits even with {band_text} ({caps_b[k]:.6g} Hz) and "
            f"{server_text} ({caps_f[k]:.6g} Hz)",
            True,
        )
    # --- start: each user's best option of a menu at prices that clear both resources (model.md 13.4)
    # how much of what is shared each candidate needs at least (its share floors; the fixed shares do not count)
    with np.errstate(invalid="ignore", divide="ignore"):
        need_b = np.where(move_b_user[pool.user], pool.floor_band / max(band_avail, 1e-300), 0.0)
        need_f = np.where(move_f_user[pool.user], pool.floor_server / max(server_avail, 1e-300), 0.0)
    need = np.where(ok, need_b + need_f, np.inf)
    cand, menu_band, menu_server = _menu_start(pool, ok, n_users, move_b_user, move_f_user, caps_b, caps_f,
                                               band_avail, server_avail)  # fmt: skip
    start = _fit(pool, cand, menu_band, menu_server, fixed_band, fixed_server, band_avail, server_avail)
    if start is None:
        # fall back to the least demanding candidate of every user
        for k in range(n_users):
            idx = np.flatnonzero(pool.user == k)
            cand[k] = idx[np.argmin(need[idx])]
        start = _start(pool, cand, fixed_band, fixed_server, band_avail, server_avail)
    if start is None:
        return _infeasibility(pool, ok, n_users, caps_b, caps_f, band_avail, server_avail, move_b_user, move_f_user)
    alloc = _allocate(pool, cand, start, move_b_user, move_f_user)
    return _design(cand, alloc, 0, alloc.iterations)


def start_from(
    pool: Pool,
    cand: Array,
    band: Array,
    server: Array,
    fixed_band: Array,
    fixed_server: Array,
    band_avail: float,
    server_avail: float,
) -> Design | None:
    """The design Newton reaches from the given candidates and shares (fitted to the available resources by
    :func:`_fit`), or ``None`` when no feasible start is found for them. The fitted start itself is returned
    instead when Newton ends above it (it never should: its line search only descends), so that the result is
    never worse than the start (model.md 13.4, starts)."""
    start = _fit(pool, cand, band, server, fixed_band, fixed_server, band_avail, server_avail)
    if start is None:
        return None
    alloc = _allocate(pool, cand, start, np.isnan(fixed_band), np.isnan(fixed_server))
    found = _design(cand, alloc, 0, alloc.iterations)
    values = pool.values(cand, start[0], start[1])
    if np.isfinite(values).all() and float(np.sum(pool.weight[cand] * values)) < found.objective(pool):
        found.band, found.server, found.values = start[0].copy(), start[1].copy(), values
    return found


def try_offers(
    pool: Pool,
    design: Design,
    offers: tuple[Array, Array, Array, Array, Array],
    fixed_band: Array,
    fixed_server: Array,
    band_avail: float,
    server_avail: float,
) -> Design | None:
    """A better design from switching users to offered candidates, or ``None`` (model.md 13.4, split rounds).

    ``offers`` = ``(user, cand, band, server, priced)``: a candidate of a user that reaches the priced value
    ``priced`` at the shares ``(band, server)`` at the design's prices, below the user's current one (from the
    certificate). The gain at fixed prices overstates what a switch is worth when it moves a large share: the
    others absorb the change along the curvature of their total value, estimated from the last Newton system
    (:func:`_estimate`). Tried in turn, each a Newton allocation: the best offer of every user together, the
    top half, quarter, ... of them, then single offers in order of estimated gain; the first that lowers the
    objective is kept.
    """
    move_b_user = np.isnan(fixed_band)
    move_f_user = np.isnan(fixed_server)
    lam, pi = max(design.band_price, 0.0), max(design.server_price, 0.0)
    w_user = pool.weight[design.cand]
    mb = move_b_user & pool.band[design.cand]
    mf = move_f_user & pool.server[design.cand]
    priced_now = w_user * design.values + lam * design.band * mb + pi * design.server * mf
    now_b = np.where(mb, design.band, 0.0)
    now_f = np.where(mf, design.server, 0.0)
    ou, oc, ob, of, op = offers
    ob = np.where(move_b_user[ou] & pool.band[oc], ob, 0.0)
    of = np.where(move_f_user[ou] & pool.server[oc], of, 0.0)
    found: list = []
    _add_offers(found, ou, oc, ob, of, op, priced_now, now_b, now_f, design.spread)
    if not found:
        return None
    tol = _IMPROVEMENT * max(abs(design.objective(pool)), 1e-300)
    found.sort(key=lambda o: -o[4])
    ranked: list = []
    seen: dict[int, int] = {}
    for o in found:
        seen[o[0]] = seen.get(o[0], 0) + 1
        if seen[o[0]] <= _OFFERS_PER_USER:
            ranked.append((seen[o[0]], o))
    ranked.sort(key=lambda t: (t[0], -t[1][4]))
    firsts = [o for rank, o in ranked if rank == 1 and o[4] > tol]
    singles = [o for _, o in ranked][:_SINGLE_TRIES]
    groups: list[list] = []
    count = len(firsts)
    while count >= 2:
        groups.append(firsts[:count])
        count //= 2
    groups += [[o] for o in singles]
    iterations = design.newton_iterations
    for group in groups:
        cand = design.cand.copy()
        band = design.band.copy()
        server = design.server.copy()
        for k, c, b, f, _, _ in group:
            cand[k] = c
            band[k] = b if b > 0 else band[k]
            server[k] = f if f > 0 else server[k]
        start = _fit(pool, cand, band, server, fixed_band, fixed_server, band_avail, server_avail)
        if start is None:
            continue
        alloc = _allocate(pool, cand, start, move_b_user, move_f_user)
        iterations += alloc.iterations
        trial = _design(cand, alloc, design.rounds + 1, iterations)
        if trial.objective(pool) < design.objective(pool) - tol:
            return trial
    design.newton_iterations = iterations
    return None


def _estimate(priced_gain: Array, released: Array, spread: Array) -> Array:
    """Objective change estimated for switches with gains ``priced_gain`` at the current prices that release the
    resources ``released`` (n x 2, Hz; negative: take more): to second order the others absorb them along the
    curvature ``spread^-1`` of their total value, so ``gain - released' spread^-1 released / 2``."""
    try:
        curvature = np.linalg.pinv(spread)
    except np.linalg.LinAlgError:
        return priced_gain
    second = 0.5 * np.einsum("ni,ij,nj->n", released, curvature, released)
    return priced_gain - np.maximum(second, 0.0)


def _add_offers(offers: list, users, cands, band, server, priced, priced_now, now_band, now_server, spread) -> None:
    """Append ``(user, cand, band, server, estimated gain)`` of every offer with a positive priced gain."""
    gain = priced_now[users] - priced
    released = np.stack([now_band[users] - band, now_server[users] - server], axis=1)
    est = _estimate(gain, np.nan_to_num(released), spread)
    for i in np.flatnonzero(gain > 0):
        offers.append((int(users[i]), int(cands[i]), float(band[i]), float(server[i]), float(est[i]),
                       float(gain[i])))  # fmt: skip


def _design(cand: Array, alloc: Allocation, rounds: int, iterations: int) -> Design:
    return Design(cand.copy(), alloc.band, alloc.server, alloc.values, alloc.band_price, alloc.server_price, rounds,
                  iterations, alloc.walled, alloc.spread)  # fmt: skip


def _allocate(pool: Pool, cand: Array, start: tuple[Array, Array], move_b_user: Array, move_f_user: Array,
              polish: bool = False):  # fmt: skip
    mb = move_b_user & pool.band[cand]
    mf = move_f_user & pool.server[cand]
    return allocate(pool, cand, start[0], start[1], mb, mf, polish=polish)


def polished(pool: Pool, design: Design, fixed_band: Array, fixed_server: Array, band_avail: float,
             server_avail: float) -> Design:  # fmt: skip
    """``design`` allocated again with the polish of :func:`~._multiuser_alloc.allocate` (repositioning on kinks
    and walls, transfers, trades), kept if that lowers the objective. A polish that leaves part of a resource
    unused (a user repositioned to less of it that nobody took) is followed by one more polished allocation from
    its shares scaled up to the totals (no user's value rises with its shares)."""
    move_b_user, move_f_user = np.isnan(fixed_band), np.isnan(fixed_server)
    alloc = _allocate(pool, design.cand, (design.band, design.server), move_b_user, move_f_user, polish=True)
    better = _design(design.cand, alloc, design.rounds, design.newton_iterations + alloc.iterations)
    mb = move_b_user & pool.band[design.cand]
    mf = move_f_user & pool.server[design.cand]
    unused = (mb.any() and float(np.sum(better.band[mb])) < band_avail * (1 - 1e-9)) or (
        mf.any() and float(np.sum(better.server[mf])) < server_avail * (1 - 1e-9)
    )
    if unused:
        filled = _fit(pool, design.cand, better.band, better.server, fixed_band, fixed_server, band_avail,
                      server_avail)  # fmt: skip
        if filled is not None:
            alloc = _allocate(pool, design.cand, filled, move_b_user, move_f_user, polish=True)
            again = _design(design.cand, alloc, design.rounds, better.newton_iterations + alloc.iterations)
            if again.objective(pool) < better.objective(pool):
                better = again
    return better if better.objective(pool) < design.objective(pool) else design


def _start(pool, cand, fixed_band, fixed_server, band_avail, server_avail):
    move_b = np.isnan(fixed_band) & pool.band[cand]
    move_f = np.isnan(fixed_server) & pool.server[cand]
    fb = np.where(np.isnan(fixed_band), max(band_avail, 1e-300), fixed_band)
    ff = np.where(np.isnan(fixed_server), max(server_avail, 1e-300), fixed_server)
    return feasible_start(pool, cand, band_avail, server_avail, move_b, move_f, fb, ff)


def _fit(pool, cand, band, server, fixed_band, fixed_server, band_avail, server_avail):
    """Shares near ``(band, server)`` that fit the available resources and keep every user feasible: scaled
    down to the sums if needed (and up to use all of each), else a fresh :func:`feasible_start`."""
    move_b = np.isnan(fixed_band) & pool.band[cand]
    move_f = np.isnan(fixed_server) & pool.server[cand]
    band = np.where(move_b, band, np.where(np.isnan(fixed_band), band_avail, fixed_band))
    server = np.where(move_f, server, np.where(np.isnan(fixed_server), server_avail, fixed_server))
    for share, avail, move in ((band, band_avail, move_b), (server, server_avail, move_f)):
        total = float(np.sum(share[move]))
        if move.any() and total > 0:
            share[move] *= avail / total * (1 - 1e-15)
    if np.isfinite(pool.values(cand, band, server)).all():
        return band, server
    return _start(pool, cand, fixed_band, fixed_server, band_avail, server_avail)


def _infeasibility(pool, ok, n_users, caps_b, caps_f, band_avail, server_avail, move_b_user, move_f_user) -> Infeasible:
    """Why no start was found: proven when even the least band (server) each user needs, each with the whole
    other resource and the split that needs least of it, exceeds what is available; otherwise not proven."""
    least_b = np.full(n_users, np.inf)
    least_f = np.full(n_users, np.inf)
    np.minimum.at(least_b, pool.user[ok], np.where(pool.band[ok], pool.floor_band[ok], 0.0))
    np.minimum.at(least_f, pool.user[ok], np.where(pool.server[ok], pool.floor_server[ok], 0.0))
    need_b = float(np.sum(least_b[move_b_user]))
    need_f = float(np.sum(least_f[move_f_user]))
    if need_b > band_avail:
        return Infeasible(
            f"the users' least band shares (latency floors, each user with the whole server) sum to {need_b:.6g} Hz, "
            f"more than the available band {band_avail:.6g} Hz", True)  # fmt: skip
    if need_f > server_avail:
        return Infeasible(
            f"the users' least server shares (latency floors, each user with the whole band) sum to {need_f:.6g} Hz, "
            f"more than the available server {server_avail:.6g} Hz", True)  # fmt: skip
    return Infeasible(
        "no shares were found at which every user meets its budgets, and infeasibility is not proven (the users' "
        f"least shares sum to {need_b:.6g} of {band_avail:.6g} Hz of band and {need_f:.6g} of {server_avail:.6g} Hz "
        "of server)", False)  # fmt: skip
