"""Many users, one edge server: shared band and server cycles (model.md section 13).

``K`` users, each with its own model, candidate splits, channel, device and budgets (a single-user
:class:`~coinfer.model.system.Problem` per candidate split), share the uplink band ``B`` by FDMA,
``sum_k B_k <= B``, and the server's cycles, ``sum_k F_k <= F`` (user ``k``'s server part runs at up to
``F_k``). Each user's energy budget is its battery (``energy_scope: device``). The objective is the weighted
sum of the users' distortion bounds (model.md section 13.1 for the weights), or their weighted maximum.

- :class:`MultiUserProblem` (with :class:`MultiUser`): the problem; :meth:`MultiUserProblem.from_dict` /
  :meth:`~MultiUserProblem.from_yaml` read a problem file (a ``users:`` list plus the shared fields).
- :func:`solve_multiuser`: every user's split, shares and single-user design, the prices of band and server
  cycles, and a certificate: a lower bound on the optimum by weak duality (the problem is not convex in the
  server shares, model.md 13.2), so the reported gap bounds the true one.
- :func:`solve_multiuser_local`: the independent check, a multi-start local solver (SciPy SLSQP) on the
  original variables of small instances (model.md 13.6).
- :data:`MULTIUSER_BASELINES` and :func:`solve_baseline`: equal shares, shares proportional to the workload,
  uncoordinated single-user designs, no pruning, a shared ratio (model.md 13.7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from coinfer.base.validation import ParameterError, read_yaml
from coinfer.base.validation import show_value as _show
from coinfer.model.arithmetic import R_BANDWIDTH, R_FMAX, R_S_BITS, ROW_FIELDS
from coinfer.model.system import DEFAULTS, PAPER_MODEL, Problem, accepted_fields
from coinfer.optimise import kernel
from coinfer.optimise._multiuser_dual import Parts, band_bounds, candidate_bounds
from coinfer.optimise._multiuser_pool import Pool
from coinfer.optimise._multiuser_pool import priced_floors as _priced_floors
from coinfer.optimise._multiuser_search import Design, Infeasible, polished, search, start_from, try_offers
from coinfer.optimise.batch import solve_batch
from coinfer.optimise.solution import Solution

#: The objectives of model.md 13.1: the weighted sum of the users' distortion bounds (the weighted maximum is
#: reserved: a file asking for it is refused).
OBJECTIVES = ("sum",)
#: How users are weighted (model.md 13.1): by prunable parameters (the mean distortion per weight over all
#: users), equally, or equally after normalising each user's distortion by its mean Laplace scale.
WEIGHTINGS = ("parameters", "users", "normalised")
#: Fields of a multi-user file besides ``users`` and the single-user fields shared by every user.
SHARED_FIELDS = ("bandwidth", "f_server_max", "objective", "weighting")
#: Per user, besides the single-user fields: a name, candidate splits (workload fields per split) and a label.
USER_FIELDS = ("name", "splits")
#: The workload fields a split of a user may set (the columns of ``profiles.csv``), plus its ``label``.
SPLIT_FIELDS = (
    "label", "flops_device", "flops_server", "flops_device_fixed", "flops_server_fixed", "params_device",
    "params_server", "scale_device", "scale_server", "feature_bits",
)  # fmt: skip
#: Relative duality gap under which an answer is reported ``optimal`` (model.md 13.5).
GAP_RTOL = 1e-6
#: Relative accuracy of the single-user solver's optimal values that the certificate allows for.
_SOLVER_RTOL = 1e-12
#: Rounds of certificate and split switches at most (model.md 13.4).
_MAX_ROUNDS = 8
#: How closely a split round bounds an offered candidate (relative).
_OFFER_RTOL = 1e-2


@dataclass(frozen=True)
class MultiUser:
    """One user: its candidate splits (single-user problems whose ``bandwidth`` and ``f_server_max`` are the
    largest shares the user can have) and an optional fixed share of band or server (Hz)."""

    splits: tuple[Problem, ...]
    labels: tuple[str, ...]
    name: str = ""
    fixed_bandwidth: float | None = None
    fixed_f_server: float | None = None

    @property
    def params(self) -> float:
        """Prunable parameters of the user's model (the same at every split)."""
        p = self.splits[0]
        return p.params_device + p.params_server

    @property
    def mean_scale(self) -> float:
        """The parameter-weighted mean Laplace scale ``b`` of the user's model (model.md section 5.1)."""
        p = self.splits[0]
        return (p.params_device * p.scale_device + p.params_server * p.scale_server) / self.params


