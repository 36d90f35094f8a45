"""Train a feedback network with FORCE and with ridge regression; print errors, save a figure.

    python scripts/demo.py [--out DIR] [--quick]

1. FORCE (Sussillo & Abbott 2009) on the sum-of-four-sines target: N = 1000, g = 1.5,
   reg = 1 (their alpha), dt = 0.1 tau, an RLS update every 2 steps, 2880 tau of training,
   then a closed-loop test continued from the training's final state.
2. Ridge regression on teacher-forced states for the same target: a tiny training error,
   but the closed loop does not reproduce the pattern (offline training does not make the
   trained trajectory an attractor; this is what issue-2 tools diagnose).
3. Ridge for a stationary target (Mastrogiuseppe & Ostojic 2019): constant input, constant
   output A; the closed loop holds A. Its 8 random initial states are spread along the
   readout (normal noise plus a random multiple, uniform in [-3, 3], of sign(W_out)), so
   that the readouts start far apart (about -1.2 to 1.0) and all converge to A.
"""

import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import reservoir as rs  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument("--quick", action="store_true", help="N = 500 instead of 1000")
    args = p.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"--out {args.out!r} exists and is not a folder")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        p.error(f"--out {args.out!r}: cannot create the folder ({exc.strerror})")
    N, train_T = (500, 2880.0) if args.quick else (1000, 2880.0)

    # 1. FORCE on the sum of sines
    net = rs.random_network(N=N, g=1.5, n_inputs=1, n_outputs=1, phi="tanh", tau=1.0, dt=0.1,
                            rng=0)
    train = rs.tasks.sine_sum(duration=train_T, dt=0.1)
    test = rs.tasks.sine_sum(duration=720.0, dt=0.1)  # training ends at a whole period
    t0 = time.perf_counter()
    res = rs.force(net, train.inputs, train.targets, reg=1.0, update_every=2, rng=0)
    t_force = time.perf_counter() - t0
    out_force = rs.simulate(res.network, test.inputs, res.x_final, mode="closed")
    late_mae = float(np.mean(np.abs(res.error_before[-2000:])))
    print(f"FORCE  N={N}: {t_force:.1f} s for {train.n_steps} steps; "
          f"training MAE (last 2000 updates) {late_mae:.4f}; closed-loop test NMSE "
          f"{rs.nmse(out_force.z, test.targets):.4f}")

    # 2. ridge on the same target
    ridge = rs.fit_ridge(net, train.inputs, train.targets, reg=1e-6, washout=1000)
    out_ridge = rs.simulate(ridge.network, test.inputs, ridge.x_final, mode="closed")
    print(f"ridge  N={N}: training MSE {ridge.train_mse[0]:.2e}; closed-loop test NMSE "
          f"{rs.nmse(out_ridge.z, test.targets):.3f} (the pattern is not an attractor)")

    # 3. ridge on a stationary target (Mastrogiuseppe & Ostojic)
    A = 1.0
    mo = rs.random_network(N=N, g=0.8, n_inputs=1, n_outputs=1, dt=0.1, input_dist="normal",
                           feedback_dist="normal", rng=1)
    stat = rs.tasks.stationary(target=A, duration=100.0, dt=0.1, washout=50.0)
    fit = rs.fit_ridge(mo, stat.inputs, stat.targets, mask=stat.mask, reg=1e-8)
    # random states spread along the readout: i.i.d. normal (in every direction a start
    # of scale 1 has z = W_out phi(x0) near 0) plus a random multiple of sign(W_out)
    gen = np.random.default_rng(2)
    x0 = (gen.standard_normal((8, N))
          + gen.uniform(-3.0, 3.0, size=(8, 1)) * np.sign(fit.network.W_out[0]))
    runs = rs.simulate(fit.network, np.broadcast_to(stat.inputs, (8,) + stat.inputs.shape), x0,
                       mode="closed", record=("z",))
    finals = runs.z[:, -1, 0]
    print(f"ridge  stationary A={A}: closed-loop z from 8 random starts: "
          f"z(0) {np.round(runs.z[:, 0, 0], 3).tolist()} -> z(T) "
          f"{np.round(finals, 4).tolist()}")

    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), constrained_layout=True)
    t = test.t
    axes[0].plot(t, test.targets[:, 0], color="0.6", lw=3, label="target")
    axes[0].plot(t, out_force.z[:, 0], color="C0", label="FORCE, closed loop")
    axes[0].set(title=f"FORCE: sum of four sines (N = {N}, closed-loop test)",
                xlabel="time (tau)", ylabel="readout z")
    axes[1].plot(t, test.targets[:, 0], color="0.6", lw=3, label="target")
    axes[1].plot(t, out_ridge.z[:, 0], color="C3", label="ridge, closed loop")
    axes[1].set(title=f"Ridge (teacher forcing): same target (N = {N})", xlabel="time (tau)",
                ylabel="readout z")
    for i in range(runs.z.shape[0]):
        axes[2].plot(stat.t, runs.z[i, :, 0], color="C2", lw=1,
                     label="closed loop, 8 random starts" if i == 0 else None)
    axes[2].scatter(np.zeros(runs.z.shape[0]), runs.z[:, 0, 0], s=15, color="C2", zorder=3,
                    label="initial readouts z(0)")
    axes[2].axhline(A, color="0.3", ls="--", label=f"target A = {A}")
    axes[2].set(title=f"Ridge: stationary output from 8 random initial states (N = {N}; "
                f"first 20 of {stat.t[-1]:.0f} tau)", xlabel="time (tau)", ylabel="readout z",
                xlim=(-0.5, 20.0))
    for ax in axes:  # outside the axes: over no data
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(args.out, f"demo.{ext}"), dpi=120)
    print(f"figure: {os.path.join(args.out, 'demo.png')}")


if __name__ == "__main__":
    main()
