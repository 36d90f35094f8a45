r"""Saddle connections: where the unstable manifold of a one-dimensional saddle leads.

A fixed point ``x_s`` of the closed loop with exactly one multiplier ``m`` of the Euler map
outside the unit circle (a *saddle of index one*, ``FixedPoints.n_unstable == 1``) has a
one-dimensional unstable manifold: two branches leaving ``x_s`` along ``+e`` and ``-e``,
``e`` the eigenvector of ``m``. In a trained memory network each branch typically ends at a
stable fixed point, and the saddle then sits on the boundary between the two basins: this
is how Sussillo & Barak (2013, *Opening the black box*, Neural Computation 25:626-649) show
that the saddles of a 3-bit flip-flop connect neighbouring memories.

:func:`saddle_connections` follows both branches by simulating the dynamics as simulated
(:func:`reservoir.simulate`, ``mode="closed"``, the constant input of the fixed points)
from ``x_s +- eps e`` and reports, for each branch, the listed point its final state is at
(within ``match_tol``), or -1. The Jacobian of the Euler map
``x -> x + alpha F(x)`` (``alpha = dt / tau``) at ``x_s`` is
``A = (1 - alpha) I + alpha (J + W_fb W_out) D`` with ``D = diag(phi'(x_s))``; its
eigenvalues are the multipliers ``FixedPoints.multipliers``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_positive_float
from .._results import PointSetMixin
from .._simulate import simulate
from ..errors import SimulationDivergedError
from ..network import Network
from ..nonlinearities import get_nonlinearity
from .fixed_points import FixedPoints

__all__ = ["SaddleConnections", "saddle_connections"]

#: Largest number of Euler steps the automatic ``duration`` asks for.
_MAX_AUTO_STEPS = 200_000


@dataclass(frozen=True, eq=False, repr=False)
class SaddleConnections(PointSetMixin):
    """Where the two branches of the unstable manifold of each index-one saddle end.

    A point collection, one row per saddle followed: ``res[i]``, ``res[mask]`` select
    saddles; ``duration``, ``eps``, ``match_tol``, ``n_steps``, ``success`` and
    ``messages`` are kept.

    Parameters
    ----------
    saddle_index : ndarray of int, shape (S,)
        Rows of the ``FixedPoints`` that were followed: the fixed points (not slow points)
        with exactly one multiplier outside the unit circle (``n_unstable == 1``). Per
        saddle.
    ends : ndarray of int, shape (S, 2)
        Row of the ``FixedPoints`` at which the branch started at ``x + eps e`` (column 0)
        and at ``x - eps e`` (column 1) ends: the nearest point within ``match_tol``
        (max-norm, state units) of the final state; -1 when the final state is within
        ``match_tol`` of no listed point other than the saddle itself (the branch ends
        at an unlisted state, has not come to rest, or diverged: the messages say which).
        Per saddle.
    unstable_vector : ndarray, shape (S, N)
        The unit (2-norm) eigenvector ``e`` of the unstable multiplier, signed so that its
        entry of largest modulus is positive. Per saddle.
    unstable_multiplier : ndarray, shape (S,)
        The unstable multiplier ``m`` of the Euler map (real, ``|m| > 1``; a negative
        ``m`` makes the orbit alternate between the two sides of the saddle). Per saddle.
    x_end : ndarray, shape (S, 2, N)
        The final state of each branch (state units; NaN for a branch that diverged). Per
        saddle.
    end_distance : ndarray, shape (S, 2)
        Max-norm distance from ``x_end`` to the nearest listed point other than the saddle
        itself (state units; ``inf`` when there is none or the branch diverged). Per
        saddle.
    end_residual : ndarray, shape (S, 2)
        ``max_i |F_i(x_end)|``, the speed at the final state (state units; near 0 when the
        branch has come to rest). Per saddle.
    duration : float
        Time simulated per branch (time units).
    eps : float
        Length of the initial displacement along ``e`` (state units).
    match_tol : float
        Max-norm distance within which a final state is at a listed point (state units).
    n_steps : int
        Euler steps simulated per branch.
    success : bool
        Every branch of every saddle followed ended at a listed point (``ends >= 0``);
        True also when there is no index-one saddle to follow (a message says so).
    messages : tuple of str
        Branches that ended nowhere listed and why, negative multipliers, and anything
        else worth knowing.
    """

    _point_fields = ("saddle_index", "ends", "unstable_vector", "unstable_multiplier",
                     "x_end", "end_distance", "end_residual")

    saddle_index: np.ndarray
    ends: np.ndarray
    unstable_vector: np.ndarray
    unstable_multiplier: np.ndarray
    x_end: np.ndarray
    end_distance: np.ndarray
    end_residual: np.ndarray
    duration: float
    eps: float
    match_tol: float
    n_steps: int
    success: bool
    messages: tuple


def _euler_map_jacobian(net: Network, x: np.ndarray) -> np.ndarray:
    """``(1 - alpha) I + alpha (J + W_fb W_out) D`` at ``x``."""
    d = get_nonlinearity(net.phi).dphi(x)
    W = np.asarray(net.dense_J(), dtype=np.float64) + net.W_fb @ net.W_out
    A = net.alpha * W * d[None, :]
    A[np.diag_indices(net.N)] += 1.0 - net.alpha
    return A


def _vector_field(net: Network, X: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``F(x) = -x + J phi(x) + W_fb (W_out phi(x) + b_out) + W_in u + b`` for each row
    of ``X`` (the readout intercept ``b_out`` fed back as the current ``W_fb b_out``)."""
    R = get_nonlinearity(net.phi).phi(X)
    J = net.dense_J()
    F = -X + (J @ R.T).T + (net.W_fb @ (net.W_out @ R.T)).T + net.W_in @ u + net.b
    if net.has_intercept:
        F += net.W_fb @ net.b_out
    return F


