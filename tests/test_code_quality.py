"""The package has no import cycles (at module level or inside functions).

ruff (lint and format) and mypy are not unit tests: they run as their own step, ``./run_all.sh lint``,
which ``.ci/run`` calls before the test suite. ``tests/test_layers.py`` checks the order of the layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from pathlib import Path

import pytest

import coinfer

PACKAGE = "coinfer"
PACKAGE_DIR = Path(coinfer.__file__).resolve().parent


# --------------------------------------------------------------------------- import cycles
def _module_names(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Dotted name -> file of every module of the package (a package is named by its ``__init__.py``)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``nodes`` at any depth (module, function, class bodies) except under TYPE_CHECKING."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse)
        else:
            yield from _imports(ast.iter_child_nodes(node))


def _owner(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module that a dotted name lives in: its longest prefix that is a module of the package."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: Mapping[str, Path]) -> set[str]:
    """Modules of the package that one import statement of ``module`` loads (resolving relative imports)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        # ``from coinfer import base`` imports the subpackage coinfer.base; ``from coinfer.nets.split import Batch``
        # imports (an attribute of) coinfer.nets.split.
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    return {owner for name in names if (owner := _owner(name, modules)) is not None and owner != module}


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, dict[str, str]]:
    """``graph[a][b]`` = where (``file:line``) module ``a`` of the package imports module ``b`` of the package."""
    modules = _module_names(package_dir)
    graph: dict[str, dict[str, str]] = {name: {} for name in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree.body):
            for target in _targets(node, module, path.name == "__init__.py", modules):
                where = f"{path.relative_to(package_dir.parent)}:{node.lineno}"
                graph[module].setdefault(target, where)
    return graph


def find_cycle(graph: Mapping[str, Mapping[str, str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of the directed graph, or ``None`` (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in sorted(graph):
        if state.get(root):
            continue
        path = [root]
        stack = [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(graph.get(child, {}))))
    return None


def test_cycle_finder_on_small_graphs():
    assert find_cycle({"a": {"b": ""}, "b": {"c": ""}, "c": {}}) is None
    assert find_cycle({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ""}, "b": {"b": ""}}) == ["b", "b"]
    assert find_cycle({"a": {"b": "", "c": ""}, "b": {"d": ""}, "c": {"d": ""}, "d": {}}) is None  # diamond


def test_import_graph_sees_module_and_function_level_imports(tmp_path):
    package = tmp_path / PACKAGE
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from coinfer import b\n")
    (package / "b.py").write_text("def f():\n    from coinfer.sub.c import X\n")
    (package / "sub" / "__init__.py").write_text("from .c import X\n")
    (package / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from coinfer import a\nelse:\n    import coinfer\n"
    )
    graph = import_graph(package)
    assert {name: set(edges) for name, edges in graph.items()} == {
        "coinfer": set(),
        "coinfer.a": {"coinfer.b"},
        "coinfer.b": {"coinfer.sub.c"},  # function level
        "coinfer.sub": {"coinfer.sub.c"},  # relative
        "coinfer.sub.c": {"coinfer"},  # the TYPE_CHECKING branch is not a run-time import
    }
    assert graph["coinfer.b"]["coinfer.sub.c"] == "coinfer/b.py:2"
    assert find_cycle(graph) is None
    (package / "sub" / "c.py").write_text("def g():\n    import coinfer.a.thing\n")
    assert find_cycle(import_graph(package)) == ["coinfer.a", "coinfer.b", "coinfer.sub.c", "coinfer.a"]


def test_package_has_no_import_cycles():
    """No module of ``coinfer`` can reach itself through imports, at module level or inside functions.

    Nodes are the package's modules; a package counts as its ``__init__.py``.
    ``from coinfer import x`` is an edge to the submodule ``coinfer.x`` when
    there is one (else to ``coinfer`` itself), ``from coinfer.m import name``
    an edge to ``coinfer.m``. Imports inside functions count (they only defer
    the cycle to run time); imports under ``if TYPE_CHECKING:`` do not (they
    never run). Importing ``coinfer.p.sub`` also runs ``coinfer/p/__init__.py``
    first, but that implicit edge is left out: a package ``__init__`` that
    re-exports its submodules would otherwise be in a "cycle" with every
    submodule that imports a sibling, which is harmless as long as the
    submodules import each other directly (``coinfer.p.sub``), never the
    package (``coinfer.p``), and that case is an explicit edge.
    """
    graph = import_graph()
    assert {"coinfer.nets.split", "coinfer.nets.zoo", "coinfer.optimise", "coinfer.optimise.fast"} <= set(graph)
    assert "coinfer.nets.split" in graph["coinfer.nets.inputs"] and "coinfer.nets.inputs" in graph["coinfer.nets.zoo"]
    cycle = find_cycle(graph)
    if cycle is not None:
        steps = [f"  {a} -> {b}  ({graph[a][b]})" for a, b in pairwise(cycle)]
        pytest.fail("import cycle: " + " -> ".join(cycle) + "\n" + "\n".join(steps))
