"""The declared public surface of ``coinfer`` (issue 27.4): ``__all__`` of the package and of every layer, checked
against the lists below, the entry points' docstrings, the doctests of the library, and what an import loads.

The expected lists are written out here on purpose: a name that enters or leaves a layer's surface must change
this file, so a new public name is a decision, not a side effect of adding a module.
"""

from __future__ import annotations

import doctest
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import coinfer
from coinfer.base import paths

PACKAGE_DIR = Path(coinfer.__file__).resolve().parent

EXPECTED: dict[str, list[str]] = {
    "coinfer": [
        "base", "model", "optimise", "nets", "studies", "claims", "figures", "pipeline",
        "make_problem", "problem_from_profile", "solve", "solve_batch", "load_model", "deploy",
    ],
    "coinfer.base": [
        "jit", "notebooks", "parallel", "paths", "progress", "threads", "validation",
        "EXIT_BAD_INPUT", "NOTEBOOKS", "PROJECT_ROOT", "ParameterError", "SCHEMAS", "Spec", "blas_threads",
        "data_dir", "figures_dir", "output_root", "parallel_map", "read_csv", "read_json", "read_yaml",
        "require_choice", "require_range", "single_thread", "tqdm", "write_csv", "write_json", "write_text",
    ],
    "coinfer.model": [
        "arithmetic", "bounds", "hardware", "pruning", "rate_distortion", "stats", "system",
        "DEFAULTS", "Decision", "Evaluation", "MagnitudeSweep", "Problem", "bootstrap_mean", "check_pair",
        "check_ratio", "clopper_pearson", "cluster_bootstrap_share", "distortion_lower_bound", "evaluate",
        "fit_gaussian", "fit_laplace", "full_resources", "laplace_scale", "layerwise_bound", "magnitude_distortion",
        "magnitude_masks", "make_problem", "mcnemar_exact", "output_distortion", "paired_bootstrap_difference",
        "paired_comparison", "parameter_distortion", "problem_from_profile", "problems_for_splits",
        "prune_count", "prune_tensor", "prune_weights", "quantize_uniform", "reference_budgets",
        "sequential_output_bound",
    ],
    "coinfer.optimise": [
        "SCHEMES", "Solution", "compare_schemes", "flat_end", "polish", "select_execution", "select_split", "solve",
        "solve_batch", "solve_decoupled", "solve_fixed_ratio", "solve_local", "solve_max_resources",
        "solve_quantised", "solve_reference", "solve_shared_ratio", "solve_split_then_prune",
        "MULTIUSER_BASELINES", "MultiUser", "MultiUserProblem", "MultiUserSolution", "UserAnswer",
        "random_multiuser_problem", "solve_baseline", "solve_multiuser", "solve_multiuser_local",
    ],
    "coinfer.nets": [
        "archives", "budgets", "decode_timing", "decoding",
        "deploy", "devices", "digits", "efficientnet", "inputs", "meta", "metrics", "profiles",
        "split", "timing", "trained", "transformers", "zoo",
        "Batch", "DEVICES", "DeployedModel", "MODEL_NAMES", "ModelEntry", "PARTS", "PartSweeps", "REGISTRY",
        "SplitModel", "as_batch", "check_device", "copy_model", "full_resource_costs", "length_chunks", "load_model",
        "measure", "model_inputs", "output_vectors", "part_weights", "profile_frame", "prune_model", "round_feature",
        "task_metric", "text_batch", "with_weights",
    ],
    "coinfer.studies": [
        "decoding", "deployed_designs", "distortion_bound", "frontiers", "joint_optimisation", "model_size",
        "multi_user",
        "pruning_distortion", "sensitivity", "weight_distributions",
    ],
    "coinfer.claims": [
        "decoding", "deployed_designs", "model_size", "multi_user", "paper", "report", "statements",
        "claim_d1", "d1_verdict",
        "ACROSS_RATIOS_READING", "BRACKET", "CLAIMS", "CLUSTERED_READING", "DECISION_COLUMNS", "DEPLOYED_FIGURES",
        "DEPLOYED_FILE",
        "DEPLOYED_NOTEBOOK", "EXTENSIONS", "EXTENSION_PREFIX", "EXTENSION_THRESHOLDS", "EXTREME_SCHEMES",
        "ExtensionThresholds", "FIRST_ORDER_CLUSTERS_FILE", "FIRST_ORDER_COLUMNS", "FIRST_ORDER_MODELS", "GRID_NOTE",
        "PRETRAINED_MODELS", "SCALE_FREE_READING", "SENSITIVITY_MIN_SHARE", "SENTENCES", "STATEMENTS", "THRESHOLDS",
        "TITLES", "Thresholds", "c3_verdict", "c4_binding_verdict", "c4_verdict", "claim_c1", "claim_c2", "claim_c3",
        "claim_c4", "claim_e1",
        "claim_e2", "claim_e3", "claim_l1", "claim_m1", "e1_verdict", "e2_verdict", "e3_verdict", "evaluate_claims",
        "finite", "l1_decided_points", "l1_labelled_points", "l1_labelled_verdict", "l1_verdict", "m1_verdict",
        "measured_intervals", "model_comparison_lines", "reading_verdict", "render_markdown",
        "robustness_matrix", "sampled_constants_entries", "sampled_constants_entry", "sampled_constants_lines",
        "single_start_rates", "sweep_readings", "write_claims_report",
        # issue 24: parts, verdicts in three values, C1b's conformal criterion
        "verdicts", "C1_INTERVALS", "INTERVALS", "FIRST_ORDER_SCORE_COLUMNS", "FIRST_ORDER_SCORES_FILE", "NEEDS_DATA",
        "OLD_C1B_READING", "SAMPLED_CONSTANTS_INTERVAL", "SOLVER_BENCHMARKS", "VERDICTS",
        "c1b_across_ratios", "c1b_judge", "c1b_model",
        "c3_parts", "conjunction", "disagreements", "from_point", "holds_value", "part_line", "parts_text", "settle",
        # issue 23: paired E1-E3 on per-input outcomes
        "OUTCOMES_FILE", "PerInput", "judged_pairs", "operating_regime_lines", "usable_points",
    ],
    "coinfer.figures": [
        "decoding", "deployed_designs", "distortion_bound", "joint_optimisation", "model_size", "multi_user",
        "pruning_distortion", "rate_distortion", "registry", "style", "system_profiles", "weight_distributions",
        "layout",
        "FIGURES", "FigureSpec", "MODEL_ORDER", "PlotFunction", "SCHEME_ORDER", "SUBJECT_MODULES", "caption",
        "data_location", "describe", "display_claim", "display_saved", "figures_of", "histogram_rows", "in_order",
        "load_parameters", "load_tables", "missing_inputs", "parameters_file", "png_bytes", "regenerate_all",
        "register", "registry_table", "render", "save", "scheme_colour", "show", "spec_of",
    ],
    "coinfer.pipeline": [
        "cli", "notebook_params", "publish", "readme", "runner", "site", "verify",
        "check_namespace", "load_profile", "main", "record", "run", "validate",
    ],
}  # fmt: skip
#: The entry points of ``coinfer`` and the modules that define them.
ENTRY_POINTS = {
    "make_problem": "coinfer.model.system",
    "problem_from_profile": "coinfer.model.system",
    "solve": "coinfer.optimise.fast",
    "solve_batch": "coinfer.optimise.batch",
    "load_model": "coinfer.nets.zoo",
    "deploy": "coinfer.nets.deploy",
}


