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
    # 1.522-1.546 at N = 1000, p = 0.1, seeds 2-5, with the O(nnz) construction)
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


# ------------------------------------------- sparse J in O(nnz), memory (issue 13, item 4)

class CountingGenerator(np.random.Generator):
    """A Generator that counts the random values it hands out (by output size)."""

    METHODS = ("random", "uniform", "standard_normal", "normal", "geometric", "binomial",
               "integers", "choice", "permutation", "shuffle", "exponential", "poisson")

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.n_values = 0
        self.calls = []
        for name in self.METHODS:
            setattr(self, name, self._counted(name))

    def _counted(self, name):
        method = getattr(super(), name)

        def wrapper(*args, **kwargs):
            out = method(*args, **kwargs)
            self.n_values += int(np.size(out)) if out is not None else int(np.size(args[0]))
            self.calls.append(name)
            return out
        return wrapper


def test_sparse_random_network_draws_O_nnz_values_and_memory_at_N_1e6():
    import tracemalloc
    N, p = 10**6, 2e-6  # two connections per unit on average
    gen = CountingGenerator(0)
    tracemalloc.start()
    try:
        net = rs.random_network(N, 1.0, 1, 1, density=p, rng=gen)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    nnz = net.J.nnz
    assert abs(nnz - p * N * N) < 6 * np.sqrt(p * N * N)
    # positions (one geometric draw each, plus the unused rest of one chunk), values,
    # W_in, W_fb: the old mask drew N^2 = 10^12 uniforms
    assert gen.n_values <= 2 * nnz + 2 * N + 7 * np.sqrt(p * N * N) + 100, gen.n_values
    assert "random" not in gen.calls
    # about 60 bytes per nonzero and 64 bytes per unit (the dense J would be 8 TB)
    assert peak < 80 * nnz + 100 * N, peak


def _old_mask_J(N, p, rng):
    """The former O(N^2) construction: an i.i.d. Bernoulli(p) mask (the reference)."""
    mask = rng.random((N, N)) < p
    return mask


@pytest.mark.parametrize("N, p", [(400, 0.05), (300, 0.5), (60, 0.97)])
def test_sparse_random_network_has_the_bernoulli_mask_distribution(N, p):
    """The pattern is an i.i.d. Bernoulli(p) mask and the values N(0, g^2 / (p N)): checked
    by closed-form moments (binomial row and column counts, independence of J[i, j] and
    J[j, i], the entry variance), pooled over seeds; tolerances are 5 standard errors."""
    g = 1.7
    rows, cols, both, vals, total = [], [], 0, [], 0
    n_seeds = 4
    for seed in range(n_seeds):
        J = rs.random_network(N, g, 1, 1, density=p, rng=seed).J
        assert sp.isspmatrix_csr(J) and J.has_canonical_format
        coo = J.tocoo()
        assert len(set(zip(coo.row.tolist(), coo.col.tolist()))) == J.nnz  # no duplicates
        assert np.all(np.diff(J.indices)[np.diff(coo.row) == 0] > 0)  # sorted in each row
        mask = J.toarray() != 0
        rows.append(mask.sum(1))
        cols.append(mask.sum(0))
        iu = np.triu_indices(N, 1)
        both += int(np.sum(mask[iu] & mask.T[iu]))
        vals.append(J.data)
        total += J.nnz
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    n_entries = n_seeds * N * N
    assert abs(total - p * n_entries) < 5 * np.sqrt(n_entries * p * (1 - p))
    var_count = N * p * (1 - p)  # binomial(N, p)
    for counts in (rows, cols):
        assert abs(counts.mean() - N * p) < 5 * np.sqrt(var_count / counts.size)
        # variance of a sample variance of binomial counts ~ 2 var^2 / n (near-Gaussian)
        assert abs(counts.var() / var_count - 1) < 5 * np.sqrt(2 / counts.size) + 0.02
    n_pairs = n_seeds * N * (N - 1) / 2
    assert abs(both - n_pairs * p * p) < 5 * np.sqrt(n_pairs * p * p * (1 - p * p))
    # nonzero entries N(0, g^2 / (p N)): every row has variance g^2 / N
    s2 = g**2 / (p * N)
    assert abs(vals.var() / s2 - 1) < 5 * np.sqrt(2 / vals.size)
    assert abs(vals.mean()) < 5 * np.sqrt(s2 / vals.size)
    # the same moments hold for the former mask construction (the reference)
    ref = _old_mask_J(N, p, np.random.default_rng(99))
    assert abs(ref.sum(1).var() / var_count - 1) < 5 * np.sqrt(2 / N) + 0.02


