"""Finite-network measurements of the rb2017 reproduction (Rivkind & Barak 2017): the
sinusoidal drive against the exact linear transfer function, the bulk time against a direct
eigenvalue computation, the sparse outlier against the dense spectrum, and the new figures
at tiny sizes. Every reference here is plain NumPy/SciPy, built from the network's arrays."""

import dataclasses
import json

import numpy as np
import pytest
import scipy.linalg

import reservoir as rs
from reservoir.meanfield import multi_target
from reservoir.reproduce import rb2017 as mod
from reservoir.train import train_fixed_point_network


def _closed_loop(net, x):
    """Closed-loop flow Jacobian -I + (J + u w^T) diag(1 - tanh(x)^2), tau = 1 (NumPy)."""
    d = 1 - np.tanh(x) ** 2
    W = np.asarray(net.dense_J()) + np.outer(net.W_fb[:, 0], net.W_out[0])
    return -np.eye(net.N) + W * d[None, :], d


def _transfer(net, x, s):
    """T(s) = w^T D (s I - L)^{-1} u by plain linear solves."""
    L, d = _closed_loop(net, x)
    u, wD = net.W_fb[:, 0], net.W_out[0] * d
    return np.array([wD @ np.linalg.solve(si * np.eye(net.N) - L, u) for si in s])


@pytest.fixture(scope="module")
def one_target():
    """g = 1, A = 1, N = 80: a stable attractor (mean-field pole -0.61, bulk edge -0.37)."""
    net, xf = train_fixed_point_network(80, 1.0, [1.0], rng=0)
    return net, xf[0]


def test_euler_laplace_is_the_response_of_the_euler_map():
    # scalar map x[n+1] = x[n] + dt (lam x[n] + p[n]), p[n] = exp(i w n dt): iterate it to
    # steady state and read x[n] / p[n]; it must equal 1 / (s - lam), s = euler_laplace
    lam, dt = -0.7 + 0.2j, 0.1
    for w in (0.0, 0.3, 1.7):
        x, n = 0.0, 4000
        for k in range(n):
            x = x + dt * (lam * x + np.exp(1j * w * k * dt))
        ratio = x / np.exp(1j * w * n * dt)
        s = mod.euler_laplace([w], dt)[0]
        assert ratio == pytest.approx(1 / (s - lam), rel=1e-10)
    # dt -> 0: the flow's i omega, with the leading correction -omega^2 dt / 2
    w = np.array([0.4, 1.0])
    s = mod.euler_laplace(w, 1e-4)
    np.testing.assert_allclose(s, 1j * w - w ** 2 * 1e-4 / 2, atol=1e-8)


def test_network_transfer_matches_plain_linear_solves(one_target):
    net, x = one_target
    w = np.array([0.0, 0.3, 1.0])
    np.testing.assert_allclose(mod.network_transfer(net, x, w), _transfer(net, x, 1j * w),
                               rtol=1e-10)
    s = (np.exp(1j * w * 0.05) - 1) / 0.05
    np.testing.assert_allclose(mod.network_transfer(net, x, w, dt=0.05),
                               _transfer(net, x, s), rtol=1e-10)


def test_sinusoidal_gain_matches_the_exact_linear_transfer(one_target):
    # The nonlinear closed loop driven by eps sin(w t) through u: gain and phase equal the
    # linearised Euler map's T(s_eff) up to O(eps^2) (here ~1e-6) and the fit's leakage of
    # the O(eps) second harmonic into a non-integer number of periods (~3e-5 seen):
    # tolerance 2e-4 relative. The static gain (w = 0) by the +-eps symmetric difference.
    net, x = one_target
    w = np.array([0.0, 0.3, 1.0])
    r = mod.sinusoidal_gain(net, x, w, [1e-3, 2e-3], dt=0.05, t_transient=30.0)
    assert r.gain.shape == r.relative_residual.shape == (2, 3)
    want = _transfer(net, x, (np.exp(1j * w * 0.05) - 1) / 0.05)
    for row in r.gain:
        np.testing.assert_allclose(row, want, rtol=2e-4)
    assert np.all(r.relative_residual < 1e-2)
    assert r.t_window == pytest.approx(2 * np.pi / 0.3)
    # the same measurement by hand for one frequency: simulate, then project
    eps, om, dt = 1e-3, 0.3, 0.05
    drive = dataclasses.replace(net, W_in=net.W_fb.copy(), dt=dt)
    n = int(round((30.0 + 2 * np.pi / om) / dt))
    t = dt * np.arange(n)
    z = rs.simulate(drive, eps * np.sin(om * t)[:, None], x, mode="closed",
                    record=("z",)).z[:, 0]
    z = z - net.W_out[0] @ np.tanh(x)
    sel = t >= 30.0
    c = np.linalg.lstsq(np.column_stack([np.sin(om * t[sel]), np.cos(om * t[sel]),
                                         np.ones(sel.sum())]), z[sel], rcond=None)[0]
    assert (c[0] + 1j * c[1]) / eps == pytest.approx(r.gain[0, 1], rel=1e-9)


