"""The sweep store under kills, corruption and concurrent runs; worker processes (issue 13,
items 6 and 8). Kills and concurrent runs happen in a subprocess (which forks one child
per case) so that they cannot take the test run down."""

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import reservoir as rs
from reservoir import _sweep
from sweep_funcs import counting

TESTS = os.path.dirname(os.path.abspath(__file__))
GRID = {"g": [0.1, 0.2, 0.3, 0.4, 0.5]}       # 5 points x 2 realisations = 10 tasks


def _python(code, *args, timeout=120):
    env = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _reference(tmp_path):
    log = tmp_path / "reflog"
    log.mkdir()
    return rs.sweep(functools.partial(counting, log_dir=str(log)), GRID, 2, rng=3).values


def _calls(log_dir):
    """value -> number of calls that produced it (from counting's log file names)."""
    out = {}
    for name in os.listdir(log_dir):
        value = float(name.split("_")[3])
        out[value] = out.get(value, 0) + 1
    return out


FAULTS = [("manifest:partial", 1), ("manifest:written", 1), ("manifest:done", 1),
          ("claim:partial", 1), ("claim:written", 3), ("claim:done", 2),
          ("task:partial", 1), ("task:written", 4), ("task:done", 3)]

KILL_DRIVER = """
import functools, json, os, sys
import reservoir as rs
from reservoir import _sweep
from sweep_funcs import counting
base, cases = sys.argv[1], json.loads(sys.argv[2])
grid = {"g": [0.1, 0.2, 0.3, 0.4, 0.5]}
out = {}
for i, (point, nth) in enumerate(cases):
    store, log = os.path.join(base, f"s{i}"), os.path.join(base, f"l{i}")
    os.makedirs(log)
    pid = os.fork()
    if pid == 0:
        hits = [0]
        def fault(p):
            if p == point:
                hits[0] += 1
                if hits[0] == nth:
                    os._exit(17)
        _sweep._fault = fault
        rs.sweep(functools.partial(counting, log_dir=log), grid, 2, rng=3, store=store)
        os._exit(0)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    done = sorted(int(f[5:13]) for f in os.listdir(store) if f.startswith("task_")) \\
        if os.path.isdir(store) else []
    res = rs.sweep(functools.partial(counting, log_dir=log), grid, 2, rng=3, store=store)
    out[f"{point}/{nth}"] = dict(status=status, done=done, values=res.values.ravel().tolist(),
                                 leftovers=sorted(f for f in os.listdir(store)
                                                  if f.startswith("claim_")))
print(json.dumps(out))
"""


def test_kills_at_every_write_point_then_resume_give_the_same_bits(tmp_path):
    ref = _reference(tmp_path).ravel()
    proc = _python(KILL_DRIVER, str(tmp_path), json.dumps(FAULTS))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(out) == len(FAULTS)
    for i, (point, nth) in enumerate(FAULTS):
        case = out[f"{point}/{nth}"]
        assert case["status"] == 17, (point, nth, case["status"])      # killed there
        # the resumed sweep gives exactly the bits of an uninterrupted one
        assert case["values"] == ref.tolist(), (point, nth)
        # no task that was complete at the kill was computed again; every task once at least
        calls = _calls(tmp_path / f"l{i}")
        assert set(calls) == set(ref.tolist())
        for k in case["done"]:
            assert calls[ref[k]] == 1, (point, nth, k)
        # the tasks done before the kill match the fault point
        if point.startswith("manifest"):
            assert case["done"] == []
        assert case["leftovers"] == []                  # the resumed run released its claims


CONCURRENT_DRIVER = """
import functools, json, os, sys
import numpy as np
import reservoir as rs
from sweep_funcs import slow_counting
store, log = sys.argv[1], sys.argv[2]
grid = {"g": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}
r, w = os.pipe()
kids = []
for i in range(2):
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)                                    # start together
        res = rs.sweep(functools.partial(slow_counting, log_dir=log), grid, 2, rng=5,
                       store=store)
        np.save(os.path.join(store, f"..result_{i}.npy"), res.values)
        os._exit(0)
    kids.append(pid)
os.write(w, b"go")
print(json.dumps([os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]))
"""


def test_two_concurrent_runs_on_one_store_split_the_work(tmp_path):
    store, log = tmp_path / "store", tmp_path / "log"
    store.mkdir()
    log.mkdir()
    proc = _python(CONCURRENT_DRIVER, str(store), str(log))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [0, 0]
    reflog = tmp_path / "reflog"
    reflog.mkdir()
    ref = rs.sweep(functools.partial(counting, log_dir=str(reflog)),
                   {"g": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}, 2, rng=5).values
    for i in range(2):
        np.testing.assert_array_equal(np.load(store / f"..result_{i}.npy"), ref)
    names = os.listdir(log)
    calls = _calls(log)
    assert set(calls) == set(ref.ravel().tolist())
    assert all(n == 1 for n in calls.values()), calls     # each task computed once in all
    pids = {name.split("_")[2] for name in names}
    assert len(pids) == 2                                  # and both runs did some of them
    assert not [f for f in os.listdir(store) if f.startswith("claim_")]


