"""Fit the rational approximations of ``tanh`` used by ``reservoir._kernels.fast_tanh``.

    python scripts/fit_tanh.py              # float64: degree 9 / 9 on [0, 19]
    python scripts/fit_tanh.py 4 4 9        # float32: degree 4 / 4 on [0, 9]

Finds ``tanh x ~= x P(x^2) / Q(x^2)`` with ``P(0) = Q(0) = 1`` and ``deg P = m``,
``deg Q = n`` minimising the largest *relative* error on ``(0, c]``, by iteratively
reweighted linear least squares in 60-digit arithmetic (``mpmath``, a development-time
dependency only): the Sanathanan-Koerner linearisation ``x P - t Q ~ 0`` weighted by the
previous ``1 / (t Q)``, and Lawson's multiplicative weights pushing the fit towards equal
ripple. Prints the coefficients (float64 ``repr``) and the largest relative error over the
fit's 500 Chebyshev-spaced points and a 4000-point uniform check grid.

The kernels' tests check the printed coefficients independently: exactly, in rational
arithmetic, against a deep convergent of Lambert's continued fraction.
"""

from __future__ import annotations

import argparse


def fit(m: int, n: int, c: float, points: int = 500, iterations: int = 60):
    """Coefficients ``(P, Q)`` (lists of mpf, increasing powers of ``x^2``) and the largest
    relative error on the fit points."""
    import mpmath as mp
    mp.mp.dps = 60
    xs = [mp.mpf(c) * (1 - mp.cos(mp.pi * (i + 0.5) / (2 * points))) for i in range(points)]
    ts = [mp.tanh(x) for x in xs]
    ss = [x * x for x in xs]
    lam = [mp.mpf(1)] * points
    q_prev = [mp.mpf(1)] * points
    best = None
    for _ in range(iterations):
        rows, rhs = [], []
        for x, s, t, qp, lw in zip(xs, ss, ts, q_prev, lam):
            w = mp.sqrt(lw) / (t * qp)
            rows.append([w * x * s**k for k in range(1, m + 1)]
                        + [-w * t * s**k for k in range(1, n + 1)])
            rhs.append(w * (t - x))
        sol, _ = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))
        P = [mp.mpf(1)] + [sol[k] for k in range(m)]
        Q = [mp.mpf(1)] + [sol[m + k] for k in range(n)]
        q_prev = [mp.polyval(Q[::-1], s) for s in ss]
        errs = [x * mp.polyval(P[::-1], s) / q / t - 1 for x, s, t, q in zip(xs, ss, ts, q_prev)]
        worst = max(abs(e) for e in errs)
        if best is None or worst < best[0]:
            best = (worst, P, Q)
        total = sum(lw * abs(e) for lw, e in zip(lam, errs))
        lam = [max(lw * abs(e) / total, mp.mpf(10) ** -30) for lw, e in zip(lam, errs)]
    return best[1], best[2], best[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("m", nargs="?", type=int, default=9, help="degree of P in x^2")
    parser.add_argument("n", nargs="?", type=int, default=9, help="degree of Q in x^2")
    parser.add_argument("c", nargs="?", type=float, default=19.0, help="clamp: fit on (0, c]")
    args = parser.parse_args(argv)
    if args.m < 1 or args.n < 1:
        parser.error(f"the degrees m and n must be >= 1, got {args.m} and {args.n}")
    if not 0 < args.c < 50:
        parser.error(f"the clamp c must be in (0, 50), got {args.c}")
    import mpmath as mp
    P, Q, err = fit(args.m, args.n, args.c)
    Pf, Qf = [float(p) for p in P], [float(q) for q in Q]
    check = max(abs(x * mp.polyval([mp.mpf(p) for p in Pf[::-1]], x * x)
                    / mp.polyval([mp.mpf(q) for q in Qf[::-1]], x * x) / mp.tanh(x) - 1)
                for x in (mp.mpf(args.c) * (i + 1) / 4000 for i in range(4000)))
    print(f"degree {args.m} / {args.n} on (0, {args.c}]: largest relative error "
          f"{mp.nstr(err, 3)} (fit points), {mp.nstr(check, 3)} (check grid, float64 "
          "coefficients)")
    print("P =", tuple(Pf))
    print("Q =", tuple(Qf))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
