"""Parameter sweeps over many network realisations: in process, on local processes, on any
``concurrent.futures.Executor`` or on a Dask cluster, with reproducible seeds and bits and
resumable on-disk results.

Every (grid point, realisation) is one *task* with a flat index ``k`` in C order over the
grid dimensions (in the order of ``grid``'s keys) and then ``realization``. Its random
generator is ``default_rng(SeedSequence(root).spawn(n_tasks)[k])``: the results do not depend
on how the work is split or in which order it finishes.

Threads. Every task runs with a thread budget (``threads_per_task``, default 1): Numba's
parallel kernels started by the task (``numba.set_num_threads``) and every BLAS/OpenMP
library of its process (``threadpoolctl``) use at most that many threads
(:func:`reservoir._kernels.blas_threads.thread_budget`). Results of LAPACK solves and of
Numba reductions depend on the thread count, so the same budget everywhere makes a sweep
bit-identical in process, on processes and on Dask; one thread per task and one task per
core is also the fastest way to fill the cores (no oversubscription). With Numba's
"workqueue" threading layer (not thread-safe, see :mod:`reservoir._kernels`) tasks that
share a process (a thread-pool executor, a Dask worker with several threads) run one at a
time.

Store. With ``store=DIR`` each finished task is written to ``DIR/task_<k>.npz`` (a zip
member with a CRC-32) through a temporary file, ``fsync`` and an atomic rename, so a file
with a task's name is always complete; one that is truncated or corrupt all the same is
computed again. ``DIR/sweep.json`` (the manifest: grid, realisations, seed, function name)
is written the same way and created exclusively, so an interrupted write never leaves a
partial manifest. A re-run of the same sweep computes only the tasks without a valid file.
Before computing task ``k`` a run *claims* it by creating ``DIR/claim_<k>`` exclusively
(holding its host, pid and process start time): two runs on one store split the work, and
each waits for the tasks the other claimed. A claim is stale, and taken over, when its
process no longer runs (same host) or, for another host (a shared file system), when it is
older than ``FOREIGN_CLAIM_S`` seconds.

Processes. ``executor="processes"`` starts one worker per ``threads_per_task`` cores with
"spawn" (forking a process whose OpenMP threads have run is not safe); each worker exits
as soon as the parent process dies (it waits on the parent's sentinel), so killing a sweep
leaves no worker behind (a worker in a task that holds the GIL exits when the task
ends). ``func`` is sent to the workers by value with ``cloudpickle`` where it cannot be
imported there (a function defined in a notebook, ``python -c`` or a script read from
standard input: ``__main__``), and by reference otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable
from typing import Any

import collections
import collections.abc
import concurrent.futures
import contextlib
import functools
import io
import itertools
import json
import logging
import os
import pickle
import socket
import sys
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from ._checks import as_int, check_memory
from ._checks import RngLike
from ._progress import check_progress, progress_bar
from ._results import ResultMixin

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import xarray

    from .network import Network

logger = logging.getLogger(__name__)

#: Bytes of bookkeeping per task held before any task runs (its seed sequence, its point
#: dict, its future): a generous estimate used to refuse sweeps that cannot fit.
_TASK_BYTES = 2048


@dataclass(frozen=True, eq=False, repr=False)
class SweepResult(ResultMixin):
    """A labelled array: ``values`` has one axis per grid parameter, then ``realization``,
    then the axes of ``func``'s return value.

    Plain container: nothing here can fail. (A task that raises makes :func:`sweep` raise,
    after storing the tasks that finished.)

    Parameters
    ----------
    values : ndarray of float64
        Shape ``(n_1, ..., n_d, n_realizations) + shape of func's value``.
    dims : tuple of str
        Name of each axis of ``values``: the grid parameters, ``"realization"``, then
        ``"dim_0"``, ``"dim_1"``, ... for the axes of ``func``'s value.
    coords : dict
        Grid values per parameter name and ``list(range(n_realizations))``.
    """

    values: np.ndarray
    dims: tuple
    coords: dict

    def sel(self, **where) -> np.ndarray:
        """Values at the given coordinate values, e.g. ``res.sel(g=1.5)`` (exact match).

        Parameters
        ----------
        **where : object
            ``dimension=value`` pairs; the value must equal one of the dimension's
            coordinates.

        Returns
        -------
        ndarray
            ``values`` with the selected dimensions removed.

        Raises
        ------
        KeyError
            If a value is not a coordinate of its dimension.
        ValueError
            If a name is not one of ``dims``.
        """
        unknown = [d for d in where if d not in self.dims]
        if unknown:
            raise ValueError(f"{unknown} are not dimensions of this result; its dimensions "
                             f"are {self.dims}")
        index = []
        for d in self.dims:
            if d in where:
                c = np.asarray(self.coords[d])
                hit = np.flatnonzero(c == where[d])
                if hit.size == 0:
                    raise KeyError(f"{where[d]!r} is not a coordinate of {d!r}")
                index.append(int(hit[0]))
            else:
                index.append(slice(None))
        return self.values[tuple(index)]

    def mean(self, dim: str = "realization") -> np.ndarray:
        """Mean over one dimension (default: over realisations).

        Parameters
        ----------
        dim : str
            Name of the dimension to average over.

        Returns
        -------
        ndarray
            ``values`` averaged over ``dim`` (that axis removed).

        Raises
        ------
        ValueError
            If ``dim`` is not one of ``dims``.
        """
        if dim not in self.dims:
            raise ValueError(f"dim must be one of {self.dims}, got {dim!r}")
        return self.values.mean(axis=self.dims.index(dim))

    def to_xarray(self, net: "Network | None" = None) -> "xarray.DataArray":
        """``values`` as an ``xarray.DataArray`` with dims ``dims`` and the grid values and
        realisations as coordinates (the parameters of ``net``, a ``Network``, in ``attrs``
        when given); needs ``pip install reservoir[xarray]``. See :mod:`reservoir._xarray`."""
        from ._xarray import sweep_to_xarray
        return sweep_to_xarray(self, net)


#: Seconds after which a claim written on another host is taken over (see module docstring).
FOREIGN_CLAIM_S = 6 * 3600.0
#: Seconds between looks at tasks claimed by another run.
_POLL_S = 0.05
_FORMAT = 2                    # store format (1: task_<k>.npy without checksum)

_THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS")

_TASK_LOCK = threading.Lock()  # tasks sharing a process, when Numba's layer is not thread-safe
_ACTIVE_RUNS: set = set()      # run ids of the sweeps running in this process


def _fault(point: str) -> None:
    """Named point in the store's write sequence (tests replace this to kill the process
    there); does nothing."""


def _func_name(func):
    """Module and qualified name (of the wrapped function for ``functools.partial``)."""
    inner = getattr(func, "func", func)
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', repr(inner))}"


@functools.lru_cache(maxsize=1)
def _layer_threadsafe() -> bool:
    from ._kernels import threading_layer_is_threadsafe
    return threading_layer_is_threadsafe()


@functools.lru_cache(maxsize=8)
def _unpickle(blob: bytes):
    return pickle.loads(blob)


def _call(func, point, seed_seq, budget):
    """One task: ``func(**point, rng=...)`` with the thread budget in force. ``func`` may
    come as cloudpickle bytes."""
    from ._kernels.blas_threads import thread_budget
    if isinstance(func, bytes):
        func = _unpickle(func)
    lock = contextlib.nullcontext() if _layer_threadsafe() else _TASK_LOCK
    with lock, thread_budget(budget):
        value = func(**point, rng=np.random.default_rng(seed_seq))
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if value is None or arr is None:
        raise TypeError(f"func must return a number or a numeric array, got "
                        f"{type(value).__name__} at the grid point {point}")
    return arr


def _ship(func):
    """``func`` for worker processes: cloudpickle bytes (by value where it lives in
    ``__main__`` or cannot be imported, by reference otherwise)."""
    try:
        import cloudpickle
    except ImportError:                                     # pragma: no cover
        inner = getattr(func, "func", func)
        if getattr(inner, "__module__", None) == "__main__":
            raise TypeError(
                "func is defined in __main__ (a notebook, python -c or standard input) and "
                "cannot be imported by worker processes: install cloudpickle, define func in "
                "a module, or use executor=None") from None
        return func
    try:
        return cloudpickle.dumps(func)
    except Exception as exc:
        raise TypeError(f"func cannot be sent to worker processes ({type(exc).__name__}: "
                        f"{exc}); define it in a module, or use executor=None or a "
                        "ThreadPoolExecutor") from exc


def _worker_init():
    """In a worker process: exit as soon as the parent process dies."""
    import multiprocessing
    import multiprocessing.connection
    parent = multiprocessing.parent_process()
    if parent is None:                                      # pragma: no cover
        return

    def watch():
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="reservoir-parent-watch").start()


# ---------------------------------------------------------------------------------------
# store: atomic files, checksummed task files, claims

def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:                                         # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:                                         # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path, data: bytes, point: str, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, ``fsync``
    and ``os.replace`` (``exclusive``: ``os.link``, raising ``FileExistsError`` if
    ``path`` exists). Fault points ``<point>:partial``, ``:written``, ``:done``."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_")
    try:
        with os.fdopen(fd, "wb") as fh:
            half = len(data) // 2
            fh.write(data[:half])
            fh.flush()
            _fault(point + ":partial")
            fh.write(data[half:])
            fh.flush()
            os.fsync(fh.fileno())
        _fault(point + ":written")
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError:                                 # no hard links here
                fd2 = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                with os.fdopen(fd2, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.remove(tmp)
        else:
            os.replace(tmp, path)
        _fsync_dir(directory)
        _fault(point + ":done")
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _task_path(store, k):
    return os.path.join(store, f"task_{k:08d}.npz")


def _encode_task(value) -> bytes:
    buf = io.BytesIO()
    np.save(buf, value, allow_pickle=False)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("value.npy", buf.getvalue())
    return out.getvalue()


def _load_task(path):
    """The stored value, or None if the file is missing, truncated or corrupt (the zip
    member's CRC-32 is checked: the whole member is read)."""
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.namelist() != ["value.npy"]:
                return None
            data = zf.read("value.npy")
        value = np.load(io.BytesIO(data), allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error):
        return None
    if not isinstance(value, np.ndarray) or value.dtype != np.float64:
        return None
    return value


def _start_token(pid: int):
    """Start time of process ``pid`` (Linux ``/proc``; None where unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        return stat[stat.rindex(")") + 2:].split()[19]
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int, token) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:                                         # pragma: no cover
        return True
    now = _start_token(pid)
    return token is None or now is None or now == token


class _Claims:
    """Claim files ``DIR/claim_<k>`` of one run (see the module docstring)."""

    def __init__(self, store):
        self.store = store
        self.run = uuid.uuid4().hex
        self.held: set = set()
        self.host = socket.gethostname()
        self.me = {"host": self.host, "pid": os.getpid(), "start": _start_token(os.getpid()),
                   "run": self.run}

    def path(self, k):
        return os.path.join(self.store, f"claim_{k:08d}")

    def _stale(self, path) -> bool:
        try:
            with open(path, "rb") as fh:
                owner = json.loads(fh.read().decode("utf-8"))
            age = time.time() - os.path.getmtime(path)
        except FileNotFoundError:
            return False                                    # released meanwhile: retry
        except (OSError, ValueError, UnicodeDecodeError):
            return True                                     # unreadable: never ours
        if not isinstance(owner, dict):
            return True
        if owner.get("host") != self.host:
            return age > FOREIGN_CLAIM_S
        pid = owner.get("pid")
        if not isinstance(pid, int):
            return True
        if pid == os.getpid():
            return owner.get("run") not in _ACTIVE_RUNS
        return not _alive(pid, owner.get("start"))

    def take(self, k) -> bool:
        """Claim task ``k``; False if a live run holds it."""
        path = self.path(k)
        data = json.dumps(self.me).encode()
        for _ in range(2):
            try:
                _write_atomic(path, data, "claim", exclusive=True)
                self.held.add(k)
                return True
            except FileExistsError:
                if not self._stale(path):
                    return False
                try:                                        # one thief wins the rename
                    os.replace(path, os.path.join(self.store,
                                                  f".stale_{k:08d}_{uuid.uuid4().hex}"))
                except FileNotFoundError:
                    pass
                for p in os.listdir(self.store):
                    if p.startswith(f".stale_{k:08d}_"):
                        try:
                            os.remove(os.path.join(self.store, p))
                        except FileNotFoundError:
                            pass
        return False

    def free(self, k) -> bool:
        """Whether nobody (alive) holds task ``k``."""
        path = self.path(k)
        return not os.path.exists(path) or self._stale(path)

    def release(self, k):
        if k in self.held:
            self.held.discard(k)
            try:
                os.remove(self.path(k))
            except FileNotFoundError:
                pass

    def release_all(self):
        for k in list(self.held):
            self.release(k)

    def sweep_stale(self):
        """Remove the stale claims left by killed runs (of tasks that are stored)."""
        for name in os.listdir(self.store):
            if name.startswith("claim_") and name[6:].isdigit():
                path = os.path.join(self.store, name)
                if int(name[6:]) not in self.held and self._stale(path):
                    try:
                        os.remove(path)
                    except FileNotFoundError:
                        pass


def _manifest(store, manifest):
    """Create ``DIR/sweep.json`` exclusively, or check the one there."""
    mpath = os.path.join(store, "sweep.json")
    data = json.dumps(manifest, indent=1).encode()
    try:
        _write_atomic(mpath, data, "manifest", exclusive=True)
        return
    except FileExistsError:
        pass
    try:
        with open(mpath, "rb") as fh:
            old = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{mpath} is not a readable sweep manifest ({exc}); it was not "
                         "written by this version (which writes it atomically): move the "
                         "folder away or use another store") from None
    if old != manifest:
        raise ValueError(f"{store} holds a different sweep (grid, realisations, seed, "
                         "function or store format differ); use another folder")


# ---------------------------------------------------------------------------------------
# executors

class _Serial:
    """Runs each task at submission, in this thread."""

    max_inflight = 1

    def submit(self, func, *args):
        fut = concurrent.futures.Future()
        try:
            fut.set_result(func(*args))
        except Exception as exc:
            fut.set_exception(exc)
        return fut

    @staticmethod
    def wait(futures, timeout):
        return concurrent.futures.wait(futures, timeout, return_when="FIRST_COMPLETED")[0]


class _Futures:
    """Any ``concurrent.futures.Executor``."""

    def __init__(self, executor, max_inflight):
        self.executor, self.max_inflight = executor, max_inflight

    def submit(self, func, *args):
        return self.executor.submit(func, *args)

    @staticmethod
    def wait(futures, timeout):
        return concurrent.futures.wait(futures, timeout, return_when="FIRST_COMPLETED")[0]


class _Dask:
    def __init__(self, client):
        self.client = client
        try:
            self.max_inflight = 2 * max(1, sum(client.nthreads().values()))
        except Exception:                                   # pragma: no cover
            self.max_inflight = 2 * (os.cpu_count() or 1)

    def submit(self, func, *args):
        return self.client.submit(func, *args, pure=False)

    @staticmethod
    def wait(futures, timeout):
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            done = {f for f in futures if f.done()}
            if done or (end is not None and time.monotonic() >= end):
                return done
            time.sleep(0.01)


def _run(backend, func, points, seeds, budget, todo, claims, finish, load_done):
    """Schedule the tasks ``todo``: claim, submit (at most ``backend.max_inflight`` at a
    time), store; wait for tasks claimed by other runs. Raises the first task's exception
    after the tasks in flight have finished and been stored."""
    pending = collections.deque(todo)
    waiting: list = []
    inflight: dict = {}
    error = None
    while pending or waiting or inflight:
        while pending and error is None and len(inflight) < backend.max_inflight:
            k = pending.popleft()
            if load_done(k):
                continue
            if claims is None or claims.take(k):
                # another run may have stored k and released its claim between the look
                # above and our claim (it writes the task before releasing): look again
                if claims is not None and load_done(k):
                    claims.release(k)
                    continue
                inflight[backend.submit(_call, func, points[k], seeds[k], budget)] = k
            else:
                waiting.append(k)
        if inflight:
            for fut in backend.wait(list(inflight), _POLL_S if waiting else None):
                k = inflight.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    error = error or exc
                    if claims is not None:
                        claims.release(k)
                else:
                    finish(k, fut.result())
        elif error is not None:
            break
        moved = False
        for k in list(waiting):
            if load_done(k):
                waiting.remove(k)
                moved = True
            elif claims.free(k):
                waiting.remove(k)
                pending.append(k)
                moved = True
        if waiting and not inflight and not pending and not moved:
            time.sleep(_POLL_S)
    if error is not None:
        raise error


@contextlib.contextmanager
def _workers_skip_main():
    """Spawned workers do not re-run the parent's main script.

    ``multiprocessing``'s "spawn" runs the parent's ``__main__`` file in every worker (as
    ``__mp_main__``) to find functions defined there. ``sweep`` sends the function by value,
    so the workers never need it; and running it fails for a script read from standard
    input (``python - < script.py``: there is no file) and re-runs the whole sweep in a
    script without an ``if __name__ == "__main__":`` guard. While the pool starts workers,
    the main module's ``__file__`` is hidden (a main module run with ``python -m`` is
    imported by name, harmlessly, and left alone).
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None \
            or not hasattr(main, "__file__"):
        yield
        return
    path = main.__file__
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def sweep(func: Callable[..., Any], grid: dict, n_realizations: int = 1, *, rng: RngLike = 0,
          store: str | os.PathLike | None = None,
          executor: str | concurrent.futures.Executor | Any | None = None,
          threads_per_task: int = 1, progress: bool | None = None) -> SweepResult:
    """Evaluate ``func(**point, rng=generator)`` on every grid point and realisation.

    Parameters
    ----------
    func : callable
        Returns a number or an array of fixed shape. For worker processes it is sent by
        reference when importable there, else by value (``cloudpickle``: functions
        defined in a notebook or ``python -c`` work).
    grid : dict
        Parameter name -> sequence of values.
    n_realizations : int
        Independent realisations per grid point.
    rng : int or SeedSequence
        Root seed (a ``Generator`` cannot be split reproducibly and is refused).
    store : str or path, optional
        Folder for incremental, resumable results, shared safely by concurrent runs of the
        same sweep (see the module docstring: atomic files, checksums, claims).
    executor : None, "processes", concurrent.futures.Executor or dask.distributed.Client
        Where the tasks run: in this thread; on a local pool of ``cpu_count //
        threads_per_task`` processes started with "spawn" (they exit when this process
        dies); on the given executor (a ``ThreadPoolExecutor``, a ``ProcessPoolExecutor``,
        ...); or on a Dask cluster (give its workers ``threads_per_task`` cores per thread,
        e.g. one thread per worker).
    threads_per_task : int
        Thread budget of every task: Numba's parallel kernels and every BLAS/OpenMP
        library in the task's process use at most this many threads while it runs
        (default 1). The same budget in every executor makes the results bit-identical
        across them.
    progress : bool or None
        A ``tqdm`` progress bar on standard error over the tasks (grid points x
        realisations), advanced as each task completes, whatever the executor (with Dask,
        as each future completes); tasks already in ``store`` count as done. ``None``
        (default): only when standard error is a terminal; ``True``: always; ``False``:
        never. The bar changes nothing in the results.

    Returns
    -------
    SweepResult
        ``values`` of shape ``(n_1, ..., n_d, n_realizations) + shape of func's value``
        (float64), with the dimension names and coordinates.

    Raises
    ------
    TypeError
        If ``func`` is not callable or cannot be sent to worker processes, ``grid`` is
        not a non-empty dict, ``rng`` is a ``Generator``, or ``n_realizations`` or
        ``threads_per_task`` is not an integer.
    ValueError
        If a grid parameter has no value or uses a reserved name (``rng``,
        ``realization``), ``store`` holds a different sweep or an unreadable manifest,
        ``executor`` is not recognised, ``threads_per_task < 1``, or ``func`` returns
        values of different shapes.
    Exception
        The first exception raised by ``func`` (after the tasks in flight are stored).
    """
    if not callable(func):
        raise TypeError("func must be callable")
    if not isinstance(grid, dict) or not grid:
        raise TypeError("grid must be a non-empty dict of parameter name -> values")
    names = list(grid)
    for n in names:
        if not isinstance(n, str) or not n.isidentifier():
            raise TypeError(f"grid keys must be parameter names of func (identifiers), "
                            f"got {n!r}")
        v = grid[n]
        if isinstance(v, (str, bytes, dict)) or not isinstance(v, collections.abc.Iterable) \
                or (isinstance(v, np.ndarray) and v.ndim != 1):
            raise TypeError(f"grid[{n!r}] must be a list (or other sequence) of values, got "
                            f"{type(v).__name__}")
    values = [list(grid[n]) for n in names]
    if any(len(v) == 0 for v in values):
        raise ValueError("every grid parameter needs at least one value")
    if "rng" in names or "realization" in names:
        raise ValueError("'rng' and 'realization' are reserved names")
    n_real = as_int(n_realizations, "n_realizations", minimum=1)
    n_points = float(np.prod([float(len(v)) for v in values]))
    n_total = n_points * n_real
    check_memory(_TASK_BYTES * n_points, "grid", f"<{n_points:.3g} points>",
                 what=f"the bookkeeping of {n_points:.3g} tasks (one per grid point)")
    check_memory(_TASK_BYTES * n_total, "n_realizations", n_real,
                 what=f"the bookkeeping of {n_total:.3g} tasks (grid points x realisations)")
    budget = as_int(threads_per_task, "threads_per_task", minimum=1)
    progress = check_progress(progress)
    if isinstance(rng, np.random.Generator):
        raise TypeError("rng must be an int or a SeedSequence (a Generator cannot be split "
                        "reproducibly across workers)")
    root = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(
        as_int(rng, "rng", minimum=0))
    is_dask = (not isinstance(executor, (str, concurrent.futures.Executor))
               and executor is not None and hasattr(executor, "submit")
               and hasattr(executor, "gather"))
    if not (executor is None or executor == "processes" or is_dask
            or isinstance(executor, concurrent.futures.Executor)):
        raise ValueError("executor must be None, 'processes', a concurrent.futures.Executor "
                         f"or a dask.distributed.Client, got {executor!r}")
    shape = tuple(len(v) for v in values) + (n_real,)
    n_tasks = int(np.prod(shape))
    seeds = root.spawn(n_tasks)
    points = []
    for idx in itertools.product(*[range(s) for s in shape]):
        points.append({n: values[d][idx[d]] for d, n in enumerate(names)})

    shipped = func
    if executor == "processes" or (isinstance(executor, concurrent.futures.Executor)
                                   and not isinstance(executor,
                                                      concurrent.futures.ThreadPoolExecutor)):
        shipped = _ship(func)                               # fails here, not in a worker

    results = {}
    claims = None
    if store is not None:
        store = os.fspath(store)
        os.makedirs(store, exist_ok=True)
        _manifest(store, {"grid": {n: [repr(v) for v in vals] for n, vals in zip(names, values)},
                          "n_realizations": n_real, "entropy": str(root.entropy),
                          "spawn_key": list(root.spawn_key), "func": _func_name(func),
                          "format": _FORMAT})
        for k in range(n_tasks):
            value = _load_task(_task_path(store, k))
            if value is not None:
                results[k] = value
        claims = _Claims(store)

    todo = [k for k in range(n_tasks) if k not in results]
    bar = progress_bar(n_tasks, "sweep", progress, unit="task", initial=n_tasks - len(todo))
    logger.info("sweep %s: %d tasks (%d grid points x %d realisations), %d to compute, "
                "executor %s", _func_name(func), n_tasks, n_tasks // n_real, n_real,
                len(todo), executor if executor is None or isinstance(executor, str)
                else type(executor).__name__)
    t_start = time.perf_counter()

    def count(k, value):
        results[k] = value
        bar.update(1)

    def finish(k, value):
        if store is not None:
            _write_atomic(_task_path(store, k), _encode_task(value), "task")
            claims.release(k)
        count(k, value)

    def load_done(k):
        """Whether task ``k`` was stored meanwhile by another run (then counted)."""
        if store is None:
            return False
        value = _load_task(_task_path(store, k))
        if value is None:
            return False
        count(k, value)
        return True

    if claims is not None:
        _ACTIVE_RUNS.add(claims.run)
    try:
        if executor is None:
            _run(_Serial(), shipped, points, seeds, budget, todo, claims, finish, load_done)
        elif executor == "processes":
            import multiprocessing
            n_workers = max(1, (os.cpu_count() or 1) // budget)
            ctx = multiprocessing.get_context("spawn")
            # the workers' thread pools are sized to the budget before they start
            saved = {v: os.environ.get(v) for v in _THREAD_VARS}
            os.environ.update({v: str(budget) for v in _THREAD_VARS})
            pool = None
            try:
                with _workers_skip_main():
                    pool = concurrent.futures.ProcessPoolExecutor(
                        max_workers=n_workers, mp_context=ctx, initializer=_worker_init)
                    _run(_Futures(pool, 2 * n_workers), shipped, points, seeds, budget,
                         todo, claims, finish, load_done)
            finally:
                for v, old in saved.items():
                    if old is None:
                        os.environ.pop(v, None)
                    else:
                        os.environ[v] = old
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
        elif is_dask:
            _run(_Dask(executor), shipped, points, seeds, budget, todo, claims, finish,
                 load_done)
        else:
            n = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
            _run(_Futures(executor, 2 * n), shipped, points, seeds,
                 budget, todo, claims, finish, load_done)
    finally:
        bar.close()
        if claims is not None:
            claims.release_all()
            _ACTIVE_RUNS.discard(claims.run)
    if claims is not None:
        claims.sweep_stale()
    logger.info("sweep %s: %d tasks done in %.1f s", _func_name(func), n_tasks,
                time.perf_counter() - t_start)

    first = results[0]
    out = np.empty(shape + first.shape)
    for k in range(n_tasks):
        if results[k].shape != first.shape:
            raise ValueError(f"func returned shape {results[k].shape} at task {k} but "
                             f"{first.shape} at task 0: results must have one shape")
        out[np.unravel_index(k, shape)] = results[k]
    dims = tuple(names) + ("realization",) + tuple(f"dim_{i}" for i in range(first.ndim))
    coords = {n: list(v) for n, v in zip(names, values)}
    coords["realization"] = list(range(n_real))
    return SweepResult(values=out, dims=dims, coords=coords)