def test_truncated_or_corrupt_task_files_are_recomputed(tmp_path):
    store, log = tmp_path / "store", tmp_path / "log"
    log.mkdir()
    f = functools.partial(counting, log_dir=str(log))
    first = rs.sweep(f, GRID, 2, rng=3, store=store).values
    paths = sorted(store.glob("task_*.npz"))
    assert len(paths) == 10
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[: len(data) // 2])                    # truncated
    data = bytearray(paths[5].read_bytes())
    with zipfile.ZipFile(paths[5]) as zf:                           # one bit of the value
        info = zf.getinfo("value.npy")
    pos = info.header_offset + 30 + len(info.filename) + info.file_size - 1
    data[pos] ^= 0x01
    paths[5].write_bytes(bytes(data))
    paths[7].write_bytes(b"")                                       # empty
    assert _sweep._load_task(paths[5]) is None                      # the CRC catches it
    log2 = tmp_path / "log2"
    log2.mkdir()
    again = rs.sweep(functools.partial(counting, log_dir=str(log2)), GRID, 2, rng=3,
                     store=store).values
    np.testing.assert_array_equal(again, first)
    flat = first.ravel().tolist()
    assert sorted(flat.index(v) for v in _calls(log2)) == [2, 5, 7]   # only those again


def test_stale_claims_of_dead_processes_are_taken_over(tmp_path):
    store = tmp_path / "store"
    log = tmp_path / "log"
    log.mkdir()
    f = functools.partial(counting, log_dir=str(log))
    store.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    host = _sweep.socket.gethostname()
    (store / "claim_00000001").write_text(json.dumps({"host": host, "pid": int(dead),
                                                      "start": "1", "run": "x"}))
    (store / "claim_00000002").write_text("{not json")
    res = rs.sweep(f, GRID, 2, rng=3, store=store)
    np.testing.assert_array_equal(res.values, _reference(tmp_path))
    assert not list(store.glob("claim_*"))
    # a live foreign claim is waited for, not taken: here it is taken once it is old
    (store / "claim_00000003").write_text(json.dumps({"host": "elsewhere", "pid": 1,
                                                      "start": None, "run": "y"}))
    claims = _sweep._Claims(str(store))
    assert not claims.free(3)
    old = time.time() - _sweep.FOREIGN_CLAIM_S - 10
    os.utime(store / "claim_00000003", (old, old))
    assert claims.free(3) and claims.take(3)
    claims.release_all()


def test_unreadable_manifest_is_refused_with_a_message(tmp_path):
    (tmp_path / "sweep.json").write_text('{"grid": {"g": ["0.1"')
    with pytest.raises(ValueError, match="sweep.json is not a readable sweep manifest"):
        rs.sweep(counting, GRID, 2, rng=3, store=tmp_path)


MAIN_DRIVER = """
import os, sys, time, numpy as np
import reservoir as rs

def f(g, rng):                       # defined in __main__: the workers cannot import it
    return np.array([g, rng.standard_normal(), float(os.getpid())])

res = rs.sweep(f, {"g": [0.5, 1.5]}, 2, rng=9, executor="processes")
print(repr(res.values[..., :2].ravel().tolist()))
print(len(set(res.values[..., 2].ravel().tolist()) - {float(os.getpid())}) > 0)
"""


def test_a_function_defined_in_main_runs_on_processes():
    proc = _python(MAIN_DRIVER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    seeds = np.random.SeedSequence(9).spawn(4)
    want = []
    for k, g in enumerate([0.5, 0.5, 1.5, 1.5]):
        want += [g, np.random.default_rng(seeds[k]).standard_normal()]
    assert eval(lines[-2]) == want                      # same seeds, same bits
    assert lines[-1] == "True"                          # computed in other processes


def test_a_function_that_cannot_be_sent_fails_at_once():
    import threading
    lock = threading.Lock()

    def f(g, rng):
        with lock:
            return g
    with pytest.raises(TypeError, match="cannot be sent to worker processes"):
        rs.sweep(f, {"g": [1.0]}, executor="processes")


KILL_PARENT = """
import functools, sys
import reservoir as rs
from sweep_funcs import sleepy
rs.sweep(functools.partial(sleepy, log_dir=sys.argv[1]), {"g": [1, 2, 3, 4]},
         executor="processes")
"""


@pytest.mark.slow
def test_killing_the_parent_leaves_no_worker(tmp_path):
    env = dict(os.environ, PYTHONPATH=TESTS)
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILL_PARENT),
                               str(tmp_path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("pid_*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = [int(p.name[4:]) for p in tmp_path.glob("pid_*")]
        assert pids
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()

    def alive(pid):
        try:                                            # a zombie is dead too
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in pids)


@pytest.mark.parametrize("how", ["stdin", "unguarded_script"])
def test_a_main_function_runs_on_processes_from_stdin_and_from_an_unguarded_script(
        how, tmp_path):
    """Workers do not re-run the parent's script: it works when the script is read from
    standard input (there is no file to run) and when it has no ``__main__`` guard (the
    workers would start the sweep again)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(TESTS), TESTS]))
    script = textwrap.dedent(MAIN_DRIVER)
    if how == "stdin":
        proc = subprocess.run([sys.executable, "-"], input=script, env=env,
                              capture_output=True, text=True, timeout=240, cwd=tmp_path)
    else:
        path = tmp_path / "unguarded.py"
        path.write_text(script)
        proc = subprocess.run([sys.executable, str(path)], env=env, capture_output=True,
                              text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    seeds = np.random.SeedSequence(9).spawn(4)
    want = []
    for k, g in enumerate([0.5, 0.5, 1.5, 1.5]):
        want += [g, np.random.default_rng(seeds[k]).standard_normal()]
    assert eval(lines[-2]) == want and lines[-1] == "True"
    assert len(lines) == 2                               # the sweep ran once
