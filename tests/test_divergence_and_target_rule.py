"""Divergence is not stability (issue 12, fault 6) and one target rule (fault 8).

Every expected value comes from an independent computation: the closed form of a
one-unit linear ReLU map, the multiplier of the Euler map at a fixed point, and a direct
evaluation of the rule ``|z - A| <= atol + rtol |A|`` on the fixed points found.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reservoir as rs
from reservoir.analysis import _target
from reservoir.analysis.global_stability import _lyapunov_checked


def _one_unit(j, phi, dt=0.1, tau=1.0):
    """One unit, no input, no feedback: x <- (1 - a) x + a j phi(x), a = dt / tau."""
    return rs.Network(J=np.array([[j]]), W_in=np.zeros((1, 0)), W_fb=np.zeros((1, 1)),
                      W_out=np.zeros((1, 1)), b=np.zeros(1), phi=phi, tau=tau, dt=dt)


# ---------------------------------------------------------------------------------------
# fault 6: divergence


def test_growing_relu_loop_has_the_closed_form_exponent_before_it_diverges():
    """J = [[2]], relu, x0 = 1: x_n = (1 + a)^n x0 exactly, so the exponent of the map is
    log(1 + a) / dt. Over 20 time units x reaches 1.9e8, where an absolute perturbation of
    1e-8 is below rounding (the old estimate lost it); the relative one is not."""
    net = _one_unit(2.0, "relu")
    exact = np.log(1.1) / 0.1
    lam = rs.lyapunov_exponent(net, x0=[1.0], duration=20.0, transient=0.0, rng=0)
    assert lam == pytest.approx(exact, rel=1e-6)
    # a bound out of the way: the same closed form over 200 time units (x reaches 1e41)
    lam = rs.lyapunov_exponent(net, x0=[1.0], duration=200.0, transient=0.0,
                               divergence_bound=1e300, rng=0)
    assert lam == pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize("bound, t_expected", [
    # first interval end (every 10 steps) with 1.1^n > bound: n > log(bound) / log(1.1)
    (1e10, 25.0),    # n > 241.6 -> n = 250
    (1e3, 8.0),      # n > 72.5 -> n = 80
    # 1.1^n overflows to inf at n = 7448 (the kernel's non-finite check): interval end 7450
    (1.7e308, 745.0),
])
def test_divergence_gives_plus_inf_at_the_closed_form_time(bound, t_expected):
    net = _one_unit(2.0, "relu")
    n_cross = int(np.floor(np.log(bound) / np.log(1.1))) + 1
    assert np.ceil(n_cross / 10) * 10 * 0.1 == pytest.approx(t_expected)
    lam, t_div = _lyapunov_checked(net, None, [1.0], 1000.0, 0.0, 1.0, 1e-8, bound, 0)
    assert lam == np.inf and t_div == pytest.approx(t_expected)
    assert rs.lyapunov_exponent(net, x0=[1.0], duration=1000.0, transient=0.0,
                                divergence_bound=bound, rng=0) == np.inf
    # the transient is checked too
    lam, t_div = _lyapunov_checked(net, None, [1.0], 1.0, 1000.0, 1.0, 1e-8, bound, 0)
    assert lam == np.inf and t_div == pytest.approx(t_expected)


def test_stability_report_says_the_loop_diverges():
    """The issue's kind: a diverging ReLU loop was reported -inf, chaotic=False, no word.
    Starts x0 > 0 grow like 1.1^n; starts x0 < 0 decay to the fixed point 0."""
    net = _one_unit(2.0, "relu")
    rep = rs.stability_report(net, n_init=200, duration=50.0, rng=0)
    # a start diverges within 50 time units iff x0 > 1e10 / 1.1^500 (about 2e-11), i.e.
    # x0 > 0 for these normal draws (about half); the others settle at 0
    assert 60 < rep.n_diverged < 140
    assert rep.n_diverged + int(rep.converged.sum()) == 200
    assert any("diverged" in m for m in rep.messages)
    assert not rep.chaotic and not rep.globally_stable
    assert rep.fraction_unconverged == pytest.approx(rep.n_diverged / 200)
    if rep.lyapunov_exponent == np.inf:
        assert np.isfinite(rep.divergence_time)
        assert any("Lyapunov trajectory diverged" in m for m in rep.messages)


def test_stability_report_diverging_lyapunov_trajectory_from_every_start():
    """With a bias b = 1 every start ends on the positive side (the x < 0 branch flows to
    x = b > 0), so the Lyapunov trajectory diverges whatever the seed."""
    net = rs.Network(J=np.array([[2.0]]), W_in=np.zeros((1, 0)), W_fb=np.zeros((1, 1)),
                     W_out=np.zeros((1, 1)), b=np.ones(1), phi="relu", tau=1.0, dt=0.1)
    rep = rs.stability_report(net, n_init=20, duration=40.0, rng=0)
    assert rep.lyapunov_exponent == np.inf and 0 < rep.divergence_time <= 250.0
    assert rep.n_diverged == 20 and rep.fraction_unconverged == 1.0
    assert not rep.chaotic and not rep.globally_stable
    assert any("not chaos" in m for m in rep.messages)
    assert any("20 of 20 trial(s) diverged" in m for m in rep.messages)


@pytest.mark.parametrize("init_scale, bound", [(1.0, 1e10), (1e300, 1.7e308)])
def test_basin_trials_that_diverge_are_exactly_the_positive_starts(init_scale, bound):
    """J = [[2]], relu: a start x0 > 0 grows like 1.1^n (past 1e10 within 50 time units
    from |x0| > 2e-11; from 1e300 it overflows within one chunk, the kernel's non-finite
    path); x0 < 0 decays like 0.9^n. The initial states are the report's own draws,
    reproduced here (with fixed_points given, they are the generator's first draws)."""
    net = _one_unit(2.0, "relu")
    fps = rs.find_fixed_points(net, z_range=(-1.0, 1.0))
    rep = rs.stability_report(net, n_init=40, init_scale=init_scale, duration=50.0,
                              lyapunov=False, divergence_bound=bound, fixed_points=fps,
                              rng=0)
    x0 = init_scale * np.random.default_rng(0).standard_normal((40, 1))[:, 0]
    assert rep.n_diverged == np.count_nonzero(x0 > 0)
    settled = rep.converged
    if init_scale == 1.0:   # 0.9^500 |x0| < 1e-6: every negative start settles at 0
        np.testing.assert_array_equal(settled, x0 < 0)
    else:                   # 0.9^500 1e300 is not small: they do not settle in time
        assert not settled.any()
    assert any(f"{rep.n_diverged} of 40 trial(s) diverged" in m for m in rep.messages)
    assert not rep.globally_stable


@pytest.mark.parametrize("j, dt", [(0.5, 0.1), (-0.5, 0.5), (0.9, 1.0)])
def test_stable_scalar_unit_exponent_is_the_map_multiplier(j, dt):
    """tanh unit settling on x = 0: the Euler map's multiplier there is 1 - a + a j
    (tanh'(0) = 1), so the exponent is log|1 - a + a j| / dt (from x0 = 1e-4 the
    nonlinearity changes the multiplier by less than x^2 = 1e-8)."""
    net = _one_unit(j, "tanh", dt=dt)
    a = dt / 1.0
    exact = np.log(abs(1 - a + a * j)) / dt
    lam = rs.lyapunov_exponent(net, x0=[1e-4], duration=50.0, transient=10.0, rng=0)
    assert lam == pytest.approx(exact, rel=1e-6)


def test_stable_network_exponent_is_its_leading_multiplier():
    """N = 30, g = 0.3, a bias so the fixed point is not the origin: the exponent is
    log(max |1 - a + a mu|) / dt over the eigenvalues mu of J D at the fixed point."""
    rng = np.random.default_rng(3)
    N = 30
    J = 0.3 * rng.standard_normal((N, N)) / np.sqrt(N)
    b = 0.5 * rng.standard_normal(N)
    net = rs.Network(J=J, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=b, phi="tanh", tau=1.0, dt=0.1)
    x = np.zeros(N)
    for _ in range(200):  # Newton on F(x) = -x + J tanh(x) + b (a contraction: unique)
        D = 1 - np.tanh(x) ** 2
        x = x - np.linalg.solve(-np.eye(N) + J * D, -x + J @ np.tanh(x) + b)
    assert np.max(np.abs(-x + J @ np.tanh(x) + b)) < 1e-13
    mu = np.linalg.eigvals(J * (1 - np.tanh(x) ** 2))
    exact = np.log(np.max(np.abs(1 - 0.1 + 0.1 * mu))) / 0.1
    lam = rs.lyapunov_exponent(net, duration=150.0, transient=30.0, rng=0)
    # the estimate converges like 1/duration where the leading multipliers are close
    assert lam < 0 and abs(lam - exact) < 0.02


def test_chaotic_network_has_a_positive_finite_exponent():
    """g = 2, N = 200 (W_out = 0): chaotic; the exponent is positive and finite (0.07-0.09
    for this network over durations 100-300 and three perturbation seeds)."""
    net = rs.random_network(200, 2.0, 0, 1, dt=0.1, rng=2)
    lam = rs.lyapunov_exponent(net, duration=100.0, rng=0)
    assert np.isfinite(lam) and lam > 0.03


@pytest.mark.parametrize("kwargs, word", [
    (dict(divergence_bound=0.0), "divergence_bound"),
    (dict(divergence_bound=-1.0), "divergence_bound"),
    (dict(x0=[1.0, 2.0]), "x0"),
    (dict(u=[1.0]), "u"),
    (dict(d0=0.0), "d0"),
])
def test_lyapunov_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        rs.lyapunov_exponent(_one_unit(0.5, "tanh"), duration=1.0, **kwargs)


def test_lyapunov_rejects_a_non_network():
    with pytest.raises(TypeError, match="net"):
        rs.lyapunov_exponent(None)


# ---------------------------------------------------------------------------------------
# fault 8: one target rule


def _bistable_pair():
    """J = 0, z = tanh(2 z) fed back through two units: stable points z = +-0.9575."""
    return rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 0)), W_fb=np.array([[2.0], [2.0]]),
                      W_out=np.array([[0.5, 0.5]]), b=np.zeros(2), phi="tanh", tau=1.0,
                      dt=0.1)


