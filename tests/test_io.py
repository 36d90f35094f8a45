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
