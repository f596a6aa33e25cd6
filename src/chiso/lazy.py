"""Modules imported when first used (import paresseux): ``chiso --help`` and every command start without paying
for DuckDB, pyarrow, the loader and the catalogue they do not use (issue 13 §5: `chiso --help` took 0.48 s).

``module = lazy_module("chiso.api")`` returns the module object at once and runs its code on the first attribute
read (:class:`importlib.util.LazyLoader`); an import elsewhere of the same name gets the same object. Type checkers
see the plain import: write ``if TYPE_CHECKING: from chiso import api`` beside it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

_LAZY: list[str] = []


def lazy_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    _LAZY.append(name)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"No module named '{name}'", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        # as an import does: `from chiso import api` then finds the attribute and reads nothing of the module
        # (reading any attribute, even __spec__, would run it)
        setattr(sys.modules[parent], child, module)
    return module


def load_all() -> None:
    """Run every module made lazy so far: before threads start (the web service), since a lazy module first read
    by two threads at once could run twice on Python 3.11."""
    for name in list(_LAZY):
        module = sys.modules.get(name)
        if module is not None:
            getattr(module, "__name__", None)  # any read runs it
