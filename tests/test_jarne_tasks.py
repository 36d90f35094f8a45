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


# ------------------------------------------------------------------ time grids (issue 13, 9)
# The pulses every generator should contain are rebuilt here from the generator's own
# onset/amplitude info, with exact rational arithmetic (Fraction of the decimal dt), and
# compared with the inputs step by step; the grid rule (every boundary a whole number of
# steps, a waveform sampled at least twice per period) is decided from hand-listed
# boundaries, independently of reservoir.tasks.
import math
import warnings
from fractions import Fraction

PAIRS = [(0, 0), (1, 0), (0, 1), (1, 1)]
K8 = [120 * k for k in range(8)]
#: name: (trial ms, every boundary a trial can contain (ms), shortest waveform period or None)
GRID_SPEC = {
    "xor": (200, [30, 50, 70, 200], None),
    "not_": (200, [30, 50, 70, 200], None),
    "flip_flop": (1010, [b + k for k in K8 for b in (50, 70, 90, 210)] + [1010], None),
    "time_reproduction": (300, [50, 70, 90, 110, 300], 20),   # smoothed pulse and bump
    "oscillation": (420, [100, 140, 160, 380, 420], 35),
    "flip_flop_3bit": (340, list(range(10, 341)), None),
}
#: Input pulses that are smooth waveforms (ms): undersampled below two samples per width.
PULSE_PERIOD = {"time_reproduction": 20}
DTS = (0.1, 0.25, 0.5, 0.7, 1.0, 2.0, 2.5, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 25.0, 40.0)


def representable(name, dt):
    trial, bounds, period = GRID_SPEC[name]
    q = Fraction(repr(dt))
    on_grid = all((Fraction(b) / q).denominator == 1 for b in bounds)
    return on_grid and (period is None or q < Fraction(period, 2))


def expected_pulses(name, task):
    """(trial, channel, onset, width, amplitude) of every pulse inside the trial, from info."""
    info, out = task.info, []
    B = task.inputs.shape[0]
    if name == "xor":
        for i, k in enumerate(info["trial_types"]):
            out += [(i, c, 30, 20, 1.0) for c in (0, 1) if PAIRS[k][c]]
    elif name == "not_":
        out = [(i, 0, 30, 20, 1.0) for i in range(B) if info["trial_types"][i] == 1]
    elif name == "flip_flop":
        out = [(i, int(info["channels"][i, k]), 50 + K8[k], 20, 1.0)
               for i in range(B) for k in range(8)]
    elif name == "time_reproduction":
        out = [(i, 0, 50, 20, None) for i in range(B) if info["trial_types"][i] == 1]
    elif name == "oscillation":
        out = [(i, 0, 100, 40, None) for i in range(B) if info["trial_types"][i] == 1]
    else:
        on, amp = info["onsets"], info["amplitudes"]
        out = [(i, c, int(on[i, c, p]), 20, amp[i, c, p]) for i in range(B) for c in range(3)
               for p in range(3) if amp[i, c, p] != 0 and on[i, c, p] < 340]
    return out


def make(name, dt, allow_coarse=False):
    return getattr(rs.tasks, name)(24, noise_std=0.0, dt=dt, rng=5, allow_coarse=allow_coarse)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("name", sorted(GRID_SPEC))
def test_grid_rule_and_pulse_count(name, dt):
    trial, bounds, period = GRID_SPEC[name]
    ok = representable(name, dt)
    if not ok:
        with pytest.raises(ValueError, match=r"dt = [\d.]+ ms cannot represent the "
                                             r"(\d+ ms |oscillation of period 35 ms|"
                                             r"Hann-smoothed input pulse of period 20 ms)"):
            make(name, dt)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = make(name, dt, allow_coarse=True)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a representable grid warns about nothing
            task = make(name, dt)
    q = Fraction(repr(dt))
    T = task.n_steps
    assert T == round(trial / dt)
    pulses = expected_pulses(name, task)
    want = np.zeros(task.inputs.shape, dtype=bool)
    want_amp = np.zeros(task.inputs.shape)
    n_seen = n_bad = 0
    for i, c, on, width, a in pulses:
        stop = min(on + width, trial)
        lo = min(math.ceil(Fraction(on) / q), T)
        hi = min(math.ceil(Fraction(stop) / q), T)
        if hi > lo:
            n_seen += 1
            want[i, lo:hi, c] = True
            want_amp[i, lo:hi, c] = a if a is not None else 0.0
            n_bad += (lo * q != on or hi * q != stop
                      or (name in PULSE_PERIOD and not q < Fraction(PULSE_PERIOD[name], 2)))
        if ok:  # exactly width / dt steps, starting at the onset
            assert hi - lo == (stop - on) / q and lo * q == on
    np.testing.assert_array_equal(task.inputs != 0, want)  # no pulse lost, none invented
    step = np.array([p[4] is not None for p in pulses]).all()
    if step:
        np.testing.assert_array_equal(task.inputs, want_amp)
    grid = task.info["grid"]
    assert grid["n_pulses"] == len(pulses)
    assert grid["n_pulses"] - grid["n_pulses_lost"] == n_seen
    assert grid["n_pulses_distorted"] == n_bad
    if ok:
        assert grid["n_lost"] == grid["n_distorted"] == 0
    elif grid["n_lost"] or grid["n_distorted"]:
        msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert any(f"{grid['n_lost']} of {grid['n_events']} events are lost" in m
                   for m in msgs), msgs


