"""Offline readout training by ridge regression on teacher-forced states.

The least-squares problem is solved without forming ``R^T R`` (which squares the condition
number): the weighted rows ``[sqrt(w) r_t | sqrt(w) y_t]`` are folded, chunk by chunk, into
the upper-triangular factor of their Householder QR decomposition (LAPACK ``dtpqrt``), and
the ridge problem is solved from that factor, by the QR decomposition of the factor stacked
on ``sqrt(reg) I`` or, when the penalty is at the rounding level (``reg = 0`` included), by
its SVD with a stated cutoff (Golub & Van Loan, *Matrix Computations*, 4th ed., sections
5.2-5.3 and 6.1: the factor has the singular values of the weighted rates, and ridge is
Tikhonov filtering of them).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import hashlib
import math
from dataclasses import dataclass

import numba as nb
import numpy as np
from numpy.typing import ArrayLike
import scipy.linalg
from scipy.linalg import lapack

from .._checks import RngLike
from .._checks import (as_float_array, as_int, as_positive_float, as_real_array, as_rng,
                       check_memory, check_rng)
from .._kernels.blas_threads import single_threaded_blas
from .._results import ResultMixin
from ..network import Network
from .._kernels.arrays import _ALIGN, network_arrays
from .._simulate import (_ALIGN_MIN_STEPS, _CHUNK_BYTES, MODE_CODES, _panels,
                         _run_kernels, prepare_batch)
from ..nonlinearities import CODES

#: Column block size of the triangular-pentagonal QR update (LAPACK ``dtpqrt``).
_QR_BLOCK = 64
#: LAPACK calls of at most this many flops run with SciPy's OpenBLAS on one thread: a
#: Householder QR or SVD makes O(n) level-2 BLAS calls, each a thread synchronisation, and
#: on busy cores small ones were measured up to 1000x slower threaded (a 5 x 202 update:
#: 0.7 ms on one thread, 0.9 s on two with other processes on the cores).
_SMALL_FLOPS = 2**28


def _blas_threads_for(flops: float):
    """One BLAS thread for a small LAPACK call, the process' setting for a large one."""
    return single_threaded_blas() if flops <= _SMALL_FLOPS else contextlib.nullcontext()


@dataclass(frozen=True, eq=False, repr=False)
class RidgeResult(ResultMixin):
    """Result of :func:`fit_ridge`.

    Parameters
    ----------
    network : Network
        The input network with the fitted ``W_out``; its ``meta["readout_fit"]`` records
        how the readout was fitted (see :func:`fit_ridge`).
    W_out : ndarray, shape (K, N)
        The fitted readout.
    b_out : ndarray, shape (K,)
        The fitted readout intercept (readout units; zeros unless ``intercept=True``).
    x_final : ndarray, shape (N,) or (B, N), or (n_trials, N)
        State after the last teacher-forced step (of each trial).
    train_mse : ndarray, shape (K,)
        Weighted mean squared error of ``W_out r[t] + b_out`` against ``y[t]`` on the
        samples used (readout units squared), computed from the QR factor (no
        cancellation). Targets beyond about 1e60 or below 1e-60 in magnitude (over the
        samples used: after the washout, of positive weight) are regressed after an exact
        scaling by a power of two, so their readout stays finite and exact; a training
        error beyond the float64 range is then ``inf``, with a message.
    n_samples : float
        Sum of the sample weights (number of samples used when there is no mask).
    reg : float
        The penalty requested, which is the penalty applied: the readout minimises the
        ridge objective with this ``reg`` (over the ``rank`` directions kept when
        ``solver == "svd"`` drops some, see ``messages``).
    success : bool
        The readout and its training error are finite.
    messages : tuple of str
        What the solve did beyond the plain ridge solution (empty otherwise): directions
        dropped below the cutoff, or why it failed.
    solver : {"qr", "svd", "none"}
        How the ridge problem was solved from the triangular factor ``F = [[F_R, F_Y],
        [0, F_E]]`` of the Householder QR decomposition of ``[sqrt(w) R | sqrt(w) Y]``
        (accumulated chunk by chunk; ``R^T R`` is never formed). ``"qr"`` (when
        ``reg > rcond |F_R|_F^2``, a penalty above the rounding level of the data): QR
        decomposition of ``[[F_R, F_Y], [sqrt(reg) I, 0]]`` and a triangular solve, no
        direction dropped. ``"svd"`` (smaller penalties, 0 included): ``F_R = U diag(s)
        V^T`` (the singular values of ``sqrt(w) R``) and ``W^T = V diag(s / (s^2 + reg))
        U^T F_Y`` over the singular values above ``rcond * s_max``. ``"none"``: the
        factor was not finite, nothing was solved (``success`` is False).
    n_dropped : int
        ``N - rank``: singular directions of the weighted rates at or below the cutoff
        ``rcond * s_max`` (rounding level), along which the readout has no component
        (the minimum-norm choice, as ``numpy.linalg.lstsq``). 0 with ``solver == "qr"``.
    rank : int
        Rank of the problem solved: with ``solver == "svd"`` the numerical rank of the
        weighted rates (singular values above ``rcond * s_max``); ``N`` with
        ``"qr"`` (the penalty determines every direction).
    rcond : float
        The relative cutoff used (dimensionless; see :func:`fit_ridge`).
    cond : float
        Condition number of the problem solved (NaN when ``rank == 0``). ``"svd"``:
        ``sqrt((s_max^2 + reg) / (s_min^2 + reg))`` with ``s_min`` the smallest singular
        value kept (2-norm, exact). ``"qr"``: LAPACK's estimate (``dtrcon``) of the 1-norm
        condition number of the triangular factor of ``[sqrt(w) R; sqrt(reg) I]``, within
        a factor ``N`` of the 2-norm one. The readout's relative error is about ``cond``
        times the machine epsilon (up to ``cond^2`` times it when the residual is large);
        the training error is accurate whatever ``cond``.
    """

    network: Network
    W_out: np.ndarray
    b_out: np.ndarray
    x_final: np.ndarray
    train_mse: np.ndarray
    n_samples: float
    reg: float
    success: bool
    messages: tuple
    solver: str
    n_dropped: int
    rank: int
    rcond: float
    cond: float


class _TriangularFactor:
    """Upper-triangular factor ``F`` (n x n) of the rows added so far: ``A = Q F``.

    Each block is folded in by LAPACK's triangular-pentagonal QR (``dtpqrt``, the QR of
    ``[F; block]`` that uses the triangle of ``F``), ``2 n^2 m`` flops for ``m`` rows, the
    cost of accumulating ``A^T A``. Memory: ``F`` (its strictly lower part stays zero), the
    block being added and LAPACK's ``T`` and workspace (``_QR_BLOCK x n`` each).
    """

    def __init__(self, n: int):
        self.n = n
        self.F = np.zeros((n, n), order="F")
        self.n_rows = 0

    def add(self, block: np.ndarray) -> None:
        """Fold the rows of ``block`` (m, n), float64 Fortran-ordered (overwritten)."""
        m = block.shape[0]
        if m == 0 or self.n == 0:
            return
        nb = max(1, min(_QR_BLOCK, self.n))
        with _blas_threads_for(2.0 * m * self.n * self.n):
            a, _, _, info = lapack.dtpqrt(0, nb, self.F, block, overwrite_a=1,
                                          overwrite_b=1)
        if info != 0:                                    # pragma: no cover - LAPACK says
            raise RuntimeError(f"LAPACK dtpqrt failed (info = {info})")
        self.F = a
        self.n_rows += m

    def release(self) -> np.ndarray:
        """Hand the factor over (this object no longer holds it), so that the solve can
        free it as soon as it is no longer needed."""
        F, self.F = self.F, None
        return F


