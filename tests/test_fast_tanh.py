"""The vectorisable tanh of the kernels: a minimax rational function, checked against
Lambert's continued fraction (exact rationals) and NumPy."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from reservoir._kernels import fast_tanh
from reservoir._kernels.fast_tanh import lambert_coefficients, tanh_array


def _cf_value(x: Fraction, depth: int) -> Fraction:
    """The depth-``depth`` convergent x / (1 + x^2 / (3 + ... x^2 / (2 depth + 1))),
    evaluated from the bottom in exact rational arithmetic."""
    tail = Fraction(2 * depth + 1)
    for k in range(depth - 1, -1, -1):
        tail = (2 * k + 1) + x * x / tail
    return x / tail


@given(depth=st.integers(0, 12), num=st.integers(-50, 50), den=st.integers(1, 20))
def test_lambert_coefficients_are_the_continued_fraction(depth, num, den):
    """x P(x^2) / Q(x^2) equals the truncated continued fraction exactly (rationals)."""
    P, Q = lambert_coefficients(depth)
    x = Fraction(num, den)
    s = x * x
    p = sum(c * s**i for i, c in enumerate(P))
    q = sum(c * s**i for i, c in enumerate(Q))
    assert x * p / q == _cf_value(x, depth)
    assert all(c > 0 for c in P + Q)          # why Horner's rule cannot cancel


def _tanh_exact(x: Fraction) -> Fraction:
    """tanh x to far below 1e-30 relative for 0 < x <= 19: the depth-70 convergent of
    Lambert's fraction (the depth-60 one differs from it by less than 1e-40 there, checked
    in the test below)."""
    return _cf_value(x, 70)


@pytest.mark.parametrize("P, Q, c, bound", [
    (fast_tanh._P64, fast_tanh._Q64, 19, 1.5e-16),
    (tuple(float(v) for v in fast_tanh._P32), tuple(float(v) for v in fast_tanh._Q32), 9,
     4e-8)])
def test_minimax_coefficients_against_the_exact_continued_fraction(P, Q, c, bound):
    """The kernels' rational functions x P(x^2) / Q(x^2), with their coefficients as stored
    (float64, or rounded to float32), evaluated exactly in rational arithmetic: relative
    error below ``bound`` (float64 1.5e-16, about 2/3 ulp; float32 4e-8, below its half ulp
    6e-8) at 400 points of (0, c] including the ends and tiny x; every coefficient
    positive, so Horner's rule at x^2 >= 0 never cancels; P(0) = Q(0) = 1 (tanh x = x
    to first order). ``1 - tanh(c)`` is below the spacing of the numbers just under 1
    (``eps / 2``), so clamping at c costs at most one ulp."""
    assert P[0] == Q[0] == 1.0 and all(v > 0 for v in P + Q)
    Pf = [Fraction(v) for v in P]
    Qf = [Fraction(v) for v in Q]
    xs = [Fraction(c * i, 397) for i in range(1, 398)] + [Fraction(1, 10**k) for k in (3, 8, 15)]
    worst = 0
    for x in xs:
        s = x * x
        approx = x * sum(v * s**i for i, v in enumerate(Pf)) / sum(v * s**i for i, v in
                                                                      enumerate(Qf))
        exact = _tanh_exact(x)
        worst = max(worst, abs(approx / exact - 1))
    assert worst < bound, float(worst)
    eps = float(np.finfo(np.float32 if c == 9 else np.float64).eps)
    assert 1 - _tanh_exact(Fraction(c)) < Fraction(eps) / 2      # one ulp below 1


def test_the_exact_reference_is_converged():
    """The depth-60 and depth-70 convergents agree to 1e-40 relative at the clamp x = 19
    (the convergence is fastest for small x), so the reference above is exact for the
    bounds it checks."""
    x = Fraction(19)
    assert abs(_cf_value(x, 60) / _cf_value(x, 70) - 1) < Fraction(1, 10**40)


def test_lambert_coefficients_small_depths_closed_form():
    assert lambert_coefficients(0) == ([1], [1])              # tanh x ~ x
    assert lambert_coefficients(1) == ([3], [3, 1])           # x / (1 + x^2/3)
    assert lambert_coefficients(2) == ([15, 1], [15, 6])      # x (15 + x^2) / (15 + 6 x^2)
    with pytest.raises(ValueError, match="depth"):
        lambert_coefficients(-1)


@pytest.mark.parametrize("dtype, ulps", [(np.float32, 4), (np.float64, 6)])
def test_fast_tanh_is_accurate_to_a_few_ulps(dtype, ulps):
    """Relative error against NumPy's float64 tanh (itself within 1 ulp) over a dense
    grid, tiny and subnormal inputs, and the clamp region; never |tanh| > 1."""
    tiny = np.finfo(dtype).tiny
    x = np.concatenate([np.linspace(-30, 30, 600_001),
                        np.logspace(np.log10(tiny) - 5, 1.5, 20_001),
                        -np.logspace(-30, 1.5, 2001)]).astype(dtype)
    out = np.empty_like(x)
    tanh_array(x, out)
    ref = np.tanh(x.astype(np.float64))
    nz = ref != 0
    rel = np.abs(out[nz] - ref[nz]) / np.abs(ref[nz])
    assert rel.max() <= ulps * np.finfo(dtype).eps
    np.testing.assert_array_equal(out[~nz], 0.0)
    assert np.all(np.abs(out) <= 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_tanh_special_values(dtype):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30], dtype)
    out = np.empty_like(x)
    tanh_array(x, out)
    eps = np.finfo(dtype).eps
    np.testing.assert_array_equal(out[:2], [0.0, -0.0])
    assert np.signbit(out[1])                 # odd function keeps the sign of -0
    np.testing.assert_allclose(out[[2, 3, 5, 6]], [1.0, -1.0, 1.0, -1.0], rtol=4 * eps)
    assert np.isnan(out[4])                   # NaN propagates (divergence stays visible)


@given(xs=st.lists(st.floats(-50, 50, allow_nan=False, width=32), min_size=1, max_size=50),
       single=st.booleans())
def test_fast_tanh_is_odd_and_bounded(xs, single):
    """tanh(-x) = -tanh(x) bit for bit (x P(x^2)/Q(x^2) is odd by construction), and
    |tanh| <= 1."""
    dtype = np.float32 if single else np.float64
    x = np.array(xs, dtype)
    a, b = np.empty_like(x), np.empty_like(x)
    tanh_array(x, a)
    tanh_array(-x, b)
    np.testing.assert_array_equal(a, -b)
    assert np.all(np.abs(a) <= 1.0)
    assert np.all(np.sign(a) == np.sign(x))


def test_tanh_array_checks_dtypes():
    with pytest.raises(TypeError, match="float32 or float64"):
        tanh_array(np.zeros(3, np.float32), np.zeros(3))
    with pytest.raises(TypeError, match="float32 or float64"):
        tanh_array(np.zeros(3, np.int64), np.zeros(3, np.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_row_helpers_compute_the_tested_tanh_bit_for_bit(dtype):
    """phi_vector and phi_rows (what the kernels call) give exactly tanh_array's values
    (the function whose accuracy is tested above): the same formula and the same fused
    multiply-adds."""
    import numba as nb

    from reservoir._kernels.batch_rows import phi_rows, phi_vector

    @nb.njit(error_model="numpy")
    def both(x, X, r, R, half, zero):
        phi_vector(0, x, r, half, zero)
        phi_rows(0, X, R, half, zero)

    x = np.linspace(-25, 25, 4001).astype(dtype)
    want = np.empty_like(x)
    tanh_array(x, want)
    r = np.empty_like(x)
    R = np.empty((1, x.size), dtype)
    both(x, x.reshape(1, -1).copy(), r, R, dtype(0.5), dtype(0.0))
    np.testing.assert_array_equal(r, want)
    np.testing.assert_array_equal(R[0], want)
