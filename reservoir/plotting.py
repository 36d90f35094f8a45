"""Matplotlib helpers for spectra and fixed-point equations (pure drawing, no analysis).

Every helper draws on a given ``ax`` (or a new figure), returns the axes, forwards
matplotlib styling keywords to its main artist, and adds a legend only when asked
(``legend=True`` or a dict of :meth:`~matplotlib.axes.Axes.legend` keywords), placed where it
covers no data. Calling a helper twice on one axes draws each stability boundary once, and
the legend has one entry per distinct label and look (see ``label`` of each helper).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_positive_float
from ._docs import fill_doc

if TYPE_CHECKING:  # pragma: no cover - for the type hints only
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

    from .analysis.fixed_points import FixedPoints

__all__ = ["plot_spectrum", "plot_fixed_point_equation"]

#: The ``legend`` and ``ax`` arguments of every plot (see :mod:`reservoir._docs`).
_LEGEND_AX = """legend : bool or dict, optional
    Whether to add a legend (default ``False``: none; call ``ax.legend()`` yourself or pass
    ``legend=True``). ``True`` places it where it covers no data. On a figure the helper
    made itself: outside the axes to their right (the figure's constrained layout makes
    room for it). On your own axes: inside them, at the first of matplotlib's locations
    ``"upper right"``, ``"upper left"``, ``"lower left"``, ``"lower right"``, ``"right"``,
    ``"center left"``, ``"center right"``, ``"lower center"``, ``"upper center"`` where no
    drawn point (its marker included) and no data curve lies under the legend (lines and
    shaded spans that cross the whole axes excepted: no place inside avoids them); if
    there is none, below the axes, under their tick labels and axis label, so that it
    neither covers data nor spills onto a neighbouring panel: a figure with a layout engine
    (``layout="constrained"`` or ``"tight"``) makes room for it, and on one without, the
    helper shrinks the axes from below by the legend's height (at most by half the axes'
    height). The place is chosen when the helper is called, from the figure as it is then.
    A dict of :meth:`matplotlib.axes.Axes.legend` keywords is applied on top of those
    defaults (font size 7); a dict with ``"loc"`` or ``"bbox_to_anchor"`` overrides the
    placement, and the legend goes exactly there, unchecked (e.g. ``{"loc": "lower
    left"}`` or ``{"loc": "upper left", "bbox_to_anchor": (1.02, 1)}``). Artists with the
    same label and the same look share one entry, however many calls drew on the axes.
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


def _checked_axes(label, legend, ax):
    """Check ``label``, ``legend`` and ``ax`` (before anything is drawn); return the axes
    to draw on (a new figure's when ``ax`` is None) and whether the helper made it."""
    _check_label(label)
    _check_legend(legend)
    _check_ax(ax)
    return (_new_axes(), True) if ax is None else (ax, False)


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


def _rgba_key(colors) -> tuple:
    """The first colour of a colour array (or ``()``), rounded, as a hashable key."""
    arr = np.asarray(colors, dtype=float).reshape(-1)
    return tuple(np.round(arr[:4], 6)) if arr.size >= 4 else ()


def _look(artist) -> tuple:
    """What a legend entry shows of ``artist``: two artists with equal looks and labels
    share one entry (see ``_add_legend``)."""
    from matplotlib.collections import Collection
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    if isinstance(artist, Line2D):
        return ("line", to_rgba(artist.get_color()), str(artist.get_linestyle()),
                round(float(artist.get_linewidth()), 6), str(artist.get_marker()),
                to_rgba(artist.get_markerfacecolor()), round(float(artist.get_markersize()), 6))
    if isinstance(artist, Collection):
        paths = artist.get_paths()
        marker = (paths[0].vertices.round(6).tobytes() if len(paths) else b"")
        sizes = artist.get_sizes() if hasattr(artist, "get_sizes") else np.zeros(0)
        mapped = artist.get_array() is not None
        return ("collection", type(artist).__name__, _rgba_key(artist.get_facecolor()),
                _rgba_key(artist.get_edgecolor()),
                round(float(sizes[0]), 6) if len(sizes) else None,
                round(float(np.ravel(artist.get_linewidth())[0]), 6)
                if np.size(artist.get_linewidth()) else None, marker,
                artist.get_cmap().name if mapped else None, str(artist.get_hatch()))
    try:
        return (type(artist).__name__, _rgba_key(artist.get_facecolor()),
                _rgba_key(artist.get_edgecolor()), round(float(artist.get_linewidth()), 6),
                str(artist.get_hatch()), str(artist.get_linestyle()))
    except (AttributeError, TypeError, ValueError):   # e.g. a container of ax.bar: unique
        return ("other", id(artist))


def _labelled(ax) -> list:
    """The artists of ``ax`` that a legend lists (label not starting with ``"_"``)."""
    return [a for a in list(ax.lines) + list(ax.collections) + list(ax.patches)
            if a.get_label() and not str(a.get_label()).startswith("_")]


def _clashes(ax, artist, label: str) -> bool:
    """Whether another artist on ``ax`` has ``label`` but looks different from ``artist``."""
    look = _look(artist)
    return any(a is not artist and a.get_label() == label and _look(a) != look
               for a in _labelled(ax))


def _name_series(ax, artist, default: str, label: str | None) -> str:
    """Set the legend label of a series just drawn as ``artist`` and return its suffix.

    The rule (documented under ``label`` of each helper): a series drawn with the default
    label on axes that already hold a series of that label in another look is numbered,
    ``"eigenvalues (2)"``, ``"eigenvalues (3)"``, ... (the first number whose earlier
    series, if any, looks the same: equal looks share one entry); the returned suffix
    (``""`` or ``" (2)"``, ...) is appended to the default names of the series' companions
    (its outliers). A label of the caller's that is already used for another look raises
    ``ValueError`` naming ``label`` (the artist is removed first: nothing stays drawn)."""
    if label is not None:
        if _clashes(ax, artist, label):
            artist.remove()
            raise ValueError(f"label {label!r} is already used on these axes by a series "
                             f"drawn in another style; pass another label (or the same "
                             f"style, to share one legend entry)")
        artist.set_label(label)
        return ""
    k = 1
    while True:
        suffix = "" if k == 1 else f" ({k})"
        if not _clashes(ax, artist, default + suffix):
            artist.set_label(default + suffix)
            return suffix
        k += 1


def _include_drawn_points(ax) -> None:
    """Extend the data limits of ``ax`` so that its autoscaled view holds every point and
    curve drawn in data coordinates with a margin: 6 % of the larger extent, or more on a
    small axes, where it must exceed the largest marker's radius (2.5 radii, at the axes'
    size at the time of the call). Computed from the artists themselves (not from the
    data limits, which hold the margin of an earlier call), so repeated calls do not
    compound it; with ``adjustable="datalim"``, matplotlib adds only 2.5 % of the data
    limits, which left the marker of an outlier half outside the axes."""
    xs, ys, r_px = [], [], 0.0
    for coll in ax.collections:
        if coll.get_offset_transform() is not ax.transData:
            continue
        off = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
        xs.append(off[:, 0])
        ys.append(off[:, 1])
        sizes = coll.get_sizes() if hasattr(coll, "get_sizes") else ()
        if len(off) and len(sizes):
            r_px = max(r_px, float(np.sqrt(np.max(sizes))) / 2 * ax.figure.dpi / 72)
    for line in ax.lines:
        xy = np.asarray(line.get_xydata(), dtype=float).reshape(-1, 2)
        tr = line.get_transform()
        if tr is ax.transData:
            xs.append(xy[:, 0])
            ys.append(xy[:, 1])
        elif tr is ax.get_xaxis_transform(which="grid"):     # axvline: x in data units
            xs.append(xy[:, 0])
        elif tr is ax.get_yaxis_transform(which="grid"):     # axhline: y in data units
            ys.append(xy[:, 1])
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size == 0 or y.size == 0:
        return
    span = max(np.ptp(x), np.ptp(y))
    if not span > 0:
        span = max(1.0, float(np.max(np.abs(np.r_[x, y]))))
    box = ax.get_window_extent()
    frac = max(0.06, 2.5 * r_px / max(min(box.width, box.height), 1.0))
    m = span * min(frac, 0.25)
    ax.update_datalim([(x.min() - m, y.min() - m), (x.max() + m, y.max() + m)])
    ax.autoscale_view()


#: Inside places tried in turn by ``_add_legend`` (matplotlib's location codes 1 to 9).
_INSIDE = ("upper right", "upper left", "lower left", "lower right", "right", "center left",
           "center right", "lower center", "upper center")

#: Axes the legend placement shrank -> their position before, restored on the next call.
_POSITION_BEFORE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _covers_data(ax, bbox) -> bool:
    """Whether a drawn point (its marker disc included) or a data curve of ``ax`` lies under
    ``bbox`` (display coordinates, after a draw). Lines in axes coordinates along one
    direction (``axvline``, ``axhline``) and patches (shaded spans) do not count."""
    from matplotlib.transforms import Bbox
    dpi = ax.figure.dpi
    for coll in ax.collections:
        off = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
        if not len(off) or coll.get_offset_transform() is not ax.transData:
            continue
        xy = ax.transData.transform(off)
        sizes = coll.get_sizes() if hasattr(coll, "get_sizes") else ()
        r = (np.sqrt(np.max(sizes)) / 2 * dpi / 72) if len(sizes) else 0.0
        inside = ((xy[:, 0] > bbox.x0 - r) & (xy[:, 0] < bbox.x1 + r)
                  & (xy[:, 1] > bbox.y0 - r) & (xy[:, 1] < bbox.y1 + r))
        if np.any(inside):
            return True
    for line in ax.lines:
        if line.get_transform() is not ax.transData or not line.get_visible():
            continue
        path = line.get_transform().transform_path(line.get_path())
        if path.intersects_bbox(Bbox(bbox.get_points()), filled=False):
            return True
    return False


def _add_legend(ax, legend, own_figure: bool) -> None:
    """The legend, if asked for, with one entry per label and look, placed as
    ``_LEGEND_AX`` says."""
    if legend is False or legend is None or (isinstance(legend, np.bool_) and not legend):
        return
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for h, lab in zip(handles, labels):
        seen.setdefault((lab, _look(h)), h)
    handles, labels = list(seen.values()), [lab for lab, _ in seen]
    user = dict(legend) if isinstance(legend, dict) else {}
    placed = "loc" in user or "bbox_to_anchor" in user
    if own_figure:
        kw = dict(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        if "bbox_to_anchor" not in user and "loc" in user:
            kw.pop("bbox_to_anchor")
            kw.pop("borderaxespad")
        kw.update(user)
        ax.legend(handles, labels, **kw)
        return
    kw = dict(fontsize=7)
    kw.update(user)
    if placed:
        ax.legend(handles, labels, **kw)
        return
    fig = ax.figure
    before = _POSITION_BEFORE.pop(ax, None)
    if before is not None:              # undo the room an earlier legend of ours made
        ax.set_position(before)
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    fig.draw_without_rendering()        # positions, layout and equal aspect as drawn
    for loc in _INSIDE:
        leg = ax.legend(handles, labels, loc=loc, **kw)
        if not _covers_data(ax, leg.get_window_extent()):
            return
        leg.remove()
    # below the axes, under the tick labels and axis label
    from matplotlib.transforms import ScaledTranslation
    box = ax.get_window_extent()
    pad = 4.0 * fig.dpi / 72
    bottom = ax.get_tightbbox().y0
    below = box.y0 - bottom + pad
    anchor = ax.transAxes + ScaledTranslation(0.0, -below / fig.dpi, fig.dpi_scale_trans)
    for ncols in ((2, 1) if "ncols" not in kw and "ncol" not in kw and len(labels) > 1
                  else (None,)):
        extra = {} if ncols is None else {"ncols": ncols}
        opts = dict(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor,
                    borderaxespad=0.0, **extra)
        opts.update(kw)
        leg = ax.legend(handles, labels, **opts)
        if ncols != 2 or leg.get_window_extent().width <= box.width:
            break
        leg.remove()
    if fig.get_layout_engine() is None:
        # no layout engine to make room: shrink the axes from below by the legend's height,
        # and by what the labels already reached into the figure's edge or the axes below
        floor = fig.bbox.y0
        for other in fig.axes:
            other_box = other.get_window_extent()
            if (other is not ax and other.get_visible() and other_box.y1 <= box.y0
                    and other_box.x0 < box.x1 and other_box.x1 > box.x0):
                floor = max(floor, other.get_tightbbox().y1)
        pos = ax.get_position(original=True)
        lift = leg.get_window_extent().height + pad + max(0.0, floor + pad - bottom)
        dh = min(lift / fig.bbox.height, pos.height / 2)
        _POSITION_BEFORE[ax] = pos.frozen()
        ax.set_position([pos.x0, pos.y0 + dh, pos.width, pos.height - dh])


def _shared(ax) -> bool:
    """Whether ``ax`` shares its x or y axis with another axes (``adjustable="datalim"``
    raises ``RuntimeError`` on those when drawn)."""
    return (len(ax.get_shared_x_axes().get_siblings(ax)) > 1
            or len(ax.get_shared_y_axes().get_siblings(ax)) > 1)


def _twinned(ax) -> bool:
    """Whether ``ax`` was made by, or has, ``twinx()``/``twiny()`` (``adjustable="box"``
    raises ``RuntimeError`` on those when drawn). Matplotlib has no public query for it."""
    group = getattr(ax, "_twinned_axes", None)
    return group is not None and len(group.get_siblings(ax)) > 1


def _equal_aspect_adjustable(ax) -> str:
    """How ``ax`` can take an equal aspect: ``"datalim"``, or ``"box"`` on shared axes,
    ``"datalim"`` again on twinned ones; ``ValueError`` naming ``ax`` if it is twinned and
    shares both axes (matplotlib allows neither then)."""
    if _twinned(ax):
        if (len(ax.get_shared_x_axes().get_siblings(ax)) > 1
                and len(ax.get_shared_y_axes().get_siblings(ax)) > 1):
            raise ValueError("ax is twinned (twinx/twiny) and shares both its x and y axes "
                             "with other axes: matplotlib can give it an equal aspect "
                             "neither by resizing the box nor the data limits; pass axes "
                             "that are not twinned, or that share at most one axis")
        return "datalim"
    return "box" if _shared(ax) else "datalim"


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
        Legend entry of the eigenvalues; the outliers are named ``"outliers (label)"``.
        One legend entry per distinct label and look: a label already used on ``ax`` for
        eigenvalues drawn in another style (colour, marker, size) raises ``ValueError``;
        used with the same style, the two series share the entry. Default:
        ``"eigenvalues"`` (``"multipliers"`` for ``kind="map"``) with outliers
        ``"outliers"``; if ``ax`` already holds a series of that name in another style
        (e.g. a second call, which takes the next colour of the cycle), the series is
        numbered: ``"eigenvalues (2)"`` and ``"outliers (2)"``, then ``(3)``, ...
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
        ``bulk_radius=True``); if ``label`` is already used on ``ax`` for a series in
        another style; if ``ax`` is twinned and shares both its axes (see Notes).

    Notes
    -----
    The axes get an equal aspect ratio by widening the data limits to fill the axes
    (``adjustable="datalim"``, which leaves room for a legend inside them), or, on axes
    that share an axis with others (e.g. ``plt.subplots(1, 2, sharex=True,
    sharey=True)``), by resizing the box (``adjustable="box"``); twinned axes
    (``ax.twinx()``, ``ax.twiny()``, and the axes they were made from) always widen the
    data limits, as matplotlib allows them nothing else (and neither on twinned axes that
    also share both axes: those are refused with ``ValueError``). The limits hold every
    point and curve drawn, with a margin of at least 6 % of the larger extent and at
    least 2.5 times the largest marker's radius (at the axes' size when called; at most
    25 % of the extent). To zoom (e.g. onto the
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
    ax, own = _checked_axes(label, legend, ax)
    adjustable = _equal_aspect_adjustable(ax)
    default = "multipliers" if kind == "map" else "eigenvalues"
    style = dict(s=6, zorder=2)
    style.update(scatter_kwargs)
    points = ax.scatter(lam.real, lam.imag, label="_pending", **style)
    suffix = _name_series(ax, points, default, label)
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
                   zorder=3,
                   label=f"outliers{suffix}" if label is None else f"outliers ({label})")
    symbol = {"gain": "μ", "flow": "λ", "map": "m"}[kind]
    unit = " (1/time)" if kind == "flow" else ""
    ax.set_xlabel(f"Re {symbol}" + unit)
    ax.set_ylabel(f"Im {symbol}" + unit)
    ax.set_aspect("equal", adjustable=adjustable)
    _include_drawn_points(ax)
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
def plot_fixed_point_equation(fixed_points: FixedPoints, *, label: str | None = None,
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
        Legend entry of the curve (default ``"G(z) = W_out φ(x(z)) − z"``). One legend
        entry per distinct label and look: a label already used on ``ax`` for a curve in
        another style raises ``ValueError``; a second curve with the default label in
        another style is numbered ``"... (2)"``, ``"... (3)"``, ...
    {legend_ax}
    **line_kwargs
        Matplotlib styling of the curve, passed to :meth:`matplotlib.axes.Axes.plot`
        (e.g. ``color="k"``, ``lw=1``, ``ls="--"``).

    {returns}
        If ``fixed_points`` has no z-scan (``K > 1``, ``method="slow"``, or a skipped scan)
        (``TypeError`` if it is not :class:`~reservoir.analysis.FixedPoints`), or
        ``label`` is already used on ``ax`` for a curve in another style.
    """
    from .analysis.fixed_points import FixedPoints
    if not isinstance(fixed_points, FixedPoints):
        raise TypeError(f"fixed_points must be FixedPoints, got {type(fixed_points).__name__}")
    fps = fixed_points
    if fps.z_grid.size == 0:
        raise ValueError("fixed_points has no z-scan (K > 1, method='slow', or "
                         "method='auto' at N >= 1000 where the certificate proved "
                         "completeness and the scan was skipped: use "
                         "find_fixed_points(..., method='scan'))")
    ax, own = _checked_axes(label, legend, ax)
    style = dict(color="C0", lw=1.5)
    style.update(line_kwargs)
    (curve,) = ax.plot(fps.z_grid, fps.G_grid, label="_pending", **style)
    _name_series(ax, curve, "G(z) = W_out φ(x(z)) − z", label)
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
