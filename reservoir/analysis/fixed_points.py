r"""Fixed points and slow points of the closed-loop network.

The closed loop with a constant input ``u`` has the vector field (state units)::

    F(x) = -x + J phi(x) + W_fb W_out phi(x) + c,        c = W_in u + b

and its fixed points are those of the Euler map too. Two methods find them:

**z-scan** (one readout, ``K = 1``). For a clamped readout value ``z`` the *open-loop*
network ``F_open(x; z) = -x + J phi(x) + W_fb z + c`` has a fixed point ``x(z)``; closed-loop
fixed points are the roots of the scalar function ``G(z) = W_out phi(x(z)) - z`` (the
finite-network counterpart of the mean-field ``G(z) = F(z) - z`` of Mastrogiuseppe &
Ostojic 2019). The curve
``x(z)`` is followed by continuation (tangent predictor ``dx/dz = (I - J D)^{-1} W_fb``,
Newton corrector with the analytic Jacobian, steps limited by the change of the rates),
every sign change of ``G`` is bracketed and refined (Brent in ``z``), then polished by full
N-dimensional Newton on ``F``. Two roots can hide inside one step (near a saddle-node
fold of the closed loop): each step is checked with the cubic Hermite interpolant through
``G`` and ``G' = W_out D dx/dz - 1`` at its ends (the tangent is already computed), and
subdivided, down to a minimum width, where the interpolant has interior sign changes, dips
towards zero, or the end slopes have opposite signs at small ``|G|``; what stays unresolved
at the minimum width is reported in ``unreliable``. Near-tangential roots (local minima of
``|G|`` close to 0) are tried with Newton as well. Where the open loop provably contracts
(``||J||_2 sup|phi'| < 1``), ``x(z)`` is unique and no fold alarm is raised. Where the scan is unreliable -- Newton fails, or
``det(I - J D)`` changes sign (a fold: ``x(z)`` is not unique there) -- the interval is
reported in ``unreliable``, not silently skipped.

For bounded ``phi`` every root lies in a known interval: ``|W_out phi| <= sum |W_out|``
for tanh, and ``z`` between the sums of the negative and of the positive readout weights
for the sigmoid. For ReLU no such bound exists; give ``z_range`` (the default is a guess
and a message says so).

**Slow-point search** (Sussillo & Barak 2013), for ``K > 1``, chaotic bulks, or to
complement an unreliable scan: seeds are sampled from closed-loop trajectories started at
random states (plus noise); each seed is driven to a minimum of ``q(x) = |F(x)|^2 / 2`` by
damped Newton steps, switching to Levenberg-Marquardt (Gauss-Newton with damping) where
Newton stalls. Minima with ``|F| < tol`` are fixed points; other local minima are *slow
points*. Duplicates are merged and points far from the seeds are dropped (distance
outliers, as in FixedPointFinder).

**Stability** is judged for the dynamics as simulated: the Euler map
``x -> x + alpha F(x)`` with the network's ``alpha = dt / tau``, whose multipliers are
``1 - alpha + alpha mu`` (``mu``: eigenvalues of the gain matrix ``(J + W_fb W_out) D`` at
the point). The flow's verdict (``Re(mu) < 1``) is reported beside it (``stable_flow``);
for ``alpha < 1`` the two differ only where multipliers leave the unit circle away from
``+1``, for ``alpha = 1`` (the maps BPTT trains) often. Eigenvalues within a rounding
tolerance of the boundary make a point ``"marginal"`` (undecided), and slow points are
never stable (see :class:`FixedPoints`).

All linear algebra inside the loops goes through SciPy's BLAS/LAPACK only (mixing NumPy's
and SciPy's OpenBLAS builds in one loop was measured 2.6x slower on two cores).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.optimize
from scipy.linalg.blas import dgemv

from .._checks import as_float_array, as_int, as_positive_float, as_rng
from .._deprecation import renamed_fields, renamed_kwargs
from .._results import PointSetMixin
from ..network import Network
from ..nonlinearities import get_nonlinearity
from .._simulate import simulate

KINDS = ("z-scan", "newton", "slow-point")


@renamed_fields(scan_z="z_grid", scan_h="G_grid", eigenvalues="jacobian_eigenvalues",
                kind="found_by")
@dataclass(frozen=True, eq=False, repr=False)
class FixedPoints(PointSetMixin):
    """Fixed (and slow) points of a closed-loop network, one row per point.

    A point collection: ``fps[mask]``, ``fps[i]``, ``fps[a:b]`` and ``fps[index_array]``
    return a :class:`FixedPoints` holding the selected points (for example
    ``fps[fps.stable]``); the per-point fields listed below are selected, every other
    field (the scan grid, ``u``, ``unreliable``, ``success``, ``messages`` and the
    counters) is kept as it is.

    Parameters
    ----------
    x : ndarray, shape (P, N)
        States (currents, state units). Per point.
    z : ndarray, shape (P, K)
        Readouts ``W_out phi(x)`` (readout units). Per point.
    residual : ndarray, shape (P,)
        ``max_i |F_i(x)|`` (state units); below ``tol`` for fixed points. Per point.
    jacobian_eigenvalues : ndarray of complex, shape (P, N)
        Eigenvalues of the flow Jacobian ``(-I + (J + W_fb W_out) D) / tau`` (units
        1/time; ``phi'(0) = 0`` on a ReLU kink), sorted by decreasing real part (second
        axis of length 0 if not computed). Per point. (Not the eigenvalues of the gain matrix ``(J + W_fb W_out) D``, which
        are dimensionless: those are :attr:`Spectrum.eigenvalues
        <reservoir.analysis.Spectrum>`.)
    multipliers : ndarray of complex, shape (P, N)
        Eigenvalues ``1 - alpha + alpha mu`` of the Jacobian of the Euler map
        ``x -> x + dt F(x) / tau`` that :func:`~reservoir.simulate` iterates (``alpha =
        dt / tau``, ``mu`` the eigenvalues of the gain matrix ``(J + W_fb W_out) D``;
        dimensionless), sorted by decreasing modulus (second axis of length 0 if not
        computed). Equal to ``1 + dt * jacobian_eigenvalues``. Per point.
    stable : ndarray of bool, shape (P,)
        The verdict of the dynamics as simulated (the Euler map): a fixed point (not a slow
        point) whose multipliers all lie inside the unit circle by more than the rounding
        tolerance ``marginal_tol``. Per point.
    stable_flow : ndarray of bool, shape (P,)
        The verdict of the flow ``tau dx/dt = F(x)``: a fixed point whose ``mu`` all have
        ``Re(mu) < 1`` by more than ``marginal_tol``. For ``alpha < 1`` it differs from
        ``stable`` only where multipliers leave the unit circle away from ``+1`` (through
        ``-1`` for real ones); for ``alpha = 1`` (the maps BPTT trains) often. A message
        names the points where the two differ. Per point.
    n_unstable : ndarray of int, shape (P,)
        Number of multipliers outside the unit circle by more than the tolerance (-1 if not
        computed, or undecided on a ReLU kink: see :attr:`stability`). Per point.
    n_marginal : ndarray of int, shape (P,)
        Number of multipliers within the tolerance of the unit circle (-1 as
        ``n_unstable``): their side is decided by rounding, not by the network. Per point.
    marginal_tol : ndarray of float, shape (P,)
        The rounding tolerance on the gain eigenvalues ``mu`` (dimensionless; NaN if not
        computed): ``N eps (1 + ||S||_F)``, with ``S = (J + W_fb W_out) D`` and ``eps`` the
        float64 machine epsilon, the backward error of the eigenvalue solver. An eigenvalue
        near the boundary (within ``1e-4 (1 + ||S||_F)``) gets this tolerance divided by
        its condition number ``s = |y^H x|`` (unit left and right eigenvectors ``y``, ``x``;
        ``s = 1`` for normal matrices, ``~sqrt(eps)`` for a defective eigenvalue), the
        first-order bound on its error; the value reported is the largest tolerance so
        applied. A gain eigenvalue is marginal for the flow when ``|Re(mu) - 1| <= tol``,
        a multiplier ``m`` marginal for the map when ``||m|^2 - 1| <= 2 alpha (1 + alpha
        |1 - mu|) tol`` (``|m|^2 - 1 = alpha (alpha |1 - mu|^2 - 2 Re(1 - mu))`` is computed
        without cancelling against 1). Per point.
    found_by : ndarray of str, shape (P,)
        ``"z-scan"`` (found by the scan), ``"newton"`` (a fixed point found by the
        slow-point search) or ``"slow-point"`` (a local minimum of ``q`` with ``|F| >= tol``).
        Per point.
    u : ndarray, shape (M,)
        The constant input.
    z_grid : ndarray, shape (n_grid,)
        The z-scan's grid of clamped readout values (readout units; empty without a scan).
    G_grid : ndarray, shape (n_grid,)
        ``G(z) = W_out phi(x(z)) - z`` on ``z_grid`` (readout units): the closed-loop fixed
        points are its roots. The same names as the mean-field solvers' grid and scalar
        function (:class:`reservoir.meanfield.MeanFieldSolution`).
    unreliable : tuple of (float, float, str)
        Intervals of ``z`` where the scan could not follow ``x(z)`` uniquely, with the
        reason.
    success : bool
        The scan covered its whole range with no unreliable interval (``method="scan"`` or
        ``"auto"`` with ``K = 1``), or at least one seed of the slow-point search reached a
        fixed point (``method="slow"``, and ``"auto"`` with ``K > 1``). This says the
        search ran as intended; it is not a proof that no fixed point was missed (the
        between-step check of the scan is a heuristic).
    messages : tuple of str
        Everything worth knowing about the search (empty when there is nothing to say).
    n_lu : int
        LU factorisations computed (the dominant cost, ``O(N^3)`` each).
    n_steps : int
        Continuation steps of the z-scan (0 without a scan).
    n_seeds : int
        Seeds of the slow-point search (0 when it did not run).
    """

    _point_fields = ("x", "z", "residual", "jacobian_eigenvalues", "multipliers", "stable",
                     "stable_flow", "n_unstable", "n_marginal", "marginal_tol", "found_by")

    x: np.ndarray
    z: np.ndarray
    residual: np.ndarray
    jacobian_eigenvalues: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    stable_flow: np.ndarray
    n_unstable: np.ndarray
    n_marginal: np.ndarray
    marginal_tol: np.ndarray
    found_by: np.ndarray
    u: np.ndarray
    z_grid: np.ndarray
    G_grid: np.ndarray
    unreliable: tuple
    success: bool
    messages: tuple
    n_lu: int
    n_steps: int
    n_seeds: int

    @property
    def counters(self) -> dict:
        """Deprecated: the counters as a dict; use ``n_lu``, ``n_steps``, ``n_seeds``."""
        warnings.warn("FixedPoints.counters is deprecated and will be removed in the next "
                      "release; use .n_lu, .n_steps and .n_seeds", DeprecationWarning,
                      stacklevel=2)
        return {"n_lu": self.n_lu, "n_steps": self.n_steps, "n_seeds": self.n_seeds}

    @property
    def is_fixed(self) -> np.ndarray:
        """True for fixed points, False for slow points.

        Returns
        -------
        ndarray of bool, shape (P,)
            ``found_by != "slow-point"``.
        """
        return self.found_by != "slow-point"

    @property
    def stability(self) -> np.ndarray:
        """The stability type of each point, for the dynamics as simulated (the Euler map).

        Returns
        -------
        ndarray of object (str), shape (P,)
            ``"slow"``: a slow point (``|F| >= tol``), never stable whatever its
            linearisation; ``"unstable"``: all ``N`` multipliers outside the unit circle;
            ``"saddle"``: some (but not all) outside; ``"marginal"``: none outside, but at
            least one within ``marginal_tol`` of the unit circle (linear stability is
            undecided: rounding, a continuum of fixed points, or a bifurcation);
            ``"stable"``: all inside by more than the tolerance (or, at a ReLU kink, proved
            by a contraction bound); ``"unknown"``: eigenvalues not computed
            (``compute_eigenvalues=False``), or a point on the kink of the ReLU (some
            ``|x_i| <= tol``), where phi is not differentiable and no contraction bound
            ``||(J + W_fb W_out) D||_2 < 1`` (``D = 1`` on the kinks) decides.
        """
        N = self.x.shape[1]
        nu, nm = self.n_unstable, self.n_marginal
        out = np.where(nu < 0, "unknown",
                       np.where(nu >= N, "unstable",
                                np.where(nu > 0, "saddle",
                                         np.where(nm > 0, "marginal", "stable"))))
        out = np.where(self.found_by == "slow-point", "slow", out)
        return out.astype(object)


class _ClosedLoop:
    """The closed-loop vector field of ``net`` at constant input, with dense algebra on
    SciPy's BLAS."""

    def __init__(self, net: Network, u: np.ndarray):
        self.net = net
        self.u = u
        self.N = net.N
        nl = get_nonlinearity(net.phi)
        self.phi, self.dphi = nl.phi, nl.dphi
        self.J = np.asarray(net.dense_J(), dtype=np.float64)
        self.JT = self.J.T  # Fortran-ordered view: dgemv(trans=1) computes J v
        self.c = net.W_in @ u + net.b
        self.W_fb = net.W_fb
        self.W_out = net.W_out
        self.col_sq = (self.J**2).sum(axis=0)  # sum_i J_ij^2, for the bulk radius
        self.Weff = self.J + net.W_fb @ net.W_out
        self.col_sq_eff = (self.Weff**2).sum(axis=0)  # for ||W_eff D||_F
        self.relu = net.phi == "relu"
        self.WeffT = self.Weff.T
        self.n_lu = 0

    def Jr(self, r):
        return dgemv(1.0, self.JT, r, trans=1)

    def F(self, x):
        """Closed-loop vector field (state units)."""
        r = self.phi(x)
        return -x + dgemv(1.0, self.WeffT, r, trans=1) + self.c

    def F_open(self, x, z):
        """Open-loop vector field with the readout clamped to ``z`` (shape (K,))."""
        return -x + self.Jr(self.phi(x)) + self.W_fb @ z + self.c

    def minus_jacobian(self, x, closed: bool):
        """``I - W D`` (the negated Jacobian of F or G), a new Fortran-ordered array."""
        W = self.Weff if closed else self.J
        A = np.asfortranarray(W * (-self.dphi(x))[None, :])
        A[np.diag_indices(self.N)] += 1.0
        return A

    def bulk_radius(self, x):
        """Predicted radius of the random bulk of ``J D``: ``sqrt(sum_ij J_ij^2 d_j^2 / N)``."""
        return float(np.sqrt(self.col_sq @ self.dphi(x) ** 2 / self.N))

    def lu(self, A):
        self.n_lu += 1
        return sla.lu_factor(A, overwrite_a=True, check_finite=False)


