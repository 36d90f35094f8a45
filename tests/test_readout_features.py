"""Readout training features of issue 14: intercept, several sequences, RLS forgetting factor,
feedback noise during teacher forcing (``fit_ridge``, ``ridge_regression``, ``force``).

Every result is checked against an independent computation: the plain-NumPy reference
simulator of ``tests/reference.py`` for the states, ``numpy.linalg.lstsq`` on explicitly
stacked least-squares problems (a column of ones, penalty rows for the weights only,
exponential weights), a closed form with centring, and a plain-NumPy textbook RLS loop
(:func:`rls_reference` below, Haykin's exponentially weighted RLS with explicit matrices).
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reservoir as rs
from reference import PHI, simulate_reference


# --------------------------------------------------------------------------- references
def teacher_rates(net, U, Y, x0, Y_fb=None, noise=None, noise_std=0.0):
    """Teacher-forced rates (T, N) of one trial from the NumPy reference, fed ``Y_fb``
    (default ``Y``)."""
    return simulate_reference(net, U, x0, "teacher", Y if Y_fb is None else Y_fb,
                              noise=noise, noise_std=noise_std)[1]


def lstsq_ridge(R, Y, reg, w=None, intercept=False):
    """``numpy.linalg.lstsq`` of ``[sqrt(w) R (sqrt(w) 1); sqrt(reg) I (0)] [W^T; b] =
    [sqrt(w) Y; 0]``: the ridge readout, penalty on the N weights only. Returns (W, b)."""
    T, N = R.shape
    K = Y.shape[1]
    w = np.ones(T) if w is None else w
    sw = np.sqrt(w)[:, None]
    A = sw * R
    pen = np.sqrt(reg) * np.eye(N)
    if intercept:
        A = np.hstack([A, sw])
        pen = np.hstack([pen, np.zeros((N, 1))])
    sol = np.linalg.lstsq(np.vstack([A, pen]), np.vstack([sw * Y, np.zeros((N, K))]),
                          rcond=None)[0]
    return sol[:N].T, (sol[N] if intercept else np.zeros(K))


def rls_reference(net, U, Y, x0, reg, every, *, lam=1.0, intercept=False, mode="closed",
                  Y_fb=None, P0=None, offset=0, W0=None, b0=None):
    """Textbook exponentially weighted RLS (Haykin, Adaptive Filter Theory) inside the
    Euler loop, explicit (N + 1) x (N + 1) algebra: regressor ``q = [r; 1]`` with an
    intercept, gain ``g = P q / (lam + q^T P q)``, ``[W | b] -= (z - y) g^T``,
    ``P = (P - g q^T P) / lam``; ``z = W r + b`` fed back in closed loop, ``Y_fb[t]`` in
    teacher forcing. Returns W, b, P, x_final, e_minus, e_plus, update steps."""
    J = net.J.toarray() if net.is_sparse else np.asarray(net.J)
    phi = PHI[net.phi]
    a = net.dt / net.tau
    N = net.N
    W = np.array(net.W_out if W0 is None else W0, dtype=float)
    b = np.array(net.b_out if b0 is None else b0, dtype=float)
    Na = N + int(intercept)
    P = np.eye(Na) / reg if P0 is None else np.array(P0, dtype=float)
    x = np.array(x0, dtype=float)
    em, ep, steps = [], [], []
    for t in range(U.shape[0]):
        r = phi(x)
        z = W @ r + b
        tg = offset + t
        if tg > 0 and tg % every == 0:
            q = np.r_[r, 1.0] if intercept else r
            g = P @ q / (lam + q @ P @ q)
            e = z - Y[t]
            W = W - np.outer(e, g[:N])
            if intercept:
                b = b - e * g[N]
            P = (P - np.outer(g, q @ P)) / lam
            em.append(e)
            ep.append(W @ r + b - Y[t])
            steps.append(tg)
        f = {"closed": z, "teacher": (Y if Y_fb is None else Y_fb)[t],
             "open": np.zeros_like(z)}[mode]
        x = (1 - a) * x + a * (J @ r + net.W_in @ U[t] + net.W_fb @ f + net.b)
    return W, b, P, x, np.array(em), np.array(ep), np.array(steps, dtype=int)


def _data(seed, T, M, K, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, M)), scale * rng.standard_normal((T, K))


# ----------------------------------------------------------------- ridge with intercept
@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 25), B=st.integers(1, 3), T=st.integers(6, 40), K=st.integers(1, 2),
       reg=st.sampled_from([1e-3, 0.1, 10.0]), washout=st.integers(0, 4),
       masked=st.booleans(), density=st.sampled_from([1.0, 0.5]),
       seed=st.integers(0, 10_000))
def test_ridge_intercept_equals_lstsq_with_column_of_ones(N, B, T, K, reg, washout, masked,
                                                          density, seed):
    """Intercept fitted, not penalised: equals lstsq on ``[sqrt(w) R, sqrt(w)]`` stacked on
    ``[sqrt(reg) I, 0]`` (penalty rows for the N weights only), states from the NumPy
    reference. Tolerance 1e-7 relative to the solution's size (both backward stable; the
    problems here have cond <= ~1e4)."""
    net = rs.random_network(N, 1.2, 1, K, dt=0.2, density=density, rng=seed)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, 1))
    Y = 2.0 + rng.standard_normal((B, T, K))          # a mean the intercept must take
    X0 = rng.standard_normal((B, N))
    mask = rng.uniform(0.0, 2.0, (B, T)) if masked else None
    fit = rs.fit_ridge(net, U, Y, reg=reg, washout=washout, x0=X0, mask=mask,
                       intercept=True)
    R = np.vstack([teacher_rates(net, U[b], Y[b], X0[b])[washout:] for b in range(B)])
    Yv = Y[:, washout:].reshape(-1, K)
    w = (mask[:, washout:].reshape(-1) if masked else np.ones(len(Yv)))
    W, b = lstsq_ridge(R, Yv, reg, w, intercept=True)
    scale = max(1.0, np.abs(W).max(), np.abs(b).max())
    np.testing.assert_allclose(fit.W_out, W, rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(fit.b_out, b, rtol=0, atol=1e-7 * scale)
    np.testing.assert_array_equal(fit.network.b_out, fit.b_out)
    assert fit.network.has_intercept and fit.success
    resid = R @ fit.W_out.T + fit.b_out - Yv
    np.testing.assert_allclose(fit.train_mse * w.sum(), np.sum(w[:, None] * resid**2, 0),
                               rtol=1e-6, atol=1e-10)
    rec = fit.network.meta["readout_fit"]
    assert rec["intercept"] is True and rec["b_out"] == [float(v) for v in fit.b_out]


def test_ridge_intercept_at_zero_penalty_svd_path_recovers_an_affine_readout():
    """reg = 0 (the SVD path): a target that is exactly ``W* r + b*`` on the states used
    is recovered (W* and b* to 1e-8 relative, cond of the centred rates ~1e3 here)."""
    net = rs.random_network(30, 0.9, 1, 2, dt=0.2, feedback_scale=0.0, rng=4)
    rng = np.random.default_rng(0)
    U = rng.uniform(-1, 1, (400, 1))
    R = teacher_rates(net, U, np.zeros((400, 2)), np.zeros(30))
    W_true = rng.standard_normal((2, 30))
    b_true = np.array([3.0, -1.5])
    Y = R @ W_true.T + b_true                     # W_fb = 0: the states ignore Y
    fit = rs.fit_ridge(net, U, Y, reg=0.0, washout=20, intercept=True)
    assert fit.solver == "svd" and fit.rank == 30
    np.testing.assert_allclose(fit.b_out, b_true, rtol=1e-8)
    np.testing.assert_allclose(fit.W_out, W_true, rtol=0, atol=1e-8 * np.abs(W_true).max())
    assert fit.train_mse.max() < 1e-20
    # without an intercept the same problem is not solved exactly
    plain = rs.fit_ridge(net, U, Y, reg=0.0, washout=20)
    assert plain.train_mse.min() > 1e3 * fit.train_mse.max()
    assert not plain.network.has_intercept


@settings(max_examples=30, deadline=None)
@given(T=st.integers(3, 50), N=st.integers(1, 12), K=st.integers(1, 3),
       reg=st.sampled_from([0.0, 1e-6, 1.0]), weighted=st.booleans(),
       seed=st.integers(0, 10_000))
def test_ridge_regression_intercept_equals_centred_closed_form(T, N, K, reg, weighted, seed):
    """Closed form: with weighted means ``rbar``, ``ybar``, ``W`` is the ridge readout of
    the centred data and ``b = ybar - W rbar`` (solved here by the normal equations of the
    centred data, a different method: agreement to 1e-7 of the solution's size when the
    problem is well conditioned, else the objective)."""
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((T, N)) + rng.standard_normal(N)
    Y = rng.standard_normal((T, K)) + 5.0
    w = rng.uniform(0.1, 2.0, T) if weighted else np.ones(T)
    W, b = rs.ridge_regression(R, Y, reg, w if weighted else None, intercept=True)
    rbar = w @ R / w.sum()
    ybar = w @ Y / w.sum()
    Rc, Yc = R - rbar, Y - ybar
    G = Rc.T @ (w[:, None] * Rc) + reg * np.eye(N)

    def objective(Wm, bm):
        res = R @ Wm.T + bm - Y
        return np.sum(w[:, None] * res**2) + reg * np.sum(Wm**2)

    if np.linalg.cond(G) < 1e6:
        W_ref = np.linalg.solve(G, Rc.T @ (w[:, None] * Yc)).T
        b_ref = ybar - W_ref @ rbar
        scale = max(1.0, np.abs(W_ref).max(), np.abs(b_ref).max())
        np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-7 * scale)
        np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-7 * scale)
    # optimal (the lstsq solution of the stacked problem is the reference minimiser)
    W_ls, b_ls = lstsq_ridge(R, Y, reg, w, intercept=True)
    assert objective(W, b) <= objective(W_ls, b_ls) * (1 + 1e-9) + 1e-12
    # without an intercept: the plain readout, unchanged return type
    assert isinstance(rs.ridge_regression(R, Y, reg), np.ndarray)


def test_ridge_intercept_bad_input():
    net = rs.random_network(5, 1.0, 1, 1, rng=0)
    U, Y = np.zeros((10, 1)), np.zeros((10, 1))
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match="intercept"):
            rs.fit_ridge(net, U, Y, intercept=bad)
        with pytest.raises(TypeError, match="intercept"):
            rs.ridge_regression(np.ones((4, 2)), np.ones((4, 1)), 0.1, intercept=bad)
    with pytest.raises(ValueError, match="weights"):
        rs.ridge_regression(np.ones((4, 2)), np.ones((4, 1)), 0.1, np.zeros(4),
                            intercept=True)


def test_ridge_intercept_survives_save_load(tmp_path):
    net = rs.random_network(20, 0.8, 1, 1, dt=0.2, rng=0)
    U, Y = _data(1, 120, 1, 1)
    fit = rs.fit_ridge(net, U, Y + 4.0, reg=1e-3, intercept=True)
    rs.save(fit.network, tmp_path / "n.npz")
    back = rs.load(tmp_path / "n.npz")
    np.testing.assert_array_equal(back.b_out, fit.b_out)
    assert back == fit.network and back.meta["readout_fit"]["intercept"] is True


# --------------------------------------------------------------------------- trials
@settings(max_examples=20, deadline=None)
@given(lengths=st.lists(st.integers(5, 30), min_size=1, max_size=5), N=st.integers(1, 20),
       K=st.integers(1, 2), reg=st.sampled_from([1e-3, 1.0]), washout=st.integers(0, 4),
       intercept=st.booleans(), per_trial_x0=st.booleans(), masked=st.booleans(),
       seed=st.integers(0, 10_000))
def test_fit_ridge_on_a_list_equals_ridge_on_concatenated_trials(lengths, N, K, reg, washout,
                                                                 intercept, per_trial_x0,
                                                                 masked, seed):
    """A list of trials of different lengths (each from x0, washout per trial) gives the
    ridge solution (lstsq, 1e-7 of its size) on the concatenated rates of separate NumPy
    reference runs; x_final holds each trial's final state in list order."""
    net = rs.random_network(N, 1.1, 2, K, dt=0.2, rng=seed)
    rng = np.random.default_rng(seed)
    Us = [rng.standard_normal((T, 2)) for T in lengths]
    Ys = [rng.standard_normal((T, K)) + 1.0 for T in lengths]
    n = len(lengths)
    X0 = rng.standard_normal((n, N)) if per_trial_x0 else rng.standard_normal(N)
    masks = [rng.uniform(0, 1, T) for T in lengths] if masked else None
    fit = rs.fit_ridge(net, Us, Ys, reg=reg, washout=washout, x0=X0, mask=masks,
                       intercept=intercept)
    starts = X0 if per_trial_x0 else np.repeat(X0[None], n, 0)
    Rs, finals = [], []
    for i in range(n):
        _, r, _, xf = simulate_reference(net, Us[i], starts[i], "teacher", Ys[i])
        Rs.append(r[washout:])
        finals.append(xf)
    R = np.vstack(Rs)
    Yv = np.vstack([Y[washout:] for Y in Ys])
    w = np.concatenate([m[washout:] for m in masks]) if masked else None
    W, b = lstsq_ridge(R, Yv, reg, w, intercept=intercept)
    scale = max(1.0, np.abs(W).max(), np.abs(b).max())
    np.testing.assert_allclose(fit.W_out, W, rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(fit.b_out, b, rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(fit.x_final, np.array(finals), rtol=1e-9, atol=1e-10)
    assert fit.x_final.shape == (n, N)
    assert fit.n_samples == pytest.approx(len(Yv) if w is None else w.sum())


def test_fit_ridge_list_of_equal_trials_is_the_batch_bit_for_bit():
    """Trials of equal length run as the batch: the same bits as the (B, T, .) arrays,
    state noise included (the documented draw order is that of the batch)."""
    net = rs.random_network(25, 1.3, 1, 1, dt=0.1, rng=0)
    rng = np.random.default_rng(1)
    U = rng.standard_normal((3, 50, 1))
    Y = rng.standard_normal((3, 50, 1))
    a = rs.fit_ridge(net, U, Y, reg=1e-2, washout=5, noise_std=0.1, rng=7)
    b = rs.fit_ridge(net, list(U), list(Y), reg=1e-2, washout=5, noise_std=0.1, rng=7)
    np.testing.assert_array_equal(a.W_out, b.W_out)
    np.testing.assert_array_equal(a.x_final, b.x_final)


def test_fit_ridge_trials_bad_input():
    net = rs.random_network(6, 1.0, 1, 1, rng=0)
    Ys = [np.zeros((10, 1)), np.zeros((7, 1))]
    Us = [np.zeros((10, 1)), np.zeros((7, 1))]
    cases = [
        (dict(targets=[]), ValueError, "at least one trial"),
        (dict(targets=[np.zeros((10, 1)), np.zeros((7, 2))]), ValueError, r"targets\[1\]"),
        (dict(targets=[np.zeros((10, 1)), np.full((7, 1), np.nan)]), ValueError,
         r"targets\[1\]"),
        (dict(inputs=np.zeros((10, 1))), TypeError, "inputs"),
        (dict(inputs=Us[:1]), ValueError, "inputs"),
        (dict(inputs=[np.zeros((10, 1)), np.zeros((6, 1))]), ValueError, r"inputs\[1\]"),
        (dict(inputs=[np.zeros((10, 1)), np.zeros((7, 3))]), ValueError, r"inputs\[1\]"),
        (dict(washout=7), ValueError, "washout"),
        (dict(n_steps=10), ValueError, "n_steps"),
        (dict(x0=np.zeros((3, 6))), ValueError, "x0"),
        (dict(mask=[np.ones(10), np.ones(6)]), ValueError, r"mask\[1\]"),
        (dict(mask=[np.ones(10), -np.ones(7)]), ValueError, r"mask\[1\]"),
        (dict(mask=np.ones(10)), TypeError, "mask"),
        (dict(mask=[np.ones(10), np.zeros(7)], washout=0,
              targets=[np.zeros((10, 1)), np.zeros((7, 1))],
              inputs=None), None, None),
        (dict(mask=[np.zeros(10), np.zeros(7)]), ValueError, "no samples"),
    ]
    for override, exc, word in cases:
        kwargs = dict(inputs=Us, targets=Ys)
        kwargs.update(override)
        if exc is None:
            assert rs.fit_ridge(net, **kwargs).success
            continue
        with pytest.raises(exc, match=word):
            rs.fit_ridge(net, **kwargs)


# ------------------------------------------------------------------ feedback noise (ridge)
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("noise_std", [0.0, 0.05])
def test_fit_ridge_feedback_noise_equals_numpy_loop_fed_noisy_targets(B, noise_std):
    """States of a NumPy teacher-forced loop fed ``y + sigma xi`` with the documented
    draws (feedback noise (B, T, K) first, then the state noise (B, T, N), one chunk);
    the regression target stays the clean y (lstsq on those states, 1e-7)."""
    net = rs.random_network(20, 1.2, 1, 2, dt=0.2, feedback_scale=1.0, rng=3)
    T, K, sigma, seed = 80, 2, 0.3, 11
    rng = np.random.default_rng(0)
    U = rng.standard_normal((B, T, 1))
    Y = rng.standard_normal((B, T, K))
    fit = rs.fit_ridge(net, U, Y, reg=1e-2, washout=5, feedback_noise_std=sigma,
                       noise_std=noise_std, rng=seed)
    gen = np.random.default_rng(seed)
    xi = gen.standard_normal((B, T, K))
    state = gen.standard_normal((B, T, net.N)) if noise_std > 0 else [None] * B
    R = np.vstack([teacher_rates(net, U[b], Y[b], np.zeros(net.N), Y_fb=Y[b] + sigma * xi[b],
                                 noise=state[b], noise_std=noise_std)[5:]
                   for b in range(B)])
    W, _ = lstsq_ridge(R, Y[:, 5:].reshape(-1, K), 1e-2)
    np.testing.assert_allclose(fit.W_out, W, rtol=0, atol=1e-7 * max(1, np.abs(W).max()))
    assert fit.network.meta["readout_fit"]["feedback_noise_std"] == sigma
    # the noise matters: the clean fit differs
    clean = rs.fit_ridge(net, U, Y, reg=1e-2, washout=5, noise_std=noise_std, rng=seed)
    assert np.abs(clean.W_out - fit.W_out).max() > 1e-3
    # sigma = 0 is "off", bit for bit (no draw is made)
    zero = rs.fit_ridge(net, U, Y, reg=1e-2, washout=5, feedback_noise_std=0.0,
                        noise_std=noise_std, rng=seed)
    np.testing.assert_array_equal(zero.W_out, clean.W_out)
    np.testing.assert_array_equal(zero.x_final, clean.x_final)


def test_fit_ridge_feedback_noise_matches_simulate_teacher_states():
    """The same option in :func:`reservoir.simulate` (same name, same draws): the fitted
    readout equals ridge on simulate's noisy teacher-forced rates (1e-8)."""
    net = rs.random_network(15, 1.0, 1, 1, dt=0.2, rng=5)
    U, Y = _data(2, 60, 1, 1)
    fit = rs.fit_ridge(net, U, Y, reg=1e-2, feedback_noise_std=0.2, rng=3)
    tr = rs.simulate(net, U, mode="teacher", targets=Y, feedback_noise_std=0.2, rng=3)
    W, _ = lstsq_ridge(tr.r, Y, 1e-2)
    np.testing.assert_allclose(fit.W_out, W, rtol=0, atol=1e-8 * max(1, np.abs(W).max()))
    np.testing.assert_allclose(fit.x_final, tr.x_final, rtol=1e-12, atol=1e-12)


def test_feedback_noise_bad_input():
    net = rs.random_network(5, 1.0, 1, 1, rng=0)
    U, Y = np.zeros((10, 1)), np.zeros((10, 1))
    for bad, exc in ((-0.1, ValueError), (np.inf, ValueError), (np.nan, ValueError),
                     ("x", TypeError)):
        with pytest.raises(exc, match="feedback_noise_std"):
            rs.fit_ridge(net, U, Y, feedback_noise_std=bad)
        with pytest.raises(exc, match="feedback_noise_std"):
            rs.force(net, U, Y, x0=np.zeros(5), mode="teacher", feedback_noise_std=bad)
    for mode in ("closed", "open"):
        with pytest.raises(ValueError, match="feedback_noise_std"):
            rs.force(net, U, Y, x0=np.zeros(5), mode=mode, feedback_noise_std=0.1)


# --------------------------------------------------------------------------------- FORCE
@settings(max_examples=25, deadline=None)
@given(N=st.integers(2, 20), T=st.integers(3, 60), k=st.integers(1, 3), K=st.integers(1, 2),
       reg=st.sampled_from([0.1, 1.0, 10.0]), lam=st.sampled_from([1.0, 0.99, 0.9]),
       intercept=st.booleans(), mode=st.sampled_from(["closed", "teacher", "open"]),
       density=st.sampled_from([1.0, 0.5]), seed=st.integers(0, 10_000))
def test_force_equals_textbook_rls_loop(N, T, k, K, reg, lam, intercept, mode, density, seed):
    """The kernel (lazy downdates, in place) against the textbook loop with the augmented
    regressor ``[r; 1]``, forgetting factor and the three feedback modes (closed loop feeds
    back ``z`` including ``b_out``): readout, intercept, P, state and errors to 1e-9."""
    net = rs.random_network(N, 1.3, 1, K, dt=0.1, density=density, rng=seed)
    rng = np.random.default_rng(seed)
    net = net.with_readout(0.1 * rng.standard_normal((K, N)), 0.2 * rng.standard_normal(K))
    U = rng.standard_normal((T, 1))
    Y = rng.standard_normal((T, K))
    x0 = rng.standard_normal(N)
    res = rs.force(net, U, Y, reg=reg, update_every=k, x0=x0, return_P=True,
                   intercept=intercept, forgetting=lam, mode=mode)
    W, b, P, x, em, ep, steps = rls_reference(net, U, Y, x0, reg, k, lam=lam,
                                              intercept=intercept, mode=mode)
    tol = dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.network.W_out, W, **tol)
    np.testing.assert_allclose(res.network.b_out, b, **tol)
    np.testing.assert_array_equal(res.b_out, res.network.b_out)
    np.testing.assert_allclose(res.P, P, rtol=1e-9, atol=1e-9 * np.abs(P).max())
    np.testing.assert_allclose(res.x_final, x, **tol)
    np.testing.assert_array_equal(res.update_steps, steps)
    np.testing.assert_allclose(res.error_before.reshape(-1, K), em.reshape(-1, K), **tol)
    np.testing.assert_allclose(res.error_after.reshape(-1, K), ep.reshape(-1, K), **tol)
    assert res.P.shape == (N + intercept,) * 2
    np.testing.assert_array_equal(res.P, res.P.T)
    if not intercept:       # the network's own intercept is kept, not trained
        np.testing.assert_array_equal(res.network.b_out, net.b_out)


def test_force_intercept_P_is_inverse_of_augmented_correlation():
    """P = (sum q q^T + reg I)^-1 with q = [r; 1] over the update steps (rates from a
    NumPy reference run, W_fb = 0), exactly symmetric and positive definite."""
    N, T, reg = 25, 300, 0.5
    net = rs.random_network(N, 1.2, 1, 1, dt=0.2, feedback_scale=0.0, rng=2)
    U, Y = _data(3, T, 1, 1)
    res = rs.force(net, U, Y, reg=reg, update_every=1, x0=np.zeros(N), intercept=True,
                   return_P=True)
    R = simulate_reference(net, U, np.zeros(N), "open")[1][res.update_steps]
    Q = np.hstack([R, np.ones((len(R), 1))])
    A = Q.T @ Q + reg * np.eye(N + 1)
    np.testing.assert_array_equal(res.P, res.P.T)
    assert np.linalg.eigvalsh(res.P).min() > 0
    np.testing.assert_allclose(res.P @ A, np.eye(N + 1), atol=1e-8 * np.linalg.cond(A))


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("lam", [1.0, 0.995, 0.97])
def test_forgetting_rls_equals_exponentially_weighted_ridge(lam, intercept):
    """Teacher-forced RLS with forgetting factor lambda, W(0) = 0, b(0) = 0,
    P(0) = I / reg, after n updates equals the exponentially weighted ridge readout:
    weights lambda^(n-1-j) on update j and penalty lambda^n reg I (on [W | b]), solved
    by lstsq on the same states (NumPy reference run, fed the target). Tolerance: 1e-9
    of the solution's size (measured <= 5e-12: RLS rounding grows with cond(A) <= 260 and
    with 1 / lambda); P against the inverse of the weighted correlation G to 1e-12 cond(G)
    (measured <= 3e-15 cond(G))."""
    N, K, T, reg = 20, 2, 400, 1.0
    net = rs.random_network(N, 1.2, 1, K, dt=0.2, feedback_scale=1.0, rng=6)
    U, Y = _data(4, T, 1, K)
    Y = Y + 1.0
    res = rs.force(net, U, Y, reg=reg, update_every=1, x0=np.zeros(N), mode="teacher",
                   forgetting=lam, intercept=intercept, return_P=True)
    R = teacher_rates(net, U, Y, np.zeros(N))[res.update_steps]
    Q = np.hstack([R, np.ones((len(R), 1))]) if intercept else R
    n = len(Q)
    w = lam ** (n - 1 - np.arange(n))
    pen = lam**n * reg
    A = np.vstack([np.sqrt(w)[:, None] * Q, np.sqrt(pen) * np.eye(Q.shape[1])])
    rhs = np.vstack([np.sqrt(w)[:, None] * Y[res.update_steps], np.zeros((Q.shape[1], K))])
    theta = np.linalg.lstsq(A, rhs, rcond=None)[0].T
    scale = np.abs(theta).max()
    np.testing.assert_allclose(res.network.W_out, theta[:, :N], rtol=0, atol=1e-9 * scale)
    if intercept:
        np.testing.assert_allclose(res.b_out, theta[:, N], rtol=0, atol=1e-9 * scale)
    G = A.T @ A
    np.testing.assert_allclose(res.P @ G, np.eye(len(G)), atol=1e-12 * np.linalg.cond(G))
    np.testing.assert_array_equal(res.P, res.P.T)
    # a posteriori error: e+ = e- lambda / (lambda + q^T P_old q): same sign, smaller
    em, ep = res.error_before, res.error_after
    nz = np.abs(em) > 1e-12
    assert np.all(np.sign(em[nz]) == np.sign(ep[nz]))
    assert np.all(np.abs(ep) <= np.abs(em) + 1e-15)


def test_forgetting_one_is_the_default_bit_for_bit_and_bad_values_are_refused():
    net = rs.random_network(30, 1.5, 1, 1, dt=0.1, rng=0)
    U, Y = _data(0, 200, 1, 1)
    a = rs.force(net, U, Y, x0=np.zeros(30), return_P=True)
    b = rs.force(net, U, Y, x0=np.zeros(30), return_P=True, forgetting=1.0, mode="closed",
                 intercept=False, feedback_noise_std=0.0, reset_state=False)
    np.testing.assert_array_equal(a.network.W_out, b.network.W_out)
    np.testing.assert_array_equal(a.P, b.P)
    for bad, exc in ((0.0, ValueError), (-0.5, ValueError), (1.0 + 1e-12, ValueError),
                     (np.nan, ValueError), (np.inf, ValueError), ("0.9", TypeError),
                     (True, TypeError)):
        with pytest.raises(exc, match="forgetting"):
            rs.force(net, U, Y, x0=np.zeros(30), forgetting=bad)


def test_forgetting_overflow_of_P_is_reported():
    """lambda small and no excitation along most directions (a constant rate vector,
    W_fb = 0, zero input): P grows by 1/lambda per update and overflows; the run raises
    instead of returning inf/NaN."""
    N = 10
    net = rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.ones(N), phi="tanh", dt=1.0, tau=1.0)
    with pytest.raises(FloatingPointError, match="forgetting"):
        rs.force(net, None, np.ones((2000, 1)), x0=np.zeros(N), update_every=1,
                 forgetting=0.5)


