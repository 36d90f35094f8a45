"""The package's layout and vocabulary (issue 11): no function shadows its module, the theory
imports no network code, every public name is in the glossary with one meaning."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pathlib
import pkgutil
import pydoc
import re

import pytest

import reservoir

ROOT = pathlib.Path(reservoir.__file__).parent
GLOSSARY = ROOT.parent / "docs" / "glossary.md"

#: Public namespaces: each name in their ``__all__`` is public API.
NAMESPACES = ("reservoir", "reservoir.analysis", "reservoir.meanfield", "reservoir.train",
              "reservoir.tasks", "reservoir.plotting")


#: Modules kept one release under their old names; importing one warns.
DEPRECATED_MODULES = {"reservoir.meanfield.mo2019": "reservoir.meanfield.static",
                      "reservoir.meanfield.rb2017": "reservoir.meanfield.output_dynamics",
                      "reservoir.analysis.stability": "reservoir.analysis.linearisation"}


def all_modules():
    """Every importable module of the package (private ones included), the deprecated
    ones left out."""
    names = ["reservoir"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="reservoir."):
        if info.name not in DEPRECATED_MODULES:
            names.append(info.name)
    return names


def public_objects():
    """``{qualified name: object}`` of the public functions and classes."""
    out = {}
    for ns in NAMESPACES:
        mod = importlib.import_module(ns)
        names = getattr(mod, "__all__", None)
        if names is None:
            names = [n for n, v in vars(mod).items() if not n.startswith("_")
                     and (inspect.isfunction(v) or inspect.isclass(v))
                     and getattr(v, "__module__", "") == mod.__name__]
        for n in names:
            obj = getattr(mod, n)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                out[f"{ns}.{n}"] = obj
    return out


def public_names():
    """``{name: [where, ...]}`` for every parameter of a public callable and every field and
    public property of a public dataclass."""
    names: dict = {}

    def add(name, where):
        if name.startswith("_") or name in ("self", "cls"):
            return
        names.setdefault(name, []).append(where)

    def params(func):
        return [p.name for p in inspect.signature(func).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    for qual, obj in public_objects().items():
        if inspect.isclass(obj):
            if dataclasses.is_dataclass(obj):
                for f in dataclasses.fields(obj):
                    add(f.name, qual)
            for attr, value in vars(obj).items():
                if isinstance(value, property) and not attr.startswith("_") and \
                        not (value.__doc__ or "").startswith("Deprecated alias"):
                    add(attr, qual)
            for attr, value in vars(obj).items():
                if (inspect.isfunction(value) or isinstance(value, classmethod)) and \
                        not attr.startswith("_"):
                    func = value.__func__ if isinstance(value, classmethod) else value
                    for p in params(func):
                        add(p, f"{qual}.{attr}")
            if not dataclasses.is_dataclass(obj):
                for p in params(obj):
                    add(p, qual)
        else:
            for p in params(obj):
                add(p, qual)
    return names


def glossary_rows():
    """``{name: row text}`` from the glossary's tables; a name may appear in one row only."""
    rows: dict = {}
    duplicates = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|") or set(line) <= set("|- :"):
            continue
        first = line.split("|")[1]
        for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", first):
            if name in rows:
                duplicates.append(name)
            rows[name] = line
    return rows, duplicates


def test_no_function_shadows_its_module():
    """``pydoc.locate`` of every module name finds the module, not a function of that name."""
    shadowed = []
    for name in all_modules():
        mod = importlib.import_module(name)
        located = pydoc.locate(name)
        if located is not mod:
            shadowed.append((name, type(located).__name__))
    assert not shadowed, f"names that shadow their module: {shadowed}"


def test_every_module_documents_itself():
    """pydoc renders every module (what ``python -m pydoc`` shows) with its docstring."""
    for name in all_modules():
        mod = importlib.import_module(name)
        assert mod.__doc__ and mod.__doc__.strip(), f"{name} has no module docstring"
        assert name in pydoc.render_doc(mod, renderer=pydoc.plaintext)


LAYERS_BELOW_THEORY = {"network", "_simulate", "simulate", "train", "analysis", "theory_check",
                       "compare", "_sweep", "sweep", "io", "plotting", "tasks"}


