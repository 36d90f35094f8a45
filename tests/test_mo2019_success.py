"""Training success with Wilson 95 % intervals in the MO2019 reproduction (tiny sizes).

The counts are recomputed from the per-network rows (each run's verdict) and the intervals
from ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``, an independent
implementation of Wilson's score interval; the figure is checked for the number of
networks per target in its title.
"""

import numpy as np
import pytest
import scipy.stats

from reservoir._kernels.blas_threads import thread_budget
from reservoir.reproduce import mo2019


def _wilson_scipy(k, n):
    ci = scipy.stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def test_success_counts_against_scipy():
    rows = [{"random_ok": [True, False, True], "structured_ok": [False, False]},
            {"random_ok": [True, True, True], "structured_ok": [True, False]}]
    c = mo2019.success_counts(rows)
    assert (c["random"]["k"], c["random"]["n"]) == (5, 6)
    assert (c["structured"]["k"], c["structured"]["n"]) == (1, 4)
    for key, (k, n) in (("random", (5, 6)), ("structured", (1, 4))):
        np.testing.assert_allclose(c[key]["wilson95"], _wilson_scipy(k, n), rtol=1e-12)
    all_ok = mo2019.success_counts([{"random_ok": [True] * 4, "structured_ok": [True]}])
    assert all_ok["random"]["wilson95"][1] == 1.0
    np.testing.assert_allclose(all_ok["random"]["wilson95"][0], _wilson_scipy(4, 4)[0],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="rows"):
        mo2019.success_counts([])


@pytest.fixture(scope="module")
def block(tmp_path_factory):
    out = tmp_path_factory.mktemp("success")
    titles, figs = [], []
    original = mo2019.save_figure

    def capture(fig, folder, name, **kw):
        figs.append(fig)
        titles.append(fig._suptitle.get_text() if fig._suptitle is not None else "")
        titles.extend(ax.get_title() for ax in fig.axes)
        return original(fig, folder, name, **kw)

    mo2019.save_figure = capture
    try:
        with thread_budget(1):
            data = mo2019.fig_training_success(np.array([-2.0, 1.0, 2.0]),
                                               np.linspace(-2.0, 2.0, 3), [1.0, 2.0], 60, 3,
                                               2, str(out))
    finally:
        mo2019.save_figure = original
    return data, titles, out, figs


def test_counts_and_intervals_from_rows(block):
    data, _, out, _ = block
    for ext in ("png", "pdf"):
        assert (out / f"mo2019_training_success.{ext}").stat().st_size > 1000
    assert "runs" in data["parameters"]["counted"]
    for per, rows in ((data["per_target"], data["networks"]),
                      (data["rls"]["per_target"], data["rls"]["networks"])):
        assert [r["A"] for r in per] == [1.0, 2.0]
        for r in per:
            mine = [x for x in rows if x["A"] == r["A"]]
            assert len(mine) == 3 == r["realisations"]
            for start, n_each in (("random", 2), ("structured", 3)):
                k = sum(v for x in mine for v in x[f"{start}_ok"])
                assert r["counts"][start] == [k, 3 * n_each]
                np.testing.assert_allclose(r["wilson95"][start],
                                           _wilson_scipy(k, 3 * n_each), rtol=1e-12)
                lo, hi = r["wilson95"][start]
                assert lo <= k / (3 * n_each) <= hi
        # the per-network fractions are the row verdicts' means
        for x in rows:
            assert x["random_success"] == np.mean(x["random_ok"])
            assert x["structured_success"] == np.mean(x["structured_ok"])


def test_figure_states_networks_per_target(block):
    _, titles, _, _ = block
    assert any("N = 60" in t and "3 networks per A" in t for t in titles)


def test_figure_hygiene(block):
    """Every symbol (the z = A line, the uncorrelated theory's unstable branch, the
    shaded spurious-attractor band included) is in a legend, no legend over data."""
    from test_mo2019_figures import figure_problems
    figs = block[3]
    assert len(figs) == 1
    assert figure_problems(figs[0]) == []
    labels = {t.get_text() for ax in figs[0].axes if ax.get_legend()
              for t in ax.get_legend().get_texts()}
    assert {"target z = A", "uncorrelated theory, unstable",
            "spurious attractor (exact LS theory)"} <= labels


def _wilson(k, n):
    return _wilson_scipy(k, n)


def _claims_inputs(z_err=0.0, phase_agree=(True, True), counts=None):
    """Hand-made inputs of :func:`mo2019.paper_claims` (N = 400: tolerance 4 / 20 = 0.2 for
    z and the outlier, 2 / 20 = 0.1 relative for the bulk radius)."""
    row = {"A": 1.0, "seed": 0, "N": 400, "z": {"theory": 1.0, "simulation": 1.0 + z_err},
           "outlier": {"theory": 0.2, "simulation": 0.25},
           "bulk_radius": {"theory": 0.2, "simulation": 0.21},
           "stable": {"theory": True, "simulation": True}}
    spectra = [dict(row, name="x", outlier={"theory": 0.1, "simulation": None})]
    nets = [{"A": 1.0, "overlap_nm": {"theory": 1.0, "simulation": 1.0},
             "theory": "bistable", "simulation": "bistable" if ok else "unstable target",
             "agree": ok} for ok in phase_agree]
    phase = {"networks": nets, "N": 300}
    counts = counts or {-2.0: ((0.0, 4, 16), (4 / 9, 8, 18)),
                        2.0: ((1.0, 15, 16), (5 / 9, 10, 18))}
    per = []
    for A, ((tr, kr, nr), (ts, ks, ns)) in counts.items():
        per.append({"A": A, "counts": {"random": [kr, nr], "structured": [ks, ns]},
                    "random_success": {"theory": tr}, "structured_success": {"theory": ts},
                    "spurious_stable_z": {"theory": [1.7], "simulation": [1.79]}})
    training = {"per_target": per, "parameters": {"N": 300, "realisations": 2}}
    return [row], spectra, phase, training