def _det_sign(lu_piv):
    lu, piv = lu_piv
    sign = np.prod(np.sign(np.diag(lu)))
    swaps = np.count_nonzero(piv != np.arange(piv.size))
    return sign * (-1.0) ** swaps


def _newton(sys: _ClosedLoop, x, tol, max_iter, z=None, lu=None, chord_iters=0):
    """Newton on F (``z is None``) or on F_open(., z). ``lu`` (of ``I - W D`` at a nearby
    point) is used for up to ``chord_iters`` cheap chord steps first. Returns
    ``(x, converged, residual)``."""
    closed = z is None
    res_fn = sys.F if closed else (lambda v: sys.F_open(v, z))
    x = np.array(x, dtype=np.float64, copy=True)
    R = res_fn(x)
    err = np.max(np.abs(R))
    it = 0
    while it < chord_iters and lu is not None and err >= tol:
        x_new = x + sla.lu_solve(lu, R, check_finite=False)
        R_new = res_fn(x_new)
        err_new = np.max(np.abs(R_new))
        if not np.isfinite(err_new) or err_new > 0.5 * err:
            break
        x, R, err = x_new, R_new, err_new
        it += 1
    for _ in range(max_iter):
        if err < tol:
            return x, True, err
        step = sla.lu_solve(sys.lu(sys.minus_jacobian(x, closed)), R, check_finite=False)
        # backtracking on the residual keeps Newton from jumping to another branch
        t = 1.0
        while t > 1e-4:
            x_new = x + t * step
            R_new = res_fn(x_new)
            err_new = np.max(np.abs(R_new))
            if np.isfinite(err_new) and err_new < (1 - 0.25 * t) * err:
                break
            t *= 0.5
        else:
            return x, False, err
        x, R, err = x_new, R_new, err_new
    return x, err < tol, err


