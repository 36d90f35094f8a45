"""Benchmark the Numba kernels against plain NumPy and (if installed) reservoirpy.

    python scripts/benchmark.py [--repeats 5] [--quick] [--json FILE]

Everything is timed in one run (ratios are what matter on a shared machine) and each
figure is the median over ``--repeats`` repetitions. The bounds are those of the project's
2-core machine (measured there, our numbers): a single-trial step reads J once (8 N^2
bytes dense, 12 nnz + 4 (N+1) CSR) at about 58 GB/s (cache bandwidth, both cores); a FORCE
step also reads and writes P (24 N^2 bytes in all); a batched step is bound by GEMM flops
(2 B N^2 at about 120 GFLOP/s).
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

import reservoir as rs

BANDWIDTH = 58e9   # bytes/s, both cores, in-cache (measured on the 2-core machine)
FLOPS = 120e9      # dgemm flop/s, both cores (measured on the 2-core machine)

try:
    import reservoirpy  # noqa: F401
    from reservoirpy.nodes import RLS, Reservoir, Ridge
    try:
        reservoirpy.verbosity(0)
    except AttributeError:
        pass
    HAVE_RPY = True
except Exception:  # pragma: no cover - optional
    HAVE_RPY = False


def median_time(fn, repeats):
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def numpy_run(J, W_in, W_fb, b, alpha, U, Y, x0):
    """Plain NumPy teacher-forced run (the obvious loop), states recorded."""
    x = x0.copy()
    T = U.shape[0]
    out = np.empty((T, x.size))
    for t in range(T):
        r = np.tanh(x)
        out[t] = x
        x = (1 - alpha) * x + alpha * (J @ r + W_in @ U[t] + W_fb @ Y[t] + b)
    return out


def numpy_force(J, W_fb, alpha, Y, x0, P, w, every):
    """Plain NumPy FORCE (efficient textbook form: P @ r, one outer-product downdate)."""
    x = x0.copy()
    for t in range(Y.shape[0]):
        r = np.tanh(x)
        z = w @ r
        if t % every == 0:
            k = P @ r
            c = 1.0 / (1.0 + r @ k)
            P -= c * np.outer(k, k)
            w -= c * (z - Y[t]) * k
        x = (1 - alpha) * x + alpha * (J @ r + W_fb[:, 0] * z)
    return w


def bench_single(N, density, repeats, T, results):
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, density=density, rng=0)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((T, 1))
    Y = np.sin(np.arange(T) * 0.1)[:, None]
    x0 = rng.standard_normal(N)
    ours = median_time(lambda: rs.simulate(net, U, x0, mode="teacher", targets=Y,
                                           record=("x",)), repeats) / T
    J = net.J
    ref = median_time(lambda: numpy_run(J, net.W_in, net.W_fb, net.b, net.alpha, U, Y, x0),
                      repeats) / T
    if net.is_sparse:
        bound = (12 * J.nnz + 4 * (N + 1)) / BANDWIDTH
    else:
        bound = 8 * N * N / BANDWIDTH
    row = {"work": f"teacher-forced run, {'dense' if density == 1 else f'{density:.0%} sparse'}",
           "N": N, "ours_us": ours * 1e6, "numpy_us": ref * 1e6, "bound_us": bound * 1e6}
    if HAVE_RPY:
        res = Reservoir(W=J, Win=np.hstack([net.W_in, net.W_fb]), bias=net.b, lr=net.alpha,
                        activation="tanh")
        UY = np.hstack([U, Y])

        def run_rpy():
            res.reset() if res.initialized else None
            res.run(UY)
        row["reservoirpy_us"] = median_time(run_rpy, repeats) / T * 1e6
    results.append(row)


def bench_closed(N, repeats, T, results):
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
    net = net.with_readout(np.random.default_rng(1).standard_normal((1, N)) / N)
    x0 = np.random.default_rng(0).standard_normal(N)
    U = np.zeros((T, 1))
    ours = median_time(lambda: rs.simulate(net, U, x0, mode="closed", record=("z",)),
                       repeats) / T
    results.append({"work": "closed-loop free run", "N": N, "ours_us": ours * 1e6,
                    "bound_us": 8 * N * N / BANDWIDTH * 1e6})


def bench_force(N, repeats, T, results):
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
    task = rs.tasks.sine_sum(duration=T * 0.1, dt=0.1)
    x0 = np.random.default_rng(0).standard_normal(N)
    # update every step: every step is a full FORCE step (simulation + RLS)
    ours = median_time(lambda: rs.force(net, task.inputs, task.targets, update_every=1, x0=x0),
                       repeats) / T
    Tn = max(20, T // 4)
    ref = median_time(lambda: numpy_force(net.J, net.W_fb, net.alpha, task.targets[:Tn], x0,
                                          np.eye(N), np.zeros(N), 1), repeats) / Tn
    row = {"work": "FORCE step (closed-loop RLS)", "N": N, "ours_us": ours * 1e6,
           "numpy_us": ref * 1e6, "bound_us": 24 * N * N / BANDWIDTH * 1e6}
    if HAVE_RPY:
        Tr = max(10, T // 20)
        res = Reservoir(W=net.J, Win=np.hstack([net.W_in, net.W_fb]), bias=net.b,
                        lr=net.alpha, activation="tanh")
        states = res.run(np.zeros((Tr, 2)))

        def rls_steps():
            node = RLS(alpha=1.0, fit_bias=False)
            node.partial_fit(states, task.targets[:Tr])
        t_res = median_time(lambda: res.run(np.zeros((Tr, 2))), repeats) / Tr
        t_rls = median_time(rls_steps, repeats) / Tr
        row["reservoirpy_us"] = (t_res + t_rls) * 1e6
    results.append(row)


def bench_batch(N, B, repeats, T, results):
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((B, T, 1))
    X0 = rng.standard_normal((B, N))
    batched = median_time(lambda: rs.simulate(net, U, X0, mode="closed", record=("z",)),
                          repeats) / (T * B)
    one_by_one = median_time(lambda: [rs.simulate(net, U[i], X0[i], mode="closed",
                                                  record=("z",)) for i in range(4)],
                             repeats) / (T * 4)
    results.append({"work": f"batched run B = {B}, per trial-step", "N": N,
                    "ours_us": batched * 1e6, "single_trial_loop_us": one_by_one * 1e6,
                    "bound_us": 2 * N * N / FLOPS * 1e6})


def bench_ridge(N, repeats, T, results, reg=1e-3):
    """Readout fit from T recorded states at a penalty ``reg`` above the rounding level of
    the states (both libraries then solve the same well-posed system; ours by a streaming
    QR of the states), and ours at 1e-6, which for large N is at that level and takes the
    SVD path (the minimum-norm readout over the numerical rank; reservoirpy has no such
    path: it solves the near-singular normal equations)."""
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
    task = rs.tasks.sine_sum(duration=T * 0.1, dt=0.1)
    states = rs.simulate(net, task.inputs, mode="teacher", targets=task.targets,
                         record=("r",)).r
    fit = median_time(lambda: rs.ridge_regression(states, task.targets, reg), repeats)
    tiny = median_time(lambda: rs.ridge_regression(states, task.targets, 1e-6), repeats)
    full = median_time(lambda: rs.fit_ridge(net, task.inputs, task.targets, reg=reg),
                       repeats)
    row = {"work": f"ridge fit on T = {T} states, reg = {reg:g}", "N": N,
           "ours_ms": fit * 1e3, "ours_reg_1e-6_ms": tiny * 1e3,
           "fit_ridge_incl_run_ms": full * 1e3}
    if HAVE_RPY:
        row["reservoirpy_ms"] = median_time(
            lambda: Ridge(ridge=reg, fit_bias=False).fit(states, task.targets), repeats) * 1e3
    results.append(row)


def bench_fixed_points(N, repeats, results):
    """All fixed points and the stability report (1000 initial states) of a network trained
    by least squares on a stationary target (bistable: three fixed points)."""
    net = rs.random_network(N, 0.5, 1, 1, dt=0.1, input_dist="normal", input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=1)
    task = rs.tasks.stationary(target=2.0, duration=100.0, dt=0.1, washout=60.0)
    net = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10).network
    find = median_time(lambda: rs.find_fixed_points(net, u=[1.0], compute_eigenvalues=False), repeats)
    fps = rs.find_fixed_points(net, u=[1.0])
    full = median_time(lambda: rs.find_fixed_points(net, u=[1.0]), max(1, repeats // 2))
    report = median_time(lambda: rs.stability_report(net, u=[1.0], target=2.0, n_init=1000,
                                                     fixed_points=fps, rng=0), 1)
    results.append({"work": f"fixed points ({len(fps)} found)", "N": N,
                    "find_s": find, "find_with_spectra_s": full,
                    "report_1000_inits_s": report})


def bench_bptt(N, alpha, repeats, results, n_batches=20):
    """One epoch of the XOR protocol (15,000 trials of 200 steps, B = 64, Adam), estimated
    from ``n_batches`` mini-batches (an epoch has 235) of ``rs.bptt`` itself (Adam, the
    network rebuilt after every update, the shuffling), in float64 and in float32."""
    task = rs.tasks.xor(64 * n_batches, noise_std=0.1, rng=0)
    net = rs.random_network(N, 1.0, 2, 1, tau=1.0 / alpha, dt=task.dt, rng=0)  # dt/tau = alpha
    net = net.with_readout(np.random.default_rng(1).uniform(-0.3, 0.3, (1, N)))
    row = {"work": f"BPTT epoch, XOR protocol, dt/tau = {alpha}", "N": N}
    for dtype in ("float64", "float32"):
        def run():
            rs.bptt(net, task, epochs=1, batch_size=64, lr=1e-4, dtype=dtype, rng=0)
        row[f"epoch_s_{dtype}"] = median_time(run, repeats) * (15000 / 64) / n_batches
    results.append(row)


def bench_torch_subprocess(N, alpha, results, n_batches=20):
    """Run :func:`bench_torch` in a fresh process: after Numba's OpenMP threads have run in
    a process, torch's own threads there were measured 15-25x slower (both pools spin on
    the two cores), which would make the comparison meaningless."""
    import subprocess
    out = subprocess.run([sys.executable, __file__, "--torch-child", str(N), str(alpha),
                          str(n_batches)], capture_output=True, text=True, timeout=3000,
                         env={**os.environ, "OMP_NUM_THREADS": "2"})
    if out.returncode == 0 and out.stdout.strip():
        results.extend(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_torch(N, alpha, repeats, results, n_batches=20):
    """The same XOR epoch in PyTorch on 2 threads: (a) ``torch.nn.RNN`` (tanh, alpha = 1
    only) + Adam; (b) the leaky rate network as a loop of torch operations + Adam; each in
    float64 and float32 (torch's default)."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(2)
    torch.manual_seed(0)
    task = rs.tasks.xor(64 * n_batches, noise_std=0.1, rng=0)
    row = {"work": f"BPTT epoch in torch (2 threads), dt/tau = {alpha}", "N": N}
    for name, dt in (("float64", torch.float64), ("float32", torch.float32)):
        U = torch.tensor(task.inputs, dtype=dt)
        Y = torch.tensor(task.targets, dtype=dt)

        def epoch_loop():
            J = torch.randn(N, N, dtype=dt) / N**0.5
            W_in = torch.randn(N, 2, dtype=dt) * 0.3
            b = torch.zeros(N, dtype=dt)
            W_out = torch.randn(1, N, dtype=dt) * 0.3
            ps = [J.requires_grad_(), W_in.requires_grad_(), b.requires_grad_(),
                  W_out.requires_grad_()]
            opt = torch.optim.Adam(ps, lr=1e-4)
            for i in range(n_batches):
                u, y = U[64 * i:64 * (i + 1)], Y[64 * i:64 * (i + 1)]
                x = torch.zeros(u.shape[0], N, dtype=dt)
                loss = 0.0
                for t in range(u.shape[1]):
                    r = torch.tanh(x)
                    loss = loss + ((r @ W_out.T - y[:, t]) ** 2).sum()
                    x = (1 - alpha) * x + alpha * (r @ J.T + u[:, t] @ W_in.T + b)
                opt.zero_grad()
                (loss / y.numel()).backward()
                opt.step()

        def epoch_rnn():
            rnn = torch.nn.RNN(2, N, batch_first=True, dtype=dt)
            lin = torch.nn.Linear(N, 1, dtype=dt)
            opt = torch.optim.Adam(list(rnn.parameters()) + list(lin.parameters()), lr=1e-4)
            for i in range(n_batches):
                u, y = U[64 * i:64 * (i + 1)], Y[64 * i:64 * (i + 1)]
                out, _ = rnn(u)
                loss = ((lin(out) - y) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()

        scale = (15000 / 64) / n_batches
        row[f"torch_loop_epoch_s_{name}"] = median_time(epoch_loop, repeats) * scale
        if alpha == 1.0:
            row[f"torch_nn_rnn_epoch_s_{name}"] = median_time(epoch_rnn, repeats) * scale
    results.append(row)


def bench_sweep(results, n=200):
    """200 independent ridge trainings (N = 500): a plain loop against rs.sweep in process
    and with 2 processes."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    from sweep_funcs import ridge_training_500
    seeds = np.random.SeedSequence(0).spawn(n)
    ridge_training_500(0, np.random.default_rng(0))  # compile / warm caches
    t0 = time.perf_counter()
    for k in range(n):
        ridge_training_500(k, np.random.default_rng(seeds[k]))
    loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    rs.sweep(ridge_training_500, {"seed_index": [0]}, n_realizations=n, rng=0)
    serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    rs.sweep(ridge_training_500, {"seed_index": [0]}, n_realizations=n, rng=0,
             executor="processes")
    procs = time.perf_counter() - t0
    results.append({"work": f"sweep of {n} ridge trainings", "N": 500, "loop_s": loop,
                    "sweep_1_process_s": serial, "sweep_2_processes_s": procs})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="fewer sizes, shorter runs")
    p.add_argument("--json", help="write the results to this file")
    p.add_argument("--torch-child", nargs=3, help=argparse.SUPPRESS)
    p.add_argument("--only", choices=("bptt", "ridge"), help="run only this group")
    args = p.parse_args(argv)
    if args.torch_child:
        res = []
        bench_torch(int(args.torch_child[0]), float(args.torch_child[1]), 1, res,
                    n_batches=int(args.torch_child[2]))
        print(json.dumps(res))
        return 0
    R = args.repeats
    results = []
    if args.only == "bptt":
        for N in (50, 200):
            for alpha in (1.0, 0.1):
                bench_bptt(N, alpha, R, results)
                bench_torch_subprocess(N, alpha, results)
        _report(results, args.json)
        return 0
    sizes = (500, 1000) if args.quick else (500, 1000, 2000)
    if args.only == "ridge":
        for N in sizes:
            bench_ridge(N, R, 5000, results)
        _report(results, args.json)
        return 0
    for N in sizes:
        bench_single(N, 1.0, R, 2000 if N <= 1000 else 500, results)
    bench_single(2000, 0.1, R, 2000, results)
    for N in (500, 1000):
        bench_closed(N, R, 2000, results)
    for N in sizes:
        bench_force(N, R, 1000 if N <= 1000 else 300, results)
    bench_batch(1000, 64, R, 100, results)
    for N in sizes:
        bench_ridge(N, R, 5000, results)
    for N in (250, 500, 1000):
        bench_fixed_points(N, R, results)
    for N in (50, 200):
        for alpha in (1.0, 0.1):
            bench_bptt(N, alpha, max(1, R // 2), results)
            bench_torch_subprocess(N, alpha, results)
    bench_sweep(results)
    _report(results, args.json)
    return 0


def _fmt(k, v):
    return f"{k}={v:7.2f}" if "_s" in k and not k.endswith("_us") else f"{k}={v:9.1f}"


def _report(results, json_path=None):
    print(f"reservoir {rs.__version__}; reservoirpy: {'yes' if HAVE_RPY else 'not installed'}")
    for row in results:
        parts = [f"{row['work']:<48s} N={row['N']:<5d}"]
        parts += [_fmt(k, v) for k, v in row.items() if k not in ("work", "N")]
        if "bound_us" in row:
            parts.append(f"ours/bound={row['ours_us'] / row['bound_us']:.2f}")
        if "reservoirpy_us" in row:
            parts.append(f"speedup vs rpy={row['reservoirpy_us'] / row['ours_us']:.1f}x")
        if "reservoirpy_ms" in row:
            parts.append(f"speedup vs rpy={row['reservoirpy_ms'] / row['ours_ms']:.1f}x")
        if any(k.startswith("torch_") for k in row):
            ours = [r for r in results if r.get("N") == row["N"] and "epoch_s_float64" in r
                    and r["work"].endswith(row["work"].split("= ")[-1])]
            for dt in ("float64", "float32") if ours else ():
                for kind in ("loop", "nn_rnn"):
                    key = f"torch_{kind}_epoch_s_{dt}"
                    if key in row:
                        parts.append(f"{kind} {dt} torch/ours="
                                     f"{row[key] / ours[0]['epoch_s_' + dt]:.2f}x")
        if "single_trial_loop_us" in row:
            parts.append(f"batch gain={row['single_trial_loop_us'] / row['ours_us']:.1f}x")
        print("  ".join(parts))
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
