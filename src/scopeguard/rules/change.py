"""SG5xx: change isolation. These rules judge a change (`check --diff BASE`), not a tree.

TVM's S0 process asks that "when the change touches existing modules, they should be discussed
separately": an S0 change adds or edits code inside its scope, and anything it needs from existing
modules — a new integration point, an edit to shared code — is a separate, separately reviewed
change. Both rules need BASE, so a plain `check` never runs them: their check() finds nothing, and
only check_change(), which `changes.check_diff` calls with a ChangeSet, reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..base.model import FileFacts, Severity, Violation
from ..analysis import Project
from .base import EXAMPLE_PYPROJECT, Example, Rule


@dataclass(frozen=True, slots=True)
class FileChange:
    """One changed Python file of the project, with project-relative paths."""

    status: str  # "A" added, "M" modified, "D" deleted, "R" renamed (possibly edited too)
    path: str | None  # after the change; None when deleted
    old_path: str | None  # at BASE; None when added


@dataclass
class ChangeSet:
    """What a change rule sees: the project after the change and at BASE, and what changed."""

    after: Project
    before: Project  # the same configuration, applied to the files as they were at BASE
    files: tuple[FileChange, ...]
    changed_lines: dict[str, frozenset[int]] = field(default_factory=dict)  # path after -> lines added/edited
    renamed: dict[str, str] = field(default_factory=dict)  # graph node at BASE -> node after (renames)
    # The configuration file (project-relative) and the keys of its [tool.scopeguard] table the
    # change adds, removes or edits (config.ConfigChange); both sides are judged with BASE's table.
    config_path: str = "pyproject.toml"
    config_changes: tuple = ()

    def __post_init__(self) -> None:
        self._after = {f.path: f for f in self.after.graph.files.values()}
        self._before = {f.path: f for f in self.before.graph.files.values()}

    def facts_after(self, change: FileChange) -> FileFacts | None:
        return self._after.get(change.path) if change.path else None

    def facts_before(self, change: FileChange) -> FileFacts | None:
        return self._before.get(change.old_path) if change.old_path else None

    def first_changed_line(self, path: str) -> int:
        lines = self.changed_lines.get(path)
        return min(lines) if lines else 1


class ChangeRule(Rule):
    """A rule about a change. Nothing to say about a tree alone."""

    def check(self, project: Project) -> Iterator[Violation]:
        return iter(())

    def check_change(self, change: ChangeSet) -> Iterator[Violation]:
        raise NotImplementedError


_SCOPE_FILE = "class Call:\n    pass\n"


class MixedChange(ChangeRule):
    """
    ## What it does
    Reports, with `check --diff BASE`, each existing module outside every scope that a change
    edits, renames or deletes while the same change also touches files of a scope (its package or
    its `extra_paths`). The message lists both sides.

    ## Why is this bad
    The S0 process admits a scoped module because it changes nothing for everyone else. A change
    that edits the scope and existing modules at once hides the edit to shared code inside a
    review about the new component; the RFC asks that such edits "be discussed separately".

    ## Fix
    Split the change: land the edit to the existing module on its own (with its own review), then
    the scope's change. New files outside every scope do not count as existing modules.
    """

    code = "SG501"
    name = "mixed-change"
    summary = "a change edits a scope and existing modules outside every scope together"
    severity = Severity.WARNING
    INVALID = (
        Example(
            "def lower(mod):\n    return mod\n",
            also=(("python/tvm/relax/expr.py", _SCOPE_FILE),),
            before=(("python/tvm/relax/expr.py", ""), ("python/tvm/ir/transform.py", "")),
        ),
    )
    VALID = (
        Example(_SCOPE_FILE, path="python/tvm/relax/expr.py", before=(("python/tvm/relax/expr.py", ""),)),
        Example("def lower(mod):\n    return mod\n", before=(("python/tvm/ir/transform.py", ""),)),
    )

    def check_change(self, change: ChangeSet) -> Iterator[Violation]:
        scope_side: dict[str, list[str]] = {}  # scope -> its touched files
        outside: list[tuple[FileChange, FileFacts, FileFacts | None]] = []
        for item in change.files:
            after, before = change.facts_after(item), change.facts_before(item)
            for facts in (after, before):
                scope = change.after.owner(facts) if facts is not None else None
                if scope is not None:
                    scope_side.setdefault(scope.name, []).append(facts.path)
            if before is not None and change.before.owner(before) is None:
                outside.append((item, before, after))
        if not scope_side or not outside:
            return
        scopes = sorted(scope_side)
        files = sorted({path for paths in scope_side.values() for path in paths})
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        touched = f"scope{'s' if len(scopes) > 1 else ''} {', '.join(scopes)} ({shown})"
        for item, before, after in outside:
            if item.status == "D":
                what, path, line = f"deletes existing module {before.node}", item.old_path, 1
            elif item.status == "R":
                what, path, line = (
                    f"renames existing module {before.node} to {after.node if after else item.path}",
                    item.path,
                    change.first_changed_line(item.path),
                )
            else:
                what, path, line = f"edits existing module {before.node}", item.path, change.first_changed_line(item.path)
            yield Violation(
                self.code,
                path,
                line,
                1,
                f"this change {what}, outside every scope, together with {touched}; "
                "land the edit to existing code as a separate change and discuss it there",
                importer=before.node,
                scope=scopes[0],
                severity=self.severity,
            )


class NewEdgeIntoScope(ChangeRule):
    """
    ## What it does
    Reports, with `check --diff BASE`, each import of a scope from outside code (outside every
    scope, not an approved `allow` entry point) that did not exist at BASE: a new dependency of
    existing code on the scope — even one guarded by the scope's toggle.

    ## Why is this bad
    Every edge into a scope is a place that must change when the scope is turned off or deleted,
    and a decision about the rest of the codebase. The S0 process wants such integration points
    discussed on their own; a guard makes the edge safe, not agreed.

    ## Fix
    Propose the integration point in a separate change; once agreed, register the importer in
    the scope's `allow` list (an approved entry point), or keep the code inside the scope.
    """

    code = "SG502"
    name = "new-edge-into-scope"
    summary = "a change adds an import of a scope from outside code"
    severity = Severity.WARNING
    INVALID = (
        Example(
            "from tvm.support import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from tvm.relax import expr\n",
            before=(("python/tvm/ir/transform.py", ""),),
        ),
    )
    VALID = (
        Example(
            "from tvm.support import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from tvm.relax import expr\n",
            path="python/tvm/script/parser/__init__.py",
            before=(("python/tvm/script/parser/__init__.py", ""),),
        ),
        Example(
            "from tvm.support import _RUNTIME_ONLY\n\n\ndef lower(mod):\n    return mod\n\n\n"
            "if not _RUNTIME_ONLY:\n    from tvm.relax import expr\n",
            before=(
                (
                    "python/tvm/ir/transform.py",
                    "from tvm.support import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from tvm.relax import expr\n",
                ),
            ),
        ),
    )

    def check_change(self, change: ChangeSet) -> Iterator[Violation]:
        def now(node: str) -> str:
            return change.renamed.get(node, node)

        existed = {(now(e.importer), now(e.imported)) for e in change.before.graph.import_edges()}
        first: dict[tuple[str, str], tuple] = {}
        for edge, scope, verdict in change.after.outside_imports():
            pair = (edge.importer, edge.imported)
            if pair in existed:
                continue
            if pair not in first or (edge.site.line, edge.site.column) < (first[pair][0].site.line, first[pair][0].site.column):
                first[pair] = (edge, scope, verdict)
        for (importer, imported), (edge, scope, verdict) in sorted(first.items()):
            if edge.facts.extra:
                way_out = "move the test under the scope's `extra_paths`, or add the import in a separate change"
            else:
                way_out = f"propose the integration point as a separate change, then add {importer} to the scope's `allow`"
            yield self.violation(
                edge.facts,
                edge.site.line,
                edge.site.column,
                f"this change adds an import of {imported} (scope {scope.name}) to {importer}, outside the scope "
                f"({verdict.value}); {way_out}",
                imported=imported,
                scope=scope.name,
            )


def _with_exclude(text: str) -> str:
    return text.replace('extra_roots = ["tests/python"]\n', 'extra_roots = ["tests/python"]\nexclude = ["python/tvm/ir/**"]\n')


class ConfigurationChanged(ChangeRule):
    """
    ## What it does
    Reports, with `check --diff BASE`, each key of the `[tool.scopeguard]` table that the change
    adds, removes or edits (a scope, an `allow` entry, `exclude`, a toggle's spellings,
    `ignore`, `per_file_ignores`, ...), at its line in the changed configuration file (a removed
    key: where it was removed). Comments and formatting are no change.

    `check --diff` judges both sides of a change with BASE's configuration, never with the one
    the change brings: this finding says that the change's own edits to the table were not
    applied, and which they are.

    ## Why is this bad
    The configuration decides what scopeguard checks. A change judged by its own configuration
    could loosen the checks on itself: `exclude = ["**"]`, a removed scope registration, a new
    `allow` entry or an `ignore` would hide the very findings it introduces. A change to what is
    checked is a decision of its own, for whoever owns the checks to review.

    ## Fix
    Land the configuration change on its own, reviewed as such; changes after it are judged
    with it. A project that accepts configuration edits inside any change can set
    `ignore = ["SG007"]` (BASE's table decides that too): the edits are then not reported, and
    the change is still judged with BASE's configuration.
    """

    code = "SG007"
    name = "configuration-changed"
    summary = "a change edits the [tool.scopeguard] table; it is judged with BASE's configuration"
    severity = Severity.WARNING
    INVALID = (
        Example("", pyproject=_with_exclude(EXAMPLE_PYPROJECT), before=(("pyproject.toml", EXAMPLE_PYPROJECT),), lines=(4,)),
        Example("", pyproject=EXAMPLE_PYPROJECT.replace('allow = ["tvm.script.parser"]\n', ""),
                before=(("pyproject.toml", EXAMPLE_PYPROJECT),), lines=(15,)),
    )
    VALID = (
        Example("", pyproject=_with_exclude(EXAMPLE_PYPROJECT), before=(("pyproject.toml", _with_exclude(EXAMPLE_PYPROJECT)),)),
        Example("", pyproject="# the scopes of TVM\n" + EXAMPLE_PYPROJECT.replace("\n\n", "\n\n\n"),
                before=(("pyproject.toml", EXAMPLE_PYPROJECT),)),
    )

    def check_change(self, change: ChangeSet) -> Iterator[Violation]:
        for item in change.config_changes:
            yield Violation(
                self.code,
                change.config_path,
                item.line or 1,
                1,
                f"configuration changed in this diff: {item.key} ({item.what}); this change is judged with BASE's "
                "configuration, not its own: land the configuration change on its own",
                importer=change.config_path,
                imported=item.key,
                severity=self.severity,
            )


CHANGE_RULES: tuple[type[ChangeRule], ...] = (MixedChange, NewEdgeIntoScope, ConfigurationChanged)