def test_meanfield_imports_no_network_code():
    """No module of the theory package imports network, simulation, training or analysis
    code (the lazy deprecated aliases go through ``_deprecation.resolve_alias``, by name)."""
    bad = []
    for path in sorted((ROOT / "meanfield").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                parts = (node.module or "").split(".")
                if node.level == 2 and parts[0] in LAYERS_BELOW_THEORY:
                    bad.append((path.name, node.module))
                if node.level == 0 and parts[0] == "reservoir" and len(parts) > 1 and \
                        parts[1] in LAYERS_BELOW_THEORY:
                    bad.append((path.name, node.module))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "reservoir":
                        bad.append((path.name, alias.name))
    assert not bad, f"theory modules importing layers above them: {bad}"


def test_meanfield_modules_cite_their_paper_first():
    """Line 1 of every public theory module cites its paper (author and year)."""
    for path in sorted((ROOT / "meanfield").glob("*.py")):
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        first = path.read_text(encoding="utf-8").lstrip("r").lstrip('"').splitlines()[0]
        assert re.search(r"(19|20)\d\d", first) or path.name == "__init__.py", \
            f"{path.name}: line 1 cites no paper: {first!r}"


def test_every_public_name_is_in_the_glossary_once():
    """Every parameter and result field of the public API has one glossary row (one meaning)."""
    rows, duplicates = glossary_rows()
    assert not duplicates, f"names with more than one glossary row: {sorted(set(duplicates))}"
    missing = {n: w[:2] for n, w in public_names().items() if n not in rows}
    assert not missing, f"public names missing from docs/glossary.md: {missing}"


def test_no_docstring_cites_unshipped_specs():
    """Docstrings cite papers, not the development notes (``specs/...``, "spec 5.3")."""
    hits = []
    for path in sorted(ROOT.rglob("*.py")):
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bspecs?\b[ /]*(\w+\.md|section|\d|[A-Z]\d|§)", line):
                hits.append(f"{path.relative_to(ROOT)}:{k}: {line.strip()}")
    assert not hits, "citations of unshipped documents:\n" + "\n".join(hits[:40])


#: numpydoc checks every public docstring must pass: a docstring with a summary, every
#: parameter documented (and no unknown one), with a description, and a Returns section.
NUMPYDOC_CHECKS = ("GL08", "SS01", "PR01", "PR02", "PR07", "RT01", "RT03")


def test_public_docstrings_pass_numpydoc_validation():
    validate = pytest.importorskip("numpydoc.validate").validate
    from numpydoc.docscrape import ClassDoc
    failures = []
    for qual, obj in public_objects().items():
        target = f"{obj.__module__}.{obj.__qualname__}"
        errors = [e for e in validate(target)["errors"] if e[0] in NUMPYDOC_CHECKS]
        if inspect.isclass(obj):
            errors = [e for e in errors if e[0] not in ("RT01", "RT03")]
        if dataclasses.is_dataclass(obj):
            # a dataclass documents its fields under Attributes (or Parameters)
            errors = [e for e in errors if e[0] not in ("PR01", "PR02", "PR07")]
            doc = ClassDoc(obj)
            documented = {n.strip() for item in doc["Attributes"] + doc["Parameters"]
                          for n in item.name.split(",")}
            undocumented = [f.name for f in dataclasses.fields(obj)
                            if f.name not in documented and not f.name.startswith("_")]
            if undocumented:
                errors.append(("fields", f"not under Attributes: {undocumented}"))
        if errors:
            failures.append(f"{qual}: {errors}")
    assert not failures, f"{len(failures)} public objects fail numpydoc:\n" + \
        "\n".join(failures[:60])


#: Public dataclasses that are not results: the model, its parameters, a table entry.
NOT_RESULTS = {"Network", "MeanFieldParams", "Nonlinearity"}


def test_every_result_class_follows_the_contract():
    """Each public result dataclass reports success and messages (never defaulting to True)
    or says it is a plain container, and prints through the shared short summary."""
    from reservoir._results import ResultMixin
    seen = set()
    for qual, obj in public_objects().items():
        if not (inspect.isclass(obj) and dataclasses.is_dataclass(obj)) or obj in seen:
            continue
        seen.add(obj)
        if obj.__name__ in NOT_RESULTS:
            continue
        fields = {f.name: f for f in dataclasses.fields(obj)}
        plain = "Plain container" in (obj.__doc__ or "")
        assert plain or {"success", "messages"} <= set(fields), \
            f"{qual} has no success/messages and does not say it is a plain container"
        if "success" in fields:
            assert fields["success"].default is not True, f"{qual}.success defaults to True"
        assert issubclass(obj, ResultMixin), f"{qual} does not use the shared short repr"
        assert obj.__repr__ is ResultMixin.__repr__, f"{qual} overrides the short repr"


@pytest.mark.parametrize("old, new", sorted(DEPRECATED_MODULES.items()))
def test_deprecated_modules_forward_with_a_warning(old, new):
    import sys
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"module {old} is deprecated.*{new}"):
        mod = importlib.import_module(old)
    successor = importlib.import_module(new)
    public = [n for n, v in vars(successor).items()
              if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
              and v.__module__ == new]
    assert public
    for name in public:
        assert getattr(mod, name) is getattr(successor, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        mod.no_such_name


def test_deprecated_modules_forward_moved_names():
    import sys
    for old in ("reservoir.meanfield.mo2019", "reservoir.meanfield.rb2017"):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning):
            importlib.import_module(old)
    from reservoir.meanfield import mo2019, rb2017
    with pytest.warns(DeprecationWarning, match="exact_overlap_network"):
        assert mo2019.network_with_exact_overlaps is reservoir.exact_overlap_network
    with pytest.warns(DeprecationWarning, match="network_pole"):
        assert rb2017.network_outlier is reservoir.analysis.network_pole
    with pytest.warns(DeprecationWarning, match="reservoir.train.train_fixed_point_network"):
        assert rb2017.train_fixed_point_network is reservoir.train.train_fixed_point_network
