"""A 3-bit flip-flop trained by BPTT (Sussillo & Barak 2013): its 8 memories, the 12 saddles
between neighbouring memories and where their unstable manifolds lead (issue 12).

The recipe lives here, beside the checks the network it produces must pass:
``scripts/train_flip_flop_3bit.py`` is a thin wrapper that runs :func:`train_flip_flop` and
writes the shipped fixture ``tests/data/flip_flop_3bit.npz``; the default suite checks the
fixture, the slow suite retrains from scratch and checks the result the same way.

Every verdict of the package is checked against a plain-NumPy recomputation: the vector
field ``F(x) = -x + (J + W_fb W_out) tanh(x) + b`` (``u = 0``), the multipliers (eigenvalues
of the Euler map's Jacobian ``(1 - alpha) I + alpha (J + W_fb W_out) D``) and, for the
saddle connections, an Euler iteration written out here.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import reservoir as rs
from reservoir.analysis import saddle_connections
from reservoir.tasks import Task

DATA = Path(__file__).resolve().parent / "data" / "flip_flop_3bit.npz"

#: The recipe's settings (recorded in the fixture's metadata).
RECIPE = dict(N=32, seed=0, n_trials=1024, n_steps=200, pulse_prob=0.04, lag=1,
              input_noise=0.02, epochs=400, batch_size=64, lr=3e-3, decay=1e-4)

#: The 8 memories: every sign pattern of the 3 outputs.
CORNERS = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))


# --------------------------------------------------------------------------- the recipe
def flip_flop_task(n_trials: int, *, n_steps: int = 200, pulse_prob: float = 0.04,
                   lag: int = 1, input_noise: float = 0.0, rng=None) -> Task:
    """The classic 3-bit flip-flop of Sussillo & Barak (2013) on the map ``dt = tau = 1``.

    On each of 3 lines, one-step pulses of random sign arrive with probability
    ``pulse_prob`` per step (and at step 0 on every line, so every output is defined from
    the start); output ``k`` holds the sign of the last pulse on line ``k``, from
    ``lag + 1`` steps after it (``u[t]`` first acts on ``z[t + 1]``). The ``lag`` steps
    after any pulse and the first ``lag + 1`` steps are masked out of the loss.
    """
    gen = np.random.default_rng(rng)
    B, T = n_trials, n_steps
    pulses = gen.random((B, T, 3)) < pulse_prob
    pulses[:, T - lag - 1:, :] = False
    pulses[:, 0, :] = True
    signs = gen.choice([-1.0, 1.0], size=(B, T, 3))
    U = np.where(pulses, signs, 0.0)
    # index of the last pulse at or before each step (forward fill), shifted by lag + 1
    idx = np.where(pulses, np.arange(T)[None, :, None], 0)
    idx = np.maximum.accumulate(idx, axis=1)
    last = np.take_along_axis(signs, idx, axis=1)
    Y = np.zeros((B, T, 3))
    Y[:, lag + 1:] = last[:, :T - lag - 1]
    mask = np.ones((B, T))
    anyp = pulses.any(axis=2)
    for d in range(1, lag + 1):
        mask[:, d:][anyp[:, :-d]] = 0.0
    mask[:, :lag + 1] = 0.0
    if input_noise > 0:
        U = U + input_noise * gen.standard_normal(U.shape)
    return Task(inputs=U, targets=Y, mask=mask, dt=1.0, name="flip_flop_3bit_sb2013",
                info={"pulse_prob": pulse_prob, "lag": lag, "input_noise": input_noise})


def train_flip_flop(**overrides):
    """Train the flip-flop by BPTT (float32, one thread, about 25 s on 2 cores).

    Jarne's initialisation (:func:`reservoir.jarne_network`: orthogonal ``J``, a map with
    ``dt = tau = 1``, no bias, no feedback), tanh; ``J``, ``W_in`` and ``W_out`` trained
    with Adam. Without a bias the network is odd (``F(-x) = -F(x)`` at ``u = 0``), so the
    fixed points come in pairs ``+-x``.

    Returns ``(network, BPTTResult)``.
    """
    p = {**RECIPE, **overrides}
    task = flip_flop_task(p["n_trials"], n_steps=p["n_steps"], pulse_prob=p["pulse_prob"],
                          lag=p["lag"], input_noise=p["input_noise"], rng=p["seed"])
    net = rs.jarne_network(p["N"], 3, 3, rng=p["seed"])
    res = rs.bptt(net, task, epochs=p["epochs"], batch_size=p["batch_size"], lr=p["lr"],
                  decay=p["decay"], train=("J", "W_in", "W_out"), dtype=np.float32,
                  threads=1, rng=p["seed"])
    return res.network, res


# ------------------------------------------------------------- the fixed-point analysis
def trajectory_states(net, n_trials: int = 16, n_states: int = 200, rng=1):
    """States of the network on task trials at steps without input (``u = 0`` between
    pulses), a random subset of ``n_states``."""
    task = flip_flop_task(n_trials, rng=rng)
    tr = rs.simulate(net, task.inputs, mode="closed", record=("x",))
    quiet = np.all(task.inputs == 0.0, axis=2)
    X = tr.x[quiet]
    gen = np.random.default_rng(rng)
    return X[gen.choice(len(X), size=min(n_states, len(X)), replace=False)]


def find_points(net, states, **kwargs):
    """``find_fixed_points(net, 0, method="slow")`` from the seed ``states``."""
    opts = dict(method="slow", tol=1e-10, max_iter=200)
    opts.update(kwargs)
    return rs.find_fixed_points(net, np.zeros(net.n_inputs), initial_states=states, **opts)


def analyse(net):
    """Two passes: seeds from trajectories find the memories; the midpoints of every pair
    of memories seed the saddles between them (trajectories rarely pass near saddles)."""
    states = trajectory_states(net)
    first = find_points(net, states)
    memories = first.x[first.stable]
    mids = [(a + b) / 2 for a, b in itertools.combinations(memories, 2)]
    seeds = np.vstack([states] + ([np.array(mids)] if mids else []))
    return find_points(net, seeds)


def numpy_F(net, X):
    """Plain-NumPy vector field at ``u = 0`` for each row of ``X``."""
    W = np.asarray(net.dense_J()) + net.W_fb @ net.W_out
    return -X + np.tanh(X) @ W.T + net.b


def numpy_multipliers(net, x):
    """Plain-NumPy eigenvalues of the Euler map's Jacobian at ``x``."""
    W = np.asarray(net.dense_J()) + net.W_fb @ net.W_out
    A = (1 - net.alpha) * np.eye(net.N) + net.alpha * W * (1 - np.tanh(x) ** 2)[None, :]
    return np.linalg.eigvals(A)


