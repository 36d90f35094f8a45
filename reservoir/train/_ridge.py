"""Offline readout training by ridge regression on teacher-forced states."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._checks import as_float_array, as_int, as_positive_float, as_rng
from .._results import ResultMixin
from ..network import Network
from .._simulate import MODE_CODES, advance, chunk_length, prepare_batch


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
        (readout units squared).
    n_samples : float
        Sum of the sample weights (number of samples used when there is no mask).
    reg : float
        The penalty requested. When it is not above the rounding level of ``R^T R`` the
        solve also drops directions (``solver == "eigh"``, see ``messages``).
    success : bool
        The readout and its training error are finite.
    messages : tuple of str
        What the solve did beyond the plain ridge solution (empty otherwise).
    solver : {"cholesky", "eigh"}
        ``"cholesky"``: ``(R^T R + reg I) W^T = R^T Y`` solved directly (``reg`` above
        the rounding level ``N eps trace(R^T R)``); ``"eigh"``: solved in the eigenbasis of
        ``R^T R`` with the directions where ``s + reg`` is not above that level dropped.
    n_dropped : int
        Number of eigen-directions dropped (0 with ``solver == "cholesky"``).
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
    """Solve ``(RtR + reg I) W^T = RtY`` for the readout ``W``.

    A penalty above the rounding level of ``RtR`` (``N eps trace(RtR)``) gives a
    well-conditioned system, solved by Cholesky. A smaller one (including 0) cannot be told
    apart from rounding: the system is solved in the eigenbasis of ``RtR`` with the
    directions below that level dropped, i.e. the minimum-norm least-squares readout (the
    limit of ridge as the penalty vanishes) instead of amplified rounding noise.

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
    ValueError
        If ``RtR`` or ``RtY`` holds non-finite values.
    numpy.linalg.LinAlgError
        If ``RtR + reg I`` is not positive definite (``RtR`` not positive semi-definite).
    """
    return _ridge_solve(RtR, RtY, reg)[0]


def ridge_regression(R, Y, reg: float, weights=None) -> np.ndarray:
    """Ridge readout from recorded rates: minimise ``sum_t w_t |y_t - W r_t|^2 + reg |W|_F^2``.

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

    Returns
    -------
    W : ndarray, shape (K, N)
        The readout (solved as in :func:`ridge_readout`).

    Raises
    ------
    ValueError
        If the shapes disagree, ``reg`` or a weight is negative, or an array holds
        non-finite values.
    """
    R = as_float_array(R, "R", 2)
    Y = as_float_array(Y, "Y", 2)
    if Y.shape[0] != R.shape[0]:
        raise ValueError(f"Y must have {R.shape[0]} rows like R, got shape {Y.shape}")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    if weights is not None:
        w = as_float_array(weights, "weights", 1)
        if w.shape != (R.shape[0],) or np.any(w < 0):
            raise ValueError(f"weights must be non-negative with shape ({R.shape[0]},)")
        sw = np.sqrt(w)[:, None]
        R, Y = R * sw, Y * sw
    return ridge_readout(R.T @ R, R.T @ Y, reg)


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
              max_chunk_bytes: int | None = None) -> RidgeResult:
    """Fit the readout by ridge regression on teacher-forced states.

    The network is run with ``mode="teacher"`` (the target ``y[t]`` is fed back while
    computing ``x[t+1]``), and ``W_out`` minimises::

        sum_{b,t} w[b,t] |y[b,t] - W_out r[b,t]|^2 + reg |W_out|_F^2

    where ``r[b,t] = phi(x[b,t])``, the weights ``w`` are the ``mask`` (default 1) and the
    first ``washout`` steps of every trial have weight 0. Only ``R^T R`` (N x N) and
    ``R^T Y`` (N x K) are accumulated, chunk by chunk, so trials of any length fit in memory.

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
        Upper bound on the memory of the rates held at once (default: 64 MiB).

    Returns
    -------
    RidgeResult
        The fitted readout, the network carrying it, the training error and how the
        system was solved. The network's ``meta["readout_fit"]`` (JSON, kept by
        :func:`~reservoir.save`) records the fit: ``method`` (``"ridge"``), ``mode``
        (``"teacher"``), ``reg``, ``solver``, ``washout``, ``noise_std``, ``target`` (the
        K target values when the targets are constant over every sample used, else
        None), ``input`` (the M input values when constant over them, else None),
        ``train_mse`` and ``W_out_sha256`` (SHA-256 of the fitted readout's float64
        bytes, so that a readout set later by other means is not taken for this one).
        :func:`~reservoir.predict` reads it to choose the least-squares theory.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``.
    ValueError
        If ``targets`` is missing, an argument has the wrong shape or value, ``washout``
        is not shorter than the trials, or no sample is left to fit.
    SimulationDivergedError
        If the teacher-forced run diverges.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if targets is None:
        raise ValueError("targets is required")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    washout = as_int(washout, "washout", minimum=0)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    Yarr = as_float_array(targets, "targets", (2, 3))
    if inputs is None and n_steps is None:
        n_steps = Yarr.shape[-2]
    U, Y, X, batched = prepare_batch(net, inputs, Yarr, x0, n_steps, MODE_CODES["teacher"])
    B, T = U.shape[0], U.shape[1]
    N, K = net.N, net.n_outputs
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
    gen = as_rng(rng) if noise_std > 0 else None
    noise_scale = noise_std * np.sqrt(net.alpha)
    budget_steps = chunk_length(B, N, T, 2 if gen is not None else 1)
    if max_chunk_bytes is not None:
        max_chunk_bytes = as_int(max_chunk_bytes, "max_chunk_bytes", minimum=1)
        budget_steps = max(1, min(budget_steps, max_chunk_bytes // (B * N * 8)))
    RtR = np.zeros((N, N))
    RtY = np.zeros((N, K))
    YtY = np.zeros(K)
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
        w = W[:, s:e].reshape(-1)
        keep = w > 0
        if not np.any(keep):
            continue
        R = out_r.reshape(-1, N)[keep]
        Yc = Y[:, s:e].reshape(-1, K)[keep]
        y_lo, y_hi = np.minimum(y_lo, Yc.min(0)), np.maximum(y_hi, Yc.max(0))
        if U.shape[-1]:
            Uc = U[:, s:e].reshape(-1, U.shape[-1])[keep]
            u_lo, u_hi = np.minimum(u_lo, Uc.min(0)), np.maximum(u_hi, Uc.max(0))
        sw = np.sqrt(w[keep])[:, None]
        Rw = R * sw
        Yw = Yc * sw
        RtR += Rw.T @ Rw
        RtY += Rw.T @ Yw
        YtY += np.einsum("ik,ik->k", Yw, Yw)
    W_out, solver, n_dropped, level = _ridge_solve(RtR, RtY, reg)
    sse = YtY - 2 * np.einsum("kn,nk->k", W_out, RtY) + np.einsum("kn,nm,km->k", W_out, RtR,
                                                                   W_out)
    train_mse = np.maximum(sse, 0.0) / n_samples
    messages = []
    if solver == "eigh":
        messages.append(
            f"reg = {reg:.3g} is not above the rounding level {level:.3g} of R^T R "
            f"(N eps trace): solved by eigendecomposition, {n_dropped} of {N} directions "
            "at or below that level set to zero (minimum-norm least squares on them); "
            "`reg` reports the penalty requested, not this truncation")
    success = bool(np.all(np.isfinite(W_out)) and np.all(np.isfinite(train_mse)))
    if not success:
        messages.append("the readout or its training error is not finite")
    fitted = net
    if success:
        fitted = net.with_readout(W_out)
        record = {"method": "ridge", "mode": "teacher", "reg": reg, "solver": solver,
                  "washout": washout, "noise_std": noise_std,
                  "target": _constant_value(y_lo, y_hi),
                  "input": _constant_value(u_lo, u_hi) if U.shape[-1] else [],
                  "train_mse": [float(v) for v in train_mse],
                  "W_out_sha256": _readout_fingerprint(fitted.W_out)}
        fitted = dataclasses.replace(fitted, meta={**net.meta, "readout_fit": record})
    return RidgeResult(network=fitted, W_out=W_out,
                       x_final=X if batched else X[0], train_mse=train_mse,
                       n_samples=n_samples, reg=reg, success=success,
                       messages=tuple(messages), solver=solver, n_dropped=n_dropped)
