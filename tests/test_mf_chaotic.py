"""Chaotic dynamic mean field with a static input (spec mo2019 section 3.4, X5)."""

import warnings

import numpy as np
import pytest
import scipy.integrate
from hypothesis import given, settings, strategies as st

from reservoir.meanfield import (MeanFieldParams, chaos_threshold, chaotic_fixed_points,
                                 chaotic_variances, energy_residual, gaussian_average,
                                 nested_gaussian_average, scs_variance)
from reservoir.meanfield.chaotic import _functions


def _nested_quad(f, d0, dinf):
    """Reference: nested adaptive quadrature (scipy.integrate.quad inside quad)."""
    s_in, s_out = np.sqrt(d0 - dinf), np.sqrt(dinf)
    gauss = lambda u: np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)  # noqa: E731

    def inner(z):
        v, _ = scipy.integrate.quad(lambda x: f(s_in * x + s_out * z) * gauss(x), -12, 12,
                                    epsabs=1e-14, epsrel=1e-13, limit=200)
        return v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
        v, _ = scipy.integrate.quad(lambda z: inner(z) ** 2 * gauss(z), -12, 12,
                                    epsabs=1e-14, epsrel=1e-12, limit=200)
    return v


@pytest.mark.parametrize("phi", ["tanh", "sigmoid"])
@pytest.mark.parametrize("which", ["phi", "dphi", "Phi"])
@pytest.mark.parametrize("d0, dinf", [(0.5, 0.2), (2.0, 1.9), (6.0, 0.5), (1.0, 0.0),
                                      (3.0, 3.0)])
def test_nested_quadrature_matches_scipy(phi, which, d0, dinf):
    f = _functions(phi)[which]
    got = float(nested_gaussian_average(f, d0, dinf))
    assert got == pytest.approx(_nested_quad(f, d0, dinf), abs=1e-9, rel=1e-9)


def test_nested_quadrature_limits_are_single_averages():
    """delta_inf = delta0 gives [f^2](delta0); delta_inf = 0 gives [f](delta0)^2."""
    f = _functions("sigmoid")["phi"]
    for d in (0.3, 2.0, 9.0):
        assert float(nested_gaussian_average(f, d, d)) == pytest.approx(
            float(gaussian_average("sigmoid", "phi2", 0.0, d)), abs=1e-10)
        assert float(nested_gaussian_average(f, d, 0.0)) == pytest.approx(
            float(gaussian_average("sigmoid", "phi", 0.0, d)) ** 2, abs=1e-10)


@pytest.mark.parametrize("g, edge, threshold", [(1.2, 0.2857, 0.0111), (1.5, 1.1197, 0.1861),
                                                (2.0, 4.2079, 1.6359)])
def test_chaos_threshold_spec_X5(g, edge, threshold):
    d, din = chaos_threshold(g)
    assert d == pytest.approx(edge, abs=1e-4)
    assert din == pytest.approx(threshold, abs=1e-4)
    # the static bulk radius is exactly 1 there
    assert g * np.sqrt(float(gaussian_average("tanh", "dphi2", 0.0, d))) == pytest.approx(
        1.0, abs=1e-12)


@pytest.mark.parametrize("g", [1.2, 1.5, 2.0, 3.0])
def test_reduces_to_scs_without_input_and_feedback(g):
    sol = chaotic_variances(MeanFieldParams(g=g, var_m=1.0, var_I=0.0), 0.0)
    assert sol.regime == "chaotic" and sol.chaotic
    assert sol.delta_inf == 0.0
    # scs_variance uses the Phi form ([Phi^2] - [Phi]^2, cancellation at large g)
    assert sol.delta0 == pytest.approx(scs_variance(g), rel=1e-7)


