"""Task generators: inputs, targets and a loss/regression mask on a time grid.

Every generator is parameterised by ``dt`` and takes durations in time units (the unit
of ``tau``), so a period or a delay stays the same physical time when ``dt`` changes.
Row ``t`` of a task is time ``t * dt``; the target ``targets[t]`` is what the readout
``z[t]`` should be (see :func:`reservoir.simulate` for the feedback convention).

Time grids
----------
An event (an input pulse, a target window, a response window) on ``[start, stop)`` occupies
the steps ``k`` with ``start <= k dt < stop``. A grid *represents* an event when both of its
boundaries are whole numbers of steps, ``|start / dt - round(start / dt)| <= GRID_TOL`` (and
the same for ``stop``; ``GRID_TOL = 1e-6`` steps absorbs the rounding of ``dt = 0.1``); the
event then lasts exactly ``(stop - start) / dt`` steps. A waveform of period ``P`` also
needs ``dt < P / 2`` (Nyquist). The generators check every event their trials can contain
and raise ``ValueError`` naming ``dt`` and the shortest event it cannot represent; with
``allow_coarse=True`` they build the task anyway, count in ``info["grid"]`` the events that
were lost (no step at all) or distorted (moved or resized), and warn when there are any.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._docs import fill_doc
from ._checks import as_float_array, as_int, as_positive_float
from ._results import ResultMixin

#: Tolerance (in steps) within which a time counts as a grid point ``k * dt``.
GRID_TOL = 1e-6


def _task_array(value, name, ndims, *, allow_empty=False):
    """Check a task array; float32/float64 arrays are kept as they are, others converted."""
    if isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float64):
        arr = value
        if arr.ndim not in ndims:
            want = " or ".join(str(d) for d in ndims)
            raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
        if not allow_empty and arr.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return arr
    return as_float_array(value, name, ndims, allow_empty=allow_empty)


@dataclass(frozen=True, eq=False, repr=False)
class Task(ResultMixin):
    """Inputs, targets and mask of a task.

    Plain container: nothing here can fail. The arrays are validated when it is made
    (float32 and float64 arrays are kept as given, other numeric arrays are converted to
    float64).

    Parameters
    ----------
    inputs : ndarray, shape (T, M) or (B, T, M)
        Input ``u[t]`` of every step (of every trial ``B``); ``M = 0`` is allowed.
    targets : ndarray, shape (T, K) or (B, T, K)
        Target ``y[t]`` of the readout (readout units), ``K >= 1``.
    mask : ndarray, shape (T,) or (B, T)
        Weight of each time step in losses and regressions (0 = ignored), ``>= 0``.
    dt : float
        Time step of the grid (time units), finite and ``> 0``.
    name : str
        Name of the generator (empty for a hand-made task).
    info : dict
        Parameters the task was generated with (the generators add ``"grid"``, the count
        of events the time grid lost or distorted; see the module docstring).

    Raises
    ------
    TypeError
        If an array is not real numeric, ``dt`` is not a real number, ``name`` is not a
        string or ``info`` is not a dict.
    ValueError
        If an array has the wrong number of dimensions, is empty (``T = 0``, ``B = 0`` or
        ``K = 0``), has NaN or infinite values, the shapes disagree (``inputs`` (B, T, M),
        ``targets`` (B, T, K) and ``mask`` (B, T) share ``B`` and ``T``), ``mask`` has a
        negative weight, or ``dt`` is not finite and positive.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    dt: float
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        targets = _task_array(self.targets, "targets", (2, 3))
        batched = targets.ndim == 3
        inputs = _task_array(self.inputs, "inputs", (2, 3), allow_empty=True)
        if inputs.ndim != targets.ndim:
            raise ValueError(
                f"inputs and targets must both be unbatched (T, M) and (T, K) or both "
                f"batched (B, T, M) and (B, T, K): inputs has shape {inputs.shape}, targets "
                f"{targets.shape}")
        mask = _task_array(self.mask, "mask", (2,) if batched else (1,))
        lead_y, lead_u = targets.shape[:-1], inputs.shape[:-1]
        if lead_u != lead_y or mask.shape != lead_y:
            axes = "(B, T)" if batched else "(T,)"
            raise ValueError(
                f"inputs, targets and mask must agree on {axes}: inputs {inputs.shape}, "
                f"targets {targets.shape}, mask {mask.shape}")
        if np.any(mask < 0):
            raise ValueError("mask must be >= 0 (a weight per step), got a negative entry")
        dt = as_positive_float(self.dt, "dt")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        if not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict, got {type(self.info).__name__}")
        for key, value in (("inputs", inputs), ("targets", targets), ("mask", mask),
                           ("dt", dt)):
            object.__setattr__(self, key, value)

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


# --------------------------------------------------------------------------- grids and sizes
#: Longest time axis accepted before the memory check (guards ``int(round(inf))``).
_MAX_STEPS = 2 ** 53


