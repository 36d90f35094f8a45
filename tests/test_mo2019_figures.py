"""Figure hygiene of the MO2019 reproduction (issue 15), at tiny sizes.

Every figure is captured where it is saved and inspected independently of the drawing
code: every artist with data (lines, scatters, spans, bars and error bars, the class map's
mesh excepted: its classes are legend patches) carries a label that a legend shows; no
legend box overlaps any axes box in display coordinates after drawing; the stability
boundary drawn is named (``Re = 1`` for the gain eigenvalues of flows, at x = 1); and the
figures of finite networks state N (and the number of networks) in a title.
"""

import contextlib

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402

from reservoir._kernels.blas_threads import thread_budget  # noqa: E402
from reservoir.reproduce import mo2019  # noqa: E402


@contextlib.contextmanager
def captured_figures():
    """Collect ``{name: figure}`` of every figure mo2019 saves inside the block."""
    figs = {}
    original = mo2019.save_figure

    def capture(fig, folder, name, **kw):
        figs[name] = fig
        return original(fig, folder, name, **kw)

    mo2019.save_figure = capture
    try:
        yield figs
    finally:
        mo2019.save_figure = original


def _flatten(obj):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _flatten(o)
    elif obj is not None:
        yield obj


def _has_data(artist):
    if hasattr(artist, "get_xdata"):
        return len(artist.get_xdata()) > 0
    if hasattr(artist, "get_offsets") and len(artist.get_offsets()) > 0:
        return True
    if hasattr(artist, "get_paths"):
        return len(artist.get_paths()) > 0
    return True                                     # patches


