"""Reproduce the stability figures of Mastrogiuseppe & Ostojic (2019), theory beside simulation.

    python scripts/reproduce_mo2019.py [--out DIR] [--quick] [--threads N]
    reservoir.reproduce.mo2019.run(out, quick=False, threads=1)   # from Python: the same

Progress and the summary line go to the module's logger (``logging``, level INFO), never
to stdout; the script shows them on stderr.

Figures (PNG and PDF), reproducing the claims of Mastrogiuseppe & Ostojic 2019:

* ``mo2019_vary_A``: the authors' scripted example (g = 0.3, Sm = 1.2, SI = 0.5, rho = 0.5,
  readout direction (1, 1, 0.3), scale C(A) making A a solution). Left: every mean-field
  fixed point against the target A (stable solid, unstable dashed) with the fixed points of
  finite networks built with exact overlaps (markers). Right: the outlier eigenvalue and
  the bulk radius of each branch, with the measured top eigenvalue at each network fixed
  point.
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
  LS one: the JSON records its cosine with the LS readout and its norm ratio).
* ``mo2019_bulk_chaos`` (R6): g = 2, Sm = 1, SI = 0.3, rho = 0, feedback clamped at the target
  (input A m + I). Left: bulk radius g sqrt([phi'^2](Delta0)) of the static target versus
  A with the boundary g^2 [phi'^2] = 1 (|A| = 1.243; 0.797 for SI = 1) and the largest
  |eigenvalue| of J D at the networks' final state. Right: the chaotic dynamic mean field
  (Delta0, Delta_inf) where the static state is unstable, with the networks' <x^2> and
  uncentred long-lag autocovariance (lags 20-40 tau).
* ``mo2019_spectra`` (R4): eigenvalues of (J + m n^T/N) D at the target for a globally
  stable (A = 1), a bistable (A = -2) and an unstable (A = -0.5) example of the authors'
  sweep, with the predicted bulk circle and outlier. (At N = 800, seed 0, the bistable
  example shows a second real eigenvalue at 0.150 just outside the complex edge 0.144. It
  is a bulk eigenvalue, not a missed outlier: over 4 seeds at N = 400, 800 and 1600 the
  second-largest real eigenvalue lay inside the complex edge in 11 of 12 networks.)

``mo2019.json`` holds every plotted number and our reference numbers; each compared
quantity has a ``theory`` and a ``simulation`` entry (with N and the number of realisations).
``--quick``: N = 400, 2 realisations, 4 targets (R5: N = 300, 2 networks x 17 starts at
4 targets; R6: N = 400, 3 targets, 1 realisation; R4: N = 800; phase map: 19 x 33 theory
grid, 12 networks at N = 300), under 2 minutes on 2 cores; the full run uses N = 2000, 5
realisations and 9 targets (R5: N = 1000, 5 networks x 23 starts at 8 targets; R6: N = 1500,
9 targets, 3 realisations; R4: N = 2500; phase map: 91 x 161 grid, 30 networks at N = 800,
fixed points certified complete).
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np

import reservoir as rs
from reservoir._kernels.blas_threads import thread_budget
from reservoir._checks import as_float_array, as_int
from reservoir.meanfield import (CLASS_NAMES, MeanFieldParams, chaos_threshold,
                                 chaotic_variances, gaussian_average, ls_fixed_points,
                                 mf_fixed_points, phase_diagram,
                                 readout_scale, stationary_variance, uncorrelated_ls_params)
from reservoir.reproduce._figures import (check_out, check_quick, main_out_quick_threads,
                                          parser_out_quick_threads,
                                          require_matplotlib, save_figure, subplots,
                                          write_json)

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


def figure_vary_A(theory_rows, net_rows, out):
    fig, (ax1, ax2) = subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
    for r in theory_rows:
        for z, o, b, st in zip(r["z"], r["outlier"], r["bulk"], r["stable"]):
            style = dict(color="#21406F" if st else "#C44E52", s=4)
            ax1.scatter(r["A"], z, **style)
            ax2.scatter(r["A"], o, color="#006666" if st else "#C44E52", s=4)
            ax2.scatter(r["A"], b, color="0.6", s=2)
    A = np.array([r["A"] for r in theory_rows])
    ax1.plot(A, A, color="#95B3DF", lw=4, alpha=0.6, zorder=0, label="target z = A")
    if net_rows:
        ax1.scatter([r["A"] for r in net_rows], [r["z"]["simulation"] for r in net_rows],
                    marker="x", color="k", s=30, label="finite networks")
        ax2.scatter([r["A"] for r in net_rows], [r["outlier"]["simulation"] for r in net_rows],
                    marker="x", color="k", s=30, label="top eigenvalue, networks")
    ax1.scatter([], [], color="#21406F", s=10, label="theory, stable")
    ax1.scatter([], [], color="#C44E52", s=10, label="theory, unstable")
    ax1.set(xlabel="target A", ylabel="readout z at the fixed points",
            title="Fixed points of the trained network")
    ax2.axhline(1.0, color="k", lw=0.8, ls=":")
    ax2.scatter([], [], color="#006666", s=10, label="outlier (theory)")
    ax2.scatter([], [], color="0.6", s=10, label="bulk radius (theory)")
    ax2.set(xlabel="target A", ylabel="eigenvalue of (J + m n^T/N) D", ylim=(-1, 3),
            title="Local stability: outlier vs 1")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
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
                       label=CLASS_NAMES[c] if i == 0 else None)
        s_s = float(snm[np.argmax(cls == 2)]) if np.any(cls == 2) else None
        s_c = float(snm[np.argmax(cls == 3)]) if np.any(cls == 3) else None
        boundaries[str(float(A))] = {"sigma_s": s_s, "sigma_c": s_c}
    ax.set_yticks(range(len(pd.A)), [f"A = {a:g}" for a in pd.A])
    ax.set(xlabel="readout-feedback overlap sigma_nm = n.m/N (sigma_nI set by the target)",
           title="Solution classes along the lines of solutions (mean field)")
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
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
    x0 = z0 m + I begin at z ~ z0: the fraction of the z0 grid inside the basin)."""
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
                         "structured_ok": ok[n_random:].tolist(),
                         "z_final": zT.tolist(), "stationary": bool(np.all(speed < 1e-6)),
                         "failed_z": fail_z.tolist()})
    return rows


