"""Stability verdicts of `find_fixed_points` (issue 12, faults 2, 3 and 5): judged for the
dynamics as simulated (the Euler map with alpha = dt / tau), the flow's verdict beside it,
a `marginal` class for eigenvalues within rounding of the boundary, and slow points never
stable. Each verdict is held against a closed form, a hand-built network whose Jacobian is
known exactly, or `rs.simulate`."""

import numpy as np
import pytest
import scipy.optimize
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reservoir as rs


def _no_input(N, J, W_fb, W_out, b, phi, dt=0.1, tau=1.0):
    return rs.Network(J=np.asarray(J, float), W_in=np.zeros((N, 0)), W_fb=W_fb,
                      W_out=W_out, b=b, phi=phi, tau=tau, dt=dt)


# ---------------------------------------------------------------- fault 2: the map
def test_alpha_one_map_is_unstable_where_the_flow_is_stable():
    """Issue example: one unit, J = [[-2]], tau = dt = 1. The origin's multiplier is
    1 - alpha + alpha J phi'(0) = -2: the map x -> -2 tanh(x) leaves it for a period-2 orbit
    at +-a, a = 2 tanh(a), while the flow (eigenvalue -3) would settle there."""
    net = _no_input(1, [[-2.0]], [[0.0]], [[1.0]], [0.0], "tanh", dt=1.0, tau=1.0)
    fps = rs.find_fixed_points(net)
    assert len(fps) == 1 and abs(fps.x[0, 0]) < 1e-12
    np.testing.assert_allclose(fps.multipliers[0], [-2.0], atol=1e-14)
    np.testing.assert_allclose(fps.jacobian_eigenvalues[0], [-3.0], atol=1e-14)  # flow
    assert not fps.stable[0] and fps.stable_flow[0]
    assert fps.n_unstable[0] == 1 and fps.n_marginal[0] == 0
    assert list(fps.stability) == ["unstable"]
    assert any("disagree" in m and "rows 0" in m for m in fps.messages)
    # independent check: the simulated map goes to the period-2 orbit
    a = scipy.optimize.brentq(lambda v: v - 2 * np.tanh(v), 1.0, 3.0, xtol=1e-14)
    tr = rs.simulate(net, None, np.array([1e-3]), mode="closed", n_steps=200, record=("x",))
    np.testing.assert_allclose(np.abs(tr.x[-10:, 0]), a, atol=1e-10)
    assert np.all(tr.x[-10:-1, 0] * tr.x[-9:, 0] < 0)          # alternating sign
    assert a == pytest.approx(1.915, abs=1e-3)


@settings(max_examples=30, deadline=None)
@given(j=st.floats(-30.0, 0.95), dt=st.floats(0.05, 1.0))
def test_one_unit_verdicts_match_the_closed_form(j, dt):
    """x = j tanh(x) has the origin as its only fixed point for j < 1; its multiplier is
    1 - alpha + alpha j and its flow eigenvalue j - 1. The flow is stable throughout; the
    map only while 1 - alpha + alpha j > -1 (they part through -1)."""
    m = 1 - dt + dt * j
    assume(abs(abs(m) - 1) > 1e-6)
    net = _no_input(1, [[j]], [[0.0]], [[1.0]], [0.0], "tanh", dt=dt, tau=1.0)
    fps = rs.find_fixed_points(net, method="scan")
    assert len(fps) == 1 and abs(fps.x[0, 0]) < 1e-12
    np.testing.assert_allclose(fps.multipliers[0].real, [m], atol=1e-12)
    np.testing.assert_allclose(fps.multipliers[0], 1 + dt * fps.jacobian_eigenvalues[0],
                               atol=1e-12)
    assert fps.stable_flow[0]
    assert fps.stable[0] == (abs(m) < 1)
    assert fps.stability[0] == ("stable" if abs(m) < 1 else "unstable")
    assert any("disagree" in msg for msg in fps.messages) == (abs(m) >= 1)


