"""BPTT with a fixed connectivity (masks, sparse J) and Dale's law as the field does it:
the zeroing projection, the Dale initialisations of ``dale_network``, non-negative inputs,
an excitatory-only readout, and the signs kept by the network, its file and
``compare_training``.

Independent references: central finite differences of a plain-NumPy loss, a textbook
Adam step written out here, SciPy's bounded least squares (``lsq_linear``) for the
projection, closed forms for the mean-outlier of a projected or flipped J and for the
balance rule, and Rajan & Abbott's (2006) variance sum for the bulk radius.
"""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from scipy.optimize import lsq_linear
from scipy.special import gammaln

import reservoir as rs
import reservoir.train._bptt as bptt_module
from reservoir.network import _dale_signs
from reservoir.train import project_dale

from reference import PHI


# ----------------------------------------------------------------------------- helpers
def _task(B, T, M, K, seed, dt=1.0):
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((B, T, M))
    Y = 0.3 * np.cumsum(U[..., :1], axis=1) * np.ones((1, 1, K))
    return rs.tasks.Task(inputs=U, targets=Y, mask=np.ones((B, T)), dt=dt)


def _net(N, M, K, seed, alpha=1.0):
    net = rs.random_network(N, 0.9, M, K, dt=alpha, tau=1.0, input_dist="uniform",
                            rng=seed)
    W_out = np.random.default_rng(seed + 1).standard_normal((K, N)) / np.sqrt(N)
    return net.with_readout(W_out)


def _numpy_loss(P, net, U, Y):
    """Plain-NumPy open-loop forward pass and mean squared error (x[0] = 0)."""
    phi = PHI[net.phi]
    a = net.alpha
    B, T, _ = U.shape
    x = np.zeros((B, net.N))
    loss = 0.0
    for t in range(T):
        r = phi(x)
        loss += np.sum((r @ P["W_out"].T - Y[:, t]) ** 2)
        x = (1 - a) * x + a * (r @ P["J"].T + U[:, t] @ P["W_in"].T + P["b"])
    return loss / (B * T * net.n_outputs)


def _fd_gradient(P, net, U, Y, name, where, h=1e-6):
    """Central differences of the loss with respect to the entries ``where`` of ``name``
    (0 elsewhere): the gradient restricted to the mask."""
    g = np.zeros_like(P[name])
    for idx in zip(*np.nonzero(where)):
        for sgn in (1, -1):
            Q = {k: v.copy() for k, v in P.items()}
            Q[name][idx] += sgn * h
            g[idx] += sgn * _numpy_loss(Q, net, U, Y) / (2 * h)
    return g


def _random_masks(net, seed):
    rng = np.random.default_rng(seed)
    return {"J": rng.random((net.N, net.N)) < 0.5,
            "W_in": rng.random(net.W_in.shape) < 0.6,
            "W_out": rng.random(net.W_out.shape) < 0.7}


# ------------------------------------------------------------------------------- masks
def test_masked_weights_are_exactly_zero_after_training():
    """Weights outside the masks are 0 from the start (also in a parameter that is not
    trained) and stay exactly 0 through Adam; the others are trained."""
    net = _net(10, 2, 1, 0)
    task = _task(32, 12, 2, 1, 0)
    masks = _random_masks(net, 1)
    res = rs.bptt(net, task, epochs=4, batch_size=8, lr=1e-2, masks=masks, rng=0)
    out = res.network
    for name in ("J", "W_in", "W_out"):
        W = getattr(out, name)
        assert np.all(W[~masks[name]] == 0.0), name
        before = getattr(net, name)
        assert np.all(W[masks[name]] != before[masks[name]]), name    # every one trained
    assert res.loss_history[-1] < res.loss_history[0]
    # a mask on a parameter that is not trained still holds: zeroed once, then unchanged
    res2 = rs.bptt(net, task, epochs=2, batch_size=8, lr=1e-2, masks=masks,
                   train=("J", "b"), rng=0)
    np.testing.assert_array_equal(res2.network.W_out, np.where(masks["W_out"], net.W_out, 0))
    np.testing.assert_array_equal(res2.network.W_in, np.where(masks["W_in"], net.W_in, 0))
    assert np.all(res2.network.J[~masks["J"]] == 0.0)


