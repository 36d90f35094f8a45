"""Checkpoints of :func:`reservoir.bptt`: save the state of a training run and resume it
with the same bits (private).

A checkpoint is written at the end of an epoch and holds everything the rest of the run
depends on: the network's trained arrays, Adam's moments and step count, the loss record
(so the epoch and mini-batch position), the state of the random generator (the shuffling
and the training noise), and fingerprints of what must not change on resuming: the
initial network and the task (SHA-256 of their arrays), the options (every argument of
``bptt`` but ``net``, ``task``, ``epochs``, ``early_stop``, ``callback``, the checkpoint
arguments, ``threads``, ``rng`` and ``progress``), the split of the mini-batches over threads (the
summation order of the gradients), and the generator's initial state (the seed).

File format: an ``.npz`` archive (no pickle) of float64 ``.npy`` members and a JSON
``header`` member; written to a temporary file in the same folder, then moved over the
old one with ``os.replace`` (atomic: an interrupted write leaves the previous checkpoint
intact). On reading, the file is untrusted input: each member goes through the checked
reader of :mod:`reservoir.io` (``.npy`` header parsed first, no object arrays, the CRC
checked), every header field is type-checked, every array checked for shape and finite
values, and the whole state for consistency; any defect raises
:class:`~reservoir.errors.CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import numbers
import os
import tempfile
from collections.abc import Mapping

import numba
import numpy as np
import scipy.sparse as sp

from .._version import __version__
from ..errors import CheckpointError
from ..io import _fspath, _read_member, read_untrusted_archive
from ..network import Network

FORMAT = "reservoir.bptt_checkpoint"
FORMAT_VERSION = 1

#: Arguments of ``bptt`` that are not options fingerprinted in the checkpoint (checked
#: otherwise, or free to change between the interrupted call and the resuming one).
NOT_OPTIONS = ("net", "task", "epochs", "early_stop", "callback", "checkpoint",
               "checkpoint_every", "resume", "threads", "rng",
               "progress")


# ----------------------------------------------------------------------- fingerprints
def _digest_arrays(h, arrays) -> None:
    for name, a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(memoryview(a).cast("B"))


def network_digest(net: Network) -> str:
    """SHA-256 of everything :class:`~reservoir.Network` equality compares (arrays bit for
    bit, ``phi``, ``tau``, ``dt``; not ``meta``)."""
    h = hashlib.sha256(b"reservoir.Network;")
    if net.is_sparse:
        J = [("J.indptr", net.J.indptr.astype(np.int64)),
             ("J.indices", net.J.indices.astype(np.int64)), ("J.data", net.J.data)]
    else:
        J = [("J", net.J)]
    _digest_arrays(h, J + [(k, getattr(net, k)) for k in ("W_in", "W_fb", "W_out", "b",
                                                          "b_out")])
    if net.dale_signs is not None:
        _digest_arrays(h, [("dale_signs", net.dale_signs)])
    h.update(f"phi={net.phi};tau={net.tau!r};dt={net.dt!r}".encode())
    return h.hexdigest()


def task_digest(task) -> str:
    """SHA-256 of a task's ``inputs``, ``targets``, ``mask`` (dtype, shape, bits) and
    ``dt``."""
    h = hashlib.sha256(b"reservoir.Task;")
    _digest_arrays(h, [("inputs", task.inputs), ("targets", task.targets),
                       ("mask", task.mask)])
    h.update(f"dt={task.dt!r}".encode())
    return h.hexdigest()


def canonical(value):
    """A JSON-serialisable stand-in for an option's value that compares equal exactly when
    the values have the same effect: numbers as int or float, sequences as lists, mappings
    with sorted string keys, dtypes by name, arrays (and sparse matrices) by their SHA-256,
    anything else by ``repr``."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (np.dtype, type)):
        try:
            return np.dtype(value).name          # np.float64, np.dtype("f8") -> "float64"
        except TypeError:
            return {"type": getattr(value, "__qualname__", repr(value))}
    if isinstance(value, Mapping):
        return {"mapping": {str(k): canonical(v) for k, v in
                            sorted(value.items(), key=lambda kv: str(kv[0]))}}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if sp.issparse(value):
        value = value.toarray()
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        a = np.asarray(value)
        if a.dtype != object:
            h = hashlib.sha256()
            _digest_arrays(h, [("array", a)])
            return {"array": h.hexdigest()}
    return {"repr": repr(value)}


