"""Training of the whole network by backpropagation through time (Adam).

By default the trained model is the open-loop network (the feedback weights ``W_fb`` are not
used): ``x[t+1] = (1 - a) x[t] + a (J phi(x[t]) + W_in u[t] + b)``, ``z[t] = W_out
phi(x[t])``, ``x[0] = 0``; ``mode="closed"`` adds the feedback ``W_fb z[t]`` to the drive
of ``x[t+1]`` (and can train ``W_fb``). With ``dt = tau`` (``a = 1``) this is the discrete RNN of the BPTT
literature, ``h[t+1] = phi(J h[t] + W_in u[t] + b)`` for ``h = phi(x)``. Note the one-step
convention: ``u[t]`` first shows in ``z[t+1]`` (Keras' ``SimpleRNN`` shows ``u_t`` in
``y_t``); task targets are defined for this package's convention.

Loss: masked mean squared error ``sum_{b,t,k} mask[b,t] (z - y)^2 / (K sum mask)``
(default) or masked cross-entropy of a softmax readout, optional L1/L2 weight penalties and
an L2 rate penalty, optional state noise during training, the readout intercept ``b_out``
in ``z`` (see :func:`loss_and_gradients`). Gradients are hand-derived (see :mod:`reservoir._kernels.bptt`) and checked against finite
differences in the tests. Optimiser: Adam with Keras' legacy inverse-time decay of the
learning rate, ``lr_k = lr / (1 + decay k)`` (``k`` = mini-batches so far), optional
per-parameter gradient-norm clipping (Keras' ``clipnorm``). Structural constraints, each
kept exactly by a Euclidean projection after every step: a fixed connectivity (``masks``;
a sparse ``J`` keeps its support), Dale's law (the signs of each unit's *outgoing*
weights, the columns of ``J``: wrong-signed weights are zeroed), non-negative input
weights and a readout of excitatory units only.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
import os
from collections.abc import Mapping
from collections.abc import Callable, Iterable
from typing import Any
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike, DTypeLike
import scipy.sparse as sp

from .._checks import as_float_array, as_int, as_positive_float, as_rng, check_memory
from .._kernels import bptt as kernels
from .._checks import RngLike
from .._kernels import check_fork_safe
from .._kernels import bptt_batched as batched
from .._kernels.arrays import network_arrays
from .._kernels.batch_split import ChunkPool, chunk_ranges
from .._kernels.gemm_rows import product_rows
from .._progress import check_progress, progress_bar
from .._results import ResultMixin
from . import _checkpoint
from ..network import (Network, _as_dale_signs, _dale_signs, _project_dale,
                       project_dale)  # noqa: F401  (project_dale: re-exported by train)
from ..nonlinearities import CODES
from ..tasks import Task

logger = logging.getLogger(__name__)

PARAMS = ("J", "W_in", "b", "W_out")
#: Every parameter ``train=`` may name in open loop: the default ones and the readout
#: intercept ``b_out`` (not trained by default, so that default runs keep their bits).
TRAINABLE = PARAMS + ("b_out",)
ALL_PARAMS = TRAINABLE + ("W_fb",)
#: Steps whose share of ``dL/dJ`` the batched backward pass adds with one matrix product
#: (:func:`reservoir._kernels.bptt_batched.backward`). One core, epoch time at B = 64 for
#: blocks of 4 / 8 / 16 steps: N = 400 float32 0.606 / 0.613 / 0.629 s, float64 1.134 /
#: 1.133 / 1.148 s, N = 100-200 float32 equal within 1 % (issue 16); larger blocks' ``g``
#: history (1.6 MB at N = 400, 16 steps) pushes ``J`` out of L2.
GRAD_BLOCK_STEPS = 8


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


def loss_and_gradients(net: Network, inputs: ArrayLike, targets: ArrayLike,
                       mask: ArrayLike | None = None, *, mode: str = "open",
                       loss: str = "mse", weight_l1: float | Mapping[str, float] = 0.0,
                       weight_l2: float | Mapping[str, float] = 0.0, rate_l2: float = 0.0,
                       noise_std: float = 0.0, noise: ArrayLike | None = None,
                       backend: str = "blas",
                       dtype: DTypeLike = np.float64, workspace: BPTTWorkspace | None = None,
                       ) -> tuple[float, dict[str, np.ndarray]]:
    """Training objective of BPTT (masked loss of the readout plus optional penalties) and its
    gradients with respect to ``J``, ``W_in``, ``b``, ``W_out``, ``b_out`` (and ``W_fb`` in
    closed loop).

    The readout is ``z[t] = W_out phi(x[t]) + b_out`` (``b_out`` the readout intercept,
    zero unless the network has one). With ``m[b, t]`` the mask, ``S = sum_{b,t} m[b, t]``,
    ``r = phi(x)`` and ``|P|`` the number of entries of a matrix ``P``, the objective is

    ``loss = L_data + sum_P weight_l1[P] sum|P| / |P| + sum_P weight_l2[P] sum P^2 / |P|
    + rate_l2 sum_{b,t} m[b, t] |r[b, t]|^2 / (N S)``,

    with ``L_data`` the masked mean squared error ``sum m (z - y)^2 / (K S)``
    (``loss="mse"``) or the masked cross-entropy of the softmax of ``z``,
    ``-sum_{b,t} m[b, t] sum_k y_k log softmax(z)_k / S`` (``loss="cross_entropy"``). The
    weight penalties are means over each matrix's entries (as PsychRNN's ``L1_rec``,
    ``L2_rec``, ...; Ehrlich et al. 2021); the rate penalty is PsychRNN's
    ``L2_firing_rate`` restricted to the steps the mask weights (the mean of ``r^2`` over
    units and masked steps, weighted by the mask). Its gradient flows through the dynamics
    (every ``r[t]`` depends on the parameters through the trajectory).

    Parameters
    ----------
    net : Network
        The network (dense ``J``).
    inputs : array_like, shape (B, T, M)
        Inputs ``u[t]`` of each trial.
    targets : array_like, shape (B, T, K)
        Targets ``y[t]`` of the readout: values (``loss="mse"``), or one-hot classes or
        class probabilities (``loss="cross_entropy"``: non-negative, summing to 1 over the
        K classes at every step where the mask is nonzero).
    mask : array_like, shape (B, T) or (T,), optional
        Non-negative weight of each step in the loss (default 1).
    mode : {"open", "closed"}
        ``"open"``: the feedback loop is cut (``W_fb`` unused), the usual BPTT network.
        ``"closed"``: the readout is fed back, ``x[t+1]`` receiving ``W_fb z[t]`` as in
        :func:`reservoir.simulate` with ``mode="closed"``. Since ``z[t] = W_out phi(x[t])
        + b_out``, the closed loop is the open network with ``J_eff = J + W_fb W_out`` and
        ``b_eff = b + W_fb b_out``; the passes run on those and the chain rule gives
        ``dL/dJ = G``, ``dL/dW_fb = G W_out^T + g_b b_out^T``, an extra ``W_fb^T G`` in
        ``dL/dW_out`` and ``W_fb^T g_b`` in ``dL/db_out`` (``G = dL/dJ_eff``,
        ``g_b = dL/db_eff``), exactly.
    loss : {"mse", "cross_entropy"}
        The data term: masked mean squared error (default), or the masked cross-entropy of
        a softmax over the K readouts (K >= 2; the readouts ``z`` are the logits, computed
        with a stable log-softmax; ``softmax(z)`` are the class probabilities).
    weight_l1, weight_l2 : float or dict, optional
        Coefficients of the L1 and L2 weight penalties (default 0: none). A number applies
        to each of ``J``, ``W_in``, ``W_out`` (and ``W_fb`` in closed loop); a dict gives
        one coefficient per matrix by name (missing names: 0). The biases ``b`` and
        ``b_out`` are never penalised. The L1 gradient at a weight equal to 0 is taken as
        0 (the subgradient of least norm).
    rate_l2 : float, optional
        Coefficient of the L2 penalty on the rates ``r = phi(x)`` (default 0: none); see
        above.
    noise_std : float, optional
        Standard deviation ``sigma`` of the state noise of the forward pass (default 0),
        the convention of :func:`reservoir.simulate`: ``sigma sqrt(alpha) noise[b, t]`` is
        added to ``x[t+1]``. Song, Yang & Wang (2016) and PsychRNN add
        ``sqrt(2 alpha sigma_rec^2) N(0, 1)``, which is ``noise_std = sqrt(2) sigma_rec``.
        The gradients are those of the loss on this noisy trajectory (the noise is held
        fixed).
    noise : array_like, shape (B, T, N), optional
        The standard normal realisation ``xi`` of the noise (required when
        ``noise_std > 0``, ignored when it is 0; row ``T - 1`` does not act on the
        recorded steps).
        :func:`bptt` draws it from its ``rng``.
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
        The objective above: the data term (squared readout units for ``"mse"``, nats for
        ``"cross_entropy"``) plus the penalties.
    grads : dict of ndarray
        Same shapes as the parameters (keys ``J``, ``W_in``, ``b``, ``W_out``, ``b_out``,
        plus ``W_fb`` when ``mode="closed"``); float64.

    Raises
    ------
    ValueError
        If ``J`` is sparse, ``mode``, ``loss``, ``backend`` or ``dtype`` is unknown, the
        shapes disagree, the mask is negative or excludes every step, a penalty
        coefficient or ``noise_std`` is negative or not finite, ``noise`` is missing when
        ``noise_std > 0``, ``loss="cross_entropy"`` has K < 2 or targets that are not
        class probabilities where the mask is nonzero, or the stored (B, T, N)
        trajectories cannot fit in physical memory.
    TypeError
        If ``net`` is not a ``Network``, ``dtype`` is not a dtype, or an option has the
        wrong type.
    FloatingPointError
        If the forward pass gives a non-finite loss.

    References
    ----------
    Song, Yang & Wang (2016), PLoS Comput. Biol. 12, e1004792 (recurrent noise);
    Ehrlich et al. (2021), eNeuro 8, ENEURO.0427-20.2020 (PsychRNN's regularisers).
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
    n_noise = 0 if noise is None else 2 * net.N     # the realisation and its scaled copy
    check_memory(8.0 * B * T * (4 * net.N + n_noise + 2 * net.n_outputs), "inputs",
                 f"array of shape {U.shape}", what="the stored (B, T, N) trajectories")
    terms = _loss_terms(net, mode, loss, weight_l1, weight_l2, rate_l2, noise_std, noise,
                        (B, T))
    norm = W.sum() * (net.n_outputs if terms.loss == "mse" else 1)
    if norm <= 0:
        raise ValueError("mask excludes every time step")
    if terms.loss == "cross_entropy":
        _check_class_targets(Y, W)
    if not isinstance(backend, str) or backend not in ("blas", "numba"):
        raise ValueError(f"backend must be 'blas' or 'numba', got {backend!r}")
    dt = _as_compute_dtype(dtype, backend)
    J = net.J if mode == "open" else net.J + net.W_fb @ net.W_out
    if backend == "blas":
        loss, grads = _loss_and_gradients_blas(net, J, U, Y, W, norm, dt, workspace, terms)
    else:
        loss, grads = _loss_and_gradients_numba(net, J, U, Y, W, norm, terms)
    if mode == "closed":
        G = grads["J"]
        grads["W_fb"] = G @ net.W_out.T
        grads["W_out"] = grads["W_out"] + net.W_fb.T @ G
        grads["b_out"] = grads["b_out"] + net.W_fb.T @ grads["b"]
        if terms.b_out is not None:
            grads["W_fb"] = grads["W_fb"] + np.outer(grads["b"], terms.b_out)
    penalty = _add_weight_penalties(net, grads, terms)
    if penalty:
        loss += penalty
        if not np.isfinite(loss):
            raise FloatingPointError("BPTT weight penalties gave a non-finite loss")
    return loss, grads


#: The data terms of the BPTT objective.
LOSSES = ("mse", "cross_entropy")


@dataclass(frozen=True)
class _LossTerms:
    """The validated options of :func:`loss_and_gradients` beyond the plain masked MSE."""

    loss: str
    weight_l1: dict          # {matrix name: coefficient > 0}
    weight_l2: dict
    rate_l2: float
    noise: np.ndarray | None  # standard normal (B, T, N), or None without noise
    noise_scale: float       # sigma sqrt(alpha)
    b_out: np.ndarray | None  # the readout intercept, None when it is zero
    closed: bool             # mode "closed": the passes run on J_eff, b_eff


def _penalty_coefficients(value, name: str, mode: str) -> dict:
    """``{matrix: coefficient}`` (positive ones only) of a weight penalty."""
    names = ("J", "W_in", "W_out") + (("W_fb",) if mode == "closed" else ())
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str) or k not in names]
        if bad:
            raise ValueError(f"{name} keys must be among {names} in mode {mode!r} (the "
                             f"penalised weight matrices), got {bad}")
        coefs = {k: as_positive_float(v, f"{name}[{k!r}]", allow_zero=True)
                 for k, v in value.items()}
    else:
        if isinstance(value, (str, bytes)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a non-negative number or a dict of them by "
                            f"matrix name {names}, got {type(value).__name__}")
        coefs = dict.fromkeys(names, as_positive_float(value, name, allow_zero=True))
    return {k: c for k, c in coefs.items() if c > 0}


