"""Import a reservoirpy (0.4.2) reservoir and readout into a :class:`~reservoir.Network`.

The two models, and where they coincide
---------------------------------------
reservoirpy 0.4.2's ``Reservoir`` node iterates (``reservoirpy/nodes/reservoir.py``,
``Reservoir._step``)::

    s[t] = (1 - lr) s[t-1] + lr f(W s[t-1] + Win v[t] + bias)            (rpy)

where ``s`` is the node's output (its *state*, a rate: ``f`` has been applied), ``v[t]`` the
vector the node receives at step ``t`` (the input ``u[t]``, followed by the fed-back readout
``y[t-1]`` when the node sits in a model with a feedback edge of delay 1, as
``reservoirpy.ESN(feedback=True)`` builds it: ``Model`` concatenates the external input,
then the feedback buffers), and ``s[-1]`` the state held before the run (zeros after
``initialize``). Its ``Ridge`` / ``RLS`` / ``LMS`` readouts compute ``y[t] = s[t] @ Wout +
bias`` with ``Wout`` of shape ``(N, K)``.

This package iterates (``x`` a current, ``r = phi(x)`` a rate, ``alpha = dt / tau``)::

    x[t+1] = (1 - alpha) x[t] + alpha (J phi(x[t]) + W_in u[t] + W_fb z[t] + b),
    z[t] = W_out phi(x[t]) + b_out.                                     (ours)

With ``alpha = 1`` (``dt = tau``) ours reads ``r[t+1] = phi(J r[t] + W_in u[t] + W_fb z[t]
+ b)``: the reservoirpy equation with ``lr = 1`` and ``s[t] = r[t+1]``. The state of
reservoirpy is our *rate* one step later, and its input ``u[t]`` acts one step earlier:
reservoirpy's row ``t`` already contains the effect of ``u[t]``; our row ``t + 1`` does. With
``lr < 1`` the models differ (reservoirpy leaks the rate ``s``, we leak the current ``x``;
``f`` of a sum is not the sum of ``f``), so :func:`from_reservoirpy` refuses it.

Mapping (``M`` inputs, ``K`` readouts, ``N`` units)

===========================  ===============================================================
reservoirpy 0.4.2            reservoir
===========================  ===============================================================
``Reservoir.W`` (N, N)       ``J`` (dense stays dense; a scipy.sparse ``W`` is kept sparse)
``Reservoir.Win[:, :M]``     ``W_in`` (N, M) (``input_scaling`` and ``input_connectivity``
                             are already inside ``Win``: reservoirpy applies them when it
                             draws the matrix)
``Reservoir.Win[:, M:]``     ``W_fb`` (N, K), only with ``feedback=True``; zeros otherwise
``Reservoir.bias``           ``b`` (N,) (a float is broadcast)
``Reservoir.activation``     ``phi``: ``tanh``, ``relu``, ``sigmoid``; others refused
``Reservoir.lr``             must be 1 (every entry): ``tau = dt``
``Reservoir.sr``             nothing to map (already inside ``W``)
``readout.Wout`` (N, K)      ``W_out = Wout.T`` (K, N)
``readout.bias`` (K,)        ``b_out``
state ``s[t]``               rate ``r[t + 1] = phi(x[t + 1])``
initial state ``s[-1]``      ``x0`` with ``phi(x0) = s[-1]``
                             (:func:`initial_state_from_reservoirpy`)
``Model.run(U)`` rows        ``simulate(net, U_ext, x0=x0).r[1:]`` with ``U_ext = U`` plus
                             one more row appended (any value; it only acts after the
                             last row kept)
===========================  ===============================================================

reservoirpy 0.4.2 has no noise, no ``equation`` switch, no separate ``Wfb`` and no input
bias column on its ``Reservoir`` (those were reservoirpy 0.3 features): nothing to map.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .._checks import as_positive_float
from ..network import Network

if TYPE_CHECKING:                                    # annotations only
    import reservoirpy

logger = logging.getLogger(__name__)

__all__ = ["from_reservoirpy", "initial_state_from_reservoirpy"]

#: reservoirpy versions this adapter was written against and tested with.
SUPPORTED_VERSIONS = ("0.4.2",)

_EXTRA = "pip install reservoir[reservoirpy]"


def _import_reservoirpy():
    try:
        import reservoirpy
        from reservoirpy import activationsfunc
        from reservoirpy.nodes import Reservoir
    except ImportError as exc:           # pragma: no cover - reservoirpy is in the dev extra
        raise ImportError(f"reservoirpy is needed for this function: {_EXTRA}") from exc
    if reservoirpy.__version__ not in SUPPORTED_VERSIONS:
        raise ImportError(
            f"reservoir's reservoirpy adapter supports reservoirpy "
            f"{', '.join(SUPPORTED_VERSIONS)} (whose equations it maps), found "
            f"{reservoirpy.__version__}; {_EXTRA} installs a supported version")
    return activationsfunc, Reservoir


def _phi_name(activation, activationsfunc) -> str:
    table = {activationsfunc.tanh: "tanh", activationsfunc.relu: "relu",
             activationsfunc.sigmoid: "sigmoid"}
    for func, name in table.items():
        if activation is func:
            return name
    label = getattr(activation, "__name__", repr(activation))
    raise ValueError(
        f"reservoir.activation must be reservoirpy's tanh, relu or sigmoid (the "
        f"nonlinearities this package has), got {label!r}: the models do not coincide")


def _dense(value, name: str) -> np.ndarray:
    if sp.issparse(value):
        value = value.toarray()
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)


def _check_reservoir(reservoir, Reservoir) -> None:
    if type(reservoir) is not Reservoir:
        raise TypeError(
            f"reservoir must be a reservoirpy.nodes.Reservoir (the node whose equation "
            f"this adapter maps), got {type(reservoir).__module__}."
            f"{type(reservoir).__qualname__}")
    for attr in ("W", "Win", "bias"):
        if callable(getattr(reservoir, attr)):
            raise ValueError(
                f"reservoir.{attr} is still an initializer: initialise the reservoir first "
                f"(reservoir.initialize(u) with an input of the right width, or run it once)")


def from_reservoirpy(reservoir: reservoirpy.nodes.Reservoir,
                     readout: reservoirpy.node.Node | None = None,
                     *, feedback: bool = False, dt: float = 1.0) -> Network:
    """Build the :class:`~reservoir.Network` that reproduces a reservoirpy 0.4.2 reservoir.

    Parameters
    ----------
    reservoir : reservoirpy.nodes.Reservoir
        An initialised reservoir (its ``W``, ``Win`` and ``bias`` are arrays), with leak
        rate ``lr = 1`` and activation ``tanh``, ``relu`` or ``sigmoid``.
    readout : reservoirpy.nodes.Ridge, RLS or LMS, optional
        An initialised (fitted) readout reading the reservoir alone: ``Wout`` of shape
        ``(N, K)`` and ``bias`` of shape ``(K,)``. Without one the network gets ``K = 1``
        readout with zero weights (``W_out``, ``W_fb``, ``b_out`` all zero).
    feedback : bool
        Whether the reservoir receives the readout back through a feedback edge of delay
        1 (``reservoirpy.ESN(feedback=True)``, or ``readout >> reservoir`` after
        ``reservoir >> readout``): then the last ``K`` columns of ``Win`` are the feedback
        weights ``W_fb`` and the first ``M = Win.shape[1] - K`` the input weights. Needs
        ``readout``; see Notes for the first value fed back.
    dt : float
        Time step of the network (time units). reservoirpy counts steps; the network gets
        ``tau = dt`` (``alpha = 1``, the only leak at which the models coincide).

    Returns
    -------
    Network
        ``J = W``, ``W_in = Win[:, :M]``, ``W_fb = Win[:, M:]`` (feedback) or zeros,
        ``b = bias``, ``W_out = Wout.T``, ``b_out = readout.bias``, ``phi`` from the
        activation, ``tau = dt``; ``meta["source"]`` records the origin. A scipy.sparse
        ``W`` gives a sparse ``J``.

    Raises
    ------
    ImportError
        If reservoirpy is missing or not a supported version (``pip install
        reservoir[reservoirpy]``).
    TypeError
        If ``reservoir`` is not a ``reservoirpy.nodes.Reservoir`` (its subclasses and the
        other reservoir nodes follow other equations) or ``feedback`` is not a bool.
    ValueError
        Where the models do not coincide, naming the parameter: ``lr`` not 1, an
        activation other than tanh/relu/sigmoid; and for an uninitialised node, a readout
        whose ``Wout`` does not read exactly the ``N`` units (a readout that also receives
        the input), or ``feedback=True`` without a readout or with too few columns in
        ``Win``.

    Notes
    -----
    Equations and the full mapping table: :mod:`reservoir.interop.reservoirpy`. To
    reproduce ``states = reservoir.run(U)`` (or ``model.run(U)``) run
    ``tr = simulate(net, np.vstack([U, U[-1:]]), x0=initial_state_from_reservoirpy(
    reservoir), mode="closed")``: ``states == tr.r[1:]`` and the readout ``model.run(U) ==
    tr.z[1:]`` (to rounding, about 1e-15). The appended row is needed only because our
    row ``T`` is the state after ``T`` steps; its value does not matter. (A reservoir
    made with ``dtype=np.float32`` computes in float32; the network holds the same values
    in float64, so the runs then agree to float32 rounding only.)

    With feedback, the first value fed back is reservoirpy's feedback buffer (zeros after
    ``model.reset()``; after ``model.fit`` the last target), while ``simulate`` in closed
    loop feeds back ``z[0] = W_out phi(x0) + b_out``. To start from a buffer ``y_prev``
    (shape (K,)), run the first step in teacher mode and continue from its final state::

        first = simulate(net, U[:1], x0=x0, mode="teacher", targets=y_prev[None])
        rest = simulate(net, np.vstack([U[1:], U[-1:]]), x0=first.x_final, mode="closed")

    then ``model.run(U)`` equals ``rest.z`` (row ``t`` of ``rest`` is our row ``t + 1``)
    and the reservoir states ``rest.r``. (reservoirpy 0.4.2 does not store the reservoir
    state reached by such a run: the next ``run`` starts again from the old state.)
    """
    activationsfunc, Reservoir = _import_reservoirpy()
    _check_reservoir(reservoir, Reservoir)
    if not isinstance(feedback, (bool, np.bool_)):
        raise TypeError(f"feedback must be a bool, got {type(feedback).__name__}")
    dt = as_positive_float(dt, "dt")
    lr = np.asarray(reservoir.lr, dtype=np.float64)
    if not np.all(lr == 1.0):
        raise ValueError(
            f"reservoir.lr must be 1 for the models to coincide, got {reservoir.lr!r}: "
            f"reservoirpy leaks the rate s = f(.), this package leaks the current x with "
            f"alpha = dt / tau, so with leak < 1 the two equations differ")
    phi = _phi_name(reservoir.activation, activationsfunc)
    W = reservoir.W
    if sp.issparse(W):
        J = sp.csr_matrix(W, dtype=np.float64)
    else:
        J = _dense(W, "reservoir.W")
    N = J.shape[0]
    Win = _dense(reservoir.Win, "reservoir.Win")
    if Win.ndim != 2 or Win.shape[0] != N:
        raise ValueError(f"reservoir.Win must have shape ({N}, n_inputs), got {Win.shape}")
    bias = _dense(reservoir.bias, "reservoir.bias")
    if bias.size == 1:
        bias = np.full(N, float(bias.ravel()[0]))
    elif bias.size == N:
        bias = bias.ravel()
    else:
        raise ValueError(f"reservoir.bias must be a float or have {N} entries, got shape "
                         f"{bias.shape}")

    if readout is None:
        if feedback:
            raise ValueError("feedback=True needs the readout whose output is fed back "
                             "(readout=...)")
        K = 1
        W_out = np.zeros((1, N))
        b_out = np.zeros(1)
    else:
        for attr in ("Wout", "bias"):
            if not hasattr(readout, attr):
                raise TypeError(f"readout must be a reservoirpy Ridge, RLS or LMS node (with "
                                f"Wout and bias), got {type(readout).__name__}")
            if getattr(readout, attr) is None or callable(getattr(readout, attr)):
                raise ValueError(f"readout.{attr} is not set: fit or initialise the readout "
                                 f"first")
        Wout = _dense(readout.Wout, "readout.Wout")
        if Wout.ndim != 2 or Wout.shape[0] != N:
            raise ValueError(
                f"readout.Wout must have shape ({N}, K) (a readout of the {N} reservoir "
                f"units alone), got {Wout.shape}: a readout that also receives the input "
                f"(input_to_readout=True) has no counterpart here")
        K = Wout.shape[1]
        W_out = Wout.T
        b_out = _dense(readout.bias, "readout.bias").ravel()
        if b_out.size == 1 and K > 1:
            b_out = np.full(K, float(b_out[0]))
        if b_out.shape != (K,):
            raise ValueError(f"readout.bias must have {K} entries, got shape {b_out.shape}")

    if feedback:
        if Win.shape[1] < K:
            raise ValueError(
                f"feedback=True: reservoir.Win must end with {K} feedback columns, got "
                f"shape {Win.shape}")
        M = Win.shape[1] - K
        W_in, W_fb = Win[:, :M], Win[:, M:]
    else:
        W_in, W_fb = Win, np.zeros((N, K))
    import reservoirpy
    meta = {"source": f"reservoirpy {reservoirpy.__version__}",
            "reservoirpy_name": str(getattr(reservoir, "name", None))}
    if readout is not None:
        meta["reservoirpy_readout"] = type(readout).__name__
    return Network(J=J, W_in=W_in, W_fb=W_fb, W_out=W_out, b=bias, phi=phi, tau=dt, dt=dt,
                   meta=meta, b_out=b_out)


def initial_state_from_reservoirpy(reservoir: reservoirpy.nodes.Reservoir,
                                   state: np.ndarray | None = None) -> np.ndarray:
    """The initial state ``x0`` whose rate is reservoirpy's state: ``phi(x0) = s``.

    With ``alpha = 1`` the next step depends on ``x0`` only through ``phi(x0)``, so any
    preimage serves; this returns ``arctanh(s)`` (tanh; ``+-20``, whose float64 tanh is
    exactly ``+-1``, for a saturated ``s = +-1``), ``s`` (relu) or ``log(s / (1 - s))``
    (sigmoid).

    Parameters
    ----------
    reservoir : reservoirpy.nodes.Reservoir
        An initialised reservoir (its activation picks ``phi``).
    state : array_like, shape (N,), optional
        The reservoirpy state ``s``; default the reservoir's current state
        ``reservoir.state["out"]`` (zeros after ``initialize``).

    Returns
    -------
    ndarray, shape (N,)
        ``x0`` (state units).

    Raises
    ------
    ImportError
        If reservoirpy is missing.
    ValueError
        If ``s`` is not in the range of ``phi`` (``|s| < 1`` for tanh, ``s >= 0`` for relu,
        ``0 < s < 1`` for sigmoid: reservoirpy's zero start has no sigmoid counterpart),
        has the wrong shape or non-finite entries, or the activation is not one of ours.
    """
    activationsfunc, Reservoir = _import_reservoirpy()
    _check_reservoir(reservoir, Reservoir)
    phi = _phi_name(reservoir.activation, activationsfunc)
    N = reservoir.W.shape[0]
    if state is None:
        state = reservoir.state["out"]
    s = _dense(state, "state").ravel()
    if s.shape != (N,):
        raise ValueError(f"state must have shape ({N},), got {np.shape(state)}")
    if not np.all(np.isfinite(s)):
        raise ValueError("state must be finite")
    if phi == "tanh":
        if np.any(np.abs(s) > 1):
            raise ValueError("state must lie in [-1, 1] for tanh (the range of phi), got "
                             f"max |s| = {np.max(np.abs(s))}")
        # |s| = 1 is a saturated float64 tanh (|x| >= 19.1): 20 has tanh(20) == 1.0 exactly
        with np.errstate(divide="ignore"):
            return np.where(np.abs(s) == 1.0, 20.0 * s, np.arctanh(s))
    if phi == "relu":
        if np.any(s < 0):
            raise ValueError(f"state must be >= 0 for relu, got min {np.min(s)}")
        return s.copy()
    if np.any((s <= 0) | (s >= 1)):
        raise ValueError(
            "state must lie in (0, 1) for sigmoid (the range of phi), got values in "
            f"[{np.min(s)}, {np.max(s)}]: reservoirpy's zero initial state has no sigmoid "
            f"counterpart; start reservoirpy from a state inside (0, 1) (reservoir.state = "
            f"{{'out': s0}}, or run it once)")
    return np.log(s) - np.log1p(-s)