def _z_range(net: Network, z_range, messages):
    if z_range is not None:
        lo, hi = (float(v) for v in z_range)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"z_range must be two finite numbers lo < hi, got {z_range}")
        return lo, hi
    w = net.W_out[0]
    if net.phi == "tanh":
        B = float(np.abs(w).sum())
        return -B * 1.001 - 1e-9, B * 1.001 + 1e-9
    if net.phi == "sigmoid":
        return float(w[w < 0].sum()) - 1e-9, float(w[w > 0].sum()) + 1e-9
    messages.append("phi='relu' has no bound on the readout: the default z_range (-10, 10) "
                    "is a guess; pass z_range to scan elsewhere")
    return -10.0, 10.0


def _start(sys: _ClosedLoop, z, tol):
    """Open-loop fixed point at clamped readout ``z``: Newton from the input-driven guess,
    else from the state a clamped simulation settles to."""
    x, ok, _ = _newton(sys, sys.c + sys.W_fb[:, 0] * z, tol, 50, z=np.array([z]))
    if not ok:
        T = 2000
        tr = simulate(sys.net, np.broadcast_to(sys.u, (T, sys.u.size)), mode="teacher",
                      targets=np.full((T, 1), z), record=())
        x, ok, _ = _newton(sys, tr.x_final, tol, 50, z=np.array([z]))
    return x, ok


