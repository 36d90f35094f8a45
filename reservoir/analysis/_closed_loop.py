"""The closed-loop vector field at constant input, Newton's method on it, and the linear
stability of one point (the shared core of the fixed-point searches).

All linear algebra inside the loops goes through SciPy's BLAS/LAPACK only (mixing NumPy's
and SciPy's OpenBLAS builds in one loop was measured 2.6x slower on two cores).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla
from scipy.linalg.blas import dgemv

from ..network import Network
from ._bounds import norm2_upper
from ..nonlinearities import get_nonlinearity


class _ClosedLoop:
    """The closed-loop vector field of ``net`` at constant input, with dense algebra on
    SciPy's BLAS.

    The readout is ``z = W_out phi(x) + b_out``. The open loop (readout clamped to ``z``)
    has the constant drive ``c = W_in u + b``; the closed loop feeds back the intercept
    too, so its constant drive is ``c_closed = c + W_fb b_out`` (the same array as ``c``
    when ``b_out = 0``). ``readout(R)`` gives ``z`` for rates ``R`` (N,) or (P, N).
    """

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
        self.b_out = net.b_out
        self.c_closed = self.c + net.W_fb @ net.b_out if net.has_intercept else self.c
        self.col_sq = (self.J**2).sum(axis=0)  # sum_i J_ij^2, for the bulk radius
        self.Weff = self.J + net.W_fb @ net.W_out
        self.col_sq_eff = (self.Weff**2).sum(axis=0)  # for ||W_eff D||_F
        self.relu = net.phi == "relu"
        self.WeffT = self.Weff.T
        self.row_norm_eff = np.sqrt((self.Weff**2).sum(axis=1))  # for F's rounding level
        self.n_lu = 0
        self._J_norm2_upper = None
        self.branch_seeds = []  # open-loop states off the scanned branch (_zscan._scan)

    def Jr(self, r):
        return dgemv(1.0, self.JT, r, trans=1)

    def readout(self, R):
        """``W_out r + b_out`` for rates ``R`` of shape (N,) (returns (K,)) or (P, N)
        (returns (P, K)), readout units."""
        return (self.W_out @ R.T).T + self.b_out

    def F(self, x):
        """Closed-loop vector field (state units): ``-x + W_eff phi(x) + c_closed``."""
        r = self.phi(x)
        return -x + dgemv(1.0, self.WeffT, r, trans=1) + self.c_closed

    def F_rounding_level(self, x):
        """Componentwise rounding level of :meth:`F` at ``x`` (state units): ``eps (4 +
        sqrt(N)) (|x_i| + ||W_eff[i]||_2 ||phi(x)||_2 + |c_i|)``, the size of the terms
        bounded by Cauchy-Schwarz times a dot product's typical accumulated rounding. A
        residual below it carries no information about where a root lies."""
        r = self.phi(x)
        scale = np.abs(x) + self.row_norm_eff * np.linalg.norm(r) + np.abs(self.c_closed)
        return np.finfo(np.float64).eps * (4.0 + np.sqrt(self.N)) * scale

    def F_open(self, x, z):
        """Open-loop vector field with the readout clamped to ``z`` (shape (K,))."""
        return -x + self.Jr(self.phi(x)) + self.W_fb @ z + self.c

    def minus_jacobian(self, x, closed: bool):
        """``I - W D`` (the negated Jacobian of F or G), a new Fortran-ordered array."""
        W = self.Weff if closed else self.J
        A = np.asfortranarray(W * (-self.dphi(x))[None, :])
        A[np.diag_indices(self.N)] += 1.0
        return A

    def J_norm2_upper(self) -> float:
        """A proved upper bound of ``||J||_2`` (computed once, :func:`._bounds.norm2_upper`)."""
        if self._J_norm2_upper is None:
            self._J_norm2_upper = norm2_upper(self.J)
        return self._J_norm2_upper

    def bulk_radius(self, x):
        """Predicted radius of the random bulk of ``J D``: ``sqrt(sum_ij J_ij^2 d_j^2 / N)``."""
        return float(np.sqrt(self.col_sq @ self.dphi(x) ** 2 / self.N))

    def lu(self, A):
        self.n_lu += 1
        with warnings.catch_warnings():
            # an exactly singular matrix gives inf/NaN solves, which every caller checks
            warnings.simplefilter("ignore", sla.LinAlgWarning)
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


_SUP_DPHI = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}


def _open_loop_contracts(sys: _ClosedLoop) -> bool:
    """Proof that ``x(z)`` is unique for every ``z``: ``||J||_2 sup|phi'| < 1`` (then
    ``x -> J phi(x) + c + W_fb z`` is a contraction), with the proved bound of
    :meth:`_ClosedLoop.J_norm2_upper`."""
    sup = _SUP_DPHI.get(sys.net.phi)
    if sup is None:
        return False
    # a cheap lower bound (largest column norm) spares the bound where it cannot succeed
    if float(np.sqrt(sys.col_sq.max())) * sup >= 1.0:
        return False
    return sys.J_norm2_upper() * sup < 1.0


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
