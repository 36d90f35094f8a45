"""Untrusted network files and sparse J (issue 13, item 2): every malformed file raises
``NetworkFileError`` (a ``ValueError``) naming the file and the problem, and a broken CSR ``J``
given to ``Network`` raises ``ValueError``/``TypeError`` naming ``J``.

Each crafted case is loaded (and, if accepted, simulated) in a subprocess, so that a
segfault fails that case instead of killing the test run. One subprocess runs the cases in
order and reports each; after a crash the remaining cases run in a fresh one.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, strategies as st

import reservoir as rs
from reservoir.errors import NetworkFileError

ROOT = Path(__file__).resolve().parents[1]
N = 6


def _net(sparse=True):
    net = rs.random_network(N, 1.2, 1, 1, density=0.5 if sparse else 1.0, rng=0)
    return net.with_readout(np.random.default_rng(1).standard_normal((1, N)))


def _arrays(net, tmp):
    """The members ``rs.save`` writes, as a dict of arrays (header included)."""
    p = tmp / "base.npz"
    rs.save(net, p)
    with np.load(p) as f:
        return {k: f[k] for k in f.files}


def _header(arrays):
    return json.loads(str(arrays["header"]))


def _with_header(arrays, **changes):
    h = _header(arrays)
    for k, v in changes.items():
        if v is _DROP:
            h.pop(k)
        else:
            h[k] = v
    return {**arrays, "header": np.array(json.dumps(h))}


_DROP = object()


class _Evil:
    """Unpickling this creates the marker file: a load that unpickles leaves a trace."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _npy_bytes(header: dict, payload: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


