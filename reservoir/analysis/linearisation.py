r"""Linearisation of the network and the spectrum of the linearised dynamics.

At a state ``x`` with ``D = diag(phi'(x))`` and effective connectivity

    W_eff = J + W_fb W_out      (closed loop)      or      J      (open / teacher)

the continuous-time vector field ``F(x) = (-x + J phi(x) + W_in u + W_fb f + b) / tau`` has
the Jacobian ``(-I + W_eff D) / tau`` (``kind="flow"``) and the Euler map
``x -> x + dt F(x)`` has ``(1 - alpha) I + alpha W_eff D`` (``kind="map"``,
``alpha = dt / tau``). The eigenvalues ``mu`` of ``S = W_eff D`` decide both:
a fixed point of the flow is stable iff every ``Re(mu) < 1``; the Euler map is stable iff
every ``|1 - alpha + alpha mu| < 1`` (the same condition for ``alpha -> 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_float_array, as_positive_float
from .._results import ResultMixin
from ..network import Network
from ..nonlinearities import get_nonlinearity
from .._simulate import check_mode


def _state(net: Network, x) -> np.ndarray:
    x = as_float_array(x, "x", 1)
    if x.shape != (net.N,):
        raise ValueError(f"x must have shape ({net.N},), got {x.shape}")
    return x


def _check_input(net: Network, u) -> None:
    if u is not None:
        uu = as_float_array(u, "u", 1, allow_empty=True)
        if uu.shape != (net.n_inputs,):
            raise ValueError(f"u must have shape ({net.n_inputs},), got {uu.shape}")


def gain_matrix(net: Network, x, mode: str = "closed") -> np.ndarray:
    """The gain matrix ``S = W_eff D`` at state ``x`` (see the module docstring).

    Parameters
    ----------
    net : Network
        Dense or sparse ``J`` (``S`` is returned dense).
    x : array_like, shape (N,)
        State (currents, not rates).
    mode : {"closed", "open", "teacher"}
        ``"closed"``: ``W_eff = J + W_fb W_out``; otherwise ``W_eff = J``.

    Returns
    -------
    ndarray, shape (N, N)
        ``S`` (dimensionless), a new array.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or ``x`` is not a real array.
    ValueError
        If ``x`` has the wrong shape or ``mode`` is unknown.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    code = check_mode(mode)
    x = _state(net, x)
    d = get_nonlinearity(net.phi).dphi(x)
    W = np.array(net.dense_J(), dtype=np.float64, copy=True)
    if code == 2:
        W += net.W_fb @ net.W_out
    return W * d[None, :]


def jacobian(net: Network, x, u=None, mode: str = "closed", kind: str = "flow") -> np.ndarray:
    """Analytic Jacobian of the dynamics at state ``x``.

    Parameters
    ----------
    net : Network
        Dense or sparse ``J`` (the Jacobian is returned dense).
    x : array_like, shape (N,)
        State (currents, not rates).
    u : array_like, shape (M,), optional
        Input. The Jacobian with respect to ``x`` does not depend on a constant input; the
        argument is accepted (and checked) so that call sites read like the dynamics.
    mode : {"closed", "open", "teacher"}
        ``"closed"`` includes the feedback loop ``W_fb W_out D``; in the other modes the
        fed-back signal does not depend on ``x``.
    kind : {"flow", "map"}
        Continuous-time Jacobian ``(-I + W_eff D) / tau`` (units 1/time) or the Euler
        map's ``(1 - alpha) I + alpha W_eff D``.

    Returns
    -------
    ndarray, shape (N, N)
        The Jacobian: units 1/time for ``kind="flow"``, dimensionless for ``"map"``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an array is not real.
    ValueError
        If ``x`` or ``u`` has the wrong shape, or ``mode`` or ``kind`` is unknown.
    """
    _check_input(net, u)
    if kind not in ("flow", "map"):
        raise ValueError(f"kind must be 'flow' or 'map', got {kind!r}")
    S = gain_matrix(net, x, mode)
    N = net.N
    if kind == "flow":
        S -= np.eye(N)
        S /= net.tau
        return S
    a = net.alpha
    S *= a
    S[np.diag_indices(N)] += 1.0 - a
    return S


