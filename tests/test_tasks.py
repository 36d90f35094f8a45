import numpy as np
import pytest

import reservoir as rs


def test_sine_sum_statistics():
    # Sussillo & Abbott 2009 (Fig. 2) target; std 0.722 and max |f| 1.230 computed by us,
    # fundamental period 120 tau
    task = rs.tasks.sine_sum(duration=120.0, dt=0.001)
    y = task.targets[:, 0]
    assert abs(y.std() - 0.722) < 1e-3
    assert abs(np.abs(y).max() - 1.230) < 1e-3
    assert task.inputs.shape == (120000, 1) and np.all(task.inputs == 0)


def test_sine_sum_is_periodic_and_dt_invariant():
    a = rs.tasks.sine_sum(duration=240.0, dt=0.1)
    b = rs.tasks.sine_sum(duration=240.0, dt=0.05)
    assert a.n_steps == 2400 and b.n_steps == 4800
    np.testing.assert_allclose(a.targets[:, 0], b.targets[::2, 0], atol=1e-12)
    np.testing.assert_allclose(a.targets[:1200], a.targets[1200:], atol=1e-12)
    np.testing.assert_allclose(a.t, np.arange(2400) * 0.1)


def test_stationary_task():
    task = rs.tasks.stationary(target=-0.5, duration=10.0, dt=0.1, input_value=2.0,
                               washout=3.0)
    assert task.inputs.shape == (100, 1) and np.all(task.inputs == 2.0)
    assert np.all(task.targets == -0.5)
    np.testing.assert_array_equal(task.mask, np.r_[np.zeros(30), np.ones(70)])
    # same washout time at a finer step
    fine = rs.tasks.stationary(target=-0.5, duration=10.0, dt=0.05, washout=3.0)
    assert fine.mask.sum() * 0.05 == pytest.approx(task.mask.sum() * 0.1)


def test_fixed_point_targets_task():
    task = rs.tasks.fixed_points(targets=[0.5, -1.0, 2.0], duration=20.0, dt=0.5, washout=5.0)
    assert task.is_batched
    assert task.inputs.shape == (3, 40, 0) and task.targets.shape == (3, 40, 1)
    np.testing.assert_array_equal(task.targets[:, 7, 0], [0.5, -1.0, 2.0])
    assert np.all(task.mask[:, :10] == 0) and np.all(task.mask[:, 10:] == 1)


@pytest.mark.parametrize("call, exc, word", [
    (lambda: rs.tasks.sine_sum(duration=-1.0), ValueError, "duration"),
    (lambda: rs.tasks.sine_sum(dt=0.0), ValueError, "dt"),
    (lambda: rs.tasks.sine_sum(duration=0.01, dt=0.1), ValueError, "duration"),
    (lambda: rs.tasks.stationary(target=np.nan), ValueError, "target"),
    (lambda: rs.tasks.stationary(duration=5.0, washout=10.0), ValueError, "washout"),
    (lambda: rs.tasks.fixed_points(targets=[]), ValueError, "targets"),
    (lambda: rs.tasks.fixed_points(targets=[[1.0]]), ValueError, "targets"),
])
def test_task_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


# ------------------------------------------------------------------ validation (issue 13, 3)
import time
from unittest import mock

from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp


def _task_kwargs(**over):
    kw = dict(inputs=np.zeros((2, 5, 1)), targets=np.zeros((2, 5, 1)), mask=np.ones((2, 5)),
              dt=1.0, name="x", info={})
    kw.update(over)
    return kw


@pytest.mark.parametrize("over, exc, word", [
    # a batch mismatch used to surface as an IndexError inside bptt
    (dict(inputs=np.zeros((3, 5, 1))), ValueError, "inputs, targets and mask must agree"),
    (dict(mask=np.ones((2, 4))), ValueError, "mask"),
    (dict(targets=np.zeros((2, 6, 1))), ValueError, "targets"),
    (dict(inputs=np.zeros((5, 1))), ValueError, "inputs"),  # unbatched beside batched
    (dict(targets=np.zeros((2, 5, 0))), ValueError, "targets"),
    (dict(targets=np.full((2, 5, 1), np.nan)), ValueError, "targets"),
    (dict(inputs=np.full((2, 5, 1), np.inf)), ValueError, "inputs"),
    (dict(mask=-np.ones((2, 5))), ValueError, "mask"),
    (dict(mask=np.ones((2, 5), dtype=complex)), TypeError, "mask"),
    (dict(inputs="abc"), TypeError, "inputs"), (dict(targets=None), TypeError, "targets"),
    (dict(dt=0.0), ValueError, "dt"), (dict(dt=np.nan), ValueError, "dt"),
    (dict(dt="1"), TypeError, "dt"), (dict(name=3), TypeError, "name"),
    (dict(info=[1]), TypeError, "info"),
])
def test_task_validates_its_arrays(over, exc, word):
    with pytest.raises(exc, match=word):
        rs.tasks.Task(**_task_kwargs(**over))


