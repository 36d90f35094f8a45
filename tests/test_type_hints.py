"""Every public function carries type hints (issue 17, item 6): each parameter (other than
``*args``/``**kwargs``) and the return value is annotated."""

from __future__ import annotations

import importlib
import inspect

import pytest

#: Public namespaces whose ``__all__`` is checked.
NAMESPACES = ("reservoir", "reservoir.analysis", "reservoir.train", "reservoir.meanfield",
              "reservoir.tasks", "reservoir.plotting", "reservoir.interop")


def missing_annotations(func) -> list[str]:
    """Names of the parameters of ``func`` without an annotation (``*args``/``**kwargs``
    excepted), plus ``"return"`` when the return value has none."""
    sig = inspect.signature(func)
    missing = [name for name, p in sig.parameters.items()
               if p.annotation is inspect.Parameter.empty
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def public_functions():
    """``(qualified name, function)`` for every function in the namespaces' ``__all__``."""
    out = []
    for module_name in NAMESPACES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                out.append((f"{module_name}.{name}", obj))
    return out


FUNCTIONS = public_functions()


def test_the_check_sees_public_functions():
    # guard against a vacuous pass: the namespaces export dozens of functions
    assert len(FUNCTIONS) >= 50
    names = {name for name, _ in FUNCTIONS}
    assert {"reservoir.simulate", "reservoir.train.bptt",
            "reservoir.meanfield.gaussian_average"} <= names


def test_the_check_finds_a_missing_annotation():
    def partly(a: int, b, *args, c=1, **kwargs) -> None:
        pass

    def no_return(a: int):
        pass

    def complete(a: int, *args: int, b: float = 1.0, **kwargs: str) -> int:
        return a

    assert missing_annotations(partly) == ["b", "c"]
    assert missing_annotations(no_return) == ["return"]
    assert missing_annotations(complete) == []


@pytest.mark.parametrize("qualname, func", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_public_function_is_annotated(qualname, func):
    missing = missing_annotations(func)
    assert not missing, (f"{qualname} lacks type hints on: "
                         + ", ".join(("the return value" if m == "return"
                                      else f"parameter {m!r}") for m in missing))
