"""Error measures between a readout and a target."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_float_array
from ._docs import fill_doc


def _pair(z, y):
    z = as_float_array(z, "z", (1, 2, 3))
    y = as_float_array(y, "y", (1, 2, 3))
    if z.shape != y.shape:
        raise ValueError(f"z and y must have the same shape, got {z.shape} and {y.shape}")
    return z, y


#: Docstring sections shared by the metrics (see :mod:`reservoir._docs`).
_PAIR = """Parameters
----------
z : array_like, shape (T,), (T, K) or (B, T, K)
    The readout.
y : array_like, same shape as ``z``
    The target."""
_PAIR_RAISES = """Raises
------
TypeError
    If ``z`` or ``y`` is not a real numeric array.
ValueError
    If they differ in shape, have 0 or more than 3 dimensions, are empty or not"""
_metric_doc = fill_doc(pair=_PAIR, pair_raises=_PAIR_RAISES)


@_metric_doc
def nmse(z: ArrayLike, y: ArrayLike) -> float:
    """Normalised mean squared error ``mean((z - y)^2) / var(y)`` over all entries.

    {pair}

    Returns
    -------
    float
        The NMSE (dimensionless; 1 for a constant prediction at the mean of ``y``).

    {pair_raises}
        finite, or ``y`` is constant (use :func:`mse` then).
    """
    z, y = _pair(z, y)
    var = np.var(y)
    if var == 0:
        raise ValueError("y is constant: nmse is undefined, use mse")
    return float(np.mean((z - y) ** 2) / var)


@_metric_doc
def mse(z: ArrayLike, y: ArrayLike) -> float:
    """Mean squared error ``mean((z - y)^2)`` over all entries.

    {pair}

    Returns
    -------
    float
        The MSE (readout units squared).

    {pair_raises}
        finite.
    """
    z, y = _pair(z, y)
    return float(np.mean((z - y) ** 2))


@_metric_doc
def mae(z: ArrayLike, y: ArrayLike) -> float:
    """Mean absolute error ``mean(|z - y|)`` over all entries.

    {pair}

    Returns
    -------
    float
        The MAE (readout units).

    {pair_raises}
        finite.
    """
    z, y = _pair(z, y)
    return float(np.mean(np.abs(z - y)))
