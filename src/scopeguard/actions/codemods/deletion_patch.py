"""The deletion of a scope as one patch: the scope's files removed, the imports of it that survive
the deletion removed, registry entries naming it removed, packaging files edited; everything that
cannot be edited safely listed (in the patch's header as comments, and in `Patch.not_edited`).

Inputs are the DeletionPlan (which imports survive: `plan.guarded`; what breaks: `plan.broken`,
`plan.lazy`; what else names the scope: `plan.references`), the import graph's facts and the
packaging facts. Files are read through `safeio` (regular files only, no symlink followed); the
patch is text, nothing is written here.

Registry entries: `registry_entries` ties a string to the scope where the facts do today: a
module-level collection literal holding the scope's dotted name, or its last component in a file
that has (or imports a module that has) a dynamic import whose literal prefix plus that component
is the scope (`f"rb.backend.{name}"` and `("cpu", "npu")`). Callers with better value flow pass
their own list as `entries`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ...analysis import DeletionPlan
from ...analysis.graph import ImportGraph
from ...base.model import BuildFacts, Config, ReferenceKind, Scope
from ...base.paths import under
from ...base.safeio import read_regular
from ...base.text import printable, source_lines
from . import attribute_uses, diff, packaging_edits, remove_guarded_import, remove_registry_entry

_READ_LIMIT = 64 * 1024 * 1024
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".scopeguard_cache"})


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    path: str
    line: int
    literal: str


@dataclass(frozen=True, slots=True)
class NotEdited:
    path: str
    line: int  # 0: the whole file
    text: str
    why: str


@dataclass(frozen=True)
class Patch:
    scope: str
    text: str  # header comments, then the diffs
    deleted: tuple[str, ...]  # files the patch deletes
    edited: dict[str, int] = field(default_factory=dict)  # path -> hunks
    removed_imports: tuple[tuple[str, int], ...] = ()
    removed_entries: tuple[RegistryEntry, ...] = ()
    packaging_lines: tuple[tuple[str, int], ...] = ()
    not_edited: tuple[NotEdited, ...] = ()


def deletion_files(config: Config, targets: Iterable[str]) -> tuple[list[tuple[str, str, int]], list[NotEdited]]:
    """(path, text, mode) of every file under the deletion targets; files that cannot be written
    as text (binary, unreadable) come back as NotEdited. Symlinks are deleted as links."""
    files, refused = [], []

    def one(rel: str) -> None:
        full = os.path.join(config.root, rel)
        info = os.lstat(full)
        if stat.S_ISLNK(info.st_mode):
            files.append((rel, os.readlink(full), 0o120000))
            return
        try:
            data, info = read_regular(full, _READ_LIMIT, follow=False)
            text = data.decode("utf-8")
            if "\0" in text:
                raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        except (OSError, UnicodeDecodeError) as error:
            why = "binary file" if isinstance(error, UnicodeDecodeError) else f"unreadable ({error})"
            refused.append(NotEdited(rel, 0, "", f"{why}: not in the patch; delete it by hand (git rm)"))
            return
        files.append((rel, text, 0o100755 if info.st_mode & 0o111 else 0o100644))

    for target in targets:
        full = os.path.join(config.root, target)
        if os.path.islink(full) or os.path.isfile(full):
            one(target)
            continue
        for folder, dirs, names in os.walk(full, followlinks=False):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not os.path.islink(os.path.join(folder, d)))
            links = [d for d in os.listdir(folder) if os.path.islink(os.path.join(folder, d))
                     and os.path.isdir(os.path.join(folder, d))]
            for name in sorted([*names, *links]):
                rel = os.path.relpath(os.path.join(folder, name), config.root).replace(os.sep, "/")
                one(rel)
    files.sort()
    return files, refused


def registry_entries(graph: ImportGraph, scope: Scope, read) -> list[RegistryEntry]:
    """Module-level collection entries the facts tie to the scope (see the module docstring)."""
    deleted = _deleted_nodes(graph, scope)
    last = scope.name.rpartition(".")[2]
    loaders = set()  # modules with a dynamic import whose prefix + last component is the scope
    for facts in graph.files.values():
        if facts.node in deleted:
            continue
        if any(u.prefix and u.prefix + last == scope.name for u in facts.unresolved):
            loaders.add(facts.node)
    tied: dict[str, set[str]] = {}
    for edge in graph.import_edges():
        if edge.imported in loaders and edge.importer not in deleted:
            tied.setdefault(edge.facts.path, set()).add(last)
    for facts in graph.files.values():
        if facts.node in deleted:
            continue
        if facts.node in loaders:
            tied.setdefault(facts.path, set()).add(last)
        if any(r.kind is ReferenceKind.LITERAL and r.text == scope.name for r in facts.references):
            tied.setdefault(facts.path, set()).add(scope.name)
    found = []
    for path, names in sorted(tied.items()):
        source = read(path)
        if source is None:
            continue
        try:
            entries = remove_registry_entry.registry_entries(source, names)
        except Exception:  # noqa: BLE001 - libcst cannot parse it: the file has a parse error fact already
            continue
        found += [RegistryEntry(path, e.line, e.literal) for e in entries]
    return found


def _deleted_nodes(graph: ImportGraph, scope: Scope) -> set[str]:
    nodes = {m for m in graph.modules if scope.contains(m)}
    nodes |= {f.node for f in graph.files.values()
              if (not f.extra and scope.contains(f.module)) or any(under(f.path, e) for e in scope.extra_paths)}
    return nodes


def build_patch(
    config: Config,
    graph: ImportGraph,
    plan: DeletionPlan,
    build: BuildFacts | None,
    targets: list[str],
    *,
    entries: Iterable[RegistryEntry] | None = None,
    still_broken: Callable[[Mapping[str, str]], Iterable[str]] | None = None,
) -> Patch:
    """The deletion as one patch. `still_broken(sources)`, given the text of every Python file the
    patch edits as it leaves them, names the modules that fail at import time once it is applied
    (the caller simulates that); the header then lists those rather than every module the plain
    deletion breaks (a registry entry the patch removes repairs them)."""
    from ...collect.packaging import _pattern, references

    scope = plan.scope
    not_edited: list[NotEdited] = []

    def read(path: str) -> str | None:
        try:
            data, _ = read_regular(os.path.join(config.root, path), _READ_LIMIT, follow=False)
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            not_edited.append(NotEdited(path, 0, "", f"not readable as UTF-8 text ({error}); edit by hand"))
            return None

    files, refused = deletion_files(config, targets)
    not_edited += refused
    deleted_paths = {path for path, _, _ in files} | {n.path for n in refused}
    deleted = _deleted_nodes(graph, scope)

    # Imports that survive the deletion (the plan's verdict), by file.
    guarded_lines = {(r.path, r.line) for r in plan.guarded}
    removals: dict[str, set] = {}
    for edge in graph.import_edges():
        path = edge.facts.path
        if path in deleted_paths or edge.imported not in deleted or (path, edge.site.line) not in guarded_lines:
            continue
        site = edge.site
        removals.setdefault(path, set()).add(remove_guarded_import.Removal(site.line, site.target, site.name))

    chosen = list(entries) if entries is not None else registry_entries(graph, scope, read)
    by_file: dict[str, list[RegistryEntry]] = {}
    for entry in chosen:
        if entry.path not in deleted_paths:
            by_file.setdefault(entry.path, []).append(entry)

    # By-name table entries (`("bert", "BertConfig"),` in an OrderedDict): removed where alone on their lines.
    table_lines: dict[str, list] = {}
    for entry in plan.table_entries:
        if entry.path not in deleted_paths:
            table_lines.setdefault(entry.path, []).append(entry)

    chunks, edited = [], {}
    python_sources: dict[str, str] = {}
    removed_imports, removed_entries, removed_tables = [], [], []
    for path in sorted(set(removals) | set(by_file) | set(table_lines)):
        old = read(path)
        if old is None:
            continue
        new = old
        try:
            if path in removals:
                result = remove_guarded_import.apply(new, sorted(removals[path], key=lambda r: (r.line, r.target, r.name or "")))
                new = result.source
                removed_imports += [(path, r.line) for r in result.removed]
                not_edited += [NotEdited(path, k.line, k.text, f"guarded import kept: {k.why}; edit by hand")
                               for k in result.kept]
            if path in by_file:
                moved = _line_map(old, new)  # the imports' edits may have moved the lines
                wanted = {remove_registry_entry.Entry(moved.get(e.line, -1), e.literal): e for e in by_file[path]}
                result = remove_registry_entry.apply(new, wanted)
                new = result.source
                removed_entries += [wanted[e] for e in result.removed]
                not_edited += [NotEdited(path, wanted[e].line, repr(e.literal), "registry entry not found in a "
                                         "module-level literal; edit by hand") for e in result.missing]
            if path in table_lines:
                new, done = _remove_table_lines(old, new, table_lines[path], {e.line for e in removed_entries
                                                                               if e.path == path})
                removed_tables += done
        except Exception as error:  # noqa: BLE001 - libcst refused the file: nothing edited in it
            not_edited.append(NotEdited(path, 0, "", f"not edited: {type(error).__name__}: {error}"))
            continue
        text = diff.changed(path, old, new)
        if text:
            chunks.append(text)
            edited[path] = text.count("\n@@ ")
            python_sources[path] = new

    # Packaging files.
    packaging_lines = []
    _patched_packaging: dict[str, str] = {}
    pattern = _pattern(scope)
    refs: dict[str, set[int]] = {}
    for ref in references(build.packaging if build else (), scope):
        refs.setdefault(ref.path, set()).add(ref.line)
    for path, lines in sorted(refs.items()):
        name = path.rpartition("/")[2]
        if name == "setup.py":
            not_edited += [NotEdited(path, n, "", "setup.py names the scope; edit by hand (nothing in it is run)")
                           for n in sorted(lines)]
            continue
        old = read(path)
        if old is None:
            continue
        result = packaging_edits.apply(name, old, lines, lambda text: pattern.search(text) is not None)
        _patched_packaging[path] = result.source
        packaging_lines += [(path, n) for n in result.edited]
        not_edited += [NotEdited(path, n.line, n.text, n.why) for n in result.not_editable]
        text = diff.changed(path, old, result.source)
        if text:
            chunks.append(text)
            edited[path] = text.count("\n@@ ")

    # The scope's own declaration in the configuration.
    config_rel = os.path.relpath(config.config_path, config.root).replace(os.sep, "/") if config.config_path else ""
    if config_rel.endswith("pyproject.toml") and not config_rel.startswith(".."):
        old = read(config_rel)
        if old is not None:
            start = next((c for c in chunks if c.startswith(f"diff --git a/{config_rel} ")), None)
            base = old
            if start is not None:  # already edited above (packaging): edit on top of that
                chunks.remove(start)
                base = _patched_packaging[config_rel]
            new, refused_refs = packaging_edits.remove_scope_table(base, scope.name)
            not_edited += [NotEdited(config_rel, n.line, n.text, n.why) for n in refused_refs]
            text = diff.changed(config_rel, old, new)
            if text:
                chunks.append(text)
                edited[config_rel] = text.count("\n@@ ")

    # What the patch leaves for a person.
    for user in plan.users:
        not_edited.append(NotEdited("", 0, "", f"scope {user} uses {scope.name}: its modules fail once this patch is "
                                    f"applied; delete it first (delete-plan {user} --apply) or keep its toggle off"))
    for ref in plan.unknown:
        not_edited.append(NotEdited(ref.path, ref.line, ref.text, "dynamic import of unknown target: may load the "
                                    "scope; check the names it can take"))
    remaining = set(still_broken(python_sources)) if still_broken is not None else None
    broken = [b for b in plan.broken if remaining is None or b.module in remaining]
    for b in broken:
        if b.direct:
            not_edited.append(NotEdited(b.path, b.line, f"imports {b.chain[-1]}",
                                        "fails at import time: an unguarded import of the scope; edit by hand"))
        elif b.attached:
            not_edited.append(NotEdited(b.path, b.line, f"{b.module} fails at import time",
                                        f"it reads {b.attached.partition(' (')[0]}, a name only the deleted scope "
                                        "attaches; delete or move this module with the scope (or add it to the "
                                        "scope's extra_paths)"))
    indirect = [b for b in broken if not b.direct and not b.attached]
    if indirect:
        not_edited.append(NotEdited("", 0, "", f"{len(indirect)} more module(s) fail through those "
                                    "(delete-plan lists them with their chains)"))
    for path, line, dotted in _attribute_uses(config, graph, scope, deleted_paths):
        not_edited.append(NotEdited(path, line, dotted, "uses the scope as an attribute, with no import: fails "
                                    "when this line runs; edit by hand"))
    for item in plan.lazy:
        not_edited.append(NotEdited(item.path, item.line, f"imports {item.imported} inside a function",
                                    "call site breaks when called; edit by hand"))
    handled = {(e.path, e.line) for e in removed_entries} | set(packaging_lines) | {(e.path, e.line) for e in removed_tables}
    for ref in plan.references:
        if (ref.path, ref.line) in handled or ref.path in refs:  # packaging: edited or listed above
            continue
        not_edited.append(NotEdited(ref.path, ref.line, ref.text, ref.why))
    toggle = config.toggle(scope.toggle) if scope.toggle else None
    spellings = set(toggle.on_when_true + toggle.on_when_false) if toggle else set()
    for cmake in (build.cmake if build else ()):
        for option in cmake.options:
            if option.name in spellings:
                not_edited.append(NotEdited(option.path, option.line, f"{option.command}({option.name} {option.value})",
                                            "CMake option of the scope's toggle: C++/CMake is not edited"))
    if build and build.cmake:
        not_edited.append(NotEdited("", 0, "", "C++ sources and CMake files are never edited: remove the "
                                    "scope's native parts by hand"))

    not_edited = list(dict.fromkeys(not_edited))
    deletions = [diff.deleted(path, text, mode) for path, text, mode in files]
    header = _header(scope, files, edited, not_edited)
    return Patch(
        scope=scope.name,
        text=header + "".join(deletions) + "".join(chunks),
        deleted=tuple(path for path, _, _ in files),
        edited=edited,
        removed_imports=tuple(removed_imports),
        removed_entries=tuple(removed_entries),
        packaging_lines=tuple(packaging_lines),
        not_edited=tuple(not_edited),
    )


def _remove_table_lines(old: str, new: str, entries, removed_lines: set[int]):
    """`new` (the file after the edits before this one) without the lines of each table entry that
    is alone on its lines; (text, the entries removed). An entry whose lines an earlier edit already
    removed (a registry entry of a dict literal) counts as removed; one that is not alone on its
    lines, or whose lines changed, is left (and listed by the caller)."""
    moved = _line_map(old, new)
    old_lines, lines = source_lines(old), source_lines(new)
    drop, done = set(), []
    for entry in entries:
        span = range(entry.line, entry.last + 1)
        if entry.line in removed_lines and all(n not in moved for n in span):
            done.append(entry)
            continue
        if not entry.whole:
            continue
        targets = [moved.get(n) for n in span]
        if None in targets or targets != list(range(targets[0], targets[0] + len(targets))) \
                or any(old_lines[n - 1] != lines[t - 1] for n, t in zip(span, targets)):
            continue
        drop.update(targets)
        done.append(entry)
    if not drop:
        return new, done
    kept = source_lines(new, keepends=True)
    return "".join(line for number, line in enumerate(kept, 1) if number not in drop), done


def _attribute_uses(config: Config, graph: ImportGraph, scope: Scope, deleted_paths: set[str]):
    """(path, line, dotted) of `tvm.relax.X` attribute chains in the files that stay."""
    needle = "." + scope.name.rpartition(".")[2]
    found = []
    for facts in sorted(graph.files.values(), key=lambda f: f.path):
        if facts.path in deleted_paths or facts.error is not None:
            continue
        try:
            data, _ = read_regular(os.path.join(config.root, facts.path), _READ_LIMIT, follow=False)
            source = data.decode("utf-8")
            if needle not in source:
                continue
            found += [(facts.path, line, dotted) for line, dotted in attribute_uses.attribute_uses(source, scope.name)]
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue  # the file's own parse error is reported by check
    return found


def _line_map(old: str, new: str) -> dict[int, int]:
    """Old line -> new line for the lines an edit left as they were."""
    import difflib

    mapping = {}
    matcher = difflib.SequenceMatcher(None, source_lines(old), source_lines(new), autojunk=False)
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            mapping[block.a + i + 1] = block.b + i + 1
    return mapping


def describe(item: NotEdited) -> str:
    """`path:line: text -- why`, on one line with nothing a terminal acts on (`printable`): it is
    printed, and written as a `#` line of the patch, where a line break would start patch text."""
    where = f"{item.path}:{item.line}" if item.line else item.path
    text = f"{where}: {item.text}" if item.text else where
    return printable(f"{text} -- {item.why}" if text else item.why)


def _header(scope: Scope, files, edited, not_edited) -> str:
    out = [f"# scopeguard delete-plan {printable(scope.name)} --apply: apply at the project root with `git apply`",
           f"# deletes {len(files)} file(s); edits {len(edited)} file(s), {sum(edited.values())} hunk(s)"]
    if not_edited:
        out.append(f"# NOT EDITED ({len(not_edited)}): these need a person")
        out += [f"#   {describe(item)}" for item in not_edited]
    else:
        out.append("# the plan lists nothing else to edit (names built at run time from registries are "
                   "followed only as far as the facts go)")
    return "\n".join(out) + "\n"
