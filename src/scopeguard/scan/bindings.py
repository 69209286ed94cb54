"""Import bindings: which local name an import statement binds to which module or object.

The one place import aliases are tracked: the name collector follows them to name monkeypatched
modules, the guard walk asks which names are importlib's import_module/find_spec.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable


def resolve_relative(module: str, is_package: bool, level: int, written: str) -> str | None:
    """The absolute module of `from <level dots><written> import ...` inside `module`.

    Inside `pkg/__init__.py` (module `pkg`) one dot means `pkg` itself, elsewhere the parent.
    None when the dots climb above the top-level package.
    """
    if level == 0:
        return written
    parts = module.split(".") if module else []
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base) - 1 or not base:
        return None
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([written] if written else []))


# Calls that import (or probe for) a module by name; local names bound to them are found below.
IMPORT_MODULE = "importlib.import_module"
FIND_SPEC = "importlib.util.find_spec"
DYNAMIC_IMPORT_NAMES = frozenset({"import_module", "__import__", "find_spec"})


class ImportBindings:
    """Every (local name, absolute dotted target) an import statement binds, in source order.

    `import a.b` binds `a` to `a`; `import a.b as c` binds `c` to `a.b`; `from a import b as c`
    binds `c` to `a.b` (relative imports resolved; star imports bind nothing known).
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.pairs = list(pairs)
        self._last = dict(self.pairs)

    @classmethod
    def of(cls, statements: Iterable[ast.stmt], module: str, is_package: bool) -> ImportBindings:
        pairs = []
        for stmt in statements:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        pairs.append((alias.asname, alias.name))
                    else:
                        head = alias.name.split(".", 1)[0]
                        pairs.append((head, head))
            elif isinstance(stmt, ast.ImportFrom):
                base = resolve_relative(module, is_package, stmt.level, stmt.module or "")
                if base is None:
                    continue
                for alias in stmt.names:
                    if alias.name != "*":
                        pairs.append((alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name))
        return cls(pairs)

    def target(self, name: str) -> str | None:
        """What `name` was last bound to by an import."""
        return self._last.get(name)

    def names_for(self, target: str) -> frozenset[str]:
        """Every local name any import binds to `target`."""
        return frozenset(local for local, bound in self.pairs if bound == target)

    def absolute(self, dotted: str | None) -> str | None:
        """`dotted` with its first name replaced by what an import bound it to; None if not imported."""
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self._last.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def dynamic_callees(self) -> frozenset[str]:
        """Call names worth a look as dynamic imports: import_module/__import__/find_spec and the
        local names bound to them (`from importlib import import_module as load`)."""
        return DYNAMIC_IMPORT_NAMES | self.names_for(IMPORT_MODULE) | self.names_for(FIND_SPEC)
