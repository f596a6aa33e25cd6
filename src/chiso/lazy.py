"""Modules imported when first used (import paresseux): ``chiso --help`` and every command start without paying
for DuckDB, pyarrow, the loader and the catalogue they do not use (issue 13 §5: `chiso --help` took 0.48 s).

``module = lazy_module("chiso.api")`` returns at once a stand-in (:class:`_LazyModule`) registered under the
module's name; the first attribute read imports the real module with the ordinary import machinery, and every read
after that is the real module's. An import elsewhere of the same name before that first read gets the stand-in,
after it the real module. Type checkers see the plain import: write ``if TYPE_CHECKING: from chiso import api``
beside it.

Why not :class:`importlib.util.LazyLoader`: it runs the module's code in the module object it handed out, and an
exception in the middle — a Ctrl-C while DuckDB or the loader was being imported — left that object half-run in
``sys.modules``. The next read of it failed with a NameError or an AttributeError (the error report itself read
``duckdb.InterruptException``), which reached the user as "unexpected error" instead of "stopped, rolled back".
Here an import that fails leaves nothing half-run: the ordinary machinery drops the failed module, the stand-in
goes back in its place, and the next read imports it again.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_LAZY: list[str] = []
_LOCK = threading.RLock()


class _LazyModule(ModuleType):
    """The stand-in: no attributes of its own but its name, every other read is the real module's."""

    def __getattr__(self, attr: str) -> Any:  # only for names the stand-in lacks: all but its own few
        return getattr(_real(self.__name__), attr)


def _real(name: str) -> ModuleType:
    module = sys.modules.get(name)
    if module is not None and not isinstance(module, _LazyModule):
        return module
    with _LOCK:
        module = sys.modules.get(name)
        if module is not None and not isinstance(module, _LazyModule):
            return module
        stand_in = sys.modules.pop(name, None)
        try:
            return importlib.import_module(name)
        except BaseException:
            if stand_in is not None:  # the failed module is gone: the next read tries again
                sys.modules.setdefault(name, stand_in)
            raise


def lazy_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    if importlib.util.find_spec(name) is None:
        raise ImportError(f"No module named '{name}'", name=name)
    _LAZY.append(name)
    module = _LazyModule(name)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        # as an import does: `from chiso import api` then finds the attribute (the stand-in until it is read)
        setattr(sys.modules[parent], child, module)
    return module


def loaded(name: str) -> bool:
    """Whether the module named has been imported (not only made lazy)."""
    module = sys.modules.get(name)
    return module is not None and not isinstance(module, _LazyModule)


def load_all() -> None:
    """Import every module made lazy so far: before threads start (the web service, the report workers)."""
    for name in list(_LAZY):
        _real(name)
