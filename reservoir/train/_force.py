"""FORCE learning (Sussillo & Abbott 2009): online recursive least squares, in closed loop
by default (teacher-forced or open-loop RLS on request), with an optional readout intercept
and forgetting factor (Haykin, *Adaptive Filter Theory*)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._checks import (as_float_array, as_int, as_positive_float, as_real, as_rng,
                       check_memory, check_rng)
from .._kernels import check_fork_safe, rls
from .._kernels.arrays import network_arrays
from .._checks import RngLike
from .._deprecation import renamed_kwargs
from .._progress import check_progress, is_shown, progress_bar
from .._results import ResultMixin
from ..errors import SimulationDivergedError
from ..network import Network
from ..nonlinearities import CODES
from .._simulate import check_mode
from ._ridge import _check_bool, as_trials, is_trial_list


@dataclass(frozen=True, eq=False, repr=False)
class ForceResult(ResultMixin):
    """Result of :func:`force`.

    Parameters
    ----------
    network : Network
        The network with the trained readout ``W_out`` (and ``b_out``).
    x_final : ndarray, shape (N,)
        State after the last step (of the last trial; continue a closed-loop test from
        here).
    P : ndarray, shape (N, N), (N + 1, N + 1) or None
        Final inverse correlation matrix (``return_P=True``; (N + 1, N + 1) with an
        intercept, its last row and column for the constant regressor 1); pass it back as
        ``P0`` to continue training.
    update_steps : ndarray of int, shape (U,)
        Step index of each RLS update.
    error_before : ndarray, shape (U, K)
        Readout error ``z - y`` just before each update (a priori, ``e_-``).
    error_after : ndarray, shape (U, K)
        Readout error just after each update (a posteriori, ``e_+``);
        ``e_+ = e_- lambda / (lambda + r^T P_old r)`` (``lambda = 1`` without forgetting).
    dw_norm : ndarray, shape (U,)
        Frobenius norm of each readout change ``|dW_out|`` (of ``[dW_out | db_out]``
        with an intercept).
    success : bool
        At least one RLS update was made (otherwise the readout is unchanged).
    messages : tuple of str
        Why nothing was trained (empty otherwise).
    n_updates : int
        Number of RLS updates ``U``.
    n_steps : int
        Number of time steps run (over every trial).
    b_out : ndarray, shape (K,)
        The readout intercept at the end (trained with ``intercept=True``, else
        ``net.b_out``).
    n_trials : int
        Number of trials run (1 for a single array).
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
    b_out: np.ndarray
    n_trials: int


logger = logging.getLogger(__name__)

#: Shortest run of steps per kernel call while a progress bar is shown (the bar advances
#: between calls; the state, ``P``, the readout and the pending downdate carry over, so the
#: results are the same bits as one call's).
_PROGRESS_CHUNK = 1000


def _time_chunks(T: int, chunk: int | None):
    """``(start, stop)`` of the kernel calls over ``T`` steps: one call without a bar
    (``chunk`` None) or for ``T = 0``, else calls of ``chunk`` steps."""
    if chunk is None or T == 0:
        return [(0, T)]
    return [(a, min(a + chunk, T)) for a in range(0, T, chunk)]


#: Smallest accepted penalty: ``P0 = I / reg`` is updated by terms of order ``1 / reg^2``,
#: which overflow below about 1e-154.
_MIN_REG = 1e-150


