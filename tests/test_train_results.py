"""The result contract of simulation and training (success, messages, counters, short repr)
and the deprecated aliases of the training API."""

import dataclasses
import warnings

import numpy as np
import pytest

import reservoir as rs
from reservoir.train import BPTTResult, ForceResult, RidgeResult


# ------------------------------------------------------------------ deprecated aliases
def test_force_alpha_keyword_is_a_deprecated_alias_of_reg():
    net = rs.random_network(20, 1.2, 1, 1, rng=0)
    rng = np.random.default_rng(1)
    U, Y = rng.standard_normal((60, 1)), rng.standard_normal((60, 1))
    new = rs.force(net, U, Y, reg=0.3, x0=np.zeros(20), return_P=True)
    with pytest.warns(DeprecationWarning, match="reg"):
        old = rs.force(net, U, Y, alpha=0.3, x0=np.zeros(20), return_P=True)
    np.testing.assert_array_equal(new.network.W_out, old.network.W_out)
    np.testing.assert_array_equal(new.P, old.P)
    # the penalty really is the one passed: P(0) = I / reg with no update (T = 1)
    with pytest.warns(DeprecationWarning):
        first = rs.force(net, U[:1], Y[:1], alpha=0.25, x0=np.zeros(20), return_P=True)
    np.testing.assert_array_equal(first.P, np.eye(20) * 4.0)
    with pytest.raises(TypeError, match="both"):
        rs.force(net, U, Y, alpha=0.3, reg=0.3)


def test_train_jarne_network_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="reservoir.network.jarne_network"):
        f = rs.train.jarne_network
    assert f is rs.network.jarne_network
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = rs.jarne_network(10, 2, 1, rng=0)
    assert a == f(10, 2, 1, rng=0)


# ------------------------------------------------------------------ the contract
@pytest.mark.parametrize("cls", [RidgeResult, ForceResult, BPTTResult])
def test_success_and_messages_are_required_fields(cls):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in ("success", "messages"):
        assert fields[name].default is dataclasses.MISSING
        assert fields[name].default_factory is dataclasses.MISSING
    assert cls.__repr__ is rs._results.ResultMixin.__repr__


def test_trajectory_is_a_plain_container_with_a_short_repr():
    from reservoir._simulate import Trajectory
    assert "Plain container" in Trajectory.__doc__
    net = rs.random_network(50, 1.5, 1, 1, rng=0)
    tr = rs.simulate(net, np.zeros((3, 2000, 1)), mode="closed")
    text = repr(tr)
    assert len(text.splitlines()) < 25
    assert "shape=(3, 2000, 50)" in text


def _rank_deficient(N=30, T=10, seed=0):
    net = rs.random_network(N, 0.8, 1, 1, rng=seed)
    rng = np.random.default_rng(seed)
    return net, rng.standard_normal((T, 1)), rng.standard_normal((T, 1))


def test_ridge_reports_the_directions_dropped_below_the_cutoff():
    net, U, Y = _rank_deficient()
    res = rs.fit_ridge(net, U, Y, reg=0.0)
    assert res.success is True
    assert res.solver == "svd" and res.reg == 0.0
    # 10 samples (the first at x0 = 0): rank <= 10, so at least 20 of the 30 directions drop
    assert 20 <= res.n_dropped < 30 and res.rank == 30 - res.n_dropped
    assert len(res.messages) == 1
    msg = res.messages[0]
    assert f"numerical rank {res.rank} < N = 30" in msg
    assert f"{res.n_dropped} singular values" in msg and "minimum-norm" in msg
    # the dropped directions are really absent: the readout lies in the span of the rates
    R = rs.simulate(net, U, mode="teacher", targets=Y, record=("r",)).r
    P = R.T @ np.linalg.pinv(R.T)
    np.testing.assert_allclose(P @ res.W_out[0], res.W_out[0], atol=1e-10)
    ok = rs.fit_ridge(net, U, Y, reg=1e-3)
    assert ok.success is True and ok.solver == "qr" and ok.n_dropped == 0
    assert ok.messages == ()


def test_force_counts_updates_and_says_when_nothing_was_trained():
    net = rs.random_network(15, 1.2, 1, 1, rng=0)
    Y = np.ones((40, 1))
    res = rs.force(net, None, Y, update_every=3, x0=np.zeros(15))
    assert res.success is True and res.messages == ()
    assert res.n_updates == len(res.update_steps) == 13 and res.n_steps == 40
    none = rs.force(net, None, Y[:3], update_every=5, x0=np.zeros(15))
    assert none.success is False and none.n_updates == 0 and none.n_steps == 3
    assert "no RLS update" in none.messages[0] and "update_every=5" in none.messages[0]
    assert np.array_equal(none.network.W_out, net.W_out)
    long = rs.force(net, None, np.ones((6000, 1)), update_every=1, x0=np.zeros(15))
    text = repr(long)
    assert len(text.splitlines()) < 25 and "success=True" in text


def _small_task(B=24, T=12, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, 2))
    Y = np.tanh(U.sum(axis=2, keepdims=True))
    return rs.tasks.Task(inputs=U, targets=Y, mask=np.ones((B, T)), dt=1.0)


def test_bptt_counters_and_early_stop_messages():
    net = rs.jarne_network(8, 2, 1, rng=0)
    task = _small_task()
    res = rs.bptt(net, task, epochs=3, batch_size=10, lr=1e-3, rng=0)
    assert res.success is True and res.messages == () and not res.stopped_early
    assert res.n_epochs == 3 and res.n_batches == 9 == len(res.batch_losses)
    unreachable = rs.bptt(net, task, epochs=2, batch_size=10, early_stop=1e-12, rng=0)
    assert unreachable.success is False and unreachable.n_epochs == 2
    assert "not below early_stop" in unreachable.messages[-1]
    reached = rs.bptt(net, task, epochs=5, batch_size=10, early_stop=1e9, rng=0)
    assert reached.success is True and reached.stopped_early and reached.n_epochs == 1
    assert reached.n_batches == 3 and "stopped early after epoch 1 of 5" in reached.messages[0]
    called = rs.bptt(net, task, epochs=5, batch_size=24, callback=lambda *a: True, rng=0)
    assert called.n_epochs == 1 and "callback" in called.messages[0]


def test_bptt_repr_stays_short_for_a_long_run():
    net = rs.jarne_network(6, 2, 1, rng=0)
    res = rs.bptt(net, _small_task(B=40, T=4), epochs=60, batch_size=4, lr=1e-3, rng=0)
    assert res.n_batches == 600
    text = repr(res)
    assert len(text.splitlines()) < 25 and "shape=(600,)" in text
    assert text.startswith("BPTTResult(success=True)")
