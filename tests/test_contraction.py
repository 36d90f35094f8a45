"""Proved balls of attraction (reservoir/analysis/_contraction.py) and their use by
stability_report: checked against the Euler map iterated in plain NumPy, a generalised
eigenvalue problem, and the report run without them."""

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, settings, strategies as st

import reservoir as rs
from reservoir.analysis._contraction import contraction_ball


def _trained(N, phi="tanh", seed=1, g=0.5, target=2.0):
    """A least-squares-trained closed loop holding ``target`` at input 1 (bistable for
    tanh: target, a saddle and a spurious stable point)."""
    net = rs.random_network(N, g, 1, 1, dt=0.1, input_dist="normal", input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=seed, phi=phi)
    task = rs.tasks.stationary(target=target, duration=100.0, dt=0.1, washout=60.0)
    return rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10).network


def _euler_map(net, c):
    """The closed-loop Euler map in plain NumPy (independent of the kernels)."""
    W = net.dense_J() + net.W_fb @ net.W_out
    phi = rs.get_nonlinearity(net.phi).phi
    a = net.dt / net.tau
    return lambda x: (1 - a) * x + a * (W @ phi(x) + c)


def _pnorm(ball, x):
    e = x - ball.x
    return float(np.sqrt(e @ ball.P @ e))


def _inside(ball, x, tol=0.0):
    e = x - ball.x
    return (_pnorm(ball, x) <= ball.radius * (1 + tol)
            and np.max(np.abs(e)) <= ball.inf_radius * (1 + tol))


def _check_ball(net, ball, c, rng, n_dirs=20, n_steps=40, n_long=3000):
    """Points on the set's boundary (random and coordinate directions, scaled to whichever
    of the two radii binds first) stay in the set at every step, their distance bound
    shrinking by the claimed rate (plus the root's residual), and converge to its centre."""
    G = _euler_map(net, c)
    N = net.N
    dirs = [rng.standard_normal(N) for _ in range(n_dirs)]
    dirs += [np.eye(N)[i] for i in rng.choice(N, size=min(N, 5), replace=False)]
    for k, d in enumerate(dirs):
        t = 0.999 * min(ball.radius / np.sqrt(d @ ball.P @ d),
                        ball.inf_radius / np.max(np.abs(d)))
        x = ball.x + t * d
        assert _inside(ball, x)
        s = _pnorm(ball, x)
        s0 = s
        for _ in range(n_steps):
            x = G(x)
            s_new = _pnorm(ball, x)
            # the claim: s(G(x) - x*) <= rate s(x - x*) + d0 (plus the test's rounding)
            assert s_new <= ball.rate * s + ball.residual + 1e-12 * (1 + s0)
            assert _inside(ball, x, tol=1e-9)
            s = s_new
        if k < 3 and n_long:     # the limit: the fixed point (to rounding)
            for _ in range(n_long):
                x = G(x)
            assert np.max(np.abs(x - ball.x)) <= 1e-9 * (1 + np.max(np.abs(ball.x)))


@pytest.mark.parametrize("phi", ["tanh", "sigmoid", "relu"])
def test_ball_contracts_under_the_euler_map(phi):
    net = _trained(40, phi)
    fps = rs.find_fixed_points(net, u=[1.0])
    c = net.W_in @ np.array([1.0]) + net.b
    rng = np.random.default_rng(0)
    n_balls = 0
    for i in range(len(fps)):
        ball = contraction_ball(net, fps.x[i], c)
        if not fps.stable[i]:
            assert ball is None            # a saddle has no ball
            continue
        if ball is None:
            continue
        n_balls += 1
        assert 0 < ball.rate < 1 and ball.radius > 0
        assert np.allclose(ball.P, ball.P.T) and np.linalg.eigvalsh(ball.P)[0] > 0
        _check_ball(net, ball, c, rng)
    assert n_balls >= 1


@pytest.mark.parametrize("phi", ["relu", "tanh", "sigmoid"])
def test_linear_rate_from_generalised_eigenvalues(phi):
    """The proved linear contraction q is the square root of the largest generalised
    eigenvalue of (A^T P A, P) (computed independently by scipy's eigh), to within the
    proof's margin; for ReLU it is also the rate on the set."""
    net = _trained(40, phi)
    fps = rs.find_fixed_points(net, u=[1.0])
    c = net.W_in @ np.array([1.0]) + net.b
    i = int(np.flatnonzero(fps.stable)[0])
    ball = contraction_ball(net, fps.x[i], c)
    assert ball is not None
    a = net.dt / net.tau
    D = rs.get_nonlinearity(phi).dphi(fps.x[i])
    A = (1 - a) * np.eye(net.N) + a * (net.dense_J() + net.W_fb @ net.W_out) * D[None, :]
    lam = sla.eigh(A.T @ ball.P @ A, ball.P, eigvals_only=True)
    q = ball.linear_rate
    assert lam[-1] <= q ** 2 * (1 + 1e-9)
    assert lam[-1] >= 0.99 * q ** 2               # proved, and tight
    if phi == "relu":
        assert ball.rate == q
    else:
        assert q < ball.rate < 1


