import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, strategies as st

import reservoir as rs
from reference import PHI


def _net(N, phi, density, seed, K=1, M=1, alpha=0.2, tau=1.0):
    net = rs.random_network(N, 1.2, M, K, phi=phi, density=density, dt=alpha * tau, tau=tau,
                            bias_scale=0.3, rng=seed)
    return net.with_readout(np.random.default_rng(seed).standard_normal((K, N)) / np.sqrt(N))


def _flow(net, x, u, mode, y):
    """Continuous-time vector field written out directly."""
    J = net.dense_J()
    r = PHI[net.phi](x)
    f = net.W_out @ r if mode == "closed" else (y if mode == "teacher" else 0 * y)
    return (-x + J @ r + net.W_in @ u + net.W_fb @ f + net.b) / net.tau


@given(N=st.integers(1, 25), phi=st.sampled_from(["tanh", "relu", "sigmoid"]),
       mode=st.sampled_from(["closed", "open", "teacher"]), density=st.sampled_from([1.0, 0.4]),
       K=st.integers(1, 2), tau=st.sampled_from([1.0, 2.5]), seed=st.integers(0, 1000))
def test_flow_jacobian_equals_central_differences(N, phi, mode, density, K, tau, seed):
    net = _net(N, phi, density, seed, K=K, tau=tau)
    rng = np.random.default_rng(seed + 7)
    x = rng.standard_normal(N)
    x[np.abs(x) < 1e-2] = 0.5  # keep ReLU away from its kink
    u = rng.standard_normal(1)
    y = rng.standard_normal(K)
    Jac = rs.jacobian(net, x, u=u, mode=mode, kind="flow")
    h = 1e-6
    fd = np.empty((N, N))
    for j in range(N):
        e = np.zeros(N)
        e[j] = h
        fd[:, j] = (_flow(net, x + e, u, mode, y) - _flow(net, x - e, u, mode, y)) / (2 * h)
    np.testing.assert_allclose(Jac, fd, rtol=1e-6, atol=1e-7)


@given(N=st.integers(1, 20), phi=st.sampled_from(["tanh", "relu", "sigmoid"]),
       density=st.sampled_from([1.0, 0.4]), alpha=st.sampled_from([0.1, 0.5, 1.0]),
       seed=st.integers(0, 1000))
def test_map_jacobian_equals_differences_of_one_simulated_step(N, phi, density, alpha, seed):
    """The Euler-map Jacobian against finite differences of the simulator itself."""
    net = _net(N, phi, density, seed, alpha=alpha)
    x = np.random.default_rng(seed).standard_normal(N)
    x[np.abs(x) < 1e-2] = 0.5
    u = np.array([0.3])

    def step(v):
        return rs.simulate(net, u[None, :], v, mode="closed", record=()).x_final
    h = 1e-6
    fd = np.column_stack([(step(x + h * e) - step(x - h * e)) / (2 * h) for e in np.eye(N)])
    np.testing.assert_allclose(rs.jacobian(net, x, u=u, kind="map"), fd, rtol=1e-6, atol=1e-7)


def test_two_unit_network_hand_derived_eigenvalues():
    a, b, c, tau = 2.0, 0.32, 2.0, 2.0
    net = rs.Network(J=[[0.0, a], [b, 0.0]], W_in=np.zeros((2, 0)), W_fb=[[1.0], [0.0]],
                     W_out=[[0.0, c]], b=np.zeros(2), phi="tanh", tau=tau, dt=0.1)
    x0 = np.zeros(2)  # a fixed point: no input, no bias, tanh(0) = 0
    # open loop: -1 +- sqrt(ab) over tau
    ev = np.sort(np.linalg.eigvals(rs.jacobian(net, x0, mode="open")).real)
    np.testing.assert_allclose(ev, (-1 + np.array([-1.0, 1.0]) * np.sqrt(a * b)) / tau)
    # closed loop: the feedback adds c to the (0, 1) coupling
    ev = np.sort(np.linalg.eigvals(rs.jacobian(net, x0, mode="closed")).real)
    np.testing.assert_allclose(ev, (-1 + np.array([-1.0, 1.0]) * np.sqrt((a + c) * b)) / tau)
    spec = rs.spectrum(net, x0, mode="closed")
    np.testing.assert_allclose(spec.eigenvalues, [np.sqrt(1.28), -np.sqrt(1.28)])
    assert not spec.stable_flow and rs.spectrum(net, x0, mode="open").stable_flow


