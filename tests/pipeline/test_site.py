"""Clean executed notebooks (coinfer.pipeline.publish) and the documentation site (coinfer.pipeline.site), built by
Sphinx from a small output root and checked in a headless browser: every page renders, every formula is typeset,
no request leaves the machine."""

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import numpy as np
import pytest
from PIL import Image

from coinfer.base import paths, progress
from coinfer.pipeline import publish, site

ROOT = paths.PROJECT_ROOT
CHROMIUM = Path("/usr/bin/chromium")
#: CI sets COINFER_REQUIRE_CHROMIUM=1: there a missing browser fails the browser tests instead of skipping them.
REQUIRE_CHROMIUM = os.environ.get("COINFER_REQUIRE_CHROMIUM") == "1"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not REQUIRE_CHROMIUM,
    reason="needs a headless browser at /usr/bin/chromium (apt-get install chromium)",
)


def png_bytes(width: int, height: int) -> bytes:
    """A small RGBA PNG with some structure (a gradient and a line), like a matplotlib figure."""
    pixels = np.full((height, width, 4), 255, dtype=np.uint8)
    pixels[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    pixels[height // 2, :, :3] = 0
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- cleaner
def papermill_notebook(project: str, stage: str, png: bytes) -> dict:
    """What papermill stores, by hand: timestamps, random ids, absolute paths, tqdm fragments, a warning."""
    stamp = {"start_time": "2026-01-01T10:00:00.1+00:00", "end_time": "2026-01-01T10:00:01.2+00:00", "duration": 1.1}
    execution = {"iopub.execute_input": "2026-01-01T10:00:00.2Z", "shell.execute_reply": "2026-01-01T10:00:01.1Z"}
    stderr_parts = [
        f"{project}/.venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found. "
        "Please update jupyter and ipywidgets.\n  from .autonotebook import tqdm as notebook_tqdm\n",
        "\r",
        "models:   0%|          | 0/2 [00:00<?, ?it/s]",
        "\rmodels:  50%|#####     | 1/2 [00:01<00:01,  1.50s/it]",
        "\x1b[A",
        f"{project}/lib/coinfer/x.py:3: UserWarning: a real warning\n",
        "\rmodels: 100%|##########| 2/2 [00:02<00:00,  1.10it/s]\rsweep: 7it [00:00, 12.3it/s]\n",
    ]
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "papermill": {
            **stamp,
            "input_path": f"{project}/build/executed/quick/01.source.ipynb",
            "output_path": f"{project}/build/executed/quick/01.ipynb",
            "parameters": {"seed": 1},
            "environment_variables": {},
            "exception": None,
            "version": "2.7.0",
        },
    }
    code = nbformat.v4.new_code_cell("work()", execution_count=1)
    code.metadata = {"execution": execution, "papermill": {**stamp, "status": "completed", "exception": False}}
    code.outputs = [nbformat.v4.new_output("stream", name="stderr", text=part) for part in stderr_parts]
    code.outputs += [
        nbformat.v4.new_output("stream", name="stdout", text=f"wrote {stage}/data/a.csv\n"),
        nbformat.v4.new_output(
            "display_data", data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Image>"}
        ),
    ]
    quiet = nbformat.v4.new_code_cell("x = 1", execution_count=2)
    quiet.outputs = [nbformat.v4.new_output("stream", name="stderr", text="\r  0%|          | 0/1 [00:00<?, ?it/s]")]
    return nbformat.from_dict({**nb, "cells": [nbformat.v4.new_markdown_cell("# title"), code, quiet]})


@pytest.fixture
def cleaned():
    project, stage = "/srv/someone/coinfer", "/srv/someone/coinfer/build/quick/.coinfer-staging"
    raw = papermill_notebook(project, stage, png_bytes(2000, 300))
    replacements = publish.default_replacements(Path(stage), Path(project))
    return raw, publish.clean(
        raw, replacements, input_path="notebooks/01.py", output_path="notebooks/executed/01.ipynb"
    )


def test_cleaner_drops_progress_fragments_and_setup_warnings_but_keeps_real_warnings(cleaned):
    _, nb = cleaned
    code = nb["cells"][1]
    stderr = [o for o in code["outputs"] if o.get("name") == "stderr"]
    assert len(stderr) == 1  # consecutive fragments merged, then cleaned
    text = stderr[0]["text"]
    assert text == "./lib/coinfer/x.py:3: UserWarning: a real warning\n"
    assert nb["cells"][2]["outputs"] == []  # a cell whose only output was a bar has none left


def test_cleaner_removes_times_and_absolute_paths(cleaned):
    raw, nb = cleaned
    text = nbformat.writes(nbformat.from_dict(nb))
    assert "/srv/someone" not in text and "2026-01-01" not in text
    for field in ("start_time", "end_time", "duration"):
        assert field not in nb["metadata"]["papermill"] and field not in nb["cells"][1]["metadata"]["papermill"]
    assert "execution" not in nb["cells"][1]["metadata"]
    assert nb["metadata"]["papermill"]["input_path"] == "notebooks/01.py"
    assert nb["metadata"]["papermill"]["output_path"] == "notebooks/executed/01.ipynb"
    assert nb["metadata"]["papermill"]["parameters"] == {"seed": 1}
    assert "wrote ./data/a.csv\n" in [o.get("text") for o in nb["cells"][1]["outputs"]]
    assert [c["id"] for c in nb["cells"]] == ["cell-0", "cell-1", "cell-2"]
    assert raw["metadata"]["papermill"]["duration"] == 1.1  # the input is not modified
    nbformat.validate(nbformat.from_dict(nb))


def test_cleaner_shrinks_wide_images_and_is_deterministic(cleaned, tmp_path):
    raw, nb = cleaned
    image = next(o for o in nb["cells"][1]["outputs"] if o["output_type"] == "display_data")
    shrunk = Image.open(io.BytesIO(base64.b64decode(image["data"]["image/png"])))
    assert shrunk.width == publish.MAX_IMAGE_WIDTH and shrunk.height == round(300 * publish.MAX_IMAGE_WIDTH / 2000)
    first = publish.write_notebook(nb, tmp_path / "a.ipynb").read_bytes()
    project, stage = "/srv/someone/coinfer", "/srv/someone/coinfer/build/quick/.coinfer-staging"
    again = publish.clean(
        raw,
        publish.default_replacements(Path(stage), Path(project)),
        input_path="notebooks/01.py",
        output_path="notebooks/executed/01.ipynb",
    )
    assert publish.write_notebook(again, tmp_path / "b.ipynb").read_bytes() == first  # same content, same bytes
    assert first.endswith(b"\n") and json.loads(first)["nbformat"] == 4


def test_clean_stderr_handles_bars_without_a_total_and_blank_lines():
    assert publish.clean_stderr("\rsweep: 3it [00:00, 9.1it/s]\r\n\n") == ""
    assert publish.clean_stderr("keep me\n") == "keep me\n"


def test_progress_bar_is_plain_when_the_runner_asks(monkeypatch):
    monkeypatch.setenv(progress.PLAIN_PROGRESS_ENV, "1")
    with progress.tqdm(range(2), disable=True) as bar:
        assert type(bar).__module__ == "tqdm.std"
    monkeypatch.setenv(progress.PLAIN_PROGRESS_ENV, "0")
    assert not progress.plain_progress()


# --------------------------------------------------------------------------- site
MATH_MARKDOWN = (
    "# Distortion bound\n\nInline $\\|f - \\hat f\\|_1 \\le H \\|W - \\hat W\\|_1$ and displayed:\n\n"
    "$$D(\\rho) = b\\,\\rho$$\n"
)


def make_output_root(root: Path) -> Path:
    """A tiny output root: the committed claims, one figure, one parameter record, one executed notebook with math."""
    (root / "data").mkdir(parents=True)
    (root / "figures").mkdir()
    shutil.copyfile(ROOT / "data" / "claims.json", root / "data" / "claims.json")
    (root / "data" / "parameters_01_distortion_bound.json").write_text(json.dumps({"seed": 0, "widths": [4, 16]}))
    (root / "figures" / "bound_tightness.png").write_bytes(png_bytes(400, 200))
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}}
    nb = nbformat.v4.new_notebook(metadata=metadata)
    cell = nbformat.v4.new_code_cell("print('hello')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    nb.cells = [nbformat.v4.new_markdown_cell(MATH_MARKDOWN), cell]
    publish.write_notebook(nb, publish.executed_dir(root) / "01_distortion_bound.ipynb")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(output root, index.html): the site of the tiny root, built once for the module (about a minute)."""
    root = make_output_root(tmp_path_factory.mktemp("site") / "out")
    return root, site.build_site(root)


def pages(index: Path) -> list[Path]:
    """Every page of the site (``_static`` holds the theme's Jinja macros, not pages)."""
    return sorted(p for p in index.parent.rglob("*.html") if "_static" not in p.relative_to(index.parent).parts)


class Tags(HTMLParser):
    """Every resource a page loads (``src`` of any tag, ``href`` of ``<link>``), every link, every id."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.table_columns: list[int] = []
        self._row = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "tr":
            self._row = 0
        if tag in ("td", "th"):
            self._row += 1

    def handle_endtag(self, tag):
        if tag == "tr":
            self.table_columns.append(self._row)


def tags(text: str) -> Tags:
    parsed = Tags()
    parsed.feed(text)
    return parsed


def external_loads(html_text: str) -> list[str]:
    """Resources of a page that are not local files (anything with a network scheme or protocol-relative)."""
    return [
        url for url in tags(html_text).loads if urlsplit(url).scheme not in ("", "file", "data") or url.startswith("//")
    ]


def test_site_has_claims_figures_notebooks_docs_parameters_and_api(built):
    root, index = built
    assert index == root.resolve() / "site" / "index.html"
    folder = index.parent
    text = index.read_text()
    assert "This output root" in text and "profile" in text  # the root's state comes first
    claims = json.loads((root / "data" / "claims.json").read_text())
    claims_page = (folder / "claims.html").read_text()
    parsed = tags(claims_page)
    for claim in claims:
        assert f"claim-{claim['id'].lower()}" in parsed.ids
        for entry in claim.get("robustness", []):  # every reading shown, in words, with the claim
            assert entry["reading"].replace("'", "&#x27;").split(" ")[0] in claims_page
    # the readings matrix is split by claim: no table wider than (reading, verdict) or the 3-column verdict table
    assert max(tags(index.read_text()).table_columns + parsed.table_columns) <= 3
    assert "95 % CI" in claims_page  # the sentences carry their intervals
    figures = (folder / "figures.html").read_text()
    assert "bound_tightness.png" in figures and "fig-bound-tightness" in tags(figures).ids
    notebook = (folder / "notebooks" / "executed" / "01_distortion_bound.html").read_text()
    assert "Distortion bound" in notebook and "hello" in notebook
    assert "widths" in (folder / "parameters.html").read_text()
    model = (folder / "docs" / "model.html").read_text()
    assert 'class="math' in model and "mathjax/tex-svg-full.js" in model
    for page in ("usage", "reproducing", "results", "own_models", "problem_files"):
        assert (folder / "docs" / f"{page}.html").is_file()
    import coinfer

    api = "".join(p.read_text() for p in (folder / "api").glob("*.html"))
    documented = {i.rsplit(".", 1)[-1] for i in re.findall(r'id="(coinfer\.[\w.]+)"', api)}
    for layer in site.LAYERS:
        module = getattr(coinfer, layer)
        functions = [n for n in module.__all__ if callable(getattr(module, n)) and not n.startswith("_")]
        assert set(functions) <= documented, (layer, set(functions) - documented)
    assert str(root) not in text and str(ROOT) not in api


def test_every_page_loads_only_local_files(built):
    _, index = built
    for page in pages(index):
        text = page.read_text()
        assert external_loads(text) == [], page
        for url in tags(text).loads:
            if urlsplit(url).path:  # (a bare "#" is the page itself)
                target = (page.parent / unquote(urlsplit(url).path)).resolve()
                assert target.is_file(), f"{page.name}: {url} missing"


def test_a_page_with_a_cdn_script_is_caught():
    """Mutation check of the static test above (the browser test has its own)."""
    page = '<html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"></script>'
    page += '<link rel="stylesheet" href="//fonts.googleapis.com/css"></head></html>'
    assert len(external_loads(page)) == 2


def test_site_rebuild_replaces_the_old_site_and_a_failed_build_keeps_it(tmp_path, monkeypatch):
    """The swap around Sphinx (Sphinx itself replaced by a stub that writes one page, or fails)."""
    root = make_output_root(tmp_path / "out")

    def fake_sphinx(source, out, title):
        out.mkdir(parents=True)
        (out / "index.html").write_text((source / "index.md").read_text())
        return ""

    monkeypatch.setattr(site, "run_sphinx", fake_sphinx)
    index = site.build_site(root)
    (index.parent / "stale.html").write_text("old")
    site.build_site(root)
    assert not (index.parent / "stale.html").exists() and "This output root" in index.read_text()

    def failing_sphinx(source, out, title):
        raise site.SiteBuildError("sphinx-build failed (exit 1): a broken reference")

    monkeypatch.setattr(site, "run_sphinx", failing_sphinx)
    with pytest.raises(site.SiteBuildError):
        site.build_site(root)
    assert "This output root" in index.read_text()  # the previous site stays
    assert [p.name for p in index.parent.parent.iterdir() if p.name.startswith(".site")] == []


def test_a_broken_reference_fails_the_build(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "index.md").write_text("# Page\n\nSee [the missing page](missing.md) and {py:func}`coinfer.solve`.\n")
    with pytest.raises(site.SiteBuildError, match="missing"):
        site.run_sphinx(source, tmp_path / "html", "test")
    (source / "index.md").write_text("# Page\n\nSee {py:func}`coinfer.no_such_function`.\n")
    with pytest.raises(site.SiteBuildError, match="no_such_function"):
        site.run_sphinx(source, tmp_path / "html2", "test")


def test_site_of_project_root_goes_to_build_full():
    assert site.site_dir(ROOT) == paths.BUILD_DIR / "full" / "site"


def test_site_command_reports_a_missing_root_in_one_line(tmp_path):
    missing = subprocess.run(
        [sys.executable, "-m", "coinfer", "site", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


# --------------------------------------------------------------------------- browser
def chromium(url: str, tmp_path: Path, name: str) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and every http(s) URL the page itself asked for (from Chromium's net log:
    a page's request names its initiator, ``null`` for a ``file://`` page; the browser's own background requests say
    ``not an origin``). Name resolution is disabled, so nothing can actually leave the machine."""
    log = tmp_path / f"{name}.netlog.json"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--log-net-log={log}",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1000",
        "--virtual-time-budget=30000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    events = json.loads(log.read_text()).get("events", []) if log.is_file() else []
    requested = [
        e["params"]["url"]
        for e in events
        if isinstance(e.get("params"), dict)
        and str(e["params"].get("url", "")).startswith(("http://", "https://", "ws://", "wss://"))
        and e["params"].get("initiator", "not an origin") != "not an origin"
    ]
    return result.stdout, requested


def untypeset(dom: str) -> list[str]:
    """Math left as TeX in the rendered page: text (outside scripts, styles, code and MathJax output) holding
    ``\\(``, ``\\[``, ``$$`` or ``$...$``, and math elements without MathJax output."""
    body = re.sub(r"<(script|style|pre|code|mjx-container|mjx-assistive-mml)\b.*?</\1>", " ", dom, flags=re.S)
    body = re.sub(r'<span class="pre">[^<]*</span>', " ", body)  # literal values (a matplotlib label "$T_0$")
    text = re.sub(r"<[^>]+>", " ", body)
    raw = re.findall(r"\\\(|\\\[|\$\$|\$[^$\s][^$]{0,200}?\$", text)
    # MathJax puts its output in place of the TeX: a math element whose content does not start with it was not typeset
    left = re.findall(r'<(?:span|div) class="math[^"]*">(?!\s*<mjx-container).{0,40}', dom)
    return raw + left


@needs_chromium
def test_every_page_renders_offline_with_its_math_typeset(built, tmp_path):
    assert CHROMIUM.exists(), "COINFER_REQUIRE_CHROMIUM=1 but no browser at /usr/bin/chromium"
    _, index = built
    typeset = 0
    for page in pages(index):
        dom, requested = chromium(page.as_uri(), tmp_path, page.stem)
        name = page.relative_to(index.parent)
        assert requested == [], f"{name} asked the network for {requested}"
        assert "<main" in dom and "bd-article" in dom, f"{name} did not render"
        assert "This page isn" not in dom and "ERR_" not in dom, name
        if name.parts[0] != "api":  # (docstring examples show the one-line errors of bad input, with "Traceback")
            assert "Traceback" not in dom, name
        assert untypeset(dom) == [], f"{name}: math left as TeX: {untypeset(dom)[:3]}"
        math = dom.count('class="math')
        assert dom.count("<mjx-container") >= math, f"{name}: {math} formulas, fewer typeset"
        typeset += dom.count("<mjx-container")
    assert typeset > 100  # the model document alone has hundreds of formulas


@needs_chromium
def test_the_browser_check_catches_a_cdn_script_and_raw_math(built, tmp_path):
    """Mutation check: a copy of the index that loads MathJax from a CDN, and a page with TeX MathJax never saw."""
    assert CHROMIUM.exists(), "COINFER_REQUIRE_CHROMIUM=1 but no browser at /usr/bin/chromium"
    _, index = built
    bad = index.parent / "cdn-mutant.html"
    text = index.read_text().replace(
        "</head>", '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"></script></head>', 1
    )
    bad.write_text(text)
    try:
        dom, requested = chromium(bad.as_uri(), tmp_path, "mutant")
        assert any("cdn.jsdelivr.net" in url for url in requested), requested
        assert external_loads(text)
    finally:
        bad.unlink()
    assert untypeset("<p>The bound \\(D \\le H\\) holds</p>") and untypeset("<p>with $x^2$ here</p>")
    assert untypeset('<span class="math notranslate nohighlight">\\(x\\)</span>')
    assert not untypeset('<div class="math notranslate nohighlight">\n<mjx-container jax="SVG"></mjx-container></div>')
    assert not untypeset("<p>costs $5</p><code>$HOME</code><mjx-container>\\(x\\)</mjx-container>")
    assert not untypeset('<em class="property"><span class="pre">{"t":</span> <span class="pre">"$T_0$"}</span></em>')
