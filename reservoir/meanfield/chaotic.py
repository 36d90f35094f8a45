r"""Dynamic mean field of chaotic states with static input (Mastrogiuseppe & Ostojic 2019).

Model (Mastrogiuseppe & Ostojic 2019, model section and chaotic states; the dynamic mean
field of Sompolinsky, Crisanti & Sommers 1988 with a static input):
``dx/dt = -x + J phi(x) + m z + I`` with ``J`` (MO2019's chi, our J) i.i.d. of variance
``g^2/N``. In the large-N limit, at a constant readout ``z``,
unit ``i`` receives the quenched static input ``h_i = m_i z + I_i`` (variance
``Delta_in(z) = var_m z^2 + 2 cov_mI z + var_I`` across units) plus the recurrent field
``eta_i(t)``, a Gaussian process independent of ``(m_i, I_i, n_i)`` with autocovariance
``g^2 C_phi(s)``, ``C_phi(s) = <phi(x(t)) phi(x(t+s))>``. The activation's
autocovariance ``Delta(s) = <x_i(t) x_i(t+s)>`` (average over units and time,
**not** centred) obeys ``Delta - Delta'' = g^2 C_phi + Delta_in``. Writing
``Delta0 = Delta(0)`` and ``Delta_inf = Delta(s -> inf)``:

* long-lag equation::

      Delta_inf = g^2 C(Delta0, Delta_inf) + Delta_in,
      C(Delta0, Delta_inf) = int Dz [ int Dx phi( sqrt(Delta0 - Delta_inf) x + sqrt(Delta_inf) z ) ]^2

* energy conservation of the "particle" ``Delta'' = -V'(Delta)`` between ``s = 0``
  (at rest at ``Delta0``) and ``s = inf`` (at rest at ``Delta_inf``)::

      Delta0^2 = Delta_inf^2 + 2 { g^2 ( [Phi^2](Delta0) - C_Phi(Delta0, Delta_inf) )
                                   + Delta_in (Delta0 - Delta_inf) },     Phi' = phi

  the particle-in-a-potential form of Sompolinsky, Crisanti & Sommers 1988 and
  Mastrogiuseppe & Ostojic 2019 (``Phi = ln cosh`` for tanh). Because ``dC_Phi/dDelta = C_phi``
  at fixed ``Delta0`` (Price's theorem), it is the same as
  ``int_{Delta_inf}^{Delta0} h(D) dD = 0`` with ``h(D) = g^2 C(Delta0, D) + Delta_in - D``;
  we solve that form (Gauss-Legendre in ``D``): it needs ``phi`` only and has no
  cancellation of O(1) terms when ``Delta0 - Delta_inf`` is small, near the chaos boundary.
  :func:`energy_residual` evaluates the ``Phi`` form for cross-checks.

Meaning of ``Delta_inf``: the variance across units of the *temporal means* ``xbar_i``
(the quenched part, ``Delta_in`` plus the quenched part of the recurrent input), equal to
the uncentred long-lag autocovariance ``<x_i(t) x_i(t+s)>`` for ``s -> inf``; it is
nonzero whenever there is a static input. ``Delta0 - Delta_inf`` is the variance of the
temporal fluctuations. Measured in a network: average ``x_i(t) x_i(t+s)`` over units and
``t`` at a lag ``s`` of many correlation times (nothing subtracted).

Solution structure (derived here; used by the solver): ``h`` is convex in ``D`` (its second
derivative is ``g^2 int Dz [int Dx phi'']^2 >= 0``) and ``h(Delta_in) >= 0``. A decaying
autocovariance needs ``Delta_inf`` to be a maximum of ``V`` (``h'(Delta_inf) <= 0``: the
*smallest* root of ``h`` on ``[Delta_in, Delta0]``) and ``Delta''(0) < 0``, i.e.
``h(Delta0) > 0``: ``Delta0`` lies below the static root. As ``Delta0 - Delta_inf -> 0``
the normalised energy ``int h / (Delta0 - Delta_inf)^2 -> h'/2 = (g^2 [phi'^2] - 1)/2``,
so the chaotic branch leaves the static one exactly where the static bulk radius
``g sqrt([phi'^2](Delta0))`` crosses 1 (derived here; checked numerically in the tests).

Solver: for fixed ``Delta_inf`` the long-lag equation has one root ``Delta0(Delta_inf)`` in
``[Delta_inf, Delta_static]`` (``C`` decreases with ``Delta0``; Brent). The normalised
energy along that curve is negative at the lower end of the bracket, ``Delta_inf`` = the
smaller root of ``h`` at ``Delta0 = Delta_static`` (``h < 0`` between its two roots), and
tends to ``(r^2 - 1)/2 > 0`` at ``Delta_inf -> Delta_static`` when the static state is
unstable (``r > 1``); Brent in ``Delta_inf`` between them. Only unstable static states are
searched for a chaotic partner: near the boundary the branch is supercritical (tested:
``Delta0 - Delta_inf`` vanishes linearly in the distance to the threshold), and a chaotic
state coexisting with a stable static one is not looked for. Without input (odd ``phi``)
``Delta_inf = 0`` and one equation in ``Delta0`` remains (the SCS case).

Nonlinearities: the equations hold for any ``phi`` with finite Gaussian moments (no
oddness needed: the quenched mean rates are part of ``C``). Implemented for the smooth,
bounded ``"tanh"`` (``Phi = ln cosh``) and ``"sigmoid"`` (``Phi`` = softplus). ReLU is
rejected: the trapezoid rule loses its accuracy on the kink and the chaotic state
diverges for large ``g``.

Readout in a chaotic state (decision). ``z(t) = (1/N) sum_i n_i phi(x_i(t))`` has
O(N^-1/2) temporal fluctuations (``n`` is uncorrelated with the recurrent noise), so its
time average is what closes the loop. Both ways of averaging give the same result:
at any time ``t``, ``(n_i, x_i(t))`` are jointly Gaussian across units with
``Cov = overlap_nm z + overlap_nI`` and ``Var x = Delta0``, so Stein's lemma gives
``<n phi(x(t))> = Cov [phi'](Delta0)``; averaging first over time, the temporal mean rate
``int Dx phi(sqrt(Delta0 - Delta_inf) x + xbar_i)`` is a function of the quenched field
``xbar_i ~ N(0, Delta_inf)`` whose covariance with ``n`` is again ``Cov``, and Stein's
lemma gives ``Cov int Dz int Dx phi'(...) = Cov [phi'](Delta0)``. Hence

    z = (overlap_nm z + overlap_nI) [phi'](Delta0),

with the *chaotic* ``Delta0`` (total variance, temporal plus quenched) -- not
``[phi'](Delta_inf)`` and not the static ``Delta0`` of (MF-Delta) at the same ``z``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_int, as_positive_float, as_real, check_memory
from .._deprecation import renamed_fields
from .._results import PointSetMixin, ResultMixin
from ..nonlinearities import get_nonlinearity
from .gaussian import check_quadrature, gaussian_average
from .static import MeanFieldParams

SUPPORTED_PHI = ("tanh", "sigmoid")

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)
_LIM = 9.0


def _real_scalar(value, name: str) -> float:
    """A real scalar (Python number or 0-d/size-1 real array) as a float, NaN allowed."""
    return float(as_float_array(value, name, 0, finite=False))


def _functions(phi: str):
    """``phi``, ``phi'``, ``phi''`` and the primitive ``Phi`` from the nonlinearity table."""
    if not isinstance(phi, str) or phi not in SUPPORTED_PHI:
        raise ValueError(f"phi must be one of {SUPPORTED_PHI} for the chaotic theory, "
                         f"got {phi!r}")
    nl = get_nonlinearity(phi)
    return {"phi": nl.phi, "dphi": nl.dphi, "ddphi": nl.ddphi, "Phi": nl.primitive}


