"""Benchmark of the package against the strongest CPU peers: JAX, SciPy and reservoirpy.

    python -m reservoir.benchmark [--quick] [--only dense,force] [--mode one-core|two-core|both]
                                  [--blas-override both|set|unset] [--repeats 3] [--json FILE]

(also ``reservoir benchmark ...`` and ``python scripts/benchmark.py ...``).

Every ratio is ``ours / peer`` of the same computation timed in one process, the two
implementations alternating (ours, peer, ours, peer, ...), the median over ``--repeats``
rounds: a ratio below 1 means we are faster. Before a ratio is printed the outputs of the
two timed runs are compared; when they disagree beyond the stated tolerance the row shows
``DISAGREE`` and no ratio.

Peers (optional: a missing one prints a dash and a note):

* JAX (``jax.lax.scan`` under ``jax.jit``; float64 through ``jax_enable_x64``, which
  :func:`main` sets, and float32): the dense single-trial step, the batched step, and the
  BPTT epoch of Jarne's XOR protocol (``jax.value_and_grad`` and the Adam step of
  :func:`reservoir.bptt`, the same shuffling of the same trials).
* SciPy: a ``scipy.sparse`` CSR loop for the sparse open-loop step, and the FORCE loop on
  SciPy's BLAS (``dgemv`` for ``J r``, ``dsymv`` for ``P r``, ``dsyr`` for the rank-1
  downdate of one triangle of ``P``).
* reservoirpy (its leaky equation equals ours only at ``alpha = 1``: that row uses
  ``dt = tau``).

Modes: ``one-core`` runs the measurements in a child process pinned to one core
(``os.sched_setaffinity``) with ``NUMBA_NUM_THREADS = OMP_NUM_THREADS =
OPENBLAS_NUM_THREADS = 1`` (set before NumPy and Numba load) and XLA on one thread, timed
by ``time.process_time``; ``two-core`` runs them in a child with the environment as it is,
timed by wall clock. ``--blas-override`` also runs the GEMM-bound sections (batched step,
BPTT) in a child with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (an override
that slows OpenBLAS's dgemm on some CPUs while XLA is unaffected) and prints both columns.

Each row carries a roofline: the bytes (or flops) of one step against the bandwidth of a
NumPy copy/triad over arrays of the row's working-set size, or the dgemm rate of the row's
product shape, both measured in the same child.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

logger = logging.getLogger(__name__)

#: Sections, in the order they run.
SECTIONS = ("sparse", "dense", "batch", "bptt", "force", "phase_diagram", "fixed_points",
            "stability", "ridge_memory")
#: The GEMM-bound sections, run once more with the OpenBLAS override unset.
GEMM_SECTIONS = ("batch", "bptt")
#: The environment variables of the OpenBLAS override.
OVERRIDE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: Thread settings recorded for each column.
THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS", "XLA_FLAGS", "NUMBA_THREADING_LAYER")
#: The variables of the single-core mode.
ONE_CORE_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false "
                             "intra_op_parallelism_threads=1"}

#: Agreement tolerances (relative to the largest magnitude of the reference output) under
#: which a ratio is printed. float64 runs agree to rounding amplified by the dynamics over
#: the run; float32 runs to single-precision rounding.
TOL_F64 = 1e-6
TOL_F32 = 1e-3

#: The grids: sizes per section. ``tiny`` is for the tests (seconds), ``quick`` a subset
#: of a few minutes, ``full`` the grid of the performance issue.
GRIDS = {
    "tiny": {"sparse": (200,), "sparse_batch": ((200, 4),), "sparse_force": (60,),
             "dense": (50,), "batch": ((50, 4),), "bptt": (10,),
             "bptt_batches": 1, "force": (60,), "phase_diagram": 5, "fixed_points": 60,
             "stability": (60, 20), "ridge_memory": (60, 2000, 1 << 18), "steps": 40},
    "quick": {"sparse": (2000,), "sparse_batch": ((2000, 16),), "sparse_force": (1000,),
              "dense": (250, 1000), "batch": ((250, 16), (500, 64)),
              "bptt": (50,), "bptt_batches": 4, "force": (1000,), "phase_diagram": 100,
              "fixed_points": 500, "stability": (250, 200),
              "ridge_memory": (500, 10000, 1 << 23), "steps": None},
    "full": {"sparse": (1000, 2000, 4000),
             "sparse_batch": tuple((N, B) for N in (1000, 2000, 4000) for B in (16, 64)),
             "sparse_force": (1000, 2000, 4000),
             "dense": (100, 250, 500, 1000, 2000),
             "batch": tuple((N, B) for N in (100, 250, 500, 1000, 2000)
                            for B in (16, 64, 256)),
             "bptt": (50, 100, 200, 400), "bptt_batches": 20,
             "force": (500, 1000, 2000, 4000), "phase_diagram": 100,
             "fixed_points": 2000, "stability": (1000, 1000),
             "ridge_memory": (1000, 20000, 1 << 24), "steps": None},
}

#: Goals of the performance issue for the rows without a peer (seconds, or a ratio).
GOALS = {"phase_diagram": 0.5, "fixed_points": 2.0, "stability": 5.0, "ridge_memory": 1.5}


# --------------------------------------------------------------------------------------
# optional peers
# --------------------------------------------------------------------------------------

def _jax():
    """``(jax, jax.numpy, jax.lax)`` or ``None`` when JAX is not installed."""
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return None
    return jax, jnp, lax


def enable_jax_x64() -> bool:
    """Let JAX compute in float64 (``jax_enable_x64``); ``False`` when JAX is missing.

    Returns
    -------
    bool
        Whether JAX is installed (and now runs float64 arrays in float64).
    """
    mods = _jax()
    if mods is None:
        return False
    mods[0].config.update("jax_enable_x64", True)
    return True


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------
# peer implementations (each computes exactly what our public function computes)
# --------------------------------------------------------------------------------------

def jax_simulate_open(J, W_in, b, W_out, alpha: float, inputs, x0, dtype=np.float64):
    """Open-loop run in JAX, recording the readout: the computation of
    ``reservoir.simulate(net, inputs, x0, mode="open", record=("z",)).z`` (tanh).

    ``x[t+1] = (1 - alpha) x[t] + alpha (J tanh(x[t]) + W_in u[t] + b)``,
    ``z[t] = W_out tanh(x[t])``, one ``lax.scan`` step per time step, compiled by
    ``jax.jit``.

    Parameters
    ----------
    J : ndarray, shape (N, N)
    W_in : ndarray, shape (N, M)
    b : ndarray, shape (N,)
    W_out : ndarray, shape (K, N)
    alpha : float
        ``dt / tau``.
    inputs : ndarray, shape (T, M) or (B, T, M)
    x0 : ndarray, shape (N,) or (B, N)
    dtype : numpy dtype
        float64 (needs :func:`enable_jax_x64`) or float32.

    Returns
    -------
    run : callable
        ``run()`` computes the run and returns the readouts as a JAX array of shape
        (T, K) or (T, B, K) (time-major), ready (``block_until_ready``).
    """
    jax, jnp, lax = _jax()
    dt = jnp.dtype(dtype)
    a = float(alpha)
    args = [jnp.asarray(np.asarray(v), dtype=dt) for v in (J, W_in, b, W_out)]
    U = np.asarray(inputs)
    batched = U.ndim == 3
    Ut = jnp.asarray(U.transpose(1, 0, 2) if batched else U, dtype=dt)
    X0 = jnp.asarray(np.asarray(x0), dtype=dt)
    if batched and X0.ndim == 1:
        X0 = jnp.broadcast_to(X0, (U.shape[0], X0.shape[0]))

    @jax.jit
    def run(J, W_in, b, W_out, Ut, x0):
        def step(x, u):
            r = jnp.tanh(x)
            z = r @ W_out.T
            x = (1 - a) * x + a * (r @ J.T + u @ W_in.T + b)
            return x, z
        _, Z = lax.scan(step, x0, Ut)
        return Z

    def call():
        return run(*args, Ut, X0).block_until_ready()
    return call


def jax_xor_loss(J, W_in, b, W_out, inputs, targets, mask, alpha: float):
    """The BPTT objective of :func:`reservoir.train.loss_and_gradients` (masked MSE, open
    loop, tanh, ``x[0] = 0``, no intercept) and its gradients, by ``jax.value_and_grad``.

    Parameters
    ----------
    J, W_in, b, W_out : array_like
        The parameters (their dtype is the working dtype).
    inputs : array_like, shape (B, T, M)
    targets : array_like, shape (B, T, K)
    mask : array_like, shape (B, T)
    alpha : float

    Returns
    -------
    loss : float
    grads : dict of ndarray
        Keys ``J``, ``W_in``, ``b``, ``W_out``.
    """
    jax, jnp, _ = _jax()
    params = {"J": J, "W_in": W_in, "b": b, "W_out": W_out}
    dt = jnp.asarray(J).dtype
    params = {k: jnp.asarray(v, dtype=dt) for k, v in params.items()}
    loss, g = jax.value_and_grad(_jax_loss_fn(float(alpha)))(
        params, jnp.asarray(inputs, dtype=dt), jnp.asarray(targets, dtype=dt),
        jnp.asarray(mask, dtype=dt))
    return float(loss), {k: np.asarray(v, dtype=np.float64) for k, v in g.items()}


def _jax_loss_fn(a: float):
    _, jnp, lax = _jax()

    def loss_fn(params, U, Y, Mk):
        J, W_in, b, W_out = params["J"], params["W_in"], params["b"], params["W_out"]
        Ut = jnp.swapaxes(U, 0, 1)

        def step(x, u):
            r = jnp.tanh(x)
            z = r @ W_out.T
            return (1 - a) * x + a * (r @ J.T + u @ W_in.T + b), z
        x0 = jnp.zeros((U.shape[0], J.shape[0]), dtype=J.dtype)
        _, Z = lax.scan(step, x0, Ut)                        # (T, B, K)
        Mt = jnp.swapaxes(Mk, 0, 1)[:, :, None]
        diff = Z - jnp.swapaxes(Y, 0, 1)
        return jnp.sum(Mt * diff * diff) / (Y.shape[-1] * jnp.sum(Mk))
    return loss_fn


def jax_bptt_epoch(net, task, *, batch_size: int = 64, lr: float = 1e-4,
                   decay: float = 1e-4, dtype=np.float64, rng=0):
    """One epoch of :func:`reservoir.bptt` (open loop, masked MSE, Adam with Keras' decay,
    ``J``, ``W_in``, ``b``, ``W_out`` trained, the trials shuffled by
    ``default_rng(rng).permutation``) in JAX: ``jax.value_and_grad`` of a ``lax.scan``
    forward pass and the Adam step, compiled together by ``jax.jit``.

    Parameters
    ----------
    net : Network
        Dense tanh network without readout intercept.
    task : Task
        Batched task.
    batch_size : int
    lr, decay : float
    dtype : numpy dtype
        Working dtype of parameters, passes and Adam (float64 needs
        :func:`enable_jax_x64`).
    rng : int
        Seed of the shuffle (the ``rng`` of :func:`reservoir.bptt`).

    Returns
    -------
    run : callable
        ``run()`` trains one epoch and returns ``(batch_losses, params)`` (NumPy arrays).
    """
    jax, jnp, _ = _jax()
    dt = jnp.dtype(dtype)
    loss_fn = _jax_loss_fn(float(net.alpha))
    vg = jax.value_and_grad(loss_fn)
    b1, b2, eps = 0.9, 0.999, 1e-8

    @jax.jit
    def update(params, m, v, k, U, Y, Mk):
        loss, g = vg(params, U, Y, Mk)
        k = k + 1
        lr_k = lr / (1.0 + decay * (k - 1))
        new_p, new_m, new_v = {}, {}, {}
        for name in params:
            new_m[name] = b1 * m[name] + (1 - b1) * g[name]
            new_v[name] = b2 * v[name] + (1 - b2) * g[name] * g[name]
            m_hat = new_m[name] / (1 - b1 ** k)
            v_hat = new_v[name] / (1 - b2 ** k)
            new_p[name] = params[name] - lr_k * m_hat / (jnp.sqrt(v_hat) + eps)
        return new_p, new_m, new_v, k, loss

    p0 = {"J": np.asarray(net.dense_J()), "W_in": np.asarray(net.W_in),
          "b": np.asarray(net.b), "W_out": np.asarray(net.W_out)}
    U_all = jnp.asarray(task.inputs, dtype=dt)
    Y_all = jnp.asarray(task.targets, dtype=dt)
    M_all = jnp.asarray(np.broadcast_to(task.mask, task.inputs.shape[:2]), dtype=dt)
    n = task.inputs.shape[0]

    def run():
        params = {k: jnp.asarray(v, dtype=dt) for k, v in p0.items()}
        m = {k: jnp.zeros_like(v) for k, v in params.items()}
        v = {k: jnp.zeros_like(x) for k, x in params.items()}
        k = jnp.asarray(0, dtype=dt)
        order = np.random.default_rng(rng).permutation(n)
        losses = []
        for s in range(0, n, batch_size):
            idx = jnp.asarray(order[s:s + batch_size])
            params, m, v, k, loss = update(params, m, v, k, U_all[idx], Y_all[idx],
                                           M_all[idx])
            losses.append(loss)
        jax.block_until_ready(params)
        return (np.array([float(x) for x in losses]),
                {name: np.asarray(x, dtype=np.float64) for name, x in params.items()})
    return run


def scipy_csr_open(J, W_in, b, W_out, alpha: float, inputs, x0):
    """Open-loop run with ``J`` a ``scipy.sparse`` CSR matrix, one sparse product per
    step, recording the readout: the computation of ``reservoir.simulate(net, inputs, x0,
    mode="open", record=("z",)).z`` (tanh).

    Parameters
    ----------
    J : scipy.sparse CSR matrix, shape (N, N)
    W_in : ndarray, shape (N, M)
    b : ndarray, shape (N,)
    W_out : ndarray, shape (K, N)
    alpha : float
    inputs : ndarray, shape (T, M)
    x0 : ndarray, shape (N,)

    Returns
    -------
    ndarray, shape (T, K)
        The readouts ``z[t] = W_out tanh(x[t])``.
    """
    U = np.asarray(inputs)
    drive = alpha * (U @ W_in.T + b)                      # (T, N)
    return _csr_steps(J, W_out, alpha, drive, np.array(x0, dtype=np.float64))


def _csr_steps(J, W_out, alpha: float, drive, x):
    """The time loop of the ``scipy.sparse`` peers: ``r = tanh(x)``, ``z = W_out r``,
    ``x = (1 - alpha) x + alpha J r + drive[t]`` for the states ``x`` (N,) or (N, B)
    (updated in place) and ``drive`` (T, N) or (T, N, B); returns ``z`` (T, K) or
    (T, K, B)."""
    r = np.empty_like(x)
    Z = np.empty((drive.shape[0], W_out.shape[0]) + x.shape[1:])
    keep = 1.0 - alpha
    for t in range(drive.shape[0]):
        np.tanh(x, out=r)
        Z[t] = W_out @ r
        h = J @ r
        h *= alpha
        x *= keep
        x += h
        x += drive[t]
    return Z


def scipy_csr_open_batch(J, W_in, b, W_out, alpha: float, inputs, x0):
    """Batched open-loop run with ``J`` a ``scipy.sparse`` CSR matrix: the computation of
    ``reservoir.simulate(net, inputs, x0, mode="open", record=("z",)).z`` for a batch
    (tanh). The states are kept as (N, B), so that each step is one CSR times dense
    product ``J @ R`` (SciPy's ``csr_matvecs``, which streams ``J`` once for all trials)
    and the elementwise work runs on contiguous arrays.

    Parameters
    ----------
    J : scipy.sparse CSR matrix, shape (N, N)
    W_in : ndarray, shape (N, M)
    b : ndarray, shape (N,)
    W_out : ndarray, shape (K, N)
    alpha : float
    inputs : ndarray, shape (B, T, M)
    x0 : ndarray, shape (B, N)

    Returns
    -------
    ndarray, shape (B, T, K)
        The readouts ``z[b, t] = W_out tanh(x[b, t])``.
    """
    U = np.asarray(inputs)
    drive = alpha * (np.einsum("btm,nm->tnb", U, W_in) + b[None, :, None])  # (T, N, B)
    x = np.array(np.asarray(x0, dtype=np.float64).T, order="C")              # (N, B)
    return _csr_steps(J, W_out, alpha, drive, x).transpose(2, 0, 1)


def scipy_force(J, W_in, W_fb, b, W_out, alpha: float, inputs, targets, x0, reg: float):
    """Closed-loop FORCE with an RLS update every step on SciPy's BLAS: the computation of
    ``reservoir.force(net, inputs, targets, reg=reg, update_every=1, x0=x0).network.W_out``
    for one readout (tanh, no intercept, no forgetting).

    Each step: ``r = tanh(x)``, ``z = w . r``; from step 1 on ``k = P r`` (``dsymv`` on the
    upper triangle), ``c = 1 / (1 + r . k)``, ``w -= c (z - y) k``, ``P -= c k k^T``
    (``dsyr`` on the upper triangle, in place); then ``x += alpha (-x + J r + W_in u + W_fb z
    + b)`` with ``J r`` by ``dgemv`` (a ``scipy.sparse`` ``J``: its CSR product). Every
    vector operation of the loop stays on SciPy's BLAS (NumPy and SciPy wheels bundle
    separate OpenBLAS builds whose thread pools fight when alternated).

    Parameters
    ----------
    J : ndarray or scipy.sparse CSR matrix, shape (N, N)
    W_in : ndarray, shape (N, M)
    W_fb : ndarray, shape (N, 1)
    b : ndarray, shape (N,)
    W_out : ndarray, shape (1, N)
        Initial readout.
    alpha : float
    inputs : ndarray, shape (T, M)
    targets : ndarray, shape (T, 1)
    x0 : ndarray, shape (N,)
    reg : float
        ``P(0) = I / reg``.

    Returns
    -------
    w : ndarray, shape (1, N)
        The trained readout.
    P : ndarray, shape (N, N)
        The final ``P`` (symmetrised from its upper triangle).
    """
    from scipy.linalg import blas
    dgemv, dsymv, dsyr, ddot, daxpy = blas.dgemv, blas.dsymv, blas.dsyr, blas.ddot, blas.daxpy
    import scipy.sparse
    N = J.shape[0]
    sparse = scipy.sparse.issparse(J)
    JT = None if sparse else np.asfortranarray(np.asarray(J).T)   # J r = dgemv(trans=1)
    P = np.asfortranarray(np.eye(N) / reg)
    w = np.array(W_out[0], dtype=np.float64)
    fb = np.array(W_fb[:, 0], dtype=np.float64)
    U = np.asarray(inputs)
    y = np.asarray(targets)[:, 0]
    drive = U @ W_in.T + b
    x = np.array(x0, dtype=np.float64)
    keep = 1.0 - alpha
    for t in range(U.shape[0]):
        r = np.tanh(x)
        z = ddot(w, r)
        if t > 0:
            k = dsymv(1.0, P, r, lower=0)
            c = 1.0 / (1.0 + ddot(r, k))
            w = daxpy(k, w, a=-c * (z - y[t]))
            P = dsyr(-c, k, a=P, lower=0, overwrite_a=1)
        if sparse:
            h = J @ r
            h *= alpha
        else:
            h = dgemv(alpha, JT, r, trans=1)
        x *= keep
        x += h
        x += alpha * (drive[t] + z * fb)
    P = np.triu(P) + np.triu(P, 1).T
    return w[None, :], P


# --------------------------------------------------------------------------------------
# measurement helpers
# --------------------------------------------------------------------------------------

class _Clock:
    """CPU time (one-core mode) or wall time (two-core mode)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.now = time.process_time if mode == "one-core" else time.perf_counter


