"""Matplotlib helpers for spectra and fixed-point equations (pure drawing, no analysis).

Every helper draws on a given ``ax`` (or a new figure), returns the axes, forwards
matplotlib styling keywords to its main artist, and adds a legend only when asked
(``legend=True`` or a dict of :meth:`~matplotlib.axes.Axes.legend` keywords). Calling a
helper twice on one axes draws each stability boundary once, and the legend lists each
label once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_positive_float
from ._docs import fill_doc

if TYPE_CHECKING:  # pragma: no cover - for the type hints only
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

__all__ = ["plot_spectrum", "plot_fixed_point_equation"]

#: The ``legend`` and ``ax`` arguments of every plot (see :mod:`reservoir._docs`).
_LEGEND_AX = """legend : bool or dict, optional
    Whether to add a legend (default ``False``: none; call ``ax.legend()`` yourself or pass
    ``legend=True``). ``True`` places it where it fits: on a figure the helper made itself,
    outside the axes to their right (the figure's constrained layout makes room for it); on
    your own axes, inside them at matplotlib's ``loc="best"`` (the place that covers the
    fewest data points), so it never spills onto a neighbouring panel. A dict is passed to
    :meth:`matplotlib.axes.Axes.legend` on top of those defaults (e.g. ``{"loc": "lower
    left"}`` or ``{"loc": "upper left", "bbox_to_anchor": (1.02, 1)}``). Each label is
    listed once, however many calls drew on the axes.
ax : matplotlib.axes.Axes, optional
    Axes to draw on (default: a new 5.5 x 4 inch figure with constrained layout)."""

#: The return value and error types of every plot.
_RETURNS = """Returns
-------
matplotlib.axes.Axes
    The axes drawn on.

Raises
------
TypeError
    If ``ax`` is not a :class:`matplotlib.axes.Axes` (checked before anything is drawn),
    ``legend`` is not a bool or a dict, or ``label`` is not a string.
ValueError"""

#: ``gid`` prefix of the artists drawn once per axes (boundaries, reference lines).
_GID = "reservoir.plotting:"


def _complex_array(value, name: str, *, allow_empty: bool = False) -> np.ndarray:
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
    if arr.ndim > 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    arr = arr.astype(complex).reshape(-1)
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty (nothing to draw)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_ax(ax) -> None:
    """``TypeError`` naming ``ax`` unless it is ``None`` or matplotlib ``Axes``."""
    if ax is None:
        return
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib.axes.Axes or None, got "
                        f"{type(ax).__module__}.{type(ax).__name__}")


def _check_legend(legend) -> None:
    if not isinstance(legend, (bool, np.bool_, dict)):
        raise TypeError(f"legend must be True, False or a dict of Axes.legend keywords, "
                        f"got {type(legend).__name__}")


def _check_label(label) -> None:
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a string or None, got {type(label).__name__}")


def _new_axes() -> Axes:
    import matplotlib.pyplot as plt
    # constrained layout makes room for a legend placed outside the axes
    _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    return ax


def _drawn_once(ax, key: str) -> bool:
    """Whether an artist with ``gid`` ``_GID + key`` is already on ``ax``."""
    gid = _GID + key
    return any(a.get_gid() == gid for a in list(ax.lines) + list(ax.collections)
               + list(ax.patches))


def _add_legend(ax, legend, own_figure: bool) -> None:
    """The legend, if asked for, with each label once (see ``_AX_RETURNS``)."""
    if legend is False or legend is None or (isinstance(legend, np.bool_) and not legend):
        return
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for h, lab in zip(handles, labels):
        seen.setdefault(lab, h)
    if own_figure:
        kw = dict(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        kw = dict(fontsize=7, loc="best")
    if isinstance(legend, dict):
        if "bbox_to_anchor" not in legend and "loc" in legend:
            kw.pop("bbox_to_anchor", None)
            kw.pop("borderaxespad", None)
        kw.update(legend)
    ax.legend(list(seen.values()), list(seen.keys()), **kw)


def _shared(ax) -> bool:
    """Whether ``ax`` shares its x or y axis with another axes (``adjustable="datalim"``
    raises ``RuntimeError`` on those when drawn)."""
    return (len(ax.get_shared_x_axes().get_siblings(ax)) > 1
            or len(ax.get_shared_y_axes().get_siblings(ax)) > 1)


def _num(v: float) -> str:
    return f"{v:.4g}"


def _euler_circle(alpha: float) -> tuple[float, float, str]:
    """Centre, radius and equation of the Euler map's stability boundary in the ``mu``
    plane: ``|1 - alpha + alpha mu| = 1``, i.e. ``|mu - (1 - 1/alpha)| = 1/alpha``."""
    c, r = 1.0 - 1.0 / alpha, 1.0 / alpha
    if c == 0.0:
        eq = f"|μ| = {_num(r)}"
    else:
        eq = f"|μ {'+' if c < 0 else '−'} {_num(abs(c))}| = {_num(r)}"
    return c, r, eq


@fill_doc(legend_ax=_LEGEND_AX, returns=_RETURNS)
def plot_spectrum(eigenvalues: ArrayLike, *, kind: str = "gain", alpha: float | None = None,
                  bulk_radius: float | None = None, outliers: ArrayLike | None = None,
                  label: str | None = None, legend: bool | dict = False,
                  ax: Axes | None = None, **scatter_kwargs: Any) -> Axes:
    """Scatter eigenvalues in the complex plane with the stability boundary that applies.

    Parameters
    ----------
    eigenvalues : array_like of complex, shape (n,)
        The eigenvalues to draw (at least one).
    kind : {"gain", "flow", "map"}
        What the eigenvalues are; the stability boundary drawn (and named in the legend)
        is the one that applies to them:

        - ``"gain"``: eigenvalues ``mu`` of the gain matrix ``W_eff D`` (dimensionless).
          Without ``alpha``: the boundary of the flow ``tau dx/dt = F(x)`` (the limit
          ``alpha = dt/tau -> 0``), the line ``Re mu = 1``. With ``alpha``: the boundary
          of the Euler map the network iterates, whose multipliers are
          ``1 - alpha + alpha mu``; it is stable iff every ``|mu - (1 - 1/alpha)| <
          1/alpha``, a circle of radius ``1/alpha`` centred at ``1 - 1/alpha`` (the test
          of :attr:`~reservoir.analysis.Spectrum.stable_map`). It touches ``Re mu = 1`` at
          ``mu = 1`` and tends to that line as ``alpha -> 0``; for ``alpha = 1`` it is
          the unit circle.
        - ``"flow"``: Jacobian eigenvalues of the flow (1/time): the line ``Re = 0``.
        - ``"map"``: multipliers of a discrete-time map: the unit circle.
    alpha : float, optional
        ``dt/tau`` of the Euler map, for ``kind="gain"`` only (``> 0``). Note: this is the
        package's ``alpha`` (:attr:`Network.alpha <reservoir.Network.alpha>`), not
        matplotlib's transparency; for transparent markers pass a colour with an alpha
        channel, e.g. ``color=(0, 0, 0, 0.3)``.
    bulk_radius : float, optional
        Draws the predicted bulk edge, a dashed circle of this radius (``>= 0``) about the
        origin (once per radius and axes).
    outliers : array_like of complex, shape (m,), optional
        Marked with large open circles in the eigenvalues' colour (may be empty).
    label : str, optional
        Legend entry of the eigenvalues (default ``"eigenvalues"``, or ``"multipliers"``
        for ``kind="map"``); the outliers are named ``"outliers (label)"`` when given.
    {legend_ax}
    **scatter_kwargs
        Matplotlib styling of the eigenvalues, passed to
        :meth:`matplotlib.axes.Axes.scatter` (e.g. ``color="r"``, ``marker="x"``,
        ``s=20``). Default: small dots in the next colour of the axes' colour cycle, so
        that two calls on one axes are told apart.

    {returns}
        If ``kind`` is not ``"gain"``, ``"flow"`` or ``"map"``, ``eigenvalues`` is empty
        or not a finite 1-D array, ``outliers`` is not a finite 1-D array, ``alpha`` is
        given for another kind than ``"gain"`` or is not ``> 0``, or ``bulk_radius`` is
        negative or not finite (``TypeError`` for a wrong kind of object: e.g.
        ``bulk_radius=True``).

    Notes
    -----
    The axes get an equal aspect ratio by widening the data limits to fill the axes
    (``adjustable="datalim"``, which leaves room for a legend inside them), or, on axes
    that share an axis with others (e.g. ``plt.subplots(1, 2, sharex=True,
    sharey=True)``), by resizing the box (``adjustable="box"``). To zoom (e.g. onto the
    eigenvalues when the Euler map's circle of radius ``1/alpha`` is much larger than the
    spectrum), call ``ax.set_aspect("equal", adjustable="box")`` and then
    ``ax.set(xlim=..., ylim=...)``: with ``"datalim"``, matplotlib ignores fixed limits.
    """
    if not isinstance(kind, str) or kind not in ("gain", "flow", "map"):
        raise ValueError(f"kind must be 'gain', 'flow' or 'map', got {kind!r}")
    lam = _complex_array(eigenvalues, "eigenvalues")
    if alpha is not None:
        if kind != "gain":
            raise ValueError(f"alpha (dt/tau) applies to kind='gain' only, got kind={kind!r}")
        alpha = as_positive_float(alpha, "alpha")
    if bulk_radius is not None:
        bulk_radius = as_positive_float(bulk_radius, "bulk_radius", allow_zero=True)
    if outliers is not None:
        outliers = _complex_array(outliers, "outliers", allow_empty=True)
    _check_label(label)
    _check_legend(legend)
    _check_ax(ax)
    own = ax is None
    if own:
        ax = _new_axes()
    name = label if label is not None else ("multipliers" if kind == "map" else "eigenvalues")
    style = dict(s=6, zorder=2)
    style.update(scatter_kwargs)
    points = ax.scatter(lam.real, lam.imag, label=name, **style)
    theta = np.linspace(0, 2 * np.pi, 721)
    if kind == "map" and not _drawn_once(ax, "unit-circle"):
        ax.plot(np.cos(theta), np.sin(theta), color="k", lw=1, gid=_GID + "unit-circle",
                label="unit circle (stability boundary)")
    if kind == "gain" and alpha is None and not _drawn_once(ax, "re1"):
        ax.axvline(1.0, color="k", lw=1, gid=_GID + "re1", label="Re = 1 (stability boundary)")
    if kind == "gain" and alpha is not None and not _drawn_once(ax, f"euler-{alpha!r}"):
        c, r, eq = _euler_circle(alpha)
        ax.plot(c + r * np.cos(theta), r * np.sin(theta), color="k", lw=1,
                gid=_GID + f"euler-{alpha!r}",
                label=f"Euler map, dt/τ = {alpha:g}: {eq} (stability boundary)")
    if kind == "flow" and not _drawn_once(ax, "re0"):
        ax.axvline(0.0, color="k", lw=1, gid=_GID + "re0", label="Re = 0 (stability boundary)")
    if bulk_radius is not None and not _drawn_once(ax, f"bulk-{bulk_radius!r}"):
        # drawn over the eigenvalues, which would hide it where they fill the bulk
        ax.plot(bulk_radius * np.cos(theta), bulk_radius * np.sin(theta), "--", color="k",
                lw=1.5, zorder=3, gid=_GID + f"bulk-{bulk_radius!r}",
                label=f"predicted bulk edge (radius {_num(bulk_radius)})")
    if outliers is not None and outliers.size:
        edge = points.get_facecolor()
        edge = edge[0] if len(edge) else "C3"
        ax.scatter(outliers.real, outliers.imag, s=60, facecolors="none", edgecolors=[edge],
                   zorder=3, label="outliers" if label is None else f"outliers ({label})")
    symbol = {"gain": "μ", "flow": "λ", "map": "m"}[kind]
    unit = " (1/time)" if kind == "flow" else ""
    ax.set_xlabel(f"Re {symbol}" + unit)
    ax.set_ylabel(f"Im {symbol}" + unit)
    ax.set_aspect("equal", adjustable="box" if _shared(ax) else "datalim")
    _add_legend(ax, legend, own)
    return ax


#: Marker, legend entry and FixedPoints.stability strings of each group of fixed points.
_FP_GROUPS = (
    (("stable",), dict(marker="o", s=50, color="C2"), "stable"),
    (("saddle", "unstable"), dict(marker="o", s=50, facecolors="white", edgecolors="C3"),
     "unstable"),
    (("marginal",), dict(marker="D", s=45, facecolors="white", edgecolors="C1"),
     "marginal (linear stability undecided)"),
    (("unknown",), dict(marker="s", s=45, facecolors="white", edgecolors="0.35"),
     "stability unknown"),
)


@fill_doc(legend_ax=_LEGEND_AX, returns=_RETURNS)
def plot_fixed_point_equation(fixed_points, *, label: str | None = None,
                              legend: bool | dict = False, ax: Axes | None = None,
                              **line_kwargs: Any) -> Axes:
    """Plot ``G(z) = W_out phi(x(z)) + b_out - z`` from a z-scan, with the fixed points.

    The fixed points are marked on ``G = 0`` by their
    :attr:`~reservoir.analysis.FixedPoints.stability` (the verdict for the dynamics as
    simulated): ``"stable"`` filled green circles, ``"saddle"`` and ``"unstable"`` open
    red circles (``"unstable"`` in the legend), ``"marginal"`` open orange diamonds
    (a multiplier within ``marginal_tol`` of the unit circle: linear stability undecided,
    e.g. a line attractor), ``"unknown"`` open grey squares (not decided, e.g. on a ReLU
    kink). Intervals where the scan was unreliable are shaded. Only the groups that are
    drawn are named in the legend.

    Parameters
    ----------
    fixed_points : FixedPoints
        A result of :func:`~reservoir.analysis.find_fixed_points` with a z-scan
        (``z_grid`` and ``G_grid`` not empty).
    label : str, optional
        Legend entry of the curve (default ``"G(z) = W_out φ(x(z)) − z"``).
    {legend_ax}
    **line_kwargs
        Matplotlib styling of the curve, passed to :meth:`matplotlib.axes.Axes.plot`
        (e.g. ``color="k"``, ``lw=1``, ``ls="--"``).

    {returns}
        If ``fixed_points`` has no z-scan (``K > 1`` or ``method="slow"``)
        (``TypeError`` if it is not :class:`~reservoir.analysis.FixedPoints`).
    """
    from .analysis.fixed_points import FixedPoints
    if not isinstance(fixed_points, FixedPoints):
        raise TypeError(f"fixed_points must be FixedPoints, got {type(fixed_points).__name__}")
    fps = fixed_points
    if fps.z_grid.size == 0:
        raise ValueError("fixed_points has no z-scan (K > 1 or method='slow')")
    _check_label(label)
    _check_legend(legend)
    _check_ax(ax)
    own = ax is None
    if own:
        ax = _new_axes()
    style = dict(color="C0", lw=1.5)
    style.update(line_kwargs)
    ax.plot(fps.z_grid, fps.G_grid, label="G(z) = W_out φ(x(z)) − z" if label is None
            else label, **style)
    if not _drawn_once(ax, "g0"):
        ax.axhline(0.0, color="0.5", lw=0.8, gid=_GID + "g0", label="G = 0 (fixed points)")
    for i, (a, b, _) in enumerate(fps.unreliable):
        ax.axvspan(a, b, color="C1", alpha=0.2, lw=0,
                   label="scan unreliable" if i == 0 else None)
    fixed = fps.is_fixed
    z = fps.z[fixed, 0]
    stability = np.asarray(fps.stability[fixed], dtype=str)
    for kinds, marker, name in _FP_GROUPS:
        sel = np.isin(stability, kinds)
        if sel.any():
            ax.scatter(z[sel], np.zeros(int(sel.sum())), zorder=3, label=name, **marker)
    ax.set_xlabel("readout z")
    ax.set_ylabel("G(z)")
    _add_legend(ax, legend, own)
    return ax
