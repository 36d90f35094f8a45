"""Task generators: inputs, targets and a loss/regression mask on a time grid.

Every generator is parameterised by ``dt`` and takes durations in time units (the unit
of ``tau``), so a period or a delay stays the same physical time when ``dt`` changes.
Row ``t`` of a task is time ``t * dt``; the target ``targets[t]`` is what the readout
``z[t]`` should be (see :func:`reservoir.simulate` for the feedback convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._docs import fill_doc
from ._checks import as_float_array, as_int, as_positive_float
from ._results import ResultMixin


@dataclass(frozen=True, eq=False, repr=False)
class Task(ResultMixin):
    """Inputs, targets and mask of a task.

    Plain container: nothing here can fail.

    Parameters
    ----------
    inputs : ndarray, shape (T, M) or (B, T, M)
        Input ``u[t]`` of every step (of every trial ``B``).
    targets : ndarray, shape (T, K) or (B, T, K)
        Target ``y[t]`` of the readout (readout units).
    mask : ndarray, shape (T,) or (B, T)
        Weight of each time step in losses and regressions (0 = ignored).
    dt : float
        Time step of the grid (time units).
    name : str
        Name of the generator (empty for a hand-made task).
    info : dict
        Parameters the task was generated with.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    dt: float
    name: str = ""
    info: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        """Number of time steps ``T``.

        Returns
        -------
        int
            The length of the time axis of ``targets``.
        """
        return self.targets.shape[-2]

    @property
    def is_batched(self) -> bool:
        """Whether the task holds several trials (leading axis B).

        Returns
        -------
        bool
            ``targets.ndim == 3``.
        """
        return self.targets.ndim == 3

    @property
    def t(self) -> np.ndarray:
        """Times of the rows.

        Returns
        -------
        ndarray, shape (T,)
            ``arange(T) * dt`` (time units).
        """
        return np.arange(self.n_steps) * self.dt


def _n_steps(duration, dt):
    duration = as_positive_float(duration, "duration")
    dt = as_positive_float(dt, "dt")
    T = int(round(duration / dt))
    if T < 1:
        raise ValueError(f"duration ({duration}) must be at least one step dt ({dt})")
    return T, dt


def sine_sum_target(t, amplitude: float = 1.3, period: float = 120.0) -> np.ndarray:
    """Sussillo & Abbott's (2009) sum of four sines at time(s) ``t``.

    ``f(t) = (amplitude / 1.5) [sin(w t) + sin(2 w t) / 2 + sin(3 w t) / 6 + sin(4 w t) / 3]``
    with ``w = 2 pi / period`` (default: amplitude 1.3, period 120 tau).

    Parameters
    ----------
    t : float or array_like
        Time(s) (time units).
    amplitude : float
        Overall scale (readout units).
    period : float
        Period of the slowest sine (time units).

    Returns
    -------
    ndarray
        ``f(t)``, the shape of ``t`` (readout units).

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If ``t`` is not finite, ``amplitude < 0`` or ``period`` is not positive.
    """
    amplitude = as_positive_float(amplitude, "amplitude", allow_zero=True)
    period = as_positive_float(period, "period")
    w = 2 * np.pi / period
    t = np.asarray(as_float_array(t, "t", tuple(range(0, 4))), dtype=np.float64)
    return (amplitude / 1.5) * (np.sin(w * t) + np.sin(2 * w * t) / 2 + np.sin(3 * w * t) / 6
                                + np.sin(4 * w * t) / 3)


