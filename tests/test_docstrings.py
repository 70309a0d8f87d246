"""The public functions of the covered layers carry numpydoc sections (issue 27.4): a one-line summary,
``Parameters`` naming every argument with its unit in brackets, and ``Returns``.

The surface checked is, by rule, every public function (no leading underscore, defined in that module) of every
public module of the packages in :data:`WALKED` (a module whose name, or a package on whose path, starts with an
underscore is internal and skipped); and, by list, every function in a package's ``__all__`` in :data:`COVERED`
(optionally only those defined in the listed modules) and every public function of the modules in
:data:`COVERED_MODULES`. Extend them when a layer's docstrings are done; a function that loses a section fails.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable

import pytest

#: package -> modules whose functions in the package's ``__all__`` are checked (``None``: all of them).
COVERED: dict[str, tuple[str, ...] | None] = {
    "coinfer.nets": None,
    "coinfer.model": ("bounds", "rate_distortion", "pruning", "stats", "hardware"),
    "coinfer.optimise": None,
    "coinfer.claims": None,
    "coinfer.pipeline": None,
    "coinfer.base": None,
    "coinfer.figures": None,
}
#: Packages whose every public module (walked with pkgutil, ``_private`` ones skipped) has every public function
#: checked: a new public module or function is covered without being listed.
WALKED: tuple[str, ...] = ("coinfer.base", "coinfer.figures", "coinfer.pipeline")
#: Modules whose every public function (defined there) is checked.
COVERED_MODULES: tuple[str, ...] = (
    "coinfer.nets.deploy",
    "coinfer.studies.deployed_designs",
    "coinfer.studies.distortion_bound",
    "coinfer.studies.joint_optimisation",
    "coinfer.studies.model_size",
    "coinfer.studies.pruning_distortion",
    "coinfer.studies.weight_distributions",
)


def _public_modules(package: str) -> list[str]:
    """``package`` and its submodules, at any depth, except those with a ``_private`` part in their name."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def _module_functions(name: str) -> dict[str, Callable]:
    """The public functions defined in module ``name`` (not those it imports), by qualified name."""
    module = importlib.import_module(name)
    return {
        f"{name}.{attribute}": obj
        for attribute, obj in vars(module).items()
        if inspect.isfunction(obj) and not attribute.startswith("_") and obj.__module__ == name
    }


def _functions() -> list[tuple[str, Callable]]:
    found: dict[str, Callable] = {}
    for package in WALKED:
        for name in _public_modules(package):
            found |= _module_functions(name)
    for package, modules in COVERED.items():
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and (modules is None or obj.__module__.rsplit(".", 1)[-1] in modules):
                found[f"{obj.__module__}.{name}"] = obj
    for name in COVERED_MODULES:
        found |= _module_functions(name)
    return sorted(found.items())


def _section(doc: str, title: str) -> str | None:
    """The body of numpydoc section ``title`` (up to the next section), or None."""
    match = re.search(rf"^{title}\n-{{{len(title)}}}\n(.*?)(?=^\w[\w ]*\n-+\n|\Z)", doc, re.S | re.M)
    return None if match is None else match.group(1)


def _documented(parameters: str) -> set[str]:
    """Names of the entries of a Parameters section (``name : type``, ``a, b : type``, ``**kwargs``)."""
    names: set[str] = set()
    for line in parameters.splitlines():
        if line and not line.startswith(" "):
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


def _numeric(function: Callable, argument: str) -> bool:
    """Whether ``argument`` is annotated as a quantity (a number, array or tensor), which has a unit."""
    annotation = str(inspect.signature(function).parameters[argument].annotation)
    return bool(re.search(r"\b(int|float|ArrayLike|ndarray|Tensor)\b", annotation))


FUNCTIONS = _functions()


def test_the_covered_surface_is_not_empty():
    names = {name for name, _ in FUNCTIONS}
    assert len(names) > 40
    assert {"coinfer.nets.zoo.load_model", "coinfer.nets.deploy.deploy", "coinfer.model.pruning.prune_count"} <= names


def test_the_walk_covers_every_public_module_and_skips_the_private_ones():
    names = {name for name, _ in FUNCTIONS}
    for package in WALKED:
        modules = _public_modules(package)
        assert len(modules) > 5, package
        for module in modules:  # every public module that defines a public function contributes all of them
            assert set(_module_functions(module)) <= names, module
    # figure functions, style helpers and pipeline helpers that are in no ``__all__`` are reached by the walk
    assert {
        "coinfer.figures.multi_user.objective_vs_users",
        "coinfer.figures.style.new_figure",
        "coinfer.pipeline.runner.parse_parameters",
        "coinfer.base.parallel.check_workers",
    } <= names
    assert "coinfer.pipeline._dependencies" not in _public_modules("coinfer.pipeline")
    assert not [name for name in names if "._" in name]


@pytest.mark.parametrize(("name", "function"), FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_public_function_has_parameters_with_units_and_returns(name: str, function: Callable) -> None:
    doc = inspect.getdoc(function) or ""
    summary = doc.split("\n\n")[0]
    assert summary and "\n" not in summary.strip(), f"{name}: no one-line summary"
    arguments = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
    parameters = _section(doc, "Parameters")
    if arguments:
        assert parameters is not None, f"{name}: no Parameters section"
        missing = set(arguments) - _documented(parameters)
        assert not missing, f"{name}: Parameters does not document {sorted(missing)}"
        if any(_numeric(function, a) for a in arguments):
            assert "[" in parameters, f"{name}: its parameters state no unit in brackets"
    assert _section(doc, "Returns") is not None or _section(doc, "Yields") is not None, f"{name}: no Returns section"


def test_the_check_finds_a_missing_section():
    def undocumented(x: float) -> float:
        """Twice ``x``."""
        return 2 * x

    with pytest.raises(AssertionError, match="no Parameters section"):
        test_public_function_has_parameters_with_units_and_returns("undocumented", undocumented)

    def half(x: float, y: float) -> float:
        """Half.

        Parameters
        ----------
        x : float
            A value [m].

        Returns
        -------
        float
            Half of it [m].
        """
        return x / 2 + 0 * y

    with pytest.raises(AssertionError, match=r"does not document \['y'\]"):
        test_public_function_has_parameters_with_units_and_returns("half", half)
