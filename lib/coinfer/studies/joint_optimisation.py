"""The optimisation sweeps behind notebook 06 (model.md sections 5 and 7).

A :class:`Study` holds one model set's profiles, its reference budgets and the
scheme settings; every driver below returns the tidy table the notebook writes
to ``data/``:

- :func:`budget_sweeps`: every scheme of :data:`coinfer.optimise.SCHEMES` at
  every point of the latency, energy, bandwidth and distance sweeps (C3), and
  the proposed design's decisions along them;
- :func:`c3_summary`: per benchmark, where the proposed design is better;
- :func:`split_curves` and :func:`winner_map`: the optimum of every split, and
  which split wins over bandwidth x latency budget (C4), with the tie rule of
  :func:`winning_split`; :func:`c4_summary`;
- :func:`fading_monte_carlo` and :func:`fading_summary`: Rayleigh draws;
- :func:`solver_agreement`: ``solve`` against ``solve_reference``;
- :func:`robustness_tables`: the C3 and C4 summaries again under the
  alternative readings a referee would try (model.md section 1).

Budgets are relative to two reference points of each model (model.md section
7.3): ``T_ref``, the latency of the fastest unpruned split at full resources,
and ``E_ref``, the least energy of any unpruned split.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coinfer import optimise
from coinfer.base.parallel import parallel_map
from coinfer.base.progress import tqdm
from coinfer.base.threads import one_blas_thread
from coinfer.base.validation import ParameterError
from coinfer.model import system
from coinfer.model.stats import bootstrap_mean, clopper_pearson
from coinfer.nets import profiles, timing
from coinfer.nets.budgets import budget_grid, check_budget, family_of
from coinfer.optimise import Solution

#: Settings of the budget sweeps, whose points are each model's grid (model.md 7.3) as multiples of its default.
BUDGET_KEYS = frozenset({"latency_factor", "energy_factor"})
#: Relative objective difference under which two splits tie (C4 winner rule, model.md section 5.5).
SPLIT_TIE = 1e-6
#: Relative objective margin under which a benchmark ties the proposed design (C3 summary).
SCHEME_TIE = 1e-3


def _best_kernels(problem: system.Problem) -> system.Problem:
    """``problem`` with the measured sparse kernels used where they pay: each side's execution model the best of
    the four dense/sparse pairs (:func:`coinfer.optimise.select_execution`, model.md sections 2.3, 2.7), never
    sparse kernels forced on a side they make slower; unchanged where no pair is feasible."""
    models, _ = optimise.select_execution(problem)
    if models is None:
        return problem
    return problem.replace(compute_model_device=models[0], compute_model_server=models[1])


@dataclass
class Study:
    """The models of one optimisation notebook run, with budgets in seconds and joules (model.md section 7.3).

    Each model has its family's grid (:func:`coinfer.nets.budgets.budget_grid`, ``points`` log-spaced points from
    the first feasible budget to the unpruned fit, anchors inserted) and a default point ``(T0, E0)``:
    ``latency_budget`` [s] and ``energy_budget`` [J] where positive, else the family's default. ``reference``
    holds that default point; ``latency_factor`` and ``energy_factor`` (1 by default) are multiples of it, the
    unit in which sweep points, split curves and the winner map are indexed (their tables also carry the budgets
    in s and J).
    """

    profile: pd.DataFrame
    models: Sequence[str]
    latency_factor: float = 1.0
    energy_factor: float = 1.0
    base: Mapping[str, Any] = field(default_factory=dict)
    rho_fixed: float = 0.5
    local_starts: int = 3
    seed: int = 0
    #: Measured sparse-kernel fits (``coinfer.nets.timing``): when given, every split runs the ``sparse``
    #: execution model with its model's fitted constants; the grids and default points stay the ideal ones.
    sparse_fits: pd.DataFrame | None = None
    #: Default latency budget T0 of every model [s]; 0: each model's family default (model.md 7.3).
    latency_budget: float = 0.0
    #: Default energy budget E0 of every model [J]; 0: each model's family default (model.md 7.3).
    energy_budget: float = 0.0
    #: Log-spaced points of each model's budget grids between its ends [count].
    points: int = 13
    #: Problem fields the grids are computed with (default: ``base``): a robustness reading keeps the main
    #: study's, so that its budgets stay those of the physical model, in the reading's energy scope (model.md 7.3).
    grid_base: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        missing = sorted(set(self.models) - set(self.profile["model"]))
        if missing:
            raise ParameterError(
                f"models: {missing[0]!r} is not in data/profiles.csv; add it to 05_system_profiles and rerun it"
            )
        self.rows_of = {
            name: self.profile[self.profile["model"] == name].sort_values("split").reset_index(drop=True)
            for name in self.models
        }
        # battery-share budgets bound the device's energy (model.md 2.6, 7.3) unless the study sets a scope
        self.scope_of = {name: family_of(name).energy_scope for name in self.models}
        grid_base = self.base if self.grid_base is None else self.grid_base
        self.grids = {
            name: budget_grid(
                self.rows_of[name], [name], {"energy_scope": self.scope_of[name], **grid_base}, self.points
            )
            for name in self.models
        }
        self.reference = {}
        for name, grid in self.grids.items():
            t0 = grid.latency_default if self.latency_budget <= 0 else self.latency_budget
            e0 = grid.energy_default if self.energy_budget <= 0 else self.energy_budget
            check_budget("latency_budget_s", t0, grid.minima, sends=grid.minima.every_split_sends)
            check_budget("energy_budget_j", e0, grid.minima)
            self.reference[name] = (float(t0), float(e0))

    def budget_factors(self, name: str, sweep: str) -> np.ndarray:
        """The grid of ``sweep`` of model ``name`` as multiples of its default point (model.md 7.3).

        Parameters
        ----------
        name : str
            The model, as named in ``data/profiles.csv``.
        sweep : {"latency_budget", "energy_budget"}
            The swept budget.

        Returns
        -------
        numpy.ndarray
            The family grid's budgets divided by the model's default ``T0`` or ``E0`` [1].
        """
        t0, e0 = self.reference[name]
        return self.grids[name].values(sweep) / (t0 if sweep == "latency_budget" else e0)

    def loose_factors(self, name: str, sweep: str) -> dict[str, float]:
        """The other budget of a one-budget sweep of ``name``, held loose, as a factor of its default.

        A sweep along one budget holds the other at the grid's loose value (model.md 7.3: the largest unpruned
        latency or energy of any split at full resources, or the last grid point if higher), so that only the
        swept budget binds.

        Parameters
        ----------
        name : str
            The model, as named in ``data/profiles.csv``.
        sweep : {"latency_budget", "energy_budget"}
            The swept budget.

        Returns
        -------
        dict of str to float
            ``{"energy_factor": ...}`` for a latency sweep, ``{"latency_factor": ...}`` for an energy sweep: the
            loose budget as a multiple of the model's default ``E0`` or ``T0`` [1].

        Raises
        ------
        ParameterError
            Where ``sweep`` is neither budget.
        """
        t0, e0 = self.reference[name]
        grid = self.grids[name]
        if sweep == "latency_budget":
            return {"energy_factor": grid.energy_loose / e0}
        if sweep == "energy_budget":
            return {"latency_factor": grid.latency_loose / t0}
        raise ParameterError(f"sweep: got {sweep!r}; allowed latency_budget, energy_budget")

    def _latency_grid_factors(self, name: str, points: int) -> np.ndarray:
        """``points`` log-spaced latency factors of ``name`` from its first feasible to its last grid point [1]."""
        grid = self.grids[name]
        return np.geomspace(grid.latency[0], grid.latency[-1], points) / self.reference[name][0]

    def _check_factors(self, name: str, latency_factors: Sequence[float]) -> None:
        """A one-line :class:`ParameterError` if a latency factor puts ``name``'s budget below a physical minimum."""
        t0, _ = self.reference[name]
        minima = self.grids[name].minima
        for factor in latency_factors:
            check_budget(f"latency factor {factor:g} of {name} (T0 = {t0:g} s)", factor * t0, minima, sends=False)

    def problems(
        self, name: str, *, latency_factor: float | None = None, energy_factor: float | None = None, **overrides: Any
    ) -> list[system.Problem]:
        """The problems of the splits 0..L of ``name``, with budgets relative to its default point (model.md 7).

        Parameters not given take the study's base settings and model.md section 7's defaults; with the study's
        sparse fits, each split's kernel constants are the measured ones and each side's execution model the best
        of the dense/sparse pairs (model.md sections 2.3, 2.7).

        Parameters
        ----------
        name : str
            The model, as named in ``data/profiles.csv``.
        latency_factor : float, optional
            The latency budget as a multiple of the model's default ``T0`` [1]; the study's by default.
        energy_factor : float, optional
            The energy budget as a multiple of the model's default ``E0`` [1]; the study's by default.
        **overrides
            Other fields of :class:`coinfer.model.system.Problem` (e.g. ``bandwidth`` [Hz]).

        Returns
        -------
        list of coinfer.model.system.Problem
            One problem per split, in split order.
        """
        t_ref, e_ref = self.reference[name]
        problems = system.problems_for_splits(
            self.rows_of[name],
            latency_budget=(self.latency_factor if latency_factor is None else latency_factor) * t_ref,
            energy_budget=(self.energy_factor if energy_factor is None else energy_factor) * e_ref,
            **{"energy_scope": self.scope_of[name], **self.base, **overrides},
        )
        if self.sparse_fits is None:
            return problems
        fit = timing.FIT_FOR_MODEL.get(name, name)
        measured = [
            p.replace(
                **timing.sparse_constants(
                    self.sparse_fits, fit, flops_device=p.flops_device, flops_server=p.flops_server
                )
            )
            for p in problems
        ]
        return [_best_kernels(p) for p in measured]

    def budgets(self) -> pd.DataFrame:
        """Per model: its family, grid ends, physical minima and the study's budgets (model.md 7.3).

        Returns
        -------
        pandas.DataFrame
            One row per model: ``model``, ``family``, ``splits`` [count], ``T_first_s`` and ``T_unpruned_s`` (the
            latency grid's first point and its unpruned reference [s]), ``E_first_J``, ``E_unpruned_J`` and
            ``E_least_J`` (the energy grid's first point, unpruned reference and least energy [J]), ``T0_s`` and
            ``E0_J`` (the study's budgets, the default point times its factors [s, J]).
        """
        rows = []
        for name, (t0, e0) in self.reference.items():
            grid = self.grids[name]
            rows.append(
                {
                    "model": name,
                    "family": grid.family,
                    "splits": len(self.rows_of[name]),
                    "T_first_s": grid.latency[0],
                    "T_unpruned_s": grid.latency_unpruned,
                    "E_first_J": grid.energy[0],
                    "E_unpruned_J": grid.energy_unpruned,
                    "E_least_J": grid.minima.least_energy,
                    "T0_s": self.latency_factor * t0,
                    "E0_J": self.energy_factor * e0,
                }
            )
        return pd.DataFrame(rows)

    @one_blas_thread  # the bytes of the tables must not depend on the machine's BLAS threads
    def compare(self, name: str, starts: int | None = None, **setting: Any) -> tuple[pd.DataFrame, list]:
        """All schemes of model.md section 5.6 for one setting of ``name``, with normalised objectives.

        Parameters
        ----------
        name : str
            The model, as named in ``data/profiles.csv``.
        starts : int, optional
            Starts of the local-search benchmark [count]; the study's ``local_starts`` by default.
        **setting
            Keyword arguments of :meth:`problems` (budget factors, problem fields).

        Returns
        -------
        frame : pandas.DataFrame
            One row per scheme and split (:func:`coinfer.optimise.compare_schemes`, plus
            :data:`MAGNITUDE_DESIGN`), with ``objective_norm``, the objective over the split's objective when
            everything is pruned (:func:`mean_scale`) [1] (NaN where not optimal).
        problems : list of coinfer.model.system.Problem
            The problems of the splits.
        """
        probs = self.problems(name, **setting)
        frame = optimise.compare_schemes(
            probs,
            rho_fixed=self.rho_fixed,
            n_starts=self.local_starts if starts is None else starts,
            seed=self.seed,
        )
        frame = pd.concat([frame, pd.DataFrame([magnitude_design(probs)])], ignore_index=True)
        frame["split"] = frame["split"].astype("Int64")
        frame["objective_norm"] = [
            row.objective / mean_scale(probs[int(row.split)]) if row.status == "optimal" else np.nan
            for row in frame.itertuples()
        ]
        return frame, probs


