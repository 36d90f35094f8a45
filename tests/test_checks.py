"""The shared argument checks in ``reservoir._checks``."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from reservoir._checks import all_finite, as_float_array, as_real_array

_SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308, 5e-324])


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                max_side=6),
                  elements=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                     _SPECIAL)))
def test_all_finite_matches_isfinite_all(arr):
    """``all_finite`` (from the minimum and maximum, no boolean temporary) equals
    ``np.isfinite(arr).all()`` for any float64 array: NaN anywhere, either infinity,
    the extremes of the range, subnormals, empty arrays (True)."""
    assert all_finite(arr) == bool(np.isfinite(arr).all())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 7, -1])
def test_as_float_array_rejects_a_single_non_finite_entry(bad, where):
    """One NaN or infinity anywhere (first, middle, last) in an otherwise finite array
    is a ValueError naming the argument; ``finite=False`` lets it through."""
    x = np.linspace(-1e307, 1e307, 24).reshape(2, 3, 4)
    x.reshape(-1)[where] = bad
    with pytest.raises(ValueError, match="targets contains NaN or infinite"):
        as_float_array(x, "targets", 3)
    out = as_float_array(x, "targets", 3, finite=False)
    assert np.array_equal(out, x, equal_nan=True)


def test_as_float_array_finite_check_allocates_no_array_of_the_data():
    """The finiteness check of an array that needs no copy allocates nothing near the
    size of the data (np.isfinite(x).all() made a boolean array of x.size bytes)."""
    import tracemalloc
    x = np.random.default_rng(0).standard_normal(400_000)
    as_float_array(x, "x", 1)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = as_float_array(x, "x", 1)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert out is x
    assert peak < 10_000, peak


def test_as_real_array_keeps_dtype_and_layout_and_checks_like_as_float_array():
    """``as_real_array`` returns the user's array itself (bool, float32, a transposed
    view) after the checks of ``as_float_array``: NaN/inf rejected naming the argument,
    and a longdouble that overflows float64 (finite in its own type) rejected too, since
    the data is converted to float64 chunk by chunk later."""
    for x in (np.ones((3, 4), bool), np.ones((3, 4), np.float32),
              np.arange(12.0).reshape(3, 4).T):
        assert as_real_array(x, "mask", 2) is x
    for bad in (np.nan, np.inf, -np.inf):
        x = np.ones((2, 5), np.float32)
        x[1, 3] = bad
        with pytest.raises(ValueError, match="mask contains NaN or infinite"):
            as_real_array(x, "mask", 2)
    big = np.full(3, np.longdouble(10) ** 400)
    if np.isfinite(big).all():          # a platform whose longdouble is wider than float64
        with pytest.raises(ValueError, match="targets contains NaN or infinite"):
            as_real_array(big, "targets", 1)
    with pytest.raises(TypeError, match="targets must be real"):
        as_real_array(np.ones(3, complex), "targets", 1)
    with pytest.raises(ValueError, match="targets must have 2 or 3 dimensions"):
        as_real_array(np.ones(3), "targets", (2, 3))
    assert as_real_array(np.ones((0, 2)), "inputs", 2, allow_empty=True).shape == (0, 2)


def test_time_arrays_and_wide_floats_beyond_float64():
    """timedelta64 / datetime64 arrays are not real numbers (NumPy files timedelta64
    under signed integers): TypeError naming the argument. A longdouble beyond the
    float64 range is a ValueError saying so, with no overflow warning on the way."""
    import warnings
    for bad in (np.arange(3).astype("timedelta64[s]"), np.arange(3).astype("datetime64[D]")):
        for check in (as_float_array, as_real_array):
            with pytest.raises(TypeError, match="x must be a real numeric array"):
                check(bad, "x", 1)
    big = np.full(3, np.longdouble(10) ** 400)
    if np.isfinite(big).all():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError,
                               match=r"x contains NaN or infinite values \(in float64\)"):
                as_float_array(big, "x", 1)
