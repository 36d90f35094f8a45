"""BPTT objective options (issue 14): weight and rate regularisers, state noise during
training, the cross-entropy loss and the readout intercept ``b_out``.

Every gradient is checked against central finite differences of a plain-NumPy forward pass
(:func:`reference_objective`, written from the formulas of ``loss_and_gradients``'
docstring, sharing no code with the package), on both backends, in float64: the largest
absolute difference must be at most ``1e-6`` times the largest finite-difference component
(at least ``1e-3``), the tolerance of ``tests/test_bptt.py`` (the finite-difference error
at ``h = 1e-6`` is about ``1e-10``).
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import logsumexp

import reservoir as rs
from reservoir.train import loss_and_gradients
from reservoir.train._bptt import BPTTWorkspace
from reference import PHI

H = 1e-6          # finite-difference step
FD_TOL = 1e-6     # relative to the largest finite-difference component (at least 1e-3)


# ----------------------------------------------------------------- reference
def make_net(N, M, K, phi="tanh", alpha=0.5, seed=0, b_out=False, feedback=0.5):
    """A small dense network with every weight nonzero (a random readout, an intercept
    when asked)."""
    net = rs.random_network(N, 0.9, M, K, phi=phi, dt=alpha, tau=1.0, bias_scale=0.2,
                            input_dist="uniform", feedback_scale=feedback, rng=seed)
    rng = np.random.default_rng(seed + 1)
    W_out = rng.standard_normal((K, N)) / np.sqrt(N)
    return net.with_readout(W_out, b_out=rng.standard_normal(K) if b_out else None)


def params_of(net, mode="open"):
    p = {name: np.array(getattr(net, name)) for name in ("J", "W_in", "b", "W_out", "b_out")}
    if mode == "closed":
        p["W_fb"] = np.array(net.W_fb)
    return p


def reference_objective(p, net, U, Y, W, *, mode="open", loss="mse", weight_l1=None,
                        weight_l2=None, rate_l2=0.0, noise_std=0.0, noise=None):
    """The documented objective by a plain loop over time (float64)."""
    phi = PHI[net.phi]
    a = net.alpha
    B, T, _ = U.shape
    N, K = net.N, net.n_outputs
    x = np.zeros((B, N))
    data = rates = 0.0
    for t in range(T):
        r = phi(x)
        z = r @ p["W_out"].T + p["b_out"]
        if loss == "mse":
            data += np.sum(W[:, t, None] * (z - Y[:, t]) ** 2)
        else:
            log_p = z - logsumexp(z, axis=1, keepdims=True)
            data -= np.sum(W[:, t, None] * Y[:, t] * log_p)
        rates += np.sum(W[:, t] * np.sum(r**2, axis=1))
        drive = r @ p["J"].T + U[:, t] @ p["W_in"].T + p["b"]
        if mode == "closed":
            drive = drive + z @ p["W_fb"].T
        x = (1 - a) * x + a * drive
        if noise is not None:
            x = x + noise_std * np.sqrt(a) * noise[:, t]
    S = W.sum()
    obj = data / (S * K if loss == "mse" else S) + rate_l2 * rates / (N * S)
    for name, c in (weight_l1 or {}).items():
        if p[name].size:      # an empty matrix (M = 0 inputs) has no penalty
            obj += c * np.mean(np.abs(p[name]))
    for name, c in (weight_l2 or {}).items():
        if p[name].size:
            obj += c * np.mean(p[name] ** 2)
    return obj


def finite_differences(p0, f):
    out = {}
    for name, v in p0.items():
        fd = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            for sgn in (1, -1):
                p = {k: w.copy() for k, w in p0.items()}
                p[name][idx] += sgn * H
                fd[idx] += sgn * f(p) / (2 * H)
        out[name] = fd
    return out


def assert_gradients_match(grads, fd):
    assert set(grads) == set(fd)
    for name, g in grads.items():
        if g.size == 0:
            continue
        scale = max(np.max(np.abs(fd[name])), 1e-3)
        err = np.max(np.abs(g - fd[name]))
        assert err <= FD_TOL * scale, f"{name}: {err:.3g} > {FD_TOL * scale:.3g}"


def one_hot(rng, B, T, K):
    return np.eye(K)[rng.integers(0, K, (B, T))]


def class_probabilities(rng, B, T, K):
    P = rng.random((B, T, K)) + 0.1
    return P / P.sum(-1, keepdims=True)


# Each option alone; "all" combines them. Penalties on every penalised matrix (W_fb too in
# closed loop), the noise a fixed realisation.
FEATURES = ("weight_l1", "weight_l2", "rate_l2", "noise", "cross_entropy", "b_out", "mask",
            "all")


def feature_case(feature, mode, seed=0, N=5, T=6, B=3, M=2):
    on = lambda f: feature in (f, "all")   # noqa: E731
    K = 3 if on("cross_entropy") else 2
    net = make_net(N, M, K, "tanh", 0.4, seed, b_out=on("b_out"))
    rng = np.random.default_rng(seed + 10)
    U = rng.standard_normal((B, T, M))
    Y = class_probabilities(rng, B, T, K) if on("cross_entropy") else rng.standard_normal(
        (B, T, K))
    W = rng.random((B, T)) * (rng.random((B, T)) < 0.7) if on("mask") else np.ones((B, T))
    W[0, -1] = max(W[0, -1], 0.5)
    names = ("J", "W_in", "W_out") + (("W_fb",) if mode == "closed" else ())
    kw = dict(mode=mode, loss="cross_entropy" if on("cross_entropy") else "mse")
    if on("weight_l1"):
        kw["weight_l1"] = 0.3
    if on("weight_l2"):
        kw["weight_l2"] = {"J": 0.7, "W_out": 0.2}
    if on("rate_l2"):
        kw["rate_l2"] = 0.8
    if on("noise"):
        kw["noise_std"] = 0.5
        kw["noise"] = rng.standard_normal((B, T, N))
    ref_kw = dict(kw)
    if "weight_l1" in kw:
        ref_kw["weight_l1"] = dict.fromkeys(names, 0.3)
    return net, U, Y, W, kw, ref_kw


# ----------------------------------------------------------------- gradients
@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("mode", ["open", "closed"])
@pytest.mark.parametrize("backend", ["blas", "numba"])
def test_gradients_of_each_option_equal_finite_differences(feature, mode, backend):
    net, U, Y, W, kw, ref_kw = feature_case(feature, mode)
    loss, grads = loss_and_gradients(net, U, Y, W, backend=backend, **kw)
    p0 = params_of(net, mode)
    ref = reference_objective(p0, net, U, Y, W, **ref_kw)
    assert loss == pytest.approx(ref, rel=1e-12, abs=1e-14)
    fd = finite_differences(p0, lambda p: reference_objective(p, net, U, Y, W, **ref_kw))
    assert_gradients_match(grads, fd)


@settings(max_examples=30, deadline=None)
@given(N=st.integers(1, 6), T=st.integers(1, 6), B=st.integers(1, 4), M=st.integers(0, 2),
       K=st.integers(2, 3), phi=st.sampled_from(["tanh", "sigmoid"]),
       alpha=st.sampled_from([0.3, 1.0]), mode=st.sampled_from(["open", "closed"]),
       loss=st.sampled_from(["mse", "cross_entropy"]), l1=st.sampled_from([0.0, 0.4]),
       l2=st.sampled_from([0.0, 0.6]), rate=st.sampled_from([0.0, 1.5]),
       sigma=st.sampled_from([0.0, 0.7]), intercept=st.booleans(), seed=st.integers(0, 999))
def test_combined_options_property(N, T, B, M, K, phi, alpha, mode, loss, l1, l2, rate,
                                   sigma, intercept, seed):
    """Any combination of the options: both backends agree (rtol 1e-10) and equal central
    differences of the reference."""
    net = make_net(N, M, K, phi, alpha, seed, b_out=intercept)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, M))
    Y = one_hot(rng, B, T, K) if loss == "cross_entropy" else rng.standard_normal((B, T, K))
    W = (rng.random((B, T)) < 0.6).astype(float)
    W[-1, -1] = 1.0
    xi = rng.standard_normal((B, T, N))
    names = ("J", "W_in", "W_out") + (("W_fb",) if mode == "closed" else ())
    kw = dict(mode=mode, loss=loss, weight_l1=l1, weight_l2=l2, rate_l2=rate,
              noise_std=sigma, noise=xi)
    loss_n, g_n = loss_and_gradients(net, U, Y, W, backend="numba", **kw)
    loss_b, g_b = loss_and_gradients(net, U, Y, W, backend="blas", **kw)
    assert loss_b == pytest.approx(loss_n, rel=1e-12, abs=1e-15)
    for name in g_n:
        np.testing.assert_allclose(g_b[name], g_n[name], rtol=1e-10, atol=1e-13)
    p0 = params_of(net, mode)
    ref_kw = dict(mode=mode, loss=loss, weight_l1=dict.fromkeys(names, l1),
                  weight_l2=dict.fromkeys(names, l2), rate_l2=rate, noise_std=sigma,
                  noise=xi)
    assert loss_n == pytest.approx(reference_objective(p0, net, U, Y, W, **ref_kw),
                                   rel=1e-12, abs=1e-14)
    fd = finite_differences(p0, lambda p: reference_objective(p, net, U, Y, W, **ref_kw))
    assert_gradients_match(g_n, fd)


@pytest.mark.parametrize("feature", ["rate_l2", "noise", "cross_entropy", "b_out", "all"])
def test_float32_agrees_with_float64(feature):
    """The float32 passes carry the new terms too (relative error about 1e-5)."""
    net, U, Y, W, kw, _ = feature_case(feature, "closed", seed=3, N=12, T=15, B=9)
    loss64, g64 = loss_and_gradients(net, U, Y, W, **kw)
    loss32, g32 = loss_and_gradients(net, U, Y, W, dtype=np.float32, **kw)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name, g in g64.items():
        np.testing.assert_allclose(g32[name], g, rtol=0, atol=1e-4 * np.max(np.abs(g)))


def test_weight_penalties_equal_their_closed_forms():
    """The penalties add ``c mean|P|`` and ``c mean(P^2)`` to the loss and ``c sign(P) /
    |P|``, ``2 c P / |P|`` to the gradients, only on the matrices named (W_fb only in
    closed loop, never b or b_out)."""
    net = make_net(7, 2, 2, seed=4, b_out=True)
    rng = np.random.default_rng(0)
    U, Y = rng.standard_normal((3, 8, 2)), rng.standard_normal((3, 8, 2))
    for mode in ("open", "closed"):
        names = ("J", "W_in", "W_out") + (("W_fb",) if mode == "closed" else ())
        base, g0 = loss_and_gradients(net, U, Y, mode=mode)
        loss1, g1 = loss_and_gradients(net, U, Y, mode=mode, weight_l1=0.3)
        loss2, g2 = loss_and_gradients(net, U, Y, mode=mode, weight_l2={"J": 0.5})
        P = {n: np.asarray(getattr(net, n)) for n in names}
        assert loss1 - base == pytest.approx(sum(0.3 * np.mean(np.abs(v))
                                                 for v in P.values()), rel=1e-12)
        assert loss2 - base == pytest.approx(0.5 * np.mean(P["J"] ** 2), rel=1e-12)
        for name in g0:
            d1 = 0.3 * np.sign(P[name]) / P[name].size if name in names else 0.0
            np.testing.assert_allclose(g1[name] - g0[name], d1, rtol=1e-12, atol=1e-15)
            d2 = 2 * 0.5 * P["J"] / P["J"].size if name == "J" else 0.0
            np.testing.assert_allclose(g2[name] - g0[name], d2, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------- defaults keep their bits
@pytest.mark.parametrize("backend, dtype", [("blas", np.float64), ("blas", np.float32),
                                            ("numba", np.float64)])
@pytest.mark.parametrize("mode", ["open", "closed"])
def test_options_off_are_bit_identical_to_not_passing_them(backend, dtype, mode):
    """Penalties at 0 (numbers or dicts), ``noise_std = 0`` with a noise array, and
    ``loss="mse"`` give exactly the bits of the call without them (the plain passes)."""
    net = make_net(9, 2, 2, seed=5)
    rng = np.random.default_rng(2)
    U, Y = rng.standard_normal((10, 12, 2)), rng.standard_normal((10, 12, 2))
    W = (rng.random((10, 12)) < 0.8).astype(float)
    plain = loss_and_gradients(net, U, Y, W, mode=mode, backend=backend, dtype=dtype)
    off = loss_and_gradients(net, U, Y, W, mode=mode, backend=backend, dtype=dtype,
                             loss="mse", weight_l1=0.0, weight_l2={"J": 0.0}, rate_l2=0.0,
                             noise_std=0.0, noise=rng.standard_normal((10, 12, 9)))
    assert off[0] == plain[0]
    for name, g in plain[1].items():
        np.testing.assert_array_equal(off[1][name], g)


def test_bptt_with_options_off_is_bit_identical_to_the_default():
    task = rs.tasks.xor(n_trials=40, rng=0)
    net = rs.jarne_network(N=12, n_inputs=2, n_outputs=1, init="orthogonal", rng=0)
    kw = dict(epochs=2, batch_size=16, lr=1e-3, rng=3)
    a = rs.bptt(net, task, **kw)
    b = rs.bptt(net, task, loss="mse", weight_l1=0.0, weight_l2=0.0, rate_l2=0.0,
                noise_std=0.0, **kw)
    np.testing.assert_array_equal(a.batch_losses, b.batch_losses)
    for name in ("J", "W_in", "b", "W_out", "b_out"):
        np.testing.assert_array_equal(getattr(a.network, name), getattr(b.network, name))


# ----------------------------------------------------------------- cross-entropy
def test_cross_entropy_value_against_numpy_with_huge_logits():
    """The loss equals a plain-NumPy masked cross-entropy (``np.logaddexp.reduce``), also
    for logits of a few thousand where the naive ``log(sum(exp(z)))`` overflows; the
    gradient stays finite."""
    net = make_net(8, 1, 3, seed=6)
    net = net.with_readout(2000.0 * np.asarray(net.W_out), b_out=np.array([0.0, 50.0, -50.0]))
    rng = np.random.default_rng(1)
    B, T = 4, 10
    U = rng.standard_normal((B, T, 1))
    Y = class_probabilities(rng, B, T, 3)
    W = rng.random((B, T))
    W[:, :3] = 0.0
    Y[:, :3] = -7.0          # no constraint where the mask is zero
    z = rs.simulate(net, U, mode="open", record=("z",)).z
    with np.errstate(over="ignore"):
        assert not np.all(np.isfinite(np.log(np.sum(np.exp(z), axis=-1))))  # naive fails
    log_p = z - np.logaddexp.reduce(z, axis=-1)[..., None]
    expected = -np.sum(W[..., None] * Y * log_p) / W.sum()
    for backend in ("blas", "numba"):
        loss, grads = loss_and_gradients(net, U, Y, W, loss="cross_entropy", backend=backend)
        assert loss == pytest.approx(expected, rel=1e-12)
        assert all(np.all(np.isfinite(g)) for g in grads.values())
    # dL/db_out is the mask-weighted mean of softmax(z) - y (a closed form)
    p = np.exp(log_p)
    np.testing.assert_allclose(grads["b_out"], np.sum(W[..., None] * (p - Y), (0, 1))
                               / W.sum(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_training_learns_a_two_class_task():
    """A 2-class task (class = sign of a brief input pulse, reported at the end): BPTT with
    the cross-entropy loss lowers the loss and classifies the held-out trials."""
    def task(n, seed):
        rng = np.random.default_rng(seed)
        T = 12
        cls = rng.integers(0, 2, n)
        U = np.zeros((n, T, 1))
        U[:, :3, 0] = np.where(cls == 1, 1.0, -1.0)[:, None]
        Y = np.zeros((n, T, 2))
        Y[np.arange(n), :, cls] = 1.0
        mask = np.zeros((n, T))
        mask[:, 6:] = 1.0
        return rs.tasks.Task(inputs=U, targets=Y, mask=mask, dt=1.0)
    train, test = task(64, 0), task(40, 1)
    net = rs.jarne_network(N=10, n_inputs=1, n_outputs=2, init="orthogonal", rng=2)
    res = rs.bptt(net, train, epochs=40, batch_size=16, lr=1e-2, loss="cross_entropy",
                  rng=0)
    assert res.loss_history[-1] < 0.3 * res.loss_history[0]
    z = rs.simulate(res.network, test.inputs, mode="open", record=("z",)).z
    predicted = np.argmax(z[:, 6:], axis=-1)
    truth = np.argmax(test.targets[:, 6:], axis=-1)
    assert np.mean(predicted == truth) >= 0.95


# ----------------------------------------------------------------- noise
def test_noise_follows_the_convention_of_simulate():
    """With the realisation ``simulate`` draws for the same seed (one ``(B, T, N)``
    standard normal draw), the loss is the mean squared error of the simulated noisy
    readout: the two use the same ``noise_std sqrt(alpha)`` scaling and step."""
    net = make_net(10, 1, 2, alpha=0.3, seed=7, b_out=True)
    rng = np.random.default_rng(3)
    B, T = 4, 30
    U = rng.standard_normal((B, T, 1))
    xi = np.random.default_rng(11).standard_normal((B, T, net.N))
    for mode in ("open", "closed"):
        z = rs.simulate(net, U, mode=mode, noise_std=0.8, rng=np.random.default_rng(11),
                        record=("z",)).z
        for backend in ("blas", "numba"):
            loss, _ = loss_and_gradients(net, U, np.zeros((B, T, 2)), mode=mode,
                                         noise_std=0.8, noise=xi, backend=backend)
            assert loss == pytest.approx(np.mean(z**2), rel=1e-10)
        quiet, _ = loss_and_gradients(net, U, np.zeros((B, T, 2)), mode=mode)
        assert abs(quiet - loss) > 1e-3 * loss      # the noise matters here


def test_bptt_noise_is_drawn_from_rng_after_the_shuffle_and_reproducible():
    """bptt draws, per mini-batch, ``rng.standard_normal((batch, T, N))`` after the epoch's
    permutation: its first mini-batch loss equals loss_and_gradients on that draw; the same
    seed gives the same bits, another seed other bits."""
    net = make_net(8, 1, 1, alpha=0.5, seed=8)
    rng = np.random.default_rng(4)
    B, T = 12, 15
    task = rs.tasks.Task(inputs=rng.standard_normal((B, T, 1)),
                         targets=rng.standard_normal((B, T, 1)), mask=np.ones((B, T)),
                         dt=net.dt)
    kw = dict(epochs=2, batch_size=B, lr=1e-2, noise_std=0.6, backend="numba")
    res = rs.bptt(net, task, rng=21, **kw)
    gen = np.random.default_rng(21)
    order = gen.permutation(B)
    xi = gen.standard_normal((B, T, net.N))
    first, _ = loss_and_gradients(net, task.inputs[order], task.targets[order],
                                  task.mask[order], noise_std=0.6, noise=xi,
                                  backend="numba")
    assert res.batch_losses[0] == pytest.approx(first, rel=1e-12)
    again = rs.bptt(net, task, rng=21, **kw)
    np.testing.assert_array_equal(again.batch_losses, res.batch_losses)
    np.testing.assert_array_equal(again.network.J, res.network.J)
    other = rs.bptt(net, task, rng=22, **kw)
    assert not np.array_equal(other.network.J, res.network.J)
    quiet = rs.bptt(net, task, rng=21, **dict(kw, noise_std=0.0))
    assert not np.array_equal(quiet.network.J, res.network.J)


# ----------------------------------------------------------------- readout intercept
def test_b_out_enters_the_forward_pass_and_trains_only_when_named():
    net = make_net(8, 1, 2, seed=9, b_out=True)
    rng = np.random.default_rng(5)
    B, T = 8, 10
    task = rs.tasks.Task(inputs=rng.standard_normal((B, T, 1)),
                         targets=rng.standard_normal((B, T, 2)) + 1.5,
                         mask=np.ones((B, T)), dt=net.dt)
    loss, _ = loss_and_gradients(net, task.inputs, task.targets)
    z = rs.simulate(net, task.inputs, mode="open", record=("z",)).z
    assert loss == pytest.approx(np.mean((z - task.targets) ** 2), rel=1e-12)
    default = rs.bptt(net, task, epochs=3, batch_size=4, lr=1e-2, rng=0)
    np.testing.assert_array_equal(default.network.b_out, net.b_out)
    only = rs.bptt(net, task, epochs=20, batch_size=8, lr=5e-2, train=("b_out",), rng=0)
    assert not np.array_equal(only.network.b_out, net.b_out)
    for name in ("J", "W_in", "b", "W_out", "W_fb"):
        np.testing.assert_array_equal(getattr(only.network, name), getattr(net, name))
    assert only.loss_history[-1] < 0.7 * only.loss_history[0]
    # the gradient in b_out vanishes at the mean residual (a closed form)
    best = np.mean(task.targets - (z - net.b_out), axis=(0, 1))
    _, g = loss_and_gradients(net.with_readout(net.W_out, b_out=best), task.inputs,
                              task.targets)
    np.testing.assert_allclose(g["b_out"], 0.0, atol=1e-12)
    _, g = loss_and_gradients(net.with_readout(net.W_out, b_out=best + 0.1), task.inputs,
                              task.targets)
    np.testing.assert_allclose(g["b_out"], 2 * 0.1 / 2, rtol=1e-10)   # 2 (b - b*) / K


# ----------------------------------------------------------------- rate penalty in training
def test_rate_penalty_lowers_the_rates_in_training():
    net = make_net(10, 1, 1, alpha=0.5, seed=10)
    rng = np.random.default_rng(6)
    B, T = 16, 20
    task = rs.tasks.Task(inputs=rng.standard_normal((B, T, 1)),
                         targets=0.1 * rng.standard_normal((B, T, 1)), mask=np.ones((B, T)),
                         dt=net.dt)
    kw = dict(epochs=30, batch_size=16, lr=1e-2, rng=0)
    plain = rs.bptt(net, task, **kw)
    penalised = rs.bptt(net, task, rate_l2=5.0, **kw)

    def mean_r2(n):
        return np.mean(rs.simulate(n, task.inputs, mode="open", record=("r",)).r ** 2)
    assert mean_r2(penalised.network) < 0.5 * mean_r2(plain.network)


# ----------------------------------------------------------------- validation
def _small():
    net = make_net(4, 1, 2, seed=0)
    return net, np.zeros((2, 3, 1)), np.tile([1.0, 0.0], (2, 3, 1))


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(loss="hinge"), ValueError, "loss"),
    (dict(loss=None), ValueError, "loss"),
    (dict(weight_l1=-0.1), ValueError, "weight_l1"),
    (dict(weight_l1=float("nan")), ValueError, "weight_l1"),
    (dict(weight_l1="0.1"), TypeError, "weight_l1"),
    (dict(weight_l2={"b": 0.1}), ValueError, "weight_l2"),
    (dict(weight_l2={"W_fb": 0.1}), ValueError, "weight_l2"),     # no W_fb in open loop
    (dict(weight_l2={"J": -1.0}), ValueError, "weight_l2"),
    (dict(weight_l2={"J": None}), TypeError, "weight_l2"),
    (dict(rate_l2=-1.0), ValueError, "rate_l2"),
    (dict(rate_l2=float("inf")), ValueError, "rate_l2"),
    (dict(noise_std=-0.1), ValueError, "noise_std"),
    (dict(noise_std=0.1), ValueError, "noise"),                   # no realisation given
    (dict(noise_std=0.1, noise=np.zeros((2, 3, 5))), ValueError, "noise"),
    (dict(noise_std=0.1, noise=np.full((2, 3, 4), np.nan)), ValueError, "noise"),
])
def test_options_are_validated(kwargs, exc, word):
    net, U, Y = _small()
    with pytest.raises(exc, match=word):
        loss_and_gradients(net, U, Y, **kwargs)


def test_cross_entropy_targets_are_validated_where_the_mask_is_nonzero():
    net, U, Y = _small()
    mask = np.ones((2, 3))
    one = make_net(4, 1, 1, seed=0)
    with pytest.raises(ValueError, match="K >= 2"):
        loss_and_gradients(one, U, Y[..., :1], loss="cross_entropy")
    bad = Y.copy()
    bad[1, 2] = [1.5, -0.5]
    with pytest.raises(ValueError, match="non-negative"):
        loss_and_gradients(net, U, bad, mask, loss="cross_entropy")
    bad[1, 2] = [0.6, 0.6]
    with pytest.raises(ValueError, match="sum to 1"):
        loss_and_gradients(net, U, bad, mask, loss="cross_entropy")
    mask[1, 2] = 0.0          # the same targets are fine where the mask is zero
    loss, _ = loss_and_gradients(net, U, bad, mask, loss="cross_entropy")
    assert np.isfinite(loss)
    # probabilities within 1e-6 of a sum of 1 are accepted (float32 one-hot data)
    near = Y * (1 + 5e-7)
    assert np.isfinite(loss_and_gradients(net, U, near, loss="cross_entropy")[0])


def test_bptt_validates_the_loss_options_before_training():
    net = make_net(4, 1, 1, seed=0)
    task = rs.tasks.Task(inputs=np.zeros((2, 3, 1)), targets=np.ones((2, 3, 1)),
                         mask=np.ones((2, 3)), dt=net.dt)
    calls = []
    cb = lambda *a: calls.append(a)     # noqa: E731
    for kwargs, word in [(dict(loss="cross_entropy"), "K >= 2"),
                         (dict(weight_l2=-1.0), "weight_l2"),
                         (dict(rate_l2="x"), "rate_l2"),
                         (dict(noise_std=-1.0), "noise_std"),
                         (dict(train=("W_fb",)), "train")]:
        with pytest.raises((ValueError, TypeError), match=word):
            rs.bptt(net, task, epochs=1, callback=cb, rng=0, **kwargs)
    assert not calls
    two = make_net(4, 1, 2, seed=0)
    bad = rs.tasks.Task(inputs=np.zeros((2, 3, 1)), targets=np.full((2, 3, 2), 0.7),
                        mask=np.ones((2, 3)), dt=two.dt)
    with pytest.raises(ValueError, match="sum to 1"):
        rs.bptt(two, bad, epochs=1, loss="cross_entropy", rng=0)


def test_workspace_reuse_with_options_matches_a_fresh_workspace():
    """Options switched on and off between calls on one workspace (its noise and rate
    buffers are resized) give the fresh-workspace results exactly."""
    net, U, Y, W, kw, _ = feature_case("all", "open", seed=12, N=9, T=11, B=16)
    ws = BPTTWorkspace(2)
    for opts in (kw, {}, kw):
        fresh = loss_and_gradients(net, U, Y, W, workspace=BPTTWorkspace(2), **opts)
        reused = loss_and_gradients(net, U, Y, W, workspace=ws, **opts)
        assert reused[0] == fresh[0]
        for name, g in fresh[1].items():
            np.testing.assert_array_equal(reused[1][name], g)
