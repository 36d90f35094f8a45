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

For a few trials of a larger network, BLAS packs all of ``J`` for every product and runs
far below its peak (37-39 GFLOP/s at B = 16, N = 500-1000); :func:`skinny_dot`, a
register-blocked product of our own, streams ``J`` once and reaches 49. The dense batch
kernel takes it where :func:`batch_product_rows` says so.
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


#: ``rows`` value asking the batch kernel for :func:`skinny_dot` instead of BLAS.
SKINNY = -1
#: Most trials per product for :func:`skinny_dot`, and fewest units.
SKINNY_MAX_B = 64
SKINNY_MIN_N = 300


def batch_product_rows(B: int, N: int, single_thread: bool,
                       small_path: bool | None = None) -> int:
    """The ``rows`` argument of the dense batch kernel for a chunk of ``B`` trials:
    :data:`SKINNY` (our own product, :func:`skinny_dot`) for at most :data:`SKINNY_MAX_B`
    trials of at least :data:`SKINNY_MIN_N` units on a call that runs on one thread,
    otherwise :func:`product_rows`.

    One core (AMD EPYC, issue 16), GFLOP/s of the step's product, :func:`skinny_dot` /
    OpenBLAS: N = 500, B = 16: 49.3 / 38.7; N = 1000, B = 16: 49.1 / 36.8; N = 1000,
    B = 32: 43.8 / 40.2; N = 2000, B = 16: 31.9 / 25.5; N = 100 / 250, B = 16: 37.8 / 47.5
    against OpenBLAS's small-matrix kernel's 54.9 / 54.5, hence the lower bound on N. At
    B = 64 (medians of 11 alternations, N = 300 / 400 / 500 / 600 / 724 / 800 / 1000 /
    1500 / 2000): 48.8 / 51.7 / 48.4 / 51.3 / 38.6 / 49.6 / 44.8 / 43.9 / 42.2 against
    47.1 / 46.6 / 47.9 / 48.3 / 41.8 / 47.4 / 45.4 / 41.8 / 43.3, ahead or level but at
    N = 724; at B = 128 / 256 (N = 500) BLAS is ahead (47.1 / 49.0 against 45.7 / 45.5:
    the trials no longer stay in L2 while ``W`` streams), hence the upper bound on B.
    """
    B, N = int(B), int(N)
    if single_thread and 0 < B <= SKINNY_MAX_B and N >= SKINNY_MIN_N:
        return SKINNY
    return product_rows(B, N, small_path)


@nb.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def skinny_dot(A, W, out):
    """``out[b, i] = sum_k A[b, k] W[i, k]``, i.e. ``out = A W^T``, for C-contiguous
    A (B, N), W (N', N), out (B, N') (Numba only; for few trials B).

    Four rows of ``W`` against four trials at a time: sixteen dot products vectorised over
    ``k`` share each load (four of ``W``, four of ``A`` per sixteen multiply-adds), and
    ``W`` streams once per call, where BLAS packs it for every product. Remainder trials
    are done four rows by two trials, then four by one; remainder rows one by one.
    Accumulates in float64. ``out`` must not
    overlap ``A`` or ``W``.

    Raises
    ------
    ValueError
        If the shapes do not match.
    """
    B, N = A.shape
    Np = W.shape[0]
    if W.shape[1] != N or out.shape[0] != B or out.shape[1] != Np:
        raise ValueError("skinny_dot: shapes must be A (B, N), W (N', N), out (B, N')")
    i_end = Np - Np % 4
    b_end = B - B % 4
    for i0 in range(0, i_end, 4):
        for b0 in range(0, b_end, 4):
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = 0.0
            a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = 0.0
            for k in range(N):
                w0 = W[i0, k]
                w1 = W[i0 + 1, k]
                w2 = W[i0 + 2, k]
                w3 = W[i0 + 3, k]
                r0 = A[b0, k]
                r1 = A[b0 + 1, k]
                r2 = A[b0 + 2, k]
                r3 = A[b0 + 3, k]
                a00 += w0 * r0
                a01 += w0 * r1
                a02 += w0 * r2
                a03 += w0 * r3
                a10 += w1 * r0
                a11 += w1 * r1
                a12 += w1 * r2
                a13 += w1 * r3
                a20 += w2 * r0
                a21 += w2 * r1
                a22 += w2 * r2
                a23 += w2 * r3
                a30 += w3 * r0
                a31 += w3 * r1
                a32 += w3 * r2
                a33 += w3 * r3
            out[b0, i0] = a00
            out[b0 + 1, i0] = a01
            out[b0 + 2, i0] = a02
            out[b0 + 3, i0] = a03
            out[b0, i0 + 1] = a10
            out[b0 + 1, i0 + 1] = a11
            out[b0 + 2, i0 + 1] = a12
            out[b0 + 3, i0 + 1] = a13
            out[b0, i0 + 2] = a20
            out[b0 + 1, i0 + 2] = a21
            out[b0 + 2, i0 + 2] = a22
            out[b0 + 3, i0 + 2] = a23
            out[b0, i0 + 3] = a30
            out[b0 + 1, i0 + 3] = a31
            out[b0 + 2, i0 + 3] = a32
            out[b0 + 3, i0 + 3] = a33
        b_pair = b_end + (B - b_end) // 2 * 2
        for b in range(b_end, b_pair, 2):  # remaining pairs of trials: four rows of W
            a0 = a1 = a2 = a3 = c0 = c1 = c2 = c3 = 0.0
            for k in range(N):
                r = A[b, k]
                s = A[b + 1, k]
                w0 = W[i0, k]
                w1 = W[i0 + 1, k]
                w2 = W[i0 + 2, k]
                w3 = W[i0 + 3, k]
                a0 += w0 * r
                a1 += w1 * r
                a2 += w2 * r
                a3 += w3 * r
                c0 += w0 * s
                c1 += w1 * s
                c2 += w2 * s
                c3 += w3 * s
            out[b, i0] = a0
            out[b, i0 + 1] = a1
            out[b, i0 + 2] = a2
            out[b, i0 + 3] = a3
            out[b + 1, i0] = c0
            out[b + 1, i0 + 1] = c1
            out[b + 1, i0 + 2] = c2
            out[b + 1, i0 + 3] = c3
        for b in range(b_pair, B):         # a last trial: four rows of W at a time
            a0 = a1 = a2 = a3 = 0.0
            for k in range(N):
                r = A[b, k]
                a0 += W[i0, k] * r
                a1 += W[i0 + 1, k] * r
                a2 += W[i0 + 2, k] * r
                a3 += W[i0 + 3, k] * r
            out[b, i0] = a0
            out[b, i0 + 1] = a1
            out[b, i0 + 2] = a2
            out[b, i0 + 3] = a3
    for i in range(i_end, Np):             # remaining rows of W, one at a time
        for b in range(B):
            acc = 0.0
            for k in range(N):
                acc += W[i, k] * A[b, k]
            out[b, i] = acc
