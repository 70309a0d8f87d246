"""Clean executed notebooks (coinfer.pipeline.publish) and the web report (coinfer.pipeline.site), in a browser too."""

import base64
import io
import json
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
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs a headless browser at /usr/bin/chromium (apt-get install chromium)"
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
@pytest.fixture
def output_root(tmp_path):
    """A tiny output root: the committed claims, one figure, one parameter record, one executed notebook."""
    root = tmp_path / "out"
    (root / "data").mkdir(parents=True)
    (root / "figures").mkdir()
    shutil.copyfile(ROOT / "data" / "claims.json", root / "data" / "claims.json")
    (root / "data" / "parameters_01_distortion_bound.json").write_text(json.dumps({"seed": 0, "widths": [4, 16]}))
    (root / "figures" / "bound_tightness.png").write_bytes(png_bytes(400, 200))
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    cell = nbformat.v4.new_code_cell("print('hello')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Distortion bound"), cell]
    publish.write_notebook(nb, publish.executed_dir(root) / "01_distortion_bound.ipynb")
    return root


class Links(HTMLParser):
    """Every ``href`` and ``src``, and the ids of tables."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.srcs.append(attrs["src"])
        if attrs.get("id"):
            self.ids.append(attrs["id"])


def parse(html_text: str) -> Links:
    links = Links()
    links.feed(html_text)
    return links


def check_links(index: Path, links: Links) -> None:
    """Every image decodes; every link is an anchor on the page or an existing file."""
    assert links.srcs, "no images"
    for src in links.srcs:
        with Image.open(index.parent / unquote(src)) as image:
            image.load()
    for href in links.hrefs:
        url = urlsplit(href)
        assert not url.scheme, f"external link {href}"
        if url.path:
            assert (index.parent / unquote(url.path)).is_file(), f"dead link {href}"
        else:
            assert url.fragment in links.ids, f"dead anchor {href}"


def test_site_has_claims_figures_notebooks_and_parameters(output_root):
    index = site.build_site(output_root)
    assert index == output_root.resolve() / "site" / "index.html"
    text = index.read_text()
    links = parse(text)
    assert "claims" in links.ids and "notebooks" in links.ids
    for claim in json.loads((output_root / "data" / "claims.json").read_text()):
        assert f"claim-{claim['id']}" in links.ids
    assert "figures/bound_tightness.png" in links.srcs
    assert "notebooks/01_distortion_bound.html" in links.hrefs
    assert "params-01_distortion_bound" in links.ids and "widths" in text
    check_links(index, links)
    rendered = (index.parent / "notebooks" / "01_distortion_bound.html").read_text()
    assert "Distortion bound" in rendered and "hello" in rendered
    assert str(output_root) not in text


def test_site_rebuild_replaces_the_old_report(output_root):
    first = site.build_site(output_root)
    (first.parent / "stale.html").write_text("old")
    site.build_site(output_root)
    assert not (first.parent / "stale.html").exists()
    assert [p.name for p in first.parent.parent.iterdir() if p.name.startswith(".site")] == []


def test_site_of_project_root_goes_to_build_full():
    assert site.site_dir(ROOT) == paths.BUILD_DIR / "full" / "site"


def test_site_command_builds_and_reports_the_index(output_root):
    result = subprocess.run(
        [sys.executable, "-m", "coinfer", "site", str(output_root)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == output_root.resolve() / "site" / "index.html"
    missing = subprocess.run(
        [sys.executable, "-m", "coinfer", "site", str(output_root / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


@needs_chromium
def test_site_in_a_headless_browser(output_root, tmp_path):
    index = site.build_site(output_root)
    profile = tmp_path / "chromium-profile"
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
        f"--user-data-dir={profile}",
        "--dump-dom",
        index.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    links = parse(dom)
    assert "claims" in links.ids, dom[:2000]
    assert dom.count('<tr id="claim-') == len(json.loads((output_root / "data" / "claims.json").read_text()))
    for noise in ("Traceback", "Error:", "This page isn"):
        assert noise not in dom
    check_links(index, links)