def sine_sum(duration: float = 1440.0, dt: float = 0.1, *, amplitude: float = 1.3,
             period: float = 120.0, n_inputs: int = 1) -> Task:
    """The FORCE target of Sussillo & Abbott (2009, Fig. 2): a periodic sum of four sines.

    Parameters
    ----------
    duration : float
        Length in time units (S&A train for 1440 tau).
    dt : float
        Time step (S&A: 0.1 tau).
    amplitude, period : float
        See :func:`sine_sum_target`.
    n_inputs : int
        Number of (all-zero) input channels, to match the network's ``W_in``.

    Returns
    -------
    Task
        ``inputs`` (T, n_inputs) zeros, ``targets`` (T, 1), ``mask`` (T,) ones.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``duration``, ``dt``, ``amplitude`` or ``period`` is not positive, the duration
        is shorter than one step, or ``n_inputs < 0``.
    """
    T, dt = _n_steps(duration, dt)
    amplitude = as_positive_float(amplitude, "amplitude")
    period = as_positive_float(period, "period")
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    t = np.arange(T) * dt
    y = sine_sum_target(t, amplitude, period)[:, None]
    return Task(inputs=np.zeros((T, n_inputs)), targets=y, mask=np.ones(T), dt=dt,
                name="sine_sum",
                info={"duration": T * dt, "amplitude": amplitude, "period": period})


def stationary(target: float = 1.0, duration: float = 100.0, dt: float = 0.1, *,
               input_value: float = 1.0, washout: float = 20.0) -> Task:
    """Stationary input -> stationary output (Mastrogiuseppe & Ostojic 2019).

    A constant scalar input ``u = input_value`` (the input *vector* is the column of
    ``W_in``) must produce a constant readout ``z = target``. The mask is 0 during the
    first ``washout`` time units so a regression sees the settled state.

    Parameters
    ----------
    target : float
        The output to hold (readout units).
    duration : float
        Length (time units).
    dt : float
        Time step (time units).
    input_value : float
        The constant scalar input.
    washout : float
        Initial time (time units) with mask 0.

    Returns
    -------
    Task
        ``inputs`` (T, 1), ``targets`` (T, 1), ``mask`` (T,).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``duration`` or ``dt`` is not positive, ``washout`` is negative or not shorter
        than ``duration``, or ``target`` or ``input_value`` is not a finite number.
    """
    T, dt = _n_steps(duration, dt)
    A = float(as_float_array(target, "target", 0))
    u = float(as_float_array(input_value, "input_value", 0))
    washout = as_positive_float(washout, "washout", allow_zero=True)
    n_wash = int(round(washout / dt))
    if n_wash >= T:
        raise ValueError(f"washout ({washout}) must be shorter than duration ({T * dt})")
    mask = np.ones(T)
    mask[:n_wash] = 0.0
    return Task(inputs=np.full((T, 1), u), targets=np.full((T, 1), A), mask=mask, dt=dt,
                name="stationary", info={"target": A, "input_value": u, "washout": washout})


def fixed_points(targets=(1.0,), duration: float = 100.0, dt: float = 0.1, *,
                 washout: float = 50.0, n_inputs: int = 0) -> Task:
    """Multiple fixed-point targets (Rivkind & Barak 2017).

    One trial per target value ``A_k``: the readout must hold ``z = A_k``; during
    teacher-forced training the feedback channel is clamped to ``A_k`` and the network
    settles to the open-loop fixed point, whose rates the regression uses (mask 0 during
    the first ``washout`` time units). There is no external input.

    Parameters
    ----------
    targets : array_like, shape (n_targets,)
        The values ``A_k`` to hold (readout units).
    duration : float
        Length of each trial (time units).
    dt : float
        Time step (time units).
    washout : float
        Initial time (time units) with mask 0.
    n_inputs : int
        Number of (all-zero) input channels, to match the network's ``W_in``.

    Returns
    -------
    Task
        ``inputs`` (n_targets, T, n_inputs) zeros, ``targets`` (n_targets, T, 1),
        ``mask`` (n_targets, T).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``targets`` is empty or not finite, ``duration`` or ``dt`` is not positive,
        ``washout`` is negative or not shorter than ``duration``, or ``n_inputs < 0``.
    """
    A = as_float_array(targets, "targets", 1)
    T, dt = _n_steps(duration, dt)
    washout = as_positive_float(washout, "washout", allow_zero=True)
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    n_wash = int(round(washout / dt))
    if n_wash >= T:
        raise ValueError(f"washout ({washout}) must be shorter than duration ({T * dt})")
    Bn = A.size
    y = np.repeat(A[:, None, None], T, axis=1)
    mask = np.ones((Bn, T))
    mask[:, :n_wash] = 0.0
    return Task(inputs=np.zeros((Bn, T, n_inputs)), targets=y, mask=mask, dt=dt,
                name="fixed_points", info={"targets": A.tolist(), "washout": washout})