def test_task_keeps_float_arrays_and_converts_others():
    U32 = np.zeros((2, 5, 1), dtype=np.float32)
    task = rs.tasks.Task(**_task_kwargs(inputs=U32, mask=np.ones((2, 5), dtype=bool),
                                        targets=[[[1]] * 5] * 2, dt=2))
    assert task.inputs is U32                      # no copy of a float32 batch
    assert task.mask.dtype == np.float64 and task.mask.sum() == 10
    assert task.targets.dtype == np.float64 and task.targets.shape == (2, 5, 1)
    assert isinstance(task.dt, float) and task.dt == 2.0
    flat = rs.tasks.Task(inputs=np.zeros((4, 0)), targets=np.ones((4, 1)), mask=np.ones(4),
                         dt=0.1)                   # no input channel is allowed
    assert flat.n_steps == 4 and not flat.is_batched


@pytest.mark.parametrize("call, exc, word", [
    (lambda: rs.tasks.sine_sum_target(1.0, amplitude=np.nan), ValueError, "amplitude"),
    (lambda: rs.tasks.sine_sum_target(1.0, period=0), ValueError, "period"),
    (lambda: rs.tasks.sine_sum_target(1e300, period=1e-10), ValueError, "period"),
    (lambda: rs.tasks.sine_sum_target([0.0, np.inf]), ValueError, "t"),
    (lambda: rs.tasks.sine_sum(duration=np.inf), ValueError, "duration"),
    (lambda: rs.tasks.sine_sum(n_inputs=1.5), TypeError, "n_inputs"),
    (lambda: rs.tasks.sine_sum(dt=1e-300), ValueError, "dt"),
    (lambda: rs.tasks.stationary(input_value=1j), TypeError, "input_value"),
    (lambda: rs.tasks.fixed_points(targets=[1.0, np.nan]), ValueError, "targets"),
    (lambda: rs.tasks.fixed_points(n_inputs=-1), ValueError, "n_inputs"),
    (lambda: rs.tasks.xor(2.0), TypeError, "n_trials"),
    (lambda: rs.tasks.xor(-3), ValueError, "n_trials"),
    (lambda: rs.tasks.flip_flop(2, dt=5000.0), ValueError, "dt"),
    (lambda: rs.tasks.flip_flop_3bit(2, rng=-1), ValueError, "rng"),
    (lambda: rs.tasks.oscillation(2, rng="seed"), TypeError, "rng"),
    (lambda: rs.tasks.not_(2, noise_std=np.nan), ValueError, "noise_std"),
    (lambda: rs.tasks.not_(2, noise_std=1e308), ValueError, "noise_std"),  # overflows
    (lambda: rs.tasks.time_reproduction(2, mem_gap=-1.0), ValueError, "mem_gap"),
    (lambda: rs.tasks.time_reproduction(2, mem_gap=250.0), ValueError, "mem_gap"),
    (lambda: rs.tasks.response_accuracy("task", np.zeros((1, 200, 1))), TypeError, "task"),
])
def test_generators_name_the_bad_argument(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_requests_beyond_physical_memory_are_refused():
    with mock.patch.object(rs.tasks, "_physical_memory", return_value=2 ** 20):
        with pytest.raises(ValueError, match="n_trials = 1000 trials .*GiB"):
            rs.tasks.xor(1000)  # 1000 x 200 x 6 floats = 9.6 MB > 1 MiB
        with pytest.raises(ValueError, match="dt = 0.001"):
            rs.tasks.sine_sum(duration=1000.0, dt=0.001)
        with pytest.raises(ValueError, match="n_inputs = 100000"):
            rs.tasks.fixed_points(n_inputs=100000)
        assert rs.tasks.xor(10).inputs.shape == (10, 200, 2)  # 96 kB fits


#: Every task entry point with a valid call; the property overrides one argument at a time.
def _entry_points():
    jarne = dict(n_trials=3, noise_std=0.1, dt=1.0, rng=0, allow_coarse=False)
    ref = rs.tasks.xor(4, rng=0)
    out = {
        "sine_sum_target": (rs.tasks.sine_sum_target,
                            dict(t=np.linspace(0.0, 10.0, 5), amplitude=1.3, period=120.0)),
        "sine_sum": (rs.tasks.sine_sum, dict(duration=20.0, dt=0.1, amplitude=1.3,
                                             period=120.0, n_inputs=1, allow_coarse=False)),
        "stationary": (rs.tasks.stationary, dict(target=1.0, duration=10.0, dt=0.1,
                                                 input_value=1.0, washout=2.0)),
        "fixed_points": (rs.tasks.fixed_points, dict(targets=[1.0, -0.5], duration=10.0,
                                                     dt=0.5, washout=2.0, n_inputs=0)),
        "time_reproduction": (rs.tasks.time_reproduction, dict(jarne, mem_gap=20.0)),
        "Task": (rs.tasks.Task, _task_kwargs()),
        "response_accuracy": (rs.tasks.response_accuracy, dict(task=ref, z=ref.targets)),
    }
    for name in ("and_", "or_", "xor", "not_", "flip_flop", "oscillation", "flip_flop_3bit"):
        out[name] = (getattr(rs.tasks, name), dict(jarne))
    return out


ENTRY_POINTS = _entry_points()

#: Anything a user might pass: NaN/inf/huge/tiny/negative numbers, wrong types, empty and
#: odd-shaped arrays, huge counts.
ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 40),
    st.sampled_from([10 ** 13, 2 ** 70, -10 ** 13, 0.0, -0.0, 5e-324, 1e-300, 1.5]),
    st.none(), st.booleans(), st.text(max_size=3),
    st.complex_numbers(max_magnitude=10.0, allow_nan=False),
    st.lists(st.floats(-3.0, 3.0), max_size=3),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3),
               elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3),
               elements=st.integers(-3, 3)),
    st.sampled_from([object(), {"a": 1}, b"x", np.float32(np.nan)]),
)