def test_sparse_random_network_pattern_matches_the_old_mask_in_distribution():
    """Two-sample comparison with the former O(N^2) mask construction: the distribution of
    row counts agrees (Kolmogorov-Smirnov, 200 rows x 20 seeds each)."""
    from scipy.stats import ks_2samp
    N, p = 200, 0.03
    new = np.concatenate([rs.random_network(N, 1.0, 1, 1, density=p, rng=s).J.getnnz(axis=1)
                          for s in range(20)])
    gen = np.random.default_rng(7)
    old = np.concatenate([_old_mask_J(N, p, gen).sum(1) for _ in range(20)])
    assert ks_2samp(new, old).pvalue > 1e-3


def test_huge_requests_fail_at_once_naming_N_and_the_memory():
    with pytest.raises(ValueError, match=r"N=10000000 needs about .*PiB|N=10000000 needs"):
        rs.random_network(10**7, 1.0)
    with pytest.raises(ValueError, match=r"N=.* needs about .* of memory"):
        rs.exact_overlap_network(10**7, g=1.0, Sm=1.0, SI=1.0, rho=0.5, p=1.0, p_m=0.0,
                                 p_I=0.0, readout_scale=1.0)


def test_memory_check_with_a_monkeypatched_small_machine(monkeypatch):
    monkeypatch.setattr("reservoir._checks.physical_memory", lambda: 2**30)  # 1 GiB
    # dense J at N = 10^4: 800 MB, twice while drawing: refused
    with pytest.raises(ValueError, match=r"N=10000 needs about 1\.\d+ GiB of memory for a "
                                         r"dense \(N, N\) J.*1 GiB of physical memory"):
        rs.random_network(10**4, 1.0)
    with pytest.raises(ValueError, match="N=10000"):
        rs.random_network(10**4, 1.0, init="orthogonal")
    with pytest.raises(ValueError, match="N=10000"):
        rs.random_network(10**4, 1.0, density=0.1, sparse=False)
    with pytest.raises(ValueError, match=r"N=12000.*sparse J of density 0.5"):
        rs.random_network(12000, 1.0, density=0.5)
    with pytest.raises(ValueError, match="N=20000"):
        rs.exact_overlap_network(20000, g=1.0, Sm=1.0, SI=1.0, rho=0.5, p=1.0, p_m=0.0,
                                 p_I=0.0, readout_scale=1.0)
    # a sparse network of the same N fits, but not its dense copy
    net = rs.random_network(20000, 1.0, density=1e-4, rng=0)
    with pytest.raises(ValueError, match=r"N=20000.*dense \(N, N\) copy of J"):
        net.dense_J()
    small = rs.random_network(300, 1.0, rng=0)
    assert small.N == 300
    monkeypatch.setattr("reservoir._checks.physical_memory", lambda: None)  # unknown: no check
    assert rs.random_network(50, 1.0, rng=0).N == 50


def test_check_memory_estimate_is_an_upper_bound_of_the_measured_peak():
    """The estimate used by the check covers the peak measured with tracemalloc."""
    import tracemalloc
    from reservoir.network import _random_network_bytes
    for N, density, sparse in [(600, 1.0, False), (600, 1.0, True), (3000, 0.01, True),
                               (600, 0.2, False)]:
        tracemalloc.start()
        try:
            rs.random_network(N, 1.0, 2, 1, density=density, sparse=sparse, rng=0)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        est = _random_network_bytes(N, 2, 1, density, "normal", sparse)
        assert peak <= est, (N, density, sparse, peak, est)


# ------------------------------------------- sparse J validated where it enters (item 2)

from hypothesis import given, strategies as st  # noqa: E402


def _raw_csr(data, indices, indptr, N):
    """A csr_matrix holding exactly these arrays (scipy's constructor checks bypassed)."""
    m = sp.csr_matrix(np.eye(N))
    m.data, m.indices, m.indptr = np.asarray(data), np.asarray(indices), np.asarray(indptr)
    return m


