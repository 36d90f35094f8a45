"""Progress bars (``progress=None/True/False``, tqdm on stderr) and the logging rules.

The bars must change no result bit: ``force`` runs its kernel over time chunks while a bar
is shown (state, ``P``, readout and pending downdate carried across), and is checked here
against the one-call run, for chunk edges inside an update period. The library never
prints and never configures logging (checked on the source's syntax tree).
"""

import ast
import functools
import logging
import pathlib

import numpy as np
import pytest

import reservoir as rs
from reservoir import _progress
from reservoir._kernels import rls
from reservoir.analysis import global_stability
from reservoir.train import _bptt, _force

PACKAGE = pathlib.Path(rs.__file__).parent
#: Command-line programs in the package (``reservoir ...``, ``python -m reservoir``, the
#: benchmark whose tables are its output): applications, which may write to standard
#: output and configure logging inside their functions (never when imported).
ENTRY_POINTS = {"cli.py", "__main__.py", "benchmark.py"}


# ----------------------------------------------------------------------- fixtures
def _force_case(K=1, M=1, T=61, N=12):
    net = rs.random_network(N, 1.3, M, K, dt=0.1, rng=4)
    rng = np.random.default_rng(5)
    U = rng.standard_normal((T, M))
    Y = np.sin(0.3 * np.arange(T))[:, None] * np.linspace(0.5, 1.0, K)[None, :]
    return net, U, Y


def _bptt_case():
    net = rs.random_network(8, 1.0, 1, 1, dt=1.0, rng=1)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((12, 6, 1))
    task = rs.tasks.Task(inputs=U, targets=np.cumsum(U, axis=1) * 0.2,
                         mask=np.ones((12, 6)), dt=1.0)
    return net, task


def _bistable_net():
    """J = 0, z = tanh(2 z): two stable points and a saddle (``test_global_stability``)."""
    return rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 0)),
                      W_fb=np.array([[2.0], [2.0]]), W_out=np.array([[0.5, 0.5]]),
                      b=np.zeros(2), phi="tanh", tau=1.0, dt=0.1)


def _tiny_sweep_func(g, rng):
    return np.array([g, rng.standard_normal()])


def _calls():
    """One cheap call of each function with a ``progress`` keyword, by name."""
    net, U, Y = _force_case()
    bnet, task = _bptt_case()
    snet = _bistable_net()
    return {
        "force": lambda p: rs.force(net, U, Y, update_every=3, rng=0, progress=p),
        "bptt": lambda p: rs.bptt(bnet, task, epochs=2, batch_size=6, lr=1e-2, rng=0,
                                  progress=p),
        "stability_report": lambda p: rs.stability_report(snet, n_init=20, duration=5.0,
                                                          lyapunov=False, rng=0,
                                                          progress=p),
        "sweep": lambda p: rs.sweep(_tiny_sweep_func, {"g": [0.5, 1.0]},
                                    n_realizations=2, rng=0, progress=p),
    }


NAMES = ["force", "bptt", "stability_report", "sweep"]
BARS = {"force": "force", "bptt": "bptt", "stability_report": "stability_report",
        "sweep": "sweep"}


# ----------------------------------------------------------------------- the rule
@pytest.mark.parametrize("value, want", [(None, None), (True, True), (False, False),
                                         (np.bool_(True), True), (np.bool_(False), False)])
def test_check_progress_accepts_none_and_booleans(value, want):
    got = _progress.check_progress(value)
    assert got is want


@pytest.mark.parametrize("bad", [1, 0, "yes", 0.5, np.int64(1), [True]])
def test_check_progress_refuses_everything_else(bad):
    with pytest.raises(TypeError, match="progress must be True or False"):
        _progress.check_progress(bad)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [1, "yes", 0.5])
def test_bad_progress_values_raise_type_error_naming_progress(name, bad, capfd):
    with pytest.raises(TypeError, match="progress must be True or False"):
        _calls()[name](bad)
    out, err = capfd.readouterr()
    assert out == "" and err == ""        # refused before any bar or work


@pytest.mark.parametrize("name", NAMES)
def test_progress_true_draws_a_tqdm_bar_on_stderr_only(name, capfd):
    _calls()[name](True)
    out, err = capfd.readouterr()
    assert out == ""
    assert f"{BARS[name]}:" in err and "|" in err and "\r" in err    # tqdm's drawing


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", [False, None])
def test_progress_false_and_default_off_a_terminal_write_nothing(name, value, capfd):
    """``None`` shows a bar only on a terminal: under pytest stderr is captured, not a
    terminal."""
    import sys
    assert not sys.stderr.isatty()
    _calls()[name](value)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_the_bar_is_tqdms_text_bar_also_in_notebooks():
    """``tqdm.std`` (text on stderr), not ``tqdm.auto``: a notebook bar writes its text to
    stdout and warns on import in a kernel without ipywidgets."""
    import tqdm.std
    with _progress.progress_bar(2, "demo", False) as bar:
        assert type(bar) is tqdm.std.tqdm


