"""Simulation of a :class:`~reservoir.network.Network`: open loop, teacher forcing, closed loop.

Feedback convention
-------------------
The value fed back while computing ``x[t+1]`` is the one *for time t*:

* ``mode="closed"``: the network's own readout ``z[t] = W_out phi(x[t]) + b_out``;
* ``mode="teacher"``: the target ``y[t]`` (open loop with teacher forcing, for training),
  plus the feedback noise ``feedback_noise_std * xi[t]`` when asked (see below);
* ``mode="open"``: nothing (0).

so a readout trained on teacher-forced states sees exactly the inputs it will see in
closed loop. Row ``t`` of a trajectory is the state ``x[t]`` *before* step ``t``
(``x[0] = x0``) with ``r[t] = phi(x[t])`` and ``z[t] = W_out r[t] + b_out``; the input
``u[t]`` acts on ``x[t+1]``. The state after the last step is ``Trajectory.x_final``, so
running ``T1`` steps and then ``T2`` steps from ``x_final`` gives exactly the same
states as running ``T1 + T2`` steps at once (without noise, or one trial with state noise
only; with the same thread settings and no other thread simulating or running BLAS
meanwhile, since a batch's product path reads the process's BLAS thread count).

Noise
-----
``noise_std = sigma`` adds white noise to the continuous-time dynamics,
``tau dx = (...) dt + sigma sqrt(tau) dW``; Euler–Maruyama adds
``sigma * sqrt(dt / tau) * xi`` with ``xi ~ N(0, I)`` to each update. The continuous
process has stationary variance ``sigma**2 / 2`` for a leaky unit (no recurrence, input or
feedback: an Ornstein-Uhlenbeck process); the simulated one does not. With
``alpha = dt / tau`` such a unit follows ``x[t+1] = (1 - alpha) x[t] + sigma sqrt(alpha) xi[t]``,
so its stationary variance ``v`` solves ``v = (1 - alpha)**2 v + sigma**2 alpha``:
``v = sigma**2 / (2 - alpha)`` (``sigma**2`` at ``alpha = 1``), which tends to ``sigma**2 / 2``
only as ``dt / tau -> 0`` (relative excess ``alpha / (2 - alpha)``, about ``alpha / 2``).

Readout intercept
-----------------
The recorded readout is ``z[t] = W_out r[t] + b_out`` in every mode. In closed loop the
fed-back ``z[t]`` includes ``b_out``: ``W_fb z[t] = W_fb W_out r[t] + W_fb b_out``, a
constant current, so a closed-loop run is the run of the network with the bias
``b + W_fb b_out`` and no intercept (the kernels are given that bias:
:func:`~reservoir._kernels.arrays.closed_loop_bias`); its states are bit for bit those of
that folded network, and its recorded ``z`` is the folded network's plus ``b_out``. In
teacher forcing the target is fed back and in open loop nothing, so there the intercept
only shifts the recorded ``z``.

Feedback noise
--------------
``feedback_noise_std = s`` (teacher forcing only) feeds back ``y[t] + s xi[t]`` with
``xi[t] ~ N(0, I_K)`` independent per step and trial, in readout units and not scaled by
``dt`` (one draw per Euler step, as the target itself is given per step): the classic
cure for a generator that drifts once its loop is closed (Jaeger 2001; the network learns
to correct small errors in what it is fed). It is distinct from the state noise
``noise_std``; it changes the states but not the recorded ``z`` (the network's own
readout). Draw order (so that a run can be reproduced with the same ``rng``): the feedback
noise is drawn first, in one call ``rng.standard_normal((B, T, K))`` (``B = 1`` for an
unbatched run), then the state noise, ``rng.standard_normal((B, Tc, N))`` for each chunk
of ``Tc`` steps in time order (one chunk, ``Tc = T``, unless the run needs more than 64 MiB
of noise per chunk). ``feedback_noise_std = 0`` draws nothing: the same bits as without
it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Iterable

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._checks import (as_float_array, as_int, as_positive_float, as_real_array, as_rng,
                      check_memory, check_rng)
from ._kernels import MODE_CODES, check_fork_safe
from ._checks import RngLike
from ._kernels import euler, euler_batch
from ._kernels.arrays import column_panels, network_arrays
from ._kernels.batch_split import chunk_ranges, shared_pool
from ._kernels.blas_threads import blas_threads, single_threaded_blas
from ._kernels.gemm_rows import SKINNY_MIN_N, batch_product_rows
from ._results import ResultMixin
from .errors import SimulationDivergedError

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import xarray
from .network import Network
from .nonlinearities import CODES

_CHUNK_BYTES = 64 * 2**20
#: Single-trial runs of at least this many steps get a 64-byte aligned copy of a dense
#: ``J`` (the batch kernel makes its own copy of ``J.T``; see
#: :func:`~reservoir._kernels.arrays.network_arrays`; the copy costs about two steps).
_ALIGN_MIN_STEPS = 64


@dataclass(frozen=True, eq=False, repr=False)
class Trajectory(ResultMixin):
    """A simulated trajectory.

    Plain container: nothing here can fail (a simulation whose state becomes non-finite
    raises :class:`~reservoir.SimulationDivergedError` instead of returning).

    Parameters
    ----------
    x : ndarray or None
        States, shape (T, N), or (B, T, N) for a batch; ``x[..., 0, :]`` is ``x0``.
        Entries not requested through ``record`` (``x``, ``r``, ``z``) are ``None``.
    r : ndarray or None
        Rates ``phi(x)``, same shape as ``x``.
    z : ndarray or None
        Readouts ``W_out r + b_out``, shape (T, K) or (B, T, K).
    x_final : ndarray
        State after the last step, shape (N,) or (B, N).
    mode : str
        Feedback mode used.
    dt : float
        Time step (time of row ``t`` is ``t * dt``).
    n_steps : int
        Number of steps ``T`` simulated.
    """

    x: np.ndarray | None
    r: np.ndarray | None
    z: np.ndarray | None
    x_final: np.ndarray
    mode: str
    dt: float
    n_steps: int

    @property
    def t(self) -> np.ndarray:
        """Times of the rows, ``arange(T) * dt``, shape (T,), in the time unit of ``dt``."""
        return np.arange(self.n_steps) * self.dt

    def to_xarray(self, net: Network | None = None) -> "xarray.Dataset":
        """The trajectory as an ``xarray.Dataset`` (dims ``trial``, ``time``, ``unit``,
        ``readout``; the network's parameters in ``attrs`` when ``net`` is given); needs
        ``pip install reservoir[xarray]``. See :mod:`reservoir._xarray`."""
        from ._xarray import trajectory_to_xarray
        return trajectory_to_xarray(self, net)


def check_mode(mode) -> int:
    """Validate a feedback mode name and return its kernel code."""
    if not isinstance(mode, str):
        raise TypeError(f"mode must be one of {tuple(MODE_CODES)}, got {type(mode).__name__}")
    if mode not in MODE_CODES:
        raise ValueError(f"mode must be one of {tuple(MODE_CODES)}, got {mode!r}")
    return MODE_CODES[mode]


def prepare_batch(net: Network, inputs, targets, x0, n_steps, mode_code: int, *,
                  convert: bool = True):
    """Validate and broadcast inputs, targets and initial states to batched arrays.

    ``convert=False`` leaves the inputs and targets in their own dtype and layout
    (validated the same way, finite in float64) for a caller that converts them chunk by
    chunk; absent inputs are a broadcast view of zeros either way.

    Returns
    -------
    U : (B, T, M), Y : (B, T, K) or (B, 0, K), X : (B, N) (a fresh copy), batched : bool
    """
    as_data = as_float_array if convert else as_real_array
    N, M, K = net.N, net.n_inputs, net.n_outputs
    batched = False
    if inputs is None:
        if n_steps is None:
            raise ValueError("n_steps is required when inputs is None")
        T = as_int(n_steps, "n_steps", minimum=1)
        U = None
    else:
        U = as_data(inputs, "inputs", (2, 3), allow_empty=True)
        if U.shape[-2] == 0:
            raise ValueError(f"inputs must have at least one time step, got shape {U.shape}")
        if U.shape[-1] != M:
            raise ValueError(f"inputs must have {M} channels (last axis) to match "
                             f"net.W_in, got shape {U.shape}")
        if U.ndim == 3:
            batched = True
            if U.shape[0] == 0:
                raise ValueError("inputs must contain at least one trial")
        T = U.shape[-2]
        if n_steps is not None and as_int(n_steps, "n_steps", minimum=1) != T:
            raise ValueError(f"n_steps={n_steps} disagrees with inputs ({T} steps)")
    Y = None
    if mode_code == MODE_CODES["teacher"]:
        if targets is None:
            raise ValueError("mode='teacher' needs targets (the signal fed back)")
        Y = as_data(targets, "targets", (2, 3))
        if Y.shape[-2] != T or Y.shape[-1] != K:
            raise ValueError(f"targets must have shape ({T}, {K}) or (B, {T}, {K}) to match "
                             f"inputs/n_steps and net.W_out, got {Y.shape}")
        batched = batched or Y.ndim == 3
    if x0 is None:
        X = None
    else:
        X = as_float_array(x0, "x0", (1, 2))
        if X.shape[-1] != N:
            raise ValueError(f"x0 must have shape ({N},) or (B, {N}), got {X.shape}")
        batched = batched or X.ndim == 2
    sizes = {name: a.shape[0] for name, a in (("inputs", U), ("targets", Y), ("x0", X))
             if a is not None and a.ndim == (2 if name == "x0" else 3)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"batch sizes disagree: {sizes}")
    B = next(iter(sizes.values())) if sizes else 1
    if U is None:
        U = np.broadcast_to(np.zeros(M), (B, T, M))    # copied where a kernel needs it
    elif U.ndim == 2:
        U = np.broadcast_to(U, (B, T, M))
    if Y is None:
        Y = np.zeros((B, 0, K))
    elif Y.ndim == 2:
        Y = np.broadcast_to(Y, (B, T, K))
    if X is None:
        X = np.zeros((B, N))
    elif X.ndim == 1:
        X = np.repeat(X[None, :], B, axis=0)
    else:
        X = X.copy()
    return U, Y, X, batched


def advance(net: Network, X, U, Y, mode_code: int, noise_scale: float, noise, out_x, out_r,
            out_z, t_offset: int = 0) -> None:
    """Run the kernel on one chunk; ``X`` (B, N) is updated in place.

    ``U`` (B, Tc, M); ``Y`` (B, Tc, K) or (B, 0, K); ``noise`` (B, Tc, N) or (B, 0, N);
    outputs (B, Tc, .) or (B, 0, .). The readout intercept ``b_out`` is honoured: folded
    into the bias in closed loop, added to the recorded ``z`` in every mode. Raises
    ``SimulationDivergedError``.
    """
    B = X.shape[0]
    code = CODES[net.phi]
    alpha = net.alpha
    arrays = network_arrays(net, fold_intercept=mode_code == MODE_CODES["closed"],
                            align=B == 1 and U.shape[1] >= _ALIGN_MIN_STEPS,
                            panels=_panels(net, B))
    _run_kernels(net, arrays, alpha, code, X, U, Y, mode_code, noise_scale, noise, out_x,
                 out_r, out_z, t_offset)
    if out_z.shape[1] and net.has_intercept:
        out_z += net.b_out


def _panels(net: Network, B: int) -> int:
    """Column panels of a sparse ``J`` for a run of ``B`` trials: those of
    :func:`~reservoir._kernels.arrays.column_panels` for one trial of a large network
    (its product then reads ``r`` from the L1 cache: N = 4000, 10 %, one core, 1224 ->
    705 us per step, issue 16), plain CSR for a batch (no gain there). A function of the
    network and ``B`` only, so that a run continued in pieces keeps its bits, and
    ``fit_ridge``'s run gives ``simulate``'s."""
    return column_panels(net.N, net.J.nnz) if B == 1 and net.is_sparse else 1


def _run_kernels(net, arrays, alpha, code, X, U, Y, mode_code, noise_scale, noise, out_x,
                 out_r, out_z, t_offset):
    """The kernel call of :func:`advance` (raises ``SimulationDivergedError``)."""
    B = X.shape[0]
    if B == 1:
        check_fork_safe()
        status = euler.run_single(arrays, alpha, code, mode_code, X[0],
                                  np.ascontiguousarray(U[0]), np.ascontiguousarray(Y[0]),
                                  np.ascontiguousarray(noise[0]), noise_scale, out_x[0],
                                  out_r[0], out_z[0])
        if status >= 0:
            raise SimulationDivergedError(t_offset + status, 0)
        return
    U = np.ascontiguousarray(U)
    Y = np.ascontiguousarray(Y)
    if net.is_sparse:
        check_fork_safe()
        status = euler.run_sparse_batch(arrays, alpha, code, mode_code, X, U, Y, noise,
                                        noise_scale, out_x, out_r, out_z)
    else:
        status = _dense_batch(arrays, alpha, code, X, U, Y, mode_code, noise_scale, noise,
                              out_x, out_r, out_z)
    if status >= 0:
        raise SimulationDivergedError(t_offset + status // B, status % B)


def closed_loop_runner(net: Network, u):
    """A function ``run(x, n)`` that advances a state ``x`` (N,), or a batch of states
    (B, N), ``n`` closed-loop steps at the constant input ``u`` (M,) and returns the new
    state (a new array of ``x``'s shape), or ``None`` when an update is non-finite.

    The kernel arrays are built once (once for one state and once for a batch, whose
    column panels of a sparse ``J`` differ), not per call as in :func:`simulate`: for the many
    short runs of a Lyapunov estimate (copying and checking ``J`` each call cost more than
    the steps themselves at N = 1000). The same kernels and bits as
    ``simulate(net, inputs, x, mode="closed").x_final``.
    """
    code = CODES[net.phi]
    bundles = {}       # one trial / a batch (the column panels of a sparse J differ)
    u = np.ascontiguousarray(u, dtype=np.float64)
    N, K = net.N, net.n_outputs
    buffers = {}

    def run(x, n):
        X = np.array(x, dtype=np.float64).reshape(-1, N)
        B = X.shape[0]
        if (B, n) not in buffers:
            buffers[B, n] = (np.ascontiguousarray(np.broadcast_to(u, (B, n, u.size))),
                             np.empty((B, 0, K)), np.empty((B, 0, N)), np.empty((B, 0, K)))
        U, Y, empty_n, empty_k = buffers[B, n]
        P = _panels(net, B)
        if P not in bundles:
            bundles[P] = network_arrays(net, fold_intercept=True, align=True, panels=P)
        try:
            _run_kernels(net, bundles[P], net.alpha, code, X, U, Y, MODE_CODES["closed"], 0.0,
                         empty_n, empty_n, empty_n, empty_k, 0)
        except SimulationDivergedError:
            return None
        return X.reshape(np.shape(x))
    return run


#: Below this many multiply-adds (B T N^2) a batch's chunks run one after the other on the
#: calling thread: starting workers would cost more than they save.
_SPLIT_MIN_WORK = 2**21
#: Above this N a dense batch is not cut into chunks of trials on worker threads: each
#: worker would stream all of ``J`` (more than 4 MiB) every step, while one product on
#: BLAS's own threads splits ``J`` between them. Two cores (AMD EPYC, issue 16), wall time
#: per trial-step, chunks / one product: N = 500 8.5 / 8.9 us (B = 16), 6.4 / 6.9 (64);
#: N = 1000 36 / 32 (16), 31 / 26 (64); N = 2000 272 / 186 (16), 143 / 128 (64).
_SPLIT_MAX_N = 724
#: Above :data:`_SPLIT_MAX_N` (up to this N) a batch is still cut into chunks on worker
#: threads when every chunk has at most :data:`_SPLIT_SKINNY_MAX_B` trials: each chunk then
#: runs our own product (:func:`.gemm_rows.skinny_dot`, 44-49 GFLOP/s per core at
#: 16-32 trials), ahead of one product on OpenBLAS's two threads. Two cores, wall time per
#: trial-step (medians of 7), chunks / one product / JAX: N = 1000, B = 16 28.3 / 33.3 /
#: 43.9; B = 64 23.1 / 27.0 / 27.4; N = 1500, B = 64 72.0 / 75.8 / 76.5; N = 2000, B = 16
#: 196 / 213 / 190, B = 32 150 / 154 / 154, B = 64 127 / 128 / 120. Chunks of 64 trials
#: or more were slower (N = 1000, B = 128: 28.4 / 27.1; B = 256 25.7 / 23.5; N = 2000,
#: B = 128: 104 / 98).
_SPLIT_SKINNY_MAX_N = 2048
_SPLIT_SKINNY_MAX_B = 32
#: From :data:`.gemm_rows.SKINNY_MIN_N` units a chunk may hold a single trial (fewer
#: units: at least 8). A batch of 2-15 trials was one product on BLAS's two threads, with
#: a transposed copy of ``J`` per call; split, each chunk runs ``skinny_dot`` on its own
#: core. Two cores, wall time per step (all trials), 300 steps, medians of 7, one product
#: / split: N = 500, B = 2 / 3 / 4 / 8 / 15: 39 / 60 / 43 / 97 / 149 against 36 / 36 / 35 /
#: 51 / 104 us; N = 1000: 196 / 220 / 239 / 335 / 464 against 118 / 144 / 150 / 198 /
#: 429; N = 2000 (beyond the caches): 1638 / 1730 / 1643 / 1956 / 2594 against 1098 / 1164
#: / 1414 / 2049 / 2685.


def _dense_batch(arrays, alpha, code, X, U, Y, mode_code, noise_scale, noise, out_x, out_r,
                 out_z):
    """Dense batch through :func:`euler_batch.run_dense_batch`, the trials split into
    chunks on worker threads (:mod:`._kernels.batch_split`) for networks of up to
    :data:`_SPLIT_MAX_N` units (and up to :data:`_SPLIT_SKINNY_MAX_N` when every chunk has
    at most :data:`_SPLIT_SKINNY_MAX_B` trials), one call with BLAS's own threads
    otherwise. Returns the kernel's status
    for the whole batch: ``t * B + trial`` of the earliest non-finite update, or -1."""
    B, N = X.shape
    T = U.shape[1]
    K = arrays.W_out.shape[0]
    Xc = X if X.flags.c_contiguous else np.ascontiguousarray(X)
    # the chunks (and so each trial's arithmetic) depend on B and N only, never on T: a
    # run continued from x_final gives the bits of the whole run; short runs execute the
    # same chunks one after the other on this thread
    chunks = chunk_ranges(B, N, None, min_chunk=1 if N >= SKINNY_MIN_N else 8)
    if N > _SPLIT_MAX_N and len(chunks) > 1 and (
            N > _SPLIT_SKINNY_MAX_N or max(hi - lo for lo, hi in chunks) > _SPLIT_SKINNY_MAX_B):
        chunks = chunk_ranges(B, N, 1)
    # each call on one thread: chunks on worker threads (BLAS kept single-threaded while
    # they run), or a single-threaded BLAS; otherwise BLAS may thread the product
    single = len(chunks) > 1 or (blas_threads() or 2) == 1

    def run(i):
        lo, hi = chunks[i]
        return euler_batch.run_dense_batch(
            arrays, alpha, code, mode_code, Xc[lo:hi], U[lo:hi], Y[lo:hi], noise[lo:hi],
            noise_scale, out_x[lo:hi], out_r[lo:hi], out_z[lo:hi],
            np.empty((hi - lo, N)), np.empty((hi - lo, N)), np.empty((hi - lo, K)),
            batch_product_rows(hi - lo, N, single))

    if len(chunks) > 1 and B * T * N * N < _SPLIT_MIN_WORK:
        with single_threaded_blas():       # as on the workers
            statuses = [run(i) for i in range(len(chunks))]
    else:
        statuses = shared_pool().map(run, len(chunks))
    if Xc is not X:
        X[...] = Xc
    first = min(((s // (hi - lo), lo + s % (hi - lo)) for (lo, hi), s in zip(chunks, statuses)
                 if s >= 0), default=None)
    return -1 if first is None else first[0] * B + first[1]


def chunk_length(B: int, N: int, T: int, arrays_per_step: int) -> int:
    """Number of steps per kernel call keeping ``arrays_per_step`` (B, Tc, N) buffers
    under the chunk memory budget."""
    if arrays_per_step == 0:
        return T
    per_step = max(1, B * N * 8 * arrays_per_step)
    return int(max(1, min(T, _CHUNK_BYTES // per_step)))


def simulate(net: Network, inputs: ArrayLike | None = None, x0: ArrayLike | None = None, *,
             mode: str, targets: ArrayLike | None = None, n_steps: int | None = None,
             noise_std: float = 0.0, rng: RngLike = None, record: Iterable[str] = ("x", "r", "z"),
             feedback_noise_std: float = 0.0) -> Trajectory:
    """Simulate the network with forward Euler.

    Parameters
    ----------
    net : Network
        The network to run (dense or sparse ``J``).
    inputs : array_like, shape (T, M) or (B, T, M), optional
        Input ``u[t]``; ``None`` means zero input for ``n_steps`` steps.
    x0 : array_like, shape (N,) or (B, N), optional
        Initial state (default 0). A single ``x0`` is used for every trial of a batch.
    mode : {"closed", "teacher", "open"}
        What is fed back through ``W_fb`` (see module docstring). Required: there is no
        silent default for the feedback semantics.
    targets : array_like, shape (T, K) or (B, T, K), optional
        The teacher signal ``y[t]`` (required for ``mode="teacher"``, ignored otherwise).
    n_steps : int, optional
        Number of steps when ``inputs`` is None.
    noise_std : float
        Standard deviation ``sigma`` of the state noise (see module docstring), in state
        units per square root of ``tau``.
    rng : None, int, SeedSequence or Generator
        Source of the noise (only used when ``noise_std > 0`` or
        ``feedback_noise_std > 0``; the draw order is in the module docstring).
    record : iterable of {"x", "r", "z"}
        Which arrays to keep (the others are ``None`` in the result).
    feedback_noise_std : float
        Standard deviation ``s`` of Gaussian white noise added to the fed-back target in
        teacher forcing, ``y[t] + s xi[t]`` (readout units, one draw per step and trial,
        not scaled by ``dt``; see the module docstring). Not added to the recorded ``z``
        or to the state. Default 0 (none); only ``mode="teacher"`` accepts a positive
        value.

    Returns
    -------
    Trajectory
        States ``x`` and rates ``r`` of shape (T, N), readouts ``z = W_out r + b_out``
        (the network's readout intercept included, in every mode) of shape (T, K), and
        ``x_final`` of shape (N,); batched arrays (leading axis B) if any of ``inputs``,
        ``targets`` or ``x0`` is batched. Trial ``i`` of a noise-free batch agrees with
        running it alone to rounding, not bit for bit (the batch's product runs on BLAS,
        or for a few trials on a blocked Numba product, a single trial on Numba's row
        loop): each step's update differs by a few units in
        the last place, and the difference then evolves like any perturbation of the
        state (it stays at the rounding level in a contracting network and grows at the
        largest Lyapunov exponent in a chaotic one).

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network`` or ``mode`` is not a string.
    ValueError
        If ``mode`` or a ``record`` entry is unknown, or an array has the wrong shape or
        non-finite values (``targets`` missing with ``mode="teacher"``, ``n_steps`` missing
        without ``inputs``, batch sizes that disagree, ...), ``rng`` is invalid (checked
        even without noise), ``feedback_noise_std`` is negative, not finite, or positive
        with a ``mode`` other than ``"teacher"`` (nothing else feeds back a target), or
        the recorded arrays cannot fit in physical memory.
    SimulationDivergedError
        If the state becomes non-finite (names the step and trial).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    mode_code = check_mode(mode)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    feedback_noise_std = as_positive_float(feedback_noise_std, "feedback_noise_std",
                                           allow_zero=True)
    if feedback_noise_std > 0 and mode_code != MODE_CODES["teacher"]:
        raise ValueError(f"feedback_noise_std must be 0 with mode={mode!r}: it is noise on "
                         f"the fed-back target, and only mode='teacher' feeds back a target "
                         f"(got feedback_noise_std={feedback_noise_std!r})")
    try:
        record = tuple(record)
    except TypeError:
        raise TypeError(f"record must be an iterable of 'x', 'r', 'z', got "
                        f"{type(record).__name__}") from None
    bad = [k for k in record if not isinstance(k, str) or k not in ("x", "r", "z")]
    if bad:
        raise ValueError(f"record entries must be 'x', 'r' or 'z', got {bad}")
    check_rng(rng)  # validated even when unused
    gen = as_rng(rng) if (noise_std > 0 or feedback_noise_std > 0) else None
    if inputs is None and n_steps is not None:
        T = as_int(n_steps, "n_steps", minimum=1)
        n_rec = sum(k in record for k in ("x", "r"))
        check_memory(8.0 * T * (net.n_inputs + n_rec * net.N + net.n_outputs), "n_steps", T,
                     what="the inputs and the recorded arrays")
    U, Y, X, batched = prepare_batch(net, inputs, targets, x0, n_steps, mode_code)
    B, T = U.shape[0], U.shape[1]
    N, K = net.N, net.n_outputs
    n_rec = sum(k in record for k in ("x", "r"))
    check_memory(8.0 * B * T * (n_rec * N + K), "n_steps" if inputs is None else "inputs",
                 n_steps if inputs is None else f"array of shape {np.shape(inputs)}",
                 what=f"the recorded (B, T, N) arrays (B={B}, T={T}, N={N})")
    out = {
        "x": np.empty((B, T, N) if "x" in record else (B, 0, N)),
        "r": np.empty((B, T, N) if "r" in record else (B, 0, N)),
        "z": np.empty((B, T, K) if "z" in record else (B, 0, K)),
    }
    if feedback_noise_std > 0:
        # drawn first, in one call (the documented draw order); a new array, so a
        # broadcast target shared by the trials gets independent noise per trial
        check_memory(16.0 * B * T * K, "inputs" if inputs is not None else "n_steps",
                     f"array of shape {np.shape(inputs)}" if inputs is not None else n_steps,
                     what=f"the noisy fed-back targets (B={B}, T={T}, K={K})")
        Y = Y + feedback_noise_std * gen.standard_normal((B, T, K))
    noise_scale = noise_std * np.sqrt(net.alpha)
    if noise_std == 0:
        advance(net, X, U, Y, mode_code, 0.0, np.empty((B, 0, N)), out["x"], out["r"],
                out["z"])
    else:
        Tc = chunk_length(B, N, T, 1)
        for s in range(0, T, Tc):
            e = min(T, s + Tc)
            noise = gen.standard_normal((B, e - s, N))
            bufs = {k: (np.empty((B, e - s) + v.shape[2:]) if v.shape[1] else v)
                    for k, v in out.items()}
            Yc = Y[:, s:e] if Y.shape[1] else Y
            advance(net, X, U[:, s:e], Yc, mode_code, noise_scale, noise, bufs["x"],
                    bufs["r"], bufs["z"], t_offset=s)
            for k, v in out.items():
                if v.shape[1]:
                    v[:, s:e] = bufs[k]

    def shaped(a, key):
        if key not in record:
            return None
        return a if batched else a[0]

    return Trajectory(x=shaped(out["x"], "x"), r=shaped(out["r"], "r"), z=shaped(out["z"], "z"),
                      x_final=X if batched else X[0], mode=mode, dt=net.dt, n_steps=T)
