"""Forward-Euler simulation kernels: dense/sparse ``J``, one trial or a batch.

A single trial runs on one thread for small products (:func:`run_single_serial`: the
product, the Euler update and ``phi`` as separate vectorised passes, ``tanh`` from
:mod:`.fast_tanh`) and with the rows of the product on Numba's threads for large ones
(:func:`run_single_rows`); :func:`run_single` chooses (issue 16). The batched dense runner
advances all trials with one matrix-matrix product per step (:mod:`.euler_batch`; the NumPy
loop :func:`run_dense_batch_numpy` is its reference). Batched sparse kernels keep
the states as (N, B) so the CSR traversal reads contiguous rows of rates.
"""

import math

import numba as nb
import numpy as np

from ..nonlinearities import phi_scalar
from .arrays import is_dense, n_panels
from .batch_rows import all_finite, phi_vector

_REASSOC = {"reassoc"}
_FLAGS = {"reassoc", "contract"}   # vectorised sums; NaN and inf keep their meaning


@nb.njit(cache=True, fastmath={"contract"})
def csr_row_dot(data, indices, start, end, r):
    """sum_{p in [start, end)} data[p] * r[indices[p]], with eight independent
    accumulators (nonzeros p, p + 8, p + 16, ... in one), each a fused multiply-add chain.

    The independent chains let consecutive gathers of ``r`` overlap; the sum is the
    combination of the eight partial sums in a fixed order, so it differs from the
    sequential CSR sum (scipy's) by rounding only. The product alone, measured on AMD EPYC
    (Zen 4, one core, issue 16), 10 % density: 0.88 / 0.77 / 0.74x the time of
    ``scipy.sparse``'s product at N = 1000 / 2000 / 4000 with uint32 indices, against
    1.0 / 0.86 / 0.86x with four accumulators and no FMA (the whole simulation step against
    a ``scipy.sparse`` loop: see BENCHMARKS.md).

    Compiled on its own, with ``contract`` but not ``reassoc``, and not inlined by Numba,
    so that a caller's ``reassoc`` flag does not reach this loop: reassociated, LLVM turns
    it into AVX-512 gather instructions, which measured 1.4-1.5x slower than this scalar
    loop on AMD EPYC. Give it unsigned indices where it matters
    (:func:`.arrays.network_arrays` gives uint16 up to N = 65536 and uint32 above, by
    default): Numba tests a signed index for a negative value at every nonzero (2.1x slower at N = 2000, 10 %; casting a signed index
    to unsigned inside the loop did not help).
    """
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    p = start
    while p + 8 <= end:
        a0 += data[p] * r[indices[p]]
        a1 += data[p + 1] * r[indices[p + 1]]
        a2 += data[p + 2] * r[indices[p + 2]]
        a3 += data[p + 3] * r[indices[p + 3]]
        a4 += data[p + 4] * r[indices[p + 4]]
        a5 += data[p + 5] * r[indices[p + 5]]
        a6 += data[p + 6] * r[indices[p + 6]]
        a7 += data[p + 7] * r[indices[p + 7]]
        p += 8
    while p < end:
        a0 += data[p] * r[indices[p]]
        p += 1
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


@nb.njit(cache=True, fastmath=_FLAGS)
def csr_row_axpy(h, data, indices, start, end, RT):
    """``h += sum_{p in [start, end)} data[p] RT[indices[p]]`` for a row ``h`` (B,) and
    rates ``RT`` (N, B): one CSR row of ``J`` times the batch's rates, added in place.

    Four nonzeros per pass over ``h``: one load and one store of ``h`` per four rows of
    ``RT`` (vectorised over the batch), where one nonzero per pass loaded and stored ``h``
    every time, and each pass paid the vectoriser's overlap checks. Measured alone on AMD
    EPYC (Zen 4, one core, issue 16), 10 % density, ns per nonzero, one / four per pass /
    ``scipy.sparse`` ``J @ RT``: B = 16: 4.0 / 2.8 / 4.2; B = 64: 13-14 / 6.7-9.8 /
    13.4-16.6 (N = 1000-2000). The four products of a pass are summed before they are added
    to ``h``, so the result differs from the sequential CSR sum by rounding only. ``h`` must
    not overlap ``RT``.
    """
    B = h.shape[0]
    p = start
    while p + 4 <= end:
        w0 = data[p]
        w1 = data[p + 1]
        w2 = data[p + 2]
        w3 = data[p + 3]
        r0 = RT[indices[p]]
        r1 = RT[indices[p + 1]]
        r2 = RT[indices[p + 2]]
        r3 = RT[indices[p + 3]]
        for bb in range(B):
            h[bb] += (w0 * r0[bb] + w1 * r1[bb]) + (w2 * r2[bb] + w3 * r3[bb])
        p += 4
    while p < end:
        w = data[p]
        r = RT[indices[p]]
        for bb in range(B):
            h[bb] += w * r[bb]
        p += 1