@pytest.mark.parametrize("kwargs, err", [
    (dict(omegas=[-0.1]), ValueError), (dict(eps=0.0), ValueError),
    (dict(eps=[1e-3, -1e-3]), ValueError), (dict(dt=0.0), ValueError),
    (dict(t_transient=-1.0), ValueError), (dict(t_window=0.0), ValueError),
    (dict(omegas=[[0.1]]), ValueError), (dict(omegas=[np.nan]), ValueError),
    (dict(x=np.zeros(3)), ValueError), (dict(net="net"), TypeError),
    (dict(eps="a"), TypeError)])
def test_sinusoidal_gain_rejects_bad_input(one_target, kwargs, err):
    net, x = one_target
    args = dict(net=net, x=x, omegas=[0.3], eps=1e-3) | kwargs
    with pytest.raises(err):
        mod.sinusoidal_gain(**args)


def test_bulk_time_is_the_slowest_open_loop_eigenvalue():
    net, xf = train_fixed_point_network(100, 1.5, [1.5], rng=3)
    d = 1 - np.tanh(xf[0]) ** 2
    lam = np.linalg.eigvals(-np.eye(100) + np.asarray(net.dense_J()) * d[None, :])
    assert mod.bulk_time(net, xf[0]) == pytest.approx(-1 / lam.real.max(), rel=1e-10)
    # a chaotic bulk (g = 2 at x = 0: eigenvalues of -I + J reach Re ~ +1): no bulk time
    wild = rs.random_network(100, 2.0, 0, 1, rng=1)
    assert mod.bulk_time(wild, np.zeros(100)) == float("inf")


def test_sparse_outlier_equals_the_dense_eigenvalue():
    # g = 1, targets {0.5, 1.5}: at A = 0.5 the outlier (mean field +0.4259) by shift-invert
    # Arnoldi (network_pole, used by the finite-size figure up to N = 4000) against the
    # full dense spectrum of the same Jacobian, built in NumPy
    net, xf = train_fixed_point_network(150, 1.0, [0.5, 1.5], rng=0)
    s0 = float(multi_target(1.0, [0.5, 1.5]).attractors[0].poles[0].real)
    lam = np.linalg.eigvals(_closed_loop(net, xf[0])[0])
    dense = lam[np.argmin(np.abs(lam - s0))]
    assert dense.real > 0.2                      # the unstable outlier, outside the bulk
    assert abs(rs.analysis.network_pole(net, xf[0], s0) - dense) < 1e-8


def test_kick_decay_rate_matches_the_linear_response():
    # the output after a kick 0.05 u, by the matrix exponential of the closed-loop flow
    # Jacobian (linear, dt -> 0), fitted on the same window: the Euler step 0.01 and the
    # kick's nonlinearity move the rate by about 0.5 %; tolerance 2 %
    net, xf = train_fixed_point_network(120, 1.0, [1.0], rng=1)
    L, d = _closed_loop(net, xf[0])
    t = 0.01 * np.arange(100, 401)
    dz = np.array([(net.W_out[0] * d) @ scipy.linalg.expm(L * ti) @ (0.05 * net.W_fb[:, 0])
                   for ti in t[::20]])
    rate = -np.polyfit(t[::20], np.log(np.abs(dz)), 1)[0]
    assert mod.kick_decay_rate(net, xf[0], t_fit=(1.0, 4.0)) == pytest.approx(rate, rel=0.02)


