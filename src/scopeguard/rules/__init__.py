"""The rule catalogue and the engine that runs it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..analysis import Project
from ..base.model import SiteKind, Violation, code_selected
from .base import Rule
from .change import CHANGE_RULES
from .deletion import DeletionBreaksCall, DeletionBreaksModule, PackagingNamesScope
from .disruption import (
    DynamicImport,
    OptionalImportOnly,
    TypeCheckingOnlyImport,
    UnguardedImportTimeImport,
    UnguardedLazyImport,
    UnresolvedDynamicImport,
)
from .coupling import ForeignRegistration, MonkeypatchOutsideScope, OpaqueDynamicImport, UnguardedRegistryLookup
from .isolation import UndeclaredScopeUse
from .tool import (
    RelativeImportBeyondRoot,
    StaleDynamicImportDeclaration,
    SuppressionWithoutReason,
    UnknownSuppressionCode,
    UnparsableFile,
    UnusedSuppression,
)
from .toggle import RootImportLoadsScope, ScopeWithoutToggle, ToggleSpellingIsFunction, ToggleWithoutSwitch, WrongToggleGuard

ALL_RULES: tuple[type[Rule], ...] = (
    UnparsableFile,
    RelativeImportBeyondRoot,
    UnusedSuppression,
    UnknownSuppressionCode,
    SuppressionWithoutReason,
    StaleDynamicImportDeclaration,
    UndeclaredScopeUse,
    ForeignRegistration,
    MonkeypatchOutsideScope,
    UnguardedImportTimeImport,
    UnguardedLazyImport,
    TypeCheckingOnlyImport,
    OptionalImportOnly,
    DynamicImport,
    UnresolvedDynamicImport,
    UnguardedRegistryLookup,
    OpaqueDynamicImport,
    DeletionBreaksModule,
    DeletionBreaksCall,
    PackagingNamesScope,
    ScopeWithoutToggle,
    RootImportLoadsScope,
    WrongToggleGuard,
    ToggleWithoutSwitch,
    ToggleSpellingIsFunction,
)
# ALL_RULES are the tree rules `check` runs; change rules (SG5xx) judge a change and run only with
# `check --diff`. CATALOGUE is every rule, for `scopeguard rule`, SARIF and selection by code.
CATALOGUE: tuple[type[Rule], ...] = (*ALL_RULES, *CHANGE_RULES)
RULES_BY_CODE = {rule.code: rule for rule in CATALOGUE}
# Rules about the suppression comments themselves: the engine judges them after the others ran.
SUPPRESSION_RULES = (UnusedSuppression, UnknownSuppressionCode, SuppressionWithoutReason)


def selected(
    select: Sequence[str] = (), ignore: Sequence[str] = (), among: Sequence[type[Rule]] = ALL_RULES
) -> list[type[Rule]]:
    """Rules whose code starts with a selected prefix (all when none) and with no ignored prefix."""
    select = [s.upper() for s in select]
    ignore = [i.upper() for i in ignore]
    return [rule for rule in among if code_selected(rule.code, select, ignore)]


def unknown_prefixes(prefixes: Iterable[str]) -> list[str]:
    return [p for p in prefixes if not any(code.startswith(p.upper()) for code in RULES_BY_CODE)]


def run(project: Project, rules: Iterable[type[Rule]]) -> list[Violation]:
    """Every violation of the given rules, one per decision, minus suppressions, in a stable order.

    1. One finding per statement and scope: `from tvm.relax.op import (abs, acos, ...)` over
       twenty lines is one finding at the statement's first line, the names in `names`; and
       `from tvm.relax.op import builtin, ccl, grad` (three submodules) is one finding too, at the
       first module, the others listed in its message (after the consequences are attached, so
       that each module's chains still find their root).
    2. Consequences under their root cause (`consequences.attach`): an SG402 chain or an SG301/
       SG302 breakage whose last link is an import reported by SG201/SG205/SG403/SG204 becomes a
       related note of that finding.
    3. Suppressions (`# scopeguard: ignore[...]` on any line of the statement or on a comment line
       directly above) and `per_file_ignores`: silencing the root cause silences its notes.
    4. The suppressions themselves: unused ones (SG003), unknown codes (SG004), missing reasons
       when `require_reason` is set (SG005) — each only when its rule is selected.
    """
    from . import consequences

    rules = list(rules)
    wanted = {rule.code for rule in rules}
    # SG003 judges every suppression against every tree rule, selected or not: "unused" must mean
    # that it silences nothing at all. What is reported is still only what was selected.
    judge = any(rule is UnusedSuppression for rule in rules)
    running = [r for r in (ALL_RULES if judge else rules) if r not in SUPPRESSION_RULES]
    found: dict[tuple, Violation] = {}
    for rule in running:
        for violation in rule().check(project):
            violation = _at_statement(project, violation)
            key = (violation.code, violation.path, violation.line, violation.imported, violation.scope)
            if key in found:
                violation = _merge(found[key], violation)
            found[key] = violation
    merged = _once_per_process([_named(v) for v in found.values()])
    primaries = _per_statement(consequences.attach(project, merged, wanted))
    used: set[tuple[str, int, int, str]] = set()
    files = _files_by_path(project)
    ignored = _PerFileIgnores(project.config.reporting.per_file_ignores)
    kept = []
    for violation in primaries:
        if _suppression(files, violation.path, violation.line, violation.code, used) or ignored.match(
            violation.path, violation.code
        ):
            for note in violation.related:  # a suppression of a consequence is used by the root's
                _suppression(files, note.path, note.line, note.code, used)
            continue
        notes = tuple(n for n in violation.related if _suppression(files, n.path, n.line, n.code, used) is None
                      and not ignored.match(n.path, n.code))
        if notes != violation.related:
            violation = replace(violation, related=notes)
        if violation.code in wanted:
            kept.append(violation)
    kept += _suppression_findings(project, rules, running, used)
    return sorted(kept, key=lambda v: v.sort_key)


def _at_statement(project: Project, violation: Violation) -> Violation:
    """An import statement's findings sit at the statement (one `from x import (a, b, ...)` over
    many lines is one decision). Anything else - an entry of a string table that a loader imports,
    a registration call - stays where it is: that entry is what a maintainer edits."""
    facts = project.graph.files.get(violation.importer)
    if facts is None or facts.path != violation.path or not facts.statements:
        return violation
    if not any(s.line == violation.line and s.column == violation.column and s.kind is not SiteKind.DYNAMIC
               for s in facts.sites):
        return violation
    at = facts.statement_at(violation.line)
    if at is None or at == (violation.line, violation.column):
        return violation
    return replace(violation, line=at[0], column=at[1])


def _merge(kept: Violation, other: Violation) -> Violation:
    names = kept.names + tuple(n for n in other.names if n not in kept.names)
    first = kept if (kept.column, kept.message) <= (other.column, other.message) else other
    return replace(first, names=names)


def _once_per_process(violations: list[Violation]) -> list[Violation]:
    """A lazy import in a function that also runs at import time (called at module level, a
    decorator, ...) runs once per process, while the module is imported: one finding, SG201, not
    SG201 and SG202 for the same statement."""
    at_import = {(v.path, v.line, v.imported, v.scope) for v in violations if v.code == "SG201"}
    return [v for v in violations if v.code != "SG202" or (v.path, v.line, v.imported, v.scope) not in at_import]


def _per_statement(violations: list[Violation]) -> list[Violation]:
    """Findings of one rule on one line for one scope (the modules one statement imports from the
    scope; a multi-line statement's are all on its first line by now) as one finding: the first
    module's (by column), with the others named and every note kept."""
    groups: dict[tuple, list[Violation]] = {}
    for violation in violations:
        key = (violation.code, violation.path, violation.line, violation.scope)
        groups.setdefault(key if violation.scope and violation.imported else (id(violation),), []).append(violation)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        group.sort(key=lambda v: (v.column, v.imported, v.message))
        first, modules = group[0], [v.imported for v in group]
        related = tuple(dict.fromkeys(note for v in group for note in v.related))
        others = ", ".join(m for m in dict.fromkeys(modules[1:]) if m != first.imported)
        message = f"{first.message} [the statement also imports {others}]" if others else first.message
        out.append(replace(first, message=message, related=related))
    return out


def _named(violation: Violation) -> Violation:
    """The names a statement imports from the module, in the message when several."""
    if len(violation.names) < 2:
        return violation
    shown = ", ".join(violation.names[:8]) + (f", ... ({len(violation.names)} names)" if len(violation.names) > 8 else "")
    return replace(violation, message=f"{violation.message} [imports {shown}]")


def suppressed(project: Project, violation: Violation) -> bool:
    """An inline `# scopeguard: ignore[...]` covering the violation's line of its importer's file."""
    return _suppression(_files_by_path(project), violation.path, violation.line, violation.code, set()) is not None


def _files_by_path(project: Project) -> dict:
    return {facts.path: facts for facts in project.graph.files.values()}


def _suppression(files: dict, path: str, line: int, code: str, used: set):
    """The suppression covering `code` at path:line, recorded in `used` as (path, line, column, code)."""
    facts = files.get(path)
    item = facts.suppressing(line, code) if facts is not None else None
    if item is not None:
        used.add((path, item.line, item.column, code))
    return item


class _PerFileIgnores:
    """`per_file_ignores`: gitignore-style globs (relative to the project root) -> code prefixes."""

    def __init__(self, table: Sequence[tuple[str, Sequence[str]]]):
        self.entries = []
        if table:
            from ..base.globs import linear_spec  # linear time: globs and paths come from the tree

            for glob, codes in table:
                self.entries.append((linear_spec([glob], gitignore=False), tuple(codes)))

    def match(self, path: str, code: str) -> bool:
        return any(code.startswith(c) for spec, codes in self.entries if spec.match_file(path) for c in codes)


def _suppression_findings(project: Project, rules: list[type[Rule]], running: list[type[Rule]], used: set) -> list[Violation]:
    """SG003 unused suppressions, SG004 unknown codes, SG005 suppressions without a reason."""
    wanted = {rule.code for rule in rules if rule in SUPPRESSION_RULES}
    if not wanted:
        return []
    ran = {rule.code for rule in running}
    every_rule_ran = all(rule.code in ran for rule in ALL_RULES if rule not in SUPPRESSION_RULES)
    silenced: dict[tuple[str, int, int], list[str]] = {}
    for path, line, column, code in used:
        silenced.setdefault((path, line, column), []).append(code)
    require_reason = project.config.reporting.require_reason
    found = []
    for facts in project.graph.files.values():
        for item in facts.suppressions:
            codes = silenced.get((facts.path, item.line, item.column), [])
            unknown = [c for c in item.codes if not any(code.startswith(c) for code in RULES_BY_CODE)]
            if unknown and "SG004" in wanted:
                found.append(UnknownSuppressionCode().at(facts, item, unknown))
            if "SG003" in wanted:
                if item.codes:  # a code is unused when its rules ran and silenced nothing here
                    unused = [c for c in item.codes if c not in unknown and any(r.startswith(c) for r in ran)
                              and not any(code.startswith(c) for code in codes)]
                else:
                    unused = [] if codes or not every_rule_ran else ["(all)"]
                if unused:
                    found.append(UnusedSuppression().at(facts, item, unused))
            if require_reason and not item.reason and "SG005" in wanted:
                found.append(SuppressionWithoutReason().at(facts, item, list(item.codes)))
    return found
