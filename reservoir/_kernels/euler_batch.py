"""Batched dense forward-Euler runs: the time loop in Numba, the product on BLAS (or, for
a few trials, :func:`.gemm_rows.skinny_dot`).

Advances B independent trials together with one ``(B, N) x (N, N)`` product per step
(Numba's ``np.dot``, a direct call of SciPy's BLAS, in blocks of trials where that is
faster: :mod:`.gemm_rows`) and then one pass per trial over its row, in L1, for the drive,
the feedback, the leak, the noise, the nonlinearity (:mod:`.fast_tanh`, vectorised), the
readout and the divergence test (separate passes over the whole batch measured 3 % slower
at N = 100-250, issue 16). The
NumPy loop :func:`reservoir._kernels.euler.run_dense_batch_numpy` is the reference it is
tested against; this kernel avoids its ~10 NumPy calls per step, which dominate for small
networks. Trials are independent, so callers may run chunks of the batch on separate
threads (:mod:`.batch_split`): the kernel releases the GIL.
"""

import numba as nb
import numpy as np

from .batch_rows import all_finite, phi_rows, phi_vector, readout_rows
from .gemm_rows import SKINNY, dot_rows, skinny_dot

_FLAGS = {"reassoc", "contract"}   # vectorised sums; NaN and inf keep their meaning


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def run_dense_batch(arrays, alpha, code, mode, X, U, Y, noise, noise_scale, out_x, out_r,
                    out_z, R, H, Z, rows=0):
    """Advance a batch of B trials ``T`` steps (C-contiguous arrays).

    ``arrays`` is a :class:`~.arrays.NetworkArrays` with a dense ``J``; the kernel makes
    C-contiguous copies of ``J.T`` (N, N), ``W_in.T`` (M, N) and ``W_fb.T`` (K, N) once
    per call (the BLAS product ``R J^T`` then reads the same memory as the NumPy
    reference; :func:`.gemm_rows.skinny_dot` reads ``J`` itself).
    Shapes: X (B, N) updated in place; U (B, T, M); Y (B, T, K) or (B, 0, K);
    noise (B, T, N) or (B, 0, N); out_x, out_r (B, T, N) or (B, 0, N);
    out_z (B, T, K) or (B, 0, K); scratch R, H (B, N) and Z (B, K), of ``X``'s dtype.
    ``mode``: 0 open loop, 1 teacher forcing (feedback ``Y``), 2 closed loop (feedback
    ``z``). ``rows``: trials per BLAS call for the step's product
    (:func:`.gemm_rows.batch_product_rows`; 0 for one call), or
    :data:`.gemm_rows.SKINNY` for :func:`.gemm_rows.skinny_dot` on ``J`` itself.

    Returns ``-1``, or ``t * B + trial`` of the first non-finite update.
    """
    # the transposed copy only for BLAS (8 MB at N = 1000: 3 ms a call, more than ten
    # steps of a small batch)
    JT = np.ascontiguousarray(arrays.J.T) if rows != SKINNY else np.empty((0, 0), X.dtype)
    Jc = np.ascontiguousarray(arrays.J)
    W_inT = np.ascontiguousarray(arrays.W_in.T)
    W_fbT = np.ascontiguousarray(arrays.W_fb.T)
    W_out, b = arrays.W_out, arrays.b
    B, N = X.shape
    K = W_out.shape[0]
    T = U.shape[1]
    rec_x, rec_r, rec_z = out_x.shape[1] > 0, out_r.shape[1] > 0, out_z.shape[1] > 0
    use_noise = noise.shape[1] > 0
    keep = 1.0 - alpha
    M = W_inT.shape[0]
    phi_rows(code, X, R, 0.5, 0.0)
    readout_rows(W_out, R, Z, 0.0)
    for t in range(T):
        for i in range(B):
            if rec_x:
                for j in range(N):
                    out_x[i, t, j] = X[i, j]
            if rec_r:
                for j in range(N):
                    out_r[i, t, j] = R[i, j]
            if rec_z:
                for k in range(K):
                    out_z[i, t, k] = Z[i, k]
        if rows == SKINNY:
            skinny_dot(R, Jc, H)
        else:
            dot_rows(R, JT, H, rows)
        # one pass per trial over its row (in L1): drive, feedback, leak, noise, rates,
        # readout for the next step, divergence test
        for i in range(B):
            h, x, r = H[i], X[i], R[i]
            for j in range(N):
                h[j] += b[j]
            for m in range(M):
                u = U[i, t, m]
                for j in range(N):
                    h[j] += u * W_inT[m, j]
            if mode == 2:
                for k in range(K):
                    f = Z[i, k]
                    for j in range(N):
                        h[j] += f * W_fbT[k, j]
            elif mode == 1:
                for k in range(K):
                    f = Y[i, t, k]
                    for j in range(N):
                        h[j] += f * W_fbT[k, j]
            total = 0.0
            if use_noise:
                for j in range(N):
                    v = keep * x[j] + alpha * h[j] + noise_scale * noise[i, t, j]
                    x[j] = v
                    total += v
            else:
                for j in range(N):
                    v = keep * x[j] + alpha * h[j]
                    x[j] = v
                    total += v
            phi_vector(code, x, r, 0.5, 0.0)
            for k in range(K):
                acc = 0.0
                for j in range(N):
                    acc += W_out[k, j] * r[j]
                Z[i, k] = acc
            if not np.isfinite(total) and not all_finite(x):
                return t * B + i
    return -1
