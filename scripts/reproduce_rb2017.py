"""Reproduce the local-dynamics results of Rivkind & Barak (2017), theory beside simulation.

    python scripts/reproduce_rb2017.py [--out DIR] [--quick]

Figures (PNG and PDF), following ``shared/specs/rb2017.md`` section 6.2:

* ``rb2017_output_ode``: one trained target (tanh, g = 1, A = 1): the output after a kick
  ``eps u`` in finite networks against the mean-field first-order ODE ``eps K exp(s* t)``.
* ``rb2017_poles``: two targets (g = 1, {0.5, 1.5}): eigenvalues of the closed-loop
  Jacobian at each trained attractor with the mean-field poles (the attractor at 0.5 is
  unstable, the one at 1.5 stable: the alternation rule); ReLU gives an exact zero.
* ``rb2017_frequency``: three targets (g = 1, {1, 2, 3}): gain ``|T(i omega)|`` of the
  response to a perturbation through the feedback channel at the attractors A = 1
  (band-pass) and A = 3 (low-pass), theory curves and network points.
* ``rb2017_time_constants``: g = 1.5, the output time constant ``tau_out`` and the bulk
  time ``1 / (1 - rho)`` against the target, from the edge of chaos ``A_c`` upwards.

``rb2017.json``: every plotted number and the spec's checkable numbers, each compared
quantity with ``theory`` and ``simulation`` entries, N and the number of realisations.
``--quick``: N = 500 (1000 for three targets), 2 realisations (under 2 minutes on 2 cores);
full: N = 2000 (1000 for
three targets), 4 realisations.
"""

import argparse
import dataclasses
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import reservoir as rs  # noqa: E402
from reservoir.meanfield import (edge_of_chaos, multi_target, single_target,  # noqa: E402
                                 train_fixed_point_network)


def trained(N, g, targets, seed, phi="tanh"):
    return train_fixed_point_network(N, g, targets, phi=phi, rng=seed)


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
    mf = eps * th.K * np.exp(th.s_star * t)
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
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


def poles_figure(N, n_real, out_json):
    g, targets = 1.0, [0.5, 1.5]
    mt = multi_target(g, targets)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
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
                                     "theory_chi": [a.chi.tolist() for a in mt.attractors]}
    out_json["relu_leading_eigenvalue"] = {"theory": 0.0,
                                          "simulation": float(np.max(ev.real)), "N": N // 2}
    return fig


def frequency_figure(N, n_real, out_json):
    g, targets = 1.0, [1.0, 2.0, 3.0]
    mt = multi_target(g, targets)
    w = np.linspace(0, 2, 401)
    w_net = np.array([0.0, 0.2, 0.4, 0.5, 1.0])
    fig, ax = plt.subplots(figsize=(5.5, 3.6), constrained_layout=True)
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
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
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


def checkable(out_json):
    table = []
    for g, A in [(0.5, 0.5), (0.5, 1.0), (1.0, 1.0), (1.5, 1.0), (2.0, 2.0)]:
        t = single_target(g, A)
        table.append({"g": g, "A": A, "C": t.C, "gamma": t.gamma, "K": t.K, "H0": t.H0,
                      "s_star": t.s_star, "tau_out": t.tau_out, "rho": t.rho,
                      "tau_eff": t.tau_eff})
    out_json["table_7_1"] = table
    out_json["edge_of_chaos"] = [
        dict(zip(("g", "A_c", "Delta_c", "C_c"), (g,) + edge_of_chaos(g)))
        for g in (1.05, 1.1, 1.2, 1.5, 2.0, 3.0)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/rb2017")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    N, N3, n_real = (500, 1000, 2) if args.quick else (2000, 1000, 4)
    out = {"quick": args.quick}
    figs = {"rb2017_output_ode": output_ode(N, n_real, out),
            "rb2017_poles": poles_figure(N, n_real, out),
            "rb2017_frequency": frequency_figure(N3, max(1, n_real - 1), out),
            "rb2017_time_constants": time_constants_figure(out)}
    checkable(out)
    for name, fig in figs.items():
        for ext in ("png", "pdf"):
            fig.savefig(os.path.join(args.out, f"{name}.{ext}"), dpi=130)
        plt.close(fig)
    out["seconds"] = time.perf_counter() - t0
    with open(os.path.join(args.out, "rb2017.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    pr = out["poles_two_targets"]["rows"]
    err = np.mean([abs(r["leading_pole"]["theory"] - r["leading_pole"]["simulation"])
                   for r in pr])
    print(f"rb2017: N={N}: output decay rate theory {out['decay_rate_t2_6']['theory']:.3f}, "
          f"networks {np.round(out['decay_rate_t2_6']['simulation'], 3).tolist()}; "
          f"two-target poles mean |error| {err:.3f}; {out['seconds']:.0f} s; outputs in "
          f"{args.out}")


if __name__ == "__main__":
    main()
