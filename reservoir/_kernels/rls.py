"""FORCE (recursive least squares) kernel.

One pass over half of ``P`` per update: only the upper triangle ``P[i, j]``, ``i <= j``,
is stored and updated (the lower triangle is stale inside the kernel and is defined by
symmetry: :func:`flush_downdate` copies it from the upper one whenever ``P`` is exposed).
The rank-1 downdate of the *previous* update is applied lazily in the same sweep that
computes the next ``k = P r``: each stored element is read once, downdated, written once,
and contributes to ``k[i]`` (row sum) and to ``k[j]`` (the transposed contribution, summed
per thread block and reduced after the sweep). That moves ``8 N^2`` bytes of ``P`` per
update (``16 N^2`` with the ``J r`` product) against ``16 N^2`` for a full-matrix sweep
and ``12 N^2`` for BLAS ``dsymv`` + ``dsyr``. Rows are swept four at a time (each load
of ``s``, ``r`` and the partial sums serves four rows), in row blocks of equal triangle
area, one per thread. The pending downdate is stored as ``s = sqrt(c) k`` and applied as
``P[i, j] = (P[i, j] - s[i] * s[j]) / lambda``; every element is stored once, so ``P``
is exactly symmetric when mirrored.

State carried between calls of :func:`force_run` (to run a series in time chunks): ``x``,
``P`` (its upper triangle), ``arrays.W_out``, ``b_out``, ``s_pend``, ``pending_box``,
the global step ``t_offset`` of the chunk's first step and ``n_done``; call
:func:`flush_downdate` once after the last chunk (before ``P`` is read).
"""

import math

import numba as nb
import numpy as np

from ..nonlinearities import phi_scalar
from .arrays import is_dense
from .batch_rows import all_finite
from .euler import _drive, _feedback, _readout, dense_rows, loop_buffers, recurrent_input

_REASSOC = {"reassoc"}


@nb.njit(cache=True, parallel=True)
def flush_downdate(P, s, pending, inv_lam):
    """Apply a pending rank-1 downdate ``P <- (P - s s^T) inv_lam`` (if ``pending``;
    without the scaling when ``inv_lam == 1``) to the upper triangle of ``P``, then copy
    the upper triangle into the lower one (``P`` exactly symmetric on return)."""
    N = P.shape[0]
    if pending != 0.0:
        for i in nb.prange(N):
            si = s[i]
            if inv_lam == 1.0:
                for j in range(i, N):
                    P[i, j] = P[i, j] - si * s[j]
            else:
                for j in range(i, N):
                    P[i, j] = (P[i, j] - si * s[j]) * inv_lam
    for i in nb.prange(N):
        for j in range(i):
            P[i, j] = P[j, i]


@nb.njit(cache=True)
def triangle_blocks(n, n_blocks):
    """Row boundaries ``b`` (n_blocks + 1,) splitting the upper triangle of an n x n
    matrix into ``n_blocks`` row blocks ``[b[q], b[q + 1])`` of nearly equal area (row
    ``i`` holds ``n - i`` elements)."""
    b = np.empty(n_blocks + 1, np.int64)
    b[0] = 0
    total = 0.5 * n * (n + 1)
    i = 0
    area = 0.0
    for q in range(1, n_blocks):
        goal = total * q / n_blocks
        while i < n and area + 0.5 * (n - i) < goal:
            area += n - i
            i += 1
        b[q] = i
    b[n_blocks] = n
    return b


