"""The plotting helpers (issues 15 and 17): they draw on a given ``ax`` and return it, add a
legend only when asked and then place it where it covers no data (inside the axes, or below
them when no place inside is free) and stays in its own panel, keep every marker inside the
axes, list every drawn symbol once per label and look, work on shared and twinned axes,
draw the stability boundary that applies (named), accept matplotlib styling keywords, and
check their arguments before drawing anything.

The geometry is checked independently of the helpers' code: the boundary curves' data against
their equations (``|lambda| = 1``, ``Re = 1``, ``Re = 0``, and for the Euler map the multiplier
``|1 - alpha + alpha mu| = 1`` computed directly), the points inside the drawn Euler circle
against :attr:`Spectrum.stable_map`, and the legend's box against the axes' boxes and the data
points in display coordinates after drawing."""

import dataclasses

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.path import Path  # noqa: E402

import reservoir as rs  # noqa: E402

LAM = np.array([0.1 + 0.2j, 0.1 - 0.2j, -0.3, 0.5, 1.5])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _drawn_labels(ax):
    """Labels of every line, collection and patch drawn (what the legend must list)."""
    artists = list(ax.lines) + list(ax.collections) + list(ax.patches)
    return [a.get_label() for a in artists]


def _boxes_overlap(a, b, slack=1.0):
    return not (a.x0 >= b.x1 - slack or a.x1 <= b.x0 + slack or a.y0 >= b.y1 - slack
                or a.y1 <= b.y0 + slack)


def _inside(inner, outer, slack=1.0):
    return (inner.x0 >= outer.x0 - slack and inner.x1 <= outer.x1 + slack
            and inner.y0 >= outer.y0 - slack and inner.y1 <= outer.y1 + slack)


def _marker_radius_px(coll, fig):
    """Radius in pixels of the largest marker of a scatter (``s`` is the area in pt^2)."""
    return np.sqrt(np.max(coll.get_sizes())) / 2 * fig.dpi / 72


def _points_under_legend(ax):
    """Data points (of every scatter on ``ax``) whose marker disc reaches into the legend."""
    ax.figure.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    n = 0
    for coll in ax.collections:
        xy = ax.transData.transform(coll.get_offsets())
        r = _marker_radius_px(coll, ax.figure)
        n += int(np.sum((xy[:, 0] > leg.x0 - r) & (xy[:, 0] < leg.x1 + r)
                        & (xy[:, 1] > leg.y0 - r) & (xy[:, 1] < leg.y1 + r)))
    return n


def _markers_outside_axes(ax):
    """Data points whose marker disc is not wholly inside the axes box (after drawing)."""
    ax.figure.canvas.draw()
    box = ax.get_window_extent()
    n = 0
    for coll in ax.collections:
        xy = ax.transData.transform(coll.get_offsets())
        r = _marker_radius_px(coll, ax.figure)
        n += int(np.sum((xy[:, 0] - r < box.x0) | (xy[:, 0] + r > box.x1)
                        | (xy[:, 1] - r < box.y0) | (xy[:, 1] + r > box.y1)))
    return n


def _check_legend_placement(ax):
    """The legend of ``ax`` covers none of its points, lies inside the figure and off every
    other axes, and is either inside ``ax`` or wholly below it and its x-axis labels."""
    fig = ax.figure
    assert _points_under_legend(ax) == 0
    leg = ax.get_legend().get_window_extent()
    assert _inside(leg, fig.bbox)
    for other in fig.axes:
        if other is not ax:
            assert not _boxes_overlap(leg, other.get_tightbbox()), other
    box = ax.get_window_extent()
    if not _inside(leg, box):
        assert leg.y1 <= box.y0 + 1.0
        assert not _boxes_overlap(leg, ax.xaxis.get_tightbbox())
    return _inside(leg, box)


