"""Jarne's spectra and dynamics reproduction (reservoir.reproduce.jarne, issue 15).

The extraction of the dominant eigenvalues and of the bulk's radii is checked against
matrices with spectra known in closed form, the dynamics classifier against 2-D linear
maps with known eigenvalues, and ``run`` at a tiny size (the API tests of every
reproduction module are in test_reproduce_api.py); the full ``--quick`` run is slow."""

from __future__ import annotations

import json
import logging

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reservoir as rs
from reservoir.reproduce import _figures, jarne

matplotlib.use("Agg")


def _rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _haar(n, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


# ------------------------------------------------------------------ spectrum_summary

@pytest.mark.parametrize("radius", [0.3, 0.8, 1.0])
def test_scaled_orthogonal_matrix_is_a_ring_of_its_radius(radius):
    """Every eigenvalue of r Q (Q orthogonal) has modulus r: inner = outer = r."""
    s = jarne.spectrum_summary(np.linalg.eigvals(radius * _haar(60, 1)))
    assert s.inner_radius == pytest.approx(radius, abs=1e-10)
    assert s.outer_radius == pytest.approx(radius, abs=1e-10)
    assert s.ring_ratio == pytest.approx(1.0, abs=1e-9)
    assert s.n_dominant == 0 and not s.bulk_contaminated   # |lambda| = 1 is not outside


def test_diagonal_matrix_dominant_entries_and_percentiles_by_hand():
    """diag(0.05, 0.10, ..., 1.00) plus 1.5 and -1.2: the dominant eigenvalues are the
    two entries beyond 1 (by decreasing modulus); over the 22 moduli the 5th percentile
    (linear interpolation, position 0.05 * 21 = 1.05) is 0.10 + 0.05 * 0.05 = 0.1025 and
    the 90th (position 18.9) is 0.95 + 0.9 * (1.0 - 0.95) = 0.995."""
    d = np.concatenate([0.05 * np.arange(1, 21), [1.5, -1.2]])
    perm = np.random.default_rng(0).permutation(d.size)
    P = _haar(d.size, 3)               # a similarity transform keeps the spectrum
    s = jarne.spectrum_summary(np.linalg.eigvals(P @ np.diag(d[perm]) @ P.T))
    np.testing.assert_allclose(s.dominant, [1.5, -1.2], atol=1e-10)
    assert s.inner_radius == pytest.approx(0.1025, abs=1e-10)
    assert s.outer_radius == pytest.approx(0.995, abs=1e-10)
    assert s.max_modulus == pytest.approx(1.5, abs=1e-10)
    assert not s.bulk_contaminated     # 2 of 22 outside: below 10 %
    d2 = s.to_dict()
    assert d2["n_dominant"] == 2 and d2["dominant"][0] == pytest.approx([1.5, 0.0], abs=1e-9)


def test_rotation_block_gives_a_complex_dominant_pair_and_contamination_flag():
    """Block diag(1.3 R(0.4), 0.5 I_8): the pair 1.3 exp(+-0.4 i) is dominant; 2 of 10
    eigenvalues outside is >= 10 %, so the bulk is flagged."""
    A = np.zeros((10, 10))
    A[:2, :2] = 1.3 * _rotation(0.4)
    A[2:, 2:] = 0.5 * np.eye(8)
    s = jarne.spectrum_summary(np.linalg.eigvals(A))
    assert s.n_dominant == 2 and s.bulk_contaminated
    np.testing.assert_allclose(sorted(s.dominant, key=lambda v: v.imag),
                               [1.3 * np.exp(-0.4j), 1.3 * np.exp(0.4j)], atol=1e-10)


def test_uniform_disk_has_the_stated_ring_ratio():
    """Points uniform in a disk of radius R: |lambda|^2 / R^2 is uniform on [0, 1], so the
    5th and 90th percentiles of the modulus are sqrt(0.05) R and sqrt(0.9) R: ratio
    0.2357 (the module's disk reference). 200000 points: the 5th percentile of the modulus
    has a relative standard error of sqrt(0.05 * 0.95 / n) / 0.05 / 2 = 0.5 %."""
    g = np.random.default_rng(5)
    n = 200000
    r = 0.9 * np.sqrt(g.random(n))
    lam = r * np.exp(2j * np.pi * g.random(n))
    s = jarne.spectrum_summary(lam)
    assert s.ring_ratio == pytest.approx(np.sqrt(0.05 / 0.9), rel=0.02)
    assert s.outer_radius == pytest.approx(0.9 * np.sqrt(0.9), rel=0.01)


@pytest.mark.parametrize("bad, exc, match", [
    ([1.0, np.nan], ValueError, "finite"),
    (np.eye(2), ValueError, "1-D"),
    ([], ValueError, "non-empty"),
    (["a", "b"], TypeError, "array of numbers"),
])
def test_spectrum_summary_refuses_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        jarne.spectrum_summary(bad)


# ------------------------------------------------------------- predicted_dynamics

def test_predicted_dynamics_real_none_and_complex():
    """Jarne's rule on the leading dominant eigenvalue; the period 2 pi dt / theta."""
    assert jarne.predicted_dynamics([], dt=2.0) == ("fixed_point", None)
    assert jarne.predicted_dynamics([1.5, -1.2]) == ("fixed_point", None)
    # the leading (largest-modulus) eigenvalue decides: real 1.5 before a complex pair
    assert jarne.predicted_dynamics([1.2 * np.exp(0.3j), 1.5, 1.2 * np.exp(-0.3j)]) == \
        ("fixed_point", None)
    kind, period = jarne.predicted_dynamics([1.1, 1.3 * np.exp(0.25j),
                                             1.3 * np.exp(-0.25j)], dt=2.0)
    assert kind == "oscillation" and period == pytest.approx(2 * np.pi * 2.0 / 0.25)
    with pytest.raises(ValueError, match="dt"):
        jarne.predicted_dynamics([1.2], dt=0.0)
    with pytest.raises(ValueError, match="finite"):
        jarne.predicted_dynamics([np.inf])


# -------------------------------------------------------------- classify_dynamics

def _linear_run(A, n_steps, x0=(1.0, 0.3)):
    x = np.empty((n_steps, 2))
    x[0] = x0
    for t in range(1, n_steps):
        x[t] = A @ x[t - 1]
    return x


@settings(max_examples=25, deadline=None)
@given(theta=st.floats(0.08, 1.2), dt=st.sampled_from([1.0, 2.0]),
       skew=st.floats(-0.8, 0.8))
def test_rotation_map_oscillates_with_its_linear_period(theta, dt, skew):
    """x[t+1] = S R(theta) S^-1 x[t] (eigenvalues exp(+-i theta) on the unit circle, S a
    shear): an oscillation of period 2 pi dt / theta, measured to 1 %."""
    S = np.array([[1.0, skew], [0.0, 1.0]])
    A = S @ _rotation(theta) @ np.linalg.inv(S)
    c = jarne.classify_dynamics(_linear_run(A, 1500)[500:], dt)
    assert c.kind == "oscillation"
    assert c.period == pytest.approx(2 * np.pi * dt / theta, rel=0.01)


@pytest.mark.parametrize("A, kind", [
    (0.5 * _rotation(0.3), "fixed_point"),             # |lambda| = 0.5: settled to 0
    (np.diag([0.5, 0.3]), "fixed_point"),              # real eigenvalues inside
    (0.995 * _rotation(0.3), "converging"),            # still decaying: 0.995^300 = 0.22
    (1.01 * _rotation(0.3), "growing"),                # outside the unit circle, linear
])
def test_linear_maps_with_known_eigenvalues_are_classified(A, kind):
    c = jarne.classify_dynamics(_linear_run(A, 1000)[-600:], 1.0)
    assert c.kind == kind
    assert (c.period is None) == (kind != "oscillation")


def test_white_noise_is_irregular_and_a_two_frequency_signal_is_not_an_oscillation():
    """White noise: zero crossings at random intervals; the sum of two incommensurate
    sinusoids of equal amplitude: its crossing intervals vary by far more than 25 %."""
    g = np.random.default_rng(2)
    assert jarne.classify_dynamics(g.standard_normal((600, 3)), 1.0).kind == "irregular"
    t = np.arange(2000)
    y = np.sin(2 * np.pi * t / 37.0) + np.sin(2 * np.pi * t / (37.0 * np.sqrt(5)))
    assert jarne.classify_dynamics(np.column_stack([y, 0.5 * y]), 1.0).kind == "irregular"


def test_decay_ratio_of_a_contraction_is_its_modulus_to_the_half_window():
    """For x[t+1] = r R(theta) x[t] the ranges of the two halves of a window of 2h steps
    shrink by about r^h (up to the phase of the sampled cycle)."""
    r, h = 0.999, 300
    c = jarne.classify_dynamics(_linear_run(r * _rotation(0.3), 2 * h + 100)[-2 * h:], 1.0)
    assert c.decay == pytest.approx(r ** h, rel=0.03)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"x": np.zeros((5, 2))}, ValueError, "at least 8 steps"),
    ({"x": np.zeros(20)}, ValueError, "x"),
    ({"x": np.full((20, 2), np.nan)}, ValueError, "x"),
    ({"x": np.zeros((20, 2)), "dt": -1.0}, ValueError, "dt"),
    ({"x": np.zeros((20, 2)), "decay_ratio": 1.5}, ValueError, "decay_ratio"),
])
def test_classify_dynamics_refuses_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        jarne.classify_dynamics(**kwargs)


