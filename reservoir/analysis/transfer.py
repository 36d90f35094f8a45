"""Exact finite-network linear response around a fixed point of a trained network with one
fed-back readout: open-loop transfer function, closed-loop gain, and the isolated eigenvalue
(outlier) near a given point (the finite-N counterparts of Rivkind & Barak 2017, eqs. for
``H_k(s)`` and ``T_k(s)``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

from .._checks import as_float_array
from ..network import Network
from ..nonlinearities import get_nonlinearity


def _linearisation(net, x):
    """``(J, D, w, u)`` of a trained single-output network at state ``x`` of shape (N,)."""
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


def network_open_loop(net, x, s) -> np.ndarray:
    """Exact finite-N open-loop transfer function ``H(s) = w^T D ((1+s) I - J D)^{-1} u``.

    Parameters
    ----------
    net : Network
        Trained network with one fed-back readout (unit time constant assumed: ``s`` is in
        units of ``1 / tau``).
    x : array_like, shape (N,)
        Fixed point (currents).
    s : complex or array_like of complex, shape (S,)

    Returns
    -------
    ndarray of complex, shape (S,)
    """
    J, D, w, u = _linearisation(net, x)
    s = np.atleast_1d(np.asarray(s, dtype=complex))
    JD = J * D[None, :]
    I = np.eye(J.shape[0])
    return np.array([(w * D) @ np.linalg.solve((1 + si) * I - JD, u) for si in s])


def network_closed_loop_gain(net, x, v, s=0.0) -> np.ndarray:
    """Exact response of the output to an input ``p(t)`` entering through the vector ``v``:
    ``dx/dt = -x + (J + u w^T) phi(x) + v p``, ``T_v(s) = w^T D (s I - L)^{-1} v`` with the
    closed-loop Jacobian ``L = -I + (J + u w^T) D``.

    Parameters
    ----------
    net : Network
    x : array_like, shape (N,)
    v : array_like, shape (N,) or (N, P)
        Input vector(s); ``v = u`` gives the feedback channel's ``T_k(s)`` (spec C4).
    s : complex
        One Laplace variable (default 0: the static gain).

    Returns
    -------
    ndarray of complex, shape () or (P,)
    """
    J, D, w, u = _linearisation(net, x)
    v = as_float_array(v, "v", (1, 2))
    if v.shape[0] != J.shape[0]:
        raise ValueError(f"v must have {J.shape[0]} rows, got shape {v.shape}")
    L = (J + np.outer(u, w)) * D[None, :] - np.eye(J.shape[0])
    sol = np.linalg.solve(complex(s) * np.eye(J.shape[0]) - L, v.astype(complex))
    return (w * D) @ sol


def network_outlier(net, x, s0: float) -> complex:
    """Eigenvalue of the closed-loop Jacobian ``L = -I + (J + u w^T) D`` nearest ``s0``.

    Shift-invert Arnoldi (one LU factorisation of ``L - s0 I``), so large ``N`` costs far
    less than a full eigen-decomposition. Use it for poles outside the bulk disc (centre
    -1, radius ``rho``), where the mean-field pole predicts an isolated eigenvalue.
    """
    J, D, w, u = _linearisation(net, x)
    L = (J + np.outer(u, w)) * D[None, :] - np.eye(J.shape[0])
    s0 = complex(s0)
    if s0.imag == 0:
        sigma = s0.real
    else:
        L, sigma = L.astype(complex), s0
    val = spla.eigs(L, k=1, sigma=sigma, which="LM", return_eigenvectors=False,
                    v0=np.ones(J.shape[0], dtype=L.dtype))
    return complex(val[0])
