"""solve_batch (model.md section 5.3) gives solve's answers: statuses, reasons, objectives and decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from workloads import WORKLOAD

from coinfer import optimise as opt
from coinfer.model.arithmetic import problem_row
from coinfer.model.system import evaluate, make_problem, problems_for_splits, random_problem
from coinfer.optimise import batch, kernel
from coinfer.optimise.blocks import Blocks

FIELDS = ("objective", "rho_device", "rho_server", "power", "f_device", "f_server", "latency", "energy")


@pytest.fixture(autouse=True)
def compiled(monkeypatch):
    """Every batch here runs the compiled steps over its rows, however small (by default batches of fewer than
    SCALAR_BELOW problems go to solve one by one; see test_small_batches_use_solve)."""
    monkeypatch.setattr(batch, "SCALAR_BELOW", 0)


def check_same(problems, batch):
    """solve_batch's answers are solve's exactly (the same compiled steps on the same rows), and feasible."""
    assert len(batch) == len(problems)
    for i, (problem, got) in enumerate(zip(problems, batch, strict=True)):
        assert got == opt.solve(problem), (i, problem)
        if got.status == "optimal":
            assert evaluate(problem, got.decision, rtol=1e-9).violations == [], (i, problem, got)


def test_batch_matches_solve_on_random_instances():
    rng = np.random.default_rng(20250601)
    problems = [random_problem(rng) for _ in range(1000)]
    stats: dict[str, int] = {}
    batch = opt.solve_batch(problems, stats)
    check_same(problems, batch)
    # The instances must exercise every execution model, fixed FLOPs, shared ratios, empty sides,
    # the device energy scope, both answers, and every step of model.md section 5.3.
    optimal = [p for p, s in zip(problems, batch, strict=True) if s.status == "optimal"]
    kinds = {
        "ideal": sum(p.compute_model == "ideal" for p in optimal),
        "dense": sum(p.compute_model == "dense" for p in optimal),
        "sparse": sum(p.compute_model == "sparse" for p in optimal),
        "fixed_flops": sum(p.flops_device_fixed + p.flops_server_fixed > 0 for p in optimal),
        "shared": sum(p.shared_ratio for p in optimal),
        "no_device_flops": sum(p.flops_device == 0 for p in optimal),
        "no_server_flops": sum(p.flops_server == 0 for p in optimal),
        "nothing_sent": sum(p.feature_bits == 0 for p in optimal),
        "device_scope": sum(p.energy_scope == "device" for p in optimal),
        "magnitude": sum(p.distortion_model == "magnitude" for p in optimal),
        "infeasible": sum(s.status == "infeasible" for s in batch),
        **{step: stats[step] for step in batch_steps()},
    }
    assert min(kinds.values()) >= 10, kinds
    assert stats["scalar"] == 0
    assert stats["polish"] >= 1  # decisions the polish could not bring within the budgets are reported as solve does


def batch_steps() -> list[str]:
    return ["at_floor", "least_distortion", "latency_only", "joint_newton", "nested_roots"]


def test_rows_over_arrays_are_solves_rows():
    """batch._rows builds, over arrays, exactly the rows problem_row builds one problem at a time."""
    rng = np.random.default_rng(20250605)
    problems = [random_problem(rng) for _ in range(300)]
    rows, table, keys, logits = batch._rows(problems)
    for i, problem in enumerate(problems):
        assert rows[i].tobytes() == problem_row(problem).tobytes(), (i, problem)
        table_keys, table_logits = kernel.slope_table(problem.bits_per_weight)
        assert np.array_equal(keys[table[i]], table_keys) and np.array_equal(logits[table[i]], table_logits)


def test_batch_of_the_splits_of_one_model():
    # A synthetic 6-block model: work and parameters move from the server to the device with the split.
    splits = np.arange(7)
    profile = pd.DataFrame(
        {
            "model": "synthetic",
            "split": splits,
            "flops_device": 3e9 * splits,
            "flops_server": 3e9 * (6 - splits),
            "params_device": 2e6 * splits,
            "params_server": 2e6 * (6 - splits),
            "scale_device": [np.nan, 0.03, 0.031, 0.032, 0.03, 0.029, 0.03],
            "scale_server": [0.03, 0.03, 0.029, 0.028, 0.03, 0.031, np.nan],
            "feature_bits": [1.2e6, 8e5, 8e5, 4e5, 4e5, 2e5, 0.0],
        }
    )
    problems = []
    for latency, energy in ((0.05, 0.02), (0.2, 0.5), (0.01, 0.01), (1.0, 0.001), (100.0, 100.0)):
        for model in ("rd_bound", "magnitude"):
            problems += problems_for_splits(
                profile, latency_budget=latency, energy_budget=energy, distortion_model=model
            )
    batch = opt.solve_batch(problems)
    check_same(problems, batch)
    statuses = {s.status for s in batch}
    assert statuses == {"optimal", "infeasible"}


@pytest.mark.parametrize("model", ["rd_bound", "magnitude"])
def test_batch_on_degenerate_and_edge_cases(model):
    base = make_problem(**WORKLOAD, distortion_model=model)
    changes = [
        dict(flops_device=0.0, params_device=0.0),
        dict(flops_server=0.0, params_server=0.0, feature_bits=0.0),
        dict(feature_bits=0.0),
        dict(flops_device=0.0),
        dict(params_server=0.0),
        dict(energy_scope="device"),
        dict(shared_ratio=True),
        dict(shared_ratio=True, energy_scope="device"),
        dict(rho_max=0.0),
        dict(bits_per_weight=1),
        dict(bits_per_weight=64),
        dict(latency_budget=100.0, energy_budget=100.0),
        dict(energy_budget=100.0),
        dict(latency_budget=10.0, energy_budget=0.002),
        dict(latency_budget=1e-4),
        dict(energy_budget=1e-6),
        dict(compute_model="dense"),
        dict(compute_model="sparse", sparse_efficiency_device=0.5, sparse_overhead_server=1e8),
        dict(flops_device_fixed=5e8, flops_server_fixed=1e9),
        dict(latency_budget=1e50, energy_budget=1e50),
    ]
    problems = [base.replace(**c) for c in changes]
    check_same(problems, opt.solve_batch(problems))


def test_answers_do_not_depend_on_the_rest_of_the_batch():
    rng = np.random.default_rng(7)
    problems = [random_problem(rng) for _ in range(40)]
    together = opt.solve_batch(problems)
    alone = [opt.solve_batch([p])[0] for p in problems]
    reordered = opt.solve_batch(problems[::-1])[::-1]
    assert together == alone == reordered


def test_a_problem_the_compiled_steps_cannot_divide_fails_alone(monkeypatch):
    """A division by zero inside the compiled loop (absurd but valid numbers) would abort the whole batch: the
    batch is then solved problem by problem, so the error is that problem's own, as solve raises it."""
    rng = np.random.default_rng(8)
    problems = [random_problem(rng) for _ in range(20)]

    def divide_by_zero(*args):
        raise ZeroDivisionError("division by zero")

    solved = []
    monkeypatch.setattr(batch.kernel, "solve_rows", divide_by_zero)
    monkeypatch.setattr(batch, "solve", lambda p: solved.append(p) or opt.solve(p))
    assert opt.solve_batch(problems) == [opt.solve(p) for p in problems]
    assert solved == problems


