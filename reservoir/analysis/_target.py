"""The one rule that decides whether a readout value is "at the target".

A fixed point of a trained network is the target point when every readout component is
within ``atol + rtol |A_k|`` of the target ``A_k`` (the rule of :func:`numpy.isclose`),
and among such points the nearest (in max-norm) is taken. The same rule, with the same
defaults, is used by :func:`~reservoir.analysis.global_stability.stability_report`,
:func:`~reservoir.analysis.geometry.readout_geometry` and (for its solution classes)
:func:`~reservoir.theory_check.predict`, so that they cannot disagree about which point is
the target.

Defaults: ``TARGET_ATOL = 0.01`` and ``TARGET_RTOL = 0.02`` (readout units and a fraction
of ``|A|``; 0.05 at ``A = 2``). A trained finite network holds its output only up to its
training error and finite-size effects (the ``N = 1000`` network of notebook 02 has its
target point at ``z = 2.017`` for ``A = 2``), so the rule must be looser than rounding;
two distinct fixed points of a trained network closer than this to each other and to the
target are not told apart by it (the nearest is taken).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .._checks import as_positive_float

#: Default absolute tolerance of the target rule (readout units).
TARGET_ATOL = 0.01
#: Default relative tolerance of the target rule (fraction of ``|A_k|``).
TARGET_RTOL = 0.02


def target_tolerance(target, atol: float = TARGET_ATOL, rtol: float = TARGET_RTOL):
    """The per-readout tolerance ``atol + rtol |A_k|`` (readout units), shape (K,)."""
    atol = as_positive_float(atol, "target_atol", allow_zero=True)
    rtol = as_positive_float(rtol, "target_rtol", allow_zero=True)
    if atol == 0.0 and rtol == 0.0:
        raise ValueError("target_atol and target_rtol cannot both be 0")
    return atol + rtol * np.abs(np.atleast_1d(np.asarray(target, dtype=float)))


def at_target(z, target, atol: float = TARGET_ATOL, rtol: float = TARGET_RTOL):
    """Whether each readout row of ``z`` (shape (P, K) or (K,)) is at ``target`` (K,)."""
    z = np.asarray(z, dtype=float)
    tol = target_tolerance(target, atol, rtol)
    return np.all(np.abs(z - np.atleast_1d(target)) <= tol, axis=-1)


def match_target(z, target, atol: float = TARGET_ATOL, rtol: float = TARGET_RTOL,
                 candidates=None):
    """Row of ``z`` (P, K) that is the target: the nearest (max-norm) of the rows at the
    target, among ``candidates`` (bool (P,), default all); ``None`` if there is none."""
    z = np.atleast_2d(np.asarray(z, dtype=float))
    if z.shape[0] == 0:
        return None
    ok = at_target(z, target, atol, rtol)
    if candidates is not None:
        ok = ok & np.asarray(candidates, dtype=bool)
    if not ok.any():
        return None
    dist = np.where(ok, np.max(np.abs(z - np.atleast_1d(target)), axis=1), np.inf)
    return int(np.argmin(dist))


def describe_rule(atol: float, rtol: float) -> str:
    """The rule in words, for messages."""
    return f"|z_k - A_k| <= {atol:g} + {rtol:g} |A_k|"


def deprecated_target_tol(func):
    """Decorator: the old keyword ``target_tol=t`` (an absolute rule) becomes
    ``target_atol=t, target_rtol=0`` (the same rule), with a ``DeprecationWarning``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "target_tol" in kwargs:
            if "target_atol" in kwargs:
                raise TypeError(f"{func.__name__}() got both 'target_tol' (deprecated) and "
                                "'target_atol'; pass only 'target_atol'")
            warnings.warn(f"{func.__name__}(target_tol=...) is deprecated and will be "
                          "removed in the next release; use target_atol=... and "
                          "target_rtol=... (target_tol=t is target_atol=t, target_rtol=0)",
                          DeprecationWarning, stacklevel=2)
            kwargs["target_atol"] = kwargs.pop("target_tol")
            kwargs.setdefault("target_rtol", 0.0)
        return func(*args, **kwargs)
    return wrapper