def _grid(var: float, n_points):
    """Trapezoid nodes/weights in the standard-normal variable on [-9, 9] for a function
    of ``sqrt(var) * u``: step ``min(0.1, 0.4 / sqrt(var))`` (tanh's poles at imaginary
    distance pi/2 give an error ~ exp(-pi^2 / 0.4) ~ 2e-11)."""
    if n_points is None:
        h = min(0.1, 0.4 / np.sqrt(max(var, 1e-300)))
        n = int(np.ceil(2 * _LIM / h)) + 1
    else:
        n = int(n_points)
    u = np.linspace(-_LIM, _LIM, n)
    w = np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi) * (u[1] - u[0])
    return u, w


def nested_gaussian_average(f: Callable[..., Any], delta0: float, delta_inf: ArrayLike, *,
                            n_points: int | None = None) -> np.ndarray:
    r"""``int Dz [ int Dx f( sqrt(delta0 - delta_inf) x + sqrt(delta_inf) z ) ]^2``.

    Equivalently ``E[f(x1) f(x2)]`` for jointly Gaussian ``x1, x2`` of variance ``delta0``
    and covariance ``delta_inf``. Two-level trapezoid rule in the standard-normal
    variables on ``[-9, 9]``; each level's step is ``min(0.1, 0.4 / sqrt(var))`` for its
    own variance (exponentially convergent for integrands analytic in a strip, like tanh;
    tested against ``scipy.integrate`` to 1e-9).

    Parameters
    ----------
    f : callable
        Vectorised function of an array.
    delta0 : float
        Total variance (>= 0).
    delta_inf : array_like, shape (K,) or scalar
        Covariance(s), ``0 <= delta_inf <= delta0``.
    n_points : int, optional
        Override the number of nodes per level.

    Returns
    -------
    ndarray, shape of ``delta_inf``
        The nested averages.

    Raises
    ------
    TypeError
        If ``delta0`` or ``delta_inf`` is not a real number (array).
    ValueError
        If ``delta0 < 0`` or ``delta_inf`` lies outside ``[0, delta0]``.
    """
    d0 = as_positive_float(_real_scalar(delta0, "delta0"), "delta0", allow_zero=True)
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if n_points is not None:
        n_points = as_int(n_points, "n_points", minimum=2)
        check_memory(4 * 8.0 * n_points * n_points, "n_points", n_points,
                     what="the nested (n_points, n_points) grid")
    check_quadrature(d0, "delta0", d0)
    dinf = np.asarray(as_float_array(delta_inf, "delta_inf", (0, 1)), dtype=float)
    if np.any(dinf < 0) or np.any(dinf > d0 * (1 + 1e-12) + 1e-300):
        raise ValueError(f"delta_inf must lie in [0, delta0={d0}], got {dinf}")
    dinf = np.minimum(dinf, d0)
    flat = np.atleast_1d(dinf)
    out = np.empty(flat.size)
    for k, di in enumerate(flat):
        s_in = np.sqrt(max(d0 - di, 0.0))
        s_out = np.sqrt(di)
        x, wx = _grid(d0 - di, n_points)
        z, wz = _grid(di, n_points)
        inner = f(s_in * x[None, :] + s_out * z[:, None]) @ wx
        out[k] = np.dot(wz, inner * inner)
    return out.reshape(dinf.shape)


