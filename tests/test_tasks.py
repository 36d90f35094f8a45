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
