"""The per-step products of the batched kernels, cut into blocks of trials
(:mod:`reservoir._kernels.gemm_rows`)."""

import importlib

import numba as nb
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reservoir as rs
from helpers import closed_loop_states_numpy
from reservoir._kernels import gemm_rows
from reservoir._kernels.gemm_rows import (MIN_BLOCK_ROWS, SKINNY, SKINNY_MAX_B, SKINNY_MIN_N,
                                          SMALL_GEMM_WORK, batch_product_rows, dot_rows,
                                          product_rows, skinny_dot)


@nb.njit(cache=False)
def _dot_rows(A, W, out, rows):
    dot_rows(A, W, out, rows)


@given(B=st.integers(1, 4096), N=st.integers(1, 3000))
def test_product_rows_keeps_each_block_within_the_small_matrix_limit(B, N):
    """With the small-matrix path: one call when the whole product is within the limit or
    no block of >= 16 trials (a multiple of 8) fits; otherwise the largest such block.
    Without it: always one call."""
    assert product_rows(B, N, small_path=False) == B
    rows = product_rows(B, N, small_path=True)
    best = SMALL_GEMM_WORK // (N * N) // 8 * 8        # the largest fitting multiple of 8
    if B * N * N <= SMALL_GEMM_WORK or best < MIN_BLOCK_ROWS:
        assert rows == B
    else:
        assert rows == best
        assert rows % 8 == 0 and rows >= MIN_BLOCK_ROWS and rows < B
        assert rows * N * N <= SMALL_GEMM_WORK < (rows + 8) * N * N


def test_product_rows_examples_from_the_measurements():
    """The shapes measured in the module docstring: N = 100 in blocks of 96 trials, N = 250
    in blocks of 16, N = 300 and above (and small batches) in one call."""
    assert product_rows(256, 100, small_path=True) == 96
    assert product_rows(64, 100, small_path=True) == 64
    assert product_rows(64, 250, small_path=True) == 16
    assert product_rows(256, 300, small_path=True) == 256
    assert product_rows(64, 1000, small_path=True) == 64


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 40), N=st.integers(1, 30), Np=st.integers(1, 30),
       rows=st.integers(-1, 45), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 10**6))
def test_dot_rows_equals_the_whole_product(B, N, Np, rows, dtype, seed):
    """Every row of ``A W`` is computed, whatever the block (a last partial block, a block
    larger than the batch, 0 or a negative value meaning one call): equal to NumPy's
    product to the dtype's rounding."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((B, N)).astype(dtype)
    W = rng.standard_normal((N, Np)).astype(dtype)
    out = np.full((B, Np), np.nan, dtype)
    _dot_rows(A, W, out, rows)
    ref = A.astype(np.float64) @ W.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * np.sqrt(N))


@given(B=st.integers(1, 300), N=st.integers(1, 2000), single=st.booleans(),
       small=st.booleans())
def test_batch_product_rows_uses_skinny_dot_only_for_few_trials_on_one_thread(B, N, single,
                                                                             small):
    """Our own product for at most ``SKINNY_MAX_B`` (64) trials of at least 300 units when
    the call runs on one thread; otherwise the BLAS blocks of :func:`product_rows`."""
    rows = batch_product_rows(B, N, single, small_path=small)
    if single and B <= SKINNY_MAX_B and N >= SKINNY_MIN_N:
        assert rows == SKINNY
    else:
        assert rows == product_rows(B, N, small_path=small) >= 1


@settings(max_examples=60, deadline=None)
@given(B=st.integers(1, 13), N=st.integers(1, 13), Np=st.integers(1, 13),
       seed=st.integers(0, 10**6))
def test_skinny_dot_equals_numpy(B, N, Np, seed):
    """``A W^T`` for every remainder of trials and rows (multiples of 4 and not), to
    float64 rounding, and every element of ``out`` written."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((B, N))
    W = rng.standard_normal((Np, N))
    out = np.full((B, Np), np.nan)
    skinny_dot(A, W, out)
    np.testing.assert_allclose(out, A @ W.T, rtol=1e-13, atol=1e-13 * np.sqrt(N))


def test_skinny_dot_rejects_mismatched_shapes():
    """A mismatch is a ValueError, never a read or write out of bounds."""
    A, W = np.ones((4, 400)), np.ones((8, 300))
    with pytest.raises(ValueError, match="shapes"):
        skinny_dot(A, W, np.empty((4, 8)))
    with pytest.raises(ValueError, match="shapes"):
        skinny_dot(np.ones((4, 300)), W, np.empty((2, 3)))