def _factor_bytes(n: int) -> int:
    """Bytes of a :class:`_TriangularFactor` of order ``n`` while a block is folded in,
    with the ``T`` and the workspace (``_QR_BLOCK x n`` each) of ``dtpqrt``."""
    return 8 * n * (n + 2 * min(_QR_BLOCK, max(n, 1)))


@dataclass(frozen=True)
class _Solution:
    W: np.ndarray           # (K, N)
    sse: np.ndarray         # (K,) weighted sum of squared residuals
    solver: str             # "qr" or "svd"
    rank: int
    rcond: float
    cutoff: float
    cond: float
    finite: bool
    b: np.ndarray | None = None     # (K,) intercept (None: no intercept fitted)


#: Target columns whose largest magnitude is above ``2^200`` or below ``2^-200`` are
#: regressed after an exact scaling by a power of two (the squared-error sums of the
#: factor overflow from about 1e154 and underflow below 1e-154); the readout, intercept
#: and training error are scaled back. Within these bounds nothing is scaled.
_TARGET_SCALE_BOUND = 2.0 ** 200


def _scale_of(top: np.ndarray) -> np.ndarray:
    """Per column, ``2^e`` with ``e = floor(log2 top)`` where ``top`` (the largest
    magnitude of the samples used) is outside ``[2^-200, 2^200]``, else 1."""
    scale = np.ones(top.shape)
    odd = np.isfinite(top) & (top > 0) & ((top > _TARGET_SCALE_BOUND)
                                          | (top < 1.0 / _TARGET_SCALE_BOUND))
    scale[odd] = np.ldexp(1.0, np.frexp(top[odd])[1] - 1)
    return scale


#: Elements per block of :func:`_scan_targets` (its temporaries: about 4 KiB each).
_SCAN_BLOCK = 512


