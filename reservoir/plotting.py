"""Matplotlib helpers for spectra and fixed-point equations (pure drawing, no analysis)."""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_positive_float
from ._docs import fill_doc


#: The axes argument, return value and error type of every plot (see :mod:`reservoir._docs`).
_AX_RETURNS = """ax : matplotlib.axes.Axes, optional
    Axes to draw on (default: a new 5.5 x 4 inch figure with constrained layout). The
    legend is placed outside the axes, to their right, so that it covers no data.

Returns
-------
matplotlib.axes.Axes
    The axes drawn on.

Raises
------
ValueError"""


def _complex_array(value, name: str) -> np.ndarray:
    """A finite 1-D array of (complex) numbers, or ``TypeError``/``ValueError`` naming
    ``name``."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except ValueError as exc:
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(complex).reshape(-1) if arr.ndim <= 1 else None
    if arr is None:
        raise ValueError(f"{name} must be 1-D, got shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _axes(ax):
    if ax is not None and not callable(getattr(ax, "scatter", None)):
        raise TypeError(f"ax must be matplotlib Axes or None, got {type(ax).__name__}")
    if ax is None:
        import matplotlib.pyplot as plt
        # constrained layout keeps the legend, placed outside the axes, inside the figure
        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    return ax


def _legend_outside(ax):
    """The legend to the right of the axes, never over the data (figure hygiene)."""
    return ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                     borderaxespad=0.0)


@fill_doc(ax_returns=_AX_RETURNS)
def plot_spectrum(eigenvalues, *, kind: str = "gain", bulk_radius=None, outliers=None,
                  ax=None):
    """Scatter eigenvalues in the complex plane with the stability boundary.

    Parameters
    ----------
    eigenvalues : array_like of complex
        The eigenvalues to draw.
    kind : {"gain", "flow", "map"}
        The stability boundary drawn (and named in the legend) is the one that applies:

        - ``"gain"``: eigenvalues ``mu`` of the gain matrix ``W_eff D`` (dimensionless) of a
          flow ``tau dx/dt = F(x)``: stable when every ``Re mu < 1`` (the line ``Re = 1``).
        - ``"flow"``: Jacobian eigenvalues of the flow (1/time): the line ``Re = 0``.
        - ``"map"``: multipliers of a discrete-time map: the unit circle. For the maps
          BPTT trains (``dt = tau``) the multipliers are the gain eigenvalues ``mu``, so
          their ``mu`` (or, at the origin of a tanh network, the eigenvalues of ``W_eff``)
          are drawn with ``kind="map"``.
    bulk_radius : float, optional
        Draws the predicted bulk edge (dashed circle).
    outliers : array_like of complex, optional
        Marked with open red circles.
    {ax_returns}
        If ``kind`` is not ``"gain"``, ``"flow"`` or ``"map"``, ``eigenvalues`` or
        ``outliers`` is not a finite 1-D array, or ``bulk_radius`` is negative or not
        finite (``TypeError`` for a wrong kind of object).
    """
    if not isinstance(kind, str) or kind not in ("gain", "flow", "map"):
        raise ValueError(f"kind must be 'gain', 'flow' or 'map', got {kind!r}")
    lam = _complex_array(eigenvalues, "eigenvalues")
    if bulk_radius is not None:
        bulk_radius = as_positive_float(float(as_float_array(bulk_radius, "bulk_radius", 0)),
                                        "bulk_radius", allow_zero=True)
    if outliers is not None:
        outliers = _complex_array(outliers, "outliers")
    ax = _axes(ax)
    ax.scatter(lam.real, lam.imag, s=6, color="0.25",
               label="multipliers" if kind == "map" else "eigenvalues")
    theta = np.linspace(0, 2 * np.pi, 400)
    if kind == "map":
        ax.plot(np.cos(theta), np.sin(theta), color="C0", lw=1,
                label="unit circle (stability boundary)")
    if kind == "gain":
        ax.axvline(1.0, color="C3", lw=1, label="Re = 1 (stability boundary)")
    if kind == "flow":
        ax.axvline(0.0, color="C3", lw=1, label="Re = 0 (stability boundary)")
    if bulk_radius is not None:
        # drawn over the eigenvalues, which would hide it where they fill the bulk
        ax.plot(bulk_radius * np.cos(theta), bulk_radius * np.sin(theta), "--", color="C1",
                lw=1.5, zorder=3, label="predicted bulk edge")
    if outliers is not None and len(outliers):
        o = np.asarray(outliers, dtype=complex)
        ax.scatter(o.real, o.imag, s=60, facecolors="none", edgecolors="C3", label="outliers")
    ax.set_xlabel("Re λ" + (" (1/time)" if kind == "flow" else ""))
    ax.set_ylabel("Im λ" + (" (1/time)" if kind == "flow" else ""))
    ax.set_aspect("equal", adjustable="datalim")
    _legend_outside(ax)
    return ax


@fill_doc(ax_returns=_AX_RETURNS)
def plot_fixed_point_equation(fixed_points, *, ax=None):
    """Plot ``G(z) = W_out phi(x(z)) + b_out - z`` from a z-scan, with the fixed points.

    Stable fixed points are filled circles, unstable ones open circles; intervals where
    the scan was unreliable are shaded; the legend names each (outside the axes).

    Parameters
    ----------
    fixed_points : FixedPoints
        A result of :func:`~reservoir.analysis.find_fixed_points` with a z-scan
        (``z_grid`` and ``G_grid`` not empty).
    {ax_returns}
        If ``fixed_points`` has no z-scan (``K > 1`` or ``method="slow"``)
        (``TypeError`` if it is not :class:`~reservoir.analysis.FixedPoints`).
    """
    from .analysis.fixed_points import FixedPoints
    if not isinstance(fixed_points, FixedPoints):
        raise TypeError(f"fixed_points must be FixedPoints, got {type(fixed_points).__name__}")
    fps = fixed_points
    if fps.z_grid.size == 0:
        raise ValueError("fixed_points has no z-scan (K > 1 or method='slow')")
    ax = _axes(ax)
    ax.plot(fps.z_grid, fps.G_grid, color="C0", lw=1.5, label="G(z) = W_out φ(x(z)) − z")
    ax.axhline(0.0, color="0.5", lw=0.8, label="G = 0 (fixed points)")
    for i, (a, b, _) in enumerate(fps.unreliable):
        ax.axvspan(a, b, color="C1", alpha=0.2, lw=0,
                   label="scan unreliable" if i == 0 else None)
    fixed = fps.is_fixed
    z = fps.z[fixed, 0]
    st = fps.stable[fixed]
    ax.scatter(z[st], np.zeros(st.sum()), s=50, color="C2", zorder=3, label="stable")
    ax.scatter(z[~st], np.zeros((~st).sum()), s=50, facecolors="white", edgecolors="C3",
               zorder=3, label="unstable")
    ax.set_xlabel("readout z")
    ax.set_ylabel("G(z)")
    _legend_outside(ax)
    return ax