@pytest.mark.parametrize("B", [2, 3, 30, SKINNY_MAX_B])
def test_skinny_dot_at_a_size_where_it_is_chosen(B):
    """N = 517 (not a multiple of 4), B = 2 and 3 (the pair of trials and the one left
    over; a Lyapunov pair is a batch of two), 30 and the largest chunk it is chosen for:
    against NumPy to 1e-12 relative."""
    assert batch_product_rows(B, 517, True) == SKINNY
    rng = np.random.default_rng(5)
    A = rng.standard_normal((B, 517))
    W = rng.standard_normal((517, 517)) / np.sqrt(517)
    out = np.empty((B, 517))
    skinny_dot(A, W, out)
    np.testing.assert_allclose(out, A @ W.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rows", [8, SKINNY])
def test_simulate_runs_the_product_the_way_batch_product_rows_chooses(monkeypatch, rows):
    """``simulate`` asks :func:`batch_product_rows` for each chunk of trials and its states
    equal the plain NumPy loop's when the product runs in blocks of 8 trials or through
    :func:`skinny_dot`."""
    sim = importlib.import_module("reservoir._simulate")
    calls = []

    def spy(B, N):
        calls.append((B, N))
        return rows
    monkeypatch.setattr(sim, "batch_product_rows", lambda B, N, single: spy(B, N))
    net = rs.random_network(40, 1.3, 2, 1, dt=0.5, tau=1.0, rng=3)
    U = np.random.default_rng(4).standard_normal((21, 30, 2))
    got = rs.simulate(net, U, mode="closed")
    assert calls and all(N == 40 for _, N in calls) and sum(B for B, _ in calls) == 21
    np.testing.assert_allclose(got.x, closed_loop_states_numpy(net, U), rtol=1e-11,
                               atol=1e-11)


@pytest.mark.parametrize("info, expected", [
    ([{"internal_api": "openblas", "filepath": "/x/scipy.libs/libscipy_openblas.so",
       "architecture": "SkylakeX"}], True),
    ([{"internal_api": "openblas", "filepath": "/x/scipy.libs/libscipy_openblas.so",
       "architecture": "Haswell"}], False),
    ([{"internal_api": "mkl", "filepath": "/x/libmkl_rt.so", "architecture": None}], False),
    ([], False),
    # NumPy's OpenBLAS is also named libscipy_openblas*: only SciPy's folder counts
    ([{"internal_api": "openblas", "filepath": "/v/numpy.libs/libscipy_openblas64_-x.so",
       "architecture": "SkylakeX"},
      {"internal_api": "mkl", "filepath": "/opt/libmkl_rt.so", "architecture": None}], False),
    ([{"internal_api": "openblas", "filepath": "/v/numpy.libs/libscipy_openblas64_-x.so",
       "architecture": "SkylakeX"},
      {"internal_api": "openblas", "filepath": "/v/scipy.libs/libscipy_openblas-y.so",
       "architecture": "Haswell"}], False),
    ([{"internal_api": "openblas", "filepath": "/v/numpy.libs/libscipy_openblas64_-x.so",
       "architecture": "Haswell"},
      {"internal_api": "openblas", "filepath": "/v/scipy/.libs/libopenblas.so",
       "architecture": "SkylakeX"}], True)])
def test_small_matrix_blas_reads_scipys_openblas(monkeypatch, info, expected):
    """Blocks only for SciPy's OpenBLAS with SkylakeX-class kernels; any other BLAS (or
    none found) gets one call per step."""
    import threadpoolctl
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: info)
    gemm_rows.small_matrix_blas.cache_clear()
    try:
        assert gemm_rows.small_matrix_blas() is expected
    finally:
        gemm_rows.small_matrix_blas.cache_clear()


@pytest.mark.parametrize("threads, chunked, single", [(1, False, True), (2, False, False),
                                                       (None, False, False), (2, True, True)])
def test_simulate_asks_for_the_one_thread_product_only_on_one_thread(monkeypatch, threads,
                                                                      chunked, single):
    """``simulate`` passes ``single=True`` only when each kernel call runs on one thread:
    chunks on worker threads, or a BLAS limited to one thread (unknown BLAS: False)."""
    from reservoir._kernels.batch_split import chunk_ranges
    sim = importlib.import_module("reservoir._simulate")
    seen = []
    monkeypatch.setattr(sim, "blas_threads", lambda: threads)
    monkeypatch.setattr(sim, "chunk_ranges",
                        lambda B, N, t, min_chunk=8: chunk_ranges(B, N, 2 if chunked
                                                                  else 1))
    monkeypatch.setattr(sim, "batch_product_rows",
                        lambda B, N, s: seen.append(s) or product_rows(B, N))
    net = rs.random_network(20, 1.0, 1, 1, rng=0)
    rs.simulate(net, np.zeros((16, 3, 1)), mode="open", record=())
    assert seen and all(s is single for s in seen)
