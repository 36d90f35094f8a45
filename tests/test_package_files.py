"""The licence and citation files agree with the package's metadata."""

import configparser
import re
from pathlib import Path

import reservoir

ROOT = Path(__file__).resolve().parents[1]


def _metadata():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg["metadata"]


def test_license_file_is_the_license_the_metadata_names():
    meta = _metadata()
    assert meta["license"] == "MIT"
    assert meta["license_files"].strip() == "LICENSE"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "WITHOUT WARRANTY OF ANY KIND" in text


def test_citation_file_names_this_version_and_licence():
    text = (ROOT / "CITATION.cff").read_text()
    fields = dict(re.findall(r'^([a-z-]+): "?([^"\n]*)"?$', text, flags=re.M))
    assert fields["cff-version"] == "1.2.0"
    assert fields["version"] == reservoir.__version__
    assert fields["license"] == _metadata()["license"]
    assert fields["title"].startswith("reservoir")