# ---------------------------------------------------------------- plot_spectrum: boundaries
@pytest.mark.parametrize("kind, label, shape", [
    ("map", "unit circle (stability boundary)", "circle"),
    ("gain", "Re = 1 (stability boundary)", 1.0),
    ("flow", "Re = 0 (stability boundary)", 0.0),
])
def test_plot_spectrum_names_the_boundary_that_applies(kind, label, shape):
    fig, ax = plt.subplots(figsize=(4, 4))
    out = rs.plotting.plot_spectrum(LAM, kind=kind, bulk_radius=0.5, outliers=[1.5], ax=ax,
                                    legend=True)
    assert out is ax
    lines = {line.get_label(): line for line in ax.lines}
    x, y = (np.asarray(d, float) for d in lines[label].get_data())
    if shape == "circle":
        np.testing.assert_allclose(np.hypot(x, y), 1.0, atol=1e-12)
    else:
        np.testing.assert_array_equal(x, shape)
    bulk = lines["predicted bulk edge (radius 0.5)"]
    np.testing.assert_allclose(np.hypot(*bulk.get_data()), 0.5, atol=1e-12)
    # exactly one stability boundary, the one of this kind
    assert sum("stability boundary" in lab for lab in lines) == 1
    # the eigenvalues and the outliers where they are
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[LAM.real, LAM.imag])
    np.testing.assert_allclose(ax.collections[1].get_offsets(), [[1.5, 0.0]])
    # every symbol drawn is in the legend, once
    drawn = _drawn_labels(ax)
    assert all(not lab.startswith("_") for lab in drawn), drawn
    assert sorted(_legend_labels(ax)) == sorted(drawn)


@pytest.mark.parametrize("alpha", [0.2, 0.5, 1.0])
def test_plot_spectrum_draws_the_euler_maps_circle_for_alpha(alpha):
    fig, ax = plt.subplots(figsize=(4, 4))
    rs.plotting.plot_spectrum(LAM, kind="gain", alpha=alpha, ax=ax, legend=True)
    (boundary,) = [ln for ln in ax.lines if "stability boundary" in ln.get_label()]
    mu = np.asarray(boundary.get_xdata(), float) + 1j * np.asarray(boundary.get_ydata(), float)
    # independent: the Euler map's multiplier 1 - alpha + alpha mu is on the unit circle
    np.testing.assert_allclose(np.abs(1 - alpha + alpha * mu), 1.0, atol=1e-12)
    # the whole circle is drawn (its extent is 2/alpha wide), and Re = 1 is not
    np.testing.assert_allclose([mu.real.min(), mu.real.max()], [1 - 2 / alpha, 1.0],
                               atol=1e-12)
    assert not any(ln.get_label().startswith("Re = 1") for ln in ax.lines)
    assert f"dt/τ = {alpha:g}" in boundary.get_label()
    assert boundary.get_label() in _legend_labels(ax)


def test_plot_spectrum_euler_label_states_the_equation():
    ax = rs.plotting.plot_spectrum(LAM, alpha=0.2)
    (boundary,) = [ln for ln in ax.lines if "stability boundary" in ln.get_label()]
    assert "|μ + 4| = 5" in boundary.get_label()


def test_inside_the_drawn_euler_circle_is_spectrum_stable_map():
    """The region the drawn boundary encloses is the one Spectrum.stable_map calls stable."""
    gen = np.random.default_rng(3)
    fig, ax = plt.subplots()
    for i in range(6):
        net = rs.random_network(N=30, g=[0.6, 0.9, 1.2, 1.5, 2.0, 2.5][i], n_inputs=1,
                                n_outputs=1, tau=1.0, dt=0.2, rng=i)
        spec = rs.spectrum(net, 0.3 * gen.standard_normal(net.N), u=[0.0], mode="open")
        rs.plotting.plot_spectrum(spec.eigenvalues, alpha=net.alpha, ax=ax)
        (boundary,) = [ln for ln in ax.lines if "stability boundary" in ln.get_label()]
        path = Path(np.c_[boundary.get_xdata(), boundary.get_ydata()])
        inside = path.contains_points(np.c_[spec.eigenvalues.real, spec.eigenvalues.imag])
        assert bool(np.all(inside)) == spec.stable_map, (i, spec.stable_map)


