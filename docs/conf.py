"""Sphinx configuration of the reservoir documentation.

Build (from the repository root; warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The notebooks in ``notebooks/`` are shown as stored (with their outputs), never executed
here: they are copied into ``docs/_notebooks`` (git-ignored) at the start of each build.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))          # the checkout's package, even if not installed

import reservoir  # noqa: E402

project = "reservoir"
author = "The reservoir developers"
copyright = "2026, the reservoir developers (MIT licence)"
version = release = reservoir.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path: list[str] = []

# --- the stored notebooks: rendered with their outputs, never executed -----------------
nb_execution_mode = "off"
nb_merge_streams = True
_NB_DIR = HERE / "_notebooks"
if _NB_DIR.exists():
    shutil.rmtree(_NB_DIR)
_NB_DIR.mkdir()
for _nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
    shutil.copy2(_nb, _NB_DIR / _nb.name)

# --- MyST (Markdown pages, the glossary, the included README/BENCHMARKS/CHANGELOG) ----------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"            # the numpydoc sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False   # dataclass fields are listed in the class docstring
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping: dict = {}        # CI has no network: no external inventories

html_theme = "alabaster"
html_title = f"reservoir {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