@dataclass(frozen=True)
class MultiUserProblem:
    """``K`` users sharing a band of ``bandwidth`` Hz and a server of ``f_server_max`` Hz (model.md 13.1)."""

    users: tuple[MultiUser, ...]
    bandwidth: float
    f_server_max: float
    objective: str = "sum"
    weighting: str = "parameters"

    def __post_init__(self) -> None:
        errors = _problem_errors(self)
        if errors:
            raise ParameterError.from_lines(errors)
        # the server's clock floor is the socket's (model.md 13.1): the server runs at the total, at or above the
        # floor (checked above), and a user's share is a part of its cycles, which may be below the floor
        if any(p.f_server_min > 0 for u in self.users for p in u.splits):
            users = tuple(replace(u, splits=tuple(p.replace(f_server_min=0.0) for p in u.splits)) for u in self.users)
            object.__setattr__(self, "users", users)

    @classmethod
    def from_users(
        cls,
        users: Sequence[Sequence[Problem] | MultiUser],
        bandwidth: float,
        f_server_max: float,
        *,
        objective: str = "sum",
        weighting: str = "parameters",
        names: Sequence[str] | None = None,
    ) -> MultiUserProblem:
        """A problem from each user's candidate split problems or ready :class:`MultiUser` objects (model.md 13.1).

        Parameters
        ----------
        users : sequence of (sequence of Problem or MultiUser)
            Per user, its candidate split problems (their own ``bandwidth`` and ``f_server_max`` are replaced by
            the totals; labels ``"0"``, ``"1"``, ...) or a ready :class:`MultiUser`, taken as is.
        bandwidth : float
            The band the users share [Hz].
        f_server_max : float
            The server's clock the users share [Hz].
        objective : str, default "sum"
            One of :data:`OBJECTIVES`.
        weighting : str, default "parameters"
            One of :data:`WEIGHTINGS`.
        names : sequence of str, optional
            The users' names (``"user k"`` by default; not used for a ready :class:`MultiUser`).

        Returns
        -------
        MultiUserProblem
            The checked problem.

        Raises
        ------
        ParameterError
            Where a field is out of its range (one line per problem).
        """
        built = []
        for k, user in enumerate(users):
            if isinstance(user, MultiUser):
                built.append(user)
                continue
            splits = tuple(p.replace(bandwidth=bandwidth, f_server_max=f_server_max) for p in user)
            name = names[k] if names is not None else f"user {k}"
            built.append(MultiUser(splits, tuple(str(s) for s in range(len(splits))), name))
        return cls(tuple(built), float(bandwidth), float(f_server_max), objective, weighting)

    @classmethod
    def from_dict(cls, data: Any) -> MultiUserProblem:
        """Read a multi-user problem file's mapping (model.md 13.8).

        Parameters
        ----------
        data : mapping
            The parsed file: a ``users:`` list (each user's name and candidate ``splits``) plus the shared fields
            :data:`SHARED_FIELDS` (``bandwidth`` [Hz], ``f_server_max`` [Hz], ``objective``, ``weighting``) and the
            single-user fields every user shares.

        Returns
        -------
        MultiUserProblem
            The checked problem.

        Raises
        ------
        ParameterError
            Where the mapping is bad: every problem found becomes one line of the message.
        """
        return _from_dict(data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> MultiUserProblem:
        """Read a multi-user YAML problem file (model.md 13.8).

        Parameters
        ----------
        path : str or pathlib.Path
            The file [path].

        Returns
        -------
        MultiUserProblem
            The checked problem (:meth:`from_dict` of the file's mapping).

        Raises
        ------
        ParameterError
            Where the file is missing, unreadable, empty or bad.
        """
        data = read_yaml(path, "file")
        if data is None:
            raise ParameterError(f"file: got {str(path)!r}; it is empty, expected a YAML mapping with a users: list")
        return cls.from_dict(data)

    def weights(self) -> np.ndarray:
        """Each user's weight ``w_k`` in the objective (model.md 13.1).

        Returns
        -------
        numpy.ndarray
            One weight per user: its share of all prunable parameters with ``weighting: parameters``, ``1 / K``
            with ``users`` [1]; ``1 / (K b_k)``, ``b_k`` the user's mean Laplace scale, with ``normalised``
            [1 / weight units].
        """
        return _weights(self.users, self.weighting)

    def restrict_splits(self, chosen: Sequence[int]) -> MultiUserProblem:
        """The same users, each with only one of its candidate splits.

        Parameters
        ----------
        chosen : sequence of int
            Per user, the index of the split to keep among its candidates [index].

        Returns
        -------
        MultiUserProblem
            The restricted problem (labels kept).
        """
        users = tuple(replace(u, splits=(u.splits[j],), labels=(u.labels[j],))
                      for u, j in zip(self.users, chosen, strict=True))  # fmt: skip
        return replace(self, users=users)


@dataclass(frozen=True)
class UserAnswer:
    """One user's part of the answer: its split (index and label), shares (Hz) and single-user answer."""

    name: str
    split: int | None
    label: str | None
    bandwidth: float | None
    f_server: float | None
    weight: float
    solution: Solution

    def as_dict(self) -> dict:
        """The user's answer as a JSON-ready dict (model.md 13.8).

        Returns
        -------
        dict
            ``name``, ``split``, ``split_label``, ``bandwidth_share`` [Hz], ``f_server_share`` [Hz] and ``weight``,
            then the fields of its single-user :meth:`Solution.as_dict <coinfer.optimise.Solution.as_dict>`.
        """
        answer = {
            "name": self.name,
            "split": self.split,
            "split_label": self.label,
            "bandwidth_share": self.bandwidth,
            "f_server_share": self.f_server,
            "weight": self.weight,
        }
        answer.update(self.solution.as_dict())
        return answer


@dataclass(frozen=True)
class MultiUserSolution:
    """The answer of :func:`solve_multiuser` (model.md 13.8).

    ``status``: ``optimal`` (the certified relative gap is at most :data:`GAP_RTOL`), ``feasible`` (a feasible
    design whose certified gap is larger, or that has no certificate), ``infeasible`` (``reason`` says why and
    whether that is proven) or ``solver_error``. ``objective`` is the weighted sum (or maximum) of the users'
    distortion bounds; ``lower_bound`` a lower bound of the optimum by weak duality at the prices
    ``band_price`` and ``server_price`` (weight units per Hz), so ``gap = objective - lower_bound`` bounds the
    true gap.
    """

    status: str
    objective: float | None = None
    lower_bound: float | None = None
    band_price: float | None = None
    server_price: float | None = None
    users: tuple[UserAnswer, ...] = ()
    reason: str | None = None
    band_used: float | None = None
    server_used: float | None = None
    rounds: int = 0
    newton_iterations: int = 0
    certificate_note: str | None = None

    @property
    def gap(self) -> float | None:
        """``objective - lower_bound`` (>= 0 up to rounding), or ``None`` without a certificate."""
        if self.objective is None or self.lower_bound is None:
            return None
        return self.objective - self.lower_bound

    @property
    def relative_gap(self) -> float | None:
        """:attr:`gap` relative to ``|objective|``."""
        gap = self.gap
        if gap is None or self.objective is None:
            return None
        return gap / abs(self.objective) if self.objective != 0 else (0.0 if gap <= 0 else math.inf)

    def as_dict(self) -> dict:
        """The answer as a JSON-ready dict (model.md 13.8).

        Returns
        -------
        dict
            ``status``, ``objective``, ``reason``, ``prices`` (band and server [objective units per Hz]),
            ``certificate`` (``lower_bound``, ``gap``, ``relative_gap``, ``note``), ``band_used`` and
            ``server_used`` [Hz], and ``users`` (each :meth:`UserAnswer.as_dict`).
        """
        return {
            "status": self.status,
            "objective": self.objective,
            "reason": self.reason,
            "prices": {"band": self.band_price, "server": self.server_price},
            "certificate": {
                "lower_bound": self.lower_bound,
                "gap": self.gap,
                "relative_gap": self.relative_gap,
                "note": self.certificate_note,
            },
            "band_used": self.band_used,
            "server_used": self.server_used,
            "users": [u.as_dict() for u in self.users],
        }


# --------------------------------------------------------------------------------------------- solve


def solve_multiuser(
    problem: MultiUserProblem,
    *,
    certificate: bool = True,
    gap_rtol: float = GAP_RTOL,
    starts: Sequence[MultiUserSolution] = (),
    baselines: bool | Mapping[str, MultiUserSolution] = True,
) -> MultiUserSolution:
    """Splits, shares of band and server, and every user's design for many users (model.md section 13).

    Parameters
    ----------
    problem : MultiUserProblem
        The users, the band ``B`` [Hz] and the server ``F`` [Hz] they share, the objective and the weights.
    certificate : bool, default True
        Compute the lower bound of model.md 13.5 (``False``: only the design, ``status`` at most ``feasible``).
    gap_rtol : float, default :data:`GAP_RTOL`
        Relative gap at which the certificate stops refining and the answer counts as ``optimal``.
    starts : sequence of MultiUserSolution, optional
        Further designs to start from (e.g. a baseline's answer on the same users): each user's split (by label)
        and shares; the search keeps the best design it reaches from any start (model.md 13.4).
    baselines : bool or mapping of str to MultiUserSolution, default True
        The baselines of :data:`MULTIUSER_BASELINES` (model.md 13.7), every one a restriction of the joint
        problem: each feasible baseline's design is one more start, so the answer is never worse than any of
        them (model.md 13.4). ``True``: every baseline is solved here (by :func:`solve_baseline`); a mapping
        of name to answer: those already solved on the same problem (the missing ones are solved here);
        ``False``: none (the search alone, no such guarantee).

    Returns
    -------
    MultiUserSolution
        Per user its split, shares [Hz] and single-user answer (:class:`~coinfer.optimise.Solution`, from
        :func:`~coinfer.optimise.solve_batch` at the user's shares, so every decision is checked in the original
        variables); the objective [weight units, or 1 with ``weighting: normalised``]; the prices of band and
        server [objective units per Hz] and the certified lower bound.

    Notes
    -----
    The band coupling is convex, the server coupling is not (model.md 13.2). The search (model.md 13.4) finds a
    KKT point of the shares by Newton's method for given splits, with the single-user compiled solver as its
    oracle, and improves the splits by rounds of switches priced at the KKT prices. The certificate (model.md
    13.5) is the dual function at those prices, whose inner minima are bounded by a decomposition over the
    server time. Both run every single-user solve through the compiled steps of
    :func:`~coinfer.optimise.solve_batch`.

    References
    ----------
    .. [1] S. Boyd and L. Vandenberghe, *Convex Optimization*, Cambridge University Press, 2004, section 5.2.2
       (weak duality).
    """
    given = dict(baselines) if isinstance(baselines, Mapping) else {}
    if baselines is not False:
        unknown = [name for name in given if name not in MULTIUSER_BASELINES]
        if unknown:
            raise ParameterError(f"baselines: got {unknown[0]!r}; allowed names " + ", ".join(MULTIUSER_BASELINES))
        # the baselines' designs are feasible joint designs: starting from each keeps the answer below them
    s = _setup(problem)
    if baselines is not False:
        # every baseline is solved on the joint problem's pool with some fields changed (no Problem is built)
        found = [given[name] if name in given else _baseline(problem, s, name) for name in MULTIUSER_BASELINES]
        starts = (*starts, *found)
    return _solve_sum(problem.users, s, certificate=certificate, gap_rtol=gap_rtol, starts=starts)


@dataclass
class _Setup:
    """The pool of every candidate and the fixed shares of a problem (model.md 13.3)."""

    pool: Pool
    fixed_band: np.ndarray
    fixed_server: np.ndarray
    band_avail: float
    server_avail: float
    weights: np.ndarray
    separable: bool = field(default=True)
    #: Every candidate in the paper's model (the certificate's decomposition is that model's, model.md 13.5).
    paper: bool = field(default=True)
    _parts: Parts | None = None
    #: Every certificate's per-candidate lower bounds and the prices they hold at (model.md 13.5): carried to a
    #: later round's prices, they settle most candidates without a solve.
    _bounds: list[tuple[np.ndarray, float, float]] = field(default_factory=list)

    @property
    def parts(self) -> Parts:
        """The certificate's per-candidate parts (:class:`~coinfer.optimise._multiuser_dual.Parts`), built once."""
        if self._parts is None:
            pool = self.pool
            self._parts = Parts.of(pool.rows, pool.table, pool.keys, pool.logits, pool.cycles)
        return self._parts

    def derive(self, changes: Mapping[str, Any], *, keep: np.ndarray | None = None,
               fixed_band: np.ndarray | None = None, fixed_server: np.ndarray | None = None,
               weights: np.ndarray | None = None) -> _Setup:  # fmt: skip
        """The setup of the same users with the single-user fields ``changes`` set on every candidate (a value,
        or one per kept candidate), only the candidates ``keep`` (all by default), and the fixed shares and user
        weights given (Hz per user, ``nan``: optimised; by default this setup's): :meth:`Pool.derive`, no
        ``Problem`` built."""
        weights = self.weights if weights is None else weights
        pool = self.pool.derive(changes, keep, weights)
        fb = self.fixed_band if fixed_band is None else fixed_band
        fs = self.fixed_server if fixed_server is None else fixed_server
        rows = pool.rows
        separable = not bool(np.any(rows[:, ROW_FIELDS.index("shared_ratio")] != 0))
        paper = all(bool(np.all(rows[:, ROW_FIELDS.index(name)] == value)) for name, value in PAPER_MODEL.items())
        return _Setup(pool, fb, fs, pool.band_total - float(np.nansum(fb)), pool.server_total - float(np.nansum(fs)),
                      weights, separable, paper)  # fmt: skip


def _setup(problem: MultiUserProblem, weights: np.ndarray | None = None) -> _Setup:
    w = problem.weights() if weights is None else weights
    pool = Pool.build([u.splits for u in problem.users], w, problem.bandwidth, problem.f_server_max)
    fixed_band = np.array([np.nan if u.fixed_bandwidth is None else u.fixed_bandwidth for u in problem.users])
    fixed_server = np.array([np.nan if u.fixed_f_server is None else u.fixed_f_server for u in problem.users])
    band_avail = problem.bandwidth - float(np.nansum(fixed_band))
    server_avail = problem.f_server_max - float(np.nansum(fixed_server))
    separable = not any(p.shared_ratio for u in problem.users for p in u.splits)
    paper = all(p.is_paper_model for u in problem.users for p in u.splits)
    return _Setup(pool, fixed_band, fixed_server, band_avail, server_avail, w, separable, paper)


def _solve_sum(users: tuple[MultiUser, ...], s: _Setup, *, certificate: bool, gap_rtol: float,
               starts: Sequence[MultiUserSolution] = ()) -> MultiUserSolution:  # fmt: skip
    """:func:`solve_multiuser` of ``users`` (candidate labels, names and fixed shares) whose candidates are the
    pool of ``s``."""
    k = len(users)
    found = search(s.pool, k, s.fixed_band, s.fixed_server, s.band_avail, s.server_avail)
    designs = [] if isinstance(found, Infeasible) else [found]
    for start in starts:
        other = _start_design(users, s, start)
        if other is not None:
            designs.append(other)
    if not designs:
        assert isinstance(found, Infeasible)
        return MultiUserSolution("infeasible", reason=found.reason + ("" if found.proven else " (not proven)"))
    note = None
    if not s.separable:
        note = "no certificate: shared_ratio couples each user's server and device ratios (model.md 13.5)"
    elif not s.paper:
        note = ("physical model: the bound is the larger of the paper's model's dual bound at the design's prices (a "
                "relaxation: every physical time and energy is at least the paper's) and the dual function at zero "
                "prices, each user alone with everything (model.md 13.5)")  # fmt: skip
    # the first design goes through the split rounds; another start only if it is already better than what the
    # rounds reached (then it too); the best design is kept, and the best bound (each is valid)
    best, lower = None, None
    for design in designs:
        if best is not None and design.objective(s.pool) >= best.objective(s.pool):
            continue
        design, bound = _rounds(s, design, gap_rtol)
        if best is None or design.objective(s.pool) < best.objective(s.pool):
            best = design
        if certificate and s.separable and s.paper and bound is not None:
            lower = bound if lower is None else max(lower, bound)
    assert best is not None
    if certificate and s.separable and not s.paper:
        lower = _physical_bound(s, best, gap_rtol)
    return _answer(users, s, best, lower, gap_rtol, note)


def _physical_bound(s: _Setup, design: Design, gap_rtol: float) -> float:
    """A lower bound on the optimum of a problem in the physical model (model.md 13.5): the larger of

    - the certificate of the paper's version of every candidate (:func:`~coinfer.model.system.paper_model`) at the
      design's prices: every physical term adds time or energy or removes options (a clock floor), so each
      user's value at any shares is at least its paper's-model value there, and so is the optimum;
    - the dual function at zero prices, exactly: each user's least value over its candidates with all it can have
      (``V`` is non-increasing in both shares), summed; the bound equals the optimum when no one competes (K=1).
    """
    relaxed = s.derive(PAPER_MODEL)  # system.paper_model of every candidate, on the rows
    relaxed_lower, _ = _certify(relaxed, design, gap_rtol)
    pool = s.pool
    caps_b = np.where(np.isnan(s.fixed_band), s.band_avail, s.fixed_band)
    caps_f = np.where(np.isnan(s.fixed_server), s.server_avail, s.fixed_server)
    code, out = pool.at_caps(caps_b, caps_f)
    # a proven infeasible candidate does not count; any other answer than an optimum (a polish left on a wall, a
    # solver error) is not trusted as a bound: no bound (-inf) for it
    proven = (code == kernel.INFEASIBLE_LATENCY) | (code == kernel.INFEASIBLE_ENERGY)
    value = np.where(code == kernel.OPTIMAL, out[:, kernel.O_OBJECTIVE], np.where(proven, np.inf, -np.inf))
    per_user = np.full(len(design.cand), np.inf)
    np.minimum.at(per_user, pool.user, pool.weight * value)
    alone = float(np.sum(per_user))
    alone -= _SOLVER_RTOL * abs(alone)
    return max(relaxed_lower, alone) if math.isfinite(relaxed_lower) else alone


def _rounds(s: _Setup, design: Design, gap_rtol: float) -> tuple[Design, float | None]:
    """Split rounds from ``design`` (model.md 13.4): the certificate at the design's prices gives a lower bound
    and the candidates that beat their user's current priced value there (the offers), tried by
    :func:`try_offers`; repeated while a switch lowers the objective. Returns the design and the certificate's
    lower bound at its prices."""
    lower = None
    polish_done = False
    for round_ in range(_MAX_ROUNDS + 1):
        # before the polish a round only needs the offers (the bound at a design about to change is thrown away);
        # from the polish on, the round is likely the last and computes the bound too
        final = polish_done or round_ == _MAX_ROUNDS
        lower, offers = _certify(s, design, gap_rtol, final=final)
        better = None
        if offers is not None and round_ < _MAX_ROUNDS:
            better = try_offers(s.pool, design, offers, s.fixed_band, s.fixed_server, s.band_avail, s.server_avail)
        if better is not None:
            design = better
            continue
        if polish_done:
            break
        # no offer helps (or the rounds are spent): polish the shares once (model.md 13.4, step 3), then look for
        # offers again
        polish_done = True
        again = polished(s.pool, design, s.fixed_band, s.fixed_server, s.band_avail, s.server_avail)
        if again is design:  # its offers were tried: only the bound is left
            lower, _ = _certify(s, design, gap_rtol)
            break
        design = again
    return design, lower


def _start_design(users: tuple[MultiUser, ...], s: _Setup, start: MultiUserSolution) -> Design | None:
    """The design reached by Newton from ``start``'s splits (matched by label) and shares, fitted to what the
    problem shares; ``None`` when a user's split is not among its candidates or the start is infeasible."""
    if start.status not in ("optimal", "feasible") or len(start.users) != len(users):
        return None
    pool = s.pool
    cand = np.empty(len(users), dtype=np.int64)
    first = np.searchsorted(pool.user, np.arange(len(users)))  # each user's first candidate (users in order)
    for k, (user, answer) in enumerate(zip(users, start.users, strict=True)):
        if answer.label not in user.labels:
            return None
        cand[k] = int(first[k]) + user.labels.index(answer.label)
    band = np.array([a.bandwidth if a.bandwidth is not None else s.band_avail for a in start.users])
    server = np.array([a.f_server if a.f_server is not None else s.server_avail for a in start.users])
    return start_from(pool, cand, band, server, s.fixed_band, s.fixed_server, s.band_avail, s.server_avail)


def _certify(s: _Setup, design: Design, gap_rtol: float, *, final: bool = True):
    """``(lower bound, offers)``: the dual function at the design's prices (model.md 13.5), and the priced
    demands of other candidates that beat their user's current priced value (``None`` if none does).

    Without ``final`` only the offers are sought (the users' current candidates are not bounded, and the lower
    bound returned is ``None``): a split round needs to know which candidates beat the current ones, not by how
    little the current ones could still fall."""
    pool = s.pool
    n_users = len(design.cand)
    lam = max(design.band_price, 0.0)
    pi = max(design.server_price, 0.0)
    move_b_user = np.isnan(s.fixed_band)
    move_f_user = np.isnan(s.fixed_server)
    caps_b = np.where(move_b_user, s.band_avail, s.fixed_band)
    caps_f = np.where(move_f_user, s.server_avail, s.fixed_server)
    user = pool.user
    cb = move_b_user[user] & pool.band
    cf = move_f_user[user] & pool.server
    n_cand = pool.size
    code, out = pool.at_caps(caps_b, caps_f)
    alone = np.where(code == kernel.OPTIMAL, out[:, kernel.O_OBJECTIVE], np.inf)  # pool.values at the caps
    w = pool.weight
    # the user's current priced value: reached, so an upper bound of its priced minimum
    mb = move_b_user & pool.band[design.cand]
    mf = move_f_user & pool.server[design.cand]
    current = w[design.cand] * design.values + lam * design.band * mb + pi * design.server * mf
    lower_c = np.full(n_cand, np.inf)
    upper_c = np.full(n_cand, np.inf)
    band_c = np.full(n_cand, np.nan)
    server_c = np.full(n_cand, np.nan)
    feasible = np.isfinite(alone)
    # cheap bound: the value with everything, plus the share floors at the prices
    cheap = w * alone + _priced_floors(pool, lam, pi, cb, cf)
    lower_c[feasible] = cheap[feasible]
    # 1. candidates using no priced share: their value at the caps, exactly
    fixed = feasible & ~cb & ~cf
    lower_c[fixed] = upper_c[fixed] = w[fixed] * alone[fixed]
    band_c[fixed], server_c[fixed] = caps_b[user[fixed]], caps_f[user[fixed]]
    # the least priced value each user reaches: its current one, or a candidate that needs no priced share
    incumbent = current.copy()
    np.minimum.at(incumbent, user[fixed], lower_c[fixed])
    # 2. the rest, unless the cheap bound already reaches that
    open_ = feasible & (cb | cf) & (cheap < incumbent[user] - gap_rtol * np.abs(incumbent[user]))
    open_[design.cand] = final & feasible[design.cand] & (cb | cf)[design.cand]
    # carried bounds: a candidate's priced minimum never falls as a price rises and falls by at most (drop x cap)
    # as it drops (its share is at most its cap), so the last round's bound, less that, is valid at these prices;
    # a candidate it puts at or above its user's current priced value is neither an offer nor the user's least
    if s._bounds:
        carried = np.full(n_cand, -np.inf)
        for last, lam0, pi0 in s._bounds:  # the best of the earlier rounds' bounds, each carried to these prices
            with np.errstate(invalid="ignore"):
                carried = np.fmax(carried, last - max(lam0 - lam, 0.0) * np.where(cb, caps_b[user], 0.0)
                                  - max(pi0 - pi, 0.0) * np.where(cf, caps_f[user], 0.0))  # fmt: skip
        settled = open_ & np.isfinite(carried) & (carried >= current[user])
        settled[design.cand] = False
        lower_c[settled] = np.maximum(lower_c[settled], carried[settled])
        open_ &= ~settled
    # server priced: the decomposition over the server time; band priced only: the band's secant bound
    for server_priced in (True, False):
        idx = np.flatnonzero(open_ & (cf if server_priced else ~cf))
        if not len(idx):
            continue
        hint_tau = np.full(len(idx), np.nan)
        hint_band = np.full(len(idx), np.nan)
        cur = design.cand[user[idx]] == idx
        if cur.any():
            ci = idx[cur]
            ku = user[ci]
            _, out = pool.solve(ci, design.band[ku], design.server[ku])
            work = pool.cycles[ci, 2] * (1 - out[:, kernel.O_RHO_S]) + pool.cycles[ci, 3]
            with np.errstate(invalid="ignore", divide="ignore"):
                hint_tau[cur] = np.where(work > 0, work / out[:, kernel.O_F_S], np.nan)
            hint_band[cur] = design.band[ku]
        if server_priced:
            bounds = candidate_bounds(
                s.parts, idx, w[idx], lam, pi, caps_b[user[idx]], caps_f[user[idx]], cb[idx], hint_tau, hint_band,
                incumbent[user[idx]], rtol=gap_rtol, offer_rtol=None if final else _OFFER_RTOL,
            )  # fmt: skip
        else:
            bounds = band_bounds(s.parts, idx, w[idx], lam, caps_b[user[idx]], hint_band, caps_f[user[idx]])
        lower_c[idx] = bounds.lower
        upper_c[idx] = bounds.upper
        band_c[idx] = bounds.band
        server_c[idx] = bounds.server
    with np.errstate(invalid="ignore"):  # inf - inf where a candidate is infeasible (kept inf)
        lower_c = np.where(np.isfinite(lower_c), lower_c - _SOLVER_RTOL * np.abs(lower_c), lower_c)
    lower_c = np.where(np.isnan(lower_c), -np.inf, lower_c)  # no bound is a valid bound (never seen)
    s._bounds.append((lower_c, lam, pi))
    per_user = np.full(n_users, np.inf)
    np.minimum.at(per_user, user, lower_c)
    lower = float(np.sum(per_user) - lam * s.band_avail * move_b_user.any() - pi * s.server_avail * move_f_user.any())
    # offers: other candidates that reach a priced value below the user's current one
    gain = current[user] - upper_c
    offer = np.isfinite(upper_c) & (gain > gap_rtol * np.abs(current[user]))
    offer[design.cand] = False
    offers = None
    if offer.any():
        oi = np.flatnonzero(offer)
        offers = (user[oi], oi, band_c[oi], server_c[oi], upper_c[oi])
    return (lower if final else None), offers


def _within_totals(s: _Setup, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """The design's shares with each optimised resource's sum brought within what is available: the excess (a
    few ulps to ~1e-10 relative, from rounding) is taken from the users that stay feasible with a relative 1e-9
    less, in proportion to their shares, and every share is then scaled by 1 - 1e-15."""
    pool = s.pool
    band, server = design.band.copy(), design.server.copy()
    for share, uses, avail, fixed in ((band, pool.band, s.band_avail, s.fixed_band),
                                      (server, pool.server, s.server_avail, s.fixed_server)):  # fmt: skip
        move = np.isnan(fixed) & uses[design.cand]
        share[move] *= 1 - 1e-15
        excess = float(np.sum(share[move])) - avail
        if excess <= 0:
            continue
        less = share.copy()
        less[move] *= 1 - 1e-9
        trial_b, trial_f = (less, server) if share is band else (band, less)
        slack = move & np.isfinite(pool.values(design.cand, trial_b, trial_f))
        give = float(np.sum(share[slack]))
        if give > 0:
            share[slack] *= 1 - excess / give * (1 + 1e-9)
    return band, server


def _answer(users: tuple[MultiUser, ...], s: _Setup, design: Design, lower: float | None, gap_rtol: float,
            note: str | None) -> MultiUserSolution:  # fmt: skip
    """The final answer: every user solved as :func:`solve_batch` solves its problem at its shares, which first
    go through :func:`_within_totals` (rounding over many Newton steps can leave their sums a few ulps over a
    total).

    ``solve_batch`` runs the compiled steps on the problems' rows and builds an optimal answer from the numbers
    alone (``solution.optimal_numbers``); the rows here are the pool's with the shares written in (the same
    numbers), so that no ``Problem`` is built for a user whose answer is optimal; any other answer (infeasible,
    or a polish on a wall that ``evaluate`` judges) is ``solve_batch``'s of the user's problem."""
    from coinfer.optimise.batch import solve_kernel_rows
    from coinfer.optimise.solution import optimal_numbers

    pool = s.pool
    design.band, design.server = _within_totals(s, design)
    shares = []
    for k, user in enumerate(users):
        c = int(design.cand[k])
        b = float(design.band[k]) if pool.band[c] else None
        f = float(design.server[k]) if pool.server[c] else None
        if user.fixed_bandwidth is not None:
            b = user.fixed_bandwidth if pool.band[c] else None
        if user.fixed_f_server is not None:
            f = user.fixed_f_server if pool.server[c] else None
        # the candidate's own band and server where it uses no share (its problem's fields, held in its row)
        b_q = float(pool.rows[c, R_BANDWIDTH]) if b is None else b
        f_q = float(pool.rows[c, R_FMAX + 1]) if f is None else f
        shares.append((c, b if b is None else b_q, f if f is None else f_q, b_q, f_q))
    cand = np.array([c for c, *_ in shares], dtype=np.int64)
    rows = pool.rows[cand].copy()
    rows[:, R_BANDWIDTH] = [b_q for *_, b_q, _ in shares]
    rows[:, R_FMAX + 1] = [f_q for *_, f_q in shares]
    code, out = solve_kernel_rows(rows, pool.table[cand], pool.keys, pool.logits)
    solutions: list[Solution] = [None] * len(users)  # type: ignore[list-item]  # every entry is set below
    for k in np.flatnonzero(code == kernel.OPTIMAL).tolist():
        solutions[k] = optimal_numbers(*out[k, : kernel.O_ANSWER].tolist())
    other = np.flatnonzero(code != kernel.OPTIMAL).tolist()
    others = solve_batch([pool.problem(shares[k][0], bandwidth=shares[k][3], f_server_max=shares[k][4]) for k in other])
    for k, sol in zip(other, others, strict=True):
        solutions[k] = sol
    used = [(c, b, f) for c, b, f, _, _ in shares]
    w = s.weights
    first = np.searchsorted(pool.user, np.arange(len(users))).tolist()  # each user's first candidate
    user_answers = tuple(
        UserAnswer(users[k].name, c - first[k], users[k].labels[c - first[k]], b, f, float(w[k]), solutions[k])
        for k, (c, b, f) in enumerate(used)
    )
    if any(sol.status != "optimal" for sol in solutions):
        bad = next(k for k, sol in enumerate(solutions) if sol.status != "optimal")
        return MultiUserSolution("solver_error", users=user_answers,
                                 reason=f"user {bad}: its single-user answer at its shares is "
                                        f"{solutions[bad].status}: {solutions[bad].reason}")  # fmt: skip
    values = np.array([sol.objective for sol in solutions])
    objective = float(np.sum(w * values))
    band_used = float(sum(b for _, b, _ in used if b is not None))
    server_used = float(sum(f for _, _, f in used if f is not None))
    if lower is not None and lower <= objective + 1e-9 * abs(objective):
        lower = min(lower, objective)  # rounding; a bound above that is an error, left visible (a negative gap)
    gap_ok = lower is not None and lower >= objective - gap_rtol * abs(objective)
    return MultiUserSolution(
        "optimal" if gap_ok else "feasible",
        objective,
        lower,
        max(design.band_price, 0.0),
        max(design.server_price, 0.0),
        user_answers,
        None,
        band_used,
        server_used,
        design.rounds,
        design.newton_iterations,
        note,
    )


# --------------------------------------------------------------------------------------------- reading


def _problem_errors(problem: MultiUserProblem) -> list[str]:
    """Every problem of a built :class:`MultiUserProblem`, one line each (model.md 13.8)."""
    errors: list[str] = []
    if problem.objective not in OBJECTIVES:
        errors.append(_objective_message(problem.objective))
    if problem.weighting not in WEIGHTINGS:
        errors.append(f"weighting: got {_show(problem.weighting)}; allowed one of " + ", ".join(map(repr, WEIGHTINGS)))
    for name in ("bandwidth", "f_server_max"):
        value = getattr(problem, name)
        if not (isinstance(value, float) and 1e-60 <= value <= 1e60):
            errors.append(f"{name}: got {_show(value)}; allowed (0, 1e+60]")
    if len(problem.users) == 0:
        errors.append("users: got an empty list; expected at least one user")
    fixed_b = fixed_f = 0.0
    for k, user in enumerate(problem.users):
        where = f"users[{k}]"
        if not user.splits:
            errors.append(f"{where}.splits: got an empty list; expected at least one split")
            continue
        params = {p.params_device + p.params_server for p in user.splits}
        if max(params) > min(params) * (1 + 1e-9):
            errors.append(f"{where}.splits: prunable parameters differ between splits ({min(params):g} to "
                          f"{max(params):g}); a user's splits must cut one model")  # fmt: skip
        for j, p in enumerate(user.splits):
            tag = where if len(user.splits) == 1 else f"{where}.splits[{j}]"
            if p.energy_scope != "device":
                errors.append(f"{tag}.energy_scope: got {p.energy_scope!r}; the multi-user problem budgets each "
                              "user's battery: allowed 'device' (model.md 13.1)")  # fmt: skip
        if user.fixed_bandwidth is not None:
            fixed_b += user.fixed_bandwidth
        if user.fixed_f_server is not None:
            fixed_f += user.fixed_f_server
    if isinstance(problem.bandwidth, float) and fixed_b > problem.bandwidth:
        errors.append(f"users: fixed band shares sum to {fixed_b:.6g} Hz, more than bandwidth {problem.bandwidth:.6g} "
                      "Hz; a band share that cannot be met")  # fmt: skip
    if isinstance(problem.f_server_max, float) and fixed_f > problem.f_server_max:
        errors.append(f"users: fixed server shares sum to {fixed_f:.6g} Hz, more than f_server_max "
                      f"{problem.f_server_max:.6g} Hz; a server share that cannot be met")  # fmt: skip
    return errors


def _weights(users: Sequence[MultiUser], weighting: str) -> np.ndarray:
    """:meth:`MultiUserProblem.weights` of ``users`` under ``weighting`` (read from each user's first split)."""
    k = len(users)
    if weighting == "parameters":
        params = np.array([u.params for u in users])
        return params / params.sum()
    if weighting == "users":
        return np.full(k, 1.0 / k)
    return np.array([1.0 / (k * u.mean_scale) for u in users])


def _objective_message(value: Any) -> str:
    if value == "max":
        return "objective: got 'max'; the weighted maximum is not implemented, allowed 'sum' (model.md 13.1)"
    return f"objective: got {_show(value)}; allowed 'sum' (model.md 13.1)"


def _close(name: str, allowed: Sequence[str]) -> str:
    import difflib

    match = difflib.get_close_matches(name, allowed, n=1, cutoff=0.75)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _from_dict(data: Any) -> MultiUserProblem:
    """:meth:`MultiUserProblem.from_dict`: collect every problem of the file, one line each, then build."""
    if not isinstance(data, Mapping):
        raise ParameterError(f"problem: got {_show(data)} ({type(data).__name__}); expected a mapping with a users: "
                             "list and the shared fields (model.md 13.8)")  # fmt: skip
    errors: list[str] = []
    single = set(accepted_fields())
    top_allowed = ("users", *SHARED_FIELDS, *sorted(single - {"bandwidth", "f_server_max"}))
    for key in data:
        if key not in top_allowed:
            hint = _close(str(key), top_allowed)
            errors.append(f"{key}: got {_show(data[key])}; unknown field{hint}, allowed: users, "
                          f"{', '.join(SHARED_FIELDS)} and the single-user fields shared by every user")  # fmt: skip
    shared_values: dict[str, Any] = {}
    totals = {"bandwidth": DEFAULTS["bandwidth"], "f_server_max": DEFAULTS["f_server_max"]}
    for name in ("bandwidth", "f_server_max"):
        if name in data:
            value = data[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(float(value))
                or not (1e-60 <= float(value) <= 1e60)
            ):
                errors.append(f"{name}: got {_show(value)}; allowed (0, 1e+60] (the total shared by the users, Hz)")
            else:
                totals[name] = float(value)
    objective = data.get("objective", "sum")
    if objective not in OBJECTIVES:
        errors.append(_objective_message(objective))
    weighting = data.get("weighting", "parameters")
    if weighting not in WEIGHTINGS:
        errors.append(f"weighting: got {_show(weighting)}; allowed one of " + ", ".join(map(repr, WEIGHTINGS)))
    for key, value in data.items():
        if key in single and key not in ("bandwidth", "f_server_max"):
            shared_values[key] = value
    shared_values.setdefault("energy_scope", "device")
    users_data = data.get("users")
    users: list[MultiUser] = []
    if "users" not in data:
        errors.append("users: missing; expected a list of users, each a mapping of single-user fields")
    elif not isinstance(users_data, list):
        errors.append(f"users: got {_show(users_data)} ({type(users_data).__name__}); expected a list of users")
    elif len(users_data) == 0:
        errors.append("users: got an empty list; expected at least one user")
    else:
        for k, entry in enumerate(users_data):
            user, user_errors = _read_user(k, entry, shared_values, totals)
            errors += user_errors
            if user is not None:
                users.append(user)
    if errors:
        raise ParameterError.from_lines(errors)
    return MultiUserProblem(tuple(users), totals["bandwidth"], totals["f_server_max"], objective, weighting)


def _read_user(k: int, entry: Any, shared: Mapping[str, Any], totals: Mapping[str, float]):
    """``(user or None, errors)`` of entry ``k`` of ``users:``."""
    where = f"users[{k}]"
    if not isinstance(entry, Mapping):
        return None, [f"{where}: got {_show(entry)} ({type(entry).__name__}); expected a mapping of single-user fields"]
    errors: list[str] = []
    single = set(accepted_fields())
    allowed = (*USER_FIELDS, *sorted(single))
    for key in entry:
        if key not in allowed:
            errors.append(f"{where}.{key}: got {_show(entry[key])}; unknown field{_close(str(key), allowed)}, allowed: "
                          "name, splits and the single-user fields")  # fmt: skip
    name = entry.get("name", f"user {k}")
    if not isinstance(name, str):
        errors.append(f"{where}.name: got {_show(name)} ({type(name).__name__}); expected a string")
        name = f"user {k}"
    fixed = {}
    for field_name, total in (("bandwidth", totals["bandwidth"]), ("f_server_max", totals["f_server_max"])):
        if field_name in entry:
            value = entry[field_name]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(float(value)) and 0 < float(value) <= total)
            ):
                kind = "band" if field_name == "bandwidth" else "server"
                errors.append(f"{where}.{field_name}: got {_show(value)}; a fixed {kind} share must be in (0, "
                              f"{total:.6g}] Hz (the total); a share that cannot be met")  # fmt: skip
            else:
                fixed[field_name] = float(value)
    base = {key: value for key, value in shared.items()}
    base.update({key: value for key, value in entry.items() if key in single})
    base["bandwidth"] = fixed.get("bandwidth", totals["bandwidth"])
    base["f_server_max"] = fixed.get("f_server_max", totals["f_server_max"])
    splits_data = entry.get("splits")
    problems: list[Problem] = []
    labels: list[str] = []
    if splits_data is None:
        items: list[tuple[str, Mapping[str, Any]]] = [(where, {})]
    elif not isinstance(splits_data, list) or not splits_data:
        errors.append(f"{where}.splits: got {_show(splits_data)}; expected a non-empty list of split workloads")
        items = []
    else:
        items = []
        for j, split in enumerate(splits_data):
            if not isinstance(split, Mapping):
                errors.append(f"{where}.splits[{j}]: got {_show(split)} ({type(split).__name__}); expected a mapping "
                              f"of {', '.join(SPLIT_FIELDS)}")  # fmt: skip
                continue
            for key in split:
                if key not in SPLIT_FIELDS:
                    errors.append(f"{where}.splits[{j}].{key}: got {_show(split[key])}; unknown split field"
                                  f"{_close(str(key), SPLIT_FIELDS)}, allowed: {', '.join(SPLIT_FIELDS)}")  # fmt: skip
            items.append((f"{where}.splits[{j}]", split))
    for j, (tag, split) in enumerate(items):
        values = dict(base)
        values.update({key: value for key, value in split.items() if key != "label" and key in SPLIT_FIELDS})
        if fixed.get("f_server_max") is not None:  # a share of the server's cycles, not its clock (model.md 13.1)
            values["f_server_min"] = 0.0
        try:
            problem = Problem.from_dict(values)
        except ParameterError as error:
            errors += [f"{tag}: {line}" for line in error.lines]
            continue
        if problem.energy_scope != "device":
            errors.append(f"{tag}.energy_scope: got {problem.energy_scope!r}; the multi-user problem budgets each "
                          "user's battery: allowed 'device' (model.md 13.1)")  # fmt: skip
        problems.append(problem)
        labels.append(str(split.get("label", j)))
    if errors:
        return None, errors
    params = {p.params_device + p.params_server for p in problems}
    if max(params) > min(params) * (1 + 1e-9):
        return None, [f"{where}.splits: prunable parameters differ between splits ({min(params):g} to {max(params):g});"
                      " a user's splits must cut one model"]  # fmt: skip
    return MultiUser(tuple(problems), tuple(labels), name, fixed.get("bandwidth"), fixed.get("f_server_max")), []