_SUP_DPHI = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}


def _open_loop_contracts(sys: _ClosedLoop) -> bool:
    """Proof that ``x(z)`` is unique for every ``z``: ``||J||_2 sup|phi'| < 1`` (then
    ``x -> J phi(x) + c + W_fb z`` is a contraction). Cheap upper bounds of ``||J||_2``
    first, the exact norm for moderate ``N``."""
    sup = _SUP_DPHI.get(sys.net.phi)
    if sup is None:
        return False
    J = sys.J
    bound = min(float(np.sqrt(sys.col_sq.sum())),
                float(np.sqrt(np.abs(J).sum(axis=0).max() * np.abs(J).sum(axis=1).max())))
    if bound * sup < 1.0:
        return True
    # lower bounds of ||J||_2 (largest column norm, a few power iterations) spare the SVD
    # where the loop cannot be proved contracting this way
    lower = float(np.sqrt(sys.col_sq.max()))
    v = np.ones(sys.N) / np.sqrt(sys.N)
    for _ in range(8):
        w = J.T @ (J @ v)
        nw = np.linalg.norm(w)
        if nw == 0.0:
            break
        v = w / nw
    lower = max(lower, float(np.linalg.norm(J @ v)))
    if lower * sup >= 1.0:
        return False
    if sys.N <= 1500:
        return float(np.linalg.norm(J, 2)) * sup * (1 + 1e-12) < 1.0
    return False


def _hermite_flag(h0, d0, h1, d1, dz):
    """Whether the cubic Hermite interpolant through ``(h, h')`` at the two ends of a scan
    interval of width ``dz`` hints at roots the end values do not show: more interior
    sign changes than the ends show, an interior dip towards zero, or slopes of opposite
    signs at small ``|h|``."""
    s0, s1 = d0 * dz, d1 * dz
    # p(t) = h0 + s0 t + a t^2 + b t^3
    a = 3 * (h1 - h0) - 2 * s0 - s1
    b = 2 * (h0 - h1) + s0 + s1
    coeffs = np.array([b, a, s0, h0])
    with np.errstate(all="ignore"):
        r = np.roots(coeffs) if np.any(coeffs[:3] != 0) else np.array([])
    r = r[(np.abs(r.imag) < 1e-9) & (r.real > 0) & (r.real < 1)].real
    crossing = (h0 > 0) != (h1 > 0)
    if r.size != (1 if crossing else 0):
        return True
    if crossing:
        return False
    # interior extrema of p that dip towards zero
    with np.errstate(all="ignore"):
        c = np.roots([3 * b, 2 * a, s0]) if (b != 0 or a != 0) else np.array([])
    c = c[(np.abs(c.imag) < 1e-9) & (c.real > 0) & (c.real < 1)].real
    hmin, hmax = min(abs(h0), abs(h1)), max(abs(h0), abs(h1))
    for t in c:
        pt = abs(h0 + s0 * t + a * t * t + b * t ** 3)
        if pt < hmin and (pt < 0.1 * hmax or pt < abs(b)):
            return True
    # slopes of opposite signs with small |h|: the curve may turn round to zero inside
    if s0 * s1 < 0 and hmin < 0.5 * max(abs(s0), abs(s1)):
        return True
    return False


def _resolve_interval(sys, A, B, tol, w_min, roots, unreliable, extra, depth=0):
    """Check the scan interval between the points ``A`` and ``B`` (tuples
    ``(z, x, h, h', lu, v)``) with the Hermite test; subdivide where it is flagged (new
    points by Newton from the chord), refine sign changes into ``roots``, report
    intervals that stay flagged at width ``w_min`` in ``unreliable``. New scan points are
    appended to ``extra``."""
    za, xa, ha, da, lua, va = A
    zb, xb, hb, db, lub, vb = B
    dz = zb - za
    flagged = _hermite_flag(ha, da, hb, db, dz)
    if not flagged or abs(dz) <= w_min or depth > 60:
        if ha != 0.0 and hb != 0.0 and (ha > 0) != (hb > 0):
            roots.append(_refine_root(sys, (za, xa, ha), (zb, xb, hb), lua, tol))
        if flagged:
            unreliable.append((min(za, zb), max(za, zb),
                               "h(z) = W_out phi(x(z)) - z comes close to zero between scan "
                               "points (a fold of the closed loop, double root or root pair) "
                               "that subdivision down to the minimum width could not resolve"))
        return
    zm = 0.5 * (za + zb)
    xg = 0.5 * (xa + xb) + 0.125 * dz * (va - vb)   # cubic Hermite predictor of x(zm)
    xm, ok, _ = _newton(sys, xg, tol, 12, z=np.array([zm]), lu=lua, chord_iters=8)
    if ok:
        jump = np.linalg.norm(xm - xg) / np.sqrt(sys.N)
        ok = jump < 0.5 * (np.linalg.norm(xb - xa) / np.sqrt(sys.N)) + 10 * tol
    if not ok:
        if ha != 0.0 and hb != 0.0 and (ha > 0) != (hb > 0):
            roots.append(_refine_root(sys, (za, xa, ha), (zb, xb, hb), lua, tol))
        unreliable.append((min(za, zb), max(za, zb),
                           "h(z) may have roots between scan points, and Newton could not "
                           "follow x(z) inside the interval to check"))
        return
    lum = sys.lu(sys.minus_jacobian(xm, closed=False))
    vm = sla.lu_solve(lum, sys.W_fb[:, 0], check_finite=False)
    n = sys.W_out[0]
    hm = n @ sys.phi(xm) - zm
    dm = n @ (sys.dphi(xm) * vm) - 1.0
    extra.append((zm, hm, xm))
    M = (zm, xm, hm, dm, lum, vm)
    if hm == 0.0:
        roots.append(xm)
    _resolve_interval(sys, A, M, tol, w_min, roots, unreliable, extra, depth + 1)
    _resolve_interval(sys, M, B, tol, w_min, roots, unreliable, extra, depth + 1)


