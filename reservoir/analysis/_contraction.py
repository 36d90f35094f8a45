r"""A proved set of attraction around a stable fixed point of the simulated closed loop.

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
``||A^k||_2 <= 0.7`` (estimated). Nothing about ``P`` is trusted: ``q`` is then *proved* by
a Cholesky factorisation of ``q^2 P - A^T P A - delta I`` (it succeeds only for a positive
definite matrix), ``q^2`` just above a Lanczos estimate of the largest eigenvalue of the
pencil ``(A^T P A, P)``, with ``delta`` an a-priori bound of the rounding errors of the
products (Higham's ``gamma_n``); likewise ``lambda_min(P) >= l`` and ``lambda_max(P) <= m``
and ``||W_eff||_2^2 <= w`` are proved by Cholesky factorisations of shifted matrices.

The set
-------
On the cube ``||y - x*||_inf <= a`` each ``|phi'(y_j) - phi'(x*_j)| <= t_j |y_j - x*_j|`` with
``t_j = sup |phi''|`` on ``[x*_j - a, x*_j + a]`` (at most ``s2 = sup |phi''|``: tanh
``4 / (3 sqrt 3)``, sigmoid ``sqrt 3 / 18``), and ``DG(y) - A = alpha W_eff (D(y) - D*)``, so

    s(DG(y) v) <= (q + beta ||y - x*||_inf) s(v),    beta = alpha sqrt(m / l) ||W_eff T||_2,

``T = diag(t_j)``. Write ``e = x - x*``, ``a = ||e||_inf``, ``b = s(e)``, and ``d0 >= s(G(x*)
- x*)``, ``r0 >= ||G(x*) - x*||_inf`` for the computed root's residual. Integrating ``DG``
along the segment from ``x*`` to ``x`` (on which the entries grow linearly) and bounding
each entry of ``W_eff (phi(x) - phi(x*))`` by ``||(W_eff)_i. S||_2 ||e||_2``, ``S =
diag(sup phi' on the same intervals)``, give for one step on the cube

    b' <= (q + beta a / 2) b + d0,       a' <= (1 - alpha) a + alpha c1 b + r0,

with ``c1 = max_i ||(W_eff)_i. S||_2 / sqrt(l)`` (also ``a' <= b' / sqrt(l)``). So the set
``K = {x : s(e) <= radius, ||e||_inf <= inf_radius}`` with ``beta inf_radius = 2 theta (1 -
q)`` and ``radius`` the larger of ``(inf_radius - r0 / alpha) / c1`` and ``sqrt(l)
inf_radius`` is mapped into itself as long as ``d0 <= (1 - rate) radius``, where ``rate = q
+ theta (1 - q)`` (``theta = 0.95``): on ``K`` the distance bound ``b`` shrinks by ``rate``
per step (plus ``d0``). ``inf_radius`` is first the one of ``T = s2 I`` (``||W_eff||_2``
proved once per network), then widened by bisection while ``beta`` of the wider cube's own
``T`` (a Lanczos estimate of ``lambda_max(T W^T W T)``, proved at the end by a Cholesky
factorisation) still allows it. On the smaller set ``K_s`` with ``inf_radius_s = (1 - q) /
(2 beta)`` the map is a contraction (Lipschitz ``(1 + q) / 2`` in ``s``), and every
trajectory of ``K`` enters ``K_s`` (checked: ``d0 <= (1 - rate) radius_s / 2``; the
computed ``x*`` is a root only to rounding). By Banach's theorem every trajectory that
enters ``K`` stays in it and converges to the one fixed point in ``K_s``. For ReLU, ``D(y)
= D*`` as long as no unit crosses zero, which holds on ``||e||_inf < min_i |x*_i|``: there
the map is affine with linear part ``A`` (and ``S`` keeps the positive units only), so
``K`` with ``inf_radius = min_i |x*_i|`` (less a relative 1e-9) is contracted with ``rate =
q``. A ReLU point with a unit exactly at zero has no set.

The set is called a ball below (it is the ball of ``s`` cut by a cube). At N = 1000 (a
trained bistable network, issue 16) its radius is 27x that of the plain ball ``s(e) <= (1
- q) / (2 kappa)`` used before (``kappa = alpha sqrt(w) s2 sqrt(m) / l``, from ``a <= b /
sqrt(l)``, ``T = s2 I`` and a Lipschitz bound without the integration), and trials enter it
35-40 steps earlier (of about 110).

Everything is exact arithmetic on the computed matrices plus the stated rounding margins;
when any step cannot be proved, there is no ball (``None``), never a guessed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from ..network import Network
from ..nonlinearities import get_nonlinearity

_EPS = np.finfo(np.float64).eps

#: sup |phi''| (certify.py derives the same numbers; ReLU handled separately)
_SUP2 = {"tanh": 4.0 / (3.0 * math.sqrt(3.0)), "sigmoid": math.sqrt(3.0) / 18.0}

#: where |phi''| peaks (tanh atanh(1/sqrt 3), sigmoid ln(2 + sqrt 3))
_PEAK2 = {"tanh": math.atanh(1.0 / math.sqrt(3.0)), "sigmoid": math.log(2.0 + math.sqrt(3.0))}

#: sup phi' (the Lipschitz constant of phi)
_SUP1 = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}

#: Fraction of the linear margin ``1 - q`` given to the nonlinearity on the large set: the
#: distance bound there decays by ``q + _THETA (1 - q)`` per step.
_THETA = 0.95

#: The Stein sum stops at ``||A^k||_2 <= _STEIN_STOP`` (estimated). Any such ``P`` gives a
#: proof (``q`` is proved on it); a short sum keeps ``P`` well conditioned, which the
#: radius gains more from than from a smaller ``q``: at N = 1000 (trained, bistable) 0.7
#: gave radius 0.90 in 0.38 s, 0.5 gave 0.84 in 0.45 s, 0.25 gave 0.75 in 0.50 s.
_STEIN_STOP = 0.7

#: Most doublings of the Stein sum (k up to 2**_MAX_DOUBLINGS steps of the map).
_MAX_DOUBLINGS = 12


@dataclass(frozen=True)
class ContractionBall:
    """A proved set of attraction ``{x : (x - x*)^T P (x - x*) <= radius^2,
    max_i |x_i - x*_i| <= inf_radius}`` (module docstring: every trajectory that enters it
    stays in it and converges to the fixed point in it).

    Attributes
    ----------
    x : ndarray, shape (N,)
        The fixed point ``x*`` (state units).
    P : ndarray, shape (N, N)
        The symmetric positive definite matrix of the norm.
    radius : float
        Radius in that norm (state units).
    rate : float
        Proved factor ``< 1`` by which the distance bound ``s(x - x*)`` shrinks per step of
        the Euler map on the set, up to the root's residual ``d0``:
        ``s(G(x) - x*) <= rate s(x - x*) + d0``.
    lam_min, lam_max : float
        Proved bounds ``lam_min <= lambda_min(P)`` and ``lambda_max(P) <= lam_max``.
    inf_radius : float
        Bound of ``max_i |x_i - x*_i|`` on the set (state units).
    linear_rate : float
        Proved contraction factor ``q`` of the Jacobian at ``x*`` in the norm:
        ``A^T P A <= q^2 P``.
    residual : float
        Proved bound ``d0`` of ``s(G(x*) - x*)`` (the computed point is a root only to
        rounding).
    """

    x: np.ndarray
    P: np.ndarray
    radius: float
    rate: float
    lam_min: float
    lam_max: float
    inf_radius: float = math.inf
    linear_rate: float = math.nan
    residual: float = 0.0

    def contains(self, X: np.ndarray) -> np.ndarray:
        """Whether each row of ``X`` (B, N) is inside the set (with a relative margin of
        1e-6 on both radii for the rounding of ``x - x*`` and of the quadratic form).

        The eigenvalue bounds sort most rows with ``O(N)`` work each: with ``d2 = |x -
        x*|^2``, ``lam_min d2 > radius^2`` is outside and ``lam_max d2 (1 + 1e-6) <= (0.999999
        radius)^2`` inside; only the rows in between get the quadratic form (an ``N x N``
        product each).
        """
        E = X - self.x
        d2 = np.einsum("ij,ij->i", E, E)
        r2 = (self.radius * (1.0 - 1e-6)) ** 2
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isfinite(d2)
            if np.isfinite(self.inf_radius):
                ok &= np.max(np.abs(E), axis=1, initial=0.0) <= self.inf_radius * (1.0 - 1e-6)
            inside = ok & (self.lam_max * d2 * (1.0 + 1e-6) <= r2)
            unsure = np.flatnonzero(ok & ~inside & (self.lam_min * d2 * (1.0 - 1e-6) <= r2))
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


def _top_eig(matvec, N: int, fallback) -> float:
    """An estimate of the largest eigenvalue of the symmetric operator ``matvec`` (Lanczos,
    ARPACK via ``scipy.sparse.linalg.eigsh``; ``fallback()`` if it does not converge). A
    starting point for a proof only: nothing relies on its accuracy."""
    if N <= 2:
        return fallback()
    op = spla.LinearOperator((N, N), matvec=matvec, dtype=np.float64)
    try:
        val = spla.eigsh(op, k=1, which="LA", v0=np.ones(N), tol=1e-6, maxiter=20 * N,
                         return_eigenvectors=False)[0]
    except (spla.ArpackNoConvergence, spla.ArpackError, ValueError):
        return fallback()
    return float(val) if np.isfinite(val) else fallback()


def _gen_eig_estimate(S: np.ndarray, U: np.ndarray) -> float:
    """An estimate of the largest eigenvalue of the pencil ``(S, P)``, ``P = U^T U``
    (of ``U^-T S U^-1``; a starting point for a proof only)."""
    def mv(v):
        y = sla.solve_triangular(U, v, check_finite=False)
        return sla.solve_triangular(U, S @ y, trans="T", check_finite=False)

    def power(iters=40):
        v = np.ones(U.shape[0]) / math.sqrt(U.shape[0])
        lam = 0.0
        for _ in range(iters):
            w = mv(v)
            lam = float(np.linalg.norm(w))
            if not (lam > 0.0 and np.isfinite(lam)):
                return lam
            v = w / lam
        return lam
    return _top_eig(mv, U.shape[0], power)


def _radius_for(inf_r: float, c1: float, l: float, res_inf: float, alpha: float) -> float:
    """The largest radius ``B`` (norm ``s``) for which ``||e||_inf <= inf_r`` is kept by
    the map on ``{s(e) <= B, ||e||_inf <= inf_r}``: either ``c1 B + res_inf / alpha <=
    inf_r`` (the bound of the next step's largest entry) or ``B / sqrt(l) <= inf_r`` (the
    entry bound follows from the norm alone)."""
    by_rows = (inf_r - res_inf / alpha) / c1 if c1 > 0.0 else math.inf
    return max(by_rows, inf_r * math.sqrt(l))


def effective_weights(net: Network) -> tuple[np.ndarray, float | None, np.ndarray]:
    """``W_eff = J + W_fb W_out`` (dense, (N, N)), a proved upper bound of
    ``||W_eff||_2^2`` (``None`` if the check failed) and the Gram matrix ``W_eff^T W_eff``
    (N, N), shared by the balls of one network."""
    W = np.asarray(net.dense_J(), dtype=np.float64) + net.W_fb @ net.W_out
    gamma = 8.0 * (net.N + 4) * _EPS
    G = W.T @ W
    return W, _lambda_max_upper(G, gamma * float(np.linalg.norm(W)) ** 2), G


#: Absolute margin of :func:`interval_sups` (values that underflow in float64).
_TINY = 1e-300


def _stable_derivatives(phi: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``phi'(z)`` and ``|phi''(z)|`` without cancellation in the tails (``1 - tanh^2``
    and ``s (1 - s)`` lose every digit there): tanh ``4 e / (1 + e)^2`` with ``e =
    exp(-2 |z|)`` and ``2 tanh|z| phi'``; sigmoid ``e / (1 + e)^2`` with ``e = exp(-|z|)``
    and ``tanh(|z| / 2) phi'``."""
    a = np.abs(z)
    if phi == "tanh":
        e = np.exp(-2.0 * a)
        d1 = 4.0 * e / (1.0 + e) ** 2
        return d1, 2.0 * np.tanh(a) * d1
    e = np.exp(-a)
    d1 = e / (1.0 + e) ** 2
    return d1, np.tanh(0.5 * a) * d1


