"""Batched backpropagation through time: the time loops in Numba, products on BLAS.

Same equations as :mod:`reservoir._kernels.bptt` (see there), with the batch advanced
together, time-major: every step is one matrix product ``(B, N) x (N, N)`` on BLAS (Numba's
``np.dot`` calls SciPy's BLAS directly, without Python's per-call overhead), and the
elementwise work around it (nonlinearity, input drive, readout, leak, ``phi'``, output
error pull-back) is fused into single passes over the ``(B, N)`` step. The backward pass
keeps only ``g[t+1]`` and ``g[t]`` (not the whole ``(T, B, N)`` history) and adds each
step's parameter-gradient contribution as it goes, except ``dJ += g[t+1]^T r[t]``: the
``g[t+1]`` of ``Tb`` steps are kept (``(Tb, B, N)``) and their share is one
``(N, Tb B) x (Tb B, N)`` product per block, added into a float64 accumulator (one
``(N, B) x (B, N)`` product and one ``N x N`` addition per step cost 1.3x more in float32
at N = 200; issue 16).

Optional terms (empty arrays switch them off, keeping the arithmetic of the plain pass):
state noise added to ``x[t+1]`` in the forward pass (the scaled increments ``s xi[t]``,
time-major), and the rate term ``c[t] r[t]`` added to ``dL/dr[t]`` in the backward pass
(the L2 rate penalty).

Compiled with ``error_model="numpy"`` so that the elementwise loops vectorise (Python's
error model adds a zero check to every division), with :mod:`.fast_tanh` in place of the
C library's scalar ``tanh`` (row helpers shared with the simulation kernel in
:mod:`.batch_rows`). Works in float32 and float64 (one compiled version each).
"""

import numba as nb
import numpy as np

from .batch_rows import add_drive_rows, phi_rows, readout_rows
from .gemm_rows import dot_rows


