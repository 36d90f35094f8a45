"""The benchmark program (``reservoir.benchmark``): every peer computes what our public
function computes (the ratios are only meaningful then), the driver's columns and
environments, and a tiny end-to-end run.

The peers are independent implementations (JAX's ``lax.scan`` and autodiff, SciPy's sparse
product and BLAS routines) of the model written in README.md, so each agreement below is
also a check of our kernels against a second implementation.
"""

import json

import numpy as np
import pytest

import reservoir as rs
from reservoir import benchmark as bm

jax = pytest.importorskip("jax")     # installed by the dev extra: these tests run in CI


@pytest.fixture
def x64():
    """JAX in float64 for one test (the benchmark sets it in its measuring process)."""
    before = jax.config.read("jax_enable_x64")
    assert bm.enable_jax_x64()
    yield
    jax.config.update("jax_enable_x64", before)


def _net(N=40, g=1.5, density=1.0, M=1, seed=0):
    net = rs.random_network(N, g, M, 1, dt=0.1, density=density, bias_scale=0.3, rng=seed)
    return net.with_readout(np.random.default_rng(seed + 1).standard_normal((1, N)) / N)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b)) / np.max(np.abs(a))


# ------------------------------------------------------------------------------ peers

def test_jax_single_trial_step_equals_simulate_in_float64(x64):
    net = _net(N=40, M=2)
    rng = np.random.default_rng(3)
    U, x0 = rng.standard_normal((60, 2)), rng.standard_normal(40)
    ours = rs.simulate(net, U, x0, mode="open", record=("z",)).z
    peer = np.asarray(bm.jax_simulate_open(net.J, net.W_in, net.b, net.W_out, net.alpha,
                                           U, x0)())
    assert peer.shape == ours.shape
    assert _rel(ours, peer) < 1e-12           # rounding only (60 steps, two BLAS orders)


def test_jax_batched_step_equals_simulate(x64):
    net = _net(N=30)
    rng = np.random.default_rng(4)
    U, X0 = rng.standard_normal((5, 40, 1)), rng.standard_normal((5, 30))
    ours = rs.simulate(net, U, X0, mode="open", record=("z",)).z          # (B, T, K)
    peer = np.asarray(bm.jax_simulate_open(net.J, net.W_in, net.b, net.W_out, net.alpha,
                                           U, X0)())                     # (T, B, K)
    assert _rel(ours, peer.transpose(1, 0, 2)) < 1e-12
    # float32: single-precision rounding, far from a wrong model (which differs at O(1))
    p32 = np.asarray(bm.jax_simulate_open(net.J, net.W_in, net.b, net.W_out, net.alpha,
                                          U, X0, dtype=np.float32)())
    assert p32.dtype == np.float32
    assert 1e-9 < _rel(ours, p32.transpose(1, 0, 2)) < bm.TOL_F32


def test_csr_loop_equals_simulate_on_a_sparse_network():
    net = _net(N=150, density=0.1)
    assert net.is_sparse
    rng = np.random.default_rng(5)
    U, x0 = rng.standard_normal((50, 1)), rng.standard_normal(150)
    ours = rs.simulate(net, U, x0, mode="open", record=("z",)).z
    peer = bm.scipy_csr_open(net.J, net.W_in, net.b, net.W_out, net.alpha, U, x0)
    assert _rel(ours, peer) < 1e-12


def test_csr_batch_loop_equals_simulate_on_a_sparse_network():
    """The batched scipy.sparse peer (states (N, B), one CSR times dense product per
    step) computes the readouts of ``simulate`` for every trial."""
    net = _net(N=120, density=0.1)
    assert net.is_sparse
    rng = np.random.default_rng(8)
    U, X0 = rng.standard_normal((5, 40, 1)), rng.standard_normal((5, 120))
    ours = rs.simulate(net, U, X0, mode="open", record=("z",)).z
    peer = bm.scipy_csr_open_batch(net.J, net.W_in, net.b, net.W_out, net.alpha, U, X0)
    assert peer.shape == ours.shape
    assert _rel(ours, peer) < 1e-12


