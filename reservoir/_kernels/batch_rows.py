"""Row-wise passes over a (B, N) batch step, shared by the batched Numba kernels
(:mod:`.bptt_batched` and :mod:`.euler_batch`).

Each helper is inlined into its caller and written so that the innermost loop runs over the
N units of one trial (contiguous, vectorised); callers compile with
``error_model="numpy"`` (see :mod:`.fast_tanh`). The float32 BPTT kernels pass a typed
``zero`` / ``half`` so that their arithmetic stays in float32.
"""

import math

import numba as nb
from numba.extending import overload

from .fast_tanh import tanh32, tanh64

_FLAGS = {"reassoc", "contract"}   # vectorised sums; NaN and inf keep their meaning


def phi_rows(code, x, r, half, zero):
    """r = phi(x) for (B, N) arrays (Numba only; compiled per dtype below)."""
    raise NotImplementedError("phi_rows is only callable from Numba code")


@overload(phi_rows, jit_options={"error_model": "numpy", "fastmath": {"contract"}})
def _phi_rows_overload(code, x, r, half, zero):
    # tanh32 / tanh64 chosen here, at compile time, by the working dtype; the branch on
    # ``code`` sits outside the loops so that each loop vectorises
    tanh = tanh32 if x.dtype == nb.types.float32 else tanh64

    def impl(code, x, r, half, zero):
        B, N = x.shape
        if code == 0:
            for b in range(B):
                for j in range(N):
                    r[b, j] = tanh(x[b, j])
        elif code == 1:
            for b in range(B):
                for j in range(N):
                    v = x[b, j]
                    r[b, j] = v if v > zero else zero
        else:
            for b in range(B):
                for j in range(N):
                    r[b, j] = half + half * tanh(half * x[b, j])
    return impl


def phi_vector(code, x, r, half, zero):
    """r = phi(x) for (N,) arrays (Numba only): the one-trial form of :func:`phi_rows`,
    the same formulas (``tanh`` from :mod:`.fast_tanh`, vectorised)."""
    raise NotImplementedError("phi_vector is only callable from Numba code")


@overload(phi_vector, jit_options={"error_model": "numpy", "fastmath": {"contract"}})
def _phi_vector_overload(code, x, r, half, zero):
    tanh = tanh32 if x.dtype == nb.types.float32 else tanh64

    def impl(code, x, r, half, zero):
        N = x.shape[0]
        if code == 0:
            for j in range(N):
                r[j] = tanh(x[j])
        elif code == 1:
            for j in range(N):
                v = x[j]
                r[j] = v if v > zero else zero
        else:
            for j in range(N):
                r[j] = half + half * tanh(half * x[j])
    return impl


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def readout_rows(W_out, R, Z, zero):
    """``Z[i] = W_out R[i]`` for every trial ``i``: R (B, N), W_out (K, N), Z (B, K)."""
    B, N = R.shape
    K = W_out.shape[0]
    for i in range(B):
        for k in range(K):
            acc = zero
            for j in range(N):
                acc += W_out[k, j] * R[i, j]
            Z[i, k] = acc


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def add_drive_rows(H, b, U_t, W_inT):
    """``H[i] += b + W_in u_i`` for every trial ``i``: H (B, N), b (N,), U_t (B, M) the
    inputs of one step, W_inT (M, N)."""
    B, N = H.shape
    M = U_t.shape[1]
    for i in range(B):
        for j in range(N):
            H[i, j] += b[j]
        for m in range(M):
            u = U_t[i, m]
            for j in range(N):
                H[i, j] += u * W_inT[m, j]


@nb.njit(cache=True, inline="always")
def all_finite(v):
    """Whether every element of the 1-D array ``v`` is finite (Numba only).

    The kernels test the sum of a new state first (one addition per unit, vectorised): a
    finite sum proves every term finite. Only when the sum is not finite, which also
    happens when finite terms overflow it (states near 1e308), does this exact test
    decide whether the step really produced a non-finite state.
    """
    for i in range(v.shape[0]):
        if not math.isfinite(v[i]):
            return False
    return True