@given(N=st.integers(1, 6), data=st.data())
def test_any_csr_structure_is_canonicalised_or_rejected(N, data):
    """Random CSR arrays, valid or not: the network's J equals the dense sum of the entries
    (computed independently with ``np.add.at``) when the structure is valid, and a
    ValueError naming J is raised otherwise."""
    nnz = data.draw(st.integers(0, 12))
    indices = np.array(data.draw(st.lists(st.integers(-2, N + 1), min_size=nnz,
                                          max_size=nnz)), dtype=np.int64)
    cuts = sorted(data.draw(st.lists(st.integers(0, nnz), min_size=N - 1, max_size=N - 1)))
    indptr = np.array([0] + cuts + [nnz], dtype=np.int64)
    if data.draw(st.booleans()):  # sometimes break indptr
        k = data.draw(st.integers(0, N))
        indptr[k] += data.draw(st.sampled_from([-1, 1, 3]))
    vals = np.arange(1.0, nnz + 1)
    parts = dict(W_in=np.ones((N, 1)), W_fb=np.ones((N, 1)), W_out=np.zeros((1, N)),
                 b=np.zeros(N))
    valid = (indptr[0] == 0 and indptr[-1] == nnz and np.all(np.diff(indptr) >= 0)
             and np.all((indices >= 0) & (indices < N)))
    J = _raw_csr(vals, indices, indptr, N)
    if not valid:
        with pytest.raises(ValueError, match=r"J\.ind"):
            rs.Network(J=J, **parts)
        return
    net = rs.Network(J=J, **parts)
    dense = np.zeros((N, N))
    rows = np.repeat(np.arange(N), np.diff(indptr))
    np.add.at(dense, (rows, indices), vals)
    np.testing.assert_array_equal(net.dense_J(), dense)
    assert net.J.has_canonical_format and net.J.indices.dtype == np.int32
    for r in range(N):  # strictly increasing column indices in every row
        seg = net.J.indices[net.J.indptr[r]:net.J.indptr[r + 1]]
        assert np.all(np.diff(seg) > 0)
    assert not (net.J.data.flags.writeable or net.J.indices.flags.writeable
                or net.J.indptr.flags.writeable)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "lil", "dok", "dia"])
def test_every_sparse_format_gives_the_same_canonical_network(fmt):
    A = np.array([[0, 2.0, 0, 1], [0, 0, 0, 0], [3, 0, 0, 0], [0, 0, -1, 5]])
    parts = _parts()
    parts["J"] = sp.csr_matrix(A).asformat(fmt) if fmt != "bsr" else sp.bsr_matrix(
        A, blocksize=(2, 2))
    net = rs.Network(**parts)
    assert sp.isspmatrix_csr(net.J) and net.J.has_canonical_format
    np.testing.assert_array_equal(net.dense_J(), A)
    parts["J"] = sp.csr_array(A)  # sparse arrays too
    assert rs.Network(**parts).dense_J().tolist() == A.tolist()


def test_coo_duplicates_are_summed_and_overflowing_sums_rejected():
    parts = _parts()
    parts["J"] = sp.coo_matrix(([1.0, 2.0, 4.0], ([0, 0, 3], [1, 1, 3])), shape=(4, 4))
    J = rs.Network(**parts).dense_J()
    assert J[0, 1] == 3.0 and J[3, 3] == 4.0 and J.sum() == 7.0
    parts["J"] = _raw_csr([1e308, 1e308], [2, 2], [0, 2, 2, 2, 2], 4)
    with pytest.raises(ValueError, match="J contains duplicate entries whose sum overflows"):
        rs.Network(**parts)


@pytest.mark.parametrize("J, exc, match", [
    (sp.csr_matrix((0, 0)), ValueError, "J must not be empty"),
    (sp.csr_matrix((3, 4)), ValueError, "square"),
    (_raw_csr([1.0], np.array([0.0]), [0, 1, 1, 1, 1], 4), TypeError, "J.indices must be an "
                                                                     "integer"),
    (_raw_csr([1.0], np.array([True]), [0, 1, 1, 1, 1], 4), TypeError, "J.indices"),
    (_raw_csr([1.0], [0], np.array([0, 1, 1, 1, 1.0]), 4), TypeError, "J.indptr"),
    (_raw_csr([1.0], [4], [0, 1, 1, 1, 1], 4), ValueError, r"J.indices must lie in \[0, 4\)"),
    (_raw_csr([1.0], [-1], [0, 1, 1, 1, 1], 4), ValueError, "found -1"),
    (_raw_csr([1.0], [0], [0, 1, 1, 1], 4), ValueError, "J.indptr must have 5 entries"),
    (_raw_csr([1.0], [0], [0, 1, 0, 1, 1], 4), ValueError, "non-decreasing"),
    (_raw_csr([1.0j], [0], [0, 1, 1, 1, 1], 4), TypeError, "J.data must be real"),
])
def test_broken_sparse_J_raises_naming_J(J, exc, match):
    parts = _parts()
    parts["J"] = J
    with pytest.raises(exc, match=match):
        rs.Network(**parts)