@nb.njit(cache=True, fastmath=_REASSOC)
def sweep_rows(P, s, ra, k, part, i0, i1, scale):
    """Downdate rows ``i0 <= i < i1`` of the upper triangle of ``P`` and form their
    contributions to ``k = P ra``.

    Each stored ``P[i, j]`` (``j >= i``) becomes ``p = (P[i, j] - s[i] s[j]) scale``; ``p
    ra[j]`` is added to ``k[i]`` (set here: the row sums over ``j >= i``) and, for ``j > i``,
    ``p ra[i]`` to ``part[j]`` (the transposed contributions; ``part`` zeroed by the
    caller, added to ``k`` after the sweep). ``s = 0``, ``scale = 1`` gives ``P``
    unchanged (exactly).
    """
    Na = P.shape[0]
    i = i0
    while i + 4 <= i1:
        s0, s1, s2, s3 = s[i], s[i + 1], s[i + 2], s[i + 3]
        r0, r1, r2, r3 = ra[i], ra[i + 1], ra[i + 2], ra[i + 3]
        # the 4 x 4 diagonal block (upper part)
        p00 = (P[i, i] - s0 * s0) * scale
        p01 = (P[i, i + 1] - s0 * s1) * scale
        p02 = (P[i, i + 2] - s0 * s2) * scale
        p03 = (P[i, i + 3] - s0 * s3) * scale
        p11 = (P[i + 1, i + 1] - s1 * s1) * scale
        p12 = (P[i + 1, i + 2] - s1 * s2) * scale
        p13 = (P[i + 1, i + 3] - s1 * s3) * scale
        p22 = (P[i + 2, i + 2] - s2 * s2) * scale
        p23 = (P[i + 2, i + 3] - s2 * s3) * scale
        p33 = (P[i + 3, i + 3] - s3 * s3) * scale
        P[i, i] = p00
        P[i, i + 1] = p01
        P[i, i + 2] = p02
        P[i, i + 3] = p03
        P[i + 1, i + 1] = p11
        P[i + 1, i + 2] = p12
        P[i + 1, i + 3] = p13
        P[i + 2, i + 2] = p22
        P[i + 2, i + 3] = p23
        P[i + 3, i + 3] = p33
        a0 = p00 * r0 + p01 * r1 + p02 * r2 + p03 * r3
        a1 = p11 * r1 + p12 * r2 + p13 * r3
        a2 = p22 * r2 + p23 * r3
        a3 = p33 * r3
        part[i + 1] += p01 * r0
        part[i + 2] += p02 * r0 + p12 * r1
        part[i + 3] += p03 * r0 + p13 * r1 + p23 * r2
        b0 = 0.0
        b1 = 0.0
        b2 = 0.0
        b3 = 0.0
        # views from column i + 4 on: indices from 0 (known non-negative: no wraparound
        # test per element, so LLVM vectorises the loop)
        c0 = i + 4
        w0 = P[i, c0:]
        w1 = P[i + 1, c0:]
        w2 = P[i + 2, c0:]
        w3 = P[i + 3, c0:]
        sv = s[c0:]
        rv = ra[c0:]
        pv = part[c0:]
        for j in range(Na - c0):
            sj = sv[j]
            rj = rv[j]
            q0 = (w0[j] - s0 * sj) * scale
            q1 = (w1[j] - s1 * sj) * scale
            q2 = (w2[j] - s2 * sj) * scale
            q3 = (w3[j] - s3 * sj) * scale
            w0[j] = q0
            w1[j] = q1
            w2[j] = q2
            w3[j] = q3
            b0 += q0 * rj
            b1 += q1 * rj
            b2 += q2 * rj
            b3 += q3 * rj
            pv[j] += q0 * r0 + q1 * r1 + q2 * r2 + q3 * r3
        k[i] = a0 + b0
        k[i + 1] = a1 + b1
        k[i + 2] = a2 + b2
        k[i + 3] = a3 + b3
        i += 4
    while i < i1:
        si = s[i]
        ri = ra[i]
        p = (P[i, i] - si * si) * scale
        P[i, i] = p
        acc = p * ri
        c0 = i + 1
        w0 = P[i, c0:]
        sv = s[c0:]
        rv = ra[c0:]
        pv = part[c0:]
        for j in range(Na - c0):
            q = (w0[j] - si * sv[j]) * scale
            w0[j] = q
            acc += q * rv[j]
            pv[j] += q * ri
        k[i] = acc
        i += 1


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

    Only the upper triangle of ``P`` is read and written (the lower one is left stale):
    the input ``P`` must hold the upper triangle of a symmetric matrix, and
    :func:`flush_downdate` must be called before ``P`` is read. ``s_pend`` (N or N + 1,)
    holds ``sqrt(c) k`` of the pending downdate and ``pending_box[0]`` is 1 when one is
    pending (0 otherwise); :func:`flush_downdate` applies it at the end (with
    ``1 / lam``) and mirrors the triangle. Returns ``(status, n_done)``: status -1 on
    success, ``t`` of a non-finite state, or ``-2 - t`` when ``lam + r^T P r`` is not a
    positive finite number (P lost positive definiteness or overflowed).
    """
    n_threads = nb.get_num_threads()
    n_blocks = sweep_blocks(P.shape[0], n_threads)
    args = (arrays, alpha, code, mode, x, U, Y, Y_fb, P, b_out, use_b, lam, update_every,
            s_pend, pending_box, e_minus, e_plus, dw_norm, upd_steps, t_offset, n_done)
    if n_blocks == 1 and n_threads > 1:
        # one triangle block (N < 128): the step's work is too small to share, and a
        # parallel region per step costs a barrier (a time slice on a loaded machine):
        # run it on this thread alone
        nb.set_num_threads(1)
        try:
            return _force_run(*args, 1, 1)
        finally:
            nb.set_num_threads(n_threads)
    return _force_run(*args, n_blocks, max(n_blocks, min(n_threads, x.shape[0])))


def sweep_blocks(n, n_threads):
    """Number of row blocks of the triangle sweep: one per thread, at least 64 rows each
    (fewer rows do not pay for the partial sums and their reduction)."""
    return max(1, min(n_threads, n // 64))


@nb.njit(cache=True, parallel=True, fastmath=_REASSOC)
def _force_run(arrays, alpha, code, mode, x, U, Y, Y_fb, P, b_out, use_b, lam, update_every,
               s_pend, pending_box, e_minus, e_plus, dw_norm, upd_steps, t_offset, n_done,
               n_blocks, n_par):
    """:func:`force_run` with ``n_blocks`` (>= 1) row blocks of the triangle sweep and
    ``n_par >= n_blocks`` iterations of the step's one ``prange`` (the number of threads,
    see :func:`sweep_blocks`): iteration ``q`` sweeps triangle block ``q`` (if any) and
    computes the new state of its share of the units (``J r`` uses the same rates as the
    RLS update, and the fed-back ``z`` is the a-priori one, so both run in one parallel
    region per step)."""
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
        ra = r                          # the regressor r itself (updated after the step)
    inv_lam = 1.0 / lam
    n_par = max(n_par, n_blocks)                # every triangle block gets an iteration
    bounds = triangle_blocks(Na, n_blocks)
    part = np.empty((n_blocks, Na), P.dtype)
    unit_lo = np.empty(n_par + 1, np.int64)     # units of iteration q: [lo[q], lo[q + 1])
    for q in range(n_par + 1):
        unit_lo[q] = (q * N) // n_par
    totals = np.empty(n_par, x.dtype)
    h = np.empty(N, x.dtype)
    for t in range(T):
        _readout(W_out, r, z)
        if use_b:
            for kk in range(K):
                z[kk] += b_out[kk]
        tg = t_offset + t
        update = tg > 0 and tg % update_every == 0
        scale = 1.0
        if update:
            if intercept:
                for i in range(N):
                    ra[i] = r[i]
            if pending_box[0] != 0.0:
                scale = inv_lam
            else:
                s_pend[:] = 0.0
        _feedback(mode, z, Y_fb, t, f)
        _drive(arrays, U, t, f, drive)
        # one parallel region: the sweep over the upper triangle (pending downdate
        # P <- (P - s s^T) / lam, then k_new = P ra: row sums here, transposed sums per
        # block in `part`) and the Euler step of the state
        for q in nb.prange(n_par):
            if update and q < n_blocks:
                part_q = part[q]
                part_q[:] = 0.0
                sweep_rows(P, s_pend, ra, k_new, part_q, bounds[q], bounds[q + 1], scale)
            tot = 0.0
            if dense:        # four rows of J per pass over r
                dense_rows(J, r, h, unit_lo[q], unit_lo[q + 1])
            for i in range(unit_lo[q], unit_lo[q + 1]):
                acc = h[i] if dense else recurrent_input(dense, J, data, indices, indptr, i, r)
                xi = (1.0 - alpha) * x[i] + alpha * (acc + drive[i])
                x_new[i] = xi
                r_new[i] = phi_scalar(code, xi)
                tot += xi
            totals[q] = tot
        if update:
            for q in range(n_blocks):
                part_q = part[q]
                for j in range(bounds[q] + 1, Na):
                    k_new[j] += part_q[j]
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
        total = 0.0
        for q in range(n_par):
            total += totals[q]
        if not math.isfinite(total) and not all_finite(x_new):
            return tg, n_done
        x[:] = x_new
        r[:] = r_new
    return -1, n_done