#: Pause (s, not timed) before each timed call of :func:`_alternate`: the worker threads of
#: the library that ran last (OpenBLAS, XLA, Numba's OpenMP) spin for a while after a call,
#: and on two cores they took the other library's cores (FORCE at N = 1000 measured 370
#: us per step right after the SciPy peer, 140 us alone).
SETTLE_S = 0.1


def _alternate(clock: _Clock, fns: dict, repeats: int) -> tuple[dict, dict]:
    """Run each of ``fns`` once (warm-up; its result kept for the agreement check), then
    ``repeats`` rounds alternating between them, each timed call after an untimed pause of
    :data:`SETTLE_S`; medians of the times."""
    out = {name: fn() for name, fn in fns.items()}
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            time.sleep(SETTLE_S)
            t0 = clock.now()
            fn()
            times[name].append(clock.now() - t0)
    return {k: statistics.median(v) for k, v in times.items()}, out


def _agree(ours, peer, tol: float) -> tuple[bool, float]:
    """Largest difference relative to the largest magnitude of ``ours``."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(peer, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False, float("inf")
    scale = max(float(np.max(np.abs(a))), 1e-300)
    err = float(np.max(np.abs(a - b))) / scale
    return err <= tol, err


class _Roofline:
    """Bandwidth and dgemm rate measured in this process, cached per size."""

    def __init__(self, clock: _Clock):
        self.clock = clock
        self.bw = {}
        self.gemm = {}

    def _best(self, fn, min_time=0.02, rounds=5):
        fn()
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            if time.perf_counter() - t0 > min_time / rounds or n > 1 << 20:
                break
            n *= 2
        best = float("inf")
        for _ in range(rounds):
            t0 = self.clock.now()
            for _ in range(n):
                fn()
            best = min(best, (self.clock.now() - t0) / n)
        return max(best, 1e-12)

    def bandwidth(self, working_set: float) -> float:
        """Bytes per second of the faster of a NumPy copy (``b[:] = a``, 2 x 8 bytes per
        element) and triad (``a = b + s c`` as two passes, 5 x 8 bytes) over arrays whose
        total size is ``working_set`` bytes."""
        key = int(2 ** round(np.log2(max(working_set, 4096))))
        if key not in self.bw:
            n = max(key // 24, 256)
            a, b_, c = np.ones(n), np.ones(n), np.ones(n)

            def copy():
                np.copyto(b_, a)

            def triad():
                np.multiply(c, 1.5, out=a)
                np.add(a, b_, out=a)
            t_copy = self._best(copy)
            t_triad = self._best(triad)
            self.bw[key] = max(16 * n / t_copy, 40 * n / t_triad)
        return self.bw[key]

    def gemm_rate(self, B: int, N: int, dtype=np.float64) -> float:
        """Flops per second of NumPy's ``(B, N) @ (N, N)`` product in ``dtype``."""
        key = (B, N, np.dtype(dtype).name)
        if key not in self.gemm:
            rng = np.random.default_rng(0)
            X = rng.standard_normal((B, N)).astype(dtype)
            A = rng.standard_normal((N, N)).astype(dtype)
            out = np.empty((B, N), dtype=dtype)
            t = self._best(lambda: np.matmul(X, A, out=out))
            self.gemm[key] = 2.0 * B * N * N / t
        return self.gemm[key]