@settings(max_examples=30, deadline=None)
@given(r=st.floats(0.2, 3.0), theta=st.floats(0.0, np.pi), dt=st.floats(0.05, 1.0))
def test_rotation_verdicts_match_the_closed_form(r, theta, dt):
    """J = r R(theta) at the origin (tanh'(0) = 1): gain eigenvalues r e^{+-i theta}. The
    flow is stable iff r cos(theta) < 1, the map iff |1 - alpha + alpha r e^{i theta}| < 1;
    for alpha < 1 complex multipliers can leave the unit circle away from +-1."""
    mu = r * np.exp(1j * theta)
    m = 1 - dt + dt * mu
    assume(abs(abs(m) - 1) > 1e-6 and abs(mu.real - 1) > 1e-6)
    J = r * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    net = _no_input(2, J, np.zeros((2, 1)), [[1.0, 0.0]], np.zeros(2), "tanh", dt=dt)
    fps = rs.find_fixed_points(net, method="scan")
    row = np.flatnonzero(np.max(np.abs(fps.x), axis=1) < 1e-12)
    assert row.size == 1
    k = row[0]
    np.testing.assert_allclose(np.sort_complex(fps.multipliers[k]),
                               np.sort_complex(np.array([m, np.conj(m)])), atol=1e-12)
    assert fps.stable_flow[k] == (mu.real < 1)
    assert fps.stable[k] == (abs(m) < 1)
    assert fps.n_unstable[k] == (2 if abs(m) > 1 else 0)
    assert fps.stability[k] == ("unstable" if abs(m) > 1 else "stable")


def test_compute_eigenvalues_false_gives_unknown_not_saddle():
    net = _no_input(2, np.zeros((2, 2)), [[2.0], [2.0]], [[0.5, 0.5]], np.zeros(2), "tanh")
    fps = rs.find_fixed_points(net, compute_eigenvalues=False)
    assert len(fps) == 3 and set(fps.stability) == {"unknown"}
    assert not fps.stable.any() and not fps.stable_flow.any()
    assert fps.multipliers.shape == (3, 0) and np.all(np.isnan(fps.marginal_tol))


# ------------------------------------------------------------ fault 5: marginal points
def _relu_line(N=20, seed=0, jordan=False, dt=0.1):
    """ReLU network with J = Q B Q^T, Q orthogonal with a positive first column v: in the
    positive orthant (D = I) the gain matrix is J itself, with an eigenvalue exactly 1 along
    v, so every x = s v, s > 0, is fixed with a flow eigenvalue exactly 0 (Rivkind & Barak's
    zero pole). ``jordan=True`` makes that eigenvalue defective (a 2x2 Jordan block), whose
    computed value moves by ~sqrt(eps)."""
    rng = np.random.default_rng(seed)
    v = np.abs(rng.standard_normal(N)) + 0.2
    v /= np.linalg.norm(v)
    Q, _ = np.linalg.qr(np.column_stack([v, rng.standard_normal((N, N - 1))]))
    Q *= np.sign(Q[0, 0] * v[0])
    lam = np.r_[1.0, 1.0 if jordan else 0.0, rng.uniform(-0.5, 0.5, N - 2)]
    B = np.diag(lam)
    if jordan:
        B[0, 1] = 1.0
    J = Q @ B @ Q.T
    net = _no_input(N, J, np.zeros((N, 1)), Q[:, :1].T, np.zeros(N), "relu", dt=dt)
    return net, Q[:, 0]


@pytest.mark.parametrize("seed, jordan, dt", [(0, False, 0.1), (1, False, 1.0),
                                              (2, True, 0.1), (3, True, 1.0)])
