"""Back end of notebook 09_multi_user: populations of users on real profiles, the joint design and the baselines
(model.md section 13.9).

:func:`draw_population` draws ``K`` users from ``data/profiles.csv`` (a model per user, every split of it a
candidate, a distance and a Rayleigh fading draw, budgets by task); :func:`run_study` solves each population
jointly (:func:`coinfer.optimise.solve_multiuser`) and by every baseline
(:func:`coinfer.optimise.solve_baseline`) and returns two tidy tables, one row per (population, scheme) and one
per (population, scheme, user).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coinfer.base.progress import tqdm
from coinfer.base.threads import blas_threads
from coinfer.base.validation import ParameterError
from coinfer.model.system import DEFAULTS, Problem, channel_gain, paper_model, problems_for_splits
from coinfer.nets.budgets import FAMILIES, check_budget, physical_minima
from coinfer.optimise import (
    MULTIUSER_BASELINES,
    MultiUser,
    MultiUserProblem,
    MultiUserSolution,
    solve_baseline,
    solve_multiuser,
)

#: The system models a study can be run in (model.md 2.7, 13.1).
SYSTEM_MODELS = ("physical", "paper")

#: The models users are drawn from (equal probability) and the task each serves.
MODELS: dict[str, str] = {
    "digits_cnn": "image",
    "efficientnet_lite0": "image",
    "efficientnet_lite1": "image",
    "efficientnet_lite2": "image",
    "minilm": "text",
    "mpnet_base": "text",
}


@dataclass(frozen=True)
class Budget:
    """A task's latency [s] and energy [J] budgets per inference, with their sources (model.md 13.9)."""

    latency: float
    energy: float
    latency_source: str
    energy_source: str


def _task_budget(family: str) -> Budget:
    latency, energy = FAMILIES[family].latency_anchors[0], FAMILIES[family].energy_anchors[0]
    return Budget(latency.value, energy.value, latency.source, energy.source)


#: The task budgets: the first latency anchor and the energy anchor of the task's family (model.md 7.3,
#: :data:`coinfer.nets.budgets.FAMILIES`): image 15 ms (3GPP TS 22.261 Table 7.10.1-1, split AI/ML image
#: recognition) and 0.01925 J (assumed: 10 % of a 15.4 Wh battery over 8 h at 10 inferences/s); text 100 ms
#: (TS 22.261, enhanced media recognition) and 0.1925 J (the same battery share at 1 inference/s).
BUDGETS: dict[str, Budget] = {"image": _task_budget("efficientnet_lite"), "text": _task_budget("text_encoder")}
#: Users' distances [m]: uniform over the area of an annulus from the least 2D distance of 3GPP TR 38.901 UMa
#: (35 m) to the radius of a cell at its 500 m inter-site distance (500 / sqrt(3) m).
DISTANCE_RANGE = (35.0, 500.0 / math.sqrt(3.0))
#: The band shared [Hz]: an NR channel bandwidth (3GPP TS 38.101-1 Table 5.3.2-1).
BANDWIDTH = 20e6
#: The server shared [Hz]: the edge server of model.md section 7.1.
SERVER = float(DEFAULTS["f_server_max"])


def _split_kind(problem: Problem) -> str:
    """``on_device`` (nothing sent, nothing on the server), ``on_server`` (nothing on the device) or
    ``split`` (both sides work)."""
    device = sum(problem.cycles("device")) > 0
    server = sum(problem.cycles("server")) > 0
    if not server and problem.feature_bits == 0:
        return "on_device"
    return "on_server" if not device else "split"


