"""Deprecated aliases of renamed or moved public names, kept for one release.

An alias is resolved lazily from a module's ``__getattr__`` (PEP 562), so a deprecated name
that would cross layers (for example ``reservoir.meanfield.predict``, which lives above the
theory) is imported only when somebody asks for it.
"""

from __future__ import annotations

import functools
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


def renamed_kwargs(**renames):
    """Decorator: accept the old keyword names ``renames = {old: new}`` for one release.

    A call that passes an old name gets a ``DeprecationWarning`` and the value is passed
    on under the new name; passing both names raises ``TypeError``.

    Parameters
    ----------
    **renames : str
        ``old=new`` pairs of keyword names.

    Returns
    -------
    callable
        The decorator.
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old!r} (deprecated) "
                                        f"and {new!r}; pass only {new!r}")
                    warnings.warn(f"{func.__name__}({old}=...) is deprecated and will be "
                                  f"removed in the next release; use {new}=...",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return wrapper
    return decorate


def renamed_fields(**renames):
    """Class decorator: read-only properties under the old field names ``{old: new}`` of a
    result dataclass, each warning with a ``DeprecationWarning``, for one release.

    Parameters
    ----------
    **renames : str
        ``old=new`` pairs of attribute names.

    Returns
    -------
    callable
        The class decorator.
    """
    def decorate(cls):
        for old, new in renames.items():
            def getter(self, _old=old, _new=new):
                warnings.warn(f"{type(self).__name__}.{_old} is deprecated and will be "
                              f"removed in the next release; use .{_new}",
                              DeprecationWarning, stacklevel=2)
                return getattr(self, _new)
            setattr(cls, old, property(getter, doc=f"Deprecated alias of ``{new}``."))
        return cls
    return decorate


def forward_module(module_name: str, new_module: str, moved: dict):
    """The ``__getattr__`` of a deprecated module that forwards to its successor.

    Importing a deprecated module warns once (the module does that itself); each name is
    then looked up in ``new_module``, or in ``moved`` (``old name -> (module, new name)``,
    resolved lazily with a further warning).

    Parameters
    ----------
    module_name : str
        The deprecated module.
    new_module : str
        The module that now holds its contents.
    moved : dict
        Names that moved elsewhere: ``old name -> (module path, new name)``.

    Returns
    -------
    callable
        A module-level ``__getattr__(name)``.
    """
    def __getattr__(name):
        if name in moved:
            return resolve_alias(module_name, name, moved)
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(importlib.import_module(new_module), name)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") \
                from None
    return __getattr__


def warn_module_moved(module_name: str, new_module: str) -> None:
    """Warn that ``module_name`` is deprecated in favour of ``new_module``.

    Parameters
    ----------
    module_name : str
        The deprecated module (importing it calls this).
    new_module : str
        Its successor.

    Returns
    -------
    None
    """
    warnings.warn(f"module {module_name} is deprecated and will be removed in the next "
                  f"release; use {new_module}", DeprecationWarning, stacklevel=3)