def test_exact_zero_pole_is_marginal_not_rounded(seed, jordan, dt):
    net, v = _relu_line(seed=seed, jordan=jordan, dt=dt)
    fps = rs.find_fixed_points(net, method="slow", rng=0, n_seeds=8)
    on_line = np.flatnonzero(fps.z[:, 0] > 1e-3)
    assert on_line.size >= 1
    lead = []
    for k in on_line:
        x = fps.x[k]
        # independent: the point is s v with s = z (the readout is v . relu(x))
        np.testing.assert_allclose(x, fps.z[k, 0] * v, atol=1e-9)
        # the exact flow eigenvalue is 0 and the exact multiplier 1; what is computed
        # is within the stated tolerance of them, on either side
        i = np.argmin(np.abs(fps.jacobian_eigenvalues[k]))
        lead.append(fps.jacobian_eigenvalues[k][i])
        assert abs(fps.jacobian_eigenvalues[k][i]) * net.tau <= fps.marginal_tol[k]
        assert fps.stability[k] == "marginal"
        assert not fps.stable[k] and not fps.stable_flow[k]
        assert fps.n_unstable[k] == 0 and fps.n_marginal[k] >= 1
    if jordan:
        # a defective eigenvalue: rounding moves it by ~sqrt(eps), far beyond N eps ||S||,
        # and the tolerance was widened by its condition number to cover that
        assert max(abs(e) for e in lead) > 1e-10
        assert np.all(fps.marginal_tol[on_line] > 1e-10)
    else:
        assert np.all(fps.marginal_tol[on_line] < 1e-12)      # about N eps ||S||
    assert any("marginal" in m for m in fps.messages)


def test_marginal_tolerance_does_not_swallow_small_true_eigenvalues():
    """No false 'marginal': an isolated ReLU fixed point in the positive orthant whose gain
    matrix J has the eigenvalue 1 -+ 1e-9 (flow eigenvalue -+1e-9, far above rounding) is
    decided by its sign."""
    for shift, expected in ((-1e-9, "stable"), (1e-9, "saddle")):
        N = 6
        rng = np.random.default_rng(3)
        v = np.abs(rng.standard_normal(N)) + 0.2
        v /= np.linalg.norm(v)
        Q, _ = np.linalg.qr(np.column_stack([v, rng.standard_normal((N, N - 1))]))
        J = Q @ np.diag(np.r_[1.0 + shift, rng.uniform(-0.5, 0.5, N - 1)]) @ Q.T
        x_star = np.abs(rng.standard_normal(N)) + 1.0        # positive orthant: D = I
        b = (np.eye(N) - J) @ x_star                          # the fixed point is x_star
        net = _no_input(N, J, np.zeros((N, 1)), Q[:, :1].T, b, "relu")
        fps = rs.find_fixed_points(net, method="slow", rng=0)
        k = np.argmin(np.max(np.abs(fps.x - x_star), axis=1))
        assert np.max(np.abs(fps.x[k] - x_star)) < 1e-6     # conditioned like 1e9 * eps
        assert fps.jacobian_eigenvalues[k][0].real == pytest.approx(shift, abs=1e-12)
        assert fps.stability[k] == expected


def test_relu_kink_point_is_not_called_stable():
    """The origin of the ReLU line is the end of a continuum: perturbations along +v stay.
    phi is not differentiable there; without a contraction bound the verdict is 'unknown'.
    With ||J|| < 1 the bound proves the origin stable."""
    net, v = _relu_line(seed=0)
    fps = rs.find_fixed_points(net, method="scan", z_range=(-1.0, 1.0))
    k = np.flatnonzero(np.max(np.abs(fps.x), axis=1) < 1e-12)
    assert k.size == 1 and fps.stability[k[0]] == "unknown" and not fps.stable[k[0]]
    assert any("kink" in m for m in fps.messages)
    # simulation: a perturbation along +v does not decay (a line of fixed points)
    tr = rs.simulate(net, None, 1e-3 * v, mode="closed", n_steps=500, record=())
    assert np.linalg.norm(tr.x_final) > 0.9e-3
    small = _no_input(3, 0.3 * np.eye(3), np.zeros((3, 1)), [[1.0, 0.0, 0.0]], np.zeros(3),
                      "relu")
    fps = rs.find_fixed_points(small, method="scan", z_range=(-1.0, 1.0))
    assert len(fps) == 1 and fps.stability[0] == "stable" and fps.stable[0]


