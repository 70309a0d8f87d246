"""Sweeps give the same tables whatever the backend and the number of workers (coinfer.parallel)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coinfer import parallel, paths, sweeps
from coinfer.validation import ParameterError


def square(x: int) -> int:
    return x * x


@pytest.fixture(scope="module")
def study() -> sweeps.Study:
    profile = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    return sweeps.Study(profile, ["digits_cnn"], local_starts=1)


def small_sweep(study: sweeps.Study, **run_on) -> pd.DataFrame:
    table, decisions = sweeps.budget_sweeps(
        study, sweeps.sweep_values({"latency_budget": [0.3, 3.0]}, 3), progress=False, **run_on
    )
    return pd.concat([table, decisions], keys=["table", "decisions"])


def test_parallel_map_keeps_order_and_checks_workers():
    assert parallel.parallel_map(square, range(7), workers=2, progress=False) == [x * x for x in range(7)]
    assert parallel.parallel_map(square, [], workers=2, progress=False) == []
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ParameterError, match="^workers: "):
            parallel.parallel_map(square, [1], workers=bad, progress=False)


def test_sweeps_are_identical_in_process_and_on_local_processes(study):
    one = small_sweep(study, workers=1)
    two = small_sweep(study, workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    draws = np.array([0.5, 1.0, 2.0])
    pd.testing.assert_frame_equal(
        sweeps.fading_monte_carlo(study, draws, starts=1, progress=False, workers=1),
        sweeps.fading_monte_carlo(study, draws, starts=1, progress=False, workers=2),
        check_exact=True,
    )


@pytest.mark.slow
def test_sweeps_are_identical_on_a_dask_cluster(study):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = small_sweep(study, scheduler_address=cluster.scheduler_address)
    pd.testing.assert_frame_equal(small_sweep(study, workers=1), on_dask, check_exact=True)
    assert parallel.describe(1, "tcp://scheduler:8786") == "Dask cluster at tcp://scheduler:8786"