def _loss_terms(net, mode, loss, weight_l1, weight_l2, rate_l2, noise_std, noise, BT):
    """Validate the loss options of :func:`loss_and_gradients` where they enter."""
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss == "cross_entropy" and net.n_outputs < 2:
        raise ValueError(f"loss='cross_entropy' needs K >= 2 readouts (one logit per "
                         f"class), got K = {net.n_outputs}")
    l1 = _penalty_coefficients(weight_l1, "weight_l1", mode)
    l2 = _penalty_coefficients(weight_l2, "weight_l2", mode)
    rate_l2 = as_positive_float(rate_l2, "rate_l2", allow_zero=True)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    xi = None
    if noise is not None:
        xi = as_float_array(noise, "noise", 3)
        if xi.shape != BT + (net.N,):
            raise ValueError(f"noise must have shape {BT + (net.N,)} (B, T, N), got "
                             f"{xi.shape}")
    elif noise_std > 0:
        raise ValueError(f"noise_std = {noise_std} > 0 needs noise, the standard normal "
                         f"realisation of shape {BT + (net.N,)} (B, T, N)")
    if noise_std == 0:
        xi = None
    b_out = np.asarray(net.b_out) if net.has_intercept else None
    return _LossTerms(loss=loss, weight_l1=l1, weight_l2=l2, rate_l2=rate_l2, noise=xi,
                      noise_scale=noise_std * np.sqrt(net.alpha), b_out=b_out,
                      closed=mode == "closed")