def _h(fs, g2, din, d0, D):
    """``h(D) = g^2 C(Delta0, D) + Delta_in - D`` and ``h'(D) = g^2 int Dz [int Dx phi']^2 - 1``."""
    D = np.atleast_1d(np.asarray(D, dtype=float))
    C = nested_gaussian_average(fs["phi"], d0, D)
    dC = nested_gaussian_average(fs["dphi"], d0, D)
    return g2 * C + din - D, g2 * dC - 1.0


def _smallest_root(fs, g2, din, d0, tol=1e-13, max_iter=200):
    """Smallest root of the convex ``h`` on ``[Delta_in, Delta0]`` by monotone Newton from
    the left. Returns ``(root or None, converged)``."""
    D = din
    for _ in range(max_iter):
        hv, dh = _h(fs, g2, din, d0, D)
        hv, dh = float(hv[0]), float(dh[0])
        if hv <= tol * max(1.0, d0):
            return D, True
        if dh >= 0:
            return None, True          # convex and increasing: no root to the right
        step = -hv / dh
        D_new = D + step
        if D_new >= d0:
            return None, True          # the tangent (below h) reaches Delta0: no root before
        if step <= 1e-15 * max(1.0, d0):
            return D_new, True
        D = D_new
    return D, False


def _energy(fs, g2, din, d0, dinf):
    """``int_{Delta_inf}^{Delta0} h(D) dD / (Delta0 - Delta_inf)^2`` (12-node Gauss-Legendre)."""
    eps = d0 - dinf
    D = dinf + 0.5 * eps * (_GL_NODES + 1.0)
    hv, _ = _h(fs, g2, din, d0, D)
    return 0.5 * float(np.dot(_GL_WEIGHTS, hv)) / eps