def _follow(sys: _ClosedLoop, z, x, z_end, tol, max_rate_step, dz_max, dz_min, roots,
            unreliable, contracts=False):
    """Continue x(z) from (z, x) towards z_end. Each step is checked with the derivative
    ``h'(z) = W_out D(x) dx/dz - 1`` at both ends (:func:`_resolve_interval`), which
    subdivides where roots may hide between scan points and refines sign changes into
    ``roots``; folds are added to ``unreliable``. ``contracts``: the open loop is proved
    contracting (``x(z)`` unique), so no fold alarm is raised. Returns the visited
    (z, G, x) lists and the z where following failed (None if z_end was reached)."""
    N = sys.N
    n = sys.W_out[0]
    m = sys.W_fb[:, 0]
    direction = 1.0 if z_end > z else -1.0
    lu = sys.lu(sys.minus_jacobian(x, closed=False))
    det_sign = _det_sign(lu)
    v = sla.lu_solve(lu, m, check_finite=False)   # dx/dz
    zs, hs, xs = [z], [n @ sys.phi(x) - z], [x]
    ds = n @ (sys.dphi(x) * v) - 1.0
    extra = []
    if hs[0] == 0.0:
        roots.append(x)
    chaotic_from = z if (not contracts and sys.bulk_radius(x) >= 1.0) else None

    def close_bulk_interval(z_stop):
        if chaotic_from is not None:
            unreliable.append((min(chaotic_from, z_stop), max(chaotic_from, z_stop),
                               "open-loop bulk radius >= 1: x(z) may not be unique (other "
                               "branches or chaos)"))

    def finish(z_fail):
        close_bulk_interval(z)
        for ze, he, xe in extra:
            zs.append(ze)
            hs.append(he)
            xs.append(xe)
        order = np.argsort(np.array(zs) * direction, kind="stable")
        return ([zs[i] for i in order], [hs[i] for i in order], [xs[i] for i in order],
                z_fail)

    while direction * (z_end - z) > 0:
        rem = abs(z_end - z)
        dr = np.linalg.norm(sys.dphi(x) * v) / np.sqrt(N)
        dz = min(dz_max, max_rate_step / max(dr, 1e-12))
        if dz >= rem - dz_min:
            dz = rem   # no sliver of width < dz_min left at the end of the range
        accepted = False
        while dz >= min(dz_min, rem):
            z_new = z_end if dz == rem else z + direction * dz
            x_pred = x + (z_new - z) * v
            x_new, ok, _ = _newton(sys, x_pred, tol, 12, z=np.array([z_new]), lu=lu,
                                   chord_iters=6)
            jump = np.linalg.norm(x_new - x_pred) / np.sqrt(N)
            if ok and (contracts or jump < 10 * max_rate_step):
                accepted = True
                break
            dz *= 0.5
        if not accepted and contracts:
            # x(z) is unique: any converged open-loop fixed point is the branch
            z_new = z + direction * min(rem, max(dz_min, min(dz_max, rem)))
            x_new, accepted = _start(sys, z_new, tol)
        if not accepted:
            return finish(z)
        if not contracts:
            radius = sys.bulk_radius(x_new)
            if radius >= 1.0 and chaotic_from is None:
                chaotic_from = z
            elif radius < 1.0 and chaotic_from is not None:
                close_bulk_interval(z_new)
                chaotic_from = None
        lu_new = sys.lu(sys.minus_jacobian(x_new, closed=False))
        s_new = _det_sign(lu_new)
        if s_new != det_sign and not contracts:
            unreliable.append((min(z, z_new), max(z, z_new),
                               "det(I - J D) changed sign: x(z) is not unique here"))
        det_sign = s_new
        v_new = sla.lu_solve(lu_new, m, check_finite=False)
        h_new = n @ sys.phi(x_new) - z_new
        d_new = n @ (sys.dphi(x_new) * v_new) - 1.0
        if h_new == 0.0:
            roots.append(x_new)
        A, B = (z, x, hs[-1], ds, lu, v), (z_new, x_new, h_new, d_new, lu_new, v_new)
        if direction < 0:
            A, B = B, A
        _resolve_interval(sys, A, B, tol, dz_min, roots, unreliable, extra)
        z, x, lu, v, ds = z_new, x_new, lu_new, v_new, d_new
        zs.append(z)
        hs.append(h_new)
        xs.append(x)
    return finish(None)


