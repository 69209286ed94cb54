"""Who owns a registry name (`get_global_func("relax.x")`, `init_ffi_api("relax")`): the scope with
the longest matching prefix among its dotted name and its `ffi_prefixes`. SG102/SG207 and the
graph's coupling edges decide owners here, so that a finding marks its edge.

By-name tables: `table_entries` finds the entries of module-level tables (`OrderedDict([("bert",
"BertConfig"), ...])`) that name a deleted package by its short name where they feed an import of
`prefix + name`; the deletion plan lists them as edits and the patch removes whole entry lines.
(Lazy modules' tables, which serve names, are read with the import graph: reachability.lazy_tables.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..base.model import Config, FileFacts, NameReference, ReferenceKind, Scope


def registry_name(reference: NameReference) -> str:
    """The name a reference stands for; an INIT_API namespace stands for every name under it."""
    return reference.text + "." if reference.kind is ReferenceKind.INIT_API else reference.text


def name_owner(config: Config, name: str) -> tuple[Scope, str] | None:
    """The scope owning a registry name, with the prefix that decided it (the longest match)."""
    best: tuple[Scope, str] | None = None
    for scope in config.scopes:
        for prefix in scope.owned_prefixes:
            if name.startswith(prefix) and (best is None or len(prefix) > len(best[1])):
                best = (scope, prefix)
    return best


def may_own(scope: Scope, reference: NameReference) -> bool:
    """Whether a name known only by its start (f"relax.{x}") can lie under the scope's prefixes."""
    name = registry_name(reference)
    return any(prefix.startswith(name) or name.startswith(prefix) for prefix in scope.owned_prefixes)


# --- by-name tables (issue 26): entries naming a package by its short name -------------------


@dataclass(frozen=True, slots=True)
class TableEntry:
    """An entry of a module-level by-name table (FileFacts.name_tables) whose key or value is a
    deleted package's short name, in a table that feeds an import of `prefix + name`: the deletion
    leaves it naming a module that is gone (`("bert", "BertConfig")` beside
    `import_module(f".{name}", "pkg.models")`)."""

    path: str
    line: int  # first line of the entry
    last: int  # its last line
    table: str
    key: str
    value: str
    whole: bool  # the entry alone on its lines, with its comma: removing the lines removes it
    loader: str  # "path:line" of the import it feeds

    @property
    def text(self) -> str:
        shown = ", ".join(repr(part) for part in (self.key, self.value) if part)
        return f"{self.table}: ({shown})"


def table_entries(files: Iterable[FileFacts], links: Iterable[tuple[str, str]], name: str,
                  skip: set[str]) -> list[TableEntry]:
    """Entries naming package `name` by its last component in the by-name tables of files tied to
    a dynamic import whose known start plus that component is `name` (the file holding it, or one
    importing it or imported by it: `links` are (importer, imported) graph nodes). Files in `skip`
    (the deleted ones) are left out."""
    short = name.rpartition(".")[2]
    start = name[: len(name) - len(short)]
    if not start:
        return []
    files = [f for f in files if f.node not in skip]
    loaders: dict[str, str] = {}
    for facts in files:
        for item in facts.unresolved:
            if item.prefix == start and facts.node not in loaders:
                loaders[facts.node] = f"{facts.path}:{item.line}"
    if not loaders:
        return []
    tied = dict(loaders)
    for importer, imported in links:
        if importer in loaders and imported not in tied:
            tied[imported] = loaders[importer]
        if imported in loaders and importer not in tied:
            tied[importer] = loaders[imported]
    found = []
    for facts in files:
        loader = tied.get(facts.node)
        if loader is None:
            continue
        for table in facts.name_tables:
            for key, value, first, last, whole in table.entries:
                if short in (key, value):
                    found.append(TableEntry(facts.path, first, last, table.name, key, value, whole, loader))
    return found
