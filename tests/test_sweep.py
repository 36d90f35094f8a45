import functools
import os

import numpy as np
import pytest

import reservoir as rs
from sweep_funcs import counting, noisy_value, ridge_error

GRID = {"g": [0.5, 1.0, 1.5], "n": [1, 2]}


def test_sweep_shape_labels_and_seeds():
    res = rs.sweep(noisy_value, GRID, n_realizations=4, rng=7)
    assert res.values.shape == (3, 2, 4, 2)
    assert res.dims == ("g", "n", "realization", "dim_0")
    np.testing.assert_array_equal(res.sel(g=1.5, n=2)[:, 0], 3.0)
    # each task's generator is child k of the root SeedSequence (C order)
    seeds = np.random.SeedSequence(7).spawn(24)
    k = np.ravel_multi_index((1, 0, 3), (3, 2, 4))
    want = np.random.default_rng(seeds[k]).standard_normal()
    assert res.values[1, 0, 3, 1] == want
    assert res.mean().shape == (3, 2, 2)
    with pytest.raises(KeyError):
        res.sel(g=9.0)


def test_serial_processes_and_dask_are_bit_identical(tmp_path):
    serial = rs.sweep(ridge_error, {"g": [0.8, 1.2]}, n_realizations=3, rng=1)
    procs = rs.sweep(ridge_error, {"g": [0.8, 1.2]}, n_realizations=3, rng=1,
                     executor="processes")
    np.testing.assert_array_equal(serial.values, procs.values)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dask = rs.sweep(ridge_error, {"g": [0.8, 1.2]}, n_realizations=3, rng=1,
                        executor=client)
    np.testing.assert_array_equal(serial.values, dask.values)


@pytest.mark.parametrize("executor", [None, "processes"])
def test_interrupted_sweep_resumes_computing_each_point_once(tmp_path, executor):
    store, log = tmp_path / "store", tmp_path / "log"
    log.mkdir()
    grid = {"g": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}
    failing = functools.partial(counting, log_dir=str(log), fail_at=0.4)
    with pytest.raises(RuntimeError, match="on purpose"):
        rs.sweep(failing, grid, n_realizations=2, rng=3, store=store, executor=executor)
    written = sorted(p for p in os.listdir(store) if p.startswith("task_"))
    assert 0 < len(written) < 12
    # a stale temporary file from a crash is never read as a result
    (store / ".tmp_crash.npy").write_bytes(b"garbage")
    good = functools.partial(counting, log_dir=str(log), fail_at=None)
    # same sweep (same function name, grid, realisations, seed): resumes
    res = rs.sweep(good, grid, n_realizations=2, rng=3, store=store, executor=executor)
    calls = os.listdir(log)
    # no task is computed twice: what finished before the failure (in any worker) was kept
    per_value = {}
    for c in calls:
        value = float(c.split("_")[3])
        per_value[value] = per_value.get(value, 0) + 1
    assert all(n == 1 for n in per_value.values()), per_value
    assert len(per_value) == 12
    ref = rs.sweep(functools.partial(counting, log_dir=str(tmp_path)), grid, n_realizations=2,
                   rng=3)
    np.testing.assert_array_equal(res.values, ref.values)


def test_resuming_a_different_sweep_is_refused(tmp_path):
    rs.sweep(noisy_value, GRID, n_realizations=1, rng=0, store=tmp_path)
    with pytest.raises(ValueError, match="different sweep"):
        rs.sweep(noisy_value, GRID, n_realizations=2, rng=0, store=tmp_path)
    with pytest.raises(ValueError, match="different sweep"):
        rs.sweep(noisy_value, GRID, n_realizations=1, rng=1, store=tmp_path)
    again = rs.sweep(noisy_value, GRID, n_realizations=1, rng=0, store=tmp_path)
    assert again.values.shape == (3, 2, 1, 2)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(grid={}), TypeError, "grid"), (dict(grid={"g": []}), ValueError, "value"),
    (dict(n_realizations=0), ValueError, "n_realizations"),
    (dict(rng=np.random.default_rng(0)), TypeError, "rng"),
    (dict(executor="threads"), ValueError, "executor"),
    (dict(grid={"rng": [1]}), ValueError, "reserved")])
def test_sweep_bad_input(kwargs, exc, word):
    args = dict(func=noisy_value, grid=GRID)
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        rs.sweep(**args)


def test_thread_pool_executor_and_thread_budget(tmp_path):
    """Any concurrent.futures.Executor; every task runs with the budget in force (Numba
    and BLAS), restored afterwards; bits equal to the serial sweep."""
    from concurrent.futures import ThreadPoolExecutor

    import numba
    from reservoir._kernels.blas_threads import blas_threads
    from sweep_funcs import thread_counts
    before = (numba.get_num_threads(), blas_threads())
    serial = rs.sweep(ridge_error, {"g": [0.8, 1.2]}, n_realizations=2, rng=1)
    with ThreadPoolExecutor(2) as pool:
        threads = rs.sweep(ridge_error, {"g": [0.8, 1.2]}, n_realizations=2, rng=1,
                           executor=pool)
        counts = rs.sweep(thread_counts, {"g": [0.0, 1.0]}, executor=pool)
    np.testing.assert_array_equal(serial.values, threads.values)
    assert np.all(counts.values[..., 0] == 1)
    assert np.all(counts.values[..., 1] <= 1)
    if numba.config.NUMBA_NUM_THREADS >= 2:
        two = rs.sweep(thread_counts, {"g": [0.0]}, threads_per_task=2)
        assert two.values[0, 0, 0] == 2
    assert (numba.get_num_threads(), blas_threads()) == before
    with pytest.raises(ValueError, match="threads_per_task"):
        rs.sweep(noisy_value, GRID, threads_per_task=0)
