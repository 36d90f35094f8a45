"""to_xarray() of trajectories, sweeps and point collections (issue 17, item 4): the values
and coordinates equal the result's own arrays exactly, every axis has its documented name,
units and the network's parameters are in attrs, and the conversions round-trip."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import reservoir as rs
from reservoir._xarray import sweep_from_xarray, trajectory_from_xarray
from reservoir.analysis import certify_fixed_points, saddle_connections

import xarray  # noqa: E402,F401  (the dev extra installs it: these tests run in CI)

from sweep_funcs import noisy_value             # noqa: E402


def bistable():
    """x = 2 tanh(x) through the feedback loop: fixed points -x*, 0, x* (a saddle)."""
    return rs.Network(J=np.zeros((1, 1)), W_in=np.zeros((1, 0)), W_fb=[[2.0]],
                      W_out=[[1.0]], b=[0.0], tau=1.0, dt=0.5)


NETWORK_ATTRS = ("N", "n_inputs", "n_outputs", "phi", "tau", "dt", "alpha")


@pytest.mark.parametrize("batched", [False, True])
def test_trajectory(batched):
    net = rs.random_network(7, 1.2, n_inputs=2, n_outputs=3, tau=1.0, dt=0.2, rng=0)
    U = np.random.default_rng(1).standard_normal(((4,) if batched else ()) + (11, 2))
    tr = rs.simulate(net, U, mode="closed")
    ds = tr.to_xarray(net)
    lead = ("trial",) if batched else ()
    assert ds["x"].dims == lead + ("time", "unit") and ds["r"].dims == lead + ("time", "unit")
    assert ds["z"].dims == lead + ("time", "readout")
    assert ds["x_final"].dims == lead + ("unit",)
    for name in ("x", "r", "z", "x_final"):
        np.testing.assert_array_equal(ds[name].values, getattr(tr, name))
    np.testing.assert_array_equal(ds["time"].values, np.arange(11) * 0.2)
    np.testing.assert_array_equal(ds["step"].values, np.arange(11))
    np.testing.assert_array_equal(ds["unit"].values, np.arange(7))
    np.testing.assert_array_equal(ds["readout"].values, np.arange(3))
    if batched:
        np.testing.assert_array_equal(ds["trial"].values, np.arange(4))
    assert ds.attrs["feedback_mode"] == "closed" and ds.attrs["dt"] == 0.2 and ds.attrs["n_steps"] == 11
    assert "tau" in ds["time"].attrs["units"]
    assert ds["z"].attrs["units"] == "readout units"
    for key in NETWORK_ATTRS:
        assert ds.attrs[f"network_{key}"] == getattr(net, key)
    # label-based selection agrees with plain indexing
    np.testing.assert_array_equal(ds["r"].sel(time=0.2 * 5).values, tr.r[..., 5, :])
    back = trajectory_from_xarray(ds)
    for name in ("x", "r", "z", "x_final"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    assert (back.mode, back.dt, back.n_steps) == (tr.mode, tr.dt, tr.n_steps)


def test_trajectory_partial_record_and_wrong_network():
    net = rs.random_network(5, 0.9, n_inputs=1, n_outputs=1, rng=0)
    tr = rs.simulate(net, np.ones((6, 1)), mode="open", record=("z",))
    ds = tr.to_xarray()
    assert set(ds.data_vars) == {"z", "x_final"}
    assert not any(k.startswith("network_") for k in ds.attrs)
    other = rs.random_network(6, 0.9, n_inputs=1, n_outputs=1, rng=0)
    with pytest.raises(ValueError, match="N = 6"):
        tr.to_xarray(other)
    with pytest.raises(TypeError, match="net"):
        tr.to_xarray("net")


def test_sweep_result():
    res = rs.sweep(noisy_value, {"g": [0.5, 1.5, 2.5], "n": [1, 2]}, n_realizations=3,
                   rng=0, progress=False)
    da = res.to_xarray()
    assert da.dims == res.dims == ("g", "n", "realization", "dim_0")
    np.testing.assert_array_equal(da.values, res.values)
    np.testing.assert_array_equal(da["g"].values, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(da["n"].values, [1, 2])
    np.testing.assert_array_equal(da["realization"].values, [0, 1, 2])
    np.testing.assert_array_equal(da.sel(g=1.5, n=2).values, res.sel(g=1.5, n=2))
    np.testing.assert_array_equal(da.sel(g=2.5).values[..., 0],
                                  2.5 * np.array([1, 2])[:, None] * np.ones(3))
    np.testing.assert_array_equal(da.mean("realization").values, res.mean())
    back = sweep_from_xarray(da)
    assert back.dims == res.dims and back.coords == res.coords
    np.testing.assert_array_equal(back.values, res.values)
    net = bistable()
    assert res.to_xarray(net).attrs["network_N"] == 1


def test_sweep_with_object_coordinates():
    res = rs.SweepResult(values=np.arange(6.0).reshape(3, 2), dims=("shape", "realization"),
                         coords={"shape": [(1, 2), (3, 4), "x"], "realization": [0, 1]})
    da = res.to_xarray()
    assert list(da["shape"].values) == [(1, 2), (3, 4), "x"]
    np.testing.assert_array_equal(da.values, res.values)


def test_fixed_points():
    net = bistable()
    fps = rs.find_fixed_points(net, method="scan")
    ds = fps.to_xarray(net)
    P = len(fps)
    assert P == 3 and ds.sizes["point"] == P
    assert ds["x"].dims == ("point", "unit") and ds["z"].dims == ("point", "readout")
    assert ds["multipliers"].dims == ("point", "eigenvalue")
    assert ds["jacobian_eigenvalues"].dims == ("point", "eigenvalue")
    assert ds["u"].dims == ("input",) and ds["G_grid"].dims == ("z_grid",)
    for name in fps._point_fields:
        np.testing.assert_array_equal(ds[name].values, getattr(fps, name))
    for name in ("u", "z_grid", "G_grid"):
        np.testing.assert_array_equal(ds[name].values, getattr(fps, name))
    assert ds.attrs["success"] == int(fps.success) and ds.attrs["n_lu"] == fps.n_lu
    assert ds.attrs["complete"] == str(fps.complete) if fps.complete is None \
        else ds.attrs["complete"] == int(fps.complete)
    assert ds.attrs["messages"] == list(fps.messages)
    assert ds.attrs["network_phi"] == "tanh" and ds.attrs["result"] == "FixedPoints"
    assert ds["x"].attrs["units"] == "state units"
    # selecting points and converting commutes
    sub = fps[fps.stable].to_xarray()
    np.testing.assert_array_equal(sub["x"].values, ds["x"].isel(point=fps.stable).values)
    np.testing.assert_array_equal(np.sort(ds["x"].values[:, 0]),
                                  np.sort(fps.x[:, 0]))


def test_certificate_saddles_and_meanfield():
    net = bistable()
    fps = rs.find_fixed_points(net, method="scan")
    cert = certify_fixed_points(net)
    ds = cert.to_xarray()
    assert ds["root_boxes"].dims == ("point", "readout", "bound")
    assert ds["region"].dims == ("readout", "bound")
    np.testing.assert_array_equal(ds["z"].values, cert.z)
    np.testing.assert_array_equal(ds["root_boxes"].values, cert.root_boxes)
    sc = saddle_connections(net, fps)
    ds = sc.to_xarray()
    assert ds["x_end"].dims == ("point", "branch", "unit")
    np.testing.assert_array_equal(ds["ends"].values, sc.ends)
    np.testing.assert_array_equal(ds["x_end"].values, sc.x_end)
    from reservoir.meanfield import MeanFieldParams, mf_fixed_points
    sol = mf_fixed_points(MeanFieldParams(g=0.3, var_m=1.0, var_I=0.0, cov_mI=0.0,
                                          overlap_nm=2.0))
    ds = sol.to_xarray()
    assert ds.sizes["point"] == len(sol)
    for name in sol._point_fields:
        np.testing.assert_array_equal(ds[name].values, np.asarray(getattr(sol, name)))
        assert ds[name].dims[0] == "point"


def test_missing_xarray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    tr = rs.simulate(bistable(), n_steps=3, mode="closed")
    with pytest.raises(ImportError, match=r"pip install reservoir\[xarray\]"):
        tr.to_xarray()
    with pytest.raises(ImportError, match=r"reservoir\[xarray\]"):
        rs.find_fixed_points(bistable(), method="scan").to_xarray()


def test_trajectory_dataset_writes_to_netcdf(tmp_path):
    """The Dataset can be written and read back by xarray's scipy netCDF engine (an
    attribute named "mode" used to clash with the writer's own argument)."""
    pytest.importorskip("scipy.io")
    net = rs.random_network(6, 0.5, 1, 1, dt=0.2, rng=0)
    tr = rs.simulate(net, np.ones((5, 1)), mode="open")
    ds = tr.to_xarray(net)
    path = tmp_path / "t.nc"
    ds.to_netcdf(path, engine="scipy")
    back = xarray.open_dataset(path, engine="scipy")
    np.testing.assert_array_equal(back["x"].values, tr.x)
    assert back.attrs["feedback_mode"] == "open"
    back.close()
