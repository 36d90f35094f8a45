"""Process model (issue 13, item 7). Numba's default (GNU OpenMP) threading layer is kept
for speed; it is not fork-safe. Promised: (a) with the documented opt-in
``NUMBA_THREADING_LAYER=forksafe``, children forked by ``multiprocessing.Pool`` after
single-trial simulate / force / find_fixed_points in the parent run them too, with the
parent's results; (b) by default, a fork after a parallel kernel prints a clear message
saying why the child dies and what to do; a subprocess launched with ``subprocess`` (fork +
exec) does not. Run in subprocesses: a killed child must fail the test, not the run."""

import os
import subprocess
import sys
import textwrap

import pytest

DRIVER = """
import multiprocessing as mp, sys
import numpy as np
import reservoir as rs

net = rs.random_network(120, 1.3, 1, 1, rng=0)
u = np.sin(np.arange(300)[:, None] * 0.1)

def work(_):
    traj = rs.simulate(net, u, mode="open")
    fit = rs.force(net, u, np.cos(u), reg=1.0, rng=0)
    ran = True
    if sys.argv[1] == "fixed_points":
        ran = rs.find_fixed_points(net, n_seeds=4) is not None
    return (traj.x_final.tolist(), fit.network.W_out.tolist(), ran)

if __name__ == "__main__":
    here = work(0)                       # parallel kernels run in the parent first
    import numba
    print("layer", numba.threading_layer())
    with mp.get_context("fork").Pool(2) as pool:
        there = pool.map(work, range(2))
    print("same", all(t == here for t in there))
"""


@pytest.mark.parametrize("what", [
    "simulate_force", pytest.param("fixed_points", marks=pytest.mark.slow)])
def test_fork_pool_after_parallel_kernels_in_the_parent(what):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    env["NUMBA_THREADING_LAYER"] = "forksafe"
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(DRIVER), what], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.split("\n")
    assert "same True" in lines, proc.stdout + proc.stderr[-2000:]
    # without TBB the fork-safe layer is Numba's workqueue, with it TBB; never GNU OpenMP
    assert any(line in ("layer workqueue", "layer tbb") for line in lines)


FORK_DRIVER = """
import os, subprocess, sys
import numpy as np
import reservoir as rs

net = rs.random_network(120, 1.3, 1, 1, rng=0)
rs.simulate(net, np.zeros((50, 1)), mode="closed")        # a parallel kernel ran
import numba
print("layer", numba.threading_layer(), flush=True)
subprocess.run([sys.executable, "-c", "pass"], check=True)  # fork + exec: no message
print("after subprocess", flush=True)
sys.stderr.write("MARK before fork\\n"); sys.stderr.flush()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("done", flush=True)
"""


def test_fork_under_openmp_says_why_the_child_dies():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(FORK_DRIVER)], env=env,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout
    if "layer omp" not in out:
        pytest.skip(f"Numba's default layer here is not OpenMP: {out!r}")
    assert "done" in out, proc.stderr[-2000:]
    before, mark, after = proc.stderr.partition("MARK before fork")
    assert mark and "reservoir: this process runs" not in before   # not at fork + exec
    assert "not fork-safe" in after and "NUMBA_THREADING_LAYER=forksafe" in after
    assert proc.stderr.count("reservoir: this process runs Numba's OpenMP") == 1


POOL_DRIVER = """
import multiprocessing as mp
import numpy as np
import reservoir as rs

net = rs.random_network(100, 1.2, 1, 1, rng=0)

def work(_):
    return float(rs.simulate(net, np.zeros((20, 1)), mode="closed").z[-1, 0])

if __name__ == "__main__":
    work(0)                                      # OpenMP threads run in the parent
    import numba
    print("layer", numba.threading_layer(), flush=True)
    try:
        with mp.get_context("fork").Pool(2) as pool:
            pool.map_async(work, range(4)).get(timeout=60)
        print("no error", flush=True)
    except RuntimeError as exc:
        print("RuntimeError:", str(exc).splitlines()[0][:300], flush=True)
    except mp.TimeoutError:
        print("hang", flush=True)
"""


def test_fork_pool_after_openmp_fails_with_a_clear_error_not_a_hang():
    """``multiprocessing.Pool().map`` (fork) after a kernel ran in the parent: each child
    raises RuntimeError at its first kernel (GNU OpenMP would terminate it, and the pool
    would replace the dead workers for ever), so ``map`` raises in the parent."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(POOL_DRIVER)], env=env,
                          capture_output=True, text=True, timeout=200)
    out = proc.stdout
    if "layer omp" not in out:
        pytest.skip(f"Numba's default layer here is not OpenMP: {out!r}")
    assert "RuntimeError: reservoir: this process was forked" in out, out + proc.stderr[-2000:]
