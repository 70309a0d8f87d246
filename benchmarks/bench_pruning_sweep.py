"""Sort-once ratio sweep vs pruning each ratio from scratch, on MiniLM's prunable weights.

Usage (from the project root, environment active)::

    python benchmarks/bench_pruning_sweep.py [--model minilm] [--ratios 20] [--repeats 1]

Both paths produce identical pruned weights (checked here on every ratio, and
in tests/nets/test_pruning_models.py); the sweep sorts all magnitudes once (one
global order over the whole model) and answers each ratio with one
comparison per weight, while from scratch every ratio sorts again. Prints
the wall time of each path and the speed-up. Timings go to stdout only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from coinfer.model.pruning import MagnitudeSweep, magnitude_masks, prune_weights
from coinfer.nets.split import part_weights
from coinfer.nets.zoo import load_model


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm", help="zoo model name (default: minilm)")
    parser.add_argument("--ratios", type=int, default=20, help="number of ratios in [0, 0.99] (default: 20)")
    parser.add_argument("--repeats", type=int, default=1, help="repeat each path, keep the fastest (default: 1)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    weights = part_weights(load_model(args.model), "all")
    n = sum(w.numel() for w in weights.values())
    ratios = np.linspace(0.0, 0.99, args.ratios)
    print(
        f"{args.model}: {len(weights)} prunable layers, {n:,} weights; {len(ratios)} ratios in [0, 0.99]; "
        f"{torch.get_num_threads()} threads"
    )

    def scratch_masks() -> list:
        return [magnitude_masks(weights, r) for r in ratios]

    def sweep_masks() -> list:
        sweep = MagnitudeSweep(weights)
        return [sweep.masks(r) for r in ratios]

    def scratch_pruned() -> None:
        for r in ratios:
            prune_weights(weights, r)

    def sweep_pruned() -> None:
        sweep = MagnitudeSweep(weights)
        for r in ratios:
            sweep.pruned(r)

    rows = []
    for label, slow, fast in (
        ("masks only", scratch_masks, sweep_masks),
        ("pruned copies", scratch_pruned, sweep_pruned),
    ):
        t_slow = min(_timed(slow)[0] for _ in range(args.repeats))
        t_fast = min(_timed(fast)[0] for _ in range(args.repeats))
        rows.append((label, t_slow, t_fast))

    # the two paths must agree, or the comparison is meaningless
    sweep = MagnitudeSweep(weights)
    for r in ratios[:: max(1, len(ratios) // 5)]:
        a, b = sweep.masks(r), magnitude_masks(weights, r)
        assert all(torch.equal(a[k], b[k]) for k in a), f"sweep and scratch differ at ratio {r}"

    print(f"{'what':<15}{'from scratch [s]':>18}{'sort-once sweep [s]':>22}{'speed-up':>10}")
    for label, t_slow, t_fast in rows:
        print(f"{label:<15}{t_slow:>18.2f}{t_fast:>22.2f}{t_slow / t_fast:>9.1f}x")


if __name__ == "__main__":
    main()
