"""FORCE (closed-loop recursive least squares) kernel.

One pass over ``P`` per update: the rank-1 downdate of the *previous* update is applied
lazily in the same row sweep that computes the next ``P r``, so each update reads and
writes ``P`` exactly once and no N x N temporary is ever formed. The pending downdate is
stored as ``s = sqrt(c) k`` and applied as ``P[i, j] -= s[i] * s[j]``: a single product,
commutative in IEEE arithmetic and immune to re-association, so ``P`` stays exactly
symmetric.
"""

import math

import numba as nb
import numpy as np

from ..nonlinearities import phi_scalar
from .arrays import is_dense
from .euler import _drive, _readout, loop_buffers, recurrent_input

_REASSOC = {"reassoc"}


@nb.njit(cache=True, parallel=True)
def flush_downdate(P, s, pending):
    """Apply a pending rank-1 downdate ``P -= s s^T`` (if ``pending``)."""
    N = P.shape[0]
    if pending == 0.0:
        return
    for i in nb.prange(N):
        for j in range(N):
            P[i, j] = P[i, j] - s[i] * s[j]


@nb.njit(cache=True, parallel=True, fastmath=_REASSOC)
def force_run(arrays, alpha, code, x, U, Y, P, update_every, s_pend, pending_box, e_minus,
              e_plus, dw_norm, upd_steps, t_offset, n_done):
    """Run ``T = U.shape[0]`` closed-loop FORCE steps; ``x``, ``arrays.W_out``, ``P`` updated
    in place.

    ``arrays`` is a :class:`~.arrays.NetworkArrays` (dense or CSR ``J``) whose ``W_out`` is
    the writable readout being trained. At each step ``t`` (global index
    ``t_offset + t``): ``r = phi(x[t])``, a-priori readout ``z = W_out r``; if the global
    index is a positive multiple of ``update_every`` the RLS update is made (errors
    recorded in row ``n_done`` of ``e_minus``/``e_plus``); then ``x[t+1]`` is computed with
    the a-priori ``z`` fed back (Sussillo & Abbott's ordering).

    ``s_pend`` (N,) holds ``sqrt(c) k`` of the pending downdate and ``pending_box[0]`` is
    1 when one is pending (0 otherwise); :func:`flush_downdate` applies it at the end.
    Returns ``(status, n_done)``: status -1 on success, ``t`` of a non-finite state, or
    ``-2 - t`` when ``1 + r^T P r <= 0`` (P lost positive definiteness).
    """
    dense = is_dense(arrays)
    J, data, indices, indptr = arrays.J, arrays.data, arrays.indices, arrays.indptr
    W_out = arrays.W_out
    N = x.shape[0]
    K = W_out.shape[0]
    T = U.shape[0]
    r, x_new, r_new, z, drive = loop_buffers(code, x, K)
    e = np.empty(K, P.dtype)
    k_new = np.empty(N, P.dtype)
    for t in range(T):
        _readout(W_out, r, z)
        tg = t_offset + t
        if tg > 0 and tg % update_every == 0:
            # one sweep: pending downdate P -= s s^T, then k_new = P r
            pending = pending_box[0]
            for i in nb.prange(N):
                acc = 0.0
                if pending != 0.0:
                    for j in range(N):
                        pij = P[i, j] - s_pend[i] * s_pend[j]
                        P[i, j] = pij
                        acc += pij * r[j]
                else:
                    for j in range(N):
                        acc += P[i, j] * r[j]
                k_new[i] = acc
            rk = 0.0
            for i in range(N):
                rk += r[i] * k_new[i]
            denom = 1.0 + rk
            if not (denom > 0.0) or not math.isfinite(denom):
                return -2 - tg, n_done
            c = 1.0 / denom
            sq = 0.0
            for kk in range(K):
                ek = z[kk] - Y[t, kk]
                e[kk] = ek
                e_minus[n_done, kk] = ek
                f = c * ek
                for i in range(N):
                    d = f * k_new[i]
                    W_out[kk, i] -= d
                    sq += d * d
            for kk in range(K):
                acc = 0.0
                for i in range(N):
                    acc += W_out[kk, i] * r[i]
                e_plus[n_done, kk] = acc - Y[t, kk]
            dw_norm[n_done] = math.sqrt(sq)
            upd_steps[n_done] = tg
            n_done += 1
            sc = math.sqrt(c)
            for i in range(N):
                s_pend[i] = sc * k_new[i]
            pending_box[0] = 1.0
        _drive(arrays, U, t, z, drive)
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
