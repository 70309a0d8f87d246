"""Compare a rerun's ``data/`` with a reference ``data/`` (default: the committed one).

``python -m coinfer verify DIR [--reference DIR]`` (and ``./run_all.sh verify DIR``)
answers one question for an evaluator who reran the pipeline on another machine
of the same kind: do the differences from the committed results matter?

Every file of either ``data/`` folder is accounted for:

- ``*.csv`` tables: the row count and the column set must match exactly; every
  categorical cell (strings, booleans, empty cells of text columns) must match
  exactly; every numeric cell must satisfy ``|a - b| <= atol + rtol * |b|``
  (``a`` rerun, ``b`` reference; NaN == NaN), with ``rtol``/``atol`` declared per
  table, optionally per column and for the rows of the digits models,
  in :data:`TOLERANCES`. In decision tables (``opt_*``), the free decision
  variables are not compared (an optimum need not be unique); they are compared
  through the objective, latency, energy and status columns.
- ``*.json`` files (``claims.json``, ``parameters_*.json``): the same tree of keys;
  strings, booleans and null exactly (so every claim verdict, ``holds``, exactly);
  numbers with the file's tolerance.
- other files (``claims.md``): present on both sides (rendered from ``claims.json``).

A file present on one side only is a failure. ``figures/`` and
``MANIFEST.sha256`` are not compared: figures are drawn from ``data/``, and the
manifest holds byte hashes that any last-digit difference changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coinfer.base import paths
from coinfer.base.validation import ParameterError


# --------------------------------------------------------------------------- tolerances
@dataclass(frozen=True)
class Tolerance:
    """A cell passes when ``|a - b| <= atol + rtol * |b|`` (``b`` the reference value)."""

    rtol: float
    atol: float

    def describe(self) -> str:
        """``rtol 1e-04/atol 1e-09``, or ``exact``.

        Returns
        -------
        str
            The description.
        """
        if self.rtol == 0 and self.atol == 0:
            return "exact"
        return f"rtol {self.rtol:.0e}/atol {self.atol:.0e}"


#: Exact: integers, grid inputs, parameters. Zero tolerance.
EXACT = Tolerance(0.0, 0.0)
#: float64 closed forms, seeded Monte Carlo, float64 bound checks. The CSV keeps 9 significant
#: digits (``paths.CSV_FLOAT_FORMAT``), so a last-ulp difference can move the last written digit:
#: up to 1e-8 relative. 2e-8 allows that rounding and nothing more.
ARITHMETIC = Tolerance(2e-8, 1e-15)
#: Solver output: roots converge to ~1e-13, but the SLSQP benchmark (ftol 1e-12) and the cvxpy
#: reference (Clarabel, gaps 1e-10) stop at their tolerances. 1e-6 is also the tie tolerance of
#: claim C3, so smaller differences cannot change a verdict.
SOLVER = Tolerance(1e-6, 1e-12)
#: Pretrained models measured on a CPU: float32 forward passes and reductions whose order
#: depends on the thread count and the SIMD kernels the machine selects.
MEASURED = Tolerance(1e-4, 1e-9)
#: The digits MLP/CNN load committed weights (``coinfer.nets.trained``), so they no longer drift with a
#: CPU's training arithmetic; but they are tiny float32 networks whose pruned outputs and distortions
#: sit close to zero at large ratios, where a reduction-order difference is a larger relative change.
RETRAINED = Tolerance(1e-3, 1e-12)

#: The same measurement on the CPU and on a CUDA GPU (``device="cuda"``, :mod:`coinfer.nets.devices`): float32
#: reductions run in another order (cuBLAS/cuDNN tiles versus CPU SIMD kernels), about 1e-6 relative per
#: operation, compounding over depth to ~1e-5 on outputs and distortions; 1e-4 relative is MEASURED's bound
#: for two CPUs and leaves a 10x margin. TF32 is turned off for CUDA runs (it would round to ~1e-3).
#: Counts, grid inputs and pruning masks are exact: masks are sorted on the CPU on both devices.
DEVICE = Tolerance(1e-4, 1e-9)

#: The SLSQP benchmark (scheme ``local_nonconvex``) moves along flat directions of its optimum
#: with the BLAS reduction order: 1e-7 relative in energy between 1- and 2-thread quick runs.
LOCAL_SOLVER = Tolerance(1e-4, 1e-12)

#: Row selector for the digits models.
DIGITS_MODELS = frozenset({"digits_mlp", "digits_cnn"})

#: Decision variables of the optimisation tables (any ``opt_*`` table): not compared.
DECISION_COLUMNS = frozenset(
    {
        "rho_device",
        "rho_server",
        "power",
        "f_device",
        "f_server",
        "power_share",
        "f_device_share",
        "f_server_share",
        "t_device_share",
        "t_tx_share",
        "t_server_share",
    }
)
DECISION_REASON = "decision variable, compared through objective/latency/energy (the optimum need not be unique)"


@dataclass(frozen=True)
class Rule:
    """How one file is compared.

    ``tolerance`` applies to every numeric column; ``rows`` = ``(column, values,
    tolerance)`` loosens it for the rows whose ``column`` is in ``values`` (the
    digits models); ``columns`` overrides both for named columns (exact counts,
    grid inputs); ``skip`` names columns that are not compared, with the reason.
    Skipped columns must still exist on both sides.
    """

    reason: str
    tolerance: Tolerance
    columns: Mapping[str, Tolerance] = field(default_factory=dict)
    rows: tuple[str, frozenset[str], Tolerance] | None = None
    skip: Mapping[str, str] = field(default_factory=dict)
    presence_only: bool = False

    def describe(self) -> str:
        """The table's tolerance, with the digits rows' if they differ.

        Returns
        -------
        str
            The description.
        """
        text = self.tolerance.describe()
        if self.rows is not None and self.rows[2] != self.tolerance:
            text += f" ({self.rows[0]} in {{{', '.join(sorted(self.rows[1]))}}}: {self.rows[2].describe()})"
        return text


def _exact(*names: str) -> dict[str, Tolerance]:
    return dict.fromkeys(names, EXACT)


_DIGITS_ROWS = ("model", DIGITS_MODELS, RETRAINED)
_OPT_REASON = "solver output (KKT roots) on exact profiles"
_OPT_SLSQP_REASON = _OPT_REASON + "; rows of the SLSQP benchmark looser"
_SLSQP_ROWS = ("scheme", frozenset({"local_nonconvex"}), LOCAL_SOLVER)

#: The one place where tolerances are declared: file name -> rule. ``"*"`` is the default.
TOLERANCES: dict[str, Rule] = {
    "*": Rule("not listed: default for a table measured on a CPU", MEASURED),
    # notebook 01
    "bound_random_networks.csv": Rule(
        "float64 exact-bound checks on seeded random networks",
        ARITHMETIC,
        _exact("network", "depth", "width", "n_checks", "violations_operator", "violations_entrywise"),
    ),
    "bound_digits_mlp.csv": Rule(
        "digits MLP (committed weights)", RETRAINED, _exact("n_checks", "violations_operator", "violations_entrywise")
    ),
    "bound_summary.csv": Rule(
        "float64 checks; the digits_mlp row depends on the digits MLP",
        ARITHMETIC,
        _exact("n_checks", "violations", "rtol"),
        ("source", DIGITS_MODELS, RETRAINED),
    ),
    # notebook 02
    "rd_rate_function.csv": Rule("closed-form rate-distortion function (float64)", ARITHMETIC),
    "rd_curves.csv": Rule("closed-form R(rho), D_LB, D_mag (float64)", ARITHMETIC),
    "rd_monte_carlo.csv": Rule("seeded float64 Monte Carlo", ARITHMETIC, _exact("pruned", "n")),
    "rd_fits_digits_mlp.csv": Rule("fits to the digits MLP's weights", RETRAINED, _exact("n")),
    "rd_digits_mlp.csv": Rule("digits MLP (committed weights)'s weights", RETRAINED, _exact("n", "bits", "bound_bits")),
    "rd_crossover.csv": Rule(
        "closed form; the digits_mlp rows depend on the digits MLP",
        ARITHMETIC,
        _exact("q", "n_rho"),
        ("source", DIGITS_MODELS, RETRAINED),
    ),
    # notebook 03
    "weight_fits.csv": Rule(
        "ML fits to fixed pretrained weights (seeded subsamples); digits rows looser",
        MEASURED,
        _exact("n", "n_fit"),
        _DIGITS_ROWS,
    ),
    "weight_fit_verdicts.csv": Rule(
        "ML fits to fixed pretrained weights; digits rows looser", MEASURED, _exact("n"), _DIGITS_ROWS
    ),
    "weight_fit_summary.csv": Rule(
        "summaries of the weight fits; digits rows looser", MEASURED, _exact("layers"), _DIGITS_ROWS
    ),
    "weight_fit_layer_kinds.csv": Rule(
        "summaries of the weight fits; digits rows looser", MEASURED, _exact("layers", "weights"), _DIGITS_ROWS
    ),
    "weight_histograms.csv": Rule(
        "histograms of fixed pretrained weights; digits rows looser", MEASURED, _exact("n", "n_shown"), _DIGITS_ROWS
    ),
    # notebook 04
    "exact_bound_digits.csv": Rule(
        "digits MLP (committed weights)", RETRAINED, _exact("n_inputs", "violations_operator", "violations_entrywise")
    ),
    "first_order_bound.csv": Rule(
        "float32 model outputs on a CPU; digits rows looser", MEASURED, _exact("ratio", "n_inputs"), _DIGITS_ROWS
    ),
    "first_order_bound_holds_from.csv": Rule(
        "float32 model outputs on a CPU; digits rows looser", MEASURED, {}, _DIGITS_ROWS
    ),
    "first_order_by_source.csv": Rule(
        "float32 model outputs on a CPU; digits rows looser",
        MEASURED,
        _exact("n_inputs", "n_pairs", "n_pairs_large"),
        _DIGITS_ROWS,
    ),
    "first_order_heldout_clusters.csv": Rule(
        "float32 model outputs on a CPU; digits rows looser", MEASURED, _exact("ratio", "n_pairs"), _DIGITS_ROWS
    ),
    "first_order_by_ratio.csv": Rule(
        "float32 model outputs on a CPU; digits rows looser",
        MEASURED,
        _exact("ratio", "n_clusters", "n_pairs"),
        _DIGITS_ROWS,
    ),
    "first_order_scores.csv": Rule(
        "float32 model outputs on a CPU (MiniLM and EfficientNet-Lite0 only)",
        MEASURED,
        _exact("ratio", "split", "input"),
    ),
    "pruning_param_distortion.csv": Rule(
        "pruning distortion of pretrained weights (CPU reductions); digits rows looser",
        MEASURED,
        _exact("ratio", "q_bound", "n_weights"),
        _DIGITS_ROWS,
    ),
    "pruning_lb_holds_from.csv": Rule(
        "pruning distortion of pretrained weights; digits rows looser", MEASURED, _exact("q_bound"), _DIGITS_ROWS
    ),
    "pruning_sweep.csv": Rule(
        "float32 model outputs on a CPU; digits rows looser", MEASURED, _exact("ratio", "n_weights"), _DIGITS_ROWS
    ),
    # notebook 05
    "profiles.csv": Rule(
        "FLOPs, parameters and bits counted exactly, float64 Laplace scales",
        ARITHMETIC,
        _exact(
            "split",
            "num_blocks",
            "flops_device",
            "flops_server",
            "params_device",
            "params_server",
            "feature_bits",
            "seq_len",
            "bits_per_element",
        ),
        _DIGITS_ROWS,
    ),
    "profile_costs.csv": Rule("latency and energy from exact profiles (float64 arithmetic)", ARITHMETIC),
    # notebook 06: decision tables
    "opt_budget_sweep.csv": Rule(
        _OPT_SLSQP_REASON,
        SOLVER,
        rows=_SLSQP_ROWS,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "opt_decisions.csv": Rule(
        "shares of the decisions in opt_budget_sweep (its objective is compared there)",
        SOLVER,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "opt_fading.csv": Rule(
        _OPT_SLSQP_REASON,
        SOLVER,
        rows=_SLSQP_ROWS,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "opt_split_sweep.csv": Rule(
        _OPT_REASON,
        SOLVER,
        skip={"best": "argmin over splits; ties are legitimate (objective compared)"},
    ),
    "opt_split_winners.csv": Rule(
        _OPT_REASON,
        SOLVER,
        _exact("feasible_splits"),
        skip={
            "best_split": "argmin over splits; ties are legitimate (objective compared)",
            "winner": "argmin over splits; ties are legitimate (objective compared)",
            "winner_name": "argmin over splits; ties are legitimate (objective compared)",
        },
    ),
    "opt_solver_agreement.csv": Rule(
        "fast solver vs cvxpy reference on seeded instances",
        SOLVER,
        {"relative_gap": Tolerance(0.0, 1e-8)},  # a gap of 1e-12 vs 1e-15 is the same agreement
    ),
    "opt_robustness_sweep.csv": Rule(
        _OPT_SLSQP_REASON,
        SOLVER,
        rows=_SLSQP_ROWS,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "opt_robustness_splits.csv": Rule(
        _OPT_REASON,
        SOLVER,
        skip={"best": "argmin over splits; ties are legitimate (objective compared)"},
    ),
    "opt_single_starts.csv": Rule(
        "single SLSQP runs from seeded random starts (scipy's iterations may round differently)", LOCAL_SOLVER
    ),
    "opt_single_starts_summary.csv": Rule(
        "success rates of single SLSQP runs from seeded random starts, with their Clopper-Pearson intervals",
        LOCAL_SOLVER,
    ),
    "deployed_designs.csv": Rule(
        "designs deployed on pretrained models, measured in float32 on a CPU; decisions compared in opt_budget_sweep",
        MEASURED,
        rows=_DIGITS_ROWS,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "deployed_frontiers.csv": Rule(
        "least budgets found by bisection over a budget grid with designs deployed on pretrained models (float32 on "
        "a CPU): a bracket of grid values, compared with the measurement tolerance",
        MEASURED,
        rows=_DIGITS_ROWS,
    ),
    "deployed_frontier_points.csv": Rule(
        "every budget pair measured by the frontier search (solver output and float32 measurements)",
        MEASURED,
        rows=_DIGITS_ROWS,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "deployed_outcomes.csv": Rule(
        "per-input scores of the designs of deployed_designs.csv, float32 text; decisions as there",
        MEASURED,
        rows=_DIGITS_ROWS,
        skip={"split": "split chosen by the optimiser (ties between splits are legitimate)"},
    ),
    "feature_quantisation.csv": Rule(
        "feature rounding on pretrained models, float32 on a CPU", MEASURED, _exact("inputs"), _DIGITS_ROWS
    ),
    "size_study.csv": Rule(
        "each member's joint design (solver output) deployed and measured in float32 on a CPU",
        MEASURED,
        rows=("family", frozenset({"digits_mlp"}), RETRAINED),
        skip={
            "split": "split chosen by the optimiser (ties between splits are legitimate)",
            "split_name": "split chosen by the optimiser (ties between splits are legitimate)",
            "design": "split and pruned counts chosen by the optimiser (ties between splits are legitimate)",
        },
    ),
    "size_outcomes.csv": Rule(
        "predicted classes of every member, seed and design on the labelled inputs (float32 on a CPU; designs "
        "named by the optimiser's split), compared through size_study.csv and claims.json",
        MEASURED,
        presence_only=True,
    ),
    "size_inputs.csv": Rule(
        "labels and sources of the labelled inputs (images: the unpruned members' majority class)", MEASURED
    ),
    "sensitivity_samples.csv": Rule(
        "batch-solver objectives at seeded Sobol samples of the constants", SOLVER, skip={}
    ),
    "sensitivity_indices.csv": Rule("Sobol indices (SALib) of the sampled gains", SOLVER),
    "multi_user_populations.csv": Rule(
        "multi-user solver output per population and scheme (notebook 09)",
        SOLVER,
        skip={
            "band_price": "dual price, compared through objective and lower bound (prices need not be unique)",
            "server_price": "dual price, compared through objective and lower bound (prices need not be unique)",
        },
    ),
    "multi_user_other_model.csv": Rule(
        "multi-user solver output per population and scheme in the other system model (notebook 09, M1's reading)",
        SOLVER,
        skip={
            "band_price": "dual price, compared through objective and lower bound (prices need not be unique)",
            "server_price": "dual price, compared through objective and lower bound (prices need not be unique)",
        },
    ),
    "multi_user_users.csv": Rule(
        "per-user decisions of the multi-user designs (notebook 09)",
        SOLVER,
        skip={
            name: "decision variable, compared through the per-user distortion (the optimum need not be unique)"
            for name in ("split", "split_kind", "bandwidth_share", "f_server_share", "rho_device", "rho_server")
        },
    ),
    "decoding_split_costs.csv": Rule("closed-form decoding costs per split (notebook 10)", ARITHMETIC),
    "decoding_public_projection.csv": Rule("arithmetic on published numbers (notebook 10)", ARITHMETIC),
    "decoding_best_split.csv": Rule("best decoding split from bisection solves (notebook 10)", SOLVER),
    "decoding_timing_fit.csv": Rule("fit to the committed CPU timings (notebook 10)", SOLVER),
    "decoding_splits.csv": Rule("decoding solves per split, bisection to 1e-12 relative (notebook 10)", SOLVER),
    "compute_timings.csv": Rule("a copy of the committed measurements (lib/coinfer/nets/measurements)", EXACT),
    "compute_fits.csv": Rule("a copy of the committed measurements (lib/coinfer/nets/measurements)", EXACT),
    "opt_c3_summary.csv": Rule("counts and ratios of solver objectives", SOLVER),
    "opt_c4_summary.csv": Rule("counts and ratios of solver objectives", SOLVER),
    "opt_fading_summary.csv": Rule("means of solver objectives", SOLVER),
    # JSON and the rendered report
    "claims.json": Rule(
        "verdicts and strings exact; numbers summarise tables that include the digits models", RETRAINED
    ),
    "parameters_*.json": Rule("the parameters a notebook ran with: exact", EXACT),
    "claims.md": Rule("rendered from claims.json, compared through it", EXACT, presence_only=True),
}


def rule_for(name: str) -> Rule:
    """The rule of data file ``name``: its own entry, ``parameters_*.json`` for parameter files, else ``"*"``.

    Parameters
    ----------
    name : str
        The file's name in ``data/``.

    Returns
    -------
    Rule
        How the file is compared: tolerances (per column, per group of rows) and the columns skipped.
    """
    if name in TOLERANCES:
        return TOLERANCES[name]
    if name.startswith("parameters_") and name.endswith(".json"):
        return TOLERANCES["parameters_*.json"]
    if not name.endswith((".csv", ".json")):
        return Rule("not a table: present on both sides, content not compared", EXACT, presence_only=True)
    return TOLERANCES["*"]


def _skipped_columns(name: str, rule: Rule, columns: Sequence[str]) -> dict[str, str]:
    """Columns of ``name`` that are not compared, with the reason (decision variables of ``opt_*`` tables)."""
    skip = {c: DECISION_REASON for c in columns if name.startswith("opt_") and c in DECISION_COLUMNS}
    skip.update({c: r for c, r in rule.skip.items() if c in columns})
    return skip


# --------------------------------------------------------------------------- results
@dataclass
class Deviation:
    """The worst numeric cell of a file: the one closest to (or furthest beyond) its tolerance."""

    column: str
    absolute: float
    relative: float
    excess: float  # |a-b| / (atol + rtol|b|); <= 1 passes
    tolerance: Tolerance
    row: int = 0  # 1-based data row of a table (0 for a JSON key)


@dataclass
class FileResult:
    """The comparison of one file."""

    name: str
    rule: Rule
    problems: list[str] = field(default_factory=list)
    worst: Deviation | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    compared: bool = True

    @property
    def passed(self) -> bool:
        """No problem found."""
        return not self.problems

    def line(self) -> str:
        """The one-line verdict of this file.

        ``PASS  <table>  max dev <value> (<column>)  tol <rtol/atol>  <reason>[; skipped ...]`` for a file that
        passes; ``FAIL  <table>  <worst problem>[ (+N more)]`` in under :data:`FAIL_LINE_CHARS` characters for one
        that fails (a numeric problem names the column, the worst row and the tolerance).

        Returns
        -------
        str
            The line.
        """
        if not self.passed:
            more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            text = f"FAIL  {self.name}  {self.problems[0]}"
            limit = FAIL_LINE_CHARS - len(more) - 1
            return (text if len(text) <= limit else text[: limit - 3] + "...") + more
        if not self.compared:
            body, tol = "present", "-"
        elif self.worst is None:
            body, tol = "max dev - (no numeric values)", self.rule.tolerance.describe()
        elif self.worst.absolute == 0:
            body, tol = "max dev 0 (all numeric values identical)", self.rule.describe()
        else:
            w = self.worst
            body = f"max dev {w.absolute:.3g} abs / {w.relative:.3g} rel ({w.column})"
            tol = w.tolerance.describe()
        text = f"PASS  {self.name}  {body}  tol {tol}  {self.rule.reason}"
        if self.skipped:
            groups: dict[str, list[str]] = {}
            for column, why in self.skipped.items():
                groups.setdefault(why, []).append(column)
            text += "".join(f"; skipped {', '.join(cols)}: {why}" for why, cols in groups.items())
        return text


#: Longest line :meth:`FileResult.line` writes for a file that fails [characters] (issue 26.4).
FAIL_LINE_CHARS = 199


# --------------------------------------------------------------------------- numeric comparison
def _deviations(a: np.ndarray, b: np.ndarray, rtol: np.ndarray, atol: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per cell: absolute and relative deviation and ``excess`` (> 1 fails); NaN == NaN, inf == inf."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        absolute = np.where(same, 0.0, np.abs(a - b))
        absolute = np.where(np.isnan(absolute), np.inf, absolute)  # NaN vs number, inf vs -inf
        relative = np.where(absolute == 0, 0.0, absolute / np.abs(b))
        relative = np.where(np.isnan(relative), np.inf, relative)
        allowed = atol + rtol * np.where(np.isfinite(b), np.abs(b), 0.0)
        excess = np.where(absolute == 0, 0.0, absolute / allowed)
        excess = np.where(np.isnan(excess), np.inf, excess)
    return absolute, relative, excess


def _worse(current: Deviation | None, candidate: Deviation) -> Deviation:
    if current is None:
        return candidate
    key = (candidate.excess, candidate.absolute)
    return candidate if key > (current.excess, current.absolute) else current


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value:.9g}" if isinstance(value, float) else str(value)


def _as_numbers(cells: pd.Series) -> np.ndarray | None:
    """The column as floats (empty cell -> NaN), or None if any non-empty cell is not a number."""
    text = cells.astype(str).str.strip()
    numbers = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
    literal_nan = text.str.lower().isin(("", "nan"))
    if bool((numbers.isna() & ~literal_nan).any()):
        return None
    return numbers.to_numpy(dtype=float)


def _read_table(path: Path) -> pd.DataFrame:
    """Cells as written (strings), so categorical cells compare exactly as text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _compare_table(name: str, rerun: Path, reference: Path) -> FileResult:
    """Compare one CSV table (see the module docstring)."""
    rule = rule_for(name)
    result = FileResult(name, rule)
    try:
        a, b = _read_table(rerun), _read_table(reference)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        result.problems.append(f"cannot read as CSV ({type(error).__name__})")
        return result
    if list(a.columns) != list(b.columns):
        missing, extra = sorted(set(b.columns) - set(a.columns)), sorted(set(a.columns) - set(b.columns))
        if missing or extra:
            result.problems.append(f"columns differ (missing in rerun: {missing}; extra in rerun: {extra})")
        else:
            result.problems.append("column order differs")
    if len(a) != len(b):
        result.problems.append(f"row count {len(a)} in rerun vs {len(b)} in reference")
        return result
    columns = [c for c in b.columns if c in a.columns]
    result.skipped = _skipped_columns(name, rule, columns)
    row_loose = np.zeros(len(b), dtype=bool)
    if rule.rows is not None and rule.rows[0] in b.columns:
        row_loose = b[rule.rows[0]].isin(rule.rows[1]).to_numpy()
    for column in columns:
        if column in result.skipped:
            continue
        x, y = _as_numbers(a[column]), _as_numbers(b[column])
        if x is None or y is None:  # categorical: exact text
            changed = np.flatnonzero((a[column] != b[column]).to_numpy())
            for i in changed[:3]:
                result.problems.append(f"{column} row {i + 1}: {a[column].iat[i]!r} vs {b[column].iat[i]!r}")
            if len(changed) > 3:
                result.problems.append(f"{column}: {len(changed)} cells changed")
            continue
        base = rule.columns.get(column)
        if base is not None:
            rtol, atol = np.full(len(b), base.rtol), np.full(len(b), base.atol)
        else:
            loose = rule.rows[2] if rule.rows is not None else rule.tolerance
            rtol = np.where(row_loose, loose.rtol, rule.tolerance.rtol)
            atol = np.where(row_loose, loose.atol, rule.tolerance.atol)
        absolute, relative, excess = _deviations(x, y, rtol, atol)
        if len(b) == 0:
            continue
        i = int(np.lexsort((absolute, excess))[-1])
        tolerance = Tolerance(rtol[i], atol[i])
        cell = Deviation(column, float(absolute[i]), float(relative[i]), float(excess[i]), tolerance, i + 1)
        result.worst = _worse(result.worst, cell)
        bad = int(np.sum(excess > 1))
        if bad:  # the worst cell is beyond its tolerance
            result.problems.append(
                f"{column} row {i + 1}: {_show(float(x[i]))} vs {_show(float(y[i]))} beyond {tolerance.describe()}"
                + (f" ({bad} cells beyond)" if bad > 1 else "")
            )
    return result