def base_problems(
    profile: pd.DataFrame, models: Sequence[str], system_model: str = "paper"
) -> dict[str, list[Problem]]:
    """Each model's split problems at 200 m with placeholder budgets (model.md 13.9).

    They are copied per user by :func:`draw_population`, which sets the user's channel and budgets: built once,
    since a Problem built from a mapping is checked field by field. Each task's budgets are checked against each
    model's minima under the physical model (model.md 7.3: one clock cycle, one radio slot where every split
    sends, the least energy of one inference; at 200 m, as built).

    Parameters
    ----------
    profile : pandas.DataFrame
        The rows of ``data/profiles.csv`` (notebook 05).
    models : sequence of str
        The models (keys of :data:`MODELS`).
    system_model : {"paper", "physical"}, default "paper"
        ``"physical"`` (model.md 2.7, the server's clock floor left to the shared server, model.md 13.1) or
        ``"paper"`` (every physical term at zero; the model of the certificate and of the local check, model.md
        13.5-13.6).

    Returns
    -------
    dict of str to list of Problem
        Per model, one problem per split (band :data:`BANDWIDTH` [Hz], server :data:`SERVER` [Hz], device
        energy scope).

    Raises
    ------
    ParameterError
        Where a task's budget is below a model's physical minimum, or ``system_model`` is unknown.
    """
    settings = {"energy_scope": "device", "bandwidth": BANDWIDTH, "f_server_max": SERVER}
    physical = {
        m: problems_for_splits(profile[profile["model"] == m], latency_budget=1.0, energy_budget=1.0, **settings)
        for m in models
    }
    for model, splits in physical.items():
        minima, budget = physical_minima(splits), BUDGETS[MODELS[model]]
        check_budget(f"{MODELS[model]} latency budget of {model}", budget.latency, minima, minima.every_split_sends)
        check_budget(f"{MODELS[model]} energy budget of {model}", budget.energy, minima)
    if system_model not in SYSTEM_MODELS:
        raise ParameterError(
            f"system_model: got {system_model!r}; allowed one of " + ", ".join(map(repr, SYSTEM_MODELS))
        )
    if system_model == "physical":  # the server's clock floor becomes the socket's in MultiUserProblem
        return physical
    return {m: [paper_model(p) for p in splits] for m, splits in physical.items()}


def draw_population(
    base: dict[str, list[Problem]], users: int, rng: np.random.Generator, weighting: str
) -> tuple[MultiUserProblem, pd.DataFrame]:
    """A population of ``users`` users sharing one band and one server (model.md 13.9).

    Each user gets a model drawn with equal probability, a distance uniform over the area of the annulus
    :data:`DISTANCE_RANGE`, a Rayleigh fading power gain (exponential, mean 1) and its task's budgets
    (:data:`BUDGETS`); every split of its model is a candidate.

    Parameters
    ----------
    base : dict of str to list of Problem
        Each model's split problems (:func:`base_problems`).
    users : int
        The number of users ``K`` [count].
    rng : numpy.random.Generator
        The random draws' generator.
    weighting : str
        How users are weighted in the objective (:data:`coinfer.optimise.multiuser.WEIGHTINGS`).

    Returns
    -------
    problem : coinfer.optimise.MultiUserProblem
        The users on band :data:`BANDWIDTH` [Hz] and server :data:`SERVER` [Hz], with the ``sum`` objective.
    table : pandas.DataFrame
        One row per user: ``user``, ``model``, ``task``, ``distance_m`` [m] and ``fading_gain`` [1].
    """
    models = list(base)
    chosen = rng.integers(len(models), size=users)
    low, high = DISTANCE_RANGE
    distance = np.sqrt(rng.uniform(low**2, high**2, size=users))
    fading = rng.exponential(1.0, size=users)
    built = []
    rows = []
    for k in range(users):
        model = models[int(chosen[k])]
        budget = BUDGETS[MODELS[model]]
        gain = channel_gain(float(distance[k]), float(fading[k]))
        splits = tuple(
            p.replace(latency_budget=budget.latency, energy_budget=budget.energy, channel_gain=gain)
            for p in base[model]
        )
        built.append(MultiUser(splits, tuple(str(s) for s in range(len(splits))), f"user {k}"))
        rows.append((k, model, MODELS[model], float(distance[k]), float(fading[k])))
    problem = MultiUserProblem(tuple(built), BANDWIDTH, SERVER, "sum", weighting)
    table = pd.DataFrame(rows, columns=["user", "model", "task", "distance_m", "fading_gain"])
    return problem, table


