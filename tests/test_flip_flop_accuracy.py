"""Flip-flop accuracy (issue 15): the fraction of hold windows in which the readout stays
within ``level_tolerance`` of the held level, for Jarne's 1-bit and 3-bit flip-flops, the
shipped BPTT-trained 3-bit flip-flop, and ``compare_training`` on a flip-flop.

Every count is checked against an independent computation: the windows written out by hand
for a crafted task, rebuilt from the generators' ``info`` (pulse channels, onsets and
amplitudes), and a plain-Python loop over trials, channels and steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reservoir as rs
from reservoir.tasks import Task, flip_flop_accuracy, response_accuracy
from test_flip_flop import flip_flop_task

DATA = Path(__file__).resolve().parent / "data" / "flip_flop_3bit.npz"


def loop_accuracy(task, z, tol=0.5):
    """Plain-Python reference: walk every (trial, channel) along time, open a window at a
    scored step, extend it while the next step is scored and holds the same target."""
    y = np.asarray(task.targets, float)
    mask = np.asarray(task.mask, float)
    z = np.asarray(z, float)
    if y.ndim == 2:
        y, mask, z = y[None], mask[None], z[None]
    B, T, K = y.shape
    n = wrong = 0
    for b in range(B):
        for k in range(K):
            t = 0
            while t < T:
                if mask[b, t] <= 0:
                    t += 1
                    continue
                s = t
                while t + 1 < T and mask[b, t + 1] > 0 and y[b, t + 1, k] == y[b, s, k]:
                    t += 1
                n += 1
                if any(abs(z[b, u, k] - y[b, u, k]) >= tol for u in range(s, t + 1)):
                    wrong += 1
                t += 1
    return (n - wrong) / n, n


# ------------------------------------------------------------- a crafted task, by hand
def crafted():
    """Two trials, two channels, eight steps. Windows (trial, channel: [steps] level):
    t0 c0: [0,1] 0, [2,3,4] 1, [6,7] 1 (step 5 unscored: it splits the level-1 run);
    t0 c1: [0..4] -1, [6,7] -1;
    t1 c0: [0..7] 0;
    t1 c1: [0,1,2] 1, [3] -1, [4..7] 1.
    Nine windows in all."""
    y = np.zeros((2, 8, 2))
    y[0, :, 0] = [0, 0, 1, 1, 1, 1, 1, 1]
    y[0, :, 1] = -1
    y[1, :, 0] = 0
    y[1, :, 1] = [1, 1, 1, -1, 1, 1, 1, 1]
    mask = np.ones((2, 8))
    mask[0, 5] = 0.0
    return Task(inputs=np.zeros((2, 8, 0)), targets=y, mask=mask, dt=1.0, name="crafted")


def test_crafted_perfect_one_wrong_window_all_wrong():
    task = crafted()
    y = task.targets
    assert loop_accuracy(task, y)[1] == 9
    # perfect: within 0.5 everywhere (0.49 off at every step still holds the level)
    assert flip_flop_accuracy(task, y) == 1.0
    assert flip_flop_accuracy(task, y + 0.49) == 1.0
    # one wrong window: one step of t1 c1's one-step window [3] is off by 0.6
    z = y.copy()
    z[1, 3, 1] += 0.6
    assert flip_flop_accuracy(task, z) == pytest.approx(8 / 9, abs=1e-15)
    # several bad steps inside one window still make one wrong window
    z = y.copy()
    z[0, 2:5, 0] = 0.0
    assert flip_flop_accuracy(task, z) == pytest.approx(8 / 9, abs=1e-15)
    # an error at an unscored step is not counted
    z = y.copy()
    z[0, 5, :] = 9.0
    assert flip_flop_accuracy(task, z) == 1.0
    # two wrong windows of different channels of one trial
    z = y.copy()
    z[0, 7, 0] = -1.0
    z[0, 0, 1] = 1.0
    assert flip_flop_accuracy(task, z) == pytest.approx(7 / 9, abs=1e-15)
    # all wrong: every step off by 0.5 (the tolerance is strict) or more
    assert flip_flop_accuracy(task, y + 0.5) == 0.0
    assert flip_flop_accuracy(task, -y - 0.7) == 0.0


def test_level_tolerance_scales_the_rule():
    task = crafted()
    y = task.targets
    assert flip_flop_accuracy(task, y + 0.9, level_tolerance=1.0) == 1.0
    assert flip_flop_accuracy(task, y + 0.1, level_tolerance=0.05) == 0.0


def test_unbatched_task_equals_its_one_trial_batch():
    task = crafted()
    one = Task(inputs=task.inputs[1], targets=task.targets[1], mask=task.mask[1], dt=1.0)
    z = task.targets.copy()
    z[1, 3, 1] += 0.6
    # trial 1 has 4 windows, one of them wrong
    assert flip_flop_accuracy(one, z[1]) == pytest.approx(3 / 4, abs=1e-15)


@given(B=st.integers(1, 3), T=st.integers(1, 12), K=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1), tol=st.sampled_from([0.25, 0.5, 1.0]))
def test_matches_the_plain_loop(B, T, K, seed, tol):
    gen = np.random.default_rng(seed)
    y = gen.integers(-1, 2, size=(B, T, K)).astype(float)
    mask = (gen.random((B, T)) < 0.8).astype(float) * gen.uniform(0.5, 2.0, (B, T))
    if not np.any(mask > 0):
        mask[0, 0] = 1.0
    z = y + gen.normal(0.0, 0.3, y.shape)
    task = Task(inputs=np.zeros((B, T, 0)), targets=y, mask=mask, dt=1.0)
    want, _ = loop_accuracy(task, z, tol)
    assert flip_flop_accuracy(task, z, level_tolerance=tol) == pytest.approx(want, abs=1e-15)


# ------------------------------------------------- Jarne's tasks, windows from their info
def windows_1bit(task):
    """Windows of :func:`rs.tasks.flip_flop` from the pulse channels: the baseline 0.01
    before 90 ms, then one level per 120 ms segment, equal neighbours merged."""
    n = 0
    for chans in task.info["channels"]:
        n += 1 + 1 + int(np.count_nonzero(np.diff(chans) != 0))
    return n


def windows_3bit(task):
    """Windows of :func:`rs.tasks.flip_flop_3bit` from onsets and amplitudes: level 0 until
    the first switch (onset + 40 ms) of a real pulse inside the trial, then each pulse's
    amplitude; equal neighbours merged."""
    T = task.n_steps
    n = 0
    on, amp = task.info["onsets"], task.info["amplitudes"]
    for b in range(on.shape[0]):
        for c in range(3):
            levels = [0.0]
            for p in range(3):
                switch = int(round((on[b, c, p] + 40.0) / task.dt))
                if amp[b, c, p] != 0 and switch < T:
                    levels.append(float(amp[b, c, p]))
            n += 1 + int(np.count_nonzero(np.diff(levels) != 0))
    return n


@pytest.mark.parametrize("make, count", [
    (lambda: rs.tasks.flip_flop(6, dt=10.0, rng=3), windows_1bit),
    (lambda: rs.tasks.flip_flop(5, dt=1.0, rng=4), windows_1bit),
    (lambda: rs.tasks.flip_flop_3bit(6, dt=1.0, rng=5), windows_3bit)])
def test_jarne_tasks_perfect_one_wrong_window_all_wrong(make, count):
    task = make()
    y = task.targets
    n = count(task)
    assert loop_accuracy(task, y)[1] == n
    noise = np.random.default_rng(0).uniform(-0.45, 0.45, y.shape)
    assert flip_flop_accuracy(task, y + noise) == 1.0
    assert response_accuracy(task, y + noise) == 1.0
    # one wrong window: the last step of trial 0, channel 0 set to the other level
    z = y.copy()
    z[0, -1, 0] += 1.0
    assert flip_flop_accuracy(task, z) == pytest.approx((n - 1) / n, abs=1e-15)
    assert response_accuracy(task, z) == flip_flop_accuracy(task, z)
    # all wrong
    assert flip_flop_accuracy(task, y + 0.6) == 0.0


# ------------------------------------------------- the shipped trained 3-bit flip-flop
@pytest.fixture(scope="module")
def shipped():
    net = rs.load(DATA)
    task = flip_flop_task(32, rng=7)
    z = rs.simulate(net, task.inputs, mode="closed", record=("z",)).z
    return net, task, z


def test_shipped_network_holds_every_window(shipped):
    net, task, z = shipped
    want, n = loop_accuracy(task, z)
    assert want == 1.0 and n > 32 * 3            # every (trial, channel) has a pulse
    assert flip_flop_accuracy(task, z) == 1.0
    # its largest error at a scored step is far inside the tolerance
    on = task.mask > 0
    assert np.max(np.abs(z[on] - task.targets[on])) < 0.5


def test_shipped_network_with_one_channel_broken(shipped):
    """Negating readout 0 makes every window of channel 0 wrong and leaves the other two
    channels right: accuracy = windows of channels 1, 2 / all windows (counted by the
    loop). (Readout-only change: the network has no feedback, so the states are the same.)"""
    net, task, z = shipped
    assert not np.any(net.W_fb)
    W_out = net.W_out.copy()
    W_out[0] *= -1
    broken = net.with_readout(W_out)
    zb = rs.simulate(broken, task.inputs, mode="closed", record=("z",)).z
    np.testing.assert_allclose(zb[..., 0], -z[..., 0], atol=1e-12)
    per_channel = [loop_accuracy(Task(inputs=task.inputs, targets=task.targets[..., [k]],
                                      mask=task.mask, dt=1.0), z[..., [k]])[1]
                   for k in range(3)]
    want = (per_channel[1] + per_channel[2]) / sum(per_channel)
    assert flip_flop_accuracy(task, zb) == pytest.approx(want, abs=1e-15)
    # one step of one window pushed off its level: exactly one window lost
    assert task.mask[5, 100] > 0 and abs(task.targets[5, 100, 2]) == 1.0
    z1 = z.copy()
    z1[5, 100, 2] = -task.targets[5, 100, 2]
    assert flip_flop_accuracy(task, z1) == pytest.approx(1 - 1 / sum(per_channel), abs=1e-15)


# ------------------------------------------------------------ response_accuracy, errors
def test_response_accuracy_refuses_a_task_without_a_rule():
    task = crafted()
    with pytest.raises(ValueError, match="flip_flop_accuracy"):
        response_accuracy(task, task.targets)
    osc = rs.tasks.oscillation(2, dt=5.0, rng=0)
    with pytest.raises(ValueError, match="no response window"):
        response_accuracy(osc, osc.targets)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(task="crafted"), TypeError, "task"),
    (dict(z=np.zeros((2, 8, 3))), ValueError, "targets' shape"),
    (dict(z=np.zeros((2, 8))), ValueError, "z"),
    (dict(z=np.full((2, 8, 2), np.nan)), ValueError, "NaN"),
    (dict(z="z"), TypeError, "z"),
    (dict(level_tolerance=0.0), ValueError, "level_tolerance"),
    (dict(level_tolerance=-1.0), ValueError, "level_tolerance"),
    (dict(level_tolerance=np.inf), ValueError, "level_tolerance"),
    (dict(level_tolerance="0.5"), TypeError, "level_tolerance")])
def test_flip_flop_accuracy_bad_input(kwargs, exc, word):
    task = crafted()
    args = dict(task=task, z=task.targets.copy())
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        flip_flop_accuracy(**args)


def test_no_scored_step_is_an_error():
    task = Task(inputs=np.zeros((1, 4, 0)), targets=np.zeros((1, 4, 1)),
                mask=np.zeros((1, 4)), dt=1.0)
    with pytest.raises(ValueError, match="no scored step"):
        flip_flop_accuracy(task, task.targets)


# ------------------------------------------------------------ compare_training
def test_compare_training_accepts_a_flip_flop():
    task = rs.tasks.flip_flop(8, dt=10.0, rng=0)
    test = rs.tasks.flip_flop(4, dt=10.0, rng=1)
    cmp = rs.compare_training(task, test, methods=("ridge", "bptt"), n_networks=1, N=12,
                              bptt_kwargs={"epochs": 2}, rng=0)
    assert cmp.task_name == "flip_flop"
    for name, s in cmp.summaries.items():
        net = s.networks[0]
        mode = "open" if name == "bptt" else "closed"
        z = rs.simulate(net, test.inputs, mode=mode, record=("z",)).z
        assert s.accuracy[0] == pytest.approx(loop_accuracy(test, z)[0], abs=1e-15)
        assert s.solved[0] == (s.accuracy[0] >= 0.95)
        if name == "ridge":
            zt = rs.simulate(net, test.inputs, mode="teacher", targets=test.targets,
                             record=("z",)).z
            assert s.accuracy_teacher[0] == pytest.approx(loop_accuracy(test, zt)[0],
                                                          abs=1e-15)


def test_compare_training_checks_the_task_pair():
    ff = rs.tasks.flip_flop(4, dt=10.0, rng=0)
    ff3 = rs.tasks.flip_flop_3bit(4, dt=1.0, rng=0)
    with pytest.raises(ValueError, match="numbers of inputs and readouts"):
        rs.compare_training(ff, ff3)
    one = Task(inputs=ff.inputs[0], targets=ff.targets[0], mask=ff.mask[0], dt=10.0,
               name="flip_flop")
    with pytest.raises(ValueError, match="batched"):
        rs.compare_training(one, one)