def test_report_and_geometry_give_the_same_target_verdict_near_the_edge_of_the_rule():
    """The stable point z* of z = tanh(2 z) (a 1-D root, solved here by bisection); a target
    A with |z* - A| just inside / just outside atol + rtol |A| is matched / not matched, by
    stability_report and readout_geometry alike."""
    lo, hi = 0.5, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.tanh(2 * mid) - mid > 0 else (lo, mid)
    z_star = 0.5 * (lo + hi)
    net = _bistable_pair()
    fps = rs.find_fixed_points(net)
    assert np.min(np.abs(fps.z[:, 0] - z_star)) < 1e-10
    atol, rtol = _target.TARGET_ATOL, _target.TARGET_RTOL
    for inside in (True, False):
        # |z* - A| = (1 -+ 1e-3) (atol + rtol A), with A = z* + delta, delta > 0
        f = 1 - 1e-3 if inside else 1 + 1e-3
        A = (z_star + f * atol) / (1 - f * rtol)
        assert abs(z_star - A) / (atol + rtol * abs(A)) == pytest.approx(f)
        rep = rs.stability_report(net, target=A, n_init=50, lyapunov=False,
                                  fixed_points=fps, rng=0)
        geo = rs.readout_geometry(net, target=A, rng=0)
        assert (rep.target_index is not None) is inside
        assert rep.target_stable is inside
        assert geo.solution_class == ("bistable" if inside else "unstable target")
        assert rs.readout_geometry(net, report=rep).solution_class == geo.solution_class
        if not inside:
            assert any("at the target" in m for m in rep.messages)