def _n_steps(duration, dt, trial=False):
    """``T = round(duration / dt)`` after checking both; ``trial`` names a fixed trial length
    (ms) in the messages instead of the argument ``duration``."""
    duration = as_positive_float(duration, "duration")
    dt = as_positive_float(dt, "dt")
    what = f"the {_fmt(duration)} ms trial" if trial else "duration"
    ratio = duration / dt
    if not ratio < _MAX_STEPS:
        raise ValueError(f"{what} / dt = {ratio:.3g} steps is more than any memory holds "
                         f"(dt = {dt}); increase dt" + ("" if trial else " or shorten duration"))
    T = int(round(ratio))
    if not trial and T >= 1 and abs(ratio - T) > GRID_TOL:
        raise ValueError(
            f"duration = {_fmt(duration)} is not a whole number of steps of dt = {_fmt(dt)} "
            f"(duration / dt = {ratio:.12g}): give a duration that is a multiple of dt (it "
            f"used to be rounded silently to {T} steps = {_fmt(T * dt)})")
    if T < 1:
        if trial:
            raise ValueError(f"dt ({dt} ms) must be at most {what}")
        raise ValueError(f"duration ({duration}) must be at least one step dt ({dt})")
    return T, dt


def _add_noise(A, noise_std, gen):
    """``A + noise_std * N(0, 1)``, refusing a ``noise_std`` so large that it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = A + noise_std * gen.standard_normal(A.shape)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"noise_std = {noise_std} is so large that the noisy arrays overflow")
    return out


def _physical_memory():
    """Bytes of physical memory, or None where the system does not say."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX systems
        return None
    return pages * size if pages > 0 and size > 0 else None


def _check_memory(n_floats, what):
    """Raise ``ValueError`` (naming ``what``) when ``n_floats`` float64 values cannot fit in
    physical memory."""
    need = 8.0 * float(n_floats)
    have = _physical_memory()
    if have is not None and need > have:
        raise ValueError(f"{what} needs {need / 2 ** 30:.3g} GiB of arrays, more than the "
                         f"{have / 2 ** 30:.3g} GiB of physical memory")


def _as_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def _span(start, stop, dt, T):
    """First and one-past-last step of the events ``[start, stop)``: the steps ``k`` with
    ``start <= k dt < stop`` (within ``GRID_TOL`` steps), clipped to ``[0, T]``."""
    s = np.clip(np.asarray(start, dtype=float) / dt, -1.0, T + 1.0)
    e = np.clip(np.asarray(stop, dtype=float) / dt, -1.0, T + 1.0)
    lo = np.clip(np.ceil(s - GRID_TOL), 0, T).astype(np.int64)
    hi = np.clip(np.ceil(e - GRID_TOL), 0, T).astype(np.int64)
    return lo, np.maximum(hi, lo)


def _window(T, dt, start, stop):
    """Boolean mask (T,) of the steps whose time lies in ``[start, stop)``."""
    lo, hi = _span(start, stop, dt, T)
    out = np.zeros(T, dtype=bool)
    out[int(lo):int(hi)] = True
    return out


def _off_grid(time, dt):
    x = np.asarray(time, dtype=float) / dt
    return np.abs(x - np.round(x)) > GRID_TOL


def _fmt(x):
    """Short form of ``x`` when it is exact, else every digit (a float32 ``dt = 0.1`` is
    0.10000000149011612, and the message must show why its grid misses an event)."""
    short = f"{float(x):g}"
    return short if float(short) == float(x) else repr(float(x))


def _require_grid(name, dt, trial, templates, unit="ms"):
    """Raise ``ValueError`` unless ``dt`` represents every event of ``templates``.

    ``templates``: ``(label, starts, stops, period)``; ``starts``/``stops`` are arrays of
    every event a trial can contain (stops clipped to the trial), ``period`` the shortest
    period of the waveform (None for a pulse or window). The trial ``[0, trial)`` itself
    must be a whole number of steps.
    """
    bad = []  # (duration, start, description, kind)

    def describe(label, start, stop, reason):
        return (f"the {_fmt(stop - start)} {unit} {label} on [{_fmt(start)}, {_fmt(stop)}) "
                f"{unit} ({reason})")

    bounds = [float(trial)]
    if _off_grid(trial, dt):
        bad.append((trial, 0.0, describe("trial", 0.0, trial,
                                         f"{_fmt(trial)}/dt = {trial / dt:.6g}"), "edge"))
    periods = []
    for label, starts, stops, period in templates:
        starts, ends = np.broadcast_arrays(np.atleast_1d(np.asarray(starts, dtype=float)),
                                           np.asarray(stops, dtype=float))
        keep = starts < trial
        starts, ends = starts[keep], ends[keep]
        stops = np.minimum(ends, trial)  # an event running past the trial is clipped to it
        bounds.extend(starts.tolist())
        bounds.extend(stops.tolist())
        off = _off_grid(starts, dt) | _off_grid(stops, dt)
        for k in np.flatnonzero(off):
            edge = starts[k] if _off_grid(starts[k], dt) else stops[k]
            bad.append((ends[k] - starts[k], starts[k],
                        describe(label, starts[k], ends[k], f"{_fmt(edge)}/dt = {edge / dt:.12g}"),
                        "edge"))
        if period is not None and starts.size:
            periods.append(period)
            if not dt < period / 2:
                bad.append((period, starts[0],
                            f"the {label} of period {_fmt(period)} {unit} ("
                            f"dt >= period / 2 = {_fmt(period / 2)} {unit})", "period"))
    if not bad:
        return
    _, _, what, _ = min(bad, key=lambda item: (item[0], item[1]))
    hints = []
    if any(item[3] == "edge" for item in bad) and \
            all(abs(x - round(x)) < 1e-9 for x in bounds):
        g = 0
        for x in bounds:
            g = math.gcd(g, int(round(x)))
        hints.append(f"divides {g} {unit}")
    if periods:
        hints.append(f"is < {_fmt(min(periods) / 2)} {unit}")
    hint = f"use a dt that {' and '.join(hints)}, " if hints else ""
    raise ValueError(
        f"{name}: dt = {_fmt(dt)} {unit} cannot represent {what}: every pulse and window "
        f"boundary must be a whole number of steps (within {GRID_TOL:g} steps) and every "
        f"waveform sampled at least twice per period; {hint}or pass allow_coarse=True to "
        f"build the task anyway (info['grid'] then counts the lost and distorted events)")