# ------------------------------------------------------------------- run, tiny size

TINY = {"dt": 10.0, "N": 10, "n_networks": 2, "n_train": 40, "n_train_ff": 20, "epochs": 2,
        "epochs_ff": 2, "lr": 1e-3, "batch_size": 16, "sizes": (8, 10),
        "fractions": (0.5, 0.8), "n_dale": 2, "n_test": 20, "free_ms": 400.0,
        "window_ms": 200.0, "tasks": ("xor", "flip_flop")}


def _leaves_with(obj, keys):
    if isinstance(obj, dict):
        if keys <= set(obj):
            yield obj
        for v in obj.values():
            yield from _leaves_with(v, keys)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves_with(v, keys)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("jarne")
    mp = pytest.MonkeyPatch()
    mp.setattr(jarne, "_config", lambda quick: dict(TINY))
    # PNG only, at a low resolution: drawing dominates a tiny run (the PDFs are checked
    # by the slow quick run)
    mp.setattr(jarne, "save_figure",
               lambda fig, out, name, dpi=None: _figures.save_figure(fig, out, name, dpi=40,
                                                                     formats=("png",)))
    try:
        data = jarne.run(out, quick=True)
    finally:
        mp.undo()
    return out, data


def test_tiny_run_writes_figures_and_the_json_it_returns(tiny_run):
    out, data = tiny_run
    for name in ("jarne_spectra", "jarne_radii", "jarne_dynamics", "jarne_dale_spectra"):
        assert (out / f"{name}.png").stat().st_size > 1000
    assert json.loads((out / "jarne.json").read_text()) == json.loads(json.dumps(data))
    assert set(data["trained"]) == set(TINY["tasks"])
    for t in TINY["tasks"]:
        assert set(data["trained"][t]) == set(jarne.INITS)
        for rows in data["trained"][t].values():
            assert len(rows) == TINY["n_networks"]
            for r in rows:
                assert r["success"] == (r["accuracy"] >= jarne.SUCCESS_THRESHOLD)
                assert r["predicted"] in ("fixed_point", "oscillation")
                assert r["agrees"] == (jarne._agrees(r["predicted"], r["measured"])
                                       if r["testable"] else None)
                assert r["testable"] == (r["period"]["theory"] is None
                                         or r["period"]["theory"] <= TINY["window_ms"])
                assert set(r["period"]) >= {"theory", "simulation"}
    assert set(data["sizes"]["normal"]) == {"8", "10"}
    assert set(data["dale"]) == set(jarne.DALE_INITS)
    # every claim is a claim/measured/agrees triple with a bool verdict
    assert len(data["claims"]) >= 8
    for c in data["claims"].values():
        assert {"claim", "measured", "agrees"} <= set(c) and isinstance(c["agrees"], bool)
    assert list(_leaves_with(data, {"theory", "simulation"}))


