"""Trained closed loops with a chaotic bulk (g = 2) in the MO2019 reproduction (tiny sizes).

Each piece is checked against an independent computation: the network's draws against
:func:`mo2019.chaos_network` and plain NumPy; the theory's numbers against the mean-field
functions called directly (:func:`chaotic_variances`, :func:`uncorrelated_ls_params`,
:func:`chaotic_fixed_points`, a different root finder); the closed-loop measurements
against a plain NumPy Euler loop, a hand-computed speed ``max|-x + W phi(x) + I|`` and
``numpy.linalg.eigvals``; the summary's fractions against counts over the per-run rows.
"""

import json

import numpy as np
import pytest

from reservoir._kernels.blas_threads import thread_budget
from reservoir.analysis.geometry import CLASSES
from reservoir.meanfield import (MeanFieldParams, chaos_threshold, chaotic_fixed_points,
                                 chaotic_variances, gaussian_average, uncorrelated_ls_params)
from reservoir.reproduce import mo2019

BASE = MeanFieldParams(g=2.0, var_m=1.0, var_I=0.09)


def test_network_draws():
    net, _ = mo2019.chaotic_closed_loop_network(50, 3)
    ref, _ = mo2019.chaos_network(50, 0.7, 3)
    m, I = net.W_fb[:, 0], net.W_in[:, 0]
    # same bulk and vectors as the open-loop R6 network of the same seed
    assert np.array_equal(net.dense_J(), ref.J)
    np.testing.assert_allclose(ref.b, 0.7 * m + I, atol=1e-14)
    # exact empirical statistics (orthonormalised draws)
    assert abs(m @ m / 50 - 1.0) < 1e-12 and abs(I @ I / 50 - 0.09) < 1e-12
    assert abs(m @ I / 50) < 1e-12
    assert not np.any(net.W_out) and not np.any(net.b)


@pytest.fixture(scope="module")
def theory():
    return mo2019.chaotic_training_theory([0.5, 2.0], np.linspace(-2.4, 2.4, 13))


def test_theory_static_and_chaotic_numbers(theory):
    lo, hi = theory
    _, din_c = chaos_threshold(2.0)
    A_c = np.sqrt(din_c - 0.09)
    assert abs(lo["A_c"] - A_c) < 1e-12 and abs(A_c - 1.243) < 1e-3    # module docstring
    for row in theory:
        s = chaotic_variances(BASE, row["A"])
        assert row["static_delta0"] == pytest.approx(s.static_delta0, rel=1e-12)
        assert row["static_bulk_radius"] == pytest.approx(s.static_bulk_radius, rel=1e-12)
        assert row["delta0"] == pytest.approx(s.delta0, rel=1e-12)
        assert row["delta_inf"] == pytest.approx(s.delta_inf, rel=1e-12)
        assert row["static_target_stable"] == (abs(row["A"]) > A_c)
    assert lo["regime"] == "chaotic" and lo["delta0"] > lo["delta_inf"]
    assert hi["regime"] == "static" and hi["delta0"] == hi["delta_inf"]
    assert lo["target_kind"] == "chaotic" and hi["target_kind"] == "static"


def test_theory_readout_matches_uncorrelated_ls_above_the_boundary(theory):
    # above A_c the chaotic DMF is the static one: the scale C must be that of the
    # package's uncorrelated LS theory (static open-loop variance, readout_scale)
    hi = theory[1]
    ref = uncorrelated_ls_params(BASE, 2.0)
    assert hi["overlap_nm"] == pytest.approx(ref.overlap_nm, rel=1e-7)
    assert hi["overlap_nI"] == pytest.approx(ref.overlap_nI, rel=1e-7)
    # the LS direction (A var_m + cov_mI, A cov_mI + var_I) of the uncorrelated theory
    for row in theory:
        assert row["overlap_nm"] / row["overlap_nI"] == pytest.approx(row["A"] / 0.09,
                                                                     rel=1e-12)