#: Tolerance on the sum over classes of cross-entropy targets (class probabilities).
_PROBABILITY_TOL = 1e-6


def _check_class_targets(Y, W):
    """Cross-entropy targets: class probabilities where the mask is nonzero."""
    on = Y[W > 0]                                      # (n, K)
    if np.any(on < 0):
        raise ValueError("targets must be non-negative for loss='cross_entropy' (one-hot "
                         "classes or class probabilities) where the mask is nonzero")
    sums = on.sum(-1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > _PROBABILITY_TOL:
        raise ValueError(f"targets must sum to 1 over the K classes for "
                         f"loss='cross_entropy' at every step where the mask is nonzero "
                         f"(within {_PROBABILITY_TOL:g}); a step sums to {sums[worst]:.9g}")


def _softmax_cross_entropy(Z, Y, Wk):
    """Unnormalised masked cross-entropy of ``softmax(Z)`` against ``Y`` and its gradient.

    ``Z`` logits (..., K) (any float dtype; float64 arithmetic), ``Y`` (..., K), ``Wk``
    mask weights (..., 1). Returns ``(sum Wk * (-Y log p), Wk * (p sum_k Y - Y))`` with
    ``log p = Z - max Z - log sum exp(Z - max Z)`` (no overflow for any finite ``Z``).
    """
    Z = np.asarray(Z, dtype=np.float64)
    shifted = Z - Z.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    total = float(-np.sum(Wk * (Y * log_p)))
    grad = Wk * (np.exp(log_p) * Y.sum(-1, keepdims=True) - Y)
    return total, grad


def _add_weight_penalties(net, grads, terms) -> float:
    """Add the weight penalties' gradients to ``grads``; return their value."""
    total = 0.0
    for name in ("J", "W_in", "W_out", "W_fb"):
        c1 = terms.weight_l1.get(name, 0.0)
        c2 = terms.weight_l2.get(name, 0.0)
        P = np.asarray(getattr(net, name))
        if (c1 == 0 and c2 == 0) or P.size == 0:
            continue
        if c1:
            total += c1 * float(np.abs(P).sum()) / P.size
            grads[name] = grads[name] + (c1 / P.size) * np.sign(P)
        if c2:
            total += c2 * float(np.square(P).sum()) / P.size
            grads[name] = grads[name] + (2.0 * c2 / P.size) * P
    return total


def _loss_and_gradients_numba(net: Network, J, U, Y, W, norm, terms):
    """Per-trial Numba kernels (float64)."""
    B, T, M = U.shape
    N, K = net.N, net.n_outputs
    X = np.empty((B, T, N))
    R = np.empty((B, T, N))
    Z = np.empty((B, T, K))
    code = CODES[net.phi]
    arrays = network_arrays(net, J=J, fold_intercept=terms.closed)
    noise = np.empty((B, 0, N)) if terms.noise is None else terms.noise
    check_fork_safe()
    kernels.forward(arrays, net.alpha, code, U, np.zeros((B, N)), noise, terms.noise_scale,
                    X, R, Z)
    if terms.b_out is not None:
        Z += terms.b_out
    with np.errstate(over="ignore", invalid="ignore"):   # checked just below
        if terms.loss == "mse":
            diff = Z - Y
            loss = float(np.sum(W[:, :, None] * diff**2) / norm)
            E = 2.0 * W[:, :, None] * diff / norm
        else:
            loss, E = _softmax_cross_entropy(Z, Y, W[:, :, None])
            loss /= norm
            E /= norm
        C_rate = np.empty((B, 0))
        if terms.rate_l2 > 0:
            scale = terms.rate_l2 / (N * W.sum())
            loss += scale * float(np.sum(W * np.einsum("btn,btn->bt", R, R)))
            C_rate = 2.0 * scale * W
    if not np.isfinite(loss):
        raise FloatingPointError("BPTT forward pass produced a non-finite loss")
    C = max(1, min(B, numba.get_num_threads()))
    gJ = np.zeros((C, N, N))
    gWin = np.zeros((C, N, M))
    gb = np.zeros((C, N))
    gWout = np.zeros((C, K, N))
    kernels.backward(arrays, net.alpha, code, U, X, R, E, np.ascontiguousarray(C_rate), C,
                     gJ, gWin, gb, gWout)
    return loss, {"J": gJ.sum(0), "W_in": gWin.sum(0), "b": gb.sum(0), "W_out": gWout.sum(0),
                  "b_out": E.sum((0, 1))}


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
            The arrays ``R``, ``Z``, ``U``, ``E``, ``x``, ``h``, ``g_first``,
            ``step``, ``s``, ``G`` (the ``g[t+1]`` of a block of
            :data:`GRAD_BLOCK_STEPS` steps), ``small`` (max(M, K), N) and the accumulators ``gJ``, ``gW_inT``, ``gb``, ``gW_out``.
        """
        key = (T, B, N, M, K, np.dtype(dtype).str, chunk)
        if key not in self._sets:
            e = lambda *shape: np.empty(shape, dtype)  # noqa: E731
            self._sets[key] = {
                "R": e(T, B, N), "Z": e(T, B, K), "U": e(T, B, M), "E": e(T, B, K),
                "x": e(B, N), "h": e(B, N), "g_first": e(B, N),
                "step": e(N, N), "s": e(N), "G": e(min(GRAD_BLOCK_STEPS, T), B, N),
                "small": e(max(M, K), N),
                "gJ": np.empty((N, N)), "gW_inT": np.empty((M, N)), "gb": np.empty(N),
                "gW_out": np.empty((K, N))}
        return self._sets[key]


def _loss_and_gradients_blas(net: Network, J, U, Y, W, norm, dtype=np.float64,
                             workspace=None, terms=None):
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
    arrays = network_arrays(net, dtype, step_scaled=True, J=J,   # alpha J, alpha W_in, ...
                            fold_intercept=terms.closed)
    use_noise = terms.noise is not None
    use_rate = terms.rate_l2 > 0
    for (lo, hi), buf in zip(chunks, bufs):
        _scratch(buf, "noise", (T if use_noise else 0, hi - lo, N), dtype)
        _scratch(buf, "C_rate", (T if use_rate else 0, hi - lo), dtype)

    def forward(i):
        lo, hi = chunks[i]
        buf = bufs[i]
        np.copyto(buf["U"], U[lo:hi].transpose(1, 0, 2))
        if use_noise:    # the increments sigma sqrt(alpha) xi, scaled in float64
            np.copyto(buf["noise"], terms.noise_scale * terms.noise[lo:hi].transpose(1, 0, 2),
                      casting="same_kind")
        batched.forward(buf["U"], arrays, consts, code, buf["R"], buf["Z"], buf["x"],
                        buf["h"], buf["noise"], product_rows(hi - lo, N))

    def backward(i):
        lo, hi = chunks[i]
        buf = bufs[i]
        batched.backward(buf["R"], buf["E"], buf["U"], arrays, consts, code, buf["gJ"],
                         buf["gW_inT"], buf["gb"], buf["gW_out"], buf["g_first"],
                         buf["h"], buf["step"], buf["s"], buf["C_rate"], buf["G"],
                         buf["small"], product_rows(hi - lo, N))

    ws.map(forward, len(chunks))
    loss = 0.0
    rate_sum = 0.0
    g_b_out = np.zeros(K)
    with np.errstate(over="ignore", invalid="ignore"):   # checked just below
        for (lo, hi), buf in zip(chunks, bufs):
            Zc = buf["Z"] if terms.b_out is None else buf["Z"] + terms.b_out
            Yc = Y[lo:hi].transpose(1, 0, 2)
            Wt = W[lo:hi].T[:, :, None]
            if terms.loss == "mse":
                diff = Zc - Yc                                     # float64
                loss += float(np.sum(Wt * diff**2))
                Ec = (2.0 / norm) * Wt * diff                      # dL/dz, (T, b, K)
            else:
                part, Ec = _softmax_cross_entropy(Zc, Yc, Wt)
                loss += part
                Ec /= norm
            np.copyto(buf["E"], Ec)
            g_b_out += Ec.sum((0, 1))
            if use_rate:
                R = buf["R"]
                rate_sum += float(np.sum(W[lo:hi].T * np.einsum("tbn,tbn->tb", R, R,
                                                                  dtype=np.float64)))
        loss /= norm
        if use_rate:
            scale = terms.rate_l2 / (N * W.sum())
            loss += scale * rate_sum
            for (lo, hi), buf in zip(chunks, bufs):
                np.copyto(buf["C_rate"], (2.0 * scale) * W[lo:hi].T, casting="same_kind")
    if not np.isfinite(loss):
        raise FloatingPointError("BPTT forward pass produced a non-finite loss")
    ws.map(backward, len(chunks))
    g = {k: sum(buf[k] for buf in bufs) for k in ("gJ", "gW_inT", "gb", "gW_out")}
    return loss, {"J": a * g["gJ"], "W_in": a * g["gW_inT"].T, "b": a * g["gb"],
                  "W_out": g["gW_out"], "b_out": g_b_out}


def _scratch(buf: dict, key: str, shape: tuple, dtype) -> np.ndarray:
    """The workspace array ``buf[key]`` of this shape and dtype (allocated when missing)."""
    arr = buf.get(key)
    if arr is None or arr.shape != shape or arr.dtype != dtype:
        arr = buf[key] = np.empty(shape, dtype)
    return arr


dale_signs = _dale_signs      # (N, fraction) -> +1 for the first round(f N) units, -1 after

#: Parameters that take a connectivity mask (``bptt(masks=...)``).
MASKABLE = ("J", "W_in", "W_out", "W_fb")
#: How ``bptt`` makes a given ``J`` obey Dale's law before training.
DALE_INIT = ("project", "flip")


def _as_mask(value, name: str, shape: tuple) -> np.ndarray:
    """A boolean mask of ``shape``: bool, or numbers that are all 0 or 1."""
    if sp.issparse(value):
        raise TypeError(f"{name} must be a dense boolean array, got a scipy sparse matrix "
                        "(a sparse J is trained on its support by default)")
    arr = np.asarray(value)
    if arr.dtype != bool:
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or \
                np.issubdtype(arr.dtype, np.complexfloating):
            raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype}")
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must be boolean (or hold only 0 and 1)")
        arr = arr != 0
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return np.array(arr, dtype=bool)


def _support(J) -> np.ndarray:
    """The stored positions of a CSR matrix as a dense boolean (N, N) array."""
    mask = np.zeros(J.shape, dtype=bool)
    rows = np.repeat(np.arange(J.shape[0]), np.diff(J.indptr))
    mask[rows, J.indices] = True
    return mask


def _bptt_constraints(net: Network, dale, dale_init, masks, nonnegative_inputs,
                      excitatory_readout):
    """Validate the structural options of :func:`bptt`: the Dale signs (or None), the
    masks ``{name: bool array}`` (a sparse J's support included) and the two flags."""
    N = net.N
    if dale is None:
        signs = None if net.dale_signs is None else np.array(net.dale_signs)
    elif isinstance(dale, (bool, np.bool_)):
        raise TypeError("dale must be a fraction in (0, 1], an array of +1/-1 signs or None, "
                        f"got {dale!r}")
    elif np.ndim(dale) == 0:
        f = as_positive_float(dale, "dale")
        if f > 1:
            raise ValueError(f"dale (excitatory fraction) must be in (0, 1], got {f}")
        signs = dale_signs(N, f)
    else:
        signs = _as_dale_signs(dale, N, "dale")
    if signs is not None and net.dale_signs is not None and \
            not np.array_equal(signs, net.dale_signs):
        raise ValueError("dale disagrees with net.dale_signs (the network's own Dale signs); "
                         "pass dale=None to keep them, or drop them with "
                         "dataclasses.replace(net, dale_signs=None)")
    if not isinstance(dale_init, str) or dale_init not in DALE_INIT:
        raise ValueError(f"dale_init must be one of {DALE_INIT}, got {dale_init!r}")
    for arg, v in (("nonnegative_inputs", nonnegative_inputs),
                   ("excitatory_readout", excitatory_readout)):
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{arg} must be a bool, got {type(v).__name__}")
    if masks is None:
        masks = {}
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict {{name: boolean array}} or None, got "
                        f"{type(masks).__name__}")
    shapes = {"J": (N, N), "W_in": net.W_in.shape, "W_out": net.W_out.shape,
              "W_fb": net.W_fb.shape}
    out = {}
    for name, m in masks.items():
        if name not in shapes:
            raise ValueError(f"masks keys must be among {MASKABLE}, got {name!r}")
        out[name] = _as_mask(m, f"masks[{name!r}]", shapes[name])
    if net.is_sparse:
        support = _support(net.J)
        out["J"] = out["J"] & support if "J" in out else support
    if excitatory_readout:
        if signs is None:
            raise ValueError("excitatory_readout=True needs Dale's law (dale, or a network "
                             "with dale_signs)")
        exc = np.broadcast_to(signs > 0, net.W_out.shape)
        out["W_out"] = out["W_out"] & exc if "W_out" in out else exc.copy()
    return signs, out, bool(nonnegative_inputs)


def _constrain(params: dict, masks: dict, signs, nonnegative_inputs: bool) -> None:
    """Project the parameters (in place) onto the constraint set: masked weights 0, then
    Dale's signs on ``J`` and non-negative ``W_in`` (each the Euclidean projection; they
    commute, every entry's set being {0}, a half-line or the line)."""
    for name, m in masks.items():
        params[name] = np.where(m, params[name], 0.0)
    if signs is not None:
        params["J"] = _project_dale(params["J"], signs)
    if nonnegative_inputs:
        params["W_in"] = np.where(params["W_in"] >= 0, params["W_in"], 0.0)


def _with_structure(trained: Network, original: Network) -> Network:
    """``trained`` (dense J) with the sparse structure of ``original`` when that was sparse:
    the same ``indptr`` and ``indices``, the trained values at those positions."""
    if not original.is_sparse:
        return trained
    S = original.J
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    data = np.asarray(trained.J)[rows, S.indices]
    J = sp.csr_matrix((data, S.indices.copy(), S.indptr.copy()), shape=S.shape)
    return dataclasses.replace(trained, J=J)


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
        Mean training loss of each epoch: the objective of :func:`loss_and_gradients`
        (squared readout units for ``loss="mse"``, nats for ``"cross_entropy"``,
        penalties included).
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
        The sign of each presynaptic unit under Dale's law (``None`` without one); the
        same as ``network.dale_signs``.
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


#: Relative tolerance within which a task's ``dt`` and a network's are the same time step.
DT_RTOL = 1e-9
#: Fields of ``Network`` (the trained parameters that are fields are restored from them).
_NETWORK_FIELDS = frozenset(f.name for f in dataclasses.fields(Network))


def _check_time_grid(net: Network, task: Task) -> None:
    """Raise ``ValueError`` unless ``task.dt`` equals ``net.dt`` to relative ``DT_RTOL``."""
    if abs(task.dt - net.dt) > DT_RTOL * max(abs(task.dt), abs(net.dt)):
        raise ValueError(
            f"task.dt = {task.dt!r} differs from net.dt = {net.dt!r} (compared to relative "
            f"tolerance {DT_RTOL:g}): the network would step through the task on another "
            "time grid (one step of the network per sample of the task); build the network "
            "with the task's dt (e.g. jarne_network(..., dt=task.dt), or tau and dt of "
            "random_network) or the task with the network's")


def bptt(net: Network, task: Task, *, epochs: int = 20, batch_size: int = 64,
         lr: float = 1e-4, decay: float = 1e-4, clip_norm: float | None = None,
         train: Iterable[str] = PARAMS, mode: str = "open", dale: float | ArrayLike | None = None,
         dale_init: str = "project",
         masks: Mapping[str, ArrayLike] | None = None, nonnegative_inputs: bool = False,
         excitatory_readout: bool = False,
         early_stop: float | None = None, loss: str = "mse", weight_l1: float | Mapping[str,
         float] = 0.0, weight_l2: float | Mapping[str, float] = 0.0,
         rate_l2: float = 0.0, noise_std: float = 0.0,
         callback: Callable[..., Any] | None = None, backend: str = "blas",
         dtype: DTypeLike = np.float64, threads: int | None = None,
         checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 1,
         resume: bool | None = None,
         rng: RngLike = None, progress: bool | None = None) -> BPTTResult:
    """Train ``net`` on ``task`` by BPTT with Adam.

    Parameters
    ----------
    net : Network
        The initial network (dense or sparse ``J``; a sparse one is trained on its
        support, see ``masks``); its ``W_fb`` is used only with ``mode="closed"``.
    task : Task
        Batched task (``inputs`` (B, T, M), ``targets`` (B, T, K), ``mask``).
    epochs, batch_size : int
        Passes over the trials (shuffled every epoch) and mini-batch size. With
        ``resume``, ``epochs`` counts every epoch, those in the checkpoint included.
    lr, decay : float
        Adam learning rate and Keras' legacy inverse-time decay.
    clip_norm : float, optional
        Clip each parameter's gradient to this norm (Keras ``clipnorm``).
    train : iterable of {"J", "W_in", "b", "W_out", "b_out", "W_fb"}
        Parameters to train (``"W_fb"`` only with ``mode="closed"``). The readout
        intercept ``b_out`` (``z = W_out phi(x) + b_out``) always enters the forward pass
        but is trained only when named.
    mode : {"open", "closed"}
        Train the open-loop network (default) or the feedback network in closed loop; see
        :func:`loss_and_gradients`. Evaluate the result with :func:`reservoir.simulate` in
        the same mode.
    dale : float or array_like of shape (N,), optional
        Dale's law: the fraction of excitatory units (the first ``round(f N)`` units are
        excitatory, the rest inhibitory) or the signs themselves (+1 excitatory, -1
        inhibitory). Every outgoing weight of unit ``j`` (column ``J[:, j]``) then keeps
        the sign of unit ``j`` or is zero: after every Adam step ``J`` is projected onto
        that constraint by zeroing the wrong-signed weights (:func:`project_dale`, the
        Euclidean projection; Jarne's Keras constraint). Default: the network's own
        ``net.dale_signs`` when it has them (e.g. from :func:`reservoir.dale_network`),
        else no constraint; a ``dale`` that disagrees with them raises. The trained
        network carries the signs in ``dale_signs`` (saved by :func:`reservoir.save`).
    dale_init : {"project", "flip"}
        How the initial ``J`` is made to obey ``dale``. ``"project"`` (default): the same
        zeroing projection (wrong-signed weights set to 0; about half of a random ``J``).
        ``"flip"``: ``abs(J) * signs``, every weight kept with its sign flipped where
        wrong: what earlier versions of this package did (kept to reproduce their
        results), and the initial effective weights of PsychRNN's
        ``|W| D`` parametrisation. Flipping gives every column a nonzero mean: a leading
        eigenvalue near ``(n_E - n_I) sqrt(2 / (pi N))`` for a random J of gain 1 (about
        3.7 at N = 60, 80 % excitatory, against 1.85 after the zeroing projection), which
        can keep small networks from training. No effect without ``dale`` or on a ``J``
        that already obeys it.
    masks : dict, optional
        Fixed connectivity: ``{"J": (N, N), "W_in": (N, M), "W_out": (K, N), "W_fb": (N,
        K)}`` boolean arrays (any subset of the keys), ``True`` where a weight exists.
        Weights outside a mask are set to 0 at the start and stay exactly 0: their
        gradients are zeroed before Adam (so Adam's moments and the clipping norm see
        only the existing weights) and the weights are zeroed again after every step,
        also for parameters not in ``train``. A sparse ``J`` (CSR) is trained on its
        stored positions (its support; with ``masks["J"]`` as well, on both) and comes
        back as a CSR with the same ``indptr`` and ``indices``; to train every weight of
        a sparse network, pass ``dataclasses.replace(net, J=net.dense_J())``.
    nonnegative_inputs : bool
        Keep the input weights ``W_in`` non-negative (negative ones zeroed at the start
        and after every step; Jarne's Keras code clips them so).
    excitatory_readout : bool
        Read out from excitatory units only (PsychRNN): the columns of ``W_out`` of
        inhibitory units are masked to 0. Needs Dale's law.
    early_stop : float, optional
        Stop after an epoch whose mean loss (the objective, penalties included) is below
        this (default: the task's ``info["early_stop"]`` if present, with
        ``loss="mse"`` only: the tasks' thresholds are mean squared errors).
    loss : {"mse", "cross_entropy"}
        Data term of the objective: masked mean squared error (default) or masked
        cross-entropy of a softmax over the K >= 2 readouts (targets one-hot or class
        probabilities); see :func:`loss_and_gradients`.
    weight_l1, weight_l2 : float or dict, optional
        L1 and L2 penalties on the weights ``J``, ``W_in``, ``W_out`` (and ``W_fb`` in
        closed loop), each the coefficient times the mean of ``|w|`` or ``w^2`` over the
        matrix (PsychRNN's normalisation); a dict sets them per matrix. Default 0 (none);
        biases are not penalised. See :func:`loss_and_gradients`.
    rate_l2 : float, optional
        L2 penalty on the rates ``r = phi(x)``: the coefficient times the mean of ``r^2``
        over units and masked steps (weighted by the mask). Default 0 (none).
    noise_std : float, optional
        State noise during training (default 0: none), the convention of
        :func:`reservoir.simulate`: ``noise_std sqrt(alpha) xi`` is added to every update,
        ``xi`` standard normal drawn from ``rng`` (a fresh ``(batch, T, N)`` draw per
        mini-batch, after the epoch's shuffle), so a network is trained under the noise
        it is then simulated with (``simulate(..., noise_std=noise_std)``). Song, Yang &
        Wang (2016) and PsychRNN's ``sigma_rec`` is ``noise_std / sqrt(2)``.
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
    checkpoint : str or path-like, optional
        File (``.npz`` with a JSON header, no pickle) to which the state of the run is
        saved after every ``checkpoint_every`` epochs and when training ends (not after a
        blow-up): the trained arrays, Adam's moments and step count, the loss record, the
        state of the generator (shuffling and training noise), and fingerprints of what
        must match on resuming. Each save writes a temporary file in the same folder and
        moves it over the old one (``os.replace``), so an interruption never leaves a
        half-written checkpoint. The folder must exist. Default: no checkpoints.
    checkpoint_every : int
        Save every this many epochs (>= 1; default 1).
    resume : bool, optional
        Continue a run from ``checkpoint``. ``None`` (default): resume when the file
        exists, else start afresh (a restarted job picks up where it stopped); ``True``:
        the file must exist; ``False``: start afresh and overwrite it. A resumed run
        continues with the same bits as the uninterrupted run (same network, losses,
        Adam state and generator) for the same ``threads``, backend and dtype on the same
        machine and BLAS: ``epochs`` counts all epochs, those in the checkpoint included,
        and the result holds the whole record. Resuming requires the call of the
        interrupted run: the same initial ``net`` and ``task`` (compared by SHA-256),
        the same options (every argument but ``epochs``, ``early_stop``, ``callback``,
        the checkpoint arguments, ``threads`` and ``progress``), the same seed ``rng`` (unless
        ``None``) and the same split of the mini-batches over threads; ``callback`` is
        not called again for the epochs in the checkpoint, and a run whose last epoch's
        loss is below ``early_stop`` stops at once as it did. The file is untrusted
        input: a malformed one, or one written by a run that differs, raises
        :class:`~reservoir.errors.CheckpointError` (a ``ValueError``) naming the file,
        the problem and the differing argument.
    rng : None, int, SeedSequence or Generator
        Source of the shuffling of the trials and of the training noise.
    progress : bool or None
        A ``tqdm`` progress bar on standard error over the epochs (those in a resumed
        checkpoint counted as done), the last epoch's mean loss in its postfix. ``None``
        (default): only when standard error is a terminal; ``True``: always; ``False``:
        never. Not an option of the checkpoint (a run may resume with another value).

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
        If ``net`` is not a ``Network`` or ``task`` not a ``Task``, ``checkpoint`` is not
        a path or ``resume`` not a bool or None.
    CheckpointError
        (a ``ValueError``) If the checkpoint to resume from is malformed or was written
        by a run that differs from this call (:class:`~reservoir.errors.CheckpointError`;
        its ``option`` names the differing argument).
    FileNotFoundError
        If ``resume=True`` and the checkpoint does not exist.
    ValueError
        If the task's time step differs from the network's (``task.dt`` and ``net.dt``
        equal to relative ``1e-9``: the network would run on another grid than the
        task's), the folder of ``checkpoint`` does not exist,
        the task is not batched, or a setting is out of range (``train`` naming a
        parameter that ``mode`` does not train, ``dale`` outside (0, 1] or not of +1/-1
        signs or disagreeing with ``net.dale_signs``, ``dale_init`` unknown, a mask of
        the wrong shape or not boolean or keyed by another name, ``excitatory_readout``
        without Dale's law, ...), or the loss history (``epochs``) or the stored
        trajectories of a mini-batch (``batch_size`` x T x N) cannot fit in physical
        memory.
    """
    call = dict(locals())      # the arguments as given (the options a checkpoint records)
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    if not task.is_batched:
        raise ValueError("task must be batched (inputs of shape (B, T, M))")
    _check_time_grid(net, task)
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
    allowed = ALL_PARAMS if mode == "closed" else TRAINABLE
    bad = [p for p in train if not isinstance(p, str) or p not in allowed]
    if bad or not train:
        raise ValueError(f"train must be a non-empty subset of {allowed} in mode "
                         f"{mode!r}, got {train}")
    # the loss options, validated here once (the noise itself is drawn per mini-batch)
    _loss_terms(net, mode, loss, weight_l1, weight_l2, rate_l2, 0.0, None, (1, 1))
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    if not np.any(task.mask > 0):
        raise ValueError("task.mask excludes every time step of every trial: there is "
                         "nothing to train on")
    if loss == "cross_entropy":
        _check_class_targets(task.targets, np.broadcast_to(task.mask, task.targets.shape[:2]))
    if early_stop is None and loss == "mse":
        early_stop = task.info.get("early_stop")
    _as_compute_dtype(dtype, backend)
    progress = check_progress(progress)
    ckpt = _checkpoint.Session(checkpoint, checkpoint_every, resume)
    B_all, T_all = task.inputs.shape[0], task.inputs.shape[1]
    n_batches = -(-B_all // batch_size)
    check_memory(8.0 * epochs * (n_batches + 2), "epochs", epochs,
                 what=f"the loss history of {n_batches} mini-batches per epoch")
    check_memory(8.0 * min(batch_size, B_all) * T_all * (4 * net.N + 2 * net.n_outputs)
                 + 8.0 * 4 * net.N * net.N, "batch_size", batch_size,
                 what=f"the stored (batch, T={T_all}, N={net.N}) trajectories")
    gen = as_rng(rng)
    rng_initial = gen.bit_generator.state     # the seed, as a checkpoint compares it
    signs, masks, nonnegative_inputs = _bptt_constraints(
        net, dale, dale_init, masks, nonnegative_inputs, excitatory_readout)
    constrained = bool(masks) or signs is not None or nonnegative_inputs
    params = {"J": np.array(net.dense_J()), "W_in": np.array(net.W_in),
              "b": np.array(net.b), "W_out": np.array(net.W_out), "W_fb": np.array(net.W_fb),
              "b_out": np.array(net.b_out)}
    if signs is not None and dale_init == "flip":
        params["J"] = np.abs(params["J"]) * signs[None, :]
    if constrained:
        _constrain(params, masks, signs, nonnegative_inputs)
    state = AdamState(m={p: np.zeros_like(params[p]) for p in train},
                      v={p: np.zeros_like(params[p]) for p in train})
    B = task.inputs.shape[0]
    workspace = BPTTWorkspace(threads)
    current = dataclasses.replace(net, J=params["J"], W_in=params["W_in"],
                                  W_out=params["W_out"], W_fb=params["W_fb"],
                                  dale_signs=signs)
    history, batch_losses, messages = [], [], []
    stopped = False
    blow_up = None
    n_per_epoch = -(-B // batch_size)
    start_epoch = 0
    if ckpt.active:
        options, defaults = _checkpoint.options_of(bptt, call)
        options["dtype"] = np.dtype(dtype).name
        sizes = sorted({min(batch_size, B)} | ({B % batch_size} if B % batch_size else set()))
        resumed = ckpt.start(net=net, task=task, options=options, defaults=defaults,
                             backend=backend, workspace=workspace, batch_sizes=sizes,
                             rng_initial=rng_initial, check_rng=rng is not None, gen=gen,
                             epochs=epochs, params=params, train=train,
                             n_per_epoch=n_per_epoch)
        if resumed is not None:
            if constrained:     # a run keeps its weights on the constraints: check
                check = {p: v.copy() for p, v in resumed.params.items()}
                _constrain(check, masks, signs, nonnegative_inputs)
                bad = [p for p in check if not np.array_equal(check[p], resumed.params[p])]
                if bad:
                    ckpt.fail(f"the weights {bad} violate the run's constraints (masks, "
                              "Dale's law, non-negative inputs)")
            params = resumed.params
            state = AdamState(m=resumed.m, v=resumed.v, step=resumed.step)
            history, batch_losses = resumed.history, resumed.batch_losses
            try:
                current = dataclasses.replace(current, **{
                    p: v for p, v in params.items() if p in _NETWORK_FIELDS})
            except (ValueError, TypeError) as exc:
                ckpt.fail(f"its network is not valid ({exc})")
            start_epoch = len(history)
            if early_stop is not None and history[-1] < early_stop:   # stopped there
                stopped = True
                start_epoch = epochs
                messages.append(f"stopped early after epoch {len(history)} of {epochs}: "
                                f"mean loss {history[-1]:.4g} < early_stop = "
                                f"{early_stop:.4g}")
    n_masked_batches = 0
    logger.info("bptt: N=%d, %d trials of %d steps, %d mini-batch(es) per epoch, epochs "
                "%d to %d", net.N, B, T_all, n_per_epoch, start_epoch + 1, epochs)
    bar = progress_bar(epochs, "bptt", progress, unit="epoch", initial=start_epoch)
    for epoch in range(start_epoch, epochs):
        order = gen.permutation(B)
        losses = []
        last_good = current        # the network after the previous epoch (immutable)
        for j, s in enumerate(range(0, B, batch_size)):
            idx = order[s:s + batch_size]
            where = (f"epoch {epoch + 1} of {epochs}, mini-batch {j + 1} of {n_per_epoch} "
                     f"(learning rate lr = {lr:.4g})")
            xi = (gen.standard_normal((len(idx), T_all, net.N)) if noise_std > 0
                  else None)
            if not np.any(task.mask[idx] > 0):
                n_masked_batches += 1   # every step of these trials is masked: no loss,
                continue                # no gradient, no Adam step
            try:
                batch_loss, grads = loss_and_gradients(
                    current, task.inputs[idx], task.targets[idx], task.mask[idx],
                    mode=mode, loss=loss, weight_l1=weight_l1, weight_l2=weight_l2,
                    rate_l2=rate_l2, noise_std=noise_std, noise=xi, backend=backend,
                    dtype=dtype, workspace=workspace)
            except FloatingPointError:
                blow_up = (epoch + 1, j + 1)
                first = not losses and not batch_losses
                messages.append(f"floating-point blow-up in {where}: the forward pass gave "
                                "a non-finite loss" + (
                                    " before any training step: the initial network "
                                    "itself overflows on this task (scale down its weights, "
                                    "e.g. g, or the inputs; lr and clip_norm have not acted "
                                    "yet)" if first else ""))
                break
            if masks:      # absent weights: no gradient, so no Adam moments either
                grads = {p: np.where(masks[p], g, 0.0) if p in masks else g
                         for p, g in grads.items()}
            with np.errstate(over="ignore", invalid="ignore"):   # checked just below
                new = adam_update({p: params[p] for p in train}, grads, state, lr=lr,
                                  decay=decay, clip_norm=clip_norm)
            if not all(np.all(np.isfinite(v)) for v in new.values()):
                blow_up = (epoch + 1, j + 1)
                bad = [p for p, v in new.items() if not np.all(np.isfinite(v))]
                messages.append(f"floating-point blow-up in {where}: the Adam step gave "
                                f"non-finite {', '.join(bad)} (gradient not finite or too "
                                f"large; mini-batch loss {batch_loss:.4g})")
                break
            losses.append(batch_loss)
            params.update(new)
            if constrained:
                _constrain(params, masks, signs, nonnegative_inputs)
            current = dataclasses.replace(current, J=params["J"], W_in=params["W_in"],
                                          b=params["b"], W_out=params["W_out"],
                                          W_fb=params["W_fb"], b_out=params["b_out"])
        if blow_up is not None:
            current = last_good
            messages[-1] += (f"; returning the network after the last completed epoch "
                             f"({epoch} of {epochs}"
                             + (", the initial network)" if epoch == 0 else ")")
                             + f"; the {len(losses)} mini-batch step(s) of epoch "
                             f"{epoch + 1} before it are discarded"
                             + ("" if "before any training step" in messages[-1]
                                else " (try a smaller lr or clip_norm)"))
            break
        batch_losses.extend(losses)
        epoch_loss = float(np.mean(losses))
        history.append(epoch_loss)
        bar.set_postfix_str(f"loss {epoch_loss:.4g}", refresh=False)
        bar.update(1)
        logger.debug("bptt: epoch %d of %d, mean loss %.6g", epoch + 1, epochs, epoch_loss)
        if ckpt.due(len(history)):
            ckpt.save(params=params, state=state, train=train, history=history,
                      batch_losses=batch_losses, gen=gen, epochs=epochs)
        if callback is not None and callback(epoch, epoch_loss,
                                             _with_structure(current, net)):
            messages.append(f"stopped by the callback after epoch {epoch + 1} of {epochs}")
            break
        if early_stop is not None and epoch_loss < early_stop:
            stopped = True
            messages.append(f"stopped early after epoch {epoch + 1} of {epochs}: mean loss "
                            f"{epoch_loss:.4g} < early_stop = {early_stop:.4g}")
            break
    bar.close()
    logger.info("bptt: %d epoch(s), %d mini-batch step(s), last mean loss %.6g, blow-up "
                "at (epoch, batch) %s", len(history), len(batch_losses),
                history[-1] if history else float("nan"), blow_up)
    if ckpt.active and blow_up is None and ckpt.saved_epochs != len(history):
        ckpt.save(params=params, state=state, train=train, history=history,
                  batch_losses=batch_losses, gen=gen, epochs=epochs)
    if n_masked_batches:
        messages.append(f"{n_masked_batches} mini-batch(es) held only trials whose every step "
                        "is masked (task.mask = 0): skipped, with no Adam step")
    success = bool(np.all(np.isfinite(history))) and blow_up is None
    if early_stop is not None and not stopped and blow_up is None:
        success = False
        messages.append(f"the mean loss of the last epoch, {history[-1]:.4g}, is not below "
                        f"early_stop = {early_stop:.4g} after {len(history)} epochs")
    return BPTTResult(network=_with_structure(current, net), loss_history=np.array(history),
                      batch_losses=np.array(batch_losses), stopped_early=stopped,
                      success=success, messages=tuple(messages), n_epochs=len(history),
                      n_batches=len(batch_losses), dale_signs=signs, blow_up=blow_up)