def _grid_report(name, dt, T, trial, events, allow_coarse, unit="ms"):
    """Count the realised events that the grid loses or distorts (``info["grid"]``).

    ``events``: ``(kind, starts, stops, period)`` with ``kind`` ``"pulse"`` (an input pulse)
    or ``"window"`` (a target or response window). An event that starts at or after the end
    of the trial is not counted; one that runs past it is clipped to it. Warns when
    ``allow_coarse`` and some event was lost or distorted.
    """
    rep = {"dt": dt, "tolerance": GRID_TOL, "n_events": 0, "n_lost": 0, "n_distorted": 0,
           "n_pulses": 0, "n_pulses_lost": 0, "n_pulses_distorted": 0}
    for kind, starts, stops, period in events:
        starts, stops = (a.ravel() for a in np.broadcast_arrays(
            np.asarray(starts, dtype=float), np.asarray(stops, dtype=float)))
        keep = starts < trial
        starts, stops = starts[keep], np.minimum(stops[keep], trial)
        lo, hi = _span(starts, stops, dt, T)
        lost = hi <= lo
        moved = (np.abs(lo - starts / dt) > GRID_TOL) | (np.abs(hi - stops / dt) > GRID_TOL)
        if period is not None and not dt < period / 2:
            moved = np.ones_like(moved)
        distorted = ~lost & moved
        n, n_lost, n_dist = starts.size, int(lost.sum()), int(distorted.sum())
        rep["n_events"] += n
        rep["n_lost"] += n_lost
        rep["n_distorted"] += n_dist
        if kind == "pulse":
            rep["n_pulses"] += n
            rep["n_pulses_lost"] += n_lost
            rep["n_pulses_distorted"] += n_dist
    if allow_coarse and (rep["n_lost"] or rep["n_distorted"]):
        warnings.warn(
            f"{name}: on the coarse grid dt = {_fmt(dt)} {unit}, {rep['n_lost']} of "
            f"{rep['n_events']} events are lost (no step) and {rep['n_distorted']} are "
            f"distorted (moved, resized or aliased); {rep['n_pulses_lost']} of "
            f"{rep['n_pulses']} input pulses are lost (see info['grid'])",
            UserWarning, stacklevel=_caller_level())
    return rep


