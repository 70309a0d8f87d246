"""The layers of ``coinfer``: a lower layer never imports a higher one (issue 27, README "Layout").

The order is ``base < model < optimise < nets < studies < claims < figures < pipeline``. Every module of the
package is parsed with :mod:`ast` (nothing is imported), and every import statement counts: at module level,
inside functions and classes, and under ``if TYPE_CHECKING:`` (a type-only import of a higher layer is still
a dependency a reader must follow). ``tests/test_code_quality.py`` checks, on top, that there is no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import coinfer

PACKAGE_DIR = Path(coinfer.__file__).resolve().parent
#: The layers from the bottom up; a module may import its own layer and the layers before it.
LAYERS: tuple[str, ...] = ("base", "model", "optimise", "nets", "studies", "claims", "figures", "pipeline")


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    """Dotted name of the module in ``path`` (a package is named by its ``__init__.py``)."""
    parts = path.relative_to(package_dir).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("coinfer", *parts))


def layer_of(module: str) -> str | None:
    """The layer of a dotted ``coinfer`` module name; ``None`` for ``coinfer`` itself and ``coinfer.__main__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """``(dotted name, line)`` of every ``coinfer`` module or name an import statement anywhere in ``tree`` names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # ``from coinfer import figures`` names the layer ``figures``; ``from coinfer.nets import zoo`` a module
                yield (f"{base}.{alias.name}" if base == "coinfer" else base), node.lineno


def wrong_way_imports(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """``file:line: lower -> higher`` for every import of a higher layer by a lower one."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, package_dir)
        layer = layer_of(module)
        if layer is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in imported_modules(tree, module, path.name == "__init__.py"):
            target = layer_of(name) if name.startswith("coinfer.") else None
            if target is not None and LAYERS.index(target) > LAYERS.index(layer):
                where = path.relative_to(package_dir.parent)
                found.append(f"{where}:{line}: {layer} imports {name} ({target})")
    return list(dict.fromkeys(found))


def test_every_module_of_the_package_is_in_a_layer():
    outside = [
        module_name(p)
        for p in PACKAGE_DIR.rglob("*.py")
        if layer_of(module_name(p)) is None and module_name(p) not in ("coinfer", "coinfer.__main__")
    ]
    assert outside == []
    assert {p.name for p in PACKAGE_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS)


def test_no_lower_layer_imports_a_higher_one():
    found = wrong_way_imports()
    if found:
        pytest.fail("imports against the layer order " + " < ".join(LAYERS) + ":\n" + "\n".join(found))


def test_no_study_imports_another_study():
    """What two notebooks share lives in a lower layer (a study once imported another for its chunker)."""
    found = []
    for path in sorted((PACKAGE_DIR / "studies").glob("[!_]*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{path.name}:{line}: {name}"
            for name, line in imported_modules(tree, module, False)
            if name.startswith("coinfer.studies") and name != module
        ]
    assert found == []


def test_each_layer_says_what_it_may_import():
    for layer in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE_DIR / layer / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, layer


def test_the_check_sees_every_kind_of_import(tmp_path):
    package = tmp_path / "coinfer"
    for layer in ("base", "model", "figures"):
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "base" / "a.py").write_text("def f():\n    from coinfer.model import system\n")  # in a function
    (package / "base" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from coinfer.figures.style import X\n"
    )
    (package / "base" / "c.py").write_text("from coinfer import figures\n")  # a layer by name
    (package / "model" / "d.py").write_text("from ..figures import style\nfrom coinfer.base import a\n")  # relative
    (package / "figures" / "e.py").write_text("import coinfer.model.d\n")  # downwards: allowed
    found = wrong_way_imports(package)
    assert [line.split(": ", 1)[0] for line in found] == [
        "coinfer/base/a.py:2",
        "coinfer/base/b.py:3",
        "coinfer/base/c.py:1",
        "coinfer/model/d.py:1",
    ]
