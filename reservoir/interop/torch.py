"""Export a :class:`~reservoir.Network` to a PyTorch module, and import it back.

:func:`to_torch` builds a ``torch.nn.Module`` whose ``forward`` reproduces
:func:`reservoir.simulate` (forward Euler with ``alpha = dt / tau``,
``x[t+1] = (1 - alpha) x[t] + alpha (J phi(x[t]) + W_in u[t] + W_fb f[t] + b)``, the value
fed back while computing ``x[t+1]`` being the one for time ``t``: ``z[t]`` in closed loop,
``y[t]`` under teacher forcing, 0 in open loop)::

    module = to_torch(net)
    traj = module(inputs, x0, mode="closed")       # tensors x, r, z, x_final
    net_back = from_torch(module)                  # == net, bit for bit

The weights are ``torch.nn.Parameter`` named after the :class:`~reservoir.Network` fields
(``J``, or ``J_data`` holding the CSR values of a sparse ``J`` whose sparsity pattern stays
fixed, ``W_in``, ``W_fb``, ``W_out``, ``b``, ``b_out``), so the module trains with any
``torch.optim`` optimiser; ``from_torch`` turns the trained module back into a network.
``phi``, ``tau``, ``dt``, the sparsity pattern, ``dale_signs`` and ``meta`` are fixed
(Dale's signs are not enforced during training: ``from_torch`` refuses weights that break
them). Not exported: the state noise and feedback noise of :func:`reservoir.simulate`.

PyTorch is not a dependency, nor an extra (from PyPI it pulls gigabytes of GPU libraries):
install its CPU build by hand, e.g.
``pip install torch --index-url https://download.pytorch.org/whl/cpu``. It is imported
when a function here is first called.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..network import Network
from . import _shared

__all__ = ["to_torch", "from_torch", "TorchTrajectory"]

_INSTALL = ("pip install torch --index-url https://download.pytorch.org/whl/cpu "
            "(the CPU build; see reservoir.interop.torch)")


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"reservoir.interop.torch needs PyTorch, which is not installed: "
                          f"{_INSTALL}") from exc
    return torch


class TorchTrajectory(NamedTuple):
    """A trajectory computed by the module :func:`to_torch` returns (torch tensors).

    Parameters
    ----------
    x : torch.Tensor
        States, shape (T, N) or (B, T, N); row ``t`` is ``x[t]``, row 0 is ``x0``.
    r : torch.Tensor
        Rates ``phi(x)``, same shape as ``x``.
    z : torch.Tensor
        Readouts ``W_out r + b_out``, shape (T, K) or (B, T, K).
    x_final : torch.Tensor
        The state after the last step, shape (N,) or (B, N).
    """

    x: Any
    r: Any
    z: Any
    x_final: Any


def _torch_dtype_name(dtype) -> str:
    """``"float64"``/``"float32"`` from a name, a NumPy dtype or a torch dtype."""
    text = str(dtype)
    if text.startswith("torch."):
        dtype = text[len("torch."):]
    return _shared.check_dtype(dtype)


_CLASS: list = []


def _module_class():
    """The module class, defined on first use (so that importing this file needs no torch);
    PyTorch is looked up on every call, so a missing one always raises ImportError."""
    torch = _import_torch()
    if not _CLASS:
        _CLASS.append(_define_class(torch))
    return _CLASS[0]


def __getattr__(name: str):
    # ``reservoir.interop.torch.TorchNetwork``, made on first access: pickling a module
    # (torch.save) stores the class by this name
    if name == "TorchNetwork":
        return _module_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _define_class(torch):
    """Define the module class (see :func:`_module_class`)."""
    nn = torch.nn

    class TorchNetwork(nn.Module):
        """A :class:`~reservoir.Network` as a PyTorch module (made by :func:`to_torch`).

        ``forward(inputs=None, x0=None, *, mode, targets=None, n_steps=None)`` reproduces
        :func:`reservoir.simulate` (without noise) and returns a :class:`TorchTrajectory`.
        """

        def __init__(self, net: Network, dtype: str):
            super().__init__()
            tdtype = torch.float64 if dtype == "float64" else torch.float32
            self.phi, self.tau, self.dt, self.alpha = net.phi, net.tau, net.dt, net.alpha
            self.N, self.n_inputs, self.n_outputs = net.N, net.n_inputs, net.n_outputs
            self.is_sparse = net.is_sparse
            self.meta = dict(net.meta)
            for key, value in _shared.network_arrays(net).items():
                setattr(self, key, nn.Parameter(torch.tensor(value, dtype=tdtype)))
            if net.is_sparse:
                indptr = np.array(net.J.indptr, dtype=np.int64)
                rows = np.repeat(np.arange(net.N, dtype=np.int64), np.diff(indptr))
                self.register_buffer("J_indices", torch.tensor(
                    np.array(net.J.indices, dtype=np.int64)))
                self.register_buffer("J_indptr", torch.tensor(indptr))
                self.register_buffer("J_rows", torch.tensor(rows))
                nnz = int(net.J.nnz)
            else:
                nnz = None
            self.register_buffer("dale_signs", None if net.dale_signs is None
                                 else torch.tensor(np.array(net.dale_signs)))
            self._shapes = _shared.expected_shapes(net.N, net.n_inputs, net.n_outputs, nnz)

        def _phi(self, x):
            if self.phi == "tanh":
                return torch.tanh(x)
            if self.phi == "relu":
                return torch.where(x > 0, x, torch.zeros_like(x))
            return 0.5 * (1.0 + torch.tanh(0.5 * x))

        def _recurrent(self, r):
            """``J r`` for each row of ``r`` (B, N)."""
            if self.is_sparse:
                vals = self.J_data * r[:, self.J_indices]
                return torch.zeros_like(r).index_add(1, self.J_rows, vals)
            return r @ self.J.T

        def forward(self, inputs=None, x0=None, *, mode: str, targets=None,
                    n_steps: int | None = None) -> TorchTrajectory:
            """Simulate as :func:`reservoir.simulate` does (without noise), in PyTorch.

            Parameters
            ----------
            inputs : array_like or torch.Tensor, shape (T, M) or (B, T, M), optional
                Input ``u[t]`` (acts on ``x[t+1]``); ``None``: zero input for ``n_steps``.
            x0 : array_like or torch.Tensor, shape (N,) or (B, N), optional
                Initial state (default 0).
            mode : {"closed", "teacher", "open"}
                What is fed back through ``W_fb`` while computing ``x[t+1]``: ``z[t]``,
                ``targets[t]`` or nothing.
            targets : array_like or torch.Tensor, shape (T, K) or (B, T, K), optional
                The teacher signal ``y[t]`` (required for ``mode="teacher"``).
            n_steps : int, optional
                Number of steps when ``inputs`` is None.

            Returns
            -------
            TorchTrajectory
                ``x``, ``r``, ``z`` (rows ``t = 0 .. T - 1``) and ``x_final``, batched if
                any of ``inputs``, ``targets`` or ``x0`` is.

            Raises
            ------
            TypeError, ValueError
                If ``mode`` is unknown, or an array (or a parameter) has the wrong shape or
                NaN or infinite values.
            SimulationDivergedError
                If the state becomes non-finite.
            """
            mode = _shared.check_mode(mode)
            _shared.check_arrays(dict(self.named_parameters()), self._shapes, "module")
            shape = (lambda a: None if a is None else tuple(np.shape(a)))
            T, B = _shared.run_shapes(self.N, self.n_inputs, self.n_outputs, mode,
                                      shape(inputs),
                                      shape(targets) if mode == "teacher" else None,
                                      shape(x0), n_steps)
            batched = B is not None
            B = B or 1
            like = self.W_out
            opts = dict(dtype=like.dtype, device=like.device)
            M, K, N = self.n_inputs, self.n_outputs, self.N
            U = (torch.zeros((T, M), **opts) if inputs is None
                 else torch.as_tensor(inputs, **opts)).expand(B, T, M)
            Y = (torch.as_tensor(targets, **opts).expand(B, T, K) if mode == "teacher"
                 else None)
            x = (torch.zeros((N,), **opts) if x0 is None
                 else torch.as_tensor(x0, **opts)).expand(B, N)
            checked = [("inputs", U), ("targets", Y), ("x0", x)]
            checked += [(f"module.{k}", v) for k, v in self.named_parameters()]
            for what, arr in checked:
                if arr is not None and not bool(torch.isfinite(arr).all()):
                    raise ValueError(f"{what} contains NaN or infinite values")
            alpha = self.alpha
            xs, rs, zs = [], [], []
            for t in range(T):
                r = self._phi(x)
                z = r @ self.W_out.T + self.b_out
                xs.append(x)
                rs.append(r)
                zs.append(z)
                drive = self._recurrent(r) + U[:, t] @ self.W_in.T + self.b
                if mode == "closed":
                    drive = drive + z @ self.W_fb.T
                elif mode == "teacher":
                    drive = drive + Y[:, t] @ self.W_fb.T
                x = (1.0 - alpha) * x + alpha * drive
            out = TorchTrajectory(torch.stack(xs, 1), torch.stack(rs, 1), torch.stack(zs, 1),
                                  x)
            if not bool(torch.isfinite(x).all()) or not bool(torch.isfinite(out.x).all()):
                _shared.check_finite(out.x.detach().cpu().numpy(),
                                     x.detach().cpu().numpy())
            if not batched:
                out = TorchTrajectory(*(a[0] for a in out))
            return out

        def extra_repr(self) -> str:
            kind = "sparse" if self.is_sparse else "dense"
            return (f"N={self.N}, M={self.n_inputs}, K={self.n_outputs}, phi={self.phi!r}, "
                    f"tau={self.tau}, dt={self.dt}, J {kind}")

    TorchNetwork.__module__ = __name__
    TorchNetwork.__qualname__ = "TorchNetwork"
    return TorchNetwork


def to_torch(net: Network, *, dtype: Any = "float64") -> Any:
    """Export a network to a PyTorch module whose ``forward`` reproduces ``simulate``.

    Parameters
    ----------
    net : Network
        The network (dense or sparse ``J``, any ``phi``, ``M`` inputs, ``K`` readouts,
        bias and readout intercept).
    dtype : {"float64", "float32"} or torch.dtype
        Floating-point type of the parameters and of the computation (default float64,
        the network's own: then the parameters hold its values bit for bit).

    Returns
    -------
    torch.nn.Module
        ``module(inputs, x0, mode=..., targets=..., n_steps=...)`` returns a
        :class:`TorchTrajectory` (``x``, ``r``, ``z``, ``x_final``). Parameters
        (``torch.nn.Parameter``): ``J`` (N, N) or ``J_data`` (nnz,), ``W_in`` (N, M),
        ``W_fb`` (N, K), ``W_out`` (K, N), ``b`` (N,), ``b_out`` (K,). Attributes:
        ``phi``, ``tau``, ``dt``, ``alpha``, ``meta``; buffers ``dale_signs`` and, for a
        sparse ``J``, its CSR ``J_indices`` and ``J_indptr``.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``.
    ValueError
        If ``dtype`` is not float64 or float32.
    ImportError
        If PyTorch is not installed (see the module docstring).
    """
    net = _shared.check_network(net)
    dtype = _torch_dtype_name(dtype)
    return _module_class()(net, dtype)


def from_torch(module: Any) -> Network:
    """Build a :class:`~reservoir.Network` from a module made by :func:`to_torch`
    (e.g. after training it).

    Parameters
    ----------
    module : torch.nn.Module
        The module :func:`to_torch` returned, on any device.

    Returns
    -------
    Network
        The network; equal to the exported one, bit for bit, when the module is float64
        and untrained (float32 values come back as float64).

    Raises
    ------
    TypeError
        If ``module`` is not a module made by :func:`to_torch`.
    ValueError
        If a parameter has a wrong shape (e.g. replaced by hand), non-finite values, or
        the weights break the network's Dale signs.
    """
    cls = _module_class()
    if not isinstance(module, cls):
        raise TypeError(f"module must be a module made by reservoir.interop.torch.to_torch, "
                        f"got {type(module).__name__}")
    params = dict(module.named_parameters())
    _shared.check_arrays(params, module._shapes, "module")
    arrays = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in params.items()}
    if module.is_sparse:
        indices = module.J_indices.cpu().numpy()
        indptr = module.J_indptr.cpu().numpy()
    else:
        indices = indptr = None
    signs = None if module.dale_signs is None else module.dale_signs.cpu().numpy()
    return _shared.rebuild_network(arrays, phi=module.phi, tau=module.tau, dt=module.dt,
                                   indices=indices, indptr=indptr, dale_signs=signs,
                                   meta=module.meta)
