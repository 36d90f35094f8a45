"""Continua of fixed points (issue 12, fault 4): line and plane attractors, the zero pole of
trained ReLU networks (Rivkind & Barak 2017), and no false alarm at isolated points.

Every network here has its set of fixed points in closed form: a ReLU network with
``W_eff = P`` (an orthogonal projection) and ``c = 0`` has, among its states with every unit
active, exactly the positive vectors of ``range(P)`` as fixed points (``x = P relu(x) = P x``).
"""

import warnings

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import reservoir as rs


def _line_net(N=6, through="feedback"):
    """A ReLU line attractor: every ``x = s v``, ``s > 0``, is fixed (``v > 0``).
    ``through="feedback"``: ``J = 0``, ``W_fb = v``, ``W_out = v^T / |v|^2`` (K = 1, so the
    z-scan applies: ``G(z) = 0`` for every ``z >= 0``); ``"J"``: ``J = v v^T / |v|^2``, no
    feedback (the issue's example)."""
    v = np.arange(1.0, N + 1.0)
    if through == "feedback":
        return rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=v[:, None],
                          W_out=(v / (v @ v))[None, :], b=np.zeros(N), phi="relu",
                          tau=1.0, dt=0.1), v
    return rs.Network(J=np.outer(v, v) / (v @ v), W_in=np.zeros((N, 0)),
                      W_fb=np.zeros((N, 1)), W_out=np.full((1, N), 1.0 / N), b=np.zeros(N),
                      phi="relu", tau=1.0, dt=0.1), v


def _find(net, **kwargs):
    with warnings.catch_warnings():
        # singular Jacobians on a continuum: SciPy warns about the exact zero pivot
        warnings.simplefilter("ignore")
        return rs.find_fixed_points(net, **kwargs)


def _assert_on_line(fps, v, rows):
    """Closed form: each point is s v with s > 0 (checked by projection, tol 1e-9)."""
    for x in fps.x[rows]:
        s = (x @ v) / (v @ v)
        assert s > 0
        np.testing.assert_allclose(x, s * v, atol=1e-9)


@pytest.mark.parametrize("method, kwargs", [("scan", dict(z_range=(-5.0, 5.0))),
                                            ("slow", dict(rng=0)),
                                            ("auto", dict(z_range=(-5.0, 5.0), rng=0))])
def test_relu_line_attractor_is_reported_as_a_continuum_in_every_method(method, kwargs):
    net, v = _line_net()
    fps = _find(net, method=method, **kwargs)
    on = fps.is_fixed & (fps.z[:, 0] > 1e-6)          # off the origin (a kink point)
    assert on.sum() >= 2
    _assert_on_line(fps, v, on)
    assert np.all(fps.continuum_dim[on] == 1)
    assert set(fps.stability[on]) == {"marginal"}     # a multiplier at +1, never "unstable"
    assert fps.complete is False
    msg = [m for m in fps.messages if "continuum of fixed points of dimension 1" in m]
    assert len(msg) == 1 and f"({on.sum()} row(s), one continuum)" in msg[0]
    # the scan cannot resolve a continuum of roots; it says why instead of failing
    assert fps.success
    # the origin is fixed too, on every kink: undecided, not called isolated
    origin = np.flatnonzero(np.all(np.abs(fps.x) < 1e-9, axis=1))
    assert np.all(fps.continuum_dim[origin] == -1)


def test_the_issues_line_attractor_in_J_seeded_on_the_line():
    """``J = v v^T / |v|^2`` without feedback, seeds near the line: every converged point
    off the origin is on the line, dimension 1, and the seeds are counted as one class."""
    net, v = _line_net(5, through="J")
    rng = np.random.default_rng(0)
    seeds = np.outer(np.linspace(0.5, 3.0, 12), v) + 0.05 * rng.standard_normal((12, 5))
    for method in ("slow", "auto"):
        fps = _find(net, method=method, initial_states=seeds, z_range=(-5.0, 5.0))
        on = fps.is_fixed & (np.linalg.norm(fps.x, axis=1) > 1e-6)
        assert on.sum() >= 3
        _assert_on_line(fps, v, on)
        assert np.all(fps.continuum_dim[on] == 1) and fps.complete is False
        assert set(fps.stability[on]) == {"marginal"}
        # every seed on the line landed on a distinct point: without merging the continuum
        # into one class, Chao1 would be f1 (f1 - 1) / 2 > 0
        assert fps.n_unseen == 0.0
        assert any("one continuum" in m for m in fps.messages)


