r"""Linearisation of the network and the spectrum of the linearised dynamics.

At a state ``x`` with ``D = diag(phi'(x))`` and effective connectivity

    W_eff = J + W_fb W_out      (closed loop)      or      J      (open / teacher)

the continuous-time vector field ``F(x) = (-x + J phi(x) + W_in u + W_fb f + b) / tau`` has
the Jacobian ``(-I + W_eff D) / tau`` (``kind="flow"``) and the Euler map
``x -> x + dt F(x)`` has ``(1 - alpha) I + alpha W_eff D`` (``kind="map"``,
``alpha = dt / tau``). The eigenvalues ``mu`` of ``S = W_eff D`` decide both:
a fixed point of the flow is stable iff every ``Re(mu) < 1``; the Euler map is stable iff
every ``|1 - alpha + alpha mu| < 1`` (the same condition for ``alpha -> 0``).
In closed loop the fed-back signal is the readout ``f = z = W_out phi(x) + b_out``; its
intercept ``b_out`` is a constant current ``W_fb b_out`` and drops out of every Jacobian
here (it moves the fixed points, not the linearisation at a given state).

The radius of the random bulk of ``S`` (:func:`spectrum`) is estimated from the entries of
``J`` in one of two ways, recorded in ``Spectrum.bulk_method``:

* ``"zero-mean"``: ``r^2 = sum_ij J_ij^2 phi'(x_j)^2 / N``, the circular law (Girko 1984)
  for ``J D`` when the entries of ``J`` have mean zero (``g sqrt(<phi'^2>)`` for i.i.d. ``J``
  of variance ``g^2 / N``).
* ``"column-centred"``: ``r^2 = sum_j phi'(x_j)^2 s_j^2``, with ``s_j^2`` the variance of
  column ``j`` of ``J`` about its own mean (the unbiased sample variance over all ``N``
  rows, zeros of a sparse ``J`` included). Under Dale's law every column (presynaptic
  unit) has one sign, so ``J = 1 m^T + X``: a column mean of rank one plus fluctuations
  ``X`` whose variance depends on the column. K. Rajan and L. F. Abbott, *Eigenvalue
  spectra of random matrices for neural networks*, Phys. Rev. Lett. 97:188104 (2006),
  showed for excitatory and inhibitory columns (fraction ``f`` excitatory, entry variances
  ``sigma_E^2 / N`` and ``sigma_I^2 / N``) that the bulk does not depend on the means and
  has radius ``r^2 = f sigma_E^2 + (1 - f) sigma_I^2``, the sum of the column variances
  ``sum_j Var(J_ij)``. This is the spectral radius of a variance profile that depends on
  the column only (N. Cook, W. Hachem, J. Najim and D. Renfrew, *Non-Hermitian random
  matrices with a variance profile (I)*, Electron. J. Probab. 23:110, 2018), and ``D``
  scales the variance of column ``j`` by ``phi'(x_j)^2``, hence the formula. The mean adds
  one eigenvalue near ``sum_j m_j phi'(x_j)`` (an outlier where it lies beyond the bulk).
  Where the rows of ``J D`` do not sum to the same value (Rajan & Abbott's zero row-sum
  constraint), the mean and the fluctuations together also push a few eigenvalues beyond
  the bulk edge (the "local outliers" of I. D. Harris, H. Meffin, A. N. Burkitt and
  A. D. H. Peterson, arXiv:2212.01549, 2023): they lie outside the bulk, and ``outliers``
  lists them.

``bulk_method="auto"`` (the default) removes the column means only when they are
distinguishable from sampling noise. Their share of the weighted sum of squares is
``E = sum_j phi'(x_j)^2 m_j^2`` (``m_j`` the sample column mean); for zero-mean columns its
mean is ``E_0 = r_0^2 / N`` (``r_0`` the zero-mean radius) and, for Gaussian entries, its
standard deviation ``E_0 sqrt(2 / n_eff)``, with ``n_eff = (sum_j w_j)^2 / sum_j w_j^2`` and
``w_j = phi'(x_j)^2 sum_i J_ij^2 / N`` (the degrees of freedom of the weighted chi-square).
The means are removed when ``E > E_0 (1 + 8 sqrt(2 / n_eff))``. Below that threshold the two
estimates of ``r^2`` differ by at most ``max(1, 8 sqrt(2 / n_eff)) / (N - 1)`` relative, so
keeping the zero-mean number (unchanged for zero-mean ``J``) costs less than that. Both
estimates count every other structure of ``J`` (a trained low-rank part, for instance) as
bulk variance: they describe random connectivity, and the eigenvalues themselves are
always in ``Spectrum.eigenvalues``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

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
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
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


def jacobian(net: Network, x: ArrayLike, u: ArrayLike | None = None, mode: str = "closed",
             kind: str = "flow") -> np.ndarray:
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
    if not isinstance(kind, str) or kind not in ("flow", "map"):
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
        Predicted radius of the random bulk of ``J D`` (the feedback ``W_fb W_out`` only
        adds outliers), estimated as ``bulk_method`` says (module docstring): for
        zero-mean ``J``, ``sqrt(sum_ij J_ij^2 phi'(x_j)^2 / N)`` (``g sqrt(<phi'^2>)`` for
        i.i.d. ``J`` of variance ``g^2/N``: the circular law for ``J D``); for ``J`` with
        column means (Dale's law), ``sqrt(sum_j phi'(x_j)^2 Var_i(J_ij))`` (Rajan & Abbott
        2006).
    bulk_method : {"zero-mean", "column-centred"}
        Which estimate gave ``bulk_radius``.
    outliers : ndarray of complex
        Eigenvalues with modulus above ``bulk_radius * (1 + margin)``.
    margin : float
        The relative margin used for ``outliers`` (dimensionless): the one given, or the
        automatic ``3 / sqrt(n_eff)`` (:func:`spectrum`).
    stable_flow : bool
        Every ``Re(mu) < 1`` (the continuous-time fixed point is linearly stable).
    stable_map : bool
        Every ``|1 - alpha + alpha mu| < 1`` (the Euler map is linearly stable).
    """

    eigenvalues: np.ndarray
    bulk_radius: float
    bulk_method: str
    outliers: np.ndarray
    margin: float
    stable_flow: bool
    stable_map: bool


