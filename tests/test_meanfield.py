import dataclasses
import warnings

import numpy as np
import pytest
import scipy.integrate
from hypothesis import given, strategies as st

import reservoir as rs
from reservoir.meanfield import (MeanFieldParams, discrete_map_variance, gaussian_average,
                                 gaussian_expectation, mf_fixed_points, open_loop_variance,
                                 phase_diagram,
                                 readout_scale, scs_variance, stationary_variance)
from reservoir.meanfield.gaussian import _sigmoid_family, _tanh_family


def _quad(f, mu, delta):
    """High-resolution reference: adaptive quadrature in z with a breakpoint where the
    argument crosses 0 (where tanh, its derivatives and ReLU change fastest)."""
    s = np.sqrt(delta)
    pts = [-mu / s] if s > 0 and abs(mu / s) < 12 else None

    def integrand(z):
        return f(mu + s * z) * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
        val, _ = scipy.integrate.quad(integrand, -12, 12, points=pts, epsabs=1e-15,
                                      epsrel=1e-14, limit=1000)
    return val


@given(mu=st.floats(-3, 3), delta=st.floats(1e-3, 60.0),
       which=st.sampled_from(["phi", "dphi", "ddphi", "dddphi", "phi2", "dphi2", "phi_ddphi"]),
       phi=st.sampled_from(["tanh", "sigmoid"]))
def test_quadrature_matches_adaptive_integration(mu, delta, which, phi):
    f = (_tanh_family if phi == "tanh" else _sigmoid_family)(which)
    got = float(gaussian_average(phi, which, mu, delta))
    assert abs(got - _quad(f, mu, delta)) < 1e-12


@given(mu=st.floats(-3, 3), delta=st.floats(0.0, 20.0))
def test_quadrature_closed_forms_identity_and_square(mu, delta):
    assert abs(gaussian_expectation(lambda x: x, mu, delta) - mu) < 1e-12
    assert abs(gaussian_expectation(lambda x: x**2, mu, delta) - (mu**2 + delta)) < 1e-11


@given(mu=st.floats(-3, 3), delta=st.floats(1e-3, 20.0),
       which=st.sampled_from(["phi", "phi2", "dphi"]))
def test_relu_closed_forms_match_integration(mu, delta, which):
    f = {"phi": lambda x: np.maximum(x, 0), "phi2": lambda x: np.maximum(x, 0) ** 2,
         "dphi": lambda x: (x > 0).astype(float)}[which]
    got = float(gaussian_average("relu", which, mu, delta))
    assert abs(got - _quad(f, mu, delta)) < 1e-10


def test_relu_second_derivative_is_the_density_at_zero():
    mu, delta = 0.7, 2.0
    want = np.exp(-mu**2 / (2 * delta)) / np.sqrt(2 * np.pi * delta)
    assert float(gaussian_average("relu", "ddphi", mu, delta)) == pytest.approx(want, 1e-14)


def test_quadrature_is_vectorised_and_batch_independent():
    mu = np.linspace(-1, 1, 7)[:, None]
    delta = np.array([0.1, 1.0, 50.0])[None, :]
    batch = gaussian_average("tanh", "dphi", mu, delta)
    assert batch.shape == (7, 3)
    for i in range(7):
        for j in range(3):
            assert batch[i, j] == float(gaussian_average("tanh", "dphi", mu[i, 0], delta[0, j]))


@pytest.mark.parametrize("delta, phi2, dphi, dphi2, dddphi", [
    (0.5, 0.273676, 0.726324, 0.592426, -0.649260),
    (2.0, 0.519976, 0.480024, 0.349508, -0.176953),
    (6.67, 0.708024, 0.291976, 0.201187, -0.039218),
    (18.64, 0.819094, 0.180906, 0.122155, -0.009305),
    (50.0, 0.888075, 0.111925, 0.074984, -0.002203)])
def test_spec_X0_gaussian_averages(delta, phi2, dphi, dphi2, dddphi):
    got = [float(gaussian_average("tanh", w, 0.0, delta))
           for w in ("phi2", "dphi", "dphi2", "dddphi")]
    np.testing.assert_allclose(got, [phi2, dphi, dphi2, dddphi], atol=1e-6)


def test_gh200_reproduces_the_authors_rule_and_its_error():
    # spec 7.3 X0: GH-200 at Delta = 18.64 gives [phi'''] = +0.002023 (wrong sign)
    v = float(gaussian_average("tanh", "dddphi", 0.0, 18.64, method="gh200"))
    assert v == pytest.approx(0.002023, abs=1e-6)


