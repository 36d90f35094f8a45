"""The slow-point search (Sussillo & Barak 2013): seeds from closed-loop trajectories,
minimisation of q(x) = |F(x)|^2 / 2, and merging of duplicates."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..network import Network
from .._simulate import simulate
from ._closed_loop import _ClosedLoop

KINDS = ("z-scan", "newton", "slow-point")


def _seed_states(net: Network, u, n_seeds, rng, seed_scale, seed_noise, seed_duration):
    T = max(2, int(round(seed_duration / net.dt)))
    X0 = seed_scale * rng.standard_normal((n_seeds, net.N))
    U = np.broadcast_to(u, (n_seeds, T, net.n_inputs))
    tr = simulate(net, U, X0, mode="closed", record=("x",))
    t_idx = rng.integers(T // 2, T, size=n_seeds)
    seeds = tr.x[np.arange(n_seeds), t_idx]
    return seeds + seed_noise * rng.standard_normal(seeds.shape)


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
            cand = sla.lu_solve(sys.lu(A.copy(order="F")), F, check_finite=False)
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


def _dedupe(xs, res, kinds, tol_unique):
    """Indices of unique points; among duplicates keep the one found by the scan, then the
    one with the smallest residual."""
    priority = np.array([KINDS.index(k) for k in kinds])
    order = np.lexsort((res, priority))
    keep = []
    for i in order:
        if all(np.max(np.abs(xs[i] - xs[j])) > max(tol_unique[i], tol_unique[j])
               for j in keep):
            keep.append(i)
    return sorted(keep)
