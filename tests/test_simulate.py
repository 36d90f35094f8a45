import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reservoir as rs
from helpers import assert_rejects, closed_loop_states_numpy
from reference import simulate_reference


def _net(N, M, K, phi, density, g, seed, alpha=0.3, bias=0.2):
    net = rs.random_network(N, g, M, K, phi=phi, dt=alpha, tau=1.0, density=density,
                            bias_scale=bias, rng=seed)
    W_out = np.random.default_rng(seed + 1).standard_normal((K, N)) / N
    return net.with_readout(W_out)


def _close(a, b, rel=1e-12):
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=rel, atol=rel * scale)


@given(N=st.integers(1, 40), B=st.integers(1, 4), T=st.integers(1, 30), M=st.integers(0, 2),
       K=st.integers(1, 2), phi=st.sampled_from(["tanh", "relu", "sigmoid"]),
       density=st.sampled_from([1.0, 0.3]), mode=st.sampled_from(["open", "teacher", "closed"]),
       alpha=st.sampled_from([0.1, 0.5, 1.0]), seed=st.integers(0, 1000))
def test_kernels_equal_numpy_reference(N, B, T, M, K, phi, density, mode, alpha, seed):
    g = 0.9 if phi == "relu" else 1.4
    net = _net(N, M, K, phi, density, g, seed, alpha=alpha)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, M))
    Y = rng.standard_normal((B, T, K))
    X0 = rng.standard_normal((B, N))
    tr = rs.simulate(net, U, X0, mode=mode, targets=Y)
    assert tr.x.shape == (B, T, N) and tr.z.shape == (B, T, K) and tr.x_final.shape == (B, N)
    for b in range(B):
        x, r, z, xf = simulate_reference(net, U[b], X0[b], mode, Y[b])
        _close(tr.x[b], x)
        _close(tr.r[b], r)
        _close(tr.z[b], z)
        _close(tr.x_final[b], xf)


@given(N=st.integers(2, 30), T=st.integers(1, 20), density=st.sampled_from([1.0, 0.4]),
       seed=st.integers(0, 100))
def test_noise_equals_reference_with_the_same_draws(N, T, density, seed):
    net = _net(N, 1, 1, "tanh", density, 1.2, seed)
    U = np.ones((T, 1))
    tr = rs.simulate(net, U, np.zeros(N), mode="closed", noise_std=0.3, rng=seed)
    noise = np.random.default_rng(seed).standard_normal((1, T, N))[0]
    x, r, z, xf = simulate_reference(net, U, np.zeros(N), "closed", noise=noise, noise_std=0.3)
    _close(tr.x, x)
    _close(tr.x_final, xf)


@pytest.mark.parametrize("density", [1.0, 0.2])
def test_batch_trial_equals_trial_run_alone(density):
    net = _net(50, 2, 2, "tanh", density, 1.5, 7)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((5, 40, 2))
    X0 = rng.standard_normal((5, 50))
    batch = rs.simulate(net, U, X0, mode="closed")
    for i in range(5):
        alone = rs.simulate(net, U[i], X0[i], mode="closed")
        np.testing.assert_allclose(batch.x[i], alone.x, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(batch.z[i], alone.z, rtol=1e-12, atol=1e-12)


def test_same_seed_bit_identical_and_different_seed_differs():
    net = _net(60, 1, 1, "tanh", 1.0, 1.5, 1)
    a = rs.simulate(net, np.zeros((3, 50, 1)), mode="closed", noise_std=0.1, rng=5)
    b = rs.simulate(net, np.zeros((3, 50, 1)), mode="closed", noise_std=0.1, rng=5)
    c = rs.simulate(net, np.zeros((3, 50, 1)), mode="closed", noise_std=0.1, rng=6)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    # trials of a batch receive independent noise
    assert not np.array_equal(a.x[0], a.x[1])


@pytest.mark.parametrize("density", [1.0, 0.3])
def test_continuation_from_x_final_equals_one_long_run(density):
    net = _net(40, 1, 1, "tanh", density, 1.5, 3)
    U = np.random.default_rng(1).standard_normal((70, 1))
    x0 = np.random.default_rng(2).standard_normal(40)
    whole = rs.simulate(net, U, x0, mode="closed")
    first = rs.simulate(net, U[:30], x0, mode="closed")
    second = rs.simulate(net, U[30:], first.x_final, mode="closed")
    np.testing.assert_array_equal(np.vstack([first.x, second.x]), whole.x)
    np.testing.assert_array_equal(second.x_final, whole.x_final)


def test_teacher_mode_with_own_output_equals_closed_loop():
    """Feeding back the closed-loop readout as the teacher reproduces the closed loop:
    the teacher value for step t is y[t], aligned with z[t]."""
    net = _net(30, 1, 1, "tanh", 1.0, 1.2, 4)
    U = np.random.default_rng(3).standard_normal((40, 1))
    closed = rs.simulate(net, U, np.ones(30) * 0.1, mode="closed")
    teach = rs.simulate(net, U, np.ones(30) * 0.1, mode="teacher", targets=closed.z)
    np.testing.assert_array_equal(teach.x, closed.x)


def test_open_mode_ignores_readout():
    net = _net(30, 1, 1, "tanh", 1.0, 1.2, 4)
    U = np.random.default_rng(3).standard_normal((20, 1))
    a = rs.simulate(net, U, mode="open")
    b = rs.simulate(net.with_readout(np.zeros((1, 30))), U, mode="open")
    np.testing.assert_array_equal(a.x, b.x)


def test_record_subset_and_time_axis():
    net = _net(10, 1, 1, "tanh", 1.0, 1.0, 0)
    tr = rs.simulate(net, np.zeros((12, 1)), mode="closed", record=("z",))
    assert tr.x is None and tr.r is None and tr.z.shape == (12, 1)
    np.testing.assert_allclose(tr.t, np.arange(12) * net.dt)


def test_inputs_none_uses_n_steps_and_x0_batch_broadcasts_inputs():
    net = _net(10, 0, 1, "tanh", 1.0, 1.0, 0)
    tr = rs.simulate(net, None, np.ones((3, 10)), mode="closed", n_steps=7)
    assert tr.x.shape == (3, 7, 10)


def test_noise_stationary_variance_matches_euler_maruyama():
    """Uncoupled leaky units: x' = (1-a) x + sigma sqrt(a) xi has variance
    sigma^2 a / (1 - (1-a)^2) = sigma^2 / (2 - a)."""
    N, a, sigma = 400, 0.2, 0.7
    net = rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.zeros(N), dt=a, tau=1.0)
    tr = rs.simulate(net, None, mode="open", n_steps=3000, noise_std=sigma, rng=0,
                     record=("x",))
    var = tr.x[200:].var()
    assert abs(var / (sigma**2 / (2 - a)) - 1) < 0.03


