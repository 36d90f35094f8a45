"""Result contract of the analysis results (success/messages or plain container, short repr,
point-collection selection) and the deprecated aliases of the names renamed in issue 11."""

import dataclasses

import numpy as np
import pytest

import reservoir as rs
from reservoir.analysis import FixedPoints, ReadoutGeometry, Spectrum, StabilityReport
from reservoir.compare import Comparison, MethodSummary
from reservoir.theory_check import Prediction

POINT_FIELDS = ("x", "z", "residual", "jacobian_eigenvalues", "stable", "n_unstable", "found_by")
KEPT_FIELDS = ("u", "z_grid", "G_grid", "unreliable", "success", "messages", "n_lu",
               "n_steps", "n_seeds")


def _scalar_feedback_net(k, w):
    """J = 0: the fixed points are x = W_fb z with z = sum_i w_i tanh(k_i z)."""
    k, w = np.asarray(k, float), np.asarray(w, float)
    N = k.size
    return rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=k[:, None],
                      W_out=w[None, :], b=np.zeros(N), phi="tanh", tau=1.0, dt=0.1)


@pytest.fixture(scope="module")
def large():
    """An N = 300 network trained on two fixed points: five fixed points (the two targets,
    their mirror images and the origin), a mix of stable ones and saddles."""
    net = rs.random_network(300, 0.8, 0, 1, dt=0.1, feedback_dist="normal", rng=0)
    task = rs.tasks.fixed_points(targets=[0.6, 1.8], duration=80.0, dt=0.1, washout=70.0)
    net = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-12).network
    fps = rs.find_fixed_points(net)
    rep = rs.stability_report(net, target=1.8, n_init=50, lyapunov=False, fixed_points=fps,
                              rng=0)
    return net, fps, rep


@pytest.fixture(scope="module")
def small():
    net = _scalar_feedback_net([2.0, 2.0], [0.5, 0.5])
    return net, rs.find_fixed_points(net, method="scan")


# ---------------------------------------------------------------- contract and short repr

def test_results_that_can_fail_have_required_success_and_messages():
    for cls in (FixedPoints, StabilityReport, Prediction):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name in ("success", "messages"):
            assert name in fields, (cls.__name__, name)
            assert fields[name].default is dataclasses.MISSING, (cls.__name__, name)
            assert fields[name].default_factory is dataclasses.MISSING, (cls.__name__, name)
    counters = {FixedPoints: ("n_lu", "n_steps", "n_seeds"),
                StabilityReport: ("n_chunks", "n_unmatched")}
    for cls, names in counters.items():
        assert set(names) <= {f.name for f in dataclasses.fields(cls)}


def test_plain_containers_say_so_and_have_no_success_field():
    for cls in (Spectrum, ReadoutGeometry, MethodSummary, Comparison, rs.SweepResult,
                rs.tasks.Task):
        assert "Plain container: nothing here can fail." in cls.__doc__, cls.__name__
        assert "success" not in {f.name for f in dataclasses.fields(cls)}, cls.__name__


def test_fixed_point_counters_count_the_work(small, large):
    _, fps = small
    assert fps.n_seeds == 0 and fps.n_steps == fps.z_grid.size - 1 > 0
    assert fps.n_lu >= fps.n_steps  # at least one factorisation per accepted scan step
    _, big, _ = large
    assert big.n_steps == big.z_grid.size - 1 > 0 and big.n_lu > 0


def test_reprs_are_short_for_large_results(large):
    net, fps, rep = large
    assert len(fps) >= 3 and fps.x.shape[1] == 300
    spec = rs.spectrum(net, fps.x[0])
    geo = rs.analysis.readout_geometry(net, report=rep)
    task = rs.tasks.xor(500, dt=2.0, rng=0)
    for obj in (fps, rep, spec, geo, task):
        text = repr(obj)
        assert len(text.splitlines()) < 25, type(obj).__name__
        assert len(text) < 3000, type(obj).__name__
        assert text.startswith(type(obj).__name__)
        assert obj.summary() == text
    assert "success=True" in repr(fps).splitlines()[0]


def test_stability_report_success_and_messages(small):
    net, fps = small
    rep = rs.stability_report(net, n_init=200, fixed_points=fps, lyapunov=False, rng=0)
    assert rep.success and rep.n_unmatched == 0 and rep.n_chunks >= 1
    assert rep.messages == fps.messages
    # drop the stable point at z < 0: trials that settle there are unmatched
    partial = fps[1:]
    rep = rs.stability_report(net, n_init=200, fixed_points=partial, lyapunov=False, rng=0)
    assert not rep.success and rep.n_unmatched > 0
    assert any(f"{rep.n_unmatched} trial(s)" in m for m in rep.messages)


def test_prediction_success_is_theory_and_measurement():
    from test_fixed_points import _trained_mo_network
    net = _trained_mo_network(100, 2.0)
    pr = rs.predict(net, u=[1.0], target=2.0)
    assert pr.success == (pr.theory.success and pr.measured.success)
    want = tuple("theory: " + m for m in pr.theory.messages) + tuple(
        "network: " + m for m in pr.measured.messages)
    assert pr.messages[:len(want)] == want
    # then the comparison's own findings, one per kind
    assert all(m.startswith("the t") for m in pr.messages[len(want):])
    assert len(repr(pr).splitlines()) < 25


