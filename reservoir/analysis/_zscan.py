"""The z-scan for one fed-back readout: continuation of the open-loop fixed point x(z) and
the roots of G(z) = W_out phi(x(z)) + b_out - z (see :mod:`reservoir.analysis.fixed_points`).

``z`` is the value of the fed-back readout, intercept included: the open loop is clamped to
``W_fb z`` and a root is a ``z`` that the readout ``W_out phi(x(z)) + b_out`` reproduces."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.optimize

from ..network import Network
from .._simulate import simulate
from ..errors import SimulationDivergedError
from ._closed_loop import _ClosedLoop, _det_sign, _newton, _open_loop_contracts


def _check_z_range(z_range) -> tuple[float, float]:
    """``(lo, hi)`` from the user's ``z_range``; ``ValueError`` unless it is two finite
    numbers ``lo < hi``."""
    try:
        if isinstance(z_range, (str, bytes, dict)):
            raise TypeError
        lo, hi = (float(v) for v in z_range)
    except (TypeError, ValueError):
        raise ValueError(f"z_range must be two finite numbers lo < hi, got {z_range!r}") \
            from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi and np.isfinite(hi - lo)):
        raise ValueError(f"z_range must be two finite numbers lo < hi, got {z_range!r}")
    return lo, hi


def _z_range(net: Network, z_range, messages):
    if z_range is not None:
        return _check_z_range(z_range)
    w = net.W_out[0]
    b0 = float(net.b_out[0])       # the readout W_out phi + b_out: its bounds move by b_out
    if net.phi == "tanh":
        B = float(np.abs(w).sum())
        return b0 + (-B * 1.001 - 1e-9), b0 + (B * 1.001 + 1e-9)
    if net.phi == "sigmoid":
        return b0 + (float(w[w < 0].sum()) - 1e-9), b0 + (float(w[w > 0].sum()) + 1e-9)
    lo, hi = b0 - 10.0, b0 + 10.0
    messages.append(f"phi='relu' has no bound on the readout: the default z_range "
                    f"({lo:g}, {hi:g}) (b_out +- 10) is a guess; pass z_range to scan "
                    "elsewhere")
    return lo, hi


def _start(sys: _ClosedLoop, z, tol):
    """Open-loop fixed point at clamped readout ``z``: Newton from the input-driven guess,
    else from the state a clamped simulation settles to."""
    x, ok, _ = _newton(sys, sys.c + sys.W_fb[:, 0] * z, tol, 50, z=np.array([z]))
    if not ok:
        T = 2000
        try:
            tr = simulate(sys.net, np.broadcast_to(sys.u, (T, sys.u.size)), mode="teacher",
                          targets=np.full((T, 1), z), record=())
        except SimulationDivergedError:    # the clamped loop grows without bound: no
            return x, False                # state to start from (reported as unreliable)
        x, ok, _ = _newton(sys, tr.x_final, tol, 50, z=np.array([z]))
    return x, ok


#: Fraction of a scan interval next to an exact root at its end within which a root of
#: the Hermite interpolant is that same root (rounding of the interpolant's coefficients).
_END_MARGIN = 1e-6


def _hermite_flag(h0, d0, h1, d1, dz):
    """Whether the cubic Hermite interpolant through ``(h, h')`` at the two ends of a scan
    interval of width ``dz`` hints at roots the end values do not show: more interior
    sign changes than the ends show, an interior dip towards zero, or slopes of opposite
    signs at small ``|h|``."""
    s0, s1 = d0 * dz, d1 * dz
    # p(t) = h0 + s0 t + a t^2 + b t^3
    a = 3 * (h1 - h0) - 2 * s0 - s1
    b = 2 * (h0 - h1) + s0 + s1
    coeffs = np.array([b, a, s0, h0])
    with np.errstate(all="ignore"):
        r = np.roots(coeffs) if np.any(coeffs[:3] != 0) else np.array([])
    # an end where h is exactly 0 is a root the scan already recorded: the interpolant's
    # root there (computed from rounded coefficients, possibly just inside) is not a
    # hidden one, so roots within _END_MARGIN of such an end are not counted
    lo = _END_MARGIN if h0 == 0.0 else 0.0
    hi = 1.0 - _END_MARGIN if h1 == 0.0 else 1.0
    r = r[(np.abs(r.imag) < 1e-9) & (r.real > lo) & (r.real < hi)].real
    crossing = h0 != 0.0 and h1 != 0.0 and (h0 > 0) != (h1 > 0)
    if r.size != (1 if crossing else 0):
        return True
    if crossing:
        return False
    # interior extrema of p that dip towards zero
    with np.errstate(all="ignore"):
        c = np.roots([3 * b, 2 * a, s0]) if (b != 0 or a != 0) else np.array([])
    c = c[(np.abs(c.imag) < 1e-9) & (c.real > 0) & (c.real < 1)].real
    hmin, hmax = min(abs(h0), abs(h1)), max(abs(h0), abs(h1))
    for t in c:
        pt = abs(h0 + s0 * t + a * t * t + b * t ** 3)
        if pt < hmin and (pt < 0.1 * hmax or pt < abs(b)):
            return True
    # slopes of opposite signs with small |h|: the curve may turn round to zero inside
    if s0 * s1 < 0 and hmin < 0.5 * max(abs(s0), abs(s1)):
        return True
    return False


#: |G| (relative to 1 + |z|) and |G'| below which both ends of a step count as G = 0 to
#: rounding (the Newton tolerance on x(z) moves G by about ||W_out|| tol).
_FLAT_H, _FLAT_D = 1e-8, 1e-6
_FLAT_REASON = ("G(z) and G'(z) vanish to rounding along the interval: a continuum of roots "
                "(fixed points) or a degenerate root, not resolved by subdivision")


def _merge_flat(unreliable):
    """Merge touching or overlapping intervals that share a reason into one stretch (near
    a fold thousands of adjacent minimum-width intervals can be flagged for one cause)."""
    merged = []
    for a, b, r in sorted(unreliable, key=lambda iv: (iv[2], iv[0], iv[1])):
        if (merged and merged[-1][2] == r
                and a <= merged[-1][1] + 1e-12 * (1.0 + abs(merged[-1][1]))):
            merged[-1] = (merged[-1][0], max(merged[-1][1], b), r)
        else:
            merged.append((a, b, r))
    return sorted(merged, key=lambda iv: (iv[0], iv[1]))


def _resolve_interval(sys, A, B, tol, w_min, roots, unreliable, extra, depth=0):
    """Check the scan interval between the points ``A`` and ``B`` (tuples
    ``(z, x, h, h', lu, v)``) with the Hermite test; subdivide where it is flagged (new
    points by Newton from the chord), refine sign changes into ``roots``, report
    intervals that stay flagged at width ``w_min`` in ``unreliable``. New scan points are
    appended to ``extra``."""
    za, xa, ha, da, lua, va = A
    zb, xb, hb, db, lub, vb = B
    dz = zb - za
    flat = (max(abs(ha), abs(hb)) <= _FLAT_H * (1.0 + max(abs(za), abs(zb)))
            and max(abs(da), abs(db)) <= _FLAT_D)
    if flat and abs(dz) > w_min:
        # G and G' vanish to rounding at both ends: G = 0 along the interval (a continuum
        # of roots) or a degenerate root; subdividing would only chase rounding
        if ha != 0.0 and hb != 0.0 and (ha > 0) != (hb > 0):
            roots.append(_refine_root(sys, (za, xa, ha), (zb, xb, hb), lua, tol))
        unreliable.append((min(za, zb), max(za, zb), _FLAT_REASON))
        return
    flagged = _hermite_flag(ha, da, hb, db, dz)
    if not flagged or abs(dz) <= w_min or depth > 60:
        if ha != 0.0 and hb != 0.0 and (ha > 0) != (hb > 0):
            roots.append(_refine_root(sys, (za, xa, ha), (zb, xb, hb), lua, tol))
        if flagged:
            unreliable.append((min(za, zb), max(za, zb),
                               "h(z) = W_out phi(x(z)) + b_out - z comes close to zero "
                               "between scan points (a fold of the closed loop, double root or root pair) "
                               "that subdivision down to the minimum width could not resolve"))
        return
    zm = 0.5 * (za + zb)
    xg = 0.5 * (xa + xb) + 0.125 * dz * (va - vb)   # cubic Hermite predictor of x(zm)
    xm, ok, _ = _newton(sys, xg, tol, 12, z=np.array([zm]), lu=lua, chord_iters=8)
    if ok:
        jump = np.linalg.norm(xm - xg) / np.sqrt(sys.N)
        ok = jump < 0.5 * (np.linalg.norm(xb - xa) / np.sqrt(sys.N)) + 10 * tol
    if not ok:
        if ha != 0.0 and hb != 0.0 and (ha > 0) != (hb > 0):
            roots.append(_refine_root(sys, (za, xa, ha), (zb, xb, hb), lua, tol))
        unreliable.append((min(za, zb), max(za, zb),
                           "h(z) may have roots between scan points, and Newton could not "
                           "follow x(z) inside the interval to check"))
        return
    lum = sys.lu(sys.minus_jacobian(xm, closed=False))
    vm = sla.lu_solve(lum, sys.W_fb[:, 0], check_finite=False)
    n = sys.W_out[0]
    hm = n @ sys.phi(xm) + sys.b_out[0] - zm
    dm = n @ (sys.dphi(xm) * vm) - 1.0
    extra.append((zm, hm, xm))
    M = (zm, xm, hm, dm, lum, vm)
    if hm == 0.0:
        roots.append(xm)
    _resolve_interval(sys, A, M, tol, w_min, roots, unreliable, extra, depth + 1)
    _resolve_interval(sys, M, B, tol, w_min, roots, unreliable, extra, depth + 1)


def _follow(sys: _ClosedLoop, z, x, z_end, tol, max_rate_step, dz_max, dz_min, roots,
            unreliable, contracts=False):
    """Continue x(z) from (z, x) towards z_end. Each step is checked with the derivative
    ``h'(z) = W_out D(x) dx/dz - 1`` at both ends (:func:`_resolve_interval`), which
    subdivides where roots may hide between scan points and refines sign changes into
    ``roots``; folds are added to ``unreliable``. ``contracts``: the open loop is proved
    contracting (``x(z)`` unique), so no fold alarm is raised. Returns the visited
    (z, G, x) lists and the z where following failed (None if z_end was reached)."""
    N = sys.N
    n = sys.W_out[0]
    m = sys.W_fb[:, 0]
    direction = 1.0 if z_end > z else -1.0
    lu = sys.lu(sys.minus_jacobian(x, closed=False))
    det_sign = _det_sign(lu)
    v = sla.lu_solve(lu, m, check_finite=False)   # dx/dz
    b0 = sys.b_out[0]
    zs, hs, xs = [z], [n @ sys.phi(x) + b0 - z], [x]
    ds = n @ (sys.dphi(x) * v) - 1.0
    extra = []
    if hs[0] == 0.0:
        roots.append(x)
    chaotic_from = z if (not contracts and sys.bulk_radius(x) >= 1.0) else None

    def close_bulk_interval(z_stop):
        if chaotic_from is not None:
            unreliable.append((min(chaotic_from, z_stop), max(chaotic_from, z_stop),
                               "open-loop bulk radius >= 1: x(z) may not be unique (other "
                               "branches or chaos)"))

    def finish(z_fail):
        close_bulk_interval(z)
        for ze, he, xe in extra:
            zs.append(ze)
            hs.append(he)
            xs.append(xe)
        order = np.argsort(np.array(zs) * direction, kind="stable")
        return ([zs[i] for i in order], [hs[i] for i in order], [xs[i] for i in order],
                z_fail)

    while direction * (z_end - z) > 0:
        rem = abs(z_end - z)
        dr = np.linalg.norm(sys.dphi(x) * v) / np.sqrt(N)
        dz = min(dz_max, max_rate_step / max(dr, 1e-12))
        if dz >= rem - dz_min:
            dz = rem   # no sliver of width < dz_min left at the end of the range
        accepted = False
        while dz >= min(dz_min, rem):
            z_new = z_end if dz == rem else z + direction * dz
            x_pred = x + (z_new - z) * v
            x_new, ok, _ = _newton(sys, x_pred, tol, 12, z=np.array([z_new]), lu=lu,
                                   chord_iters=6)
            jump = np.linalg.norm(x_new - x_pred) / np.sqrt(N)
            if ok and (contracts or jump < 10 * max_rate_step):
                accepted = True
                break
            dz *= 0.5
        if not accepted and contracts:
            # x(z) is unique: any converged open-loop fixed point is the branch
            z_new = z + direction * min(rem, max(dz_min, min(dz_max, rem)))
            x_new, accepted = _start(sys, z_new, tol)
        if not accepted:
            return finish(z)
        if not contracts:
            radius = sys.bulk_radius(x_new)
            if radius >= 1.0 and chaotic_from is None:
                chaotic_from = z
            elif radius < 1.0 and chaotic_from is not None:
                close_bulk_interval(z_new)
                chaotic_from = None
        lu_new = sys.lu(sys.minus_jacobian(x_new, closed=False))
        s_new = _det_sign(lu_new)
        if s_new != det_sign and not contracts:
            unreliable.append((min(z, z_new), max(z, z_new),
                               "det(I - J D) changed sign: x(z) is not unique here"))
        det_sign = s_new
        v_new = sla.lu_solve(lu_new, m, check_finite=False)
        h_new = n @ sys.phi(x_new) + b0 - z_new
        d_new = n @ (sys.dphi(x_new) * v_new) - 1.0
        if h_new == 0.0:
            roots.append(x_new)
        A, B = (z, x, hs[-1], ds, lu, v), (z_new, x_new, h_new, d_new, lu_new, v_new)
        if direction < 0:
            A, B = B, A
        _resolve_interval(sys, A, B, tol, dz_min, roots, unreliable, extra)
        z, x, lu, v, ds = z_new, x_new, lu_new, v_new, d_new
        zs.append(z)
        hs.append(h_new)
        xs.append(x)
    return finish(None)


def _probe_branches(sys: _ClosedLoop, z_grid, x_grid, tol, gen, n_z=5, n_probe=8):
    """Look for other branches of the open loop: clamped runs (the readout held at ``z``)
    from random states at ``n_z`` scanned readout values, polished by Newton where they
    settle away from the scanned ``x(z)``. Returns ``(z, x)`` pairs of open-loop fixed
    points distinct from the scanned branch (each a proof that ``x(z)`` is not unique)."""
    if z_grid.size < 3:
        return []
    idx = np.unique(np.round(np.linspace(0, z_grid.size - 1, n_z + 2)[1:-1]).astype(int))
    B = idx.size * n_probe
    scale = np.repeat(np.tile(np.r_[np.ones(n_probe // 2), 3 * np.ones(n_probe
                                                                         - n_probe // 2)],
                              idx.size), 1)
    X0 = scale[:, None] * gen.standard_normal((B, sys.N))
    T = int(np.ceil(40.0 / sys.net.alpha))
    U = np.broadcast_to(sys.u, (B, T, sys.u.size))
    Z = np.broadcast_to(np.repeat(z_grid[idx], n_probe)[:, None, None], (B, T, 1))
    tr = simulate(sys.net, U, X0, mode="teacher", targets=Z, record=())
    found = []
    for b in range(B):
        k = idx[b // n_probe]
        xs = x_grid[k]
        xT = tr.x_final[b]
        if not np.all(np.isfinite(xT)):
            continue
        if np.max(np.abs(xT - xs)) <= 1e-3 * (1.0 + np.max(np.abs(xs))):
            continue
        x, ok, _ = _newton(sys, xT, tol, 30, z=np.array([z_grid[k]]))
        if ok and np.max(np.abs(x - xs)) > 1e-6 * (1.0 + np.max(np.abs(xs))):
            if not any(zz == z_grid[k] and np.max(np.abs(x - xx)) <= 1e-6 * (1 + np.max(
                    np.abs(xx))) for zz, xx in found):
                found.append((float(z_grid[k]), x))
    return found


def _on_branch(sys: _ClosedLoop, z, x, bz, bx, tol):
    """Whether the open-loop fixed point ``x`` at ``z`` lies on the branch scanned at the
    points ``(bz, bx)`` (Newton at ``z`` from the nearest scanned state lands on ``x``)."""
    k = int(np.argmin(np.abs(bz - z)))
    xb, ok, _ = _newton(sys, bx[k], tol, 30, z=np.array([z]))
    return bool(ok and np.max(np.abs(xb - x)) <= 1e-6 * (1.0 + np.max(np.abs(x))))


def _scan(sys: _ClosedLoop, z_range, tol, max_rate_step, gen=None):
    """Continuation of x(z) over ``z_range``, from the low end upwards and, if that stops
    at a fold, from the high end downwards (a strong clamped readout makes x(z) unique at
    both ends). Where the open loop is not proved contracting, clamped runs from random
    states look for other branches of ``x(z)`` (:func:`_probe_branches`; ``gen`` seeds
    them, default a fixed seed); each branch found is scanned too (its roots join the
    others; the returned scan arrays are those of the first branch), and the whole range
    is reported unreliable (unstable branches of the open loop are not found this way).
    The states found off the first branch are left in ``sys.branch_seeds``. Returns
    roots, the scan arrays and the unreliable intervals."""
    lo, hi = z_range
    span = hi - lo
    dz_max, dz_min = span / 32, span * 1e-7
    roots, unreliable = [], []
    contracts = _open_loop_contracts(sys)
    x_lo, ok_lo = _start(sys, lo, tol)
    if not ok_lo:
        unreliable.append((lo, lo, "no open-loop fixed point found at the low end"))
        return roots, np.array([]), np.array([]), np.empty((0, sys.N)), unreliable
    zs, hs, xs, z_fail = _follow(sys, lo, x_lo, hi, tol, max_rate_step, dz_max, dz_min,
                                 roots, unreliable, contracts)
    if z_fail is not None:
        x_hi, ok_hi = _start(sys, hi, tol)
        if not ok_hi:
            unreliable.append((z_fail, hi, "Newton failed to follow x(z); no open-loop "
                                            "fixed point found at the high end"))
        else:
            zb, hb, xb, z_fail_b = _follow(sys, hi, x_hi, z_fail, tol, max_rate_step, dz_max,
                                           dz_min, roots, unreliable, contracts)
            if z_fail_b is not None:
                unreliable.append((z_fail, z_fail_b, "Newton failed to follow x(z) "
                                                     "(a fold, or no open-loop fixed point)"))
            zs, hs, xs = zs + zb[::-1], hs + hb[::-1], xs + xb[::-1]
    z_grid, G_grid, x_grid = np.array(zs), np.array(hs), np.array(xs)
    if not contracts:
        gen = np.random.default_rng(0) if gen is None else gen
        other = _probe_branches(sys, z_grid, x_grid, tol, gen)
        if other:
            zo = ", ".join(f"{zz:.4g}" for zz, _ in other[:4])
            unreliable.append((lo, hi, f"the open loop has fixed points off the scanned "
                                       f"branch x(z) (at z = {zo}; found by clamped runs "
                                       "from random states): x(z) is not unique; those "
                                       "branches were scanned too, but unstable branches of "
                                       "the open loop may remain unseen"))
        sys.branch_seeds = [x for _, x in other]
        branches = []
        for zk, xk in other:
            if any(_on_branch(sys, zk, xk, bz, bx, tol) for bz, bx in branches):
                continue
            bz, bx = [zk], [xk]
            for z_end in (hi, lo):
                zb, _, xb, z_fail_b = _follow(sys, zk, xk, z_end, tol, max_rate_step, dz_max,
                                              dz_min, roots, unreliable, contracts)
                bz.extend(zb[1:])
                bx.extend(xb[1:])
            branches.append((np.array(bz), np.array(bx)))
    # near-tangential roots: interior local minima of |G| that come close to zero
    scale = max(1.0, float(np.max(np.abs(G_grid))))
    for k in range(1, G_grid.size - 1):
        a, b_, c_ = np.abs(G_grid[k - 1:k + 2])
        same = np.sign(G_grid[k - 1]) == np.sign(G_grid[k]) == np.sign(G_grid[k + 1])
        if same and b_ <= a and b_ <= c_ and b_ < 0.05 * scale:
            roots.append(x_grid[k])
    return roots, z_grid, G_grid, x_grid, _merge_flat(unreliable)


def _refine_root(sys, left, right, lu, tol):
    """Brent on G(z) between two scan points, x(z) by chord/Newton from the chord of the
    bracket; returns the starting state for the closed-loop polish."""
    (za, xa, ha), (zb, xb, hb) = left, right
    n = sys.W_out[0]
    cache = {}

    def h(zz):
        w = (zz - za) / (zb - za)
        xg = (1 - w) * xa + w * xb
        xx, ok, _ = _newton(sys, xg, tol, 12, z=np.array([zz]), lu=lu, chord_iters=8)
        cache[zz] = xx
        return n @ sys.phi(xx) + sys.b_out[0] - zz

    if ha == 0.0:
        return xa
    if hb == 0.0:
        return xb
    zr = scipy.optimize.brentq(h, za, zb, xtol=1e-13 * max(1.0, abs(za)), rtol=1e-15,
                               maxiter=100)
    return cache.get(zr, xa)
