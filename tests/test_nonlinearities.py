import numba as nb
import numpy as np
import pytest
from hypothesis import given, strategies as st

from reservoir.nonlinearities import (CODES, NAMES, ddphi_scalar, dphi_scalar, get_nonlinearity,
                                      phi_scalar)
from reference import PHI


@nb.njit
def _apply(code, xs, which):
    out = np.empty_like(xs)
    for i in range(xs.size):
        if which == 0:
            out[i] = phi_scalar(code, xs[i])
        elif which == 1:
            out[i] = dphi_scalar(code, xs[i])
        else:
            out[i] = ddphi_scalar(code, xs[i])
    return out


XS = np.concatenate([np.linspace(-8, 8, 401), [-1e3, -30.0, 30.0, 1e3]])


@pytest.mark.parametrize("name", NAMES)
def test_numpy_phi_matches_textbook_formula(name):
    nl = get_nonlinearity(name)
    assert nl.code == CODES[name]
    np.testing.assert_allclose(nl.phi(XS), PHI[name](XS), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_numba_scalar_equals_numpy(name):
    nl = get_nonlinearity(name)
    for which, f in enumerate((nl.phi, nl.dphi, nl.ddphi)):
        np.testing.assert_allclose(_apply(nl.code, XS, which), f(XS), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
@given(x=st.floats(-6, 6).filter(lambda v: abs(v) > 1e-3))
def test_derivatives_match_central_differences(name, x):
    nl = get_nonlinearity(name)
    h = 1e-5
    d1 = (nl.phi(x + h) - nl.phi(x - h)) / (2 * h)
    d2 = (nl.dphi(x + h) - nl.dphi(x - h)) / (2 * h)
    assert abs(nl.dphi(x) - d1) < 1e-8
    assert abs(nl.ddphi(x) - d2) < 1e-8


def test_sigmoid_is_overflow_free_and_saturates():
    nl = get_nonlinearity("sigmoid")
    with np.errstate(all="raise"):
        v = nl.phi(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(v, [0.0, 1.0])


def test_relu_derivative_convention_at_zero():
    nl = get_nonlinearity("relu")
    assert nl.dphi(0.0) == 0.0 and nl.ddphi(1.0) == 0.0


@pytest.mark.parametrize("bad, exc", [("softplus", ValueError), (np.tanh, TypeError),
                                      (None, TypeError)])
def test_unknown_nonlinearity_rejected(bad, exc):
    with pytest.raises(exc, match="phi"):
        get_nonlinearity(bad)