def test_masked_gradient_equals_finite_differences_on_the_mask(monkeypatch):
    """The gradient bptt hands to Adam is loss_and_gradients' gradient restricted to the
    masks, which equals central differences of a plain-NumPy loss with respect to the
    existing weights only (zero for the absent ones); 1e-6 relative."""
    net = _net(6, 2, 1, 3)
    task = _task(4, 7, 2, 1, 3)
    masks = _random_masks(net, 4)
    seen = []
    original = bptt_module.adam_update

    def spy(params, grads, state, **kw):
        seen.append({k: np.array(v) for k, v in grads.items()})
        return original(params, grads, state, **kw)

    monkeypatch.setattr(bptt_module, "adam_update", spy)
    rs.bptt(net, task, epochs=1, batch_size=4, lr=1e-2, masks=masks, rng=0)
    P = {"J": np.where(masks["J"], net.J, 0.0), "W_in": np.where(masks["W_in"], net.W_in, 0.0),
         "b": np.array(net.b), "W_out": np.where(masks["W_out"], net.W_out, 0.0)}
    masked_net = dataclasses.replace(net, J=P["J"], W_in=P["W_in"], W_out=P["W_out"])
    _, full = rs.train.loss_and_gradients(masked_net, task.inputs, task.targets)
    for name in ("J", "W_in", "W_out"):
        fd = _fd_gradient(P, net, task.inputs, task.targets, name, masks[name])
        got = seen[0][name]
        scale = max(np.max(np.abs(fd)), 1e-3)
        assert np.max(np.abs(got - fd)) <= 1e-6 * scale, name
        # (the mini-batch is the 4 trials shuffled: sums in another order, hence 1e-12)
        np.testing.assert_allclose(got, np.where(masks[name], full[name], 0.0), rtol=1e-12,
                                   atol=1e-18)
        assert np.all(got[~masks[name]] == 0.0)
        assert np.any(full[name][~masks[name]] != 0.0)     # the mask did remove something


def test_two_masked_adam_steps_with_clipping_match_a_numpy_reference():
    """Two full-batch Adam steps with clipping: the clipping norm is that of the masked
    gradient (the absent weights do not count), moments stay 0 off the mask. Reference:
    finite-difference gradients on the mask and Adam written out; 1e-7 absolute."""
    net = _net(5, 2, 1, 5)
    task = _task(4, 6, 2, 1, 5)
    masks = _random_masks(net, 6)
    lr, clip = 1e-2, 0.05
    res = rs.bptt(net, task, epochs=2, batch_size=4, lr=lr, decay=0.0, clip_norm=clip,
                  masks=masks, rng=0)
    full = {"J": np.ones((5, 5), bool), "W_in": np.ones((5, 2), bool),
            "b": np.ones(5, bool), "W_out": np.ones((1, 5), bool)}
    where = {**full, **masks}
    P = {"J": np.where(masks["J"], net.J, 0.0), "W_in": np.where(masks["W_in"], net.W_in, 0.0),
         "b": np.array(net.b), "W_out": np.where(masks["W_out"], net.W_out, 0.0)}
    m = {k: np.zeros_like(v) for k, v in P.items()}
    v = {k: np.zeros_like(w) for k, w in P.items()}
    clipped = 0
    for k in (1, 2):
        grads = {n: _fd_gradient(P, net, task.inputs, task.targets, n, where[n]) for n in P}
        for n in P:
            g = grads[n]
            norm = np.linalg.norm(g)
            if norm > clip:
                g = g * (clip / norm)
                clipped += 1
            m[n] = 0.9 * m[n] + 0.1 * g
            v[n] = 0.999 * v[n] + 0.001 * g * g
            step = lr * (m[n] / (1 - 0.9**k)) / (np.sqrt(v[n] / (1 - 0.999**k)) + 1e-8)
            P[n] = np.where(where[n], P[n] - step, 0.0)
    assert clipped >= 2                                   # the clipping mattered
    for n in P:
        np.testing.assert_allclose(getattr(res.network, n), P[n], rtol=0, atol=1e-7,
                                   err_msg=n)


