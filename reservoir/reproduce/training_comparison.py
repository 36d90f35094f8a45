"""Readout-only training (ridge, FORCE) against BPTT on the same tasks: figures and JSON.

    python scripts/compare_training.py [--out DIR] [--quick] [--tasks xor and_ or_]
                                       [--inits orthogonal normal] [--n-networks K]
                                       [--dtype float32]
    reservoir.reproduce.training_comparison.run(out, quick=False, tasks=..., inits=...)

Progress, the table of each task and the summary line go to the module's logger
(``logging``, level INFO), never to stdout; the script shows them on stderr.

For each task: an ensemble per method (``rs.compare_training``), then
``compare_<task>.png/.pdf`` (eigenvalues of the effective connectivity of one network per
method with the unit circle; success, robustness to input noise and to pruning per method)
and ``compare_training.json`` (every per-network number and the settings).
Every method is run from each initial connectivity in ``--inits`` (default: orthogonal and
random normal, the contrast of Jarne's spectra).
``--quick``: 1 ms -> 2 ms steps, N = 40, 3 networks per method, 600 training trials.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np

import reservoir as rs
from reservoir._checks import as_choice, as_int
from reservoir._progress import progress_bar
from reservoir.reproduce import _figures

__all__ = ["run", "main", "build_parser"]

logger = logging.getLogger(__name__)

#: Output folder of the command line when ``--out`` is not given.
DEFAULT_OUT = "out/compare"
#: Jarne's task generators in :mod:`reservoir.tasks` that ``--tasks`` may name; the
#: comparison runs those that :func:`reservoir.tasks.response_accuracy` scores (checked
#: before any training).
TASKS = ("and_", "or_", "xor", "not_", "flip_flop", "flip_flop_3bit", "time_reproduction",
         "oscillation")
DEFAULT_TASKS = ("xor", "and_", "or_")
#: Initial connectivities (``--inits``), as :func:`reservoir.compare_training` names them.
INITS = ("orthogonal", "normal")
DEFAULT_INITS = ("orthogonal", "normal")
DTYPES = ("float32", "float64")


def figure(cmp, name, out):
    methods = list(cmp.summaries)
    kinds = list(dict.fromkeys(s.method for s in cmp.summaries.values()))
    inits = list(dict.fromkeys(s.init for s in cmp.summaries.values()))
    fig = _figures.figure(figsize=(3.6 * (len(kinds) + 1.3), 3.6 * len(inits)),
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
    _figures.save_figure(fig, out, f"compare_{name}", dpi=120)


def _names(value, name, choices):
    """``value`` as a non-empty tuple of distinct names from ``choices``."""
    if isinstance(value, str):
        value = (value,)
    try:
        value = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of names from {choices}, got "
                        f"{type(value).__name__}") from None
    if not value:
        raise ValueError(f"{name} must name at least one of {choices}, got none")
    for v in value:
        as_choice(v, name, choices)
    if len(set(value)) < len(value):
        raise ValueError(f"{name} must not repeat a name, got {value}")
    return value


def _check(out, quick, tasks, inits, n_networks, dtype):
    """Validated arguments of :func:`run` (raises TypeError/ValueError naming the argument;
    a task is built on a few trials at the run's step and scored, so that a task the run
    cannot represent or score is a command-line error, not a failed run)."""
    checked = (_figures.check_out(out), _figures.check_quick(quick),
               _names(tasks, "tasks", TASKS), _names(inits, "inits", INITS),
               None if n_networks is None else as_int(n_networks, "n_networks", minimum=1),
               as_choice(dtype, "dtype", DTYPES))
    dt = 2.0 if checked[1] else 1.0
    for name in checked[2]:
        test = getattr(rs.tasks, name)(4, noise_std=0.1, dt=dt, rng=1)
        try:                      # the comparison's accuracy measure must accept the task
            rs.tasks.response_accuracy(test, test.targets)
        except ValueError as exc:
            raise ValueError(f"tasks: {name!r} cannot be scored by the comparison "
                             f"({exc})") from None
    return checked


def run(out, quick: bool = False, *, tasks=DEFAULT_TASKS, inits=DEFAULT_INITS,
        n_networks: int | None = None, dtype: str = "float32") -> dict:
    """Readout-only training (ridge, FORCE) against BPTT on Jarne's tasks: figures and JSON.

    For each task, :func:`reservoir.compare_training` trains an ensemble per method and
    initial connectivity; writes ``compare_<task>.png/.pdf`` and ``compare_training.json``
    into ``out`` and logs each task's table at level INFO (with a ``tqdm`` progress bar
    over the tasks on standard error when it is a terminal).

    Parameters
    ----------
    out : str or os.PathLike
        Output folder; created with its parents if missing.
    quick : bool
        The small run (2 ms steps, N = 40, 3 networks per method, 600 training trials,
        25 epochs) instead of the full one (1 ms steps, N = 50, 20 networks, 4000 trials,
        30 epochs).
    tasks : sequence of str
        Task generators of :mod:`reservoir.tasks` (names from :data:`TASKS`, distinct);
        each must be a task that :func:`reservoir.tasks.response_accuracy` scores and that
        the run's step (2 ms quick, 1 ms full) represents (checked before any training).
    inits : sequence of {"orthogonal", "normal"}
        Initial connectivities, each run with every method.
    n_networks : int, optional
        Networks per method and initialisation (>= 1; default 3 quick, 20 full).
    dtype : {"float32", "float64"}
        Precision of the BPTT passes (float32, as in Keras).

    Returns
    -------
    dict
        The content written to ``compare_training.json``: per task, the settings and, per
        method, every per-network number; and the total seconds.

    Raises
    ------
    TypeError, ValueError
        If an argument is invalid, or a task cannot be built at the run's step or scored
        (before any training or writing).
    ImportError
        If matplotlib cannot be imported (before anything is computed).
    """
    out, quick, tasks, inits, n_networks, dtype = _check(out, quick, tasks, inits,
                                                         n_networks, dtype)
    _figures.require_matplotlib()
    if quick:
        dt, N, n_net, n_train, bkw = 2.0, 40, 3, 600, {"epochs": 25, "lr": 2e-3,
                                                       "batch_size": 32}
    else:
        dt, N, n_net, n_train, bkw = 1.0, 50, 20, 4000, {"epochs": 30, "lr": 1e-3}
    n_net = n_networks or n_net
    bkw["dtype"] = dtype
    t0 = time.perf_counter()
    data = {}
    for name in tasks:
        gen = getattr(rs.tasks, name)
        test = gen(200, noise_std=0.1, dt=dt, rng=1)
        data[name] = (gen(n_train, noise_std=0.1, dt=dt, rng=0), test)
    os.makedirs(out, exist_ok=True)
    result = {}
    logger.info("training comparison: %d task(s), %d network(s) per method and "
                "initialisation, N=%d", len(data), n_net, N)
    bar = progress_bar(len(data), "training comparison", unit="task")   # on a terminal
    for name, (task, test) in data.items():
        bar.set_postfix_str(name, refresh=False)
        cmp = rs.compare_training(task, test, n_networks=n_net, N=N, bptt_kwargs=bkw,
                                  inits=inits, rng=0)
        figure(cmp, name, out)
        logger.info("%s\n%s\n", name, cmp.table())
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
        bar.update(1)
    bar.close()
    result["seconds"] = time.perf_counter() - t0
    _figures.write_json(result, out, "compare_training.json")
    logger.info("%.0f s; outputs in %s", result["seconds"], out)
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of :func:`main`.

    Returns
    -------
    argparse.ArgumentParser
        ``--out``, ``--quick``, ``--tasks``, ``--inits``, ``--n-networks``, ``--dtype``
        (values are checked by :func:`main` as :func:`run` checks them).
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                    help=f"output folder for the figures (PNG and PDF) and the JSON file, "
                         f"created with its parents if missing (default {DEFAULT_OUT})")
    ap.add_argument("--quick", action="store_true",
                    help="the quick run: 2 ms steps, N = 40, 3 networks per method, 600 "
                         "training trials, 25 epochs (default: the full run, 1 ms steps, "
                         "N = 50, 20 networks, 4000 trials, 30 epochs)")
    ap.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS), metavar="TASK",
                    help=f"one or more distinct task generators of reservoir.tasks, from "
                         f"{', '.join(TASKS)}; each must be one the comparison can score "
                         f"at the run's step (checked before training) (default "
                         f"{' '.join(DEFAULT_TASKS)})")
    ap.add_argument("--inits", nargs="+", default=list(DEFAULT_INITS), metavar="INIT",
                    help=f"initial connectivities, one or both of {', '.join(INITS)}; "
                         f"every method is run from each (default {' '.join(DEFAULT_INITS)})")
    ap.add_argument("--n-networks", type=int, metavar="K",
                    help="networks per method and initial connectivity, an integer >= 1 "
                         "(default 3 with --quick, 20 otherwise)")
    ap.add_argument("--dtype", default="float32", choices=DTYPES,
                    help="precision of the BPTT passes (default float32, as in Keras)")
    return ap


def main(argv=None) -> None:
    """The command line (see :func:`build_parser`), then :func:`run`.

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
    ap = build_parser()
    out, quick, tasks, inits, n_networks, dtype = _figures.parse_or_exit(
        ap, lambda a: _check(a.out, a.quick, a.tasks, a.inits, a.n_networks, a.dtype), argv)
    run(out, quick, tasks=tasks, inits=inits, n_networks=n_networks, dtype=dtype)
