"""Peak memory of ``fit_ridge`` against its documented bound (issue 16).

The documented promise (``fit_ridge``, Memory): with ``max_chunk_bytes`` given, the peak of
what ``fit_ridge`` allocates beyond the network, its inputs and targets is at most
``max(max_chunk_bytes, S)`` plus small buffers, ``S`` the final solve's need: two copies of
the ``(c + N + K)``-square factor (``16 (c + N + K)^2`` bytes) with ``solver == "qr"``, three
(``24 (c + N + K)^2``) with ``"svd"``. The peak is measured with ``tracemalloc`` (which sees
NumPy's allocations) above the memory traced before the call, after a first call has
compiled the kernels. The readout of the streamed, memory-bounded fit is checked against an
independent in-memory solve: the states recomputed by the plain-NumPy reference simulator
and ``numpy.linalg.lstsq`` on the stacked weighted rows ``[R; sqrt(reg) I]``.
"""

import tracemalloc

import numpy as np
import pytest

import reservoir as rs
from reference import simulate_reference

N, T, M, K = 200, 3000, 3, 2
#: Allowance beyond the documented bound, stated: 64 KiB of Python objects (the result,
#: its metadata, dictionaries, the column norms of the factor) plus the small float64
#: buffers the docstring lists, ``100 (c + N + K) + 8 B N`` values (LAPACK's blocks of
#: 32 penalty rows, their ``T`` and workspace; the state and scratch of B trials).
PY_OBJECTS = 64 * 1024


def allowance(n: int, B: int = 1) -> int:
    return PY_OBJECTS + 8 * (100 * n + 8 * B * N)


def solve_need(n: int, solver: str) -> int:
    """The final solve's documented need: 2 (``"qr"``) or 3 (``"svd"``) factors."""
    return (16 if solver == "qr" else 24) * n * n


def problem(g=0.9):
    net = rs.random_network(N, g, M, K, dt=0.1, rng=3)
    rng = np.random.default_rng(4)
    U = rng.uniform(-1, 1, (T, M))
    t = np.arange(T) * 0.1
    Y = np.stack([np.sin(0.3 * t), np.cos(0.17 * t) * np.sin(0.05 * t)], axis=1)
    return net, U, Y


