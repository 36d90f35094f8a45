"""Theory beside simulation for a trained feedback network.

:func:`predict` reads the statistics of a network with one readout (feedback vector
``m = W_fb[:, 0]``, input vector ``I = W_in u + b``, readout ``n = N W_out[0]``, gain
``g = sqrt(sum J^2 / N)``), solves the static mean-field theory of Mastrogiuseppe &
Ostojic with them, finds the network's own fixed points, and lines the two up: readout
values, outliers, bulk radii, stability and the solution class.

The theory treats the readout as uncorrelated with the bulk ``J``. Readouts trained by
least squares are correlated with it (Mastrogiuseppe & Ostojic 2019 assume an uncorrelated
readout; we found that part of a least-squares readout is carried by its component
correlated with ``J``, which shifts the predicted spurious fixed points and outliers), so
disagreements on trained networks are information, not bugs; on networks built with
independent vectors the two agree within finite-size error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis.fixed_points import FixedPoints, find_fixed_points
from .analysis._target import TARGET_ATOL, TARGET_RTOL, at_target, match_target
from .analysis.geometry import classify_solution
from .analysis.linearisation import spectrum
from ._results import ResultMixin
from .network import Network
from .meanfield.static import MeanFieldParams, MeanFieldSolution, mf_fixed_points


@dataclass(frozen=True, eq=False, repr=False)
class Prediction(ResultMixin):
    """Theory and measurement for one network (rows matched by readout value).

    Parameters
    ----------
    params : MeanFieldParams
        The network's empirical statistics.
    theory : MeanFieldSolution
        The mean-field fixed points.
    measured : FixedPoints
        The network's own fixed points.
    rows : list of dict
        One per theoretical fixed point: ``z_theory``, ``z_measured`` (nan if no measured
        point within ``match_tol``), ``outlier_theory``, ``outlier_measured`` (the
        eigenvalue of ``(J + W_fb W_out) D`` of largest modulus outside the predicted bulk,
        nan if none), ``bulk_theory``, ``bulk_measured`` (the radius formula at the
        measured state), ``stable_theory``, ``stable_measured`` (the network's flow verdict,
        ``FixedPoints.stable_flow``: the theory describes the flow), ``stable_map_measured``
        (the verdict of the Euler map as simulated, ``FixedPoints.stable``).
    unmatched_measured : ndarray
        Readouts of measured fixed points that no theoretical one explains.
    class_theory : str or None
        Solution class predicted by the theory (with a target).
    class_measured : str or None
        Solution class of the network's fixed points (with a target).
    success : bool
        Both the mean-field solve (``theory.success``) and the fixed-point search
        (``measured.success``) succeeded.
    messages : tuple of str
        Their messages, prefixed ``"theory: "`` and ``"network: "``.
    """

    params: MeanFieldParams
    theory: MeanFieldSolution
    measured: FixedPoints
    rows: list
    unmatched_measured: np.ndarray
    class_theory: str | None
    class_measured: str | None
    success: bool
    messages: tuple

    def table(self) -> str:
        """A plain-text table of theory against measurement.

        Returns
        -------
        str
            One line per theoretical fixed point (readout, outlier, bulk radius,
            stability; theory and network side by side), then the unexplained network
            fixed points and the solution classes.
        """
        head = ("   z theory  z network | outlier th.  outlier net | bulk th.  bulk net | "
                "stable th./net")
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r['z_theory']:10.4f} {r['z_measured']:10.4f} | "
                f"{r['outlier_theory']:11.4f} {r['outlier_measured']:12.4f} | "
                f"{r['bulk_theory']:8.4f} {r['bulk_measured']:8.4f} | "
                f"{str(r['stable_theory']):>5s}/{str(r['stable_measured'])}")
        if self.unmatched_measured.size:
            lines.append(f"network fixed points the theory misses: z = "
                         f"{np.round(self.unmatched_measured, 4).tolist()}")
        if self.class_theory is not None:
            lines.append(f"class: theory {self.class_theory!r}, network "
                         f"{self.class_measured!r}")
        return "\n".join(lines)


def predict(net: Network, u=None, target=None, *, fixed_points: FixedPoints | None = None,
            match_tol: float = 0.05, target_atol: float = TARGET_ATOL,
            target_rtol: float = TARGET_RTOL, margin: float = 0.05,
            method: str = "accurate", rng=None) -> Prediction:
    """Mean-field prediction next to the measured fixed points of ``net``.

    Parameters
    ----------
    net : Network
        The network; one readout (``K = 1``).
    u : array_like, shape (M,), optional
        Constant input (default 0).
    target : float, optional
        The trained output, for the solution classes.
    fixed_points : FixedPoints, optional
        Reuse a previous search (same ``u``).
    match_tol : float
        A measured fixed point matches a theoretical one when their readouts differ by less
        (pairs theory rows with network points; the target uses the rule below).
    target_atol, target_rtol : float
        The target rule shared with :func:`~reservoir.analysis.stability_report` and
        :func:`~reservoir.analysis.readout_geometry`: a readout ``z`` is at the target
        ``A`` when ``|z - A| <= target_atol + target_rtol |A|``.
    margin : float
        Relative margin beyond the bulk edge for a measured eigenvalue to be an outlier.
    method : str
        Quadrature of the Gaussian averages of the mean-field theory (passed to
        :meth:`~reservoir.meanfield.MeanFieldParams.from_network`).
    rng : None, int, SeedSequence or Generator
        Seeds of the fixed-point search, if one is run.

    Returns
    -------
    Prediction
        Theory, measurement, the matched rows and the solution classes, with ``success``
        and ``messages`` gathered from both sides.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network`.
    ValueError
        If the network does not have one readout, or an argument is invalid for the
        mean-field theory or the fixed-point search.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    u = np.zeros(net.n_inputs) if u is None else np.asarray(u, dtype=float)
    params = MeanFieldParams.from_network(net, u, method=method)
    theory = mf_fixed_points(params)
    fps = fixed_points if fixed_points is not None else find_fixed_points(net, u, rng=rng)
    fixed = np.flatnonzero(fps.is_fixed)
    used = set()
    rows = []
    for k in range(len(theory)):
        row = {"z_theory": float(theory.z[k]), "outlier_theory": float(theory.outlier[k].real),
               "bulk_theory": float(theory.bulk_radius[k]),
               "stable_theory": bool(theory.stable[k]), "z_measured": np.nan,
               "outlier_measured": np.nan, "bulk_measured": np.nan, "stable_measured": None,
               "stable_map_measured": None}
        if fixed.size:
            d = np.abs(fps.z[fixed, 0] - theory.z[k])
            j = int(fixed[np.argmin(d)])
            if d.min() < match_tol and j not in used:
                used.add(j)
                spec = spectrum(net, fps.x[j], u=u, margin=margin)
                out = spec.outliers
                row.update(z_measured=float(fps.z[j, 0]), bulk_measured=spec.bulk_radius,
                           stable_measured=bool(fps.stable_flow[j]),
                           stable_map_measured=bool(fps.stable[j]),
                           outlier_measured=float(out[np.argmax(np.abs(out))].real)
                           if out.size else np.nan)
        rows.append(row)
    unmatched = np.array([fps.z[j, 0] for j in fixed if j not in used])
    cls_th = cls_net = None
    if target is not None:
        A = float(target)
        nm = params.overlap_nm
        kt = match_target(theory.z[:, None], [A], target_atol, target_rtol)
        if kt is not None:
            cls_th = classify_solution(nm, bool(theory.stable[kt]),
                                       int(theory.stable.sum()) - int(theory.stable[kt]))
        else:
            cls_th = "unstable target"
        jt = match_target(fps.z, [A], target_atol, target_rtol, candidates=fps.is_fixed)
        if jt is not None:
            stable_j = bool(fps.stable_flow[jt])
            n_sp = int(fps.stable_flow[fixed].sum()) - int(stable_j)
            cls_net = classify_solution(nm, stable_j, n_sp)
        else:
            cls_net = "unstable target"
    notes = []
    if unmatched.size:
        notes.append(f"the theory explains no fixed point near the network's z = "
                     f"{np.round(unmatched, 4).tolist()} (within match_tol = {match_tol})")
    if target is not None and not at_target(theory.z[:, None], [float(target)], target_atol,
                                            target_rtol).any():
        notes.append(f"the target {float(target)} is not a fixed point of the theory: the "
                     "static theory assumes a readout uncorrelated with J, which a trained "
                     "readout is not (see reservoir.meanfield.ls_fixed_points for "
                     "least-squares readouts)")
    return Prediction(params=params, theory=theory, measured=fps, rows=rows,
                      unmatched_measured=unmatched, class_theory=cls_th,
                      class_measured=cls_net,
                      success=bool(theory.success and fps.success),
                      messages=tuple(f"theory: {m}" for m in theory.messages)
                      + tuple(f"network: {m}" for m in fps.messages) + tuple(notes))
