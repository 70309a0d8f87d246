"""The answers of every solver built on the one implementation, on seeded instances (test_optimise_kernel.py).

Run in the test process (compiled) and, with ``COINFER_JIT=0``, in a subprocess (plain Python):
``python tests/solver_answers.py OUT.pkl`` writes them with pickle, which keeps every float to the bit.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np

from coinfer import optimise as opt
from coinfer.model import system
from coinfer.model.system import Decision, random_problem
from coinfer.optimise import kernel
from coinfer.optimise.benchmarks import least_energy_resources

#: Seeded instances: enough that every status and every step of model.md section 5.3 occurs (the test checks).
SEED, COUNT = 20250601, 1000


def problems() -> list[system.Problem]:
    rng = np.random.default_rng(SEED)
    return [random_problem(rng) for _ in range(COUNT)]


def answers() -> dict[str, list]:
    """Every solver's answer (as plain tuples), the batch's step counts, and the model's evaluation of random
    decisions, on :func:`problems`."""
    ps = problems()
    out: dict[str, list] = {}
    stats: dict[str, int] = {}
    out["solve"] = [tuple(opt.solve(p).as_dict().values()) for p in ps]
    out["batch"] = [tuple(s.as_dict().values()) for s in opt.solve_batch(ps, stats)]
    out["stats"] = sorted(stats.items())
    default = kernel.JOINT_NEWTON_EVALUATIONS
    kernel.JOINT_NEWTON_EVALUATIONS = 0  # the nested roots answer wherever both budgets bind
    try:
        out["nested"] = [tuple(opt.solve(p).as_dict().values()) for p in ps]
    finally:
        kernel.JOINT_NEWTON_EVALUATIONS = default
    schemes = {
        "fixed_ratio": lambda p: opt.solve_fixed_ratio(p, min(0.5, p.rho_max)),
        "max_resources": opt.solve_max_resources,
        "decoupled": opt.solve_decoupled,
        "shared_ratio": opt.solve_shared_ratio,
        "quantised_4bit": lambda p: opt.solve_quantised(p, 4),
        "least_energy": lambda p: least_energy_resources(p, opt.solve(p)),
    }
    for name, scheme in schemes.items():
        out[name] = [tuple(scheme(p).as_dict().values()) for p in ps]
    out["split_then_prune"] = [
        (split, tuple(sol.as_dict().values()))
        for split, sol in (opt.solve_split_then_prune(ps[i : i + 5]) for i in range(0, COUNT, 5))
    ]
    rng = np.random.default_rng(SEED + 1)
    evaluations = []
    for p in ps:
        rho_d, rho_s, power, f_d, f_s = rng.uniform(0.0, 1.0, 5).tolist()
        d = Decision(rho_d * p.rho_max, rho_s * p.rho_max, power * p.p_max, f_d * p.f_device_max, f_s * p.f_server_max)
        ev = system.evaluate(p, d)
        # budgets just below the decision's latency and energy: the polish prunes a little more
        budgets = (min(max(ev.latency, 1e-30), 1e30) * 0.999, min(max(ev.energy, 1e-30), 1e30) * 0.999)
        tight = p.replace(latency_budget=budgets[0], energy_budget=budgets[1])
        terms = (ev.latency, ev.energy, ev.objective, tuple(ev.violations))
        distortions = (system.objective_value(p, 0.3, 0.6), system.unit_distortion(0.4, p.distortion_model, 8))
        evaluations.append((*terms, *distortions, tuple(system.canonical_values(p).items()), opt.polish(tight, d)))
    out["evaluate"] = evaluations
    return out


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as file:
        pickle.dump({"answers": answers(), "numba_imported": "numba" in sys.modules}, file)
