import numpy as np
import pytest

import reservoir as rs


def test_error_measures_against_direct_formulas():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((3, 50, 2))
    z = y + 0.1 * rng.standard_normal(y.shape)
    d = z - y
    assert rs.mse(z, y) == pytest.approx(np.sum(d**2) / d.size)
    assert rs.mae(z, y) == pytest.approx(np.sum(np.abs(d)) / d.size)
    assert rs.nmse(z, y) == pytest.approx(np.sum(d**2) / np.sum((y - y.mean()) ** 2))
    assert rs.nmse(y, y) == 0.0
    # predicting the mean gives nmse 1
    assert rs.nmse(np.full_like(y, y.mean()), y) == pytest.approx(1.0)


@pytest.mark.parametrize("call, exc, word", [
    (lambda: rs.nmse(np.ones(3), np.ones(3)), ValueError, "constant"),
    (lambda: rs.mse(np.ones(3), np.ones(4)), ValueError, "shape"),
    (lambda: rs.mae(np.ones(3), np.array([np.nan, 1, 1])), ValueError, "y"),
    (lambda: rs.mse("a", np.ones(1)), TypeError, "z"),
])
def test_error_measures_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