#: Goals of the performance issue as the largest ``ours / peer`` ratio, by (section, peer):
#: sparse 1.5x faster than scipy.sparse (one trial, batches and sparse FORCE), dense and
#: batched steps at least as fast as JAX
#: (float64; for the batched step with the OpenBLAS override unset), BPTT 1.2x faster
#: than JAX in both precisions, FORCE 1.15x faster than the SciPy BLAS loop.
GOAL_RATIOS = {("sparse", "scipy.sparse loop"): 1 / 1.5,
               ("sparse", "SciPy csr+dsymv+dsyr"): 1 / 1.5, ("dense", "JAX f64"): 1.0,
               ("batch", "JAX f64"): 1.0, ("bptt", "JAX 64"): 1 / 1.2,
               ("bptt", "JAX 32"): 1 / 1.2, ("force", "SciPy dgemv+dsymv+dsyr"): 1 / 1.15}


#: Peers whose rows also meet their goal within this factor of the measured bandwidth
#: bound: the issue's FORCE goal ("or within 10 % of the measured bandwidth bound"), for
#: the dense and the sparse FORCE rows (a FORCE step streams the dense ``P``).
BOUND_GOALS = {"SciPy dgemv+dsymv+dsyr": 1.1, "SciPy csr+dsymv+dsyr": 1.1}


