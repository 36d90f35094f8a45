r"""Certified enumeration of the closed-loop fixed points of networks with ``K <= 3``
fed-back readouts: a proof that none was missed in a stated region of readout values.

The reduction
-------------
At constant input ``u`` the closed loop is ``F(x) = -x + J phi(x) + W_fb z + c`` with
``z = W_out phi(x) + b_out`` (``b_out`` the readout intercept, zero by default) and
``c = W_in u + b``. With the readout clamped to ``z`` (shape
``(K,)``) the *open loop* has the fixed-point equation ``x = T_z(x) = J phi(x) + W_fb z + c``.
If ``L = ||J||_2 sup|phi'| < 1``, ``T_z`` is a contraction in the 2-norm
(``||phi(x) - phi(y)||_2 <= sup|phi'| ||x - y||_2``), so ``x(z)`` exists and is unique for
every ``z``, and every closed-loop fixed point is ``x(z*)`` for exactly one root ``z*`` of

    h(z) = W_out phi(x(z)) + b_out - z                                       (H)

(given a fixed point ``x``, ``z = W_out phi(x) + b_out`` is a root and ``x = x(z)``; given a
root, ``x(z*)`` is a fixed point). Roots of ``h`` and fixed points correspond one to one. This is
the finite-network counterpart of the mean-field ``G(z) = F(z) - z`` of Mastrogiuseppe &
Ostojic (2019, eq. MF-z). For bounded ``phi`` every root lies in the default ``region``:
``|z_k - b_out[k]| <= sum_i |W_out[k, i]|`` for tanh, and ``z_k - b_out[k]`` between the
sums of the negative and of the positive weights of row ``k`` for the sigmoid (a hair
wider, so that no root sits on its boundary). The intercept is a constant of ``h``: it
moves neither ``Dh`` nor any bound below. ReLU has no such box and an unbounded
``phi''``: nothing is certified.

Bounds (derived here; ``s1 = sup|phi'|``, ``s2 = sup|phi''|``)
--------------------------------------------------------------
tanh: ``s1 = 1``, ``s2 = 4 / (3 sqrt 3)`` (at ``tanh x = 1/sqrt 3``); sigmoid:
``s1 = 1/4``, ``s2 = sqrt(3) / 18`` (at ``s = (3 +- sqrt 3) / 6``). ``||J||_2`` is bounded
above by the smallest of ``||J||_F``, ``sqrt(||J||_1 ||J||_inf)`` and the largest singular
value times ``1 + 1e-12 + 4 N eps`` (the SVD's backward error); ``L`` is that bound times
``s1``, and ``contraction`` reports it.

1. *Derivatives.* ``D = diag(phi'(x(z)))``; ``||J D||_2 <= L``, so ``(I - J D)`` is
   invertible with ``||(I - J D)^-1||_2 <= 1 / (1 - L)``. ``V = dx/dz = (I - J D)^-1 W_fb``
   (``(N, K)``), ``||V||_2 <= Vb = ||W_fb||_2 / (1 - L)``, and ``Dh = W_out D V - I``.
2. *Second derivatives.* Let ``Q = (sum_i ||V[i, :]||_2^4)^(1/4)`` (a norm of ``V``; for
   ``K = 1`` it is ``||v||_4``; ``Q <= ||V||_F <= sqrt(K) Vb``). For unit directions ``e``,
   ``e'`` in z-space, ``|V e|_i <= ||V[i, :]||_2`` and Cauchy-Schwarz give
   ``||phi''(x) . V e . V e'||_2 <= s2 Q^2``. Differentiating ``(I - J D) V = W_fb`` gives
   ``dV[e] = (I - J D)^-1 J diag(phi''(x) . V e) V``, and
   ``dDh[e] e' = W_out (phi'' . V e . V e') + W_out D dV[e] e'``, so

       ||dDh[e] e'||_2 <= ||W_out||_2 s2 Q^2 (1 + s1 ||J||_2 / (1 - L))
                        = ||W_out||_2 s2 Q^2 / (1 - L) =: M,                          (M2)

   the Lipschitz constant of ``Dh`` (2-norms) on any convex set where ``Q`` is so bounded
   (row ``k`` of ``Dh`` alone: ``||W_out[k]||_2`` in place of ``||W_out||_2``). For
   ``K = 1``: ``|h''| <= s2 ||w||_2 ||v||_4^2 / (1 - L)``.
3. *Local bounds of Q (a Riccati comparison).* The row norms of ``V`` change at most by
   the row norms of ``dV[e]``, whose 4-norm is at most ``||dV[e]||_F <= gamma Q^2`` with
   ``gamma = ||J||_2 s2 / (1 - L)`` (since
   ``||diag(a) V||_F^2 = sum_i a_i^2 ||V_i||^2 <= ||a||_4^2 Q^2`` and ``||V e||_4 <= Q``).
   So ``dQ/dt <= gamma Q^2`` along any unit-speed segment, and
   ``Q(z) <= Q(a) / (1 - gamma Q(a) |z - a|)`` while the denominator is positive. On an
   interval ``[a, b]`` the smaller of the bounds from the two ends is at most
   ``2 / (1/Q(a) + 1/Q(b) - gamma (b - a))`` (their crossing); on the ball of radius
   ``rho`` around ``c`` it is ``1 / (1/Q(c) - gamma rho)``. All are capped at
   ``sqrt(K) Vb``. (This replaces a Gronwall bound ``exp(beta |z - a|)``, whose rate
   ``beta = ||J||_2 s2 Vb / (1 - L)`` uses the global ``Vb`` and is far looser.)
4. *Error of the computed point.* A computed ``x~`` with ``r = ||T_z(x~) - x~||_2`` is within
   ``||x~ - x(z)||_2 <= r / (1 - L)`` of the exact one (contraction). This moves ``h_k`` by
   at most ``s1 ||W_out[k]||_2 r / (1 - L)``; the computed ``V~`` has the residual
   ``W_fb - (I - J D~) V~`` against the computed ``D~`` and, against the exact ``D``, an
   extra ``||J||_2 s2 ||x~ - x||_2 ||V~||_F``, so ``||V~ - V||_F <= (its residual)_F / (1 - L)``
   (which also bounds the error of ``Q``); row ``k`` of ``Dh`` moves by at most
   ``||W_out[k]||_2 (s2 ||x~ - x||_2 ||V~||_F + s1 ||V~ - V||_F)``. Every test adds these
   errors and a rounding margin (``(N + 4) eps`` times the sums of absolute values).

The tests
---------
``K = 1`` (intervals ``[a, b]`` with ``h, h'`` at both ends): *exclusion* when ``h(a)``,
``h(b)`` have one certain sign and ``|h(a)| + |h(b)| > Lip (b - a)`` with
``Lip = (|h'(a)| + |h'(b)| + M (b - a)) / 2`` (``|h'|`` is ``M``-Lipschitz, and a root at
``z0`` needs ``|h(a)| <= Lip (z0 - a)`` and ``|h(b)| <= Lip (b - z0)``); *uniqueness* when
``h'(a)``, ``h'(b)`` have one certain sign and ``(|h'(a)| + |h'(b)| - M (b - a)) / 2 > 0``
(a lower bound of ``|h'|`` on ``[a, b]``): ``h`` is monotone, so there is exactly one root
if the end signs differ and none otherwise. Otherwise the interval is bisected (shifting
the split point where ``h`` there is too small to have a certain sign).

``K = 2, 3`` (boxes with centre ``c``, half-widths ``hw``, ``rho = ||hw||_2``): *exclusion*
when for some ``k``, ``|h_k(c)| > sum_j |Dh_kj(c)| hw_j + (error) rho + M_k rho^2 / 2``
(Taylor with the Lipschitz bound of row ``k``), or
``|h_k(c)| > hw_k + s1 ||W_out[k]||_2 ||x(z) - x(c)||_2`` with
``||x(z) - x(c)||_2 <= min(||W_fb||_2 rho, sum_j ||W_fb[:, j]||_2 hw_j) / (1 - L)`` (the
contraction; this needs no second derivative and serves large boxes). *Existence and
uniqueness* (a Krawczyk-type ball test): with ``Y ~ Dh(c)^-1``, ``g(z) = z - Y h(z)`` has
``||Dg(z)||_2 <= q = ||I - Y Dh(c)||_2 + ||Y||_2 M rho`` on the ball ``B(c, rho)`` (which
holds the box) and ``||g(c) - c||_2 <= a = ||Y h(c)||_2``. If ``a + q rho < rho`` then ``q < 1``:
``Y`` is invertible (so fixed points of ``g`` are the roots of ``h``), ``g`` contracts on the
ball (at most one root there) and maps ``B(c, a / (1 - q))`` into itself (exactly one
root there). If ``a_lower > (1 + q) rho`` with ``q < 1`` the ball holds no root. Where the
box's own ball fails but ``||Dh(c)^-1|| M rho < 1``, a few Newton steps on ``h`` from ``c``
give ``z~``, and the same test on a ball around ``z~`` that contains the box (radius twice,
else once, the distance to its farthest corner) certifies the box; later boxes inside a
certified ball are resolved without evaluation (at most one root there, already found). Roots
certified from overlapping balls are merged: two refined roots are one root when one lies
in the other's uniqueness ball or they agree to ``1e-11 (1 + |z|)``. Boxes that pass no
test are bisected along their longest side, down to ``min_width``; what remains (or what
``max_boxes`` leaves unexamined) is reported in ``undecided``.

Every certified root is refined (Brent on ``h`` for ``K = 1``, Newton on ``h`` for ``K > 1``)
and polished by Newton on the closed-loop ``F`` to ``max|F| < tol``; its readout must stay in
its certified interval or ball.

Speed: ``x(z)`` is found by chord steps ``x += (I - J D_0)^-1 F_open(x)`` with the LU of a
nearby point, refactored only when the proved chord rate
``||J||_2 s2 ||x - x_0||_inf / (1 - L)`` exceeds 0.3; ``V`` by iterative refinement with the
same factorisation (applied by triangular solves). ``n_lu`` counts the LU factorisations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
import scipy.optimize
from scipy.linalg.blas import dgemm, dgemv
from scipy.linalg.lapack import dgetrf, dgetrs

from .._checks import as_float_array, as_int, as_positive_float
from .._results import PointSetMixin
from ..network import Network
from ._bounds import norm2_upper
from ._closed_loop import _ClosedLoop, _newton

__all__ = ["Certificate", "certify_fixed_points"]

_EPS = np.finfo(np.float64).eps
#: sup|phi'| and sup|phi''| of the bounded nonlinearities.
_SUP1 = {"tanh": 1.0, "sigmoid": 0.25}
_SUP2 = {"tanh": 4.0 / (3.0 * math.sqrt(3.0)), "sigmoid": math.sqrt(3.0) / 18.0}
#: Chord steps with a stale LU are used while their proved contraction rate is below this.
_CHORD_RATE = 0.3


@dataclass(frozen=True, eq=False, repr=False)
class Certificate(PointSetMixin):
    """A certified enumeration of the closed-loop fixed points in a region of readout values.

    A point collection (``cert[mask]``, ``cert[i]``): the per-point fields ``z``, ``x`` and
    ``root_boxes`` are selected, the others kept. See :mod:`reservoir.analysis.certify` for
    the bounds and tests behind the verdict.

    Attributes
    ----------
    complete : bool or None
        ``True``: proved that every fixed point whose readout lies in ``region`` is listed
        (each part of the region was excluded or proved to hold exactly one root of
        ``h(z) = W_out phi(x(z)) + b_out - z``, and each such root was refined to a fixed
        point).
        ``None``: not decided (the open loop is not proved contracting, ``phi = "relu"``,
        boxes stayed undecided, or a root could not be refined; ``messages`` say which).
        ``False``: known to be incomplete (not produced by the present tests).
    region : ndarray, shape (K, 2)
        ``[lo, hi]`` of each readout (readout units): the box that was certified. The
        default contains every fixed point of a tanh or sigmoid network.
    z : ndarray, shape (P, K)
        Readouts ``W_out phi(x) + b_out`` of the certified fixed points (readout units),
        sorted by the first readout. Per point.
    x : ndarray, shape (P, N)
        The fixed points (state units), ``max|F(x)| < tol``. Per point.
    root_boxes : ndarray, shape (P, K, 2)
        The interval (``K = 1``) or box (``K > 1``) in which each root was proved to be the
        only one (for ``K > 1`` the root lies in the ball around the box that circumscribes
        it). Per point.
    undecided : ndarray, shape (Q, K, 2)
        Boxes that were neither excluded nor certified (at ``min_width``, or left when
        ``max_boxes`` was reached); roots may hide there.
    contraction : float
        The proved upper bound ``L`` on ``||J||_2 sup|phi'|`` (dimensionless; NaN for ReLU);
        the certificate needs ``L < 1``.
    derivative_bound : float
        The largest Lipschitz bound ``M`` of ``h'`` (``K = 1``) or of ``Dh`` (``K > 1``) used
        in a test (1 / readout units).
    n_boxes : int
        Intervals or boxes examined.
    n_lu : int
        LU factorisations computed (the dominant cost, ``O(N^3)`` each).
    success : bool
        The certification ran as intended: the method applies (bounded ``phi``, proved
        contracting open loop) and every certified root was refined to a fixed point.
        Undecided boxes leave it True (``complete`` says what was proved).
    messages : tuple of str
        Everything worth knowing (empty when there is nothing to say).
    """

    complete: bool | None
    region: np.ndarray
    z: np.ndarray
    x: np.ndarray
    root_boxes: np.ndarray
    undecided: np.ndarray
    contraction: float
    derivative_bound: float
    n_boxes: int
    n_lu: int
    success: bool
    messages: tuple

    _point_fields = ("z", "x", "root_boxes")


# --------------------------------------------------------------------------- bounds

def _norm2_upper(A: np.ndarray) -> float:
    """A proved upper bound of the spectral norm of ``A`` (:func:`._bounds.norm2_upper`)."""
    return norm2_upper(A)


class _Point:
    """The open-loop fixed point at one clamped ``z`` with derivative and error bounds."""

    __slots__ = ("z", "x", "h", "eh", "Dh", "eD", "V", "Q")


class _Evaluator:
    """Computes ``x(z)``, ``h``, ``Dh``, ``V`` and their proved error bounds, reusing an LU."""

    def __init__(self, sys: _ClosedLoop, jn: float, L: float, s1: float, s2: float):
        self.sys = sys
        self.J = sys.J
        self.N = sys.N
        self.W_fb = np.asarray(sys.W_fb, dtype=np.float64)
        self.W_out = np.asarray(sys.W_out, dtype=np.float64)
        self.K = self.W_out.shape[0]
        self.b_out = np.asarray(sys.b_out, dtype=np.float64)
        self.c = sys.c
        # Fortran-ordered transposes: dgemv(trans=1) / dgemm(trans_a=1) give A v and A X
        # on SciPy's BLAS (mixing NumPy's and SciPy's BLAS in a loop is slow on 2 cores)
        self.JT = np.asarray(self.J, dtype=np.float64).T
        self.FbT = self.W_fb.T
        self.OutT = self.W_out.T
        self.absOutT = np.abs(self.W_out).T
        self.jn, self.L, self.s1, self.s2 = jn, L, s1, s2
        self.gap = 1.0 - L
        self.round = (self.N + 4) * _EPS
        self.fro_J = float(np.sqrt(np.sum(self.J ** 2)))
        self.nw = np.sqrt(np.sum(self.W_out ** 2, axis=1)) * (1 + 1e-12)   # ||W_out[k]||_2
        self.nW_out = _norm2_upper(self.W_out)
        self.nW_fb = _norm2_upper(self.W_fb)
        self.col_fb = np.sqrt(np.sum(self.W_fb ** 2, axis=0)) * (1 + 1e-12)
        self.Vb = self.nW_fb / self.gap
        self.gamma = jn * s2 / self.gap
        # V = W_fb + (I - J D)^-1 J D W_fb, so Q(V) <= Q(W_fb) + L ||W_fb||_F / (1 - L)
        fro_fb = float(np.linalg.norm(self.W_fb))
        q_fb = float(np.sum(np.sum(self.W_fb ** 2, axis=1) ** 2) ** 0.25)
        self.Qcap = min(fro_fb / self.gap, q_fb + L * fro_fb / self.gap) * (1 + 1e-12) \
            + 4 * self.round * fro_fb
        self.lu = None
        self.lu_x = None

    def _factor(self, x):
        A = self.sys.minus_jacobian(x, closed=False)
        # the LU factors (LAPACK getrf), applied by triangular solves (getrs); the chord
        # steps only need an approximate inverse, the error bounds come from the residuals.
        # (An explicit inverse by getri cost ten LU factorisations at N = 2000.)
        self.sys.n_lu += 1
        lu, piv, info = dgetrf(A, overwrite_a=True)
        if info != 0 or not np.all(np.isfinite(np.diag(lu))):
            raise np.linalg.LinAlgError("I - J D is singular to working precision")
        self.lu = (lu, piv)
        self.lu_x = x.copy()

    def solve(self, B):
        """``(I - J D)^-1 B`` at the last factorised state, ``B`` of shape (N,) or (N, K)."""
        X, info = dgetrs(self.lu[0], self.lu[1], B)
        if info != 0:
            raise np.linalg.LinAlgError("I - J D is singular to working precision")
        return X

    def _rate(self, x):
        if self.lu is None:
            return np.inf
        return self.jn * self.s2 * float(np.max(np.abs(x - self.lu_x))) / self.gap

    def _F_open(self, x, z):
        return -x + self.mv(self.JT, self.sys.phi(x)) + self.mv(self.FbT, z) + self.c

    @staticmethod
    def mv(AT, v):
        """``A v`` for ``AT = A.T`` (SciPy BLAS)."""
        return dgemv(1.0, AT, v, trans=1)

    def JX(self, X):
        """``J X`` for an ``(N, K)`` array (SciPy BLAS)."""
        return dgemm(1.0, self.JT, X, trans_a=1)

    def solve_x(self, z, x0):
        """Open-loop fixed point at ``z`` from the guess ``x0`` (chord/Newton steps,
        fixed-point steps as a fallback)."""
        x = np.array(x0, dtype=np.float64, copy=True)
        F = self._F_open(x, z)
        nF = float(np.linalg.norm(F))
        scale = 1.0 + float(np.linalg.norm(x))
        stall = 0
        for _ in range(100):
            if nF <= 1e-15 * scale:
                break
            if self._rate(x) > _CHORD_RATE:
                self._factor(x)
            x_new = x + self.solve(F)
            F_new = self._F_open(x_new, z)
            n_new = float(np.linalg.norm(F_new))
            if not n_new < 0.5 * nF:
                # Newton from a fresh LU, else a plain contraction step
                if not np.array_equal(self.lu_x, x):
                    self._factor(x)
                    x_new = x + self.solve(F)
                    F_new = self._F_open(x_new, z)
                    n_new = float(np.linalg.norm(F_new))
                if not n_new < 0.5 * nF:
                    x_new = x + F
                    F_new = self._F_open(x_new, z)
                    n_new = float(np.linalg.norm(F_new))
            if not n_new < nF:
                stall += 1
                if stall >= 3:
                    break
            else:
                stall = 0
            if n_new <= nF or not np.isfinite(nF):
                x, F, nF = x_new, F_new, n_new
        return x

    def point(self, z, x0) -> _Point:
        z = np.asarray(z, dtype=np.float64)
        sys = self.sys
        x = self.solve_x(z, x0)
        r = phi = sys.phi(x)
        d = sys.dphi(x)
        Jr = self.mv(self.JT, r)
        fbz = self.mv(self.FbT, z)
        F = -x + Jr + fbz + self.c
        mag = (self.fro_J * float(np.linalg.norm(r)) + float(np.linalg.norm(x))
               + float(np.linalg.norm(fbz)) + float(np.linalg.norm(self.c)))
        res = float(np.linalg.norm(F)) + 4 * self.round * mag
        dx = res / self.gap                                   # ||x~ - x(z)||_2
        # V by iterative refinement with the current LU
        if self._rate(x) > _CHORD_RATE:
            self._factor(x)
        V = self.solve(self.W_fb)
        for _ in range(30):
            R = self.W_fb - (V - self.JX(d[:, None] * V))
            nR = float(np.linalg.norm(R))
            if nR <= 1e-15 * (1 + float(np.linalg.norm(V))):
                break
            step = self.solve(R)
            V_new = V + step
            R_new = self.W_fb - (V_new - self.JX(d[:, None] * V_new))
            if not float(np.linalg.norm(R_new)) < 0.5 * nR:
                if np.array_equal(self.lu_x, x):
                    break
                self._factor(x)
                continue
            V = V_new
        R = self.W_fb - (V - self.JX(d[:, None] * V))
        nVF = float(np.linalg.norm(V))
        magV = nVF + self.fro_J * nVF + float(np.linalg.norm(self.W_fb))
        resV = (float(np.linalg.norm(R)) + 4 * self.round * magV
                + self.jn * self.s2 * dx * nVF)
        eV = resV / self.gap                                  # ||V~ - V||_2
        p = _Point()
        p.z = z
        p.x = x
        hz = self.mv(self.OutT, phi) + self.b_out - z
        absmag = self.mv(self.absOutT, np.abs(phi)) + np.abs(self.b_out) + np.abs(z)
        p.h = hz
        p.eh = self.s1 * self.nw * dx + 4 * self.round * absmag + _EPS * self.nw
        DV = d[:, None] * V
        Dh = dgemm(1.0, self.OutT, DV, trans_a=1) - np.eye(self.K)
        p.Dh = Dh
        p.eD = (self.nw * (self.s2 * dx * nVF + self.s1 * eV)
                + 4 * self.round * dgemm(1.0, self.absOutT, np.abs(DV), trans_a=1).max(axis=1)
                + 4 * _EPS)
        p.V = V
        Q = float(np.sum(np.sum(V * V, axis=1) ** 2) ** 0.25)
        p.Q = min(self.Qcap, Q * (1 + 1e-12) + eV)
        return p

    def q_ball(self, Q0, radius):
        """Bound of ``Q`` on the ball of ``radius`` around a point where it is ``Q0``."""
        den = 1.0 / Q0 - self.gamma * radius if Q0 > 0 else np.inf
        return min(self.Qcap, 1.0 / den if den > 0 else np.inf) * (1 + 1e-12)

    def q_interval(self, Qa, Qb, width):
        """Bound of ``Q`` on an interval with ``Q = Qa``, ``Qb`` at its ends."""
        if Qa <= 0 or Qb <= 0:
            return self.q_ball(max(Qa, Qb), width)
        den = 0.5 * (1.0 / Qa + 1.0 / Qb - self.gamma * width)
        return min(self.Qcap, 1.0 / den if den > 0 else np.inf) * (1 + 1e-12)


# --------------------------------------------------------------------------- K = 1

def _certify_1d(ev: _Evaluator, region, min_width, max_boxes, tol, messages):
    lo, hi = region[0]
    s2, gap = ev.s2, ev.gap
    nw = float(ev.nw[0])
    A = ev.point(np.array([lo]), ev.c + ev.W_fb[:, 0] * lo)
    B = ev.point(np.array([hi]), A.x + A.V[:, 0] * (hi - lo))
    stack = [(A, B)]
    roots, undecided = [], []
    n_boxes = 0
    M_max = 0.0

    def sign(p):
        h, e = float(p.h[0]), float(p.eh[0])
        return 1 if h > e else (-1 if h < -e else 0)

    def dsign(p):
        d, e = float(p.Dh[0, 0]), float(p.eD[0])
        return 1 if d > e else (-1 if d < -e else 0)

    while stack:
        if n_boxes >= max_boxes:
            undecided.extend((float(a.z[0]), float(b.z[0])) for a, b in stack)
            messages.append(f"max_boxes = {max_boxes} reached: {len(stack)} interval(s) "
                            "left unexamined")
            break
        A, B = stack.pop()
        n_boxes += 1
        a, b = float(A.z[0]), float(B.z[0])
        w = b - a
        # local bounds of ||v||_2 and ||v||_inf from both ends (Gronwall)
        Qloc = ev.q_interval(A.Q, B.Q, w)
        M = s2 * nw * Qloc ** 2 / gap * (1 + 1e-12)
        M_max = max(M_max, M)
        sa, sb = sign(A), sign(B)
        ha = abs(float(A.h[0])) - float(A.eh[0])
        hb = abs(float(B.h[0])) - float(B.eh[0])
        da_hi = abs(float(A.Dh[0, 0])) + float(A.eD[0])
        db_hi = abs(float(B.Dh[0, 0])) + float(B.eD[0])
        if sa != 0 and sa == sb:
            lip = 0.5 * (da_hi + db_hi + M * w)
            if ha + hb > lip * w * (1 + 1e-12):
                continue                                      # excluded
        ta, tb = dsign(A), dsign(B)
        if ta != 0 and ta == tb:
            da_lo = abs(float(A.Dh[0, 0])) - float(A.eD[0])
            db_lo = abs(float(B.Dh[0, 0])) - float(B.eD[0])
            if 0.5 * (da_lo + db_lo - M * w * (1 + 1e-12)) > 0 and sa != 0 and sb != 0:
                if sa != sb:
                    roots.append((A, B))                      # exactly one root
                continue                                      # monotone, no sign change
        if w <= min_width:
            undecided.append((a, b))
            continue
        # split, shifting the split point where the sign of h there is not certain
        for t in (0.5, 0.5 - 1 / 7, 0.5 + 1 / 9, 0.5 - 1 / 5):
            zm = a + t * w
            Mp = ev.point(np.array([zm]), A.x + A.V[:, 0] * (zm - a))
            if sign(Mp) != 0:
                break
        stack.append((Mp, B))
        stack.append((A, Mp))
    return roots, undecided, n_boxes, M_max


def _refine_1d(ev: _Evaluator, A: _Point, B: _Point, tol):
    """The root of ``h`` in ``[a, b]`` (Brent), polished on the closed loop."""
    a, b = float(A.z[0]), float(B.z[0])
    cache = {"x": A.x}

    def h(zv):
        x = ev.solve_x(np.array([zv]), cache["x"])
        cache["x"] = x
        return float(ev.mv(ev.OutT, ev.sys.phi(x))[0]) + float(ev.b_out[0]) - zv

    ha, hb = float(A.h[0]), float(B.h[0])
    if ha == 0.0:
        zr = a
    elif hb == 0.0:
        zr = b
    else:
        try:
            zr = scipy.optimize.brentq(h, a, b, xtol=1e-15, rtol=4 * _EPS, maxiter=200)
        except ValueError:             # rounding made h's computed signs agree
            zr = 0.5 * (a + b)
    x0 = ev.solve_x(np.array([zr]), cache["x"])
    x, ok, _ = _newton(ev.sys, x0, tol, 30)
    zx = float(ev.mv(ev.OutT, ev.sys.phi(x))[0]) + float(ev.b_out[0])
    slack = 1e-9 * (1 + abs(a) + abs(b))
    inside = a - slack <= zx <= b + slack
    return x, np.array([zx]), bool(ok and inside)


# --------------------------------------------------------------------------- K = 2, 3

def _ball_test(ev: _Evaluator, P: _Point, rho: float):
    """The Krawczyk-type test on the ball ``B(P.z, rho)``. Returns ``("root", r_exist)``
    (exactly one root in the ball, within ``r_exist`` of the centre), ``("none", 0)`` (no
    root in the ball) or ``(None, M)`` (undecided; ``M`` the Lipschitz bound used)."""
    K = ev.K
    Qloc = ev.q_ball(P.Q, rho)
    M = ev.s2 * ev.nW_out * Qloc ** 2 / ev.gap * (1 + 1e-12)
    try:
        Y = np.linalg.inv(P.Dh)
    except np.linalg.LinAlgError:
        return None, M
    if not np.all(np.isfinite(Y)):
        return None, M
    nY = _norm2_upper(Y)
    nh = float(np.linalg.norm(P.h))
    Yh = float(np.linalg.norm(Y @ P.h))
    ehn = float(np.linalg.norm(P.eh))
    a_up = (Yh + nY * ehn) * (1 + 1e-12) + 4 * K * _EPS * nY * nh
    a_lo = Yh * (1 - 1e-12) - nY * ehn - 4 * K * _EPS * nY * nh
    q = (_norm2_upper(np.eye(K) - Y @ P.Dh) + nY * float(np.linalg.norm(P.eD))
         + 4 * K * _EPS * nY * float(np.abs(P.Dh).max()) + nY * M * rho) * (1 + 1e-12)
    if q < 1.0 and a_up + q * rho < rho:
        return "root", a_up / (1 - q)
    if q < 1.0 and a_lo > (1 + q) * rho:
        return "none", M
    return None, M


def _newton_h(ev: _Evaluator, P: _Point, steps: int = 8):
    """A few Newton steps on ``h`` from ``P``; the last point, or None if they diverge."""
    z, x = P.z, P.x
    n0 = float(np.linalg.norm(P.h))
    Q = P
    for _ in range(steps):
        try:
            step = np.linalg.solve(Q.Dh, Q.h)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(step)):
            return None
        z = Q.z - step
        Q = ev.point(z, Q.x - ev.mv(Q.V.T, step))
        if float(np.linalg.norm(step)) <= 1e-14 * (1 + float(np.linalg.norm(z))):
            break
    if not float(np.linalg.norm(Q.h)) < max(n0, 1e-300):
        return None
    return Q


def _certify_nd(ev: _Evaluator, region, min_width, max_boxes, tol, messages):
    K = ev.K
    s2, gap = ev.s2, ev.gap
    lo0, hi0 = region[:, 0].copy(), region[:, 1].copy()
    c0 = 0.5 * (lo0 + hi0)
    x_start = ev.solve_x(c0, ev.c + ev.mv(ev.FbT, c0))
    P0 = ev.point(c0, x_start)
    stack = [(lo0, hi0, P0)]
    found, undecided = [], []
    balls = []          # (centre, radius, index into found): each holds exactly one root
    n_boxes = 0
    M_max = 0.0
    while stack:
        if n_boxes >= max_boxes:
            undecided.extend((l, h) for l, h, _ in stack)
            messages.append(f"max_boxes = {max_boxes} reached: {len(stack)} box(es) left "
                            "unexamined")
            break
        lo, hi, parent = stack.pop()
        n_boxes += 1
        c = 0.5 * (lo + hi)
        hw = 0.5 * (hi - lo)
        rho = float(np.linalg.norm(hw)) * (1 + 1e-12)
        # inside a ball already proved to hold exactly one (known) root
        if any(float(np.linalg.norm(np.abs(c - bc) + hw)) * (1 + 1e-12) < br
               for bc, br, _ in balls):
            continue
        P = ev.point(c, parent.x + ev.mv(parent.V.T, c - parent.z))
        Qloc = ev.q_ball(P.Q, rho)
        Mk = s2 * ev.nw * Qloc ** 2 / gap * (1 + 1e-12)
        # exclusion: one readout cannot reach zero over the box
        lhs = np.abs(P.h) - P.eh
        rhs = (np.abs(P.Dh) @ hw + P.eD * rho + 0.5 * Mk * rho ** 2) * (1 + 1e-12)
        if np.any(lhs > rhs):
            M_max = max(M_max, float(Mk.max()))
            continue
        # exclusion from the global Lipschitz bound of x(z) (no second derivatives):
        # h_k(z) = h_k(c) - (z_k - c_k) + W_out[k] (phi(x(z)) - phi(x(c)))
        dxn = min(ev.nW_fb * rho, float(ev.col_fb @ hw)) / gap * (1 + 1e-12)
        if np.any(lhs - hw > ev.s1 * ev.nw * dxn * (1 + 1e-12)):
            continue
        verdict, val = _ball_test(ev, P, rho)
        if verdict == "root":
            found.append((c, rho, val, lo, hi, P))
            balls.append((c, rho, len(found) - 1))
            continue
        if verdict == "none":
            continue
        M_max = max(M_max, val)
        # Newton towards a root near the box, and a ball around it that covers the box
        # (only where a ball of the box's size could pass: ||Dh^-1|| M rho < 1)
        try:
            promising = _norm2_upper(np.linalg.inv(P.Dh)) * val * rho < 1.0
        except np.linalg.LinAlgError:
            promising = False
        R = _newton_h(ev, P) if promising else None
        if R is not None:
            reach = float(np.linalg.norm(np.abs(c - R.z) + hw)) * (1 + 1e-12)
            if reach <= 4 * rho:
                for rad in (2 * reach, reach * (1 + 1e-9)):
                    verdict, val = _ball_test(ev, R, rad)
                    if verdict == "root":
                        found.append((R.z, rad, val, lo, hi, R))
                        balls.append((R.z, rad, len(found) - 1))
                        break
                if verdict == "root":
                    continue
        j = int(np.argmax(hw))
        if 2 * hw[j] <= min_width:
            undecided.append((lo, hi))
            continue
        mid = c[j]
        hi1 = hi.copy()
        hi1[j] = mid
        lo2 = lo.copy()
        lo2[j] = mid
        stack.append((lo2, hi.copy(), P))
        stack.append((lo.copy(), hi1, P))
    return found, undecided, n_boxes, M_max


def _refine_nd(ev: _Evaluator, item, tol):
    """Newton on ``h`` inside the certified ball, then Newton on the closed loop."""
    c, rho, r_exist, lo, hi, P = item
    try:
        Y = np.linalg.inv(P.Dh)
    except np.linalg.LinAlgError:
        Y = np.eye(ev.K)
    z, x = P.z.copy(), P.x
    for _ in range(50):
        q = ev.point(z, x)
        x = q.x
        try:
            step = np.linalg.solve(q.Dh, q.h)
        except np.linalg.LinAlgError:
            step = Y @ q.h
        z_new = z - step
        if np.linalg.norm(z_new - c) > rho:          # stay in the ball: the safe iteration
            z_new = z - Y @ q.h
        done = np.linalg.norm(z_new - z) <= 1e-15 * (1 + np.linalg.norm(z))
        z = z_new
        if done:
            break
    x0 = ev.solve_x(z, x)
    xf, ok, _ = _newton(ev.sys, x0, tol, 30)
    zx = ev.mv(ev.OutT, ev.sys.phi(xf)) + ev.b_out
    inside = float(np.linalg.norm(zx - c)) <= rho * (1 + 1e-9) + 1e-12
    return xf, zx, bool(ok and inside)


# --------------------------------------------------------------------------- front end

def _default_region(net: Network) -> np.ndarray:
    W = np.asarray(net.W_out, dtype=np.float64)
    b0 = np.asarray(net.b_out, dtype=np.float64)[:, None]   # the readout's intercept
    if net.phi == "tanh":
        B = np.abs(W).sum(axis=1)
        return b0 + np.stack([-B * 1.001 - 1e-9, B * 1.001 + 1e-9], axis=1)
    neg = np.where(W < 0, W, 0.0).sum(axis=1)
    pos = np.where(W > 0, W, 0.0).sum(axis=1)
    pad = 1e-3 * (pos - neg) + 1e-9
    return b0 + np.stack([neg - pad, pos + pad], axis=1)


def certify_fixed_points(net: Network, u: ArrayLike | None = None, *,
                         region: ArrayLike | None = None, tol: float = 1e-10,
                         max_boxes: int = 20000, min_width: float = 1e-9) -> Certificate:
    """Enumerate the closed-loop fixed points of a network with ``K <= 3`` readouts, with a
    proof that none in ``region`` was missed.

    The fixed points at constant input are the roots of the ``K``-dimensional map
    ``h(z) = W_out phi(x(z)) + b_out - z`` (``x(z)``: the open-loop fixed point with the
    readout clamped to ``z``), one to one when the open loop contracts
    (``||J||_2 sup|phi'| < 1``). The region is subdivided into intervals (``K = 1``) or
    boxes, each excluded or proved to hold exactly one root (a Krawczyk-type test for
    ``K > 1``) from rigorous bounds on the derivatives of ``h``; see
    :mod:`reservoir.analysis.certify` for the derivation. The finite-network counterpart of
    the mean-field root search of Mastrogiuseppe & Ostojic (2019, eq. MF-z).

    Parameters
    ----------
    net : Network
        A network with ``phi`` in ``{"tanh", "sigmoid"}`` for a certificate (``"relu"``
        gives ``complete=None``) and ``K <= 3`` readouts.
    u : array_like, shape (M,), optional
        Constant input (default 0).
    region : array_like, shape (K, 2), optional
        ``[lo, hi]`` of each readout (readout units, ``lo < hi``). Default: the box implied
        by ``phi`` (a hair wider), which holds every fixed point, so ``complete=True``
        there means all fixed points.
    tol : float
        Each certified root is refined to a fixed point with ``max|F(x)| < tol`` (state
        units / time).
    max_boxes : int
        Most intervals or boxes examined; beyond it the rest is reported as undecided.
    min_width : float
        Intervals or box sides this narrow (readout units) are not split further; if they
        pass no test they are reported as undecided.

    Returns
    -------
    Certificate
        The certified fixed points, the undecided boxes and the bounds used, with
        ``complete``, ``success`` and ``messages``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an argument has the wrong type.
    ValueError
        If ``u`` or ``region`` has the wrong shape or is not finite, ``lo >= hi`` in
        ``region``, the network has more than 3 readouts, or ``tol``, ``max_boxes`` or
        ``min_width`` is out of range.
    """
    return _certify(net, u, region, tol, max_boxes, min_width, None)


def _certify(net, u, region, tol, max_boxes, min_width, _sys) -> Certificate:
    """:func:`certify_fixed_points`; ``_sys``: a search's :class:`_ClosedLoop` to share
    (its LU count and its bound of ``||J||_2``), or None."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    K = net.n_outputs
    if K > 3:
        raise ValueError(f"net must have K <= 3 readouts for certify_fixed_points, got K = {K}")
    u = np.zeros(net.n_inputs) if u is None else as_float_array(u, "u", 1, allow_empty=True)
    if u.shape != (net.n_inputs,):
        raise ValueError(f"u must have shape ({net.n_inputs},), got {u.shape}")
    tol = as_positive_float(tol, "tol")
    max_boxes = as_int(max_boxes, "max_boxes", minimum=1)
    min_width = as_positive_float(min_width, "min_width")
    if region is not None:
        region = as_float_array(region, "region", 2)
        if region.shape != (K, 2):
            raise ValueError(f"region must have shape ({K}, 2), got {region.shape}")
        if not np.all(region[:, 0] < region[:, 1]):
            raise ValueError(f"region must have lo < hi in every row, got {region.tolist()}")
    N = net.N
    messages: list = []

    def result(complete, region, z, x, boxes, undecided, L, M, n_boxes, n_lu, success):
        return Certificate(complete=complete, region=np.asarray(region, dtype=float),
                           z=z, x=x, root_boxes=boxes, undecided=undecided,
                           contraction=float(L), derivative_bound=float(M), n_boxes=n_boxes,
                           n_lu=n_lu, success=success, messages=tuple(messages))

    empty = (np.empty((0, K)), np.empty((0, N)), np.empty((0, K, 2)), np.empty((0, K, 2)))
    if net.phi not in _SUP1:
        messages.append(f"phi={net.phi!r}: sup|phi''| is unbounded and there is no default "
                        "region holding every fixed point, so no certificate is attempted "
                        "(complete=None); use find_fixed_points")
        reg = region if region is not None else np.full((K, 2), np.nan)
        return result(None, reg, *empty, np.nan, np.nan, 0, 0, False)
    if region is None:
        region = _default_region(net)
    s1, s2 = _SUP1[net.phi], _SUP2[net.phi]
    sys = _ClosedLoop(net, u) if _sys is None else _sys
    lu0 = sys.n_lu          # LU factorisations before (a shared search's own)
    jn = sys.J_norm2_upper()
    L = jn * s1
    if not L < 1.0:
        messages.append(f"x(z) not proved unique: ||J||_2 sup|phi'| = {jn:.6g} * {s1:g} = "
                        f"{L:.6g} >= 1, so roots of h need not be the fixed points one to "
                        "one; nothing was certified (complete=None)")
        return result(None, region, *empty, L, np.nan, 0, sys.n_lu - lu0, False)
    ev = _Evaluator(sys, jn, L, s1, s2)
    if K == 1:
        found, undecided, n_boxes, M = _certify_1d(ev, region, min_width, max_boxes, tol,
                                                   messages)
        refined = [(_refine_1d(ev, A, B, tol), np.array([[A.z[0], B.z[0]]]), None)
                   for A, B in found]
        und = np.array([[[a, b]] for a, b in undecided], dtype=float).reshape(-1, 1, 2)
    else:
        found, undecided, n_boxes, M = _certify_nd(ev, region, min_width, max_boxes, tol,
                                                   messages)
        refined = [(_refine_nd(ev, item, tol), np.stack([item[3], item[4]], axis=1),
                    (item[0], item[1])) for item in found]
        und = np.array([np.stack([l, h], axis=1) for l, h in undecided],
                       dtype=float).reshape(-1, K, 2)
    # merge roots certified from overlapping balls (K > 1), keep those in the region
    zs, xs, boxes, failed = [], [], [], 0
    balls = []
    for (x, z, ok), box, ball in refined:
        if not ok:
            failed += 1
            continue
        dup = False
        for i, zo in enumerate(zs):
            close = float(np.linalg.norm(z - zo)) <= 1e-11 * (1 + float(np.linalg.norm(z)))
            in_ball = any(b is not None and float(np.linalg.norm(w - b[0])) < b[1]
                          for w, b in ((z, balls[i]), (zo, ball)))
            if close or in_ball:
                dup = True
                break
        if dup:
            continue
        zs.append(z)
        xs.append(x)
        boxes.append(box)
        balls.append(ball)
    slack = 1e-9 * (1 + np.abs(region).max())
    keep = [i for i, z in enumerate(zs)
            if np.all(z >= region[:, 0] - slack) and np.all(z <= region[:, 1] + slack)]
    z_arr = np.array([zs[i] for i in keep], dtype=float).reshape(-1, K)
    x_arr = np.array([xs[i] for i in keep], dtype=float).reshape(-1, N)
    b_arr = np.array([boxes[i] for i in keep], dtype=float).reshape(-1, K, 2)
    order = np.lexsort(z_arr.T[::-1]) if z_arr.shape[0] else np.zeros(0, dtype=int)
    z_arr, x_arr, b_arr = z_arr[order], x_arr[order], b_arr[order]
    success = failed == 0
    if failed:
        messages.append(f"{failed} certified root(s) could not be refined to a fixed point "
                        f"with max|F| < tol = {tol:g} inside their certified box")
    if und.shape[0]:
        messages.append(f"{und.shape[0]} box(es) stayed undecided (see undecided): roots of "
                        "h may hide there (a double root, a root on a box boundary, or too "
                        "loose bounds)")
    complete = True if (success and und.shape[0] == 0) else None
    return result(complete, region, z_arr, x_arr, b_arr, und, L, M, n_boxes, sys.n_lu - lu0,
                  success)