#: The proposed design with the ``magnitude`` objective (close to measured distortion), scored by the study's own.
MAGNITUDE_DESIGN = "proposed_magnitude"


def magnitude_design(problems: Sequence[system.Problem]) -> dict[str, Any]:
    """The proposed design re-optimised with ``distortion_model: magnitude``, as a row of :func:`compare_schemes`.

    Its decision is scored with the problems' own objective, so its
    ``objective`` is comparable with every other scheme's (model.md section 9).

    Parameters
    ----------
    problems : sequence of Problem
        One problem per split of a model (:func:`coinfer.model.system.problems_for_splits`).

    Returns
    -------
    dict
        A scheme row: ``status``, ``split``, ``rho_device``, ``rho_server`` [1], ``objective`` [weight units],
        ``latency`` [s], ``energy`` [J].

    References
    ----------
    docs/model.md, sections 5.1 and 9.
    """
    variants = [p.replace(distortion_model="magnitude") for p in problems]
    best, solutions = optimise.select_split(variants)
    row: dict[str, Any] = {"scheme": MAGNITUDE_DESIGN, "split": best}
    solution = solutions[best] if best is not None else solutions[0]
    row.update(solution.as_dict())
    if best is not None and solution.decision is not None:
        ev = system.evaluate(problems[best], solution.decision)
        row["objective"] = ev.objective
    return row


