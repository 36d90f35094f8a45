import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reservoir as rs
from helpers import assert_rejects
from reference import simulate_reference


@given(N=st.integers(1, 30), B=st.integers(1, 3), T=st.integers(5, 60), K=st.integers(1, 2),
       reg=st.sampled_from([0.0, 1e-3, 1.0]), washout=st.integers(0, 4),
       density=st.sampled_from([1.0, 0.5]), seed=st.integers(0, 1000))
def test_ridge_equals_dense_least_squares_on_reference_states(N, B, T, K, reg, washout,
                                                              density, seed):
    net = rs.random_network(N, 1.2, 1, K, dt=0.2, density=density, rng=seed)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, 1))
    Y = rng.standard_normal((B, T, K))
    X0 = rng.standard_normal((B, N))
    res = rs.fit_ridge(net, U, Y, reg=reg, washout=washout, x0=X0)
    Rs, Ys = [], []
    for b in range(B):
        _, r, _, _ = simulate_reference(net, U[b], X0[b], "teacher", Y[b])
        Rs.append(r[washout:])
        Ys.append(Y[b, washout:])
    R, Yv = np.vstack(Rs), np.vstack(Ys)
    if reg > 0:
        W = np.linalg.solve(R.T @ R + reg * np.eye(N), R.T @ Yv).T
        np.testing.assert_allclose(res.W_out, W, rtol=1e-7, atol=1e-9)
    # the fitted readout is optimal: its (penalised) cost is not above the reference's
    W_ls = np.linalg.lstsq(R, Yv, rcond=None)[0].T if reg == 0 else W

    def cost(Wm):
        return np.sum((R @ Wm.T - Yv) ** 2) + reg * np.sum(Wm**2)
    assert cost(res.W_out) <= cost(W_ls) * (1 + 1e-8) + 1e-10
    np.testing.assert_allclose(res.train_mse * R.shape[0],
                               np.sum((R @ res.W_out.T - Yv) ** 2, axis=0),
                               rtol=1e-6, atol=1e-8)
    assert res.n_samples == R.shape[0]


def test_chunked_accumulation_equals_single_pass():
    net = rs.random_network(50, 1.5, 1, 1, dt=0.1, rng=0)
    task = rs.tasks.sine_sum(duration=100.0, dt=0.1)
    a = rs.fit_ridge(net, task.inputs, task.targets, reg=1e-3, washout=50)
    b = rs.fit_ridge(net, task.inputs, task.targets, reg=1e-3, washout=50,
                     max_chunk_bytes=50 * 8 * 37)
    # the sums differ only in summation order (~1e-16 relative); the solve amplifies that
    # by the condition number of R^T R + reg I (~1e7 here)
    np.testing.assert_allclose(a.W_out, b.W_out, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(a.x_final, b.x_final)


def test_mask_weights_equal_repeated_samples():
    """Weight 2 on a sample equals including that sample twice."""
    net = rs.random_network(20, 1.0, 1, 1, dt=0.2, rng=0)
    rng = np.random.default_rng(1)
    U = rng.standard_normal((30, 1))
    Y = rng.standard_normal((30, 1))
    mask = np.ones(30)
    mask[10] = 2.0
    a = rs.fit_ridge(net, U, Y, reg=0.1, mask=mask)
    tr = rs.simulate(net, U, mode="teacher", targets=Y)
    R = np.vstack([tr.r, tr.r[10:11]])
    Yv = np.vstack([Y, Y[10:11]])
    W = np.linalg.solve(R.T @ R + 0.1 * np.eye(20), R.T @ Yv).T
    np.testing.assert_allclose(a.W_out, W, rtol=1e-9, atol=1e-12)


def test_ridge_trained_readout_holds_fixed_points_in_closed_loop():
    """Rivkind & Barak protocol: teacher-forced settle to each target, least squares on the
    settled rates; each x^k is then an exact closed-loop fixed point with z = A_k
    (Rivkind & Barak 2017: x^k = J r^k + m A_k = (J + m w^T) r^k when w^T r^k = A_k).
    Whether it is *stable* is a separate question (issue 2)."""
    net = rs.random_network(300, 0.8, 0, 1, dt=0.1, feedback_dist="normal", rng=0)
    task = rs.tasks.fixed_points(targets=[0.5, 1.5], duration=80.0, dt=0.1, washout=70.0)
    res = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-12)
    out = rs.simulate(res.network, None, res.x_final, mode="closed", n_steps=2)
    np.testing.assert_allclose(out.z[:, 0, 0], [0.5, 1.5], atol=1e-6)
    step = np.abs(out.x[:, 1] - out.x[:, 0]).max()
    assert step < 1e-6


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(reg=-1.0), ValueError, "reg"),
    (dict(washout=100), ValueError, "washout"),
    (dict(washout=-1), ValueError, "washout"),
    (dict(targets=None), ValueError, "targets"),
    (dict(targets=np.zeros((50, 2))), ValueError, "targets"),
    (dict(mask=np.ones(49)), ValueError, "mask"),
    (dict(mask=-np.ones(50)), ValueError, "mask"),
    (dict(mask=np.zeros(50)), ValueError, "samples"),
])
def test_ridge_bad_input(kwargs, exc, word):
    net = rs.random_network(5, 1.0, 1, 1, rng=0)
    base = dict(net=net, inputs=np.zeros((50, 1)), targets=np.zeros((50, 1)))
    assert_rejects(rs.fit_ridge, base, kwargs, exc, word)