def test_activity_decays_for_g_below_one_and_stays_irregular_above():
    """Sompolinsky-Crisanti-Sommers: x = 0 is the attractor for g < 1; chaos for g > 1."""
    x0 = np.random.default_rng(0).standard_normal(1000)
    quiet = rs.random_network(1000, 0.8, 0, 1, dt=0.1, rng=0)
    tr = rs.simulate(quiet, None, x0, mode="open", n_steps=1000, record=("x",))
    assert np.abs(tr.x_final).max() < 1e-4
    x0 = np.random.default_rng(0).standard_normal(2000)
    chaotic = rs.random_network(2000, 1.5, 0, 1, dt=0.1, rng=0)
    tr = rs.simulate(chaotic, None, x0, mode="open", n_steps=4000, record=("x",))
    late = tr.x[2000:]
    # activity keeps fluctuating with the dynamic mean-field variance (Sompolinsky,
    # Crisanti & Sommers 1988: Delta0 = 0.748 at g = 1.5, our solution of their
    # self-consistency; a finite network measured 0.716, within 8 %)
    assert abs(np.mean(late**2) / 0.748 - 1) < 0.1
    assert late[:, :50].std(axis=0).min() > 0.2
    # and nearby trajectories separate (positive Lyapunov exponent)
    tr2 = rs.simulate(chaotic, None, x0 + 1e-8, mode="open", n_steps=4000, record=("x",))
    assert np.linalg.norm(tr2.x_final - tr.x_final) > 1.0


def test_divergence_raises_naming_the_step():
    N = 5
    net = rs.Network(J=np.eye(N) * 1e300, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.zeros(N), phi="relu", dt=1.0, tau=1.0)
    with pytest.raises(rs.SimulationDivergedError, match="step 1") as info:
        rs.simulate(net, None, np.ones(N), mode="open", n_steps=10)
    assert info.value.step == 1
    with pytest.raises(rs.SimulationDivergedError) as info:
        x0 = np.zeros((3, N))
        x0[2] = 1.0
        rs.simulate(net, None, x0, mode="open", n_steps=10)
    assert info.value.trial == 2 and info.value.step == 1


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(inputs=np.zeros((5, 2))), ValueError, "inputs"),
    (dict(inputs=np.full((5, 1), np.nan)), ValueError, "inputs"),
    (dict(inputs=np.zeros((0, 1))), ValueError, "inputs"),
    (dict(inputs=np.zeros(5)), ValueError, "inputs"),
    (dict(x0=np.zeros(3)), ValueError, "x0"),
    (dict(x0=np.full(4, np.inf)), ValueError, "x0"),
    (dict(mode="teacher"), ValueError, "targets"),
    (dict(mode="teacher", targets=np.zeros((4, 1))), ValueError, "targets"),
    (dict(mode="loop"), ValueError, "mode"),
    (dict(mode=1), TypeError, "mode"),
    (dict(noise_std=-1.0), ValueError, "noise_std"),
    (dict(x0=np.zeros((2, 4)), inputs=np.zeros((3, 5, 1))), ValueError, "batch"),
    (dict(record=("y",)), ValueError, "record"),
])
def test_bad_input_raises_naming_the_argument(kwargs, exc, word):
    net = _net(4, 1, 1, "tanh", 1.0, 1.0, 0)
    base = dict(net=net, inputs=np.zeros((5, 1)), mode="closed")
    assert_rejects(rs.simulate, base, kwargs, exc, word)