def test_tiny_run_before_and_after_are_spectra_of_the_same_network(tiny_run):
    """Rebuild a network from its recorded seed: its initial J has the recorded 'before'
    spectrum, and training it again (same seed, one thread) gives the 'after' one."""
    _, data = tiny_run
    for t, M in (("xor", 2), ("flip_flop", 2)):
        a = jarne.TASKS.index(t)
        r = data["trained"][t]["orthogonal"][1]
        assert r["seed"] == [15, 1, a, 1, 1]
        gen = np.random.default_rng(np.random.SeedSequence(15, spawn_key=(1, a, 1, 1)))
        net0 = rs.jarne_network(TINY["N"], M, 1, init="orthogonal", dt=TINY["dt"], rng=gen)
        mod = np.abs(np.linalg.eigvals(net0.dense_J()))
        assert r["before"]["outer_radius"] == pytest.approx(np.percentile(mod, 90), abs=1e-12)
        assert r["before"]["inner_radius"] == pytest.approx(np.percentile(mod, 5), abs=1e-12)
        task = jarne._tasks(dict(TINY), (t,))[t][0]
        net = jarne._train_one(net0, task, TINY, t, gen).network
        mod = np.abs(np.linalg.eigvals(net.dense_J()))
        assert r["after"]["outer_radius"] == pytest.approx(np.percentile(mod, 90), rel=1e-6)
        assert not np.allclose(net.dense_J(), net0.dense_J())    # training changed J
    # Dale networks: the recorded excitatory fraction and their signs
    r = data["dale"]["normal"]["0.5"][0]
    assert r["excitatory_fraction"] == 0.5 and r["N"] == TINY["N"]