def fig_training_success(A_grid, z0_grid, A_net, N, n_real, n_random, out):
    """R5 (our reconstruction): success of LS-trained networks versus the target, theory beside
    simulation. Returns the JSON block."""
    exact, unc = training_success_theory(A_grid, z0_grid)
    rows = training_success_networks(A_net, N, n_real, n_random, z0_grid)
    rls_rows = training_success_networks(A_net, N, n_real, n_random, z0_grid,
                                         train=rls_trained_network)
    th_at = {float(A): training_success_theory([A], z0_grid) for A in A_net}
    fig, (ax1, ax2) = subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for e in exact:
        for z, st in zip(e["z"], e["stable"]):
            ax1.scatter(e["A"], z, s=5, color="#21406F" if st else "#C44E52", zorder=3)
    for u in unc:
        for z, st in zip(u["z"], u["stable"]):
            ax1.scatter(u["A"], z, s=4, marker="_", color="0.55" if st else "#E6A0A2")
    A_arr = np.array([e["A"] for e in exact])
    ax1.plot(A_arr, A_arr, color="#95B3DF", lw=4, alpha=0.6, zorder=0)
    for r in rows:
        if r["failed_z"]:
            ax1.scatter([r["A"]] * len(r["failed_z"]), r["failed_z"], marker="x", s=30,
                        color="k", zorder=4)
    ax1.scatter([], [], s=10, color="#21406F", label="exact LS theory, stable")
    ax1.scatter([], [], s=10, color="#C44E52", label="exact LS theory, unstable")
    ax1.scatter([], [], s=20, marker="_", color="0.55", label="uncorrelated theory")
    ax1.scatter([], [], s=30, marker="x", color="k", label="networks: failed runs, z(T)")
    ax1.set(xlabel="target A", ylabel="readout z at the fixed points",
            title=f"LS-trained networks: fixed points (N = {N})")
    ax1.legend(fontsize=7)
    spur = np.array([len(e["spurious_stable"]) > 0 for e in exact])
    for i in range(A_arr.size):
        if spur[i]:
            w = 0.5 * (A_arr[1] - A_arr[0])
            ax2.axvspan(A_arr[i] - w, A_arr[i] + w, color="#F3D9C8", lw=0, zorder=0)
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
    ax2.scatter(As, [np.mean([r["random_success"] for r in sims[a]]) for a in As],
                color="#4C72B0", marker="o", s=40, zorder=5,
                label=f"networks ({n_real} per A), random starts")
    ax2.scatter(As, [np.mean([r["structured_success"] for r in sims[a]]) for a in As],
                color="#DD8452", marker="s", s=40, zorder=5,
                label="networks, structured x0 = z0 m + I")
    rls = {}
    for r in rls_rows:
        rls.setdefault(r["A"], []).append(r)
    ax2.scatter(As, [np.mean([r["random_success"] for r in rls[a]]) for a in As],
                facecolors="none", edgecolors="#4C72B0", marker="o", s=110, zorder=4,
                label="RLS (FORCE) networks, random starts")
    ax2.scatter(As, [np.mean([r["structured_success"] for r in rls[a]]) for a in As],
                facecolors="none", edgecolors="#DD8452", marker="s", s=110, zorder=4,
                label="RLS networks, structured starts")
    ax2.set(xlabel="target A", ylabel="fraction of runs reaching the target",
            ylim=(-0.05, 1.05),
            title="Success vs target (shaded: spurious attractor)")
    ax2.legend(fontsize=6.5, loc="lower center")
    save_figure(fig, out, "mo2019_training_success")
    per_A = []
    for a in As:
        e, u = th_at[a][0][0], th_at[a][1][0]
        sim = sims[a]
        failed = [z for r in sim for z in r["failed_z"]]
        per_A.append({
            "A": a, "N": N, "realisations": len(sim),
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
        "readout_cosine_to_ls": [r["readout_cosine_to_ls"] for r in rls[a]],
        "readout_norm_over_ls": [r["readout_norm_over_ls"] for r in rls[a]]} for a in As]
    return {"parameters": {**EXAMPLE, "N": N, "realisations": n_real,
                           "random_starts": n_random, "z0_grid": z0_grid.tolist(),
                           "T": 150.0, "dt": 0.1, "success": "|z(T) - A| < 1e-2 and "
                           "max|dx/dt| < 1e-6", "random_start_variance": [0.1, 9.0]},
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


def measure_chaos(N, A, seed, t_transient=50.0, t_record=200.0):
    """Open-loop run: <x^2>, the uncentred long-lag autocovariance (lags 20-40 tau), and
    the bulk edge (largest |eigenvalue| of J D) at the final state."""
    net, gen = chaos_network(N, A, seed)
    dt = net.dt
    n0, n = int(round(t_transient / dt)), int(round(t_record / dt))
    tr = rs.simulate(net, None, gen.standard_normal(N), mode="open", n_steps=n0 + n,
                     record=("x",))
    X = tr.x[n0:]
    lags = np.arange(int(round(20 / dt)), int(round(40 / dt)) + 1, int(round(4 / dt)))
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
    fig, (ax1, ax2) = subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    ax1.plot(A, [r["bulk_radius"] for r in rows], color="0.3",
             label="g sqrt([phi'^2](Delta0)) at the static target")
    ax1.axhline(1.0, color="#C44E52", ls=":", label="g^2 [phi'^2] = 1")
    A_c = data["threshold"]["A_c"]
    for a in (-A_c, A_c):
        ax1.axvline(a, color="#C44E52", lw=0.8, ls="--")
    fixed = [r for r in nets if "bulk_radius" in r]
    if fixed:
        ax1.scatter([r["A"] for r in fixed], [r["bulk_radius"]["simulation"] for r in fixed],
                    marker="x", color="k", s=25, label="max |eig(J D)|, network at rest")
    ax1.set(xlabel="target A (feedback clamped, input A m + I)", ylabel="bulk radius",
            title=f"g = {CHAOS['g']}: bulk instability for |A| < {A_c:.3f}")
    ax1.legend(fontsize=7)
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
    ax2.legend(fontsize=7)
    save_figure(fig, out, "mo2019_bulk_chaos")


# ---------------------------------------------------------------- R4: spectra at the target
SPECTRA_EXAMPLES = (("globally stable", 1.0), ("bistable", -2.0), ("unstable target", -0.5))


def target_fixed_point(net, A, tol=1e-11, max_iter=30):
    """The closed-loop fixed point next to the target: the open-loop state with the feedback
    clamped at A (plain iteration, a contraction for g < 1), refined by Newton on the closed
    loop (which converges to unstable fixed points too)."""
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
    fig, axes = subplots(1, len(rows), figsize=(3.3 * len(rows), 3.4), constrained_layout=True)
    t = np.linspace(0, 2 * np.pi, 300)
    for ax, r in zip(axes, rows):
        ax.scatter(r["eigenvalues_real"], r["eigenvalues_imag"], s=3, color="0.3")
        R = r["bulk_radius"]["theory"]
        ax.plot(R * np.cos(t), R * np.sin(t), color="#006666", lw=1,
                label="g sqrt(<phi'^2>) (theory)")
        ax.scatter([r["outlier"]["theory"]], [0], marker="x", color="#C44E52", s=60, zorder=5,
                   label="predicted outlier")
        ax.axvline(1.0, color="k", lw=0.7, ls=":")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set(title=f"{r['name']} (A = {r['A']:g})", xlabel="Re", ylabel="Im")
        ax.legend(fontsize=6, loc="lower left")
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
                   edgecolor=CLASS_COLORS[CLASS_NAMES.index(r["theory"])], linewidth=2.5)
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


