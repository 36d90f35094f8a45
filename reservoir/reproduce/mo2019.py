"""Reproduce the stability figures of Mastrogiuseppe & Ostojic (2019), theory beside simulation.

    python scripts/reproduce_mo2019.py [--out DIR] [--quick] [--threads N]
    reservoir.reproduce.mo2019.run(out, quick=False, threads=1)   # from Python: the same

Progress and the summary line go to the module's logger (``logging``, level INFO), never
to stdout; the script shows them on stderr.

Figures (PNG and PDF), reproducing the claims of Mastrogiuseppe & Ostojic 2019:

* ``mo2019_vary_A``: the authors' scripted example (g = 0.3, Sm = 1.2, SI = 0.5, rho = 0.5,
  readout direction (1, 1, 0.3), scale C(A) making A a solution). Left: every mean-field
  fixed point against the target A (stable solid, unstable dashed) with the fixed points of
  finite networks built with exact overlaps (markers). Right: the outlier eigenvalue (drawn
  only where it lies outside the bulk, |outlier| > bulk radius) and the bulk radius of each
  branch, with the measured top eigenvalue at each network fixed point (a separate symbol
  where the theory's outlier is inside the bulk: there it is a bulk eigenvalue).
* ``mo2019_geometry_line``: solution classes along the line of solutions
  (sigma_nI = A / psi_A - A sigma_nm) for A = 0.5, 1, 2, with sigma_s and sigma_c.
* ``mo2019_phase_map``: the mean-field solution classes over the plane of the target A and
  the readout-feedback overlap sigma_nm (the readout on the line of solutions, sigma_nI =
  A / psi_A - A sigma_nm; drawn against A because the lines of different targets cross in
  the (sigma_nm, sigma_nI) plane), with finite networks trained at a few points of the plane
  (exact overlaps, readout completed orthogonally to m and I so that the target is an exact
  fixed point): marker fill = the class measured on the network from its own fixed points
  (``readout_geometry``), edge = the theory's class at that point. The JSON holds each
  network's ``theory`` and ``simulation`` class and the agreement fraction.
* ``mo2019_training_success`` (R5, our reconstruction): networks
  trained by minimum-norm least squares on the open-loop target state; left, the fixed
  points of the exact two-field LS mean field and of the uncorrelated theory (LS direction
  + C) against A, with the readouts where failed network runs ended; right, the fraction of
  closed-loop runs reaching the target from random starts (x0 ~ N(0, s^2), s^2 in
  [0.1, 9]) and structured starts (x0 = z0 m + I), with the theories' predictions (random
  starts begin at z ~ 0, structured at z ~ z0; success iff that lies in the target's basin
  of the 1-D reduction). Open markers: the same networks with the readout trained online
  by RLS (FORCE) instead; the LS theories do not describe them (their readout is not the
  LS one: the JSON records its cosine with the LS readout and its norm ratio). Error bars:
  Wilson 95 % intervals of k successful runs out of n = networks x starts (the runs
  counted as independent trials); the title gives N and the networks per target.
* ``mo2019_bulk_chaos`` (R6): g = 2, Sm = 1, SI = 0.3, rho = 0, feedback clamped at the target
  (input A m + I). Left: bulk radius g sqrt([phi'^2](Delta0)) of the static target versus
  A with the boundary g^2 [phi'^2] = 1 (|A| = 1.243; 0.797 for SI = 1) and the largest
  |eigenvalue| of J D at the networks' final state. Right: the chaotic dynamic mean field
  (Delta0, Delta_inf) where the static state is unstable, with the networks' <x^2> and
  uncentred long-lag autocovariance (lags 20-40 tau).
* ``mo2019_chaotic_training`` (our reconstruction, with the dynamic mean field of chaotic
  states of Mastrogiuseppe & Ostojic 2019; whether the paper trains chaotic bulks could not
  be read): closed loops
  with the g = 2 bulk of R6 (feedback m, input I) whose readout is trained for a constant
  target A on both sides of the boundary |A| = A_c = 1.243 by least squares on the
  teacher-forced (clamped) state and by FORCE/RLS in closed loop, then run from random
  starts. Left: the outcome of each run (settled at the target fixed point, settled
  elsewhere, fluctuating with its time-averaged readout at A, fluctuating elsewhere)
  beside the outcome the DMF's 1-D reduction predicts; middle: the runs' <x^2> and
  long-lag autocovariance against the chaotic DMF (Delta0, Delta_inf) at their
  time-averaged readout; right: the largest Lyapunov exponent of every run of the
  trained loops (mean of 5 consecutive blocks, bar: t_0.975 x its standard error; a run
  is chaotic when the whole interval is above 0) and of the clamped state. Below A_c the
  clamped state is chaotic, so the LS fit is on a fluctuating state. JSON
  ``chaotic_training``: per target theory / simulation pairs (the chaotic fraction of
  the runs with its counts and Wilson 95 % interval) and the claims, each with its
  ``rule``, ``agrees`` (True / False / None), ``decided`` and, if undecided, a ``note``
  ("keeps fluctuating" and "is chaotic" are separate claims; "is chaotic" is false when a
  run is measured regular, true when every run is chaotic, else undecided).
* ``mo2019_spectra`` (R4): eigenvalues of (J + m n^T/N) D at the target for a globally
  stable (A = 1), a bistable (A = -2) and an unstable (A = -0.5) example of the authors'
  sweep, with the predicted bulk circle and outlier and the stability boundary of these
  gain eigenvalues of a flow, Re = 1 (one network per panel; N and seed in the title).
  (At N = 800, seed 0, the bistable example shows a second real eigenvalue at 0.150 just
  outside the complex edge 0.144. It is a bulk eigenvalue, not a missed outlier: over 4
  seeds at N = 400, 800 and 1600 the second-largest real eigenvalue lay inside the complex
  edge in 11 of 12 networks.)

``mo2019.json`` holds every plotted number and our reference numbers; each compared
quantity has a ``theory`` and a ``simulation`` entry (with N and the number of realisations).
Its top-level ``claims`` hold the paper's four claims, each ``{claim, rule, measured,
agrees, decided}`` (:func:`paper_claims`: the mean field against the networks' fixed points,
outliers and bulk radii; the class map; bistable solutions; training success against the
Wilson intervals); the chaotic extension's claims are in ``chaotic_training.claims``.
Figures follow the package's hygiene: legends outside the axes, every symbol in a legend,
the stability boundary named, N and the number of networks in a title.
``--quick``: N = 400, 2 realisations, 4 targets (R5: N = 300, 2 networks x 17 starts at
4 targets; R6: N = 400, 3 targets, 1 realisation; R4: N = 800; phase map: 19 x 33 theory
grid, 12 networks at N = 300; chaotic training: N = 300, 2 networks x 6 starts at 4
targets, LS and FORCE), under 2 minutes on 2 cores; the full run uses N = 2000, 5
realisations and 9 targets (R5: N = 1000, 20 networks x 23 starts at 8 targets; R6:
N = 1500, 9 targets, 3 realisations; R4: N = 2500; phase map: 91 x 161 grid, 30 networks
at N = 800, fixed points certified complete; chaotic training: N = 1000, 5 networks x 12
starts at 9 targets).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import scipy.optimize
import scipy.stats

import reservoir as rs
from reservoir._checks import as_float_array, as_int, as_positive_float, as_real, as_rng
from reservoir._progress import progress_bar
from reservoir.meanfield import (CLASS_NAMES, MeanFieldParams, chaos_threshold,
                                 chaotic_variances, gaussian_average, ls_fixed_points,
                                 mf_fixed_points, phase_diagram,
                                 readout_scale, stationary_variance, uncorrelated_ls_params)
from reservoir.reproduce._figures import (check_out_quick_threads, main_out_quick_threads,
                                          parser_out_quick_threads, run_checked,
                                          save_figure, subplots, write_json)
from reservoir.reproduce._stats import wilson_interval

__all__ = ["run", "main", "build_parser"]

logger = logging.getLogger(__name__)

#: Output folder of the command line when ``--out`` is not given.
DEFAULT_OUT = "out/mo2019"

EXAMPLE = dict(g=0.3, Sm=1.2, SI=0.5, rho=0.5, p=1.0, p_m=1.0, p_I=0.3)
#: The former status strings of the chaotic solver's regimes (kept in the JSON output).
_STATUS = {"chaotic": "converged", "static": "no chaotic solution",
           "undetermined": "not converged"}


def example_params(A, method="accurate"):
    base = MeanFieldParams.from_code_parameters(**EXAMPLE, method=method)
    C, ok = readout_scale(base, A, base.overlap_nm, base.overlap_nI)
    return base.with_readout(float(C) * base.overlap_nm, float(C) * base.overlap_nI), float(C)


def finite_network(N, A, seed):
    _, C = example_params(A)
    return rs.exact_overlap_network(N, **EXAMPLE, readout_scale=C, rng=seed)


def sweep_theory(A_grid):
    rows = []
    for A in A_grid:
        p, C = example_params(A)
        sol = mf_fixed_points(p, n_grid=1201)
        rows.append({"A": float(A), "C": C, "z": sol.z.tolist(),
                     "outlier": sol.outlier.real.tolist(), "bulk": sol.bulk_radius.tolist(),
                     "stable": sol.stable.tolist(), "success": sol.success})
    return rows


def sweep_networks(A_values, N, n_real):
    out = []
    for A in A_values:
        p, _ = example_params(A)
        theory = mf_fixed_points(p)
        for seed in range(n_real):
            net = finite_network(N, A, seed)
            fps = rs.find_fixed_points(net, u=[1.0])
            for k in range(len(fps)):
                spec = rs.spectrum(net, fps.x[k], u=[1.0])
                lam = spec.eigenvalues
                top = lam[np.argmax(np.abs(lam))]
                j = int(np.argmin(np.abs(theory.z - fps.z[k, 0])))
                out.append({"A": float(A), "seed": seed, "N": N,
                            "z": {"theory": float(theory.z[j]),
                                  "simulation": float(fps.z[k, 0])},
                            "outlier": {"theory": float(theory.outlier[j].real),
                                        "simulation": float(top.real)},
                            "bulk_radius": {"theory": float(theory.bulk_radius[j]),
                                            "simulation": float(spec.bulk_radius)},
                            "stable": {"theory": bool(theory.stable[j]),
                                       "simulation": bool(fps.stable_flow[k])}})
    return out


def _legend_below(ax, ncol=1, offset=-0.16, **kw):
    """The axes' legend below it (over no data), one entry per label (figure hygiene)."""
    handles, labels = ax.get_legend_handles_labels()
    keep = {}
    for h, lab in zip(handles, labels):
        keep.setdefault(lab, h)
    return ax.legend(list(keep.values()), list(keep), fontsize=7, ncol=ncol,
                     loc="upper center", bbox_to_anchor=(0.5, offset), **kw)


def figure_vary_A(theory_rows, net_rows, out):
    """Draw ``mo2019_vary_A``: the theory's fixed points, outliers and bulk radii against A
    (one labelled artist per symbol), the networks' fixed points and top eigenvalues, the
    stability boundary Re = 1, N and the networks per target in the title.

    The theory's outlier is drawn only where it lies outside the bulk (``|outlier| > bulk
    radius``); inside, it is no eigenvalue of the network, and the networks' top
    eigenvalue there (a bulk eigenvalue) is drawn with its own symbol."""
    fig, (ax1, ax2) = subplots(1, 2, figsize=(9, 5.0), constrained_layout=True)
    pts = {True: [], False: []}
    for r in theory_rows:
        for z, o, b, st in zip(r["z"], r["outlier"], r["bulk"], r["stable"]):
            pts[bool(st)].append((r["A"], z, o, b))
    for st, color, ocolor, name in ((True, "#21406F", "#006666", "stable"),
                                    (False, "#C44E52", "#C44E52", "unstable")):
        if pts[st]:
            P = np.array(pts[st])
            ax1.scatter(P[:, 0], P[:, 1], color=color, s=4, label=f"theory, {name}")
            outside = np.abs(P[:, 2]) > P[:, 3]
            if outside.any():
                ax2.scatter(P[outside, 0], P[outside, 2], color=ocolor, s=4,
                            label=f"outlier (theory), {name} fixed point")
            ax2.scatter(P[:, 0], P[:, 3], color="0.6", s=2, label="bulk radius (theory)")
    A = np.array([r["A"] for r in theory_rows])
    ax1.plot(A, A, color="#95B3DF", lw=4, alpha=0.6, zorder=0, label="target z = A")
    if net_rows:
        ax1.scatter([r["A"] for r in net_rows], [r["z"]["simulation"] for r in net_rows],
                    marker="x", color="k", s=30, label="finite networks")
        out_rows = [r for r in net_rows if _outlier_outside_bulk(r)]
        in_rows = [r for r in net_rows if not _outlier_outside_bulk(r)]
        if out_rows:
            ax2.scatter([r["A"] for r in out_rows],
                        [r["outlier"]["simulation"] for r in out_rows],
                        marker="x", color="k", s=30, label="outlier (top eigenvalue), networks")
        if in_rows:
            ax2.scatter([r["A"] for r in in_rows],
                        [r["outlier"]["simulation"] for r in in_rows],
                        marker="o", facecolor="none", edgecolor="0.4", s=25,
                        label="top eigenvalue, networks, where the theory's\n"
                              "outlier is inside the bulk (a bulk eigenvalue)")
    ax1.set(xlabel="target A", ylabel="readout z at the fixed points",
            title="Fixed points of the trained network")
    ax2.axhline(1.0, color="k", lw=0.8, ls=":", label="Re = 1 (stability boundary)")
    ax2.set(xlabel="target A", ylabel="eigenvalue of (J + m n^T/N) D", ylim=(-1, 3),
            title="Local stability: outlier vs 1")
    if net_rows:
        n_net = len({(r["A"], r["seed"]) for r in net_rows})
        n_A = len({r["A"] for r in net_rows})
        fig.suptitle(f"Mean field (lines of points) and {n_net} networks with exact overlaps "
                     f"(N = {net_rows[0]['N']}, {n_net // max(n_A, 1)} per target)",
                     fontsize=10)
    _legend_below(ax1, ncol=2)
    _legend_below(ax2, ncol=1)
    save_figure(fig, out, "mo2019_vary_A")


def figure_geometry(targets, out):
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    snm = np.linspace(-1.0, 7.0, 801)
    pd = phase_diagram(base, targets, snm)
    fig, ax = subplots(figsize=(7, 3.2), constrained_layout=True)
    colors = ["#4C72B0", "#55A868", "#DD8452", "#C44E52"]
    boundaries = {}
    for i, A in enumerate(pd.A):
        cls = pd.class_index[i]
        for c in range(4):
            sel = cls == c
            ax.scatter(snm[sel], np.full(sel.sum(), i), color=colors[c], s=8,
                       label=CLASS_NAMES[c])
        s_s = float(snm[np.argmax(cls == 2)]) if np.any(cls == 2) else None
        s_c = float(snm[np.argmax(cls == 3)]) if np.any(cls == 3) else None
        boundaries[str(float(A))] = {"sigma_s": s_s, "sigma_c": s_c}
    ax.set_yticks(range(len(pd.A)), [f"A = {a:g}" for a in pd.A])
    ax.set(xlabel="readout-feedback overlap sigma_nm = n.m/N (sigma_nI set by the target)",
           title="Solution classes along the lines of solutions (mean field)")
    _legend_below(ax, ncol=4, offset=-0.25)
    save_figure(fig, out, "mo2019_geometry_line")
    return boundaries


def _basin_fraction(basin, z0_grid):
    lo, hi = basin
    return float(np.mean((z0_grid > lo) & (z0_grid < hi)))