# --------------------------------------------------------------------------------------------- independent check


def solve_multiuser_local(
    problem: MultiUserProblem, *, starts: int = 20, seed: int = 0, max_assignments: int = 64
) -> MultiUserSolution:
    """The independent check of :func:`solve_multiuser`: SLSQP from many starts on the original variables.

    Parameters
    ----------
    problem : MultiUserProblem
        A small problem: every assignment of candidate splits to users is solved (at most ``max_assignments``).
    starts : int, default 20
        Seeded random starts per assignment, besides one at equal shares [count].
    seed : int, default 0
        Seed of the starts.
    max_assignments : int, default 64
        Largest number of split assignments accepted (``ParameterError`` beyond) [count].

    Returns
    -------
    MultiUserSolution
        ``status`` ``feasible`` with the best point found (no certificate: it is a local method), each user's
        decision checked by :func:`coinfer.model.system.evaluate` at its shares (its ``Solution`` holds the evaluated
        latency, energy and objective); ``infeasible`` when no start met the constraints (not a proof).

    Notes
    -----
    Latency, energy and distortion are computed from the formulas of model.md section 2 in the original
    variables (model.md 13.6), sharing no code with the compiled solver or the change of variables.
    """
    from coinfer.model.system import Decision, evaluate
    from coinfer.optimise._multiuser_local import local_search

    if not all(p.is_paper_model for u in problem.users for p in u.splits):
        raise ParameterError(
            "problem: got a problem in the physical model; the local check writes the paper's "
            "model's formulas (model.md 13.6): allowed the paper's model (system.paper_model)"
        )
    found = local_search(problem, starts=starts, seed=seed, max_assignments=max_assignments)
    if found is None:
        return MultiUserSolution("infeasible", reason=f"no start of {starts + 1} per assignment met the constraints "
                                                      "(a local method: not a proof)")  # fmt: skip
    _, assignment, x, arrays = found
    rho_d, rho_s, p, f_d, f_s, b = arrays.unpack(x)
    answers = []
    weights = problem.weights()
    values = []
    for k, (user, j) in enumerate(zip(problem.users, assignment, strict=True)):
        split = user.splits[j]
        at_share = split.replace(bandwidth=float(b[k]), f_server_max=float(f_s[k]))
        decision = Decision(float(rho_d[k]), float(rho_s[k]), float(p[k]), float(f_d[k]), float(f_s[k]))
        ev = evaluate(at_share, decision, rtol=1e-6)
        status = "optimal" if not ev.violations else "solver_error"
        sol = Solution(status, decision.rho_device, decision.rho_server, decision.power, decision.f_device,
                       decision.f_server, ev.objective, ev.latency, ev.energy,
                       "; ".join(ev.violations) or None)  # fmt: skip
        values.append(ev.objective)
        sends = split.feature_bits > 0
        runs = sum(split.cycles("server")) > 0
        answers.append(UserAnswer(user.name, j, user.labels[j], float(b[k]) if sends else None,
                                  float(f_s[k]) if runs else None, float(weights[k]), sol))  # fmt: skip
    objective = float(np.sum(weights * np.array(values)))
    band_used = float(sum(a.bandwidth for a in answers if a.bandwidth is not None))
    server_used = float(sum(a.f_server for a in answers if a.f_server is not None))
    return MultiUserSolution("feasible", objective, users=tuple(answers), band_used=band_used,
                             server_used=server_used,
                             reason=f"best of {starts + 1} SLSQP starts per split assignment")  # fmt: skip