# --------------------------------------------------------------------------- Jarne's family
# Times are in milliseconds: one step of the authors' generators is 1 ms, so with
# ``dt = 1`` (and ``tau = dt`` for the discrete RNN) the trials match them step for step;
# another ``dt`` keeps every onset, width, delay and period in milliseconds. Step pulses
# are on at the steps whose time k*dt lies in [onset, onset + width); smooth waveforms
# are built on the 1 ms grid and interpolated.

GATES = {"and": (0, 0, 0, 1), "or": (0, 1, 1, 1), "xor": (0, 1, 1, 0)}
GATE_PAIRS = ((0, 0), (1, 0), (0, 1), (1, 1))
EARLY_STOP = {"and": 5e-4, "or": 1e-4, "xor": 1e-3, "not": 5e-4, "flip_flop": 1e-3,
              "time_reproduction": 1e-3, "oscillation": 1e-3, "flip_flop_3bit": 9e-3}


#: Docstring sections shared by Jarne's task generators (see :mod:`reservoir._docs`).
_DT_RNG = """dt : float
    Time step (ms).
rng : None, int, SeedSequence or Generator
    Trial types and noise."""
_RETURNS_RAISES = """Returns
-------
Task
    ``inputs`` (B, T, M), ``targets`` (B, T, K), ``mask`` (B, T) ones; times in ms.

Raises
------
TypeError
    If an argument has the wrong type.
ValueError"""
_JARNE_SECTIONS = ("Parameters\n----------\nn_trials : int\n    Number of trials ``B``.\n"
                   "noise_std : float\n    Std of the Gaussian noise added to the inputs.\n"
                   + _DT_RNG + "\n\n" + _RETURNS_RAISES + "\n    If ``n_trials < 1``, "
                   "``noise_std < 0`` or ``dt`` is not positive.")
_jarne_doc = fill_doc(jarne_sections=_JARNE_SECTIONS, dt_rng=_DT_RNG,
                      returns_raises=_RETURNS_RAISES)


def _grid(duration_ms, dt):
    T, dt = _n_steps(duration_ms, dt)
    return T, dt, np.arange(T) * dt


def _window(t, start, stop):
    """Steps whose time lies in [start, stop) (a small tolerance absorbs rounding)."""
    eps = 1e-9
    return (t >= start - eps) & (t < stop - eps)


def _jarne_common(n_trials, noise_std, rng):
    from ._checks import as_rng
    n_trials = as_int(n_trials, "n_trials", minimum=1)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    return n_trials, noise_std, as_rng(rng)


def _gate(name, n_trials, noise_std, dt, rng, trial_ms=200.0, onset=30.0, width=20.0,
          mem_gap=20.0):
    n, noise_std, gen = _jarne_common(n_trials, noise_std, rng)
    T, dt, t = _grid(trial_ms, dt)
    kinds = gen.integers(0, 4, size=n)
    pairs = np.array(GATE_PAIRS, dtype=float)[kinds]
    out_t = onset + width + mem_gap
    baseline = 0.0 if name == "and" else 0.01
    pulse = _window(t, onset, onset + width)
    U = np.zeros((n, T, 2))
    U[:, pulse, :] = pairs[:, None, :]
    Y = np.full((n, T, 1), baseline)
    value = np.array(GATES[name], dtype=float)[kinds]
    Y[:, _window(t, out_t, np.inf), 0] = value[:, None]
    if noise_std > 0:
        U = U + noise_std * gen.standard_normal(U.shape)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name=name,
                info={"trial_types": kinds, "response_window": (out_t, trial_ms),
                      "baseline": baseline, "early_stop": EARLY_STOP[name],
                      "noise_std": noise_std, "criterion": "response-window mean on the "
                      "correct side of 0.5", "time_unit": "ms"})


