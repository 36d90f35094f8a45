"""Global stability of a closed-loop network: attractors, basins, chaos.

:func:`stability_report` answers the package's question for a network trained to hold an
output: *is the target a stable attractor, and is it the only one?* It combines

* all fixed points (:func:`~reservoir.analysis.fixed_points.find_fixed_points`) with their
  linear stability;
* basins, estimated by simulating many random initial states (batched) until they
  converge, and assigning each to the fixed point it reached;
* the largest Lyapunov exponent of a closed-loop trajectory (Benettin's two-trajectory
  method, with a perturbation relative to the state's size), positive for a chaotic
  attractor; a trajectory that grows without bound gives ``+inf`` and a message, never a
  calm "not chaotic".

Whether a readout is "at the target" is decided by one rule, ``|z_k - A_k| <= atol +
rtol |A_k|`` (:mod:`reservoir.analysis._target`), shared with the readout geometry and the
theory comparison.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._checks import (as_float_array, as_int, as_positive_float, as_rng, check_memory,
                       check_steps)
from .._progress import check_progress, progress_bar
from .._results import ResultMixin
from .._checks import RngLike
from ..network import Network
from ..nonlinearities import get_nonlinearity
from .._simulate import closed_loop_runner, simulate
from ..errors import SimulationDivergedError
from ._target import (TARGET_ATOL, TARGET_RTOL, at_target, deprecated_target_tol,
                      describe_rule, match_target)
from ._contraction import contraction_ball, effective_weights
from .fixed_points import FixedPoints, check_points_of, find_fixed_points

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False, repr=False)
class StabilityReport(ResultMixin):
    """Local and global stability of a closed-loop network at constant input.

    Its ``repr`` is a short summary (arrays by shape); the fixed points themselves are in
    ``fixed_points`` (a point collection, indexable by mask or index).

    Parameters
    ----------
    fixed_points : FixedPoints
        All fixed points found, with their linear stability (``P`` points).
    target : ndarray, shape (K,) or None
        The trained output (readout units), if given.
    target_index : int or None
        Row of ``fixed_points`` (a fixed point, not a slow point) that is the target: its
        readout is at ``target`` by the target rule ``|z_k - A_k| <= target_atol +
        target_rtol |A_k|`` (the nearest such row).
    target_stable : bool
        The target fixed point exists and is linearly stable.
    spurious : ndarray of int
        Rows of the *stable* fixed points other than the target (all stable rows when no
        target is given or none matches it).
    basin_fraction : ndarray, shape (P,)
        Fraction of the random initial states that converged to each fixed point.
    fraction_to_target : float
        Fraction of initial states that settled with their readout at the target (the
        target rule; nan without a target).
    fraction_unconverged : float
        Fraction that did not settle (chaos, oscillation, slow convergence, or
        divergence: see ``n_diverged``).
    final_z : ndarray, shape (n_init, K)
        Readout ``W_out phi(x) + b_out`` of every simulated trial at the end (readout
        units).
    converged : ndarray of bool, shape (n_init,)
        Whether each trial settled (``max |F(x)| < converged_tol``) or entered a proved
        ball of attraction of a stable fixed point (see ``n_contracted``).
    lyapunov_exponent : float
        Largest Lyapunov exponent estimate (1/time) of a closed-loop trajectory from a
        random initial state (nan if not computed; ``+inf`` if that trajectory diverged,
        see ``divergence_time``).
    chaotic : bool
        ``lyapunov_exponent`` is finite and above ``0.01 / tau``, and some trial did not
        settle. A diverging trajectory is not chaos: False, with a message.
    globally_stable : bool
        The target is stable, no other stable fixed point exists, every initial state
        reached it and no trajectory diverged.
    success : bool
        The analysis can be trusted: the fixed-point search succeeded
        (``fixed_points.success``) and every trial that settled settled on one of the
        fixed points found (``n_unmatched == 0``). Unconverged trials (chaos, slow
        convergence) are a finding, not a failure.
    messages : tuple of str
        The fixed-point search's messages and this analysis' (empty when there is nothing
        to say).
    n_chunks : int
        Simulation chunks of ``chunk`` time units run for the basins.
    n_unmatched : int
        Trials that settled on a state that is not among the fixed points found.
    n_diverged : int
        Basin trials whose state left ``max_i |x_i| <= divergence_bound`` or became
        non-finite (each is also unconverged).
    n_contracted : int
        Trials stopped early because they entered a ball around a stable fixed point in
        which the simulated (Euler) map is proved to contract (``contraction_balls=True``); they
        count as converged to that point and their final state is the point itself.
    divergence_time : float
        Time (from its start) at which the Lyapunov trajectory was found beyond the bound
        (to within the renormalisation interval, 1 time unit); nan if it did not diverge
        or was not run.
    """

    fixed_points: FixedPoints
    target: np.ndarray | None
    target_index: int | None
    target_stable: bool
    spurious: np.ndarray
    basin_fraction: np.ndarray
    fraction_to_target: float
    fraction_unconverged: float
    final_z: np.ndarray
    converged: np.ndarray
    lyapunov_exponent: float
    chaotic: bool
    globally_stable: bool
    success: bool
    messages: tuple
    n_chunks: int
    n_unmatched: int
    n_diverged: int = 0
    n_contracted: int = 0
    divergence_time: float = float("nan")


def _closed_residual(net: Network, X, c):
    """``F(x)`` of the closed loop for each row of ``X``; ``c = W_in u + b + W_fb b_out``
    (the fed-back intercept included)."""
    R = get_nonlinearity(net.phi).phi(X)
    JR = (net.J @ R.T).T if net.is_sparse else R @ net.J.T
    return -X + JR + (R @ net.W_out.T) @ net.W_fb.T + c


#: Default divergence bound of :func:`lyapunov_exponent` and :func:`stability_report`:
#: a state with ``max |x_i|`` above it (state units) counts as diverged.
DIVERGENCE_BOUND = 1e10


def _norm(v) -> float:
    """Euclidean norm without overflow for entries near the largest float."""
    m = float(np.max(np.abs(v)))
    return m * float(np.linalg.norm(v / m)) if 0.0 < m < np.inf else m


#: Longest piece (steps) simulated in one call by the Lyapunov estimate.
_MAX_PIECE = 1 << 16


def _lyapunov(net: Network, u, x, duration, transient, interval, d0, bound, gen,
              with_growth=False):
    """Benettin's estimate with a relative perturbation; returns ``(exponent, t_div)``
    (and, ``with_growth``, the state's growth: the least-squares slope of
    ``log max(1, |x|)`` over the averaging window (1/time) and the ratio of ``max(1, |x|)``
    at its end and start).

    The perturbation starts with the transient, renormalised at every interval but not
    averaged, so that it has aligned with the growing direction when averaging starts
    (started after the transient, a random direction biases the estimate down by about
    ``log(sqrt(N)) / duration``). ``t_div`` is the time (from the start of the transient)
    of the first interval end at which the reference or perturbed state had
    ``max |x_i| > bound`` or a non-finite entry; the exponent is then ``+inf``. ``t_div``
    is nan when nothing diverged.
    """
    steps = max(1, int(round(interval / net.dt)))
    t = 0.0

    def out(lam, t_div, slope=np.nan, ratio=np.nan):
        return (lam, t_div, slope, ratio) if with_growth else (lam, t_div)

    run = closed_loop_runner(net, u)

    def advance(x, n):
        """Run the state(s) ``x`` (N,) or (2, N) n steps; ``None`` if one left the
        bound."""
        while n > 0:              # in pieces, so that a long interval needs no long input
            m = min(n, _MAX_PIECE)
            x = run(x, m)
            if x is None or np.max(np.abs(x)) > bound:
                return None
            n -= m
        return x

    if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > bound:
        return out(np.inf, 0.0)
    direction = gen.standard_normal(net.N)
    scale = max(1.0, _norm(x))
    y = x + (d0 * scale) * (direction / np.linalg.norm(direction))

    def step_pair(x, y, n):
        """Both states as one batch of two (one pass over ``J`` per step for both)."""
        xy = advance(np.stack([x, y]), n)
        if xy is None:
            return None
        x, y = xy
        d = _norm(y - x)
        return x, y, d

    n_tr = int(round(transient / net.dt))
    while n_tr > 0:
        n = min(steps, n_tr)
        r = step_pair(x, y, n)
        t += n * net.dt
        if r is None:
            return out(np.inf, t)
        x, y, d = r
        n_tr -= n
        scale = max(1.0, _norm(x))
        if d == 0.0:   # merged exactly: restart the perturbation in a fresh direction
            direction = gen.standard_normal(net.N)
            y = x + (d0 * scale) * (direction / np.linalg.norm(direction))
        else:
            y = x + (d0 * scale / d) * (y - x)
    n_int = max(1, int(round(duration / (steps * net.dt))))
    total = 0.0
    logs = [np.log(max(1.0, _norm(x)))]
    for _ in range(n_int):
        r = step_pair(x, y, steps)
        t += steps * net.dt
        if r is None:
            return out(np.inf, t)
        x, y, d = r
        if d == 0.0:
            return out(-np.inf, np.nan)
        total += np.log(d / (d0 * scale))
        scale = max(1.0, _norm(x))
        logs.append(np.log(scale))
        y = x + (d0 * scale / d) * (y - x)
    T = n_int * steps * net.dt
    times = np.arange(n_int + 1) * steps * net.dt
    slope = float(np.polyfit(times, logs, 1)[0]) if n_int > 1 else np.nan
    return out(total / T, np.nan, slope, float(np.exp(logs[-1] - logs[0])))


def lyapunov_exponent(net: Network, u: ArrayLike | None = None, x0: ArrayLike | None = None, *,
                      duration: float = 200.0,
                      transient: float = 50.0, interval: float = 1.0, d0: float = 1e-8,
                      divergence_bound: float = DIVERGENCE_BOUND, rng: RngLike = None) -> float:
    """Largest Lyapunov exponent (1/time) of the closed loop at constant input.

    Benettin's method: a reference and a perturbed trajectory are run side by side; every
    ``interval`` time units the growth of their distance is logged and the perturbation
    renormalised. The perturbation is *relative*: its length is ``d0 max(1, |x|)`` (``|x|``
    the Euclidean norm of the reference state at the renormalisation), so that it stays far
    above the rounding of the state however large the state grows. The mean log growth
    rate over ``duration`` (after ``transient``) estimates the exponent of the simulated
    (Euler) dynamics: positive for chaos, and, when the trajectory settles on a fixed point,
    ``log|1 - alpha + alpha mu_1| / dt`` with ``mu_1`` the eigenvalue of ``J_cl D`` that
    maximises it (``Re(mu_1) - 1`` over ``tau`` as ``dt -> 0``).

    Divergence is not stability: when the reference or the perturbed state leaves the bound
    (``max_i |x_i| > divergence_bound``) or becomes non-finite, during the transient or the
    averaging, the result is ``+inf`` (the growth is unbounded; no exception is raised).
    :func:`stability_report` gives the time at which the bound was crossed.

    Parameters
    ----------
    net : Network
        The network, run in closed loop.
    u : array_like, shape (M,), optional
        Constant input (default 0).
    x0 : array_like, shape (N,), optional
        Initial state (default: standard normal entries drawn from ``rng``).
    duration : float
        Time (time units) over which the growth rate is averaged.
    transient : float
        Time (time units) simulated and discarded first.
    interval : float
        Time (time units) between renormalisations (and divergence checks).
    d0 : float
        Relative length of the perturbation: ``d0 max(1, |x|)`` (state units; ``d0``
        itself while ``|x| <= 1``).
    divergence_bound : float
        A state with ``max_i |x_i|`` above this (state units) has diverged.
    rng : None, int, SeedSequence or Generator
        Initial state and perturbation direction.

    Returns
    -------
    float
        The exponent (1/time); ``+inf`` if the trajectory diverged (left the bound or
        became non-finite); ``-inf`` if the two trajectories merged exactly (a map that
        contracts to a point in finitely many steps).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If a duration, ``interval``, ``d0`` or ``divergence_bound`` is not positive, or an
        array is not finite.
    """
    lam, _ = _lyapunov_checked(net, u, x0, duration, transient, interval, d0,
                               divergence_bound, rng)
    return lam


def _check_lyapunov_times(net, duration, transient, interval):
    """Refuse durations that need more steps than one call may run, or more memory for the
    logged growth (one float per interval) than the machine has."""
    check_steps(duration, net.dt, "duration")
    check_steps(transient, net.dt, "transient")
    steps = max(1, check_steps(interval, net.dt, "interval"))
    n_int = duration / (steps * net.dt)
    check_memory(16.0 * n_int, "duration", duration,
                 what=f"the log of {n_int:.3g} renormalisation intervals")


def _lyapunov_checked(net, u, x0, duration, transient, interval, d0, bound, rng):
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    duration = as_positive_float(duration, "duration")
    transient = as_positive_float(transient, "transient", allow_zero=True)
    interval = as_positive_float(interval, "interval")
    d0 = as_positive_float(d0, "d0")
    bound = as_positive_float(bound, "divergence_bound")
    _check_lyapunov_times(net, duration, transient, interval)
    gen = as_rng(rng)
    u = np.zeros(net.n_inputs) if u is None else as_float_array(u, "u", 1, allow_empty=True)
    if u.shape != (net.n_inputs,):
        raise ValueError(f"u must have shape ({net.n_inputs},), got {u.shape}")
    if x0 is None:
        x = gen.standard_normal(net.N)
    else:
        x = as_float_array(x0, "x0", 1).copy()
        if x.shape != (net.N,):
            raise ValueError(f"x0 must have shape ({net.N},), got {x.shape}")
    return _lyapunov(net, u, x, duration, transient, interval, d0, bound, gen)


@deprecated_target_tol
def stability_report(net: Network, u: ArrayLike | None = None, target: ArrayLike | None = None, *,
                     n_init: int = 1000,
                     init_scale: float = 1.0, duration: float = 100.0, chunk: float = 5.0,
                     converged_tol: float = 1e-6, target_atol: float = TARGET_ATOL,
                     target_rtol: float = TARGET_RTOL, match_tol: float = 1e-3,
                     lyapunov: bool = True, divergence_bound: float = DIVERGENCE_BOUND,
                     fixed_points: FixedPoints | None = None, rng: RngLike = None,
                     contraction_balls: bool = True,
                     progress: bool | None = None) -> StabilityReport:
    """Local and global stability of the closed loop at constant input ``u``.

    The target rule is the package's one rule (shared with :func:`readout_geometry` and
    :func:`~reservoir.predict`): a readout ``z`` is at the target ``A`` when
    ``|z_k - A_k| <= target_atol + target_rtol |A_k|`` for every readout ``k``; the target
    point is the nearest such fixed point. The keyword ``target_tol=t`` of earlier
    releases is deprecated and means ``target_atol=t, target_rtol=0``. Readouts include
    the network's intercept, ``z = W_out phi(x) + b_out`` (fed back in closed loop as the
    constant current ``W_fb b_out``), so ``target`` is compared with what the network
    outputs.

    Divergence is reported, not read as stability: basin trials whose state leaves
    ``max_i |x_i| <= divergence_bound`` (or becomes non-finite) are counted in
    ``n_diverged``; a diverging Lyapunov trajectory gives ``lyapunov_exponent = +inf`` and
    ``divergence_time``; either one adds a message, and then neither ``chaotic`` nor
    ``globally_stable`` is True.

    Parameters
    ----------
    net : Network
        The network, analysed in closed loop.
    u : array_like, shape (M,), optional
        Constant input (default 0).
    target : float or array_like, shape (K,), optional
        The output the network was trained to hold (readout units).
    n_init : int
        Number of random initial states ``x0 ~ N(0, init_scale^2)`` (per unit) for the
        basins; they are simulated as one batch, in chunks of ``chunk`` time units, until
        every trial has ``max |F(x)| < converged_tol`` or ``duration`` has elapsed.
    init_scale : float
        Std of the entries of the random initial states (state units).
    duration : float
        Longest simulated time (time units) for the basins.
    chunk : float
        Time (time units) simulated between two convergence checks.
    converged_tol : float
        A trial has settled when ``max |F(x)|`` (state units) is below this.
    target_atol : float
        Absolute part of the target rule (readout units); default 0.01.
    target_rtol : float
        Relative part of the target rule (fraction of ``|A_k|``); default 0.02.
    match_tol : float
        A converged state within this max-norm distance (state units) of a fixed point
        belongs to it.
    lyapunov : bool
        Estimate the largest Lyapunov exponent (:func:`lyapunov_exponent`).
    contraction_balls : bool
        Stop a trial as soon as it is inside a proved ball of attraction of a stable fixed
        point (Notes), instead of simulating it until ``max |F(x)| < converged_tol``. The
        balls cost a few ``N x N`` matrix products each and are built only once the trials
        near a point (every unit within 0.3 of it) are so many that a chunk of them costs
        more (``n_near * chunk / dt >= 20 N``). A stopped trial is
        proved to converge to its point, so the balls can only settle trials that a plain
        run would settle later: where the approach is slower than ``duration`` allows, the
        plain run leaves them unconverged (and ``globally_stable`` False) while the balls
        give the long-run answer; otherwise the verdicts are the same, and only the work
        and the final states of the stopped trials (the point itself) differ.
    divergence_bound : float
        A state with ``max_i |x_i|`` above this (state units) has diverged.
    fixed_points : FixedPoints, optional
        Reuse a previous :func:`find_fixed_points` result (same ``u``).
    rng : None, int, SeedSequence or Generator
        Initial states, slow-point seeds and the Lyapunov perturbation.
    progress : bool or None
        A ``tqdm`` progress bar on standard error over the ``n_init`` initial states,
        advanced after every chunk by the trials that settled or diverged in it (the
        others when ``duration`` has elapsed), the chunk count in its postfix. ``None``
        (default): only when standard error is a terminal; ``True``: always; ``False``:
        never. The bar changes nothing in the results (the trials are simulated as one
        batch either way).

    Returns
    -------
    StabilityReport
        Fixed points, basins, Lyapunov exponent and the verdicts, with ``success``,
        ``messages`` and the counters ``n_chunks``, ``n_unmatched``, ``n_diverged``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an argument has the wrong type,
        or both ``target_tol`` and ``target_atol`` are given.
    ValueError
        If ``u`` or ``target`` has the wrong shape, a count or tolerance is out of range,
        or ``fixed_points`` were computed for another input or another network.

    Notes
    -----
    *Contraction balls.* Around each stable fixed point ``x*`` the Euler map ``G`` of the
    closed loop has the Jacobian ``A = (1 - alpha) I + alpha W_eff D*``. A norm
    ``s(e) = sqrt(e^T P e)`` in which ``A`` contracts by a proved factor ``q < 1`` comes from
    the truncated Stein sum ``P = sum_{j<k} (A^j)^T A^j``; bounds of ``sup |phi''|``, of
    ``||W_eff||_2`` and of its rows' norms then give a set ``s(x - x*) <= r``,
    ``max_i |x_i - x*_i| <= r_inf`` that ``G`` maps into itself and on which every
    trajectory converges to ``x*`` (Banach), so a trial inside it converges to ``x*``.
    Every bound is checked by a Cholesky factorisation with the rounding errors of the
    matrix products bounded a priori; where a check fails, the point has no ball and its
    trials are simulated to ``converged_tol`` as before (``reservoir/analysis/
    _contraction.py`` gives the derivation).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    u = np.zeros(net.n_inputs) if u is None else as_float_array(u, "u", 1, allow_empty=True)
    if u.shape != (net.n_inputs,):
        raise ValueError(f"u must have shape ({net.n_inputs},), got {u.shape}")
    K = net.n_outputs
    if target is not None:
        target = np.atleast_1d(as_float_array(target, "target", (0, 1)))
        if target.shape != (K,):
            raise ValueError(f"target must be a number or have shape ({K},), got "
                             f"{target.shape}")
    n_init = as_int(n_init, "n_init", minimum=1)
    init_scale = as_positive_float(init_scale, "init_scale", allow_zero=True)
    duration = as_positive_float(duration, "duration")
    chunk = as_positive_float(chunk, "chunk")
    converged_tol = as_positive_float(converged_tol, "converged_tol")
    target_atol = as_positive_float(target_atol, "target_atol", allow_zero=True)
    target_rtol = as_positive_float(target_rtol, "target_rtol", allow_zero=True)
    if target_atol == 0.0 and target_rtol == 0.0:
        raise ValueError("target_atol and target_rtol cannot both be 0")
    match_tol = as_positive_float(match_tol, "match_tol")
    bound = as_positive_float(divergence_bound, "divergence_bound")
    if not isinstance(contraction_balls, (bool, np.bool_)):
        raise TypeError(f"contraction_balls must be True or False, got "
                        f"{type(contraction_balls).__name__}")
    if not isinstance(lyapunov, (bool, np.bool_)):
        raise TypeError(f"lyapunov must be True or False, got {type(lyapunov).__name__}")
    check_steps(duration, net.dt, "duration")
    steps = max(1, check_steps(chunk, net.dt, "chunk"))
    per_state = 3.0 * net.N + net.n_outputs
    per_input = steps * max(net.n_inputs, 1)
    check_memory(8.0 * 16 * (per_state + per_input), "chunk", chunk,
                 what=f"16 initial states and their inputs over one chunk of {steps} steps")
    check_memory(8.0 * n_init * (per_state + per_input), "n_init", n_init,
                 what=f"{n_init} initial states and their inputs over one chunk of "
                      f"{steps} steps")
    if lyapunov:
        _check_lyapunov_times(net, 200.0, 50.0, 1.0)
    progress = check_progress(progress)
    gen = as_rng(rng)
    messages = []
    fps = fixed_points if fixed_points is not None else find_fixed_points(net, u, rng=gen)
    if fixed_points is not None:
        check_points_of(net, u, fixed_points, "fixed_points")
    messages.extend(fps.messages)

    rule = describe_rule(target_atol, target_rtol)
    target_index = None
    if target is not None and len(fps):
        target_index = match_target(fps.z, target, target_atol, target_rtol,
                                    candidates=fps.is_fixed)
        if target_index is None:
            messages.append(f"no fixed point has its readout at the target ({rule})")
    target_stable = target_index is not None and bool(fps.stable[target_index])
    stable_rows = np.flatnonzero(fps.stable & fps.is_fixed)
    spurious = stable_rows[stable_rows != target_index] if target_index is not None \
        else stable_rows

    # basins: batched simulation of random initial states, converged and diverged trials
    # dropped
    c = net.W_in @ u + net.b
    if net.has_intercept:
        c = c + net.W_fb @ net.b_out       # the fed-back intercept, a constant current
    X = init_scale * gen.standard_normal((n_init, net.N))
    # contraction balls, built for a stable point once enough trials are near it to pay
    # for it (a ball costs about 20 N^3 flops, a chunk of the batch 2 N^2 per trial-step)
    candidates = list(np.flatnonzero(fps.stable & fps.is_fixed)) if contraction_balls else []
    balls = []
    weights = None
    n_contracted = 0
    # with candidates, look for points near them every fifth of a chunk, and once a ball
    # is proved check it every tenth (a check costs at most about one step); without, the
    # chunk is simulated in one piece as before
    sub = max(1, steps // 5) if candidates else steps
    active = np.arange(n_init)
    converged = np.zeros(n_init, dtype=bool)
    diverged = np.zeros(n_init, dtype=bool)
    steps = max(1, int(round(chunk / net.dt)))
    n_chunks = max(1, int(np.ceil(duration / (steps * net.dt))))
    n_run = n_settled = 0
    logger.info("stability_report: N=%d, %d fixed point(s); basins of %d initial states, "
                "up to %d chunks of %d steps", net.N, len(fps), n_init, n_chunks, steps)
    bar = progress_bar(n_init, "stability_report", progress, unit="start")
    for _ in range(n_chunks):
        bar.update(n_init - active.size - n_settled)     # settled or diverged so far
        n_settled = n_init - active.size
        bar.set_postfix_str(f"chunk {n_run + 1}/{n_chunks}", refresh=False)
        n_run += 1
        done_steps = 0
        while done_steps < steps and active.size:
            n = min(max(1, steps // 10) if balls else sub, steps - done_steps)
            while active.size:
                Ua = np.broadcast_to(u, (active.size, n, u.size))
                try:
                    X[active] = simulate(net, Ua, X[active], mode="closed",
                                         record=()).x_final
                    break
                except SimulationDivergedError as err:  # rerun the piece without it
                    diverged[active[err.trial]] = True
                    active = np.delete(active, err.trial)
            done_steps += n
            for i in list(candidates):
                near = np.count_nonzero(np.max(np.abs(X[active] - fps.x[i]), axis=1) < 0.3)
                if near * steps >= 20 * net.N:
                    candidates.remove(i)
                    if weights is None:
                        weights = effective_weights(net)
                    ball = contraction_ball(net, fps.x[i], c, weights)
                    logger.debug("stability_report: contraction ball for point %d: radius "
                                 "%s", i, None if ball is None else ball.radius)
                    if ball is not None:
                        balls.append(ball)
            for ball in balls:      # inside a proved ball: converges to its point
                with np.errstate(over="ignore", invalid="ignore"):
                    inside = ball.contains(X[active])
                if np.any(inside):
                    X[active[inside]] = ball.x
                    converged[active[inside]] = True
                    n_contracted += int(np.count_nonzero(inside))
                    active = active[~inside]
        if active.size == 0:
            break
        big = ~np.all(np.isfinite(X[active]), axis=1) | \
            (np.max(np.abs(X[active]), axis=1) > bound)
        diverged[active[big]] = True
        active = active[~big]
        res = np.max(np.abs(_closed_residual(net, X[active], c)), axis=1)
        done = res < converged_tol
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    bar.update(n_init - n_settled)
    bar.close()
    logger.info("stability_report: basins after %d chunk(s): %d converged, %d diverged, "
                "%d unconverged", n_run, np.count_nonzero(converged),
                np.count_nonzero(diverged), n_init - np.count_nonzero(converged | diverged))
    with np.errstate(over="ignore", invalid="ignore"):
        R = get_nonlinearity(net.phi).phi(X)
        final_z = R @ net.W_out.T + net.b_out
    counts = np.zeros(len(fps))
    unmatched = 0
    for i in np.flatnonzero(converged):
        if len(fps):
            d = np.max(np.abs(fps.x - X[i]), axis=1)
            j = int(np.argmin(d))
            if d[j] <= match_tol:
                counts[j] += 1
                continue
        unmatched += 1
    if unmatched:
        messages.append(f"{unmatched} trial(s) converged to a state that is not among the "
                        "fixed points found: the search missed an attractor")
    n_diverged = int(np.count_nonzero(diverged))
    if n_diverged:
        messages.append(f"{n_diverged} of {n_init} trial(s) diverged (max |x_i| exceeded "
                        f"divergence_bound = {bound:g} or became non-finite): the closed "
                        "loop has unbounded trajectories, so it is not globally stable")
    n_unconverged = int(np.count_nonzero(~converged & ~diverged))
    if n_unconverged:
        messages.append(f"{n_unconverged} of {converged.size} trial(s) did not settle on a "
                        f"fixed point within duration = {duration}: a longer duration, a "
                        "slow approach, a limit cycle or chaos")
    frac_target = float("nan")
    if target is not None:
        frac_target = float(np.mean(converged & at_target(final_z, target, target_atol,
                                                          target_rtol)))
    lyap = float("nan")
    t_div = float("nan")
    chaotic = False
    if lyapunov:
        logger.debug("stability_report: Lyapunov exponent over 250 time units")
        lyap, t_div, slope, ratio = _lyapunov(net, u, gen.standard_normal(net.N), 200.0,
                                              50.0, 1.0, 1e-8, bound, gen, with_growth=True)
        lyap, t_div = float(lyap), float(t_div)
        if np.isfinite(t_div):
            messages.append(f"the Lyapunov trajectory diverged at t = {t_div:g} (max |x_i| "
                            f"exceeded divergence_bound = {bound:g} or became non-finite): "
                            "lyapunov_exponent = +inf is unbounded growth, not chaos "
                            "(chaotic = False)")
        # chaos needs a bounded trajectory: a state that grows steadily (by more than 10x
        # over the window, at a rate comparable to the exponent) explains a positive
        # exponent by growth, not by sensitivity on an attractor
        growing = bool(np.isfinite(lyap) and lyap > 0 and ratio > 10.0
                       and slope > 0.5 * lyap)
        if growing:
            messages.append(f"the Lyapunov trajectory grew steadily: |x| grew {ratio:.3g}x "
                            f"over the averaging window (rate {slope:.3g} per time unit, "
                            f"lyapunov_exponent {lyap:.3g}): unbounded growth is likely, "
                            "and a growing state is not chaos (chaotic = False)")
        chaotic = bool(np.isfinite(lyap) and lyap > 0.01 / net.tau) and \
            not np.all(converged) and not growing
    globally = bool(target_stable and spurious.size == 0 and unmatched == 0
                    and np.all(converged) and frac_target == 1.0 and n_diverged == 0
                    and not np.isfinite(t_div))
    if target_stable and not globally and (n_diverged or np.isfinite(t_div)):
        messages.append("the target is stable but not globally stable: some trajectories "
                        "diverge")
    return StabilityReport(
        fixed_points=fps, target=target, target_index=target_index,
        target_stable=target_stable, spurious=spurious, basin_fraction=counts / n_init,
        fraction_to_target=frac_target, fraction_unconverged=float(1 - converged.mean()),
        final_z=final_z, converged=converged, lyapunov_exponent=lyap, chaotic=chaotic,
        globally_stable=globally, success=bool(fps.success and unmatched == 0),
        messages=tuple(messages), n_chunks=n_run, n_unmatched=unmatched,
        n_diverged=n_diverged, n_contracted=n_contracted, divergence_time=t_div)
