"""Certified enumeration of fixed points (issue 12: a completeness certificate for K = 1,
certified enumeration for K = 2, 3). Every count and root is checked against an independent
computation: closed forms, a dense 1-D root search of the reduced equation with x(z) by a
plain NumPy fixed-point iteration, decoupled readouts whose roots multiply, and a multi-start
scipy.optimize.root on the reduced map."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import reservoir as rs
from reservoir.analysis.certify import Certificate, certify_fixed_points


# ----------------------------------------------------------------- independent reference

def x_of_z(J, W_fb, c, Z, phi=np.tanh, max_iter=5000):
    """Open-loop fixed points x(z) for the columns of ``Z`` (K, G) by the plain fixed-point
    iteration x <- J phi(x) + W_fb z + c (converges when ||J||_2 sup|phi'| < 1)."""
    drive = W_fb @ Z + c[:, None]
    X = drive.copy()
    for _ in range(max_iter):
        X_new = J @ phi(X) + drive
        if np.max(np.abs(X_new - X)) <= 8e-16 * (1 + np.max(np.abs(X_new))):
            return X_new
        X = X_new
    raise AssertionError("reference fixed-point iteration did not converge")


def h_ref(net, u, Z):
    J = net.dense_J()
    c = net.W_in @ u + net.b
    phi = {"tanh": np.tanh, "sigmoid": lambda v: 0.5 * (1 + np.tanh(0.5 * v))}[net.phi]
    Z = np.atleast_2d(Z)
    X = x_of_z(J, net.W_fb, c, Z, phi)
    return net.W_out @ phi(X) - Z, X


def roots_1d_reference(net, u, lo, hi, n=2001):
    """Sign changes of h on a grid, refined by brentq (K = 1)."""
    zg = np.linspace(lo, hi, n)
    hg = h_ref(net, u, zg[None, :])[0][0]
    out = []
    for i in np.flatnonzero(np.sign(hg[:-1]) * np.sign(hg[1:]) < 0):
        out.append(scipy.optimize.brentq(lambda z: h_ref(net, u, [[z]])[0][0, 0],
                                         zg[i], zg[i + 1], xtol=1e-15, rtol=1e-15))
    return np.array(out)


def closed_loop_residual(net, u, x):
    J = net.dense_J()
    r = np.tanh(x) if net.phi == "tanh" else 0.5 * (1 + np.tanh(0.5 * x))
    F = -x + r @ (J + net.W_fb @ net.W_out).T + net.W_in @ u + net.b
    return np.max(np.abs(F), axis=-1)


def tiny_net(J, W_fb, W_out, b, phi="tanh"):
    J = np.atleast_2d(np.asarray(J, dtype=float))
    N = J.shape[0]
    return rs.Network(J=J, W_in=np.zeros((N, 1)), W_fb=np.atleast_2d(W_fb),
                      W_out=np.atleast_2d(W_out), b=np.asarray(b, dtype=float), phi=phi)


# ----------------------------------------------------------------- K = 1

@pytest.fixture(scope="module")
def fold_net():
    base = rs.random_network(N=100, g=0.3, n_inputs=1, n_outputs=1,
                             feedback_dist="normal", rng=4)
    return base.with_readout(2.208070863730535 * base.W_fb.T / 100)


def test_fault1_example_all_roots_near_the_fold(fold_net):
    """The issue's example: two of the three roots are 0.0083 apart near a fold; the z-scan
    missed one. The certificate finds all three, proves it, and agrees with a dense 1-D
    root search of the reduced equation (x(z) by the plain fixed-point iteration)."""
    net, u = fold_net, np.array([1.0])
    assert np.linalg.norm(net.dense_J(), 2) < 1.0        # contracting (tanh: sup phi' = 1)
    cert = certify_fixed_points(net, u, tol=1e-12)
    assert isinstance(cert, Certificate)
    assert cert.complete is True and cert.success, cert.messages
    assert cert.contraction < 1.0
    assert cert.contraction >= np.linalg.norm(net.dense_J(), 2)   # an upper bound
    lo, hi = cert.region[0]
    ref = roots_1d_reference(net, u, lo, hi)
    assert ref.size == 3
    np.testing.assert_allclose(ref[1:], [0.854614, 0.862962], atol=1e-6)
    np.testing.assert_allclose(cert.z[:, 0], ref, atol=1e-9)
    assert np.all(closed_loop_residual(net, u, cert.x) < 1e-12)
    # each root lies in its certified interval, and the intervals are disjoint
    assert np.all((cert.root_boxes[:, 0, 0] <= cert.z[:, 0])
                  & (cert.z[:, 0] <= cert.root_boxes[:, 0, 1]))
    assert np.all(cert.root_boxes[1:, 0, 0] >= cert.root_boxes[:-1, 0, 1])
    assert cert.undecided.shape == (0, 1, 2)
    assert cert.n_lu > 0 and cert.n_boxes > 0
    # fewer LUs than intervals examined: x(z) reuses factorisations
    assert cert.n_lu < cert.n_boxes


@pytest.mark.parametrize("w, n_roots", [(0.5, 1), (2.0, 3)])
def test_one_unit_closed_form(w, n_roots):
    """J = 0, one unit: h(z) = w tanh(z) - z has the root 0 only for w <= 1, and 0, +-z*
    with tanh(z*) = z* / w for w > 1."""
    net = tiny_net([[0.0]], [[1.0]], [[w]], [0.0])
    cert = certify_fixed_points(net)
    assert cert.complete is True
    assert len(cert) == n_roots
    expected = [0.0]
    if w > 1:
        zs = scipy.optimize.brentq(lambda z: w * np.tanh(z) - z, 0.1, 10.0, xtol=1e-15)
        expected = [-zs, 0.0, zs]
    np.testing.assert_allclose(cert.z[:, 0], expected, atol=1e-12)


def test_staircase_five_roots_and_sigmoid():
    """J = 0, x(z) = W_fb z + c explicit: h(z) = tanh(5(z - 1)) + tanh(5(z + 1)) - z has five
    roots (near -2, -1, 0, 1, 2), counted on a dense grid of the explicit function; likewise
    a sigmoid staircase."""
    a = 5.0
    net = tiny_net(np.zeros((2, 2)), [[a], [a]], [[1.0, 1.0]], [-a, a])
    cert = certify_fixed_points(net)
    zg = np.linspace(-2.5, 2.5, 1_000_001)
    hg = np.tanh(a * (zg - 1)) + np.tanh(a * (zg + 1)) - zg
    n_ref = np.count_nonzero(np.sign(hg[:-1]) * np.sign(hg[1:]) < 0) + np.count_nonzero(hg == 0)
    assert n_ref == 5
    assert cert.complete is True and len(cert) == 5
    hz = np.tanh(a * (cert.z[:, 0] - 1)) + np.tanh(a * (cert.z[:, 0] + 1)) - cert.z[:, 0]
    assert np.all(np.abs(hz) < 1e-12)
    # sigmoid: h(z) = 2 sigmoid(8 z) + 2 sigmoid(8 (z - 2)) - sigmoid(10) - z: plateaus
    # -1, 1, 3 joined by steps at 0 and 2 give five roots (near -1, 0, 1, 2, 3)
    sig = lambda v: 0.5 * (1 + np.tanh(0.5 * v))                       # noqa: E731
    net = tiny_net(np.zeros((3, 3)), [[8.0], [8.0], [0.0]], [[2.0, 2.0, -1.0]],
                   [0.0, -16.0, 10.0], phi="sigmoid")
    cert = certify_fixed_points(net)
    zg = np.linspace(-1.5, 4.5, 1_000_001)
    hg = 2 * sig(8 * zg) + 2 * sig(8 * zg - 16) - sig(10.0) - zg
    n_ref = np.count_nonzero(np.sign(hg[:-1]) * np.sign(hg[1:]) < 0)
    assert n_ref == 5
    assert cert.complete is True and len(cert) == 5
    zc = cert.z[:, 0]
    assert np.all(np.abs(2 * sig(8 * zc) + 2 * sig(8 * zc - 16) - sig(10.0) - zc) < 1e-12)


def test_second_derivative_bound_holds(fold_net):
    """The derived local bound M on |h''| over an interval (from Q at its ends) is at least
    the second difference of h computed independently on a fine grid inside it."""
    from reservoir.analysis import certify as C
    from reservoir.analysis._closed_loop import _ClosedLoop
    net, u = fold_net, np.array([1.0])
    sys = _ClosedLoop(net, u)
    jn = C._norm2_upper(sys.J)
    ev = C._Evaluator(sys, jn, jn, 1.0, C._SUP2["tanh"])
    for a, b in [(-1.5, -1.2), (0.80, 0.90), (0.2, 0.6), (-0.1, 0.05)]:
        A = ev.point(np.array([a]), sys.c)
        B = ev.point(np.array([b]), A.x)
        Q = ev.q_interval(A.Q, B.Q, b - a)
        M = C._SUP2["tanh"] * np.linalg.norm(net.W_out) * Q ** 2 / (1 - jn)
        zg = np.linspace(a, b, 401)
        hg = h_ref(net, u, zg[None, :])[0][0]
        d2 = np.diff(hg, 2) / (zg[1] - zg[0]) ** 2
        assert np.max(np.abs(d2)) <= M
        # the bound on Q itself, against Q computed at interior points from dx/dz by FD
        X = h_ref(net, u, zg[None, :])[1]
        V = np.gradient(X, zg, axis=1)
        assert np.max(np.sum(V[:, 5:-5] ** 4, axis=0) ** 0.25) <= Q * (1 + 1e-4)


@settings(max_examples=12)
@given(N=st.integers(2, 8), g=st.floats(0.0, 0.8), a=st.floats(0.5, 4.0),
       seed=st.integers(0, 10_000))
def test_property_roots_equal_sign_changes(N, g, a, seed):
    """Random small contracting K = 1 networks: every sign change of h on a fine grid
    (x(z) by the plain fixed-point iteration) holds a certified root, and every certified
    root isolated by more than two grid steps sits in a cell with a sign change."""
    gen = np.random.default_rng(seed)
    J = gen.normal(size=(N, N))
    J *= g / max(np.linalg.norm(J, 2), 1e-12)
    W_fb = gen.normal(size=(N, 1))
    W_out = a * W_fb.T / N + 0.3 * gen.normal(size=(1, N)) / np.sqrt(N)
    b = 0.5 * gen.normal(size=N)
    net = tiny_net(J, W_fb, W_out, b)
    cert = certify_fixed_points(net)
    assert cert.success
    if cert.complete is not True:                      # undecided: said, never hidden
        assert cert.undecided.shape[0] > 0 and cert.messages
        return
    lo, hi = cert.region[0]
    zg = np.linspace(lo, hi, 20001)
    hg = h_ref(net, np.zeros(1), zg[None, :])[0][0]
    zr = cert.z[:, 0]
    cells = np.flatnonzero(np.sign(hg[:-1]) * np.sign(hg[1:]) < 0)
    for i in cells:
        assert np.any((zr >= zg[i] - 1e-12) & (zr <= zg[i + 1] + 1e-12))
    dz = zg[1] - zg[0]
    for k, z in enumerate(zr):
        others = np.delete(zr, k)
        if others.size and np.min(np.abs(others - z)) <= 2 * dz:
            continue
        i = min(int((z - lo) // dz), zg.size - 2)
        assert i in cells or abs(hg[i]) < 1e-12 or abs(hg[i + 1]) < 1e-12
    assert np.all(closed_loop_residual(net, np.zeros(1), cert.x) < 1e-10)


# ----------------------------------------------------------------- K = 2, 3

def _roots_1d_explicit(w, c):
    """Roots of w tanh(z + c) - z (explicit), by sign changes on a dense grid + brentq."""
    f = lambda z: w * np.tanh(z + c) - z                                # noqa: E731
    B = abs(w) + 1
    zg = np.linspace(-B, B, 200001)
    fg = f(zg)
    return np.array([scipy.optimize.brentq(f, zg[i], zg[i + 1], xtol=1e-15)
                     for i in np.flatnonzero(np.sign(fg[:-1]) * np.sign(fg[1:]) < 0)])


@pytest.mark.parametrize("K, w", [(2, [2.0, 2.5]), (3, [2.0, 0.5, 2.5])])
def test_decoupled_readouts_roots_multiply(K, w):
    """J = 0, W_fb = I, W_out = diag(w): h_k(z) = w_k tanh(z_k + c_k) - z_k separates into
    independent 1-D problems; the roots are the products of the 1-D root sets."""
    c = np.array([0.1, -0.2, 0.05])[:K]
    net = tiny_net(np.zeros((K, K)), np.eye(K), np.diag(w), c)
    cert = certify_fixed_points(net)
    assert cert.complete is True and cert.success, cert.messages
    sets = [_roots_1d_explicit(w[k], c[k]) for k in range(K)]
    grid = np.array(np.meshgrid(*sets, indexing="ij")).reshape(K, -1).T
    assert len(cert) == grid.shape[0] == np.prod([s.size for s in sets])
    dist = np.linalg.norm(cert.z[:, None, :] - grid[None, :, :], axis=2)
    assert np.all(dist.min(axis=1) < 1e-10) and np.all(dist.min(axis=0) < 1e-10)
    # each root is in the ball circumscribing its certified box
    ctr = cert.root_boxes.mean(axis=2)
    rad = np.linalg.norm(0.5 * np.diff(cert.root_boxes, axis=2)[..., 0], axis=1)
    assert np.all(np.linalg.norm(cert.z - ctr, axis=1) <= rad * (1 + 1e-9))


def _multistart_roots(net, u, n_starts, rng):
    """Roots of h by scipy.optimize.root from many starts (x(z) by the fixed-point
    iteration, independent of the package), deduplicated."""
    K = net.n_outputs
    lim = np.abs(net.W_out).sum(axis=1)
    gen = np.random.default_rng(rng)
    starts = gen.uniform(-lim, lim, size=(n_starts, K))
    out = []
    for z0 in starts:
        sol = scipy.optimize.root(lambda z: h_ref(net, u, z[:, None])[0][:, 0], z0,
                                  method="hybr", tol=1e-14)
        hz = h_ref(net, u, sol.x[:, None])[0][:, 0]
        if sol.success and np.max(np.abs(hz)) < 1e-11:
            if not any(np.linalg.norm(sol.x - r) < 1e-7 for r in out):
                out.append(sol.x)
    return np.array(out).reshape(-1, K)


@pytest.mark.parametrize("K, N, scale, n_starts, n_min", [
    (2, 60, 1.8, 60, 3),
    pytest.param(3, 200, 0.8, 60, 1, marks=pytest.mark.slow),     # ~8000 boxes, ~15 s
])
def test_random_contracting_network_against_multistart(K, N, scale, n_starts, n_min):
    """A random contracting network: every root a multi-start scipy.optimize.root finds on h
    is in the certificate, and every certified root has |h| tiny (independent h)."""
    base = rs.random_network(N=N, g=0.3, n_inputs=1, n_outputs=K, feedback_dist="normal",
                             rng=1)
    net = base.with_readout(scale * base.W_fb.T / N)
    u = np.array([0.5])
    cert = certify_fixed_points(net, u)
    assert cert.complete is True and cert.success, cert.messages
    ref = _multistart_roots(net, u, n_starts, 0)
    assert ref.shape[0] >= n_min
    for r in ref:
        assert np.min(np.linalg.norm(cert.z - r, axis=1)) < 1e-8
    hz = h_ref(net, u, cert.z.T)[0]
    assert np.max(np.abs(hz)) < 1e-11
    assert np.all(closed_loop_residual(net, u, cert.x) < 1e-10)


# ----------------------------------------------------------------- undecided / not applicable

def test_not_contracting_says_so():
    net = rs.random_network(N=80, g=1.5, n_outputs=1, rng=0)
    net = net.with_readout(np.full((1, 80), 0.01))
    cert = certify_fixed_points(net)
    assert cert.complete is None and not cert.success
    assert cert.n_boxes == 0 and len(cert) == 0
    assert cert.contraction >= 1.0
    assert any("not proved unique" in m and "||J||_2 sup|phi'|" in m for m in cert.messages)


def test_relu_is_not_certified():
    net = rs.random_network(N=20, g=0.3, n_outputs=1, rng=0, phi="relu")
    cert = certify_fixed_points(net)
    assert cert.complete is None and len(cert) == 0
    assert any("relu" in m for m in cert.messages)


def test_max_boxes_leaves_undecided_boxes(fold_net):
    cert = certify_fixed_points(fold_net, [1.0], max_boxes=5)
    assert cert.complete is None
    assert cert.undecided.shape[0] > 0 and cert.undecided.shape[1:] == (1, 2)
    assert any("max_boxes" in m for m in cert.messages)
    # a root on the region's edge cannot be given a sign there: undecided, not missed
    net = tiny_net([[0.0]], [[1.0]], [[2.0]], [0.0])
    cert = certify_fixed_points(net, region=[[0.0, 1.0]])
    assert cert.complete is None and cert.undecided.shape[0] >= 1


def test_user_region_restricts_the_roots(fold_net):
    cert = certify_fixed_points(fold_net, [1.0], region=[[0.5, 1.2]])
    assert cert.complete is True
    np.testing.assert_allclose(cert.z[:, 0], [0.854614, 0.862962], atol=1e-6)


def test_bad_inputs():
    net = tiny_net([[0.0]], [[1.0]], [[2.0]], [0.0])
    with pytest.raises(TypeError, match="net"):
        certify_fixed_points("net")
    with pytest.raises(ValueError, match="u"):
        certify_fixed_points(net, [1.0, 2.0])
    with pytest.raises(ValueError, match="region"):
        certify_fixed_points(net, region=[0.0, 1.0])
    with pytest.raises(ValueError, match="region"):
        certify_fixed_points(net, region=[[1.0, 0.0]])
    with pytest.raises(ValueError, match="region"):
        certify_fixed_points(net, region=[[0.0, np.inf]])
    with pytest.raises(ValueError, match="tol"):
        certify_fixed_points(net, tol=-1.0)
    with pytest.raises(ValueError, match="max_boxes"):
        certify_fixed_points(net, max_boxes=0)
    with pytest.raises(ValueError, match="min_width"):
        certify_fixed_points(net, min_width=0.0)
    big = rs.random_network(N=10, g=0.3, n_outputs=4, rng=0)
    with pytest.raises(ValueError, match="K <= 3"):
        certify_fixed_points(big)


def test_result_contract(fold_net):
    cert = certify_fixed_points(fold_net, [1.0])
    assert "Certificate(3 points" in repr(cert)
    sub = cert[cert.z[:, 0] > 0]
    assert len(sub) == 2 and sub.complete is True and sub.x.shape == (2, 100)


# ------------------------------------------------------------ wired into find_fixed_points

def _fault1_net():
    base = rs.random_network(N=100, g=0.3, n_inputs=1, n_outputs=1,
                             feedback_dist="normal", rng=4)
    return base.with_readout(2.208070863730535 * base.W_fb.T / 100)


def test_find_fixed_points_reports_complete_from_the_certificate():
    """The issue's fault-1 network contracts (||J||_2 = 0.563): find_fixed_points certifies
    by default for K = 1 and says complete=True; certify=False leaves it undecided."""
    net = _fault1_net()
    fps = rs.find_fixed_points(net, u=[1.0], rng=0)
    assert fps.complete is True and fps.certificate is not None
    assert fps.certificate.complete is True
    np.testing.assert_allclose(np.sort(fps.z[:, 0]), np.sort(fps.certificate.z[:, 0]),
                               atol=1e-9)
    assert any(m.startswith("complete: the certificate proves") for m in fps.messages)
    off = rs.find_fixed_points(net, u=[1.0], rng=0, certify=False)
    assert off.complete is None and off.certificate is None


def test_a_root_the_scan_missed_is_added_from_the_certificate(monkeypatch):
    """Drop the scan's roots (monkeypatched scan): the certificate's roots are added,
    found_by 'certificate', and the list is still complete."""
    import reservoir.analysis.fixed_points as fpm
    real = fpm._scan

    def lossy(*args, **kwargs):
        roots, *rest = real(*args, **kwargs)
        return (roots[:1], *rest)
    monkeypatch.setattr(fpm, "_scan", lossy)
    fps = rs.find_fixed_points(_fault1_net(), u=[1.0], rng=0, method="scan")
    assert len(fps) == 3 and fps.complete is True
    assert np.sum(fps.found_by == "certificate") == 2
    assert np.max(fps.residual) < 1e-10


def test_disagreement_with_the_certificate_is_not_complete(monkeypatch):
    """A certificate that (wrongly) lacks a point the search found: complete=None, and a
    message says the two disagree (never True)."""
    import dataclasses

    import reservoir.analysis.fixed_points as fpm
    real = fpm._certify_impl

    def partial(*args, **kwargs):
        c = real(*args, **kwargs)
        return dataclasses.replace(c, z=c.z[:1], x=c.x[:1], root_boxes=c.root_boxes[:1])
    monkeypatch.setattr(fpm, "_certify_impl", partial)
    fps = rs.find_fixed_points(_fault1_net(), u=[1.0], rng=0, method="scan")
    assert fps.complete is None and len(fps) == 3
    assert any("not among the certificate's roots" in m for m in fps.messages)


def test_not_contracting_is_undecided_with_a_reason():
    """g = 1.5: the open loop is not proved contracting; certify=True says why."""
    net = rs.random_network(N=80, g=1.5, n_inputs=1, n_outputs=1, rng=0)
    fps = rs.find_fixed_points(net, u=[0.5], method="slow", rng=0, certify=True)
    assert fps.complete is None
    assert any("not proved unique" in m for m in fps.messages)


def test_certify_argument_is_validated():
    net = _fault1_net()
    with pytest.raises(TypeError, match="certify"):
        rs.find_fixed_points(net, u=[1.0], certify="yes")
    net4 = rs.random_network(N=20, g=0.3, n_inputs=1, n_outputs=4, rng=0)
    with pytest.raises(ValueError, match="certify"):
        rs.find_fixed_points(net4, u=[1.0], certify=True)


def test_auto_skips_the_scan_when_the_certificate_proves_completeness(monkeypatch):
    """method='auto' on a contracting open loop (at N >= 1000; the threshold lowered here):
    the certificate runs first and, having proved completeness, replaces the z-scan; the
    points equal those of method='scan' (which scans as well) and the work is smaller."""
    import reservoir.analysis.fixed_points as fpm
    net = _fault1_net()
    assert rs.find_fixed_points(net, u=[1.0], rng=0).z_grid.size > 0   # N = 100: scanned
    monkeypatch.setattr(fpm, "_SKIP_SCAN_MIN_N", 100)
    auto = rs.find_fixed_points(net, u=[1.0], rng=0)
    scan = rs.find_fixed_points(net, u=[1.0], rng=0, method="scan")
    assert auto.complete is True and scan.complete is True
    assert auto.z_grid.size == 0 and auto.n_steps == 0 and scan.z_grid.size > 0
    assert any("z-scan skipped" in m for m in auto.messages)
    assert set(auto.found_by) == {"certificate"}
    assert len(auto) == len(scan)
    np.testing.assert_allclose(np.sort(auto.z[:, 0]), np.sort(scan.z[:, 0]), atol=1e-10)
    np.testing.assert_array_equal(auto.stability[np.argsort(auto.z[:, 0])],
                                  scan.stability[np.argsort(scan.z[:, 0])])
    assert auto.n_lu < scan.n_lu
    with pytest.raises(ValueError, match="method='scan'"):
        rs.plotting.plot_fixed_point_equation(auto)
