r"""A proved ball of attraction around a stable fixed point of the simulated closed loop.

The closed loop as simulated is the Euler map (``alpha = dt / tau``)

    G(x) = (1 - alpha) x + alpha (W_eff phi(x) + c),     W_eff = J + W_fb W_out,

with ``c`` the constant drive (input, bias and fed-back intercept). At a fixed point ``x*``
its Jacobian is ``A = (1 - alpha) I + alpha W_eff D*`` with ``D* = diag(phi'(x*))``.

The norm
--------
If ``||A^k||_2 < 1`` for some ``k``, the truncated Stein sum ``P = sum_{j<k} (A^j)^T A^j``
(symmetric, ``P >= I``) satisfies ``A^T P A = P - I + (A^k)^T A^k < P``, so ``A`` contracts
the norm ``s(e) = sqrt(e^T P e)`` by a factor ``q < 1``. ``P`` is built by doubling
(``P_{2k} = P_k + (A^k)^T P_k A^k``, three matrix products per doubling) until
``||A^k||_F <= 1/2``. Nothing about ``P`` is trusted: ``q`` is then *proved* by a Cholesky
factorisation of ``q^2 P - A^T P A - delta I`` (it succeeds only for a positive definite
matrix), with ``delta`` an a-priori bound of the rounding errors of the products
(Higham's ``gamma_n``); likewise ``lambda_min(P) >= l`` and ``lambda_max(P) <= m`` and
``||W_eff||_2 <= w`` are proved by Cholesky factorisations of shifted matrices.

The ball
--------
With ``s2 = sup |phi''|`` (tanh ``4 / (3 sqrt 3)``, sigmoid ``sqrt 3 / 18``), ``DG(x) - A =
alpha W_eff (D(x) - D*)`` and ``|phi'(x_i) - phi'(x*_i)| <= s2 |x_i - x*_i|``, so on the ball
``B_r = {x : s(x - x*) <= r}`` (where ``||x - x*||_inf <= ||x - x*||_2 <= r / sqrt(l)``)

    s(DG(x) v) <= (q + kappa r) s(v),        kappa = alpha w s2 sqrt(m) / l.

With ``r = (1 - q) / (2 kappa)`` the map is a contraction of ``B_r`` with constant
``L = (1 + q) / 2``; it maps ``B_r`` into itself when ``s(G(x*) - x*) <= (1 - q) r / 2``
(checked: the computed ``x*`` is a root only to rounding). By Banach's theorem every
trajectory that enters ``B_r`` stays in it and converges to the fixed point in it, at least
as fast as ``L^n``. For ReLU, ``D(x) = D*`` as long as no unit crosses zero, which holds on
``B_r`` with ``r = sqrt(l) min_i |x*_i|`` (less a relative 1e-9): there ``DG = A`` and
``L = q``. A ReLU point with a unit exactly at zero has no ball.

Everything is exact arithmetic on the computed matrices plus the stated rounding margins;
when any step cannot be proved, there is no ball (``None``), never a guessed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ..network import Network
from ..nonlinearities import get_nonlinearity

_EPS = np.finfo(np.float64).eps

#: sup |phi''| (certify.py derives the same numbers; ReLU handled separately)
_SUP2 = {"tanh": 4.0 / (3.0 * math.sqrt(3.0)), "sigmoid": math.sqrt(3.0) / 18.0}

#: Most doublings of the Stein sum (k up to 2**_MAX_DOUBLINGS steps of the map).
_MAX_DOUBLINGS = 12


@dataclass(frozen=True)
class ContractionBall:
    """A proved ball of attraction ``{x : (x - x*)^T P (x - x*) <= radius^2}``.

    Attributes
    ----------
    x : ndarray, shape (N,)
        The fixed point ``x*`` (state units).
    P : ndarray, shape (N, N)
        The symmetric positive definite matrix of the norm.
    radius : float
        Radius in that norm (state units).
    rate : float
        Proved contraction constant ``L < 1`` of the Euler map on the ball (per step).
    lam_min, lam_max : float
        Proved bounds ``lam_min <= lambda_min(P)`` and ``lambda_max(P) <= lam_max``.
    """

    x: np.ndarray
    P: np.ndarray
    radius: float
    rate: float
    lam_min: float
    lam_max: float

    def contains(self, X: np.ndarray) -> np.ndarray:
        """Whether each row of ``X`` (B, N) is inside the ball (with a relative margin of
        1e-6 on the radius for the rounding of the quadratic form).

        The eigenvalue bounds sort most rows with ``O(N)`` work each: with ``d2 = |x -
        x*|^2``, ``lam_min d2 > radius^2`` is outside and ``lam_max d2 (1 + 1e-6) <= (0.999999
        radius)^2`` inside; only the rows in between get the quadratic form (an ``N x N``
        product each).
        """
        E = X - self.x
        d2 = np.einsum("ij,ij->i", E, E)
        r2 = (self.radius * (1.0 - 1e-6)) ** 2
        with np.errstate(invalid="ignore", over="ignore"):
            inside = np.isfinite(d2) & (self.lam_max * d2 * (1.0 + 1e-6) <= r2)
            unsure = np.flatnonzero(np.isfinite(d2) & ~inside
                                    & (self.lam_min * d2 * (1.0 - 1e-6) <= r2))
            if unsure.size:
                Eu = E[unsure]
                s2 = np.einsum("ij,ij->i", Eu @ self.P, Eu)
                inside[unsure] = np.isfinite(s2) & (s2 <= r2)
        return inside


def _chol_ok(M: np.ndarray) -> bool:
    """Whether the symmetric matrix ``M`` is (numerically) positive definite: its
    Cholesky factorisation succeeds."""
    try:
        sla.cholesky(M, lower=False, check_finite=False, overwrite_a=True)
        return True
    except (sla.LinAlgError, ValueError):
        return False


def _power_sym(S: np.ndarray, iters: int = 30) -> float:
    """An estimate (from below) of the largest eigenvalue of a symmetric PSD ``S``."""
    v = np.ones(S.shape[0]) + 0.01 * np.arange(S.shape[0]) / max(S.shape[0], 1)
    lam = 0.0
    for _ in range(iters):
        w = S @ v
        nw = float(np.linalg.norm(w))
        if nw == 0.0 or not np.isfinite(nw):
            return nw
        lam = nw / float(np.linalg.norm(v))
        v = w / nw
    return lam


def _norm2_estimate(A: np.ndarray, iters: int = 12) -> float:
    """An estimate of ``||A||_2`` by power iteration on ``A^T A`` (a stopping rule only:
    nothing relies on it being a bound)."""
    v = np.ones(A.shape[0], dtype=A.dtype)
    est = 0.0
    for _ in range(iters):
        w = A @ v
        nw = float(np.linalg.norm(w))
        nv = float(np.linalg.norm(v))
        if not (nw > 0.0 and np.isfinite(nw)):
            return nw
        est = nw / nv
        v = A.T @ w
        nv2 = float(np.linalg.norm(v))
        if not (nv2 > 0.0 and np.isfinite(nv2)):
            return est
        v = v / nv2
    return est


def _lambda_min_estimate(U: np.ndarray, iters: int = 20) -> float:
    """An estimate of the smallest eigenvalue of ``P = U^T U`` (inverse iteration with the
    Cholesky factor ``U``)."""
    v = np.ones(U.shape[0]) + 0.01 * np.arange(U.shape[0]) / max(U.shape[0], 1)
    v /= np.linalg.norm(v)
    mu = np.inf
    for _ in range(iters):
        w = sla.solve_triangular(U, sla.solve_triangular(U, v, trans="T",
                                                         check_finite=False),
                                 check_finite=False)
        nw = float(np.linalg.norm(w))
        if not (nw > 0.0 and np.isfinite(nw)):
            return 0.0
        mu = 1.0 / nw
        v = w / nw
    return mu


def _lambda_max_upper(S: np.ndarray, margin: float) -> float | None:
    """A proved upper bound of ``lambda_max`` of the symmetric ``S`` (``None`` if the
    verification failed); ``margin`` bounds the rounding of ``S`` itself."""
    N = S.shape[0]
    est = _power_sym(S)
    for factor in (1.02, 1.2, 2.0):
        mu = est * factor + margin + 4 * (N + 2) * _EPS * est
        M = -S
        M[np.diag_indices(N)] += mu - margin
        if _chol_ok(M):
            return mu
    return None


def effective_weights(net: Network) -> tuple[np.ndarray, float | None]:
    """``W_eff = J + W_fb W_out`` (dense, (N, N)) and a proved upper bound of
    ``||W_eff||_2^2`` (``None`` if the check failed), shared by the balls of one network."""
    W = np.asarray(net.dense_J(), dtype=np.float64) + net.W_fb @ net.W_out
    gamma = 8.0 * (net.N + 4) * _EPS
    return W, _lambda_max_upper(W.T @ W, gamma * float(np.linalg.norm(W)) ** 2)


def contraction_ball(net: Network, x_star: np.ndarray, c: np.ndarray,
                     weights: tuple[np.ndarray, float | None] | None = None
                     ) -> ContractionBall | None:
    """A proved ball of attraction of the Euler map around the fixed point ``x_star``.

    Parameters
    ----------
    net : Network
        The network (closed loop).
    x_star : ndarray, shape (N,)
        A fixed point of the closed loop (state units), as computed.
    c : ndarray, shape (N,)
        The closed loop's constant drive ``W_in u + b + W_fb b_out`` (state units).
    weights : tuple, optional
        :func:`effective_weights` of ``net`` (computed here if not given).

    Returns
    -------
    ContractionBall or None
        ``None`` when no ball could be proved (the point is not stable for the map, its
        linear contraction is too weak for the doubling limit, or a bound failed).
    """
    N = net.N
    alpha = net.dt / net.tau
    nl = get_nonlinearity(net.phi)
    x_star = np.asarray(x_star, dtype=np.float64)
    W, w = effective_weights(net) if weights is None else weights
    d = nl.dphi(x_star)
    A = alpha * (W * d[None, :])
    A[np.diag_indices(N)] += 1.0 - alpha
    # the Stein sum by doubling, in single precision: P need not be accurate (any
    # symmetric positive definite matrix defines a norm); q and the bounds are proved below
    # in double precision on the P actually used
    P32 = np.eye(N, dtype=np.float32)
    Ak = A.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(_MAX_DOUBLINGS + 1):
            nrm = _norm2_estimate(Ak)
            if not nrm <= 1e30:           # growing (unstable) or non-finite
                return None
            if nrm <= 0.5:
                break
            P32 += Ak.T @ (P32 @ Ak)
            P32 = 0.5 * (P32 + P32.T)
            Ak = Ak @ Ak
        else:
            return None
    P = P32.astype(np.float64)
    if not np.all(np.isfinite(P)):
        return None
    normP = float(np.linalg.norm(P))
    normA = float(np.linalg.norm(A))
    gamma = 8.0 * (N + 4) * _EPS
    # proved bounds l <= lambda_min(P), lambda_max(P) <= m, from estimates
    try:
        U = sla.cholesky(P, lower=False, check_finite=False)
    except (sla.LinAlgError, ValueError):
        return None
    lo = _lambda_min_estimate(U)
    hi = _power_sym(P)
    l = None
    for factor in (0.98, 0.8, 0.5):
        cand = factor * lo
        M = P.copy()
        M[np.diag_indices(N)] -= cand + gamma * normP
        if cand > 0.0 and _chol_ok(M):
            l = cand
            break
    if l is None:
        return None
    m = None
    for factor in (1.02, 1.2, 2.0):
        cand = factor * hi + gamma * normP
        M = -P
        M[np.diag_indices(N)] += cand - gamma * normP
        if _chol_ok(M):
            m = cand
            break
    if m is None:
        return None
    # q^2 P - A^T P A >= delta I, delta bounding the rounding of S = A^T P A and of A
    S = A.T @ (P @ A)
    delta = gamma * (normA + 1.0) ** 2 * normP
    q2 = None
    for slack in (1.0, 0.5, 0.1):
        # exact arithmetic gives q^2 = 1 - (1 - ||A^k||^2) / lambda_max(P)
        cand = 1.0 - slack * 0.75 / m
        M = cand * P - S
        M[np.diag_indices(N)] -= delta
        if _chol_ok(M):
            q2 = cand
            break
    if q2 is None or not q2 < 1.0:
        return None
    q = math.sqrt(q2)
    # the root's own residual in the P-norm: s(G(x*) - x*) <= sqrt(m) ||.||_2 (+ rounding)
    r_star = nl.phi(x_star)
    g = (1.0 - alpha) * x_star + alpha * (W @ r_star + c)
    res = float(np.linalg.norm(g - x_star))
    res += gamma * (float(np.linalg.norm(x_star)) + alpha * float(np.linalg.norm(W))
                    * float(np.linalg.norm(r_star)) + alpha * float(np.linalg.norm(c)))
    d0 = math.sqrt(m) * res
    if net.phi == "relu":
        gap = float(np.min(np.abs(x_star))) if N else 0.0
        if gap <= 0.0:
            return None
        radius = math.sqrt(l) * gap * (1.0 - 1e-9)
        rate = q
        if d0 > (1.0 - q) * radius:
            return None
    else:
        if w is None:
            return None
        kappa = alpha * math.sqrt(w) * _SUP2[net.phi] * math.sqrt(m) / l
        radius = (1.0 - q) / (2.0 * kappa)
        rate = 0.5 * (1.0 + q)
        if d0 > 0.5 * (1.0 - q) * radius:
            return None
    if not (np.isfinite(radius) and radius > 0.0):
        return None
    return ContractionBall(x=x_star.copy(), P=P, radius=float(radius), rate=float(rate),
                           lam_min=float(l), lam_max=float(m))
