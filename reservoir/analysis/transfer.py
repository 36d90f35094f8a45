"""Exact finite-network linear response around a fixed point of a trained network with one
fed-back readout: open-loop transfer function, closed-loop gain, and the closed-loop pole
(an isolated eigenvalue of the flow Jacobian) near a given point. These are the finite-N
counterparts of the mean-field transfer functions of Rivkind & Barak 2017: the open-loop
``H(s)`` and the closed-loop response ``T(s) = H(s) / (1 - H(s))``.

Notation: ``w = W_out[0]`` is the readout row (``z = w . phi(x) + b_out``), ``m = W_fb[:, 0]``
the feedback vector (Rivkind & Barak's feedback vector ``u``), ``D = diag(phi'(x))`` at the
fixed point ``x``, and time is in units of ``tau`` (the Laplace variable ``s`` is in units
of ``1 / tau``).

The readout intercept ``b_out`` is a constant: it drops out of every linear response here
(the responses are of perturbations of ``z`` around the fixed point). It does move the fixed
point itself (in closed loop it is the constant current ``W_fb b_out``), so ``x`` must be a
fixed point of the network *with* its intercept, e.g. from
:func:`~reservoir.analysis.find_fixed_points`, which accounts for it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
import scipy.sparse.linalg as spla

from .._checks import as_float_array
from .._docs import fill_doc
from ..network import Network
from ..nonlinearities import get_nonlinearity


#: The arguments and errors of the functions that linearise at a state ``x`` (see
#: :mod:`reservoir._docs`).
_NET_X = """net : Network
    Trained network with one fed-back readout (unit time constant assumed).
x : array_like, shape (N,)
    Fixed point (currents)."""
_RAISES = """Raises
------
TypeError
    If ``net`` is not a :class:`~reservoir.Network` or ``x`` is not a real array.
ValueError
    If the network does not have exactly one fed-back readout, ``x`` has the wrong
    shape, or a Laplace variable is not finite."""


def _as_laplace(s, name: str, scalar: bool) -> np.ndarray:
    """``s`` as a finite complex array (1-D, or 0-D when ``scalar``), naming ``name``."""
    if s is None or isinstance(s, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a real or complex number"
                        f"{'' if scalar else ' or array of them'}, got {type(s).__name__}")
    try:
        arr = np.asarray(s)
    except Exception:                                   # pragma: no cover - exotic input
        raise TypeError(f"{name} must be a real or complex number, got "
                        f"{type(s).__name__}") from None
    if arr.dtype.kind not in "iufc":
        raise TypeError(f"{name} must be a real or complex number"
                        f"{'' if scalar else ' or array of them'}, got dtype {arr.dtype}")
    if scalar and arr.ndim != 0:
        raise ValueError(f"{name} must be one number, got shape {arr.shape}")
    if not scalar and arr.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {arr.shape}")
    arr = arr.astype(complex)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {s!r}")
    return arr


def _solve_at(A, b, name, s):
    """``A^{-1} b``, or a ValueError naming ``name`` when ``A`` is singular at ``s``."""
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name}={s!r} is a pole: the linear system is singular "
                         "there") from None


def _linearisation(net, x):
    """``(J, D, w, m)`` of a trained single-output network at state ``x`` of shape (N,)."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if net.W_out.shape[0] != 1 or net.W_fb.shape[1] != 1:
        raise ValueError("net must have exactly one readout fed back (K = 1)")
    x = as_float_array(x, "x", 1)
    if x.size != net.N:
        raise ValueError(f"x must have shape ({net.N},), got {x.shape}")
    J = np.asarray(net.dense_J(), dtype=float)
    D = get_nonlinearity(net.phi).dphi(x)
    return J, D, net.W_out[0], net.W_fb[:, 0]