def test_ridge_regression_on_states_matches_fit_ridge_and_normal_equations():
    net = rs.random_network(40, 1.2, 1, 1, dt=0.1, rng=0)
    task = rs.tasks.sine_sum(duration=30.0, dt=0.1)
    tr = rs.simulate(net, task.inputs, mode="teacher", targets=task.targets, record=("r",))
    w = np.linspace(0, 1, task.n_steps)
    W = rs.ridge_regression(tr.r, task.targets, 0.01, weights=w)
    Rw = tr.r * np.sqrt(w)[:, None]
    ref = np.linalg.solve(Rw.T @ Rw + 0.01 * np.eye(40), Rw.T @ (task.targets * np.sqrt(w)[:, None]))
    np.testing.assert_allclose(W, ref.T, rtol=1e-8, atol=1e-10)
    fit = rs.fit_ridge(net, task.inputs, task.targets, reg=0.01, mask=w)
    np.testing.assert_allclose(fit.W_out, W, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="weights"):
        rs.ridge_regression(tr.r, task.targets, 0.01, weights=-w)
    with pytest.raises(ValueError, match="Y"):
        rs.ridge_regression(tr.r, task.targets[:-1], 0.01)


def test_fit_ridge_with_noise_regresses_the_noisy_teacher_forced_states():
    """The states fit_ridge regresses on are those of simulate(mode='teacher') with the
    same noise seed."""
    net = rs.random_network(30, 1.2, 1, 1, dt=0.1, rng=0)
    task = rs.tasks.sine_sum(duration=20.0, dt=0.1)
    fit = rs.fit_ridge(net, task.inputs, task.targets, reg=0.1, washout=20, noise_std=0.05,
                       rng=4)
    tr = rs.simulate(net, task.inputs, mode="teacher", targets=task.targets, noise_std=0.05,
                     rng=4, record=("r",))
    W = rs.ridge_regression(tr.r[20:], task.targets[20:], 0.1)
    np.testing.assert_allclose(fit.W_out, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(fit.x_final, tr.x_final)
    quiet = rs.fit_ridge(net, task.inputs, task.targets, reg=0.1, washout=20)
    assert not np.allclose(quiet.W_out, fit.W_out)


def test_fit_ridge_rejects_bad_chunk_size():
    net = rs.random_network(5, 1.0, 1, 1, rng=0)
    with pytest.raises(ValueError, match="max_chunk_bytes"):
        rs.fit_ridge(net, np.zeros((10, 1)), np.zeros((10, 1)), max_chunk_bytes=0)


def test_vanishing_penalty_on_rank_deficient_data_gives_the_minimum_norm_readout():
    """Two distinct rate vectors repeated (settled fixed points, Rivkind & Barak): with a
    penalty far below the data's scale the normal equations are nearly singular; the fit
    must still be the minimum-norm least-squares readout R^+ y."""
    rng = np.random.default_rng(0)
    r = np.tanh(rng.standard_normal((2, 300)))
    R = np.repeat(r, 50, axis=0)
    Y = np.repeat(np.array([[0.5], [1.5]]), 50, axis=0)
    W = rs.ridge_regression(R, Y, 1e-14)
    W_min = (np.linalg.pinv(r) @ np.array([0.5, 1.5]))[None, :]
    np.testing.assert_allclose(W, W_min, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r @ W[0], [0.5, 1.5], atol=1e-9)


@pytest.mark.parametrize("B, masked, noise_std, intercept", [(1, False, 0.0, False),
                                                             (3, True, 0.0, True),
                                                             (2, True, 0.1, False)])
def test_fit_ridge_peak_memory_within_one_and_a_half_chunks(B, masked, noise_std, intercept):
    """Issue 16: the NumPy memory that fit_ridge allocates (tracemalloc peak above what
    is held before the call: the network and the data) stays under 1.5 max_chunk_bytes
    plus the (N + K + 1)^2 factor and its solve (4 such matrices), whatever the length
    of the run: the weights, kept rows and weighted copy are made chunk by chunk (the
    mask and washout used to be expanded to a (B, T) array, and the kept rates copied,
    4-5x the chunk at T = 80,000; the finiteness checks of the targets and mask made a
    boolean array of the data, B T K bytes). The peak does not grow with the run: 16x the
    steps add less than a quarter chunk (the peak moves by about a tenth of a chunk with
    the chunk boundaries and the mask's kept rows; a per-step temporary of even one byte
    per trial would add 180 KB, 1.4 chunks). The readout of the short run equals weighted
    least squares on the states of a NumPy reference run (1e-8)."""
    import tracemalloc
    N, K, chunk = 20, 2, 1 << 17
    net = rs.random_network(N, 1.2, 1, K, dt=0.1, rng=0)
    rng = np.random.default_rng(1)
    peaks, runs = [], []
    for T in (4000, 64000):
        U = rng.standard_normal((B, T, 1))
        Y = np.tanh(rng.standard_normal((B, T, K)))
        mask = rng.random((B, T)) * (rng.random((B, T)) > 0.3) if masked else None
        kw = dict(reg=1e-3, washout=7, mask=mask, noise_std=noise_std, rng=3,
                  intercept=intercept, max_chunk_bytes=chunk)
        rs.fit_ridge(net, U[:, :100], Y[:, :100], **{**kw, "mask": None})   # compile
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            fit = rs.fit_ridge(net, U, Y, **kw)
            peaks.append(tracemalloc.get_traced_memory()[1] - base)
        finally:
            tracemalloc.stop()
        assert peaks[-1] <= 1.5 * chunk + 4 * 8 * (N + K + 1) ** 2, (T, peaks[-1] / chunk)
        runs.append((T, U, Y, mask, fit))
    # the peak does not grow with the run (16x the steps)
    assert peaks[1] <= peaks[0] + 0.25 * chunk, (peaks[0] / chunk, peaks[1] / chunk)
    T, U, Y, mask, fit = runs[0]
    if noise_std == 0:      # independent check of the chunked fit on the short run
        w = np.ones((B, T)) if mask is None else mask.copy()
        w[:, :7] = 0.0
        R = np.stack([simulate_reference(net, U[b], np.zeros(N), "teacher", Y=Y[b])[1]
                      for b in range(B)]).reshape(-1, N)
        sw = np.sqrt(w.reshape(-1))[:, None]
        A = np.hstack([R, np.ones((len(R), 1))]) if intercept else R
        pen = np.sqrt(1e-3) * np.eye(A.shape[1])
        if intercept:
            pen[-1, -1] = 0.0
        sol = np.linalg.lstsq(np.vstack([sw * A, pen]),
                              np.vstack([sw * Y.reshape(-1, K), np.zeros((A.shape[1], K))]),
                              rcond=None)[0]
        np.testing.assert_allclose(fit.W_out, sol[:N].T, rtol=1e-8, atol=1e-8)
        if intercept:
            np.testing.assert_allclose(fit.b_out, sol[N], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("case", ["no inputs", "bool mask", "float32 data",
                                  "transposed targets", "1-D float32 mask"])
def test_fit_ridge_memory_holds_for_data_of_any_dtype_and_layout(case):
    """The inputs, targets and mask are converted to float64 chunk by chunk: without
    inputs, with a boolean or float32 mask, float32 inputs and targets, or targets that
    are a transposed (non-contiguous) view, the NumPy peak above the data stays under
    1.5 max_chunk_bytes plus the factor at T = 40,000 (whole float64 copies of the mask,
    targets or inputs, or a zero input array, measured 3-30 chunks here), and the readout
    has the
    bits of the same fit on C-contiguous float64 arrays."""
    import tracemalloc
    N, K, B, T, chunk = 20, 2, 3, 40_000, 1 << 17
    net = rs.random_network(N, 1.2, 1, K, dt=0.1, rng=0)
    rng = np.random.default_rng(2)
    U = rng.standard_normal((B, T, 1))
    Y = np.tanh(rng.standard_normal((B, T, K)))
    mask = rng.random((B, T)) > 0.3
    kw = dict(reg=1e-3, washout=7, max_chunk_bytes=chunk)
    if case == "no inputs":
        args, ref = (None, Y), (np.zeros((B, T, 1)), Y)
    elif case == "bool mask":
        args, ref = (U, Y, mask), (U, Y, mask.astype(float))
    elif case == "float32 data":
        U32, Y32 = U.astype(np.float32), Y.astype(np.float32)
        args, ref = (U32, Y32, mask.astype(np.float32)), \
            (U32.astype(float), Y32.astype(float), mask.astype(float))
    elif case == "transposed targets":
        Yt = np.ascontiguousarray(Y.transpose(2, 1, 0)).transpose(2, 1, 0)
        assert not Yt.flags.c_contiguous
        args, ref = (U, Yt), (U, Y)
    else:
        m1 = (rng.random(T) > 0.5).astype(np.float32)
        args, ref = (U, Y, m1), (U, Y, m1.astype(float))

    def fit(a):
        return rs.fit_ridge(net, a[0], a[1], mask=a[2] if len(a) > 2 else None, **kw)
    want = fit(ref)
    fit(args)                                       # compiles whatever it needs
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        got = fit(args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak <= 1.5 * chunk + 4 * 8 * (N + K + 1) ** 2, peak / chunk
    np.testing.assert_array_equal(got.W_out, want.W_out)
    np.testing.assert_array_equal(got.x_final, want.x_final)
    assert got.n_samples == want.n_samples


@pytest.mark.parametrize("scale", [1e100, 1e160, 1e300, 1e-170, 1e-300])
@pytest.mark.parametrize("intercept", [False, True])
def test_fit_ridge_targets_far_from_one_give_the_scaled_readout(scale, intercept):
    """The readout is linear in the targets: targets times ``scale`` give ``scale`` times
    the readout and intercept (1e-12 relative), with no floating-point warning, where
    squared errors of targets beyond 1e154 used to overflow (success False, readout
    discarded) and below 1e-154 to underflow. A training error beyond the float64 range
    is inf with a message naming the readout; success stays True (the readout is
    finite and right)."""
    import dataclasses
    import warnings
    rng = np.random.default_rng(0)
    net = dataclasses.replace(rs.random_network(20, 0.5, 1, 2, dt=0.1, rng=0),
                              W_fb=np.zeros((20, 2)))
    U = rng.standard_normal((300, 1))
    Y = np.tanh(rng.standard_normal((300, 2)))
    base = rs.fit_ridge(net, U, Y, reg=1e-6, intercept=intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = rs.fit_ridge(net, U, Y * np.array([scale, 1.0]), reg=1e-6, intercept=intercept)
    assert fit.success
    np.testing.assert_allclose(fit.W_out[0] / scale, base.W_out[0], rtol=1e-12,
                               atol=1e-12 * np.abs(base.W_out).max())
    np.testing.assert_array_equal(fit.W_out[1], base.W_out[1])   # unscaled column: bits
    if intercept:
        np.testing.assert_allclose(fit.b_out[0] / scale, base.b_out[0], rtol=1e-12,
                                   atol=1e-12)
    with np.errstate(over="ignore", under="ignore"):
        want_mse = base.train_mse[0] * scale * scale
    if np.isfinite(want_mse):
        np.testing.assert_allclose(fit.train_mse[0], want_mse, rtol=1e-12,
                                   atol=1e-300)
        assert not fit.messages
    else:
        assert fit.train_mse[0] == np.inf and np.isfinite(fit.train_mse[1])
        assert any("training error of readout(s) [0] exceeds the float64 range" in m
                   for m in fit.messages)


@given(exp=st.integers(-1000, 1000), mant=st.floats(0.5, 1.0, exclude_max=True))
def test_target_scales_are_exact_powers_of_two_outside_the_safe_range(exp, mant):
    """``_scale_of``: 1 for a column whose largest magnitude is within ``[2^-200,
    2^200]``; outside, the power of two that brings it into ``[1, 2)``; taken by
    ``_scan_targets`` from the samples used only (a larger value in the washout or under
    a zero weight does not count)."""
    from reservoir.train._ridge import _scale_of, _scan_targets
    top = np.ldexp(mant, exp)
    if top == 0 or not np.isfinite(top):
        return
    Y = np.array([[[1e300], [0.25 * top]], [[-1e300], [-top]]])        # (B=2, T=2, K=1)
    W = np.array([[1.0, 1.0], [0.0, 1.0]])
    total, m = _scan_targets(Y, W, 1)                 # step 0 washed out, (1, 0) weight 0
    assert total == 2.0 and m[0] == top
    s = _scale_of(m)
    if 2.0 ** -200 <= top <= 2.0 ** 200:
        assert s[0] == 1.0
    else:
        assert np.frexp(s[0])[0] == 0.5 and 1.0 <= top / s[0] < 2.0


@pytest.mark.parametrize("where", ["washout", "mask"])
def test_junk_targets_outside_the_used_samples_do_not_set_the_scale(where):
    """A target of 1e300 in the washout or under a zero weight is not regressed: the fit
    equals the fit without it (bits), with the true training error (it was 0, the used
    targets scaled below the float64 range)."""
    net = rs.random_network(30, 1.2, 1, 1, dt=0.1, rng=0)
    t = np.arange(600)[:, None]
    U, Y = np.sin(0.05 * t), 1e-12 * np.cos(0.07 * t)
    mask = np.ones(600)
    mask[100:105] = 0.0
    junk = Y.copy()
    junk[(slice(0, 5) if where == "washout" else slice(100, 105))] = 1e300
    kw = dict(reg=1e-30, washout=50, mask=mask)
    net0 = dataclasses.replace(net, W_fb=np.zeros((30, 1)))       # the junk is fed back
    want = rs.fit_ridge(net0, U, Y, **kw)
    got = rs.fit_ridge(net0, U, junk, **kw)
    np.testing.assert_array_equal(got.W_out, want.W_out)
    np.testing.assert_array_equal(got.train_mse, want.train_mse)
    assert got.train_mse[0] > 0


def test_training_error_is_the_mean_scaled_back_not_the_sum():
    """Targets of 1e154 over 400 steps: the summed squared error exceeds float64 but the
    mean does not; ``train_mse`` is that finite mean (it was inf with a message)."""
    net = rs.random_network(20, 1.2, 1, 1, dt=0.1, rng=0)
    net = dataclasses.replace(net, W_fb=np.zeros((20, 1)))
    t = np.arange(400)[:, None]
    U, Y = np.sin(0.05 * t), np.cos(0.11 * t)
    base = rs.fit_ridge(net, U, Y, reg=1e-6)
    fit = rs.fit_ridge(net, U, 1e154 * Y, reg=1e-6)
    assert fit.success and not fit.messages
    assert np.isfinite(fit.train_mse[0])
    np.testing.assert_allclose(fit.train_mse, base.train_mse * 1e308, rtol=1e-10)


def test_ridge_regression_with_huge_targets():
    """The in-memory ``ridge_regression``: targets of 1e200 give 1e200 times the readout
    of the unscaled ones (was NaN from overflowing squares)."""
    rng = np.random.default_rng(3)
    R = np.tanh(rng.standard_normal((80, 6)))
    Y = rng.standard_normal((80, 2))
    W = rs.ridge_regression(R, Y, 1e-6)
    W_big, b_big = rs.ridge_regression(R, Y * 1e200, 1e-6, intercept=True)
    W1, b1 = rs.ridge_regression(R, Y, 1e-6, intercept=True)
    np.testing.assert_allclose(rs.ridge_regression(R, Y * 1e200, 1e-6) / 1e200, W,
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(W_big / 1e200, W1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b_big / 1e200, b1, rtol=1e-12, atol=1e-14)