def test_mode_is_required():
    net = _net(4, 1, 1, "tanh", 1.0, 1.0, 0)
    with pytest.raises(TypeError):
        rs.simulate(net, np.zeros((5, 1)))
    with pytest.raises(TypeError, match="net"):
        rs.simulate("net", np.zeros((5, 1)), mode="closed")


def test_long_noisy_run_is_split_into_chunks_without_changing_the_result(monkeypatch):
    """Noise is drawn chunk by chunk (bounded memory); for one trial the draws are the
    same stream as one big draw, so the result equals the reference with that draw."""
    sim = sys.modules["reservoir._simulate"]  # the package re-exports the function
    net = _net(20, 1, 1, "tanh", 1.0, 1.2, 0)
    U = np.random.default_rng(1).standard_normal((50, 1))
    monkeypatch.setattr(sim, "_CHUNK_BYTES", 20 * 8 * 7)  # 7 steps per chunk
    tr = rs.simulate(net, U, np.zeros(20), mode="closed", noise_std=0.2, rng=3)
    noise = np.random.default_rng(3).standard_normal((50, 20))
    x, r, z, xf = simulate_reference(net, U, np.zeros(20), "closed", noise=noise, noise_std=0.2)
    _close(tr.x, x)
    _close(tr.z, z)
    _close(tr.x_final, xf)


@pytest.mark.parametrize("density", [1.0, 0.3])
def test_batched_noise_equals_reference_with_the_same_draws(density):
    net = _net(25, 1, 1, "tanh", density, 1.2, 2)
    B, T = 3, 30
    U = np.random.default_rng(1).standard_normal((B, T, 1))
    tr = rs.simulate(net, U, np.zeros(25), mode="closed", noise_std=0.3, rng=9)
    noise = np.random.default_rng(9).standard_normal((B, T, 25))
    for b in range(B):
        x, r, z, xf = simulate_reference(net, U[b], np.zeros(25), "closed", noise=noise[b],
                                         noise_std=0.3)
        _close(tr.x[b], x)
        _close(tr.x_final[b], xf)


def test_user_arrays_are_not_modified():
    net = _net(10, 1, 1, "tanh", 1.0, 1.2, 0)
    x0 = np.ones((2, 10))
    U = np.ones((2, 5, 1))
    rs.simulate(net, U, x0, mode="closed")
    np.testing.assert_array_equal(x0, 1.0)
    np.testing.assert_array_equal(U, 1.0)


def test_time_axis_without_recording():
    net = _net(10, 1, 1, "tanh", 1.0, 1.0, 0)
    tr = rs.simulate(net, np.zeros((6, 1)), mode="closed", record=())
    assert tr.x is None and tr.z is None and tr.n_steps == 6
    np.testing.assert_allclose(tr.t, np.arange(6) * net.dt)


@given(B=st.integers(1, 12), N=st.integers(1, 9), T=st.integers(1, 8), M=st.integers(0, 2),
       K=st.integers(1, 2), phi=st.sampled_from(["tanh", "relu", "sigmoid"]),
       mode=st.sampled_from([0, 1, 2]), alpha=st.sampled_from([0.1, 1.0]),
       noisy=st.booleans(), rec=st.sampled_from([(True, True, True), (False, False, True),
                                                 (False, False, False)]),
       rows=st.sampled_from([0, 1, 3, 8, -1]), seed=st.integers(0, 1000))
