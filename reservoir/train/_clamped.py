"""Clamped minimum-norm readout training (after Rivkind & Barak 2017): the readout that makes
each clamped fixed point an exact closed-loop fixed point."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_positive_float, check_memory
from .._deprecation import renamed_kwargs
from .._simulate import simulate
from .._checks import RngLike
from ..network import Network
from ..network import random_network
from ..nonlinearities import get_nonlinearity


@renamed_kwargs(var_u="var_m", u_dist="feedback_dist")
def train_fixed_point_network(N: int, g: float, targets: ArrayLike, *, phi: str = "tanh",
                              var_m: float = 1.0, feedback_dist: str = "normal",
                              settle: float = 150.0, dt: float = 0.1,
                              rng: RngLike = None) -> tuple[Network, np.ndarray]:
    """Train a random network's readout so that each target is a closed-loop fixed point.

    The protocol of Rivkind & Barak (2017), whose networks are trained by reservoir
    computing: for each target the feedback is clamped to it and the network settles for
    ``settle`` time units (teacher forcing); the readout is the minimum-norm least-squares
    solution on the settled rates, ``w = R^T (R R^T)^{-1} A`` (our choice of estimator, the
    one their theory describes exactly: an n_targets x n_targets solve, exact, unlike a
    ridge fit with a vanishing penalty on N x N normal equations), so every settled state
    is a closed-loop fixed point. The feedback vector ``m ~ N(0, var_m)``
    (``feedback_dist="normal"``; Rivkind & Barak call it ``u``) or ``U[-a, a]`` with
    ``a^2 / 3 = var_m`` (``feedback_dist="uniform"``, FORCE's convention).

    Parameters
    ----------
    N : int
        Number of units.
    g : float
        Gain of the random bulk ``J``.
    targets : array_like, shape (n_targets,)
        The target outputs ``A_k`` (readout units), one fixed point each.
    phi : str
        Nonlinearity name.
    var_m : float
        Variance of the entries of the feedback vector ``m = W_fb[:, 0]`` (> 0). (Was
        ``var_u``, deprecated.)
    feedback_dist : {"normal", "uniform"}
        Distribution of the entries of ``m``. (Was ``u_dist``, deprecated.)
    settle : float
        Time the clamped network is run before its state is taken (time units of ``dt``).
    dt : float
        Euler step (``tau = 1``).
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of all randomness (the network is drawn by :func:`random_network`).

    Returns
    -------
    network : Network
        The network with the trained readout ``W_out`` (shape (1, N)).
    x_fixed : ndarray, shape (n_targets, N)
        The settled states, one per target: fixed points of the closed loop.

    Raises
    ------
    ValueError
        If ``var_m``, ``settle`` or ``dt`` is not positive, ``feedback_dist`` is unknown,
        ``targets`` is not a non-empty 1-D array of finite values (at most ``N``), or the
        clamped trials cannot fit in physical memory; or if ``R R^T`` is singular (for
        example the targets ``A`` and ``-A`` with an odd ``phi``, which give the same
        constraint; was ``numpy.linalg.LinAlgError``).
    RuntimeError
        If a clamped network has not settled: it is chaotic, below the edge of chaos of the
        driven network (Rivkind & Barak 2017: ``g <[phi'^2]>^{1/2} = 1``).
    """
    A = as_float_array(targets, "targets", 1)
    var_m = as_positive_float(var_m, "var_m")
    if not isinstance(feedback_dist, str) or feedback_dist not in ("normal", "uniform"):
        raise ValueError(f"feedback_dist must be 'normal' or 'uniform', got {feedback_dist!r}")
    settle = as_positive_float(settle, "settle")
    dt = as_positive_float(dt, "dt")
    n_settle = settle / dt
    check_memory(8.0 * 3 * A.size * max(n_settle, 1.0), "settle / dt", n_settle,
                 what=f"the clamped targets of {A.size} trials")
    scale = np.sqrt(var_m) if feedback_dist == "normal" else np.sqrt(3.0 * var_m)
    net = random_network(N, g, 0, 1, phi=phi, dt=dt, feedback_dist=feedback_dist,
                         feedback_scale=float(scale), rng=rng)
    if A.size > net.N:
        raise ValueError(f"targets must number at most N = {net.N} (one constraint each on "
                         f"the readout), got {A.size}")
    T = int(round(n_settle))
    if T < 1:
        raise ValueError(f"settle must be at least one step dt={dt}, got {settle}")
    Y = np.repeat(A[:, None, None], T, axis=1)
    X = simulate(net, None, np.zeros((A.size, N)), mode="teacher", targets=Y, n_steps=T,
                 record=()).x_final
    step = simulate(net, None, X, mode="teacher", targets=Y[:, :1], n_steps=1,
                    record=()).x_final
    if np.max(np.abs(step - X)) > 1e-8:
        raise RuntimeError("the clamped network did not settle to a fixed point (chaotic "
                           "below the edge of chaos?); increase the targets or settle")
    R = get_nonlinearity(phi).phi(X)
    try:
        w = R.T @ np.linalg.solve(R @ R.T, A)
    except np.linalg.LinAlgError:
        raise ValueError("targets give linearly dependent settled rates (R R^T is singular: "
                         "repeated targets, or A and -A with an odd phi)") from None
    return net.with_readout(w[None, :]), X