def _unstable_direction(A: np.ndarray):
    """The eigenvalue of largest modulus of ``A`` (real part) and its unit eigenvector,
    signed so that the entry of largest modulus is positive."""
    lam, V = np.linalg.eig(A)
    k = int(np.argmax(np.abs(lam)))
    m = lam[k]
    e = V[:, k]
    # a real eigenvalue has a real eigenvector up to a complex phase: remove the phase
    j = int(np.argmax(np.abs(e)))
    e = np.real(e * np.exp(-1j * np.angle(e[j])))
    e = e / np.linalg.norm(e)
    return m, e


def _run(net, x0, u, n_steps):
    """Final states of closed-loop runs from the rows of ``x0``; a row that diverges
    gives NaN (rows are retried one at a time after a batch diverged)."""
    B = x0.shape[0]
    U = np.broadcast_to(u, (B, n_steps, net.n_inputs))
    try:
        return simulate(net, U, x0, mode="closed", record=()).x_final, np.zeros(B, bool)
    except SimulationDivergedError:
        out = np.full(x0.shape, np.nan)
        diverged = np.zeros(B, bool)
        for i in range(B):
            try:
                out[i] = simulate(net, U[i], x0[i], mode="closed", record=()).x_final
            except SimulationDivergedError:
                diverged[i] = True
        return out, diverged


