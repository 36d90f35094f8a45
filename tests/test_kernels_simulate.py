"""The single-trial simulation kernels of issue 16 against plain-NumPy references.

:func:`reservoir._kernels.euler.run_single` runs one of two kernels: the serial one (small
products) and the row-parallel one (large products, several threads). Each is checked
here, for dense and CSR ``J`` and every index dtype, against a NumPy loop written from the
update rule; the pieces they are built from (the strict CSR row sum, the vectorised
``phi`` pass, the aligned copy of ``J``, the default unsigned indices) against NumPy too.
"""

import numba as nb
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

import reservoir as rs
from reservoir._kernels import euler
from reservoir._kernels.arrays import (PANEL_BYTES, PANEL_MIN_BYTES, PANEL_MIN_NNZ,
                                      PANEL_MIN_ROW_NNZ, aligned_copy, column_panels,
                                      network_arrays, panel_csr, panel_edges)
from reservoir.nonlinearities import CODES

PHI = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0),
       "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x))}


def _reference(J, W_in, W_fb, W_out, b, alpha, phi, mode, x0, U, Y, noise, noise_scale):
    """x (T, N), r (T, N), z (T, K), x_final: the update rule, one step at a time."""
    f = PHI[phi]
    x = x0.copy()
    xs, rs_, zs = [], [], []
    for t in range(U.shape[0]):
        r = f(x)
        z = W_out @ r
        xs.append(x.copy())
        rs_.append(r)
        zs.append(z)
        fb = z if mode == 2 else (Y[t] if mode == 1 else np.zeros_like(z))
        x = (1 - alpha) * x + alpha * (J @ r + W_in @ U[t] + W_fb @ fb + b)
        if noise.shape[0]:
            x = x + noise_scale * noise[t]
    return np.array(xs), np.array(rs_), np.array(zs), x


def _case(N, M, K, density, seed, phi):
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((N, N)) * 1.3 / np.sqrt(N * density)
    if density < 1:
        J[rng.random((N, N)) >= density] = 0.0
        J = sp.csr_matrix(J)
    net = rs.Network(J=J, W_in=rng.standard_normal((N, M)), W_fb=rng.standard_normal((N, K)),
                     W_out=rng.standard_normal((K, N)) / np.sqrt(N),
                     b=0.1 * rng.standard_normal(N), phi=phi, dt=0.3, tau=1.0)
    return net, rng