def test_no_ball_for_an_unstable_point():
    """A fixed point of an expanding network (g = 3, open loop at the origin) has none."""
    net = rs.random_network(30, 3.0, 1, 1, dt=0.1, rng=0)
    c = np.zeros(30)
    assert contraction_ball(net, np.zeros(30), c) is None


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), g=st.floats(0.1, 0.9), phi=st.sampled_from(["tanh", "sigmoid"]))
def test_property_every_proved_ball_contracts(seed, g, phi):
    """Open-loop random networks with g < 1 (a unique stable point at u = 0 for tanh):
    whenever a ball is proved, boundary points contract at the proved rate."""
    net = rs.random_network(25, g, 1, 1, dt=0.2, rng=seed, phi=phi)
    fps = rs.find_fixed_points(net, u=[0.0])
    c = net.W_in @ np.array([0.0]) + net.b + net.W_fb @ net.b_out
    for i in np.flatnonzero(fps.stable):
        ball = contraction_ball(net, fps.x[i], c)
        if ball is not None:
            _check_ball(net, ball, c, np.random.default_rng(seed), n_dirs=5, n_steps=15,
                        n_long=0)


def test_report_same_verdicts_with_and_without_balls():
    net = _trained(60)
    fps = rs.find_fixed_points(net, u=[1.0])
    kw = dict(u=[1.0], target=2.0, n_init=200, fixed_points=fps, rng=3, lyapunov=False)
    with_b = rs.stability_report(net, contraction_balls=True, **kw)
    without = rs.stability_report(net, contraction_balls=False, **kw)
    assert with_b.n_contracted > 0 and without.n_contracted == 0
    np.testing.assert_array_equal(with_b.converged, without.converged)
    np.testing.assert_array_equal(with_b.basin_fraction, without.basin_fraction)
    assert with_b.fraction_to_target == without.fraction_to_target
    assert (with_b.target_stable, with_b.globally_stable, with_b.success) == \
        (without.target_stable, without.globally_stable, without.success)
    assert with_b.n_chunks <= without.n_chunks
    # the stopped trials are recorded at their point: readouts within rounding of those
    # of the trials simulated to converged_tol
    np.testing.assert_allclose(with_b.final_z, without.final_z, atol=1e-5)


def test_report_contraction_argument_checked():
    net = _trained(20)
    with pytest.raises(TypeError, match="contraction_balls"):
        rs.stability_report(net, u=[1.0], n_init=4, contraction_balls="yes", lyapunov=False)


def test_balls_give_the_long_run_answer_where_the_approach_is_slow():
    """ReLU point with a slow approach (largest Re of the flow's eigenvalues about -0.09):
    within the default duration the plain run leaves the trials unconverged; the balls
    settle them, and a plain run four times longer agrees with the balls."""
    net = _trained(150, "relu")
    kw = dict(u=[1.0], target=2.0, rng=0, n_init=60, lyapunov=False)
    balls = rs.stability_report(net, contraction_balls=True, **kw)
    plain = rs.stability_report(net, contraction_balls=False, **kw)
    long = rs.stability_report(net, contraction_balls=False, duration=400.0, **kw)
    assert balls.n_contracted > 0
    assert not plain.globally_stable and plain.fraction_unconverged > 0
    np.testing.assert_array_equal(balls.basin_fraction, long.basin_fraction)
    assert balls.globally_stable == long.globally_stable
    assert balls.fraction_to_target == long.fraction_to_target


@pytest.mark.parametrize("phi", ["tanh", "relu"])
def test_ball_eigenvalue_bounds_and_membership_equal_the_quadratic_form(phi):
    """The ball's lam_min / lam_max bound P's spectrum (eigvalsh), and contains() (which
    sorts most points by |x - x*| alone) gives the direct answer s(e) <= radius and
    max |e_i| <= inf_radius for points at every distance, sure ones and ones within 1e-4
    of the boundary."""
    net = _trained(40, phi)
    fps = rs.find_fixed_points(net, u=[1.0])
    c = net.W_in @ np.array([1.0]) + net.b
    rng = np.random.default_rng(5)
    balls = [b for i in np.flatnonzero(fps.stable)
             if (b := contraction_ball(net, fps.x[i], c)) is not None]
    assert balls
    for ball in balls:
        ev = np.linalg.eigvalsh(ball.P)
        assert ball.lam_min <= ev[0] and ev[-1] <= ball.lam_max
        D = rng.standard_normal((400, net.N))
        s_unit = np.sqrt(np.einsum("ij,jk,ik->i", D, ball.P, D))
        frac = np.concatenate([rng.uniform(0.0, 3.0, 300), 1 + rng.uniform(-1e-4, 1e-4, 100)])
        X = ball.x + D * (frac * ball.radius / s_unit)[:, None]
        E = X - ball.x
        s2 = np.einsum("ij,jk,ik->i", E, ball.P, E)
        cube = np.max(np.abs(E), axis=1) <= ball.inf_radius * (1 - 1e-6)
        want = (s2 <= (ball.radius * (1 - 1e-6)) ** 2) & cube
        np.testing.assert_array_equal(ball.contains(X), want)
        assert 0 < np.count_nonzero(want) < want.size


