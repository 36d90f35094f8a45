"""Save and load networks as ``.npz`` archives with JSON metadata (no pickle).

A network file is untrusted input: :func:`load` validates every member and the whole CSR
structure of a sparse ``J``, and raises :class:`~reservoir.errors.NetworkFileError` for any
malformed file.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
from numpy.lib import format as npformat

from . import _checks
from ._version import __version__
from .errors import NetworkFileError
from .network import Network, _canonical_csr

FORMAT = "reservoir.network"
FORMAT_VERSION = 2


def _fspath(path):
    """``os.fspath(path)``, with a ``TypeError`` that names the argument."""
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"path must be a str or path-like, got {type(path).__name__}") from None


def save(net: Network, path: str | os.PathLike, *, metadata: dict | None = None) -> None:
    """Write ``net`` to ``path`` (an ``.npz`` file; the suffix is not added for you).

    The archive holds the arrays (``J`` dense or as CSR ``J_data``/``J_indices``/
    ``J_indptr``) and a JSON string with the nonlinearity name, ``tau``, ``dt``, the
    package version, ``net.meta`` (seed and construction arguments) and ``metadata``.
    Loading gives back a network equal to ``net`` bit for bit.

    Parameters
    ----------
    net : Network
        The network to save.
    path : str or path-like
        File to write (overwritten if it exists).
    metadata : dict, optional
        JSON-serialisable extra information stored with the network.

    Returns
    -------
    None
        The file is written.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network`, ``metadata`` is not a dict, or
        ``net.meta`` or ``metadata`` is not JSON-serialisable.
    OSError
        If the file cannot be written.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "version": __version__,
              "phi": net.phi, "tau": net.tau, "dt": net.dt, "sparse": net.is_sparse,
              "N": net.N, "meta": net.meta, "metadata": metadata or {}}
    try:
        text = json.dumps(header)
    except TypeError as exc:
        raise TypeError(f"net.meta and metadata must be JSON-serialisable: {exc}") from exc
    arrays = {"W_in": net.W_in, "W_fb": net.W_fb, "W_out": net.W_out, "b": net.b,
              "b_out": net.b_out}
    if net.dale_signs is not None:
        arrays["dale_signs"] = net.dale_signs
    if net.is_sparse:
        arrays.update(J_data=net.J.data, J_indices=net.J.indices, J_indptr=net.J.indptr)
    else:
        arrays["J"] = net.J
    with open(_fspath(path), "wb") as fh:
        np.savez(fh, header=np.array(text), **arrays)


#: Members of a network file, besides ``header``: the dense or the CSR form of ``J``.
_COMMON = ("W_in", "W_fb", "W_out", "b")
_DENSE = ("J",)
_SPARSE = ("J_data", "J_indices", "J_indptr")
#: Optional members (format version 2): the readout intercept and Dale's signs.
_OPTIONAL = ("b_out", "dale_signs")
_CHUNK = 1 << 24


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, kinds: str, ndim: int,
                 fail, shape_spec=None) -> np.ndarray:
    """Read one ``.npy`` member without trusting it.

    ``shape_spec`` (a tuple of ints and None) bounds the dimensions known before reading
    (those set by the header's ``N`` or by members already read): a member announcing a
    larger shape (a zip bomb of compressed zeros) is refused before anything is
    allocated; a smaller one is read and refused by the checks that follow, which say
    what is inconsistent.

    The ``.npy`` header is parsed first; the dtype must be of one of ``kinds`` (never an
    object array: nothing is unpickled) and the data it announces must be exactly the rest
    of the member, so a forged shape allocates nothing. Reading to the member's end makes
    ``zipfile`` check its CRC-32, so corrupted bytes anywhere in the member are an error,
    not a different network.
    """
    name = info.filename
    if info.file_size > _memory_limit():
        fail(f"member {name!r} claims {info.file_size} bytes, more than physical memory")
    with zf.open(info) as fh:
        try:
            version = npformat.read_magic(fh)
            readers = {(1, 0): npformat.read_array_header_1_0,
                       (2, 0): npformat.read_array_header_2_0}
            if version in readers:
                shape, fortran, dtype = readers[version](fh)
        except (ValueError, SyntaxError, TypeError, OverflowError, EOFError,
                MemoryError, RecursionError) as exc:
            fail(f"member {name!r} has a malformed .npy header ({exc})")
        if version not in readers:
            fail(f"member {name!r} has an unsupported .npy format version {version}")
        if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None \
                or dtype.subdtype is not None:
            fail(f"member {name!r} has dtype {dtype}, expected "
                 + {"f": "float64", "iu": "an integer dtype", "U": "a unicode string"}[kinds])
        if kinds == "f" and dtype.itemsize != 8:
            fail(f"member {name!r} has dtype {dtype}, expected float64")
        if len(shape) != ndim or any(int(d) < 0 for d in shape):
            fail(f"member {name!r} must have {ndim} dimensions, got shape {shape}")
        if shape_spec is not None and any(w is not None and int(d) > w
                                          for d, w in zip(shape, shape_spec)):
            want = "(" + ", ".join("?" if w is None else str(w) for w in shape_spec) + ")"
            fail(f"member {name!r} announces shape {tuple(int(d) for d in shape)}, larger "
                 f"than {want} set by the header's N and the members read before it")
        count = 1
        for d in shape:
            count *= int(d)
        nbytes = count * dtype.itemsize
        if fh.tell() + nbytes != info.file_size:
            fail(f"member {name!r}: its header announces shape {shape} of {dtype} "
                 f"({nbytes} bytes), but the member holds {info.file_size - fh.tell()} "
                 "bytes of data")
        flat = np.empty(count, dtype=dtype)
        view = flat.view(np.uint8)  # the raw bytes, filled chunk by chunk
        pos = 0
        while pos < nbytes:
            chunk = fh.read(min(nbytes - pos, _CHUNK))
            if not chunk:
                fail(f"member {name!r} is truncated")
            view[pos:pos + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            pos += len(chunk)
        if fh.read(1):  # also reaches the end, where zipfile checks the CRC
            fail(f"member {name!r} has data after its array")
    order = "F" if fortran else "C"
    return flat.reshape(shape, order=order)


def _memory_limit() -> int:
    total = _checks.physical_memory()
    return total if total is not None else 2**62


def _header(raw: np.ndarray, fail) -> dict:
    try:
        header = json.loads(str(raw[()]))
    except (ValueError, RecursionError) as exc:
        fail(f"the header is not valid JSON ({exc})")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fail("not a reservoir network file (its header names another format)")
    version = header.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        fail(f"header field 'format_version' must be an int, got {version!r}")
    if version > FORMAT_VERSION:
        fail(f"written by a newer reservoir ({header.get('version')}, format version "
             f"{version}); upgrade to read it")
    want = {"N": int, "sparse": bool, "phi": str, "tau": (int, float), "dt": (int, float),
            "meta": dict, "metadata": dict}
    for key, kind in want.items():
        value = header.get(key, {} if key in ("meta", "metadata") else None)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            fail(f"header field {key!r} is missing or has the wrong type ({value!r})")
    if header["N"] < 1:
        fail(f"header field 'N' must be >= 1, got {header['N']}")
    return header


def load(path: str | os.PathLike) -> Network:
    """Read a network written by :func:`save`, treating the file as untrusted input.

    The archive must hold exactly the members :func:`save` writes, each a ``.npy`` array of
    the expected dtype and number of dimensions (float64 weights, integer CSR indices, a
    JSON header); nothing is unpickled. Every member is read to its end, so ``zipfile``
    checks its CRC-32 (a corrupted byte is an error, not a different network). The arrays
    then pass the checks of :class:`~reservoir.Network`, including the whole CSR structure
    of a sparse ``J`` (index bounds, ``indptr``), before any compiled code uses them.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.

    Returns
    -------
    Network
        With ``meta`` restored; the file's ``metadata`` and version are available as
        ``net.meta["_saved"]``.

    Raises
    ------
    NetworkFileError
        (a ``ValueError``) If the file is malformed in any way: empty, truncated or
        corrupted, not a zip archive, a missing, unknown or duplicated member, a wrong
        shape or dtype, an object array, a broken CSR structure, a bad header, or written
        by a newer format version. The message names the file and the problem.
    OSError
        If the file cannot be opened (missing, a directory, no permission).
    TypeError
        If ``path`` is not a str or path-like.
    """
    return read_untrusted_archive(path, NetworkFileError, _load_archive)


def read_untrusted_archive(path, error_cls, reader):
    """Open ``path`` as a zip archive and return ``reader(zf, fail)``, every defect raising
    ``error_cls(path, problem)`` (a ``ValueError`` subclass).

    ``fail(problem)`` raises that error; anything else ``reader`` raises while reading
    (a corrupted archive: bad CRC or local header, a forged compression method, the
    encryption flag, memory or recursion exhausted) is reported the same way. Used by
    :func:`load` and by the BPTT checkpoints.
    """
    fspath = _fspath(path)

    def fail(problem):
        raise error_cls(fspath, problem)

    with open(fspath, "rb") as raw:
        try:
            zf = zipfile.ZipFile(raw)
        except Exception as exc:  # BadZipFile, EOFError, ValueError, OSError, ...
            fail(f"not a zip archive (.npz) ({type(exc).__name__}: {exc})")
        with zf:
            try:
                return reader(zf, fail)
            except error_cls:
                raise
            except (MemoryError, RecursionError) as exc:
                fail(f"{type(exc).__name__} while reading it")
            except Exception as exc:
                # a corrupted archive: bad CRC or local header (BadZipFile), a forged
                # compression method (zlib.error, OSError, LZMAError, NotImplementedError),
                # the encryption flag (RuntimeError), ...
                fail(f"corrupted archive ({type(exc).__name__}: {exc})")


def _load_archive(zf: zipfile.ZipFile, fail) -> Network:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        fail(f"duplicated members {dup}")
    members = {n[:-4]: i for n, i in zip(names, infos) if n.endswith(".npy")}
    if "header" not in members:
        fail("not a reservoir network file (no header member)")
    header = _header(_read_member(zf, members["header"], "U", 0, fail), fail)
    N = header["N"]
    expected = ("header",) + _COMMON + (_SPARSE if header["sparse"] else _DENSE)
    missing = [m for m in expected if m not in members]
    if missing:
        fail(f"missing members {missing}")
    unknown = sorted(set(names) - {m + ".npy" for m in expected + _OPTIONAL})
    if unknown:
        fail(f"unknown members {unknown}")
    arrays = {}
    arrays["W_fb"] = _read_member(zf, members["W_fb"], "f", 2, fail, (N, None))
    K = arrays["W_fb"].shape[1]
    arrays["W_in"] = _read_member(zf, members["W_in"], "f", 2, fail, (N, None))
    arrays["W_out"] = _read_member(zf, members["W_out"], "f", 2, fail, (K, N))
    arrays["b"] = _read_member(zf, members["b"], "f", 1, fail, (N,))
    for m, spec in (("b_out", (K,)), ("dale_signs", (N,))):
        if m in members:
            arrays[m] = _read_member(zf, members[m], "f", 1, fail, spec)
    try:
        if header["sparse"]:
            indptr = _read_member(zf, members["J_indptr"], "iu", 1, fail, (N + 1,))
            nnz = int(indptr[-1]) if indptr.size == N + 1 and indptr[-1] >= 0 else None
            data = _read_member(zf, members["J_data"], "f", 1, fail, (nnz,))
            indices = _read_member(zf, members["J_indices"], "iu", 1, fail, (nnz,))
            J = _canonical_csr(data, indices, indptr, N, "J")
        else:
            J = _read_member(zf, members["J"], "f", 2, fail, (N, N))
            if J.shape != (N, N):
                fail(f"J has shape {J.shape}, the header says N = {N}")
        meta = dict(header["meta"])
        meta["_saved"] = {"version": header.get("version"),
                          "metadata": header["metadata"]}
        return Network(J=J, **arrays, phi=header["phi"], tau=header["tau"],
                       dt=header["dt"], meta=meta)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, NetworkFileError):
            raise
        fail(str(exc))
