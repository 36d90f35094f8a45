"""Readout-only training (ridge, FORCE) against BPTT on the same tasks: figures and JSON.

    python scripts/compare_training.py [--out DIR] [--quick] [--tasks xor and_ or_]
                                       [--inits orthogonal normal]

For each task: an ensemble per method (``rs.compare_training``), then
``compare_<task>.png/.pdf`` (eigenvalues of the effective connectivity of one network per
method with the unit circle; success, robustness to input noise and to pruning per method)
and ``compare_training.json`` (every per-network number and the settings).
Every method is run from each initial connectivity in ``--inits`` (default: orthogonal and
random normal, the contrast of Jarne's spectra).
``--quick``: 1 ms -> 2 ms steps, N = 40, 3 networks per method, 600 training trials.
"""

import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import reservoir as rs  # noqa: E402


def figure(cmp, name, out):
    methods = list(cmp.summaries)
    kinds = list(dict.fromkeys(s.method for s in cmp.summaries.values()))
    inits = list(dict.fromkeys(s.init for s in cmp.summaries.values()))
    fig = plt.figure(figsize=(3.6 * (len(kinds) + 1.3), 3.6 * len(inits)),
                     constrained_layout=True)
    grid = fig.add_gridspec(len(inits), len(kinds) + 1, width_ratios=[1] * len(kinds) + [1.3])
    axes = [fig.add_subplot(grid[inits.index(cmp.summaries[m].init),
                                 kinds.index(cmp.summaries[m].method)]) for m in methods]
    axes.append(fig.add_subplot(grid[:, -1]))
    theta = np.linspace(0, 2 * np.pi, 300)
    for ax, m in zip(axes, methods):
        s = cmp.summaries[m]
        net = s.networks[0]
        W = net.dense_J() + (net.W_fb @ net.W_out if s.method != "bptt" else 0)
        lam = np.linalg.eigvals(W)
        ax.scatter(lam.real, lam.imag, s=8, color="0.3", label="eigenvalues")
        ax.plot(np.cos(theta), np.sin(theta), color="C0", lw=1, label="unit circle")
        ax.axvline(1.0, color="C3", lw=0.8, ls=":", label="Re = 1")
        ax.set(xlabel="Re λ", ylabel="Im λ", aspect="equal",
               title=f"{m}: acc. {s.accuracy[0]:.2f}, H {s.henrici[0]:.2f}")
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[-1]
    x = np.arange(len(methods))
    w = 0.25
    for k, (key, label) in enumerate((("accuracy", "test"), ("accuracy_noisy", "input noise"),
                                      ("accuracy_pruned", "pruned"))):
        vals = [np.mean(getattr(cmp.summaries[m], key)) for m in methods]
        ax.bar(x + (k - 1) * w, vals, width=w, label=label)
    ax.set_xticks(x, methods, rotation=30, fontsize=7)
    ax.set(ylabel="response accuracy (mean over networks)", ylim=(0, 1.05),
           title=f"{name}: success and robustness")
    ax.legend(fontsize=7)
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(out, f"compare_{name}.{ext}"), dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/compare")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tasks", nargs="+", default=["xor", "and_", "or_"])
    ap.add_argument("--inits", nargs="+", default=["orthogonal", "normal"])
    ap.add_argument("--n-networks", type=int, help="networks per method and init")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                    help="precision of the BPTT passes (float32, as in Keras)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.quick:
        dt, N, n_net, n_train, bkw = 2.0, 40, 3, 600, {"epochs": 25, "lr": 2e-3,
                                                       "batch_size": 32}
    else:
        dt, N, n_net, n_train, bkw = 1.0, 50, 20, 4000, {"epochs": 30, "lr": 1e-3}
    n_net = args.n_networks or n_net
    bkw["dtype"] = args.dtype
    result = {}
    t0 = time.perf_counter()
    for name in args.tasks:
        gen = getattr(rs.tasks, name)
        task = gen(n_train, noise_std=0.1, dt=dt, rng=0)
        test = gen(200, noise_std=0.1, dt=dt, rng=1)
        cmp = rs.compare_training(task, test, n_networks=n_net, N=N, bptt_kwargs=bkw,
                                  inits=args.inits, rng=0)
        figure(cmp, name, args.out)
        print(f"{name}\n{cmp.table()}\n")
        result[name] = {"settings": cmp.settings, "methods": {
            m: {"accuracy": s.accuracy.tolist(), "test_mse": s.test_mse.tolist(),
                "bulk_radius": s.bulk_radius.tolist(), "n_outliers": s.n_outliers.tolist(),
                "leading_eigenvalue": [[v.real, v.imag] for v in s.leading_eigenvalue],
                "n_fixed_points": s.n_fixed_points.tolist(),
                "n_stable_fixed_points": s.n_stable_fixed_points.tolist(),
                "accuracy_noisy": s.accuracy_noisy.tolist(),
                "accuracy_pruned": s.accuracy_pruned.tolist(),
                "accuracy_teacher_forced": s.accuracy_teacher.tolist(),
                "henrici": s.henrici.tolist(), "method": s.method, "init": s.init,
                "solved_rate": s.solved_rate}
            for m, s in cmp.summaries.items()}}
    result["seconds"] = time.perf_counter() - t0
    with open(os.path.join(args.out, "compare_training.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"{result['seconds']:.0f} s; outputs in {args.out}")


if __name__ == "__main__":
    main()