def test_issue_examples():
    # issue 13: xor(dt=25) had no input pulse, flip_flop(dt=40) kept 0 of 8 pulses,
    # xor(dt=15) gave a 30 ms pulse for a 20 ms one
    with pytest.raises(ValueError, match="dt = 25 ms cannot represent the 20 ms input pulse"):
        rs.tasks.xor(10, dt=25)
    with pytest.raises(ValueError, match="dt = 40 ms cannot represent the 20 ms input pulse"):
        rs.tasks.flip_flop(10, dt=40)
    with pytest.raises(ValueError, match="dt = 15 ms .* 20 ms input pulse .*divides 10 ms"):
        rs.tasks.xor(10, dt=15)
    with pytest.warns(UserWarning, match="8 of 8 input pulses are lost"):
        ff = rs.tasks.flip_flop(1, noise_std=0.0, dt=40, allow_coarse=True, rng=0)
    assert np.all(ff.inputs == 0) and ff.info["grid"]["n_pulses_lost"] == 8
    with pytest.warns(UserWarning, match="distorted"):
        x = rs.tasks.xor(40, dt=15, allow_coarse=True, rng=0)
    k = int(np.flatnonzero(x.info["trial_types"] == 3)[0])
    assert np.count_nonzero(x.inputs[k, :, 0]) * 15 == 30  # the distortion, reported
    with pytest.raises(ValueError, match="the oscillation of period 35 ms .*< 17.5 ms"):
        rs.tasks.oscillation(4, dt=20)
    with pytest.raises(ValueError, match="mem_gap"):
        rs.tasks.time_reproduction(4, mem_gap=20.5)
    with pytest.raises(TypeError, match="allow_coarse"):
        rs.tasks.xor(4, allow_coarse="yes")


def test_sine_sum_nyquist():
    # the fastest sine has period `period / 4`: at dt = period / 8 it is sampled at its zeros
    with pytest.raises(ValueError, match=r"dt = 15 .*fastest sine \(period / 4\)"):
        rs.tasks.sine_sum(duration=240.0, dt=15.0)
    with pytest.warns(UserWarning, match="1 are distorted"):
        task = rs.tasks.sine_sum(duration=240.0, dt=15.0, allow_coarse=True)
    assert task.info["grid"]["n_distorted"] == 1
    fine = rs.tasks.sine_sum(duration=240.0, dt=12.0)          # < 15, and 240 is a whole number of steps
    assert fine.info["grid"]["n_distorted"] == 0


def test_time_reproduction_refuses_grids_that_undersample_its_smooth_waveforms():
    """The Hann-smoothed 20 ms pulse at dt = 10 ms is 2 samples carrying 20 % less drive
    than at dt = 1 (15.0 against 18.64): refused like any waveform sampled less than twice
    per 20 ms. The rule is Nyquist's, not a promise of accuracy: at dt = 5 the drive (the
    input integral) is 17.5, 6 % below dt = 1."""
    with pytest.raises(ValueError, match=r"dt = 10 ms cannot represent"):
        rs.tasks.time_reproduction(4, dt=10.0, noise_std=0.0, rng=0)
    fine = rs.tasks.time_reproduction(4, dt=1.0, noise_std=0.0, rng=0)
    coarse = rs.tasks.time_reproduction(4, dt=5.0, noise_std=0.0, rng=0)
    on = fine.info["trial_types"] == 1
    on5 = coarse.info["trial_types"] == 1
    drive1 = fine.inputs[on][0, :, 0].sum() * 1.0
    drive5 = coarse.inputs[on5][0, :, 0].sum() * 5.0
    assert abs(drive1 - 18.6434) < 1e-3 and abs(drive5 - 17.5) < 1e-9
