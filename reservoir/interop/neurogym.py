"""Turn NeuroGym environments' trials into a :class:`~reservoir.Task`.

NeuroGym (Molano-Mazón et al., neurogym 2.x) builds each trial as arrays: ``env.ob``, the
observation of every step (``(T, M)``), and ``env.gt``, the ground truth (the correct
action) of every step, after ``env.new_trial()``; ``env.dt`` is the step in milliseconds.
:func:`task_from_neurogym` collects ``n_trials`` of them.

Conventions
-----------
* Time: NeuroGym's ``dt`` is in milliseconds, and so is the task's ``dt`` (as for Jarne's
  tasks in :mod:`reservoir.tasks`). A network meant for the task needs the same step: pass
  its ``dt`` (ms) and a mismatch is refused, naming both.
* Inputs: ``inputs[b, t] = ob[t]`` of trial ``b``, float64; the observation at step ``t``
  acts on the state ``x[t+1]`` (the package's timing, see the README).
* Timing against NeuroGym's own scoring: NeuroGym judges the action taken at step ``t``
  *after* the agent has seen ``ob[t]`` against ``gt[t]``; here ``targets[t] = gt[t]`` is
  compared with ``z[t]``, which has seen ``ob[:t]`` only. The network therefore answers one
  step later than a NeuroGym agent: the first step of each period is scored before its
  observation can act (harmless where periods last many steps and the mask weights them
  alike; to score as NeuroGym does, drop the first masked step of each period or compare
  ``z[t + 1]`` with ``gt[t]``).
* Categorical ground truth (``action_space`` ``Discrete(n)``: ``gt[t]`` is an action index):
  one-hot targets. NeuroGym's action 0 is *fixate* (no response; the ground truth during
  fixation and delay periods). ``fixation="channel"`` (default) keeps it as readout 0, so
  ``K = n`` and exactly one readout is 1 at every step; ``fixation="zeros"`` drops that
  channel, so ``K = n - 1``, readout ``k - 1`` is 1 when the answer is action ``k`` and
  every readout is 0 during fixation (the "no response = 0" convention of Jarne's tasks).
* Continuous ground truth (``action_space`` a ``Box``): ``targets = gt`` (as float64,
  ``(T, K)``).
* Mask: 1 on every step of every trial (``mask_periods=None``), or 1 only in the named
  periods (NeuroGym's ``start_ind`` / ``end_ind``, e.g. ``("decision",)``).
* Trials of different lengths are padded at the end up to the longest: inputs and targets
  0 and mask 0 on the padding (it comes after the trial, so it cannot change the masked
  steps).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np

from .._checks import as_int, as_positive_float, as_rng
from ..tasks import Task

if TYPE_CHECKING:                                    # annotations only
    import gymnasium

logger = logging.getLogger(__name__)

__all__ = ["task_from_neurogym"]

_FIXATION = ("channel", "zeros")


def _trial_env(env):
    """The outermost layer that defines ``new_trial`` (NeuroGym's trial wrappers or the
    environment itself), skipping gymnasium wrappers that only forward attributes."""
    layer = env
    while not hasattr(type(layer), "new_trial"):
        inner = getattr(layer, "env", None)
        if inner is None or inner is layer:
            raise TypeError(
                f"env must be a NeuroGym environment (with new_trial(), ob, gt and dt), got "
                f"{type(env).__name__}")
        layer = inner
    return layer


def _base(layer):
    """The environment itself (where NeuroGym stores ``ob``, ``gt``, ``dt``, ``rng``)."""
    return getattr(layer, "unwrapped", layer)


def task_from_neurogym(env: gymnasium.Env, n_trials: int, *,
                       dt: float | None = None,
                       rng: int | np.random.Generator | None = None,
                       fixation: str = "channel",
                       mask_periods: tuple[str, ...] | list[str] | None = None) -> Task:
    """Collect ``n_trials`` trials of a NeuroGym environment into a batched :class:`Task`.

    Parameters
    ----------
    env : neurogym environment
        From ``neurogym.make(...)`` (gymnasium and NeuroGym trial wrappers are honoured:
        ``new_trial`` is called on the outermost layer that defines it). Its
        ``observation_space`` must be one-dimensional; its ``action_space`` ``Discrete(n)``
        (categorical ground truth) or a ``Box`` (continuous ground truth).
    n_trials : int
        Number of trials ``B >= 1``.
    dt : float, optional
        The network's time step in milliseconds (NeuroGym's unit). Checked against the
        environment's ``dt``; ``None`` skips the check.
    rng : None, int or numpy.random.Generator
        ``None`` leaves the environment's own generator as it is (the trials continue its
        sequence); otherwise the environment is reseeded with ``env.seed(s)``, ``s`` one
        draw from ``numpy.random.default_rng(rng)``, so the same ``rng`` gives the same
        trials.
    fixation : {"channel", "zeros"}
        Categorical ground truth only: keep action 0 (fixate / no response) as readout 0
        (``"channel"``, ``K = n``) or drop it and code it as all readouts 0 (``"zeros"``,
        ``K = n - 1``). See the module docstring.
    mask_periods : sequence of str, optional
        Names of the periods (``env.start_ind`` keys) whose steps get mask 1; the others
        get 0. Default: every step of the trial.

    Returns
    -------
    Task
        ``inputs`` (B, T, M), ``targets`` (B, T, K), ``mask`` (B, T), all float64, ``T`` the
        longest trial; ``dt`` the environment's step (ms); ``name`` ``"neurogym:<env>"``;
        ``info`` holds ``"lengths"`` (steps of each trial), ``"fixation"``,
        ``"mask_periods"``, ``"n_actions"`` (categorical) and ``"source"``.

    Raises
    ------
    TypeError
        If ``env`` is not a NeuroGym environment, its spaces are of another kind, or an
        argument has the wrong type.
    ValueError
        If ``dt`` differs from the environment's ``dt`` (both named), ``n_trials < 1``,
        ``fixation`` is not one of its choices, a ground-truth action lies outside
        ``[0, n)``, a trial is empty or has non-finite values, or a period in
        ``mask_periods`` is not one of the trial's periods.
    """
    n_trials = as_int(n_trials, "n_trials", minimum=1)
    if not isinstance(fixation, str) or fixation not in _FIXATION:
        raise ValueError(f"fixation must be one of {_FIXATION}, got {fixation!r}")
    if mask_periods is not None:
        if isinstance(mask_periods, str) or not all(isinstance(p, str) for p in mask_periods):
            raise TypeError("mask_periods must be a sequence of period names (str), got "
                            f"{mask_periods!r}")
        mask_periods = tuple(mask_periods)
    layer = _trial_env(env)
    base = _base(layer)
    env_dt = as_positive_float(getattr(base, "dt", None), "env.dt")
    if dt is not None:
        dt = as_positive_float(dt, "dt")
        if not math.isclose(dt, env_dt, rel_tol=1e-12, abs_tol=0.0):
            raise ValueError(
                f"dt must equal the environment's time step: the network's dt is {dt} ms, "
                f"the environment's dt is {env_dt} ms (make the environment with "
                f"dt={dt}, or the network with dt={env_dt})")
    obs_shape = tuple(getattr(base.observation_space, "shape", None) or ())
    if len(obs_shape) != 1:
        raise TypeError(f"env.observation_space must be one-dimensional (M,), got shape "
                        f"{obs_shape}")
    space = base.action_space
    n_actions = getattr(space, "n", None)
    categorical = n_actions is not None and tuple(getattr(space, "shape", ()) or ()) == ()
    if categorical:
        n_actions = int(n_actions)
        if fixation == "zeros" and n_actions < 2:
            raise ValueError(f"fixation='zeros' needs at least 2 actions, the environment "
                             f"has {n_actions}")
    elif n_actions is not None or not hasattr(space, "shape") or hasattr(space, "nvec"):
        raise TypeError(f"env.action_space must be Discrete(n) or a Box, got "
                        f"{type(space).__name__}")
    if rng is not None:
        seed = int(as_rng(rng).integers(2**31 - 1))
        base.seed(seed)

    obs, gts, masks = [], [], []
    for b in range(n_trials):
        layer.new_trial()
        ob = np.asarray(base.ob, dtype=np.float64)
        gt = np.asarray(base.gt)
        if ob.ndim != 2 or ob.shape[1] != obs_shape[0] or ob.shape[0] == 0:
            raise ValueError(f"trial {b}: env.ob must have shape (T, {obs_shape[0]}) with "
                             f"T >= 1, got {ob.shape}")
        T = ob.shape[0]
        if gt.shape[:1] != (T,):
            raise ValueError(f"trial {b}: env.gt must have {T} steps like env.ob, got "
                             f"shape {gt.shape}")
        if not np.all(np.isfinite(ob)):
            raise ValueError(f"trial {b}: env.ob has non-finite values")
        if categorical:
            if gt.ndim != 1 or not np.all(np.equal(np.mod(gt, 1), 0)):
                raise ValueError(f"trial {b}: env.gt must hold one action index per step, "
                                 f"got shape {gt.shape}, dtype {gt.dtype}")
            a = gt.astype(np.int64)
            if np.any((a < 0) | (a >= n_actions)):
                raise ValueError(f"trial {b}: env.gt has actions outside [0, {n_actions})")
            y = np.zeros((T, n_actions))
            y[np.arange(T), a] = 1.0
            if fixation == "zeros":
                y = y[:, 1:]
        else:
            y = np.asarray(gt, dtype=np.float64).reshape(T, -1)
            if not np.all(np.isfinite(y)):
                raise ValueError(f"trial {b}: env.gt has non-finite values")
        if mask_periods is None:
            m = np.ones(T)
        else:
            start = getattr(base, "start_ind", {})
            end = getattr(base, "end_ind", {})
            m = np.zeros(T)
            for p in mask_periods:
                if p not in start or p not in end:
                    raise ValueError(f"mask_periods: {p!r} is not a period of the trial; "
                                     f"its periods are {tuple(start)}")
                m[int(start[p]):int(end[p])] = 1.0
        obs.append(ob)
        gts.append(y)
        masks.append(m)

    lengths = [o.shape[0] for o in obs]
    T_max = max(lengths)
    M, K = obs_shape[0], gts[0].shape[1]
    if any(y.shape[1] != K for y in gts):
        raise ValueError("env.gt changed its width between trials")
    U = np.zeros((n_trials, T_max, M))
    Y = np.zeros((n_trials, T_max, K))
    C = np.zeros((n_trials, T_max))
    for b, (o, y, m) in enumerate(zip(obs, gts, masks)):
        U[b, :o.shape[0]] = o
        Y[b, :o.shape[0]] = y
        C[b, :o.shape[0]] = m
    label = getattr(getattr(env, "spec", None), "id", None) or type(base).__name__
    info = {"source": "neurogym", "env": str(label), "lengths": lengths,
            "fixation": fixation if categorical else None,
            "mask_periods": list(mask_periods) if mask_periods is not None else None}
    if categorical:
        info["n_actions"] = n_actions
    return Task(inputs=U, targets=Y, mask=C, dt=env_dt, name=f"neurogym:{label}", info=info)
