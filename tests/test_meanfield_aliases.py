"""Deprecated aliases of the mean-field theory (one release) and the result contract of
its result classes (success/messages, short repr, selection of point collections)."""

import dataclasses

import numpy as np
import pytest

import reservoir as rs
from reservoir.meanfield import (MeanFieldParams, chaotic_fixed_points, chaotic_variances,
                                 edge_of_chaos, ls_fixed_points, ls_target_state, ls_transfer,
                                 mf_fixed_points, multi_target, phase_diagram, single_target)
from reservoir.nonlinearities import NAMES, get_nonlinearity

EXAMPLE = dict(g=0.3, Sm=1.2, SI=0.5, rho=0.5, p=1.0, p_m=1.0, p_I=0.3)
LS = MeanFieldParams(g=0.5, var_m=1.0, var_I=0.25, cov_mI=0.1)


# ---------------------------------------------------------------- deprecated aliases
def test_single_target_renamed_fields_and_keywords():
    t = single_target(1.0, 1.0, var_m=1 / 3, feedback_dist="uniform")
    with pytest.warns(DeprecationWarning, match="deprecated") as rec:
        old = single_target(1.0, 1.0, var_u=1 / 3, u_dist="uniform")
    assert {"var_u", "u_dist"} <= {w for r in rec for w in ("var_u", "u_dist")
                                   if w in str(r.message)}
    assert old.bulk_radius == t.bulk_radius and old.C == t.C
    for old_name, new_name in (("rho", "bulk_radius"), ("var_u", "var_m"),
                               ("delta", "delta0")):
        with pytest.warns(DeprecationWarning, match=old_name):
            assert getattr(t, old_name) == getattr(t, new_name)


def test_edge_of_chaos_renamed_keywords():
    with pytest.warns(DeprecationWarning, match="deprecated") as rec:
        old = edge_of_chaos(1.5, var_u=0.5, u_dist="normal")
    assert len(rec) == 2
    assert old == edge_of_chaos(1.5, var_m=0.5, feedback_dist="normal")


def test_multi_target_renamed_fields_keywords_and_ignored_spacing():
    mt = multi_target(1.0, [0.5, 1.5], var_m=0.8)
    with pytest.warns(DeprecationWarning, match="var_u"):
        old = multi_target(1.0, [0.5, 1.5], var_u=0.8)
    np.testing.assert_array_equal(old.C, mt.C)
    with pytest.warns(DeprecationWarning, match="ignored"):
        spaced = multi_target(1.0, [0.5, 1.5], var_m=0.8, spacing=0.06)
    np.testing.assert_array_equal(spaced.C, mt.C)
    with pytest.warns(DeprecationWarning, match="var_u"):
        assert mt.var_u == mt.var_m == 0.8
    with pytest.warns(DeprecationWarning, match="iterations"):
        assert mt.iterations == mt.n_iterations
    att = mt.attractors[0]
    with pytest.warns(DeprecationWarning, match="chi"):
        np.testing.assert_array_equal(att.chi, att.char_poly)
    with pytest.warns(DeprecationWarning, match="rho"):
        assert att.rho == att.bulk_radius


def test_target_state_and_ls_renamed_fields():
    tgt = ls_target_state(LS, 0.8)
    with pytest.warns(DeprecationWarning, match="phi2"):
        assert tgt.phi2 == tgt.C
    with pytest.warns(DeprecationWarning, match="dphi"):
        assert tgt.dphi == tgt.psi
    tr = ls_transfer(LS, 0.8, [0.0, 0.8])
    with pytest.warns(DeprecationWarning, match="target"):
        assert tr.target is tr.target_state
    fp = ls_fixed_points(LS, 0.8)
    with pytest.warns(DeprecationWarning, match="eig"):
        np.testing.assert_array_equal(fp.eig, fp.eig_M)
    with pytest.warns(DeprecationWarning, match="target"):
        assert fp.target is fp.target_state


def test_from_code_parameters_readout_scale_keyword():
    new = MeanFieldParams.from_code_parameters(**EXAMPLE, readout_scale=2.0)
    with pytest.warns(DeprecationWarning, match="readout_scale"):
        old = MeanFieldParams.from_code_parameters(**EXAMPLE, C=2.0)
    assert old == new
    assert new.overlap_nm == 2.0 * MeanFieldParams.from_code_parameters(**EXAMPLE).overlap_nm


