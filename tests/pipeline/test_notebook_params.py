"""Profiles and notebook parameter schemas (coinfer.pipeline.notebook_params, coinfer.pipeline.runner checks)."""

from pathlib import Path

import pytest

from coinfer.base import paths
from coinfer.base.notebooks import NOTEBOOKS, SCHEMAS
from coinfer.base.validation import ParameterError, Spec
from coinfer.pipeline.notebook_params import load_profile, validate
from coinfer.pipeline.runner import check_notebook, declared_parameters, notebook_source


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_parameters_cell_matches_schema_and_defaults_are_valid(notebook):
    check_notebook(notebook)  # raises on any mismatch or invalid default


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_shipped_profiles_are_valid_and_name_every_notebook(profile):
    loaded = load_profile(paths.PARAMS_DIR / f"{profile}.yaml")
    assert set(loaded) == set(NOTEBOOKS)


def test_quick_profile_is_smaller_than_full_somewhere():
    quick = load_profile(paths.PARAMS_DIR / "quick.yaml")
    overridden = [nb for nb in NOTEBOOKS if quick[nb]]
    assert len(overridden) >= 4, "the quick profile must shrink most notebooks"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("01_distortion_bound:\n  seed: -1\n", "01_distortion_bound.seed: got -1; allowed [0,"),
        ("01_distortion_bound:\n  seed: 1.5\n", "expected an integer"),
        ("01_distortion_bound:\n  seed: .nan\n", "seed"),
        ("01_distortion_bound:\n  seeds: 1\n", "parameter 'seeds' is not known"),
        ("99_nothing:\n  seed: 1\n", "notebook '99_nothing' is not known"),
        ("- 01_distortion_bound\n", "must map notebook names"),
        ("01_distortion_bound: [1, 2]\n", "must map parameter names"),
        ("01_distortion_bound: {seed: 1\n", "not valid YAML"),
        ("01_distortion_bound:\n  seed: true\n", "expected an integer"),
        ("06_joint_optimisation:\n  energy_budget_j: -1.0\n", "energy_budget_j: got -1"),
    ],
)
def test_bad_profiles_give_one_line_errors(tmp_path, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ParameterError) as info:
        load_profile(path)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_profile_file(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_profile(tmp_path / "absent.yaml")


def test_empty_profile_means_all_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_profile(path) == {}


def test_spec_rejects_each_kind_of_bad_value():
    assert Spec("float", 0, 1, high_open=True).check("x", 0.5) == 0.5
    assert Spec("int", 1).check("n", 3.0) == 3
    assert Spec("list[float]", 0, 1).check("r", [0, 0.5]) == [0.0, 0.5]
    for spec, value in [
        (Spec("float", 0, 1, high_open=True), 1.0),
        (Spec("float", 0, 1), float("inf")),
        (Spec("float"), "1"),
        (Spec("float"), True),
        (Spec("int", 1), 0),
        (Spec("str", choices=("a", "b")), "c"),
        (Spec("list[float]", 0, 1), []),
        (Spec("list[float]", 0, 1), [0.5, 2.0]),
        (Spec("bool"), 1),
    ]:
        with pytest.raises(ParameterError):
            spec.check("p", value)


def test_full_validation_requires_every_parameter():
    notebook = next(nb for nb in NOTEBOOKS if SCHEMAS[nb])
    with pytest.raises(ParameterError, match="is missing"):
        validate(notebook, {}, partial=False)


def test_declared_parameters_rejects_non_literal_cells(tmp_path):
    source = tmp_path / "nb.py"
    source.write_text('# %% tags=["parameters"]\nseed = 1 + int("2")\n')
    with pytest.raises((ParameterError, ValueError)):
        declared_parameters(source)


def test_missing_notebook_source_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="is missing"):
        notebook_source("01_distortion_bound", Path(tmp_path))


def test_notebooks_define_no_functions_or_classes():
    """Notebooks hold narrative, parameters, calls and plots; logic lives in the library."""
    import ast

    from coinfer.base.paths import PROJECT_ROOT

    for path in sorted((PROJECT_ROOT / "notebooks").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        assert defined == [], f"{path.name} defines {defined}"


def test_notebook_numbers_follow_the_run_order_and_the_report_is_last():
    """The runner runs NOTEBOOKS in order; each number names its place, the figures and claims report last."""
    from coinfer.base import paths

    assert list(NOTEBOOKS) == sorted(NOTEBOOKS)
    assert len({nb[:2] for nb in NOTEBOOKS}) == len(NOTEBOOKS) and all(nb[:2].isdigit() for nb in NOTEBOOKS)
    assert NOTEBOOKS[-1] == "11_report" and list(SCHEMAS) == list(NOTEBOOKS)
    assert sorted(p.stem for p in paths.NOTEBOOKS_DIR.glob("*.py")) == list(NOTEBOOKS)


def test_budgets_of_06_below_one_clock_cycle_are_refused():
    from coinfer.base import paths
    from coinfer.pipeline import notebook_params, runner

    params = runner.declared_parameters(paths.PROJECT_ROOT / "notebooks" / "06_joint_optimisation.py")
    assert notebook_params.validate("06_joint_optimisation", params, partial=False)["latency_budget_s"] == 0.0
    with pytest.raises(
        ParameterError,
        match=r"^06_joint_optimisation.latency_budget_s: got 1e-12 s; allowed 0 \(family default\) or >= 5e-10 s",
    ):
        notebook_params.validate("06_joint_optimisation", {**params, "latency_budget_s": 1e-12}, partial=False)
    assert notebook_params.validate("06_joint_optimisation", {**params, "latency_budget_s": 0.015}, partial=False)
