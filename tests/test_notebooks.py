"""The tutorials: four notebooks, stored executed (their figures show on the repository page),
each runs top to bottom.

Default tests read the stored JSON only (cheap): every code cell was executed, in order, in
one fresh kernel, has its outputs, and none is an error; the stored images stay small. The
slow tests execute every notebook again: with nbclient in a Jupyter kernel when nbclient is
installed (the ``dev`` extra), else code cell by code cell in one namespace.
"""

import ast
import base64
import configparser
import json
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

#: Budget for the stored notebooks (bytes): figures in the repository, not bloat.
MAX_TOTAL_BYTES = 1_500_000
MAX_IMAGE_BYTES = 200_000


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_four_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_stability_geometry.ipynb",
                                           "03_bptt_vs_readout.ipynb",
                                           "04_flip_flop_fixed_points.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_executed_without_errors(path):
    cells = _code_cells(path)
    assert cells
    # executed top to bottom in one fresh kernel: execution counts 1, 2, ..., n
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    for i, cell in enumerate(cells):
        outputs = cell["outputs"]
        assert outputs, f"code cell {i} of {path.name} has no stored output"
        for out in outputs:
            assert out["output_type"] != "error", (
                f"code cell {i} of {path.name} stored an error: {out.get('ename')}: "
                f"{out.get('evalue')}")
            if out["output_type"] == "stream" and out["name"] == "stderr":
                assert "Traceback" not in "".join(out["text"]), (i, path.name)
    # at least one figure per notebook, the figures show on the repository page
    images = [o["data"]["image/png"] for c in cells for o in c["outputs"]
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} stores no figure"
    for img in images:
        assert len(base64.b64decode("".join(img))) <= MAX_IMAGE_BYTES


def test_stored_notebooks_stay_small():
    assert sum(p.stat().st_size for p in NOTEBOOKS) <= MAX_TOTAL_BYTES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_asserts_the_numbers_its_text_quotes(path):
    """The slow execution fails when the text goes stale: the numbers the markdown quotes are
    asserted by the code cells (with tolerances), so each notebook holds assert statements."""
    asserts = sum(isinstance(node, ast.Assert)
                  for c in _code_cells(path)
                  for node in ast.walk(ast.parse("".join(c["source"]))))
    assert asserts >= 1, f"{path.name} asserts none of the numbers its text quotes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_has_no_warnings(path):
    """Warnings printed by a cell (e.g. matplotlib ignoring fixed limits) show on the
    repository page as noise, and usually mean the figure is not what the text says."""
    for i, cell in enumerate(_code_cells(path)):
        for out in cell["outputs"]:
            if out["output_type"] == "stream" and out["name"] == "stderr":
                text = "".join(out["text"])
                assert not re.search(r"warn|ignoring", text, re.I), (path.name, i, text)


def test_readme_lists_every_notebook_and_the_nbclient_it_needs():
    root = NOTEBOOKS[0].parents[1]
    readme = (root / "notebooks" / "README.md").read_text()
    for p in NOTEBOOKS:
        assert f"`{p.name}`" in readme
    # `jupyter execute --inplace` (the README's command) arrived in nbclient 0.10
    assert "jupyter execute --inplace" in readme
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    pins = re.findall(r"^\s*nbclient\s*>=\s*([\d.]+)", cfg["options.extras_require"]["dev"],
                      flags=re.M)
    assert pins and tuple(int(v) for v in pins[0].split(".")[:2]) >= (0, 10)


def _run_with_nbclient(path, workdir):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"]


def _run_with_exec(path):
    namespace = {"__name__": "__main__"}
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            code = "".join(cell["source"])
            exec(compile(code, f"{path.name}[cell {i}]", "exec"), namespace)
    plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError:
        _run_with_exec(path)
    else:
        _run_with_nbclient(path, tmp_path)
