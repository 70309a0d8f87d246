"""The model-size study: "the larger the merrier?" on real weights (model.md section 10).

Within one family trained the same way, every member gets the SAME absolute
latency and energy budgets, bandwidth and distance. For each member and budget
point the joint design of section 5 is solved at its best split
(:func:`coinfer.optimise.select_split` over
:func:`coinfer.model.system.problems_for_splits` of its profile rows), deployed on the
real weights (:func:`coinfer.nets.deploy.deploy`, section 9: magnitude pruning per
side, 16-bit weights, the feature sent in half precision) and measured on
held-out inputs with the family's task metric (section 6). Each distinct design
(model, split, pruned count per side) is measured once.

Budgets (:func:`family_budgets`): two sweeps per family in seconds and joules, the family's grid of
:func:`coinfer.nets.budgets.budget_grid` (model.md section 7.3; issue 22, item 3):

- ``latency_budget`` sweep, with the energy budget fixed at the *loose* energy
  ``E_loose`` (the largest unpruned energy at full resources of any split of
  any member, so the energy budget never binds);
- ``energy_budget`` sweep, with the latency budget fixed at ``T_loose`` (the
  largest unpruned latency at full resources of any split of any member).

Each sweep starts at the least budget at which some member is feasible (never below one device clock cycle, one
radio slot where every split sends, or the least energy of one inference) and ends where every member's unpruned
model fits, with the family's published latency anchor inserted. Until issue 22 the ranges were
``[min floor / 1.5, max free point * 1.5]`` under the paper's model, whose floors went down to 1.4e-10 s and
1.2e-22 J. Each member's floor (least budget with a feasible split) and free point (least budget whose
objective equals its value at ``(T_loose, E_loose)``) are still found by bisection in ``log`` budget and
reported.

The verdict L1 (:func:`verdict`, the artifact's own question, not a paper
claim) is fixed here before the full data existed: per family, the share of
feasible budget points (some member feasible) where the largest member
measures best, a tie within :data:`TIE_MARGIN` of the best counting for the
larger member; it holds for the family when that share is at least
:data:`HOLDS_SHARE`. The budgets at which the winner changes are reported.

The meta-device family (no weights) is solved for the bound alone: its rows
carry the objective and the design but no task metric.

This module's verdict functions use pandas only; the solvers, models and
deployment are imported where they are used.
"""

from __future__ import annotations

import functools
import gc
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coinfer.base.validation import ParameterError, require_range
from coinfer.nets.budgets import BudgetGrid
from coinfer.nets.digits import DIGITS_MLP_SEEDS

#: family -> members in increasing size (the full study; notebook 08 may run a subset of each).
FAMILIES: dict[str, tuple[str, ...]] = {
    "digits_mlp": tuple(f"digits_mlp_w{w}" for w in (8, 16, 32, 64, 128, 256)),
    "text_encoder": ("minilm", "mpnet_base"),
    "efficientnet_lite": ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"),
    "meta_large": ("bert_large", "gpt2_xl", "llama_7b"),
}
#: The family without weights: solved for the bound only, never deployed.
META_FAMILY = "meta_large"
#: The two sweeps of every family.
SWEEPS: tuple[str, ...] = ("latency_budget", "energy_budget")
#: Metric values within this absolute margin of the best tie; a tie goes to the larger member (L1, fixed in advance).
TIE_MARGIN = 0.01
#: L1 holds for a family when the largest member is best at least at this share of its feasible budget points.
HOLDS_SHARE = 0.5
#: L1 on labelled tasks (issue 23, items 2 and 4; fixed before its data, model.md section 10): a member is *usable* at
#: a budget point when it is feasible and its labelled score is at least this share of its own unpruned score.
USABLE_SHARE = 0.5
#: Two-sided level of the paired test (:func:`coinfer.model.stats.paired_comparison`) that decides a member against
#: another at one budget point; an undecided difference is a tie.
PAIRED_ALPHA = 0.05
#: Training seeds of every digits member (:data:`coinfer.nets.digits.DIGITS_MLP_SEEDS`): seed 0 is
#: ``digits_mlp_w<w>``, seed k > 0 ``digits_mlp_w<w>_s<k>``; the digits scores are seed means.
DIGITS_SEEDS: tuple[int, ...] = DIGITS_MLP_SEEDS
#: Topics of the text family's labelled task (:func:`coinfer.nets.inputs.topic_task`; notebook 07's default).
TOPIC_CLASSES = 12
#: Design key of a member's unpruned outcomes in ``size_outcomes.csv``.
UNPRUNED = "unpruned"
#: The labelled task of each measured family (model.md section 10).
LABELLED_TASKS: dict[str, str] = {
    "digits_mlp": "digit class (true labels of the digits test split)",
    "text_encoder": "documentation topic (coinfer.nets.inputs.topic_task, nearest centroid of the member's own "
    "unpruned embeddings)",
    "efficientnet_lite": "ImageNet class of each crop named by a strict majority of the family's unpruned members",
}
#: Column order of ``data/size_outcomes.csv``: the predicted class of every input, per member, training seed and
#: distinct design (``design`` as in ``size_study.csv``, or :data:`UNPRUNED`), space-separated in input order.
OUTCOME_COLUMNS: tuple[str, ...] = ("family", "model", "params", "seed", "design", "predictions")
#: Column order of ``data/size_inputs.csv``: per family and input (its index in the outcomes), the source it shares
#: with other inputs (topic of a sentence, photo of a crop, the input itself for digits) and its label (-1: none).
INPUT_COLUMNS: tuple[str, ...] = ("family", "input", "cluster", "label")
#: Bits of the deployed weights and of the sent feature (the problems' ``bits_per_weight`` and the profiles' 16).
WEIGHT_BITS = 16
FEATURE_BITS = 16
#: Relative tolerance under which an objective equals the unconstrained one (the unconstrained objectives of
#: different splits differ by rounding, a few 1e-9 relative, e.g. one pruned side against two).
FREE_RTOL = 1e-6