def test_relu_cone_has_dimension_two():
    """``W_eff`` the projection on span(v1, v2) (disjoint supports covering every unit):
    the fixed points with every unit active are ``a v1 + b v2``, ``a, b > 0``: a 2-D cone."""
    v1 = np.array([1.0, 2.0, 3.0, 0.0, 0.0, 0.0])
    v2 = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 2.0])
    V = np.column_stack([v1, v2])
    net = rs.Network(J=np.zeros((6, 6)), W_in=np.zeros((6, 0)), W_fb=V,
                     W_out=(V / (V**2).sum(axis=0)).T, b=np.zeros(6), phi="relu",
                     tau=1.0, dt=0.1)
    rng = np.random.default_rng(1)
    ab = rng.uniform(0.5, 2.0, size=(10, 2))
    seeds = ab @ V.T + 0.05 * rng.standard_normal((10, 6))
    fps = _find(net, method="slow", initial_states=seeds)
    on = fps.is_fixed & np.all(fps.x > 1e-6, axis=1)
    assert on.sum() >= 5
    # closed form: x in span(v1, v2), a = x.v1/|v1|^2 > 0, b > 0
    coef = np.linalg.lstsq(V, fps.x[on].T, rcond=None)[0]
    np.testing.assert_allclose(V @ coef, fps.x[on].T, atol=1e-9)
    assert np.all(coef > 0)
    assert np.all(fps.continuum_dim[on] == 2)
    assert set(fps.stability[on]) == {"marginal"}
    assert fps.complete is False
    assert any("continuum of fixed points of dimension 2" in m for m in fps.messages)


def _clamped_relu_network(N=40, g=0.8, A=1.0, seed=1):
    """The clamped minimum-norm readout of Rivkind & Barak (2017), written out: clamp the
    feedback to ``A``, let the open loop settle (Euler, plain NumPy), and take
    ``w = A r / |r|^2`` on the settled rates, so ``w . relu(x*) = A`` exactly."""
    base = rs.random_network(N, g, 0, 1, phi="relu", dt=0.1, feedback_dist="normal",
                             rng=seed)
    J, m = base.dense_J(), base.W_fb[:, 0]
    x = m * A
    for _ in range(3000):
        x = x + 0.1 * (-x + J @ np.maximum(x, 0.0) + m * A)
    for _ in range(5):                       # polish the settled state by Newton
        F = -x + J @ np.maximum(x, 0.0) + m * A
        x = x - np.linalg.solve(-np.eye(N) + J * (x > 0)[None, :], F)
    r = np.maximum(x, 0.0)
    return base.with_readout((A * r / (r @ r))[None, :]), x


@pytest.mark.parametrize("method", [
    "slow", "scan", "auto"])
def test_trained_relu_network_reads_marginal_on_a_ray(method):
    """Rivkind & Barak (2017): a ReLU network with the clamped minimum-norm readout for the
    target A = 1 and no input or bias has the exact zero pole; with ``c = 0`` every ``s x*``
    (``x*`` the trained fixed point, ``s > 0``) is fixed, with readout ``s A``."""
    net, xs = _clamped_relu_network()
    assert np.max(np.abs(-xs + (net.dense_J() + net.W_fb @ net.W_out)
                         @ np.maximum(xs, 0))) < 1e-10
    rng = np.random.default_rng(2)
    seeds = np.outer(np.linspace(0.5, 2.0, 8), xs) + 0.01 * rng.standard_normal((8, 40))
    kwargs = {"slow": dict(initial_states=seeds), "scan": dict(z_range=(-2.0, 2.0)),
              "auto": dict(z_range=(-2.0, 2.0), initial_states=seeds)}[method]
    fps = _find(net, method=method, **kwargs)
    on = fps.is_fixed & (np.abs(fps.z[:, 0]) > 1e-6)
    assert on.sum() >= 2
    s = fps.z[on, 0]                                         # readout s A with A = 1
    np.testing.assert_allclose(fps.x[on], s[:, None] * xs[None, :], atol=1e-7)
    assert np.all(s > 0)
    assert np.all(fps.continuum_dim[on] == 1)
    assert set(fps.stability[on]) == {"marginal"}
    assert fps.complete is False and fps.success
    assert any("continuum of fixed points of dimension 1" in m for m in fps.messages)