def traced_peak(fn):
    """Peak traced memory (bytes) of ``fn()`` above what was traced before it, and its
    result."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, out


def reference_fit(net, U, Y, reg, intercept, washout):
    """In-memory reference: states from the plain-NumPy simulator, then ``lstsq`` on
    ``[[1 R], [0 sqrt(reg) I]] [b; W^T] = [Y; 0]`` (no column of ones without an
    intercept; the intercept is not penalised)."""
    R = simulate_reference(net, U, np.zeros(N), "teacher", Y)[1][washout:]
    Yw = Y[washout:]
    if intercept:
        A = np.vstack([np.hstack([np.ones((len(R), 1)), R]),
                       np.hstack([np.zeros((N, 1)), np.sqrt(reg) * np.eye(N)])])
    else:
        A = np.vstack([R, np.sqrt(reg) * np.eye(N)])
    rhs = np.vstack([Yw, np.zeros((N, K))])
    sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    b = sol[0] if intercept else np.zeros(K)
    W = sol[int(intercept):].T
    mse = np.mean((R @ W.T + b - Yw) ** 2, axis=0)
    return W, b, mse


@pytest.mark.parametrize("reg, solver", [(1e-3, "qr"), (0.0, "svd")])
@pytest.mark.parametrize("intercept", [False, True])
def test_peak_within_max_chunk_bytes_and_result_exact(reg, solver, intercept):
    """``max_chunk_bytes`` above the solve's need: the whole peak is at most
    ``max_chunk_bytes`` (ratio 1) plus the stated allowance, with over 10 chunks run (the
    rates alone are 3.6x ``max_chunk_bytes``), and the readout is the in-memory one to
    1e-10 relative."""
    net, U, Y = problem()
    n = int(intercept) + N + K
    mcb = 1_310_720                                     # 1.25 MiB
    assert mcb >= solve_need(n, "svd")
    assert 8 * T * N > 3 * mcb                          # the states could not fit
    washout = 100
    kw = dict(reg=reg, washout=washout, max_chunk_bytes=mcb, intercept=intercept)
    rs.fit_ridge(net, U[:200], Y[:200], **kw)           # compile
    peak, res = traced_peak(lambda: rs.fit_ridge(net, U, Y, **kw))
    assert res.solver == solver and res.success
    assert peak <= mcb + allowance(n), (peak, mcb)
    W_ref, b_ref, mse_ref = reference_fit(net, U, Y, reg, intercept, washout)
    assert np.linalg.norm(res.W_out - W_ref) <= 1e-10 * np.linalg.norm(W_ref)
    np.testing.assert_allclose(res.b_out, b_ref, rtol=1e-10,
                               atol=1e-10 * np.linalg.norm(W_ref))
    np.testing.assert_allclose(res.train_mse, mse_ref, rtol=1e-8)


@pytest.mark.parametrize("reg, solver", [(1e-3, "qr"), (0.0, "svd")])
@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("mcb", [600_000, 100_000])
def test_peak_when_the_solve_needs_more(reg, solver, intercept, mcb):
    """``max_chunk_bytes`` below the solve's need (600 kB: the factor and chunks of about
    50 steps; 100 kB: not even the factor, one step per chunk): the peak is at most the
    solve's documented need plus the allowance, and the chunk size does not change the
    result beyond rounding."""
    net, U, Y = problem()
    n = int(intercept) + N + K
    kw = dict(reg=reg, washout=50, intercept=intercept)
    T_run = 1200 if mcb < 200_000 else T                # one step per chunk: keep it short
    rs.fit_ridge(net, U[:100], Y[:100], max_chunk_bytes=mcb, **kw)
    peak, res = traced_peak(lambda: rs.fit_ridge(net, U[:T_run], Y[:T_run],
                                                 max_chunk_bytes=mcb, **kw))
    assert res.solver == solver
    assert mcb < solve_need(n, solver)
    assert peak <= solve_need(n, solver) + allowance(n), (peak, solve_need(n, solver))
    whole = rs.fit_ridge(net, U[:T_run], Y[:T_run], **kw)     # default: one chunk
    scale = np.linalg.norm(whole.W_out)
    assert np.linalg.norm(res.W_out - whole.W_out) <= 1e-10 * scale
    np.testing.assert_allclose(res.train_mse, whole.train_mse, rtol=1e-8)


def test_batch_peak_and_result():
    """A batch of 3 trials with a mask: the same bound, and the readout of the stacked
    weighted rows of every trial."""
    net, U, Y = problem()
    B, Tb = 3, 1000
    rng = np.random.default_rng(5)
    U3 = rng.uniform(-1, 1, (B, Tb, M))
    Y3 = np.stack([Y[:Tb]] * B)
    mask = rng.uniform(0.5, 2.0, (B, Tb))
    n = N + K
    mcb = 1_310_720
    kw = dict(reg=1e-3, max_chunk_bytes=mcb, mask=mask)
    rs.fit_ridge(net, U3[:, :100], Y3[:, :100], reg=1e-3, max_chunk_bytes=mcb,
                 mask=mask[:, :100])
    peak, res = traced_peak(lambda: rs.fit_ridge(net, U3, Y3, **kw))
    assert peak <= mcb + allowance(n, B), (peak, mcb)
    R = np.concatenate([simulate_reference(net, U3[b], np.zeros(N), "teacher", Y3[b])[1]
                        for b in range(B)])
    sw = np.sqrt(mask.reshape(-1))[:, None]
    A = np.vstack([sw * R, np.sqrt(1e-3) * np.eye(N)])
    rhs = np.vstack([sw * Y3.reshape(-1, K), np.zeros((N, K))])
    W_ref = np.linalg.lstsq(A, rhs, rcond=None)[0].T
    assert np.linalg.norm(res.W_out - W_ref) <= 1e-10 * np.linalg.norm(W_ref)


def test_factor_lower_triangle_stays_zero():
    """The accumulated factor is the R of the QR decomposition of all the rows at once
    (``numpy.linalg.qr``, up to the signs of its rows), its strictly lower part zero (the
    solve reads its triangles through views; it does not rely on that zero)."""
    from reservoir.train._ridge import _TriangularFactor
    rng = np.random.default_rng(0)
    fac = _TriangularFactor(40)
    blocks = [rng.standard_normal((m, 40)) for m in (7, 60, 1, 33)]
    for block in blocks:
        fac.add(np.array(block, order="F"))            # a copy: add() overwrites it
    assert np.all(np.tril(fac.F, -1) == 0.0)
    # the R factor of all the rows at once (unique up to the signs of its rows)
    R_ref = np.linalg.qr(np.vstack(blocks), mode="r")
    np.testing.assert_allclose(np.abs(fac.F), np.abs(R_ref), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("intercept", [False, True])
def test_penalty_fold_without_ctypes_is_the_same(monkeypatch, intercept):
    """The penalty rows are folded into the trailing triangle through ctypes; the f2py
    fallback (the whole factor per block) gives the same readout to rounding, both the
    in-memory lstsq one."""
    import reservoir.train._ridge as ridge
    net, U, Y = problem()
    kw = dict(reg=1e-2, washout=20, intercept=intercept, max_chunk_bytes=1_310_720)
    fast = rs.fit_ridge(net, U[:600], Y[:600], **kw)
    monkeypatch.setattr(ridge, "_dtpqrt_pointer", lambda: None)
    slow = rs.fit_ridge(net, U[:600], Y[:600], **kw)
    assert fast.solver == slow.solver == "qr"
    W_ref, b_ref, _ = reference_fit(net, U[:600], Y[:600], 1e-2, intercept, 20)
    for res in (fast, slow):
        assert np.linalg.norm(res.W_out - W_ref) <= 1e-10 * np.linalg.norm(W_ref)
        np.testing.assert_allclose(res.b_out, b_ref, rtol=1e-10, atol=1e-12)
    assert fast.cond == pytest.approx(slow.cond, rel=1e-6)

