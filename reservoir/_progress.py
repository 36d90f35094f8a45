"""Progress bars for long work (``tqdm``), one rule everywhere.

``progress=None`` (the default of every public function that takes it) shows a bar only
when standard error is a terminal; ``True`` forces it, ``False`` hides it. Bars go to
standard error, never standard output; library code never prints.

The bar is ``tqdm``'s text bar (``tqdm.std``), also in Jupyter, where it shows in the
cell's standard error: ``tqdm.auto`` would write a notebook bar's text to standard output,
need ``ipywidgets``, and warn on ``import reservoir`` in a kernel without it.
"""

from __future__ import annotations

from tqdm import tqdm


def check_progress(progress) -> bool | None:
    """Validate a ``progress`` argument: ``None``, ``True`` or ``False``.

    Parameters
    ----------
    progress : object
        The value given by the caller.

    Returns
    -------
    bool or None
        ``progress`` as a Python bool, or None.

    Raises
    ------
    TypeError
        If ``progress`` is anything else (NumPy booleans are accepted).
    """
    if progress is None:
        return None
    if isinstance(progress, bool):
        return progress
    try:
        import numpy as np
        if isinstance(progress, np.bool_):
            return bool(progress)
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    raise TypeError(f"progress must be True or False (or None: a bar only when standard "
                    f"error is a terminal), got {progress!r} of type "
                    f"{type(progress).__name__}")


def progress_bar(total: int | None, desc: str, progress: bool | None = None, *,
                 unit: str = "it", leave: bool = False, initial: int = 0) -> tqdm:
    """A ``tqdm`` bar on standard error following the package's ``progress`` rule.

    Parameters
    ----------
    total : int or None
        Number of steps (None: unknown).
    desc : str
        Label shown before the bar.
    progress : bool or None
        ``None``: shown only when standard error is a terminal; ``True``: always;
        ``False``: never.
    unit, leave, initial
        Passed to ``tqdm`` (``initial``: steps already done, e.g. on resuming).

    Returns
    -------
    tqdm
        Use it as a context manager and call ``update(n)``; a disabled bar costs nothing.
    """
    progress = check_progress(progress)
    disable = None if progress is None else not progress
    return tqdm(total=total, desc=desc, disable=disable, unit=unit, leave=leave,
                initial=initial, dynamic_ncols=True)


def is_shown(bar: tqdm) -> bool:
    """Whether ``bar`` (from :func:`progress_bar`) is drawn (``tqdm`` disables it off a
    terminal when ``progress`` is None)."""
    return not bar.disable
