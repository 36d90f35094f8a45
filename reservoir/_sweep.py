"""Parameter sweeps over many network realisations: in process, on local processes, or on a
Dask cluster, with reproducible seeds and resumable on-disk results.

Every (grid point, realisation) is one *task* with a flat index ``k`` in C order over the
grid dimensions (in the order of ``grid``'s keys) and then ``realization``. Its random
generator is ``default_rng(SeedSequence(root).spawn(n_tasks)[k])``: the results do not depend
on how the work is split or in which order it finishes.

With ``store=DIR`` each finished task is written to ``DIR/task_<k>.npy`` through a
temporary file and an atomic rename, so a file with a task's name is always complete; a
re-run of the same sweep (checked against ``DIR/sweep.json``) computes only the tasks whose
file is missing.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from ._checks import as_int
from ._results import ResultMixin


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
        """
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
        return self.values.mean(axis=self.dims.index(dim))


_THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS")


def _func_name(func):
    """Module and qualified name (of the wrapped function for ``functools.partial``)."""
    inner = getattr(func, "func", func)
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', repr(inner))}"


def _call(func, point, seed_seq):
    value = func(**point, rng=np.random.default_rng(seed_seq))
    return np.asarray(value, dtype=np.float64)


def _save_atomic(path, value):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, value)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _progress(done, total, enabled):
    if enabled:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\rsweep [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _collect(completed, futures, finish):
    """Store every task that succeeds, then re-raise the first failure: work already done
    by the other workers is kept for the next run."""
    error = None
    for fut in completed:
        exc = fut.exception()
        if exc is not None:
            error = error or exc
            continue
        finish(futures[fut], fut.result())
    if error is not None:
        raise error


def sweep(func, grid: dict, n_realizations: int = 1, *, rng=0, store=None, executor=None,
          progress: bool = False) -> SweepResult:
    """Evaluate ``func(**point, rng=generator)`` on every grid point and realisation.

    Parameters
    ----------
    func : callable
        Returns a number or an array of fixed shape. Must be picklable (a module-level
        function) for ``"processes"`` and Dask.
    grid : dict
        Parameter name -> sequence of values.
    n_realizations : int
        Independent realisations per grid point.
    rng : int or SeedSequence
        Root seed (a ``Generator`` cannot be split reproducibly and is refused).
    store : str or path, optional
        Folder for incremental, resumable results.
    executor : None, "processes" or a ``dask.distributed.Client``
        In process, a local pool of single-threaded processes (one per core, started with
        "spawn"), or a Dask cluster (give its workers one thread each for the same reason).
    progress : bool
        Draw a progress bar on stderr.

    Returns
    -------
    SweepResult
        ``values`` of shape ``(n_1, ..., n_d, n_realizations) + shape of func's value``
        (float64), with the dimension names and coordinates.

    Raises
    ------
    TypeError
        If ``func`` is not callable, ``grid`` is not a non-empty dict, ``rng`` is a
        ``Generator``, or ``n_realizations`` is not an integer.
    ValueError
        If a grid parameter has no value or uses a reserved name (``rng``,
        ``realization``), ``store`` holds a different sweep, ``executor`` is not
        recognised, or ``func`` returns values of different shapes.
    Exception
        The first exception raised by ``func`` (after the other tasks are stored).
    """
    if not callable(func):
        raise TypeError("func must be callable")
    if not isinstance(grid, dict) or not grid:
        raise TypeError("grid must be a non-empty dict of parameter name -> values")
    names = list(grid)
    values = [list(grid[n]) for n in names]
    if any(len(v) == 0 for v in values):
        raise ValueError("every grid parameter needs at least one value")
    if "rng" in names or "realization" in names:
        raise ValueError("'rng' and 'realization' are reserved names")
    n_real = as_int(n_realizations, "n_realizations", minimum=1)
    if isinstance(rng, np.random.Generator):
        raise TypeError("rng must be an int or a SeedSequence (a Generator cannot be split "
                        "reproducibly across workers)")
    root = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(
        as_int(rng, "rng", minimum=0))
    shape = tuple(len(v) for v in values) + (n_real,)
    n_tasks = int(np.prod(shape))
    seeds = root.spawn(n_tasks)
    points = []
    for idx in itertools.product(*[range(s) for s in shape]):
        points.append({n: values[d][idx[d]] for d, n in enumerate(names)})

    results = {}
    if store is not None:
        store = os.fspath(store)
        os.makedirs(store, exist_ok=True)
        manifest = {"grid": {n: [repr(v) for v in vals] for n, vals in zip(names, values)},
                    "n_realizations": n_real, "entropy": str(root.entropy),
                    "spawn_key": list(root.spawn_key), "func": _func_name(func)}
        mpath = os.path.join(store, "sweep.json")
        if os.path.exists(mpath):
            with open(mpath) as fh:
                old = json.load(fh)
            if old != manifest:
                raise ValueError(f"{store} holds a different sweep (grid, realisations, seed "
                                 "or function differ); use another folder")
        else:
            with open(mpath, "w") as fh:
                json.dump(manifest, fh, indent=1)
        for k in range(n_tasks):
            path = os.path.join(store, f"task_{k:08d}.npy")
            if os.path.exists(path):
                results[k] = np.load(path, allow_pickle=False)

    todo = [k for k in range(n_tasks) if k not in results]
    done = n_tasks - len(todo)
    _progress(done, n_tasks, progress)

    def finish(k, value):
        nonlocal done
        results[k] = value
        if store is not None:
            _save_atomic(os.path.join(store, f"task_{k:08d}.npy"), value)
        done += 1
        _progress(done, n_tasks, progress)

    if executor is None:
        for k in todo:
            finish(k, _call(func, points[k], seeds[k]))
    elif executor == "processes":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        # "spawn": forking a process whose OpenMP (Numba) threads have run is not safe.
        # One single-threaded worker per core: Numba's and OpenBLAS's thread pools in every
        # worker would oversubscribe the cores (measured: a 1-minute sweep ran > 10 minutes)
        ctx = multiprocessing.get_context("spawn")
        saved = {v: os.environ.get(v) for v in _THREAD_VARS}
        os.environ.update({v: "1" for v in _THREAD_VARS})
        try:
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=ctx) as pool:
                futures = {pool.submit(_call, func, points[k], seeds[k]): k for k in todo}
                _collect(as_completed(futures), futures, finish)
        finally:
            for v, old in saved.items():
                if old is None:
                    os.environ.pop(v, None)
                else:
                    os.environ[v] = old
    elif hasattr(executor, "submit") and hasattr(executor, "gather"):
        from distributed import as_completed as dask_as_completed
        futures = {executor.submit(_call, func, points[k], seeds[k], pure=False): k
                   for k in todo}
        _collect(dask_as_completed(list(futures)), futures, finish)
    else:
        raise ValueError("executor must be None, 'processes' or a dask.distributed.Client")

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
