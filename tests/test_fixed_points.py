import numpy as np
import pytest
import scipy.optimize

import reservoir as rs
from helpers import assert_rejects


def _scalar_feedback_net(k, w, tau=1.0):
    """J = 0: every fixed point is x = W_fb z with z a root of z = sum_i w_i tanh(k_i z)."""
    k, w = np.asarray(k, float), np.asarray(w, float)
    N = k.size
    return rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=k[:, None],
                      W_out=w[None, :], b=np.zeros(N), phi="tanh", tau=tau, dt=0.1)


@pytest.mark.parametrize("k, w", [([2.0, 2.0], [0.5, 0.5]),
                                  ([1.0, 2.0, 3.0], [0.5, 0.3, 0.2])])
def test_hand_derived_fixed_points_and_eigenvalues(k, w):
    tau = 2.0
    net = _scalar_feedback_net(k, w, tau=tau)
    k, w = np.asarray(k), np.asarray(w)

    def h(z):
        return w @ np.tanh(k * z) - z
    zstar = scipy.optimize.brentq(h, 0.1, 2.0, xtol=1e-15)
    expected = np.array([-zstar, 0.0, zstar])
    fps = rs.find_fixed_points(net, method="scan")
    assert fps.success and not fps.unreliable
    np.testing.assert_allclose(fps.z[:, 0], expected, atol=1e-10)
    np.testing.assert_allclose(fps.x, expected[:, None] * k[None, :], atol=1e-10)
    assert np.all(fps.residual < 1e-10) and set(fps.found_by) == {"z-scan"}
    for z, ev in zip(expected, fps.jacobian_eigenvalues):
        # W_eff D = W_fb W_out D is rank one: eigenvalue W_out D W_fb, and 0 (N-1 times)
        lam = np.sum(w * k * (1 - np.tanh(k * z) ** 2))
        want = np.sort(np.r_[lam - 1.0, -np.ones(k.size - 1)] / tau)[::-1]
        np.testing.assert_allclose(ev.real, want, atol=1e-10)
        np.testing.assert_allclose(ev.imag, 0.0, atol=1e-12)
    # slope of h at the origin > 0: the origin is a saddle, the outer points are stable
    np.testing.assert_array_equal(fps.stable, [True, False, True])
    assert list(fps.stability) == ["stable", "saddle", "stable"]
    assert fps.z_grid.size == fps.G_grid.size > 10


def _trained_rb_network(N, g, targets, seed=0):
    net = rs.random_network(N, g, 0, 1, dt=0.1, feedback_dist="normal", rng=seed)
    task = rs.tasks.fixed_points(targets=targets, duration=80.0, dt=0.1, washout=70.0)
    return rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-12).network


def _trained_mo_network(N, A, seed=1):
    net = rs.random_network(N, 0.5, 1, 1, dt=0.1, input_dist="normal", input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=seed)
    task = rs.tasks.stationary(target=A, duration=100.0, dt=0.1, washout=60.0)
    return rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10).network


def _brute_force(net, u, rng, n_sim=1500, n_newton=300):
    """Stable points: simulate many random initial states to convergence. All points:
    damped Newton from many random states. Both polished by Newton, deduplicated."""
    N = net.N
    T = 3000
    X0 = 2.0 * rng.standard_normal((n_sim, N))
    U = np.broadcast_to(u, (n_sim, T, net.n_inputs))
    ends = rs.simulate(net, U, X0, mode="closed", record=()).x_final
    J = net.dense_J() + net.W_fb @ net.W_out
    c = net.W_in @ u + net.b

    def F(x):
        return -x + J @ np.tanh(x) + c

    def newton(x):
        for _ in range(60):
            f = F(x)
            if np.max(np.abs(f)) < 1e-12:
                return x
            A = -np.eye(N) + J * (1 - np.tanh(x) ** 2)[None, :]
            step = np.linalg.solve(A, -f)
            t = 1.0
            while t > 1e-4 and np.max(np.abs(F(x + t * step))) >= np.max(np.abs(f)):
                t /= 2
            x = x + t * step
        return x if np.max(np.abs(F(x))) < 1e-9 else None

    stable = [e for e in ends if np.max(np.abs(F(e))) < 1e-6]
    found = [newton(x) for x in stable] + [newton(3 * rng.standard_normal(N))
                                           for _ in range(n_newton)]
    found = [x for x in found if x is not None]
    unique = []
    for x in found:
        if all(np.max(np.abs(x - y)) > 1e-6 for y in unique):
            unique.append(x)
    return np.array(unique), len(stable)


@pytest.mark.parametrize("case", ["rb_g0.8", "mo_A2", "mo_A-1.5"])
def test_scan_finds_every_fixed_point_brute_force_finds(case):
    rng = np.random.default_rng(5)
    if case == "rb_g0.8":
        net, u = _trained_rb_network(80, 0.8, [0.6, 1.8]), np.zeros(0)
    else:
        A = 2.0 if case == "mo_A2" else -1.5
        net, u = _trained_mo_network(80, A), np.ones(1)
    fps = rs.find_fixed_points(net, u=u, method="scan")
    assert fps.success and set(fps.found_by) == {"z-scan"}
    assert np.all(fps.residual < 1e-10)
    brute, n_converged = _brute_force(net, u, rng)
    assert n_converged > 0 and len(brute) >= 1
    for x in brute:
        d = np.max(np.abs(fps.x - x), axis=1)
        assert d.min() < 1e-6, f"brute-force point with z={net.W_out @ np.tanh(x)} missed"
    # and nothing spurious: every reported point satisfies the fixed-point equation
    J = net.dense_J() + net.W_fb @ net.W_out
    for x in fps.x:
        assert np.max(np.abs(-x + J @ np.tanh(x) + net.W_in @ u + net.b)) < 1e-10


