"""The back end of notebook 04 (claims C1 and C2 on the model zoo, model.md sections 3 and 4): magnitude
pruning of the parts of a :class:`~coinfer.nets.split.SplitModel` (the whole model, or the device or server
side at a split), its parameter distortion against ``D_LB``, its output distortion and task metric, the
first-order bound fitted and tested per ratio, and the exact bound on Sequential-built models.

The library concepts live in :mod:`coinfer.model.bounds` (the bound), :mod:`coinfer.model.pruning` (pruning)
and :mod:`coinfer.model.rate_distortion`; this module only combines them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from coinfer.base.validation import ParameterError, require_choice
from coinfer.model.bounds import (
    check_pair,
    fit_first_order_constant,
    output_distortion,
    summarise_checks,
)
from coinfer.model.pruning import MagnitudeSweep, check_bits, check_ratio
from coinfer.nets.devices import check_device, move_model, to_cpu64, to_device
from coinfer.nets.inputs import concat_inputs, length_chunks
from coinfer.nets.split import (
    PartConfig,
    PartSweeps,
    copy_model,
    part_columns,
    part_weights,
    set_weights,
    with_weights,
)

if TYPE_CHECKING:
    from coinfer.nets.split import Batch, SplitModel


def parameter_distortion_curves(
    model: SplitModel,
    configs: Iterable[PartConfig],
    ratios: Iterable[float],
    bits: Iterable[int],
    *,
    scope: str = "global",
    float_bits: int = 32,
) -> pd.DataFrame:
    """Measured l1 distortion per weight of magnitude pruning each part, vs ``D_LB`` and ``D_mag`` (model.md §4, C2).

    ``quantisation`` is ``"none"`` (float weights; the bound uses ``q = float_bits``, their storage) or
    ``"q<bits>"`` (kept weights uniformly quantised, per-layer range; the bound uses that ``q``).

    Parameters
    ----------
    model : SplitModel
        The split model.
    configs : iterable of (str, int or None)
        ``(part, split)`` pairs: ``"all"``, ``"device"`` or ``"server"`` and the split index [1] of a side.
    ratios : iterable of float
        Pruning ratios [1].
    bits : iterable of int
        Bits of the quantised kept weights [bit].
    scope : str
        ``"global"`` or ``"layer"`` magnitude order.
    float_bits : int
        Storage bits of float weights used as ``q`` for ``"none"`` [bit].

    Returns
    -------
    pandas.DataFrame
        One row per (part, ratio, quantisation): the measured distortion per weight, ``D_LB`` and ``D_mag``
        [weight units], ``scale`` (the part's Laplace ``b``) [weight units] and ``lb_holds``.

    References
    ----------
    docs/model.md, sections 4.3 and 4.4.
    """
    from coinfer.model.rate_distortion import laplace_scale

    sweeps = PartSweeps(model, scope=scope, max_entries=1)  # the one sort; each part's order derived from it
    rows = []
    for part, split in configs:
        if part_weights(model, part, split):
            sweep = sweeps.part(part, split)
            rows += _curve_rows(model, part, split, sweep, laplace_scale(sweep.flat), ratios, bits, float_bits)
    return pd.DataFrame(rows)


def _curve_rows(
    model: SplitModel,
    part: str,
    split: int | None,
    sweep: MagnitudeSweep,
    b: float,
    ratios: Iterable[float],
    bits: Iterable[int],
    float_bits: int,
) -> list[dict[str, object]]:
    from coinfer.model.rate_distortion import distortion_lower_bound, magnitude_distortion

    ratios = [check_ratio(r) for r in ratios]
    d_mag = magnitude_distortion(ratios, b)
    rows = []
    for q in (None, *[check_bits(q) for q in bits]):
        measured = sweep.distortion(ratios, bits=q)
        q_bound = float_bits if q is None else q
        d_lb = distortion_lower_bound(ratios, b, q_bound)
        for ratio, m, lb, dm in zip(ratios, measured, d_lb, d_mag, strict=True):
            rows.append(
                {
                    **part_columns(model, part, split),
                    "ratio": ratio,
                    "quantisation": "none" if q is None else f"q{q}",
                    "q_bound": q_bound,
                    "n_weights": sweep.num_weights,
                    "scale": b,
                    "measured": float(m),
                    "d_lb": float(lb),
                    "d_mag": float(dm),
                    "lb_holds": bool(m >= lb),
                    "measured_over_lb": float(m / lb) if lb > 0 else float("nan"),
                }
            )
    return rows


def _part_split(part: str, split: int | None) -> int:
    """The split index of a device or server part (only the whole model, part ``"all"``, has none)."""
    if split is None:
        raise ParameterError(f"split: got None for part {part!r}; expected a split index")
    return split


def _sources_of(subset: str, batch: Batch) -> list[str]:
    """Where each sample of ``batch`` comes from: its ``sources`` tags, else the subset name."""
    return list(batch.sources) if batch.sources is not None else [subset] * batch.size


def _clusters_of(subset: str, batch: Batch) -> list[str]:
    """The independent unit of each sample (model.md section 3.3): its source if the batch's sources are
    dependent (crops of one photo), else the sample itself (``subset:index``)."""
    if batch.dependent_sources and batch.sources is not None:
        return list(batch.sources)
    return [f"{subset}:{i}" for i in range(batch.size)]


class _OutputRunner:
    """Runs pruned parts of a private model copy on all subsets at once and measures against the unpruned outputs."""

    def __init__(self, model_name: str, model: SplitModel, batches: Mapping[str, Batch], device: str = "cpu") -> None:

        self.model_name, self.model = model_name, model
        # The private copy runs on ``device``; its unpruned weights give the reference (on the CPU the same
        # arithmetic as running ``model`` itself). Outputs come back as CPU float64 (coinfer.nets.devices).
        self.work = move_model(copy_model(model), device)
        self.subsets = list(batches)
        self.sizes = [batches[s].size for s in self.subsets]
        self.labels = [getattr(batches[s], "labels", None) for s in self.subsets]
        self.sources = [_sources_of(s, batches[s]) for s in self.subsets]
        self.clusters = [_clusters_of(s, batches[s]) for s in self.subsets]
        chunks = length_chunks(concat_inputs([batches[s].inputs for s in self.subsets]), sum(self.sizes))
        self.chunks = [(index, to_device(x, device)) for index, x in chunks]
        self.inverse = torch.argsort(torch.cat([index for index, _ in self.chunks]))
        self.reference = self._vectors(lambda _, x: self.work.forward(x))
        self.reference_l1 = self.reference.abs().sum(dim=1).numpy()

    def _vectors(self, run: Callable[[int, Any], Any]) -> torch.Tensor:
        """Output vectors of ``run(chunk number, chunk inputs)`` over all chunks, in the inputs' original order."""
        from coinfer.nets.zoo import output_vectors

        found = [to_cpu64(output_vectors(self.model_name, run(k, x))) for k, (_, x) in enumerate(self.chunks)]
        return torch.cat(found)[self.inverse]

    def rows(
        self,
        part: str,
        split: int | None,
        sweep: MagnitudeSweep,
        b: float,
        ratios: Iterable[float],
        bits: int | None,
        progress,
    ) -> tuple[list[pd.DataFrame], list[dict[str, object]]]:
        from coinfer.nets.zoo import task_metric

        ratios = [check_ratio(r) for r in ratios]
        n = sweep.num_weights
        total_abs = sweep.total_abs()
        at = 0 if part == "all" else _part_split(part, split)  # the whole model runs without a split
        # the unpruned device features, once per split: pruning the server part does not change them
        # (self.work holds the unpruned weights here; they are restored at the end of every call)
        sent = [self.work.run_device(x, at) for _, x in self.chunks] if part == "server" else []
        samples, summary = [], []
        for ratio, d in zip(ratios, sweep.distortion(ratios, bits=bits), strict=True):
            set_weights(self.work, sweep.pruned(ratio, bits=bits))
            if ratio == 0 and bits is None:
                vec = self.reference  # nothing pruned: the unpruned outputs, without a forward pass
            elif part == "server":
                vec = self._vectors(lambda k, _: self.work.run_server(sent[k], at))
            elif part == "device":
                vec = self._vectors(lambda _, x: self.work.run_server(self.work.run_device(x, at), at))
            else:
                vec = self._vectors(lambda _, x: self.work.forward(x))
            dist = output_distortion(self.reference, vec).numpy()
            param_l1 = float(d) * n
            start = 0
            for subset, size, labels, sources, clusters in zip(
                self.subsets, self.sizes, self.labels, self.sources, self.clusters, strict=True
            ):
                part_slice = slice(start, start + size)
                start += size
                ref, got = self.reference[part_slice], vec[part_slice]
                # the metric's output_vector is the identity on [batch, dim] vectors
                metric, value = task_metric(self.model_name, ref, got, labels)
                columns = {**part_columns(self.model, part, split), "ratio": ratio, "subset": subset}
                samples.append(
                    pd.DataFrame(
                        {
                            **columns,
                            "sample": np.arange(size),
                            "source": sources,
                            "cluster": clusters,
                            "param_l1": param_l1,
                            "param_rel": param_l1 / total_abs,
                            "out_l1": dist[part_slice],
                            "ref_l1": self.reference_l1[part_slice],
                        }
                    )
                )
                summary.append(
                    {
                        **columns,
                        "n_weights": n,
                        "scale": b,
                        "param_l1": param_l1,
                        "param_per_weight": float(d),
                        "param_rel": param_l1 / total_abs,
                        "out_l1_mean": float(dist[part_slice].mean()),
                        "out_rel": float(dist[part_slice].sum() / self.reference_l1[part_slice].sum()),
                        "metric": metric,
                        "metric_value": value,
                    }
                )
            progress.update(1)
        set_weights(self.work, sweep.weights)
        return samples, summary


@torch.no_grad()
def output_sweep(
    model_name: str,
    model: SplitModel,
    configs: Iterable[PartConfig],
    ratios: Iterable[float],
    batches: Mapping[str, Batch],
    *,
    scope: str = "global",
    bits: int | None = None,
    progress: bool = True,
    device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Output distortion and task metric of magnitude pruning each part at each ratio (model.md section 3, claim C1).

    All subsets run as one batch. Pruning works on one private copy of the model whose weights are swapped per
    ratio (on ``device``); the caller's model is not touched.

    Parameters
    ----------
    model_name : str
        Name written in the tables.
    model : SplitModel
        The split model.
    configs : iterable of (str, int or None)
        ``(part, split)`` pairs: ``"all"``, ``"device"`` or ``"server"`` and the split index [1] of a side.
    ratios : iterable of float
        Pruning ratios [1].
    batches : mapping of str to Batch
        Subset name (``"calibration"``, ``"heldout"``) -> its inputs.
    scope : str
        ``"global"`` or ``"layer"`` magnitude order.
    bits : int, optional
        Bits of the kept weights [bit]; ``None`` keeps them float.
    progress : bool
        Show a progress bar.
    device : str
        Where the forward passes run (``"cpu"`` or ``"cuda"``).

    Returns
    -------
    tuple of pandas.DataFrame
        ``(samples, summary)``. ``samples``: one row per (part, ratio, subset, sample): ``param_l1``
        (``||W - W^||_1`` of the part) [weight units], ``param_rel`` [1], ``out_l1`` (``||f - f^||_1``) and
        ``ref_l1`` (``||f||_1``) [output units]. ``summary``: one row per (part, ratio, subset):
        ``n_weights`` [count], ``scale`` [weight units], ``param_l1``, ``param_per_weight`` [weight units],
        ``param_rel`` [1], ``out_l1_mean`` [output units], ``out_rel`` [1], ``metric``, ``metric_value`` [1].

    References
    ----------
    docs/model.md, sections 3.3 and 6.
    """
    _, samples, summary = pruning_experiment(
        model_name,
        model,
        configs,
        ratios=ratios,
        curve_ratios=(),
        bits=(),
        batches=batches,
        scope=scope,
        output_bits=bits,
        progress=progress,
        device=device,
    )
    return samples, summary


@torch.no_grad()
def pruning_experiment(
    model_name: str,
    model: SplitModel,
    configs: Iterable[PartConfig],
    *,
    ratios: Iterable[float],
    curve_ratios: Iterable[float],
    bits: Iterable[int],
    batches: Mapping[str, Batch],
    scope: str = "global",
    output_bits: int | None = None,
    float_bits: int = 32,
    progress: bool = True,
    device: str = "cpu",
    separate_batches: Mapping[str, Batch] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`parameter_distortion_curves` and :func:`output_sweep` in one pass, sorting each part once.

    The forward passes run on ``device`` (a private copy of ``model`` is moved
    there); sorting, masks and parameter distortions stay on the CPU, so every
    device prunes the same weights, and outputs come back as CPU float64: the
    tables agree across devices within :data:`coinfer.pipeline.verify.DEVICE`.

    ``separate_batches`` (C1b's calibration inputs, model.md section 1.2) run
    under the same sort and pruned weights but in forward passes of their own
    (another private copy, their own chunks), so the outputs of ``batches``
    stay bit for bit what they are without them; they add rows to ``samples``
    only, none to ``summary``.

    Parameters
    ----------
    model_name : str
        Name written in the tables.
    model : SplitModel
        The split model.
    configs : iterable of (str, int or None)
        ``(part, split)`` pairs: ``"all"``, ``"device"`` or ``"server"`` and the split index [1] of a side.
    ratios : iterable of float
        Pruning ratios of the output sweep [1].
    curve_ratios : iterable of float
        Pruning ratios of the parameter-distortion curves [1] (empty: no curves).
    bits : iterable of int
        Bits of the quantised curves [bit].
    batches : mapping of str to Batch
        Subset name -> its inputs.
    scope : str
        ``"global"`` or ``"layer"`` magnitude order.
    output_bits : int, optional
        Bits of the kept weights in the output sweep [bit]; ``None`` keeps them float.
    float_bits : int
        Storage bits of float weights [bit].
    progress : bool
        Show a progress bar.
    device : str
        Where the forward passes run (``"cpu"`` or ``"cuda"``).
    separate_batches : mapping of str to Batch, optional
        Subset name (not one of ``batches``) -> inputs measured in separate forward passes, for ``samples`` only.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(curves, samples, summary)`` with the units of :func:`parameter_distortion_curves` and
        :func:`output_sweep`.

    References
    ----------
    docs/model.md, sections 3.3 and 4.
    """
    from coinfer.base.progress import tqdm
    from coinfer.model.rate_distortion import laplace_scale

    ratios, curve_ratios, bits = list(ratios), list(curve_ratios), list(bits)
    configs = list(configs)
    separate_batches = dict(separate_batches or {})
    clash = sorted(set(separate_batches) & set(batches))
    if clash:
        raise ParameterError(f"separate_batches: got subsets {clash} of batches too; allowed new subset names")
    device = check_device(device)
    runner = _OutputRunner(model_name, model, batches, device)
    separate = _OutputRunner(model_name, model, separate_batches, device) if separate_batches else None
    sweeps = PartSweeps(model, scope=scope, max_entries=1)  # the one sort; each part's order derived from it
    curves, samples, summary = [], [], []
    with tqdm(total=len(configs) * len(ratios), desc=f"{model_name} sweep", disable=not progress) as bar:
        for part, split in configs:
            if not part_weights(model, part, split):
                bar.update(len(ratios))
                continue
            sweep = sweeps.part(part, split)
            b = laplace_scale(sweep.flat)
            if curve_ratios:
                curves += _curve_rows(model, part, split, sweep, b, curve_ratios, bits, float_bits)
            new_samples, new_summary = runner.rows(part, split, sweep, b, ratios, output_bits, bar)
            samples += new_samples
            summary += new_summary
            if separate is not None:
                with tqdm(total=len(ratios), disable=True) as silent:  # the bar counts (part, ratio) steps once
                    samples += separate.rows(part, split, sweep, b, ratios, output_bits, silent)[0]
    return pd.DataFrame(curves), pd.concat(samples, ignore_index=True), pd.DataFrame(summary)


#: Subsets whose pairs test the first-order bound: the held-out inputs and, for the digits models, the
#: training-split digits outside the calibration pool (:data:`coinfer.nets.zoo.HELDOUT_TRAINING`, model.md section 6).
HELDOUT_SUBSETS: tuple[str, ...] = ("heldout", "heldout_training")
#: How :func:`first_order_check` calibrates ``H`` (model.md section 3.3): one constant per pruning ratio (the
#: method), or the earlier single constant per part fitted over all ratios (kept as a documented reading only).
FIRST_ORDER_H_MODES: tuple[str, ...] = ("per_ratio", "max_over_ratios")
#: Columns of :func:`first_order_check` that :func:`first_order_table` repeats for the ``max_over_ratios`` reading.
_MAX_OVER_RATIOS_COLUMNS: tuple[str, ...] = ("H", "frac_holds", "ratio_max")


def _first_order_constant_or_nan(fit: pd.DataFrame) -> float:
    """``H`` of model.md section 3.3 on the calibration pairs ``fit``; NaN when no pair has ``||dW|| > 0``."""
    usable = fit[fit["param_l1"] > 0]
    if usable.empty:
        return float("nan")
    return fit_first_order_constant(usable["out_l1"], usable["param_l1"])


def _first_order_holds(out: np.ndarray, param: np.ndarray, h: float) -> np.ndarray:
    """Per pair: does ``out <= h param`` hold (model.md section 3.3)? With ``param == 0``: only if ``out == 0``."""
    positive = param > 0
    quotient = np.divide(out, param, out=np.full_like(out, np.nan), where=positive)
    return np.where(positive, quotient <= h, out <= 0.0)


def _first_order_row(at: pd.DataFrame, h: float) -> dict[str, Any]:
    """The held-out statistics at one ratio for the constant ``h`` (model.md section 3.3).

    A pair holds when ``out / param <= h``: the same quotient
    :func:`coinfer.model.bounds.fit_first_order_constant` maximises, so every
    calibration pair holds exactly against its own fit. A pair with
    ``param == 0`` (nothing pruned that changes a weight) holds only if its
    output is unchanged; its quotient is undefined and left out of the
    median and maximum. ``frac_holds_relative`` is the scale-free form,
    ``||df|| / ||f|| <= ||dW|| / ||W||``, which has no fitted constant.
    """
    out, param = at["out_l1"].to_numpy(dtype=float), at["param_l1"].to_numpy(dtype=float)
    positive = param > 0
    quotient = np.divide(out, param, out=np.full_like(out, np.nan), where=positive)
    holds = _first_order_holds(out, param, h)
    scaled = quotient[positive] / h
    relative = out / at["ref_l1"].to_numpy(dtype=float) <= at["param_rel"].to_numpy(dtype=float)
    return {
        "n_heldout": len(at),
        "H": h,
        "frac_holds": float(holds.mean()),
        "ratio_median": float(np.median(scaled)) if scaled.size else float("nan"),
        "ratio_max": float(np.max(scaled)) if scaled.size else float("nan"),
        "frac_holds_relative": float(relative.mean()),
    }


def first_order_check(
    samples: pd.DataFrame,
    *,
    fit_subset: str = "calibration",
    test_subset: str | Sequence[str] = HELDOUT_SUBSETS,
    H_mode: str = "per_ratio",
) -> pd.DataFrame:
    """First-order bound ``||df||_1 <= H(rho) ||dW||_1`` (model.md section 3.3): fit on one subset, test on another.

    - ``H``: with ``H_mode="per_ratio"`` (the method) the smallest constant that holds on every ``fit_subset``
      pair at that ratio with ``||dW|| > 0`` (:func:`coinfer.model.bounds.fit_first_order_constant`; NaN if
      there is none). With ``H_mode="max_over_ratios"`` one constant per (model, part, split) over the
      ``fit_subset`` pairs of all ratios: the earlier fit, kept only as a documented reading, because it is set
      by the smallest ratios and makes the test at large ratios nearly unfailable.
    - ``frac_holds``: share of the ``n_heldout`` ``test_subset`` pairs at that ratio with ``out <= H param``;
      ``ratio_median``/``ratio_max`` of ``out / (H param)``;
    - ``frac_holds_relative``: share holding in the scale-free form ``||df|| / ||f|| <= ||dW|| / ||W||``;
    - ``H_mode`` and ``n_calibration`` (``fit_subset`` pairs at that ratio).

    Parameters
    ----------
    samples : pandas.DataFrame
        One row per (model, part, split, ratio, subset, sample), as :func:`output_sweep` returns.
    fit_subset : str
        Subset the constant ``H(rho)`` is fitted on.
    test_subset : str or sequence of str
        Subset(s) whose pairs are tested (pooled; default :data:`HELDOUT_SUBSETS`).
    H_mode : str
        ``"per_ratio"`` or ``"max_over_ratios"``.

    Returns
    -------
    pandas.DataFrame
        One row per (model, part, split, ratio > 0) with at least one test pair: ``H`` [output units per
        weight unit], the shares [1], the ratios to the bound [1] and the pair counts [count].

    References
    ----------
    docs/model.md, section 3.3.
    """
    require_choice("H_mode", H_mode, FIRST_ORDER_H_MODES)
    tested = [test_subset] if isinstance(test_subset, str) else list(test_subset)
    rows = []
    keys = ["model", "part", "split", "split_name"]
    for key, group in samples.groupby(keys, sort=False, dropna=False):
        fit = group[group["subset"] == fit_subset]
        h_all = _first_order_constant_or_nan(fit) if H_mode == "max_over_ratios" else float("nan")
        test = group[group["subset"].isin(tested) & (group["ratio"] > 0)]
        for ratio, at in test.groupby("ratio", sort=True):
            fit_at = fit[fit["ratio"] == ratio]
            h = h_all if H_mode == "max_over_ratios" else _first_order_constant_or_nan(fit_at)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "ratio": float(ratio),
                    "H_mode": H_mode,
                    "n_calibration": len(fit_at),
                    **_first_order_row(at, h),
                }
            )
    return pd.DataFrame(rows)