def test_progress_none_draws_on_a_terminal(monkeypatch, capfd):
    """The default follows ``isatty`` of standard error (a stand-in that says it is one)."""
    import sys

    class Terminal:
        def __init__(self, stream):
            self.stream = stream

        def isatty(self):
            return True

        def write(self, s):
            return self.stream.write(s)

        def flush(self):
            self.stream.flush()

    monkeypatch.setattr(sys, "stderr", Terminal(sys.stderr))
    with _progress.progress_bar(3, "demo", None) as bar:
        assert _progress.is_shown(bar)
        bar.update(3)
    monkeypatch.undo()
    assert "demo:" in capfd.readouterr().err
    with _progress.progress_bar(3, "demo", None) as bar:      # captured: not a terminal
        assert not _progress.is_shown(bar)


# ----------------------------------------------------------------------- what bars count
class _Recorder:
    """Wraps ``progress_bar`` in a module, keeping every bar and the counts it showed."""

    def __init__(self, monkeypatch, module):
        self.bars = []
        real = module.progress_bar

        def wrapped(*args, **kwargs):
            bar = real(*args, **kwargs)
            seen = [bar.n]          # the initial count (a disabled bar keeps n there)
            update = bar.update

            def recording_update(n=1):
                seen.append(seen[-1] + n)
                return update(n)
            bar.update = recording_update
            self.bars.append((bar, seen))
            return bar
        monkeypatch.setattr(module, "progress_bar", wrapped)


def test_stability_report_bar_counts_settled_starts(monkeypatch):
    rec = _Recorder(monkeypatch, global_stability)
    net = rs.random_network(30, 1.6, 0, 1, dt=0.1, rng=2)      # chaotic: some never settle
    n_init = 40
    rep = rs.stability_report(net, n_init=n_init, duration=4.0, chunk=1.0, lyapunov=False,
                              rng=0, progress=False)
    (bar, seen), = rec.bars
    assert bar.total == n_init and seen[-1] == n_init
    assert all(b >= a for a, b in zip(seen, seen[1:]))
    # before the last update: the settled or diverged trials, counted from the report
    settled = int(np.count_nonzero(rep.converged)) + rep.n_diverged
    assert seen[-2] <= settled
    assert len(seen) - 1 == rep.n_chunks + 1       # one update per chunk, one at the end


def test_bptt_bar_counts_epochs_with_the_loss_in_its_postfix(monkeypatch):
    rec = _Recorder(monkeypatch, _bptt)
    net, task = _bptt_case()
    res = rs.bptt(net, task, epochs=3, batch_size=6, lr=1e-2, rng=0, progress=False)
    (bar, seen), = rec.bars
    assert bar.total == 3 and seen == [0, 1, 2, 3]
    assert bar.postfix == f"loss {res.loss_history[-1]:.4g}"


def test_bptt_bar_starts_at_the_resumed_epoch_and_progress_is_no_checkpoint_option(
        monkeypatch, tmp_path):
    net, task = _bptt_case()
    path = tmp_path / "run.npz"
    rs.bptt(net, task, epochs=2, batch_size=6, lr=1e-2, rng=0, checkpoint=path,
            progress=False)
    rec = _Recorder(monkeypatch, _bptt)
    resumed = rs.bptt(net, task, epochs=4, batch_size=6, lr=1e-2, rng=0, checkpoint=path,
                      progress=True)          # another value of progress: still resumes
    (bar, seen), = rec.bars
    assert seen == [2, 3, 4]
    whole = rs.bptt(net, task, epochs=4, batch_size=6, lr=1e-2, rng=0)
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)


def test_force_bar_counts_every_step_of_every_trial(monkeypatch):
    rec = _Recorder(monkeypatch, _force)
    net, U, Y = _force_case(T=50)
    rs.force(net, [U[:20], U[20:]], [Y[:20], Y[20:]], rng=0, progress=False)
    (bar, seen), = rec.bars
    assert bar.total == 50 and seen == [0, 20, 50]     # one kernel call per trial


