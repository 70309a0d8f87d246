"""Closing the loop: the designs of notebook 06, deployed on the real weights and measured (model.md section 9).

Every scheme of notebook 06 minimises (or is scored by) the rate-distortion
bound ``D_LB``, which sits orders of magnitude below the distortion pruning
causes. :func:`measure_designs` takes the budget-sweep table
(``opt_budget_sweep.csv``: one row per model, sweep, point and scheme) and, for
every feasible row, builds its decision ``(s, rho_d, rho_s)`` with the pruning,
quantisation and feature rounding of :func:`coinfer.nets.deploy.deploy` and
measures it on held-out inputs: the relative output distortion
``||f - f^||_1 / ||f||_1`` (mean over inputs) and the task metric.

Task metrics (:func:`evaluation_set`)
-------------------------------------
- ``digits_cnn`` / ``digits_mlp``: accuracy against the true labels of the
  digits test split;
- ``efficientnet_lite0``: top-1 agreement with the unpruned model (no labels
  ship offline);
- ``minilm``: cosine similarity to the unpruned embedding (``task_metric``) and,
  in the column ``topic_accuracy``, accuracy on the offline topic task of
  :func:`coinfer.nets.inputs.topic_task`: a sentence is assigned to the documentation
  topic whose centroid (the mean unpruned embedding of *other* sentences of that
  topic) is nearest in cosine similarity. MiniLM's measured inputs are the
  task's evaluation sentences.

Speed
-----
Identical decisions are measured once: rows are keyed by ``(split, weight
bits, pruned device weights, pruned server weights)`` (the counts
``prune_count(N, rho)``, so ratios that differ below one weight are one
decision). Each split's decisions are one task of
:func:`coinfer.nets.deploy.measure_decisions`, the deploy-and-measure loop this
study shares with notebook 08 (:mod:`coinfer.studies.model_size`): the device
part runs once per device count, one working copy is pruned in place, and the
result equals :func:`coinfer.nets.deploy.deploy` exactly (tested).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from coinfer.base.parallel import parallel_map
from coinfer.base.threads import single_thread
from coinfer.base.validation import ParameterError, require_range
from coinfer.model.pruning import prune_count
from coinfer.model.stats import SHARE_METRICS
from coinfer.nets import inputs as inputs_module
from coinfer.nets.deploy import (
    check_feature_bits,
    check_weight_bits,
    interval_columns,
    measure_decisions,
    score_vectors,
)
from coinfer.nets.devices import check_device, placed, to_cpu64, to_device
from coinfer.nets.inputs import length_chunks, text_batch
from coinfer.nets.split import SplitModel, part_weights
from coinfer.nets.transformers import load_tokenizer, minilm_path
from coinfer.nets.zoo import REGISTRY, load_model, model_inputs

#: Weight bits of schemes that fix their own (model.md section 5.6); every other scheme uses the ``bits`` given.
SCHEME_WEIGHT_BITS: dict[str, int] = {"quantised_8bit": 8, "quantised_4bit": 4}
#: The second metric column (MiniLM only; NaN for the other models).
TOPIC_METRIC = "topic_accuracy"
#: Identifying columns copied from the sweep table, in output order.
KEY_COLUMNS: tuple[str, ...] = (
    "model",
    "sweep",
    "point",
    "x",
    "scheme",
    "status",
    "split",
    "rho_device",
    "rho_server",
    "objective",
)
#: Every output column of :func:`measure_designs`, in order.
COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "objective_norm",
    "bits",
    "feature_bits",
    "pruned_device",
    "pruned_server",
    "n_inputs",
    "measured_distortion",
    "measured_distortion_ci95_low",
    "measured_distortion_ci95_high",
    "measured_distortion_pooled",
    "task_metric",
    "task_metric_ci95_low",
    "task_metric_ci95_high",
    "task_metric_name",
    TOPIC_METRIC,
    f"{TOPIC_METRIC}_ci95_low",
    f"{TOPIC_METRIC}_ci95_high",
    "unpruned_task_metric",
    "unpruned_topic_accuracy",
)


#: Key of the per-input scores in :meth:`EvaluationSet.score`'s result (not a column of the designs table).
OUTCOMES_KEY = "per_input"
#: The table of per-input outcomes notebook 07 writes beside :data:`DEPLOYED_FILE`.
OUTCOMES_FILE = "deployed_outcomes.csv"
#: Columns naming one deployed decision of a model in both tables (equal values: the same deployed weights).
DECISION_KEY: tuple[str, ...] = ("model", "split", "bits", "pruned_device", "pruned_server")
#: Every column of the per-input outcomes table (:func:`measure_designs_outcomes`), in order.
OUTCOME_COLUMNS: tuple[str, ...] = (
    *DECISION_KEY,
    "input",
    "source",
    "task_metric",
    "measured_distortion",
    TOPIC_METRIC,
)


#: Inputs per forward pass (bounds the activations held at once; EfficientNet at 224x224 needs it).
CHUNK = 32


@dataclass(frozen=True)
class EvaluationSet:
    """Held-out inputs of one model with everything needed to score a deployed copy (model.md section 9).

    The inputs are run in :attr:`chunks` (batches of at most :data:`CHUNK`);
    labels and reference vectors are in the order of the chunks.
    """

    model: str
    chunks: tuple[Any, ...]
    labels: torch.Tensor | None
    #: Output vectors of the unpruned model on the chunks, concatenated (float64).
    reference: torch.Tensor
    #: ``(reference, vectors, labels) -> (name, value)`` (the zoo metric).
    metric: Callable[[torch.Tensor, torch.Tensor, Any], tuple[str, float]]
    output_vector: Callable[[Any], torch.Tensor]
    #: MiniLM's topic task: unit-norm class centroids ``[classes, dim]`` and the labels of the inputs.
    centroids: torch.Tensor | None = None
    topic_labels: torch.Tensor | None = None
    description: str = ""
    #: Index of each input (in chunk order) in its draw: the sentence of the topic task, the crop, the test digit.
    input_ids: tuple[int, ...] = ()
    #: Source of each input (in chunk order): the photo of a crop, the topic of a sentence, the digit's own index.
    sources: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Number of inputs."""
        return int(self.reference.shape[0])

    def vectors(self, outputs: list[Any]) -> torch.Tensor:
        """Output vectors (float64) of per-chunk model ``outputs``, concatenated.

        Parameters
        ----------
        outputs : list
            The model's output per chunk.

        Returns
        -------
        torch.Tensor
            The vectors ``[inputs, dim]`` (float64).
        """
        return torch.cat([to_cpu64(self.output_vector(out)) for out in outputs])

    def topic_hits(self, vectors: torch.Tensor) -> np.ndarray:
        """Per input, 1 where nearest-centroid (cosine) on the topic task is right (empty without a topic task).

        Parameters
        ----------
        vectors : torch.Tensor
            Embeddings ``[inputs, dim]``.

        Returns
        -------
        numpy.ndarray
            1 or 0 per input.
        """
        if self.centroids is None or self.topic_labels is None:
            return np.zeros(0)
        unit = torch.nn.functional.normalize(vectors.double(), dim=-1)
        return ((unit @ self.centroids.T).argmax(dim=-1) == self.topic_labels).double().numpy()

    def topic_accuracy(self, vectors: torch.Tensor) -> float:
        """Nearest-centroid (cosine) accuracy of embeddings ``vectors`` on the topic task (NaN without one).

        Parameters
        ----------
        vectors : torch.Tensor
            Embeddings ``[inputs, dim]``.

        Returns
        -------
        float
            The accuracy [1].
        """
        hits = self.topic_hits(vectors)
        return float(hits.mean()) if hits.size else float("nan")

    def score(self, vectors: torch.Tensor) -> dict[str, Any]:
        """Distortion, task metric and topic accuracy of a deployed model's output ``vectors``.

        Each comes with its 95 % interval over the held-out inputs
        (``..._ci95_low``/``_high``; model.md section 1.1): the seeded
        bootstrap for means, Clopper-Pearson for share-valued metrics.

        Parameters
        ----------
        vectors : torch.Tensor
            The deployed model's output vectors ``[inputs, dim]``.

        Returns
        -------
        dict of str to Any
            Distortion [1], task metric [1], topic accuracy [1] and their intervals [1].
        """
        vectors = vectors.double()
        found = score_vectors(self.reference, vectors, self.labels, self.metric)
        name = found["metric"]
        hits = self.topic_hits(vectors)
        return {
            OUTCOMES_KEY: {
                "task_metric": found["metric_per_input"],
                "measured_distortion": found["distortion_per_input"],
                TOPIC_METRIC: hits,
            },
            "measured_distortion": found["distortion"],
            **interval_columns("measured_distortion", found["distortion_per_input"], binary=False),
            "measured_distortion_pooled": found["distortion_pooled"],
            "task_metric": found["metric_value"],
            **interval_columns("task_metric", found["metric_per_input"], binary=name in SHARE_METRICS),
            "task_metric_name": name,
            TOPIC_METRIC: float(hits.mean()) if hits.size else float("nan"),
            **interval_columns(TOPIC_METRIC, hits, binary=True),
        }