def _check(out, quick, threads):
    """Validated ``(out, quick, threads)`` (raises TypeError/ValueError naming the argument)."""
    return check_out(out), check_quick(quick), as_int(threads, "threads", minimum=1)


def run(out, quick: bool = False, *, threads: int = 1) -> dict:
    """Reproduce the Mastrogiuseppe & Ostojic (2019) figures: PNG + PDF and ``mo2019.json``.

    Writes ``mo2019_vary_A``, ``mo2019_geometry_line``, ``mo2019_bulk_chaos``,
    ``mo2019_spectra``, ``mo2019_training_success`` and ``mo2019_phase_map`` (``.png`` and
    ``.pdf``) and
    ``mo2019.json`` into ``out`` (see the module docstring for what each shows); logs a
    summary line at level INFO.

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
        realisations, the authors' reference numbers, and the seconds per section.

    Raises
    ------
    TypeError, ValueError
        If ``out`` is not a folder path, ``quick`` is not a bool or ``threads`` is not an
        integer >= 1 (before anything is computed or written).
    ImportError
        If matplotlib cannot be imported (before anything is computed).
    """
    out, quick, threads = _check(out, quick, threads)
    require_matplotlib()
    os.makedirs(out, exist_ok=True)
    with thread_budget(threads):
        return _run(out, quick)


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
    t = time.perf_counter()
    theory_rows = sweep_theory(A_grid)
    net_rows = sweep_networks(A_net, N, n_real)
    figure_vary_A(theory_rows, net_rows, out)
    sections["vary_A"] = time.perf_counter() - t
    logger.debug("mo2019: vary_A done in %.1f s", sections["vary_A"])
    t = time.perf_counter()
    boundaries = figure_geometry([0.5, 1.0, 2.0, -1.0], out)
    sections["geometry_line"] = time.perf_counter() - t
    logger.debug("mo2019: geometry_line done in %.1f s", sections["geometry_line"])
    t = time.perf_counter()
    chaos = bulk_chaos_data(np.linspace(-2.0, 2.0, n_A_chaos), A_chaos, N_chaos, n_chaos)
    figure_bulk_chaos(chaos, out)
    sections["bulk_chaos"] = time.perf_counter() - t
    logger.debug("mo2019: bulk_chaos done in %.1f s", sections["bulk_chaos"])
    t = time.perf_counter()
    spectra = spectra_data(N_spec)
    figure_spectra(spectra, out)
    sections["spectra"] = time.perf_counter() - t
    logger.debug("mo2019: spectra done in %.1f s", sections["spectra"])
    t = time.perf_counter()
    if quick:
        ts = dict(A_grid=np.linspace(-2.0, 2.0, 21), z0_grid=np.linspace(-3.0, 3.0, 9),
                  A_net=[-2.0, -1.0, 1.0, 2.0], N=300, n_real=2, n_random=8)
    else:
        ts = dict(A_grid=np.linspace(-2.0, 2.0, 81), z0_grid=np.linspace(-3.0, 3.0, 13),
                  A_net=[-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0], N=1000, n_real=5,
                  n_random=10)
    training = fig_training_success(out=out, **ts)
    sections["training_success"] = time.perf_counter() - t
    logger.debug("mo2019: training_success done in %.1f s", sections["training_success"])
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
    logger.debug("mo2019: phase_map done in %.1f s", sections["phase_map"])
    result = {"parameters": {**EXAMPLE, "N": N, "realisations": n_real, "quick": quick},
              "vary_A_theory": theory_rows, "vary_A_networks": net_rows,
              "geometry_line": {"theory": boundaries,
                                "spec": {"0.5": [1.4325, 2.0193], "1.0": [1.8517, 3.3192],
                                         "2.0": [2.9004, 6.2179], "-1.0": [1.7368, 2.9894]}},
              "training_success": training, "bulk_chaos": chaos, "spectra": spectra,
              "phase_map": phase,
              "checkable": None, "seconds": None}
    dz = [abs(r["z"]["theory"] - r["z"]["simulation"]) for r in net_rows]
    agree = np.mean([r["stable"]["theory"] == r["stable"]["simulation"] for r in net_rows])
    result["summary"] = {"mean_abs_z_error": float(np.mean(dz)),
                         "stability_agreement": float(agree),
                         "phase_map_agreement": phase["agreement"]}
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
    main_out_quick_threads(build_parser, _check, run, argv)