@pytest.mark.parametrize("density", [1.0, 0.1])
def test_scipy_blas_force_loop_equals_force(density):
    """Same readout and same ``P`` (updates from step 1, every step, closed loop), with a
    dense ``J`` (``dgemv``) and a scipy.sparse one (its CSR product)."""
    net = _net(N=60, M=1, density=density)
    assert net.is_sparse == (density < 1)
    net = net.with_readout(np.zeros((1, 60)))
    task = rs.tasks.sine_sum(duration=8.0, dt=0.1)
    U, Y = task.inputs, task.targets
    x0 = np.random.default_rng(6).standard_normal(60)
    res = rs.force(net, U, Y, reg=0.5, update_every=1, x0=x0, return_P=True)
    w, P = bm.scipy_force(net.J, net.W_in, net.W_fb, net.b, net.W_out, net.alpha, U, Y,
                          x0, 0.5)
    assert res.n_updates == U.shape[0] - 1
    assert _rel(res.network.W_out, w) < 1e-10
    assert _rel(res.P, P) < 1e-10


def test_jax_loss_and_gradients_equal_ours(x64):
    task = rs.tasks.xor(16, noise_std=0.1, rng=1)
    net = rs.random_network(12, 1.0, 2, 1, tau=1.0, dt=task.dt, bias_scale=0.2, rng=2)
    net = net.with_readout(np.random.default_rng(3).uniform(-0.3, 0.3, (1, 12)))
    mask = np.random.default_rng(4).uniform(0.0, 1.0, task.inputs.shape[:2])
    loss, grads = rs.train.loss_and_gradients(net, task.inputs, task.targets, mask)
    lj, gj = bm.jax_xor_loss(net.J, net.W_in, net.b, net.W_out, task.inputs, task.targets,
                             mask, net.alpha)
    assert abs(loss - lj) <= 1e-12 * abs(loss)
    for k in ("J", "W_in", "b", "W_out"):
        assert _rel(grads[k], gj[k]) < 1e-10, k


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_jax_bptt_epoch_equals_bptt(x64, dtype, tol):
    """Same shuffle, same Adam steps: same mini-batch losses and trained parameters."""
    task = rs.tasks.xor(3 * 16, noise_std=0.1, rng=0)
    net = rs.random_network(10, 1.0, 2, 1, tau=2.0, dt=task.dt, rng=0)   # alpha = 1/2
    net = net.with_readout(np.random.default_rng(1).uniform(-0.3, 0.3, (1, 10)))
    res = rs.bptt(net, task, epochs=1, batch_size=16, lr=1e-2, dtype=dtype, rng=5)
    losses, params = bm.jax_bptt_epoch(net, task, batch_size=16, lr=1e-2, dtype=dtype,
                                       rng=5)()
    assert losses.shape == (3,) and res.batch_losses.shape == (3,)
    assert _rel(res.batch_losses, losses) < tol
    moved = res.network.J - net.J
    assert np.max(np.abs(moved)) > 1e-3            # lr = 1e-2: the parameters did move
    for k in ("J", "W_in", "b", "W_out"):
        assert _rel(getattr(res.network, k), params[k]) < max(tol, 1e-9), k


# ------------------------------------------------------------------------- the driver

def test_a_disagreeing_peer_gets_no_ratio():
    clock = bm._Clock("one-core")
    times, out = bm._alternate(clock, {"ours": lambda: np.ones(5),
                                       "peer": lambda: np.ones(5) * (1 + 1e-3)}, 1)
    ok, err = bm._agree(out["ours"], out["peer"], bm.TOL_F64)
    assert not ok and err == pytest.approx(1e-3)
    row = bm._row("force", "x", N=10, B=1, ours=1.0, unit="us", bytes_per_step=800,
                  bound=0.5, bound_kind="bandwidth", roof_rate=1.6e3)
    bm._peer_fields(row, "p", times["ours"], times["peer"], ok, err, bm.TOL_F64, 1e6)
    assert row["ratio"] is None
    text = bm.format_table("force", [row], "label")
    assert "DISAGREE" in text
    ok, err = bm._agree(out["ours"], out["ours"] * (1 + 1e-9), bm.TOL_F64)
    assert ok
    ok, err = bm._agree(np.ones(3), np.array([1.0, np.nan, 1.0]), bm.TOL_F64)
    assert not ok
    bm._peer_fields(row, "p", 1.0, 1.0, ok, err, bm.TOL_F64, 1.0)
    assert row["ratio"] is None and row["max_rel_diff"] is None
    assert "DISAGREE" in bm.format_table("force", [row], "label")