# ------------------------------------------------------- spectral radius (issue 14)
def _radius(net):
    """The spectral radius of J by LAPACK on a dense copy: the independent reference."""
    return float(np.max(np.abs(np.linalg.eigvals(net.dense_J()))))


@pytest.mark.parametrize("N, kwargs", [
    (50, dict()), (200, dict()), (120, dict(init="orthogonal")),
    (150, dict(density=0.2, sparse=False)),                      # dense, with zeros
    (40, dict(density=0.3)),                                     # sparse, LAPACK block
    (200, dict(density=0.1)), (600, dict(density=0.02)),         # sparse, Arnoldi
    (300, dict(density=0.01)),                                   # sparse, many components
])
def test_spectral_radius_is_set_within_the_stated_tolerance(N, kwargs):
    """The rescaled J has the requested spectral radius (numpy.linalg.eigvals of the
    result) to relative 1e-10; it is the unscaled draw times one scalar, c = rho /
    spectral_radius_drawn, where the drawn radius is that of the same seed's network
    without the option (eigvals again); W_in, W_fb, b are unchanged."""
    plain = rs.random_network(N, 1.3, 2, 1, bias_scale=0.5, rng=5, **kwargs)
    net = rs.random_network(N, 1.3, 2, 1, bias_scale=0.5, rng=5, spectral_radius=0.9,
                            **kwargs)
    assert net.is_sparse == plain.is_sparse
    assert abs(_radius(net) - 0.9) <= 1e-10 * 0.9
    drawn = net.meta["spectral_radius_drawn"]
    assert abs(drawn - _radius(plain)) <= 1e-10 * drawn
    c = 0.9 / drawn
    np.testing.assert_allclose(net.dense_J(), c * plain.dense_J(), rtol=1e-15, atol=0)
    if net.is_sparse:
        np.testing.assert_array_equal(net.J.indices, plain.J.indices)
        np.testing.assert_array_equal(net.J.indptr, plain.J.indptr)
    for name in ("W_in", "W_fb", "b"):
        np.testing.assert_array_equal(getattr(net, name), getattr(plain, name))
    assert net.meta["spectral_radius"] == 0.9
    assert net.meta["g_effective"] == pytest.approx(1.3 * c, rel=1e-15)
    assert "spectral_radius" not in plain.meta


def test_spectral_radius_overrides_g():
    """The result does not depend on g (to rounding): the scale is set by spectral_radius;
    g_effective is the gain of the rescaled J (row variance g_effective^2 / N, checked on
    the drawn entries)."""
    a = rs.random_network(300, 0.5, rng=2, spectral_radius=1.2)
    b = rs.random_network(300, 2.0, rng=2, spectral_radius=1.2)
    np.testing.assert_allclose(a.J, b.J, rtol=1e-12, atol=0)
    assert a.meta["g_effective"] == pytest.approx(b.meta["g_effective"], rel=1e-12)
    plain = rs.random_network(300, 1.0, rng=2)
    g_eff = a.meta["g_effective"]
    np.testing.assert_allclose(a.J, plain.J * g_eff, rtol=1e-12, atol=0)


@pytest.mark.slow
def test_sparse_spectral_radius_at_N_3000():
    net = rs.random_network(3000, 1.0, density=0.01, rng=0, spectral_radius=0.95)
    assert net.is_sparse and abs(_radius(net) - 0.95) <= 1e-10 * 0.95