def test_all_true_masks_change_nothing():
    """Masks that keep every weight give the unmasked run bit for bit (the mask code
    adds no rounding), in float64 and float32."""
    net = _net(9, 2, 2, 7)
    task = _task(24, 10, 2, 2, 7)
    ones = {"J": np.ones((9, 9), bool), "W_in": np.ones((9, 2), int),
            "W_out": np.ones((2, 9), float), "W_fb": np.ones((9, 2), bool)}
    for dtype in (np.float64, np.float32):
        a = rs.bptt(net, task, epochs=3, batch_size=8, lr=1e-2, clip_norm=0.5, dtype=dtype,
                    rng=1)
        b = rs.bptt(net, task, epochs=3, batch_size=8, lr=1e-2, clip_norm=0.5, dtype=dtype,
                    masks=ones, rng=1)
        assert a.network == b.network
        np.testing.assert_array_equal(a.batch_losses, b.batch_losses)


def test_sparse_network_is_trained_on_its_support_and_stays_sparse():
    """A 20 % sparse J comes back as a CSR with the same indptr and indices (none of its
    structural zeros became weights) and equals the dense run masked by the support."""
    net = _net(30, 1, 1, 2)
    Js = rs.random_network(30, 1.0, 1, 1, density=0.2, rng=3).J
    sparse = dataclasses.replace(net, J=Js)
    assert sparse.is_sparse
    n_zeros = 30 * 30 - Js.nnz
    task = _task(16, 10, 1, 1, 2)
    res = rs.bptt(sparse, task, epochs=3, batch_size=8, lr=1e-2, rng=0)
    out = res.network
    assert out.is_sparse
    np.testing.assert_array_equal(out.J.indptr, Js.indptr)
    np.testing.assert_array_equal(out.J.indices, Js.indices)
    assert np.count_nonzero(out.J.toarray()) <= Js.nnz
    assert 30 * 30 - out.J.nnz == n_zeros
    assert np.all(out.J.data != Js.data)                      # every stored weight trained
    support = Js.toarray() != 0
    dense = rs.bptt(dataclasses.replace(net, J=Js.toarray()), task, epochs=3, batch_size=8,
                    lr=1e-2, masks={"J": support}, rng=0)
    np.testing.assert_array_equal(out.J.toarray(), dense.network.J)
    np.testing.assert_array_equal(out.W_out, dense.network.W_out)
    # the callback sees the sparse network too; a mask on top restricts the support
    kinds = []
    sub = support & (np.random.default_rng(0).random((30, 30)) < 0.5)
    res2 = rs.bptt(sparse, task, epochs=2, batch_size=8, lr=1e-2, masks={"J": sub},
                   callback=lambda e, l, n: kinds.append(n.is_sparse), rng=0)
    assert kinds == [True, True]
    np.testing.assert_array_equal(res2.network.J.indices, Js.indices)
    assert np.all(res2.network.J.toarray()[~sub] == 0.0)


@pytest.mark.parametrize("masks, exc, word", [
    ([1, 2], TypeError, "masks"),
    ({"b": np.ones(5, bool)}, ValueError, "masks keys"),
    ({"J": np.ones((4, 5), bool)}, ValueError, r"masks\['J'\] must have shape"),
    ({"J": np.full((5, 5), 0.5)}, ValueError, r"masks\['J'\] must be boolean"),
    ({"J": np.full((5, 5), "a")}, TypeError, r"masks\['J'\]"),
    ({"J": sp.eye(5, format="csr")}, TypeError, "sparse"),
    ({"W_in": None}, TypeError, "W_in"),
])
def test_bad_masks_are_refused(masks, exc, word):
    net = _net(5, 1, 1, 0)
    with pytest.raises(exc, match=word):
        rs.bptt(net, _task(2, 3, 1, 1, 0), epochs=1, masks=masks)