def test_one_core_environment_and_the_override_column(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1048576")
    env = bm._child_env("one-core", True)
    assert all(env[k] == "1" for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                       "OPENBLAS_NUM_THREADS"))
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    env = bm._child_env("two-core", False)
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env.get("NUMBA_NUM_THREADS") == __import__("os").environ.get("NUMBA_NUM_THREADS")

    calls = []

    def fake_child(mode, column, sections, args, env):
        calls.append((mode, column, sections, env.get("OPENBLAS_CORETYPE"),
                      env.get("OPENBLAS_NUM_THREADS")))
        return {"mode": mode, "column": column, "rows": []}
    monkeypatch.setattr(bm, "_run_child", fake_child)
    assert bm.main(["--size", "tiny", "--only", "force,batch", "--mode", "both"]) == 0
    one = bm.ONE_CORE_ENV["OPENBLAS_NUM_THREADS"]
    threads = __import__("os").environ.get("OPENBLAS_NUM_THREADS")
    assert calls == [("one-core", "set", ["batch", "force"], "Haswell", one),
                     ("one-core", "unset", ["batch"], None, one),
                     ("two-core", "set", ["batch", "force"], "Haswell", threads),
                     ("two-core", "unset", ["batch"], None, threads)]
    calls.clear()
    assert bm.main(["--size", "tiny", "--only", "bptt,sparse", "--mode", "two-core",
                    "--blas-override", "unset"]) == 0
    assert calls == [("two-core", "set", ["sparse"], "Haswell", threads),
                     ("two-core", "unset", ["bptt"], None, threads)]


@pytest.mark.parametrize("argv", [["--only", "nonsense"], ["--only", "dense,fft"],
                                  ["--only", ""], ["--repeats", "0"], ["--repeats", "x"],
                                  ["--mode", "three-core"], ["--blas-override", "maybe"],
                                  ["--quick", "--size", "full"], ["--size", "huge"],
                                  ["--unknown"]])
def test_bad_options_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bm.main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_unwritable_json_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    """A --json path that cannot be written exits 2 naming --json before anything runs."""
    monkeypatch.setattr(bm, "_header", lambda *a: pytest.fail("the run started"))
    with pytest.raises(SystemExit) as exc:
        bm.main(["--size", "tiny", "--json", str(tmp_path / "missing" / "x.json")])
    assert exc.value.code == 2
    assert "--json" in capsys.readouterr().err


def test_tiny_run_prints_header_and_tables_and_writes_json(tmp_path, capfd):
    path = tmp_path / "bench.json"
    status = bm.main(["--size", "tiny", "--repeats", "1", "--only", "force,phase_diagram",
                      "--mode", "one-core", "--json", str(path)])
    out = capfd.readouterr().out          # the tables come from the measuring process
    assert status == 0
    for text in ("CPU:", "versions:", "numpy", "environment:", "load average",
                 "FORCE step vs the SciPy", "phase_diagram", "Summary"):
        assert text in out, text
    def no_constants(name):
        raise AssertionError(f"{name} is not valid JSON")
    data = json.loads(path.read_text(), parse_constant=no_constants)
    h = data["header"]
    for key in ("cpu_model", "cores", "load_average_start", "load_average_end", "versions",
                "blas", "environment", "date", "command"):
        assert key in h, key
    assert h["versions"]["numpy"] == np.__version__
    (col,) = data["columns"]
    assert col["mode"] == "one-core" and len(col["affinity"]) == 1
    assert col["environment"]["OPENBLAS_NUM_THREADS"] == "1"
    force = [r for r in col["rows"] if r["section"] == "force"]
    assert len(force) == 1 and force[0]["agree"] and force[0]["ratio"] > 0
    assert force[0]["bound"] > 0 and force[0]["roof_rate"] > 0
    # the printed ratio is the JSON's: ours / peer of the same medians
    assert force[0]["ratio"] == pytest.approx(force[0]["ours"] / force[0]["peer_time"])
    (phase,) = [r for r in col["rows"] if r["section"] == "phase_diagram"]
    assert phase["ours"] > 0 and phase["goal"] == bm.GOALS["phase_diagram"]