def test_frequency_figure_small():
    import matplotlib.pyplot as plt
    out = {}
    omegas = [0.0, 0.2, 0.4, 0.6, 1.0]
    fig = mod.frequency_figure(300, 1, out, omegas)
    # the phase panel draws the Euler-map mean field that the JSON's phase "theory" holds
    # (and the flow's, as the gain panel does): the drawn curve at the drive frequencies
    bx = fig.axes[1]
    for A in ("1.0", "3.0"):
        (line,) = [ln for ln in bx.get_lines() if "Euler map" in ln.get_label()
                   and f"A = {float(A):g} " in ln.get_label()]
        xd, yd = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        idx = [int(np.argmin(np.abs(xd - om))) for om in omegas]
        np.testing.assert_allclose(yd[idx], out["frequency_response"][A]["phase"]["theory"],
                                   atol=1e-12)
        assert any(ln.get_label() == f"mean field, A = {float(A):g}" for ln in bx.get_lines())
    assert "N = 300" in bx.get_title()
    plt.close(fig)
    json.dumps(out)
    for A in ("1.0", "3.0"):
        r = out["frequency_response"][A]
        assert r["omega"] == omegas and (r["N"], r["realisations"]) == (300, 1)
        assert np.shape(r["simulation"]) == np.shape(r["linearised_network"]) == (1, 5)
        assert len(r["theory"]) == len(r["theory_flow"]) == 5
        # the measurement is the linearised network's response (eps = 0.005: nonlinear
        # error ~ 0.2 %, the transient after 40 tau below 1e-3): within 1 %
        np.testing.assert_allclose(r["simulation"], r["linearised_network"], rtol=0.01)
        # doubling eps changes the gain by ~3x the nonlinear error of the first (0.7 % seen)
        assert r["linearity"]["max_relative_difference"] < 0.015
        # the Euler-map theory differs from the flow's by O(omega dt): below 5 % here
        np.testing.assert_allclose(r["theory"], r["theory_flow"], rtol=0.05)
    c = out["frequency_claims"]
    for key in ("band_pass_at_A_1", "low_pass_at_A_3", "peak_frequency_at_A_1"):
        assert isinstance(c[key]["agrees"], bool) and "claim" in c[key]
    assert c["band_pass_at_A_1"]["agrees"] == (c["band_pass_at_A_1"]["measured"] > 1)
    assert c["low_pass_at_A_3"]["agrees"] == (c["low_pass_at_A_3"]["measured"] <= 0)
    # the mean-field shapes themselves: band-pass at A = 1, low-pass at A = 3
    assert c["band_pass_at_A_1"]["theory"] > 1.5 and c["low_pass_at_A_3"]["theory"] < 0


def test_time_constants_figure_small():
    import matplotlib.pyplot as plt
    out = {}
    plt.close(mod.time_constants_figure(out, 200, range(1), [3.0, 1.2]))
    json.dumps(out)
    tc = out["time_constants"]
    assert len(tc["A"]) == len(tc["tau_out"]) == len(tc["bulk_time"])
    rows = tc["networks"]["rows"]
    assert [r["A"] for r in rows] == [1.2, 3.0]          # sorted: nearest the edge first
    for r in rows:
        assert r["N"] == 200 and r["realisations"] == 1 and r["not_settled"] == 0
        net, xf = train_fixed_point_network(200, 1.5, [r["A"]], settle=r["settle"], rng=0)
        d = 1 - np.tanh(xf[0]) ** 2
        lam = np.linalg.eigvals(-np.eye(200) + np.asarray(net.dense_J()) * d[None, :])
        assert r["bulk_time"]["simulation"][0] == pytest.approx(-1 / lam.real.max(),
                                                                rel=1e-9)
        assert 0.5 < r["tau_out"]["simulation"][0] / r["tau_out"]["theory"] < 1.6
    claim = tc["claim"]
    m = claim["measured"]
    assert claim["agrees"] == (m["bulk_time_growth"] > 3
                               and m["max_relative_deviation_of_mean_tau_out"] < 0.4)
    assert m["bulk_time_growth_theory"] == pytest.approx(5.811101 / 2.500857, rel=1e-4)