def random_multiuser_problem(
    rng: np.random.Generator, users: int, *, splits: int = 1, weighting: str = "parameters"
) -> MultiUserProblem:
    """A random multi-user instance for tests and ``benchmarks/bench_multiuser.py`` (model.md 13.6).

    Every user is :func:`coinfer.model.system.random_problem` (energy scope ``device``), drawn again until it meets its
    budgets alone with its own ``bandwidth`` and ``f_server_max``; with ``splits > 1`` its other candidate
    splits move a random share of its FLOPs and parameters between the sides and change the bits sent. The band
    and server shared are drawn between 50 % and 120 % of the users' own ``bandwidth`` and ``f_server_max``
    together, so that the users compete for them in most instances.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every draw (the instance is a function of its state).
    users : int
        Number of users [count].
    splits : int, default 1
        Candidate splits per user [count].
    weighting : str, default "parameters"
        Each user's weight in the objective, one of :data:`WEIGHTINGS` (model.md 13.1): by prunable parameters,
    equally, or equally after normalising by the user's mean Laplace scale.

    Returns
    -------
    MultiUserProblem
        The users' candidate splits and the shared band [Hz] and server frequency [Hz].

    References
    ----------
    docs/model.md, sections 13.1 (model) and 13.6 (the independent check).
    """
    from coinfer.model.system import random_problem

    built = []
    own_b = own_f = 0.0
    for _ in range(users):
        while True:  # a user that can meet its budgets alone with its own band and server
            p = random_problem(rng).replace(energy_scope="device")
            if solve_batch([p])[0].status == "optimal":
                break
        own_b += p.bandwidth
        own_f += p.f_server_max
        variants = [p]
        for _ in range(splits - 1):
            move = float(rng.uniform(-0.8, 0.8))
            fd, fs = p.flops_device, p.flops_server
            nd, ns = p.params_device, p.params_server
            shift_f = move * (fs if move > 0 else fd)
            shift_n = move * (ns if move > 0 else nd)
            variants.append(
                p.replace(
                    flops_device=fd + shift_f,
                    flops_server=fs - shift_f,
                    params_device=nd + shift_n,
                    params_server=ns - shift_n,
                    feature_bits=float(p.feature_bits * math.exp(rng.uniform(-2.0, 2.0))),
                )
            )
        built.append(variants)
    band = own_b * float(rng.uniform(0.5, 1.2))
    server = own_f * float(rng.uniform(0.5, 1.2))
    return MultiUserProblem.from_users(built, band, server, weighting=weighting)


