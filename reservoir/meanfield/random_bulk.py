"""Chaos in random rate networks without feedback or input (Sompolinsky, Crisanti & Sommers 1988).

* Sompolinsky, Crisanti & Sommers (1988): ``dx/dt = -x + J tanh(x)``, ``J_ij ~ N(0, g^2/N)``.
  For ``g < 1`` the origin is the only attractor; for ``g > 1`` the dynamics is chaotic
  and the stationary variance ``Delta0 = <x^2>`` solves (dynamic mean-field theory,
  particle-in-a-potential form with ``Phi = ln cosh``)::

      Delta0^2 / 2 = g^2 ( [Phi^2](Delta0) - [Phi](Delta0)^2 )

* The leak-free map ``h' = tanh(W h)`` (``alpha = 1``): the pre-activation variance solves
  ``q = g^2 [tanh^2](q)``, ``q > 0`` for ``g > 1``.
* Circular law: the eigenvalues of ``J`` fill the disk of radius ``g``.
"""

from __future__ import annotations

import scipy.optimize

from .._checks import as_choice, as_positive_float
from ..nonlinearities import get_nonlinearity
from .gaussian import check_quadrature, gaussian_average, gaussian_expectation

_logcosh = get_nonlinearity("tanh").primitive


def scs_variance(g: float, *, method: str = "accurate") -> float:
    """Stationary variance ``Delta0`` of the chaotic state (0 for ``g <= 1``).

    Solves ``Delta0^2/2 = g^2 ([Phi^2] - [Phi]^2)`` (``Phi = ln cosh``) by Brent's method
    on ``(1e-10, 10 g^2]``. Values: 0.0528 (g = 1.05), 0.111 (1.1), 0.243 (1.2),
    0.748 (1.5), 1.925 (2.0), 5.446 (3.0).

    Parameters
    ----------
    g : float
        Bulk gain (``>= 0``).
    method : {"accurate", "gh200"}
        Quadrature rule of :func:`~reservoir.meanfield.gaussian.gaussian_expectation`.

    Returns
    -------
    float
        ``Delta0`` (state units squared).

    Raises
    ------
    RuntimeError
        If no positive root is bracketed (never for g > 1, reported rather than hidden).
    """
    g = as_positive_float(g, "g", allow_zero=True)
    as_choice(method, "method", ("accurate", "gh200"))
    if g <= 1.0:
        return 0.0
    check_quadrature(10.0 * g * g, "g", g)

    def f(d):
        p2 = gaussian_expectation(lambda x: _logcosh(x) ** 2, 0.0, d, method=method)
        p1 = gaussian_expectation(_logcosh, 0.0, d, method=method)
        return d * d / 2 - g * g * (p2 - p1 * p1)

    lo, hi = 1e-10, 10.0 * g * g
    if not (f(lo) < 0 < f(hi)):
        raise RuntimeError(f"scs_variance: no root bracketed in ({lo}, {hi}] for g={g}")
    return float(scipy.optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))


def discrete_map_variance(g: float, *, method: str = "accurate") -> float:
    """Stationary pre-activation variance ``q*`` of ``h' = tanh(W h)`` (0 for ``g <= 1``).

    Solves ``q = g^2 [tanh^2](q)``. Values: 0.249 (g = 1.2), 0.793 (1.5), 2.122 (2.0).

    Parameters
    ----------
    g : float
        Gain of ``W`` (entries of variance ``g^2 / N``, ``>= 0``).
    method : {"accurate", "gh200"}
        Quadrature rule.

    Returns
    -------
    float
        ``q*``.

    Raises
    ------
    RuntimeError
        If no positive root is bracketed.
    """
    g = as_positive_float(g, "g", allow_zero=True)
    as_choice(method, "method", ("accurate", "gh200"))
    if g <= 1.0:
        return 0.0
    check_quadrature(g * g + 1.0, "g", g)

    def f(q):
        return g * g * float(gaussian_average("tanh", "phi2", 0.0, q, method=method)) - q

    lo, hi = 1e-10, g * g + 1.0
    if not (f(lo) > 0 > f(hi)):
        raise RuntimeError(f"discrete_map_variance: no root bracketed for g={g}")
    return float(scipy.optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))
