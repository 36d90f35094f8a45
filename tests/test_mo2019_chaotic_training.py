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
import scipy.stats

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
def trained_small():
    """The N = 40, seed 1 network trained by LS at A = 2 and three random starts."""
    with thread_budget(1):
        net, gen = mo2019.chaotic_closed_loop_network(40, 1)
        n = 600
        fit = mo2019.rs.fit_ridge(net, np.ones((n, 1)), np.full((n, 1), 2.0), washout=100,
                                  reg=mo2019.CHAOTIC_LS_REG, x0=gen.standard_normal(40))
    return fit.network, gen.standard_normal((3, 40))


def test_run_lyapunov_blocks_tile_the_run(trained_small):
    """Block b of run k is lyapunov_exponent started from the run's state at b * 4 tau,
    found here by a plain NumPy Euler loop; the verdict follows the stated rule with
    Student's t quantile from scipy."""
    tn, X0 = trained_small
    with thread_budget(1):
        res = mo2019.run_lyapunov_exponents(tn, X0, 20.0, blocks=5, align=10.0, rng=0)
        gen = np.random.default_rng(0)
        ref = np.empty((3, 5))
        for b in range(5):
            for k in range(3):
                x = _euler_closed(tn, X0[k], 40 * b)[-1]
                ref[k, b] = mo2019.rs.lyapunov_exponent(tn, [1.0], x, duration=4.0,
                                                        transient=10.0, rng=gen)
    t = scipy.stats.t.ppf(0.975, 4)
    for k, r in enumerate(res):
        # Euler in NumPy vs the kernels: rounding (1e-16 per step) grows along the run, so
        # the blocks agree to 1e-6 (1/tau), not bit for bit
        np.testing.assert_allclose(r["lyapunov_blocks"], ref[k], rtol=0, atol=1e-6)
        mean, se = np.mean(ref[k]), np.std(ref[k], ddof=1) / np.sqrt(5)
        assert r["lyapunov_exponent"] == pytest.approx(mean, abs=1e-6)
        assert r["lyapunov_se"] == pytest.approx(se, abs=1e-6)
        blocks = np.array(r["lyapunov_blocks"])
        m, e = blocks.mean(), blocks.std(ddof=1) / np.sqrt(5)
        expected = ("chaotic" if m - t * e > 0 else
                    "regular" if m + t * e < 0 else "undecided")
        assert r["lyapunov_verdict"] == expected


def test_run_lyapunov_at_a_fixed_point_is_the_closed_form(trained_small):
    """From the stable target fixed point the exponent of the Euler map is
    max log|1 - alpha + alpha mu| / dt over the eigenvalues mu of W D (numpy), within the
    run's own 95 % interval, and the run is called regular."""
    tn, X0 = trained_small
    x = _euler_closed(tn, X0[1].copy(), 3000)[-1]
    W = tn.dense_J() + tn.W_fb @ tn.W_out
    I = tn.W_in[:, 0]
    for _ in range(50):
        r = np.tanh(x)
        x = x - np.linalg.solve(-np.eye(40) + W * (1 - r**2)[None, :], -x + W @ r + I)
    mu = np.linalg.eigvals(W * (1 - np.tanh(x) ** 2)[None, :])
    a = tn.dt / tn.tau
    exact = np.max(np.log(np.abs(1 - a + a * mu))) / tn.dt
    with thread_budget(1):
        (res,) = mo2019.run_lyapunov_exponents(tn, x[None, :], 20.0, rng=0)
    t = scipy.stats.t.ppf(0.975, mo2019.LYAPUNOV_BLOCKS - 1)
    assert exact < 0
    assert abs(res["lyapunov_exponent"] - exact) <= t * res["lyapunov_se"]
    assert res["lyapunov_verdict"] == "regular"


def test_run_lyapunov_rejects_bad_input(trained_small):
    tn, X0 = trained_small
    with pytest.raises(ValueError, match="X must have shape"):
        mo2019.run_lyapunov_exponents(tn, X0[:, :10], 20.0)
    with pytest.raises(ValueError, match="blocks"):
        mo2019.run_lyapunov_exponents(tn, X0, 20.0, blocks=1)
    with pytest.raises(ValueError, match="duration"):
        mo2019.run_lyapunov_exponents(tn, X0, -1.0)


def test_chaotic_fraction_counts_and_interval():
    runs = [{"lyapunov_verdict": v} for v in
            ("chaotic", "chaotic", "regular", "undecided", "chaotic")]
    c = mo2019._chaotic_fraction(True, runs)
    assert c["theory"] is True and c["simulation"] == 3 / 5
    assert c["counts"] == {"chaotic": 3, "regular": 1, "undecided": 1, "runs": 5}
    ci = scipy.stats.binomtest(3, 5).proportion_ci(confidence_level=0.95, method="wilson")
    np.testing.assert_allclose(c["wilson95"], [ci.low, ci.high], rtol=1e-12)


def _block(chaotic, regular, undecided):
    n = chaotic + regular + undecided
    runs = ([{"lyapunov_verdict": "chaotic"}] * chaotic + [{"lyapunov_verdict": "regular"}]
            * regular + [{"lyapunov_verdict": "undecided"}] * undecided)
    return mo2019._chaotic_fraction(True, runs) if n else {"wilson95": None}


