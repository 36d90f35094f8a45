"""The PyTorch export (reservoir.interop.torch) against ``simulate`` and a hand-written step.

PyTorch is a manual install (its PyPI wheels pull gigabytes of GPU libraries), so these
tests are in the slow suite, except the one that checks the error without it. The
networks are the contracting ones of ``test_interop_jax`` (the Euler map contracts in every
mode, so agreement to 1e-12 over 1,000 steps tests the same dynamics).
"""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

import reservoir as rs
from reservoir.errors import SimulationDivergedError
from reservoir.interop import torch as rtorch
from test_interop_jax import MODES, PHIS, TOL, T_LONG, contracting_network, drive, phi_np

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch", reason="PyTorch is a manual install: pip install torch (CPU build)")


_RUNS: dict = {}


def run_both(torch, phi: str, sparse: bool, mode: str):
    key = (phi, sparse, mode)
    if key not in _RUNS:
        net = contracting_network(phi, sparse=sparse, seed=PHIS.index(phi))
        U, Y = drive(T_LONG, net.n_inputs, net.n_outputs)
        x0 = np.random.default_rng(7).uniform(-1, 1, net.N)
        ref = rs.simulate(net, U, x0, mode=mode, targets=Y)
        module = rtorch.to_torch(net)
        with torch.no_grad():
            out = module(U, x0, mode=mode, targets=Y)
        _RUNS[key] = (net, U, Y, x0, ref, out)
    return _RUNS[key]


@slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("phi", PHIS)
def test_first_step_is_the_euler_step(torch, phi, mode):
    net, U, Y, x0, ref, out = run_both(torch, phi, False, mode)
    r0 = phi_np(phi, x0)
    z0 = net.W_out @ r0 + net.b_out
    f0 = {"closed": z0, "teacher": Y[0], "open": np.zeros(net.n_outputs)}[mode]
    a = net.dt / net.tau
    x1 = (1 - a) * x0 + a * (net.J @ r0 + net.W_in @ U[0] + net.W_fb @ f0 + net.b)
    x = out.x.numpy()
    np.testing.assert_array_equal(x[0], x0)
    np.testing.assert_allclose(out.z.numpy()[0], z0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(x[1], x1, rtol=0, atol=1e-14)
    assert np.max(np.abs(x[1] - ref.x[1])) <= TOL


@slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("phi, sparse", [(phi, False) for phi in PHIS] + [("tanh", True)],
                         ids=[f"{phi}-dense" for phi in PHIS] + ["tanh-sparse"])
def test_thousand_steps_reproduce_simulate(torch, phi, mode, sparse):
    net, U, Y, x0, ref, out = run_both(torch, phi, sparse, mode)
    assert out.x.dtype == torch.float64
    for name in ("x", "r", "z", "x_final"):
        got = getattr(out, name).numpy()
        want = getattr(ref, name)
        assert got.shape == want.shape, name
        assert np.max(np.abs(got - want)) <= TOL, (name, np.max(np.abs(got - want)))
    assert np.ptp(ref.x[:, 0]) > 0.1


@slow
def test_batches_and_no_inputs_match_simulate(torch):
    net = contracting_network("tanh", seed=3)
    rng = np.random.default_rng(4)
    U = rng.standard_normal((3, 50, net.n_inputs))
    Y = rng.standard_normal((3, 50, net.n_outputs))
    X0 = rng.uniform(-1, 1, (3, net.N))
    module = rtorch.to_torch(net)
    with torch.no_grad():
        for mode in MODES:
            ref = rs.simulate(net, U, X0, mode=mode, targets=Y)
            out = module(U, X0, mode=mode, targets=Y)
            assert tuple(out.x.shape) == (3, 50, net.N)
            assert np.max(np.abs(out.x.numpy() - ref.x)) <= TOL
            assert np.max(np.abs(out.z.numpy() - ref.z)) <= TOL
        net0 = contracting_network("sigmoid", M=0, K=1, seed=5)
        ref = rs.simulate(net0, None, np.full(net0.N, 0.5), mode="closed", n_steps=200)
        out = rtorch.to_torch(net0)(None, np.full(net0.N, 0.5), mode="closed", n_steps=200)
        assert np.max(np.abs(out.x.numpy() - ref.x)) <= TOL


@slow
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_round_trip_is_bit_exact(torch, sparse):
    net = contracting_network("relu", sparse=sparse, seed=6, dale=True)
    module = rtorch.to_torch(net)
    assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad
               for p in module.parameters())
    back = rtorch.from_torch(module)
    assert back == net
    assert back.meta == net.meta and back.phi == net.phi
    assert back.tau == net.tau and back.dt == net.dt
    for name in ("W_in", "W_fb", "W_out", "b", "b_out", "dale_signs"):
        assert getattr(back, name).tobytes() == getattr(net, name).tobytes(), name
    if sparse:
        assert back.J.data.tobytes() == net.J.data.tobytes()
        np.testing.assert_array_equal(back.J.indices, net.J.indices)
        np.testing.assert_array_equal(back.J.indptr, net.J.indptr)
    else:
        assert back.J.tobytes() == net.J.tobytes()
    # pickled (as torch.save does) and loaded, or loaded from a state_dict: the same
    assert rtorch.from_torch(pickle.loads(pickle.dumps(module))) == net
    other = rtorch.to_torch(contracting_network("relu", sparse=sparse, seed=6, dale=True))
    other.load_state_dict(module.state_dict())
    assert rtorch.from_torch(other) == net