@fill_doc(net_x=_NET_X, raises=_RAISES)
def network_open_loop(net: Network, x: ArrayLike, s: complex | ArrayLike) -> np.ndarray:
    """Exact finite-N open-loop transfer function ``H(s) = w^T D ((1+s) I - J D)^{-1} m``.

    The response of the readout to a perturbation of the fed-back signal with the loop
    open (Rivkind & Barak 2017, open-loop transfer function ``H_k(s)``).

    Parameters
    ----------
    net : Network
        Trained network with one fed-back readout (unit time constant assumed: ``s`` is in
        units of ``1 / tau``).
    x : array_like, shape (N,)
        Fixed point (currents).
    s : complex or array_like of complex, shape (S,)
        Laplace variable(s) (units ``1 / tau``).

    Returns
    -------
    ndarray of complex, shape (S,)
        ``H(s)`` (dimensionless) at each ``s``.

    {raises}
    """
    J, D, w, m = _linearisation(net, x)
    s = np.atleast_1d(_as_laplace(s, "s", scalar=False))
    JD = J * D[None, :]
    I = np.eye(J.shape[0])
    return np.array([(w * D) @ _solve_at((1 + si) * I - JD, m, "s", si) for si in s])


@fill_doc(net_x=_NET_X)
def network_closed_loop_gain(net: Network, x: ArrayLike, v: ArrayLike,
                             s: complex = 0.0) -> np.ndarray:
    """Exact response of the output to an input ``p(t)`` entering through the vector ``v``.

    With ``dx/dt = -x + (J + m w^T) phi(x) + v p`` linearised at ``x``,
    ``T_v(s) = w^T D (s I - L)^{-1} v`` with the closed-loop Jacobian
    ``L = -I + (J + m w^T) D``.

    Parameters
    ----------
    {net_x}
    v : array_like, shape (N,) or (N, P)
        Input vector(s); ``v = m = W_fb[:, 0]`` gives the feedback channel's closed-loop
        response ``T(s) = H(s) / (1 - H(s))`` (Rivkind & Barak 2017).
    s : complex
        One Laplace variable (units ``1 / tau``; default 0: the static gain).

    Returns
    -------
    ndarray of complex, shape () or (P,)
        ``T_v(s)`` (readout units per unit of ``p``), one per column of ``v``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an array is not real.
    ValueError
        If the network does not have exactly one fed-back readout, or ``x`` or ``v`` has
        the wrong shape.
    """
    J, D, w, m = _linearisation(net, x)
    v = as_float_array(v, "v", (1, 2))
    if v.shape[0] != J.shape[0]:
        raise ValueError(f"v must have {J.shape[0]} rows, got shape {v.shape}")
    s = complex(_as_laplace(s, "s", scalar=True))
    L = (J + np.outer(m, w)) * D[None, :] - np.eye(J.shape[0])
    sol = _solve_at(s * np.eye(J.shape[0]) - L, v.astype(complex), "s", s)
    return (w * D) @ sol


@fill_doc(net_x=_NET_X, raises=_RAISES)
def network_pole(net: Network, x: ArrayLike, s0: float) -> complex:
    """Eigenvalue of the closed-loop flow Jacobian ``L = -I + (J + m w^T) D`` nearest ``s0``.

    A pole in the flow convention (stable iff its real part is negative), not an eigenvalue
    of the gain matrix ``(J + m w^T) D`` (those are ``1 + pole``). Shift-invert Arnoldi (one
    LU factorisation of ``L - s0 I``), so large ``N`` costs far less than a full
    eigen-decomposition. Use it for poles outside the bulk disc (centre -1, radius the bulk
    radius), where the mean-field pole predicts an isolated eigenvalue.

    Parameters
    ----------
    {net_x}
    s0 : float or complex
        Shift (units ``1 / tau``): the pole nearest to it is returned.

    Returns
    -------
    complex
        The eigenvalue of ``L`` nearest ``s0`` (units ``1 / tau``).

    {raises}
    """
    J, D, w, m = _linearisation(net, x)
    s0 = complex(_as_laplace(s0, "s0", scalar=True))
    L = (J + np.outer(m, w)) * D[None, :] - np.eye(J.shape[0])
    if s0.imag == 0:
        sigma = s0.real
    else:
        L, sigma = L.astype(complex), s0
    val = spla.eigs(L, k=1, sigma=sigma, which="LM", return_eigenvectors=False,
                    v0=np.ones(J.shape[0], dtype=L.dtype))
    return complex(val[0])
