"""The shared result behaviour (short repr, selection of point collections) and the
deprecation helpers, on small dataclasses built here."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reservoir._deprecation import renamed_fields, renamed_kwargs, resolve_alias
from reservoir._results import PointSetMixin, ResultMixin


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Points(PointSetMixin):
    _point_fields = ("x", "z", "label")

    x: np.ndarray
    z: np.ndarray
    label: tuple
    grid: np.ndarray
    success: bool
    messages: tuple


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Plain(ResultMixin):
    a: float
    big: np.ndarray
    inner: Points


def make(P, N=5, n_messages=0):
    rng = np.random.default_rng(P)
    return Points(x=rng.standard_normal((P, N)), z=rng.standard_normal(P),
                  label=tuple(f"p{i}" for i in range(P)), grid=np.linspace(0, 1, 1000),
                  success=False, messages=tuple(f"message {i}" for i in range(n_messages)))


@given(P=st.integers(0, 3000), n_messages=st.integers(0, 50))
@settings(max_examples=25, deadline=None)
def test_repr_is_short_for_any_size(P, n_messages):
    pts = make(P, N=7, n_messages=n_messages)
    text = repr(pts)
    assert len(text.splitlines()) < 25
    assert text.splitlines()[0] == f"Points({P} point{'' if P == 1 else 's'}, success=False)"
    assert repr(Plain(1.5, np.zeros((500, 500)), pts)).count("\n") < 25


def test_repr_shows_small_arrays_by_value_and_large_by_shape():
    text = Plain(0.25, np.arange(3.0), make(2)).summary()
    assert "big: [0., 1., 2.]" in text
    assert "inner: Points(2 points, success=False)" in text
    assert "array(shape=(1000,), dtype=float64)" in make(2).summary()


@given(mask=st.lists(st.booleans(), min_size=6, max_size=6))
def test_mask_selection_equals_manual_selection(mask):
    pts = make(6)
    mask = np.array(mask)
    sel = pts[mask]
    np.testing.assert_array_equal(sel.x, pts.x[mask])
    np.testing.assert_array_equal(sel.z, pts.z[mask])
    assert sel.label == tuple(np.array(pts.label)[mask])
    assert sel.grid is pts.grid and sel.success is pts.success
    assert len(sel) == int(mask.sum())


def test_integer_slice_and_index_array_selection():
    pts = make(5)
    one = pts[-1]
    assert len(one) == 1 and one.z[0] == pts.z[4] and one.label == ("p4",)
    assert pts[np.array(2)].label == ("p2",) and pts[np.uint8(1)].label == ("p1",)
    assert one.summary().splitlines()[0] == "Points(1 point, success=False)"
    np.testing.assert_array_equal(pts[1:4:2].z, pts.z[[1, 3]])
    np.testing.assert_array_equal(pts[np.array([3, 0, 3])].z, pts.z[[3, 0, 3]])
    assert len(pts[np.array([], dtype=int)]) == 0
    assert len(pts[[]]) == 0


@pytest.mark.parametrize("key, error", [
    (5, IndexError), (-6, IndexError), (np.array([0, 5]), IndexError),
    (np.ones(4, bool), IndexError), (True, TypeError), (np.array([0.5]), TypeError),
    (np.zeros((2, 2), int), TypeError)])
def test_bad_keys_are_refused(key, error):
    with pytest.raises(error):
        make(5)[key]


def test_renamed_kwargs_warns_and_forwards():
    @renamed_kwargs(alpha="reg")
    def fit(x, *, reg=1.0):
        return x * reg

    assert fit(2.0, reg=3.0) == 6.0
    with pytest.warns(DeprecationWarning, match=r"fit\(alpha=...\) is deprecated.*reg"):
        assert fit(2.0, alpha=3.0) == 6.0
    with pytest.raises(TypeError, match="both 'alpha'"):
        fit(2.0, alpha=1.0, reg=2.0)


def test_renamed_fields_warns_and_returns_the_new_field():
    Old = renamed_fields(scan_z="grid")(Points)
    pts = make(3)
    with pytest.warns(DeprecationWarning, match=r"Points.scan_z is deprecated.*\.grid"):
        assert Old.scan_z.fget(pts) is pts.grid


def test_resolve_alias():
    aliases = {"old": ("numpy", "mean")}
    with pytest.warns(DeprecationWarning, match="mod.old is deprecated.*numpy.mean"):
        assert resolve_alias("mod", "old", aliases) is np.mean
    with pytest.raises(AttributeError, match="has no attribute 'other'"):
        resolve_alias("mod", "other", aliases)


def test_package_level_aliases_still_work():
    import reservoir as rs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rs.exact_overlap_network is not None and rs.predict is not None
    with pytest.warns(DeprecationWarning):
        assert rs.meanfield.predict is rs.predict
    with pytest.warns(DeprecationWarning):
        assert rs.meanfield.network_with_exact_overlaps is rs.exact_overlap_network
    with pytest.warns(DeprecationWarning):
        assert rs.meanfield.train_fixed_point_network is rs.train.train_fixed_point_network
    with pytest.warns(DeprecationWarning):
        assert rs.train.jarne_network is rs.jarne_network
    with pytest.warns(DeprecationWarning):
        assert rs.meanfield.network_open_loop is rs.analysis.network_open_loop
    with pytest.raises(AttributeError):
        rs.meanfield.no_such_name


def test_renamed_keywords_of_moved_constructors_give_the_same_bits():
    import reservoir as rs
    kw = dict(g=0.3, Sm=1.2, SI=0.5, rho=0.5, p=1.0, p_m=1.0, p_I=0.3, rng=3)
    new = rs.exact_overlap_network(40, readout_scale=1.7, **kw)
    with pytest.warns(DeprecationWarning, match="readout_scale"):
        old = rs.exact_overlap_network(40, C=1.7, **kw)
    for name in ("J", "W_in", "W_fb", "W_out"):
        np.testing.assert_array_equal(getattr(new, name), getattr(old, name))
    args = dict(N=60, g=0.5, targets=[1.0], settle=20.0, rng=1)
    net, x = rs.train.train_fixed_point_network(var_m=2.0, feedback_dist="uniform", **args)
    with pytest.warns(DeprecationWarning, match="var_m"):
        net2, x2 = rs.train.train_fixed_point_network(var_u=2.0, feedback_dist="uniform",
                                                      **args)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(net.W_fb, net2.W_fb)


def test_fixed_point_renames_found_by_and_compute_eigenvalues():
    import reservoir as rs
    net = rs.random_network(N=30, g=0.5, n_inputs=1, n_outputs=1, rng=2)
    net = net.with_readout(0.5 * net.W_fb.T / 30)
    new = rs.find_fixed_points(net, u=[0.3], compute_eigenvalues=False, rng=0)
    with pytest.warns(DeprecationWarning, match="compute_eigenvalues"):
        old = rs.find_fixed_points(net, u=[0.3], eigenvalues=False, rng=0)
    np.testing.assert_array_equal(new.x, old.x)
    assert new.jacobian_eigenvalues.shape[1] == 0
    with pytest.warns(DeprecationWarning, match="found_by"):
        np.testing.assert_array_equal(new.kind, new.found_by)


def test_attractor_b_renamed_b_k():
    from reservoir.meanfield import multi_target
    att = multi_target(0.8, [1.0, 2.0]).attractors[0]
    with pytest.warns(DeprecationWarning, match="b_k"):
        np.testing.assert_array_equal(att.b, att.b_k)
    # the transfer function uses b_k: T(0) = a^T (-(M - I))^{-1} b_k
    want = att.a @ np.linalg.solve(np.eye(2) - att.M_k, att.b_k)
    np.testing.assert_allclose(att.transfer(0.0)[0], want, rtol=1e-12)


def test_bivariate_grid_keywords_are_validated_by_name():
    from reservoir.meanfield import bivariate_average
    with pytest.raises(ValueError, match="grid_step"):
        bivariate_average("tanh", 1.0, 1.0, 0.5, grid_step=0.0)
    with pytest.raises(ValueError, match="grid_radius"):
        bivariate_average("tanh", 1.0, 1.0, 0.5, grid_radius=-1.0)
    fine = bivariate_average("tanh", 1.0, 2.0, 0.5, grid_step=0.03, grid_radius=9.0)
    np.testing.assert_allclose(fine, bivariate_average("tanh", 1.0, 2.0, 0.5), rtol=1e-9)


def test_output_dynamics_renames_loop_gain_and_M_k():
    from reservoir.meanfield import multi_target, single_target
    t = single_target(0.8, 1.0)
    with pytest.warns(DeprecationWarning, match="loop_gain"):
        assert t.K == t.loop_gain
    # the single-target pole is gamma + K - 1 (Rivkind & Barak's single-target formula)
    np.testing.assert_allclose(t.s_star, t.gamma + t.loop_gain - 1, rtol=1e-12)
    att = multi_target(0.8, [1.0, 2.0]).attractors[1]
    with pytest.warns(DeprecationWarning, match="M_k"):
        np.testing.assert_array_equal(att.M, att.M_k)
    np.testing.assert_allclose(np.sort_complex(att.poles),
                               np.sort_complex(np.linalg.eigvals(att.M_k) - 1), rtol=1e-12)


def test_ls_transfer_iterations_renamed():
    from reservoir.meanfield import MeanFieldParams, ls_transfer
    tr = ls_transfer(MeanFieldParams(g=0.5, var_m=1.0, var_I=0.25), 1.0, [0.0, 0.5])
    with pytest.warns(DeprecationWarning, match="n_iterations"):
        np.testing.assert_array_equal(tr.iterations, tr.n_iterations)
