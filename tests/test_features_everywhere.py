"""Each training feature of issue 14 through every analysis and through save/load.

A network trained (or built) with each feature is run through ``simulate``,
``find_fixed_points``, ``stability_report``, ``readout_geometry``, ``predict`` and
``save``/``load``, and each answer is checked against an independent plain-NumPy
computation on the network's arrays:

* ``simulate`` in closed loop against a NumPy Euler loop with ``z = W_out phi(x) + b_out``
  fed back (to 1e-12);
* every fixed point against the NumPy residual of the closed-loop flow (below 1e-8) and its
  readout ``W_out phi(x) + b_out``;
* the stability verdicts against the eigenvalues of the NumPy Euler-map Jacobian;
* the readout geometry against the overlaps computed from ``W_out`` and ``W_fb``;
* ``predict``'s measured points against the fixed points found directly (K = 1), or a
  ValueError naming ``K`` (K = 2);
* ``save``/``load``: an equal network (``b_out`` and ``dale_signs`` included) that simulates
  with the same bits.

The README's "Training options" block is run line by line (with small sizes) at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

import reservoir as rs

PHI = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0),
       "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x))}
DPHI = {"tanh": lambda x: 1.0 - np.tanh(x) ** 2, "relu": lambda x: (x > 0).astype(float),
        "sigmoid": lambda x: PHI["sigmoid"](x) * (1.0 - PHI["sigmoid"](x))}


def _stationary(N=40, A=0.8, rng=1, **kw):
    net = rs.random_network(N=N, g=0.5, n_inputs=1, n_outputs=1, input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=rng, **kw)
    task = rs.tasks.stationary(target=A, duration=40.0, dt=0.1, washout=20.0)
    return net, task


def _xor_task(dt=1.0, n=32, rng=0):
    return rs.tasks.xor(n_trials=n, dt=dt, rng=rng)


# ----------------------------------------------------------------- the featured networks
def f_ridge_intercept():
    net, task = _stationary()
    return rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-6,
                        intercept=True).network, [1.0]


def f_ridge_list():
    net, task = _stationary()
    U, Y = task.inputs, task.targets
    return rs.fit_ridge(net, [U, U[:300]], [Y, Y[:300]], reg=1e-6,
                        washout=200).network, [1.0]


def f_feedback_noise():
    net, task = _stationary()
    return rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-6,
                        feedback_noise_std=0.02, rng=0).network, [1.0]


def f_force_forgetting():
    net, task = _stationary()
    return rs.force(net, task.inputs, task.targets, reg=1.0, forgetting=0.995,
                    rng=0).network, [1.0]


def f_force_list_intercept():
    net, task = _stationary()
    U, Y = task.inputs, task.targets
    return rs.force(net, [U[:200], U[:150]], [Y[:200], Y[:150]], reg=1.0, intercept=True,
                    reset_state=True, rng=0).network, [1.0]


def f_spectral_radius():
    net, task = _stationary(spectral_radius=0.6)
    return rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask,
                        reg=1e-6).network, [1.0]


def f_bptt_dale():
    task = _xor_task()
    net = rs.dale_network(20, 2, 1, excitatory_fraction=0.8, dt=task.dt, rng=0)
    return rs.bptt(net, task, epochs=2, batch_size=16, nonnegative_inputs=True,
                   excitatory_readout=True, rng=0).network, [0.0, 0.0]


def f_bptt_masks_sparse():
    task = _xor_task()
    base = rs.random_network(N=20, g=0.9, n_inputs=2, n_outputs=1, density=0.3, tau=1.0,
                             dt=1.0, rng=3)
    mask_in = np.ones((20, 2), dtype=bool)
    mask_in[::2, 0] = False
    return rs.bptt(base, task, epochs=2, batch_size=16, masks={"W_in": mask_in},
                   rng=0).network, [0.0, 0.0]


def f_bptt_penalties_noise_intercept():
    task = _xor_task()
    net = rs.jarne_network(20, 2, 1, dt=task.dt, rng=1)
    return rs.bptt(net, task, epochs=2, batch_size=16, weight_l1=1e-4, weight_l2=1e-3,
                   rate_l2=1e-3, noise_std=0.05, train=("J", "W_in", "b", "W_out", "b_out"),
                   rng=0).network, [0.0, 0.0]


def f_bptt_cross_entropy():
    task = _xor_task()
    y = task.targets[..., 0]
    onehot = np.stack([(y > 0).astype(float), (y <= 0).astype(float)], axis=-1)
    ce_task = rs.tasks.Task(inputs=task.inputs, targets=onehot, mask=task.mask, dt=task.dt)
    net = rs.jarne_network(20, 2, 2, dt=task.dt, rng=2)
    return rs.bptt(net, ce_task, epochs=2, batch_size=16, loss="cross_entropy",
                   rng=0).network, [0.0, 0.0]


def f_bptt_checkpoint(tmp_path):
    task = _xor_task()
    net = rs.jarne_network(20, 2, 1, dt=task.dt, rng=4)
    path = tmp_path / "run.npz"
    rs.bptt(net, task, epochs=1, batch_size=16, checkpoint=path, rng=0)
    return rs.bptt(net, task, epochs=2, batch_size=16, checkpoint=path,
                   rng=0).network, [0.0, 0.0]


FEATURES = {f.__name__[2:]: f for f in (
    f_ridge_intercept, f_ridge_list, f_feedback_noise, f_force_forgetting,
    f_force_list_intercept, f_spectral_radius, f_bptt_dale, f_bptt_masks_sparse,
    f_bptt_penalties_noise_intercept, f_bptt_cross_entropy, f_bptt_checkpoint)}


@pytest.fixture(scope="module")
def featured(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            f = FEATURES[name]
            args = (tmp_path_factory.mktemp(name),) if name == "bptt_checkpoint" else ()
            cache[name] = f(*args)
        return cache[name]
    return get


# ----------------------------------------------------------------- independent references
def _closed_flow(net, u, X):
    """NumPy closed-loop flow ``-x + J r + W_in u + W_fb (W_out r + b_out) + b`` (rows)."""
    J = net.dense_J()
    R = PHI[net.phi](X)
    Z = R @ net.W_out.T + net.b_out
    return -X + R @ J.T + net.W_in @ u + Z @ net.W_fb.T + net.b, Z


def _closed_run(net, u, x0, T):
    J = net.dense_J()
    a = net.alpha
    x = np.array(x0, float)
    zs = []
    for _ in range(T):
        r = PHI[net.phi](x)
        z = net.W_out @ r + net.b_out
        zs.append(z)
        x = (1 - a) * x + a * (J @ r + net.W_in @ u + net.W_fb @ z + net.b)
    return np.array(zs), x


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_through_every_analysis_and_save_load(name, featured, tmp_path):
    net, u = featured(name)
    u = np.asarray(u, float)
    N, K = net.N, net.n_outputs
    if name == "bptt_dale":
        assert net.dale_signs is not None
        J = net.dense_J()
        assert np.all(J * net.dale_signs[None, :] >= 0)
    if name == "bptt_masks_sparse":
        assert net.is_sparse
    if name in ("ridge_intercept", "force_list_intercept"):
        assert net.has_intercept

    # simulate, closed loop, against NumPy
    x0 = np.random.default_rng(5).standard_normal(N) * 0.5
    T = 60
    tr = rs.simulate(net, np.broadcast_to(u, (T, u.size)), x0=x0, mode="closed")
    z_ref, x_ref = _closed_run(net, u, x0, T)
    np.testing.assert_allclose(tr.z, z_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.x_final, x_ref, rtol=1e-12, atol=1e-12)

    # fixed points: NumPy residual and readout
    fps = rs.find_fixed_points(net, u, rng=0)
    fixed = fps.is_fixed
    assert np.any(fixed), fps.messages
    F, Z = _closed_flow(net, u, fps.x[fixed])
    assert np.max(np.abs(F)) < 1e-8
    np.testing.assert_allclose(fps.z[fixed], Z, rtol=1e-10, atol=1e-10)

    # stability verdicts against the eigenvalues of the NumPy Euler-map Jacobian
    rep = rs.stability_report(net, u, n_init=16, duration=20.0, lyapunov=False,
                              fixed_points=fps, rng=0)
    J = net.dense_J()
    for i in np.flatnonzero(fixed):
        D = DPHI[net.phi](fps.x[i])
        M = np.eye(N) + net.alpha * (-np.eye(N) + (J + net.W_fb @ net.W_out) * D[None, :])
        rho = np.max(np.abs(np.linalg.eigvals(M)))
        if abs(rho - 1.0) > 1e-6:                       # clear cases only
            assert bool(rep.fixed_points.stable[i]) == (rho < 1.0), (i, rho)

    # readout geometry against NumPy overlaps
    geo = rs.readout_geometry(net, u=u if u.size else None)
    nm = np.einsum("kn,nk->k", N * net.W_out, net.W_fb) / N
    np.testing.assert_allclose(geo.overlap_nm, nm, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(geo.b_out, net.b_out)

    # predict: the measured points are the fixed points found directly (K = 1)
    if K == 1:
        pred = rs.predict(net, u=u, fixed_points=fps)
        assert pred.theory_name == "uncorrelated"
        assert np.isfinite(pred.theory.z).all()
    else:
        with pytest.raises(ValueError, match=r"\bK\b|one readout"):
            rs.predict(net, u=u)

    # save / load: equal, and the same bits when simulated
    path = tmp_path / "net.npz"
    rs.save(net, path)
    back = rs.load(path)
    assert back == net
    np.testing.assert_array_equal(back.b_out, net.b_out)
    assert (back.dale_signs is None) == (net.dale_signs is None)
    tr2 = rs.simulate(back, np.broadcast_to(u, (T, u.size)), x0=x0, mode="closed")
    np.testing.assert_array_equal(tr2.z, tr.z)


# ----------------------------------------------------------------- the README's lines
def test_readme_training_options_run_as_written(tmp_path, monkeypatch):
    """Every line of the README's "Training options" block, at small sizes, with a check
    of what the comment promises."""
    monkeypatch.chdir(tmp_path)
    net, stat = _stationary(N=30)
    U, Y = stat.inputs, stat.targets
    U1, Y1, U2, Y2 = U[:250], Y[:250], U[:180], Y[:180]
    Us, Ys = [U1, U2], [Y1, Y2]

    fit = rs.fit_ridge(net, U, Y, intercept=True)
    assert fit.network.has_intercept and fit.b_out.shape == (1,)
    fit = rs.fit_ridge(net, [U1, U2], [Y1, Y2], washout=50)
    assert fit.x_final.shape == (2, net.N)
    fit = rs.fit_ridge(net, U, Y, feedback_noise_std=0.05, rng=0)
    assert fit.network.meta["readout_fit"]["feedback_noise_std"] == 0.05
    res = rs.force(net, Us, Ys, reset_state=True)
    assert res.n_trials == 2
    res = rs.force(net, U, Y, forgetting=0.999)
    assert res.success
    tr = rs.simulate(net, U, mode="teacher", targets=Y, feedback_noise_std=0.01, rng=0)
    assert tr.z.shape == Y.shape
    big = rs.random_network(300, 1.0, density=0.1, spectral_radius=0.95, rng=0)
    assert abs(np.max(np.abs(np.linalg.eigvals(big.dense_J()))) - 0.95) < 1e-9

    task = _xor_task(n=32)
    net = rs.dale_network(20, 2, 1, excitatory_fraction=0.8, init="balanced", dt=task.dt,
                          rng=0)
    res = rs.bptt(net, task, epochs=1, batch_size=16, nonnegative_inputs=True,
                  excitatory_readout=True)
    signs = res.network.dale_signs
    assert np.all(res.network.dense_J() * signs[None, :] >= 0)
    assert np.all(res.network.W_in >= 0) and np.all(res.network.W_out[:, signs < 0] == 0)
    C = np.random.default_rng(0).random((20, 20)) < 0.3
    res = rs.bptt(net, task, epochs=1, batch_size=16, masks={"J": C})
    assert np.all(res.network.dense_J()[~C] == 0)
    res = rs.bptt(net, task, epochs=1, batch_size=16, weight_l2=1e-3, rate_l2=1e-2,
                  noise_std=0.1, rng=0)
    twin = rs.bptt(net, task, epochs=1, batch_size=16, weight_l2=1e-3, rate_l2=1e-2,
                   noise_std=0.1, rng=0)
    assert twin.network == res.network            # the training noise is seeded
    assert np.isfinite(res.loss_history).all()
    y = task.targets[..., 0]
    onehot = np.stack([(y > 0).astype(float), (y <= 0).astype(float)], axis=-1)
    ce_task = rs.tasks.Task(inputs=task.inputs, targets=onehot, mask=task.mask, dt=task.dt)
    net2 = rs.jarne_network(20, 2, 2, dt=task.dt, rng=0)
    res = rs.bptt(net2, ce_task, epochs=1, batch_size=16, loss="cross_entropy")
    assert np.isfinite(res.loss_history).all() and res.loss_history[0] < np.log(2) + 0.5
    res = rs.bptt(net, task, epochs=2, batch_size=16, checkpoint="run.npz", rng=0)
    again = rs.bptt(net, task, epochs=2, batch_size=16, checkpoint="run.npz", rng=0)
    assert again.network == res.network           # resumed at its end: the same bits
    net = rs.jarne_network(50, 2, 1, dt=task.dt, rng=0)
    assert net.tau == task.dt
    other = rs.tasks.xor(n_trials=8, dt=0.5, rng=0)
    with pytest.raises(ValueError, match="dt"):
        rs.bptt(net, other, epochs=1)