def _all_finite(result):
    """Finite arrays (and, for a Task, shapes that agree: (B, T, M), (B, T, K), (B, T))."""
    if isinstance(result, rs.tasks.Task):
        u, y, m = result.inputs, result.targets, result.mask
        agree = u.shape[:-1] == y.shape[:-1] == m.shape and y.ndim in (2, 3)
        return agree and all(np.all(np.isfinite(a)) for a in (u, y, m))
    return bool(np.all(np.isfinite(np.asarray(result, dtype=float))))


def _check_malformed(name, data):
    func, base = ENTRY_POINTS[name]
    arg = data.draw(st.sampled_from(sorted(base)), label="argument")
    value = data.draw(ANY_VALUE, label="value")
    kwargs = dict(base, **{arg: value})
    # 16 MiB of "physical memory": huge requests must be refused, never attempted
    with mock.patch.object(rs.tasks, "_physical_memory", return_value=2 ** 24):
        start = time.perf_counter()
        try:
            result = func(**kwargs)
        except (TypeError, ValueError) as exc:
            assert arg in str(exc), f"{name}({arg}={value!r}): message names not {arg}: {exc}"
        else:
            assert _all_finite(result), f"{name}({arg}={value!r}) returned NaN or inf"
        assert time.perf_counter() - start < 5.0, f"{name}({arg}={value!r}) took too long"


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@given(data=st.data())
def test_malformed_arguments_raise_named_errors(name, data):
    """Any one argument replaced by anything: a TypeError/ValueError naming that argument,
    or a finite result; never another exception, a NaN output or a long run."""
    _check_malformed(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@settings(max_examples=400)
@given(data=st.data())
def test_malformed_arguments_raise_named_errors_many(name, data):
    """The same property with more examples (slow suite)."""
    _check_malformed(name, data)


@pytest.mark.parametrize("make", [
    lambda: rs.tasks.stationary(target=1.0, duration=1.0, dt=0.3, washout=0.6),
    lambda: rs.tasks.sine_sum(duration=100.05, dt=0.1)])
def test_durations_that_are_not_whole_numbers_of_steps_are_refused(make):
    """They used to be rounded silently (1.0 at dt = 0.3 became 0.9; 100.05 at dt = 0.1
    became 1000 steps)."""
    with pytest.raises(ValueError, match="is not a whole number of steps of dt"):
        make()


def test_durations_of_whole_steps_with_rounding_are_accepted():
    """dt = 0.1 is not exact in binary: 100 / 0.1 = 1000.0000000000001 is whole within
    GRID_TOL, so the common case is not refused."""
    task = rs.tasks.sine_sum(duration=100.0, dt=0.1)
    assert task.n_steps == 1000
    task = rs.tasks.stationary(target=1.0, duration=0.9, dt=0.3, washout=0.3)
    assert task.n_steps == 3
