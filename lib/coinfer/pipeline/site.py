"""A static web report of one run: ``site/index.html`` (plain HTML and CSS, no JavaScript).

The report of an output root holds

- the claims table with its verdicts (from ``data/claims.json``),
- the figures (``figures/*.png`` copied into ``site/figures/``), those named by
  a claim shown beside it,
- every executed notebook (``notebooks/executed/*.ipynb``, see
  :mod:`coinfer.pipeline.publish`) rendered to ``site/notebooks/<name>.html`` by
  nbconvert, images embedded,
- the run's parameters (``data/parameters_*.json``).

Where it goes (:func:`site_dir`): ``<output root>/site``, except for the
project root (the full profile's committed results), whose report goes to
``build/full/site`` so that it is never committed. The runner builds it at the
end of every successful run; ``python -m coinfer site DIR`` builds it for any
output root.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from coinfer.base import paths
from coinfer.pipeline import publish, status

SITE_NAME = "site"
CLAIMS_FILE = "claims.json"
PARAMETERS_GLOB = "parameters_*.json"

CSS = """
body { font-family: system-ui, sans-serif; max-width: 90rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.measured { font-family: ui-monospace, monospace; font-size: 0.75rem; white-space: pre; }
td.text { min-width: 11rem; }
.scroll { overflow-x: auto; }
.holds { color: #176f2c; font-weight: bold; }
.fails { color: #a4161a; font-weight: bold; }
.open { color: #6c757d; font-weight: bold; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
code { font-size: 0.9em; }
.status { border-left: 4px solid #176f2c; background: #f3f8f4; padding: 0.2rem 1rem; }
.status.warn { border-left-color: #b35c00; background: #fff6ea; }
""".strip()


def site_dir(output_root: Path) -> Path:
    """``<output root>/site``; for the project root (full profile) ``build/full/site``, which git ignores.

    Parameters
    ----------
    output_root : pathlib.Path
        The output root [path].

    Returns
    -------
    pathlib.Path
        The report's folder [path].
    """
    root = Path(output_root).resolve()
    if root == paths.PROJECT_ROOT.resolve():
        return paths.BUILD_DIR / "full" / SITE_NAME
    return root / SITE_NAME


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _href(path: Path, start: Path) -> str:
    """A relative URL from folder ``start`` to ``path`` (forward slashes, each segment escaped)."""
    from urllib.parse import quote

    return quote(Path(os.path.relpath(path, start)).as_posix())


def describe(value: Any, indent: int = 0) -> str:
    """A measured value as short text lines: nested mappings indented, floats to 4 significant digits.

    Parameters
    ----------
    value : object
        The value (a number in its own unit, a string, a list or a nested mapping) [-].
    indent : int, optional
        Nesting level of the first line [count] (two spaces per level).

    Returns
    -------
    str
        The lines, joined by newlines.
    """
    pad = "  " * indent
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if isinstance(item, Mapping):
                lines.append(f"{pad}{key}:")
                lines.append(describe(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {describe(item)}")
        return "\n".join(lines)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    return str(value)


def _load_claims(output_root: Path) -> list[dict[str, Any]]:
    """The verdicts of ``data/claims.json``, or ``[]`` when there is no claims report."""
    path = Path(output_root) / "data" / CLAIMS_FILE
    if not path.is_file():
        return []
    claims = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(claims, list):
        raise ValueError(f"{CLAIMS_FILE}: expected a list of claims, got {type(claims).__name__}")
    return claims


def _figure_specs() -> dict[str, tuple[str, str, str]]:
    """Registered figures: name -> (claim, description, notebook); empty if the registry cannot load."""
    try:
        from coinfer.figures import FIGURES
    except ImportError:  # pragma: no cover - the registry is part of the package
        return {}
    return {name: (spec.claim, spec.description, spec.notebook) for name, spec in FIGURES.items()}


def _render_notebook_html(notebook: Path, target: Path) -> Path:
    """``notebook`` rendered by nbconvert (``lab`` template, images embedded) into ``target``."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(
        nbformat.read(notebook, as_version=4), resources={"metadata": {"name": notebook.stem}}
    )
    return paths.write_text(target, body)


def _claims_section(claims: list[dict[str, Any]], figures: set[str], notebooks: set[str]) -> list[str]:
    if not claims:
        return ["<p>No claims report (<code>data/claims.json</code>) in this output root; run 11_report.</p>"]
    out = [
        '<div class="scroll"><table id="claims">',
        "<thead><tr><th>claim</th><th>statement</th><th>criterion (fixed in advance)</th>"
        "<th>measured</th><th>verdict</th><th>figures</th><th>notebooks</th></tr></thead>",
        "<tbody>",
    ]
    for claim in claims:
        # holds is true, false or null (inconclusive, needs data): the verdict in words says which
        holds = claim.get("holds")
        words = _e(str(claim.get("verdict") or ("holds" if holds else "does not hold")))
        css = "holds" if holds is True else "fails" if holds is False else "open"
        verdict = f'<span class="{css}">{words}</span>'
        parts = "; ".join(f"{part.get('id')} {part.get('verdict')}" for part in claim.get("parts", []))
        verdict = f"{_e(parts)}; conjunction: {verdict}" if parts else verdict
        fig_links = ", ".join(
            f'<a href="#fig-{_e(name)}">{_e(name)}</a>' if name in figures else _e(name)
            for name in claim.get("figures", [])
        )
        nb_links = ", ".join(
            f'<a href="notebooks/{_e(name)}.html">{_e(name)}</a>' if name in notebooks else _e(name)
            for name in claim.get("notebooks", [])
        )
        out.append(
            f'<tr id="claim-{_e(claim.get("id", ""))}"><th>{_e(claim.get("id", ""))}</th>'
            f'<td class="text">{_e(claim.get("statement", ""))}</td>'
            f'<td class="text">{_e(claim.get("criterion", ""))}</td>'
            f'<td class="measured">{_e(describe(claim.get("measured", "")))}</td>'
            f"<td>{verdict}</td><td>{fig_links}</td><td>{nb_links}</td></tr>"
        )
    out += ["</tbody>", "</table></div>"]
    return out


def _figure_block(name: str, spec: tuple[str, str, str] | None, notebooks: set[str]) -> str:
    caption = f"<code>figures/{_e(name)}</code>"
    if spec is not None:
        _, description, notebook = spec
        source = f'<a href="notebooks/{_e(notebook)}.html">{_e(notebook)}</a>' if notebook in notebooks else notebook
        caption += f": {_e(description)} (data from {source})"
    return (
        f'<figure id="fig-{_e(name)}"><img src="figures/{_e(name)}.png" alt="{_e(name)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _figures_section(
    claims: list[dict[str, Any]], figures: list[str], specs: Mapping[str, tuple[str, str, str]], notebooks: set[str]
) -> list[str]:
    if not figures:
        return ["<p>No figures (<code>figures/*.png</code>) in this output root.</p>"]
    out: list[str] = []
    shown: set[str] = set()
    for claim in claims:
        names = [name for name in claim.get("figures", []) if name in figures and name not in shown]
        if names:
            out.append(f"<h3>{_e(claim.get('id', ''))}: key figures</h3>")
            out += [_figure_block(name, specs.get(name), notebooks) for name in names]
            shown.update(names)
    rest = [name for name in figures if name not in shown]
    if rest:
        out.append("<h3>All other figures</h3>")
        out += [_figure_block(name, specs.get(name), notebooks) for name in rest]
    return out


def _notebooks_section(notebooks: list[str], executed: Path, site: Path) -> list[str]:
    if not notebooks:
        return ["<p>No executed notebooks (<code>notebooks/executed/*.ipynb</code>) in this output root.</p>"]
    out = ['<ul id="notebooks">']
    for name in notebooks:
        out.append(
            f'<li><a href="notebooks/{_e(name)}.html">{_e(name)}</a> '
            f'(<a href="{_e(_href(executed / f"{name}.ipynb", site))}">.ipynb</a>)</li>'
        )
    out.append("</ul>")
    return out


def status_section(root: Path) -> list[str]:
    """The state of ``root`` (:func:`coinfer.pipeline.status.root_status`), first on the report's page.

    Its profile, the parameters that differ from the committed run, and whether its verdicts are current.

    Parameters
    ----------
    root : pathlib.Path
        The output root [path].

    Returns
    -------
    list of str
        HTML lines.
    """
    state = status.root_status(root)
    warn = not state.committed and (bool(state.changed_parameters) or state.verdicts_current is not True)
    said = state.lines(values=True, name=None if state.committed else "This output root")
    lines = "".join(f"<li>{_e(line)}</li>" for line in said)
    return [f'<div class="status{" warn" if warn else ""}" id="status"><ul>{lines}</ul></div>']


def _parameters_section(files: Iterable[Path]) -> list[str]:
    out: list[str] = []
    for file in files:
        notebook = file.stem.removeprefix("parameters_")
        values = json.loads(file.read_text(encoding="utf-8"))
        rows = "".join(
            f"<tr><th>{_e(key)}</th><td><code>{_e(json.dumps(value))}</code></td></tr>"
            for key, value in (values.items() if isinstance(values, dict) else [("value", values)])
        )
        out.append(f'<h3 id="params-{_e(notebook)}">{_e(notebook)}</h3><table>{rows}</table>')
    return out or ["<p>No parameter records (<code>data/parameters_*.json</code>) in this output root.</p>"]


def build_site(output_root: Path, target: Path | None = None, title: str | None = None) -> Path:
    """Write the report of ``output_root`` to ``target``.

    The folder is built beside ``target`` and swapped in at the end, so a failure leaves the previous report as it
    was.

    Parameters
    ----------
    output_root : pathlib.Path
        The output root whose data, figures and executed notebooks the report shows [path].
    target : pathlib.Path, optional
        The report's folder [path]; default :func:`site_dir`.
    title : str, optional
        The page title; default one naming the output root.

    Returns
    -------
    pathlib.Path
        The report's ``index.html`` [path].
    """
    root = Path(output_root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"output root {str(output_root)!r} does not exist")
    site = Path(target).resolve() if target is not None else site_dir(root)
    site.parent.mkdir(parents=True, exist_ok=True)
    claims = _load_claims(root)
    specs = _figure_specs()
    figure_files = sorted((root / "figures").glob("*.png"))
    executed = publish.executed_dir(root)
    notebook_files = sorted(executed.glob("*.ipynb"))
    figures = [f.stem for f in figure_files]
    notebooks = {f.stem for f in notebook_files}
    work = Path(tempfile.mkdtemp(prefix=f".{site.name}.", dir=site.parent))
    try:
        (work / "figures").mkdir()
        for file in figure_files:
            shutil.copyfile(file, work / "figures" / file.name)
        for file in notebook_files:
            _render_notebook_html(file, work / "notebooks" / f"{file.stem}.html")
        data_links = [
            f'<a href="{_e(_href(root / "data" / name, site))}">data/{_e(name)}</a>'
            for name in ("claims.md", CLAIMS_FILE)
            if (root / "data" / name).is_file()
        ]
        heading = title or (
            "full profile (committed results)" if root == paths.PROJECT_ROOT.resolve() else f"output root {root.name}"
        )
        body = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>coinfer report: {_e(heading)}</title>",
            f"<style>\n{CSS}\n</style></head><body>",
            f"<h1>coinfer report: {_e(heading)}</h1>",
            "<p>Reproduction of Lyu et al., <em>The Larger the Merrier? Efficient Large AI Model Inference "
            "in Wireless Edge Networks</em> (2025). Built from this run's <code>data/</code>, "
            "<code>figures/</code> and executed notebooks. "
            + (f"Claims report: {', '.join(data_links)}." if data_links else "")
            + "</p>",
            *status_section(root),
            '<p><a href="#claims-section">Claims</a> | <a href="#figures-section">Figures</a> | '
            '<a href="#notebooks-section">Notebooks</a> | <a href="#parameters-section">Parameters</a></p>',
            '<h2 id="claims-section">Claims and verdicts</h2>',
            *_claims_section(claims, set(figures), notebooks),
            '<h2 id="figures-section">Figures</h2>',
            *_figures_section(claims, figures, specs, notebooks),
            '<h2 id="notebooks-section">Executed notebooks</h2>',
            *_notebooks_section(sorted(notebooks), executed, site),
            '<h2 id="parameters-section">Parameters of the run</h2>',
            *_parameters_section(sorted((root / "data").glob(PARAMETERS_GLOB))),
            "</body></html>",
        ]
        paths.write_text(work / "index.html", "\n".join(body) + "\n")
        os.chmod(work, 0o755)
        retired = site.parent / f".{site.name}.previous"
        shutil.rmtree(retired, ignore_errors=True)
        if site.exists():
            os.replace(site, retired)
        os.replace(work, site)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return site / "index.html"