def _row(section: str, work: str, **kw) -> dict:
    row = {"section": section, "work": work}
    row.update(kw)
    return row


def _peer_fields(row: dict, peer: str, ours_t: float, peer_t: float | None, ok: bool,
                 err: float, tol: float, scale: float) -> None:
    """Fill a row's peer columns; the ratio only when the outputs agree."""
    row["peer"] = peer
    row["peer_time"] = None if peer_t is None else peer_t * scale
    row["agree"] = bool(ok)
    row["max_rel_diff"] = err if np.isfinite(err) else None     # JSON has no NaN/inf
    row["tolerance"] = tol
    row["ratio"] = (ours_t / peer_t) if (ok and peer_t) else None
    row["goal_ratio"] = GOAL_RATIOS.get((row["section"], peer))
    row["goal_bound"] = BOUND_GOALS.get(peer)


def _fmt(v, width=9, digits=4):
    if v is None:
        return f"{'-':>{width}s}"
    if isinstance(v, str):
        return f"{v:>{width}s}"
    return f"{v:>{width}.{digits}g}"


# --------------------------------------------------------------------------------------
# sections (each returns its rows; they run in the measuring child)
# --------------------------------------------------------------------------------------

def _steps(grid: dict, default: int) -> int:
    return grid["steps"] if grid["steps"] else default


def section_sparse(ctx) -> list:
    """Sparse (10 %) paths against SciPy: the open-loop step of one trial and of a batch
    (``rs.simulate``) against ``scipy.sparse`` loops, and FORCE (``rs.force``) against the
    SciPy loop with the CSR product."""
    import reservoir as rs
    rows = []
    for N in ctx.grid["sparse"]:
        T = _steps(ctx.grid, 1000 if N <= 2000 else 500)
        net = _sparse_net(N)
        rng = np.random.default_rng(0)
        U = rng.standard_normal((T, 1))
        x0 = rng.standard_normal(N)
        J = net.J
        times, out = _alternate(ctx.clock, {
            "ours": lambda: rs.simulate(net, U, x0, mode="open", record=("z",)).z,
            "peer": lambda: scipy_csr_open(J, net.W_in, net.b, net.W_out, net.alpha, U, x0),
        }, ctx.repeats)
        ok, err = _agree(out["ours"], out["peer"], TOL_F64)
        # the kernel's CSR: 8-byte values, uint16 column indices up to N = 65536 (else
        # uint32), uint32 row pointers
        nbytes = (10 if N <= 1 << 16 else 12) * J.nnz + 4 * (N + 1)
        row = _row("sparse", "sparse 10 % open-loop step (CSR), us per step", N=N, B=1,
                   ours=times["ours"] / T * 1e6, unit="us", bytes_per_step=nbytes,
                   bound=nbytes / ctx.roof.bandwidth(nbytes) * 1e6, bound_kind="bandwidth",
                   roof_rate=ctx.roof.bandwidth(nbytes))
        _peer_fields(row, "scipy.sparse loop", times["ours"], times["peer"], ok, err, TOL_F64,
                     1e6 / T)
        rows.append(row)
    for N, B in ctx.grid["sparse_batch"]:
        T = _steps(ctx.grid, 100 if N <= 2000 else 50)
        net = _sparse_net(N)
        rng = np.random.default_rng(0)
        U = rng.standard_normal((B, T, 1))
        X0 = rng.standard_normal((B, N))
        J = net.J
        times, out = _alternate(ctx.clock, {
            "ours": lambda: rs.simulate(net, U, X0, mode="open", record=("z",)).z,
            "peer": lambda: scipy_csr_open_batch(J, net.W_in, net.b, net.W_out, net.alpha,
                                                 U, X0),
        }, ctx.repeats)
        ok, err = _agree(out["ours"], out["peer"], TOL_F64)
        # per trial-step: the CSR once per step for the batch, the rates and drive per trial
        nbytes = (10 if N <= 1 << 16 else 12) * J.nnz / B + 4 * (N + 1) / B + 3 * 8 * N
        row = _row("sparse", "sparse 10 % batched open-loop step (CSR), us per trial-step",
                   N=N, B=B, ours=times["ours"] / (T * B) * 1e6, unit="us",
                   bytes_per_step=nbytes, bound=nbytes / ctx.roof.bandwidth(nbytes * B) * 1e6,
                   bound_kind="bandwidth", roof_rate=ctx.roof.bandwidth(nbytes * B))
        _peer_fields(row, "scipy.sparse loop", times["ours"], times["peer"], ok, err, TOL_F64,
                     1e6 / (T * B))
        rows.append(row)
    for N in ctx.grid["sparse_force"]:
        net = _sparse_net(N)
        nnz_bytes = (10 if N <= 1 << 16 else 12) * net.J.nnz
        rows.append(_force_row(ctx, "sparse", "sparse 10 % FORCE step (RLS every step), us",
                               "SciPy csr+dsymv+dsyr", net, 16 * N * N + nnz_bytes,
                               20 * N * N + 12 * net.J.nnz))
    return rows


def _sparse_net(N: int):
    """The sparse benchmark network: 10 % density, g = 1.5, one input, one readout."""
    import reservoir as rs
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, density=0.1, rng=0)
    return net.with_readout(np.random.default_rng(1).standard_normal((1, N)) / N)


def _jax_step_rows(ctx, section, work, net, U, X0, scale, roof) -> list:
    """Rows of ours (``rs.simulate``, open loop, readout recorded) against JAX in float64
    and float32, the three alternating; ``scale`` turns a run's seconds into the unit."""
    import reservoir as rs
    fns = {"ours": lambda: rs.simulate(net, U, X0, mode="open", record=("z",)).z}
    batched = U.ndim == 3
    if ctx.has_jax:
        for key, dt in (("f64", np.float64), ("f32", np.float32)):
            jrun = jax_simulate_open(net.J, net.W_in, net.b, net.W_out, net.alpha, U, X0,
                                     dtype=dt)
            fns[key] = (lambda jrun=jrun: np.asarray(jrun()).transpose(1, 0, 2)) \
                if batched else (lambda jrun=jrun: np.asarray(jrun()))
    times, out = _alternate(ctx.clock, fns, ctx.repeats)
    rows = []
    for key, tol in (("f64", TOL_F64), ("f32", TOL_F32)):
        row = _row(section, work, N=net.N, B=U.shape[0] if batched else 1,
                   ours=times["ours"] * scale, unit="us", **roof)
        if ctx.has_jax:
            ok, err = _agree(out["ours"], out[key], tol)
            _peer_fields(row, f"JAX {key}", times["ours"], times[key], ok, err, tol, scale)
            if key == "f32":
                row["note_peer"] = "ours in float64"
        else:
            _peer_fields(row, f"JAX {key}", times["ours"], None, False, float("nan"), tol,
                         scale)
            row["note"] = "JAX not installed"
        rows.append(row)
    return rows