_FLAGS = {"reassoc", "contract"}   # vectorised sums; NaN and inf keep their meaning


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _times_dphi(code, r, s, one):
    """s *= phi'(x) for one row, from r = phi(x): 1 - r^2, [r > 0], r (1 - r)."""
    N = r.shape[0]
    if code == 0:
        for j in range(N):
            s[j] *= one - r[j] * r[j]
    elif code == 1:
        for j in range(N):
            s[j] = s[j] if r[j] > 0 else s[j] * 0
    else:
        for j in range(N):
            s[j] *= r[j] * (one - r[j])


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _dphi(code, r, one):
    """phi'(x) from r = phi(x): 1 - r^2, [r > 0], r (1 - r)."""
    if code == 0:
        return one - r * r
    if code == 1:
        return one if r > 0 else one - one
    return r * (one - r)


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def forward(Ut, arrays, consts, code, R, Z, x, h, noise, rows=0):
    """Forward pass from ``x[0] = 0``.

    Parameters (arrays of one float dtype, C-contiguous)
    ----------
    Ut : (T, B, M) inputs, time-major.
    arrays : :class:`~.arrays.NetworkArrays` of the step-scaled parameters
        (``network_arrays(..., step_scaled=True)``): ``J`` (N, N) is ``alpha J``,
        ``W_in`` (N, M) ``alpha W_in``, ``b`` (N,) ``alpha b``; ``W_out`` (K, N) unscaled.
        ``J.T`` and ``W_in.T`` are copied to C order once per call.
    consts : (3,) ``[1, 1/2, 1 - alpha]`` in the working dtype (keeps float32 arithmetic
        in float32: a Python float constant would promote it to float64).
    code : nonlinearity code (0 tanh, 1 ReLU, 2 sigmoid).
    R : (T, B, N) out, rates ``phi(x[t])``.  Z : (T, B, K) out, readout ``W_out r[t]``.
    x, h : (B, N) scratch.
    noise : (T, B, N) state increments ``sigma sqrt(alpha) xi[t]`` added to ``x[t+1]`` (row
        ``T - 1`` unused), or (0, B, N) for none.
    rows : trials per BLAS call of the step's product (:func:`.gemm_rows.product_rows`;
        0 for one call).
    """
    aJT = np.ascontiguousarray(arrays.J.T)
    aWinT = np.ascontiguousarray(arrays.W_in.T)
    ab, W_out = arrays.b, arrays.W_out
    T, B, N = R.shape
    half, decay = consts[1], consts[2]
    zero = consts[0] - consts[0]
    leaky = decay != zero
    use_noise = noise.shape[0] > 0
    x[...] = zero
    for t in range(T):
        r = R[t]
        phi_rows(code, x, r, half, zero)
        readout_rows(W_out, r, Z[t], zero)
        if t == T - 1:
            break
        dot_rows(r, aJT, h, rows)
        add_drive_rows(h, ab, Ut[t], aWinT)
        if use_noise:
            nt = noise[t]
            for b in range(B):
                for j in range(N):
                    h[b, j] += nt[b, j]
        for b in range(B):
            if leaky:
                for j in range(N):
                    x[b, j] = decay * x[b, j] + h[b, j]
            else:
                for j in range(N):
                    x[b, j] = h[b, j]


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def backward(R, E, Ut, arrays, consts, code, gJ, gW_inT, gb, gW_out, g_first, tmp, step, s,
             C_rate, G, small, rows=0):
    """Backward pass; sets the gradients (before the factor ``alpha`` of J, W_in, b).

    Parameters
    ----------
    R : (T, B, N) rates from :func:`forward`.  E : (T, B, K) ``dL/dz[t]``.
    Ut : (T, B, M) inputs.
    arrays : the step-scaled bundle :func:`forward` ran on (``J`` = ``alpha J`` and
        ``W_out`` are read).
    consts : (3,) ``[1, 1/2, 1 - alpha]`` in the working dtype.  code : nonlinearity code.
    gJ : (N, N) float64 out, ``sum_t g[t+1] r[t]^T``.  gW_inT : (M, N) float64 out,
    ``sum_t u[t] g[t+1]^T``.  gb : (N,) float64 out, ``sum_t g[t+1]``.
    gW_out : (K, N) float64 out, ``sum_t e[t] r[t]^T``.
    g_first, tmp : (B, N) scratch (``g[0]`` and ``J^T g[t+1]``).  step : (N, N) scratch.
    s : (N,) scratch.
    C_rate : (T, B) coefficients ``c[t]`` of the rate term (``dL/dr[t]`` gains
        ``c[t] r[t]``), or (0, B) for none.
    G : (Tb, B, N) scratch: the ring of ``g[t+1]`` of ``Tb`` consecutive steps (step ``t``
        writes ``g[t]`` into slot ``(t - 1) % Tb`` and reads ``g[t+1]`` from ``t % Tb``).
    small : (max(M, K), N) scratch.
    rows : trials per BLAS call of the step's ``(B, N) x (N, N)`` product (0 for one).

    The parameter gradients are added block by block: for the steps ``[k Tb, (k + 1) Tb)``
    (``Tb = G.shape[0]``) one product each, ``G^T R`` (N, Tb B) x (Tb B, N) for ``J``,
    ``U^T G`` for ``W_in``, ``E^T R`` for ``W_out`` and the column sums of ``G`` for ``b``,
    in the working dtype and then added into the float64 accumulators, at the start of
    step ``k Tb``; per step only ``g[t]`` itself is computed (one ``(B, N) x (N, N)``
    product and, with one readout, one fused pass per trial).
    """
    aJ, W_out = arrays.J, arrays.W_out
    T, B, N = R.shape
    M = Ut.shape[2]
    K = W_out.shape[0]
    one, decay = consts[0], consts[2]
    zero = one - one
    use_rate = C_rate.shape[0] > 0
    Tb = G.shape[0]
    gJ[...] = 0.0
    gW_inT[...] = 0.0
    gb[...] = 0.0
    gW_out[...] = 0.0
    for t in range(T - 1, -1, -1):
        r = R[t]
        inner = t < T - 1
        if t % Tb == 0:        # the blocks starting at t: their parameter gradients (all
            # their g[t+1] are known; done first, as g[t] is about to take slot Tb - 1)
            nE = min(Tb, T - t)
            Rb = R[t:t + nE].reshape((nE * B, N))
            sK = small[:K]
            np.dot(E[t:t + nE].reshape((nE * B, K)).T, Rb, sK)
            for k in range(K):
                for j in range(N):
                    gW_out[k, j] += sK[k, j]
            n = min(Tb, T - 1 - t)
            if n > 0:
                Gb = G[:n].reshape((n * B, N))
                np.dot(Gb.T, R[t:t + n].reshape((n * B, N)), step)
                for i in range(N):
                    for j in range(N):
                        gJ[i, j] += step[i, j]
                for p in range(n * B):
                    for j in range(N):
                        gb[j] += Gb[p, j]
                if M > 0:
                    sM = small[:M]
                    np.dot(Ut[t:t + n].reshape((n * B, M)).T, Gb, sM)
                    for m in range(M):
                        for j in range(N):
                            gW_inT[m, j] += sM[m, j]
        # g[t+1] lives in its slot of the block ring G (written there by step t + 1), and
        # g[t] goes straight into the slot of step t - 1 (no copy per step)
        gnext = G[t % Tb]
        gcur = G[(t - 1) % Tb] if t > 0 else g_first
        if inner:      # J^T g[t+1]
            dot_rows(gnext, aJ, tmp, rows)
        for b in range(B):
            rb = r[b]
            gc = gcur[b]
            gn = gnext[b]
            tb = tmp[b]
            if K == 1:
                # one fused pass: dL/dr from the readout error, J^T g[t+1] and the rate
                # term, times phi', plus the leak's share of g[t+1]
                e0 = E[t, b, 0]
                w0 = W_out[0]
                c = C_rate[t, b] if use_rate else zero
                for j in range(N):
                    v = e0 * w0[j]
                    if inner:
                        v += tb[j]
                    if use_rate:
                        v += c * rb[j]
                    v *= _dphi(code, rb[j], one)
                    gc[j] = v + decay * gn[j] if inner else v
                continue
            for j in range(N):
                s[j] = zero
            for k in range(K):
                e = E[t, b, k]
                for j in range(N):
                    s[j] += e * W_out[k, j]
            if inner:
                for j in range(N):
                    s[j] += tb[j]
            if use_rate:
                c = C_rate[t, b]
                for j in range(N):
                    s[j] += c * rb[j]
            _times_dphi(code, rb, s, one)
            if inner:
                for j in range(N):
                    gc[j] = s[j] + decay * gn[j]
            else:
                for j in range(N):
                    gc[j] = s[j]
