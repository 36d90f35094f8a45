"""The ReLU-versus-sigmoid contrast of the rb2017 reproduction (Rivkind & Barak 2017) at a
tiny size, and its Wilson interval against closed forms."""

import json

import numpy as np
import pytest

from reservoir.reproduce import rb2017 as mod

Z95 = 1.959963984540054


def test_wilson_interval_closed_forms():
    # k = 5 of n = 10 by hand: centre (0.5 + z^2/20) / (1 + z^2/10) = 0.5, half-width
    # z sqrt(0.025 + z^2/400) / (1 + z^2/10) = 1.959964 * 0.1860206 / 1.3841459 = 0.263407
    # (Wilson 1927; tables give (0.2366, 0.7634) for 5 of 10)
    lo, hi = mod.wilson_interval(5, 10)
    assert lo == pytest.approx(0.236593, abs=2e-6)
    assert hi == pytest.approx(0.763407, abs=2e-6)
    # k = 0 and k = n: one bound at 0 (1), the other z^2 / (n + z^2) (n / (n + z^2))
    for n in (1, 3, 20, 1000):
        lo, hi = mod.wilson_interval(0, n)
        assert lo == 0.0 and hi == pytest.approx(Z95 ** 2 / (n + Z95 ** 2), rel=1e-12)
        lo, hi = mod.wilson_interval(n, n)
        assert hi == 1.0 and lo == pytest.approx(n / (n + Z95 ** 2), rel=1e-12)
    # symmetric in k <-> n - k, and it contains the observed fraction
    for k in range(8):
        lo, hi = mod.wilson_interval(k, 7)
        lo2, hi2 = mod.wilson_interval(7 - k, 7)
        assert lo == pytest.approx(1 - hi2, abs=1e-12) and hi == pytest.approx(1 - lo2,
                                                                              abs=1e-12)
        assert lo <= k / 7 <= hi


@pytest.mark.parametrize("k, n, z", [(1, 0, Z95), (-1, 5, Z95), (6, 5, Z95), (1, 5, 0.0),
                                     (1, 5, float("nan"))])
def test_wilson_interval_rejects_bad_input(k, n, z):
    with pytest.raises(ValueError):
        mod.wilson_interval(k, n, z)


def _flow_eigenvalues(net, x, phi):
    """Closed-loop flow Jacobian -I + (J + m w^T) diag(phi'(x)) in plain NumPy (tau = 1)."""
    d = 1 - np.tanh(x) ** 2 if phi == "tanh" else (x > 0).astype(float)
    W = net.J + np.outer(net.W_fb[:, 0], net.W_out[0])
    return np.linalg.eigvals(-np.eye(net.N) + W * d[None, :])


def test_relu_sigmoid_small():
    import matplotlib.pyplot as plt
    N, seeds, values = 60, [0, 1], [0.5, 2.0]
    out = {}
    plt.close(mod.relu_sigmoid_figure(N, seeds, values, out))
    json.dumps(out)
    r = out["relu_vs_sigmoid"]
    assert (r["N"], r["realisations"], r["values"]) == (N, 2, values)
    assert set(r["single_target"]) == {"tanh", "relu"}
    for phi, rows in r["single_target"].items():
        assert [row["A"] for row in rows] == values
        for row in rows:
            for key in ("success", "marginal", "line_attractor"):
                assert set(row[key]) >= {"theory", "simulation"}
            k = sum(n["stability"] == "stable" for n in row["networks"])
            assert row["success"]["simulation"] == k / 2
            assert tuple(row["success"]["wilson95"]) == mod.wilson_interval(k, 2)
            for net_row in row["networks"]:
                net, xf = mod.trained(N, 1.0, [row["A"]], net_row["seed"], phi=phi)
                ev = _flow_eigenvalues(net, xf[0], phi)
                lead = ev[np.argmax(ev.real)]
                # the analysis's leading pole is the NumPy one (for ReLU the reported point
                # may be another point of the ray c x, whose Jacobian is the same)
                assert net_row["leading_pole"][0] == pytest.approx(lead.real, abs=1e-8)
                if phi == "tanh":
                    # independent verdict: all flow poles left of 0 and, for the Euler map
                    # that the package simulates, all multipliers 1 + dt s inside the circle
                    stable = lead.real < -1e-8 and np.max(np.abs(1 + net.dt * ev)) < 1 - 1e-10
                    assert (net_row["stability"] == "stable") == stable
                    assert net_row["continuum_dim"] == 0 and net_row["match"] == "point"
                else:
                    # exact zero pole (ReLU is homogeneous): a line attractor; "unknown"
                    # only where the reported point of the ray sits on a ReLU kink
                    assert abs(lead.real) < 1e-8 and abs(lead.imag) < 1e-8
                    assert net_row["stability"] in ("marginal", "unknown")
                    assert net_row["continuum_dim"] == 1
        if phi == "relu":
            assert all(row["success"]["simulation"] == 0.0 for row in rows)
            assert all(row["line_attractor"]["simulation"] == 1.0 for row in rows)
    # tanh, two targets: the alternation rule and each verdict against NumPy eigenvalues
    (pair,) = r["two_targets_tanh"]
    assert pair["targets"] == values
    assert pair["alternation"]["simulation"] == 1.0
    for k, att in enumerate(pair["attractors"]):
        assert att["A"] == values[k]
        for net_row in att["networks"]:
            net, xf = mod.trained(N, 1.0, values, net_row["seed"])
            ev = _flow_eigenvalues(net, xf[k], "tanh")
            lead = ev[np.argmax(ev.real)]
            assert net_row["leading_pole"][0] == pytest.approx(lead.real, abs=1e-8)
            stable = lead.real < -1e-8 and np.max(np.abs(1 + net.dt * ev)) < 1 - 1e-10
            assert (net_row["stability"] == "stable") == stable
    # mean field: the smaller target unstable, the larger stable (g = 1)
    assert [a["success"]["theory"] for a in pair["attractors"]] == [0.0, 1.0]
    # the claim summary is what the rows say
    claims = r["claims"]
    relu_ok = all(n["stability"] != "stable" and n["continuum_dim"] == 1
                  for row in r["single_target"]["relu"] for n in row["networks"])
    assert claims["relu_zero_pole_line_attractor"]["agrees"] == relu_ok
    assert claims["alternation_rule"]["simulation"] == pair["alternation"]["simulation"]
    tanh_min = min(row["success"]["simulation"] for row in r["single_target"]["tanh"])
    assert claims["one_sigmoid_target_is_stable"]["simulation"] == tanh_min
    for c in claims.values():
        assert set(c) == {"theory", "simulation", "agrees"}
