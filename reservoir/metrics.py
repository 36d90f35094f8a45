"""Error measures between a readout and a target."""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array


def _pair(z, y):
    z = as_float_array(z, "z", (1, 2, 3))
    y = as_float_array(y, "y", (1, 2, 3))
    if z.shape != y.shape:
        raise ValueError(f"z and y must have the same shape, got {z.shape} and {y.shape}")
    return z, y


def nmse(z, y) -> float:
    """Normalised mean squared error ``mean((z - y)^2) / var(y)`` over all entries.

    Raises ``ValueError`` if ``y`` is constant (use :func:`mse` then).
    """
    z, y = _pair(z, y)
    var = np.var(y)
    if var == 0:
        raise ValueError("y is constant: nmse is undefined, use mse")
    return float(np.mean((z - y) ** 2) / var)


def mse(z, y) -> float:
    """Mean squared error over all entries."""
    z, y = _pair(z, y)
    return float(np.mean((z - y) ** 2))


def mae(z, y) -> float:
    """Mean absolute error over all entries."""
    z, y = _pair(z, y)
    return float(np.mean(np.abs(z - y)))
