"""Theory beside simulation for a trained feedback network.

:func:`predict` reads the statistics of a network with one readout (feedback vector
``m = W_fb[:, 0]``, input vector ``I = W_in u + b``, readout ``n = N W_out[0]``, gain
``g = sqrt(sum J^2 / N)``), solves a static mean-field theory with them, finds the
network's own fixed points, and lines the two up: readout values, outliers, bulk radii,
stability and the solution class.

Two theories are available (``theory=``):

* ``"uncorrelated"``: the static theory of Mastrogiuseppe & Ostojic 2019
  (:func:`~reservoir.meanfield.mf_fixed_points`), which treats the readout as uncorrelated
  with the bulk ``J``. It describes networks built with independent vectors (the two agree
  within finite-size error), not readouts trained by least squares: those are correlated
  with ``J`` through the trained state, which moves the fixed points (on the README's
  example the theory has no root at the target).
* ``"ls"``: the exact least-squares mean field (:func:`~reservoir.meanfield.ls_fixed_points`)
  of a readout fitted by least squares with the feedback clamped at a constant target
  ``A`` (teacher forcing on a stationary task). It needs ``A``; ``z = A`` is always one of
  its roots.

``"auto"`` (the default) takes ``"ls"`` when ``net.meta["readout_fit"]`` (written by
:func:`~reservoir.train.fit_ridge`) records a teacher-forced ridge fit of the network's
current readout at a constant target and input, and ``target`` and ``u`` are that target
and input; otherwise ``"uncorrelated"``, with a message saying why when the readout was
fitted by least squares.

**Readout intercept.** Neither theory has one (``z = n . phi / N``). A network with
``z = W_out phi(x) + b_out`` has the closed loop of the *folded* network (bias
``b + W_fb b_out``, no intercept), whose readouts are ``z - b_out``; :func:`predict` solves
the uncorrelated theory for the folded network's statistics (input vector
``I = W_in u + b + W_fb b_out``) and shifts the theory's readouts (``z`` and ``z_grid``) by
``b_out``, which accounts for the intercept exactly. The least-squares theory describes a
readout fitted *without* an intercept (with one, a constant target leaves nothing for
``W_out`` to fit): ``theory="ls"`` refuses a network with an intercept (``ValueError``) and
``"auto"`` takes the uncorrelated theory with a message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .analysis.fixed_points import FixedPoints, check_points_of, find_fixed_points
from .analysis._target import (TARGET_ATOL, TARGET_RTOL, at_target, describe_rule,
                                match_target)
from .analysis.geometry import classify_solution
from .analysis.linearisation import spectrum
from ._checks import as_choice, as_float_array, as_positive_float, as_real
from ._results import ResultMixin
from ._checks import RngLike
from .network import Network
from .meanfield.least_squares import LSFixedPoints, ls_fixed_points, ls_overlaps
from .meanfield.static import (MeanFieldParams, MeanFieldSolution, _check_variance_of,
                               mf_fixed_points)
from .train._ridge import _readout_fingerprint

#: The theories :func:`predict` can hold against a network.
THEORIES = ("auto", "ls", "uncorrelated")


@dataclass(frozen=True, eq=False, repr=False)
class Prediction(ResultMixin):
    """Theory and measurement for one network (rows matched by readout value).

    Parameters
    ----------
    params : MeanFieldParams
        The network's empirical statistics (of the folded network, bias
        ``b + W_fb b_out``, when the readout has an intercept ``b_out``).
    theory : MeanFieldSolution or LSFixedPoints
        The mean-field fixed points (of the theory named by ``theory_name``); with a
        readout intercept, the folded network's solution with ``z`` and ``z_grid``
        shifted by ``b_out`` (readouts comparable with the network's).
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
        Solution class predicted by the theory (with a target); None without a target or
        when the target is not a fixed point of the theory (said in ``messages``).
    class_measured : str or None
        Solution class of the network's fixed points (with a target).
    success : bool
        Both the mean-field solve (``theory.success``) and the fixed-point search
        (``measured.success``) succeeded.
    messages : tuple of str
        Their messages, prefixed ``"theory: "`` and ``"network: "``, then the findings
        (which theory was used and why, unexplained points, a target the theory misses).
    theory_name : {"ls", "uncorrelated"}
        The theory used: ``"ls"`` (exact least-squares mean field,
        :func:`~reservoir.meanfield.ls_fixed_points`) or ``"uncorrelated"`` (Mastrogiuseppe
        & Ostojic 2019, :func:`~reservoir.meanfield.mf_fixed_points`).
    """

    params: MeanFieldParams
    theory: MeanFieldSolution | LSFixedPoints
    measured: FixedPoints
    rows: list
    unmatched_measured: np.ndarray
    class_theory: str | None
    class_measured: str | None
    success: bool
    messages: tuple
    theory_name: str = "uncorrelated"

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
        lines = [f"theory: {_THEORY_WORDS[self.theory_name]}", head, "-" * len(head)]
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


_THEORY_WORDS = {"ls": "exact least-squares mean field (ls_fixed_points)",
                 "uncorrelated": "uncorrelated readout, Mastrogiuseppe & Ostojic 2019 "
                                 "(mf_fixed_points)"}


def _ls_record(net: Network):
    """``(record, reason)``: the ``meta["readout_fit"]`` of a teacher-forced least-squares
    fit of the current readout at a constant target and input, or ``(None, why not)``
    (``why not`` is None when no least-squares fit is recorded at all)."""
    rec = net.meta.get("readout_fit")
    if not isinstance(rec, dict) or rec.get("method") != "ridge":
        return None, None
    if rec.get("W_out_sha256") != _readout_fingerprint(net.W_out):
        return None, ("net.meta records a least-squares (ridge) fit of another readout (the "
                      "current W_out was set otherwise)")
    if rec.get("mode") != "teacher":
        return None, (f"the readout was fitted by least squares in mode "
                      f"{rec.get('mode')!r}, not with teacher forcing")
    if rec.get("intercept"):
        return None, ("the readout was fitted by least squares with an intercept, and the "
                      "least-squares theory describes a fit without one")
    noisy = [f"{k} = {rec.get(k):g}" for k in ("noise_std", "feedback_noise_std")
             if isinstance(rec.get(k), (int, float)) and rec.get(k) > 0]
    if noisy:
        return None, ("the readout was fitted by least squares with noise ("
                      + ", ".join(noisy) + "), and the least-squares theory describes a "
                      "noise-free teacher-forced fit")
    if rec.get("target") is None:
        return None, ("the readout was fitted by least squares to targets that are not "
                      "constant")
    if rec.get("input") is None:
        return None, ("the readout was fitted by least squares with an input that is not "
                      "constant")
    return rec, None


def _choose_theory(theory, net, u, target, method, atol, rtol):
    """``(name, notes)``: the theory to use and what to say about the choice."""
    if not isinstance(theory, str) or theory not in THEORIES:
        raise ValueError(f"theory must be one of {THEORIES}, got {theory!r}")
    if net.has_intercept:
        if theory == "ls":
            raise ValueError(
                f"theory='ls' cannot describe a readout with an intercept (net.b_out = "
                f"{np.round(net.b_out, 6).tolist()}): the least-squares mean field is that "
                "of a readout fitted without one; use theory='uncorrelated' (which folds "
                "the intercept into the bias exactly) or a readout without intercept")
        if theory == "auto" and _ls_record(net)[0] is not None:
            return "uncorrelated", [
                "the theory used is the uncorrelated one: the readout has an intercept "
                "b_out, and the least-squares theory describes readouts fitted without one"]
    if theory == "ls":
        if target is None:
            raise ValueError("target is required with theory='ls' (the least-squares "
                             "theory is solved at the trained target A)")
        if method != "accurate":
            raise ValueError(f"method must be 'accurate' with theory='ls', got {method!r}")
        rec, _ = _ls_record(net)
        if rec is None:
            return "ls", ["the theory is the least-squares one as requested, but net.meta "
                          "does not record a "
                          "teacher-forced least-squares fit of this readout at a constant "
                          "target; the least-squares theory describes that readout"]
        return "ls", []
    if theory == "uncorrelated":
        return "uncorrelated", []
    rec, why = _ls_record(net)
    fallback = ("; it does not describe least-squares readouts (theory='ls' forces the "
                "least-squares theory)")
    lead = "the theory used is the uncorrelated one: "
    if rec is None:
        return "uncorrelated", ([] if why is None else [lead + why + fallback])
    A_fit = rec["target"]
    if len(A_fit) != 1:
        return "uncorrelated", []
    if target is None:
        return "uncorrelated", [
            f"{lead}the readout was fitted by least squares at the constant target "
            f"{A_fit[0]:g}, but no target was given and the least-squares theory needs "
            f"it{fallback}; pass target={A_fit[0]:g}"]
    if not at_target([[float(target)]], A_fit, atol, rtol)[0]:
        return "uncorrelated", [
            f"{lead}the readout was fitted by least squares at the target {A_fit[0]:g}, "
            f"not at "
            f"the target given ({float(target):g}){fallback}"]
    u_fit = np.asarray(rec["input"], dtype=float)
    if u_fit.shape != u.shape or not np.allclose(u, u_fit, rtol=1e-9, atol=1e-12):
        return "uncorrelated", [
            f"{lead}the readout was fitted by least squares with the input "
            f"{u_fit.tolist()}, not "
            f"the input given ({u.tolist()}){fallback}"]
    if method != "accurate" or net.phi not in ("tanh", "sigmoid", "relu"):
        return "uncorrelated", [
            f"{lead}the least-squares theory needs method='accurate' and phi in tanh, "
            f"sigmoid, "
            f"relu (got method={method!r}, phi={net.phi!r}){fallback}"]
    return "ls", []


def predict(net: Network, u: ArrayLike | None = None, target: float | None = None, *,
            theory: str = "auto",
            fixed_points: FixedPoints | None = None,
            match_tol: float = 0.05, target_atol: float = TARGET_ATOL,
            target_rtol: float = TARGET_RTOL, margin: float | None = None,
            method: str = "accurate", rng: RngLike = None) -> Prediction:
    """Mean-field prediction next to the measured fixed points of ``net``.

    Parameters
    ----------
    net : Network
        The network; one readout (``K = 1``).
    u : array_like, shape (M,), optional
        Constant input (default 0).
    target : float, optional
        The trained output, for the solution classes (required by the least-squares
        theory).
    theory : {"auto", "ls", "uncorrelated"}
        ``"uncorrelated"``: Mastrogiuseppe & Ostojic 2019's static theory
        (:func:`~reservoir.meanfield.mf_fixed_points`), readout uncorrelated with ``J``.
        ``"ls"``: the exact least-squares mean field
        (:func:`~reservoir.meanfield.ls_fixed_points`) at ``A = target``. ``"auto"``:
        ``"ls"`` when ``net.meta["readout_fit"]`` records a teacher-forced least-squares
        fit (:func:`~reservoir.train.fit_ridge`) of the current readout at a constant
        target and input, and ``target`` (by the target rule) and ``u`` are those;
        otherwise ``"uncorrelated"``, with a message when the readout was fitted by least
        squares.
    fixed_points : FixedPoints, optional
        Reuse a previous search (same ``u``).
    match_tol : float
        A measured fixed point matches a theoretical one when their readouts differ by less
        (pairs theory rows with network points; the target uses the rule below).
    target_atol, target_rtol : float
        The target rule shared with :func:`~reservoir.analysis.stability_report` and
        :func:`~reservoir.analysis.readout_geometry`: a readout ``z`` is at the target
        ``A`` when ``|z - A| <= target_atol + target_rtol |A|``.
    margin : float, optional
        Relative margin beyond the bulk edge for a measured eigenvalue to be an outlier
        (default: the automatic margin of :func:`~reservoir.analysis.spectrum`).
    method : str
        Quadrature of the Gaussian averages of the mean-field theory (passed to
        :meth:`~reservoir.meanfield.MeanFieldParams.from_network`); the least-squares
        theory needs ``"accurate"``.
    rng : None, int, SeedSequence or Generator
        Seeds of the fixed-point search, if one is run.

    Returns
    -------
    Prediction
        Theory, measurement, the matched rows and the solution classes, with ``success``
        and ``messages`` gathered from both sides and the theory used in ``theory_name``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network`, ``fixed_points`` is not
        :class:`~reservoir.analysis.FixedPoints`, or a number is not real.
    ValueError
        If ``u`` is not a finite vector of ``n_inputs`` entries, ``match_tol`` is not
        ``> 0``, ``target_atol``/``target_rtol`` is negative or NaN, ``target`` is not
        finite; if ``theory`` is not one of ``"auto"``, ``"ls"``, ``"uncorrelated"``; if
        ``theory="ls"`` without a ``target`` or with ``method`` other than
        ``"accurate"``; if the network does not have one readout, or an argument is
        invalid for the mean-field theory or the fixed-point search.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if u is None:
        u = np.zeros(net.n_inputs)
    else:
        u = as_float_array(u, "u", (0, 1), allow_empty=net.n_inputs == 0).reshape(-1)
        if u.size != net.n_inputs:
            raise ValueError(f"u must have net.n_inputs = {net.n_inputs} entries, got "
                             f"{u.size}")
    with np.errstate(over="ignore", invalid="ignore"):
        drive = net.W_in @ u
        power = drive @ drive
    if not np.isfinite(power):
        raise ValueError("u is too large: the variance of the input drive W_in u overflows")
    if target is not None:
        target = as_real(target, "target")
    match_tol = as_positive_float(match_tol, "match_tol")
    target_atol = as_positive_float(target_atol, "target_atol", allow_zero=True)
    target_rtol = as_positive_float(target_rtol, "target_rtol", allow_zero=True)
    as_choice(method, "method", ("accurate", "gh200"))
    if fixed_points is not None and not isinstance(fixed_points, FixedPoints):
        raise TypeError(f"fixed_points must be FixedPoints or None, got "
                        f"{type(fixed_points).__name__}")
    b0 = float(net.b_out[0]) if net.n_outputs == 1 else 0.0
    # the theory has no intercept: it is solved for the folded network (the same closed
    # loop, readouts z - b_out) and its readouts shifted back by b_out below
    net_theory = net if not net.has_intercept else dataclasses.replace(
        net, b=net.b + net.W_fb @ net.b_out, b_out=None)
    params = MeanFieldParams.from_network(net_theory, u, method=method)
    _check_variance_of(params, params.var_I, "u",
                       f"array with |u| up to {np.max(np.abs(u), initial=0.0):g}")
    name, choice_notes = _choose_theory(theory, net, u, target, method, target_atol,
                                        target_rtol)
    if name == "ls":
        A = float(target)
        with np.errstate(over="ignore"):
            _check_variance_of(params, params.input_variance(np.array([A])), "target", A)
        theory_sol = ls_fixed_points(params, A)
        nm_theory = float(ls_overlaps(params, A)[0])
    else:
        theory_sol = mf_fixed_points(params)
        nm_theory = params.overlap_nm
        if net.has_intercept:
            theory_sol = dataclasses.replace(theory_sol, z=theory_sol.z + b0,
                                             z_grid=theory_sol.z_grid + b0)
    th = theory_sol
    if fixed_points is not None:
        check_points_of(net, u, fixed_points, "fixed_points")
    fps = fixed_points if fixed_points is not None else find_fixed_points(net, u, rng=rng)
    fixed = np.flatnonzero(fps.is_fixed)
    used = set()
    rows = []
    for k in range(len(th)):
        row = {"z_theory": float(th.z[k]), "outlier_theory": float(th.outlier[k].real),
               "bulk_theory": float(th.bulk_radius[k]),
               "stable_theory": bool(th.stable[k]), "z_measured": np.nan,
               "outlier_measured": np.nan, "bulk_measured": np.nan, "stable_measured": None,
               "stable_map_measured": None}
        if fixed.size:
            d = np.abs(fps.z[fixed, 0] - th.z[k])
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
    th_at_target = False
    if target is not None:
        A = float(target)
        kt = match_target(th.z[:, None], [A], target_atol, target_rtol)
        th_at_target = kt is not None
        if th_at_target:
            cls_th = classify_solution(nm_theory, bool(th.stable[kt]),
                                       int(th.stable.sum()) - int(th.stable[kt]))
        jt = match_target(fps.z, [A], target_atol, target_rtol, candidates=fps.is_fixed)
        if jt is not None:
            stable_j = bool(fps.stable_flow[jt])
            n_sp = int(fps.stable_flow[fixed].sum()) - int(stable_j)
            cls_net = classify_solution(params.overlap_nm, stable_j, n_sp)
        else:
            cls_net = "unstable target"
    notes = list(choice_notes)
    if unmatched.size:
        notes.append(f"the theory explains no fixed point near the network's z = "
                     f"{np.round(unmatched, 4).tolist()} (theory {name!r}, within "
                     f"match_tol = {match_tol})")
    if target is not None and not th_at_target:
        if name == "uncorrelated":
            why = ("the uncorrelated theory (Mastrogiuseppe & Ostojic 2019) assumes a "
                   "readout uncorrelated with J, which a trained readout is not (see "
                   "reservoir.meanfield.ls_fixed_points, theory='ls', for least-squares "
                   "readouts)")
        else:
            why = ("the least-squares theory has z = A as a root by construction, so its "
                   "solve failed there (see the theory's messages)")
        notes.append(f"the target {float(target)} is not a fixed point of the theory "
                     f"(theory {name!r}; rule {describe_rule(target_atol, target_rtol)}): "
                     f"{why}; class_theory is None")
    return Prediction(params=params, theory=th, measured=fps, rows=rows,
                      unmatched_measured=unmatched, class_theory=cls_th,
                      class_measured=cls_net,
                      success=bool(th.success and fps.success),
                      messages=tuple(f"theory: {m}" for m in th.messages)
                      + tuple(f"network: {m}" for m in fps.messages) + tuple(notes),
                      theory_name=name)