@slow
def test_gradient_matches_finite_differences_of_simulate(torch):
    net = contracting_network("tanh", N=12, K=1, seed=8)
    U, Y = drive(60, net.n_inputs, 1, seed=9)
    module = rtorch.to_torch(net)
    loss = ((module(U, mode="closed").z - torch.as_tensor(Y)) ** 2).mean()
    loss.backward()

    def loss_np(W_out):
        tr = rs.simulate(net.with_readout(W_out, net.b_out), U, mode="closed")
        return np.mean((tr.z - Y) ** 2)

    h = 1e-6
    for j in (0, 5, 11):
        E = np.zeros_like(net.W_out)
        E[0, j] = h
        fd = (loss_np(net.W_out + E) - loss_np(net.W_out - E)) / (2 * h)
        assert abs(float(module.W_out.grad[0, j]) - fd) <= 1e-7 * max(1.0, abs(fd))


@slow
def test_trained_module_comes_back_as_a_network(torch):
    net = contracting_network("tanh", sparse=True, seed=10)
    U, Y = drive(100, net.n_inputs, net.n_outputs, seed=11)
    module = rtorch.to_torch(net)
    opt = torch.optim.SGD(module.parameters(), lr=0.05)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = ((module(U, mode="teacher", targets=Y).z - torch.as_tensor(Y)) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    back = rtorch.from_torch(module)
    assert back != net and back.is_sparse
    with torch.no_grad():
        out = module(U, mode="closed")
    ref = rs.simulate(back, U, mode="closed")
    assert np.max(np.abs(out.x.numpy() - ref.x)) <= TOL


@slow
def test_float32_module(torch):
    net = contracting_network("tanh", seed=14)
    U, _ = drive(200, net.n_inputs, net.n_outputs, seed=15)
    module = rtorch.to_torch(net, dtype=torch.float32)
    with torch.no_grad():
        out = module(U, mode="closed")
    assert out.x.dtype == torch.float32
    err = np.max(np.abs(out.x.numpy().astype(np.float64) - rs.simulate(net, U,
                                                                       mode="closed").x))
    assert 0 < err <= 1e-5
    back = rtorch.from_torch(module)
    np.testing.assert_array_equal(back.W_in, net.W_in.astype(np.float32).astype(np.float64))


@slow
def test_divergence_is_reported_at_the_same_step_as_simulate(torch):
    net = rs.Network(J=3.0 * np.eye(1), W_in=np.zeros((1, 1)), W_fb=np.zeros((1, 1)),
                     W_out=np.zeros((1, 1)), b=np.zeros(1), phi="relu", tau=1.0, dt=1.0)
    with pytest.raises(SimulationDivergedError) as ref:
        rs.simulate(net, None, np.ones(1), mode="open", n_steps=800)
    with pytest.raises(SimulationDivergedError) as got:
        rtorch.to_torch(net)(None, np.ones(1), mode="open", n_steps=800)
    assert got.value.step == ref.value.step


@slow
def test_bad_arguments_are_named(torch):
    net = contracting_network("tanh", seed=17)
    module = rtorch.to_torch(net)
    U = np.zeros((5, net.n_inputs))
    with pytest.raises(TypeError, match="net"):
        rtorch.to_torch("not a network")
    with pytest.raises(ValueError, match="dtype"):
        rtorch.to_torch(net, dtype=torch.float16)
    with pytest.raises(ValueError, match="mode"):
        module(U, mode="feedback")
    with pytest.raises(ValueError, match="inputs"):
        module(np.zeros((5, net.n_inputs + 1)), mode="open")
    with pytest.raises(ValueError, match="targets"):
        module(U, mode="teacher")
    with pytest.raises(ValueError, match="x0"):
        module(U, np.zeros(net.N + 1), mode="open")
    with pytest.raises(ValueError, match="targets contains NaN"):
        module(U, mode="teacher", targets=np.full((5, net.n_outputs), np.nan))
    with pytest.raises(TypeError, match="module"):
        rtorch.from_torch(torch.nn.Linear(2, 2))
    module.W_out = torch.nn.Parameter(module.W_out.detach().T.clone())
    with pytest.raises(ValueError, match="W_out"):
        rtorch.from_torch(module)


def test_missing_torch_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        rtorch.to_torch(contracting_network("tanh", N=4))
    with pytest.raises(ImportError, match="pip install torch"):
        rtorch.from_torch(object())


@pytest.mark.slow
def test_forward_checks_parameter_shapes(torch):
    """A parameter replaced by hand with the wrong shape is refused by forward, naming it
    (as from_torch does), not by a shape error deep inside torch."""
    net = rs.random_network(20, 0.5, 1, 1, dt=0.1, rng=0)
    module = rtorch.to_torch(net)
    module.J = torch.nn.Parameter(torch.ones(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"module\['J'\] must have shape \(20, 20\)"):
        module(np.ones((5, 1)), mode="open")
