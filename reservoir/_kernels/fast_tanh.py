"""A vectorisable ``tanh`` for Numba kernels: a minimax rational function.

``math.tanh`` compiles to a call of the C library's scalar ``tanh`` for every element
(measured about 25x slower than NumPy's SIMD ``np.tanh`` on 640,000 float32 values), which
blocks the auto-vectoriser. Here ``tanh x ~= x P(x^2) / Q(x^2)`` on ``|x| <= c``, with
``P(0) = Q(0) = 1``, inputs clamped to ``[-c, c]`` where ``1 - tanh(c)`` is below the
spacing of the numbers just under 1 (clamping costs at most one ulp):

* float64: ``P``, ``Q`` of degree 9 in ``x^2``, ``c = 19``: largest relative error of the
  rational function 1.2e-16 (about one ulp of the values just below 1, 0.5 eps);
* float32: degree 4, ``c = 9``: 2.5e-8, 3.7e-8 with the coefficients rounded to float32
  (0.3 eps).

Evaluated in floating point, the compiled functions stay within 3.5 eps (float64) and
2.7 eps (float32) of the true ``tanh`` (measured against ``np.tanh`` and ``mpmath``; the
tests allow 6 and 4). Like any evaluation with a few ulps of error, they are not monotone
at the ulp level: between neighbouring inputs the result may step down by a few ulps
(up to 9 ulps in float64 and 6 in float32 were found; the Lambert convergents used before
behaved the same). They are odd bit for bit and never exceed 1 in magnitude.

The coefficients minimise the largest relative error on ``(0, c]``
(``scripts/fit_tanh.py``, iteratively reweighted least squares in 60-digit arithmetic).
They are all positive, so that Horner's rule at ``s = x^2 >= 0`` adds only positive terms:
nothing cancels, and the rounding error of the evaluation stays at a few units in the last
place. The whole evaluation is 18 (float64) or 8 (float32) multiply-adds and one division,
which LLVM vectorises. The tests check the coefficients exactly, in rational arithmetic,
against a deep convergent of Lambert's continued fraction

    tanh x = x / (1 + x^2 / (3 + x^2 / (5 + x^2 / (7 + ...))))

(:func:`lambert_coefficients`, integer coefficients), and the compiled functions against
``np.tanh`` over dense grids and at special values (0, -0, +-inf, NaN, subnormals). The
Lambert convergents themselves were the approximation before (issue 16): reaching the same
accuracy on ``[0, 19]`` took degree 14 / 14, and the minimax form measured 1.45x faster
in float64 (25 against 36 us for 25,600 values, AMD EPYC Zen 4, one core).

The result is clipped to ``[-1, 1]`` (near the clamp, rounding could give 1 + 1 ulp).

Kernels call :func:`tanh32` or :func:`tanh64` by the dtype they work in (an ``overload``
chooses at compile time), with ``fastmath={"contract"}`` so that Horner's steps become
fused multiply-adds (one rounding each instead of two; 1.4x faster in float64, AMD EPYC,
issue 16), and must be compiled with ``error_model="numpy"``: under Numba's default Python error
model every division checks for zero and raises, and that branch alone stops the loop
from vectorising (measured 11x slower).
"""

import numba as nb
import numpy as np


def lambert_coefficients(depth: int):
    """Exact integer coefficients of the depth-``depth`` convergent of Lambert's fraction
    (the tests' exact reference for the coefficients below).

    Returns ``(P, Q)``, lists of Python ints in increasing powers of ``s = x^2``, with
    ``tanh x ~= x P(s) / Q(s)``.
    """
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    # tail_k = (2k + 1) + s / tail_{k+1} = A_k(s) / B_k(s), tail_depth = 2 depth + 1
    A, B = [2 * depth + 1], [1]
    for k in range(depth - 1, -1, -1):
        sB = [0] + B                                   # s * B(s)
        A_new = [(2 * k + 1) * c for c in A] + [0] * (len(sB) - len(A))
        A_new = [a + (sB[i] if i < len(sB) else 0) for i, a in enumerate(A_new)]
        A, B = A_new, A
    return B, A


