"""What the JAX and PyTorch exports share (private): the network's arrays, the checks of the
arguments of an exported simulation, and the network rebuilt from exported arrays.

An export holds the arrays of a :class:`~reservoir.network.Network` under the names of its
fields: ``J`` (dense, (N, N)) or ``J_data`` (the CSR values of a sparse ``J``, (nnz,)),
``W_in``, ``W_fb``, ``W_out``, ``b`` and ``b_out``. Everything else (``phi``, ``tau``,
``dt``, the CSR structure of a sparse ``J``, ``dale_signs``, ``meta``) is fixed at export
and not trained.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import as_choice
from .._kernels import MODE_CODES
from ..errors import SimulationDivergedError
from ..network import Network

#: The trainable arrays of an export, in this order.
DENSE_KEYS = ("J", "W_in", "W_fb", "W_out", "b", "b_out")
SPARSE_KEYS = ("J_data", "W_in", "W_fb", "W_out", "b", "b_out")


def check_network(net) -> Network:
    """``net`` if it is a Network, else ``TypeError`` naming the argument."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a reservoir.Network, got {type(net).__name__}")
    return net


def check_dtype(dtype) -> str:
    """``"float64"`` or ``"float32"`` (NumPy dtypes and their names accepted)."""
    if not isinstance(dtype, str):
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"dtype must be 'float64' or 'float32', got "
                            f"{type(dtype).__name__}") from None
    return as_choice(dtype, "dtype", ("float64", "float32"))


def check_mode(mode) -> str:
    """A feedback mode name, checked (``TypeError``/``ValueError`` naming ``mode``)."""
    return as_choice(mode, "mode", tuple(MODE_CODES))


def network_arrays(net: Network) -> dict[str, np.ndarray]:
    """The trainable arrays of ``net`` (float64 NumPy copies), keyed as in the exports."""
    out = {"J_data": np.array(net.J.data)} if net.is_sparse else {"J": np.array(net.J)}
    for key in DENSE_KEYS[1:]:
        out[key] = np.array(getattr(net, key))
    return out


def expected_shapes(N: int, M: int, K: int, nnz: int | None) -> dict[str, tuple[int, ...]]:
    """The shape of each exported array (``nnz`` None: dense ``J``)."""
    shapes = {"J": (N, N)} if nnz is None else {"J_data": (nnz,)}
    shapes.update(W_in=(N, M), W_fb=(N, K), W_out=(K, N), b=(N,), b_out=(K,))
    return shapes


def check_arrays(arrays, shapes: dict[str, tuple[int, ...]], name: str) -> None:
    """Raise ``TypeError``/``ValueError`` naming ``name`` unless ``arrays`` is a mapping
    with exactly the keys of ``shapes``, each of that shape."""
    if not hasattr(arrays, "keys") or not hasattr(arrays, "__getitem__"):
        raise TypeError(f"{name} must be a dict of arrays with keys {tuple(shapes)}, got "
                        f"{type(arrays).__name__}")
    keys = set(arrays.keys())
    if keys != set(shapes):
        missing = sorted(set(shapes) - keys)
        extra = sorted(keys - set(shapes))
        raise ValueError(f"{name} must have the keys {tuple(shapes)} (missing {missing}, "
                         f"unknown {extra})")
    for key, shape in shapes.items():
        got = tuple(getattr(arrays[key], "shape", np.shape(arrays[key])))
        if got != shape:
            raise ValueError(f"{name}[{key!r}] must have shape {shape}, got {got}")


def run_shapes(N: int, M: int, K: int, mode: str, input_shape, target_shape, x0_shape,
               n_steps) -> tuple[int, int | None]:
    """Check the shapes of the arguments of an exported simulation.

    Returns ``(T, B)`` with ``B`` None for an unbatched run. Raises ``ValueError`` naming
    the argument whose shape is wrong (the rules of :func:`reservoir.simulate`).
    """
    sizes = {}
    if input_shape is None:
        if n_steps is None:
            raise ValueError("n_steps is required when inputs is None")
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or \
                n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        T = int(n_steps)
    else:
        if len(input_shape) not in (2, 3) or input_shape[-1] != M or input_shape[-2] < 1:
            raise ValueError(f"inputs must have shape (T, {M}) or (B, T, {M}) with T >= 1 "
                             f"(M = {M} channels, as net.W_in), got {tuple(input_shape)}")
        T = int(input_shape[-2])
        if n_steps is not None and n_steps != T:
            raise ValueError(f"n_steps={n_steps!r} disagrees with inputs ({T} steps)")
        if len(input_shape) == 3:
            sizes["inputs"] = int(input_shape[0])
    if mode == "teacher":
        if target_shape is None:
            raise ValueError("mode='teacher' needs targets (the signal fed back)")
        if len(target_shape) not in (2, 3) or tuple(target_shape[-2:]) != (T, K):
            raise ValueError(f"targets must have shape ({T}, {K}) or (B, {T}, {K}) to match "
                             f"inputs/n_steps and W_out, got {tuple(target_shape)}")
        if len(target_shape) == 3:
            sizes["targets"] = int(target_shape[0])
    if x0_shape is not None:
        if len(x0_shape) not in (1, 2) or x0_shape[-1] != N:
            raise ValueError(f"x0 must have shape ({N},) or (B, {N}), got {tuple(x0_shape)}")
        if len(x0_shape) == 2:
            sizes["x0"] = int(x0_shape[0])
    if len(set(sizes.values())) > 1:
        raise ValueError(f"batch sizes disagree: {sizes}")
    B = next(iter(sizes.values())) if sizes else None
    if B == 0:
        raise ValueError("a batch must contain at least one trial, got B = 0")
    return T, B


def rebuild_network(arrays: dict[str, np.ndarray], *, phi: str, tau: float, dt: float,
                    indices, indptr, dale_signs, meta: dict) -> Network:
    """The :class:`Network` holding ``arrays`` (float64 NumPy) and the fixed attributes."""
    if indptr is None:
        J = arrays["J"]
    else:
        N = len(indptr) - 1
        J = sp.csr_matrix((arrays["J_data"], np.array(indices), np.array(indptr)),
                          shape=(N, N))
    return Network(J=J, W_in=arrays["W_in"], W_fb=arrays["W_fb"], W_out=arrays["W_out"],
                   b=arrays["b"], b_out=arrays["b_out"], phi=phi, tau=tau, dt=dt,
                   dale_signs=dale_signs, meta=dict(meta))


def check_finite(x: np.ndarray, x_final: np.ndarray) -> None:
    """Raise SimulationDivergedError at the first non-finite state (earliest step, then
    the lowest trial), as :func:`reservoir.simulate` does."""
    if np.all(np.isfinite(x_final)) and np.all(np.isfinite(x)):
        return
    states = np.concatenate([x, x_final[..., None, :]], axis=-2)
    if states.ndim == 2:
        states = states[None]
    bad = ~np.all(np.isfinite(states), axis=-1)          # (B, T + 1)
    first = np.where(bad.any(axis=1), bad.argmax(axis=1), np.iinfo(np.int64).max)
    trial = int(np.argmin(first))
    raise SimulationDivergedError(int(first[trial]) - 1, trial)
