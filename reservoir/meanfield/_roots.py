"""Every root of a scalar function sampled on a grid (shared by the fixed-point solvers of
:mod:`static` and :mod:`least_squares`)."""

from __future__ import annotations

import numpy as np
import scipy.optimize


def grid_roots(zg, Gg, G, grid_ok, *, label: str, xtol: float):
    """Roots of ``G`` from its samples ``Gg`` on the increasing grid ``zg``.

    Every sign change is refined by Brent's method (a change at rounding level keeps the
    end with the smaller ``|G|``); exact zeros on the grid are roots. Interior local minima
    of ``|G|`` without a sign change and below ``1e-4`` of its scale are reported as
    possible double roots (folds), and ``G`` not being positive at the low end and negative
    at the high end (which excludes roots outside the grid for a decreasing ``G``) is
    reported too.

    Parameters
    ----------
    zg, Gg : ndarray, shape (n,)
    G : callable
        ``G(z) -> float``; may raise ``FloatingPointError``, ``ValueError`` or
        ``RuntimeError`` (the root is then reported as unrefined).
    grid_ok : ndarray of bool, shape (n,)
        Whether each grid sample converged (used for exact zeros on the grid).
    label : str
        Name of the function in the messages, e.g. ``"F(z) - z"``.
    xtol : float
        Brent's absolute and relative tolerance.

    Returns
    -------
    roots : list of float
    ok : list of bool
        Whether each root was refined.
    messages : list of str
    """
    roots, ok, messages = [], [], []
    for k in range(zg.size - 1):
        if Gg[k] == 0.0:
            roots.append(zg[k])
            ok.append(bool(grid_ok[k]))
        elif np.sign(Gg[k]) != np.sign(Gg[k + 1]) and Gg[k + 1] != 0.0:
            try:
                ga, gb = G(zg[k]), G(zg[k + 1])
                if ga == 0.0 or gb == 0.0 or np.sign(ga) == np.sign(gb):
                    # the sign change is at rounding level: the root is the smaller end
                    roots.append(zg[k] if abs(ga) <= abs(gb) else zg[k + 1])
                else:
                    roots.append(scipy.optimize.brentq(G, zg[k], zg[k + 1], xtol=xtol,
                                                       rtol=xtol))
                ok.append(True)
            except (FloatingPointError, ValueError, RuntimeError) as exc:
                roots.append(0.5 * (zg[k] + zg[k + 1]))
                ok.append(False)
                messages.append(f"root refinement failed in [{zg[k]}, {zg[k + 1]}]: {exc}")
    if Gg[-1] == 0.0:
        roots.append(zg[-1])
        ok.append(bool(grid_ok[-1]))
    # near-tangential roots: interior local minima of |G| close to zero, no sign change
    scale = max(1.0, float(np.max(np.abs(Gg))))
    for k in range(1, zg.size - 1):
        same = np.sign(Gg[k - 1]) == np.sign(Gg[k]) == np.sign(Gg[k + 1])
        if same and abs(Gg[k]) <= min(abs(Gg[k - 1]), abs(Gg[k + 1])) and \
                abs(Gg[k]) < 1e-4 * scale:
            messages.append(f"|{label}| nearly touches 0 near z = {zg[k]:.6g} (a fold): a "
                            "double root may be missed")
    if not (Gg[0] > 0 and Gg[-1] < 0):
        messages.append(f"{label} does not have the signs at the ends of z_range that "
                        "exclude roots outside it: widen z_range")
    return roots, ok, messages