def _chunked(inputs: Any, size: int) -> tuple[tuple[Any, ...], torch.Tensor]:
    """``inputs`` in chunks of :data:`CHUNK` (:func:`coinfer.nets.inputs.length_chunks`: sentences sorted by length,
    each chunk cut to its longest), and the order of the inputs they follow."""
    found = length_chunks(inputs, size, per_chunk=CHUNK)
    return tuple(chunk for _, chunk in found), torch.cat([index for index, _ in found])


def _sentence_chunks(texts: tuple[str, ...]) -> tuple[tuple[Any, ...], torch.Tensor]:
    """MiniLM inputs of ``texts`` in chunks (:func:`_chunked`) and their order: a sentence of 26 tokens costs 26,
    not :data:`~coinfer.nets.transformers.MINILM_MAX_LENGTH` (the feature size of model.md section 2.5 still
    counts the full padded length)."""
    return _chunked(text_batch(load_tokenizer(minilm_path()), list(texts)).inputs, len(texts))


def evaluation_set(
    model: SplitModel, n_inputs: int, seed: int = 0, *, n_topics: int = 12, device: str = "cpu"
) -> EvaluationSet:
    """The held-out inputs of zoo model ``model`` and its unpruned reference outputs (model.md section 9).

    ``minilm``: the ``n_inputs`` evaluation sentences of
    :func:`coinfer.nets.inputs.topic_task` with ``n_topics`` classes (in chunks of
    :func:`_sentence_chunks`), and the class centroids: the normalised mean of the
    unpruned, normalised embeddings of each topic's centroid sentences. Other
    zoo models: ``n_inputs`` held-out inputs of :func:`coinfer.nets.zoo.model_inputs`
    (the digits test split has 540 samples; EfficientNet crops are seeded crops
    of 7 bundled photos).

    Parameters
    ----------
    model : SplitModel
        A loaded zoo model.
    n_inputs : int
        Held-out inputs [count], at least 1.
    seed : int
        Seed of the draw (and of the topic task's split) [1].
    n_topics : int
        Classes of MiniLM's topic task [count].
    device : str
        Where ``model`` runs (``"cpu"`` or ``"cuda"``, :func:`coinfer.nets.devices.placed`); the chunks are put
        there, the reference vectors are CPU float64.

    Returns
    -------
    EvaluationSet
        The input chunks, labels [class index], reference output vectors [output units], the zoo metric and,
        for MiniLM, the topic centroids.

    References
    ----------
    docs/model.md, section 9.
    """
    require_range("n_inputs", n_inputs, 1, integer=True)
    model = placed(model, check_device(device))
    entry = REGISTRY.get(model.name)
    if entry is None:
        raise ParameterError(f"model: {model.name!r} is not in the zoo; allowed: {', '.join(REGISTRY)}")
    centroids = topic_labels = labels = None
    with torch.inference_mode():
        if model.name == "minilm":
            task = inputs_module.topic_task(n_topics, n_inputs, seed)
            chunks, order = _sentence_chunks(task.sentences)
            member_chunks, member_order = _sentence_chunks(task.centroid_sentences)
            member_chunks = to_device(member_chunks, device)
            members = torch.cat([to_cpu64(entry.output_vector(model.forward(c))) for c in member_chunks])
            members = torch.nn.functional.normalize(members, dim=-1)
            member_labels = torch.tensor(task.centroid_labels)[member_order]
            sums = torch.zeros(n_topics, members.shape[1], dtype=members.dtype).index_add_(0, member_labels, members)
            centroids = torch.nn.functional.normalize(sums, dim=-1)
            topic_labels = torch.tensor(task.labels)[order]
            description = f"{n_inputs} topic-task sentences of {n_topics} documentation topics"
            sources = tuple(task.topics[int(label)] for label in topic_labels)
        else:
            batch = model_inputs(model.name, "heldout", n_inputs, seed)
            (chunks, order), labels, description = _chunked(batch.inputs, batch.size), batch.labels, batch.description
            if model.name.startswith("efficientnet"):
                photos = inputs_module.image_crop_photos("heldout", batch.size, seed)
                sources = tuple(photos[int(i)] for i in order)
            else:  # digits: independent samples, each its own source
                sources = tuple(str(int(i)) for i in order)
        chunks = to_device(chunks, device)
        reference = torch.cat([to_cpu64(entry.output_vector(model.forward(c))) for c in chunks])
    return EvaluationSet(
        model.name,
        chunks,
        labels,
        reference,
        entry.metric,
        entry.output_vector,
        centroids,
        topic_labels,
        description,
        tuple(int(i) for i in order),
        sources,
    )