def test_force_teacher_feedback_noise_equals_numpy_rls_fed_noisy_targets():
    """Teacher-forced RLS fed y + sigma xi (xi drawn after x0 from rng, one (T, K) array
    per trial), errors against the clean y; sigma = 0 equals off bit for bit."""
    N, T, K, sigma = 15, 150, 1, 0.2
    net = rs.random_network(N, 1.2, 1, K, dt=0.2, rng=8)
    U, Y = _data(5, T, 1, K)
    res = rs.force(net, U, Y, reg=1.0, update_every=1, mode="teacher",
                   feedback_noise_std=sigma, rng=9, intercept=True, return_P=True)
    gen = np.random.default_rng(9)
    x0 = 0.5 * gen.standard_normal(N)
    xi = gen.standard_normal((T, K))
    W, b, P, x, em, _, _ = rls_reference(net, U, Y, x0, 1.0, 1, intercept=True,
                                         mode="teacher", Y_fb=Y + sigma * xi)
    np.testing.assert_allclose(res.network.W_out, W, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.b_out, b, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.x_final, x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.error_before, em, atol=1e-9)
    off = rs.force(net, U, Y, reg=1.0, update_every=1, mode="teacher", rng=9,
                   intercept=True, return_P=True)
    zero = rs.force(net, U, Y, reg=1.0, update_every=1, mode="teacher", rng=9,
                    intercept=True, return_P=True, feedback_noise_std=0.0)
    np.testing.assert_array_equal(off.network.W_out, zero.network.W_out)
    np.testing.assert_array_equal(off.x_final, zero.x_final)
    assert np.abs(off.network.W_out - res.network.W_out).max() > 1e-4


