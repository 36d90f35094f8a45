"""Shared docstring sections: one text for a section that several functions document alike.

A docstring names a shared section on a line of its own, ``{name}``, indented like the lines
around it; :func:`fill_doc` replaces that line by the section, indented the same way.
"""

from __future__ import annotations

import textwrap


def fill_doc(**sections):
    """Decorator: replace each line ``{name}`` of the docstring by ``sections[name]``.

    Parameters
    ----------
    **sections : str
        The shared texts, written without indentation.

    Returns
    -------
    callable
        The decorator; it returns the decorated object with its ``__doc__`` filled in.

    Raises
    ------
    KeyError
        If the docstring names a section that was not given.
    """
    def decorate(obj):
        out = []
        for line in (obj.__doc__ or "").split("\n"):
            key = line.strip()
            if len(key) > 2 and key[0] == "{" and key[-1] == "}" and key[1:-1].isidentifier():
                indent = line[:len(line) - len(line.lstrip())]
                text = textwrap.dedent(sections[key[1:-1]]).strip("\n")
                out.extend(indent + part if part else part for part in text.split("\n"))
            else:
                out.append(line)
        obj.__doc__ = "\n".join(out)
        return obj
    return decorate
