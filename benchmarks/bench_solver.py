"""Benchmark the fast solvers against the cvxpy reference (model.md section 5).

One run times :func:`coinfer.optimise.solve`, :func:`coinfer.optimise.solve_batch`
(the whole batch, divided by N) and :func:`coinfer.optimise.solve_reference` side by
side on the same seeded random instances (:func:`coinfer.model.system.random_problem`:
workloads and budgets around the defaults of model.md section 7, including
infeasible ones and ones where both budgets bind). ``solve`` and ``solve_reference``
alternate instance by instance, and the batch is timed before, halfway through
and after that loop (the median of the three is used), so that load from other
processes hits all three alike. Times are wall clock and process CPU time (the
CPU time is immune to the process being descheduled on a shared machine).
It prints the median and total times, their ratios, the largest objective gaps
(batch vs solve, solve vs reference), status mismatches, how many of the
batch's answers equal solve's, and a split-selection sweep over
``--splits`` splits.

    python benchmarks/bench_solver.py            # 300 instances
    python benchmarks/bench_solver.py --n 100    # quicker
    python benchmarks/bench_solver.py --batch-sizes 1000,3000   # also solve_batch's throughput on larger batches
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from coinfer.model.system import evaluate, random_problem
from coinfer.optimise import select_split, solve, solve_batch, solve_reference

FIELDS = ("objective", "rho_device", "rho_server", "power", "f_device", "f_server")


def _timed(func, *args):
    """``(result, wall seconds, CPU seconds)``."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    return result, time.perf_counter() - start, time.process_time() - cpu


def _median_ratio(reference: list[float], fast: list[float]) -> float:
    """Median over instances of ``reference_i / fast_i`` (the issue quotes this measure too)."""
    return statistics.median(r / max(f, 1e-12) for r, f in zip(reference, fast, strict=True))


def _batch_gaps(problems, batch, fast) -> dict:
    """Largest gaps of solve_batch against solve: objective and decisions (relative), statuses, violations."""
    max_obj = max_dec = 0.0
    status, violations = [], 0
    for i, (problem, b, f) in enumerate(zip(problems, batch, fast, strict=True)):
        if b.status != f.status or b.reason != f.reason:
            status.append(i)
            continue
        if f.status != "optimal":
            continue
        for name in FIELDS:
            x, y = getattr(b, name), getattr(f, name)
            gap = abs(x - y) / max(abs(y), 1e-300) if abs(x - y) > 1e-12 else 0.0
            if name == "objective":
                max_obj = max(max_obj, gap)
            else:
                max_dec = max(max_dec, gap)
        violations += bool(evaluate(problem, b.decision, rtol=1e-9).violations)
    identical = sum(b == f for b, f in zip(batch, fast, strict=True))
    return {"batch_obj_gap": max_obj, "batch_decision_gap": max_dec, "batch_status": status,
            "batch_violations": violations, "batch_identical": identical}  # fmt: skip


def compare(n: int, seed: int, solver: str) -> dict:
    rng = np.random.default_rng(seed)
    problems = [random_problem(rng) for _ in range(n)]
    fast_times, ref_times, fast_cpu, ref_cpu, batch_wall, batch_cpu = [], [], [], [], [], []
    solutions = []
    max_rel = max_abs = 0.0
    mismatches, violations, statuses, outside, slowest = [], 0, {}, [], (0.0, -1)

    stats: dict[str, int] = {}

    def run_batch():
        result, wall, cpu = _timed(solve_batch, problems, stats)
        batch_wall.append(wall)
        batch_cpu.append(cpu)
        return result

    batch = run_batch()
    for i, problem in enumerate(problems):
        if i == n // 2:
            run_batch()
        fast, t_fast, c_fast = _timed(solve, problem)
        ref, t_ref, c_ref = _timed(solve_reference, problem, solver)
        solutions.append(fast)
        fast_times.append(t_fast)
        fast_cpu.append(c_fast)
        slowest = max(slowest, (t_fast, i))
        ref_times.append(t_ref)
        ref_cpu.append(c_ref)
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
    run_batch()
    fast_med, ref_med = statistics.median(fast_times), statistics.median(ref_times)
    batch_per = statistics.median(batch_wall) / n
    fast_cmed, ref_cmed = statistics.median(fast_cpu), statistics.median(ref_cpu)
    batch_cper = statistics.median(batch_cpu) / n
    return {
        "n": n,
        "fast_median_ms": fast_med * 1e3,
        "fast_total_ms": sum(fast_times) * 1e3,
        "reference_median_ms": ref_med * 1e3,
        "reference_total_ms": sum(ref_times) * 1e3,
        "batch_per_instance_ms": batch_per * 1e3,
        "speedup_median": ref_med / fast_med,
        "speedup_total": sum(ref_times) / sum(fast_times),
        "speedup_per_instance": _median_ratio(ref_times, fast_times),
        "batch_speedup_median": ref_med / batch_per,
        "batch_speedup_total": sum(ref_times) / (batch_per * n),
        "cpu": {
            "fast_median_ms": fast_cmed * 1e3,
            "fast_total_ms": sum(fast_cpu) * 1e3,
            "reference_median_ms": ref_cmed * 1e3,
            "reference_total_ms": sum(ref_cpu) * 1e3,
            "batch_per_instance_ms": batch_cper * 1e3,
            "speedup_median": ref_cmed / fast_cmed,
            "speedup_total": sum(ref_cpu) / sum(fast_cpu),
            "speedup_per_instance": _median_ratio(ref_cpu, fast_cpu),
            "batch_speedup_median": ref_cmed / batch_cper,
            "batch_speedup_total": sum(ref_cpu) / (batch_cper * n),
        },
        "batch_scalar": stats.get("scalar", 0),
        "batch_polish": stats.get("polish", 0),
        **_batch_gaps(problems, batch, solutions),
        "fast_max_ms": max(fast_times) * 1e3,
        "max_rel_gap": max_rel,
        "max_abs_gap": max_abs,
        "status_mismatches": mismatches,
        "outside_tolerance": outside,
        "slowest_instance": slowest[1],
        "fast_violations": violations,
        "statuses": statuses,
    }


