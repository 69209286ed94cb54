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


# --- names a scope attaches elsewhere (issue 26, item 5) --------------------------------------
# A scope that, when it loads, sets an attribute on a module outside it (`tvm.ir.x = f`, SG103's
# facts) or hands a name to a function that writes it into a module namespace (`register(name,
# ns)` doing `globals()[name] = ns` or `setattr(sys.modules.get("pkg.m"), name, ns)`) attaches that
# name there: code outside the scope that reads `pkg.m.name` fails once the scope is gone, at import
# time when that code runs then (a module's body, or a function run while a module is imported,
# such as one a decorator from outside the project parses: TVMScript's `@T.prim_func`).

_HANDLERS = frozenset({"AttributeError", "Exception", "BaseException"})


@dataclass(frozen=True, slots=True)
class Attachment:
    """A name the scope attaches to modules outside it when it loads: `name` ("" when computed at
    run time) on each of `targets`, at `path:line` of the scope, by `how` (one line)."""

    name: str
    targets: tuple[str, ...]
    path: str
    line: int
    how: str


@dataclass(frozen=True, slots=True)
class AttachedUse:
    """A read of an attached name outside the scope: `text` (the dotted name as bound) at
    `path:line:column` in `node`'s file, in `function` ("" at module level). `origin` is the module
    whose import runs it ("" when only a call runs it), `via` the calls from there."""

    node: str
    path: str
    line: int
    column: int
    text: str
    function: str
    attachment: Attachment
    origin: str = ""
    origin_line: int = 0
    via: tuple[str, ...] = ()


def attachments(files: Iterable[FileFacts], deleted: set[str]) -> list[Attachment]:
    """What the deleted files attach to modules outside them: SG103's import-time patches of
    modules, and names handed to a namespace writer outside them (a literal, or a loop variable
    over known strings; a name computed otherwise is attached as "")."""
    from ..base.model import Execution

    files = list(files)
    writers: dict[str, tuple[int, tuple[str, ...]]] = {}
    for facts in files:
        if facts.node in deleted or facts.extra:
            continue
        for fact in facts.attaches:
            if fact.kind == "writer":
                targets = tuple(t for t in fact.values if not _inside(t, deleted))
                if targets:
                    writers[f"{facts.module}.{fact.function}"] = (fact.position, targets)
    found = []
    for facts in files:
        if facts.node not in deleted:
            continue
        for patch in facts.patches:
            if patch.execution is Execution.IMPORT and not _inside(patch.target, deleted):
                found.append(Attachment(patch.attribute, (patch.target,), facts.path, patch.line,
                                        f"sets {patch.dotted}"))
        loops = {(a.line, a.column, a.position): a.values for a in facts.attaches if a.kind == "argument"}
        for call in facts.calls:
            writer = writers.get(call.callee)
            if writer is None:
                continue
            position, targets = writer
            term = call.args[position] if position < len(call.args) else ()
            short = call.callee.rpartition(".")[2]
            if len(term) == 1 and term[0][0] == "lit":
                names = (term[0][1],)
            else:
                names = loops.get((call.line, call.column, position), ("",))
            for name in names:
                shown = repr(name) if name else "a name computed at run time"
                found.append(Attachment(name, targets, facts.path, call.line,
                                        f"{short}({shown}, ...) writes it into {', '.join(targets)}"))
    return sorted(set(found), key=lambda a: (a.path, a.line, a.name))


def attached_uses(files: dict[str, FileFacts], modules: frozenset[str], deleted: set[str],
                  found: list[Attachment], toggles_off: Iterable[str] = ()) -> list[AttachedUse]:
    """Reads of the attached names outside the deleted files (CALL and USE effects naming
    `target.name...`), each with the module whose import runs it, if any. A read inside a handler
    that catches AttributeError (or Exception) is left out: it does not fail."""
    from ..base.model import EffectKind, Execution, GuardKind
    from .import_time import analysis_of

    named = [(f"{t}.{a.name}", a) for a in found if a.name for t in a.targets]
    if not named:
        return []
    first: dict[str, tuple[int, Attachment]] = {}  # `target.name` -> its first place in `named`
    for index, (prefix, attachment) in enumerate(named):
        first.setdefault(prefix, (index, attachment))
    heads = {prefix.partition(".")[0] for prefix in first}
    off = tuple(toggles_off)
    uses = []
    for node, facts in files.items():
        if node in deleted:
            continue
        for effect in facts.effects:
            if effect.kind not in (EffectKind.CALL, EffectKind.USE):
                continue
            text = effect.name.removesuffix("()")
            if text.partition(".")[0] not in heads:
                continue
            match = _first_prefix(text, first)
            if match is None or effect.execution is Execution.NEVER:
                continue
            if any(effect.state_required(t) is True for t in off):
                continue
            if any(g.kind in (GuardKind.OPTIONAL, GuardKind.TOLERANT) and (not g.catches or g.catches & _HANDLERS)
                   for g in effect.guards):
                continue
            uses.append(AttachedUse(node, facts.path, effect.line, effect.column, text, effect.function, match))
    uses = list(dict.fromkeys(uses))
    functions = {f"{files[u.node].module}.{u.function}" for u in uses if u.function}
    reached: dict[str, list] = {}
    if functions:
        analysis = analysis_of(files, modules)
        for item in analysis.reached(functions):
            if item.function in functions and item.origin not in deleted:
                reached.setdefault(item.function, []).append(item)
    out = []
    for use in uses:
        if not use.function:
            out.append(AttachedUse(**{**_fields(use), "origin": use.node, "origin_line": use.line}))
            continue
        items = reached.get(f"{files[use.node].module}.{use.function}", [])
        if not items:
            out.append(use)
        for item in items:
            if any(g.kind in (GuardKind.OPTIONAL, GuardKind.TOLERANT) and (not g.catches or g.catches & _HANDLERS)
                   for g in item.guards):
                continue
            out.append(AttachedUse(**{**_fields(use), "origin": item.origin, "origin_line": item.line,
                                      "via": item.via}))
    return sorted(set(out), key=lambda u: (u.path, u.line, u.column, u.origin))


def _first_prefix(text: str, first: dict[str, tuple[int, Attachment]]) -> Attachment | None:
    """The attachment of the first entry of `named` that `text` is or starts with (`prefix.`)."""
    best = first.get(text)
    at = text.find(".")
    while at != -1:
        found = first.get(text[:at])
        if found is not None and (best is None or found[0] < best[0]):
            best = found
        at = text.find(".", at + 1)
    return best[1] if best is not None else None


def _fields(use: AttachedUse) -> dict:
    return {name: getattr(use, name) for name in AttachedUse.__slots__}


def _inside(module: str, deleted: set[str]) -> bool:
    return module in deleted or any(module.startswith(d + ".") for d in deleted)
