"""Global sensitivity of the C3 and C4 verdicts to the model.md section 7 constants (model.md section 7.4).

Every verdict of notebook 06 is computed at one point of the defaults
(:data:`coinfer.model.system.DEFAULTS`). This module samples the constants jointly
over the ranges of :data:`RANGES` with SALib's Saltelli/Sobol design
(:func:`sample_constants`), solves every split of every model at every sample
with :func:`coinfer.optimise.solve_batch` (:func:`study`), and
reports per sample whether the verdict-relevant gains hold (model.md sections
5.5, 5.6):

- ``beats_on_device`` / ``beats_on_server``: the proposed design (best split)
  has an objective lower by at least :data:`MARGIN` (relative) than fully
  on-device (split L) / fully on-server (split 0), or is feasible where that
  benchmark is not;
- ``beats_both_extremes``: both of the above (the C3 gain);
- ``intermediate_beats_extremes``: the best intermediate split (``0 < s < L``)
  beats both extremes by at least :data:`MARGIN` (the C4 gain);
- ``beats_max_resources``: the proposed design against the maximum-resources
  benchmark (:func:`coinfer.optimise.solve_max_resources` at its best split).

Budgets are each model's default point in seconds and joules (model.md section 7.3), held at every sample,
where the notebook gives them; else the study's factors times each model's references computed at the
sample's constants (:func:`coinfer.model.system.reference_budgets`, the recipe before issue 22).
:func:`sobol_indices` gives first-order and total Sobol indices of every gain
(SALib's ``analyze.sobol``, confidence intervals from its seeded bootstrap).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coinfer import optimise
from coinfer.base.parallel import parallel_map
from coinfer.base.threads import one_blas_thread
from coinfer.base.validation import ParameterError
from coinfer.model import hardware, system
from coinfer.model.stats import cluster_bootstrap_share
from coinfer.nets import profiles

#: Relative margin of every gain (the claims report's ``c3_min_margin``, model.md section 5.6).
MARGIN = 0.01
#: Gains of a sample, in table order; the first four are analysed with Sobol indices.
GAINS = (
    "beats_on_device",
    "beats_on_server",
    "beats_both_extremes",
    "intermediate_beats_extremes",
    "beats_max_resources",
    "beats_every_sampled_benchmark",
)
#: Per claim: the gain column whose share over the sampled constants is the claim's robustness entry
#: (:func:`coinfer.claims.paper.sampled_constants_entry`): C3, the proposed design beats every benchmark the
#: samples solve (both extremes and maximum resources) by >= 1 %; C4, an intermediate split beats both extremes by
#: >= 1 %. Two columns: ``beats_both_extremes`` equals ``intermediate_beats_extremes`` at every sample (the
#: proposed design beats both extremes exactly when its best split is an intermediate one that does), so C3 reads
#: the column that adds what the joint optimisation of the resources buys (issue 24).
CLAIM_GAINS = {"C3": "beats_every_sampled_benchmark", "C4": "intermediate_beats_extremes"}


@dataclass(frozen=True)
class Range:
    """One sampled constant: its range, how it is sampled, its unit and where the range comes from.

    ``kind``: ``"log"`` (log-uniform in ``[low, high]``) or ``"choice"``
    (categorical: the sampler draws ``u`` uniformly in ``[0, len(choices))``
    and the sample takes ``choices[floor(u)]``).
    """

    name: str
    kind: str
    low: float
    high: float
    unit: str
    source: str
    choices: tuple[Any, ...] = ()

    def bounds(self) -> list[float]:
        """The sampler's bounds: ``log10`` of the range, or ``[0, number of choices]``.

        Returns
        -------
        list of float
            Lower and upper bound of the sampler's coordinate.
        """
        if self.kind == "choice":
            return [0.0, float(len(self.choices))]
        return [math.log10(self.low), math.log10(self.high)]

    def values(self, u: np.ndarray) -> np.ndarray:
        """The constant's values at sampler coordinates ``u``.

        Parameters
        ----------
        u : numpy.ndarray
            Sampler coordinates (within :meth:`bounds`) [1].

        Returns
        -------
        numpy.ndarray
            The values [the range's unit].
        """
        if self.kind == "choice":
            index = np.minimum(np.floor(u).astype(int), len(self.choices) - 1)
            return np.asarray(self.choices)[index]
        return np.power(10.0, u)

    def describe(self) -> str:
        """The range as the notebook's table prints it.

        Returns
        -------
        str
            The range in words, with its unit.
        """
        if self.kind == "choice":
            return "{" + ", ".join(str(c) for c in self.choices) + "} uniform"
        return f"[{self.low:.4g}, {self.high:.4g}] log-uniform"


def _around(name: str, low: float, high: float) -> tuple[float, float]:
    default = float(system.DEFAULTS[name])
    return default * low, default * high


#: The sampled constants (model.md section 7.4). The feature width is a floor for the intermediate splits'
#: measured widths within the distortion cap (:func:`feature_variant`); ``distance`` gives ``channel_gain``
#: (model.md section 7.1).
RANGES: tuple[Range, ...] = (
    # Switched capacitance: model.md 7.1 default (follow-up paper) x0.25..x4; the MEC literature uses
    # 1e-29..1e-27 J s^2/cycle, and these two octaves either side cover the spread of mobile SoCs.
    Range("psi_device", "log", *_around("psi_device", 0.25, 4.0), "J s^2/cycle", "model.md 7.1 default x0.25..x4"),
    Range("psi_server", "log", *_around("psi_server", 0.25, 4.0), "J s^2/cycle", "model.md 7.1 default x0.25..x4"),
    # FLOPs per cycle: SIMD width and kernel efficiency, half to twice the follow-up paper's values.
    Range(
        "flops_per_cycle_device", "log", *_around("flops_per_cycle_device", 0.5, 2.0), "FLOP/cycle",
        "model.md 7.1 default x0.5..x2 (SIMD width, kernel efficiency)",
    ),
    Range(
        "flops_per_cycle_server", "log", *_around("flops_per_cycle_server", 0.5, 2.0), "FLOP/cycle",
        "model.md 7.1 default x0.5..x2 (SIMD width, kernel efficiency)",
    ),
    # Clocks: handset cores run at 0.5-4 GHz; the server's aggregate frequency at 2-20 GHz (default 10 GHz).
    Range("f_device_max", "log", 0.5e9, 4e9, "Hz", "assumed: handset CPU clocks 0.5-4 GHz (default 2 GHz)"),
    Range("f_server_max", "log", 2e9, 20e9, "Hz", "assumed: edge-server aggregate clock (default 10 GHz) /5..x2"),
    # Uplink: from a narrow IoT channel to a wide 5G NR carrier share; distances of small to macro cells.
    Range("bandwidth", "log", 0.5e6, 50e6, "Hz", "assumed: 0.5 MHz (narrowband) to 50 MHz (5G NR share)"),
    Range("distance", "log", 50.0, 1000.0, "m", "assumed: small to macro cell, where the path-loss model applies"),
    # Transmit power: 17 dBm (IoT class) to 30 dBm; the default 23 dBm is the handset power class 3.
    Range("p_max", "log", 0.05, 1.0, "W", "assumed: 17-30 dBm transmit power (default 23 dBm)"),
    # Precision of the kept weights in the objective and of the sent features: int4, int8, fp16.
    Range("bits_per_weight", "choice", 0, 3, "bit", "assumed: int4 / int8 / fp16 weights", (4, 8, 16)),
    Range("feature_bits", "choice", 0, 3, "bit/element", "assumed: int4 / int8 / fp16 features", (4, 8, 16)),
    # What the energy budget covers (model.md section 2.6): both readings a referee would take.
    Range("energy_scope", "choice", 0, 2, "", "model.md 2.6: system or device energy", system.ENERGY_SCOPES),
    # The physical model's constants (model.md 2.7, 7.1), each over its plausible range (hardware.PLAUSIBLE_RANGES).
    *(
        Range(name, "log", *hardware.PLAUSIBLE_RANGES[name], unit, "model.md 7.1 plausible range (hardware.py)")
        for name, unit in (
            ("static_power_device", "W"), ("static_power_server", "W"),
            ("memory_energy_device", "J/bit"), ("memory_energy_server", "J/bit"),
            ("memory_bandwidth_device", "bit/s"), ("memory_bandwidth_server", "bit/s"),
            ("access_latency", "s"), ("circuit_power", "W"),
        )
    ),
    # The budgets: multiples of each model's default point (model.md 7.3); a quarter to four times it stays above
    # the physical minima of the sampled models at the default constants (model.md 7.4).
    Range("latency_budget_factor", "log", 0.25, 4.0, "1", "assumed: x0.25..x4 the default latency budget"),
    Range("energy_budget_factor", "log", 0.25, 4.0, "1", "assumed: x0.25..x4 the default energy budget"),
)  # fmt: skip
#: Sampled factors of the budgets, not problem fields.
BUDGET_FACTORS = ("latency_budget_factor", "energy_budget_factor")
#: Names of the sampled constants, in :data:`RANGES` order.
NAMES = tuple(r.name for r in RANGES)


def ranges_table(ranges: Sequence[Range] = RANGES) -> pd.DataFrame:
    """The ranges, their sampling, unit, default and source (the notebook prints it; model.md section 7.4).

    Parameters
    ----------
    ranges : sequence of Range
        The constants and their ranges; default :data:`RANGES`.

    Returns
    -------
    pandas.DataFrame
        One row per constant.

    References
    ----------
    docs/model.md, section 7.4.
    """
    defaults = {
        **system.DEFAULTS,
        "feature_bits": profiles.BITS_PER_ELEMENT,
        "distance": system.INPUT_FIELDS["distance"],
        **dict.fromkeys(BUDGET_FACTORS, 1.0),
    }
    return pd.DataFrame(
        [
            {
                "constant": r.name,
                "range": r.describe(),
                "unit": r.unit,
                "default": system.format_default(defaults[r.name]),
            }
            | {"source": r.source}
            for r in ranges
        ]
    )


def _salib_problem(ranges: Sequence[Range] = RANGES) -> dict[str, Any]:
    """SALib's problem definition over the sampler coordinates of ``ranges``."""
    return {"num_vars": len(ranges), "names": [r.name for r in ranges], "bounds": [r.bounds() for r in ranges]}


def samples_per_model(base_samples: int, ranges: Sequence[Range] = RANGES) -> int:
    """``N (D + 2)``: the size of the Saltelli design without second-order indices.

    Parameters
    ----------
    base_samples : int
        Saltelli base samples ``N`` [count], a power of two.
    ranges : sequence of Range
        The constants and their ranges; default :data:`RANGES`.

    Returns
    -------
    int
        The number of samples [count].
    """
    return base_samples * (len(ranges) + 2)


def sample_constants(base_samples: int, seed: int, ranges: Sequence[Range] = RANGES) -> pd.DataFrame:
    """The seeded Saltelli/Sobol design (``SALib.sample.sobol``), one row per sample, constants in SI units.

    ``base_samples`` (``N``) must be a power of two (Sobol sequences balance
    only then). Returns ``N (D + 2)`` rows with a column ``sample`` and one
    per constant; the column order and the row order are the sampler's, which
    :func:`sobol_indices` relies on.

    Parameters
    ----------
    base_samples : int
        Saltelli base samples ``N`` [count], a power of two.
    seed : int
        Seed of the design [1].
    ranges : sequence of Range
        The constants and their ranges; default :data:`RANGES`.

    Returns
    -------
    pandas.DataFrame
        ``N (D + 2)`` rows of constants [SI units].

    References
    ----------
    docs/model.md, section 7.4.
    """
    from SALib.sample import sobol

    if base_samples < 2 or base_samples & (base_samples - 1):
        raise ParameterError(f"base_samples: got {base_samples}; allowed a power of two >= 2")
    unit = sobol.sample(_salib_problem(ranges), base_samples, calc_second_order=False, seed=seed)
    frame = pd.DataFrame({"sample": np.arange(len(unit))})
    for j, r in enumerate(ranges):
        frame[r.name] = r.values(unit[:, j])
    return frame


def feature_variant(rows: pd.DataFrame, bits: int, quantisation: pd.DataFrame | None) -> pd.DataFrame:
    """One model's profile rows with its split features at a sampled width ``bits``, charged what it costs.

    A sampled width is a floor, not a free choice: each intermediate split sends the fewest measured bits
    ``>= bits`` whose rounding adds at most :data:`coinfer.nets.profiles.FEATURE_DISTORTION_CAP` relative output
    distortion (the objective does not count feature rounding, so a width beyond the cap may not be taken); a
    split with no such measurement keeps its 16-bit features (model.md 7.4; until issue 24 item 4 every width was
    taken free of charge, and 4-bit features added 8.8-37 % output distortion).

    Parameters
    ----------
    rows : pandas.DataFrame
        One model's rows of ``profiles.csv`` (16-bit features).
    bits : int
        Sampled feature width [bit/element].
    quantisation : pandas.DataFrame or None
        ``data/feature_quantisation.csv`` (``model, split, bits_per_element, distortion_mean``); None: no
        measurement, every split keeps its features.

    Returns
    -------
    pandas.DataFrame
        ``rows`` with ``feature_bits`` [bit] and ``bits_per_element`` [bit/element] of the intermediate splits set.

    References
    ----------
    docs/model.md, sections 2.4 and 7.4.
    """
    measured = quantisation if quantisation is not None else pd.DataFrame(columns=_QUANTISATION_COLUMNS)
    wider = measured[measured["bits_per_element"] >= bits]
    return profiles.with_compressed_features(rows, wider, profiles.FEATURE_DISTORTION_CAP)


_QUANTISATION_COLUMNS = ["model", "split", "bits_per_element", "distortion_mean"]


def _problems(
    rows: pd.DataFrame, constants: pd.DataFrame, base: Mapping[str, Any], quantisation: pd.DataFrame | None
) -> list[system.Problem]:
    """Every split of one model at every sample (sample-major), with the sample's constants (budgets 1.0)."""
    variants = {
        int(b): system.problems_for_splits(feature_variant(rows, int(b), quantisation), latency_budget=1.0,
                                           energy_budget=1.0, **base)
        for b in sorted(set(constants["feature_bits"]))
    }  # fmt: skip
    fields = [n for n in NAMES if n not in ("feature_bits", "distance", *BUDGET_FACTORS)]
    problems = []
    for record in constants[[*fields, "feature_bits", "distance"]].to_dict("records"):
        changes = {name: record[name] for name in fields}
        changes["bits_per_weight"] = int(changes["bits_per_weight"])
        changes["channel_gain"] = system.channel_gain(float(record["distance"]))
        changes.update(clock_floors(changes, base))
        problems += [p.replace(**changes) for p in variants[int(record["feature_bits"])]]
    return problems


def clock_floors(constants: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The DVFS floors that go with sampled clock ceilings: each at the base's ratio ``f_min / f_max``.

    A sampled ``f_X_max`` stands for another chip of the same kind, whose lowest operating point scales with its
    highest (model.md sections 7.4 and 7.5: the floors' sources give them as a fraction of the top clock), so a
    sample never has a floor above its ceiling.

    Parameters
    ----------
    constants : mapping of str to float
        One sample's constants; its ``f_device_max``, ``f_server_max`` [Hz] if sampled.
    base : mapping of str to Any, optional
        The study's fixed fields; their ``f_X_min`` and ``f_X_max`` [Hz] (else model.md section 7 defaults) give
        the ratio.

    Returns
    -------
    dict of str to float
        ``f_X_min`` [Hz] for each sampled ``f_X_max``.
    """
    base = {} if base is None else base
    floors = {}
    for side in ("device", "server"):
        if f"f_{side}_max" in constants:
            low = float(base.get(f"f_{side}_min", system.DEFAULTS[f"f_{side}_min"]))
            high = float(base.get(f"f_{side}_max", system.DEFAULTS[f"f_{side}_max"]))
            floors[f"f_{side}_min"] = float(constants[f"f_{side}_max"]) * (low / high)
    return floors


@one_blas_thread  # the bytes of the table must not depend on the machine's BLAS threads
def _chunk(
    rows: pd.DataFrame,
    factors: tuple[float, float],
    base: Mapping[str, Any],
    max_resources: bool,
    fixed: tuple[float, float] | None,
    quantisation: pd.DataFrame | None,
    constants: pd.DataFrame,
) -> pd.DataFrame:
    """Objectives of the schemes of one model at the samples of ``constants`` (one row per sample); budgets
    ``fixed`` [s, J] at every sample where given, else the factors times the references at the sample."""
    splits = len(rows)
    unbudgeted = _problems(rows, constants, base, quantisation)
    # the references at each sample's constants (model.md section 7.3): the one computation of them
    references = [system.reference_budgets(unbudgeted[i : i + splits]) for i in range(0, len(unbudgeted), splits)]
    t_ref = np.array([t for t, _ in references])
    e_ref = np.array([e for _, e in references])
    if fixed is None:
        budgets = (factors[0] * t_ref, factors[1] * e_ref)
    else:
        budgets = (np.full(len(t_ref), float(fixed[0])), np.full(len(e_ref), float(fixed[1])))
    sampled = [constants[name].to_numpy(dtype=float) if name in constants else 1.0 for name in BUDGET_FACTORS]
    budgets = (budgets[0] * sampled[0], budgets[1] * sampled[1])  # the sampled budget factors (model.md 7.4)
    problems = [
        p.replace(latency_budget=float(budgets[0][i // splits]), energy_budget=float(budgets[1][i // splits]))
        for i, p in enumerate(unbudgeted)
    ]
    objective = np.array(
        [s.objective if s.status == "optimal" else np.inf for s in optimise.solve_batch(problems)], dtype=float
    ).reshape(-1, splits)
    out = pd.DataFrame({"sample": constants["sample"].to_numpy(), "T_ref": t_ref, "E_ref": e_ref})
    out["T0"], out["E0"] = budgets
    out["best_split"] = np.where(np.isfinite(objective).any(axis=1), objective.argmin(axis=1), -1)
    out["proposed"] = objective.min(axis=1)
    out["on_server"], out["on_device"] = objective[:, 0], objective[:, -1]
    out["best_intermediate"] = objective[:, 1:-1].min(axis=1) if splits > 2 else np.inf
    if max_resources:
        mr = np.array(
            [s.objective if s.status == "optimal" else np.inf for s in map(optimise.solve_max_resources, problems)]
        )
        out["max_resources"] = mr.reshape(-1, splits).min(axis=1)
    return out


def beaten(ours: np.ndarray, theirs: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """``ours`` beats ``theirs`` by ``margin``: feasible, and ``theirs`` infeasible or ``>= ours (1 + margin)``.

    Infeasible objectives are ``inf`` (the claims report's C3 rule, model.md section 5.6).

    Parameters
    ----------
    ours : numpy.ndarray
        Objectives of the proposed design [1] (``inf`` infeasible).
    theirs : numpy.ndarray
        Objectives of a benchmark [1].
    margin : float
        Relative margin [1].

    Returns
    -------
    numpy.ndarray
        Boolean per sample.

    References
    ----------
    docs/model.md, section 5.6.
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return np.isfinite(ours) & (~np.isfinite(theirs) | (theirs >= ours * (1 + margin)))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Objective ratio; ``inf`` where only the denominator is feasible, NaN where it is not."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(denominator), numerator / denominator, np.nan)


def gains(objectives: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """The gains of :data:`GAINS` and their ratios, from per-sample objectives (``inf`` = infeasible).

    ``objectives`` has columns ``proposed``, ``on_device``, ``on_server``,
    ``best_intermediate`` and optionally ``max_resources``. Ratios are
    benchmark over proposed (``extremes_over_intermediate``: the better
    extreme over the best intermediate split); ``inf`` where only the
    denominator is feasible, NaN where it is infeasible.

    Parameters
    ----------
    objectives : pandas.DataFrame
        Per-sample objectives [1].
    margin : float
        Relative margin [1].

    Returns
    -------
    pandas.DataFrame
        The gains (booleans) and their ratios [1].

    References
    ----------
    docs/model.md, section 7.4.
    """
    p, dev, srv = (objectives[c].to_numpy(float) for c in ("proposed", "on_device", "on_server"))
    mid = objectives["best_intermediate"].to_numpy(float)
    out = pd.DataFrame(index=objectives.index)
    out["beats_on_device"] = beaten(p, dev, margin)
    out["beats_on_server"] = beaten(p, srv, margin)
    out["beats_both_extremes"] = out["beats_on_device"] & out["beats_on_server"]
    out["intermediate_beats_extremes"] = beaten(mid, np.minimum(dev, srv), margin)
    out["on_device_over_proposed"] = _ratio(dev, p)
    out["on_server_over_proposed"] = _ratio(srv, p)
    out["extremes_over_intermediate"] = _ratio(np.minimum(dev, srv), mid)
    if "max_resources" in objectives.columns:
        mr = objectives["max_resources"].to_numpy(float)
        out["beats_max_resources"] = beaten(p, mr, margin)
        out["max_resources_over_proposed"] = _ratio(mr, p)
        out["beats_every_sampled_benchmark"] = out["beats_both_extremes"] & out["beats_max_resources"]
    return out


def claim_gain(samples: pd.DataFrame, claim: str) -> pd.Series:
    """The 0/1 gain of ``claim`` (:data:`CLAIM_GAINS`) at each sample, derived from its parts if not written.

    Parameters
    ----------
    samples : pandas.DataFrame
        :func:`study`'s table (``sensitivity_samples.csv``); a table from before the C3 column has
        ``beats_both_extremes`` and ``beats_max_resources``, which define it.
    claim : str
        "C3" or "C4".

    Returns
    -------
    pandas.Series
        Boolean, one entry per row of ``samples``.
    """
    gain = CLAIM_GAINS[claim]
    if gain in samples.columns:
        return samples[gain].astype(bool)
    if gain == "beats_every_sampled_benchmark":
        return samples["beats_both_extremes"].astype(bool) & samples["beats_max_resources"].astype(bool)
    raise ParameterError(f"samples: no column {gain}")


def base_rows(samples: pd.DataFrame, ranges: Sequence[Range] = RANGES) -> np.ndarray:
    """The base row (``A_j``) each sample belongs to: ``sample // (D + 2)`` for the design of ``ranges``.

    SALib's design without second-order terms writes, per base row ``j``, the
    rows ``A_j``, ``AB_j^(1..D)`` and ``B_j``; the ``AB`` rows copy ``D - 1``
    coordinates of ``A_j``, so the ``D + 2`` rows of one base row are one
    independent unit of the design (model.md section 7.4).

    Parameters
    ----------
    samples : pandas.DataFrame
        Rows with the column ``sample`` (the sampler's row index) [-].
    ranges : sequence of Range
        The sampled constants (``D`` of them).

    Returns
    -------
    numpy.ndarray
        Integer base-row index per row [-].
    """
    return samples["sample"].to_numpy(dtype=int) // (len(ranges) + 2)


def share_interval(
    outcome: npt.ArrayLike, rows: npt.ArrayLike, *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of the share of samples with a 0/1 ``outcome``, resampling whole base rows.

    A percentile bootstrap over the base rows (:func:`base_rows`), each with
    its ``D + 2`` samples (:func:`coinfer.model.stats.cluster_bootstrap_share`,
    seeded); counting every sample as independent would treat a base row's
    copies as new draws (a design effect of about 9, issue 24).

    Parameters
    ----------
    outcome : array_like
        0/1 per sample [-].
    rows : array_like
        Base row per sample [-] (:func:`base_rows`).
    resamples : int
        Bootstrap resamples [-].
    seed : int
        Seed of the resampling.

    Returns
    -------
    tuple of float
        The interval's ends [-].
    """
    y = pd.Series(np.asarray(outcome, dtype=float))
    grouped = y.groupby(np.asarray(rows), sort=True)
    return cluster_bootstrap_share(grouped.sum().to_numpy(), grouped.size().to_numpy(), resamples=resamples, seed=seed)


def study(
    profile: pd.DataFrame,
    models: Sequence[str],
    constants: pd.DataFrame,
    *,
    latency_factor: float = 1.0,
    energy_factor: float = 1.0,
    budgets: Mapping[str, tuple[float, float]] | None = None,
    base: Mapping[str, Any] | None = None,
    feature_quantisation: pd.DataFrame | None = None,
    max_resources: bool = True,
    chunk_samples: int = 256,
    progress: bool = True,
    **parallel: Any,
) -> pd.DataFrame:
    """``sensitivity_samples``: one row per model x sample with the constants, budgets, objectives and gains.

    ``profile``: ``profiles.csv`` rows (16-bit features); ``constants``: from
    :func:`sample_constants`; ``base``: further :class:`~coinfer.model.system.Problem`
    fields held fixed (e.g. ``distortion_model``); ``feature_quantisation``: ``data/feature_quantisation.csv``,
    which decides what a sampled feature width costs (:func:`feature_variant`; None: no split's width moves).
    Budgets: ``budgets[model]`` =
    ``(T0 [s], E0 [J])`` held at every sample where given (the model's default point of model.md 7.3: a
    deployment's requirement does not move with the constants), else the factors times each model's
    references at the sample's constants (the recipe before issue 22). The samples are solved in chunks of
    ``chunk_samples`` (all splits at
    once, :func:`coinfer.optimise.solve_batch`) through
    :func:`coinfer.base.parallel.parallel_map` (``workers``, ``scheduler_address``);
    the table does not depend on the chunking or the workers. Objectives are
    normalised by ``b_bar`` of the model (:func:`coinfer.studies.joint_optimisation.mean_scale`),
    NaN where infeasible.

    Parameters
    ----------
    profile : pandas.DataFrame
        ``profiles.csv`` rows.
    models : sequence of str
        The models.
    constants : pandas.DataFrame
        The design of :func:`sample_constants` [SI units].
    latency_factor, energy_factor : float
        Budgets as factors of the references [1], where ``budgets`` has no entry.
    budgets : mapping, optional
        Model -> ``(T0 [s], E0 [J])`` held fixed.
    base : mapping, optional
        Further problem fields held fixed (problem-file units).
    feature_quantisation : pandas.DataFrame, optional
        ``data/feature_quantisation.csv`` (relative output distortion [1] per model, split and width
        [bit/element]): what a sampled feature width costs (:func:`feature_variant`).
    max_resources : bool
        Also solve the max-resources benchmark.
    chunk_samples : int
        Samples per parallel task [count].
    progress : bool
        Show a progress bar.
    **parallel
        ``workers`` and ``scheduler_address`` of :func:`coinfer.base.parallel.parallel_map`.

    Returns
    -------
    pandas.DataFrame
        One row per model and sample: constants [SI], budgets [s, J], objectives [1], gains.

    References
    ----------
    docs/model.md, section 7.4.
    """
    base = dict(base or {})
    clash = sorted(set(base) & {*NAMES, "channel_gain", "latency_budget", "energy_budget"})
    if clash:
        raise ParameterError(f"base: {clash[0]!r} is sampled; remove it from the fixed fields")
    frames = []
    for name in models:
        rows = profile[profile["model"] == name].sort_values("split").reset_index(drop=True)
        if rows.empty:
            raise ParameterError(f"models: {name!r} is not in data/profiles.csv")
        fixed = None if budgets is None else budgets[name]
        work = functools.partial(
            _chunk, rows, (latency_factor, energy_factor), base, max_resources, fixed, feature_quantisation
        )
        chunks = [constants.iloc[i : i + chunk_samples] for i in range(0, len(constants), chunk_samples)]
        objectives = pd.concat(
            parallel_map(work, chunks, desc=f"sensitivity {name}", progress=progress, **parallel), ignore_index=True
        )
        first = system.problems_for_splits(rows, latency_budget=1.0, energy_budget=1.0)[0]
        b_bar = (first.params_device * first.scale_device + first.params_server * first.scale_server) / (
            first.params_device + first.params_server
        )
        frame = constants.reset_index(drop=True).copy()
        frame.insert(0, "model", name)
        frame = pd.concat([frame, objectives.drop(columns="sample"), gains(objectives)], axis=1)
        schemes = ["proposed", "on_device", "on_server", "best_intermediate"]
        schemes += ["max_resources"] if max_resources else []
        for scheme in schemes:
            frame[scheme] = np.where(np.isfinite(frame[scheme]), frame[scheme] / b_bar, np.nan)
            frame = frame.rename(columns={scheme: f"{scheme}_norm"})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def sobol_indices(
    samples: pd.DataFrame,
    base_samples: int,
    seed: int,
    gains_analysed: Sequence[str] = GAINS,
    ranges: Sequence[Range] = RANGES,
) -> pd.DataFrame:
    """``sensitivity_indices``: per model x gain x constant, Sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.

    ``samples`` is :func:`study`'s table (rows of each model in the sampler's
    order). A gain that never or always holds for a model has no variance to
    apportion: its indices are NaN. Confidence intervals (95 %) are SALib's
    bootstrap, seeded with ``seed``. ``share`` (the share of samples where the
    gain holds) comes with its 95 % interval resampling base rows
    (:func:`share_interval`; ``share_ci95_low``, ``share_ci95_high``; model.md section 1.1).

    Parameters
    ----------
    samples : pandas.DataFrame
        The table of :func:`study`.
    base_samples : int
        Saltelli base samples ``N`` [count], a power of two.
    seed : int
        Seed of the bootstrap [1].
    gains_analysed : sequence of str
        The gains.
    ranges : sequence of Range
        The constants and their ranges; default :data:`RANGES`.

    Returns
    -------
    pandas.DataFrame
        Per model, gain and constant: ``S1``, ``ST`` and their confidence [1], the share and its interval [1].

    References
    ----------
    docs/model.md, sections 1.1 and 7.4.
    """
    from SALib.analyze import sobol

    problem = _salib_problem(ranges)
    rows = []
    for model, part in samples.groupby("model", sort=False):
        if len(part) != samples_per_model(base_samples, ranges):
            raise ParameterError(
                f"samples: {model} has {len(part)} rows; a design of N = {base_samples} has "
                f"{samples_per_model(base_samples, ranges)}"
            )
        for gain in gains_analysed:
            if gain not in part.columns:
                continue
            y = part.sort_values("sample")[gain].to_numpy(dtype=float)
            if np.all(y == y[0]):
                result = {key: np.full(len(ranges), np.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                # SALib warns when some of its resampled subsets are constant (common for a 0/1 gain)
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    # SALib treats a falsy seed (0) as "unseeded": shift it so every seed is honoured.
                    result = sobol.analyze(problem, y, calc_second_order=False, seed=seed + 1)
            # the base rows are the independent draws: bootstrap over them (model.md 1.1, issue 24)
            low, high = share_interval(y, base_rows(part.sort_values("sample"), ranges))
            for j, r in enumerate(ranges):
                rows.append(
                    {
                        "model": model,
                        "gain": gain,
                        "share": float(y.mean()),
                        "share_ci95_low": low,
                        "share_ci95_high": high,
                        "constant": r.name,
                        **{key: float(result[key][j]) for key in ("S1", "S1_conf", "ST", "ST_conf")},
                    }
                )
    return pd.DataFrame(rows)


def shares(samples: pd.DataFrame, gains_shown: Sequence[str] = GAINS) -> pd.DataFrame:
    """Per model: the share of samples at which each gain holds.

    Parameters
    ----------
    samples : pandas.DataFrame
        The table of :func:`study`.
    gains_shown : sequence of str
        The gains.

    Returns
    -------
    pandas.DataFrame
        Per model and gain, the share [1].
    """
    present = [g for g in gains_shown if g in samples.columns]
    return samples.groupby("model", sort=False)[present].mean()


def top_constants(indices: pd.DataFrame, gain: str, count: int = 2) -> dict[str, list[str]]:
    """Per model: the ``count`` constants with the largest total index ``ST`` of ``gain`` (NaN last).

    Parameters
    ----------
    indices : pandas.DataFrame
        The indices of :func:`sobol_indices`.
    gain : str
        A gain of :data:`GAINS`.
    count : int
        Constants per model [count].

    Returns
    -------
    dict of str to list of str
        Model -> constants.
    """
    out = {}
    for model, part in indices[indices["gain"] == gain].groupby("model", sort=False):
        ordered = part.assign(key=part["ST"].fillna(-np.inf)).sort_values("key", ascending=False, kind="stable")
        out[str(model)] = [str(c) for c in ordered["constant"].head(count)]
    return out


def top_indices(indices: pd.DataFrame, count: int = 3) -> pd.DataFrame:
    """Per model and gain: the ``count`` constants with the largest total index ``ST`` (the notebook prints it).

    Parameters
    ----------
    indices : pandas.DataFrame
        The indices of :func:`sobol_indices`.
    count : int
        Constants per model and gain [count].

    Returns
    -------
    pandas.DataFrame
        The rows kept.
    """
    ordered = indices.dropna(subset=["ST"]).sort_values(["model", "gain", "ST"], ascending=[True, True, False])
    return ordered.groupby(["model", "gain"], sort=False).head(count).reset_index(drop=True)


def plot_axes(indices: pd.DataFrame, model: str, gain: str = CLAIM_GAINS["C4"]) -> tuple[list[str], str]:
    """The two constants with the largest total index of ``gain`` for ``model``, and the gain that chose them.

    Where ``gain`` has no indices (it always or never holds), the gain with the
    largest ``ST`` of any constant chooses the axes; with no indices at all,
    the first two constants of :data:`RANGES`.

    Parameters
    ----------
    indices : pandas.DataFrame
        The indices of :func:`sobol_indices`.
    model : str
        The model.
    gain : str
        A gain of :data:`GAINS`.

    Returns
    -------
    tuple of (list of str, str)
        The two constants and the gain.
    """
    part = indices[indices["model"] == model]
    chosen = part[part["gain"] == gain]
    if chosen["ST"].isna().all():
        finite = part.dropna(subset=["ST"])
        if finite.empty:
            return list(NAMES[:2]), "none"
        gain = str(finite.loc[finite["ST"].idxmax(), "gain"])
    return top_constants(part, gain, 2)[model], gain
