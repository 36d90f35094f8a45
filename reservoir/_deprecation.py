"""Deprecated aliases of renamed or moved public names, kept for one release.

An alias is resolved lazily from a module's ``__getattr__`` (PEP 562), so a deprecated name
that would cross layers (for example ``reservoir.meanfield.predict``, which lives above the
theory) is imported only when somebody asks for it.
"""

from __future__ import annotations

import importlib
import warnings


def resolve_alias(module_name: str, name: str, aliases: dict):
    """Look up the deprecated ``name`` of ``module_name`` in ``aliases`` and warn.

    Parameters
    ----------
    module_name : str
        The module whose attribute was asked for (for the messages).
    name : str
        The attribute asked for.
    aliases : dict
        ``old name -> (module path, new name)``.

    Returns
    -------
    object
        The object now called ``new name`` in ``module path``.

    Raises
    ------
    AttributeError
        If ``name`` is not a deprecated alias of ``module_name``.
    """
    if name not in aliases:
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
    target_module, new_name = aliases[name]
    warnings.warn(f"{module_name}.{name} is deprecated and will be removed in the next "
                  f"release; use {target_module}.{new_name}", DeprecationWarning,
                  stacklevel=3)
    return getattr(importlib.import_module(target_module), new_name)
