r"""Fixed points and slow points of the closed-loop network.

The closed loop with a constant input ``u`` has the vector field (state units)::

    F(x) = -x + J phi(x) + W_fb W_out phi(x) + c,        c = W_in u + b

and its fixed points are those of the Euler map too. Two methods find them:

**z-scan** (one readout, ``K = 1``). For a clamped readout value ``z`` the *open-loop*
network ``F_open(x; z) = -x + J phi(x) + W_fb z + c`` has a fixed point ``x(z)``; closed-loop
fixed points are the roots of the scalar function ``G(z) = W_out phi(x(z)) - z`` (the
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
for the sigmoid. For ReLU no such bound exists; give ``z_range`` (the default is a guess
and a message says so).

**Slow-point search** (Sussillo & Barak 2013), for ``K > 1``, chaotic bulks, or to
complement an unreliable scan: seeds are sampled from closed-loop trajectories started at
random states (plus noise); each seed is driven to a minimum of ``q(x) = |F(x)|^2 / 2`` by
damped Newton steps, switching to Levenberg-Marquardt (Gauss-Newton with damping) where
Newton stalls. Minima with ``|F| < tol`` are fixed points; other local minima are *slow
points*. Duplicates are merged and points far from the seeds are dropped (distance
outliers, as in FixedPointFinder).

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

from .._checks import as_float_array, as_int, as_positive_float, as_rng
from .._deprecation import renamed_fields, renamed_kwargs
from .._results import PointSetMixin
from ..network import Network
from ._closed_loop import _ClosedLoop, _newton, _point_stability
from ._slow_points import KINDS, _dedupe, _minimise_q, _seed_states
from ._zscan import _hermite_flag, _scan, _z_range  # noqa: F401  (_hermite_flag: tests)


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
        Readouts ``W_out phi(x)`` (readout units). Per point.
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
        ``"z-scan"`` (found by the scan), ``"newton"`` (a fixed point found by the
        slow-point search) or ``"slow-point"`` (a local minimum of ``q`` with ``|F| >= tol``).
        Per point.
    u : ndarray, shape (M,)
        The constant input.
    z_grid : ndarray, shape (n_grid,)
        The z-scan's grid of clamped readout values (readout units; empty without a scan).
    G_grid : ndarray, shape (n_grid,)
        ``G(z) = W_out phi(x(z)) - z`` on ``z_grid`` (readout units): the closed-loop fixed
        points are its roots. The same names as the mean-field solvers' grid and scalar
        function (:class:`reservoir.meanfield.MeanFieldSolution`).
    unreliable : tuple of (float, float, str)
        Intervals of ``z`` where the scan could not follow ``x(z)`` uniquely, with the
        reason.
    success : bool
        The scan covered its whole range with no unreliable interval (``method="scan"`` or
        ``"auto"`` with ``K = 1``), or at least one seed of the slow-point search reached a
        fixed point (``method="slow"``, and ``"auto"`` with ``K > 1``). This says the
        search ran as intended; it is not a proof that no fixed point was missed (the
        between-step check of the scan is a heuristic).
    messages : tuple of str
        Everything worth knowing about the search (empty when there is nothing to say).
    n_lu : int
        LU factorisations computed (the dominant cost, ``O(N^3)`` each).
    n_steps : int
        Continuation steps of the z-scan (0 without a scan).
    n_seeds : int
        Seeds of the slow-point search (0 when it did not run).
    """

    _point_fields = ("x", "z", "residual", "jacobian_eigenvalues", "multipliers", "stable",
                     "stable_flow", "n_unstable", "n_marginal", "marginal_tol", "found_by")

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
    u: np.ndarray
    z_grid: np.ndarray
    G_grid: np.ndarray
    unreliable: tuple
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
            (``compute_eigenvalues=False``), or a point on the kink of the ReLU (some
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
def find_fixed_points(net: Network, u=None, *, method: str = "auto", z_range=None,
                      tol: float = 1e-10, max_rate_step: float = 0.1, n_seeds: int = 32,
                      seed_scale: float = 1.0, seed_noise: float = 0.1,
                      seed_duration: float = 20.0, max_iter: int = 100,
                      tol_unique: float = 1e-6, slow_tol_unique: float = 1e-3,
                      compute_eigenvalues: bool = True, rng=None) -> FixedPoints:
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
        reports an unreliable interval, and the slow-point search alone for ``K > 1``.
    z_range : (float, float), optional
        Interval of readout values to scan (default: the bound implied by ``phi``).
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
        with ``K != 1``, ``z_range`` is not two finite numbers ``lo < hi``, or a tolerance,
        count or scale is out of range.
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
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    tol_unique = as_positive_float(tol_unique, "tol_unique")
    slow_tol_unique = as_positive_float(slow_tol_unique, "slow_tol_unique")
    seed_scale = as_positive_float(seed_scale, "seed_scale", allow_zero=True)
    seed_noise = as_positive_float(seed_noise, "seed_noise", allow_zero=True)
    seed_duration = as_positive_float(seed_duration, "seed_duration")
    K = net.n_outputs
    if method == "scan" and K != 1:
        raise ValueError(f"method='scan' needs one readout (K = 1), the network has K = {K}")
    sys = _ClosedLoop(net, u)
    messages, unreliable = [], []
    cand_x, cand_kind = [], []
    z_grid = G_grid = np.array([])
    x_grid = np.empty((0, net.N))
    n_steps = 0
    success = True
    if method in ("auto", "scan") and K == 1:
        zr = _z_range(net, z_range, messages)
        roots, z_grid, G_grid, x_grid, unreliable = _scan(sys, zr, tol, max_rate_step)
        n_steps = max(0, z_grid.size - 1)
        for x0 in roots:
            x, ok, _ = _newton(sys, x0, tol, 30)
            if ok:
                cand_x.append(x)
                cand_kind.append("z-scan")
        success = not unreliable
        if unreliable:
            messages.append(f"the z-scan is unreliable on {len(unreliable)} interval(s); "
                            + ("running the slow-point search too" if method == "auto"
                               else "use method='auto' or 'slow' to search there"))
    run_slow = method == "slow" or (method == "auto" and (K != 1 or unreliable))
    if run_slow:
        gen = as_rng(rng)
        seeds = _seed_states(net, u, n_seeds, gen, seed_scale, seed_noise, seed_duration)
        if K == 1 and unreliable:
            # unstable fixed points are rarely near trajectories: also start from the scanned
            # states and the input-driven guesses c + W_fb z inside the unreliable intervals
            extra = []
            for a, b, _ in unreliable:
                inside = (z_grid >= a) & (z_grid <= b)
                extra.extend(x_grid[inside])
                extra.extend(sys.c + sys.W_fb[:, 0] * zz for zz in np.linspace(a, b, 5))
            seeds = np.vstack([seeds] + [np.array(extra)] if extra else [seeds])
        centroid = seeds.mean(axis=0)
        spread = np.mean(np.linalg.norm(seeds - centroid, axis=1)) + 1e-12
        n_conv = 0
        for s in seeds:
            x, err, fixed = _minimise_q(sys, s, tol, max_iter)
            if np.linalg.norm(x - centroid) > 10 * spread:
                continue  # distance outlier
            n_conv += fixed
            cand_x.append(x)
            cand_kind.append("newton" if fixed else "slow-point")
        if method == "slow":
            success = n_conv > 0
        messages.append(f"slow-point search: {n_conv} of {len(seeds)} seeds reached a fixed "
                        "point")
    N = net.N
    if cand_x:
        X = np.array(cand_x)
        res = np.array([np.max(np.abs(sys.F(x))) for x in X])
        kinds = np.array(cand_kind, dtype=object)
        tols = np.where(kinds == "slow-point", slow_tol_unique, tol_unique)
        keep = _dedupe(X, res, kinds, tols)
        X, res, kinds = X[keep], res[keep], kinds[keep]
    else:
        X, res, kinds = np.empty((0, N)), np.empty(0), np.empty(0, dtype=object)
    Z = (net.W_out @ sys.phi(X).T).T if len(X) else np.empty((0, K))
    P = len(X)
    alpha = net.alpha
    slow = kinds == "slow-point"
    if compute_eigenvalues and P:
        ev, mult = [], []
        n_unst, n_marg = np.zeros(P, int), np.zeros(P, int)
        stable_flow, mtol, kink = np.zeros(P, bool), np.zeros(P), np.zeros(P, bool)
        for p, x in enumerate(X):
            nu, n_unst[p], n_marg[p], stable_flow[p], mtol[p], kink[p] = \
                _point_stability(sys, x, alpha, tol)
            lam = -nu / net.tau                             # flow Jacobian
            ev.append(lam[np.argsort(-lam.real, kind="stable")])
            m = 1.0 - alpha * nu                            # Euler-map multipliers
            mult.append(m[np.argsort(-np.abs(m), kind="stable")])
        ev, mult = np.array(ev), np.array(mult)
        stable = (n_unst == 0) & (n_marg == 0) & ~slow
        stable_flow &= ~slow
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
        if P:
            messages.append("compute_eigenvalues=False: stability not computed")
    order = np.argsort(Z[:, 0], kind="stable") if P else np.arange(0)
    fps = FixedPoints(x=X[order], z=Z[order], residual=res[order],
                      jacobian_eigenvalues=ev[order], multipliers=mult[order],
                      stable=stable[order], stable_flow=stable_flow[order],
                      n_unstable=n_unst[order], n_marginal=n_marg[order],
                      marginal_tol=mtol[order], found_by=kinds[order], u=u, z_grid=z_grid,
                      G_grid=G_grid, unreliable=tuple(unreliable), success=bool(success),
                      messages=(), n_lu=sys.n_lu, n_steps=n_steps,
                      n_seeds=len(seeds) if run_slow else 0)
    if compute_eigenvalues and P:
        messages.extend(_stability_messages(fps, alpha))
    return dataclasses.replace(fps, messages=tuple(messages))


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