@settings(max_examples=40, deadline=None)
@given(N=st.one_of(st.integers(1, 37), st.integers(120, 300)), M=st.integers(0, 2),
       K=st.integers(1, 2), T=st.integers(1, 12), density=st.sampled_from([1.0, 0.3]),
       phi=st.sampled_from(["tanh", "relu", "sigmoid"]), mode=st.sampled_from([0, 1, 2]),
       noisy=st.booleans(), kernel=st.sampled_from(["serial", "rows"]),
       index_dtype=st.sampled_from([None, np.int32, np.int64, np.uint32]),
       panels=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_single_trial_kernels_equal_numpy_update_rule(N, M, K, T, density, phi, mode, noisy,
                                                      kernel, index_dtype, panels, seed):
    """Both single-trial kernels, dense and CSR (in 1-4 column panels), every mode,
    nonlinearity and index dtype, N small or large enough for several parallel chunks (odd
    and even T: the final state in either buffer): recorded x, r, z and the final state
    agree with the NumPy loop to 1e-12 relative (the kernels' tanh is a rational function
    and their sums are reordered)."""
    net, rng = _case(N, M, K, density, seed, phi)
    arrays = network_arrays(net, index_dtype=index_dtype, align=bool(seed % 2),
                            panels=min(panels, N))
    U = rng.standard_normal((T, M))
    Y = rng.standard_normal((T, K)) if mode == 1 else np.empty((0, K))
    noise = rng.standard_normal((T, N)) if noisy else np.empty((0, N))
    x0 = rng.standard_normal(N)
    J = net.J.toarray() if net.is_sparse else net.J
    ref = _reference(J, net.W_in, net.W_fb, net.W_out, net.b, net.alpha, phi, mode, x0, U,
                     Y, noise, 0.2)
    out = [np.full((T, N), np.nan), np.full((T, N), np.nan), np.full((T, K), np.nan)]
    x = x0.copy()
    run = euler.run_single_serial if kernel == "serial" else euler.run_single_rows
    extra = (True,) if kernel == "serial" else (2, True)     # the signature run_single uses
    status = run(arrays, net.alpha, CODES[phi], mode, x, U, Y, noise, 0.2, *out, *extra)
    assert status == -1
    for got, want in zip(out + [x], ref):
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("density", [1.0, 0.2])
def test_run_single_dispatch_and_both_kernels_agree(monkeypatch, density):
    """run_single takes the row-parallel kernel for products of at least PARALLEL_MIN_WORK
    multiply-adds when Numba has several threads, the serial one otherwise; the two give
    the same trajectory to rounding (1e-12 relative)."""
    net, rng = _case(60, 1, 1, density, 7, "tanh")
    arrays = network_arrays(net)
    U = rng.standard_normal((50, 1))
    calls = []
    for name in ("run_single_serial", "run_single_rows"):
        fn = getattr(euler, name)
        monkeypatch.setattr(euler, name, lambda *a, _fn=fn, _n=name: (calls.append(_n),
                                                                     _fn(*a))[1])
    results = {}
    for threshold, threads in ((10**9, 2), (0, 2), (0, 1)):
        monkeypatch.setattr(euler, "PARALLEL_MIN_WORK", threshold)
        monkeypatch.setattr(euler.nb, "get_num_threads", lambda _t=threads: _t)
        x = np.zeros(60)
        out_x = np.empty((50, 60))
        status = euler.run_single(arrays, net.alpha, 0, 2, x, U, np.empty((0, 1)),
                                  np.empty((0, 60)), 0.0, out_x, np.empty((0, 60)),
                                  np.empty((0, 1)))
        assert status == -1
        results[calls[-1]] = out_x
    assert calls == ["run_single_serial", "run_single_rows", "run_single_serial"]
    np.testing.assert_allclose(results["run_single_rows"], results["run_single_serial"],
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kernel", ["run_single_serial", "run_single_rows"])
@pytest.mark.parametrize("N", [3, 200])
def test_single_trial_kernels_report_the_diverging_step(kernel, N):
    """A state that overflows at step 3 (x doubles by 1e300 per step from 1) is reported
    as step 2's update (the third), and the state before it is kept (N = 200: several
    parallel chunks, the state then in the kernel's second buffer)."""
    net = rs.Network(J=np.eye(N) * 1e120, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.zeros(N), phi="relu", dt=1.0, tau=1.0)
    x = np.ones(N)
    extra = (True,) if kernel == "run_single_serial" else (2, True)
    status = getattr(euler, kernel)(network_arrays(net), 1.0, CODES["relu"], 0, x,
                                    np.zeros((5, 0)), np.empty((0, 1)), np.empty((0, N)),
                                    0.0, np.empty((0, N)), np.empty((0, N)), np.empty((0, 1)),
                                    *extra)
    assert status == 2
    np.testing.assert_allclose(x, 1e120 * 1e120, rtol=1e-15)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 1000),
       itype=st.sampled_from([np.int32, np.int64, np.uint32]))
def test_csr_row_dot_equals_numpy_dot(n, seed, itype):
    """The strict CSR row sum equals NumPy's dot of the gathered values to rounding."""
    rng = np.random.default_rng(seed)
    r = rng.standard_normal(50)
    idx = np.sort(rng.choice(50, size=n, replace=False)).astype(itype)
    data = rng.standard_normal(n)
    lo = int(rng.integers(0, n + 1))
    got = euler.csr_row_dot(data, idx, lo, n, r)
    want = float(data[lo:] @ r[idx[lo:].astype(np.int64)]) if n > lo else 0.0
    assert got == pytest.approx(want, rel=1e-13, abs=1e-13 * np.abs(data).sum())