@nb.njit(cache=True, inline="always", fastmath=_REASSOC)
def recurrent_input(dense, J, data, indices, indptr, i, r):
    """Row ``i`` of ``J r`` for dense ``J`` or CSR (data, indices, indptr) in column
    panels (:class:`.arrays.NetworkArrays`), summed panel by panel."""
    if dense:
        acc = 0.0
        for j in range(r.shape[0]):
            acc += J[i, j] * r[j]
        return acc
    N1 = r.shape[0] + 1
    acc = csr_row_dot(data, indices, indptr[i], indptr[i + 1], r)
    for p in range(1, n_panels(indptr, r.shape[0])):
        o = p * N1 + i
        acc += csr_row_dot(data, indices, indptr[o], indptr[o + 1], r)
    return acc


@nb.njit(cache=True, inline="always")
def csr_rows(data, indices, indptr, r, h, lo, hi):
    """``h[i] = (J r)[i]`` for the rows ``lo <= i < hi`` of a CSR ``J`` in column panels:
    all the rows over the first panel, then each further panel added, so that a panel's
    slice of ``r`` stays in the L1 cache (:func:`.arrays.column_panels`). Each row's sum
    is the same as :func:`recurrent_input`'s, whatever ``lo`` and ``hi``."""
    N = r.shape[0]
    for i in range(lo, hi):
        h[i] = csr_row_dot(data, indices, indptr[i], indptr[i + 1], r)
    for p in range(1, n_panels(indptr, N)):
        o = p * (N + 1)
        for i in range(lo, hi):
            h[i] += csr_row_dot(data, indices, indptr[o + i], indptr[o + i + 1], r)


@nb.njit(cache=True, inline="always")
def loop_buffers(code, x, K):
    """The rates ``r = phi(x)`` and the scratch vectors of a single-trial time loop.

    Returns ``(r, x_new, r_new, z, drive)``: ``r`` filled, the others empty, of shapes
    (N,), (N,), (N,), (K,), (N,) and ``x``'s dtype.
    """
    N = x.shape[0]
    r = np.empty(N, x.dtype)
    for i in range(N):
        r[i] = phi_scalar(code, x[i])
    return r, np.empty(N, x.dtype), np.empty(N, x.dtype), np.empty(K, x.dtype), \
        np.empty(N, x.dtype)


@nb.njit(cache=True)
def _feedback(mode, z, Y, t, f):
    K = f.shape[0]
    if mode == 2:
        for k in range(K):
            f[k] = z[k]
    elif mode == 1:
        for k in range(K):
            f[k] = Y[t, k]
    else:
        for k in range(K):
            f[k] = 0.0


@nb.njit(cache=True, error_model="numpy", fastmath=_FLAGS)
def _readout(W_out, r, z):
    K, N = W_out.shape
    for k in range(K):
        acc = 0.0
        for j in range(N):
            acc += W_out[k, j] * r[j]
        z[k] = acc


@nb.njit(cache=True)
def _drive(arrays, U, t, f, drive):
    """drive = W_in u[t] + W_fb f + b (serial; M and K are small)."""
    W_in, W_fb, b = arrays.W_in, arrays.W_fb, arrays.b
    N, M = W_in.shape
    K = W_fb.shape[1]
    for i in range(N):
        acc = b[i]
        for m in range(M):
            acc += W_in[i, m] * U[t, m]
        for k in range(K):
            acc += W_fb[i, k] * f[k]
        drive[i] = acc