# --------------------------------------------------------------------------------------------- baselines

#: The baselines of model.md section 13.7, by name.
MULTIUSER_BASELINES = ("equal_shares", "proportional_shares", "uncoordinated", "no_pruning", "shared_ratio")


def solve_baseline(problem: MultiUserProblem, name: str, *, certificate: bool = False) -> MultiUserSolution:
    """One baseline of model.md section 13.7 on ``problem``.

    Parameters
    ----------
    problem : MultiUserProblem
        The users and the band [Hz] and server [Hz] they share.
    name : str
        ``equal_shares``: every user gets ``B / K`` and ``F / K`` and picks its best split and design there.
        ``proportional_shares``: shares in proportion to the workload of the split each user would pick alone
        (band to its bits sent, server to its unpruned server cycles), then its best split and design there.
        ``uncoordinated``: each user keeps the split of its single-user optimum with the whole band and server
        (what a single-user design would deploy) and re-optimises ratios, power and frequency at ``B / K`` and
        ``F / K``. ``no_pruning``: the joint design with ``rho_max = 0``. ``shared_ratio``: the joint design with
        one ratio per user for both sides.
    certificate : bool, default False
        Compute the certificate of the joint baselines (``no_pruning``; ``shared_ratio`` has none).

    Returns
    -------
    MultiUserSolution
        As :func:`solve_multiuser`; ``infeasible`` (with the user named) when some user cannot meet its budgets
        under the baseline's rule.
    """
    if name not in MULTIUSER_BASELINES:
        raise ParameterError(f"name: got {name!r}; allowed one of " + ", ".join(map(repr, MULTIUSER_BASELINES)))
    return _baseline(problem, _setup(problem), name, certificate=certificate)


