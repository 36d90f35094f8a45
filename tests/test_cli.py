"""The ``reservoir`` command (reservoir/cli.py): the console script and ``python -m
reservoir``, help that names every option of the parsers it delegates to, arguments passed on
unchanged, exit statuses, and logging configured by the command only."""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import logging
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import reservoir
from reservoir import cli
from reservoir.reproduce import MODULES

ROOT = Path(reservoir.__file__).resolve().parent
SCRIPT = Path(sys.executable).parent / "reservoir"
TIMEOUT = 120

#: The reproduction modules, by the name the command takes for them.
REPRO = {name: importlib.import_module(f"reservoir.reproduce.{mod}")
         for name, mod in cli.REPRODUCTIONS.items()}


def _squash(text: str) -> str:
    """``text`` without any whitespace (argparse wraps help text at any space)."""
    return "".join(text.split())


def _run(argv, capsys):
    """``cli.main(argv)`` in this process: ``(status, stdout, stderr)``."""
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _subprocess(cmd, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def _fake_benchmark():
    """A stand-in for ``reservoir.benchmark`` (helper J's module): ``build_parser`` and
    ``main(argv)`` with an argparse parser, recording the argv it is given."""
    mod = types.ModuleType("reservoir.benchmark")
    mod.calls = []

    def build_parser():
        ap = argparse.ArgumentParser(description="stand-in benchmark")
        ap.add_argument("--repeats", type=int, default=5, help="repetitions (default 5)")
        ap.add_argument("--quick", action="store_true", help="small sizes")
        ap.add_argument("--json", metavar="FILE", help="write the table as JSON to FILE")
        ap.add_argument("--kind", choices=("dense", "sparse"), default="dense",
                        help="which kernels (default dense)")
        return ap

    def main(argv=None):
        mod.calls.append(list(argv))
        build_parser().parse_args(argv)

    mod.build_parser, mod.main = build_parser, main
    return mod


def _check_help_names_every_action(parser, text):
    """``text`` (a ``--help`` output) names every option of ``parser`` with its meaning,
    its valid choices and its default; returns the options checked."""
    flat = _squash(text)
    checked = []
    for action in parser._actions:
        names = action.option_strings or [action.metavar or action.dest]
        for name in names:
            assert name in text, f"{name} missing from the help"
            checked.append(name)
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and _squash(action.help) in flat, \
            f"{names}: no help text shown"
        for choice in action.choices or ():
            assert str(choice) in text, f"{names}: choice {choice!r} not listed"
        default = action.default
        if default not in (None, False, argparse.SUPPRESS) and action.option_strings:
            shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) \
                else str(default)
            assert _squash(f"default {shown}") in flat, \
                f"{names}: default {shown!r} not stated in the help"
    return checked


# ---------------------------------------------------------------- installed command