@given(st.floats(1.1, 2.5), st.floats(0.0, 1.3))
@settings(max_examples=12)
def test_solution_properties(g, frac):
    """Delta0 >= Delta_inf >= Delta_in >= 0; chaotic exactly below the threshold; both
    equations (spec form, with Phi = ln cosh) hold at the returned solution."""
    _, din_c = chaos_threshold(g)
    din = frac * din_c
    p = MeanFieldParams(g=g, var_m=0.0, var_I=din)
    sol = chaotic_variances(p, 0.0)
    assert sol.success, sol.messages
    assert sol.delta0 >= sol.delta_inf >= din - 1e-12 >= -1e-12
    assert np.isfinite(sol.delta0) and np.isfinite(sol.delta_inf)
    if abs(frac - 1) > 1e-3:
        assert sol.chaotic == (frac < 1)
        assert (sol.static_bulk_radius > 1) == (frac < 1)
    f = _functions("tanh")["phi"]
    long_lag = g * g * float(nested_gaussian_average(f, sol.delta0, sol.delta_inf)) + din
    # (Delta_in < 1e-12 uses the SCS solution + linear response: O(Delta_in^2) residuals)
    assert long_lag == pytest.approx(sol.delta_inf, abs=1e-9)
    assert abs(energy_residual(p, sol.delta0, sol.delta_inf, din)) < 1e-8
    if not sol.chaotic:
        assert sol.delta0 == sol.delta_inf == sol.static_delta0


@pytest.mark.parametrize("g", [1.5, 2.0])
def test_chaotic_branch_leaves_static_one_at_the_bulk_edge(g):
    """As Delta_in rises to the X5 threshold, Delta0 - Delta_inf -> 0 (linearly) and Delta0
    -> the static variance at the bulk edge; just above it there is no chaotic solution."""
    edge, din_c = chaos_threshold(g)
    p = MeanFieldParams(g=g, var_m=0.0, var_I=0.0)
    eps, d0 = [], []
    for dist in (4e-2, 1e-2, 2.5e-3):
        s = chaotic_variances(p, input_variance=din_c * (1 - dist))
        assert s.chaotic
        eps.append(s.fluctuation_variance)
        d0.append(s.delta0)
    eps = np.array(eps)
    assert np.all(np.diff(eps) < 0)
    # linear vanishing: eps / distance roughly constant (within 15 %)
    ratio = eps / np.array([4e-2, 1e-2, 2.5e-3])
    assert ratio[2] == pytest.approx(ratio[1], rel=0.15)
    assert d0[-1] == pytest.approx(edge, abs=0.02 * edge)
    assert eps[-1] < 0.01 * edge
    above = chaotic_variances(p, input_variance=din_c * (1 + 1e-3))
    assert above.regime == "static" and above.delta0 == above.delta_inf
    assert above.static_bulk_radius < 1


def test_sigmoid_chaotic_state_satisfies_the_spec_equations():
    """phi need not be odd: logistic sigmoid (Phi = softplus). Its quenched mean rate 1/2
    adds g^2/4 of static variance, so chaos needs a large bulk: g = 15 (static bulk radius
    1.206 measured)."""
    p = MeanFieldParams(g=15.0, var_m=0.0, var_I=0.5, phi="sigmoid")
    sol = chaotic_variances(p, 0.0)
    assert sol.chaotic and sol.delta0 > sol.delta_inf > 0.5 and sol.static_bulk_radius > 1
    # Delta0^2 ~ 1e4: relative residual of the Phi form
    assert abs(energy_residual(p, sol.delta0, sol.delta_inf, 0.5)) < 1e-10 * sol.delta0**2
    f = _functions("sigmoid")["phi"]
    assert 225 * float(nested_gaussian_average(f, sol.delta0, sol.delta_inf)) + 0.5 == \
        pytest.approx(sol.delta_inf, rel=1e-10)


def test_input_variance_from_feedback_level():
    """Delta_in(z) = var_m z^2 + 2 cov_mI z + var_I is what enters."""
    p = MeanFieldParams(g=2.0, var_m=1.0, var_I=0.3, cov_mI=0.2)
    a = chaotic_variances(p, 0.5)
    b = chaotic_variances(p, input_variance=0.25 + 0.2 + 0.3)
    assert a.input_variance == pytest.approx(0.75)
    assert a.delta0 == pytest.approx(b.delta0, abs=1e-12)


