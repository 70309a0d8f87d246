"""examples/*.yaml: each solves with ``python -m coinfer solve`` to the status its comment states."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from coinfer.base import paths
from coinfer.base.validation import read_yaml
from coinfer.model.system import Problem

EXAMPLES = paths.PROJECT_ROOT / "examples"
FILES = ("small_cnn.yaml", "minilm_middle_split.yaml", "llama_7b_decoder.yaml", "minilm_physical.yaml")
WORKLOAD = ("flops_device", "flops_server", "params_device", "params_server", "feature_bits")


def stated(path: Path, pattern: str) -> re.Match:
    match = re.search(pattern, path.read_text(encoding="utf-8"))
    assert match is not None, f"{path.name}: no comment matching {pattern!r}"
    return match


def test_the_examples_are_there():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(FILES)


@pytest.mark.parametrize("name", FILES)
def test_example_solves_to_the_status_its_comment_states(name):
    path = EXAMPLES / name
    expected = stated(path, r"# Expected answer: status (optimal|infeasible)").group(1)
    done = subprocess.run(
        [sys.executable, "-m", "coinfer", "solve", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == expected
    if expected == "infeasible":
        assert answer["reason"] and "exceeds" in answer["reason"]
        floor = stated(path, r'"(latency|energy) floor ([0-9.]+) s')
        found = re.match(rf"{floor.group(1)} floor ([0-9.e+-]+) ", answer["reason"])
        assert found is not None and float(found.group(1)) == pytest.approx(float(floor.group(2)), rel=2e-3)
    else:
        assert answer["reason"] is None and answer["objective"] > 0


def test_one_example_is_optimal_and_one_infeasible():
    statuses = {stated(EXAMPLES / n, r"# Expected answer: status (\w+)").group(1) for n in FILES}
    assert statuses == {"optimal", "infeasible"}


@pytest.mark.parametrize("name", FILES)
def test_example_workload_is_the_profile_row_it_cites(name):
    path = EXAMPLES / name
    row = stated(path, r"row model=(\w+), split=(\d+)")
    profiles = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    chosen = profiles[(profiles["model"] == row.group(1)) & (profiles["split"] == int(row.group(2)))]
    assert len(chosen) == 1
    values = read_yaml(path, "file")
    for field in WORKLOAD + ("scale_device", "scale_server"):
        assert values[field] == pytest.approx(float(chosen[field].iloc[0]), rel=5e-3), field
    for field in ("flops_device_fixed", "flops_server_fixed"):
        expected = float(chosen[field].iloc[0]) if field in chosen.columns else 0.0
        assert values.get(field, 0.0) == pytest.approx(expected, rel=5e-3), field
    # a middle split: both sides do work
    assert 0 < int(row.group(2)) < profiles.loc[profiles["model"] == row.group(1), "split"].max()
    Problem.from_yaml(path)


@pytest.mark.parametrize("name", FILES)
def test_example_comments_state_units_and_omitted_defaults(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert "Units" in text and "Omitted, so they take the defaults" in text
    given = set(read_yaml(EXAMPLES / name, "file"))
    omitted = [f for f in Problem.fields() if f not in given]
    # "f_*_max" in a comment names f_device_max and f_server_max
    prose = re.sub(r"(\w*)_\*(\w*)", lambda m: f"{m[1]}_device{m[2]} {m[1]}_server{m[2]}", text)
    prose = prose.replace("sparse_device sparse_server", "sparse_efficiency_device sparse_efficiency_server "
                          "sparse_overhead_device sparse_overhead_server")  # fmt: skip
    missing = [f for f in omitted if f not in prose]
    assert missing == [], f"{name}: omitted fields not named in the comment: {missing}"


def test_problem_file_page_shows_the_real_answer_of_the_minilm_example(capsys):
    from coinfer.pipeline.cli import main

    section = (paths.PROJECT_ROOT / "docs" / "problem_files.md").read_text(encoding="utf-8")
    shown = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    assert main(["solve", str(EXAMPLES / "minilm_middle_split.yaml")]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(shown) == set(answer) and shown["status"] == answer["status"]
    for key in ("objective", "latency", "energy"):
        assert shown[key] == pytest.approx(answer[key], rel=1e-6), key


def test_own_model_recipe_runs_and_its_problem_command_works(tmp_path, monkeypatch, capsys):
    # issue 26.4: the own-model recipe (docs/own_models.md), as a new user would paste it, then its shell lines
    from coinfer.pipeline.cli import main

    page = (paths.PROJECT_ROOT / "docs" / "own_models.md").read_text(encoding="utf-8")
    section = page[page.index("profile your own split model") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README own-model recipe", "exec"), namespace)
    assert namespace["solutions"][namespace["best"]].status == "optimal"
    assert set(namespace["table"]["weights"]) == {"user"}
    monkeypatch.chdir(tmp_path)
    namespace["table"].to_csv("mine.csv", index=False)
    capsys.readouterr()  # the recipe's own print
    shell = re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines()
    for line in shell:
        assert line.startswith("python -m coinfer ")
        assert main(line.split()[3:]) == 0, line
    answer = json.loads(capsys.readouterr().out)  # the solve of the written problem file
    assert answer["status"] == "optimal" and {"t_device", "t_tx", "t_server"} <= set(answer)
