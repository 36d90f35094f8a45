"""Thread limits for the BLAS (and OpenMP) libraries of the process, through ``threadpoolctl``.

Numba compiles ``np.dot`` to calls of ``scipy.linalg.cython_blas``, i.e. SciPy's OpenBLAS,
and NumPy links its own copy. When several of our threads each run a share of a batch, the
BLAS must not start its own threads for their products too: two thread pools on the same
cores spin against each other (measured 2.2x slower at N = 200 on 2 cores).
:func:`single_threaded_blas` sets every BLAS library loaded in the process (SciPy's and
NumPy's OpenBLAS, MKL, BLIS: whatever ``threadpoolctl`` finds) to one thread for the
duration of a ``with`` block; :func:`thread_budget` sets them, and the calling thread's
Numba thread count, to a given budget (used by :func:`reservoir.sweep` for every task).

Blocks nest and may be open in several threads at once: while any block is open, each
library runs with the smallest limit among the open blocks; when the last one closes, the
counts found when the first one opened are restored. While a block is open, BLAS calls
from *other* threads of the process are limited too (the BLAS setting is process-wide;
Numba's count, set by :func:`thread_budget`, is per thread).

One ``threadpoolctl.ThreadpoolController`` is built on first use and kept (building one
scans the loaded libraries: measured 1.4 ms, and 2 ms per ``threadpool_limits`` call;
getting, setting and restoring the count of the two OpenBLAS libraries through the kept
controller measured 15 us). Libraries loaded after that first use are not controlled.

OpenBLAS' ``openblas_set_num_threads_local`` was tried first and rejected: in SciPy's
OpenBLAS it changes the process-wide count (measured: after one call from a worker
thread, ``scipy.linalg.eigh`` in the main thread ran 40 % slower for good).

Without a BLAS that ``threadpoolctl`` can control, :func:`can_limit_threads` is False and
callers avoid splitting work that the BLAS would thread itself.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import threading

_lock = threading.Lock()
# limit -> number of open blocks asking for it, per API group ("blas", "all")
_open = {"blas": collections.Counter(), "all": collections.Counter()}
_saved: dict = {}            # id(lib controller) -> thread count before the first block


@functools.lru_cache(maxsize=None)
def _controller():
    """The process's one ``ThreadpoolController`` (None if threadpoolctl is missing)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:                                   # pragma: no cover
        return None
    import numpy  # noqa: F401  -- make sure both BLAS copies are loaded before the scan
    import scipy.linalg  # noqa: F401
    return ThreadpoolController()


def _libs(group: str) -> list:
    ctl = _controller()
    if ctl is None:                                       # pragma: no cover
        return []
    if group == "blas":
        return list(ctl.select(user_api="blas").lib_controllers)
    return list(ctl.lib_controllers)


@functools.lru_cache(maxsize=None)
def _blas_libs() -> tuple:
    return tuple(_libs("blas"))


@functools.lru_cache(maxsize=None)
def _all_libs() -> tuple:
    return tuple(_libs("all"))


def can_limit_threads() -> bool:
    """Whether :func:`single_threaded_blas` can control a BLAS library of this process."""
    return len(_blas_libs()) > 0


def blas_threads() -> int | None:
    """Largest thread count of the BLAS libraries of the process (None if none is known)."""
    libs = _blas_libs()
    return max(int(lib.num_threads) for lib in libs) if libs else None


def _set(lib, n: int) -> None:
    """Set ``lib``'s thread count from any thread. threadpoolctl >= 3.6 lets only the first
    thread that set OpenBLAS' count set it again (calls from other threads are silently
    ignored); our own lock already serialises the changes, so its unguarded setter
    (``_real_set_num_threads``) is used where it exists."""
    getattr(lib, "_real_set_num_threads", lib.set_num_threads)(int(n))


def _apply():
    """Set every library to the smallest open limit that covers it (caller holds _lock)."""
    blas = min(_open["blas"]) if _open["blas"] else None
    every = min(_open["all"]) if _open["all"] else None
    blas_ids = {id(lib) for lib in _blas_libs()}
    for lib in _all_libs():
        limits = [n for n in (every, blas if id(lib) in blas_ids else None) if n is not None]
        key = id(lib)
        if limits:
            if key not in _saved:
                _saved[key] = int(lib.num_threads)
            want = min(limits)
            if int(lib.num_threads) != want:
                _set(lib, want)
        elif key in _saved:
            _set(lib, _saved.pop(key))


@contextlib.contextmanager
def _limited(group: str, n: int):
    with _lock:
        _open[group][n] += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _open[group][n] -= 1
            if _open[group][n] == 0:
                del _open[group][n]
            _apply()


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with every BLAS library of the process on one thread; restores the
    previous counts when the last open block closes.

    Yields whether the limit is in force (False without a controllable BLAS).
    """
    if not can_limit_threads():
        yield False
        return
    with _limited("blas", 1):
        yield True


@contextlib.contextmanager
def thread_budget(n: int):
    """Run the block with at most ``n`` threads: every BLAS and OpenMP library found by
    ``threadpoolctl`` (process-wide, see the module docstring) and Numba's parallel
    kernels started from the calling thread (``numba.set_num_threads``, per thread; capped
    at ``numba.config.NUMBA_NUM_THREADS``). Restores both afterwards.

    A request above ``numba.config.NUMBA_NUM_THREADS`` (the machine's cores unless set
    otherwise) is capped there for BLAS too: more threads than that only oversubscribe.

    Yields the Numba thread count in force.
    """
    import numba
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        with _limited("all", n):
            yield numba.get_num_threads()
    finally:
        numba.set_num_threads(before)
