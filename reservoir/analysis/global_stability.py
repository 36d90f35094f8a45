"""Global stability of a closed-loop network: attractors, basins, chaos.

:func:`stability_report` answers the package's question for a network trained to hold an
output: *is the target a stable attractor, and is it the only one?* It combines

* all fixed points (:func:`~reservoir.analysis.fixed_points.find_fixed_points`) with their
  linear stability;
* basins, estimated by simulating many random initial states (batched) until they
  converge, and assigning each to the fixed point it reached;
* the largest Lyapunov exponent of a closed-loop trajectory (Benettin's two-trajectory
  method), positive for a chaotic attractor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_float_array, as_int, as_positive_float, as_rng
from .._results import ResultMixin
from ..network import Network
from ..nonlinearities import get_nonlinearity
from .._simulate import simulate
from .fixed_points import FixedPoints, find_fixed_points


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
        Row of ``fixed_points`` whose readout is within ``target_tol`` of ``target``.
    target_stable : bool
        The target fixed point exists and is linearly stable.
    spurious : ndarray of int
        Rows of the *stable* fixed points other than the target (all stable rows when no
        target is given or none matches it).
    basin_fraction : ndarray, shape (P,)
        Fraction of the random initial states that converged to each fixed point.
    fraction_to_target : float
        Fraction of initial states whose readout ended within ``target_tol`` of the target
        (nan without a target).
    fraction_unconverged : float
        Fraction that did not settle (chaos, oscillation, or slow convergence).
    final_z : ndarray, shape (n_init, K)
        Readout of every simulated trial at the end (readout units).
    converged : ndarray of bool, shape (n_init,)
        Whether each trial settled (``max |F(x)| < converged_tol``).
    lyapunov_exponent : float
        Largest Lyapunov exponent estimate (1/time) of a closed-loop trajectory from a
        random initial state (nan if not computed).
    chaotic : bool
        ``lyapunov_exponent > 0.01 / tau`` and the trajectory did not settle.
    globally_stable : bool
        The target is stable, no other stable fixed point exists, and every initial
        state reached it.
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


def _closed_residual(net: Network, X, c):
    R = get_nonlinearity(net.phi).phi(X)
    JR = (net.J @ R.T).T if net.is_sparse else R @ net.J.T
    return -X + JR + (R @ net.W_out.T) @ net.W_fb.T + c


def lyapunov_exponent(net: Network, u=None, x0=None, *, duration: float = 200.0,
                      transient: float = 50.0, interval: float = 1.0, d0: float = 1e-8,
                      rng=None) -> float:
    """Largest Lyapunov exponent (1/time) of the closed loop at constant input.

    Benettin's method: a reference and a perturbed trajectory (distance ``d0``) are run
    side by side; every ``interval`` time units the growth of their distance is logged
    and the perturbation renormalised to ``d0``. The mean log growth rate over
    ``duration`` (after ``transient``) estimates the exponent: positive for chaos,
    negative (the leading eigenvalue's real part) when the trajectory settles on a fixed
    point.

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
        Time (time units) between renormalisations.
    d0 : float
        Distance (state units) of the perturbed trajectory.
    rng : None, int, SeedSequence or Generator
        Initial state and perturbation direction.

    Returns
    -------
    float
        The exponent (1/time); ``-inf`` if the two trajectories merged exactly.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If a duration, ``interval`` or ``d0`` is not positive, or an array is not finite.
    """
    duration = as_positive_float(duration, "duration")
    transient = as_positive_float(transient, "transient", allow_zero=True)
    interval = as_positive_float(interval, "interval")
    d0 = as_positive_float(d0, "d0")
    gen = as_rng(rng)
    u = np.zeros(net.n_inputs) if u is None else as_float_array(u, "u", 1, allow_empty=True)
    x = gen.standard_normal(net.N) if x0 is None else as_float_array(x0, "x0", 1).copy()
    steps = max(1, int(round(interval / net.dt)))
    n_tr = int(round(transient / net.dt))
    if n_tr:
        x = simulate(net, np.broadcast_to(u, (n_tr, u.size)), x, mode="closed",
                     record=()).x_final
    direction = gen.standard_normal(net.N)
    y = x + d0 * direction / np.linalg.norm(direction)
    n_int = max(1, int(round(duration / (steps * net.dt))))
    U = np.broadcast_to(u, (2, steps, u.size))
    total = 0.0
    for _ in range(n_int):
        both = simulate(net, U, np.stack([x, y]), mode="closed", record=()).x_final
        x, y = both[0], both[1]
        d = np.linalg.norm(y - x)
        if d == 0.0:
            return -np.inf
        total += np.log(d / d0)
        y = x + (d0 / d) * (y - x)
    return total / (n_int * steps * net.dt)


def stability_report(net: Network, u=None, target=None, *, n_init: int = 1000,
                     init_scale: float = 1.0, duration: float = 100.0, chunk: float = 5.0,
                     converged_tol: float = 1e-6, target_tol: float = 1e-3,
                     match_tol: float = 1e-3, lyapunov: bool = True,
                     fixed_points: FixedPoints | None = None, rng=None) -> StabilityReport:
    """Local and global stability of the closed loop at constant input ``u``.

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
    target_tol : float
        A readout within this distance (max-norm, readout units) of ``target`` counts as
        the target.
    match_tol : float
        A converged state within this max-norm distance (state units) of a fixed point
        belongs to it.
    lyapunov : bool
        Estimate the largest Lyapunov exponent (:func:`lyapunov_exponent`).
    fixed_points : FixedPoints, optional
        Reuse a previous :func:`find_fixed_points` result (same ``u``).
    rng : None, int, SeedSequence or Generator
        Initial states, slow-point seeds and the Lyapunov perturbation.

    Returns
    -------
    StabilityReport
        Fixed points, basins, Lyapunov exponent and the verdicts, with ``success``,
        ``messages`` and the counters ``n_chunks``, ``n_unmatched``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an argument has the wrong type.
    ValueError
        If ``u`` or ``target`` has the wrong shape, a count or tolerance is out of range,
        or ``fixed_points`` were computed for another input.
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
    target_tol = as_positive_float(target_tol, "target_tol")
    match_tol = as_positive_float(match_tol, "match_tol")
    gen = as_rng(rng)
    messages = []
    fps = fixed_points if fixed_points is not None else find_fixed_points(net, u, rng=gen)
    if fixed_points is not None and not np.array_equal(fixed_points.u, u):
        raise ValueError("fixed_points were computed for another input u")
    messages.extend(fps.messages)

    target_index = None
    if target is not None and len(fps):
        dist = np.max(np.abs(fps.z - target), axis=1)
        dist = np.where(fps.is_fixed, dist, np.inf)
        if dist.min() <= target_tol:
            target_index = int(np.argmin(dist))
        else:
            messages.append(f"no fixed point has its readout within {target_tol} of the target")
    target_stable = target_index is not None and bool(fps.stable[target_index])
    stable_rows = np.flatnonzero(fps.stable & fps.is_fixed)
    spurious = stable_rows[stable_rows != target_index] if target_index is not None \
        else stable_rows

    # basins: batched simulation of random initial states, converged trials dropped
    c = net.W_in @ u + net.b
    X = init_scale * gen.standard_normal((n_init, net.N))
    active = np.arange(n_init)
    converged = np.zeros(n_init, dtype=bool)
    steps = max(1, int(round(chunk / net.dt)))
    n_chunks = max(1, int(np.ceil(duration / (steps * net.dt))))
    n_run = 0
    for _ in range(n_chunks):
        n_run += 1
        Ua = np.broadcast_to(u, (active.size, steps, u.size))
        X[active] = simulate(net, Ua, X[active], mode="closed", record=()).x_final
        res = np.max(np.abs(_closed_residual(net, X[active], c)), axis=1)
        done = res < converged_tol
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    R = get_nonlinearity(net.phi).phi(X)
    final_z = R @ net.W_out.T
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
    n_unconverged = int(np.count_nonzero(~converged))
    if n_unconverged:
        messages.append(f"{n_unconverged} of {converged.size} trial(s) did not settle on a "
                        f"fixed point within duration = {duration}: a longer duration, a "
                        "slow approach, a limit cycle or chaos")
    frac_target = float("nan")
    if target is not None:
        frac_target = float(np.mean(converged & (np.max(np.abs(final_z - target), axis=1)
                                                 <= target_tol)))
    lyap = float("nan")
    chaotic = False
    if lyapunov:
        lyap = lyapunov_exponent(net, u, rng=gen)
        chaotic = bool(lyap > 0.01 / net.tau) and not np.all(converged)
    globally = bool(target_stable and spurious.size == 0 and unmatched == 0
                    and np.all(converged) and frac_target == 1.0)
    return StabilityReport(
        fixed_points=fps, target=target, target_index=target_index,
        target_stable=target_stable, spurious=spurious, basin_fraction=counts / n_init,
        fraction_to_target=frac_target, fraction_unconverged=float(1 - converged.mean()),
        final_z=final_z, converged=converged, lyapunov_exponent=lyap, chaotic=chaotic,
        globally_stable=globally, success=bool(fps.success and unmatched == 0),
        messages=tuple(messages), n_chunks=n_run, n_unmatched=unmatched)