def section_dense(ctx) -> list:
    """Dense single-trial open-loop step, ours vs JAX ``lax.scan`` (float64, and float32
    against our float64), plus reservoirpy at ``alpha = 1`` where installed."""
    import reservoir as rs
    rows = []
    for N in ctx.grid["dense"]:
        T = _steps(ctx.grid, 2000 if N <= 500 else (1000 if N <= 1000 else 300))
        net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
        net = net.with_readout(np.random.default_rng(1).standard_normal((1, N)) / N)
        rng = np.random.default_rng(0)
        U = rng.standard_normal((T, 1))
        x0 = rng.standard_normal(N)
        nbytes = 8 * N * N
        roof = {"bytes_per_step": nbytes, "bound": nbytes / ctx.roof.bandwidth(nbytes) * 1e6,
                "bound_kind": "bandwidth", "roof_rate": ctx.roof.bandwidth(nbytes)}
        rows += _jax_step_rows(ctx, "dense", "dense single-trial open-loop step, us per step",
                               net, U, x0, 1e6 / T, roof)
        if ctx.has_rpy:
            rows.append(_dense_rpy(ctx, N, T))
    return rows


def _dense_rpy(ctx, N, T) -> dict:
    """reservoirpy's ``Reservoir`` updates ``s <- (1 - lr) s + lr tanh(W s + Win u + b)``:
    our model at ``alpha = 1`` (then ``s[t] = r[t + 1]``)."""
    import reservoir as rs
    from reservoirpy.nodes import Reservoir
    net = rs.random_network(N, 0.9, 1, 1, tau=1.0, dt=1.0, rng=0)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((T, 1))
    res = Reservoir(W=np.asarray(net.J), Win=np.asarray(net.W_in), bias=np.asarray(net.b),
                    lr=1.0, activation="tanh")

    def run_rpy():
        res.reset() if getattr(res, "initialized", False) else None
        return res.run(U)
    times, out = _alternate(ctx.clock, {
        "ours": lambda: rs.simulate(net, U, np.zeros(N), mode="open", record=("r",)).r,
        "peer": run_rpy}, ctx.repeats)
    ours_r = out["ours"][1:]
    peer_s = np.asarray(out["peer"])[:-1]
    ok, err = _agree(ours_r, peer_s, TOL_F64)
    nbytes = 8 * N * N
    row = _row("dense", "dense single-trial step at alpha = 1 (reservoirpy's equation), "
               "us per step", N=N, B=1, ours=times["ours"] / T * 1e6, unit="us",
               bytes_per_step=nbytes, bound=nbytes / ctx.roof.bandwidth(nbytes) * 1e6,
               bound_kind="bandwidth", roof_rate=ctx.roof.bandwidth(nbytes))
    _peer_fields(row, "reservoirpy", times["ours"], times["peer"], ok, err, TOL_F64, 1e6 / T)
    return row


def section_batch(ctx) -> list:
    """Batched open-loop step (B trials, one GEMM per step), ours vs JAX (float64, and
    float32 against our float64), per trial-step."""
    import reservoir as rs
    rows = []
    for N, B in ctx.grid["batch"]:
        T = _steps(ctx.grid, int(min(200, max(20, 2e9 / (2 * B * N * N)))))
        net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
        net = net.with_readout(np.random.default_rng(1).standard_normal((1, N)) / N)
        rng = np.random.default_rng(0)
        U = rng.standard_normal((B, T, 1))
        X0 = rng.standard_normal((B, N))
        flops = 2.0 * B * N * N
        rate = ctx.roof.gemm_rate(B, N)
        roof = {"flops_per_step": flops, "bound": flops / rate * 1e6 / B,
                "bound_kind": "dgemm", "roof_rate": rate}
        rows += _jax_step_rows(ctx, "batch", "batched open-loop step, us per trial-step",
                               net, U, X0, 1e6 / (T * B), roof)
    return rows


def section_bptt(ctx) -> list:
    """BPTT epoch of the XOR protocol (Jarne: 15,000 trials of 200 steps, B = 64, Adam,
    lr = 1e-4), extrapolated from ``bptt_batches`` mini-batches, ours (``rs.bptt``) vs
    JAX, float64 and float32; the batch losses of the two are compared."""
    import reservoir as rs
    rows = []
    nb = ctx.grid["bptt_batches"]
    task = rs.tasks.xor(64 * nb, noise_std=0.1, rng=0)
    T = task.inputs.shape[1]
    scale = (15000 / 64) / nb
    for N in ctx.grid["bptt"]:
        net = rs.random_network(N, 1.0, 2, 1, tau=1.0, dt=task.dt, rng=0)
        net = net.with_readout(np.random.default_rng(1).uniform(-0.3, 0.3, (1, N)))
        for dtype, tol in (("float64", TOL_F64), ("float32", TOL_F32)):
            def ours(dtype=dtype):
                return rs.bptt(net, task, epochs=1, batch_size=64, lr=1e-4, dtype=dtype,
                               rng=0).batch_losses
            fns = {"ours": ours}
            if ctx.has_jax:
                jrun = jax_bptt_epoch(net, task, batch_size=64, lr=1e-4, dtype=dtype, rng=0)
                fns["peer"] = lambda jrun=jrun: jrun()[0]
            times, out = _alternate(ctx.clock, fns, ctx.repeats)
            flops = 6.0 * 64 * N * N * T * (15000 / 64)        # forward 1, backward 2 GEMMs
            bound = 3 * T * (2.0 * 64 * N * N / ctx.roof.gemm_rate(64, N, dtype)) * 15000 / 64
            row = _row("bptt", f"BPTT epoch, XOR protocol, {dtype}, s", N=N, B=64,
                       ours=times["ours"] * scale, unit="s", flops_per_epoch=flops,
                       bound=bound, bound_kind="dgemm" if dtype == "float64" else "sgemm",
                       dtype=dtype, roof_rate=ctx.roof.gemm_rate(64, N, dtype))
            if ctx.has_jax:
                ok, err = _agree(out["ours"], out["peer"], tol)
                _peer_fields(row, f"JAX {dtype[-2:]}", times["ours"], times["peer"], ok, err,
                             tol, scale)
            else:
                _peer_fields(row, f"JAX {dtype[-2:]}", times["ours"], None, False,
                             float("nan"), tol, scale)
                row["note"] = "JAX not installed"
            rows.append(row)
    return rows