def test_batch_joint_newton_and_the_nested_roots(monkeypatch):
    """The compiled joint 2-D Newton agrees with solve; with no evaluation allowed it gives up at once, and the
    compiled nested roots (solve's fallback) give the same answers."""
    rng = np.random.default_rng(20250602)
    problems = [random_problem(rng) for _ in range(300)]
    stats: dict[str, int] = {}
    check_same(problems, opt.solve_batch(problems, stats))
    assert stats["joint_newton"] >= 30
    monkeypatch.setattr(kernel, "JOINT_NEWTON_EVALUATIONS", 0)
    forced: dict[str, int] = {}
    check_same(problems, opt.solve_batch(problems, forced))
    assert forced["joint_newton"] == 0
    assert forced["nested_roots"] == stats["nested_roots"] + stats["joint_newton"]


def test_small_batches_use_solve(monkeypatch):
    """Below SCALAR_BELOW problems the batch is solve's answers themselves; from it on, compiled steps."""
    rng = np.random.default_rng(20250603)
    problems = [random_problem(rng) for _ in range(120)]
    monkeypatch.setattr(batch, "SCALAR_BELOW", 121)
    stats: dict[str, int] = {}
    assert opt.solve_batch(problems, stats) == [opt.solve(p) for p in problems]
    assert stats["scalar"] == len(problems) and sum(stats[step] for step in batch_steps()) == 0
    monkeypatch.setattr(batch, "SCALAR_BELOW", 120)
    compiled: dict[str, int] = {}
    check_same(problems, opt.solve_batch(problems, compiled))
    assert compiled["scalar"] == 0 and sum(compiled[step] for step in batch_steps()) > 0


def test_reasons_name_the_floors_of_the_building_blocks():
    """Infeasible answers name the floor that breaks its budget, with the numbers of the building blocks: the latency
    at the floor's ratios and maximum resources, and the least energy there within the latency budget."""
    rng = np.random.default_rng(20250604)
    problems = [random_problem(rng) for _ in range(300)]
    answers = opt.solve_batch(problems)
    check_same(problems, answers)
    infeasible = [(p, a) for p, a in zip(problems, answers, strict=True) if a.status == "infeasible"]
    assert len(infeasible) >= 30
    assert {a.reason.split(" ")[0] for _, a in infeasible} == {"latency", "energy"}
    for problem, answer in infeasible:
        m = Blocks(problem)
        floor_t = m.time(m.rho_top, m.max_resources())
        if answer.reason.startswith("latency"):
            assert floor_t > m.T0 and answer.reason.startswith(f"latency floor {floor_t:.10g} s"), (problem, answer)
        else:
            e_min = m.min_energy(m.rho_top)[0]
            assert floor_t <= m.T0 * (1 + 1e-12) and e_min > m.E0, (problem, answer)
            assert answer.reason.startswith(f"energy floor {e_min:.10g} J"), (problem, answer)


def test_empty_batch():
    assert opt.solve_batch([]) == []