@nb.njit(error_model="numpy", fastmath={"reassoc", "contract"})
def _dense_rows(J, r, h, lo, hi):
    euler.dense_rows(J, r, h, lo, hi)


@settings(max_examples=30, deadline=None)
@given(N=st.sampled_from([1, 5, 8, 33, 100, euler.EIGHT_ROWS_MIN_N - 1, euler.EIGHT_ROWS_MIN_N,
                          euler.EIGHT_ROWS_MIN_N + 13, 1031]),
       data=st.data(), seed=st.integers(0, 1000))
def test_dense_rows_equals_numpy_matvec(N, data, seed):
    """Rows ``lo <= i < hi`` of ``J r`` summed four or eight at a time (eight from
    EIGHT_ROWS_MIN_N units) with any remainder: equal to NumPy's product to rounding, and
    no other row of ``h`` written."""
    lo = data.draw(st.integers(0, N), label="lo")
    hi = data.draw(st.integers(lo, N), label="hi")
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((N, N))
    r = rng.standard_normal(N)
    h = np.full(N, np.nan)
    _dense_rows(J, r, h, lo, hi)
    want = J[lo:hi] @ r
    np.testing.assert_allclose(h[lo:hi], want, rtol=1e-12,
                               atol=1e-13 * np.sqrt(N) * np.abs(r).max(initial=1.0))
    assert np.isnan(h[:lo]).all() and np.isnan(h[hi:]).all()


def test_aligned_copy_and_default_unsigned_indices():
    """network_arrays(align=True) gives a 64-byte aligned J with the same values (read-
    only); a sparse J gets uint32 indices by default, with the same values as scipy's."""
    net, _ = _case(33, 1, 1, 1.0, 3, "tanh")
    a = network_arrays(net, align=True)
    assert a.J.ctypes.data % 64 == 0 and not a.J.flags.writeable
    np.testing.assert_array_equal(a.J, net.J)
    c = aligned_copy(np.arange(7.0)[1:])
    assert c.ctypes.data % 64 == 0
    np.testing.assert_array_equal(c, np.arange(1.0, 7.0))
    sparse, _ = _case(40, 1, 1, 0.3, 4, "tanh")
    s = network_arrays(sparse)
    assert s.indices.dtype == np.uint16 and s.indptr.dtype == np.uint32
    np.testing.assert_array_equal(s.indices, sparse.J.indices)
    np.testing.assert_array_equal(s.indptr, sparse.J.indptr)
    assert network_arrays(sparse, index_dtype=np.int32).indices.dtype == np.int32


def test_default_csr_index_dtypes_follow_the_size_and_give_the_same_run():
    """Default bundle: uint16 column indices up to N = 65536 and uint32 above (indptr
    uint32); a run on the default bundle equals the run on explicit uint32 indices to
    the last bit (the same arithmetic, narrower loads)."""
    for N, want in ((1 << 16, np.uint16), ((1 << 16) + 1, np.uint32)):
        rng = np.random.default_rng(N)
        rows = np.append(rng.integers(0, N, 2 * N), N - 1)
        cols = np.append(rng.integers(0, N, 2 * N), N - 1)   # the largest column index
        J = sp.csr_matrix((0.3 * np.ones(rows.size), (rows, cols)), shape=(N, N))
        net = rs.Network(J=J, W_in=np.zeros((N, 1)), W_fb=np.zeros((N, 1)),
                         W_out=np.zeros((1, N)), b=np.zeros(N), dt=0.5, tau=1.0)
        a = network_arrays(net)
        assert a.indices.dtype == want and a.indptr.dtype == np.uint32
        np.testing.assert_array_equal(a.indices, net.J.indices)
    net, rng = _case(60, 1, 1, 0.2, 3, "tanh")
    U = rng.standard_normal((30, 1))
    x0 = rng.standard_normal(60)
    runs = []
    for index_dtype in (None, np.uint32):
        x = x0.copy()
        out = np.empty((30, 60))
        arrays = network_arrays(net, index_dtype=index_dtype)
        assert euler.run_single_serial(arrays, net.alpha, 0, 2, x, U, np.empty((0, 1)),
                                       np.empty((0, 60)), 0.0, out, np.empty((0, 60)),
                                       np.empty((0, 1)), True) == -1
        runs.append(out)
    np.testing.assert_array_equal(runs[0], runs[1])