# --- argument checks and tau of the measurement helpers (review of issue 15) ------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(omegas=[1e-9], dt=0.01), "omegas"),     # default window 2 pi / 1e-9: 6e11 steps
    (dict(omegas=[1e-6]), "omegas"),              # 1.3e8 steps: refused before allocating
    (dict(omegas=[0.3], t_window=1e6), "t_window"),
    (dict(omegas=[0.3], t_transient=1e6), "t_transient"),
    (dict(omegas=[100.0]), "omegas"),             # above Nyquist pi / dt = 62.8
    (dict(omegas=[np.pi / 0.05]), "omegas"),      # at Nyquist: sin(pi n) = 0
    (dict(omegas=[0.3, 40.0]), "omegas"),         # fewer than four steps per period
    (dict(omegas=[0.3], t_window=0.03), "t_window"),   # under one step
    (dict(omegas=[0.3], t_window=1e-6), "t_window"),
    (dict(omegas=[0.3], t_window=10.0), "t_window"),   # under one period (20.9)
    (dict(omegas=[0.0], t_window=0.2), "t_window")])   # under 10 steps
def test_sinusoidal_gain_refuses_runs_it_cannot_measure(one_target, kwargs, name):
    net, x = one_target
    with pytest.raises(ValueError, match=name):
        mod.sinusoidal_gain(net, x, eps=1e-3, **kwargs)


def test_sinusoidal_gain_accepts_the_limits(one_target):
    # four steps per period exactly (omega dt = pi / 2) and a window of exactly one period
    net, x = one_target
    r = mod.sinusoidal_gain(net, x, [np.pi / 2 / 0.05], 1e-3, t_transient=10.0)
    want = _transfer(net, x, [(np.exp(1j * np.pi / 2) - 1) / 0.05])
    np.testing.assert_allclose(r.gain[0], want, rtol=2e-3)
    r = mod.sinusoidal_gain(net, x, [0.3], 1e-3, t_transient=10.0, t_window=2 * np.pi / 0.3)
    assert np.isfinite(r.gain).all() and np.all(r.relative_residual < 1e-2)


def test_measurements_at_tau_2_are_those_of_tau_1_at_twice_the_frequency(one_target):
    # tau dx/dt = ...: the network with tau = 2 and Euler step 0.1 is the same map
    # (alpha = 0.05) as tau = 1 with step 0.05, its drive sin(omega n 0.1) the same samples
    # as sin(2 omega n 0.05): every gain at omega equals the tau = 1 gain at 2 omega
    # (rounding of the drive's phase only), and the flow's T_2(i omega) = T_1(2 i omega)
    net, x = one_target
    slow = dataclasses.replace(net, tau=2.0)
    w = np.array([0.0, 0.15, 0.4])
    r2 = mod.sinusoidal_gain(slow, x, w, 1e-3, dt=0.1, t_transient=60.0)
    r1 = mod.sinusoidal_gain(net, x, 2 * w, 1e-3, dt=0.05, t_transient=30.0)
    np.testing.assert_allclose(r2.gain, r1.gain, rtol=1e-9)
    np.testing.assert_allclose(mod.network_transfer(slow, x, w),
                               _transfer(net, x, 2j * w), rtol=1e-10)
    np.testing.assert_allclose(mod.network_transfer(slow, x, w, dt=0.1),
                               _transfer(net, x, (np.exp(2j * w * 0.05) - 1) / 0.05),
                               rtol=1e-10)
    # and the measurement is the transfer function of the same network (the review found
    # half of it: the input's 1 / tau was missing in network_transfer)
    np.testing.assert_allclose(r2.gain[0], mod.network_transfer(slow, x, w, dt=0.1),
                               rtol=2e-4)
    # the kick's decay rate is in 1 / time: half the tau = 1 rate
    assert mod.kick_decay_rate(slow, x, t_fit=(2.0, 8.0)) == pytest.approx(
        mod.kick_decay_rate(net, x, t_fit=(1.0, 4.0)) / 2, rel=0.01)


