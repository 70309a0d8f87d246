"""The public surface carries numpydoc sections (issue 27.4): a one-line summary, ``Parameters`` naming every
argument with its unit in brackets, ``Returns`` (or ``Yields``), and for the model's mathematics a ``References``
section citing docs/model.md.

The surface checked is, by rule, every public function (no leading underscore, defined in that module) and every
public method of a public class defined there, of every public module of every layer of ``coinfer`` (a module
whose name, or a package on whose path, starts with an underscore is internal and skipped). A function only used
inside its module is made private rather than documented.
A new public function without the sections fails at once.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable

import pytest

import coinfer

#: Every layer, walked with pkgutil (``_private`` modules skipped): a new public module or function is covered
#: without being listed.
WALKED: tuple[str, ...] = tuple(f"coinfer.{layer}" for layer in coinfer.__all__[:8])
#: Layers whose public functions state the model.md section they implement (a ``References`` section).
WITH_REFERENCES: tuple[str, ...] = ("coinfer.model",)


def _public_modules(package: str) -> list[str]:
    """``package`` and its submodules, at any depth, except those with a ``_private`` part in their name."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def _methods(cls: type, prefix: str) -> dict[str, Callable]:
    """The public methods defined in ``cls`` itself (static and class methods unwrapped; no properties)."""
    found: dict[str, Callable] = {}
    for attribute, obj in vars(cls).items():
        if attribute.startswith("_"):
            continue
        function = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
        if inspect.isfunction(function):
            found[f"{prefix}.{attribute}"] = function
    return found


def _module_functions(name: str) -> dict[str, Callable]:
    """The public functions and public classes' methods defined in module ``name`` (not those it imports)."""
    module = importlib.import_module(name)
    found: dict[str, Callable] = {}
    for attribute, obj in vars(module).items():
        if attribute.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isfunction(obj):
            found[f"{name}.{attribute}"] = obj
        elif inspect.isclass(obj):
            found |= _methods(obj, f"{name}.{attribute}")
    return found


def _functions() -> list[tuple[str, Callable]]:
    found: dict[str, Callable] = {}
    for package in WALKED:
        for name in _public_modules(package):
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


def _returns_nothing(function: Callable) -> bool:
    """Whether ``function`` is annotated to return None (numpydoc then has no Returns section)."""
    return str(inspect.signature(function).return_annotation) in ("None", "<class 'NoneType'>")


def check(name: str, function: Callable) -> None:
    """Assert that ``function``'s docstring has the sections of the public surface."""
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
    if not _returns_nothing(function):
        assert _section(doc, "Returns") is not None or _section(doc, "Yields") is not None, (
            f"{name}: no Returns section"
        )
    if name.startswith(WITH_REFERENCES) and "." not in name.removeprefix(function.__module__ + "."):
        references = _section(doc, "References")
        assert references is not None and "model.md" in references, f"{name}: no References citing docs/model.md"


FUNCTIONS = _functions()


def test_the_surface_is_every_layer_and_not_empty():
    names = {name for name, _ in FUNCTIONS}
    assert len(names) > 500
    assert {
        "coinfer.nets.zoo.load_model",
        "coinfer.nets.deploy.deploy",
        "coinfer.model.pruning.prune_count",
        "coinfer.model.system.make_problem",
        "coinfer.optimise.fast.solve",
        "coinfer.optimise.batch.solve_batch",
        "coinfer.figures.style.new_figure",
        "coinfer.pipeline.runner.parse_parameters",
        "coinfer.base.parallel.check_workers",
        "coinfer.nets.split.PartSweeps.sweep",  # a public method
    } <= names
    assert {f"coinfer.{layer}" for layer in coinfer.__all__[:8]} == set(WALKED)
    assert "coinfer.pipeline._dependencies" not in _public_modules("coinfer.pipeline")
    assert not [name for name in names if "._" in name]


@pytest.mark.parametrize(("name", "function"), FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_public_function_has_parameters_with_units_and_returns(name: str, function: Callable) -> None:
    check(name, function)


def test_the_check_finds_a_missing_section():
    def undocumented(x: float) -> float:
        """Twice ``x``."""
        return 2 * x

    with pytest.raises(AssertionError, match="no Parameters section"):
        check("undocumented", undocumented)

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
        check("half", half)
    half.__doc__ = (half.__doc__ or "").replace("        Returns\n        -------\n        float\n", "")
    half.__doc__ = half.__doc__.replace("x : float", "x, y : float")
    with pytest.raises(AssertionError, match="no Returns section"):
        check("half", half)

    def unitless(x: float) -> float:
        """Unitless.

        Parameters
        ----------
        x : float
            A value.

        Returns
        -------
        float
            It.
        """
        return x

    with pytest.raises(AssertionError, match="no unit in brackets"):
        check("unitless", unitless)
    unitless.__module__ = "coinfer.model.example"
    unitless.__doc__ = (unitless.__doc__ or "").replace("A value.", "A value [m].")
    with pytest.raises(AssertionError, match="no References citing"):
        check("coinfer.model.example.unitless", unitless)
    unitless.__doc__ = inspect.cleandoc(unitless.__doc__) + "\n\nReferences\n----------\ndocs/model.md, section 2.\n"
    check("coinfer.model.example.unitless", unitless)


def test_a_function_returning_none_needs_no_returns_section():
    def shout(x: str) -> None:
        """Print ``x``.

        Parameters
        ----------
        x : str
            What to print.
        """

    check("shout", shout)
