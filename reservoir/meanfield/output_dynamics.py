r"""Local dynamics near trained attractors (Rivkind & Barak 2017), mean-field theory.

Model (``specs/rb2017.md`` section 1): ``dx/dt = -x + J phi(x) + u z``, ``z = w . phi(x)``,
``J`` i.i.d. with variance ``g^2/N``, feedback vector ``u ~ N(0, var_u)`` (Gaussian ``u``
makes every average below a one- or two-dimensional Gaussian integral). Training clamps the
feedback to each target ``A_k``, records the rates ``r^k`` and takes the minimum-norm
least-squares readout, so every ``x^k`` is an exact fixed point of the closed loop.

Mean field (sections 3.2-3.4). The fixed-point currents ``x^k`` are jointly Gaussian with
covariance ``Q = g^2 C + var_u A A^T`` where ``C_kl = <phi(x^k) phi(x^l)>`` (solved by
damped iteration). Near attractor ``k`` the output obeys an ``M``-th order linear ODE with
matrix ``M_k = Lambda_k + b_k a^T``::

    Lambda_k = g^2 [diag(E) + F e_k^T],   E_m = <phi'(x^m) phi'(x^k)>,
    F_m = <phi(x^m) phi''(x^k)>,   b_k = var_u (E o A + A_k F),   a = C^{-1} A

closed-loop output poles ``s = eig(M_k) - 1``, open-loop transfer function
``H_k(s) = a^T ((1+s) I - Lambda_k)^{-1} b_k`` and closed-loop response to a perturbation
through the feedback channel ``T_k(s) = a^T (s I - (M_k - I))^{-1} b_k``. A trained
attractor is stable iff the bulk radius ``g <phi'(x^k)^2>^{1/2} < 1`` and every pole has a
negative real part.

Single target (section 3.5): ``gamma = g^2 <phi'^2 + phi phi''>``,
``K = var_u A^2 <phi'^2 + phi phi''> / C`` (Stein's lemma), ``s* = gamma + K - 1``,
``tau_out = -1/s*``, ``H(0) = K / (1 - gamma)``, ``-H'(0) = K / (1 - gamma)^2``.

Quadrature: 1-D averages use :mod:`reservoir.meanfield.gaussian`; for tanh the pairwise
2-D averages use a trapezoid grid in whitened coordinates on ``[-9, 9]^2`` with spacing 0.03
(the spec's recommendation; ``C`` is ill-conditioned for three targets, so errors of 1e-4 in
``C`` move poles by 0.1).

ReLU (spec 3.3 caveat, 4.2). ``phi''`` is a Dirac delta at 0, so
``F_m = <phi(x^m) delta(x^k)>`` is *not* zero for ``m != k`` (it vanishes only for
``m = k``, because ``x delta(x) = 0``); dropping it gives wrong poles. We keep it
analytically: for ReLU every pairwise average has a closed form (arc-cosine kernels of the
correlation angle ``theta = arccos(Q_mk / sqrt(Q_mm Q_kk))``)::

    <phi(x^m) phi(x^k)>   = sqrt(Q_mm Q_kk) (sin theta + (pi - theta) cos theta) / (2 pi)
    E_m = <phi'(x^m) phi'(x^k)> = (pi - theta) / (2 pi)
    F_m = <phi(x^m) delta(x^k)> = sqrt(Q_mm) sin theta / (2 pi sqrt(Q_kk))

(the last is the density of ``x^k`` at 0 times the conditional mean of ``relu(x^m)``
there). Stein's lemma holds for ReLU in the distributional sense (``phi'`` is a step), so
``Lambda_k`` and ``b_k`` keep the form above; ``tests/test_rb2017.py`` checks them against a
derivative-free Monte Carlo evaluation of ``P_k`` and ``b_k`` from (R2). ReLU without bias
is positively homogeneous, so targets of the same sign are one constraint: at most one
positive and one negative target (``M <= 2``), and the theory then has a pole exactly at 0
with ``H_k(0) = 1`` (a marginal line attractor), as every finite network has.

Single-target formulas also take ``"sigmoid"``; several targets take ``"tanh"`` and
``"relu"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from .._checks import as_float_array, as_positive_float
from .gaussian import _tanh_family, gaussian_average


@dataclass(frozen=True)
class SingleTarget:
    """Mean-field quantities of one trained target ``A`` (spec 7.1 columns)."""

    g: float
    A: float
    var_u: float
    C: float
    delta: float
    gamma: float
    K: float
    H0: float
    s_star: float
    tau_out: float
    rho: float
    bulk_time: float
    tau_eff: float
    converged: bool

    @property
    def stable(self) -> bool:
        """Bulk below the edge of chaos and the output pole negative."""
        return self.rho < 1 and self.s_star < 0


def _u_average(phi, which, delta_eta, A, u_dist, var_u, weight_u=False, nodes=64):
    """E over u and eta ~ N(0, delta_eta) of f(eta + u A) (times u if ``weight_u``)."""
    if u_dist == "normal":
        # x = eta + u A is Gaussian with variance delta_eta + var_u A^2
        if weight_u:
            raise ValueError("use Stein's lemma for Gaussian u")
        return float(gaussian_average(phi, which, 0.0, delta_eta + var_u * A * A))
    a = np.sqrt(3.0 * var_u)                     # U[-a, a] has variance var_u
    t, w = np.polynomial.legendre.leggauss(nodes)
    u = a * t
    vals = gaussian_average(phi, which, u * A, np.full(u.size, delta_eta))
    if weight_u:
        vals = vals * u
    return float(np.sum(w * vals) / 2.0)


def single_target(g: float, A: float, *, var_u: float = 1.0, u_dist: str = "normal",
                  phi: str = "tanh", tol: float = 1e-14, max_iter: int = 200) -> SingleTarget:
    """Mean-field theory of one trained fixed point (``M = 1``).

    ``x = eta + u A`` with the recurrent field ``eta ~ N(0, g^2 C)`` and the feedback
    entry ``u`` either Gaussian (``u_dist="normal"``, variance ``var_u``: then ``x`` is
    Gaussian with ``Delta = g^2 C + var_u A^2``) or uniform on ``[-a, a]`` with
    ``a^2 / 3 = var_u`` (``u_dist="uniform"``, FORCE's convention; averages over ``u`` by
    64-node Gauss-Legendre). ``C = <phi(x)^2>`` is solved by fixed-point iteration, then
    ``gamma = g^2 <phi'^2 + phi phi''>`` (Stein's lemma over ``eta``) and
    ``K = A <u phi phi'> / C``. ``converged`` reports the iteration's status.
    """
    g = as_positive_float(g, "g", allow_zero=True)
    var_u = as_positive_float(var_u, "var_u")
    if u_dist not in ("normal", "uniform"):
        raise ValueError(f"u_dist must be 'normal' or 'uniform', got {u_dist!r}")
    A = float(as_float_array(A, "A", 0))
    C = 0.5
    converged = False
    for _ in range(max_iter):
        new = _u_average(phi, "phi2", g * g * C, A, u_dist, var_u)
        if abs(new - C) < tol * max(1.0, C):
            C, converged = new, True
            break
        C = new
    d_eta = g * g * C
    curv = (_u_average(phi, "dphi2", d_eta, A, u_dist, var_u)
            + _u_average(phi, "phi_ddphi", d_eta, A, u_dist, var_u))
    gamma = g * g * curv
    if u_dist == "normal":
        K = var_u * A * A * curv / C             # Stein's lemma over u as well
    else:
        K = A * _u_average(phi, "phi_dphi", d_eta, A, u_dist, var_u, weight_u=True) / C
    s_star = gamma + K - 1
    rho = g * np.sqrt(_u_average(phi, "dphi2", d_eta, A, u_dist, var_u))
    with np.errstate(divide="ignore"):
        return SingleTarget(g=g, A=A, var_u=var_u, C=C, delta=d_eta + var_u * A * A,
                            gamma=gamma, K=K, H0=K / (1 - gamma), s_star=s_star,
                            tau_out=-1 / s_star if s_star != 0 else np.inf, rho=rho,
                            bulk_time=1 / (1 - rho) if rho != 1 else np.inf,
                            tau_eff=K / (1 - gamma) ** 2, converged=converged)


def edge_of_chaos(g: float, *, var_u: float = 1.0, u_dist: str = "normal"):
    """Target ``A_c(g)`` at which the clamped tanh network reaches its edge of chaos,
    ``g^2 <phi'(x)^2> = 1`` (only for ``g > 1``; smaller targets leave it chaotic).

    Parameters
    ----------
    g : float
        Gain, > 1.
    var_u : float
        Variance of the feedback entries.
    u_dist : {"normal", "uniform"}
        Gaussian ``u``: ``x`` is Gaussian with variance ``Delta``, the edge is a 1-D root in
        ``Delta``. Uniform ``u`` (``U[-a, a]``, ``a^2 / 3 = var_u``): root in ``A`` of
        ``rho(A) - 1`` with ``rho`` from :func:`single_target` (``x = eta + u A`` is then not
        Gaussian; ``Delta_c`` is returned as its variance ``g^2 C_c + var_u A_c^2``).

    Returns
    -------
    (A_c, Delta_c, C_c) : tuple of float
    """
    g = as_positive_float(g, "g")
    var_u = as_positive_float(var_u, "var_u")
    if u_dist not in ("normal", "uniform"):
        raise ValueError(f"u_dist must be 'normal' or 'uniform', got {u_dist!r}")
    if g <= 1:
        raise ValueError(f"the clamped network is below the edge of chaos for every target "
                         f"when g <= 1, got g={g}")
    if u_dist == "uniform":
        def rho_minus_1(A):
            return single_target(g, A, var_u=var_u, u_dist="uniform", tol=1e-13).rho - 1.0

        hi = 1.0
        while rho_minus_1(hi) > 0:
            hi *= 2.0
        Ac = scipy.optimize.brentq(rho_minus_1, 1e-6, hi, xtol=1e-12, rtol=1e-12)
        t = single_target(g, Ac, var_u=var_u, u_dist="uniform", tol=1e-13)
        return float(Ac), float(t.delta), float(t.C)

    def f(d):
        return g * g * float(gaussian_average("tanh", "dphi2", 0.0, d)) - 1.0

    dc = scipy.optimize.brentq(f, 1e-12, 1e4, xtol=1e-14, rtol=1e-14)
    Cc = float(gaussian_average("tanh", "phi2", 0.0, dc))
    Ac = np.sqrt((dc - g * g * Cc) / var_u)
    return float(Ac), float(dc), Cc


class _Pairwise:
    """2-D Gaussian averages <f(x^m) h(x^k)> with (x^m, x^k) ~ N(0, [[Qmm, Qmk], [Qmk, Qkk]])."""

    def __init__(self, spacing=0.03, L=9.0):
        n = int(np.ceil(2 * L / spacing)) + 1
        z = np.linspace(-L, L, n)
        w = np.exp(-0.5 * z**2) * (z[1] - z[0]) / np.sqrt(2 * np.pi)
        self.z1, self.z2 = np.meshgrid(z, z, indexing="ij")
        self.W = np.outer(w, w)

    def __call__(self, f, h, Qmm, Qmk, Qkk):
        sk = np.sqrt(Qkk)
        xk = sk * self.z1
        c = Qmk / sk
        rest = np.sqrt(max(Qmm - c * c, 0.0))
        xm = c * self.z1 + rest * self.z2
        return float(np.sum(f(xm) * h(xk) * self.W))


class _TanhPairs:
    """Pairwise tanh averages by the trapezoid grid of :class:`_Pairwise`."""

    def __init__(self, spacing):
        self.pw = _Pairwise(spacing)
        self.f = {w: _tanh_family(w) for w in ("phi", "dphi", "ddphi")}

    def phiphi(self, Qmm, Qmk, Qkk):
        return self.pw(self.f["phi"], self.f["phi"], Qmm, Qmk, Qkk)

    def moments(self, Qmm, Qmk, Qkk):
        """``(E, F) = (<phi'(x^m) phi'(x^k)>, <phi(x^m) phi''(x^k)>)``."""
        return (self.pw(self.f["dphi"], self.f["dphi"], Qmm, Qmk, Qkk),
                self.pw(self.f["phi"], self.f["ddphi"], Qmm, Qmk, Qkk))


class _ReluPairs:
    """Closed-form pairwise ReLU averages (arc-cosine kernels), the delta term of
    ``phi''`` included: ``F = <relu(x^m) delta(x^k)>``."""

    @staticmethod
    def _angle(Qmm, Qmk, Qkk):
        return float(np.arccos(np.clip(Qmk / np.sqrt(Qmm * Qkk), -1.0, 1.0)))

    def phiphi(self, Qmm, Qmk, Qkk):
        th = self._angle(Qmm, Qmk, Qkk)
        return float(np.sqrt(Qmm * Qkk) * (np.sin(th) + (np.pi - th) * np.cos(th))
                     / (2 * np.pi))

    def moments(self, Qmm, Qmk, Qkk):
        th = self._angle(Qmm, Qmk, Qkk)
        return ((np.pi - th) / (2 * np.pi),
                float(np.sqrt(Qmm) * np.sin(th) / (2 * np.pi * np.sqrt(Qkk))))


@dataclass(frozen=True, eq=False)
class Attractor:
    """Mean-field linear dynamics near one trained attractor ``A_k``.

    Attributes
    ----------
    A : float
    M : ndarray, shape (M, M)
        ``M_k``; the output ODE is ``det((1 + d/dt) I - M_k) dz = 0``.
    Lambda, b : ndarray
        Open-loop matrix and input vector of the overlap dynamics.
    poles : ndarray of complex
        ``eig(M_k) - 1`` sorted by decreasing real part.
    chi : ndarray
        Coefficients of the characteristic polynomial ``det(s I - (M_k - I))`` (``s^M`` first).
    rho : float
        Bulk radius ``g <phi'(x^k)^2>^{1/2}``.
    H0 : float
        Open-loop gain ``H_k(0)``.
    stable : bool
    """

    A: float
    M: np.ndarray
    Lambda: np.ndarray
    b: np.ndarray
    a: np.ndarray
    poles: np.ndarray
    chi: np.ndarray
    rho: float
    H0: float
    stable: bool

    def transfer(self, s):
        """Closed-loop response ``T_k(s) = a^T (s I - (M_k - I))^{-1} b_k`` (complex ``s``)."""
        s = np.atleast_1d(np.asarray(s, dtype=complex))
        Mm = self.M - np.eye(self.M.shape[0])
        return np.array([self.a @ np.linalg.solve(si * np.eye(Mm.shape[0]) - Mm, self.b)
                         for si in s])

    def open_loop(self, s):
        """Open-loop transfer function ``H_k(s) = a^T ((1+s) I - Lambda_k)^{-1} b_k``."""
        s = np.atleast_1d(np.asarray(s, dtype=complex))
        n = self.Lambda.shape[0]
        return np.array([self.a @ np.linalg.solve((1 + si) * np.eye(n) - self.Lambda, self.b)
                         for si in s])


@dataclass(frozen=True, eq=False)
class MultiTarget:
    """Mean field of a network trained on several fixed points (spec 3.2-3.4)."""

    g: float
    targets: np.ndarray
    var_u: float
    C: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    attractors: tuple
    converged: bool
    iterations: int
    phi: str = "tanh"


def multi_target(g: float, targets, *, phi: str = "tanh", var_u: float = 1.0,
                 spacing: float = 0.03, tol: float = 1e-12,
                 max_iter: int = 500) -> MultiTarget:
    """Mean-field theory of a network trained on the fixed points ``targets``.

    Parameters
    ----------
    g : float
        Gain of the random bulk.
    targets : array_like, shape (M,)
        Trained output values ``A_k`` (nonzero).
    phi : {"tanh", "relu"}
        Nonlinearity. tanh (odd): targets must not repeat a magnitude (``+-A`` are one
        constraint). ReLU (positively homogeneous, no bias): at most one positive and one
        negative target, and ``g < sqrt(2)`` (otherwise the clamped network is chaotic and
        ``C`` diverges). ReLU averages are closed forms that include the delta term of
        ``phi''`` (module docstring); tanh averages use the trapezoid grid.
    var_u : float
        Variance of the Gaussian feedback vector ``u``.
    spacing : float
        Grid spacing of the tanh quadrature in whitened coordinates (ignored for ReLU).
    tol, max_iter
        ``C`` is found by the damped iteration ``C <- (C + F(C)) / 2`` from ``0.5 I``
        until ``max |dC| < tol``; ``converged`` says whether it got there.

    Returns
    -------
    MultiTarget
        ``C`` and ``Q`` of shape (M, M), ``a = C^{-1} A`` of shape (M,), one
        :class:`Attractor` per target (in the order given).

    Raises
    ------
    ValueError
        For a bad ``g``, ``var_u``, ``phi``, ``spacing`` or redundant / zero ``targets``.
    """
    g = as_positive_float(g, "g", allow_zero=True)
    var_u = as_positive_float(var_u, "var_u")
    spacing = as_positive_float(spacing, "spacing")
    A = as_float_array(targets, "targets", 1)
    Mn = A.size
    if np.any(A == 0):
        raise ValueError("targets must be nonzero (a zero target has no rates to regress on)")
    if phi == "tanh":
        if np.unique(np.round(np.abs(A), 12)).size != Mn:
            raise ValueError("targets must not repeat a magnitude: +-A are the same "
                             "constraint for an odd phi")
        pairs = _TanhPairs(spacing)
    elif phi == "relu":
        if np.sum(A > 0) > 1 or np.sum(A < 0) > 1:
            raise ValueError("targets of the same sign are one constraint for ReLU (x(A) = "
                             "A x(1)): give at most one positive and one negative target")
        if g * g >= 2:
            raise ValueError(f"g must be < sqrt(2) for ReLU (the clamped network is chaotic "
                             f"above), got g={g}")
        pairs = _ReluPairs()
    else:
        raise ValueError(f"phi must be 'tanh' or 'relu' for several targets, got {phi!r}")
    C = 0.5 * np.eye(Mn)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        Q = g * g * C + var_u * np.outer(A, A)
        new = np.empty_like(C)
        for k in range(Mn):
            for m in range(k, Mn):
                new[k, m] = new[m, k] = pairs.phiphi(Q[m, m], Q[m, k], Q[k, k])
        change = np.max(np.abs(new - C))
        C = 0.5 * (C + new)
        if change < tol:
            converged = True
            break
    Q = g * g * C + var_u * np.outer(A, A)
    a = np.linalg.solve(C, A)
    atts = []
    for k in range(Mn):
        EF = np.array([pairs.moments(Q[m, m], Q[m, k], Q[k, k]) for m in range(Mn)])
        E, F = EF[:, 0], EF[:, 1]
        Lam = g * g * np.diag(E)
        Lam[:, k] += g * g * F
        b = var_u * (E * A + A[k] * F)
        Mk = Lam + np.outer(b, a)
        poles = np.linalg.eigvals(Mk) - 1
        poles = poles[np.argsort(-poles.real, kind="stable")]
        rho = g * np.sqrt(E[k])                  # E_k = <phi'(x^k)^2>
        H0 = float(a @ np.linalg.solve(np.eye(Mn) - Lam, b))
        atts.append(Attractor(A=float(A[k]), M=Mk, Lambda=Lam, b=b, a=a, poles=poles,
                              chi=np.real(np.poly(Mk - np.eye(Mn))), rho=rho, H0=H0,
                              stable=bool(rho < 1 and np.all(poles.real < 0))))
    return MultiTarget(g=g, targets=A, var_u=var_u, C=C, Q=Q, a=a, attractors=tuple(atts),
                       converged=converged, iterations=it, phi=phi)