@pytest.mark.parametrize("dask", [False, True])
def test_sweep_bar_counts_completed_tasks(monkeypatch, tmp_path, dask):
    from reservoir import _sweep
    rec = _Recorder(monkeypatch, _sweep)
    grid = {"g": [0.5, 1.0, 1.5]}
    if dask:
        distributed = pytest.importorskip("distributed")
        with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                                dashboard_address=None) as client:
            res = rs.sweep(_tiny_sweep_func, grid, n_realizations=2, rng=3,
                           executor=client, progress=False)
    else:
        res = rs.sweep(_tiny_sweep_func, grid, n_realizations=2, rng=3, store=tmp_path,
                       progress=False)
    (bar, seen), = rec.bars
    assert bar.total == 6 and seen == list(range(7))
    serial = rs.sweep(_tiny_sweep_func, grid, n_realizations=2, rng=3, progress=False)
    np.testing.assert_array_equal(res.values, serial.values)
    if not dask:      # a re-run finds every task stored: the bar starts full
        rs.sweep(_tiny_sweep_func, grid, n_realizations=2, rng=3, store=tmp_path,
                 progress=False)
        assert rec.bars[-1][1] == [6]


# ----------------------------------------------------------------------- same bits
def _assert_same_bits(a, b):
    assert type(a) is type(b)
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, rs.Network):
            assert x == y, name
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=name, strict=True)
        elif hasattr(x, "__dataclass_fields__"):
            _assert_same_bits(x, y)
        elif isinstance(x, float) and np.isnan(x):
            assert isinstance(y, float) and np.isnan(y), name
        else:
            assert x == y, name


@pytest.mark.parametrize("case", [
    dict(mode="closed"),
    dict(mode="teacher", feedback_noise_std=0.05),
    dict(mode="closed", intercept=True, forgetting=0.999, K=2),
    dict(mode="teacher", intercept=True, step_offset=5),
    dict(mode="open", K=2),
])
@pytest.mark.parametrize("chunk", [1, 2, 7, 20])
def test_force_in_time_chunks_gives_the_same_bits(monkeypatch, case, chunk):
    """Chunks of 7 steps with updates every 3: edges inside update periods, the pending
    downdate carried across calls."""
    case = dict(case)
    K = case.pop("K", 1)
    net, U, Y = _force_case(K=K)
    kw = dict(update_every=3, rng=2, return_P=True, **case)
    one = rs.force(net, U, Y, progress=False, **kw)
    calls = []
    real = rls.force_run

    def counting(*args):
        calls.append(args[5].shape[0])     # the steps of this call (U's rows)
        return real(*args)
    monkeypatch.setattr(rls, "force_run", counting)
    monkeypatch.setattr(_force, "_PROGRESS_CHUNK", chunk)
    chunked = rs.force(net, U, Y, progress=True, **kw)
    assert calls == [min(chunk, U.shape[0] - a) for a in range(0, U.shape[0], chunk)]
    _assert_same_bits(one, chunked)
    assert one.n_updates > 5


def test_force_trials_in_time_chunks_give_the_same_bits(monkeypatch):
    net, U, Y = _force_case(T=45)
    Us, Ys = [U[:17], U[17:30], U[30:]], [Y[:17], Y[17:30], Y[30:]]
    for reset in (False, True):
        kw = dict(update_every=4, rng=1, return_P=True, reset_state=reset, intercept=True)
        one = rs.force(net, Us, Ys, progress=False, **kw)
        monkeypatch.setattr(_force, "_PROGRESS_CHUNK", 5)
        chunked = rs.force(net, Us, Ys, progress=True, **kw)
        monkeypatch.undo()
        _assert_same_bits(one, chunked)


def test_force_chunks_report_divergence_at_the_same_step(monkeypatch):
    N = 5
    blow = rs.Network(J=np.eye(N) * 1e300, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                      W_out=np.zeros((1, N)), b=np.zeros(N), phi="relu", dt=1.0, tau=1.0)
    monkeypatch.setattr(_force, "_PROGRESS_CHUNK", 1)
    with pytest.raises(rs.SimulationDivergedError) as info:
        rs.force(blow, None, np.zeros((10, 1)), x0=np.ones(N), progress=True)
    assert info.value.step == 1


def test_stability_report_same_bits_with_and_without_a_bar():
    net = rs.random_network(30, 1.6, 0, 1, dt=0.1, rng=2)
    kw = dict(n_init=30, duration=3.0, chunk=1.0, rng=5)
    _assert_same_bits(rs.stability_report(net, progress=False, **kw),
                      rs.stability_report(net, progress=True, **kw))


def test_bptt_and_sweep_same_bits_with_and_without_a_bar():
    net, task = _bptt_case()
    kw = dict(epochs=2, batch_size=6, lr=1e-2, rng=0)
    _assert_same_bits(rs.bptt(net, task, progress=False, **kw),
                      rs.bptt(net, task, progress=True, **kw))
    a = rs.sweep(_tiny_sweep_func, {"g": [1.0, 2.0]}, rng=1, progress=False)
    b = rs.sweep(_tiny_sweep_func, {"g": [1.0, 2.0]}, rng=1, progress=True)
    np.testing.assert_array_equal(a.values, b.values)


