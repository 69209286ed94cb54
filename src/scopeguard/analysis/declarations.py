"""What the project states its dynamic imports load (`[[tool.scopeguard.dynamic_imports]]`), put
into the facts before the graph is built (issue 26.3).

A declaration names a site by its file, its enclosing function and its call text (as scopeguard
shows it), never by line, so it survives edits around it. A matched site stops being unknown: its
unresolved entries (every copy: an import-time copy too) are replaced by one dynamic import site
per declared module, with the site's guards, so that every rule and the deletion simulation treat
them as the imports they are. `pkg.b.*` stands for every module of the tree under `pkg.b`; a
module outside the tree (third-party, or a file the tree leaves out) is declared but not followed.
An import an import hook may serve (a module under a project package that is not in the tree,
shown as `import pkg.x`) is declared the same way, with that text as `call`.
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
    targets = _targets(declaration.loads, modules)
    if not matched:
        return _replace_hooked(facts, declaration, modules, targets, by_line)
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


def _replace_hooked(facts: FileFacts, declaration: DynamicImportDeclaration, modules: frozenset[str],
                    targets: list[str], by_line) -> FileFacts | None:
    """An import of a module that is not in the tree, which an import hook the project installs
    may serve (shown as `import tvm.script.tirx`): the declaration says which modules serve it.
    The site is replaced by imports of those, with its guards."""
    want = normalised(declaration.call).removeprefix("import")
    hit = [s for s in facts.sites
           if s.target not in modules and normalised(s.target) == want
           and enclosing_function(facts, [s], by_line) == declaration.function]
    if not hit:
        return None
    sites = [s for s in facts.sites if s not in hit]
    for site in hit:
        for target in targets:
            sites.append(dataclasses.replace(site, target=target, name=None))
    sites.sort(key=lambda s: (s.line, s.column))
    return dataclasses.replace(facts, sites=tuple(sites))


def _targets(loads: Iterable[str], modules: frozenset[str]) -> list[str]:
    out: list[str] = []
    for load in loads:
        if load.endswith(".*"):
            base = load[:-2]
            out += sorted(m for m in modules if m.startswith(base + "."))
        elif load in modules:
            out.append(load)  # a module outside the tree (third-party) has nothing to follow
    return list(dict.fromkeys(out))
