"""The FORCE kernel's half-matrix sweep (issue 16): the upper triangle of ``P`` is stored,
downdated and multiplied in one pass, in row blocks whose transposed contributions are
summed per block and reduced after the sweep. Each piece is checked against plain NumPy
(explicit full-matrix algebra), and the whole kernel against the textbook RLS loop with
every block count (the blocks are one per thread in use, so the tests force them)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reservoir as rs
from reservoir._kernels import rls
from reservoir._kernels.arrays import network_arrays
from reservoir.nonlinearities import CODES
from reference import PHI


def _spd(rng, n):
    A = rng.standard_normal((n, n))
    return A @ A.T / n + np.eye(n)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), cut=st.tuples(st.floats(0, 1), st.floats(0, 1)),
       scale=st.sampled_from([1.0, 1 / 0.97]), pending=st.booleans(),
       seed=st.integers(0, 10_000))
def test_sweep_rows_equals_full_matrix_numpy(n, cut, scale, pending, seed):
    """Rows [i0, i1) of the upper triangle become (P - s s^T) * scale; k[i] is their row
    sum over j >= i and part[j] the transposed sum over the block's rows i < j, so that
    k + part over all blocks is the full product P_new ra (NumPy, explicit matrix);
    nothing outside the block's upper triangle is touched."""
    rng = np.random.default_rng(seed)
    i0, i1 = sorted(int(round(c * n)) for c in cut)
    P = _spd(rng, n)
    s = 0.3 * rng.standard_normal(n) if pending else np.zeros(n)
    ra = rng.standard_normal(n)
    new_full = (P - np.outer(s, s)) * scale
    Pk = P.copy()
    k = np.full(n, np.nan)
    part = np.zeros(n)
    rls.sweep_rows(Pk, s, ra, k, part, i0, i1, scale)
    up = np.triu(np.ones((n, n), bool))
    rows = np.zeros((n, n), bool)
    rows[i0:i1] = True
    np.testing.assert_allclose(Pk[up & rows], new_full[up & rows], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(Pk[~(up & rows)], P[~(up & rows)])
    if not pending and scale == 1.0:
        np.testing.assert_array_equal(Pk, P)            # s = 0, scale 1: unchanged bits
    own = np.where(up, new_full, 0.0)
    tol = dict(rtol=1e-12, atol=1e-12 * (1 + np.abs(new_full).sum()))
    np.testing.assert_allclose(k[i0:i1], (own @ ra)[i0:i1], **tol)
    assert np.all(np.isnan(k[:i0])) and np.all(np.isnan(k[i1:]))
    strict = np.triu(new_full, 1)
    np.testing.assert_allclose(part, strict[i0:i1].T @ ra[i0:i1], **tol)
    # the full product: rows of this block plus the other rows (done by NumPy here)
    Pm = Pk.copy()
    rls.sweep_rows(Pm, s, ra, k, part, 0, i0, scale)
    rls.sweep_rows(Pm, s, ra, k, part, i1, n, scale)
    np.testing.assert_allclose(k + part, new_full @ ra, **tol)


@given(n=st.integers(0, 3000), n_blocks=st.integers(1, 9))
def test_triangle_blocks_cover_rows_with_equal_area(n, n_blocks):
    """Boundaries 0 = b_0 <= ... <= b_q = n; each block's triangle area (row i holds
    n - i elements) is within one row of the equal share."""
    b = rls.triangle_blocks(n, n_blocks)
    assert b[0] == 0 and b[-1] == n and len(b) == n_blocks + 1
    assert np.all(np.diff(b) >= 0)
    rows = n - np.arange(n)
    area = np.array([rows[b[q]:b[q + 1]].sum() for q in range(n_blocks)])
    assert area.sum() == n * (n + 1) // 2
    assert np.all(np.abs(area - area.sum() / n_blocks) <= n + 1)


@pytest.mark.parametrize("pending, inv_lam", [(0.0, 1.0), (1.0, 1.0), (1.0, 1 / 0.9)])
def test_flush_downdate_applies_the_upper_triangle_and_mirrors_it(pending, inv_lam):
    """The kernel leaves the lower triangle stale; flush applies the pending downdate to
    the upper one and copies it down: exactly symmetric, equal to NumPy's
    (P - s s^T) inv_lam."""
    rng = np.random.default_rng(1)
    n = 37
    P = _spd(rng, n)
    s = 0.2 * rng.standard_normal(n)
    stale = P.copy()
    stale[np.tril_indices(n, -1)] = rng.standard_normal(n * (n - 1) // 2)  # garbage below
    rls.flush_downdate(stale, s, pending, inv_lam)
    want = (P - np.outer(s, s)) * inv_lam if pending else P
    np.testing.assert_array_equal(stale, stale.T)
    np.testing.assert_allclose(stale, want, rtol=1e-15, atol=0)


def _rls_numpy(net, U, Y, x0, reg, every, lam, intercept, mode):
    """Textbook exponentially weighted RLS (Haykin) in the Euler loop, full matrices."""
    J = net.J.toarray() if net.is_sparse else np.asarray(net.J)
    phi = PHI[net.phi]
    a = net.dt / net.tau
    N = net.N
    W = np.array(net.W_out, dtype=float)
    b = np.array(net.b_out, dtype=float)
    P = np.eye(N + int(intercept)) / reg
    x = np.array(x0, dtype=float)
    em = []
    for t in range(U.shape[0]):
        r = phi(x)
        z = W @ r + b
        if t > 0 and t % every == 0:
            q = np.r_[r, 1.0] if intercept else r
            g = P @ q / (lam + q @ P @ q)
            e = z - Y[t]
            W = W - np.outer(e, g[:N])
            if intercept:
                b = b - e * g[N]
            P = (P - np.outer(g, q @ P)) / lam
            em.append(e)
        f = {"closed": z, "teacher": Y[t], "open": np.zeros_like(z)}[mode]
        x = (1 - a) * x + a * (J @ r + net.W_in @ U[t] + net.W_fb @ f + net.b)
    return W, b, P, x, np.array(em)


@settings(max_examples=15, deadline=None)
@given(N=st.integers(2, 30), T=st.integers(3, 40), every=st.integers(1, 3),
       K=st.integers(1, 2), lam=st.sampled_from([1.0, 0.95]), intercept=st.booleans(),
       mode=st.sampled_from(["closed", "teacher", "open"]),
       density=st.sampled_from([1.0, 0.5]), n_blocks=st.integers(1, 5),
       seed=st.integers(0, 10_000))
def test_force_with_any_block_count_equals_textbook_rls(N, T, every, K, lam, intercept, mode,
                                                        density, n_blocks, seed):
    """Through :func:`reservoir.force` with the sweep split into ``n_blocks`` row blocks
    (forced: small networks use one): readout, intercept, P, state and errors equal the
    textbook loop to 1e-9; P exactly symmetric."""
    net = rs.random_network(N, 1.3, 1, K, dt=0.1, density=density, rng=seed)
    rng = np.random.default_rng(seed)
    net = net.with_readout(0.1 * rng.standard_normal((K, N)), 0.2 * rng.standard_normal(K))
    U = rng.standard_normal((T, 1))
    Y = rng.standard_normal((T, K))
    x0 = rng.standard_normal(N)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rls, "sweep_blocks", lambda n, threads: n_blocks)
        res = rs.force(net, U, Y, reg=0.5, update_every=every, x0=x0, return_P=True,
                       intercept=intercept, forgetting=lam, mode=mode, progress=False)
    W, b, P, x, em = _rls_numpy(net, U, Y, x0, 0.5, every, lam, intercept, mode)
    tol = dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.network.W_out, W, **tol)
    np.testing.assert_allclose(res.network.b_out, b, **tol)
    np.testing.assert_allclose(res.P, P, rtol=1e-9, atol=1e-9 * np.abs(P).max())
    np.testing.assert_array_equal(res.P, res.P.T)
    np.testing.assert_allclose(res.x_final, x, **tol)
    np.testing.assert_allclose(res.error_before.reshape(-1, K), em.reshape(-1, K), **tol)