#: Column order of ``data/size_study.csv``.
COLUMNS: tuple[str, ...] = (
    "family",
    "model",
    "params",
    "sweep",
    "budget_value",
    "latency_budget",
    "energy_budget",
    "bandwidth",
    "distance",
    "status",
    "split",
    "split_name",
    "num_blocks",
    "rho_device",
    "rho_server",
    "objective",
    "latency",
    "energy",
    "task_metric",
    "task_metric_ci95_low",
    "task_metric_ci95_high",
    "task_metric_name",
    "distortion",
    "distortion_ci95_low",
    "distortion_ci95_high",
    "heldout_samples",
    "design",
)


# --------------------------------------------------------------------------- solving
def _problems(rows: pd.DataFrame, latency_budget: float, energy_budget: float, settings: Mapping[str, Any]) -> list:
    from coinfer.model.system import problems_for_splits

    return problems_for_splits(rows, latency_budget=latency_budget, energy_budget=energy_budget, **settings)


def best_design(
    rows: pd.DataFrame, latency_budget: float, energy_budget: float, settings: Mapping[str, Any]
) -> tuple[int | None, Any]:
    """``(best split or None, Solution or None)`` of one member (its profile rows) under budgets (model.md §5.5).

    Parameters
    ----------
    rows : pandas.DataFrame
        The member's rows of the profile table, one per split.
    latency_budget : float
        Latency budget ``T`` [s].
    energy_budget : float
        Energy budget ``E`` [J].
    settings : mapping
        The :func:`coinfer.model.system.make_problem` fields shared by every member (``bandwidth`` [Hz],
        ``distance`` [m], ...).

    Returns
    -------
    tuple
        The best split index [1] (:func:`coinfer.optimise.select_split`) and its
        :class:`~coinfer.optimise.Solution`, or ``(None, None)`` when no split is feasible.

    References
    ----------
    docs/model.md, sections 5.3 (the fast solver) and 5.5 (split selection).
    """
    from coinfer.optimise import select_split

    best, solutions = select_split(_problems(rows, latency_budget, energy_budget, settings))
    return best, (None if best is None else solutions[best])


def log_threshold(predicate: Callable[[float], bool], low: float, high: float, iterations: int = 32) -> float:
    """The least ``x`` in ``[low, high]`` with ``predicate(x)`` (monotone: False then True), bisected in ``log x``.

    ``predicate(high)`` must hold; if ``predicate(low)`` holds, ``low`` is returned.

    Parameters
    ----------
    predicate : callable
        ``x -> bool``, monotone in ``x``.
    low, high : float
        The bracket [unit of ``x``], ``0 < low``.
    iterations : int
        Bisection steps [count]: relative precision ``(high / low) ** (2 ** -iterations)``.

    Returns
    -------
    float
        The threshold [unit of ``x``].
    """
    require_range("low", low, 0.0, low_open=True)
    if not predicate(high):
        raise ParameterError(f"high: predicate fails at {high:g}; expected it to hold at the upper end")
    if predicate(low):
        return low
    lo, hi = math.log(low), math.log(high)
    for _ in range(iterations):
        middle = 0.5 * (lo + hi)
        if predicate(math.exp(middle)):
            hi = middle
        else:
            lo = middle
    return math.exp(hi)


@dataclass(frozen=True)
class FamilyBudgets:
    """The budget frame of one family (model.md sections 7.3, 10): its physical grid and each member's thresholds."""

    #: Latency budget held fixed in the energy sweep (s) and energy budget held fixed in the latency sweep (J).
    latency_loose: float
    energy_loose: float
    #: member -> (floor, free point) along each sweep.
    latency_thresholds: dict[str, tuple[float, float]]
    energy_thresholds: dict[str, tuple[float, float]]
    #: The family's grid in seconds and joules (:func:`coinfer.nets.budgets.budget_grid`).
    physical: BudgetGrid

    def sweep_range(self, sweep: str) -> tuple[float, float]:
        """``(low, high)`` of ``sweep``: some member feasible at ``low``, every unpruned member fits at ``high``.

        Parameters
        ----------
        sweep : str
            ``"latency_budget"`` or ``"energy_budget"``.

        Returns
        -------
        tuple of float
            ``low`` and ``high`` [s or J].
        """
        values = self.physical.values(sweep)
        return float(values[0]), float(values[-1])

    def grid(self, sweep: str) -> np.ndarray:
        """The budget values of ``sweep`` [s or J] (the physical grid; model.md section 7.3).

        Parameters
        ----------
        sweep : str
            ``"latency_budget"`` or ``"energy_budget"``.

        Returns
        -------
        numpy.ndarray
            The budgets [s or J].
        """
        return self.physical.values(sweep)

    def fixed(self, sweep: str, value: float) -> tuple[float, float]:
        """``(latency_budget, energy_budget)`` at the point ``value`` of ``sweep``.

        Parameters
        ----------
        sweep : str
            ``"latency_budget"`` or ``"energy_budget"``.
        value : float
            The swept budget [s or J].

        Returns
        -------
        tuple of float
            Latency budget [s] and energy budget [J].
        """
        return (value, self.energy_loose) if sweep == "latency_budget" else (self.latency_loose, value)