# ------------------------------------------------------------- fault 3: slow points
def test_slow_point_of_a_saddle_node_ghost_is_never_stable():
    """dx1/dt = -x1 + 2 tanh(x1) + c just past the fold: F1 has a local minimum 0.01 > 0 at
    x1* = -atanh(1/sqrt 2) (F1' = 0 there), a ghost where trajectories linger; units 2 and 3
    decay to 0. The only fixed point is x1 > 0, the root of the same equation."""
    xs = -np.arctanh(1 / np.sqrt(2))
    c = xs - 2 * np.tanh(xs) + 0.01                       # F1(x1*) = 0.01
    J = np.diag([2.0, 0.3, -0.2])
    net = _no_input(3, J, np.zeros((3, 1)), [[1.0, 0.0, 0.0]], [c, 0.0, 0.0], "tanh")
    fps = rs.find_fixed_points(net, method="slow", rng=0, n_seeds=24, seed_scale=3.0)
    slow = np.flatnonzero(fps.found_by == "slow-point")
    assert slow.size >= 1
    for k in slow:
        np.testing.assert_allclose(fps.x[k], [xs, 0.0, 0.0], atol=1e-3)
        assert fps.residual[k] == pytest.approx(0.01, abs=1e-5)
        assert not fps.stable[k] and not fps.stable_flow[k] and fps.stability[k] == "slow"
    # the true fixed point, from an independent 1-D root search
    x1 = scipy.optimize.brentq(lambda s: -s + 2 * np.tanh(s) + c, 0.5, 5.0, xtol=1e-14)
    fixed = np.flatnonzero(fps.is_fixed)
    assert fixed.size == 1
    np.testing.assert_allclose(fps.x[fixed[0]], [x1, 0.0, 0.0], atol=1e-9)
    assert fps.stable[fixed[0]] and fps.stability[fixed[0]] == "stable"
    assert fps.stable.sum() == 1                          # only the point that is fixed
    assert any("slow point" in m for m in fps.messages)
    # simulate: from the slow point the state leaves (it is not fixed) for the fixed point
    tr = rs.simulate(net, None, fps.x[slow[0]], mode="closed", n_steps=3000, record=())
    np.testing.assert_allclose(tr.x_final, [x1, 0.0, 0.0], atol=1e-6)


# ------------------------------------------------ degenerate roots: |F| < tol far from them

def _one_unit_family(J):
    J = np.atleast_2d(np.asarray(J, float))
    n = J.shape[0]
    return rs.Network(J=J, W_in=np.zeros((n, 1)), W_fb=np.zeros((n, 1)),
                      W_out=np.zeros((1, n)), b=np.zeros(n), phi="tanh", tau=1.0, dt=0.1)


@pytest.mark.parametrize("J", [[[1.0]], np.diag([1.0, 0.5])])
def test_a_degenerate_root_is_one_marginal_point_not_many_stable_ones(J):
    """x = tanh(x) (J = 1) has the single root 0, approached like dx/dt = -x^3/3: seeds stop
    wherever |x|^3/3 < tol, and main listed ~30 of those as distinct "stable" fixed points
    (with n_unseen ~ 100). Newton's polish follows the linear convergence to the root: one
    point, within 1e-6 of 0, marginal (gain eigenvalue 1 - x^2 within rounding of 1)."""
    fps = rs.find_fixed_points(_one_unit_family(J), u=[0.0], rng=0)
    fixed = fps[fps.is_fixed]
    assert len(fixed) == 1
    assert np.max(np.abs(fixed.x)) < 1e-6
    assert fixed.stability[0] == "marginal" and not fixed.stable[0]
    assert fps.n_unseen == 0.0


def test_merged_roots_with_different_stability_are_reported():
    """J = 1 + 1e-15: a pitchfork with roots 0 (unstable) and +-sqrt(3e-15) = +-5.5e-8
    (stable), closer than tol_unique = 1e-6: merged into one point, and a message says that
    distinct roots with different stability were merged."""
    fps = rs.find_fixed_points(_one_unit_family([[1.0 + 1e-15]]), u=[0.0], rng=0)
    assert len(fps[fps.is_fixed]) == 1
    assert any("distinct roots closer than tol_unique" in m for m in fps.messages)


def test_unreliable_intervals_with_one_cause_are_merged():
    from reservoir.analysis._zscan import _merge_flat
    ivs = [(0.0, 1.0, "a"), (1.0, 2.0, "a"), (2.0, 3.0, "b"), (3.5, 4.0, "a"),
           (1.5, 2.5, "a")]
    assert _merge_flat(ivs) == [(0.0, 2.5, "a"), (2.0, 3.0, "b"), (3.5, 4.0, "a")]
