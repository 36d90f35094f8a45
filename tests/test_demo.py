"""``scripts/demo.py``: bad command-line arguments end in an argparse error naming the option,
not a traceback (the full demo runs for minutes and is not run here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_out_that_is_a_file_is_an_argparse_error(tmp_path):
    existing = tmp_path / "a_file"
    existing.write_text("not a folder")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--out",
                          str(existing)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2                       # argparse's exit status for bad usage
    assert "--out" in run.stderr and "usage:" in run.stderr
    assert "Traceback" not in run.stderr
    assert existing.read_text() == "not a folder"   # left alone