def test_spectral_radius_of_a_block_triangular_sparse_matrix():
    """The radius of a sparse matrix is taken over the strongly connected components of its
    graph; here it sits in a 3-cycle beside a 120-unit random block (Arnoldi) and
    acyclic links, the units shuffled: the same as LAPACK's on the dense matrix."""
    from reservoir.network import _spectral_radius_of
    rng = np.random.default_rng(0)
    n = 130
    A = np.zeros((n, n))
    A[:120, :120] = rng.standard_normal((120, 120)) * (rng.random((120, 120)) < 0.1) * 0.3
    A[120, 121], A[121, 122], A[122, 120] = 2.0, 1.5, 1.0    # a 3-cycle, radius 3^(1/3)
    A[123:128, :123] = rng.standard_normal((5, 123))          # downstream units only
    A[:128, 128:] = 3.0 * rng.standard_normal((128, 2))       # upstream units (no input)
    p = rng.permutation(n)
    A = A[np.ix_(p, p)]
    ref = float(np.max(np.abs(np.linalg.eigvals(A))))
    assert ref == pytest.approx(3.0 ** (1 / 3), rel=1e-12)
    assert _spectral_radius_of(sp.csr_matrix(A)) == pytest.approx(ref, rel=1e-12)
    assert _spectral_radius_of(A) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(spectral_radius=0.0), ValueError, "spectral_radius"),
    (dict(spectral_radius=-1.0), ValueError, "spectral_radius"),
    (dict(spectral_radius=float("nan")), ValueError, "spectral_radius"),
    (dict(spectral_radius=float("inf")), ValueError, "spectral_radius"),
    (dict(spectral_radius="1"), TypeError, "spectral_radius"),
    (dict(spectral_radius=True), TypeError, "spectral_radius"),
    (dict(spectral_radius=1.0, g=0.0), ValueError, "g=0"),
    (dict(spectral_radius=1.0, N=10_001, density=1e-4), ValueError, "N <= 10000"),
    # a graph without cycles (seed found by a scan): its radius is exactly 0
    (dict(spectral_radius=1.0, N=40, density=0.002, rng=1), ValueError, "spectral radius 0"),
])
def test_spectral_radius_bad_input(kwargs, exc, word):
    assert_rejects(rs.random_network, dict(N=10, g=1.0, rng=0), kwargs, exc, word)


def test_arnoldi_failures_raise_instead_of_returning_a_radius(monkeypatch):
    """Two Arnoldi runs that disagree, or one that does not converge, raise RuntimeError:
    the radius is not trusted."""
    import scipy.sparse.linalg as sla

    import reservoir.network as netmod
    calls = []

    def disagreeing(J, ncv, seed):
        calls.append(ncv)
        return 1.0 + 1e-6 * len(calls)
    monkeypatch.setattr(netmod, "_arnoldi_radius", disagreeing)
    with pytest.raises(RuntimeError, match="different spectral radii"):
        rs.random_network(200, 1.0, density=0.1, rng=0, spectral_radius=1.0)
    monkeypatch.undo()

    def no_convergence(*args, **kwargs):
        raise sla.ArpackNoConvergence("no convergence", [], [])
    monkeypatch.setattr(sla, "eigs", no_convergence)
    with pytest.raises(RuntimeError, match="did not converge"):
        rs.random_network(200, 1.0, density=0.1, rng=0, spectral_radius=1.0)


def test_spectral_radius_is_reproducible_and_saved(tmp_path):
    a = rs.random_network(150, 1.0, density=0.1, rng=3, spectral_radius=0.8)
    b = rs.random_network(150, 1.0, density=0.1, rng=3, spectral_radius=0.8)
    assert a == b
    rs.save(a, tmp_path / "a.npz")
    back = rs.load(tmp_path / "a.npz")
    assert back == a and back.meta["spectral_radius"] == 0.8
    assert back.meta["spectral_radius_drawn"] == a.meta["spectral_radius_drawn"]


# ------------------------------------------------------- jarne_network time grid (issue 14)
def test_jarne_network_dt_sets_tau_and_keeps_the_weights():
    base = rs.jarne_network(12, 2, 1, rng=4)
    assert base.dt == base.tau == 1.0
    net = rs.jarne_network(12, 2, 1, dt=0.5, rng=4)
    assert net.dt == net.tau == 0.5 and net.alpha == 1.0
    for name in ("J", "W_in", "W_out", "W_fb", "b"):
        np.testing.assert_array_equal(getattr(net, name), getattr(base, name))


@pytest.mark.parametrize("dt, exc", [(0.0, ValueError), (-1.0, ValueError),
                                     (float("nan"), ValueError), ("1", TypeError)])
def test_jarne_network_bad_dt(dt, exc):
    with pytest.raises(exc, match="dt"):
        rs.jarne_network(5, 2, 1, dt=dt, rng=0)


@pytest.mark.parametrize("g", [1e-20, 1e200])
@pytest.mark.parametrize("density", [1.0, 0.1])
def test_spectral_radius_holds_at_extreme_gains(g, density):
    """The draw is normalised before its radius is measured: the result does not depend
    on the scale g (up to rounding), even far from 1."""
    net = rs.random_network(100, g, density=density, spectral_radius=0.9, rng=0)
    ref = rs.random_network(100, 1.0, density=density, spectral_radius=0.9, rng=0)
    rho = np.max(np.abs(np.linalg.eigvals(net.dense_J())))
    assert abs(rho - 0.9) < 1e-12
    np.testing.assert_allclose(net.dense_J(), ref.dense_J(), rtol=1e-13, atol=1e-16)
