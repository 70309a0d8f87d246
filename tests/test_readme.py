"""The README's claims table is generated from data/claims.json (coinfer.readme)."""

from __future__ import annotations

import json

import pytest

from coinfer import paths, readme


def committed_claims() -> list[dict]:
    return json.loads((paths.PROJECT_ROOT / "data" / "claims.json").read_text(encoding="utf-8"))


def test_committed_readme_holds_the_table_of_the_committed_claims():
    text = (paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.render(text, committed_claims()) == text, "run `python -m coinfer readme`"


def test_table_states_each_verdict_and_every_reading():
    claims = committed_claims()
    table = readme.claims_table(claims)
    for claim in claims:
        row = next(line for line in table.splitlines() if line.startswith(f"| **{claim['id']}**"))
        assert f"**{claim['verdict']}**" in row
        for entry in claim.get("robustness", []):
            assert entry["reading"] in row


def test_render_replaces_only_the_marked_block_and_needs_the_markers():
    claims = committed_claims()
    text = f"before\n{readme.START}\nold table\n{readme.END}\nafter\n"
    out = readme.render(text, claims)
    assert out.startswith("before\n") and out.endswith("after\n") and "old table" not in out
    with pytest.raises(ValueError, match="markers"):
        readme.render("no markers here", claims)


def test_update_rewrites_a_stale_copy(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text(f"x\n{readme.START}\nstale\n{readme.END}\n", encoding="utf-8")
    assert readme.update(stale, paths.PROJECT_ROOT / "data" / "claims.json") is True
    assert readme.update(stale, paths.PROJECT_ROOT / "data" / "claims.json") is False