def test_a_failing_section_is_reported_and_the_others_kept(tmp_path, monkeypatch, capsys,
                                                           x64):
    def broken(ctx):
        raise RuntimeError("boom")

    def fine(ctx):
        return [bm._row("fixed_points", "w", N=3, B=1, ours=0.1, unit="s", n_found=1,
                        goal=2.0)]
    monkeypatch.setitem(bm._SECTION_FUNCS, "phase_diagram", broken)
    monkeypatch.setitem(bm._SECTION_FUNCS, "fixed_points", fine)
    path = tmp_path / "child.json"
    assert bm._child_main("two-core", "as-is", str(path), ["phase_diagram", "fixed_points"],
                          "tiny", 1) == 0
    out = capsys.readouterr().out
    assert "FAILED: RuntimeError: boom" in out and "find_fixed_points" in out
    res = json.loads(path.read_text())
    assert [r["section"] for r in res["rows"]] == ["fixed_points"]
    assert any("section phase_diagram failed" in n for n in res["notes"])


@pytest.mark.parametrize("result, status", [
    ({"rows": [], "notes": []}, 0),
    ({"rows": [], "notes": ["section force failed: RuntimeError: boom"]}, 1),
    ({"rows": [], "notes": [], "failed": "exit status -9"}, 1),
    (None, 1)])
def test_exit_status_says_whether_every_section_ran(result, status, monkeypatch):
    def fake_child(mode, column, sections, args, env):
        return None if result is None else {"mode": mode, "column": column, **result}
    monkeypatch.setattr(bm, "_run_child", fake_child)
    assert bm.main(["--size", "tiny", "--only", "force", "--mode", "one-core"]) == status


def test_a_missing_peer_prints_a_dash_and_a_note():
    ctx = bm._Context("two-core", bm.GRIDS["tiny"], 1)
    ctx.has_jax = ctx.has_rpy = False
    rows = bm.section_dense(ctx)
    assert [r["peer"] for r in rows] == ["JAX f64", "JAX f32"]
    for r in rows:
        assert r["ratio"] is None and r["peer_time"] is None and r["ours"] > 0
        assert r["note"] == "JAX not installed"
    line = bm.format_table("dense", rows, "label").splitlines()[2]
    assert "JAX not installed" in line and " - " in line


def test_rows_are_held_to_the_issue_goals():
    row = bm._row("sparse", "x", N=1000, B=1, ours=1.0, unit="us", bytes_per_step=8,
                  bound=0.5, bound_kind="bandwidth", roof_rate=16e6)
    bm._peer_fields(row, "scipy.sparse loop", 0.6, 1.0, True, 1e-15, bm.TOL_F64, 1.0)
    assert row["goal_ratio"] == pytest.approx(1 / 1.5)
    assert "<=0.67 yes" in bm.format_table("sparse", [row], "l")
    bm._peer_fields(row, "scipy.sparse loop", 0.7, 1.0, True, 1e-15, bm.TOL_F64, 1.0)
    assert "<=0.67 NO" in bm.format_table("sparse", [row], "l")
    # FORCE rows (dense and sparse): the ratio goal, or within 10 % of the bandwidth bound
    for section, peer, goal in (("sparse", "SciPy csr+dsymv+dsyr", "<=0.67"),
                                ("force", "SciPy dgemv+dsymv+dsyr", "<=0.87")):
        row = bm._row(section, "x", N=1000, B=1, ours=181.6, unit="us", bytes_per_step=8,
                      bound=177.9, bound_kind="bandwidth", roof_rate=16e6)
        bm._peer_fields(row, peer, 181.6, 200.0, True, 1e-15, bm.TOL_F64, 1.0)
        table = bm.format_table(section, [row], "l")
        assert f"{goal} yes(b)" in table and "ours within 1.1x the bandwidth bound" in table
        row["bound"] = 150.0                                    # 1.21x the bound
        assert f"{goal} NO" in bm.format_table(section, [row], "l")
        bm._peer_fields(row, peer, 100.0, 250.0, True, 1e-15, bm.TOL_F64, 1.0)
        assert f"{goal} yes" in bm.format_table(section, [row], "l")
    goal = [bm._row("stability", "x", N=250, B=200, ours=0.2, unit="s", goal=5.0)]
    assert "the goal is for N = 1000, 1000 starts" in bm.format_table("stability", goal, "l")
    goal = [bm._row("stability", "x", N=1000, B=1000, ours=6.0, unit="s", goal=5.0)]
    assert bm.format_table("stability", goal, "l").splitlines()[-1].endswith("NO")
