r"""The rate network with a feedback loop, and random constructors.

The model, in continuous time (``tau`` in the units the user chooses)::

    tau dx/dt = -x + J phi(x) + W_in u(t) + W_fb f(t) + b
    z = W_out phi(x)                                  (K readouts)

where ``f`` is the fed-back signal: the network's own readout ``z`` in closed loop, a
target ``y`` under teacher forcing, or 0 in open loop. Forward Euler with
``alpha = dt / tau`` gives the discrete map simulated everywhere in the package::

    x[t+1] = (1 - alpha) x[t] + alpha (J phi(x[t]) + W_in u[t] + W_fb f[t] + b)

``alpha = 1`` is the discrete map of the BPTT literature. Weight convention:
``W[i, j]`` is the weight from unit ``j`` (or input/readout ``j``) onto unit ``i``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ._checks import (as_float_array, as_int, as_positive_float, as_real, as_rng,
                      check_memory, check_shape)
from ._deprecation import renamed_kwargs
from ._checks import RngLike
from .nonlinearities import check_phi_name


def _freeze(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, order="C", copy=True)
    a.setflags(write=False)
    return a


_INT32_MAX = 2**31 - 1


def _index_array(arr, what: str) -> np.ndarray:
    """An index array of a sparse matrix: 1-D and of an integer dtype (never float, bool or
    object: a float index would be truncated, an object array could hold anything)."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer array, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {arr.shape}")
    return arr


def _value_array(arr, what: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what} must be a real numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what} must be real, got complex dtype {arr.dtype}")
    return arr


def _check_compressed(indptr, indices, n_major: int, n_minor: int, name: str) -> None:
    """Check a compressed (CSR/CSC/BSR) index structure in NumPy, before any compiled code
    sees it: ``indptr`` has ``n_major + 1`` entries, starts at 0, never decreases and ends at
    ``len(indices)``; every index lies in ``[0, n_minor)``."""
    nnz = indices.size
    if indptr.size != n_major + 1:
        raise ValueError(f"{name}.indptr must have {n_major + 1} entries (one per row, plus "
                         f"one), got {indptr.size}")
    if int(indptr[0]) != 0:
        raise ValueError(f"{name}.indptr must start at 0, got {int(indptr[0])}")
    if int(indptr[-1]) != nnz:
        raise ValueError(f"{name}.indptr must end at the number of stored entries "
                         f"len({name}.indices) = {nnz}, got {int(indptr[-1])}")
    if n_major > 0:
        drops = np.flatnonzero(indptr[1:] < indptr[:-1])
        if drops.size:
            k = int(drops[0])
            raise ValueError(f"{name}.indptr must be non-decreasing, but indptr[{k + 1}] = "
                             f"{int(indptr[k + 1])} < indptr[{k}] = {int(indptr[k])}")
    if nnz:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= n_minor:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name}.indices must lie in [0, {n_minor}), found {bad}")


def _canonical_csr(data, indices, indptr, N: int, name: str = "J") -> sp.csr_matrix:
    """Validate raw CSR arrays of an (N, N) matrix and return a canonical, read-only CSR.

    Every check runs in NumPy before scipy's compiled routines touch the arrays (those trust
    them: an out-of-range index is a segfault there). Canonical: column indices sorted within
    each row, no duplicate entries (duplicates are summed, scipy's convention, as in
    ``toarray``), float64 data, int32 indices where ``N`` and the number of entries fit
    (12 bytes per nonzero instead of 16: the sparse kernels stream the matrix), int64
    otherwise. Explicit zeros are kept.
    """
    indptr = _index_array(indptr, f"{name}.indptr")
    indices = _index_array(indices, f"{name}.indices")
    data = _value_array(data, f"{name}.data")
    if data.ndim != 1:
        raise ValueError(f"{name}.data must be 1-D, got shape {data.shape}")
    if data.size != indices.size:
        raise ValueError(f"{name}.data and {name}.indices must have the same length, got "
                         f"{data.size} and {indices.size}")
    _check_compressed(indptr, indices, N, N, name)
    data = np.array(data, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} contains NaN or infinite values")
    nnz = indices.size
    itype = np.int32 if max(nnz, N) < _INT32_MAX else np.int64
    indices = indices.astype(itype, copy=True)
    indptr = indptr.astype(itype, copy=True)
    canonical = True
    if nnz > 1:
        # pair (k, k + 1) lies in one row unless k + 1 starts a row
        same_row = np.ones(nnz - 1, dtype=bool)
        starts = indptr[1:-1]
        same_row[starts[(starts > 0) & (starts < nnz)] - 1] = False
        canonical = bool(np.all(np.diff(indices)[same_row] > 0))
    csr = sp.csr_matrix((data, indices, indptr), shape=(N, N), copy=False)
    if not canonical:
        csr.sum_duplicates()  # sorts the indices of each row, then sums duplicates
        if not np.all(np.isfinite(csr.data)):
            raise ValueError(f"{name} contains duplicate entries whose sum overflows")
        csr.indices = csr.indices.astype(itype, copy=False)
        csr.indptr = csr.indptr.astype(itype, copy=False)
    csr.has_canonical_format = True
    for arr in (csr.data, csr.indices, csr.indptr):
        arr.setflags(write=False)
    return csr


def _as_csr(J, name: str = "J") -> sp.csr_matrix:
    """Any scipy sparse matrix or array, validated, as a canonical read-only CSR."""
    shape = getattr(J, "shape", None)
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {shape}")
    n_rows, n_cols = (int(s) for s in shape)
    if n_rows != n_cols:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {shape}")
    if n_rows == 0:
        raise ValueError(f"{name} must not be empty, got shape {shape}")
    N = n_rows
    fmt = getattr(J, "format", None)
    if fmt == "csr":
        return _canonical_csr(J.data, J.indices, J.indptr, N, name)
    if fmt == "csc":
        # the CSC arrays of J are the CSR arrays of J^T
        JT = _canonical_csr(J.data, J.indices, J.indptr, N, name)
        return _canonical_csr(*_csr_parts(JT.T.tocsr()), N, name)
    if fmt == "bsr":
        R, C = J.blocksize
        indptr = _index_array(J.indptr, f"{name}.indptr")
        indices = _index_array(J.indices, f"{name}.indices")
        data = _value_array(J.data, f"{name}.data")
        if data.shape != (indices.size, R, C):
            raise ValueError(f"{name}.data must have shape ({indices.size}, {R}, {C}), got "
                             f"{data.shape}")
        _check_compressed(indptr, indices, N // R, N // C, name)
        J = J.tocoo()
    elif fmt != "coo":
        J = J.tocoo()  # lil, dok, dia: built from Python-level checked data
    row = _index_array(J.row, f"{name}.row")
    col = _index_array(J.col, f"{name}.col")
    data = _value_array(J.data, f"{name}.data")
    if data.ndim != 1 or not data.size == row.size == col.size:
        raise ValueError(f"{name}.data, {name}.row and {name}.col must be 1-D of one length, "
                         f"got shapes {data.shape}, {row.shape}, {col.shape}")
    for what, idx in (("row", row), ("col", col)):
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= N):
            bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
            raise ValueError(f"{name}.{what} must lie in [0, {N}), found {bad}")
    coo = sp.coo_matrix((_value_array(data, f"{name}.data").astype(np.float64),
                         (row.astype(np.int64), col.astype(np.int64))), shape=(N, N))
    return _canonical_csr(*_csr_parts(coo.tocsr()), N, name)


