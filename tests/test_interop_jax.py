"""The JAX export (reservoir.interop.jax) against ``simulate`` and a hand-written Euler step.

The networks are contracting: ``||J||_2 <= 0.9`` and ``||J + W_fb W_out||_2 <= 0.9`` with
``sup phi' <= 1``, so the Euler map is a contraction in every mode (Lipschitz constant
``1 - alpha + 0.9 alpha < 1``) and rounding differences cannot grow: agreement to 1e-12
over 1,000 steps is then a real test of the same dynamics, not a lucky one. JAX's float64
switch is turned on for this module only and restored afterwards.
"""

from __future__ import annotations

import sys

import jax
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import reservoir as rs
from reservoir.errors import SimulationDivergedError
from reservoir.interop.jax import JaxSimulator, from_jax, to_jax

PHIS = ("tanh", "relu", "sigmoid")
MODES = ("open", "teacher", "closed")
T_LONG = 1000
TOL = 1e-12


@pytest.fixture(scope="module", autouse=True)
def x64():
    """float64 in JAX for this module; the switch is restored afterwards."""
    before = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def contracting_network(phi: str, *, sparse: bool = False, N: int = 20, M: int = 2,
                        K: int = 2, dt: float = 0.2, seed: int = 0,
                        dale: bool = False) -> rs.Network:
    """A network whose Euler map contracts in every mode (see the module docstring), with
    a bias, a readout intercept and nonzero weights everywhere."""
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((N, N)) / np.sqrt(N)
    signs = None
    if dale:
        signs = np.where(np.arange(N) < N // 2, 1.0, -1.0)
        J = np.abs(J) * signs[None, :]
    if sparse:
        J = J * (rng.random((N, N)) < 0.3)
    W_fb = rng.standard_normal((N, K))
    W_out = rng.standard_normal((K, N)) / np.sqrt(N)
    c = 0.9 / max(np.linalg.norm(J + W_fb @ W_out, 2), np.linalg.norm(J, 2))
    J, W_out = c * J, c * W_out
    assert np.linalg.norm(J, 2) <= 0.9 + 1e-12
    assert np.linalg.norm(J + W_fb @ W_out, 2) <= 0.9 + 1e-12
    return rs.Network(J=sp.csr_matrix(J) if sparse else J,
                      W_in=rng.standard_normal((N, M)), W_fb=W_fb, W_out=W_out,
                      b=0.3 * rng.standard_normal(N), b_out=0.2 * rng.standard_normal(K),
                      phi=phi, tau=1.0, dt=dt, meta={"seed": seed, "note": "test"},
                      dale_signs=signs)


def drive(T: int, M: int, K: int, seed: int = 1):
    """Inputs (T, M), teacher targets (T, K) and an initial state seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) * 0.2
    U = rng.standard_normal((T, M))
    Y = np.stack([np.sin(t / (k + 1.5)) for k in range(K)], axis=1) \
        + 0.1 * rng.standard_normal((T, K))
    return U, Y


_RUNS: dict = {}


def run_both(phi: str, sparse: bool, mode: str):
    """(net, simulate's trajectory, the export's trajectory) over T_LONG steps, computed
    once per module (the export is compiled once per network and mode)."""
    key = (phi, sparse, mode)
    if key not in _RUNS:
        net = contracting_network(phi, sparse=sparse, seed=PHIS.index(phi))
        U, Y = drive(T_LONG, net.n_inputs, net.n_outputs)
        x0 = np.random.default_rng(7).uniform(-1, 1, net.N)
        ref = rs.simulate(net, U, x0, mode=mode, targets=Y)
        simulator, jax_params = to_jax(net)
        out = simulator(jax_params, U, x0, mode=mode, targets=Y)
        _RUNS[key] = (net, U, Y, x0, ref, out)
    return _RUNS[key]


def phi_np(name, x):
    return {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0),
            "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v))}[name](x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("phi", PHIS)
def test_first_step_is_the_euler_step(phi, mode):
    """x[1] from the export equals the Euler formula written out here, with the value fed
    back for time 0 (z[0] = W_out phi(x0) + b_out, y[0], or 0), and simulate's x[1]."""
    net, U, Y, x0, ref, out = run_both(phi, False, mode)
    r0 = phi_np(phi, x0)
    z0 = net.W_out @ r0 + net.b_out
    f0 = {"closed": z0, "teacher": Y[0], "open": np.zeros(net.n_outputs)}[mode]
    a = net.dt / net.tau
    x1 = (1 - a) * x0 + a * (net.J @ r0 + net.W_in @ U[0] + net.W_fb @ f0 + net.b)
    x = np.asarray(out.x)
    np.testing.assert_array_equal(x[0], x0)
    np.testing.assert_allclose(np.asarray(out.z)[0], z0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(x[1], x1, rtol=0, atol=1e-14)
    assert np.max(np.abs(x[1] - ref.x[1])) <= TOL


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("phi, sparse", [(phi, False) for phi in PHIS] + [("tanh", True)],
                         ids=[f"{phi}-dense" for phi in PHIS] + ["tanh-sparse"])
def test_thousand_steps_reproduce_simulate(phi, mode, sparse):
    """Every recorded array over 1,000 steps, and the final state, within 1e-12 (a sparse
    J is exported as its CSR values and summed by segments)."""
    net, U, Y, x0, ref, out = run_both(phi, sparse, mode)
    assert out.x.dtype == np.float64
    for name in ("x", "r", "z", "x_final"):
        got = np.asarray(getattr(out, name))
        want = getattr(ref, name)
        assert got.shape == want.shape, name
        assert np.max(np.abs(got - want)) <= TOL, (name, np.max(np.abs(got - want)))
    # the run is not trivial: the state moves, and the modes differ
    assert np.ptp(ref.x[:, 0]) > 0.1


@given(seed=st.integers(0, 2**16), phi=st.sampled_from(PHIS), mode=st.sampled_from(MODES),
       dt=st.floats(0.05, 1.0))
def test_any_contracting_network_reproduces_simulate(seed, phi, mode, dt):
    """Property: over random contracting networks, seeds and dt/tau in [0.05, 1] (alpha
    is traced, so no example recompiles), the export agrees with simulate to 1e-12."""
    net = contracting_network(phi, seed=seed, dt=dt)
    U, Y = drive(T_LONG, net.n_inputs, net.n_outputs, seed=seed + 1)
    simulator, jax_params = to_jax(net)
    ref = rs.simulate(net, U, mode=mode, targets=Y)
    out = simulator(jax_params, U, mode=mode, targets=Y)
    assert np.max(np.abs(np.asarray(out.x) - ref.x)) <= TOL
    assert np.max(np.abs(np.asarray(out.z) - ref.z)) <= TOL


def test_feedback_timing_differs_from_a_same_step_feedback():
    """The closed loop feeds back z[t] (not z[t+1] or a lagged value): a one-step delay in
    the fed-back value gives a trajectory the export does not match."""
    net, U, Y, x0, ref, out = run_both("tanh", False, "closed")
    a = net.alpha
    x, z_prev = x0.copy(), np.zeros(net.n_outputs)   # lagged variant: feeds back z[t-1]
    for t in range(5):
        r = np.tanh(x)
        z = net.W_out @ r + net.b_out
        x = (1 - a) * x + a * (net.J @ r + net.W_in @ U[t] + net.W_fb @ z_prev + net.b)
        z_prev = z
    assert np.max(np.abs(np.asarray(out.x)[5] - x)) > 1e-6


def test_batches_and_shared_x0_match_simulate():
    net = contracting_network("tanh", seed=3)
    rng = np.random.default_rng(4)
    U = rng.standard_normal((3, 50, net.n_inputs))
    Y = rng.standard_normal((3, 50, net.n_outputs))
    X0 = rng.uniform(-1, 1, (3, net.N))
    simulator, jax_params = to_jax(net)
    for mode in MODES:
        ref = rs.simulate(net, U, X0, mode=mode, targets=Y)
        out = simulator(jax_params, U, X0, mode=mode, targets=Y)
        assert np.asarray(out.x).shape == (3, 50, net.N)
        assert np.max(np.abs(np.asarray(out.x) - ref.x)) <= TOL
        assert np.max(np.abs(np.asarray(out.z) - ref.z)) <= TOL
    # one input sequence, a batch of initial states (broadcast like simulate)
    ref = rs.simulate(net, U[0], X0, mode="closed")
    out = simulator(jax_params, U[0], X0, mode="closed")
    assert np.max(np.abs(np.asarray(out.x_final) - ref.x_final)) <= TOL


def test_network_without_inputs_runs_n_steps():
    net = contracting_network("sigmoid", M=0, K=1, seed=5)
    simulator, jax_params = to_jax(net)
    ref = rs.simulate(net, None, np.full(net.N, 0.5), mode="closed", n_steps=200)
    out = simulator(jax_params, None, np.full(net.N, 0.5), mode="closed", n_steps=200)
    assert np.max(np.abs(np.asarray(out.x) - ref.x)) <= TOL


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_round_trip_is_bit_exact(sparse):
    net = contracting_network("relu", sparse=sparse, seed=6, dale=True)
    simulator, jax_params = to_jax(net)
    back = from_jax(jax_params, simulator)
    assert back == net
    assert back.is_sparse == net.is_sparse
    assert back.meta == net.meta and back.phi == net.phi
    assert back.tau == net.tau and back.dt == net.dt
    for name in ("W_in", "W_fb", "W_out", "b", "b_out", "dale_signs"):
        assert getattr(back, name).tobytes() == getattr(net, name).tobytes(), name
    if sparse:
        assert back.J.data.tobytes() == net.J.data.tobytes()
        np.testing.assert_array_equal(back.J.indices, net.J.indices)
        np.testing.assert_array_equal(back.J.indptr, net.J.indptr)
        assert jax_params["J_data"].shape == (net.J.nnz,)
    else:
        assert back.J.tobytes() == net.J.tobytes()


def test_gradient_matches_finite_differences_of_simulate():
    """jax.grad of a closed-loop loss through the export, against central differences of
    the same loss computed by reservoir.simulate (NumPy, independent of JAX)."""
    net = contracting_network("tanh", N=12, K=1, seed=8)
    U, Y = drive(60, net.n_inputs, 1, seed=9)
    simulator, jax_params = to_jax(net)

    def loss_jax(p):
        return ((simulator(p, U, mode="closed").z - Y) ** 2).mean()

    grads = jax.grad(loss_jax)(jax_params)

    def loss_np(W_out):
        tr = rs.simulate(net.with_readout(W_out, net.b_out), U, mode="closed")
        return np.mean((tr.z - Y) ** 2)

    h = 1e-6
    for j in (0, 5, 11):
        E = np.zeros_like(net.W_out)
        E[0, j] = h
        fd = (loss_np(net.W_out + E) - loss_np(net.W_out - E)) / (2 * h)
        assert abs(float(grads["W_out"][0, j]) - fd) <= 1e-7 * max(1.0, abs(fd))


def test_trained_parameters_come_back_as_a_network():
    """Change the parameters in JAX (a gradient step); the imported network, simulated by
    reservoir.simulate, reproduces the export run with the changed parameters."""
    net = contracting_network("tanh", N=12, K=1, seed=10)   # the shapes of the test above:
    U, Y = drive(60, net.n_inputs, 1, seed=11)              # no new compilation
    simulator, jax_params = to_jax(net)

    def loss(p):
        return ((simulator(p, U, mode="teacher", targets=Y).z - Y) ** 2).mean()

    grads = jax.grad(loss)(jax_params)
    new = jax.tree_util.tree_map(lambda p, g: p - 0.05 * g, jax_params, grads)
    assert loss(new) < loss(jax_params)
    back = from_jax(new, simulator)
    assert back != net
    out = simulator(new, U, mode="teacher", targets=Y)
    ref = rs.simulate(back, U, mode="teacher", targets=Y)
    assert np.max(np.abs(np.asarray(out.x) - ref.x)) <= TOL


def test_jit_and_vmap_of_the_pure_function():
    net = contracting_network("tanh", seed=12)
    U, _ = drive(30, net.n_inputs, net.n_outputs, seed=13)
    simulator, jax_params = to_jax(net)
    eager = simulator(jax_params, U, mode="closed").z
    jitted = jax.jit(lambda p: simulator(p, U, mode="closed").z)(jax_params)
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(eager))
    scales = jax.numpy.array([0.5, 1.0])
    per_scale = jax.vmap(lambda s: simulator(jax_params, s * U, mode="closed").z)(scales)
    np.testing.assert_allclose(np.asarray(per_scale[1]), np.asarray(eager), rtol=0,
                               atol=1e-14)


def test_float32_export_is_single_precision():
    net = contracting_network("tanh", seed=14)
    U, _ = drive(200, net.n_inputs, net.n_outputs, seed=15)
    simulator, jax_params = to_jax(net, dtype="float32")
    assert all(v.dtype == np.float32 for v in jax_params.values())
    out = simulator(jax_params, U, mode="closed")
    assert out.x.dtype == np.float32
    ref = rs.simulate(net, U, mode="closed")
    err = np.max(np.abs(np.asarray(out.x, dtype=np.float64) - ref.x))
    assert 0 < err <= 1e-5
    back = from_jax(jax_params, simulator)
    np.testing.assert_array_equal(back.W_in, net.W_in.astype(np.float32).astype(np.float64))


def test_float64_refused_while_x64_is_off():
    net = contracting_network("tanh", seed=16)
    simulator, jax_params = to_jax(net)
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            to_jax(net)
        with pytest.raises(ValueError, match="jax_enable_x64"):
            simulator(jax_params, n_steps=3, mode="open")
        s32, p32 = to_jax(net, dtype="float32")           # single precision still works
        assert s32(p32, n_steps=3, mode="open").x.dtype == np.float32
    finally:
        jax.config.update("jax_enable_x64", True)


def test_divergence_is_reported_at_the_same_step_as_simulate():
    N = 1   # one unit: simulate's test (the sum of the new state) is then per unit
    net = rs.Network(J=3.0 * np.eye(N), W_in=np.zeros((N, 1)), W_fb=np.zeros((N, 1)),
                     W_out=np.zeros((1, N)), b=np.zeros(N), phi="relu", tau=1.0, dt=1.0)
    x0 = np.ones(N)
    with pytest.raises(SimulationDivergedError) as ref:
        rs.simulate(net, None, x0, mode="open", n_steps=800)
    simulator, jax_params = to_jax(net)
    with pytest.raises(SimulationDivergedError) as got:
        simulator(jax_params, None, x0, mode="open", n_steps=800)
    assert got.value.step == ref.value.step and got.value.trial == 0


def test_bad_arguments_are_named():
    net = contracting_network("tanh", seed=17)
    simulator, jax_params = to_jax(net)
    U = np.zeros((5, net.n_inputs))
    with pytest.raises(TypeError, match="net"):
        to_jax("not a network")
    with pytest.raises(ValueError, match="dtype"):
        to_jax(net, dtype="float16")
    with pytest.raises(ValueError, match="mode"):
        simulator(jax_params, U, mode="feedback")
    with pytest.raises(TypeError, match="mode"):
        simulator(jax_params, U, mode=1)
    with pytest.raises(ValueError, match="inputs"):
        simulator(jax_params, np.zeros((5, net.n_inputs + 1)), mode="open")
    with pytest.raises(ValueError, match="targets"):
        simulator(jax_params, U, mode="teacher")
    with pytest.raises(ValueError, match="targets"):
        simulator(jax_params, U, mode="teacher", targets=np.zeros((4, net.n_outputs)))
    with pytest.raises(ValueError, match="x0"):
        simulator(jax_params, U, np.zeros(net.N + 1), mode="open")
    with pytest.raises(ValueError, match="batch sizes disagree"):
        simulator(jax_params, np.zeros((2, 5, net.n_inputs)), np.zeros((3, net.N)),
                  mode="open")
    with pytest.raises(ValueError, match="n_steps"):
        simulator(jax_params, None, mode="open")
    with pytest.raises(TypeError, match="jax_params"):
        simulator([1, 2], U, mode="open")
    with pytest.raises(ValueError, match="jax_params.*missing"):
        simulator({k: v for k, v in jax_params.items() if k != "b"}, U, mode="open")
    with pytest.raises(ValueError, match="jax_params\\['W_out'\\]"):
        simulator({**jax_params, "W_out": jax_params["W_out"].T}, U, mode="open")
    with pytest.raises(ValueError, match="inputs contains NaN"):
        simulator(jax_params, np.full((5, net.n_inputs), np.nan), mode="open")
    with pytest.raises(ValueError, match="x0 contains NaN"):
        simulator(jax_params, U, np.full(net.N, np.inf), mode="open")
    with pytest.raises(ValueError, match="jax_params\\['J'\\] contains NaN"):
        simulator({**jax_params, "J": jax_params["J"] * np.nan}, U, mode="open")
    with pytest.raises(TypeError, match="simulator"):
        from_jax(jax_params, "simulator")
    with pytest.raises(ValueError, match="NaN"):
        from_jax({**jax_params, "b": jax_params["b"] * np.nan}, simulator)
    assert isinstance(simulator, JaxSimulator) and "N=20" in repr(simulator)


def test_missing_jax_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "jax.numpy", None)
    with pytest.raises(ImportError, match=r"reservoir\[jax\]"):
        to_jax(contracting_network("tanh", N=4))


def test_interop_modules_import_their_library_lazily():
    """No top-level import of jax or torch in the interop modules (importing reservoir or
    reservoir.interop must not need them): every such import sits inside a function."""
    import ast
    import pathlib

    import reservoir.interop as interop
    root = pathlib.Path(interop.__file__).parent
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not [n for n in names if n.split(".")[0] in ("jax", "torch")], \
                f"{path.name} imports {names} at module level"