def first_order_table(
    samples: pd.DataFrame, *, fit_subset: str = "calibration", test_subset: str | Sequence[str] = HELDOUT_SUBSETS
) -> pd.DataFrame:
    """:func:`first_order_check` per ratio, with the ``max_over_ratios`` reading beside it (model.md section 3.3).

    The per-ratio table (the method) gains the columns ``H_max_over_ratios``,
    ``frac_holds_max_over_ratios`` and ``ratio_max_max_over_ratios``: the same
    held-out pairs judged against one ``H`` per part fitted over all ratios,
    so a report can say what the earlier fit gave.

    Parameters
    ----------
    samples : pandas.DataFrame
        The samples of :func:`output_sweep`.
    fit_subset : str
        Subset the constant ``H(rho)`` is fitted on.
    test_subset : str or sequence of str
        Subset(s) whose pairs are tested (pooled; default :data:`HELDOUT_SUBSETS`).

    Returns
    -------
    pandas.DataFrame
        The table of :func:`first_order_check` with the three extra columns (units as there).

    References
    ----------
    docs/model.md, section 3.3.
    """
    keys = ["model", "part", "split", "split_name", "ratio"]
    table = first_order_check(samples, fit_subset=fit_subset, test_subset=test_subset)
    old = first_order_check(samples, fit_subset=fit_subset, test_subset=test_subset, H_mode="max_over_ratios")
    old = old[keys + list(_MAX_OVER_RATIOS_COLUMNS)].rename(
        columns={c: f"{c}_max_over_ratios" for c in _MAX_OVER_RATIOS_COLUMNS}
    )
    return table.merge(old, on=keys, how="left", validate="one_to_one")


