"""Sphinx configuration of the documentation site (built by :mod:`coinfer.pipeline.site`).

Sphinx with myst-nb and sphinx-book-theme (the Jupyter Book 1 stack): Sphinx's autodoc reads the numpydoc
docstrings of the package (napoleon), myst-nb shows the executed notebooks as they are (no execution), and
everything the pages load comes from this folder's ``_static`` or the installed theme: MathJax is vendored
(``_static/mathjax``), no CDN. The source folder is staged by the site builder; this file is used with
``sphinx-build -c docs/_site``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

project = "coinfer"
author = "coinfer authors"
copyright = "the coinfer authors"
html_title = os.environ.get("COINFER_SITE_TITLE", "coinfer")

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]

# The executed notebooks are shown as run (the runner executed them); nothing runs at build time.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 4
# Notebooks and docs may skip a heading level; numpydoc References sections cite sources nothing links to; a short
# name that two documented classes share (an attribute) links to one of them. None is a broken reference.
suppress_warnings = ["myst.header", "ref.citation", "ref.python"]

# Math typeset locally: the vendored MathJax 3 (SVG output, every TeX extension inside), no CDN.
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"options": {"menuOptions": {"settings": {"explorer": False}}}}
html_static_path = ["_static"]

html_theme = "sphinx_book_theme"
html_theme_options = {
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "search_bar_text": "Search this site",
}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False

# numpydoc docstrings through napoleon; the types are plain text (not cross-referenced), so their words never break
# the build; references to our own objects are checked (nitpicky).
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!coinfer\.).*")]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]


def _public_modules() -> set[str]:
    """``coinfer``, its layers and the modules each layer lists in ``__all__``: what the API reference shows."""
    import types

    import coinfer

    public = {"coinfer"}
    for layer in coinfer.__all__:
        module = getattr(coinfer, layer)
        if isinstance(module, types.ModuleType):
            public.add(module.__name__)
            public.update(
                sub.__name__
                for name in getattr(module, "__all__", [])
                if isinstance(sub := getattr(module, name, None), types.ModuleType)
            )
    return public


def _owning_module(target: str) -> str:
    """The longest importable module that ``target`` (a dotted name) starts with."""
    import importlib

    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        return ".".join(parts[:end])
    return ""


def _skip_internal(app: object, domain: object, node: object) -> bool | None:
    """Sphinx's ``warn-missing-reference``: a reference into a ``coinfer`` module the API reference does not show
    (an internal, named in a docstring to say where the work is done) is not a broken link; every reference to the
    documented surface still fails the build."""
    target = str(getattr(node, "get", lambda *_: "")("reftarget", ""))
    if not target.startswith("coinfer"):
        return None
    return True if _owning_module(target) not in PUBLIC else None


def _alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Sphinx's ``missing-reference``: a reference to a re-exported name (``coinfer.model.evaluate``) resolves to
    where the object is documented (``coinfer.model.system.evaluate``): its own module, or a public module holding
    the same object."""
    target = str(node.get("reftarget", ""))
    if node.get("refdomain") != "py" or not target.startswith("coinfer."):
        return None
    owner = _owning_module(target)
    obj: Any = sys.modules.get(owner)
    for part in target[len(owner) + 1 :].split(".") if target != owner else []:
        obj = getattr(obj, part, None)
    if obj is None:
        return None
    last = target.rsplit(".", 1)[-1]
    names = (
        [f"{obj.__module__}.{obj.__qualname__}"] if hasattr(obj, "__qualname__") and hasattr(obj, "__module__") else []
    )
    names += [f"{m}.{last}" for m in sorted(PUBLIC) if getattr(sys.modules.get(m), last, None) is obj]
    domain = env.get_domain("py")
    for name in names:
        if name != target:
            found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name, node, contnode)
            if found is not None:
                return found
    return None


def _no_type_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Sphinx's ``autodoc-process-docstring``: a constant without a doc comment shows no docstring, not its type's
    (``dict``'s docstring is not about our registry, and is not valid reStructuredText)."""
    if what in ("data", "attribute") and lines and type(obj).__doc__ and "\n".join(lines).strip() in type(obj).__doc__:
        lines.clear()


def _without_machine_paths() -> None:
    """Values and default arguments are shown with the project's folder as ``<project>``: the site names no path of
    the machine that built it (``PROJECT_ROOT`` is wherever the checkout is)."""
    import sphinx.util.inspect

    import coinfer
    from coinfer.base import paths

    places = {str(paths.PROJECT_ROOT): "<project>", str(Path(coinfer.__file__).resolve().parents[1]): "<project>/lib"}
    describe = sphinx.util.inspect.object_description

    def described(obj: Any, *args: Any, **kwargs: Any) -> str:
        text = describe(obj, *args, **kwargs)
        for place, name in sorted(places.items(), key=lambda item: -len(item[0])):
            text = text.replace(place, name)
        return text

    sphinx.util.inspect.object_description = described


_without_machine_paths()
PUBLIC = _public_modules()


def setup(app: Any) -> dict[str, bool]:
    app.connect("missing-reference", _alias)
    app.connect("autodoc-process-docstring", _no_type_docstring)
    app.connect("warn-missing-reference", _skip_internal)
    return {"parallel_read_safe": True}
