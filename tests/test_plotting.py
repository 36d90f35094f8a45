"""Figure hygiene of the plotting helpers (issue 15): the legend lies outside the axes (over
no data), every drawn symbol is in it, the stability boundary drawn is the one that applies
to the kind of eigenvalue and is named, and the helpers draw on a given ``ax`` and return it.

The geometry is checked independently of the helpers' code: the boundary curves' data are
tested against their equations (``|lambda| = 1``, ``Re lambda = 1``, ``Re lambda = 0``) and the
legend's box against the axes' box in display coordinates after drawing."""

import dataclasses

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import reservoir as rs  # noqa: E402

LAM = np.array([0.1 + 0.2j, 0.1 - 0.2j, -0.3, 0.5, 1.5])


def _legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _drawn_labels(ax):
    """Labels of every line, collection and patch with data (what the legend must list)."""
    artists = list(ax.lines) + list(ax.collections) + list(ax.patches)
    return [a.get_label() for a in artists]


def _legend_outside(ax):
    fig = ax.figure
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    box = ax.get_window_extent()
    # no overlap of the two boxes (a pixel of slack for rounding)
    return leg.x0 >= box.x1 - 1 or leg.x1 <= box.x0 + 1 or leg.y0 >= box.y1 - 1 \
        or leg.y1 <= box.y0 + 1


@pytest.mark.parametrize("kind, boundaries", [
    ("map", {"unit circle (stability boundary)": "circle"}),
    ("gain", {"Re = 1 (stability boundary)": 1.0}),
    ("flow", {"Re = 0 (stability boundary)": 0.0}),
])
def test_plot_spectrum_names_the_boundary_that_applies(kind, boundaries):
    fig, ax = plt.subplots(figsize=(4, 4))
    out = rs.plotting.plot_spectrum(LAM, kind=kind, bulk_radius=0.5, outliers=[1.5], ax=ax)
    assert out is ax
    lines = {line.get_label(): line for line in ax.lines}
    for label, shape in boundaries.items():
        x, y = (np.asarray(d, float) for d in lines[label].get_data())
        if shape == "circle":
            np.testing.assert_allclose(np.hypot(x, y), 1.0, atol=1e-12)
        else:
            np.testing.assert_array_equal(x, shape)
    # no boundary of another kind is drawn
    others = {"map": ("Re = 1", "Re = 0"), "gain": ("Re = 0", "unit circle"),
              "flow": ("unit circle", "Re = 1")}
    assert not any(lab.startswith(o) for lab in lines for o in others[kind])
    # every symbol drawn is in the legend, and the legend covers no data
    drawn = _drawn_labels(ax)
    assert all(not lab.startswith("_") for lab in drawn), drawn
    assert sorted(_legend_labels(ax)) == sorted(drawn)
    assert _legend_outside(ax)
    plt.close(fig)


def test_plot_spectrum_without_ax_makes_a_figure_that_holds_the_legend():
    ax = rs.plotting.plot_spectrum(LAM, kind="map")
    fig = ax.figure
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    fig_box = fig.bbox
    assert _legend_outside(ax)
    assert leg.x1 <= fig_box.x1 + 1 and leg.y0 >= fig_box.y0 - 1   # inside the figure
    plt.close(fig)


def test_plot_fixed_point_equation_legend_lists_everything_and_covers_nothing():
    # a scalar feedback network (one unit per readout direction): W_out phi(x(z)) - z with
    # three roots, as in test_global_stability
    net = rs.Network(J=np.zeros((2, 2)), W_in=np.zeros((2, 1)), W_fb=np.array([[2.0], [2.0]]),
                     W_out=np.array([[0.5, 0.5]]), b=np.zeros(2), phi="tanh", tau=1.0,
                     dt=0.1)
    fps = rs.find_fixed_points(net, u=[0.0])
    # mark part of the scan unreliable, to check the shading is named too
    fps = dataclasses.replace(fps, unreliable=((0.2, 0.4, "test"),))
    fig, ax = plt.subplots(figsize=(4, 3))
    assert rs.plotting.plot_fixed_point_equation(fps, ax=ax) is ax
    drawn = _drawn_labels(ax)
    assert all(not lab.startswith("_") for lab in drawn), drawn
    assert sorted(_legend_labels(ax)) == sorted(drawn)
    assert "scan unreliable" in drawn and "G = 0 (fixed points)" in drawn
    assert _legend_outside(ax)
    plt.close(fig)
