"""Keeping the OpenBLAS that Numba's ``np.dot`` calls on one thread while our own worker
threads run.

Numba compiles ``np.dot`` to calls of ``scipy.linalg.cython_blas``, i.e. SciPy's OpenBLAS.
When several of our threads each run a share of a batch, OpenBLAS must not start its own
threads for their products too: two thread pools on the same cores spin against each
other (measured 2.2x slower at N = 200 on 2 cores). :func:`single_threaded_blas` sets
SciPy's OpenBLAS to one thread for the duration of a ``with`` block and restores the
previous count afterwards (nested and concurrent blocks are counted: the last one out
restores it). While a block is open, BLAS calls from *other* threads of the process
through SciPy are single-threaded too; NumPy's own BLAS is a separate library and is not
affected.

OpenBLAS' ``openblas_set_num_threads_local`` was tried first and rejected: in SciPy's
OpenBLAS it changes the process-wide count (measured: after one call from a worker
thread, ``scipy.linalg.eigh`` in the main thread ran 40 % slower for good).

Without an OpenBLAS behind SciPy (another BLAS), :func:`can_limit_threads` is False and
callers avoid splitting work that the BLAS would thread itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading

_lock = threading.Lock()
_state = {"depth": 0, "saved": None}


@functools.lru_cache(maxsize=None)
def _functions():
    """``(get, set)`` of the thread count of SciPy's OpenBLAS, or None."""
    try:
        import scipy.linalg.cython_blas as cython_blas
        lib = ctypes.CDLL(cython_blas.__file__)
    except (ImportError, OSError):
        return None
    for prefix in ("scipy_openblas", "openblas"):
        try:
            get = getattr(lib, f"{prefix}_get_num_threads")
            set_ = getattr(lib, f"{prefix}_set_num_threads")
        except AttributeError:
            continue
        get.restype, get.argtypes = ctypes.c_int, []
        set_.restype, set_.argtypes = None, [ctypes.c_int]
        return get, set_
    return None


def can_limit_threads() -> bool:
    """Whether :func:`single_threaded_blas` can control SciPy's BLAS."""
    return _functions() is not None


def blas_threads() -> int | None:
    """Current thread count of SciPy's OpenBLAS (None if unknown)."""
    fns = _functions()
    return None if fns is None else int(fns[0]())


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with SciPy's OpenBLAS on one thread; restores the previous count.

    Yields whether the limit is in force (False without a controllable OpenBLAS).
    """
    fns = _functions()
    if fns is None:
        yield False
        return
    get, set_ = fns
    with _lock:
        if _state["depth"] == 0:
            _state["saved"] = int(get())
            set_(1)
        _state["depth"] += 1
    try:
        yield True
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                set_(_state["saved"])