#: Smallest ``J r`` product (in multiply-adds of a dense row sweep: ``N^2`` dense, and
#: :data:`SPARSE_WORK` per nonzero of a CSR ``J``) that :func:`run_single` splits over
#: threads (rows in parallel); smaller ones run serially, where starting the threads
#: every step costs more than the product. Measured on 2 cores (AMD EPYC, issue 16,
#: median of 15, wall time per step, serial / rows): dense N = 200 5.5 / 8.1 us, N = 300
#: 9.7 / 8.5, N = 500 30.1 / 21.6; 10 % sparse N = 500 13.2 / 15.8, N = 700 23.1 / 19.5,
#: N = 1000 47.8 / 32.2.
PARALLEL_MIN_WORK = 2**17
#: Cost of one CSR nonzero (a gather of ``r`` and an index load) in dense multiply-adds,
#: for :data:`PARALLEL_MIN_WORK`.
SPARSE_WORK = 4


def run_single(arrays, alpha, code, mode, x, U, Y, noise, noise_scale, out_x, out_r, out_z):
    """Advance one trial ``T = U.shape[0]`` steps from ``x`` (updated in place).

    ``arrays`` is a :class:`~.arrays.NetworkArrays` with a dense or a CSR ``J``. Shapes:
    x (N,); U (T, M); Y (T, K) or (0, K) unless mode == 1; noise (T, N) or (0, N);
    out_x, out_r (T, N) or (0, N); out_z (T, K) or (0, K). Row ``t`` of the outputs holds
    the state *before* step ``t`` (``x[t]``); the scratch vectors have ``x``'s dtype.

    Runs :func:`run_single_serial`, or :func:`run_single_rows` (rows of ``J r`` on
    Numba's threads) when more than one thread is available and the product has at least
    :data:`PARALLEL_MIN_WORK` multiply-adds (a CSR nonzero counting :data:`SPARSE_WORK`).
    Both compute every quantity with the same
    formulas; they may differ in the rounding of the summation order of ``J r``.

    Returns ``-1``, or the step ``t`` whose update gave a non-finite state (``x`` then
    holds ``x[t]``).
    """
    work = (x.shape[0] ** 2 if arrays.indptr.shape[0] == 0
            else SPARSE_WORK * arrays.data.shape[0])
    # every argument given (none left to its default): one compiled signature per kernel
    if work >= PARALLEL_MIN_WORK and nb.get_num_threads() > 1:
        return run_single_rows(arrays, alpha, code, mode, x, U, Y, noise, noise_scale,
                               out_x, out_r, out_z, nb.get_num_threads(), True)
    return run_single_serial(arrays, alpha, code, mode, x, U, Y, noise, noise_scale, out_x,
                             out_r, out_z, True)


#: Fewest rows per parallel chunk of :func:`run_single_rows` (enough for the vectorised
#: ``phi`` of the chunk).
ROWS_PER_CHUNK = 64
#: Most chunks per step of :func:`run_single_rows` (Numba's static schedule deals them out
#: to the threads).
MAX_CHUNKS = 64
#: Rows of a dense ``J`` summed together by :func:`dense_rows` (one load of ``r[j]`` per
#: four multiply-adds, one horizontal reduction per row at the end).
ROW_BLOCK = 4
#: From this many units :func:`dense_rows` sums eight rows together.
EIGHT_ROWS_MIN_N = 512