def test_plot_spectrum_alpha_only_for_gain():
    with pytest.raises(ValueError, match="alpha"):
        rs.plotting.plot_spectrum(LAM, kind="map", alpha=0.5)
    with pytest.raises(ValueError, match="alpha"):
        rs.plotting.plot_spectrum(LAM, alpha=0.0)
    with pytest.raises(TypeError, match="alpha"):
        rs.plotting.plot_spectrum(LAM, alpha="0.5")


# ---------------------------------------------------------------- legends
def test_no_legend_unless_asked():
    ax = rs.plotting.plot_spectrum(LAM)
    assert ax.get_legend() is None
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(LAM, ax=ax, legend=False)
    assert ax.get_legend() is None


def test_legends_on_two_panels_stay_in_their_panel_and_off_the_data():
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
    for ax, kind in zip(axes, ("map", "gain")):
        rs.plotting.plot_spectrum(LAM, kind=kind, bulk_radius=0.6, legend=True, ax=ax)
    fig.canvas.draw()
    for ax in axes:
        _check_legend_placement(ax)


def test_legend_dict_is_passed_to_matplotlib():
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(LAM, ax=ax, legend={"loc": "lower left", "fontsize": 6})
    leg = ax.get_legend()
    assert leg._loc == 3 and leg.get_texts()[0].get_fontsize() == 6


def test_legend_on_own_figure_is_outside_the_axes_inside_the_figure():
    ax = rs.plotting.plot_spectrum(LAM, kind="map", legend=True)
    fig = ax.figure
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    assert not _boxes_overlap(leg, ax.get_window_extent())
    assert _inside(leg, fig.bbox)


def _bulk_with_outlier():
    """A bulk of radius about 1 (a 100 x 100 Gaussian matrix / 10) and an outlier at 1.4."""
    gen = np.random.default_rng(0)
    return np.linalg.eigvals(gen.standard_normal((100, 100)) / 10), np.array([1.4])


def test_legend_on_a_2x2_grid_of_small_panels_covers_no_point():
    """The reviewer's case: four panels of about 2 x 2 inches with a four-entry legend each,
    which does not fit inside next to the eigenvalue disk: it goes below each panel."""
    lam, outl = _bulk_with_outlier()
    fig, axes = plt.subplots(2, 2, figsize=(6, 6))
    for ax in axes.flat:
        rs.plotting.plot_spectrum(lam, ax=ax, legend=True, bulk_radius=1.0, outliers=outl)
    fig.canvas.draw()
    for ax in axes.flat:
        assert _points_under_legend(ax) == 0
        inside = _check_legend_placement(ax)
        assert not inside          # no corner of these panels holds it
        # every drawn symbol listed, and every marker (the outlier's too) wholly visible
        assert sorted(_legend_labels(ax)) == sorted(_drawn_labels(ax))
        assert _markers_outside_axes(ax) == 0
        # the equal aspect holds on the shrunk axes: one data unit is as long in x and y
        box = ax.get_window_extent()
        np.testing.assert_allclose(np.ptp(ax.get_xlim()) / box.width,
                                   np.ptp(ax.get_ylim()) / box.height, rtol=1e-6)


def test_legend_goes_inside_where_a_corner_is_free():
    """Eigenvalues in the left half only: the upper right corner is free, and is taken."""
    fig, ax = plt.subplots(figsize=(6, 6))
    lam = np.array([-1.0, -0.8 + 0.3j, -0.8 - 0.3j, -0.5, 0.0, 1.0])
    rs.plotting.plot_spectrum(lam, kind="flow", ax=ax, legend=True)
    assert _check_legend_placement(ax)
    leg = ax.get_legend().get_window_extent()
    box = ax.get_window_extent()
    assert leg.x0 > box.x0 + box.width / 2 and leg.y0 > box.y0 + box.height / 2