def first_order_pairs(
    samples: pd.DataFrame, *, fit_subset: str = "calibration", test_subset: str | Sequence[str] = HELDOUT_SUBSETS
) -> pd.DataFrame:
    """Every held-out (model, part, split, ratio > 0, input) pair with ``holds``: ``out <= H(rho) param``.

    ``H(rho)`` is fitted per ratio on the ``fit_subset`` pairs as in
    :func:`first_order_check` (model.md section 3.3), so the shares of
    ``holds`` per (part, ratio) equal its ``frac_holds``.

    Parameters
    ----------
    samples : pandas.DataFrame
        The samples of :func:`output_sweep`.
    fit_subset : str
        Subset the constant ``H(rho)`` is fitted on.
    test_subset : str or sequence of str
        Subset(s) whose pairs are tested (pooled; default :data:`HELDOUT_SUBSETS`).

    Returns
    -------
    pandas.DataFrame
        One row per pair with ``holds`` and its ``subset``, ``sample``, ``source`` and ``cluster`` (the
        independent unit: the input, or its photo for crops); distortions [output units, weight units].

    References
    ----------
    docs/model.md, section 3.3.
    """
    tested = [test_subset] if isinstance(test_subset, str) else list(test_subset)
    keys = ["model", "part", "split", "split_name", "ratio"]
    fit = samples[samples["subset"] == fit_subset]
    h = fit.groupby(keys, sort=False, dropna=False).apply(_first_order_constant_or_nan, include_groups=False)
    test = samples[samples["subset"].isin(tested) & (samples["ratio"] > 0)]
    pairs = test[[*keys, "subset", "sample", "source", "cluster", "out_l1", "param_l1"]].merge(
        h.rename("H").reset_index(), on=keys, how="left", validate="many_to_one"
    )
    pairs["holds"] = _first_order_holds(
        pairs["out_l1"].to_numpy(dtype=float), pairs["param_l1"].to_numpy(dtype=float), pairs["H"].to_numpy()
    )
    return pairs.drop(columns=["out_l1", "param_l1"])


