r"""Exact mean field of least-squares (LS) trained feedback networks (``specs/mo2019.md`` 5.3).

Network (spec section 1): ``dx/dt = -x + chi phi(x) + m z + I``, ``z = n . phi(x) / N``,
``chi`` i.i.d. with variance ``g^2 / N``; ``m``, ``I`` zero-mean with ``<m^2> = var_m``,
``<I^2> = var_I``, ``<m I> = cov_mI``.

**Training (our decision, spec 2.3 / 8.8).** With the feedback clamped to the target ``A``
the network settles at ``x^A = chi phi(x^A) + A m + I``; the minimum-norm solution of
``n . phi(x^A) / N = A`` is ``n_LS = N A r^A / |r^A|^2`` with ``r^A = phi(x^A)``. This
readout is correlated with ``chi`` (through ``r^A``), which the paper's uncorrelated
theory neglects.

**Two-field mean field [ours].** For ``g < 1`` and every clamped readout value ``z`` the
open-loop network has one fixed point ``x^z = chi phi(x^z) + z m + I`` (same ``chi``). Its
closed-loop readout is ``F_LS(z) = n_LS . phi(x^z) / N``, and the closed-loop fixed points
are the roots of ``F_LS(z) = z``. For large N the pairs ``(x^A_i, x^z_i)`` are jointly
Gaussian, zero mean, with variances ``Delta_A = Delta0(A)``, ``Delta_z = Delta0(z)``
(equation MF-Delta) and cross-covariance ``c`` solving

    c = g^2 K(Delta_A, Delta_z, c) + var_m A z + cov_mI (A + z) + var_I,
    K(D1, D2, c) = <phi(X1) phi(X2)>,

so that ``F_LS(z) = A K(Delta_A, Delta_z, c(z)) / K(Delta_A, Delta_A, Delta_A)``. ``z = A``
is always a root (``c = Delta_A``).

**Slope and stability.** Price's theorem gives ``dK/dc = <phi'(X1) phi'(X2)>`` and
``dK/dD2 = <phi(X1) phi''(X2)> / 2``, hence the exact ``dF_LS/dz``. By the matrix
determinant lemma ``det(1 - S) = det(1 - chi D) (1 - dF_LS/dz)`` for the closed-loop gain
matrix ``S = (chi + m n^T / N) D``; so a real eigenvalue crosses 1 exactly where
``dF_LS/dz`` does. **Decision:** a root is called stable iff ``dF_LS/dz < 1`` and the bulk
radius ``g sqrt([phi'^2](Delta_z)) < 1`` (the 1-D reduction; for ``g < 1`` the roots then
alternate stable / unstable). An outlier moving out of the unit disk through complex values
would not be seen by this test; the predicted outlier below lets a user check it.

**Outlier [ours].** Linear response of the open-loop network to ``z(t) = z + eps
e^{(lambda - 1) t}`` (two-replica dynamic mean field, no reaction term for i.i.d. ``chi``)
gives the readout transfer ``H(lambda)``; outliers solve ``H(lambda) = 1``, i.e.

    lambda^2 - (M11 + b + alpha) lambda + M11 b + (A / q_A) K_c s_A M11 = 0,
    M11 = g^2 ([phi'^2] + [phi phi''])(Delta_z),   b = g^2 K_c,   K_c = dK/dc,
    alpha = (A / q_A) (K_c s_A + 2 K_D s_z),   K_D = dK/dD2,
    s_A = var_m A + cov_mI,   s_z = var_m z + cov_mI,   q_A = K(Delta_A, Delta_A, Delta_A),

with ``H(1) = dF_LS/dz``. Both roots are returned; the outlier is the one of largest modulus.

**Bivariate Gaussian averages.** Trapezoid rule in the independent standard-normal variables
``(u, v)``, ``X1 = sqrt(D1) u``, ``X2 = sqrt(D2) (rho u + sqrt(1 - rho^2) v)``,
``rho = c / sqrt(D1 D2)``, on the disk ``u^2 + v^2 <= 8^2`` (discarded Gaussian mass
``exp(-32) = 1.3e-14``) with step ``h = min(0.2, 0.3 / sqrt(max(D1, D2)))``: for ``tanh``
the integrand is analytic in a strip of half-width ``pi / (2 sqrt(max D))`` in each
variable, so the error of ``<phi phi>`` is ``~ exp(-2 pi (pi/2) / 0.3) ~ 5e-15``; the
derivative moments (higher-order poles, e.g. ``sech^4``) are accurate to ~1e-11, enough
for slopes (all checked against ``scipy.integrate.dblquad`` and 1-D limits in the tests).
Each element's grid depends on its own variances only. The sums run in a Numba kernel
(:mod:`reservoir._kernels.gauss2d`, half of the disk for odd ``tanh``); Newton on ``c``
starts on a grid twice as coarse and finishes on the accurate one. For ReLU the closed
forms (arc-cosine kernel) are used.

**Uncorrelated theory with the LS direction** (spec 2.3): the projection of ``n_LS`` on the
``(m, I)`` plane is parallel to ``A m + I``, i.e. the direction overlaps are
``(A var_m + cov_mI, A cov_mI + var_I)`` (:func:`ls_direction`); combined with
:func:`~reservoir.meanfield.readout_scale` (the ``C`` renormalisation) and
:func:`~reservoir.meanfield.mf_fixed_points` this is the paper's approximation of an LS
network (:func:`uncorrelated_ls_params`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._checks import as_float_array
from .._kernels.gauss2d import pair_moments
from ._roots import grid_roots
from .gaussian import gaussian_average
from .static import MeanFieldParams, readout_scale, stationary_variance

_RADIUS = 8.0
_SQRT2PI = np.sqrt(2.0 * np.pi)
_PHIS = ("tanh", "sigmoid", "relu")


# ----------------------------------------------------------------- bivariate averages
def _disk_rule(n_half: int):
    """Nodes and weights of the trapezoid rule with ``n_half`` intervals per half-axis on
    ``[-R, R]^2``, restricted to the disk of radius R. Returns (u_index, u, v, w, u_grid)
    (cached per ``n_half``, read-only use)."""
    u = np.linspace(-_RADIUS, _RADIUS, 2 * n_half + 1)
    h = u[1] - u[0]
    w1 = np.exp(-0.5 * u**2) / _SQRT2PI * h
    U, V = np.meshgrid(np.arange(u.size), np.arange(u.size), indexing="ij")
    keep = u[U] ** 2 + u[V] ** 2 <= _RADIUS**2
    iu, iv = U[keep], V[keep]
    return iu, u[iu], u[iv], w1[iu] * w1[iv], u


_RULES: dict = {}


def _rule(n_half):
    if n_half not in _RULES:
        _RULES[n_half] = _disk_rule(n_half)
    return _RULES[n_half]


def _n_half(d1, d2):
    """Intervals per half-axis: step ``min(0.2, 0.3 / sqrt(max(D1, D2)))``, rounded up to
    a multiple of 8 (buckets: the rule depends only on the element's own variances)."""
    h = np.minimum(0.2, 0.3 / np.sqrt(np.maximum(np.maximum(d1, d2), 1e-300)))
    n = np.ceil(_RADIUS / h / 8.0 - 1e-12).astype(int) * 8
    return np.maximum(n, 8)


def _broadcast3(delta1, delta2, cov):
    d1 = np.asarray(as_float_array(delta1, "delta1", tuple(range(0, 4))), dtype=float)
    d2 = np.asarray(as_float_array(delta2, "delta2", tuple(range(0, 4))), dtype=float)
    c = np.asarray(as_float_array(cov, "cov", tuple(range(0, 4))), dtype=float)
    if np.any(d1 < 0):
        raise ValueError("delta1 (a variance) must be non-negative")
    if np.any(d2 < 0):
        raise ValueError("delta2 (a variance) must be non-negative")
    d1, d2, c = np.broadcast_arrays(d1, d2, c)
    if np.any(c**2 > d1 * d2 * (1 + 1e-9) + 1e-300):
        raise ValueError("cov must satisfy cov^2 <= delta1 * delta2 (a covariance matrix)")
    return d1, d2, c


def _correlation(d1, d2, c):
    s = np.sqrt(d1 * d2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(s > 0, c / np.where(s > 0, s, 1.0), 0.0)
    return np.clip(rho, -1.0, 1.0)


def _trapezoid_2d(kernel, d1, d2, c, n_out):
    """Plain-numpy rule for generic integrands: ``kernel(X1, X2)`` returns a tuple of
    arrays (B, P) on the disk nodes; returns their weighted sums, shape (n_out,) + shape."""
    shape = d1.shape
    d1, d2, c = d1.reshape(-1), d2.reshape(-1), c.reshape(-1)
    rho = _correlation(d1, d2, c)
    s = np.sqrt(np.maximum(0.0, 1.0 - rho**2))
    out = np.empty((n_out, d1.size))
    nh = _n_half(d1, d2)
    for n in np.unique(nh):
        iu, u, v, w, _ = _rule(int(n))
        idx = np.flatnonzero(nh == n)
        block = max(1, 1_500_000 // u.size)
        for b0 in range(0, idx.size, block):
            sel = idx[b0:b0 + block]
            X1 = np.sqrt(d1[sel])[:, None] * u[None, :]
            X2 = np.sqrt(d2[sel])[:, None] * (rho[sel, None] * u[None, :]
                                              + s[sel, None] * v[None, :])
            vals = kernel(X1, X2)
            for k, val in enumerate(vals):
                out[k, sel] = val @ w
    return out.reshape((n_out,) + shape)


def bivariate_expectation(f1, f2, delta1, delta2, cov) -> np.ndarray:
    """``E[f1(X1) f2(X2)]`` for zero-mean jointly Gaussian ``(X1, X2)``.

    Parameters
    ----------
    f1, f2 : callable
        Vectorised functions applied elementwise.
    delta1, delta2 : array_like
        Variances ``Var X1``, ``Var X2`` (non-negative).
    cov : array_like
        ``Cov(X1, X2)``, with ``cov^2 <= delta1 delta2``. The three are broadcast.

    Returns
    -------
    ndarray with the broadcast shape.

    Notes
    -----
    Trapezoid rule on the disk of radius 8 in the standard-normal variables (module
    docstring); exponentially accurate for integrands analytic in a strip (tanh, sigmoid,
    polynomials), only ``O(h^2)`` for kinks (ReLU: use :func:`bivariate_average`, which is
    exact).
    """
    d1, d2, c = _broadcast3(delta1, delta2, cov)
    return _trapezoid_2d(lambda X1, X2: (f1(X1) * f2(X2),), d1, d2, c, 1)[0]


def _relu_moments(d1, d2, c):
    """Arc-cosine kernel (Cho & Saul) and its derivatives, closed form."""
    rho = _correlation(d1, d2, c)
    theta = np.arccos(rho)
    s = np.sqrt(d1 * d2)
    K = s / (2 * np.pi) * (np.sqrt(1 - rho**2) + (np.pi - theta) * rho)
    Kc = (np.pi - theta) / (2 * np.pi)
    # <phi(X1) phi''(X2)> = p_X2(0) E[relu(X1) | X2 = 0] = sqrt(D1 (1 - rho^2)) / (2 pi sqrt(D2))
    with np.errstate(divide="ignore", invalid="ignore"):
        E12 = np.where(d2 > 0, np.sqrt(d1 * (1 - rho**2)) / (2 * np.pi *
                                                             np.sqrt(np.where(d2 > 0, d2, 1.0))),
                       0.0)
    return np.stack([K, Kc, E12])


def bivariate_average(phi: str, delta1, delta2, cov) -> np.ndarray:
    """The three bivariate averages the LS theory needs, for zero-mean jointly Gaussian
    ``(X1, X2)`` with variances ``delta1``, ``delta2`` and covariance ``cov``.

    Parameters
    ----------
    phi : {"tanh", "sigmoid", "relu"}
    delta1, delta2, cov : array_like
        Broadcast together; ``cov^2 <= delta1 delta2``.

    Returns
    -------
    ndarray, shape (3,) + broadcast shape
        ``<phi(X1) phi(X2)>``, ``<phi'(X1) phi'(X2)>`` (its derivative in ``cov``) and
        ``<phi(X1) phi''(X2)>`` (twice its derivative in ``delta2``).
    """
    if phi not in _PHIS:
        raise ValueError(f"phi must be one of {_PHIS}, got {phi!r}")
    d1, d2, c = _broadcast3(delta1, delta2, cov)
    if phi == "relu":
        return _relu_moments(d1, d2, c)
    shape = d1.shape
    return _moments(phi, d1.reshape(-1), d2.reshape(-1), c.reshape(-1)).reshape((3,) + shape)


# ----------------------------------------------------------------- the LS mean field
def _check_params(params):
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be a MeanFieldParams, got {type(params).__name__}")
    if params.method != "accurate":
        raise ValueError("params.method must be 'accurate' for the least-squares theory "
                         f"(the bivariate rule has no GH-200 variant), got {params.method!r}")
    if params.phi not in _PHIS:
        raise ValueError(f"params.phi must be one of {_PHIS}, got {params.phi!r}")


def _check_A(A):
    if isinstance(A, bool) or not isinstance(A, (numbers.Real, np.floating)):
        raise TypeError(f"A must be a real number, got {type(A).__name__}")
    A = float(A)
    if not np.isfinite(A):
        raise ValueError(f"A must be finite, got {A}")
    return A


@dataclass(frozen=True)
class TargetState:
    """Open-loop statistics of the target state ``x^A`` (feedback clamped to ``A``).

    Attributes
    ----------
    A : float
    delta0 : float
        ``Delta0(A)`` (equation OL).
    phi2 : float
        ``q_A = <phi(x^A)^2>`` (bivariate rule at correlation 1, so that ``F_LS(A) = A``
        to rounding).
    dphi : float
        ``[phi'](Delta0(A))``.
    converged : bool
    """

    A: float
    delta0: float
    phi2: float
    dphi: float
    converged: bool


def ls_target_state(params: MeanFieldParams, A) -> TargetState:
    """``Delta0(A)``, ``<phi(x^A)^2>`` and ``[phi'](Delta0(A))`` of the target state.

    Raises
    ------
    ValueError
        If the target state has zero rates (``q_A = 0``: the LS readout is undefined).
    """
    _check_params(params)
    A = _check_A(A)
    d, ok = stationary_variance(params, np.array([A]))
    d = float(d[0])
    q = float(bivariate_average(params.phi, d, d, d)[0])
    if not q > 0:
        raise ValueError(f"A={A}: the target state has zero rates (<phi^2> = {q}); the "
                         "least-squares readout is undefined")
    psi = float(gaussian_average(params.phi, "dphi", 0.0, d))
    return TargetState(A=A, delta0=d, phi2=q, dphi=psi, converged=bool(ok[0]))


@dataclass(frozen=True, eq=False)
class LSTransfer:
    """The LS readout ``F_LS(z)`` of the open-loop network clamped at ``z``.

    Attributes
    ----------
    target : TargetState
    z : ndarray, shape (P,)
    F : ndarray, shape (P,)
        ``F_LS(z) = A K / q_A``.
    slope : ndarray, shape (P,)
        ``dF_LS/dz`` (exact, from Price's theorem).
    delta0 : ndarray, shape (P,)
        ``Delta0(z)``.
    cov : ndarray, shape (P,)
        ``c(z) = Cov(x^A, x^z)``.
    moments : ndarray, shape (3, P)
        ``K``, ``dK/dc`` and ``2 dK/dDelta_z`` at the solution.
    converged : ndarray of bool, shape (P,)
        Both ``Delta0(z)`` and ``c(z)`` converged (``|residual| < tol max(sqrt(Delta_A
        Delta_z), 1e-6)``).
    iterations : ndarray of int, shape (P,)
        Newton iterations spent on ``c``.
    """

    target: TargetState
    z: np.ndarray
    F: np.ndarray
    slope: np.ndarray
    delta0: np.ndarray
    cov: np.ndarray
    moments: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def _moments(phi, d1, d2, c, coarse=False):
    """:func:`bivariate_average` without the checks; ``coarse`` halves the grid (error
    ~1e-7, used for the first Newton steps only)."""
    if phi == "relu":
        return _relu_moments(d1, d2, c)
    nh = _n_half(d1, d2)
    if coarse:
        nh = np.maximum(nh // 2, 4)
    out = np.empty((3, d1.size))
    pair_moments(np.sqrt(d1), np.sqrt(d2), _correlation(d1, d2, c), nh, _RADIUS,
                 0 if phi == "tanh" else 1, out)
    return out


def _cov_scale(cmax):
    """Scale of the covariance ``c`` for the Newton tolerance: its Cauchy-Schwarz bound
    ``sqrt(Delta_A Delta_z)`` (floored at 1e-6). An absolute tolerance left ``F_LS(A)``
    1e-12 off ``A`` where the target state's variance is small (Delta_A = 0.04: found by
    hypothesis)."""
    return np.maximum(cmax, 1e-6)


def _newton_cov(phi, g2, dA, dz, bz, c, tol, max_iter, coarse, its):
    cmax = np.sqrt(dA * dz)
    c = np.clip(c, -cmax, cmax)
    mom = _moments(phi, dA, dz, c, coarse)
    for _ in range(max_iter):
        R = c - g2 * mom[0] - bz
        conv = np.abs(R) < tol * _cov_scale(cmax)
        if np.all(conv):
            break
        todo = np.flatnonzero(~conv)
        its[todo] += 1
        dR = 1.0 - g2 * mom[1, todo]
        with np.errstate(divide="ignore", invalid="ignore"):
            cn = c[todo] - R[todo] / dR
        cn = np.where(np.isfinite(cn), cn, c[todo])
        c[todo] = np.clip(cn, -cmax[todo], cmax[todo])
        mom[:, todo] = _moments(phi, dA[todo], dz[todo], c[todo], coarse)
    return c, mom


def _solve_cov(p: MeanFieldParams, A, dA, dz, z, tol, max_iter):
    """Newton on ``c - g^2 K(dA, dz, c) - b(z) = 0`` (vectorised over z): first on the
    coarse rule to 1e-9, then on the accurate rule to ``tol`` (usually one step)."""
    g2 = p.g**2
    bz = p.var_m * A * z + p.cov_mI * (A + z) + p.var_I
    its = np.zeros(z.shape, dtype=int)
    c = bz.copy()
    if p.phi != "relu":
        c, _ = _newton_cov(p.phi, g2, dA, dz, bz, c, 1e-9, max_iter, True, its)
    c, mom = _newton_cov(p.phi, g2, dA, dz, bz, c, tol, max_iter, False, its)
    R = c - g2 * mom[0] - bz
    conv = np.isfinite(c) & (np.abs(R) < 10 * tol * _cov_scale(np.sqrt(dA * dz)))
    return c, mom, conv, its


def ls_transfer(params: MeanFieldParams, A, z, *, tol: float = 1e-13,
                max_iter: int = 50) -> LSTransfer:
    """Evaluate ``F_LS(z)`` and its slope for a network trained by LS on the target ``A``.

    Parameters
    ----------
    params : MeanFieldParams
        ``g``, ``var_m``, ``var_I``, ``cov_mI`` and ``phi`` are used; the readout overlaps
        are ignored (the readout is the LS one).
    A : float
        Target.
    z : array_like, shape (P,) or scalar
        Clamped readout values.
    tol, max_iter :
        Newton on the cross-covariance ``c``: ``|residual| < tol * max(sqrt(Delta_A
        Delta_z), 1e-6)`` (relative to the largest possible ``|c|``).

    Returns
    -------
    LSTransfer
    """
    _check_params(params)
    A = _check_A(A)
    z = np.atleast_1d(as_float_array(z, "z", (0, 1)))
    if not (isinstance(max_iter, numbers.Integral) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    p = params
    tgt = ls_target_state(p, A)
    dz, okz = stationary_variance(p, z)
    dA = np.full(z.shape, tgt.delta0)
    c, mom, okc, its = _solve_cov(p, A, dA, dz, z, tol, max_iter)
    K, Kc, E12 = mom
    F = A * K / tgt.phi2
    g2 = p.g**2
    M11 = g2 * (gaussian_average(p.phi, "dphi2", 0.0, dz)
                + gaussian_average(p.phi, "phi_ddphi", 0.0, dz))
    ddz = 2 * (p.var_m * z + p.cov_mI) / (1 - M11)            # dDelta0/dz
    dc = (g2 * 0.5 * E12 * ddz + p.var_m * A + p.cov_mI) / (1 - g2 * Kc)
    slope = A / tgt.phi2 * (Kc * dc + 0.5 * E12 * ddz)
    return LSTransfer(target=tgt, z=z, F=F, slope=slope, delta0=dz, cov=c, moments=mom,
                      converged=okz & okc & tgt.converged, iterations=its)


@dataclass(frozen=True, eq=False)
class LSFixedPoints:
    """All fixed points of an LS-trained network in the two-field mean field.

    Attributes
    ----------
    target : TargetState
    z : ndarray, shape (P,)
        Roots of ``F_LS(z) = z``, increasing.
    slope : ndarray, shape (P,)
        ``dF_LS/dz`` at each root.
    stable : ndarray of bool, shape (P,)
        ``slope < 1`` and ``bulk_radius < 1`` (module docstring: the 1-D decision).
    outlier : ndarray of complex, shape (P,)
        Predicted outlier of ``(chi + m n^T/N) D`` (largest-modulus root of the quadratic).
    eig : ndarray of complex, shape (P, 2)
        Both roots, by decreasing modulus.
    bulk_radius : ndarray, shape (P,)
        ``g sqrt([phi'^2](Delta0(z)))``.
    delta0, cov : ndarray, shape (P,)
        ``Delta0(z)`` and ``c(z)`` at the roots.
    converged : ndarray of bool, shape (P,)
    target_index : int or None
        Index of the root ``z = A`` (``None`` only if refinement failed there).
    basin : (float, float)
        Interval of ``z`` attracted to the target in the 1-D reduction: between the
        neighbouring unstable roots; an end without one is infinite when the signs of
        ``F_LS - z`` at the range's ends exclude roots outside it (otherwise the range's
        end). ``(A, A)`` if the target is unstable.
    z_grid, G_grid : ndarray
        ``F_LS(z) - z`` on the bracketing grid.
    success : bool
        Every solve converged and ``F_LS - z`` has the signs at the ends of the range that
        exclude roots outside it.
    messages : tuple of str
    """

    target: TargetState
    z: np.ndarray
    slope: np.ndarray
    stable: np.ndarray
    outlier: np.ndarray
    eig: np.ndarray
    bulk_radius: np.ndarray
    delta0: np.ndarray
    cov: np.ndarray
    converged: np.ndarray
    target_index: int | None
    basin: tuple
    z_grid: np.ndarray
    G_grid: np.ndarray
    success: bool
    messages: tuple = field(default=())

    def __len__(self):
        return self.z.size

    @property
    def spurious_stable(self) -> np.ndarray:
        """Readouts of the stable fixed points other than the target."""
        k = np.arange(self.z.size) != (-1 if self.target_index is None else self.target_index)
        return self.z[k & self.stable]


def _outlier_quadratic(p, tr: LSTransfer):
    """Roots of the outlier quadratic (module docstring) for every entry of ``tr``."""
    A, q = tr.target.A, tr.target.phi2
    g2 = p.g**2
    K, Kc, E12 = tr.moments
    dz = tr.delta0
    M11 = g2 * (gaussian_average(p.phi, "dphi2", 0.0, dz)
                + gaussian_average(p.phi, "phi_ddphi", 0.0, dz))
    b = g2 * Kc
    sA = p.var_m * A + p.cov_mI
    sz = p.var_m * tr.z + p.cov_mI
    alpha = A / q * (Kc * sA + E12 * sz)
    tr_ = M11 + b + alpha
    det = M11 * b + A / q * Kc * sA * M11
    disc = np.sqrt((tr_**2 - 4 * det).astype(complex))
    e = np.stack([(tr_ + disc) / 2, (tr_ - disc) / 2], axis=-1)
    order = np.argsort(-np.abs(e), axis=-1, kind="stable")
    return np.take_along_axis(e, order, axis=-1)


def ls_fixed_points(params: MeanFieldParams, A, *, z_range=None, n_grid: int = 401,
                    tol: float = 1e-13) -> LSFixedPoints:
    """All fixed points of a network trained by minimum-norm LS on the target ``A``.

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics (readout overlaps ignored).
    A : float
        Target value.
    z_range : (float, float), optional
        Interval to scan. Default for bounded ``phi`` (tanh, sigmoid): by Cauchy-Schwarz
        ``|F_LS(z)| <= |A| sqrt(<phi(x^z)^2> / q_A) <= |A| / sqrt(q_A)``, so every root lies
        in ``|z| <= |A| / sqrt(q_A)``; the default is 1.05 times that. Required for ReLU.
    n_grid : int
        Grid points for bracketing sign changes (refined by Brent to 1e-13). Tangential
        (double) roots at a fold are missed by any grid method; ``messages`` flags near
        touches.
    tol : float
        Tolerance of the cross-covariance solve.

    Returns
    -------
    LSFixedPoints
    """
    _check_params(params)
    A = _check_A(A)
    if not (isinstance(n_grid, numbers.Integral) and n_grid >= 3):
        raise ValueError(f"n_grid must be an integer >= 3, got {n_grid!r}")
    p = params
    messages = []
    tgt = ls_target_state(p, A)
    if z_range is None:
        if p.phi == "relu":
            raise ValueError("z_range must be given for phi='relu' (unbounded rates: no "
                             "a-priori bound on the fixed points)")
        Z = max(1.05 * abs(A) / np.sqrt(tgt.phi2), 0.1)
        lo, hi = -Z, Z
    else:
        try:
            lo, hi = (float(v) for v in z_range)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"z_range must be a pair of floats, got {z_range!r}") from exc
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"z_range must satisfy lo < hi (finite), got {z_range}")
    if not tgt.converged:
        messages.append("Delta0(A) of the target state did not converge")
    if p.g >= 1:
        messages.append("g >= 1: the static two-field theory assumes a unique open-loop "
                        "fixed point x^z (true for g < 1); results may not describe the "
                        "network")
    zg = np.linspace(lo, hi, int(n_grid))
    iA = None
    if lo <= A <= hi:  # put the known root on the grid
        iA = int(np.argmin(np.abs(zg - A)))
        zg[iA] = A
    grid = ls_transfer(p, A, zg, tol=tol)
    Gg = grid.F - zg
    if iA is not None:
        # F_LS(A) = A analytically (c = Delta_A); the quadrature leaves ~1e-15
        if abs(Gg[iA]) > 1e-10 * max(1.0, abs(A)):
            messages.append(f"F_LS(A) - A = {Gg[iA]:.3g}: quadrature inconsistency")
        Gg[iA] = 0.0
    if not np.all(grid.converged):
        messages.append(f"the covariance or Delta0 did not converge at "
                        f"{np.count_nonzero(~grid.converged)} grid points")

    def G(zz):
        t = ls_transfer(p, A, np.array([zz]), tol=tol)
        if not t.converged[0]:
            raise FloatingPointError(f"the covariance did not converge at z={zz}")
        return float(t.F[0] - zz)

    roots, ok, found = grid_roots(zg, Gg, G, grid.converged, label="F_LS(z) - z", xtol=1e-13)
    messages.extend(found)
    ends_ok = bool(Gg[0] > 0 and Gg[-1] < 0)
    z = np.array(sorted(roots), dtype=float)
    order = np.argsort(roots)
    ok = np.array(ok, dtype=bool)[order] if z.size else np.zeros(0, bool)
    if z.size:
        tr = ls_transfer(p, A, z, tol=tol)
        eig = _outlier_quadratic(p, tr)
        bulk = p.g * np.sqrt(gaussian_average(p.phi, "dphi2", 0.0, tr.delta0))
        slope, d0, cov, conv = tr.slope, tr.delta0, tr.cov, ok & tr.converged
    else:
        eig = np.zeros((0, 2), complex)
        bulk = slope = d0 = cov = np.zeros(0)
        conv = np.zeros(0, bool)
    stable = (slope < 1) & (bulk < 1)
    t_idx = None
    if z.size and np.min(np.abs(z - A)) < 1e-8 * max(1.0, abs(A)):
        t_idx = int(np.argmin(np.abs(z - A)))
    elif lo <= A <= hi:
        messages.append("the target z = A was not among the roots (refinement failed)")
    else:
        messages.append(f"the target A = {A} lies outside z_range {(lo, hi)}")
    # beyond the range F_LS - z keeps its end signs when ends_ok: no root out there, so an
    # end without an unstable neighbour extends to infinity
    far_lo, far_hi = (-np.inf, np.inf) if ends_ok else (lo, hi)
    basin = (far_lo, far_hi)
    if t_idx is not None:
        below = [zz for zz, st in zip(z[:t_idx], stable[:t_idx]) if not st]
        above = [zz for zz, st in zip(z[t_idx + 1:], stable[t_idx + 1:]) if not st]
        basin = (float(below[-1]) if below else far_lo, float(above[0]) if above else far_hi)
        if not stable[t_idx]:
            basin = (float(A), float(A))
    success = bool(np.all(conv) and ends_ok and np.all(grid.converged)
                   and t_idx is not None)
    return LSFixedPoints(target=tgt, z=z, slope=np.asarray(slope), stable=stable,
                         outlier=eig[:, 0], eig=eig, bulk_radius=np.asarray(bulk),
                         delta0=np.asarray(d0), cov=np.asarray(cov), converged=conv,
                         target_index=t_idx, basin=basin, z_grid=zg, G_grid=Gg,
                         success=success, messages=tuple(messages))


def ls_overlaps(params: MeanFieldParams, A):
    """Mean-field overlaps of the LS readout with the feedback and input vectors.

    ``<n m> = (A / q_A) <phi(x^A) m> = (A [phi'](Delta_A) / q_A) (A var_m + cov_mI)`` and
    ``<n I> = (A [phi'](Delta_A) / q_A) (A cov_mI + var_I)`` (Stein's lemma; spec 2.3).

    Returns
    -------
    (overlap_nm, overlap_nI) : tuple of float
    """
    _check_params(params)
    tgt = ls_target_state(params, A)
    k = tgt.A * tgt.dphi / tgt.phi2
    return (k * (tgt.A * params.var_m + params.cov_mI),
            k * (tgt.A * params.cov_mI + params.var_I))


def ls_direction(params: MeanFieldParams, A):
    """Direction of the LS readout's projection on the ``(m, I)`` plane, as unnormalised
    overlaps for :func:`~reservoir.meanfield.readout_scale`.

    The projection is parallel to ``A m + I`` (spec 2.3), whose overlaps are
    ``(A var_m + cov_mI, A cov_mI + var_I)``. In the authors' code basis this is
    ``(p, p_m, p_I) ∝ (rho (A Sm + SI), sqrt(1 - rho^2) A Sm, sqrt(1 - rho^2) SI)``
    (:func:`ls_direction_code`).

    Returns
    -------
    (direction_nm, direction_nI) : tuple of float
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be a MeanFieldParams, got {type(params).__name__}")
    A = _check_A(A)
    return (A * params.var_m + params.cov_mI, A * params.cov_mI + params.var_I)


def ls_direction_code(A, Sm, SI, rho):
    """The LS direction ``(p, p_m, p_I)`` in the code's basis (spec 1.2, 2.3), unnormalised:
    ``(rho (A Sm + SI), sqrt(1 - rho^2) A Sm, sqrt(1 - rho^2) SI)``."""
    A = _check_A(A)
    if not (0 <= rho <= 1):
        raise ValueError(f"rho must be in [0, 1], got {rho}")
    s = np.sqrt(1 - rho**2)
    return (rho * (A * Sm + SI), s * A * Sm, s * SI)


def uncorrelated_ls_params(params: MeanFieldParams, A) -> MeanFieldParams:
    """The paper's (uncorrelated) approximation of an LS network trained on ``A``: the LS
    direction of :func:`ls_direction`, rescaled by ``C(A)`` (:func:`readout_scale`) so that
    ``z = A`` is a solution. Feed the result to :func:`mf_fixed_points`.

    Raises
    ------
    FloatingPointError
        If ``Delta0(A)`` did not converge.
    """
    d_nm, d_nI = ls_direction(params, A)
    C, ok = readout_scale(params, float(A), d_nm, d_nI)
    if not np.all(ok):
        raise FloatingPointError(f"Delta0(A) did not converge at A={A}")
    C = float(C)
    if not np.isfinite(C):
        raise ValueError(f"A={A}: the readout scale C(A) is not finite (A m + I has zero "
                         "input variance)")
    return params.with_readout(C * d_nm, C * d_nI)
