"""Results as labelled arrays: the conversions behind the ``to_xarray()`` methods.

xarray is optional (``pip install reservoir[xarray]``); it is imported when a conversion
runs. The arrays are handed over as they are (no copy where xarray does not make one): values
and coordinates equal the result's arrays exactly.

Dimensions (one name per axis across the package)

================  ==========================================================================
``time``          the rows of a trajectory; coordinate ``t * dt`` in the time unit of ``tau``
                  and ``dt`` (``attrs["units"]``), with the integer ``step`` ``t`` beside it
``trial``         the batch axis ``B`` of a batched run (coordinate ``0 .. B-1``)
``unit``          the ``N`` units of the network (state ``x``, rate ``r``)
``input``         the ``M`` input channels
``readout``       the ``K`` readouts (``z``)
``point``         the points of a point collection (``FixedPoints``, ``Certificate``,
                  ``SaddleConnections``, the mean-field solutions)
``eigenvalue``    the ``N`` eigenvalues / multipliers of a point
``branch``        the two branches of a saddle's unstable manifold (``SaddleConnections``)
``bound``         ``[lo, hi]`` of an interval (``Certificate``); ``box``: its undecided boxes
``realization``   the realisations of a sweep; each grid parameter of a sweep is its own
                  dimension, with the grid values as coordinates
================  ==========================================================================

Other axes are named ``<field>_dim_<i>`` (``dim_<i>`` for the axes of a sweep function's
value, as in :class:`~reservoir.SweepResult`). Scalars of a result (settings, counters,
``success``, ``complete``) go to ``attrs`` (``None`` as the string ``"None"``, so that the
attributes stay serialisable), ``messages`` as a list of strings; nested results as their
one-line summary. With ``net=`` the network's parameters are added to ``attrs`` as
``network_N``, ``network_n_inputs``, ``network_n_outputs``, ``network_phi``,
``network_tau``, ``network_dt``, ``network_alpha``, ``network_is_sparse`` and
``network_has_intercept``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

_EXTRA = "pip install reservoir[xarray]"

#: Units of the fields of the results, for ``attrs["units"]`` of their variables.
UNITS = {
    "x": "state units", "x_final": "state units", "x_end": "state units",
    "r": "rate units (phi(x))", "z": "readout units", "z_grid": "readout units",
    "G_grid": "readout units", "region": "readout units", "root_boxes": "readout units",
    "undecided": "readout units", "residual": "state units", "end_residual": "state units",
    "end_distance": "state units", "jacobian_eigenvalues": "1 / time unit of tau",
    "multipliers": "dimensionless", "marginal_tol": "dimensionless",
    "unstable_multiplier": "dimensionless", "unstable_vector": "dimensionless (unit norm)",
    "u": "input units",
}

#: Names of the axes after the first (``point``) of per-point fields, per class.
_POINT_AXES = {
    "FixedPoints": {"x": ("unit",), "z": ("readout",), "jacobian_eigenvalues": ("eigenvalue",),
                    "multipliers": ("eigenvalue",)},
    "Certificate": {"x": ("unit",), "z": ("readout",), "root_boxes": ("readout", "bound")},
    "SaddleConnections": {"ends": ("branch",), "unstable_vector": ("unit",),
                          "x_end": ("branch", "unit"), "end_distance": ("branch",),
                          "end_residual": ("branch",)},
}

#: Names of the axes of the other array fields, per class.
_OTHER_AXES = {
    "FixedPoints": {"u": ("input",), "z_grid": ("z_grid",), "G_grid": ("z_grid",)},
    "Certificate": {"region": ("readout", "bound"), "undecided": ("box", "readout", "bound")},
    "MeanFieldSolution": {"z_grid": ("z_grid",), "G_grid": ("z_grid",)},
    "LSFixedPoints": {"z_grid": ("z_grid",), "G_grid": ("z_grid",)},
    "ChaoticClosedLoop": {"z_grid": ("z_grid",), "G_grid": ("z_grid",)},
}


def xarray():
    """The xarray module, or ``ImportError`` naming the extra that installs it."""
    try:
        import xarray as xr
    except ImportError as exc:
        raise ImportError(f"to_xarray() needs xarray: {_EXTRA}") from exc
    return xr


def network_attrs(net) -> dict:
    """The network's parameters as attributes (``network_<name>``); ``{}`` for None."""
    if net is None:
        return {}
    from .network import Network
    if not isinstance(net, Network):
        raise TypeError(f"net must be a reservoir.Network or None, got {type(net).__name__}")
    return {"network_N": int(net.N), "network_n_inputs": int(net.n_inputs),
            "network_n_outputs": int(net.n_outputs), "network_phi": net.phi,
            "network_tau": float(net.tau), "network_dt": float(net.dt),
            "network_alpha": float(net.alpha), "network_is_sparse": int(net.is_sparse),
            "network_has_intercept": int(net.has_intercept)}


