"""Backpropagation through time for the open-loop rate network (Numba kernels).

Forward (``x[0] = x0``, row ``t`` recorded before step ``t``, as in :mod:`simulate`)::

    r[t] = phi(x[t]),   z[t] = W_out r[t],
    x[t+1] = (1 - a) x[t] + a (J r[t] + W_in u[t] + b) + s xi[t]

with optional state noise ``s xi[t]`` (``s = sigma sqrt(a)``, ``xi`` a given standard normal
realisation, the convention of :func:`reservoir.simulate`; the noise enters additively, so
the backward pass is the same with and without it, on the noisy trajectory). The readout
intercept ``b_out`` is added by the caller (it does not enter the dynamics here; in closed
loop it is folded into ``b``).

Backward, with ``e[t] = dL/dz[t]``, ``c[t] r[t]`` the direct derivative of a loss term on
the rates (the L2 rate penalty ``sum_t c[t] |r[t]|^2 / 2``; ``c = 0`` without one) and
``g[t] = dL/dx[t]`` (``g[T] = 0``)::

    g[t] = (1 - a) g[t+1] + phi'(x[t]) * (a J^T g[t+1] + W_out^T e[t] + c[t] r[t])
    dJ    = a sum_t g[t+1] r[t]^T       dW_in = a sum_t g[t+1] u[t]^T
    db    = a sum_t g[t+1]              dW_out = sum_t e[t] r[t]^T

The batch is split into one chunk per thread (``prange``); each chunk accumulates its own
gradients, summed at the end, so the result does not depend on thread timing.
"""

import numba as nb
import numpy as np

from ..nonlinearities import phi_scalar


@nb.njit(cache=True, parallel=True, fastmath={"reassoc"})
def forward(arrays, alpha, code, U, X0, noise, noise_scale, X, R, Z):
    """Fill X, R (B, T, N) and Z (B, T, K) for inputs U (B, T, M) from X0 (B, N).

    ``arrays`` is a :class:`~.arrays.NetworkArrays` with a dense ``J`` (``W_fb`` unused).
    ``noise`` (B, T, N) standard normal, or (B, 0, N) for none: ``noise_scale *
    noise[b, t]`` is added to ``x[t+1]`` (row ``T - 1`` is not used).
    """
    use_noise = noise.shape[1] > 0
    J, W_in, b, W_out = arrays.J, arrays.W_in, arrays.b, arrays.W_out
    B, T, M = U.shape
    N = J.shape[0]
    K = W_out.shape[0]
    for bb in nb.prange(B):
        x = X0[bb].copy()
        r = np.empty(N, X.dtype)
        for t in range(T):
            for i in range(N):
                r[i] = phi_scalar(code, x[i])
                X[bb, t, i] = x[i]
                R[bb, t, i] = r[i]
            for k in range(K):
                acc = 0.0
                for j in range(N):
                    acc += W_out[k, j] * r[j]
                Z[bb, t, k] = acc
            for i in range(N):
                acc = b[i]
                for j in range(N):
                    acc += J[i, j] * r[j]
                for m in range(M):
                    acc += W_in[i, m] * U[bb, t, m]
                x[i] = (1.0 - alpha) * x[i] + alpha * acc
                if use_noise:
                    x[i] += noise_scale * noise[bb, t, i]


@nb.njit(cache=True, inline="always")
def _dphi_from(code, x, r):
    """phi'(x) reusing r = phi(x) (saves a second tanh per unit and step)."""
    if code == 0:
        return 1.0 - r * r
    elif code == 1:
        return 1.0 if x > 0.0 else 0.0
    else:
        return r * (1.0 - r)


@nb.njit(cache=True, parallel=True, fastmath={"reassoc"})
def backward(arrays, alpha, code, U, X, R, E, C_rate, n_chunks, gJ, gWin, gb, gWout):
    """Accumulate gradients into gJ (C, N, N), gWin (C, N, M), gb (C, N), gWout (C, K, N)
    (one slice per chunk of the batch; the caller sums over the first axis).

    ``arrays`` is the bundle :func:`forward` ran on (``J`` and ``W_out`` are read).
    ``E`` (B, T, K) is ``dL/dz``; ``C_rate`` (B, T) the coefficients ``c[t]`` of the rate
    term (``dL/dr[t]`` gains ``c[t] r[t]``), or (B, 0) for none.
    """
    use_rate = C_rate.shape[1] > 0
    J, W_out = arrays.J, arrays.W_out
    B, T, M = U.shape
    N = J.shape[0]
    K = W_out.shape[0]
    per = (B + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        g_next = np.zeros(N, gJ.dtype)
        g = np.empty(N, gJ.dtype)
        dr = np.empty(N, gJ.dtype)
        for bb in range(c * per, min(B, (c + 1) * per)):
            g_next[:] = 0.0
            for t in range(T - 1, -1, -1):
                # parameter gradients from x[t+1] (g_next = 0 at t = T - 1)
                if t < T - 1:
                    for i in range(N):
                        gi = alpha * g_next[i]
                        if gi != 0.0:
                            for j in range(N):
                                gJ[c, i, j] += gi * R[bb, t, j]
                            for m in range(M):
                                gWin[c, i, m] += gi * U[bb, t, m]
                            gb[c, i] += gi
                for k in range(K):
                    ek = E[bb, t, k]
                    if ek != 0.0:
                        for j in range(N):
                            gWout[c, k, j] += ek * R[bb, t, j]
                # dL/dr[t] = a J^T g[t+1] + W_out^T e[t] (+ c[t] r[t])
                for j in range(N):
                    dr[j] = 0.0
                for k in range(K):
                    ek = E[bb, t, k]
                    for j in range(N):
                        dr[j] += W_out[k, j] * ek
                if t < T - 1:
                    for i in range(N):
                        gi = alpha * g_next[i]
                        for j in range(N):
                            dr[j] += J[i, j] * gi
                if use_rate:
                    cr = C_rate[bb, t]
                    for j in range(N):
                        dr[j] += cr * R[bb, t, j]
                for j in range(N):
                    g[j] = ((1.0 - alpha) * g_next[j]
                            + _dphi_from(code, X[bb, t, j], R[bb, t, j]) * dr[j])
                g_next[:] = g