def test_chaotic_bulk_falls_back_to_slow_points_and_keeps_the_mirror_symmetry():
    """g = 1.2 without input: near z = 0 the open-loop network has several fixed points,
    the scan says so and the slow-point search fills the gap. tanh is odd and there is no
    input or bias, so the set of fixed points is symmetric under x -> -x."""
    net = _trained_rb_network(150, 1.2, [1.0, 2.0])
    fps = rs.find_fixed_points(net, rng=0)
    assert any("bulk radius" in reason for _, _, reason in fps.unreliable)
    assert "newton" in set(fps.found_by) and "z-scan" in set(fps.found_by)
    fixed = fps.is_fixed
    X = fps.x[fixed]
    assert np.all(fps.residual[fixed] < 1e-10)
    for x in X:
        assert np.min(np.max(np.abs(X + x), axis=1)) < 1e-6
    # the origin and the trained targets are among them
    for z in (0.0, 1.0, 2.0, -1.0, -2.0):
        assert np.min(np.abs(fps.z[fixed, 0] - z)) < 1e-8
    # the scan alone reports where it could not be trusted
    scan_only = rs.find_fixed_points(net, method="scan")
    assert not scan_only.success and any("slow" in m for m in scan_only.messages)


def test_two_readouts_use_the_slow_point_search():
    rng = np.random.default_rng(0)
    net = rs.random_network(60, 0.6, 0, 2, dt=0.1, feedback_dist="normal", rng=3)
    net = net.with_readout(rng.standard_normal((2, 60)) * 0.3 / np.sqrt(60))
    fps = rs.find_fixed_points(net, rng=1)
    assert fps.z_grid.size == 0 and len(fps) >= 1
    assert np.all(fps.residual[fps.is_fixed] < 1e-10)
    # weak readout, g < 1: the origin is the unique, stable fixed point
    assert len(fps) == 1 and np.max(np.abs(fps.x)) < 1e-10 and fps.stable[0]
    with pytest.raises(ValueError, match="K = 1"):
        rs.find_fixed_points(net, method="scan")


def test_linear_stability_of_found_points_agrees_with_simulation():
    net = _trained_rb_network(80, 0.8, [0.6, 1.8])
    fps = rs.find_fixed_points(net)
    assert fps.stable.any() and (~fps.stable).any()
    rng = np.random.default_rng(0)
    for x, stable, ev in zip(fps.x, fps.stable, fps.jacobian_eigenvalues):
        x0 = x + 1e-7 * rng.standard_normal(net.N)
        tr = rs.simulate(net, None, x0, mode="closed", n_steps=600, record=("x",))
        d = np.linalg.norm(tr.x - x, axis=1)
        if stable:
            assert d[-1] < 0.1 * d[0]
        else:
            assert d[-1] > 100 * d[0]
            # growth rate of the distance ~ leading eigenvalue (flow units)
            rate = np.log(d[300] / d[100]) / (200 * net.dt)
            assert abs(rate - ev[0].real) < 0.1 * abs(ev[0].real) + 0.02


def test_eigenvalues_optional_and_relu_warning():
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    fps = rs.find_fixed_points(net, compute_eigenvalues=False)
    assert fps.jacobian_eigenvalues.shape == (3, 0) and np.all(fps.n_unstable == -1)
    relu = rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 0)), W_fb=[[1.0], [1.0]],
                      W_out=[[0.25, 0.25]], b=[0.5, 0.5], phi="relu")
    fps = rs.find_fixed_points(relu)
    # x = z + 0.5, z = 0.5 (x1 + x2)/2 ... z = 0.5 z + 0.25 -> z = 0.5
    np.testing.assert_allclose(fps.z[:, 0], [0.5], atol=1e-10)
    assert any("relu" in m for m in fps.messages)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(u=np.ones(2)), ValueError, "u"),
    (dict(method="grid"), ValueError, "method"),
    (dict(z_range=(1.0, -1.0)), ValueError, "z_range"),
    (dict(tol=0.0), ValueError, "tol"),
    (dict(n_seeds=0), ValueError, "n_seeds"),
    (dict(net="net"), TypeError, "net"),
])
def test_find_fixed_points_bad_input(kwargs, exc, word):
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    assert_rejects(rs.find_fixed_points, dict(net=net), kwargs, exc, word)


@pytest.mark.parametrize("z_range", [(np.nan, 1.0), (-np.inf, 1.0), (1.0, -1.0), (1.0, 1.0),
                                     5.0, "ab", "01", {0: 0.0, 1: 1.0}, (1.0, 2.0, 3.0),
                                     (-1e308, 1e308)])
def test_z_range_is_checked_whatever_the_number_of_readouts(z_range):
    """``z_range`` that is not two finite numbers lo < hi (with a finite width; not a
    string or a mapping) is a ValueError naming it, for K = 1 and K = 2 (it was ignored
    unchecked with two readouts)."""
    for K in (1, 2):
        net = rs.random_network(12, 0.8, 1, K, dt=0.1, rng=0)
        with pytest.raises(ValueError, match="z_range"):
            rs.find_fixed_points(net, [0.1], z_range=z_range)


def test_z_range_with_several_readouts_is_refused_not_ignored():
    """With K != 1 there is no z-scan: a valid ``z_range`` is refused (ValueError naming
    it and K), where it used to be silently unused; without it the search runs."""
    net = rs.random_network(12, 0.8, 1, 2, dt=0.1, rng=0)
    with pytest.raises(ValueError, match="z_range .* K = 2"):
        rs.find_fixed_points(net, [0.1], z_range=(-1.0, 1.0))
    assert rs.find_fixed_points(net, [0.1], rng=0).success
