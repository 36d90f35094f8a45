"""Training of the whole network by backpropagation through time (Adam).

By default the trained model is the open-loop network (the feedback weights ``W_fb`` are not
used): ``x[t+1] = (1 - a) x[t] + a (J phi(x[t]) + W_in u[t] + b)``, ``z[t] = W_out
phi(x[t])``, ``x[0] = 0``; ``mode="closed"`` adds the feedback ``W_fb z[t]`` to the drive
of ``x[t+1]`` (and can train ``W_fb``). With ``dt = tau`` (``a = 1``) this is the discrete RNN of the BPTT
literature, ``h[t+1] = phi(J h[t] + W_in u[t] + b)`` for ``h = phi(x)``. Note the one-step
convention: ``u[t]`` first shows in ``z[t+1]`` (Keras' ``SimpleRNN`` shows ``u_t`` in
``y_t``); task targets are defined for this package's convention.

Loss: masked mean squared error ``sum_{b,t,k} mask[b,t] (z - y)^2 / (K sum mask)``.
Gradients are hand-derived (see :mod:`reservoir._kernels.bptt`) and checked against finite
differences in the tests. Optimiser: Adam with Keras' legacy inverse-time decay of the
learning rate, ``lr_k = lr / (1 + decay k)`` (``k`` = mini-batches so far), optional
per-parameter gradient-norm clipping (Keras' ``clipnorm``), and optional Dale's law: a
fixed fraction of units is excitatory and the signs of each unit's *outgoing* weights
(columns of ``J``) are kept by projection after every step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numba
import numpy as np

from .._checks import as_float_array, as_int, as_positive_float, as_rng, check_memory
from .._kernels import bptt as kernels
from .._kernels import bptt_batched as batched
from .._kernels.arrays import network_arrays
from .._kernels.batch_split import ChunkPool, chunk_ranges
from .._results import ResultMixin
from ..network import Network
from ..nonlinearities import CODES
from ..tasks import Task

PARAMS = ("J", "W_in", "b", "W_out")
ALL_PARAMS = PARAMS + ("W_fb",)


def _as_compute_dtype(dtype, backend):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, got {dt}")
    if dt == np.float32 and backend != "blas":
        raise ValueError("dtype float32 needs backend='blas' (the Numba kernels are float64)")
    return dt


def loss_and_gradients(net: Network, inputs, targets, mask=None, *, mode: str = "open",
                       backend: str = "blas", dtype=np.float64, workspace=None):
    """Masked MSE and its gradients with respect to ``J``, ``W_in``, ``b``, ``W_out``
    (and ``W_fb`` in closed loop).

    Parameters
    ----------
    net : Network
        The network (dense ``J``).
    inputs : array_like, shape (B, T, M)
        Inputs ``u[t]`` of each trial.
    targets : array_like, shape (B, T, K)
        Targets ``y[t]`` of the readout.
    mask : array_like, shape (B, T) or (T,), optional
        Non-negative weight of each step in the loss (default 1).
    mode : {"open", "closed"}
        ``"open"``: the feedback loop is cut (``W_fb`` unused), the usual BPTT network.
        ``"closed"``: the readout is fed back, ``x[t+1]`` receiving ``W_fb z[t]`` as in
        :func:`reservoir.simulate` with ``mode="closed"``. Since ``z[t] = W_out phi(x[t])``,
        the closed loop is the open network with ``J_eff = J + W_fb W_out``; the passes run
        on ``J_eff`` and the chain rule gives ``dL/dJ = G``, ``dL/dW_fb = G W_out^T`` and
        an extra ``W_fb^T G`` in ``dL/dW_out`` (``G = dL/dJ_eff``), exactly.
    backend : {"blas", "numba"}
        ``"blas"`` (default) advances the whole batch together, time-major, with one BLAS
        matrix product per step (two backward) inside Numba time loops
        (:mod:`reservoir._kernels.bptt_batched`), the batch split over threads (see
        :class:`BPTTWorkspace`); ``"numba"`` runs the per-trial Numba kernels of
        :mod:`reservoir._kernels.bptt`. Both compute the same gradients (tested against
        each other and against finite differences); ``"blas"`` is the fast one
        (BENCHMARKS.md).
    dtype : {float64, float32}
        Precision of the forward and backward passes (``"blas"`` only). float32 is what
        Keras and PyTorch use by default and is about twice as fast; gradients then carry
        a relative error of about 1e-5 (the loss is always summed in float64 and the
        returned gradients are float64 arrays).
    workspace : BPTTWorkspace, optional
        Buffers and worker threads reused across calls (``"blas"`` only); :func:`bptt`
        passes one. Default: a fresh one with the default number of threads.

    Returns
    -------
    loss : float
        The masked mean squared error (squared readout units).
    grads : dict of ndarray
        Same shapes as the parameters (keys ``J``, ``W_in``, ``b``, ``W_out``, plus
        ``W_fb`` when ``mode="closed"``); float64.

    Raises
    ------
    ValueError
        If ``J`` is sparse, ``mode``, ``backend`` or ``dtype`` is unknown, the shapes
        disagree, the mask is negative or excludes every step, or the stored (B, T, N)
        trajectories cannot fit in physical memory.
    TypeError
        If ``net`` is not a ``Network`` or ``dtype`` is not a dtype.
    FloatingPointError
        If the forward pass gives a non-finite loss.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if net.is_sparse:
        raise ValueError("BPTT needs a dense J (net.J is sparse)")
    if not isinstance(mode, str) or mode not in ("open", "closed"):
        raise ValueError(f"mode must be 'open' or 'closed', got {mode!r}")
    U = as_float_array(inputs, "inputs", 3, allow_empty=True)
    Y = as_float_array(targets, "targets", 3)
    B, T, M = U.shape
    if M != net.n_inputs or Y.shape != (B, T, net.n_outputs):
        raise ValueError(f"inputs must be (B, T, {net.n_inputs}) and targets "
                         f"(B, T, {net.n_outputs}) with the same B, T; got {U.shape} and "
                         f"{Y.shape}")
    if mask is None:
        W = np.ones((B, T))
    else:
        W = as_float_array(mask, "mask", (1, 2))
        if W.shape not in ((T,), (B, T), (1, T)):
            raise ValueError(f"mask must have shape ({T},) or ({B}, {T}), got {W.shape}")
        if np.any(W < 0):
            raise ValueError("mask must be non-negative (weights of the time steps)")
        W = np.broadcast_to(W, (B, T))
    check_memory(8.0 * B * T * (4 * net.N + 2 * net.n_outputs), "inputs",
                 f"array of shape {U.shape}", what="the stored (B, T, N) trajectories")
    norm = W.sum() * net.n_outputs
    if norm <= 0:
        raise ValueError("mask excludes every time step")
    if not isinstance(backend, str) or backend not in ("blas", "numba"):
        raise ValueError(f"backend must be 'blas' or 'numba', got {backend!r}")
    dt = _as_compute_dtype(dtype, backend)
    J = net.J if mode == "open" else net.J + net.W_fb @ net.W_out
    if backend == "blas":
        loss, grads = _loss_and_gradients_blas(net, J, U, Y, W, norm, dt, workspace)
    else:
        loss, grads = _loss_and_gradients_numba(net, J, U, Y, W, norm)
    if mode == "closed":
        G = grads["J"]
        grads["W_fb"] = G @ net.W_out.T
        grads["W_out"] = grads["W_out"] + net.W_fb.T @ G
    return loss, grads


