"""The reproduction scripts run in --quick mode and write theory beside simulation (the
scripts are thin wrappers of ``reservoir.reproduce``; its API is tested in
test_reproduce_api.py)."""

import json
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def _run(script, out):
    subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--quick", "--out",
                    str(out)], check=True, capture_output=True, text=True, timeout=900)


def _pairs(obj):
    """Every dict with both a 'theory' and a 'simulation' entry."""
    if isinstance(obj, dict):
        if "theory" in obj and "simulation" in obj:
            yield obj
        for v in obj.values():
            yield from _pairs(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _pairs(v)


@pytest.mark.slow
def test_reproduce_mo2019_quick(tmp_path):
    """The whole quick run (a few minutes on 2 shared cores)."""
    _run("reproduce_mo2019.py", tmp_path)
    for name in ("mo2019_vary_A", "mo2019_geometry_line"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 1000
    data = json.loads((tmp_path / "mo2019.json").read_text())
    assert len(list(_pairs(data))) > 20
    assert data["summary"]["stability_agreement"] == 1.0
    assert data["summary"]["mean_abs_z_error"] < 0.1
    for A, (s_s, s_c) in data["geometry_line"]["spec"].items():
        got = data["geometry_line"]["theory"][A]
        assert abs(got["sigma_s"] - s_s) < 0.02 and abs(got["sigma_c"] - s_c) < 0.02
    assert abs(data["checkable"]["A_flex"]["theory"] - (-0.231757)) < 1e-6
    # 2-D class map: 12 networks at N = 300, 6 inside the classes and 6 within 0.1-0.15 of
    # sigma_s or sigma_c; measured: all 12 agree with the theory. The 6 inside must agree;
    # a disagreement next to a boundary would be a finite-size finding, so the bound on
    # the overall fraction leaves room for two.
    pm = data["phase_map"]
    for ext in ("png", "pdf"):
        assert (tmp_path / f"mo2019_phase_map.{ext}").stat().st_size > 1000
    assert pm["N"] == 300 and pm["n_networks"] == len(pm["networks"]) == 12
    assert {r["theory"] for r in pm["networks"]} == set(pm["theory"]["class_names"])
    assert all(r["agree"] for r in pm["networks"][:6])
    assert pm["agreement"] >= 10 / 12
    assert data["summary"]["phase_map_agreement"] == pm["agreement"]
    # R5 (spec 6.3): success = 1 where the exact LS theory predicts a unique fixed point;
    # structured starts fail where a spurious attractor exists, as the basin predicts
    for ext in ("png", "pdf"):
        assert (tmp_path / f"mo2019_training_success.{ext}").stat().st_size > 1000
    for row in data["training_success"]["per_target"]:
        rnd, struct = row["random_success"], row["structured_success"]
        if not row["spurious_stable_z"]["theory"]:
            assert rnd["simulation"] == struct["simulation"] == 1.0
        else:
            assert struct["theory"] < 1.0 and struct["simulation"] < 1.0
            assert abs(struct["simulation"] - struct["theory"]) <= 0.25
            assert len(row["spurious_stable_z"]["simulation"]) >= 1
    # R5, RLS: the same networks with the readout trained online by FORCE land on a
    # different readout (cosine with the LS one measured 0.40-0.48, norm 2.1-2.5x) and in
    # these runs reach the target from every start, spurious LS attractor or not
    rls = data["training_success"]["rls"]["per_target"]
    assert [r["A"] for r in rls] == [r["A"] for r in data["training_success"]["per_target"]]
    for r in rls:
        assert r["random_success"] == r["structured_success"] == 1.0
        assert max(r["readout_cosine_to_ls"]) < 0.9
    for name in ("mo2019_bulk_chaos", "mo2019_spectra"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 1000
    # R6: the chaos threshold of spec X5 (g = 2) and the chaotic DMF where the static
    # target is unstable
    chaos = data["bulk_chaos"]
    th = chaos["threshold"]
    assert abs(th["input_variance"] - 1.6359) < 1e-4 and abs(th["delta0_at_edge"] - 4.2079) < 1e-4
    assert abs(th["A_c_for_SI_1"] - 0.797) < 1e-3
    for row in chaos["theory"]:
        unstable = row["bulk_radius"] > 1
        assert (row["status"] == "converged") == unstable
        assert row["delta0"] >= row["delta_inf"] > 0
        assert (row["delta0"] > row["delta_inf"]) == unstable
    assert any(r["status"] == "converged" for r in chaos["theory"])
    for row in chaos["networks"]:
        # quick mode, N = 400, one network, g = 2: finite networks have a smaller variance
        # than the mean field (measured -6 % and -16 % in the chaotic states A = 0, 0.8;
        # -10 % at the static A = 2, -3.5 % there at N = 1000; the chaotic error shrinks
        # with N, see the slow test in test_mf_chaotic.py), so only a loose bound here
        d0 = row["delta0"]
        assert abs(d0["simulation"] - d0["theory"]) < 0.25 * d0["theory"]
        if "bulk_radius" in row:
            # bulk edge at rest vs g sqrt([phi'^2]): measured 1.003 vs 0.889 (N = 400)
            b = row["bulk_radius"]
            assert abs(b["simulation"] - b["theory"]) < 0.15 * b["theory"]
    # R4: spectra at the target (N = 800, one network): bulk edge (largest complex
    # eigenvalue) within 3 % of the theory circle at the network's own readout (measured
    # 0.6 %, 2.2 %, 1.6 %; the spec's 2 % criterion is for N = 2500, where the finite-N
    # overshoot of the edge is smaller), outlier within 0.06 (measured 0.012, 0.014, 0.052;
    # spec 5.2 gets 0.005 at N = 2500), and the stability verdicts agree
    spectra = {r["name"]: r for r in data["spectra"]}
    assert set(spectra) == {"globally stable", "bistable", "unstable target"}
    for r in spectra.values():
        assert r["newton_converged"]
        assert abs(r["z"]["simulation"] - r["A"]) < 0.05
        b = r["bulk_radius_at_network_z"]
        assert abs(b["simulation"] - b["theory"]) < 0.03 * b["theory"]
        assert abs(r["outlier"]["simulation"] - r["outlier"]["theory"]) < 0.06
        assert r["stable"]["theory"] == r["stable"]["simulation"]
    assert spectra["unstable target"]["outlier"]["simulation"] > 1
    assert spectra["bistable"]["n_fixed_points_theory"] == 3
    assert spectra["globally stable"]["n_fixed_points_theory"] == 1
    # R5 error bars: k of n runs (networks x starts: 8 random, 9 structured) per target
    # and kind of start, inside their Wilson 95 % interval
    ts = data["training_success"]
    for row in ts["per_target"] + ts["rls"]["per_target"]:
        for start, n_each in (("random", 8), ("structured", 9)):
            k, n = row["counts"][start]
            lo, hi = row["wilson95"][start]
            assert n == row["realisations"] * n_each and lo <= k / n <= hi
    # Trained closed loops with a chaotic bulk (g = 2, A_c = 1.243; N = 300, 2 networks x
    # 6 starts at A = 0.25, 0.75, 1.5, 2). Measured in the quick run: the clamped state
    # fluctuates below A_c and is at rest above; every run below A_c fluctuates with its
    # time-averaged readout at A in 22 (LS) and 23 (FORCE) of 24 runs,
    # <x^2> within 2 % of the chaotic DMF Delta0; above A_c every network has a stable
    # target fixed point, and at A = 1.5 one LS network sends most random starts to
    # spurious attractors near z = -1 and 0.7 that the 1-D reduction does not predict
    for ext in ("png", "pdf"):
        assert (tmp_path / f"mo2019_chaotic_training.{ext}").stat().st_size > 1000
    ct = data["chaotic_training"]
    assert ct["parameters"]["N"] == 300 and ct["parameters"]["realisations"] == 2
    assert abs(ct["parameters"]["A_c"] - 1.2434) < 1e-3
    per = {e["A"]: e for e in ct["per_target"]}
    assert set(per) == {0.25, 0.75, 1.5, 2.0}
    for A in (0.25, 2.0):                               # far from the boundary
        assert per[A]["clamped_fluctuating"]["simulation"] == float(
            per[A]["clamped_fluctuating"]["theory"])
    for method in ("LS", "FORCE"):
        for A in (0.25, 0.75):
            m = per[A][method]
            frac = m["random_start_outcome"]["simulation"]
            assert m["random_start_outcome"]["theory"] == "fluctuating at target"
            assert frac["fluctuating at target"] + frac["fluctuating elsewhere"] >= 0.75
            assert m["target_fixed_point_stable"]["simulation"] == 0.0
            d0 = m["delta0_fluctuating"]
            assert abs(d0["simulation"] - d0["theory"]) < 0.1 * d0["theory"]
        assert per[2.0][method]["target_fixed_point_stable"]["simulation"] == 1.0
        assert per[2.0][method]["random_start_outcome"]["theory"] == "target fixed point"
    assert len(ct["claims"]) >= 7
    assert {c.get("method") for c in ct["claims"]} >= {"LS", "FORCE"}
    for c in ct["claims"]:                              # the package's claim convention
        assert set(c) >= {"claim", "rule", "measured", "agrees", "decided"}
        assert c["agrees"] in (True, False, None) and c["decided"] is (c["agrees"] is not None)
        assert c["decided"] or c["note"]
    # "keeps fluctuating" and "is chaotic" are separate claims; "is chaotic" is three-way:
    # true when every run below A_c has a positive largest Lyapunov exponent beyond its 95 %
    # interval (5 blocks), false when some run is measured regular, else undecided.
    # Measured (quick): at A = 0.25 every exponent is positive (0.007-0.080) but only 5/12
    # (LS) and 8/12 (FORCE) runs beyond their interval, the rest undecided; at A = 0.75 the
    # exponents scatter around 0 (-0.045 to 0.040): 0/12 and 1/12 chaotic, 1 (LS) and 3
    # (FORCE) runs regular -> false for both (a finding); at A = 2 every run is regular
    for method in ("LS", "FORCE"):
        (chaotic,) = [c for c in ct["claims"] if c.get("method") == method
                      and "is chaotic" in c["claim"]]
        (fluct,) = [c for c in ct["claims"] if c.get("method") == method
                    and "keeps fluctuating" in c["claim"]]
        below = [A for A in per if abs(A) < ct["parameters"]["A_c"]]
        assert fluct["agrees"]                          # measured: every run fluctuates
        counts = [per[A][method]["chaotic"]["counts"] for A in below]
        expect = (False if any(k["regular"] for k in counts) else
                  True if all(k["chaotic"] == k["runs"] for k in counts) else None)
        assert chaotic["agrees"] is expect
        for A in per:
            c = per[A][method]["chaotic"]
            n = c["counts"]["runs"]
            assert n == 12 and c["counts"]["chaotic"] == round(c["simulation"] * n)
            lo, hi = c["wilson95"]
            assert lo <= c["simulation"] <= hi
        assert per[0.25][method]["chaotic"]["counts"]["regular"] == 0
        assert per[2.0][method]["chaotic"]["counts"]["regular"] == 12
    # the paper's own claims: {claim, rule, measured, agrees}, in the order of paper_claims
    claims = data["claims"]
    assert len(claims) == 4
    assert all(set(c) >= {"claim", "rule", "measured", "agrees", "decided"} and isinstance(
        c["agrees"], bool) and c["decided"] for c in claims)
    mf, geo, bist, success = claims
    # mean field vs networks: every fixed point within its N^-1/2 tolerances (measured worst
    # error / tolerance 0.73 (z), 0.75 (outlier), 0.93 (bulk radius)), 23 of 23 verdicts;
    # the outlier compared only where the theory's lies outside the bulk (17 of 23; at
    # A = -2, -0.5, 2 it lies inside and the network's top eigenvalue is a bulk eigenvalue)
    assert mf["agrees"] and max(mf["measured"]["worst_error_over_tolerance"].values()) <= 1
    mfm = mf["measured"]
    assert mfm["n_outliers_compared"] + mfm["n_outlier_inside_bulk"] == mfm["n_fixed_points"]
    assert mfm["n_outlier_inside_bulk"] >= 1
    rows = data["vary_A_networks"] + data["spectra"]
    compared = [abs(r["outlier"]["simulation"] - r["outlier"]["theory"]) for r in rows
                if r["outlier"]["simulation"] is not None
                and abs(r["outlier"]["theory"]) > r["bulk_radius"]["theory"]]
    assert len(compared) == mfm["n_outliers_compared"]
    assert mfm["max_abs_outlier_error"] == pytest.approx(max(compared), rel=1e-12)
    assert mf["measured"]["stability_agreement"][0] == mf["measured"]["stability_agreement"][1]
    assert geo["agrees"] == (pm["agreement"] == 1.0)
    assert geo["measured"]["networks"] == 12
    assert bist["agrees"] and bist["measured"]["class_map_bistable"][0] >= 1
    # training success: theory inside the Wilson interval per target and start; the counts
    # are those of training_success. Measured: the random starts at the bistable targets
    # are outside (A = -2: theory 0, 4/16, [0.10, 0.49]; A = 2: theory 1, 15/16,
    # [0.72, 0.989]) -> agrees false, a finding
    per_ts = {r["A"]: r for r in data["training_success"]["per_target"]}
    verdicts = []
    for A, starts in success["measured"]["per_A"].items():
        for start, v in starts.items():
            assert [v["k"], v["n"]] == per_ts[float(A)]["counts"][start]
            assert v["agrees"] == (v["wilson95"][0] <= v["theory"] <= v["wilson95"][1])
            verdicts.append(v["agrees"])
    assert success["agrees"] == all(verdicts)


@pytest.mark.slow
def test_reproduce_rb2017_quick(tmp_path):
    """The whole quick run (about a minute on 2 shared cores)."""
    _run("reproduce_rb2017.py", tmp_path)
    for name in ("rb2017_output_ode", "rb2017_output_ode_three_targets", "rb2017_poles",
                 "rb2017_frequency", "rb2017_time_constants", "rb2017_stability_map",
                 "rb2017_edge_success", "rb2017_feedback_distribution",
                 "rb2017_finite_size", "rb2017_robustness", "rb2017_relu_vs_sigmoid"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 1000
    data = json.loads((tmp_path / "rb2017.json").read_text())
    assert len(list(_pairs(data))) >= 5
    rate = data["decay_rate_t2_6"]
    assert np.all(np.abs(np.array(rate["simulation"]) - rate["theory"]) < 0.08)
    for row in data["poles_two_targets"]["rows"]:
        p = row["leading_pole"]
        assert abs(p["theory"] - p["simulation"]) < 0.08
        assert np.sign(p["theory"]) == np.sign(p["simulation"])
    low = data["frequency_response"]["3.0"]
    np.testing.assert_allclose(np.array(low["simulation"]).mean(axis=0), low["theory"],
                               rtol=0.1)
    assert abs(data["relu_leading_eigenvalue"]["simulation"]) < 1e-8
    # R3 measured on the network (N = 1000, 1 network, eps = 0.005 sin drive): the
    # measured gain is the linearised network's (nonlinear error ~0.2 %; seen <= 0.25 %)
    # within 1 %; doubling eps changes it by < 1.5 % (seen 0.7 %); against the mean field
    # (Euler map, dt = 0.05) the finite-size error at N = 1000 is up to 13.5 % at A = 1
    # (|T(0)| 2.77 vs 3.13, as in spec 7.3: 2.76 for seed 1), 1.4 % at A = 3: 20 % and 5 %
    for A, rtol in (("1.0", 0.2), ("3.0", 0.05)):
        fr = data["frequency_response"][A]
        assert (fr["N"], fr["realisations"]) == (1000, 1)
        assert fr["max_relative_error_vs_linearised"] < 0.01
        assert fr["linearity"]["max_relative_difference"] < 0.015
        np.testing.assert_allclose(np.array(fr["simulation"]).mean(axis=0), fr["theory"],
                                   rtol=rtol)
        phase = fr["phase"]                     # seen: within 0.14 rad (A = 1, omega 0.5)
        assert np.all(np.abs(np.array(phase["simulation"]) - phase["theory"]) < 0.2)
    claims = data["frequency_claims"]
    for key in ("band_pass_at_A_1", "low_pass_at_A_3", "peak_frequency_at_A_1"):
        assert claims[key]["agrees"] is True, key
    # measured peak at omega = 0.427 (MF 0.405), peak / static gain 2.18 (MF 2.16)
    assert abs(claims["peak_frequency_at_A_1"]["measured"] - 0.405) < 0.05
    assert abs(claims["band_pass_at_A_1"]["measured"] - 2.16) < 0.3
    # R4 on networks (g = 1.5, N = 1000, 2 networks per target, A = 0.6 ... 3): every
    # clamped network settles; the mean fitted tau_out is within 40 % of the mean field at
    # every A (seen: 15 %; single networks 1.08 ... 1.84 against 1.17 ... 1.67), while the
    # measured bulk time grows from ~2.6 to ~15.5 (MF 2.5 to 24.4: at N = 1000 the bulk
    # edge is smeared by ~N^-1/2, so the growth is smaller than the theory's 9.8)
    tc = data["time_constants"]
    for row in tc["networks"]["rows"]:
        assert row["not_settled"] == 0 and len(row["tau_out"]["simulation"]) == 2
        tau = np.mean(row["tau_out"]["simulation"])
        assert abs(tau / row["tau_out"]["theory"] - 1) < 0.4, row["A"]
        assert np.all(np.array(row["tau_out"]["simulation"]) < 2.5)
    m = tc["claim"]["measured"]
    assert tc["claim"]["agrees"] is True
    assert 3 < m["bulk_time_growth"] < 15 and m["tau_out_growth"] < 2
    # R1(b): the third-order output ODE follows N = 1000 networks at every attractor
    for att in data["output_ode_three_targets"]["attractors"]:
        assert att["max_error_over_max_theory"] < 0.15, att["A"]
    # R2(d): trained wherever A > A_c(g), never at half the edge
    edge = data["edge_success"]
    assert edge["agreement"] >= 0.8
    for row in edge["rows"]:
        if row["A_over_A_c"] >= 1.3:
            assert row["trained"]["simulation"] == 1.0
        if row["A_over_A_c"] <= 0.5:
            assert row["trained"]["simulation"] <= 1 / 3
    # R2(c): mean-field stability predicts the nonlinear outcome for every pair (the map's
    # poles are at least 0.2 from 0, so finite N = 300 does not flip them)
    smap = data["stability_map"]
    assert smap["agreement"] == 1.0 and len(smap["rows"]) == 12
    for row in smap["rows"]:
        assert row["stable"]["simulation"] == float(row["stable"]["theory"])
    # R5: tau_out fitted from networks within 15% of theory; A_c for U[-1, 1] (spec 7.1)
    for row in data["feedback_distribution"]["networks"]:
        tau = row["tau_out"]
        assert np.all(np.abs(np.array(tau["simulation"]) / tau["theory"] - 1) < 0.15)
    edge = data["feedback_distribution"]["edge_of_chaos"]["uniform"]
    for g, Ac in data["feedback_distribution"]["spec_uniform_A_c"].items():
        assert abs(edge["A_c"][edge["g"].index(float(g))] - Ac) < 2e-4
    # R6: the errors shrink with N (theory slope -1/2; quick runs give about -0.3 to -0.4)
    assert data["finite_size"]["sizes"] == [200, 400, 800]
    assert data["finite_size"]["realisations_per_N"] == [10, 10, 6]
    for key, slope in data["finite_size"]["loglog_slope"].items():
        assert -1.0 < slope["simulation"] < -0.15, key
    # R7: the input through u keeps an O(1) gain near T(0) = 0.441, the random input's rms
    # gain falls like N^-1/2, so their ratio grows with N
    rows = data["robustness"]["rows"]
    for row in rows:
        gu = row["gain_u"]
        assert abs(np.mean(gu["simulation"]) - gu["theory"]) < 0.08
    assert -0.8 < data["robustness"]["loglog_slope_v"]["simulation"] < -0.3
    ratios = [row["ratio_u_over_v"] for row in rows]
    assert np.all(np.diff(ratios) > 0) and ratios[-1] > 1.4 * ratios[0]
    # ReLU vs sigmoid (N = 200, 3 networks per point): one tanh target is always a stable
    # attractor (poles -0.26 ... -0.58 here, far from 0); a ReLU target never is: an exact
    # zero pole, a line attractor ("marginal", or "unknown" where the analysis reports the
    # ray by a point on a ReLU kink); tanh pairs: the alternation rule and the mean-field
    # verdicts hold in every network (poles at least 0.3 from 0, finite-size spread ~0.08)
    rvs = data["relu_vs_sigmoid"]
    for row in rvs["single_target"]["tanh"]:
        assert row["success"]["simulation"] == row["success"]["theory"] == 1.0
    for row in rvs["single_target"]["relu"]:
        assert row["success"]["simulation"] == 0.0
        assert row["line_attractor"]["simulation"] == 1.0
        for n in row["networks"]:
            assert n["stability"] in ("marginal", "unknown")
            assert abs(n["leading_pole"][0]) < 1e-8
    for pair in rvs["two_targets_tanh"]:
        assert pair["alternation"]["simulation"] == 1.0
        for att in pair["attractors"]:
            assert att["success"]["simulation"] == att["success"]["theory"]
            th = att["leading_pole"]["theory"][0]
            assert np.all(np.abs(np.array(att["leading_pole"]["simulation"])[:, 0] - th)
                          < 0.2)
    # every claim of the paper with its rule and verdict (rb2017.collect_claims). Measured in
    # the quick run: 15 of 18 agree; findings: at A = 0.8 A_c 2 of 3 (g = 1.5) and 1 of 3
    # (g = 2) networks train against the mean field's 0 (Wilson intervals exclude 0); the
    # N^-1/2 laws (finite size, random inputs) are undecided: with 3 sizes and 6-12 values
    # per N the slopes' bootstrap intervals (e.g. [-0.79, 0.31]) hold both -0.5 and 0
    claims = data["claims"]
    for key, c in claims.items():
        assert {"claim", "rule", "measured", "agrees", "N", "realisations", "see"} <= set(c)
        assert c["agrees"] in (True, False, None), key
        assert c["decided"] is (c["agrees"] is not None), key
        assert c["see"].split(".")[0] in data, key
    summary = data["claims_summary"]
    assert summary["claims"] == len(claims) >= 18
    assert summary["not_agreeing"] == [k for k, c in claims.items() if c["agrees"] is False]
    assert summary["undecided"] == [k for k, c in claims.items() if c["agrees"] is None]
    for key in ("output_ode_first_order", "output_ode_third_order", "alternation_rule_poles",
                "relu_exact_zero_pole", "stability_map", "edge_success_away_from_edge",
                "feedback_distribution_tau_out", "frequency_band_pass_at_A_1",
                "frequency_low_pass_at_A_3", "frequency_peak_frequency_at_A_1",
                "time_constant_finite_at_edge"):
        assert claims[key]["agrees"] is True, key
    assert all(claims[k]["agrees"] for k in claims if k.startswith("relu_vs_sigmoid_"))
    for bad in claims["edge_success"]["measured"]["disagreeing_points"]:
        assert abs(bad["A_over_A_c"] - 1) < 0.3          # only next to the edge
    for key in ("finite_size_convergence", "robustness_random_inputs"):
        c = claims[key]
        assert c["agrees"] in (True, None) and c["decided"] is (c["agrees"] is not None)
    for v in data["finite_size"]["loglog_slope"].values():
        lo, hi = v["bootstrap95"]
        assert lo < v["simulation"] < hi


def test_reproduce_rb2017_new_figures_small():
    """R1(b), R2(c), R2(d), R6 and R7 of the rb2017 reproduction at tiny sizes (default run;
    the full quick run is slow-marked): JSON structure, theory beside simulation, and the
    qualitative claims (stability agreement, random-input gain falling with N). The script
    is a thin wrapper: its figure functions live in ``reservoir.reproduce.rb2017``."""
    import matplotlib.pyplot as plt
    import numba
    from reservoir.reproduce import rb2017 as mod
    out = {}
    threads = numba.get_num_threads()
    numba.set_num_threads(1)          # as the script's default (--threads 1)
    try:
        for fig in (mod.output_ode_three_targets(300, 1, out),
                    mod.edge_success_figure(1000, range(2), [2.0], [0.5, 2.0], out),
                    mod.stability_map_figure(150, range(2), [1.0, 3.0], out),
                    mod.finite_size_figure([100, 400], [range(3), range(3)], out),
                    mod.robustness_figure([100, 600], 2, 4, out)):
            plt.close(fig)
    finally:
        numba.set_num_threads(threads)
    json.dumps(out)                                   # serialisable
    assert len(list(_pairs(out))) >= 8
    assert out["stability_map"]["agreement"] == 1.0
    # R1(b) at N = 300: the mean-field ODE's shape at each attractor (damped oscillation,
    # growth at the unstable middle target, plain decay), within finite-size error
    atts = out["output_ode_three_targets"]["attractors"]
    assert [a["stable"] for a in atts] == [True, False, True]
    for a in atts:
        sim = np.array(a["simulation"])[0]
        theory = np.array(a["theory"])
        assert a["max_error_over_max_theory"] < 0.35
        assert np.any(np.sign(sim) != np.sign(sim[0])) == np.any(np.sign(theory) < 0)
    assert np.array(atts[1]["simulation"])[0, -1] > 3 * np.array(atts[1]["simulation"])[0, 0]
    # R2(d): below the edge the clamped network is chaotic, above it training holds
    rows = out["edge_success"]["rows"]
    assert [r["trained"]["theory"] for r in rows] == [False, True]
    assert [r["trained"]["simulation"] for r in rows] == [0.0, 1.0]
    assert [r["stable"]["theory"] for r in out["stability_map"]["rows"]] == [False, True]
    assert out["finite_size"]["sizes"] == [100, 400]
    assert out["finite_size"]["realisations_per_N"] == [3, 3]
    for q in out["finite_size"]["quantities"].values():
        assert [r["N"] for r in q] == [100, 400] and len(q[0]["simulation"]) == 3
    rows = out["robustness"]["rows"]
    assert rows[1]["rms_gain_v"] < 0.75 * rows[0]["rms_gain_v"]
    assert rows[1]["ratio_u_over_v"] > rows[0]["ratio_u_over_v"]
    assert abs(np.mean(rows[1]["gain_u"]["simulation"]) - 0.441) < 0.1