# ---------------------------------------------------------------- point-collection selection

def _assert_selected(sel, fps, idx):
    assert type(sel) is FixedPoints and len(sel) == len(idx)
    for name in POINT_FIELDS:
        want = getattr(fps, name)[idx]
        got = getattr(sel, name)
        assert got.shape == want.shape and got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    for name in KEPT_FIELDS:
        assert getattr(sel, name) is getattr(fps, name), name


def test_mask_selection_equals_manual_selection(large):
    _, fps, _ = large
    mask = fps.stable
    assert 0 < mask.sum() < len(fps)
    stable = fps[mask]
    _assert_selected(stable, fps, np.flatnonzero(mask))
    np.testing.assert_array_equal(stable.is_fixed, fps.is_fixed[mask])
    assert list(stable.stability) == list(fps.stability[mask])
    assert set(stable.stability) == {"stable"}
    saddles = fps[~fps.stable]
    assert set(saddles.stability) <= {"saddle", "unstable"}
    empty = fps[np.zeros(len(fps), dtype=bool)]
    _assert_selected(empty, fps, np.zeros(0, dtype=int))
    assert empty.x.shape == (0, fps.x.shape[1])


def test_integer_slice_and_index_array_selection(small):
    _, fps = small
    assert len(fps) == 3
    _assert_selected(fps[1], fps, np.array([1]))
    _assert_selected(fps[-1], fps, np.array([2]))
    _assert_selected(fps[np.int64(0)], fps, np.array([0]))
    _assert_selected(fps[1:], fps, np.array([1, 2]))
    _assert_selected(fps[::-2], fps, np.array([2, 0]))
    _assert_selected(fps[np.array([2, 0, 0])], fps, np.array([2, 0, 0]))
    _assert_selected(fps[[0, -1]], fps, np.array([0, 2]))
    # selections compose: the stable points' second entry is the outer stable point
    np.testing.assert_array_equal(fps[fps.stable][1].x, fps.x[[2]])


@pytest.mark.parametrize("key, exc", [
    (3, IndexError), (-4, IndexError), (np.array([0, 3]), IndexError),
    (np.ones(4, dtype=bool), IndexError), (np.ones((3, 1), dtype=bool), IndexError),
    (True, TypeError), (np.bool_(False), TypeError), (np.array([0.5, 1.0]), TypeError),
    ("x", TypeError), (np.array([[0, 1]]), TypeError),
])
def test_bad_keys_raise(small, key, exc):
    _, fps = small
    with pytest.raises(exc):
        fps[key]


# ---------------------------------------------------------------- deprecated aliases

def test_fixed_points_old_field_names_warn_and_agree(small):
    _, fps = small
    pairs = {"scan_z": "z_grid", "scan_h": "G_grid", "eigenvalues": "jacobian_eigenvalues"}
    for old, new in pairs.items():
        with pytest.warns(DeprecationWarning, match=new):
            value = getattr(fps, old)
        assert value is getattr(fps, new)
    with pytest.warns(DeprecationWarning, match="n_lu"):
        counters = fps.counters
    assert counters == {"n_lu": fps.n_lu, "n_steps": fps.n_steps, "n_seeds": fps.n_seeds}


def test_network_outlier_is_a_deprecated_alias_of_network_pole():
    from reservoir.analysis.transfer import network_pole
    with pytest.warns(DeprecationWarning, match="network_pole"):
        old = rs.analysis.network_outlier
    assert old is network_pole
    with pytest.warns(DeprecationWarning):
        from reservoir.analysis import network_outlier  # noqa: F401
    with pytest.raises(AttributeError):
        rs.analysis.no_such_name


def test_network_pole_is_an_eigenvalue_of_the_closed_loop_jacobian():
    net = rs.random_network(60, 0.5, 0, 1, dt=0.1, feedback_dist="normal", rng=2)
    x = 0.3 * np.random.default_rng(0).standard_normal(60)
    d = 1 - np.tanh(x) ** 2
    L = (net.dense_J() + net.W_fb @ net.W_out) * d[None, :] - np.eye(60)
    lam = np.linalg.eigvals(L)
    s0 = float(np.max(lam.real)) + 0.05
    want = lam[np.argmin(np.abs(lam - s0))]
    pole = rs.analysis.network_pole(net, x, s0)
    assert abs(pole - want) < 1e-9


@pytest.fixture(scope="module")
def gate_tasks():
    return rs.tasks.xor(40, noise_std=0.1, dt=10.0, rng=0), rs.tasks.xor(
        20, noise_std=0.1, dt=10.0, rng=1)