@dataclass(frozen=True, eq=False, repr=False)
class Spectrum(ResultMixin):
    """Eigenvalues of the gain matrix ``S = W_eff D`` at a state.

    Plain container: nothing here can fail.

    Parameters
    ----------
    eigenvalues : ndarray of complex, shape (N,)
        Eigenvalues of ``S`` (dimensionless), sorted by decreasing real part. (The
        flow-Jacobian eigenvalues, ``(mu - 1) / tau`` in units 1/time, are
        :attr:`FixedPoints.jacobian_eigenvalues <reservoir.analysis.FixedPoints>`.)
    bulk_radius : float
        Predicted radius of the random bulk, ``sqrt(sum_ij J_ij^2 phi'(x_j)^2 / N)``
        (equals ``g sqrt(<phi'^2>)`` for i.i.d. ``J`` of variance ``g^2/N``: the circular
        law for ``J D``).
    outliers : ndarray of complex
        Eigenvalues with modulus above ``bulk_radius * (1 + margin)``.
    stable_flow : bool
        Every ``Re(mu) < 1`` (the continuous-time fixed point is linearly stable).
    stable_map : bool
        Every ``|1 - alpha + alpha mu| < 1`` (the Euler map is linearly stable).
    """

    eigenvalues: np.ndarray
    bulk_radius: float
    outliers: np.ndarray
    stable_flow: bool
    stable_map: bool


def spectrum(net: Network, x, u=None, mode: str = "closed", margin: float = 0.05) -> Spectrum:
    """Eigenvalues, bulk radius and outliers of ``S = W_eff D`` at ``x``.

    Parameters
    ----------
    net : Network
        Dense or sparse ``J``.
    x : array_like, shape (N,)
        State (currents, not rates).
    u : array_like, shape (M,), optional
        Input; checked only (the gain matrix does not depend on a constant input).
    mode : {"closed", "open", "teacher"}
        ``"closed"``: ``W_eff = J + W_fb W_out``; otherwise ``W_eff = J``.
    margin : float
        Relative distance (>= 0) beyond the predicted bulk edge from which an eigenvalue
        counts as an outlier. The default 0.05 is our choice: finite-N bulk edges
        fluctuate by a few per cent (the circular law of Girko 1984 holds as N -> inf; for
        real Gaussian matrices with N = 1000 we measured a spectral radius of
        1.026 +- 0.009 times its limit).

    Returns
    -------
    Spectrum
        Eigenvalues (dimensionless), bulk radius, outliers and the two stability verdicts.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an argument has the wrong type.
    ValueError
        If ``x`` or ``u`` has the wrong shape, ``mode`` is unknown or ``margin < 0``.
    """
    margin = as_positive_float(margin, "margin", allow_zero=True)
    _check_input(net, u)
    S = gain_matrix(net, x, mode)
    lam = np.linalg.eigvals(S)
    lam = lam[np.argsort(-lam.real, kind="stable")]
    d = get_nonlinearity(net.phi).dphi(_state(net, x))
    if net.is_sparse:
        J2 = net.J.multiply(net.J)
        sq = np.asarray(J2 @ (d**2)).sum()
    else:
        sq = float(((net.J**2) @ (d**2)).sum())
    radius = float(np.sqrt(sq / net.N))
    out = lam[np.abs(lam) > radius * (1 + margin)]
    a = net.alpha
    return Spectrum(eigenvalues=lam, bulk_radius=radius, outliers=out,
                    stable_flow=bool(np.all(lam.real < 1)),
                    stable_map=bool(np.all(np.abs(1 - a + a * lam) < 1)))
