"""Argument validation shared by the public functions (private).

Every check raises ``TypeError`` (wrong kind of object) or ``ValueError`` (wrong
value or shape) with a message that names the offending argument.
"""

from __future__ import annotations

import numbers

import numpy as np

RngLike = int | np.random.Generator | np.random.SeedSequence | None
"""Accepted forms of the ``rng`` argument (see :func:`as_rng`)."""


def as_real_array(value, name: str, ndim: int | tuple[int, ...], *,
                  allow_empty: bool = False, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a real numeric array of its own dtype and layout (no copy of
    an array) after the checks of :func:`as_float_array`: for data that is read chunk by
    chunk and converted to float64 one chunk at a time (a float64 copy of a float32 or
    boolean array of the whole run would be 2-8x its size).

    With ``finite``, the entries must also be finite once converted to float64 (a
    ``longdouble`` of 1e400 is finite in its own type but not in float64).
    """
    if value is None:
        raise TypeError(f"{name} must be an array, got None")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many things
        raise TypeError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "mM" or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in dims:
        want = " or ".join(str(d) for d in dims)
        raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite and arr.size:
        with np.errstate(over="ignore"):
            lo, hi = np.float64(arr.min()), np.float64(arr.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{name} contains NaN or infinite values"
                             + (" (in float64)" if arr.dtype.itemsize > 8 else ""))
    return arr


def as_float_array(value, name: str, ndim: int | tuple[int, ...], *, allow_empty: bool = False,
                   finite: bool = True) -> np.ndarray:
    """Return ``value`` as a C-contiguous float64 array after checking it.

    Parameters
    ----------
    value : array_like
        The user's value.
    name : str
        Argument name used in error messages.
    ndim : int or tuple of int
        Allowed numbers of dimensions.
    allow_empty : bool
        Whether arrays with a zero-length axis are allowed.
    finite : bool
        Whether to reject NaN and infinite entries.
    """
    arr = as_real_array(value, name, ndim, allow_empty=allow_empty, finite=False)
    if arr.dtype != np.float64 or not arr.flags.c_contiguous:
        # a copy is about to be made: a broadcast view may stand for far more memory
        check_memory(8.0 * arr.size, name, f"<array of shape {arr.shape}>",
                     what=f"a float64 copy of shape {arr.shape}")
    wide = arr.dtype.itemsize > 8
    with np.errstate(over="ignore"):        # a longdouble beyond float64: inf, caught below
        arr = np.require(arr, dtype=np.float64, requirements="C")
    if finite and not all_finite(arr):
        raise ValueError(f"{name} contains NaN or infinite values"
                         + (" (in float64)" if wide else ""))
    return arr


def all_finite(arr: np.ndarray) -> bool:
    """Whether every entry of the real array ``arr`` is finite, without the boolean
    temporary of ``np.isfinite(arr).all()`` (as large as ``arr`` / 8, which would grow
    with the data in the chunked fits): the minimum and maximum propagate a NaN and
    are infinite exactly when an entry is. True for an empty array."""
    if arr.size == 0:
        return True
    return bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


def check_shape(arr: np.ndarray, shape: tuple, name: str) -> None:
    """Raise ``ValueError`` unless ``arr.shape`` matches ``shape`` (``None`` = any)."""
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")


def as_positive_float(value, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0 when ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {v}")
    return v


def as_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, checking its type and lower bound."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return v


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    """Turn ``None``, an int seed, a ``SeedSequence`` or a ``Generator`` into a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"{name} must be None, an int seed, a SeedSequence or a numpy Generator, "
            f"got {type(rng).__name__}"
        )
    if int(rng) < 0:
        raise ValueError(f"{name} seed must be non-negative, got {rng}")
    return np.random.default_rng(int(rng))


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, or None where the OS does not say.

    Read with ``os.sysconf`` (POSIX: ``SC_PAGE_SIZE * SC_PHYS_PAGES``); no dependency.
    Tests monkeypatch this function to simulate a small machine.
    """
    import os
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return None
    if pages <= 0 or size <= 0:  # pragma: no cover
        return None
    return int(pages) * int(size)


def _format_bytes(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def check_memory(nbytes: float, name: str, value, what: str = "") -> None:
    """Raise ``ValueError`` at once if ``nbytes`` cannot fit in physical memory.

    Parameters
    ----------
    nbytes : float
        Estimated peak bytes the request needs (a float, so huge requests do not overflow).
    name : str
        The argument that sets the size (named in the message).
    value : object
        Its value (shown in the message).
    what : str
        What would be allocated, e.g. ``"a dense (N, N) float64 J"``.

    Raises
    ------
    ValueError
        If ``nbytes`` exceeds the physical memory (unknown memory: no check).
    """
    total = physical_memory()
    if total is None or nbytes <= total:
        return
    detail = f" for {what}" if what else ""
    raise ValueError(
        f"{name}={value!r} needs about {_format_bytes(float(nbytes))} of memory{detail}, "
        f"more than this machine's {_format_bytes(float(total))} of physical memory")


def as_real(value, name: str, *, low: float | None = None, high: float | None = None) -> float:
    """Return ``value`` as a finite float in ``[low, high]`` (either bound optional)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {v}")
    return v


def as_choice(value, name: str, choices) -> str:
    """Return ``value`` if it is one of the strings ``choices``, else raise naming ``name``."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def as_callable(value, name: str):
    """Return ``value`` if it is callable, else raise ``TypeError`` naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_rng(rng, name: str = "rng") -> None:
    """Validate ``rng`` as :func:`as_rng` would, without building a generator for None."""
    if rng is None or isinstance(rng, (np.random.Generator, np.random.SeedSequence)):
        return
    as_rng(rng, name)


#: Most Euler steps one call may request: at a tenth of a microsecond per step (a tiny
#: network) this is more than a day of computation, so a larger request is a mistake in
#: units (e.g. a duration given in steps times ``1/dt``), not a run to start.
MAX_STEPS = 10**12


def check_steps(duration: float, dt: float, name: str) -> int:
    """Number of Euler steps ``round(duration / dt)``, refused above :data:`MAX_STEPS`.

    Raises
    ------
    ValueError
        Naming ``name`` if the duration needs more than ``MAX_STEPS`` steps of ``dt``.
    """
    steps = duration / dt
    if not steps <= MAX_STEPS:
        raise ValueError(
            f"{name}={duration:g} needs {steps:.3g} Euler steps of dt={dt!r}, more than "
            f"the {MAX_STEPS:.0e} one call may run (more than a day at any network size); "
            "give durations in time units (those of tau)")
    return int(round(steps))