def test_batch_kernel_equals_numpy_loop(B, N, T, M, K, phi, mode, alpha, noisy, rec, rows,
                                        seed):
    """The Numba batch kernel against the plain-NumPy loop it replaced (same arguments,
    every mode, nonlinearity, noise and recording choice, the step's product in one call,
    in blocks of ``rows`` trials, or by our own ``skinny_dot`` (rows = -1)): states, rates and readouts to 1e-12 relative (the
    kernel's tanh is a rational function, NumPy's the C library)."""
    from reservoir._kernels import euler, euler_batch
    from reservoir._kernels.arrays import network_arrays
    from reservoir.nonlinearities import CODES
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((N, N)) * 1.2 / np.sqrt(N)
    W_in, W_fb = rng.standard_normal((N, M)), rng.standard_normal((N, K))
    W_out, b = rng.standard_normal((K, N)) / np.sqrt(N), 0.1 * rng.standard_normal(N)
    X0 = rng.standard_normal((B, N))
    U = rng.standard_normal((B, T, M))
    Y = rng.standard_normal((B, T, K)) if mode == 1 else np.empty((B, 0, K))
    noise = rng.standard_normal((B, T, N)) if noisy else np.empty((B, 0, N))
    outs = []
    for kernel in ("numba", "numpy"):
        X = X0.copy()
        o = [np.full((B, T if r else 0, d), np.nan) for r, d in zip(rec, (N, N, K))]
        if kernel == "numba":
            arrays = network_arrays(rs.Network(J=J, W_in=W_in, W_fb=W_fb, W_out=W_out, b=b))
            st_ = euler_batch.run_dense_batch(
                arrays, alpha, CODES[phi], mode, X, U, Y,
                noise, 0.3, *o, np.empty((B, N)), np.empty((B, N)), np.empty((B, K)), rows)
        else:
            st_ = euler.run_dense_batch_numpy(
                J.T, np.ascontiguousarray(W_in.T), np.ascontiguousarray(W_fb.T),
                np.ascontiguousarray(W_out.T), b, alpha, CODES[phi], mode, X, U, Y, noise,
                0.3, *o)
        outs.append((st_, X, o))
    (s1, X1, o1), (s2, X2, o2) = outs
    assert s1 == s2 == -1
    np.testing.assert_allclose(X1, X2, rtol=1e-12, atol=1e-12)
    for a, b_ in zip(o1, o2):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-12)