def test_a_second_legend_call_does_not_shrink_the_axes_again():
    lam, outl = _bulk_with_outlier()
    fig, axes = plt.subplots(2, 2, figsize=(6, 6))
    ax = axes[0, 0]
    before = ax.get_position().bounds
    rs.plotting.plot_spectrum(lam, ax=ax, legend=True, bulk_radius=1.0, outliers=outl)
    once = ax.get_position().bounds
    assert once[3] < before[3]                        # made room for the legend below
    rs.plotting.plot_spectrum(0.5 * lam, ax=ax, legend=True)
    # the room made is that for the last legend only: as if the first had not been asked
    fig2, axes2 = plt.subplots(2, 2, figsize=(6, 6))
    rs.plotting.plot_spectrum(lam, ax=axes2[0, 0], bulk_radius=1.0, outliers=outl)
    rs.plotting.plot_spectrum(0.5 * lam, ax=axes2[0, 0], legend=True)
    np.testing.assert_allclose(ax.get_position().bounds, axes2[0, 0].get_position().bounds,
                               rtol=1e-9)
    assert ax.get_position().height > before[3] / 2
    _check_legend_placement(ax)


def test_legend_below_with_a_layout_engine_leaves_the_axes_to_the_engine():
    lam, outl = _bulk_with_outlier()
    fig, axes = plt.subplots(2, 2, figsize=(6, 6), layout="constrained")
    for ax in axes.flat:
        rs.plotting.plot_spectrum(lam, ax=ax, legend=True, bulk_radius=1.0, outliers=outl)
    fig.canvas.draw()
    for ax in axes.flat:
        _check_legend_placement(ax)
        assert _markers_outside_axes(ax) == 0


def test_legend_dict_with_loc_overrides_the_placement_and_without_keeps_it():
    lam, outl = _bulk_with_outlier()
    fig, axes = plt.subplots(2, 2, figsize=(6, 6))
    rs.plotting.plot_spectrum(lam, ax=axes[0, 0], legend={"loc": "center"})
    assert _points_under_legend(axes[0, 0]) > 0       # exactly where asked, unchecked
    rs.plotting.plot_spectrum(lam, ax=axes[0, 1], bulk_radius=1.0, outliers=outl,
                              legend={"fontsize": 6, "title": "spectrum"})
    leg = axes[0, 1].get_legend()
    assert leg.get_texts()[0].get_fontsize() == 6 and leg.get_title().get_text() == "spectrum"
    _check_legend_placement(axes[0, 1])


@pytest.mark.parametrize("figsize", [(2.0, 2.0), (6.0, 4.0)])
def test_limits_hold_every_marker_and_do_not_grow_with_repeated_calls(figsize):
    lam, outl = _bulk_with_outlier()
    fig, ax = plt.subplots(figsize=figsize)
    rs.plotting.plot_spectrum(lam, ax=ax, bulk_radius=1.0, outliers=outl)
    fig.canvas.draw()
    assert _markers_outside_axes(ax) == 0
    limits = ax.get_xlim() + ax.get_ylim()
    for _ in range(3):      # the same points again: the margin must not compound
        rs.plotting.plot_spectrum(lam, ax=ax, bulk_radius=1.0, outliers=outl, color="C0")
    fig.canvas.draw()
    np.testing.assert_allclose(ax.get_xlim() + ax.get_ylim(), limits, rtol=1e-12)
    # every point, with its marker, at least a marker's diameter from the edges
    box = ax.get_window_extent()
    for coll in ax.collections:
        xy = ax.transData.transform(coll.get_offsets())
        gap = np.min(np.r_[xy[:, 0] - box.x0, box.x1 - xy[:, 0], xy[:, 1] - box.y0,
                           box.y1 - xy[:, 1]])
        assert gap >= 2 * _marker_radius_px(coll, fig) - 1e-9


# ---------------------------------------------------------------- twinned axes
def test_twinned_axes_take_an_equal_aspect_with_datalim():
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(LAM, ax=ax)
    twin = rs.plotting.plot_spectrum(0.5 * LAM, ax=ax.twinx())
    rs.plotting.plot_spectrum(LAM, kind="map", ax=ax)      # the original, now twinned too
    fig.canvas.draw()              # 'box' raises RuntimeError on twinned axes here
    for a in (ax, twin):
        assert a.get_adjustable() == "datalim"
        box = a.get_window_extent()
        np.testing.assert_allclose(np.ptp(a.get_xlim()) / box.width,
                                   np.ptp(a.get_ylim()) / box.height, rtol=1e-6)


