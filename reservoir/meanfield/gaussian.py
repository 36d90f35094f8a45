r"""Gaussian averages ``[f](mu, Delta) = \int Dz f(mu + sqrt(Delta) z)``, ``Dz`` standard normal.

Two rules:

* ``method="accurate"`` (default): the trapezoid rule in ``z`` on ``[-10, 10]``. For an
  integrand analytic in a strip of half-width ``d`` around the real axis the trapezoid rule
  converges like ``exp(-2 pi d / h)``; ``tanh(mu + sqrt(Delta) z)`` has poles at imaginary
  distance ``pi / (2 sqrt(Delta))``, so the step is at most
  ``min(0.05, 0.25 / sqrt(Delta))`` (error ``< 1e-12``, checked against
  ``scipy.integrate.quad`` in the tests). Each element's grid depends on its own variance
  only, so a value never changes with the rest of the batch. The Gaussian tail beyond 10 contributes
  ``< 1e-22``.
* ``method="gh200"``: 200-node Gauss-Hermite, the authors' rule in
  Mastrogiuseppe & Ostojic's code. Fine for ``Delta <~ 5`` but wrong at large variance
  (``specs/mo2019.md`` section 3.2: at ``Delta = 18.6`` it gives ``[phi''']`` with the wrong
  sign). Offered only to reproduce their published numbers.

For ReLU the averages have closed forms and are returned exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .._checks import as_float_array

_SQRT2PI = np.sqrt(2 * np.pi)


def _tanh_family(which):
    def t(x):
        return np.tanh(x)
    if which == "phi":
        return t
    if which == "dphi":
        return lambda x: 1 - np.tanh(x) ** 2
    if which == "ddphi":
        return lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    if which == "dddphi":
        return lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)
    if which == "phi2":
        return lambda x: np.tanh(x) ** 2
    if which == "dphi2":
        return lambda x: (1 - np.tanh(x) ** 2) ** 2
    if which == "phi_ddphi":
        return lambda x: -2 * np.tanh(x) ** 2 * (1 - np.tanh(x) ** 2)
    if which == "phi_dphi":
        return lambda x: np.tanh(x) * (1 - np.tanh(x) ** 2)
    if which == "logcosh":
        return lambda x: np.logaddexp(x, -x) - np.log(2.0)
    raise ValueError(f"which must be one of {WHICH}, got {which!r}")


def _sigmoid_family(which):
    def s(x):
        return 0.5 * (1 + np.tanh(0.5 * x))
    table = {
        "phi": s,
        "dphi": lambda x: s(x) * (1 - s(x)),
        "ddphi": lambda x: s(x) * (1 - s(x)) * (1 - 2 * s(x)),
        "dddphi": lambda x: s(x) * (1 - s(x)) * (1 - 6 * s(x) + 6 * s(x) ** 2),
        "phi2": lambda x: s(x) ** 2,
        "dphi2": lambda x: (s(x) * (1 - s(x))) ** 2,
        "phi_ddphi": lambda x: s(x) ** 2 * (1 - s(x)) * (1 - 2 * s(x)),
        "phi_dphi": lambda x: s(x) ** 2 * (1 - s(x)),
    }
    if which not in table:
        raise ValueError(f"which must be one of {tuple(table)} for sigmoid, got {which!r}")
    return table[which]


WHICH = ("phi", "dphi", "ddphi", "dddphi", "phi2", "dphi2", "phi_ddphi", "phi_dphi", "logcosh")


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


def gaussian_expectation(f, mu=0.0, delta=1.0, *, method: str = "accurate",
                         n_points: int | None = None) -> np.ndarray:
    """``E[f(mu + sqrt(delta) z)]``, ``z ~ N(0, 1)``, for a vectorised callable ``f``.

    Parameters
    ----------
    f : callable
        Applied elementwise to an array.
    mu, delta : array_like
        Mean and variance (``delta >= 0``); broadcast together.
    method : {"accurate", "gh200"}
        See the module docstring.
    n_points : int, optional
        Override the number of trapezoid points.

    Returns
    -------
    ndarray with the broadcast shape of ``mu`` and ``delta``.
    """
    mu = np.asarray(as_float_array(mu, "mu", tuple(range(0, 4))), dtype=float)
    delta = np.asarray(as_float_array(delta, "delta", tuple(range(0, 4))), dtype=float)
    if np.any(delta < 0):
        raise ValueError("delta (a variance) must be non-negative")
    mu, delta = np.broadcast_arrays(mu, delta)
    flat_mu, flat_d = mu.reshape(-1), delta.reshape(-1)
    out = np.empty(flat_mu.size)
    if method == "gh200":
        nodes, weights = np.polynomial.hermite.hermgauss(200)
        _apply(f, flat_mu, flat_d, nodes * np.sqrt(2.0), weights / np.sqrt(np.pi), out,
               np.arange(flat_mu.size))
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


def gaussian_average(phi: str, which: str, mu=0.0, delta=1.0, *,
                     method: str = "accurate") -> np.ndarray:
    """Gaussian average of a function of the nonlinearity ``phi``.

    Parameters
    ----------
    phi : {"tanh", "sigmoid", "relu"}
    which : str
        ``"phi"``, ``"dphi"``, ``"ddphi"``, ``"dddphi"`` (derivatives), ``"phi2"``
        (``phi^2``), ``"dphi2"`` (``phi'^2``), ``"phi_ddphi"`` (``phi phi''``),
        ``"phi_dphi"`` (``phi phi'``) or ``"logcosh"`` (tanh only: ``ln cosh``, the
        primitive of tanh, for the dynamic mean-field theory).
    mu, delta : array_like
        Mean and variance of the Gaussian argument.
    method : {"accurate", "gh200"}
        Quadrature (ignored for ReLU, which is exact).
    """
    if phi == "relu":
        mu = np.asarray(as_float_array(mu, "mu", tuple(range(0, 4))))
        delta = np.asarray(as_float_array(delta, "delta", tuple(range(0, 4))))
        if np.any(delta < 0):
            raise ValueError("delta (a variance) must be non-negative")
        mu, delta = np.broadcast_arrays(mu, delta)
        return _relu_closed_form(which, mu, delta)
    if phi == "tanh":
        f = _tanh_family(which)
    elif phi == "sigmoid":
        f = _sigmoid_family(which)
    else:
        raise ValueError(f"phi must be 'tanh', 'sigmoid' or 'relu', got {phi!r}")
    return gaussian_expectation(f, mu, delta, method=method)