def test_network_transfer_relu_uses_relu_derivative():
    net, xf = train_fixed_point_network(80, 0.5, [1.0], phi="relu", rng=2)
    x = xf[0]
    d = (x > 0).astype(float)
    L = -np.eye(80) + (np.asarray(net.dense_J()) + np.outer(net.W_fb[:, 0], net.W_out[0])) * d
    w = np.array([0.2, 1.0])
    want = [(net.W_out[0] * d) @ np.linalg.solve(1j * wi * np.eye(80) - L, net.W_fb[:, 0])
            for wi in w]
    np.testing.assert_allclose(mod.network_transfer(net, x, w), want, rtol=1e-10)


@pytest.mark.parametrize("kwargs, err, name", [
    (dict(x=np.zeros(5)), ValueError, "x"), (dict(x=np.full(80, np.nan)), ValueError, "x"),
    (dict(t_fit=(6.0, 2.0)), ValueError, "t_fit"), (dict(t_fit=(1.0,)), ValueError, "t_fit"),
    (dict(t_fit=(-1.0, 2.0)), ValueError, "t_fit"), (dict(t_fit=(1.0, 1.05)), ValueError, "t_fit"),
    (dict(eps=0.0), ValueError, "eps"), (dict(eps=np.nan), ValueError, "eps"),
    (dict(eps=-0.1), ValueError, "eps"), (dict(net="net"), TypeError, "net")])
def test_kick_decay_rate_rejects_bad_input(one_target, kwargs, err, name):
    net, x = one_target
    with pytest.raises(err, match=name):
        mod.kick_decay_rate(**(dict(net=net, x=x) | kwargs))


def test_kick_decay_rate_refuses_a_deviation_lost_in_rounding(one_target):
    # eps = 1e-300: z - A is exactly 0 in float64: nothing to fit, not a rate of 0 or nan
    net, x = one_target
    with pytest.raises(ValueError, match="nothing to fit"):
        mod.kick_decay_rate(net, x, eps=1e-300)


def test_loglog_slope_closed_form_and_bad_input():
    N = np.array([100.0, 400.0, 1600.0])
    assert mod.loglog_slope(N, 3.0 * N ** -0.5) == pytest.approx(-0.5, abs=1e-12)
    assert mod.loglog_slope([1, 2], [5, 20]) == pytest.approx(2.0, abs=1e-12)
    for args, name in ((([1], [1]), "N"), (([1, 1], [1, 2]), "N"), (([1, 2], [1]), "y"),
                       (([1, 2], [1, 0]), "y"), (([0, 2], [1, 1]), "N"),
                       (([1, 2], [1, np.nan]), "y")):
        with pytest.raises(ValueError, match=name):
            mod.loglog_slope(*args)


def test_bootstrap_slope_is_exact_when_every_network_has_the_same_error():
    # |error| = c N^-1/2 for every network (random signs): every resample has the same rms,
    # so the interval collapses onto -0.5; with spread it contains the plain fit's slope
    rng = np.random.default_rng(0)
    Ns = [100, 400, 1600]
    errs = [2.0 * N ** -0.5 * rng.choice([-1.0, 1.0], 8) for N in Ns]
    lo, hi = mod._bootstrap_rms_slope(Ns, errs)
    assert lo == pytest.approx(-0.5, abs=1e-12) and hi == pytest.approx(-0.5, abs=1e-12)
    errs = [N ** -0.5 * rng.standard_normal(10) for N in Ns]
    lo, hi = mod._bootstrap_rms_slope(Ns, errs)
    plain = mod.loglog_slope(Ns, [np.sqrt(np.mean(e ** 2)) for e in errs])
    assert lo < plain < hi and hi - lo > 0.05


def _edge_row(g, f, theory, k, n=3):
    return {"g": g, "A": f, "A_over_A_c": f, "rho_theory": 1.0,
            "trained": {"theory": theory, "simulation": k / n, "count": k,
                        "wilson95": mod.wilson_interval(k, n)}}