def _force_row(ctx, section: str, work: str, peer: str, net, nbytes: float,
               peer_bytes: float) -> dict:
    """One FORCE row: ``rs.force`` (RLS every step, closed loop) against
    :func:`scipy_force` on ``net`` (dense or sparse ``J``), the trained readouts compared;
    ``nbytes`` / ``peer_bytes``: bytes per step of ours and of the peer."""
    import reservoir as rs
    N = net.N
    T = _steps(ctx.grid, {500: 1000, 1000: 500, 2000: 200}.get(N, 60))
    task = rs.tasks.sine_sum(duration=T * 0.1, dt=0.1)
    U, Y = task.inputs[:T], task.targets[:T]
    T = U.shape[0]
    x0 = np.random.default_rng(0).standard_normal(N)
    times, out = _alternate(ctx.clock, {
        "ours": lambda: rs.force(net, U, Y, reg=1.0, update_every=1, x0=x0).network.W_out,
        "peer": lambda: scipy_force(net.J, net.W_in, net.W_fb, net.b, net.W_out, net.alpha,
                                    U, Y, x0, 1.0)[0],
    }, ctx.repeats)
    ok, err = _agree(out["ours"], out["peer"], TOL_F64)
    row = _row(section, work, N=N, B=1, ours=times["ours"] / T * 1e6, unit="us",
               bytes_per_step=nbytes, peer_bytes_per_step=peer_bytes,
               bound=nbytes / ctx.roof.bandwidth(nbytes) * 1e6, bound_kind="bandwidth",
               roof_rate=ctx.roof.bandwidth(nbytes))
    _peer_fields(row, peer, times["ours"], times["peer"], ok, err, TOL_F64, 1e6 / T)
    return row


def section_force(ctx) -> list:
    """FORCE step (closed loop, RLS every step), ours (``rs.force``) vs the SciPy BLAS
    loop (``dgemv`` + ``dsymv`` + ``dsyr``); the trained readouts are compared."""
    import reservoir as rs
    rows = []
    for N in ctx.grid["force"]:
        net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
        rows.append(_force_row(ctx, "force", "FORCE step (closed loop, RLS every step), us",
                               "SciPy dgemv+dsymv+dsyr", net, 16 * N * N, 20 * N * N))
    return rows


def section_phase_diagram(ctx) -> list:
    """``phase_diagram`` on an n x n grid (targets x overlaps), seconds (goal < 0.5 s)."""
    from reservoir.meanfield import MeanFieldParams, phase_diagram
    n = ctx.grid["phase_diagram"]
    p = MeanFieldParams.from_code_parameters(g=0.3, Sm=1.2, SI=0.5, rho=0.5, p=1.0, p_m=1.0,
                                             p_I=0.3)
    A = np.linspace(0.1, 3.0, n)
    snm = np.linspace(-1.0, 7.0, n)
    times, _ = _alternate(ctx.clock, {"ours": lambda: phase_diagram(p, A, snm)}, ctx.repeats)
    return [_row("phase_diagram", f"phase_diagram {n} x {n}, s", N=n, B=1,
                 ours=times["ours"], unit="s", goal=GOALS["phase_diagram"])]


def section_fixed_points(ctx) -> list:
    """``find_fixed_points`` without spectra on a contracting open loop (g = 0.3), s."""
    import reservoir as rs
    N = ctx.grid["fixed_points"]
    net = rs.random_network(N, 0.3, 1, 1, dt=0.1, rng=0)      # W_out = 0: the open loop

    import inspect
    params = inspect.signature(rs.find_fixed_points).parameters
    off = {"eigenvalues" if "eigenvalues" in params else "compute_eigenvalues": False}

    def run():
        return rs.find_fixed_points(net, u=[0.0], **off)
    times, out = _alternate(ctx.clock, {"ours": run}, ctx.repeats)
    return [_row("fixed_points", "find_fixed_points, eigenvalues off, g = 0.3, s", N=N, B=1,
                 ours=times["ours"], unit="s", n_found=len(out["ours"]),
                 complete=getattr(out["ours"], "complete", None),
                 goal=GOALS["fixed_points"])]