@renamed_kwargs(alpha="reg")
def force(net: Network, inputs: ArrayLike | None = None, targets: ArrayLike | None = None, *,
          reg: float = 1.0, update_every: int = 2,
          x0: ArrayLike | None = None, P0: ArrayLike | None = None, step_offset: int = 0,
          rng: RngLike = None, return_P: bool = False,
          mode: str = "closed", intercept: bool = False, forgetting: float = 1.0,
          feedback_noise_std: float = 0.0, reset_state: bool = False,
          progress: bool | None = None) -> ForceResult:
    """Train the readout online with FORCE (recursive least squares, closed loop by default).

    Sussillo & Abbott (2009). Each step ``t``: ``r = phi(x[t])``, a-priori readout
    ``z = W_out r + b_out``; every ``update_every`` steps (global step ``step_offset + t =
    k, 2k, ...``) the recursive least-squares update with forgetting factor ``lambda``
    (``forgetting``; the exponentially weighted RLS of Haykin, *Adaptive Filter Theory*,
    ch. 10)::

        k = P r;  c = 1 / (lambda + r^T k);  W_out <- W_out - c (z - y[t]) k^T;
        P <- (P - c k k^T) / lambda

    (the gain is ``c k = P r / (lambda + r^T P r)``), then ``x[t+1]`` is computed with the
    fed-back signal of ``mode``: in closed loop the a-priori ``z`` (the order of Sussillo &
    Abbott's reference code: state, readout, update). ``P`` starts at ``I / reg``; with
    ``lambda = 1`` it is the running inverse of ``sum r r^T + reg I`` (over the update
    steps), with ``lambda < 1`` of ``sum_j lambda^(n-1-j) r_j r_j^T + lambda^n reg I``
    after ``n`` updates, and ``W_out`` is then the exponentially weighted ridge readout
    (weight ``lambda^(n-1-j)`` on the ``j``-th update's sample, penalty ``lambda^n reg``
    towards the initial readout), so that old samples are forgotten with a memory of about
    ``1 / (1 - lambda)`` updates. ``P`` is kept exactly symmetric and updated in place
    (one sweep over its upper triangle per update, the lower one mirrored at the end; no
    N x N temporaries).

    With ``intercept=True`` the regressor is ``[r; 1]``: ``b_out`` is trained as the
    weight of a constant rate 1, and ``P`` is (N + 1) x (N + 1), starting at
    ``I / reg`` (so the intercept, unlike :func:`fit_ridge`'s, is penalised by ``reg``
    like the weights, the only way to start RLS; give ``P0`` with a large last diagonal
    entry for a weaker penalty on it). In closed loop the fed-back ``z`` includes
    ``b_out`` (the intercept of ``net`` when it is not trained).

    Parameters
    ----------
    net : Network
        Network to train; training starts from ``net.W_out`` (zero for a fresh
        :func:`~reservoir.random_network`) and ``net.b_out``.
    inputs : array_like, shape (T, M), or list of arrays (T_i, M), optional
        Inputs (``None``: zero input); a list (with ``targets`` a list) gives one array
        per trial.
    targets : array_like, shape (T, K), or list of arrays (T_i, K)
        Target ``y[t]`` for the readout. A list or tuple of two-dimensional arrays is a
        list of trials of any lengths, run in list order in one call: ``P``, the readout
        and the update schedule (the global step count) carry on from one trial to the
        next, and the state too unless ``reset_state`` (the same as calling ``force`` on
        each trial in turn with the previous ``P``, network and ``step_offset``, and
        ``x_final`` or ``x0`` as the start).
    reg : float
        Regulariser, ``P(0) = I / reg`` (> 0): the ridge penalty of :func:`fit_ridge`
        (Sussillo & Abbott's ``alpha``, the inverse learning rate), in the units of
        ``sum r r^T``. (Was ``alpha``, deprecated: ``Network.alpha`` is ``dt / tau``.)
    update_every : int
        Steps between RLS updates (>= 1).
    x0 : array_like, shape (N,) or (n_trials, N), optional
        Initial state; default ``0.5 * N(0, 1)`` per unit drawn from ``rng`` (Sussillo &
        Abbott). With ``reset_state=True`` every trial starts from it (from its own row
        when it has one row per trial).
    P0 : array_like, shape (N, N) or (N + 1, N + 1), optional
        Initial ``P`` (symmetric positive definite) instead of ``I / reg``; (N + 1, N + 1)
        with ``intercept=True`` (last row and column: the intercept).
    step_offset : int
        Global index of the first step (>= 0). To continue a training run exactly, pass
        the previous run's ``x_final``, ``P`` (``return_P=True``), network and the number of
        steps already taken, so the update schedule carries on where it stopped.
    rng : None, int, SeedSequence or Generator
        Draws the default ``x0`` (first) and then the feedback noise, one (T_i, K) array
        of standard normals per trial in list order.
    return_P : bool
        Keep the final ``P`` in the result.
    mode : {"closed", "teacher", "open"}
        What is fed back through ``W_fb`` while training (see :func:`reservoir.simulate`):
        ``"closed"`` (FORCE: the network's own a-priori ``z``), ``"teacher"`` (the target
        ``y[t]``, plus the feedback noise: RLS on teacher-forced states, whose rates do not
        depend on the readout), ``"open"`` (nothing).
    intercept : bool
        Train the readout intercept ``b_out`` as well (default False: ``b_out`` stays
        ``net.b_out``).
    forgetting : float
        Forgetting factor ``lambda`` in (0, 1] (default 1: no forgetting, the standard
        FORCE). Below 1, ``P`` grows by ``1 / lambda`` per update along directions the
        rates do not excite and can overflow in a long run: that raises
        ``FloatingPointError``.
    feedback_noise_std : float
        Standard deviation ``sigma`` (readout units, >= 0, default 0) of Gaussian white
        noise added to the fed-back target with ``mode="teacher"`` (the error is still
        that of the clean target); the same option as :func:`reservoir.simulate`'s and
        :func:`fit_ridge`'s. Only with ``mode="teacher"``.
    reset_state : bool
        With a list of trials: start every trial from ``x0`` (True) instead of from the
        state where the previous trial ended (False, the default). ``P``, the readout
        and the step count carry on in both cases.
    progress : bool or None
        A ``tqdm`` progress bar on standard error over the time steps (of all trials).
        ``None`` (default): only when standard error is a terminal; ``True``: always;
        ``False``: never. While it is shown the steps run in pieces of at least 1,000
        (state, ``P``, readout and update schedule carried over): the results are the
        same bits as without it.

    Returns
    -------
    ForceResult
        The trained network, the final state and the record of every update.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``, a flag is not a bool, ``mode`` not a string, or
        ``inputs`` not a list when ``targets`` is a list of trials.
    ValueError
        If ``targets`` is missing or an empty list, or an argument has the wrong shape or
        value (``reg`` below 1e-150, ``P0`` not symmetric positive definite, ``forgetting`` outside (0, 1],
        ``feedback_noise_std > 0`` without ``mode="teacher"``, an invalid ``rng`` even
        when unused, ...), or ``P`` cannot fit in physical memory.
    SimulationDivergedError
        If the state becomes non-finite (``trial`` is the index of the trial in a list).
    FloatingPointError
        If ``lambda + r^T P r`` is not a positive finite number (``P`` has lost positive
        definiteness, or overflowed with ``forgetting < 1``), or ``P`` or the readout is
        not finite at the end.
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
    mode_code = check_mode(mode)
    intercept = _check_bool(intercept, "intercept")
    reset_state = _check_bool(reset_state, "reset_state")
    lam = _check_forgetting(forgetting)
    progress = check_progress(progress)
    feedback_noise_std = as_positive_float(feedback_noise_std, "feedback_noise_std",
                                           allow_zero=True)
    if feedback_noise_std > 0 and mode != "teacher":
        raise ValueError(f"feedback_noise_std > 0 needs mode='teacher' (the noise is added "
                         f"to the fed-back target), got mode={mode!r}")
    N, M, K = net.N, net.n_inputs, net.n_outputs
    Na = N + int(intercept)
    check_memory(8.0 * (2 * Na * Na + 4 * Na), "net", f"a network of N={N} units",
                 what=f"the RLS matrix P ({Na}, {Na}) and its copy")
    trial_list = is_trial_list(targets, inputs)
    if trial_list:
        trials = [(U_i, Y_i) for U_i, Y_i, _ in as_trials(net, inputs, targets)]
    else:
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
        trials = [(U, Y)]
    n_trials = len(trials)
    gen = None
    if x0 is None:
        gen = as_rng(rng)
        x = 0.5 * gen.standard_normal(N)
        starts = None
    else:
        X0 = as_float_array(x0, "x0", (1, 2))
        if X0.shape == (N,):
            starts = None
            x = X0.copy()
        elif trial_list and reset_state and X0.shape == (n_trials, N):
            starts = X0
            x = X0[0].copy()
        else:
            want = (f"({N},) or ({n_trials}, {N}) (one row per trial, with reset_state)"
                    if trial_list else f"({N},)")
            raise ValueError(f"x0 must have shape {want}, got {X0.shape}")
    x_start = x.copy()
    if P0 is None:
        P = np.eye(Na) / reg
    else:
        P = as_float_array(P0, "P0", 2).copy()
        if P.shape != (Na, Na):
            extra = " (N + 1 with intercept=True)" if intercept else ""
            raise ValueError(f"P0 must have shape ({Na}, {Na}){extra}, got {P.shape}")
        if not np.array_equal(P, P.T):
            raise ValueError("P0 must be symmetric")
        try:
            np.linalg.cholesky(P)
        except np.linalg.LinAlgError:
            raise ValueError("P0 must be positive definite (the inverse of a correlation "
                             "matrix plus penalty): its Cholesky factorisation failed") from None
    if feedback_noise_std > 0 and gen is None:
        gen = as_rng(rng)
    W_out = np.array(net.W_out, dtype=np.float64, order="C", copy=True)
    b_out = np.array(net.b_out, dtype=np.float64, order="C", copy=True)
    use_b = bool(intercept or np.any(b_out != 0))
    T_total = sum(U_i.shape[0] for U_i, _ in trials)
    # updates at global steps g = step_offset + t (0 <= t < T) with g > 0, g % k == 0
    n_upd = ((step_offset + T_total - 1) // update_every
             - max(0, (step_offset - 1) // update_every))
    e_minus = np.zeros((n_upd, K))
    e_plus = np.zeros((n_upd, K))
    dw = np.zeros(n_upd)
    steps = np.zeros(n_upd, dtype=np.int64)
    s_pend = np.zeros(Na)  # pending rank-1 downdate sqrt(c) k, applied lazily by the kernel
    pending = np.zeros(1)
    arrays = network_arrays(net, W_out=W_out)     # W_out: the readout trained in place
    code = CODES[net.phi]
    n_done = 0
    offset = step_offset
    logger.info("force: N=%d, %d trial(s), %d steps, %d RLS updates (update_every=%d), "
                "mode %r", N, n_trials, T_total, n_upd, update_every, mode)
    bar = progress_bar(T_total, "force", progress, unit="step")
    chunk = max(_PROGRESS_CHUNK, -(-T_total // 200)) if is_shown(bar) else None
    for i, (U_i, Y_i) in enumerate(trials):
        if reset_state and i > 0:
            x[:] = x_start if starts is None else starts[i]
        Y_fb = Y_i
        if feedback_noise_std > 0:
            Y_fb = Y_i + feedback_noise_std * gen.standard_normal(Y_i.shape)
        check_fork_safe()
        for a, b in _time_chunks(U_i.shape[0], chunk):   # state carried across the calls
            status, n_done = rls.force_run(arrays, net.alpha, code, mode_code, x, U_i[a:b],
                                           Y_i[a:b], Y_fb[a:b], P, b_out, use_b, lam,
                                           update_every, s_pend, pending, e_minus, e_plus,
                                           dw, steps, offset + a, n_done)
            bar.update(b - a)
            if status != -1:
                break
        if status != -1:
            bar.close()
        if status <= -2:
            raise FloatingPointError(
                f"FORCE: lambda + r^T P r is not a positive finite number at step "
                f"{-2 - status}{f' (trial {i})' if trial_list else ''}: P is no longer "
                "positive definite (increase reg)"
                + (" or has overflowed (P grows by 1/lambda along directions the rates do "
                   "not excite: increase forgetting or reg)" if lam < 1 else ""))
        if status >= 0:
            raise SimulationDivergedError(status, i, what="FORCE training")
        offset += U_i.shape[0]
    bar.close()
    rls.flush_downdate(P, s_pend, pending[0], 1.0 / lam)
    if lam < 1 and not (np.all(np.isfinite(P)) and np.all(np.isfinite(W_out))
                        and np.all(np.isfinite(b_out))):
        raise FloatingPointError(
            "FORCE: P or the readout overflowed with forgetting < 1 (P grows by 1/lambda "
            "along directions the rates do not excite): increase forgetting or reg")
    logger.info("force: %d steps, %d RLS updates done", T_total, n_done)
    messages = () if n_done > 0 else (
        f"no RLS update in steps {step_offset}..{step_offset + T_total - 1} (updates at "
        f"positive multiples of update_every={update_every}): the readout is unchanged",)
    return ForceResult(network=net.with_readout(W_out, b_out), x_final=x,
                       P=P if return_P else None, update_steps=steps[:n_done],
                       error_before=e_minus[:n_done], error_after=e_plus[:n_done],
                       dw_norm=dw[:n_done], success=n_done > 0, messages=messages,
                       n_updates=int(n_done), n_steps=T_total, b_out=b_out,
                       n_trials=n_trials)


def _check_forgetting(value) -> float:
    """The forgetting factor ``lambda`` as a float in (0, 1]."""
    lam = as_real(value, "forgetting")
    if not 0.0 < lam <= 1.0:
        raise ValueError(f"forgetting must be in (0, 1], got {lam}")
    return lam
