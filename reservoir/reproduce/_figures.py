"""What the reproductions share: figures without pyplot, PNG + PDF, the JSON file, arguments.

Figures are plain ``matplotlib.figure.Figure`` objects, never registered with pyplot: no
backend is chosen or changed (a notebook keeps its own), nothing is left open between
calls, and saving renders PNG with Agg and PDF with matplotlib's PDF backend, whatever the
interactive backend is. matplotlib is imported inside the functions only, so importing
``reservoir`` or ``reservoir.reproduce`` does not import it; :func:`require_matplotlib`
raises an ``ImportError`` that says what to install.

The JSON file holds every compared number as a *pair* ``{"theory": ..., "simulation": ...}``
(with the sizes and counts beside them); :func:`pair` builds one, :func:`comparisons`
finds them all in a nested result.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os

import numpy as np

logger = logging.getLogger(__name__)

#: What to install when matplotlib is missing (a dependency of the package, see setup.cfg).
MATPLOTLIB_HINT = "pip install 'matplotlib>=3.6'"

#: The file formats every figure is written in.
FORMATS = ("png", "pdf")


def require_matplotlib():
    """Import and return matplotlib, or raise an ``ImportError`` naming what to install."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "reservoir.reproduce draws its figures with matplotlib, which could not be "
            f"imported ({exc}); install it with: {MATPLOTLIB_HINT}") from exc
    return matplotlib


def figure(**kwargs):
    """A new figure that pyplot does not manage (``matplotlib.figure.Figure(**kwargs)``)."""
    require_matplotlib()
    from matplotlib.figure import Figure
    return Figure(**kwargs)


def subplots(nrows: int = 1, ncols: int = 1, *, figsize=None, constrained_layout=False,
             **kwargs):
    """``plt.subplots`` without pyplot: a new :func:`figure` and its axes.

    ``kwargs`` go to ``Figure.subplots`` (``sharex``, ``gridspec_kw``, ...). Returns
    ``(fig, axes)`` shaped as ``plt.subplots`` shapes them.
    """
    fig = figure(figsize=figsize, constrained_layout=constrained_layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig, out: str, name: str, *, dpi: float = 130, formats=FORMATS) -> list:
    """Write ``fig`` as ``out/name.png`` and ``out/name.pdf``; returns the paths written."""
    paths = []
    for ext in formats:
        path = os.path.join(out, f"{name}.{ext}")
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    logger.debug("wrote %s", ", ".join(paths))
    return paths


def pair(theory, simulation, **extra) -> dict:
    """One compared number: ``{"theory": theory, "simulation": simulation, **extra}``."""
    return {"theory": theory, "simulation": simulation, **extra}


def comparisons(obj):
    """Yield every dict in the nested ``obj`` (dicts and lists) with both a ``"theory"``
    and a ``"simulation"`` entry, outermost first."""
    if isinstance(obj, dict):
        if "theory" in obj and "simulation" in obj:
            yield obj
        for v in obj.values():
            yield from comparisons(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from comparisons(v)


def nonfinite_paths(obj, path: str = "") -> list:
    """The JSON paths (``a/b/3``) of every NaN or infinite float in the nested ``obj``."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in nonfinite_paths(v, f"{path}/{k}")]
    if isinstance(obj, (list, tuple)):
        return [p for i, v in enumerate(obj) for p in nonfinite_paths(v, f"{path}/{i}")]
    if isinstance(obj, numbers.Real) and not isinstance(obj, bool) and \
            not math.isfinite(float(obj)):
        return [path or "/"]
    return []


def write_json(data: dict, out: str, filename: str) -> str:
    """Write ``data`` to ``out/filename`` (indent 1, as the scripts always did); returns the
    path. NaN and infinities are written as JSON's non-standard ``NaN``/``Infinity`` tokens
    (Python reads them back), and each one is reported by a logged warning with its path."""
    bad = nonfinite_paths(data)
    if bad:
        logger.warning("%s: %d non-finite numbers (written as NaN/Infinity): %s%s",
                       filename, len(bad), ", ".join(bad[:10]),
                       " ..." if len(bad) > 10 else "")
    path = os.path.join(out, filename)
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1)
    return path


def check_out(out) -> str:
    """The output folder ``out`` as a string: a non-empty path that is not an existing file
    (created, with its parents, by the caller)."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path (str or os.PathLike) to the output folder, "
                        f"got {type(out).__name__}")
    path = os.fspath(out)
    if not isinstance(path, str):
        raise TypeError(f"out must be a text path, got {type(path).__name__}")
    if not path.strip():
        raise ValueError("out must be a non-empty path to the output folder, got ''")
    if "\0" in path:
        raise ValueError(f"out must be a path without NUL characters, got {path!r}")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"out must be a folder, but {path!r} exists and is not one")
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"out must be a folder that can be created, but {parent!r} in its "
                         f"path is an existing file, not a folder")
    return path