def _ratio(value: Any) -> float:
    """A ratio of the table: NaN (a side without weights) counts as 0."""
    value = float(value)
    return 0.0 if math.isnan(value) else value


def measure_designs(sweep_table: pd.DataFrame, model_name: str, **options: Any) -> pd.DataFrame:
    """The designs table of :func:`measure_designs_outcomes` alone (model.md section 9).

    Parameters
    ----------
    sweep_table : pandas.DataFrame
        Rows of ``opt_budget_sweep.csv`` [decisions in their units: ratios [1], bits [bit]].
    model_name : str
        The zoo model to deploy [name].
    **options
        The keywords of :func:`measure_designs_outcomes` (``n_inputs`` [count], ``seed`` [1], ``bits`` [bit], ...).

    Returns
    -------
    pandas.DataFrame
        One row per design: the decision, its measured distortion [1] and task metric [1].
    """
    return measure_designs_outcomes(sweep_table, model_name, **options)[0]


def measure_designs_outcomes(
    sweep_table: pd.DataFrame,
    model_name: str,
    *,
    n_inputs: int,
    seed: int = 0,
    bits: int | None = 16,
    feature_bits: int | None = 16,
    n_topics: int = 12,
    model: SplitModel | None = None,
    progress: bool = True,
    workers: int | None = None,
    scheduler_address: str | None = None,
    device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deploy and measure every decision of ``model_name`` in a budget-sweep table (model.md section 9).

    Parameters
    ----------
    sweep_table
        Rows of ``opt_budget_sweep.csv`` (notebook 06): ``model``, ``sweep``,
        ``x``, ``scheme``, ``status``, ``split``, ``rho_device``,
        ``rho_server``, ``objective`` (``objective_norm`` if present).
    model_name
        A zoo model; its rows are measured, in table order.
    n_inputs, seed
        Held-out inputs [count] and the seed of their draw [1] (:func:`evaluation_set`).
    bits
        Bits of the kept weights [bit] (``None``: float); the schemes of
        :data:`SCHEME_WEIGHT_BITS` use their own.
    feature_bits
        Bits per element of the feature sent at ``0 < s < L`` [bit] (``None``: exact).
    n_topics
        Classes of MiniLM's topic task [count].
    model
        The loaded model (default :func:`coinfer.nets.zoo.load_model`); never changed.
    progress
        Show a progress bar over the splits.
    device
        Where the forward passes run (``"cpu"`` or ``"cuda"``, :mod:`coinfer.nets.devices`); masks are
        computed on the CPU and measurements come back as CPU float64.
    workers, scheduler_address
        Where the decisions run: one task per split (its decisions share the
        device part) through :func:`coinfer.base.parallel.parallel_map`. Every task,
        and the reference outputs, run torch on one thread, so the table is the
        same, byte for byte, whatever the backend and the number of workers.

    Returns
    -------
    designs : pandas.DataFrame
        One row per input row with :data:`COLUMNS`: ``point`` is the index of
        ``x`` within its sweep; infeasible rows keep their status with NaN
        measurements; ``task_metric_name`` names the zoo metric
        (``test_accuracy``, ``top1_agreement``, ``cosine_similarity``) and
        ``topic_accuracy`` is MiniLM's second metric (NaN elsewhere). Distortions and metrics are [1],
        ``bits`` and ``feature_bits`` [bit], the pruned counts and ``n_inputs`` [count].
    outcomes : pandas.DataFrame
        The per-input scores of every distinct measured decision (:func:`outcome_table`): one row per
        (decision, input) with :data:`OUTCOME_COLUMNS`; a decision several rows of ``designs`` share is stored
        once, and the mean of a decision's rows is its ``designs`` value.

    References
    ----------
    docs/model.md, section 9 (closing the loop).
    """
    bits = check_weight_bits(bits)
    feature_bits = check_feature_bits(feature_bits)
    rows = sweep_table[sweep_table["model"] == model_name].copy()
    if rows.empty:
        raise ParameterError(f"model_name: no rows of {model_name!r} in the sweep table")
    zoo_model = model is None
    model = load_model(model_name) if model is None else model
    rows["point"] = rows.groupby("sweep", sort=False)["x"].transform(lambda x: x.rank(method="dense") - 1).astype(int)
    with single_thread():
        evaluation = evaluation_set(model, n_inputs, seed, n_topics=n_topics, device=check_device(device))
    sizes = [sum(w.numel() for w in part_weights(model, "device", s).values()) for s in range(model.num_blocks + 1)]
    totals = {s: (sizes[s], sizes[-1] - sizes[s]) for s in range(model.num_blocks + 1)}

    # one key per distinct decision: (split, weight bits, pruned device weights, pruned server weights)
    keys: list[tuple[int, int | None, int, int] | None] = []
    ratios: dict[tuple[int, int | None, int, int], tuple[float, float]] = {}
    for item in rows.itertuples():
        if item.status != "optimal":
            keys.append(None)
            continue
        split = int(item.split)
        rho_d, rho_s = _ratio(item.rho_device), _ratio(item.rho_server)
        n_d, n_s = totals[split]
        decision = (
            split,
            SCHEME_WEIGHT_BITS.get(str(item.scheme), bits),
            prune_count(n_d, rho_d),
            prune_count(n_s, rho_s),
        )
        keys.append(decision)
        ratios.setdefault(decision, (rho_d, rho_s))
    groups: dict[int, dict[tuple[int, int | None, int, int], tuple[float, float]]] = {}
    for decision, pair in ratios.items():
        groups.setdefault(decision[0], {})[decision] = pair
    found = parallel_map(
        functools.partial(
            _measure_group,
            model_name=model_name,
            model=None if zoo_model else model,  # a zoo model is loaded where the task runs
            evaluation=evaluation,
            feature_bits=feature_bits,
            device=device,
        ),
        sorted(groups.values(), key=len, reverse=True),  # the longest tasks first
        workers=workers,
        scheduler_address=scheduler_address,
        desc=f"{model_name}: splits",
        progress=progress,
    )
    results = {decision: scores for group in found for decision, scores in group.items()}

    unpruned = evaluation.score(evaluation.reference)  # output vectors are their own output vector
    records = []
    for row, key in zip(rows.to_dict("records"), keys, strict=True):
        record = {column: row.get(column, np.nan) for column in KEY_COLUMNS if column != "model"}
        record["model"] = model_name
        record["objective_norm"] = row.get("objective_norm", np.nan)
        record["feature_bits"] = feature_bits
        record["n_inputs"] = evaluation.size
        record["unpruned_task_metric"] = unpruned["task_metric"]
        record["unpruned_topic_accuracy"] = unpruned[TOPIC_METRIC]
        if key is None:
            record["bits"] = SCHEME_WEIGHT_BITS.get(str(row["scheme"]), bits)
            record["task_metric_name"] = unpruned["task_metric_name"]
        else:
            record.update({name: value for name, value in results[key].items() if name != OUTCOMES_KEY})
            record["bits"], record["pruned_device"], record["pruned_server"] = key[1], key[2], key[3]
        records.append(record)
    frame = pd.DataFrame(records).reindex(columns=list(COLUMNS))
    frame["split"] = frame["split"].astype("Int64")
    for column in ("bits", "feature_bits", "pruned_device", "pruned_server"):
        frame[column] = frame[column].astype("Int64")
    per_input = {key: scores[OUTCOMES_KEY] for key, scores in results.items()}
    return frame, outcome_table(model_name, per_input, evaluation, binary=frame["task_metric_name"].iloc[0])


def _float32_text(values: np.ndarray) -> list[str]:
    """``values`` rounded to float32 and written with 7 significant digits (NaN: empty), the same bytes on a rerun."""
    return ["" if not np.isfinite(v) else f"{v:.7g}" for v in np.asarray(values, dtype=np.float32).tolist()]


def outcome_table(
    model_name: str,
    per_input: dict[tuple[int, int | None, int, int], dict[str, np.ndarray]],
    evaluation: EvaluationSet,
    *,
    binary: str,
) -> pd.DataFrame:
    """The per-input outcomes of each distinct decision, compactly (model.md section 9, section 1.1).

    Parameters
    ----------
    model_name : str
        The model [name].
    per_input : dict
        ``(split [index], bits [bit], pruned device weights [count], pruned server weights [count]) ->
        {column: per-input values [1]}`` in the
        order of ``evaluation``'s chunks (the ``OUTCOMES_KEY`` entry of :meth:`EvaluationSet.score`).
    evaluation : EvaluationSet
        The inputs: their ids and sources.
    binary : str
        The task metric's name: 0/1 outcomes are written as integers when it is in
        :data:`coinfer.model.stats.SHARE_METRICS`.

    Returns
    -------
    pandas.DataFrame
        :data:`OUTCOME_COLUMNS`, one row per (decision, input), sorted by decision then input id: ``input`` is the
        index in the draw [1], ``source`` the cluster (photo, topic, the digit itself), ``task_metric`` and
        ``topic_accuracy`` 0/1 [1] where share-valued, floats as float32 text otherwise, ``measured_distortion``
        [1] as float32 text. ``topic_accuracy`` is empty except for MiniLM.
    """
    ids = np.asarray(evaluation.input_ids, dtype=np.int64)
    rank = np.argsort(ids, kind="stable")
    blocks = []
    for key in sorted(per_input, key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2], k[3])):
        scores = per_input[key]
        metric = np.asarray(scores["task_metric"], dtype=float)[rank]
        topic = np.asarray(scores[TOPIC_METRIC], dtype=float)
        block = {
            "model": model_name,
            "split": key[0],
            "bits": "" if key[1] is None else key[1],
            "pruned_device": key[2],
            "pruned_server": key[3],
            "input": ids[rank],
            "source": np.asarray(evaluation.sources, dtype=object)[rank],
            "task_metric": metric.astype(np.int8) if binary in SHARE_METRICS else _float32_text(metric),
            "measured_distortion": _float32_text(np.asarray(scores["measured_distortion"], dtype=float)[rank]),
            TOPIC_METRIC: topic[rank].astype(np.int8) if topic.size else "",
        }
        blocks.append(pd.DataFrame(block))
    if not blocks:
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    return pd.concat(blocks, ignore_index=True).reindex(columns=list(OUTCOME_COLUMNS))


def _measure_group(
    ratios: dict[tuple[int, int | None, int, int], tuple[float, float]],
    *,
    model_name: str,
    model: SplitModel | None,
    evaluation: EvaluationSet,
    feature_bits: int | None,
    device: str,
) -> dict[tuple[int, int | None, int, int], dict[str, Any]]:
    """One task of :func:`measure_designs`: the scores of ``ratios``' decisions, on one torch thread."""
    model = load_model(model_name) if model is None else model
    decisions = [(key[0], key[1], *pair) for key, pair in ratios.items()]
    with single_thread():
        found = measure_decisions(
            model,
            decisions,
            evaluation.chunks,
            evaluation.score,
            feature_bits=feature_bits,
            output_vector=evaluation.output_vector,
            device=device,
        )
    return dict(zip(ratios, found, strict=True))


#: The table notebook 07 writes (read by :mod:`coinfer.claims` for E1-E3).
DEPLOYED_FILE = "deployed_designs.csv"


def worse_than_benchmarks(table: pd.DataFrame, *, margin: float = 0.0, column: str = "task_metric") -> pd.DataFrame:
    """Points where a benchmark's measured ``column`` beats the proposed design's by more than ``margin``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`measure_designs` (``deployed_designs.csv``).
    margin : float
        Shortfall tolerated [unit of ``column``, 1 for the task metrics].
    column : str
        The measured column compared (``task_metric`` by default).

    Returns
    -------
    pandas.DataFrame
        One row per (model, sweep, point, benchmark) with both feasible and measured: the two decisions,
        objectives and metrics and the ``shortfall`` ``benchmark - proposed`` [unit of ``column``], largest first.

    References
    ----------
    docs/model.md, section 9.
    """
    keys = ["model", "sweep", "point", "x"]
    shown = ["split", "rho_device", "rho_server", "bits", "objective", "measured_distortion", column]
    measured = table[(table["status"] == "optimal") & table[column].notna()]
    mine = measured[measured["scheme"] == "proposed"][keys + shown]
    others = measured[~measured["scheme"].astype(str).str.startswith("proposed")][[*keys, "scheme", *shown]]
    pairs = mine.merge(others, on=keys, suffixes=("", "_benchmark"))
    pairs["shortfall"] = pairs[f"{column}_benchmark"] - pairs[column]
    worse = pairs[pairs["shortfall"] > margin].rename(columns={"scheme": "benchmark"})
    return worse.sort_values(["shortfall", "model", "sweep", "point"], ascending=[False, True, True, True]).reset_index(
        drop=True
    )
