"""Benchmark :func:`coinfer.optimise.solve_multiuser` (model.md section 13) and its independent check.

Populations are those of notebook 09_multi_user in the paper's model (the model of the certificate; the sizes of
``--physical-sizes`` also in the physical model, model.md 13.1) (real profiles of ``data/profiles.csv``, every split
of a model a candidate, seeded distances and fading, budgets by task;
``coinfer.studies.multi_user.draw_population``). Each size is solved ``--repeats`` times (wall clock and process CPU
time; the median is reported, since other processes share the machine), with the certificate, as by default (the
baselines solved and their designs as starts, model.md 13.4) and the search alone (``baselines=False``). The
independent check (:func:`coinfer.optimise.solve_multiuser_local`, SLSQP from many starts) is timed beside it on the
sizes it can do: each small population restricted to the splits the joint design chose, and on
``random_multiuser_problem`` instances with one split per user, where both solve the same problem; the objectives
are compared.

    python benchmarks/bench_multiuser.py                 # sizes 1, 10, 100, 300, 1000
    python benchmarks/bench_multiuser.py --sizes 1000 --repeats 7
    python benchmarks/bench_multiuser.py --physical-sizes ''   # the paper's model only
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from coinfer.base import paths
from coinfer.base.threads import blas_threads
from coinfer.optimise import random_multiuser_problem, solve_multiuser, solve_multiuser_local
from coinfer.studies import multi_user


def _timed(func, *args, **kwargs):
    """``(result, wall seconds, CPU seconds)``."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100,300,1000", help="population sizes K (comma separated)")
    parser.add_argument("--repeats", type=int, default=5, help="timed solves per size (median reported)")
    parser.add_argument("--check-sizes", default="1,2,3,4", help="sizes also solved by the independent check")
    parser.add_argument("--physical-sizes", default="10,100,1000",
                        help="sizes also solved in the physical model (its own bound, model.md 13.5)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    profile = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    base = multi_user.base_problems(profile, list(multi_user.MODELS), "paper")
    solve_multiuser(multi_user.draw_population(base, 2, np.random.default_rng(0), "normalised")[0])  # warm up
    print("solve_multiuser on notebook 09's populations (weighting normalised), median of "
          f"{args.repeats} solves; wall and CPU seconds")  # fmt: skip
    physical = multi_user.base_problems(profile, list(multi_user.MODELS), "physical")
    runs = [("paper", base, k) for k in [int(x) for x in args.sizes.split(",")]]
    runs += [("physical", physical, int(x)) for x in args.physical_sizes.split(",") if x]
    with blas_threads():
        for model, bases, k in runs:
            problem, _ = multi_user.draw_population(bases, k, np.random.default_rng([args.seed, k]), "normalised")
            walls, cpus, walls_nc, cpus_nc = [], [], [], []
            answer = None
            for _ in range(args.repeats):
                answer, wall, cpu = _timed(solve_multiuser, problem)
                walls.append(wall)
                cpus.append(cpu)
                _, wall, cpu = _timed(solve_multiuser, problem, baselines=False)
                walls_nc.append(wall)
                cpus_nc.append(cpu)
            served = sum(1 for u in answer.users if u.f_server is not None)
            gap = answer.relative_gap if answer.relative_gap is not None else float("nan")
            print(
                f"{model:8s} K={k:5d}: {statistics.median(walls):.3f} s wall ({statistics.median(cpus):.3f} s CPU) "
                f"with the baselines' starts, {statistics.median(walls_nc):.3f} s wall "
                f"({statistics.median(cpus_nc):.3f} s CPU) the search alone; status {answer.status}, "
                f"relative gap {gap:.2e}, "
                f"{served} users on the server, candidates {sum(len(u.splits) for u in problem.users)}"
            )
        print("\nthe independent check beside it (one solve each; the check: SLSQP, 8 starts per assignment)")
        for k in [int(x) for x in args.check_sizes.split(",")]:
            problem, _ = multi_user.draw_population(base, k, np.random.default_rng([args.seed, k]), "normalised")
            mine, wall, _ = _timed(solve_multiuser, problem)
            chosen = problem.restrict_splits([u.split for u in mine.users])
            local, wall_local, _ = _timed(solve_multiuser_local, chosen, starts=8, seed=args.seed)
            rel = (mine.objective - local.objective) / abs(local.objective)
            print(f"K={k}: notebook population, the chosen splits: solve_multiuser {wall:.3f} s, check "
                  f"{wall_local:.1f} s ({wall_local / wall:.0f}x); objectives {mine.objective:.10g} and "
                  f"{local.objective:.10g}, (joint - check) / check = {rel:.2e}")  # fmt: skip
            random = random_multiuser_problem(np.random.default_rng([args.seed, 100 + k]), k)
            mine, wall, _ = _timed(solve_multiuser, random)
            local, wall_local, _ = _timed(solve_multiuser_local, random, starts=8, seed=args.seed)
            if mine.objective is None or local.objective is None:
                print(f"K={k}: random instance: {mine.status} / {local.status}")
                continue
            rel = (mine.objective - local.objective) / abs(local.objective)
            print(f"K={k}: random instance: solve_multiuser {wall:.3f} s ({mine.status}, gap "
                  f"{mine.relative_gap if mine.relative_gap is not None else float('nan'):.1e}), check "
                  f"{wall_local:.1f} s ({wall_local / wall:.0f}x); (joint - check) / check = {rel:.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
