"""Single-unit nonlinearities ``phi`` with their derivatives: the one table of the package.

A nonlinearity is chosen by *name* (``"tanh"``, ``"relu"`` or ``"sigmoid"``) so that
models can be saved as plain data. Each has

* a NumPy implementation (``phi``, ``dphi``, ``ddphi``, ``dddphi`` and a primitive on
  arrays), for analysis code and the mean-field theory (every Gaussian average of
  :mod:`reservoir.meanfield` is built from these entries);
* Numba-compiled scalar functions (``phi_scalar(code, x)`` and friends) that kernels
  call with an integer ``code`` (see :data:`CODES`), so one compiled kernel serves all.

Conventions
-----------
``relu(x) = max(x, 0)`` with ``relu'(0) = 0`` and ``relu'' = relu''' = 0`` (a.e.).
``sigmoid(x) = 1 / (1 + exp(-x))`` (logistic), evaluated as ``(1 + tanh(x/2)) / 2``
which is accurate and overflow-free for all ``x``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numba as nb
import numpy as np

from ._docs import fill_doc

#: Integer code of each nonlinearity, as used by the Numba kernels.
CODES = {"tanh": 0, "relu": 1, "sigmoid": 2}

NAMES = tuple(CODES)


#: The arguments and return type of the scalar Numba functions (see :mod:`reservoir._docs`).
_CODE_X = """Parameters
----------
code : int
    Integer code of the nonlinearity (:data:`CODES`).
x : float
    Argument.

Returns
-------
float"""


@nb.njit(cache=True, inline="always")
@fill_doc(code_x=_CODE_X)
def phi_scalar(code, x):
    """phi(x) for the nonlinearity with integer ``code`` (Numba, scalar).

    {code_x}
        ``phi(x)``.
    """
    if code == 0:
        return math.tanh(x)
    elif code == 1:
        return x if x > 0.0 else 0.0
    else:
        return 0.5 * (1.0 + math.tanh(0.5 * x))


@nb.njit(cache=True, inline="always")
@fill_doc(code_x=_CODE_X)
def dphi_scalar(code, x):
    """phi'(x) for the nonlinearity with integer ``code`` (Numba, scalar).

    {code_x}
        ``phi'(x)``.
    """
    if code == 0:
        t = math.tanh(x)
        return 1.0 - t * t
    elif code == 1:
        return 1.0 if x > 0.0 else 0.0
    else:
        s = 0.5 * (1.0 + math.tanh(0.5 * x))
        return s * (1.0 - s)


@nb.njit(cache=True, inline="always")
@fill_doc(code_x=_CODE_X)
def ddphi_scalar(code, x):
    """phi''(x) for the nonlinearity with integer ``code`` (Numba, scalar).

    {code_x}
        ``phi''(x)``.
    """
    if code == 0:
        t = math.tanh(x)
        return -2.0 * t * (1.0 - t * t)
    elif code == 1:
        return 0.0
    else:
        s = 0.5 * (1.0 + math.tanh(0.5 * x))
        return s * (1.0 - s) * (1.0 - 2.0 * s)


def _tanh(x):
    return np.tanh(x)


def _dtanh(x):
    t = np.tanh(x)
    return 1.0 - t * t


def _ddtanh(x):
    t = np.tanh(x)
    return -2.0 * t * (1.0 - t * t)


def _dddtanh(x):
    t = np.tanh(x)
    return -2 * (1 - t ** 2) * (1 - 3 * t ** 2)


def _logcosh(x):
    # ln cosh x without overflow: logaddexp(x, -x) = ln(e^x + e^-x)
    return np.logaddexp(x, -x) - np.log(2.0)


def _relu(x):
    return np.maximum(x, 0.0)


def _drelu(x):
    return (np.asarray(x) > 0).astype(np.float64)


def _ddrelu(x):
    return np.zeros_like(np.asarray(x, dtype=np.float64))


def _half_square_relu(x):
    return 0.5 * np.maximum(x, 0.0) ** 2


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def _dsigmoid(x):
    s = _sigmoid(x)
    return s * (1.0 - s)


def _ddsigmoid(x):
    s = _sigmoid(x)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _dddsigmoid(x):
    s = _sigmoid(x)
    return s * (1 - s) * (1 - 6 * s + 6 * s ** 2)


def _softplus(x):
    return np.logaddexp(0.0, x)


@dataclass(frozen=True)
class Nonlinearity:
    """A named nonlinearity and its derivatives (NumPy functions on arrays).

    Plain container: nothing here can fail.

    Parameters
    ----------
    name : str
        ``"tanh"``, ``"relu"`` or ``"sigmoid"``.
    code : int
        Integer code used by the Numba kernels.
    phi : callable
        ``phi`` applied elementwise to an array.
    dphi : callable
        ``phi'`` applied elementwise.
    ddphi : callable
        ``phi''`` applied elementwise (relu: 0, almost everywhere).
    dddphi : callable
        ``phi'''`` applied elementwise (relu: 0, almost everywhere).
    primitive : callable
        A primitive ``Phi`` of ``phi`` (``Phi' = phi``), used by the dynamic mean field:
        ``ln cosh`` for tanh, softplus ``ln(1 + e^x)`` for sigmoid and ``max(x, 0)^2 / 2``
        for relu (each with ``Phi(-inf)`` or ``Phi(0)`` as in these formulas).
    """

    name: str
    code: int
    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    ddphi: Callable[[np.ndarray], np.ndarray]
    dddphi: Callable[[np.ndarray], np.ndarray]
    primitive: Callable[[np.ndarray], np.ndarray]


_TABLE = {
    "tanh": Nonlinearity("tanh", 0, _tanh, _dtanh, _ddtanh, _dddtanh, _logcosh),
    "relu": Nonlinearity("relu", 1, _relu, _drelu, _ddrelu, _ddrelu, _half_square_relu),
    "sigmoid": Nonlinearity("sigmoid", 2, _sigmoid, _dsigmoid, _ddsigmoid, _dddsigmoid,
                            _softplus),
}


def check_phi_name(phi, name: str = "phi") -> str:
    """Validate a nonlinearity name and return it.

    Parameters
    ----------
    phi : str
        The name to check.
    name : str
        Name of the argument, for the error messages.

    Returns
    -------
    str
        ``phi``, unchanged.

    Raises
    ------
    TypeError
        If ``phi`` is not a string (the message names the argument ``name``).
    ValueError
        If the name is not one of :data:`NAMES`.
    """
    if not isinstance(phi, str):
        raise TypeError(f"{name} must be a nonlinearity name (one of {NAMES}), "
                        f"got {type(phi).__name__}")
    if phi not in _TABLE:
        raise ValueError(f"{name} must be one of {NAMES}, got {phi!r}")
    return phi


def get_nonlinearity(phi: str) -> Nonlinearity:
    """Return the :class:`Nonlinearity` called ``phi``.

    Parameters
    ----------
    phi : str
        ``"tanh"``, ``"relu"`` or ``"sigmoid"``.

    Returns
    -------
    Nonlinearity
        The table entry.

    Raises
    ------
    TypeError
        If ``phi`` is not a string.
    ValueError
        If the name is unknown.
    """
    return _TABLE[check_phi_name(phi)]
