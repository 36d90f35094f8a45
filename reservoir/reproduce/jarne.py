"""Reproduce Jarne's results on the spectra and dynamics of BPTT-trained networks.

    python scripts/reproduce_jarne.py [--out DIR] [--quick] [--threads N]
    reservoir.reproduce.jarne.run(out, quick=False, threads=1)   # from Python: the same

Sources: C. Jarne (2023), *Exploring weight initialization, diversity of solutions, and
degradation in recurrent neural networks trained for temporal and decision-making tasks*,
J. Comput. Neurosci. 51:407-431 (with R. Laje; the gate and flip-flop tasks, Keras
``SimpleRNN`` networks trained by BPTT from random-normal and orthogonal recurrent
weights), and Jarne's lecture on the properties and dynamics of BPTT-trained RNNs (the
seed of issue 15). The networks are the discrete maps ``h[t+1] = tanh(J h[t] + W_in u[t])``
of :func:`reservoir.jarne_network` and :func:`reservoir.dale_network` (``tau = dt``), so the
stability boundary of the linearisation at the origin is the **unit circle** for the
eigenvalues of ``J``.

The rule used throughout (:func:`spectrum_summary`):

* the *dominant* eigenvalues are those outside the unit circle, ``|lambda| > 1`` (the
  lecture's definition: they set the dynamics);
* the *radii of the bulk* (the non-dominant eigenvalues) are percentiles of the moduli of
  **all** eigenvalues: inner radius = 5th percentile, outer radius = 90th percentile. A few
  outliers (fewer than 10 % of N) barely move the 90th percentile (at N = 20 a complex
  pair of them weighs 10 % in its linear interpolation), and using all eigenvalues keeps
  the claim "radius below 1" from being true by construction (a percentile of the moduli
  below 1 would be). For the uniform disk of the circular law the ratio inner/outer is
  ``sqrt(0.05 / 0.9) = 0.236``; for a ring it is close to 1.
* the *outliers* are the eigenvalues standing out of the bulk, whatever its shape: the
  bulk is fitted as a uniform annulus (a disk or a ring) to the 10th and 80th percentiles
  of ``|lambda|^2``, and an outlier lies beyond its edge by more than 4 ``D / sqrt(N)`` in
  ``|lambda|^2`` (``D`` the annulus' width in ``|lambda|^2``; the finite-N smearing of the
  circular law's edge; details in :func:`spectrum_summary`). A ring that straddles the unit
  circle (trained orthogonal networks: ``|lambda|`` up to about 1.07) or a bulk disk of
  radius above 1 (balanced Dale networks) has no outliers for it; a few eigenvalues
  standing out of the disk or ring are outliers. Outliers and dominant eigenvalues are
  separate counts: the lecture's dominant eigenvalues (outside the unit circle) are the
  ones the dynamics prediction uses. A network with 10 % of N or more outliers is
  flagged (``bulk_contaminated``, counted in the statistics): its outer radius may
  measure the outliers rather than a bulk. The independence claims leave flagged
  networks out; the disk claim keeps them (their eigenvalues count against "radius below
  1", so keeping them cannot make it pass); the ring claim does not use the flag.
* the *disk radius* (the edge of the bulk read as a circular-law disk) is the outer radius
  divided by ``sqrt(0.9)``: the 90th percentile of a uniform disk of radius R is
  ``sqrt(0.9) R = 0.949 R``, so comparing the percentile itself with 1 would let a disk of
  radius exactly 1 pass "radius below 1". An untrained N(0, 1/N) matrix at N = 40 gives
  a disk radius of about 1.01 (the edge is smeared at finite N).

The dynamics implied by the dominant eigenvalues (:func:`predicted_dynamics`), read from
the *leading* one (largest modulus): none -> the origin is a stable fixed point; real ->
fixed points (the state leaves the origin along its direction and saturates); complex ->
an oscillation of period about ``2 pi dt / |arg lambda|``; real negative -> an
oscillation of period ``2 dt`` (the state flips sign every step: the angle pi of the same
formula). A leading complex pair whose period ``P`` is longer than the classified window
``W`` is checked only where the window can refute it: over ``W <= P`` an oscillation of
amplitude ``A`` moves the state by at least ``A (1 - cos(pi W / P))``
(:func:`slow_oscillation_amplitude_bound`), so a network at rest after every stimulus
(range below 1e-6 in every unit) whose allowed hidden amplitude is at most
:data:`SLOW_OSCILLATION_AMPLITUDE_MAX` = 1e-3 is counted as tested (a mismatch: it does
not oscillate); one that still moves (converging, growing, irregular or oscillating
faster) is compatible with a slow oscillation and is left out of the claim's count
(``testable: false``; ``testable_reason`` and ``slow_oscillation_amplitude_bound`` are
recorded per network). What the network does (:func:`classify_dynamics`): after each
test stimulus, the trial's final state is run without input; the late part of
the run is classified as ``"fixed_point"``, ``"converging"`` (still decaying towards one),
``"oscillation"`` (regular zero crossings, with the measured period), ``"growing"`` or
``"irregular"``.

Figures (PNG and PDF):

* ``jarne_spectra``: eigenvalues of ``J`` before and after training, per task (AND, OR,
  XOR, flip-flop) and initialisation (normal, orthogonal), all networks of a cell overlaid
  (successful ones dark and on top, unsuccessful ones as light, small red crosses below
  them), the unit circle and the mean inner and outer radii drawn.
* ``jarne_radii``: the bulk radius against N (per initialisation) and against the
  excitatory fraction of Dale networks (per Dale initialisation): the disk radius for the
  disks (normal J, Dale normal and balanced J), the outer radius for the rings (orthogonal
  J, Dale orthogonal J); after training the mean and standard deviation over the networks
  the independence claims use, annotated with their number ``n`` (``n=0`` at the bottom
  where none is usable), each successful network as a dot, the excluded ones
  (``bulk_contaminated``) as black crosses; before training the mean.
* ``jarne_dynamics``: one panel per trained network (rows: task and initialisation,
  columns: realisations): its readout running freely after each test stimulus, titled with
  the dominant eigenvalues, the predicted and the measured dynamics and the verdict
  (MISMATCH, or untestable: a predicted period longer than the window while the network
  still moves; time in ms, readout minus its mean in readout units).
* ``jarne_dale_spectra``: spectra of Dale networks, per excitatory fraction and Dale
  initialisation, before and after training.

``jarne.json``: every network's spectrum summary before and after training (the same
network: ``seed`` and ``N`` recorded), accuracy and success, dominant eigenvalues,
predicted and measured dynamics (the period as a ``{"theory", "simulation"}`` pair), fixed
points; and ``claims``: each of the lecture's claims as ``{"claim", "measured", "agrees",
"decided"}`` with N, the number of networks and the rule that decides ``agrees``.

**The verdict convention.** A decided claim has ``"decided": true`` and ``"agrees"``
true or false. A claim the data cannot decide (fewer than :data:`MIN_NETWORKS` = 4 usable
networks in a group, or a difference or interval not resolved at the stated precision)
has ``"agrees": null``, ``"decided": false`` and a ``"note"`` saying why: it is neither
confirmed nor refuted. The rules:

* ``normal_init_spectrum``: disk of radius below 1, on the disk radius (above) of all
  successful networks: agrees if its mean + 2 standard errors < 1 and inner/outer < 0.5,
  disagrees if the mean - 2 standard errors > 1 or inner/outer >= 0.5, else undecided
  (an untrained circular-law J of radius 1 does not pass); the spectra before training
  (same networks), the paired change of the disk radius and the number of eigenvalues
  outside the unit circle before and after are recorded beside it.
  ``orthogonal_init_spectrum``: ring near the unit circle (inner/outer >= 0.7 and
  |outer - 1| <= 0.1; the contamination flag is not used);
* ``size_independence_<init>`` and ``fraction_independence_dale_<init>``: the trained
  outer radius does not depend on N or on the excitatory fraction. Networks with a
  contaminated bulk (10 % or more outliers) are left out (their outer radius measures
  outliers); each group needs 4 networks. With ``d`` a difference of two group means and ``se`` its
  standard error: agrees if ``|d| + 2 se <= 0.05`` for every pair
  (:data:`RADIUS_TOL`), disagrees if ``|d| - 2 se > 0.05`` for some pair, else
  undecided;
* ``dominant_eigenvalues_predict_dynamics``: over the testable networks (above: a
  predicted oscillation slower than the window counts when the network is at rest), agrees
  if the Wilson 95 % interval of the
  fraction of networks whose measured dynamics match the prediction has its LOWER bound
  at or above 0.8 (:data:`PREDICTION_MIN`), disagrees if its upper bound is below 0.8,
  else undecided; ``oscillation_period_from_leading_eigenvalue`` (median relative error
  <= 0.1, at least 4 oscillating networks);
  ``different_realisations_different_dynamics`` (some task/initialisation cell shows two
  or more classes, converging and fixed point counted as one class);
* ``dale_<init>_shrinkage_from_training`` (the E/I radius is smaller than the
  unconstrained one after training, and less than half of that shrinkage is present
  before training) and ``dale_orthogonal_ring`` (Dale networks from an orthogonal J keep
  a ring): the issue's reading of Jarne's E/I spectra, with the spectra before training
  to separate what the initialisation does from what training does.

``--quick``: 2 ms steps (as :mod:`~reservoir.reproduce.training_comparison`), N = 40,
5 networks per task and initialisation (600 training trials, 25 epochs; flip-flop 300
trials of 1010 ms, 40 epochs), sizes N = 20, 40, 80 on XOR with 10 networks per size and
initialisation (the 5 XOR networks at N = 40 and 5 more), Dale fractions 0.5 and 0.8 with
10 networks per Dale initialisation (about two minutes of single-thread CPU time). Full: 1 ms
steps, N = 50, 10 networks per cell, 4000 trials (flip-flop 1500), 30 epochs (flip-flop
40), sizes 50, 100, 200, Dale fractions 0.5, 0.65, 0.8 (not run yet; estimated one to two
hours on one core). A network is *successful* when its test accuracy
(:func:`reservoir.tasks.response_accuracy`; :func:`reservoir.tasks.flip_flop_accuracy` for
the flip-flop) is at least 0.95; the claims are judged on the successful networks only.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time

import numpy as np

import reservoir as rs
from reservoir._checks import as_float_array, as_positive_float
from reservoir._kernels.blas_threads import thread_budget
from reservoir._progress import progress_bar
from reservoir.reproduce._figures import (check_out_quick_threads, main_out_quick_threads,
                                          parser_out_quick_threads, require_matplotlib,
                                          save_figure, subplots, write_json)
from reservoir.reproduce._stats import wilson_interval

__all__ = ["run", "main", "build_parser", "SpectrumSummary", "spectrum_summary",
           "predicted_dynamics", "DynamicsClass", "classify_dynamics", "TASKS", "INITS",
           "DALE_INITS", "SUCCESS_THRESHOLD", "slow_oscillation_amplitude_bound"]

logger = logging.getLogger(__name__)

#: Output folder of the command line when ``--out`` is not given.
DEFAULT_OUT = "out/jarne"
#: The tasks of the spectra (generators of :mod:`reservoir.tasks`).
TASKS = ("and_", "or_", "xor", "flip_flop")
#: Initial recurrent weights of the unconstrained networks (:func:`reservoir.jarne_network`).
INITS = ("normal", "orthogonal")
#: Laws of ``J`` of the Dale networks (:func:`reservoir.dale_network`).
DALE_INITS = ("normal", "orthogonal", "balanced")
#: Test accuracy at or above which a trained network counts as successful.
SUCCESS_THRESHOLD = 0.95
#: Percentiles of ``|lambda|`` giving the inner and outer radius of the bulk.
INNER_PERCENTILE, OUTER_PERCENTILE = 5.0, 90.0
#: A network with at least this fraction of its eigenvalues beyond the bulk's edge
#: (outliers, :func:`spectrum_summary`) has no bulk radius (flagged ``bulk_contaminated``).
CONTAMINATED_FRACTION = 0.1
#: Percentiles of ``|lambda|^2`` to which the uniform annulus of the bulk is fitted
#: (:func:`spectrum_summary`): robust to up to 20 % of the eigenvalues outside the bulk.
BULK_FIT_PERCENTILES = (10.0, 80.0)
#: An outlier lies beyond the fitted edge by more than this many ``D / sqrt(N)`` in
#: ``|lambda|^2`` (``D``: the fitted width of the annulus in ``|lambda|^2``, ``R^2`` for a
#: disk of radius R). Calibrated on untrained N(0, 1/N) matrices: about 1 % of them have
#: an eigenvalue beyond at N = 40-80, 2 % at N = 20 (the circular law's edge is smeared at
#: finite N by about R / sqrt(N)).
OUTLIER_MARGIN = 4.0
#: Moduli within this of 1 are on the unit circle, not outside it (the eigenvalues of an
#: orthogonal matrix come out of LAPACK within ~1e-15 of 1, on both sides).
UNIT_CIRCLE_TOL = 1e-9
#: Thresholds of the claims (stated in the JSON beside each claim).
DISK_RATIO_MAX = 0.5          # inner/outer below this: a disk (circular law: 0.236)
RING_RATIO_MIN = 0.7          # inner/outer above this: a ring
RING_RADIUS_TOL = 0.1         # "near 1": |outer - 1| at most this
PREDICTION_MIN = 0.8          # dominant eigenvalues predict the dynamics: Wilson LOWER >=
#: A predicted oscillation slower than the classified window is still tested (a mismatch)
#: when the network rests after every stimulus and an oscillation of that period could
#: only hide in the window with an amplitude at most this (state units; the state of
#: ``tanh`` units is in (-1, 1); :func:`slow_oscillation_amplitude_bound`).
SLOW_OSCILLATION_AMPLITUDE_MAX = 1e-3
#: Fewest usable (successful; for radius comparisons also not ``bulk_contaminated``)
#: networks per group for a claim to be decided.
MIN_NETWORKS = 4
#: Precision of the independence claims: "does not depend" is decided true when every
#: pair of group means differs by less than this, 2 standard errors included, and false
#: when some pair differs by more than this, 2 standard errors included (radius units).
RADIUS_TOL = 0.05
#: For a uniform disk of radius R the 90th percentile of |lambda| is sqrt(0.9) R: the
#: disk edge (circular-law radius) is the outer radius divided by this.
DISK_EDGE_FACTOR = float(np.sqrt(OUTER_PERCENTILE / 100.0))


# ------------------------------------------------------------------ spectrum and dynamics

@dataclasses.dataclass(frozen=True)
class SpectrumSummary:
    """The dominant eigenvalues and the bulk's radii of one recurrent matrix.

    Attributes
    ----------
    dominant : ndarray of complex, shape (n_dominant,)
        Eigenvalues outside the unit circle, ``|lambda| > 1``, by decreasing modulus (the
        lecture's dominant eigenvalues: they set the dynamics of the map).
    inner_radius, outer_radius : float
        The 5th and 90th percentiles of ``|lambda|`` over all eigenvalues (dimensionless).
    ring_ratio : float
        ``inner_radius / outer_radius`` (0.236 for a uniform disk, near 1 for a ring; 0
        when the outer radius is 0).
    max_modulus : float
        The spectral radius.
    n_eigenvalues : int
        N.
    bulk_contaminated : bool
        At least 10 % of the eigenvalues are outliers (beyond the bulk's edge): the outer
        radius then measures them, not a bulk. A ring or disk that merely straddles the
        unit circle is not flagged.
    disk_radius : float
        The edge of the bulk read as a circular-law disk: ``outer_radius / sqrt(0.9)``
        (the radius of the uniform disk whose 90th percentile of ``|lambda|`` is the
        outer radius; dimensionless). A disk of radius exactly 1 gives about 1, not the
        0.949 of its 90th percentile.
    outliers : ndarray of complex, shape (n_outliers,)
        Eigenvalues standing out of the bulk (beyond ``outlier_threshold``), by decreasing
        modulus; inside or outside the unit circle.
    bulk_edge : float
        Outer edge of the uniform annulus (a disk when its inner edge is 0) fitted to the
        10th and 80th percentiles of ``|lambda|^2`` (dimensionless).
    outlier_threshold : float
        The modulus beyond which an eigenvalue is an outlier: ``sqrt(bulk_edge^2 + 4 D /
        sqrt(N))`` (:func:`spectrum_summary`).
    """

    dominant: np.ndarray
    inner_radius: float
    outer_radius: float
    ring_ratio: float
    max_modulus: float
    n_eigenvalues: int
    bulk_contaminated: bool
    disk_radius: float
    outliers: np.ndarray
    bulk_edge: float
    outlier_threshold: float

    @property
    def n_dominant(self) -> int:
        """Number of eigenvalues outside the unit circle."""
        return int(self.dominant.size)

    @property
    def n_outliers(self) -> int:
        """Number of eigenvalues beyond the bulk's edge (outliers)."""
        return int(self.outliers.size)

    def to_dict(self) -> dict:
        """JSON-ready: the numbers, the dominant eigenvalues as ``[re, im]`` pairs."""
        return {"inner_radius": self.inner_radius, "outer_radius": self.outer_radius,
                "ring_ratio": self.ring_ratio, "max_modulus": self.max_modulus,
                "n_dominant": self.n_dominant, "n_eigenvalues": self.n_eigenvalues,
                "bulk_contaminated": self.bulk_contaminated,
                "disk_radius": self.disk_radius, "bulk_edge": self.bulk_edge,
                "outlier_threshold": self.outlier_threshold, "n_outliers": self.n_outliers,
                "dominant": [[float(v.real), float(v.imag)] for v in self.dominant],
                "outliers": [[float(v.real), float(v.imag)] for v in self.outliers]}


def spectrum_summary(eigenvalues) -> SpectrumSummary:
    """Dominant eigenvalues (outside the unit circle) and bulk radii of a spectrum.

    The rule of the module docstring (Jarne's lecture: the eigenvalues outside the unit
    circle dominate the dynamics of the map ``h -> tanh(J h)``): dominant =
    ``|lambda| > 1 + 1e-9`` (:data:`UNIT_CIRCLE_TOL`: rounding of eigenvalues on the circle
    is not "outside"); inner radius = 5th, outer radius = 90th percentile of ``|lambda|``
    over all eigenvalues (``numpy.percentile``, linear interpolation); disk radius = outer
    radius / sqrt(0.9) (the edge of a circular-law disk with that 90th percentile).

    The outliers (eigenvalues standing out of the bulk, whether or not they are outside
    the unit circle) are separated from a bulk of either shape, disk or ring: the bulk is
    read as a uniform annulus, ``|lambda|^2`` uniform on ``[a, a + D]`` (``a = 0``: the
    circular law's disk; ``D`` small: a ring), fitted to the 10th and 80th percentiles
    ``q10``, ``q80`` of ``|lambda|^2`` (:data:`BULK_FIT_PERCENTILES`: up to 20 % of
    outliers do not move the fit): ``D = (q80 - q10) / 0.7`` and bulk edge ``E^2 = q80 +
    0.2 D``. An outlier has ``|lambda|^2 > E^2 + 4 D / sqrt(N)`` (:data:`OUTLIER_MARGIN`;
    at least ``1e-9 E^2``): the edge of a finite circular-law disk is smeared by about
    ``R / sqrt(N)``, and about 1 % of untrained N(0, 1/N) matrices at N = 40-80 (2 % at N =
    20) have an eigenvalue beyond the threshold. A ring just straddling the unit circle is
    a bulk, not outliers; a few eigenvalues standing out of a disk or a ring are outliers.

    Parameters
    ----------
    eigenvalues : array_like, shape (N,)
        The eigenvalues (real or complex, finite), e.g. ``numpy.linalg.eigvals(J)``.

    Returns
    -------
    SpectrumSummary

    Raises
    ------
    TypeError
        If ``eigenvalues`` is not numeric.
    ValueError
        If it is not one-dimensional, is empty or has NaN or infinite entries, or if a
        modulus or a radius overflows float64 (entries near 1e308). The radii are
        computed on the spectrum divided by its largest ``|re|`` or ``|im|`` and scaled
        back, so any other finite spectrum (1e200 as well as 1e-200) is summarised
        without overflow or underflow of ``|lambda|^2``.
    """
    try:
        lam = np.asarray(eigenvalues)
    except Exception as exc:   # pragma: no cover - numpy raises on exotic inputs only
        raise TypeError(f"eigenvalues must be an array of numbers ({exc})") from None
    if lam.dtype == object or not (np.issubdtype(lam.dtype, np.number)):
        raise TypeError(f"eigenvalues must be an array of numbers, got dtype {lam.dtype}")
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    lam = lam.astype(complex)
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues must be finite (no NaN or infinity)")
    # the moduli divided by their largest component (no overflow in |lambda| below the
    # float range, nor in |lambda|^2 of the bulk fit; no underflow of tiny spectra)
    scale = float(np.max(np.maximum(np.abs(lam.real), np.abs(lam.imag))))
    if scale > 0:
        mod_s = np.abs(lam / scale)
    else:
        scale, mod_s = 1.0, np.abs(lam)
    with np.errstate(over="ignore"):
        mod = mod_s * scale
    if not np.all(np.isfinite(mod)):
        raise ValueError("eigenvalues are too large: their moduli overflow float64 (largest "
                         f"|re| or |im| = {scale:.3g}); rescale them")
    order = np.argsort(-mod_s, kind="stable")
    dominant = lam[order][mod[order] > 1.0 + UNIT_CIRCLE_TOL]
    inner_s = float(np.percentile(mod_s, INNER_PERCENTILE))
    outer_s = float(np.percentile(mod_s, OUTER_PERCENTILE))
    edge2_s, threshold2_s = _bulk_edge(mod_s)
    outliers = lam[order][mod_s[order] ** 2 > threshold2_s]
    with np.errstate(over="ignore"):
        radii = {"inner_radius": inner_s * scale, "outer_radius": outer_s * scale,
                 "disk_radius": outer_s / DISK_EDGE_FACTOR * scale,
                 "bulk_edge": float(np.sqrt(edge2_s)) * scale,
                 "outlier_threshold": float(np.sqrt(threshold2_s)) * scale}
    bad = [k for k, v in radii.items() if not np.isfinite(v)]
    if bad:
        raise ValueError(f"eigenvalues are too large: {', '.join(bad)} would overflow "
                         f"float64 (largest modulus {float(mod.max()):.3g}); rescale them")
    return SpectrumSummary(
        dominant=dominant, ring_ratio=inner_s / outer_s if outer_s > 0 else 0.0,
        max_modulus=float(mod.max()), n_eigenvalues=int(lam.size),
        bulk_contaminated=bool(outliers.size >= CONTAMINATED_FRACTION * lam.size),
        outliers=outliers, **{k: float(v) for k, v in radii.items()})


def _bulk_edge(mod):
    """``(edge^2, threshold^2)`` of the bulk of the moduli ``mod`` (rule of
    :func:`spectrum_summary`): a uniform annulus, ``|lambda|^2`` uniform on ``[a, a + D]``,
    fitted to two percentiles of ``|lambda|^2``; its edge ``a + D``; the outlier threshold
    ``a + D + OUTLIER_MARGIN * D / sqrt(N)``, at least ``UNIT_CIRCLE_TOL`` relative above
    the edge (rounding of an exact ring is not an outlier)."""
    lo, hi = BULK_FIT_PERCENTILES
    q_lo, q_hi = np.percentile(mod ** 2, [lo, hi])
    width = (q_hi - q_lo) / ((hi - lo) / 100.0)
    edge2 = q_hi + (1.0 - hi / 100.0) * width
    margin = max(OUTLIER_MARGIN * width / np.sqrt(mod.size), UNIT_CIRCLE_TOL * edge2)
    return float(edge2), float(edge2 + margin)


def predicted_dynamics(dominant, dt: float = 1.0):
    """The autonomous dynamics that the dominant eigenvalues imply (Jarne's lecture).

    Read from the leading dominant eigenvalue (largest modulus): none -> ``"fixed_point"``
    (the origin is stable); real positive -> ``"fixed_point"`` (the state leaves the
    origin along its direction and saturates at fixed points); complex -> ``"oscillation"``,
    with the linear period ``2 pi dt / |arg lambda|``; real negative -> ``"oscillation"``
    of period ``2 dt`` (the angle pi of the same formula: the map ``h -> tanh(lambda h)``
    with ``lambda < -1`` flips sign every step). The rule of Jarne & Laje's analysis of
    trained networks (Jarne 2023, J. Comput. Neurosci. 51:407-431, and the lecture), with
    the negative real case of a map added.

    Parameters
    ----------
    dominant : array_like of complex, shape (n,)
        The dominant eigenvalues (e.g. :attr:`SpectrumSummary.dominant`); may be empty.
    dt : float
        Time step of the map (> 0; ms for Jarne's tasks).

    Returns
    -------
    (str, float or None)
        ``"fixed_point"`` or ``"oscillation"``, and the period (units of ``dt``; None for a
        fixed point).

    Raises
    ------
    TypeError
        If ``dominant`` is not an array of real or complex numbers.
    ValueError
        If ``dominant`` is not 1-D or not finite, or ``dt`` is not positive.
    """
    dt = as_positive_float(dt, "dt")
    try:
        lam = np.asarray(dominant)
    except Exception as exc:   # pragma: no cover - ragged or exotic input
        raise TypeError(f"dominant must be a 1-D array of real or complex numbers ({exc})"
                        ) from None
    if lam.dtype.kind not in "iufc":
        raise TypeError("dominant must be a 1-D array of real or complex numbers, got "
                        f"dtype {lam.dtype} ({type(dominant).__name__})")
    lam = lam.astype(complex)
    if lam.ndim != 1:
        raise ValueError(f"dominant must be a 1-D array, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("dominant must be finite (no NaN or infinity)")
    # LAPACK returns the real eigenvalues of a real matrix with an exact zero imaginary part
    if lam.size == 0:
        return "fixed_point", None
    lead = lam[np.argmax(np.abs(lam))]
    if abs(lead.imag) <= 1e-12 * max(abs(lead), 1.0):
        if lead.real > 0:
            return "fixed_point", None
        return "oscillation", 2.0 * dt        # angle pi: 2 pi dt / pi
    return "oscillation", float(2 * np.pi * dt / abs(np.angle(lead)))


@dataclasses.dataclass(frozen=True)
class DynamicsClass:
    """What a free run does in its late window (:func:`classify_dynamics`).

    Attributes
    ----------
    kind : str
        ``"fixed_point"``, ``"converging"``, ``"oscillation"``, ``"growing"`` or
        ``"irregular"``.
    period : float or None
        Measured period (units of ``dt``) for ``"oscillation"``, else None.
    amplitude : float
        Peak-to-peak range of the state over the window, the largest over the units
        (state units).
    decay : float
        Ratio of that range in the second half of the window to the first half
        (< 1: decaying; 0 when the first half is constant).
    n_crossings : int
        Zero crossings of the mean-removed leading principal component.
    """

    kind: str
    period: float | None
    amplitude: float
    decay: float
    n_crossings: int


def classify_dynamics(x, dt: float = 1.0, *, settle_tol: float = 1e-6,
                      decay_ratio: float = 0.5, regularity: float = 0.25) -> DynamicsClass:
    """Classify the late part of an autonomous trajectory: fixed point, oscillation, ...

    With ``a`` the peak-to-peak range over time (largest over the units) of ``x`` and
    ``a1``, ``a2`` that range in the first and the second half of the window:

    1. ``a < settle_tol``: ``"fixed_point"``;
    2. ``a2 < decay_ratio a1``: ``"converging"`` (still decaying towards a fixed point);
    3. ``a2 > a1 / decay_ratio``: ``"growing"``;
    4. the mean-removed leading principal component crosses zero at least 4 times and the
       intervals between crossings (linearly interpolated times) have a coefficient of
       variation below ``regularity``: ``"oscillation"`` with period = twice the mean
       interval;
    5. otherwise ``"irregular"``.

    A sinusoid of period ``P`` steps sampled at any phase has interpolated half-periods
    within a fraction of a step of ``P / 2``, so the measured period is accurate to about
    ``1/P`` of itself per crossing, averaged over the window.

    Parameters
    ----------
    x : array_like, shape (T, N)
        The states (or rates) of the late window, one row per step (T >= 8).
    dt : float
        Time step (> 0); the period is in its units.
    settle_tol : float
        Range below which the window is a fixed point (state units, >= 0).
    decay_ratio : float
        In (0, 1): the ratio of the halves' ranges that counts as decaying (growing).
    regularity : float
        Largest coefficient of variation of the half-periods of an oscillation (> 0).

    Returns
    -------
    DynamicsClass

    Raises
    ------
    TypeError, ValueError
        If ``x`` is not a finite real (T, N) array with T >= 8, its range overflows float64
        (values near +-1e308), or a number is out of range.
    """
    x = as_float_array(x, "x", 2)
    if x.shape[0] < 8 or x.shape[1] < 1:
        raise ValueError(f"x must have at least 8 steps and 1 unit, got shape {x.shape}")
    dt = as_positive_float(dt, "dt")
    settle_tol = as_positive_float(settle_tol, "settle_tol", allow_zero=True)
    decay_ratio = as_positive_float(decay_ratio, "decay_ratio")
    if decay_ratio >= 1:
        raise ValueError(f"decay_ratio must be in (0, 1), got {decay_ratio}")
    regularity = as_positive_float(regularity, "regularity")
    T = x.shape[0]
    # work on x / max|x| (in [-1, 1]: no overflow in ranges, means or the SVD for any
    # finite x); only the amplitude is scaled back, and refused if it is not representable
    scale = float(np.max(np.abs(x)))
    if scale > 0:
        x = x / scale
    amp_s = float(np.max(np.ptp(x, axis=0)))
    with np.errstate(over="ignore"):
        amp = amp_s * scale
    if not np.isfinite(amp):
        raise ValueError("x is too large: the range of its values overflows float64 "
                         f"(max |x| = {scale:.3g}); rescale x")
    a1 = float(np.max(np.ptp(x[: T // 2], axis=0)))
    a2 = float(np.max(np.ptp(x[T // 2:], axis=0)))
    decay = a2 / a1 if a1 > 0 else 0.0
    xc = x - x.mean(axis=0)
    if amp_s > 0:
        _, _, vt = np.linalg.svd(xc, full_matrices=False)
        y = xc @ vt[0]
    else:
        y = np.zeros(T)
    s = np.signbit(y)
    idx = np.flatnonzero(s[1:] != s[:-1])
    # crossing time by linear interpolation between steps i and i + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(y[idx + 1] != y[idx], y[idx] / (y[idx] - y[idx + 1]), 0.0)
    times = idx + frac
    n_cross = int(times.size)
    if amp < settle_tol:          # amp_s * scale: the same comparison as before scaling
        return DynamicsClass("fixed_point", None, amp, decay, n_cross)
    if a2 < decay_ratio * a1:
        return DynamicsClass("converging", None, amp, decay, n_cross)
    if a1 > 0 and a2 > a1 / decay_ratio:
        return DynamicsClass("growing", None, amp, decay, n_cross)
    if n_cross >= 4:
        gaps = np.diff(times)
        if np.std(gaps) < regularity * np.mean(gaps):
            return DynamicsClass("oscillation", float(2 * np.mean(gaps) * dt), amp, decay,
                                 n_cross)
    return DynamicsClass("irregular", None, amp, decay, n_cross)


def _agrees(predicted, measured):
    """Does the measured class match the predicted one (converging is a fixed point)?"""
    if predicted == "fixed_point":
        return measured in ("fixed_point", "converging")
    return measured == predicted


def slow_oscillation_amplitude_bound(amplitude, period, window):
    """Largest amplitude of an oscillation of ``period`` hidden in a window of range
    ``amplitude``: ``amplitude / (1 - cos(pi window / period))``.

    Over a window of length ``W <= P`` the sinusoid ``A cos(2 pi t / P + phi)`` has a
    peak-to-peak range of at least ``A (1 - cos(pi W / P))`` (the least when the window is
    centred on an extremum), so a trajectory whose range over the window is ``a`` cannot
    carry such an oscillation with ``A`` above this bound. Used by the dynamics claim
    (module docstring): a network predicted to oscillate with a period longer than the
    classified window, but measured at rest, is a tested mismatch when the bound is at
    most :data:`SLOW_OSCILLATION_AMPLITUDE_MAX`.

    Parameters
    ----------
    amplitude : float
        Peak-to-peak range measured over the window (>= 0; state units), e.g. the largest
        :attr:`DynamicsClass.amplitude` over the stimuli.
    period : float
        Period of the hidden oscillation (> 0; the units of ``window``).
    window : float
        Length of the window (> 0, at most ``period``).

    Returns
    -------
    float
        The bound on the amplitude ``A`` (half the peak-to-peak range; state units);
        infinite when ``window / period`` is so small that ``1 - cos`` underflows.

    Raises
    ------
    TypeError, ValueError
        If a number is not a finite float in its range (``window > period`` included:
        the window then holds a whole period, and the measured range bounds ``2 A``).
    """
    amplitude = as_positive_float(amplitude, "amplitude", allow_zero=True)
    period = as_positive_float(period, "period")
    window = as_positive_float(window, "window")
    if window > period:
        raise ValueError(f"window must be at most period ({period}), got {window}")
    # 1 - cos(x) = 2 sin(x / 2)^2, without the cancellation of 1 - cos for small x
    moved = 2.0 * np.sin(0.5 * np.pi * window / period) ** 2
    if moved == 0.0:           # the window is too short to bound anything
        return float("inf")
    return float(amplitude / moved)


def _testability(period, window, classes):
    """``(testable, bound, reason)`` of one network's dynamics prediction (rule of the
    module docstring): testable if no oscillation is predicted or its period fits in the
    window; a slower predicted oscillation is testable only when every stimulus leaves the
    network at rest (``"fixed_point"``) and the hidden amplitude it allows
    (:func:`slow_oscillation_amplitude_bound` of the largest range) is at most
    :data:`SLOW_OSCILLATION_AMPLITUDE_MAX`; otherwise the measurement is compatible with
    a slow oscillation and the network is untestable."""
    if period is None:
        return True, None, "fixed point predicted"
    if period <= window:
        return True, None, "predicted period within the window"
    amp = max(c.amplitude for c in classes)
    bound = slow_oscillation_amplitude_bound(amp, period, window)
    if all(c.kind == "fixed_point" for c in classes) and \
            bound <= SLOW_OSCILLATION_AMPLITUDE_MAX:
        return True, bound, ("predicted period longer than the window, but at rest after "
                             "every stimulus: an oscillation of that period would have "
                             f"amplitude <= {bound:.2g}")
    return False, bound, ("predicted period longer than the window and the state not at "
                          "rest: compatible with a slow oscillation")


# ------------------------------------------------------------------------ the experiments

def _config(quick):
    if quick:
        return {"dt": 2.0, "N": 40, "n_networks": 5, "n_train": 600, "n_train_ff": 300,
                "epochs": 25, "epochs_ff": 40, "lr": 2e-3, "batch_size": 32,
                "sizes": (20, 40, 80), "n_sizes": 10, "fractions": (0.5, 0.8), "n_dale": 10,
                "n_test": 200, "free_ms": 3000.0, "window_ms": 1000.0}
    return {"dt": 1.0, "N": 50, "n_networks": 10, "n_train": 4000, "n_train_ff": 1500,
            "epochs": 30, "epochs_ff": 40, "lr": 1e-3, "batch_size": 64,
            "sizes": (50, 100, 200), "n_sizes": 10, "fractions": (0.5, 0.65, 0.8),
            "n_dale": 10,
            "n_test": 400, "free_ms": 4000.0, "window_ms": 1500.0}


def _seed(*key):
    return np.random.default_rng(np.random.SeedSequence(15, spawn_key=tuple(key)))


def _tasks(cfg, names):
    data = {}
    for name in names:
        k = TASKS.index(name)          # the same trials whichever tasks are run
        gen = getattr(rs.tasks, name)
        n = cfg["n_train_ff"] if name == "flip_flop" else cfg["n_train"]
        data[name] = (gen(n, noise_std=0.1, dt=cfg["dt"], rng=_seed(100, k)),
                      gen(cfg["n_test"] if name != "flip_flop" else cfg["n_test"] // 4,
                          noise_std=0.1, dt=cfg["dt"], rng=_seed(200, k)))
    return data


def _stimulus_trials(test):
    """Indices of the test trials whose final states start the free runs: one per gate
    trial type, or two flip-flop trials ending at different levels."""
    if "trial_types" in test.info:
        kinds = np.asarray(test.info["trial_types"])
        return [int(np.flatnonzero(kinds == k)[0]) for k in np.unique(kinds)]
    last = np.asarray(test.info["channels"])[:, -1]
    return [int(np.flatnonzero(last == c)[0]) for c in np.unique(last)]


def _train_one(net, task, cfg, name, gen):
    epochs = cfg["epochs_ff"] if name == "flip_flop" else cfg["epochs"]
    res = rs.train.bptt(net, task, epochs=epochs, lr=cfg["lr"], batch_size=cfg["batch_size"],
                        clip_norm=1.0, dtype="float32", rng=gen)
    return res


def _measure(net_before, res, test, cfg, name, gen, *, dynamics=True):
    """Everything recorded for one network (trained ``res.network`` from ``net_before``)."""
    net = res.network
    dt = cfg["dt"]
    before = spectrum_summary(np.linalg.eigvals(net_before.dense_J()))
    after = spectrum_summary(np.linalg.eigvals(net.dense_J()))
    if res.blow_up is not None:
        acc = 0.0
    else:
        tr = rs.simulate(net, test.inputs, mode="open", record=("z",))
        acc = rs.tasks.response_accuracy(test, tr.z)
    row = {"N": int(net.J.shape[0]),
           "accuracy": float(acc), "success": bool(acc >= SUCCESS_THRESHOLD),
           "blow_up": res.blow_up is not None, "epochs": int(res.n_epochs),
           "final_loss": float(res.loss_history[-1]) if len(res.loss_history) else None,
           "before": before.to_dict(), "after": after.to_dict()}
    if not dynamics or res.blow_up is not None:
        return row
    kind, period = predicted_dynamics(after.dominant, dt)
    trials = _stimulus_trials(test)
    x_end = rs.simulate(net, test.inputs[trials], mode="open", record=()).x_final
    n_free = int(round(cfg["free_ms"] / dt))
    n_win = int(round(cfg["window_ms"] / dt))
    free = rs.simulate(net, None, np.asarray(x_end), mode="open", n_steps=n_free,
                       record=("x", "z"))
    classes = [classify_dynamics(free.x[b, -n_win:], dt) for b in range(len(trials))]
    kinds = [c.kind for c in classes]
    measured = next((k for k in ("oscillation", "growing", "irregular") if k in kinds),
                    "fixed_point" if "fixed_point" in kinds else "converging")
    periods = [c.period for c in classes if c.period is not None]
    testable, bound, reason = _testability(period, cfg["window_ms"], classes)
    ends = free.x[:, -1]
    settled = [b for b, c in enumerate(classes) if c.kind == "fixed_point"]
    distinct = []
    for b in settled:
        if all(np.max(np.abs(ends[b] - ends[d])) > 1e-4 for d in distinct):
            distinct.append(b)
    fp_net = net.with_readout(np.zeros_like(net.W_out))
    try:
        fps = rs.find_fixed_points(fp_net, np.zeros(net.W_in.shape[1]), n_seeds=8,
                                   compute_eigenvalues=True, rng=gen)
        n_fp = int(np.sum(fps.is_fixed))
        n_st = int(np.sum(np.asarray(fps.stable) & np.asarray(fps.is_fixed)))
    except Exception as exc:        # a failed search is reported, not hidden
        logger.warning("fixed-point search failed (%s)", exc)
        n_fp = n_st = None
    row.update({
        "predicted": kind, "measured": measured, "per_stimulus": kinds,
        "per_stimulus_period": [c.period for c in classes],
        "per_stimulus_amplitude": [c.amplitude for c in classes],
        "testable": testable, "testable_reason": reason,
        "slow_oscillation_amplitude_bound": bound,
        "agrees": _agrees(kind, measured) if testable else None,
        "period": {"theory": period, "simulation": float(np.mean(periods)) if periods
                   else None, "unit": "ms"},
        "n_distinct_end_points": len(distinct), "n_fixed_points": n_fp,
        "n_stable_fixed_points": n_st,
        # the classified window's readout, for the figure only (not written to the JSON)
        "_trace": np.array(free.z[:, -n_win:, 0])})
    return row


def _stats(rows, stage, key, *, exclude_contaminated=False):
    """Mean, std (ddof 1 when >= 2), standard error and count of ``row[stage][key]`` over
    the successful networks (and how many of them have a flagged bulk); with
    ``exclude_contaminated`` the flagged ones are left out (and counted)."""
    ok = [r for r in rows if r["success"]]
    n_flag = sum(r[stage]["bulk_contaminated"] for r in ok)
    if exclude_contaminated:
        ok = [r for r in ok if not r[stage]["bulk_contaminated"]]
    v = np.array([r[stage][key] for r in ok], dtype=float)
    if v.size == 0:
        return {"mean": None, "std": None, "se": None, "n": 0,
                "n_bulk_contaminated": int(n_flag)}
    sd = float(v.std(ddof=1)) if v.size > 1 else None
    return {"mean": float(v.mean()), "std": sd,
            "se": None if sd is None else sd / float(np.sqrt(v.size)), "n": int(v.size),
            "n_bulk_contaminated": int(n_flag)}


def _verdict(agrees, note=None):
    """The claim convention: a decided verdict (bool) or ``agrees: None, decided: False``
    with a note saying why it cannot be decided."""
    if agrees is None:
        return {"agrees": None, "decided": False, "note": note}
    out = {"agrees": bool(agrees), "decided": True}
    if note:
        out["note"] = note
    return out


def _independence(groups, what, label):
    """Claim: the outer radius after training does not depend on ``what``. ``groups``
    maps the value of ``what`` to its rows. Networks with a contaminated bulk are left out
    (their outer radius measures dominant eigenvalues); each group needs
    :data:`MIN_NETWORKS` usable networks. With ``d`` a difference of two group means and
    ``se`` its standard error (the spread across realisations): agrees when every pair has
    ``|d| + 2 se <= RADIUS_TOL``, disagrees when some pair has ``|d| - 2 se > RADIUS_TOL``,
    undecided otherwise (the difference is not resolved at that precision)."""
    claim = f"the outer radius of {label} does not depend on {what}"
    st = {str(g): _stats(rows, "after", "outer_radius", exclude_contaminated=True)
          for g, rows in groups.items()}
    rule = (f"networks with a contaminated bulk left out; every group needs >= "
            f"{MIN_NETWORKS} networks; agrees if every pair of means has |difference| + "
            f"2 SE <= {RADIUS_TOL}, disagrees if some pair has |difference| - 2 SE > "
            f"{RADIUS_TOL}, else undecided (groups_including_contaminated and "
            "groups_bulk_edge, the fitted bulk edge, are recorded, not used)")
    # the same with the flagged networks kept, and the fitted bulk edge (robust to up to
    # 20 % outliers, flagged networks kept), for the record (not used by the verdict)
    st_all = {str(g): _stats(rows, "after", "outer_radius") for g, rows in groups.items()}
    st_edge = {str(g): _stats(rows, "after", "bulk_edge") for g, rows in groups.items()}
    small = [g for g, v in st.items() if v["n"] < MIN_NETWORKS]
    if len(st) < 2 or small:
        return {"claim": claim, "measured": {"groups": st,
                                             "groups_including_contaminated": st_all,
                                             "groups_bulk_edge": st_edge},
                "rule": rule,
                **_verdict(None, f"too few usable networks (successful, bulk not "
                                 f"contaminated) in group(s) {small}: fewer than "
                                 f"{MIN_NETWORKS}")}
    vals = list(st.values())
    lo_max, hi_max, worst = 0.0, 0.0, 0.0
    for i, a in enumerate(vals):
        for b in vals[i + 1:]:
            se = float(np.sqrt(a["se"] ** 2 + b["se"] ** 2))
            d = abs(a["mean"] - b["mean"])
            hi_max = max(hi_max, d + 2 * se)
            lo_max = max(lo_max, d - 2 * se)
            worst = max(worst, d / se if se > 0 else (np.inf if d > 0 else 0.0))
    means = [v["mean"] for v in vals]
    meas = {"groups": st, "groups_including_contaminated": st_all,
            "groups_bulk_edge": st_edge,
            "range_of_means": float(max(means) - min(means)),
            "largest_difference_in_standard_errors": float(worst),
            "largest_difference_plus_2se": hi_max,
            "largest_difference_minus_2se": lo_max}
    if hi_max <= RADIUS_TOL:
        verdict = _verdict(True)
    elif lo_max > RADIUS_TOL:
        verdict = _verdict(False)
    else:
        verdict = _verdict(None, f"the differences are not resolved at the precision "
                                 f"{RADIUS_TOL} (largest |difference| + 2 SE = "
                                 f"{hi_max:.3f}, - 2 SE = {lo_max:.3f})")
    return {"claim": claim, "measured": meas, "rule": rule, **verdict}


def _disk_claim(rows, N):
    """Claim: random-normal initial J, after training the non-dominant eigenvalues fill a
    disk of radius below 1. The edge of the bulk is the circular-law disk radius
    (:attr:`SpectrumSummary.disk_radius`) over all eigenvalues of the successful networks
    (a flagged network is kept: its eigenvalues outside the circle count against "below
    1"). Agrees if its mean + 2 SE < 1 and the mean inner/outer < DISK_RATIO_MAX;
    disagrees if the mean - 2 SE > 1 or the ratio is not a disk's; else undecided; fewer
    than :data:`MIN_NETWORKS` successful networks: undecided. Before and after training
    are compared on the same networks (paired differences)."""
    r_a, r_b = _stats(rows, "after", "disk_radius"), _stats(rows, "before", "disk_radius")
    ratio = _stats(rows, "after", "ring_ratio")
    ok = [r for r in rows if r["success"]]
    diff = np.array([r["after"]["disk_radius"] - r["before"]["disk_radius"] for r in ok])
    nd_b = [r["before"]["n_dominant"] for r in ok]
    nd_a = [r["after"]["n_dominant"] for r in ok]
    no_b = [r["before"]["n_outliers"] for r in ok]
    no_a = [r["after"]["n_outliers"] for r in ok]
    meas = {"disk_radius": r_a, "disk_radius_before": r_b,
            "outer_radius": _stats(rows, "after", "outer_radius"),
            "inner_radius": _stats(rows, "after", "inner_radius"), "ring_ratio": ratio,
            "before": {"outer_radius": _stats(rows, "before", "outer_radius"),
                       "ring_ratio": _stats(rows, "before", "ring_ratio")},
            "disk_radius_after_minus_before": {
                "mean": float(diff.mean()) if diff.size else None,
                "se": float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1
                else None, "n": int(diff.size)},
            "n_dominant_before": {"min": min(nd_b, default=None),
                                  "max": max(nd_b, default=None),
                                  "mean": float(np.mean(nd_b)) if nd_b else None},
            "n_dominant_after": {"min": min(nd_a, default=None),
                                 "max": max(nd_a, default=None),
                                 "mean": float(np.mean(nd_a)) if nd_a else None},
            "n_outliers_before": {"min": min(no_b, default=None),
                                  "max": max(no_b, default=None),
                                  "mean": float(np.mean(no_b)) if no_b else None},
            "n_outliers_after": {"min": min(no_a, default=None),
                                 "max": max(no_a, default=None),
                                 "mean": float(np.mean(no_a)) if no_a else None},
            "n_bulk_contaminated_after": sum(r["after"]["bulk_contaminated"] for r in ok),
            "N": N, "n_networks": len(rows), "n_successful": len(ok)}
    c = {"claim": "random-normal initial J: after training the non-dominant eigenvalues "
                  "fill a disk of radius below 1",
         "rule": "disk radius = 90th percentile of |lambda| / sqrt(0.9) (circular-law "
                 "edge), successful networks; agrees if mean + 2 SE < 1 and mean "
                 f"inner/outer < {DISK_RATIO_MAX} (uniform disk: 0.236); disagrees if mean "
                 "- 2 SE > 1 or inner/outer >= that; else undecided (an untrained "
                 "circular-law J of radius 1 does not pass)"}
    if r_a["n"] < MIN_NETWORKS or r_a["se"] is None:
        return {**c, "measured": meas,
                **_verdict(None, f"fewer than {MIN_NETWORKS} successful networks")}
    meas["disk_radius_mean_plus_2se"] = r_a["mean"] + 2 * r_a["se"]
    meas["disk_radius_mean_minus_2se"] = r_a["mean"] - 2 * r_a["se"]
    if ratio["mean"] >= DISK_RATIO_MAX or meas["disk_radius_mean_minus_2se"] > 1:
        verdict = _verdict(False)
    elif meas["disk_radius_mean_plus_2se"] < 1:
        verdict = _verdict(True)
    else:
        verdict = _verdict(None, "the disk radius is not resolved from 1 (mean +- 2 SE "
                                 f"= {meas['disk_radius_mean_minus_2se']:.3f}-"
                                 f"{meas['disk_radius_mean_plus_2se']:.3f})")
    return {**c, "measured": meas, **verdict}


def _prediction_claim(allrows, N):
    """Claim: the leading dominant eigenvalue sets the dynamics. Agrees if the Wilson 95 %
    lower bound of the fraction of matches reaches PREDICTION_MIN, disagrees if the upper
    bound is below it, else undecided (no testable network: undecided)."""
    rows = [r for r in allrows if r["testable"]]
    c = {"claim": "the leading dominant eigenvalue sets the dynamics: none or real "
                  "positive -> fixed point, complex or real negative -> oscillation",
         "rule": f"testable networks (a predicted period longer than the window counts, "
                 f"as a mismatch, when the network is at rest: hidden amplitude <= "
                 f"{SLOW_OSCILLATION_AMPLITUDE_MAX}); agrees if the Wilson 95 % lower bound "
                 f"reaches {PREDICTION_MIN}, disagrees if the upper bound is below "
                 f"{PREDICTION_MIN}, else undecided"}
    if not rows:
        return {**c, "measured": {"n_networks": 0, "N": N,
                                  "n_untestable": len(allrows)},
                **_verdict(None, "no successful testable network")}
    k = sum(r["agrees"] for r in rows)
    lo, hi = wilson_interval(k, len(rows))
    meas = {"fraction": k / len(rows), "n_agreeing": int(k), "wilson95": [lo, hi],
            "n_networks": len(rows), "N": N, "n_untestable": len(allrows) - len(rows),
            "n_slow_prediction_at_rest": sum(
                r.get("slow_oscillation_amplitude_bound") is not None for r in rows)}
    if lo >= PREDICTION_MIN:
        verdict = _verdict(True)
    elif hi < PREDICTION_MIN:
        verdict = _verdict(False)
    else:
        verdict = _verdict(None, f"the Wilson interval [{lo:.2f}, {hi:.2f}] contains "
                                 f"{PREDICTION_MIN}: more networks are needed")
    return {**c, "measured": meas, **verdict}


def _dynamics_class(kind):
    """The class of a measured dynamics for counting distinct dynamics: converging is a
    fixed point (as in :func:`_agrees`)."""
    return "fixed_point" if kind == "converging" else kind


def _ring_claim(rows, N):
    """Claim: orthogonal initial J, after training a ring near the unit circle. The ring
    straddles the unit circle; the contamination flag is not used here.
    Agrees if the mean inner/outer >= RING_RATIO_MIN and |mean outer - 1| <=
    RING_RADIUS_TOL; fewer than :data:`MIN_NETWORKS` successful networks: undecided."""
    out_st, ratio_st = _stats(rows, "after", "outer_radius"), \
        _stats(rows, "after", "ring_ratio")
    meas = {"outer_radius": out_st, "ring_ratio": ratio_st,
            "inner_radius": _stats(rows, "after", "inner_radius"),
            "before": {"outer_radius": _stats(rows, "before", "outer_radius"),
                       "ring_ratio": _stats(rows, "before", "ring_ratio")},
            "N": N, "n_networks": len(rows),
            "n_successful": sum(r["success"] for r in rows)}
    c = {"claim": "orthogonal initial J: after training the non-dominant eigenvalues lie "
                  "on a ring near the unit circle",
         "rule": f"successful networks (>= {MIN_NETWORKS}); agrees if mean inner/outer >= "
                 f"{RING_RATIO_MIN} and |mean outer - 1| <= {RING_RADIUS_TOL} (the "
                 "contamination flag is not used)"}
    if out_st["n"] < MIN_NETWORKS:
        return {**c, "measured": meas,
                **_verdict(None, f"fewer than {MIN_NETWORKS} successful networks")}
    ok = ratio_st["mean"] >= RING_RATIO_MIN and abs(out_st["mean"] - 1) <= RING_RADIUS_TOL
    return {**c, "measured": meas, **_verdict(ok)}


def _realisations_claim(trained, N, n_networks):
    """Claim: different realisations of a task and initialisation, different dynamics.
    Classes are counted with converging = fixed point (:func:`_dynamics_class`); a cell
    counts only with >= 2 successful networks; agrees if some cell shows >= 2 classes,
    disagrees if none does and at least one cell has >= MIN_NETWORKS successful networks,
    else undecided."""
    cells, sizes = {}, {}
    for t in trained:
        for i in INITS:
            ok = [r for r in trained[t][i] if r["success"] and "measured" in r]
            cells[f"{t}/{i}"] = sorted({_dynamics_class(r["measured"]) for r in ok})
            sizes[f"{t}/{i}"] = len(ok)
    several = sum(len(v) > 1 for v in cells.values())
    c = {"claim": "different realisations of the same task and initialisation end in "
                  "different dynamics",
         "measured": {"classes_per_cell": cells, "successful_per_cell": sizes,
                      "cells_with_several": several, "N": N,
                      "n_networks_per_cell": n_networks},
         "rule": "classes: fixed point (converging counts as one), oscillation, growing, "
                 "irregular; agrees if at least one task/initialisation cell shows two or "
                 "more classes among its successful networks; disagrees if none does and "
                 f"some cell has >= {MIN_NETWORKS} successful networks; else undecided",
         "N": N, "n_networks_per_cell": n_networks}
    if several:
        return {**c, **_verdict(True)}
    if max(sizes.values(), default=0) >= MIN_NETWORKS:
        return {**c, **_verdict(False)}
    return {**c, **_verdict(None, f"no cell has {MIN_NETWORKS} successful networks")}


def _claims(result):
    cfg = result["settings"]
    claims = {}
    trained = result["trained"]
    by_init = {i: [r for t in trained for r in trained[t][i]] for i in INITS}
    claims["normal_init_spectrum"] = _disk_claim(by_init["normal"], cfg["N"])
    claims["orthogonal_init_spectrum"] = _ring_claim(by_init["orthogonal"], cfg["N"])
    for init in INITS:
        claims[f"size_independence_{init}"] = {
            **_independence({int(n): rows for n, rows in result["sizes"][init].items()},
                            "N", f"trained {init}-initialised networks (XOR)"),
            "sizes": list(cfg["sizes"]),
            "n_networks_per_size": cfg.get("n_sizes", cfg["n_networks"])}
    for init in DALE_INITS:
        claims[f"fraction_independence_dale_{init}"] = {
            **_independence({float(f): rows for f, rows in result["dale"][init].items()},
                            "the excitatory fraction",
                            f"trained Dale networks ({init} J, XOR)"),
            "fractions": list(cfg["fractions"]), "N": cfg["N"],
            "n_networks_per_fraction": cfg["n_dale"]}
    # dominant eigenvalues -> dynamics, realisation by realisation
    allrows = [r for t in trained for i in INITS for r in trained[t][i]
               if r["success"] and "agrees" in r]
    claims["dominant_eigenvalues_predict_dynamics"] = _prediction_claim(allrows, cfg["N"])
    # the period of the oscillations against the angle of the leading eigenvalue
    osc = [r for r in allrows if r["period"]["theory"] is not None
           and r["period"]["simulation"] is not None]
    rel = [abs(r["period"]["simulation"] - r["period"]["theory"]) / r["period"]["theory"]
           for r in osc]
    claims["oscillation_period_from_leading_eigenvalue"] = {
        "claim": "a network that oscillates does so at the frequency of its leading "
                 "eigenvalue, period 2 pi dt / |arg lambda| (2 dt for a negative real one)",
        "measured": {"relative_errors": rel, "median_relative_error":
                     float(np.median(rel)) if rel else None, "n_networks": len(osc),
                     "N": cfg["N"]},
        "rule": "agrees if the median relative error of the period is at most 0.1 (needs "
                f">= {MIN_NETWORKS} oscillating networks)",
        **(_verdict(bool(np.median(rel) <= 0.1)) if len(rel) >= MIN_NETWORKS else
           _verdict(None, f"{len(rel)} oscillating networks, fewer than {MIN_NETWORKS}"))}
    claims["different_realisations_different_dynamics"] = _realisations_claim(
        trained, cfg["N"], cfg["n_networks"])
    # E/I: shrinkage of the radius, and how much of it is there before training
    xor = {i: trained["xor"][i] for i in INITS} if "xor" in trained else {}
    for init in ("normal", "orthogonal"):
        if init not in xor:
            continue
        ref_a, ref_b = _stats(xor[init], "after", "outer_radius"), \
            _stats(xor[init], "before", "outer_radius")
        dale_rows = [r for f in result["dale"][init].values() for r in f]
        d_a, d_b = _stats(dale_rows, "after", "outer_radius"), \
            _stats(dale_rows, "before", "outer_radius")
        ratio = _stats(dale_rows, "after", "ring_ratio")
        meas = {"unconstrained_after": ref_a, "unconstrained_before": ref_b,
                "dale_after": d_a, "dale_before": d_b, "dale_ring_ratio_after": ratio,
                "N": cfg["N"], "n_networks": len(dale_rows),
                "fractions": list(cfg["fractions"])}
        small = min(ref_a["n"], d_a["n"])
        if small < MIN_NETWORKS:
            claims[f"dale_{init}_shrinkage_from_training"] = {
                "claim": "training, not the initialisation, shrinks the E/I radius",
                "measured": meas,
                **_verdict(None, f"fewer than {MIN_NETWORKS} successful networks")}
        else:
            shrink_after = ref_a["mean"] - d_a["mean"]
            shrink_before = ref_b["mean"] - d_b["mean"]
            frac = shrink_before / shrink_after if shrink_after != 0 else None
            meas["fraction_of_shrinkage_present_before_training"] = frac
            claims[f"dale_{init}_shrinkage_from_training"] = {
                "claim": "E/I constraints shrink the radius of the trained network, and "
                         "training (not the sign projection at initialisation) does it",
                "measured": meas,
                "rule": "agrees if the trained Dale radius is below the unconstrained one "
                        "and less than half of that shrinkage is present before training "
                        f"(>= {MIN_NETWORKS} successful networks each)",
                **_verdict(shrink_after > 0 and frac is not None and frac < 0.5)}
        if init == "orthogonal":
            claims["dale_orthogonal_ring"] = {
                "claim": "Dale networks from an orthogonal J keep the ring of orthogonal "
                         "initialisation after training",
                "measured": {**ratio, "N": cfg["N"], "n_networks": len(dale_rows)},
                "rule": f"agrees if the mean inner/outer ratio >= {RING_RATIO_MIN} (>= "
                        f"{MIN_NETWORKS} successful networks)",
                **(_verdict(ratio["mean"] >= RING_RATIO_MIN) if ratio["n"] >= MIN_NETWORKS
                   else _verdict(None, f"fewer than {MIN_NETWORKS} successful networks"))}
    return claims


# ----------------------------------------------------------------------------- figures

def _circle(ax, r=1.0, **kw):
    th = np.linspace(0, 2 * np.pi, 300)
    ax.plot(r * np.cos(th), r * np.sin(th), **kw)


def _lim(eig_lists):
    """Axis half-width showing every eigenvalue of the figure (at least 1.3)."""
    top = max((float(np.max(np.abs(p[st]))) for cell in eig_lists for p in cell
               for st in ("before", "after")), default=1.0)
    return max(1.3, 1.08 * top)


def _spectra_panel(ax, rows, net_eigs, stage, title, lim):
    for k, r in enumerate(rows):
        lam = net_eigs[k][stage]
        ok = r["success"]
        # unsuccessful networks light, small and below: they must not hide the
        # successful networks' eigenvalues (both below the circles, zorder 2)
        ax.scatter(lam.real, lam.imag, s=5 if ok else 3, color="0.25" if ok else "C3",
                   marker="o" if ok else "x", lw=0.6 if ok else 0.4,
                   alpha=1.0 if ok else 0.35, zorder=1.5 if ok else 1,
                   label=("eigenvalues, successful network" if ok
                          else "eigenvalues, unsuccessful network (drawn below)"))
    _circle(ax, color="C0", lw=1.0, label="unit circle (stability boundary of the map)")
    st_o, st_i = _stats(rows, stage, "outer_radius"), _stats(rows, stage, "inner_radius")
    if st_o["mean"] is not None:
        _circle(ax, st_o["mean"], color="C2", lw=0.8, ls="--",
                label="mean outer radius (90th pct of |λ|)")
        _circle(ax, st_i["mean"], color="C1", lw=0.8, ls=":",
                label="mean inner radius (5th pct of |λ|)")
    ax.set(aspect="equal", xlim=(-lim, lim), ylim=(-lim, lim), title=title)
    ax.tick_params(labelsize=6)
    ax.title.set_fontsize(7)


def _legend_below(fig, axes):
    handles, labels = {}, []
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.legend([handles[lab] for lab in labels], labels, loc="lower center",
               ncol=min(3, len(labels)), fontsize=7, frameon=False)


def _spectra_figure(result, eigs, out):
    trained = result["trained"]
    tasks = list(trained)
    cfg = result["settings"]
    fig, axes = subplots(len(tasks), 2 * len(INITS),
                         figsize=(2.3 * 2 * len(INITS), 2.3 * len(tasks) + 1.0),
                         squeeze=False)
    lim = _lim([eigs["trained"][t][i] for t in tasks for i in INITS])
    for a, t in enumerate(tasks):
        for b, init in enumerate(INITS):
            rows = trained[t][init]
            for s, stage in enumerate(("before", "after")):
                n_ok = sum(r["success"] for r in rows)
                _spectra_panel(axes[a, 2 * b + s], rows, eigs["trained"][t][init], stage,
                               f"{t.rstrip('_')}, {init}, {stage}\nN={cfg['N']}, "
                               f"{len(rows)} nets ({n_ok} successful)", lim)
    fig.subplots_adjust(bottom=0.1, top=0.95, hspace=0.45, wspace=0.3)
    _legend_below(fig, axes)
    save_figure(fig, out, "jarne_spectra")


def _dale_figure(result, eigs, out):
    cfg = result["settings"]
    fr = list(cfg["fractions"])
    fig, axes = subplots(len(fr), 2 * len(DALE_INITS),
                         figsize=(2.3 * 2 * len(DALE_INITS), 2.3 * len(fr) + 1.0),
                         squeeze=False)
    lim = _lim([eigs["dale"][i][str(f)] for i in DALE_INITS for f in fr])
    for a, f in enumerate(fr):
        for b, init in enumerate(DALE_INITS):
            rows = result["dale"][init][str(f)]
            for s, stage in enumerate(("before", "after")):
                n_ok = sum(r["success"] for r in rows)
                _spectra_panel(axes[a, 2 * b + s], rows, eigs["dale"][init][str(f)], stage,
                               f"Dale {init}, f_E={f}, {stage}\nN={cfg['N']}, "
                               f"{len(rows)} nets ({n_ok} successful)", lim)
    fig.subplots_adjust(bottom=0.16 if len(fr) < 3 else 0.12, top=0.92, hspace=0.45,
                        wspace=0.3)
    _legend_below(fig, axes)
    save_figure(fig, out, "jarne_dale_spectra")


#: The radius each group of the radii figure shows: the circular-law disk radius for the
#: laws whose trained bulk is a disk, the outer radius (90th percentile) for rings.
_RADIUS_SHOWN = {"normal": "disk_radius", "orthogonal": "outer_radius"}
_RADIUS_LABEL = {"disk_radius": "disk radius (90th pct of |λ| / √0.9)",
                 "outer_radius": "outer radius (90th pct of |λ|)"}


def _radii_panel(ax, groups, key, color, name, jitter, slot=0):
    """One law of the radii figure: for each group (x value -> rows), the mean +- SD after
    training over the networks the independence claims use (successful, bulk not
    contaminated), annotated ``n=k`` with their number, the mean before training
    (successful ones), and each successful network after training (excluded ones as
    crosses). A group with no usable network is annotated ``<name>: n=0`` near the bottom
    of the axes (row ``slot``)."""
    xs, m, s, xb, mb = [], [], [], [], []
    for x, rows in groups:
        st = _stats(rows, "after", key, exclude_contaminated=True)
        if st["mean"] is not None:
            xs.append(x)
            m.append(st["mean"])
            s.append(st["std"] or 0.0)
            # left of the mean (the single networks' dots are jittered to its right),
            # above or below it by law so that close means keep their labels apart
            ax.annotate(f"n={st['n']}", (x, st["mean"]),
                        xytext=(-4, 5 if slot % 2 else -5),
                        textcoords="offset points", fontsize=6, color=color, ha="right",
                        va="bottom" if slot % 2 else "top")
        else:
            ax.text(x, 0.03 + 0.05 * slot, f"{name}: n=0", color=color, fontsize=6,
                    ha="center", transform=ax.get_xaxis_transform())
        stb = _stats(rows, "before", key)
        if stb["mean"] is not None:
            xb.append(x)
            mb.append(stb["mean"])
        ok = [r for r in rows if r["success"]]
        used = [r["after"][key] for r in ok if not r["after"]["bulk_contaminated"]]
        excl = [r["after"][key] for r in ok if r["after"]["bulk_contaminated"]]
        ax.plot([jitter(x)] * len(used), used, ls="none", marker=".", ms=3, color=color,
                alpha=0.5, label=f"{name}: one network, after")
        if excl:
            ax.plot([jitter(x)] * len(excl), excl, ls="none", marker="x", ms=5, color="k",
                    label="excluded network (>= 10 % outliers), after")
    lab = _RADIUS_LABEL[key].split(" (")[0]
    if xs:
        ax.errorbar(xs, m, yerr=s, color=color, ls="-", marker="o", ms=4, capsize=2,
                    label=f"{name}: {lab}, after, mean ± SD of used networks")
    if xb:
        ax.plot(xb, mb, color=color, ls=":", marker="s", ms=3,
                label=f"{name}: {lab}, before, mean")


def _legend_unique(ax):
    """The legend of ``ax`` right of the axes, one entry per label."""
    seen = {}
    for h, lab in zip(*ax.get_legend_handles_labels()):
        seen.setdefault(lab, h)
    ax.legend(list(seen.values()), list(seen), fontsize=6, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)


def _radii_figure(result, out):
    cfg = result["settings"]
    n_sizes = cfg.get("n_sizes", cfg["n_networks"])
    fig, axes = subplots(1, 2, figsize=(13, 5.6))
    ax = axes[0]
    for c, init in enumerate(INITS):
        key = _RADIUS_SHOWN[init]
        groups = [(int(n), rows) for n, rows in result["sizes"][init].items()]
        _radii_panel(ax, groups, key, f"C{c}", init, lambda x, c=c: x * (1.03 + 0.03 * c),
                     slot=c)
    ax.axhline(1.0, color="k", lw=0.8, label="unit circle (stability boundary), radius 1")
    ax.set(xscale="log", xlim=(min(cfg["sizes"]) / 1.25, max(cfg["sizes"]) * 1.25),
           xlabel="N (log scale)",
           ylabel="bulk radius: normal: disk radius (90th pct / √0.9);\n"
                  "orthogonal: outer radius (90th pct of |λ|)",
           title=f"XOR: radius vs N ({n_sizes} nets trained per point; dots: single "
                 "networks)\nn = networks used (successful, bulk not contaminated)")
    ax.set_xticks(list(cfg["sizes"]), [str(n) for n in cfg["sizes"]])
    ax.minorticks_off()
    ax.title.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    _legend_unique(ax)
    ax = axes[1]
    step = 0.02 * (max(cfg["fractions"]) - min(cfg["fractions"]) or 1.0)
    for c, init in enumerate(DALE_INITS):
        key = _RADIUS_SHOWN.get(init, "disk_radius")
        groups = [(float(f), rows) for f, rows in result["dale"][init].items()]
        _radii_panel(ax, groups, key, f"C{c + 2}", f"Dale {init}",
                     lambda x, c=c: x + (c + 1) * step, slot=c)
    ax.axhline(1.0, color="k", lw=0.8, label="unit circle (stability boundary), radius 1")
    ax.set(xlabel="excitatory fraction",
           ylabel="bulk radius: Dale normal, balanced: disk radius;\n"
                  "Dale orthogonal: outer radius",
           title=f"Dale networks, XOR, N={cfg['N']} ({cfg['n_dale']} nets trained per "
                 "point)\nn = networks used (successful, bulk not contaminated)")
    ax.title.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    _legend_unique(ax)
    fig.subplots_adjust(left=0.08, right=0.98, wspace=0.3, bottom=0.3, top=0.93)
    save_figure(fig, out, "jarne_radii")


def _verdict_label(row):
    """The verdict suffix of a dynamics panel's title (rule of :func:`_testability`)."""
    if row["agrees"] is None:
        return " (untestable: P > window, not at rest)"
    if row["agrees"]:
        return ""
    if row.get("slow_oscillation_amplitude_bound") is not None:
        return " MISMATCH (P > window, at rest)"
    return " MISMATCH"


def _dynamics_figure(result, traces, out):
    cfg = result["settings"]
    trained = result["trained"]
    cells = [(t, i) for t in trained for i in INITS]
    ncol = cfg["n_networks"] if cfg["n_networks"] <= 6 else 6
    fig, axes = subplots(len(cells), ncol, figsize=(2.6 * ncol, 1.5 * len(cells) + 0.8),
                         squeeze=False)
    n_free = int(round(cfg["free_ms"] / cfg["dt"]))
    for a, (t, init) in enumerate(cells):
        for k in range(ncol):
            ax = axes[a, k]
            rows = trained[t][init]
            if k >= len(rows) or traces[t][init][k] is None:
                ax.set_axis_off()
                continue
            r = rows[k]
            top = 0.05           # readout units: rounding noise of a fixed point stays flat
            for zw in traces[t][init][k]:
                t_win = np.arange(n_free - zw.size, n_free) * cfg["dt"]
                top = max(top, 1.15 * float(np.max(np.abs(zw - zw.mean()))))
                ax.plot(t_win, zw - zw.mean(), lw=0.7, color="C0" if r["success"] else "C3",
                        label="readout minus its mean, classified window, one line per "
                              "stimulus" if r["success"]
                        else "the same, unsuccessful network")
            ax.set_ylim(-top, top)
            dom = ", ".join(f"{v[0]:.2f}{v[1]:+.2f}i" for v in r["after"]["dominant"][:2])
            per = r["period"]
            ptxt = (f" P={per['simulation']:.0f}/{per['theory']:.0f}ms" if per["theory"]
                    and per["simulation"] else "")
            ax.set_title(f"{t.rstrip('_')}/{init} #{k}: λd {dom or 'none'}\n"
                         f"pred {r['predicted']}, meas {r['measured']}{ptxt}"
                         + _verdict_label(r), fontsize=5.5)
            ax.set_xlabel("time (ms)", fontsize=5.5, labelpad=1)
            ax.set_ylabel("readout − mean", fontsize=5.5, labelpad=1)
            ax.tick_params(labelsize=5)
    fig.suptitle(f"Free runs without input after each test stimulus: the last "
                 f"{cfg['window_ms']:.0f} ms of {cfg['free_ms']:.0f} ms (N={cfg['N']}, "
                 f"{cfg['n_networks']} networks per task and initialisation; λd: leading "
                 "dominant eigenvalues; P = measured/predicted period)", fontsize=8)
    fig.subplots_adjust(hspace=1.1, wspace=0.3, top=0.93, bottom=0.06)
    _legend_below(fig, axes)
    save_figure(fig, out, "jarne_dynamics", dpi=110)


# ---------------------------------------------------------------------------- the run

def _eig_pair(row_net0, row_net):
    return {"before": np.linalg.eigvals(row_net0.dense_J()),
            "after": np.linalg.eigvals(row_net.dense_J())}


def run(out, quick: bool = False, *, threads: int = 1) -> dict:
    """Jarne's spectra and dynamics of BPTT-trained networks: figures and ``jarne.json``.

    Trains networks by BPTT (:func:`reservoir.train.bptt`) on AND, OR, XOR and the
    flip-flop from random-normal and orthogonal recurrent weights
    (:func:`reservoir.jarne_network`), XOR networks at several sizes, and Dale networks
    (:func:`reservoir.dale_network`) at several excitatory fractions; records the spectra
    of ``J`` before and after training of the same networks, the dominant eigenvalues and
    the dynamics they imply beside the measured dynamics, and judges the claims of Jarne
    (2023, J. Comput. Neurosci. 51:407-431) and of her lecture (module docstring).

    Parameters
    ----------
    out : str or os.PathLike
        Output folder; created with its parents if missing.
    quick : bool
        The small run (module docstring) instead of the full one.
    threads : int
        Threads for BLAS and Numba (>= 1; default 1).

    Returns
    -------
    dict
        The content written to ``jarne.json``.

    Raises
    ------
    TypeError, ValueError
        If an argument is invalid (before anything is computed or written).
    ImportError
        If matplotlib cannot be imported (before anything is computed).
    """
    out, quick, threads = check_out_quick_threads(out, quick, threads)
    require_matplotlib()
    cfg = _config(quick)
    t0 = time.perf_counter()
    tasks = tuple(cfg.get("tasks", TASKS))
    os.makedirs(out, exist_ok=True)
    result = {"quick": quick, "settings": {**{k: (list(v) if isinstance(v, tuple) else v)
                                              for k, v in cfg.items()},
                                           "tasks": list(tasks),
                                           "success_threshold": SUCCESS_THRESHOLD,
                                           "percentiles": [INNER_PERCENTILE,
                                                           OUTER_PERCENTILE]},
              "rule": {"dominant": "|lambda| > 1 (outside the unit circle; used by the "
                                   "dynamics prediction)",
                       "outliers": "beyond the bulk: |lambda|^2 > E^2 + 4 D / sqrt(N), "
                                   "with a uniform annulus |lambda|^2 in [E^2 - D, E^2] "
                                   "fitted to the 10th and 80th percentiles of "
                                   "|lambda|^2 (disk or ring)",
                       "inner_radius": "5th percentile of |lambda| over all eigenvalues",
                       "outer_radius": "90th percentile of |lambda| over all eigenvalues",
                       "bulk_contaminated": ">= 10 % of the eigenvalues outliers",
                       "disk_radius": "outer radius / sqrt(0.9) (circular-law edge)",
                       "predicted": "leading dominant eigenvalue complex or real negative "
                                    "-> oscillation (period 2 pi dt / |arg lambda|), real "
                                    "positive or none -> fixed point",
                       "claims": "agrees: true/false when decided; agrees: null with "
                                 "decided: false and a note when the data cannot decide",
                       "measured": "free run without input from the final state of each "
                                   "test stimulus; late window classified",
                       "testable": "fixed point predicted, or predicted period <= window; "
                                   "a longer predicted period P is tested (a mismatch) "
                                   "only when every stimulus leaves the network at rest "
                                   "and an oscillation of period P could hide in the "
                                   "window W only with amplitude <= range / (1 - cos(pi "
                                   f"W / P)) <= {SLOW_OSCILLATION_AMPLITUDE_MAX}; "
                                   "otherwise untestable"}}
    eigs = {"trained": {}, "dale": {}}
    traces = {}
    n_sizes = cfg.get("n_sizes", cfg["n_networks"])
    reused = min(n_sizes, cfg["n_networks"]) if "xor" in tasks else 0
    n_train = len(INITS) * (len(tasks) * cfg["n_networks"] + sum(
        n_sizes - (reused if n == cfg["N"] else 0) for n in cfg["sizes"])) \
        + len(DALE_INITS) * len(cfg["fractions"]) * cfg["n_dale"]
    logger.info("jarne: %s run, %d networks to train", "quick" if quick else "full",
                n_train)
    bar = progress_bar(n_train, "jarne", unit="network")      # on a terminal
    with thread_budget(threads):
        data = _tasks(cfg, tasks)
        result["trained"] = {}
        dt, N = cfg["dt"], cfg["N"]
        for t in tasks:
            a = TASKS.index(t)         # seeds do not depend on which tasks are run
            task, test = data[t]
            result["trained"][t], eigs["trained"][t] = {}, {}
            traces[t] = {i: [] for i in INITS}
            M, K = task.inputs.shape[2], task.targets.shape[2]
            for b, init in enumerate(INITS):
                rows, pairs = [], []
                for k in range(cfg["n_networks"]):
                    gen = _seed(1, a, b, k)
                    net0 = rs.jarne_network(N, M, K, init=init, dt=dt, rng=gen)
                    res = _train_one(net0, task, cfg, t, gen)
                    row = _measure(net0, res, test, cfg, t, gen)
                    row["seed"] = [15, 1, a, b, k]
                    traces[t][init].append(row.pop("_trace", None))
                    rows.append(row)
                    bar.update(1)
                    pairs.append(_eig_pair(net0, res.network))
                result["trained"][t][init] = rows
                eigs["trained"][t][init] = pairs
                logger.info("jarne: %s/%s: accuracy %s", t, init,
                            [round(r["accuracy"], 2) for r in rows])
        # sizes (XOR; the main networks are reused at the main N, and more trained up to
        # n_sizes networks per size)
        task, test = data["xor"] if "xor" in data else _tasks(cfg, ("xor",))["xor"]
        result["sizes"] = {}
        n_sizes = cfg.get("n_sizes", cfg["n_networks"])
        for b, init in enumerate(INITS):
            result["sizes"][init] = {}
            for c, n in enumerate(cfg["sizes"]):
                rows, first = [], 0
                if n == N and "xor" in result["trained"]:
                    rows = list(result["trained"]["xor"][init][:n_sizes])
                    first = len(rows)
                for k in range(first, n_sizes):
                    gen = _seed(2, b, c, k)
                    net0 = rs.jarne_network(n, 2, 1, init=init, dt=dt, rng=gen)
                    res = _train_one(net0, task, cfg, "xor", gen)
                    row = _measure(net0, res, test, cfg, "xor", gen, dynamics=False)
                    row["seed"] = [15, 2, b, c, k]
                    rows.append(row)
                    bar.update(1)
                result["sizes"][init][str(n)] = rows
            logger.info("jarne: sizes %s done", init)
        # Dale networks (XOR)
        result["dale"] = {}
        for b, init in enumerate(DALE_INITS):
            result["dale"][init], eigs["dale"][init] = {}, {}
            for c, f in enumerate(cfg["fractions"]):
                rows, pairs = [], []
                for k in range(cfg["n_dale"]):
                    gen = _seed(3, b, c, k)
                    net0 = rs.dale_network(N, 2, 1, excitatory_fraction=f, init=init,
                                           dt=dt, rng=gen)
                    res = _train_one(net0, task, cfg, "xor", gen)
                    row = _measure(net0, res, test, cfg, "xor", gen, dynamics=False)
                    row["seed"] = [15, 3, b, c, k]
                    row["excitatory_fraction"] = f
                    rows.append(row)
                    bar.update(1)
                    pairs.append(_eig_pair(net0, res.network))
                result["dale"][init][str(f)] = rows
                eigs["dale"][init][str(f)] = pairs
            logger.info("jarne: Dale %s done", init)
    bar.close()
    result["claims"] = _claims(result)
    _spectra_figure(result, eigs, out)
    _dale_figure(result, eigs, out)
    _radii_figure(result, out)
    _dynamics_figure(result, traces, out)
    result["seconds"] = time.perf_counter() - t0
    write_json(result, out, "jarne.json")
    cl = result["claims"]
    logger.info("jarne: claims agreeing %d/%d, undecided %d (%s); %.0f s; outputs in %s",
                sum(c["agrees"] is True for c in cl.values()), len(cl),
                sum(c["agrees"] is None for c in cl.values()),
                ", ".join(f"{k}={ {True: 'yes', False: 'no', None: 'undecided'}[c['agrees']]}"
                          for k, c in cl.items()),
                result["seconds"], out)
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of :func:`main` (``--out``, ``--quick``, ``--threads``).

    Returns
    -------
    argparse.ArgumentParser
        The parser (no argument is checked beyond its type: :func:`main` checks them as
        :func:`run` does).
    """
    return parser_out_quick_threads(
        __doc__.splitlines()[0], DEFAULT_OUT,
        "N = 40, 2 ms steps, 5 networks per task cell, 10 per size and Dale cell, 25-40 "
        "epochs (minutes on 2 cores)",
        "threads for BLAS and Numba (default 1)")


def main(argv=None) -> None:
    """The command line: ``[--out DIR] [--quick] [--threads N]``, then :func:`run`.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``). A bad value exits with the usage and
        status 2, as argparse does.

    Returns
    -------
    None
        Returns nothing, so that a console entry point ``sys.exit(main())`` exits with 0.
    """
    main_out_quick_threads(build_parser, check_out_quick_threads, run, argv)