def _baseline(problem: MultiUserProblem, s: _Setup, name: str, *, certificate: bool = False) -> MultiUserSolution:
    """:func:`solve_baseline` on the setup ``s`` of ``problem``: every baseline is the joint problem with some
    fields of every candidate changed (``rho_max``, ``shared_ratio``, the shares), so its pool is derived from
    ``s``'s rows (:meth:`_Setup.derive`) instead of being built from changed problems."""
    users = problem.users
    if name == "no_pruning":
        return _solve_sum(users, s.derive({"rho_max": 0.0}), certificate=certificate, gap_rtol=GAP_RTOL)
    if name == "shared_ratio":
        return _solve_sum(users, s.derive({"shared_ratio": True}), certificate=False, gap_rtol=GAP_RTOL)
    pool = s.pool
    k = len(users)
    band = np.full(k, problem.bandwidth / k)
    server = np.full(k, problem.f_server_max / k)
    keep = None
    if name in ("proportional_shares", "uncoordinated"):
        alone = _alone_splits(s, len(users))
        first = np.searchsorted(pool.user, np.arange(k))
        if name == "uncoordinated":
            users = tuple(replace(u, splits=(u.splits[j],), labels=(u.labels[j],)) if j is not None else u
                          for u, j in zip(users, alone, strict=True))  # fmt: skip
            keep = np.concatenate([[first[i] + j] if j is not None else np.flatnonzero(pool.user == i)
                                   for i, j in enumerate(alone)]).astype(np.int64)  # fmt: skip
        else:
            picked = [first[i] + j if j is not None else None for i, j in enumerate(alone)]
            bits = np.array([pool.rows[c, R_S_BITS] if c is not None else 0.0 for c in picked])
            work = np.array([pool.cycles[c, 2] + pool.cycles[c, 3] if c is not None else 0.0 for c in picked])
            band = problem.bandwidth * bits / bits.sum() if bits.sum() > 0 else band
            server = problem.f_server_max * work / work.sum() if work.sum() > 0 else server
    # every user at its fixed shares (a share of 0 Hz: the smallest positive share, where nothing fits)
    band = np.maximum(band * (1 - 1e-12), 1e-60)
    server = np.maximum(server * (1 - 1e-12), 1e-60)
    users = tuple(replace(u, fixed_bandwidth=float(b), fixed_f_server=float(f))
                  for u, b, f in zip(users, band, server, strict=True))  # fmt: skip
    user = pool.user if keep is None else pool.user[keep]
    # the weights of the users as they now are (a restricted user's are read from its one split)
    fixed = s.derive({"bandwidth": band[user], "f_server_max": server[user]}, keep=keep, fixed_band=band,
                     fixed_server=server, weights=_weights(users, problem.weighting))  # fmt: skip
    return _solve_sum(users, fixed, certificate=certificate, gap_rtol=GAP_RTOL)


