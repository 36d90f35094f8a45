"""BPTT checkpoints (issue 14): an interrupted run resumed from its checkpoint equals the
uninterrupted run bit for bit; checkpoint files are untrusted input; resuming with other
options says which. Also the time-grid check of bptt (task.dt against net.dt)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import reservoir as rs
from reservoir.errors import CheckpointError
from reservoir.train import _checkpoint
from reservoir.train._bptt import loss_and_gradients


def _setup(N=10, B=20, T=8, K=1, seed=0, dt=1.0, sparse=False):
    density = 0.4 if sparse else 1.0
    net = rs.random_network(N, 1.0, 2, K, dt=dt, tau=max(dt, 1.0), density=density,
                            rng=seed)
    net = net.with_readout(np.random.default_rng(seed + 1).standard_normal((K, N)) / 4)
    rng = np.random.default_rng(seed + 2)
    U = rng.standard_normal((B, T, 2))
    Y = np.tanh(np.cumsum(U[..., :1], axis=1) * 0.3) * np.ones((1, 1, K))
    task = rs.tasks.Task(inputs=U, targets=Y, mask=np.ones((B, T)), dt=dt)
    return net, task


def _read(path):
    """Header and arrays of a checkpoint, read plainly (the test's own reader)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if k != "header"}
        header = json.loads(str(f["header"]))
    return header, arrays


def _same_checkpoint(a, b):
    ha, aa = _read(a)
    hb, ab = _read(b)
    assert ha == hb
    assert sorted(aa) == sorted(ab)
    for k in aa:
        np.testing.assert_array_equal(aa[k], ab[k], err_msg=k)
        assert aa[k].dtype == ab[k].dtype == np.float64


def _same_result(a, b):
    assert a.network == b.network
    assert a.network.is_sparse == b.network.is_sparse
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    np.testing.assert_array_equal(a.batch_losses, b.batch_losses)
    assert (a.n_epochs, a.n_batches, a.success, a.stopped_early, a.messages) == \
        (b.n_epochs, b.n_batches, b.success, b.stopped_early, b.messages)


VARIANTS = {
    "plain": dict(),
    "noise_dale_clip": dict(noise_std=0.2, dale=0.8, clip_norm=0.5),
    "closed_loop_l2": dict(mode="closed", train=("J", "W_in", "b", "W_out", "W_fb"),
                           weight_l2=1e-2, rate_l2=1e-2),
    "numba": dict(backend="numba"),
    "float32": dict(dtype="float32"),
    "sparse": dict(),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("stop", ["epochs", "crash"])
def test_interrupted_run_resumes_with_the_same_bits(tmp_path, variant, stop):
    """Stopped after 2 of 5 epochs (a call with epochs=2, or a crash raised from the
    callback after epoch 2), then resumed to 5: the network, the losses, Adam's moments
    and step count and the generator's state equal those of the uninterrupted run bit for
    bit, and checkpointing does not change the run itself."""
    net, task = _setup(sparse=variant == "sparse")
    kw = dict(batch_size=6, lr=1e-2, rng=3, **VARIANTS[variant])
    plain = rs.bptt(net, task, epochs=5, **kw)
    full = rs.bptt(net, task, epochs=5, checkpoint=tmp_path / "full.npz", **kw)
    _same_result(plain, full)
    part = tmp_path / "part.npz"
    if stop == "epochs":
        first = rs.bptt(net, task, epochs=2, checkpoint=part, **kw)
        assert first.n_epochs == 2
    else:
        def crash(epoch, loss, network):
            if epoch == 1:
                raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            rs.bptt(net, task, epochs=5, checkpoint=part, callback=crash, **kw)
    assert _read(part)[0]["n_epochs"] == 2
    resumed = rs.bptt(net, task, epochs=5, checkpoint=part, **kw)
    _same_result(full, resumed)
    _same_checkpoint(tmp_path / "full.npz", part)
    if variant == "sparse":
        assert resumed.network.is_sparse
        np.testing.assert_array_equal(resumed.network.J.indices, net.J.indices)


def test_checkpoint_holds_adam_state_of_an_independent_computation(tmp_path):
    """One trial, one mini-batch, one epoch: the saved moments are Adam's first step on
    the gradient of loss_and_gradients, m = (1 - beta1) g and v = (1 - beta2) g^2, the
    step count is 1, and the saved network is the Adam update of the initial one."""
    net, task = _setup(B=1)
    path = tmp_path / "c.npz"
    res = rs.bptt(net, task, epochs=1, batch_size=1, lr=1e-2, decay=0.0, rng=0,
                  checkpoint=path)
    _, g = loss_and_gradients(net, task.inputs, task.targets, task.mask)
    header, arrays = _read(path)
    assert header["adam_step"] == 1 and header["n_epochs"] == 1 and header["n_batches"] == 1
    for p in ("J", "W_in", "b", "W_out"):
        np.testing.assert_allclose(arrays[f"adam_m.{p}"], 0.1 * g[p], rtol=1e-12, atol=0)
        np.testing.assert_allclose(arrays[f"adam_v.{p}"], 0.001 * g[p] ** 2, rtol=1e-12,
                                   atol=0)
        step = 1e-2 * g[p] / (np.abs(g[p]) + 1e-8)   # first Adam step: m_hat = g, v_hat = g^2
        p0 = np.asarray(getattr(net, p))
        np.testing.assert_allclose(arrays[f"net.{p}"], p0 - step, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(arrays[f"net.{p}"], getattr(res.network, p))
    np.testing.assert_array_equal(arrays["loss_history"], res.loss_history)


def test_checkpoint_every_and_the_final_save(tmp_path):
    """Saved after epochs 2 and 4 (checkpoint_every=2) and at the end (5); the callback,
    called after the save of its epoch, sees the file of the last due save."""
    net, task = _setup()
    path = tmp_path / "c.npz"
    seen = []

    def look(epoch, loss, network):
        seen.append(_read(path)[0]["n_epochs"] if path.exists() else None)
    rs.bptt(net, task, epochs=5, batch_size=6, rng=0, checkpoint=path, checkpoint_every=2,
            callback=look)
    assert seen == [None, 2, 2, 4, 4]
    assert _read(path)[0]["n_epochs"] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]     # no temporary file left


def test_resume_after_early_stop_stops_at_once_as_the_uninterrupted_run(tmp_path):
    net, task = _setup()
    kw = dict(batch_size=6, lr=1e-2, rng=1)
    ref = rs.bptt(net, task, epochs=8, **kw)
    h = ref.loss_history
    k = next(i for i in range(2, 8) if h[i] < h[:i].min())   # first reached at epoch k + 1
    threshold = float(h[k] + h[:k].min()) / 2
    full = rs.bptt(net, task, epochs=8, early_stop=threshold, **kw)
    assert full.stopped_early and full.n_epochs == k + 1
    path = tmp_path / "c.npz"
    rs.bptt(net, task, epochs=k + 1, checkpoint=path, **kw)
    again = rs.bptt(net, task, epochs=8, early_stop=threshold, checkpoint=path, **kw)
    _same_result(full, again)
    # the same checkpoint, resumed without the threshold, keeps training to 8 epochs
    on = rs.bptt(net, task, epochs=8, checkpoint=path, **kw)
    _same_result(ref, on)


def test_resume_with_as_many_epochs_as_done_returns_the_checkpointed_run(tmp_path):
    net, task = _setup()
    kw = dict(batch_size=6, rng=2, checkpoint=tmp_path / "c.npz")
    a = rs.bptt(net, task, epochs=3, **kw)
    b = rs.bptt(net, task, epochs=3, **kw)
    _same_result(a, b)


def test_resume_modes(tmp_path):
    net, task = _setup()
    path = tmp_path / "c.npz"
    with pytest.raises(FileNotFoundError, match="c.npz"):
        rs.bptt(net, task, epochs=2, checkpoint=path, resume=True, rng=0)
    rs.bptt(net, task, epochs=2, checkpoint=path, rng=0)               # None: fresh
    with pytest.raises(CheckpointError) as info:                       # None: resumes
        rs.bptt(net, task, epochs=2, checkpoint=path, lr=1e-3, rng=0)
    assert info.value.option == "lr"
    fresh = rs.bptt(net, task, epochs=2, checkpoint=path, lr=1e-3, rng=0, resume=False)
    _same_result(fresh, rs.bptt(net, task, epochs=2, lr=1e-3, rng=0))
    assert _read(path)[0]["options"]["lr"] == 1e-3                     # overwritten
    # a file of another kind at the checkpoint path is never overwritten by a resume
    rs.save(net, tmp_path / "net.npz")
    with pytest.raises(CheckpointError, match="not a BPTT checkpoint"):
        rs.bptt(net, task, epochs=2, checkpoint=tmp_path / "net.npz", rng=0)
    assert rs.load(tmp_path / "net.npz") == net


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(checkpoint=3), TypeError, "checkpoint"),
    (dict(checkpoint="c.npz", checkpoint_every=0), ValueError, "checkpoint_every"),
    (dict(checkpoint="c.npz", checkpoint_every=1.5), TypeError, "checkpoint_every"),
    (dict(checkpoint="c.npz", resume="yes"), TypeError, "resume"),
    (dict(resume=True), ValueError, "checkpoint"),
    (dict(checkpoint="no/such/folder/c.npz"), ValueError, "folder"),
])
def test_bad_checkpoint_arguments(tmp_path, monkeypatch, kwargs, exc, word):
    monkeypatch.chdir(tmp_path)
    net, task = _setup()
    with pytest.raises(exc, match=word):
        rs.bptt(net, task, epochs=1, rng=0, **kwargs)