@_jarne_doc
def and_(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None) -> Task:
    """AND of two input pulses (Jarne & Laje 2023, J. Comput. Neurosci. 51:407).

    Pulses on [30, 50) ms, target from 70 ms held to the end of the 200 ms trial, baseline
    0; early-stop threshold 5e-4. ``info["trial_types"]`` indexes (A, B) in (0,0), (1,0),
    (0,1), (1,1).

    {jarne_sections}
    """
    return _gate("and", n_trials, noise_std, dt, rng)


@_jarne_doc
def or_(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None) -> Task:
    """OR of two input pulses (as :func:`and_`, baseline 0.01, threshold 1e-4).

    {jarne_sections}
    """
    return _gate("or", n_trials, noise_std, dt, rng)


@_jarne_doc
def xor(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None) -> Task:
    """XOR of two input pulses (as :func:`and_`, baseline 0.01, threshold 1e-3).

    {jarne_sections}
    """
    return _gate("xor", n_trials, noise_std, dt, rng)


@_jarne_doc
def not_(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None) -> Task:
    """NOT of one input pulse (Jarne): target ``1 - input`` from 70 ms, baseline 0.01.

    Needs a recurrent bias (the no-pulse trial has no input at all).

    {jarne_sections}
    """
    n, noise_std, gen = _jarne_common(n_trials, noise_std, rng)
    T, dt, t = _grid(200.0, dt)
    kinds = gen.integers(0, 2, size=n)
    U = np.zeros((n, T, 1))
    U[:, _window(t, 30.0, 50.0), 0] = kinds[:, None]
    Y = np.full((n, T, 1), 0.01)
    Y[:, _window(t, 70.0, np.inf), 0] = (1 - kinds)[:, None]
    if noise_std > 0:
        U = U + noise_std * gen.standard_normal(U.shape)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="not",
                info={"trial_types": kinds, "response_window": (70.0, 200.0),
                      "baseline": 0.01, "early_stop": EARLY_STOP["not"],
                      "noise_std": noise_std, "time_unit": "ms",
                      "criterion": "response-window mean on the correct side of 0.5"})


@_jarne_doc
def flip_flop(n_trials: int = 25000, *, noise_std: float = 0.1, dt: float = 1.0,
              rng=None) -> Task:
    """1-bit flip-flop (Jarne).

    8 pulses of 20 ms at 50 + 120 k ms on the reset (channel 0) or set (channel 1) line,
    chosen at random; the output holds the last channel's index from 20 ms after the pulse
    ends, ``[90 + 120 k, 210 + 120 k)``; baseline 0.01 before 90 ms; 1010 ms trials;
    input noise 0.1.

    {jarne_sections}
    """
    n, noise_std, gen = _jarne_common(n_trials, noise_std, rng)
    T, dt, t = _grid(1010.0, dt)
    chans = gen.integers(0, 2, size=(n, 8))
    U = np.zeros((n, T, 2))
    Y = np.full((n, T, 1), 0.01)
    for k in range(8):
        on = _window(t, 50.0 + 120 * k, 70.0 + 120 * k)
        seg = _window(t, 90.0 + 120 * k, 210.0 + 120 * k)
        for c in (0, 1):
            sel = chans[:, k] == c
            U[np.ix_(sel, on, [c])] = 1.0
            Y[np.ix_(sel, seg, [0])] = float(c)
    if noise_std > 0:
        U = U + noise_std * gen.standard_normal(U.shape)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="flip_flop",
                info={"channels": chans, "early_stop": EARLY_STOP["flip_flop"],
                      "noise_std": noise_std, "time_unit": "ms"})


def _hann_smoothed_pulse(width, hann_len):
    """``conv(ones(width), hann(hann_len), 'same') / sum(hann)`` on the 1 ms grid."""
    import scipy.signal
    h = scipy.signal.windows.hann(hann_len)
    return scipy.signal.convolve(np.ones(width), h, mode="same") / h.sum()