def _alone_splits(s: _Setup, n_users: int) -> list[int | None]:
    """Per user, the split of its single-user optimum with its own band and server (``select_split``'s rule on
    ``solve_batch``'s answers: the least objective of an ``optimal`` answer, ties to the smaller index; ``None``
    if it is infeasible at every split), from one compiled solve of the pool's rows as they are (its candidates'
    problems). An answer the polish left on a budget's wall (``kernel.TO_POLISH``) is judged as ``solve`` judges
    it, by :func:`solve_batch` of that problem."""
    from coinfer.optimise.batch import solve_kernel_rows

    pool = s.pool
    code, out = solve_kernel_rows(pool.rows, pool.table, pool.keys, pool.logits)
    value = np.where(code == kernel.OPTIMAL, out[:, kernel.O_OBJECTIVE], np.inf)
    for c in np.flatnonzero(code == kernel.TO_POLISH).tolist():
        sol = solve_batch([pool.problem(c)])[0]
        value[c] = sol.objective if sol.status == "optimal" and sol.objective is not None else np.inf
    value = np.where(np.isnan(value), np.inf, value)
    first = np.searchsorted(pool.user, np.arange(n_users))
    best = np.minimum.reduceat(value, first)
    # the first candidate of each user at its least finite value (argmin's first: ties to the smaller index)
    hit = np.flatnonzero(np.isfinite(value) & (value == best[pool.user]))
    users_hit, where = np.unique(pool.user[hit], return_index=True)
    alone: list[int | None] = [None] * n_users
    for k, c in zip(users_hit.tolist(), hit[where].tolist(), strict=True):
        alone[k] = c - int(first[k])
    return alone