def throughput(size: int, seed: int) -> float:
    """CPU milliseconds per instance of :func:`solve_batch` on ``size`` seeded random instances (best of 3)."""
    rng = np.random.default_rng(seed + 1)
    problems = [random_problem(rng) for _ in range(size)]
    return min(_timed(solve_batch, problems)[2] for _ in range(3)) / size * 1e3


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
    (best, _), t_fast, _ = _timed(select_split, problems)
    (best_ref, _), t_ref, _ = _timed(select_split, problems, solve_reference)
    solutions, t_batch, _ = _timed(solve_batch, problems)
    feasible = [(s.objective, i) for i, s in enumerate(solutions) if s.status == "optimal"]
    best_batch = min(feasible)[1] if feasible else None
    return {
        "splits": n_splits,
        "best_fast": best,
        "best_reference": best_ref,
        "best_batch": best_batch,
        "fast_ms": t_fast * 1e3,
        "reference_ms": t_ref * 1e3,
        "batch_ms": t_batch * 1e3,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of random instances (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--solver", default="CLARABEL", choices=("CLARABEL", "SCS"))
    parser.add_argument("--splits", type=int, default=20, help="splits in the selection sweep (default 20)")
    parser.add_argument(
        "--batch-sizes",
        default="",
        help="comma-separated batch sizes (e.g. 1000,3000) at which to time solve_batch alone (CPU time), "
        "against this run's reference median; default: none",
    )
    args = parser.parse_args(argv)
    result = compare(args.n, args.seed, args.solver)
    print(f"instances: {result['n']}  statuses (fast, reference): {result['statuses']}")
    for clock, r in (("wall", result), ("CPU", result["cpu"])):
        print(
            f"{clock} time per instance: solve median {r['fast_median_ms']:.4f} ms "
            f"(total {r['fast_total_ms']:.1f} ms), "
            f"solve_batch {r['batch_per_instance_ms']:.4f} ms (whole batch / N), solve_reference ({args.solver}) "
            f"median {r['reference_median_ms']:.2f} ms (total {r['reference_total_ms']:.0f} ms)"
        )
        print(
            f"  ratio to solve_reference: solve {r['speedup_median']:.0f}x at the median, {r['speedup_total']:.0f}x "
            f"in total, {r['speedup_per_instance']:.0f}x median of the per-instance ratios; "
            f"solve_batch {r['batch_speedup_median']:.0f}x at the median, {r['batch_speedup_total']:.0f}x in total"
        )
    print(f"slowest solve (wall) {result['fast_max_ms']:.2f} ms, instance {result['slowest_instance']}")
    print(
        f"solve vs reference: largest objective gap relative {result['max_rel_gap']:.3g} (objectives > 1e-9), "
        f"absolute {result['max_abs_gap']:.3g}; outside 1e-6 rel / 1e-9 abs: {len(result['outside_tolerance'])} "
        f"{result['outside_tolerance'][:20]}"
    )
    print(
        f"status mismatches: {len(result['status_mismatches'])} {result['status_mismatches'][:20]}; "
        f"fast decisions violating a constraint (rtol 1e-9): {result['fast_violations']}"
    )
    print(
        f"solve_batch vs solve: largest relative gap objective {result['batch_obj_gap']:.3g}, decisions "
        f"{result['batch_decision_gap']:.3g}; status/reason mismatches {len(result['batch_status'])} "
        f"{result['batch_status'][:20]}; violating decisions {result['batch_violations']}"
    )
    n = result["n"]
    print(
        f"solve_batch: answers identical to solve's {result['batch_identical']}/{n}; instances given to solve as "
        f"too few {result['batch_scalar']}/{n}; decisions the polish left outside a budget at rtol 0 (reported "
        f"through evaluate, as solve does) {result['batch_polish']}/{n}"
    )
    for size in [int(v) for v in args.batch_sizes.split(",") if v.strip()]:
        r = throughput(size, args.seed)
        ref = result["cpu"]["reference_median_ms"]
        print(
            f"solve_batch on {size} instances: {r:.4f} ms per instance (CPU, best of 3), "
            f"{ref / r:.0f}x the reference's CPU median of this run"
        )
    sw = sweep(args.splits, args.seed)
    print(
        f"split selection over {sw['splits']} splits: solve {sw['fast_ms']:.2f} ms, solve_batch {sw['batch_ms']:.2f} "
        f"ms, solve_reference {sw['reference_ms']:.0f} ms; best split {sw['best_fast']} (batch {sw['best_batch']}, "
        f"reference {sw['best_reference']})"
    )


if __name__ == "__main__":
    main()