def _json_roundtrip(value):
    return json.loads(json.dumps(value, allow_nan=False))


def rng_state_to_json(state: dict):
    """``bit_generator.state`` with its arrays as tagged lists (JSON)."""
    if isinstance(state, Mapping):
        return {str(k): rng_state_to_json(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return {"__ndarray__": state.tolist(), "dtype": state.dtype.str}
    if isinstance(state, np.integer):
        return int(state)
    return state


def rng_state_from_json(obj):
    """Inverse of :func:`rng_state_to_json` (the values are checked by numpy on use)."""
    if isinstance(obj, dict):
        if set(obj) == {"__ndarray__", "dtype"}:
            dt = np.dtype(str(obj["dtype"]))
            if dt.kind not in "iu":
                raise ValueError(f"an array of the generator state has dtype {dt}")
            return np.array(obj["__ndarray__"], dtype=dt)
        return {k: rng_state_from_json(v) for k, v in obj.items()}
    return obj


def arithmetic_layout(backend: str, workspace, batch_sizes, N: int) -> dict:
    """How each mini-batch size is split for the gradient sums (their rounding depends on
    it): the chunk ranges of the ``"blas"`` backend, the number of accumulators of the
    ``"numba"`` backend."""
    if backend == "blas":
        return {str(b): [list(c) for c in workspace.chunks(b, N)] for b in batch_sizes}
    return {str(b): max(1, min(b, numba.get_num_threads())) for b in batch_sizes}


# ----------------------------------------------------------------------------- writing
def write(path: str, header: dict, arrays: dict) -> None:
    """Write the checkpoint atomically: a temporary file in the same folder, flushed to
    disk, then ``os.replace`` onto ``path``."""
    text = json.dumps(header, allow_nan=False)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, header=np.array(text), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_writable(path: str) -> None:
    """Fail now, not after the first epoch, if checkpoints cannot be written to ``path``:
    the folder must exist and accept a new file; ``path`` must not be a folder."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"checkpoint: the folder {folder!r} of {path!r} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"checkpoint: {path!r} is a folder, expected a file name")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)


# ----------------------------------------------------------------------------- reading
#: Header fields and their types (checked before anything uses them).
_HEADER = {"format": str, "format_version": int, "version": str, "n_epochs": int,
           "n_batches": int, "adam_step": int, "epochs": int, "trained": list,
           "params": list, "options": dict, "layout": dict, "net_sha256": str,
           "task_sha256": str, "task_shape": list, "rng_initial": dict, "rng_state": dict}


class Checkpoint:
    """The validated content of a checkpoint file (see :func:`read`).

    Attributes
    ----------
    path : str
        The file.
    header : dict
        The JSON header, every field type-checked.
    arrays : dict of ndarray
        The float64 members: ``net.<param>``, ``adam_m.<param>``, ``adam_v.<param>``,
        ``loss_history``, ``batch_losses``.
    """

    def __init__(self, path, header, arrays):
        self.path, self.header, self.arrays = path, header, arrays

    def fail(self, problem, option=None):
        raise CheckpointError(self.path, problem, option)

    def check_run(self, *, net_sha256, task_sha256, task_shape, options, defaults, layout,
                  rng_initial, check_rng, epochs, params, train, n_per_epoch):
        """Check the checkpoint against the call resuming it; raise naming the argument
        that differs, or the inconsistency found.

        Parameters
        ----------
        net_sha256, task_sha256 : str
            Fingerprints of the call's initial network and task.
        task_shape : list of int
            ``[B, T, M, K]`` of the call's task.
        options : dict
            The call's canonical options.
        defaults : dict
            Canonical defaults of the options (for options a checkpoint predates).
        layout : dict
            The call's arithmetic layout (:func:`arithmetic_layout`).
        rng_initial : dict
            The call's generator state before any draw (JSON form).
        check_rng : bool
            Whether the call's seed must match (False for ``rng=None``).
        epochs : int
            The call's total number of epochs.
        params : dict of ndarray
            The call's initial parameters (for the shapes).
        train : tuple of str
            The trained parameters.
        n_per_epoch : int
            Mini-batches per epoch.
        """
        h = self.header
        if h["net_sha256"] != net_sha256:
            self.fail("net is not the initial network of the checkpoint's run (another "
                      "network, or the same with other weights)", "net")
        if h["task_sha256"] != task_sha256:
            what = ("another shape" if h["task_shape"] != task_shape else
                    "other inputs, targets, mask or dt")
            self.fail(f"task is not the task of the checkpoint's run ({what}: "
                      f"[B, T, M, K] = {h['task_shape']} there, {task_shape} here)", "task")
        stored = h["options"]
        for key in sorted(set(stored) | set(options)):
            old = stored.get(key, defaults.get(key))
            new = options.get(key, defaults.get(key))
            if old != new:
                self.fail(f"option {key} = {_show(new)} here, {_show(old)} in the "
                          "checkpoint's run; resume with the same options (or start "
                          "afresh with resume=False)", key)
        if h["layout"] != layout:
            self.fail(f"the mini-batches are split differently over threads (chunks per "
                      f"batch size: {_show_layout(h['layout'])} there, "
                      f"{_show_layout(layout)} here), so the gradient sums would round "
                      "differently; pass threads= to split them as the checkpoint's run "
                      "did (backend='numba': as many Numba threads, NUMBA_NUM_THREADS)",
                      "threads")
        if check_rng and h["rng_initial"] != rng_initial:
            self.fail("rng is not the seed (generator state) the checkpoint's run "
                      "started from", "rng")
        if h["rng_state"].get("bit_generator") != rng_initial.get("bit_generator"):
            self.fail(f"the checkpoint's generator is a "
                      f"{h['rng_state'].get('bit_generator')!r}, rng gives a "
                      f"{rng_initial.get('bit_generator')!r}", "rng")
        n = h["n_epochs"]
        if epochs < n:
            self.fail(f"epochs = {epochs} but the checkpoint has already completed {n} "
                      f"epochs (epochs counts all of them, those before the checkpoint "
                      f"included); pass epochs >= {n}", "epochs")
        # the state itself: shapes and consistency with the options
        if h["trained"] != list(train):
            self.fail(f"header field 'trained' is {h['trained']}, the options train "
                      f"{list(train)}")
        if sorted(h["params"]) != sorted(params):
            self.fail(f"header field 'params' is {h['params']}, expected "
                      f"{sorted(params)}")
        expected = {f"net.{p}": params[p].shape for p in params}
        for p in train:
            expected[f"adam_m.{p}"] = params[p].shape
            expected[f"adam_v.{p}"] = params[p].shape
        expected["loss_history"] = (n,)
        expected["batch_losses"] = (h["n_batches"],)
        for name, shape in expected.items():
            a = self.arrays[name]
            if a.shape != shape:
                self.fail(f"member {name!r} has shape {a.shape}, expected {shape}")
            if not np.all(np.isfinite(a)):
                self.fail(f"member {name!r} contains NaN or infinite values")
            if name.startswith("adam_v.") and np.any(a < 0):
                self.fail(f"member {name!r} (Adam's second moment) has negative entries")
        if h["n_batches"] != n * n_per_epoch:
            self.fail(f"{h['n_batches']} mini-batches recorded for {n} epochs of "
                      f"{n_per_epoch}")
        if h["adam_step"] != h["n_batches"]:
            self.fail(f"Adam's step count {h['adam_step']} differs from the number of "
                      f"mini-batches {h['n_batches']}")
        if n > 0:
            rows = self.arrays["batch_losses"].reshape(n, n_per_epoch)
            per_epoch = [float(np.mean(row)) for row in rows]   # as bptt computes them
            if not np.array_equal(per_epoch, self.arrays["loss_history"]):
                self.fail("loss_history is not the mean of the mini-batch losses of each "
                          "epoch")

    def generator_state(self):
        """The generator state to continue from (numpy's form)."""
        try:
            return rng_state_from_json(self.header["rng_state"])
        except (ValueError, TypeError, OverflowError) as exc:
            self.fail(f"header field 'rng_state' is malformed ({exc})")


def _show(value) -> str:
    if isinstance(value, dict) and set(value) == {"array"}:
        return f"<array sha256 {value['array'][:12]}...>"
    if isinstance(value, dict) and len(value) == 1:
        return _show(next(iter(value.values())))
    return repr(value)


def _show_layout(layout) -> str:
    return ", ".join(f"B={b}: {len(v) if isinstance(v, list) else v}"
                     for b, v in layout.items())


def read(path) -> Checkpoint:
    """Read and structurally validate a checkpoint file (untrusted input).

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    Checkpoint
        Its header and arrays, checked for types, dtypes, dimensions and finite values
        (the shapes and the fit with the resuming call: :meth:`Checkpoint.check_run`).

    Raises
    ------
    CheckpointError
        If the file is malformed in any way.
    OSError
        If the file cannot be opened.
    """
    fspath = _fspath(path)
    return read_untrusted_archive(fspath, CheckpointError,
                                  lambda zf, fail: _read_archive(zf, fspath, fail))


def _read_archive(zf, fspath, fail) -> Checkpoint:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        fail(f"duplicated members {dup}")
    other = sorted(n for n in names if not n.endswith(".npy"))
    if other:
        fail(f"unknown members {other}")
    members = {n[:-4]: i for n, i in zip(names, infos)}
    if "header" not in members:
        fail("not a BPTT checkpoint (no header member)")
    raw = _read_member(zf, members.pop("header"), "U", 0, fail)
    try:
        header = json.loads(str(raw[()]))
    except (ValueError, RecursionError) as exc:
        fail(f"the header is not valid JSON ({exc})")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fail("not a BPTT checkpoint (its header names another format)")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        fail(f"header field 'format_version' must be an int, got {version!r}")
    if version > FORMAT_VERSION:
        fail(f"written by a newer reservoir ({header.get('version')!r}, format version "
             f"{version}); upgrade to read it")
    for key, kind in _HEADER.items():
        value = header.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            fail(f"header field {key!r} is missing or has the wrong type ({value!r})")
    for key in ("n_epochs", "n_batches", "adam_step", "epochs"):
        if header[key] < 0:
            fail(f"header field {key!r} must be >= 0, got {header[key]}")
    for key in ("trained", "params"):
        if not all(isinstance(p, str) for p in header[key]):
            fail(f"header field {key!r} must be a list of names, got {header[key]!r}")
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in header["task_shape"]):
        fail(f"header field 'task_shape' must be a list of ints, got {header['task_shape']!r}")
    params, trained = header["params"], header["trained"]
    if not set(trained) <= set(params):
        fail(f"header field 'trained' {trained} names parameters not in 'params' {params}")
    ndims = {"loss_history": 1, "batch_losses": 1}
    for p in params:
        ndims[f"net.{p}"] = 1 if p in ("b", "b_out") else 2
    for p in trained:
        ndims[f"adam_m.{p}"] = ndims[f"adam_v.{p}"] = ndims[f"net.{p}"]
    missing = sorted(set(ndims) - set(members))
    unknown = sorted(set(members) - set(ndims))
    if missing:
        fail(f"missing members {missing}")
    if unknown:
        fail(f"unknown members {unknown}")
    arrays = {name: _read_member(zf, members[name], "f", ndim, fail)
              for name, ndim in ndims.items()}
    return Checkpoint(fspath, header, arrays)


# ------------------------------------------------------------------ the side of bptt
class Resumed:
    """The state a run continues from (see :meth:`Session.start`)."""

    def __init__(self, params, m, v, step, history, batch_losses):
        self.params, self.m, self.v, self.step = params, m, v, step
        self.history, self.batch_losses = history, batch_losses


class Session:
    """The checkpoint arguments of one :func:`~reservoir.bptt` call, validated where they
    enter, and the fingerprints of the run.

    Parameters
    ----------
    checkpoint : str or path-like or None
        File the state is written to (None: no checkpoints).
    checkpoint_every : int
        Write every this many epochs (>= 1).
    resume : bool or None
        ``None``: resume from ``checkpoint`` if that file exists; ``True``: it must exist;
        ``False``: start afresh (the file is overwritten).
    """

    def __init__(self, checkpoint, checkpoint_every, resume):
        from .._checks import as_int
        self.path = None if checkpoint is None else _fspath_arg(checkpoint)
        self.every = as_int(checkpoint_every, "checkpoint_every", minimum=1)
        if resume is not None and not isinstance(resume, (bool, np.bool_)):
            raise TypeError(f"resume must be None, True or False, got {resume!r}")
        if resume and self.path is None:
            raise ValueError("resume=True needs a checkpoint file (checkpoint=path)")
        self.resume = None if resume is None else bool(resume)
        self.saved_epochs = None
        self._run = None

    @property
    def active(self) -> bool:
        """Whether this call writes or reads checkpoints."""
        return self.path is not None

    def start(self, *, net, task, options, defaults, backend, workspace, batch_sizes,
              rng_initial, check_rng, gen, epochs, params, train, n_per_epoch):
        """Record the run's fingerprints; resume when asked and possible.

        Returns
        -------
        Resumed or None
            The state to continue from (the generator ``gen`` is set to the checkpoint's
            state), or None for a fresh run.
        """
        if not self.active:
            return None
        check_writable(self.path)
        B, T, M = task.inputs.shape
        run = {"net_sha256": network_digest(net), "task_sha256": task_digest(task),
               "task_shape": [int(B), int(T), int(M), int(task.targets.shape[2])],
               "options": _json_roundtrip({k: canonical(v) for k, v in options.items()}),
               "layout": _json_roundtrip(arithmetic_layout(backend, workspace, batch_sizes,
                                                           net.N)),
               "rng_initial": _json_roundtrip(rng_state_to_json(rng_initial))}
        self._run = run
        if self.resume is False or (self.resume is None and not os.path.exists(self.path)):
            return None
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"resume=True but the checkpoint {self.path!r} does not "
                                    "exist")
        ck = read(self.path)
        ck.check_run(net_sha256=run["net_sha256"], task_sha256=run["task_sha256"],
                     task_shape=run["task_shape"], options=run["options"],
                     defaults=_json_roundtrip({k: canonical(v) for k, v in
                                               defaults.items()}),
                     layout=run["layout"], rng_initial=run["rng_initial"],
                     check_rng=check_rng, epochs=epochs, params=params, train=train,
                     n_per_epoch=n_per_epoch)
        if ck.header["n_epochs"] < 1:
            ck.fail("it records no completed epoch")
        try:
            gen.bit_generator.state = ck.generator_state()
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            ck.fail(f"header field 'rng_state' is not a valid "
                    f"{type(gen.bit_generator).__name__} state ({exc})")
        a = ck.arrays
        own = lambda x: np.array(x, dtype=np.float64, order="C")  # noqa: E731
        self.saved_epochs = ck.header["n_epochs"]
        return Resumed(params={p: own(a[f"net.{p}"]) for p in params},
                       m={p: own(a[f"adam_m.{p}"]) for p in train},
                       v={p: own(a[f"adam_v.{p}"]) for p in train},
                       step=ck.header["adam_step"],
                       history=[float(x) for x in a["loss_history"]],
                       batch_losses=[float(x) for x in a["batch_losses"]])

    def fail(self, problem, option=None):
        """Raise :class:`~reservoir.errors.CheckpointError` for this checkpoint."""
        raise CheckpointError(self.path, problem, option)

    def due(self, n_epochs: int) -> bool:
        """Whether a checkpoint is due after ``n_epochs`` completed epochs."""
        return self.active and n_epochs % self.every == 0

    def save(self, *, params, state, train, history, batch_losses, gen, epochs) -> None:
        """Write the state after ``len(history)`` completed epochs."""
        n = len(history)
        header = dict(self._run, format=FORMAT, format_version=FORMAT_VERSION,
                      version=__version__, n_epochs=n, n_batches=len(batch_losses),
                      adam_step=int(state.step), epochs=int(epochs), trained=list(train),
                      params=list(params),
                      rng_state=rng_state_to_json(gen.bit_generator.state))
        arrays = {f"net.{p}": np.asarray(v, dtype=np.float64) for p, v in params.items()}
        for p in train:
            arrays[f"adam_m.{p}"] = state.m[p]
            arrays[f"adam_v.{p}"] = state.v[p]
        arrays["loss_history"] = np.asarray(history, dtype=np.float64)
        arrays["batch_losses"] = np.asarray(batch_losses, dtype=np.float64)
        write(self.path, header, arrays)
        self.saved_epochs = n


def _fspath_arg(path) -> str:
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"checkpoint must be a str or path-like, got "
                        f"{type(path).__name__}") from None


def options_of(func, call: dict):
    """The options of a call (its arguments but :data:`NOT_OPTIONS`) and their defaults.

    Parameters
    ----------
    func : callable
        The function called (``bptt``).
    call : dict
        Its arguments by name (``locals()`` on entry).

    Returns
    -------
    options, defaults : dict
        The arguments, and the defaults of those that have one.
    """
    sig = inspect.signature(func)
    options = {k: call[k] for k in sig.parameters if k not in NOT_OPTIONS and k in call}
    defaults = {k: sig.parameters[k].default for k in options
                if sig.parameters[k].default is not inspect.Parameter.empty}
    return options, defaults
