r"""Exact mean field of least-squares trained feedback networks (extends Mastrogiuseppe & Ostojic 2019).

Network (Mastrogiuseppe & Ostojic 2019, model section): ``dx/dt = -x + J phi(x) + m z + I``,
``z = n . phi(x) / N``, ``J`` (MO2019's chi, our J) i.i.d. with variance ``g^2 / N``;
``m``, ``I`` zero-mean with ``<m^2> = var_m``, ``<I^2> = var_I``, ``<m I> = cov_mI``.

**Training (our choice: the paper's training protocol could not be read; the minimum-norm
solution is the standard offline least-squares readout).** With the feedback clamped to
the target ``A`` the network settles at ``x^A = J phi(x^A) + A m + I``; the minimum-norm
solution of ``n . phi(x^A) / N = A`` is ``n_LS = N A r^A / |r^A|^2`` with
``r^A = phi(x^A)``. This readout is correlated with ``J`` (through ``r^A``), which the
paper's uncorrelated theory neglects.

**Two-field mean field (ours).** For ``g < 1`` and every clamped readout value ``z`` the
open-loop network has one fixed point ``x^z = J phi(x^z) + z m + I`` (same ``J``). Its
closed-loop readout is ``F_LS(z) = n_LS . phi(x^z) / N``, and the closed-loop fixed points
are the roots of ``F_LS(z) = z``. For large N the pairs ``(x^A_i, x^z_i)`` are jointly
Gaussian, zero mean, with variances ``Delta_A = Delta0(A)``, ``Delta_z = Delta0(z)``
(the static variance equation of Mastrogiuseppe & Ostojic 2019) and cross-covariance ``c`` solving

    c = g^2 K(Delta_A, Delta_z, c) + var_m A z + cov_mI (A + z) + var_I,
    K(D1, D2, c) = <phi(X1) phi(X2)>,

so that ``F_LS(z) = A K(Delta_A, Delta_z, c(z)) / K(Delta_A, Delta_A, Delta_A)``. ``z = A``
is always a root (``c = Delta_A``).

**Slope and stability.** Price's theorem gives ``dK/dc = <phi'(X1) phi'(X2)>`` and
``dK/dD2 = <phi(X1) phi''(X2)> / 2``, hence the exact ``dF_LS/dz``. By the matrix
determinant lemma ``det(1 - S) = det(1 - J D) (1 - dF_LS/dz)`` for the closed-loop gain
matrix ``S = (J + m n^T / N) D``; so a real eigenvalue crosses 1 exactly where
``dF_LS/dz`` does. **Decision (our choice, the 1-D reduction is exact for real
eigenvalues):** a root is called stable iff ``dF_LS/dz < 1`` and the bulk
radius ``g sqrt([phi'^2](Delta_z)) < 1`` (the 1-D reduction; for ``g < 1`` the roots then
alternate stable / unstable). An outlier moving out of the unit disk through complex values
would not be seen by this test; the predicted outlier below lets a user check it.

**Outlier (ours).** Linear response of the open-loop network to ``z(t) = z + eps
e^{(lambda - 1) t}`` (two-replica dynamic mean field, no reaction term for i.i.d. ``J``)
gives the readout transfer ``H(lambda)``; outliers solve ``H(lambda) = 1``, i.e.

    lambda^2 - (M11 + b + alpha) lambda + M11 b + (A / q_A) K_c s_A M11 = 0,
    M11 = g^2 ([phi'^2] + [phi phi''])(Delta_z),   b = g^2 K_c,   K_c = dK/dc,
    alpha = (A / q_A) (K_c s_A + 2 K_D s_z),   K_D = dK/dD2,
    s_A = var_m A + cov_mI,   s_z = var_m z + cov_mI,   q_A = K(Delta_A, Delta_A, Delta_A),

with ``H(1) = dF_LS/dz``. Both roots are returned; the outlier is the one of largest modulus.

**Bivariate Gaussian averages** ``K``, ``dK/dc``, ``2 dK/dD2``:
:func:`~reservoir.meanfield.gaussian.bivariate_average` (trapezoid disk rule, Numba kernel,
closed forms for ReLU). Newton on ``c`` starts on a grid twice as coarse and finishes on the
accurate one.

**Uncorrelated theory with the LS direction** (Stein's lemma, as in Mastrogiuseppe &
Ostojic 2019's treatment of trained readouts): the projection of ``n_LS`` on the
``(m, I)`` plane is parallel to ``A m + I``, i.e. the direction overlaps are
``(A var_m + cov_mI, A cov_mI + var_I)`` (:func:`ls_direction`); combined with
:func:`~reservoir.meanfield.readout_scale` (the ``readout_scale`` renormalisation) and
:func:`~reservoir.meanfield.mf_fixed_points` this is the paper's approximation of an LS
network (:func:`uncorrelated_ls_params`).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_real, check_memory
from .._docs import fill_doc
from .._deprecation import renamed_fields
from .._results import PointSetMixin, ResultMixin
from ._roots import grid_roots
from .gaussian import _PHIS_2D as _PHIS
from .gaussian import _moments, bivariate_average, check_bivariate, gaussian_average
from .static import MeanFieldParams, _check_variance_of, readout_scale, stationary_variance


# ----------------------------------------------------------------- the LS mean field
def _check_params(params):
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be a MeanFieldParams, got {type(params).__name__}")
    if params.method != "accurate":
        raise ValueError("params.method must be 'accurate' for the least-squares theory "
                         f"(the bivariate rule has no GH-200 variant), got {params.method!r}")
    if params.phi not in _PHIS:
        raise ValueError(f"params.phi must be one of {_PHIS}, got {params.phi!r}")


def _check_A(A, params=None):
    if isinstance(A, bool) or not isinstance(A, (numbers.Real, np.floating)):
        raise TypeError(f"A must be a real number, got {type(A).__name__}")
    A = float(A)
    if not np.isfinite(A):
        raise ValueError(f"A must be finite, got {A}")
    if params is not None:  # the open-loop variance at A must be computable
        with np.errstate(over="ignore"):
            din = params.input_variance(np.array([A]))
        _check_variance_of(params, din, "A", A)
        if params.phi != "relu":
            check_bivariate(float(din[0]) + params.g**2, "A", A)
    return A


@renamed_fields(phi2="C", dphi="psi")
@dataclass(frozen=True, eq=False, repr=False)
class TargetState(ResultMixin):
    """Open-loop statistics of the target state ``x^A`` (feedback clamped to ``A``).

    Parameters
    ----------
    A : float
        The target (readout units).
    delta0 : float
        ``Delta0(A)``, the open-loop variance of ``x^A`` (state units squared).
    C : float
        ``q_A = <phi(x^A)^2>`` (bivariate rule at correlation 1, so that ``F_LS(A) = A``
        to rounding); the rate correlation ``C`` of Rivkind & Barak 2017 at one target.
    psi : float
        ``[phi'](Delta0(A))`` (dimensionless).
    converged : bool
        The solve of ``Delta0(A)`` converged.
    success : bool
        ``converged``.
    messages : tuple of str
        What went wrong, if anything.
    """

    A: float
    delta0: float
    C: float
    psi: float
    converged: bool
    success: bool
    messages: tuple


def ls_target_state(params: MeanFieldParams, A: float) -> TargetState:
    """``Delta0(A)``, ``<phi(x^A)^2>`` and ``[phi'](Delta0(A))`` of the target state.

    Parameters
    ----------
    params : MeanFieldParams
        ``g``, ``var_m``, ``var_I``, ``cov_mI`` and ``phi`` are used.
    A : float
        The target (readout units).

    Returns
    -------
    TargetState
        The open-loop statistics at ``A``.

    Raises
    ------
    ValueError
        If the target state has zero rates (``q_A = 0``: the LS readout is undefined),
        ``A`` is not finite, or ``params.method``/``params.phi`` is unsupported.
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``A`` is not a real number.
    """
    _check_params(params)
    A = _check_A(A, params)
    d, ok = stationary_variance(params, np.array([A]))
    d = float(d[0])
    q = float(bivariate_average(params.phi, d, d, d)[0])
    if not q > 0:
        raise ValueError(f"A={A}: the target state has zero rates (<phi^2> = {q}); the "
                         "least-squares readout is undefined")
    psi = float(gaussian_average(params.phi, "dphi", 0.0, d))
    converged = bool(ok[0])
    return TargetState(A=A, delta0=d, C=q, psi=psi, converged=converged, success=converged,
                       messages=() if converged else
                       ("Delta0(A) of the target state did not converge",))


@renamed_fields(target="target_state", iterations="n_iterations")
@dataclass(frozen=True, eq=False, repr=False)
class LSTransfer(ResultMixin):
    """The LS readout ``F_LS(z)`` of the open-loop network clamped at ``z``.

    Parameters
    ----------
    target_state : TargetState
        Statistics of the target state.
    z : ndarray, shape (P,)
        Clamped readout values (readout units).
    F : ndarray, shape (P,)
        ``F_LS(z) = A K / q_A`` (readout units).
    slope : ndarray, shape (P,)
        ``dF_LS/dz`` (exact, from Price's theorem; dimensionless).
    delta0 : ndarray, shape (P,)
        ``Delta0(z)`` (state units squared).
    cov : ndarray, shape (P,)
        ``c(z) = Cov(x^A, x^z)`` (state units squared).
    moments : ndarray, shape (3, P)
        ``K``, ``dK/dc`` and ``2 dK/dDelta_z`` at the solution.
    converged : ndarray of bool, shape (P,)
        Both ``Delta0(z)`` and ``c(z)`` converged (``|residual| < tol max(sqrt(Delta_A
        Delta_z), 1e-6)``).
    n_iterations : ndarray of int, shape (P,)
        Newton iterations spent on ``c`` at each ``z``.
    success : bool
        Every entry converged (and the target state did).
    messages : tuple of str
        What went wrong, if anything.
    """

    target_state: TargetState
    z: np.ndarray
    F: np.ndarray
    slope: np.ndarray
    delta0: np.ndarray
    cov: np.ndarray
    moments: np.ndarray
    converged: np.ndarray
    n_iterations: np.ndarray
    success: bool
    messages: tuple


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


def ls_transfer(params: MeanFieldParams, A: float, z: ArrayLike, *, tol: float = 1e-13,
                max_iter: int = 50) -> LSTransfer:
    """Evaluate ``F_LS(z)`` and its slope for a network trained by LS on the target ``A``.

    Parameters
    ----------
    params : MeanFieldParams
        ``g``, ``var_m``, ``var_I``, ``cov_mI`` and ``phi`` are used; the readout overlaps
        are ignored (the readout is the LS one).
    A : float
        Target (readout units).
    z : array_like, shape (P,) or scalar
        Clamped readout values (readout units).
    tol : float
        Newton on the cross-covariance ``c`` stops at ``|residual| < tol * max(sqrt(Delta_A
        Delta_z), 1e-6)`` (relative to the largest possible ``|c|``).
    max_iter : int
        Most Newton iterations per grid (coarse and accurate).

    Returns
    -------
    LSTransfer
        ``F_LS``, its slope and the solved covariances at every ``z``; ``success`` says
        whether every solve converged.

    Raises
    ------
    ValueError
        For a non-finite ``A`` or ``z``, ``tol <= 0``, ``max_iter < 1``, an unsupported
        ``params.phi``/``params.method``, or a target state with zero rates.
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``A`` is not a real number.
    """
    _check_params(params)
    A = _check_A(A, params)
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
    F = A * K / tgt.C
    g2 = p.g**2
    M11 = g2 * (gaussian_average(p.phi, "dphi2", 0.0, dz)
                + gaussian_average(p.phi, "phi_ddphi", 0.0, dz))
    ddz = 2 * (p.var_m * z + p.cov_mI) / (1 - M11)            # dDelta0/dz
    dc = (g2 * 0.5 * E12 * ddz + p.var_m * A + p.cov_mI) / (1 - g2 * Kc)
    slope = A / tgt.C * (Kc * dc + 0.5 * E12 * ddz)
    conv = okz & okc & tgt.converged
    messages = list(tgt.messages)
    if not np.all(okz):
        messages.append(f"Delta0(z) did not converge at {np.count_nonzero(~okz)} of "
                        f"{z.size} points")
    if not np.all(okc):
        messages.append(f"the covariance c(z) did not converge in {max_iter} Newton "
                        f"iterations at {np.count_nonzero(~okc)} of {z.size} points")
    return LSTransfer(target_state=tgt, z=z, F=F, slope=slope, delta0=dz, cov=c,
                      moments=mom, converged=conv, n_iterations=its,
                      success=bool(np.all(conv)), messages=tuple(messages))


@renamed_fields(eig="eig_M", target="target_state")
@dataclass(frozen=True, eq=False, repr=False)
class LSFixedPoints(PointSetMixin):
    """All fixed points of an LS-trained network in the two-field mean field.

    A point collection: ``result[mask]`` keeps the selected roots (``target_index`` follows
    the target, ``None`` if it is not selected); grids and settings are kept.

    Parameters
    ----------
    target_state : TargetState
        Statistics of the target state.
    z : ndarray, shape (P,)
        Roots of ``F_LS(z) = z``, increasing (readout units).
    slope : ndarray, shape (P,)
        ``dF_LS/dz`` at each root.
    stable : ndarray of bool, shape (P,)
        ``slope < 1`` and ``bulk_radius < 1`` (module docstring: the 1-D decision).
    outlier : ndarray of complex, shape (P,)
        Predicted outlier of ``(J + m n^T/N) D`` (largest-modulus root of the quadratic).
    eig_M : ndarray of complex, shape (P, 2)
        Both roots of the outlier quadratic, by decreasing modulus.
    bulk_radius : ndarray, shape (P,)
        ``g sqrt([phi'^2](Delta0(z)))``.
    delta0 : ndarray, shape (P,)
        ``Delta0(z)`` at the roots (state units squared).
    cov : ndarray, shape (P,)
        ``c(z)`` at the roots (state units squared).
    converged : ndarray of bool, shape (P,)
        The root and its covariance solve converged.
    target_index : int or None
        Index of the root ``z = A`` (``None`` only if refinement failed there).
    basin : (float, float)
        Interval of ``z`` attracted to the target in the 1-D reduction: between the
        neighbouring unstable roots; an end without one is infinite when the signs of
        ``F_LS - z`` at the range's ends exclude roots outside it (otherwise the range's
        end). ``(A, A)`` if the target is unstable.
    z_grid : ndarray, shape (n_grid,)
        The bracketing grid (readout units).
    G_grid : ndarray, shape (n_grid,)
        ``F_LS(z) - z`` on the grid.
    success : bool
        Every solve converged and ``F_LS - z`` has the signs at the ends of the range that
        exclude roots outside it.
    messages : tuple of str
        What went wrong or deserves attention, if anything.
    """

    _point_fields = ("z", "slope", "stable", "outlier", "eig_M", "bulk_radius", "delta0",
                     "cov", "converged")

    target_state: TargetState
    z: np.ndarray
    slope: np.ndarray
    stable: np.ndarray
    outlier: np.ndarray
    eig_M: np.ndarray
    bulk_radius: np.ndarray
    delta0: np.ndarray
    cov: np.ndarray
    converged: np.ndarray
    target_index: int | None
    basin: tuple
    z_grid: np.ndarray
    G_grid: np.ndarray
    success: bool
    messages: tuple

    def __getitem__(self, key):
        sub = super().__getitem__(key)
        kept = np.atleast_1d(np.arange(len(self))[key])
        where = np.flatnonzero(kept == self.target_index) if self.target_index is not None \
            else np.zeros(0, int)
        return dataclasses.replace(sub, target_index=int(where[0]) if where.size else None)

    @property
    def spurious_stable(self) -> np.ndarray:
        """Readouts of the stable fixed points other than the target."""
        k = np.arange(self.z.size) != (-1 if self.target_index is None else self.target_index)
        return self.z[k & self.stable]


def _outlier_quadratic(p, tr: LSTransfer):
    """Roots of the outlier quadratic (module docstring) for every entry of ``tr``."""
    A, q = tr.target_state.A, tr.target_state.C
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


def ls_fixed_points(params: MeanFieldParams, A: float, *, z_range: tuple[float,
                    float] | None = None, n_grid: int = 401,
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
        Every root with its slope, stability and predicted outlier; ``success`` and
        ``messages`` report the solves and the scan.

    Raises
    ------
    ValueError
        For a bad ``A``, ``n_grid`` or ``z_range`` (``z_range`` is required for ReLU), an
        unsupported ``params.phi``/``params.method``, or a target state with zero rates.
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``A`` is not a real number.
    """
    _check_params(params)
    A = _check_A(A, params)
    if not (isinstance(n_grid, numbers.Integral) and n_grid >= 3):
        raise ValueError(f"n_grid must be an integer >= 3, got {n_grid!r}")
    check_memory(8.0 * 64 * n_grid, "n_grid", n_grid, what="the grid and its averages")
    p = params
    messages = []
    tgt = ls_target_state(p, A)
    if z_range is None:
        if p.phi == "relu":
            raise ValueError("z_range must be given for phi='relu' (unbounded rates: no "
                             "a-priori bound on the fixed points)")
        Z = max(1.05 * abs(A) / np.sqrt(tgt.C), 0.1)
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
    return LSFixedPoints(target_state=tgt, z=z, slope=np.asarray(slope), stable=stable,
                         outlier=eig[:, 0], eig_M=eig, bulk_radius=np.asarray(bulk),
                         delta0=np.asarray(d0), cov=np.asarray(cov), converged=conv,
                         target_index=t_idx, basin=basin, z_grid=zg, G_grid=Gg,
                         success=success, messages=tuple(messages))


#: The parameters shared by the least-squares readout functions (see :mod:`reservoir._docs`).
_PARAMS_A = """Parameters
----------
params : MeanFieldParams
    Network statistics (readout overlaps ignored).
A : float
    The target (readout units)."""


@fill_doc(params_A=_PARAMS_A)
def ls_overlaps(params: MeanFieldParams, A: float) -> tuple[float, float]:
    """Mean-field overlaps of the LS readout with the feedback and input vectors.

    ``<n m> = (A / q_A) <phi(x^A) m> = (A [phi'](Delta_A) / q_A) (A var_m + cov_mI)`` and
    ``<n I> = (A [phi'](Delta_A) / q_A) (A cov_mI + var_I)`` (Stein's lemma, as for the
    readout overlaps of Mastrogiuseppe & Ostojic 2019).

    {params_A}

    Returns
    -------
    overlap_nm : float
        ``<n m>`` of the LS readout (state units squared).
    overlap_nI : float
        ``<n I>`` of the LS readout (state units squared).

    Raises
    ------
    ValueError
        As :func:`ls_target_state`.
    TypeError
        As :func:`ls_target_state`.
    """
    _check_params(params)
    tgt = ls_target_state(params, A)
    k = tgt.A * tgt.psi / tgt.C
    return (k * (tgt.A * params.var_m + params.cov_mI),
            k * (tgt.A * params.cov_mI + params.var_I))


@fill_doc(params_A=_PARAMS_A)
def ls_direction(params: MeanFieldParams, A: float) -> tuple[float, float]:
    """Direction of the LS readout's projection on the ``(m, I)`` plane, as unnormalised
    overlaps for :func:`~reservoir.meanfield.readout_scale`.

    The projection is parallel to ``A m + I`` (Stein's lemma), whose overlaps are
    ``(A var_m + cov_mI, A cov_mI + var_I)``. In the authors' code basis this is
    ``(p, p_m, p_I) ∝ (rho (A Sm + SI), sqrt(1 - rho^2) A Sm, sqrt(1 - rho^2) SI)``
    (:func:`ls_direction_code`).

    {params_A}

    Returns
    -------
    direction_nm : float
        Unnormalised overlap with ``m``, ``A var_m + cov_mI``.
    direction_nI : float
        Unnormalised overlap with ``I``, ``A cov_mI + var_I``.

    Raises
    ------
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``A`` is not a real number.
    ValueError
        If ``A`` is not finite.
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be a MeanFieldParams, got {type(params).__name__}")
    A = _check_A(A, params)
    return (A * params.var_m + params.cov_mI, A * params.cov_mI + params.var_I)


def ls_direction_code(A: float, Sm: float, SI: float, rho: float) -> tuple[float, float, float]:
    """The LS direction ``(p, p_m, p_I)`` in the basis of Mastrogiuseppe & Ostojic's code.

    That code draws ``m = Sm (rho xi + sqrt(1 - rho^2) eta_m)``, ``I = SI (rho xi +
    sqrt(1 - rho^2) eta_I)`` and ``n = readout_scale (p xi + p_m eta_m + p_I eta_I)``; the
    LS direction ``A m + I`` is, unnormalised,
    ``(rho (A Sm + SI), sqrt(1 - rho^2) A Sm, sqrt(1 - rho^2) SI)``.

    Parameters
    ----------
    A : float
        The target (readout units).
    Sm : float
        Standard deviation of the feedback entries.
    SI : float
        Standard deviation of the input entries.
    rho : float
        Weight of the shared component (the m-I correlation is ``rho^2``), in ``[0, 1]``.

    Returns
    -------
    tuple of float
        ``(p, p_m, p_I)``, unnormalised.

    Raises
    ------
    ValueError
        If ``rho`` is outside ``[0, 1]`` or ``A`` is not finite.
    TypeError
        If ``A`` is not a real number.
    """
    A = _check_A(A)
    Sm = as_real(Sm, "Sm")
    SI = as_real(SI, "SI")
    rho = as_real(rho, "rho", low=0.0, high=1.0)
    s = np.sqrt(1 - rho**2)
    return (rho * (A * Sm + SI), s * A * Sm, s * SI)


@fill_doc(params_A=_PARAMS_A)
def uncorrelated_ls_params(params: MeanFieldParams, A: float) -> MeanFieldParams:
    """The paper's (uncorrelated) approximation of an LS network trained on ``A``.

    The LS direction of :func:`ls_direction`, rescaled by the readout scale ``C(A)``
    (:func:`readout_scale`) so that ``z = A`` is a solution (Mastrogiuseppe & Ostojic 2019,
    readout normalisation). Feed the result to :func:`mf_fixed_points`.

    {params_A}

    Returns
    -------
    MeanFieldParams
        ``params`` with the readout overlaps of the rescaled LS direction.

    Raises
    ------
    FloatingPointError
        If ``Delta0(A)`` did not converge.
    ValueError
        If the readout scale is not finite (``A m + I`` has zero input variance).
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``A`` is not a real number.
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