def _basin_of(z, stable, A, lo, hi):
    """Interval of readouts attracted to the root z = A in the 1-D reduction."""
    t = int(np.argmin(np.abs(z - A)))
    if abs(z[t] - A) > 1e-6 or not stable[t]:
        return (float(A), float(A))
    below = [v for v, s in zip(z[:t], stable[:t]) if not s]
    above = [v for v, s in zip(z[t + 1:], stable[t + 1:]) if not s]
    return (float(below[-1]) if below else lo, float(above[0]) if above else hi)


def _json_interval(iv):
    return [None if not np.isfinite(v) else float(v) for v in iv]


def training_success_theory(A_grid, z0_grid):
    """Exact LS mean field and the uncorrelated theory (LS direction + C) on a grid of
    targets: fixed points, their stability, and the predicted success fractions (random
    starts begin at z ~ 0: success iff 0 lies in the target's basin; structured starts
    x0 = z0 m + I begin at z ~ z0: the fraction of the z0 grid inside the basin).

    Parameters
    ----------
    A_grid : array_like, shape (n_A,)
        Targets (finite, at least one).
    z0_grid : array_like, shape (n_z0,)
        Initial readouts of the structured starts (finite, at least one).

    Returns
    -------
    exact, uncorrelated : list of dict
        One row per target.

    Raises
    ------
    TypeError, ValueError
        Naming ``A_grid`` or ``z0_grid`` if it is not a finite, non-empty 1-D array.
    """
    A_grid = as_float_array(A_grid, "A_grid", 1)
    z0_grid = as_float_array(z0_grid, "z0_grid", 1)
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    exact, unc = [], []
    for A in A_grid:
        s = ls_fixed_points(base, float(A), n_grid=201)
        exact.append({"A": float(A), "z": s.z.tolist(), "stable": s.stable.tolist(),
                      "slope": s.slope.tolist(), "outlier": s.outlier.real.tolist(),
                      "basin": _json_interval(s.basin), "n_stable": int(s.stable.sum()),
                      "spurious_stable": s.spurious_stable.tolist(), "success": s.success,
                      "random": _basin_fraction(s.basin, np.zeros(1)),
                      "structured": _basin_fraction(s.basin, z0_grid)})
        u = mf_fixed_points(uncorrelated_ls_params(base, float(A)), z_range=(-5.0, 5.0),
                            n_grid=801)
        basin = _basin_of(u.z, u.stable, float(A), -np.inf if u.success else -5.0,
                          np.inf if u.success else 5.0)
        spur = [float(z) for z, st in zip(u.z, u.stable) if st and abs(z - A) > 1e-6]
        unc.append({"A": float(A), "z": u.z.tolist(), "stable": u.stable.tolist(),
                    "outlier": u.outlier.real.tolist(), "basin": _json_interval(basin),
                    "n_stable": int(u.stable.sum()), "spurious_stable": spur,
                    "success": u.success, "random": _basin_fraction(basin, np.zeros(1)),
                    "structured": _basin_fraction(basin, z0_grid)})
    return exact, unc


def untrained_example_network(N, seed):
    """The example's bulk, feedback and input with exact overlaps (our reconstruction), readout not
    yet trained (R5 trains it by LS or RLS)."""
    return rs.exact_overlap_network(N, **{k: EXAMPLE[k] for k in ("g", "Sm", "SI", "rho")},
                                       p=0.0, p_m=0.0, p_I=0.0, readout_scale=0.0, dt=0.1, rng=seed)


def ls_trained_network(N, A, seed):
    """Exact-overlap m, I (our reconstruction), open-loop state with the feedback clamped to A,
    minimum-norm LS readout n = N A r / |r|^2 (our choice; the teacher-forced dynamics
    converge to this state for g < 1)."""
    net = untrained_example_network(N, seed)
    J, m, I = net.dense_J(), net.W_fb[:, 0], net.W_in[:, 0]
    x = A * m + I
    for _ in range(500):
        xn = J @ np.tanh(x) + A * m + I
        if np.max(np.abs(xn - x)) < 1e-14:
            break
        x = xn
    r = np.tanh(xn)
    return net.with_readout((A * r / (r @ r))[None, :])


def rls_trained_network(N, A, seed, T_train=100.0, reg=1.0):
    """The same exact-overlap network, readout trained online by RLS (FORCE, an update
    every step, ``P(0) = I / reg``) in closed loop on the constant target A for
    ``T_train`` time units from a random state ``0.5 N(0, 1)``."""
    net = untrained_example_network(N, seed)
    n = int(round(T_train / net.dt))
    return rs.force(net.with_readout(np.zeros((1, N))), np.ones((n, 1)), np.full((n, 1), A),
                    reg=reg, update_every=1, rng=seed).network


def training_success_networks(A_values, N, n_real, n_random, z0_grid, T=150.0, seed0=100,
                              train=ls_trained_network):
    """Closed-loop runs of networks trained by ``train`` (LS by default) from random starts
    x0 ~ N(0, s^2), s^2 uniform in [0.1, 9], and structured starts x0 = z0 m + I (our
    protocol, scaled down). Success: |z(T) - A| < 1e-2 and max|dx/dt| < 1e-6 at T."""
    rows = []
    for A in A_values:
        for k in range(n_real):
            seed = seed0 + k
            net = train(N, float(A), seed)
            rng = np.random.default_rng(seed)
            s2 = rng.uniform(0.1, 9.0, n_random)
            X0 = np.vstack([rng.standard_normal((n_random, N)) * np.sqrt(s2)[:, None],
                            z0_grid[:, None] * net.W_fb[:, 0][None, :] + net.W_in[:, 0]])
            n_steps = int(round(T / net.dt))
            U = np.ones((X0.shape[0], n_steps, 1))
            xT = rs.simulate(net, U, X0, mode="closed", record=()).x_final
            rT = np.tanh(xT)
            zT = rT @ net.W_out[0]
            W = net.dense_J() + net.W_fb @ net.W_out
            speed = np.max(np.abs(-xT + rT @ W.T + net.W_in[:, 0][None, :]), axis=1)
            ok = (np.abs(zT - A) < 1e-2) & (speed < 1e-6)
            fail_z = zT[~ok]
            ls_w = (net.W_out[0] if train is ls_trained_network
                    else ls_trained_network(N, float(A), seed).W_out[0])
            rows.append({"A": float(A), "seed": seed, "N": N,
                         "readout_cosine_to_ls": float(
                             net.W_out[0] @ ls_w / np.linalg.norm(net.W_out[0])
                             / np.linalg.norm(ls_w)),
                         "readout_norm_over_ls": float(np.linalg.norm(net.W_out[0])
                                                       / np.linalg.norm(ls_w)),
                         "random_success": float(np.mean(ok[:n_random])),
                         "structured_success": float(np.mean(ok[n_random:])),
                         "random_ok": ok[:n_random].tolist(),
                         "structured_ok": ok[n_random:].tolist(),
                         "z_final": zT.tolist(), "stationary": bool(np.all(speed < 1e-6)),
                         "failed_z": fail_z.tolist()})
    return rows


def success_counts(rows):
    """Counts of successful runs and their Wilson 95 % intervals, per kind of start.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`training_success_networks` for one target (one per network), each
        with the per-run verdicts ``random_ok`` and ``structured_ok``.

    Returns
    -------
    dict
        ``{"random": {"k", "n", "wilson95"}, "structured": {...}}``: ``k`` successful runs
        out of ``n`` = networks x starts, and :func:`reservoir.reproduce._stats.wilson_interval`
        of ``k / n`` (the runs counted as independent trials).

    Raises
    ------
    ValueError
        If ``rows`` is empty.
    """
    if not rows:
        raise ValueError("rows must hold at least one network")
    out = {}
    for start in ("random", "structured"):
        oks = [bool(v) for r in rows for v in r[f"{start}_ok"]]
        k, n = int(sum(oks)), len(oks)
        out[start] = {"k": k, "n": n, "wilson95": list(wilson_interval(k, n))}
    return out


def fig_training_success(A_grid, z0_grid, A_net, N, n_real, n_random, out):
    """R5 (our reconstruction): success of LS-trained networks versus the target, theory beside
    simulation, with Wilson 95 % intervals.

    Our reconstruction of the training-performance claim of Mastrogiuseppe & Ostojic 2019
    (the paper's protocol could not be read): networks trained by minimum-norm least
    squares (and the same networks trained by RLS/FORCE) run in closed loop from
    ``n_random`` random starts
    and the structured starts ``z0 m + I`` (``z0`` in ``z0_grid``); per target and kind of
    start the figure shows the fraction of successful runs with its Wilson 95 % interval
    (:func:`success_counts`: ``k`` successes out of ``n`` = networks x starts, the runs
    counted as independent trials) beside the exact LS mean field and the uncorrelated
    theory; the number of networks per target is in the title.

    Parameters
    ----------
    A_grid : array_like, shape (nA,)
        Targets of the theory curves.
    z0_grid : ndarray, shape (n0,)
        Readouts of the structured starts.
    A_net : sequence of float
        Targets of the networks.
    N, n_real, n_random : int
        Units, networks per target, random starts per network.
    out : str
        Output folder.

    Returns
    -------
    dict
        The ``training_success`` JSON block; ``per_target`` (and ``rls.per_target``) rows
        carry ``counts`` (``[k, n]`` per kind of start) and ``wilson95`` (``[lo, hi]``).
    """
    exact, unc = training_success_theory(A_grid, z0_grid)
    rows = training_success_networks(A_net, N, n_real, n_random, z0_grid)
    rls_rows = training_success_networks(A_net, N, n_real, n_random, z0_grid,
                                         train=rls_trained_network)
    th_at = {float(A): training_success_theory([A], z0_grid) for A in A_net}
    fig, (ax1, ax2) = subplots(1, 2, figsize=(11, 5.6), constrained_layout=True)
    for rows_th, name, marker, size, colors in (
            (exact, "exact LS theory", "o", 5, ("#21406F", "#C44E52")),
            (unc, "uncorrelated theory", "_", 20, ("0.55", "#E6A0A2"))):
        for st, color, what in ((True, colors[0], "stable"), (False, colors[1], "unstable")):
            P = [(e["A"], z) for e in rows_th for z, s in zip(e["z"], e["stable"])
                 if bool(s) == st]
            if P:
                ax1.scatter(*np.array(P).T, s=size, marker=marker, color=color,
                            zorder=3 if marker == "o" else 2, label=f"{name}, {what}")
    A_arr = np.array([e["A"] for e in exact])
    ax1.plot(A_arr, A_arr, color="#95B3DF", lw=4, alpha=0.6, zorder=0, label="target z = A")
    failed = [(r["A"], z) for r in rows for z in r["failed_z"]]
    if failed:
        ax1.scatter(*np.array(failed).T, marker="x", s=30, color="k", zorder=4,
                    label="networks: failed runs, z(T)")
    ax1.set(xlabel="target A", ylabel="readout z at the fixed points",
            title=f"LS-trained networks: fixed points (N = {N})")
    _legend_below(ax1, ncol=2, offset=-0.14)
    spur = np.array([len(e["spurious_stable"]) > 0 for e in exact])
    for i in range(A_arr.size):
        if spur[i]:
            w = 0.5 * (A_arr[1] - A_arr[0]) if A_arr.size > 1 else 0.1
            ax2.axvspan(A_arr[i] - w, A_arr[i] + w, color="#F3D9C8", lw=0, zorder=0,
                        label="spurious attractor (exact LS theory)")
    ax2.plot(A_arr, [e["random"] for e in exact], color="#4C72B0", lw=1.5,
             label="exact LS theory, random starts", drawstyle="steps-mid")
    ax2.plot(A_arr, [e["structured"] for e in exact], color="#DD8452", lw=1.5,
             label="exact LS theory, structured starts", drawstyle="steps-mid")
    ax2.plot(A_arr, [u["random"] for u in unc], color="#4C72B0", lw=1, ls=":",
             label="uncorrelated theory, random", drawstyle="steps-mid")
    ax2.plot(A_arr, [u["structured"] for u in unc], color="#DD8452", lw=1, ls=":",
             label="uncorrelated theory, structured", drawstyle="steps-mid")
    sims = {}
    for r in rows:
        sims.setdefault(r["A"], []).append(r)
    As = sorted(sims)
    rls = {}
    for r in rls_rows:
        rls.setdefault(r["A"], []).append(r)
    counts = {key: {a: success_counts(group[a]) for a in As}
              for key, group in (("LS", sims), ("RLS", rls))}
    dx = 0.02 * (A_arr[-1] - A_arr[0])
    for key, shift, fill, size in (("LS", -dx, True, 40), ("RLS", dx, False, 90)):
        for start, color, marker, label in (
                ("random", "#4C72B0", "o", "random starts"),
                ("structured", "#DD8452", "s", "structured x0 = z0 m + I")):
            c = [counts[key][a][start] for a in As]
            frac = np.array([v["k"] / v["n"] for v in c])
            lo = np.array([v["wilson95"][0] for v in c])
            hi = np.array([v["wilson95"][1] for v in c])
            ax2.errorbar(np.array(As) + shift, frac, yerr=[frac - lo, hi - frac], fmt="none",
                         ecolor=color, elinewidth=1, capsize=2, zorder=4,
                         label="Wilson 95 % interval (runs = networks x starts)")
            name = "LS networks" if key == "LS" else "RLS (FORCE) networks"
            ax2.scatter(np.array(As) + shift, frac, marker=marker, s=size, zorder=5,
                        facecolors=color if fill else "none", edgecolors=color,
                        label=f"{name}, {label}")
    ax2.set(xlabel="target A", ylabel="fraction of runs reaching the target",
            ylim=(-0.05, 1.05),
            title="Success vs target (shaded: spurious attractor)")
    fig.suptitle(f"N = {N}, {n_real} networks per A, each from {n_random} random and "
                 f"{len(z0_grid)} structured starts", fontsize=10)
    _legend_below(ax2, ncol=2, offset=-0.14)
    save_figure(fig, out, "mo2019_training_success")
    per_A = []
    for a in As:
        e, u = th_at[a][0][0], th_at[a][1][0]
        sim = sims[a]
        failed = [z for r in sim for z in r["failed_z"]]
        per_A.append({
            "A": a, "N": N, "realisations": len(sim),
            "counts": {k: [v["k"], v["n"]] for k, v in counts["LS"][a].items()},
            "wilson95": {k: v["wilson95"] for k, v in counts["LS"][a].items()},
            "random_success": {"theory": e["random"], "uncorrelated": u["random"],
                               "simulation": float(np.mean([r["random_success"]
                                                            for r in sim]))},
            "structured_success": {"theory": e["structured"], "uncorrelated": u["structured"],
                                   "simulation": float(np.mean([r["structured_success"]
                                                                for r in sim]))},
            "spurious_stable_z": {"theory": e["spurious_stable"],
                                  "uncorrelated": u["spurious_stable"],
                                  "simulation": sorted(set(np.round(failed, 3).tolist()))},
            "target_outlier": {"theory": e["outlier"][int(np.argmin(np.abs(
                np.array(e["z"]) - a)))], "uncorrelated": u["outlier"][int(np.argmin(
                    np.abs(np.array(u["z"]) - a)))]}})
    rls_per_A = [{
        "A": a, "N": N, "realisations": len(rls[a]),
        "random_success": float(np.mean([r["random_success"] for r in rls[a]])),
        "structured_success": float(np.mean([r["structured_success"] for r in rls[a]])),
        "counts": {k: [v["k"], v["n"]] for k, v in counts["RLS"][a].items()},
        "wilson95": {k: v["wilson95"] for k, v in counts["RLS"][a].items()},
        "readout_cosine_to_ls": [r["readout_cosine_to_ls"] for r in rls[a]],
        "readout_norm_over_ls": [r["readout_norm_over_ls"] for r in rls[a]]} for a in As]
    return {"parameters": {**EXAMPLE, "N": N, "realisations": n_real,
                           "random_starts": n_random, "z0_grid": z0_grid.tolist(),
                           "T": 150.0, "dt": 0.1, "success": "|z(T) - A| < 1e-2 and "
                           "max|dx/dt| < 1e-6", "random_start_variance": [0.1, 9.0],
                           "counted": "runs: k successful runs out of n = networks x "
                           "starts per A and kind of start; the Wilson 95 % interval "
                           "treats the runs as independent trials (starts of one network "
                           "share its attractors, so it understates the spread between "
                           "networks)"},
            "theory": {"exact_ls": exact, "uncorrelated_ls": unc},
            "per_target": per_A, "networks": rows,
            "rls": {"training": "FORCE, update every step, alpha = 1, 100 tau from "
                                "0.5 N(0, 1), closed loop on the constant target",
                    "per_target": rls_per_A, "networks": rls_rows}}


