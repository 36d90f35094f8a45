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
* ``rb2017_frequency``: three targets (g = 1, {1, 2, 3}): gain ``|T(i omega)|`` of the
  response to a perturbation through the feedback channel at the attractors A = 1
  (band-pass) and A = 3 (low-pass), theory curves and network points.
* ``rb2017_time_constants``: g = 1.5, the output time constant ``tau_out`` and the bulk
  time ``1 / (1 - rho)`` against the target, from the edge of chaos ``A_c`` upwards.
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
  attractors and of the outlier at A = 0.5 against N (log-log, with ``N^-1/2``).
* ``rb2017_robustness`` (R7): g = 1, A = 1: static output gain of an input through ``u``
  (MF ``T(0) = 0.441``) and through independent random vectors (rms, ``O(N^-1/2)``) vs N.
* ``rb2017_relu_vs_sigmoid`` (the abstract's RLU/sigmoid contrast): one target per net, tanh and
  ReLU on the same bulks: fraction of networks whose trained state the fixed-point
  analysis reports stable (theory: tanh always, ReLU never: an exact zero pole, a line
  attractor reported ``"marginal"`` with ``continuum_dim = 1``), Wilson 95 % intervals;
  tanh with two consecutive targets: the alternation rule and the mean-field verdicts.

``rb2017.json``: every plotted number and our reference numbers, each compared
quantity with ``theory`` and ``simulation`` entries, N and the number of realisations.
``--quick``: N = 500 (1000 for three targets), 2 realisations; the map N = 300 with 4
networks per pair on {0.5, 1, 2, 3}; the edge N = 1000, 3 networks per point, g = 1.5, 2;
finite size N = 200, 400, 800; robustness N = 250, 500, 1000 (about a minute on 2 shared
cores with the default ``--threads 1``); ReLU vs sigmoid N = 200, 3 networks per point on
{0.5, 1.5, 3}. Full: N = 2000 (1000 for three targets), 4
realisations; the map N = 1000, 20 networks per pair on {0.25, 0.5, 1, 1.5, 2, 3}; the edge
N = 1000, 10 networks per point, g = 1.2, 1.5, 2, 2.5; N up to 2000 for R6 and R7;
ReLU vs sigmoid N = 1000, 20 networks per point on {0.25, 0.5, 1, 1.5, 2, 3}.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time

import numpy as np
import scipy.linalg

import reservoir as rs
from reservoir._checks import as_int
from reservoir._kernels.blas_threads import thread_budget
from reservoir.analysis import (find_fixed_points, network_closed_loop_gain, network_open_loop,
                                network_pole)
from reservoir.meanfield import edge_of_chaos, multi_target, single_target
from reservoir.reproduce._figures import (check_out, check_quick, main_out_quick_threads,
                                          parser_out_quick_threads,
                                          require_matplotlib, save_figure, subplots,
                                          write_json)
from reservoir.reproduce._stats import wilson_interval
from reservoir.train import train_fixed_point_network

__all__ = ["run", "main", "build_parser"]

logger = logging.getLogger(__name__)

#: Output folder of the command line when ``--out`` is not given.
DEFAULT_OUT = "out/rb2017"


def trained(N, g, targets, seed, phi="tanh", var_m=1.0, feedback_dist="normal"):
    return train_fixed_point_network(N, g, targets, phi=phi, var_m=var_m,
                                     feedback_dist=feedback_dist,
                                     rng=seed)


def kick_decay_rate(net, x, eps=0.05, t_fit=(2.0, 6.0)):
    """Output relaxation after a kick ``eps u`` (Euler, dt = 0.01): the fitted decay rate
    of ``|z - A|`` between ``t_fit[0]`` and ``t_fit[1]``."""
    fine = dataclasses.replace(net, dt=0.01)
    A = float(net.W_out[0] @ np.tanh(x))
    n = int(round(t_fit[1] / 0.01)) + 1
    tr = rs.simulate(fine, None, x + eps * net.W_fb[:, 0], mode="closed", n_steps=n,
                     record=("z",))
    t = 0.01 * np.arange(1, n + 1)
    sel = t >= t_fit[0]
    return float(-np.polyfit(t[sel], np.log(np.abs(tr.z[sel, 0] - A)), 1)[0])


def loglog_slope(N, y):
    return float(np.polyfit(np.log(N), np.log(y), 1)[0])


def flow_eigenvalues(net, x):
    return np.linalg.eigvals(rs.jacobian(net, x, mode="closed"))


def network_transfer(net, x, omegas):
    """Exact T(i w) = w^T D (i w I - L)^{-1} u of the linearised closed loop."""
    L = rs.jacobian(net, x, mode="closed")
    D = 1 - np.tanh(x) ** 2
    u = net.W_fb[:, 0]
    wD = net.W_out[0] * D
    I = np.eye(net.N)
    return np.array([wD @ np.linalg.solve(1j * w * I - L, u) for w in omegas])


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
    ax.plot([], [], color="0.6", label=f"networks (N = {N})")
    ax.plot(t, mf, "--", color="C3", lw=2, label=f"mean field: eps K exp(s* t), s* = {th.s_star:.3f}")
    ax.set(xlabel="time (tau)", ylabel="output deviation z - A", yscale="log",
           title="One trained target: a first-order output ODE")
    ax.legend(fontsize=7)
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
        ax.plot([], [], color="0.6", label=f"networks (N = {N})")
        ax.plot(t, theory, "--", color="C3", lw=2, label="mean field a^T exp((M-I)t) b")
        ax.axhline(0, color="k", lw=0.5)
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
                                     "simulation": ok / len(seeds)}})
    fig, ax = subplots(figsize=(5.5, 4), constrained_layout=True)
    ax.plot(curve_g, curve_A, color="k", label="edge of chaos A_c(g) (mean field)")
    sc = ax.scatter([r["g"] for r in rows], [r["A"] for r in rows],
                    c=[r["trained"]["simulation"] for r in rows], cmap="RdYlGn", vmin=0,
                    vmax=1, s=120, marker="s", edgecolors="k")
    fig.colorbar(sc, ax=ax, label=f"fraction trained and held (N = {N}, {len(seeds)} nets)")
    ax.set(xlabel="gain g", ylabel="target A", yscale="log",
           title="One target: training succeeds above the edge of chaos")
    ax.legend(fontsize=7, loc="lower right")
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
            ev = flow_eigenvalues(net, xf[k])
            lead = ev[np.argmax(ev.real)]
            rows.append({"A": att.A, "seed": seed, "N": N,
                         "leading_pole": {"theory": float(att.poles[0].real),
                                          "simulation": float(lead.real)}})
            if seed == 0:
                ax = axes[k]
                ax.scatter(ev.real, ev.imag, s=3, color="0.4", label="eigenvalues, network")
                ax.scatter(att.poles.real, att.poles.imag, s=80, facecolors="none",
                           edgecolors="C3", label="mean-field poles")
                ax.axvline(0, color="k", lw=0.8)
                ax.set(xlabel="Re (1/tau)", ylabel="Im (1/tau)",
                       title=f"tanh, A = {att.A:g} ({'stable' if att.stable else 'unstable'})")
                ax.legend(fontsize=7)
    relu, xr = trained(N // 2, 1.0, [1.0], 0, phi="relu")
    ev = flow_eigenvalues(relu, xr[0])
    axes[2].scatter(ev.real, ev.imag, s=3, color="0.4", label="eigenvalues, network")
    axes[2].scatter([0], [0], s=80, facecolors="none", edgecolors="C3", label="theory: exactly 0")
    axes[2].set(xlabel="Re (1/tau)", ylabel="Im (1/tau)", title="ReLU, A = 1: line attractor")
    axes[2].legend(fontsize=7)
    out_json["poles_two_targets"] = {"g": g, "targets": targets, "rows": rows,
                                     "theory_chi": [a.char_poly.tolist() for a in mt.attractors]}
    out_json["relu_leading_eigenvalue"] = {"theory": 0.0,
                                          "simulation": float(np.max(ev.real)), "N": N // 2}
    return fig


def frequency_figure(N, n_real, out_json):
    g, targets = 1.0, [1.0, 2.0, 3.0]
    mt = multi_target(g, targets)
    w = np.linspace(0, 2, 401)
    w_net = np.array([0.0, 0.2, 0.4, 0.5, 1.0])
    fig, ax = subplots(figsize=(5.5, 3.6), constrained_layout=True)
    res = {}
    for k, color in ((0, "C0"), (2, "C1")):
        att = mt.attractors[k]
        T = np.abs(att.transfer(1j * w))
        ax.plot(w, T, color=color, label=f"mean field, attractor A = {att.A:g}")
        sims = []
        for seed in range(n_real):
            net, xf = trained(N, g, targets, seed + 1)
            sims.append(np.abs(network_transfer(net, xf[k], w_net)))
        sims = np.array(sims)
        ax.scatter(np.tile(w_net, n_real), sims.ravel(), color=color, marker="x",
                   label=f"networks (N = {N})")
        res[str(att.A)] = {"omega": w_net.tolist(),
                           "theory": np.abs(att.transfer(1j * w_net)).tolist(),
                           "simulation": sims.tolist(), "N": N, "realisations": n_real,
                           "theory_peak": {"omega": float(w[np.argmax(T)]),
                                           "gain": float(T.max())}}
    ax.set(xlabel="perturbation frequency omega (1/tau)", ylabel="|T(i omega)|",
           title="State-dependent frequency selectivity")
    ax.legend(fontsize=7)
    out_json["frequency_response"] = res
    return fig


def time_constants_figure(out_json):
    g = 1.5
    A_c, _, _ = edge_of_chaos(g)
    A = np.linspace(A_c, 3.0, 60)
    ths = [single_target(g, a) for a in A]
    fig, ax = subplots(figsize=(5, 3.5), constrained_layout=True)
    ax.plot(A, [t.tau_out for t in ths], label="output time constant tau_out")
    ax.plot(A, [min(t.bulk_time, 100) for t in ths], label="bulk time 1/(1 - rho)")
    ax.axvline(A_c, color="k", lw=0.8, ls=":", label=f"edge of chaos A_c = {A_c:.4f}")
    ax.set(xlabel="target A", ylabel="time (tau)", yscale="log",
           title=f"g = {g}: the output stays fast at the edge of chaos")
    ax.legend(fontsize=7)
    out_json["time_constants"] = {"g": g, "A": A.tolist(),
                                  "tau_out": [t.tau_out for t in ths],
                                  "bulk_time": [t.bulk_time for t in ths]}
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
               label=f"networks g = 1 (N = {N}), o normal, s uniform")
    ax.set(xlabel="sigma_u A", ylabel="output time constant tau_out", yscale="log", xscale="log",
           title="tau_out depends on the target through sigma_u A")
    ax.legend(fontsize=6, ncol=2)
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
    bx.legend(fontsize=7)
    out_json["feedback_distribution"] = {
        "curves": curves, "networks": sims, "edge_of_chaos": edge,
        "spec_uniform_A_c": {"1.05": 0.0224, "1.1": 0.0637, "1.2": 0.1818, "1.5": 0.7327,
                             "2.0": 2.0736}}
    return fig


def finite_size_figure(Ns, seeds, out_json):
    """R6: g = 1, targets {0.5, 1.5}: |exact - MF| of H(0) at both attractors and of the
    closed-loop outlier at A = 0.5 (MF +0.4259) against N, log-log, with the N^-1/2 law."""
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
    fig, ax = subplots(figsize=(5, 3.8), constrained_layout=True)
    slopes = {}
    for i, (k, label) in enumerate((("pole_A0.5", "leading pole, A = 0.5"),
                                    ("H0_A0.5", "H(0), A = 0.5"),
                                    ("H0_A1.5", "H(0), A = 1.5"))):
        rms = [r["rms_error"] for r in res[k]]
        slopes[k] = {"theory": -0.5, "simulation": loglog_slope(Ns, rms)}
        ax.loglog(Ns, rms, "o-", color=f"C{i}",
                  label=f"{label} (slope {slopes[k]['simulation']:.2f})")
    ref = np.array(Ns, dtype=float)
    ax.loglog(ref, res["H0_A0.5"][0]["rms_error"] * np.sqrt(ref[0] / ref), "k--", lw=1,
              label="N^-1/2")
    ax.set(xlabel="N", ylabel="rms |exact - mean field|",
           title="g = 1, targets {0.5, 1.5}: finite size")
    ax.legend(fontsize=7)
    out_json["finite_size"] = {"g": g, "targets": targets, "quantities": res,
                               "loglog_slope": slopes}
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
           title="g = 1, A = 1: input through u vs random v")
    ax.legend(fontsize=7)
    out_json["robustness"] = {"g": g, "A": A, "rows": rows,
                              "loglog_slope_v": {"theory": -0.5,
                                                 "simulation": loglog_slope(Ns, rms_v)}}
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