@pytest.mark.parametrize("g, want", [(1.05, 0.0528), (1.1, 0.111), (1.2, 0.243),
                                     (1.5, 0.748), (2.0, 1.925), (3.0, 5.446)])
def test_scs_variance_spec_values(g, want):
    assert scs_variance(g) == pytest.approx(want, abs=1e-3)


def test_scs_variance_zero_below_transition_and_small_near_it():
    assert scs_variance(0.9) == 0.0 and scs_variance(1.0) == 0.0
    # near onset Delta0 ~ g - 1 (spec D.1)
    assert scs_variance(1.01) == pytest.approx(0.01, rel=0.1)


@pytest.mark.parametrize("g, want", [(1.2, 0.249), (1.5, 0.793), (2.0, 2.122)])
def test_discrete_map_variance_spec_values(g, want):
    assert discrete_map_variance(g) == pytest.approx(want, abs=1e-3)


def test_discrete_map_variance_against_simulation():
    """Spec D.1: simulation N = 2000, g = 1.5 gave 0.796 (theory 0.793)."""
    net = rs.random_network(2000, 1.5, 0, 1, dt=1.0, rng=0)
    tr = rs.simulate(net, None, np.random.default_rng(0).standard_normal(2000), mode="open",
                     n_steps=400, record=("x",))
    # with alpha = 1 the state x is the pre-activation J tanh(x_prev)
    assert np.mean(tr.x[100:] ** 2) == pytest.approx(0.793, rel=0.03)


# ----------------------------------------------------------- Mastrogiuseppe & Ostojic
EXAMPLE = dict(g=0.3, Sm=1.2, SI=0.5, rho=0.5, p=1.0, p_m=1.0, p_I=0.3)


def _example(A, method="accurate"):
    base = MeanFieldParams.from_code_parameters(**EXAMPLE, method=method)
    C, ok = readout_scale(base, A, base.overlap_nm, base.overlap_nI)
    assert ok
    return base.with_readout(C * base.overlap_nm, C * base.overlap_nI), float(C)


def test_example_direction_constants():
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    assert base.overlap_nm == pytest.approx(1.639230, abs=1e-6)
    assert base.overlap_nI == pytest.approx(0.379904, abs=1e-6)
    assert -base.overlap_nI / base.overlap_nm == pytest.approx(-0.231757, abs=1e-6)  # A_flex
    assert base.cov_mI == pytest.approx(0.15)


@pytest.mark.parametrize("A, C, delta0, psi, fixed", [
    (-2.0, 2.1645, 5.4713, 0.3188, [-2.0, -0.3626, 2.3366]),
    (-1.0, 1.4699, 1.4314, 0.5402, [-1.0, -0.5608, 1.5258]),
    (-0.5, 1.5544, 0.4842, 0.7315, [-1.1603, -0.5, 1.6264]),
    (-0.1, -0.5602, 0.2500, 0.8265, [-0.1]),
    (0.5, 0.6435, 0.7917, 0.6478, [0.5]),
    (1.0, 1.0388, 2.0371, 0.4768, [1.0]),
    (1.5, 1.4483, 3.9972, 0.3648, [-0.9503, -0.5849, 1.5]),
    (2.0, 1.8729, 6.6737, 0.2919, [-1.6271, -0.4026, 2.0])])
def test_spec_7_1_round_targets(A, C, delta0, psi, fixed):
    p, Cg = _example(A)
    assert Cg == pytest.approx(C, abs=1e-4)
    d, ok = open_loop_variance(p, A)
    assert ok and float(d) == pytest.approx(delta0, abs=1e-4)
    sol = mf_fixed_points(p)
    assert sol.success
    np.testing.assert_allclose(sol.z, fixed, atol=1e-4)
    t = np.argmin(np.abs(sol.z - A))
    assert sol.psi[t] == pytest.approx(psi, abs=1e-4)
    # stable and unstable roots alternate (g < 1)
    np.testing.assert_array_equal(sol.stable, np.arange(len(sol)) % 2 == 0)


@pytest.mark.parametrize("A, rows", [
    (-2.0, [(-2.0, 0.248054, 0.141042), (-0.362604, 2.626649, 0.243383),
            (2.336581, 0.059985, 0.125597)]),
    (2.0, [(-1.627116, 0.341534, 0.155213), (-0.402551, 2.178562, 0.240309),
           (2.0, 0.060101, 0.134538)]),
    (1.003003, [(1.003003, 0.211005, 0.176472)])])