def mean_scale(problem: system.Problem) -> float:
    """``b_bar``: the objective when everything is pruned; normalises objectives across models.

    Parameters
    ----------
    problem : Problem
        A problem of the model.

    Returns
    -------
    float
        ``b_bar = (N_d b_d + N_s b_s) / N`` [weight units].

    References
    ----------
    docs/model.md, section 5.1.
    """
    return (problem.params_device * problem.scale_device + problem.params_server * problem.scale_server) / (
        problem.params_device + problem.params_server
    )


def decision_record(problem: system.Problem, row: Any) -> dict:
    """Decision variables and time shares of one optimal solution (model.md section 2, via ``evaluate``).

    A variable with no effect (a side without weights, nothing sent, a side
    without work) is reported as NaN, whatever value the solver returned.

    Parameters
    ----------
    problem : Problem
        The problem of the chosen split.
    row : Any
        The scheme row of the solution (``rho_device``, ``rho_server`` [1], ``power`` [W], ``f_device``,
        ``f_server`` [Hz]).

    Returns
    -------
    dict
        ``rho_device``, ``rho_server`` [1], the power and clocks as shares of their maxima
        (``power_share``, ``f_device_share``, ``f_server_share``) [1], each stage's share of the latency [1],
        and latency and energy over their budgets [1].

    References
    ----------
    docs/model.md, sections 2 and 8.4 (variables with no effect).
    """
    decision = system.Decision(row.rho_device, row.rho_server, row.power, row.f_device, row.f_server)
    ev = system.evaluate(problem, decision, rtol=1e-6)
    if ev.violations:
        raise AssertionError(f"infeasible in the original variables: {ev.violations}")
    return {
        "rho_device": row.rho_device if problem.params_device > 0 else np.nan,
        "rho_server": row.rho_server if problem.params_server > 0 else np.nan,
        "power_share": row.power / problem.p_max if problem.feature_bits > 0 else np.nan,
        "f_device_share": row.f_device / problem.f_device_max if sum(problem.cycles("device")) > 0 else np.nan,
        "f_server_share": row.f_server / problem.f_server_max if sum(problem.cycles("server")) > 0 else np.nan,
        "t_device_share": ev.t_device / ev.latency,
        "t_tx_share": ev.t_tx / ev.latency,
        "t_server_share": ev.t_server / ev.latency,
        "latency_over_budget": ev.latency / problem.latency_budget,
        "energy_over_budget": ev.energy / problem.energy_budget,
    }


def check_dominance(frame: pd.DataFrame, where: str) -> None:
    """Proposed is feasible whenever a benchmark is, and never worse (the schemes restrict it).

    The tolerance ``1e-4`` relative covers the SLSQP benchmark's constraint tolerance, plus ``1e-15`` absolute
    [weight units]: objectives in the flat region of the ``magnitude`` model reach 1e-26, where the solvers' stopping
    rules differ by more than 1e-4 relative (1e-15 is 1e-9 of the 16-bit floor ``2^-16 b`` at ``b = 0.05``). The
    ``quantised_*``
    benchmarks are not checked: they change ``bits_per_weight``, and under the physical model (model.md 2.7) a
    design with 4- or 8-bit weights reads 4x or 2x fewer weight bits (memory time and energy), which no decision
    of the proposed design at 16 bits can (first seen at the digits CNN's energy grid, 6.96e-7 J).

    Parameters
    ----------
    frame : pandas.DataFrame
        Scheme rows of one point (:func:`compare_schemes`).
    where : str
        Where the rows come from, for the error message.

    Returns
    -------
    None
        Raises ``AssertionError`` naming the scheme when the proposed design is beaten.

    References
    ----------
    docs/model.md, section 5.6 (benchmarks).
    """
    proposed = frame[frame["scheme"] == "proposed"].iloc[0]
    for row in frame[frame["scheme"] != "proposed"].itertuples():
        if row.status != "optimal" or str(row.scheme).startswith("quantised"):
            continue
        if proposed["status"] != "optimal" or proposed["objective"] > row.objective * (1 + 1e-4) + 1e-15:
            raise AssertionError(
                f"{where}: proposed worse than {row.scheme}: {proposed['objective']} > {row.objective}"
            )


def sweep_values(ranges: Mapping[str, Sequence[float]], points: int) -> dict[str, tuple[str, np.ndarray]]:
    """Sweep name -> (setting key, log-spaced values) for the four C3 sweeps.

    The two budget sweeps are always there, with no values here: their points are each model's grid in s and J
    (model.md 7.3) as multiples of its default point (:meth:`Study.budget_factors`).

    Parameters
    ----------
    ranges : mapping of str to sequence of float
        Sweep name (``bandwidth``, ``distance``) -> ``(low, high)`` [Hz, m]; budget entries are ignored.
    points : int
        Points per sweep [count].

    Returns
    -------
    dict of str to (str, numpy.ndarray)
        The setting each sweep changes (``latency_factor``, ``energy_factor``, ``bandwidth``, ``distance``) and
        its values [Hz, m; empty for the budget sweeps].

    References
    ----------
    docs/model.md, section 7.3 (budgets).
    """
    keys = {
        "latency_budget": "latency_factor",
        "energy_budget": "energy_factor",
        "bandwidth": "bandwidth",
        "distance": "distance",
    }
    values = {}
    for sweep in keys:
        if keys[sweep] in BUDGET_KEYS:
            values[sweep] = (keys[sweep], np.empty(0))  # each model's grid (Study.budget_factors)
        elif sweep in ranges:
            low, high = ranges[sweep]
            values[sweep] = (keys[sweep], np.geomspace(low, high, points))
    return values