def _place(t, start_ms, values_1ms):
    """Values of a waveform defined at start_ms + 0, 1, 2, ... ms, on the times t (linear
    interpolation; zero outside)."""
    grid = start_ms + np.arange(values_1ms.size)
    inside = _window(t, start_ms, start_ms + values_1ms.size)
    out = np.zeros(t.size)
    out[inside] = np.interp(t[inside], grid, values_1ms)
    return out


@_jarne_doc
def time_reproduction(n_trials: int = 15000, *, mem_gap: float = 20.0, noise_std: float = 0.03,
                      dt: float = 1.0, rng=None) -> Task:
    """Reproduce a 20 ms pulse ``mem_gap`` ms after it ends (Jarne).

    A Hann-smoothed input pulse on [50, 70) ms in half of the trials; target baseline
    0.045 and, after a pulse, a 20 ms bump (0.493 .. 0.985) from ``70 + mem_gap`` ms;
    300 ms trials; noise 0.03 on the input *and* the target.

    Parameters
    ----------
    n_trials : int
        Number of trials ``B``.
    mem_gap : float
        Delay (ms) between the end of the pulse and the start of the reproduced bump.
    noise_std : float
        Std of the Gaussian noise added to the inputs and to the targets.
    {dt_rng}

    {returns_raises}
        If ``n_trials < 1``, ``noise_std < 0``, ``mem_gap < 0`` or ``dt`` is not positive.
    """
    import scipy.signal
    n, noise_std, gen = _jarne_common(n_trials, noise_std, rng)
    mem_gap = as_positive_float(mem_gap, "mem_gap", allow_zero=True)
    T, dt, t = _grid(300.0, dt)
    present = gen.integers(0, 2, size=n)
    pulse = _place(t, 50.0, _hann_smoothed_pulse(20, 10))
    bump_1ms = scipy.signal.convolve(np.ones(20), 0.055 * scipy.signal.windows.gaussian(20, 12),
                                     mode="same")
    bump = _place(t, 70.0 + mem_gap, bump_1ms)
    in_bump = _window(t, 70.0 + mem_gap, 90.0 + mem_gap)
    U = present[:, None, None] * pulse[None, :, None]
    Y = np.full((n, T, 1), 0.045)
    Y[:, in_bump, 0] = np.where(present[:, None] == 1, bump[None, in_bump], 0.045)
    if noise_std > 0:
        U = U + noise_std * gen.standard_normal(U.shape)
        Y = Y + noise_std * gen.standard_normal(Y.shape)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="time_reproduction",
                info={"trial_types": present, "mem_gap": mem_gap,
                      "early_stop": EARLY_STOP["time_reproduction"], "noise_std": noise_std,
                      "time_unit": "ms"})


def oscillation_target_1ms():
    """The oscillation target's 220 samples (1 ms apart).

    ``y[i] = 0.2 sum_k s[i + 209 - k]`` with ``s[n] = sin(2 pi 12 n / 420)`` (period 35 ms,
    amplitude 1.743), as in Jarne's generator.

    Returns
    -------
    ndarray, shape (220,)
        The waveform on the 1 ms grid (readout units).
    """
    s = np.sin(2 * np.pi * 12 * np.arange(420) / 420)
    y = np.zeros(220)
    for i in range(220):
        idx = i + 209 - np.arange(220)
        ok = (idx >= 0) & (idx < 420)
        y[i] = 0.2 * s[idx[ok]].sum()
    return y


@_jarne_doc
def oscillation(n_trials: int = 15000, *, noise_std: float = 0.1, dt: float = 1.0,
                rng=None) -> Task:
    """A pulse-triggered oscillation of finite duration (Jarne).

    Hann-smoothed 40 ms input pulse on [100, 140) ms in half of the trials; target baseline
    0.01 and, after a pulse, a sinusoid of period 35 ms and amplitude 1.74 on
    [160, 380) ms; 420 ms trials; input noise 0.1.

    {jarne_sections}
    """
    n, noise_std, gen = _jarne_common(n_trials, noise_std, rng)
    T, dt, t = _grid(420.0, dt)
    present = gen.integers(0, 2, size=n)
    pulse = _place(t, 100.0, _hann_smoothed_pulse(40, 15))
    wave = _place(t, 160.0, oscillation_target_1ms())
    window = _window(t, 160.0, 380.0)
    U = present[:, None, None] * pulse[None, :, None]
    Y = np.full((n, T, 1), 0.01)
    Y[:, window, 0] = np.where(present[:, None] == 1, wave[None, window], 0.01)
    if noise_std > 0:
        U = U + noise_std * gen.standard_normal(U.shape)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="oscillation",
                info={"trial_types": present, "early_stop": EARLY_STOP["oscillation"],
                      "noise_std": noise_std, "time_unit": "ms"})