def test_twinned_axes_sharing_both_axes_are_refused_naming_ax():
    fig, axes = plt.subplots(1, 2, sharey=True)
    axes[0].twinx()                # axes[0]: x shared with its twin, y with axes[1]
    with pytest.raises(ValueError, match="ax is twinned"):
        rs.plotting.plot_spectrum(LAM, ax=axes[0])
    assert len(axes[0].collections) == 0                   # refused before drawing


# ---------------------------------------------------------------- styling, repeated calls
def test_styling_keywords_label_and_two_calls_on_one_axes():
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(LAM, kind="map", bulk_radius=0.5, ax=ax, label="before")
    rs.plotting.plot_spectrum(0.5 * LAM, kind="map", bulk_radius=0.5, ax=ax, label="after",
                              color="r", marker="x", s=30, outliers=[0.75], legend=True)
    before, after, outl = ax.collections
    assert to_rgba("r") == tuple(after.get_edgecolor()[0]) or \
        to_rgba("r") == tuple(after.get_facecolor()[0])
    assert not np.allclose(before.get_facecolor()[0], after.get_facecolor()[0])
    np.testing.assert_allclose(after.get_sizes(), [30])
    # each boundary once, each label once
    assert [ln.get_label() for ln in ax.lines].count("unit circle (stability boundary)") == 1
    assert len(ax.lines) == 2
    labels = _legend_labels(ax)
    assert len(labels) == len(set(labels))
    assert {"before", "after", "outliers (after)"} <= set(labels)
    # the outliers take their eigenvalues' colour
    np.testing.assert_allclose(outl.get_edgecolor()[0], to_rgba("r"))


def _legend_entries(ax):
    """Legend text -> (face colour, edge colour) of its handle, as RGBA rows."""
    leg = ax.get_legend()
    handles = getattr(leg, "legend_handles", None) or leg.legendHandles
    out = {}
    for text, h in zip(leg.get_texts(), handles):
        if hasattr(h, "get_offsets"):
            out[text.get_text()] = (np.asarray(h.get_facecolor()).reshape(-1, 4),
                                    np.asarray(h.get_edgecolor()).reshape(-1, 4))
    return out


def _same_colour(a, b):
    return len(a) == len(b) and (len(a) == 0 or np.allclose(a[0], b[0]))


def test_two_default_calls_give_two_legend_entries_each_in_its_colour():
    """Two spectra on one axes take two colours: both series and both sets of outliers are
    in the legend, each entry showing its series' colour (read from the drawn artists)."""
    lam, _ = _bulk_with_outlier()
    fig, ax = plt.subplots(figsize=(6, 6))
    rs.plotting.plot_spectrum(lam, ax=ax, outliers=[1.5])
    rs.plotting.plot_spectrum(0.5 * lam, ax=ax, outliers=[-1.2], legend=True)
    labels = _legend_labels(ax)
    assert {"eigenvalues", "outliers", "eigenvalues (2)", "outliers (2)"} <= set(labels)
    assert len(labels) == len(set(labels)) == len(ax.collections) + len(ax.lines)
    entries = _legend_entries(ax)
    for coll in ax.collections:        # every scatter: an entry of its own colours
        face, edge = entries[coll.get_label()]
        assert _same_colour(face, coll.get_facecolor())
        assert _same_colour(edge, coll.get_edgecolor())
    first, _, second, _ = ax.collections
    assert not np.allclose(first.get_facecolor()[0], second.get_facecolor()[0])
    _check_legend_placement(ax)