def test_batch_split_over_threads_equals_numpy_loop_and_reports_divergence(monkeypatch):
    """A batch big enough to be split into chunks on worker threads gives the NumPy loop's
    states; a divergence in the second chunk names the earliest step and its trial."""
    import importlib
    from reservoir._kernels import euler
    from reservoir._kernels.batch_split import chunk_ranges
    sim = importlib.import_module("reservoir._simulate")   # rs.simulate is the function
    net = rs.random_network(64, 1.3, 2, 1, dt=0.5, tau=1.0, rng=3)
    U = np.random.default_rng(4).standard_normal((40, 60, 2))
    assert len(chunk_ranges(40, 64, 2)) == 2
    monkeypatch.setattr(sim, "_SPLIT_MIN_WORK", 0)
    monkeypatch.setattr(sim, "chunk_ranges",
                        lambda B, N, threads, min_chunk=8: chunk_ranges(B, N, 2))
    got = rs.simulate(net, U, mode="closed")
    X = np.zeros((40, 64))
    ref = {k: np.empty((40, 60, d)) for k, d in (("x", 64), ("r", 64), ("z", 1))}
    status = euler.run_dense_batch_numpy(
        net.J.T, np.ascontiguousarray(net.W_in.T), np.ascontiguousarray(net.W_fb.T),
        np.ascontiguousarray(net.W_out.T), net.b, net.alpha, 0, 2, X, U,
        np.empty((40, 0, 1)), np.empty((40, 0, 64)), 0.0, ref["x"], ref["r"], ref["z"])
    assert status == -1
    for k in ("x", "r", "z"):
        np.testing.assert_allclose(getattr(got, k), ref[k], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(got.x_final, X, rtol=1e-11, atol=1e-12)
    bad = rs.Network(J=np.eye(64) * 1e300, W_in=np.zeros((64, 0)), W_fb=np.zeros((64, 1)),
                     W_out=np.zeros((1, 64)), b=np.zeros(64), phi="relu", dt=1.0, tau=1.0)
    x0 = np.zeros((40, 64))
    x0[[31, 27], 0] = 1.0                                   # both in the second chunk
    with pytest.raises(rs.SimulationDivergedError) as info:
        rs.simulate(bad, None, x0, mode="open", n_steps=5)
    assert info.value.trial == 27 and info.value.step == 1


def _closed_loop_z(args):
    net, U = args
    return rs.simulate(net, U, mode="closed", record=("z",)).z


def test_chunked_simulate_runs_in_a_forked_child():
    """The shared worker pool survives fork: a child process (as multiprocessing's fork
    start method makes them) starts its own workers instead of waiting forever on the
    parent's, and gets the parent's result."""
    import multiprocessing as mp
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    import numba

    from reservoir._kernels.batch_split import chunk_ranges
    net = rs.random_network(40, 1.0, 1, 1, rng=0)
    U = np.random.default_rng(1).standard_normal((32, 60, 1))
    assert 32 * 60 * 40**2 >= 2**21                      # large enough to be split
    assert len(chunk_ranges(32, 40)) == min(numba.get_num_threads(), 4)
    ref = _closed_loop_z((net, U))                      # the parent's pool is now running
    with mp.get_context("fork").Pool(1) as pool:
        z = pool.apply_async(_closed_loop_z, ((net, U),)).get(timeout=120)
    np.testing.assert_array_equal(z, ref)


# ------------------------------------------------------------------ kernel argument bundle
def test_network_arrays_fills_every_field_by_name_and_validates():
    from reservoir._kernels.arrays import NetworkArrays, network_arrays
    net = _net(7, 2, 2, "tanh", 1.0, 1.2, 0)       # M = K: W_in and W_fb have one shape
    a = network_arrays(net)
    assert isinstance(a, NetworkArrays) and a._fields == (
        "J", "data", "indices", "indptr", "W_in", "W_fb", "W_out", "b")
    for name in ("J", "W_in", "W_fb", "W_out", "b"):
        np.testing.assert_array_equal(getattr(a, name), getattr(net, name))
        assert not getattr(a, name).flags.writeable
    assert a.data.shape == a.indices.shape == a.indptr.shape == (0,)
    scaled = network_arrays(net, np.float32, step_scaled=True)
    for name in ("J", "W_in", "W_fb", "b"):
        np.testing.assert_array_equal(getattr(scaled, name),
                                      (net.alpha * getattr(net, name)).astype(np.float32))
    np.testing.assert_array_equal(scaled.W_out, net.W_out.astype(np.float32))
    sparse = _net(9, 1, 1, "tanh", 0.4, 1.2, 1)
    s = network_arrays(sparse, index_dtype=np.uint32)
    assert s.J.shape == (0, 0) and s.indices.dtype == s.indptr.dtype == np.uint32
    np.testing.assert_array_equal(s.data, sparse.J.data)
    np.testing.assert_array_equal(s.indptr, sparse.J.indptr)
    W = np.zeros((2, 7))
    assert network_arrays(net, W_out=W).W_out is W                # updated in place by FORCE
    with pytest.raises(ValueError, match="W_out"):
        network_arrays(net, W_out=np.zeros((7, 2)))
    with pytest.raises(ValueError, match="W_out"):
        network_arrays(net, W_out=np.zeros((2, 7), np.float32))
    with pytest.raises(ValueError, match="J"):
        network_arrays(net, J=np.zeros((6, 6)))
    with pytest.raises(ValueError, match="J"):
        network_arrays(net, J=np.full((7, 7), np.nan))
    with pytest.raises(ValueError, match="dtype"):
        network_arrays(net, np.float16)
    with pytest.raises(ValueError, match="index_dtype"):
        network_arrays(sparse, index_dtype=np.uint64)
    with pytest.raises(ValueError, match="index_dtype"):
        network_arrays(sparse, index_dtype=np.int8)
    with pytest.raises(TypeError, match="Network"):
        network_arrays(a)


def test_kernels_compile_for_float32_arrays_and_unsigned_indices():
    """The kernels take whatever dtypes the bundle carries: float32 weights and states with
    uint32 CSR indices give the float64 trajectory to float32 rounding."""
    from reservoir._kernels import euler, euler_batch
    from reservoir._kernels.arrays import network_arrays
    f = np.float32
    T, B = 25, 3
    U = np.random.default_rng(2).standard_normal((T, 2))
    UB = np.ascontiguousarray(np.repeat(U[None], B, 0), dtype=f)
    for density in (1.0, 0.3):
        net = _net(30, 2, 1, "tanh", density, 1.2, 4)
        ref = rs.simulate(net, U, mode="closed").x
        a = network_arrays(net, f, index_dtype=np.uint32)
        x = np.zeros(30, f)
        out = np.empty((T, 30), f)
        status = euler.run_single(a, net.alpha, 0, 2, x, U.astype(f), np.empty((0, 1), f),
                                  np.empty((0, 30), f), 0.0, out, np.empty((0, 30), f),
                                  np.empty((0, 1), f))
        assert status == -1
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5)
        X, OX = np.zeros((B, 30), f), np.empty((B, T, 30), f)
        rest = (np.empty((B, 0, 1), f), np.empty((B, 0, 30), f), 0.0, OX,
                np.empty((B, 0, 30), f), np.empty((B, 0, 1), f))
        if density < 1:
            status = euler.run_sparse_batch(a, net.alpha, 0, 2, X, UB, *rest)
        else:
            status = euler_batch.run_dense_batch(a, net.alpha, 0, 2, X, UB, *rest,
                                                 np.empty((B, 30), f), np.empty((B, 30), f),
                                                 np.empty((B, 1), f))
        assert status == -1
        for trial in OX:
            np.testing.assert_allclose(trial, ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("density", [1.0, 0.3])
@pytest.mark.parametrize("intercept", [False, True])
def test_closed_loop_runner_equals_simulate_and_reports_divergence(density, intercept):
    """closed_loop_runner (arrays built once, used by the Lyapunov estimate) gives the bits
    of simulate(..., mode="closed").x_final for one trial, over several calls in a row,
    leaves its argument unchanged, and returns None where simulate raises."""
    from reservoir._simulate import closed_loop_runner
    net = _net(40, 2, 2, "tanh", density, 1.3, 5)
    if intercept:
        net = net.with_readout(net.W_out, b_out=np.array([0.3, -0.2]))
    u = np.array([0.4, -0.1])
    run = closed_loop_runner(net, u)
    x = np.random.default_rng(2).standard_normal(40)
    x_copy = x.copy()
    got = x
    for n in (1, 7, 7, 30):
        got = run(got, n)
        want = rs.simulate(net, np.tile(u, (n, 1)), x, mode="closed", record=()).x_final
        np.testing.assert_array_equal(got, want)
        x = want
    np.testing.assert_array_equal(x_copy, np.random.default_rng(2).standard_normal(40))
    big = net.with_readout(1e308 * np.ones((2, 40)))   # z overflows to inf
    assert closed_loop_runner(big, u)(np.ones(40), 5) is None
    with pytest.raises(rs.SimulationDivergedError):
        rs.simulate(big, np.tile(u, (5, 1)), np.ones(40), mode="closed", record=())


def test_large_dense_batches_run_as_one_product_with_the_same_states(monkeypatch):
    """Above _SPLIT_MAX_N units a dense batch is one kernel call (BLAS's threads split J)
    instead of chunks of trials on worker threads; both give the same states to rounding,
    and the one call is what runs."""
    import importlib
    from reservoir._kernels.batch_split import chunk_ranges
    sim = importlib.import_module("reservoir._simulate")
    net = rs.random_network(64, 1.3, 2, 1, dt=0.5, tau=1.0, rng=3)
    U = np.random.default_rng(4).standard_normal((40, 30, 2))
    monkeypatch.setattr(sim, "_SPLIT_MIN_WORK", 0)
    asked = []

    def spy(B, N, threads=None, min_chunk=8):
        asked.append(threads)
        return chunk_ranges(B, N, 2 if threads is None else threads)
    monkeypatch.setattr(sim, "chunk_ranges", spy)
    split = rs.simulate(net, U, mode="closed")
    assert asked == [None]
    monkeypatch.setattr(sim, "_SPLIT_MAX_N", 63)
    monkeypatch.setattr(sim, "_SPLIT_SKINNY_MAX_B", 19)          # chunks of 20: too large
    whole = rs.simulate(net, U, mode="closed")
    assert asked == [None, None, 1]
    for k in ("x", "z"):
        np.testing.assert_allclose(getattr(whole, k), getattr(split, k), rtol=1e-11,
                                   atol=1e-12)


@pytest.mark.parametrize("N_max, B_max, skinny_N, expect", [
    (63, 20, 2048, 2),     # above _SPLIT_MAX_N, chunks of 20 <= 20 trials: split
    (63, 19, 2048, 1),     # chunks too large: one call
    (63, 20, 63, 1),       # N above _SPLIT_SKINNY_MAX_N: one call
    (724, 0, 0, 2)])       # up to _SPLIT_MAX_N: split whatever the chunk size
def test_dense_batches_above_the_split_limit_split_only_into_few_trial_chunks(
        monkeypatch, N_max, B_max, skinny_N, expect):
    """Above ``_SPLIT_MAX_N`` units a batch is still split into chunks on worker threads
    when every chunk has at most ``_SPLIT_SKINNY_MAX_B`` trials (and N is at most
    ``_SPLIT_SKINNY_MAX_N``), else it is one call; the chunks run the one-thread product
    (``single``), and the states equal the NumPy loop's either way."""
    import importlib
    from reservoir._kernels.batch_split import chunk_ranges
    sim = importlib.import_module("reservoir._simulate")
    net = rs.random_network(64, 1.3, 2, 1, dt=0.5, tau=1.0, rng=3)
    U = np.random.default_rng(4).standard_normal((40, 30, 2))
    monkeypatch.setattr(sim, "_SPLIT_MIN_WORK", 0)
    monkeypatch.setattr(sim, "_SPLIT_MAX_N", N_max)
    monkeypatch.setattr(sim, "_SPLIT_SKINNY_MAX_B", B_max)
    monkeypatch.setattr(sim, "_SPLIT_SKINNY_MAX_N", skinny_N)
    monkeypatch.setattr(sim, "chunk_ranges",
                        lambda B, N, threads=None, min_chunk=8: chunk_ranges(
                            B, N, 2 if threads is None else threads))
    calls = []
    real = sim.batch_product_rows
    monkeypatch.setattr(sim, "batch_product_rows",
                        lambda B, N, single: calls.append((B, single)) or real(B, N, single))
    got = rs.simulate(net, U, mode="closed")
    assert len(calls) == expect and sum(b for b, _ in calls) == 40
    if expect > 1:
        assert all(single for _, single in calls)
    np.testing.assert_allclose(got.x, closed_loop_states_numpy(net, U), rtol=1e-11,
                               atol=1e-11)


@pytest.mark.parametrize("N, B", [(300, 2), (500, 4), (1000, 2), (290, 16), (50, 64)])
def test_continuing_a_batch_gives_the_bits_of_the_whole_run(N, B):
    """T1 steps and then T2 from x_final give the bits of T1 + T2 steps (the promise of
    docs/model.md) for batches: the chunks of trials, and so each trial's product, depend
    on B and N only, not on the length of the piece (short pieces run the same chunks
    one after the other)."""
    net = rs.random_network(N, 0.8, 1, 1, rng=0)
    x0 = np.random.default_rng(0).standard_normal((B, N))
    full = rs.simulate(net, n_steps=12, x0=x0, mode="closed", record=())
    for T1 in (1, 5):
        a = rs.simulate(net, n_steps=T1, x0=x0, mode="closed", record=())
        b = rs.simulate(net, n_steps=12 - T1, x0=a.x_final, mode="closed", record=())
        np.testing.assert_array_equal(b.x_final, full.x_final)


@pytest.mark.parametrize("N, B, expect", [
    (300, 2, [1, 1]),        # from SKINNY_MIN_N units: chunks of one trial
    (300, 5, [3, 2]),
    (299, 5, [5]),           # fewer units: at least 8 trials a chunk
    (299, 16, [8, 8])])
def test_small_batches_of_large_networks_split_into_single_trial_chunks(
        monkeypatch, N, B, expect):
    """With two threads, a batch of a few trials of a network of at least SKINNY_MIN_N
    units runs as chunks down to one trial on the workers (each with the one-thread
    product), not as one product on BLAS's threads; smaller networks keep chunks of at
    least 8 trials. The states equal the NumPy loop's, and a divergence in the second
    chunk is reported at its trial."""
    import importlib
    from reservoir._kernels.batch_split import chunk_ranges
    sim = importlib.import_module("reservoir._simulate")
    net = rs.random_network(N, 1.3, 2, 1, dt=0.5, tau=1.0, rng=3)
    U = np.random.default_rng(4).standard_normal((B, 20, 2))   # B T N^2 >= 2^21
    monkeypatch.setattr(sim, "chunk_ranges",
                        lambda B, N, threads=None, min_chunk=8: chunk_ranges(
                            B, N, 2 if threads is None else threads, min_chunk))
    calls = []
    real = sim.batch_product_rows
    monkeypatch.setattr(sim, "batch_product_rows",
                        lambda B, N, single: calls.append((B, single)) or real(B, N, single))
    got = rs.simulate(net, U, mode="closed")
    assert sorted(b for b, _ in calls) == sorted(expect)     # the workers' order varies
    if len(expect) > 1:
        assert all(single for _, single in calls)
    np.testing.assert_allclose(got.x, closed_loop_states_numpy(net, U), rtol=1e-11,
                               atol=1e-11)
    bad = rs.Network(J=np.eye(N) * 1e300, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.zeros(N), phi="relu", dt=1.0, tau=1.0)
    X0 = np.zeros((B, N))
    X0[B - 1, 0] = 1.0                    # the last trial (in the last chunk) diverges
    with pytest.raises(rs.SimulationDivergedError) as err:
        rs.simulate(bad, None, X0, mode="open", n_steps=30, record=())
    assert err.value.trial == B - 1 and err.value.step == 1


@pytest.mark.parametrize("N", [2, 64, 300])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("batch", [False, True])
def test_divergence_is_the_first_non_finite_state_not_an_overflowing_sum(N, sparse, batch):
    """States near 1e308 are finite even though their sum overflows: a ReLU fixed point at
    1e308 runs without error, and a growing ReLU network (x[t+1] = 50 x[t]) is reported at
    the step whose update first gives a non-finite unit, as a plain NumPy loop finds it
    (single trials on the serial and the row-parallel kernel, batches, dense and CSR)."""
    import scipy.sparse as sps

    def network(gain):
        J = gain * np.eye(N)
        return rs.Network(J=sps.csr_matrix(J) if sparse else J, W_in=np.zeros((N, 1)),
                          W_fb=np.zeros((N, 1)), W_out=np.zeros((1, N)), b=np.zeros(N),
                          phi="relu", tau=1.0, dt=1.0)
    B = 3
    U = np.zeros((B, 4, 1)) if batch else np.zeros((4, 1))
    x0 = np.full((B, N) if batch else N, 1e308)
    np.testing.assert_array_equal(rs.simulate(network(1.0), U, x0, mode="open").x_final, x0)
    x = np.full(N, 1e100)
    with np.errstate(over="ignore"):
        first = next(t for t in range(1000) if not np.all(np.isfinite(x := 50.0 * x)))
    x0 = np.full((B, N), 1e100)
    x0[:, 1:] = 1.0                                  # one unit diverges, the rest do not
    U = np.zeros((B, first + 5, 1)) if batch else np.zeros((first + 5, 1))
    with pytest.raises(rs.SimulationDivergedError) as info:
        rs.simulate(network(50.0), U, x0 if batch else x0[0], mode="open")
    assert info.value.step == first and info.value.trial == 0


@pytest.mark.parametrize("density", [1.0, 0.1])
@pytest.mark.parametrize("diverging", [(2,), (1, 3), (0, 3)])
def test_batch_reports_the_lowest_diverging_trial_at_the_first_step(density, diverging):
    """In a batch (dense and CSR kernels, 20 trials: several passes of the sparse
    kernel's four-nonzero loop and its remainder), only the trials started far out
    diverge (x[t+1] = 50 x[t] on one unit, ReLU); the error names the step at which a
    NumPy loop finds the first non-finite state and the lowest of those trials, and the
    other trials' states up to that step equal the NumPy loop's."""
    import scipy.sparse as sps
    N, B = 12, 20
    J = np.zeros((N, N))
    J[0, 0] = 50.0
    J[3:, :7] = np.random.default_rng(0).uniform(-0.1, 0.1, (N - 3, 7))
    if density < 1:
        J = sps.csr_matrix(J)
    net = rs.Network(J=J, W_in=np.zeros((N, 1)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.zeros(N), phi="relu", tau=1.0, dt=1.0)
    X0 = np.full((B, N), 0.5)
    for trial in diverging:
        X0[trial, 0] = 1e100
    x = np.full(1, 1e100)
    with np.errstate(over="ignore"):
        first = next(t for t in range(1000) if not np.all(np.isfinite(x := 50.0 * x)))
    U = np.zeros((B, first + 5, 1))
    with pytest.raises(rs.SimulationDivergedError) as info:
        rs.simulate(net, U, X0, mode="open")
    assert info.value.step == first and info.value.trial == min(diverging)
    calm = [b for b in range(B) if b not in diverging]
    tr = rs.simulate(net, U[calm, :first], X0[calm], mode="open")
    Jd = J.toarray() if density < 1 else J
    xr = X0[calm].copy()
    for t in range(first):
        np.testing.assert_allclose(tr.x[:, t], xr, rtol=1e-12, atol=1e-300)
        xr = Jd @ np.maximum(xr, 0.0).T
        xr = xr.T


def test_large_sparse_single_trials_run_in_column_panels(monkeypatch):
    """A sparse J with enough units and nonzeros runs its single trials in column panels
    (column_panels; the nonzero thresholds lowered here so that a cheap network of 3100
    units qualifies: two panels): the trajectory equals the NumPy update rule (1e-12), a
    run continued in pieces gives the bits of the whole run, closed_loop_runner and
    fit_ridge's teacher-forced run give the bits of simulate, and a batch (plain CSR) the
    same states to rounding."""
    from reservoir._kernels import arrays
    from reservoir._simulate import _panels, closed_loop_runner
    N, T = 3100, 12
    net = _net(N, 1, 1, "tanh", 0.005, 1.3, 8)
    assert _panels(net, 1) == 1                 # 48,000 nonzeros: plain CSR by default
    monkeypatch.setattr(arrays, "PANEL_MIN_NNZ", 0)
    monkeypatch.setattr(arrays, "PANEL_MIN_ROW_NNZ", 1)
    assert _panels(net, 1) == 2 and _panels(net, 3) == 1
    rng = np.random.default_rng(1)
    U = rng.standard_normal((T, 1))
    x0 = rng.standard_normal(N)
    whole = rs.simulate(net, U, x0, mode="closed", record=("x",))
    x, J, ref = x0.copy(), net.J, []
    for t in range(T):
        ref.append(x.copy())
        r = np.tanh(x)
        x = x + net.alpha * (-x + J @ r + net.W_in @ U[t] + net.W_fb @ (net.W_out @ r)
                             + net.b)
    _close(whole.x, np.array(ref))
    _close(whole.x_final, x)
    first = rs.simulate(net, U[:5], x0, mode="closed", record=("x",))
    rest = rs.simulate(net, U[5:], first.x_final, mode="closed", record=("x",))
    np.testing.assert_array_equal(np.concatenate([first.x, rest.x]), whole.x)
    np.testing.assert_array_equal(rest.x_final, whole.x_final)
    run = closed_loop_runner(net, U[0])
    want = rs.simulate(net, np.tile(U[0], (4, 1)), x0, mode="closed", record=()).x_final
    np.testing.assert_array_equal(run(x0, 4), want)
    batch = rs.simulate(net, np.repeat(U[None], 2, 0), np.stack([x0, x0]), mode="closed",
                        record=("x",))
    _close(batch.x[1], whole.x)
    Y = np.sin(np.arange(T)[:, None] / 3.0)
    fit = rs.fit_ridge(net, U, Y, reg=0.1, noise_std=0.05, rng=4)
    teacher = rs.simulate(net, U, mode="teacher", targets=Y, noise_std=0.05, rng=4)
    np.testing.assert_array_equal(fit.x_final, teacher.x_final)
