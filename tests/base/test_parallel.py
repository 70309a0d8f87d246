"""Sweeps and model measurements give the same tables whatever the backend, the number of workers and the BLAS
thread counts (coinfer.base.parallel, coinfer.base.threads).

A machine may start OpenBLAS with 2 threads in the main process while joblib's workers run 1 each (issue 27:
two tests here failed on an Intel Xeon that way, and fail on the machine the code was written on without the
pinning when no thread variable is set). The tests set the thread counts themselves with threadpoolctl
(:func:`main_blas`): the in-process runs are made on 1 and on 2 BLAS threads and compared with each other and
with the workers', so the tests do not depend on the environment they run in, and pass only because the code
pins BLAS to one thread inside every task (``OPENBLAS_NUM_THREADS=1`` and ``=2`` both checked by hand).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest

from coinfer.base import parallel, paths
from coinfer.base.validation import ParameterError
from coinfer.studies import deployed_designs, joint_optimisation, model_size


def square(x: int) -> int:
    return x * x


@contextlib.contextmanager
def main_blas(threads: int) -> Iterator[None]:
    """The main process's BLAS (and OpenMP) on ``threads`` threads inside the block, whatever the environment
    said; workers keep theirs."""
    import scipy.linalg  # noqa: F401  scipy's OpenBLAS loaded, so that it is limited too
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield


def blas_thread_counts(_: int) -> list[int]:
    """The thread counts of every BLAS loaded where the task runs."""
    from threadpoolctl import threadpool_info

    return sorted({int(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"})


def test_every_task_runs_with_one_blas_thread():
    with main_blas(2):
        # The condition the tests below run in: a BLAS of this process on 2 threads (a BLAS built single-threaded,
        # such as the one a conic solver loads, stays at 1 whatever the limit).
        assert max(blas_thread_counts(0)) == 2
        assert parallel.parallel_map(blas_thread_counts, range(3), workers=1, progress=False) == [[1]] * 3
        assert parallel.parallel_map(blas_thread_counts, range(3), workers=2, progress=False) == [[1]] * 3
        assert max(blas_thread_counts(0)) == 2  # restored after the tasks


def in_process_on_one_and_two_blas_threads(run: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``run()`` in this process with BLAS on 1 and on 2 threads; the two tables must be equal to the last bit."""
    with main_blas(1):
        one = run()
    with main_blas(2):
        two = run()
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    return two


@pytest.fixture(scope="module")
def study() -> joint_optimisation.Study:
    profile = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    return joint_optimisation.Study(profile, ["digits_cnn"], local_starts=1)


def small_sweep(study: joint_optimisation.Study, **run_on) -> pd.DataFrame:
    table, decisions = joint_optimisation.budget_sweeps(
        study, joint_optimisation.sweep_values({"latency_budget": [0.3, 3.0]}, 3), progress=False, **run_on
    )
    return pd.concat([table, decisions], keys=["table", "decisions"])


def test_parallel_map_keeps_order_and_checks_workers():
    assert parallel.parallel_map(square, range(7), workers=2, progress=False) == [x * x for x in range(7)]
    assert parallel.parallel_map(square, [], workers=2, progress=False) == []
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ParameterError, match="^workers: "):
            parallel.parallel_map(square, [1], workers=bad, progress=False)


_HELD: list[bytes] = []


def grow_and_wait(x: int) -> int:
    """Hold 400 MB more in the worker (past loky's 300 MB leak guard), then wait a little for its check."""
    import time

    _HELD.append(b"\x01" * (400 * 2**20))  # written, so resident
    time.sleep(1.2)
    return x


def test_a_worker_replaced_by_lokys_leak_guard_warns_nothing_and_loses_nothing(recwarn):
    """A task that loads a model grows its worker by hundreds of MB; loky then replaces the worker (and would
    warn that jobs were waiting, in an executed notebook's output): the results are all there, no warning."""
    assert parallel.parallel_map(grow_and_wait, range(6), workers=2, progress=False) == list(range(6))
    assert not [w for w in recwarn if "worker stopped" in str(w.message)]


def test_sweeps_are_identical_in_process_and_on_local_processes(study):
    one = in_process_on_one_and_two_blas_threads(lambda: small_sweep(study, workers=1))
    two = small_sweep(study, workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    draws = np.array([0.5, 1.0, 2.0])
    pd.testing.assert_frame_equal(
        in_process_on_one_and_two_blas_threads(
            lambda: joint_optimisation.fading_monte_carlo(study, draws, starts=1, progress=False, workers=1)
        ),
        joint_optimisation.fading_monte_carlo(study, draws, starts=1, progress=False, workers=2),
        check_exact=True,
    )


def measured_designs(**run_on) -> pd.DataFrame:
    """notebook 07's measurement of a few committed digits-CNN designs at three splits."""
    sweep = pd.read_csv(paths.PROJECT_ROOT / "data" / "opt_budget_sweep.csv")
    sweep = sweep[(sweep["model"] == "digits_cnn") & (sweep["sweep"] == sweep["sweep"].iloc[0])]
    return deployed_designs.measure_designs(sweep, "digits_cnn", n_inputs=64, progress=False, **run_on)


def size_study_table(**run_on) -> pd.DataFrame:
    """notebook 08's study of two digits widths: each member one task."""
    profile = pd.read_csv(paths.PROJECT_ROOT / "data" / "profiles.csv")
    members = ["digits_mlp_w8", "digits_mlp_w16"]
    table, _ = model_size.run_study(
        profile,
        {"digits_mlp": members},
        points=3,
        heldout=dict.fromkeys(members, 64),
        settings={"bandwidth": 5e6, "distance": 200.0},
        progress=False,
        **run_on,
    )
    return table


def test_model_measurements_are_identical_in_process_and_on_local_processes():
    one = measured_designs(workers=1)
    assert one["split"].nunique() >= 2 and one["task_metric"].notna().sum() >= 4  # several tasks, real numbers
    pd.testing.assert_frame_equal(one, measured_designs(workers=2), check_exact=True)
    pd.testing.assert_frame_equal(size_study_table(workers=1), size_study_table(workers=2), check_exact=True)


@pytest.mark.slow
def test_sweeps_are_identical_on_a_dask_cluster(study):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = small_sweep(study, scheduler_address=cluster.scheduler_address)
        deployed_on_dask = measured_designs(scheduler_address=cluster.scheduler_address)
        size_on_dask = size_study_table(scheduler_address=cluster.scheduler_address)
    in_process = in_process_on_one_and_two_blas_threads(lambda: small_sweep(study, workers=1))
    pd.testing.assert_frame_equal(in_process, on_dask, check_exact=True)
    pd.testing.assert_frame_equal(measured_designs(workers=1), deployed_on_dask, check_exact=True)
    pd.testing.assert_frame_equal(size_study_table(workers=1), size_on_dask, check_exact=True)
    assert parallel.describe(1, "tcp://scheduler:8786") == "Dask cluster at tcp://scheduler:8786"
