r"""Fixed points and slow points of the closed-loop network.

The closed loop with a constant input ``u`` has the vector field (state units)::

    F(x) = -x + J phi(x) + W_fb (W_out phi(x) + b_out) + c,        c = W_in u + b

(``z = W_out phi(x) + b_out`` the readout, ``b_out`` its intercept, zero by default: in
closed loop it is the constant current ``W_fb b_out``, so the fixed points, Jacobians and
stability are those of the network with bias ``b + W_fb b_out`` and no intercept, and the
readouts are that network's plus ``b_out``) and its fixed points are those of the Euler map
too. Two methods find them:

**z-scan** (one readout, ``K = 1``). For a clamped readout value ``z`` the *open-loop*
network ``F_open(x; z) = -x + J phi(x) + W_fb z + c`` has a fixed point ``x(z)``; closed-loop
fixed points are the roots of the scalar function ``G(z) = W_out phi(x(z)) + b_out - z``
(the
finite-network counterpart of the mean-field ``G(z) = F(z) - z`` of Mastrogiuseppe &
Ostojic 2019). The curve
``x(z)`` is followed by continuation (tangent predictor ``dx/dz = (I - J D)^{-1} W_fb``,
Newton corrector with the analytic Jacobian, steps limited by the change of the rates),
every sign change of ``G`` is bracketed and refined (Brent in ``z``), then polished by full
N-dimensional Newton on ``F``. Two roots can hide inside one step (near a saddle-node
fold of the closed loop): each step is checked with the cubic Hermite interpolant through
``G`` and ``G' = W_out D dx/dz - 1`` at its ends (the tangent is already computed), and
subdivided, down to a minimum width, where the interpolant has interior sign changes, dips
towards zero, or the end slopes have opposite signs at small ``|G|``; what stays unresolved
at the minimum width is reported in ``unreliable``. Near-tangential roots (local minima of
``|G|`` close to 0) are tried with Newton as well. Where the open loop provably contracts
(``||J||_2 sup|phi'| < 1``), ``x(z)`` is unique and no fold alarm is raised. Where the scan is unreliable -- Newton fails, or
``det(I - J D)`` changes sign (a fold: ``x(z)`` is not unique there) -- the interval is
reported in ``unreliable``, not silently skipped.

For bounded ``phi`` every root lies in a known interval: ``|W_out phi| <= sum |W_out|``
for tanh, and ``z`` between the sums of the negative and of the positive readout weights
for the sigmoid, each shifted by ``b_out``. For ReLU no such bound exists; give
``z_range`` (the default is a guess and a message says so).

**Slow-point search** (Sussillo & Barak 2013), for ``K > 1``, chaotic bulks, or to
complement an unreliable scan: seeds are sampled from closed-loop trajectories started at
random states (plus noise); each seed is driven to a minimum of ``q(x) = |F(x)|^2 / 2`` by
damped Newton steps, switching to Levenberg-Marquardt (Gauss-Newton with damping) where
Newton stalls. Minima with ``|F| < tol`` are fixed points; other local minima are *slow
points*. Duplicates are merged and points far from the seeds are dropped (distance
outliers, as in FixedPointFinder).

**Seeds, hits and what they missed.** The user's ``initial_states`` (e.g. states sampled
from task trajectories, the Sussillo & Barak / FixedPointFinder workflow) can replace the
sampled seeds. Each point counts the seeds that ended at it (``n_hits``); from how often
seeds land on points already found, Chao's (1984) estimator gives ``n_unseen``, the number
of fixed points the seeds probably missed (assuming equal basins of seeds).

**Continua.** At a fixed point whose Jacobian is singular within the rounding tolerance
(a gain eigenvalue within ``marginal_tol`` of 1), steps along the near-null directions are
re-converged by Gauss-Newton on ``F = 0`` restricted to the slice orthogonal to them; a
distinct fixed point reached mostly along the step shows a continuum (``continuum_dim``,
a message, ``complete=False``): line and plane attractors, or the exact zero pole of
trained ReLU networks (Rivkind & Barak 2017).

**Completeness.** Neither the scan's between-step check nor the seeds prove that no point
was missed. Where the open loop contracts (``||J||_2 sup|phi'| < 1``, tanh or sigmoid) and
``K <= 3``, :func:`~reservoir.analysis.certify_fixed_points` proves it: the fixed points
are then in one-to-one correspondence with the roots of
``h(z) = W_out phi(x(z)) + b_out - z``,
and subdivision with rigorous derivative bounds encloses every root (``certificate``);
``complete=True`` only when it succeeds and agrees with the points found.

**Stability** is judged for the dynamics as simulated: the Euler map
``x -> x + alpha F(x)`` with the network's ``alpha = dt / tau``, whose multipliers are
``1 - alpha + alpha mu`` (``mu``: eigenvalues of the gain matrix ``(J + W_fb W_out) D`` at
the point). The flow's verdict (``Re(mu) < 1``) is reported beside it (``stable_flow``);
for ``alpha < 1`` the two differ only where multipliers leave the unit circle away from
``+1``, for ``alpha = 1`` (the maps BPTT trains) often. Eigenvalues within a rounding
tolerance of the boundary make a point ``"marginal"`` (undecided), and slow points are
never stable (see :class:`FixedPoints`).

All linear algebra inside the loops goes through SciPy's BLAS/LAPACK only (mixing NumPy's
and SciPy's OpenBLAS builds in one loop was measured 2.6x slower on two cores).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
import scipy.linalg as sla

from .._checks import (as_float_array, as_int, as_positive_float, as_rng, check_memory,
                       check_steps)
from .._deprecation import renamed_fields, renamed_kwargs
from .._checks import RngLike
from .._results import PointSetMixin
from ..network import Network
from ..nonlinearities import get_nonlinearity
from ._closed_loop import _ClosedLoop, _newton, _open_loop_contracts, _point_stability
from .certify import Certificate
from .certify import _certify as _certify_impl
from ._slow_points import (KINDS, _chao1, _continuum_directions, _dedupe, _minimise_q,
                          _null_basis, _seed_states)
from ._zscan import (_check_z_range, _hermite_flag,  # noqa: F401  (_hermite_flag: tests)
                     _scan, _z_range)


@renamed_fields(scan_z="z_grid", scan_h="G_grid", eigenvalues="jacobian_eigenvalues",
                kind="found_by")
@dataclass(frozen=True, eq=False, repr=False)
class FixedPoints(PointSetMixin):
    """Fixed (and slow) points of a closed-loop network, one row per point.

    A point collection: ``fps[mask]``, ``fps[i]``, ``fps[a:b]`` and ``fps[index_array]``
    return a :class:`FixedPoints` holding the selected points (for example
    ``fps[fps.stable]``); the per-point fields listed below are selected, every other
    field (the scan grid, ``u``, ``unreliable``, ``success``, ``messages`` and the
    counters) is kept as it is.

    Parameters
    ----------
    x : ndarray, shape (P, N)
        States (currents, state units). Per point.
    z : ndarray, shape (P, K)
        Readouts ``W_out phi(x) + b_out`` (readout units, the intercept included). Per
        point.
    residual : ndarray, shape (P,)
        ``max_i |F_i(x)|`` (state units); below ``tol`` for fixed points. Per point.
    jacobian_eigenvalues : ndarray of complex, shape (P, N)
        Eigenvalues of the flow Jacobian ``(-I + (J + W_fb W_out) D) / tau`` (units
        1/time; ``phi'(0) = 0`` on a ReLU kink), sorted by decreasing real part (second
        axis of length 0 if not computed). Per point. (Not the eigenvalues of the gain matrix ``(J + W_fb W_out) D``, which
        are dimensionless: those are :attr:`Spectrum.eigenvalues
        <reservoir.analysis.Spectrum>`.)
    multipliers : ndarray of complex, shape (P, N)
        Eigenvalues ``1 - alpha + alpha mu`` of the Jacobian of the Euler map
        ``x -> x + dt F(x) / tau`` that :func:`~reservoir.simulate` iterates (``alpha =
        dt / tau``, ``mu`` the eigenvalues of the gain matrix ``(J + W_fb W_out) D``;
        dimensionless), sorted by decreasing modulus (second axis of length 0 if not
        computed). Equal to ``1 + dt * jacobian_eigenvalues``. Per point.
    stable : ndarray of bool, shape (P,)
        The verdict of the dynamics as simulated (the Euler map): a fixed point (not a slow
        point) whose multipliers all lie inside the unit circle by more than the rounding
        tolerance ``marginal_tol``. Per point.
    stable_flow : ndarray of bool, shape (P,)
        The verdict of the flow ``tau dx/dt = F(x)``: a fixed point whose ``mu`` all have
        ``Re(mu) < 1`` by more than ``marginal_tol``. For ``alpha < 1`` it differs from
        ``stable`` only where multipliers leave the unit circle away from ``+1`` (through
        ``-1`` for real ones); for ``alpha = 1`` (the maps BPTT trains) often. A message
        names the points where the two differ. Per point.
    n_unstable : ndarray of int, shape (P,)
        Number of multipliers outside the unit circle by more than the tolerance (-1 if not
        computed, or undecided on a ReLU kink: see :attr:`stability`). Per point.
    n_marginal : ndarray of int, shape (P,)
        Number of multipliers within the tolerance of the unit circle (-1 as
        ``n_unstable``): their side is decided by rounding, not by the network. Per point.
    marginal_tol : ndarray of float, shape (P,)
        The rounding tolerance on the gain eigenvalues ``mu`` (dimensionless; NaN if not
        computed): ``N eps (1 + ||S||_F)``, with ``S = (J + W_fb W_out) D`` and ``eps`` the
        float64 machine epsilon, the backward error of the eigenvalue solver. An eigenvalue
        near the boundary (within ``1e-4 (1 + ||S||_F)``) gets this tolerance divided by
        its condition number ``s = |y^H x|`` (unit left and right eigenvectors ``y``, ``x``;
        ``s = 1`` for normal matrices, ``~sqrt(eps)`` for a defective eigenvalue), the
        first-order bound on its error; the value reported is the largest tolerance so
        applied. A gain eigenvalue is marginal for the flow when ``|Re(mu) - 1| <= tol``,
        a multiplier ``m`` marginal for the map when ``||m|^2 - 1| <= 2 alpha (1 + alpha
        |1 - mu|) tol`` (``|m|^2 - 1 = alpha (alpha |1 - mu|^2 - 2 Re(1 - mu))`` is computed
        without cancelling against 1). Per point.
    found_by : ndarray of str, shape (P,)
        ``"z-scan"`` (found by the scan), ``"certificate"`` (a root enclosed by the
        certificate that the search had missed), ``"newton"`` (a fixed point found by the
        slow-point search) or ``"slow-point"`` (a local minimum of ``q`` with ``|F| >= tol``).
        Per point.
    n_hits : ndarray of int, shape (P,)
        Number of seeds of the slow-point search that ended at the point (converged to it,
        or to a duplicate merged into it); 0 for points found by the scan alone. Per point.
    continuum_dim : ndarray of int, shape (P,)
        Dimension of the set of fixed points through the point, as detected: 0 for an
        isolated fixed point (no gain eigenvalue ``mu`` within ``marginal_tol`` of 1, so the
        Jacobian of ``F`` is nonsingular and the implicit function theorem isolates the
        point; or, on a ReLU kink, a contraction bound proves it); ``d > 0`` when the
        Jacobian is singular within the tolerance and a continuum was found along ``d``
        of its near-null directions: a step ``x + s w`` along a near-null direction ``w``
        re-converged (Gauss-Newton on ``F = 0`` restricted to the slice orthogonal to the
        near-null space) to a distinct fixed point that differs from ``x`` mostly along
        ``w`` (or the point lies, along those directions, on a continuum detected through
        another row); -1 when undecided (a singular Jacobian along which no step
        re-converged: a bifurcation point or a continuum the steps missed; a ReLU kink
        without a proof) or not computed (slow points, ``compute_eigenvalues=False``).
        Examples: the exact zero pole of trained ReLU networks without bias or input
        (Rivkind & Barak 2017: ``phi`` is positively homogeneous, so with ``c = 0`` every
        ``s x``, ``s > 0``, is fixed: dimension 1), line and plane attractors. A point on a
        continuum has a multiplier at +1, so its stability is ``"marginal"``. Per point.
    u : ndarray, shape (M,)
        The constant input.
    z_grid : ndarray, shape (n_grid,)
        The z-scan's grid of clamped readout values (readout units; empty without a scan:
        ``K > 1``, ``method="slow"``, or ``method="auto"`` at ``N >= 1000`` where the
        certificate proved completeness first).
    G_grid : ndarray, shape (n_grid,)
        ``G(z) = W_out phi(x(z)) + b_out - z`` on ``z_grid`` (readout units): the
        closed-loop fixed points are its roots. The same names as the mean-field solvers' grid and scalar
        function (:class:`reservoir.meanfield.MeanFieldSolution`).
    unreliable : tuple of (float, float, str)
        Intervals of ``z`` where the scan could not follow ``x(z)`` uniquely, with the
        reason.
    n_unseen : float
        Estimate of the number of fixed points the seeds of the slow-point search missed
        (NaN when no seeded search ran or no seed reached a fixed point): Chao's (1984)
        species-richness estimator ``f1^2 / (2 f2)`` (bias-corrected ``f1 (f1 - 1) / 2``
        when ``f2 = 0``), with ``f1``, ``f2`` the numbers of fixed points whose ``n_hits``
        is exactly 1 and 2 (the points of one detected continuum count as one, with their
        hits summed). It assumes every fixed point is as likely to be reached by a seed
        (equal basins of seeds); unstable points and saddles are usually reached less often
        than the stable points trajectories visit, so read it as a lower bound on what
        remains: ``n_unseen > 0`` says to seed more or elsewhere, ``n_unseen = 0`` is no
        proof of completeness.
    complete : bool or None
        ``True``: proved that no fixed point in the stated region was missed; ``False``:
        known to be incomplete (a continuum of fixed points was detected: finitely many
        rows can only sample it); ``None``: not decided. The z-scan alone proves nothing
        (its between-step check is a heuristic) and the slow-point search never proves
        completeness: ``True`` comes only from ``certificate`` (a contracting open loop,
        ``K <= 3``, bounded ``phi``), when it proves its region complete and every point
        found with a readout in that region is one of its roots.
    certificate : Certificate or None
        The proof of completeness (:func:`~reservoir.analysis.certify_fixed_points`: its
        ``region``, the bounds used, undecided boxes), or None when none was attempted
        (see ``certify`` of :func:`find_fixed_points`).
    success : bool
        The scan covered its whole range with no unreliable interval (``method="scan"`` or
        ``"auto"`` with ``K = 1``; intervals on a detected continuum, where ``G = 0``
        along it, do not count), or at least one seed of the slow-point search reached a
        fixed point (``method="slow"``, and ``"auto"`` with ``K > 1``). This says the
        search ran as intended; it is not a proof that no fixed point was missed: that is
        ``complete``.
    messages : tuple of str
        Everything worth knowing about the search (empty when there is nothing to say).
    n_lu : int
        LU factorisations computed (the dominant cost, ``O(N^3)`` each).
    n_steps : int
        Continuation steps of the z-scan (0 without a scan).
    n_seeds : int
        Seeds of the slow-point search (0 when it did not run).

    References
    ----------
    A. Chao, Nonparametric estimation of the number of classes in a population,
    Scandinavian Journal of Statistics 11:265-270 (1984) (``n_unseen``). A. Rivkind and
    O. Barak, Local dynamics in trained recurrent neural networks, Physical Review Letters
    118:258101 (2017) (the zero pole of ReLU networks).
    """

    _point_fields = ("x", "z", "residual", "jacobian_eigenvalues", "multipliers", "stable",
                     "stable_flow", "n_unstable", "n_marginal", "marginal_tol", "found_by",
                     "n_hits", "continuum_dim")

    x: np.ndarray
    z: np.ndarray
    residual: np.ndarray
    jacobian_eigenvalues: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    stable_flow: np.ndarray
    n_unstable: np.ndarray
    n_marginal: np.ndarray
    marginal_tol: np.ndarray
    found_by: np.ndarray
    n_hits: np.ndarray
    continuum_dim: np.ndarray
    u: np.ndarray
    z_grid: np.ndarray
    G_grid: np.ndarray
    unreliable: tuple
    n_unseen: float
    complete: bool | None
    certificate: Certificate | None
    success: bool
    messages: tuple
    n_lu: int
    n_steps: int
    n_seeds: int

    @property
    def counters(self) -> dict:
        """Deprecated: the counters as a dict; use ``n_lu``, ``n_steps``, ``n_seeds``."""
        warnings.warn("FixedPoints.counters is deprecated and will be removed in the next "
                      "release; use .n_lu, .n_steps and .n_seeds", DeprecationWarning,
                      stacklevel=2)
        return {"n_lu": self.n_lu, "n_steps": self.n_steps, "n_seeds": self.n_seeds}

    @property
    def is_fixed(self) -> np.ndarray:
        """True for fixed points, False for slow points.

        Returns
        -------
        ndarray of bool, shape (P,)
            ``found_by != "slow-point"``.
        """
        return self.found_by != "slow-point"

    @property
    def stability(self) -> np.ndarray:
        """The stability type of each point, for the dynamics as simulated (the Euler map).

        Returns
        -------
        ndarray of object (str), shape (P,)
            ``"slow"``: a slow point (``|F| >= tol``), never stable whatever its
            linearisation; ``"unstable"``: all ``N`` multipliers outside the unit circle;
            ``"saddle"``: some (but not all) outside; ``"marginal"``: none outside, but at
            least one within ``marginal_tol`` of the unit circle (linear stability is
            undecided: rounding, a continuum of fixed points, or a bifurcation);
            ``"stable"``: all inside by more than the tolerance (or, at a ReLU kink, proved
            by a contraction bound); ``"unknown"``: eigenvalues not computed
            (``compute_eigenvalues=False``), an ill-conditioned point (Newton's polish from
            it could not locate the root within ``tol_unique``: ``|F| < tol`` holds there
            only because ``F`` is flat, near a singular point or the ghost of a fold), or a
            point on the kink of the ReLU (some
            ``|x_i| <= tol``), where phi is not differentiable and no contraction bound
            ``||(J + W_fb W_out) D||_2 < 1`` (``D = 1`` on the kinks) decides.
        """
        N = self.x.shape[1]
        nu, nm = self.n_unstable, self.n_marginal
        out = np.where(nu < 0, "unknown",
                       np.where(nu >= N, "unstable",
                                np.where(nu > 0, "saddle",
                                         np.where(nm > 0, "marginal", "stable"))))
        out = np.where(self.found_by == "slow-point", "slow", out)
        return out.astype(object)


@renamed_kwargs(eigenvalues="compute_eigenvalues")
def find_fixed_points(net: Network, u: ArrayLike | None = None, *, method: str = "auto",
                      initial_states: ArrayLike | None = None,
                      z_range: tuple[float, float] | None = None,
                      tol: float = 1e-10, max_rate_step: float = 0.1, n_seeds: int = 32,
                      seed_scale: float = 1.0, seed_noise: float = 0.1,
                      seed_duration: float = 20.0, max_iter: int = 100,
                      tol_unique: float = 1e-6, slow_tol_unique: float = 1e-3,
                      compute_eigenvalues: bool = True, certify: bool | None = None,
                      rng: RngLike = None) -> FixedPoints:
    """Find the fixed points of the closed loop at constant input ``u``.

    Parameters
    ----------
    net : Network
        The network (dense or sparse ``J``; the search uses dense algebra).
    u : array_like, shape (M,), optional
        Constant input (default 0).
    method : {"auto", "scan", "slow"}
        ``"scan"``: the z-scan (needs ``K = 1``); ``"slow"``: slow-point search;
        ``"auto"``: the scan for ``K = 1``, plus the slow-point search when the scan
        reports an unreliable interval or ``initial_states`` are given, and the slow-point
        search alone for ``K > 1``.
    initial_states : array_like, shape (S, N), optional
        Seeds of the slow-point search chosen by the user (state units), for example
        states sampled from task trajectories (the workflow of Sussillo & Barak 2013 and
        of FixedPointFinder). They replace the sampled seeds (``n_seeds``,
        ``seed_scale``, ``seed_noise`` and ``seed_duration`` are then unused and ``rng``
        is not drawn from) and are used as given, without noise: add noise to them to
        explore around them. How often they land on the same points gives ``n_hits`` and
        ``n_unseen``. The search is Newton-like: from a seed it finds a root near it, not
        necessarily the attractor the flow reaches. With ReLU, Newton solves the linear
        system of the seed's region at once, so a seed a little off a line attractor can
        land on the root of its own region (often the origin); to find the points the flow
        settles on, relax the seeds first (``simulate(...).x_final``).
    z_range : (float, float), optional
        Interval of readout values to scan (readout units, intercept included; default:
        the bound implied by ``phi``, shifted by ``b_out``).
    tol : float
        Fixed points satisfy ``max |F(x)| < tol`` (state units).
    max_rate_step : float
        Largest RMS change of the rates ``phi(x(z))`` per scan step.
    n_seeds : int
        Slow-point search: number of seeds.
    seed_scale : float
        Slow-point search: std of the random initial states of the seeding runs (state
        units).
    seed_noise : float
        Slow-point search: std of the noise added to the sampled states (state units).
    seed_duration : float
        Slow-point search: length of the seeding runs (time units).
    max_iter : int
        Iterations per seed of the slow-point search.
    tol_unique : float
        Two fixed points closer than this in max-norm (state units) are the same.
    slow_tol_unique : float
        Two slow points closer than this in max-norm (state units) are the same.
    compute_eigenvalues : bool
        Compute the eigenvalues of each point (``O(N^3)`` each) and the stability verdicts
        from them; without them ``stable`` and ``stable_flow`` are all False,
        ``n_unstable`` and ``n_marginal`` are -1 and ``stability`` is ``"unknown"``.
    certify : bool or None
        Prove completeness with :func:`~reservoir.analysis.certify_fixed_points` (over
        ``z_range`` for ``K = 1``, else over the box implied by ``phi``) and add any root it
        encloses that the search missed (``found_by == "certificate"``). ``None`` (default):
        for ``K = 1`` with ``method`` ``"auto"`` or ``"scan"`` when the open loop is proved
        contracting (cheap there); with ``method="auto"`` and ``N >= 1000`` it then runs
        first, and when it proves completeness the z-scan is skipped (every point is then
        found by the certificate; ``method="scan"`` scans as well); ``True``: also for ``K = 2, 3`` and ``method="slow"``
        (subdivision in 2-3 dimensions can take seconds to minutes); ``False``: never.
    rng : None, int, SeedSequence or Generator
        Seeds of the slow-point search.

    Returns
    -------
    FixedPoints
        ``P`` points sorted by their first readout, with ``success``, ``messages`` and the
        counters ``n_lu``, ``n_steps``, ``n_seeds``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network`, or an argument has the wrong type.
    ValueError
        If ``u`` has the wrong shape, ``method`` is unknown, ``method="scan"`` is asked for
        with ``K != 1``, ``z_range`` is not two finite numbers ``lo < hi`` or is given
        with ``K != 1``,
        ``initial_states`` is not a non-empty real finite array of shape (S, N),
        ``certify=True`` with ``K > 3``, or a tolerance, count or scale is out of range.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if method not in ("auto", "scan", "slow"):
        raise ValueError(f"method must be 'auto', 'scan' or 'slow', got {method!r}")
    u = np.zeros(net.n_inputs) if u is None else as_float_array(u, "u", 1, allow_empty=True)
    if u.shape != (net.n_inputs,):
        raise ValueError(f"u must have shape ({net.n_inputs},), got {u.shape}")
    tol = as_positive_float(tol, "tol")
    max_rate_step = as_positive_float(max_rate_step, "max_rate_step")
    n_seeds = as_int(n_seeds, "n_seeds", minimum=1)
    check_memory(8.0 * 6 * n_seeds * net.N, "n_seeds", n_seeds,
                 what="the seed states (several (n_seeds, N) arrays)")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    tol_unique = as_positive_float(tol_unique, "tol_unique")
    slow_tol_unique = as_positive_float(slow_tol_unique, "slow_tol_unique")
    seed_scale = as_positive_float(seed_scale, "seed_scale", allow_zero=True)
    seed_noise = as_positive_float(seed_noise, "seed_noise", allow_zero=True)
    seed_duration = as_positive_float(seed_duration, "seed_duration")
    if initial_states is None:
        T_seed = check_steps(seed_duration, net.dt, "seed_duration")
        check_memory(8.0 * n_seeds * max(T_seed, 2) * (net.N + net.n_inputs + 1),
                     "seed_duration", seed_duration,
                     what=f"the {n_seeds} recorded seed trajectories")
    seeds_given = _as_initial_states(initial_states, net.N)
    K = net.n_outputs
    if certify is not None and not isinstance(certify, (bool, np.bool_)):
        raise TypeError(f"certify must be True, False or None, got {certify!r}")
    if certify is True and K > 3:
        raise ValueError(f"certify=True needs K <= 3 readouts, the network has K = {K}")
    if method == "scan" and K != 1:
        raise ValueError(f"method='scan' needs one readout (K = 1), the network has K = {K}")
    if z_range is not None:
        z_range = _check_z_range(z_range)
        if K != 1:
            raise ValueError(f"z_range is the readout interval of the z-scan, which needs "
                             f"one readout (K = 1); the network has K = {K}")
    sys = _ClosedLoop(net, u)
    messages, unreliable = [], []
    cand_x, cand_kind, cand_seeded = [], [], []
    z_grid = G_grid = np.array([])
    x_grid = np.empty((0, net.N))
    n_steps = 0
    success = True
    cert = None
    if certify is None:
        certify = (K == 1 and method in ("auto", "scan") and net.phi in ("tanh", "sigmoid")
                   and _open_loop_contracts(sys))
    skip_scan = False
    if certify and method == "auto" and K == 1 and seeds_given is None \
            and net.N >= _SKIP_SCAN_MIN_N:
        # the certificate enumerates every root of G with a proof: when it proves
        # completeness the z-scan (tens of LU factorisations) would only repeat it
        cert = _certify(net, u, z_range, tol, sys)
        skip_scan = cert.complete is True and cert.success
        if skip_scan:
            messages.append("z-scan skipped: the certificate proved completeness "
                            "(method='scan' also scans, for z_grid and G_grid)")
    if method in ("auto", "scan") and K == 1 and not skip_scan:
        zr = _z_range(net, z_range, messages)
        roots, z_grid, G_grid, x_grid, unreliable = _scan(sys, zr, tol, max_rate_step)
        n_steps = max(0, z_grid.size - 1)
        for x0 in roots:
            x, ok, _ = _newton(sys, x0, tol, 30)
            if ok:
                cand_x.append(x)
                cand_kind.append("z-scan")
                cand_seeded.append(False)
        success = not unreliable
        if unreliable:
            messages.append(f"the z-scan is unreliable on {len(unreliable)} interval(s); "
                            + ("running the slow-point search too" if method == "auto"
                               else "use method='auto' or 'slow' to search there"))
    run_slow = method == "slow" or (method == "auto" and (K != 1 or bool(unreliable)
                                                          or seeds_given is not None))
    seeds = np.empty((0, net.N))
    if run_slow:
        if seeds_given is not None:
            seeds = seeds_given
        else:
            seeds, n_div = _seed_states(net, u, n_seeds, as_rng(rng), seed_scale,
                                        seed_noise, seed_duration)
            if n_div:
                messages.append(f"{n_div} of {n_seeds} seed trajectories diverged (the "
                                "closed loop grows without bound from there) and were "
                                "dropped")
        if K == 1 and unreliable:
            # unstable fixed points are rarely near trajectories: also start from the scanned
            # states and the input-driven guesses c + W_fb z inside the unreliable intervals
            extra = []
            extra.extend(sys.branch_seeds)   # states on other branches of x(z)
            for a, b, _ in unreliable:
                inside = (z_grid >= a) & (z_grid <= b)
                extra.extend(x_grid[inside])
                extra.extend(sys.c + sys.W_fb[:, 0] * zz for zz in np.linspace(a, b, 5))
            if len(extra) > 4 * n_seeds:
                # many intervals (a continuum of roots, G = 0 along it): an even subset
                pick = np.linspace(0, len(extra) - 1, 4 * n_seeds).round().astype(int)
                extra = [extra[k] for k in pick]
            if extra:
                seeds = np.vstack([seeds, np.array(extra)])
        centroid = seeds.mean(axis=0) if len(seeds) else np.zeros(net.N)
        spread = float(np.mean(np.linalg.norm(seeds - centroid, axis=1))) if len(seeds) \
            else 0.0
        # distance outliers (FixedPointFinder's rule), relative to the seeds' own spread;
        # not judged where the seeds have no spread to speak of
        judge = spread > 1e-8 * (1.0 + float(np.mean(np.linalg.norm(seeds, axis=1))))
        n_conv = n_out = 0
        for s in seeds:
            x, err, fixed = _minimise_q(sys, s, tol, max_iter)
            if judge and np.linalg.norm(x - centroid) > 10 * spread:
                n_out += 1
                continue
            n_conv += fixed
            cand_x.append(x)
            cand_kind.append("newton" if fixed else "slow-point")
            cand_seeded.append(True)
        if method == "slow":
            success = n_conv > 0
        messages.append(f"slow-point search: {n_conv} of {len(seeds)} seeds reached a fixed "
                        "point" + (f" ({n_out} ended far from the seeds and were dropped)"
                                   if n_out else ""))
    if certify:
        if cert is None:
            cert = _certify(net, u, z_range, tol, sys)
        for x in cert.x:
            cand_x.append(x)
            cand_kind.append("certificate")
            cand_seeded.append(False)
    N = net.N
    if cand_x:
        X = np.array(cand_x)
        res = np.array([np.max(np.abs(sys.F(x))) for x in X])
        kinds = np.array(cand_kind, dtype=object)
        tols = np.where(kinds == "slow-point", slow_tol_unique, tol_unique)
        keep, owner = _dedupe(X, res, kinds, tols, return_owner=True)
        hits = np.bincount(owner[np.array(cand_seeded, dtype=bool)], minlength=len(keep))
        X, res, kinds = X[keep], res[keep], kinds[keep]
        # polish the fixed points by Newton until its steps reach rounding: near a singular
        # point |F| < tol holds far from the root (F is flat there), and the copies the
        # seeds stopped at would otherwise be listed as distinct points
        polished = np.zeros(len(X), bool)
        last = np.full(len(X), np.nan)
        for p in np.flatnonzero(kinds != "slow-point"):
            X[p], polished[p], last[p] = _polish(sys, X[p], tol_unique)
        if polished.any():
            res = np.array([np.max(np.abs(sys.F(x))) for x in X])
            keep2, owner2 = _dedupe(X, res, kinds, tols[keep], return_owner=True)
            hits = np.bincount(owner2, weights=hits, minlength=len(keep2)).astype(int)
            # merged points farther apart than their Newton precision whose linear
            # verdicts differ are distinct roots (e.g. the three of a narrow pitchfork)
            pairs = [(i, keep2[o]) for i, o in enumerate(owner2)
                     if i != keep2[o] and polished[i] and polished[keep2[o]]
                     and np.max(np.abs(X[i] - X[keep2[o]])) > 10 * (last[i] + last[keep2[o]])
                     + 1e-12 * (1.0 + np.max(np.abs(X[i])))][:10]
            sep = [np.max(np.abs(X[i] - X[j])) for i, j in pairs
                   if _point_stability(sys, X[i], net.alpha, tol)[1:3]
                   != _point_stability(sys, X[j], net.alpha, tol)[1:3]]
            if sep:
                messages.append("distinct roots closer than tol_unique, with different "
                                "stability, were merged into one point (up to "
                                f"{max(sep):.2g} apart): pass a smaller tol_unique to tell "
                                "them apart (a bifurcation is near)")
            X, res, kinds, polished = X[keep2], res[keep2], kinds[keep2], polished[keep2]
    else:
        X, res, kinds = np.empty((0, N)), np.empty(0), np.empty(0, dtype=object)
        hits = np.zeros(0, dtype=int)
        polished = np.zeros(0, bool)
    Z = sys.readout(sys.phi(X)) if len(X) else np.empty((0, K))
    P = len(X)
    alpha = net.alpha
    slow = kinds == "slow-point"
    cdim = np.full(P, -1)
    if compute_eigenvalues and P:
        ev, mult = [], []
        n_unst, n_marg = np.zeros(P, int), np.zeros(P, int)
        stable_flow, mtol, kink = np.zeros(P, bool), np.zeros(P), np.zeros(P, bool)
        n_null = np.zeros(P, int)
        for p, x in enumerate(X):
            nu, n_unst[p], n_marg[p], stable_flow[p], mtol[p], kink[p] = \
                _point_stability(sys, x, alpha, tol)
            # gain eigenvalues mu = 1 - nu within the tolerance of +1: Jacobian of F singular
            n_null[p] = int(np.sum(np.abs(nu) <= mtol[p]))
            lam = -nu / net.tau                             # flow Jacobian
            ev.append(lam[np.argsort(-lam.real, kind="stable")])
            m = 1.0 - alpha * nu                            # Euler-map multipliers
            mult.append(m[np.argsort(-np.abs(m), kind="stable")])
        ev, mult = np.array(ev), np.array(mult)
        stable = (n_unst == 0) & (n_marg == 0) & ~slow
        stable_flow &= ~slow
        proved = kink & (n_unst == 0) & (n_marg == 0)       # contraction bound on the kink
        cdim = np.where(slow, -1, np.where((n_null == 0) & (~kink | proved), 0, -1))
        # isolation and a linear verdict need a well-conditioned point too: where Newton's
        # polish did not reach rounding, |F| < tol holds only because F is flat there (near
        # a singular point, or a ghost of a fold): its location and stability are undecided
        ill = (cdim == 0) & ~polished
        cdim[ill] = -1
        n_unst[ill], n_marg[ill] = -1, -1
        stable[ill], stable_flow[ill] = False, False
        groups = _detect_continua(sys, X, n_null, ~slow, cdim, tol, tol_unique)
        if np.any(kink & ~slow):
            k = np.flatnonzero(kink & ~slow)
            undecided = int(np.sum(n_unst[k] < 0))
            messages.append(
                f"{k.size} fixed point(s) sit on the kink of the ReLU (|x_i| <= tol at some "
                "units), where phi is not differentiable: jacobian_eigenvalues use "
                "phi'(0) = 0; " + (f"stability is 'unknown' at {undecided} of them (no "
                                   "contraction bound ||W_eff D|| < 1 with D = 1 on the "
                                   "kinks)" if undecided else
                                   "a contraction bound proves them stable"))
    else:
        ev = np.empty((P, 0), dtype=complex)
        mult = np.empty((P, 0), dtype=complex)
        n_unst, n_marg = np.full(P, -1), np.full(P, -1)
        mtol = np.full(P, np.nan)
        stable = np.zeros(P, dtype=bool)
        stable_flow = np.zeros(P, dtype=bool)
        groups = np.full(P, -1)
        n_null = np.zeros(P, int)
        ill = np.zeros(P, bool)
        if P:
            messages.append("compute_eigenvalues=False: stability not computed")
    # the seeds' estimate of what they missed: the points of one continuum are one class
    n_unseen = float("nan")
    if run_slow:
        fixed = ~slow
        cls = np.where(groups >= 0, P + groups, np.arange(P))[fixed]
        counts = np.bincount(cls, weights=hits[fixed], minlength=2 * P + 1) if P else []
        n_unseen = _chao1(np.round(np.asarray(counts)).astype(int))
    complete = False if np.any(groups >= 0) else None
    if cert is not None:
        complete, note = _certified_complete(cert, X, Z, slow, complete, tol_unique)
        messages.append(note)
    if unreliable and np.any(groups >= 0) and K == 1:
        spans = [_root_span(Z[groups == g, 0], z_grid, G_grid, tol)
                 for g in np.unique(groups[groups >= 0])]
        if all(any(_overlaps(iv, sp) for sp in spans) for iv in unreliable):
            # a continuum of roots (G = 0 along it) is what the scan could not resolve
            messages.append("every unreliable interval of the z-scan overlaps the readout "
                            "range of a detected continuum of fixed points (G(z) = 0 along "
                            "it, a continuum of roots the scan cannot resolve): they do not "
                            "count against success")
            success = True
    order = np.argsort(Z[:, 0], kind="stable") if P else np.arange(0)
    rank = np.empty(P, dtype=int)
    rank[order] = np.arange(P)
    fps = FixedPoints(x=X[order], z=Z[order], residual=res[order],
                      jacobian_eigenvalues=ev[order], multipliers=mult[order],
                      stable=stable[order], stable_flow=stable_flow[order],
                      n_unstable=n_unst[order], n_marginal=n_marg[order],
                      marginal_tol=mtol[order], found_by=kinds[order],
                      n_hits=hits[order].astype(int), continuum_dim=cdim[order].astype(int),
                      u=u, z_grid=z_grid, G_grid=G_grid, unreliable=tuple(unreliable),
                      n_unseen=n_unseen, complete=complete, certificate=cert,
                      success=bool(success),
                      messages=(), n_lu=sys.n_lu, n_steps=n_steps, n_seeds=len(seeds))
    if compute_eigenvalues and P:
        messages.extend(_stability_messages(fps, alpha))
        undecided = ~slow & (n_null > 0) & (cdim < 0)
        messages.extend(_continuum_messages(fps, groups[order], undecided[order]))
        if np.any(ill):
            rows = np.flatnonzero(ill[order])
            messages.append(f"{rows.size} fixed point(s) (rows {_rows(rows)}) are ill-"
                            "conditioned: |F| < tol, but a Newton step from them would move "
                            "farther than tol_unique (F is flat there, near a singular "
                            "point): whether they are isolated, and their stability, are "
                            "undecided (continuum_dim = -1, stability 'unknown')")
    if run_slow:
        messages.append(_unseen_message(fps))
    return dataclasses.replace(fps, messages=tuple(messages))


def _polish(sys, x, step_tol, max_iter=200):
    """Newton on the closed-loop ``F`` from ``x`` while each step shrinks and lowers
    ``|F|``, until the step is at rounding level (``1e-12 (1 + |x|)``, max-norm): linear
    convergence at a degenerate root is followed to the end. Returns the point and whether
    its last Newton step was at most ``step_tol`` (the root is located that well), and
    that step (NaN when Newton failed at once)."""
    F = sys.F(x)
    err = np.max(np.abs(F))
    prev = np.inf
    for _ in range(max_iter):
        try:
            with np.errstate(all="ignore"):
                step = sla.lu_solve(sys.lu(sys.minus_jacobian(x, closed=True)), F,
                                    check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            return x, False, np.nan
        s = float(np.max(np.abs(step)))
        if not np.isfinite(s):
            return x, False, np.nan
        xmax = float(np.max(np.abs(x)))
        if s <= 1e-12 * (1.0 + xmax) or s > 0.95 * prev:
            return x, s <= step_tol, s
        if sys.relu and s > 1e-3 * xmax and np.all(np.abs(F) <= sys.F_rounding_level(x)):
            # ReLU: F is affine in each linear region, so a root there is exact after one
            # step and a residual at the rounding level of F's terms carries no direction.
            # A large step now is rounding divided by a singular Jacobian, along a continuum
            # of fixed points; on the rays of a positively homogeneous loop (F(c x) =
            # c F(x)) |F| would fall with every slide towards the origin (|x| went from 34
            # to 1.3). Stay: x is as good a root as F can tell. (Smooth phi keep following
            # a degenerate root, where |F| ~ d^k shrinks with the distance d.)
            return x, False, s
        x_new = x + step
        F_new = sys.F(x_new)
        err_new = np.max(np.abs(F_new))
        if not err_new <= err:
            return x, s <= step_tol, s
        x, F, err, prev = x_new, F_new, err_new, s
    return x, prev <= step_tol, prev


def _certified_complete(cert, X, Z, slow, complete, tol_unique):
    """``complete`` and a message from the certificate: True only when it proves its
    region complete and every fixed point found with a readout in the region is one of
    its roots (a continuum, ``complete=False``, wins)."""
    if complete is False:
        return False, ("certificate: a continuum of fixed points was detected, so the list "
                       "is not complete whatever the certificate says")
    if cert.complete is not True:
        why = cert.messages[0] if cert.messages else "the certificate was not completed"
        return None, f"completeness not proved (complete=None): {why}"
    lo, hi = cert.region[:, 0], cert.region[:, 1]
    for x, z, s in zip(X, Z, slow):
        if s or not np.all((z >= lo) & (z <= hi)):
            continue
        if cert.x.shape[0] == 0 or np.min(np.max(np.abs(cert.x - x), axis=1)) > tol_unique:
            return None, ("completeness not proved (complete=None): a fixed point found at "
                          f"z = {np.round(z, 6).tolist()} is not among the certificate's "
                          "roots (the two disagree; please report this)")
    box = ", ".join(f"[{a:.6g}, {b:.6g}]" for a, b in cert.region)
    return True, (f"complete: the certificate proves these are all {cert.z.shape[0]} fixed "
                  f"point(s) with readout in {box} (open loop contracts: ||J||_2 sup|phi'| "
                  f"<= {cert.contraction:.4g} < 1; {cert.n_boxes} intervals/boxes checked)")


def _as_initial_states(initial_states, N):
    """Validated copy of the user's seed states, shape (S, N), or None."""
    if initial_states is None:
        return None
    try:
        S = np.array(initial_states, copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"initial_states must be an array of shape (S, {N}): {err}") from None
    if S.dtype == object or not (np.issubdtype(S.dtype, np.number) or S.dtype == bool):
        raise TypeError(f"initial_states must be a numeric array of shape (S, {N}), got "
                        f"dtype {S.dtype}")
    if np.iscomplexobj(S):
        raise ValueError("initial_states must be real (states are currents), got a complex "
                         "array")
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] != N:
        raise ValueError(f"initial_states must have shape (S, {N}) with S >= 1 (one state "
                         f"per row), got {S.shape}")
    S = S.astype(np.float64)
    if not np.all(np.isfinite(S)):
        raise ValueError("initial_states must be finite (no NaN or inf)")
    return S


def _detect_continua(sys, X, n_null, fixed, cdim, tol, tol_unique):
    """Continua of fixed points through the points with a singular Jacobian (``n_null``
    gain eigenvalues within the tolerance of +1). Sets ``cdim`` in place and returns each
    point's continuum label (-1: none). A point joins a continuum already found when it has
    as many near-null directions and lies, from the continuum's tested point, along its
    near-null space (the part of the difference off it below 5 %); otherwise steps along
    its own near-null directions are tested (:func:`_continuum_directions`)."""
    groups = np.full(len(X), -1)
    reps = []                       # (row, basis, dimension, label)
    for p in np.flatnonzero(fixed & (n_null > 0)):
        for q, Wq, dq, g in reps:
            if Wq.shape[1] != n_null[p]:
                continue
            d = X[p] - X[q]
            nd = np.linalg.norm(d)
            if nd > 0 and np.linalg.norm(d - Wq @ (Wq.T @ d)) <= 0.05 * nd:
                cdim[p], groups[p] = dq, g
                break
        else:
            W = _null_basis(sys, X[p], int(n_null[p]))
            dim = _continuum_directions(sys, X[p], W, tol, tol_unique)
            cdim[p] = dim if dim > 0 else -1
            if dim > 0:
                groups[p] = len(reps)
                reps.append((p, W, dim, len(reps)))
    return groups


#: From this N on, ``method="auto"`` runs the certificate first and skips the z-scan when it
#: proves completeness (the scan's LU factorisations cost seconds there; below, the scan is
#: cheap and gives the G(z) curve).
_SKIP_SCAN_MIN_N = 1000


def _certify(net, u, z_range, tol, sys):
    """:func:`certify_fixed_points` over ``z_range`` (``K = 1``) or the default region,
    sharing the search's closed loop (its LU count and its bound of ``||J||_2``)."""
    region = (np.array([_z_range(net, z_range, [])])
              if net.n_outputs == 1 and z_range is not None else None)
    return _certify_impl(net, u, region, tol, 20000, 1e-9, sys)


def _root_span(zs, z_grid, G_grid, tol):
    """The readout range of a continuum: from its points' readouts ``zs``, extended over
    the contiguous scan points where ``|G| <= 100 tol`` (``G = 0`` along a continuum of
    roots)."""
    lo, hi = float(zs.min()), float(zs.max())
    if z_grid.size:
        order = np.argsort(z_grid, kind="stable")
        zg, small = z_grid[order], np.abs(G_grid[order]) <= 100 * tol
        k = np.searchsorted(zg, lo, side="right") - 1
        while k >= 0 and small[k]:
            lo = min(lo, float(zg[k]))
            k -= 1
        k = np.searchsorted(zg, hi, side="left")
        while k < zg.size and small[k]:
            hi = max(hi, float(zg[k]))
            k += 1
    return lo, hi


def _overlaps(interval, span):
    pad = 1e-9 * (1.0 + abs(span[0]) + abs(span[1]))
    return interval[0] <= span[1] + pad and interval[1] >= span[0] - pad


def _continuum_messages(fps: FixedPoints, groups, undecided) -> list:
    """One message per detected continuum, and one for the undecided singular points."""
    out = []
    for g in np.unique(groups[groups >= 0]):
        rows = np.flatnonzero(groups == g)
        d = int(fps.continuum_dim[rows[0]])
        out.append(f"a continuum of fixed points of dimension {d} through rows {_rows(rows)}"
                   f" ({rows.size} row(s), one continuum): the list is a sample of it, not "
                   "complete (complete=False); its points have a multiplier at +1 "
                   "(stability 'marginal')")
    rows = np.flatnonzero(undecided)
    if rows.size:
        out.append(f"{rows.size} fixed point(s) (rows {_rows(rows)}) have a singular Jacobian "
                   "within the tolerance, but no step along its near-null directions reached "
                   "another fixed point: isolated or on a continuum, undecided "
                   "(continuum_dim = -1)")
    return out


def _unseen_message(fps: FixedPoints) -> str:
    """What the seeds say about the fixed points they may have missed."""
    if not np.isfinite(fps.n_unseen):
        return "no seed reached a fixed point: no estimate of the unseen ones (n_unseen = NaN)"
    fixed = fps.is_fixed
    n_seen = int(np.sum(fixed & (fps.n_hits > 0)))
    return (f"the seeds reached {n_seen} fixed point(s) (n_hits); Chao1 estimate of fixed "
            f"points they missed: n_unseen = {fps.n_unseen:.3g} (assumes every fixed point "
            "is as likely to be reached by a seed; saddles are usually reached less often, "
            "so it is a lower bound; 0 is no proof of completeness)")


def _stability_messages(fps: FixedPoints, alpha: float) -> list:
    """Messages on slow, marginal and map-versus-flow points (rows after sorting)."""
    out = []
    fixed = fps.is_fixed
    rows = np.flatnonzero(~fixed)
    if rows.size:
        out.append(f"{rows.size} slow point(s) (rows {_rows(rows)}): |F| >= tol, so they are "
                   "not fixed and never called stable (stability 'slow')")
    rows = np.flatnonzero(fixed & (fps.stability == "marginal"))
    if rows.size:
        out.append(f"{rows.size} fixed point(s) marginal (rows {_rows(rows)}): a multiplier "
                   "lies within marginal_tol of the unit circle, so linear stability is "
                   "undecided (rounding, a continuum of fixed points, or a bifurcation)")
    stable_map = fps.stable
    rows = np.flatnonzero(fixed & (stable_map != fps.stable_flow))
    if rows.size:
        out.append(f"the Euler map (alpha = dt/tau = {alpha:g}) and the flow disagree at "
                   f"{rows.size} fixed point(s) (rows {_rows(rows)}): 'stable' and "
                   "'stability' are the map's verdict (the dynamics as simulated), "
                   "'stable_flow' the flow's")
    return out


def _rows(rows, k=8):
    text = ", ".join(str(int(r)) for r in rows[:k])
    return text + (", ..." if rows.size > k else "")


def check_points_of(net: Network, u: np.ndarray, fps: FixedPoints, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``fps`` were found for ``net`` at ``u``.

    ``fps.u`` must equal ``u``, and every fixed point (not slow point) must satisfy the
    closed-loop equation of ``net`` (``-x + J r + W_in u + W_fb (W_out r + b_out) + b = 0``)
    to ``1e-6 max(1, |x|_inf)``: the search converges to about ``1e-10``, while points of
    another network miss by the size of the difference.
    """
    if not isinstance(fps, FixedPoints):
        raise TypeError(f"{name} must be a FixedPoints, got {type(fps).__name__}")
    if fps.u.shape != u.shape or not np.array_equal(fps.u, u):
        raise ValueError(f"{name} were computed for another input u ({fps.u.tolist()}, "
                         f"not {u.tolist()})")
    X = fps.x[fps.is_fixed]
    if X.shape[1:] != (net.N,):
        raise ValueError(f"{name} were computed for a network of another size "
                         f"(N = {fps.x.shape[1]}, not {net.N})")
    if not len(X):
        return
    R = get_nonlinearity(net.phi).phi(X)
    J = net.J
    JR = (J @ R.T).T if net.is_sparse else R @ J.T
    Z = R @ net.W_out.T + net.b_out
    F = -X + JR + net.W_in @ u + Z @ net.W_fb.T + net.b
    bad = np.max(np.abs(F), axis=1) > 1e-6 * np.maximum(1.0, np.max(np.abs(X), axis=1))
    if np.any(bad):
        raise ValueError(
            f"{name} were computed for another network: {int(np.count_nonzero(bad))} of "
            f"{len(X)} fixed points are not fixed points of this one (closed-loop residual "
            f"up to {float(np.max(np.abs(F))):.3g})")