def test_paper_claims_rules():
    """The four claims with their rules, checked on hand-made inputs; the training claim on
    the reviewer's quick counts (A = -2: theory 0, 4/16, Wilson [0.10, 0.49]; A = 2: theory
    1, 15/16, [0.72, 0.989]) must not agree, the intervals equal scipy's."""
    claims = mo2019.paper_claims(*_claims_inputs())
    assert [type(c["agrees"]) for c in claims] == [bool] * 4
    assert all(set(c) >= {"claim", "rule", "measured", "agrees"} for c in claims)
    mf, geo, bist, success = claims
    assert mf["agrees"] and geo["agrees"] and bist["agrees"]
    assert mf["measured"]["max_abs_z_error"] == 0.0
    assert mf["measured"]["stability_agreement"] == [2, 2]
    per = success["measured"]["per_A"]
    r = per[-2.0]["random"]
    assert (r["k"], r["n"], r["theory"]) == (4, 16, 0.0) and not r["agrees"]
    np.testing.assert_allclose(r["wilson95"], _wilson(4, 16), rtol=1e-12)
    assert abs(r["wilson95"][0] - 0.10) < 0.005 and abs(r["wilson95"][1] - 0.49) < 0.01
    r = per[2.0]["random"]
    assert not r["agrees"] and abs(r["wilson95"][1] - 0.989) < 0.001
    assert per[-2.0]["structured"]["agrees"] and per[2.0]["structured"]["agrees"]
    assert success["agrees"] is False
    # theory inside every interval -> agrees
    ok = mo2019.paper_claims(*_claims_inputs(counts={1.0: ((1.0, 16, 16), (1.0, 18, 18))}))
    assert ok[3]["agrees"] is True
    # z error just above / below its tolerance 4 / sqrt(400) = 0.2
    assert mo2019.paper_claims(*_claims_inputs(z_err=0.21))[0]["agrees"] is False
    assert mo2019.paper_claims(*_claims_inputs(z_err=0.19))[0]["agrees"] is True
    # one class-map disagreement out of two: 1 is outside the Wilson interval of 1/2
    geo = mo2019.paper_claims(*_claims_inputs(phase_agree=(True, False)))[1]
    assert geo["agrees"] is False and geo["measured"]["agree"] == 1
    np.testing.assert_allclose(geo["measured"]["wilson95"], _wilson(1, 2), rtol=1e-12)
    assert len(geo["measured"]["disagreeing"]) == 1
    # no network measured bistable -> the bistability claim does not hold
    none = mo2019.paper_claims(*_claims_inputs(phase_agree=(False, False)))[2]
    assert none["agrees"] is False


def test_outlier_compared_only_outside_the_bulk():
    """Claim 1 compares the outlier only where the theory puts it outside the bulk
    (|outlier| > bulk radius): inside, the network's top eigenvalue is a bulk eigenvalue
    (the reviewer's A = -2 row: theory 0.031, network -0.125, bulk radius 0.126). Such a row
    is counted in ``n_outlier_inside_bulk``, does not enter the worst outlier error, and an
    error there cannot fail the claim; the same error outside the bulk does (tolerance
    4 / sqrt(400) = 0.2)."""
    (row,), spectra, phase, training = _claims_inputs()
    inside = dict(row, outlier={"theory": 0.031, "simulation": -0.3},
                  bulk_radius={"theory": 0.126, "simulation": 0.126})
    outside = dict(row, outlier={"theory": 0.5, "simulation": 0.6},
                   bulk_radius={"theory": 0.126, "simulation": 0.126})
    mf = mo2019.paper_claims([inside, outside], spectra, phase, training)[0]
    m = mf["measured"]
    assert mf["agrees"] is True and mf["decided"] is True
    # the spectra row (simulation None) and the inside row are counted, not compared
    assert m["n_outlier_inside_bulk"] == 2 and m["n_outliers_compared"] == 1
    assert m["max_abs_outlier_error"] == pytest.approx(0.1, abs=1e-12)
    assert m["worst_error_over_tolerance"]["outlier"] == pytest.approx(0.1 / 0.2, rel=1e-12)
    bad = dict(outside, outlier={"theory": 0.5, "simulation": 0.5 + 0.331})
    mf = mo2019.paper_claims([inside, bad], spectra, phase, training)[0]
    assert mf["agrees"] is False and mf["measured"]["max_abs_outlier_error"] > 0.2
    assert "outside the bulk" in mf["rule"]
    # the boundary is the theory's bulk radius: an outlier just inside is left out
    edge = dict(outside, outlier={"theory": -0.125, "simulation": 0.5})
    assert mo2019.paper_claims([edge], spectra, phase, training)[0]["agrees"] is True
    assert mo2019._outlier_outside_bulk(dict(edge, outlier={"theory": -0.127})) is True


def test_paper_claims_decided_and_undecided():
    """Every top-level claim has ``decided``; with nothing to measure a claim is undecided
    (agrees None) with a note, not false."""
    claims = mo2019.paper_claims(*_claims_inputs())
    assert all(c["decided"] is True for c in claims)
    _, _, phase, training = _claims_inputs()
    empty = mo2019.paper_claims([], [], dict(phase, networks=[]),
                                dict(training, per_target=[]))
    assert [c["agrees"] for c in empty] == [None, None, False, None]
    for c in (empty[0], empty[1], empty[3]):
        assert c["decided"] is False and c["note"]
