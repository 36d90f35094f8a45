"""The shared behaviour of result objects: a short ``repr``/``summary()`` and, for point
collections, selection by mask or index.

Every result class of the package is a frozen dataclass. Those that report on a computation
that can fail carry ``success: bool`` and ``messages: tuple[str, ...]`` (empty when there is
nothing to say) and, where a loop ran, its counters; plain containers say so in their
docstring. The mixins here only format and select; they never compute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dataclasses

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import xarray

    from .network import Network

#: At most this many messages are shown by ``summary()`` (the rest are counted).
_MAX_MESSAGES = 3
#: Arrays with at most this many elements are shown by value, larger ones by shape.
_MAX_VALUES = 6


def _describe(value) -> str:
    """One short line for a field value (arrays by shape unless tiny)."""
    if isinstance(value, ResultMixin):
        return value._headline()
    if isinstance(value, np.ndarray):
        if value.size <= _MAX_VALUES and value.dtype != object:
            with np.printoptions(precision=4, suppress=False, threshold=_MAX_VALUES):
                return np.array2string(value, separator=", ").replace("\n", "")
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, (list, tuple)) and value and \
            all(isinstance(v, ResultMixin) for v in value):
        names = sorted({type(v).__name__ for v in value})
        return f"{type(value).__name__} of {len(value)} {'/'.join(names)}"
    if isinstance(value, (list, tuple)) and len(value) > _MAX_VALUES:
        return f"{type(value).__name__} of {len(value)} items"
    if isinstance(value, dict) and len(value) > _MAX_VALUES:
        return f"dict with {len(value)} keys"
    if hasattr(value, "shape") and hasattr(value, "nnz"):        # scipy.sparse
        return f"sparse matrix, shape={value.shape}, nnz={value.nnz}"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + "..."


class ResultMixin:
    """Short ``repr`` and ``summary()`` for result dataclasses.

    The summary has one line per field (arrays by shape, tiny arrays by value), the first
    messages, and never more than 25 lines whatever the size of the result.
    """

    def _headline(self) -> str:
        parts = [type(self).__name__]
        if hasattr(self, "__len__"):
            n = len(self)
            parts.append(f"{n} point" if n == 1 else f"{n} points")
        if "success" in {f.name for f in dataclasses.fields(self)}:
            parts.append(f"success={bool(self.success)}")
        return parts[0] + "(" + ", ".join(parts[1:]) + ")"

    def summary(self) -> str:
        """A short plain-text summary (under 25 lines for any size).

        Returns
        -------
        str
        """
        lines = [self._headline()]
        fields = [f.name for f in dataclasses.fields(self)
                  if f.repr and f.name not in ("success", "messages")]
        for name in fields[:17]:
            lines.append(f"  {name}: {_describe(getattr(self, name))}")
        if len(fields) > 17:
            lines.append(f"  ... {len(fields) - 17} more fields")
        messages = tuple(getattr(self, "messages", ()) or ())
        if messages:
            lines.append("  messages:")
        for m in messages[:_MAX_MESSAGES]:
            m = str(m)
            lines.append("    - " + (m if len(m) <= 100 else m[:97] + "..."))
        if len(messages) > _MAX_MESSAGES:
            lines.append(f"  ... {len(messages) - _MAX_MESSAGES} more messages")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


class PointSetMixin(ResultMixin):
    """Selection of a point collection by boolean mask, integer index, slice or index array.

    ``result[key]`` returns a result of the same class holding the selected points, in the
    order of ``key``; an integer selects a collection of one point. Fields named in the
    class attribute ``_point_fields`` have the point index on their first axis and are
    selected; every other field (grids, settings, ``success``, ``messages``) is kept.
    """

    _point_fields: tuple = ()

    def __len__(self) -> int:
        return int(np.shape(getattr(self, self._point_fields[0]))[0])

    def to_xarray(self, net: "Network | None" = None) -> "xarray.Dataset":
        """The collection as an ``xarray.Dataset``, per-point fields along ``point`` (the
        parameters of ``net``, a ``Network``, in ``attrs`` when given); needs ``pip install
        reservoir[xarray]``. See :mod:`reservoir._xarray`."""
        from ._xarray import points_to_xarray
        return points_to_xarray(self, net)

    def __getitem__(self, key):
        n = len(self)
        if isinstance(key, (bool, np.bool_)):
            raise TypeError("a point collection is indexed by a mask array, an integer, a "
                            "slice or an index array, not by a single bool")
        if isinstance(key, np.ndarray) and key.ndim == 0 and \
                np.issubdtype(key.dtype, np.integer):
            key = int(key)
        if isinstance(key, (int, np.integer)):
            if not -n <= int(key) < n:
                raise IndexError(f"point index {int(key)} out of range for {n} points")
            idx = np.array([int(key) % n])
        elif isinstance(key, slice):
            idx = np.arange(n)[key]
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (n,):
                    raise IndexError(f"a boolean mask must have shape ({n},), got "
                                     f"{key.shape}")
                idx = np.flatnonzero(key)
            elif key.size == 0:
                idx = np.zeros(0, dtype=int)
            elif np.issubdtype(key.dtype, np.integer) and key.ndim == 1:
                if np.any((key < -n) | (key >= n)):
                    raise IndexError(f"point indices out of range for {n} points")
                idx = key % n
            else:
                raise TypeError("a point collection is indexed by a boolean mask of shape "
                                f"({n},), an integer, a slice or a 1-D integer array; got "
                                f"an array of dtype {key.dtype} and shape {key.shape}")
        changes = {}
        for name in self._point_fields:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                changes[name] = value[idx]
            else:                                   # tuple or list, one entry per point
                changes[name] = type(value)(value[i] for i in idx)
        return dataclasses.replace(self, **changes)