def _kernel_args(net, T, seed):
    rng = np.random.default_rng(seed)
    N, K = net.N, net.n_outputs
    U = rng.standard_normal((T, net.n_inputs))
    Y = rng.standard_normal((T, K))
    W = np.zeros((K, N))
    state = dict(x=rng.standard_normal(N), P=np.eye(N), W=W, b=np.zeros(K),
                 s=np.zeros(N), pend=np.zeros(1), em=np.zeros((T, K)), ep=np.zeros((T, K)),
                 dw=np.zeros(T), steps=np.zeros(T, np.int64))
    return U, Y, state


def _call(net, U, Y, st_, t_offset, n_done, every):
    arrays = network_arrays(net, W_out=st_["W"])
    return rls.force_run(arrays, net.alpha, CODES[net.phi], 2, st_["x"], U, Y, Y, st_["P"],
                         st_["b"], False, 1.0, every, st_["s"], st_["pend"], st_["em"],
                         st_["ep"], st_["dw"], st_["steps"], t_offset, n_done)


@pytest.mark.parametrize("cuts", [[7], [1, 2, 30], [13, 14]])
def test_kernel_in_time_chunks_equals_one_call_bit_for_bit(cuts):
    """The chunked call (as ``force(progress=...)`` makes it): x, P (its upper triangle),
    W_out, b_out, the pending downdate (s, flag), the global step offset and the update
    count carried from call to call, one flush at the end: the same bits as one call."""
    net = rs.random_network(150, 1.4, 1, 2, dt=0.1, rng=4)   # 150 rows: 2 blocks on 2 cores
    T, every = 40, 2
    U, Y, one = _kernel_args(net, T, 0)
    status, n_one = _call(net, U, Y, one, 0, 0, every)
    assert status == -1
    rls.flush_downdate(one["P"], one["s"], one["pend"][0], 1.0)
    _, _, many = _kernel_args(net, T, 0)
    n_done = 0
    edges = [0, *cuts, T]
    for a, b in zip(edges[:-1], edges[1:]):
        status, n_done = _call(net, U[a:b], Y[a:b], many, a, n_done, every)
        assert status == -1
    rls.flush_downdate(many["P"], many["s"], many["pend"][0], 1.0)
    assert n_done == n_one == (T - 1) // every
    for key in ("x", "P", "W", "em", "ep", "dw", "steps"):
        np.testing.assert_array_equal(many[key], one[key])
    np.testing.assert_array_equal(one["P"], one["P"].T)