def test_theory_roots_solve_the_reduction(theory):
    for row in theory:
        snm, snI = row["overlap_nm"], row["overlap_nI"]
        assert any(abs(r["z"] - row["A"]) < 1e-9 for r in row["roots"])
        for r in row["roots"]:
            s = chaotic_variances(BASE, r["z"])
            psi = float(gaussian_average("tanh", "dphi", 0.0, s.delta0))
            assert abs((snm * r["z"] + snI) * psi - r["z"]) < 1e-8
            assert r["kind"] == ("chaotic" if s.chaotic else "static")
            # stability in the reduction: sign of G' by a wider finite difference
            h = 1e-3

            def G(z):
                d = chaotic_variances(BASE, z).delta0
                return (snm * z + snI) * float(gaussian_average("tanh", "dphi", 0.0, d)) - z
            assert r["stable"] == ((G(r["z"] + h) - G(r["z"] - h)) / (2 * h) < 0)
        # the chaotic roots are those of the package's chaotic_fixed_points (another grid)
        ch = sorted(r["z"] for r in row["roots"] if r["kind"] == "chaotic")
        ref = chaotic_fixed_points(BASE.with_readout(snm, snI), n_grid=21)
        np.testing.assert_allclose(ch, np.sort(ref.z), atol=1e-6)
        if row["solution_class"] is not None:
            assert row["solution_class"] in CLASSES


def test_theory_rejects_bad_input():
    with pytest.raises(ValueError, match="A_values"):
        mo2019.chaotic_training_theory([0.0], np.linspace(-1, 1, 5))
    with pytest.raises(ValueError, match="z_grid"):
        mo2019.chaotic_training_theory([1.0], [0.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="T_record"):
        mo2019.chaotic_training_networks([1.0], 20, 1, 1, T_record=30.0)


def test_lag_autocovariance_against_numpy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 7)).cumsum(axis=0) * 0.01
    ks = [200, 240, 280, 320, 360, 400]
    ref = np.mean([np.sum(X[:-k] * X[k:]) / ((500 - k) * 7) for k in ks])
    assert mo2019._lag_autocovariance(X, 0.1) == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError, match="shorter"):
        mo2019._lag_autocovariance(X[:300], 0.1)


def _euler_closed(net, x, n):
    """Plain NumPy forward Euler of the closed loop at u = [1]."""
    W = net.dense_J() + net.W_fb @ net.W_out
    I = net.W_in[:, 0]
    a = net.dt / net.tau
    X = np.empty((n + 1, net.N))
    X[0] = x
    for t in range(n):
        x = (1 - a) * x + a * (W @ np.tanh(x) + I)
        X[t + 1] = x
    return X


