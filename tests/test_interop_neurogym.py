"""task_from_neurogym (issue 17, item 4): the conversion rules of the module docstring checked
on a small fake environment (default run, no NeuroGym needed: one-hot targets, the fixation
conventions, padding and mask, periods, the dt check, seeding, wrappers), and on real NeuroGym
environments in the slow suite (NeuroGym imports PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

import reservoir as rs
from reservoir.interop import task_from_neurogym


class Discrete:
    def __init__(self, n):
        self.n, self.shape = n, ()


class Box:
    def __init__(self, shape):
        self.shape = shape


class FakeEnv:
    """NeuroGym's trial interface: new_trial() sets ob (T, M), gt (T,) and the periods;
    trials of random length, fixation (action 0) then a decision (action 1..n-1)."""

    def __init__(self, dt=20.0, n_actions=3, continuous=False):
        self.dt = dt
        self.observation_space = Box((2,))
        self.action_space = Box((2,)) if continuous else Discrete(n_actions)
        self.n_actions, self.continuous = n_actions, continuous
        self.rng = np.random.RandomState(0)
        self.history = []

    def seed(self, seed=None):
        self.rng = np.random.RandomState(seed)

    def new_trial(self):
        T = int(self.rng.randint(3, 9))
        f = T // 2
        self.ob = self.rng.randn(T, 2).astype(np.float32)
        if self.continuous:
            self.gt = self.rng.randn(T, 2).astype(np.float32)
        else:
            self.gt = np.zeros(T, dtype=np.int64)
            self.gt[f:] = self.rng.randint(1, self.n_actions)
        self.start_ind = {"fixation": 0, "decision": f}
        self.end_ind = {"fixation": f, "decision": T}
        self.history.append((self.ob.copy(), self.gt.copy(), f, T))
        return {}


class ForwardingWrapper:
    """Like gymnasium's OrderEnforcing: no new_trial of its own, forwards to .env."""

    def __init__(self, env):
        self.env = env

    @property
    def unwrapped(self):
        return self.env


def test_one_hot_with_fixation_channel_padding_and_mask():
    env = FakeEnv(n_actions=3)
    task = task_from_neurogym(env, 6, dt=20.0, rng=0)
    lengths = [h[3] for h in env.history]
    assert len(set(lengths)) > 1                          # padding is exercised
    T = max(lengths)
    assert task.inputs.shape == (6, T, 2) and task.targets.shape == (6, T, 3)
    assert task.mask.shape == (6, T) and task.dt == 20.0
    assert task.info["lengths"] == lengths and task.info["n_actions"] == 3
    for b, (ob, gt, f, L) in enumerate(env.history):
        np.testing.assert_array_equal(task.inputs[b, :L], ob.astype(np.float64))
        for t in range(L):
            for k in range(3):
                assert task.targets[b, t, k] == (1.0 if gt[t] == k else 0.0)
        assert np.all(task.targets[b, :L].sum(axis=1) == 1.0)     # exactly one channel
        np.testing.assert_array_equal(task.mask[b], np.r_[np.ones(L), np.zeros(T - L)])
        assert not np.any(task.inputs[b, L:]) and not np.any(task.targets[b, L:])


def test_fixation_zeros_and_decision_mask():
    env = FakeEnv(n_actions=4)
    task = task_from_neurogym(env, 5, rng=1, fixation="zeros", mask_periods=["decision"])
    assert task.targets.shape[-1] == 3
    for b, (ob, gt, f, L) in enumerate(env.history):
        assert not np.any(task.targets[b, :f])                # fixation: every readout 0
        for t in range(f, L):
            expect = np.zeros(3)
            expect[gt[t] - 1] = 1.0
            np.testing.assert_array_equal(task.targets[b, t], expect)
        expect_mask = np.zeros(task.n_steps)
        expect_mask[f:L] = 1.0
        np.testing.assert_array_equal(task.mask[b], expect_mask)


def test_continuous_ground_truth_is_copied():
    env = FakeEnv(continuous=True)
    task = task_from_neurogym(env, 3, rng=2)
    assert task.info["fixation"] is None
    for b, (ob, gt, f, L) in enumerate(env.history):
        np.testing.assert_array_equal(task.targets[b, :L], gt.astype(np.float64))