def _attr_value(value):
    """A scalar attribute value (None as "None", numpy scalars as Python ones)."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (int, float, str)):
        return value
    from ._results import ResultMixin
    if isinstance(value, ResultMixin):
        return value._headline()
    return repr(value)


def _coord(values) -> np.ndarray:
    """A 1-D coordinate array (objects kept as objects when they are not scalars)."""
    try:
        arr = np.asarray(values)
    except ValueError:                       # mixed sequences and scalars
        arr = None
    if arr is None or arr.ndim != 1:
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    return arr


def _check_net(net, n_units: int | None) -> dict:
    attrs = network_attrs(net)
    if attrs and n_units is not None and attrs["network_N"] != n_units:
        raise ValueError(f"net must be the network of this result: it has N = "
                         f"{attrs['network_N']} units, the result {n_units}")
    return attrs


def trajectory_to_xarray(tr, net=None):
    """A :class:`~reservoir.Trajectory` as an ``xarray.Dataset``.

    Variables ``x`` and ``r`` (``[trial,] time, unit``), ``z`` (``[trial,] time, readout``)
    where recorded, and ``x_final`` (``[trial,] unit``); coordinates ``time`` (``t * dt``),
    ``step``, ``trial``, ``unit``, ``readout``; ``attrs`` ``feedback_mode``, ``dt``, ``n_steps``, the
    time unit, and the network's parameters when ``net`` is given.
    """
    xr = xarray()
    batched = tr.x_final.ndim == 2
    lead = ("trial",) if batched else ()
    N = tr.x_final.shape[-1]
    # "feedback_mode", not "mode": scipy's netCDF writer takes a "mode" attribute for its own
    attrs = {"feedback_mode": tr.mode, "dt": float(tr.dt), "n_steps": int(tr.n_steps),
             "time_units": "time unit of tau and dt (the network's), row t at t * dt"}
    attrs.update(_check_net(net, N))
    data = {}
    for name, last in (("x", "unit"), ("r", "unit"), ("z", "readout")):
        value = getattr(tr, name)
        if value is not None:
            data[name] = (lead + ("time", last), value, {"units": UNITS[name]})
    data["x_final"] = (lead + ("unit",), tr.x_final, {"units": UNITS["x_final"]})
    coords = {"time": ("time", tr.t, {"units": attrs["time_units"]}),
              "step": ("time", np.arange(tr.n_steps)), "unit": np.arange(N)}
    if tr.z is not None:
        coords["readout"] = np.arange(tr.z.shape[-1])
    if batched:
        coords["trial"] = np.arange(tr.x_final.shape[0])
    return xr.Dataset(data, coords=coords, attrs=attrs)


def trajectory_from_xarray(ds):
    """The :class:`~reservoir.Trajectory` of a Dataset made by :func:`trajectory_to_xarray`."""
    from ._simulate import Trajectory
    get = (lambda n: np.asarray(ds[n].values) if n in ds.data_vars else None)
    return Trajectory(x=get("x"), r=get("r"), z=get("z"), x_final=get("x_final"),
                      mode=str(ds.attrs["feedback_mode"]), dt=float(ds.attrs["dt"]),
                      n_steps=int(ds.attrs["n_steps"]))


def sweep_to_xarray(res, net=None):
    """A :class:`~reservoir.SweepResult` as an ``xarray.DataArray`` named ``"value"``.

    Dimensions are ``res.dims`` (the grid parameters, ``realization``, then ``dim_0``, ...);
    each grid parameter and ``realization`` has its values as coordinate.
    """
    xr = xarray()
    coords = {d: _coord(res.coords[d]) for d in res.dims if d in res.coords}
    attrs = {"description": "sweep values: one axis per grid parameter, then realization, "
                            "then the axes of the function's value"}
    attrs.update(_check_net(net, None))
    return xr.DataArray(res.values, dims=tuple(res.dims), coords=coords, name="value",
                        attrs=attrs)


def sweep_from_xarray(da):
    """The :class:`~reservoir.SweepResult` of a DataArray made by :func:`sweep_to_xarray`."""
    from ._sweep import SweepResult
    coords = {d: da.coords[d].values.tolist() for d in da.dims if d in da.coords}
    return SweepResult(values=np.asarray(da.values), dims=tuple(da.dims), coords=coords)


def points_to_xarray(points, net=None):
    """A point collection (a :class:`~reservoir._results.PointSetMixin` result) as an
    ``xarray.Dataset`` with the per-point fields along ``point``.

    Per-point fields become variables ``(point, ...)``; the other array fields variables
    of their own axes; scalars, ``messages`` and nested results go to ``attrs``. Axis names
    as in the module docstring.
    """
    xr = xarray()
    cls = type(points).__name__
    point_axes = _POINT_AXES.get(cls, {})
    other_axes = _OTHER_AXES.get(cls, {})
    data, attrs = {}, {}
    n_units = None
    for f in dataclasses.fields(points):
        name = f.name
        value = getattr(points, name)
        if name in points._point_fields:
            arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
            if arr.ndim == 0 or arr.shape[0] != len(points):
                arr = np.empty(len(points), dtype=object)
                arr[:] = list(value)
            rest = point_axes.get(name, ())
            rest = tuple(rest[:arr.ndim - 1]) + tuple(
                f"{name}_dim_{i}" for i in range(len(rest) + 1, arr.ndim))
            if "unit" in rest:
                n_units = arr.shape[1 + rest.index("unit")]
            data[name] = (("point",) + rest, arr,
                          {"units": UNITS[name]} if name in UNITS else {})
        elif isinstance(value, np.ndarray):
            dims = other_axes.get(name, tuple(f"{name}_dim_{i}" for i in range(value.ndim)))
            data[name] = (dims, value, {"units": UNITS[name]} if name in UNITS else {})
        elif name == "messages":
            attrs["messages"] = [str(m) for m in value]
        else:
            attrs[name] = _attr_value(value)
    attrs["result"] = cls
    attrs.update(_check_net(net, n_units))
    coords = {"point": np.arange(len(points))}
    for dims, arr, _ in data.values():
        for axis, dim in enumerate(dims):
            if dim in ("unit", "readout", "input"):
                coords[dim] = np.arange(np.shape(arr)[axis])
    return xr.Dataset(data, coords=coords, attrs=attrs)
