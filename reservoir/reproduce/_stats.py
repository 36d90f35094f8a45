"""Statistics shared by the reproductions (intervals for success fractions)."""

from __future__ import annotations

import numbers

import numpy as np

from reservoir._checks import as_int

__all__ = ["wilson_interval"]


def wilson_interval(k, n, z=1.959963984540054):
    """Wilson score interval of a binomial proportion (95 % for the default ``z``).

    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with ``p = k / n``
    (Wilson 1927); unlike the normal interval it stays inside [0, 1] and is not empty at
    ``k = 0`` or ``k = n``.

    Parameters
    ----------
    k : int
        Number of successes, ``0 <= k <= n``.
    n : int
        Number of trials (>= 1).
    z : float
        Standard normal quantile (> 0; default the two-sided 95 % one).

    Returns
    -------
    (float, float)
        Lower and upper bound (fractions).

    Raises
    ------
    ValueError
        If ``n < 1``, ``k`` is outside ``[0, n]`` or ``z`` is not positive.
    """
    n = as_int(n, "n", minimum=1)
    k = as_int(k, "k", minimum=0)
    if k > n:
        raise ValueError(f"k must be at most n = {n}, got {k}")
    if not (isinstance(z, numbers.Real) and not isinstance(z, (bool, np.bool_))
            and np.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive finite number, got {z!r}")
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z / den * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # k = 0 (k = n): the lower (upper) bound is exactly 0 (1); do not leave rounding there
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return float(lo), float(hi)