# ------------------------------------------------------------------ Dale's projection
@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 5), seed=st.integers(0, 10**6), sparse_signs=st.booleans())
def test_projection_is_the_euclidean_projection_and_idempotent(n, seed, sparse_signs):
    """project_dale(J, s) equals the minimiser of ||X - J||_F subject to X[:, j] s_j >= 0
    found by SciPy's bounded least squares, is idempotent, and satisfies the variational
    inequality <J - P, Y - P> <= 0 for feasible Y (the projection onto a convex set)."""
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((n, n)) * rng.choice([1e-3, 1.0, 1e3])
    J[rng.random((n, n)) < 0.2] = 0.0
    s = rng.choice([-1.0, 1.0], n) if not sparse_signs else np.ones(n)
    P = project_dale(J, s)
    cols = np.broadcast_to(s, (n, n)).ravel()
    lb = np.where(cols > 0, 0.0, -np.inf)
    ub = np.where(cols > 0, np.inf, 0.0)
    ref = lsq_linear(np.eye(n * n), J.ravel(), bounds=(lb, ub), method="bvls").x
    np.testing.assert_allclose(P.ravel(), ref, rtol=0, atol=1e-12 * max(1, np.abs(J).max()))
    assert np.all(P * s[None, :] >= 0)
    np.testing.assert_array_equal(project_dale(P, s), P)
    for _ in range(5):
        Y = np.abs(rng.standard_normal((n, n))) * s[None, :]
        Y[rng.random((n, n)) < 0.3] = 0.0
        assert np.sum((J - P) * (Y - P)) <= 1e-9 * max(1, np.abs(J).max()) ** 2