def test_seeding_reproduces_and_none_continues():
    a = task_from_neurogym(FakeEnv(), 4, rng=5)
    b = task_from_neurogym(FakeEnv(), 4, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    env = FakeEnv()
    first = task_from_neurogym(env, 2, rng=None)           # env's own generator (seed 0)
    ref = FakeEnv()
    ref.new_trial()
    np.testing.assert_array_equal(first.inputs[0, :ref.history[0][3]], ref.history[0][0])


def test_wrapper_without_new_trial_is_looked_through():
    env = FakeEnv()
    task = task_from_neurogym(ForwardingWrapper(env), 2, rng=0)
    assert len(env.history) == 2 and task.inputs.shape[0] == 2


def test_dt_mismatch_names_both():
    with pytest.raises(ValueError, match=r"network's dt is 10\.0 ms.*environment's dt is "
                                         r"20\.0 ms"):
        task_from_neurogym(FakeEnv(dt=20.0), 2, dt=10.0)
    task_from_neurogym(FakeEnv(dt=20.0), 1, dt=20.0)       # equal: accepted


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_trials"):
        task_from_neurogym(FakeEnv(), 0)
    with pytest.raises(ValueError, match="fixation"):
        task_from_neurogym(FakeEnv(), 1, fixation="drop")
    with pytest.raises(ValueError, match="mask_periods"):
        task_from_neurogym(FakeEnv(), 1, mask_periods=["response"])
    with pytest.raises(TypeError, match="mask_periods"):
        task_from_neurogym(FakeEnv(), 1, mask_periods="decision")
    with pytest.raises(TypeError, match="NeuroGym"):
        task_from_neurogym(object(), 1)
    env = FakeEnv(n_actions=2)
    env.action_space = Discrete(1)                          # gt holds action 1: out of range
    with pytest.raises(ValueError, match=r"outside \[0, 1\)"):
        task_from_neurogym(env, 3, rng=0)
    env = FakeEnv()
    env.action_space = type("MultiDiscrete", (), {"nvec": [2, 2], "shape": (2,)})()
    with pytest.raises(TypeError, match="action_space"):
        task_from_neurogym(env, 1)


@pytest.mark.slow
@pytest.mark.parametrize("name, dt, period", [("PerceptualDecisionMaking-v0", 100, "decision"),
                                              ("ReadySetGo-v0", 20, "production")])
def test_real_neurogym_environments(name, dt, period):
    ngym = pytest.importorskip("neurogym")
    env = ngym.make(name, dt=dt)
    task = task_from_neurogym(env, 8, dt=dt, rng=0)
    again = task_from_neurogym(ngym.make(name, dt=dt), 8, dt=dt, rng=0)
    np.testing.assert_array_equal(task.inputs, again.inputs)
    base = env.unwrapped
    n = base.action_space.n
    assert task.targets.shape[-1] == n and task.dt == float(dt)
    # the last trial is still in the environment: compare it row by row
    L = base.ob.shape[0]
    assert task.info["lengths"][-1] == L
    np.testing.assert_array_equal(task.inputs[-1, :L], base.ob.astype(np.float64))
    np.testing.assert_array_equal(task.targets[-1, :L], np.eye(n)[base.gt])
    dec = task_from_neurogym(env, 2, rng=1, mask_periods=[period])
    L = base.ob.shape[0]
    s, e = base.start_ind[period], base.end_ind[period]
    np.testing.assert_array_equal(dec.mask[-1, :L], (np.arange(L) >= s) & (np.arange(L) < e))
    with pytest.raises(ValueError, match="environment's dt"):
        task_from_neurogym(env, 1, dt=dt / 2)
    # the task runs through the package: a network on the environment's dt
    net = rs.random_network(20, 0.8, n_inputs=task.inputs.shape[-1], n_outputs=n,
                            tau=4 * dt, dt=dt, rng=0)
    fit = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-3)
    assert fit.network.n_outputs == n
