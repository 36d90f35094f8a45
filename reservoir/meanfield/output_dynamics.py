r"""Output dynamics near trained attractors, mean-field theory (Rivkind & Barak 2017).

Model (Rivkind & Barak 2017, section on the network model): ``dx/dt = -x + J phi(x) + m z``,
``z = w . phi(x)``, ``J`` i.i.d. with variance ``g^2/N``. Their feedback vector ``u`` is
our ``m = W_fb[:, 0]``, with entries ``m_i ~ N(0, var_m)`` (``feedback_dist="normal"``;
Gaussian ``m`` makes every average below a one- or two-dimensional Gaussian integral) or
uniform (``feedback_dist="uniform"``, single target only). Training clamps the feedback to
each target ``A_k`` (``n_targets`` of them), records the rates ``r^k`` and takes the
minimum-norm least-squares readout, so every ``x^k`` is an exact fixed point of the closed
loop.

Mean field (Rivkind & Barak 2017, mean-field theory of the trained fixed points and of
the linear response near them). The fixed-point currents ``x^k`` are jointly Gaussian
with covariance ``Q = g^2 C + var_m A A^T`` where ``C_kl = <phi(x^k) phi(x^l)>`` (solved
by damped iteration). Near attractor ``k`` the output obeys a linear ODE of order
``n_targets`` with matrix ``M_k = Lambda_k + b_k a^T``::

    Lambda_k = g^2 [diag(E) + F e_k^T],   E_l = <phi'(x^l) phi'(x^k)>,
    F_l = <phi(x^l) phi''(x^k)>,   b_k = var_m (E o A + A_k F),   a = C^{-1} A

closed-loop output poles ``s = eig(M_k) - 1``, open-loop transfer function
``H_k(s) = a^T ((1+s) I - Lambda_k)^{-1} b_k`` and closed-loop response to a perturbation
through the feedback channel ``T_k(s) = a^T (s I - (M_k - I))^{-1} b_k``. A trained
attractor is stable iff the bulk radius ``g <phi'(x^k)^2>^{1/2} < 1`` and every pole has a
negative real part.

Single target (closed forms): ``gamma = g^2 <phi'^2 + phi phi''>``,
``K = var_m A^2 <phi'^2 + phi phi''> / C`` (Stein's lemma), ``s* = gamma + K - 1``,
``tau_out = -1/s*``, ``H(0) = K / (1 - gamma)``, ``-H'(0) = K / (1 - gamma)^2``.

Quadrature: 1-D averages and the pairwise 2-D averages come from
:mod:`reservoir.meanfield.gaussian` (:func:`~reservoir.meanfield.gaussian.bivariate_average`).
For tanh the 2-D rule uses step 0.03 on the disk of radius 9 in whitened coordinates
(our choice: ``C`` is ill-conditioned for three targets, so errors of 1e-4 in ``C`` move
poles by 0.1; this grid is converged to rounding).

ReLU. ``phi''`` is a Dirac delta at 0, so ``F_l = <phi(x^l) delta(x^k)>`` is *not* zero for
``l != k`` (it vanishes only for ``l = k``, because ``x delta(x) = 0``); dropping it gives
wrong poles. We keep it analytically: for ReLU every pairwise average has a closed form
(arc-cosine kernels of the correlation angle ``theta = arccos(Q_lk / sqrt(Q_ll Q_kk))``)::

    <phi(x^l) phi(x^k)>   = sqrt(Q_ll Q_kk) (sin theta + (pi - theta) cos theta) / (2 pi)
    E_l = <phi'(x^l) phi'(x^k)> = (pi - theta) / (2 pi)
    F_l = <phi(x^l) delta(x^k)> = sqrt(Q_ll) sin theta / (2 pi sqrt(Q_kk))

(the last is the density of ``x^k`` at 0 times the conditional mean of ``relu(x^l)``
there). Stein's lemma holds for ReLU in the distributional sense (``phi'`` is a step), so
``Lambda_k`` and ``b_k`` keep the form above; ``tests/test_rb2017.py`` checks them against a
derivative-free Monte Carlo evaluation. ReLU without bias is positively homogeneous, so
targets of the same sign are one constraint: at most one positive and one negative target
(``n_targets <= 2``), and the theory then has a pole exactly at 0 with ``H_k(0) = 1`` (a
marginal line attractor), as every finite network has.

Single-target formulas also take ``"sigmoid"``; several targets take ``"tanh"`` and
``"relu"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_int, as_positive_float
from .._deprecation import renamed_fields, renamed_kwargs
from .._docs import fill_doc
from .._results import ResultMixin
from .gaussian import (bivariate_average, check_bivariate, check_quadrature,
                       gaussian_average)
from ..nonlinearities import check_phi_name

#: Grid of the pairwise tanh averages (our choice, module docstring).
_PAIR_STEP = 0.03
_PAIR_RADIUS = 9.0


@renamed_fields(var_u="var_m", rho="bulk_radius", delta="delta0", K="loop_gain")
@dataclass(frozen=True, eq=False, repr=False)
class SingleTarget(ResultMixin):
    """Mean-field quantities of one trained target ``A`` (Rivkind & Barak 2017, single target).

    Parameters
    ----------
    g : float
        Gain of the random bulk.
    A : float
        Trained target (readout units).
    var_m : float
        Variance of the feedback entries ``m_i`` (RB2017's ``u``).
    C : float
        ``<phi(x)^2>`` at the target (rate units squared).
    delta0 : float
        Variance of ``x`` at the target, ``g^2 C + var_m A^2`` (state units squared).
    gamma : float
        ``g^2 <phi'^2 + phi phi''>`` (dimensionless).
    loop_gain : float
        ``A <m phi phi'> / C`` (dimensionless).
    H0 : float
        Open-loop gain ``H(0) = K / (1 - gamma)``.
    s_star : float
        Output pole ``gamma + K - 1`` (units of ``1/tau``).
    tau_out : float
        Output time constant ``-1 / s_star`` (units of ``tau``).
    bulk_radius : float
        ``g <phi'^2>^{1/2}``.
    bulk_time : float
        Slowest bulk time ``1 / (1 - bulk_radius)`` (units of ``tau``).
    tau_eff : float
        ``-H'(0) = K / (1 - gamma)^2`` (units of ``tau``).
    converged : bool
        The fixed-point iteration of ``C`` converged.
    n_iterations : int
        Iterations of ``C`` spent.
    success : bool
        ``converged`` and every number finite.
    messages : tuple of str
        What went wrong, if anything.
    """

    g: float
    A: float
    var_m: float
    C: float
    delta0: float
    gamma: float
    loop_gain: float
    H0: float
    s_star: float
    tau_out: float
    bulk_radius: float
    bulk_time: float
    tau_eff: float
    converged: bool
    n_iterations: int
    success: bool
    messages: tuple

    @property
    def stable(self) -> bool:
        """Bulk below the edge of chaos and the output pole negative."""
        return self.bulk_radius < 1 and self.s_star < 0


def _check_feedback_dist(feedback_dist):
    if not isinstance(feedback_dist, str) or feedback_dist not in ("normal", "uniform"):
        raise ValueError(f"feedback_dist must be 'normal' or 'uniform', got {feedback_dist!r}")


def _feedback_average(phi, which, delta_eta, A, feedback_dist, var_m, weight_m=False,
                      nodes=64):
    """E over m and eta ~ N(0, delta_eta) of f(eta + m A) (times m if ``weight_m``)."""
    if feedback_dist == "normal":
        # x = eta + m A is Gaussian with variance delta_eta + var_m A^2
        if weight_m:
            raise ValueError("use Stein's lemma for Gaussian m")
        return float(gaussian_average(phi, which, 0.0, delta_eta + var_m * A * A))
    a = np.sqrt(3.0 * var_m)                     # U[-a, a] has variance var_m
    t, w = np.polynomial.legendre.leggauss(nodes)
    m = a * t
    vals = gaussian_average(phi, which, m * A, np.full(m.size, delta_eta))
    if weight_m:
        vals = vals * m
    return float(np.sum(w * vals) / 2.0)


@renamed_kwargs(var_u="var_m", u_dist="feedback_dist")
def single_target(g: float, A: float, *, var_m: float = 1.0, feedback_dist: str = "normal",
                  phi: str = "tanh", tol: float = 1e-14, max_iter: int = 200) -> SingleTarget:
    """Mean-field theory of one trained fixed point (``n_targets = 1``; Rivkind & Barak 2017).

    ``x = eta + m A`` with the recurrent field ``eta ~ N(0, g^2 C)`` and the feedback
    entry ``m`` (RB2017's ``u``) either Gaussian (``feedback_dist="normal"``, variance
    ``var_m``: then ``x`` is Gaussian with ``Delta0 = g^2 C + var_m A^2``) or uniform on
    ``[-a, a]`` with ``a^2 / 3 = var_m`` (``feedback_dist="uniform"``, FORCE's convention;
    averages over ``m`` by 64-node Gauss-Legendre). ``C = <phi(x)^2>`` is solved by
    fixed-point iteration, then ``gamma = g^2 <phi'^2 + phi phi''>`` (Stein's lemma over
    ``eta``) and ``K = A <m phi phi'> / C``.

    Parameters
    ----------
    g : float
        Gain of the random bulk (``>= 0``).
    A : float
        Trained target (readout units).
    var_m : float
        Variance of the feedback entries (``> 0``).
    feedback_dist : {"normal", "uniform"}
        Law of the feedback entries.
    phi : {"tanh", "sigmoid", "relu"}
        Nonlinearity.
    tol : float
        Relative tolerance of the iteration of ``C``.
    max_iter : int
        Most iterations of ``C``.

    Returns
    -------
    SingleTarget
        The single-target quantities; ``success`` says whether ``C`` converged.

    Raises
    ------
    ValueError
        For a negative ``g``, a non-positive ``var_m``, an unknown ``feedback_dist`` or
        ``phi``, or a non-finite ``A``.
    TypeError
        If ``g``, ``var_m`` or ``A`` is not a real number.
    """
    g = as_positive_float(g, "g", allow_zero=True)
    var_m = as_positive_float(var_m, "var_m")
    _check_feedback_dist(feedback_dist)
    A = float(as_float_array(A, "A", 0))
    check_phi_name(phi, "phi")
    tol = as_positive_float(tol, "tol")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    if phi != "relu":  # phi^2 <= 1: the variances stay below g^2 + var_m A^2
        check_quadrature(g * g, "g", g)
        check_quadrature(var_m, "var_m", var_m)
        check_quadrature(g * g + var_m * A * A, "A", A)
    C = 0.5
    converged = False
    n_it = 0
    for n_it in range(1, max_iter + 1):
        new = _feedback_average(phi, "phi2", g * g * C, A, feedback_dist, var_m)
        if abs(new - C) < tol * max(1.0, C):
            C, converged = new, True
            break
        C = new
    d_eta = g * g * C
    curv = (_feedback_average(phi, "dphi2", d_eta, A, feedback_dist, var_m)
            + _feedback_average(phi, "phi_ddphi", d_eta, A, feedback_dist, var_m))
    gamma = g * g * curv
    if feedback_dist == "normal":
        K = var_m * A * A * curv / C             # Stein's lemma over m as well
    else:
        K = A * _feedback_average(phi, "phi_dphi", d_eta, A, feedback_dist, var_m,
                                  weight_m=True) / C
    s_star = gamma + K - 1
    rho = g * np.sqrt(_feedback_average(phi, "dphi2", d_eta, A, feedback_dist, var_m))
    messages = []
    if not converged:
        messages.append(f"the iteration of C did not converge in {max_iter} iterations")
    if not np.all(np.isfinite([C, gamma, K])):
        messages.append("non-finite mean-field averages")
    with np.errstate(divide="ignore"):
        return SingleTarget(g=g, A=A, var_m=var_m, C=C, delta0=d_eta + var_m * A * A,
                            gamma=gamma, loop_gain=K, H0=K / (1 - gamma), s_star=s_star,
                            tau_out=-1 / s_star if s_star != 0 else np.inf, bulk_radius=rho,
                            bulk_time=1 / (1 - rho) if rho != 1 else np.inf,
                            tau_eff=K / (1 - gamma) ** 2, converged=converged,
                            n_iterations=n_it, success=not messages,
                            messages=tuple(messages))


@renamed_kwargs(var_u="var_m", u_dist="feedback_dist")
def edge_of_chaos(g: float, *, var_m: float = 1.0, feedback_dist: str = "normal",
                  ) -> tuple[float, float, float]:
    """Target ``A_c(g)`` at which the clamped tanh network reaches its edge of chaos.

    The edge is ``g^2 <phi'(x)^2> = 1`` (Rivkind & Barak 2017, time constant at the edge
    of chaos); it exists only for ``g > 1``, and smaller targets leave the clamped network
    chaotic.

    Parameters
    ----------
    g : float
        Gain, > 1.
    var_m : float
        Variance of the feedback entries (RB2017's ``sigma_u^2``).
    feedback_dist : {"normal", "uniform"}
        Gaussian ``m``: ``x`` is Gaussian with variance ``Delta0``, the edge is a 1-D root
        in ``Delta0``. Uniform ``m`` (``U[-a, a]``, ``a^2 / 3 = var_m``): root in ``A`` of
        ``bulk_radius(A) - 1`` with the bulk radius from :func:`single_target` (``x = eta +
        m A`` is then not Gaussian; ``Delta_c`` is returned as its variance
        ``g^2 C_c + var_m A_c^2``).

    Returns
    -------
    A_c : float
        The target at the edge (readout units).
    Delta_c : float
        Variance of ``x`` there (state units squared).
    C_c : float
        ``<phi^2>`` there.

    Raises
    ------
    ValueError
        If ``g <= 1``, ``var_m <= 0`` or ``feedback_dist`` is unknown.
    TypeError
        If ``g`` or ``var_m`` is not a real number.
    """
    g = as_positive_float(g, "g")
    var_m = as_positive_float(var_m, "var_m")
    _check_feedback_dist(feedback_dist)
    # tanh: [phi'^2](D) decays like D^(-1/2), so the edge lies near D ~ g^4
    with np.errstate(over="ignore"):
        check_quadrature(np.float64(g) ** 4, "g", g)
    if g <= 1:
        raise ValueError(f"the clamped network is below the edge of chaos for every target "
                         f"when g <= 1, got g={g}")
    if feedback_dist == "uniform":
        def radius_minus_1(A):
            return single_target(g, A, var_m=var_m, feedback_dist="uniform",
                                 tol=1e-13).bulk_radius - 1.0

        hi = 1.0
        while radius_minus_1(hi) > 0:
            hi *= 2.0
        Ac = scipy.optimize.brentq(radius_minus_1, 1e-6, hi, xtol=1e-12, rtol=1e-12)
        t = single_target(g, Ac, var_m=var_m, feedback_dist="uniform", tol=1e-13)
        return float(Ac), float(t.delta0), float(t.C)

    def f(d):
        return g * g * float(gaussian_average("tanh", "dphi2", 0.0, d)) - 1.0

    hi = 1e4
    while f(hi) > 0:            # [phi'^2](d) ~ 0.53 / sqrt(d): the edge lies near 0.28 g^4
        hi *= 16.0
        if hi > 1e300:
            raise ValueError(f"no edge of chaos found for g={g} (variance beyond 1e300)")
    dc = scipy.optimize.brentq(f, 1e-12, hi, xtol=1e-14, rtol=1e-14)
    Cc = float(gaussian_average("tanh", "phi2", 0.0, dc))
    Ac = np.sqrt((dc - g * g * Cc) / var_m)
    return float(Ac), float(dc), Cc


def _pairs(phi, Q, rows, cols):
    """``bivariate_average`` of ``(x^l, x^k)`` for the index pairs ``(rows, cols)``:
    ``[<phi phi>, <phi'(x^l) phi'(x^k)>, <phi(x^l) phi''(x^k)>]``, shape (3, n_pairs)."""
    d = np.diag(Q)
    return bivariate_average(phi, d[rows], d[cols], Q[rows, cols], grid_step=_PAIR_STEP,
                             grid_radius=_PAIR_RADIUS)


#: The argument and return type of the transfer functions (see :mod:`reservoir._docs`).
_LAPLACE = """Parameters
----------
s : complex or array_like of complex
    Laplace variable(s) (units of ``1/tau``).

Returns
-------
ndarray of complex, shape (n_s,)"""


@renamed_fields(chi="char_poly", rho="bulk_radius", b="b_k", M="M_k")
@dataclass(frozen=True, eq=False, repr=False)
class Attractor(ResultMixin):
    """Mean-field linear dynamics near one trained attractor ``A_k`` (Rivkind & Barak 2017).

    Parameters
    ----------
    A : float
        The target ``A_k`` (readout units).
    M_k : ndarray, shape (n_targets, n_targets)
        ``M_k``; the output ODE is ``det((1 + d/dt) I - M_k) dz = 0``.
    Lambda : ndarray, shape (n_targets, n_targets)
        Open-loop matrix of the overlap dynamics.
    b_k : ndarray, shape (n_targets,)
        Feedback drive ``b_k`` of the overlap dynamics.
    a : ndarray, shape (n_targets,)
        Readout coefficients ``a = C^{-1} A``.
    poles : ndarray of complex, shape (n_targets,)
        ``eig(M_k) - 1`` sorted by decreasing real part (units of ``1/tau``).
    char_poly : ndarray, shape (n_targets + 1,)
        Coefficients of the characteristic polynomial ``det(s I - (M_k - I))``
        (``s^n_targets`` first).
    bulk_radius : float
        ``g <phi'(x^k)^2>^{1/2}``.
    H0 : float
        Open-loop gain ``H_k(0)``.
    stable : bool
        ``bulk_radius < 1`` and every pole has a negative real part.
    success : bool
        The correlation matrix ``C`` converged and the poles are finite.
    messages : tuple of str
        What went wrong, if anything.
    """

    A: float
    M_k: np.ndarray
    Lambda: np.ndarray
    b_k: np.ndarray
    a: np.ndarray
    poles: np.ndarray
    char_poly: np.ndarray
    bulk_radius: float
    H0: float
    stable: bool
    success: bool
    messages: tuple

    @fill_doc(laplace=_LAPLACE)
    def transfer(self, s):
        """Closed-loop response ``T_k(s) = a^T (s I - (M_k - I))^{-1} b_k``.

        {laplace}
            ``T_k`` at each ``s`` (dimensionless).
        """
        s = np.atleast_1d(np.asarray(s, dtype=complex))
        Mm = self.M_k - np.eye(self.M_k.shape[0])
        return np.array([self.a @ np.linalg.solve(si * np.eye(Mm.shape[0]) - Mm, self.b_k)
                         for si in s])

    @fill_doc(laplace=_LAPLACE)
    def open_loop(self, s):
        """Open-loop transfer function ``H_k(s) = a^T ((1+s) I - Lambda_k)^{-1} b_k``.

        {laplace}
            ``H_k`` at each ``s`` (dimensionless).
        """
        s = np.atleast_1d(np.asarray(s, dtype=complex))
        n = self.Lambda.shape[0]
        return np.array([self.a @ np.linalg.solve((1 + si) * np.eye(n) - self.Lambda, self.b_k)
                         for si in s])


@renamed_fields(var_u="var_m", iterations="n_iterations")
@dataclass(frozen=True, eq=False, repr=False)
class MultiTarget(ResultMixin):
    """Mean field of a network trained on several fixed points (Rivkind & Barak 2017).

    Parameters
    ----------
    g : float
        Gain of the random bulk.
    targets : ndarray, shape (n_targets,)
        Trained targets ``A_k``.
    var_m : float
        Variance of the Gaussian feedback entries (RB2017's ``sigma_u^2``).
    C : ndarray, shape (n_targets, n_targets)
        Rate correlations ``C_kl = <phi(x^k) phi(x^l)>``.
    Q : ndarray, shape (n_targets, n_targets)
        Current covariances ``g^2 C + var_m A A^T`` (state units squared).
    a : ndarray, shape (n_targets,)
        Readout coefficients ``C^{-1} A``.
    attractors : tuple of Attractor
        One per target, in the order given.
    converged : bool
        The damped iteration of ``C`` converged.
    n_iterations : int
        Iterations of ``C`` spent.
    phi : str
        Nonlinearity.
    success : bool
        ``converged`` and every attractor's numbers are finite.
    messages : tuple of str
        What went wrong, if anything.
    """

    g: float
    targets: np.ndarray
    var_m: float
    C: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    attractors: tuple
    converged: bool
    n_iterations: int
    phi: str
    success: bool
    messages: tuple


@renamed_kwargs(var_u="var_m")
def multi_target(g: float, targets: ArrayLike, *, phi: str = "tanh", var_m: float = 1.0,
                 spacing: float | None = None, tol: float = 1e-12,
                 max_iter: int = 500) -> MultiTarget:
    """Mean-field theory of a network trained on the fixed points ``targets``.

    Rivkind & Barak 2017, several targets: the correlation matrix ``C`` of the rates at
    the targets, then the output dynamics near each trained attractor (module docstring).

    Parameters
    ----------
    g : float
        Gain of the random bulk.
    targets : array_like, shape (n_targets,)
        Trained output values ``A_k`` (nonzero).
    phi : {"tanh", "relu"}
        Nonlinearity. tanh (odd): targets must not repeat a magnitude (``+-A`` are one
        constraint). ReLU (positively homogeneous, no bias): at most one positive and one
        negative target, and ``g < sqrt(2)`` (otherwise the clamped network is chaotic and
        ``C`` diverges). ReLU averages are closed forms that include the delta term of
        ``phi''`` (module docstring); tanh averages use a 2-D trapezoid rule converged to
        rounding.
    var_m : float
        Variance of the Gaussian feedback entries ``m_i`` (RB2017's ``u``).
    spacing : float, optional
        Deprecated and ignored (the quadrature is the shared
        :func:`~reservoir.meanfield.gaussian.bivariate_average`, converged to rounding); a
        value is still checked to be positive.
    tol : float
        ``C`` is found by the damped iteration ``C <- (C + F(C)) / 2`` from ``0.5 I``
        until ``max |dC| < tol``; ``converged`` says whether it got there.
    max_iter : int
        Most iterations of ``C``.

    Returns
    -------
    MultiTarget
        ``C`` and ``Q`` of shape (n_targets, n_targets), ``a = C^{-1} A`` of shape
        (n_targets,), one :class:`Attractor` per target (in the order given).

    Raises
    ------
    ValueError
        For a bad ``g``, ``var_m``, ``phi``, ``spacing`` or redundant / zero ``targets``.
    """
    g = as_positive_float(g, "g", allow_zero=True)
    var_m = as_positive_float(var_m, "var_m")
    if spacing is not None:
        as_positive_float(spacing, "spacing")
        warnings.warn("multi_target(spacing=...) is deprecated and ignored: the pair "
                      "averages use the shared bivariate rule, converged to rounding",
                      DeprecationWarning, stacklevel=3)
    A = as_float_array(targets, "targets", 1)
    n = A.size
    tol = as_positive_float(tol, "tol")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    if phi in ("tanh", "sigmoid"):  # phi^2 <= 1: Q <= g^2 + var_m A^2
        check_bivariate(g * g, "g", g, radius=_PAIR_RADIUS)
        check_bivariate(var_m, "var_m", var_m, radius=_PAIR_RADIUS)
        check_bivariate(g * g + var_m * float(np.max(A * A)), "targets",
                        float(np.max(np.abs(A))), radius=_PAIR_RADIUS)
    if np.any(A == 0):
        raise ValueError("targets must be nonzero (a zero target has no rates to regress on)")
    if phi == "tanh":
        if np.unique(np.round(np.abs(A), 12)).size != n:
            raise ValueError("targets must not repeat a magnitude: +-A are the same "
                             "constraint for an odd phi")
    elif phi == "relu":
        if np.sum(A > 0) > 1 or np.sum(A < 0) > 1:
            raise ValueError("targets of the same sign are one constraint for ReLU (x(A) = "
                             "A x(1)): give at most one positive and one negative target")
        if g * g >= 2:
            raise ValueError(f"g must be < sqrt(2) for ReLU (the clamped network is chaotic "
                             f"above), got g={g}")
    else:
        raise ValueError(f"phi must be 'tanh' or 'relu' for several targets, got {phi!r}")
    rows, cols = np.tril_indices(n)              # pairs (l, k) with l >= k
    C = 0.5 * np.eye(n)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        Q = g * g * C + var_m * np.outer(A, A)
        new = np.empty_like(C)
        new[rows, cols] = new[cols, rows] = _pairs(phi, Q, rows, cols)[0]
        change = np.max(np.abs(new - C))
        C = 0.5 * (C + new)
        if change < tol:
            converged = True
            break
    Q = g * g * C + var_m * np.outer(A, A)
    a = np.linalg.solve(C, A)
    ls, ks = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    mom = _pairs(phi, Q, ls.ravel(), ks.ravel()).reshape(3, n, n)   # [., l, k]
    messages = [] if converged else [f"the iteration of C did not converge in {max_iter} "
                                     "iterations"]
    atts = []
    for k in range(n):
        E, F = mom[1, :, k], mom[2, :, k]
        Lam = g * g * np.diag(E)
        Lam[:, k] += g * g * F
        b = var_m * (E * A + A[k] * F)
        Mk = Lam + np.outer(b, a)
        poles = np.linalg.eigvals(Mk) - 1
        poles = poles[np.argsort(-poles.real, kind="stable")]
        radius = g * np.sqrt(E[k])               # E_k = <phi'(x^k)^2>
        H0 = float(a @ np.linalg.solve(np.eye(n) - Lam, b))
        att_messages = list(messages)
        if not np.all(np.isfinite(poles)):
            att_messages.append("non-finite poles")
        atts.append(Attractor(A=float(A[k]), M_k=Mk, Lambda=Lam, b_k=b, a=a, poles=poles,
                              char_poly=np.real(np.poly(Mk - np.eye(n))), bulk_radius=radius,
                              H0=H0, stable=bool(radius < 1 and np.all(poles.real < 0)),
                              success=not att_messages, messages=tuple(att_messages)))
    success = converged and all(t.success for t in atts)
    if converged and not success:
        messages.append("non-finite poles at some attractors")
    return MultiTarget(g=g, targets=A, var_m=var_m, C=C, Q=Q, a=a, attractors=tuple(atts),
                       converged=converged, n_iterations=it, phi=phi, success=success,
                       messages=tuple(messages))
