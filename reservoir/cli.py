"""The ``reservoir`` command: the papers' reproductions and the benchmark for pip users.

    reservoir [-v | -q] reproduce NAME [--out DIR] [--quick] [...]
    reservoir [-v | -q] benchmark [...]
    python -m reservoir ...                                 # the same

``reservoir reproduce NAME`` hands every argument after ``NAME`` unchanged to the
command line of :mod:`reservoir.reproduce` ``.NAME`` (its ``main(argv)``: ``reservoir
reproduce mo2019 --help`` is that module's help); ``reservoir benchmark`` hands its
arguments to ``reservoir.benchmark.main(argv)``. The scripts in ``scripts/`` call the same
functions.

Exit status: 0 on success; 2 for a command-line error (an unknown command or name, a bad
option or value; the valid choices are listed); 1 when the run itself fails (one line on
standard error, the traceback too with ``-v``); 130 when interrupted.

Logging is configured here and only here (library modules never configure it): the
package's logger ``reservoir`` writes to standard error at level INFO (the reproductions'
progress and summary lines), DEBUG with ``-v``, WARNING with ``-q``, ERROR with ``-qq``.
The previous logging state is restored when :func:`main` returns, so calling it from
Python leaves no handler behind.

Threads: NumPy (and its BLAS) is loaded when this module is, before any argument is read,
so the command cannot set ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` as the scripts do;
the reproductions limit BLAS and Numba to ``--threads`` (default 1) for the whole run
through ``threadpoolctl`` (see :data:`THREADS_NOTE`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import textwrap
import traceback

from ._version import __version__

__all__ = ["main", "REPRODUCTIONS", "THREADS_NOTE"]

#: ``reservoir reproduce NAME``: the name on the command line -> the module of
#: :mod:`reservoir.reproduce` that it runs (``training_comparison`` is also accepted for
#: ``training-comparison``).
REPRODUCTIONS = {"mo2019": "mo2019", "rb2017": "rb2017", "jarne": "jarne",
                 "training-comparison": "training_comparison"}

#: The module that ``reservoir benchmark`` runs (``main(argv)``).
BENCHMARK_MODULE = "reservoir.benchmark"

#: What the command does about threads (the epilog of ``reservoir --help``).
THREADS_NOTE = """\
threads:
  NumPy and its BLAS are loaded before this command reads its arguments, so unlike the
  scripts in scripts/ it does not set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (too late
  to take effect). The reproductions mo2019, rb2017 and jarne limit BLAS and Numba to
  their --threads (default 1) for the whole run, through threadpoolctl;
  training-comparison uses the library's defaults (BPTT splits each mini-batch over
  the cores Numba may use); benchmark sets its own (see 'benchmark --help'). To cap
  a whole process, e.g. several runs side by side on one machine or a cluster node,
  set them before the command starts:
      OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \\
          reservoir reproduce rb2017 --quick --out out/rb2017"""

_COMMANDS = {
    "reproduce": "reproduce a paper's results: figures (PNG + PDF) and a JSON file with "
                 "theory beside simulation and the papers' claims judged",
    "benchmark": "time the package against its CPU peers (JAX, SciPy, reservoirpy, "
                 "where installed): the tables of BENCHMARKS.md",
}


class _UsageError(Exception):
    """A command-line error found by this module (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise (the caller prints and returns 2) instead of
    exiting, so :func:`main` returns a status from Python too."""

    def error(self, message):
        raise _UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def _split_after_positional(argv: list[str]) -> tuple[list[str], list[str]]:
    """``argv`` split after its first positional token (the command or the name).

    The options before it are flags that take no value, so the first token that does not
    start with ``-`` (or is ``-`` alone) is the positional; everything after it is passed
    on exactly as given (argparse would drop a ``--`` from it).
    """
    for i, tok in enumerate(argv):
        if tok == "-" or not tok.startswith("-"):
            return argv[:i + 1], argv[i + 1:]
    return list(argv), []


def _listing(entries: dict, width: int) -> str:
    """``name  text`` lines, the text wrapped at 88 columns under its first line."""
    return "\n".join(textwrap.fill(text, 88, initial_indent=f"  {name:<{width}}",
                                    subsequent_indent=" " * (2 + width),
                                    break_on_hyphens=False)
                      for name, text in entries.items())


def _top_parser(prog: str) -> _Parser:
    commands = _listing(_COMMANDS, 11)
    ap = _Parser(
        prog=prog, usage="%(prog)s [-h] [--version] [-v | -q] COMMAND ...",
        description="Reproduce the papers' results and benchmark the kernels of the "
                    "reservoir package (trained recurrent rate networks with feedback).",
        epilog=f"commands:\n{commands}\n\n"
               f"  '{prog} COMMAND --help' lists the options of a command, e.g.\n"
               f"  '{prog} reproduce --help', '{prog} reproduce rb2017 --help'.\n\n"
               f"exit status:\n  0 success; 2 command-line error (unknown command, name "
               f"or option; bad value);\n  1 the run failed (one line on stderr, the "
               f"traceback with -v); 130 interrupted.\n\n{THREADS_NOTE}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"reservoir {__version__}",
                    help="print the package's version and exit")
    loud = ap.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="count", default=0,
                      help="log at level DEBUG, and print the traceback of a failed run "
                           "(before the command)")
    loud.add_argument("-q", "--quiet", action="count", default=0,
                      help="log warnings only (-qq: errors only); the default logs the "
                           "runs' progress at level INFO on stderr (before the command)")
    ap.add_argument("command", metavar="COMMAND", nargs="?", choices=tuple(_COMMANDS),
                    help=f"one of {', '.join(_COMMANDS)} (see below)")
    ap.add_argument("args", metavar="...", nargs=argparse.REMAINDER,
                    help="the command's arguments, passed on unchanged")
    return ap


def _reproduce_parser(prog: str) -> _Parser:
    from . import reproduce
    lines = {}
    for name, module in REPRODUCTIONS.items():
        doc = (getattr(reproduce, module).__doc__ or "").strip().splitlines()
        lines[name] = doc[0] if doc else ""
    ap = _Parser(
        prog=f"{prog} reproduce", usage="%(prog)s [-h] NAME [options of NAME]",
        description="Run one of the reproductions of reservoir.reproduce: figures (PNG + "
                    "PDF) and a JSON file in the output folder, each compared quantity "
                    "as a theory/simulation pair and the papers' claims as 'claims' "
                    "entries (claim, rule, measured, agrees). '--quick' is the small run "
                    "(minutes on two cores); the full run takes hours.",
        epilog="reproductions:\n" + _listing(lines, 21) + "\n\n"
               f"  '{prog} reproduce NAME --help' lists the options of NAME (--out, "
               f"--quick, ...).\n  Example: {prog} reproduce rb2017 --quick --out "
               f"out/rb2017",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", metavar="NAME", nargs="?", choices=tuple(REPRODUCTIONS),
                    type=lambda s: s.replace("_", "-"),
                    help=f"the reproduction: one of {', '.join(REPRODUCTIONS)}")
    ap.add_argument("args", metavar="...", nargs=argparse.REMAINDER,
                    help="its options, passed on unchanged (see NAME --help)")
    return ap


@contextlib.contextmanager
def _argv0(prog: str):
    """``sys.argv[0]`` set to ``prog`` while a module's own parser is built and used, so
    that its usage and errors read ``reservoir reproduce mo2019 ...`` (argparse takes its
    default ``prog`` from ``sys.argv[0]``)."""
    saved = sys.argv[:] if sys.argv else [""]
    sys.argv[:] = [prog] + saved[1:]
    try:
        yield
    finally:
        sys.argv[:] = saved


@contextlib.contextmanager
def _logging_to_stderr(verbose: int, quiet: int):
    """The ``reservoir`` logger writing to standard error at the level chosen on the command
    line; the previous level, handlers and propagation are restored on exit."""
    level = min(max(logging.INFO + 10 * (quiet - verbose), logging.DEBUG), logging.CRITICAL)
    fmt = "%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.setLevel(level)
    log = logging.getLogger("reservoir")
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False          # one copy of each line, even under a root handler
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def _benchmark_module():
    """The module ``reservoir.benchmark``; a ``RuntimeError`` saying so if this installation
    has none (an ``ImportError`` raised inside that module is passed on, not hidden)."""
    try:
        return importlib.import_module(BENCHMARK_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != BENCHMARK_MODULE:
            raise
        raise RuntimeError(
            f"this installation of reservoir {__version__} has no benchmark module "
            f"({BENCHMARK_MODULE}); the benchmark script scripts/benchmark.py of the "
            f"source repository runs the same benchmark") from None


def _exit_code(code) -> int:
    """The status of a ``SystemExit`` code (None -> 0; a message -> printed, 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: list[str] | None = None, *, prog: str = "reservoir") -> int:
    """The ``reservoir`` command line (the console script, and ``python -m reservoir``).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``): global options
        (``--version``, ``-v``/``--verbose``, ``-q``/``--quiet``), then ``reproduce NAME
        ...`` or ``benchmark ...``. Everything after ``NAME`` (after ``benchmark``) is
        passed unchanged to that module's ``main(argv)``.
    prog : str
        The program name shown in usage and error messages.

    Returns
    -------
    int
        The exit status: 0 success, 2 command-line error (the usage and the message,
        naming the argument and the valid choices, on standard error), 1 the run raised
        an exception (one line ``PROG: error: Type: message`` on standard error; the
        traceback too with ``-v``), 130 interrupted (Ctrl-C).

    Raises
    ------
    TypeError
        If ``argv`` is a string or not a list of strings (a programming error, not a
        command-line one).
    """
    if argv is None:
        argv = sys.argv[1:]
    if isinstance(argv, (str, bytes)) or not all(isinstance(a, str) for a in argv):
        raise TypeError(f"argv must be a list of strings (e.g. ['reproduce', 'rb2017', "
                        f"'--quick']), got {argv!r}")
    argv = list(argv)
    verbose = 0
    try:
        head, rest = _split_after_positional(argv)
        top = _top_parser(prog)
        args = top.parse_args(head)
        verbose = args.verbose
        if args.command is None:
            top.error(f"a COMMAND is required: one of {', '.join(_COMMANDS)}")
        if args.command == "reproduce":
            head, rest = _split_after_positional(rest)
            sub = _reproduce_parser(prog)
            name = sub.parse_args(head).name
            if name is None:
                sub.error(f"a NAME is required: one of {', '.join(REPRODUCTIONS)}")
            target = f"reproduce {name}"
            module = importlib.import_module(f"reservoir.reproduce.{REPRODUCTIONS[name]}")
        else:
            target = "benchmark"
            module = None
        with _logging_to_stderr(args.verbose, args.quiet), _argv0(f"{prog} {target}"):
            if module is None:
                module = _benchmark_module()
            status = module.main(rest)
        return status if isinstance(status, int) and not isinstance(status, bool) else 0
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except SystemExit as exc:          # --help, --version, a module parser's usage error
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:           # noqa: BLE001 -- the run failed: one line, status 1
        if verbose:
            traceback.print_exc(file=sys.stderr)
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