def test_projection_of_a_sparse_matrix_keeps_its_structure_and_validates():
    J = rs.random_network(20, 1.0, 1, 1, density=0.3, rng=0).J
    s = _dale_signs(20, 0.8)
    P = project_dale(J, s)
    assert sp.issparse(P)
    np.testing.assert_array_equal(P.indptr, J.indptr)
    np.testing.assert_array_equal(P.indices, J.indices)
    np.testing.assert_array_equal(P.toarray(), project_dale(J.toarray(), s))
    with pytest.raises(ValueError, match="signs"):
        project_dale(np.eye(3), [1, 0, -1])
    with pytest.raises(ValueError, match="signs"):
        project_dale(np.eye(3), [1, -1])
    with pytest.raises(ValueError, match="square"):
        project_dale(np.ones((2, 3)), [1, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        project_dale(np.full((2, 2), np.nan), [1, 1])


def _first_network_seen(monkeypatch, net, task, **kwargs):
    """The network of bptt's first forward pass (its constrained initial state)."""
    seen = []
    original = bptt_module.loss_and_gradients

    def spy(n, *args, **kw):
        seen.append(n)
        return original(n, *args, **kw)

    monkeypatch.setattr(bptt_module, "loss_and_gradients", spy)
    res = rs.bptt(net, task, epochs=1, batch_size=task.inputs.shape[0], **kwargs)
    monkeypatch.setattr(bptt_module, "loss_and_gradients", original)
    return seen[0], res


def test_default_dale_initialisation_zeroes_and_flip_is_explicit(monkeypatch):
    """dale=f: the initial J is the zeroing projection of the given J (about half its
    weights zero); dale_init="flip" gives the former abs(J) * signs instead."""
    net = _net(40, 1, 1, 8)
    task = _task(4, 5, 1, 1, 8)
    s = _dale_signs(40, 0.8)
    first, res = _first_network_seen(monkeypatch, net, task, dale=0.8, rng=0)
    np.testing.assert_array_equal(first.J, np.where(net.J * s >= 0, net.J, 0.0))
    assert 0.4 < np.mean(first.J == 0) < 0.6
    np.testing.assert_array_equal(first.dale_signs, s)
    flip, _ = _first_network_seen(monkeypatch, net, task, dale=0.8, dale_init="flip", rng=0)
    np.testing.assert_array_equal(flip.J, np.abs(net.J) * s)
    np.testing.assert_array_equal(res.dale_signs, s)
    np.testing.assert_array_equal(res.network.dale_signs, s)


@pytest.mark.parametrize("init", ["orthogonal", "normal"])
def test_leading_eigenvalue_of_flipped_and_zeroed_initial_J(init):
    """The issue's numbers, measured (N = 60, 80 % excitatory, Jarne's initialisation,
    40 draws): flipping gives a mean leading eigenvalue of 3.7 (issue: "about 3.8"), the
    zeroing projection half of it (1.8). Closed form: the column means make a rank-one
    outlier at (n_E - n_I) E|J_ij| (flip) and (n_E - n_I) E[max(J_ij, 0)] = half of it
    (zeroed), with E|q| = Gamma(N/2) / (sqrt(pi) Gamma((N+1)/2)) for an entry of a
    Haar-orthogonal matrix and sqrt(2 / (pi N)) for N(0, 1/N); 5 % relative. Both keep
    80 % of the nonzero weights excitatory; zeroing removes half the weights."""
    N, n_e, n_i = 60, 48, 12
    s = _dale_signs(N, 0.8)
    e_abs = (np.exp(gammaln(N / 2) - gammaln((N + 1) / 2)) / np.sqrt(np.pi)
             if init == "orthogonal" else np.sqrt(2 / (np.pi * N)))
    lead_flip, lead_zero, zero_frac, exc_frac = [], [], [], []
    for seed in range(40):
        J = np.array(rs.jarne_network(N, 2, 1, init=init, rng=seed).J)
        flipped = np.abs(J) * s
        zeroed = project_dale(J, s)
        lead_flip.append(np.max(np.abs(np.linalg.eigvals(flipped))))
        lead_zero.append(np.max(np.abs(np.linalg.eigvals(zeroed))))
        zero_frac.append(np.mean(zeroed == 0))
        exc_frac.append(np.mean(zeroed[zeroed != 0] > 0))
    assert np.mean(lead_flip) == pytest.approx((n_e - n_i) * e_abs, rel=0.05)
    assert np.mean(lead_zero) == pytest.approx((n_e - n_i) * e_abs / 2, rel=0.05)
    assert np.mean(zero_frac) == pytest.approx(0.5, abs=0.02)
    assert np.mean(exc_frac) == pytest.approx(0.8, abs=0.02)


def test_sign_constraints_hold_exactly_after_training(tmp_path):
    """Dale's law with non-negative inputs and an excitatory readout, signs given in any
    order: every column of J has its unit's sign or is zero, W_in >= 0, W_out is zero on
    inhibitory units, after every epoch (callback) and in the result; the signs travel
    with the network and its saved file."""
    N = 16
    net = _net(N, 2, 2, 9)
    task = _task(32, 10, 2, 2, 9)
    s = np.random.default_rng(0).permutation(_dale_signs(N, 0.75))

    def check(network):
        J = np.asarray(network.J)
        assert np.all(J * s[None, :] >= 0)
        assert np.all(network.W_in >= 0)
        assert np.all(network.W_out[:, s < 0] == 0.0)
        np.testing.assert_array_equal(network.dale_signs, s)

    res = rs.bptt(net, task, epochs=4, batch_size=8, lr=2e-2, dale=s,
                  nonnegative_inputs=True, excitatory_readout=True,
                  callback=lambda e, l, n: check(n), rng=0)
    check(res.network)
    J = np.asarray(res.network.J)
    assert np.count_nonzero(J) > 0.3 * J.size and np.any(res.network.W_in > 0)
    assert np.all(res.network.W_out[:, s > 0] != 0)
    assert res.loss_history[-1] < res.loss_history[0]
    rs.save(res.network, tmp_path / "dale.npz")
    back = rs.load(tmp_path / "dale.npz")
    assert back == res.network
    np.testing.assert_array_equal(back.dale_signs, s)


def test_network_signs_are_kept_by_default_and_conflicts_raise():
    net = rs.dale_network(12, 1, 1, excitatory_fraction=0.75, init="balanced", rng=0)
    task = _task(8, 6, 1, 1, 1)
    res = rs.bptt(net, task, epochs=2, batch_size=4, lr=1e-2, rng=0)
    np.testing.assert_array_equal(res.network.dale_signs, net.dale_signs)
    assert np.all(res.network.J * net.dale_signs[None, :] >= 0)
    same = rs.bptt(net, task, epochs=2, batch_size=4, lr=1e-2, dale=0.75, rng=0)
    assert same.network == res.network
    with pytest.raises(ValueError, match="dale_signs"):
        rs.bptt(net, task, epochs=1, dale=0.5)
    # without signs anywhere there is no constraint
    free = rs.bptt(dataclasses.replace(net, dale_signs=None), task, epochs=2, batch_size=4,
                   lr=1e-2, rng=0)
    assert free.network.dale_signs is None and free.dale_signs is None


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(dale=True), TypeError, "dale"), (dict(dale=0.0), ValueError, "dale"),
    (dict(dale=[1, -1]), ValueError, "dale"), (dict(dale=[1, 2, 1, 1, 1]), ValueError, "dale"),
    (dict(dale=0.8, dale_init="abs"), ValueError, "dale_init"),
    (dict(excitatory_readout=True), ValueError, "excitatory_readout"),
    (dict(nonnegative_inputs=1), TypeError, "nonnegative_inputs"),
    (dict(dale=0.8, excitatory_readout="yes"), TypeError, "excitatory_readout"),
])
def test_bad_dale_options_are_refused(kwargs, exc, word):
    net = _net(5, 1, 1, 0)
    with pytest.raises(exc, match=word):
        rs.bptt(net, _task(2, 3, 1, 1, 0), epochs=1, **kwargs)


