"""Seeded slow-point search (Sussillo & Barak 2013; issue 12, "networks with no low-rank
structure"): ``initial_states``, the per-point ``n_hits``, the Chao1 estimate ``n_unseen``
and ``complete``.

The test network has a known set of fixed points: three decoupled bistable units
(``J = 2 I``, no feedback), whose fixed points are all ``3^3 = 27`` combinations of the
three roots ``{-a, 0, a}`` of ``x = 2 tanh(x)`` (``a`` by Brent's method).
"""

import itertools

import numpy as np
import pytest
import scipy.optimize

import reservoir as rs
from helpers import assert_rejects


def _decoupled_net(N=3, gain=2.0):
    return rs.Network(J=gain * np.eye(N), W_in=np.zeros((N, 0)), W_fb=np.zeros((N, 1)),
                      W_out=np.arange(1.0, N + 1.0)[None, :], b=np.zeros(N), phi="tanh",
                      tau=1.0, dt=0.1)


def _known_points(N=3, gain=2.0):
    a = scipy.optimize.brentq(lambda x: gain * np.tanh(x) - x, 0.5, 3.0, xtol=1e-15)
    return np.array(list(itertools.product((-a, 0.0, a), repeat=N)))


def _chao1_by_hand(hits):
    hits = [h for h in hits if h > 0]
    f1, f2 = hits.count(1), hits.count(2)
    return f1 * f1 / (2 * f2) if f2 else f1 * (f1 - 1) / 2


def _seeds(S, rng, N=3, scale=1.5):
    return np.random.default_rng(rng).uniform(-scale, scale, size=(S, N))


def test_seeded_points_are_the_known_ones_and_hits_add_up():
    known = _known_points()
    seeds = _seeds(300, 0)
    fps = rs.find_fixed_points(_decoupled_net(), method="slow", initial_states=seeds)
    assert fps.success and fps.n_seeds == 300
    fixed = fps.is_fixed
    # every fixed point found is one of the 27, found once
    d = np.max(np.abs(fps.x[fixed][:, None, :] - known[None]), axis=2)
    assert np.all(d.min(axis=1) < 1e-9)
    assert len(set(d.argmin(axis=1))) == fixed.sum()
    # every seed is counted once (none is dropped as a distance outlier here)
    assert fps.n_hits.sum() == 300 and np.all(fps.n_hits >= 1)
    # with 300 seeds all 27 are found and Chao1 falls to 0
    assert fixed.sum() == 27
    assert fps.n_unseen == pytest.approx(_chao1_by_hand(list(fps.n_hits[fixed])))
    assert fps.n_unseen == 0.0
    assert fps.complete is None       # the seeded search never proves completeness
    assert any("n_unseen = 0" in m for m in fps.messages)


def test_unequal_basins_make_the_estimate_a_lower_bound():
    """Seeds spread wide rarely reach the all-unstable origin (its Newton basin is small):
    300 seeds find 26 of the 27 points, every one at least twice, so Chao1 says 0 -- the
    documented caveat (an estimate, no proof; ``complete`` stays None)."""
    fps = rs.find_fixed_points(_decoupled_net(), method="slow",
                               initial_states=_seeds(300, 0, scale=3.0))
    assert fps.is_fixed.sum() == 26 and fps.n_unseen == 0.0 and fps.complete is None
    assert not np.any(np.all(np.abs(fps.x) < 1e-9, axis=1))


@pytest.mark.parametrize("S, rng", [(6, 1), (10, 2), (14, 3)])
def test_few_seeds_leave_points_unseen_and_the_estimate_says_so(S, rng):
    fps = rs.find_fixed_points(_decoupled_net(), method="slow", initial_states=_seeds(S, rng))
    fixed = fps.is_fixed
    assert fixed.sum() < 27                          # few seeds cannot reach all 27
    hits = list(fps.n_hits[fixed])
    assert fps.n_unseen == pytest.approx(_chao1_by_hand(hits))
    assert fps.n_unseen > 0
    assert fps.complete is None
    assert any(f"n_unseen = {fps.n_unseen:.3g}" in m for m in fps.messages)


