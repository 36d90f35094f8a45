"""The slow-point search (Sussillo & Barak 2013): seeds from closed-loop trajectories,
minimisation of q(x) = |F(x)|^2 / 2, merging of duplicates; the estimate of the fixed points
the seeds missed (Chao 1984); and the detection of continua of fixed points through points
whose Jacobian is singular."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..network import Network
from .._simulate import simulate
from ..errors import SimulationDivergedError
from ._closed_loop import _ClosedLoop

KINDS = ("z-scan", "certificate", "newton", "slow-point")


def _seed_states(net: Network, u, n_seeds, rng, seed_scale, seed_noise, seed_duration):
    """States visited by closed-loop runs from random starts, and the number of runs that
    diverged (dropped: a loop that grows without bound from there has no seed to give)."""
    T = max(2, int(round(seed_duration / net.dt)))
    X0 = seed_scale * rng.standard_normal((n_seeds, net.N))
    keep = np.arange(n_seeds)
    tr = None
    while keep.size:
        U = np.broadcast_to(u, (keep.size, T, net.n_inputs))
        try:
            tr = simulate(net, U, X0[keep], mode="closed", record=("x",))
            break
        except SimulationDivergedError as err:     # rerun without it
            keep = np.delete(keep, err.trial)
    if not keep.size:
        return np.empty((0, net.N)), n_seeds
    t_idx = rng.integers(T // 2, T, size=keep.size)
    seeds = tr.x[np.arange(keep.size), t_idx]
    return seeds + seed_noise * rng.standard_normal(seeds.shape), n_seeds - keep.size


def _minimise_q(sys: _ClosedLoop, x, tol, max_iter):
    """Damped Newton on F, Levenberg-Marquardt on q where Newton stalls.
    Returns (x, |F|_inf, converged_to_fixed_point)."""
    x = np.array(x, dtype=np.float64, copy=True)
    F = sys.F(x)
    q = 0.5 * F @ F
    history = [q]
    mu = 1e-3
    for _ in range(max_iter):
        err = np.max(np.abs(F))
        if err < tol:
            return x, err, True
        A = sys.minus_jacobian(x, closed=True)  # -dF/dx
        step = None
        try:
            lu_piv = sys.lu(A.copy(order="F"))
            piv = np.abs(np.diag(lu_piv[0]))
            if not piv.min() > 1e4 * sys.N * np.finfo(np.float64).eps * np.abs(A).max():
                # singular within rounding (e.g. on a continuum of fixed points): LAPACK's
                # step is arbitrary along the null space, so take Levenberg-Marquardt's
                raise np.linalg.LinAlgError("singular Jacobian")
            cand = sla.lu_solve(lu_piv, F, check_finite=False)
            t = 1.0
            while t > 1e-3:
                xn = x + t * cand
                Fn = sys.F(xn)
                qn = 0.5 * Fn @ Fn
                if np.isfinite(qn) and qn < (1 - 1e-4 * t) * q:
                    step = (xn, Fn, qn)
                    break
                t *= 0.5
        except (np.linalg.LinAlgError, ValueError):
            pass
        if step is None:
            # Levenberg-Marquardt: (A^T A + mu I) dx = A^T F  (dF/dx = -A)
            AtA = A.T @ A
            AtF = A.T @ F
            diag = np.diag_indices(sys.N)
            while mu < 1e12:
                M = AtA.copy()
                M[diag] += mu * (1.0 + np.diag(AtA))
                try:
                    dx = sla.cho_solve(sla.cho_factor(M, check_finite=False), AtF,
                                       check_finite=False)
                except np.linalg.LinAlgError:
                    mu *= 10
                    continue
                xn = x + dx
                Fn = sys.F(xn)
                qn = 0.5 * Fn @ Fn
                if np.isfinite(qn) and qn < q:
                    step = (xn, Fn, qn)
                    mu = max(mu / 3, 1e-12)
                    break
                mu *= 4
            if step is None:
                break  # a local minimum of q: a slow point
        x, F, q = step
        history.append(q)
        # stalled: q fell by less than 0.1 % over the last 10 iterations (a slow point)
        if len(history) > 10 and history[-11] <= q * (1 + 1e-3):
            break
    err = np.max(np.abs(F))
    return x, err, err < tol


def _dedupe(xs, res, kinds, tol_unique, return_owner=False):
    """Indices of unique points; among duplicates keep the one found by the scan, then the
    one with the smallest residual. With ``return_owner``, also each point's owner: the
    position, in the returned (sorted) index list, of the kept point it duplicates."""
    priority = np.array([KINDS.index(k) for k in kinds])
    order = np.lexsort((res, priority))
    keep = []
    owner_of = np.empty(len(xs), dtype=int)
    for i in order:
        for j in keep:
            if np.max(np.abs(xs[i] - xs[j])) <= max(tol_unique[i], tol_unique[j]):
                owner_of[i] = j
                break
        else:
            keep.append(i)
            owner_of[i] = i
    keep = sorted(keep)
    if not return_owner:
        return keep
    position = {k: n for n, k in enumerate(keep)}
    return keep, np.array([position[o] for o in owner_of], dtype=int)


def _chao1(hits):
    """Chao's (1984) lower-bound estimate of the number of classes not yet seen, from the
    numbers of times each seen class was hit: ``f1^2 / (2 f2)``, or the bias-corrected
    ``f1 (f1 - 1) / 2`` when ``f2 = 0`` (``f1``, ``f2``: classes hit exactly once, twice).
    NaN when nothing was hit."""
    hits = np.asarray(hits, dtype=int)
    hits = hits[hits > 0]
    if hits.size == 0:
        return float("nan")
    f1, f2 = int(np.sum(hits == 1)), int(np.sum(hits == 2))
    return f1 * f1 / (2.0 * f2) if f2 > 0 else f1 * (f1 - 1) / 2.0


#: Relative step sizes (times ``max(|x|_2, 1)``) tried along a near-null direction.
_CONTINUUM_STEPS = (0.1, 0.03, 0.01, 0.3)


def _null_basis(sys: _ClosedLoop, x, n_null):
    """Orthonormal basis (N, n_null) of the ``n_null`` most singular right directions of
    ``I - W_eff D`` at ``x`` (the near-null space of the Jacobian of ``F``)."""
    A = sys.minus_jacobian(x, closed=True)
    _, _, vt = sla.svd(A, check_finite=False)
    return vt[sys.N - n_null:].T.copy()


def _converge_on_slice(sys: _ClosedLoop, y0, W, tol, max_iter=30):
    """Gauss-Newton on the overdetermined system ``F(y) = 0, W^T (y - y0) = 0`` (N + d
    equations, N unknowns): a fixed point on the affine slice through ``y0`` orthogonal to
    the span of ``W``. Where a continuum of dimension d crosses the slice transversally the
    Jacobian ``[-(I - W_eff D); W^T]`` has full column rank and the iteration converges
    quadratically. Returns ``(y, converged)``."""
    y = np.array(y0, dtype=np.float64, copy=True)
    for _ in range(max_iter):
        F = sys.F(y)
        if not np.all(np.isfinite(F)):
            return y, False
        g = W.T @ (y - y0)
        if np.max(np.abs(F)) < tol and np.max(np.abs(g)) < tol:
            return y, True
        M = np.vstack([-sys.minus_jacobian(y, closed=True), W.T])
        dy = sla.lstsq(M, -np.concatenate([F, g]), check_finite=False,
                       lapack_driver="gelsd")[0]
        r0 = np.sqrt(F @ F + g @ g)
        t = 1.0
        while t > 1e-4:
            yn = y + t * dy
            Fn, gn = sys.F(yn), W.T @ (yn - y0)
            if np.all(np.isfinite(Fn)) and np.sqrt(Fn @ Fn + gn @ gn) < (1 - 0.25 * t) * r0:
                break
            t *= 0.5
        else:
            return y, False
        y = yn
    F = sys.F(y)
    return y, bool(np.max(np.abs(F)) < tol and np.max(np.abs(W.T @ (y - y0))) < tol)


def _continuum_directions(sys: _ClosedLoop, x, W, tol, tol_unique):
    """How many of the near-null directions (columns of ``W``) a continuum of fixed points
    through ``x`` was found along: for each direction ``w``, steps ``x + s w`` (a few
    moderate ``s`` of either sign) are re-converged on the slice ``W^T (y - x - s w) = 0``;
    the direction counts when some step reaches a fixed point ``y`` distinct from ``x``
    (``max|y - x| > tol_unique``) that differs from ``x`` mostly along ``w`` (the part of
    ``y - x`` off ``w`` no larger than the part along it, ``|s|``)."""
    scale = max(float(np.linalg.norm(x)), 1.0)
    found = 0
    for j in range(W.shape[1]):
        w = W[:, j]
        ok = False
        for rel in _CONTINUUM_STEPS:
            for sign in (1.0, -1.0):
                s = sign * rel * scale
                y, conv = _converge_on_slice(sys, x + s * w, W, tol)
                if not conv:
                    continue
                d = y - x
                off = np.linalg.norm(d - (w @ d) * w)
                if np.max(np.abs(d)) > tol_unique and off <= abs(s):
                    ok = True
                    break
            if ok:
                break
        found += ok
    return found
