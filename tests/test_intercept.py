"""The readout intercept ``b_out`` (``z = W_out phi(x) + b_out``) in every consumer, and the
feedback noise of teacher-forced runs (issue 14).

Independent references: a plain-NumPy Euler loop that feeds back ``W_out phi + b_out``
(and ``y + noise`` in teacher forcing, with the documented draw order); the *folded*
network (bias ``b + W_fb b_out``, no intercept), whose closed loop is the same dynamics with
readouts ``z - b_out``; closed forms for a one-unit loop (brentq); finite differences for
Jacobians and static gains.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.optimize import brentq

import reservoir as rs
from reference import PHI
from reservoir.analysis import (certify_fixed_points, jacobian, network_closed_loop_gain,
                                network_open_loop, network_pole, readout_geometry,
                                saddle_connections, spectrum)
from reservoir.meanfield import MeanFieldParams


# --------------------------------------------------------------------------- networks

def make_net(N=30, K=1, M=1, sparse=False, phi="tanh", g=0.8, seed=0, b_out=None):
    net = rs.random_network(N=N, g=g, n_inputs=M, n_outputs=K, phi=phi,
                            density=0.3 if sparse else 1.0, bias_scale=0.2, rng=seed)
    W_out = np.random.default_rng(seed + 100).standard_normal((K, N)) / np.sqrt(N)
    if b_out is None:
        b_out = np.linspace(0.3, -0.2, K)
    return net.with_readout(W_out, b_out=b_out)


def folded(net):
    """The same closed loop without intercept: bias b + W_fb b_out, b_out = 0."""
    return dataclasses.replace(net, b=net.b + net.W_fb @ net.b_out, b_out=None)


def without(net):
    """The network with its intercept dropped (b_out = 0, same bias)."""
    return dataclasses.replace(net, b_out=None)


def euler_reference(net, U, x0, mode, Y=None, fb_noise=None, fb_std=0.0, noise=None,
                    noise_std=0.0):
    """One trial, one step at a time: the fed-back readout includes b_out; teacher forcing
    feeds back Y[t] + fb_std * fb_noise[t]. Returns x (T, N), z (T, K), x_final."""
    J = net.J.toarray() if net.is_sparse else np.asarray(net.J)
    phi = PHI[net.phi]
    a = net.dt / net.tau
    x = np.array(x0, dtype=float)
    xs, zs = [], []
    for t in range(U.shape[0]):
        r = phi(x)
        z = net.W_out @ r + net.b_out
        xs.append(x.copy())
        zs.append(z)
        if mode == "closed":
            f = z
        elif mode == "teacher":
            f = Y[t] + (fb_std * fb_noise[t] if fb_noise is not None else 0.0)
        else:
            f = np.zeros(net.n_outputs)
        x = (1 - a) * x + a * (J @ r + net.W_in @ U[t] + net.W_fb @ f + net.b)
        if noise is not None:
            x = x + noise_std * np.sqrt(a) * noise[t]
    return np.array(xs), np.array(zs), x


# --------------------------------------------------------------------------- simulate

@pytest.mark.parametrize("mode", ["open", "teacher", "closed"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("noise_std", [0.0, 0.3])
def test_simulate_against_numpy_loop_with_intercept(mode, sparse, batched, noise_std):
    net = make_net(N=30, K=2, M=2, sparse=sparse)
    T, B = 40, 3
    g = np.random.default_rng(7)
    U = g.standard_normal((B, T, 2))
    X0 = g.standard_normal((B, 30))
    Y = g.standard_normal((B, T, 2))
    if not batched:
        U, X0, Y = U[:1], X0[:1], Y[:1]
    args = (U, X0) if batched else (U[0], X0[0])
    tr = rs.simulate(net, *args, mode=mode, targets=(Y if batched else Y[0]),
                     noise_std=noise_std, rng=5)
    # the documented draw: state noise in one chunk of shape (B, T, N)
    noise = (np.random.default_rng(5).standard_normal((U.shape[0], T, 30))
             if noise_std > 0 else None)
    x = tr.x if batched else tr.x[None]
    z = tr.z if batched else tr.z[None]
    xf = tr.x_final if batched else tr.x_final[None]
    for b in range(U.shape[0]):
        xr, zr, xfr = euler_reference(net, U[b], X0[b], mode, Y[b],
                                      noise=None if noise is None else noise[b],
                                      noise_std=noise_std)
        np.testing.assert_allclose(x[b], xr, rtol=1e-10, atol=1e-11)
        np.testing.assert_allclose(z[b], zr, rtol=1e-10, atol=1e-11)
        np.testing.assert_allclose(xf[b], xfr, rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("batched", [False, True])
def test_closed_loop_is_the_folded_network_bit_for_bit(sparse, batched):
    net = make_net(N=25, K=2, M=1, sparse=sparse)
    T = 60
    g = np.random.default_rng(3)
    U = g.standard_normal((4, T, 1)) if batched else g.standard_normal((T, 1))
    x0 = g.standard_normal(25)
    a = rs.simulate(net, U, x0, mode="closed", noise_std=0.1, rng=11)
    f = rs.simulate(folded(net), U, x0, mode="closed", noise_std=0.1, rng=11)
    assert np.array_equal(a.x, f.x) and np.array_equal(a.x_final, f.x_final)
    assert np.array_equal(a.r, f.r)
    assert np.array_equal(a.z, f.z + net.b_out)
    # and the intercept matters: without it (same bias) the states differ
    w = rs.simulate(without(net), U, x0, mode="closed", noise_std=0.1, rng=11)
    assert np.max(np.abs(w.x - a.x)) > 1e-3


@pytest.mark.parametrize("mode", ["open", "teacher"])
def test_open_and_teacher_states_do_not_see_the_intercept(mode):
    net = make_net(N=20, K=1)
    U = np.random.default_rng(0).standard_normal((50, 1))
    Y = np.sin(np.arange(50) * 0.2)[:, None]
    a = rs.simulate(net, U, mode=mode, targets=Y)
    w = rs.simulate(without(net), U, mode=mode, targets=Y)
    assert np.array_equal(a.x, w.x)
    assert np.array_equal(a.z, w.z + net.b_out)        # the recorded z, shifted exactly


@given(b_out=st.lists(st.floats(-3, 3), min_size=2, max_size=2))
def test_recorded_z_shift_property(b_out):
    net = make_net(N=12, K=2, b_out=b_out)
    U = np.ones((15, 1))
    a = rs.simulate(net, U, mode="closed")
    f = rs.simulate(folded(net), U, mode="closed")
    assert np.array_equal(a.x, f.x)
    assert np.array_equal(a.z, f.z + np.asarray(b_out))


def test_continuing_a_closed_loop_run_with_intercept():
    net = make_net(N=20, K=1)
    U = np.random.default_rng(2).standard_normal((80, 1))
    whole = rs.simulate(net, U, mode="closed")
    first = rs.simulate(net, U[:30], mode="closed")
    second = rs.simulate(net, U[30:], first.x_final, mode="closed")
    assert np.array_equal(np.vstack([first.z, second.z]), whole.z)


# --------------------------------------------------------------------------- feedback noise

@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("noise_std", [0.0, 0.2])
def test_feedback_noise_is_the_target_plus_documented_draws(batched, noise_std):
    net = make_net(N=25, K=2, M=1)
    T, B, s = 50, 3, 0.4
    g = np.random.default_rng(1)
    U = g.standard_normal((B, T, 1)) if batched else g.standard_normal((T, 1))
    Y = g.standard_normal((T, 2))           # one target shared by the trials of a batch
    tr = rs.simulate(net, U, mode="teacher", targets=Y, feedback_noise_std=s,
                     noise_std=noise_std, rng=42)
    Bn = B if batched else 1
    gen = np.random.default_rng(42)
    fb = gen.standard_normal((Bn, T, 2))                  # drawn first, in one call
    noise = gen.standard_normal((Bn, T, 25)) if noise_std > 0 else None
    x = tr.x if batched else tr.x[None]
    z = tr.z if batched else tr.z[None]
    for b in range(Bn):
        xr, zr, _ = euler_reference(net, U[b] if batched else U, np.zeros(25), "teacher", Y,
                                    fb_noise=fb[b], fb_std=s,
                                    noise=None if noise is None else noise[b],
                                    noise_std=noise_std)
        np.testing.assert_allclose(x[b], xr, rtol=1e-10, atol=1e-11)
        # the recorded z is the network's readout of those states, not the noisy target
        np.testing.assert_allclose(z[b], zr, rtol=1e-10, atol=1e-11)
    if batched:   # independent noise per trial: the trials differ although U[0] == U[1]
        tr2 = rs.simulate(net, np.broadcast_to(U[0], (2, T, 1)), mode="teacher", targets=Y,
                          feedback_noise_std=s, rng=42)
        assert np.max(np.abs(tr2.x[0] - tr2.x[1])) > 1e-3


def test_feedback_noise_changes_states_only_through_the_feedback():
    net = make_net(N=20, K=1)
    Y = np.full((40, 1), 0.5)
    clean = rs.simulate(net, np.zeros((40, 1)), mode="teacher", targets=Y)
    noisy = rs.simulate(net, np.zeros((40, 1)), mode="teacher", targets=Y,
                        feedback_noise_std=0.5, rng=0)
    assert np.array_equal(noisy.x[:1], clean.x[:1])       # x[0] = x0 in both
    assert np.max(np.abs(noisy.x - clean.x)) > 1e-2
    # the noise enters along W_fb only: the state differences lie in the span of W_fb
    d = noisy.x_final - clean.x_final
    # with J, the difference spreads beyond W_fb after one step; at step 1 it does not
    m = net.W_fb[:, 0]
    d1 = noisy.x[1] - clean.x[1]
    np.testing.assert_allclose(d1, (d1 @ m) / (m @ m) * m, atol=1e-13)
    assert np.linalg.norm(d) > 0


def test_feedback_noise_zero_is_bitwise_no_option_and_seeded_runs_repeat():
    net = make_net(N=20, K=1)
    U = np.random.default_rng(4).standard_normal((3, 30, 1))
    Y = np.random.default_rng(5).standard_normal((30, 1))
    base = rs.simulate(net, U, mode="teacher", targets=Y, noise_std=0.2, rng=9)
    zero = rs.simulate(net, U, mode="teacher", targets=Y, noise_std=0.2, rng=9,
                       feedback_noise_std=0.0)
    assert np.array_equal(base.x, zero.x) and np.array_equal(base.z, zero.z)
    a = rs.simulate(net, U, mode="teacher", targets=Y, feedback_noise_std=0.3, rng=9)
    b = rs.simulate(net, U, mode="teacher", targets=Y, feedback_noise_std=0.3, rng=9)
    c = rs.simulate(net, U, mode="teacher", targets=Y, feedback_noise_std=0.3, rng=10)
    assert np.array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("bad, exc, word", [
    (-0.1, ValueError, "feedback_noise_std"),
    (float("nan"), ValueError, "feedback_noise_std"),
    (float("inf"), ValueError, "feedback_noise_std"),
    ("0.1", TypeError, "feedback_noise_std"),
])
def test_feedback_noise_bad_values(bad, exc, word):
    net = make_net(N=10, K=1)
    with pytest.raises(exc, match=word):
        rs.simulate(net, np.zeros((5, 1)), mode="teacher", targets=np.zeros((5, 1)),
                    feedback_noise_std=bad)


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_feedback_noise_needs_a_fed_back_target(mode):
    net = make_net(N=10, K=1)
    with pytest.raises(ValueError, match="feedback_noise_std.*teacher"):
        rs.simulate(net, np.zeros((5, 1)), mode=mode, feedback_noise_std=0.1)
    # zero is the default and allowed in every mode
    rs.simulate(net, np.zeros((5, 1)), mode=mode, feedback_noise_std=0.0)


# --------------------------------------------------------------------------- fixed points

def loop_1d(w, b_out, alpha=0.1):
    """x = w z, z = tanh(x) + b_out: the fixed points solve x = w tanh(x) + w b_out."""
    return rs.Network(J=np.zeros((1, 1)), W_in=np.zeros((1, 0)), W_fb=[[w]], W_out=[[1.0]],
                      b=[0.0], b_out=[b_out], tau=1.0, dt=alpha)


def loop_roots(w, b0):
    f = lambda x: x - w * np.tanh(x) - w * b0  # noqa: E731
    grid = np.linspace(-w - abs(w * b0) - 2, w + abs(w * b0) + 2, 4001)
    v = f(grid)
    return np.array([brentq(f, grid[i], grid[i + 1], xtol=1e-15)
                     for i in np.flatnonzero(np.sign(v[:-1]) != np.sign(v[1:]))])


@pytest.mark.parametrize("w, b0", [(2.0, 0.1), (2.0, -0.1), (2.0, 0.6), (0.7, 0.5)])
def test_one_unit_loop_fixed_points_closed_form(w, b0):
    net = loop_1d(w, b0)
    fps = rs.find_fixed_points(net, method="scan")
    xs = loop_roots(w, b0)
    assert len(fps) == xs.size
    np.testing.assert_allclose(fps.x[:, 0], xs, atol=1e-10)
    np.testing.assert_allclose(fps.z[:, 0], np.tanh(xs) + b0, atol=1e-10)
    # the flow Jacobian -1 + w (1 - tanh^2): the intercept moves the point, not the rule
    lam = -1 + w * (1 - np.tanh(xs) ** 2)
    np.testing.assert_allclose(fps.jacobian_eigenvalues[:, 0].real, lam, atol=1e-9)
    assert list(fps.stable) == list(lam < 0)
    cert = certify_fixed_points(net)
    assert cert.complete is True
    np.testing.assert_allclose(cert.z[:, 0], np.tanh(xs) + b0, atol=1e-10)
    assert cert.region[0, 0] < b0 - 1 and cert.region[0, 1] > b0 + 1


@pytest.fixture(scope="module")
def trained():
    """A ridge-trained stationary network (the README's example, N = 60) with an intercept,
    its folded twin and the network without intercept."""
    net = rs.random_network(N=60, g=0.5, n_inputs=1, n_outputs=1, input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=1)
    task = rs.tasks.stationary(target=2.0, duration=100.0, dt=0.1, washout=60.0)
    net0 = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10).network
    ni = dataclasses.replace(net0, b_out=np.array([0.3]))
    return ni, folded(ni), net0


def assert_same_points(fi, ff, b_out, atol=1e-9):
    assert len(fi) == len(ff) > 0
    np.testing.assert_allclose(fi.x, ff.x, atol=atol)
    np.testing.assert_allclose(fi.z, ff.z + b_out, atol=atol)
    assert list(fi.stability) == list(ff.stability)
    assert list(fi.stable_flow) == list(ff.stable_flow)
    np.testing.assert_allclose(fi.multipliers, ff.multipliers, atol=1e-8)


def closed_F(net, x, u):
    """-x + J phi(x) + W_fb (W_out phi(x) + b_out) + W_in u + b, in plain NumPy."""
    r = PHI[net.phi](x)
    return -x + np.asarray(net.dense_J()) @ r + net.W_fb @ (net.W_out @ r + net.b_out) \
        + net.W_in @ u + net.b


def test_find_fixed_points_scan_with_intercept_equals_folded(trained):
    ni, nf, n0 = trained
    fi = rs.find_fixed_points(ni, [1.0], rng=0, method="scan")
    ff = rs.find_fixed_points(nf, [1.0], rng=0, method="scan")
    f0 = rs.find_fixed_points(n0, [1.0], rng=0, method="scan")
    assert_same_points(fi, ff, ni.b_out)
    assert fi.complete is True and ff.complete is True
    for x in fi.x:
        assert np.max(np.abs(closed_F(ni, x, [1.0]))) < 1e-9
    # the intercept matters: the network without it has other fixed points
    assert len(f0) != len(fi) or not np.allclose(f0.z, fi.z, atol=1e-3)
    # G on the scan grid: the readout of the open-loop fixed point, plus b_out, minus z
    k = len(fi.z_grid) // 2
    sysz = fi.z_grid[k]
    r = rs.simulate(ni, np.ones((3000, 1)), mode="teacher", targets=np.full((3000, 1), sysz),
                    record=()).x_final
    G = ni.W_out[0] @ np.tanh(r) + ni.b_out[0] - sysz
    assert G == pytest.approx(fi.G_grid[k], abs=1e-7)


def test_slow_point_search_with_intercept_equals_folded():
    net = make_net(N=20, K=2, g=0.6, seed=3, b_out=[0.4, -0.3])
    net = dataclasses.replace(net, W_fb=net.W_fb * 2.0)
    fi = rs.find_fixed_points(net, method="slow", n_seeds=8, rng=1)
    ff = rs.find_fixed_points(folded(net), method="slow", n_seeds=8, rng=1)
    assert_same_points(fi, ff, net.b_out)
    for x in fi.x[fi.is_fixed]:
        assert np.max(np.abs(closed_F(net, x, np.zeros(1)))) < 1e-9


def test_certificate_with_intercept_equals_folded_shifted(trained):
    ni, nf, _ = trained
    ci = certify_fixed_points(ni, [1.0])
    cf = certify_fixed_points(nf, [1.0])
    assert ci.complete is True and cf.complete is True
    np.testing.assert_allclose(ci.z, cf.z + ni.b_out, atol=1e-10)
    np.testing.assert_allclose(ci.x, cf.x, atol=1e-10)
    np.testing.assert_allclose(ci.region, cf.region + ni.b_out[:, None], atol=1e-12)


def test_certificate_two_readouts_with_intercept():
    net = make_net(N=15, K=2, g=0.3, seed=5, b_out=[0.5, -0.25])
    ci = certify_fixed_points(net)
    cf = certify_fixed_points(folded(net))
    assert ci.complete is True and cf.complete is True
    np.testing.assert_allclose(ci.z, cf.z + net.b_out, atol=1e-10)
    for x in ci.x:
        assert np.max(np.abs(closed_F(net, x, np.zeros(1)))) < 1e-9


# --------------------------------------------------------------------------- linearisation

def test_jacobian_with_intercept_against_finite_differences(trained):
    ni, nf, n0 = trained
    x = rs.find_fixed_points(ni, [1.0], rng=0).x[0]
    Jc = jacobian(ni, x, u=[1.0], mode="closed")
    h = 1e-6
    fd = np.empty_like(Jc)
    for j in range(ni.N):
        e = np.zeros(ni.N)
        e[j] = h
        fd[:, j] = (closed_F(ni, x + e, [1.0]) - closed_F(ni, x - e, [1.0])) / (2 * h)
    np.testing.assert_allclose(Jc * ni.tau, fd, atol=1e-7)
    assert np.array_equal(Jc, jacobian(nf, x, u=[1.0], mode="closed"))
    si, sf = spectrum(ni, x, u=[1.0]), spectrum(nf, x, u=[1.0])
    assert np.array_equal(si.eigenvalues, sf.eigenvalues)


def test_transfer_functions_drop_the_intercept_and_match_finite_differences(trained):
    ni, nf, _ = trained
    x = rs.find_fixed_points(ni, [1.0], rng=0).x[0]
    s = np.array([0.0, 0.5j, 1.0])
    assert np.array_equal(network_open_loop(ni, x, s), network_open_loop(nf, x, s))
    v = np.random.default_rng(0).standard_normal(ni.N) / np.sqrt(ni.N)
    T0 = network_closed_loop_gain(ni, x, v, 0.0)
    # independent: the static gain is dz*/dp of the fixed point with the extra bias v p
    eps = 1e-5
    zs = []
    for p in (-eps, eps):
        fp = rs.find_fixed_points(dataclasses.replace(ni, b=ni.b + p * v), [1.0], rng=0)
        zs.append(fp.z[np.argmin(np.abs(fp.z[:, 0] - (ni.W_out[0] @ np.tanh(x)
                                                       + ni.b_out[0]))), 0])
    assert complex(T0).real == pytest.approx((zs[1] - zs[0]) / (2 * eps), rel=1e-5, abs=1e-8)
    assert network_pole(ni, x, -0.5) == pytest.approx(network_pole(nf, x, -0.5), abs=1e-10)


# --------------------------------------------------------------------------- stability

def test_stability_report_with_intercept_equals_folded(trained):
    ni, nf, _ = trained
    ri = rs.stability_report(ni, u=[1.0], target=2.3, n_init=40, duration=40.0, rng=3)
    rf = rs.stability_report(nf, u=[1.0], target=2.0, n_init=40, duration=40.0, rng=3)
    assert_same_points(ri.fixed_points, rf.fixed_points, ni.b_out)
    assert ri.target_index == rf.target_index is not None
    assert ri.target_stable == rf.target_stable
    assert np.array_equal(ri.basin_fraction, rf.basin_fraction)
    assert np.array_equal(ri.converged, rf.converged)
    np.testing.assert_allclose(ri.final_z, rf.final_z + ni.b_out, atol=1e-12)
    assert ri.fraction_to_target == rf.fraction_to_target
    assert ri.lyapunov_exponent == rf.lyapunov_exponent     # the same simulated bits
    assert ri.globally_stable == rf.globally_stable
    assert ri.n_unmatched == 0


def test_saddle_connections_with_intercept_one_unit_loop():
    w, b0 = 2.0, 0.1
    net = loop_1d(w, b0)
    fps = rs.find_fixed_points(net, method="scan")
    xs = loop_roots(w, b0)
    assert len(fps) == 3
    sc = saddle_connections(net, fps)
    assert sc.success and sc.saddle_index.tolist() == [1]
    assert sc.ends.tolist() == [[2, 0]]
    np.testing.assert_allclose(sc.x_end[0, :, 0], [xs[2], xs[0]], atol=1e-8)
    assert np.all(sc.end_residual < 1e-8)      # the residual includes W_fb b_out
    # the same network folded (bias w b0, no intercept) connects the same way
    sf = saddle_connections(folded(net), rs.find_fixed_points(folded(net), method="scan"))
    assert sf.ends.tolist() == sc.ends.tolist()
    np.testing.assert_allclose(sf.x_end, sc.x_end, atol=1e-12)


def test_lyapunov_exponent_with_intercept_equals_folded(trained):
    ni, nf, _ = trained
    a = rs.lyapunov_exponent(ni, [1.0], duration=20.0, transient=5.0, rng=0)
    b = rs.lyapunov_exponent(nf, [1.0], duration=20.0, transient=5.0, rng=0)
    assert a == b


# --------------------------------------------------------------------------- geometry

def test_readout_geometry_reports_the_intercept(trained):
    ni, nf, _ = trained
    rep = rs.stability_report(ni, u=[1.0], target=2.3, n_init=5, duration=10.0,
                              lyapunov=False, rng=0)
    x = rep.fixed_points.x[rep.target_index]
    gi = readout_geometry(ni, u=[1.0], x=x, report=rep)
    gf = readout_geometry(nf, u=[1.0], x=x, target=2.0, rng=0)
    assert np.array_equal(gi.b_out, ni.b_out) and np.array_equal(gf.b_out, [0.0])
    assert gi.readout_at[0] == pytest.approx(ni.W_out[0] @ np.tanh(x) + 0.3, abs=1e-12)
    assert gi.readout_at[0] == pytest.approx(2.3, abs=0.06)
    for name in ("overlap_nm", "overlap_nI", "overlap_mI", "cos_nm", "norm_n"):
        assert np.array_equal(getattr(gi, name), getattr(gf, name))
    assert gi.solution_class == gf.solution_class
    gt = readout_geometry(ni, u=[1.0], target=2.3, rng=0)
    assert gt.solution_class == gi.solution_class


# --------------------------------------------------------------------------- theory

def test_predict_accounts_for_the_intercept_exactly(trained):
    ni, nf, _ = trained
    pi = rs.predict(ni, [1.0], target=2.3, theory="uncorrelated", rng=0)
    pf = rs.predict(nf, [1.0], target=2.0, theory="uncorrelated", rng=0)
    assert len(pi.rows) == len(pf.rows) > 0
    for a, b in zip(pi.rows, pf.rows):
        assert a["z_theory"] == pytest.approx(b["z_theory"] + 0.3, abs=1e-12)
        if np.isnan(b["z_measured"]):
            assert np.isnan(a["z_measured"])
        else:
            assert a["z_measured"] == pytest.approx(b["z_measured"] + 0.3, abs=1e-9)
        assert a["stable_theory"] == b["stable_theory"]
        assert a["stable_measured"] == b["stable_measured"]
    np.testing.assert_allclose(pi.theory.z, pf.theory.z + 0.3, atol=1e-12)
    np.testing.assert_allclose(pi.theory.G_grid, pf.theory.G_grid, atol=0)
    assert pi.class_theory == pf.class_theory and pi.class_measured == pf.class_measured
    assert pi.params.var_I == pf.params.var_I
    # the folded statistics: I = W_in u + b + W_fb b_out
    I = ni.W_in @ [1.0] + ni.b + ni.W_fb @ ni.b_out
    assert pi.params.cov_mI == pytest.approx(ni.W_fb[:, 0] @ I / ni.N, rel=1e-12)


def test_theories_without_intercept_refuse_or_say_so(trained):
    ni, _, n0 = trained
    with pytest.raises(ValueError, match="intercept"):
        rs.predict(ni, [1.0], target=2.3, theory="ls")
    with pytest.raises(ValueError, match="intercept"):
        MeanFieldParams.from_network(ni, [1.0])
    # a ridge record of this very W_out, but with an intercept added: auto says why
    assert n0.meta["readout_fit"]["method"] == "ridge"
    assert np.array_equal(ni.W_out, n0.W_out)
    p = rs.predict(ni, [1.0], target=2.3, rng=0)
    assert p.theory_name == "uncorrelated"
    assert any("intercept" in m for m in p.messages)


# --------------------------------------------------------------------------- io, bad input

def test_save_load_round_trip_with_intercept(tmp_path, trained):
    ni = trained[0]
    for net in (ni, make_net(N=20, K=2, sparse=True, b_out=[1e-300, -7.25])):
        path = tmp_path / "net.npz"
        rs.save(net, path)
        back = rs.load(path)
        assert back == net
        assert back.b_out.dtype == np.float64
        assert np.array_equal(back.b_out.view(np.uint64), net.b_out.view(np.uint64))
        U = np.ones((20, net.n_inputs))
        assert np.array_equal(rs.simulate(back, U, mode="closed").z,
                              rs.simulate(net, U, mode="closed").z)


@pytest.mark.parametrize("bad", [[0.1, 0.2], [[0.1]], [np.nan], [np.inf], "a"])
def test_bad_b_out_is_refused(bad):
    net = make_net(N=10, K=1)
    with pytest.raises((ValueError, TypeError), match="b_out"):
        dataclasses.replace(net, b_out=bad)
    with pytest.raises((ValueError, TypeError), match="b_out"):
        net.with_readout(net.W_out, b_out=bad)


def test_a_readout_that_is_only_an_intercept_has_one_reliable_fixed_point():
    """W_out = 0, b_out = 2 (what a constant-target fit with an intercept gives): h(z) =
    2 - z exactly, a scan point lands on the root, and the scan must not flag the
    neighbouring interval as hiding roots."""
    net = rs.random_network(50, 0.5, 1, 1, feedback_dist="normal", rng=1)
    net = net.with_readout(np.zeros((1, 50)), np.array([2.0]))
    fps = rs.find_fixed_points(net, u=[1.0], rng=0)
    assert fps.success and fps.unreliable == ()
    np.testing.assert_array_equal(fps.z[fps.is_fixed], [[2.0]])
    # independent: the state is the open-loop fixed point with the constant feedback 2
    x = fps.x[0]
    F = -x + net.dense_J() @ np.tanh(x) + net.W_in @ [1.0] + net.W_fb @ [2.0] + net.b
    assert np.max(np.abs(F)) < 1e-10