#: float64: ``tanh x ~= x P(x^2) / Q(x^2)`` on ``|x| <= 19`` (``scripts/fit_tanh.py 9 9 19``).
_P64 = (1.0, 0.15182011170755044, 0.005976918821514571, 9.368607156514713e-05,
        6.84234777798557e-07, 2.447875037994103e-09, 4.191186888397494e-12,
        3.0862055446167072e-15, 7.492895468642126e-19, 2.538676309948644e-23)
_Q64 = (1.0, 0.48515344504088326, 0.03436140050181029, 0.000828614201636858,
        8.764701133976494e-06, 4.4735658760626734e-08, 1.1154310951244369e-10,
        1.278041590438632e-13, 5.681796573087831e-17, 6.302130741350259e-21)
_C64 = 19.0
#: float32: on ``|x| <= 9`` (``scripts/fit_tanh.py 4 4 9``), rounded to float32.
_P32_64 = (1.0, 0.1338479104113773, 0.0034999596717939434, 2.0677167371502273e-05,
           1.344201720074397e-08)
_Q32_64 = (1.0, 0.4671811272058888, 0.025893870354842512, 0.0003292615955169676,
           7.813776254914073e-07)
_P32 = tuple(np.float32(c) for c in _P32_64)
_Q32 = tuple(np.float32(c) for c in _Q32_64)
_C32 = np.float32(9.0)
_ONE32 = np.float32(1.0)


@nb.njit(cache=True, inline="always")
def tanh32(x):
    """tanh of a float32 (Numba, scalar but vectorisable; NaN propagates)."""
    if x > _C32:
        x = _C32
    elif x < -_C32:
        x = -_C32
    s = x * x
    p = (((_P32[4] * s + _P32[3]) * s + _P32[2]) * s + _P32[1]) * s + _P32[0]
    q = (((_Q32[4] * s + _Q32[3]) * s + _Q32[2]) * s + _Q32[1]) * s + _Q32[0]
    y = x * p / q
    if y > _ONE32:         # rounding near the clamp may give 1 + 1 ulp; keep |tanh| <= 1
        y = _ONE32
    elif y < -_ONE32:
        y = -_ONE32
    return y


@nb.njit(cache=True, inline="always")
def tanh64(x):
    """tanh of a float64 (Numba, scalar but vectorisable; NaN propagates)."""
    if x > _C64:
        x = _C64
    elif x < -_C64:
        x = -_C64
    s = x * x
    # Horner's rule, written out so that LLVM sees straight-line code (a loop over the
    # coefficients is not unrolled and blocks vectorisation; measured)
    p = _P64[9]
    p = p * s + _P64[8]
    p = p * s + _P64[7]
    p = p * s + _P64[6]
    p = p * s + _P64[5]
    p = p * s + _P64[4]
    p = p * s + _P64[3]
    p = p * s + _P64[2]
    p = p * s + _P64[1]
    p = p * s + _P64[0]
    q = _Q64[9]
    q = q * s + _Q64[8]
    q = q * s + _Q64[7]
    q = q * s + _Q64[6]
    q = q * s + _Q64[5]
    q = q * s + _Q64[4]
    q = q * s + _Q64[3]
    q = q * s + _Q64[2]
    q = q * s + _Q64[1]
    q = q * s + _Q64[0]
    y = x * p / q
    if y > 1.0:
        y = 1.0
    elif y < -1.0:
        y = -1.0
    return y


@nb.njit(cache=True, error_model="numpy", fastmath={"contract"})
def _tanh_array32(x, out):
    for i in range(x.shape[0]):
        out[i] = tanh32(x[i])


@nb.njit(cache=True, error_model="numpy", fastmath={"contract"})
def _tanh_array64(x, out):
    for i in range(x.shape[0]):
        out[i] = tanh64(x[i])


def tanh_array(x: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = tanh(x)`` elementwise for 1-D float32 or float64 arrays (same dtype)."""
    if x.dtype != out.dtype or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x and out must both be float32 or float64, got {x.dtype} and "
                        f"{out.dtype}")
    (_tanh_array32 if x.dtype == np.float32 else _tanh_array64)(x, out)