def test_phase_diagram_renamed_fields():
    pd = phase_diagram(MeanFieldParams.from_code_parameters(**EXAMPLE), [0.5, 1.0],
                       [-1.0, 1.0], n_grid=801)
    for old, new in (("n_fixed", "n_fixed_points"), ("n_stable", "n_stable_fixed_points"),
                     ("solution_class", "class_index")):
        with pytest.warns(DeprecationWarning, match=old):
            np.testing.assert_array_equal(getattr(pd, old), getattr(pd, new))


def test_chaotic_solution_status_aliases():
    p = MeanFieldParams(g=1.5, var_m=0.0, var_I=0.05)
    chaotic = chaotic_variances(p)
    static = chaotic_variances(MeanFieldParams(g=1.5, var_m=0.0, var_I=1.0))
    assert chaotic.regime == "chaotic" and chaotic.success
    assert static.regime == "static" and static.success and static.messages
    with pytest.warns(DeprecationWarning, match="status"):
        assert chaotic.status == "converged"
    with pytest.warns(DeprecationWarning, match="status"):
        assert static.status == "no chaotic solution"
    with pytest.warns(DeprecationWarning, match="message"):
        assert static.message == "; ".join(static.messages)
    with pytest.warns(DeprecationWarning, match="static_radius"):
        assert static.static_radius == static.static_bulk_radius
    with pytest.warns(DeprecationWarning, match="STATUSES"):
        from reservoir.meanfield.chaotic import STATUSES
    assert STATUSES == ("converged", "no chaotic solution", "not converged")


def test_chaotic_closed_loop_status_alias():
    p = MeanFieldParams(g=1.5, var_m=0.0, var_I=0.05, overlap_nm=0.5, overlap_nI=0.5)
    res = chaotic_fixed_points(p)
    assert res.regime == ("chaotic",) and res.success
    with pytest.warns(DeprecationWarning, match="status"):
        assert res.status == ("converged",)


def test_moved_network_outlier_points_to_network_pole():
    with pytest.warns(DeprecationWarning, match="network_pole"):
        f = rs.meanfield.network_outlier
    assert f is rs.analysis.network_pole


# ---------------------------------------------------------------- nonlinearity table
@pytest.mark.parametrize("name", NAMES)
def test_third_derivative_and_primitive_match_finite_differences(name):
    """phi''' against central differences of phi'' (tolerance 1e-7 for h = 1e-5: the
    truncation error is h^2 |phi'''''| / 6 < 1e-9 and the rounding 1e-16 / h = 1e-11), and
    the primitive's derivative against phi (same tolerance), away from relu's kink."""
    nl = get_nonlinearity(name)
    x = np.concatenate([np.linspace(-6, -0.01, 300), np.linspace(0.01, 6, 300)])
    h = 1e-5
    np.testing.assert_allclose(nl.dddphi(x), (nl.ddphi(x + h) - nl.ddphi(x - h)) / (2 * h),
                               atol=1e-7)
    np.testing.assert_allclose(nl.phi(x), (nl.primitive(x + h) - nl.primitive(x - h)) / (2 * h),
                               atol=1e-7)


def test_tanh_third_derivative_closed_form():
    """tanh''' = -2 sech^2 (1 - 3 tanh^2) = 2 (cosh(2x) - 2) / cosh(x)^4."""
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(get_nonlinearity("tanh").dddphi(x),
                               2 * (np.cosh(2 * x) - 2) / np.cosh(x) ** 4, rtol=1e-12,
                               atol=1e-15)


# ---------------------------------------------------------------- result contract
def _check_selection(res, mask):
    sub = res[mask]
    assert len(sub) == int(np.count_nonzero(mask))
    for name in res._point_fields:
        full = getattr(res, name)
        want = full[mask] if isinstance(full, np.ndarray) else tuple(
            v for v, k in zip(full, mask) if k)
        got = getattr(sub, name)
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(got, want)
        else:
            assert got == want
    for f in dataclasses.fields(res):
        if f.name not in res._point_fields and f.name != "target_index":
            a, b = getattr(res, f.name), getattr(sub, f.name)
            assert a is b or (isinstance(a, np.ndarray) and np.array_equal(a, b))


def test_mf_fixed_points_is_a_point_collection_with_a_short_repr():
    p = MeanFieldParams.from_code_parameters(**EXAMPLE, readout_scale=3.0)
    sol = mf_fixed_points(p, n_grid=20001)
    assert len(sol) >= 3 and sol.success
    assert len(repr(sol).splitlines()) < 25
    _check_selection(sol, sol.stable)
    _check_selection(sol, np.arange(len(sol)) % 2 == 0)
    one = sol[1]
    assert len(one) == 1 and one.z[0] == sol.z[1]