def test_three_unit_saturated_fixed_point():
    """phi'(x) = 1 - tanh^2 scales the columns: at x = (s, 0, 0) the first column is damped."""
    J = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # a 3-cycle
    net = rs.Network(J=J, W_in=np.zeros((3, 0)), W_fb=np.zeros((3, 1)), W_out=np.zeros((1, 3)),
                     b=np.zeros(3), phi="tanh")
    s = 1.3
    d = 1 - np.tanh(s) ** 2
    lam = np.linalg.eigvals(rs.jacobian(net, [s, 0.0, 0.0], mode="open") + np.eye(3))
    # eigenvalues of the cycle with one gain d: the cube roots of d
    np.testing.assert_allclose(np.sort_complex(lam),
                               np.sort_complex(d ** (1 / 3) * np.exp(2j * np.pi * np.arange(3) / 3)),
                               atol=1e-12)


def test_rank_one_feedback_creates_outlier_at_overlap():
    """J + m n^T / N with g < 1: one outlier at n.m / N (matrix determinant
    lemma, as in Mastrogiuseppe & Ostojic 2019), bulk radius g."""
    N, g = 1000, 0.5
    net = rs.random_network(N, g, 0, 1, feedback_dist="normal", rng=0)
    rng = np.random.default_rng(1)
    m = net.W_fb[:, 0]
    n = m + rng.standard_normal(N)   # correlated with m, independent of J
    n *= 1.5 / (n @ m / N)           # overlap n.m/N exactly 1.5
    net = net.with_readout(n[None, :] / N)
    spec = rs.spectrum(net, np.zeros(N), mode="closed")
    assert abs(spec.bulk_radius - g) < 0.02
    assert len(spec.outliers) == 1
    assert abs(spec.outliers[0] - 1.5) < 0.05
    assert not spec.stable_flow
    # open loop: only the bulk
    assert len(rs.spectrum(net, np.zeros(N), mode="open").outliers) == 0


@pytest.mark.parametrize("overlap", [0.6, 1.4])
def test_linear_stability_agrees_with_simulation(overlap):
    """At x* = 0 the outlier mu = overlap sets the growth rate (mu - 1) / tau of a small
    perturbation along its eigenvector: it decays for mu < 1 and grows for mu > 1."""
    N, g = 600, 0.4
    net = rs.random_network(N, g, 0, 1, feedback_dist="normal", dt=0.05, rng=2)
    m = net.W_fb[:, 0]
    n = m + np.random.default_rng(3).standard_normal(N)
    n = n * (overlap / (n @ m / N))
    net = net.with_readout(n[None, :] / N)
    lam, vecs = np.linalg.eig(rs.jacobian(net, np.zeros(N), mode="closed"))
    k = np.argmax(lam.real)
    v = np.real(vecs[:, k])
    eps, T = 1e-6, 100
    tr = rs.simulate(net, None, eps * v, mode="closed", n_steps=T, record=("x",))
    norms = np.linalg.norm(tr.x, axis=1)
    rate = np.polyfit(np.arange(T) * net.dt, np.log(norms), 1)[0]
    assert np.sign(rate) == np.sign(overlap - 1)
    # Euler map: growth per step log|1 + dt mu| / dt ~ mu (flow units)
    predicted = np.log(abs(1 + net.dt * lam[k])) / net.dt
    assert abs(rate - predicted) < 0.02 * abs(predicted) + 1e-3


def test_jacobian_bad_input():
    net = _net(4, "tanh", 1.0, 0)
    with pytest.raises(ValueError, match="x"):
        rs.jacobian(net, np.zeros(3))
    with pytest.raises(ValueError, match="u"):
        rs.jacobian(net, np.zeros(4), u=np.zeros(2))
    with pytest.raises(ValueError, match="kind"):
        rs.jacobian(net, np.zeros(4), kind="discrete")
    with pytest.raises(ValueError, match="mode"):
        rs.jacobian(net, np.zeros(4), mode="loop")
    with pytest.raises(ValueError, match="x"):
        rs.jacobian(net, np.full(4, np.nan))


def test_sparse_and_dense_give_the_same_jacobian_and_bulk():
    net = _net(30, "tanh", 0.3, 5)
    dense = rs.Network(J=net.dense_J(), W_in=net.W_in, W_fb=net.W_fb, W_out=net.W_out, b=net.b,
                       phi=net.phi, tau=net.tau, dt=net.dt)
    assert sp.issparse(net.J)
    x = np.random.default_rng(0).standard_normal(30)
    np.testing.assert_array_equal(rs.jacobian(net, x), rs.jacobian(dense, x))
    assert rs.spectrum(net, x).bulk_radius == pytest.approx(rs.spectrum(dense, x).bulk_radius)
    assert rs.spectrum(net, x).bulk_method == rs.spectrum(dense, x).bulk_method == "zero-mean"


def test_spectrum_validates_its_arguments():
    net = _net(4, "tanh", 1.0, 0)
    with pytest.raises(ValueError, match="u"):
        rs.spectrum(net, np.zeros(4), u=np.zeros(3))
    with pytest.raises(ValueError, match="margin"):
        rs.spectrum(net, np.zeros(4), margin=-0.1)
    with pytest.raises(ValueError, match="bulk_method"):
        rs.spectrum(net, np.zeros(4), bulk_method="mean")
