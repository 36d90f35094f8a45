"""The reproduction scripts run in --quick mode and write theory beside simulation."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _run(script, out):
    subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--quick", "--out",
                    str(out)], check=True, capture_output=True, text=True, timeout=300)


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


def test_reproduce_mo2019_quick(tmp_path):
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


def test_reproduce_rb2017_quick(tmp_path):
    _run("reproduce_rb2017.py", tmp_path)
    for name in ("rb2017_output_ode", "rb2017_poles", "rb2017_frequency",
                 "rb2017_time_constants"):
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