# ---------------------------------------------------------------- R6: bulk instability, chaos
CHAOS = dict(g=2.0, Sm=1.0, SI=0.3, rho=0.0)  # chaotic for |A| < 1.243 (Delta_in < 1.636)


def chaos_network(N, A, seed, dt=0.1):
    """Random bulk (g = 2) driven in open loop by the clamped feedback A m + I with
    m, I orthonormalised (empirical variances exactly Sm^2, SI^2, covariance 0)."""
    gen = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(gen.standard_normal((N, 2)))
    m, I = (Q * np.sqrt(N)).T
    m, I = CHAOS["Sm"] * m, CHAOS["SI"] * I
    J = gen.standard_normal((N, N)) * CHAOS["g"] / np.sqrt(N)
    return rs.Network(J=J, W_in=np.zeros((N, 0)), W_fb=m[:, None], W_out=np.zeros((1, N)),
                      b=A * m + I, dt=dt), gen


#: Longest lag (in tau) of the long-lag autocovariance of :func:`measure_chaos`.
CHAOS_MAX_LAG = 40.0


def measure_chaos(N, A, seed, t_transient=50.0, t_record=200.0):
    """Open-loop run: <x^2>, the uncentred long-lag autocovariance (lags 20-40 tau), and
    the bulk edge (largest |eigenvalue| of J D) at the final state.

    Parameters
    ----------
    N : int
        Network size (>= 2).
    A : float
        The clamped feedback's target (finite).
    seed : int
        Seed of the network and the initial state.
    t_transient : float
        Discarded time in units of tau (>= 0).
    t_record : float
        Recorded time in units of tau; must exceed the longest lag (40 tau) by at least
        one step.

    Returns
    -------
    delta0, delta_inf, bulk_edge, final_speed : float

    Raises
    ------
    TypeError, ValueError
        Naming the argument if it is of the wrong type or out of range.
    """
    N = as_int(N, "N", minimum=2)
    A = as_real(A, "A")
    t_transient = as_positive_float(t_transient, "t_transient", allow_zero=True)
    t_record = as_positive_float(t_record, "t_record")
    net, gen = chaos_network(N, A, seed)
    dt = net.dt
    n0, n = int(round(t_transient / dt)), int(round(t_record / dt))
    if n <= int(round(CHAOS_MAX_LAG / dt)) + 1:
        raise ValueError(f"t_record must exceed the longest lag {CHAOS_MAX_LAG:g} tau by "
                         f"more than one step of dt = {dt:g}, got {t_record:g}")
    tr = rs.simulate(net, None, gen.standard_normal(N), mode="open", n_steps=n0 + n,
                     record=("x",))
    X = tr.x[n0:]
    lags = np.arange(int(round(20 / dt)), int(round(CHAOS_MAX_LAG / dt)) + 1,
                     int(round(4 / dt)))
    d0 = float(np.mean(X**2))
    dinf = float(np.mean([np.mean(X[:-k] * X[k:]) for k in lags]))
    D = 1 - np.tanh(tr.x_final) ** 2
    edge = float(np.max(np.abs(np.linalg.eigvals(net.J * D[None, :]))))
    speed = float(np.max(np.abs(X[-1] - X[-2])) / dt)
    return d0, dinf, edge, speed


def bulk_chaos_data(A_theory, A_net, N, n_real):
    base = MeanFieldParams(g=CHAOS["g"], var_m=CHAOS["Sm"] ** 2, var_I=CHAOS["SI"] ** 2)
    edge, din_c = chaos_threshold(CHAOS["g"])
    A_c = float(np.sqrt((din_c - CHAOS["SI"] ** 2) / CHAOS["Sm"] ** 2))
    rows = []
    for A in A_theory:
        sol = chaotic_variances(base, float(A))
        rows.append({"A": float(A), "static_delta0": sol.static_delta0,
                     "bulk_radius": sol.static_bulk_radius, "delta0": sol.delta0,
                     "delta_inf": sol.delta_inf, "regime": sol.regime,
                     "status": _STATUS[sol.regime]})
    nets = []
    for A in A_net:
        sol = chaotic_variances(base, float(A))
        for seed in range(n_real):
            d0, dinf, e, speed = measure_chaos(N, float(A), seed)
            row = {"A": float(A), "seed": seed, "N": N, "chaotic_theory": sol.chaotic,
                   "final_speed": speed,
                   "delta0": {"theory": sol.delta0, "simulation": d0},
                   "delta_inf": {"theory": sol.delta_inf, "simulation": dinf}}
            if not sol.chaotic and speed < 1e-6:
                # a static target and a network at rest: compare the bulk edge
                row["bulk_radius"] = {"theory": sol.static_bulk_radius, "simulation": e}
            nets.append(row)
    return {"parameters": {**CHAOS, "N": N, "realisations": n_real},
            "threshold": {"A_c": A_c, "delta0_at_edge": edge, "input_variance": din_c,
                          "spec_input_variance": 1.6359, "spec_delta0_at_edge": 4.2079,
                          "A_c_for_SI_1": float(np.sqrt(max(din_c - 1.0, 0.0))),
                          "spec_A_c_for_SI_1": 0.797},
            "theory": rows, "networks": nets}


def figure_bulk_chaos(data, out):
    rows, nets = data["theory"], data["networks"]
    A = np.array([r["A"] for r in rows])
    fig, (ax1, ax2) = subplots(1, 2, figsize=(9, 5.0), constrained_layout=True)
    ax1.plot(A, [r["bulk_radius"] for r in rows], color="0.3",
             label="g sqrt([phi'^2](Delta0)) at the static target")
    ax1.axhline(1.0, color="#C44E52", ls=":", label="g^2 [phi'^2] = 1")
    A_c = data["threshold"]["A_c"]
    for a in (-A_c, A_c):
        ax1.axvline(a, color="#C44E52", lw=0.8, ls="--", label="|A| = A_c")
    fixed = [r for r in nets if "bulk_radius" in r]
    if fixed:
        ax1.scatter([r["A"] for r in fixed], [r["bulk_radius"]["simulation"] for r in fixed],
                    marker="x", color="k", s=25, label="max |eig(J D)|, network at rest")
    ax1.set(xlabel="target A (feedback clamped, input A m + I)", ylabel="bulk radius",
            title=f"g = {CHAOS['g']}: bulk instability for |A| < {A_c:.3f}")
    _legend_below(ax1)
    ax2.plot(A, [r["static_delta0"] for r in rows], color="0.6", ls="--",
             label="static Delta0 (unstable where |A| < A_c)")
    ch = np.array([r["status"] == "converged" for r in rows])
    ax2.plot(A[ch], np.array([r["delta0"] for r in rows])[ch], color="#21406F",
             label="chaotic DMF Delta0")
    ax2.plot(A[ch], np.array([r["delta_inf"] for r in rows])[ch], color="#DD8452",
             label="chaotic DMF Delta_inf")
    if nets:
        ax2.scatter([r["A"] for r in nets], [r["delta0"]["simulation"] for r in nets],
                    marker="o", facecolor="none", edgecolor="#21406F", s=25,
                    label="<x^2>, network")
        ax2.scatter([r["A"] for r in nets], [r["delta_inf"]["simulation"] for r in nets],
                    marker="s", facecolor="none", edgecolor="#DD8452", s=25,
                    label="<x(t) x(t+s)>, s = 20-40, network")
    ax2.set(xlabel="target A", ylabel="variance", title="Chaotic dynamic mean field")
    _legend_below(ax2)
    prm = data["parameters"]
    fig.suptitle(f"Feedback clamped at A: N = {prm['N']}, {prm['realisations']} network(s) "
                 f"per target", fontsize=10)
    save_figure(fig, out, "mo2019_bulk_chaos")


# ---------------------------------------------------------------- R4: spectra at the target
SPECTRA_EXAMPLES = (("globally stable", 1.0), ("bistable", -2.0), ("unstable target", -0.5))


def target_fixed_point(net, A, tol=1e-11, max_iter=30):
    """The closed-loop fixed point next to the target: the open-loop state with the feedback
    clamped at A (plain iteration, a contraction for g < 1), refined by Newton on the closed
    loop (which converges to unstable fixed points too).

    Parameters
    ----------
    net : reservoir.Network
        A closed-loop network with one feedback column, one input column and one readout.
    A : float
        The target (finite).
    tol : float
        Newton's tolerance on max |dx/dt| (> 0).
    max_iter : int
        Most Newton steps (>= 1).

    Returns
    -------
    x : ndarray, shape (N,)
        The state reached.
    converged : bool
        Whether max |dx/dt| < ``tol`` there.

    Raises
    ------
    TypeError, ValueError
        Naming the argument if it is of the wrong type or out of range.
    """
    if not isinstance(net, rs.Network):
        raise TypeError(f"net must be a reservoir.Network, got {type(net).__name__}")
    if net.W_fb.shape[1] != 1 or net.W_in.shape[1] != 1 or net.W_out.shape[0] != 1:
        raise ValueError("net must have one feedback column, one input column and one "
                         f"readout, got W_fb {net.W_fb.shape}, W_in {net.W_in.shape}, "
                         f"W_out {net.W_out.shape}")
    A = as_real(A, "A")
    tol = as_positive_float(tol, "tol")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    J, m, I, w = net.dense_J(), net.W_fb[:, 0], net.W_in[:, 0], net.W_out[0]
    x = A * m + I
    for _ in range(500):
        x_new = J @ np.tanh(x) + A * m + I
        if np.max(np.abs(x_new - x)) < 1e-10:
            x = x_new
            break
        x = x_new
    W = J + np.outer(m, w)
    for _ in range(max_iter):
        r = np.tanh(x)
        F = -x + W @ r + I
        if np.max(np.abs(F)) < tol:
            return x, True
        x = x - np.linalg.solve(-np.eye(net.N) + W * (1 - r**2)[None, :], F)
    return x, bool(np.max(np.abs(-x + W @ np.tanh(x) + I)) < tol)


def spectra_data(N, seed=0):
    rows = []
    for name, A in SPECTRA_EXAMPLES:
        p, C = example_params(A)
        theory = mf_fixed_points(p)
        j = int(np.argmin(np.abs(theory.z - A)))
        net = finite_network(N, A, seed)
        x, ok = target_fixed_point(net, A)
        z_net = float(net.W_out[0] @ np.tanh(x))
        lam = rs.spectrum(net, x, u=[1.0]).eigenvalues
        # bulk edge: the largest modulus among the complex eigenvalues (the rank-one
        # structure adds isolated *real* outliers, up to two, which must not count)
        cplx = lam[np.abs(lam.imag) > 1e-9]
        edge = float(np.max(np.abs(cplx)))
        real_out = sorted(float(v) for v in lam.real[(np.abs(lam.imag) <= 1e-9)
                                                    & (np.abs(lam) > 1.02 * edge)])
        out_th = float(theory.outlier[j].real)
        bulk_th = float(theory.bulk_radius[j])
        # theory evaluated at the network's own readout (its O(N^-1/2) offset from A,
        # amplified by the loop, moves Delta0)
        d_net, _ = stationary_variance(p, z_net)
        bulk_at_z = float(p.g * np.sqrt(gaussian_average(
            "tanh", "dphi2", 0.0, float(d_net))))
        # the outlier is visible when it lies outside the bulk
        visible = abs(out_th) > 1.05 * bulk_th
        top = lam[np.argmax(np.abs(lam))]
        rows.append({"name": name, "A": A, "C": C, "N": N, "seed": seed, "newton_converged": ok,
                     "n_fixed_points_theory": int(len(theory)),
                     "z": {"theory": float(theory.z[j]), "simulation": z_net},
                     "outlier": {"theory": out_th,
                                 "simulation": float(top.real) if visible else None},
                     "bulk_radius": {"theory": bulk_th, "simulation": edge},
                     "bulk_radius_at_network_z": {"theory": bulk_at_z, "simulation": edge},
                     "real_outliers_outside_bulk": real_out,
                     "stable": {"theory": bool(theory.stable[j]),
                                "simulation": bool(np.all(lam.real < 1))},
                     "eigenvalues_real": lam.real.tolist(), "eigenvalues_imag": lam.imag.tolist()})
    return rows


def figure_spectra(rows, out):
    """Draw ``mo2019_spectra``: the eigenvalues of (J + m n^T/N) D of one network per example
    at its target fixed point, the predicted bulk circle and outlier, and the stability
    boundary of these gain eigenvalues of a flow, Re = 1; N and the seed in the title."""
    fig, axes = subplots(1, len(rows), figsize=(3.3 * len(rows), 4.4), constrained_layout=True)
    axes = np.atleast_1d(axes)
    t = np.linspace(0, 2 * np.pi, 300)
    for ax, r in zip(axes, rows):
        ax.scatter(r["eigenvalues_real"], r["eigenvalues_imag"], s=3, color="0.3",
                   label="eigenvalues, network")
        R = r["bulk_radius"]["theory"]
        ax.plot(R * np.cos(t), R * np.sin(t), color="#006666", lw=1,
                label="bulk edge g sqrt(<phi'^2>) (theory)")
        ax.scatter([r["outlier"]["theory"]], [0], marker="x", color="#C44E52", s=60, zorder=5,
                   label="predicted outlier")
        ax.axvline(1.0, color="k", lw=0.7, ls=":", label="Re = 1 (stability boundary)")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set(title=f"{r['name']} (A = {r['A']:g})", xlabel="Re", ylabel="Im")
        _legend_below(ax, offset=-0.2)
    if rows:
        fig.suptitle(f"Eigenvalues of (J + m n^T/N) D at the target: one network per panel, "
                     f"N = {rows[0]['N']}, seed {rows[0]['seed']}", fontsize=10)
    save_figure(fig, out, "mo2019_spectra")


# ------------------------------------------------- R3b: 2-D map of the solution classes
#: Bulk, feedback and input of the phase map: the example's (readout direction free).
PHASE_MAP = {k: EXAMPLE[k] for k in ("g", "Sm", "SI", "rho")}
#: Colours of the classes of :data:`CLASS_NAMES`, in that order.
CLASS_COLORS = ("#4C72B0", "#55A868", "#DD8452", "#C44E52")
#: ``(A, sigma_nm)`` of the quick run's networks: one inside each class, two more bistable
#: and unstable ones at other targets, then six within 0.1-0.15 of the boundaries sigma_s
#: and sigma_c of A = 1 (1.8517, 3.3192) and A = -1 (1.7368, 2.9894).
PHASE_MAP_POINTS_QUICK = ((1.0, -0.5), (1.0, 1.0), (-1.0, 2.3), (1.0, 4.5), (2.0, 3.5),
                          (-1.5, 5.0), (1.0, 1.75), (1.0, 1.95), (1.0, 3.2), (1.0, 3.45),
                          (-1.0, 1.65), (-1.0, 3.1))