def sweep_point(study: Study, point: tuple[str, str, str, float]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every scheme at one sweep point ``(model, sweep, setting key, x)``, and the proposed design's record.

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    point : tuple of (str, str, str, float)
        ``(model, sweep, setting key, x)``; ``x`` in the unit of the setting [1, Hz or m].

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The scheme rows (objective [weight units], latency [s], energy [J]) and :func:`decision_record` of the
        proposed design.
    """
    name, sweep, key, x = point
    setting: dict[str, Any] = {key: x}
    if key in BUDGET_KEYS:  # the other budget loose (model.md 7.3), not at its default
        setting.update(study.loose_factors(name, sweep))
    frame, probs = study.compare(name, **setting)
    check_dominance(frame, f"{name} {sweep}={x:.4g}")
    frame.insert(0, "model", name)
    frame.insert(1, "sweep", sweep)
    frame.insert(2, "x", x)
    frame.insert(3, "latency_budget", probs[0].latency_budget)
    frame.insert(4, "energy_budget", probs[0].energy_budget)
    best = frame[frame["scheme"] == "proposed"].iloc[0]
    record = {"model": name, "sweep": sweep, "x": x, "status": best["status"], "split": best["split"]}
    if best["status"] == "optimal":
        record.update(decision_record(probs[int(best["split"])], best))
    return frame, record


def budget_sweeps(
    study: Study, sweeps: Mapping[str, tuple[str, np.ndarray]], *, progress: bool = True, **parallel: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every scheme at every sweep point (``opt_budget_sweep``) and the proposed decisions (``opt_decisions``).

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    sweeps : mapping of str to (str, numpy.ndarray)
        The sweeps of :func:`sweep_values`: setting and values [1 for budget factors, Hz, m].
    progress : bool
        Show a progress bar.
    **parallel
        ``workers``, ``scheduler_address`` of :func:`coinfer.base.parallel.parallel_map`.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(opt_budget_sweep, opt_decisions)``: scheme rows (objective [weight units], ``objective_norm`` [1],
        latency [s], energy [J]) and the proposed decisions (:func:`decision_record`).

    References
    ----------
    docs/model.md, sections 5.6 and 7.3.
    """
    points = [
        (name, sweep, key, float(x))
        for name in study.models
        for sweep, (key, values) in sweeps.items()
        for x in (study.budget_factors(name, sweep) if key in BUDGET_KEYS else values)
    ]
    results = parallel_map(
        functools.partial(sweep_point, study), points, desc="budget sweeps", progress=progress, **parallel
    )
    return pd.concat([frame for frame, _ in results], ignore_index=True), pd.DataFrame([r for _, r in results])


def c3_summary(sweep_table: pd.DataFrame) -> pd.DataFrame:
    """Per (model, benchmark): where both are feasible, how often the proposed design is better by > 0.1 %.

    Parameters
    ----------
    sweep_table : pandas.DataFrame
        The table of :func:`budget_sweeps`.

    Returns
    -------
    pandas.DataFrame
        ``points``, ``both_feasible``, ``proposed_better``, ``tie``, ``only_proposed_feasible``,
        ``neither_feasible`` [count] and ``median_ratio``, ``max_ratio`` (benchmark over proposed objective) [1].

    References
    ----------
    docs/model.md, section 1 (claim C3).
    """
    rows = []
    others = sweep_table[sweep_table["scheme"] != "proposed"]
    for (name, scheme), part in others.groupby(["model", "scheme"], sort=False):
        ours = sweep_table[(sweep_table["model"] == name) & (sweep_table["scheme"] == "proposed")]
        ours = ours.set_index(["sweep", "x"])
        theirs = part.set_index(["sweep", "x"])
        ok_ours, ok_theirs = ours["status"] == "optimal", theirs["status"] == "optimal"
        both = ok_ours & ok_theirs
        ratio = objective_ratio(theirs.loc[both, "objective"], ours.loc[both, "objective"])
        rows.append(
            {
                "model": name,
                "benchmark": scheme,
                "points": len(theirs),
                "both_feasible": int(both.sum()),
                "proposed_better": int((ratio > 1 + SCHEME_TIE).sum()),
                "tie": int((ratio <= 1 + SCHEME_TIE).sum()),
                "only_proposed_feasible": int((ok_ours & ~ok_theirs).sum()),
                "neither_feasible": int((~ok_ours & ~ok_theirs).sum()),
                "median_ratio": float(ratio.median()) if len(ratio) else np.nan,
                "max_ratio": float(ratio.max()) if len(ratio) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def objective_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator`` of objectives, with ``0 / 0 = 1`` (both unpruned) and ``x / 0 = inf``.

    The ``magnitude`` objective is exactly 0 at ``rho = 0``, where plain division is undefined.

    Parameters
    ----------
    numerator, denominator : pandas.Series
        Objectives [weight units].

    Returns
    -------
    pandas.Series
        Their ratio [1].
    """
    top = numerator.astype(float).to_numpy()
    bottom = denominator.astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bottom > 0, top / bottom, np.where(top > 0, np.inf, 1.0))
    return pd.Series(ratio, index=numerator.index)


def winning_split(solutions: Sequence[Solution], tie: float = SPLIT_TIE) -> int | None:
    """The best split under the documented tie rule (model.md section 5.5).

    Splits within ``tie`` (relative) of the best objective tie. A tie with an
    extreme goes to the extreme, split 0 first, then split L, so that an
    intermediate split counts as the winner only where it is better by more
    than ``tie``; among tied intermediate splits the smallest index wins.

    Parameters
    ----------
    solutions : sequence of Solution
        One solution per split ``0..L``.
    tie : float
        Relative tie tolerance on the objective [1].

    Returns
    -------
    int or None
        The winning split index [1]; ``None`` when no split is feasible.

    References
    ----------
    docs/model.md, section 5.5.
    """
    feasible = [
        (sol.objective, s) for s, sol in enumerate(solutions) if sol.status == "optimal" and sol.objective is not None
    ]
    if not feasible:
        return None
    best = min(value for value, _ in feasible)
    tied = [s for value, s in feasible if value <= best * (1 + tie)]
    for extreme in (0, len(solutions) - 1):
        if extreme in tied:
            return extreme
    return min(tied)


def split_curves(
    study: Study, bandwidths: Sequence[float], latency_factors: Sequence[float], solver: Callable | None = None
) -> pd.DataFrame:
    """The optimum of every split for each (bandwidth, latency factor) (``opt_split_sweep``).

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    bandwidths : sequence of float
        Uplink bandwidths [Hz].
    latency_factors : sequence of float
        Latency budgets as multiples of each model's default ``T0`` [1] (model.md 7.3); a budget below one device
        clock cycle raises :class:`ParameterError`.
    solver : callable, optional
        Solver of a list of problems (default :func:`solve_all`'s).

    Returns
    -------
    pandas.DataFrame
        One row per (model, bandwidth, latency factor, split): ``latency_budget`` [s], ``energy_budget`` [J],
        ``status``, ``objective`` [weight units],
        ``objective_norm`` [1], ``best`` and the infeasibility ``reason``.

    References
    ----------
    docs/model.md, sections 5.5 and 1 (claim C4).
    """
    rows = []
    for name in study.models:
        study._check_factors(name, latency_factors)
        for bandwidth in bandwidths:
            for factor in latency_factors:
                probs = study.problems(name, bandwidth=bandwidth, latency_factor=factor)
                sols = solve_all(probs, solver)
                best = winning_split(sols)
                for s, sol in enumerate(sols):
                    objective = sol.objective if sol.status == "optimal" else None
                    norm = objective / mean_scale(probs[s]) if objective is not None else np.nan
                    rows.append(
                        {
                            "model": name,
                            "bandwidth": bandwidth,
                            "latency_factor": factor,
                            "energy_factor": study.energy_factor,
                            "latency_budget": probs[s].latency_budget,
                            "energy_budget": probs[s].energy_budget,
                            "split": s,
                            "split_name": study.rows_of[name]["split_name"][s],
                            "status": sol.status,
                            "objective": sol.objective,
                            "objective_norm": norm,
                            "best": s == best,
                            "reason": sol.reason,
                        }
                    )
    return pd.DataFrame(rows)


@one_blas_thread  # the bytes of the tables must not depend on the machine's BLAS threads
def solve_all(problems: Sequence[system.Problem], solver: Callable | None = None) -> list[Solution]:
    """Solve a list of problems with ``solver`` (default: the batch solver when available, else ``solve``).

    Parameters
    ----------
    problems : sequence of Problem
        The problems.
    solver : callable, optional
        ``problems -> solutions``.

    Returns
    -------
    list of Solution
        One solution per problem, in order.
    """
    if solver is not None:
        return [solver(p) for p in problems]
    batch = getattr(optimise, "solve_batch", None)
    return list(batch(problems)) if batch is not None else [optimise.solve(p) for p in problems]


def winner_map(
    study: Study,
    bandwidths: Sequence[float],
    latency_factors: Sequence[float] | None = None,
    *,
    points: int = 15,
    progress: bool = True,
) -> pd.DataFrame:
    """The winning split over bandwidth x latency factor (``opt_split_winners``).

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    bandwidths : sequence of float
        Uplink bandwidths [Hz].
    latency_factors : sequence of float, optional
        Latency budgets as multiples of each model's default ``T0`` [1]; by default ``points`` log-spaced from
        each model's first feasible latency to its last grid point (``Study._latency_grid_factors``).
    points : int
        Latency points per model when ``latency_factors`` is not given [count].
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (model, bandwidth, latency factor): ``latency_budget`` [s], ``energy_budget`` [J],
        ``best_split``, ``winner`` (:func:`winning_split`), its objective and those of the extremes and of the
        worst feasible split [weight units], and
        ``feasible_splits`` [count].

    References
    ----------
    docs/model.md, sections 5.5 and 1 (claim C4).
    """
    cells = [
        (name, float(b), float(f))
        for name in study.models
        for b in bandwidths
        for f in (study._latency_grid_factors(name, points) if latency_factors is None else latency_factors)
    ]
    problems = [study.problems(name, bandwidth=b, latency_factor=f) for name, b, f in cells]
    flat = [p for probs in problems for p in probs]
    solutions = iter(solve_all(flat))
    rows = []
    for (name, bandwidth, factor), probs in tqdm(
        list(zip(cells, problems, strict=True)), desc="winner map", disable=not progress
    ):
        sols = [next(solutions) for _ in probs]
        last = len(probs) - 1
        values = [sol.objective if sol.status == "optimal" and sol.objective is not None else np.inf for sol in sols]
        feasible = [v for v in values if np.isfinite(v)]
        winner = winning_split(sols)
        best = int(np.argmin(values)) if feasible else None
        rows.append(
            {
                "model": name,
                "bandwidth": bandwidth,
                "latency_factor": factor,
                "energy_factor": study.energy_factor,
                "latency_budget": probs[0].latency_budget,
                "energy_budget": probs[0].energy_budget,
                "best_split": best,
                "winner": winner,
                "winner_name": study.rows_of[name]["split_name"][winner] if winner is not None else None,
                "status": "optimal" if best is not None else "infeasible",
                "objective": values[best] if best is not None else np.nan,
                "on_server_objective": values[0] if np.isfinite(values[0]) else np.nan,
                "on_device_objective": values[last] if np.isfinite(values[last]) else np.nan,
                "worst_feasible_objective": max(feasible) if feasible else np.nan,
                "feasible_splits": len(feasible),
                "last_split": last,
                # a budget binds where the best design is worse than its split unpruned (C4, model.md 1)
                "budget_binds": bool(
                    best is not None and values[best] > system.objective_value(probs[best], 0.0, 0.0) * (1 + SPLIT_TIE)
                ),
            }
        )
    winners = pd.DataFrame(rows)
    winners[["best_split", "winner"]] = winners[["best_split", "winner"]].astype("Int64")
    return winners


def c4_summary(winners: pd.DataFrame, last_split: Mapping[str, int]) -> pd.DataFrame:
    """Over the winner map: distinct winners, shares of on-server / on-device / intermediate, price of a wrong split.

    Parameters
    ----------
    winners : pandas.DataFrame
        The table of :func:`winner_map`.
    last_split : mapping of str to int
        Model -> its last split index ``L`` [1].

    Returns
    -------
    pandas.DataFrame
        Per model: grid and feasible points and distinct winners [count], the shares of each kind of winner
        [1], and the ratios of the extremes' and the worst split's objective to the best [1].

    References
    ----------
    docs/model.md, section 1 (claim C4).
    """
    rows = []
    for name, part in winners.groupby("model", sort=False):
        last = last_split[name]
        ok = part[part["status"] == "optimal"]
        best_extreme = ok[["on_server_objective", "on_device_objective"]].min(axis=1)
        extreme_over_best = objective_ratio(best_extreme, ok["objective"])
        worst_over_best = objective_ratio(ok["worst_feasible_objective"], ok["objective"])
        share = (lambda mask: float(mask.mean())) if len(ok) else (lambda mask: np.nan)
        rows.append(
            {
                "model": name,
                "grid_points": len(part),
                "feasible_points": len(ok),
                "distinct_winners": int(ok["winner"].nunique()),
                "share_on_server": share(ok["winner"] == 0),
                "share_on_device": share(ok["winner"] == last),
                "share_intermediate": share((ok["winner"] > 0) & (ok["winner"] < last)),
                "share_intermediate_by_1pct": share(extreme_over_best.fillna(np.inf) > 1.01),
                "extremes_infeasible": int(best_extreme.isna().sum()),
                "median_extreme_over_best": float(extreme_over_best.median()),
                "max_extreme_over_best": float(extreme_over_best.max()),
                "median_worst_over_best": float(worst_over_best.median()),
            }
        )
    return pd.DataFrame(rows)


FADING_COLUMNS = [
    "model",
    "draw",
    "fading",
    "scheme",
    "split",
    "status",
    "objective",
    "objective_norm",
    "rho_device",
    "rho_server",
    "power",
    "f_device",
    "f_server",
    "latency",
    "energy",
]


def fading_draw(study: Study, starts: int, task: tuple[str, int, float]) -> pd.DataFrame:
    """Every scheme of one model under one Rayleigh draw ``(model, draw, |h|^2)``.

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    starts : int
        Starts of the local non-convex benchmark [count].
    task : tuple of (str, int, float)
        ``(model, draw index, |h|^2)``, the fading power gain [1].

    Returns
    -------
    pandas.DataFrame
        The scheme rows of that draw (objective [weight units], ``objective_norm`` [1], latency [s], energy [J]).
    """
    name, draw, h2 = task
    frame, _ = study.compare(name, starts=starts, fading=h2)
    check_dominance(frame, f"{name} fading draw {draw}")
    frame.insert(0, "model", name)
    frame.insert(1, "draw", draw)
    frame.insert(2, "fading", h2)
    return frame


def fading_monte_carlo(
    study: Study, fading: np.ndarray, *, starts: int, progress: bool = True, **parallel: Any
) -> pd.DataFrame:
    """Every scheme under each Rayleigh draw ``|h|^2`` at the default budgets and distance (``opt_fading``).

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    fading : numpy.ndarray
        The draws of the fading power gain ``|h|^2`` [1].
    starts : int
        Starts of the local non-convex benchmark [count].
    progress : bool
        Show a progress bar.
    **parallel
        ``workers``, ``scheduler_address`` of :func:`coinfer.base.parallel.parallel_map`.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`fading_draw` for every model and draw.

    References
    ----------
    docs/model.md, section 2.4 (uplink, fading).
    """
    tasks = [(name, draw, float(h2)) for name in study.models for draw, h2 in enumerate(fading)]
    frames = parallel_map(
        functools.partial(fading_draw, study, starts), tasks, desc="fading", progress=progress, **parallel
    )
    return pd.concat(frames, ignore_index=True)[FADING_COLUMNS]


def fading_summary(fading_table: pd.DataFrame) -> pd.DataFrame:
    """Per (model, scheme): feasible share, mean normalised objective and mean ratio to the proposed design.

    The feasible share comes with its Clopper-Pearson 95 % interval.

    Parameters
    ----------
    fading_table : pandas.DataFrame
        The table of :func:`fading_monte_carlo`.

    Returns
    -------
    pandas.DataFrame
        ``draws`` [count], ``p_feasible`` and its interval [1], ``mean_objective_norm`` [1],
        ``mean_ratio_to_proposed`` [1].

    References
    ----------
    docs/model.md, section 1.1.
    """
    proposed = fading_table[fading_table["scheme"] == "proposed"].set_index(["model", "draw"])["objective"]
    rows = []
    for (name, scheme), part in fading_table.groupby(["model", "scheme"], sort=False):
        ok = part[part["status"] == "optimal"].set_index(["model", "draw"])
        both = ok.index.intersection(proposed.dropna().index)
        low, high = clopper_pearson(len(ok), len(part))  # the fading draws are random: a sampled share
        rows.append(
            {
                "model": name,
                "scheme": scheme,
                "draws": len(part),
                "p_feasible": len(ok) / len(part),
                "p_feasible_ci95_low": low,
                "p_feasible_ci95_high": high,
                "mean_objective_norm": ok["objective_norm"].mean(),
                **dict(
                    zip(
                        ("mean_objective_norm_ci95_low", "mean_objective_norm_ci95_high"),
                        bootstrap_mean(ok["objective_norm"].dropna()),  # a mean over random draws (model.md 1.1)
                        strict=True,
                    )
                ),
                "mean_ratio_to_proposed": (ok.loc[both, "objective"] / proposed[both]).mean(),
            }
        )
    return pd.DataFrame(rows)


def single_start_summary(starts_table: pd.DataFrame) -> pd.DataFrame:
    """Per model (index): runs, success rate with its Clopper-Pearson 95 % interval, feasible rate, how far others end.

    The starts are random draws, so the success rate is a sampled share
    (model.md section 1.1).

    Parameters
    ----------
    starts_table : pandas.DataFrame
        The table of :func:`single_start_study`.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``runs`` [count], ``success_rate`` and its interval [1], ``feasible_rate`` [1],
        ``median_over_optimum``, ``max_over_optimum`` [1].
    """
    rows = []
    for name, part in starts_table.groupby("model", sort=False):
        success = part["success"].astype(bool)
        low, high = clopper_pearson(int(success.sum()), len(part))
        rows.append(
            {
                "model": name,
                "runs": len(part),
                "success_rate": float(success.mean()),
                "success_rate_ci95_low": low,
                "success_rate_ci95_high": high,
                "feasible_rate": float((part["status"] == "optimal").mean()),
                "median_over_optimum": part["over_optimum"].median(),
                "max_over_optimum": part["over_optimum"].max(),
            }
        )
    return pd.DataFrame(rows).set_index("model")


@one_blas_thread  # the bytes of the tables must not depend on the machine's BLAS threads
def single_starts_at(study: Study, starts: int, task: tuple[str, int]) -> list[dict[str, Any]]:
    """The rows of :func:`single_start_study` for one ``(model, split)``.

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    starts : int
        Random starts [count].
    task : tuple of (str, int)
        ``(model, split index)``.

    Returns
    -------
    list of dict
        One row per start: ``status``, ``objective`` and ``optimum`` [weight units], ``success``,
        ``over_optimum`` [1].
    """
    name, split = task
    problem = study.problems(name)[split]
    best = optimise.solve(problem)
    rows = []
    for start in range(starts):
        local = optimise.solve_local(problem, n_starts=1, seed=study.seed + start)
        found = local.status == "optimal" and best.status == "optimal"
        local_value = local.objective if local.objective is not None else np.nan
        best_value = best.objective if best.objective is not None else np.nan
        rows.append(
            {
                "model": name,
                "split": split,
                "start": start,
                "status": local.status,
                "objective": local.objective,
                "optimum": best.objective,
                "success": bool(found and local_value <= best_value * (1 + 1e-6) + 1e-300),
                "over_optimum": local_value / best_value if found and best_value > 0 else np.nan,
            }
        )
    return rows


def single_start_study(study: Study, starts: int, *, progress: bool = True, **parallel: Any) -> pd.DataFrame:
    """The local non-convex solver from single random starts, at every split at the default budgets.

    ``success`` when the start reaches the optimum of ``solve`` within ``1e-6`` relative. Shows what the convex
    reformulation removes: how often one SLSQP run from a random point ends elsewhere.

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    starts : int
        Random starts per split [count].
    progress : bool
        Show a progress bar.
    **parallel
        ``workers``, ``scheduler_address`` of :func:`coinfer.base.parallel.parallel_map`.

    Returns
    -------
    pandas.DataFrame
        One row per (model, split, start), as :func:`single_starts_at`.

    References
    ----------
    docs/model.md, section 5.6.
    """
    tasks = [(name, split) for name in study.models for split in range(len(study.rows_of[name]))]
    results = parallel_map(
        functools.partial(single_starts_at, study, starts), tasks, desc="single starts", progress=progress, **parallel
    )
    return pd.DataFrame([row for rows in results for row in rows])


def relative_gap(value: float, reference: float, scale: float) -> float:
    """Relative gap; near a zero optimum (``magnitude`` at rho = 0) relative to ``1e-6 b_bar`` instead.

    Parameters
    ----------
    value, reference : float
        The two objectives [weight units].
    scale : float
        ``b_bar`` of the model [weight units] (:func:`mean_scale`).

    Returns
    -------
    float
        ``|value - reference| / max(|reference|, 1e-6 scale)`` [1].
    """
    return abs(value - reference) / max(abs(reference), 1e-6 * scale)


@one_blas_thread  # the bytes of the tables must not depend on the machine's BLAS threads
def solver_agreement(
    study: Study, instances: int, rng: np.random.Generator, *, progress: bool = True
) -> tuple[pd.DataFrame, np.ndarray]:
    """``solve`` against ``solve_reference`` on random settings (``opt_solver_agreement``) and their times (s).

    Times are returned, never written to ``data/`` (they vary between runs).

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    instances : int
        Random settings [count].
    rng : numpy.random.Generator
        Source of the settings.
    progress : bool
        Show a progress bar.

    Returns
    -------
    tuple of (pandas.DataFrame, numpy.ndarray)
        One row per (instance, split) with both statuses, both objectives [weight units] and the
        ``relative_gap`` [1]; and the times of ``solve`` and ``solve_reference`` per problem [s].

    References
    ----------
    docs/model.md, sections 5.3 and 5.4.
    """
    rows, times = [], []
    for instance in tqdm(range(instances), desc="solve vs solve_reference", disable=not progress):
        name = study.models[int(rng.integers(len(study.models)))]
        split = int(rng.integers(len(study.rows_of[name])))
        setting: dict[str, Any] = {
            "latency_factor": float(np.exp(rng.uniform(np.log(0.05), np.log(20)))),
            "energy_factor": float(np.exp(rng.uniform(np.log(0.05), np.log(20)))),
            "distance": float(rng.uniform(50, 1000)),
            "fading": float(system.rayleigh_fading(rng)),
            "energy_scope": str(rng.choice(system.ENERGY_SCOPES)),
            "distortion_model": str(rng.choice(system.DISTORTION_MODELS)),
        }
        problem = study.problems(name, **setting)[split]
        start = time.perf_counter()
        fast = optimise.solve(problem)
        middle = time.perf_counter()
        slow = optimise.solve_reference(problem)
        times.append((middle - start, time.perf_counter() - middle))
        if fast.status == "optimal" and fast.decision is not None:
            violations = system.evaluate(problem, fast.decision, rtol=1e-6).violations
            if violations:
                raise AssertionError(f"instance {instance}: solve returned an infeasible point: {violations}")
        gap = np.nan
        if fast.status == slow.status == "optimal" and fast.objective is not None and slow.objective is not None:
            gap = relative_gap(fast.objective, slow.objective, mean_scale(problem))
        rows.append(
            {
                "instance": instance,
                "model": name,
                "split": split,
                **setting,
                "status_solve": fast.status,
                "status_reference": slow.status,
                "objective_solve": fast.objective,
                "objective_reference": slow.objective,
                "relative_gap": gap,
            }
        )
    return pd.DataFrame(rows), np.array(times).reshape(-1, 2)


def equal_energy_per_flop_psi_server() -> float:
    """The server ``psi`` that gives it the device's energy per FLOP at maximum clocks (model.md section 7).

    Energy per FLOP at ``f_max`` is ``eta psi f_max^2 / c``; with the defaults the
    server's is about 60 times the device's.

    Returns
    -------
    float
        The server's effective switched capacitance ``psi`` [J s^2 per cycle] for equal energy per FLOP.

    References
    ----------
    docs/model.md, section 7.1.
    """
    d = system.DEFAULTS
    device = d["pue_device"] * d["psi_device"] * d["f_device_max"] ** 2 / d["flops_per_cycle_device"]
    return device * d["flops_per_cycle_server"] / (d["pue_server"] * d["f_server_max"] ** 2)


def readings(energy_scope: str, distortion_model: str) -> dict[str, dict[str, Any]]:
    """The alternative readings of the C3 and C4 set-up (model.md section 1): name -> Problem overrides.

    Parameters
    ----------
    energy_scope : str
        The main reading's energy scope (:data:`coinfer.model.system.ENERGY_SCOPES`).
    distortion_model : str
        The main reading's distortion model (``rd_bound`` or ``magnitude``).

    Returns
    -------
    dict of str to dict
        Reading name -> the Problem fields it overrides (in their model.md section 8.2 units).
    """
    return {
        "as run": {},
        "energy scope " + ("device" if energy_scope == "system" else "system"): {
            "energy_scope": "device" if energy_scope == "system" else "system"
        },
        "objective " + ("magnitude" if distortion_model == "rd_bound" else "rd_bound"): {
            "distortion_model": "magnitude" if distortion_model == "rd_bound" else "rd_bound"
        },
        "server energy per FLOP equal to the device's": {"psi_server": equal_energy_per_flop_psi_server()},
        "8-bit split features": {FEATURE_BITS: 8},
        "compressed split features (fewest bits adding <= 1 % output distortion)": {
            COMPRESSED_FEATURES: profiles.FEATURE_DISTORTION_CAP
        },
        "measured sparse kernels (this CPU)": {MEASURED_SPARSE: True},
        PAPER_MODEL_READING: dict(system.PAPER_MODEL),
    }


#: The reading of the paper's model: every physical term of model.md section 2.7 at zero (issue 22 item 4).
PAPER_MODEL_READING = "the paper's model (no frequency floor, static or memory energy, access latency)"


#: Reading key that changes the profile (bits per sent feature element), not a Problem field.
FEATURE_BITS = "feature_bits_per_element"
#: Reading key: each split's feature at the fewest bits within this measured output distortion.
COMPRESSED_FEATURES = "compressed_features_max_distortion"
#: Reading key: run every split with the measured sparse execution model (``coinfer.nets.timing``).
MEASURED_SPARSE = "measured_sparse_execution"


def _reading_grid_base(study: Study, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The Problem fields a reading's budget grids are computed with: the study's (its system model, so the
    paper's-model reading keeps physical budgets), in the reading's own energy scope where it changes the scope,
    because a budget below that scope's least energy of one inference is no budget at all (model.md 7.3)."""
    fields = dict(study.base if study.grid_base is None else study.grid_base)
    if "energy_scope" in overrides:
        fields["energy_scope"] = overrides["energy_scope"]
    return fields


def robustness_tables(
    study: Study,
    sweeps: Mapping[str, tuple[str, np.ndarray]],
    split_bandwidths: Sequence[float],
    split_latency_factors: Sequence[float],
    *,
    local_starts: int = 1,
    feature_quantisation: pd.DataFrame | None = None,
    progress: bool = True,
    **parallel: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The C3 sweep table and the C4 split curves under each reading of :func:`readings`.

    Each reading reruns the budget sweeps (the local non-convex benchmark with ``local_starts`` starts) and the
    split curves with its overrides; the reference budgets are recomputed for the reading; the claims report
    applies each claim's criterion to every reading.

    Parameters
    ----------
    study : Study
        The models, their profile rows, budget grids and default points of the notebook run.
    sweeps : mapping of str to (str, numpy.ndarray)
        The sweeps of :func:`sweep_values`: setting and values [1 for budget factors, Hz, m].
    split_bandwidths : sequence of float
        Bandwidths of the split curves [Hz].
    split_latency_factors : sequence of float
        Latency budgets of the split curves relative to each model's reference [1].
    local_starts : int
        Starts of the local non-convex benchmark [count].
    feature_quantisation : pandas.DataFrame, optional
        ``data/feature_quantisation.csv``; enables the compressed-features reading.
    progress : bool
        Show a progress bar.
    **parallel
        ``workers``, ``scheduler_address`` of :func:`coinfer.base.parallel.parallel_map`.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(opt_robustness_sweep, opt_robustness_splits)``, each with a ``reading`` column (units as in
        :func:`budget_sweeps` and :func:`split_curves`).

    References
    ----------
    docs/model.md, sections 1 and 7.4.
    """
    sweep_frames, split_frames = [], []
    base = study.base
    for reading, overrides in readings(
        base.get("energy_scope", "system"), base.get("distortion_model", "rd_bound")
    ).items():
        overrides = dict(overrides)
        bits = overrides.pop(FEATURE_BITS, None)
        compressed = overrides.pop(COMPRESSED_FEATURES, None)
        if compressed is not None and feature_quantisation is None:
            continue  # no measurement of the feature rounding: the reading cannot be computed
        profile = study.profile if bits is None else profiles.with_feature_bits(study.profile, bits)
        if compressed is not None and feature_quantisation is not None:
            profile = profiles.with_compressed_features(profile, feature_quantisation, compressed)
        sparse = timing.load_measurements()[1] if overrides.pop(MEASURED_SPARSE, False) else None
        variant = Study(
            profile,
            study.models,
            study.latency_factor,
            study.energy_factor,
            {**base, **overrides},
            study.rho_fixed,
            local_starts,
            study.seed,
            sparse,
            study.latency_budget,
            study.energy_budget,
            max((len(v) for k, v in sweeps.values() if k not in BUDGET_KEYS), default=study.points),
            _reading_grid_base(study, overrides),
        )
        table, _ = budget_sweeps(variant, sweeps, progress=progress, **parallel)
        table.insert(0, "reading", reading)
        sweep_frames.append(table)
        curves = split_curves(variant, split_bandwidths, split_latency_factors)
        curves.insert(0, "reading", reading)
        split_frames.append(curves)
    return pd.concat(sweep_frames, ignore_index=True), pd.concat(split_frames, ignore_index=True)