@nb.njit(cache=True)
def row_chunks(N, n_threads):
    """Bounds (n_chunks + 1,) of the row chunks of :func:`run_single_rows`: a multiple of
    ``n_threads`` chunks (Numba's static schedule then gives every thread as many; 7
    chunks on two threads at N = 500 left one thread a chunk idle every step: two cores,
    N = 500 / 1000, 17-20 -> 15 / 59-63 -> 55 us per step), of at least
    :data:`ROWS_PER_CHUNK` rows where ``N`` allows, at most :data:`MAX_CHUNKS` where the
    thread count allows, starting on the row blocks of :func:`dense_rows` (multiples of 8
    from :data:`EIGHT_ROWS_MIN_N` units, of :data:`ROW_BLOCK` below), so that the rows are
    summed in the blocks of the one-thread kernel: the same bits for any thread count."""
    n_threads = max(1, n_threads)
    per_thread = max(1, min(N // (ROWS_PER_CHUNK * n_threads), MAX_CHUNKS // n_threads))
    n_chunks = n_threads * per_thread
    # starts on the blocks of dense_rows (8 rows from EIGHT_ROWS_MIN_N units): every row
    # is then summed as in the one-thread kernel, whatever the thread count
    align = 8 if N >= EIGHT_ROWS_MIN_N else ROW_BLOCK
    bounds = np.empty(n_chunks + 1, np.int64)
    for c in range(n_chunks):
        bounds[c] = (c * N // n_chunks) // align * align
    bounds[n_chunks] = N
    return bounds


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _rows8(J, r, h, i):
    """h[i:i+8] = J[i:i+8] . r, sharing every load of r."""
    N = r.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    for j in range(N):
        rj = r[j]
        a0 += J[i, j] * rj
        a1 += J[i + 1, j] * rj
        a2 += J[i + 2, j] * rj
        a3 += J[i + 3, j] * rj
        a4 += J[i + 4, j] * rj
        a5 += J[i + 5, j] * rj
        a6 += J[i + 6, j] * rj
        a7 += J[i + 7, j] * rj
    h[i] = a0
    h[i + 1] = a1
    h[i + 2] = a2
    h[i + 3] = a3
    h[i + 4] = a4
    h[i + 5] = a5
    h[i + 6] = a6
    h[i + 7] = a7


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _rows4(J, r, h, i):
    """h[i:i+4] = J[i:i+4] . r, sharing every load of r."""
    N = r.shape[0]
    a0 = a1 = a2 = a3 = 0.0
    for j in range(N):
        rj = r[j]
        a0 += J[i, j] * rj
        a1 += J[i + 1, j] * rj
        a2 += J[i + 2, j] * rj
        a3 += J[i + 3, j] * rj
    h[i] = a0
    h[i + 1] = a1
    h[i + 2] = a2
    h[i + 3] = a3


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _rows_tail(J, r, h, i, hi):
    """The rows i <= row < hi after the blocks: four together while they last, then one
    at a time."""
    N = r.shape[0]
    while i + 4 <= hi:
        _rows4(J, r, h, i)
        i += 4
    while i < hi:
        acc = 0.0
        for j in range(N):
            acc += J[i, j] * r[j]
        h[i] = acc
        i += 1


@nb.njit(cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def dense_rows(J, r, h, lo, hi, reverse=False):
    """h[i] = J[i] . r for the rows lo <= i < hi, in blocks of four rows, of eight from
    :data:`EIGHT_ROWS_MIN_N` units on (each row's sum vectorised), then the rows left
    over; ``reverse`` takes the same blocks last to first (the same bits). Four rows share
    every load of ``r``: 1.15-1.3x faster than one row at a time at N = 100-500 (AMD EPYC,
    one core, issue 16). Eight measured 1.09x / 1.13x faster again at N = 1000 / 2000,
    where ``J`` streams from L3 (more rows in flight), equal at N = 500 and 4-5 % slower at
    N = 100-250."""
    width = 8 if r.shape[0] >= EIGHT_ROWS_MIN_N else 4
    n_blocks = (hi - lo) // width
    tail = lo + n_blocks * width
    if reverse:
        _rows_tail(J, r, h, tail, hi)
    if width == 8:
        for bi in range(n_blocks):
            _rows8(J, r, h, lo + 8 * (n_blocks - 1 - bi if reverse else bi))
    else:
        for bi in range(n_blocks):
            _rows4(J, r, h, lo + 4 * (n_blocks - 1 - bi if reverse else bi))
    if not reverse:
        _rows_tail(J, r, h, tail, hi)


@nb.njit(cache=True, inline="always")
def _single_buffers(code, x, K):
    """The rates ``r = phi(x)`` (filled) and the empty scratch vectors ``x_new``, ``drive``
    (N,), ``z``, ``f`` (K,) of a single-trial loop, in ``x``'s dtype."""
    N = x.shape[0]
    r = np.empty(N, x.dtype)
    phi_vector(code, x, r, 0.5, 0.0)
    return (r, np.empty(N, x.dtype), np.empty(N, x.dtype), np.empty(K, x.dtype),
            np.empty(K, x.dtype))


@nb.njit(cache=True, inline="always")
def _begin_step(arrays, mode, t, x, r, z, f, drive, U, Y, out_x, out_r, out_z):
    """The start of step ``t`` of a single-trial loop: the readout ``z`` of the rates
    ``r``, the requested records of ``x``, ``r``, ``z`` (an output with 0 rows is not
    recorded), the fed-back ``f`` and the drive ``W_in u[t] + W_fb f + b``."""
    _readout(arrays.W_out, r, z)
    if out_x.shape[0] > 0:
        out_x[t, :] = x
    if out_r.shape[0] > 0:
        out_r[t, :] = r
    if out_z.shape[0] > 0:
        out_z[t, :] = z
    _feedback(mode, z, Y, t, f)
    _drive(arrays, U, t, f, drive)


@nb.njit(cache=True, error_model="numpy", fastmath=_FLAGS)
def run_single_serial(arrays, alpha, code, mode, x, U, Y, noise, noise_scale, out_x, out_r,
                      out_z, zigzag=True):
    """:func:`run_single` on one thread: per step the product ``h = J r`` (rows of a dense
    ``J`` with vectorised sums, or :func:`csr_row_dot` per CSR row), one vectorised pass
    for the Euler update and one for ``r = phi(x)`` (:func:`.batch_rows.phi_vector`).
    Same arguments and return value, and ``zigzag``: a dense ``J``'s rows are summed last
    to first on odd steps (the same bits), so a step starts on the rows the previous one
    left in L2. One core, AMD EPYC, medians of 11 alternations, us per step without /
    with: N = 250 6.30 / 6.29, 500 26.1 / 23.8, 724 53.3 / 51.6, 1000 98.5 / 97.1, 1500
    301 / 287, 2000 836 / 827 (issue 16)."""
    dense = is_dense(arrays)
    J, data, indices, indptr = arrays.J, arrays.data, arrays.indices, arrays.indptr
    N = x.shape[0]
    K = arrays.W_out.shape[0]
    T = U.shape[0]
    r, x_new, drive, z, f = _single_buffers(code, x, K)
    h = np.empty(N, x.dtype)
    use_noise = noise.shape[0] > 0
    keep = 1.0 - alpha
    for t in range(T):
        _begin_step(arrays, mode, t, x, r, z, f, drive, U, Y, out_x, out_r, out_z)
        if dense:
            dense_rows(J, r, h, 0, N, zigzag and t % 2 == 1)
        else:
            csr_rows(data, indices, indptr, r, h, 0, N)
        total = 0.0
        if use_noise:
            for i in range(N):
                xi = keep * x[i] + alpha * (h[i] + drive[i]) + noise_scale * noise[t, i]
                x_new[i] = xi
                total += xi
        else:
            for i in range(N):
                xi = keep * x[i] + alpha * (h[i] + drive[i])
                x_new[i] = xi
                total += xi
        if not math.isfinite(total) and not all_finite(x_new):
            return t
        x[:] = x_new
        phi_vector(code, x, r, 0.5, 0.0)
    return -1


@nb.njit(cache=True, parallel=True, fastmath=_FLAGS)
def run_single_rows(arrays, alpha, code, mode, x, U, Y, noise, noise_scale, out_x, out_r,
                    out_z, n_threads=2, zigzag=True):
    """:func:`run_single` with each step's rows in a ``prange`` loop over Numba's threads:
    contiguous chunks of at least :data:`ROWS_PER_CHUNK` rows, each chunk computing its
    rows of ``J r``, their Euler update and their rates ``phi(x)`` (vectorised), into
    second buffers that are swapped with the current ones after the step (no serial pass
    and no copy per step). Same arguments and return value, and ``n_threads``, Numba's
    thread count (:func:`row_chunks`), and ``zigzag`` as in :func:`run_single_serial`:
    on odd steps each thread takes its chunks, and their rows, last to first (two cores,
    medians of 11 alternations, us per step without / with: N = 500 15.0 / 14.4, 1000
    61.4 / 59.5, 1500 133 / 134).

    The row sweep is written inline: parallel regions are never called from another
    compiled function (that pattern crashed with Numba's on-disk cache).
    """
    dense = is_dense(arrays)
    J, data, indices, indptr = arrays.J, arrays.data, arrays.indices, arrays.indptr
    N = x.shape[0]
    K = arrays.W_out.shape[0]
    T = U.shape[0]
    ra, xb, drive, z, f = _single_buffers(code, x, K)
    rb = np.empty(N, x.dtype)
    h = np.empty(N, x.dtype)
    use_noise = noise.shape[0] > 0
    keep = 1.0 - alpha
    bounds = row_chunks(N, n_threads)
    n_chunks = bounds.shape[0] - 1
    per_thread = np.int64(n_chunks // max(1, n_threads))
    xa = x
    in_x = True                    # whether the current state is in the caller's x
    for t in range(T):
        _begin_step(arrays, mode, t, xa, ra, z, f, drive, U, Y, out_x, out_r, out_z)
        total = 0.0
        odd = zigzag and t % 2 == 1
        for c in nb.prange(n_chunks):
            k = np.int64(c)
            if odd:      # each thread's chunks last to first (static schedule)
                k = (k // per_thread) * per_thread + per_thread - 1 - k % per_thread
            lo = bounds[k]
            hi = bounds[k + 1]
            if dense:
                dense_rows(J, ra, h, lo, hi, odd)
            else:
                csr_rows(data, indices, indptr, ra, h, lo, hi)
            part = 0.0
            for i in range(lo, hi):
                if use_noise:
                    xi = keep * xa[i] + alpha * (h[i] + drive[i]) + noise_scale * noise[t, i]
                else:
                    xi = keep * xa[i] + alpha * (h[i] + drive[i])
                xb[i] = xi
                part += xi
            phi_vector(code, xb[lo:hi], rb[lo:hi], 0.5, 0.0)
            total += part
        if not math.isfinite(total) and not all_finite(xb):
            if not in_x:
                x[:] = xa
            return t
        xa, xb = xb, xa
        ra, rb = rb, ra
        in_x = not in_x
    if not in_x:
        x[:] = xa
    return -1


def _phi_into(code, X, R):
    if code == 0:
        np.tanh(X, out=R)
    elif code == 1:
        np.maximum(X, 0.0, out=R)
    else:
        np.multiply(X, 0.5, out=R)
        np.tanh(R, out=R)
        R += 1.0
        R *= 0.5


@np.errstate(over="ignore", invalid="ignore")  # divergence is detected and reported below
def run_dense_batch_numpy(JT, W_inT, W_fbT, W_outT, b, alpha, code, mode, X, U, Y, noise,
                          noise_scale, out_x, out_r, out_z):
    """Advance a batch of B trials ``T`` steps with one GEMM per step, in plain NumPy.

    The reference for the Numba kernel :func:`.euler_batch.run_dense_batch` that
    :func:`reservoir.simulate` uses (same results to rounding). A plain-NumPy reference,
    so it keeps its separate, transposed weight arguments instead of the kernels'
    :class:`~.arrays.NetworkArrays`.

    Shapes: JT = J.T (N, N) (any layout); W_inT (M, N); W_fbT (K, N); W_outT (N, K);
    b (N,); X (B, N) updated in place; U (B, T, M); Y (B, T, K) or (B, 0, K);
    noise (B, T, N) or (B, 0, N); out_x, out_r (B, T, N) or (B, 0, N);
    out_z (B, T, K) or (B, 0, K).

    Returns ``-1`` or ``t * B + trial`` of the first non-finite update.
    """
    B, N = X.shape
    M = W_inT.shape[0]
    T = U.shape[1]
    R = np.empty((B, N))
    _phi_into(code, X, R)
    H = np.empty((B, N))
    rec_x, rec_r, rec_z = out_x.shape[1] > 0, out_r.shape[1] > 0, out_z.shape[1] > 0
    use_noise = noise.shape[1] > 0
    keep = 1.0 - alpha
    for t in range(T):
        Z = R @ W_outT
        if rec_x:
            out_x[:, t, :] = X
        if rec_r:
            out_r[:, t, :] = R
        if rec_z:
            out_z[:, t, :] = Z
        np.matmul(R, JT, out=H)
        H += b
        if M > 0:
            H += U[:, t, :] @ W_inT
        if mode == 2:
            H += Z @ W_fbT
        elif mode == 1:
            H += Y[:, t, :] @ W_fbT
        H *= alpha
        X *= keep
        X += H
        if use_noise:
            X += noise_scale * noise[:, t, :]
        _phi_into(code, X, R)
        finite = np.all(np.isfinite(X), axis=1)
        if not np.all(finite):
            return t * B + int(np.argmin(finite))
    return -1


@nb.njit(cache=True, parallel=True, fastmath=_REASSOC)
def run_sparse_batch(arrays, alpha, code, mode, X, U, Y, noise, noise_scale, out_x, out_r,
                     out_z):
    """Batched run with CSR ``J`` (``arrays``, a :class:`~.arrays.NetworkArrays` of a
    sparse network); other shapes as in :func:`run_dense_batch_numpy`. The scratch arrays
    have ``X``'s dtype. On a non-finite update every trial has taken step ``t``; the first
    such trial is reported.

    States are kept as (N, B), so that every inner loop runs over the batch, contiguous
    and vectorised: a CSR nonzero ``J[i, j]`` adds ``J[i, j] R[j, :]`` to row ``i`` of the
    drive, four nonzeros per pass (:func:`csr_row_axpy`; no per-row buffer); the readout
    is the same sum with the dense rows of ``W_out``. One pass over the rows (on Numba's
    threads) forms each row's drive, adds its CSR row, updates the state and applies
    ``phi`` (:func:`.batch_rows.phi_vector`) into a second rate buffer, since every row
    reads the current rates; the buffers swap each step. Per step, one core, N = 1000,
    B = 16 (AMD EPYC, issue 16): 326 -> 250 us, of which 95 -> 40 us outside the CSR
    product.
    """
    data, indices, indptr = arrays.data, arrays.indices, arrays.indptr
    W_in, W_fb, W_out, b = arrays.W_in, arrays.W_fb, arrays.W_out, arrays.b
    B, N = X.shape
    P = n_panels(indptr, N)
    K = W_out.shape[0]
    M = W_in.shape[1]
    T = U.shape[1]
    XT = np.ascontiguousarray(X.T)
    RT = np.empty((N, B), X.dtype)
    RN = np.empty((N, B), X.dtype)       # the rates of the next step
    for i in range(N):
        phi_vector(code, XT[i], RT[i], 0.5, 0.0)
    every = np.arange(N).astype(indices.dtype)    # the readout's rows as CSR columns
    ZT = np.empty((K, B), X.dtype)
    FT = np.empty((K, B), X.dtype)
    UT = np.empty((M, B), X.dtype)
    H = np.empty((N, B), X.dtype)
    row_totals = np.empty(N)
    rec_x = out_x.shape[1] > 0
    rec_r = out_r.shape[1] > 0
    rec_z = out_z.shape[1] > 0
    use_noise = noise.shape[1] > 0
    a = alpha
    for t in range(T):
        for k in range(K):
            ZT[k, :] = 0.0
            csr_row_axpy(ZT[k], W_out[k], every, 0, N, RT)
            for bb in range(B):
                if mode == 2:
                    FT[k, bb] = ZT[k, bb]
                elif mode == 1:
                    FT[k, bb] = Y[bb, t, k]
                else:
                    FT[k, bb] = 0.0
        for m in range(M):
            for bb in range(B):
                UT[m, bb] = U[bb, t, m]
        for bb in range(B):
            if rec_x:
                out_x[bb, t, :] = XT[:, bb]
            if rec_r:
                out_r[bb, t, :] = RT[:, bb]
            if rec_z:
                out_z[bb, t, :] = ZT[:, bb]
        for i in nb.prange(N):
            Hi = H[i]
            Hi[:] = b[i]
            for m in range(M):
                w = W_in[i, m]
                for bb in range(B):
                    Hi[bb] += w * UT[m, bb]
            for k in range(K):
                w = W_fb[i, k]
                for bb in range(B):
                    Hi[bb] += w * FT[k, bb]
            for p in range(P):         # the row's column panels in order
                o = p * (N + 1) + i
                csr_row_axpy(Hi, data, indices, indptr[o], indptr[o + 1], RT)
            Xi = XT[i]
            total = 0.0
            for bb in range(B):
                xi = (1.0 - a) * Xi[bb] + a * Hi[bb]
                if use_noise:
                    xi += noise_scale * noise[bb, t, i]
                Xi[bb] = xi
                total += xi
            row_totals[i] = total
            phi_vector(code, Xi, RN[i], 0.5, 0.0)
        RT, RN = RN, RT
        if not math.isfinite(np.sum(row_totals)):
            for bb in range(B):
                if not all_finite(XT[:, bb]):
                    X[:, :] = XT.T
                    return t * B + bb
    X[:, :] = XT.T
    return -1