@pytest.mark.parametrize("reset", [False, True])
def test_force_over_a_list_equals_trial_by_trial_with_carried_P_and_state(reset):
    """A list of trials in one call equals force on each trial in turn with the previous
    P, network and step_offset, and the previous x_final (or x0 with reset_state) as the
    start (to 1e-10: the split calls apply the last downdate before the next sweep)."""
    net = rs.random_network(30, 1.4, 1, 1, dt=0.1, rng=1)
    rng = np.random.default_rng(2)
    lengths = [37, 50, 23]
    Us = [rng.standard_normal((T, 1)) for T in lengths]
    Ys = [np.sin(0.1 * np.arange(T))[:, None] for T in lengths]
    x0 = rng.standard_normal(30)
    kw = dict(reg=1.0, update_every=2, intercept=True, forgetting=0.999, return_P=True)
    res = rs.force(net, Us, Ys, x0=x0, reset_state=reset, **kw)
    cur, x, P, offset, errs = net, x0, None, 0, []
    for U, Y in zip(Us, Ys):
        part = rs.force(cur, U, Y, x0=x0 if reset else x, P0=P, step_offset=offset, **kw)
        cur, x, P, offset = part.network, part.x_final, part.P, offset + len(U)
        errs.append(part.error_before)
    np.testing.assert_allclose(res.network.W_out, cur.W_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.b_out, cur.b_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.P, P, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.x_final, x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.error_before, np.vstack(errs), atol=1e-10)
    assert res.n_trials == 3 and res.n_steps == sum(lengths)
    if not reset:   # continuing the state: the concatenated run, bit for bit
        whole = rs.force(net, np.vstack(Us), np.vstack(Ys), x0=x0, **kw)
        np.testing.assert_array_equal(res.network.W_out, whole.network.W_out)
        np.testing.assert_array_equal(res.P, whole.P)
        np.testing.assert_array_equal(res.x_final, whole.x_final)


