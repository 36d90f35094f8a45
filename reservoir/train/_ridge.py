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
import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.linalg import lapack

from .._checks import (as_float_array, as_int, as_positive_float, as_rng, check_memory,
                       check_rng)
from .._kernels.blas_threads import single_threaded_blas
from .._results import ResultMixin
from ..network import Network
from .._simulate import MODE_CODES, advance, chunk_length, prepare_batch

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
    x_final : ndarray, shape (N,) or (B, N)
        State after the last teacher-forced step.
    train_mse : ndarray, shape (K,)
        Weighted mean squared error of ``W_out r[t]`` against ``y[t]`` on the samples used
        (readout units squared), computed from the QR factor (no cancellation).
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
    cost of accumulating ``A^T A``. Memory: ``F`` and the block being added.
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


def _default_rcond(N: int, n_rows: int) -> float:
    """``eps * max(N, rows)``, the cutoff of ``numpy.linalg.lstsq`` (and LAPACK's
    ``gelsd`` convention) for a ``rows x N`` matrix."""
    return float(np.finfo(float).eps * max(N, n_rows, 1))


def _solve_factor(F: np.ndarray, N: int, K: int, reg: float, rcond: float | None,
                  n_rows: int) -> _Solution:
    """Ridge readout from the triangular factor ``F`` of ``[sqrt(w) R | sqrt(w) Y]``.

    With ``F = [[F_R, F_Y], [0, F_E]]`` the objective is ``|F_R W^T - F_Y|^2 + |F_E|^2 +
    reg |W|^2``. When ``reg`` exceeds ``rcond |F_R|_F^2`` (so the penalty, not rounding,
    bounds every direction: a direction whose singular value ``s <= rcond s_max`` is
    rounding gets a coefficient at most ``s |F_Y| / reg < |F_Y| / s_max``) it is solved
    by the QR decomposition of
    ``[[F_R, F_Y], [sqrt(reg) I, 0]]`` (``dtpqrt`` with a triangular lower block) and a
    triangular solve: ``"qr"``. Otherwise by the SVD ``F_R = U diag(s) V^T``:
    ``W^T = V diag(s / (s^2 + reg)) U^T F_Y`` over the singular values above
    ``rcond s_max``: ``"svd"``.
    """
    rc = _default_rcond(N, n_rows) if rcond is None else float(rcond)
    if not np.all(np.isfinite(F)):
        return _Solution(np.full((K, N), np.nan), np.full(K, np.nan), "none", 0, rc,
                         np.nan, np.nan, False)
    with _blas_threads_for(10.0 * float(N + K) ** 3):
        return _solve_finite_factor(F, N, K, reg, rc)


def _solve_finite_factor(F, N, K, reg, rc) -> _Solution:
    """The two paths of :func:`_solve_factor` (see there) for a finite ``F``."""
    FR = np.triu(F[:N, :N])
    FY = F[:N, N:]
    FE = np.triu(F[N:, N:])
    sq = float(np.sqrt(reg))
    norm_fr = float(np.linalg.norm(FR))                 # >= s_max
    if reg > 0 and reg > rc * norm_fr * norm_fr:
        lower = np.zeros((N, N + K), order="F")
        lower[np.arange(N), np.arange(N)] = sq
        nb = max(1, min(_QR_BLOCK, N + K))
        a, _, _, info = lapack.dtpqrt(N, nb, np.array(F, order="F"), lower,
                                      overwrite_a=1, overwrite_b=1)
        if info != 0:                                    # pragma: no cover - LAPACK says
            raise RuntimeError(f"LAPACK dtpqrt failed (info = {info})")
        A_R = np.triu(a[:N, :N])
        Wt = scipy.linalg.solve_triangular(A_R, a[:N, N:], check_finite=False)
        rc_est, info = lapack.dtrcon(A_R, norm="1", uplo="U", diag="N")
        cond = float(1.0 / rc_est) if info == 0 and rc_est > 0 else float("inf")
        solver, rank, cutoff = "qr", N, rc * norm_fr
    else:
        try:
            U, s, Vt = scipy.linalg.svd(FR, lapack_driver="gesdd", check_finite=False)
        except np.linalg.LinAlgError:                   # pragma: no cover - rare
            U, s, Vt = scipy.linalg.svd(FR, lapack_driver="gesvd", check_finite=False)
        cutoff = rc * float(s[0]) if s.size else 0.0
        keep = s > cutoff
        rank = int(np.count_nonzero(keep))
        sk = s[keep]
        filt = 1.0 / (sk + reg / sk)                    # s / (s^2 + reg), no overflow
        Wt = Vt[:rank].T @ (filt[:, None] * (U[:, :rank].T @ FY))
        cond = float(np.hypot(sk[0], sq) / np.hypot(sk[-1], sq)) if rank else float("nan")
        solver = "svd"
    resid = FR @ Wt - FY
    sse = np.sum(resid * resid, axis=0) + np.sum(FE * FE, axis=0)
    finite = bool(np.all(np.isfinite(Wt)) and np.all(np.isfinite(sse)))
    return _Solution(np.ascontiguousarray(Wt.T), sse, solver, rank, rc, cutoff, cond,
                     finite)