def test_a_checkpoint_that_is_a_folder_is_refused(tmp_path):
    net, task = _setup()
    with pytest.raises(ValueError, match="folder"):
        rs.bptt(net, task, epochs=1, rng=0, checkpoint=tmp_path)


def test_write_is_atomic(tmp_path, monkeypatch):
    """A write that fails half-way leaves the previous checkpoint intact and no temporary
    file behind."""
    net, task = _setup()
    path = tmp_path / "c.npz"
    rs.bptt(net, task, epochs=1, batch_size=6, rng=0, checkpoint=path)
    before = path.read_bytes()

    def broken_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")
    monkeypatch.setattr(_checkpoint.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        rs.bptt(net, task, epochs=2, batch_size=6, rng=0, checkpoint=path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_no_checkpoint_after_a_blow_up(tmp_path):
    net, task = _setup()
    path = tmp_path / "c.npz"
    with np.errstate(over="ignore"):
        res = rs.bptt(net, task, epochs=3, batch_size=6, lr=1e153, train=("W_out",), rng=3,
                      checkpoint=path)
    assert res.blow_up is not None and res.blow_up[0] == 1
    assert not path.exists()


# ------------------------------------------------------------------ mismatched options
def _other_net(net, task):
    return net.with_readout(net.W_out * 1.5), task


def _other_task(net, task):
    return net, rs.tasks.Task(inputs=task.inputs, targets=task.targets * 0.5,
                              mask=task.mask, dt=task.dt)


@pytest.mark.parametrize("change, option", [
    (dict(lr=2e-2), "lr"), (dict(batch_size=5), "batch_size"), (dict(decay=0.0), "decay"),
    (dict(clip_norm=1.0), "clip_norm"), (dict(train=("J", "W_out")), "train"),
    (dict(dale=0.5), "dale"), (dict(noise_std=0.1), "noise_std"),
    (dict(weight_l1=1e-3), "weight_l1"), (dict(dtype=np.float32), "dtype"),
    (dict(backend="numba"), "backend"), (dict(rng=4), "rng"), (dict(epochs=1), "epochs"),
    (dict(threads=1), "threads"), (_other_net, "net"), (_other_task, "task"),
    (dict(masks={"W_in": np.eye(16, 2, dtype=bool)}), "masks")])
def test_resuming_with_other_options_raises_naming_the_option(tmp_path, change, option):
    net, task = _setup(N=16, B=32)
    kw = dict(epochs=2, batch_size=16, lr=1e-2, rng=3, threads=2)
    path = tmp_path / "c.npz"
    rs.bptt(net, task, checkpoint=path, **kw)
    before = path.read_bytes()
    if callable(change):
        net, task = change(net, task)
    else:
        kw.update(change)
    with pytest.raises(CheckpointError) as info:
        rs.bptt(net, task, checkpoint=path, **kw)
    assert info.value.option == option
    assert option in str(info.value) and str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert path.read_bytes() == before


def test_equivalent_spellings_of_an_option_resume(tmp_path):
    """dtype=np.float64 and "float64", a train list and tuple, lr=1 and 1.0 are the same
    options."""
    net, task = _setup()
    path = tmp_path / "c.npz"
    a = rs.bptt(net, task, epochs=2, batch_size=6, lr=1, dtype=np.float64,
                train=["J", "W_in", "b", "W_out"], rng=0, checkpoint=path)
    b = rs.bptt(net, task, epochs=3, batch_size=6, lr=1.0, dtype="float64",
                train=("J", "W_in", "b", "W_out"), rng=0, checkpoint=path)
    assert b.n_epochs == 3
    np.testing.assert_array_equal(b.loss_history[:2], a.loss_history)


def test_rng_none_resumes_from_the_saved_generator(tmp_path):
    """With rng=None (fresh entropy) the seed is not compared; the run continues from the
    generator state in the checkpoint: two resumptions of one checkpoint, each with
    rng=None, give the same bits (the training noise comes from the saved generator)."""
    import shutil
    net, task = _setup()
    kw = dict(batch_size=6, noise_std=0.3)
    rs.bptt(net, task, epochs=1, checkpoint=tmp_path / "a.npz", **kw)
    shutil.copy(tmp_path / "a.npz", tmp_path / "b.npz")
    a = rs.bptt(net, task, epochs=3, checkpoint=tmp_path / "a.npz", **kw)
    b = rs.bptt(net, task, epochs=3, checkpoint=tmp_path / "b.npz", **kw)
    _same_result(a, b)
    other = rs.bptt(net, task, epochs=3, **kw)      # fresh entropy: another run
    assert not np.array_equal(other.loss_history, a.loss_history)


def test_a_generator_passed_as_rng_ends_where_the_uninterrupted_run_leaves_it(tmp_path):
    net, task = _setup()
    kw = dict(batch_size=6, noise_std=0.1)
    g_full = np.random.default_rng(7)
    rs.bptt(net, task, epochs=3, rng=g_full, **kw)
    rs.bptt(net, task, epochs=1, rng=np.random.default_rng(7),
            checkpoint=tmp_path / "c.npz", **kw)
    g_resumed = np.random.default_rng(7)
    rs.bptt(net, task, epochs=3, rng=g_resumed, checkpoint=tmp_path / "c.npz", **kw)
    assert g_resumed.bit_generator.state == g_full.bit_generator.state


# ------------------------------------------------------------------ malformed files
def _craft(tmp_path, name, header=None, arrays=None, drop=(), add=None):
    """A copy of a valid checkpoint with its header and arrays changed."""
    h, a = _read(tmp_path / "good.npz")
    if header:
        header(h)
    if arrays:
        arrays(a)
    for k in drop:
        a.pop(k)
    a.update(add or {})
    path = tmp_path / name
    with open(path, "wb") as fh:
        np.savez(fh, header=np.array(json.dumps(h)), **a)
    return path


def _set(key, value):
    def f(d):
        d[key] = value
    return f


def _raw(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _nan_in(name):
    def f(a):
        a[name] = a[name].copy()
        a[name].flat[0] = np.nan
    return f


def _negate(name):
    def f(a):
        a[name] = -np.abs(a[name]) - 1.0
    return f


def _reshape(name, shape):
    def f(a):
        a[name] = np.zeros(shape)
    return f


def _astype(name, dtype):
    def f(a):
        a[name] = a[name].astype(dtype)
    return f


def _pickled_member(tmp_path, name):
    good = (tmp_path / "good.npz").read_bytes()
    path = tmp_path / name
    path.write_bytes(good)
    with zipfile.ZipFile(path, "a") as zf:
        import io
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        zf.writestr("net.W_in2.npy", buf.getvalue())
    return path


def _replace_member(tmp_path, name, member, payload):
    """A copy of the good checkpoint with ``member``'s bytes replaced (None: left out)."""
    good = tmp_path / "good.npz"
    path = tmp_path / name
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = payload if info.filename == member else src.read(info.filename)
            if data is not None:
                dst.writestr(info.filename, data)
    return path


def _short_member(tmp_path, name):
    with zipfile.ZipFile(tmp_path / "good.npz") as zf:
        data = zf.read("net.J.npy")
    return _replace_member(tmp_path, name, "net.J.npy", data[:len(data) - 80])


def _flip_byte(tmp_path, name):
    data = bytearray((tmp_path / "good.npz").read_bytes())
    with zipfile.ZipFile(tmp_path / "good.npz") as zf:
        info = zf.getinfo("net.J.npy")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF   # inside J's data
    return _raw(tmp_path, name, bytes(data))


def _duplicate(tmp_path, name):
    path = tmp_path / name
    path.write_bytes((tmp_path / "good.npz").read_bytes())
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "a") as zf, zipfile.ZipFile(tmp_path / "good.npz") as g:
            zf.writestr("net.b.npy", g.read("net.b.npy"))
    return path


def _rng_of_other_kind(h):
    gen = np.random.Generator(np.random.MT19937(0))
    h["rng_state"] = _checkpoint.rng_state_to_json(gen.bit_generator.state)


CASES = {
    "empty": (lambda t, n: _raw(t, n, b""), "not a zip"),
    "not a zip": (lambda t, n: _raw(t, n, b"hello, not an archive" * 10), "not a zip"),
    "truncated": (lambda t, n: _raw(t, n, (t / "good.npz").read_bytes()[:700]), "zip"),
    "member shorter than its header says": (_short_member, "header announces shape"),
    "corrupted byte": (_flip_byte, "corrupted"),
    "duplicated member": (_duplicate, "duplicated"),
    "pickled member": (_pickled_member, "unknown members"),
    "object array in place": (lambda t, n: _replace_member(
        t, n, "net.b.npy", _npy(np.array([None] * 10, dtype=object))), "dtype object"),
    "missing member": (lambda t, n: _craft(t, n, drop=("adam_v.J",)), "missing"),
    "unknown member": (lambda t, n: _craft(t, n, add={"extra": np.zeros(2)}), "unknown"),
    "no header": (lambda t, n: _replace_member(t, n, "header.npy", None), "no header"),
    "header not json": (lambda t, n: _replace_member(
        t, n, "header.npy", _npy(np.array("{not json"))), "not valid JSON"),
    "other format": (lambda t, n: _craft(t, n, header=_set("format", "reservoir.network")),
                     "another format"),
    "newer format": (lambda t, n: _craft(t, n, header=_set("format_version", 99)), "newer"),
    "n_epochs a string": (lambda t, n: _craft(t, n, header=_set("n_epochs", "2")),
                          "'n_epochs'"),
    "n_epochs negative": (lambda t, n: _craft(t, n, header=_set("n_epochs", -1)), "n_epochs"),
    "adam_step wrong": (lambda t, n: _craft(t, n, header=_set("adam_step", 5)),
                        "step count"),
    "n_batches wrong": (lambda t, n: _craft(t, n, header=_set("n_batches", 7)), "shape"),
    "trained not in params": (lambda t, n: _craft(t, n, header=_set("trained", ["Q"])),
                              "'trained'"),
    "rng state garbage": (lambda t, n: _craft(t, n, header=_set(
        "rng_state", {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}})),
        "rng_state"),
    "rng of another kind": (lambda t, n: _craft(t, n, header=_rng_of_other_kind), "MT19937"),
    "J wrong shape": (lambda t, n: _craft(t, n, arrays=_reshape("net.J", (11, 10))),
                      "shape"),
    "b wrong ndim": (lambda t, n: _craft(t, n, arrays=_reshape("net.b", (10, 1))),
                     "dimensions"),
    "J float32": (lambda t, n: _craft(t, n, arrays=_astype("net.J", np.float32)),
                  "float64"),
    "J integer": (lambda t, n: _craft(t, n, arrays=_astype("net.J", np.int64)), "float64"),
    "NaN in J": (lambda t, n: _craft(t, n, arrays=_nan_in("net.J")), "NaN"),
    "NaN in Adam m": (lambda t, n: _craft(t, n, arrays=_nan_in("adam_m.W_out")), "NaN"),
    "NaN in losses": (lambda t, n: _craft(t, n, arrays=_nan_in("batch_losses")), "NaN"),
    "negative Adam v": (lambda t, n: _craft(t, n, arrays=_negate("adam_v.J")), "negative"),
    "history not the batch means": (lambda t, n: _craft(t, n, arrays=_negate(
        "loss_history")), "mean"),
    "network file": (lambda t, n: (rs.save(rs.random_network(10, 1.0, rng=0), t / n),
                                   t / n)[1], "not a BPTT checkpoint"),
}


def _npy(arr):
    import io
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_checkpoints_raise_the_documented_error(tmp_path, case):
    """Every crafted defect raises CheckpointError (a ValueError) naming the file and the
    problem; nothing is unpickled, and the file is left as it was."""
    net, task = _setup()
    kw = dict(batch_size=6, lr=1e-2, rng=0)
    rs.bptt(net, task, epochs=2, checkpoint=tmp_path / "good.npz", **kw)
    make, word = CASES[case]
    path = make(tmp_path, "bad.npz")
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as info:
        rs.bptt(net, task, epochs=4, checkpoint=path, **kw)
    err = info.value
    assert isinstance(err, ValueError) and err.path == str(path)
    assert str(path) in str(err) and word in str(err), str(err)
    assert path.read_bytes() == before


def test_weights_off_the_constraints_are_refused(tmp_path):
    """A checkpoint of a Dale run whose J has a wrong-signed weight is not a state the run
    can have reached."""
    net, task = _setup()
    kw = dict(batch_size=6, rng=0, dale=0.5)
    rs.bptt(net, task, epochs=1, checkpoint=tmp_path / "good.npz", **kw)

    def wrong_sign(a):
        J = a["net.J"].copy()
        J[0, -1] = 0.5          # column of an inhibitory unit: must be <= 0
        a["net.J"] = J
    path = _craft(tmp_path, "bad.npz", arrays=wrong_sign)
    with pytest.raises(CheckpointError, match="constraints"):
        rs.bptt(net, task, epochs=2, checkpoint=path, **kw)


def test_checkpoint_error_pickles():
    import pickle
    err = CheckpointError("a.npz", "broken", "lr")
    back = pickle.loads(pickle.dumps(err))
    assert (back.path, back.problem, back.option, str(back)) == \
        ("a.npz", "broken", "lr", str(err))


# ------------------------------------------------------------------ time grid
def test_bptt_refuses_a_task_on_another_time_grid():
    net, task = _setup(dt=1.0)
    coarse = rs.tasks.Task(inputs=task.inputs, targets=task.targets, mask=task.mask, dt=2.0)
    with pytest.raises(ValueError, match=r"task.dt = 2.0 differs from net.dt = 1.0.*"
                                         r"relative tolerance 1e-09"):
        rs.bptt(net, coarse, epochs=1, rng=0)
    # within the stated relative tolerance the grids are the same
    close = rs.tasks.Task(inputs=task.inputs, targets=task.targets, mask=task.mask,
                          dt=1.0 + 1e-12)
    assert rs.bptt(net, close, epochs=1, rng=0).n_epochs == 1
    far = rs.tasks.Task(inputs=task.inputs, targets=task.targets, mask=task.mask,
                        dt=1.0 + 1e-8)
    with pytest.raises(ValueError, match="dt"):
        rs.bptt(net, far, epochs=1, rng=0)


def test_jarne_network_on_a_coarse_task_grid():
    """Jarne's tasks at dt = 2 ms train a jarne_network(dt=2) and are refused by the
    default (dt = 1) one."""
    task = rs.tasks.xor(64, noise_std=0.1, dt=2.0, rng=0)
    with pytest.raises(ValueError, match="differs from net.dt"):
        rs.bptt(rs.jarne_network(8, 2, 1, rng=0), task, epochs=1, rng=0)
    net = rs.jarne_network(8, 2, 1, dt=2.0, rng=0)
    res = rs.bptt(net, task, epochs=1, batch_size=32, rng=0)
    assert res.network.dt == res.network.tau == 2.0 and res.n_epochs == 1


@pytest.mark.parametrize("kind", ["PCG64DXSM", "Philox", "SFC64", "MT19937"])
def test_other_bit_generators_resume_with_the_same_bits(tmp_path, kind):
    """The generator state of each of numpy's bit generators (arrays included: MT19937's
    key, Philox's counter) goes through the JSON header exactly."""
    net, task = _setup()
    kw = dict(batch_size=6, noise_std=0.2)
    gen = lambda: np.random.Generator(getattr(np.random, kind)(11))  # noqa: E731
    full = rs.bptt(net, task, epochs=3, rng=gen(), **kw)
    rs.bptt(net, task, epochs=1, rng=gen(), checkpoint=tmp_path / "c.npz", **kw)
    resumed = rs.bptt(net, task, epochs=3, rng=gen(), checkpoint=tmp_path / "c.npz", **kw)
    _same_result(full, resumed)
