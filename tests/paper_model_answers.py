"""Digests of every solver's answers on seeded instances of the paper's model (tests/optimise/test_paper_model.py).

The physical model (model.md section 2.7) at its zero values is the paper's model, and the solvers must give
the answers they gave before the physical model existed, to the bit. This script computes, on seeded random
instances of the paper's model (``random_problem(rng)``, drawn exactly as before), every solver's answer as the
``repr`` of its fields (exact for floats) and one SHA-256 digest per chunk of instances. It runs on the code of
any commit: ``python tests/paper_model_answers.py OUT.json`` with that commit's ``lib`` on ``PYTHONPATH`` wrote
``tests/optimise/paper_model_digests.json`` from main at 217693d, before the physical model; the test computes
the same digests on the current code and compares them.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from coinfer import optimise as opt
from coinfer.model import system
from coinfer.model.system import Decision, random_problem
from coinfer.optimise import kernel
from coinfer.optimise.benchmarks import least_energy_resources

SEED = 20250701
#: Instances per kind of answer (the chunks are CHUNK instances each).
COUNTS = {
    "solve": 20000,
    "batch": 20000,
    "evaluate": 20000,
    "nested": 5000,
    "fixed_ratio": 5000,
    "max_resources": 5000,
    "decoupled": 5000,
    "shared_ratio": 5000,
    "quantised_4bit": 5000,
    "quantised_8bit": 5000,
    "least_energy": 5000,
    "split_then_prune": 5000,
    "polish": 5000,
    "reference": 300,
    "local": 100,
}
CHUNK = 1000
#: The answer's fields before the physical model (later fields, such as the breakdown, are not compared).
FIELDS = ("status", "rho_device", "rho_server", "power", "f_device", "f_server", "objective", "latency", "energy",
          "reason")  # fmt: skip
EVALUATION = ("latency", "energy", "objective", "t_device", "t_tx", "t_server", "energy_device", "energy_tx",
              "energy_server", "violations")  # fmt: skip


def problems(count: int) -> list[system.Problem]:
    rng = np.random.default_rng(SEED)
    return [random_problem(rng) for _ in range(count)]


def shown(solution) -> str:
    return repr(tuple(getattr(solution, name) for name in FIELDS))


def texts(kind: str, ps: list[system.Problem]) -> list[str]:
    """One line per instance: the answer of ``kind`` for each problem."""
    if kind == "solve":
        return [shown(opt.solve(p)) for p in ps]
    if kind == "batch":
        return [shown(s) for s in opt.solve_batch(ps)]
    if kind == "nested":
        default = kernel.JOINT_NEWTON_EVALUATIONS
        kernel.JOINT_NEWTON_EVALUATIONS = 0  # the nested roots answer wherever both budgets bind
        try:
            return [shown(opt.solve(p)) for p in ps]
        finally:
            kernel.JOINT_NEWTON_EVALUATIONS = default
    if kind == "split_then_prune":
        return [
            repr((split, shown(sol)))
            for split, sol in (opt.solve_split_then_prune(ps[i : i + 5]) for i in range(0, len(ps), 5))
        ]
    if kind == "evaluate" or kind == "polish":
        rng = np.random.default_rng(SEED + 1)
        lines = []
        for p in ps:
            rho_d, rho_s, power, f_d, f_s = rng.uniform(0.0, 1.0, 5).tolist()
            d = Decision(rho_d * p.rho_max, rho_s * p.rho_max, power * p.p_max, f_d * p.f_device_max,
                         f_s * p.f_server_max)  # fmt: skip
            ev = system.evaluate(p, d)
            if kind == "evaluate":
                lines.append(repr(tuple(getattr(ev, name) for name in EVALUATION)))
                continue
            budgets = (min(max(ev.latency, 1e-30), 1e30) * 0.999, min(max(ev.energy, 1e-30), 1e30) * 0.999)
            lines.append(repr(opt.polish(p.replace(latency_budget=budgets[0], energy_budget=budgets[1]), d)))
        return lines
    schemes = {
        "fixed_ratio": lambda p: opt.solve_fixed_ratio(p, min(0.5, p.rho_max)),
        "max_resources": opt.solve_max_resources,
        "decoupled": opt.solve_decoupled,
        "shared_ratio": opt.solve_shared_ratio,
        "quantised_4bit": lambda p: opt.solve_quantised(p, 4),
        "quantised_8bit": lambda p: opt.solve_quantised(p, 8),
        "least_energy": lambda p: least_energy_resources(p, opt.solve(p)),
        "reference": opt.solve_reference,
        "local": lambda p: opt.solve_local(p, n_starts=2, seed=3),
    }
    return [shown(schemes[kind](p)) for p in ps]


def digests_of(kind: str, count: int) -> str:
    """The digest of the answers of ``kind`` on the first ``count`` instances (one chunk's digest)."""
    return hashlib.sha256("\n".join(texts(kind, problems(count))).encode()).hexdigest()


def digests(kinds=tuple(COUNTS)) -> dict[str, list[str]]:
    """Kind -> one SHA-256 digest per chunk of :data:`CHUNK` instances (the first ``COUNTS[kind]`` instances)."""
    everything = problems(max(COUNTS[kind] for kind in kinds))
    out = {}
    for kind in kinds:
        lines = texts(kind, everything[: COUNTS[kind]])
        out[kind] = [
            hashlib.sha256("\n".join(lines[i : i + CHUNK]).encode()).hexdigest() for i in range(0, len(lines), CHUNK)
        ]
    return out


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as file:
        json.dump({"seed": SEED, "chunk": CHUNK, "counts": COUNTS, "digests": digests()}, file, indent=1)
        file.write("\n")