def _check_rcond(rcond):
    if rcond is None:
        return None
    rc = as_positive_float(rcond, "rcond", allow_zero=True)
    if rc >= 1:
        raise ValueError(f"rcond must be in [0, 1), got {rc}")
    return rc


def _dropped_message(sol: _Solution, N: int, reg: float) -> str:
    return (f"the weighted rates have numerical rank {sol.rank} < N = {N}: {N - sol.rank} "
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


def ridge_regression(R, Y, reg: float, weights=None, *, rcond=None) -> np.ndarray:
    """Ridge readout from recorded rates: minimise ``sum_t w_t |y_t - W r_t|^2 + reg |W|_F^2``.

    Solved as in :func:`fit_ridge` (Householder QR of ``[sqrt(w) R | sqrt(w) Y]``, then the
    SVD of the triangular factor), accurate at every penalty including 0, where it is the
    minimum-norm least-squares readout over the singular values above ``rcond * s_max``
    (as ``numpy.linalg.lstsq``).

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
        ``eps * max(N, T)``, that of ``numpy.linalg.lstsq``).

    Returns
    -------
    W : ndarray, shape (K, N)
        The readout (readout units per rate unit).

    Raises
    ------
    ValueError
        If the shapes disagree, ``reg`` or a weight is negative, ``rcond`` is outside
        [0, 1), or an array holds non-finite values.
    """
    R = as_float_array(R, "R", 2)
    Y = as_float_array(Y, "Y", 2)
    if Y.shape[0] != R.shape[0]:
        raise ValueError(f"Y must have {R.shape[0]} rows like R, got shape {Y.shape}")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    rcond = _check_rcond(rcond)
    T, N = R.shape
    K = Y.shape[1]
    block = np.empty((T, N + K), order="F")
    block[:, :N] = R
    block[:, N:] = Y
    if weights is not None:
        w = as_float_array(weights, "weights", 1)
        if w.shape != (T,) or np.any(w < 0):
            raise ValueError(f"weights must be non-negative with shape ({T},)")
        block *= np.sqrt(w)[:, None]
        n_rows = int(np.count_nonzero(w))
    else:
        n_rows = T
    fac = _TriangularFactor(N + K)
    fac.add(block)
    return _solve_factor(fac.F, N, K, reg, rcond, n_rows).W


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


def fit_ridge(net: Network, inputs=None, targets=None, *, reg: float = 1e-6, washout: int = 0,
              mask=None, x0=None, n_steps=None, noise_std: float = 0.0, rng=None,
              max_chunk_bytes: int | None = None, rcond=None) -> RidgeResult:
    """Fit the readout by ridge regression on teacher-forced states.

    The network is run with ``mode="teacher"`` (the target ``y[t]`` is fed back while
    computing ``x[t+1]``), and ``W_out`` minimises::

        sum_{b,t} w[b,t] |y[b,t] - W_out r[b,t]|^2 + reg |W_out|_F^2

    where ``r[b,t] = phi(x[b,t])``, the weights ``w`` are the ``mask`` (default 1) and the
    first ``washout`` steps of every trial have weight 0.

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
    Computations*, 4th ed., 5.2-5.3 and 6.1). ``RidgeResult`` reports what was solved
    (``solver``, ``rank``, ``rcond``, ``cond``, a message when directions were dropped).
    Memory: the network, the factor (``8 (N + K)^2`` bytes) and one chunk.

    Parameters
    ----------
    net : Network
        The network (its ``W_out`` is ignored and replaced).
    inputs : array_like, shape (T, M) or (B, T, M), optional
        Inputs (``None``: zero input, length from ``targets``).
    targets : array_like, shape (T, K) or (B, T, K)
        Targets ``y``; fed back during the run and regressed on.
    reg : float
        Ridge penalty (>= 0), in the units of ``sum r r^T`` (not normalised by the number
        of samples). This is the penalty FORCE/RLS with ``P(0) = I / reg`` reaches on the
        same open-loop data (:func:`force`'s ``reg``).
    washout : int
        Steps discarded at the start of each trial.
    mask : array_like, shape (T,) or (B, T), optional
        Non-negative sample weights.
    x0 : array_like, shape (N,) or (B, N), optional
        Initial state (default 0).
    n_steps : int, optional
        Number of steps when ``inputs`` is None (default: the length of ``targets``).
    noise_std : float
        State noise during the teacher-forced run (see :func:`reservoir.simulate`).
    rng : None, int, SeedSequence or Generator
        Source of the state noise (used only when ``noise_std > 0``).
    max_chunk_bytes : int, optional
        Upper bound on the memory of one chunk: its rates, noise and the weighted copy
        folded into the factor (default: 64 MiB; at least one step is run at a time).
    rcond : float, optional
        Relative cutoff in [0, 1) on the singular values of the weighted rates (default
        ``eps * max(N, n)`` with ``n`` the number of samples of positive weight, the
        default of ``numpy.linalg.lstsq``).

    Returns
    -------
    RidgeResult
        The fitted readout, the network carrying it, the training error and what was
        solved (``reg``, ``rank``, ``rcond``, ``cond``). The network's
        ``meta["readout_fit"]`` (JSON, kept by :func:`~reservoir.save`) records the fit:
        ``method`` (``"ridge"``), ``mode`` (``"teacher"``), ``reg``, ``solver``,
        ``washout``, ``noise_std``, ``target`` (the K target values when the targets are
        constant over every sample used, else None), ``input`` (the M input values when
        constant over them, else None), ``train_mse`` and ``W_out_sha256`` (SHA-256 of
        the fitted readout's float64 bytes, so that a readout set later by other means is
        not taken for this one). :func:`~reservoir.predict` reads it to choose the
        least-squares theory.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``.
    ValueError
        If ``targets`` is missing, an argument has the wrong shape or value (``rcond``
        outside [0, 1), an invalid ``rng`` even when unused, ...), ``washout`` is not
        shorter than the trials, no sample is left to fit, or the (N + K)^2 factor
        cannot fit in physical memory.
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
    Yarr = as_float_array(targets, "targets", (2, 3))
    if inputs is None and n_steps is None:
        n_steps = Yarr.shape[-2]
    U, Y, X, batched = prepare_batch(net, inputs, Yarr, x0, n_steps, MODE_CODES["teacher"])
    B, T = U.shape[0], U.shape[1]
    N, K = net.N, net.n_outputs
    # the (N + K)^2 triangular factor, its SVD (U, Vt and a copy) and one step of B trials
    check_memory(8.0 * 4 * (N + K) ** 2 + 8.0 * B * (3 * N + K), "net",
                 f"a network of N={N} units", what="the least-squares factor (N + K, N + K)")
    if washout >= T:
        raise ValueError(f"washout ({washout}) must be shorter than the trials ({T} steps)")
    W = np.ones((B, T))
    if mask is not None:
        m = as_float_array(mask, "mask", (1, 2))
        if m.shape[-1] != T or (m.ndim == 2 and m.shape[0] != B):
            raise ValueError(f"mask must have shape ({T},) or ({B}, {T}), got {m.shape}")
        if np.any(m < 0):
            raise ValueError("mask must be non-negative")
        W = W * m
    W[:, :washout] = 0.0
    n_samples = float(W.sum())
    if n_samples <= 0:
        raise ValueError("no samples left to fit (mask and washout exclude every step)")
    check_rng(rng)  # validated even when unused
    gen = as_rng(rng) if noise_std > 0 else None
    noise_scale = noise_std * np.sqrt(net.alpha)
    # float64 values held per trial and step: the rates (and the noise), plus the
    # weighted copy folded into the factor (N + K columns)
    per_step = N * (2 if gen is not None else 1) + N + K
    budget_steps = chunk_length(B, per_step, T, 1)
    if max_chunk_bytes is not None:
        max_chunk_bytes = as_int(max_chunk_bytes, "max_chunk_bytes", minimum=1)
        budget_steps = max(1, min(budget_steps, max_chunk_bytes // (B * per_step * 8)))
    factor = _TriangularFactor(N + K)
    y_lo, y_hi = np.full(K, np.inf), np.full(K, -np.inf)
    u_lo, u_hi = np.full(U.shape[-1], np.inf), np.full(U.shape[-1], -np.inf)
    empty_x = np.empty((B, 0, N))
    for s in range(0, T, budget_steps):
        e = min(T, s + budget_steps)
        out_r = np.empty((B, e - s, N))
        out_z = np.empty((B, 0, K))
        noise = gen.standard_normal((B, e - s, N)) if gen is not None else empty_x
        advance(net, X, U[:, s:e], Y[:, s:e], MODE_CODES["teacher"], noise_scale, noise,
                empty_x, out_r, out_z, t_offset=s)
        del noise
        w = W[:, s:e].reshape(-1)
        keep = w > 0
        n_keep = int(np.count_nonzero(keep))
        if n_keep == 0:
            continue
        Yc = Y[:, s:e].reshape(-1, K)[keep]
        y_lo, y_hi = np.minimum(y_lo, Yc.min(0)), np.maximum(y_hi, Yc.max(0))
        if U.shape[-1]:
            Uc = U[:, s:e].reshape(-1, U.shape[-1])[keep]
            u_lo, u_hi = np.minimum(u_lo, Uc.min(0)), np.maximum(u_hi, Uc.max(0))
        sw = np.sqrt(w[keep])[:, None]
        block = np.empty((n_keep, N + K), order="F")
        rates = out_r.reshape(-1, N)
        np.multiply(rates if n_keep == rates.shape[0] else rates[keep], sw,
                    out=block[:, :N])
        del out_r, rates
        np.multiply(Yc, sw, out=block[:, N:])
        factor.add(block)
        del block
    sol = _solve_factor(factor.F, N, K, reg, rcond, factor.n_rows)
    W_out = sol.W
    train_mse = sol.sse / n_samples
    messages = []
    if sol.finite and sol.rank < N:
        messages.append(_dropped_message(sol, N, reg))
    success = sol.finite
    if not success:
        messages.append("the readout or its training error is not finite")
    fitted = net
    if success:
        fitted = net.with_readout(W_out)
        record = {"method": "ridge", "mode": "teacher", "reg": reg, "solver": sol.solver,
                  "washout": washout, "noise_std": noise_std,
                  "target": _constant_value(y_lo, y_hi),
                  "input": _constant_value(u_lo, u_hi) if U.shape[-1] else [],
                  "train_mse": [float(v) for v in train_mse],
                  "W_out_sha256": _readout_fingerprint(fitted.W_out)}
        fitted = dataclasses.replace(fitted, meta={**net.meta, "readout_fit": record})
    return RidgeResult(network=fitted, W_out=W_out,
                       x_final=X if batched else X[0], train_mse=train_mse,
                       n_samples=n_samples, reg=reg, success=success,
                       messages=tuple(messages), solver=sol.solver, n_dropped=N - sol.rank,
                       rank=sol.rank, rcond=sol.rcond, cond=sol.cond)