def test_measure_against_plain_numpy():
    with thread_budget(1):
        net, gen = mo2019.chaotic_closed_loop_network(40, 1)
        n = 600
        fit = mo2019.rs.fit_ridge(net, np.ones((n, 1)), np.full((n, 1), 2.0), washout=100,
                                  reg=mo2019.CHAOTIC_LS_REG, x0=gen.standard_normal(40))
        X0 = gen.standard_normal((3, 40))
        res = mo2019.measure_trained_chaotic(fit.network, 2.0, X0, T_transient=20.0,
                                             T_record=45.0, lyapunov_duration=20.0, rng=0)
    tn = fit.network
    W = tn.dense_J() + tn.W_fb @ tn.W_out
    w, I = tn.W_out[0], tn.W_in[:, 0]
    assert len(res["runs"]) == 3
    for k, run in enumerate(res["runs"]):
        X = _euler_closed(tn, X0[k], 650)[200:]
        # rows 1..450 of the record are the states after each recorded step
        rec = X[:450]
        z = np.tanh(rec) @ w
        speed = np.max(np.abs(-X[-1] + W @ np.tanh(X[-1]) + I))
        assert run["speed"] == pytest.approx(speed, rel=1e-6, abs=1e-12)
        assert run["z_mean"] == pytest.approx(np.mean(z), abs=1e-9)
        assert run["delta0"] == pytest.approx(np.mean(rec**2), rel=1e-9)
        settled = speed < mo2019.CHAOTIC_REST_SPEED
        at = abs((z[-1] if settled else np.mean(z)) - 2.0) <= 0.01 + 0.02 * 2.0
        expected = {(True, True): "target fixed point", (True, False): "spurious fixed point",
                    (False, True): "fluctuating at target",
                    (False, False): "fluctuating elsewhere"}[(settled, at)]
        assert run["outcome"] == expected
    # this network (seed 1, N = 40) has runs of several outcomes; start 1 reaches the target
    assert [r["outcome"] for r in res["runs"]][1:] == ["target fixed point"] * 2
    tfp = res["target_fixed_point"]
    assert tfp["found"] and abs(tfp["z"] - 2.0) < 1e-4
    # the stability verdict from a fresh Newton solve and numpy's eigenvalues
    x = _euler_closed(tn, X0[1].copy(), 3000)[-1]
    for _ in range(50):
        r = np.tanh(x)
        F = -x + W @ r + I
        x = x - np.linalg.solve(-np.eye(40) + W * (1 - r**2)[None, :], F)
    assert np.max(np.abs(-x + W @ np.tanh(x) + I)) < 1e-10
    assert abs(np.tanh(x) @ w - tfp["z"]) < 1e-8
    lam = np.linalg.eigvals(W * (1 - np.tanh(x) ** 2)[None, :])
    assert tfp["stable"] == bool(np.max(lam.real) < 1)
    assert tfp["max_re_eigenvalue"] == pytest.approx(np.max(lam.real), abs=1e-8)
    assert res["solution_class"] in CLASSES
    assert res["overlap_nm"] == pytest.approx(40 * w @ tn.W_fb[:, 0] / 40, rel=1e-12)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("chaotic_training")
    with thread_budget(1):
        data = mo2019.fig_chaotic_training(
            [0.5, 2.0], 40, 1, 2, np.linspace(-2.4, 2.4, 9), str(out), T_teacher=60.0,
            washout=10.0, T_force=30.0, T_transient=20.0, T_record=45.0,
            lyapunov_duration=20.0)
    return data, out


def test_json_block(tiny):
    data, out = tiny
    for ext in ("png", "pdf"):
        assert (out / f"mo2019_chaotic_training.{ext}").stat().st_size > 1000
    json.dumps(data)                                      # serialisable as written
    prm = data["parameters"]
    assert prm["N"] == 40 and prm["realisations"] == 1 and prm["starts"] == 2
    assert "fluctuating state" in data["teacher_forcing_note"]
    assert [e["A"] for e in data["per_target"]] == [0.5, 2.0]
    assert len(data["networks"]) == 2 * 2                 # targets x methods
    for e in data["per_target"]:
        assert e["N"] == 40 and e["realisations"] == 1
        assert set(e["clamped_fluctuating"]) == {"theory", "simulation"}
        for method in ("LS", "FORCE"):
            m = e[method]
            runs = [u for r in data["networks"] if r["A"] == e["A"] and r["method"] == method
                    for u in r["runs"]]
            frac = m["random_start_outcome"]["simulation"]
            assert set(frac) == set(mo2019.CHAOTIC_OUTCOMES)
            for o, f in frac.items():
                assert f == sum(u["outcome"] == o for u in runs) / len(runs)
            for key in ("target_fixed_point_stable", "chaotic", "solution_class",
                        "overlap_nm", "overlap_nI"):
                assert set(m[key]) == {"theory", "simulation"}
    assert data["claims"]
    for c in data["claims"]:
        assert set(c) >= {"claim", "measured", "agrees"} and isinstance(c["agrees"], bool)