def _scan_targets(Y: np.ndarray, W: np.ndarray | None, washout: int) -> tuple:
    """``(total weight, largest magnitude per column)`` of the samples that are used:
    steps from ``washout`` on, of positive weight. ``Y`` (B, T, K) and ``W`` (None, (T,) or (B, T))
    in any real dtype and layout; read in blocks of fixed length along the time axis,
    each converted to a C-ordered float64 copy, so that the total (the sum of the block
    sums, ``math.fsum``) does not depend on the arrays' memory layout, and no temporary
    grows with the data. The target scales (:func:`_scale_of`) are taken from these
    magnitudes, of the samples used only: a junk value in the washout or under a zero
    weight must not set them."""
    B, T, K = Y.shape
    steps = max(1, _SCAN_BLOCK // max(1, B * K))
    top = np.zeros(K)
    sums = []
    for s in range(washout, T, steps):
        e = min(T, s + steps)
        Yc = np.ascontiguousarray(Y[:, s:e], dtype=np.float64)
        if W is None:
            used = Yc.reshape(-1, K)
            sums.append(float(B * (e - s)))
        else:
            w = np.ascontiguousarray(np.broadcast_to(W[..., s:e], (B, e - s)),
                                     dtype=np.float64)
            sums.append(float(w.sum()))
            used = Yc.reshape(-1, K)[w.reshape(-1) > 0]
        if used.shape[0]:
            top = np.maximum(top, np.maximum(np.abs(used.max(axis=0)),
                                             np.abs(used.min(axis=0))))
    return math.fsum(sums), top


def _unscale_solution(sol: "_Solution", scale: np.ndarray) -> "_Solution":
    """``sol`` of the targets divided by ``scale`` (powers of two): the readout and the
    intercept times ``scale`` (exact; an entry beyond the float64 range becomes inf and
    ``finite`` False). ``sse`` stays that of the scaled targets: the caller divides it by
    the number of samples before scaling it back (the sum may overflow where the mean
    does not)."""
    if np.all(scale == 1.0):
        return sol
    with np.errstate(over="ignore"):
        W = sol.W * scale[:, None]
        b = None if sol.b is None else sol.b * scale
    finite = bool(sol.finite and np.all(np.isfinite(W))
                  and (b is None or np.all(np.isfinite(b))))
    return dataclasses.replace(sol, W=W, b=b, finite=finite)


def _default_rcond(N: int, n_rows: int) -> float:
    """``eps * max(N, rows)``, the cutoff of ``numpy.linalg.lstsq`` (and LAPACK's
    ``gelsd`` convention) for a ``rows x N`` matrix."""
    return float(np.finfo(float).eps * max(N, n_rows, 1))


#: Rows of the penalty ``sqrt(reg) I`` folded into the factor per ``dtpqrt`` call, and
#: the block size of the triangular solve and product on views of the factor: the
#: solve's temporaries beyond its one copy of the factor are O(_SOLVE_BLOCK (N + K)).
#: Penalty rows folded into the trailing triangle through ctypes, single core, N = 1000:
#: 0.036 s (f2py on the whole factor: 0.094 s; the former dense N x n block: 0.025 s).
_SOLVE_BLOCK = 32


def _all_finite(F: np.ndarray) -> bool:
    """Whether every value of ``F`` is finite, a block of columns at a time (no
    ``n x n`` temporary)."""
    for j0 in range(0, F.shape[1], _SOLVE_BLOCK):
        if not np.all(np.isfinite(F[:, j0:j0 + _SOLVE_BLOCK])):
            return False
    return True


def _upper_norm(F: np.ndarray, r0: int, N: int) -> float:
    """Frobenius norm of the upper triangle of ``F[r0:r0+N, r0:r0+N]`` (column norms of
    contiguous column segments: no copy)."""
    cols = np.array([np.linalg.norm(F[r0:r0 + j + 1, r0 + j]) for j in range(N)])
    return float(np.linalg.norm(cols)) if N else 0.0


def _upper_solve(G: np.ndarray, r0: int, N: int, X: np.ndarray) -> None:
    """``X := T^{-1} X`` in place, ``T`` the upper triangle of ``G[r0:r0+N, r0:r0+N]``,
    by block back substitution on views of ``G`` (only ``_SOLVE_BLOCK``-square diagonal
    blocks are copied)."""
    for j1 in range(N, 0, -_SOLVE_BLOCK):
        j0 = max(0, j1 - _SOLVE_BLOCK)
        if j1 < N:
            X[j0:j1] -= G[r0 + j0:r0 + j1, r0 + j1:r0 + N] @ X[j1:N]
        X[j0:j1] = scipy.linalg.solve_triangular(G[r0 + j0:r0 + j1, r0 + j0:r0 + j1],
                                                 X[j0:j1], check_finite=False)


def _upper_times(F: np.ndarray, r0: int, N: int, X: np.ndarray) -> np.ndarray:
    """``T X`` with ``T`` the upper triangle of ``F[r0:r0+N, r0:r0+N]``, a block of
    columns at a time on views of ``F`` (only the diagonal blocks are copied)."""
    out = np.zeros((N, X.shape[1]))
    for j0 in range(0, N, _SOLVE_BLOCK):
        j1 = min(N, j0 + _SOLVE_BLOCK)
        out[:j0] += F[r0:r0 + j0, r0 + j0:r0 + j1] @ X[j0:j1]
        out[j0:j1] += np.triu(F[r0 + j0:r0 + j1, r0 + j0:r0 + j1]) @ X[j0:j1]
    return out


@functools.cache
def _dtpqrt_pointer():
    """LAPACK's ``dtpqrt`` from ``scipy.linalg.cython_lapack`` as a ctypes function, to
    run it in place on a trailing block of a factor (the f2py wrapper copies any array that
    is not contiguous); None where unavailable."""
    try:
        from numba.extending import get_cython_function_address
        address = get_cython_function_address("scipy.linalg.cython_lapack", "dtpqrt")
    except Exception:                                   # pragma: no cover - old SciPy
        return None
    ip, vp = ctypes.POINTER(ctypes.c_int), ctypes.c_void_p
    # dtpqrt(m, n, l, nb, a, lda, b, ldb, t, ldt, work, info)
    return ctypes.CFUNCTYPE(None, ip, ip, ip, ip, vp, ip, vp, ip, vp, ip, vp, ip)(address)


def _fold_penalty(G: np.ndarray, c: int, N: int, sq: float) -> None:
    """Fold the rows ``sq e_{c+i}^T`` (i < N) into the triangular factor ``G`` (n x n,
    Fortran-ordered, updated in place), ``_SOLVE_BLOCK`` rows per ``dtpqrt`` call: the QR
    of ``[G; sq [0 I 0]]``. Rows that are zero in the columns before ``c + i0`` leave the
    leading rows of ``G`` unchanged, so each block is folded into the trailing triangle
    ``G[c+i0:, c+i0:]`` only (through ctypes, in place; ``2/3 N n^2`` flops in all), or,
    without ctypes, into the whole of ``G`` (f2py; ``2 N n^2`` flops)."""
    n = G.shape[0]
    tpqrt = _dtpqrt_pointer()
    if tpqrt is not None:
        mb = _SOLVE_BLOCK
        T = np.empty((mb, n), order="F")
        work = np.empty(mb * n)
        info = ctypes.c_int(0)

        def ref(v):
            return ctypes.byref(ctypes.c_int(v))
    for i0 in range(0, N, _SOLVE_BLOCK):
        m = min(_SOLVE_BLOCK, N - i0)
        j0 = c + i0
        if tpqrt is not None:
            block = np.zeros((m, n - j0), order="F")
            block[np.arange(m), np.arange(m)] = sq
            tpqrt(ref(m), ref(n - j0), ref(m), ref(m), G.ctypes.data + 8 * (j0 + j0 * n),
                  ref(n), block.ctypes.data, ref(m), T.ctypes.data, ref(mb),
                  work.ctypes.data, ctypes.byref(info))
            status = info.value
        else:
            block = np.zeros((m, n), order="F")
            block[np.arange(m), j0 + np.arange(m)] = sq
            out = lapack.dtpqrt(m, m, G, block, overwrite_a=1, overwrite_b=1)
            status = out[3]
            if out[0] is not G:                         # pragma: no cover - f2py copied
                G[...] = out[0]
            del out
        del block               # before the next block's (no two blocks at once)
        if status != 0:                                  # pragma: no cover - LAPACK says
            raise RuntimeError(f"LAPACK dtpqrt failed (info = {status})")


def _solve_factor(factor: _TriangularFactor, N: int, K: int, reg: float,
                  rcond: float | None, n_rows: int, intercept: bool = False,
                  max_bytes: float = np.inf) -> _Solution:
    """Ridge readout from the triangular factor ``F`` of ``[sqrt(w) R | sqrt(w) Y]``
    (``[sqrt(w) 1 | sqrt(w) R | sqrt(w) Y]`` with an ``intercept``), taken from
    ``factor`` (released: freed once no longer needed).

    With ``F = [[F_R, F_Y], [0, F_E]]`` the objective is ``|F_R W^T - F_Y|^2 + |F_E|^2 +
    reg |W|^2``. When ``reg`` exceeds ``rcond |F_R|_F^2`` (so the penalty, not rounding,
    bounds every direction: a direction whose singular value ``s <= rcond s_max`` is
    rounding gets a coefficient at most ``s |F_Y| / reg < |F_Y| / s_max``) it is solved
    by the QR decomposition of ``[[F_R, F_Y], [sqrt(reg) I, 0]]`` (``dtpqrt`` on a copy of
    ``F``, the rows ``sqrt(reg) e_i^T`` folded ``_SOLVE_BLOCK`` at a time) and a
    triangular solve: ``"qr"``. Otherwise by the SVD ``F_R = U diag(s) V^T``:
    ``W^T = V diag(s / (s^2 + reg)) U^T F_Y`` over the singular values above
    ``rcond s_max``: ``"svd"``.

    With an intercept, ``F = [[rho, g^T, h^T], [0, F_R, F_Y], [0, 0, F_E]]``: the
    objective is ``|rho b + W g - h|^2 + |F_R W^T - F_Y|^2 + |F_E|^2 + reg |W|^2`` (``b``
    not penalised); the first term is made zero by ``b = (h - W g) / rho`` whatever ``W``,
    and the trailing block is the factor of the weighted rows with their weighted mean
    removed, on which ``W`` is solved as above. The cutoff is relative to the scale of the
    uncentred rates (``|g|`` added in quadrature to ``|F_R|``, as lstsq on ``[1, R]``).

    Memory (``n = c + N + K``): ``"qr"`` holds ``F`` and one copy of it (then, once ``F``
    is freed, the copy and its ``N x N`` triangle for LAPACK's ``dtrcon``); ``"svd"``
    holds ``F`` and a copy of ``F_R``, then, ``F`` freed, ``F_R``, ``U`` and ``V^T``
    (``gesvd`` with its minimal workspace), or ``gesdd`` (about 4 more ``N x N``) when
    that fits in ``max_bytes``; beyond these, O(``_SOLVE_BLOCK n``) values.
    """
    F = factor.release()
    c = int(intercept)
    rc = _default_rcond(N, n_rows) if rcond is None else float(rcond)
    if not _all_finite(F) or (intercept and F[0, 0] == 0.0):
        return _Solution(np.full((K, N), np.nan), np.full(K, np.nan), "none", 0, rc,
                         np.nan, np.nan, False, np.full(K, np.nan))
    if intercept:
        rho = float(F[0, 0])
        g = F[0, 1:1 + N].copy()
        h = F[0, 1 + N:].copy()
        # the cutoff is relative to the scale of the uncentred rates (as lstsq on [1, R]
        # would be): with constant rates the centred singular values are rounding
        mean_norm = float(np.linalg.norm(g))
    else:
        mean_norm = 0.0
    FE = np.triu(F[c + N:, c + N:])
    sse_e = np.sum(FE * FE, axis=0)
    sq = float(np.sqrt(reg))
    norm_fr = float(np.hypot(_upper_norm(F, c, N), mean_norm))   # >= s_max
    with _blas_threads_for(10.0 * float(N + K) ** 3):
        if reg > 0 and reg > rc * norm_fr * norm_fr:
            G = np.array(F, order="F")
            _fold_penalty(G, c, N, sq)
            Wt = np.array(G[c:c + N, c + N:])
            _upper_solve(G, c, N, Wt)
            resid = _upper_times(F, c, N, Wt) - F[c:c + N, c + N:]
            sse = np.sum(resid * resid, axis=0) + sse_e
            del F, resid
            A_R = np.array(G[c:c + N, c:c + N], order="F")
            del G
            rc_est, info = lapack.dtrcon(A_R, norm="1", uplo="U", diag="N")
            del A_R
            cond = float(1.0 / rc_est) if info == 0 and rc_est > 0 else float("inf")
            solver, rank, cutoff = "qr", N, rc * norm_fr
        else:
            A = np.array(F[c:c + N, c:c + N], order="F")
            for j in range(N - 1):                      # F_R: its upper triangle
                A[j + 1:, j] = 0.0
            FY = np.array(F[c:c + N, c + N:])
            del F
            solve, s, c_y = _svd_solve(A, FY, max_bytes)
            del A, FY
            cutoff = rc * float(np.hypot(s[0], mean_norm)) if s.size else 0.0
            keep = s > cutoff
            rank = int(np.count_nonzero(keep))
            sk = s[keep]
            filt = 1.0 / (sk + reg / sk)                # s / (s^2 + reg), no overflow
            Wt = solve(rank, filt)
            del solve
            # F_R W^T - F_Y = U (diag(s filt) - 1) U^T F_Y: -reg / (s^2 + reg) times
            # U^T F_Y along the kept directions, -U^T F_Y along the dropped ones (U is
            # square): no cancellation
            damp = (reg / sk) * filt if rank else sk
            sse = (np.sum((damp[:, None] * c_y[:rank]) ** 2, axis=0)
                   + np.sum(c_y[rank:] ** 2, axis=0) + sse_e)
            cond = float(np.hypot(sk[0], sq) / np.hypot(sk[-1], sq)) if rank else float("nan")
            solver = "svd"
    finite = bool(np.all(np.isfinite(Wt)) and np.all(np.isfinite(sse)))
    b = None
    if intercept:
        b = (h - Wt.T @ g) / rho
        finite = finite and bool(np.all(np.isfinite(b)))
    return _Solution(np.ascontiguousarray(Wt.T), sse, solver, rank, rc, cutoff, cond,
                     finite, b)


def _svd_solve(A: np.ndarray, FY: np.ndarray, max_bytes: float):
    """SVD of the upper-triangular ``A`` (N x N, Fortran-ordered, overwritten): returns
    ``(solve, s, U^T FY)`` with ``solve(rank, filt)`` giving ``V[:, :rank] diag(filt)
    (U^T FY)[:rank]``. ``U`` is freed once ``U^T FY`` is formed. ``gesdd`` (divide and
    conquer, fast) when its workspace fits in ``max_bytes`` beside ``A``, ``U``, ``V^T``
    and a copy of ``A``, else ``gesvd`` with its minimal workspace (``5 N`` values; no
    ``N x N`` beyond ``A``, ``U`` and ``V^T``; about 5x slower at N = 1000)."""
    N = A.shape[0]
    U = s = Vt = None
    work, _ = lapack.dgesdd_lwork(N, N, compute_uv=1, full_matrices=0)
    if 8.0 * (4 * N * N + float(work) + 8 * N) <= max_bytes:
        # A is kept (not overwritten) for gesvd should gesdd not converge
        U, s, Vt, info = lapack.dgesdd(A, compute_uv=1, full_matrices=0, overwrite_a=0)
        if info != 0:                                   # pragma: no cover - rare
            U = s = Vt = None
    if U is None:
        U, s, Vt, info = lapack.dgesvd(A, compute_uv=1, full_matrices=0,
                                       lwork=max(1, 5 * N), overwrite_a=1)
        if info != 0:                                   # pragma: no cover - rare
            raise np.linalg.LinAlgError(f"SVD did not converge (LAPACK info = {info})")
    c_y = U.T @ FY
    del U

    def solve(rank, filt):
        return Vt[:rank].T @ (filt[:, None] * c_y[:rank])
    return solve, s, c_y


def _check_rcond(rcond):
    if rcond is None:
        return None
    rc = as_positive_float(rcond, "rcond", allow_zero=True)
    if rc >= 1:
        raise ValueError(f"rcond must be in [0, 1), got {rc}")
    return rc


def _dropped_message(sol: _Solution, N: int, reg: float, intercept: bool = False) -> str:
    rates = "the centred weighted rates" if intercept else "the weighted rates"
    return (f"{rates} have numerical rank {sol.rank} < N = {N}: {N - sol.rank} "
            f"singular values are at or below the cutoff rcond * s_max = {sol.cutoff:.3g} "
            f"(rcond = {sol.rcond:.3g}) and the readout has no component along their "
            "directions (minimum-norm solution); the penalty reg = "
            f"{reg:.3g} is applied on the other {sol.rank}")


def _ridge_solve(RtR: np.ndarray, RtY: np.ndarray, reg: float):
    """:func:`ridge_readout` with the path it took: ``(W, solver, n_dropped, level)``."""
    N = RtR.shape[0]
    level = N * np.finfo(float).eps * max(float(np.trace(RtR)), np.finfo(float).tiny)
    if reg > level:
        A = RtR + reg * np.eye(N)
        c = scipy.linalg.cho_factor(A, lower=True, check_finite=True)
        return scipy.linalg.cho_solve(c, RtY).T, "cholesky", 0, level
    s, V = scipy.linalg.eigh(RtR, check_finite=True)
    keep = s + reg > level
    coef = (V[:, keep].T @ RtY) / (s[keep] + reg)[:, None]
    return (V[:, keep] @ coef).T, "eigh", int(N - np.count_nonzero(keep)), level


def ridge_readout(RtR: np.ndarray, RtY: np.ndarray, reg: float) -> np.ndarray:
    """Solve the normal equations ``(RtR + reg I) W^T = RtY`` for the readout ``W``.

    For callers that hold only ``R^T R`` and ``R^T Y``. Forming ``R^T R`` squares the
    condition number of the rates, so no solve from it can be more accurate than about
    ``eps cond(R)^2``; :func:`ridge_regression` and :func:`fit_ridge` work on the rates
    themselves and are accurate at every penalty. Here a penalty above the rounding level
    of ``RtR`` (``N eps trace(RtR)``) is solved by Cholesky; a smaller one (including 0)
    in the eigenbasis of ``RtR`` with the directions below that level dropped (the
    minimum-norm least-squares readout of those normal equations).

    Parameters
    ----------
    RtR : ndarray, shape (N, N)
        Symmetric positive semi-definite ``R^T R`` (rates squared, summed over samples).
    RtY : ndarray, shape (N, K)
        ``R^T Y``.
    reg : float
        Penalty (>= 0), in the units of ``RtR``. Not checked here (see
        :func:`ridge_regression`).

    Returns
    -------
    W : ndarray, shape (K, N)
        The readout (readout units per rate unit).

    Raises
    ------
    TypeError
        If an argument is not a real array or number.
    ValueError
        If ``RtR`` is not a finite symmetric (N, N) matrix, ``RtY`` not a finite array
        with N rows, ``reg`` negative or not finite, or ``RtR + reg I`` not positive
        definite (``RtR`` not positive semi-definite).
    """
    RtR = as_float_array(RtR, "RtR", 2)
    if RtR.shape[0] != RtR.shape[1]:
        raise ValueError(f"RtR must be square (N, N), got shape {RtR.shape}")
    if not np.allclose(RtR, RtR.T, rtol=1e-10, atol=1e-12 * float(np.max(np.abs(RtR)))):
        raise ValueError("RtR must be symmetric (R^T R)")
    RtY = as_float_array(RtY, "RtY", (1, 2))
    if RtY.shape[0] != RtR.shape[0]:
        raise ValueError(f"RtY must have N = {RtR.shape[0]} rows to match RtR, got shape "
                         f"{RtY.shape}")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    try:
        return _ridge_solve(RtR, RtY, reg)[0]
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"RtR + reg I is not positive definite (RtR must be positive "
                         f"semi-definite): {exc}") from None