_BULK_METHODS = ("auto", "zero-mean", "column-centred")
_MEAN_Z = 8.0  # standard deviations of the column means' share before they are removed
#: The automatic outlier margin is ``_EDGE_C / sqrt(n_eff)`` (docstring of :func:`spectrum`).
_EDGE_C = 3.0


def _bulk_radius(net: Network, d: np.ndarray, method: str) -> tuple[float, str, float]:
    """Bulk radius of ``J D``, the method used (module docstring) and the effective number
    of columns ``n_eff = (sum_j w_j)^2 / sum_j w_j^2`` of the weighted variance."""
    N = net.N
    d2 = d**2
    if net.is_sparse:
        J2 = net.J.multiply(net.J)
        r0sq = float(np.asarray(J2 @ d2).sum()) / N
        q = np.asarray(J2.sum(axis=0)).ravel() / N
        m = np.asarray(net.J.sum(axis=0)).ravel() / N
    else:
        J2 = net.J**2
        r0sq = float((J2 @ d2).sum()) / N
        q = J2.sum(axis=0) / N
        m = net.J.sum(axis=0) / N
    w = d2 * q
    W = float(w.sum())
    n_eff = W**2 / float((w**2).sum()) if W > 0 else 1.0
    if method == "auto":
        if W > 0 and N > 1:
            E = float((d2 * m**2).sum())
            method = ("column-centred" if E > (W / N) * (1 + _MEAN_Z * np.sqrt(2 / n_eff))
                      else "zero-mean")
        else:
            method = "zero-mean"
    if method == "zero-mean":
        return float(np.sqrt(r0sq)), method, n_eff
    if N < 2:
        raise ValueError("bulk_method='column-centred' needs N >= 2 (a column variance)")
    var = np.maximum(q - m**2, 0.0) * (N / (N - 1))
    return float(np.sqrt((d2 * var).sum())), method, n_eff


