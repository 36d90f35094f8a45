"""Reproduce the local-dynamics results of Rivkind & Barak (2017), theory beside simulation.

    python scripts/reproduce_rb2017.py [--out DIR] [--quick] [--threads N]
    reservoir.reproduce.rb2017.run(out, quick=False, threads=1)   # from Python: the same

Progress and the summary line go to the module's logger (``logging``, level INFO), never
to stdout; the script shows them on stderr.

Figures (PNG and PDF), reproducing the claims of Rivkind & Barak 2017:

* ``rb2017_output_ode``: one trained target (tanh, g = 1, A = 1): the output after a kick
  ``eps u`` in finite networks against the mean-field first-order ODE ``eps K exp(s* t)``.
* ``rb2017_output_ode_three_targets`` (R1(b)): three targets (g = 1, {1, 2, 3}): the output
  after a kick at each attractor against the mean-field third-order ODE
  ``eps a^T exp((M_k - I) t) b_k`` (damped oscillation at A = 1, growth at the unstable
  A = 2, plain decay at A = 3).
* ``rb2017_poles``: two targets (g = 1, {0.5, 1.5}): eigenvalues of the closed-loop
  Jacobian at each trained attractor with the mean-field poles (the attractor at 0.5 is
  unstable, the one at 1.5 stable: the alternation rule); ReLU gives an exact zero.
* ``rb2017_frequency`` (R3): three targets (g = 1, {1, 2, 3}): the trained nonlinear
  closed loop driven by ``eps sin(omega t)`` through the feedback vector at the attractors
  A = 1 (band-pass) and A = 3 (low-pass): measured gain and phase (least-squares fit after
  the transient, two ``eps`` to show linearity) beside the mean field's ``T_k`` and the
  exact linearised network; claims: band-pass, low-pass, peak frequency.
* ``rb2017_time_constants`` (R4): g = 1.5, the output time constant ``tau_out`` and the
  bulk time ``1 / (1 - rho)`` against the target, from the edge of chaos ``A_c`` upwards:
  mean-field curves and trained networks (``tau_out`` fitted after a kick, the bulk time
  from the open-loop Jacobian's rightmost eigenvalue); claim: ``tau_out`` stays finite
  while the bulk time grows toward ``A_c``.
* ``rb2017_stability_map`` (R2(c)): two targets A_1 < A_2 (g = 1) on a grid: mean-field
  stability of each attractor beside the fraction of networks whose kicked nonlinear closed
  loop keeps ``z = A_k`` to 1% at t = 150.
* ``rb2017_edge_success`` (R2(d)): one target: the edge of chaos ``A_c(g)`` in the (g, A)
  plane beside the fraction of networks trained at ``A = f A_c(g)`` (f = 0.5 ... 3) whose
  clamped run settles and whose kicked closed loop holds ``z = A``.
* ``rb2017_feedback_distribution`` (R5): ``tau_out`` against ``sigma_u A`` for
  ``u ~ N(0, 1)`` and ``U[-1, 1]`` (g = 0.5 ... 2; network points: fitted output decay at
  g = 1), and the edge of chaos ``A_c(g)`` and ``sigma_u A_c(g)`` for both.
* ``rb2017_finite_size`` (R6): g = 1, {0.5, 1.5}: rms ``|exact - MF|`` of ``H(0)`` at both
  attractors and of the outlier at A = 0.5 against N (log-log, with ``N^-1/2``); the
  outlier by shift-invert Arnoldi (no full spectrum), so the full run reaches N = 4000.
* ``rb2017_robustness`` (R7): g = 1, A = 1: static output gain of an input through ``u``
  (MF ``T(0) = 0.441``) and through independent random vectors (rms, ``O(N^-1/2)``) vs N.
* ``rb2017_relu_vs_sigmoid`` (the abstract's RLU/sigmoid contrast): one target per net, tanh and
  ReLU on the same bulks: fraction of networks whose trained state the fixed-point
  analysis reports stable (theory: tanh always, ReLU never: an exact zero pole, a line
  attractor reported ``"marginal"`` with ``continuum_dim = 1``), Wilson 95 % intervals;
  tanh with two consecutive targets: the alternation rule and the mean-field verdicts.

``rb2017.json``: every plotted number and our reference numbers, each compared
quantity with ``theory`` and ``simulation`` entries, N and the number of realisations;
``claims``: every claim above with its stated rule, what was measured and whether it
``agrees`` (:func:`collect_claims`), ``claims_summary``: how many agree.
``--quick``: N = 500 (1000 for three targets), 2 realisations; the map N = 300 with 4
networks per pair on {0.5, 1, 2, 3}; the edge N = 1000, 3 networks per point, g = 1.5, 2;
finite size N = 200, 400, 800 (10, 10, 6 networks); robustness N = 250, 500, 1000; ReLU vs
sigmoid N = 200, 3 networks per point on {0.5, 1.5, 3}; frequency drive: 1 network of
N = 1000, omega on {0, 0.1, ..., 0.6, 0.8, 1, 1.5}; time constants: N = 1000, 2 networks
per target on {0.6, 0.8, 1.2, 2, 3} (about two minutes on 2 shared cores with the default
``--threads 1``). Full: N = 2000 (1000 for three targets), 4 realisations; the map
N = 1000, 20 networks per pair on {0.25, 0.5, 1, 1.5, 2, 3}; the edge N = 1000, 10 networks
per point, g = 1.2, 1.5, 2, 2.5; R6 N = 250 ... 4000 (16, 16, 10, 8, 6 networks); R7 N up
to 2000; ReLU vs sigmoid N = 1000, 20 networks per point on {0.25, 0.5, 1, 1.5, 2, 3};
frequency drive: 3 networks, omega = 0, 0.1, ..., 2; time constants: N = 2000, 4 networks
per target on {0.5, 0.55, 0.6, 0.7, 0.8, 1, 1.2, 1.5, 2, 3}.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time

import numpy as np
import scipy.linalg

import reservoir as rs
from reservoir._checks import as_float_array, as_positive_float, check_memory
from reservoir._progress import progress_bar
from reservoir.analysis import (find_fixed_points, network_closed_loop_gain, network_open_loop,
                                network_pole)
from reservoir.meanfield import edge_of_chaos, multi_target, single_target
from reservoir.nonlinearities import get_nonlinearity
from reservoir.reproduce._figures import (check_out_quick_threads, main_out_quick_threads,
                                          parser_out_quick_threads, run_checked,
                                          save_figure, subplots, write_json)
from reservoir.reproduce._stats import wilson_interval
from reservoir.train import train_fixed_point_network

__all__ = ["run", "main", "build_parser"]

logger = logging.getLogger(__name__)

#: Output folder of the command line when ``--out`` is not given.
DEFAULT_OUT = "out/rb2017"


def trained(N, g, targets, seed, phi="tanh", var_m=1.0, feedback_dist="normal"):
    """Rivkind & Barak's trained network (:func:`reservoir.train.train_fixed_point_network`
    with ``rng=seed``): returns ``(net, x_fixed)``, ``x_fixed`` of shape ``(len(targets), N)``
    (arguments validated there)."""
    return train_fixed_point_network(N, g, targets, phi=phi, var_m=var_m,
                                     feedback_dist=feedback_dist,
                                     rng=seed)


def _one_readout_network(net):
    """Raise unless ``net`` is a Network with exactly one fed-back readout."""
    if not isinstance(net, rs.Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if net.W_fb.shape[1] != 1 or net.W_out.shape[0] != 1:
        raise ValueError(f"net must have exactly one fed-back readout, got W_fb of shape "
                         f"{net.W_fb.shape} and W_out of shape {net.W_out.shape}")


def _fixed_point(net, x):
    """``x`` as a float array of shape ``(net.N,)`` (raises naming ``x``)."""
    x = as_float_array(x, "x", 1)
    if x.shape != (net.N,):
        raise ValueError(f"x must have shape ({net.N},), got {x.shape}")
    return x


def kick_decay_rate(net, x, eps=0.05, t_fit=(2.0, 6.0)):
    """Output relaxation rate after a kick ``eps u`` at a trained fixed point.

    The closed loop (:func:`reservoir.simulate`, forward Euler with ``dt = 0.01``) starts
    at ``x + eps W_fb[:, 0]``; a line is fitted to ``log |z(t) - A|`` (``A`` the readout at
    ``x``, intercept ``b_out`` included) for ``t_fit[0] <= t <= t_fit[1]``; minus its slope
    is the rate, so ``1 / rate`` is the measured ``tau_out`` of a first-order output
    (Rivkind & Barak 2017, the output ODE).

    Parameters
    ----------
    net : Network
        Trained network with one fed-back readout.
    x : array_like, shape (N,)
        A closed-loop fixed point (currents).
    eps : float
        Kick amplitude along ``W_fb[:, 0]`` (> 0, finite; default 0.05).
    t_fit : (float, float)
        Fitted window ``0 <= t_fit[0] < t_fit[1]`` (time units of ``dt``, those of ``tau``),
        at least 10 Euler steps long.

    Returns
    -------
    float
        The fitted decay rate (1 / time; negative if the deviation grows).

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type, shape or value (named in the message), or the
        deviation ``|z - A|`` is exactly 0 or not finite somewhere in the window (nothing
        to fit: ``eps`` too small for the window, or the run left the fixed point's
        neighbourhood).
    """
    _one_readout_network(net)
    x = _fixed_point(net, x)
    eps = as_positive_float(eps, "eps")
    t_fit = as_float_array(t_fit, "t_fit", 1)
    if t_fit.shape != (2,) or not 0 <= t_fit[0] < t_fit[1] - 10 * 0.01 + 1e-12:
        raise ValueError(f"t_fit must be two times 0 <= t_fit[0] < t_fit[1] at least 0.1 "
                         f"apart (10 Euler steps of 0.01), got {t_fit.tolist()}")
    fine = dataclasses.replace(net, dt=0.01)
    phi = get_nonlinearity(net.phi).phi
    A = float(net.W_out[0] @ phi(x) + np.asarray(net.b_out)[0])
    n = int(round(t_fit[1] / 0.01)) + 1
    tr = rs.simulate(fine, None, x + eps * net.W_fb[:, 0], mode="closed", n_steps=n,
                     record=("z",))
    t = 0.01 * np.arange(n)                   # row i of a trajectory: the state at i dt
    sel = t >= t_fit[0] - 1e-9
    dev = np.abs(tr.z[sel, 0] - A)
    if not np.all(np.isfinite(dev) & (dev > 0)):
        raise ValueError(f"the output deviation |z - A| is 0 or not finite inside t_fit = "
                         f"{t_fit.tolist()} (eps = {eps:g}): nothing to fit a decay to")
    return float(-np.polyfit(t[sel], np.log(dev), 1)[0])


def loglog_slope(N, y):
    """Least-squares slope of ``log y`` against ``log N`` (the exponent of ``y ~ N^p``).

    Parameters
    ----------
    N, y : array_like of float, shape (P,)
        Positive finite sizes and values, ``P >= 2``, with at least two distinct ``N``.

    Returns
    -------
    float
        The fitted exponent ``p``.

    Raises
    ------
    TypeError, ValueError
        If ``N`` or ``y`` is not a positive finite 1-D array, their lengths differ, or the
        ``N`` are not at least two distinct values.
    """
    N = as_float_array(N, "N", 1)
    y = as_float_array(y, "y", 1)
    if y.shape != N.shape:
        raise ValueError(f"y must have the shape of N {N.shape}, got {y.shape}")
    for name, v in (("N", N), ("y", y)):
        if np.any(v <= 0):
            raise ValueError(f"{name} must be > 0 (a log-log fit), got {v.tolist()}")
    if np.unique(N).size < 2:
        raise ValueError(f"N must hold at least two distinct sizes, got {N.tolist()}")
    return float(np.polyfit(np.log(N), np.log(y), 1)[0])


def _flow_eigenvalues(net, x):
    return np.linalg.eigvals(rs.jacobian(net, x, mode="closed"))


def euler_laplace(omegas, dt):
    """Laplace variable of the Euler map's response at angular frequency ``omega``.

    A linear flow ``dx/dt = L x + u p(t)`` integrated by forward Euler with step ``dt``
    responds to ``p[n] = Im(exp(i omega n dt))`` exactly as the flow would at
    ``s = (exp(i omega dt) - 1) / dt`` (z-transform of ``x[n+1] = x[n] + dt (L x[n] +
    u p[n])``, state and input at the same time stamp ``n dt``, the convention of
    :func:`reservoir.simulate`): ``s = i omega - omega^2 dt / 2 + O(omega^3 dt^2)``, so
    ``s -> i omega`` as ``dt -> 0``.

    Parameters
    ----------
    omegas : array_like of float, shape (W,)
        Angular frequencies (units ``1 / tau``).
    dt : float
        Euler step (units ``tau``), > 0.

    Returns
    -------
    ndarray of complex, shape (W,)
        ``(exp(i omega dt) - 1) / dt`` (units ``1 / tau``).

    Raises
    ------
    TypeError, ValueError
        If ``omegas`` is not a finite 1-D real array or ``dt`` is not a positive number.
    """
    omegas = as_float_array(omegas, "omegas", 1)
    dt = as_positive_float(dt, "dt")
    return np.expm1(1j * omegas * dt) / dt


def network_transfer(net, x, omegas, dt=None):
    """Exact ``T(s) = w^T D (s I - L)^{-1} u / tau`` of the linearised closed loop.

    ``L = rs.jacobian(net, x, mode="closed")`` is the closed-loop flow Jacobian at the
    fixed point ``x`` (``(-I + (J + u w^T) D) / tau``), ``D = diag(phi'(x))``,
    ``u = W_fb[:, 0]``: the response of the output to a perturbation ``p(t)`` added to the
    fed-back output (``tau dx/dt = ... + u (z + p)``; Rivkind & Barak 2017,
    ``T_k = H_k / (1 - H_k)``), by one dense linear solve per frequency.

    Parameters
    ----------
    net : Network
        Trained network with one fed-back readout (any ``tau``).
    x : array_like, shape (N,)
        A closed-loop fixed point.
    omegas : array_like of float, shape (W,)
        Angular frequencies (units 1 / time, the time of ``tau`` and ``dt``).
    dt : float, optional
        ``None`` (default): the flow, ``s = i omega``. A step: the forward-Euler map with
        that step, ``s = euler_laplace(omega, dt)``.

    Returns
    -------
    ndarray of complex, shape (W,)
        ``T`` at each frequency (output units per unit of ``p``).

    Raises
    ------
    TypeError, ValueError
        If ``net`` is not a Network with one fed-back readout, or ``x``, ``omegas`` or
        ``dt`` is malformed (named in the message).
    """
    _one_readout_network(net)
    x = _fixed_point(net, x)
    s = 1j * as_float_array(omegas, "omegas", 1) if dt is None else euler_laplace(omegas, dt)
    L = rs.jacobian(net, x, mode="closed")
    D = get_nonlinearity(net.phi).dphi(x)
    u = net.W_fb[:, 0] / net.tau
    wD = net.W_out[0] * D
    I = np.eye(net.N)
    return np.array([wD @ np.linalg.solve(si * I - L, u) for si in s])


#: Most Euler steps one :func:`sinusoidal_gain` run may take (``t_transient + t_window``
#: over ``dt``): a million steps is already about an hour at N = 1000 for one batch row.
MAX_DRIVE_STEPS = 10**6


@dataclasses.dataclass(frozen=True)
class SinusoidalResponse:
    """The measured response of a trained closed loop to small sinusoidal inputs.

    Attributes
    ----------
    omega : ndarray, shape (W,)
        Angular frequencies of the drive (units ``1 / tau``).
    eps : ndarray, shape (E,)
        Drive amplitudes (output units).
    gain : ndarray of complex, shape (E, W)
        Measured ``T = (a + i b) / eps`` from the least-squares fit
        ``z - z* = a sin(omega t) + b cos(omega t) + c`` over the window: ``|T|`` is the
        gain, ``angle(T)`` the phase of the output against the drive. At ``omega = 0``:
        the static gain ``<z(+eps) - z(-eps)> / (2 eps)`` (a symmetric difference, so the
        second-order shift cancels).
    relative_residual : ndarray, shape (E, W)
        rms of the fit residual over the fitted amplitude: small (< 1e-2) when the output is
        a clean sinusoid at ``omega`` (no unstable escape, the transient gone).
    dt, t_transient, t_window : float
        Euler step, discarded transient and fitted window (units ``tau``).
    """

    omega: np.ndarray
    eps: np.ndarray
    gain: np.ndarray
    relative_residual: np.ndarray
    dt: float
    t_transient: float
    t_window: float


def sinusoidal_gain(net, x, omegas, eps, *, dt=0.05, t_transient=40.0, t_window=None):
    """Measure the closed loop's gain at each frequency by driving it with ``eps sin(omega t)``.

    The nonlinear trained network (:func:`reservoir.simulate`, ``mode="closed"``, forward
    Euler with step ``dt``) starts at its fixed point ``x`` and receives the input
    ``p(t) = eps sin(omega t)`` through the feedback vector ``u = W_fb[:, 0]`` (the channel
    of the theory: ``tau dx/dt = -x + J phi(x) + u (z + p)``, Rivkind & Barak 2017); the first
    ``t_transient`` is discarded and the output over the next ``t_window`` is projected on
    ``sin``, ``cos`` and a constant by least squares. All (eps, omega) runs are one batch.
    For the linearised map the result is exactly ``network_transfer(net, x, omegas,
    dt=dt)``; nonlinear corrections to the fundamental are ``O(eps^2)`` relative.

    Parameters
    ----------
    net : Network
        Trained network with one fed-back readout (any ``tau``: times and frequencies are
        in the units of ``tau`` and ``dt``).
    x : array_like, shape (N,)
        A stable closed-loop fixed point (currents).
    omegas : array_like of float, shape (W,)
        Angular frequencies, ``0 <= omega <= pi / (2 dt)`` (at least four Euler steps per
        period; units 1 / time); 0 measures the static gain.
    eps : float or array_like of float, shape (E,)
        Drive amplitudes, > 0 (output units).
    dt : float
        Euler step of the drive (time units; default 0.05).
    t_transient : float
        Time discarded before the fit (>= 0; default 40, several times the slowest output
        time constant of the attractors studied here).
    t_window : float, optional
        Fitted window; default ``2 pi / min(omega > 0)``: one period of the slowest drive
        (the fewest whole periods that span ``10 dt`` if one period is shorter; 20 if every
        ``omega`` is 0). At least that period and at least ``10 dt``.
        ``(t_transient + t_window) / dt`` is at most :data:`MAX_DRIVE_STEPS`.

    Returns
    -------
    SinusoidalResponse
        Complex gains, shape (E, W), and the relative fit residuals.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type, shape or sign (named in the message), the
        network does not have exactly one fed-back readout, an ``omega`` is above
        ``pi / (2 dt)``, ``t_window`` is shorter than a period of the slowest drive or
        than ``10 dt``, or the run needs more than :data:`MAX_DRIVE_STEPS` steps
        (``omegas`` named when the default window is too long) or more memory than
        the machine has.
    reservoir.errors.SimulationDivergedError
        If a driven run diverges.
    """
    _one_readout_network(net)
    x = _fixed_point(net, x)
    omegas = as_float_array(omegas, "omegas", 1)
    if np.any(omegas < 0):
        raise ValueError(f"omegas must be >= 0, got {omegas.tolist()}")
    eps = np.atleast_1d(as_float_array(eps, "eps", (0, 1)))
    if np.any(eps <= 0):
        raise ValueError(f"eps must be > 0, got {eps.tolist()}")
    dt = as_positive_float(dt, "dt")
    if np.any(omegas * dt > np.pi / 2):
        raise ValueError(f"omegas must be <= pi / (2 dt) = {np.pi / (2 * dt):.6g} (at least "
                         f"four Euler steps per period of the drive; the sin/cos fit is "
                         f"singular at the Nyquist frequency pi / dt), got max "
                         f"{omegas.max():g} with dt = {dt:g}")
    t_transient = as_positive_float(t_transient, "t_transient", allow_zero=True)
    pos = omegas[omegas > 0]
    period = 2 * np.pi / pos.min() if pos.size else 0.0
    window_name = "t_window"
    if t_window is None:
        t_window = (period * max(1, int(np.ceil(10 * dt / period - 1e-9))) if pos.size
                    else 20.0)               # whole periods, at least 10 steps
        window_name = "omegas"              # the default window is set by min(omegas > 0)
    t_window = as_positive_float(t_window, "t_window")
    if t_window < max(period, 10 * dt) * (1 - 1e-12):
        raise ValueError(f"t_window must cover one period of the slowest drive "
                         f"(2 pi / min(omegas > 0) = {period:.6g}) and at least 10 Euler "
                         f"steps ({10 * dt:g}): shorter, sin, cos and the constant are "
                         f"nearly collinear and the fit is meaningless; got {t_window:g}")
    steps = (t_transient + t_window) / dt
    rows_n = eps.size * (pos.size + 2 * (omegas.size - pos.size))
    if steps > MAX_DRIVE_STEPS:
        name = window_name if t_window >= t_transient else "t_transient"
        raise ValueError(f"{name} asks for {steps:.3g} Euler steps of dt = {dt:g} "
                         f"(t_transient + t_window = {t_transient + t_window:.6g}"
                         f"{'; the default t_window is 2 pi / min(omegas > 0)' if name == 'omegas' else ''}"
                         f"), more than the {MAX_DRIVE_STEPS:.0e} one call may take")
    check_memory(3 * 8.0 * rows_n * (steps + 2) + 8.0 * rows_n * net.N, window_name,
                 t_window, "the drive, its output and the fit")
    n = int(round((t_transient + t_window) / dt))
    t = dt * np.arange(n)                      # row n of a trajectory is the state at n dt
    drive = dataclasses.replace(net, W_in=net.W_fb.copy(), dt=dt)
    rows = []
    for e in eps:
        for w in omegas:
            rows.extend([e * np.sin(w * t)] if w > 0 else [np.full(n, e), np.full(n, -e)])
    tr = rs.simulate(drive, np.array(rows)[:, :, None], np.broadcast_to(x, (len(rows), x.size)),
                     mode="closed", record=("z",))
    z = tr.z[:, :, 0] - tr.z[:, :1, 0]          # row 0: the output at the fixed point
    sel = t >= t_transient - 1e-9 * dt
    ts = t[sel]
    gain = np.empty((eps.size, omegas.size), complex)
    resid = np.empty((eps.size, omegas.size))
    i = 0
    for a, e in enumerate(eps):
        for b, w in enumerate(omegas):
            if w > 0:
                X = np.column_stack([np.sin(w * ts), np.cos(w * ts), np.ones(ts.size)])
                c = np.linalg.lstsq(X, z[i, sel], rcond=None)[0]
                fit = X @ c
                amp = np.hypot(c[0], c[1])
                gain[a, b] = (c[0] + 1j * c[1]) / e
                resid[a, b] = np.sqrt(np.mean((z[i, sel] - fit) ** 2)) / max(amp, 1e-300)
                i += 1
            else:
                d = (z[i, sel] - z[i + 1, sel]) / 2
                gain[a, b] = d.mean() / e
                resid[a, b] = np.sqrt(np.mean((d - d.mean()) ** 2)) / max(abs(d.mean()),
                                                                         1e-300)
                i += 2
    return SinusoidalResponse(omega=omegas, eps=eps, gain=gain, relative_residual=resid,
                              dt=dt, t_transient=t_transient, t_window=t_window)


def bulk_time(net, x):
    """Time constant of the bulk's slowest mode at a trained fixed point.

    The eigenvalues of the open-loop (clamped) flow Jacobian ``-I + J D``
    (``rs.jacobian(net, x, mode="open")``, dense): without the trained rank-one feedback
    ``u w^T D`` it has no outlier, only the bulk (a disc of radius ``rho`` centred at -1
    for large N, Rivkind & Barak 2017; the closed loop's extra eigenvalues solve
    ``H(s) = 1``). Its rightmost eigenvalue ``-1 + rho_edge`` gives the slowest bulk time
    ``1 / (1 - rho_edge) = -1 / max Re(lambda)``, the finite-N counterpart of the mean
    field's ``1 / (1 - rho)``.

    Parameters
    ----------
    net : Network
        Network with dense or sparse ``J`` (``tau = 1``).
    x : array_like, shape (N,)
        The fixed point (currents).

    Returns
    -------
    float
        ``-1 / max Re(lambda)`` (units ``tau``); ``inf`` when ``max Re(lambda) >= 0`` (the
        clamped network is at or beyond its edge of chaos: no finite bulk time).

    Raises
    ------
    TypeError, ValueError
        As :func:`reservoir.jacobian` (a wrong ``net`` or ``x``).
    """
    lead = float(np.max(np.linalg.eigvals(rs.jacobian(net, x, mode="open")).real))
    return -1.0 / lead if lead < 0 else float("inf")


def output_ode(N, n_real, out_json):
    g, A, eps = 1.0, 1.0, 0.05
    th = single_target(g, A)
    t = np.linspace(0, 8, 81)
    sims = []
    for seed in range(n_real):
        net, xf = trained(N, g, [A], seed)
        fine = dataclasses.replace(net, dt=0.01)  # small Euler step: compare with the flow
        x0 = xf[0] + eps * net.W_fb[:, 0]
        tr = rs.simulate(fine, None, x0, mode="closed", n_steps=801, record=("z",))
        sims.append(tr.z[::10, 0] - A)
    sims = np.array(sims)
    mf = eps * th.loop_gain * np.exp(th.s_star * t)
    fig, ax = subplots(figsize=(5, 3.5), constrained_layout=True)
    for s in sims:
        ax.plot(t, s, color="0.6", lw=1)
    ax.plot([], [], color="0.6", label=f"networks (N = {N}, {n_real} networks)")
    ax.plot(t, mf, "--", color="C3", lw=2, label=f"mean field: eps K exp(s* t), s* = {th.s_star:.3f}")
    ax.set(xlabel="time (tau)", ylabel="output deviation z - A", yscale="log",
           title=f"One trained target (g = 1, A = 1): a first-order output ODE\n"
                 f"N = {N}, {n_real} networks, kick eps = {eps:g}")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper right")      # the decay leaves the upper right empty
    out_json["output_ode"] = {"g": g, "A": A, "eps": eps, "N": N, "realisations": n_real,
                              "t": t.tolist(), "theory": mf.tolist(),
                              "simulation": sims.tolist()}
    rate = -np.polyfit(t[20:61], np.log(np.abs(sims[:, 20:61]).T), 1)[0]
    out_json["decay_rate_t2_6"] = {"theory": -th.s_star, "simulation": rate.tolist(),
                                   "spec": "0.628 +- 0.022 at N = 2000 (MF 0.6076)"}
    return fig


def output_ode_three_targets(N, n_real, out_json, eps=0.02, t_end=10.0):
    """R1(b): g = 1, targets {1, 2, 3}: the output after a kick ``eps u`` at each trained
    attractor against the mean-field third-order ODE, ``eps a^T exp((M_k - I) t) b_k``."""
    g, targets = 1.0, [1.0, 2.0, 3.0]
    mt = multi_target(g, targets)
    t = np.linspace(0.0, t_end, 101)
    n = int(round(t_end / 0.01)) + 1
    sims = np.empty((len(targets), n_real, t.size))
    for seed in range(n_real):
        net, xf = trained(N, g, targets, seed + 1)
        fine = dataclasses.replace(net, dt=0.01)  # small Euler step: compare with the flow
        for k, A in enumerate(targets):
            z = rs.simulate(fine, None, xf[k] + eps * net.W_fb[:, 0], mode="closed",
                            n_steps=n, record=("z",)).z[:, 0]
            sims[k, seed] = z[::10] - A
    fig, axes = subplots(1, 3, figsize=(11, 3.4), constrained_layout=True)
    res = []
    for k, (ax, att) in enumerate(zip(axes, mt.attractors)):
        Mm = att.M_k - np.eye(len(targets))
        theory = np.array([eps * att.a @ scipy.linalg.expm(Mm * ti) @ att.b_k for ti in t])
        for sim in sims[k]:
            ax.plot(t, sim, color="0.6", lw=1)
        ax.plot([], [], color="0.6", label=f"networks (N = {N}, {n_real} networks)")
        ax.plot(t, theory, "--", color="C3", lw=2, label="mean field a^T exp((M-I)t) b")
        ax.axhline(0, color="k", lw=0.5, label="z = A (the attractor)")
        poles = ", ".join(f"{p.real:.2f}{p.imag:+.2f}i" if abs(p.imag) > 1e-9
                          else f"{p.real:.2f}" for p in att.poles)
        ax.set(xlabel="time (tau)", ylabel="z - A" if k == 0 else None,
               title=f"A = {att.A:g} ({'stable' if att.stable else 'unstable'})\n"
                     f"poles {poles}")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
        scale = np.max(np.abs(theory))
        res.append({"A": att.A, "stable": bool(att.stable),
                    "poles_real": att.poles.real.tolist(),
                    "poles_imag": att.poles.imag.tolist(), "t": t.tolist(),
                    "theory": theory.tolist(), "simulation": sims[k].tolist(),
                    "max_error_over_max_theory":
                        float(np.max(np.abs(sims[k] - theory)) / scale)})
    fig.suptitle("Three trained targets (g = 1): a third-order output ODE at each attractor",
                 fontsize=9)
    out_json["output_ode_three_targets"] = {"g": g, "eps": eps, "N": N,
                                            "realisations": n_real, "attractors": res}
    return fig


def edge_success_figure(N, seeds, gs, fractions, out_json, settle=1000.0):
    """R2(d): one target (tanh): the edge of chaos ``A_c(g)`` of the clamped network in the
    (g, A) plane beside the fraction of networks trained successfully at ``A = f A_c(g)``.

    Success: the clamped (teacher-forced) network settles to a fixed point within
    ``settle`` time units (it cannot below the edge, where it is chaotic), and the trained
    closed loop, kicked by 0.05 N(0, 1) per neuron, still has ``|z - A| < 1% A`` at
    t = 150. Mean field: success iff ``A > A_c(g)`` (the single-target output pole ``s*``
    is negative wherever the bulk is stable)."""
    curve_g = np.linspace(1.02, max(3.0, max(gs)), 60)
    curve_A = [edge_of_chaos(g)[0] for g in curve_g]
    rows = []
    for g in gs:
        A_c = edge_of_chaos(g)[0]
        for f in fractions:
            A = f * A_c
            th = single_target(g, A)
            ok = 0
            for seed in seeds:
                try:
                    net, xf = train_fixed_point_network(N, g, [A], settle=settle, rng=seed)
                except RuntimeError:      # the clamped network did not settle: chaotic
                    continue
                kick = 0.05 * np.random.default_rng(1000 + seed).standard_normal(xf.shape)
                z = rs.simulate(net, None, xf + kick, mode="closed", n_steps=1500,
                                record=("z",)).z[:, -1, 0]
                ok += bool(np.abs(z[0] - A) < 0.01 * A)
            rows.append({"g": g, "A": A, "A_over_A_c": f, "rho_theory": th.bulk_radius,
                         "trained": {"theory": bool(A > A_c and th.s_star < 0),
                                     "simulation": ok / len(seeds), "count": ok,
                                     "wilson95": wilson_interval(ok, len(seeds))}})
    fig, ax = subplots(figsize=(5.5, 4), constrained_layout=True)
    ax.plot(curve_g, curve_A, color="k", label="edge of chaos A_c(g) (mean field)")
    sc = ax.scatter([r["g"] for r in rows], [r["A"] for r in rows],
                    c=[r["trained"]["simulation"] for r in rows], cmap="RdYlGn", vmin=0,
                    vmax=1, s=120, marker="s", edgecolors="k")
    ax.scatter([], [], s=60, marker="s", facecolors="0.8", edgecolors="k",
               label="networks at A = f A_c(g), f = "
                     + ", ".join(f"{f:g}" for f in fractions) + " (colour: fraction)")
    fig.colorbar(sc, ax=ax, label=f"fraction trained and held (N = {N}, {len(seeds)} nets)")
    ax.set(xlabel="gain g", ylabel="target A", yscale="log",
           title=f"One target: the mean field says training succeeds iff A > A_c(g)\n"
                 f"N = {N}, {len(seeds)} networks per point")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="lower right")        # an empty corner: points sit at g >= 1.2
    agree = np.mean([r["trained"]["theory"] == (r["trained"]["simulation"] >= 0.5)
                     for r in rows])
    out_json["edge_success"] = {"N": N, "realisations": len(seeds), "settle": settle,
                                "kick": 0.05, "t_end": 150.0, "rows": rows,
                                "curve": {"g": curve_g.tolist(), "A_c": curve_A},
                                "agreement": float(agree)}
    return fig


def poles_figure(N, n_real, out_json):
    g, targets = 1.0, [0.5, 1.5]
    mt = multi_target(g, targets)
    fig, axes = subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
    rows = []
    for seed in range(n_real):
        net, xf = trained(N, g, targets, seed)
        for k, att in enumerate(mt.attractors):
            ev = _flow_eigenvalues(net, xf[k])
            lead = ev[np.argmax(ev.real)]
            rows.append({"A": att.A, "seed": seed, "N": N,
                         "leading_pole": {"theory": float(att.poles[0].real),
                                          "simulation": float(lead.real)}})
            if seed == 0:
                ax = axes[k]
                ax.scatter(ev.real, ev.imag, s=3, color="0.4",
                           label="flow Jacobian eigenvalues, network (seed 0)")
                ax.scatter(att.poles.real, att.poles.imag, s=80, facecolors="none",
                           edgecolors="C3", label="mean-field poles")
                ax.axvline(0, color="k", lw=0.8, label="stability boundary Re = 0")
                ax.set(xlabel="Re (1/tau)", ylabel="Im (1/tau)",
                       title=f"tanh, A = {att.A:g} ({'stable' if att.stable else 'unstable'})"
                             f"\nN = {N}, 1 of {n_real} networks shown")
                ax.title.set_fontsize(9)
                ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    relu, xr = trained(N // 2, 1.0, [1.0], 0, phi="relu")
    ev = _flow_eigenvalues(relu, xr[0])
    axes[2].scatter(ev.real, ev.imag, s=3, color="0.4",
                    label="flow Jacobian eigenvalues, network")
    axes[2].scatter([0], [0], s=80, facecolors="none", edgecolors="C3",
                    label="theory: a pole exactly at 0")
    axes[2].axvline(0, color="k", lw=0.8, label="stability boundary Re = 0")
    axes[2].set(xlabel="Re (1/tau)", ylabel="Im (1/tau)",
                title=f"ReLU, A = 1: line attractor (pole on Re = 0)\nN = {N // 2}, 1 network")
    axes[2].title.set_fontsize(9)
    axes[2].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    out_json["poles_two_targets"] = {"g": g, "targets": targets, "rows": rows,
                                     "theory_chi": [a.char_poly.tolist() for a in mt.attractors]}
    out_json["relu_leading_eigenvalue"] = {"theory": 0.0,
                                          "simulation": float(np.max(ev.real)), "N": N // 2}
    return fig


def _peak(omega, gain):
    """Frequency and height of the largest gain on a grid, refined by the parabola through
    the grid maximum and its two neighbours (the grid point itself at an end)."""
    i = int(np.argmax(gain))
    if 0 < i < len(gain) - 1:
        c = np.polyfit(omega[i - 1:i + 2], gain[i - 1:i + 2], 2)
        if c[0] < 0:
            w = float(np.clip(-c[1] / (2 * c[0]), omega[i - 1], omega[i + 1]))
            return w, float(np.polyval(c, w))
    return float(omega[i]), float(gain[i])


def frequency_figure(N, n_real, out_json, omegas=None, eps=(0.005, 0.01), dt=0.05,
                     t_transient=40.0):
    """R3: state-dependent frequency selectivity, measured on trained networks.

    g = 1, targets {1, 2, 3} (tanh, ``n_real`` networks of ``N`` units, seeds 1, 2, ...). At
    the two stable attractors (A = 1: complex poles, band-pass; A = 3: real poles,
    low-pass) the nonlinear closed loop is driven by ``eps sin(omega t)`` through the
    feedback vector (:func:`sinusoidal_gain`, Euler step ``dt``, ``t_transient``
    discarded, one period of the slowest drive fitted); the measured gain ``|T|`` and phase
    are compared with the mean field's ``T_k(s)`` (Rivkind & Barak 2017, (C4)) at the
    Euler map's ``s = (exp(i omega dt) - 1) / dt`` (``"theory"``; ``"theory_flow"``: at
    ``s = i omega``, the ``dt -> 0`` curve) and with the exact linearised network
    (:func:`network_transfer`, a second reference). Two amplitudes ``eps``: the first is
    the measurement, the second shows linearity (quadratic nonlinear error: the first's is
    about a third of their difference). Claims: band-pass at A = 1 (the measured peak
    exceeds the static gain), low-pass at A = 3 (the gain never rises with omega), and
    the peak frequency at A = 1 (within the grid spacing of the mean field's).
    """
    g, targets = 1.0, [1.0, 2.0, 3.0]
    mt = multi_target(g, targets)
    w = np.linspace(0, 2, 401)
    if omegas is None:
        omegas = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5]
    w_net = np.asarray(omegas, float)
    eps = np.asarray(eps, float)
    nets = [trained(N, g, targets, seed + 1) for seed in range(n_real)]
    fig, (ax, bx) = subplots(1, 2, figsize=(10.5, 5.0), constrained_layout=True)
    res = {}
    for k, color in ((0, "C0"), (2, "C1")):
        att = mt.attractors[k]
        T = np.abs(att.transfer(1j * w))
        T_map = att.transfer(euler_laplace(w_net, dt))
        meas, lin, resid = [], [], []
        for net, xf in nets:
            r = sinusoidal_gain(net, xf[k], w_net, eps, dt=dt, t_transient=t_transient)
            meas.append(r.gain)
            resid.append(r.relative_residual)
            lin.append(network_transfer(net, xf[k], w_net, dt=dt))
        meas, lin, resid = np.array(meas), np.array(lin), np.array(resid)
        gain = np.abs(meas[:, 0])                     # (realisations, W) at eps[0]
        ax.plot(w, T, color=color, label=f"mean field |T(i omega)|, A = {att.A:g}")
        ax.plot(w, np.abs(att.transfer(euler_laplace(w, dt))), ":", color=color, lw=1,
                label=f"mean field, Euler map dt = {dt:g}, A = {att.A:g}")
        ax.scatter(np.tile(w_net, n_real), gain.ravel(), color=color, marker="o",
                   s=22, label=f"network, measured sin drive, A = {att.A:g}")
        ax.scatter(np.tile(w_net, n_real), np.abs(lin).ravel(), color="k", marker="x",
                   s=14, lw=0.8, label="exact linearised network" if k == 0 else None)
        bx.plot(w, np.angle(att.transfer(1j * w)), color=color,
                label=f"mean field, A = {att.A:g}")
        bx.plot(w, np.angle(att.transfer(euler_laplace(w, dt))), ":", color=color, lw=1,
                label=f"mean field, Euler map dt = {dt:g}, A = {att.A:g} (JSON theory)")
        bx.scatter(np.tile(w_net, n_real), np.angle(meas[:, 0]).ravel(), color=color,
                   marker="o", s=22, label=f"network, measured, A = {att.A:g}")
        peaks = [_peak(w_net, gr) for gr in gain]
        lin_err = np.abs(meas[:, 0] - lin) / np.abs(lin)
        res[str(att.A)] = {
            "omega": w_net.tolist(), "N": N, "realisations": n_real, "eps": eps.tolist(),
            "dt": dt, "t_transient": t_transient,
            "t_window": float(2 * np.pi / w_net[w_net > 0].min()),
            "theory": np.abs(T_map).tolist(),
            "theory_flow": np.abs(att.transfer(1j * w_net)).tolist(),
            "simulation": gain.tolist(),
            "phase": {"theory": np.angle(T_map).tolist(),
                      "simulation": np.angle(meas[:, 0]).tolist()},
            "linearised_network": np.abs(lin).tolist(),
            "max_relative_error_vs_linearised": float(lin_err.max()),
            "linearity": {"eps": eps.tolist(),
                          "max_relative_difference": float(
                              np.max(np.abs(meas[:, -1] - meas[:, 0]) / np.abs(meas[:, 0])))
                          if eps.size > 1 else None},
            "max_relative_fit_residual": float(resid[:, 0].max()),
            "theory_peak": {"omega": float(w[np.argmax(T)]), "gain": float(T.max())},
            "measured_peak": {"omega": [p[0] for p in peaks], "gain": [p[1] for p in peaks]}}
    ax.set(xlabel="drive frequency omega (1/tau)", ylabel="gain |T| = amplitude / eps",
           title=f"g = 1, targets {{1, 2, 3}}: N = {N}, {n_real} network(s), "
                 f"eps = {eps[0]:g}")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    bx.set(xlabel="drive frequency omega (1/tau)", ylabel="phase of z - A against the drive",
           title=f"phase (rad): N = {N}, {n_real} network(s), eps = {eps[0]:g}")
    bx.title.set_fontsize(9)
    bx.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    band, low = res["1.0"], res["3.0"]
    g1 = np.array(band["simulation"])
    g3 = np.array(low["simulation"])
    w_peak_th = band["theory_peak"]["omega"]
    j = int(np.clip(np.searchsorted(w_net, w_peak_th) - 1, 0, len(w_net) - 2))
    spacing = float(w_net[j + 1] - w_net[j])      # the grid interval holding the MF peak
    w_peak = float(np.mean(band["measured_peak"]["omega"]))
    rise = float(np.min(np.max(g1[:, 1:], axis=1) / g1[:, 0]))
    fall = float(np.max(np.diff(g3, axis=1) / g3[:, :1]))
    th1 = np.array(band["theory"])
    th3 = np.array(low["theory"])
    out_json["frequency_response"] = res
    out_json["frequency_claims"] = {
        "band_pass_at_A_1": {
            "claim": "at the A = 1 attractor the gain peaks at omega > 0 (band-pass): "
                     "max |T| / |T(0)| > 1",
            "measured": rise, "theory": float(th1[1:].max() / th1[0]),
            "agrees": bool(rise > 1.0)},
        "low_pass_at_A_3": {
            "claim": "at the A = 3 attractor the gain falls monotonically with omega "
                     "(low-pass): largest rise between grid points / |T(0)| <= 0",
            "measured": fall, "theory": float(np.max(np.diff(th3) / th3[0])),
            "agrees": bool(fall <= 0.0)},
        "peak_frequency_at_A_1": {
            "claim": f"the A = 1 gain peaks at the mean field's omega = {w_peak_th:.3f}, "
                     f"within the grid spacing {spacing:g}",
            "measured": w_peak, "theory": w_peak_th,
            "agrees": bool(abs(w_peak - w_peak_th) <= spacing)},
        "N": N, "realisations": n_real}
    return fig


def time_constants_figure(out_json, N=None, seeds=(), values=(), settle_max=2000.0,
                          t_fit=(1.0, 4.0)):
    """R4: g = 1.5, the output time constant and the bulk's slowest time from the edge of
    chaos ``A_c(g)`` upwards: mean-field curves and trained finite networks.

    Theory (Rivkind & Barak 2017, (M1) and 4.4): ``tau_out = -1 / s*`` stays finite at
    ``A_c`` (1.786 at g = 1.5) while the bulk time ``1 / (1 - rho)`` diverges. Networks
    (when ``N`` is given): one target ``A`` per value in ``values``, ``seeds`` networks each,
    trained by teacher forcing (the clamped run settles for ``max(150, 30 / (1 - rho))``
    time units, at most ``settle_max``; a network that does not settle is counted and
    left out). Measured per network: ``tau_out`` = 1 / the fitted decay rate of
    ``|z - A|`` after a kick ``0.05 u`` between ``t_fit`` (:func:`kick_decay_rate`; the
    window stays before the slow finite-size bulk tail that dominates near the edge) and
    the bulk time ``-1 / max Re`` of the open-loop Jacobian (:func:`bulk_time`). Claim
    entry: from the largest ``A`` to the smallest the measured bulk time grows by more than
    3 while the measured ``tau_out`` stays within 40 % of the mean field at every ``A``.
    """
    g = 1.5
    A_c, _, _ = edge_of_chaos(g)
    A = np.linspace(A_c, 3.0, 60)
    ths = [single_target(g, a) for a in A]
    fig, ax = subplots(figsize=(6.8, 3.8), constrained_layout=True)
    ax.plot(A, [t.tau_out for t in ths], color="C0", label="mean field tau_out")
    ax.plot(A, [min(t.bulk_time, 100) for t in ths], color="C3",
            label="mean field bulk time 1/(1 - rho)")
    ax.axvline(A_c, color="k", lw=0.8, ls=":", label=f"edge of chaos A_c = {A_c:.4f}")
    out_json["time_constants"] = {"g": g, "A": A.tolist(),
                                  "tau_out": [t.tau_out for t in ths],
                                  "bulk_time": [t.bulk_time for t in ths]}
    seeds = list(seeds)
    values = sorted(float(a) for a in values)
    if N is not None and seeds and values:
        rows = []
        for a in values:
            th = single_target(g, float(a))
            settle = float(min(settle_max, max(150.0, 30.0 * th.bulk_time)))
            taus, bulks, failed = [], [], 0
            for seed in seeds:
                try:
                    net, xf = train_fixed_point_network(N, g, [float(a)], settle=settle,
                                                        rng=seed)
                except RuntimeError:          # the clamped network did not settle
                    failed += 1
                    continue
                taus.append(1.0 / kick_decay_rate(net, xf[0], t_fit=t_fit))
                bulks.append(bulk_time(net, xf[0]))
            rows.append({"A": float(a), "A_over_A_c": float(a) / A_c, "N": N,
                         "realisations": len(seeds), "not_settled": failed,
                         "settle": settle,
                         "tau_out": {"theory": th.tau_out, "simulation": taus},
                         "bulk_time": {"theory": th.bulk_time, "simulation": bulks}})
            ax.scatter([a] * len(taus), taus, marker="o", facecolors="none",
                       edgecolors="C0", s=28)
            ax.scatter([a] * len(bulks), bulks, marker="s", facecolors="none",
                       edgecolors="C3", s=28)
        ax.scatter([], [], marker="o", facecolors="none", edgecolors="C0",
                   label=f"networks: tau_out (kick fit, t = {t_fit[0]:g}-{t_fit[1]:g})")
        ax.scatter([], [], marker="s", facecolors="none", edgecolors="C3",
                   label="networks: bulk time -1/max Re eig(open loop)")
        ok = [r for r in rows if r["tau_out"]["simulation"]]
        out_json["time_constants"]["networks"] = {
            "N": N, "realisations": len(seeds), "t_fit": list(t_fit), "kick": 0.05,
            "rows": rows}
        claim = ("the output time constant stays finite while the bulk time grows "
                 "toward A_c")
        if len(ok) < 2:                       # nothing to compare: say so, do not guess
            logger.warning("rb2017: time constants: fewer than two targets trained at "
                           "N = %d (clamped networks did not settle)", N)
            out_json["time_constants"]["claim"] = {
                "claim": claim, "measured": None, "agrees": False, "N": N,
                "realisations": len(seeds),
                "note": "fewer than two targets trained (clamped networks did not settle)"}
            ok = []
        if ok:
            near, far = ok[0], ok[-1]
            growth = float(np.mean(near["bulk_time"]["simulation"])
                           / np.mean(far["bulk_time"]["simulation"]))
            tau_dev = float(max(abs(np.mean(r["tau_out"]["simulation"]) / r["tau_out"]["theory"]
                                    - 1) for r in ok))
            out_json["time_constants"]["claim"] = {
                "claim": claim,
                "measured": {"A_near": near["A"], "A_far": far["A"],
                             "bulk_time_growth": growth,
                             "bulk_time_growth_theory": near["bulk_time"]["theory"]
                             / far["bulk_time"]["theory"],
                             "tau_out_growth": float(np.mean(near["tau_out"]["simulation"])
                                                     / np.mean(far["tau_out"]["simulation"])),
                             "tau_out_growth_theory": near["tau_out"]["theory"]
                             / far["tau_out"]["theory"],
                             "max_relative_deviation_of_mean_tau_out": tau_dev},
                "criterion": "bulk_time_growth > 3 and max_relative_deviation_of_mean_tau_out "
                             "< 0.4",
                "agrees": bool(growth > 3 and tau_dev < 0.4), "N": N,
                "realisations": len(seeds)}
        title = (f"g = {g}: the output stays fast at the edge of chaos\n"
                 f"networks: N = {N}, {len(seeds)} per target")
    else:
        title = f"g = {g}: the output stays fast at the edge of chaos"
    ax.set(xlabel="target A", ylabel="time (tau)", yscale="log", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def stability_map_figure(N, seeds, values, out_json):
    """R2(c): every pair A_1 < A_2 from ``values`` (g = 1): mean-field stability of each
    trained attractor beside the fraction of networks whose nonlinear closed loop, kicked by
    0.05 N(0, 1) per neuron, still has |z - A_k| < 1% |A_k| at t = 150."""
    g = 1.0
    pairs = [(a1, a2) for i, a1 in enumerate(values) for a2 in values[i + 1:]]
    rows = []
    for a1, a2 in pairs:
        mt = multi_target(g, [a1, a2])
        held = np.zeros(2)
        for seed in seeds:
            net, xf = trained(N, g, [a1, a2], seed)
            kick = 0.05 * np.random.default_rng(1000 + seed).standard_normal(xf.shape)
            z = rs.simulate(net, None, xf + kick, mode="closed", n_steps=1500,
                            record=("z",)).z[:, -1, 0]
            held += np.abs(z - [a1, a2]) < 0.01 * np.abs([a1, a2])
        for k, att in enumerate(mt.attractors):
            rows.append({"A1": a1, "A2": a2, "attractor": att.A,
                         "leading_pole": float(att.poles[0].real),
                         "stable": {"theory": bool(att.stable),
                                    "simulation": float(held[k] / len(seeds))}})
    fig, axes = subplots(1, 2, figsize=(9.5, 4), constrained_layout=True)
    for k, ax in enumerate(axes):
        sub = rows[k::2]
        x = [r["A1"] for r in sub]
        y = [r["A2"] for r in sub]
        frac = [r["stable"]["simulation"] for r in sub]
        th = np.array([r["stable"]["theory"] for r in sub])
        sc = ax.scatter(x, y, c=frac, cmap="RdYlGn", vmin=0, vmax=1, s=260,
                        marker="s", edgecolors="k")
        ax.scatter(np.array(x)[th], np.array(y)[th], marker="o", s=40, color="k",
                   label="mean field: stable")
        ax.scatter(np.array(x)[~th], np.array(y)[~th], marker="x", s=40, color="k",
                   label="mean field: unstable")
        ax.set(xlabel="target A_1", ylabel="target A_2 (> A_1)",
               title=f"attractor at A_{k + 1}: fraction held (N = {N}, {len(seeds)} nets)")
        ax.legend(fontsize=7, loc="lower right")
    fig.colorbar(sc, ax=axes, label="fraction of networks that keep z = A_k")
    agree = np.mean([r["stable"]["theory"] == (r["stable"]["simulation"] >= 0.5)
                     for r in rows])
    out_json["stability_map"] = {"g": g, "N": N, "realisations": len(seeds),
                                 "kick": 0.05, "t_end": 150.0, "rows": rows,
                                 "agreement": float(agree)}
    return fig


def feedback_distribution_figure(N, n_real, out_json, quick):
    """R5: tau_out against sigma_u A for u ~ N(0, 1) and U[-1, 1], several g, and the edge of
    chaos A_c(g) (and sigma_u A_c) for both; network points: fitted output decay rates."""
    var = {"normal": 1.0, "uniform": 1.0 / 3.0}
    gs = (0.5, 1.0, 1.5, 2.0)
    curves = {}
    fig, (ax, bx) = subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for i, g in enumerate(gs):
        for dist, ls in (("normal", "-"), ("uniform", "--")):
            su = np.sqrt(var[dist])
            lo = 0.1 if g <= 1 else 1.02 * su * edge_of_chaos(
                g, var_m=var[dist], feedback_dist=dist)[0]
            sa = np.geomspace(lo, 2.5, 16 if quick else 40)
            tau = [single_target(g, x / su, var_m=var[dist], feedback_dist=dist).tau_out
                   for x in sa]
            curves[f"{g}_{dist}"] = {"g": g, "u_dist": dist, "sigma_u_A": sa.tolist(),
                                     "tau_out": tau}
            ax.plot(sa, tau, ls, color=f"C{i}", label=f"g = {g}, u {dist}")
    sims = []
    g = 1.0
    for dist, marker in (("normal", "o"), ("uniform", "s")):
        su = np.sqrt(var[dist])
        for sa in (0.5, 1.0, 2.0):
            th = single_target(g, sa / su, var_m=var[dist], feedback_dist=dist)
            rates = [kick_decay_rate(*(lambda nx: (nx[0], nx[1][0]))(
                trained(N, g, [sa / su], seed, var_m=var[dist], feedback_dist=dist)))
                for seed in range(n_real)]
            tau_sim = [1 / r for r in rates]
            sims.append({"g": g, "u_dist": dist, "sigma_u_A": sa, "N": N,
                         "tau_out": {"theory": th.tau_out, "simulation": tau_sim}})
            ax.scatter([sa] * n_real, tau_sim, marker=marker, facecolors="none",
                       edgecolors="C1")
    ax.scatter([], [], marker="o", facecolors="none", edgecolors="C1",
               label=f"networks g = 1, u normal (N = {N}, {n_real} per point)")
    ax.scatter([], [], marker="s", facecolors="none", edgecolors="C1",
               label=f"networks g = 1, u uniform (N = {N}, {n_real} per point)")
    ax.set(xlabel="sigma_u A", ylabel="output time constant tau_out", yscale="log", xscale="log",
           title="tau_out depends on the target through sigma_u A")
    ax.legend(fontsize=6, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    g_edge = np.array([1.05, 1.1, 1.2, 1.5, 2.0, 3.0] if quick else
                      [1.05, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5, 1.75, 2.0, 2.5, 3.0])
    edge = {}
    for dist, ls in (("normal", "-"), ("uniform", "--")):
        su = np.sqrt(var[dist])
        Ac = np.array([edge_of_chaos(g, var_m=var[dist], feedback_dist=dist)[0] for g in g_edge])
        tau_c = [single_target(g, a, var_m=var[dist], feedback_dist=dist).tau_out
                 for g, a in zip(g_edge, Ac)]
        edge[dist] = {"g": g_edge.tolist(), "A_c": Ac.tolist(),
                      "sigma_u_A_c": (su * Ac).tolist(), "tau_out_at_A_c": tau_c}
        if dist == "uniform":
            bx.plot(g_edge, Ac, ls + "o", color="C0", ms=3, label="A_c, u uniform")
        bx.plot(g_edge, su * Ac, ls + "o", color="C3", ms=3,
                label=f"sigma_u A_c, u {dist}" + (" (= A_c)" if dist == "normal" else ""))
    bx.set(xlabel="g", ylabel="edge of chaos of the clamped network", yscale="log",
           title="A_c(g): only sigma_u A matters for small A")
    bx.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    out_json["feedback_distribution"] = {
        "curves": curves, "networks": sims, "edge_of_chaos": edge,
        "spec_uniform_A_c": {"1.05": 0.0224, "1.1": 0.0637, "1.2": 0.1818, "1.5": 0.7327,
                             "2.0": 2.0736}}
    return fig


def finite_size_figure(Ns, seeds, out_json):
    """R6: g = 1, targets {0.5, 1.5}: |exact - MF| of H(0) at both attractors and of the
    closed-loop outlier at A = 0.5 (MF +0.4259) against N, log-log, with the N^-1/2 law.

    The outlier is the eigenvalue of the closed-loop Jacobian nearest the mean-field pole,
    by shift-invert Arnoldi (:func:`reservoir.analysis.network_pole`: one LU factorisation
    of ``L - s0 I`` and ``scipy.sparse.linalg.eigs`` with ``sigma = s0``, no full
    spectrum), so N = 4000 costs a few LU factorisations. ``H(0)``: one dense linear solve
    (:func:`reservoir.analysis.network_open_loop`). ``seeds[i]``: the realisations at
    ``Ns[i]``; the figure's title states them."""
    g, targets = 1.0, [0.5, 1.5]
    mt = multi_target(g, targets)
    s0 = float(mt.attractors[0].poles[0].real)
    res = {"pole_A0.5": [], "H0_A0.5": [], "H0_A1.5": []}
    for N, sds in zip(Ns, seeds):
        vals = {k: [] for k in res}
        for seed in sds:
            net, xf = trained(N, g, targets, seed)
            vals["pole_A0.5"].append(network_pole(net, xf[0], s0).real)
            vals["H0_A0.5"].append(network_open_loop(net, xf[0], 0.0)[0].real)
            vals["H0_A1.5"].append(network_open_loop(net, xf[1], 0.0)[0].real)
        theory = {"pole_A0.5": s0, "H0_A0.5": mt.attractors[0].H0,
                  "H0_A1.5": mt.attractors[1].H0}
        for k in res:
            err = np.array(vals[k]) - theory[k]
            res[k].append({"N": N, "realisations": len(sds), "theory": theory[k],
                           "simulation": vals[k], "rms_error": float(np.sqrt(np.mean(err**2))),
                           "mean_abs_error": float(np.mean(np.abs(err)))})
    fig, ax = subplots(figsize=(7.2, 3.8), constrained_layout=True)
    slopes = {}
    for i, (k, label) in enumerate((("pole_A0.5", "leading pole, A = 0.5"),
                                    ("H0_A0.5", "H(0), A = 0.5"),
                                    ("H0_A1.5", "H(0), A = 1.5"))):
        rms = [r["rms_error"] for r in res[k]]
        errs = [np.array(r["simulation"]) - r["theory"] for r in res[k]]
        slopes[k] = {"theory": -0.5, "simulation": loglog_slope(Ns, rms),
                     "bootstrap95": _bootstrap_rms_slope(Ns, errs)}
        ax.loglog(Ns, rms, "o-", color=f"C{i}",
                  label=f"{label} (slope {slopes[k]['simulation']:.2f})")
    ref = np.array(Ns, dtype=float)
    ax.loglog(ref, res["H0_A0.5"][0]["rms_error"] * np.sqrt(ref[0] / ref), "k--", lw=1,
              label="N^-1/2")
    n_per = [len(sds) for sds in seeds]
    ax.set(xlabel="N", ylabel="rms |exact - mean field|",
           title=f"g = 1, targets {{0.5, 1.5}}: finite size\nN = "
                 f"{', '.join(map(str, Ns))}; networks per N: {', '.join(map(str, n_per))}")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    out_json["finite_size"] = {"g": g, "targets": targets, "quantities": res,
                               "loglog_slope": slopes, "sizes": list(Ns),
                               "realisations_per_N": n_per,
                               "eigensolver": "shift-invert Arnoldi (scipy.sparse.linalg."
                                              "eigs, sigma = mean-field pole), no full "
                                              "spectrum"}
    return fig


def robustness_figure(Ns, n_real, n_vec, out_json):
    """R7: g = 1, one target A = 1: static closed-loop gain of the output to an input through
    the feedback vector u (MF T(0) = K / -s* = 0.441) and through independent random vectors v
    (MF 0: no coherent path; finite N: O(N^-1/2))."""
    g, A = 1.0, 1.0
    th = single_target(g, A)
    T0 = th.loop_gain / -th.s_star
    rows = []
    for N in Ns:
        tu, tv = [], []
        for seed in range(n_real):
            net, xf = trained(N, g, [A], seed)
            V = np.random.default_rng(5000 + seed).standard_normal((N, n_vec))
            gains = network_closed_loop_gain(net, xf[0], np.column_stack([net.W_fb[:, 0], V]))
            tu.append(float(gains[0].real))
            tv.extend(np.abs(gains[1:].real).tolist())
        rows.append({"N": N, "realisations": n_real, "random_vectors": n_vec,
                     "gain_u": {"theory": T0, "simulation": tu},
                     "gain_v": {"theory": 0.0, "simulation": tv},
                     "rms_gain_v": float(np.sqrt(np.mean(np.square(tv)))),
                     "ratio_u_over_v": float(np.mean(tu) / np.sqrt(np.mean(np.square(tv))))})
    rms_v = [r["rms_gain_v"] for r in rows]
    fig, ax = subplots(figsize=(5, 3.8), constrained_layout=True)
    ax.loglog(Ns, [np.mean(r["gain_u"]["simulation"]) for r in rows], "o-", color="C0",
              label="input through u (networks)")
    ax.axhline(T0, color="C0", ls="--", lw=1, label=f"mean field T(0) = {T0:.3f}")
    ax.loglog(Ns, rms_v, "s-", color="C3", label="input through random v (rms, networks)")
    ax.loglog(Ns, rms_v[0] * np.sqrt(Ns[0] / np.array(Ns, float)), "k:", lw=1,
              label="N^-1/2")
    ax.set(xlabel="N", ylabel="static output gain |dz/dp|",
           title=f"g = 1, A = 1: input through u vs random v\n{n_real} networks per N, "
                 f"{n_vec} random v each")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    out_json["robustness"] = {"g": g, "A": A, "rows": rows,
                              "loglog_slope_v": {"theory": -0.5,
                                                 "simulation": loglog_slope(Ns, rms_v),
                                                 "bootstrap95": _bootstrap_rms_slope(
                                                     Ns, [r["gain_v"]["simulation"]
                                                          for r in rows])}}
    return fig


def attractor_stability(net, x_fixed):
    """Stability of each trained state as the fixed-point analysis reports it.

    :func:`reservoir.analysis.find_fixed_points` (slow-point search seeded exactly at the
    trained states, no certificate), each trained state matched to the found point nearest
    to it: within 1e-6 (1 + max|x|) in max-norm (``"match": "point"``), or, for a point
    that the analysis reports on a continuum (``continuum_dim >= 1``), on the same ray
    ``c x``, ``c > 0`` (cosine > 1 - 1e-9; ``"match": "ray"``: ReLU without bias is
    positively homogeneous, and the analysis may report the continuum by another of its
    points, whose flow Jacobian is the same because ``phi'(c x) = phi'(x)``). Returns one
    dict per trained state: ``stability`` (``"stable"``, ``"saddle"``, ``"unstable"``,
    ``"marginal"`` or ``"unknown"``; ``"not found"`` when no point matches),
    ``continuum_dim``, the leading flow pole ``[Re, Im]`` (largest real part, 1/tau), the
    reported point's ``z`` and ``match``.
    """
    fp = find_fixed_points(net, method="slow", initial_states=x_fixed, certify=False)
    rows = []
    for x in x_fixed:
        match, i = None, -1
        if len(fp.z):
            d = np.max(np.abs(fp.x - x), axis=1)
            i = int(np.argmin(d))
            if d[i] <= 1e-6 * (1 + np.max(np.abs(x))):
                match = "point"
            else:
                cos = fp.x @ x / (np.linalg.norm(fp.x, axis=1) * np.linalg.norm(x) + 1e-300)
                ray = np.flatnonzero((cos > 1 - 1e-9) & (fp.continuum_dim >= 1))
                if ray.size:
                    match, i = "ray", int(ray[0])
        if match is None:
            rows.append({"stability": "not found", "continuum_dim": -1,
                         "leading_pole": [float("nan"), float("nan")], "z": float("nan"),
                         "match": None})
            continue
        ev = fp.jacobian_eigenvalues[i]
        lead = ev[np.argmax(ev.real)]
        rows.append({"stability": str(fp.stability[i]),
                     "continuum_dim": int(fp.continuum_dim[i]),
                     "leading_pole": [float(lead.real), float(lead.imag)],
                     "z": float(fp.z[i, 0]), "match": match})
    return rows


def relu_sigmoid_figure(N, seeds, values, out_json, g=1.0):
    """The ReLU-versus-sigmoid contrast (Rivkind & Barak 2017, abstract).

    (a) One target ``A`` per network (each ``A`` in ``values``), trained with ``phi =
    "tanh"`` and ``phi = "relu"`` on the same bulk seeds: theory says every tanh attractor
    is stable (a single sigmoid target is always stable in the outlier sense, g = 1 below
    the edge of chaos) and every ReLU attractor marginal (exact zero pole, a line attractor:
    ``continuum_dim = 1``). (b) tanh, two targets ``{A_i, A_i+1}`` (consecutive
    ``values``): the alternation rule, at most every other attractor stable (by ``|A|``)
    and the mean-field verdict per attractor. Success = the fixed-point analysis reports the
    trained state as ``"stable"``. Fractions with Wilson 95 % intervals.
    """
    values = [float(v) for v in values]
    seeds = list(seeds)
    n = len(seeds)
    single = {"tanh": [], "relu": []}
    for phi in ("tanh", "relu"):
        for A in values:
            nets = []
            for seed in seeds:
                net, xf = trained(N, g, [A], seed, phi=phi)
                nets.append(attractor_stability(net, xf)[0] | {"seed": seed})
            k = sum(r["stability"] == "stable" for r in nets)
            n_marg = sum(r["stability"] == "marginal" for r in nets)
            n_line = sum(r["continuum_dim"] == 1 for r in nets)
            single[phi].append({
                "A": A, "networks": nets,
                "success": {"theory": 1.0 if phi == "tanh" else 0.0,
                            "simulation": k / n, "wilson95": wilson_interval(k, n)},
                "marginal": {"theory": 0.0 if phi == "tanh" else 1.0,
                             "simulation": n_marg / n},
                "line_attractor": {"theory": 0.0 if phi == "tanh" else 1.0,
                                   "simulation": n_line / n},
                "max_abs_leading_pole": float(max(abs(r["leading_pole"][0]) for r in nets
                                                  if r["stability"] != "not found")
                                              if any(r["stability"] != "not found"
                                                     for r in nets) else float("nan"))})
    pairs = []
    for a1, a2 in zip(values[:-1], values[1:]):
        mt = multi_target(g, [a1, a2])
        per_att = [[], []]
        alternation = 0
        for seed in seeds:
            net, xf = trained(N, g, [a1, a2], seed)
            rows = attractor_stability(net, xf)
            for kk in range(2):
                per_att[kk].append(rows[kk] | {"seed": seed})
            alternation += not all(r["stability"] == "stable" for r in rows)
        atts = []
        for kk, att in enumerate(mt.attractors):
            k = sum(r["stability"] == "stable" for r in per_att[kk])
            atts.append({"A": att.A, "networks": per_att[kk],
                         "leading_pole": {"theory": [float(att.poles[0].real),
                                                     float(att.poles[0].imag)],
                                          "simulation": [r["leading_pole"]
                                                         for r in per_att[kk]]},
                         "success": {"theory": float(att.stable), "simulation": k / n,
                                     "wilson95": wilson_interval(k, n)}})
        pairs.append({"targets": [a1, a2], "attractors": atts,
                      "alternation": {"theory": 1.0, "simulation": alternation / n}})
    fig, (ax, bx) = subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    off = 0.06 * (max(values) - min(values) + 1e-9)
    for phi, dx, color, marker in (("tanh", -off, "C0", "o"), ("relu", off, "C3", "s")):
        fr = np.array([r["success"]["simulation"] for r in single[phi]])
        lo = np.array([r["success"]["wilson95"][0] for r in single[phi]])
        hi = np.array([r["success"]["wilson95"][1] for r in single[phi]])
        ax.errorbar(np.array(values) + dx, fr, yerr=[fr - lo, hi - fr], fmt=marker,
                    color=color, capsize=3, label=f"{phi}: stable (Wilson 95 %)")
        mg = [r["marginal"]["simulation"] for r in single[phi]]
        ax.scatter(np.array(values) + dx, mg, marker="x", color=color,
                   label=f"{phi}: marginal (line attractor)")
    ax.axhline(1.0, color="C0", ls="--", lw=0.8, label="theory tanh: stable")
    ax.axhline(0.0, color="C3", ls="--", lw=0.8, label="theory ReLU: marginal, never stable")
    ax.set(xlabel="target A", ylabel="fraction of networks", ylim=(-0.05, 1.3),
           title=f"one target, g = {g:g}: N = {N}, {n} networks per point")
    ax.legend(fontsize=6, loc="upper center", ncol=2)
    for i, p in enumerate(pairs):
        for kk, att in enumerate(p["attractors"]):
            s = att["success"]
            x = i + (kk - 0.5) * 0.3
            lo, hi = s["wilson95"]
            bx.errorbar([x], [s["simulation"]], yerr=[[s["simulation"] - lo],
                                                       [hi - s["simulation"]]],
                        fmt="o" if kk else "s", color=f"C{kk}", capsize=3,
                        label=("network: smaller |A|" if kk == 0 else
                               "network: larger |A|") if i == 0 else None)
            bx.scatter([x], [s["theory"]], marker="_", s=300, color="k",
                       label="mean field" if i == 0 and kk == 0 else None)
    bx.set_xticks(range(len(pairs)), [f"{{{a:g}, {b:g}}}" for a, b in
                                      (p["targets"] for p in pairs)])
    bx.set(xlabel="tanh, two targets", ylabel="fraction stable (Wilson 95 %)",
           ylim=(-0.05, 1.3), xlim=(-0.6, len(pairs) - 0.4),
           title=f"alternation rule: N = {N}, {n} networks per pair")
    bx.legend(fontsize=6, loc="upper center", ncol=3)
    relu_nets = [r for row in single["relu"] for r in row["networks"]]
    zero_pole = np.mean([r["stability"] != "stable" and r["continuum_dim"] == 1
                         and abs(r["leading_pole"][0]) < 1e-8 for r in relu_nets])
    tanh_ok = min(row["success"]["simulation"] for row in single["tanh"])
    alt = min((p["alternation"]["simulation"] for p in pairs), default=float("nan"))
    verdicts = [a["success"]["theory"] == (a["success"]["simulation"] >= 0.5)
                for p in pairs for a in p["attractors"]]
    claims = {
        "one_sigmoid_target_is_stable": {"theory": 1.0, "simulation": tanh_ok,
                                         "agrees": bool(tanh_ok == 1.0)},
        "relu_zero_pole_line_attractor": {"theory": 1.0, "simulation": float(zero_pole),
                                          "agrees": bool(zero_pole == 1.0)},
        "alternation_rule": {"theory": 1.0, "simulation": alt, "agrees": bool(alt == 1.0)},
        "mean_field_verdict_per_attractor": {
            "theory": 1.0, "simulation": float(np.mean(verdicts)) if verdicts else float("nan"),
            "agrees": bool(verdicts) and all(verdicts)}}
    out_json["relu_vs_sigmoid"] = {"g": g, "N": N, "realisations": n, "values": values,
                                   "single_target": single, "two_targets_tanh": pairs,
                                   "claims": claims}
    return fig


def checkable(out_json):
    table = []
    for g, A in [(0.5, 0.5), (0.5, 1.0), (1.0, 1.0), (1.5, 1.0), (2.0, 2.0)]:
        t = single_target(g, A)
        table.append({"g": g, "A": A, "C": t.C, "gamma": t.gamma, "K": t.loop_gain, "H0": t.H0,
                      "s_star": t.s_star, "tau_out": t.tau_out, "rho": t.bulk_radius,
                      "tau_eff": t.tau_eff})
    out_json["table_7_1"] = table
    out_json["edge_of_chaos"] = [
        dict(zip(("g", "A_c", "Delta_c", "C_c"), (g,) + edge_of_chaos(g)))
        for g in (1.05, 1.1, 1.2, 1.5, 2.0, 3.0)]


def _bootstrap_rms_slope(Ns, samples, n_boot=1000, seed=0):
    """Bootstrap 95 % interval of the log-log slope of ``rms(samples[i])`` against ``Ns``.

    ``samples[i]``: the per-network values (errors, gains) at ``Ns[i]``; each resample
    draws the values at every N with replacement (``numpy.random.default_rng(seed)``,
    ``n_boot`` resamples) and refits :func:`loglog_slope`. Returns ``[2.5 %, 97.5 %]``
    percentiles; resamples whose rms is 0 at some N (all values 0) are skipped."""
    rng = np.random.default_rng(seed)
    samples = [np.asarray(v, float) for v in samples]
    logN = np.log(np.asarray(Ns, float))
    slopes = []
    for _ in range(n_boot):
        rms = np.array([np.sqrt(np.mean(v[rng.integers(0, v.size, v.size)] ** 2))
                        for v in samples])
        if np.all(rms > 0):
            slopes.append(np.polyfit(logN, np.log(rms), 1)[0])
    if not slopes:
        return [float("nan"), float("nan")]
    return [float(q) for q in np.percentile(slopes, [2.5, 97.5])]


#: The verdict rule of an ``N^-1/2`` law from a bootstrap interval of the log-log slope.
_SLOPE_RULE = ("the bootstrap 95 % interval of the log-log slope of the rms against N "
               "(networks resampled within each N, 1000 resamples) contains -0.5 and lies "
               "below 0; undecided (agrees null, decided false) when it contains both "
               "-0.5 and 0: too few sizes or networks to tell the law from no decrease")


def _slope_verdict(interval):
    """``(agrees, undecided)`` of an ``N^-1/2`` law from the slope's bootstrap interval."""
    lo, hi = interval
    has_half = lo <= -0.5 <= hi
    return bool(has_half and hi < 0), bool(has_half and hi >= 0)


def _claim(claim, rule, measured, agrees, N, realisations, see, undecided=False,
           note=None):
    """One claim entry. An undecided claim (the data cannot tell) has ``agrees: None``,
    ``decided: False`` and a ``note``, the convention of every reproduction's claims."""
    entry = {"claim": claim, "rule": rule, "measured": measured,
             "agrees": None if undecided else bool(agrees), "decided": not undecided,
             "N": N, "realisations": realisations, "see": see}
    if undecided:
        note = ("undecided: the bootstrap interval of the slope holds both -0.5 and 0 (too "
                "few sizes or networks)" + (f"; {note}" if note else ""))
    if note:
        entry["note"] = note
    return entry


def collect_claims(out_json):
    """Gather every claim of the paper with its verdict into ``out_json["claims"]``.

    One ``{"claim", "rule", "measured", "agrees", "N", "realisations", "see"}`` entry per
    claim (``see``: the JSON key holding the data), each verdict by the stated ``rule``:
    the output ODE (first and third order), the poles of two targets (alternation rule),
    ReLU's exact zero pole, the stability map, training success against the edge of chaos
    (every point, and away from the edge), finite-size convergence at the rate
    ``N^-1/2`` and robustness to random inputs (``undecided`` where the bootstrap interval
    of the slope holds both -0.5 and 0), the feedback distribution; and the
    claims that the figures record themselves (``frequency_claims``,
    ``time_constants["claim"]``, ``relu_vs_sigmoid["claims"]``), copied with their
    ``see``. Keys missing from ``out_json`` (a partial run) are skipped. Also sets
    ``out_json["claims_summary"]``: the number of claims, of those that agree, and the
    names of those that do not.

    Parameters
    ----------
    out_json : dict
        The reproduction's JSON content (as :func:`run` builds it); modified in place.

    Returns
    -------
    dict
        ``out_json["claims"]``.
    """
    c = {}
    if "decay_rate_t2_6" in out_json:
        d, o = out_json["decay_rate_t2_6"], out_json["output_ode"]
        dev = [abs(r / d["theory"] - 1) for r in d["simulation"]]
        c["output_ode_first_order"] = _claim(
            "one trained target (g = 1, A = 1): after a kick the output decays as a "
            f"first-order ODE at the mean-field rate -s* = {d['theory']:.4f}",
            "every network's rate fitted to log|z - A| on t = 2-6 within 15 % of -s* "
            "(finite-size spread of the pole ~ N^-1/2)",
            {"rates": d["simulation"], "max_relative_deviation": max(dev)},
            max(dev) < 0.15, o["N"], o["realisations"], "decay_rate_t2_6")
    if "output_ode_three_targets" in out_json:
        o = out_json["output_ode_three_targets"]
        errs = [a["max_error_over_max_theory"] for a in o["attractors"]]
        c["output_ode_third_order"] = _claim(
            "three targets (g = 1, {1, 2, 3}): the output after a kick at each attractor "
            "follows the mean-field third-order ODE a^T exp((M_k - I) t) b_k",
            "max |network - mean field| / max |mean field| < 0.15 at every attractor and "
            "network (t <= 10)",
            {"A": [a["A"] for a in o["attractors"]], "max_error_over_max_theory": errs},
            max(errs) < 0.15, o["N"], o["realisations"], "output_ode_three_targets")
    if "poles_two_targets" in out_json:
        rows = out_json["poles_two_targets"]["rows"]
        err = [abs(r["leading_pole"]["simulation"] - r["leading_pole"]["theory"])
               for r in rows]
        sign = [np.sign(r["leading_pole"]["simulation"]) == np.sign(r["leading_pole"]["theory"])
                for r in rows]
        c["alternation_rule_poles"] = _claim(
            "two targets (g = 1, {0.5, 1.5}): the attractor at 0.5 is unstable and the one "
            "at 1.5 stable (alternation rule), the network's leading pole at the mean "
            "field's",
            "every network's leading flow pole has the mean-field pole's sign and lies "
            "within 0.08 of it (finite-size spread at N = 500 ~ 0.05)",
            {"fraction_same_sign": float(np.mean(sign)), "max_abs_error": float(max(err))},
            all(sign) and max(err) < 0.08, rows[0]["N"],
            len({r["seed"] for r in rows}), "poles_two_targets")
    if "relu_leading_eigenvalue" in out_json:
        r = out_json["relu_leading_eigenvalue"]
        c["relu_exact_zero_pole"] = _claim(
            "ReLU (g = 1, A = 1): the trained state has a pole exactly at 0 (a line "
            "attractor, by positive homogeneity)",
            "|largest real part of the flow Jacobian's eigenvalues| < 1e-8",
            r["simulation"], abs(r["simulation"]) < 1e-8, r["N"], 1,
            "relu_leading_eigenvalue")
    if "stability_map" in out_json:
        m = out_json["stability_map"]
        c["stability_map"] = _claim(
            "the mean-field stability of each of two trained attractors predicts whether "
            "the kicked nonlinear closed loop keeps z = A_k",
            "at every attractor of every pair the theory's verdict equals the majority "
            "outcome (fraction held >= 0.5)",
            {"agreement": m["agreement"], "attractors": len(m["rows"])},
            m["agreement"] == 1.0, m["N"], m["realisations"], "stability_map")
    if "edge_success" in out_json:
        e = out_json["edge_success"]

        def consistent(r):
            lo, hi = r["trained"]["wilson95"]
            th = 1.0 if r["trained"]["theory"] else 0.0
            return lo <= th <= hi

        bad = [{"g": r["g"], "A_over_A_c": r["A_over_A_c"],
                "measured": r["trained"]["simulation"], "theory": float(r["trained"]["theory"])}
               for r in e["rows"] if not consistent(r)]
        rule = ("at every (g, A) the Wilson 95 % interval of the fraction trained and held "
                "contains the theory's value (1 above A_c, 0 below)")
        c["edge_success"] = _claim(
            "one target: training succeeds (the clamped network settles and the kicked "
            "closed loop holds z = A) if and only if A > A_c(g)",
            rule, {"disagreeing_points": bad, "points": len(e["rows"])}, not bad, e["N"],
            e["realisations"], "edge_success",
            note="a point below A_c where networks train means their clamped run settled "
                 "on a fixed point although the mean field puts it in the chaotic phase "
                 "(bulk radius > 1): at finite N the transition is smeared, most near A_c")
        far = [r for r in e["rows"] if abs(r["A_over_A_c"] - 1) >= 0.3]
        c["edge_success_away_from_edge"] = _claim(
            "one target: training fails well below the edge of chaos and succeeds well "
            "above it",
            rule + ", for the points with |A / A_c - 1| >= 0.3",
            {"points": len(far), "agreeing": sum(consistent(r) for r in far)},
            bool(far) and all(consistent(r) for r in far), e["N"], e["realisations"],
            "edge_success")
    if "finite_size" in out_json:
        fs = out_json["finite_size"]
        sl = fs["loglog_slope"]
        meas = {k: {"slope": v["simulation"], "bootstrap95": v["bootstrap95"]}
                for k, v in sl.items()}
        c["finite_size_convergence"] = _claim(
            "g = 1, {0.5, 1.5}: the errors of H(0) and of the outlier against the mean "
            "field shrink like N^-1/2",
            _SLOPE_RULE, meas, all(_slope_verdict(v["bootstrap95"])[0] for v in sl.values()),
            fs["sizes"], fs["realisations_per_N"], "finite_size",
            undecided=any(_slope_verdict(v["bootstrap95"])[1] for v in sl.values()))
    if "robustness" in out_json:
        rb = out_json["robustness"]
        gu = [abs(np.mean(r["gain_u"]["simulation"]) - r["gain_u"]["theory"])
              for r in rb["rows"]]
        lo, hi = rb["loglog_slope_v"]["bootstrap95"]
        c["robustness_random_inputs"] = _claim(
            "g = 1, A = 1: an input through the feedback vector u acts at O(1) (mean-field "
            f"static gain {rb['rows'][0]['gain_u']['theory']:.3f}), one through random "
            "vectors at O(N^-1/2)",
            "mean gain through u within 0.08 of the mean field at every N, and for the "
            "random vectors' rms gain: " + _SLOPE_RULE,
            {"max_abs_error_gain_u": float(max(gu)),
             "slope_v": rb["loglog_slope_v"]["simulation"], "bootstrap95": [lo, hi]},
            max(gu) < 0.08 and _slope_verdict([lo, hi])[0], [r["N"] for r in rb["rows"]],
            rb["rows"][0]["realisations"], "robustness",
            undecided=_slope_verdict([lo, hi])[1])
    if "feedback_distribution" in out_json:
        nets = out_json["feedback_distribution"]["networks"]
        dev = [abs(t / r["tau_out"]["theory"] - 1) for r in nets
               for t in r["tau_out"]["simulation"]]
        c["feedback_distribution_tau_out"] = _claim(
            "tau_out follows the mean field for normal and uniform feedback vectors (g = 1, "
            "sigma_u A = 0.5, 1, 2)",
            "every network's fitted tau_out within 15 % of the mean field's",
            {"max_relative_deviation": float(max(dev))}, max(dev) < 0.15,
            nets[0]["N"], len(nets[0]["tau_out"]["simulation"]), "feedback_distribution")
    for key, cl in out_json.get("frequency_claims", {}).items():
        if isinstance(cl, dict):
            fc = out_json["frequency_claims"]
            c["frequency_" + key] = {
                "claim": cl["claim"], "rule": cl["claim"], "measured": cl["measured"],
                "agrees": bool(cl["agrees"]), "N": fc["N"],
                "realisations": fc["realisations"], "see": f"frequency_claims.{key}"}
    tc = out_json.get("time_constants", {}).get("claim")
    if tc is not None:
        c["time_constant_finite_at_edge"] = {
            "claim": tc["claim"], "rule": tc.get("criterion", tc.get("note")),
            "measured": tc["measured"], "agrees": bool(tc["agrees"]), "N": tc["N"],
            "realisations": tc["realisations"], "see": "time_constants.claim"}
    if "relu_vs_sigmoid" in out_json:
        rv = out_json["relu_vs_sigmoid"]
        for key, cl in rv["claims"].items():
            c["relu_vs_sigmoid_" + key] = {
                "claim": key.replace("_", " "),
                "rule": "the fraction of networks (or attractors) for which it holds is 1",
                "measured": cl["simulation"], "agrees": bool(cl["agrees"]), "N": rv["N"],
                "realisations": rv["realisations"], "see": f"relu_vs_sigmoid.claims.{key}"}
    for v in c.values():
        v.setdefault("decided", True)
    out_json["claims"] = c
    out_json["claims_summary"] = {
        "claims": len(c), "agreeing": sum(v["agrees"] is True for v in c.values()),
        "not_agreeing": [k for k, v in c.items() if v["agrees"] is False],
        "undecided": [k for k, v in c.items() if v["agrees"] is None]}
    return c


def run(out, quick: bool = False, *, threads: int = 1) -> dict:
    """Reproduce the Rivkind & Barak (2017) figures: PNG + PDF and ``rb2017.json``.

    Writes the eleven ``rb2017_*`` figures (``.png`` and ``.pdf``; see the module docstring)
    and ``rb2017.json`` into ``out``; logs a summary line at level INFO, and shows a
    ``tqdm`` progress bar over the figures on standard error when it is a terminal.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder; created with its parents if missing.
    quick : bool
        The small run (N = 500, 2 realisations, ...; about two minutes on 2 shared
        cores) instead of the full one (N = 2000, 4 realisations, N = 4000 for R6, ...).
    threads : int
        Threads for the Numba kernels and the BLAS during the run (>= 1, capped at
        ``numba.config.NUMBA_NUM_THREADS``; the previous counts are restored afterwards).
        Default 1: on 2 shared cores an earlier, smaller quick run took 33 s
        single-threaded, 139 s with 2 threads.

    Returns
    -------
    dict
        The content written to ``rb2017.json``: every plotted number, each compared
        quantity as a ``{"theory": ..., "simulation": ...}`` pair with N and the number of
        realisations, every claim of the paper in ``claims`` as ``{"claim", "rule",
        "measured", "agrees", "N", "realisations", "see"}`` (:func:`collect_claims`; the
        figures' own claim records stay where they were: ``frequency_claims``,
        ``time_constants["claim"]``, ``relu_vs_sigmoid["claims"]``) with
        ``claims_summary``, the reference tables, and the seconds per figure.

    Raises
    ------
    TypeError, ValueError
        If ``out`` is not a folder path, ``quick`` is not a bool or ``threads`` is not an
        integer >= 1 (before anything is computed or written).
    ImportError
        If matplotlib cannot be imported (before anything is computed).
    """
    return run_checked(_run, out, quick, threads)


def _run(out_dir, quick):
    t0 = time.perf_counter()
    N, N3, n_real = (500, 1000, 2) if quick else (2000, 1000, 4)
    if quick:
        map_N, map_seeds, map_values = 300, range(4), [0.5, 1.0, 2.0, 3.0]
        fs_N, fs_seeds = [200, 400, 800], [range(10), range(10), range(6)]
        rob_N = [250, 500, 1000]
        edge_N, edge_seeds, edge_g = 1000, range(3), [1.5, 2.0]
        rs_N, rs_seeds, rs_values = 200, range(3), [0.5, 1.5, 3.0]
        tc_N, tc_seeds, tc_values = 1000, range(2), [0.6, 0.8, 1.2, 2.0, 3.0]
        fr_omegas = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5]
    else:
        map_N, map_seeds, map_values = 1000, range(20), [0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
        fs_N = [250, 500, 1000, 2000, 4000]
        fs_seeds = [range(16), range(16), range(10), range(8), range(6)]
        rob_N = [250, 500, 1000, 2000]
        edge_N, edge_seeds, edge_g = 1000, range(10), [1.2, 1.5, 2.0, 2.5]
        rs_N, rs_seeds, rs_values = 1000, range(20), [0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
        tc_N, tc_seeds = 2000, range(4)
        tc_values = [0.5, 0.55, 0.6, 0.7, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0]
        fr_omegas = np.round(np.arange(0.0, 2.0001, 0.1), 1).tolist()
    edge_f = [0.5, 0.8, 1.3, 2.0, 3.0]
    out = {"quick": quick}
    timing = {}
    figures = (
            ("rb2017_output_ode", lambda: output_ode(N, n_real, out)),
            ("rb2017_output_ode_three_targets",
             lambda: output_ode_three_targets(N3, n_real, out)),
            ("rb2017_poles", lambda: poles_figure(N, n_real, out)),
            ("rb2017_frequency", lambda: frequency_figure(N3, max(1, n_real - 1), out,
                                                          fr_omegas)),
            ("rb2017_time_constants", lambda: time_constants_figure(out, tc_N, tc_seeds,
                                                                    tc_values)),
            ("rb2017_stability_map", lambda: stability_map_figure(map_N, map_seeds,
                                                                  map_values, out)),
            ("rb2017_edge_success", lambda: edge_success_figure(edge_N, edge_seeds, edge_g,
                                                                edge_f, out)),
            ("rb2017_feedback_distribution",
             lambda: feedback_distribution_figure(N, max(1, n_real - 1), out, quick)),
            ("rb2017_finite_size", lambda: finite_size_figure(fs_N, fs_seeds, out)),
            ("rb2017_robustness", lambda: robustness_figure(rob_N, n_real + 1, 4, out)),
            ("rb2017_relu_vs_sigmoid", lambda: relu_sigmoid_figure(rs_N, rs_seeds,
                                                                   rs_values, out)))
    logger.info("rb2017: %s run, %d figures, N=%d, %d realisations", "quick" if quick
                else "full", len(figures), N, n_real)
    bar = progress_bar(len(figures), "rb2017", unit="figure")    # on a terminal
    for name, make in figures:
        bar.set_postfix_str(name, refresh=False)
        t1 = time.perf_counter()
        fig = make()
        timing[name] = time.perf_counter() - t1
        save_figure(fig, out_dir, name)
        logger.info("rb2017: %s done in %.1f s", name, timing[name])
        bar.update(1)
    bar.close()
    out["seconds_per_figure"] = timing
    checkable(out)
    collect_claims(out)
    out["seconds"] = time.perf_counter() - t0
    write_json(out, out_dir, "rb2017.json")
    pr = out["poles_two_targets"]["rows"]
    err = np.mean([abs(r["leading_pole"]["theory"] - r["leading_pole"]["simulation"])
                   for r in pr])
    fs = out["finite_size"]["loglog_slope"]
    fc = out["frequency_claims"]
    rvs = out["relu_vs_sigmoid"]["claims"]
    logger.info(
        "rb2017: N=%d: output decay rate theory %.3f, networks %s; two-target poles mean "
        "|error| %.3f; stability map agreement %.2f; finite-size slopes %s; random-input "
        "gain slope %.2f; ReLU vs sigmoid claims agreeing %s/%s; frequency-selectivity "
        "claims agreeing %s/3; edge-of-chaos time constants agree: %s; all claims agreeing "
        "%s/%s (not: %s); %.0f s; outputs in %s",
        N, out["decay_rate_t2_6"]["theory"],
        np.round(out["decay_rate_t2_6"]["simulation"], 3).tolist(), err,
        out["stability_map"]["agreement"], [round(v["simulation"], 2) for v in fs.values()],
        out["robustness"]["loglog_slope_v"]["simulation"],
        sum(c["agrees"] for c in rvs.values()), len(rvs),
        sum(c["agrees"] for c in fc.values() if isinstance(c, dict)),
        out["time_constants"]["claim"]["agrees"], out["claims_summary"]["agreeing"],
        out["claims_summary"]["claims"],
        ", ".join(out["claims_summary"]["not_agreeing"]) or "none", out["seconds"], out_dir)
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command line of :func:`main` (``--out``, ``--quick``, ``--threads``).

    Returns
    -------
    argparse.ArgumentParser
        The parser (no argument is checked beyond its type: :func:`main` checks them as
        :func:`run` does).
    """
    return parser_out_quick_threads(__doc__.splitlines()[0], DEFAULT_OUT,
                                    "small sizes, a few minutes on 2 cores",
                                    ("Numba and BLAS threads during the run (default 1: on 2 shared cores "
                         "the quick run took 33 s single-threaded, 139 s with 2 threads)"))


def main(argv=None) -> None:
    """The command line: ``[--out DIR] [--quick] [--threads N]``, then :func:`run`.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``). A bad value exits with the usage and
        status 2, as argparse does.

    Returns
    -------
    None
        Returns nothing, so that a console entry point ``sys.exit(main())`` exits with 0.
    """
    main_out_quick_threads(build_parser, check_out_quick_threads, run, argv)
