r"""Static mean-field theory of trained feedback networks (Mastrogiuseppe & Ostojic 2019).

Model (Mastrogiuseppe & Ostojic 2019, model section): ``dx/dt = -x + J phi(x) + m z + I``,
``z = n . phi(x) / N``, ``J`` (MO2019's chi, our J) i.i.d. with variance ``g^2 / N``, the
readout ``n`` uncorrelated with ``J`` (the paper's approximation). Every vector has zero
mean; the statistics that enter are

* ``var_m = <m^2>``, ``var_I = <I^2>``, ``cov_mI = <m I>`` (input statistics),
* ``overlap_nm = <n m>``, ``overlap_nI = <n I>`` (the readout geometry).

At a stationary state every unit is Gaussian with variance ``Delta0`` and (the static
mean-field equations of the paper; the labels are ours)

    (MF-Delta)  Delta0 = g^2 [phi^2](Delta0) + Delta_in(z),
                Delta_in(z) = var_m z^2 + 2 cov_mI z + var_I
    (MF-z)      z = F(z) = (overlap_nm z + overlap_nI) [phi'](Delta0(z))

so the fixed points are the roots of ``F(z) - z``, found on a grid and refined by Brent:
*all* of them, not only the one a damped iteration reaches (the authors' code iterates).
Stability of a solution: the bulk radius ``g sqrt([phi'^2](Delta0))`` must be below 1
and the outlier, the top eigenvalue of the 2 x 2 matrix of the paper's stability analysis

    M = [[M11, M12], [b M11, b M12 + a]],   M11 = g^2 ([phi'^2] + [phi phi'']),
    M12 = 2 (var_m z + cov_mI),  a = overlap_nm [phi'],  b = (overlap_nm z + overlap_nI) [phi'''] / 2

below 1. For ``g < 1`` the static solution is stable iff ``dF/dz < 1``
(``dF/dz = a + b M12 / (1 - M11)``), the test used for ``stable`` (the M-eigenvalue equals
1 exactly where ``dF/dz`` does). Both M-eigenvalues are returned; the outlier is the one of
largest modulus (our choice: the authors' code takes the largest real part, which reports
0.045 instead of the physical -0.758 at A = -0.1, hiding negative outliers).

Quadrature: accurate by default; ``method="gh200"`` reproduces the authors' numbers (and
their error at large ``Delta0``: 200-node Gauss-Hermite gives ``[phi''']`` with the wrong
sign at ``Delta0 = 18.6``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._checks import (as_choice, as_float_array, as_int, as_positive_float, as_real,
                       check_memory)
from .._deprecation import renamed_fields, renamed_kwargs
from .._results import PointSetMixin, ResultMixin
from ._roots import grid_roots
from ..nonlinearities import check_phi_name
from .gaussian import check_quadrature
from .gaussian import gaussian_average


@dataclass(frozen=True)
class MeanFieldParams:
    """Parameters of the static theory (Mastrogiuseppe & Ostojic 2019).

    Plain container: nothing here can fail (the values are checked on construction).

    Parameters
    ----------
    g : float
        Bulk gain (``>= 0``).
    var_m : float
        ``<m^2>``, variance of the feedback entries (state units squared).
    var_I : float
        ``<I^2>``, variance of the input entries.
    cov_mI : float
        ``<m I>``, with ``cov_mI^2 <= var_m var_I``.
    overlap_nm : float
        ``<n m>`` (the readout is ``z = n . phi / N``).
    overlap_nI : float
        ``<n I>``.
    phi : str
        ``"tanh"`` (the paper), ``"sigmoid"`` or ``"relu"``.
    method : {"accurate", "gh200"}
        Quadrature rule: ``"gh200"`` is the 200-node Gauss-Hermite rule of the authors'
        code, kept to reproduce their numbers; it is inaccurate once ``Delta0`` exceeds
        about 5 (see :func:`reservoir.meanfield.gaussian_average`, Notes).

    Raises
    ------
    ValueError
        For a negative ``g``, ``var_m`` or ``var_I``, a non-finite overlap, ``cov_mI``
        violating Cauchy-Schwarz, or an unknown ``method``.
    TypeError
        If ``g``, ``var_m`` or ``var_I`` is not a real number.
    """

    g: float
    var_m: float
    var_I: float
    cov_mI: float = 0.0
    overlap_nm: float = 0.0
    overlap_nI: float = 0.0
    phi: str = "tanh"
    method: str = "accurate"

    def __post_init__(self):
        as_positive_float(self.g, "g", allow_zero=True)
        as_positive_float(self.var_m, "var_m", allow_zero=True)
        as_positive_float(self.var_I, "var_I", allow_zero=True)
        for name in ("cov_mI", "overlap_nm", "overlap_nI"):
            as_real(getattr(self, name), name)
        with np.errstate(over="ignore"):
            bad_cov = np.float64(self.cov_mI) ** 2 > self.var_m * self.var_I * (1 + 1e-12)
        if bad_cov:
            raise ValueError("cov_mI^2 must not exceed var_m * var_I (Cauchy-Schwarz)")
        as_choice(self.method, "method", ("accurate", "gh200"))
        check_phi_name(self.phi, "phi")

    @classmethod
    @renamed_kwargs(C="readout_scale")
    def from_code_parameters(cls, g, Sm, SI, rho, p, p_m, p_I, readout_scale=1.0, **kw):
        """The parametrisation of Mastrogiuseppe & Ostojic's published code.

        ``m = Sm (rho xi + sqrt(1-rho^2) eta_m)``, ``I = SI (rho xi + sqrt(1-rho^2) eta_I)``,
        ``n = readout_scale (p xi + p_m eta_m + p_I eta_I)`` with independent standard
        normal ``xi, eta_m, eta_I``; note that the m-I correlation is ``rho^2``.

        Parameters
        ----------
        g : float
            Bulk gain.
        Sm : float
            Standard deviation of the feedback entries.
        SI : float
            Standard deviation of the input entries.
        rho : float
            Weight of the shared component ``xi``, in ``[0, 1]``.
        p : float
            Readout component along ``xi``.
        p_m : float
            Readout component along ``eta_m``.
        p_I : float
            Readout component along ``eta_I``.
        readout_scale : float
            Overall readout scale (the code's ``C``; deprecated keyword ``C``).
        **kw
            ``phi`` and ``method``, passed on.

        Returns
        -------
        MeanFieldParams
            The corresponding parameters.

        Raises
        ------
        ValueError
            As the constructor.
        """
        s = np.sqrt(1 - rho**2)
        return cls(g=g, var_m=Sm**2, var_I=SI**2, cov_mI=Sm * SI * rho**2,
                   overlap_nm=readout_scale * Sm * (rho * p + s * p_m),
                   overlap_nI=readout_scale * SI * (rho * p + s * p_I), **kw)

    @classmethod
    def from_network(cls, net, u=None, **kw):
        """Empirical statistics of a network with one readout.

        ``m = W_fb[:, 0]``, ``I = W_in u + b``, ``n = N W_out[0]`` and ``g = sqrt(sum J^2 /
        N)`` (our choice: feeding the *empirical* overlaps to the theory removes their
        O(N^-1/2) sampling noise from the comparison). Only the network's arrays are read.

        Parameters
        ----------
        net : Network
            A network with one readout.
        u : array_like, shape (n_inputs,), optional
            Constant input (default 0).
        **kw
            ``method``, passed on.

        Returns
        -------
        MeanFieldParams
            The empirical parameters.

        Raises
        ------
        ValueError
            If the network has more than one readout, or a readout intercept ``b_out``
            (the theory has none; fold it into the bias first, as
            :func:`reservoir.predict` does).
        """
        if net.n_outputs != 1:
            raise ValueError("from_network needs a network with one readout (K = 1)")
        if net.has_intercept:
            raise ValueError(
                f"from_network: the network has a readout intercept (b_out = "
                f"{float(net.b_out[0]):g}), which the mean-field theory has none of; fold it "
                "into the bias first: dataclasses.replace(net, b=net.b + net.W_fb @ "
                "net.b_out, b_out=None) has the same closed loop, with readouts z - b_out "
                "(reservoir.predict does this)")
        N = net.N
        u = np.zeros(net.n_inputs) if u is None else np.asarray(u, float)
        m = net.W_fb[:, 0]
        I = net.W_in @ u + net.b
        n = N * net.W_out[0]
        J = net.dense_J()
        return cls(g=float(np.sqrt((J**2).sum() / N)), var_m=m @ m / N, var_I=I @ I / N,
                   cov_mI=m @ I / N, overlap_nm=n @ m / N, overlap_nI=n @ I / N,
                   phi=net.phi, **kw)

    def input_variance(self, z):
        """``Delta_in(z) = var_m z^2 + 2 cov_mI z + var_I``.

        Parameters
        ----------
        z : array_like
            Readout value(s).

        Returns
        -------
        ndarray
            The input variance at each ``z`` (state units squared).
        """
        z = np.asarray(z, dtype=float)
        return self.var_m * z**2 + 2 * self.cov_mI * z + self.var_I

    def with_readout(self, overlap_nm, overlap_nI):
        """The same network statistics with another readout.

        Parameters
        ----------
        overlap_nm : float
            New ``<n m>``.
        overlap_nI : float
            New ``<n I>``.

        Returns
        -------
        MeanFieldParams
            A copy with the new overlaps.
        """
        return MeanFieldParams(self.g, self.var_m, self.var_I, self.cov_mI, float(overlap_nm),
                               float(overlap_nI), self.phi, self.method)


def _check_params(params) -> "MeanFieldParams":
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be MeanFieldParams, got {type(params).__name__}")
    return params


def _check_z_range(z_range, name: str = "z_range"):
    """``(lo, hi)`` as finite floats with ``lo < hi``."""
    zr = as_float_array(z_range, name, 1)
    if zr.size != 2:
        raise ValueError(f"{name} must be a pair (lo, hi), got shape {zr.shape}")
    lo, hi = float(zr[0]), float(zr[1])
    if not lo < hi:
        raise ValueError(f"{name} must satisfy lo < hi, got {tuple(z_range)}")
    return lo, hi


def _check_grid(n_grid, name: str = "n_grid", per_point: float = 8.0 * 64) -> int:
    n_grid = as_int(n_grid, name, minimum=2)
    check_memory(per_point * n_grid, name, n_grid, what="the grid and its averages")
    return n_grid


def _check_variance_of(p: "MeanFieldParams", din, name: str, value) -> None:
    """The quadrature of ``Delta0 <= Delta_in + g^2 sup phi^2`` must fit in memory."""
    if p.phi == "relu":  # closed forms, no grid
        return
    dmax = float(np.max(din)) if np.size(din) else 0.0
    if not np.isfinite(dmax):
        raise ValueError(f"{name}={value!r} gives a non-finite input variance")
    if p.g**2 > dmax:
        name, value = "params", f"g={p.g}"
    check_quadrature(dmax + p.g**2, name, value)


def _avg(p: MeanFieldParams, which, delta):
    return gaussian_average(p.phi, which, 0.0, delta, method=p.method)


def stationary_variance(params: MeanFieldParams, z: ArrayLike, *, tol: float = 1e-13,
                        max_iter: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Solve (MF-Delta) for ``Delta0`` at readout value(s) ``z`` (Newton, vectorised).

    ``d[phi^2]/dDelta = [phi'^2] + [phi phi'']`` (heat-equation identity) gives the Newton
    derivative. Starts at ``Delta_in + g^2 [phi^2](Delta_in)``.

    Parameters
    ----------
    params : MeanFieldParams
        ``g``, the input statistics and ``phi`` are used.
    z : array_like, scalar or shape (P,)
        Readout value(s) (readout units).
    tol : float
        Newton stops at ``|residual| < tol * max(1, Delta0)``.
    max_iter : int
        Most Newton iterations.

    Returns
    -------
    delta0 : ndarray
        ``Delta0`` at each ``z`` (state units squared).
    converged : ndarray of bool
        False where Newton did not reach ``|residual| < tol * max(1, Delta0)`` (never a
        silent value: check it).

    Raises
    ------
    ValueError
        If ``z`` is not finite or has more than one dimension, ``tol`` is not ``> 0``,
        ``max_iter < 1``, or the quadrature grid of the variance at ``z`` cannot fit in
        physical memory.
    TypeError
        If ``params`` is not :class:`MeanFieldParams` or ``tol``/``max_iter`` has the wrong
        type.
    """
    return _stationary_variance(params, z, tol, max_iter, "z")


def _stationary_variance(params, z, tol, max_iter, name):
    """:func:`stationary_variance` with the readout values called ``name`` in errors."""
    p = _check_params(params)
    z = np.asarray(as_float_array(z, name, (0, 1)), dtype=float)
    tol = as_positive_float(tol, "tol")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    with np.errstate(over="ignore"):
        din = p.input_variance(z)
    _check_variance_of(p, din, name, float(np.max(np.abs(z))) if z.size else 0.0)
    g2 = p.g**2
    d = din + g2 * _avg(p, "phi2", din)
    conv = np.zeros(d.shape, dtype=bool)
    for _ in range(max_iter):
        G = g2 * _avg(p, "phi2", d) + din - d
        conv = np.abs(G) < tol * np.maximum(1.0, d)
        if np.all(conv):
            break
        dG = g2 * (_avg(p, "dphi2", d) + _avg(p, "phi_ddphi", d)) - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(conv, 0.0, G / dG)
        d = np.maximum(d - step, din)
    G = g2 * _avg(p, "phi2", d) + din - d
    conv = np.isfinite(d) & (np.abs(G) < tol * np.maximum(1.0, d) * 10)
    return d, conv


def open_loop_variance(params: MeanFieldParams, A: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``Delta0`` with the feedback clamped to the target ``A`` (the open-loop equation).

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics.
    A : array_like, scalar or shape (P,)
        Target(s) (readout units).

    Returns
    -------
    delta0 : ndarray
        The open-loop variance at each ``A`` (state units squared).
    converged : ndarray of bool
        Whether each solve converged.

    Raises
    ------
    ValueError
        If ``A`` is not finite or has more than one dimension.
    """
    return _stationary_variance(params, A, 1e-13, 60, "A")


def readout_scale(params: MeanFieldParams, A: ArrayLike, direction_nm: float, direction_nI: float,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Scale ``C(A)`` making the target an exact solution.

    Mastrogiuseppe & Ostojic 2019, readout normalisation: for a readout direction with
    unnormalised overlaps ``(direction_nm, direction_nI)``,
    ``C(A) = A / ((direction_nI + A direction_nm) [phi'](Delta0_ol(A)))``; it diverges at
    ``A_flex = -direction_nI / direction_nm``.

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics (readout overlaps ignored).
    A : array_like
        Target(s) (readout units).
    direction_nm : float
        Unnormalised overlap of the readout direction with ``m``.
    direction_nI : float
        Unnormalised overlap of the readout direction with ``I``.

    Returns
    -------
    C : ndarray
        The readout scale at each ``A`` (dimensionless; infinite at ``A_flex``; at
        ``A = 0`` with ``direction_nI = 0`` its limit ``1 / (direction_nm [phi'])``).
    converged : ndarray of bool
        Whether each open-loop variance converged.

    Raises
    ------
    ValueError
        If ``A`` or a direction overlap is not finite, or the quadrature grid of the
        variance at ``A`` cannot fit in physical memory.
    TypeError
        If ``params`` is not :class:`MeanFieldParams` or a direction is not a real number.
    """
    _check_params(params)
    A = np.asarray(as_float_array(A, "A", (0, 1)), dtype=float)
    direction_nm = as_real(direction_nm, "direction_nm")
    direction_nI = as_real(direction_nI, "direction_nI")
    d, conv = open_loop_variance(params, A)
    psi = _avg(params, "dphi", d)
    with np.errstate(divide="ignore", invalid="ignore"):
        C = A / ((direction_nI + A * direction_nm) * psi)
        if direction_nI == 0.0:  # A / (A nm psi): the limit 1 / (nm psi) at A = 0
            C = np.where(A == 0.0, 1.0 / (direction_nm * psi), C)
    return C, conv


def stability_matrix(params: MeanFieldParams, z: float, delta0: float,
                     ) -> tuple[np.ndarray, np.ndarray, float]:
    """The 2 x 2 stability matrix ``M`` and ``dF/dz`` at a solution ``(z, Delta0)``.

    Mastrogiuseppe & Ostojic 2019, stability of a mean-field solution (module docstring).

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics and readout overlaps.
    z : float
        Readout value of the solution.
    delta0 : float
        Its variance ``Delta0``.

    Returns
    -------
    M : ndarray, shape (2, 2)
        The stability matrix.
    eigenvalues : ndarray of complex, shape (2,)
        Its eigenvalues, sorted by decreasing real part.
    slope : float
        ``dF/dz`` at the solution.

    Raises
    ------
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``z``, ``delta0`` is not a real
        number.
    ValueError
        If ``z`` is not finite or ``delta0`` is negative or not finite.

    Notes
    -----
    Which eigenvalue is the outlier (README, "Where we differ from the MO2019 authors'
    code", D1). The eigenvalues come in the order of Mastrogiuseppe & Ostojic's published
    code, largest real part first, and that code reports the first as the outlier;
    :func:`mf_fixed_points` reports the one of largest *modulus*. They differ when the
    outlier is negative (negative feedback). In the authors' example (``g = 0.3``,
    ``Sm = 1.2``, ``SI = 0.5``, ``rho = 0.5``, readout direction ``(1, 1, 0.3)``) at the
    target ``A = -0.17`` the eigenvalues are -2.772 and 0.044: the authors' choice, 0.044,
    lies inside the bulk (radius 0.253), where no eigenvalue of a network stands out.
    Finite networks side with the largest modulus: six networks of ``N = 400`` have a real
    eigenvalue at -2.71 .. -2.86 (mean -2.79), and their eigenvalue of largest real part
    is the bulk's edge, about 0.25 (``tests/test_mo2019_differences.py``).
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be MeanFieldParams, got {type(params).__name__}")
    z = float(as_float_array(z, "z", 0))
    delta0 = as_positive_float(delta0, "delta0", allow_zero=True)
    p = params
    if p.phi != "relu":
        check_quadrature(delta0, "delta0", delta0)
    M11 = p.g**2 * float(_avg(p, "dphi2", delta0) + _avg(p, "phi_ddphi", delta0))
    M12 = 2 * (p.var_m * z + p.cov_mI)
    a = p.overlap_nm * float(_avg(p, "dphi", delta0))
    b = 0.5 * (p.overlap_nm * z + p.overlap_nI) * float(_avg(p, "dddphi", delta0))
    M = np.array([[M11, M12], [b * M11, b * M12 + a]])
    ev = np.linalg.eigvals(M)
    ev = ev[np.argsort(-ev.real, kind="stable")]
    slope = a + b * M12 / (1 - M11)
    return M, ev, float(slope)


@dataclass(frozen=True, eq=False, repr=False)
class MeanFieldSolution(PointSetMixin):
    """All static mean-field fixed points for one parameter set (one entry per point).

    A point collection: ``solution[solution.stable]`` keeps the stable points; the grid,
    ``success`` and ``messages`` are kept.

    Parameters
    ----------
    z : ndarray, shape (P,)
        Readout at each fixed point (readout units).
    delta0 : ndarray, shape (P,)
        Variance ``Delta0`` (state units squared).
    psi : ndarray, shape (P,)
        Gain ``[phi'](Delta0)``.
    slope : ndarray, shape (P,)
        ``dF/dz`` at the root.
    outlier : ndarray of complex, shape (P,)
        The M-eigenvalue of largest modulus (the other lies inside the bulk).
    eig_M : ndarray of complex, shape (P, 2)
        Both eigenvalues, by decreasing modulus.
    bulk_radius : ndarray, shape (P,)
        ``g sqrt([phi'^2](Delta0))``.
    stable : ndarray of bool, shape (P,)
        ``slope < 1`` and ``bulk_radius < 1``.
    converged : ndarray of bool, shape (P,)
        Every ``Delta0`` solve and the root refinement converged.
    z_grid : ndarray, shape (n_grid,)
        The bracketing grid (readout units).
    G_grid : ndarray, shape (n_grid,)
        ``F(z) - z`` on the grid (for plots).
    success : bool
        Every point converged and the grid's ends have the sign that excludes roots beyond.
    messages : tuple of str
        What went wrong or deserves attention, if anything.
    """

    _point_fields = ("z", "delta0", "psi", "slope", "outlier", "eig_M", "bulk_radius",
                     "stable", "converged")

    z: np.ndarray
    delta0: np.ndarray
    psi: np.ndarray
    slope: np.ndarray
    outlier: np.ndarray
    eig_M: np.ndarray
    bulk_radius: np.ndarray
    stable: np.ndarray
    converged: np.ndarray
    z_grid: np.ndarray
    G_grid: np.ndarray
    success: bool
    messages: tuple


def _default_range(p: MeanFieldParams):
    """|F(z)| <= (|snm| |z| + |snI|) min(phi'max, sqrt(2/(pi Delta_in))) for tanh; grow Z
    until the bound is below |z| on both sides."""
    Z = 2.0
    for _ in range(60):
        zz = np.array([-Z, Z])
        din = np.maximum(p.input_variance(zz), 1e-300)
        bound = (abs(p.overlap_nm) * Z + abs(p.overlap_nI)) * np.minimum(
            1.0, np.sqrt(2 / (np.pi * din)))
        if np.all(bound < Z):
            return -Z, Z
        Z *= 1.5
    return -Z, Z


def mf_fixed_points(params: MeanFieldParams, *, z_range: tuple[float, float] | None = None,
                    n_grid: int = 4001,
                    ) -> MeanFieldSolution:
    """All solutions of (MF-Delta, MF-z), with their stability.

    The fixed points of the trained network in the mean-field limit of Mastrogiuseppe &
    Ostojic 2019 (module docstring), all of them (grid + Brent).

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics and readout overlaps.
    z_range : (float, float), optional
        Where to look (default: an interval outside of which ``|F(z)| < |z|`` is
        guaranteed for tanh; for other ``phi`` pass one).
    n_grid : int
        Grid points for bracketing the roots of ``F(z) - z``. Tangential (double) roots at
        a fold are missed by any grid method: ``messages`` says when ``|F - z|`` comes
        close to 0 without a sign change.

    Returns
    -------
    MeanFieldSolution
        Every fixed point with its stability; ``success`` and ``messages`` report the
        solves and the scan.

    Raises
    ------
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``n_grid`` is not an integer.
    ValueError
        If ``z_range`` is not a finite pair with ``lo < hi``, ``n_grid < 2``, or the grid
        or its quadrature cannot fit in physical memory.

    Notes
    -----
    Three places where these numbers differ from those of Mastrogiuseppe & Ostojic's
    published code, each traced to that code, with finite networks on our side (README,
    "Where we differ from the MO2019 authors' code"; numbers for their example,
    ``g = 0.3``, ``Sm = 1.2``, ``SI = 0.5``, ``rho = 0.5``, direction ``(1, 1, 0.3)``,
    checked in ``tests/test_mo2019_differences.py``):

    * D1, the outlier. ``outlier`` is the eigenvalue of the stability matrix of largest
      modulus, theirs the one of largest real part; for a negative outlier theirs is the
      other eigenvalue, inside the bulk (A = -0.17: ours -2.772, theirs 0.044; networks of
      ``N = 400``: -2.71 .. -2.86). See :func:`stability_matrix`.
    * D2, the quadrature. With ``params.method = "gh200"`` (their 200-node Gauss-Hermite
      rule) ``[phi''']`` is wrong once ``Delta0`` exceeds about 5 (sign flipped at
      ``Delta0 = 18.6``), and a fixed point there can be called unstable: at A = 1 with
      ``overlap_nm = 4.8``, ``overlap_nI = -2.70`` the root ``z = -3.67`` gets the outlier
      1.078 from GH-200 and -0.099 from the default rule; networks of ``N = 400`` have a
      stable fixed point there with every eigenvalue within modulus 0.2. See
      :func:`reservoir.meanfield.gaussian_average`.
    * D3, every fixed point. Their solver iterates the equations, damped, from a start and
      returns the stable solution whose basin holds the start. From their starts
      ``(z, Delta0) = (5, 10)`` and ``(-2, 10)`` it misses the stable fixed point below
      the unstable target for ``-0.738 < A < -0.556`` (A = -0.6: the root -0.922 is missed,
      both starts return 1.487); their sweep recovers that branch by continuation from the
      previous target, but misses the stable point born at ``A = 1.440`` until
      ``A = 1.462``. The grid and Brent find every sign change of ``F(z) - z``; networks
      of ``N = 400`` at A = -0.55 settle on the branch the iteration can miss
      (z = -0.86 .. -1.09, theory -1.024).
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be MeanFieldParams, got {type(params).__name__}")
    n_grid = _check_grid(n_grid)
    p = params
    messages = []
    if z_range is None:
        if p.phi != "tanh":
            messages.append("default z_range derived for tanh; pass z_range for other phi")
        lo, hi = _default_range(p)
    else:
        lo, hi = _check_z_range(z_range)
    with np.errstate(over="ignore"):
        _check_variance_of(p, p.input_variance(np.array([lo, hi])), "z_range", (lo, hi))
    zg = np.linspace(lo, hi, int(n_grid))
    dg, convg = stationary_variance(p, zg)
    Gg = (p.overlap_nm * zg + p.overlap_nI) * _avg(p, "dphi", dg) - zg
    if not np.all(convg):
        messages.append(f"Delta0 did not converge at {np.count_nonzero(~convg)} grid points")

    def G(zz):
        d, c = stationary_variance(p, np.array([zz]))
        if not c[0]:
            raise FloatingPointError(f"Delta0 did not converge at z={zz}")
        return float((p.overlap_nm * zz + p.overlap_nI) * _avg(p, "dphi", d[0]) - zz)

    roots, ok, found = grid_roots(zg, Gg, G, convg, label="F(z) - z", xtol=1e-14)
    messages.extend(found)
    ends_ok = bool(Gg[0] > 0 and Gg[-1] < 0)
    z = np.array(roots, dtype=float)
    d, cd = stationary_variance(p, z) if z.size else (np.empty(0), np.empty(0, bool))
    psi = _avg(p, "dphi", d) if z.size else np.empty(0)
    eig, slope = [], []
    for zz, dd in zip(z, d):
        _, ev, sl = stability_matrix(p, zz, dd)
        eig.append(ev)
        slope.append(sl)
    eig = np.array(eig, dtype=complex).reshape(-1, 2)
    # the outlier is the M-eigenvalue of largest modulus: the other one, ~ a M11 / outlier,
    # lies inside the bulk (our choice: the authors' sort by real part hides negative
    # outliers)
    order = np.argsort(-np.abs(eig), axis=1, kind="stable")
    eig = np.take_along_axis(eig, order, axis=1)
    slope = np.array(slope)
    bulk = p.g * np.sqrt(_avg(p, "dphi2", d)) if z.size else np.empty(0)
    converged = np.array(ok, dtype=bool) & cd
    return MeanFieldSolution(
        z=z, delta0=d, psi=psi, slope=slope, outlier=eig[:, 0] if z.size else eig[:, 0],
        eig_M=eig, bulk_radius=bulk, stable=(slope < 1) & (bulk < 1), converged=converged,
        z_grid=zg, G_grid=Gg, success=bool(np.all(converged) and ends_ok and np.all(convg)),
        messages=tuple(messages))


#: Names of the solution classes of :func:`phase_diagram` (our names for the classes of
#: Mastrogiuseppe & Ostojic 2019), indexed by ``PhaseDiagram.class_index``.
CLASS_NAMES = ("input-driven", "weak positive feedback", "bistable", "unstable target")


@renamed_fields(n_fixed="n_fixed_points", n_stable="n_stable_fixed_points",
                solution_class="class_index")
@dataclass(frozen=True, eq=False, repr=False)
class PhaseDiagram(ResultMixin):
    """Solution classes along the lines of solutions (Mastrogiuseppe & Ostojic 2019).

    For every target ``A`` (rows) and readout-feedback overlap ``sigma_nm`` (columns) the
    readout overlap with the input is fixed by the target, ``sigma_nI = A / psi_A - A
    sigma_nm``, and the static theory gives the number of fixed points, how many are
    stable, and whether the target is (the paper's classes of solutions; the class names
    are ours).

    Parameters
    ----------
    A : ndarray, shape (nA,)
        The targets (readout units).
    overlap_nm : ndarray, shape (nm,)
        The readout-feedback overlaps.
    overlap_nI : ndarray, shape (nA, nm)
        The readout-input overlap of each cell.
    n_fixed_points : ndarray of int, shape (nA, nm)
        Number of mean-field fixed points (sign changes of ``F(z) - z`` on the grid).
    n_stable_fixed_points : ndarray of int, shape (nA, nm)
        How many of them are stable.
    target_slope : ndarray, shape (nA, nm)
        ``dF/dz`` at the target (stable iff < 1).
    class_index : ndarray of int, shape (nA, nm)
        Index into :data:`CLASS_NAMES`.
    success : bool
        Every target slope is finite and ``F(z) - z`` has, in every cell, the signs at the
        ends of the grid that exclude roots outside it.
    messages : tuple of str
        What went wrong, if anything.
    """

    A: np.ndarray
    overlap_nm: np.ndarray
    overlap_nI: np.ndarray
    n_fixed_points: np.ndarray
    n_stable_fixed_points: np.ndarray
    target_slope: np.ndarray
    class_index: np.ndarray
    success: bool
    messages: tuple


def phase_diagram(params: MeanFieldParams, A: ArrayLike, overlap_nm: ArrayLike, *,
                  z_range: tuple[float, float] | None = None,
                  n_grid: int = 3001) -> PhaseDiagram:
    """Classes of trained readouts over targets ``A`` and overlaps ``sigma_nm``.

    ``Delta0(z)`` and ``psi(z) = [phi'](Delta0(z))`` do not depend on the readout, so they
    are computed once on a grid of ``z``; every cell then only counts the sign changes of
    ``(sigma_nm z + sigma_nI) psi(z) - z`` (a fixed point is stable where that function
    decreases). The target's stability uses the exact ``dF/dz`` of :func:`stability_matrix`.

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics (the readout overlaps are ignored).
    A : array_like, shape (nA,) or scalar
        Targets (readout units).
    overlap_nm : array_like, shape (nm,) or scalar
        Readout-feedback overlaps.
    z_range : (float, float), optional
        Interval of ``z`` to scan (default: wide enough for tanh).
    n_grid : int
        Grid points in ``z``.

    Returns
    -------
    PhaseDiagram
        Counts, target slopes and class indices of every cell.

    Raises
    ------
    FloatingPointError
        If ``Delta0`` did not converge on the grid or at a target.
    ValueError
        If ``A`` or ``overlap_nm`` is not finite or has more than one dimension.
    """
    p = _check_params(params)
    A = np.atleast_1d(as_float_array(A, "A", (0, 1)))
    snm = np.atleast_1d(as_float_array(overlap_nm, "overlap_nm", (0, 1)))
    n_grid = _check_grid(n_grid)
    check_memory(8.0 * 8 * A.size * snm.size, "A", f"{A.size} targets",
                 what=f"the (A, overlap_nm) table of {A.size} x {snm.size} cells")
    with np.errstate(over="ignore"):
        _check_variance_of(p, p.input_variance(A), "A", float(np.max(np.abs(A))))
    if z_range is None:
        big_nm = float(np.max(np.abs(snm))) + 1.0
        big_nI = float(np.max(np.abs(A))) * 10 + 10.0
        lo, hi = _default_range(p.with_readout(big_nm, big_nI))
        # the default range grows with both; name the one that sets it
        name, value = (("overlap_nm", big_nm - 1.0) if big_nm > big_nI else
                       ("A", float(np.max(np.abs(A)))))
    else:
        lo, hi = _check_z_range(z_range)
        name, value = "z_range", (lo, hi)
    with np.errstate(over="ignore"):
        _check_variance_of(p, p.input_variance(np.array([lo, hi])), name, value)
    zg = np.linspace(lo, hi, int(n_grid))
    dg, ok = stationary_variance(p, zg)
    if not np.all(ok):
        raise FloatingPointError("Delta0(z) did not converge on the grid; narrow z_range")
    psi = _avg(p, "dphi", dg)
    dA, okA = stationary_variance(p, A)
    if not np.all(okA):
        raise FloatingPointError("Delta0 did not converge at some targets")
    psiA = _avg(p, "dphi", dA)
    nA, nm = A.size, snm.size
    snI = A[:, None] / psiA[:, None] - A[:, None] * snm[None, :]
    n_fixed = np.zeros((nA, nm), dtype=int)
    n_stable = np.zeros((nA, nm), dtype=int)
    # the target's dF/dz of stability_matrix, one cell at a time there: its four Gaussian
    # averages depend only on the target's Delta0, so they are taken once per target
    if p.phi != "relu":
        for d in dA:
            check_quadrature(float(d), "delta0", float(d))
    M11 = p.g**2 * (_avg(p, "dphi2", dA) + _avg(p, "phi_ddphi", dA))
    M12 = 2 * (p.var_m * A + p.cov_mI)
    a = snm[None, :] * _avg(p, "dphi", dA)[:, None]
    b = 0.5 * (snm[None, :] * A[:, None] + snI) * _avg(p, "dddphi", dA)[:, None]
    slope = a + b * M12[:, None] / (1 - M11)[:, None]
    n_open = 0
    for i in range(nA):
        G = (snm[:, None] * zg[None, :] + snI[i][:, None]) * psi[None, :] - zg[None, :]
        sg = np.sign(G)
        cross = sg[:, :-1] * sg[:, 1:] < 0
        n_fixed[i] = cross.sum(axis=1)
        n_stable[i] = (cross & (G[:, 1:] < G[:, :-1])).sum(axis=1)
        n_open += int(np.count_nonzero(~((G[:, 0] > 0) & (G[:, -1] < 0))))
    target_ok = slope < 1
    cls = np.where(~target_ok, 3, np.where(n_stable > 1, 2, np.where(snm[None, :] <= 0, 0, 1)))
    messages = []
    if not np.all(np.isfinite(slope)):
        messages.append(f"the target slope is not finite in {np.count_nonzero(~np.isfinite(slope))}"
                        " cells")
    if n_open:
        messages.append(f"F(z) - z does not have the signs at the ends of z_range that "
                        f"exclude roots outside it in {n_open} cells: widen z_range")
    return PhaseDiagram(A=A, overlap_nm=snm, overlap_nI=snI, n_fixed_points=n_fixed,
                        n_stable_fixed_points=n_stable, target_slope=slope, class_index=cls,
                        success=not messages, messages=tuple(messages))

