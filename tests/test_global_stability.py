import dataclasses

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reservoir as rs  # noqa: E402
from helpers import assert_rejects  # noqa: E402
from test_fixed_points import _scalar_feedback_net, _trained_mo_network  # noqa: E402


def test_symmetric_bistable_network_basins_split_evenly():
    """z = tanh(2 z) network (J = 0): two stable mirror points, each attracting the
    initial states on its side, and a saddle at the origin with a null basin."""
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    rep = rs.stability_report(net, target=None, n_init=2000, rng=0)
    fps = rep.fixed_points
    assert np.all(rep.converged) and rep.fraction_unconverged == 0.0
    assert rep.basin_fraction.sum() == pytest.approx(1.0)
    assert rep.basin_fraction[1] == 0.0  # the saddle
    # the two basins are the half-planes x1 + x2 > 0 and < 0: evenly split
    assert abs(rep.basin_fraction[0] - 0.5) < 0.04
    assert np.isnan(rep.fraction_to_target) and not rep.globally_stable
    # with a target: the other stable point is spurious
    rep = rs.stability_report(net, target=fps.z[2, 0], n_init=500, fixed_points=fps, rng=1)
    assert rep.target_index == 2 and rep.target_stable
    np.testing.assert_array_equal(rep.spurious, [0])
    assert rep.fraction_to_target == pytest.approx(rep.basin_fraction[2])
    assert not rep.globally_stable


def test_globally_stable_target_and_negative_lyapunov_exponent():
    net = _trained_mo_network(120, 0.5)
    rep = rs.stability_report(net, u=[1.0], target=0.5, n_init=300, rng=0)
    assert rep.target_stable and rep.spurious.size == 0
    assert rep.fraction_to_target == 1.0 and rep.globally_stable
    # the exponent of a trajectory that settles is the leading eigenvalue's real part
    lead = rep.fixed_points.jacobian_eigenvalues[rep.target_index][0].real
    assert abs(rep.lyapunov_exponent - lead) < 0.05 * abs(lead) + 0.01
    assert not rep.chaotic


def test_chaotic_network_is_reported_chaotic():
    net = rs.random_network(400, 1.8, 0, 1, dt=0.1, rng=0)  # W_out = 0: no feedback effect
    lam = rs.lyapunov_exponent(net, duration=150.0, rng=0)
    assert lam > 0.05
    fps = rs.find_fixed_points(net, n_seeds=4, max_iter=30, rng=0)
    rep = rs.stability_report(net, n_init=20, duration=20.0, fixed_points=fps, rng=0)
    assert rep.chaotic and rep.fraction_unconverged == 1.0
    # the origin is the only fixed point found, an unstable one
    assert not rep.fixed_points.stable[np.argmin(np.abs(rep.fixed_points.z[:, 0]))]


def test_lyapunov_exponent_of_a_contracting_network_is_the_leading_eigenvalue():
    net = rs.random_network(300, 0.5, 0, 1, dt=0.1, rng=1)
    lam = rs.lyapunov_exponent(net, duration=100.0, transient=100.0, rng=0)
    lead = np.max(np.linalg.eigvals(net.J).real) - 1.0
    assert abs(lam - lead) < 0.03


def test_report_says_when_the_fixed_point_search_missed_an_attractor():
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    fps = rs.find_fixed_points(net)
    keep = np.array([1, 2])
    partial = dataclasses.replace(fps, x=fps.x[keep], z=fps.z[keep],
                                  residual=fps.residual[keep],
                                  jacobian_eigenvalues=fps.jacobian_eigenvalues[keep],
                                  stable=fps.stable[keep],
                                  n_unstable=fps.n_unstable[keep], found_by=fps.found_by[keep])
    rep = rs.stability_report(net, n_init=200, fixed_points=partial, lyapunov=False, rng=0)
    assert any("missed an attractor" in m for m in rep.messages)
    assert rep.basin_fraction.sum() < 0.9


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(u=np.ones(3)), ValueError, "u"),
    (dict(target=[1.0, 2.0]), ValueError, "target"),
    (dict(n_init=0), ValueError, "n_init"),
    (dict(duration=-1.0), ValueError, "duration"),
    (dict(net=None), TypeError, "net"),
])
def test_stability_report_bad_input(kwargs, exc, word):
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    assert_rejects(rs.stability_report, dict(net=net, lyapunov=False), kwargs, exc, word)


