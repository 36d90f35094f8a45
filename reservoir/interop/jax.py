"""Export a :class:`~reservoir.Network` to JAX, and import it back.

:func:`to_jax` turns a network into a pure JAX function and its parameter pytree::

    simulator, jax_params = to_jax(net)
    traj = simulator(jax_params, inputs, x0, mode="closed")     # as reservoir.simulate
    net_back = from_jax(jax_params, simulator)                   # == net, bit for bit

The function reproduces :func:`reservoir.simulate` (forward Euler with ``alpha = dt / tau``,
``x[t+1] = (1 - alpha) x[t] + alpha (J phi(x[t]) + W_in u[t] + W_fb f[t] + b)``, the value
fed back while computing ``x[t+1]`` being the one for time ``t``: ``z[t]`` in closed loop,
``y[t]`` under teacher forcing, 0 in open loop) with :func:`jax.lax.scan`, so it can be
differentiated (``jax.grad``), batched (``jax.vmap``) and compiled (it is compiled once per
nonlinearity, storage of ``J`` and array shapes, shared by all exported networks; the mode
and ``dt / tau`` do not recompile). The trainable arrays are the pytree ``jax_params``, a
dict keyed by the :class:`~reservoir.Network` field names: ``"J"`` (dense, (N, N)) or ``"J_data"`` (the
CSR values of a sparse ``J``, (nnz,), its sparsity pattern fixed), ``"W_in"``, ``"W_fb"``,
``"W_out"``, ``"b"``, ``"b_out"``. ``phi``, ``tau``, ``dt``, the sparsity pattern,
``dale_signs`` and ``meta`` are fixed at export and held by the simulator (Dale's signs are
not enforced by the export: :func:`from_jax` refuses weights that break them).

Precision: JAX computes in float32 unless its global switch ``jax_enable_x64`` is on.
``reservoir`` never sets it (it is global state of the user's program). For float64, the
default, set it at the start of the program, before any JAX array is made::

    import jax
    jax.config.update("jax_enable_x64", True)

Without it, :func:`to_jax` (and a call of the simulator) with ``dtype="float64"`` raises a
``ValueError`` saying so, instead of computing silently in float32; pass
``dtype="float32"`` to export in single precision (the arrays are rounded to float32; a
round trip then gives the float32 values back as float64, not the original bits).

Not exported: the state noise and feedback noise of :func:`reservoir.simulate`. JAX is
imported when a function here is first called; install it with
``pip install "reservoir[jax]"``.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np

from .._kernels import MODE_CODES
from ..network import Network
from . import _shared

__all__ = ["to_jax", "from_jax", "JaxSimulator", "JaxTrajectory"]


def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        raise ImportError("reservoir.interop.jax needs JAX, which is not installed: "
                          "pip install \"reservoir[jax]\" (or pip install jax)") from exc
    return jax, jnp


def _x64_enabled(jax) -> bool:
    """Whether JAX computes float64 now (its ``jax_enable_x64`` switch, however set)."""
    return jax.dtypes.canonicalize_dtype(np.float64) == np.dtype(np.float64)


def _require_x64(jax, dtype: str) -> None:
    if dtype == "float64" and not _x64_enabled(jax):
        raise ValueError(
            "dtype='float64' needs JAX's float64, which is off: JAX would compute in float32. "
            "Turn on its global switch at the start of your program, before any JAX array "
            "is made: jax.config.update('jax_enable_x64', True) (reservoir never sets it), "
            "or export with dtype='float32'")


class JaxTrajectory(NamedTuple):
    """A trajectory computed by a :class:`JaxSimulator` (a pytree of JAX arrays).

    Parameters
    ----------
    x : jax.Array
        States, shape (T, N) or (B, T, N); row ``t`` is ``x[t]``, row 0 is ``x0``.
    r : jax.Array
        Rates ``phi(x)``, same shape as ``x``.
    z : jax.Array
        Readouts ``W_out r + b_out``, shape (T, K) or (B, T, K).
    x_final : jax.Array
        The state after the last step, shape (N,) or (B, N).
    """

    x: Any
    r: Any
    z: Any
    x_final: Any


def _phi(jnp, name: str, x):
    """The nonlinearity in JAX, written as :mod:`reservoir.nonlinearities` writes it
    (relu'(0) = 0; the sigmoid as ``(1 + tanh(x / 2)) / 2``)."""
    if name == "tanh":
        return jnp.tanh(x)
    if name == "relu":
        return jnp.where(x > 0, x, jnp.zeros_like(x))
    return 0.5 * (1.0 + jnp.tanh(0.5 * x))


@functools.cache
def _compiled_run(phi: str, sparse: bool):
    """The pure simulation, jitted; one per nonlinearity and storage of ``J``, shared by
    every simulator (so JAX compiles once per shape, not once per network). The feedback
    mode (0 open, 1 teacher, 2 closed), ``alpha`` and the sparsity pattern are traced
    arguments: changing them does not recompile."""
    jax, jnp = _import_jax()

    def one_trial(p, U, Y, x0, mode_code, alpha, cols, rows):
        N = x0.shape[0]

        def step(x, uy):
            u, y = uy
            r = _phi(jnp, phi, x)
            z = p["W_out"] @ r + p["b_out"]
            f = jnp.where(mode_code == 2, z, jnp.where(mode_code == 1, y, jnp.zeros_like(z)))
            if sparse:
                rec = jax.ops.segment_sum(p["J_data"] * r[cols], rows, num_segments=N,
                                          indices_are_sorted=True)
            else:
                rec = p["J"] @ r
            drive = rec + p["W_in"] @ u + p["W_fb"] @ f + p["b"]
            return (1.0 - alpha) * x + alpha * drive, (x, r, z)

        x_final, (xs, rs, zs) = jax.lax.scan(step, x0, (U, Y))
        return JaxTrajectory(xs, rs, zs, x_final)

    def run(p, U, Y, X0, mode_code, alpha, cols, rows):
        if U.ndim == 2:
            return one_trial(p, U, Y, X0, mode_code, alpha, cols, rows)
        return jax.vmap(one_trial, in_axes=(None, 0, 0, 0, None, None, None, None))(
            p, U, Y, X0, mode_code, alpha, cols, rows)

    return jax.jit(run)


class JaxSimulator:
    """The simulation of an exported network, a pure function of its parameters.

    Made by :func:`to_jax`; call it as ``simulator(jax_params, inputs, x0, mode=...)``.
    It holds what is fixed at export (``phi``, ``tau``, ``dt``, the sizes, the sparsity
    pattern of ``J``, ``dale_signs``, ``meta``, the dtype) and nothing that changes.

    Parameters
    ----------
    net : Network
        The network whose fixed attributes the simulator holds.
    dtype : {"float64", "float32"}
        Floating-point type of the computation.

    Attributes
    ----------
    phi : str
        Nonlinearity name.
    tau : float
        Time constant.
    dt : float
        Euler time step.
    alpha : float
        ``dt / tau``.
    N : int
        Number of units.
    n_inputs : int
        Number of inputs ``M``.
    n_outputs : int
        Number of readouts ``K``.
    dtype : str
        ``"float64"`` or ``"float32"``.
    is_sparse : bool
        Whether ``J`` is sparse (its values are then ``jax_params["J_data"]``).
    """

    def __init__(self, net: Network, dtype: str = "float64"):
        _import_jax()
        net = _shared.check_network(net)
        self.dtype = _shared.check_dtype(dtype)
        self.phi, self.tau, self.dt, self.alpha = net.phi, net.tau, net.dt, net.alpha
        self.N, self.n_inputs, self.n_outputs = net.N, net.n_inputs, net.n_outputs
        self.is_sparse = net.is_sparse
        if net.is_sparse:
            self._indices = np.array(net.J.indices, dtype=np.int64)
            self._indptr = np.array(net.J.indptr, dtype=np.int64)
            rows = np.repeat(np.arange(net.N, dtype=np.int64), np.diff(self._indptr))
            nnz = int(self._indices.size)
        else:
            self._indices = self._indptr = rows = None
            nnz = None
        self._dale_signs = None if net.dale_signs is None else np.array(net.dale_signs)
        self._meta = dict(net.meta)
        self._shapes = _shared.expected_shapes(net.N, net.n_inputs, net.n_outputs, nnz)
        self._rows = rows

    def __call__(self, jax_params: dict, inputs=None, x0=None, *, mode: str, targets=None,
                 n_steps: int | None = None) -> JaxTrajectory:
        """Simulate as :func:`reservoir.simulate` does (without noise), in JAX.

        Parameters
        ----------
        jax_params : dict of jax.Array
            The trainable arrays (see :func:`to_jax`), e.g. trained ones.
        inputs : array_like, shape (T, M) or (B, T, M), optional
            Input ``u[t]`` (acts on ``x[t+1]``); ``None``: zero input for ``n_steps`` steps.
        x0 : array_like, shape (N,) or (B, N), optional
            Initial state (default 0).
        mode : {"closed", "teacher", "open"}
            What is fed back through ``W_fb`` while computing ``x[t+1]``: ``z[t]``,
            ``targets[t]`` or nothing.
        targets : array_like, shape (T, K) or (B, T, K), optional
            The teacher signal ``y[t]`` (required for ``mode="teacher"``, ignored
            otherwise).
        n_steps : int, optional
            Number of steps when ``inputs`` is None.

        Returns
        -------
        JaxTrajectory
            ``x``, ``r``, ``z`` (rows ``t = 0 .. T - 1``) and ``x_final``, batched (leading
            axis ``B``) if any of ``inputs``, ``targets`` or ``x0`` is.

        Raises
        ------
        TypeError
            If ``jax_params`` is not a dict or ``mode`` not a string.
        ValueError
            If ``mode`` is unknown, an array has the wrong shape or (when concrete) NaN
            or infinite values, ``jax_params`` has missing or unknown keys, or the
            simulator is float64 and JAX's ``jax_enable_x64`` is off.
        SimulationDivergedError
            If the state becomes non-finite (checked when the result is concrete, i.e.
            not inside ``jax.jit``, ``jax.grad`` or ``jax.vmap``, where no Python error
            can be raised: check ``x_final`` there).
        """
        jax, jnp = _import_jax()
        mode = _shared.check_mode(mode)
        _require_x64(jax, self.dtype)
        _shared.check_arrays(jax_params, self._shapes, "jax_params")
        dtype = jnp.float64 if self.dtype == "float64" else jnp.float32
        shape = (lambda a: None if a is None else tuple(np.shape(a)))
        T, B = _shared.run_shapes(self.N, self.n_inputs, self.n_outputs, mode,
                                  shape(inputs), shape(targets) if mode == "teacher" else None,
                                  shape(x0), n_steps)
        lead = () if B is None else (B,)
        M, K, N = self.n_inputs, self.n_outputs, self.N
        U = jnp.zeros((T, M), dtype) if inputs is None else jnp.asarray(inputs, dtype)
        Y = jnp.asarray(targets, dtype) if mode == "teacher" else jnp.zeros((T, K), dtype)
        X0 = jnp.zeros((N,), dtype) if x0 is None else jnp.asarray(x0, dtype)
        U = jnp.broadcast_to(U, lead + (T, M))
        Y = jnp.broadcast_to(Y, lead + (T, K))
        X0 = jnp.broadcast_to(X0, lead + (N,))
        p = {k: jnp.asarray(v, dtype) for k, v in jax_params.items()}
        checked = [("inputs", U), ("targets", Y), ("x0", X0)]
        checked += [(f"jax_params[{k!r}]", v) for k, v in p.items()]
        for what, arr in checked:  # concrete arrays only: a tracer has no values yet
            if not isinstance(arr, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(arr))):
                raise ValueError(f"{what} contains NaN or infinite values")
        if self.is_sparse:
            cols = jnp.asarray(self._indices, jnp.int64 if _x64_enabled(jax) else jnp.int32)
            rows = jnp.asarray(self._rows, cols.dtype)
        else:
            cols = rows = jnp.zeros((0,), jnp.int32)
        mode_code = jnp.asarray(MODE_CODES[mode], jnp.int32)
        out = _compiled_run(self.phi, self.is_sparse)(
            p, U, Y, X0, mode_code, jnp.asarray(self.alpha, dtype), cols, rows)
        if not isinstance(out.x_final, jax.core.Tracer):
            _shared.check_finite(np.asarray(out.x), np.asarray(out.x_final))
        return out

    def __repr__(self) -> str:
        kind = "sparse" if self.is_sparse else "dense"
        return (f"JaxSimulator(N={self.N}, M={self.n_inputs}, K={self.n_outputs}, "
                f"phi={self.phi!r}, tau={self.tau}, dt={self.dt}, J {kind}, {self.dtype})")