def numpy_follow(net, x, e, eps=1e-3, n_steps=400):
    """Plain-NumPy Euler iteration from ``x +- eps e``; returns the two final states."""
    W = np.asarray(net.dense_J()) + net.W_fb @ net.W_out
    a = net.alpha
    out = []
    for s in (1.0, -1.0):
        y = x + s * eps * e
        for _ in range(n_steps):
            y = (1 - a) * y + a * (W @ np.tanh(y) + net.b)
        out.append(y)
    return out


def check_flip_flop(net, fps=None):
    """Assert the fixed-point structure of a trained 3-bit flip-flop; return a summary.

    8 stable fixed points (|F| < 1e-10 recomputed), one at each corner of the readout cube
    (readouts within 0.05 of +-1); for each of the 12 pairs of corners differing in one bit
    a fixed point with exactly one unstable multiplier whose unstable manifold ends at
    those two memories (by :func:`saddle_connections` and by a plain-NumPy iteration); the
    package's multipliers equal the recomputed ones.
    """
    t0 = time.perf_counter()
    fps = analyse(net) if fps is None else fps
    t_find = time.perf_counter() - t0
    fixed = fps.is_fixed
    # residuals, recomputed
    res = np.max(np.abs(numpy_F(net, fps.x[fixed])), axis=1)
    assert np.all(res < 1e-10), res.max()
    # multipliers, recomputed: the same multiset (optimal matching), to 1e-9
    n_unst_np = np.zeros(len(fps), int)
    for p in range(len(fps)):
        m = numpy_multipliers(net, fps.x[p])
        cost = np.abs(m[:, None] - fps.multipliers[p][None, :])
        r, c = linear_sum_assignment(cost)
        assert cost[r, c].max() < 1e-9, (p, cost[r, c].max())
        n_unst_np[p] = np.sum(np.abs(m) > 1 + 1e-6)
        assert np.all(np.abs(np.abs(m) - 1) > 1e-6)          # no multiplier near the circle
    assert np.array_equal(n_unst_np[fixed], fps.n_unstable[fixed])
    # 8 stable points, one per corner
    stable = np.flatnonzero(fps.stable)
    assert stable.size == 8, f"{stable.size} stable points: {np.round(fps.z[stable], 2)}"
    assert np.array_equal(stable, np.flatnonzero(fixed & (n_unst_np == 0)))
    d = np.max(np.abs(fps.z[stable][:, None, :] - CORNERS[None, :, :]), axis=2)
    corner_of = np.argmin(d, axis=1)
    assert np.all(d[np.arange(8), corner_of] < 0.05), d.min(axis=1)
    assert sorted(corner_of) == list(range(8))
    row_of_corner = {int(c): int(r) for r, c in zip(stable, corner_of)}
    # saddles between neighbouring memories
    sc = saddle_connections(net, fps)
    assert sc.success, sc.messages
    pairs = {}
    for i, p in enumerate(sc.saddle_index):
        a, b = sorted(int(k) for k in sc.ends[i])
        pairs.setdefault((a, b), []).append(i)
        # the plain-NumPy iteration from the same start ends at the same memories
        W_end = numpy_follow(net, fps.x[p], sc.unstable_vector[i])
        for y, k in zip(W_end, sc.ends[i]):
            assert np.max(np.abs(y - fps.x[k])) < 1e-6
    neighbours = [(c1, c2) for c1, c2 in itertools.combinations(range(8), 2)
                  if np.sum(CORNERS[c1] != CORNERS[c2]) == 1]
    assert len(neighbours) == 12
    for c1, c2 in neighbours:
        key = tuple(sorted((row_of_corner[c1], row_of_corner[c2])))
        assert key in pairs, f"no saddle connects corners {CORNERS[c1]} and {CORNERS[c2]}"
    return {"points": len(fps), "stable": int(stable.size),
            "index-one saddles": int(len(sc)),
            "neighbour pairs connected": sum(
                tuple(sorted((row_of_corner[a], row_of_corner[b]))) in pairs
                for a, b in neighbours),
            "n_unstable counts": {int(k): int(v) for k, v in zip(
                *np.unique(n_unst_np[fixed], return_counts=True))},
            "slow points": int(np.sum(~fixed)), "find time (s)": round(t_find, 2),
            "max residual": float(res.max())}


# ------------------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def net():
    return rs.load(DATA)


def test_fixture_is_small_and_a_map(net):
    assert DATA.stat().st_size < 64_000
    assert net.N == RECIPE["N"] and net.alpha == 1.0 and net.phi == "tanh"
    assert net.meta["_saved"]["metadata"]["recipe"]["seed"] == RECIPE["seed"]


def test_fixture_solves_the_task(net):
    task = flip_flop_task(32, rng=7)
    z = rs.simulate(net, task.inputs, mode="closed", record=("z",)).z
    on = task.mask > 0
    assert np.all(np.sign(z[on]) == task.targets[on])
    assert np.mean((z[on] - task.targets[on]) ** 2) < 1e-2


def test_flip_flop_fixed_points_and_saddle_connections(net):
    summary = check_flip_flop(net)
    assert summary["neighbour pairs connected"] == 12


@pytest.mark.slow
def test_recipe_reproduces_a_clean_flip_flop():
    trained, res = train_flip_flop()
    assert res.success and res.loss_history[-1] < 1e-3
    summary = check_flip_flop(trained)
    assert summary["neighbour pairs connected"] == 12