def first_order_by_source(pairs: pd.DataFrame, *, large_ratio: float) -> pd.DataFrame:
    """Per (model, part, split, subset, source): the share of held-out pairs where the first-order bound holds.

    The breakdown that shows the dependence of model.md section 3.3: one row
    per photo for EfficientNet, per digits split for the digits models.

    Parameters
    ----------
    pairs : pandas.DataFrame
        The table of :func:`first_order_pairs`.
    large_ratio : float
        Least ratio counted as large [1] (C1's large ratios, :class:`coinfer.claims.Thresholds`).

    Returns
    -------
    pandas.DataFrame
        ``n_inputs``, ``n_pairs`` [count] and ``frac_holds`` [1] over all ratios > 0, and ``n_pairs_large``
        [count], ``frac_holds_large`` [1] over the ratios ``>= large_ratio``.

    References
    ----------
    docs/model.md, section 3.3.
    """
    keys = ["model", "part", "split", "split_name", "subset", "source"]
    large = pairs.assign(
        large=pairs["ratio"] >= large_ratio, holds_large=pairs["holds"] & (pairs["ratio"] >= large_ratio)
    )
    table = (
        large.groupby(keys, sort=False, dropna=False)
        .agg(
            n_inputs=("sample", "nunique"),
            n_pairs=("holds", "size"),
            frac_holds=("holds", "mean"),
            n_pairs_large=("large", "sum"),
            n_holds_large=("holds_large", "sum"),
        )
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["frac_holds_large"] = table["n_holds_large"] / table["n_pairs_large"].where(table["n_pairs_large"] > 0)
    return table.drop(columns="n_holds_large")


def first_order_clusters(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per (model, ratio, cluster): held-out pairs and how many hold, summed over parts (model.md section 3.3).

    A cluster is the unit a resampling interval must draw as a whole (an
    input; a photo for crops): the input of :func:`coinfer.model.stats.cluster_bootstrap_share`.

    Parameters
    ----------
    pairs : pandas.DataFrame
        The table of :func:`first_order_pairs`.

    Returns
    -------
    pandas.DataFrame
        One row per (model, ratio, cluster) with the pairs and the pairs that hold [count].

    References
    ----------
    docs/model.md, section 3.3.
    """
    keys = ["model", "ratio", "subset", "source", "cluster"]
    return (
        pairs.groupby(keys, sort=False)
        .agg(n_pairs=("holds", "size"), n_holds=("holds", "sum"))
        .reset_index()
        .astype({"n_pairs": int, "n_holds": int})
    )


def first_order_ratio_intervals(clusters: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Per (model, ratio): the share of held-out pairs (all parts) where the bound holds, with two 95 % intervals.

    ``ci_low``/``ci_high``: Clopper-Pearson over the pairs as if independent
    (the declared rule of C1); ``cluster_ci_low``/``cluster_ci_high``: the
    cluster bootstrap that resamples inputs, or photos for crops
    (:func:`coinfer.model.stats.cluster_bootstrap_share`).

    Parameters
    ----------
    clusters : pandas.DataFrame
        The table of :func:`first_order_clusters`.
    seed : int
        Seed of the cluster bootstrap [1].

    Returns
    -------
    pandas.DataFrame
        One row per (model, ratio): the share and both intervals [1], and the counts [count].

    References
    ----------
    docs/model.md, sections 1.1 and 3.3.
    """
    from coinfer.model.stats import clopper_pearson, cluster_bootstrap_share

    rows = []
    for (model, ratio), group in clusters.groupby(["model", "ratio"], sort=False):
        by_cluster = group.groupby("cluster", sort=True)[["n_holds", "n_pairs"]].sum()
        holds, trials = int(by_cluster["n_holds"].sum()), int(by_cluster["n_pairs"].sum())
        low, high = clopper_pearson(holds, trials)
        cluster_low, cluster_high = cluster_bootstrap_share(by_cluster["n_holds"], by_cluster["n_pairs"], seed=seed)
        rows.append(
            {
                "model": model,
                "ratio": float(ratio),
                "n_clusters": len(by_cluster),
                "n_pairs": trials,
                "frac_holds": holds / trials if trials else float("nan"),
                "ci_low": low,
                "ci_high": high,
                "cluster_ci_low": cluster_low,
                "cluster_ci_high": cluster_high,
            }
        )
    return pd.DataFrame(rows)


#: Columns of :func:`first_order_scores`, in order (the claim's ``FIRST_ORDER_SCORE_COLUMNS`` among them).
FIRST_ORDER_SCORE_TABLE_COLUMNS: tuple[str, ...] = (
    "model",
    "part",
    "split",
    "split_name",
    "ratio",
    "subset",
    "process",
    "cluster",
    "input",
    "out_l1",
    "param_l1",
    "score",
)


#: Subset name of C1b's calibration inputs in notebook 04's samples (``separate_batches`` of
#: :func:`pruning_experiment`); ``"calibration"`` stays the 16 inputs that fit ``H`` in :func:`first_order_check`.
C1B_CALIBRATION_SUBSET = "c1b_calibration"


def first_order_scores(
    samples: pd.DataFrame,
    *,
    process: str,
    calibration_subset: str = C1B_CALIBRATION_SUBSET,
    heldout_subset: str = "heldout",
) -> pd.DataFrame:
    """Per input, part and ratio > 0: the score ``||df||_1 / ||dW||_1`` C1b calibrates and tests (model.md 1.2, 3.3).

    The rows of C1b's table (``data/first_order_scores.csv``): the held-out
    inputs' pairs of the output sweep of notebook 04, and the pairs of the
    calibration inputs drawn by the same process
    (:func:`coinfer.nets.zoo.c1_calibration_batch`, run as
    ``separate_batches`` of :func:`pruning_experiment`). A pair with
    ``||dW||_1 = 0`` scores 0 if its output is unchanged, else infinity (the
    bound then holds only for an unchanged output, as in
    :func:`first_order_check`).

    Parameters
    ----------
    samples : pandas.DataFrame
        Samples of :func:`pruning_experiment` (or :func:`output_sweep`); subsets other than the two are ignored.
    process : str
        How both sets were drawn (:func:`coinfer.nets.zoo.c1_process`).
    calibration_subset, heldout_subset : str
        The subsets written as ``"calibration"`` and ``"heldout"``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FIRST_ORDER_SCORE_TABLE_COLUMNS`: ``subset`` ``"heldout"`` or ``"calibration"``,
        ``cluster`` (the independent unit: the input, or its photo for crops), ``input`` (its index in its
        subset) [1], ``out_l1`` [output units], ``param_l1`` [weight units], ``score`` [output units per
        weight unit]; sorted by model, part, split, ratio, subset, cluster and input.

    Raises
    ------
    ParameterError
        If a calibration cluster is also a held-out cluster (the sets must not share a source).

    References
    ----------
    docs/model.md, sections 1.2 and 3.3.
    """
    frames = []
    for subset, name in (("calibration", calibration_subset), ("heldout", heldout_subset)):
        rows = samples[(samples["subset"] == name) & (samples["ratio"] > 0)]
        frames.append(rows.assign(subset=subset).rename(columns={"sample": "input"}))
    shared = set(frames[0]["cluster"]) & set(frames[1]["cluster"])
    if shared:
        raise ParameterError(
            f"calibration: shares the clusters {sorted(shared)[:3]} with the held-out inputs; allowed disjoint sets"
        )
    table = pd.concat(frames, ignore_index=True).assign(process=process)
    out, param = table["out_l1"].to_numpy(dtype=float), table["param_l1"].to_numpy(dtype=float)
    unchanged = np.where(out > 0, np.inf, 0.0)
    table["score"] = np.divide(out, param, out=unchanged, where=param > 0)
    table = table[list(FIRST_ORDER_SCORE_TABLE_COLUMNS)]
    order = ["model", "part", "split", "ratio", "subset", "cluster", "input"]
    return table.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)


#: :func:`summarise_checks` key -> column of ``exact_bound_sweep`` (as in data/exact_bound_digits.csv).
_EXACT_SWEEP_COLUMNS = {
    "violations_operator": "violations_operator",
    "violations_entrywise": "violations_entrywise",
    "output_distortion_mean": "out_l1_mean",
    "bound_operator_mean": "bound_operator_mean",
    "bound_entrywise_mean": "bound_entrywise_mean",
    "tightness_operator_max": "tightness_operator_max",
    "tightness_entrywise_max": "tightness_entrywise_max",
}


def exact_bound_sweep(
    model: SplitModel,
    configs: Iterable[PartConfig],
    ratios: Iterable[float],
    x: torch.Tensor,
    *,
    scope: str = "global",
) -> pd.DataFrame:
    """The exact model.md section 3 bound on a Sequential-built model, per (part, ratio): violations and tightness.

    Uses :func:`check_pair` on ``as_sequential`` of the model
    and of each pruned copy. A violation is a bug, so callers assert zero.

    Parameters
    ----------
    model : SplitModel
        A split model built from ``nn.Sequential`` layers the theorem covers.
    configs : iterable of (str, int or None)
        ``(part, split)`` pairs: ``"all"``, ``"device"`` or ``"server"`` and the split index [1] of a side.
    ratios : iterable of float
        Pruning ratios [1].
    x : torch.Tensor
        Inputs [input units].
    scope : str
        ``"global"`` or ``"layer"`` magnitude order.

    Returns
    -------
    pandas.DataFrame
        One row per (part, ratio): checks and violations [count], worst and median tightness [1].

    References
    ----------
    docs/model.md, section 3.1.
    """
    from coinfer.nets.split import as_sequential

    ratios = [check_ratio(r) for r in ratios]
    reference = as_sequential(model)
    rows = []
    for part, split in configs:
        weights = part_weights(model, part, split)
        sweep = MagnitudeSweep(weights, scope=scope)
        for ratio in ratios:
            pruned = with_weights(model, sweep.pruned(ratio))
            summary = summarise_checks(check_pair(reference, as_sequential(pruned), x))
            rows.append(
                {
                    **part_columns(model, part, split),
                    "ratio": ratio,
                    "n_inputs": summary["n_checks"],
                    "param_l1": float(sweep.distortion([ratio])[0]) * sweep.num_weights,
                    **{column: summary[key] for key, column in _EXACT_SWEEP_COLUMNS.items()},
                }
            )
    return pd.DataFrame(rows)


def holds_from(frame: pd.DataFrame, flag: str, *, by: Iterable[str], ratio: str = "ratio") -> pd.DataFrame:
    """Per group: the smallest ratio from which ``flag`` is true at every larger ratio of the grid.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``ratio`` and ``flag`` columns.
    flag : str
        The column judged (a boolean, or a fraction in [0, 1] of which only 1 counts as true).
    by : iterable of str
        The grouping columns.
    ratio : str
        The ratio column [1].

    Returns
    -------
    pandas.DataFrame
        Per group ``holds_from`` [1] (NaN when the flag fails at the largest ratio) and ``frac``, the fraction
        of grid ratios where it is true [1].
    """
    rows = []
    for key, group in frame.groupby(list(by), sort=False, dropna=False):
        group = group.sort_values(ratio)
        ok = group[flag].to_numpy(dtype=float) >= 1.0
        values = group[ratio].to_numpy(dtype=float)
        failing = np.flatnonzero(~ok)
        if failing.size == 0:
            start = values[0]
        else:
            start = values[failing[-1] + 1] if failing[-1] + 1 < len(values) else np.nan
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "holds_from": float(start),
                "frac": float(ok.mean()),
                "ratio_min": float(values[0]),
                "ratio_max": float(values[-1]),
            }
        )
    return pd.DataFrame(rows)


def integer_split(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``split`` column as nullable integers: blank for the whole model, integers otherwise.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with a ``split`` column.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself (changed in place) with ``split`` as ``Int64`` [1].
    """
    frame["split"] = frame["split"].astype("Int64")
    return frame