def _csr_parts(csr):
    return csr.data, csr.indices, csr.indptr


@dataclass(frozen=True, eq=False)
class Network:
    """A rate network with inputs, a linear readout and readout feedback.

    Parameters
    ----------
    J : ndarray, shape (N, N), or scipy.sparse matrix
        Recurrent weights; ``J[i, j]`` is from unit ``j`` to unit ``i``. Sparse input (any
        scipy format) is validated as a whole (integer index arrays, every index in
        ``[0, N)``, ``indptr`` of ``N + 1`` entries from 0 to ``nnz``, non-decreasing, finite
        values) and stored as a canonical CSR (``scipy.sparse.csr_matrix``): column
        indices sorted within each row, duplicate entries summed (as ``toarray`` does).
    W_in : ndarray, shape (N, M)
        Input weights (``M`` may be 0 for a network without inputs).
    W_fb : ndarray, shape (N, K)
        Feedback weights from the ``K`` readouts back onto the units.
    W_out : ndarray, shape (K, N)
        Readout weights, ``z = W_out phi(x)``.
    b : ndarray, shape (N,)
        Constant bias current.
    phi : str
        Nonlinearity name: ``"tanh"``, ``"relu"`` or ``"sigmoid"``.
    tau : float
        Single-unit time constant (> 0), in the user's time unit.
    dt : float
        Euler time step, ``0 < dt <= tau`` (``dt > tau`` overshoots the leak and is
        rejected).
    meta : dict
        Free-form JSON-serialisable provenance (seed, g, ...); saved with the network and
        ignored by equality.
    b_out : ndarray, shape (K,), optional
        Readout intercept, ``z = W_out phi(x) + b_out`` (default zeros: no intercept). In
        closed loop it feeds back as the constant current ``W_fb b_out``.
    dale_signs : ndarray, shape (N,), optional
        Dale's law: ``+1`` for an excitatory, ``-1`` for an inhibitory unit; every
        outgoing weight of unit ``j`` (column ``J[:, j]``) then has the sign of
        ``dale_signs[j]`` or is zero. ``None`` (default): no sign constraint.

    Raises
    ------
    TypeError
        If an array is not numeric, an index array of a sparse ``J`` is not of an integer
        dtype, or ``meta`` is not a dict.
    ValueError
        If a shape does not match ``N``, ``K`` or ``M``, an array holds non-finite values,
        ``dale_signs`` holds a value other than +1 and -1 or a column of ``J`` violates
        its sign, the index structure of a sparse ``J`` is broken (an index out of ``[0, N)``, a bad
        ``indptr``, mismatched lengths), ``phi`` is unknown, ``tau`` or ``dt`` is not
        positive, or ``dt > tau``.

    Notes
    -----
    Arrays are copied and made read-only: a ``Network`` is immutable. Derive modified
    networks with ``dataclasses.replace(net, W_out=new)`` (the new arrays are validated).
    Two networks compare equal when every array and scalar is bit-identical.
    """

    J: Any
    W_in: np.ndarray
    W_fb: np.ndarray
    W_out: np.ndarray
    b: np.ndarray
    phi: str = "tanh"
    tau: float = 1.0
    dt: float = 0.1
    meta: dict = field(default_factory=dict)
    b_out: Any = None
    dale_signs: Any = None

    def __post_init__(self):
        set_ = object.__setattr__
        if sp.issparse(self.J):
            J = _as_csr(self.J)
        else:
            J = as_float_array(self.J, "J", 2)
            if J.shape[0] != J.shape[1]:
                raise ValueError(f"J must be a square (N, N) matrix, got shape {J.shape}")
            J = _freeze(J)
        N = J.shape[0]
        set_(self, "J", J)
        W_in = as_float_array(self.W_in, "W_in", 2, allow_empty=True)
        check_shape(W_in, (N, None), "W_in")
        W_fb = as_float_array(self.W_fb, "W_fb", 2)
        check_shape(W_fb, (N, None), "W_fb")
        K = W_fb.shape[1]
        W_out = as_float_array(self.W_out, "W_out", 2)
        check_shape(W_out, (K, N), "W_out")
        b = as_float_array(self.b, "b", 1)
        check_shape(b, (N,), "b")
        set_(self, "W_in", _freeze(W_in))
        set_(self, "W_fb", _freeze(W_fb))
        set_(self, "W_out", _freeze(W_out))
        set_(self, "b", _freeze(b))
        if self.b_out is None:
            b_out = np.zeros(K)
        else:
            b_out = as_float_array(self.b_out, "b_out", 1, allow_empty=True)
            check_shape(b_out, (K,), "b_out")
        set_(self, "b_out", _freeze(b_out))
        if self.dale_signs is not None:
            set_(self, "dale_signs", _freeze(_check_dale_signs(self.dale_signs, J)))
        set_(self, "phi", check_phi_name(self.phi))
        tau = as_positive_float(self.tau, "tau")
        dt = as_positive_float(self.dt, "dt")
        if dt > tau:
            raise ValueError(
                f"dt must not exceed tau (forward Euler with dt/tau > 1 overshoots the leak "
                f"and is unstable), got dt={dt}, tau={tau}")
        set_(self, "tau", tau)
        set_(self, "dt", dt)
        if not isinstance(self.meta, dict):
            raise TypeError(f"meta must be a dict, got {type(self.meta).__name__}")
        set_(self, "meta", dict(self.meta))

    # ----------------------------------------------------------------- sizes
    @property
    def N(self) -> int:
        """Number of units."""
        return self.J.shape[0]

    @property
    def n_inputs(self) -> int:
        """Number of input channels ``M``."""
        return self.W_in.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of readouts ``K`` (each fed back through a column of ``W_fb``)."""
        return self.W_out.shape[0]

    @property
    def alpha(self) -> float:
        """Euler factor ``dt / tau``."""
        return self.dt / self.tau

    @property
    def is_sparse(self) -> bool:
        """Whether ``J`` is stored as a sparse CSR matrix."""
        return sp.issparse(self.J)

    def dense_J(self) -> np.ndarray:
        """``J`` as a dense array.

        Returns
        -------
        ndarray, shape (N, N)
            ``J`` itself (read-only) when dense, a fresh dense copy when sparse.

        Raises
        ------
        ValueError
            If a sparse ``J`` is too large for a dense copy to fit in physical memory.
        """
        if not self.is_sparse:
            return self.J
        check_memory(8.0 * self.N * self.N, "N", self.N, what="a dense (N, N) copy of J")
        return self.J.toarray()

    def with_readout(self, W_out, b_out=None) -> "Network":
        """Return a copy with other readout weights.

        Parameters
        ----------
        W_out : array_like, shape (K, N)
            The new readout.
        b_out : array_like, shape (K,), optional
            The new readout intercept (default: zeros, no intercept).

        Returns
        -------
        Network
            Equal to this network except for ``W_out`` and ``b_out``.

        Raises
        ------
        ValueError
            If ``W_out`` or ``b_out`` has the wrong shape or non-finite entries.
        """
        return dataclasses.replace(self, W_out=W_out, b_out=b_out)

    @property
    def has_intercept(self) -> bool:
        """Whether the readout has a nonzero intercept ``b_out``."""
        return bool(np.any(self.b_out != 0))

    # --------------------------------------------------------------- equality
    def __eq__(self, other):
        if not isinstance(other, Network):
            return NotImplemented
        if self.is_sparse != other.is_sparse or self.J.shape != other.J.shape:
            return False
        if self.is_sparse:
            same_J = (np.array_equal(self.J.indptr, other.J.indptr)
                      and np.array_equal(self.J.indices, other.J.indices)
                      and np.array_equal(self.J.data, other.J.data))
        else:
            same_J = np.array_equal(self.J, other.J)
        return (same_J
                and all(np.array_equal(getattr(self, n), getattr(other, n))
                        for n in ("W_in", "W_fb", "W_out", "b", "b_out"))
                and ((self.dale_signs is None and other.dale_signs is None)
                     or (self.dale_signs is not None and other.dale_signs is not None
                         and np.array_equal(self.dale_signs, other.dale_signs)))
                and self.phi == other.phi and self.tau == other.tau and self.dt == other.dt)

    __hash__ = None

    def __repr__(self):
        kind = f"sparse, {self.J.nnz} nonzeros" if self.is_sparse else "dense"
        return (f"Network(N={self.N}, M={self.n_inputs}, K={self.n_outputs}, phi={self.phi!r}, "
                f"tau={self.tau}, dt={self.dt}, J {kind})")


def _check_dale_signs(signs, J) -> np.ndarray:
    """Validate Dale signs (N,) of +1/-1 against the columns of ``J`` (dense or CSR)."""
    s = as_float_array(signs, "dale_signs", 1)
    N = J.shape[0]
    check_shape(s, (N,), "dale_signs")
    if not np.all((s == 1.0) | (s == -1.0)):
        raise ValueError("dale_signs must hold +1 (excitatory) or -1 (inhibitory) for each "
                         "unit")
    if sp.issparse(J):
        cols, vals = J.indices, J.data
    else:
        cols = np.broadcast_to(np.arange(N), J.shape).ravel()
        vals = J.ravel()
    bad = vals * s[cols] < 0
    if np.any(bad):
        j = int(cols[np.argmax(bad)])
        raise ValueError(
            f"J violates dale_signs: {int(np.count_nonzero(bad))} weights have the wrong "
            f"sign (first in column {j}, whose unit has sign {int(s[j]):+d}); project J "
            "(reservoir.train.project_dale) or pass dale_signs=None")
    return s


def _bernoulli_positions(n_total: int, p: float, rng) -> np.ndarray:
    """Sorted positions in ``[0, n_total)`` of independent Bernoulli(``p``) successes.

    The gaps between successive successes of a Bernoulli sequence are i.i.d. geometric
    (``P(gap = k) = (1 - p)^(k - 1) p``, ``k >= 1``), so the positions are the running sums
    of geometric draws: O(number of successes) random numbers and memory instead of one
    uniform per position. Chunks of draws are sized so that a running sum cannot overflow
    int64.
    """
    expected = p * n_total
    chunk = int(min(expected + 6.0 * np.sqrt(expected) + 64, 1 << 22))
    chunk = max(1, min(chunk, (2**62) // (n_total + 1)))
    parts, last = [], -1
    while True:
        gaps = rng.geometric(p, size=chunk)
        np.minimum(gaps, n_total + 1, out=gaps)  # any longer gap ends the sequence anyway
        pos = np.cumsum(gaps)
        pos += last
        if pos[-1] >= n_total:
            parts.append(pos[:np.searchsorted(pos, n_total)])
            break
        parts.append(pos)
        last = int(pos[-1])
    return np.concatenate(parts)


def _random_J(N, g, density, init, sparse, rng):
    if init == "orthogonal":
        if density != 1.0:
            raise ValueError("init='orthogonal' requires density=1.0")
        A = rng.standard_normal((N, N))
        Q, R = np.linalg.qr(A)
        Q = Q * np.sign(np.diag(R))[None, :]  # Haar measure (sign fix)
        J = g * Q
        return sp.csr_matrix(J) if sparse else J
    if density == 1.0:
        J = rng.standard_normal((N, N))
        J *= g / np.sqrt(N)
        return sp.csr_matrix(J) if sparse else J
    # Each entry present independently with probability `density` (an i.i.d. Bernoulli
    # mask, in row-major order), drawn in O(nnz): the positions of the present entries by
    # geometric gaps, then their values.
    scale = g / np.sqrt(density * N)
    pos = _bernoulli_positions(N * N, density, rng)
    indptr = np.searchsorted(pos, np.arange(N + 1, dtype=np.int64) * N)
    cols = pos - np.repeat(np.arange(N, dtype=np.int64) * N, np.diff(indptr))
    del pos
    vals = rng.standard_normal(cols.size)
    vals *= scale
    J = sp.csr_matrix((vals, cols, indptr), shape=(N, N))
    return J if sparse else J.toarray()


#: Largest ``N`` of a sparse ``J`` that ``random_network(spectral_radius=...)`` rescales:
#: beyond it the eigenvalues of largest modulus crowd the edge of the circular law so
#: densely that the Arnoldi iteration was seen to return one that is not the largest
#: (N = 30,000: 0.14 % too small).
SPECTRAL_RADIUS_MAX_SPARSE_N = 10_000
#: Below this ``N`` a sparse ``J`` is densified and its radius computed by LAPACK.
_ARNOLDI_MIN_N = 64
#: Relative tolerance of the spectral radius of a rescaled ``J``.
SPECTRAL_RADIUS_RTOL = 1e-10


def _arnoldi_radius(J, ncv: int, seed: int) -> float:
    """Largest modulus among the 6 eigenvalues of largest modulus found by ARPACK."""
    from scipy.sparse.linalg import ArpackNoConvergence, eigs
    N = J.shape[0]
    v0 = np.random.default_rng(seed).standard_normal(N)  # fixed: reproducible bits
    try:
        lam = eigs(J, k=6, which="LM", ncv=min(ncv, N - 1), tol=1e-13, v0=v0,
                   maxiter=50 * N, return_eigenvectors=False)
    except ArpackNoConvergence as exc:
        raise RuntimeError(
            f"spectral_radius: the Arnoldi iteration (scipy.sparse.linalg.eigs) did not "
            f"converge on the sparse J (N = {N}): {exc}; draw a dense J (sparse=False) or "
            "set the scale with g (circular law: spectral radius about g)") from None
    return float(np.max(np.abs(lam)))


def _spectral_radius_of(J) -> float:
    """Spectral radius ``max |lambda_i|`` of a square matrix, dense or sparse.

    A matrix with zero entries is first cut into the strongly connected components of its
    graph (``scipy.sparse.csgraph.connected_components``): in that order of the units it
    is block triangular, so its eigenvalues are those of the diagonal blocks (a unit on
    no cycle contributes its self-weight ``J_ii``, often 0). This is exact, and it keeps
    the Arnoldi iteration away from the (nearly) nilpotent parts of very sparse graphs,
    where it breaks down. Each block: every eigenvalue by LAPACK (``numpy.linalg.eigvals``,
    O(n^3) time) when ``J`` is dense or the block has fewer than 64 units; otherwise (a
    sparse ``J``) the six eigenvalues of largest modulus by the implicitly restarted
    Arnoldi method (ARPACK, ``scipy.sparse.linalg.eigs``, Ritz values to relative
    1e-13), run twice from two fixed starting vectors with two Krylov dimensions (40 and
    60); the two radii must agree to relative ``SPECTRAL_RADIUS_RTOL`` (1e-10), else the
    answer is not trusted and an error is raised. Results are reproducible (fixed
    starting vectors).

    Parameters
    ----------
    J : ndarray or scipy.sparse matrix, shape (N, N)
        The matrix (finite entries).

    Returns
    -------
    float
        The spectral radius (units of ``J``).

    Raises
    ------
    ValueError
        If a sparse ``J`` has ``N > SPECTRAL_RADIUS_MAX_SPARSE_N`` (10,000): there the
        Arnoldi iteration cannot be trusted to find the largest modulus among the many
        eigenvalues near the edge of the bulk.
    RuntimeError
        If the Arnoldi iteration does not converge, or its two runs disagree.
    """
    from scipy.sparse.csgraph import connected_components
    N = J.shape[0]
    sparse = sp.issparse(J)
    if sparse and N > SPECTRAL_RADIUS_MAX_SPARSE_N:
        raise ValueError(
            f"spectral_radius with a sparse J needs N <= {SPECTRAL_RADIUS_MAX_SPARSE_N} "
            f"(got N = {N}): beyond, the Arnoldi iteration cannot be trusted to find the "
            "largest modulus among the eigenvalues crowding the edge of the bulk; set the "
            "scale with g instead (circular law: spectral radius g (1 + O(N^-1/2))), or "
            "draw a dense J (sparse=False)")
    if not sparse and np.all(J != 0):
        return float(np.max(np.abs(np.linalg.eigvals(J))))   # one component: all units
    graph = sp.csr_matrix(J)
    graph.eliminate_zeros()
    n_comp, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=n_comp)
    diag = np.abs(graph.diagonal())
    rho = float(np.max(diag[sizes[labels] == 1], initial=0.0))   # units on no cycle
    for c in np.flatnonzero(sizes > 1):
        idx = np.flatnonzero(labels == c)
        if not sparse:
            rho = max(rho, float(np.max(np.abs(np.linalg.eigvals(J[np.ix_(idx, idx)])))))
            continue
        block = graph[idx][:, idx]
        if idx.size < _ARNOLDI_MIN_N:
            rho = max(rho, float(np.max(np.abs(np.linalg.eigvals(block.toarray())))))
            continue
        r1 = _arnoldi_radius(block, 40, 1)
        r2 = _arnoldi_radius(block, 60, 2)
        if abs(r1 - r2) > SPECTRAL_RADIUS_RTOL * max(r1, r2):
            raise RuntimeError(
                f"spectral_radius: two Arnoldi runs on the sparse J (a strongly connected "
                f"block of {idx.size} of its N = {N} units) found different spectral "
                f"radii, {r1!r} and {r2!r}; draw a dense J (sparse=False) or set the scale "
                "with g")
        rho = max(rho, r1, r2)
    return rho


def _rescale_to_radius(J, target: float):
    """``J`` times ``target / rho(J)`` (in place), and ``rho(J)`` (measured before).

    ``J`` is first divided by its largest magnitude, so that the measurement and the
    result do not depend on the scale of the draw (``g``), however extreme."""
    vals = J.data if sp.issparse(J) else J
    scale = float(np.max(np.abs(vals))) if vals.size else 0.0
    if not scale > 0.0:
        raise ValueError("spectral_radius cannot be set: the drawn J is zero")
    vals /= scale            # J is the fresh draw: scaled in place
    rho_n = _spectral_radius_of(J)
    fro = float(np.linalg.norm(vals))
    # rho <= ||J||_2 <= ||J||_F; a random bulk has rho ~ ||J||_F / sqrt(N). A nilpotent J
    # (a graph without cycles: rho exactly 0 above) has no radius to rescale.
    if not rho_n > 1e-8 * fro:
        raise ValueError(
            f"spectral_radius cannot be set: the drawn J has spectral radius "
            f"{rho_n * scale:.3g} (Frobenius norm {fro * scale:.3g}), i.e. (numerically) "
            "none, as for a graph without cycles at a very low density")
    vals *= target / rho_n
    return J, rho_n * scale


def _random_network_bytes(N: int, M: int, K: int, density: float, init: str,
                          sparse: bool) -> float:
    """Estimated peak bytes of :func:`random_network` (floats: no overflow)."""
    n = float(N)
    vectors = 2 * 8 * n * (M + 2 * K + 1) + 2**20  # + temporaries of the checks
    if init == "orthogonal":
        return 5 * 8 * n * n + vectors  # A, Q, R, g Q and the network's copy (+ CSR)
    if density == 1.0:
        dense = 2 * 8 * n * n
        return dense + (2 * 12 * n * n if sparse else 0) + vectors
    nnz = density * n * n
    nnz += 6 * np.sqrt(nnz) + 64
    # positions, columns, values, the CSR and the network's validated copy
    need = 56 * nnz + 32 * n
    if not sparse:
        need += 2 * 8 * n * n
    return need + vectors


def _random_vectors(rng, shape, dist, scale, name):
    if dist == "uniform":
        return scale * rng.uniform(-1.0, 1.0, size=shape)
    if dist == "normal":
        return scale * rng.standard_normal(shape)
    raise ValueError(f"{name} must be 'uniform' or 'normal', got {dist!r}")


def random_network(N: int, g: float, n_inputs: int = 1, n_outputs: int = 1, *,
                   phi: str = "tanh", tau: float = 1.0, dt: float = 0.1,
                   density: float = 1.0, sparse: bool | None = None, init: str = "normal",
                   input_scale: float = 1.0, input_dist: str = "normal",
                   feedback_scale: float = 1.0, feedback_dist: str = "uniform",
                   bias_scale: float = 0.0, spectral_radius: float | None = None,
                   rng: RngLike = None) -> Network:
    """Draw a random feedback network.

    Parameters
    ----------
    N : int
        Number of units.
    g : float
        Gain of the random bulk (>= 0). With ``init="normal"``, nonzero entries of ``J``
        are i.i.d. ``N(0, g**2 / (density * N))``, so every row has variance ``g**2 / N``
        and the eigenvalues fill the disk of radius ``g`` (circular law). With
        ``init="orthogonal"``, ``J = g Q`` with ``Q`` Haar-orthogonal.
    n_inputs, n_outputs : int
        ``M`` input channels (>= 0) and ``K`` readouts (>= 1).
    phi : str
        Nonlinearity name.
    tau, dt : float
        Time constant and Euler step (``0 < dt <= tau``).
    density : float
        Connection probability ``p`` in (0, 1]; each entry is present independently. A
        sparse ``J`` is drawn in O(``p N^2``) time and memory: the gaps between present
        entries (row-major) are geometric, then the values are drawn.
    sparse : bool, optional
        Store ``J`` as CSR. Default: sparse when ``density < 1``.
    init : {"normal", "orthogonal"}
        Distribution of the bulk.
    input_scale, input_dist : float, {"normal", "uniform"}
        ``W_in`` entries are ``input_scale * N(0, 1)`` or ``input_scale * U[-1, 1]``
        (Mastrogiuseppe & Ostojic and Rivkind & Barak use Gaussian vectors of O(1)).
    feedback_scale, feedback_dist : float, {"uniform", "normal"}
        ``W_fb`` entries; the default ``U[-1, 1]`` is Sussillo & Abbott's FORCE choice.
    bias_scale : float
        ``b`` entries are ``bias_scale * N(0, 1)`` (default 0: no bias).
    spectral_radius : float, optional
        Rescale the drawn ``J`` (drawn as above, with gain ``g``) by one scalar so that
        its spectral radius ``max |lambda_i(J)|`` equals this value (> 0), the convention
        of echo-state networks (Jaeger 2001; pyESN, reservoirpy ``sr``). It then overrides
        the overall scale set by ``g``: the result does not depend on ``g`` (up to
        rounding), only the law of the bulk (``init``, ``density``) and the draw remain,
        and ``g = 0`` is refused. ``meta`` records ``spectral_radius``, the radius of the
        draw before rescaling (``spectral_radius_drawn``) and ``g_effective = g *
        spectral_radius / spectral_radius_drawn``, the gain whose variance the rescaled
        ``J`` has (rows of variance ``g_effective**2 / N``). Tolerance: the spectral radius
        of the result equals ``spectral_radius`` to relative ``1e-10``. Dense ``J``: every
        eigenvalue by LAPACK (``numpy.linalg.eigvals``, O(N^3) time). Sparse ``J``: the
        eigenvalues of largest modulus by the Arnoldi method (``scipy.sparse.linalg.eigs``,
        two runs that must agree), for ``N <= 10_000``
        (``reservoir.network.SPECTRAL_RADIUS_MAX_SPARSE_N``); a larger sparse ``J`` raises
        ``ValueError`` (beyond, the method was seen to miss the largest modulus among the
        eigenvalues crowding the edge of the disk). Default ``None``: no rescaling (radius
        about ``g`` by the circular law).
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of all randomness. Draw order: ``J`` (for ``density < 1``: the geometric
        gaps, then the values), ``W_in``, ``W_fb``, ``b`` (``spectral_radius`` draws
        nothing: the same seed gives the same ``W_in``, ``W_fb``, ``b`` with or without it).

    Returns
    -------
    Network
        With ``W_out = 0`` (untrained) and ``meta`` recording the construction arguments.

    Raises
    ------
    TypeError
        If ``sparse`` is not a bool or None, a size is not an integer, or
        ``spectral_radius`` is not a real number.
    ValueError
        If a size, scale or ``density`` is out of range, ``init``, ``input_dist``,
        ``feedback_dist`` or ``phi`` is unknown, ``dt > tau``, the network cannot fit
        in physical memory (raised before anything is drawn, naming ``N`` and the bytes
        needed), ``spectral_radius`` is not finite and > 0, is combined with ``g = 0``
        or with a sparse ``J`` of ``N > 10_000``, or the drawn ``J`` has (numerically) no
        spectral radius to rescale (a graph without cycles at a very low density).
    RuntimeError
        If the Arnoldi iteration for a sparse ``J`` does not converge or its two runs
        disagree (the radius is then not trusted).
    """
    N = as_int(N, "N", minimum=1)
    g = as_positive_float(g, "g", allow_zero=True)
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    n_outputs = as_int(n_outputs, "n_outputs", minimum=1)
    density = as_positive_float(density, "density")
    if density > 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    if init not in ("normal", "orthogonal"):
        raise ValueError(f"init must be 'normal' or 'orthogonal', got {init!r}")
    if sparse is None:
        sparse = density < 1.0
    elif not isinstance(sparse, bool):
        raise TypeError(f"sparse must be a bool or None, got {type(sparse).__name__}")
    input_scale = as_positive_float(input_scale, "input_scale", allow_zero=True)
    feedback_scale = as_positive_float(feedback_scale, "feedback_scale", allow_zero=True)
    bias_scale = as_positive_float(bias_scale, "bias_scale", allow_zero=True)
    for arg, dist in (("input_dist", input_dist), ("feedback_dist", feedback_dist)):
        if not isinstance(dist, str) or dist not in ("uniform", "normal"):
            raise ValueError(f"{arg} must be 'uniform' or 'normal', got {dist!r}")
    if spectral_radius is not None:
        spectral_radius = as_positive_float(spectral_radius, "spectral_radius")
        if g == 0:
            raise ValueError("spectral_radius cannot be combined with g=0: a zero J has no "
                             "spectral radius to rescale (pass g > 0, e.g. 1)")
        if sparse and N > SPECTRAL_RADIUS_MAX_SPARSE_N:
            _spectral_radius_of(sp.csr_matrix((N, N)))   # raises the documented error
    seed = rng if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    gen = as_rng(rng)
    eig_bytes = 3 * 8.0 * N * N if spectral_radius is not None and not sparse else 0.0
    # N first (with at most one input and output), so that a huge N is not blamed on them
    check_memory(_random_network_bytes(N, min(n_inputs, 1), min(n_outputs, 1), density, init,
                                       sparse) + eig_bytes, "N", N,
                 what=("a dense (N, N) J" if not sparse else
                       f"a sparse J of density {density:g} (about {density * N * N:.3g} "
                       "nonzeros)") + " and the network's copy")
    for arg, k in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        check_memory(2 * 8.0 * N * (k + 1), arg, k, what=f"the (N, {arg}) weights")
    check_memory(_random_network_bytes(N, n_inputs, n_outputs, density, init, sparse)
                 + eig_bytes, "N", N,
                 what=("a dense (N, N) J" if not sparse else
                       f"a sparse J of density {density:g} (about {density * N * N:.3g} "
                       "nonzeros)") + " and the network's copy")
    J = _random_J(N, g, density, init, sparse, gen)
    W_in = _random_vectors(gen, (N, n_inputs), input_dist, input_scale, "input_dist")
    W_fb = _random_vectors(gen, (N, n_outputs), feedback_dist, feedback_scale, "feedback_dist")
    b = bias_scale * gen.standard_normal(N) if bias_scale > 0 else np.zeros(N)
    meta = {"constructor": "random_network", "seed": None if seed is None else int(seed),
            "g": g, "density": density, "init": init, "input_scale": input_scale,
            "input_dist": input_dist, "feedback_scale": feedback_scale,
            "feedback_dist": feedback_dist, "bias_scale": bias_scale}
    if spectral_radius is not None:
        J, rho = _rescale_to_radius(J, spectral_radius)
        meta.update(spectral_radius=spectral_radius, spectral_radius_drawn=rho,
                    g_effective=g * spectral_radius / rho)
    return Network(J=J, W_in=W_in, W_fb=W_fb, W_out=np.zeros((n_outputs, N)), b=b,
                   phi=phi, tau=tau, dt=dt, meta=meta)


def glorot_limit(fan_in: int, fan_out: int) -> float:
    """Keras ``glorot_uniform`` limit ``sqrt(6 / (fan_in + fan_out))``.

    Glorot & Bengio (2010): entries drawn from ``U[-L, L]`` with this ``L`` have variance
    ``2 / (fan_in + fan_out)``.

    Parameters
    ----------
    fan_in : int
        Number of inputs of the layer (>= 0).
    fan_out : int
        Number of outputs of the layer (>= 0; ``fan_in + fan_out > 0``).

    Returns
    -------
    float
        The limit ``L`` (dimensionless).

    Raises
    ------
    ZeroDivisionError
        If ``fan_in + fan_out == 0``.
    """
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def jarne_network(N: int = 50, n_inputs: int = 2, n_outputs: int = 1, *,
                  init: str = "orthogonal", phi: str = "tanh", bias: bool = False,
                  dt: float = 1.0, rng: RngLike = None) -> Network:
    """A network initialised as Jarne's Keras networks, as a discrete map (``tau = dt``).

    The initialisation of the BPTT-trained networks of Jarne (2023, J. Comput. Neurosci.
    51:407-431; the Keras ``SimpleRNN`` set-up of the authors' code): ``J`` random normal
    with variance 1/N or Haar-orthogonal (gain 1), ``W_in`` and ``W_out`` Glorot-uniform
    (limits ``sqrt(6/(M+N))`` and ``sqrt(6/(N+K))``), ``b = 0`` (trained only if ``bias``:
    pass ``train=("J", "W_in", "b", "W_out")`` to :func:`~reservoir.train.bptt`), no
    feedback (``W_fb = 0``).

    Parameters
    ----------
    N : int
        Number of units.
    n_inputs : int
        Number of input channels ``M`` (>= 0).
    n_outputs : int
        Number of readouts ``K`` (>= 1).
    init : {"orthogonal", "normal"}
        Distribution of ``J``.
    phi : str
        Nonlinearity name (Jarne: ``"tanh"``).
    bias : bool
        Whether the bias is meant to be trained (recorded in ``meta``; ``b`` starts at 0).
    dt : float
        Time step of the map (> 0, finite; default 1, i.e. 1 ms for Jarne's tasks in
        :mod:`reservoir.tasks`), with ``tau = dt`` so that ``alpha = dt / tau = 1``: the
        discrete RNN ``h[t+1] = phi(J h[t] + W_in u[t] + b)`` of Keras' ``SimpleRNN``, one
        step per sample of the task. Pass the task's ``dt`` (:func:`~reservoir.train.bptt`
        refuses a task on another time grid). The weights do not depend on ``dt``: the same
        ``rng`` gives the same ``J``, ``W_in``, ``W_out`` for every ``dt``.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    Network
        With ``tau = dt`` (``alpha = 1``) and ``meta["constructor"] ==
        "jarne_network"``.

    Raises
    ------
    TypeError
        If a size is not an integer, ``dt`` is not a real number or ``bias`` is not a bool.
    ValueError
        If a size or ``init`` is invalid (see :func:`random_network`), or ``dt`` is not
        finite and > 0.
    """
    N = as_int(N, "N", minimum=1)
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    n_outputs = as_int(n_outputs, "n_outputs", minimum=1)
    if not isinstance(bias, (bool, np.bool_)) and not (
            isinstance(bias, (int, np.integer)) and bias in (0, 1)):
        raise TypeError(f"bias must be a bool, got {bias!r}")
    dt = as_positive_float(dt, "dt")
    for arg, k in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        check_memory(2 * 8.0 * N * (k + 1), arg, k, what=f"the (N, {arg}) weights")
    gen = as_rng(rng)
    net = random_network(N, 1.0, n_inputs, n_outputs, phi=phi, tau=dt, dt=dt, init=init,
                         input_dist="uniform", input_scale=glorot_limit(n_inputs, N),
                         feedback_scale=0.0, rng=gen)
    W_out = gen.uniform(-1, 1, (n_outputs, N)) * glorot_limit(N, n_outputs)
    return dataclasses.replace(net.with_readout(W_out),
                               meta={**net.meta, "constructor": "jarne_network",
                                     "bias": bool(bias)})


@renamed_kwargs(C="readout_scale")
def exact_overlap_network(N: int, *, g: float, Sm: float, SI: float, rho: float, p: float,
                          p_m: float, p_I: float, readout_scale: float, dt: float = 0.1,
                          rng: RngLike = None) -> Network:
    """A finite network with exactly the population overlaps the mean-field theory assumes.

    The theory of Mastrogiuseppe & Ostojic (2019) describes a random bulk ``chi`` (our
    ``J``) with i.i.d. entries of variance ``g^2/N``, a feedback vector ``m``, an input
    vector ``I`` and a readout ``n`` built from shared Gaussian components. Here the
    generating vectors ``xi, eta_m, eta_I`` are the columns of a random orthonormal
    N x 3 matrix scaled by ``sqrt(N)`` (our choice: the empirical overlaps then equal the
    mean-field ones exactly, where i.i.d. draws fluctuate by about 5 % at N = 2000)::

        m = Sm (rho xi + sqrt(1 - rho^2) eta_m)
        I = SI (rho xi + sqrt(1 - rho^2) eta_I)
        n = readout_scale (p xi + p_m eta_m + p_I eta_I)

    (the parametrisation of the authors' code).

    Parameters
    ----------
    N : int
        Number of units (>= 3).
    g : float
        Gain of the bulk ``J``.
    Sm : float
        Scale of the feedback vector ``m`` (its RMS entry).
    SI : float
        Scale of the input vector ``I`` (its RMS entry).
    rho : float
        Weight of the component ``xi`` shared by ``m`` and ``I`` (``|rho| <= 1``).
    p : float
        Weight of ``xi`` in the readout direction.
    p_m : float
        Weight of ``eta_m`` in the readout direction.
    p_I : float
        Weight of ``eta_I`` in the readout direction.
    readout_scale : float
        Overall scale of the readout ``n`` (was ``C``, deprecated).
    dt : float
        Euler step (``tau = 1``).
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    Network
        With ``W_in = I`` (drive it with ``u = [1]``), ``W_fb = m``, ``W_out = n^T / N``
        and ``b = 0``.

    Raises
    ------
    ValueError
        If ``N < 3``, ``|rho| > 1`` (non-finite vectors) or ``dt`` is invalid, or the dense
        ``J`` cannot fit in physical memory.
    """
    N = as_int(N, "N", minimum=3)
    g = as_positive_float(g, "g", allow_zero=True)
    rho = as_real(rho, "rho", low=-1.0, high=1.0)
    Sm, SI, p, p_m, p_I, readout_scale = (
        as_real(v, k) for k, v in (("Sm", Sm), ("SI", SI), ("p", p), ("p_m", p_m),
                                   ("p_I", p_I), ("readout_scale", readout_scale)))
    gen = as_rng(rng)
    check_memory(3 * 8.0 * N * N, "N", N, what="a dense (N, N) J and the network's copy")
    Q, _ = np.linalg.qr(gen.standard_normal((N, 3)))
    xi, em, eI = (Q * np.sqrt(N)).T
    s = np.sqrt(1 - rho**2)
    m = Sm * (rho * xi + s * em)
    I = SI * (rho * xi + s * eI)
    n = readout_scale * (p * xi + p_m * em + p_I * eI)
    J = gen.standard_normal((N, N)) * g / np.sqrt(N)
    return Network(J=J, W_in=I[:, None], W_fb=m[:, None], W_out=n[None, :] / N, b=np.zeros(N),
                   dt=dt, meta={"constructor": "exact_overlap_network", "g": g,
                                "Sm": Sm, "SI": SI, "rho": rho, "p": p, "p_m": p_m,
                                "p_I": p_I, "readout_scale": readout_scale})


# ------------------------------------------------------------------ Dale's law
def _as_dale_signs(signs, N: int, name: str = "dale_signs") -> np.ndarray:
    """Validate signs (N,) of +1 (excitatory) and -1 (inhibitory) units; return float64."""
    s = as_float_array(signs, name, 1)
    check_shape(s, (N,), name)
    if not np.all((s == 1.0) | (s == -1.0)):
        raise ValueError(f"{name} must hold +1 (excitatory) or -1 (inhibitory) for each unit, "
                         f"got the values {np.unique(s)[:5]}")
    return s


def _dale_signs(N: int, excitatory_fraction: float) -> np.ndarray:
    """+1 for the first ``round(f N)`` (excitatory) units, -1 for the rest."""
    n_e = int(round(excitatory_fraction * N))
    return np.r_[np.ones(n_e), -np.ones(N - n_e)]


def _project_dale(J: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Zero every entry of the dense ``J`` whose sign disagrees with its column's sign."""
    return np.where(J * signs[None, :] >= 0, J, 0.0)


def project_dale(J: ArrayLike | sp.spmatrix, signs: ArrayLike) -> np.ndarray | sp.csr_matrix:
    """Project ``J`` onto Dale's law: zero every weight of the wrong sign.

    Column ``j`` holds the outgoing weights of unit ``j``; under Dale's law they all have
    the sign ``signs[j]`` (or are zero). The set of such matrices is a product of
    half-lines, one per entry, so its Euclidean (Frobenius) projection acts entry by
    entry: a weight of the right sign is kept, one of the wrong sign becomes 0. This is
    the constraint of Jarne's Keras code (a ``Constraint`` applied after every optimiser
    step) and of the rectified parametrisation ``[W]_+`` of Song, Yang & Wang (2016, PLoS
    Comput. Biol. 12:e1004792). The projection is idempotent.

    Parameters
    ----------
    J : array_like, shape (N, N), or scipy.sparse matrix
        Recurrent weights, ``J[i, j]`` from unit ``j`` onto unit ``i``.
    signs : array_like, shape (N,)
        +1 for an excitatory, -1 for an inhibitory presynaptic unit.

    Returns
    -------
    ndarray, shape (N, N), or scipy.sparse.csr_matrix
        The projected weights: a new dense array for a dense ``J``; for a sparse ``J`` a
        CSR matrix with the same stored positions (``indptr``, ``indices``; projected
        weights stay stored as explicit zeros, so the support is unchanged).

    Raises
    ------
    TypeError
        If ``J`` or ``signs`` is not numeric.
    ValueError
        If ``J`` is not square, holds NaN or infinite values, or ``signs`` is not of
        shape (N,) with entries +1 and -1.
    """
    if sp.issparse(J):
        csr = _as_csr(J)
        s = _as_dale_signs(signs, csr.shape[0], "signs")
        data = np.array(csr.data)
        data[data * s[csr.indices] < 0] = 0.0
        return sp.csr_matrix((data, csr.indices.copy(), csr.indptr.copy()), shape=csr.shape)
    A = as_float_array(J, "J", 2)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"J must be a square (N, N) matrix, got shape {A.shape}")
    return _project_dale(A, _as_dale_signs(signs, A.shape[0], "signs"))


