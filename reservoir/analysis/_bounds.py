"""Proved matrix bounds in floating point: positive definiteness and spectral norms.

``proved_pd(M)`` is a sufficient test: a Cholesky factorisation of ``M - c I`` with
``c = 4 (n + 2) eps trace(M)`` succeeds. The computed factor ``R`` of a matrix ``B`` satisfies
``R^T R = B + E`` with ``|E| <= gamma_{n+1} |R^T| |R|`` (Demmel; Higham, *Accuracy and
Stability of Numerical Algorithms*, Thm 10.3), and ``|| |R^T| |R| ||_2 <= ||R||_F^2 =
trace(R^T R)``, so the shift ``c`` exceeds ``||E||_2`` and ``M`` is positive definite.
(Subnormal underflow is ignored: every matrix tested here has entries of order one.)

``norm2_upper(A)`` returns a proved upper bound of ``||A||_2``: the cheap bounds
``||A||_F`` and ``sqrt(||A||_1 ||A||_inf)``, and, for matrices, a power-iteration estimate
``mu`` verified by ``proved_pd(mu^2 I - A^T A - e I)`` where ``e = gamma_n ||A||_F^2``
bounds the rounding of the Gram matrix. It costs one symmetric rank-k product (``n^3``
flops for a square ``A``) and one Cholesky factorisation, a fraction of an SVD.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.linalg.blas import dsymv, dsyrk

_EPS = np.finfo(np.float64).eps


def proved_pd(M: np.ndarray) -> bool:
    """Whether the symmetric matrix ``M`` is proved positive definite (a copy is
    factorised; ``M`` is not changed). ``False`` means "not proved", not "indefinite"."""
    n = M.shape[0]
    if n == 0:
        return True
    tr = float(np.trace(M))
    if not (np.isfinite(tr) and tr > 0.0):
        return False
    B = np.array(M, dtype=np.float64, order="F", copy=True)    # upper triangle is read
    B[np.diag_indices(n)] -= 4.0 * (n + 2) * _EPS * tr
    try:
        sla.cholesky(B, lower=False, overwrite_a=True, check_finite=True)
        return True
    except (sla.LinAlgError, ValueError):
        return False


def _power_gram(G: np.ndarray, iters: int = 25, upper: bool = False) -> float:
    """Largest eigenvalue estimate of the symmetric PSD ``G`` (power iteration; ``upper``:
    only the upper triangle of ``G`` is set)."""
    v = np.ones(G.shape[0]) + 0.01 * np.arange(G.shape[0]) / max(G.shape[0], 1)
    lam = 0.0
    for _ in range(iters):
        w = dsymv(1.0, G, v, lower=0) if upper else G @ v
        nw = float(np.linalg.norm(w))
        if not (nw > 0.0 and np.isfinite(nw)):
            return 0.0 if nw == 0.0 else np.inf
        lam = nw / float(np.linalg.norm(v))
        v = w / nw
    return lam


def lambda_max_upper(S: np.ndarray, rounding: float = 0.0, upper: bool = False) -> float:
    """A proved upper bound of the largest eigenvalue of the symmetric ``S`` whose entries
    are known to within a perturbation of 2-norm ``rounding``; ``inf`` if none was proved.
    ``upper``: ``S`` is positive semidefinite and only its upper triangle is set."""
    n = S.shape[0]
    if n == 0:
        return 0.0
    est = _power_gram(S, upper=upper) if upper or np.all(np.diag(S) >= 0) else \
        float(np.max(np.abs(S).sum(axis=1)))
    if not np.isfinite(est):
        return np.inf
    scale = max(est, float(np.max(np.abs(np.diag(S)))), 1e-300)
    for factor in (1.01, 1.1, 1.5, 3.0):
        mu = factor * scale + rounding
        M = -S
        M[np.diag_indices(n)] += mu - rounding
        if proved_pd(M):
            return mu
    return np.inf


def norm2_upper(A: np.ndarray) -> float:
    """A proved upper bound of the spectral norm ``||A||_2``."""
    A = np.asarray(A, dtype=np.float64)
    if A.size == 0:
        return 0.0
    fro = float(np.sqrt(np.sum(A * A)))
    if not np.isfinite(fro):
        return np.inf
    cheap = min(fro, float(np.sqrt(np.abs(A).sum(axis=0).max() *
                                   np.abs(A).sum(axis=1).max())))
    cheap *= 1.0 + 1e-12
    if min(A.shape) <= 1:
        return cheap                       # a vector: the Frobenius norm is its 2-norm
    # the Gram matrix of the smaller side (upper triangle by dsyrk, then symmetrised)
    At = np.asfortranarray(A if A.shape[0] >= A.shape[1] else A.T)
    G = dsyrk(1.0, At, trans=1, lower=0)       # upper triangle only: all the tests read
    gram_err = 2.0 * (max(A.shape) + 2) * _EPS * fro * fro
    lam = lambda_max_upper(G, gram_err, upper=True)
    return min(cheap, float(np.sqrt(lam)) if np.isfinite(lam) else np.inf)