def section_stability(ctx) -> list:
    """``stability_report`` of a bistable trained network (least-squares readout of a
    stationary target), ``n_init`` starts, s."""
    import reservoir as rs
    N, n_init = ctx.grid["stability"]
    net = rs.random_network(N, 0.5, 1, 1, dt=0.1, input_dist="normal", input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=1)
    task = rs.tasks.stationary(target=2.0, duration=100.0, dt=0.1, washout=60.0)
    net = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10).network
    fps = rs.find_fixed_points(net, u=[1.0])
    times, _ = _alternate(ctx.clock, {"ours": lambda: rs.stability_report(
        net, u=[1.0], target=2.0, n_init=n_init, fixed_points=fps, rng=0)},
        max(1, ctx.repeats // 2))
    return [_row("stability", f"stability_report, {n_init} starts, s", N=N, B=n_init,
                 ours=times["ours"], unit="s", goal=GOALS["stability"])]


def section_ridge_memory(ctx) -> list:
    """Peak memory of ``fit_ridge`` (``tracemalloc``, which sees NumPy's allocations)
    against ``max_chunk_bytes`` (goal: at most 1.5x)."""
    import tracemalloc

    import reservoir as rs
    N, T, chunk = ctx.grid["ridge_memory"]
    net = rs.random_network(N, 1.5, 1, 1, dt=0.1, rng=0)
    task = rs.tasks.sine_sum(duration=T * 0.1, dt=0.1)
    U, Y = task.inputs, task.targets
    rs.fit_ridge(net, U[:50], Y[:50], reg=1e-3, max_chunk_bytes=chunk)   # compile
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        t0 = ctx.clock.now()
        rs.fit_ridge(net, U, Y, reg=1e-3, max_chunk_bytes=chunk)
        elapsed = ctx.clock.now() - t0
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return [_row("ridge_memory", f"fit_ridge peak memory / max_chunk_bytes, T = {U.shape[0]}",
                 N=N, B=1, ours=peak / chunk, unit="x", peak_bytes=peak,
                 max_chunk_bytes=chunk, seconds_traced=elapsed, goal=GOALS["ridge_memory"])]


_SECTION_FUNCS = {"sparse": section_sparse, "dense": section_dense, "batch": section_batch,
                  "bptt": section_bptt, "force": section_force,
                  "phase_diagram": section_phase_diagram, "fixed_points": section_fixed_points,
                  "stability": section_stability, "ridge_memory": section_ridge_memory}

_TITLES = {"sparse": "Sparse 10 % steps (one trial, batch, FORCE) vs scipy.sparse loops",
           "dense": "Dense single-trial open-loop step vs JAX lax.scan (and reservoirpy)",
           "batch": "Batched open-loop step vs JAX lax.scan (per trial-step)",
           "bptt": "BPTT epoch (Jarne XOR protocol) vs JAX value_and_grad + Adam",
           "force": "FORCE step vs the SciPy dgemv + dsymv + dsyr loop",
           "phase_diagram": "phase_diagram (goal < 0.5 s)",
           "fixed_points": "find_fixed_points, eigenvalues off (goal < 2 s)",
           "stability": "stability_report (goal < 5 s at N = 1000, 1000 starts)",
           "ridge_memory": "fit_ridge peak memory (goal <= 1.5 x max_chunk_bytes)"}


def format_table(section: str, rows: list, label: str) -> str:
    """The printed table of one section's rows.

    Parameters
    ----------
    section : str
        Section name (a key of :data:`SECTIONS`).
    rows : list of dict
        The rows measured by the section.
    label : str
        The column: mode and OpenBLAS setting.

    Returns
    -------
    str
        The table (several lines).
    """
    lines = [f"== {_TITLES[section]}  [{label}]"]
    if section in ("phase_diagram", "fixed_points", "stability", "ridge_memory"):
        lines.append(f"{'N':>6s} {'B':>5s} {'ours':>10s} {'unit':>5s} {'goal':>6s}  met")
        full = GRIDS["full"]
        at = {"phase_diagram": (full["phase_diagram"], 1),
              "fixed_points": (full["fixed_points"], 1), "stability": full["stability"]}
        for r in rows:
            size = at.get(section)
            met = "yes" if r["ours"] <= r["goal"] else "NO"
            if size is not None and (r["N"], r["B"]) != tuple(size):
                met = f"({met}: the goal is for N = {size[0]}" + (
                    f", {size[1]} starts)" if section == "stability" else ")")
            lines.append(f"{r['N']:>6d} {r['B']:>5d} {_fmt(r['ours'], 10)} {r['unit']:>5s} "
                         f"{r['goal']:>6g}  {met}"
                         + (f"  ({r['n_found']} fixed point(s), certified complete: "
                            f"{r.get('complete')})" if "n_found" in r else ""))
        return "\n".join(lines)
    lines.append(f"{'N':>6s} {'B':>5s} {'ours':>10s} {'peer':>10s} {'ours/peer':>9s} "
                 f"{'check (max rel diff)':>24s} {'bound':>9s} {'ours/bound':>10s} "
                 f"{'goal':>13s}  peer")
    for r in rows:
        if r.get("note"):
            check = r["note"]
        elif r["agree"]:
            check = f"ok {r['max_rel_diff']:.1e}"
        elif r["max_rel_diff"] is None:
            check = "DISAGREE (shape/non-finite)"
        else:
            check = f"DISAGREE {r['max_rel_diff']:.1e}>{r['tolerance']:.0e}"
        lines.append(f"{r['N']:>6d} {r['B']:>5d} {_fmt(r['ours'], 10)} "
                     f"{_fmt(r.get('peer_time'), 10)} {_fmt(r.get('ratio'), 9, 3)} "
                     f"{check:>24s} {_fmt(r['bound'], 9)} "
                     f"{_fmt(r['ours'] / r['bound'] if r['bound'] else None, 10, 3)} "
                     f"{_goal_text(r):>13s}  "
                     f"{r['peer']}{' (' + r['note_peer'] + ')' if r.get('note_peer') else ''}"
                     f" [{r['unit']}; {_roof_text(r)}]")
    factors = {r["goal_bound"] for r in rows if r.get("goal_bound")}
    if factors:
        lines.append("yes(b): the ratio goal missed, but ours within "
                     + "/".join(f"{f:g}" for f in sorted(factors))
                     + "x the bandwidth bound (the FORCE goal's alternative)")
    return "\n".join(lines)


def _goal_text(r: dict) -> str:
    """``<=0.87 yes`` / ``<=0.87 NO`` against the issue's ratio goal (empty without one);
    for a row with a bound clause, ``yes(b)`` where the ratio misses but ours is within
    that factor of the bandwidth bound."""
    goal = r.get("goal_ratio")
    if goal is None:
        return ""
    if r.get("ratio") is None:
        return f"<={goal:.2f} -"
    if r["ratio"] <= goal:
        return f"<={goal:.2f} yes"
    factor = r.get("goal_bound")
    if factor and r.get("bound") and r["ours"] <= factor * r["bound"]:
        return f"<={goal:.2f} yes(b)"
    return f"<={goal:.2f} NO"


def _roof_text(r: dict) -> str:
    """The roofline of a row: the work per step and the measured rate it is bound by."""
    if r["bound_kind"] == "bandwidth":
        return (f"bound: {r['bytes_per_step']:.3g} B/step at {r['roof_rate'] / 1e9:.1f} GB/s "
                "(NumPy copy/triad)")
    work = r.get("flops_per_step", r.get("flops_per_epoch"))
    per = "step" if "flops_per_step" in r else "epoch"
    return (f"bound: {work:.3g} flop/{per} at {r['roof_rate'] / 1e9:.1f} GFLOP/s "
            f"({r['bound_kind']})")


class _Context:
    def __init__(self, mode, grid, repeats):
        self.clock = _Clock(mode)
        self.roof = _Roofline(self.clock)
        self.grid = grid
        self.repeats = repeats
        self.has_jax = _jax() is not None
        self.has_rpy = _have("reservoirpy")


# --------------------------------------------------------------------------------------
# header
# --------------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown"


def _versions() -> dict:
    from importlib import metadata
    out = {}
    for name in ("reservoir", "numpy", "scipy", "numba", "jax", "jaxlib", "reservoirpy",
                 "threadpoolctl"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _blas_info() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "num_threads", "architecture",
            "threading_layer", "filepath")
    return [{k: v for k, v in d.items() if k in keep} for d in threadpool_info()]


def _env_settings(env) -> dict:
    return {k: env.get(k) for k in OVERRIDE_VARS + THREAD_VARS
            if env.get(k) is not None or k in OVERRIDE_VARS}


def _header(argv: list, cores: list) -> dict:
    load = os.getloadavg()
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([os.path.basename(sys.argv[0]) or "python"] + list(argv)),
            "cpu_model": _cpu_model(), "cores": os.cpu_count(), "affinity": cores,
            "load_average_start": list(load), "versions": _versions(),
            "blas": _blas_info(), "environment": _env_settings(os.environ)}


def _print_header(h: dict) -> None:
    v = h["versions"]
    print("reservoir benchmark", h["date"])
    print("command:", h["command"])
    print(f"CPU: {h['cpu_model']}; {h['cores']} cores (usable: {h['affinity']}); load "
          f"average at start {h['load_average_start'][0]:.2f} / "
          f"{h['load_average_start'][1]:.2f} / {h['load_average_start'][2]:.2f}")
    print("versions:", ", ".join(f"{k} {v[k] or '-'}" for k in v))
    for d in h["blas"]:
        print(f"BLAS: {d.get('internal_api')} {d.get('version')} {d.get('architecture')} "
              f"{d.get('num_threads')} threads ({os.path.basename(d.get('filepath', ''))})")
    print("environment:", ", ".join(f"{k}={val}" for k, val in h["environment"].items()))
    print("ratios are ours / peer (below 1: ours faster); 'bound' is the time at the "
          "bandwidth or GEMM rate measured in the same process (roofline)", flush=True)


# --------------------------------------------------------------------------------------
# the driver: a child process per column
# --------------------------------------------------------------------------------------

def _child_env(mode: str, unset_override: bool) -> dict:
    env = dict(os.environ)
    if mode == "one-core":
        env.update(ONE_CORE_ENV)
    if unset_override:
        for k in OVERRIDE_VARS:
            env.pop(k, None)
    return env


def _run_child(mode: str, column: str, sections: list, args, env: dict) -> dict | None:
    fd, path = tempfile.mkstemp(suffix=".json", prefix="reservoir-bench-")
    os.close(fd)
    cmd = [sys.executable, "-c", _CHILD_CODE, mode, column, path, args.size,
           str(args.repeats), ",".join(sections)]
    try:
        sys.stdout.flush()
        proc = subprocess.run(cmd, env=env, check=False)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        result = json.loads(text) if text.strip() else None
        if proc.returncode != 0:
            print(f"[{mode}, {column}] the measuring process failed (exit "
                  f"{proc.returncode}); its tables so far are kept", file=sys.stderr,
                  flush=True)
            if result is not None:
                result["failed"] = f"exit status {proc.returncode}"
        return result
    finally:
        os.unlink(path)


#: What the measuring child runs (``python -c``), with the arguments of :func:`_child_main`.
_CHILD_CODE = ("import sys; from reservoir.benchmark import _child_main; "
               "a = sys.argv[1:]; "
               "sys.exit(_child_main(a[0], a[1], a[2], a[5].split(','), a[3], int(a[4])))")


def _child_main(mode: str, column: str, out_path: str, sections: list, size: str,
                repeats: int) -> int:
    """Measure ``sections`` in this process (started by :func:`main` with the column's
    environment), print each table as it is measured, write the rows to ``out_path``."""
    cores = sorted(os.sched_getaffinity(0))
    if mode == "one-core":
        os.sched_setaffinity(0, {cores[0]})
    enable_jax_x64()
    ctx = _Context(mode, GRIDS[size], repeats)
    label = f"{mode}, {'CPU time, core ' + str(cores[0]) if mode == 'one-core' else 'wall time'}"
    label += f", OpenBLAS override {column}"
    result = {"mode": mode, "column": column, "label": label,
              "affinity": sorted(os.sched_getaffinity(0)),
              "environment": _env_settings(os.environ), "blas": _blas_info(),
              "jax": ctx.has_jax, "reservoirpy": ctx.has_rpy, "rows": [], "notes": []}
    if not ctx.has_jax:
        result["notes"].append("JAX not installed: no JAX peer (pip install jax)")
    if not ctx.has_rpy:
        result["notes"].append("reservoirpy not installed: no reservoirpy row")
    print(f"-- column [{label}]: cores {result['affinity']}; "
          + ", ".join(f"{k}={v}" for k, v in result["environment"].items()), flush=True)
    for name in sections:
        try:
            rows = _SECTION_FUNCS[name](ctx)
        except Exception as exc:     # one failing section must not lose the others
            logger.exception("section %s failed", name)
            result["notes"].append(f"section {name} failed: {type(exc).__name__}: {exc}")
            print(f"== {_TITLES[name]}  [{label}]\n   FAILED: {type(exc).__name__}: {exc}",
                  flush=True)
            continue
        result["rows"].extend(rows)
        print(format_table(name, rows, label), flush=True)
        with open(out_path, "w", encoding="utf-8") as fh:     # partial results survive
            json.dump(result, fh, default=_json_default)
    result["roofline"] = {"bandwidth_bytes_per_s": {str(k): v for k, v in ctx.roof.bw.items()},
                          "gemm_flops_per_s": {f"{k[0]}x{k[1]} {k[2]}": v
                                               for k, v in ctx.roof.gemm.items()}}
    for note in result["notes"]:
        print("note:", note, flush=True)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, default=_json_default)
    return 0