def _reference_derivatives(phi, z):
    """phi' and |phi''| in plain NumPy, stable in the tails (1 / cosh^2; expit(z)
    expit(-z))."""
    from scipy.special import expit
    if phi == "tanh":
        d1 = 1.0 / np.cosh(z) ** 2
        return d1, 2.0 * np.abs(np.tanh(z)) * d1
    d1 = expit(z) * expit(-z)
    return d1, np.abs(np.tanh(0.5 * z)) * d1


@settings(max_examples=60, deadline=None)
@given(phi=st.sampled_from(["tanh", "sigmoid"]),
       x=st.lists(st.floats(-60.0, 60.0), min_size=1, max_size=6),
       width=st.floats(1e-3, 5.0))
def test_interval_sups_bound_phi_derivatives_on_each_interval(phi, x, width):
    """sup phi' and sup |phi''| over [x_i - width, x_i + width] against a dense grid of
    stable reference values (the saturated tails included, where 1 - tanh^2 cancels):
    never below the grid's maximum, and above it by no more than the grid's spacing and
    the stated margins allow."""
    from reservoir.analysis._contraction import interval_sups
    x = np.array(x)
    sup1, sup2 = interval_sups(phi, x, width)
    grid = np.linspace(-width, width, 4001)
    h = grid[1] - grid[0]
    for i, xi in enumerate(x):
        g1, g2 = (np.max(v) for v in _reference_derivatives(phi, xi + grid))
        assert g1 <= sup1[i] <= g1 * (1 + 2 * h) + h * 0.8 + 1e-299
        assert g2 <= sup2[i] <= g2 * (1 + 2 * h) + h * 2.0 + 1e-299


def test_interval_sups_relu():
    from reservoir.analysis._contraction import interval_sups
    sup1, sup2 = interval_sups("relu", np.array([-1.0, 0.5, 2.0]), 0.1)
    np.testing.assert_array_equal(sup1, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(sup2, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("phi", ["tanh", "sigmoid"])
def test_cube_width_obeys_its_own_curvature_bound(phi):
    """The cube's half-width a was widened using sup |phi''| near x* only: the inequality it
    rests on, alpha sqrt(lam_max / lam_min) ||W_eff T(a)||_2 a <= 2 theta (1 - q), holds with
    T(a) computed on a dense grid and the norm by numpy's SVD; and the cube is wider than
    the one from the global sup |phi''| alone."""
    from reservoir.analysis._contraction import _SUP2, _THETA
    net = _trained(40, phi)
    fps = rs.find_fixed_points(net, u=[1.0])
    c = net.W_in @ np.array([1.0]) + net.b
    W = net.dense_J() + net.W_fb @ net.W_out
    nl = rs.get_nonlinearity(phi)
    a = net.dt / net.tau
    n_wider = 0
    for i in np.flatnonzero(fps.stable):
        ball = contraction_ball(net, fps.x[i], c)
        if ball is None:
            continue
        w = ball.inf_radius
        grid = np.linspace(-w, w, 2001)
        T = np.max(np.abs(nl.ddphi(fps.x[i][:, None] + grid[None, :])), axis=1)
        scale = a * np.sqrt(ball.lam_max / ball.lam_min)
        q = ball.linear_rate
        assert scale * np.linalg.norm(W * T[None, :], 2) * w <= \
            2 * _THETA * (1 - q) * (1 + 1e-9)
        global_w = 2 * _THETA * (1 - q) / (scale * _SUP2[phi] * np.linalg.norm(W, 2))
        n_wider += w > 1.05 * global_w
    assert n_wider >= 1


def test_report_on_an_exploding_relu_network_reports_divergence():
    """A ReLU loop that grows without bound (J = 3 |J|): the fixed-point scan's clamped
    simulation diverges; that is reported (an unreliable interval, diverged trials,
    lyapunov_exponent = +inf), not raised."""
    net0 = rs.random_network(30, 1.0, 1, 1, phi="relu", rng=3)
    net = rs.Network(J=np.abs(net0.dense_J()) * 3.0, W_in=net0.W_in, W_fb=net0.W_fb,
                     W_out=net0.W_out, b=net0.b, phi="relu", dt=1.0)
    rep = rs.stability_report(net, u=[0.0], n_init=20, rng=0)
    assert rep.n_diverged == 20 and not rep.globally_stable
    assert rep.lyapunov_exponent == np.inf
    assert any("unreliable" in m for m in rep.messages)


def test_fixed_points_and_report_on_a_loop_whose_seed_runs_explode():
    """Every slow-point seed trajectory of a ReLU loop with g = 100 diverges: the seeds are
    dropped with a message (find_fixed_points and stability_report), nothing raised."""
    net = rs.random_network(30, 100.0, 1, 1, phi="relu", dt=0.01, rng=0)
    fps = rs.find_fixed_points(net, u=[1.0], rng=0)
    assert any("seed trajectories diverged" in m for m in fps.messages)
    rep = rs.stability_report(net, u=[1.0], n_init=20, rng=0, fixed_points=fps)
    assert rep.n_diverged == 20 and not rep.globally_stable
