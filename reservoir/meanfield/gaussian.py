r"""One- and two-dimensional Gaussian averages (Mastrogiuseppe & Ostojic 2019; Rivkind & Barak 2017).

**One dimension**: ``[f](mu, Delta) = \int Dz f(mu + sqrt(Delta) z)``, ``Dz`` standard
normal (the notation of Mastrogiuseppe & Ostojic 2019, section on the mean-field
equations). Two rules:

* ``method="accurate"`` (default, our choice): the trapezoid rule in ``z`` on ``[-10, 10]``.
  For an integrand analytic in a strip of half-width ``d`` around the real axis the
  trapezoid rule converges like ``exp(-2 pi d / h)``; ``tanh(mu + sqrt(Delta) z)`` has
  poles at imaginary distance ``pi / (2 sqrt(Delta))``, so the step is at most
  ``min(0.05, 0.25 / sqrt(Delta))`` (error ``< 1e-12``, checked against
  ``scipy.integrate.quad`` in the tests). Each element's grid depends on its own variance
  only, so a value never changes with the rest of the batch. The Gaussian tail beyond 10
  contributes ``< 1e-22``.
* ``method="gh200"``: 200-node Gauss-Hermite, the rule of Mastrogiuseppe & Ostojic's
  published code. Fine for ``Delta <~ 5`` but wrong at large variance (at
  ``Delta = 18.6`` it gives ``[phi''']`` with the wrong sign). Offered only to reproduce
  their published numbers.

For ReLU the averages have closed forms and are returned exactly. ``phi`` and its
derivatives come from the one table, :mod:`reservoir.nonlinearities`.

**Two dimensions**: ``E[f1(X1) f2(X2)]`` for zero-mean jointly Gaussian ``(X1, X2)``
(the pair averages of the least-squares theory and of Rivkind & Barak 2017's
multi-target theory). Trapezoid rule in the independent standard-normal variables
``(u, v)``, ``X1 = sqrt(D1) u``, ``X2 = sqrt(D2) (rho u + sqrt(1 - rho^2) v)``,
``rho = c / sqrt(D1 D2)``, on the disk ``u^2 + v^2 <= R^2`` (our choice: default
``R = 8``, discarded Gaussian mass ``exp(-32) = 1.3e-14``) with step
``h = min(0.2, 0.3 / sqrt(max(D1, D2)))``: for ``tanh`` the integrand is analytic in a
strip of half-width ``pi / (2 sqrt(max D))`` in each variable, so the error of
``<phi phi>`` is ``~ exp(-2 pi (pi/2) / 0.3) ~ 5e-15``; the derivative moments
(higher-order poles, e.g. ``sech^4``) are accurate to ~1e-11, enough for slopes (all
checked against ``scipy.integrate.dblquad`` and 1-D limits in the tests). A finer
``grid_step`` and larger ``grid_radius`` may be asked for (the multi-target theory does: its
correlation matrix is ill-conditioned). Each element's grid depends on its own variances
only. The sums run in a Numba kernel (:mod:`reservoir._kernels.gauss2d`, half of the disk
for odd ``tanh``). For ReLU the closed forms (arc-cosine kernel, Cho & Saul 2009) are used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import ndtr
from numpy.typing import ArrayLike

from .._checks import (as_callable, as_choice, as_float_array, as_int, as_positive_float,
                       check_memory)
from .._kernels.gauss2d import pair_moments
from ..nonlinearities import get_nonlinearity

_SQRT2PI = np.sqrt(2 * np.pi)

#: The functions of ``phi`` whose one-dimensional averages :func:`gaussian_average` offers.
WHICH = ("phi", "dphi", "ddphi", "dddphi", "phi2", "dphi2", "phi_ddphi", "phi_dphi", "logcosh")

#: Products of two table entries.
_PRODUCTS = {"phi2": ("phi", "phi"), "dphi2": ("dphi", "dphi"),
             "phi_ddphi": ("phi", "ddphi"), "phi_dphi": ("phi", "dphi")}

#: The nonlinearities of the two-dimensional averages.
_PHIS_2D = ("tanh", "sigmoid", "relu")

#: Default radius of the two-dimensional disk rule (standard-normal units).
_RADIUS = 8.0


# ----------------------------------------------------------------- one dimension
def quadrature_bytes(delta_max: float, n_points: int | None = None) -> float:
    """Peak bytes of the one-dimensional ``"accurate"`` rule at the largest variance.

    The rule uses ``400 * 2^k + 1`` points with step ``min(0.05, 0.25 / sqrt(delta))``
    in the standard-normal variable, and blocks of about 2e6 evaluations (floats, so a
    huge variance does not overflow).
    """
    if n_points is None:
        h = min(0.05, 0.25 / np.sqrt(max(float(delta_max), 1e-300)))
        k = max(0.0, np.ceil(np.log2(20.0 / h / 400.0) - 1e-12))
        n = 400.0 * 2.0**k + 1
    else:
        n = float(n_points)
    return 4 * 8.0 * max(2e6, n) + 3 * 8.0 * n


def check_quadrature(variance, name: str, value) -> None:
    """Raise ``ValueError`` naming ``name`` when the quadrature grid for ``variance``
    (largest entry; non-finite counts as infinite) cannot fit in physical memory."""
    v = np.asarray(variance, dtype=float)
    vmax = float(np.max(v)) if v.size else 0.0
    if not np.isfinite(vmax):
        raise ValueError(f"{name}={value!r} gives a non-finite variance")
    check_memory(quadrature_bytes(vmax), name, value,
                 what=f"the quadrature grid of a variance {vmax:.3g}")


def _family(phi: str, which: str):
    """The vectorised function ``which`` of the nonlinearity ``phi``, from the table."""
    nl = get_nonlinearity(phi)
    if which in ("phi", "dphi", "ddphi", "dddphi"):
        return getattr(nl, which)
    if which in _PRODUCTS:
        a, b = (getattr(nl, w) for w in _PRODUCTS[which])
        if a is b:
            return lambda x: a(x) ** 2
        return lambda x: a(x) * b(x)
    if which == "logcosh" and phi == "tanh":
        return nl.primitive
    raise ValueError(f"which must be one of {WHICH} ('logcosh' for tanh only), got "
                     f"{which!r}")


def _tanh_family(which):
    """The function ``which`` (an entry of :data:`WHICH`) of tanh."""
    return _family("tanh", which)


def _sigmoid_family(which):
    """The function ``which`` (an entry of :data:`WHICH` but ``"logcosh"``) of the sigmoid."""
    return _family("sigmoid", which)


def _relu_closed_form(which, mu, delta):
    sigma = np.sqrt(delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(sigma > 0, mu / np.where(sigma > 0, sigma, 1.0), np.sign(mu) * np.inf)
    Phi = ndtr(a)
    pdf = np.where(np.isfinite(a), np.exp(-0.5 * np.where(np.isfinite(a), a, 0.0) ** 2)
                   / _SQRT2PI, 0.0)
    mean = mu * Phi + sigma * pdf
    if which in ("phi", "phi_dphi"):
        return mean
    if which == "phi2":
        return (mu**2 + delta) * Phi + mu * sigma * pdf
    if which in ("dphi", "dphi2"):
        return Phi
    if which == "ddphi":
        # the density of mu + sigma z at 0 (phi'' is a Dirac delta)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sigma > 0, pdf / np.where(sigma > 0, sigma, 1.0), 0.0)
    if which == "phi_ddphi":
        return np.zeros_like(mean)  # x delta(x) = 0
    raise ValueError(f"no closed form for <{which}> with relu")


@functools.lru_cache(maxsize=1)
def _gh200_rule():
    """The authors' 200-node Gauss-Hermite rule for a standard normal (nodes times
    ``sqrt(2)``, weights over ``sqrt(pi)``), computed once (``hermgauss`` solves a 200 x 200
    eigenproblem). Read-only arrays."""
    nodes, weights = np.polynomial.hermite.hermgauss(200)
    nodes, weights = nodes * np.sqrt(2.0), weights / np.sqrt(np.pi)
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def gaussian_expectation(f: Callable[..., Any], mu: ArrayLike = 0.0, delta: ArrayLike = 1.0, *,
                         method: str = "accurate",
                         n_points: int | None = None) -> np.ndarray:
    """``E[f(mu + sqrt(delta) z)]``, ``z ~ N(0, 1)``, for a vectorised callable ``f``.

    Parameters
    ----------
    f : callable
        Applied elementwise to an array.
    mu : array_like
        Mean of the Gaussian argument (up to 3-D), broadcast with ``delta``.
    delta : array_like
        Variance of the Gaussian argument, ``delta >= 0`` (up to 3-D).
    method : {"accurate", "gh200"}
        Quadrature rule (module docstring).
    n_points : int, optional
        Override the number of trapezoid points (``"accurate"`` only).

    Returns
    -------
    ndarray
        The averages, with the broadcast shape of ``mu`` and ``delta``.

    Raises
    ------
    ValueError
        If ``delta`` is negative, ``mu`` or ``delta`` is not finite or has more than three
        dimensions, ``method`` is unknown, ``n_points < 2``, or the quadrature grid (set
        by ``n_points`` or the largest ``delta``) cannot fit in physical memory.
    TypeError
        If ``f`` is not callable or ``n_points`` is not an integer.

    Notes
    -----
    The quadrature at large variance (README, "Where we differ from the MO2019 authors'
    code", D2): ``method="gh200"`` loses accuracy once ``delta`` exceeds about 5 (a wrong
    sign of ``[phi''']`` at 18.64); the numbers are in :func:`gaussian_average`, Notes.
    """
    as_callable(f, "f")
    as_choice(method, "method", ("accurate", "gh200"))
    if n_points is not None:
        n_points = as_int(n_points, "n_points", minimum=2)
        check_memory(quadrature_bytes(0.0, n_points), "n_points", n_points,
                     what="the quadrature grid")
    mu = np.asarray(as_float_array(mu, "mu", tuple(range(0, 4))), dtype=float)
    delta = np.asarray(as_float_array(delta, "delta", tuple(range(0, 4))), dtype=float)
    if np.any(delta < 0):
        raise ValueError("delta (a variance) must be non-negative")
    if method == "accurate" and n_points is None:
        check_quadrature(delta, "delta", float(np.max(delta)) if delta.size else 0.0)
    mu, delta = np.broadcast_arrays(mu, delta)
    flat_mu, flat_d = mu.reshape(-1), delta.reshape(-1)
    out = np.empty(flat_mu.size)
    if method == "gh200":
        nodes, weights = _gh200_rule()
        _apply(f, flat_mu, flat_d, nodes, weights, out, np.arange(flat_mu.size))
    elif method == "accurate":
        # the grid depends on each element's own variance only (never on the rest of the
        # batch), through buckets of 400 * 2^k intervals
        h = np.minimum(0.05, 0.25 / np.sqrt(np.maximum(flat_d, 1e-300)))
        k = np.maximum(0, np.ceil(np.log2(20.0 / h / 400.0) - 1e-12)).astype(int)
        for kk in np.unique(k):
            n = n_points if n_points is not None else 400 * 2**int(kk) + 1
            z = np.linspace(-10.0, 10.0, n)
            w = np.exp(-0.5 * z**2) / _SQRT2PI * (z[1] - z[0])
            _apply(f, flat_mu, flat_d, z, w, out, np.flatnonzero(k == kk))
    else:
        raise ValueError(f"method must be 'accurate' or 'gh200', got {method!r}")
    return out.reshape(mu.shape)


def _apply(f, mu, delta, z, w, out, idx):
    block = max(1, 2_000_000 // z.size)
    for s in range(0, idx.size, block):
        sel = idx[s:s + block]
        X = mu[sel, None] + np.sqrt(delta[sel, None]) * z[None, :]
        out[sel] = np.sum(f(X) * w[None, :], axis=1)


def gaussian_average(phi: str, which: str, mu: ArrayLike = 0.0, delta: ArrayLike = 1.0, *,
                     method: str = "accurate") -> np.ndarray:
    """Gaussian average ``[f](mu, delta)`` of a function ``f`` of the nonlinearity ``phi``.

    Parameters
    ----------
    phi : {"tanh", "sigmoid", "relu"}
        The nonlinearity.
    which : str
        ``"phi"``, ``"dphi"``, ``"ddphi"``, ``"dddphi"`` (derivatives), ``"phi2"``
        (``phi^2``), ``"dphi2"`` (``phi'^2``), ``"phi_ddphi"`` (``phi phi''``),
        ``"phi_dphi"`` (``phi phi'``) or ``"logcosh"`` (tanh only: ``ln cosh``, the
        primitive of tanh, for the dynamic mean-field theory). ReLU has closed forms for
        all but ``"dddphi"`` and ``"logcosh"``.
    mu : array_like
        Mean of the Gaussian argument, broadcast with ``delta``.
    delta : array_like
        Variance of the Gaussian argument (``>= 0``).
    method : {"accurate", "gh200"}
        Quadrature (ignored for ReLU, which is exact).

    Returns
    -------
    ndarray
        The averages, with the broadcast shape of ``mu`` and ``delta`` (units of ``f``).

    Raises
    ------
    ValueError
        If ``phi``, ``which`` or ``method`` is unknown, or ``delta`` is negative.

    Notes
    -----
    The quadrature at large variance (README, "Where we differ from the MO2019 authors'
    code", D2). ``method="gh200"``, the 200-node Gauss-Hermite rule of Mastrogiuseppe &
    Ostojic's published code, places its nodes at fixed multiples of ``sqrt(delta)``: as
    ``delta`` grows, ``phi'``, ``phi''`` and ``phi'''`` become narrow compared with the node
    spacing and the rule loses accuracy. Against adaptive quadrature (tanh, ``mu = 0``) its
    relative error is below 1e-8 for every average up to ``delta = 2``; for ``[phi''']`` it
    is 2e-4 at ``delta = 5``, 2.4e-3 at 6.67 and 4 % at 10, and at 18.64 the sign is wrong
    (+0.0020 instead of -0.0093); ``[phi']`` is 5 % off at 50. In the static theory this
    turns a stable fixed point into a predicted unstable one (outlier 1.078 instead of
    -0.099 at ``Delta0 = 18.7``, :func:`reservoir.meanfield.mf_fixed_points`, Notes), which
    finite networks do not show. The default ``"accurate"`` rule agrees with adaptive
    quadrature to 1e-11 there (``tests/test_mo2019_differences.py``).
    """
    as_choice(phi, "phi", ("tanh", "sigmoid", "relu"))
    as_choice(which, "which", WHICH)
    as_choice(method, "method", ("accurate", "gh200"))
    if phi == "relu":
        mu = np.asarray(as_float_array(mu, "mu", tuple(range(0, 4))))
        delta = np.asarray(as_float_array(delta, "delta", tuple(range(0, 4))))
        if np.any(delta < 0):
            raise ValueError("delta (a variance) must be non-negative")
        mu, delta = np.broadcast_arrays(mu, delta)
        return _relu_closed_form(which, mu, delta)
    if phi not in ("tanh", "sigmoid"):
        raise ValueError(f"phi must be 'tanh', 'sigmoid' or 'relu', got {phi!r}")
    return gaussian_expectation(_family(phi, which), mu, delta, method=method)


# ----------------------------------------------------------------- two dimensions
def _disk_rule(n_half: int, radius: float):
    """Nodes and weights of the trapezoid rule with ``n_half`` intervals per half-axis on
    ``[-R, R]^2``, restricted to the disk of radius R. Returns (u_index, u, v, w, u_grid)
    (cached per ``(n_half, radius)``, read-only use)."""
    u = np.linspace(-radius, radius, 2 * n_half + 1)
    h = u[1] - u[0]
    w1 = np.exp(-0.5 * u**2) / _SQRT2PI * h
    U, V = np.meshgrid(np.arange(u.size), np.arange(u.size), indexing="ij")
    keep = u[U] ** 2 + u[V] ** 2 <= radius**2
    iu, iv = U[keep], V[keep]
    return iu, u[iu], u[iv], w1[iu] * w1[iv], u


_RULES: dict = {}


def _rule(n_half, radius):
    key = (int(n_half), float(radius))
    if key not in _RULES:
        _RULES[key] = _disk_rule(*key)
    return _RULES[key]


def _n_half(d1, d2, step=None, radius=_RADIUS):
    """Intervals per half-axis. Default: step ``min(0.2, 0.3 / sqrt(max(D1, D2)))``,
    rounded up to a multiple of 8 (buckets: the rule depends only on the element's own
    variances); with an explicit ``step``: ``ceil(radius / step)`` for every element."""
    if step is not None:
        return np.full(np.shape(d1), max(1, int(np.ceil(radius / step - 1e-12))))
    h = np.minimum(0.2, 0.3 / np.sqrt(np.maximum(np.maximum(d1, d2), 1e-300)))
    n = np.ceil(radius / h / 8.0 - 1e-12).astype(int) * 8
    return np.maximum(n, 8)


def check_bivariate(variance, name: str, value, step=None, radius=_RADIUS) -> None:
    """Raise ``ValueError`` naming ``name`` when the two-dimensional rule for the largest
    ``variance`` cannot fit in physical memory (non-finite counts as infinite)."""
    v = np.asarray(variance, dtype=float)
    vmax = float(np.max(v)) if v.size else 0.0
    if not np.isfinite(vmax):
        raise ValueError(f"{name}={value!r} gives a non-finite variance")
    if step is None:
        h = min(0.2, 0.3 / np.sqrt(max(vmax, 1e-300)))
        n = max(8.0, np.ceil(radius / h / 8.0 - 1e-12) * 8)
    else:
        n = max(1.0, np.ceil(radius / step - 1e-12))
    check_memory(8 * 8.0 * (2 * n + 1) ** 2, name, value,
                 what=f"the two-dimensional quadrature rule of a variance {vmax:.3g}")


def _check_2d_size(d1, d2, step, radius) -> None:
    """The rule of the largest variance (or of an explicit step/radius) must fit."""
    m1 = float(np.max(d1)) if d1.size else 0.0
    m2 = float(np.max(d2)) if d2.size else 0.0
    if step is not None:
        check_bivariate(0.0, "grid_step", step, step=step, radius=radius)
    else:
        check_bivariate(0.0, "grid_radius", radius, radius=radius)
        name, value = ("delta1", m1) if m1 >= m2 else ("delta2", m2)
        check_bivariate(max(m1, m2), name, value, radius=radius)


def _check_rule(step, radius):
    if step is not None:
        step = as_positive_float(step, "grid_step")
    radius = as_positive_float(radius, "grid_radius")
    return step, radius


def _broadcast3(delta1, delta2, cov):
    d1 = np.asarray(as_float_array(delta1, "delta1", tuple(range(0, 4))), dtype=float)
    d2 = np.asarray(as_float_array(delta2, "delta2", tuple(range(0, 4))), dtype=float)
    c = np.asarray(as_float_array(cov, "cov", tuple(range(0, 4))), dtype=float)
    if np.any(d1 < 0):
        raise ValueError("delta1 (a variance) must be non-negative")
    if np.any(d2 < 0):
        raise ValueError("delta2 (a variance) must be non-negative")
    d1, d2, c = np.broadcast_arrays(d1, d2, c)
    with np.errstate(over="ignore"):
        bad_cov = np.any(c**2 > d1 * d2 * (1 + 1e-9) + 1e-300)
    if bad_cov:
        raise ValueError("cov must satisfy cov^2 <= delta1 * delta2 (a covariance matrix)")
    return d1, d2, c


def _correlation(d1, d2, c):
    s = np.sqrt(d1 * d2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(s > 0, c / np.where(s > 0, s, 1.0), 0.0)
    return np.clip(rho, -1.0, 1.0)


def _trapezoid_2d(kernel, d1, d2, c, n_out, step=None, radius=_RADIUS):
    """Plain-numpy rule for generic integrands: ``kernel(X1, X2)`` returns a tuple of
    arrays (B, P) on the disk nodes; returns their weighted sums, shape (n_out,) + shape."""
    shape = d1.shape
    d1, d2, c = d1.reshape(-1), d2.reshape(-1), c.reshape(-1)
    rho = _correlation(d1, d2, c)
    s = np.sqrt(np.maximum(0.0, 1.0 - rho**2))
    out = np.empty((n_out, d1.size))
    nh = _n_half(d1, d2, step, radius)
    for n in np.unique(nh):
        iu, u, v, w, _ = _rule(int(n), radius)
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


def bivariate_expectation(f1: Callable[..., Any], f2: Callable[..., Any], delta1: ArrayLike,
                          delta2: ArrayLike, cov: ArrayLike, *, grid_step: float | None = None,
                          grid_radius: float = _RADIUS) -> np.ndarray:
    """``E[f1(X1) f2(X2)]`` for zero-mean jointly Gaussian ``(X1, X2)``.

    Parameters
    ----------
    f1 : callable
        Vectorised function applied elementwise to ``X1``.
    f2 : callable
        Vectorised function applied elementwise to ``X2``.
    delta1 : array_like
        Variance ``Var X1`` (non-negative), broadcast with ``delta2`` and ``cov``.
    delta2 : array_like
        Variance ``Var X2`` (non-negative).
    cov : array_like
        ``Cov(X1, X2)``, with ``cov^2 <= delta1 delta2``.
    grid_step : float, optional
        Grid step in the standard-normal variables (default: the adaptive step of the
        module docstring).
    grid_radius : float
        Radius of the integration disk in the standard-normal variables (discarded mass
        ``exp(-radius^2 / 2)``).

    Returns
    -------
    ndarray
        The expectations, with the broadcast shape of the three arguments.

    Raises
    ------
    ValueError
        If a variance is negative, ``cov^2 > delta1 delta2``, or ``grid_step`` or ``grid_radius``
        is not positive.

    Notes
    -----
    Trapezoid rule on the disk in the standard-normal variables (module docstring);
    exponentially accurate for integrands analytic in a strip (tanh, sigmoid,
    polynomials), only ``O(h^2)`` for kinks (ReLU: use :func:`bivariate_average`, which is
    exact).
    """
    as_callable(f1, "f1")
    as_callable(f2, "f2")
    step, radius = _check_rule(grid_step, grid_radius)
    d1, d2, c = _broadcast3(delta1, delta2, cov)
    _check_2d_size(d1, d2, step, radius)
    return _trapezoid_2d(lambda X1, X2: (f1(X1) * f2(X2),), d1, d2, c, 1, step, radius)[0]


def _relu_moments(d1, d2, c):
    """Arc-cosine kernel (Cho & Saul 2009) and its derivatives, closed form."""
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


def _moments(phi, d1, d2, c, coarse=False, step=None, radius=_RADIUS):
    """:func:`bivariate_average` on flat arrays, without the checks; ``coarse`` halves the
    grid (error ~1e-7, used for the first Newton steps of the least-squares theory only)."""
    if phi == "relu":
        return _relu_moments(d1, d2, c)
    nh = _n_half(d1, d2, step, radius)
    if coarse:
        nh = np.maximum(nh // 2, 4)
    out = np.empty((3, d1.size))
    pair_moments(np.sqrt(d1), np.sqrt(d2), _correlation(d1, d2, c), nh, radius,
                 0 if phi == "tanh" else 1, out)
    return out


def bivariate_average(phi: str, delta1: ArrayLike, delta2: ArrayLike, cov: ArrayLike, *,
                      grid_step: float | None = None,
                      grid_radius: float = _RADIUS) -> np.ndarray:
    """The three bivariate averages of ``phi`` for zero-mean jointly Gaussian ``(X1, X2)``.

    Parameters
    ----------
    phi : {"tanh", "sigmoid", "relu"}
        The nonlinearity (ReLU: closed forms, exact).
    delta1 : array_like
        Variance of ``X1`` (non-negative), broadcast with ``delta2`` and ``cov``.
    delta2 : array_like
        Variance of ``X2`` (non-negative).
    cov : array_like
        Covariance of ``X1`` and ``X2``, ``cov^2 <= delta1 delta2``.
    grid_step : float, optional
        Grid step in the standard-normal variables (default: the adaptive step of the
        module docstring; ignored for ReLU).
    grid_radius : float
        Radius of the integration disk in the standard-normal variables (ignored for ReLU).

    Returns
    -------
    ndarray, shape (3,) + broadcast shape
        ``<phi(X1) phi(X2)>``, ``<phi'(X1) phi'(X2)>`` (its derivative in ``cov``) and
        ``<phi(X1) phi''(X2)>`` (twice its derivative in ``delta2``), in units of
        ``phi^2``, ``phi'^2`` and ``phi phi''``.

    Raises
    ------
    ValueError
        If ``phi`` is unknown, a variance is negative, ``cov^2 > delta1 delta2``, or
        ``grid_step`` or ``grid_radius`` is not positive.
    """
    as_choice(phi, "phi", _PHIS_2D)
    step, radius = _check_rule(grid_step, grid_radius)
    d1, d2, c = _broadcast3(delta1, delta2, cov)
    if phi == "relu":
        return _relu_moments(d1, d2, c)
    _check_2d_size(d1, d2, step, radius)
    shape = d1.shape
    return _moments(phi, d1.reshape(-1), d2.reshape(-1), c.reshape(-1), step=step,
                    radius=radius).reshape((3,) + shape)