def test_estimate_falls_as_seeds_grow():
    est = [rs.find_fixed_points(_decoupled_net(), method="slow",
                                initial_states=_seeds(S, 7)).n_unseen for S in (8, 40, 400)]
    assert est[0] > 1 and est[0] > est[-1] and est[-1] < 0.5


def test_seeds_are_used_as_given():
    """No noise and no rng: seeds placed exactly on known points give those points, with
    one hit each, and the same call gives the same result."""
    known = _known_points()
    seeds = known[[0, 4, 13, 26]]
    net = _decoupled_net()
    a = rs.find_fixed_points(net, method="slow", initial_states=seeds)
    b = rs.find_fixed_points(net, method="slow", initial_states=seeds, rng=123)
    np.testing.assert_array_equal(a.x, b.x)
    assert len(a) == 4 and np.all(a.n_hits == 1)
    d = np.max(np.abs(a.x[:, None, :] - seeds[None]), axis=2)
    assert np.all(d.min(axis=1) < 1e-12)
    # four singletons: f1 = 4, f2 = 0, bias-corrected Chao1 = 4 * 3 / 2
    assert a.n_unseen == 6.0


def test_auto_with_one_readout_runs_the_seeded_search_beside_the_scan():
    """K = 1 with a reliable scan: ``auto`` runs the seeds too; points found by the scan
    alone have ``n_hits = 0``, and the seeds landing on scanned points count for them."""
    k, w = np.array([2.0, 2.0]), np.array([0.5, 0.5])
    net = rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 0)), W_fb=k[:, None],
                     W_out=w[None, :], b=np.zeros(2), phi="tanh", tau=1.0, dt=0.1)
    plain = rs.find_fixed_points(net)
    assert plain.n_seeds == 0 and np.isnan(plain.n_unseen) and np.all(plain.n_hits == 0)
    assert plain.complete is True      # J = 0 contracts: the certificate proves the three
    zstar = plain.z[-1, 0]
    seeds = np.array([[zstar * 2.0 + 0.1, zstar * 2.0 - 0.1]] * 3)   # near the upper point
    fps = rs.find_fixed_points(net, initial_states=seeds)
    assert fps.n_seeds == 3 and len(fps) == 3
    np.testing.assert_allclose(fps.x, plain.x, atol=1e-10)
    assert list(fps.n_hits) == [0, 0, 3]
    assert set(fps.found_by) == {"z-scan"}
    assert fps.n_unseen == 0.0            # one point hit 3 times: f1 = f2 = 0


def test_no_seed_converging_gives_nan():
    net = _decoupled_net()
    fps = rs.find_fixed_points(net, method="slow", initial_states=np.full((2, 3), 0.9),
                               max_iter=1)
    if not np.any(fps.is_fixed & (fps.n_hits > 0)):
        assert np.isnan(fps.n_unseen)
        assert any("n_unseen = NaN" in m for m in fps.messages)


def test_selection_keeps_hits_and_continuum_dim():
    fps = rs.find_fixed_points(_decoupled_net(), method="slow", initial_states=_seeds(60, 4))
    sub = fps[fps.stable]
    a = _known_points()[-1, 0]
    assert len(sub) >= 1                              # corners (+-a, +-a, +-a) only
    np.testing.assert_allclose(np.abs(sub.x), a, atol=1e-9)
    np.testing.assert_array_equal(sub.n_hits, fps.n_hits[fps.stable])
    np.testing.assert_array_equal(sub.continuum_dim, 0)
    assert sub.n_unseen == fps.n_unseen and sub.complete is None


@pytest.mark.parametrize("states, exc, word", [
    (np.zeros((4, 2)), ValueError, "initial_states"),
    (np.zeros(3), ValueError, "initial_states"),
    (np.zeros((0, 3)), ValueError, "initial_states"),
    (np.array([[0.0, np.nan, 1.0]]), ValueError, "initial_states"),
    (np.array([[0.0, np.inf, 1.0]]), ValueError, "initial_states"),
    (np.zeros((2, 3), dtype=complex), ValueError, "initial_states"),
    (np.array([["a", "b", "c"]]), TypeError, "initial_states"),
])
def test_bad_initial_states(states, exc, word):
    assert_rejects(rs.find_fixed_points, dict(net=_decoupled_net(), method="slow"),
                   dict(initial_states=states), exc, word)
