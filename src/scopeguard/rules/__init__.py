"""The rule catalogue and the engine that runs it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..core import Project
from ..model import Violation, code_selected
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
from .tool import RelativeImportBeyondRoot, UnparsableFile
from .toggle import RootImportLoadsScope, ScopeWithoutToggle, ToggleWithoutSwitch, WrongToggleGuard

ALL_RULES: tuple[type[Rule], ...] = (
    UnparsableFile,
    RelativeImportBeyondRoot,
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
)
# ALL_RULES are the tree rules `check` runs; change rules (SG5xx) judge a change and run only with
# `check --diff`. CATALOGUE is every rule, for `scopeguard rule`, SARIF and selection by code.
CATALOGUE: tuple[type[Rule], ...] = (*ALL_RULES, *CHANGE_RULES)
RULES_BY_CODE = {rule.code: rule for rule in CATALOGUE}


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
    """Every violation of the given rules, minus inline suppressions, in a stable order.

    `from tvm.relax.transform import A, B` is one decision, not two: one finding per statement line
    and imported module, at the first name's column.
    """
    found: dict[tuple, Violation] = {}
    for rule in rules:
        for violation in rule().check(project):
            if suppressed(project, violation):
                continue
            key = (violation.code, violation.path, violation.line, violation.imported, violation.scope)
            if key not in found or violation.column < found[key].column:
                found[key] = violation
    return sorted(found.values(), key=lambda v: v.sort_key)


def suppressed(project: Project, violation: Violation) -> bool:
    """An inline `# scopeguard: ignore[...]` on the violation's line of its importer's file."""
    facts = project.graph.files.get(violation.importer)
    return facts is not None and facts.path == violation.path and facts.suppressed(violation.line, violation.code)
