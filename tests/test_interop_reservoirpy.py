"""from_reservoirpy against the real reservoirpy 0.4.2 (issue 17, item 4): reservoirpy runs
the reservoir (and the readout, and the feedback loop) on random inputs; ``simulate`` runs the
imported network with the documented shift (one row appended to the inputs, the first row of
the result dropped) and must agree to 1e-12. The error paths name the parameter."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import reservoir as rs
from reservoir.interop import from_reservoirpy, initial_state_from_reservoirpy

import reservoirpy  # noqa: E402,F401  (the dev extra installs it: these tests run in CI)
from reservoirpy import ESN                      # noqa: E402
from reservoirpy.nodes import NVAR, Reservoir, Ridge  # noqa: E402

TOL = 1e-12


def ours(net, U, x0):
    """Our run aligned with reservoirpy's rows: row t of the result is reservoirpy's row t."""
    tr = rs.simulate(net, np.vstack([U, U[-1:]]), x0=x0, mode="closed")
    return tr.r[1:], tr.z[1:]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [0.0, "array"])
def test_states_match_reservoirpy_from_its_zero_state(activation, bias):
    rng = np.random.default_rng(1)
    N, M, T = 25, 3, 80
    b = 0.2 * rng.standard_normal(N) if bias == "array" else bias
    res = Reservoir(N, lr=1.0, sr=0.9, input_scaling=0.7, input_connectivity=0.5,
                    rc_connectivity=0.3, bias=b, activation=activation, seed=3)
    U = rng.standard_normal((T, M))
    res.initialize(U)
    net = from_reservoirpy(res)
    x0 = initial_state_from_reservoirpy(res)
    np.testing.assert_array_equal(x0, np.zeros(N))
    S = res.run(U)
    R, _ = ours(net, U, x0)
    assert np.max(np.abs(R - S)) <= TOL
    assert net.phi == activation and net.alpha == 1.0
    assert net.is_sparse                                    # reservoirpy's W is sparse
    np.testing.assert_array_equal(net.dense_J(), res.W.toarray())
    np.testing.assert_array_equal(net.W_in, res.Win.toarray())
    np.testing.assert_array_equal(net.b, np.broadcast_to(res.bias, (N,)))


def test_plain_numpy_recurrence_is_what_both_compute():
    """The equation of the module docstring, iterated by hand, against reservoirpy."""
    rng = np.random.default_rng(2)
    N, M, T = 10, 2, 30
    W, Win, bias = rng.standard_normal((N, N)) / 3, rng.standard_normal((N, M)), \
        rng.standard_normal(N)
    res = Reservoir(W=W, Win=Win, bias=bias, lr=1.0)
    U = rng.standard_normal((T, M))
    S = res.run(U)
    s = np.zeros(N)
    for t in range(T):
        s = np.tanh(W @ s + Win @ U[t] + bias)
        assert np.max(np.abs(s - S[t])) <= TOL
    net = from_reservoirpy(res)
    assert not net.is_sparse
    R, _ = ours(net, U, np.zeros(N))
    assert np.max(np.abs(R - S)) <= TOL


def test_readout_and_a_continued_run_match():
    """A Ridge readout fitted by reservoirpy; a second run continues from the reservoir's
    state (arctanh of a nonzero state)."""
    rng = np.random.default_rng(4)
    N, M, K, T = 30, 2, 2, 120
    res = Reservoir(N, lr=1.0, sr=0.8, bias=0.1, seed=5)
    ro = Ridge(ridge=1e-4)
    model = res >> ro
    U1, U2 = rng.standard_normal((T, M)), rng.standard_normal((T, M))
    Y = np.stack([np.sin(np.arange(T) / 5), np.cos(np.arange(T) / 7)], axis=1)
    model.fit(U1, Y)
    assert np.any(ro.bias != 0)
    net = from_reservoirpy(res, ro)
    assert net.n_outputs == K
    np.testing.assert_array_equal(net.W_out, ro.Wout.T)
    np.testing.assert_array_equal(net.b_out, ro.bias)
    np.testing.assert_array_equal(net.W_fb, np.zeros((N, K)))
    x0 = initial_state_from_reservoirpy(res)                # state reached by fit
    assert np.any(x0 != 0)
    s_before = res.state["out"].copy()
    Z = model.run(U2)
    S = res.state["out"]
    R, Zo = ours(net, U2, x0)
    assert np.max(np.abs(Zo - Z)) <= TOL
    assert np.max(np.abs(R[-1] - S)) <= TOL
    assert not np.allclose(S, s_before)


def test_sigmoid_needs_a_state_inside_its_range():
    rng = np.random.default_rng(6)
    N, M, T = 12, 1, 40
    res = Reservoir(N, lr=1.0, sr=0.9, activation="sigmoid", bias=-0.5, seed=7)
    U = rng.standard_normal((T, M))
    res.initialize(U)
    with pytest.raises(ValueError, match="sigmoid"):
        initial_state_from_reservoirpy(res)                  # zero state: no preimage
    s0 = rng.uniform(0.1, 0.9, N)
    res.state = {"out": s0.copy()}
    x0 = initial_state_from_reservoirpy(res)
    np.testing.assert_allclose(1 / (1 + np.exp(-x0)), s0, rtol=0, atol=1e-15)
    S = res.run(U)
    R, _ = ours(from_reservoirpy(res), U, x0)
    assert np.max(np.abs(R - S)) <= TOL


@pytest.mark.parametrize("fit_bias", [False, True])
def test_feedback_loop_matches_with_the_documented_first_step(fit_bias):
    """ESN(feedback=True): Win = [W_in | W_fb]; reservoirpy feeds back its buffer first."""
    rng = np.random.default_rng(8)
    N, M, T = 30, 1, 100
    res = Reservoir(N, lr=1.0, sr=0.5, seed=9)
    ro = Ridge(ridge=1e-3, fit_bias=fit_bias)
    esn = ESN(reservoir=res, readout=ro, feedback=True)
    U = rng.standard_normal((T, M))
    Y = np.sin(np.arange(T) / 4)[:, None]
    esn.fit(U, Y)
    net = from_reservoirpy(res, ro, feedback=True)
    assert net.n_inputs == M and net.n_outputs == 1
    np.testing.assert_array_equal(np.hstack([net.W_in, net.W_fb]), res.Win.toarray())
    esn.reset()
    x0 = initial_state_from_reservoirpy(res)
    buffer = np.zeros(1)                                     # after reset
    U2 = rng.standard_normal((T, M))
    Z = esn.run(U2)
    first = rs.simulate(net, U2[:1], x0=x0, mode="teacher", targets=buffer[None])
    rest = rs.simulate(net, np.vstack([U2[1:], U2[-1:]]), x0=first.x_final, mode="closed")
    assert np.max(np.abs(rest.z - Z)) <= TOL
    if not fit_bias:                                         # z[0] = 0 = buffer: plain run
        _, Zo = ours(net, U2, x0)
        assert np.max(np.abs(Zo - Z)) <= TOL


def _initialised(**kw):
    res = Reservoir(10, seed=0, **kw)
    res.initialize(np.zeros((1, 2)))
    return res


@pytest.mark.parametrize("kw, word", [
    ({"lr": 0.5}, "lr"),
    ({"lr": np.r_[np.ones(9), 0.9]}, "lr"),
    ({"activation": "identity"}, "activation"),
    ({"activation": "softplus"}, "activation"),
])
def test_differences_are_refused_naming_the_parameter(kw, word):
    with pytest.raises(ValueError, match=word):
        from_reservoirpy(_initialised(**kw))


def test_other_refusals():
    with pytest.raises(ValueError, match="initiali"):
        from_reservoirpy(Reservoir(10, seed=0))              # W still an initializer
    with pytest.raises(TypeError, match="reservoirpy.nodes.Reservoir"):
        from_reservoirpy(NVAR(delay=2, order=2))
    res = _initialised()
    with pytest.raises(ValueError, match="readout"):
        from_reservoirpy(res, feedback=True)
    with pytest.raises(TypeError, match="feedback"):
        from_reservoirpy(res, feedback=1)
    reads_input_too = Ridge(Wout=np.ones((12, 1)), bias=np.zeros(1))
    with pytest.raises(ValueError, match="readout.Wout"):
        from_reservoirpy(res, reads_input_too)
    with pytest.raises(ValueError, match="readout.Wout"):
        from_reservoirpy(res, Ridge(ridge=1.0))              # not fitted
    tanh_res = _initialised()
    tanh_res.state = {"out": np.full(10, 1.5)}
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        initial_state_from_reservoirpy(tanh_res)


def test_saturated_tanh_state_is_accepted_and_continues_exactly():
    """Strong inputs saturate float64 tanh to exactly +-1: the state maps to a preimage
    (+-20) and the continued run still matches reservoirpy."""
    res = Reservoir(W=np.zeros((5, 5)), Win=np.ones((5, 1)) * 30, bias=0.0, lr=1.0)
    res.run(np.ones((3, 1)))
    s = np.asarray(res.state()).ravel() if callable(res.state) else res.state["out"].ravel()
    assert np.all(np.abs(s) == 1.0)
    x0 = initial_state_from_reservoirpy(res)
    np.testing.assert_array_equal(np.tanh(x0), s)
    U = np.random.default_rng(0).standard_normal((6, 1)) * 0.01
    theirs = res.run(U)
    np.testing.assert_allclose(ours(from_reservoirpy(res), U, x0)[0], theirs, atol=1e-12)


def test_float_bias_and_dense_arrays_pass_through():
    W = sp.random(8, 8, density=0.5, random_state=1, format="coo")
    res = Reservoir(W=W, Win=np.ones((8, 1)), bias=0.25, lr=1.0)
    net = from_reservoirpy(res, dt=2.0)
    assert net.is_sparse and net.tau == 2.0 and net.dt == 2.0
    np.testing.assert_array_equal(net.b, np.full(8, 0.25))
    np.testing.assert_array_equal(net.dense_J(), W.toarray())