def _caller_level():
    """``stacklevel`` of the first frame outside this module (the user's call)."""
    import sys
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


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
        If ``t`` is not finite, ``amplitude < 0``, ``period`` is not positive, or
        ``t / period`` is so large that the phase overflows.
    """
    amplitude = as_positive_float(amplitude, "amplitude", allow_zero=True)
    period = as_positive_float(period, "period")
    w = 2 * np.pi / period
    t = np.asarray(as_float_array(t, "t", tuple(range(0, 4))), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        phase_ok = np.all(np.isfinite(4 * w * t))
    if not phase_ok:
        raise ValueError(f"the phase 8 pi t / period overflows (period = {period}, "
                         f"max |t| = {np.max(np.abs(t)):g}); t / period is too large")
    return (amplitude / 1.5) * (np.sin(w * t) + np.sin(2 * w * t) / 2 + np.sin(3 * w * t) / 6
                                + np.sin(4 * w * t) / 3)


def sine_sum(duration: float = 1440.0, dt: float = 0.1, *, amplitude: float = 1.3,
             period: float = 120.0, n_inputs: int = 1, allow_coarse: bool = False) -> Task:
    """The FORCE target of Sussillo & Abbott (2009, Fig. 2): a periodic sum of four sines.

    The fastest sine has period ``period / 4``, so the grid must have ``dt < period / 8``
    (Nyquist: at least two samples per period); the number of steps is
    ``round(duration / dt)``.

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
    allow_coarse : bool
        Build the task even when ``dt >= period / 8`` (the fast sines are then aliased;
        ``info["grid"]`` counts the distorted waveform and a ``UserWarning`` says so).

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
        is shorter than one step, ``n_inputs < 0``, ``dt >= period / 8`` (unless
        ``allow_coarse``) or the arrays cannot fit in physical memory.
    """
    T, dt = _n_steps(duration, dt)
    amplitude = as_positive_float(amplitude, "amplitude")
    period = as_positive_float(period, "period")
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    allow_coarse = _as_bool(allow_coarse, "allow_coarse")
    duration = T * dt
    if not allow_coarse:
        _require_grid("sine_sum", dt, duration,
                      [("fastest sine (period / 4)", 0.0, duration, period / 4)], unit="time units")
    _check_memory(T * (n_inputs + 2.0),
                  f"duration / dt = {T} steps (dt = {dt}) of n_inputs = {n_inputs} inputs")
    grid = _grid_report("sine_sum", dt, T, duration,
                        [("window", 0.0, duration, period / 4)], allow_coarse,
                        unit="time units")
    t = np.arange(T) * dt
    y = sine_sum_target(t, amplitude, period)[:, None]
    return Task(inputs=np.zeros((T, n_inputs)), targets=y, mask=np.ones(T), dt=dt,
                name="sine_sum",
                info={"duration": duration, "amplitude": amplitude, "period": period,
                      "grid": grid})


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
        Initial time (time units) with mask 0, rounded to the nearest step (a settling
        time, not an event: it is not held to the grid rule of the module docstring).

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
        than ``duration``, ``target`` or ``input_value`` is not a finite number, or the
        arrays cannot fit in physical memory.
    """
    T, dt = _n_steps(duration, dt)
    A = float(as_float_array(target, "target", 0))
    u = float(as_float_array(input_value, "input_value", 0))
    washout = as_positive_float(washout, "washout", allow_zero=True)
    n_wash = int(round(washout / dt))
    if n_wash >= T:
        raise ValueError(f"washout ({washout}) must be shorter than duration ({T * dt})")
    _check_memory(3.0 * T, f"duration / dt = {T} steps (dt = {dt})")
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
        Initial time (time units) with mask 0, rounded to the nearest step (a settling
        time, not an event: it is not held to the grid rule of the module docstring).
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
        ``washout`` is negative or not shorter than ``duration``, ``n_inputs < 0``, or the
        arrays cannot fit in physical memory.
    """
    A = as_float_array(targets, "targets", 1)
    T, dt = _n_steps(duration, dt)
    washout = as_positive_float(washout, "washout", allow_zero=True)
    n_inputs = as_int(n_inputs, "n_inputs", minimum=0)
    n_wash = int(round(washout / dt))
    if n_wash >= T:
        raise ValueError(f"washout ({washout}) must be shorter than duration ({T * dt})")
    Bn = A.size
    _check_memory(Bn * T * (n_inputs + 2.0),
                  f"{Bn} targets of duration / dt = {T} steps (dt = {dt}) and n_inputs = "
                  f"{n_inputs} inputs")
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
# are built on the 1 ms grid and interpolated. A ``dt`` that puts a boundary between grid
# points is refused (module docstring, "Time grids") unless ``allow_coarse=True``.

GATES = {"and": (0, 0, 0, 1), "or": (0, 1, 1, 1), "xor": (0, 1, 1, 0)}
GATE_PAIRS = ((0, 0), (1, 0), (0, 1), (1, 1))
EARLY_STOP = {"and": 5e-4, "or": 1e-4, "xor": 1e-3, "not": 5e-4, "flip_flop": 1e-3,
              "time_reproduction": 1e-3, "oscillation": 1e-3, "flip_flop_3bit": 9e-3}


#: Docstring sections shared by Jarne's task generators (see :mod:`reservoir._docs`).
_DT_RNG = """dt : float
    Time step (ms). Every pulse and window boundary of the task must be a whole number of
    steps (module docstring, "Time grids"); ``dt = 1`` matches the authors' generators.
rng : None, int, SeedSequence or Generator
    Trial types and noise.
allow_coarse : bool
    Build the task even when ``dt`` cannot represent every event; ``info["grid"]`` then
    counts the events lost (no step) or distorted, and a ``UserWarning`` says how many."""
_RETURNS_RAISES = """Returns
-------
Task
    ``inputs`` (B, T, M), ``targets`` (B, T, K), ``mask`` (B, T) ones; times in ms;
    ``info["grid"]`` counts the events the grid lost or distorted.

Raises
------
TypeError
    If an argument has the wrong type.
