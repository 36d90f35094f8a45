"""Geometry of the trained readout relative to the input and feedback vectors.

In Mastrogiuseppe & Ostojic (2019) the readout is written ``z = n . phi(x) / N`` with
O(1) entries of ``n``; here ``z = W_out phi(x)``, so ``n = N W_out[k]``. Overlaps are
population averages, ``sigma_nm = n . m / N`` with ``m = W_fb[:, k]`` the feedback vector
and ``sigma_nI = n . I / N`` with ``I = W_in u`` the input vector (Mastrogiuseppe & Ostojic
2019, network model: "overlap" is the population average ``(1/N) sum_i n_i m_i``).
``n . phi(x*) / N`` is the readout at a state ``x*``.

Note that ``I = W_in u`` here has no bias term (our choice, kept for compatibility: it is
the direction the input enters along), whereas the mean-field statistics of
:meth:`reservoir.meanfield.MeanFieldParams.from_network` use ``I = W_in u + b``; the two
agree when ``b = 0``.

The solution classes (named by us after the classes of solutions along the line of
readouts that solve the task, Mastrogiuseppe & Ostojic 2019) are decided here from the
network's *own* fixed points rather than from the mean-field boundaries:

* ``"unstable target"``: the fixed point at the target is linearly unstable (or absent);
  "at the target" is the package's one target rule, ``|z_k - A_k| <= atol + rtol |A_k|``
  (defaults 0.01 and 0.02), the rule of the stability report and the theory comparison;
* ``"bistable"``: the target is stable but another stable fixed point exists;
* ``"input-driven"``: the target is the only stable fixed point and ``sigma_nm <= 0``
  (the readout is orthogonal to, or anti-aligned with, the feedback: negative feedback;
  ``|cos(n, m)| < 1e-9`` counts as orthogonal);
* ``"weak positive feedback"``: the target is the only stable fixed point and
  ``sigma_nm > 0``.

The mean-field class boundaries ``sigma_s(A)``, ``sigma_c(A)`` belong to the mean-field
module; comparing the two is what the theory-versus-simulation tools are for.

A readout intercept ``b_out`` (``z = W_out phi(x) + b_out``) is reported beside the
overlaps (``ReadoutGeometry.b_out``) and is not part of them: the overlaps describe the
readout *direction* ``n``. In closed loop the intercept is fed back as the constant current
``W_fb b_out``, which is the same as moving the bias to ``b + W_fb b_out`` (the input vector
of the mean field from ``I`` to ``I + sum_k m_k b_out[k]``). The solution class is decided
from the network's own fixed points, which include that current, so it accounts for the
intercept exactly; ``readout_at`` includes it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_int, as_real
from .._results import ResultMixin
from .._checks import RngLike
from ..network import Network
from ..nonlinearities import get_nonlinearity
from ._target import TARGET_ATOL, TARGET_RTOL

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .global_stability import StabilityReport

#: The solution classes, in the order of increasing readout-feedback overlap.
CLASSES = ("input-driven", "weak positive feedback", "bistable", "unstable target")


@dataclass(frozen=True, eq=False, repr=False)
class ReadoutGeometry(ResultMixin):
    """Overlaps of the readout with the input and feedback vectors.

    Plain container: nothing here can fail.

    Parameters
    ----------
    overlap_nm : ndarray, shape (K,)
        ``n_k . m_k / N`` with ``n_k = N W_out[k]``, ``m_k = W_fb[:, k]`` (state units).
    overlap_nI : ndarray, shape (K,)
        ``n_k . I / N`` with ``I = W_in u`` (0 when there is no input; state units).
    overlap_mI : ndarray, shape (K,)
        ``m_k . I / N = sum_i W_fb[i, k] (W_in u)_i / N`` (state units squared), with the
        input vector ``I = W_in u`` *without* the bias ``b`` and ``u`` the input given to
        :func:`readout_geometry` (default ``e_1``). It is therefore not
        :attr:`MeanFieldParams.cov_mI <reservoir.meanfield.MeanFieldParams>`, which uses
        ``I = W_in u + b``; the two agree when ``b = 0`` and the same ``u`` is used.
    cos_nm : ndarray, shape (K,)
        Cosine of the angle between ``n_k`` and ``m_k`` (nan for a zero vector).
    cos_nI : ndarray, shape (K,)
        Cosine of the angle between ``n_k`` and ``I`` (nan for a zero vector).
    norm_n : ndarray, shape (K,)
        RMS entry ``|n_k| / sqrt(N)``.
    norm_m : ndarray, shape (K,)
        RMS entry ``|m_k| / sqrt(N)``.
    norm_I : float
        RMS entry ``|I| / sqrt(N)``.
    readout_at : ndarray, shape (K,) or None
        ``n . phi(x) / N + b_out`` at the state given (the readout there, intercept
        included, readout units).
    solution_class : str or None
        One of :data:`CLASSES` (when a stability report or a target was given).
    b_out : ndarray, shape (K,)
        The readout intercept ``net.b_out`` (readout units; zeros without one). Not part of
        the overlaps; in closed loop it acts as the bias ``b + W_fb b_out`` (see the
        module docstring), which the solution class accounts for.
    """

    overlap_nm: np.ndarray
    overlap_nI: np.ndarray
    overlap_mI: np.ndarray
    cos_nm: np.ndarray
    cos_nI: np.ndarray
    norm_n: np.ndarray
    norm_m: np.ndarray
    norm_I: float
    readout_at: np.ndarray | None
    solution_class: str | None
    b_out: np.ndarray


def _cos(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan")


def classify_solution(overlap_nm: float, target_stable: bool, n_spurious: int) -> str:
    """The solution class from the readout-feedback overlap and the fixed points.

    Parameters
    ----------
    overlap_nm : float
        Readout-feedback overlap ``n . m / N`` (state units).
    target_stable : bool
        The target fixed point exists and is linearly stable.
    n_spurious : int
        Number of stable fixed points other than the target.

    Returns
    -------
    str
        One of :data:`CLASSES`: ``"unstable target"`` if the target is not stable, else
        ``"bistable"`` if another stable fixed point exists, else ``"input-driven"``
        (``overlap_nm <= 0``) or ``"weak positive feedback"``.

    Raises
    ------
    TypeError
        If ``overlap_nm`` is not a real number, ``target_stable`` not a bool or
        ``n_spurious`` not an integer.
    ValueError
        If ``overlap_nm`` is not finite or ``n_spurious`` is negative.
    """
    overlap_nm = as_real(overlap_nm, "overlap_nm")
    if not isinstance(target_stable, (bool, np.bool_)):
        raise TypeError(f"target_stable must be True or False, got "
                        f"{type(target_stable).__name__}")
    n_spurious = as_int(n_spurious, "n_spurious", minimum=0)
    if not target_stable:
        return "unstable target"
    if n_spurious > 0:
        return "bistable"
    return "input-driven" if overlap_nm <= 0 else "weak positive feedback"


def readout_geometry(net: Network, u: ArrayLike | None = None, x: ArrayLike | None = None, *,
                     target: ArrayLike | None = None, report: StabilityReport | None = None,
                     target_atol: float = TARGET_ATOL, target_rtol: float = TARGET_RTOL,
                     rng: RngLike = None) -> ReadoutGeometry:
    """Overlaps of the readout with the input and feedback vectors, and the solution class.

    Parameters
    ----------
    net : Network
        The trained network.
    u : array_like, shape (M,), optional
        The constant input defining the input vector ``I = W_in u``; default: the first
        input column (``u = e_1``) when the network has inputs.
    x : array_like, shape (N,), optional
        A state (e.g. the target fixed point) at which to report the readout
        ``n . phi(x) / N + b_out``.
    target : float or array_like, optional
        The trained output. With a target (or a ``report``) the solution class is
        computed from :func:`~reservoir.analysis.global_stability.stability_report`
        (fixed points and their stability; basins are not needed and not simulated).
    report : StabilityReport, optional
        Use this report instead of computing one (its target point, found by the rule it
        was computed with, is used as it is).
    target_atol : float
        Absolute part of the target rule ``|z_k - A_k| <= target_atol + target_rtol
        |A_k|`` (readout units), the rule shared with
        :func:`~reservoir.analysis.global_stability.stability_report` and
        :func:`~reservoir.predict`; default 0.01. Used when a ``target`` is given.
    target_rtol : float
        Relative part of the target rule (fraction of ``|A_k|``); default 0.02.
    rng : None, int, SeedSequence or Generator
        Seed of the fixed-point search, if one is run.

    Returns
    -------
    ReadoutGeometry
        The overlaps, cosines and norms (one entry per readout ``k``), and the solution
        class when a ``target`` or ``report`` was given.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an array is not real.
    ValueError
        If ``u`` or ``x`` has the wrong shape (or ``target`` is invalid for
        :func:`~reservoir.analysis.global_stability.stability_report`).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    N, M, K = net.N, net.n_inputs, net.n_outputs
    if u is None:
        u = np.eye(M)[0] if M else np.zeros(0)
    u = as_float_array(u, "u", 1, allow_empty=True)
    if u.shape != (M,):
        raise ValueError(f"u must have shape ({M},), got {u.shape}")
    I = net.W_in @ u
    n = N * net.W_out
    m = net.W_fb.T
    readout_at = None
    if x is not None:
        x = as_float_array(x, "x", 1)
        if x.shape != (N,):
            raise ValueError(f"x must have shape ({N},), got {x.shape}")
        readout_at = n @ get_nonlinearity(net.phi).phi(x) / N + net.b_out
    cls = None
    if report is not None:
        from .fixed_points import check_points_of
        from .global_stability import StabilityReport
        if not isinstance(report, StabilityReport):
            raise TypeError(f"report must be a StabilityReport, got {type(report).__name__}")
        check_points_of(net, u, report.fixed_points, "report")
    if report is None and target is not None:
        from .global_stability import stability_report
        report = stability_report(net, u, target, n_init=1, lyapunov=False,
                                  target_atol=target_atol, target_rtol=target_rtol, rng=rng)
    ov_nm = np.einsum("kn,kn->k", n, m) / N
    cos_nm = np.array([_cos(n[k], m[k]) for k in range(K)])
    if report is not None:
        # an overlap below rounding (|cos| < 1e-9) counts as orthogonal
        nm = float(np.sum(np.where(np.abs(cos_nm) < 1e-9, 0.0, ov_nm)))
        cls = classify_solution(nm, report.target_stable, int(report.spurious.size))
    return ReadoutGeometry(
        overlap_nm=ov_nm, overlap_nI=n @ I / N, overlap_mI=m @ I / N,
        cos_nm=cos_nm,
        cos_nI=np.array([_cos(n[k], I) for k in range(K)]),
        norm_n=np.linalg.norm(n, axis=1) / np.sqrt(N),
        norm_m=np.linalg.norm(m, axis=1) / np.sqrt(N),
        norm_I=float(np.linalg.norm(I) / np.sqrt(N)), readout_at=readout_at,
        solution_class=cls, b_out=np.array(net.b_out))