def saddle_connections(net: Network, fps: FixedPoints, u: ArrayLike | None = None, *,
                       eps: float = 1e-3,
                       duration: float | None = None,
                       match_tol: float = 1e-3) -> SaddleConnections:
    r"""Follow the unstable manifold of every index-one saddle and report where it ends.

    For every fixed point ``x_s`` of ``fps`` (slow points excluded) with exactly one
    multiplier of the Euler map outside the unit circle (``fps.n_unstable == 1``), the
    unstable eigenvector ``e`` of the Euler-map Jacobian
    ``A = (1 - alpha) I + alpha (J + W_fb W_out) D`` (``alpha = dt / tau``,
    ``D = diag(phi'(x_s))``) is computed, the closed loop is simulated at the constant input
    ``u`` from ``x_s + eps e`` and from ``x_s - eps e`` (:func:`reservoir.simulate`,
    ``mode="closed"``), and each final state is matched to the listed points: the nearest
    one within ``match_tol`` in max-norm. This is the check by which Sussillo & Barak
    (2013, Neural Computation 25:626-649) show that the saddles of a trained flip-flop
    connect neighbouring memories.

    Parameters
    ----------
    net : Network
        The network whose fixed points ``fps`` are.
    fps : FixedPoints
        Fixed points of ``net`` at ``u``, with their stability (from
        :func:`~reservoir.analysis.find_fixed_points` with ``compute_eigenvalues=True``).
        Only points with ``n_unstable == 1`` are followed; every point is a possible end.
    u : array_like, shape (M,), optional
        The constant input (default: ``fps.u``; if given, it must equal ``fps.u``).
    eps : float
        Length of the displacement along ``e`` (state units, > 0). Small enough that the
        start lies on the linear part of the manifold, large enough to leave the saddle
        within ``duration``.
    duration : float, optional
        Time simulated per branch (time units). Default: ten times the time the
        displacement needs to grow from ``eps`` to 1 at the slowest followed saddle,
        ``10 dt ln(1 / eps) / ln |m|``, plus ``100 tau`` to settle (at most 200000 steps).
    match_tol : float
        A final state is at a listed point when their max-norm distance is at most this
        (state units, > 0).

    Returns
    -------
    SaddleConnections
        One row per followed saddle: the rows of ``fps`` its two branches end at (-1:
        none), the unstable multiplier and eigenvector, the final states, their distance
        to the nearest listed point and their speed; ``success`` when every branch ended
        at a listed point.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or ``fps`` not a
        :class:`~reservoir.analysis.FixedPoints`.
    ValueError
        If ``fps`` does not belong to ``net`` (number of units, or a followed point is not
        a fixed point of ``net`` at ``u``), carries no stability (computed with
        ``compute_eigenvalues=False``), ``u`` has the wrong shape or differs from
        ``fps.u``, or ``eps``, ``duration`` or ``match_tol`` is not a positive finite
        number.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if not isinstance(fps, FixedPoints):
        raise TypeError(f"fps must be a FixedPoints result, got {type(fps).__name__}")
    eps = as_positive_float(eps, "eps")
    match_tol = as_positive_float(match_tol, "match_tol")
    if duration is not None:
        duration = as_positive_float(duration, "duration")
    N = net.N
    X = np.asarray(fps.x, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != N:
        raise ValueError(f"fps must hold states of {N} units (net.N), got fps.x of shape "
                         f"{X.shape}")
    fps_u = np.asarray(fps.u, dtype=np.float64)
    if u is None:
        u = fps_u
    else:
        u = as_float_array(u, "u", 1, allow_empty=True)
        if u.shape != (net.n_inputs,):
            raise ValueError(f"u must have shape ({net.n_inputs},), got {u.shape}")
        if fps_u.shape != u.shape or not np.allclose(u, fps_u, rtol=1e-12, atol=1e-12):
            raise ValueError(f"u must equal fps.u (the input the fixed points were found "
                             f"at), got u = {u} and fps.u = {fps_u}")
    if u.shape != (net.n_inputs,):
        raise ValueError(f"fps.u must have shape ({net.n_inputs},) for this network, got "
                         f"{u.shape}")
    P = X.shape[0]
    n_unst = np.asarray(fps.n_unstable)
    if P and np.all(n_unst < 0) and np.asarray(fps.multipliers).shape[1] == 0:
        raise ValueError("fps carries no stability (found with compute_eigenvalues=False): "
                         "rerun find_fixed_points with compute_eigenvalues=True")
    rows = np.flatnonzero((n_unst == 1) & np.asarray(fps.is_fixed))
    S = rows.size
    messages = []
    fixed_rows = np.flatnonzero(np.asarray(fps.is_fixed))
    if fixed_rows.size:
        res = np.max(np.abs(_vector_field(net, X[fixed_rows], u)), axis=1)
        scale = 1.0 + np.max(np.abs(X[fixed_rows]), axis=1)
        bad = np.flatnonzero(res > 1e-6 * scale)
        if bad.size:
            raise ValueError(f"fps does not belong to net at u: fps row "
                             f"{int(fixed_rows[bad[0]])} has max|F| = {res[bad[0]]:.3g} "
                             "(a fixed point has ~0)")
    if S:
        marg = rows[np.asarray(fps.n_marginal)[rows] > 0]
        if marg.size:
            messages.append(f"{marg.size} followed saddle(s) (rows {_rows(marg)}) also have "
                            "a marginal multiplier: the ends seen in simulation are reported, "
                            "but the local picture near those saddles is undecided")
    mult = np.zeros(S)
    vecs = np.zeros((S, N))
    for i, p in enumerate(rows):
        m, e = _unstable_direction(_euler_map_jacobian(net, X[p]))
        if abs(m.imag) > 1e-8 * max(1.0, abs(m)) or abs(m) <= 1.0:
            raise ValueError(f"fps does not belong to net: fps row {int(p)} is listed with "
                             f"one unstable multiplier, but the largest multiplier of the "
                             f"Euler map of net there is {m:.6g}")
        mult[i], vecs[i] = m.real, e
        listed = np.asarray(fps.multipliers)
        if listed.ndim == 2 and listed.shape[1] and \
                abs(listed[p, 0] - m.real) > 1e-6 * (1.0 + abs(m)):
            messages.append(f"fps row {int(p)}: its listed leading multiplier "
                            f"{listed[p, 0]:.6g} differs from the recomputed {m.real:.6g}")
    neg = rows[mult < 0]
    if neg.size:
        messages.append(f"{neg.size} saddle(s) (rows {_rows(neg)}) have a negative unstable "
                        "multiplier: the orbit alternates between the two sides of the saddle "
                        "(the Euler map with alpha = dt/tau; a flow would not), so a branch "
                        "need not end on its own side")
    if duration is None:
        if S:
            rate = np.log(np.abs(mult)).min()          # growth per step of the slowest
            steps = 10.0 * np.log(max(1.0 / eps, np.e)) / rate + 100.0 / net.alpha
            n_steps = int(min(np.ceil(steps), _MAX_AUTO_STEPS))
            if steps > _MAX_AUTO_STEPS:
                messages.append(f"the automatic duration is capped at {_MAX_AUTO_STEPS} "
                                "steps (a saddle grows slowly, |m| close to 1): give "
                                "duration to follow it further")
        else:
            n_steps = 1
        duration = n_steps * net.dt
    else:
        n_steps = max(1, int(round(duration / net.dt)))
    x_end = np.full((S, 2, N), np.nan)
    diverged = np.zeros((S, 2), bool)
    if S:
        x0 = np.concatenate([X[rows] + eps * vecs, X[rows] - eps * vecs])
        out, div = _run(net, x0, u, n_steps)
        x_end[:, 0], x_end[:, 1] = out[:S], out[S:]
        diverged[:, 0], diverged[:, 1] = div[:S], div[S:]
    ends = np.full((S, 2), -1, dtype=int)
    dist = np.full((S, 2), np.inf)
    speed = np.full((S, 2), np.inf)
    fine = ~diverged
    if S:
        flat = x_end.reshape(2 * S, N)
        ok = fine.reshape(-1)
        sp = np.full(2 * S, np.inf)
        if ok.any():
            sp[ok] = np.max(np.abs(_vector_field(net, flat[ok], u)), axis=1)
        speed = sp.reshape(S, 2)
    stays, unlisted, moving, ambiguous = [], [], [], []
    for i, p in enumerate(rows):
        for side in (0, 1):
            if diverged[i, side]:
                continue
            d = np.max(np.abs(X - x_end[i, side][None, :]), axis=1)
            if d[p] <= match_tol:                    # never left (or came back): undecided
                stays.append(int(p))
                continue
            d[p] = np.inf
            k = int(np.argmin(d))
            dist[i, side] = d[k]
            if d[k] <= match_tol:
                ends[i, side] = k
                if np.sum(d <= match_tol) > 1:
                    ambiguous.append(int(p))
            elif speed[i, side] <= match_tol:
                unlisted.append(int(p))
            else:
                moving.append(int(p))
    if S == 0:
        messages.append("no fixed point with exactly one unstable multiplier (n_unstable == "
                        "1) to follow")
    if diverged.any():
        r = rows[diverged.any(axis=1)]
        messages.append(f"branches of {r.size} saddle(s) (rows {_rows(r)}) diverged "
                        "(non-finite state): ends -1")
    if stays:
        r = np.unique(stays)
        messages.append(f"branches of {r.size} saddle(s) (rows {_rows(r)}) did not leave the "
                        f"saddle within duration = {duration:g}: increase eps or duration")
    if unlisted:
        r = np.unique(unlisted)
        messages.append(f"branches of {r.size} saddle(s) (rows {_rows(r)}) came to rest "
                        f"(speed <= match_tol) farther than match_tol = {match_tol:g} from "
                        "every listed point: fps is missing a fixed point (or a slow point is "
                        "there, or match_tol is too small)")
    if moving:
        r = np.unique(moving)
        messages.append(f"branches of {r.size} saddle(s) (rows {_rows(r)}) had not come to "
                        f"rest after duration = {duration:g} and are at no listed point "
                        "(still moving, a limit cycle or chaos): increase duration to decide")
    if ambiguous:
        r = np.unique(ambiguous)
        messages.append(f"branches of {r.size} saddle(s) (rows {_rows(r)}) end within "
                        "match_tol of several listed points: the nearest is reported")
    success = bool(np.all(ends >= 0))
    return SaddleConnections(saddle_index=rows.astype(int), ends=ends, unstable_vector=vecs,
                             unstable_multiplier=mult, x_end=x_end, end_distance=dist,
                             end_residual=speed, duration=float(duration), eps=eps,
                             match_tol=match_tol, n_steps=int(n_steps), success=success,
                             messages=tuple(messages))


def _rows(rows, k=8):
    text = ", ".join(str(int(r)) for r in rows[:k])
    return text + (", ..." if len(rows) > k else "")