def check_quick(quick) -> bool:
    """``quick`` as a bool (True or False only: a string such as ``"no"`` is refused)."""
    if isinstance(quick, (bool, np.bool_)):
        return bool(quick)
    raise TypeError(f"quick must be True or False, got {type(quick).__name__} {quick!r}")


def check_out_quick_threads(out, quick, threads):
    """Validated ``(out, quick, threads)`` of a paper module's ``run`` (``TypeError`` /
    ``ValueError`` naming the argument; ``threads`` an integer >= 1)."""
    from reservoir._checks import as_int
    return check_out(out), check_quick(quick), as_int(threads, "threads", minimum=1)


def run_checked(body, out, quick, threads):
    """Check ``(out, quick, threads)`` and that matplotlib imports (both before anything is
    computed or written), create ``out``, then return ``body(out, quick)`` run with at most
    ``threads`` BLAS and Numba threads."""
    from reservoir._kernels.blas_threads import thread_budget
    out, quick, threads = check_out_quick_threads(out, quick, threads)
    require_matplotlib()
    os.makedirs(out, exist_ok=True)
    with thread_budget(threads):
        return body(out, quick)


def parse_or_exit(parser, check, argv=None):
    """Parse ``argv`` with ``parser`` and pass the namespace to ``check``, turning its
    ``ValueError``/``TypeError`` into a command-line error (usage and exit status 2)."""
    if isinstance(argv, (str, bytes)):
        raise TypeError(f"argv must be a list of strings (e.g. ['--quick']), not one string: "
                        f"{argv!r}")
    args = parser.parse_args(argv)
    try:
        return check(args)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))


def main_out_quick_threads(build_parser, check, run, argv=None) -> None:
    """The command line ``[--out DIR] [--quick] [--threads N]`` shared by the paper modules:
    parse ``argv`` with ``build_parser()``, check with ``check(out, quick, threads)`` (a bad
    value exits with the usage and status 2), then ``run(out, quick, threads=threads)``."""
    ap = build_parser()
    out, quick, threads = parse_or_exit(
        ap, lambda a: check(a.out, a.quick, a.threads), argv)
    run(out, quick, threads=threads)


def parser_out_quick_threads(description: str, default_out: str, quick_help: str,
                             threads_help: str):
    """The parser of ``[--out DIR] [--quick] [--threads N]`` shared by the paper modules
    (no argument is checked beyond its type: ``main`` checks them as ``run`` does)."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", default=default_out, metavar="DIR",
                    help=f"output folder for the figures (PNG and PDF) and the JSON file, "
                         f"created with its parents if missing (default {default_out})")
    ap.add_argument("--quick", action="store_true",
                    help=f"the quick run: {quick_help} (default: the full run, hours)")
    ap.add_argument("--threads", type=int, default=1, metavar="N",
                    help=f"{threads_help}; an integer >= 1")
    return ap