def test_series_of_one_label_and_look_share_an_entry():
    lam, _ = _bulk_with_outlier()
    fig, ax = plt.subplots(figsize=(6, 6))
    for k in range(3):                 # e.g. three networks of an ensemble, one colour
        rs.plotting.plot_spectrum((0.5 + 0.2 * k) * lam, ax=ax, color="C0", outliers=[1.5])
    for k in range(2):
        rs.plotting.plot_spectrum(0.3 * lam, ax=ax, color="C2", marker="x", label="g = 0.3")
    rs.plotting.plot_spectrum(0.2 * lam, ax=ax, color="C1", legend=True)   # numbered
    labels = _legend_labels(ax)
    assert sorted(labels) == sorted(["eigenvalues", "outliers", "g = 0.3", "eigenvalues (2)",
                                     "Re = 1 (stability boundary)"])


def test_a_label_reused_in_another_style_is_refused_and_nothing_drawn():
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(LAM, ax=ax, label="trained")
    n = len(ax.collections)
    with pytest.raises(ValueError, match="label 'trained'"):
        rs.plotting.plot_spectrum(0.5 * LAM, ax=ax, label="trained", color="r")
    assert len(ax.collections) == n
    fps = _three_root_fps()
    fig, ax = plt.subplots()
    rs.plotting.plot_fixed_point_equation(fps, ax=ax, label="scan")
    with pytest.raises(ValueError, match="label 'scan'"):
        rs.plotting.plot_fixed_point_equation(fps, ax=ax, label="scan", color="k")
    rs.plotting.plot_fixed_point_equation(fps, ax=ax, color="k", legend=True)
    labels = _legend_labels(ax)
    assert "scan" in labels and "G(z) = W_out φ(x(z)) − z" in labels


def test_shared_axes_take_an_equal_aspect_without_error():
    fig, axes = plt.subplots(1, 2, sharex=True, sharey=True)
    for ax in axes:
        rs.plotting.plot_spectrum(LAM, kind="map", ax=ax)
    fig.canvas.draw()   # datalim on shared axes raises RuntimeError here
    assert all(ax.get_adjustable() == "box" for ax in axes)


# ---------------------------------------------------------------- input checks
def test_ax_must_be_axes_and_is_checked_before_drawing():
    fig = plt.figure()
    with pytest.raises(TypeError, match="ax"):
        rs.plotting.plot_spectrum(LAM, ax=plt)
    assert fig.axes == []          # nothing drawn into the current figure
    with pytest.raises(TypeError, match="ax"):
        rs.plotting.plot_fixed_point_equation(_three_root_fps(), ax=fig)
    assert fig.axes == []


@pytest.mark.parametrize("kwargs, err, name", [
    (dict(eigenvalues=[]), ValueError, "eigenvalues"),
    (dict(eigenvalues=[[1, 2]]), ValueError, "eigenvalues"),
    (dict(eigenvalues=[np.nan]), ValueError, "eigenvalues"),
    (dict(eigenvalues=["a"]), TypeError, "eigenvalues"),
    (dict(bulk_radius=True), TypeError, "bulk_radius"),
    (dict(bulk_radius=-1.0), ValueError, "bulk_radius"),
    (dict(outliers=[np.inf]), ValueError, "outliers"),
    (dict(kind="polar"), ValueError, "kind"),
    (dict(label=3), TypeError, "label"),
    (dict(legend="yes"), TypeError, "legend"),
])
def test_plot_spectrum_bad_input(kwargs, err, name):
    kw = dict(eigenvalues=LAM)
    kw.update(kwargs)
    with pytest.raises(err, match=name):
        rs.plotting.plot_spectrum(**kw)


def test_plot_spectrum_accepts_empty_outliers():
    ax = rs.plotting.plot_spectrum(LAM, outliers=[])
    assert len(ax.collections) == 1


# ---------------------------------------------------------------- plot_fixed_point_equation
def _three_root_fps():
    # a scalar feedback network (one unit per readout direction): W_out phi(x(z)) - z with
    # three roots, as in test_global_stability
    net = rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 1)), W_fb=np.array([[2.0], [2.0]]),
                     W_out=np.array([[0.5, 0.5]]), b=np.zeros(2), phi="tanh", tau=1.0,
                     dt=0.1)
    return rs.find_fixed_points(net, u=[0.0], method="scan")