def interval_sups(phi: str, x: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """``sup phi'`` and ``sup |phi''|`` over each interval ``[x_i - width, x_i + width]``.

    ``phi'`` (tanh, sigmoid) is even and decreasing in ``|z|``; ``|phi''|`` is even, zero at
    0, increasing up to its peak at ``|z| = z0`` (tanh ``atanh(1/sqrt 3)``, sigmoid
    ``ln(2 + sqrt 3)``) and decreasing after. So the sup of ``phi'`` is at the point of the
    interval nearest 0, that of ``|phi''|`` at an end or at ``+-z0`` when inside. Both are
    computed without cancellation in the tails (:func:`_stable_derivatives`) and raised by
    a relative 1e-9 for the rounding of ``tanh`` / ``exp`` and by 1e-300 for underflow.
    For ReLU (on intervals where no unit crosses zero) ``phi'`` is 1 on positive units, 0
    on negative ones, and ``phi'' = 0``.

    Returns
    -------
    sup1, sup2 : ndarray, shape (N,)
    """
    x = np.asarray(x, dtype=np.float64)
    if phi == "relu":
        return (x > 0).astype(np.float64), np.zeros_like(x)
    lo, hi = x - width, x + width
    nearest = np.where((lo <= 0.0) & (hi >= 0.0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    d1, _ = _stable_derivatives(phi, nearest)
    sup1 = d1 * (1.0 + 1e-9) + _TINY
    z0 = _PEAK2[phi]
    ends = np.maximum(_stable_derivatives(phi, lo)[1], _stable_derivatives(phi, hi)[1])
    peak = ((lo <= z0) & (hi >= z0)) | ((lo <= -z0) & (hi >= -z0))
    sup2 = np.where(peak, _SUP2[phi], ends) * (1.0 + 1e-9) + _TINY
    return sup1, np.minimum(sup2, _SUP2[phi] * (1.0 + 1e-9))


def _widest_cube(phi, x_star, G, scale, target, width0, normW2, gamma):
    """The widest half-width ``a`` (from ``width0`` up) with ``scale ||W T(a)||_2 a <=
    target``, ``T(a) = diag(sup |phi''|)`` on ``[x*_j - a, x*_j + a]``, and that ``beta =
    scale ||W T(a)||_2`` (proved), or ``None``. Bisection on Lanczos estimates of
    ``||W T||_2^2 = lambda_max(T G T)`` (``G = W^T W``), then one proof by Cholesky."""
    N = G.shape[0]

    def gram(a):
        _, sup2 = interval_sups(phi, x_star, a)
        return sup2[:, None] * G * sup2[None, :], float(np.max(sup2, initial=0.0))

    def est(a):
        S, _ = gram(a)
        return _top_eig(lambda v: S @ v, N, lambda: _power_sym(S))

    def allowed(a, lam):
        return lam > 0.0 and scale * math.sqrt(lam) * a <= target

    lo, hi = width0, target / (scale * math.sqrt(max(est(width0), 1e-300)))
    if not hi > lo:
        return None
    for _ in range(5):          # keep lo allowed (by the estimate)
        mid = math.sqrt(lo * hi)
        if allowed(mid, est(mid) * 1.001):
            lo = mid
        else:
            hi = mid
    if lo <= width0:
        return None
    S, t_max = gram(lo)
    # the rounding of G (gamma ||W||_F^2) scaled by T on both sides
    lam = _lambda_max_upper(S, gamma * normW2 * t_max * t_max)
    if lam is None:
        return None
    beta = scale * math.sqrt(lam)
    # the proof's bound may be a little above the estimate: the cube shrinks to fit (T of
    # a narrower cube is smaller, so the proved bound still holds there)
    return min(lo, target / beta), beta


def contraction_ball(net: Network, x_star: np.ndarray, c: np.ndarray,
                     weights: tuple[np.ndarray, float | None, np.ndarray] | None = None
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
    W, w, G = effective_weights(net) if weights is None else weights
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
            if nrm <= _STEIN_STOP:
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
    lo = 1.0 / _top_eig(lambda v: sla.cho_solve((U, False), v, check_finite=False), N,
                        lambda: 1.0 / _lambda_min_estimate(U))
    hi = _top_eig(lambda v: P @ v, N, lambda: _power_sym(P))
    l = None
    for factor in (0.999, 0.99, 0.9, 0.7, 0.4):
        cand = factor * lo
        M = P.copy()
        M[np.diag_indices(N)] -= cand + gamma * normP
        if cand > 0.0 and _chol_ok(M):
            l = cand
            break
    if l is None:
        return None
    m = None
    for factor in (1.001, 1.02, 1.2, 2.0):
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
    est = _gen_eig_estimate(S, U)
    cands = [c for c in (est * (1.0 + 1e-4) + delta / l, est * 1.003 + 2.0 * delta / l)
             if c < 1.0]
    # exact arithmetic gives q^2 <= 1 - (1 - ||A^k||^2) / lambda_max(P) (a fallback)
    cands += [1.0 - slack * 0.75 / m for slack in (1.0, 0.5, 0.1)]
    q2 = None
    for cand in cands:
        M = cand * P - S
        M[np.diag_indices(N)] -= delta
        if _chol_ok(M):
            q2 = cand
            break
    if q2 is None or not q2 < 1.0:
        return None
    q = math.sqrt(q2)
    # the root's own residual: s(G(x*) - x*) <= d0 and ||G(x*) - x*||_inf <= res_inf
    r_star = nl.phi(x_star)
    g = (1.0 - alpha) * x_star + alpha * (W @ r_star + c)
    diff = g - x_star
    round_ = gamma * (float(np.linalg.norm(x_star)) + alpha * float(np.linalg.norm(W))
                      * float(np.linalg.norm(r_star)) + alpha * float(np.linalg.norm(c)))
    d0 = math.sqrt(m) * (float(np.linalg.norm(diff)) + round_)
    res_inf = float(np.max(np.abs(diff))) + round_ if N else 0.0
    sqrt_l = math.sqrt(l)
    W2 = W * W
    normW2 = float(np.linalg.norm(W)) ** 2

    def c1_of(width):
        """c1 with ||e_next||_inf <= (1 - alpha) ||e||_inf + alpha c1 s(e) + res_inf on
        ||e||_inf <= width: |(W (phi(x) - phi(x*)))_i| <= ||W_i. sigma||_2 ||e||_2 with
        sigma_j = sup phi' near x*_j (rows' norms with their rounding)."""
        sup1, _ = interval_sups(net.phi, x_star, width)
        rows = W2 @ (sup1 * sup1) if N else np.zeros(0)
        return float(np.sqrt(np.max(rows, initial=0.0))) * (1.0 + gamma) / sqrt_l

    if net.phi == "relu":
        # no unit crosses zero on ||e||_inf < min |x*_i|: there DG = A, rate q
        gap = float(np.min(np.abs(x_star))) if N else 0.0
        if gap <= 0.0:
            return None
        inf_r = gap * (1.0 - 1e-9)
        radius = _radius_for(inf_r, c1_of(inf_r), l, res_inf, alpha)
        rate = q
        if not (radius > 0.0 and d0 <= 0.5 * (1.0 - q) * radius):
            return None
    else:
        if w is None:
            return None
        # beta ||e||_inf bounds s((DG(y) - A) v) / s(v) at ||y - x*||_inf <= ||e||_inf:
        # alpha sqrt(m / l) ||W T||_2 with T = diag(sup |phi''| near x*_j) on the cube of
        # half-width inf_r, which must be at most 2 theta (1 - q) / beta: the globally
        # valid T = s2 I first, then a wider cube whose own bound still allows it
        scale = alpha * math.sqrt(m / l)
        target = 2.0 * _THETA * (1.0 - q)
        beta = scale * math.sqrt(w) * _SUP2[net.phi]
        inf_r = target / beta
        wide = _widest_cube(net.phi, x_star, G, scale, target, inf_r, normW2, gamma)
        if wide is not None:
            inf_r, beta = wide
        radius = _radius_for(inf_r, c1_of(inf_r), l, res_inf, alpha)
        rate = q + _THETA * (1.0 - q)
        # the small set where the map is a contraction (Lipschitz (1 + q) / 2), which every
        # trajectory of the large one enters (beta and c1 of the large cube hold on it)
        inf_s = 0.5 * (1.0 - q) / beta
        radius_s = _radius_for(inf_s, c1_of(inf_r), l, res_inf, alpha)
        if not (radius_s > 0.0 and d0 <= 0.5 * (1.0 - rate) * radius_s):
            return None
    if not (np.isfinite(radius) and radius > 0.0):
        return None
    return ContractionBall(x=x_star.copy(), P=P, radius=float(radius), rate=float(rate),
                           lam_min=float(l), lam_max=float(m), inf_radius=float(inf_r),
                           linear_rate=float(q), residual=float(d0))