def spectrum(net: Network, x: ArrayLike, u: ArrayLike | None = None, mode: str = "closed",
             margin: float | None = None,
             bulk_method: str = "auto") -> Spectrum:
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
    margin : float, optional
        Relative distance (>= 0) beyond the predicted bulk edge from which an eigenvalue
        counts as an outlier. The default is ``3 / sqrt(n_eff)``, with ``n_eff = (sum_j
        w_j)^2 / sum_j w_j^2`` and ``w_j = phi'(x_j)^2 sum_i J_ij^2`` the effective number of
        columns of ``J D`` (``N`` when ``D = 1``): finite-N bulk edges overshoot the
        circular law (Girko 1984, an ``N -> inf`` result) by an amount that shrinks like
        ``1/sqrt(N)``. For real Gaussian ``J`` we measured the largest modulus over the
        bulk radius at quantiles 99 % / 99.9 % of ``1 + 1.5 / sqrt(n_eff)`` /
        ``1 + 2.2 / sqrt(n_eff)`` (N = 20-1000, tanh gains at random states, 200-4000
        matrices each), so the default lists a bulk eigenvalue as an outlier in well under
        one matrix in a thousand (0.05 at ``N = 3600``, 0.095 at ``N = 1000``, 0.15 at
        ``N = 400``). A fixed 0.05, the old default, gave false outliers at N = 300-400.
        Less homogeneous matrices overshoot more: for Dale matrices with N = 400 (80 %
        excitatory) we measured the largest bulk modulus at 0.99-1.12 times the
        column-centred estimate over 20 seeds.
    bulk_method : {"auto", "zero-mean", "column-centred"}
        How the bulk radius is estimated (module docstring): ``"zero-mean"``, the
        circular law for zero-mean ``J``; ``"column-centred"``, from the column variances
        about the column means (Dale / E-I matrices, Rajan & Abbott 2006); ``"auto"``
        picks ``"column-centred"`` when the column means are distinguishable from
        sampling noise (8 standard deviations), so that zero-mean ``J`` keeps the
        zero-mean number exactly.

    Returns
    -------
    Spectrum
        Eigenvalues (dimensionless), bulk radius and the method that estimated it,
        outliers and the two stability verdicts.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network` or an argument has the wrong type.
    ValueError
        If ``x`` or ``u`` has the wrong shape, ``mode`` or ``bulk_method`` is unknown,
        ``margin < 0``, or ``bulk_method="column-centred"`` with ``N < 2``.
    """
    if margin is not None:
        margin = as_positive_float(margin, "margin", allow_zero=True)
    if not isinstance(bulk_method, str):
        raise TypeError(f"bulk_method must be a string, got {type(bulk_method).__name__}")
    if bulk_method not in _BULK_METHODS:
        raise ValueError(f"bulk_method must be one of {_BULK_METHODS}, got {bulk_method!r}")
    _check_input(net, u)
    S = gain_matrix(net, x, mode)
    lam = np.linalg.eigvals(S)
    lam = lam[np.argsort(-lam.real, kind="stable")]
    d = get_nonlinearity(net.phi).dphi(_state(net, x))
    radius, method, n_eff = _bulk_radius(net, d, bulk_method)
    if margin is None:
        margin = _EDGE_C / np.sqrt(n_eff)
    out = lam[np.abs(lam) > radius * (1 + margin)]
    a = net.alpha
    return Spectrum(eigenvalues=lam, bulk_radius=radius, bulk_method=method, outliers=out,
                    margin=float(margin),
                    stable_flow=bool(np.all(lam.real < 1)),
                    stable_map=bool(np.all(np.abs(1 - a + a * lam) < 1)))