def python(code: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "COINFER_OUTPUT_ROOT"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        cwd=paths.PROJECT_ROOT,
    )


# --------------------------------------------------------------------------- __all__
@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_all_is_the_declared_surface_and_every_name_imports(package):
    module = importlib.import_module(package)
    if package == "coinfer":
        assert list(module.__all__) == EXPECTED[package]  # the layers bottom up, then the entry points
    else:
        assert sorted(module.__all__) == sorted(EXPECTED[package])
    assert len(set(module.__all__)) == len(module.__all__)
    assert not [name for name in module.__all__ if name.startswith("_")]  # no private name is exported
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    namespace: dict = {}
    exec(f"from {package} import *", namespace)
    assert set(EXPECTED[package]) <= set(namespace)


def test_every_layer_is_declared():
    assert [name for name in EXPECTED if name.count(".") == 1] == [f"coinfer.{layer}" for layer in coinfer.__all__[:8]]
    assert {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").exists()} == set(coinfer.__all__[:8])


def test_a_submodule_listed_by_a_layer_is_the_module_not_a_function_of_that_name():
    for package in EXPECTED:
        module = importlib.import_module(package)
        for name in module.__all__:
            if (PACKAGE_DIR / package.removeprefix("coinfer").strip(".").replace(".", "/") / f"{name}.py").exists():
                assert getattr(module, name).__name__ == f"{package}.{name}"


def test_entry_points_are_the_library_functions_with_units_and_examples():
    for name, where in ENTRY_POINTS.items():
        function = getattr(coinfer, name)
        assert function.__module__ == where and function is getattr(importlib.import_module(where), name)
    for name in ENTRY_POINTS:
        doc = getattr(coinfer, name).__doc__ or ""
        for section in ("Parameters\n", "Returns\n", "References\n", "Examples\n", ">>> "):
            assert section in doc, f"{name}: no {section.strip()} in its docstring"
        parameters = doc.split("Parameters\n")[1].split("Returns\n")[0]
        assert "[" in parameters, f"{name}: its parameters state no units in brackets"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        coinfer.nonexistent  # noqa: B018


# --------------------------------------------------------------------------- what an import loads
def test_import_coinfer_loads_no_torch_pandas_numpy_or_numba():
    done = python(
        "import sys, coinfer; print(sorted(m for m in ('torch', 'pandas', 'numpy', 'numba') if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_layers_and_entry_points_are_imported_on_first_access():
    done = python(
        "import sys, coinfer; before = 'coinfer.model' in sys.modules; p = coinfer.make_problem; "
        "print(before, 'coinfer.model.system' in sys.modules, p.__module__, coinfer.model.__name__)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "coinfer.model.system", "coinfer.model"]


def test_importing_the_figure_style_loads_no_solver():
    """The style of every figure once imported the solvers for their scheme names (numba, 9 s to compile)."""
    done = python(
        "import sys, coinfer.figures.style; "
        "print(sorted(m for m in ('numba', 'coinfer.optimise', 'coinfer.studies') if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- doctests
def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if ">>> " in path.read_text(encoding="utf-8"):
            names.append(".".join(parts).removesuffix(".__init__"))
    return names


def test_the_library_has_examples_to_run():
    assert {"coinfer.model.system", "coinfer.nets.zoo", "coinfer.nets.deploy"} <= set(_modules_with_examples())


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples_run(name):
    """Every ``>>>`` example of the library runs and prints what it says (offline, in seconds)."""
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name}: no examples found"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed (output above)"