def test_authors_pickled_branches_with_gh200(A, rows):
    """Spec 7.1: the pickled (z, outlier, bulk radius) of the authors' A-sweep, reproduced
    with their quadrature rule."""
    p, _ = _example(A, method="gh200")
    sol = mf_fixed_points(p)
    want = np.array(rows)
    np.testing.assert_allclose(sol.z, want[:, 0], atol=1e-6)
    np.testing.assert_allclose(sol.outlier.real, want[:, 1], atol=1e-6)
    np.testing.assert_allclose(sol.bulk_radius, want[:, 2], atol=1e-6)


def test_negative_outlier_is_reported_not_hidden():
    """Spec 7.1 note: at A = -0.1 the M-eigenvalues are 0.045 and -0.758; the outlier is
    -0.758 (the code's real-part sort would show 0.045)."""
    p, _ = _example(-0.1)
    sol = mf_fixed_points(p)
    np.testing.assert_allclose(sorted(sol.eig_M[0].real), [-0.7583, 0.045], atol=1e-3)
    assert sol.outlier[0].real == pytest.approx(-0.7583, abs=1e-3)


def test_quadrature_trap_X6_regression():
    """Spec X6: accurate quadrature calls the z = -3.6771 root stable (M-eigenvalues -0.099
    and -0.004, G' = -1.104); GH-200 calls it unstable (1.078)."""
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    d, _ = open_loop_variance(base, 1.0)
    psi = float(gaussian_average("tanh", "dphi", 0.0, d))
    p = base.with_readout(4.8, 1.0 / psi - 4.8)
    assert p.overlap_nI == pytest.approx(-2.7026, abs=1e-4)
    sol = mf_fixed_points(p)
    np.testing.assert_allclose(sol.z, [-3.6771, 1.0, 2.0313], atol=1e-4)
    np.testing.assert_array_equal(sol.stable, [True, False, True])
    assert sol.slope[0] - 1 == pytest.approx(-1.104, abs=1e-3)
    np.testing.assert_allclose(sorted(sol.eig_M[0].real), [-0.099, -0.004], atol=1e-3)
    gh = mf_fixed_points(dataclasses.replace(p, method="gh200"))
    assert gh.outlier[0].real == pytest.approx(1.078, abs=1e-3) and not gh.stable[0]


def test_solvers_report_non_convergence_with_a_status():
    p, _ = _example(2.0)
    d, ok = stationary_variance(p, np.array([0.5, 2.0]), max_iter=1, tol=1e-16)
    assert not np.all(ok) and np.all(np.isfinite(d))
    narrow = mf_fixed_points(p, z_range=(0.0, 1.0))
    assert not narrow.success and any("widen" in m for m in narrow.messages)


def _finite_network(N, A, seed):
    """Spec 5.2 construction: orthonormalised generating vectors (exact overlaps)."""
    p, C = _example(A)
    return rs.exact_overlap_network(N, **EXAMPLE, readout_scale=C, rng=seed), p


def test_mean_field_fixed_points_match_finite_networks_better_as_N_grows():
    """Theory vs finite networks at two sizes (3 realisations each): every fixed point of
    the A = 2 example is found in the network, and the mean disagreement shrinks with N
    (measured: 0.10 at N = 250, 0.027 at N = 1000, 0.016 at N = 4000)."""
    errors = {}
    for N in (250, 1000):
        errs = []
        for seed in range(3):
            net, p = _finite_network(N, 2.0, seed)
            theory = mf_fixed_points(p)
            found = rs.find_fixed_points(net, u=[1.0], compute_eigenvalues=False)
            assert len(found) == len(theory) == 3
            errs.append(np.max(np.abs(np.sort(found.z[:, 0]) - theory.z)))
        errors[N] = np.mean(errs)
    assert errors[1000] < 0.6 * errors[250]
    assert errors[1000] < 0.05


def test_params_from_network_reads_the_empirical_statistics():
    net, p = _finite_network(300, 1.0, 0)
    q = MeanFieldParams.from_network(net, u=[1.0])
    for name in ("var_m", "var_I", "cov_mI", "overlap_nm", "overlap_nI"):
        assert getattr(q, name) == pytest.approx(getattr(p, name), rel=1e-10, abs=1e-12)
    assert q.g == pytest.approx(0.3, rel=0.02)