def test_console_script_help_runs(tmp_path):
    assert SCRIPT.exists(), (f"no console script {SCRIPT}: install the package "
                             f"(pip install -e .) so that setup.cfg's entry point is made")
    res = _subprocess([str(SCRIPT), "--help"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: reservoir ")
    for word in ("reproduce", "benchmark", "--verbose", "--quiet", "--version",
                 "OPENBLAS_NUM_THREADS", "--threads"):
        assert word in res.stdout
    assert res.stderr == ""


def test_console_script_exit_status_of_a_bad_command(tmp_path):
    """The process's status is ``main``'s (the bad names of ``reproduce`` are checked in
    this process below)."""
    res = _subprocess([str(SCRIPT), "nosuch"], tmp_path)
    assert res.returncode == 2
    assert "invalid choice: 'nosuch'" in res.stderr
    assert res.stdout == ""


def test_python_m_reservoir_help(tmp_path):
    res = _subprocess([sys.executable, "-m", "reservoir", "--help"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: python -m reservoir ")
    assert "reproduce" in res.stdout and "benchmark" in res.stdout


def test_entry_point_is_in_the_installed_metadata(tmp_path):
    # run from a temporary folder: the repository's own (ignored) *.egg-info must not be
    # what importlib.metadata reads
    code = ("import importlib.metadata as m, json; print(json.dumps(sorted((e.name, e.value) "
            "for e in m.entry_points(group='console_scripts') if e.name == 'reservoir')))")
    res = _subprocess([sys.executable, "-c", code], tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [["reservoir", "reservoir.cli:main"]]
    assert "reservoir.cli" in SCRIPT.read_text()


def test_python_m_module_only_runs_as_main():
    mod = importlib.import_module("reservoir.__main__")       # importing runs nothing
    assert mod.main is cli.main


# ---------------------------------------------------------------- help

def test_names_are_the_packages_reproductions():
    assert set(cli.REPRODUCTIONS.values()) == set(MODULES)
    assert set(cli.REPRODUCTIONS) == {m.replace("_", "-") for m in MODULES}


def test_version(capsys):
    status, out, _ = _run(["--version"], capsys)
    assert status == 0 and out.split() == ["reservoir", reservoir.__version__]


def test_top_help_names_every_option(capsys):
    status, out, err = _run(["--help"], capsys)
    assert status == 0 and err == ""
    checked = _check_help_names_every_action(cli._top_parser("reservoir"), out)
    assert {"--version", "--verbose", "--quiet"} <= set(checked)
    for command in ("reproduce", "benchmark"):
        assert f"\n  {command} " in out


def test_reproduce_help_lists_every_name_with_its_line(capsys):
    status, out, err = _run(["reproduce", "--help"], capsys)
    assert status == 0 and err == ""
    assert out.startswith("usage: reservoir reproduce ")
    flat = _squash(out)
    for name, module in REPRO.items():
        first = module.__doc__.strip().splitlines()[0]
        assert _squash(f"{name} {first}") in flat, f"{name}: its one-line summary missing"


@pytest.mark.parametrize("name", sorted(cli.REPRODUCTIONS))
def test_reproduction_help_names_every_option(name, capsys):
    """``reservoir reproduce NAME --help`` is the module's own parser's help (options,
    meaning, choices, defaults), under the command's name."""
    status, out, err = _run(["reproduce", name, "--help"], capsys)
    assert status == 0 and err == ""
    assert out.startswith(f"usage: reservoir reproduce {name} ")
    checked = _check_help_names_every_action(REPRO[name].build_parser(), out)
    assert {"--out", "--quick"} <= set(checked)


def test_benchmark_help_names_every_option(monkeypatch, capsys):
    fake = _fake_benchmark()
    monkeypatch.setitem(sys.modules, "reservoir.benchmark", fake)
    status, out, err = _run(["benchmark", "--help"], capsys)
    assert status == 0 and err == ""
    assert out.startswith("usage: reservoir benchmark ")
    _check_help_names_every_action(fake.build_parser(), out)
    assert fake.calls == [["--help"]]


def test_real_benchmark_help_names_every_option(capsys):
    """Once ``reservoir/benchmark.py`` exists (helper J), its help through the command."""
    try:
        mod = importlib.import_module("reservoir.benchmark")
    except ModuleNotFoundError as exc:
        if exc.name != "reservoir.benchmark":
            raise
        pytest.skip("reservoir.benchmark is not written yet (the stand-in tests cover it)")
    if not hasattr(mod, "build_parser"):
        pytest.skip("reservoir.benchmark has no build_parser to compare the help with")
    status, out, err = _run(["benchmark", "--help"], capsys)
    assert status == 0, err
    _check_help_names_every_action(mod.build_parser(), out)


# ---------------------------------------------------------------- delegation

@pytest.mark.parametrize("name", sorted(cli.REPRODUCTIONS) + ["training_comparison"])
def test_reproduce_passes_the_arguments_on_unchanged(name, monkeypatch, capsys):
    module = REPRO[name.replace("_", "-")]
    seen = []
    monkeypatch.setattr(module, "main",
                        lambda argv=None: seen.append((list(argv), sys.argv[0])))
    argv0 = sys.argv[0]
    tail = ["--quick", "--out", "a dir/with space", "--", "-v", "", "--threads=2"]
    status, out, err = _run(["-q", "reproduce", name, *tail], capsys)
    assert status == 0, err
    assert seen == [(tail, f"reservoir reproduce {name.replace('_', '-')}")]
    assert sys.argv[0] == argv0                                   # restored


def test_benchmark_passes_the_arguments_on_unchanged(monkeypatch, capsys):
    fake = _fake_benchmark()
    monkeypatch.setitem(sys.modules, "reservoir.benchmark", fake)
    tail = ["--repeats", "3", "--json", "t.json", "--quick"]
    status, _, err = _run(["benchmark", *tail], capsys)
    assert status == 0, err
    assert fake.calls == [tail]


def test_benchmark_missing_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "reservoir.benchmark", None)   # import fails
    status, out, err = _run(["benchmark", "--quick"], capsys)
    assert status == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "reservoir.benchmark" in lines[0] and "scripts/benchmark.py" in lines[0]


def test_an_import_error_inside_the_benchmark_is_not_hidden(monkeypatch, capsys):
    def broken():
        raise ModuleNotFoundError("No module named 'reservoirpy'", name="reservoirpy")
    monkeypatch.setattr(cli, "importlib", types.SimpleNamespace(
        import_module=lambda name: broken() if name == cli.BENCHMARK_MODULE
        else importlib.import_module(name)))
    status, _, err = _run(["benchmark"], capsys)
    assert status == 1 and "reservoirpy" in err and "no benchmark module" not in err


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("argv, named", [
    (["nosuch"], ["argument COMMAND: invalid choice: 'nosuch'", "'reproduce'",
                  "'benchmark'"]),
    ([], ["a COMMAND is required: one of reproduce, benchmark"]),
    (["--bogus", "reproduce", "rb2017"], ["unrecognized arguments: --bogus"]),
    (["-v", "-q", "reproduce", "rb2017"], ["argument -q/--quiet: not allowed with "
                                           "argument -v/--verbose"]),
    (["reproduce", "nosuch"], ["argument NAME: invalid choice: 'nosuch'", "'mo2019'",
                               "'rb2017'", "'jarne'", "'training-comparison'"]),
    (["reproduce"], ["a NAME is required: one of mo2019, rb2017, jarne, "
                     "training-comparison"]),
    (["reproduce", "-v", "rb2017"], ["unrecognized arguments: -v"]),
    (["reproduce", "mo2019", "--bogus"], ["reservoir reproduce mo2019",
                                          "unrecognized arguments: --bogus"]),
    (["reproduce", "rb2017", "--threads", "x"], ["argument --threads: invalid int value"]),
    (["reproduce", "jarne", "--threads", "0"], ["threads must be >= 1"]),
    (["reproduce", "training-comparison", "--dtype", "float16"],
     ["argument --dtype: invalid choice: 'float16'", "'float32'", "'float64'"]),
    (["reproduce", "training-comparison", "--tasks", "nosuch"], ["tasks", "nosuch"]),
    (["reproduce", "training-comparison", "--tasks", "oscillation"],
     ["tasks: 'oscillation' cannot be scored"]),
    (["reproduce", "training-comparison", "--quick", "--tasks", "flip_flop_3bit"],
     ["flip_flop_3bit: dt = 2 ms cannot represent"]),
])
def test_command_line_errors_exit_2_naming_the_argument(argv, named, capsys):
    """Errors of the command line (the command's own and the real modules' parsers; none
    of these starts a run) exit with status 2, the usage, and the argument named."""
    status, out, err = _run(argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("usage: ")
    for text in named:
        assert text in err


def test_argv_must_be_a_list_of_strings():
    with pytest.raises(TypeError, match="argv must be a list of strings"):
        cli.main("reproduce rb2017")
    with pytest.raises(TypeError, match="argv must be a list of strings"):
        cli.main(["reproduce", 3])


def _raising(exc):
    def main(argv=None):
        raise exc
    return main


@pytest.mark.parametrize("flags", [[], ["-v"]])
def test_a_failed_run_exits_1_with_one_line(flags, monkeypatch, capsys):
    monkeypatch.setattr(REPRO["rb2017"], "main",
                        _raising(ValueError("the run failed\n  on two lines")))
    status, out, err = _run([*flags, "reproduce", "rb2017", "--quick"], capsys)
    assert status == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1] == "reservoir: error: ValueError: the run failed on two lines"
    if flags:
        assert lines[0] == "Traceback (most recent call last):"
        assert any("_raising" in line or "raise exc" in line for line in lines)
    else:
        assert len(lines) == 1


@pytest.mark.parametrize("exc, status, message", [
    (KeyboardInterrupt(), 130, "reservoir: interrupted"),
    (SystemExit("stopped: no data"), 1, "stopped: no data"),
    (SystemExit(3), 3, None),
    (SystemExit(None), 0, None),
])
def test_exit_statuses(exc, status, message, monkeypatch, capsys):
    monkeypatch.setattr(REPRO["mo2019"], "main", _raising(exc))
    got, _, err = _run(["reproduce", "mo2019"], capsys)
    assert got == status
    assert err.strip() == (message or "")


# ---------------------------------------------------------------- logging

def _logging_main(argv=None):
    log = logging.getLogger("reservoir.reproduce.jarne")
    log.debug("debug detail")
    log.info("progress line")
    log.warning("a warning")
    log.error("an error")


@pytest.mark.parametrize("flags, shown", [
    ([], ["progress line", "a warning", "an error"]),
    (["-v"], ["debug detail", "progress line", "a warning", "an error"]),
    (["--verbose"], ["debug detail", "progress line", "a warning", "an error"]),
    (["-q"], ["a warning", "an error"]),
    (["-qq"], ["an error"]),
    (["--quiet", "--quiet"], ["an error"]),
])
def test_log_level_is_set_by_the_command(flags, shown, monkeypatch, capsys):
    monkeypatch.setattr(REPRO["jarne"], "main", _logging_main)
    log = logging.getLogger("reservoir")
    before = (list(log.handlers), log.level, log.propagate)
    status, out, err = _run([*flags, "reproduce", "jarne"], capsys)
    assert status == 0 and out == ""                       # logging goes to stderr only
    messages = ["debug detail", "progress line", "a warning", "an error"]
    got = [m for m in messages if m in err]
    assert got == shown
    assert len(err.strip().splitlines()) == len(shown)     # each line once
    assert (list(log.handlers), log.level, log.propagate) == before   # restored


def test_library_modules_never_configure_logging():
    """Only the command configures logging: no other module of the package calls
    ``basicConfig``, adds a handler or sets the level of a logger."""
    calls = {"basicConfig", "addHandler", "setLevel", "dictConfig", "fileConfig"}
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "cli.py" and path.parent == ROOT:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in calls:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} "
                                 f"{node.func.attr}")
    assert not offenders, offenders