def family_budgets(
    profile: pd.DataFrame, members: Sequence[str], settings: Mapping[str, Any], points: int = 8
) -> FamilyBudgets:
    """The family's physical grid and each member's floor and free point along both sweeps (module docstring).

    Parameters
    ----------
    profile : pandas.DataFrame
        The profile table (``profiles.csv``) holding every member's rows.
    members : sequence of str
        The family's members to run, in increasing size.
    settings : mapping
        The :func:`coinfer.model.system.make_problem` fields shared by every member (``bandwidth`` [Hz],
        ``distance`` [m], ...).
    points : int
        Log-spaced points of each sweep between its ends [count, >= 2]; the family's anchors add to them.

    Returns
    -------
    FamilyBudgets
        ``latency_loose`` [s], ``energy_loose`` [J], each member's ``(floor, free point)`` along the latency
        sweep [s] and the energy sweep [J], and the grid.

    References
    ----------
    docs/model.md, sections 7.3 (budgets) and 10 (model size study).
    """
    from coinfer.nets.budgets import budget_grid, family_of

    rows = {m: _member_rows(profile, m) for m in members}
    physical = budget_grid(profile, members, settings, points, family=family_of(members[0]).name)
    t_loose, e_loose = physical.latency_loose, physical.energy_loose
    thresholds: dict[str, dict[str, tuple[float, float]]] = {sweep: {} for sweep in SWEEPS}
    for member, r in rows.items():
        _, free = best_design(r, t_loose, e_loose, settings)
        if free is None:
            raise ParameterError(f"{member}: infeasible at the loose budgets ({t_loose:g} s, {e_loose:g} J)")
        for sweep in SWEEPS:
            thresholds[sweep][member] = member_thresholds(r, sweep, t_loose, e_loose, float(free.objective), settings)
    return FamilyBudgets(t_loose, e_loose, thresholds["latency_budget"], thresholds["energy_budget"], physical)


def member_thresholds(
    rows: pd.DataFrame,
    sweep: str,
    latency_loose: float,
    energy_loose: float,
    free_objective: float,
    settings: Mapping[str, Any],
) -> tuple[float, float]:
    """``(floor, free point)`` of one member along ``sweep`` (the other budget loose), by :func:`log_threshold`.

    The floor is the least budget with a feasible split; the free point the
    least budget whose optimal objective is ``free_objective`` (the value at
    the loose budgets) within :data:`FREE_RTOL`.

    Parameters
    ----------
    rows : pandas.DataFrame
        The member's profile rows.
    sweep : str
        ``"latency_budget"`` or ``"energy_budget"``.
    latency_loose : float
        Loose latency budget [s].
    energy_loose : float
        Loose energy budget [J].
    free_objective : float
        The optimal objective at the loose budgets [weight units] (model.md section 5.1).
    settings : mapping
        The :func:`coinfer.model.system.make_problem` fields shared by every member (``bandwidth`` [Hz],
        ``distance`` [m], ...).

    Returns
    -------
    tuple of float
        ``(floor, free point)`` [s for the latency sweep, J for the energy sweep].

    References
    ----------
    docs/model.md, section 10.
    """
    loose = latency_loose if sweep == "latency_budget" else energy_loose

    def at(value: float) -> Any:
        latency, energy = (value, energy_loose) if sweep == "latency_budget" else (latency_loose, value)
        return best_design(rows, latency, energy, settings)[1]

    def free(value: float) -> bool:
        solution = at(value)
        return solution is not None and solution.objective <= free_objective * (1 + FREE_RTOL)

    low = loose * 1e-12
    while at(low) is not None:  # feasible: look further down (energy floors can sit many decades lower)
        if low < 1e-280:
            raise ParameterError(f"{sweep}: still feasible at {low:g}; no floor found")
        low *= 1e-12
    floor = log_threshold(lambda v: at(v) is not None, low, loose)
    return floor, log_threshold(free, floor, loose)


def _member_rows(profile: pd.DataFrame, model: str) -> pd.DataFrame:
    rows = profile[profile["model"] == model].sort_values("split")
    if rows.empty:
        raise ParameterError(f"profile: no rows of model {model!r}; run notebook 05 with it in `models`")
    return rows


def solve_family(
    family: str,
    profile: pd.DataFrame,
    members: Sequence[str],
    budgets: FamilyBudgets,
    points: int,
    settings: Mapping[str, Any],
) -> pd.DataFrame:
    """Design rows (no measurement yet) of every member at every point of both sweeps.

    Parameters
    ----------
    family : str
        The family's name (a key of :data:`FAMILIES`).
    profile : pandas.DataFrame
        The profile table holding every member's rows.
    members : sequence of str
        The members to run, in increasing size.
    budgets : FamilyBudgets
        The family's budget frame (:func:`family_budgets`).
    points : int
        Log-spaced budget points per sweep [count], at least 2.
    settings : mapping
        The :func:`coinfer.model.system.make_problem` fields shared by every member (``bandwidth`` [Hz],
        ``distance`` [m], ...).

    Returns
    -------
    pandas.DataFrame
        One row per (member, sweep, point) with the :data:`COLUMNS`: budgets [s, J], bandwidth [Hz], distance
        [m], the best split and its ratios [1], objective, latency [s] and energy [J]; metrics still NaN.

    References
    ----------
    docs/model.md, sections 5.5 and 10.
    """
    records = []
    for member in members:
        rows = _member_rows(profile, member)
        params = int(rows["params_device"].iloc[0] + rows["params_server"].iloc[0])
        for sweep in SWEEPS:
            for value in budgets.grid(sweep):
                latency_budget, energy_budget = budgets.fixed(sweep, float(value))
                split, solution = best_design(rows, latency_budget, energy_budget, settings)
                record: dict[str, Any] = {
                    "family": family,
                    "model": member,
                    "params": params,
                    "sweep": sweep,
                    "budget_value": float(value),
                    "latency_budget": latency_budget,
                    "energy_budget": energy_budget,
                    "bandwidth": float(settings.get("bandwidth", np.nan)),
                    "distance": float(settings.get("distance", np.nan)),
                    "status": "infeasible" if solution is None else "optimal",
                    "num_blocks": int(rows["num_blocks"].iloc[0]),
                }
                if solution is not None and split is not None:
                    record.update(
                        split=split,
                        split_name=rows["split_name"].iloc[split],
                        rho_device=solution.rho_device,
                        rho_server=solution.rho_server,
                        objective=solution.objective,
                        latency=solution.latency,
                        energy=solution.energy,
                    )
                records.append(record)
    return pd.DataFrame(records).reindex(columns=list(COLUMNS))