def _loss_and_gradients_numba(net: Network, J, U, Y, W, norm):
    """Per-trial Numba kernels (float64)."""
    B, T, M = U.shape
    N, K = net.N, net.n_outputs
    X = np.empty((B, T, N))
    R = np.empty((B, T, N))
    Z = np.empty((B, T, K))
    code = CODES[net.phi]
    arrays = network_arrays(net, J=J)
    kernels.forward(arrays, net.alpha, code, U, np.zeros((B, N)), X, R, Z)
    diff = Z - Y
    loss = float(np.sum(W[:, :, None] * diff**2) / norm)
    if not np.isfinite(loss):
        raise FloatingPointError("BPTT forward pass produced a non-finite loss")
    E = 2.0 * W[:, :, None] * diff / norm
    C = max(1, min(B, numba.get_num_threads()))
    gJ = np.zeros((C, N, N))
    gWin = np.zeros((C, N, M))
    gb = np.zeros((C, N))
    gWout = np.zeros((C, K, N))
    kernels.backward(arrays, net.alpha, code, U, X, R, E, C, gJ, gWin, gb, gWout)
    return loss, {"J": gJ.sum(0), "W_in": gWin.sum(0), "b": gb.sum(0), "W_out": gWout.sum(0)}


class BPTTWorkspace:
    """Reusable buffers, and the worker threads, of :func:`loss_and_gradients`
    (``backend="blas"``).

    Allocating the (T, B, N) rate history afresh for every mini-batch costs more than the
    arithmetic at N = 50 (every page of a new large array is faulted in again), so
    :func:`bptt` keeps one workspace for the whole run. Holds one set of arrays per
    (T, B, N, M, K, dtype, chunk) seen (an epoch has at most two batch sizes).

    The batch is cut into contiguous chunks of trials, each run through the Numba
    kernels (which release the GIL) on its own thread, with SciPy's OpenBLAS kept on one
    thread meanwhile (:mod:`reservoir._kernels.batch_split`). At B = 64 on 2 cores this
    measured 1.4x faster in float32 and 1.7x in float64 at N = 50, and 2x at N = 200,
    than one chunk with OpenBLAS threading each product. Where SciPy's BLAS cannot be
    limited, chunk threads on top of OpenBLAS' own threads were measured 1.5x *slower*
    (N = 200), so a batch is then split only while ``B N^2 <= 2^20`` (products OpenBLAS
    keeps on one thread). Chunk gradients are summed in a fixed order, so results do not
    depend on thread timing, only (through rounding) on the number of chunks. A chunk never
    has fewer than 8 trials. Not thread-safe itself.

    Parameters
    ----------
    threads : int, optional
        Split every batch into this many chunks (at most ``B // 8``). Default: automatic,
        ``numba.get_num_threads()`` chunks (the cores Numba may use; ``NUMBA_NUM_THREADS``
        sets it), or one where that would stack thread pools (see above).
    """

    def __init__(self, threads: int | None = None):
        self.threads = None if threads is None else as_int(threads, "threads", minimum=1)
        self._sets = {}
        self._pool = ChunkPool()

    def chunks(self, B, N):
        """Split a batch into the chunks run on separate threads.

        Parameters
        ----------
        B : int
            Number of trials.
        N : int
            Number of units.

        Returns
        -------
        list of tuple of int
            Trial ranges ``[(lo, hi), ...]`` covering ``0..B``.
        """
        return chunk_ranges(B, N, self.threads)

    def map(self, fn, n):
        """Call ``fn`` on every chunk index, on worker threads when ``n > 1``.

        Parameters
        ----------
        fn : callable
            Called as ``fn(i)`` for ``i = 0, ..., n - 1``.
        n : int
            Number of calls.

        Returns
        -------
        list
            ``[fn(0), ..., fn(n - 1)]``.
        """
        return self._pool.map(fn, n)

    def get(self, T, B, N, M, K, dtype, chunk=0):
        """The buffers of one chunk, allocated on first use.

        Parameters
        ----------
        T, B, N, M, K : int
            Steps, trials in the chunk, units, inputs and readouts.
        dtype : numpy.dtype
            Working dtype of the passes (the gradient accumulators are float64).
        chunk : int
            Index of the chunk (each has its own buffers).

        Returns
        -------
        dict of ndarray
            The arrays ``R``, ``Z``, ``U``, ``E``, ``x``, ``h``, ``g_next``, ``g_cur``,
            ``step``, ``s`` and the accumulators ``gJ``, ``gW_inT``, ``gb``, ``gW_out``.
        """
        key = (T, B, N, M, K, np.dtype(dtype).str, chunk)
        if key not in self._sets:
            e = lambda *shape: np.empty(shape, dtype)  # noqa: E731
            self._sets[key] = {
                "R": e(T, B, N), "Z": e(T, B, K), "U": e(T, B, M), "E": e(T, B, K),
                "x": e(B, N), "h": e(B, N), "g_next": e(B, N), "g_cur": e(B, N),
                "step": e(N, N), "s": e(N),
                "gJ": np.empty((N, N)), "gW_inT": np.empty((M, N)), "gb": np.empty(N),
                "gW_out": np.empty((K, N))}
        return self._sets[key]