@settings(max_examples=150, deadline=None)
@given(N=st.integers(1, 30), B=st.integers(1, 40), density=st.floats(0.0, 1.0),
       lo=st.integers(0, 30), span=st.integers(0, 30),
       index_dtype=st.sampled_from([np.uint16, np.uint32, np.int32, np.int64]),
       seed=st.integers(0, 10**6))
def test_csr_row_axpy_equals_numpy(N, B, density, lo, span, index_dtype, seed):
    """``csr_row_axpy(h, data, indices, start, end, RT)`` adds ``sum_p data[p]
    RT[indices[p]]`` over ``[start, end)`` to ``h`` (four nonzeros per pass and the
    remainder one by one), for any range of the CSR arrays, any batch width (every
    remainder of the vectorised loop), every index dtype; the NumPy sum agrees to
    rounding (1e-13 of the largest term)."""
    rng = np.random.default_rng(seed)
    J = sp.random(N, N, density=density, format="csr", random_state=rng)
    nnz = J.nnz
    start = min(lo, nnz)
    end = min(start + span, nnz)
    RT = rng.standard_normal((N, B))
    h0 = rng.standard_normal(B)
    h = h0.copy()
    indices = J.indices.astype(index_dtype)
    euler.csr_row_axpy(h, J.data, indices, start, end, RT)
    terms = J.data[start:end, None] * RT[J.indices[start:end]]
    want = h0 + terms.sum(axis=0)
    scale = max(1.0, float(np.abs(terms).max(initial=0.0)), float(np.abs(h0).max()))
    np.testing.assert_allclose(h, want, rtol=0, atol=1e-13 * scale * max(1, end - start))
    if end == start:
        np.testing.assert_array_equal(h, h0)


@settings(max_examples=200, deadline=None)
@given(N=st.integers(1, 6000), threads=st.integers(1, 80))
def test_row_chunks_balance_the_threads(N, threads):
    """The row chunks of the parallel single-trial kernel: a multiple of the thread count
    (Numba's static schedule then gives every thread as many chunks), tiling [0, N) with
    starts on dense_rows' blocks (8 rows from EIGHT_ROWS_MIN_N units, ROW_BLOCK below),
    sizes within two blocks of each other, at least ROWS_PER_CHUNK rows (less two blocks)
    where N allows and at most MAX_CHUNKS where the threads allow."""
    b = euler.row_chunks(N, threads)
    n = b.size - 1
    align = 8 if N >= euler.EIGHT_ROWS_MIN_N else euler.ROW_BLOCK
    assert n % threads == 0 and n >= threads
    assert b[0] == 0 and b[-1] == N and np.all(np.diff(b) >= 0)
    assert np.all(b[:-1] % align == 0)
    sizes = np.diff(b)
    assert sizes.max() - sizes.min() <= 2 * align
    if N >= euler.ROWS_PER_CHUNK * threads:
        assert sizes.min() >= euler.ROWS_PER_CHUNK - 2 * align
    if threads <= euler.MAX_CHUNKS:
        assert n <= euler.MAX_CHUNKS


