"""Benchmark the fast solver against the cvxpy reference (model.md section 5).

One run times :func:`coinfer.optimise.solve` and
:func:`coinfer.optimise.solve_reference` on the same seeded random instances
(:func:`coinfer.system.random_problem`: workloads and budgets around the
model.md section 7 defaults, including infeasible ones), prints the median time of each,
their ratio, the largest objective gaps and any status mismatch, and times a
split-selection sweep over ``--splits`` splits.

    python benchmarks/bench_solver.py            # 1000 instances
    python benchmarks/bench_solver.py --n 100    # quicker
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from coinfer.optimise import select_split, solve, solve_reference
from coinfer.system import evaluate, random_problem


def _timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def compare(n: int, seed: int, solver: str) -> dict:
    rng = np.random.default_rng(seed)
    fast_times, ref_times = [], []
    max_rel = max_abs = 0.0
    mismatches, violations, statuses, outside, slowest = [], 0, {}, [], (0.0, -1)
    for i in range(n):
        problem = random_problem(rng)
        fast, t_fast = _timed(solve, problem)
        ref, t_ref = _timed(solve_reference, problem, solver)
        fast_times.append(t_fast)
        slowest = max(slowest, (t_fast, i))
        ref_times.append(t_ref)
        statuses[(fast.status, ref.status)] = statuses.get((fast.status, ref.status), 0) + 1
        if fast.status != ref.status:
            mismatches.append(i)
            continue
        if fast.status == "optimal":
            gap = abs(fast.objective - ref.objective)
            max_abs = max(max_abs, gap)
            if abs(ref.objective) > 1e-9:  # relative gaps of near-zero objectives mean nothing
                max_rel = max(max_rel, gap / abs(ref.objective))
            if gap > max(1e-6 * abs(ref.objective), 1e-9):
                outside.append(i)
            violations += bool(evaluate(problem, fast.decision, rtol=1e-9).violations)
    fast_med, ref_med = statistics.median(fast_times), statistics.median(ref_times)
    return {
        "n": n,
        "fast_median_ms": fast_med * 1e3,
        "reference_median_ms": ref_med * 1e3,
        "speedup_median": ref_med / fast_med,
        "speedup_total": sum(ref_times) / sum(fast_times),
        "fast_max_ms": max(fast_times) * 1e3,
        "max_rel_gap": max_rel,
        "max_abs_gap": max_abs,
        "status_mismatches": mismatches,
        "outside_tolerance": outside,
        "slowest_instance": slowest[1],
        "fast_violations": violations,
        "statuses": statuses,
    }


def sweep(n_splits: int, seed: int) -> dict:
    """Split selection over ``n_splits`` splits of a synthetic model (work shifts from server to device)."""
    rng = np.random.default_rng(seed)
    base = random_problem(rng)
    total_flops, total_params = 2e10, 2e7
    problems = []
    for s in range(n_splits):
        share = s / (n_splits - 1)
        problems.append(
            base.replace(
                flops_device=total_flops * share,
                flops_server=total_flops * (1 - share),
                params_device=total_params * share,
                params_server=total_params * (1 - share),
                feature_bits=0.0 if s == n_splits - 1 else float(rng.uniform(1e5, 5e6)),
                latency_budget=0.15,
                energy_budget=0.5,
                energy_scope="system",
            )
        )
    (best, _), t_fast = _timed(select_split, problems)
    (best_ref, _), t_ref = _timed(select_split, problems, solve_reference)
    return {
        "splits": n_splits,
        "best_fast": best,
        "best_reference": best_ref,
        "fast_ms": t_fast * 1e3,
        "reference_ms": t_ref * 1e3,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of random instances (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--solver", default="CLARABEL", choices=("CLARABEL", "SCS"))
    parser.add_argument("--splits", type=int, default=20, help="splits in the selection sweep (default 20)")
    args = parser.parse_args(argv)
    result = compare(args.n, args.seed, args.solver)
    print(f"instances: {result['n']}  statuses (fast, reference): {result['statuses']}")
    print(
        f"median time: solve {result['fast_median_ms']:.3f} ms, solve_reference ({args.solver}) "
        f"{result['reference_median_ms']:.1f} ms, ratio {result['speedup_median']:.0f}x "
        f"(total-time ratio {result['speedup_total']:.0f}x; slowest solve {result['fast_max_ms']:.2f} ms, "
        f"instance {result['slowest_instance']})"
    )
    print(
        f"largest objective gap: relative {result['max_rel_gap']:.3g} (objectives > 1e-9), absolute "
        f"{result['max_abs_gap']:.3g}; outside 1e-6 rel / 1e-9 abs: {len(result['outside_tolerance'])} "
        f"{result['outside_tolerance'][:20]}"
    )
    print(
        f"status mismatches: {len(result['status_mismatches'])} {result['status_mismatches'][:20]}; "
        f"fast decisions violating a constraint (rtol 1e-9): {result['fast_violations']}"
    )
    sw = sweep(args.splits, args.seed)
    print(
        f"split selection over {sw['splits']} splits: solve {sw['fast_ms']:.2f} ms, solve_reference "
        f"{sw['reference_ms']:.0f} ms; best split {sw['best_fast']} (reference {sw['best_reference']})"
    )


if __name__ == "__main__":
    main()