def test_compare_training_force_alpha_is_a_deprecated_alias(gate_tasks):
    task, test = gate_tasks
    kw = dict(methods=("force",), n_networks=1, N=12, rng=3)
    new = rs.compare_training(task, test, force_reg=0.5, **kw)
    with pytest.warns(DeprecationWarning, match="force_reg"):
        old = rs.compare_training(task, test, force_alpha=0.5, **kw)
    a, b = new.summaries["force"], old.summaries["force"]
    np.testing.assert_array_equal(a.networks[0].W_out, b.networks[0].W_out)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    assert new.settings["force_reg"] == old.settings["force_reg"] == 0.5
    other = rs.compare_training(task, test, force_reg=50.0, **kw).summaries["force"]
    assert not np.array_equal(other.networks[0].W_out, a.networks[0].W_out)
    with pytest.raises(TypeError, match="force_reg"):
        rs.compare_training(task, test, force_alpha=0.5, force_reg=0.5, **kw)


def test_method_summary_success_is_a_deprecated_alias_of_solved():
    acc = np.array([1.0, 0.5, 0.96])
    arr = np.zeros(3)
    s = MethodSummary(method="ridge", accuracy=acc, solved=acc >= 0.95, test_mse=arr,
                      bulk_radius=arr, n_outliers=arr, leading_eigenvalue=arr,
                      n_fixed_points=arr, n_stable_fixed_points=arr, accuracy_noisy=arr,
                      accuracy_pruned=arr, accuracy_teacher=arr, henrici=arr)
    assert s.solved_rate == pytest.approx(2 / 3)
    with pytest.warns(DeprecationWarning, match="solved"):
        old = s.success
    assert old is s.solved
    with pytest.warns(DeprecationWarning, match="solved_rate"):
        assert s.success_rate == s.solved_rate
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the short repr must not touch the deprecated alias
        text = repr(s)
    assert len(text.splitlines()) < 25 and "ridge" in text


# ---------------------------------------------------------------- messages on findings

def test_predict_says_when_the_target_is_not_a_fixed_point_of_the_theory():
    """The README's trained network (least squares, target 2): the uncorrelated theory has
    no root at the target, and the prediction says so (and names the unexplained points)."""
    net = rs.random_network(N=200, g=0.5, n_inputs=1, n_outputs=1, input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=1)
    task = rs.tasks.stationary(target=2.0, duration=100.0, dt=0.1, washout=60.0)
    fit = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10)
    pred = rs.predict(fit.network, u=[1.0], target=2.0, theory="uncorrelated", rng=0)
    assert np.min(np.abs(pred.theory.z - 2.0)) > 0.05          # independent check
    assert any("not a fixed point of the theory" in m for m in pred.messages)
    if pred.unmatched_measured.size:
        assert any("explains no fixed point" in m for m in pred.messages)


def test_stability_report_says_when_trials_did_not_settle():
    net = rs.random_network(N=60, g=0.5, n_inputs=1, n_outputs=1, rng=3)
    net = net.with_readout(0.5 * net.W_fb.T / 60)
    rep = rs.stability_report(net, u=[1.0], n_init=8, duration=0.5, chunk=0.5,
                              lyapunov=False, rng=0)
    assert rep.fraction_unconverged > 0
    n = int(round(rep.fraction_unconverged * 8))
    assert any(f"{n} of 8 trial(s) did not settle" in m for m in rep.messages)


def test_results_of_another_input_or_network_are_refused_where_they_are_reused():
    """``predict(fixed_points=)``, ``stability_report(fixed_points=)`` and
    ``readout_geometry(report=)`` check that the points they reuse were found for this
    network at this input (the closed-loop residual of each point, computed here)."""
    net = rs.random_network(N=60, g=0.5, n_inputs=1, n_outputs=1, input_scale=0.5,
                            feedback_dist="normal", feedback_scale=1.2, rng=1)
    task = rs.tasks.stationary(target=2.0, duration=60.0, dt=0.1, washout=30.0)
    fit = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-10).network
    fps = rs.find_fixed_points(fit, u=[1.0], rng=0)
    rep = rs.stability_report(fit, u=[1.0], target=2.0, n_init=8, lyapunov=False,
                              fixed_points=fps, rng=0)
    other = fit.with_readout(-fit.W_out)
    with pytest.raises(ValueError, match="fixed_points were computed for another input"):
        rs.predict(fit, u=[-1.0], target=2.0, fixed_points=fps)
    with pytest.raises(ValueError, match="fixed_points were computed for another network"):
        rs.predict(other, u=[1.0], target=2.0, fixed_points=fps)
    with pytest.raises(ValueError, match="fixed_points were computed for another network"):
        rs.stability_report(other, u=[1.0], fixed_points=fps, n_init=4, lyapunov=False)
    with pytest.raises(ValueError, match="report were computed for another input"):
        rs.readout_geometry(fit, u=[-1.0], report=rep)
    with pytest.raises(ValueError, match="report were computed for another network"):
        rs.readout_geometry(other, u=[1.0], report=rep)
    # no false alarm: the same network and input pass, with the class of a fresh report
    assert rs.readout_geometry(fit, u=[1.0], report=rep).solution_class == \
        rs.readout_geometry(fit, u=[1.0], target=2.0).solution_class
    assert rs.predict(fit, u=[1.0], target=2.0, fixed_points=fps).success