def test_force_reset_state_with_one_start_per_trial_and_teacher_rls_equals_ridge():
    """Teacher-forced RLS over trials restarted from their own rows of x0 equals ridge on
    the rates of the update steps (``[R, 1]``, RLS penalising the intercept by reg too) to
    1e-8: the RLS identity over several sequences; fit_ridge on the same list with
    mask = update steps gives the ridge readout of the same rates."""
    N = 20
    net = rs.random_network(N, 1.2, 1, 1, dt=0.2, rng=3)
    rng = np.random.default_rng(4)
    lengths = [40, 25, 60]
    Us = [rng.standard_normal((T, 1)) for T in lengths]
    Ys = [rng.standard_normal((T, 1)) for T in lengths]
    X0 = rng.standard_normal((3, N))
    res = rs.force(net, Us, Ys, reg=0.5, update_every=1, x0=X0, reset_state=True,
                   mode="teacher", intercept=True)
    starts = np.cumsum([0] + lengths[:-1])
    masks = [np.isin(np.arange(T) + s, res.update_steps).astype(float)
             for T, s in zip(lengths, starts)]
    # RLS penalises the intercept too: reproduce with lstsq on [R, 1] and reg on both
    R = np.vstack([teacher_rates(net, U, Y, x)[m > 0] for U, Y, x, m in
                   zip(Us, Ys, X0, masks)])
    Yv = np.vstack([Y[m > 0] for Y, m in zip(Ys, masks)])
    Q = np.hstack([R, np.ones((len(R), 1))])
    theta = np.linalg.solve(Q.T @ Q + 0.5 * np.eye(N + 1), Q.T @ Yv).T
    np.testing.assert_allclose(res.network.W_out, theta[:, :N], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.b_out, theta[:, N], rtol=1e-8, atol=1e-10)
    # fit_ridge on the same list of trials and masks (no intercept): ridge on those rates
    fit = rs.fit_ridge(net, Us, Ys, reg=0.5, x0=X0, mask=masks)
    W_ridge = np.linalg.solve(R.T @ R + 0.5 * np.eye(N), R.T @ Yv).T
    np.testing.assert_allclose(fit.W_out, W_ridge, rtol=1e-8, atol=1e-10)