def _scheme_rows(problem: MultiUserProblem, solution: MultiUserSolution, scheme: str, seconds: float) -> dict:
    return {
        "scheme": scheme,
        "status": solution.status,
        "objective": solution.objective,
        "lower_bound": solution.lower_bound,
        "relative_gap": solution.relative_gap,
        "band_price": solution.band_price,
        "server_price": solution.server_price,
        "band_used": solution.band_used,
        "server_used": solution.server_used,
        "seconds": seconds,
        "reason": solution.reason or "",
    }


def _user_rows(problem: MultiUserProblem, solution: MultiUserSolution, scheme: str, users: pd.DataFrame) -> list[dict]:
    if not solution.users:
        return []
    out = []
    for k, (user, answer) in enumerate(zip(problem.users, solution.users, strict=True)):
        # the label is the split's index among all of the model's splits (a baseline may offer fewer)
        split = user.splits[int(answer.label)] if answer.label is not None else None
        distortion = answer.solution.objective
        out.append({
            "scheme": scheme,
            "user": k,
            "model": users["model"].iloc[k],
            "task": users["task"].iloc[k],
            "distance_m": users["distance_m"].iloc[k],
            "split": int(answer.label) if answer.label is not None else None,
            "split_kind": _split_kind(split) if split is not None else "",
            "splits": len(user.splits) - 1,
            "normalised_distortion": (distortion / user.mean_scale) if distortion is not None else None,
            "bandwidth_share": answer.bandwidth if answer.bandwidth is not None else 0.0,
            "f_server_share": answer.f_server if answer.f_server is not None else 0.0,
            "rho_device": answer.solution.rho_device,
            "rho_server": answer.solution.rho_server,
        })  # fmt: skip
    return out


