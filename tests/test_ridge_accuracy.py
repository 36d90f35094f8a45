"""Least squares that is accurate at every penalty (issue 13, part 1).

``fit_ridge`` and ``ridge_regression`` fold the weighted rows into a Householder QR factor
and solve from it (QR at a penalty above the rounding level, SVD with a cutoff below it).
Every test recomputes the states independently (the plain-NumPy reference simulator of
``tests/reference.py``), solves the same problem another way (``numpy.linalg.lstsq`` on the
stacked ``[sqrt(w) R; sqrt(reg) I]``, or ``numpy.linalg.pinv``) and recomputes the
objective from the states, never from ``train_mse``.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reservoir as rs
from reference import simulate_reference

#: Relative gap allowed between the fitted and the reference objective. The issue's bound
#: is 1 %; both solves are backward stable, so they agree to rounding (measured <= 2e-11).
OBJ_RTOL = 1e-9


def issue_example():
    """The example of issue 13: N = 200, 260 samples after the washout, cond(R) ~ 5e7."""
    net = rs.random_network(N=200, g=0.9, n_inputs=1, n_outputs=1, feedback_scale=0.0,
                            rng=0)
    u = np.random.default_rng(1).uniform(-1, 1, (310, 1))
    y = np.roll(u, 3, axis=0)
    return net, u, y


def reference_states(net, U, Y, X0=None):
    """Teacher-forced rates of every trial, from the reference simulator: (B, T, N)."""
    U3 = U if U.ndim == 3 else U[None]
    Y3 = Y if Y.ndim == 3 else Y[None]
    B = U3.shape[0]
    X0 = np.zeros((B, net.N)) if X0 is None else X0
    return np.stack([simulate_reference(net, U3[b], X0[b], "teacher", Y3[b])[1]
                     for b in range(B)])


def objective(R, Y, w, W, reg):
    """``sum_t w_t |y_t - W r_t|^2 + reg |W|_F^2``, from the states."""
    res = R @ W.T - Y
    return float(np.sum(w[:, None] * res * res) + reg * np.sum(W * W))


def reference_solution(R, Y, w, reg):
    """``numpy.linalg.lstsq`` (SVD, LAPACK gelsd) of ``[sqrt(w) R; sqrt(reg) I] W^T =
    [sqrt(w) Y; 0]``: the ridge minimiser, minimum-norm at ``reg = 0``."""
    sw = np.sqrt(w)[:, None]
    N, K = R.shape[1], Y.shape[1]
    A = np.vstack([sw * R, np.sqrt(reg) * np.eye(N)])
    b = np.vstack([sw * Y, np.zeros((N, K))])
    return np.linalg.lstsq(A, b, rcond=None)[0].T


def test_issue_example_at_zero_penalty_is_least_squares():
    """MSE 0.0878 like lstsq (the normal equations with truncation gave 0.1152)."""
    net, u, y = issue_example()
    R = reference_states(net, u, y)[0, 50:]
    Y = y[50:]
    W_ls, _, rank_ls, _ = np.linalg.lstsq(R, Y, rcond=None)
    mse_ls = float(np.mean((R @ W_ls - Y) ** 2))
    assert mse_ls == pytest.approx(0.0878, abs=5e-5)
    fit = rs.fit_ridge(net, u, y, reg=0.0, washout=50)
    assert fit.success and fit.reg == 0.0 and fit.solver == "svd"
    assert fit.rank == rank_ls == 200 and fit.n_dropped == 0 and fit.messages == ()
    mse = float(np.mean((R @ fit.W_out.T - Y) ** 2))
    assert mse == pytest.approx(mse_ls, rel=OBJ_RTOL)
    assert fit.train_mse[0] == pytest.approx(mse_ls, rel=1e-8)
    # cond is the 2-norm condition number of the states (full rank, reg = 0)
    s = np.linalg.svd(R, compute_uv=False)
    assert fit.cond == pytest.approx(s[0] / s[-1], rel=1e-6)
    assert fit.rcond == pytest.approx(np.finfo(float).eps * 260)
    W = rs.ridge_regression(R, Y, 0.0)
    np.testing.assert_allclose(W, fit.W_out, rtol=0, atol=1e-6 * np.abs(W_ls).max())


@pytest.mark.parametrize("streamed", [False, True], ids=["dense", "streamed"])
@pytest.mark.parametrize("reg", [0.0, 1e-12, 1e-9, 1e-6])
def test_objective_of_an_accurate_solve_at_every_penalty(reg, streamed):
    """The issue's "done when": the objective of an accurate SVD solve within 1 % (here
    1e-9), dense and streamed (chunks of 5 steps: 62 chunks)."""
    net, u, y = issue_example()
    R = reference_states(net, u, y)[0, 50:]
    Y = y[50:]
    w = np.ones(len(R))
    chunk = 200 * 8 * 3 * 5 if streamed else None
    fit = rs.fit_ridge(net, u, y, reg=reg, washout=50, max_chunk_bytes=chunk)
    W_ref = reference_solution(R, Y, w, reg)
    f, f_ref = objective(R, Y, w, fit.W_out, reg), objective(R, Y, w, W_ref, reg)
    assert abs(f - f_ref) <= OBJ_RTOL * f_ref
    # the penalty reported is the one applied: it changes the objective's minimiser
    assert fit.reg == reg
    assert fit.solver == ("qr" if reg >= 1e-9 else "svd")
    assert fit.n_dropped == 0 and fit.rank == 200
    # the training error agrees with the states
    np.testing.assert_allclose(fit.train_mse * len(R), np.sum((R @ fit.W_out.T - Y) ** 2),
                               rtol=1e-8)


def test_penalty_is_really_applied_at_small_values():
    """reg = 1e-9 and reg = 0 give different readouts, each optimal for its own penalty
    (the old solver dropped directions and reported the penalty requested)."""
    net, u, y = issue_example()
    R = reference_states(net, u, y)[0, 50:]
    Y, w = y[50:], np.ones(260)
    a = rs.fit_ridge(net, u, y, reg=0.0, washout=50)
    b = rs.fit_ridge(net, u, y, reg=1e-9, washout=50)
    # each readout is worse for the other penalty than the other's readout
    assert objective(R, Y, w, a.W_out, 1e-9) > objective(R, Y, w, b.W_out, 1e-9) * 1.01
    assert objective(R, Y, w, b.W_out, 0.0) > objective(R, Y, w, a.W_out, 0.0) * 1.01


@pytest.mark.parametrize("chunk", [None, 30 * 8 * 3], ids=["dense", "streamed"])
def test_rank_deficient_states_at_zero_penalty_give_the_minimum_norm_readout(chunk):
    """10 samples of 30 units, the first at x0 = 0 (rates 0): rank 9; the readout is
    pinv(R) Y (minimum norm)."""
    net = rs.random_network(30, 0.8, 1, 1, rng=0)
    rng = np.random.default_rng(0)
    U, Y = rng.standard_normal((10, 1)), rng.standard_normal((10, 1))
    R = reference_states(net, U, Y)[0]
    fit = rs.fit_ridge(net, U, Y, reg=0.0, max_chunk_bytes=chunk)
    assert fit.success and fit.solver == "svd"
    assert fit.rank == np.linalg.matrix_rank(R) == 9 and fit.n_dropped == 21
    np.testing.assert_allclose(fit.W_out, (np.linalg.pinv(R) @ Y).T, rtol=1e-8,
                               atol=1e-10)
    assert len(fit.messages) == 1
    msg = fit.messages[0]
    assert "numerical rank 9 < N = 30" in msg and "21 singular values" in msg
    assert "minimum-norm" in msg
    # the samples after the first are interpolated (the first has rates 0)
    np.testing.assert_allclose(R[1:] @ fit.W_out.T, Y[1:], atol=1e-10)


def test_ridge_regression_rank_deficient_columns_and_explicit_rcond():
    """Duplicated columns (rank 5 of 10, T = 50 > N): lstsq's minimum-norm solution; a
    cutoff above the smallest kept singular value drops it (and nothing else)."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((50, 5)) * np.array([1.0, 1.0, 1.0, 1.0, 1e-3])
    R = np.hstack([A, A])
    Y = rng.standard_normal((50, 2))
    W = rs.ridge_regression(R, Y, 0.0)
    np.testing.assert_allclose(W, np.linalg.lstsq(R, Y, rcond=None)[0].T, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(W[:, :5], W[:, 5:], rtol=1e-9, atol=1e-12)
    s = np.linalg.svd(R, compute_uv=False)
    rc = 2 * s[4] / s[0]                     # drops the 1e-3 column pair as well
    W4 = rs.ridge_regression(R, Y, 0.0, rcond=rc)
    np.testing.assert_allclose(W4, (np.linalg.pinv(R, rcond=rc) @ Y).T, rtol=1e-9,
                               atol=1e-12)
    with pytest.raises(ValueError, match="rcond"):
        rs.ridge_regression(R, Y, 0.0, rcond=1.5)
    with pytest.raises(ValueError, match="rcond"):
        rs.ridge_regression(R, Y, 0.0, rcond=-1e-3)


@pytest.mark.parametrize("reg", [0.0, 1e-3])
@pytest.mark.parametrize("chunk", [None, 25 * 8 * 3 * 2 * 4], ids=["dense", "streamed"])
def test_weights_and_batched_mask(reg, chunk):
    """Mask (B, T) with zeros and uneven weights on 3 trials with their own x0: the
    weighted problem on the stacked reference states."""
    net = rs.random_network(25, 1.3, 2, 2, dt=0.2, rng=4)
    rng = np.random.default_rng(5)
    B, T = 3, 40
    U = rng.standard_normal((B, T, 2))
    Y = rng.standard_normal((B, T, 2))
    X0 = rng.standard_normal((B, 25))
    mask = rng.uniform(0, 2, (B, T)) * (rng.random((B, T)) > 0.3)
    fit = rs.fit_ridge(net, U, Y, reg=reg, washout=3, mask=mask, x0=X0,
                       max_chunk_bytes=chunk)
    Rs = reference_states(net, U, Y, X0)
    w = mask.copy()
    w[:, :3] = 0.0
    R, Yv, wv = Rs.reshape(-1, 25), Y.reshape(-1, 2), w.reshape(-1)
    W_ref = reference_solution(R, Yv, wv, reg)
    f, f_ref = objective(R, Yv, wv, fit.W_out, reg), objective(R, Yv, wv, W_ref, reg)
    assert abs(f - f_ref) <= OBJ_RTOL * f_ref
    np.testing.assert_allclose(fit.W_out, W_ref, rtol=1e-7, atol=1e-9)
    res = R @ fit.W_out.T - Yv
    np.testing.assert_allclose(fit.train_mse, np.sum(wv[:, None] * res**2, 0) / wv.sum(),
                               rtol=1e-8)
    assert fit.n_samples == pytest.approx(wv.sum())
    # ridge_regression on the same states and weights gives the same readout
    W = rs.ridge_regression(R, Yv, reg, weights=wv)
    np.testing.assert_allclose(W, fit.W_out, rtol=1e-7, atol=1e-9)


def test_tiny_penalty_on_rank_deficient_data_drops_rounding_directions():
    """A penalty below the rounding level of the data (reg = 1e-20 on rates of scale 1):
    the SVD path, the rounding directions dropped and said so, and the readout is the
    ridge minimiser over the rest (within rounding of the minimum-norm one)."""
    net = rs.random_network(30, 0.8, 1, 1, rng=0)
    rng = np.random.default_rng(0)
    U, Y = rng.standard_normal((10, 1)), rng.standard_normal((10, 1))
    R = reference_states(net, U, Y)[0]
    fit = rs.fit_ridge(net, U, Y, reg=1e-20)
    assert fit.solver == "svd" and fit.rank == 9 and fit.reg == 1e-20
    assert "reg = 1e-20 is applied on the other 9" in fit.messages[0]
    np.testing.assert_allclose(fit.W_out, (np.linalg.pinv(R) @ Y).T, rtol=1e-8, atol=1e-10)
    # above the rounding level: the QR path, nothing dropped, the ridge minimiser
    big = rs.fit_ridge(net, U, Y, reg=1e-3)
    assert big.solver == "qr" and big.rank == 30 and big.n_dropped == 0
    assert big.messages == ()
    W_ref = reference_solution(R, Y, np.ones(10), 1e-3)
    np.testing.assert_allclose(big.W_out, W_ref, rtol=1e-9, atol=1e-12)
    # cond of the penalised problem, within the factor N of the 1-norm estimate
    s = np.linalg.svd(R, compute_uv=False)
    s = np.r_[s, np.zeros(30 - len(s))]
    cond2 = np.sqrt((s[0] ** 2 + 1e-3) / (s[-1] ** 2 + 1e-3))
    assert cond2 / 30 <= big.cond <= cond2 * 30


def test_zero_rates_give_a_zero_readout_and_say_so():
    """x0 = 0, zero input and zero targets keep tanh rates at 0: nothing to fit."""
    net = rs.random_network(8, 1.0, 1, 1, rng=0)
    fit = rs.fit_ridge(net, np.zeros((20, 1)), np.zeros((20, 1)), reg=0.0)
    assert fit.success and fit.rank == 0 and fit.n_dropped == 8
    np.testing.assert_array_equal(fit.W_out, np.zeros((1, 8)))
    assert np.isnan(fit.cond) and "numerical rank 0 < N = 8" in fit.messages[0]
    assert fit.train_mse[0] == 0.0


def test_fit_ridge_rejects_bad_rcond():
    net = rs.random_network(5, 1.0, 1, 1, rng=0)
    for bad, exc in ((1.0, ValueError), (-0.1, ValueError), (np.nan, ValueError),
                     ("x", TypeError)):
        with pytest.raises(exc, match="rcond"):
            rs.fit_ridge(net, np.zeros((10, 1)), np.zeros((10, 1)), rcond=bad)


def test_record_in_meta_names_the_solver_used():
    net, u, y = issue_example()
    for reg, solver in ((0.0, "svd"), (1e-6, "qr")):
        fit = rs.fit_ridge(net, u, y, reg=reg, washout=50)
        rec = fit.network.meta["readout_fit"]
        assert rec["solver"] == fit.solver == solver and rec["reg"] == reg
        assert rec["train_mse"] == [float(fit.train_mse[0])]


@settings(max_examples=30, deadline=None)
@given(N=st.integers(1, 20), B=st.integers(1, 3), T=st.integers(4, 40), K=st.integers(1, 2),
       reg=st.sampled_from([0.0, 1e-10, 1e-3]), chunk_steps=st.integers(1, 7),
       masked=st.booleans(), seed=st.integers(0, 10_000))
def test_chunked_equals_unchunked(N, B, T, K, reg, chunk_steps, masked, seed):
    """Streaming in chunks of 1-7 steps gives the unchunked fit: the objective (from the
    reference states) to 1e-10 relative and the readout to 1e-10 * cond (its rounding
    sensitivity, ``RidgeResult.cond``) when the rank agrees."""
    net = rs.random_network(N, 1.2, 1, K, dt=0.2, rng=seed)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, 1))
    Y = rng.standard_normal((B, T, K))
    mask = rng.uniform(0, 1, (B, T)) if masked else None
    whole = rs.fit_ridge(net, U, Y, reg=reg, mask=mask)
    per_step = N + N + K
    parts = rs.fit_ridge(net, U, Y, reg=reg, mask=mask,
                         max_chunk_bytes=chunk_steps * B * per_step * 8)
    np.testing.assert_array_equal(whole.x_final, parts.x_final)
    R = reference_states(net, U, Y).reshape(-1, N)
    Yv = Y.reshape(-1, K)
    w = np.ones(B * T) if mask is None else mask.reshape(-1)
    f_whole = objective(R, Yv, w, whole.W_out, reg)
    f_parts = objective(R, Yv, w, parts.W_out, reg)
    scale = float(np.sum(w[:, None] * Yv**2))
    assert abs(f_whole - f_parts) <= 1e-10 * f_whole + 1e-12 * scale
    f_ref = objective(R, Yv, w, reference_solution(R, Yv, w, reg), reg)
    assert abs(f_whole - f_ref) <= 1e-9 * f_ref + 1e-12 * scale
    np.testing.assert_allclose(whole.train_mse, parts.train_mse, rtol=1e-9,
                               atol=1e-12 * scale / w.sum())
    assert whole.solver == parts.solver
    if whole.rank == parts.rank:
        tol = 1e-10 * max(1.0, whole.cond) ** (2 if reg == 0 else 1)
        np.testing.assert_allclose(parts.W_out, whole.W_out, rtol=0,
                                   atol=tol * max(1.0, np.abs(whole.W_out).max()))
