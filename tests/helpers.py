"""Small helpers shared by the tests."""

import pytest


def assert_rejects(func, base: dict, override: dict, exc, word: str):
    """Call ``func(**{**base, **override})`` and expect ``exc`` with ``word`` in the message
    (the name of the offending argument)."""
    kwargs = dict(base)
    kwargs.update(override)
    with pytest.raises(exc, match=word):
        func(**kwargs)