def run_study(
    profile: pd.DataFrame,
    users: Sequence[int],
    populations: int,
    *,
    seed: int,
    models: Sequence[str],
    weighting: str,
    baselines: Sequence[str] = MULTIUSER_BASELINES,
    system_model: str = "physical",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Solve ``populations`` seeded populations of each size in ``users``, jointly and by each baseline.

    Every population is solved by the baselines first (each feasible baseline's design is also a start of the
    joint search, so that the joint design is never worse than any of them, model.md 13.4), then jointly with
    its certificate. BLAS runs on one thread (the bytes of the tables do not depend on the machine's thread
    count); the seconds columns are wall times and are the only numbers that change between runs.

    Parameters
    ----------
    profile : pandas.DataFrame
        The rows of ``data/profiles.csv`` (notebook 05).
    users : sequence of int
        The population sizes ``K`` [count].
    populations : int
        Populations drawn per size [count].
    seed : int
        The seed; population ``j`` of size ``K`` draws from ``SeedSequence([seed, K, j])``.
    models : sequence of str
        The models users are drawn from (keys of :data:`MODELS`).
    weighting : str
        How users are weighted in the objective (:data:`coinfer.optimise.multiuser.WEIGHTINGS`).
    baselines : sequence of str, default :data:`coinfer.optimise.MULTIUSER_BASELINES`
        The baselines solved besides the joint design (model.md 13.7).
    system_model : {"physical", "paper"}, default "physical"
        As in :func:`base_problems`.

    Returns
    -------
    schemes : pandas.DataFrame
        One row per (population, scheme): ``users``, ``population``, ``scheme``, ``status``, ``objective``,
        ``lower_bound``, ``relative_gap`` [1], ``band_price`` and ``server_price`` [objective units per Hz],
        ``band_used`` and ``server_used`` [Hz], ``seconds`` [s] and ``reason``.
    per_user : pandas.DataFrame
        One row per (population, scheme, user): its model, task, distance [m], split and its kind (``on_device``,
        ``on_server`` or ``split``), normalised distortion [1], shares of band and server [Hz] and ratios.

    References
    ----------
    docs/model.md, sections 13.4-13.9.
    """
    base = base_problems(profile, models, system_model)
    scheme_rows = []
    user_rows = []
    jobs = [(k, j) for k in users for j in range(populations)]
    with blas_threads():
        for k, j in tqdm(jobs, desc="populations", unit="population"):
            rng = np.random.default_rng(np.random.SeedSequence([seed, k, j]))
            problem, table = draw_population(base, k, rng, weighting)
            answers = {}
            for name in baselines:
                started = time.perf_counter()
                answers[name] = (solve_baseline(problem, name), time.perf_counter() - started)
            started = time.perf_counter()
            solved = {name: answers[name][0] for name in baselines}  # every baseline's design is a start
            answers["joint"] = (solve_multiuser(problem, baselines=solved), time.perf_counter() - started)
            for scheme, (solution, seconds) in answers.items():
                row = {"users": k, "population": j, **_scheme_rows(problem, solution, scheme, seconds)}
                scheme_rows.append(row)
                for user_row in _user_rows(problem, solution, scheme, table):
                    user_rows.append({"users": k, "population": j, **user_row})
    schemes = pd.DataFrame(scheme_rows)
    per_user = pd.DataFrame(user_rows)
    return schemes, per_user


def check_against_local(
    profile: pd.DataFrame,
    users: Sequence[int],
    populations: int,
    *,
    seed: int,
    models: Sequence[str],
    weighting: str,
    starts: int = 8,
) -> pd.DataFrame:
    """The independent check on small populations (model.md 13.6).

    Each population of the study with a size in ``users`` (the first ``populations`` of each, drawn as
    :func:`run_study` draws them, under the paper's model) is solved by :func:`~coinfer.optimise.solve_multiuser`
    and by :func:`~coinfer.optimise.solve_multiuser_local` restricted to the splits the joint design chose (every
    assignment of every split would be too many).

    Parameters
    ----------
    profile : pandas.DataFrame
        The rows of ``data/profiles.csv`` (notebook 05).
    users : sequence of int
        The population sizes ``K`` [count].
    populations : int
        Populations checked per size [count].
    seed : int
        The study's seed (also the local search's).
    models : sequence of str
        The models users are drawn from (keys of :data:`MODELS`).
    weighting : str
        How users are weighted in the objective (:data:`coinfer.optimise.multiuser.WEIGHTINGS`).
    starts : int, default 8
        Starts of the local search [count].

    Returns
    -------
    pandas.DataFrame
        One row per population: ``users``, ``population``, the joint design's ``status``, both objectives
        (``joint``, ``local_check``) and ``relative_difference`` ``(joint - local) / |local|`` [1] (positive: the
        joint design is worse; empty where the joint design has none).
    """
    from coinfer.optimise import solve_multiuser_local

    base = base_problems(profile, models)
    rows: list[tuple[int, int, str, float | None, float | None, float | None]] = []
    with blas_threads():
        for k in users:
            for j in range(populations):
                rng = np.random.default_rng(np.random.SeedSequence([seed, k, j]))
                problem, _ = draw_population(base, k, rng, weighting)
                mine = solve_multiuser(problem)
                splits = [u.split for u in mine.users]
                if mine.status not in ("optimal", "feasible") or mine.objective is None or None in splits:
                    rows.append((k, j, mine.status, None, None, None))
                    continue
                chosen = problem.restrict_splits([int(s) for s in splits if s is not None])
                local = solve_multiuser_local(chosen, starts=starts, seed=seed)
                rel = (mine.objective - local.objective) / abs(local.objective) if local.objective else None
                rows.append((k, j, mine.status, mine.objective, local.objective, rel))
    return pd.DataFrame(rows, columns=["users", "population", "status", "joint", "local_check", "relative_difference"])
