"""Bivariate Gaussian averages of tanh / sigmoid on a trapezoid disk rule (Numba kernel).

For element ``b``: ``X1 = sd1 u``, ``X2 = sd2 (rho u + sqrt(1 - rho^2) v)`` with ``u, v``
standard normal, discretised on the grid ``u_i = (i - n) h``, ``h = radius / n``
(``n = n_half[b]``), restricted to the disk ``u^2 + v^2 <= radius^2``, weights
``h^2 exp(-(u^2 + v^2)/2) / (2 pi)``. Returns the three sums

    <phi(X1) phi(X2)>,  <phi'(X1) phi'(X2)>,  <phi(X1) phi''(X2)>.

For tanh (odd) all three integrands are even under ``(u, v) -> (-u, -v)``, so only half
of the disk is visited. The plain-numpy reference is
``reservoir.meanfield.gaussian._trapezoid_2d`` (compared in the tests); the checked
interface is :func:`reservoir.meanfield.gaussian.bivariate_average`.
"""

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def pair_moments(sd1, sd2, rho, n_half, radius, code, out):
    """Fill ``out`` (3, B); ``code`` 0 = tanh, 1 = sigmoid."""
    B = sd1.size
    r2 = radius * radius
    inv = 1.0 / math.sqrt(2.0 * math.pi)
    for b in range(B):
        n = n_half[b]
        h = radius / n
        s = math.sqrt(max(0.0, 1.0 - rho[b] * rho[b]))
        a2 = sd2[b] * rho[b]
        c2 = sd2[b] * s
        wv = np.empty(2 * n + 1)
        for j in range(2 * n + 1):
            v = (j - n) * h
            wv[j] = h * inv * math.exp(-0.5 * v * v)
        K = 0.0
        Kc = 0.0
        E = 0.0
        last = n if code == 0 else 2 * n  # tanh: rows u <= 0 only
        for i in range(last + 1):
            u = (i - n) * h
            w1 = wv[i]
            rem = r2 - u * u
            if rem < 0.0:
                continue
            k = int(math.floor(math.sqrt(rem) / h + 1e-12))
            jlo = n - k
            jhi = n + k
            x1 = sd1[b] * u
            if code == 0:
                p1 = math.tanh(x1)
                d1 = 1.0 - p1 * p1
            else:
                p1 = 0.5 * (1.0 + math.tanh(0.5 * x1))
                d1 = p1 * (1.0 - p1)
            sK = 0.0
            sKc = 0.0
            sE = 0.0
            for j in range(jlo, jhi + 1):
                v = (j - n) * h
                f = 2.0
                if code == 0:
                    if i == n:
                        if j > n:
                            break
                        if j == n:
                            f = 1.0
                else:
                    f = 1.0
                w = f * wv[j]
                x2 = a2 * u + c2 * v
                if code == 0:
                    p2 = math.tanh(x2)
                    d2 = 1.0 - p2 * p2
                    dd2 = -2.0 * p2 * d2
                else:
                    p2 = 0.5 * (1.0 + math.tanh(0.5 * x2))
                    d2 = p2 * (1.0 - p2)
                    dd2 = d2 * (1.0 - 2.0 * p2)
                sK += w * p2
                sKc += w * d2
                sE += w * dd2
            K += w1 * p1 * sK
            Kc += w1 * d1 * sKc
            E += w1 * p1 * sE
        out[0, b] = K
        out[1, b] = Kc
        out[2, b] = E


def pair_moments_numpy(sd1, sd2, rho, n_half, radius, code):
    """Plain-numpy reference of :func:`pair_moments` (full disk, no symmetry)."""
    out = np.empty((3, sd1.size))
    for b in range(sd1.size):
        n = int(n_half[b])
        u = np.linspace(-radius, radius, 2 * n + 1)
        h = u[1] - u[0]
        w1 = h * np.exp(-0.5 * u**2) / np.sqrt(2 * np.pi)
        U, V = np.meshgrid(u, u, indexing="ij")
        W = np.outer(w1, w1) * (U**2 + V**2 <= radius**2 * (1 + 1e-12))
        s = np.sqrt(max(0.0, 1 - rho[b] ** 2))
        X1 = sd1[b] * U
        X2 = sd2[b] * (rho[b] * U + s * V)
        if code == 0:
            p1, p2 = np.tanh(X1), np.tanh(X2)
            d1, d2 = 1 - p1**2, 1 - p2**2
            dd2 = -2 * p2 * d2
        else:
            p1, p2 = 0.5 * (1 + np.tanh(0.5 * X1)), 0.5 * (1 + np.tanh(0.5 * X2))
            d1, d2 = p1 * (1 - p1), p2 * (1 - p2)
            dd2 = d2 * (1 - 2 * p2)
        out[:, b] = [(W * p1 * p2).sum(), (W * d1 * d2).sum(), (W * p1 * dd2).sum()]
    return out
