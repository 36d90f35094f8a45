"""Clamped minimum-norm readout training (Rivkind & Barak 2017, section 2): the readout that
makes each clamped fixed point an exact closed-loop fixed point."""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array, as_positive_float
from .._deprecation import renamed_kwargs
from .._simulate import simulate
from ..network import random_network
from ..nonlinearities import get_nonlinearity


@renamed_kwargs(var_u="var_m", u_dist="feedback_dist")
def train_fixed_point_network(N: int, g: float, targets, *, phi: str = "tanh",
                              var_m: float = 1.0, feedback_dist: str = "normal",
                              settle: float = 150.0, dt: float = 0.1, rng=None):
    """The training protocol of the theory (spec section 2.2) on a random network.

    Feedback vector ``m ~ N(0, var_m)`` (``feedback_dist="normal"``; Rivkind & Barak call
    it ``u``) or ``U[-a, a]`` with ``a^2 / 3 = var_m`` (``feedback_dist="uniform"``,
    FORCE's convention); for each target the feedback is clamped to it and
    the network settles for ``settle`` time units (teacher forcing); the readout is the
    minimum-norm least-squares solution on the settled rates, ``w = R^T (R R^T)^{-1} A``
    (an M x M solve: exact, unlike a ridge fit with a vanishing penalty on N x N normal
    equations), so every settled state is a closed-loop fixed point. Returns
    ``(network, x_fixed)`` with ``x_fixed`` of shape (M, N).

    Raises
    ------
    RuntimeError
        If a clamped network has not settled (it is chaotic: the target is below the edge
        of chaos, spec section 8.8).
    """
    A = as_float_array(targets, "targets", 1)
    var_m = as_positive_float(var_m, "var_m")
    if feedback_dist not in ("normal", "uniform"):
        raise ValueError(f"feedback_dist must be 'normal' or 'uniform', got {feedback_dist!r}")
    scale = np.sqrt(var_m) if feedback_dist == "normal" else np.sqrt(3.0 * var_m)
    net = random_network(N, g, 0, 1, phi=phi, dt=dt, feedback_dist=feedback_dist,
                         feedback_scale=float(scale), rng=rng)
    T = int(round(settle / dt))
    Y = np.repeat(A[:, None, None], T, axis=1)
    X = simulate(net, None, np.zeros((A.size, N)), mode="teacher", targets=Y, n_steps=T,
                 record=()).x_final
    step = simulate(net, None, X, mode="teacher", targets=Y[:, :1], n_steps=1,
                    record=()).x_final
    if np.max(np.abs(step - X)) > 1e-8:
        raise RuntimeError("the clamped network did not settle to a fixed point (chaotic "
                           "below the edge of chaos?); increase the targets or settle")
    R = get_nonlinearity(phi).phi(X)
    w = R.T @ np.linalg.solve(R @ R.T, A)
    return net.with_readout(w[None, :]), X
