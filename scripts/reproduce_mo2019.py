"""Reproduce the stability figures of Mastrogiuseppe & Ostojic (2019), theory beside simulation.

    python scripts/reproduce_mo2019.py [--out DIR] [--quick]

Figures (PNG and PDF), following ``shared/specs/mo2019.md`` section 6:

* ``mo2019_vary_A``: the authors' scripted example (g = 0.3, Sm = 1.2, SI = 0.5, rho = 0.5,
  readout direction (1, 1, 0.3), scale C(A) making A a solution). Left: every mean-field
  fixed point against the target A (stable solid, unstable dashed) with the fixed points of
  finite networks built with exact overlaps (markers). Right: the outlier eigenvalue and
  the bulk radius of each branch, with the measured top eigenvalue at each network fixed
  point.
* ``mo2019_geometry_line``: solution classes along the line of solutions
  (sigma_nI = A / psi_A - A sigma_nm) for A = 0.5, 1, 2, with sigma_s and sigma_c.

``mo2019.json`` holds every plotted number and the spec's checkable numbers; each compared
quantity has a ``theory`` and a ``simulation`` entry (with N and the number of realisations).
``--quick``: N = 400, 2 realisations, 4 targets (under 2 minutes on 2 cores); the full run
uses N = 2000, 5 realisations and 9 targets.
"""

import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import reservoir as rs  # noqa: E402
from reservoir.meanfield import (CLASS_NAMES, MeanFieldParams, mf_fixed_points,  # noqa: E402
                                 network_with_exact_overlaps, phase_diagram, readout_scale)

EXAMPLE = dict(g=0.3, Sm=1.2, SI=0.5, rho=0.5, p=1.0, p_m=1.0, p_I=0.3)


def example_params(A, method="accurate"):
    base = MeanFieldParams.from_code_parameters(**EXAMPLE, method=method)
    C, ok = readout_scale(base, A, base.overlap_nm, base.overlap_nI)
    return base.with_readout(float(C) * base.overlap_nm, float(C) * base.overlap_nI), float(C)


def finite_network(N, A, seed):
    _, C = example_params(A)
    return network_with_exact_overlaps(N, **EXAMPLE, C=C, rng=seed)


def sweep_theory(A_grid):
    rows = []
    for A in A_grid:
        p, C = example_params(A)
        sol = mf_fixed_points(p, n_grid=1201)
        rows.append({"A": float(A), "C": C, "z": sol.z.tolist(),
                     "outlier": sol.outlier.real.tolist(), "bulk": sol.bulk_radius.tolist(),
                     "stable": sol.stable.tolist(), "success": sol.success})
    return rows


def sweep_networks(A_values, N, n_real):
    out = []
    for A in A_values:
        p, _ = example_params(A)
        theory = mf_fixed_points(p)
        for seed in range(n_real):
            net = finite_network(N, A, seed)
            fps = rs.find_fixed_points(net, u=[1.0])
            for k in range(len(fps)):
                spec = rs.spectrum(net, fps.x[k], u=[1.0])
                lam = spec.eigenvalues
                top = lam[np.argmax(np.abs(lam))]
                j = int(np.argmin(np.abs(theory.z - fps.z[k, 0])))
                out.append({"A": float(A), "seed": seed, "N": N,
                            "z": {"theory": float(theory.z[j]),
                                  "simulation": float(fps.z[k, 0])},
                            "outlier": {"theory": float(theory.outlier[j].real),
                                        "simulation": float(top.real)},
                            "bulk_radius": {"theory": float(theory.bulk_radius[j]),
                                            "simulation": float(spec.bulk_radius)},
                            "stable": {"theory": bool(theory.stable[j]),
                                       "simulation": bool(fps.stable[k])}})
    return out


def figure_vary_A(theory_rows, net_rows, out):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
    for r in theory_rows:
        for z, o, b, st in zip(r["z"], r["outlier"], r["bulk"], r["stable"]):
            style = dict(color="#21406F" if st else "#C44E52", s=4)
            ax1.scatter(r["A"], z, **style)
            ax2.scatter(r["A"], o, color="#006666" if st else "#C44E52", s=4)
            ax2.scatter(r["A"], b, color="0.6", s=2)
    A = np.array([r["A"] for r in theory_rows])
    ax1.plot(A, A, color="#95B3DF", lw=4, alpha=0.6, zorder=0, label="target z = A")
    if net_rows:
        ax1.scatter([r["A"] for r in net_rows], [r["z"]["simulation"] for r in net_rows],
                    marker="x", color="k", s=30, label="finite networks")
        ax2.scatter([r["A"] for r in net_rows], [r["outlier"]["simulation"] for r in net_rows],
                    marker="x", color="k", s=30, label="top eigenvalue, networks")
    ax1.scatter([], [], color="#21406F", s=10, label="theory, stable")
    ax1.scatter([], [], color="#C44E52", s=10, label="theory, unstable")
    ax1.set(xlabel="target A", ylabel="readout z at the fixed points",
            title="Fixed points of the trained network")
    ax2.axhline(1.0, color="k", lw=0.8, ls=":")
    ax2.scatter([], [], color="#006666", s=10, label="outlier (theory)")
    ax2.scatter([], [], color="0.6", s=10, label="bulk radius (theory)")
    ax2.set(xlabel="target A", ylabel="eigenvalue of (J + m n^T/N) D", ylim=(-1, 3),
            title="Local stability: outlier vs 1")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(out, f"mo2019_vary_A.{ext}"), dpi=130)
    plt.close(fig)


