"""The README's claims table is generated from data/claims.json (coinfer.pipeline.readme)."""

from __future__ import annotations

import json
import re

import pytest

from coinfer.base import paths
from coinfer.pipeline import readme


def committed_claims() -> list[dict]:
    return json.loads((paths.PROJECT_ROOT / "data" / "claims.json").read_text(encoding="utf-8"))


def results_text() -> str:
    """The README and its results page, where the hand-written numbers are."""
    pages = (paths.PROJECT_ROOT / "README.md", paths.PROJECT_ROOT / "docs" / "results.md")
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_committed_pages_hold_the_tables_of_the_committed_claims():
    text = (paths.PROJECT_ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert readme.render(text, committed_claims(), link_prefix="../") == text, "run `python -m coinfer readme`"
    front = (paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.render(front, committed_claims(), needs_claims_table=False) == front
    short = front[front.index(readme.VERDICTS_START) : front.index(readme.VERDICTS_END)]
    for claim in committed_claims():  # the README's short table names every claim with its verdict
        row = next(line for line in short.splitlines() if line.startswith(f"| **{claim['id']}** |"))
        assert row.endswith(f"**{claim['verdict']}** |")
    assert len(front.encode("utf-8")) <= 12_000  # issue 26.2: a README a newcomer finishes


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
    assert readme.render("no markers", committed_claims(), needs_claims_table=False) == "no markers"
    assert readme.update(stale, paths.PROJECT_ROOT / "data" / "claims.json") is True
    assert readme.update(stale, paths.PROJECT_ROOT / "data" / "claims.json") is False


def test_hand_written_readme_numbers_follow_from_data():
    """The few numbers the README's prose states by hand, recomputed from data/."""
    import pandas as pd

    text = results_text()
    claims = {c["id"]: c for c in committed_claims()}
    sampled = next(r for r in claims["C4"]["robustness"] if r["reading"].startswith("sampled constants"))
    sentence = text[text.index("An intermediate split beats both extremes by at least 1 % at") :].split("(before")[0]
    named = {"efficientnet_lite0": "EfficientNet-Lite0", "llama_7b": "the LLaMA", "minilm": "MiniLM"}
    assert set(sampled["measured"]) == {*named, "digits_cnn"} and sampled["measured"]["digits_cnn"] == 0.0
    assert "never for the digits CNN" in sentence
    for model, name in named.items():
        share = f"{100 * sampled['measured'][model]:.1f} %"
        assert f"{share} of the sampled constants for {name}" in " ".join(sentence.split()) or (
            f"{share} for {name}" in sentence
        ), model
    starts = pd.read_csv(paths.PROJECT_ROOT / "data" / "opt_single_starts.csv").groupby("model")["success"].mean()
    for model in ("minilm", "digits_cnn", "efficientnet_lite0"):
        assert f"{100 * starts[model]:.1f} %" in text, model
    l1 = claims["L1"]["measured"]["by_family"]
    digits, text, images = l1["digits_mlp"], l1["text_encoder"], l1["efficientnet_lite"]
    page = results_text()
    assert digits["won_by_largest"] == 0
    assert (
        f"wins none of the {digits['usable_points']} usable budget points ({digits['no_usable_points']} points" in page
    )
    assert f"{digits['ties']} are ties" in page and f"win {sum(digits['won_by_other'].values())})" in page
    assert f"MPNet-base wins {text['won_by_largest']} of {text['usable_points']} points" in page
    assert f"MiniLM-L6's {text['won_by_other']['minilm']} ({text['ties']} ties)" in page
    assert f"none of the {images['usable_points']} usable points" in page and images["won_by_largest"] == 0
    assert f"{images['no_usable_points']} points with no usable member" in page


def test_hand_written_c3_margin_follows_from_data():
    text = results_text()
    claims = {c["id"]: c for c in committed_claims()}
    by_model = claims["C3"]["parts"][1]["measured"]["by_model"]
    shares = {model: f"{100 * found['share_beating_better_extreme']:.1f} %" for model, found in by_model.items()}
    assert shares["digits_cnn"] == shares["minilm"] == shares["llama_7b"]
    assert (
        f"the better extreme at {shares['minilm']} of its feasible points for the digits\n  CNN, MiniLM and the "
        f"LLaMA and at {shares['efficientnet_lite0']} for EfficientNet-Lite0" in text
    )


def _claim(cid: str, measured: dict, verdict: str, robustness: list | None = None) -> dict:
    return {"id": cid, "measured": measured, "holds": verdict == "holds", "verdict": verdict,
            "robustness": robustness or []}  # fmt: skip


def test_how_sure_states_each_interval_and_the_readings_that_flip():
    sampled = {
        "reading": "sampled constants (Sobol design, 100 samples per model; holds: gain at a majority of them)",
        "criterion": "gain at >= 50% of the samples for some model",
        "holds": True,
        "verdict": "inconclusive",
        "measured": {"m": 0.51},
        "measured_ci95": {"m": [0.41, 0.61]},
    }
    claims = [
        _claim("C1", {"first_order_holding_share_large_ratio_ci95": {"m": [0.9, 0.99]}}, "inconclusive"),
        _claim("C4", {}, "holds", [sampled]),
        _claim(
            "E1",
            {
                "pairs_distinct": 20,
                "by_model": {
                    "m": {"share_not_lost_ci95": [0.8, 0.95], "pairs_distinct": 20, "wins": 2, "losses": 3, "ties": 15}
                },
            },
            "inconclusive",
        ),
        _claim("E2", {"by_model": {"m": {"spearman": 0.7, "spearman_ci95": [0.45, 0.85]}}, "verdict": "x"}, "x"),
        _claim("E3", {"points": 4}, "holds"),  # a claims.json from before the intervals
    ]
    text = readme.how_sure(claims)
    assert "C1 **inconclusive**: first-order bound holds on m 90.0 %-99.0 %" in text
    assert "C4 **holds**: complete grids, no sampling interval" in text
    assert "m 80.0 %-95.0 % of 20 distinct pairs (2 wins, 3 losses, 15 ties)" in text
    assert "Spearman m 0.45-0.85" in text and f"E3 **holds**: {readme.NO_INTERVAL}" in text
    assert "m 51.0 % (95 % CI 41.0 %-61.0 %); inconclusive" in text
    assert "C4 holds -> sampled constants (Sobol design" in text and "inconclusive." in text
    assert "Single starts" not in text  # no C3 in these claims


def test_committed_pages_hold_the_run_times_of_the_committed_logs():
    timings = readme.read_timings()
    assert set(timings) == set(readme.RUN_TIME_PROFILES), f"missing logs in {readme.RUN_TIMES_DIR}"
    assert readme.RUN_TIMES_START in (paths.PROJECT_ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    for page in readme.PAGES:
        text = (paths.PROJECT_ROOT / page).read_text(encoding="utf-8")
        prefix = "../" if page.startswith("docs/") else ""
        assert readme.render(text, committed_claims(), timings, needs_claims_table=False, link_prefix=prefix) == text
    for profile, rows in timings.items():  # the total row is the sum of the notebooks, as the runner writes it
        notebooks = [seconds for name, (seconds, _) in rows.items() if name != "total"]
        assert rows["total"][0] == pytest.approx(sum(notebooks), abs=0.05 * len(notebooks)), profile


def test_run_times_table_from_hand_made_logs(tmp_path):
    (tmp_path / "timings-full.csv").write_text(
        "notebook,seconds,peak_rss_mib\n01_distortion_bound,30.4,450\n05_system_profiles,400.0,1706.4\n"
        "total,430.4,1706.4\n"
    )
    (tmp_path / "timings-quick.csv").write_text(
        "notebook,seconds,peak_rss_mib\n01_distortion_bound,3.0,100\ntotal,3.0,100\n"
    )
    table = readme.run_times_table(readme.read_timings(tmp_path)).splitlines()
    assert table[0] == "| notebook | what it does | full: time | full: peak memory | quick: time | quick: peak memory |"
    first = "Output distortion is bounded by parameter distortion (claim C1)"
    assert table[2] == f"| 01_distortion_bound | {first} | 30 s | 450 MiB | 3 s | 100 MiB |"
    second = "System profiles: what each split point costs"
    assert table[3] == f"| 05_system_profiles | {second} | 400 s (6.7 min) | 1706 MiB | not run | - |"
    assert table[4] == "| **total** |  | 430 s (7.2 min) | 1706 MiB | 3 s | 100 MiB |"


def test_readme_test_suite_time_comes_from_the_committed_ci_log():
    """The test-suite run time in docs/usage.md is the one logged in benchmarks/run_times/test_suite.txt."""
    text = (paths.PROJECT_ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    log = (paths.PROJECT_ROOT / "benchmarks" / "run_times" / "test_suite.txt").read_text(encoding="utf-8")
    pytest_seconds = round(float(re.search(r" in ([0-9.]+)s ", log).group(1)))
    minutes, seconds = re.search(r"real\s+([0-9]+)m([0-9.]+)s", log).groups()
    total_seconds = int(minutes) * 60 + round(float(seconds))
    for name, value in (("pytest", pytest_seconds), ("in all", total_seconds)):
        quoted = f"{value // 60} min {value % 60} s"
        assert quoted in text, (name, quoted)


def test_readme_solver_numbers_come_from_the_committed_benchmark_output():
    """The Benchmarks paragraph quotes benchmarks/run_times/bench_solver.txt; each quoted number is in it."""
    text = (paths.PROJECT_ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    paragraph = text[text.index("- `python benchmarks/bench_solver.py` times") :]
    paragraph = paragraph[: paragraph.index("- `python benchmarks/bench_pruning_sweep.py`")]
    output = (paths.PROJECT_ROOT / "benchmarks" / "run_times" / "bench_solver.txt").read_text(encoding="utf-8")
    quoted = ["solve 303x", "solve 361x", "1673x the reference", "1738x the reference", "3.83e-12"]
    quoted += ["identical to solve's 300/300", "0.016544753", "0.016544064"]
    for number in quoted:
        assert number.removeprefix("solve ").split(" ")[0] in paragraph.replace(",", ""), number
        assert number in output, number


def test_every_relative_link_of_the_readme_and_its_pages_resolves():
    pages = [paths.PROJECT_ROOT / "README.md", *sorted((paths.PROJECT_ROOT / "docs").glob("*.md"))]
    broken = [
        (page.name, match[1])
        for page in pages
        for match in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
        if not match[1].startswith(("http://", "https://", "mailto:")) and not (page.parent / match[1]).exists()
    ]
    assert broken == []


def test_readme_outcome_numbers_follow_from_data():
    """Every number of the README's outcome paragraph, recomputed from data/claims.json."""
    text = " ".join((paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split())
    claims = {c["id"]: c for c in committed_claims()}
    c1a = claims["C1"]["parts"][0]["measured"]
    assert c1a["exact_violations"] == 0 and f"all {c1a['exact_checks']:,} exact checks" in text
    c2 = claims["C2"]["measured"]
    assert f"met at {100 * c2['bound_holding_share']:.1f} % of measured points" in text
    laplace = c2["laplace_weight_share"]
    assert f"only {100 * laplace['minilm']:.1f} % of MiniLM's and {100 * laplace['efficientnet_lite0']:.1f} %" in text
    beaten = [v["share_beating_better_extreme"] for v in claims["C3"]["parts"][1]["measured"]["by_model"].values()]
    assert f"at {100 * min(beaten):.1f} % to {100 * max(beaten):.1f} % of its feasible points" in text
    c4 = claims["C4"]["measured"]["by_model"]
    several = [m for m, v in c4.items() if v["binding_distinct_best_splits"] > 1]
    effnet = c4["efficientnet_lite0"]
    assert several == ["efficientnet_lite0"] and f"({effnet['binding_distinct_best_splits']}, an" in text
    assert f"interior one at {100 * effnet['binding_interior_share']:.1f} % of those points" in text
    l1 = claims["L1"]["measured"]["by_family"]
    for family, phrase in (("digits_mlp", "wins {} of {} usable"), ("text_encoder", "{} of {} for MPNet-base"),
                           ("efficientnet_lite", "{} of {} for EfficientNet-Lite2")):  # fmt: skip
        found = l1[family]
        assert phrase.format(found["won_by_largest"], found["usable_points"]).replace("  ", " ") in text, family
    regime = " ".join(claims["E1"]["operating_regime"])
    for model, shown in (("minilm", "MiniLM cosine"), ("efficientnet_lite0", "top-1 agreement"),
                         ("digits_cnn", "accuracy")):  # fmt: skip
        value = regime.split(f"{model}: at the default budgets the proposed design keeps ")[1].split(" (")[0]
        assert f"{shown} {value.split()[-1]}" in text, model
    d1 = claims["D1"]["measured"]["parts"]["D1b"]
    assert d1["best_splits"] == {"input": d1["grid_points"]} and f"at all {d1['grid_points']} grid points" in text
    e3 = claims["E3"]["measured"]
    assert e3["points_rd_bound_better"] == 0 and e3["better_objective"] == "magnitude"
    assert f"at {e3['points_magnitude_better']} of {e3['points_distinct']} points with distinct decisions" in text
    assert claims["M1"]["verdict"] == "holds" and "beats every baseline (M1, physical model)" in text
    nb09 = json.loads((paths.PROJECT_ROOT / "data" / "parameters_09_multi_user.json").read_text())
    assert nb09["system_model"] == "physical"
    paper = next(r for r in claims["C3"]["robustness"] if r["reading"].startswith("the paper's model"))
    assert paper["verdict"] == claims["C3"]["verdict"]