def _groups(ax):
    """Legend label -> x positions of the points drawn with it."""
    return {c.get_label(): np.asarray(c.get_offsets())[:, 0] for c in ax.collections
            if c.get_label() and not c.get_label().startswith("_")}


def test_plot_fixed_point_equation_legend_lists_everything_and_covers_nothing():
    fps = _three_root_fps()
    # mark part of the scan unreliable, to check the shading is named too
    fps = dataclasses.replace(fps, unreliable=((0.2, 0.4, "test"),))
    fig, ax = plt.subplots(figsize=(4, 3))
    assert rs.plotting.plot_fixed_point_equation(fps, ax=ax) is ax
    assert ax.get_legend() is None
    rs.plotting.plot_fixed_point_equation(fps, ax=ax, legend=True, color="k", lw=1,
                                          label="second scan")
    drawn = _drawn_labels(ax)
    assert all(not lab.startswith("_") for lab in drawn), drawn
    assert sorted(_legend_labels(ax)) == sorted(set(drawn))
    assert "scan unreliable" in drawn and "G = 0 (fixed points)" in drawn
    assert drawn.count("G = 0 (fixed points)") == 1          # drawn once per axes
    assert ax.lines[-1].get_label() == "second scan"
    assert to_rgba(ax.lines[-1].get_color()) == to_rgba("k")
    # three roots: the outer two stable, the middle one unstable
    groups = _groups(ax)
    assert set(groups) == {"stable", "unstable"}
    np.testing.assert_allclose(np.sort(groups["stable"]), np.sort(fps.z[fps.stable, 0]))
    np.testing.assert_allclose(groups["unstable"], fps.z[~fps.stable, 0])
    _check_legend_placement(ax)


def test_marginal_and_unknown_points_have_their_own_marker_and_entry():
    """A ReLU line attractor (W_fb W_out of gain 1): the origin sits on the kink, stability
    'unknown'; the points along the line are 'marginal'. None is stable or unstable, so
    neither of those entries may appear."""
    net = rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 1)), W_fb=np.array([[1.0], [1.0]]),
                     W_out=np.array([[0.5, 0.5]]), b=np.zeros(2), phi="relu", tau=1.0,
                     dt=0.1)
    fps = rs.find_fixed_points(net, u=[0.0], z_range=(-2.0, 2.0))
    stability = fps.stability[fps.is_fixed]
    z = fps.z[fps.is_fixed, 0]
    assert "marginal" in set(stability) and "unknown" in set(stability)
    fig, ax = plt.subplots()
    rs.plotting.plot_fixed_point_equation(fps, ax=ax, legend=True)
    groups = _groups(ax)
    assert set(groups) == {"marginal (linear stability undecided)", "stability unknown"}
    np.testing.assert_allclose(np.sort(groups["marginal (linear stability undecided)"]),
                               np.sort(z[stability == "marginal"]))
    np.testing.assert_allclose(groups["stability unknown"], z[stability == "unknown"])
    labels = _legend_labels(ax)
    assert "stable" not in labels and "unstable" not in labels
    markers = {c.get_label(): c.get_paths()[0] for c in ax.collections}
    assert not np.allclose(markers["stability unknown"].vertices[:4],
                           markers["marginal (linear stability undecided)"].vertices[:4])


def test_zoom_recipe_of_the_docstring_keeps_the_limits_without_warnings(caplog):
    """plot_spectrum's Notes: set_aspect(adjustable="box"), then the limits, which are kept
    (with "datalim", matplotlib logs "Ignoring fixed x limits" and moves them)."""
    import warnings
    fig, ax = plt.subplots()
    rs.plotting.plot_spectrum(0.1 * LAM, alpha=0.1, ax=ax)
    ax.set_aspect("equal", adjustable="box")
    ax.set(xlim=(-1.2, 1.2), ylim=(-0.9, 0.9))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()
    np.testing.assert_allclose(ax.get_xlim(), (-1.2, 1.2))
    np.testing.assert_allclose(ax.get_ylim(), (-0.9, 0.9))
    assert not [r for r in caplog.records if "Ignoring" in r.getMessage()]
