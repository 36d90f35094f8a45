import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

import reservoir as rs
from helpers import assert_rejects


def _parts(N=4, M=2, K=1):
    rng = np.random.default_rng(0)
    return dict(J=rng.standard_normal((N, N)), W_in=rng.standard_normal((N, M)),
                W_fb=rng.standard_normal((N, K)), W_out=rng.standard_normal((K, N)),
                b=rng.standard_normal(N))


def test_network_is_frozen_and_arrays_read_only():
    net = rs.Network(**_parts())
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.tau = 2.0
    with pytest.raises(ValueError):
        net.J[0, 0] = 1.0
    parts = _parts()
    net = rs.Network(**parts)
    parts["J"][0, 0] = 99.0  # the network keeps its own copy
    assert net.J[0, 0] != 99.0


def test_replace_revalidates_and_equality_is_exact():
    net = rs.Network(**_parts())
    net2 = dataclasses.replace(net, W_out=np.ones((1, 4)))
    np.testing.assert_array_equal(net2.W_out, 1.0)
    assert net2 != net and dataclasses.replace(net) == net
    with pytest.raises(ValueError, match="W_out"):
        dataclasses.replace(net, W_out=np.ones((2, 4)))
    assert net.N == 4 and net.n_inputs == 2 and net.n_outputs == 1 and net.alpha == 0.1


@pytest.mark.parametrize("field, value, exc, word", [
    ("J", np.ones((3, 4)), ValueError, "J"),
    ("J", np.full((4, 4), np.nan), ValueError, "J"),
    ("J", "abc", TypeError, "J"),
    ("W_in", np.ones((3, 2)), ValueError, "W_in"),
    ("W_fb", np.ones((4, 0)), ValueError, "W_fb"),
    ("W_out", np.ones((1, 5)), ValueError, "W_out"),
    ("W_out", np.array([[np.inf, 0, 0, 0]]), ValueError, "W_out"),
    ("b", np.ones(5), ValueError, "b"),
    ("b", np.ones((4, 1)), ValueError, "b"),
    ("phi", "softplus", ValueError, "phi"),
    ("phi", 3, TypeError, "phi"),
    ("tau", -1.0, ValueError, "tau"),
    ("tau", 0.0, ValueError, "tau"),
    ("dt", -0.1, ValueError, "dt"),
    ("dt", 2.0, ValueError, "dt"),
    ("dt", float("nan"), ValueError, "dt"),
    ("tau", "1", TypeError, "tau"),
])
def test_bad_fields_raise_naming_the_argument(field, value, exc, word):
    parts = _parts()
    parts[field] = value
    with pytest.raises(exc, match=word):
        rs.Network(**parts)


def test_sparse_J_stored_as_csr_and_nonfinite_rejected():
    parts = _parts()
    parts["J"] = sp.coo_matrix(parts["J"])
    net = rs.Network(**parts)
    assert net.is_sparse and sp.isspmatrix_csr(net.J)
    np.testing.assert_array_equal(net.dense_J(), parts["J"].toarray())
    bad = sp.csr_matrix(np.diag([1.0, np.nan, 0, 0]))
    parts["J"] = bad
    with pytest.raises(ValueError, match="J"):
        rs.Network(**parts)


def test_zero_inputs_allowed():
    parts = _parts(M=0)
    assert rs.Network(**parts).n_inputs == 0


def test_random_network_seed_reproducible_and_distinct():
    a = rs.random_network(50, 1.2, 2, 1, rng=3)
    b = rs.random_network(50, 1.2, 2, 1, rng=3)
    c = rs.random_network(50, 1.2, 2, 1, rng=4)
    assert a == b and a != c
    assert a.meta["seed"] == 3
    np.testing.assert_array_equal(a.W_out, 0.0)


def test_random_network_statistics():
    N, g = 800, 1.3
    net = rs.random_network(N, g, 1, 1, rng=0)
    # entry variance g^2/N, within sampling error of N^2 samples
    assert abs(np.var(net.J) * N / g**2 - 1) < 0.01
    assert np.all(np.abs(net.W_fb) <= 1.0)  # U[-1, 1] feedback (Sussillo & Abbott)
    assert abs(np.std(net.W_in) - 1.0) < 0.1


def test_sparse_random_network_density_and_row_variance():
    N, g, p = 2000, 1.5, 0.1
    net = rs.random_network(N, g, 1, 1, density=p, rng=1)
    assert net.is_sparse
    assert abs(net.J.nnz / N**2 - p) < 0.005
    # nonzero entries have variance g^2/(pN), hence every row has variance g^2/N
    assert abs(np.var(net.J.data) * p * N / g**2 - 1) < 0.02
    dense = rs.random_network(300, g, 1, 1, density=p, sparse=False, rng=1)
    assert not dense.is_sparse


def test_circular_law_radius_and_disk_fraction():
    # circular law (Ginibre 1965; Girko 1984): fraction |lam| < 0.5 -> 0.25; the finite-N
    # radius 1.026 +- 0.009 (sigma = 1, N = 1000) is our own sampling
    net = rs.random_network(1000, 1.5, 1, 1, rng=2)
    lam = np.linalg.eigvals(net.J) / 1.5
    radius = np.abs(lam).max()
    assert 0.99 < radius < 1.07
    assert abs(np.mean(np.abs(lam) < 0.5) - 0.25) < 0.03
    # sparse FORCE-style matrix: entry variance g^2/N, hence radius ~ g (we sampled
    # 1.534-1.541 at N = 1000, p = 0.1)
    sparse = rs.random_network(1000, 1.5, 1, 1, density=0.1, rng=2)
    rad = np.abs(np.linalg.eigvals(sparse.dense_J())).max()
    assert abs(rad - 1.5) < 0.08


def test_orthogonal_init_spectrum_on_circle_of_radius_g():
    net = rs.random_network(60, 0.9, 1, 1, init="orthogonal", rng=0)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(net.J)), 0.9, atol=1e-12)
    np.testing.assert_allclose(net.J @ net.J.T, 0.81 * np.eye(60), atol=1e-12)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(N=0), ValueError, "N"),
    (dict(N=2.5), TypeError, "N"),
    (dict(g=-1.0), ValueError, "g"),
    (dict(density=0.0), ValueError, "density"),
    (dict(density=1.5), ValueError, "density"),
    (dict(n_outputs=0), ValueError, "n_outputs"),
    (dict(init="xavier"), ValueError, "init"),
    (dict(init="orthogonal", density=0.5), ValueError, "orthogonal"),
    (dict(feedback_dist="cauchy"), ValueError, "feedback_dist"),
    (dict(rng="seed"), TypeError, "rng"),
    (dict(dt=1.5, tau=1.0), ValueError, "dt"),
])
def test_random_network_bad_arguments(kwargs, exc, word):
    assert_rejects(rs.random_network, dict(N=10, g=1.0), kwargs, exc, word)
