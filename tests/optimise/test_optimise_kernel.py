"""The solver written once (coinfer.base.jit, coinfer.model.arithmetic, coinfer.optimise.kernel): compiled, it gives the
answers the same functions give as plain Python (``COINFER_JIT=0``), to the bit; its floors agree with the conic
reference's own; and the ends of the distortion weights' range and an unbracketed step 4 are handled."""

from __future__ import annotations

import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import solver_answers

from coinfer.model import system
from coinfer.model.system import random_problem
from coinfer.optimise import fast, kernel, solve, solve_reference

TESTS = Path(__file__).parents[1]  # the folder of solver_answers.py


@pytest.fixture(scope="module")
def compiled_and_plain(tmp_path_factory):
    """:func:`solver_answers.answers` compiled (this process) and as plain Python (a subprocess, COINFER_JIT=0)."""
    out = tmp_path_factory.mktemp("plain") / "answers.pkl"
    env = {**os.environ, "COINFER_JIT": "0"}
    run = subprocess.run([sys.executable, str(TESTS / "solver_answers.py"), str(out)], env=env, capture_output=True)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    with open(out, "rb") as file:
        plain = pickle.load(file)
    return solver_answers.answers(), plain


def test_the_plain_python_run_compiles_nothing(compiled_and_plain):
    """With the switch off, numba is not even imported: every answer below comes from the Python functions."""
    _, plain = compiled_and_plain
    assert plain["numba_imported"] is False
    assert "numba" in sys.modules  # and this process runs the compiled ones


@pytest.mark.parametrize(
    "kind",
    ["solve", "batch", "nested", "fixed_ratio", "max_resources", "decoupled", "shared_ratio", "quantised_4bit",
     "least_energy", "split_then_prune", "evaluate"],
)  # fmt: skip
def test_compiled_answers_are_the_plain_python_ones(compiled_and_plain, kind):
    """Every solver and the model's evaluation give the same answers compiled and as plain Python, to the bit:
    the same source, the same IEEE operations (numba contracts no multiply-add without fastmath, and computes a
    float power by ``pow``, as Python does)."""
    compiled, plain = compiled_and_plain[0], compiled_and_plain[1]["answers"]
    assert len(compiled[kind]) > 0
    for i, (got, want) in enumerate(zip(compiled[kind], plain[kind], strict=True)):
        assert got == want, (kind, i, got, want)


def test_the_instances_exercise_every_status_and_step(compiled_and_plain):
    """The comparison covers both answers, every step of model.md section 5.3, the polish and the nested roots."""
    compiled, plain = compiled_and_plain[0], compiled_and_plain[1]["answers"]
    assert compiled["stats"] == plain["stats"]
    stats = dict(compiled["stats"])
    for step in ("at_floor", "least_distortion", "latency_only", "joint_newton", "nested_roots"):
        assert stats[step] >= 5, stats
    assert stats["polish"] >= 1  # a decision the polish could not bring within the budgets at rtol 0
    statuses = {answer[0] for answer in compiled["solve"]}
    assert {"optimal", "infeasible"} <= statuses
    assert sum(a != b for a, b in zip(compiled["solve"], compiled["nested"], strict=True)) >= 10  # step 4 differs


def floor_number(reason: str) -> float:
    """The floor's number in a reason, ``latency floor X s ...`` or ``energy floor X J ...``."""
    match = re.search(r"(latency|energy) floor ([0-9.eE+-]+) ", reason)
    assert match is not None, reason
    return float(match.group(2))


def test_floors_agree_with_the_conic_references_own():
    """Infeasible instances: the compiled floors (the latency at rho_max and maximum resources; the least energy
    there within the latency budget, a 1-D root in the price of time) are the ones the conic reference finds by
    itself (evaluate; its own conic solve of the least energy), to the conic solver's accuracy."""
    rng = np.random.default_rng(20250608)
    kinds = {"latency": 0, "energy": 0}
    while min(kinds.values()) < 6:
        problem = random_problem(rng)
        got = solve(problem)
        if got.status != "infeasible":
            continue
        reference = solve_reference(problem)
        assert reference.status == "infeasible", (problem, reference)
        kind = got.reason.split(" ")[0]
        assert reference.reason.split(": ")[-1].startswith(f"{kind} floor"), (got.reason, reference.reason)
        assert floor_number(reference.reason) == pytest.approx(floor_number(got.reason), rel=1e-6)
        kinds[kind] += 1


@pytest.mark.parametrize("scale", [1e-60, 1e60])
def test_distortion_weights_at_the_ends_of_their_range(scale):
    """Distortion weights 1e120 apart (scale_device at the ends of its allowed range): the ratio multiplier's
    bracket must hold both sides' roots. solve's answer is feasible and no worse than the conic reference's."""
    problem = system.make_problem(
        flops_device=2.87e7, flops_server=2.88e10, params_device=1.39e6, params_server=2.08e5, scale_device=scale,
        scale_server=0.0106, feature_bits=2.48e6, latency_budget=0.0976, energy_budget=11.46,
        distortion_model="magnitude", energy_scope="system", rho_max=0.364,
    )  # fmt: skip
    got, reference = solve(problem), solve_reference(problem)
    assert got.status == "optimal"
    assert system.evaluate(problem, got.decision, rtol=1e-9).violations == []
    assert reference.status != "optimal" or got.objective <= reference.objective * (1 + 1e-6)


def test_an_unbracketed_step_4_is_a_solver_error():
    """Where the nested roots find no price of time that brackets the energy budget (STEP4_FAILED), solve
    reports a solver error with a reason, never an optimum."""
    problem = random_problem(np.random.default_rng(9))
    answer = fast.solution_of(problem, kernel.STEP4_FAILED, (math.nan,) * kernel.OUT_WIDTH)
    assert answer.status == "solver_error" and answer.decision is None
    assert answer.reason is not None and "energy budget" in answer.reason