# ----------------------------------------------------------------------- logging
def test_long_work_logs_its_sizes_at_info(caplog):
    net, U, Y = _force_case(T=30)
    with caplog.at_level(logging.INFO, logger="reservoir"):
        res = rs.force(net, U, Y, update_every=2, rng=0, progress=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "reservoir.train._force"]
    assert any(f"N={net.N}" in m and "30 steps" in m for m in lines)
    assert any(f"{res.n_updates} RLS updates done" in m for m in lines)


# ----------------------------------------------------------------------- the source
@functools.lru_cache(maxsize=1)
def _modules():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    return tuple((p, ast.parse(p.read_text(encoding="utf-8"), filename=str(p)))
                 for p in files)


def _name(node) -> str:
    """Dotted name of a Name/Attribute chain ('' for anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _package_logger_call(node) -> bool:
    """``logging.getLogger(__name__)`` or ``logging.getLogger("reservoir...")``."""
    if not (isinstance(node, ast.Call) and _name(node.func).endswith("getLogger")
            and len(node.args) == 1):
        return False
    arg = node.args[0]
    return (isinstance(arg, ast.Name) and arg.id == "__name__") or (
        isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        and arg.value.split(".")[0] == "reservoir")


def _function_nodes(tree):
    """Nodes inside a function body (run when called, not on import)."""
    inside = set()
    for f in ast.walk(tree):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(n) for n in ast.walk(f))
    return inside


def test_no_library_module_prints_or_writes_to_stdout():
    bad = []
    for path, tree in _modules():
        if path.name in ENTRY_POINTS and path.parent == PACKAGE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in (
                    "print", "sys.stdout.write", "sys.__stdout__.write", "pprint.pprint"):
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not bad, f"library code prints: {bad}"


def test_nothing_configures_logging_or_adds_handlers_to_foreign_loggers():
    bad = []
    for path, tree in _modules():
        entry = path.name in ENTRY_POINTS and path.parent == PACKAGE
        in_function = _function_nodes(tree)
        package_names = set()           # names bound to the package's own loggers
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _package_logger_call(node.value):
                package_names.update(_name(t) for t in node.targets)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            name = _name(node.func)
            configures = name.endswith("basicConfig") or name.endswith("dictConfig") \
                or name.endswith("fileConfig")
            adds = isinstance(node.func, ast.Attribute) and node.func.attr in (
                "addHandler", "setLevel")
            if entry:       # an application may configure logging, only when it runs
                if (configures or adds) and id(node) not in in_function:
                    bad.append(where + " (configures logging on import)")
                continue
            if configures:
                bad.append(where + f" ({name})")
            elif adds and not (_name(node.func.value) in package_names
                               or _package_logger_call(node.func.value)):
                bad.append(where + f" ({name} on a logger that is not the package's)")
    assert not bad, f"library code configures logging: {bad}"


def test_log_messages_are_formatted_lazily():
    """``logger.info("... %d", n)``, never an f-string, ``%`` or ``.format`` (formatted
    even when the level is disabled)."""
    levels = {"debug", "info", "warning", "error", "critical", "exception", "log"}
    bad = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in levels and _name(node.func.value).endswith(
                        ("logger", "log", "logging")) and node.args):
                continue
            msg = node.args[1] if node.func.attr == "log" and len(node.args) > 1 \
                else node.args[0]
            eager = isinstance(msg, ast.JoinedStr) or (
                isinstance(msg, ast.BinOp) and isinstance(msg.op, ast.Mod)) or (
                isinstance(msg, ast.Call) and isinstance(msg.func, ast.Attribute)
                and msg.func.attr == "format")
            if eager:
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not bad, f"log messages formatted eagerly: {bad}"


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The syntax-tree checks find a print, a basicConfig and a foreign handler."""
    src = ("import logging, sys\nprint('x')\nsys.stdout.write('y')\n"
           "logging.basicConfig()\nlogging.getLogger().addHandler(None)\n"
           "logger = logging.getLogger(__name__)\nlogger.addHandler(logging.NullHandler())\n"
           "logger.info(f'{1}')\n")
    tree = ast.parse(src)
    calls = [_name(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert "print" in calls and "sys.stdout.write" in calls and "logging.basicConfig" in calls
    adds = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute) and n.func.attr == "addHandler"]
    assert [_package_logger_call(n.func.value) for n in adds] == [False, False]
    assert [_name(n.func.value) for n in adds] == ["", "logger"]
    assign = next(n for n in ast.walk(tree) if isinstance(n, ast.Assign))
    assert _package_logger_call(assign.value)