def test_collect_claims_verdicts_follow_their_rules():
    # a partial JSON: each verdict recomputed by hand from the stated rule
    out = {"decay_rate_t2_6": {"theory": 0.6, "simulation": [0.55, 0.66]},
           "output_ode": {"N": 500, "realisations": 2},
           "stability_map": {"N": 300, "realisations": 4, "agreement": 1.0, "rows": [{}] * 12},
           "edge_success": {"N": 1000, "realisations": 3, "rows": [
               _edge_row(1.5, 0.5, False, 0), _edge_row(1.5, 0.8, False, 2),
               _edge_row(1.5, 1.3, True, 3), _edge_row(1.5, 3.0, True, 3)]},
           "relu_leading_eigenvalue": {"theory": 0.0, "simulation": 3e-9, "N": 250}}
    c = mod.collect_claims(out)
    assert c is out["claims"]
    # rates 0.55, 0.66 against 0.6: deviations 8.3 % and 10 %, both under 15 %
    assert c["output_ode_first_order"]["agrees"] is True
    assert c["output_ode_first_order"]["measured"]["max_relative_deviation"] == \
        pytest.approx(0.1)
    assert c["stability_map"]["agrees"] is True
    assert c["relu_exact_zero_pole"]["agrees"] is True
    # 2 of 3 trained below the edge: Wilson (0.21, 0.94) excludes the theory's 0
    e = c["edge_success"]
    assert e["agrees"] is False
    assert e["measured"]["disagreeing_points"] == [
        {"g": 1.5, "A_over_A_c": 0.8, "measured": 2 / 3, "theory": 0.0}]
    assert c["edge_success_away_from_edge"]["agrees"] is True
    assert c["edge_success_away_from_edge"]["measured"] == {"points": 3, "agreeing": 3}
    for v in c.values():
        assert {"claim", "rule", "measured", "agrees", "N", "realisations", "see"} <= set(v)
        assert v["see"].split(".")[0] in out
    s = out["claims_summary"]
    assert s == {"claims": len(c), "agreeing": len(c) - 1, "not_agreeing": ["edge_success"],
                 "undecided": []}
    json.dumps(out)
    # N^-1/2 laws from bootstrap intervals: [-0.7, -0.3] agrees, [-0.8, 0.3] is undecided,
    # [-0.4, -0.1] disagrees (decided)
    for interval, agrees, decided in (([-0.7, -0.3], True, True),
                                      ([-0.8, 0.3], None, False),
                                      ([-0.4, -0.1], False, True)):
        out["finite_size"] = {"sizes": [200, 400], "realisations_per_N": [3, 3],
                              "loglog_slope": {"H0": {"simulation": -0.5,
                                                      "bootstrap95": interval}}}
        fc = mod.collect_claims(out)["finite_size_convergence"]
        assert (fc["agrees"], fc["decided"]) == (agrees, decided)
        assert decided or "undecided" in fc["note"]
    # a rate off by 20 % breaks the first-order claim
    out["decay_rate_t2_6"]["simulation"] = [0.48]
    assert mod.collect_claims(out)["output_ode_first_order"]["agrees"] is False


def _legend_outside_data(ax):
    """True when the axes' legend does not overlap any plotted point of the axes."""
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    pts = []
    for coll in ax.collections:
        off = coll.get_offsets()
        if len(off):
            pts.append(ax.transData.transform(off))
    pts = np.vstack(pts)
    inside = ((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0)
              & (pts[:, 1] <= box.y1))
    return not inside.any()


def test_poles_figure_names_the_boundary_and_states_N():
    import matplotlib.pyplot as plt
    out = {}
    fig = mod.poles_figure(120, 1, out)
    try:
        for ax in fig.axes:
            labels = [ln.get_label() for ln in ax.get_lines()]
            assert "stability boundary Re = 0" in labels
            xs = [ln.get_xdata() for ln in ax.get_lines()
                  if ln.get_label() == "stability boundary Re = 0"][0]
            assert np.all(np.asarray(xs) == 0)
            legend = [t.get_text() for t in ax.get_legend().get_texts()]
            assert "stability boundary Re = 0" in legend and len(legend) == 3
            assert "N = " in ax.get_title()
            assert _legend_outside_data(ax)
        assert "N = 60" in fig.axes[2].get_title()
    finally:
        plt.close(fig)
    assert out["relu_leading_eigenvalue"]["N"] == 60