def _loss_and_gradients_blas(net: Network, J, U, Y, W, norm, dtype=np.float64,
                             workspace=None):
    """Whole batch together, time-major: loops in Numba, products on BLAS.

    See :mod:`reservoir._kernels.bptt_batched`: each step is one ``(B, N) x (N, N)``
    product (two in the backward pass, the second adding that step's share of ``dL/dJ``)
    plus fused elementwise passes; nothing in the time loops goes through Python. The
    batch is split into the workspace's chunks, one thread each.
    """
    B, T, M = U.shape
    N, K = net.N, net.n_outputs
    a = net.alpha
    ws = workspace or BPTTWorkspace()
    chunks = ws.chunks(B, N)
    bufs = [ws.get(T, hi - lo, N, M, K, dtype, i) for i, (lo, hi) in enumerate(chunks)]
    consts = np.array([1.0, 0.5, 1.0 - a], dtype=dtype)
    code = CODES[net.phi]
    arrays = network_arrays(net, dtype, step_scaled=True, J=J)   # alpha J, alpha W_in, ...

    def forward(i):
        lo, hi = chunks[i]
        buf = bufs[i]
        np.copyto(buf["U"], U[lo:hi].transpose(1, 0, 2))
        batched.forward(buf["U"], arrays, consts, code, buf["R"], buf["Z"], buf["x"],
                        buf["h"])

    def backward(i):
        buf = bufs[i]
        batched.backward(buf["R"], buf["E"], buf["U"], arrays, consts, code, buf["gJ"],
                         buf["gW_inT"], buf["gb"], buf["gW_out"], buf["g_next"],
                         buf["g_cur"], buf["h"], buf["step"], buf["s"])

    ws.map(forward, len(chunks))
    loss = 0.0
    with np.errstate(over="ignore", invalid="ignore"):   # checked just below
        for (lo, hi), buf in zip(chunks, bufs):
            diff = buf["Z"] - Y[lo:hi].transpose(1, 0, 2)         # float64
            Wt = W[lo:hi].T[:, :, None]
            loss += float(np.sum(Wt * diff**2))
            np.copyto(buf["E"], (2.0 / norm) * Wt * diff)          # dL/dz, (T, b, K)
    loss /= norm
    if not np.isfinite(loss):
        raise FloatingPointError("BPTT forward pass produced a non-finite loss")
    ws.map(backward, len(chunks))
    g = {k: sum(buf[k] for buf in bufs) for k in ("gJ", "gW_inT", "gb", "gW_out")}
    return loss, {"J": a * g["gJ"], "W_in": a * g["gW_inT"].T, "b": a * g["gb"],
                  "W_out": g["gW_out"]}