def _zip(path, members: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names warn
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members if isinstance(members, list) else members.items():
                zf.writestr(name, data)


def _file_cases(tmp: Path):
    """``{name: (path, expected)}``; expected is a regex the NetworkFileError message must
    match, or ``("loads", dense_J)`` for a file that must load to that J."""
    sparse, dense = _net(True), _net(False)
    S, D = _arrays(sparse, tmp), _arrays(dense, tmp)
    cases = {}

    def put(name, arrays=None, raw=None, expect=None):
        p = tmp / f"{name}.npz"
        if raw is not None:
            p.write_bytes(raw)
        elif arrays is not None:
            np.savez(p, **arrays)
        cases[name] = (str(p), expect)

    put("valid_sparse", S, expect=("loads", sparse.dense_J()))
    put("valid_dense", D, expect=("loads", dense.dense_J()))
    put("valid_fortran_order", {**D, "J": np.asfortranarray(D["J"])},
        expect=("loads", dense.dense_J()))
    put("valid_big_endian", {**S, "W_in": S["W_in"].astype(">f8")},
        expect=("loads", sparse.dense_J()))
    # the CSR structure
    ind = S["J_indices"]
    put("index_out_of_range", {**S, "J_indices": np.where(ind == ind.max(), N, ind)},
        expect=r"J\.indices must lie in \[0, 6\), found 6")
    put("index_huge", {**S, "J_indices": np.r_[ind[:-1].astype(np.int64), 2**40]},
        expect=r"J\.indices must lie in \[0, 6\)")
    put("index_uint64_huge", {**S, "J_indices": np.r_[ind[:-1].astype(np.uint64), np.uint64(2**63)]},
        expect=r"J\.indices must lie in \[0, 6\)")
    put("index_negative", {**S, "J_indices": np.r_[-1, ind[1:]].astype(ind.dtype)},
        expect=r"J\.indices must lie in \[0, 6\), found -1")
    put("index_float", {**S, "J_indices": ind.astype(np.float64) + 0.5},
        expect=r"J_indices.*float64.*integer")
    ptr = S["J_indptr"]
    dec = ptr.copy()
    dec[2], dec[3] = ptr[3], ptr[2] - 1
    put("indptr_decreasing", {**S, "J_indptr": dec}, expect=r"indptr must be non-decreasing")
    put("indptr_end", {**S, "J_indptr": np.r_[ptr[:-1], ptr[-1] + 1].astype(ptr.dtype)},
        expect=r"indptr must end at the number of stored entries")
    put("indptr_start", {**S, "J_indptr": (ptr + 1).astype(ptr.dtype)},
        expect=r"indptr must start at 0")
    put("indptr_short", {**S, "J_indptr": ptr[:-1]}, expect=r"indptr must have 7 entries")
    put("indptr_float", {**S, "J_indptr": ptr.astype(np.float64)}, expect=r"J_indptr.*float64")
    put("data_length", {**S, "J_data": S["J_data"][:-1]}, expect=r"same length")
    put("data_nan", {**S, "J_data": np.r_[np.nan, S["J_data"][1:]]}, expect=r"NaN")
    put("data_float32", {**S, "J_data": S["J_data"].astype(np.float32)},
        expect=r"J_data.*float32.*float64")
    put("data_complex", {**S, "J_data": S["J_data"].astype(complex)}, expect=r"J_data.*complex")
    # unsorted indices with duplicates: canonicalised, duplicates summed
    data = np.array([1.0, 2.0, 3.0, 4.0])
    indices = np.array([5, 0, 5, 2], dtype=np.int32)
    indptr = np.array([0, 3, 3, 4, 4, 4, 4], dtype=np.int32)
    expected = np.zeros((N, N))
    np.add.at(expected, ([0, 0, 0, 2], [5, 0, 5, 2]), data)
    put("unsorted_duplicates", {**S, "J_data": data, "J_indices": indices, "J_indptr": indptr},
        expect=("loads", expected))
    # the archive
    raw = (tmp / "base.npz").read_bytes()  # the dense file (written last)
    put("empty", raw=b"", expect=r"not a zip archive")
    put("truncated_half", raw=raw[: len(raw) // 2], expect=r"not a zip archive")
    put("truncated_tail", raw=raw[:-10], expect=r"not a zip archive")
    put("not_a_zip", raw=b"reservoir network? no. " * 40, expect=r"not a zip archive")
    j = raw.find(dense.J.tobytes())
    flipped = bytearray(raw)
    flipped[j + 17] ^= 0x01
    put("bad_crc", raw=bytes(flipped), expect=r"CRC")
    foreign = tmp / "foreign.zip"
    _zip(foreign, {"readme.txt": b"hello"})
    put("foreign_zip", raw=foreign.read_bytes(), expect=r"no header")
    put("foreign_npz", {"a": np.ones(3)}, expect=r"no header")
    put("other_format", _with_header(S, format="something.else"), expect=r"another format")
    put("missing_member", {k: v for k, v in S.items() if k != "W_out"},
        expect=r"missing members \['W_out'\]")
    put("missing_sparse_member", {k: v for k, v in S.items() if k != "J_indptr"},
        expect=r"missing members \['J_indptr'\]")
    put("dense_header_sparse_members", _with_header(S, sparse=False),
        expect=r"missing members \['J'\]")
    put("unknown_member", {**S, "extra": np.ones(2)}, expect=r"unknown members \['extra.npy'\]")
    dup = tmp / "dup.npz"
    with zipfile.ZipFile(tmp / "base.npz") as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    _zip(dup, members + [members[-1]])
    put("duplicate_member", raw=dup.read_bytes(), expect=r"duplicated members")
    # shapes and dtypes
    put("wrong_shape_W_out", {**S, "W_out": np.ones((1, N + 1))}, expect=r"W_out")
    put("wrong_ndim_b", {**S, "b": np.ones((N, 1))}, expect=r"'b.npy' must have 1 dimensions")
    put("dense_J_not_square", {**D, "J": D["J"][:, :-1]}, expect=r"J has shape \(6, 5\)")
    put("dense_J_vs_header_N", _with_header(D, N=N + 1), expect=r"header says N = 7")
    put("wrong_dtype_W_in_int", {**S, "W_in": np.ones((N, 1), dtype=np.int64)},
        expect=r"W_in.*int64.*float64")
    put("header_bytes", {**S, "header": np.array(b"{}")}, expect=r"header.*dtype")
    forged = tmp / "forged.npz"
    with zipfile.ZipFile(tmp / "base.npz") as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["J.npy"] = _npy_bytes({"descr": "<f8", "fortran_order": False,
                                   "shape": (10**12, 10**12)}, b"\0" * 64)
    _zip(forged, members)
    put("forged_huge_shape", raw=forged.read_bytes(), expect=r"J\.npy.*announces shape")
    # object arrays: must never be unpickled
    marker = tmp / "unpickled.marker"
    put("object_array", {**S, "W_in": np.array([[_Evil(str(marker))]] * N, dtype=object)},
        expect=r"W_in.*dtype object")
    put("object_header", {**S, "header": np.array([_Evil(str(marker))], dtype=object)},
        expect=r"header.*dtype object")
    # the JSON header
    put("header_not_json", {**S, "header": np.array("{not json")}, expect=r"not valid JSON")
    put("header_not_a_dict", {**S, "header": np.array("[1, 2]")}, expect=r"another format")
    put("header_missing_phi", _with_header(S, phi=_DROP), expect=r"'phi' is missing")
    put("header_bad_phi", _with_header(S, phi="nonsense"), expect=r"phi")
    put("header_nan_tau", _with_header(S, tau=float("nan")), expect=r"tau")
    put("header_N_string", _with_header(S, N="6"), expect=r"'N'")
    put("header_N_zero", _with_header(S, N=0), expect=r"'N' must be >= 1")
    put("header_meta_list", _with_header(S, meta=[1]), expect=r"'meta'")
    put("newer_format", _with_header(S, format_version=99), expect=r"newer reservoir")
    return cases, marker


def _csr_cases():
    """``{name: (kind, arrays, expected)}`` for ``Network(J=...)`` with a sparse J whose
    arrays are set directly (bypassing scipy's constructor checks)."""
    J = _net(True).J
    d, i, p = J.data.copy(), J.indices.copy(), J.indptr.copy()
    dec = p.copy()
    dec[2], dec[3] = p[3], p[2] - 1
    cases = {
        "index_out_of_range": ("csr", (d, np.where(i == i.max(), N, i), p),
                               r"J\.indices must lie in \[0, 6\), found 6"),
        "index_negative": ("csr", (d, np.r_[-1, i[1:]], p), r"J\.indices.*found -1"),
        "index_float": ("csr", (d, i + 0.5, p), r"J\.indices must be an integer array"),
        "indptr_decreasing": ("csr", (d, i, dec), r"J\.indptr must be non-decreasing"),
        "indptr_end": ("csr", (d, i, np.r_[p[:-1], p[-1] + 1]), r"J\.indptr must end"),
        "indptr_start": ("csr", (d, i, p + 1), r"J\.indptr must start at 0"),
        "indptr_short": ("csr", (d, i, p[:-1]), r"J\.indptr must have 7 entries"),
        "indptr_2d": ("csr", (d, i, p[:, None]), r"J\.indptr must be 1-D"),
        "data_length": ("csr", (d[:-1], i, p), r"J\.data and J\.indices"),
        "data_nan": ("csr", (np.r_[np.nan, d[1:]], i, p), r"J contains NaN"),
        "data_complex": ("csr", (d.astype(complex), i, p), r"J\.data must be real"),
        "data_object": ("csr", (d.astype(object), i, p), r"J\.data must be a real numeric"),
        "csc_index_out_of_range": ("csc", (d, np.where(i == i.max(), 99, i), p),
                                   r"J\.indices must lie in \[0, 6\)"),
        "coo_col_negative": ("coo", (d, np.repeat(np.arange(N), np.diff(p)), np.r_[-2, i[1:]]),
                             r"J\.col must lie in \[0, 6\), found -2"),
        "coo_row_out_of_range": ("coo", (d, np.r_[N, np.repeat(np.arange(N), np.diff(p))[1:]],
                                         i), r"J\.row must lie in \[0, 6\), found 6"),
        "unsorted_duplicates": ("csr", (np.array([1.0, 2.0, 3.0, 4.0]),
                                        np.array([5, 0, 5, 2]), np.array([0, 3, 3, 4, 4, 4, 4])),
                                ("loads", None)),
    }
    return cases


RUNNER = r'''
import json, sys
import numpy as np
import scipy.sparse as sp
import reservoir as rs
from reservoir.errors import NetworkFileError

def sparse_J(kind, a, b, c, N):
    if kind == "coo":
        m = sp.coo_matrix((np.ones(1), ([0], [0])), shape=(N, N))
        m.data, m.row, m.col = a, b, c
        return m
    m = (sp.csr_matrix if kind == "csr" else sp.csc_matrix)(np.eye(N))
    m.data, m.indices, m.indptr = a, b, c
    return m

for case in json.load(open(sys.argv[1])):
    print(json.dumps({"name": case["name"], "status": "started"}), flush=True)
    out = {"name": case["name"], "status": "done"}
    try:
        if case["kind"] == "file":
            net = rs.load(case["path"])
        else:
            with np.load(case["path"], allow_pickle=True) as f:
                J = sparse_J(case["kind"], f["a"], f["b"], f["c"], case["N"])
            base = rs.load(case["base"])
            net = rs.Network(J=J, W_in=base.W_in, W_fb=base.W_fb, W_out=base.W_out, b=base.b)
    except Exception as exc:
        out.update(error=type(exc).__name__, message=str(exc),
                   value_error=isinstance(exc, ValueError),
                   network_file_error=isinstance(exc, NetworkFileError))
    else:
        traj = rs.simulate(net, np.ones((5, net.n_inputs)), mode="closed")
        out.update(error=None, dense_J=net.dense_J().tolist(),
                   finite=bool(np.all(np.isfinite(traj.x))),
                   canonical=bool(net.J.has_canonical_format) if net.is_sparse else None)
    print(json.dumps(out), flush=True)
'''


def _run_cases(tmp: Path, cases: list) -> dict:
    """Run ``cases`` in subprocesses; ``{name: report}``, with ``{"status": "crashed"}`` for a
    case during which the subprocess died."""
    script = tmp / "runner.py"
    script.write_text(RUNNER)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    reports, todo = {}, list(cases)
    while todo:
        spec = tmp / "cases.json"
        spec.write_text(json.dumps(todo))
        proc = subprocess.run([sys.executable, str(script), str(spec)], capture_output=True,
                              text=True, timeout=300, env=env, cwd=str(tmp))
        started = None
        for line in proc.stdout.splitlines():
            rep = json.loads(line)
            if rep["status"] == "started":
                started = rep["name"]
            else:
                reports[rep["name"]] = rep
                started = None
        if started is not None:  # died inside this case
            reports[started] = {"status": "crashed", "returncode": proc.returncode,
                                "stderr": proc.stderr[-2000:]}
        elif proc.returncode != 0:
            pytest.fail(f"runner failed outside any case:\n{proc.stderr[-3000:]}")
        done = set(reports)
        todo = [c for c in todo if c["name"] not in done]
    return reports


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crafted")
    files, marker = _file_cases(tmp)
    base = tmp / "valid_sparse.npz"
    specs = [{"name": f"file:{k}", "kind": "file", "path": p} for k, (p, _) in files.items()]
    csr = _csr_cases()
    for k, (kind, (a, b, c), _) in csr.items():
        p = tmp / f"csr_{k}.npz"
        np.savez(p, a=a, b=b, c=c)
        specs.append({"name": f"csr:{k}", "kind": kind, "path": str(p), "base": str(base),
                      "N": N})
    reports = _run_cases(tmp, specs)
    expected = {f"file:{k}": e for k, (_, e) in files.items()}
    expected.update({f"csr:{k}": e for k, (_, _, e) in csr.items()})
    paths = {f"file:{k}": p for k, (p, _) in files.items()}
    return reports, expected, paths, marker


FILE_CASES = ["valid_sparse", "valid_dense", "valid_fortran_order", "valid_big_endian",
              "index_out_of_range", "index_huge", "index_uint64_huge", "index_negative",
              "index_float", "indptr_decreasing", "indptr_end", "indptr_start", "indptr_short",
              "indptr_float", "data_length", "data_nan", "data_float32", "data_complex",
              "unsorted_duplicates", "empty", "truncated_half", "truncated_tail", "not_a_zip",
              "bad_crc", "foreign_zip", "foreign_npz", "other_format", "missing_member",
              "missing_sparse_member", "dense_header_sparse_members", "unknown_member",
              "duplicate_member", "wrong_shape_W_out", "wrong_ndim_b", "dense_J_not_square",
              "dense_J_vs_header_N", "wrong_dtype_W_in_int", "header_bytes",
              "forged_huge_shape", "object_array", "object_header", "header_not_json",
              "header_not_a_dict", "header_missing_phi", "header_bad_phi", "header_nan_tau",
              "header_N_string", "header_N_zero", "header_meta_list", "newer_format"]


def test_case_lists_are_complete(tmp_path):
    files, _ = _file_cases(tmp_path)
    assert sorted(files) == sorted(FILE_CASES)
    assert sorted(_csr_cases()) == sorted(CSR_CASES)


def _report(reports, expected, key):
    """The subprocess's report of one case (it must have run to the end) and what the case
    expects."""
    rep = reports[key]
    assert rep["status"] == "done", f"crashed (return code {rep.get('returncode')}): " \
                                    f"{rep.get('stderr')}"
    return rep, expected[key]


@pytest.mark.parametrize("case", FILE_CASES)
def test_crafted_file(outcomes, case):
    reports, expected, paths, marker = outcomes
    rep, want = _report(reports, expected, f"file:{case}")
    if isinstance(want, tuple):
        assert rep["error"] is None, rep
        assert rep["finite"] and rep["canonical"] in (True, None)
        np.testing.assert_array_equal(np.array(rep["dense_J"]), want[1])
    else:
        assert rep["error"] == "NetworkFileError", rep
        assert rep["value_error"] and rep["network_file_error"]
        assert paths[f"file:{case}"] in rep["message"], rep["message"]
        assert __import__("re").search(want, rep["message"]), rep["message"]
    assert not marker.exists(), "a load unpickled an object array"


CSR_CASES = sorted(_csr_cases())


@pytest.mark.parametrize("case", CSR_CASES)
def test_crafted_sparse_J_given_to_network(outcomes, case):
    reports, expected, _, _ = outcomes
    rep, want = _report(reports, expected, f"csr:{case}")
    if isinstance(want, tuple):
        assert rep["error"] is None, rep
        assert rep["finite"] and rep["canonical"]
        dense = np.zeros((N, N))
        np.add.at(dense, ([0, 0, 0, 2], [5, 0, 5, 2]), [1.0, 2.0, 3.0, 4.0])
        np.testing.assert_array_equal(np.array(rep["dense_J"]), dense)
    else:
        assert rep["error"] in ("ValueError", "TypeError"), rep
        assert not rep["network_file_error"]
        assert __import__("re").search(want, rep["message"]), rep["message"]


# ------------------------------------------------------------------ in-process checks

def test_error_type_is_documented_value_error_and_picklable(tmp_path):
    import pickle
    p = tmp_path / "empty.npz"
    p.write_bytes(b"")
    with pytest.raises(NetworkFileError) as info:
        rs.load(p)
    err = info.value
    assert isinstance(err, ValueError) and err.path == str(p) and "zip" in err.problem
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is NetworkFileError and str(back) == str(err)
    with pytest.raises(OSError):
        rs.load(tmp_path / "does_not_exist.npz")
    with pytest.raises(OSError):
        rs.load(tmp_path)  # a directory


def test_member_claiming_more_than_physical_memory_is_refused(tmp_path, monkeypatch):
    net = _net(False)
    p = tmp_path / "n.npz"
    rs.save(net, p)
    monkeypatch.setattr("reservoir._checks.physical_memory", lambda: 100)
    with pytest.raises(NetworkFileError, match="more than physical memory"):
        rs.load(p)
    monkeypatch.setattr("reservoir._checks.physical_memory", lambda: None)
    assert rs.load(p) == net


def _corrupt(raw: bytes, edits, cut):
    b = bytearray(raw)
    for pos, val in edits:
        b[pos % len(b)] = val
    return bytes(b[:cut]) if cut is not None else bytes(b)


_SPARSE_NET = _net(True)
_DENSE_NET = _net(False)


@given(sparse=st.booleans(),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                      max_size=4),
       cut=st.none() | st.integers(0, 4000))
def test_random_corruption_loads_identically_or_raises(tmp_path_factory, sparse, edits, cut):
    """Any byte corruption of a valid file either loads the very same network (the bytes
    the loader ignores, e.g. zip timestamps) or raises NetworkFileError, never anything
    else and never a different network (every member's CRC-32 is checked)."""
    net = _SPARSE_NET if sparse else _DENSE_NET
    tmp = tmp_path_factory.mktemp("corrupt")
    p = tmp / "n.npz"
    rs.save(net, p)
    p.write_bytes(_corrupt(p.read_bytes(), edits, cut))
    try:
        back = rs.load(p)
    except NetworkFileError:
        return
    assert back == net
    assert back.meta == rs.load(_saved_copy(net, tmp)).meta


def _saved_copy(net, tmp):
    q = tmp / "clean.npz"
    rs.save(net, q)
    return q


def _byte_flip_outcomes(net, tmp, stride):
    p = tmp / "n.npz"
    rs.save(net, p)
    raw = p.read_bytes()
    q = tmp / "c.npz"
    counts = {"same": 0, "error": 0}
    for k in range(0, len(raw), stride):
        b = bytearray(raw)
        b[k] ^= 0xFF
        q.write_bytes(bytes(b))
        try:
            back = rs.load(q)
        except NetworkFileError:
            counts["error"] += 1
            continue
        assert back == net, f"flipping byte {k} loaded a different network"
        counts["same"] += 1
    return counts


def test_byte_flips_load_identically_or_raise(tmp_path):
    # every 13th byte: headers, array headers and data of every member are hit
    counts = _byte_flip_outcomes(_SPARSE_NET, tmp_path, 13)
    assert counts["error"] > 0 and counts["same"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("sparse", [True, False])
def test_every_single_byte_flip_loads_identically_or_raises(tmp_path, sparse):
    _byte_flip_outcomes(_SPARSE_NET if sparse else _DENSE_NET, tmp_path, 1)


def test_load_reads_no_more_than_it_validates(tmp_path):
    """A forged .npy header announcing 10^24 entries is refused before any allocation."""
    import tracemalloc
    net = _net(True)
    p = tmp_path / "n.npz"
    rs.save(net, p)
    with zipfile.ZipFile(p) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["J_data.npy"] = _npy_bytes({"descr": "<f8", "fortran_order": False,
                                        "shape": (10**12,)}, b"\0" * 8 * 10)
    _zip(p, members)
    tracemalloc.start()
    try:
        with pytest.raises(NetworkFileError, match="announces shape"):
            rs.load(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**7


def test_a_member_announcing_more_than_the_header_allows_is_refused_before_allocation(
        tmp_path):
    """A 'zip bomb': a few hundred kB of compressed zeros announcing a huge W_in. The
    shape is checked against the header's N before any memory is allocated."""
    import io
    import json
    import tracemalloc
    import zipfile
    net = rs.random_network(20, 0.9, 1, 1, rng=0)
    path = tmp_path / "bomb.npz"
    rs.save(net, path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO()
    np.save(buf, np.zeros((5_000_000, 1)))          # 40 MB of zeros, N = 20 in the header
    members["W_in.npy"] = buf.getvalue()
    bomb = tmp_path / "bomb2.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    assert bomb.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(NetworkFileError, match=r"W_in\.npy' announces shape "
                                                                r"\(5000000, 1\), larger"):
            rs.load(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20                          # nothing near 40 MB was allocated
    assert json is not None
