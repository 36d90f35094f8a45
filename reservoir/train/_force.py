"""FORCE learning (Sussillo & Abbott 2009): online recursive least squares in closed loop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import (as_float_array, as_int, as_positive_float, as_rng, check_memory,
                       check_rng)
from .._kernels import rls
from .._kernels.arrays import network_arrays
from .._deprecation import renamed_kwargs
from .._results import ResultMixin
from ..errors import SimulationDivergedError
from ..network import Network
from ..nonlinearities import CODES


@dataclass(frozen=True, eq=False, repr=False)
class ForceResult(ResultMixin):
    """Result of :func:`force`.

    Parameters
    ----------
    network : Network
        The network with the trained readout ``W_out``.
    x_final : ndarray, shape (N,)
        State after the last step (continue a closed-loop test from here).
    P : ndarray, shape (N, N) or None
        Final inverse correlation matrix (``return_P=True``); pass it back as ``P0`` to
        continue training.
    update_steps : ndarray of int, shape (U,)
        Step index of each RLS update.
    error_before : ndarray, shape (U, K)
        Readout error ``z - y`` just before each update (a priori, ``e_-``).
    error_after : ndarray, shape (U, K)
        Readout error just after each update (a posteriori, ``e_+``);
        ``e_+ = e_- / (1 + r^T P_old r)``.
    dw_norm : ndarray, shape (U,)
        Frobenius norm of each readout change ``|dW_out|``.
    success : bool
        At least one RLS update was made (otherwise the readout is unchanged).
    messages : tuple of str
        Why nothing was trained (empty otherwise).
    n_updates : int
        Number of RLS updates ``U``.
    n_steps : int
        Number of time steps run.
    """

    network: Network
    x_final: np.ndarray
    P: np.ndarray | None
    update_steps: np.ndarray
    error_before: np.ndarray
    error_after: np.ndarray
    dw_norm: np.ndarray
    success: bool
    messages: tuple
    n_updates: int
    n_steps: int


#: Smallest accepted penalty: ``P0 = I / reg`` is updated by terms of order ``1 / reg^2``,
#: which overflow below about 1e-154.
_MIN_REG = 1e-150


@renamed_kwargs(alpha="reg")
def force(net: Network, inputs=None, targets=None, *, reg: float = 1.0, update_every: int = 2,
          x0=None, P0=None, step_offset: int = 0, rng=None,
          return_P: bool = False) -> ForceResult:
    """Train the readout online with FORCE (closed-loop recursive least squares).

    Sussillo & Abbott (2009). Each step ``t``: ``r = phi(x[t])``, a-priori readout
    ``z = W_out r``; every ``update_every`` steps (global step ``step_offset + t = k, 2k,
    ...``) the RLS update::

        k = P r;  c = 1 / (1 + r^T k);  P <- P - c k k^T;  W_out <- W_out - c (z - y[t]) k^T

    then ``x[t+1]`` is computed with the a-priori ``z`` fed back (the order of Sussillo &
    Abbott's reference code: state, readout, update). ``P`` starts at ``I / reg`` and is
    the running inverse of ``sum r r^T + reg I``; it is kept exactly symmetric and
    updated in place (one sweep per update, no N x N temporaries).

    Parameters
    ----------
    net : Network
        Network to train; training starts from ``net.W_out`` (zero for a fresh
        :func:`~reservoir.random_network`).
    inputs : array_like, shape (T, M), optional
        Inputs (``None``: zero input).
    targets : array_like, shape (T, K)
        Target ``y[t]`` for the readout.
    reg : float
        Regulariser, ``P(0) = I / reg`` (> 0): the ridge penalty of :func:`fit_ridge`
        (Sussillo & Abbott's ``alpha``, the inverse learning rate), in the units of
        ``sum r r^T``. (Was ``alpha``, deprecated: ``Network.alpha`` is ``dt / tau``.)
    update_every : int
        Steps between RLS updates (>= 1).
    x0 : array_like, shape (N,), optional
        Initial state; default ``0.5 * N(0, 1)`` per unit drawn from ``rng`` (Sussillo &
        Abbott).
    P0 : array_like, shape (N, N), optional
        Initial ``P`` (symmetric positive definite) instead of ``I / reg``.
    step_offset : int
        Global index of the first step (>= 0). To continue a training run exactly, pass
        the previous run's ``x_final``, ``P`` (``return_P=True``), network and the number of
        steps already taken, so the update schedule carries on where it stopped.
    rng : None, int, SeedSequence or Generator
        Used only to draw the default ``x0``.
    return_P : bool
        Keep the final ``P`` in the result.

    Returns
    -------
    ForceResult
        The trained network, the final state and the record of every update.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``.
    ValueError
        If ``targets`` is missing, or an argument has the wrong shape or value (``reg``
        below 1e-150, ``P0`` not symmetric, an invalid ``rng`` even when unused, ...), or
        ``P`` (N, N) cannot fit in physical memory.
    SimulationDivergedError
        If the state becomes non-finite.
    FloatingPointError
        If ``1 + r^T P r <= 0`` (``P`` has lost positive definiteness).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if targets is None:
        raise ValueError("targets is required")
    reg = as_positive_float(reg, "reg")
    if reg < _MIN_REG:
        raise ValueError(f"reg must be >= {_MIN_REG:g} (P0 = I / reg and its rank-1 updates, "
                         f"of order 1 / reg^2, must stay finite), got {reg:g}")
    update_every = as_int(update_every, "update_every", minimum=1)
    step_offset = as_int(step_offset, "step_offset", minimum=0)
    check_rng(rng)  # validated even when x0 is given and it is not used
    if not isinstance(return_P, (bool, np.bool_)):
        raise TypeError(f"return_P must be a bool, got {type(return_P).__name__}")
    N, M, K = net.N, net.n_inputs, net.n_outputs
    check_memory(8.0 * (2 * N * N + 4 * N), "net", f"a network of N={N} units",
                 what="the RLS matrix P (N, N) and its copy")
    Y = as_float_array(targets, "targets", 2)
    T = Y.shape[0]
    if Y.shape[1] != K:
        raise ValueError(f"targets must have shape (T, {K}), got {Y.shape}")
    if inputs is None:
        U = np.zeros((T, M))
    else:
        U = as_float_array(inputs, "inputs", 2, allow_empty=True)
        if U.shape != (T, M):
            raise ValueError(f"inputs must have shape ({T}, {M}) to match targets and "
                             f"net.W_in, got {U.shape}")
    if x0 is None:
        x = 0.5 * as_rng(rng).standard_normal(N)
    else:
        x = as_float_array(x0, "x0", 1).copy()
        if x.shape != (N,):
            raise ValueError(f"x0 must have shape ({N},), got {x.shape}")
    if P0 is None:
        P = np.eye(N) / reg
    else:
        P = as_float_array(P0, "P0", 2).copy()
        if P.shape != (N, N):
            raise ValueError(f"P0 must have shape ({N}, {N}), got {P.shape}")
        if not np.array_equal(P, P.T):
            raise ValueError("P0 must be symmetric")
    W_out = np.array(net.W_out, dtype=np.float64, order="C", copy=True)
    # updates at global steps g = step_offset + t (0 <= t < T) with g > 0, g % k == 0
    n_upd = (step_offset + T - 1) // update_every - max(0, (step_offset - 1) // update_every)
    e_minus = np.zeros((n_upd, K))
    e_plus = np.zeros((n_upd, K))
    dw = np.zeros(n_upd)
    steps = np.zeros(n_upd, dtype=np.int64)
    s_pend = np.zeros(N)   # pending rank-1 downdate sqrt(c) k, applied lazily by the kernel
    pending = np.zeros(1)
    arrays = network_arrays(net, W_out=W_out)     # W_out: the readout trained in place
    status, n_done = rls.force_run(arrays, net.alpha, CODES[net.phi], x, U, Y, P, update_every,
                                   s_pend, pending, e_minus, e_plus, dw, steps, step_offset, 0)
    if status <= -2:
        raise FloatingPointError(
            f"FORCE: 1 + r^T P r <= 0 at step {-2 - status}: P is no longer positive "
            "definite (increase reg)")
    if status >= 0:
        raise SimulationDivergedError(status, 0, what="FORCE training")
    rls.flush_downdate(P, s_pend, pending[0])
    messages = () if n_done > 0 else (
        f"no RLS update in steps {step_offset}..{step_offset + T - 1} (updates at positive "
        f"multiples of update_every={update_every}): the readout is unchanged",)
    return ForceResult(network=net.with_readout(W_out), x_final=x,
                       P=P if return_P else None, update_steps=steps[:n_done],
                       error_before=e_minus[:n_done], error_after=e_plus[:n_done],
                       dw_norm=dw[:n_done], success=n_done > 0, messages=messages,
                       n_updates=int(n_done), n_steps=T)
