"""FORCE (recursive least squares) kernel.

One pass over ``P`` per update: the rank-1 downdate of the *previous* update is applied
lazily in the same row sweep that computes the next ``P r``, so each update reads and
writes ``P`` exactly once and no N x N temporary is ever formed. The pending downdate is
stored as ``s = sqrt(c) k`` and applied as ``P[i, j] -= s[i] * s[j]`` (then scaled by
``1 / lambda`` with a forgetting factor ``lambda < 1``): a single product, commutative in
IEEE arithmetic and immune to re-association, so ``P`` stays exactly symmetric.
"""

import math

import numba as nb
import numpy as np

from ..nonlinearities import phi_scalar
from .arrays import is_dense
from .euler import _drive, _feedback, _readout, loop_buffers, recurrent_input

_REASSOC = {"reassoc"}


@nb.njit(cache=True, parallel=True)
def flush_downdate(P, s, pending, inv_lam):
    """Apply a pending rank-1 downdate ``P <- (P - s s^T) inv_lam`` (if ``pending``;
    without the scaling when ``inv_lam == 1``)."""
    N = P.shape[0]
    if pending == 0.0:
        return
    if inv_lam == 1.0:
        for i in nb.prange(N):
            for j in range(N):
                P[i, j] = P[i, j] - s[i] * s[j]
    else:
        for i in nb.prange(N):
            for j in range(N):
                P[i, j] = (P[i, j] - s[i] * s[j]) * inv_lam


@nb.njit(cache=True, parallel=True, fastmath=_REASSOC)
def force_run(arrays, alpha, code, mode, x, U, Y, Y_fb, P, b_out, use_b, lam, update_every,
              s_pend, pending_box, e_minus, e_plus, dw_norm, upd_steps, t_offset, n_done):
    """Run ``T = U.shape[0]`` FORCE steps; ``x``, ``arrays.W_out``, ``b_out`` and ``P``
    updated in place.

    ``arrays`` is a :class:`~.arrays.NetworkArrays` (dense or CSR ``J``) whose ``W_out`` is
    the writable readout being trained. The regressor is ``r = phi(x[t])`` (N,) when
    ``P`` is (N, N), and ``[r; 1]`` (the readout intercept ``b_out`` is trained as the
    weight of a constant rate 1) when ``P`` is (N + 1, N + 1). At each step ``t`` (global
    index ``t_offset + t``): a-priori readout ``z = W_out r (+ b_out when use_b)``; if the
    global index is a positive multiple of ``update_every`` the exponentially weighted RLS
    update with forgetting factor ``lam`` (Haykin, *Adaptive Filter Theory*)::

        k = P r;  c = 1 / (lam + r^T k);  W <- W - c (z - y[t]) k^T;  P <- (P - c k k^T) / lam

    is made (errors recorded in row ``n_done`` of ``e_minus``/``e_plus``); then ``x[t+1]``
    is computed with the fed-back signal of ``mode`` (2: the a-priori ``z``, Sussillo &
    Abbott's ordering; 1: ``Y_fb[t]``; 0: nothing).

    ``s_pend`` (N or N + 1,) holds ``sqrt(c) k`` of the pending downdate and
    ``pending_box[0]`` is 1 when one is pending (0 otherwise); :func:`flush_downdate`
    applies it at the end (with ``1 / lam``). Returns ``(status, n_done)``: status -1 on
    success, ``t`` of a non-finite state, or ``-2 - t`` when ``lam + r^T P r`` is not a
    positive finite number (P lost positive definiteness or overflowed).
    """
    dense = is_dense(arrays)
    J, data, indices, indptr = arrays.J, arrays.data, arrays.indices, arrays.indptr
    W_out = arrays.W_out
    N = x.shape[0]
    Na = P.shape[0]
    intercept = Na > N
    K = W_out.shape[0]
    T = U.shape[0]
    r, x_new, r_new, z, drive = loop_buffers(code, x, K)
    f = np.empty(K, x.dtype)
    e = np.empty(K, P.dtype)
    k_new = np.empty(Na, P.dtype)
    if intercept:
        ra = np.empty(Na, P.dtype)      # the regressor [r; 1]
        ra[N] = 1.0
    else:
        ra = r                          # the regressor r itself (updated in place below)
    inv_lam = 1.0 / lam
    for t in range(T):
        _readout(W_out, r, z)
        if use_b:
            for kk in range(K):
                z[kk] += b_out[kk]
        tg = t_offset + t
        if tg > 0 and tg % update_every == 0:
            if intercept:
                for i in range(N):
                    ra[i] = r[i]
            # one sweep: pending downdate P <- (P - s s^T) / lam, then k_new = P ra
            pending = pending_box[0]
            for i in nb.prange(Na):
                acc = 0.0
                if pending != 0.0:
                    if inv_lam == 1.0:
                        for j in range(Na):
                            pij = P[i, j] - s_pend[i] * s_pend[j]
                            P[i, j] = pij
                            acc += pij * ra[j]
                    else:
                        for j in range(Na):
                            pij = (P[i, j] - s_pend[i] * s_pend[j]) * inv_lam
                            P[i, j] = pij
                            acc += pij * ra[j]
                else:
                    for j in range(Na):
                        acc += P[i, j] * ra[j]
                k_new[i] = acc
            rk = 0.0
            for i in range(Na):
                rk += ra[i] * k_new[i]
            denom = lam + rk
            if not (denom > 0.0) or not math.isfinite(denom):
                return -2 - tg, n_done
            c = 1.0 / denom
            sq = 0.0
            for kk in range(K):
                ek = z[kk] - Y[t, kk]
                e[kk] = ek
                e_minus[n_done, kk] = ek
                fk = c * ek
                for i in range(N):
                    d = fk * k_new[i]
                    W_out[kk, i] -= d
                    sq += d * d
                if intercept:
                    d = fk * k_new[N]
                    b_out[kk] -= d
                    sq += d * d
            for kk in range(K):
                acc = 0.0
                for i in range(N):
                    acc += W_out[kk, i] * r[i]
                if use_b:
                    acc += b_out[kk]
                e_plus[n_done, kk] = acc - Y[t, kk]
            dw_norm[n_done] = math.sqrt(sq)
            upd_steps[n_done] = tg
            n_done += 1
            sc = math.sqrt(c)
            for i in range(Na):
                s_pend[i] = sc * k_new[i]
            pending_box[0] = 1.0
        _feedback(mode, z, Y_fb, t, f)
        _drive(arrays, U, t, f, drive)
        total = 0.0
        for i in nb.prange(N):
            acc = recurrent_input(dense, J, data, indices, indptr, i, r)
            xi = (1.0 - alpha) * x[i] + alpha * (acc + drive[i])
            x_new[i] = xi
            r_new[i] = phi_scalar(code, xi)
            total += xi
        if not math.isfinite(total):
            return tg, n_done
        x[:] = x_new
        r[:] = r_new
    return -1, n_done