def to_jax(net: Network, *, dtype: str = "float64") -> tuple[JaxSimulator, dict]:
    """Export a network to JAX: a pure simulation function and its parameter pytree.

    Parameters
    ----------
    net : Network
        The network (dense or sparse ``J``, any ``phi``, ``M`` inputs, ``K`` readouts,
        bias and readout intercept).
    dtype : {"float64", "float32"}
        Floating-point type of the exported arrays and of the computation. The network
        is float64; ``"float64"`` (the default) needs JAX's global ``jax_enable_x64``
        switch (see the module docstring), ``"float32"`` rounds the arrays.

    Returns
    -------
    simulator : JaxSimulator
        ``simulator(jax_params, inputs, x0, mode=..., targets=...)`` reproduces
        :func:`reservoir.simulate` (without noise) with :func:`jax.lax.scan`.
    jax_params : dict of jax.Array
        The trainable arrays: ``"J"`` (N, N) or ``"J_data"`` (nnz,) for a sparse ``J``
        (CSR values, row by row), ``"W_in"`` (N, M), ``"W_fb"`` (N, K), ``"W_out"``
        (K, N), ``"b"`` (N,), ``"b_out"`` (K,).

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``.
    ValueError
        If ``dtype`` is unknown, or is ``"float64"`` while ``jax_enable_x64`` is off.
    ImportError
        If JAX is not installed (``pip install "reservoir[jax]"``).

    Examples
    --------
    >>> import jax                                     # doctest: +SKIP
    >>> jax.config.update("jax_enable_x64", True)      # doctest: +SKIP
    >>> simulator, jax_params = to_jax(net)            # doctest: +SKIP
    >>> loss = lambda p: ((simulator(p, U, mode="open").z - Y) ** 2).mean()  # doctest: +SKIP
    >>> grads = jax.grad(loss)(jax_params)             # doctest: +SKIP
    """
    jax, jnp = _import_jax()
    net = _shared.check_network(net)
    dtype = _shared.check_dtype(dtype)
    _require_x64(jax, dtype)
    simulator = JaxSimulator(net, dtype)
    jdtype = jnp.float64 if dtype == "float64" else jnp.float32
    jax_params = {k: jnp.asarray(v, jdtype) for k, v in _shared.network_arrays(net).items()}
    return simulator, jax_params