def test_force_trials_and_new_options_bad_input():
    net = rs.random_network(6, 1.0, 1, 1, rng=0)
    Ys = [np.zeros((10, 1)), np.zeros((7, 1))]
    Us = [np.zeros((10, 1)), np.zeros((7, 1))]
    cases = [
        (dict(targets=[]), ValueError, "at least one trial"),
        (dict(targets=[np.zeros((10, 1)), np.zeros((7, 2))]), ValueError, r"targets\[1\]"),
        (dict(inputs=np.zeros((10, 1))), TypeError, "inputs"),
        (dict(inputs=[np.zeros((10, 1)), np.zeros((6, 1))]), ValueError, r"inputs\[1\]"),
        (dict(x0=np.zeros((2, 6))), ValueError, "x0"),           # rows need reset_state
        (dict(x0=np.zeros((3, 6)), reset_state=True), ValueError, "x0"),
        (dict(reset_state=1), TypeError, "reset_state"),
        (dict(intercept="no"), TypeError, "intercept"),
        (dict(mode="teach"), ValueError, "mode"),
        (dict(mode=2), TypeError, "mode"),
        (dict(P0=np.eye(6), intercept=True), ValueError, "P0"),
        (dict(P0=np.eye(7)), ValueError, "P0"),
    ]
    for override, exc, word in cases:
        kwargs = dict(inputs=Us, targets=Ys, x0=np.zeros(6))
        kwargs.update(override)
        with pytest.raises(exc, match=word):
            rs.force(net, **kwargs)
    ok = rs.force(net, Us, Ys, x0=np.zeros((2, 6)), reset_state=True, P0=np.eye(7),
                  intercept=True)
    assert ok.success and ok.n_trials == 2