# ------------------------------------------------------------------ dale_network inits
def test_balanced_rows_cancel_in_expectation_by_the_stated_rule():
    """init="balanced": excitatory entries s|xi|, inhibitory -s c |xi| with c = n_E/n_I,
    so E[row sum] = s sqrt(2/pi) (n_E - c n_I) = 0 (Song, Yang & Wang 2016; PsychRNN).
    Over 300 draws (N = 20, 16 E + 4 I): the mean row sum is 0 within 4 standard errors
    though single rows are not; the column means are s sqrt(2/pi) and -c s sqrt(2/pi)
    (closed form of the half-normal mean) within 4 standard errors; and the variances sum
    to g^2, Rajan & Abbott's bulk radius squared, within 3 %."""
    N, g = 20, 1.3
    n_e, n_i = 16, 4
    c = n_e / n_i
    s = g / np.sqrt((1 - 2 / np.pi) * (n_e + c * c * n_i))
    Js = np.array([rs.dale_network(N, 1, 1, init="balanced", g=g, rng=k).J
                   for k in range(300)])
    rows = Js.sum(axis=2).ravel()
    assert abs(rows.mean()) < 4 * rows.std() / np.sqrt(rows.size)
    assert rows.std() > 0.1
    exc, inh = Js[:, :, :n_e].ravel(), Js[:, :, n_e:].ravel()
    assert np.all(exc > 0) and np.all(inh < 0)
    for vals, mean in ((exc, s * np.sqrt(2 / np.pi)), (inh, -c * s * np.sqrt(2 / np.pi))):
        assert abs(vals.mean() - mean) < 4 * vals.std() / np.sqrt(vals.size)
    var_sum = n_e * exc.var() + n_i * inh.var()
    assert var_sum == pytest.approx(g * g, rel=0.03)


def test_balanced_bulk_has_radius_g():
    """Rajan & Abbott (2006): with balanced column means the bulk radius is
    sqrt(sum_j Var J_ij) = g; balance on average only leaves a few eigenvalues outside.
    N = 300: at least 95 % of the eigenvalues within 1.1 g, and the bulk fills the disk
    (90 % quantile of |lambda| above 0.75 g; measured 0.83-0.86 g)."""
    for g in (0.7, 1.5):
        net = rs.dale_network(300, 1, 1, init="balanced", g=g, rng=4)
        m = np.abs(np.linalg.eigvals(net.J)) / g
        assert np.mean(m <= 1.1) >= 0.95
        assert np.quantile(m, 0.9) >= 0.75


@pytest.mark.parametrize("init", ["orthogonal", "normal"])
def test_projected_inits_are_the_projection_of_the_random_network_draw(init):
    """dale_network("orthogonal" / "normal") = project_dale of random_network's J drawn
    from the same seed (J is drawn first in both)."""
    net = rs.dale_network(30, 2, 1, init=init, g=1.2, excitatory_fraction=0.7, rng=5)
    ref = rs.random_network(30, 1.2, 2, 1, init=init, rng=5).J
    s = _dale_signs(30, 0.7)
    np.testing.assert_array_equal(net.J, project_dale(ref, s))
    np.testing.assert_array_equal(net.dale_signs, s)
    assert net.alpha == 1.0 and np.all(net.W_fb == 0) and np.all(net.b == 0)
    assert np.abs(net.W_in).max() <= rs.network.glorot_limit(2, 30)
    assert net.meta["constructor"] == "dale_network" and net.meta["init"] == init