# --------------------------------------------------------------------------- measuring
def design_key(rows: pd.DataFrame, profile: pd.DataFrame) -> pd.Series:
    """``(model, split, pruned device weights, pruned server weights)`` of each optimal row (``None`` otherwise).

    Rows with equal keys deploy the same weights (:func:`coinfer.model.pruning.prune_count` of each side's ``N``),
    so each key is measured once.

    Parameters
    ----------
    rows : pandas.DataFrame
        Design rows (:func:`solve_family`).
    profile : pandas.DataFrame
        The profile table (``params_device``, ``params_server`` [count] per model and split).

    Returns
    -------
    pandas.Series
        The key of each row (pruned counts [count]), ``None`` for infeasible rows.
    """
    from coinfer.model.pruning import prune_count

    sizes = profile.set_index(["model", "split"])[["params_device", "params_server"]]

    def key(row: Any) -> Any:
        if row["status"] != "optimal":
            return None
        n_device, n_server = sizes.loc[(row["model"], int(row["split"]))]
        return (
            row["model"],
            int(row["split"]),
            prune_count(int(n_device), float(row["rho_device"])),
            prune_count(int(n_server), float(row["rho_server"])),
        )

    return rows.apply(key, axis=1)


def _load_fresh(model: str, seed: int) -> Any:
    """The zoo entry's loader (not :func:`coinfer.nets.zoo.load_model`'s per-process cache: each model is released)."""
    from coinfer.nets import zoo

    return zoo.REGISTRY[model].loader(seed)


def _heldout_inputs(model: str, n: int, seed: int) -> Any:
    """``n`` held-out inputs of ``model``: the topic task's evaluation sentences for the text family (tokenised by the
    member's own tokenizer), else :func:`coinfer.nets.zoo.model_inputs`."""
    from coinfer.nets import zoo

    if model in FAMILIES["text_encoder"]:
        from coinfer.nets.inputs import topic_task

        return _sentences(model, topic_task(TOPIC_CLASSES, n, seed).sentences)
    return zoo.model_inputs(model, "heldout", n, seed=seed)


def _sentences(model: str, texts: Sequence[str]) -> Any:
    """``texts`` as the inputs of text member ``model`` (its tokenizer and padded length)."""
    from coinfer.nets import transformers
    from coinfer.nets.inputs import text_batch

    path, length = (
        (transformers.mpnet_path(), transformers.MPNET_MAX_LENGTH)
        if model == "mpnet_base"
        else (transformers.minilm_path(), transformers.MINILM_MAX_LENGTH)
    )
    return text_batch(transformers.load_tokenizer(path), list(texts), max_length=length)


def family_inputs(family: str, n: int, seed: int) -> pd.DataFrame:
    """The labelled inputs of ``family`` in input order (:data:`INPUT_COLUMNS`; model.md section 10, item 5).

    Digits: the true label, each input its own source; text: the topic of :func:`coinfer.nets.inputs.topic_task`
    (:data:`TOPIC_CLASSES` topics), which is also the source; images: the photo of each crop as the source and no
    label yet (-1: :func:`majority_labels` names them from the unpruned members).

    Parameters
    ----------
    family : str
        A measured family of :data:`FAMILIES`.
    n : int
        Held-out inputs [count].
    seed : int
        Seed of the held-out draw [1].

    Returns
    -------
    pandas.DataFrame
        ``family``, ``input`` [index], ``cluster`` [index], ``label`` [class index, -1 for none].
    """
    from coinfer.nets import inputs as inputs_module
    from coinfer.nets import zoo

    if family == "digits_mlp":
        found = zoo.model_inputs(FAMILIES[family][0], "heldout", n, seed=seed).labels
        if found is None:
            raise ParameterError(f"{family}: its held-out inputs carry no labels")
        labels = found.numpy()
        clusters = np.arange(n)
    elif family == "text_encoder":
        labels = np.array(inputs_module.topic_task(TOPIC_CLASSES, n, seed).labels)
        clusters = labels
    elif family == "efficientnet_lite":
        names = inputs_module.PHOTO_SOURCES["heldout"]
        clusters = np.array([names.index(photo) for photo in inputs_module.image_crop_photos("heldout", n, seed)])
        labels = np.full(n, -1)
    else:
        raise ParameterError(f"family: got {family!r}; allowed a measured family of {', '.join(FAMILIES)}")
    frame = {"family": family, "input": np.arange(n), "cluster": clusters, "label": labels}
    return pd.DataFrame(frame).reindex(columns=list(INPUT_COLUMNS)).astype({"cluster": int, "label": int})