# ---------------------------------------------------------------- review findings
def test_intercept_with_constant_rates_gives_zero_weights_and_the_mean():
    """Constant rates (a fixed-point task after the washout): the centred rates are zero up
    to rounding, so at reg = 0 the minimum-norm readout is W = 0 and b = mean(y) (the
    cutoff is relative to the uncentred rates, as lstsq on [1, R] would take it)."""
    from reservoir.train import ridge_regression
    r0 = np.tanh(np.random.default_rng(0).standard_normal(20))
    R = np.tile(r0, (300, 1))
    y = np.full((300, 1), 2.0)
    W, b = ridge_regression(R, y, 0.0, intercept=True)
    assert np.all(W == 0.0)
    np.testing.assert_allclose(b, [2.0], rtol=1e-14)
    net = rs.random_network(N=60, g=0.5, n_inputs=1, n_outputs=1, input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=1)
    task = rs.tasks.stationary(target=2.0, duration=100.0, dt=0.1, washout=60.0)
    fit = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=0.0,
                       intercept=True)
    # independent: lstsq on the centred rates of the used samples (spread below rounding)
    assert fit.rank == 0 and np.all(fit.W_out == 0.0)
    np.testing.assert_allclose(fit.b_out, [2.0], rtol=1e-12)


def test_array_inputs_with_nested_list_targets_are_a_batch_as_before():
    net = rs.random_network(N=20, g=0.8, n_inputs=1, n_outputs=1, rng=0)
    U = np.random.default_rng(1).standard_normal((2, 50, 1))
    Y = np.repeat(np.sin(np.arange(50) * 0.1)[None, :, None], 2, axis=0)
    ref = rs.fit_ridge(net, U, Y, washout=5)
    for Yl in (Y.tolist(), list(Y)):
        got = rs.fit_ridge(net, U, Yl, washout=5)
        np.testing.assert_array_equal(got.W_out, ref.W_out)


def test_force_refuses_an_indefinite_P0():
    net = rs.random_network(N=20, g=0.8, n_inputs=1, n_outputs=1, rng=0)
    U = np.zeros((30, 1))
    Y = np.ones((30, 1))
    P0 = np.eye(20)
    P0[0, 0] = -0.01
    with pytest.raises(ValueError, match="P0 must be positive definite"):
        rs.force(net, U, Y, P0=P0, mode="teacher")
    with pytest.raises(ValueError, match=r"forgetting must be in \(0, 1\]"):
        rs.force(net, U, Y, forgetting=1.5)
