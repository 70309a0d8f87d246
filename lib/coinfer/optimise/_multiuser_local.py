"""The independent check of the multi-user solver: SLSQP from many starts on the original variables (model.md 13.6).

Per user, for one split: the ratios ``rho_d, rho_s``, the transmit power ``p``, the device frequency ``f_d``, the
server frequency ``f_s`` (which is the user's server share: its server part runs at it, and the shares add up,
``sum_k f_s,k <= F``) and the band share ``B_k`` (``sum_k B_k <= B``). Latency, energy and distortion are written
here from the formulas of model.md section 2 (not through the compiled solver or the change of variables of
section 5.2), each variable scaled to ``[0, 1]`` of its range. SciPy's SLSQP runs from seeded random starts and
from equal shares; the best point that meets every constraint to a relative ``1e-9`` is kept. With several
candidate splits per user every assignment is solved (so this is for a handful of users and splits only).

It finds local minima only: it is a check of :func:`~coinfer.optimise.solve_multiuser` (two methods that share
no code agree), not a solver with a guarantee.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import minimize

from coinfer.base.validation import ParameterError
from coinfer.model.arithmetic import LN2
from coinfer.model.system import Problem

Array = np.ndarray

#: Smallest scaled value of a frequency, power or share (times its range): keeps times finite.
_TINY = 1e-9
#: Relative violation of a constraint accepted at the end.
_FEASIBLE_RTOL = 1e-9


class _Users:
    """The numbers of one split assignment, as arrays over users (model.md section 2)."""

    def __init__(self, problems: list[Problem], weights: Array, band: float, server: float,
                 fixed_band: Array, fixed_server: Array):  # fmt: skip
        self.k = len(problems)
        get = lambda name: np.array([getattr(p, name) for p in problems], dtype=float)  # noqa: E731
        cyc = np.array([(*p.cycles("device"), *p.cycles("server")) for p in problems]).reshape(-1, 4)
        self.a_d, self.g_d, self.a_s, self.g_s = cyc.T
        self.k_d = get("pue_device") * get("psi_device")
        self.fmax_d = get("f_device_max")
        self.rho_max = get("rho_max")
        self.pmax = get("p_max")
        self.bits = get("feature_bits")
        self.n0_over_g = get("noise_psd") / get("channel_gain")
        self.t0 = get("latency_budget")
        self.e0 = get("energy_budget")
        total = get("params_device") + get("params_server")
        self.c_d = get("params_device") * get("scale_device") / total
        self.c_s = get("params_server") * get("scale_server") / total
        self.magnitude = np.array([p.distortion_model == "magnitude" for p in problems])
        self.q = get("bits_per_weight")
        self.shared = np.array([p.shared_ratio for p in problems])
        self.w = weights
        self.band, self.server = band, server
        self.fixed_band, self.fixed_server = fixed_band, fixed_server
        self.band_cap = np.where(np.isnan(fixed_band), band, fixed_band)
        self.server_cap = np.where(np.isnan(fixed_server), server, fixed_server)

    def unpack(self, x: Array):
        """Original variables from the scaled ``x`` (6 per user)."""
        z = x.reshape(self.k, 6)
        rho_d = z[:, 0] * self.rho_max
        rho_s = np.where(self.shared, rho_d, z[:, 1] * self.rho_max)
        p = np.maximum(z[:, 2], _TINY) * self.pmax
        f_d = np.maximum(z[:, 3], _TINY) * self.fmax_d
        f_s = np.maximum(z[:, 4], _TINY) * self.server_cap
        b = np.maximum(z[:, 5], _TINY) * self.band_cap
        return rho_d, rho_s, p, f_d, f_s, b

    def terms(self, x: Array):
        """``(distortion per user, latency, energy)`` in the original variables (model.md sections 2, 5.1)."""
        rho_d, rho_s, p, f_d, f_s, b = self.unpack(x)
        w_d = self.a_d * (1 - rho_d) + self.g_d
        w_s = self.a_s * (1 - rho_s) + self.g_s
        t_d = np.where(w_d > 0, w_d / f_d, 0.0)
        t_s = np.where(w_s > 0, w_s / f_s, 0.0)
        rate = b * np.log1p(p / (self.n0_over_g * b)) / LN2
        t_tx = np.where(self.bits > 0, self.bits / rate, 0.0)
        e_d = np.where(w_d > 0, self.k_d * w_d * f_d**2, 0.0)
        e_tx = np.where(self.bits > 0, p * t_tx, 0.0)
        latency = t_d + t_tx + t_s
        energy = e_d + e_tx  # energy scope "device": the server's energy is not in the user's budget
        distortion = self.c_d * _unit(rho_d, self.magnitude, self.q) + self.c_s * _unit(rho_s, self.magnitude, self.q)
        return distortion, latency, energy


def _unit(rho: Array, magnitude: Array, q: Array) -> Array:
    """``D_model / b`` (model.md sections 4.2-4.4): ``2^-min(h2 + (1 - rho) q, q)`` or
    ``rho + (1 - rho) ln(1 - rho)``."""
    rho = np.clip(rho, 0.0, 1.0 - 1e-16)
    h2 = -np.where(rho > 0, rho * np.log2(np.where(rho > 0, rho, 1.0)), 0.0) - (1 - rho) * np.log2(1 - rho)
    rd = np.exp2(-np.minimum(h2 + (1 - rho) * q, q))
    mag = rho + (1 - rho) * np.log1p(-rho)
    return np.where(magnitude, mag, rd)


def solve_assignment(users: _Users, *, starts: int, seed: int) -> tuple[float, Array] | None:
    """The best ``(objective, x)`` of SLSQP from ``starts`` seeded random starts and one of equal shares."""
    k = users.k
    rng = np.random.default_rng(seed)
    obj_scale = float(np.sum(users.w * (users.c_d + users.c_s))) or 1.0
    move_b = np.isnan(users.fixed_band) & (users.bits > 0)
    move_f = np.isnan(users.fixed_server) & (users.a_s + users.g_s > 0)

    def objective(x: Array) -> float:
        return float(np.sum(users.w * users.terms(x)[0])) / obj_scale

    def constraints(x: Array) -> Array:
        _, latency, energy = users.terms(x)
        z = x.reshape(k, 6)
        sums = []
        if move_b.any():
            sums.append(1.0 - np.sum(np.where(move_b, z[:, 5] * users.band_cap, 0.0)) / users.band)
        if move_f.any():
            sums.append(1.0 - np.sum(np.where(move_f, z[:, 4] * users.server_cap, 0.0)) / users.server)
        return np.concatenate([1.0 - latency / users.t0, 1.0 - energy / users.e0, np.array(sums)])

    bounds = [(0.0, 1.0), (0.0, 1.0), (_TINY, 1.0), (_TINY, 1.0), (_TINY, 1.0), (_TINY, 1.0)] * k
    first = np.tile([0.5, 0.5, 1.0, 1.0, 1.0, 1.0], (k, 1))
    n_b, n_f = max(int(move_b.sum()), 1), max(int(move_f.sum()), 1)
    first[:, 4] = np.where(move_f, 1.0 / n_f, 1.0)
    first[:, 5] = np.where(move_b, 1.0 / n_b, 1.0)
    points = [first.ravel()]
    for _ in range(starts):
        z = rng.uniform(0.0, 1.0, (k, 6))
        z[:, 4] = np.where(move_f, z[:, 4] / max(np.sum(z[move_f, 4]), 1e-12), 1.0) * 0.999
        z[:, 5] = np.where(move_b, z[:, 5] / max(np.sum(z[move_b, 5]), 1e-12), 1.0) * 0.999
        points.append(np.clip(z.ravel(), [b[0] for b in bounds], [b[1] for b in bounds]))
    best: tuple[float, Array] | None = None
    for x0 in points:
        with np.errstate(all="ignore"):
            result = minimize(objective, x0, method="SLSQP", bounds=bounds,
                              constraints=[{"type": "ineq", "fun": constraints}],
                              options={"ftol": 1e-13, "maxiter": 400})  # fmt: skip
        x = result.x
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(constraints(x))) or constraints(x).min() < -_FEASIBLE_RTOL:
                continue
        value = objective(x) * obj_scale
        if best is None or value < best[0]:
            best = (value, x)
    return best


def local_search(problem, *, starts: int = 20, seed: int = 0, max_assignments: int = 64):
    """The best design over every split assignment (see the module docstring): ``(objective, assignment, x,
    users)`` or ``None`` when no start met the constraints."""
    users = problem.users
    counts = [len(u.splits) for u in users]
    total = math.prod(counts)
    if total > max_assignments:
        raise ParameterError(
            f"problem: {total} split assignments ({' x '.join(map(str, counts))}); the local reference solves at "
            f"most max_assignments={max_assignments}"
        )
    weights = problem.weights()
    fixed_band = np.array([np.nan if u.fixed_bandwidth is None else u.fixed_bandwidth for u in users])
    fixed_server = np.array([np.nan if u.fixed_f_server is None else u.fixed_f_server for u in users])
    band = problem.bandwidth - float(np.nansum(fixed_band))
    server = problem.f_server_max - float(np.nansum(fixed_server))
    best = None
    for assignment in itertools.product(*(range(c) for c in counts)):
        chosen = [u.splits[j] for u, j in zip(users, assignment, strict=True)]
        arrays = _Users(chosen, weights, band, server, fixed_band, fixed_server)
        found = solve_assignment(arrays, starts=starts, seed=seed)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], assignment, found[1], arrays)
    return best