def _json_default(obj):
    """NumPy scalars as Python numbers; anything else JSON cannot hold as its text."""
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _parse_sections(text: str | None, parser) -> list:
    if text is None:
        return list(SECTIONS)
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in SECTIONS]
    if bad or not names:
        parser.error(f"--only must name sections among {', '.join(SECTIONS)} "
                     f"(comma-separated), got {text!r}")
    return [s for s in SECTIONS if s in names]


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of :func:`main`.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = argparse.ArgumentParser(
        prog="reservoir benchmark",
        description="Time reservoir against JAX, SciPy and reservoirpy (same computations, "
                    "alternating in one process, medians of repeats). Run it alone on the "
                    "cores.")
    p.add_argument("--quick", action="store_true",
                   help="a small subset of the grid (a few minutes)")
    p.add_argument("--size", choices=tuple(GRIDS), default=None,
                   help="grid: tiny (tests), quick (= --quick) or full (default)")
    p.add_argument("--only", metavar="NAME[,NAME]",
                   help=f"run only these sections: {', '.join(SECTIONS)}")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed rounds per row (medians; default 3)")
    p.add_argument("--mode", choices=("one-core", "two-core", "both"), default="both",
                   help="one-core: CPU time pinned to one core, one thread everywhere; "
                        "two-core: wall time with the default threads; both: the two "
                        "(default both)")
    p.add_argument("--blas-override", choices=("both", "set", "unset"), default="both",
                   help="GEMM-bound sections (batch, bptt) with the environment's "
                        "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (set), without them (unset), "
                        "or both columns (default both)")
    p.add_argument("--json", metavar="FILE", help="write the header and all rows to FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (the ``reservoir benchmark`` command).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``); see ``--help``.

    Returns
    -------
    int
        Exit status: 0 when every measuring process ran every section, 1 otherwise
        (bad options exit with status 2 through ``argparse``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.quick and args.size not in (None, "quick"):
        parser.error("--quick and --size disagree")
    args.size = args.size or ("quick" if args.quick else "full")
    sections = _parse_sections(args.only, parser)
    if args.json:              # refuse an unwritable file before the run, not after it
        try:
            with open(args.json, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            parser.error(f"--json: cannot write {args.json!r} ({exc.strerror})")
    argv = list(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    cores = sorted(os.sched_getaffinity(0))
    header = _header(argv, cores)
    header["grid"] = {"size": args.size, "sections": sections, "repeats": args.repeats,
                      **{k: v for k, v in GRIDS[args.size].items() if k in sections}}
    _print_header(header)
    print(f"grid {args.size}: " + "; ".join(
        f"{k} {v}" for k, v in header["grid"].items() if k in sections)
        + f"; {args.repeats} repeats; modes {args.mode}", flush=True)
    if header["load_average_start"][0] > 0.5:
        print(f"warning: load average {header['load_average_start'][0]:.2f} > 0.5 at start: "
              "other processes share the cores, the timings are noisy (run the benchmark "
              "alone)", file=sys.stderr, flush=True)
    override_set = any(os.environ.get(k) for k in OVERRIDE_VARS)
    modes = ("one-core", "two-core") if args.mode == "both" else (args.mode,)
    gemm = [s for s in sections if s in GEMM_SECTIONS]
    notes = []
    columns = []
    failed = False
    for mode in modes:
        plan = []
        main_sections = [s for s in sections
                         if not (args.blas_override == "unset" and s in GEMM_SECTIONS)]
        if main_sections:
            plan.append(("set" if override_set else "as-is", main_sections, False))
        if gemm and args.blas_override in ("both", "unset"):
            if override_set or args.blas_override == "unset":
                plan.append(("unset", gemm, True))
            else:
                notes.append(f"[{mode}] OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are not set in "
                             "this environment: the 'unset' column equals the other one "
                             "and is not run again")
        for column, secs, unset in plan:
            env = _child_env(mode, unset)
            res = _run_child(mode, column, secs, args, env)
            if res is None:
                failed = True
                notes.append(f"[{mode}, {column}] no result")
                continue
            res["environment"] = _env_settings(env)
            columns.append(res)
            if any(n.startswith("section ") for n in res.get("notes", ())):
                failed = True          # a section raised (the child printed why)
            if res.get("failed"):
                failed = True
                notes.append(f"[{mode}, {column}] the measuring process failed "
                             f"({res['failed']}): the sections after its last table are "
                             "missing")
    header["load_average_end"] = list(os.getloadavg())
    header["elapsed_s"] = time.perf_counter() - started
    _print_summary(columns)
    for n in notes:
        print("note:", n, flush=True)
    print(f"load average at end {header['load_average_end'][0]:.2f}; the run took "
          f"{header['elapsed_s']:.0f} s", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"header": header, "columns": columns, "notes": notes}, fh, indent=1,
                      default=_json_default)
    return 1 if failed else 0


def _print_summary(columns: list) -> None:
    """The ratios of every column side by side (one line per row)."""
    table = {}
    labels = []
    for col in columns:
        lab = f"{col['mode']}/{col['column']}"
        labels.append(lab)
        for r in col["rows"]:
            if "ratio" not in r:
                continue
            key = (r["section"], r["work"], r["N"], r["B"], r["peer"])
            table.setdefault(key, {})[lab] = r["ratio"]
    if not table:
        return
    print("== Summary: ours / peer by column (- : no ratio: peer missing or outputs "
          "disagree)")
    width = max(len(work + " vs " + peer) for _, work, _, _, peer in table)
    print(f"{'work':<{width}s} {'N':>5s} {'B':>4s} "
          + " ".join(f"{lab:>16s}" for lab in labels))
    for (sec, work, N, B, peer), vals in table.items():
        print(f"{work + ' vs ' + peer:<{width}s} {N:>5d} {B:>4d} "
              + " ".join(_fmt(vals.get(lab), 16, 3) for lab in labels))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