def figure_geometry(targets, out):
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    snm = np.linspace(-1.0, 7.0, 801)
    pd = phase_diagram(base, targets, snm)
    fig, ax = plt.subplots(figsize=(7, 3.2), constrained_layout=True)
    colors = ["#4C72B0", "#55A868", "#DD8452", "#C44E52"]
    boundaries = {}
    for i, A in enumerate(pd.A):
        cls = pd.solution_class[i]
        for c in range(4):
            sel = cls == c
            ax.scatter(snm[sel], np.full(sel.sum(), i), color=colors[c], s=8,
                       label=CLASS_NAMES[c] if i == 0 else None)
        s_s = float(snm[np.argmax(cls == 2)]) if np.any(cls == 2) else None
        s_c = float(snm[np.argmax(cls == 3)]) if np.any(cls == 3) else None
        boundaries[str(float(A))] = {"sigma_s": s_s, "sigma_c": s_c}
    ax.set_yticks(range(len(pd.A)), [f"A = {a:g}" for a in pd.A])
    ax.set(xlabel="readout-feedback overlap sigma_nm = n.m/N (sigma_nI set by the target)",
           title="Solution classes along the lines of solutions (mean field)")
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(out, f"mo2019_geometry_line.{ext}"), dpi=130)
    plt.close(fig)
    return boundaries


def checkable_numbers():
    base = MeanFieldParams.from_code_parameters(**EXAMPLE)
    out = {"sigma_hat_nm": {"theory": base.overlap_nm, "spec": 1.639230},
           "sigma_hat_nI": {"theory": base.overlap_nI, "spec": 0.379904},
           "A_flex": {"theory": -base.overlap_nI / base.overlap_nm, "spec": -0.231757}}
    table = {}
    for A in (-2.0, -1.0, -0.5, -0.1, 0.5, 1.0, 1.5, 2.0):
        p, C = example_params(A)
        sol = mf_fixed_points(p)
        table[str(A)] = {"C": C, "fixed_points": sol.z.tolist(),
                         "outliers": sol.outlier.real.tolist(),
                         "stable": sol.stable.tolist()}
    out["table_7_1_accurate"] = table
    gh = {}
    for A in (-2.0, 2.0):
        p, _ = example_params(A, method="gh200")
        sol = mf_fixed_points(p)
        gh[str(A)] = {"z": sol.z.tolist(), "outlier": sol.outlier.real.tolist(),
                      "bulk": sol.bulk_radius.tolist()}
    out["pickles_gh200"] = gh
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/mo2019")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    if args.quick:
        N, n_real, A_net, n_A = 400, 2, [-2.0, -0.5, 1.0, 2.0], 41
    else:
        N, n_real, A_net, n_A = 2000, 5, [-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5], 161
    A_grid = np.linspace(-2.0, 2.0, n_A)
    A_grid = A_grid[np.abs(A_grid + 0.2318) > 0.02]  # C(A) diverges at A_flex
    theory_rows = sweep_theory(A_grid)
    net_rows = sweep_networks(A_net, N, n_real)
    figure_vary_A(theory_rows, net_rows, args.out)
    boundaries = figure_geometry([0.5, 1.0, 2.0, -1.0], args.out)
    result = {"parameters": {**EXAMPLE, "N": N, "realisations": n_real, "quick": args.quick},
              "vary_A_theory": theory_rows, "vary_A_networks": net_rows,
              "geometry_line": {"theory": boundaries,
                                "spec": {"0.5": [1.4325, 2.0193], "1.0": [1.8517, 3.3192],
                                         "2.0": [2.9004, 6.2179], "-1.0": [1.7368, 2.9894]}},
              "checkable": checkable_numbers(), "seconds": None}
    dz = [abs(r["z"]["theory"] - r["z"]["simulation"]) for r in net_rows]
    agree = np.mean([r["stable"]["theory"] == r["stable"]["simulation"] for r in net_rows])
    result["summary"] = {"mean_abs_z_error": float(np.mean(dz)),
                         "stability_agreement": float(agree)}
    result["seconds"] = time.perf_counter() - t0
    with open(os.path.join(args.out, "mo2019.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"mo2019: N={N}, {n_real} realisations: mean |z_theory - z_network| = "
          f"{np.mean(dz):.4f}, stability agrees at {agree:.0%} of the fixed points; "
          f"{result['seconds']:.0f} s; outputs in {args.out}")


if __name__ == "__main__":
    main()
