"""What the project states its dynamic imports load (`[[tool.scopeguard.dynamic_imports]]`), put
into the facts before the graph is built (issue 26.3).

A declaration names a site by its file, its enclosing function and its call text (as scopeguard
shows it), never by line, so it survives edits around it. A matched site stops being unknown: its
unresolved entries (every copy: an import-time copy too) are replaced by one dynamic import site
per declared module, with the site's guards, so that every rule and the deletion simulation treat
them as the imports they are. `pkg.b.*` stands for every module of the tree under `pkg.b`.
A declaration that matches no site is stale (SG006).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ..base.model import Config, DynamicImportDeclaration, FileFacts, ImportSite, SiteKind
from ..base.paths import module_prefixes
from .unknowns import enclosing_function


@dataclasses.dataclass(frozen=True, slots=True)
class Stale:
    declaration: DynamicImportDeclaration
    why: str


def normalised(text: str) -> str:
    """A call's text with its whitespace and quote style left out of the comparison."""
    return "".join(text.split()).replace("'", '"')


def apply(config: Config, files: Iterable[FileFacts]) -> tuple[list[FileFacts], tuple[Stale, ...]]:
    files = list(files)
    declared = config.dynamic_imports
    if not declared:
        return files, ()
    modules = frozenset(p for f in files if not f.extra for p in module_prefixes(f.module))
    by_path = {f.path: i for i, f in enumerate(files)}
    stale = []
    for declaration in declared:
        index = by_path.get(declaration.path)
        if index is None:
            stale.append(Stale(declaration, f"{declaration.path} is not a Python file of the project"))
            continue
        facts = files[index]
        replaced = _replace(facts, declaration, modules)
        if replaced is None:
            where = f"{declaration.function}()" if declaration.function else "module level"
            stale.append(Stale(declaration, f"no dynamic import of unknown target `{declaration.call}` at {where} "
                                            f"in {declaration.path}"))
            continue
        files[index] = replaced
    return files, tuple(stale)


def _replace(facts: FileFacts, declaration: DynamicImportDeclaration, modules: frozenset[str]) -> FileFacts | None:
    want = normalised(declaration.call)
    groups: dict[tuple[int, int], list] = {}
    for item in facts.unresolved:
        groups.setdefault((item.line, item.column), []).append(item)
    by_line = {fn.line: fn for fn in facts.functions}
    matched = {
        at for at, items in groups.items()
        if normalised(items[0].text) == want and enclosing_function(facts, items, by_line) == declaration.function
    }
    if not matched:
        return None
    targets = _targets(declaration.loads, modules)
    sites = list(facts.sites)
    for at in sorted(matched):
        for item in groups[at]:
            for target in targets:
                sites.append(ImportSite(target, None, item.line, item.column, SiteKind.DYNAMIC, item.guards))
    sites.sort(key=lambda s: (s.line, s.column))
    return dataclasses.replace(
        facts,
        sites=tuple(sites),
        unresolved=tuple(u for u in facts.unresolved if (u.line, u.column) not in matched),
        dynamic=tuple(d for d in facts.dynamic if (d.line, d.column) not in matched),
    )


def _targets(loads: Iterable[str], modules: frozenset[str]) -> list[str]:
    out: list[str] = []
    for load in loads:
        if load.endswith(".*"):
            base = load[:-2]
            out += sorted(m for m in modules if m.startswith(base + "."))
        else:
            out.append(load)
    return list(dict.fromkeys(out))
