"""Numba kernels (private). Each one has a plain-NumPy reference in ``tests/reference.py``
(or, for the batched dense run, :func:`.euler.run_dense_batch_numpy`).

Kernels take only arrays, scalars and one bundle. Conventions shared by all of them:

* The network's arrays arrive as one :class:`.arrays.NetworkArrays` (a ``NamedTuple`` of
  ``J``, the CSR ``data``/``indices``/``indptr``, ``W_in``, ``W_fb``, ``W_out``, ``b``),
  built only by :func:`.arrays.network_arrays` and read inside the kernels by field name,
  so that no two weight matrices can be swapped by position. Its dtypes are the builder's
  (float64 or float32 weights, int32/int64/uint32 indices, uint16 column indices by
  default up to N = 65536); scratch arrays take the dtype
  of the state they hold.
* Scalar settings stay separate positional arguments (our choice: few, and each kernel
  needs a different subset), always in this order right after the bundle: ``alpha``
  (``dt / tau``, a float), ``code`` (nonlinearity, see
  :data:`reservoir.nonlinearities.CODES`), ``mode`` (simulation kernels only); the noise
  scale follows the noise array. ``code`` and ``mode`` are both small integers, so their
  order is the one positional convention left: every kernel keeps it, and only
  :mod:`reservoir._simulate` and :mod:`reservoir.train` call the kernels.
* ``mode``: 0 = open loop (nothing fed back), 1 = teacher forcing (``Y[t]`` fed back),
  2 = closed loop (``z[t] = W_out phi(x[t])`` fed back).
* Recording arrays with a zero-length time axis are not written (recording off).
* The return value is -1 on success, or the index ``t`` of the first step whose update
  produced a non-finite state (the caller raises ``SimulationDivergedError``).
"""

MODE_CODES = {"open": 0, "teacher": 1, "closed": 2}

# Process model (issue 13, item 7). Numba's default threading layer on Linux without TBB
# is GNU OpenMP, which is not fork-safe: a child forked after any parallel kernel has run
# in the parent (``multiprocessing.Pool().map`` with the default "fork" start method) is
# terminated by Numba at the fork. reservoir keeps Numba's default all the same: the
# fork-safe alternative without TBB, Numba's "workqueue", costs 5-8x per step of the
# single-trial kernels at N = 100-500 (measured: 140 against 18-29 us per step at N = 100)
# and is not thread-safe. Instead a fork from a process running the OpenMP layer prints why
# the child will die and what to do: a "spawn" or "forkserver" context, rs.sweep(...,
# executor="processes"), or NUMBA_THREADING_LAYER=forksafe set before the first parallel
# kernel (TBB when the ``tbb`` package is installed, else workqueue). reservoir.sweep
# serialises tasks that share a process when the layer is not thread-safe (see
# :func:`threading_layer_is_threadsafe`).
import os as _os
import sys as _sys

import numba as _numba


def threading_layer() -> str | None:
    """The Numba threading layer in force (None before any parallel kernel ran)."""
    try:
        return _numba.threading_layer()
    except ValueError:
        return None


def threading_layer_is_threadsafe() -> bool:
    """Whether parallel kernels may be started from several Python threads at once
    (Numba's "tbb" and "omp" layers: yes; "workqueue": no). Starts Numba's layer."""
    try:
        from numba.np.ufunc.parallel import _launch_threads
        _launch_threads()
    except Exception:                            # pragma: no cover - no layer at all
        return False
    return threading_layer() in ("tbb", "omp")


_warned_fork = []
#: Set in a child forked from a process whose OpenMP threads had run: its parallel kernels
#: would be terminated by GNU OpenMP, so :func:`check_fork_safe` raises instead.
_forked_after_omp = []

_FORK_ADVICE = (
    "Use multiprocessing.get_context('spawn') or 'forkserver' (e.g. "
    "multiprocessing.get_context('spawn').Pool()), or rs.sweep(..., executor='processes'); "
    "or set the environment variable NUMBA_THREADING_LAYER=forksafe before the first "
    "parallel kernel runs (fork-safe; without the 'tbb' package it is Numba's workqueue, "
    "slower per step and not thread-safe).")


def _before_fork() -> None:
    if threading_layer() == "omp" and _sys.platform.startswith("linux") and not _warned_fork:
        _warned_fork.append(True)
        _sys.stderr.write(
            "reservoir: this process runs Numba's OpenMP threading layer, which is not "
            "fork-safe: a forked child that runs a reservoir kernel raises RuntimeError "
            "(GNU OpenMP would terminate it). " + _FORK_ADVICE + "\n")
        _sys.stderr.flush()


def _after_fork_in_child() -> None:
    if threading_layer() == "omp" and _sys.platform.startswith("linux"):
        _forked_after_omp.append(True)


def check_fork_safe() -> None:
    """Raise ``RuntimeError`` in a process forked after OpenMP threads ran in its parent.

    GNU OpenMP terminates such a child at its first parallel region (and
    ``multiprocessing.Pool`` then replaces the dead worker for ever: a hang). Every entry to
    the kernels calls this first, so the child fails with a message instead.
    """
    if _forked_after_omp:
        raise RuntimeError(
            "reservoir: this process was forked (multiprocessing's default 'fork' start "
            "method on Linux) from a process whose Numba OpenMP threads had run, and GNU "
            "OpenMP is not fork-safe: a parallel kernel here would terminate the process. "
            + _FORK_ADVICE)


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