def test_closed_loop_chaotic_solutions():
    """Every returned root solves z = (snm z + snI) [phi'](Delta0_chaotic(z)) inside the
    chaotic interval; the target-independent static theory puts its root elsewhere."""
    p = MeanFieldParams(g=1.5, var_m=1.0, var_I=0.05, overlap_nm=1.0, overlap_nI=0.1)
    res = chaotic_fixed_points(p, n_grid=9)
    assert res.success and len(res) == 1
    _, din_c = chaos_threshold(1.5)
    lo, hi = res.z_interval
    assert hi == pytest.approx(np.sqrt(din_c - 0.05), abs=1e-9) and lo == pytest.approx(-hi)
    for z, d0, di in zip(res.z, res.delta0, res.delta_inf):
        assert lo < z < hi and d0 > di
        psi = float(gaussian_average("tanh", "dphi", 0.0, d0))
        assert (p.overlap_nm * z + p.overlap_nI) * psi == pytest.approx(z, abs=1e-8)
        assert chaotic_variances(p, z).delta0 == pytest.approx(d0, abs=1e-10)
    # measured: z = 0.16228, Delta0 = 0.93071, Delta_inf = 0.72638
    assert res.z[0] == pytest.approx(0.16228, abs=1e-4)


def test_closed_loop_without_chaotic_region():
    strong = MeanFieldParams(g=1.5, var_m=1.0, var_I=1.0, overlap_nm=1.0)
    res = chaotic_fixed_points(strong)
    assert res.success and len(res) == 0 and res.z_interval is None
    weak_bulk = MeanFieldParams(g=0.8, var_m=1.0, var_I=0.0, overlap_nm=1.0)
    res = chaotic_fixed_points(weak_bulk)
    assert len(res) == 0 and res.z_interval is None


def test_bad_input():
    p = MeanFieldParams(g=1.5, var_m=1.0, var_I=0.1)
    with pytest.raises(ValueError, match="phi"):
        chaotic_variances(MeanFieldParams(g=1.5, var_m=1.0, var_I=0.1, phi="relu"))
    with pytest.raises(ValueError, match="input_variance"):
        chaotic_variances(p, input_variance=-1.0)
    with pytest.raises(ValueError, match="z"):
        chaotic_variances(p, float("nan"))
    with pytest.raises(ValueError, match="delta_inf"):
        nested_gaussian_average(np.tanh, 1.0, 2.0)
    with pytest.raises(ValueError, match="n_grid"):
        chaotic_fixed_points(p, n_grid=1)
    with pytest.raises(ValueError, match="g"):
        chaos_threshold(0.5)
    with pytest.raises(TypeError, match="params"):
        chaotic_variances({"g": 1.5})


def _driven_chaotic_network(N, g, din, seed, *, t_transient=50.0, t_record=300.0, dt=0.1):
    """Random network (no feedback) driven by a static input vector of empirical variance
    exactly ``din``: returns the time- and unit-averaged ``<x^2>`` and the uncentred
    long-lag autocovariance ``<x_i(t) x_i(t+s)>`` averaged over s in [20, 40] tau."""
    import reservoir as rs
    gen = np.random.default_rng(seed)
    J = gen.standard_normal((N, N)) * g / np.sqrt(N)
    xi = gen.standard_normal(N)
    I = xi * np.sqrt(din / np.mean(xi**2))
    net = rs.Network(J=J, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=I, dt=dt)
    n0, n = int(round(t_transient / dt)), int(round(t_record / dt))
    tr = rs.simulate(net, None, gen.standard_normal(N), mode="open", n_steps=n0 + n,
                     record=("x",))
    X = tr.x[n0:]
    lags = np.arange(int(round(20 / dt)), int(round(40 / dt)) + 1, int(round(2 / dt)))
    return float(np.mean(X**2)), float(np.mean([np.mean(X[:-k] * X[k:]) for k in lags]))


@pytest.mark.slow
def test_chaotic_dmf_against_networks_two_sizes():
    """g = 2, static input of variance 0.1 (threshold 1.636): theory Delta0 = 2.1484,
    Delta_inf = 0.9012. Seed-averaged measurements (4 networks per size, dt = 0.1, 50 tau
    transient, 300 tau recorded) approach the theory as N grows (measured N = 250:
    2.319 / 1.939; N = 1000: 2.185 / 1.107): finite networks are less chaotic (some
    small ones freeze into fixed points), the error shrinks about 5-fold."""
    theory = chaotic_variances(MeanFieldParams(g=2.0, var_m=0.0, var_I=0.1), 0.0)
    assert theory.chaotic
    err = {}
    for N in (250, 1000):
        m = np.mean([_driven_chaotic_network(N, 2.0, 0.1, s) for s in range(4)], axis=0)
        err[N] = np.abs(m - [theory.delta0, theory.delta_inf])
    assert np.all(err[1000] < 0.5 * err[250])
    assert err[1000][0] < 0.1 and err[1000][1] < 0.35
