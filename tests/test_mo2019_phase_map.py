"""The 2-D map of solution classes of the MO2019 reproduction (tiny sizes).

The class measured on each network is checked against an independent computation: the
network's fixed points found here by Newton's method from states along the readout line
``x(z) = z m + I`` (plain NumPy, not :func:`reservoir.find_fixed_points`), their stability
from the eigenvalues of the closed-loop Jacobian, then
:func:`reservoir.analysis.geometry.classify_solution`.
"""

import json

import numpy as np
import pytest

from reservoir._kernels.blas_threads import thread_budget
from reservoir.analysis.geometry import classify_solution
from reservoir.meanfield import CLASS_NAMES, MeanFieldParams, gaussian_average, \
    stationary_variance
from reservoir.reproduce import mo2019

# one point inside each class at N = 100 (away from the boundaries)
POINTS = [(1.0, -0.5), (1.0, 1.0), (-1.0, 2.3), (1.0, 4.5)]


@pytest.fixture(scope="module")
def data():
    with thread_budget(1):               # threaded BLAS spin-waits on shared cores
        return mo2019.phase_map(np.linspace(-1.0, 2.0, 5), np.linspace(-1.0, 5.0, 5),
                                POINTS, 100, certify=False)


def _fixed_points_numpy(net, tol=1e-10):
    """Fixed points of the closed loop by Newton from 81 states z m + I, z in [-8, 8]."""
    J, m, I, w = net.dense_J(), net.W_fb[:, 0], net.W_in[:, 0], net.W_out[0]
    W = J + np.outer(m, w)
    found = []
    with thread_budget(1):               # threaded BLAS spin-waits on shared cores
        _newton_from_line(W, m, I, net.N, tol, found)
        out = []
        for x in found:
            jac = -np.eye(net.N) + W * (1 - np.tanh(x) ** 2)[None, :]
            out.append((float(w @ np.tanh(x)),
                        bool(np.max(np.linalg.eigvals(jac).real) < 0)))
    return out


def _newton_from_line(W, m, I, N, tol, found):
    for z0 in np.linspace(-8.0, 8.0, 81):
        x = z0 * m + I
        for _ in range(60):
            r = np.tanh(x)
            F = -x + W @ r + I
            if np.max(np.abs(F)) < tol:
                break
            x = x - np.linalg.solve(-np.eye(N) + W * (1 - r**2)[None, :], F)
        if np.max(np.abs(-x + W @ np.tanh(x) + I)) < tol and \
                not any(np.max(np.abs(x - y)) < 1e-6 for y in found):
            found.append(x)


def test_json_structure(data):
    json.dumps(data)                      # plain JSON types only
    th = data["theory"]
    cls = np.array(th["class_index"])
    assert cls.shape == (5, 5) and set(np.unique(cls)) <= {0, 1, 2, 3}
    assert th["class_names"] == list(CLASS_NAMES) and th["success"]
    assert data["N"] == 100 and data["n_networks"] == len(POINTS) == len(data["networks"])
    for r, (A, snm) in zip(data["networks"], POINTS):
        assert r["A"] == A and r["theory"] in CLASS_NAMES and r["simulation"] in CLASS_NAMES
        assert r["agree"] == (r["theory"] == r["simulation"])
    assert data["agreement"] == pytest.approx(np.mean([r["agree"] for r in data["networks"]]))


def test_networks_sit_on_the_line_of_solutions(data):
    """Overlaps exactly where asked: sigma_nm, and sigma_nI = A / psi_A - A sigma_nm with
    psi_A = [phi'](Delta0(A)) computed here from the mean-field statistics; the target is a
    fixed point of the closed loop (residual < 1e-9)."""
    base = MeanFieldParams.from_code_parameters(**mo2019.PHASE_MAP, p=1.0, p_m=1.0, p_I=0.3)
    for r, (A, snm) in zip(data["networks"], POINTS):
        d0, ok = stationary_variance(base, A)
        assert ok
        psi = float(gaussian_average("tanh", "dphi", 0.0, float(d0)))
        assert r["overlap_nI"]["theory"] == pytest.approx(A / psi - A * snm, abs=1e-9)
        assert r["overlap_nm"]["simulation"] == pytest.approx(snm, abs=1e-10)
        assert r["overlap_nI"]["simulation"] == pytest.approx(r["overlap_nI"]["theory"],
                                                              abs=1e-10)
        net, info = mo2019.overlap_network(100, A, snm, r["seed"])
        x = info["x_target"]
        W = net.dense_J() + net.W_fb @ net.W_out
        assert np.max(np.abs(-x + W @ np.tanh(x) + net.W_in[:, 0])) < 1e-9
        assert net.W_out[0] @ np.tanh(x) == pytest.approx(A, abs=1e-10)


def test_measured_class_matches_independent_fixed_points(data):
    """The class of each network equals classify_solution of its fixed points found here
    by NumPy Newton (target rule |z - A| <= 0.01 + 0.02 |A|, the package's); at N = 100 and
    these points (inside the classes) it also equals the theory's class."""
    for r, (A, snm) in zip(data["networks"], POINTS):
        net, _ = mo2019.overlap_network(100, A, snm, r["seed"])
        fps = _fixed_points_numpy(net)
        assert sorted(z for z, _ in fps) == pytest.approx(sorted(r["fixed_points_z"]),
                                                          abs=1e-8)
        at_target = [st for z, st in fps if abs(z - A) <= 0.01 + 0.02 * abs(A)]
        target_stable = bool(at_target) and at_target[0]
        n_spurious = sum(st for z, st in fps if abs(z - A) > 0.01 + 0.02 * abs(A))
        assert r["simulation"] == classify_solution(snm, target_stable, n_spurious)
        assert r["simulation"] == r["theory"]
    assert data["agreement"] == 1.0


def test_figure(data, tmp_path):
    pytest.importorskip("matplotlib")
    from test_mo2019_figures import captured_figures, figure_problems
    with captured_figures() as figs:
        mo2019.figure_phase_map(data, tmp_path)
    for ext in ("png", "pdf"):
        assert (tmp_path / f"mo2019_phase_map.{ext}").stat().st_size > 1000
    # hygiene: every marker in the legend, the legend over no data, N and the networks
    fig = figs["mo2019_phase_map"]
    assert figure_problems(fig) == []
    assert "4 networks, N = 100" in fig.axes[0].get_title()


@pytest.mark.parametrize("kw, match", [
    (dict(points=[(1.0, 0.5, 2.0)]), "points must have shape"),
    (dict(N=2), "N must be"),
    (dict(A_grid=[[1.0]]), "A_grid"),
    (dict(overlap_nm_grid=[np.nan, 1.0]), "overlap_nm_grid"),
])
def test_bad_input(kw, match):
    args = dict(A_grid=[0.5, 1.0], overlap_nm_grid=[0.0, 1.0], points=[(1.0, 0.5)], N=50)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        mo2019.phase_map(**args)
