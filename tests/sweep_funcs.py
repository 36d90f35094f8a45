"""Module-level functions for the sweep tests (picklable for processes and Dask)."""

import os

import numpy as np

import reservoir as rs


def noisy_value(g, n, rng):
    return np.array([g * n, rng.standard_normal()])


def ridge_error(g, rng):
    """A small real workload: fit a ridge readout and return the training error."""
    net = rs.random_network(60, g, 1, 1, dt=0.1, rng=rng)
    task = rs.tasks.sine_sum(duration=20.0, dt=0.1)
    return float(rs.fit_ridge(net, task.inputs, task.targets, reg=1e-3, washout=20).train_mse[0])


def counting(g, rng, log_dir, fail_at=None):
    """Records each call in log_dir (one file per call) and fails at g == fail_at."""
    value = float(rng.standard_normal())
    if fail_at is not None and g == fail_at:
        raise RuntimeError(f"failing on purpose at g={g}")
    fd = os.open(os.path.join(log_dir, f"call_{g}_{os.getpid()}_{value!r}"),
                 os.O_CREAT | os.O_WRONLY)
    os.close(fd)
    return value


def ridge_training_500(seed_index, rng):
    """Benchmark workload: one ridge training of an N = 500 network (1000 steps)."""
    net = rs.random_network(500, 1.2, 1, 1, dt=0.1, rng=rng)
    task = rs.tasks.sine_sum(duration=100.0, dt=0.1)
    return float(rs.fit_ridge(net, task.inputs, task.targets, reg=1e-3, washout=100)
                 .train_mse[0])


def slow_counting(g, rng, log_dir, delay=0.03):
    """As :func:`counting` (no failure), after sleeping ``delay`` seconds."""
    import time
    time.sleep(delay)
    return counting(g, rng, log_dir)


def sleepy(g, rng, log_dir):
    """Records the worker's pid in log_dir, then sleeps for a minute."""
    import time
    fd = os.open(os.path.join(log_dir, f"pid_{os.getpid()}"), os.O_CREAT | os.O_WRONLY)
    os.close(fd)
    time.sleep(60)
    return 0.0


def thread_counts(g, rng):
    """Numba's thread count and the largest BLAS thread count seen inside a task."""
    import numba
    from reservoir._kernels.blas_threads import blas_threads
    return np.array([numba.get_num_threads(), blas_threads() or 0], dtype=float)