def energy_residual(params: MeanFieldParams, delta0: float, delta_inf: float,
                    input_variance: float) -> float:
    r"""Residual of the energy equation in its ``Phi`` form (module docstring)::

        Delta0^2 - Delta_inf^2 - 2 { g^2 ([Phi^2](Delta0) - C_Phi) + Delta_in (Delta0 - Delta_inf) }

    (zero at a solution). Used to cross-check the solver, which uses the equivalent
    integral of ``h`` (module docstring).

    Parameters
    ----------
    params : MeanFieldParams
        ``g`` and ``phi`` (tanh or sigmoid) are used.
    delta0 : float
        Equal-time variance.
    delta_inf : float
        Long-lag autocovariance, ``0 <= delta_inf <= delta0``.
    input_variance : float
        ``Delta_in``.

    Returns
    -------
    float
        The residual (state units to the fourth power).

    Raises
    ------
    ValueError
        If ``phi`` is not supported or ``delta_inf`` lies outside ``[0, delta0]``.
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be MeanFieldParams, got {type(params).__name__}")
    fs = _functions(params.phi)
    g2 = params.g**2
    d0 = as_positive_float(_real_scalar(delta0, "delta0"), "delta0", allow_zero=True)
    di = as_positive_float(_real_scalar(delta_inf, "delta_inf"), "delta_inf", allow_zero=True)
    if di > d0 * (1 + 1e-12) + 1e-300:
        raise ValueError(f"delta_inf must lie in [0, delta0], got {di} > {d0}")
    input_variance = as_real(_real_scalar(input_variance, "input_variance"), "input_variance")
    check_quadrature(d0, "delta0", d0)
    P2 = float(nested_gaussian_average(fs["Phi"], d0, d0))
    CP = float(nested_gaussian_average(fs["Phi"], d0, di))
    return d0 * d0 - di * di - 2 * (g2 * (P2 - CP) + input_variance * (d0 - di))


def chaos_threshold(g: float, phi: str = "tanh") -> tuple[float, float]:
    """Edge of chaos for a static input: where the static solution's bulk radius is 1.

    Solves ``g^2 [phi'^2](Delta*) = 1`` for ``Delta*`` (the static ``Delta0`` at the bulk
    edge) and returns ``(Delta*, Delta_in* = Delta* - g^2 [phi^2](Delta*))``: a static
    input of variance below ``Delta_in*`` leaves the static state unstable. For tanh:
    ``Delta*`` = 0.2857 (g = 1.2), 1.1197 (1.5), 4.2079 (2.0); ``Delta_in*`` = 0.0111,
    0.1861, 1.6359.

    Parameters
    ----------
    g : float
        Bulk gain.
    phi : {"tanh", "sigmoid"}
        Nonlinearity.

    Returns
    -------
    delta_star : float
        Static ``Delta0`` at the bulk edge (state units squared).
    input_variance_star : float
        The threshold input variance ``Delta_in*``.

    Raises
    ------
    ValueError
        If ``g <= 1`` for tanh (the static state is then always stable: no threshold), or
        if no bulk edge is bracketed.
    """
    g = as_positive_float(g, "g")
    _functions(phi)

    def r2(d):
        return g * g * float(gaussian_average(phi, "dphi2", 0.0, d)) - 1.0

    lo, hi = 0.0, 1.0
    if r2(lo) <= 0:
        raise ValueError(f"g={g}: the static state is stable for every input (g^2 [phi'^2](0)"
                         " <= 1), there is no chaos threshold")
    while r2(hi) > 0:
        hi *= 2
        if hi > 1e6:
            raise ValueError(f"g={g}: no bulk edge below Delta = 1e6")
    d = scipy.optimize.brentq(r2, lo, hi, xtol=1e-14, rtol=1e-14)
    return float(d), float(d - g * g * gaussian_average(phi, "phi2", 0.0, d))


#: Regimes of a :class:`ChaoticSolution`: a chaotic state was found; the static state is
#: returned (no chaotic solution); neither could be established (``success`` is False).
REGIMES = ("chaotic", "static", "undetermined")

#: The former ``status`` strings of each regime (for the deprecated ``status`` aliases).
_STATUS_OF = {"chaotic": "converged", "static": "no chaotic solution",
              "undetermined": "not converged"}
_REGIME_OF = {v: k for k, v in _STATUS_OF.items()}
_STATUSES = tuple(_STATUS_OF.values())


@renamed_fields(static_radius="static_bulk_radius")
@dataclass(frozen=True, eq=False, repr=False)
class ChaoticSolution(ResultMixin):
    """Solution of the chaotic dynamic mean field at one static input variance.

    Parameters
    ----------
    delta0 : float
        Equal-time variance ``<x^2>`` (chaotic, or the static one when there is no chaos;
        state units squared).
    delta_inf : float
        Long-lag autocovariance; ``delta_inf == delta0`` for a static state.
    input_variance : float
        ``Delta_in`` used.
    static_delta0 : float
        The (largest) static solution of ``Delta0 = g^2 [phi^2](Delta0) + Delta_in``
        (for tanh without input the nonzero root, not the trivial 0).
    static_bulk_radius : float
        ``g sqrt([phi'^2](static_delta0))``: > 1 means the static state is unstable.
    regime : {"chaotic", "static", "undetermined"}
        ``"chaotic"``: a chaotic solution was found (``delta0 > delta_inf``);
        ``"static"``: there is no chaotic solution and the static values are returned;
        ``"undetermined"``: the solve failed (values are the best estimate, or NaN).
    success : bool
        The regime could be established (``regime != "undetermined"``).
    messages : tuple of str
        What the solver found or why it failed, if there is anything to say.
    """

    delta0: float
    delta_inf: float
    input_variance: float
    static_delta0: float
    static_bulk_radius: float
    regime: str
    success: bool
    messages: tuple

    @property
    def chaotic(self) -> bool:
        """A chaotic solution was found."""
        return self.regime == "chaotic"

    @property
    def fluctuation_variance(self) -> float:
        """``delta0 - delta_inf``: variance of the temporal fluctuations."""
        return self.delta0 - self.delta_inf

    @property
    def status(self) -> str:
        """Deprecated alias of ``regime`` and ``success``: ``"converged"``, ``"no chaotic
        solution"`` or ``"not converged"``."""
        warnings.warn("ChaoticSolution.status is deprecated and will be removed in the next "
                      "release; use .regime and .success (the old 'converged' is regime 'chaotic', "
                      "'no chaotic solution' is 'static', 'not converged' is 'undetermined')",
                      DeprecationWarning, stacklevel=2)
        return _STATUS_OF[self.regime]

    @property
    def message(self) -> str:
        """Deprecated alias of ``messages``: the messages joined by ``"; "``."""
        warnings.warn("ChaoticSolution.message is deprecated and will be removed in the next "
                      "release; use .messages", DeprecationWarning, stacklevel=2)
        return "; ".join(self.messages)


def _solution(d0, dinf, din, ds, radius, status, msg=""):
    """A :class:`ChaoticSolution` from the solver's status string and message."""
    regime = _REGIME_OF[status]
    return ChaoticSolution(d0, dinf, din, ds, radius, regime, regime != "undetermined",
                           (msg,) if msg else ())


def _static_variance(phi, g2, din):
    """Largest root of ``g^2 [phi^2](D) + Delta_in - D`` (the static variance; for
    ``Delta_in = 0`` and tanh this is the nonzero root, not the trivial ``D = 0``)."""
    upper = din + g2 * 1.0 + 1e-9  # sup phi^2 = 1 for tanh and sigmoid

    def hs(d):
        return g2 * gaussian_average(phi, "phi2", 0.0, d) + din - d
    grid = din + (upper - din) * np.linspace(0.0, 1.0, 401)[1:]
    vals = hs(grid)
    if vals[-1] >= 0:
        return None
    pos = np.flatnonzero(vals > 0)
    if pos.size == 0:
        return din if hs(din) >= 0 else None
    k = pos[-1]
    return float(scipy.optimize.brentq(lambda d: float(hs(d)), grid[k], grid[k + 1],
                                       xtol=1e-15, rtol=1e-15))


def _delta0_given_inf(fs, g2, din, dinf, d_static, tol):
    """``Delta0`` in ``[Delta_inf, Delta_static]`` solving the long-lag equation at fixed
    ``Delta_inf`` (``C`` decreases with ``Delta0`` at fixed ``Delta_inf``; a chaotic
    ``Delta0`` lies below the static variance, module docstring); None if not bracketed."""
    def k(d0):
        return g2 * float(nested_gaussian_average(fs["phi"], d0, dinf)) + din - dinf
    ka, kb = k(dinf), k(d_static)
    if not (ka > 0 > kb):
        return None
    return float(scipy.optimize.brentq(k, dinf, d_static, xtol=tol, rtol=1e-14))


def _solve_at(phi, g, din, *, tol):
    fs = _functions(phi)
    g2 = g * g
    ds = _static_variance(phi, g2, din)
    if ds is None:
        return _solution(np.nan, np.nan, din, np.nan, np.nan, "not converged",
                               "static variance not bracketed")
    radius = float(g * np.sqrt(gaussian_average(phi, "dphi2", 0.0, ds)))

    def static(status, msg):
        return _solution(ds, ds, din, ds, radius, status, msg)

    odd = phi == "tanh"
    if din < 1e-12 and odd:
        # No input (odd phi): Delta_inf = 0 exactly, one equation in Delta0 (SCS). For
        # 0 < Delta_in < 1e-12 the same Delta0 with the linear-response
        # Delta_inf = Delta_in / (1 - g^2 [phi']^2), exact to O(Delta_in^2) (the bracket
        # below cannot resolve such inputs in double precision)
        def E0(d0):
            return _energy(fs, g2, 0.0, d0, 0.0)
        # E0 > 0 for small Delta0 (h(D) ~ (g^2 [phi']^2 - 1) D > 0) and E0 < 0 at the
        # nonzero static root (h < 0 between its roots 0 and Delta_static)
        a, b = ds * 1e-6, ds
        if not (E0(a) > 0 > E0(b)):
            return static("no chaotic solution" if radius <= 1 else "not converged",
                          "no sign change of the energy in (0, Delta_static)")
        d0 = scipy.optimize.brentq(E0, a, b, xtol=tol, rtol=1e-14)
        if din == 0.0:
            return _solution(float(d0), 0.0, din, ds, radius, "converged", "")
        gain = g2 * float(gaussian_average(phi, "dphi", 0.0, d0)) ** 2
        return _solution(float(d0), din / (1.0 - gain), din, ds, radius, "converged",
                               "Delta_in < 1e-12: SCS solution + linear response")
    if ds - din <= 1e-14:
        return static("no chaotic solution", "no recurrent variance (g = 0?)")

    def E(dinf):
        d0 = _delta0_given_inf(fs, g2, din, dinf, ds, tol * 1e-2)
        if d0 is None:
            raise FloatingPointError(f"long-lag equation not bracketed at Delta_inf={dinf}")
        if d0 - dinf <= 1e-13 * max(1.0, d0):
            raise FloatingPointError("Delta0 = Delta_inf")
        return _energy(fs, g2, din, d0, dinf), d0

    if radius <= 1.0:
        return static("no chaotic solution", "static state stable (bulk radius <= 1)")
    # Bracket in Delta_inf (derived; module docstring): the chaotic branch exists for
    # Delta_inf between the smaller root of h at Delta0 = Delta_static (there Delta0 hits
    # the static value and the normalised energy is negative: h < 0 between the roots)
    # and Delta_static (there Delta0 - Delta_inf -> 0 and the energy -> (r^2 - 1)/2 > 0).
    lo, conv = _smallest_root(fs, g2, din, ds)
    if lo is None or not conv or ds - lo <= 1e-12 * max(1.0, ds):
        return static("not converged", "no lower bracket for Delta_inf")
    e_lo = _energy(fs, g2, din, ds, lo)
    hi = ds - 1e-7 * (ds - lo)
    try:
        e_hi = E(hi)[0]
    except FloatingPointError as exc:
        return static("not converged", f"upper bracket failed: {exc}")
    found = []
    if e_lo < 0 < e_hi:
        try:
            di = scipy.optimize.brentq(lambda x: E(x)[0] if x > lo else e_lo, lo, hi,
                                       xtol=tol, rtol=1e-14)
        except (FloatingPointError, ValueError, RuntimeError) as exc:
            return static("not converged", f"Brent failed: {exc}")
        d0 = E(di)[1] if di > lo else ds
        _, dh = _h(fs, g2, din, d0, di)
        if float(dh[0]) <= 0:   # Delta_inf must be a maximum of the potential
            found.append((d0, di))
    if found:
        d0, di = max(found, key=lambda t: t[0] - t[1])
        msg = "" if len(found) == 1 else f"{len(found)} chaotic solutions; largest kept"
        return _solution(float(d0), float(di), din, ds, radius, "converged", msg)
    if radius > 1 + 1e-9:
        return static("not converged", "static state unstable but no chaotic branch found")
    return static("no chaotic solution", "static state stable (bulk radius <= 1)")


def chaotic_variances(params: MeanFieldParams, z: float = 0.0, *,
                      input_variance: float | None = None,
                      tol: float = 1e-12) -> ChaoticSolution:
    """Solve the chaotic DMF for ``(Delta0, Delta_inf)`` at output level ``z``.

    Parameters
    ----------
    params : MeanFieldParams
        ``g``, ``phi`` (tanh or sigmoid) and the input statistics ``var_m, var_I, cov_mI``
        (the readout overlaps are not used).
    z : float
        Output level fed back (open loop / clamped feedback): ``Delta_in = var_m z^2 +
        2 cov_mI z + var_I``.
    input_variance : float, optional
        Use this ``Delta_in`` instead of the one from ``params`` and ``z``.
    tol : float
        Absolute tolerance on ``Delta0``.

    Returns
    -------
    ChaoticSolution
        The chaotic solution (``delta0 > delta_inf``, ``regime="chaotic"``) when it
        exists, otherwise the static one (``delta0 == delta_inf``, ``regime="static"``);
        ``regime="undetermined"`` and ``success=False`` if the static state is unstable
        and no chaotic branch could be found, or a solve failed (``messages`` says which).

    Raises
    ------
    TypeError
        If ``params`` is not a :class:`MeanFieldParams`.
    ValueError
        If ``params.phi`` is not ``"tanh"`` or ``"sigmoid"``, ``z`` is not finite, or
        ``input_variance`` is negative or not finite.
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be MeanFieldParams, got {type(params).__name__}")
    _functions(params.phi)
    tol = as_positive_float(tol, "tol")
    if input_variance is None:
        z = _real_scalar(z, "z")
        with np.errstate(over="ignore"):
            din = float(params.input_variance(z))
        name, value = "z", z
    else:
        din = as_positive_float(input_variance, "input_variance", allow_zero=True)
        name, value = "input_variance", din
    din = max(din, 0.0)
    if not np.isfinite(din):
        raise ValueError(f"{name}={value!r} gives a non-finite input variance")
    check_quadrature(din + float(params.g) ** 2, name, value)
    return _solve_at(params.phi, float(params.g), din, tol=tol)


@dataclass(frozen=True, eq=False, repr=False)
class ChaoticClosedLoop(PointSetMixin):
    """Closed-loop solutions ``z = (overlap_nm z + overlap_nI) [phi'](Delta0_chaotic(z))``.

    They are sought in the region where the static state is unstable
    (``Delta_in(z) < Delta_in*``). A point collection: ``result[mask]`` keeps the selected
    roots; the interval, grid, ``success`` and ``messages`` are kept.

    Parameters
    ----------
    z : ndarray, shape (P,)
        The chaotic closed-loop solutions (spurious chaotic attractors when the target is
        elsewhere; readout units).
    delta0 : ndarray, shape (P,)
        Equal-time variance at each root (state units squared).
    delta_inf : ndarray, shape (P,)
        Long-lag autocovariance at each root.
    regime : tuple of str, length P
        Regime of the DMF solve at each root (:data:`REGIMES`).
    z_interval : tuple of float or None
        Interval of ``z`` where the static state is unstable (None if empty).
    z_grid : ndarray, shape (n_grid,)
        The bracketing grid (readout units).
    G_grid : ndarray, shape (n_grid,)
        ``F_chaotic(z) - z`` on the grid (NaN where the DMF failed).
    success : bool
        Every grid point and root converged.
    messages : tuple of str
        What went wrong or deserves attention, if anything.
    """

    _point_fields = ("z", "delta0", "delta_inf", "regime")

    z: np.ndarray
    delta0: np.ndarray
    delta_inf: np.ndarray
    regime: tuple
    z_interval: tuple | None
    z_grid: np.ndarray
    G_grid: np.ndarray
    success: bool
    messages: tuple

    @property
    def status(self) -> tuple:
        """Deprecated alias of ``regime``: the former status strings of the roots."""
        warnings.warn("ChaoticClosedLoop.status is deprecated and will be removed in the "
                      "next release; use .regime (the old 'converged' is regime 'chaotic', 'no "
                      "chaotic solution' is 'static', 'not converged' is 'undetermined')",
                      DeprecationWarning, stacklevel=2)
        return tuple(_STATUS_OF[r] for r in self.regime)


def chaotic_fixed_points(params: MeanFieldParams, *, n_grid: int = 41) -> ChaoticClosedLoop:
    """All chaotic closed-loop solutions (grid + Brent, as :func:`mf_fixed_points`).

    The chaotic region ``{z : Delta_in(z) < Delta_in*}`` (:func:`chaos_threshold`) is an
    interval around ``-cov_mI / var_m``. ``G(z) = (overlap_nm z + overlap_nI)
    [phi'](Delta0(z)) - z`` with the chaotic ``Delta0`` (module docstring for why this
    average) is tabulated on ``n_grid`` points inside it and its sign changes refined by
    Brent. Tangential roots are missed, as with any grid method.

    Parameters
    ----------
    params : MeanFieldParams
        Network statistics and readout overlaps (``phi``: tanh or sigmoid).
    n_grid : int
        Grid points in the chaotic interval.

    Returns
    -------
    ChaoticClosedLoop
        The chaotic closed-loop solutions; ``success`` and ``messages`` report the scan.

    Raises
    ------
    TypeError
        If ``params`` is not a :class:`MeanFieldParams` or ``n_grid`` is not an integer.
    ValueError
        If ``n_grid < 3``.
    """
    if not isinstance(params, MeanFieldParams):
        raise TypeError(f"params must be MeanFieldParams, got {type(params).__name__}")
    p = params
    n_grid = as_int(n_grid, "n_grid", minimum=3)
    empty = np.empty(0)
    try:
        _, din_c = chaos_threshold(p.g, p.phi)
    except ValueError as exc:
        return ChaoticClosedLoop(empty, empty, empty, (), None, empty, empty, True,
                                 (str(exc),))
    messages = []
    if p.var_m == 0.0:
        if p.var_I >= din_c:
            return ChaoticClosedLoop(empty, empty, empty, (), None, empty, empty, True,
                                     ("no chaotic region: input above threshold",))
        sol = chaotic_variances(p, 0.0)
        psi = float(gaussian_average(p.phi, "dphi", 0.0, sol.delta0))
        den = 1.0 - p.overlap_nm * psi
        if den == 0.0:
            return ChaoticClosedLoop(empty, empty, empty, (), (-np.inf, np.inf), empty, empty,
                                     False, ("degenerate: overlap_nm [phi'] = 1",))
        z = p.overlap_nI * psi / den
        return ChaoticClosedLoop(np.array([z]), np.array([sol.delta0]),
                                 np.array([sol.delta_inf]), (sol.regime,),
                                 (-np.inf, np.inf), empty, empty, sol.chaotic,
                                 () if sol.chaotic else
                                 (f"no chaotic DMF solution at z = {z}: {sol.regime}",)
                                 + sol.messages)
    disc = p.cov_mI**2 - p.var_m * (p.var_I - din_c)
    if disc <= 0:
        return ChaoticClosedLoop(empty, empty, empty, (), None, empty, empty, True,
                                 ("no chaotic region: Delta_in(z) >= threshold for all z",))
    zc = -p.cov_mI / p.var_m
    half = np.sqrt(disc) / p.var_m
    lo, hi = zc - half, zc + half
    # nodes strictly inside, denser near the ends where Delta0 - Delta_inf -> 0
    t = np.cos(np.linspace(np.pi, 0.0, n_grid + 2)[1:-1])
    zg = zc + half * t
    cache = {}

    def dmf(zz):
        if zz not in cache:
            cache[zz] = chaotic_variances(p, zz)
        return cache[zz]

    def G(zz):
        s = dmf(zz)
        if not s.chaotic:
            raise FloatingPointError(f"no chaotic DMF solution at z={zz}: {s.regime}")
        return (p.overlap_nm * zz + p.overlap_nI) * float(
            gaussian_average(p.phi, "dphi", 0.0, s.delta0)) - zz

    Gg = np.full(zg.size, np.nan)
    for k, zz in enumerate(zg):
        try:
            Gg[k] = G(float(zz))
        except FloatingPointError as exc:
            messages.append(str(exc))
    roots, stat, d0s, dis = [], [], [], []
    for k in range(zg.size - 1):
        a, b = Gg[k], Gg[k + 1]
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        if a == 0.0:
            zr = float(zg[k])
        elif np.sign(a) != np.sign(b) and b != 0.0:
            try:
                zr = scipy.optimize.brentq(G, zg[k], zg[k + 1], xtol=1e-10, rtol=1e-12)
            except (FloatingPointError, ValueError, RuntimeError) as exc:
                messages.append(f"Brent failed in [{zg[k]}, {zg[k + 1]}]: {exc}")
                continue
        else:
            continue
        s = dmf(float(zr))
        roots.append(float(zr))
        stat.append(s.regime)
        d0s.append(s.delta0)
        dis.append(s.delta_inf)
    ok = bool(np.all(np.isfinite(Gg))) and all(s == "chaotic" for s in stat) and \
        not any(m.startswith("Brent") for m in messages)
    return ChaoticClosedLoop(np.array(roots), np.array(d0s), np.array(dis), tuple(stat),
                             (float(lo), float(hi)), zg, Gg, ok, tuple(messages))


def __getattr__(name):
    if name == "STATUSES":
        warnings.warn("reservoir.meanfield.chaotic.STATUSES (the former status strings) is "
                      "deprecated and will be removed in the next release; results now "
                      "report a regime, one of reservoir.meanfield.chaotic.REGIMES, with "
                      "success and messages", DeprecationWarning, stacklevel=2)
        return _STATUSES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