def test_tiny_run_logs_and_never_prints(tiny_run, capsys):
    # the run happened in the fixture; its summary line is recomputable from the claims
    _, data = tiny_run
    assert capsys.readouterr().out == ""
    assert data["seconds"] > 0


# --------------------------------------------------------------- the full quick run, slow

def _recomputed_stats(rows, stage, key):
    v = np.array([r[stage][key] for r in rows if r["success"]])
    return v.mean(), v.std(ddof=1), v.size


@pytest.mark.slow
def test_jarne_quick_run_claims(tmp_path, caplog):
    """``run(quick=True)`` (N = 40, 2 ms steps, 5 networks per cell).

    Asserted against independent numbers: before training, the random-normal J follows
    the circular law (the 90th percentile of |lambda| of a uniform disk of radius 1 is
    sqrt(0.9) = 0.949, the 5th/90th ratio 0.236; within 3 standard errors plus 0.03 for
    the smeared edge at N = 40) and the orthogonal J is exactly the unit circle; each
    claim's verdict is recomputed from the per-network numbers by its stated rule; the
    Wilson interval of the dynamics claim is recomputed. The verdicts themselves are
    findings, recorded in the JSON, not asserted."""
    from reservoir.reproduce._stats import wilson_interval
    with caplog.at_level(logging.INFO, logger="reservoir.reproduce.jarne"):
        data = jarne.run(tmp_path, quick=True)
    assert "claims agreeing" in caplog.text
    for name in ("jarne_spectra", "jarne_radii", "jarne_dynamics", "jarne_dale_spectra"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 1000
    cl = data["claims"]
    for c in cl.values():
        assert {"claim", "measured", "agrees"} <= set(c) and isinstance(c["agrees"], bool)
    rows = {i: [r for t in jarne.TASKS for r in data["trained"][t][i]] for i in jarne.INITS}
    # before training: theory
    m, sd, n = _recomputed_stats(rows["normal"], "before", "outer_radius")
    assert abs(m - np.sqrt(0.9)) <= 3 * sd / np.sqrt(n) + 0.03
    m, sd, n = _recomputed_stats(rows["normal"], "before", "ring_ratio")
    assert abs(m - np.sqrt(0.05 / 0.9)) <= 3 * sd / np.sqrt(n) + 0.03
    for r in rows["orthogonal"]:
        assert r["before"]["outer_radius"] == pytest.approx(1.0, abs=1e-9)
        assert r["before"]["ring_ratio"] == pytest.approx(1.0, abs=1e-9)
        assert r["before"]["n_dominant"] == 0
    # the verdicts follow the stated rules
    m, sd, n = _recomputed_stats(rows["normal"], "after", "outer_radius")
    ratio = _recomputed_stats(rows["normal"], "after", "ring_ratio")[0]
    assert cl["normal_init_spectrum"]["agrees"] == bool(
        m + 2 * sd / np.sqrt(n) < 1 and ratio < jarne.DISK_RATIO_MAX)
    m = _recomputed_stats(rows["orthogonal"], "after", "outer_radius")[0]
    ratio = _recomputed_stats(rows["orthogonal"], "after", "ring_ratio")[0]
    assert cl["orthogonal_init_spectrum"]["agrees"] == bool(
        ratio >= jarne.RING_RATIO_MIN and abs(m - 1) <= jarne.RING_RADIUS_TOL)
    ok = [r for i in jarne.INITS for r in rows[i] if r["success"] and r["testable"]]
    k = sum(r["agrees"] for r in ok)
    d = cl["dominant_eigenvalues_predict_dynamics"]
    assert d["measured"]["n_networks"] == len(ok)
    assert d["measured"]["wilson95"] == pytest.approx(list(wilson_interval(k, len(ok))))
    assert d["agrees"] == (wilson_interval(k, len(ok))[1] >= jarne.PREDICTION_MIN)
    for init in jarne.INITS:
        c = cl[f"size_independence_{init}"]
        if "largest_difference_in_standard_errors" in c:
            assert c["agrees"] == (c["largest_difference_in_standard_errors"] <= 2.0)
        else:
            assert c["agrees"] is False
