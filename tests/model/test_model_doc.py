"""docs/model.md keeps its section numbers, lists every problem-file field and states the code's defaults."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from coinfer.model.system import DEFAULTS, INPUT_FIELDS, Problem

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"

#: Section numbers that code, notebooks and figures cite ("model.md section N"), with a word of each title.
CITED_SECTIONS = {
    1: "claims",
    2: "co-inference",
    3: "output distortion",
    4: "rate-distortion",
    5: "optimisation",
    6: "models",
    7: "default",
    8: "problem file",
    9: "closing the loop",
    10: "model size",
}


def _without_code_blocks(text: str) -> str:
    """The document with fenced code blocks blanked (a YAML comment must not look like a heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


@pytest.fixture(scope="module")
def text() -> str:
    return _without_code_blocks(DOC.read_text(encoding="utf-8"))


def _headings(text: str, level: int) -> list[str]:
    return re.findall(rf"^{'#' * level} (.+?)\s*$", text, flags=re.M)


def _section(text: str, number: str) -> str:
    """Body of the heading numbered ``number`` ("8" or "7.1"), up to the next heading of the same or a higher level."""
    level = 2 if "." not in number else 3
    start = re.search(rf"^#{{{level}}} {re.escape(number)}\.?\s.*$", text, flags=re.M)
    assert start is not None, f"docs/model.md: no heading numbered {number}"
    end = re.compile(rf"^#{{2,{level}}} ", flags=re.M).search(text, start.end())
    return text[start.end() : end.start() if end else len(text)]


def _table(body: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the first Markdown table in ``body`` (cells stripped)."""
    lines = [line for line in body.splitlines() if line.startswith("|")]
    assert len(lines) >= 3, "expected a Markdown table"
    cells = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    header, rows = cells[0], [row for row in cells[2:] if not set("".join(row)) <= set("-: ")]
    for row in rows:
        assert len(row) == len(header), f"table row with {len(row)} cells, header has {len(header)}: {row}"
    return [h.lower() for h in header], rows


def _field(cell: str) -> str | None:
    """The backticked identifier that starts a first cell (``flops_device`` in "`flops_device` (new)")."""
    match = re.match(r"`([a-z_0-9]+)`", cell)
    return match.group(1) if match else None


def _matches(cell: str, value: object, rel: float) -> bool:
    token = cell.split()[0].strip("`")
    if isinstance(value, bool):
        return token == str(value).lower()
    if isinstance(value, str):
        return token == value
    return math.isclose(float(token), float(value), rel_tol=rel, abs_tol=0.0)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_sections_1_to_10_keep_their_numbers(text: str) -> None:
    numbered = [re.match(r"(\d+)\. (.*)", h) for h in _headings(text, 2)]
    found = {int(m.group(1)): m.group(2).lower() for m in numbered if m}
    assert [n for n in found if n <= 10] == list(range(1, 11))
    for number, word in CITED_SECTIONS.items():
        assert word in found[number], f"section {number} is {found[number]!r}; expected it to be about {word!r}"
    assert sorted(found) == list(range(1, len(found) + 1)), "section numbers must be consecutive"


def test_subsections_are_numbered_inside_their_section(text: str) -> None:
    current = None
    for line in re.findall(r"^(#{2,3} .+)$", text, flags=re.M):
        number = re.match(r"#+ (\d+)(?:\.(\d+))?", line)
        if line.startswith("## "):
            current = int(number.group(1)) if number else None
        elif number is not None:
            assert int(number.group(1)) == current, f"{line!r} is under section {current}"


def test_contents_links_resolve(text: str) -> None:
    anchors = {_slug(h) for level in (2, 3) for h in _headings(text, level)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(links) >= 12
    assert sorted(set(links) - anchors) == []


def test_section_8_lists_every_problem_field(text: str) -> None:
    header, rows = _table(_section(text, "8.2"))
    assert header[:2] == ["field", "symbol"]
    listed = {_field(row[0]) for row in rows}
    missing = [name for name in Problem.fields() if name not in listed]
    assert missing == [], f"problem-file fields missing from model.md section 8.2: {missing}"
    # A listed field that the code does not know must be marked (new); the input conveniences are known.
    for row in rows:
        name = _field(row[0])
        known = name in Problem.fields() or name in INPUT_FIELDS
        assert known or "(new)" in row[0], f"{name}: not a Problem field and not marked (new)"
    assert sorted(set(INPUT_FIELDS) - listed) == [], "input conveniences missing from model.md section 8.2"


def test_section_8_defaults_agree_with_the_code(text: str) -> None:
    header, rows = _table(_section(text, "8.2"))
    column = header.index("default")
    for row in rows:
        name, cell = _field(row[0]), row[column]
        defaults = {**DEFAULTS, **INPUT_FIELDS}
        if name in defaults and defaults[name] is not None:
            # Section 8 may round (3.981e-21); section 7.1 holds every digit.
            assert _matches(cell, defaults[name], 1e-3), f"{name}: section 8 says {cell!r}, code {defaults[name]!r}"
        elif name in Problem.fields() and "(new)" not in row[0]:
            assert cell == "required", f"{name}: no default in the code, section 8 says {cell!r}"


def test_section_7_defaults_equal_the_code(text: str) -> None:
    header, rows = _table(_section(text, "7.1"))
    column = header.index("default")
    documented = {}
    for row in rows:
        name = _field(row[0])
        assert name is not None, f"section 7.1 row without a field name: {row}"
        documented[name] = row[column]
        if name in INPUT_FIELDS:
            assert _matches(row[column], INPUT_FIELDS[name], 1e-12), (
                f"{name}: model.md section 7.1 says {row[column]!r}, INPUT_FIELDS has {INPUT_FIELDS[name]!r}"
            )
        elif name in DEFAULTS and DEFAULTS[name] is not None:
            assert _matches(row[column], DEFAULTS[name], 1e-12), (
                f"{name}: model.md section 7.1 says {row[column]!r}, "
                f"coinfer.model.system.DEFAULTS has {DEFAULTS[name]!r}"
            )
        else:
            assert "(new)" in row[0], f"{name}: in section 7.1 but not in coinfer.model.system.DEFAULTS"
    missing = sorted(set(DEFAULTS) - set(documented))
    assert missing == [], f"defaults missing from model.md section 7.1: {missing}"
