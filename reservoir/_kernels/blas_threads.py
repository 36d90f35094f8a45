"""Per-thread control of the OpenBLAS that Numba's ``np.dot`` calls.

Numba compiles ``np.dot`` to calls of ``scipy.linalg.cython_blas``, i.e. SciPy's OpenBLAS.
When several of our own threads each run a share of a batch, OpenBLAS must not start its
own threads for their products too: two thread pools on the same cores spin against each
other (measured 1.5-2x slower at N = 200 on 2 cores). OpenBLAS >= 0.3.27 has
``openblas_set_num_threads_local``, which sets the thread count for calls made from the
calling thread only; it is looked up through the library SciPy's ``cython_blas`` links.
Without it (another BLAS, an older OpenBLAS) :func:`limit_to_one_thread` returns False
and callers avoid splitting work that OpenBLAS would thread itself.
"""

from __future__ import annotations

import ctypes
import functools


@functools.lru_cache(maxsize=None)
def _local_setter():
    try:
        import scipy.linalg.cython_blas as cython_blas
        setter = ctypes.CDLL(cython_blas.__file__).openblas_set_num_threads_local
    except (ImportError, OSError, AttributeError):
        return None
    setter.restype = ctypes.c_int
    setter.argtypes = [ctypes.c_int]
    return setter


def can_limit_threads() -> bool:
    """Whether :func:`limit_to_one_thread` works with this SciPy's BLAS."""
    return _local_setter() is not None


def limit_to_one_thread() -> bool:
    """Make BLAS calls from the *calling* thread single-threaded; False if unsupported."""
    setter = _local_setter()
    if setter is None:
        return False
    setter(1)
    return True