def _scan(sys: _ClosedLoop, z_range, tol, max_rate_step):
    """Continuation of x(z) over ``z_range``, from the low end upwards and, if that stops
    at a fold, from the high end downwards (a strong clamped readout makes x(z) unique at
    both ends). Returns roots, the scan arrays and the unreliable intervals."""
    lo, hi = z_range
    span = hi - lo
    dz_max, dz_min = span / 32, span * 1e-7
    roots, unreliable = [], []
    contracts = _open_loop_contracts(sys)
    x_lo, ok_lo = _start(sys, lo, tol)
    if not ok_lo:
        unreliable.append((lo, lo, "no open-loop fixed point found at the low end"))
        return roots, np.array([]), np.array([]), np.empty((0, sys.N)), unreliable
    zs, hs, xs, z_fail = _follow(sys, lo, x_lo, hi, tol, max_rate_step, dz_max, dz_min,
                                 roots, unreliable, contracts)
    if z_fail is not None:
        x_hi, ok_hi = _start(sys, hi, tol)
        if not ok_hi:
            unreliable.append((z_fail, hi, "Newton failed to follow x(z); no open-loop "
                                            "fixed point found at the high end"))
        else:
            zb, hb, xb, z_fail_b = _follow(sys, hi, x_hi, z_fail, tol, max_rate_step, dz_max,
                                           dz_min, roots, unreliable, contracts)
            if z_fail_b is not None:
                unreliable.append((z_fail, z_fail_b, "Newton failed to follow x(z) "
                                                     "(a fold, or no open-loop fixed point)"))
            zs, hs, xs = zs + zb[::-1], hs + hb[::-1], xs + xb[::-1]
    z_grid, G_grid, x_grid = np.array(zs), np.array(hs), np.array(xs)
    # near-tangential roots: interior local minima of |G| that come close to zero
    scale = max(1.0, float(np.max(np.abs(G_grid))))
    for k in range(1, G_grid.size - 1):
        a, b_, c_ = np.abs(G_grid[k - 1:k + 2])
        same = np.sign(G_grid[k - 1]) == np.sign(G_grid[k]) == np.sign(G_grid[k + 1])
        if same and b_ <= a and b_ <= c_ and b_ < 0.05 * scale:
            roots.append(x_grid[k])
    return roots, z_grid, G_grid, x_grid, unreliable


def _refine_root(sys, left, right, lu, tol):
    """Brent on G(z) between two scan points, x(z) by chord/Newton from the chord of the
    bracket; returns the starting state for the closed-loop polish."""
    (za, xa, ha), (zb, xb, hb) = left, right
    n = sys.W_out[0]
    cache = {}

    def h(zz):
        w = (zz - za) / (zb - za)
        xg = (1 - w) * xa + w * xb
        xx, ok, _ = _newton(sys, xg, tol, 12, z=np.array([zz]), lu=lu, chord_iters=8)
        cache[zz] = xx
        return n @ sys.phi(xx) - zz

    if ha == 0.0:
        return xa
    if hb == 0.0:
        return xb
    zr = scipy.optimize.brentq(h, za, zb, xtol=1e-13 * max(1.0, abs(za)), rtol=1e-15,
                               maxiter=100)
    return cache.get(zr, xa)


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


#: Eigenvalues closer than this (times ``1 + ||S||_F``) to the stability boundary get their
#: rounding tolerance widened by their condition number (covers Jordan blocks up to size 4,
#: whose eigenvalues move by ``eps^(1/k)``).
_NEAR_BOUNDARY = 1e-4


def _point_stability(sys: _ClosedLoop, x, alpha: float, kink_tol: float):
    """Linear stability of one point. Returns ``(nu, n_unstable, n_marginal, stable_flow,
    tol, kink)``: ``nu`` the eigenvalues of ``I - S`` (``S = W_eff D``); the map's counts and
    the flow's verdict; the rounding tolerance reported (``N eps (1 + ||S||_F)``, divided
    by the condition number of the eigenvalues near the flow's or the map's boundary);
    ``kink`` whether ``x`` sits on the kink of the ReLU (then the counts are -1 unless a
    contraction bound proves stability)."""
    d = sys.dphi(x)
    norm_S = float(np.sqrt(sys.col_sq_eff @ d**2))
    base = sys.N * np.finfo(np.float64).eps * (1.0 + norm_S)
    A = sys.minus_jacobian(x, True)
    nu = sla.eigvals(A, check_finite=False)
    band = _NEAR_BOUNDARY * (1.0 + norm_S)

    def near_boundary(nu):
        g = alpha * np.abs(nu) ** 2 - 2 * nu.real        # (|m|^2 - 1) / alpha
        return (np.abs(nu.real) <= band) | (np.abs(g) <= 2 * (1 + alpha * np.abs(nu)) * band)

    tol = np.full(nu.shape, base)
    near = near_boundary(nu)
    if near.any():
        # first-order error bound of each eigenvalue: backward error / condition number
        nu, vl, vr = sla.eig(A, left=True, right=True, check_finite=False)
        cond = np.abs(np.sum(vl.conj() * vr, axis=0)) / (
            np.linalg.norm(vl, axis=0) * np.linalg.norm(vr, axis=0))
        near = near_boundary(nu)
        tol = np.where(near, base / np.maximum(cond, np.finfo(np.float64).tiny), base)
    g = alpha * np.abs(nu) ** 2 - 2 * nu.real
    tol_g = 2 * (1 + alpha * np.abs(nu)) * tol
    n_unst = int(np.sum(g > tol_g))
    n_marg = int(np.sum(np.abs(g) <= tol_g))
    stable_flow = bool(np.all(nu.real > tol))
    tol_rep = float(tol.max()) if tol.size else base
    kink = bool(sys.relu and np.any(np.abs(x) <= kink_tol))
    if kink:
        # relu(y) - relu(x) = D' (y - x) near x, D' diagonal, phi'(x_i) off the kinks and in
        # [0, 1] on them: ||W_eff D_up||_2 < 1 (D_up = 1 on the kinks) makes both the flow
        # (log-norm <= -1 + ||W D'||) and the Euler map ((1 - alpha) + alpha ||W D'||)
        # contract near x
        d_up = np.where(np.abs(x) <= kink_tol, 1.0, d)
        if np.linalg.norm(sys.Weff * d_up[None, :], 2) < 1.0 - base:
            n_unst, n_marg, stable_flow = 0, 0, True
        else:
            n_unst, n_marg, stable_flow = -1, -1, False
    return nu, n_unst, n_marg, stable_flow, tol_rep, kink