def dale_signs(N: int, excitatory_fraction: float) -> np.ndarray:
    """+1 for the first ``round(f N)`` (excitatory) units, -1 for the rest."""
    n_e = int(round(excitatory_fraction * N))
    return np.r_[np.ones(n_e), -np.ones(N - n_e)]


def project_dale(J: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Zero every weight whose sign disagrees with its presynaptic unit's (column) sign."""
    return np.where(J * signs[None, :] >= 0, J, 0.0)


@dataclass
class AdamState:
    """Adam moments and step counter (plain arrays; ``step`` counts mini-batches)."""

    m: dict
    v: dict
    step: int = 0


def adam_update(params: dict, grads: dict, state: AdamState, *, lr: float, decay: float,
                beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                clip_norm: float | None = None) -> dict:
    """One Adam step (Kingma & Ba: bias-corrected moments, ``eps`` added to the root of the
    corrected second moment) with Keras' legacy rate ``lr / (1 + decay * k)`` (``k`` =
    steps before this one), after per-parameter norm clipping."""
    state.step += 1
    k = state.step
    lr_k = lr / (1.0 + decay * (k - 1))
    out = {}
    for name, p in params.items():
        g = grads[name]
        if clip_norm is not None:
            nrm = np.linalg.norm(g)
            if nrm > clip_norm:
                g = g * (clip_norm / nrm)
        state.m[name] = beta1 * state.m[name] + (1 - beta1) * g
        state.v[name] = beta2 * state.v[name] + (1 - beta2) * g * g
        m_hat = state.m[name] / (1 - beta1**k)
        v_hat = state.v[name] / (1 - beta2**k)
        out[name] = p - lr_k * m_hat / (np.sqrt(v_hat) + eps)
    return out


@dataclass(frozen=True, eq=False, repr=False)
class BPTTResult(ResultMixin):
    """Result of :func:`bptt`.

    Parameters
    ----------
    network : Network
        The trained network.
    loss_history : ndarray, shape (n_epochs,)
        Mean training loss of each epoch (squared readout units).
    batch_losses : ndarray, shape (n_batches,)
        Loss of every mini-batch (before its update).
    stopped_early : bool
        The epoch loss went below ``early_stop``.
    success : bool
        With an ``early_stop`` threshold: the loss went below it. Without one: every
        epoch run had a finite loss. False after a blow-up (``blow_up``).
    messages : tuple of str
        Why training stopped when it did not run all epochs, or why it failed.
    n_epochs : int
        Number of epochs completed (the epochs of ``loss_history``; after a blow-up, the
        epochs before the one that blew up).
    n_batches : int
        Number of mini-batches (Adam steps) of those epochs.
    dale_signs : ndarray, shape (N,), or None
        The sign of each presynaptic unit under Dale's law (``None`` without ``dale``).
    blow_up : tuple of int, or None
        ``(epoch, batch)``, both counted from 1, of the mini-batch where training blew up
        (a non-finite loss, or an Adam step giving non-finite parameters); ``None`` when
        it did not. ``network`` is then the network after the last completed epoch (the
        one :func:`bptt` with ``epochs=epoch - 1`` and the same ``rng`` returns; the
        initial network when ``epoch == 1``), and a message says what happened.
    """

    network: Network
    loss_history: np.ndarray
    batch_losses: np.ndarray
    stopped_early: bool
    success: bool
    messages: tuple
    n_epochs: int
    n_batches: int
    dale_signs: np.ndarray | None = None
    blow_up: tuple | None = None


def bptt(net: Network, task: Task, *, epochs: int = 20, batch_size: int = 64,
         lr: float = 1e-4, decay: float = 1e-4, clip_norm: float | None = None,
         train=PARAMS, mode: str = "open", dale: float | None = None,
         early_stop: float | None = None,
         callback=None, backend: str = "blas", dtype=np.float64, threads: int | None = None,
         rng=None) -> BPTTResult:
    """Train ``net`` on ``task`` by BPTT with Adam.

    Parameters
    ----------
    net : Network
        Dense network; its ``W_fb`` is used only with ``mode="closed"``.
    task : Task
        Batched task (``inputs`` (B, T, M), ``targets`` (B, T, K), ``mask``).
    epochs, batch_size : int
        Passes over the trials (shuffled every epoch) and mini-batch size.
    lr, decay : float
        Adam learning rate and Keras' legacy inverse-time decay.
    clip_norm : float, optional
        Clip each parameter's gradient to this norm (Keras ``clipnorm``).
    train : iterable of {"J", "W_in", "b", "W_out", "W_fb"}
        Parameters to train (``"W_fb"`` only with ``mode="closed"``).
    mode : {"open", "closed"}
        Train the open-loop network (default) or the feedback network in closed loop; see
        :func:`loss_and_gradients`. Evaluate the result with :func:`reservoir.simulate` in
        the same mode.
    dale : float, optional
        Fraction of excitatory units for Dale's law (signs of outgoing weights fixed; the
        initial ``J`` is projected onto the constraint).
    early_stop : float, optional
        Stop after an epoch whose mean loss is below this (default: the task's
        ``info["early_stop"]`` if present).
    callback : callable, optional
        Called as ``callback(epoch, epoch_loss, network)`` after every epoch (progress);
        returning ``True`` stops training.
    backend : {"blas", "numba"}
        See :func:`loss_and_gradients`.
    dtype : {float64, float32}
        Precision of the forward/backward passes (see :func:`loss_and_gradients`); the
        parameters and Adam's moments stay float64.
    threads : int, optional
        Threads over which each mini-batch is split (``backend="blas"``); see
        :class:`BPTTWorkspace`. Default: automatic (all of Numba's threads for small
        networks, one where OpenBLAS threads the products itself).
    rng : None, int, SeedSequence or Generator
        Source of the shuffling of the trials.

    Returns
    -------
    BPTTResult
        The trained network, the loss record and whether the loss reached
        ``early_stop``. A floating-point blow-up (a non-finite mini-batch loss, or an
        update giving non-finite parameters) does not raise: training stops, the result
        has ``success=False``, ``blow_up=(epoch, batch)``, a message saying where, and
        the network after the last completed epoch (see :class:`BPTTResult`).

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network`` or ``task`` not a ``Task``.
    ValueError
        If ``J`` is sparse, the task is not batched, or a setting is out of range
        (``train`` naming a parameter that ``mode`` does not train, ``dale`` outside
        (0, 1], ...), or the loss history (``epochs``) or the stored trajectories of a
        mini-batch (``batch_size`` x T x N) cannot fit in physical memory.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    if not task.is_batched:
        raise ValueError("task must be batched (inputs of shape (B, T, M))")
    epochs = as_int(epochs, "epochs", minimum=1)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    lr = as_positive_float(lr, "lr")
    decay = as_positive_float(decay, "decay", allow_zero=True)
    if clip_norm is not None:
        clip_norm = as_positive_float(clip_norm, "clip_norm")
    if not isinstance(mode, str) or mode not in ("open", "closed"):
        raise ValueError(f"mode must be 'open' or 'closed', got {mode!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    try:
        train = tuple(train)
    except TypeError:
        raise TypeError(f"train must be a sequence of parameter names, got "
                        f"{type(train).__name__}") from None
    allowed = ALL_PARAMS if mode == "closed" else PARAMS
    bad = [p for p in train if not isinstance(p, str) or p not in allowed]
    if bad or not train:
        raise ValueError(f"train must be a non-empty subset of {allowed} in mode "
                         f"{mode!r}, got {train}")
    if early_stop is None:
        early_stop = task.info.get("early_stop")
    _as_compute_dtype(dtype, backend)
    B_all, T_all = task.inputs.shape[0], task.inputs.shape[1]
    n_batches = -(-B_all // batch_size)
    check_memory(8.0 * epochs * (n_batches + 2), "epochs", epochs,
                 what=f"the loss history of {n_batches} mini-batches per epoch")
    check_memory(8.0 * min(batch_size, B_all) * T_all * (4 * net.N + 2 * net.n_outputs)
                 + 8.0 * 4 * net.N * net.N, "batch_size", batch_size,
                 what=f"the stored (batch, T={T_all}, N={net.N}) trajectories")
    gen = as_rng(rng)
    params = {"J": np.array(net.dense_J()), "W_in": np.array(net.W_in),
              "b": np.array(net.b), "W_out": np.array(net.W_out), "W_fb": np.array(net.W_fb)}
    signs = None
    if dale is not None:
        dale = as_positive_float(dale, "dale")
        if dale > 1:
            raise ValueError(f"dale (excitatory fraction) must be in (0, 1], got {dale}")
        signs = dale_signs(net.N, dale)
        params["J"] = np.abs(params["J"]) * signs[None, :]
    state = AdamState(m={p: np.zeros_like(params[p]) for p in train},
                      v={p: np.zeros_like(params[p]) for p in train})
    B = task.inputs.shape[0]
    workspace = BPTTWorkspace(threads)
    current = dataclasses.replace(net, J=params["J"])
    history, batch_losses, messages = [], [], []
    stopped = False
    blow_up = None
    n_per_epoch = -(-B // batch_size)
    for epoch in range(epochs):
        order = gen.permutation(B)
        losses = []
        last_good = current        # the network after the previous epoch (immutable)
        for j, s in enumerate(range(0, B, batch_size)):
            idx = order[s:s + batch_size]
            where = (f"epoch {epoch + 1} of {epochs}, mini-batch {j + 1} of {n_per_epoch} "
                     f"(learning rate lr = {lr:.4g})")
            try:
                loss, grads = loss_and_gradients(
                    current, task.inputs[idx], task.targets[idx], task.mask[idx],
                    mode=mode, backend=backend, dtype=dtype, workspace=workspace)
            except FloatingPointError:
                blow_up = (epoch + 1, j + 1)
                messages.append(f"floating-point blow-up in {where}: the forward pass gave "
                                "a non-finite loss")
                break
            with np.errstate(over="ignore", invalid="ignore"):   # checked just below
                new = adam_update({p: params[p] for p in train}, grads, state, lr=lr,
                                  decay=decay, clip_norm=clip_norm)
            if not all(np.all(np.isfinite(v)) for v in new.values()):
                blow_up = (epoch + 1, j + 1)
                bad = [p for p, v in new.items() if not np.all(np.isfinite(v))]
                messages.append(f"floating-point blow-up in {where}: the Adam step gave "
                                f"non-finite {', '.join(bad)} (gradient not finite or too "
                                f"large; mini-batch loss {loss:.4g})")
                break
            losses.append(loss)
            params.update(new)
            if signs is not None:
                params["J"] = project_dale(params["J"], signs)
            current = dataclasses.replace(current, J=params["J"], W_in=params["W_in"],
                                          b=params["b"], W_out=params["W_out"],
                                          W_fb=params["W_fb"])
        if blow_up is not None:
            current = last_good
            messages[-1] += (f"; returning the network after the last completed epoch "
                             f"({epoch} of {epochs}"
                             + (", the initial network)" if epoch == 0 else ")")
                             + f"; the {len(losses)} mini-batch step(s) of epoch "
                             f"{epoch + 1} before it are discarded (try a smaller lr or "
                             "clip_norm)")
            break
        batch_losses.extend(losses)
        epoch_loss = float(np.mean(losses))
        history.append(epoch_loss)
        if callback is not None and callback(epoch, epoch_loss, current):
            messages.append(f"stopped by the callback after epoch {epoch + 1} of {epochs}")
            break
        if early_stop is not None and epoch_loss < early_stop:
            stopped = True
            messages.append(f"stopped early after epoch {epoch + 1} of {epochs}: mean loss "
                            f"{epoch_loss:.4g} < early_stop = {early_stop:.4g}")
            break
    success = bool(np.all(np.isfinite(history))) and blow_up is None
    if early_stop is not None and not stopped and blow_up is None:
        success = False
        messages.append(f"the mean loss of the last epoch, {history[-1]:.4g}, is not below "
                        f"early_stop = {early_stop:.4g} after {len(history)} epochs")
    return BPTTResult(network=current, loss_history=np.array(history),
                      batch_losses=np.array(batch_losses), stopped_early=stopped,
                      success=success, messages=tuple(messages), n_epochs=len(history),
                      n_batches=len(batch_losses), dale_signs=signs, blow_up=blow_up)
