"""The documentation (issue 17, item 1): the getting-started page runs as a doctest, and the
API reference lists every public name of ``reservoir`` and of its subpackages.

The Sphinx build itself (warnings are errors) runs in ``.ci/run`` after the tests.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pathlib
import re

import pytest

import reservoir

DOCS = pathlib.Path(reservoir.__file__).parent.parent / "docs"

#: Namespaces whose public names the API reference must list, and the page of each.
API_PAGES = {"reservoir": "reservoir", "reservoir.analysis": "analysis",
             "reservoir.train": "train", "reservoir.meanfield": "meanfield",
             "reservoir.tasks": "tasks", "reservoir.plotting": "plotting",
             "reservoir.errors": "errors", "reservoir.interop": "interop"}

#: Entries of ``reservoir.__all__`` that are not functions or classes (documented as
#: subpackages or in the text of the page).
NOT_OBJECTS = {"__version__", "tasks", "plotting", "meanfield"}


def _public(ns: str) -> list[str]:
    """The public names of a namespace: its ``__all__``, else (``tasks``, ``errors``) its
    functions and classes defined there (the rule of ``tests/test_structure.py``)."""
    mod = importlib.import_module(ns)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, v in vars(mod).items() if not n.startswith("_")
                 and (inspect.isfunction(v) or inspect.isclass(v))
                 and getattr(v, "__module__", "") == ns]
    return [n for n in names if n not in NOT_OBJECTS]


def _documented(page: str) -> set[str]:
    """Names in the page's autosummary/autofunction entries and in its ``:obj:`` links."""
    path = DOCS / "api" / f"{page}.rst"
    if not path.exists():
        return set()
    text = path.read_text(encoding="utf-8")
    listed = set(re.findall(r"^   ([A-Za-z_][\w.]*)\s*$", text, flags=re.M))
    listed |= set(re.findall(r"^\.\. auto(?:function|class|data):: ([\w.]+)", text, flags=re.M))
    listed |= set(re.findall(r":obj:`[^`<]*<([\w.]+)>`", text))
    return {name.rsplit(".", 1)[-1] for name in listed}


def test_getting_started_runs_as_a_doctest():
    """Every example of the getting-started page gives the output printed there."""
    result = doctest.testfile(str(DOCS / "getting_started.rst"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                              verbose=False, report=True)
    assert result.attempted >= 20, result
    assert result.failed == 0, result


@pytest.mark.parametrize("ns", sorted(API_PAGES))
def test_api_reference_lists_every_public_name(ns):
    """Each name of ``__all__`` is in the API page of its namespace, or (a name that
    ``reservoir`` also exports) linked from it to its entry under ``reservoir``."""
    names = _public(ns)
    documented = _documented(API_PAGES[ns])
    missing = [n for n in names if n not in documented]
    assert not missing, (f"public names of {ns} missing from docs/api/{API_PAGES[ns]}.rst: "
                         f"{missing} (add them to its autosummary list)")
    if ns != "reservoir":
        top = set(_public("reservoir"))
        for n in names:
            if n in top:
                continue
            assert re.search(rf"^   {re.escape(n)}\s*$", (DOCS / "api" /
                             f"{API_PAGES[ns]}.rst").read_text(encoding="utf-8"),
                             flags=re.M), f"{ns}.{n} is only linked, not documented"


def test_api_pages_are_in_the_toctree():
    """Every API page is reachable from the API index."""
    index = (DOCS / "api" / "index.rst").read_text(encoding="utf-8")
    for page in set(API_PAGES.values()) | {"reproduce"}:
        assert re.search(rf"^   {page}\s*$", index, flags=re.M), page


def _code_blocks(page: str) -> list[str]:
    """The ```python blocks of a Markdown page of the docs."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def test_cluster_page_local_cluster_recipe_runs_and_matches_a_serial_sweep():
    """The LocalCluster block of docs/cluster.md, executed as written: its workers see one
    thread per library, and its sweep equals the serial sweep of the same function bit for
    bit (the serial run is the independent computation)."""
    pytest.importorskip("distributed")
    blocks = [b for b in _code_blocks("cluster.md") if "LocalCluster(" in b]
    assert len(blocks) == 1
    namespace = {"__name__": "__main__"}
    exec(compile(blocks[0], str(DOCS / "cluster.md"), "exec"), namespace)
    seen, res = namespace["seen"], namespace["res"]
    assert len(seen) == 2
    for env in seen.values():
        assert env == {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "OPENBLAS_NUM_THREADS": "1"}
    serial = reservoir.sweep(namespace["ridge_error"], {"g": [0.8, 1.2]}, n_realizations=3,
                             rng=1)
    assert res.values.shape == (2, 3)
    assert res.dims == serial.dims
    assert (res.values == serial.values).all()


def test_cluster_page_slurm_block_is_marked_as_not_executed():
    """The SLURM block needs dask-jobqueue (not installed): the page must say it is not run."""
    text = (DOCS / "cluster.md").read_text(encoding="utf-8")
    assert "SLURMCluster(" in text and "**not executed**" in text