def test_dale_network_defaults_and_time_grid():
    net = rs.dale_network(rng=0)
    assert net.N == 50 and net.meta["init"] == "balanced"
    assert np.sum(net.dale_signs > 0) == 40 and np.all(net.J[:, :40] > 0)
    assert rs.dale_network(10, dt=2.0, rng=0).tau == 2.0
    slow = rs.dale_network(10, dt=0.5, tau=5.0, rng=0)
    assert slow.alpha == 0.1
    assert rs.dale_network(10, rng=3) == rs.dale_network(10, rng=3)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(N=0), ValueError, "N"), (dict(excitatory_fraction=0.0), ValueError,
                                   "excitatory_fraction"),
    (dict(excitatory_fraction=1.2), ValueError, "excitatory_fraction"),
    (dict(excitatory_fraction=1.0), ValueError, "balanced"),
    (dict(init="gamma"), ValueError, "init"), (dict(g=-1.0), ValueError, "g"),
    (dict(dt=0.0), ValueError, "dt"), (dict(dt=2.0, tau=1.0), ValueError, "dt"),
    (dict(N=2.5), TypeError, "N"), (dict(excitatory_fraction="a"), TypeError,
                                     "excitatory_fraction"),
])
def test_dale_network_bad_input(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        rs.dale_network(**{"N": 10, **kwargs})


# ------------------------------------------------------------------ compare_training
def test_compare_training_keeps_the_dale_signs():
    """BPTT networks trained under Dale's law through compare_training carry their signs
    (and obey them), the pruned copies too."""
    from reservoir.compare import _prune
    task = rs.tasks.xor(40, noise_std=0.1, dt=10.0, rng=0)
    test = rs.tasks.xor(10, noise_std=0.1, dt=10.0, rng=1)
    cmp = rs.compare_training(task, test, methods=("bptt",), n_networks=1, N=10,
                              bptt_kwargs={"epochs": 1, "dale": 0.8, "batch_size": 20},
                              rng=0)
    net = cmp.summaries["bptt"].networks[0]
    s = _dale_signs(10, 0.8)
    np.testing.assert_array_equal(net.dale_signs, s)
    assert np.all(net.J * s[None, :] >= 0)
    pruned = _prune(net, 0.5)
    np.testing.assert_array_equal(pruned.dale_signs, s)
    assert np.count_nonzero(pruned.J) < np.count_nonzero(net.J)


# ------------------------------------------------------------------ training success
@pytest.mark.slow
def test_zeroed_and_balanced_dale_networks_train_where_flipped_ones_fail():
    """XOR (2 ms steps, 1000 trials, N = 40, 25 epochs, 80 % excitatory), 12 seeds:
    flipping the initial J trained 1 of 12 networks, the zeroing projection 6 of 12 and
    the balanced initialisation 12 of 12 in a check with 2 threads (1, 5 and 9 of 12 with
    NUMBA_NUM_THREADS=1: rounding decides the borderline seeds). The issue reported 8 of
    12 flipped and 8 of 8 zeroed networks trained, in a protocol it does not give. In the
    full Jarne protocol (N = 50, 4000 trials of 1 ms steps, 30 epochs, lr 1e-3, decay
    1e-3) a check gave flip 3, zeroed 2 and balanced 11 of 12: zeroing alone is not enough
    there. Asserted with margins: balanced solves at least 8 of 12 and 6 more than
    flipped, zeroed at least 3 more than flipped."""
    task = rs.tasks.xor(1000, noise_std=0.1, dt=2.0, rng=0)
    test = rs.tasks.xor(200, noise_std=0.1, dt=2.0, rng=100)
    solved = {"flip": 0, "project": 0, "balanced": 0}
    for seed in range(12):
        base = rs.random_network(40, 1.0, 2, 1, tau=2.0, dt=2.0, init="orthogonal",
                                 input_dist="uniform", input_scale=0.36, rng=seed)
        base = base.with_readout(np.random.default_rng(seed).uniform(-0.36, 0.36, (1, 40)))
        runs = {m: (base, dict(dale=0.8, dale_init=m)) for m in ("flip", "project")}
        runs["balanced"] = (rs.dale_network(40, 2, 1, init="balanced", dt=2.0, rng=seed), {})
        for name, (net, kw) in runs.items():
            res = rs.bptt(net, task, epochs=25, batch_size=32, lr=2e-3, clip_norm=1.0,
                          rng=seed, **kw)
            z = rs.simulate(res.network, test.inputs, mode="open", record=("z",)).z
            solved[name] += rs.tasks.response_accuracy(test, z) >= 0.95
    assert solved["balanced"] >= 8, solved
    assert solved["balanced"] >= solved["flip"] + 6, solved
    assert solved["project"] >= solved["flip"] + 3, solved
