"""Every user's candidate splits as rows of the compiled single-user solver (model.md section 13.3).

A :class:`Pool` holds one kernel row per (user, candidate split): the user's single-user
:class:`~coinfer.model.system.Problem` for that split. Its :meth:`Pool.values` solves chosen candidates at
given shares of band ``B_k`` and server cycles ``F_k`` by writing the shares into the rows' ``bandwidth`` and
``f_server_max`` columns and running the compiled steps of :func:`coinfer.optimise.solve` on all of them in one
call, without building a ``Problem`` per solve. Whatever the single-user model holds (fields added to
``Problem`` later included) therefore flows into every evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from coinfer.model import arithmetic
from coinfer.model.arithmetic import LN2
from coinfer.model.system import Problem
from coinfer.optimise import kernel
from coinfer.optimise.batch import kernel_rows, solve_kernel_rows

Array = np.ndarray

#: The kernel row columns of the two shares.
_BAND_COLUMN = arithmetic.R_BANDWIDTH
_SERVER_COLUMN = arithmetic.R_FMAX + 1  # device at R_*, server at R_* + 1 (arithmetic.ROW_FIELDS)


@dataclass
class Pool:
    """The candidates of every user, as kernel rows, and what each needs (model.md section 13).

    ``user[c]`` is the user of candidate ``c``, ``weight[c]`` that user's objective weight ``w_k``;
    ``band[c]`` whether candidate ``c`` sends bits (its optimum depends on ``B_k``), ``server[c]`` whether it
    runs cycles on the server (its optimum depends on ``F_k``). ``floor_*`` are lower bounds on the shares
    that candidate needs to be feasible, from the latency floor of model.md section 5.7 (every pruned side at
    ``rho_max``, full resources): ``floor_band[c]`` with the whole server, ``floor_server[c]`` with the whole
    band. ``flat[c]`` is the candidate's least objective (every ratio at its flat point), a lower bound of its
    value at any share. ``cycles[c]`` holds ``(a_d, g_d, a_s, g_s)``: each side runs ``a (1 - rho) + g`` cycles
    (:meth:`coinfer.model.system.Problem.cycles`, read once).
    """

    problems: list[Problem]
    cycles: Array
    user: Array
    weight: Array
    band: Array
    server: Array
    floor_band: Array
    floor_server: Array
    flat: Array
    band_total: float
    server_total: float
    rows: Array
    table: Array
    keys: Array
    logits: Array
    #: Per changed field, its value per candidate (:meth:`derive`); :meth:`problem` applies them.
    _changes: dict[str, Array] = field(default_factory=dict)
    #: The last :meth:`at_caps` answer: ``(key, code, out)``.
    _caps: tuple[tuple[bytes, bytes], Array, Array] | None = None

    @classmethod
    def build(
        cls,
        candidates: Sequence[Sequence[Problem]],
        weights: Sequence[float] | np.ndarray,
        band_total: float,
        server_total: float,
    ) -> Pool:
        """A pool of ``candidates[k]`` (user ``k``'s split problems) with user weights ``weights``."""
        problems = [p for user in candidates for p in user]
        user = np.array([k for k, user_c in enumerate(candidates) for _ in user_c], dtype=np.int64)
        rows = kernel_rows(problems)
        return cls._of_rows(problems, {}, rows.rows, rows.table, rows.keys, rows.logits, user,
                            np.asarray(weights, dtype=float)[user], band_total, server_total)  # fmt: skip

    @classmethod
    def _of_rows(cls, problems: list[Problem], changes: dict[str, Array], rows: Array, table: Array, keys: Array,
                 logits: Array, user: Array, weight: Array, band_total: float, server_total: float,
                 floors: tuple[Array, Array, Array] | None = None) -> Pool:  # fmt: skip
        """The pool of kernel ``rows`` (``problems[c]`` with the fields ``changes`` set is candidate ``c``'s
        problem): every per-candidate number is derived from the rows, as ``Problem`` derives it
        (:func:`coinfer.model.arithmetic.model_numbers_rows`, the arithmetic of ``Problem.cycles``); the share
        floors are ``floors`` where given (those of rows equal in every column :func:`share_floors` reads)."""
        m = arithmetic.model_numbers_rows(rows)
        cycles = m[:, [arithmetic.A_D, arithmetic.G_D, arithmetic.A_S, arithmetic.G_S]]
        band = rows[:, arithmetic.R_S_BITS] > 0
        server = cycles[:, 2] + cycles[:, 3] > 0
        if floors is None or not np.array_equal(cycles, floors[2], equal_nan=True):
            floor_band, floor_server = share_floors(rows, cycles, band_total, server_total)
        else:
            floor_band, floor_server = floors[0], floors[1]
        flat = _least_objective(rows)
        pool = cls(
            problems, cycles, user, weight, band, server, floor_band, floor_server, flat, float(band_total),
            float(server_total), rows, table, keys, logits,
        )  # fmt: skip
        pool._changes = changes
        return pool

    def derive(self, changes: Mapping[str, float | Array], keep: Array | None = None,
               weights: Array | None = None) -> Pool:  # fmt: skip
        """The pool of the candidates ``keep`` (all by default) with the problem fields ``changes`` set (a value,
        or one per kept candidate) and the user weights ``weights`` (by default this pool's), without building a
        ``Problem``: the rows' columns are set, and everything else is derived from them as :meth:`build` derives
        it from the changed problems (model.md 13.7: the baselines are the joint problem with some fields
        changed)."""
        keep = np.arange(len(self.user)) if keep is None else np.asarray(keep, dtype=np.int64)
        rows = self.rows[keep].copy()
        merged = {name: value[keep] for name, value in self._changes.items()}
        for name, value in changes.items():
            rows[:, arithmetic.ROW_FIELDS.index(name)] = value
            merged[name] = np.broadcast_to(np.asarray(value), (len(keep),)).copy()
        problems = [self.problems[c] for c in keep.tolist()]
        user = self.user[keep]
        weight = self.weight[keep] if weights is None else np.asarray(weights, dtype=float)[user]
        # the floors read only some columns (and the cycles, compared when the pool is built): kept where no change
        # touches them
        floors = None
        if not set(changes) & set(_FLOOR_FIELDS):
            floors = (self.floor_band[keep], self.floor_server[keep], self.cycles[keep])
        return Pool._of_rows(problems, merged, rows, self.table[keep], self.keys, self.logits, user, weight,
                             self.band_total, self.server_total, floors)  # fmt: skip

    @property
    def size(self) -> int:
        """The number of candidates."""
        return len(self.user)

    def problem(self, c: int, **fields: float) -> Problem:
        """Candidate ``c``'s single-user problem (with the fields its pool was derived with), ``fields`` set."""
        changes = {name: value[c].item() for name, value in self._changes.items()}
        changes.update(fields)
        return self.problems[c].replace(**changes) if changes else self.problems[c]

    def at_caps(self, caps_b: Array, caps_f: Array) -> tuple[Array, Array]:
        """``(code, out)`` of every candidate with its user's caps ``caps_b``, ``caps_f`` (Hz, per user): the
        solve of :meth:`solve`, kept for the last caps asked (the search and every certificate ask for it)."""
        key = (caps_b.tobytes(), caps_f.tobytes())
        if self._caps is None or self._caps[0] != key:
            code, out = self.solve(np.arange(self.size), caps_b[self.user], caps_f[self.user])
            self._caps = (key, code, out)
        return self._caps[1], self._caps[2]

    def solve(self, cand: Array, band: Array, server: Array) -> tuple[Array, Array]:
        """``(code, out)`` of candidates ``cand`` at shares ``band`` (Hz) and ``server`` (Hz), element by element.

        A candidate that sends nothing is solved with the whole band and one that runs nothing on the server
        with the whole server (the share has no effect there).
        """
        cand = np.asarray(cand, dtype=np.int64)
        rows = self.rows[cand].copy()
        rows[:, _BAND_COLUMN] = np.where(self.band[cand], band, self.band_total)
        rows[:, _SERVER_COLUMN] = np.where(self.server[cand], server, self.server_total)
        return solve_kernel_rows(rows, self.table[cand], self.keys, self.logits)

    def values(self, cand: Array, band: Array, server: Array) -> Array:
        """The single-user optimal objective (weight units) of each candidate at its shares; ``inf`` where
        infeasible, and where the polish leaves a budget broken by a few ulps (``kernel.TO_POLISH``: the shares sit
        on the user's wall; the search stays just inside it) or the compiled solver reports an error."""
        code, out = self.solve(cand, band, server)
        return np.where(code == kernel.OPTIMAL, out[:, kernel.O_OBJECTIVE], np.inf)


def priced_floors(pool: Pool, lam: float, pi: float, band: Array, server: Array) -> Array:
    """``lambda B_floor + pi F_floor`` of every candidate on the shares it is charged for (``band`` / ``server``
    masks): a lower bound of what its feasible shares cost at these prices (0 where a price is 0)."""
    cost = np.zeros(pool.size)
    if lam > 0:
        cost += np.where(band, lam * pool.floor_band, 0.0)
    if pi > 0:
        cost += np.where(server, pi * pool.floor_server, 0.0)
    return cost


def _least_objective(rows: Array) -> Array:
    """Per row, the objective with every ratio at its flat point: no design has a smaller one (model.md 5.1;
    the flat point of ``rd_bound`` has ``D = b 2^-q``, ``magnitude`` is 0 at ``rho = 0``; a side with FLOPs but no
    parameters has no weight in the objective)."""
    params_d, params_s = rows[:, arithmetic.R_PARAMS], rows[:, arithmetic.R_PARAMS + 1]
    scale_d, scale_s = rows[:, arithmetic.R_SCALE], rows[:, arithmetic.R_SCALE + 1]
    magnitude = rows[:, arithmetic.R_CHOICES].astype(int) & 1 > 0
    unit = np.where(magnitude, 0.0, np.exp2(-rows[:, arithmetic.R_Q]))
    return unit * (params_d * scale_d + params_s * scale_s) / (params_d + params_s)


#: The problem fields whose row columns :func:`share_floors` reads (besides the cycles).
_FLOOR_FIELDS = ("latency_budget", "rho_max", "f_device_max", "feature_bits", "p_max", "channel_gain", "noise_psd")


def share_floors(rows: Array, cycles: Array, band_total: float, server_total: float) -> tuple[Array, Array]:
    """Per candidate: the least band (with the whole server) and the least server share (with the whole band) at
    which its latency floor fits its budget; ``inf`` where it does not fit even then, 0 for a share it does not
    use.

    The latency floor of model.md section 5.7 is ``t_d + S / r(P_max; B) + W_s / F`` with every pruned side at
    ``rho_max`` and the device at ``f_d^max``. It is a lower bound of the latency of every decision, so no
    feasible share lies below these floors (they are lower bounds of the true least shares, which the energy
    budget can only raise). ``rows`` are kernel rows, ``cycles`` the ``(a_d, g_d, a_s, g_s)`` of :class:`Pool`.
    """
    n = len(rows)
    t0 = rows[:, arithmetic.R_T0]
    rho = rows[:, arithmetic.R_RHO_MAX]
    w_d = cycles[:, 0] * (1 - rho) + cycles[:, 1]
    w_s = cycles[:, 2] * (1 - rho) + cycles[:, 3]
    t_d = np.where(w_d > 0, w_d / rows[:, arithmetic.R_FMAX], 0.0)
    bits = rows[:, arithmetic.R_S_BITS]
    snr_hz = rows[:, arithmetic.R_PMAX] * rows[:, arithmetic.R_GAIN] / rows[:, arithmetic.R_NOISE_PSD]  # P g / N0 (Hz)

    def t_tx(band: Array) -> Array:
        with np.errstate(divide="ignore"):
            return np.where(bits > 0, bits * LN2 / (band * np.log1p(snr_hz / band)), 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        room_s = t0 - t_d - t_tx(np.full(n, band_total))
        floor_server = np.where(w_s > 0, np.where(room_s > 0, w_s / room_s, np.inf), 0.0)
        room_b = t0 - t_d - np.where(w_s > 0, w_s / server_total, 0.0)
    # t_tx decreases in B: bisection in log B on [B_total 1e-30, B_total] keeps `low` below the least band
    fits = (bits > 0) & (room_b > 0) & (t_tx(np.full(n, band_total)) <= room_b)
    low = np.full(n, band_total * 1e-30)
    high = np.full(n, band_total)
    for _ in range(110):  # 69 decades halve to a relative 1e-12 in about 100 steps
        mid = np.sqrt(low * high)
        ok = t_tx(mid) <= room_b
        high = np.where(ok, mid, high)
        low = np.where(ok, low, mid)
    floor_band = np.where(bits > 0, np.where(fits, low, np.inf), 0.0)
    return floor_band, floor_server