@pytest.mark.parametrize("scale", [1.0, 4.0, 25.0])
def test_a_seed_on_a_relu_ray_stays_where_it_is(scale):
    """Seeded exactly at a point of the ray (``F`` at rounding level there), the search
    reports that very point, not another point of the ray: on a continuum the Newton step
    follows the null direction, and with ``F(c x) = c F(x)`` every slide towards the origin
    lowers ``|F|``, so the polish must not take it (it used to slide |x| from 34 to 1.3)."""
    net, xs = _clamped_relu_network()
    seed = scale * xs
    F = -seed + (net.dense_J() + net.W_fb @ net.W_out) @ np.maximum(seed, 0)  # plain NumPy
    assert np.max(np.abs(F)) < 1e-12 * scale
    fps = _find(net, method="slow", initial_states=seed[None, :], certify=False)
    i = int(np.argmin(np.max(np.abs(fps.x - seed), axis=1)))
    np.testing.assert_allclose(fps.x[i], seed, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(fps.z[i, 0], scale * 1.0, rtol=1e-9)   # readout s A, A = 1
    assert fps.stability[i] == "marginal" and fps.continuum_dim[i] == 1


def _scalar_feedback_net(k, w):
    k, w = np.asarray(k, float), np.asarray(w, float)
    N = k.size
    return rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=k[:, None],
                      W_out=w[None, :], b=np.zeros(N), phi="tanh", tau=1.0, dt=0.1)


def test_isolated_points_raise_no_false_alarm():
    """The hand-derived networks of test_fixed_points.py (three isolated points each, the
    gain eigenvalues W_out D W_fb and 0, none near 1) and a trained tanh network."""
    for k, w in ([2.0, 2.0], [0.5, 0.5]), ([1.0, 2.0, 3.0], [0.5, 0.3, 0.2]):
        fps = _find(_scalar_feedback_net(k, w))
        assert len(fps) == 3
        np.testing.assert_array_equal(fps.continuum_dim, 0)
        assert fps.complete is True     # J = 0 contracts: the certificate proves the three
        assert not any("continuum" in m for m in fps.messages)
    net = rs.random_network(60, 0.8, 0, 1, dt=0.1, feedback_dist="normal", rng=0)
    task = rs.tasks.fixed_points(targets=[0.6, 1.8], duration=80.0, dt=0.1, washout=70.0)
    net = rs.fit_ridge(net, task.inputs, task.targets, mask=task.mask, reg=1e-12).network
    fps = _find(net, method="auto", initial_states=0.5 * np.random.default_rng(3)
                .standard_normal((6, 60)))
    assert len(fps) >= 2 and np.all(fps.continuum_dim[fps.is_fixed] == 0)
    assert fps.complete is None


def test_continuum_dim_not_computed():
    net, _ = _line_net()
    fps = _find(net, method="slow", rng=0, compute_eigenvalues=False)
    assert np.all(fps.continuum_dim == -1) and fps.complete is None


