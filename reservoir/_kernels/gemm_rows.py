"""Per-step ``(B, N) x (N, N)`` products cut into blocks of trials that BLAS runs fastest.

OpenBLAS (0.3.x, SkylakeX kernels, as in the SciPy and NumPy wheels) multiplies small
matrices, ``M N K <= 10^6`` multiply-adds, through a separate kernel that skips packing
the operands. On the development machine (AMD EPYC, Zen 4; issue 16) that kernel ran a
step's product at 53-54 GFLOP/s in float64 against 45-51 through the packed path, and at
104-108 against 84-100 GFLOP/s in float32, single core, for N = 100-250: for example
``(256, 100) x (100, 100)`` took 111 us as one product and 95 us as three products of at
most 96 rows. Row counts that are not a multiple of 8 measured slower (42 GFLOP/s for 11
rows), and from N = 300 on the small blocks gain nothing (the whole product is as fast).

:func:`product_rows` chooses the block (a multiple of 8 trials, at least 16, keeping each
product within the small-matrix limit) when the BLAS that Numba's ``np.dot`` calls is such
an OpenBLAS, and the whole batch otherwise; the kernels take it as an argument and call
:func:`dot_rows`. The blocks are independent rows of the same product, so the result is
the same up to the BLAS's own rounding differences between kernels (it is not bit-equal to
the whole product).
"""

from __future__ import annotations

import functools

import numba as nb
import numpy as np

#: OpenBLAS's small-matrix limit on ``M N K`` (measured: 25 x 200 x 200 still fast,
#: 32 x 200 x 200 not).
SMALL_GEMM_WORK = 1_000_000
#: Fewest trials per block: below this the calls' own overhead outweighs the gain.
MIN_BLOCK_ROWS = 16
#: OpenBLAS kernel families with the small-matrix path (``threadpoolctl``'s
#: ``architecture`` field).
_SMALL_PATH_ARCHS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})


@functools.lru_cache(maxsize=None)
def small_matrix_blas() -> bool:
    """Whether SciPy's BLAS (the one Numba's ``np.dot`` calls) is an OpenBLAS with the
    small-matrix path, by ``threadpoolctl``: the library loaded from SciPy's own folder
    (``scipy.libs`` in the wheels, or inside the ``scipy`` package). NumPy's OpenBLAS
    (``numpy.libs/libscipy_openblas64_*``) does not count, and a BLAS that cannot be
    attributed to SciPy (e.g. a system OpenBLAS or MKL) gives False."""
    try:
        import scipy.linalg  # noqa: F401  -- load SciPy's BLAS before the scan
        from threadpoolctl import threadpool_info
    except ImportError:                                   # pragma: no cover
        return False
    for lib in threadpool_info():
        path = str(lib.get("filepath") or "").replace("\\", "/")
        folders = path.split("/")[:-1]
        if "scipy.libs" in folders or "scipy" in folders:
            return (lib.get("internal_api") == "openblas"
                    and str(lib.get("architecture") or "").lower() in _SMALL_PATH_ARCHS)
    return False


def product_rows(B: int, N: int, small_path: bool | None = None) -> int:
    """Trials per BLAS call for the ``(B, N) x (N, N)`` product of one step.

    ``B`` (one call) unless the BLAS has the small-matrix path (``small_path``, default
    :func:`small_matrix_blas`), the whole product exceeds :data:`SMALL_GEMM_WORK`, and a
    block of at least :data:`MIN_BLOCK_ROWS` trials (a multiple of 8) fits within it.
    """
    if small_path is None:
        small_path = small_matrix_blas()
    B, N = int(B), int(N)
    if not small_path or B * N * N <= SMALL_GEMM_WORK or N == 0:
        return max(B, 1)
    rows = SMALL_GEMM_WORK // (N * N) // 8 * 8
    return rows if rows >= MIN_BLOCK_ROWS else B


@nb.njit(cache=True, inline="always")
def dot_rows(A, W, out, rows):
    """``out = A W`` for C-contiguous A (B, N), W (N, N'), out (B, N') as products of
    ``rows`` rows of ``A`` at a time; one product when ``rows <= 0`` or ``rows >= B``
    (Numba only)."""
    B = A.shape[0]
    if rows <= 0 or rows >= B:
        np.dot(A, W, out)
        return
    for lo in range(0, B, rows):
        hi = min(lo + rows, B)
        np.dot(A[lo:hi], W, out[lo:hi])