@pytest.mark.parametrize("kwargs, word", [
    (dict(g=-1.0), "g"), (dict(var_m=-1.0), "var_m"), (dict(cov_mI=5.0), "cov_mI"),
    (dict(method="simpson"), "method"), (dict(overlap_nm=np.nan), "overlap_nm")])
def test_params_validation(kwargs, word):
    args = dict(g=0.5, var_m=1.0, var_I=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        MeanFieldParams(**args)


def test_gaussian_bad_input():
    with pytest.raises(ValueError, match="delta"):
        gaussian_average("tanh", "phi", 0.0, -1.0)
    with pytest.raises(ValueError, match="phi"):
        gaussian_average("softplus", "phi", 0.0, 1.0)
    with pytest.raises(ValueError, match="which"):
        gaussian_average("tanh", "phi4", 0.0, 1.0)
    with pytest.raises(ValueError, match="method"):
        gaussian_expectation(np.tanh, 0.0, 1.0, method="simpson")


@pytest.mark.parametrize("g, Sm, SI, rho, A, sigma_s, sigma_c, slope0", [
    (0.3, 1.2, 0.5, 0.5, 0.5, 1.4325, 2.0193, -0.31),
    (0.3, 1.2, 0.5, 0.5, 1.0, 1.8517, 3.3192, -0.58),
    (0.3, 1.2, 0.5, 0.5, 2.0, 2.9004, 6.2179, -0.82),
    (0.3, 1.2, 0.5, 0.5, -1.0, 1.7368, 2.9894, -0.62),
    (0.8, 1.0, 1.0, 0.0, 0.5, 1.8742, 2.1322, -0.12),
    (0.8, 1.0, 1.0, 0.0, 1.0, 2.1102, 2.9694, -0.34),
    (0.8, 1.0, 1.0, 0.0, 2.0, 2.8213, 5.1791, -0.66)])
def test_phase_diagram_class_boundaries_spec_7_2(g, Sm, SI, rho, A, sigma_s, sigma_c, slope0):
    """Along the line of solutions: a spurious pair appears at sigma_s, the target loses
    stability at sigma_c; a pure input readout (sigma_nm = 0) is stable."""
    p = MeanFieldParams(g=g, var_m=Sm**2, var_I=SI**2, cov_mI=Sm * SI * rho**2)
    fine = np.arange(-0.01, 0.01, 0.0005)
    grid = np.unique(np.round(np.r_[np.arange(-1.0, 7.0, 0.05), sigma_s + fine,
                                    sigma_c + fine, 0.0], 6))
    pd = phase_diagram(p, [A], grid)
    cls = pd.class_index[0]
    first_bistable = grid[np.argmax(cls == 2)]
    first_unstable = grid[np.argmax(cls == 3)]
    assert first_bistable == pytest.approx(sigma_s, abs=2e-3)
    assert first_unstable == pytest.approx(sigma_c, abs=2e-3)
    assert np.all(cls[grid <= 0] == 0)  # input-driven: a single, stable fixed point
    assert pd.target_slope[0, np.argmin(np.abs(grid))] == pytest.approx(slope0, abs=0.01)


def test_phase_diagram_cells_agree_with_the_root_finder():
    p = MeanFieldParams.from_code_parameters(**EXAMPLE)
    A = np.array([-1.5, 0.7, 1.8])
    snm = np.array([-1.0, 0.5, 1.9, 2.5, 4.0])
    pd = phase_diagram(p, A, snm)
    for i in range(A.size):
        for j in range(snm.size):
            sol = mf_fixed_points(p.with_readout(snm[j], pd.overlap_nI[i, j]))
            assert pd.n_fixed_points[i, j] == len(sol)
            assert pd.n_stable_fixed_points[i, j] == int(sol.stable.sum())
            t = np.argmin(np.abs(sol.z - A[i]))
            assert abs(sol.z[t] - A[i]) < 1e-8
            assert pd.target_slope[i, j] == pytest.approx(sol.slope[t], rel=1e-8)


def test_predict_lines_up_theory_and_network():
    """Independent vectors (the theory's assumption): every theoretical fixed point has its
    network counterpart, with the same stability and close readouts, outliers and bulk."""
    net, _ = _finite_network(1000, 2.0, 0)
    pr = rs.predict(net, u=[1.0], target=2.0)
    assert len(pr.rows) == 3 and pr.unmatched_measured.size == 0
    for r in pr.rows:
        assert abs(r["z_measured"] - r["z_theory"]) < 0.05
        assert r["stable_measured"] == r["stable_theory"]
        assert r["bulk_measured"] == pytest.approx(r["bulk_theory"], rel=0.05)
        if r["outlier_theory"] > 1.2 * r["bulk_theory"]:  # visible outside the bulk
            assert r["outlier_measured"] == pytest.approx(r["outlier_theory"], abs=0.05)
    assert pr.class_theory == pr.class_measured == "bistable"
    text = pr.table()
    assert "z theory" in text and text.count("\n") >= 4


def test_predict_exposes_the_least_squares_correlation_the_theory_neglects():
    """A least-squares readout is correlated with the bulk (spec mo2019 5.3): fed its
    empirical overlaps, the uncorrelated theory misplaces the trained target, and predict
    says so instead of hiding it."""
    from test_fixed_points import _trained_mo_network
    net = _trained_mo_network(300, 2.0)
    pr = rs.predict(net, u=[1.0], target=2.0, theory="uncorrelated")
    assert np.min(np.abs(pr.unmatched_measured - 2.0)) < 1e-8
    assert np.min(np.abs(pr.theory.z - 2.0)) > 0.2


def _least_squares_network(N, A, seed, g=0.3, Sm=1.2, SI=0.5, rho=0.5):
    """mo2019 section 2.3: i.i.d. vectors (code parametrisation), teacher-forced settle with
    the feedback clamped to A, minimum-norm least squares n = N A r / |r|^2."""
    rng = np.random.default_rng(seed)
    xi, em, eI = rng.standard_normal((3, N))
    s = np.sqrt(1 - rho**2)
    m, I = Sm * (rho * xi + s * em), SI * (rho * xi + s * eI)
    J = rng.standard_normal((N, N)) * g / np.sqrt(N)
    net = rs.Network(J=J, W_in=I[:, None], W_fb=m[:, None], W_out=np.zeros((1, N)),
                     b=np.zeros(N), dt=0.1)
    x = rs.simulate(net, np.ones((600, 1)), mode="teacher", targets=np.full((600, 1), A),
                    record=()).x_final
    r = np.tanh(x)
    return net.with_readout((A * r / (r @ r))[None, :])


@pytest.mark.slow
@pytest.mark.parametrize("A, outlier, spurious", [
    (-2.0, 0.2125, 1.7029), (-1.0, 0.3787, None), (-0.5, 0.3883, None), (0.5, 0.2932, None),
    (1.0, 0.2805, None), (2.0, 0.1809, -1.5537)])
def test_least_squares_networks_spec_X3(A, outlier, spurious):
    """mo2019 X3 (N = 1500, one realisation, tolerance +-0.02): the target's outlier, and the
    spurious stable fixed point that exists only for |A| = 2."""
    net = _least_squares_network(1500, A, 0)
    fps = rs.find_fixed_points(net, u=[1.0])
    t = int(np.argmin(np.abs(fps.z[:, 0] - A)))
    assert abs(fps.z[t, 0] - A) < 1e-8 and fps.stable[t]
    lam = rs.spectrum(net, fps.x[t], u=[1.0]).eigenvalues
    assert lam[np.argmax(np.abs(lam))].real == pytest.approx(outlier, abs=0.02)
    others = [z for k, z in enumerate(fps.z[:, 0]) if k != t and fps.stable[k]]
    if spurious is None:
        assert others == []
    else:
        assert len(others) == 1 and others[0] == pytest.approx(spurious, abs=0.05)


@pytest.mark.slow
def test_least_squares_readout_rotates_towards_feedback_spec_X4():
    """mo2019 X4 (g = 0.8, Sm = SI = 1, rho = 0, N = 1000, one realisation): n.m/N grows
    with A (0.272 ... 2.771) while n.I/N saturates (0.561 ... 0.920); within 10 %."""
    want_nm = [0.272, 0.839, 1.383, 1.870, 2.771]
    want_nI = [0.561, 0.815, 0.892, 0.912, 0.920]
    got_nm, got_nI = [], []
    for A in (0.5, 1.0, 1.5, 2.0, 3.0):
        net = _least_squares_network(1000, A, 0, g=0.8, Sm=1.0, SI=1.0, rho=0.0)
        geo = rs.readout_geometry(net, u=[1.0])
        got_nm.append(geo.overlap_nm[0])
        got_nI.append(geo.overlap_nI[0])
    np.testing.assert_allclose(got_nm, want_nm, rtol=0.1)
    np.testing.assert_allclose(got_nI, want_nI, rtol=0.1)
    assert np.all(np.diff(got_nm) > 0.4)


@pytest.mark.slow
def test_bulk_radius_formula_spec_X1():
    """mo2019 X1: at N = 2500 the bulk edge of (chi + m n^T/N) D at the A = 1 target is
    within 2 % of g sqrt([phi'^2](Delta0)) = 0.1767 (measured 0.1792 in the spec)."""
    net, p = _finite_network(2500, 1.0, 0)
    theory = mf_fixed_points(p)
    fps = rs.find_fixed_points(net, u=[1.0], compute_eigenvalues=False)
    lam = np.linalg.eigvals(rs.analysis.linearisation.gain_matrix(net, fps.x[0]))
    mods = np.sort(np.abs(lam))[::-1]
    # the largest modulus is the outlier (0.2118 in theory); the next one is the bulk edge
    assert mods[0] == pytest.approx(theory.outlier[0].real, abs=0.01)
    assert mods[1] == pytest.approx(theory.bulk_radius[0], rel=0.03)


@pytest.mark.slow
def test_scs_variance_against_networks_two_sizes():
    """The DMFT variance Delta0(1.5) = 0.748 against the time-averaged <x^2> of chaotic
    networks, 4 realisations per size: the mean |error| shrinks from N = 250 to N = 2000
    (measured 0.07 -> 0.015)."""
    theory = scs_variance(1.5)
    err = {}
    for N in (250, 2000):
        e = []
        for seed in range(4):
            net = rs.random_network(N, 1.5, 0, 1, dt=0.1, rng=seed)
            x0 = np.random.default_rng(seed).standard_normal(N)
            tr = rs.simulate(net, None, x0, mode="open", n_steps=4000, record=("x",))
            e.append(abs(np.mean(tr.x[1000:] ** 2) - theory))
        err[N] = np.mean(e)
    assert err[2000] < 0.5 * err[250] and err[2000] < 0.04


def test_grid_roots_finds_every_root_and_reports_folds_and_bad_ends():
    """The shared grid + Brent root finder against closed-form roots: a decreasing cubic
    with roots -1, 0.3, 2 (one exactly on the grid), a double root (no sign change) that is
    reported as a fold, and wrong end signs."""
    from reservoir.meanfield._roots import grid_roots

    def G(z):
        return -(z + 1.0) * (z - 0.3) * (z - 2.0)
    zg = np.linspace(-3.0, 3.0, 61)  # contains -1 and 2 up to rounding, not 0.3
    roots, ok, msgs = grid_roots(zg, np.array([G(z) for z in zg]), G,
                                 np.ones(zg.size, bool), label="G", xtol=1e-14)
    np.testing.assert_allclose(sorted(roots), [-1.0, 0.3, 2.0], atol=1e-12)
    assert all(ok) and msgs == []

    def H(z):
        return -(z - 0.5) ** 2 - 1e-9    # touches 0 at 0.5 without crossing
    hg = np.linspace(-2.0, 2.0, 41)
    roots, ok, msgs = grid_roots(hg, np.array([H(z) for z in hg]), H, np.ones(41, bool),
                                 label="H", xtol=1e-14)
    assert roots == [] and any("fold" in m and "0.5" in m for m in msgs)
    assert any("widen z_range" in m for m in msgs)   # H < 0 at the low end


@pytest.mark.parametrize("phi, method", [("tanh", "accurate"), ("tanh", "gh200"),
                                         ("sigmoid", "accurate")])
def test_phase_diagram_target_slope_is_stability_matrix_bit_for_bit(phi, method):
    """The table takes the four Gaussian averages once per target; each cell's slope must be
    the very number :func:`stability_matrix` gives for that cell's readout (bits)."""
    from reservoir.meanfield import stability_matrix
    p = dataclasses.replace(MeanFieldParams.from_code_parameters(**EXAMPLE), phi=phi,
                            method=method)
    A = np.array([-1.5, -0.4, 0.7, 1.8])
    snm = np.array([-1.0, 0.0, 0.5, 1.9, 4.0])
    pd = phase_diagram(p, A, snm)
    dA, ok = stationary_variance(p, A)
    assert np.all(ok)
    for i in range(A.size):
        for j in range(snm.size):
            _, _, slope = stability_matrix(p.with_readout(snm[j], pd.overlap_nI[i, j]), A[i],
                                           dA[i])
            assert pd.target_slope[i, j] == slope
