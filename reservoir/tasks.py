"""Task generators: inputs, targets and a loss/regression mask on a time grid.

Every generator is parameterised by ``dt`` and takes durations in time units (the unit
of ``tau``), so a period or a delay stays the same physical time when ``dt`` changes.
Row ``t`` of a task is time ``t * dt``; the target ``targets[t]`` is what the readout
``z[t]`` should be (see :mod:`reservoir.simulate` for the feedback convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, as_int, as_positive_float


@dataclass(frozen=True, eq=False)
class Task:
    """Inputs, targets and mask of a task.

    Attributes
    ----------
    inputs : ndarray, shape (T, M) or (B, T, M)
    targets : ndarray, shape (T, K) or (B, T, K)
    mask : ndarray, shape (T,) or (B, T)
        Weight of each time step in losses and regressions (0 = ignored).
    dt : float
        Time step of the grid.
    name : str
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
        """Number of time steps ``T``."""
        return self.targets.shape[-2]

    @property
    def is_batched(self) -> bool:
        """Whether the task holds several trials (leading axis B)."""
        return self.targets.ndim == 3

    @property
    def t(self) -> np.ndarray:
        """Times of the rows, shape (T,)."""
        return np.arange(self.n_steps) * self.dt


def _n_steps(duration, dt):
    duration = as_positive_float(duration, "duration")
    dt = as_positive_float(dt, "dt")
    T = int(round(duration / dt))
    if T < 1:
        raise ValueError(f"duration ({duration}) must be at least one step dt ({dt})")
    return T, dt


def sine_sum_target(t, amplitude: float = 1.3, period: float = 120.0) -> np.ndarray:
    """Sussillo & Abbott's sum of four sines at time(s) ``t``.

    ``f(t) = (amplitude / 1.5) [sin(w t) + sin(2 w t) / 2 + sin(3 w t) / 6 + sin(4 w t) / 3]``
    with ``w = 2 pi / period`` (default: amplitude 1.3, period 120 tau).
    """
    w = 2 * np.pi / period
    t = np.asarray(t, dtype=np.float64)
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

    Returns
    -------
    Task
        ``inputs`` (T, 1), ``targets`` (T, 1), ``mask`` (T,).
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

    Returns
    -------
    Task
        ``inputs`` (n_targets, T, n_inputs) zeros, ``targets`` (n_targets, T, 1),
        ``mask`` (n_targets, T).
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