def test_chaotic_verdict_is_three_way():
    """"Every run is chaotic": true only when every run at every target is chaotic (the
    Wilson upper bound of k / n is 1 only for k = n: checked against scipy's Wilson
    interval), false as soon as one run is measured regular, undecided (None, with a
    note) when runs are undecided but none regular, e.g. the reviewer's 5 / 12 at A = 0.25."""
    v, note = mo2019._chaotic_verdict({0.25: _block(12, 0, 0), 0.75: _block(6, 0, 0)})
    assert v is True and note is None
    v, note = mo2019._chaotic_verdict({0.25: _block(5, 0, 7), 0.75: _block(12, 0, 0)})
    assert v is None and "undecided" in note and "0.25" in note
    v, note = mo2019._chaotic_verdict({0.25: _block(5, 0, 7), 0.75: _block(0, 1, 11)})
    assert v is False and "regular" in note and "0.75" in note
    v, _ = mo2019._chaotic_verdict({0.25: _block(11, 0, 1)})
    assert v is None                     # 11 / 12: the Wilson interval stops short of 1
    for k in (11, 12):
        ci = scipy.stats.binomtest(k, 12).proportion_ci(confidence_level=0.95,
                                                        method="wilson")
        np.testing.assert_allclose(_block(k, 0, 12 - k)["wilson95"][1], ci.high, rtol=1e-12)
        assert bool(ci.high >= 1.0) is (k == 12)
    assert mo2019._chaotic_verdict({})[0] is None
    assert mo2019._chaotic_verdict({0.25: _block(0, 0, 0)})[0] is None


def test_claim_entry_convention():
    c = mo2019._claim("x holds", "rule r", {"k": 1}, None, note="why", method="LS")
    assert c == {"claim": "x holds", "rule": "rule r", "method": "LS", "measured": {"k": 1},
                 "agrees": None, "decided": False, "note": "why"}
    c = mo2019._claim("x holds", "rule r", {}, np.bool_(True))
    assert c["agrees"] is True and c["decided"] is True and "note" not in c
    assert mo2019._claim("x", "r", {}, None)["note"]


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
                assert set(m[key]) >= {"theory", "simulation"}
            # the chaotic fraction is recounted from the runs' Lyapunov verdicts
            verdicts = [u["lyapunov_verdict"] for u in runs]
            ch = m["chaotic"]
            assert ch["counts"] == {"chaotic": verdicts.count("chaotic"),
                                    "regular": verdicts.count("regular"),
                                    "undecided": verdicts.count("undecided"),
                                    "runs": len(runs)}
            assert ch["simulation"] == verdicts.count("chaotic") / len(runs)
    assert data["claims"]
    for c in data["claims"]:
        # the package convention: a stated rule, agrees True / False / None, decided, and a
        # note when undecided
        assert set(c) >= {"claim", "rule", "measured", "agrees", "decided"}
        assert c["agrees"] in (True, False, None) and c["decided"] is (c["agrees"] is not None)
        assert isinstance(c["rule"], str) and len(c["rule"]) > 20
        if not c["decided"]:
            assert c["note"]


def test_claims_agree_with_the_json_chaos_measure(tiny):
    """The defect a reviewer found: "stays chaotic" agreed while the JSON's own chaos
    measure said half the networks were not chaotic. Now "keeps fluctuating" and "is
    chaotic" are separate claims, and "is chaotic" agrees exactly when every run below
    A_c is chaotic by its Lyapunov exponent and uncertainty."""
    data, _ = tiny
    per = {e["A"]: e for e in data["per_target"]}
    below = [a for a, e in per.items() if e["static_bulk_radius"] >= 1.0]
    assert below                                        # A = 0.5 is below A_c
    for method in ("LS", "FORCE"):
        chaotic = [c for c in data["claims"] if c.get("method") == method
                   and "is chaotic" in c["claim"]]
        fluct = [c for c in data["claims"] if c.get("method") == method
                 and "keeps fluctuating" in c["claim"]]
        assert len(chaotic) == len(fluct) == 1
        # three-way, recounted from the per-run verdicts: false if any run below A_c is
        # regular, true if every run is chaotic, else undecided
        verdicts = [v for a in below for v in (r[2] for r in per[a][method]["lyapunov_runs"])]
        expect = (False if "regular" in verdicts else
                  True if all(v == "chaotic" for v in verdicts) else None)
        assert chaotic[0]["agrees"] is expect
        assert chaotic[0]["decided"] is (expect is not None)
        assert "Wilson" in chaotic[0]["rule"] and "regular" in chaotic[0]["rule"]
        for a in below:
            assert chaotic[0]["measured"]["counts_per_A"][a] == per[a][method]["chaotic"][
                "counts"]


def test_chaotic_training_figure_hygiene(tiny):
    """Every symbol of ``mo2019_chaotic_training`` is in a legend (the zero line and the
    |A| = A_c lines named), no legend over data, N and the networks in the title."""
    from test_mo2019_figures import captured_figures, figure_problems
    data, out = tiny
    with captured_figures() as figs:
        mo2019.figure_chaotic_training(data, data["dmf_table"], str(out))
    fig = figs["mo2019_chaotic_training"]
    assert figure_problems(fig) == []
    assert "N = 40, 1 networks per A" in fig._suptitle.get_text()