def overlap_network(N, A, overlap_nm, seed):
    """A finite network trained to hold ``A`` with its readout at a point of the class map.

    The bulk, ``m`` and ``I`` are those of :data:`PHASE_MAP` with exact overlaps
    (:func:`reservoir.exact_overlap_network`); the readout ``n`` starts with exactly
    ``sigma_nm = overlap_nm`` and ``sigma_nI = A / psi_A - A sigma_nm`` (the mean-field line of
    solutions) and is then trained (our construction): the open-loop state ``x*`` with the
    feedback clamped at ``A`` is found by plain iteration (a contraction for g < 1), and the
    minimum-norm change of ``n`` orthogonal to ``m`` and ``I`` that makes ``n . phi(x*) / N
    = A`` is added, so that ``x*`` is an exact closed-loop fixed point at the target while
    both overlaps stay exactly where the theory puts them (the change is O(N^-1/2)).

    Parameters
    ----------
    N : int
        Number of units (>= 3).
    A : float
        Target (readout units).
    overlap_nm : float
        Readout-feedback overlap ``sigma_nm`` (state units).
    seed : int
        Seed of the network.

    Returns
    -------
    net : Network
        The trained network (drive it with ``u = [1]``).
    info : dict
        ``overlap_nI`` (the line's value), ``x_target`` (the fixed point, shape (N,)),
        ``correction`` (``|delta n| / |n|`` of the training step).

    Raises
    ------
    FloatingPointError
        If the open-loop iteration does not converge.
    """
    base = MeanFieldParams.from_code_parameters(**PHASE_MAP, p=1.0, p_m=1.0, p_I=0.3)
    snI = float(phase_diagram(base, [A], [overlap_nm]).overlap_nI[0, 0])
    s = np.sqrt(1.0 - PHASE_MAP["rho"] ** 2)
    net = rs.exact_overlap_network(N, **PHASE_MAP, p=0.0,
                                   p_m=overlap_nm / (PHASE_MAP["Sm"] * s),
                                   p_I=snI / (PHASE_MAP["SI"] * s), readout_scale=1.0, rng=seed)
    J, m, I = net.dense_J(), net.W_fb[:, 0], net.W_in[:, 0]
    n = N * net.W_out[0]
    x = A * m + I
    for _ in range(2000):
        x_new = J @ np.tanh(x) + A * m + I
        done = np.max(np.abs(x_new - x)) < 1e-13
        x = x_new
        if done:
            break
    else:
        raise FloatingPointError(f"the open-loop state at A = {A} did not converge")
    r = np.tanh(x)
    Q, _ = np.linalg.qr(np.column_stack([m, I]))
    r_perp = r - Q @ (Q.T @ r)
    c = (N * A - n @ r) / (r_perp @ r)
    n_new = n + c * r_perp
    return net.with_readout((n_new / N)[None, :]), {
        "overlap_nI": snI, "x_target": x,
        "correction": float(abs(c) * np.linalg.norm(r_perp) / np.linalg.norm(n))}


def phase_map(A_grid, overlap_nm_grid, points, N, *, n_grid=1501, certify=False, seed0=0):
    """Mean-field classes on the (sigma_nm, A) plane and finite networks placed on it.

    The theory: :func:`reservoir.meanfield.phase_diagram` of the example's statistics
    (:data:`PHASE_MAP`) on the grid ``A_grid x overlap_nm_grid``; every cell's readout lies on
    the line of solutions, ``sigma_nI = A / psi_A - A sigma_nm`` (the map is drawn against
    the target ``A`` rather than ``sigma_nI``: lines of different targets cross in the
    ``(sigma_nm, sigma_nI)`` plane, where one readout solves several targets). The networks:
    one :func:`overlap_network` per point ``(A, sigma_nm)``, classified by
    :func:`reservoir.readout_geometry` at the target from its own fixed points
    (:func:`reservoir.find_fixed_points`) and compared with the theory's class at the same
    point (computed there, not read off the grid).

    Parameters
    ----------
    A_grid : array_like, shape (nA,)
        Targets of the theory grid (readout units).
    overlap_nm_grid : array_like, shape (nm,)
        Readout-feedback overlaps of the theory grid (state units).
    points : array_like, shape (P, 2)
        ``(A, sigma_nm)`` of each network.
    N : int
        Number of units of the networks (>= 3).
    n_grid : int
        Grid points in ``z`` of the theory's root count.
    certify : bool or None
        Passed to :func:`reservoir.find_fixed_points` (``None``: its default, a proof of
        completeness; slower).
    seed0 : int
        Network ``p`` has seed ``seed0 + p``.

    Returns
    -------
    dict
        ``theory`` (the grid, ``class_index`` (nA, nm), ``class_names``, ``success``),
        ``networks`` (per network: ``A``, ``overlap_nm``, ``overlap_nI`` as theory /
        simulation, ``theory`` and ``simulation`` classes, ``agree``, the fixed points'
        readouts and stability, the training correction), ``agreement`` (fraction of
        networks whose class equals the theory's), ``N`` and ``n_networks``.

    Raises
    ------
    TypeError, ValueError
        If a grid is not a finite 1-D array, ``points`` has not shape (P, 2) or ``N`` is not
        an integer >= 3.
    """
    A_grid = as_float_array(A_grid, "A_grid", 1)
    snm_grid = as_float_array(overlap_nm_grid, "overlap_nm_grid", 1)
    points = as_float_array(points, "points", 2)
    if points.shape[1] != 2:
        raise ValueError(f"points must have shape (P, 2) of (A, overlap_nm), got "
                         f"{points.shape}")
    N = as_int(N, "N", minimum=3)
    seed0 = as_int(seed0, "seed0", minimum=0)
    base = MeanFieldParams.from_code_parameters(**PHASE_MAP, p=1.0, p_m=1.0, p_I=0.3)
    pd = phase_diagram(base, A_grid, snm_grid, n_grid=n_grid)
    nets = []
    for k, (A, snm) in enumerate(points):
        A, snm = float(A), float(snm)
        th = phase_diagram(base, [A], [snm], n_grid=n_grid)
        net, info = overlap_network(N, A, snm, seed0 + k)
        fps = rs.find_fixed_points(net, [1.0], certify=certify, rng=seed0 + k)
        rep = rs.stability_report(net, [1.0], A, n_init=1, lyapunov=False, fixed_points=fps,
                                  rng=seed0 + k)
        geo = rs.readout_geometry(net, [1.0], report=rep)
        theory_cls = CLASS_NAMES[int(th.class_index[0, 0])]
        nets.append({"A": A,
                     "overlap_nm": {"theory": snm, "simulation": float(geo.overlap_nm[0])},
                     "overlap_nI": {"theory": info["overlap_nI"],
                                    "simulation": float(geo.overlap_nI[0])},
                     "N": N, "seed": seed0 + k, "theory": theory_cls,
                     "simulation": geo.solution_class,
                     "agree": theory_cls == geo.solution_class,
                     "n_fixed_points": {"theory": int(th.n_fixed_points[0, 0]),
                                        "simulation": int(len(fps))},
                     "n_stable_fixed_points": {"theory": int(th.n_stable_fixed_points[0, 0]),
                                               "simulation": int(np.sum(fps.stable))},
                     "fixed_points_z": fps.z[:, 0].tolist(), "stable": fps.stable.tolist(),
                     "target_slope_theory": float(th.target_slope[0, 0]),
                     "readout_correction": info["correction"],
                     "messages": list(rep.messages)})
    agreement = float(np.mean([r["agree"] for r in nets])) if nets else None
    return {"theory": {"A": A_grid.tolist(), "overlap_nm": snm_grid.tolist(),
                       "overlap_nI": pd.overlap_nI.tolist(),
                       "class_index": pd.class_index.tolist(), "class_names": list(CLASS_NAMES),
                       "success": bool(pd.success), "messages": list(pd.messages)},
            "parameters": {**PHASE_MAP, "N": N}, "networks": nets, "agreement": agreement,
            "N": N, "n_networks": len(nets)}