def test_ls_fixed_points_selection_follows_the_target():
    fp = ls_fixed_points(LS, 1.5)
    assert fp.success and fp.target_index is not None
    assert len(repr(fp).splitlines()) < 25
    _check_selection(fp, fp.stable)
    sub = fp[fp.stable]
    assert sub.z[sub.target_index] == fp.z[fp.target_index]
    others = np.arange(len(fp)) != fp.target_index
    assert fp[others].target_index is None


def test_chaotic_closed_loop_selection():
    p = MeanFieldParams(g=1.5, var_m=0.0, var_I=0.05, overlap_nm=0.5, overlap_nI=0.5)
    res = chaotic_fixed_points(p)
    _check_selection(res, np.array([True]))
    _check_selection(res, np.array([False]))


def test_result_reprs_are_short_for_large_results():
    pd = phase_diagram(MeanFieldParams.from_code_parameters(**EXAMPLE),
                       np.linspace(-2, 2, 40), np.linspace(-1, 3, 30), n_grid=801)
    assert pd.success and pd.class_index.shape == (40, 30)
    results = [pd, single_target(1.0, 1.0), multi_target(1.0, [1.0, 2.0, 3.0]),
               ls_target_state(LS, 0.8), ls_transfer(LS, 0.8, np.linspace(-2, 2, 500)),
               chaotic_variances(MeanFieldParams(g=1.5, var_m=0.0, var_I=0.05))]
    for r in results:
        assert isinstance(r.success, bool) and isinstance(r.messages, tuple)
        assert len(repr(r).splitlines()) < 25, type(r).__name__
    mt = results[2]
    assert all(a.success for a in mt.attractors)
    assert len(repr(mt.attractors[0]).splitlines()) < 25


def test_no_result_defaults_success_to_true():
    from reservoir.meanfield import (Attractor, ChaoticClosedLoop, ChaoticSolution,
                                     LSFixedPoints, LSTransfer, MeanFieldSolution,
                                     MultiTarget, PhaseDiagram, SingleTarget, TargetState)
    for cls in (Attractor, ChaoticClosedLoop, ChaoticSolution, LSFixedPoints, LSTransfer,
                MeanFieldSolution, MultiTarget, PhaseDiagram, SingleTarget, TargetState):
        f = {x.name: x for x in dataclasses.fields(cls)}
        assert f["success"].default is dataclasses.MISSING, cls.__name__
        assert f["messages"].default is dataclasses.MISSING, cls.__name__


# ---------------------------------------------------------------- failures are reported
def test_single_and_multi_target_report_non_convergence():
    t = single_target(1.0, 1.0, max_iter=1)
    assert not t.converged and not t.success and t.n_iterations == 1
    assert any("did not converge" in m for m in t.messages)
    mt = multi_target(1.0, [0.5, 1.5], max_iter=1)
    assert not mt.success and mt.n_iterations == 1 and mt.messages
    assert not any(a.success for a in mt.attractors)


def test_ls_transfer_reports_non_convergence():
    tr = ls_transfer(LS, 0.8, np.linspace(-1.5, 1.5, 7), max_iter=1)
    assert not tr.success and not np.all(tr.converged)
    assert any("did not converge" in m for m in tr.messages)


def test_edge_of_chaos_at_large_gain_brackets_its_root():
    """g^2 [phi'^2](Delta_c) = 1 at the returned variance, also where the edge lies beyond
    the first bracket (Delta_c ~ 0.28 g^4)."""
    from reservoir.meanfield import edge_of_chaos, gaussian_average
    for g in (1.5, 20.0, 30.0):
        A_c, d_c, C_c = edge_of_chaos(g)
        assert abs(g * g * float(gaussian_average("tanh", "dphi2", 0.0, d_c)) - 1) < 1e-9
        np.testing.assert_allclose(A_c**2, d_c - g * g * C_c, rtol=1e-12)


def test_static_theory_validates_its_inputs_by_name():
    from reservoir.meanfield import MeanFieldParams, mf_fixed_points, readout_scale
    with pytest.raises(ValueError, match="phi"):
        MeanFieldParams(g=1.0, var_m=1.0, var_I=0.0, phi="x")
    p = MeanFieldParams(g=0.5, var_m=1.0, var_I=0.25)
    with pytest.raises(TypeError, match="n_grid"):
        mf_fixed_points(p, n_grid=2.5)
    with pytest.raises(ValueError, match="n_grid"):
        mf_fixed_points(p, n_grid=1)
    with pytest.raises(TypeError, match="params"):
        mf_fixed_points({"g": 1.0})
    with pytest.raises(ValueError, match="A"):
        readout_scale(p, np.nan, 1.0, 0.0)