@renamed_kwargs(eigenvalues="compute_eigenvalues")
def find_fixed_points(net: Network, u=None, *, method: str = "auto", z_range=None,
                      tol: float = 1e-10, max_rate_step: float = 0.1, n_seeds: int = 32,
                      seed_scale: float = 1.0, seed_noise: float = 0.1,
                      seed_duration: float = 20.0, max_iter: int = 100,
                      tol_unique: float = 1e-6, slow_tol_unique: float = 1e-3,
                      compute_eigenvalues: bool = True, rng=None) -> FixedPoints:
    """Find the fixed points of the closed loop at constant input ``u``.

    Parameters
    ----------
    net : Network
        The network (dense or sparse ``J``; the search uses dense algebra).
    u : array_like, shape (M,), optional
        Constant input (default 0).
    method : {"auto", "scan", "slow"}
        ``"scan"``: the z-scan (needs ``K = 1``); ``"slow"``: slow-point search;
        ``"auto"``: the scan for ``K = 1``, plus the slow-point search when the scan
        reports an unreliable interval, and the slow-point search alone for ``K > 1``.
    z_range : (float, float), optional
        Interval of readout values to scan (default: the bound implied by ``phi``).
    tol : float
        Fixed points satisfy ``max |F(x)| < tol`` (state units).
    max_rate_step : float
        Largest RMS change of the rates ``phi(x(z))`` per scan step.
    n_seeds : int
        Slow-point search: number of seeds.
    seed_scale : float
        Slow-point search: std of the random initial states of the seeding runs (state
        units).
    seed_noise : float
        Slow-point search: std of the noise added to the sampled states (state units).
    seed_duration : float
        Slow-point search: length of the seeding runs (time units).
    max_iter : int
        Iterations per seed of the slow-point search.
    tol_unique : float
        Two fixed points closer than this in max-norm (state units) are the same.
    slow_tol_unique : float
        Two slow points closer than this in max-norm (state units) are the same.
    compute_eigenvalues : bool
        Compute the eigenvalues of each point (``O(N^3)`` each) and the stability verdicts
        from them; without them ``stable`` and ``stable_flow`` are all False,
        ``n_unstable`` and ``n_marginal`` are -1 and ``stability`` is ``"unknown"``.
    rng : None, int, SeedSequence or Generator
        Seeds of the slow-point search.

    Returns
    -------
    FixedPoints
        ``P`` points sorted by their first readout, with ``success``, ``messages`` and the
        counters ``n_lu``, ``n_steps``, ``n_seeds``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network`, or an argument has the wrong type.
    ValueError
        If ``u`` has the wrong shape, ``method`` is unknown, ``method="scan"`` is asked for
        with ``K != 1``, ``z_range`` is not two finite numbers ``lo < hi``, or a tolerance,
        count or scale is out of range.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if method not in ("auto", "scan", "slow"):
        raise ValueError(f"method must be 'auto', 'scan' or 'slow', got {method!r}")
    u = np.zeros(net.n_inputs) if u is None else as_float_array(u, "u", 1, allow_empty=True)
    if u.shape != (net.n_inputs,):
        raise ValueError(f"u must have shape ({net.n_inputs},), got {u.shape}")
    tol = as_positive_float(tol, "tol")
    max_rate_step = as_positive_float(max_rate_step, "max_rate_step")
    n_seeds = as_int(n_seeds, "n_seeds", minimum=1)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    tol_unique = as_positive_float(tol_unique, "tol_unique")
    slow_tol_unique = as_positive_float(slow_tol_unique, "slow_tol_unique")
    seed_scale = as_positive_float(seed_scale, "seed_scale", allow_zero=True)
    seed_noise = as_positive_float(seed_noise, "seed_noise", allow_zero=True)
    seed_duration = as_positive_float(seed_duration, "seed_duration")
    K = net.n_outputs
    if method == "scan" and K != 1:
        raise ValueError(f"method='scan' needs one readout (K = 1), the network has K = {K}")
    sys = _ClosedLoop(net, u)
    messages, unreliable = [], []
    cand_x, cand_kind = [], []
    z_grid = G_grid = np.array([])
    x_grid = np.empty((0, net.N))
    n_steps = 0
    success = True
    if method in ("auto", "scan") and K == 1:
        zr = _z_range(net, z_range, messages)
        roots, z_grid, G_grid, x_grid, unreliable = _scan(sys, zr, tol, max_rate_step)
        n_steps = max(0, z_grid.size - 1)
        for x0 in roots:
            x, ok, _ = _newton(sys, x0, tol, 30)
            if ok:
                cand_x.append(x)
                cand_kind.append("z-scan")
        success = not unreliable
        if unreliable:
            messages.append(f"the z-scan is unreliable on {len(unreliable)} interval(s); "
                            + ("running the slow-point search too" if method == "auto"
                               else "use method='auto' or 'slow' to search there"))
    run_slow = method == "slow" or (method == "auto" and (K != 1 or unreliable))
    if run_slow:
        gen = as_rng(rng)
        seeds = _seed_states(net, u, n_seeds, gen, seed_scale, seed_noise, seed_duration)
        if K == 1 and unreliable:
            # unstable fixed points are rarely near trajectories: also start from the scanned
            # states and the input-driven guesses c + W_fb z inside the unreliable intervals
            extra = []
            for a, b, _ in unreliable:
                inside = (z_grid >= a) & (z_grid <= b)
                extra.extend(x_grid[inside])
                extra.extend(sys.c + sys.W_fb[:, 0] * zz for zz in np.linspace(a, b, 5))
            seeds = np.vstack([seeds] + [np.array(extra)] if extra else [seeds])
        centroid = seeds.mean(axis=0)
        spread = np.mean(np.linalg.norm(seeds - centroid, axis=1)) + 1e-12
        n_conv = 0
        for s in seeds:
            x, err, fixed = _minimise_q(sys, s, tol, max_iter)
            if np.linalg.norm(x - centroid) > 10 * spread:
                continue  # distance outlier
            n_conv += fixed
            cand_x.append(x)
            cand_kind.append("newton" if fixed else "slow-point")
        if method == "slow":
            success = n_conv > 0
        messages.append(f"slow-point search: {n_conv} of {len(seeds)} seeds reached a fixed "
                        "point")
    N = net.N
    if cand_x:
        X = np.array(cand_x)
        res = np.array([np.max(np.abs(sys.F(x))) for x in X])
        kinds = np.array(cand_kind, dtype=object)
        tols = np.where(kinds == "slow-point", slow_tol_unique, tol_unique)
        keep = _dedupe(X, res, kinds, tols)
        X, res, kinds = X[keep], res[keep], kinds[keep]
    else:
        X, res, kinds = np.empty((0, N)), np.empty(0), np.empty(0, dtype=object)
    Z = (net.W_out @ sys.phi(X).T).T if len(X) else np.empty((0, K))
    P = len(X)
    alpha = net.alpha
    slow = kinds == "slow-point"
    if compute_eigenvalues and P:
        ev, mult = [], []
        n_unst, n_marg = np.zeros(P, int), np.zeros(P, int)
        stable_flow, mtol, kink = np.zeros(P, bool), np.zeros(P), np.zeros(P, bool)
        for p, x in enumerate(X):
            nu, n_unst[p], n_marg[p], stable_flow[p], mtol[p], kink[p] = \
                _point_stability(sys, x, alpha, tol)
            lam = -nu / net.tau                             # flow Jacobian
            ev.append(lam[np.argsort(-lam.real, kind="stable")])
            m = 1.0 - alpha * nu                            # Euler-map multipliers
            mult.append(m[np.argsort(-np.abs(m), kind="stable")])
        ev, mult = np.array(ev), np.array(mult)
        stable = (n_unst == 0) & (n_marg == 0) & ~slow
        stable_flow &= ~slow
        if np.any(kink & ~slow):
            k = np.flatnonzero(kink & ~slow)
            undecided = int(np.sum(n_unst[k] < 0))
            messages.append(
                f"{k.size} fixed point(s) sit on the kink of the ReLU (|x_i| <= tol at some "
                "units), where phi is not differentiable: jacobian_eigenvalues use "
                "phi'(0) = 0; " + (f"stability is 'unknown' at {undecided} of them (no "
                                   "contraction bound ||W_eff D|| < 1 with D = 1 on the "
                                   "kinks)" if undecided else
                                   "a contraction bound proves them stable"))
    else:
        ev = np.empty((P, 0), dtype=complex)
        mult = np.empty((P, 0), dtype=complex)
        n_unst, n_marg = np.full(P, -1), np.full(P, -1)
        mtol = np.full(P, np.nan)
        stable = np.zeros(P, dtype=bool)
        stable_flow = np.zeros(P, dtype=bool)
        if P:
            messages.append("compute_eigenvalues=False: stability not computed")
    order = np.argsort(Z[:, 0], kind="stable") if P else np.arange(0)
    fps = FixedPoints(x=X[order], z=Z[order], residual=res[order],
                      jacobian_eigenvalues=ev[order], multipliers=mult[order],
                      stable=stable[order], stable_flow=stable_flow[order],
                      n_unstable=n_unst[order], n_marginal=n_marg[order],
                      marginal_tol=mtol[order], found_by=kinds[order], u=u, z_grid=z_grid,
                      G_grid=G_grid, unreliable=tuple(unreliable), success=bool(success),
                      messages=(), n_lu=sys.n_lu, n_steps=n_steps,
                      n_seeds=len(seeds) if run_slow else 0)
    if compute_eigenvalues and P:
        messages.extend(_stability_messages(fps, alpha))
    return dataclasses.replace(fps, messages=tuple(messages))


def _stability_messages(fps: FixedPoints, alpha: float) -> list:
    """Messages on slow, marginal and map-versus-flow points (rows after sorting)."""
    out = []
    fixed = fps.is_fixed
    rows = np.flatnonzero(~fixed)
    if rows.size:
        out.append(f"{rows.size} slow point(s) (rows {_rows(rows)}): |F| >= tol, so they are "
                   "not fixed and never called stable (stability 'slow')")
    rows = np.flatnonzero(fixed & (fps.stability == "marginal"))
    if rows.size:
        out.append(f"{rows.size} fixed point(s) marginal (rows {_rows(rows)}): a multiplier "
                   "lies within marginal_tol of the unit circle, so linear stability is "
                   "undecided (rounding, a continuum of fixed points, or a bifurcation)")
    stable_map = fps.stable
    rows = np.flatnonzero(fixed & (stable_map != fps.stable_flow))
    if rows.size:
        out.append(f"the Euler map (alpha = dt/tau = {alpha:g}) and the flow disagree at "
                   f"{rows.size} fixed point(s) (rows {_rows(rows)}): 'stable' and "
                   "'stability' are the map's verdict (the dynamics as simulated), "
                   "'stable_flow' the flow's")
    return out


def _rows(rows, k=8):
    text = ", ".join(str(int(r)) for r in rows[:k])
    return text + (", ..." if rows.size > k else "")
