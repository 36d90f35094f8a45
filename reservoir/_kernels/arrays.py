"""The network's arrays in one bundle, the argument every Numba kernel takes.

A kernel used to take ``J``, the three CSR arrays, ``W_in``, ``W_fb``, ``W_out`` and ``b``
as separate positional arguments; two arrays of the same type and rank (``W_in`` and
``W_fb`` when ``M = K``) could be swapped and the kernel would compile and run. A kernel now
takes one :class:`NetworkArrays` and reads its fields by name (``arrays.W_fb``), and the
package builds every bundle in one place, :func:`network_arrays`, which fills each field from
the network attribute of the same name. (A namedtuple can still be built positionally by
hand; nothing in the package does.) The other array arguments of the kernels (inputs,
targets, recordings, gradients) are still positional: their shapes differ from the weights'
and are checked by the Python callers.

The bundle is a ``typing.NamedTuple``: Numba compiles a function of it like a function of
its fields (one compiled version per combination of field types, cached on disk with
``cache=True``). The builder decides the dtypes (float64 or float32 weights; int32, int64,
uint32 or, for the column indices only, uint16 CSR indices); the kernels are written for any of them. (uint64 is left out: Numba
types ``uint64 + int64`` as float64, which cannot index.)
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np
import scipy.sparse as sp

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_INDICES = tuple(np.dtype(t) for t in (np.int32, np.int64, np.uint32))
#: Largest ``N`` whose column indices the default bundle stores as uint16.
_UINT16_MAX_N = 1 << 16


class NetworkArrays(NamedTuple):
    """The arrays of a :class:`~reservoir.network.Network`, as the kernels read them.

    Exactly one form of ``J`` is filled; the other form holds empty placeholders of the
    same dtypes, so that dense and CSR bundles differ only in their shapes. Every array
    is C-contiguous and, apart from a ``W_out`` passed to :func:`network_arrays` for a
    kernel to update and the CSR ``data``, ``indices`` and ``indptr`` (the bundle's own
    copies, writable for speed: see :func:`network_arrays`), read-only.

    Parameters
    ----------
    J : ndarray, shape (N, N), or (0, 0) when ``J`` is sparse
        Dense recurrent weights, ``J[i, j]`` from unit ``j`` to unit ``i``.
    data : ndarray, shape (nnz,), or (0,) when ``J`` is dense
        CSR values of ``J`` (same dtype as ``J``).
    indices : ndarray of int, shape (nnz,), or (0,) when ``J`` is dense
        CSR column indices (sorted within each row).
    indptr : ndarray of int, shape (P (N + 1),), or (0,) when ``J`` is dense
        CSR row pointers of ``P >= 1`` column panels (the dtype of ``indices``, or a wider
        one: see :func:`network_arrays`): the nonzeros of row ``i`` in the columns of panel
        ``p`` (:func:`panel_edges`) are ``data[indptr[p (N + 1) + i]:indptr[p (N + 1) + i
        + 1]]``, the panels one after the other. ``P = 1`` is plain CSR; ``P`` is
        ``len(indptr) // (N + 1)`` (:func:`n_panels`). Its length tells the two forms
        apart: see :func:`is_dense`.
    W_in : ndarray, shape (N, M)
        Input weights.
    W_fb : ndarray, shape (N, K)
        Feedback weights.
    W_out : ndarray, shape (K, N)
        Readout weights.
    b : ndarray, shape (N,)
        Bias.
    """

    J: np.ndarray
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    W_in: np.ndarray
    W_fb: np.ndarray
    W_out: np.ndarray
    b: np.ndarray


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    """A read-only C-contiguous view (a copy only if the dtype or layout differ)."""
    a = np.ascontiguousarray(a, dtype=dtype).view()
    a.setflags(write=False)
    return a


def network_arrays(net, dtype=np.float64, *, index_dtype=None, step_scaled: bool = False,
                   J=None, W_out=None, fold_intercept: bool = False,
                   align: bool = False, panels: int = 1) -> NetworkArrays:
    """Bundle a network's arrays for the Numba kernels.

    Parameters
    ----------
    net : Network
        The network whose ``J``, ``W_in``, ``W_fb``, ``W_out`` and ``b`` are bundled.
    dtype : {numpy.float64, numpy.float32}
        Dtype of every weight array. float64 arrays of ``net`` are used without a copy.
    index_dtype : {numpy.int32, numpy.int64, numpy.uint32}, optional
        Dtype of the CSR ``indices`` and ``indptr`` (and of their placeholders for a dense
        ``J``). Default, for a sparse ``J``: unsigned, since Numba tests every signed
        index for a negative value, which made the CSR product 2x slower; ``indptr``
        uint32 (int64 if ``nnz`` needs more than 32 bits) and ``indices`` uint16 for
        ``N <= 65536`` (10 bytes per nonzero instead of 12: 7 % faster at N = 4000, 10 %,
        where the product streams from the L3 cache; issue 16), else as ``indptr``.
        int32 placeholders for a dense one.
    step_scaled : bool
        Multiply ``J``, ``W_in``, ``W_fb`` and ``b`` by ``alpha = dt / tau`` (in float64,
        before the conversion to ``dtype``): the form of the BPTT kernels, whose update is
        ``x[t+1] = (1 - alpha) x[t] + (alpha J) r[t] + (alpha W_in) u[t] + alpha b``.
    J : array_like, shape (N, N), optional
        Dense recurrent weights to use instead of ``net.J`` (BPTT in closed loop runs on
        ``J + W_fb W_out``).
    W_out : ndarray, shape (K, N), optional
        Readout to use instead of ``net.W_out``. A float64 C-contiguous array of the right
        shape is bundled as it is (not copied, not made read-only), for a kernel that
        updates it in place (FORCE).
    fold_intercept : bool
        Bundle the closed-loop bias ``b + W_fb b_out`` in place of ``b`` (computed in
        float64 as ``net.b + net.W_fb @ net.b_out``, before any step scaling). In closed
        loop the fed-back readout ``z = W_out phi(x) + b_out`` contributes
        ``W_fb W_out phi(x) + W_fb b_out``: a kernel that feeds back ``W_out phi(x)``
        then runs the network with its readout intercept exactly (to the rounding of one
        addition). Leave it False for open loop and teacher forcing, where the readout is
        not fed back. No effect when ``b_out`` is zero (the same bits as without it).
    align : bool
        Make the dense ``J`` start on a 64-byte boundary (a copy when it does not already):
        NumPy aligns to 16 bytes only, and the single-trial kernel measured 10-15 % slower
        per step on a ``J`` at a 16-byte offset (N = 100 and 500, AMD EPYC, AVX-512). Worth
        its one copy of ``J`` for runs of more than a few dozen steps. No effect on the
        values.
    panels : int
        Column panels of a CSR ``J`` (ignored for a dense one; default 1, plain CSR). The
        single-trial kernels read ``r`` from the L1 cache with :func:`column_panels`'s
        count; the batched and FORCE kernels accept any count but gain nothing from it
        (a batch's rates are gathered by rows of B values; N = 4000, 10 %, one core, B =
        64: 233 us per step plain, 282 in two panels). The kernels sum a row's panels in
        order, so the count changes the rounding of ``J r``.

    Returns
    -------
    NetworkArrays
        The bundle; dense ``J`` unless ``net.J`` is sparse and no ``J`` is given.

    Raises
    ------
    TypeError
        If ``net`` is not a ``Network``.
    ValueError
        If ``dtype`` or ``index_dtype`` is not supported, if an index does not fit in
        ``index_dtype``, if ``J`` or ``W_out`` has the wrong shape, if ``J`` or ``W_out``
        holds non-finite values, or if ``panels`` is not an integer in ``[1, max(N, 1)]``.
    """
    from ..network import Network     # the kernels do not depend on the network module
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise ValueError(f"dtype must be float64 or float32, got {dtype}")
    N, K = net.N, net.n_outputs
    panels = _checked_panels(panels, N)
    scale = net.alpha if step_scaled else None

    def weights(a):
        return _frozen(a if scale is None else scale * a, dtype)

    if J is None and net.is_sparse:
        csr = net.J
        largest = max(csr.nnz, N)
        if index_dtype is None:           # unsigned: no negative-index test per nonzero
            ptype = np.dtype(np.uint32 if largest <= np.iinfo(np.uint32).max else np.int64)
            # column indices below 2^16 in two bytes: 10 bytes per nonzero instead of 12
            itype = np.dtype(np.uint16) if N <= _UINT16_MAX_N else ptype
        else:
            itype = ptype = np.dtype(index_dtype)
            _check_index_dtype(itype, largest)
        dense_J = _frozen(np.zeros((0, 0)), dtype)
        # the bundle's own writable copies, not read-only views: with read-only CSR arrays
        # LLVM turns the four accumulators of csr_row_dot into AVX-512 gathers (measured
        # 1.4-1.7x slower per step at N = 1000-2000, 10 %, single core; issue 16)
        if panels > 1:     # copied straight into the panels
            data, indices, indptr = panel_csr(weights(csr.data), csr.indices, csr.indptr,
                                              N, panels, itype, ptype)
        else:
            data = np.array(weights(csr.data))
            indices = np.array(csr.indices, dtype=itype, order="C")
            indptr = np.array(csr.indptr, dtype=ptype, order="C")
    else:
        if J is None:
            J = net.J
        elif sp.issparse(J):
            raise ValueError("J must be dense (it replaces net.J in a dense bundle)")
        J = np.asarray(J, dtype=np.float64)
        if J.shape != (N, N):
            raise ValueError(f"J must have shape ({N}, {N}), got {J.shape}")
        if J is not net.J and not np.all(np.isfinite(J)):
            raise ValueError("J contains NaN or infinite values")
        itype = np.dtype(np.int32) if index_dtype is None else np.dtype(index_dtype)
        _check_index_dtype(itype, 0)
        dense_J = weights(J)
        if align and dense_J.ctypes.data % _ALIGN:
            dense_J = aligned_copy(dense_J)
        data = _frozen(np.zeros(0), dtype)
        indices = indptr = _frozen(np.zeros(0), itype)
    if W_out is None:
        W_out = _frozen(net.W_out, dtype)
    else:
        if not (isinstance(W_out, np.ndarray) and W_out.dtype == dtype
                and W_out.flags.c_contiguous):
            raise ValueError(f"W_out must be a C-contiguous {dtype} array")
        if W_out.shape != (K, N):
            raise ValueError(f"W_out must have shape ({K}, {N}), got {W_out.shape}")
        if not np.all(np.isfinite(W_out)):
            raise ValueError("W_out contains NaN or infinite values")
    b = closed_loop_bias(net) if fold_intercept else net.b
    return NetworkArrays(J=dense_J, data=data, indices=indices, indptr=indptr,
                         W_in=weights(net.W_in), W_fb=weights(net.W_fb), W_out=W_out,
                         b=weights(b))


_ALIGN = 64

#: Most bytes of ``r`` per column panel of a CSR ``J`` (half the L1 data cache of the
#: development machine's cores, AMD EPYC Zen 4, 32 KiB).
PANEL_BYTES = 16 * 1024
#: Above this many bytes of ``r`` a CSR ``J`` may be cut into column panels.
PANEL_MIN_BYTES = 24 * 1024
#: Fewest nonzeros for column panels (below, ``J`` streams from the nearer caches and the
#: panels' extra row segments cost more than they save).
PANEL_MIN_NNZ = 1_200_000
#: Fewest nonzeros per row and panel, on average.
PANEL_MIN_ROW_NNZ = 32


def column_panels(N: int, nnz: int, itemsize: int = 8) -> int:
    """The number of column panels for the single-trial product of a CSR ``J`` with ``N``
    units, ``nnz`` nonzeros and rates of ``itemsize`` bytes: one while ``r`` takes at most
    :data:`PANEL_MIN_BYTES` or ``J`` has fewer than :data:`PANEL_MIN_NNZ` nonzeros,
    otherwise ``ceil(N itemsize / PANEL_BYTES)`` (panels of at most 16 KiB of ``r``), but
    no more than leave :data:`PANEL_MIN_ROW_NNZ` nonzeros per row and panel.

    The single-trial CSR product gathers ``r[j]`` at every nonzero; while a large ``J``
    streams through, the gathers miss the L1 cache once ``r`` no longer fits there. A
    panel's columns keep their slice of ``r`` in L1 while all rows are summed over them,
    at the cost of one row segment per row and panel. One core, AMD EPYC (Zen 4, 32 KiB
    L1d; issue 16), us per step, one panel / ``ceil(N / 2048)`` panels: 10 % density, N =
    4000 1688 / 969, 8000 8350 / 3423; N = 8000, 5 % 3838 / 2141, 2.5 % 1731 / 1302;
    N = 16,000, 2 % 6282 / 4418 (eight panels). Fewer nonzeros lose: N = 4000, 5 %
    (800,000) 365 / 354, 2.5 % 197 / 218; N = 8000, 1 % 352 / 611, 0.1 % 100 / 352.
    """
    N, nnz, itemsize = int(N), int(nnz), int(itemsize)
    if N * itemsize <= PANEL_MIN_BYTES or nnz < PANEL_MIN_NNZ:
        return 1
    P = -(-N * itemsize // PANEL_BYTES)
    return max(1, min(P, nnz // (N * PANEL_MIN_ROW_NNZ)))


def _checked_panels(panels, N: int) -> int:
    if isinstance(panels, (bool, np.bool_)) or not isinstance(panels, (int, np.integer)):
        raise ValueError(f"panels must be an integer, got {panels!r}")
    if not 1 <= panels <= max(N, 1):
        raise ValueError(f"panels must be in [1, {max(N, 1)}] (N = {N}), got {panels}")
    return int(panels)


@nb.njit(cache=True)
def panel_edges(N, P):
    """Column bounds (P + 1,) of the panels: panel ``p`` holds columns
    ``[p N // P, (p + 1) N // P)``."""
    edges = np.empty(P + 1, np.int64)
    for p in range(P + 1):
        edges[p] = p * N // P
    return edges


@nb.njit(cache=True, inline="always")
def n_panels(indptr, N):
    """The number of column panels of a CSR bundle's ``indptr`` (see :class:`NetworkArrays`)."""
    return indptr.shape[0] // (N + 1)


@nb.njit(cache=True)
def _panel_splits(indices, indptr, N, P, edges):
    """(P + 1, N) positions in ``indices`` where row ``i``'s panel ``p`` starts (row ``P``:
    the row's end), by binary search in the row's sorted indices; -1 in ``[0, 0]`` if a
    row's indices are not strictly increasing or not in ``[0, N)``."""
    cut = np.empty((P + 1, N), np.int64)
    for i in range(N):
        lo, hi = np.int64(indptr[i]), np.int64(indptr[i + 1])
        if hi > lo and (np.int64(indices[lo]) < 0 or np.int64(indices[hi - 1]) >= N):
            cut[0, 0] = -1
            return cut
        for k in range(lo + 1, hi):
            if indices[k] <= indices[k - 1]:
                cut[0, 0] = -1
                return cut
        cut[0, i] = lo
        cut[P, i] = hi
        for p in range(1, P):
            a, b = lo, hi          # first position whose column is >= edges[p]
            while a < b:
                m = (a + b) // 2
                if np.int64(indices[m]) < edges[p]:
                    a = m + 1
                else:
                    b = m
            cut[p, i] = a
    return cut


@nb.njit(cache=True)
def _panel_copy(data, indices, cut, starts, out_data, out_indices):
    # row by row, reading the source once in order (panel by panel measured 8x slower)
    P, N = starts.shape
    for i in range(N):
        for p in range(P):
            a, b, q = cut[p, i], cut[p + 1, i], starts[p, i]
            out_data[q:q + b - a] = data[a:b]
            out_indices[q:q + b - a] = indices[a:b]


def panel_csr(data, indices, indptr, N: int, P: int, index_dtype=None, pointer_dtype=None):
    """Canonical CSR arrays (row pointers (N + 1,), column indices strictly increasing
    within each row, as :class:`~reservoir.network.Network` keeps them) rearranged into
    ``P`` column panels (the layout of :class:`NetworkArrays`): ``(data, indices,
    indptr)``, the order of the nonzeros within each row and panel kept; ``data`` in its
    dtype, ``indices`` in ``index_dtype`` and ``indptr`` in ``pointer_dtype`` (default:
    the dtypes given; the caller checks that the values fit).
    One binary search per row and panel, then one copy of the nonzeros, row by row.

    Raises
    ------
    TypeError
        If ``indices`` or ``indptr`` is not an integer array.
    ValueError
        If ``N`` is not an integer >= 0, ``P`` not an integer in ``[1, max(N, 1)]``,
        ``data`` and ``indices`` not 1-D of one length, the row pointers do not rise from 0
        to the number of nonzeros, or a row's column indices are not in ``[0, N)`` and
        strictly increasing.
    """
    if isinstance(N, (bool, np.bool_)) or not isinstance(N, (int, np.integer)) or N < 0:
        raise ValueError(f"N must be an integer >= 0, got {N!r}")
    N = int(N)
    P = _checked_panels(P, N)
    data, indices, indptr = np.asarray(data), np.asarray(indices), np.asarray(indptr)
    for name, a in (("indices", indices), ("indptr", indptr)):
        if a.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
    if data.ndim != 1 or indices.shape != data.shape:
        raise ValueError(f"data and indices must be 1-D of one length, got shapes "
                         f"{data.shape} and {indices.shape}")
    if indptr.shape != (N + 1,):
        raise ValueError(f"indptr must have shape ({N + 1},), got {indptr.shape}")
    if (int(indptr[0]) != 0 or int(indptr[-1]) != len(indices)
            or np.any(indptr[1:] < indptr[:-1])):
        raise ValueError("indptr must rise from 0 to len(indices) = len(data)")
    if len(indices) and (indices.min() < 0 or indices.max() >= N):
        raise ValueError(f"panel_csr needs column indices in [0, N) = [0, {N}), got "
                         f"{indices.min()}..{indices.max()}")
    edges = panel_edges(N, P)
    cut = _panel_splits(indices, indptr, N, P, edges)
    if N and cut[0, 0] < 0:
        raise ValueError("panel_csr needs column indices in [0, N), strictly increasing "
                         "within each row (canonical CSR)")
    counts = np.diff(cut, axis=0)                      # (P, N)
    ends = np.cumsum(counts.ravel())
    starts = (ends - counts.ravel()).reshape(P, N)
    ptr = np.empty((P, N + 1), np.int64)
    ptr[:, :N] = starts
    ptr[:, N] = ends.reshape(P, N)[:, -1] if N else 0
    out_data = np.empty(data.shape, data.dtype)
    out_indices = np.empty(indices.shape, indices.dtype if index_dtype is None else index_dtype)
    _panel_copy(data, indices, cut, starts, out_data, out_indices)
    return (out_data, out_indices,
            ptr.ravel().astype(indptr.dtype if pointer_dtype is None else pointer_dtype))


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous copy of ``a`` whose buffer starts on a 64-byte boundary."""
    buf = np.empty(a.nbytes + _ALIGN, np.uint8)
    start = (-buf.ctypes.data) % _ALIGN
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    out.setflags(write=False)
    return out


def closed_loop_bias(net) -> np.ndarray:
    """The bias of the closed loop, ``b + W_fb b_out`` (N,), float64.

    ``net.b`` itself (the same array) when the network has no readout intercept, so that
    runs without an intercept keep their bits; otherwise the new array
    ``net.b + net.W_fb @ net.b_out`` (the expression a test can rebuild bit for bit).
    """
    if not np.any(net.b_out != 0):
        return net.b
    return net.b + net.W_fb @ net.b_out


def _check_index_dtype(itype: np.dtype, largest: int) -> None:
    if itype not in _INDICES:
        raise ValueError(f"index_dtype must be int32, int64 or uint32, got {itype}")
    if largest > np.iinfo(itype).max:
        raise ValueError(f"index_dtype {itype} cannot hold the index {largest}")


@nb.njit(cache=True, inline="always")
def is_dense(arrays):
    """Whether a bundle holds a dense ``J`` (its CSR row pointers are a placeholder)."""
    return arrays.indptr.shape[0] == 0