#: Laws of the recurrent weights of :func:`dale_network`.
DALE_INITS = ("balanced", "orthogonal", "normal")


def dale_network(N: int = 50, n_inputs: int = 2, n_outputs: int = 1, *,
                 excitatory_fraction: float = 0.8, init: str = "balanced", g: float = 1.0,
                 phi: str = "tanh", dt: float = 1.0, tau: float | None = None,
                 rng: RngLike = None) -> Network:
    r"""A network obeying Dale's law, initialised as in the BPTT literature.

    The first ``n_E = round(excitatory_fraction * N)`` units are excitatory (every
    outgoing weight, a column of ``J``, is >= 0), the other ``n_I = N - n_E``
    inhibitory (<= 0); the signs are stored in ``Network.dale_signs`` and kept by
    :func:`~reservoir.train.bptt`. Three laws of ``J`` (``init``):

    ``"balanced"`` (default): balanced E/I with rescaled inhibitory gains. Magnitudes
    ``a_ij = |xi_ij|``, ``xi_ij ~ N(0, 1)`` i.i.d.; ``J_ij = s a_ij`` in excitatory
    columns and ``J_ij = -s c a_ij`` in inhibitory ones, with ``c = n_E / n_I``. Every
    row's expected input then cancels, ``E[sum_j J_ij] = s E|xi| (n_E - c n_I) = 0``:
    the rule of Song, Yang & Wang (2016, PLoS Comput. Biol. 12:e1004792; their code
    scales each row's inhibitory weights by its ratio of excitatory to inhibitory
    inputs) and of PsychRNN (inhibitory columns times ``f / (1 - f)``), the balance
    condition ``f mu_E + (1 - f) mu_I = 0`` of Rajan & Abbott (2006, Phys. Rev. Lett.
    97:188104). The scale ``s`` puts the bulk of the spectrum at radius ``g`` by Rajan &
    Abbott's formula ``r^2 = sum_j Var(J_ij) = s^2 (1 - 2/pi) (n_E + c^2 n_I)``.
    Balanced only on average, a finite matrix keeps a few eigenvalues outside the bulk
    (Rajan & Abbott): measured, the leading modulus is about ``1.3 g`` at N = 60 and
    ``1.5 g`` at N = 800. It is the default because it trains: on XOR with 80 %
    excitatory units, BPTT solved 12 of 12 balanced networks (N = 40, 2 ms steps, 25
    epochs; 9 of 12 with other rounding, on one thread) and 11 of 12 in Jarne's full
    protocol (N = 50, 4000 trials of 1 ms steps, 30 epochs), against 6 (5) and 2 of 12
    from a projected orthogonal ``J`` and 1 (1) and 3 of 12 from a flipped one
    (``bptt(dale_init="flip")``) in a check.

    ``"orthogonal"``: ``g Q`` with ``Q`` Haar-orthogonal, then projected onto the signs
    (:func:`project_dale`: wrong-signed weights zeroed, about half of them): Jarne's
    Keras networks (orthogonal recurrent initialiser, Dale's law as a constraint
    applied after each step).

    ``"normal"``: i.i.d. ``N(0, g^2 / N)``, then projected likewise.

    A projected ``J`` is not balanced: its column means give a rank-one outlier near
    ``(n_E - n_I) E[max(J_ij, 0)]`` (``= (n_E - n_I) g / sqrt(2 pi N)`` for
    ``"normal"``: 1.85 g at N = 60, f = 0.8), and its bulk radius is about
    ``g sqrt((1 - 1/pi) / 2) = 0.58 g``.

    Input and readout weights are Glorot-uniform, as in :func:`jarne_network` (limits
    ``sqrt(6/(M+N))`` and ``sqrt(6/(N+K))``); ``b = 0``, ``W_fb = 0``. Non-negative input
    weights and a readout of excitatory units only are options of
    :func:`~reservoir.train.bptt` (``nonnegative_inputs``, ``excitatory_readout``).

    Parameters
    ----------
    N : int
        Number of units (>= 1; >= 2 for ``"balanced"``).
    n_inputs : int
        Number of input channels ``M`` (>= 0).
    n_outputs : int
        Number of readouts ``K`` (>= 1).
    excitatory_fraction : float
        Fraction of excitatory units, in (0, 1] (cortex: about 0.8).
    init : {"balanced", "orthogonal", "normal"}
        Law of ``J`` (above).
    g : float
        Gain (>= 0): the bulk radius for ``"balanced"``, the scale of ``J`` before the
        projection otherwise (as in :func:`random_network`).
    phi : str
        Nonlinearity name.
    dt : float
        Euler step.
    tau : float, optional
        Time constant (default ``dt``: the discrete map ``alpha = 1`` of the BPTT
        literature).
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of all randomness. Draw order: ``J``, ``W_in``, ``W_out``.

    Returns
    -------
    Network
        With ``dale_signs`` set and ``meta["constructor"] == "dale_network"``.

    Raises
    ------
    TypeError
        If a size is not an integer or a number is not real.
    ValueError
        If a size, ``excitatory_fraction`` or ``g`` is out of range, ``init`` or ``phi``
        is unknown, ``"balanced"`` is asked with no excitatory or no inhibitory unit,
        ``dt > tau``, or the dense ``J`` cannot fit in physical memory.
    """
    N = as_int(N, "N", minimum=1)
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    n_outputs = as_int(n_outputs, "n_outputs", minimum=1)
    f = as_real(excitatory_fraction, "excitatory_fraction", low=0.0, high=1.0)
    if f == 0.0:
        raise ValueError("excitatory_fraction must be in (0, 1], got 0.0")
    if not isinstance(init, str) or init not in DALE_INITS:
        raise ValueError(f"init must be one of {DALE_INITS}, got {init!r}")
    g = as_positive_float(g, "g", allow_zero=True)
    dt = as_positive_float(dt, "dt")
    tau = dt if tau is None else as_positive_float(tau, "tau")
    n_e = int(round(f * N))           # as _dale_signs
    n_i = N - n_e
    if init == "balanced" and (n_e == 0 or n_i == 0):
        raise ValueError(f"init='balanced' needs excitatory and inhibitory units; "
                         f"excitatory_fraction={f} gives {n_e} of N={N} excitatory")
    for arg, k in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        check_memory(2 * 8.0 * N * (k + 1), arg, k, what=f"the (N, {arg}) weights")
    check_memory(5 * 8.0 * N * N, "N", N, what="a dense (N, N) J and the network's copy")
    signs = _dale_signs(N, f)
    seed = rng if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    gen = as_rng(rng)
    if init == "balanced":
        c = n_e / n_i
        s = g / np.sqrt((1.0 - 2.0 / np.pi) * (n_e + c * c * n_i))
        J = np.abs(gen.standard_normal((N, N)))
        J *= s
        J[:, n_e:] *= -c
    else:
        J = _project_dale(_random_J(N, g, 1.0, init, False, gen), signs)
    W_in = gen.uniform(-1.0, 1.0, (N, n_inputs)) * glorot_limit(n_inputs, N)
    W_out = gen.uniform(-1.0, 1.0, (n_outputs, N)) * glorot_limit(N, n_outputs)
    meta = {"constructor": "dale_network", "seed": None if seed is None else int(seed),
            "g": g, "init": init, "excitatory_fraction": f, "n_excitatory": n_e}
    return Network(J=J, W_in=W_in, W_fb=np.zeros((N, n_outputs)), W_out=W_out,
                   b=np.zeros(N), phi=phi, tau=tau, dt=dt, meta=meta, dale_signs=signs)
