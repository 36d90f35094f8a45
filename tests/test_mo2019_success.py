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
    titles = []
    original = mo2019.save_figure

    def capture(fig, folder, name, **kw):
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
    return data, titles, out


def test_counts_and_intervals_from_rows(block):
    data, _, out = block
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
    _, titles, _ = block
    assert any("N = 60" in t and "3 networks per A" in t for t in titles)