def figure_phase_map(data, out):
    """Draw ``mo2019_phase_map``: the theory's classes as regions, the networks as markers
    (fill: the class measured on the network; edge: the theory's class at that point)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    th = data["theory"]
    fig, ax = subplots(figsize=(7, 5), constrained_layout=True)
    ax.pcolormesh(th["overlap_nm"], th["A"], np.array(th["class_index"]), shading="nearest",
                  cmap=ListedColormap(CLASS_COLORS), vmin=-0.5, vmax=3.5, alpha=0.35)
    for r in data["networks"]:
        ax.scatter([r["overlap_nm"]["simulation"]], [r["A"]], s=90, marker="o", zorder=5,
                   facecolor=CLASS_COLORS[CLASS_NAMES.index(r["simulation"])],
                   edgecolor=CLASS_COLORS[CLASS_NAMES.index(r["theory"])], linewidth=2.5,
                   label="network: fill = measured class, edge = theory's class")
    handles = [Patch(facecolor=c, alpha=0.35, label=f"{name} (theory)")
               for c, name in zip(CLASS_COLORS, CLASS_NAMES)]
    handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="0.6",
                          markeredgecolor="k", markeredgewidth=2, markersize=9,
                          label="network: fill = measured class, edge = theory's class"))
    ax.legend(handles=handles, fontsize=7, ncol=2, loc="upper center",
              bbox_to_anchor=(0.5, -0.13))
    agree = data["agreement"]
    ax.set(xlabel="readout-feedback overlap sigma_nm (sigma_nI = A / psi_A - A sigma_nm)",
           ylabel="target A",
           title=f"Solution classes (mean field) and {data['n_networks']} networks, "
                 f"N = {data['N']}" + (f": {100 * agree:.0f}% agree" if agree is not None
                                      else ""))
    save_figure(fig, out, "mo2019_phase_map")


# ------------------------------------ trained closed loops with a chaotic bulk (g > 1)
#: Ridge penalty of the least-squares readout on the teacher-forced states (units of
#: ``sum_t r r^T``; small against it, so the fit is the least-squares one).
CHAOTIC_LS_REG = 1e-4
#: A run has settled when ``max |dx/dt| < CHAOTIC_REST_SPEED`` at its end (state units per
#: ``tau``; chaotic runs here have 0.2-1.5, runs creeping onto a fixed point whose bulk edge
#: is near 1 have 1e-6 to 1e-3); above it, it fluctuates.
CHAOTIC_REST_SPEED = 1e-3
#: A clamped (teacher-forced) state fluctuates when the temporal variance of ``x_i`` over the
#: fit window, averaged over units, exceeds this (state units squared).
CLAMPED_FLUCTUATION_VARIANCE = 1e-4


def chaotic_closed_loop_network(N, seed, dt=0.1):
    """The g = 2 bulk of :data:`CHAOS` with feedback ``m`` and input ``I``, readout untrained.

    Same random draws as :func:`chaos_network` (``m`` and ``I`` orthonormalised, so their
    empirical variances are exactly ``Sm^2``, ``SI^2`` and their covariance 0; then ``J``
    with variance ``g^2 / N``), but wired as a closed loop: ``I`` is the input column
    (drive with ``u = [1]``), ``m`` the feedback column, ``W_out = 0``, no bias (our
    construction; Mastrogiuseppe & Ostojic 2019, model section, with a chaotic bulk).

    Parameters
    ----------
    N : int
        Number of units (>= 3).
    seed : int
        Seed of the draws.
    dt : float
        Euler step (time units, tau = 1).

    Returns
    -------
    net : Network
        The untrained network.
    gen : numpy.random.Generator
        The generator after the draws (for initial states).

    Raises
    ------
    TypeError, ValueError
        If ``N`` is not an integer >= 3 or ``seed`` not an integer >= 0.
    """
    N = as_int(N, "N", minimum=3)
    gen = np.random.default_rng(as_int(seed, "seed", minimum=0))
    Q, _ = np.linalg.qr(gen.standard_normal((N, 2)))
    m, I = (Q * np.sqrt(N)).T
    m, I = CHAOS["Sm"] * m, CHAOS["SI"] * I
    J = gen.standard_normal((N, N)) * CHAOS["g"] / np.sqrt(N)
    return rs.Network(J=J, W_in=I[:, None], W_fb=m[:, None], W_out=np.zeros((1, N)),
                      b=np.zeros(N), dt=dt), gen


def _chaos_params():
    """:data:`CHAOS` as mean-field statistics (no readout)."""
    return MeanFieldParams(g=CHAOS["g"], var_m=CHAOS["Sm"] ** 2, var_I=CHAOS["SI"] ** 2,
                           cov_mI=CHAOS["rho"] ** 2 * CHAOS["Sm"] * CHAOS["SI"])


class _DMF:
    """Cached ``chaotic_variances(base, z)`` and ``psi(z) = [phi'](Delta0_eff(z))``:
    ``Delta0_eff`` is the chaotic ``Delta0`` where the static state at ``z`` is unstable
    and the static one elsewhere."""

    def __init__(self, base):
        self.base, self.cache = base, {}

    def __call__(self, z):
        z = float(z)
        if z not in self.cache:
            sol = chaotic_variances(self.base, z)
            if not sol.success:
                raise FloatingPointError(f"dynamic mean field undetermined at z = {z}: "
                                         + "; ".join(sol.messages))
            psi = float(gaussian_average("tanh", "dphi", 0.0, sol.delta0))
            self.cache[z] = (sol, psi)
        return self.cache[z]


def chaotic_training_theory(A_values, z_grid, *, slope_step=1e-5):
    """The dynamic mean field's prediction for LS readouts trained at ``A`` on a g = 2 bulk.

    Model and statistics: :data:`CHAOS` (g = 2, Sm = 1, SI = 0.3, rho = 0), the dynamic
    mean field of chaotic states with static input (Mastrogiuseppe & Ostojic 2019, chaotic
    states; :func:`reservoir.meanfield.chaotic_variances`). Our reconstruction (whether
    the paper trains chaotic bulks could not be read):

    * the static target (feedback clamped at ``A``): its variance ``Delta0_static(A)`` and
      bulk radius ``g sqrt([phi'^2](Delta0_static))``; it is unstable through the bulk for
      ``|A| < A_c`` (1.243 here), where the DMF has a chaotic solution ``(Delta0,
      Delta_inf)``;
    * the readout: the uncorrelated theory of an LS readout (Stein's lemma, as in MO2019): direction
      ``(A var_m + cov_mI, A cov_mI + var_I)`` (Stein's lemma; it holds on a fluctuating
      state too, with the total variance), scale ``C`` such that the clamped state
      reproduces ``A`` on average, ``C (d_nm A + d_nI) psi(A) = A`` with ``psi =
      [phi'](Delta0_eff(A))`` (chaotic ``Delta0`` below ``A_c``, static above: there it
      equals :func:`reservoir.meanfield.uncorrelated_ls_params`);
    * the closed loop in the 1-D reduction: roots of ``G(z) = (sigma_nm z + sigma_nI)
      psi(z) - z`` with the same ``Delta0_eff(z)`` (the chaotic closed-loop solutions of
      :func:`reservoir.meanfield.chaotic_fixed_points` inside ``|z| < A_c``, static fixed
      points outside), each called stable when ``G'(z) < 0`` (central difference of step
      ``slope_step``; our decision: the time-averaged readout is treated as a slow variable
      with ``dz/dt ~ G(z)``; static roots outside ``|z| < A_c`` have bulk radius < 1 by
      construction). A random start has ``z(0) ~ 0`` (the readout is uncorrelated with a
      random state): it is predicted to end on the first root in the direction of
      ``sign G(0)``.

    Parameters
    ----------
    A_values : array_like, shape (nA,)
        Targets (readout units, nonzero).
    z_grid : array_like, shape (nz,)
        Increasing grid of readouts on which ``G`` is tabulated; roots are its sign changes
        refined by Brent (roots outside it, and tangential roots, are missed).
    slope_step : float
        Step of the central difference for ``G'`` (readout units).

    Returns
    -------
    list of dict
        Per target: ``A``, ``static_delta0``, ``static_bulk_radius``, ``static_target_stable``
        (bulk radius < 1), ``regime`` (of the DMF at ``z = A``), ``delta0``, ``delta_inf``
        (chaotic where the static state is unstable, else the static ``Delta0`` twice),
        ``readout_scale``, ``overlap_nm``, ``overlap_nI``, ``roots`` (``z``, ``kind``
        "static" or "chaotic", ``stable``, ``delta0``, ``delta_inf``, ``slope`` =
        ``G'``), ``target_kind``, ``random_start`` (the root a random start reaches,
        or None), ``solution_class`` (:func:`reservoir.analysis.classify_solution`: target
        stable iff it is a static stable root; spurious attractors = the other stable
        roots, static or chaotic) and ``chaotic_attractor`` (a stable chaotic root exists).

    Raises
    ------
    TypeError, ValueError
        If a grid is not a finite 1-D array, ``z_grid`` is not increasing or a target is
        zero.
    FloatingPointError
        If the dynamic mean field cannot be solved at a grid point.
    """
    A_values = as_float_array(A_values, "A_values", 1)
    z_grid = as_float_array(z_grid, "z_grid", 1)
    if z_grid.size < 3 or np.any(np.diff(z_grid) <= 0):
        raise ValueError("z_grid must be increasing with at least 3 points")
    if np.any(A_values == 0):
        raise ValueError("A_values must be nonzero (an LS readout for A = 0 is n = 0)")
    base = _chaos_params()
    dmf = _DMF(base)
    _, din_c = chaos_threshold(base.g)
    A_c = float(np.sqrt((din_c - base.var_I) / base.var_m))
    psi_grid = np.array([dmf(z)[1] for z in z_grid])
    rows = []
    for A in A_values:
        A = float(A)
        sol, psi_A = dmf(A)
        d_nm = A * base.var_m + base.cov_mI
        d_nI = A * base.cov_mI + base.var_I
        C = A / ((d_nm * A + d_nI) * psi_A)
        snm, snI = C * d_nm, C * d_nI

        def G(z, snm=snm, snI=snI):
            return (snm * z + snI) * dmf(z)[1] - z
        Gg = (snm * z_grid + snI) * psi_grid - z_grid
        zs = []
        for k in range(z_grid.size - 1):
            a, b = Gg[k], Gg[k + 1]
            if a == 0.0:
                zs.append(float(z_grid[k]))
            elif a * b < 0:
                zs.append(float(scipy.optimize.brentq(G, z_grid[k], z_grid[k + 1],
                                                      xtol=1e-12)))
        if not any(abs(z - A) < 1e-6 for z in zs):
            zs.append(A)        # the target is a root by construction (C); keep it
        zs.sort()
        roots = []
        for z in zs:
            s, _ = dmf(z)
            slope = (G(z + slope_step) - G(z - slope_step)) / (2 * slope_step)
            roots.append({"z": z, "kind": "chaotic" if s.chaotic else "static",
                          "stable": bool(slope < 0), "slope": float(slope),
                          "delta0": float(s.delta0), "delta_inf": float(s.delta_inf)})
        t = int(np.argmin([abs(r["z"] - A) for r in roots]))
        target = roots[t]
        G0 = G(0.0)
        if G0 > 0:
            ahead = [r for r in roots if r["z"] > 0]
        else:
            ahead = [r for r in roots if r["z"] < 0][::-1]
        rnd = ahead[0] if ahead and ahead[0]["stable"] else None
        target_stable = target["kind"] == "static" and target["stable"]
        # spurious attractors: stable roots other than the target, static or chaotic (a
        # chaotic attractor counts as spurious for global stability: our decision)
        n_spur = sum(1 for k, r in enumerate(roots) if k != t and r["stable"])
        rows.append({
            "A": A, "A_c": A_c, "static_delta0": float(sol.static_delta0),
            "static_bulk_radius": float(sol.static_bulk_radius),
            "static_target_stable": bool(sol.static_bulk_radius < 1.0),
            "regime": sol.regime, "delta0": float(sol.delta0),
            "delta_inf": float(sol.delta_inf), "readout_scale": float(C),
            "overlap_nm": float(snm), "overlap_nI": float(snI), "roots": roots,
            "target_kind": target["kind"], "target_stable_in_z": target["stable"],
            "random_start": rnd,
            "solution_class": rs.analysis.classify_solution(snm, bool(target_stable), n_spur),
            "chaotic_attractor": any(r["kind"] == "chaotic" and r["stable"]
                                     for r in roots)})
    return rows


def _lag_autocovariance(X, dt, lags=(20.0, 40.0, 4.0)):
    """Uncentred autocovariance ``<x_i(t) x_i(t+s)>`` of ``X`` (T, N) averaged over units,
    times and the lags ``s`` from ``lags[0]`` to ``lags[1]`` in steps of ``lags[2]`` (time
    units), the long-lag ``Delta_inf`` of the dynamic mean field."""
    ks = np.arange(int(round(lags[0] / dt)), int(round(lags[1] / dt)) + 1,
                   int(round(lags[2] / dt)))
    if ks[-1] >= X.shape[0]:
        raise ValueError(f"the record ({X.shape[0]} steps) is shorter than the longest lag "
                         f"({ks[-1]} steps)")
    return float(np.mean([np.mean(X[:-k] * X[k:]) for k in ks]))


def _closed_loop_speed(net, X):
    """``max_i |dx_i/dt|`` of the closed loop at constant input ``u = [1]``, per row of X."""
    R = np.tanh(X)
    W = net.dense_J() + net.W_fb @ net.W_out
    return np.max(np.abs(-X + R @ W.T + net.W_in[:, 0][None, :]), axis=1)


def _newton_closed(net, x, tol=1e-10, max_iter=40):
    """Newton on the closed loop ``-x + (J + m w^T) phi(x) + I = 0`` from ``x``."""
    W = net.dense_J() + net.W_fb @ net.W_out
    I = net.W_in[:, 0]
    for _ in range(max_iter):
        r = np.tanh(x)
        F = -x + W @ r + I
        if np.max(np.abs(F)) < tol:
            return x, True
        try:
            x = x - np.linalg.solve(-np.eye(net.N) + W * (1 - r**2)[None, :], F)
        except np.linalg.LinAlgError:
            return x, False
        if not np.all(np.isfinite(x)):
            return x, False
    return x, bool(np.max(np.abs(-x + W @ np.tanh(x) + I)) < tol)


#: Blocks of a run's Lyapunov estimate (:func:`run_lyapunov_exponents`); the exponent of a
#: run is their mean and its uncertainty their standard error.
LYAPUNOV_BLOCKS = 5
#: Time (time units) each block first runs, unaveraged, so that the perturbation aligns
#: with the growing direction.
LYAPUNOV_ALIGN = 10.0


def run_lyapunov_exponents(net, X, duration, *, blocks=LYAPUNOV_BLOCKS, align=LYAPUNOV_ALIGN,
                           rng=None):
    """Largest Lyapunov exponent of each closed-loop run, with its uncertainty and verdict.

    The window ``[0, duration]`` after each state of ``X`` is cut into ``blocks`` consecutive
    blocks; block ``b`` is :func:`reservoir.lyapunov_exponent` (Benettin) started from the
    run's state at ``b duration / blocks`` (found by simulating the closed loop at
    ``u = [1]``) with ``transient = align`` and ``duration = duration / blocks``, so that the
    averaging windows of the blocks tile ``[align, align + duration]``. The run's exponent
    is the blocks' mean, its uncertainty the standard error ``s / sqrt(blocks)``; the run
    is called ``"chaotic"`` when ``mean - t SE > 0``, ``"regular"`` when ``mean + t SE <
    0`` and ``"undecided"`` otherwise, with ``t`` the two-sided 95 % quantile of Student's
    t with ``blocks - 1`` degrees of freedom (our rule). A block that diverges (``+inf``)
    or merges (``-inf``) leaves the run ``"undecided"`` with a ``None`` exponent.

    Parameters
    ----------
    net : Network
        Trained closed loop (one input, driven with ``u = [1]``).
    X : ndarray, shape (B, N)
        The runs' states at the start of the window.
    duration : float
        Averaged time per run (time units, > 0).
    blocks : int
        Number of blocks (>= 2).
    align : float
        Unaveraged alignment time per block (time units, >= 0).
    rng : None, int or Generator
        Perturbation directions.

    Returns
    -------
    list of dict
        Per run: ``lyapunov_exponent`` (1/tau, or None), ``lyapunov_se`` (1/tau, or None),
        ``lyapunov_blocks`` (the block values, non-finite ones as None) and
        ``lyapunov_verdict``.

    Raises
    ------
    TypeError, ValueError
        If ``X`` is not a finite (B, N) array, ``blocks < 2`` or a duration is not positive.
    """
    X = as_float_array(X, "X", 2)
    if X.shape[1] != net.N:
        raise ValueError(f"X must have shape (B, {net.N}), got {X.shape}")
    blocks = as_int(blocks, "blocks", minimum=2)
    duration = as_positive_float(duration, "duration")
    align = as_positive_float(align, "align", allow_zero=True)
    gen = as_rng(rng)
    seg = duration / blocks
    n_seg = int(round(seg / net.dt))
    vals = np.empty((X.shape[0], blocks))
    for b in range(blocks):
        for k in range(X.shape[0]):
            vals[k, b] = rs.lyapunov_exponent(net, [1.0], X[k], duration=seg, transient=align,
                                              rng=gen)
        if b < blocks - 1:
            X = rs.simulate(net, np.ones((X.shape[0], n_seg, 1)), X, mode="closed",
                            record=()).x_final
    t = float(scipy.stats.t.ppf(0.975, blocks - 1))
    out = []
    for v in vals:
        if not np.all(np.isfinite(v)):
            out.append({"lyapunov_exponent": None, "lyapunov_se": None,
                        "lyapunov_blocks": [float(x) if np.isfinite(x) else None for x in v],
                        "lyapunov_verdict": "undecided"})
            continue
        mean, se = float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(blocks))
        verdict = ("chaotic" if mean - t * se > 0 else
                   "regular" if mean + t * se < 0 else "undecided")
        out.append({"lyapunov_exponent": mean, "lyapunov_se": se,
                    "lyapunov_blocks": v.tolist(), "lyapunov_verdict": verdict})
    return out


def measure_trained_chaotic(net, A, X0, *, T_transient, T_record, lyapunov_duration,
                            rng, x_target_guess=None):
    """Closed-loop runs of one trained network from the starts ``X0`` and the verdicts.

    Each start is run ``T_transient`` then recorded for ``T_record`` (time units, input
    ``u = [1]``). Per run: the time-averaged readout ``z_mean`` and its std, the speed
    ``max|dx/dt|`` at the end, ``<x^2>`` (``delta0``, over units and the record) and the
    uncentred autocovariance at lags 20-40 tau (``delta_inf``), and the outcome (one of
    :data:`CHAOTIC_OUTCOMES`): settled (speed below :data:`CHAOTIC_REST_SPEED`) at the
    target (``|z - A| <= 0.01 + 0.02 |A|``, the package's target rule) or elsewhere;
    fluctuating with its time-averaged readout at the target (the readout holds ``A``
    while the bulk stays chaotic) or elsewhere (a spurious chaotic attractor).
    The target fixed point is refined by Newton from a run that reached it (else from
    ``x_target_guess``) and its stability read from :func:`reservoir.spectrum` (flow,
    Re < 1); the spurious ones are counted by their readout (rounded to 1e-3). The class is
    :func:`reservoir.analysis.classify_solution` of the network's readout overlap, its
    target stability and the number of spurious attractors the runs found (a lower bound):
    the spurious stable fixed points, plus one if some run fluctuates away from the target
    (a spurious chaotic attractor, our decision). Every run's largest Lyapunov exponent,
    its standard error and verdict (chaotic / regular / undecided) come from
    :func:`run_lyapunov_exponents` over ``lyapunov_duration`` after the transient.

    Returns
    -------
    dict
        ``runs`` (list of per-run dicts, with ``lyapunov_exponent``, ``lyapunov_se``,
        ``lyapunov_blocks`` and ``lyapunov_verdict``), ``target_fixed_point`` (found, z,
        stable, ``max_re_eigenvalue``), ``n_spurious``, ``solution_class``,
        ``lyapunov_exponent`` (the mean over the runs with a finite exponent, or None),
        ``chaotic_runs`` (``[k, n]``: runs called chaotic out of the runs), ``chaotic``
        (every run chaotic), ``overlap_nm``, ``overlap_nI``.
    """
    dt = net.dt
    n0, n1 = int(round(T_transient / dt)), int(round(T_record / dt))
    B = X0.shape[0]
    xT = rs.simulate(net, np.ones((B, n0, 1)), X0, mode="closed", record=()).x_final
    tr = rs.simulate(net, np.ones((B, n1, 1)), xT, mode="closed", record=("x", "z"))
    speed = _closed_loop_speed(net, tr.x_final)
    tol = 0.01 + 0.02 * abs(A)
    runs, spurious, at_target = [], set(), []
    for k in range(B):
        z = tr.z[k, :, 0]
        X = tr.x[k]
        zf = float(tr.z[k, -1, 0])
        rest = bool(speed[k] < CHAOTIC_REST_SPEED)
        if rest and abs(zf - A) <= tol:
            outcome = "target fixed point"
            at_target.append(k)
        elif rest:
            outcome = "spurious fixed point"
            spurious.add(round(zf, 3))
        elif abs(float(np.mean(z)) - A) <= tol:
            outcome = "fluctuating at target"
        else:
            outcome = "fluctuating elsewhere"
        runs.append({"z_mean": float(np.mean(z)), "z_std": float(np.std(z)),
                     "z_final": zf, "speed": float(speed[k]), "outcome": outcome,
                     "delta0": float(np.mean(X**2)),
                     "delta_inf": _lag_autocovariance(X, dt)})
    guess = tr.x_final[at_target[0]] if at_target else x_target_guess
    tfp = {"found": False, "z": None, "stable": False, "max_re_eigenvalue": None}
    if guess is not None:
        x, ok = _newton_closed(net, np.array(guess, dtype=float))
        zx = float(net.W_out[0] @ np.tanh(x))
        if ok and abs(zx - A) <= tol:
            lam = rs.spectrum(net, x, u=[1.0]).eigenvalues
            tfp = {"found": True, "z": zx, "stable": bool(np.max(lam.real) < 1.0),
                   "max_re_eigenvalue": float(np.max(lam.real))}
    geo = rs.readout_geometry(net, [1.0])
    onm = float(geo.overlap_nm[0])
    for r, ly in zip(runs, run_lyapunov_exponents(net, xT, lyapunov_duration, rng=rng)):
        r.update(ly)
    finite = [r["lyapunov_exponent"] for r in runs if r["lyapunov_exponent"] is not None]
    lyap = float(np.mean(finite)) if finite else None
    k_ch = sum(r["lyapunov_verdict"] == "chaotic" for r in runs)
    chaotic = k_ch == len(runs)
    n_spur = len(spurious) + int(any(r["outcome"] == "fluctuating elsewhere" for r in runs))
    return {"runs": runs, "target_fixed_point": tfp, "n_spurious": n_spur,
            "spurious_z": sorted(spurious),
            "solution_class": rs.analysis.classify_solution(onm, tfp["stable"], n_spur),
            "lyapunov_exponent": lyap, "chaotic_runs": [k_ch, len(runs)],
            "chaotic": chaotic, "overlap_nm": onm,
            "overlap_nI": float(geo.overlap_nI[0])}


def chaotic_training_networks(A_values, N, n_real, n_starts, *, T_teacher=300.0,
                              washout=50.0, T_force=150.0, T_transient=150.0,
                              T_record=60.0, lyapunov_duration=100.0, seed0=300):
    """Train g = 2 networks for constant targets by LS and by FORCE, then test them.

    Per target ``A`` and realisation (seed ``seed0 + k``): :func:`chaotic_closed_loop_network`;
    (a) least squares: teacher forcing (feedback clamped at ``A``) from a random state
    for ``T_teacher`` time units, :func:`reservoir.fit_ridge` after ``washout`` with
    penalty :data:`CHAOTIC_LS_REG`. Below the chaos boundary the clamped state is chaotic,
    so the fit is on a fluctuating state: the readout makes ``z`` as constant as it can
    over the fit window (it learns to cancel the fluctuations it saw, not only the mean),
    which the uncorrelated theory does not describe; the clamped run's Lyapunov exponent
    and temporal variance are recorded to say which case each fit is. (b) FORCE/RLS:
    :func:`reservoir.force` in closed loop (update every step, ``reg = 1``) for
    ``T_force`` time units on the constant target. Each trained network is then run in
    closed loop from ``n_starts`` random states ``x0 ~ N(0, 1)`` and measured by
    :func:`measure_trained_chaotic`.

    Parameters
    ----------
    A_values : array_like, shape (nA,)
        Targets (readout units).
    N : int
        Number of units (>= 3).
    n_real : int
        Networks per target (>= 1).
    n_starts : int
        Closed-loop starts per trained network (>= 1).
    T_teacher, washout, T_force, T_transient, T_record, lyapunov_duration : float
        Durations (time units, tau = 1; ``T_record`` >= 41 for the lags of ``delta_inf``).
    seed0 : int
        First seed.

    Returns
    -------
    list of dict
        One row per (target, realisation, method): ``A``, ``seed``, ``N``, ``method``
        ("LS" or "FORCE"), ``clamped_lyapunov``, ``clamped_fluctuation_variance`` (mean
        over units of the temporal variance in the fit window), ``clamped_fluctuating``
        (that variance above :data:`CLAMPED_FLUCTUATION_VARIANCE`), and
        the entries of :func:`measure_trained_chaotic`.

    Raises
    ------
    TypeError, ValueError
        If a count is not a positive integer or ``T_record`` is too short.
    """
    A_values = as_float_array(A_values, "A_values", 1)
    N = as_int(N, "N", minimum=3)
    n_real = as_int(n_real, "n_real", minimum=1)
    n_starts = as_int(n_starts, "n_starts", minimum=1)
    if T_record < 41.0:
        raise ValueError(f"T_record must be >= 41 time units (lags up to 40), got {T_record}")
    rows = []
    for A in A_values:
        A = float(A)
        for k in range(n_real):
            seed = seed0 + k
            net, gen = chaotic_closed_loop_network(N, seed)
            dt = net.dt
            n_t, n_w = int(round(T_teacher / dt)), int(round(washout / dt))
            x0 = gen.standard_normal(N)
            U, Y = np.ones((n_t, 1)), np.full((n_t, 1), A)
            teach = rs.simulate(net, U, x0, mode="teacher", targets=Y, record=("x",))
            fluct = float(np.mean(np.var(teach.x[n_w:], axis=0)))  # over time, per unit
            clamped = rs.Network(J=net.J, W_in=net.W_in, W_fb=net.W_fb,
                                 W_out=np.zeros((1, N)), b=A * net.W_fb[:, 0], dt=dt)
            lam_cl = float(rs.lyapunov_exponent(clamped, [1.0], x0,
                                                duration=lyapunov_duration, transient=50.0,
                                                rng=seed))
            ls = rs.fit_ridge(net, U, Y, washout=n_w, reg=CHAOTIC_LS_REG, x0=x0).network
            n_f = int(round(T_force / dt))
            force = rs.force(net, np.ones((n_f, 1)), np.full((n_f, 1), A), reg=1.0,
                             update_every=1, rng=seed).network
            X0 = gen.standard_normal((n_starts, N))
            for method, trained in (("LS", ls), ("FORCE", force)):
                res = measure_trained_chaotic(
                    trained, A, X0, T_transient=T_transient, T_record=T_record,
                    lyapunov_duration=lyapunov_duration, rng=seed,
                    x_target_guess=teach.x[-1])
                rows.append({"A": A, "seed": seed, "N": N, "method": method,
                             "clamped_lyapunov": lam_cl,
                             "clamped_fluctuation_variance": fluct,
                             "clamped_fluctuating": bool(fluct > CLAMPED_FLUCTUATION_VARIANCE),
                             **res})
    return rows


#: Outcomes of a closed-loop run (:func:`measure_trained_chaotic`).
CHAOTIC_OUTCOMES = ("target fixed point", "spurious fixed point", "fluctuating at target",
                    "fluctuating elsewhere")
_OUTCOMES = CHAOTIC_OUTCOMES


def _predicted_outcome(th):
    """The outcome of a random start predicted by the 1-D reduction (one of
    :data:`CHAOTIC_OUTCOMES`, or "undetermined" when the root reached is unstable or none
    is found)."""
    r = th["random_start"]
    if r is None:
        return "undetermined"
    at = abs(r["z"] - th["A"]) < 1e-6
    if r["kind"] == "chaotic":
        return "fluctuating at target" if at else "fluctuating elsewhere"
    return "target fixed point" if at else "spurious fixed point"


def _chaotic_fraction(theory, runs):
    """``{"theory", "simulation", "counts", "wilson95"}``: the fraction of ``runs`` called
    chaotic by :func:`run_lyapunov_exponents` (undecided runs count as not chaotic), the
    counts of each verdict and the Wilson 95 % interval of ``k / n`` (runs as trials)."""
    verdicts = [u["lyapunov_verdict"] for u in runs]
    n = len(verdicts)
    k = verdicts.count("chaotic")
    return {"theory": bool(theory), "simulation": k / n if n else None,
            "counts": {"chaotic": k, "regular": verdicts.count("regular"),
                       "undecided": verdicts.count("undecided"), "runs": n},
            "wilson95": list(wilson_interval(k, n)) if n else None}


def _claim(claim, rule, measured, agrees, *, note=None, method=None):
    """A claim entry ``{claim, rule, [method], measured, agrees, decided, [note]}``:
    ``agrees`` is True / False, or None (``decided`` False) with a ``note`` saying why."""
    out = {"claim": claim, "rule": rule}
    if method is not None:
        out["method"] = method
    out.update(measured=measured, agrees=None if agrees is None else bool(agrees),
               decided=agrees is not None)
    if agrees is None:
        out["note"] = note or "the data cannot decide"
    elif note:
        out["note"] = note
    return out


def _chaotic_verdict(per_target):
    """Three-way verdict of "every run is chaotic" from :func:`_chaotic_fraction` blocks
    (one per target): False if some run is measured regular, True if at every target the
    Wilson 95 % interval of the chaotic fraction reaches 1, else None; with a note."""
    if not per_target or any(c["wilson95"] is None for c in per_target.values()):
        return None, "no runs at some target"
    regular = {a: c["counts"]["regular"] for a, c in per_target.items()
               if c["counts"]["regular"] > 0}
    if regular:
        return False, f"runs measured regular (negative exponent) at A = {regular}"
    if all(c["wilson95"][1] >= 1.0 for c in per_target.values()):
        return True, None
    und = {a: c["counts"]["undecided"] for a, c in per_target.items()
           if c["wilson95"][1] < 1.0}
    return None, (f"undecided runs (exponent within its 95 % interval of 0) at A = {und}: "
                  "no run regular, but not every run is chaotic beyond its uncertainty")


def summarise_chaotic_training(theory, rows):
    """Per target and method, theory beside simulation, and the claims (JSON block).

    Parameters
    ----------
    theory : list of dict
        :func:`chaotic_training_theory` rows.
    rows : list of dict
        :func:`chaotic_training_networks` rows (the same targets).

    Returns
    -------
    per_target : list of dict
        Per target: ``A``, ``N``, ``realisations``, ``starts``, ``clamped_fluctuating``
        (theory: the DMF's regime at ``z = A`` is chaotic; simulation: fraction of clamped
        runs that fluctuate), ``static_bulk_radius``, and per method (``LS``, ``FORCE``):
        ``random_start_outcome`` (theory: the 1-D reduction's prediction; simulation: the
        fraction of runs with each of :data:`CHAOTIC_OUTCOMES`),
        ``target_fixed_point_stable`` (theory: static bulk radius < 1 and ``G' < 0``;
        simulation: fraction of networks), ``chaotic`` (theory: the target is a chaotic
        solution; simulation: the fraction of runs whose largest Lyapunov exponent is
        positive beyond its uncertainty, with ``counts`` of chaotic / regular / undecided
        runs and the Wilson 95 % interval ``wilson95``: :func:`_chaotic_fraction`),
        ``lyapunov_runs`` (per run: exponent, standard error, verdict), ``solution_class``
        (theory: one class; simulation: the classes of the networks),
        ``delta0_fluctuating`` / ``delta_inf_fluctuating`` (theory: the chaotic DMF at
        each fluctuating run's time-averaged readout, averaged over the runs; simulation:
        the runs' mean; over the runs whose readout lies where the DMF is chaotic, counted
        in ``fluctuating_runs_in_chaotic_region`` as [used, fluctuating]),
        ``delta0_at_target`` (theory: the static ``Delta0(A)``; simulation: runs at the
        target fixed point), ``lyapunov_exponent`` (per network).
    claims : list of dict
        ``claim``, ``rule``, ``method`` (where per method), ``measured``, ``agrees`` (True,
        False, or None when the data cannot decide), ``decided`` and, when undecided, a
        ``note`` (:func:`_claim`).
    """
    dmf = _DMF(_chaos_params())
    per_A = []
    for th in theory:
        A = th["A"]
        mine = [r for r in rows if r["A"] == A]
        if not mine:
            continue
        nets_ls = [r for r in mine if r["method"] == "LS"]
        entry = {"A": A, "N": mine[0]["N"], "realisations": len(nets_ls),
                 "starts": len(mine[0]["runs"]),
                 "clamped_fluctuating": {"theory": th["regime"] == "chaotic",
                                         "simulation": float(np.mean(
                                             [r["clamped_fluctuating"] for r in nets_ls]))},
                 "static_bulk_radius": th["static_bulk_radius"]}
        for method in ("LS", "FORCE"):
            nets = [r for r in mine if r["method"] == method]
            runs = [u for r in nets for u in r["runs"]]
            frac = {o: float(np.mean([u["outcome"] == o for u in runs])) for o in _OUTCOMES}
            m = {"random_start_outcome": {"theory": _predicted_outcome(th), "simulation": frac},
                 "target_fixed_point_stable": {
                     "theory": bool(th["static_target_stable"] and th["target_stable_in_z"]),
                     "simulation": float(np.mean([r["target_fixed_point"]["stable"]
                                                  for r in nets]))},
                 "chaotic": _chaotic_fraction(th["target_kind"] == "chaotic", runs),
                 "solution_class": {"theory": th["solution_class"],
                                    "simulation": [r["solution_class"] for r in nets]},
                 "lyapunov_exponent": [r["lyapunov_exponent"] for r in nets],
                 "lyapunov_runs": [[u["lyapunov_exponent"], u["lyapunov_se"],
                                    u["lyapunov_verdict"]] for u in runs],
                 "overlap_nm": {"theory": th["overlap_nm"],
                                "simulation": float(np.mean([r["overlap_nm"] for r in nets]))},
                 "overlap_nI": {"theory": th["overlap_nI"],
                                "simulation": float(np.mean([r["overlap_nI"] for r in nets]))}}
            fl = [u for u in runs if u["outcome"].startswith("fluctuating")]
            # each fluctuating run against the DMF at its own time-averaged readout (rounded
            # to 0.01 so that runs share the solves), where that DMF is chaotic
            sols = [dmf(round(u["z_mean"], 2))[0] for u in fl]
            fl_ch = [(u, s) for u, s in zip(fl, sols) if s.chaotic]
            if fl_ch:
                m["fluctuating_runs_in_chaotic_region"] = [len(fl_ch), len(fl)]
                m["delta0_fluctuating"] = {
                    "theory": float(np.mean([s.delta0 for _, s in fl_ch])),
                    "simulation": float(np.mean([u["delta0"] for u, _ in fl_ch]))}
                m["delta_inf_fluctuating"] = {
                    "theory": float(np.mean([s.delta_inf for _, s in fl_ch])),
                    "simulation": float(np.mean([u["delta_inf"] for u, _ in fl_ch]))}
            at = [u for u in runs if u["outcome"] == "target fixed point"]
            if at:
                m["delta0_at_target"] = {"theory": th["static_delta0"],
                                         "simulation": float(np.mean([u["delta0"]
                                                                      for u in at]))}
            entry[method] = m
        per_A.append(entry)
    above = [e for e in per_A if e["static_bulk_radius"] < 1.0]
    below = [e for e in per_A if e["static_bulk_radius"] >= 1.0]
    claims = []
    meas = {e["A"]: e["clamped_fluctuating"]["simulation"] for e in per_A}
    claims.append(_claim(
        "DMF: with the feedback clamped at the target the state is chaotic for |A| < A_c "
        "and static above (so below A_c the LS fit is on a fluctuating state)",
        "at every target, more than half of the clamped runs fluctuate exactly where the "
        "DMF's regime at z = A is chaotic",
        {"fraction_clamped_fluctuating_per_A": meas},
        all((e["clamped_fluctuating"]["simulation"] > 0.5)
            == e["clamped_fluctuating"]["theory"] for e in per_A) if per_A else None,
        note=None if per_A else "no targets measured"))
    for method in ("LS", "FORCE"):
        if above:
            st = {e["A"]: e[method]["target_fixed_point_stable"]["simulation"] for e in above}
            claims.append(_claim(
                f"training tames the chaos for |A| > A_c ({method}): the trained network "
                "has a linearly stable fixed point at the target, as the DMF's static "
                "target (bulk radius < 1) predicts",
                "every network at every target above A_c has a linearly stable fixed "
                "point at the target (fraction 1)",
                {"fraction_stable_target_per_A": st},
                all(v == 1.0 for v in st.values()), method=method))
        if below:
            sim = [e[method]["random_start_outcome"]["simulation"] for e in below]
            fl = {e["A"]: v["fluctuating at target"] + v["fluctuating elsewhere"]
                  for e, v in zip(below, sim)}
            fa = {e["A"]: v["fluctuating at target"] for e, v in zip(below, sim)}
            st = {e["A"]: e[method]["target_fixed_point_stable"]["simulation"] for e in below}
            claims.append(_claim(
                f"below A_c the trained closed loop keeps fluctuating ({method}): the DMF's "
                "static target is unstable through the bulk, so no stable target fixed "
                "point and every random start fluctuates",
                "at every target below A_c, every random start still moves at the end "
                f"(speed max|dx/dt| >= {CHAOTIC_REST_SPEED:g}; fraction 1) and no network "
                "has a linearly stable target fixed point (fraction 0)",
                {"fraction_fluctuating_per_A": fl, "fraction_stable_target_per_A": st},
                all(v == 1.0 for v in fl.values()) and all(v == 0.0 for v in st.values()),
                method=method))
            ch = {e["A"]: e[method]["chaotic"] for e in below}
            verdict, note = _chaotic_verdict(ch)
            claims.append(_claim(
                f"below A_c the trained closed loop is chaotic ({method}): the DMF's "
                "solution at the target is chaotic, so every run has a positive largest "
                "Lyapunov exponent",
                "a run is chaotic when its exponent (mean of 5 blocks) exceeds t_0.975 x "
                "its standard error, regular when it is below -t_0.975 x its standard "
                "error, else undecided. True when at every target below A_c the Wilson 95 "
                "% interval of the chaotic fraction reaches 1 (every run chaotic); false "
                "when some run is measured regular (the claim says every run is chaotic); "
                "otherwise undecided (agrees None: runs whose exponent the blocks cannot "
                "sign)",
                {"chaotic_fraction_per_A": {a: c["simulation"] for a, c in ch.items()},
                 "counts_per_A": {a: c["counts"] for a, c in ch.items()},
                 "wilson95_per_A": {a: c["wilson95"] for a, c in ch.items()},
                 "lyapunov_runs_per_A": {e["A"]: e[method]["lyapunov_runs"] for e in below}},
                verdict, note=note, method=method))
            claims.append(_claim(
                f"below A_c the trained readout still holds the target on average "
                f"({method}): the DMF's chaotic closed-loop solution at z = A is stable in "
                "the 1-D reduction, so the time-averaged readout of every run is at A "
                "while the bulk fluctuates",
                "the 1-D reduction predicts 'fluctuating at target' at every target below "
                "A_c, and every random start there ends 'fluctuating at target' (moving at "
                "the end, time-averaged readout within the outcome tolerance of A; "
                "fraction 1)",
                {"fraction_fluctuating_at_target_per_A": fa},
                all(v == 1.0 for v in fa.values())
                and all(e["LS"]["random_start_outcome"]["theory"] == "fluctuating at target"
                        for e in below), method=method))
        errs = {}
        for e in per_A:
            m = e[method]
            if "delta0_fluctuating" in m:
                d0, di = m["delta0_fluctuating"], m["delta_inf_fluctuating"]
                errs[e["A"]] = [d0["simulation"] / d0["theory"] - 1,
                                di["simulation"] / di["theory"] - 1]
        if errs:
            for i, name in enumerate(("<x^2> follows the chaotic DMF Delta0",
                                      "the long-lag autocovariance (lags 20-40 tau) follows "
                                      "the chaotic DMF Delta_inf")):
                rel = {a: v[i] for a, v in errs.items()}
                claims.append(_claim(
                    f"where the trained loop fluctuates ({method}), {name} at its "
                    "time-averaged readout",
                    "|simulation / theory - 1| <= 0.25 at every target, the theory the "
                    "chaotic DMF at each fluctuating run's time-averaged readout (runs where "
                    "that DMF is chaotic), both averaged over those runs",
                    {"relative_error_per_A": rel},
                    all(abs(v) <= 0.25 for v in rel.values()), method=method))
        if above:
            pred = {}
            for e in above:
                o = e[method]["random_start_outcome"]
                pred[e["A"]] = {"predicted": o["theory"],
                                "fraction_with_it": o["simulation"].get(o["theory"], 0.0)}
            known = [v for v in pred.values() if v["predicted"] != "undetermined"]
            if any(v["fraction_with_it"] < 0.5 for v in known):
                verdict, note = False, None
            elif len(known) < len(pred):
                verdict, note = None, ("the 1-D reduction gives no outcome (an unstable "
                                       "root or none) at some target")
            else:
                verdict, note = True, None
            claims.append(_claim(
                f"above A_c the DMF's 1-D reduction (static and chaotic branches, random "
                f"starts at z ~ 0) predicts where the random starts end ({method})",
                "at every target above A_c, at least half (fraction >= 0.5) of the random "
                "starts end with the outcome the 1-D reduction predicts; undecided where "
                "it predicts none",
                {"predicted_outcome_per_A": pred}, verdict, note=note, method=method))
    return per_A, claims


def figure_chaotic_training(data, z_table, out):
    """Draw ``mo2019_chaotic_training``: outcomes of random starts per target and method
    beside the DMF's prediction; ``<x^2>`` and ``Delta_inf`` of the runs against the DMF;
    the Lyapunov exponents."""
    per_A, nets = data["per_target"], data["networks"]
    A_c = data["parameters"]["A_c"]
    fig, (ax1, ax2, ax3) = subplots(1, 3, figsize=(14, 4.6), constrained_layout=True)
    colors = {"target fixed point": "#55A868", "spurious fixed point": "#DD8452",
              "fluctuating at target": "#8172B3", "fluctuating elsewhere": "#C44E52"}
    As = [e["A"] for e in per_A]
    xs = np.arange(len(As))
    w = 0.38
    for j, (method, hatch) in enumerate((("LS", ""), ("FORCE", "//"))):
        bottom = np.zeros(len(As))
        for o in _OUTCOMES:
            v = np.array([e[method]["random_start_outcome"]["simulation"][o] for e in per_A])
            ax1.bar(xs + (j - 0.5) * w, v, w, bottom=bottom, color=colors[o], hatch=hatch,
                    edgecolor="k", lw=0.5, label=o)
            bottom += v
    pred = [e["LS"]["random_start_outcome"]["theory"] for e in per_A]
    for x, p in zip(xs, pred):
        ax1.scatter([x], [1.08], marker="v", s=60, color=colors.get(p, "0.5"),
                    edgecolor="k", zorder=5, label="DMF 1-D reduction: predicted outcome")
    ax1.set_xticks(xs, [f"{a:g}" + ("*" if abs(a) < A_c else "") for a in As])
    ax1.set(xlabel=f"target A (* : |A| < A_c = {A_c:.3f}, static target unstable)",
            ylabel="fraction of closed-loop runs", ylim=(0, 1.15),
            title="Outcome of random starts")
    prm = data["parameters"]
    fig.suptitle(f"Trained closed loops with a chaotic bulk (g = {prm['g']:g}): N = "
                 f"{prm['N']}, {prm['realisations']} networks per A x {prm['starts']} random "
                 "starts, readout by LS (teacher forcing) and by FORCE")
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    h1 = [Patch(facecolor=c, edgecolor="k", label=o) for o, c in colors.items()]
    h1 += [Patch(facecolor="w", edgecolor="k", label="left bar: LS"),
           Patch(facecolor="w", edgecolor="k", hatch="//", label="right bar: FORCE"),
           Line2D([], [], marker="v", ls="", color="0.5", markeredgecolor="k",
                  label="DMF 1-D reduction: predicted outcome")]
    ax1.legend(handles=h1, fontsize=7, ncol=2, loc="upper center",
               bbox_to_anchor=(0.5, -0.16))
    z = np.array(z_table["z"])
    ch = np.array(z_table["chaotic"])
    ax2.plot(z, z_table["static_delta0"], color="0.6", ls="--",
             label="static Delta0 (unstable for |z| < A_c)")
    ax2.plot(np.where(ch, z, np.nan), z_table["delta0"], color="#21406F",
             label="chaotic DMF Delta0")
    ax2.plot(np.where(ch, z, np.nan), z_table["delta_inf"], color="#DD8452",
             label="chaotic DMF Delta_inf")
    for a in (-A_c, A_c):
        ax2.axvline(a, color="#C44E52", lw=0.8, ls=":", label="|z| = A_c (bulk radius 1)")
    for method, fill in (("LS", True), ("FORCE", False)):
        runs = [u for r in nets if r["method"] == method for u in r["runs"]]
        zz = [u["z_mean"] for u in runs]
        kw = dict(s=22, zorder=4)
        ax2.scatter(zz, [u["delta0"] for u in runs], marker="o",
                    facecolor="#21406F" if fill else "none", edgecolor="#21406F", **kw,
                    label=f"<x^2>, {method} runs")
        ax2.scatter(zz, [u["delta_inf"] for u in runs], marker="s",
                    facecolor="#DD8452" if fill else "none", edgecolor="#DD8452", **kw,
                    label=f"<x(t) x(t+s)>, s = 20-40, {method} runs")
    ax2.set_xlim(-2.6, 2.6)
    ax2.set(xlabel="time-averaged readout z of the run", ylabel="variance",
            title="Closed-loop variances vs the dynamic mean field")
    _legend_below(ax2, ncol=2)
    tq = float(scipy.stats.t.ppf(0.975, LYAPUNOV_BLOCKS - 1))
    span = max(As) - min(As) if len(As) > 1 else 1.0
    for j, (method, marker, fill) in enumerate((("LS", "o", True), ("FORCE", "s", False))):
        runs = [(r["A"], u) for r in nets if r["method"] == method for u in r["runs"]
                if u["lyapunov_exponent"] is not None]
        if not runs:
            continue
        # runs side by side around their target (LS left, FORCE right)
        off = np.array([(j - 0.5) * 0.08 * span + 0.03 * span * (i % 4 - 1.5) / 1.5
                        for i in range(len(runs))])
        ax3.errorbar(np.array([a for a, _ in runs]) + off,
                     [u["lyapunov_exponent"] for _, u in runs],
                     yerr=[tq * u["lyapunov_se"] for _, u in runs], fmt=marker, ms=4,
                     color="k", mfc="k" if fill else "none", elinewidth=0.8, capsize=1.5,
                     label=f"trained closed loop, {method}: each run, 95 % interval")
    sel = [r for r in nets if r["method"] == "LS"]
    ax3.scatter([r["A"] for r in sel], [r["clamped_lyapunov"] for r in sel], marker="x",
                color="#C44E52", s=30, label="feedback clamped at A (teacher forcing)")
    ax3.axhline(0.0, color="k", lw=0.7, label="exponent 0 (chaotic above)")
    for a in (-A_c, A_c):
        ax3.axvline(a, color="#C44E52", lw=0.8, ls=":", label="|A| = A_c")
    ax3.set(xlabel="target A", ylabel="largest Lyapunov exponent (1/tau)",
            title="Chaos: exponent > 0")
    _legend_below(ax3)
    save_figure(fig, out, "mo2019_chaotic_training")


def fig_chaotic_training(A_values, N, n_real, n_starts, z_grid, out, **durations):
    """Trained closed loops with a chaotic bulk (g = 2): theory, networks, figure, JSON.

    Runs :func:`chaotic_training_theory` and :func:`chaotic_training_networks`, summarises
    them (:func:`summarise_chaotic_training`) and draws ``mo2019_chaotic_training``.

    Parameters
    ----------
    A_values : array_like, shape (nA,)
        Targets (nonzero), on both sides of ``A_c``.
    N, n_real, n_starts : int
        Units, networks per target, random starts per network.
    z_grid : array_like
        Grid of the 1-D reduction (readout units, increasing).
    out : str
        Output folder.
    **durations
        Passed to :func:`chaotic_training_networks`.

    Returns
    -------
    dict
        The ``chaotic_training`` JSON block: ``parameters``, ``teacher_forcing_note``,
        ``theory``, ``dmf_table`` (the DMF on ``z_grid``), ``per_target``, ``networks``
        and ``claims``.
    """
    theory = chaotic_training_theory(A_values, z_grid)
    rows = chaotic_training_networks(A_values, N, n_real, n_starts, **durations)
    per_A, claims = summarise_chaotic_training(theory, rows)
    dmf = _DMF(_chaos_params())
    sols = [dmf(z)[0] for z in z_grid]
    z_table = {"z": [float(z) for z in z_grid], "chaotic": [s.chaotic for s in sols],
               "delta0": [float(s.delta0) for s in sols],
               "delta_inf": [float(s.delta_inf) for s in sols],
               "static_delta0": [float(s.static_delta0) for s in sols],
               "static_bulk_radius": [float(s.static_bulk_radius) for s in sols]}
    data = {"parameters": {**CHAOS, "N": N, "realisations": n_real, "starts": n_starts,
                           "A_c": theory[0]["A_c"], "dt": 0.1, "ls_reg": CHAOTIC_LS_REG,
                           "force": "closed loop, update every step, reg = 1",
                           "rest_speed": CHAOTIC_REST_SPEED,
                           "target_rule": "|z - A| <= 0.01 + 0.02 |A|",
                           "random_starts": "x0 ~ N(0, 1) per unit", **durations},
            "teacher_forcing_note": (
                "LS readouts are fitted on the teacher-forced state (feedback clamped at "
                "A). For |A| < A_c that state is chaotic (clamped_fluctuating): the fit is on "
                "a fluctuating state, the readout then cancels the fluctuations it saw as "
                "well as producing the mean, and it is correlated with J beyond what the "
                "uncorrelated theory describes; the theory's readout is the uncorrelated LS "
                "direction scaled so that the chaotic state reproduces A on average."),
            "theory": theory, "dmf_table": z_table, "per_target": per_A, "networks": rows,
            "claims": claims}
    figure_chaotic_training(data, z_table, out)
    return data


#: Finite-size tolerances of the mean-field claim, in units of ``N^-1/2`` (our rule; the
#: mean field's errors shrink like ``N^-1/2``): readout ``z`` and outlier within
#: ``4 / sqrt(N)``, bulk radius within ``2 / sqrt(N)`` relative.
MF_TOL_Z, MF_TOL_OUTLIER, MF_TOL_BULK_REL = 4.0, 4.0, 2.0


def _success_verdict(theory, k, n):
    """``{"theory", "k", "n", "simulation", "wilson95", "agrees"}``: the theory's fraction
    inside the Wilson 95 % interval of ``k / n``."""
    lo, hi = wilson_interval(k, n)
    return {"theory": float(theory), "k": int(k), "n": int(n), "simulation": k / n,
            "wilson95": [lo, hi], "agrees": bool(lo <= theory <= hi)}


def _outlier_outside_bulk(row):
    """Whether the theory's outlier of a fixed-point row lies outside its bulk:
    ``|outlier| > bulk radius`` (theory values); only then is the network's top eigenvalue
    the outlier rather than a bulk eigenvalue."""
    return abs(row["outlier"]["theory"]) > row["bulk_radius"]["theory"]


def paper_claims(net_rows, spectra, phase, training):
    """The claims of Mastrogiuseppe & Ostojic 2019 with their measurement and verdict.

    Each claim is ``{"claim", "rule", "measured", "agrees", "decided"}`` with the sizes in
    ``measured`` (``agrees`` None, ``decided`` False and a ``note`` when there is nothing
    to measure); the rules are ours (stated in ``rule``):

    1. *The mean field gives the fixed points, outliers and bulk radius of trained
       networks* (``vary_A_networks``, exact overlaps, and the ``spectra`` networks):
       every network fixed point matched to a theory branch has ``|z error| <= 4 /
       sqrt(N)``, ``|outlier error| <= 4 / sqrt(N)`` (only where the theory's outlier is
       outside the bulk, ``|outlier| > bulk radius``: inside it the network's top
       eigenvalue is a bulk eigenvalue; those fixed points are counted in
       ``n_outlier_inside_bulk``) and relative bulk-radius error ``<= 2 / sqrt(N)``, and
       every stability verdict agrees.
    2. *The geometry of the readout sets the class of the solution* (``phase_map``): the
       class measured on each network equals the theory's; agrees when the theory's
       fraction 1 lies in the Wilson 95 % interval of the agreement fraction.
    3. *Local stability is not global stability*: a network with a linearly stable target
       and a spurious attractor is found (measured class "bistable" on the class map, and
       least-squares networks whose closed-loop runs end at a spurious stable fixed point
       where the exact LS theory predicts one).
    4. *The theory predicts the success of training*: per target and kind of start (random,
       structured), the exact LS mean field's predicted success fraction lies in the Wilson
       95 % interval of the measured fraction of successful runs (runs = networks x
       starts). The RLS/FORCE networks are not covered (the LS theories do not describe
       their readout).

    Parameters
    ----------
    net_rows : list of dict
        :func:`sweep_networks` rows.
    spectra : list of dict
        :func:`spectra_data` rows.
    phase : dict
        :func:`phase_map` result.
    training : dict
        The block of :func:`fig_training_success`.

    Returns
    -------
    list of dict
        The four claims in the order above.
    """
    claims = []
    err = {"z": [], "outlier": [], "bulk_rel": []}
    worst = {"z": 0.0, "outlier": 0.0, "bulk_rel": 0.0}
    ok = True
    n_stable_agree = 0
    n_inside = 0
    rows = [dict(r, source="vary_A") for r in net_rows] + \
        [dict(r, source="spectra") for r in spectra]
    for r in rows:
        tol = 1.0 / np.sqrt(r["N"])
        e_z = abs(r["z"]["simulation"] - r["z"]["theory"])
        e_b = abs(r["bulk_radius"]["simulation"] / r["bulk_radius"]["theory"] - 1)
        o = r["outlier"]
        # the outlier is compared only where the theory puts it outside the bulk: inside,
        # the network's top eigenvalue is a bulk eigenvalue, not the outlier
        if o["simulation"] is None or not _outlier_outside_bulk(r):
            e_o = None
            n_inside += 1
        else:
            e_o = abs(o["simulation"] - o["theory"])
        st = r["stable"]["theory"] == r["stable"]["simulation"]
        n_stable_agree += st
        ok &= (e_z <= MF_TOL_Z * tol and e_b <= MF_TOL_BULK_REL * tol and st
               and (e_o is None or e_o <= MF_TOL_OUTLIER * tol))
        for key, v, c in (("z", e_z, MF_TOL_Z), ("bulk_rel", e_b, MF_TOL_BULK_REL),
                          ("outlier", e_o, MF_TOL_OUTLIER)):
            if v is not None:
                err[key].append(v)
                worst[key] = max(worst[key], v / (c * tol))
    claims.append({
        "claim": "the mean field gives the fixed points, outliers and bulk radius of trained "
                 "feedback networks",
        "rule": f"every network fixed point: |z error| <= {MF_TOL_Z:g}/sqrt(N), |outlier "
                f"error| <= {MF_TOL_OUTLIER:g}/sqrt(N) where the theory's outlier is outside the "
                f"bulk (|outlier| > bulk radius; fixed points with the outlier inside the "
                f"bulk are counted, not compared), relative "
                f"bulk-radius error <= {MF_TOL_BULK_REL:g}/sqrt(N), stability verdicts agree",
        "measured": {"n_fixed_points": len(rows), "N": sorted({r["N"] for r in rows}),
                     "max_abs_z_error": max(err["z"]) if err["z"] else None,
                     "mean_abs_z_error": float(np.mean(err["z"])) if err["z"] else None,
                     "max_abs_outlier_error": max(err["outlier"]) if err["outlier"] else None,
                     "max_rel_bulk_radius_error": max(err["bulk_rel"]) if err["bulk_rel"]
                     else None,
                     "worst_error_over_tolerance": worst,
                     "n_outliers_compared": len(err["outlier"]),
                     "n_outlier_inside_bulk": int(n_inside),
                     "stability_agreement": [int(n_stable_agree), len(rows)]},
        "agrees": bool(ok) if rows else None})
    if not rows:
        claims[-1]["note"] = "no network fixed points"
    nets = phase["networks"]
    k = sum(bool(r["agree"]) for r in nets)
    v = _success_verdict(1.0, k, len(nets)) if nets else None
    claims.append({
        "claim": "the geometry of the readout (its overlaps with the feedback and input "
                 "vectors) sets the class of the solution",
        "rule": "class measured on each network (its own fixed points) equals the theory's; "
                "agrees when 1 lies in the Wilson 95 % interval of the agreement fraction",
        "measured": {"agree": k, "networks": len(nets), "N": phase["N"],
                     "wilson95": v["wilson95"] if v else None,
                     "disagreeing": [{"A": r["A"], "overlap_nm": r["overlap_nm"]["theory"],
                                      "theory": r["theory"], "simulation": r["simulation"]}
                                     for r in nets if not r["agree"]]},
        "agrees": bool(v["agrees"]) if v else None})
    if not v:
        claims[-1]["note"] = "no class-map networks"
    bist = [r for r in nets if r["simulation"] == "bistable"]
    bist_th = [r for r in nets if r["theory"] == "bistable"]
    spur = {}
    spur_ok = True
    for r in training["per_target"]:
        th = r["spurious_stable_z"]["theory"]
        sim = r["spurious_stable_z"]["simulation"]
        spur[r["A"]] = {"theory": th, "simulation": sim}
        spur_ok &= bool(th) == bool(sim)
    claims.append({
        "claim": "local stability is not global stability: bistable solutions exist (a "
                 "linearly stable target and a spurious attractor)",
        "rule": "some network has a stable target fixed point and a spurious stable fixed "
                "point (measured class 'bistable' on the class map), and LS networks' runs "
                "end at a spurious attractor exactly at the targets where the exact LS "
                "theory predicts one",
        "measured": {"class_map_bistable": [len(bist), len(bist_th)],
                     "class_map_N": phase["N"],
                     "spurious_z_per_A": spur,
                     "training_N": training["parameters"]["N"]},
        "agrees": bool(bist) and spur_ok})
    per = {}
    all_ok = True
    for r in training["per_target"]:
        per[r["A"]] = {}
        for start in ("random", "structured"):
            kk, n = r["counts"][start]
            vv = _success_verdict(r[f"{start}_success"]["theory"], kk, n)
            per[r["A"]][start] = vv
            all_ok &= vv["agrees"]
    claims.append({
        "claim": "the mean field predicts the success of standard (least-squares) training "
                 "from random and structured starts",
        "rule": "per target and kind of start, the exact LS mean field's success fraction "
                "lies in the Wilson 95 % interval of the measured fraction (runs = networks "
                "x starts, counted as independent); RLS/FORCE readouts not covered",
        "measured": {"per_A": per, "N": training["parameters"]["N"],
                     "networks_per_A": training["parameters"]["realisations"]},
        "agrees": bool(all_ok) if per else None})
    if not per:
        claims[-1]["note"] = "no training targets"
    for c in claims:
        c["decided"] = c["agrees"] is not None
    return claims


def checkable_numbers():
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    out = {"sigma_hat_nm": {"theory": base.overlap_nm, "spec": 1.639230},
           "sigma_hat_nI": {"theory": base.overlap_nI, "spec": 0.379904},
           "A_flex": {"theory": -base.overlap_nI / base.overlap_nm, "spec": -0.231757}}
    table = {}
    for A in (-2.0, -1.0, -0.5, -0.1, 0.5, 1.0, 1.5, 2.0):
        p, C = example_params(A)
        sol = mf_fixed_points(p)
        table[str(A)] = {"C": C, "fixed_points": sol.z.tolist(),
                         "outliers": sol.outlier.real.tolist(),
                         "stable": sol.stable.tolist()}
    out["table_7_1_accurate"] = table
    gh = {}
    for A in (-2.0, 2.0):
        p, _ = example_params(A, method="gh200")
        sol = mf_fixed_points(p)
        gh[str(A)] = {"z": sol.z.tolist(), "outlier": sol.outlier.real.tolist(),
                      "bulk": sol.bulk_radius.tolist()}
    out["pickles_gh200"] = gh
    return out


def run(out, quick: bool = False, *, threads: int = 1) -> dict:
    """Reproduce the Mastrogiuseppe & Ostojic (2019) figures: PNG + PDF and ``mo2019.json``.

    Writes ``mo2019_vary_A``, ``mo2019_geometry_line``, ``mo2019_bulk_chaos``,
    ``mo2019_spectra``, ``mo2019_training_success``, ``mo2019_phase_map`` and
    ``mo2019_chaotic_training`` (``.png`` and ``.pdf``) and
    ``mo2019.json`` into ``out`` (see the module docstring for what each shows); logs a
    summary line at level INFO, and shows a ``tqdm`` progress bar over the sections on
    standard error when it is a terminal.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder; created with its parents if missing.
    quick : bool
        The small run (N = 400, 2 realisations, 4 targets; under 2 minutes on 2 cores)
        instead of the full one (N = 2000, 5 realisations, 9 targets).
    threads : int
        Threads for the Numba kernels and the BLAS during the run (>= 1; the previous
        counts are restored afterwards). Default 1: on a shared 2-core machine threaded
        BLAS and Numba spin-wait (the LS-network runs measured 44 s threaded, 0.9 s
        single-threaded, load average 7).

    Returns
    -------
    dict
        The content written to ``mo2019.json``: every plotted number, each compared
        quantity as a ``{"theory": ..., "simulation": ...}`` pair with N and the number of
        realisations, the paper's claims with their rule, measurement and verdict
        (``claims``, :func:`paper_claims`), the authors' reference numbers, and the
        seconds per section.

    Raises
    ------
    TypeError, ValueError
        If ``out`` is not a folder path, ``quick`` is not a bool or ``threads`` is not an
        integer >= 1 (before anything is computed or written).
    ImportError
        If matplotlib cannot be imported (before anything is computed).
    """
    return run_checked(_run, out, quick, threads)


def _run(out, quick):
    t0 = time.perf_counter()
    if quick:
        N, n_real, A_net, n_A = 400, 2, [-2.0, -0.5, 1.0, 2.0], 41
        N_chaos, n_chaos, A_chaos, n_A_chaos, N_spec = 400, 1, [0.0, 0.8, 2.0], 25, 800
    else:
        N, n_real, A_net, n_A = 2000, 5, [-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5], 161
        N_chaos, n_chaos, A_chaos, n_A_chaos, N_spec = (1500, 3, [-2.0, -1.5, -1.0, -0.5, 0.0,
                                                                  0.5, 1.0, 1.5, 2.0], 81, 2500)
    A_grid = np.linspace(-2.0, 2.0, n_A)
    A_grid = A_grid[np.abs(A_grid + 0.2318) > 0.02]  # C(A) diverges at A_flex
    sections = {}
    logger.info("mo2019: %s run, N=%d, %d realisations", "quick" if quick else "full", N,
                n_real)
    bar = progress_bar(7, "mo2019", unit="section")     # on a terminal
    t = time.perf_counter()
    theory_rows = sweep_theory(A_grid)
    net_rows = sweep_networks(A_net, N, n_real)
    figure_vary_A(theory_rows, net_rows, out)
    sections["vary_A"] = time.perf_counter() - t
    logger.info("mo2019: vary_A done in %.1f s", sections["vary_A"])
    bar.update(1)
    t = time.perf_counter()
    boundaries = figure_geometry([0.5, 1.0, 2.0, -1.0], out)
    sections["geometry_line"] = time.perf_counter() - t
    logger.info("mo2019: geometry_line done in %.1f s", sections["geometry_line"])
    bar.update(1)
    t = time.perf_counter()
    chaos = bulk_chaos_data(np.linspace(-2.0, 2.0, n_A_chaos), A_chaos, N_chaos, n_chaos)
    figure_bulk_chaos(chaos, out)
    sections["bulk_chaos"] = time.perf_counter() - t
    logger.info("mo2019: bulk_chaos done in %.1f s", sections["bulk_chaos"])
    bar.update(1)
    t = time.perf_counter()
    spectra = spectra_data(N_spec)
    figure_spectra(spectra, out)
    sections["spectra"] = time.perf_counter() - t
    logger.info("mo2019: spectra done in %.1f s", sections["spectra"])
    bar.update(1)
    t = time.perf_counter()
    if quick:
        ts = dict(A_grid=np.linspace(-2.0, 2.0, 21), z0_grid=np.linspace(-3.0, 3.0, 9),
                  A_net=[-2.0, -1.0, 1.0, 2.0], N=300, n_real=2, n_random=8)
    else:
        ts = dict(A_grid=np.linspace(-2.0, 2.0, 81), z0_grid=np.linspace(-3.0, 3.0, 13),
                  A_net=[-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0], N=1000, n_real=20,
                  n_random=10)
    training = fig_training_success(out=out, **ts)
    sections["training_success"] = time.perf_counter() - t
    logger.info("mo2019: training_success done in %.1f s", sections["training_success"])
    bar.update(1)
    t = time.perf_counter()
    if quick:
        # grid points at -0.875 + k/4: a cell edge lies on sigma_nm = 0
        pm = dict(A_grid=np.linspace(-2.0, 2.5, 19),
                  overlap_nm_grid=np.linspace(-0.875, 7.125, 33),
                  points=PHASE_MAP_POINTS_QUICK, N=300, certify=False)
    else:
        pm = dict(A_grid=np.linspace(-2.0, 2.5, 91),
                  overlap_nm_grid=np.linspace(-0.975, 7.025, 161),
                  points=[(A, s) for A in (-1.5, -1.0, 0.5, 1.0, 2.0)
                          for s in (-0.5, 1.0, 2.0, 3.0, 4.5, 6.0)], N=800, certify=None)
    phase = phase_map(**pm)
    figure_phase_map(phase, out)
    sections["phase_map"] = time.perf_counter() - t
    logger.info("mo2019: phase_map done in %.1f s", sections["phase_map"])
    bar.update(1)
    t = time.perf_counter()
    if quick:
        ct = dict(A_values=[0.25, 0.75, 1.5, 2.0], N=300, n_real=2, n_starts=6,
                  z_grid=np.linspace(-3.0, 3.0, 61), T_teacher=200.0, T_force=100.0,
                  T_transient=100.0, T_record=100.0, lyapunov_duration=100.0)
    else:
        ct = dict(A_values=[-1.0, -0.5, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5], N=1000,
                  n_real=5, n_starts=12, z_grid=np.linspace(-3.5, 3.5, 141), T_teacher=400.0,
                  T_force=200.0, T_transient=200.0, T_record=200.0, lyapunov_duration=200.0)
    chaotic_training = fig_chaotic_training(out=out, **ct)
    sections["chaotic_training"] = time.perf_counter() - t
    logger.info("mo2019: chaotic_training done in %.1f s", sections["chaotic_training"])
    bar.update(1)
    bar.close()
    result = {"parameters": {**EXAMPLE, "N": N, "realisations": n_real, "quick": quick},
              "vary_A_theory": theory_rows, "vary_A_networks": net_rows,
              "geometry_line": {"theory": boundaries,
                                "spec": {"0.5": [1.4325, 2.0193], "1.0": [1.8517, 3.3192],
                                         "2.0": [2.9004, 6.2179], "-1.0": [1.7368, 2.9894]}},
              "training_success": training, "bulk_chaos": chaos, "spectra": spectra,
              "phase_map": phase, "chaotic_training": chaotic_training,
              "checkable": None, "seconds": None}
    dz = [abs(r["z"]["theory"] - r["z"]["simulation"]) for r in net_rows]
    agree = np.mean([r["stable"]["theory"] == r["stable"]["simulation"] for r in net_rows])
    result["summary"] = {"mean_abs_z_error": float(np.mean(dz)),
                         "stability_agreement": float(agree),
                         "phase_map_agreement": phase["agreement"]}
    result["claims"] = paper_claims(net_rows, spectra, phase, training)
    t = time.perf_counter()
    result["checkable"] = checkable_numbers()
    sections["checkable"] = time.perf_counter() - t
    result["section_seconds"] = sections
    result["seconds"] = time.perf_counter() - t0
    write_json(result, out, "mo2019.json")
    logger.info("mo2019: N=%d, %d realisations: mean |z_theory - z_network| = %.4f, "
                "stability agrees at %.0f%% of the fixed points; %.0f s; outputs in %s",
                N, n_real, np.mean(dz), 100 * agree, result["seconds"], out)
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of :func:`main` (``--out``, ``--quick``, ``--threads``).

    Returns
    -------
    argparse.ArgumentParser
        The parser (no argument is checked beyond its type: :func:`main` checks them as
        :func:`run` does).
    """
    return parser_out_quick_threads(__doc__.splitlines()[0], DEFAULT_OUT,
                                    "small sizes, under 2 minutes on 2 cores",
                                    "Numba and BLAS threads during the run (default 1)")


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
