"""Modules imported when first used, not when first imported."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is asked for;
    then imports the real module (which takes its place there) and answers from it.

    ``importlib.util.LazyLoader`` cannot do this on Python 3.11: an ``import`` of a module
    already in ``sys.modules`` reads its ``__spec__``, which loads it."""

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        return getattr(real, attr)


def lazy_module(name: str) -> None:
    """Make ``import name`` give a stand-in that imports the module on its first attribute
    access. Nothing happens when the module is already imported or is not installed (an
    import of it then fails where it always did)."""
    if name in sys.modules or importlib.util.find_spec(name) is None:
        return
    sys.modules[name] = _Deferred(name)


class Attributes:
    """The attributes of the module ``name``, which is imported on the first one asked
    for: ``errors = Attributes("docker.errors")``, then ``errors.APIError``. Unlike
    ``lazy_module`` it stands in only where it is assigned, not in ``sys.modules``, so
    ``import name`` (or a submodule of it) elsewhere is unaffected."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
