"""Bad input to the MO2019 reproduction's helpers: a ``TypeError`` / ``ValueError`` naming
the argument at the boundary (not an ``IndexError``, a comparison ``TypeError`` from deep
inside, or a silent all-NaN state), found by a reviewer; and the valid boundary values
still accepted, checked against an independent computation."""

import numpy as np
import pytest

import reservoir as rs
from reservoir.reproduce import mo2019


@pytest.mark.parametrize("kw, match", [
    (dict(t_record=0.0), "t_record"),
    (dict(t_record=40.0), "t_record"),          # the 40 tau lag needs more than 40 tau
    (dict(t_record=np.nan), "t_record"),
    (dict(t_transient=-1.0), "t_transient"),
    (dict(t_transient=np.inf), "t_transient"),
])
def test_measure_chaos_rejects_bad_durations(kw, match):
    with pytest.raises(ValueError, match=match):
        mo2019.measure_chaos(30, 0.5, 0, **{"t_transient": 1.0, **kw})


def test_measure_chaos_rejects_bad_size_and_target():
    with pytest.raises(ValueError, match="N"):
        mo2019.measure_chaos(1, 0.5, 0)
    with pytest.raises(TypeError, match="N"):
        mo2019.measure_chaos(30.0, 0.5, 0)
    with pytest.raises(ValueError, match="A"):
        mo2019.measure_chaos(30, np.nan, 0)
    with pytest.raises(TypeError, match="t_record"):
        mo2019.measure_chaos(30, 0.5, 0, t_record="long")


def test_measure_chaos_shortest_record_against_numpy():
    """The shortest accepted record (41 tau, t_transient 0) gives finite numbers, and
    <x^2> equals a plain-NumPy Euler run of the same network from the same state."""
    N, A, seed, dt = 20, 0.5, 3, 0.1
    d0, dinf, edge, speed = mo2019.measure_chaos(N, A, seed, t_transient=0.0, t_record=41.0)
    assert np.all(np.isfinite([d0, dinf, edge, speed]))
    net, gen = mo2019.chaos_network(N, A, seed)
    x = gen.standard_normal(N)
    xs = []                                     # the record starts at the initial state
    for _ in range(int(round(41.0 / dt))):
        xs.append(x)
        x = x + dt * (-x + net.J @ np.tanh(x) + net.b)
    X = np.array(xs)
    assert d0 == pytest.approx(np.mean(X**2), rel=1e-8)


def test_training_success_theory_rejects_bad_grids():
    with pytest.raises(ValueError, match="z0_grid"):
        mo2019.training_success_theory([1.0], [np.nan])
    with pytest.raises(ValueError, match="A_grid"):
        mo2019.training_success_theory([np.inf], [0.0])
    with pytest.raises(ValueError, match="A_grid"):
        mo2019.training_success_theory([], [0.0])
    with pytest.raises(ValueError, match="z0_grid"):
        mo2019.training_success_theory([1.0], [[0.0, 1.0]])


@pytest.fixture(scope="module")
def net():
    return mo2019.finite_network(40, 1.0, 0)


def test_target_fixed_point_rejects_bad_input(net):
    with pytest.raises(TypeError, match="net"):
        mo2019.target_fixed_point(None, 1.0)
    with pytest.raises(ValueError, match="A"):
        mo2019.target_fixed_point(net, np.nan)
    with pytest.raises(TypeError, match="A"):
        mo2019.target_fixed_point(net, "1")
    with pytest.raises(ValueError, match="tol"):
        mo2019.target_fixed_point(net, 1.0, tol=-1)
    with pytest.raises(ValueError, match="tol"):
        mo2019.target_fixed_point(net, 1.0, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        mo2019.target_fixed_point(net, 1.0, max_iter=0)
    with pytest.raises(TypeError, match="max_iter"):
        mo2019.target_fixed_point(net, 1.0, max_iter=2.5)
    open_net, _ = mo2019.chaos_network(20, 0.5, 0)      # no input column
    with pytest.raises(ValueError, match="net"):
        mo2019.target_fixed_point(open_net, 0.5)


def test_target_fixed_point_one_step_solves_the_closed_loop(net):
    """max_iter = 1 is accepted; the converged state solves -x + (J + m w^T) tanh(x) + I = 0
    (residual in plain NumPy) and its readout is the target."""
    x, ok = mo2019.target_fixed_point(net, 1.0)
    J, m, I, w = net.dense_J(), net.W_fb[:, 0], net.W_in[:, 0], net.W_out[0]
    assert ok and np.max(np.abs(-x + (J + np.outer(m, w)) @ np.tanh(x) + I)) < 1e-10
    assert abs(w @ np.tanh(x) - 1.0) < 0.2
    x1, ok1 = mo2019.target_fixed_point(net, 1.0, max_iter=1)
    assert np.all(np.isfinite(x1)) and isinstance(ok1, bool)
    assert isinstance(net, rs.Network)