def _check(out, quick, threads):
    """Validated ``(out, quick, threads)`` (raises TypeError/ValueError naming the argument)."""
    return check_out(out), check_quick(quick), as_int(threads, "threads", minimum=1)


def run(out, quick: bool = False, *, threads: int = 1) -> dict:
    """Reproduce the Rivkind & Barak (2017) figures: PNG + PDF and ``rb2017.json``.

    Writes the eleven ``rb2017_*`` figures (``.png`` and ``.pdf``; see the module docstring)
    and ``rb2017.json`` into ``out``; logs a summary line at level INFO.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder; created with its parents if missing.
    quick : bool
        The small run (N = 500, 2 realisations, ...; about a minute on 2 shared cores)
        instead of the full one (N = 2000, 4 realisations, ...).
    threads : int
        Threads for the Numba kernels and the BLAS during the run (>= 1, capped at
        ``numba.config.NUMBA_NUM_THREADS``; the previous counts are restored afterwards).
        Default 1: on 2 shared cores the quick run took 33 s single-threaded, 139 s with 2
        threads.

    Returns
    -------
    dict
        The content written to ``rb2017.json``: every plotted number, each compared
        quantity as a ``{"theory": ..., "simulation": ...}`` pair with N and the number of
        realisations, the reference tables, and the seconds per figure.

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


def _run(out_dir, quick):
    t0 = time.perf_counter()
    N, N3, n_real = (500, 1000, 2) if quick else (2000, 1000, 4)
    if quick:
        map_N, map_seeds, map_values = 300, range(4), [0.5, 1.0, 2.0, 3.0]
        fs_N, fs_seeds = [200, 400, 800], [range(10), range(10), range(6)]
        rob_N = [250, 500, 1000]
        edge_N, edge_seeds, edge_g = 1000, range(3), [1.5, 2.0]
        rs_N, rs_seeds, rs_values = 200, range(3), [0.5, 1.5, 3.0]
    else:
        map_N, map_seeds, map_values = 1000, range(20), [0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
        fs_N, fs_seeds = [250, 500, 1000, 2000], [range(16), range(16), range(10), range(8)]
        rob_N = [250, 500, 1000, 2000]
        edge_N, edge_seeds, edge_g = 1000, range(10), [1.2, 1.5, 2.0, 2.5]
        rs_N, rs_seeds, rs_values = 1000, range(20), [0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
    edge_f = [0.5, 0.8, 1.3, 2.0, 3.0]
    out = {"quick": quick}
    timing = {}
    for name, make in (
            ("rb2017_output_ode", lambda: output_ode(N, n_real, out)),
            ("rb2017_output_ode_three_targets",
             lambda: output_ode_three_targets(N3, n_real, out)),
            ("rb2017_poles", lambda: poles_figure(N, n_real, out)),
            ("rb2017_frequency", lambda: frequency_figure(N3, max(1, n_real - 1), out)),
            ("rb2017_time_constants", lambda: time_constants_figure(out)),
            ("rb2017_stability_map", lambda: stability_map_figure(map_N, map_seeds,
                                                                  map_values, out)),
            ("rb2017_edge_success", lambda: edge_success_figure(edge_N, edge_seeds, edge_g,
                                                                edge_f, out)),
            ("rb2017_feedback_distribution",
             lambda: feedback_distribution_figure(N, max(1, n_real - 1), out, quick)),
            ("rb2017_finite_size", lambda: finite_size_figure(fs_N, fs_seeds, out)),
            ("rb2017_robustness", lambda: robustness_figure(rob_N, n_real + 1, 4, out)),
            ("rb2017_relu_vs_sigmoid", lambda: relu_sigmoid_figure(rs_N, rs_seeds,
                                                                   rs_values, out))):
        t1 = time.perf_counter()
        fig = make()
        timing[name] = time.perf_counter() - t1
        save_figure(fig, out_dir, name)
        logger.debug("rb2017: %s done in %.1f s", name, timing[name])
    out["seconds_per_figure"] = timing
    checkable(out)
    out["seconds"] = time.perf_counter() - t0
    write_json(out, out_dir, "rb2017.json")
    pr = out["poles_two_targets"]["rows"]
    err = np.mean([abs(r["leading_pole"]["theory"] - r["leading_pole"]["simulation"])
                   for r in pr])
    fs = out["finite_size"]["loglog_slope"]
    logger.info(
        f"rb2017: N={N}: output decay rate theory {out['decay_rate_t2_6']['theory']:.3f}, "
        f"networks {np.round(out['decay_rate_t2_6']['simulation'], 3).tolist()}; "
        f"two-target poles mean |error| {err:.3f}; stability map agreement "
        f"{out['stability_map']['agreement']:.2f}; finite-size slopes "
        f"{[round(v['simulation'], 2) for v in fs.values()]}; random-input gain slope "
        f"{out['robustness']['loglog_slope_v']['simulation']:.2f}; ReLU vs sigmoid claims "
        f"agreeing {sum(c['agrees'] for c in out['relu_vs_sigmoid']['claims'].values())}/"
        f"{len(out['relu_vs_sigmoid']['claims'])}; "
        f"{out['seconds']:.0f} s; outputs in {out_dir}")
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
                                    ("Numba threads for the simulations (default 1: on 2 shared cores "
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
    main_out_quick_threads(build_parser, _check, run, argv)