def test_readout_geometry_overlaps_against_direct_formulas():
    net = _trained_mo_network(100, 2.0)
    N = net.N
    n, m, I = N * net.W_out[0], net.W_fb[:, 0], net.W_in[:, 0] * 1.0
    x = np.random.default_rng(0).standard_normal(N)
    geo = rs.readout_geometry(net, u=[1.0], x=x)
    assert geo.overlap_nm[0] == pytest.approx(n @ m / N)
    assert geo.overlap_nI[0] == pytest.approx(n @ I / N)
    assert geo.overlap_mI[0] == pytest.approx(m @ I / N)
    assert geo.cos_nm[0] == pytest.approx(n @ m / np.linalg.norm(n) / np.linalg.norm(m))
    assert geo.readout_at[0] == pytest.approx((net.W_out @ np.tanh(x))[0])
    assert geo.solution_class is None
    # least squares puts the readout along the total input A m + I (the minimum-norm
    # readout on the teacher-forced state, in the setting of Mastrogiuseppe & Ostojic 2019):
    # a large target gives a readout dominated by the feedback direction
    assert geo.overlap_nm[0] > abs(geo.overlap_nI[0])


def test_solution_classes():
    # bistable: a spurious stable fixed point besides the target
    net = _trained_mo_network(120, 2.0)
    assert rs.readout_geometry(net, u=[1.0], target=2.0, rng=0).solution_class == "bistable"
    # weak positive feedback: unique stable target, readout overlapping the feedback
    net = _trained_mo_network(120, 0.5)
    geo = rs.readout_geometry(net, u=[1.0], target=0.5, rng=0)
    assert geo.overlap_nm[0] > 0 and geo.solution_class == "weak positive feedback"
    # unstable target: the saddle at the origin of z = tanh(2 z)
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    assert rs.readout_geometry(net, target=0.0).solution_class == "unstable target"
    # input-driven: a readout orthogonal to the feedback vector
    base = rs.random_network(100, 0.5, 1, 1, dt=0.1, input_dist="normal",
                             feedback_dist="normal", rng=4)
    m, I = base.W_fb[:, 0], base.W_in[:, 0]
    n = I - (I @ m) / (m @ m) * m
    net = base.with_readout(0.5 * n[None, :] / 100)
    fps = rs.find_fixed_points(net, u=[1.0])
    assert len(fps) == 1
    geo = rs.readout_geometry(net, u=[1.0], target=fps.z[0, 0], rng=0)
    assert abs(geo.overlap_nm[0]) < 1e-12 and geo.solution_class == "input-driven"


@pytest.mark.parametrize("nm, stable, spurious, cls", [
    (-1.0, True, 0, "input-driven"), (0.0, True, 0, "input-driven"),
    (0.5, True, 0, "weak positive feedback"), (0.5, True, 1, "bistable"),
    (-0.5, True, 2, "bistable"), (3.0, False, 1, "unstable target"),
    (0.0, False, 0, "unstable target")])
def test_classify_solution_table(nm, stable, spurious, cls):
    assert rs.analysis.classify_solution(nm, stable, spurious) == cls


def test_plot_fixed_point_equation_draws_the_scan_and_the_roots():
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    fps = rs.find_fixed_points(net)
    fig, ax = plt.subplots()
    rs.plotting.plot_fixed_point_equation(fps, ax=ax)
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), fps.z_grid)
    np.testing.assert_array_equal(line.get_ydata(), fps.G_grid)
    pts = {c.get_label(): c.get_offsets()[:, 0] for c in ax.collections}
    np.testing.assert_allclose(pts["stable"], fps.z[fps.stability == "stable", 0])
    np.testing.assert_allclose(pts["unstable"],
                               fps.z[np.isin(fps.stability, ("saddle", "unstable")), 0])
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)
    slow = dataclasses.replace(fps, z_grid=np.array([]), G_grid=np.array([]))
    with pytest.raises(ValueError, match="z-scan"):
        rs.plotting.plot_fixed_point_equation(slow)


def test_plot_spectrum_marks_outliers_and_boundary():
    lam = np.array([0.1 + 0.2j, -0.3, 1.5])
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(lam, bulk_radius=0.5, outliers=[1.5], ax=ax)
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], lam.real)
    np.testing.assert_allclose(ax.collections[1].get_offsets(), [[1.5, 0.0]])
    labels = [line.get_label() for line in ax.lines]
    assert "Re = 1 (stability boundary)" in labels
    assert "predicted bulk edge (radius 0.5)" in labels
    plt.close(fig)
    with pytest.raises(ValueError, match="kind"):
        rs.plotting.plot_spectrum(lam, kind="polar")
