import numpy as np
import pytest

import reservoir as rs
from reservoir.tasks import oscillation_target_1ms


@pytest.mark.parametrize("dt", [1.0, 0.5])
@pytest.mark.parametrize("name, gate, baseline", [
    ("and_", (0, 0, 0, 1), 0.0), ("or_", (0, 1, 1, 1), 0.01), ("xor", (0, 1, 1, 0), 0.01)])
def test_gate_trials_match_hand_computed(dt, name, gate, baseline):
    task = getattr(rs.tasks, name)(40, dt=dt, rng=0)
    steps = int(round(200 / dt))
    assert task.inputs.shape == (40, steps, 2) and task.targets.shape == (40, steps, 1)
    on, off, out = int(30 / dt), int(50 / dt), int(70 / dt)
    pairs = [(0, 0), (1, 0), (0, 1), (1, 1)]
    for i, kind in enumerate(task.info["trial_types"]):
        A, B = pairs[kind]
        want_u = np.zeros((steps, 2))
        want_u[on:off] = (A, B)
        np.testing.assert_array_equal(task.inputs[i], want_u)
        want_y = np.full(steps, baseline)
        want_y[out:] = gate[kind]
        np.testing.assert_array_equal(task.targets[i, :, 0], want_y)
    assert set(task.info["trial_types"]) == {0, 1, 2, 3}


def test_not_task_and_noise():
    task = rs.tasks.not_(30, rng=1)
    for i, k in enumerate(task.info["trial_types"]):
        np.testing.assert_array_equal(task.inputs[i, 30:50, 0], k)
        assert task.targets[i, 69, 0] == 0.01 and task.targets[i, 70, 0] == 1 - k
    noisy = rs.tasks.not_(200, noise_std=0.1, rng=1)
    clean = rs.tasks.not_(200, rng=1)
    np.testing.assert_array_equal(noisy.targets, clean.targets)
    assert abs(np.std(noisy.inputs - clean.inputs) - 0.1) < 0.002


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_flip_flop_timing(dt):
    task = rs.tasks.flip_flop(10, noise_std=0.0, dt=dt, rng=2)
    assert task.n_steps == int(round(1010 / dt))
    t = task.t
    for i in range(10):
        for k in range(8):
            c = task.info["channels"][i, k]
            on = (t >= 50 + 120 * k) & (t < 70 + 120 * k)
            assert np.all(task.inputs[i, on, c] == 1) and np.all(task.inputs[i, on, 1 - c] == 0)
            seg = (t >= 90 + 120 * k) & (t < 210 + 120 * k)
            assert np.all(task.targets[i, seg, 0] == c)
        assert np.all(task.targets[i, t < 90, 0] == 0.01)


def test_time_reproduction_waveforms():
    task = rs.tasks.time_reproduction(20, noise_std=0.0, rng=0)
    i = int(np.argmax(task.info["trial_types"]))
    np.testing.assert_allclose(task.inputs[i, 50:55, 0], [0.500, 0.716, 0.882, 0.974, 1.000],
                               atol=1e-3)
    bump = task.targets[i, 90:110, 0]
    assert bump.min() == pytest.approx(0.493, abs=1e-3)
    assert bump.max() == pytest.approx(0.985, abs=1e-3) and np.argmax(bump) == 10
    assert np.all(task.targets[i, :90, 0] == 0.045) and np.all(task.targets[i, 110:, 0] == 0.045)
    j = int(np.argmin(task.info["trial_types"]))
    assert np.all(task.inputs[j] == 0) and np.all(task.targets[j] == 0.045)
    # dt = 0.5: the same waveform at the same times
    half = rs.tasks.time_reproduction(20, noise_std=0.0, dt=0.5, rng=0)
    np.testing.assert_allclose(half.targets[i, ::2, 0], task.targets[i, :, 0], atol=1e-12)
    np.testing.assert_allclose(half.inputs[i, ::2, 0], task.inputs[i, :, 0], atol=1e-12)


def test_oscillation_target_waveform():
    y = oscillation_target_1ms()
    assert np.max(np.abs(y)) == pytest.approx(1.743, abs=1e-3)
    # period 35 ms: consecutive upward zero crossings in the middle of the window
    ups = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    np.testing.assert_array_equal(np.diff(ups), 35)
    task = rs.tasks.oscillation(10, noise_std=0.0, rng=0)
    assert task.n_steps == 420
    i = int(np.argmax(task.info["trial_types"]))
    np.testing.assert_allclose(task.targets[i, 160:380, 0], y)
    assert np.all(task.targets[i, :160, 0] == 0.01) and np.all(task.targets[i, 380:, 0] == 0.01)
    assert task.inputs[i, 100:140, 0].max() == pytest.approx(1.0)
    assert task.inputs[i, 100, 0] == pytest.approx(0.571, abs=1e-3)


def test_three_bit_flip_flop_holds_the_last_pulse():
    task = rs.tasks.flip_flop_3bit(20, noise_std=0.0, rng=3)
    assert task.inputs.shape == (20, 340, 3) == task.targets.shape
    on, amp = task.info["onsets"], task.info["amplitudes"]
    for i in range(20):
        for c in range(3):
            for p in range(3):
                a, o = amp[i, c, p], int(on[i, c, p])
                np.testing.assert_array_equal(task.inputs[i, o:o + 20, c], a)
                if a != 0 and o + 40 < 340:
                    nxt = int(on[i, c, p + 1]) + 40 if p < 2 else 340
                    np.testing.assert_array_equal(task.targets[i, o + 40:min(nxt, 340), c], a)


def test_generators_are_seed_reproducible_and_accuracy_rule():
    a = rs.tasks.xor(50, noise_std=0.1, rng=7)
    b = rs.tasks.xor(50, noise_std=0.1, rng=7)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert rs.tasks.response_accuracy(a, a.targets) == 1.0
    assert rs.tasks.response_accuracy(a, 1.0 - a.targets) == 0.0
    with pytest.raises(ValueError, match="n_trials"):
        rs.tasks.xor(0)
    with pytest.raises(ValueError, match="noise_std"):
        rs.tasks.xor(5, noise_std=-1.0)