def figure_problems(fig, needs_n=True):
    """The hygiene problems of ``fig`` as readable strings (empty: none)."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    problems = []
    shown = set()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    legends += list(fig.legends)
    for leg in legends:
        shown |= {t.get_text() for t in leg.get_texts()}
    boxes = [ax.get_window_extent() for ax in fig.axes]
    for leg in legends:
        lb = leg.get_window_extent()
        for i, b in enumerate(boxes):
            if not (lb.x0 >= b.x1 - 1 or lb.x1 <= b.x0 + 1 or lb.y0 >= b.y1 - 1
                    or lb.y1 <= b.y0 + 1):
                problems.append(f"a legend overlaps axes {i}")
    for i, ax in enumerate(fig.axes):
        inside = {id(a) for c in ax.containers for a in _flatten(list(c))}
        artists = [a for a in list(ax.lines) + list(ax.collections) + list(ax.patches)
                   if id(a) not in inside and not isinstance(a, QuadMesh) and _has_data(a)]
        labels = [a.get_label() for a in artists] + [c.get_label() for c in ax.containers]
        for lab in labels:
            if lab.startswith("_") or lab not in shown:
                problems.append(f"axes {i}: an artist labelled {lab!r} is not in a legend")
    if needs_n:
        titles = [ax.get_title() for ax in fig.axes]
        if fig._suptitle is not None:
            titles.append(fig._suptitle.get_text())
        if not any("N = " in t for t in titles):
            problems.append("no title states N")
    return problems


def _boundary_named(fig, value=1.0, vertical=True):
    """Some axes has a vertical (horizontal) line at ``value`` whose label names the
    stability boundary."""
    for ax in fig.axes:
        for line in ax.lines:
            d = np.asarray(line.get_xdata() if vertical else line.get_ydata(), float)
            if d.size and np.all(d == value) and "stability boundary" in line.get_label():
                return True
    return False


def test_hygiene_checker_finds_problems(tmp_path):
    """The checker is not vacuous: an unlabelled boundary, a legend over the data and a
    missing N are each reported."""
    from reservoir.reproduce._figures import subplots
    fig, ax = subplots(figsize=(4, 3))
    ax.scatter([0.0, 1.0], [0.0, 1.0], label="points")
    ax.axvline(1.0, ls=":")
    ax.legend(loc="center")
    p = figure_problems(fig)
    assert any("overlaps" in s for s in p)
    assert any("not in a legend" in s for s in p)
    assert "no title states N" in p
    assert not _boundary_named(fig)


_VARY_A_INPUTS = []


@pytest.fixture(scope="module")
def small_figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("mo2019_figures")
    with thread_budget(1), captured_figures() as figs:
        theory = mo2019.sweep_theory(np.linspace(-2.0, 2.0, 9))
        nets = mo2019.sweep_networks([-2.0, 1.0], 60, 1)
        mo2019.figure_vary_A(theory, nets, str(out))
        _VARY_A_INPUTS[:] = [theory, nets]
        spectra = mo2019.spectra_data(100)
        mo2019.figure_spectra(spectra, str(out))
        chaos = mo2019.bulk_chaos_data(np.linspace(-2.0, 2.0, 5), [0.0, 2.0], 40, 1)
        mo2019.figure_bulk_chaos(chaos, str(out))
        mo2019.figure_geometry([0.5, 1.0], str(out))
    return figs, spectra


@pytest.mark.parametrize("name", ["mo2019_vary_A", "mo2019_spectra", "mo2019_bulk_chaos",
                                  "mo2019_geometry_line"])
def test_figure_hygiene(small_figures, name):
    figs, _ = small_figures
    assert figure_problems(figs[name], needs_n=name != "mo2019_geometry_line") == []


def test_spectra_name_the_boundary_and_state_n_and_seed(small_figures):
    figs, spectra = small_figures
    fig = figs["mo2019_spectra"]
    assert _boundary_named(fig, 1.0)
    title = fig._suptitle.get_text()
    assert f"N = {spectra[0]['N']}" in title and f"seed {spectra[0]['seed']}" in title
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "eigenvalues, network" in labels and "Re = 1 (stability boundary)" in labels


def test_vary_A_names_the_boundary(small_figures):
    figs, _ = small_figures
    fig = figs["mo2019_vary_A"]
    assert _boundary_named(fig, 1.0, vertical=False)      # outlier against A: the line y = 1
    assert "N = 60" in fig._suptitle.get_text() and "2 networks" in fig._suptitle.get_text()


def test_vary_A_draws_no_outlier_inside_the_bulk(small_figures):
    """The theory's outlier is drawn as "outlier (theory)" only where it lies outside the
    bulk (|outlier| > bulk radius, from the theory rows); the networks' top eigenvalues at
    fixed points whose theory outlier is inside the bulk carry their own label (bulk
    eigenvalue). The grid contains such fixed points (A = -2, 2), so the test can fail."""
    figs, _ = small_figures
    theory, nets = _VARY_A_INPUTS
    inside = [(r["A"], o) for r in theory for o, b in zip(r["outlier"], r["bulk"])
              if abs(o) <= b]
    outside = [(r["A"], o) for r in theory for o, b in zip(r["outlier"], r["bulk"])
               if abs(o) > b]
    assert inside and outside
    ax = figs["mo2019_vary_A"].axes[1]
    drawn = {lab: c.get_offsets() for c in ax.collections
             if (lab := c.get_label()) and not lab.startswith("_")}
    theory_pts = np.concatenate([v for k, v in drawn.items()
                                 if k.startswith("outlier (theory)")])
    assert len(theory_pts) == len(outside)
    for a, o in inside:
        assert not np.any(np.all(np.isclose(theory_pts, [a, o], atol=1e-12), axis=1))
    net_in = [r for r in nets if abs(r["outlier"]["theory"]) <= r["bulk_radius"]["theory"]]
    net_out = [r for r in nets if abs(r["outlier"]["theory"]) > r["bulk_radius"]["theory"]]
    assert net_in and net_out
    bulk_lab = [k for k in drawn if k.startswith("top eigenvalue, networks, where the theory")]
    out_lab = [k for k in drawn if k.startswith("outlier (top eigenvalue), networks")]
    np.testing.assert_allclose(
        np.asarray(drawn[bulk_lab[0]]),
        [[r["A"], r["outlier"]["simulation"]] for r in net_in], atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(drawn[out_lab[0]]),
        [[r["A"], r["outlier"]["simulation"]] for r in net_out], atol=1e-12)