def test_tanh_ring_is_pinned_and_the_verdicts_follow_the_tolerance_rule():
    """A tanh network with an exact continuous symmetry cannot be built from an elementwise
    tanh (its symmetries are signed permutations, a finite group), so a tanh "ring" --
    here the cosine ring ``J_ij = (2 J1 / N) cos(theta_i - theta_j)`` -- has finitely many
    fixed points, pinned by the discreteness. What the search says must still be true:
    every point called isolated has no gain eigenvalue within marginal_tol of 1 (checked
    with an independent eigensolver on ``W_eff D``), and every singular one is marginal."""
    N, J1 = 16, 1.5
    th = 2 * np.pi * np.arange(N) / N
    J = 2 * J1 / N * np.cos(th[:, None] - th[None, :])
    net = rs.Network(J=J, W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                     W_out=np.cos(th)[None, :] / N, b=np.zeros(N), phi="tanh", tau=1.0,
                     dt=0.1)
    seeds = np.array([2.0 * np.cos(th - a) for a in np.linspace(0, 2 * np.pi, 12,
                                                                 endpoint=False)])
    fps = _find(net, method="slow", initial_states=seeds)
    fixed = fps.is_fixed & (np.linalg.norm(fps.x, axis=1) > 0.1)
    assert fixed.sum() >= 2
    for p in np.flatnonzero(fixed):
        x = fps.x[p]
        mu = np.linalg.eigvals(J * (1 - np.tanh(x) ** 2)[None, :])
        near = np.abs(mu - 1) <= fps.marginal_tol[p]
        if fps.continuum_dim[p] == 0:
            assert not near.any()
        else:
            assert fps.stability[p] == "marginal"


def test_singular_but_isolated_point_is_undecided_not_a_continuum():
    """A pitchfork point: ``J = 0``, ``W_fb = (1, 1)``, ``W_out = (1/2, 1/2)``, tanh: the
    fixed points are ``x = W_fb z`` with ``z = tanh(z)``, so the origin alone (closed
    form), where the gain eigenvalue ``W_out D W_fb = 1`` exactly: the Jacobian is singular,
    but steps along its null direction find no other fixed point (``F(s w) ~ -s^3 / 3``).
    No continuum may be claimed."""
    net = _scalar_feedback_net([1.0, 1.0], [0.5, 0.5])
    for method in ("auto", "slow"):
        fps = _find(net, method=method, rng=0, n_seeds=8)
        fixed = fps.is_fixed
        assert fixed.sum() >= 1
        # |F| = |x - tanh x| ~ |x|^3 / 3 < tol = 1e-10 for |x| < 6.7e-4: all such points
        # pass as fixed, but none may be called isolated or on a continuum
        np.testing.assert_allclose(fps.x[fixed], 0.0, atol=7e-4)
        np.testing.assert_array_equal(fps.continuum_dim[fixed], -1)
        assert fps.complete is None
        assert not any("continuum of fixed points of dimension" in m for m in fps.messages)
        assert any("undecided" in m and "continuum_dim = -1" in m for m in fps.messages)
        origin = np.flatnonzero(fixed & np.all(np.abs(fps.x) < 1e-9, axis=1))
        assert np.all(fps.stability[origin] == "marginal")


@settings(max_examples=8, deadline=None)
@given(v=hnp.arrays(np.float64, st.integers(2, 7), elements=st.floats(0.2, 3.0)),
       s=st.lists(st.floats(0.3, 3.0), min_size=2, max_size=4))
def test_any_positive_line_is_found_with_dimension_one(v, s):
    """Property: for any ``v > 0`` the line attractor through the feedback loop, seeded at
    points ``s_k v`` plus a small push off the line, gives points ``s v`` (closed form)
    of continuum dimension 1."""
    N = v.size
    net = rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 0)), W_fb=v[:, None],
                     W_out=(v / (v @ v))[None, :], b=np.zeros(N), phi="relu", tau=1.0,
                     dt=0.1)
    push = 0.01 * np.resize([1.0, -1.0], N)
    seeds = np.outer(s, v) + push
    fps = _find(net, method="slow", initial_states=seeds)
    on = fps.is_fixed & np.all(fps.x > 1e-9, axis=1)
    assert on.sum() >= 1
    _assert_on_line(fps, v, on)
    assert np.all(fps.continuum_dim[on] == 1) and fps.complete is False