@_jarne_doc
def flip_flop_3bit(n_trials: int = 15050, *, noise_std: float = 0.1, dt: float = 1.0,
                   rng=None) -> Task:
    """3-bit flip-flop, the version of Jarne's tutorial (Jarne 2024, Front. Syst. Neurosci.).

    Three independent lines; on each, three 20 ms pulses with onsets ``s``,
    ``s + 70 + v1`` and ``s + 170 + v1 + v2`` ms (``s`` uniform in 10..99, ``v1, v2`` in
    1..50); the first pulse's amplitude is -1, 0 (no pulse) or +1, the others +-1; output
    ``i`` switches to a pulse's amplitude 20 ms after it ends and holds it (0 before);
    340 ms trials; input noise 0.1. (The task itself is Sussillo & Barak's 2013 3-bit
    flip-flop.)

    {jarne_sections}
    """
    n, noise_std, gen = _jarne_common(n_trials, noise_std, rng)
    T, dt, t = _grid(340.0, dt)
    U = np.zeros((n, T, 3))
    Y = np.zeros((n, T, 3))
    s = gen.integers(10, 100, size=(n, 3))
    v1 = gen.integers(1, 51, size=(n, 3))
    v2 = gen.integers(1, 51, size=(n, 3))
    amp = np.stack([gen.integers(-1, 2, size=(n, 3)), gen.choice([-1, 1], size=(n, 3)),
                    gen.choice([-1, 1], size=(n, 3))], axis=-1).astype(float)
    onsets = np.stack([s, s + 70 + v1, s + 170 + v1 + v2], axis=-1).astype(float)
    for i in range(n):
        for c in range(3):
            for p in range(3):
                on = onsets[i, c, p]
                U[i, _window(t, on, on + 20.0), c] = amp[i, c, p]
                if amp[i, c, p] != 0.0:
                    Y[i, _window(t, on + 40.0, np.inf), c] = amp[i, c, p]
    if noise_std > 0:
        U = U + noise_std * gen.standard_normal(U.shape)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="flip_flop_3bit",
                info={"onsets": onsets, "amplitudes": amp,
                      "early_stop": EARLY_STOP["flip_flop_3bit"], "noise_std": noise_std,
                      "time_unit": "ms"})


def response_accuracy(task: Task, z) -> float:
    """Fraction of trials whose response-window mean readout is on the target's side of 0.5.

    The readout and the target are averaged over the task's response window; a trial is
    correct when both averages are on the same side of 0.5 (the gate tasks' acceptance
    rule in Jarne's code).

    Parameters
    ----------
    task : Task
        A batched task with ``info["response_window"]`` (the gate tasks).
    z : array_like, shape (B, T, K)
        The readout of every trial (only channel 0 is scored).

    Returns
    -------
    float
        The fraction of correct trials, in [0, 1].

    Raises
    ------
    TypeError
        If ``z`` is not a real numeric array.
    ValueError
        If the task has no response window or ``z`` does not have the targets' shape.
    """
    if "response_window" not in task.info:
        raise ValueError(f"task {task.name!r} has no response window")
    z = as_float_array(z, "z", 3)
    if z.shape != task.targets.shape:
        raise ValueError(f"z must have the targets' shape {task.targets.shape}, got {z.shape}")
    start, stop = task.info["response_window"]
    w = _window(task.t, start, stop)
    zm = z[:, w, 0].mean(axis=1)
    ym = task.targets[:, w, 0].mean(axis=1)
    return float(np.mean((zm > 0.5) == (ym > 0.5)))