def test_readout_geometry_passes_its_rule_on():
    net = _bistable_pair()
    z_star = rs.find_fixed_points(net).z[:, 0].max()
    A = z_star + 0.03   # outside the default rule at A ~ 0.99 (0.01 + 0.02 A ~ 0.0298)
    default = rs.readout_geometry(net, target=A, rng=0).solution_class
    tight = rs.readout_geometry(net, target=A, target_atol=1e-3, target_rtol=0.0,
                                rng=0).solution_class
    loose = rs.readout_geometry(net, target=A, target_atol=0.05, target_rtol=0.0,
                                rng=0).solution_class
    assert tight == "unstable target" and loose == "bistable"
    assert 0.03 > 0.01 + 0.02 * abs(A) and default == "unstable target"


def test_deprecated_target_tol_is_the_absolute_rule():
    net = _bistable_pair()
    fps = rs.find_fixed_points(net)
    A = fps.z[:, 0].max() + 5e-3
    with pytest.warns(DeprecationWarning, match="target_tol"):
        old = rs.stability_report(net, target=A, target_tol=1e-3, n_init=5, lyapunov=False,
                                  fixed_points=fps, rng=0)
    assert old.target_index is None   # 5e-3 > 1e-3: the old absolute rule, kept exactly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = rs.stability_report(net, target=A, n_init=5, lyapunov=False,
                                  fixed_points=fps, rng=0)
    assert new.target_index is not None
    with pytest.raises(TypeError, match="target_tol"):
        rs.stability_report(net, target=A, target_tol=1e-3, target_atol=1e-3,
                            lyapunov=False, fixed_points=fps)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(target_atol=-1.0), ValueError, "target_atol"),
    (dict(target_rtol=-0.1), ValueError, "target_rtol"),
    (dict(target_atol=0.0, target_rtol=0.0), ValueError, "target_atol"),
    (dict(target_rtol="x"), TypeError, "target_rtol"),
    (dict(divergence_bound=0.0), ValueError, "divergence_bound"),
])
def test_stability_report_rejects_bad_rules(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        rs.stability_report(_bistable_pair(), target=0.9, n_init=2, lyapunov=False, **kwargs)


@settings(max_examples=60, deadline=None)
@given(z=st.floats(-100, 100), A=st.floats(-100, 100),
       atol=st.floats(0, 1), rtol=st.floats(0, 0.5))
def test_target_rule_is_numpys_isclose(z, A, atol, rtol):
    """The rule is numpy.isclose's (an independent implementation of atol + rtol |b|)."""
    if atol == 0 and rtol == 0:
        return
    assert bool(_target.at_target([z], [A], atol, rtol)) == \
        bool(np.isclose(z, A, rtol=rtol, atol=atol))


def test_match_target_takes_the_nearest_fixed_point():
    z = np.array([[1.00], [1.015], [0.99], [5.0]])
    assert _target.match_target(z, [1.0]) == 0
    assert _target.match_target(z, [1.0], candidates=[False, True, True, True]) == 2
    assert _target.match_target(z, [3.0]) is None
    assert _target.match_target(np.zeros((0, 1)), [1.0]) is None


@pytest.mark.slow
def test_report_geometry_and_predict_agree_on_a_trained_network():
    """A least-squares-trained bistable network (target point at z = 2.0 to 1e-6): at the
    default rule all three see the target; with a rule tighter than its distance to a
    shifted target, stability_report and readout_geometry both lose it."""
    from test_fixed_points import _trained_mo_network
    net = _trained_mo_network(120, 2.0)
    fps = rs.find_fixed_points(net, u=[1.0], rng=0)
    z_t = fps.z[np.argmin(np.abs(fps.z[:, 0] - 2.0)), 0]
    assert abs(z_t - 2.0) < 1e-6
    rep = rs.stability_report(net, u=[1.0], target=2.0, n_init=20, lyapunov=False,
                              fixed_points=fps, rng=0)
    geo = rs.readout_geometry(net, u=[1.0], report=rep)
    pred = rs.predict(net, u=[1.0], target=2.0, fixed_points=fps)
    assert geo.solution_class == pred.class_measured == "bistable"
    A = 2.02
    rule = dict(target_atol=1e-3, target_rtol=0.0)
    rep = rs.stability_report(net, u=[1.0], target=A, n_init=20, lyapunov=False,
                              fixed_points=fps, rng=0, **rule)
    geo = rs.readout_geometry(net, u=[1.0], target=A, rng=0, **rule)
    assert rep.target_index is None
    assert geo.solution_class == rs.readout_geometry(net, u=[1.0], report=rep).solution_class \
        == "unstable target"


@pytest.mark.slow
def test_predict_uses_the_shared_target_rule():
    from test_fixed_points import _trained_mo_network
    net = _trained_mo_network(120, 2.0)
    fps = rs.find_fixed_points(net, u=[1.0], rng=0)
    pred = rs.predict(net, u=[1.0], target=2.02, fixed_points=fps, target_atol=1e-3,
                      target_rtol=0.0)
    assert pred.class_measured == "unstable target"


# ------------------------------------------- slow growth is not chaos; no alignment bias

def _rank_one_relu(a, N=50):
    """J = a v v^T / |v|^2 with v > 0, ReLU, no input: inside the positive cone the flow is
    linear, x(t) = e^{(a - 1) t / tau} x(0) along v (growth for a > 1)."""
    v = np.random.default_rng(0).uniform(0.5, 1.5, N)
    net = rs.Network(J=a * np.outer(v, v) / (v @ v), W_in=np.zeros((N, 1)),
                     W_fb=np.zeros((N, 1)), W_out=np.ones((1, N)) / N, b=np.zeros(N),
                     phi="relu", tau=1.0, dt=0.1)
    return net, v


def test_steady_growth_is_not_called_chaos():
    """a = 1.05: |x| grows like e^{0.05 t} (3.9e5 at t = 250) without reaching the divergence
    bound: main said chaotic=True with no message."""
    net, _ = _rank_one_relu(1.05)
    rep = rs.stability_report(net, u=[0.0], n_init=20, rng=0)
    assert rep.chaotic is False
    assert rep.lyapunov_exponent > 0
    assert any("grew steadily" in m for m in rep.messages)


def test_lyapunov_exponent_has_no_alignment_bias():
    """a = 1.01 from x0 = v: the Euler map multiplies the growing direction by
    1 + alpha (a - 1) per step, so the exponent is log(1 + 0.1 * 0.01) / 0.1 = 0.0099950
    exactly (closed form). Started after the transient, a random perturbation's alignment
    biased the estimate to -0.0053 (a sign error) on main."""
    net, v = _rank_one_relu(1.01)
    lam = rs.lyapunov_exponent(net, x0=v, rng=0)
    assert lam == pytest.approx(np.log1p(0.1 * 0.01) / 0.1, abs=1e-5)