def from_jax(jax_params: dict, simulator: JaxSimulator) -> Network:
    """Build a :class:`~reservoir.Network` from JAX parameters (e.g. trained ones).

    Parameters
    ----------
    jax_params : dict of array_like
        The arrays, keyed and shaped as :func:`to_jax` returns them (concrete arrays,
        not tracers: call this outside ``jax.jit``/``jax.grad``).
    simulator : JaxSimulator
        The simulator from :func:`to_jax`: it supplies ``phi``, ``tau``, ``dt``, the
        sparsity pattern of ``J``, ``dale_signs`` and ``meta``.

    Returns
    -------
    Network
        The network; equal to the exported one, bit for bit, when ``jax_params`` are the
        float64 arrays :func:`to_jax` returned (float32 values come back as float64).

    Raises
    ------
    TypeError
        If ``simulator`` is not a :class:`JaxSimulator`, ``jax_params`` not a dict, or it
        holds tracers.
    ValueError
        If a key is missing or unknown, an array has the wrong shape or non-finite values,
        or the weights break the network's Dale signs.
    """
    jax, _ = _import_jax()
    if not isinstance(simulator, JaxSimulator):
        raise TypeError(f"simulator must be the JaxSimulator returned by to_jax, got "
                        f"{type(simulator).__name__}")
    _shared.check_arrays(jax_params, simulator._shapes, "jax_params")
    arrays = {}
    for key in simulator._shapes:
        value = jax_params[key]
        if isinstance(value, jax.core.Tracer):
            raise TypeError(f"jax_params[{key!r}] is a JAX tracer: call from_jax outside "
                            f"jax.jit / jax.grad, on concrete arrays")
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise TypeError(f"jax_params[{key!r}] must be a float array, got dtype {arr.dtype}")
        arrays[key] = arr.astype(np.float64)
    return _shared.rebuild_network(arrays, phi=simulator.phi, tau=simulator.tau,
                                   dt=simulator.dt, indices=simulator._indices,
                                   indptr=simulator._indptr,
                                   dale_signs=simulator._dale_signs, meta=simulator._meta)
