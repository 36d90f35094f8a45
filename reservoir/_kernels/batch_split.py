"""Splitting a batch of independent trials over worker threads.

The batched kernels (:mod:`.bptt_batched`, :func:`.euler_batch.run_dense_batch`) release
the GIL and call BLAS for their per-step products. OpenBLAS runs products of small
networks on one thread, so a single kernel call leaves the other cores idle; cutting the
batch into contiguous chunks of trials, one worker thread each, uses them. While they run,
SciPy's OpenBLAS is kept on one thread (:func:`.blas_threads.single_threaded_blas`) so that
our threads and OpenBLAS' own never compete for the cores; where that is not possible,
only products OpenBLAS keeps on one thread anyway (``B N^2 <= AUTO_SPLIT_MAX``) are split.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .._checks import as_int
from .blas_threads import can_limit_threads, single_threaded_blas

#: Largest ``B N^2`` (multiply-adds of one step's product) split when SciPy's BLAS threads
#: cannot be limited.
AUTO_SPLIT_MAX = 2**20


def chunk_ranges(B: int, N: int, threads: int | None = None, min_chunk: int = 8):
    """Trial ranges ``[(lo, hi), ...]`` tiling a batch of ``B`` trials of an ``N``-unit
    network: ``threads`` chunks (default: ``numba.get_num_threads()``, or one where that
    would stack thread pools, see the module docstring), never fewer than ``min_chunk``
    trials each."""
    if threads is None:
        small = B * N * N <= AUTO_SPLIT_MAX
        n = numba.get_num_threads() if small or can_limit_threads() else 1
    else:
        n = as_int(threads, "threads", minimum=1)
    n = max(1, min(n, B // min_chunk))
    edges = np.linspace(0, B, n + 1).round().astype(int)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:])]


class ChunkPool:
    """Worker threads for :func:`chunk_ranges` chunks, started on first use and kept.

    Keeping the threads matters: a thread's first BLAS call sets up OpenBLAS' per-thread
    buffers, and fresh threads for every call measured 4 ms slower per call (N = 50,
    B = 200). Safe to share between threads (a lock guards resizing) and across
    ``fork`` (a child process starts its own threads instead of waiting on its parent's).
    """

    def __init__(self):
        self._pool, self._size, self._pid = None, 0, None
        self._lock = threading.Lock()

    def _executor(self, n):
        with self._lock:
            if self._pid != os.getpid():        # new process after fork: parent's threads
                self._pool, self._size = None, 0  # do not exist here
            if self._pool is None or self._size < n:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool = ThreadPoolExecutor(n, thread_name_prefix="reservoir-chunk")
                self._size, self._pid = n, os.getpid()
            return self._pool

    def map(self, fn, n: int) -> list:
        """``[fn(0), ..., fn(n - 1)]``: in this thread when ``n == 1``, else on worker
        threads, with SciPy's BLAS single-threaded meanwhile
        (:func:`.blas_threads.single_threaded_blas`)."""
        if n == 1:
            return [fn(0)]
        with single_threaded_blas():
            return list(self._executor(n).map(fn, range(n)))


@functools.lru_cache(maxsize=None)
def shared_pool() -> ChunkPool:
    """The process's pool for callers without one of their own (e.g.
    :func:`reservoir.simulate`); its threads idle between calls."""
    return ChunkPool()