# --------------------------------------------------------------------------- JSON comparison
def _flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, leaf)`` pairs; list items that carry an ``id`` are keyed by it (claims C1..C4)."""
    if isinstance(obj, dict):
        if not obj:
            yield prefix or ".", {}
        for key, value in obj.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, list):
        if not obj:
            yield prefix or ".", []
        for i, value in enumerate(obj):
            if isinstance(value, dict) and "id" in value:
                path = f"{prefix}.{value['id']}" if prefix else str(value["id"])
            else:
                path = f"{prefix}[{i}]"
            yield from _flatten(value, path)
    else:
        yield prefix or ".", obj


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def device_mismatches(
    reference: pd.DataFrame, other: pd.DataFrame, *, exact: Sequence[str] = (), tolerance: Tolerance = DEVICE
) -> list[str]:
    """Where a table measured on another device (``other``) differs from the CPU's (``reference``); empty if none.

    Same columns and rows in the same order; integer, boolean and text columns and the ``exact`` ones must be
    equal, other numeric columns agree within ``tolerance``. One line per differing column, naming its worst cell.

    Parameters
    ----------
    reference : pandas.DataFrame
        The table measured on the CPU.
    other : pandas.DataFrame
        The same table measured on another device.
    exact : sequence of str, optional
        Numeric columns that must be equal too.
    tolerance : Tolerance, optional
        Relative [-] and absolute (in each column's unit) tolerances; default :data:`DEVICE`, the documented
        CPU-vs-GPU tolerance.

    Returns
    -------
    list of str
        One line per differing column.
    """
    if list(reference.columns) != list(other.columns) or len(reference) != len(other):
        return [
            f"shape: columns {list(other.columns)} x {len(other)} rows; expected "
            f"{list(reference.columns)} x {len(reference)} rows"
        ]
    problems = []
    for column in reference.columns:
        a, b = other[column], reference[column]
        numeric = pd.api.types.is_float_dtype(b) and column not in exact
        if not numeric:
            if not a.equals(b):
                row = int(np.flatnonzero((a != b).to_numpy())[0]) if len(a) else 0
                problems.append(f"{column}: row {row}: {_show(a.iloc[row])} != {_show(b.iloc[row])} (exact)")
            continue
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        bad = ~((np.abs(x - y) <= tolerance.atol + tolerance.rtol * np.abs(y)) | (np.isnan(x) & np.isnan(y)))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            problems.append(f"{column}: row {row}: {x[row]!r} vs {y[row]!r} ({tolerance.describe()})")
    return problems


def _compare_json(name: str, rerun: Path, reference: Path) -> FileResult:
    """Compare one JSON file: same keys; strings, booleans, null exactly; numbers with the file's tolerance."""
    rule = rule_for(name)
    result = FileResult(name, rule)
    try:
        a, b = dict(_flatten(json.loads(rerun.read_text()))), dict(_flatten(json.loads(reference.read_text())))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        result.problems.append(f"cannot read as JSON ({type(error).__name__})")
        return result
    missing, extra = sorted(set(b) - set(a)), sorted(set(a) - set(b))
    if missing or extra:
        result.problems.append(f"keys differ (missing in rerun: {missing[:5]}; extra in rerun: {extra[:5]})")
    tol = rule.tolerance
    for key in (k for k in b if k in a):
        x, y = a[key], b[key]
        if _is_number(x) and _is_number(y):
            absolute, relative, excess = (
                float(v[0])
                for v in _deviations(
                    np.array([float(x)]), np.array([float(y)]), np.array([tol.rtol]), np.array([tol.atol])
                )
            )
            result.worst = _worse(result.worst, Deviation(key, absolute, relative, excess, tol))
            if excess > 1:
                result.problems.append(f"{key}: {_show(x)} vs {_show(y)}")
        elif x != y or type(x) is not type(y):
            what = "verdict changed" if key.endswith(".holds") or key.endswith(".verdict") else "changed"
            result.problems.append(f"{key} {what}: {_show(x)} vs {_show(y)}")
    return result


# --------------------------------------------------------------------------- folders
def _data_folder(root: Path | str, what: str) -> Path:
    """``root/data`` if it is a folder; else a one-line :class:`ParameterError` naming ``what``."""
    folder = Path(root) / "data"
    if not folder.is_dir():
        raise ParameterError(f"{what}: no data/ folder at {folder}")
    return folder


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def _compare_folders(rerun: Path, reference: Path) -> list[FileResult]:
    """Compare every file of two ``data/`` folders (the union of their names, sorted)."""
    ours, theirs = _files(rerun), _files(reference)
    results = []
    for name in sorted(ours | theirs):
        rule = rule_for(name)
        if name not in ours or name not in theirs:
            side = "rerun" if name not in ours else "reference"
            result = FileResult(name, rule, compared=False)
            result.problems.append(f"missing in the {side} ({(rerun if side == 'rerun' else reference) / name})")
        elif rule.presence_only:
            result = FileResult(name, rule, compared=False)
        elif name.endswith(".json"):
            result = _compare_json(name, rerun / name, reference / name)
        else:
            result = _compare_table(name, rerun / name, reference / name)
        results.append(result)
    return results


def _summary_line(results: Sequence[FileResult]) -> str:
    """``verify: N tables, N passed, N failed`` (and what is not compared), or why nothing was compared."""
    if results and all(r.name.startswith("parameters_") and not r.passed for r in results):
        return (
            f"verify: the two runs used different parameters in {len(results)} notebook(s); a rerun reproduces "
            "only a run with the same parameters (run the reference's profile), so no table was compared"
        )
    passed = sum(r.passed for r in results)
    return (
        f"verify: {len(results)} tables, {passed} passed, {len(results) - passed} failed "
        "(figures/ and MANIFEST.sha256 are not compared)"
    )


def verify(rerun_root: Path | str, reference_root: Path | str | None = None) -> tuple[list[FileResult], int]:
    """Compare ``rerun_root/data`` with ``reference_root/data`` (default: the committed ``data/``).

    Parameters
    ----------
    rerun_root : pathlib.Path or str
        The output root of the rerun [path].
    reference_root : pathlib.Path or str, optional
        The output root to compare against [path]; default the project root.

    Returns
    -------
    results : list of FileResult
        One result per file.
    exit_code : int
        0 only when every file passes, else 1.

    Raises
    ------
    ParameterError
        One line, when either folder has no ``data/``.
    """
    rerun = _data_folder(rerun_root, "DIR")
    reference = _data_folder(paths.PROJECT_ROOT if reference_root is None else reference_root, "--reference")
    different = _parameter_differences(rerun, reference)
    if different:  # tables of runs with other parameters are not a reproduction: say so, compare nothing else
        return different, 1
    results = _compare_folders(rerun, reference)
    return results, 0 if all(r.passed for r in results) else 1


def _parameter_differences(rerun: Path, reference: Path) -> list[FileResult]:
    """One failing result per notebook whose ``parameters_*.json`` differs between the two folders."""
    results = []
    for name in sorted(_files(rerun) & _files(reference)):
        if not (name.startswith("parameters_") and name.endswith(".json")):
            continue
        try:
            ours, theirs = json.loads((rerun / name).read_text()), json.loads((reference / name).read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # unreadable: reported by the comparison of the files
        if not (isinstance(ours, dict) and isinstance(theirs, dict)) or ours == theirs:
            continue
        keys = sorted(k for k in set(ours) | set(theirs) if ours.get(k, "-") != theirs.get(k, "-"))
        result = FileResult(name, rule_for(name))
        result.problems.append(
            "ran with other parameters, so no table is compared: "
            + "; ".join(f"{k} {_show(ours.get(k, '-'))} vs {_show(theirs.get(k, '-'))}" for k in keys)
        )
        results.append(result)
    return results


def report(results: Sequence[FileResult]) -> str:
    """One line per file, then the summary line.

    Parameters
    ----------
    results : sequence of FileResult
        The results of :func:`verify`.

    Returns
    -------
    str
        The report, one line per file and a last summary line.
    """
    return "\n".join([*(r.line() for r in results), _summary_line(results)])
