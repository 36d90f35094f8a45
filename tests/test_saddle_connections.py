"""saddle_connections on hand-built networks whose saddles and attractors are known
independently (issue 12): a 1-D bistable loop x = w tanh(x) (closed forms), a 2-D
asymmetric network (fixed points by fsolve from a grid, branch ends by scipy's ODE solver),
a map whose only fixed point has a negative multiplier (a period-2 orbit, no end), and an
incomplete list of fixed points."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, fsolve

import reservoir as rs
from helpers import assert_rejects
from reservoir.analysis import SaddleConnections, saddle_connections
from test_flip_flop import find_points


def loop_1d(w, alpha=0.1):
    """x = w tanh(x) through the feedback loop (J = 0, so the z-scan's open loop
    contracts and finds every root): z = tanh(x), x = w z."""
    return rs.Network(J=np.zeros((1, 1)), W_in=np.zeros((1, 0)), W_fb=[[w]], W_out=[[1.0]],
                      b=[0.0], tau=1.0, dt=alpha)


def outer_root(w):
    """The positive root of x = w tanh(x), w > 1 (brentq on [1e-3, w + 1])."""
    return brentq(lambda x: x - w * np.tanh(x), 1e-3, w + 1.0, xtol=1e-15)


@given(w=st.floats(1.2, 4.0), alpha=st.sampled_from([0.1, 0.5, 1.0]))
def test_1d_saddle_connects_the_two_outer_points(w, alpha):
    net = loop_1d(w, alpha)
    fps = rs.find_fixed_points(net, method="scan")
    xs = outer_root(w)
    assert np.allclose(fps.x[:, 0], [-xs, 0.0, xs], atol=1e-10)
    sc = saddle_connections(net, fps)
    assert sc.success and len(sc) == 1
    assert sc.saddle_index.tolist() == [1]
    # the multiplier at 0: 1 - alpha + alpha w (D = 1 there); e = +1
    assert sc.unstable_multiplier[0] == pytest.approx(1 - alpha + alpha * w, rel=1e-12)
    assert sc.unstable_vector.tolist() == [[1.0]]
    assert sc.ends.tolist() == [[2, 0]]                    # +e -> +x*, -e -> -x*
    assert np.allclose(sc.x_end[0, :, 0], [xs, -xs], atol=1e-9)
    assert np.all(sc.end_distance < 1e-9) and np.all(sc.end_residual < 1e-9)


J2 = np.array([[0.5, -1.0], [-1.2, 0.4]])
B2 = np.array([0.1, -0.05])


def net_2d(alpha=0.1):
    return rs.Network(J=J2, W_in=np.zeros((2, 0)), W_fb=np.zeros((2, 1)),
                      W_out=np.zeros((1, 2)), b=B2, tau=1.0, dt=alpha)


def roots_2d():
    """Every fixed point of F(x) = -x + J2 tanh(x) + B2 in [-4, 4]^2, by fsolve from a
    41 x 41 grid (residual < 1e-12)."""
    F = lambda x: -x + J2 @ np.tanh(x) + B2  # noqa: E731
    pts = []
    for x1 in np.linspace(-4, 4, 41):
        for x2 in np.linspace(-4, 4, 41):
            x, _, ier, _ = fsolve(F, [x1, x2], full_output=True, xtol=1e-14)
            if ier == 1 and np.max(np.abs(F(x))) < 1e-12 and \
                    all(np.max(np.abs(x - p)) > 1e-8 for p in pts):
                pts.append(x)
    return np.array(pts)


@pytest.fixture(scope="module")
def fps_2d():
    grid = np.array([[a, b] for a in np.linspace(-3, 3, 9) for b in np.linspace(-3, 3, 9)])
    return find_points(net_2d(), grid, tol=1e-12)


def test_2d_fixed_points_match_an_independent_search(fps_2d):
    ref = roots_2d()
    assert len(ref) == 3 and len(fps_2d) == 3
    d = np.max(np.abs(fps_2d.x[:, None, :] - ref[None, :, :]), axis=2)
    assert np.all(d.min(axis=1) < 1e-9)


def test_2d_saddle_ends_where_an_ode_solver_goes(fps_2d):
    net = net_2d()
    sc = saddle_connections(net, fps_2d)
    assert sc.success, sc.messages
    assert len(sc) == 1
    p = int(sc.saddle_index[0])
    x = fps_2d.x[p]
    # plain NumPy: the flow Jacobian has one positive eigenvalue; its eigenvector is e
    lam, V = np.linalg.eig(-np.eye(2) + J2 * (1 - np.tanh(x) ** 2)[None, :])
    k = int(np.argmax(lam.real))
    assert lam.real[k] > 0 and lam.real[1 - k] < 0
    e = V[:, k].real / np.linalg.norm(V[:, k].real)
    assert abs(abs(e @ sc.unstable_vector[0]) - 1) < 1e-12
    assert sc.unstable_multiplier[0] == pytest.approx(1 + net.alpha * lam.real[k], rel=1e-12)
    # the continuous flow from the same starts (an independent integrator)
    for side, s in enumerate((1.0, -1.0)):
        sol = solve_ivp(lambda t, y: -y + J2 @ np.tanh(y) + B2, (0, 100),
                        x + s * 1e-3 * sc.unstable_vector[0], rtol=1e-10, atol=1e-12)
        end = sol.y[:, -1]
        k_ode = int(np.argmin(np.max(np.abs(fps_2d.x - end[None, :]), axis=1)))
        assert np.max(np.abs(fps_2d.x[k_ode] - end)) < 1e-6
        assert sc.ends[0, side] == k_ode
    assert set(sc.ends[0]) == set(np.flatnonzero(fps_2d.stable))


def test_negative_multiplier_period_two_orbit_ends_nowhere():
    # the map x -> -2 tanh(x) (alpha = 1): the origin is the only fixed point, multiplier
    # -2, and every orbit goes to the period-2 orbit +-x2, x2 = 2 tanh(x2)
    net = loop_1d(-2.0, alpha=1.0)
    fps = rs.find_fixed_points(net, method="scan")
    assert len(fps) == 1 and fps.n_unstable.tolist() == [1]
    sc = saddle_connections(net, fps)
    assert not sc.success
    assert sc.ends.tolist() == [[-1, -1]]
    assert sc.unstable_multiplier[0] == pytest.approx(-2.0, rel=1e-12)
    x2 = outer_root(2.0)
    assert np.allclose(np.abs(sc.x_end[0, :, 0]), x2, atol=1e-9)
    assert np.all(sc.end_residual > 1.0)                   # |F| = 2 x2 on the orbit
    text = " ".join(sc.messages)
    assert "negative unstable multiplier" in text and "not come to rest" in text


def test_missing_attractor_is_reported_not_matched():
    net = loop_1d(2.0)
    fps = rs.find_fixed_points(net, method="scan")
    partial = fps[np.array([0, 1])]                        # drop +x*
    sc = saddle_connections(net, partial)
    assert not sc.success
    assert sc.ends.tolist() == [[-1, 0]]
    assert sc.end_distance[0, 0] == pytest.approx(2 * outer_root(2.0), rel=1e-9)
    assert any("missing a fixed point" in m for m in sc.messages)


def test_too_short_a_run_is_undecided():
    net = loop_1d(2.0)
    fps = rs.find_fixed_points(net, method="scan")
    sc = saddle_connections(net, fps, duration=0.1, match_tol=1e-2)
    assert sc.n_steps == 1 and not sc.success
    assert sc.ends.tolist() == [[-1, -1]]
    assert any("did not leave the saddle" in m for m in sc.messages)


def test_no_saddle_is_a_success_with_a_message():
    net = loop_1d(0.5)
    fps = rs.find_fixed_points(net, method="scan")
    sc = saddle_connections(net, fps)
    assert sc.success and len(sc) == 0 and sc.ends.shape == (0, 2)
    assert any("no fixed point" in m for m in sc.messages)


def test_result_is_a_point_collection():
    net = loop_1d(2.0)
    sc = saddle_connections(net, rs.find_fixed_points(net, method="scan"))
    assert isinstance(sc, SaddleConnections)
    one = sc[0]
    assert len(one) == 1 and one.ends.tolist() == sc.ends.tolist()
    assert len(repr(sc).splitlines()) < 25
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.success = False


def test_bad_input_is_rejected():
    net = loop_1d(2.0)
    fps = rs.find_fixed_points(net, method="scan")
    base = dict(net=net, fps=fps)
    assert_rejects(saddle_connections, base, {"net": "x"}, TypeError, "net")
    assert_rejects(saddle_connections, base, {"fps": fps.x}, TypeError, "fps")
    for bad in (0.0, -1.0, np.nan):
        assert_rejects(saddle_connections, base, {"eps": bad}, ValueError, "eps")
        assert_rejects(saddle_connections, base, {"duration": bad}, ValueError, "duration")
        assert_rejects(saddle_connections, base, {"match_tol": bad}, ValueError, "match_tol")
    assert_rejects(saddle_connections, base, {"u": [1.0]}, ValueError, "u")
    net_u = rs.Network(J=np.zeros((1, 1)), W_in=np.ones((1, 1)), W_fb=[[2.0]],
                       W_out=[[1.0]], b=[0.0])
    fps_u = rs.find_fixed_points(net_u, [0.0], method="scan")
    assert_rejects(saddle_connections, dict(net=net_u, fps=fps_u), {"u": [0.5]},
                   ValueError, "fps.u")
    # fixed points of another network
    assert_rejects(saddle_connections, base, {"net": net_2d()}, ValueError, "fps")
    assert_rejects(saddle_connections, base, {"net": loop_1d(3.0)}, ValueError, "fps")
    no_eig = rs.find_fixed_points(net, method="scan", compute_eigenvalues=False)
    assert_rejects(saddle_connections, base, {"fps": no_eig}, ValueError, "compute_eigenvalues")