ValueError"""
_RAISES_TAIL = ("``dt`` cannot represent an event (the message names the shortest one;\n"
                "unless ``allow_coarse``), or the arrays cannot fit in physical memory.")
_JARNE_SECTIONS = ("Parameters\n----------\nn_trials : int\n    Number of trials ``B``.\n"
                   "noise_std : float\n    Std of the Gaussian noise added to the inputs.\n"
                   + _DT_RNG + "\n\n" + _RETURNS_RAISES + "\n    If ``n_trials < 1``, "
                   "``noise_std < 0``, ``dt`` is not positive,\n    "
                   + _RAISES_TAIL.replace("\n", "\n    "))
_jarne_doc = fill_doc(jarne_sections=_JARNE_SECTIONS, dt_rng=_DT_RNG,
                      returns_raises=_RETURNS_RAISES, raises_tail=_RAISES_TAIL)


def _jarne_common(n_trials, noise_std, rng, dt, trial_ms, allow_coarse, n_channels):
    """Validate the shared arguments; return ``n, noise_std, generator, T, dt, allow``."""
    from ._checks import as_rng
    n_trials = as_int(n_trials, "n_trials", minimum=1)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    gen = as_rng(rng)
    allow = _as_bool(allow_coarse, "allow_coarse")
    T, dt = _n_steps(trial_ms, dt, trial=True)
    _check_memory(float(n_trials) * T * (n_channels + 1 + (n_channels if noise_std else 0)),
                  f"n_trials = {n_trials} trials of {T} steps (dt = {dt} ms)")
    return n_trials, noise_std, gen, T, dt, allow


def _gate(name, n_trials, noise_std, dt, rng, allow_coarse, trial_ms=200.0, onset=30.0,
          width=20.0, mem_gap=20.0):
    n, noise_std, gen, T, dt, allow = _jarne_common(n_trials, noise_std, rng, dt, trial_ms,
                                                    allow_coarse, 3)
    out_t = onset + width + mem_gap
    if not allow:
        _require_grid(name, dt, trial_ms, [("input pulse", onset, onset + width, None),
                                           ("response window", out_t, trial_ms, None)])
    kinds = gen.integers(0, 4, size=n)
    pairs = np.array(GATE_PAIRS, dtype=float)[kinds]
    baseline = 0.0 if name == "and" else 0.01
    pulse = _window(T, dt, onset, onset + width)
    U = np.zeros((n, T, 2))
    U[:, pulse, :] = pairs[:, None, :]
    Y = np.full((n, T, 1), baseline)
    value = np.array(GATES[name], dtype=float)[kinds]
    Y[:, _window(T, dt, out_t, np.inf), 0] = value[:, None]
    grid = _grid_report(name, dt, T, trial_ms,
                        [("pulse", np.full(int(pairs.sum()), onset), onset + width, None),
                         ("window", np.full(n, out_t), trial_ms, None)], allow)
    if noise_std > 0:
        U = _add_noise(U, noise_std, gen)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name=name,
                info={"trial_types": kinds, "response_window": (out_t, trial_ms),
                      "baseline": baseline, "early_stop": EARLY_STOP[name],
                      "noise_std": noise_std, "criterion": "response-window mean on the "
                      "correct side of 0.5", "time_unit": "ms", "grid": grid})


@_jarne_doc
def and_(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None,
         allow_coarse: bool = False) -> Task:
    """AND of two input pulses (Jarne & Laje 2023, J. Comput. Neurosci. 51:407).

    Pulses on [30, 50) ms, target from 70 ms held to the end of the 200 ms trial, baseline
    0; early-stop threshold 5e-4. ``info["trial_types"]`` indexes (A, B) in (0,0), (1,0),
    (0,1), (1,1). ``dt`` must divide 10 ms.

    {jarne_sections}
    """
    return _gate("and", n_trials, noise_std, dt, rng, allow_coarse)


@_jarne_doc
def or_(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None,
        allow_coarse: bool = False) -> Task:
    """OR of two input pulses (as :func:`and_`, baseline 0.01, threshold 1e-4).

    {jarne_sections}
    """
    return _gate("or", n_trials, noise_std, dt, rng, allow_coarse)


@_jarne_doc
def xor(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None,
        allow_coarse: bool = False) -> Task:
    """XOR of two input pulses (as :func:`and_`, baseline 0.01, threshold 1e-3).

    {jarne_sections}
    """
    return _gate("xor", n_trials, noise_std, dt, rng, allow_coarse)


@_jarne_doc
def not_(n_trials: int = 15000, *, noise_std: float = 0.0, dt: float = 1.0, rng=None,
         allow_coarse: bool = False) -> Task:
    """NOT of one input pulse (Jarne): target ``1 - input`` from 70 ms, baseline 0.01.

    Pulse on [30, 50) ms, 200 ms trials (``dt`` must divide 10 ms). Needs a recurrent
    bias (the no-pulse trial has no input at all).

    {jarne_sections}
    """
    n, noise_std, gen, T, dt, allow = _jarne_common(n_trials, noise_std, rng, dt, 200.0,
                                                    allow_coarse, 2)
    if not allow:
        _require_grid("not", dt, 200.0, [("input pulse", 30.0, 50.0, None),
                                         ("response window", 70.0, 200.0, None)])
    kinds = gen.integers(0, 2, size=n)
    U = np.zeros((n, T, 1))
    U[:, _window(T, dt, 30.0, 50.0), 0] = kinds[:, None]
    Y = np.full((n, T, 1), 0.01)
    Y[:, _window(T, dt, 70.0, np.inf), 0] = (1 - kinds)[:, None]
    grid = _grid_report("not", dt, T, 200.0,
                        [("pulse", np.full(int(kinds.sum()), 30.0), 50.0, None),
                         ("window", np.full(n, 70.0), 200.0, None)], allow)
    if noise_std > 0:
        U = _add_noise(U, noise_std, gen)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="not",
                info={"trial_types": kinds, "response_window": (70.0, 200.0),
                      "baseline": 0.01, "early_stop": EARLY_STOP["not"],
                      "noise_std": noise_std, "time_unit": "ms", "grid": grid,
                      "criterion": "response-window mean on the correct side of 0.5"})


@_jarne_doc
def flip_flop(n_trials: int = 25000, *, noise_std: float = 0.1, dt: float = 1.0,
              rng=None, allow_coarse: bool = False) -> Task:
    """1-bit flip-flop (Jarne).

    8 pulses of 20 ms at 50 + 120 k ms on the reset (channel 0) or set (channel 1) line,
    chosen at random; the output holds the last channel's index from 20 ms after the pulse
    ends, ``[90 + 120 k, 210 + 120 k)``; baseline 0.01 before 90 ms; 1010 ms trials;
    input noise 0.1. ``dt`` must divide 10 ms. Scored by :func:`flip_flop_accuracy`.

    {jarne_sections}
    """
    n, noise_std, gen, T, dt, allow = _jarne_common(n_trials, noise_std, rng, dt, 1010.0,
                                                    allow_coarse, 3)
    k8 = 120.0 * np.arange(8)
    if not allow:
        _require_grid("flip_flop", dt, 1010.0, [("input pulse", 50.0 + k8, 70.0 + k8, None),
                                                ("output hold", 90.0 + k8, 210.0 + k8, None)])
    chans = gen.integers(0, 2, size=(n, 8))
    U = np.zeros((n, T, 2))
    Y = np.full((n, T, 1), 0.01)
    for k in range(8):
        on = _window(T, dt, 50.0 + 120 * k, 70.0 + 120 * k)
        seg = _window(T, dt, 90.0 + 120 * k, 210.0 + 120 * k)
        for c in (0, 1):
            sel = chans[:, k] == c
            U[np.ix_(sel, on, [c])] = 1.0
            Y[np.ix_(sel, seg, [0])] = float(c)
    starts = np.broadcast_to(50.0 + k8, (n, 8))
    grid = _grid_report("flip_flop", dt, T, 1010.0,
                        [("pulse", starts, starts + 20.0, None),
                         ("window", starts + 40.0, starts + 160.0, None)], allow)
    if noise_std > 0:
        U = _add_noise(U, noise_std, gen)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="flip_flop",
                info={"channels": chans, "early_stop": EARLY_STOP["flip_flop"],
                      "noise_std": noise_std, "time_unit": "ms", "grid": grid})


def _hann_smoothed_pulse(width, hann_len):
    """``conv(ones(width), hann(hann_len), 'same') / sum(hann)`` on the 1 ms grid."""
    import scipy.signal
    h = scipy.signal.windows.hann(hann_len)
    return scipy.signal.convolve(np.ones(width), h, mode="same") / h.sum()


def _place(T, dt, start_ms, values_1ms):
    """Values of a waveform defined at start_ms + 0, 1, 2, ... ms, on the steps k dt of a
    grid of T steps (linear interpolation; zero outside [start_ms, start_ms + size))."""
    lo, hi = _span(start_ms, start_ms + values_1ms.size, dt, T)
    k = np.arange(int(lo), int(hi))
    out = np.zeros(T)
    out[k] = np.interp(k * dt, start_ms + np.arange(values_1ms.size), values_1ms)
    return out


@_jarne_doc
def time_reproduction(n_trials: int = 15000, *, mem_gap: float = 20.0, noise_std: float = 0.03,
                      dt: float = 1.0, rng=None, allow_coarse: bool = False) -> Task:
    """Reproduce a 20 ms pulse ``mem_gap`` ms after it ends (Jarne).

    A Hann-smoothed input pulse on [50, 70) ms in half of the trials; target baseline
    0.045 and, after a pulse, a 20 ms bump (0.493 .. 0.985) from ``70 + mem_gap`` ms;
    300 ms trials; noise 0.03 on the input *and* the target.

    Parameters
    ----------
    n_trials : int
        Number of trials ``B``.
    mem_gap : float
        Delay (ms) between the end of the pulse and the start of the reproduced bump,
        ``0 <= mem_gap <= 210`` (the bump must end within the trial).
    noise_std : float
        Std of the Gaussian noise added to the inputs and to the targets.
    {dt_rng}

    {returns_raises}
        If ``n_trials < 1``, ``noise_std < 0``, ``mem_gap`` is outside [0, 210], ``dt`` is
        not positive,
        {raises_tail}
    """
    import scipy.signal
    n, noise_std, gen, T, dt, allow = _jarne_common(n_trials, noise_std, rng, dt, 300.0,
                                                    allow_coarse, 2)
    mem_gap = as_positive_float(mem_gap, "mem_gap", allow_zero=True)
    if mem_gap > 210.0:
        raise ValueError(f"mem_gap must be <= 210 ms (the 20 ms bump after it must end "
                         f"within the 300 ms trial), got {mem_gap}")
    b0 = 70.0 + mem_gap
    if not allow:
        # the smoothed pulse and the bump are waveforms 20 ms wide: sampled at least twice
        # per width (as a waveform of period 20 ms), or their shape and integral are lost
        # (at dt = 10 the pulse is 2 samples and carries 20 % less drive)
        _require_grid("time_reproduction", dt, 300.0,
                      [("Hann-smoothed input pulse", 50.0, 70.0, 20.0),
                       ("target bump (at 70 + mem_gap)", b0, b0 + 20.0, 20.0)])
    present = gen.integers(0, 2, size=n)
    pulse = _place(T, dt, 50.0, _hann_smoothed_pulse(20, 10))
    bump_1ms = scipy.signal.convolve(np.ones(20), 0.055 * scipy.signal.windows.gaussian(20, 12),
                                     mode="same")
    bump = _place(T, dt, b0, bump_1ms)
    in_bump = _window(T, dt, b0, b0 + 20.0)
    U = present[:, None, None] * pulse[None, :, None]
    Y = np.full((n, T, 1), 0.045)
    Y[:, in_bump, 0] = np.where(present[:, None] == 1, bump[None, in_bump], 0.045)
    n_on = int(present.sum())
    grid = _grid_report("time_reproduction", dt, T, 300.0,
                        [("pulse", np.full(n_on, 50.0), 70.0, 20.0),
                         ("window", np.full(n_on, b0), b0 + 20.0, 20.0)], allow)
    if noise_std > 0:
        U = _add_noise(U, noise_std, gen)
        Y = _add_noise(Y, noise_std, gen)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="time_reproduction",
                info={"trial_types": present, "mem_gap": mem_gap,
                      "early_stop": EARLY_STOP["time_reproduction"], "noise_std": noise_std,
                      "time_unit": "ms", "grid": grid})


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
                rng=None, allow_coarse: bool = False) -> Task:
    """A pulse-triggered oscillation of finite duration (Jarne).

    Hann-smoothed 40 ms input pulse on [100, 140) ms in half of the trials; target baseline
    0.01 and, after a pulse, a sinusoid of period 35 ms and amplitude 1.74 on
    [160, 380) ms; 420 ms trials; input noise 0.1. ``dt`` must divide 20 ms and be below
    17.5 ms (two samples per period).

    {jarne_sections}
    """
    n, noise_std, gen, T, dt, allow = _jarne_common(n_trials, noise_std, rng, dt, 420.0,
                                                    allow_coarse, 2)
    if not allow:
        _require_grid("oscillation", dt, 420.0, [("input pulse", 100.0, 140.0, None),
                                                 ("oscillation", 160.0, 380.0, 35.0)])
    present = gen.integers(0, 2, size=n)
    pulse = _place(T, dt, 100.0, _hann_smoothed_pulse(40, 15))
    wave = _place(T, dt, 160.0, oscillation_target_1ms())
    window = _window(T, dt, 160.0, 380.0)
    U = present[:, None, None] * pulse[None, :, None]
    Y = np.full((n, T, 1), 0.01)
    Y[:, window, 0] = np.where(present[:, None] == 1, wave[None, window], 0.01)
    n_on = int(present.sum())
    grid = _grid_report("oscillation", dt, T, 420.0,
                        [("pulse", np.full(n_on, 100.0), 140.0, None),
                         ("window", np.full(n_on, 160.0), 380.0, 35.0)], allow)
    if noise_std > 0:
        U = _add_noise(U, noise_std, gen)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="oscillation",
                info={"trial_types": present, "early_stop": EARLY_STOP["oscillation"],
                      "noise_std": noise_std, "time_unit": "ms", "grid": grid})


@_jarne_doc
def flip_flop_3bit(n_trials: int = 15050, *, noise_std: float = 0.1, dt: float = 1.0,
                   rng=None, allow_coarse: bool = False) -> Task:
    """3-bit flip-flop, the version of Jarne's tutorial (Jarne 2024, Front. Syst. Neurosci.).

    Three independent lines; on each, three 20 ms pulses with onsets ``s``,
    ``s + 70 + v1`` and ``s + 170 + v1 + v2`` ms (``s`` uniform in 10..99, ``v1, v2`` in
    1..50); the first pulse's amplitude is -1, 0 (no pulse) or +1, the others +-1; output
    ``i`` switches to a pulse's amplitude 20 ms after it ends and holds it (0 before);
    340 ms trials (a pulse drawn after the end is not in the trial); input noise 0.1.
    Onsets are whole milliseconds, so ``dt`` must divide 1 ms. (The task itself is
    Sussillo & Barak's 2013 3-bit flip-flop.) Scored by :func:`flip_flop_accuracy`.

    {jarne_sections}
    """
    n, noise_std, gen, T, dt, allow = _jarne_common(n_trials, noise_std, rng, dt, 340.0,
                                                    allow_coarse, 6)
    if not allow:
        every = np.arange(10.0, 370.0)  # every onset a trial can draw, 1 ms apart
        _require_grid("flip_flop_3bit", dt, 340.0,
                      [("input pulse", every, every + 20.0, None),
                       ("output hold", every + 40.0, np.inf, None)])
    U = np.zeros((n, T, 3))
    Y = np.zeros((n, T, 3))
    s = gen.integers(10, 100, size=(n, 3))
    v1 = gen.integers(1, 51, size=(n, 3))
    v2 = gen.integers(1, 51, size=(n, 3))
    amp = np.stack([gen.integers(-1, 2, size=(n, 3)), gen.choice([-1, 1], size=(n, 3)),
                    gen.choice([-1, 1], size=(n, 3))], axis=-1).astype(float)
    onsets = np.stack([s, s + 70 + v1, s + 170 + v1 + v2], axis=-1).astype(float)
    lo, hi = _span(onsets, onsets + 20.0, dt, T)
    switch, _ = _span(onsets + 40.0, np.inf, dt, T)
    steps = np.arange(T)
    for c in range(3):
        for p in range(3):
            a = amp[:, c, p]
            real = (a != 0)[:, None]
            on = (steps >= lo[:, c, p, None]) & (steps < hi[:, c, p, None]) & real
            U[:, :, c] = np.where(on, a[:, None], U[:, :, c])
            hold = (steps >= switch[:, c, p, None]) & real
            Y[:, :, c] = np.where(hold, a[:, None], Y[:, :, c])
    real = amp != 0
    nxt = np.concatenate([onsets[..., 1:] + 40.0, np.full((n, 3, 1), np.inf)], axis=-1)
    grid = _grid_report("flip_flop_3bit", dt, T, 340.0,
                        [("pulse", onsets[real], onsets[real] + 20.0, None),
                         ("window", onsets[real] + 40.0, nxt[real], None)], allow)
    if noise_std > 0:
        U = _add_noise(U, noise_std, gen)
    return Task(inputs=U, targets=Y, mask=np.ones((n, T)), dt=dt, name="flip_flop_3bit",
                info={"onsets": onsets, "amplitudes": amp,
                      "early_stop": EARLY_STOP["flip_flop_3bit"], "noise_std": noise_std,
                      "time_unit": "ms", "grid": grid})


#: Jarne's hold-memory tasks, scored by :func:`flip_flop_accuracy` (by name, in
#: :func:`response_accuracy` and :func:`reservoir.compare_training`).
FLIP_FLOP_TASKS = ("flip_flop", "flip_flop_3bit")


def response_accuracy(task: Task, z) -> float:
    """Fraction of the task's responses that are correct: gate tasks and flip-flops.

    * Gate tasks (``info["response_window"]``: ``and``, ``or``, ``xor``, ``not``): a trial
      is correct when the readout and the target, averaged over the response window, are
      on the same side of 0.5 (the gate tasks' acceptance rule in Jarne's code); only
      channel 0 is scored; the result is the fraction of correct trials.
    * Flip-flops (``task.name`` in :data:`FLIP_FLOP_TASKS`): :func:`flip_flop_accuracy`
      with its default ``level_tolerance = 0.5``: the fraction of hold windows (of every
      trial and channel) in which the readout stays within 0.5 of the held level.

    Parameters
    ----------
    task : Task
        A batched gate task (with ``info["response_window"]``) or a task made by
        :func:`flip_flop` or :func:`flip_flop_3bit`.
    z : array_like, shape (B, T, K)
        The readout of every trial.

    Returns
    -------
    float
        The fraction of correct trials (gates) or hold windows (flip-flops), in [0, 1].

    Raises
    ------
    TypeError
        If ``task`` is not a :class:`Task` or ``z`` is not a real numeric array.
    ValueError
        If the task is neither a gate task nor a flip-flop, or ``z`` does not have the
        targets' shape or has NaN or infinite values.
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    if "response_window" not in task.info:
        if task.name in FLIP_FLOP_TASKS:
            return flip_flop_accuracy(task, z)
        raise ValueError(
            f"task {task.name!r} has no response window and is not a flip-flop "
            f"{FLIP_FLOP_TASKS}: response_accuracy scores the gate tasks and the flip-flops "
            "(for another task that holds levels, call flip_flop_accuracy directly)")
    z = as_float_array(z, "z", 3)
    if z.shape != task.targets.shape:
        raise ValueError(f"z must have the targets' shape {task.targets.shape}, got {z.shape}")
    start, stop = task.info["response_window"]
    w = _window(task.n_steps, task.dt, start, stop)
    zm = z[:, w, 0].mean(axis=1)
    ym = task.targets[:, w, 0].mean(axis=1)
    return float(np.mean((zm > 0.5) == (ym > 0.5)))


def flip_flop_accuracy(task: Task, z, *, level_tolerance: float = 0.5) -> float:
    """Fraction of hold windows in which the readout holds the target level.

    A *hold window* is a maximal run of consecutive scored steps (``mask > 0``) of one
    trial over which one channel's target is constant: the stretch after a pulse during
    which the output must hold the level the pulse set, or the stretch before the first
    pulse (a masked step ends a window; two windows of the same level separated only by a
    pulse that did not change the level are one window). A window is *correct* when
    ``|z - y| < level_tolerance`` at every one of its steps; the accuracy is the number of
    correct windows over the number of windows, counted over every trial and channel.
    With the default ``level_tolerance = 0.5`` (half the spacing of the levels 0 / 1 of
    :func:`flip_flop` and -1 / 0 / +1 of :func:`flip_flop_3bit`) a window is correct when
    the readout is nearer to the held level than to any other level, throughout (the
    1-bit task's baseline 0.01 counts as the level 0). Every step of the window is
    scored, not its mean, so a memory that decays or flips half way through is wrong.

    Parameters
    ----------
    task : Task
        A task whose targets hold piecewise-constant levels (:func:`flip_flop`,
        :func:`flip_flop_3bit`, or a hand-made hold task such as Sussillo & Barak's 2013
        3-bit flip-flop with the steps right after each pulse masked out).
    z : array_like, shape of ``task.targets``: (T, K) or (B, T, K)
        The readout of every trial (readout units).
    level_tolerance : float
        Largest distance ``|z - y|`` (readout units, ``> 0``) at which a step still
        holds the level ``y``.

    Returns
    -------
    float
        The fraction of correct hold windows, in [0, 1].

    Raises
    ------
    TypeError
        If ``task`` is not a :class:`Task`, ``z`` is not a real numeric array or
        ``level_tolerance`` is not a real number.
    ValueError
        If ``z`` does not have the targets' shape or has NaN or infinite values,
        ``level_tolerance`` is not finite and positive, or the task has no scored step.
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    z = as_float_array(z, "z", (2, 3))
    if z.shape != task.targets.shape:
        raise ValueError(f"z must have the targets' shape {task.targets.shape}, got {z.shape}")
    tol = as_positive_float(level_tolerance, "level_tolerance")
    y = np.asarray(task.targets, dtype=float)
    scored = np.asarray(task.mask) > 0
    if not task.is_batched:
        z, y, scored = z[None], y[None], scored[None]
    B, T, K = y.shape
    scored = np.broadcast_to(scored[:, :, None], (B, T, K))
    # a window starts at a scored step whose previous step is unscored or holds another
    # level; numbering the starts along time labels every step with its window
    starts = scored.copy()
    starts[:, 1:] &= ~scored[:, :-1] | (y[:, 1:] != y[:, :-1])
    n_windows = int(np.count_nonzero(starts))
    if n_windows == 0:
        raise ValueError(f"task {task.name!r} has no scored step (mask > 0): no window "
                         "to score")
    label = np.cumsum(starts, axis=1)            # window number within (trial, channel)
    bad = scored & ~(np.abs(z - y) < tol)
    b, _, k = np.nonzero(bad)
    wrong = np.unique(np.stack([b, k, label[bad]], axis=1), axis=0).shape[0] if b.size else 0
    return float((n_windows - wrong) / n_windows)