@pytest.mark.parametrize("kernel", ["run_single_serial", "run_single_rows"])
@pytest.mark.parametrize("N", [37, 520])
def test_zigzag_row_order_gives_the_same_bits(kernel, N):
    """Summing J's rows last to first on odd steps (``zigzag``) changes only the order of
    the rows, not any row's sum: the trajectories with and without are bit-identical
    (N = 37: blocks of four and a tail; N = 520: blocks of eight, several chunks)."""
    net, rng = _case(N, 2, 1, 1.0, 3, "tanh")
    arrays = network_arrays(net)
    U = rng.standard_normal((9, 2))
    outs = []
    for zigzag in (True, False):
        x = np.zeros(N)
        out_x = np.empty((9, N))
        extra = (3, zigzag) if kernel == "run_single_rows" else (zigzag,)
        status = getattr(euler, kernel)(arrays, net.alpha, 0, 2, x, U, np.empty((0, 1)),
                                        np.empty((0, N)), 0.0, out_x, np.empty((0, N)),
                                        np.empty((0, 1)), *extra)
        assert status == -1
        outs.append((out_x, x))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize("density, panels", [(1.0, 1), (0.3, 1), (0.3, 3)])
@pytest.mark.parametrize("N", [37, 520, 600, 1000])
def test_row_parallel_kernel_gives_the_serial_bits_for_any_thread_count(N, density, panels):
    """The row chunks start on dense_rows' blocks (8 rows from EIGHT_ROWS_MIN_N units), so
    every row is summed as in the one-thread kernel: the same bits for 1-5 threads' chunk
    layouts and the serial kernel (N = 600, 1000: chunk lengths that are not multiples of
    8 at some thread counts); a CSR ``J``, plain or in three column panels, likewise."""
    net, rng = _case(N, 1, 1, density, 5, "tanh")
    arrays = network_arrays(net, panels=panels)
    U = rng.standard_normal((6, 1))
    empty = (np.empty((0, 1)), np.empty((0, N)), 0.0)

    def run(kernel, *extra):
        x = np.zeros(N)
        out_x = np.empty((6, N))
        status = kernel(arrays, net.alpha, 0, 2, x, U, *empty, out_x, np.empty((0, N)),
                        np.empty((0, 1)), *extra)
        assert status == -1
        return out_x, x
    want = run(euler.run_single_serial, True)
    for threads in range(1, 6):
        got = run(euler.run_single_rows, threads, True)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _unpanel(data, indices, indptr, N):
    """The dense matrix of a bundle's CSR arrays in column panels, entry by entry."""
    P = indptr.shape[0] // (N + 1)
    assert indptr.shape[0] == P * (N + 1)
    A = np.zeros((N, N))
    edges = [p * N // P for p in range(P + 1)]
    for p in range(P):
        for i in range(N):
            lo, hi = int(indptr[p * (N + 1) + i]), int(indptr[p * (N + 1) + i + 1])
            cols = indices[lo:hi].astype(np.int64)
            assert np.all((cols >= edges[p]) & (cols < edges[p + 1]))   # its panel's columns
            assert np.all(np.diff(cols) > 0)                             # order kept
            A[i, cols] += data[lo:hi]
    return A


@settings(max_examples=40, deadline=None)
@given(N=st.integers(1, 60), P=st.integers(1, 8), density=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
       index_dtype=st.sampled_from([np.uint16, np.uint32, np.int32, np.int64]),
       seed=st.integers(0, 10_000))
def test_panel_csr_holds_every_nonzero_in_its_panel(N, P, density, index_dtype, seed):
    """panel_csr: every nonzero once, in the panel of its column, rows' order kept, the
    row pointers of each panel consecutive (checked entry by entry against the matrix);
    dtypes kept; panel_edges cover [0, N)."""
    P = min(P, N)
    J = sp.random(N, N, density=density, format="csr", random_state=seed)
    J.sort_indices()
    data, indices, indptr = panel_csr(J.data, J.indices.astype(index_dtype),
                                      J.indptr.astype(np.uint32), N, P)
    assert data.dtype == J.data.dtype and indices.dtype == index_dtype
    assert indptr.dtype == np.uint32 and indptr.shape == (P * (N + 1),)
    assert indptr[0] == 0 and indptr[-1] == J.nnz
    np.testing.assert_array_equal(_unpanel(data, indices, indptr, N), J.toarray())
    edges = panel_edges(N, P)
    assert edges[0] == 0 and edges[-1] == N and np.all(np.diff(edges) >= 0)
    wide = panel_csr(J.data, J.indices, J.indptr, N, P, np.uint32, np.int64)  # cast on copy
    assert wide[1].dtype == np.uint32 and wide[2].dtype == np.int64
    np.testing.assert_array_equal(_unpanel(*wide, N), J.toarray())


def test_panel_csr_rejects_bad_arguments():
    """Column indices not strictly increasing within a row or outside [0, N), row pointers
    that do not rise from 0 to nnz, a bad N or panel count: a ValueError naming the
    problem, never a wrong layout, an IndexError or a crash."""
    data = np.ones(3)
    ptr = np.array([0, 3, 3, 3], np.int32)
    for indices, message in (([2, 0, 1], "strictly increasing"),
                             ([0, 0, 1], "strictly increasing"),
                             ([0, 1, 3], r"\[0, N\)"), ([-1, 0, 1], r"\[0, N\)")):
        with pytest.raises(ValueError, match=message):
            panel_csr(data, np.array(indices, np.int32), ptr, 3, 2)
    good = np.array([0, 1, 2], np.int32)
    for P in (0, -1, 4, 2.5, True, None, "2"):
        with pytest.raises(ValueError, match="panels"):
            panel_csr(data, good, ptr, 3, P)
    for N in (-1, 2.0, True):
        with pytest.raises(ValueError, match="N must"):
            panel_csr(data, good, ptr, N, 1)
    for bad_ptr in ([0, 3, 3], [1, 3, 3, 3], [0, 3, 2, 3], [0, 1, 2, 4]):
        with pytest.raises(ValueError, match="indptr"):
            panel_csr(data, good, np.array(bad_ptr, np.int32), 3, 2)
    with pytest.raises(ValueError, match="one length"):
        panel_csr(np.ones(2), good, ptr, 3, 2)
    out = panel_csr(data, good, ptr, 3, np.int64(3))      # a NumPy integer is accepted
    assert out[2].shape == (3 * 4,)
    two = np.ones(2)
    for indices in (np.array([0, 2**63], np.uint64), np.array([0, 5], np.uint8)):
        with pytest.raises(ValueError, match=r"\[0, N\)"):
            panel_csr(two, indices, np.array([0, 2, 2]), 2, 2)
    for indices in (np.array([0.0, 1.0]), np.array([True, False])):
        with pytest.raises(TypeError, match="indices"):
            panel_csr(two, indices, np.array([0, 2, 2]), 2, 2)
    with pytest.raises(TypeError, match="indptr"):
        panel_csr(two, np.array([0, 1]), np.array([0.0, 2.0, 2.0]), 2, 2)
    with pytest.raises(ValueError, match="indptr"):       # three nonzeros, no rows
        panel_csr(np.arange(3.0), np.arange(3), np.array([5]), 0, 1)
    with pytest.raises(ValueError, match="1-D"):
        panel_csr(np.ones((2, 1)), np.array([0, 1]), np.array([0, 2, 2]), 2, 2)
    lists = panel_csr([1.0, 2.0], [0, 1], [0, 1, 2], 2, 2)   # array-likes are converted
    np.testing.assert_array_equal(_unpanel(*lists, 2), np.eye(2) * [1.0, 2.0])


def test_column_panels_follow_the_thresholds():
    """One panel while r takes at most PANEL_MIN_BYTES (3072 units in float64, 6144 in
    float32) or J has fewer than PANEL_MIN_NNZ nonzeros, then ceil(N itemsize /
    PANEL_BYTES) (panels of at most 16 KiB of r), capped so that a row keeps at least
    PANEL_MIN_ROW_NNZ nonzeros per panel on average."""
    assert (PANEL_BYTES, PANEL_MIN_BYTES, PANEL_MIN_NNZ, PANEL_MIN_ROW_NNZ) == \
        (16384, 24576, 1_200_000, 32)
    for N, nnz, itemsize, want in (
            (1, 10**9, 8, 1), (3072, 10**7, 8, 1), (3073, 10**7, 8, 2),
            (4000, 1_600_000, 8, 2), (4000, 1_199_999, 8, 1), (4096, 10**7, 8, 2),
            (4097, 10**7, 8, 3), (8000, 6_400_000, 8, 4), (8000, 1_600_000, 8, 4),
            (16000, 5_120_000, 8, 8), (16000, 1_600_000, 8, 3), (6144, 10**8, 4, 1),
            (6145, 10**8, 4, 2), (65536, 10**9, 8, 32), (65537, 196_611, 8, 1),
            (10**6, 10**7, 8, 1), (10**6, 10**8, 8, 3)):
        got = column_panels(N, nnz, itemsize)
        assert got == want, (N, nnz, itemsize, got)
        if got > 1:
            assert nnz / (N * got) >= PANEL_MIN_ROW_NNZ
def test_network_arrays_panels_argument():
    """panels: plain CSR by default, the requested count for a sparse J (its matrix kept),
    ignored for a dense J; a bad count is a ValueError naming it."""
    net, _ = _case(40, 1, 1, 0.3, 3, "tanh")
    plain = network_arrays(net)
    assert plain.indptr.shape == (41,)
    three = network_arrays(net, panels=3)
    assert three.indptr.shape == (3 * 41,)
    np.testing.assert_array_equal(_unpanel(three.data, three.indices, three.indptr, 40),
                                  net.J.toarray())
    dense, _ = _case(40, 1, 1, 1.0, 3, "tanh")
    assert network_arrays(dense, panels=3).indptr.shape == (0,)
    for bad in (0, 41, -1, 2.0, True, "2", None):
        with pytest.raises(ValueError, match="panels"):
            network_arrays(net, panels=bad)


@pytest.mark.parametrize("panels", [2, 5])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_sparse_batch_and_force_kernels_accept_column_panels(panels, mode):
    """The batched CSR kernel and FORCE's row sums read a bundle in column panels: the
    same trajectory as the plain bundle and as the NumPy update rule (1e-12)."""
    N, B, T = 50, 3, 9
    net, rng = _case(N, 1, 1, 0.3, 11, "tanh")
    U = rng.standard_normal((B, T, 1))
    Y = rng.standard_normal((B, T, 1)) if mode == 1 else np.empty((B, 0, 1))
    X0 = rng.standard_normal((B, N))
    outs = []
    for P in (1, panels):
        X = X0.copy()
        out_x = np.empty((B, T, N))
        status = euler.run_sparse_batch(network_arrays(net, panels=P), net.alpha, 0, mode,
                                        X, U, Y, np.empty((B, 0, N)), 0.0, out_x,
                                        np.empty((B, 0, N)), np.empty((B, 0, 1)))
        assert status == -1
        outs.append(out_x)
    J = net.J.toarray()
    for b in range(B):
        Yb = Y[b] if mode == 1 else np.empty((0, 1))
        ref = _reference(J, net.W_in, net.W_fb, net.W_out, net.b, net.alpha, "tanh", mode,
                         X0[b], U[b], Yb, np.empty((0, N)), 0.0)
        for out in outs:
            np.testing.assert_allclose(out[b], ref[0], rtol=1e-12, atol=1e-12)
    # FORCE's kernel sums each row over the panels (recurrent_input)
    r = np.tanh(rng.standard_normal(N))
    a = network_arrays(net, panels=panels)

    @nb.njit
    def row_sums(a, r):
        h = np.empty(r.shape[0])
        for i in range(r.shape[0]):
            h[i] = euler.recurrent_input(False, a.J, a.data, a.indices, a.indptr, i, r)
        return h
    np.testing.assert_allclose(row_sums(a, r), J @ r, rtol=1e-13, atol=1e-14)