def ridge_regression(R: ArrayLike, Y: ArrayLike, reg: float, weights: ArrayLike | None = None, *,
                     rcond: float | None = None, intercept: bool = False,
                     ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Ridge readout from recorded rates: minimise ``sum_t w_t |y_t - W r_t|^2 + reg |W|_F^2``
    (``sum_t w_t |y_t - W r_t - b|^2 + reg |W|_F^2`` with an ``intercept`` ``b``).

    Solved as in :func:`fit_ridge` (Householder QR of ``[sqrt(w) R | sqrt(w) Y]``, then the
    SVD of the triangular factor), accurate at every penalty including 0, where it is the
    minimum-norm least-squares readout over the singular values above ``rcond * s_max``
    (as ``numpy.linalg.lstsq``). With ``intercept=True`` a column of ones is folded in
    first and the intercept is not penalised (as scikit-learn's ``Ridge``): ``W`` is the
    ridge readout of the rates and targets with their weighted means removed, and
    ``b = mean_w(y) - W mean_w(r)``.

    Parameters
    ----------
    R : array_like, shape (T, N)
        Rates (one sample per row).
    Y : array_like, shape (T, K)
        Targets.
    reg : float
        Penalty (>= 0), unnormalised (as in :func:`fit_ridge`).
    weights : array_like, shape (T,), optional
        Non-negative sample weights.
    rcond : float, optional
        Relative cutoff on the singular values of ``sqrt(w) R`` in [0, 1) (default
        ``eps * max(N, T)``, that of ``numpy.linalg.lstsq``); with an intercept, of the
        centred ``sqrt(w) R``.
    intercept : bool
        Also fit an unpenalised readout intercept ``b`` (default False).

    Returns
    -------
    W : ndarray, shape (K, N)
        The readout (readout units per rate unit); with ``intercept=True`` the pair
        ``(W, b)``, ``b`` of shape (K,) in readout units. An entry whose value lies beyond
        the float64 range is ``inf`` (:func:`fit_ridge` reports such a fit as failed).

    Raises
    ------
    TypeError
        If ``intercept`` is not a bool.
    ValueError
        If the shapes disagree, ``reg`` or a weight is negative, ``rcond`` is outside
        [0, 1), an array holds non-finite values, or every weight is zero with
        ``intercept=True`` (the intercept is then undetermined).
    """
    R = as_float_array(R, "R", 2)
    Y = as_float_array(Y, "Y", 2)
    if Y.shape[0] != R.shape[0]:
        raise ValueError(f"Y must have {R.shape[0]} rows like R, got shape {Y.shape}")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    rcond = _check_rcond(rcond)
    intercept = _check_bool(intercept, "intercept")
    T, N = R.shape
    K = Y.shape[1]
    c = int(intercept)
    block = np.empty((T, c + N + K), order="F")
    if intercept:
        block[:, 0] = 1.0
    block[:, c:c + N] = R
    w = None
    if weights is not None:
        w = as_float_array(weights, "weights", 1)
        if w.shape != (T,) or np.any(w < 0):
            raise ValueError(f"weights must be non-negative with shape ({T},)")
    y_scale = _scale_of(_scan_targets(Y[None], w, 0)[1])
    block[:, c + N:] = Y / y_scale
    if w is not None:
        block *= np.sqrt(w)[:, None]
        n_rows = int(np.count_nonzero(w))
    else:
        n_rows = T
    if intercept and n_rows == 0:
        raise ValueError("weights must not all be zero with intercept=True (the intercept "
                         "would be undetermined)")
    fac = _TriangularFactor(c + N + K)
    fac.add(block)
    sol = _unscale_solution(_solve_factor(fac, N, K, reg, rcond, n_rows, intercept),
                            y_scale)
    return (sol.W, sol.b) if intercept else sol.W


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _readout_fingerprint(W_out) -> str:
    """SHA-256 of the readout's float64 bytes: ties a ``meta["readout_fit"]`` record to the
    readout it describes (a readout set later by hand no longer matches)."""
    return hashlib.sha256(np.ascontiguousarray(W_out, dtype=float).tobytes()).hexdigest()


def _constant_value(lo, hi):
    """The common value of samples whose minimum is ``lo`` and maximum ``hi`` (per
    component), as a list, or None if they differ beyond rounding."""
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    if np.all(hi - lo <= 1e-12 * np.maximum(1.0, np.abs(hi))):
        return [float(v) for v in 0.5 * (lo + hi)]
    return None


def is_trial_list(targets, inputs=None) -> bool:
    """Whether ``targets`` is a list of trials: a list or tuple that is empty or whose first
    element is two-dimensional (a ``(T_0, K)`` array), given with ``inputs`` that are not
    one array (None or a list). Anything else is one array: a nested list of shape
    ``(B, T, K)`` beside array ``inputs`` is a batch, as before lists of trials existed."""
    if not isinstance(targets, (list, tuple)):
        return False
    if len(targets) == 0:
        return True
    try:
        two_d = np.ndim(targets[0]) == 2
    except Exception:                                   # ragged nested lists: not trials
        return False
    if two_d and inputs is not None and not isinstance(inputs, (list, tuple)):
        # beside one array of inputs, equal-shaped trials are a batch (as before lists of
        # trials existed); trials of different shapes stay a list (and the inputs are then
        # refused for not being one)
        try:
            return len({np.shape(y) for y in targets}) > 1
        except Exception:
            return True
    return two_d


def as_trials(net: Network, inputs, targets, masks=None):
    """Validate a list of trials: ``[(U_i (T_i, M), Y_i (T_i, K), m_i (T_i,) or None)]``.

    ``inputs`` is None (zero input) or a list of as many arrays as ``targets``; ``masks``
    likewise. Each array is checked (shape, finite values) and named by its index.
    """
    n = len(targets)
    if n == 0:
        raise ValueError("targets must hold at least one trial, got an empty list")
    M, K = net.n_inputs, net.n_outputs
    for name, value in (("inputs", inputs), ("mask", masks)):
        if value is None:
            continue
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be None or a list of {n} arrays (one per trial) "
                            f"when targets is a list of trials, got {type(value).__name__}")
        if len(value) != n:
            raise ValueError(f"{name} must hold {n} trials like targets, got {len(value)}")
    trials = []
    for i in range(n):
        Y = as_float_array(targets[i], f"targets[{i}]", 2)
        if Y.shape[1] != K:
            raise ValueError(f"targets[{i}] must have shape (T_i, {K}) to match net.W_out, "
                             f"got {Y.shape}")
        T = Y.shape[0]
        if inputs is None:
            U = np.zeros((T, M))
        else:
            U = as_float_array(inputs[i], f"inputs[{i}]", 2, allow_empty=True)
            if U.shape != (T, M):
                raise ValueError(f"inputs[{i}] must have shape ({T}, {M}) to match "
                                 f"targets[{i}] and net.W_in, got {U.shape}")
        m = None
        if masks is not None:
            m = as_float_array(masks[i], f"mask[{i}]", 1)
            if m.shape != (T,):
                raise ValueError(f"mask[{i}] must have shape ({T},) to match targets[{i}], "
                                 f"got {m.shape}")
            if np.any(m < 0):
                raise ValueError(f"mask[{i}] must be non-negative")
        trials.append((U, Y, m))
    return trials


def trial_starts(x0, n: int, N: int, default=None) -> np.ndarray:
    """Initial states of ``n`` trials, (n, N): ``x0`` (N,) for every trial or one row per
    trial (n, N); ``default`` (N,) or zeros when ``x0`` is None."""
    if x0 is None:
        base = np.zeros(N) if default is None else default
        return np.repeat(base[None, :], n, axis=0)
    X = as_float_array(x0, "x0", (1, 2))
    if X.shape == (N,):
        return np.repeat(X[None, :], n, axis=0)
    if X.shape == (n, N):
        return X.copy()
    raise ValueError(f"x0 must have shape ({N},) or ({n}, {N}) (one row per trial), got "
                     f"{X.shape}")


def _fold_teacher_run(net, factor, U, Y, X, W, gen, noise_std, feedback_noise_std,
                      max_chunk_bytes, intercept, ranges, y_scale, washout=0):
    """Run a batch (B, T) teacher-forced from ``X`` (updated in place) and fold the
    weighted rows ``[sqrt(w) (1) | sqrt(w) r | sqrt(w) y]`` of the steps of positive
    weight into ``factor``, chunk by chunk. The weight of step ``t`` of trial ``b`` is
    ``W[b, t]`` (``W`` (B, T) or (T,); None: 1), and 0 for ``t < washout``: it is formed
    chunk by chunk (no (B, T) array). ``Y`` is the clean target (regressed on); the
    fed-back one is ``Y`` plus the feedback noise, all of it drawn first as one (B, T, K)
    array, then the state noise chunk by chunk (B, Tc, N). ``ranges`` ([y_lo, y_hi, u_lo,
    u_hi]) is updated with the extremes of the samples used. The targets are regressed
    divided by ``y_scale`` (K,) (:func:`_scale_of`).

    Memory: with ``max_chunk_bytes`` given, the factor (and LAPACK's ``T``), the buffers
    of one chunk of ``Tc`` steps (the rates, the state noise, the weighted copy folded
    into the factor, the weights, row indices, kept inputs and targets) and, for a single
    trial, a 64-byte-aligned copy of a dense ``J`` (made only when it leaves room for
    chunks of at least ``_ALIGN_MIN_STEPS`` steps) hold at most ``max_chunk_bytes``
    together, ``Tc`` at least 1 (see :func:`_chunk_plan`). Without it, the chunk buffers
    hold at most 64 MiB beside the factor and the aligned copy.
    """
    B, T = U.shape[0], U.shape[1]
    N, K, M = net.N, net.n_outputs, U.shape[-1]
    c = int(intercept)
    if feedback_noise_std > 0:
        check_memory(8.0 * 2 * B * T * K, "feedback_noise_std", feedback_noise_std,
                     what=f"the fed-back targets with their noise (B={B}, T={T}, K={K})")
        # in float64 whatever the targets' dtype (a longdouble sum would round otherwise)
        Y_fb = np.asarray(Y, dtype=np.float64) + \
            feedback_noise_std * gen.standard_normal((B, T, K))
    else:
        Y_fb = Y
    state_noise = noise_std > 0
    noise_scale = noise_std * np.sqrt(net.alpha)
    budget_steps, align = _chunk_plan(net, B, T, M, state_noise, intercept,
                                      max_chunk_bytes)
    # the kernel arrays once for the run (advance() would rebuild them, and copy J for
    # alignment, every chunk)
    arrays = network_arrays(net, align=align, panels=_panels(net, B))
    code = CODES[net.phi]
    empty_x = np.empty((B, 0, N))
    out_z = np.empty((B, 0, K))
    for s in range(0, T, budget_steps):
        e = min(T, s + budget_steps)
        out_r = np.empty((B, e - s, N))
        noise = gen.standard_normal((B, e - s, N)) if state_noise else empty_x
        # the chunk's inputs and targets in float64 (the caller's arrays may be of another
        # dtype or layout)
        Uk = np.ascontiguousarray(U[:, s:e], dtype=np.float64)
        Yk = np.ascontiguousarray(Y[:, s:e], dtype=np.float64)
        Yk_fb = Yk if Y_fb is Y else np.ascontiguousarray(Y_fb[:, s:e], dtype=np.float64)
        _run_kernels(net, arrays, net.alpha, code, X, Uk, Yk_fb, MODE_CODES["teacher"],
                     noise_scale, noise, empty_x, out_r, out_z, s)
        del noise, Yk_fb
        wc = np.ones((B, e - s))
        if W is not None:
            wc[:] = W[..., s:e]
        wc[:, :max(0, washout - s)] = 0.0
        w = wc.reshape(-1)
        keep = w > 0
        n_keep = int(np.count_nonzero(keep))
        if n_keep == 0:
            del Uk, Yk, out_r
            continue
        Yc = Yk.reshape(-1, K)[keep]
        ranges[0] = np.minimum(ranges[0], Yc.min(0))
        ranges[1] = np.maximum(ranges[1], Yc.max(0))
        if M:
            Uc = Uk.reshape(-1, M)[keep]
            ranges[2] = np.minimum(ranges[2], Uc.min(0))
            ranges[3] = np.maximum(ranges[3], Uc.max(0))
        Yc /= y_scale                   # a copy already (fancy indexing); exact
        block = np.empty((n_keep, c + N + K), order="F")
        _fill_weighted_rows(block, out_r.reshape(-1, N), Yc, np.flatnonzero(keep),
                            np.sqrt(w[keep]), c)
        del out_r, Uk, Yk, Yc
        factor.add(block)
        del block


def _chunk_plan(net, B: int, T: int, M: int, state_noise: bool, intercept: bool,
                max_chunk_bytes: int | None) -> tuple[int, bool]:
    """``(steps per chunk, align)`` for :func:`_fold_teacher_run`.

    Bytes per step of a chunk: ``8 B`` times the rates ``N`` (and the state noise ``N``),
    the weighted row ``c + N + K``, the kept targets and inputs and their contiguous
    copies for the kernel ``2 (K + M)`` and four values of weights and indices, plus ``B``
    booleans. With ``max_chunk_bytes`` the chunk gets what the factor
    (:func:`_factor_bytes`) and the kernel's own copies of a sparse ``J`` (``12 nnz``
    bytes) leave, less the aligned copy of a dense ``J`` of a single trial (unless ``J``
    is aligned already) when what remains still holds ``_ALIGN_MIN_STEPS`` steps (else no
    copy: the kernel runs on ``J`` as it is); at least one step. Without it: 64 MiB of
    chunk buffers, and the aligned copy for a single trial (as :func:`reservoir.simulate`).
    """
    N, K = net.N, net.n_outputs
    c = int(intercept)
    step_bytes = B * (8 * (N * (2 if state_noise else 1) + c + N + K + 2 * (K + M) + 4)
                      + 1)
    single_dense = B == 1 and not net.is_sparse
    if max_chunk_bytes is None:
        return int(max(1, min(T, _CHUNK_BYTES // step_bytes))), single_dense
    avail = max_chunk_bytes - _factor_bytes(c + N + K)
    if net.is_sparse:
        avail -= 12 * net.J.nnz + 8 * (N + 1)
    align = False
    if single_dense and net.J.ctypes.data % _ALIGN == 0:
        align = True
    elif single_dense:
        J_bytes = 8 * N * N + _ALIGN
        if (avail - J_bytes) // step_bytes >= min(T, _ALIGN_MIN_STEPS):
            align, avail = True, avail - J_bytes
    return int(max(1, min(T, avail // step_bytes))), align


@nb.njit(cache=True)
def _fill_weighted_rows(block, rates, Yc, rows, sw, c):
    """``block[p] = sw[p] [1 (c = 1) | rates[rows[p]] | Yc[p]]`` for the kept rows ``p``
    (``block`` Fortran-ordered, ``rates`` C-ordered). Written out so that no temporary is
    made: NumPy's ufuncs buffer mixed memory orders (about 64 KiB per operand) and a
    fancy-indexed copy of the kept rates is as large as the chunk."""
    N = rates.shape[1]
    K = Yc.shape[1]
    for p in range(rows.shape[0]):
        wp = sw[p]
        if c:
            block[p, 0] = wp
        rp = rows[p]
        for j in range(N):
            block[p, c + j] = rates[rp, j] * wp
        for k in range(K):
            block[p, c + N + k] = Yc[p, k] * wp


def fit_ridge(net: Network, inputs: ArrayLike | None = None, targets: ArrayLike | None = None, *,
              reg: float = 1e-6, washout: int = 0,
              mask: ArrayLike | None = None, x0: ArrayLike | None = None,
              n_steps: int | None = None, noise_std: float = 0.0, rng: RngLike = None,
              max_chunk_bytes: int | None = None, rcond: float | None = None,
              intercept: bool = False,
              feedback_noise_std: float = 0.0) -> RidgeResult:
    """Fit the readout by ridge regression on teacher-forced states.

    The network is run with ``mode="teacher"`` (the target ``y[t]`` is fed back while
    computing ``x[t+1]``), and ``W_out`` minimises::

        sum_{b,t} w[b,t] |y[b,t] - W_out r[b,t]|^2 + reg |W_out|_F^2

    where ``r[b,t] = phi(x[b,t])``, the weights ``w`` are the ``mask`` (default 1) and the
    first ``washout`` steps of every trial have weight 0. With ``intercept=True`` the
    readout is ``z = W_out r + b_out`` and ``(W_out, b_out)`` minimise
    ``sum w |y - W_out r - b_out|^2 + reg |W_out|_F^2``: the intercept is fitted and not
    penalised (as scikit-learn's ``Ridge`` and reservoirpy's ``Ridge``).

    The states are never stored: each chunk of weighted rows ``[sqrt(w) r | sqrt(w) y]``
    is folded into the ``(N + K) x (N + K)`` triangular factor ``F = [[F_R, F_Y], [0,
    F_E]]`` of their Householder QR decomposition (LAPACK ``dtpqrt``), whose ``F_R`` has
    the singular values ``s`` of the weighted rates; the normal equations ``R^T R`` are
    never formed, so the condition number is not squared. A penalty above the rounding
    level (``reg > rcond |F_R|_F^2``) is solved by the QR decomposition of ``[[F_R,
    F_Y], [sqrt(reg) I, 0]]`` (``solver == "qr"``); a smaller one, 0 included, by the SVD
    ``F_R = U diag(s) V^T``: ``W_out^T = V diag(s / (s^2 + reg)) U^T F_Y`` over the
    singular values above ``rcond * s_max`` (``"svd"``; the others are rounding, the
    readout has no component along them: the minimum-norm solution, as
    ``numpy.linalg.lstsq``). Both are backward stable (Golub & Van Loan, *Matrix
    Computations*, 4th ed., 5.2-5.3 and 6.1). With an intercept the column ``sqrt(w)`` is
    folded in first: the first row of the factor ``[rho, g^T, h^T]`` fixes
    ``b_out = (h - W_out g) / rho`` exactly and the trailing block is the factor of the
    weighted rows with their weighted means removed, on which ``W_out`` is solved as above
    (``rank``, ``cond`` and the cutoff are then those of the centred rates).
    ``RidgeResult`` reports what was solved (``solver``, ``rank``, ``rcond``, ``cond``, a
    message when directions were dropped).

    Memory: with ``D = c + N + K`` (``c = 1`` with an intercept), the run streams the
    states through the factor (``8 D^2`` bytes, ``8 D (D + 128)`` with LAPACK's blocks)
    and then solves from it, which needs two copies of the factor with ``solver == "qr"``
    (``S = 16 D^2`` bytes) and three with ``"svd"`` (``S = 24 D^2``: the factor and
    ``F_R``, then ``F_R``, ``U`` and ``V^T``). With ``max_chunk_bytes`` given, the peak of
    what ``fit_ridge`` allocates beyond the network, its inputs and targets is at most
    ``max(max_chunk_bytes, S)`` plus about ``100 D + 8 B N`` float64 values of small
    buffers and a few tens of KiB of Python objects (``B`` trials run together): a
    ``max_chunk_bytes`` of at least ``24 D^2`` bounds the whole peak (measured with
    ``tracemalloc`` in ``tests/test_ridge_memory.py``). The inputs, targets and mask are
    read as given (any real dtype and memory layout; a boolean mask, float32 targets) and
    converted to float64 one chunk at a time, and absent inputs take no memory. Not
    counted: with
    ``feedback_noise_std``, the noisy fed-back targets (``16 B T K`` bytes at most); with a
    list of trials, the stacked inputs, targets and masks of a group of equal-length
    trials.

    Parameters
    ----------
    net : Network
        The network (its ``W_out`` and ``b_out`` are ignored and replaced).
    inputs : array_like, shape (T, M) or (B, T, M), or list of arrays (T_i, M), optional
        Inputs (``None``: zero input, length from ``targets``). A list (with ``targets``
        a list) gives one array per trial.
    targets : array_like, shape (T, K) or (B, T, K), or list of arrays (T_i, K)
        Targets ``y``; fed back during the run and regressed on. A list or tuple of
        two-dimensional arrays is a list of trials of any lengths ``T_i``: each trial
        starts from ``x0``, loses its first ``washout`` steps, and all of them are fitted
        together (the rows of every trial are folded into one factor). Trials of equal
        length are run together as one batch (groups in the order in which their length
        first appears in the list; the result does not depend on the grouping beyond
        rounding, and random draws are made group by group as for that batch).
    reg : float
        Ridge penalty (>= 0), in the units of ``sum r r^T`` (not normalised by the number
        of samples). This is the penalty FORCE/RLS with ``P(0) = I / reg`` reaches on the
        same open-loop data (:func:`force`'s ``reg``). Never applied to ``b_out``.
    washout : int
        Steps discarded at the start of each trial.
    mask : array_like, shape (T,) or (B, T), or list of arrays (T_i,), optional
        Non-negative sample weights (a list, one per trial, with a list of trials).
    x0 : array_like, shape (N,) or (B, N), optional
        Initial state (default 0); with a list of trials, (N,) for every trial or
        (n_trials, N), one row per trial.
    n_steps : int, optional
        Number of steps when ``inputs`` is None (default: the length of ``targets``; must
        be None with a list of trials).
    noise_std : float
        State noise during the teacher-forced run (see :func:`reservoir.simulate`).
    rng : None, int, SeedSequence or Generator
        Source of the state noise and of the feedback noise (used only when one of
        ``noise_std``, ``feedback_noise_std`` is positive). Draw order, per batch (the one
        array, or each group of equal-length trials): the feedback noise first, one
        ``(B, T, K)`` array of standard normals (trial, step, readout), then the state
        noise chunk by chunk, ``(B, Tc, N)`` per chunk of ``Tc`` steps.
    max_chunk_bytes : int, optional
        Upper bound (bytes) on the memory of the streaming phase: the factor with LAPACK's
        blocks (``8 D (D + 128)`` bytes) and the buffers of one chunk (the rates, the
        state noise, the weighted rows folded into the factor, the weights and the kept
        inputs and targets: ``8 B (2 N + 3 K + 2 M + 5)`` bytes per step, ``8 B N`` more
        with state noise) together; the bound of the whole run when it is at least the
        solve's need (see Memory above). The chunk gets what the factor leaves, at least
        one step (so when the factor does not fit: the factor plus one step; many short
        chunks are slow, each being a LAPACK call). A single dense trial runs on a
        64-byte-aligned copy of ``J`` (``8 N^2`` bytes, 10-15 % faster steps) only when
        that copy also fits beside chunks of 64 steps; the SVD takes LAPACK's fast
        ``gesdd`` only when its workspace fits (else ``gesvd``, about 5x slower at
        N = 1000). Default (None): chunks of at most 64 MiB beside the factor and the
        aligned copy, and ``gesdd`` (about 8 N^2 values).
    rcond : float, optional
        Relative cutoff in [0, 1) on the singular values of the weighted rates (centred
        with an intercept; default ``eps * max(N, n)`` with ``n`` the number of samples of
        positive weight, the default of ``numpy.linalg.lstsq``).
    intercept : bool
        Fit the readout intercept ``b_out`` (unpenalised); default False (``b_out = 0``).
    feedback_noise_std : float
        Standard deviation ``sigma`` (readout units, >= 0; default 0: none) of Gaussian
        white noise added to the *fed-back* target during the teacher-forced run: the
        network is driven through ``W_fb`` by ``y[t] + sigma xi[t]`` (``xi ~ N(0, I)``,
        independent across steps, trials and readouts) while the readout is still
        regressed on the clean ``y[t]``. The classic cure for generators that drift once
        the loop is closed (the readout learns to correct feedback errors); distinct from
        the state noise ``noise_std``. The same option as :func:`reservoir.simulate`'s
        ``feedback_noise_std`` with ``mode="teacher"``.

    Returns
    -------
    RidgeResult
        The fitted readout (and intercept), the network carrying it, the training error
        and what was solved (``reg``, ``rank``, ``rcond``, ``cond``). ``x_final`` has one
        row per trial with a list of trials (n_trials, N), in list order. The network's
        ``meta["readout_fit"]`` (JSON, kept by :func:`~reservoir.save`) records the fit:
        ``method`` (``"ridge"``), ``mode`` (``"teacher"``), ``reg``, ``solver``,
        ``washout``, ``noise_std``, ``feedback_noise_std``, ``intercept``, ``b_out`` (the
        K intercepts, zeros without one), ``target`` (the K target values when the targets
        are constant over every sample used, else None), ``input`` (the M input values
        when constant over them, else None), ``train_mse`` and ``W_out_sha256`` (SHA-256
        of the fitted readout's float64 bytes, so that a readout set later by other means
        is not taken for this one). :func:`~reservoir.predict` reads it to choose the
        least-squares theory.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``, ``intercept`` not a bool, or ``inputs``/``mask``
        not lists when ``targets`` is a list of trials.
    ValueError
        If ``targets`` is missing or an empty list, an argument has the wrong shape or
        value (``rcond`` outside [0, 1), an invalid ``rng`` even when unused, a trial
        whose shape disagrees with the network, ...), ``washout`` is not shorter than
        every trial, no sample is left to fit, or the (N + K + 1)^2 factor cannot fit in
        physical memory.
    SimulationDivergedError
        If the teacher-forced run diverges.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if targets is None:
        raise ValueError("targets is required")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    rcond = _check_rcond(rcond)
    washout = as_int(washout, "washout", minimum=0)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    feedback_noise_std = as_positive_float(feedback_noise_std, "feedback_noise_std",
                                           allow_zero=True)
    intercept = _check_bool(intercept, "intercept")
    if max_chunk_bytes is not None:
        max_chunk_bytes = as_int(max_chunk_bytes, "max_chunk_bytes", minimum=1)
    N, K, M = net.N, net.n_outputs, net.n_inputs
    c = int(intercept)
    trial_list = is_trial_list(targets, inputs)
    if trial_list:
        if n_steps is not None:
            raise ValueError("n_steps must be None when targets is a list of trials (each "
                             "trial's length is that of its targets)")
        trials = as_trials(net, inputs, targets, mask)
        n_trials = len(trials)
        X0 = trial_starts(x0, n_trials, N)
        for i, (U_i, _, _) in enumerate(trials):
            if washout >= U_i.shape[0]:
                raise ValueError(f"washout ({washout}) must be shorter than every trial "
                                 f"(targets[{i}] has {U_i.shape[0]} steps)")
        weights = []
        for U_i, _, m_i in trials:
            w = np.ones(U_i.shape[0]) if m_i is None else m_i.copy()
            w[:washout] = 0.0
            weights.append(w)
        n_samples = float(sum(w.sum() for w in weights))
        groups: dict = {}
        for i, (U_i, _, _) in enumerate(trials):
            groups.setdefault(U_i.shape[0], []).append(i)
        B_max = max(len(idx) for idx in groups.values())
    else:
        # inputs, targets and mask stay in the user's dtype and layout: converted to
        # float64 chunk by chunk (a whole float64 copy would be outside max_chunk_bytes)
        Yarr = as_real_array(targets, "targets", (2, 3))
        if inputs is None and n_steps is None:
            n_steps = Yarr.shape[-2]
        U, Y, X, batched = prepare_batch(net, inputs, Yarr, x0, n_steps,
                                         MODE_CODES["teacher"], convert=False)
        B, T = U.shape[0], U.shape[1]
        B_max = B
    # the (N + K)^2 triangular factor, its SVD (U, Vt and a copy) and one step of B trials
    check_memory(8.0 * 4 * (c + N + K) ** 2 + 8.0 * B_max * (3 * N + K), "net",
                 f"a network of N={N} units", what="the least-squares factor (N + K, N + K)")
    if not trial_list:
        if washout >= T:
            raise ValueError(f"washout ({washout}) must be shorter than the trials ({T} "
                             "steps)")
        W = None        # the weights: formed chunk by chunk from the mask and washout
        if mask is not None:
            W = as_real_array(mask, "mask", (1, 2))
            if W.shape[-1] != T or (W.ndim == 2 and W.shape[0] != B):
                raise ValueError(f"mask must have shape ({T},) or ({B}, {T}), got {W.shape}")
            if W.min() < 0:
                raise ValueError("mask must be non-negative")
        n_samples, top = _scan_targets(Y, W, washout)
    else:
        top = np.max([_scan_targets(Y_i[None], w, 0)[1] for (_, Y_i, _), w
                      in zip(trials, weights)], axis=0)
    y_scale = _scale_of(top)
    if n_samples <= 0:
        raise ValueError("no samples left to fit (mask and washout exclude every step)")
    check_rng(rng)  # validated even when unused
    gen = as_rng(rng) if (noise_std > 0 or feedback_noise_std > 0) else None
    factor = _TriangularFactor(c + N + K)
    ranges = [np.full(K, np.inf), np.full(K, -np.inf), np.full(M, np.inf),
              np.full(M, -np.inf)]
    if trial_list:
        x_final = np.empty((n_trials, N))
        for idx in groups.values():
            Xg = X0[idx]
            _fold_teacher_run(net, factor, np.stack([trials[i][0] for i in idx]),
                              np.stack([trials[i][1] for i in idx]), Xg,
                              np.stack([weights[i] for i in idx]), gen, noise_std,
                              feedback_noise_std, max_chunk_bytes, intercept, ranges,
                              y_scale)
            x_final[idx] = Xg
    else:
        _fold_teacher_run(net, factor, U, Y, X, W, gen, noise_std, feedback_noise_std,
                          max_chunk_bytes, intercept, ranges, y_scale, washout)
        x_final = X if batched else X[0]
    sol = _unscale_solution(
        _solve_factor(factor, N, K, reg, rcond, factor.n_rows, intercept,
                      np.inf if max_chunk_bytes is None else max_chunk_bytes), y_scale)
    del factor
    W_out = sol.W
    b_out = sol.b if intercept else np.zeros(K)
    with np.errstate(over="ignore", under="ignore"):
        train_mse = sol.sse / n_samples * y_scale * y_scale      # the mean, then the scale
    messages = []
    if sol.finite and sol.rank < N:
        messages.append(_dropped_message(sol, N, reg, intercept))
    success = sol.finite
    if not success:
        messages.append("the readout or its training error is not finite")
    elif not np.all(np.isfinite(train_mse)):
        messages.append("the training error of readout(s) "
                        f"{[int(k) for k in np.flatnonzero(~np.isfinite(train_mse))]} "
                        "exceeds the float64 range (targets of order "
                        f"{float(np.max(y_scale)):.1e}): train_mse is inf there; the "
                        "readout is finite")
    fitted = net
    if success:
        fitted = net.with_readout(W_out, b_out)
        y_lo, y_hi, u_lo, u_hi = ranges
        record = {"method": "ridge", "mode": "teacher", "reg": reg, "solver": sol.solver,
                  "washout": washout, "noise_std": noise_std,
                  "feedback_noise_std": feedback_noise_std, "intercept": intercept,
                  "b_out": [float(v) for v in fitted.b_out],
                  "target": _constant_value(y_lo, y_hi),
                  "input": _constant_value(u_lo, u_hi) if M else [],
                  "train_mse": [float(v) for v in train_mse],
                  "W_out_sha256": _readout_fingerprint(fitted.W_out)}
        fitted = dataclasses.replace(fitted, meta={**net.meta, "readout_fit": record})
    return RidgeResult(network=fitted, W_out=W_out, b_out=b_out,
                       x_final=x_final, train_mse=train_mse,
                       n_samples=n_samples, reg=reg, success=success,
                       messages=tuple(messages), solver=sol.solver, n_dropped=N - sol.rank,
                       rank=sol.rank, rcond=sol.rcond, cond=sol.cond)
