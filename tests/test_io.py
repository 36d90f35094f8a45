import json

import numpy as np
import pytest

import reservoir as rs


@pytest.mark.parametrize("density", [1.0, 0.1])
@pytest.mark.parametrize("phi", ["tanh", "relu", "sigmoid"])
def test_save_load_round_trip_is_exact(tmp_path, density, phi):
    net = rs.random_network(120, 1.3, 2, 2, phi=phi, density=density, tau=2.0, dt=0.3,
                            bias_scale=0.1, rng=4)
    net = net.with_readout(np.random.default_rng(0).standard_normal((2, 120)))
    path = tmp_path / "net.npz"
    rs.save(net, path, metadata={"note": "trained"})
    back = rs.load(path)
    assert back == net
    assert back.is_sparse == net.is_sparse and back.phi == phi
    assert back.tau == 2.0 and back.dt == 0.3
    assert back.meta["seed"] == 4 and back.meta["g"] == 1.3
    assert back.meta["_saved"]["version"] == rs.__version__
    assert back.meta["_saved"]["metadata"] == {"note": "trained"}
    # the same dynamics, bit for bit
    U = np.ones((20, 2))
    a = rs.simulate(net, U, mode="closed")
    b = rs.simulate(back, U, mode="closed")
    np.testing.assert_array_equal(a.x, b.x)


def test_load_rejects_foreign_files(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, a=np.ones(3))
    with pytest.raises(ValueError, match="not a reservoir"):
        rs.load(p)
    np.savez(p, header=np.array(json.dumps({"format": "other"})))
    with pytest.raises(ValueError, match="not a reservoir"):
        rs.load(p)


def test_save_rejects_non_json_metadata(tmp_path):
    net = rs.random_network(5, 1.0, rng=0)
    with pytest.raises(TypeError, match="JSON"):
        rs.save(net, tmp_path / "n.npz", metadata={"f": object()})
    with pytest.raises(TypeError, match="net"):
        rs.save("net", tmp_path / "n.npz")


def test_load_rejects_files_from_a_newer_format(tmp_path):
    net = rs.random_network(5, 1.0, rng=0)
    p = tmp_path / "n.npz"
    rs.save(net, p)
    with np.load(p) as f:
        arrays = {k: f[k] for k in f.files}
    header = json.loads(str(arrays["header"]))
    header["format_version"] = 99
    arrays["header"] = np.array(json.dumps(header))
    np.savez(p, **arrays)
    with pytest.raises(ValueError, match="newer"):
        rs.load(p)


def _members(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def test_load_accepts_equivalent_encodings(tmp_path):
    """Compressed archives, int64 or unsigned CSR indices, explicit zeros in J: the same
    network as the one saved (equality is bit for bit)."""
    import scipy.sparse as sp
    net = rs.random_network(40, 1.1, 1, 2, density=0.2, rng=3)
    J = net.J.copy()
    J.data[::3] = 0.0  # explicit zeros are kept
    net = rs.Network(J=J, W_in=net.W_in, W_fb=net.W_fb, W_out=net.W_out, b=net.b)
    assert net.J.nnz == J.nnz and sp.isspmatrix_csr(net.J)
    p = tmp_path / "n.npz"
    rs.save(net, p)
    arrays = _members(p)
    q = tmp_path / "c.npz"
    np.savez_compressed(q, **arrays)
    assert rs.load(q) == net
    for dtype in (np.int64, np.uint32, np.uint64):
        np.savez(q, **{**arrays, "J_indices": arrays["J_indices"].astype(dtype),
                       "J_indptr": arrays["J_indptr"].astype(dtype)})
        back = rs.load(q)
        assert back == net and back.J.indices.dtype == np.int32


def test_load_error_names_file_and_problem(tmp_path):
    p = tmp_path / "bad.npz"
    net = rs.random_network(5, 1.0, density=0.6, rng=0)
    rs.save(net, p)
    arrays = _members(p)
    arrays["J_indices"] = arrays["J_indices"].copy()
    arrays["J_indices"][0] = 5
    np.savez(p, **arrays)
    with pytest.raises(rs.errors.NetworkFileError,
                       match=r"bad\.npz: not a valid reservoir network file: J\.indices must "
                             r"lie in \[0, 5\), found 5") as info:
        rs.load(p)
    assert isinstance(info.value, ValueError) and info.value.path == str(p)