def majority_labels(predictions: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per input, the class a strict majority of the unpruned members predict, -1 where there is none.

    Parameters
    ----------
    predictions : mapping of str to numpy.ndarray
        Member -> its unpruned predicted class per input [class index], same inputs in the same order.

    Returns
    -------
    numpy.ndarray
        The majority class per input [class index], -1 without a strict majority.
    """
    stacked = np.stack(list(predictions.values()))
    labels = np.full(stacked.shape[1], -1)
    for i, column in enumerate(stacked.T):
        values, counts = np.unique(column, return_counts=True)
        if counts.max() * 2 > len(column):
            labels[i] = values[counts.argmax()]
    return labels


def _predictor(model_name: str, model: Any, output_vector: Callable, seed: int, n: int, device: str) -> Callable:
    """``vectors -> predicted class per input`` of the member's labelled task (text: nearest own unpruned centroid)."""
    import torch

    from coinfer.nets import devices
    from coinfer.nets.inputs import length_chunks, topic_task

    if model_name not in FAMILIES["text_encoder"]:
        return lambda vectors: vectors.argmax(dim=-1).numpy()
    task = topic_task(TOPIC_CLASSES, n, seed)
    batch = _sentences(model_name, task.centroid_sentences)
    chunks = length_chunks(batch.inputs, batch.size)
    with torch.inference_mode():
        members = torch.cat(
            [devices.to_cpu64(output_vector(model.forward(devices.to_device(x, device)))) for _, x in chunks]
        )
    labels = torch.tensor(task.centroid_labels)[torch.cat([index for index, _ in chunks])]
    members = torch.nn.functional.normalize(members, dim=-1)
    sums = torch.zeros(TOPIC_CLASSES, members.shape[1], dtype=members.dtype).index_add_(0, labels, members)
    centroids = torch.nn.functional.normalize(sums, dim=-1)
    return lambda vectors: (torch.nn.functional.normalize(vectors, dim=-1) @ centroids.T).argmax(dim=-1).numpy()


def design_name(key: tuple) -> str:
    """The ``design`` of ``size_study.csv`` of a :func:`design_key` ``(model, split, pruned device, pruned server)``.

    Parameters
    ----------
    key : tuple
        ``(model, split [1], pruned device weights [count], pruned server weights [count])``.

    Returns
    -------
    str
        ``s<split>_d<pruned device>_s<pruned server>``, unique within one member.
    """
    return f"s{key[1]}_d{key[2]}_s{key[3]}"


def _in_input_order(vectors: Any, predict: Callable | None, order: Any) -> str:
    """The predicted classes of output ``vectors`` (in chunk order) in input order, space-separated ("" without)."""
    if predict is None:
        return ""
    found = np.empty(len(order), dtype=int)
    found[order.numpy()] = predict(vectors)
    return " ".join(map(str, found))


def _score(
    vectors: Any, *, reference: Any, labels: Any, metric: Callable, predict: Callable | None, order: Any
) -> dict:
    """:func:`coinfer.nets.deploy.score_vectors` plus the labelled ``predictions`` of :func:`_in_input_order`."""
    from coinfer.nets import deploy

    measured = deploy.score_vectors(reference, vectors, labels=labels, metric=metric)
    return {**measured, "predictions": _in_input_order(vectors, predict, order)}


def _measure_member(
    task: tuple[str, list[tuple[tuple, float, float]]],
    *,
    heldout: Mapping[str, int],
    seed: int,
    load: Callable[[str], Any] | None,
    inputs: Callable[[str, int], Any] | None,
    device: str,
) -> tuple[dict[tuple, dict[str, Any]], list[tuple[int, str, str]]]:
    """Measurements of one member's designs ``(key, rho_device, rho_server)``; one task of :func:`measure_designs`.

    Also the labelled predictions (model.md section 10, item 5) as ``(training seed, design, predictions)``: the
    unpruned member's and every design's, in input order, for every seed of :data:`DIGITS_SEEDS` for the digits
    family and seed 0 otherwise; none when ``inputs`` replaces the held-out inputs.
    """
    import torch

    from coinfer.base.threads import single_thread
    from coinfer.nets import deploy, devices, zoo
    from coinfer.nets.inputs import length_chunks
    from coinfer.nets.split import PartSweeps

    model_name, designs = task
    n = int(heldout[model_name])
    batch = _heldout_inputs(model_name, n, seed) if inputs is None else inputs(model_name, n)
    # Sentences sorted by length and cut to each chunk's longest, images in chunks of a few: the same outputs
    # for a fraction of the compute (coinfer.nets.inputs.length_chunks).
    chunks = length_chunks(batch.inputs, batch.size)
    order = torch.cat([index for index, _ in chunks])
    labels = None if batch.labels is None else batch.labels[order]
    training_seeds = DIGITS_SEEDS if model_name in FAMILIES["digits_mlp"] and inputs is None else (0,)
    results: dict[tuple, dict[str, Any]] = {}
    labelled: list[tuple[int, str, str]] = []
    for training_seed in training_seeds:
        if training_seed == 0:
            loaded = _load_fresh(model_name, seed) if load is None else load(model_name)
        else:
            loaded = _load_fresh(model_name, training_seed)
        model = devices.placed(loaded, device)
        entry = zoo.REGISTRY.get(model.name)
        if entry is None:
            raise ParameterError(f"model: {model.name!r} is not in the zoo; allowed: {', '.join(zoo.REGISTRY)}")
        model_inputs = [devices.to_device(x, device) for _, x in chunks]
        output_vector = entry.output_vector
        with single_thread():  # the same float rounding wherever the task runs
            predict = _predictor(model_name, model, output_vector, seed, n, device) if inputs is None else None

            with torch.inference_mode():
                reference = torch.cat([devices.to_cpu64(output_vector(model.forward(x))) for x in model_inputs])
            found = deploy.measure_decisions(
                model,
                [(key[1], WEIGHT_BITS, rho_device, rho_server) for key, rho_device, rho_server in designs],
                model_inputs,
                functools.partial(
                    _score, reference=reference, labels=labels, metric=entry.metric, predict=predict, order=order
                ),
                feature_bits=FEATURE_BITS,
                output_vector=output_vector,
                sweeps=PartSweeps(model, max_entries=2),  # one split's two sides: the orders of a large model are big
                device=device,
            )
        if predict is not None:
            labelled.append((training_seed, UNPRUNED, _in_input_order(reference, predict, order)))
            labelled += [
                (training_seed, design_name(key), m["predictions"])
                for (key, _, _), m in zip(designs, found, strict=True)
            ]
        if training_seed == 0:
            results = {key: measured for (key, _, _), measured in zip(designs, found, strict=True)}
        del reference, model, loaded
        gc.collect()
    return results, labelled


def measure_designs(
    designs: pd.DataFrame,
    profile: pd.DataFrame,
    heldout: Mapping[str, int],
    *,
    seed: int = 0,
    progress: bool = True,
    load: Callable[[str], Any] | None = None,
    inputs: Callable[[str, int], Any] | None = None,
    workers: int | None = None,
    scheduler_address: str | None = None,
    device: str = "cpu",
    outcomes: list | None = None,
) -> pd.DataFrame:
    """Deploy and measure each distinct optimal design of ``designs`` once; returns the rows with metrics filled.

    Each model is one task of :func:`coinfer.base.parallel.parallel_map`, largest first so that the longest
    tasks start first; a task loads its model and measures its designs with
    :func:`coinfer.nets.deploy.measure_decisions` (the loop notebook 07 uses too), then releases it. The table
    is the same whatever the backend and the number of workers.

    Parameters
    ----------
    designs : pandas.DataFrame
        Design rows (:func:`solve_family`).
    profile : pandas.DataFrame
        The profile table.
    heldout : mapping of str to int
        Model -> number of held-out inputs [count].
    seed : int
        Seed of the held-out draw and of a fresh load [1].
    progress : bool
        Show a progress bar over the members.
    load : callable, optional
        ``model -> SplitModel``; default a fresh load by the zoo entry's loader.
    inputs : callable, optional
        ``(model, n) -> Batch``; default held-out :func:`coinfer.nets.zoo.model_inputs` with ``seed``, run in
        the chunks of :func:`coinfer.nets.inputs.length_chunks`.
    workers, scheduler_address : int or str, optional
        Where the tasks run, as in :func:`coinfer.base.parallel.parallel_map`.
    device : str
        Where the forward passes run (``"cpu"`` or ``"cuda"``); masks are computed on the CPU, metrics from CPU
        float64.
    outcomes : list, optional
        Extended with the labelled predictions, one tuple of :data:`OUTCOME_COLUMNS` per member, training seed and
        design (``size_outcomes.csv``; none for a member measured on ``inputs``).

    Returns
    -------
    pandas.DataFrame
        ``designs`` with ``task_metric`` [1], ``distortion`` [1], their 95 % intervals [1],
        ``heldout_samples`` [count] and ``design`` (:func:`design_name`) filled for the optimal rows.

    References
    ----------
    docs/model.md, sections 9 and 10.
    """
    from coinfer.base.parallel import parallel_map
    from coinfer.nets import devices

    devices.check_device(device)
    frame = designs.copy().reindex(columns=list(COLUMNS))
    for column in ("task_metric", "distortion"):
        for suffix in ("", "_ci95_low", "_ci95_high"):
            frame[column + suffix] = frame[column + suffix].astype(float)
    frame["task_metric_name"] = frame["task_metric_name"].astype(object)
    frame["heldout_samples"] = frame["heldout_samples"].astype(float)
    keys = design_key(frame, profile) if len(frame) else pd.Series(dtype=object)
    by_model: dict[str, list[tuple[tuple, float, float]]] = {}
    for key in dict.fromkeys(k for k in keys if k is not None):
        first = frame.loc[keys[keys == key].index[0]]
        by_model.setdefault(key[0], []).append((key, float(first["rho_device"]), float(first["rho_server"])))
    size = frame.groupby("model")["params"].max()
    tasks = sorted(by_model.items(), key=lambda task: -int(size[task[0]]))
    found = parallel_map(
        functools.partial(_measure_member, heldout=heldout, seed=seed, load=load, inputs=inputs, device=device),
        tasks,
        workers=workers,
        scheduler_address=scheduler_address,
        desc="members",
        progress=progress,
    )
    results = {key: value for member, _ in found for key, value in member.items()}
    if outcomes is not None:  # the labelled predictions of every member (model.md section 10, item 5)
        for (model, _), (_, labelled) in zip(tasks, found, strict=True):
            family = str(frame.loc[frame["model"] == model, "family"].iloc[0])
            params = int(size[model])
            outcomes += [(family, model, params, s, d, p) for s, d, p in labelled]
    frame["design"] = frame["design"].astype(object)
    for i, key in keys.items():
        if key is None:
            continue
        frame.at[i, "design"] = design_name(key)
        measured = results[key]
        frame.at[i, "task_metric"] = measured["metric_value"]
        frame.at[i, "task_metric_name"] = measured["metric"]
        frame.at[i, "distortion"] = measured["distortion"]
        frame.at[i, "heldout_samples"] = measured["samples"]
        for column, value in measured_intervals(measured).items():
            frame.at[i, column] = value
    return frame


def measured_intervals(found: Mapping[str, Any]) -> dict[str, float]:
    """95 % intervals over the held-out inputs of one :func:`coinfer.nets.deploy.score_vectors` result.

    ``task_metric_ci95_*``: Clopper-Pearson for a share-valued metric, else the
    seeded bootstrap (NaN for a metric without per-input values);
    ``distortion_ci95_*``: the bootstrap of the per-input distortions.

    Parameters
    ----------
    found : mapping
        A measurement (``metric``, ``metric_per_input`` [1], ``distortion_per_input`` [1]).

    Returns
    -------
    dict of str to float
        ``task_metric_ci95_low``/``_high`` and ``distortion_ci95_low``/``_high`` [1].

    References
    ----------
    docs/model.md, section 1.1.
    """
    from coinfer.model.stats import SHARE_METRICS
    from coinfer.nets.deploy import interval_columns

    per_input = found.get("metric_per_input")
    metric = (
        interval_columns("task_metric", per_input, binary=found["metric"] in SHARE_METRICS)
        if per_input is not None
        else {"task_metric_ci95_low": math.nan, "task_metric_ci95_high": math.nan}
    )
    return {**metric, **interval_columns("distortion", found["distortion_per_input"], binary=False)}


def run_study(
    profile: pd.DataFrame,
    families: Mapping[str, Sequence[str]],
    *,
    points: int,
    heldout: Mapping[str, int],
    settings: Mapping[str, Any],
    seed: int = 0,
    progress: bool = True,
    workers: int | None = None,
    scheduler_address: str | None = None,
    device: str = "cpu",
    labelled: list | None = None,
) -> tuple[pd.DataFrame, dict[str, FamilyBudgets]]:
    """The table of ``data/size_study.csv`` and each family's budget frame (model.md section 10).

    Every family is solved first; then the real members of all families are deployed and measured together
    (:func:`measure_designs`, one parallel task per member); the meta family is not measured.

    Parameters
    ----------
    profile : pandas.DataFrame
        The profile table (``profiles.csv``).
    families : mapping of str to sequence of str
        Family name (:data:`FAMILIES`) -> the members to run, in increasing size.
    points : int
        Log-spaced budget points per sweep [count].
    heldout : mapping of str to int
        Model -> number of held-out inputs [count].
    settings : mapping
        The :func:`coinfer.model.system.make_problem` fields shared by every member (``bandwidth`` [Hz],
        ``distance`` [m], ...).
    seed : int
        Seed of the held-out draws [1].
    progress : bool
        Show progress bars.
    workers, scheduler_address : int or str, optional
        Where the tasks run, as in :func:`coinfer.base.parallel.parallel_map`.
    device : str
        Where the forward passes run (``"cpu"`` or ``"cuda"``).
    labelled : list, optional
        Where given, extended with the tables of L1 on labelled tasks (model.md section 10, item 5):
        ``size_outcomes.csv`` then ``size_inputs.csv`` (:func:`labelled_tables`).

    Returns
    -------
    tuple of (pandas.DataFrame, dict of str to FamilyBudgets)
        The table with :data:`COLUMNS` (units as in :func:`solve_family` and :func:`measure_designs`) and each
        family's budget frame.

    References
    ----------
    docs/model.md, section 10.
    """
    frames, frames_budgets = [], {}
    for family, members in families.items():
        if family not in FAMILIES:
            raise ParameterError(f"family: got {family!r}; allowed one of {', '.join(FAMILIES)}")
        unknown = [m for m in members if m not in FAMILIES[family]]
        if unknown or not members:
            raise ParameterError(f"{family}: members {list(members)}; allowed a non-empty subset of {FAMILIES[family]}")
        budgets = family_budgets(profile, members, settings, points)
        frames_budgets[family] = budgets
        frames.append(solve_family(family, profile, members, budgets, points, settings))
    table = pd.concat(frames, ignore_index=True)
    real = table["family"] != META_FAMILY
    outcomes: list = []
    if real.any():
        measured = measure_designs(
            table[real],
            profile,
            heldout,
            seed=seed,
            progress=progress,
            workers=workers,
            scheduler_address=scheduler_address,
            device=device,
            outcomes=outcomes if labelled is not None else None,
        )
        table = pd.concat([measured, table[~real]]).sort_index()
    table["split"] = table["split"].astype("Int64")
    table["heldout_samples"] = table["heldout_samples"].astype("Int64")
    if labelled is not None:
        labelled.extend(
            labelled_tables(outcomes, {f: m for f, m in families.items() if f != META_FAMILY}, heldout, seed)
        )
    return table.reindex(columns=list(COLUMNS)), frames_budgets


def labelled_tables(
    outcomes: Sequence[tuple], families: Mapping[str, Sequence[str]], heldout: Mapping[str, int], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``size_outcomes.csv`` and ``size_inputs.csv`` of L1 on labelled tasks (model.md section 10, item 5).

    The images' labels are named here, by :func:`majority_labels` of the family's unpruned members (seed 0).

    Parameters
    ----------
    outcomes : sequence of tuple
        Rows of :data:`OUTCOME_COLUMNS` (:func:`measure_designs`' ``outcomes``).
    families : mapping of str to sequence of str
        The measured families and their members.
    heldout : mapping of str to int
        Model -> number of held-out inputs [count], the same for every member of a family.
    seed : int
        Seed of the held-out draws [1].

    Returns
    -------
    tuple of pandas.DataFrame
        The outcomes (sorted by family, model, seed, design) and the inputs (:data:`INPUT_COLUMNS`).
    """
    frame = pd.DataFrame(list(outcomes), columns=list(OUTCOME_COLUMNS))
    frame = frame.sort_values(["family", "params", "seed", "design"], kind="stable").reset_index(drop=True)
    tables = []
    for family, members in families.items():
        sizes = {int(heldout[m]) for m in members}
        if len(sizes) != 1:
            raise ParameterError(f"heldout: the members of {family} have {sorted(sizes)} inputs; expected one count")
        found = family_inputs(family, sizes.pop(), seed)
        if family == "efficientnet_lite":
            unpruned = frame[(frame["family"] == family) & (frame["design"] == UNPRUNED) & (frame["seed"] == 0)]
            votes = {str(r.model): np.array(str(r.predictions).split(), dtype=int) for r in unpruned.itertuples()}
            if votes:
                found["label"] = majority_labels(votes)
        tables.append(found)
    inputs = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(INPUT_COLUMNS))
    return frame, inputs


def seed_accuracy(outcomes: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """Accuracy on the labelled inputs per member, design and training seed, with the mean and SD over seeds.

    Parameters
    ----------
    outcomes, inputs : pandas.DataFrame
        ``size_outcomes.csv`` and ``size_inputs.csv`` rows.

    Returns
    -------
    pandas.DataFrame
        ``family``, ``model``, ``design``, ``seeds`` [count], ``accuracy_mean`` [1], ``accuracy_sd`` [1] (sample
        SD over seeds, NaN for one seed), ``accuracy_min``, ``accuracy_max`` [1], ``labelled_inputs`` [count].
    """
    labels = {str(f): rows.sort_values("input")["label"].to_numpy(dtype=int) for f, rows in inputs.groupby("family")}
    records = []
    for row in outcomes.itertuples(index=False):
        label = labels[str(row.family)]
        kept = label >= 0
        right = np.array(str(row.predictions).split(), dtype=int)[kept] == label[kept]
        records.append(
            (
                row.family,
                row.model,
                row.design,
                row.seed,
                float(right.mean()) if kept.any() else math.nan,
                int(kept.sum()),
            )
        )
    frame = pd.DataFrame(records, columns=["family", "model", "design", "seed", "accuracy", "labelled_inputs"])
    grouped = frame.groupby(["family", "model", "design"], sort=False)
    return grouped.agg(
        seeds=("seed", "nunique"),
        accuracy_mean=("accuracy", "mean"),
        accuracy_sd=("accuracy", "std"),
        accuracy_min=("accuracy", "min"),
        accuracy_max=("accuracy", "max"),
        labelled_inputs=("labelled_inputs", "first"),
    ).reset_index()


# --------------------------------------------------------------------------- the verdict L1
def winners(table: pd.DataFrame, margin: float = TIE_MARGIN) -> pd.DataFrame:
    """Per (family, sweep, budget point) with a measured feasible member: the winner and whether it is the largest.

    The winner has the best task metric, except that any member within
    ``margin`` of the best counts as tied and a tie goes to the larger member
    (more ``params``). The largest member is the family's largest in
    ``table``, feasible or not. Families without a task metric are left out.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`run_study`.
    margin : float
        Tie margin on the task metric [1] (:data:`TIE_MARGIN`).

    Returns
    -------
    pandas.DataFrame
        ``family``, ``sweep``, ``budget_value`` [s or J], ``winner``, ``best_metric`` [1],
        ``feasible_members`` [count], ``largest``, ``largest_wins``.

    References
    ----------
    docs/model.md, section 10 (the verdict L1).
    """
    measured = table[table["task_metric"].notna()]
    largest = table.loc[table.groupby("family")["params"].idxmax(), ["family", "model"]].set_index("family")["model"]
    records = []
    for (family, sweep, value), rows in measured.groupby(["family", "sweep", "budget_value"], sort=True):
        best = rows["task_metric"].max()
        tied = rows[rows["task_metric"] >= best - margin]
        winner = tied.loc[tied["params"].idxmax(), "model"]
        records.append(
            {
                "family": family,
                "sweep": sweep,
                "budget_value": float(value),
                "winner": winner,
                "best_metric": float(best),
                "feasible_members": int(len(rows)),
                "largest": largest[family],
                "largest_wins": bool(winner == largest[family]),
            }
        )
    columns = ["family", "sweep", "budget_value", "winner", "best_metric", "feasible_members", "largest"]
    return pd.DataFrame(records, columns=[*columns, "largest_wins"])


def winner_changes(found: pd.DataFrame) -> pd.DataFrame:
    """The budget points where the winner differs from the winner at the previous (smaller) feasible point.

    Parameters
    ----------
    found : pandas.DataFrame
        The table of :func:`winners`.

    Returns
    -------
    pandas.DataFrame
        ``family``, ``sweep``, ``budget_value`` [s or J], ``from_model``, ``to_model``.
    """
    records = []
    for (family, sweep), rows in found.groupby(["family", "sweep"], sort=True):
        rows = rows.sort_values("budget_value")
        previous = None
        for _, row in rows.iterrows():
            if previous is not None and row["winner"] != previous:
                records.append(
                    {
                        "family": family,
                        "sweep": sweep,
                        "budget_value": row["budget_value"],
                        "from_model": previous,
                        "to_model": row["winner"],
                    }
                )
            previous = row["winner"]
    return pd.DataFrame(records, columns=["family", "sweep", "budget_value", "from_model", "to_model"])


def verdict(table: pd.DataFrame, margin: float = TIE_MARGIN, share: float = HOLDS_SHARE) -> dict[str, dict[str, Any]]:
    """Per measured family: feasible points, the largest member's share of wins, ``holds`` and the winner changes.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`run_study`.
    margin : float
        Tie margin on the task metric [1] (:data:`TIE_MARGIN`).
    share : float
        Share of feasible points the largest member must win for L1 to hold [1] (:data:`HOLDS_SHARE`).

    Returns
    -------
    dict of str to dict
        Family -> ``largest``, ``feasible_points`` [count], ``largest_best_points`` [count],
        ``largest_best_share`` [1], ``holds``, ``winners`` and ``winner_changes`` (budgets [s or J]).

    References
    ----------
    docs/model.md, section 10 (the verdict L1).
    """
    found = winners(table, margin)
    changes = winner_changes(found)
    result: dict[str, dict[str, Any]] = {}
    for family, rows in found.groupby("family", sort=False):
        wins = float(rows["largest_wins"].mean()) if len(rows) else math.nan
        moved = changes[changes["family"] == family]
        result[str(family)] = {
            "largest": str(rows["largest"].iloc[0]),
            "feasible_points": int(len(rows)),
            "largest_best_points": int(rows["largest_wins"].sum()),
            "largest_best_share": wins,
            "holds": bool(wins >= share),
            "winners": sorted(str(w) for w in rows["winner"].unique()),
            "winner_changes": [
                {
                    "sweep": str(c["sweep"]),
                    "budget": float(c["budget_value"]),
                    "from": str(c["from_model"]),
                    "to": str(c["to_model"]),
                }
                for _, c in moved.iterrows()
            ],
        }
    return result
