"""SG2xx: no disruptive change — code outside a scope reaches it only through its toggle."""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis import Project, Verdict
from ..analysis.reachability import via
from ..base.model import Execution, Severity, SiteKind, UnresolvedReason, Violation
from .base import Example, Rule, describe_guards, guard_advice, ways_out

_WHEN = {Execution.IMPORT: "at import time", Execution.CALL: "lazily (when a function runs)"}
_CHAIN_SHOWN = 4


def _through(site) -> str:
    """The calls by which a statement runs an import written elsewhere (analysis/import_time.py)."""
    steps = via(site)
    if not steps or site.kind is SiteKind.DYNAMIC:
        return ""
    if len(steps) > _CHAIN_SHOWN:
        steps = (*steps[:2], f"... {len(steps) - 3} more ...", steps[-1])
    return " through " + " -> ".join(steps)


class _OutsideImportRule(Rule):
    """Shared reporting for imports of a scope from outside it; subclasses choose which."""

    def wanted(self, site, verdict: Verdict) -> bool:
        raise NotImplementedError

    def problem(self, site, verdict: Verdict) -> str:
        raise NotImplementedError

    def remedy(self, project: Project, scope, facts) -> str:
        return ways_out(project, scope, facts)

    def check(self, project: Project) -> Iterator[Violation]:
        for edge, scope, verdict in project.outside_imports():
            if not self.wanted(edge.site, verdict) or project.loaded_before(edge):
                continue  # (loaded_before: a statement above the function loads it, reported itself)
            detail = describe_guards(edge.site, scope)
            message = (
                f"{edge.importer} imports {edge.imported} (scope {scope.name}) {self.problem(edge.site, verdict)}"
                + _through(edge.site)
                + (f" ({detail})" if detail else "")
                + f"; {self.remedy(project, scope, edge.facts)}"
            )
            site = edge.site
            named = site.name not in (None, "*") and site.dotted != edge.imported
            yield self.violation(
                edge.facts, site.line, site.column, message, imported=edge.imported, scope=scope.name,
                names=(site.name,) if named else (),
            )


class UnguardedImportTimeImport(_OutsideImportRule):
    """
    ## What it does
    Reports a module outside a scope that imports the scope when it is itself imported, with no
    guard by the scope's toggle. An import inside a function (run at import time through calls, or
    lazily: SG202) is not reported when the function's own module imports the same module with no
    guard above the function's `def`: by the time the function exists that statement has loaded
    it, and that statement is the finding.

    ## Why is this bad
    An S0 module must be a no-disruption change that can be turned off and deleted. An unguarded
    module-level import loads the scope for everyone who imports the importer, whatever the toggle
    says, and deleting the scope makes the importer fail at import time.

    ## Fix
    Put the import under the scope's toggle, move the code that needs it into the scope, or — when
    the integration point is approved — list the importer in the scope's `allow`. Where the toggle's
    predicate is itself defined inside the scope (transformers' `is_deepspeed_available` in
    `integrations/deepspeed.py`), no guard can call it without loading the scope: the message then
    says to move the predicate out of the scope first.
    """

    code = "SG201"
    name = "unguarded-import"
    summary = "outside code imports a scope at import time without its toggle"
    INVALID = (Example("from tvm.contrib import msc\n", lines=(1,)),)
    VALID = (Example("from tvm.support import USE_MSC\n\nif USE_MSC:\n    from tvm.contrib import msc\n"),)

    def wanted(self, site, verdict):
        return verdict is Verdict.NONE and site.kind is not SiteKind.DYNAMIC and site.execution is Execution.IMPORT

    def problem(self, site, verdict):
        return "at import time without a guard"


class UnguardedLazyImport(_OutsideImportRule):
    """
    ## What it does
    Reports a function outside a scope that imports the scope when it is called, with no guard by
    the scope's toggle (no `if not USE_X: return` before it, no toggle decorator).

    ## Why is this bad
    The importing module stays importable without the scope, but the function breaks at call time
    once the scope is turned off or deleted — usually far from the change that caused it.

    ## Fix
    Check the toggle first (`if not USE_MSC: raise RuntimeError("msc is off")`), decorate the
    function with the toggle's decorator, or move the function into the scope.
    """

    code = "SG202"
    name = "unguarded-lazy-import"
    summary = "outside code imports a scope inside a function without its toggle"
    INVALID = (Example("def run():\n    from tvm.contrib import msc\n    return msc\n", lines=(2,)),)
    VALID = (
        Example(
            "from tvm.support import USE_MSC\n\n\ndef run():\n    if not USE_MSC:\n"
            '        raise RuntimeError("msc is off")\n    from tvm.contrib import msc\n    return msc\n'
        ),
    )

    def wanted(self, site, verdict):
        return verdict is Verdict.NONE and site.kind is not SiteKind.DYNAMIC and site.execution is Execution.CALL

    def problem(self, site, verdict):
        return "inside a function without a guard"


class TypeCheckingOnlyImport(_OutsideImportRule):
    """
    ## What it does
    Reports an import of a scope from outside it that sits only under `if TYPE_CHECKING:`.

    ## Why is this bad
    It never runs, so deleting the scope leaves the program working, but type checking of the
    importer breaks and its annotations name a module that may be gone: the dependency is real,
    only hidden from the runtime.

    ## Fix
    Move the annotated code into the scope, or type against a protocol or base class that lives
    outside it.
    """

    code = "SG203"
    name = "type-checking-only-import"
    summary = "outside code imports a scope under TYPE_CHECKING only"
    severity = Severity.WARNING
    INVALID = (Example("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from tvm.relax import Expr\n", lines=(4,)),)
    VALID = (Example("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from tvm.ir import Node\n"),)

    def wanted(self, site, verdict):
        return verdict is Verdict.TYPE

    def problem(self, site, verdict):
        return "under TYPE_CHECKING only (breaks type checking when the scope is deleted)"

    def remedy(self, project, scope, facts):
        where = "" if facts.extra else f", or add {facts.module} to the scope's `allow`"
        return f"move the annotated code into {scope.name}, type against an interface outside it{where}"


class OptionalImportOnly(_OutsideImportRule):
    """
    ## What it does
    Reports an import of a scope from outside it whose only protection is a `try:` / `except
    ImportError:` (or `contextlib.suppress(ImportError)`).

    ## Why is this bad
    It survives deleting the scope, but it is no toggle: with the scope present the import always
    runs, so the scope cannot be turned off, and a real error inside the scope is swallowed as if
    the scope were absent.

    ## Fix
    Guard the import with the scope's toggle (the `try` may stay inside the guard).
    """

    code = "SG204"
    name = "optional-import-only"
    summary = "outside code imports a scope under try/except ImportError instead of its toggle"
    severity = Severity.WARNING
    INVALID = (Example("try:\n    from tvm.contrib import msc\nexcept ImportError:\n    msc = None\n", lines=(2,)),)
    VALID = (
        Example(
            "from tvm.support import USE_MSC\n\nmsc = None\nif USE_MSC:\n    try:\n"
            "        from tvm.contrib import msc\n    except ImportError:\n        pass\n"
        ),
    )

    def wanted(self, site, verdict):
        return verdict is Verdict.OPTIONAL

    def problem(self, site, verdict):
        return f"{_WHEN[site.execution]} behind try/except ImportError only, which is no toggle"


class DynamicImport(_OutsideImportRule):
    """
    ## What it does
    Reports `importlib.import_module("...")` or `__import__("...")` with a literal that names a
    scope, called from outside the scope with no guard by its toggle.

    ## Why is this bad
    It loads the scope exactly like an import statement does, but hides from readers and from
    tools that look only at `import` statements.

    ## Fix
    Guard the call with the scope's toggle, or move it into the scope.
    """

    code = "SG205"
    name = "unguarded-dynamic-import"
    summary = "outside code loads a scope with importlib/__import__ without its toggle"
    INVALID = (Example('import importlib\n\nmsc = importlib.import_module("tvm.contrib.msc")\n', lines=(3,)),)
    VALID = (
        Example(
            "import importlib\n\nfrom tvm.support import USE_MSC\n\nif USE_MSC:\n"
            '    msc = importlib.import_module("tvm.contrib.msc")\n'
        ),
    )

    def wanted(self, site, verdict):
        return verdict is Verdict.NONE and site.kind is SiteKind.DYNAMIC

    def problem(self, site, verdict):
        return f"{_WHEN[site.execution]} through a dynamic import without a guard"


class UnresolvedDynamicImport(Rule):
    """
    ## What it does
    Reports a dynamic import outside a scope whose target is built at run time (an f-string or a
    concatenation) and whose literal start could name the scope, e.g.
    `importlib.import_module(f"tvm.contrib.{name}")` next to scope `tvm.contrib.msc`; also where
    only some of its values are known and one of them starts so (the result of a function of the
    file returning `f"matplotlib.backends.backend_{name}"` beside `name[9:]`).

    ## Why is this bad
    scopeguard cannot know which module is loaded; if `name` can be `"msc"`, this loads the scope
    behind every toggle. It is reported for a reviewer to look at rather than guessed either way.

    ## Fix
    Guard the call with the scope's toggle, exclude the scope's name from the values it may take,
    or suppress it with `# scopeguard: ignore[SG206]  reason` once reviewed.
    """

    code = "SG206"
    name = "unresolved-dynamic-import"
    summary = "a dynamic import built at run time might load a scope"
    severity = Severity.WARNING
    INVALID = (Example('import importlib\n\n\ndef load(name):\n    return importlib.import_module(f"tvm.contrib.{name}")\n', lines=(5,)),)
    VALID = (Example('import importlib\n\n\ndef load(name):\n    return importlib.import_module(f"tvm.ir.{name}")\n'),)

    def check(self, project: Project) -> Iterator[Violation]:
        for facts in project.graph.files.values():
            if not facts.unresolved or project.owner(facts) is not None:
                continue
            for item in facts.unresolved:
                # its known start, or the known starts of some of its values (the returns of the
                # function whose result it imports: `f"pkg.backends.backend_{name}"` beside `name[9:]`)
                starts = [start for start in (item.prefix, *item.alternatives) if start and not start.startswith(".")]
                if item.reason is UnresolvedReason.BEYOND_ROOT or not starts:
                    continue
                for scope in project.config.scopes:
                    start = next((s for s in starts if scope.may_contain(s)), None)
                    if start is None or project.allowed(scope, facts):
                        continue
                    if scope.toggle and any((scope.toggle, True) in g.knowledge for g in item.guards):
                        continue
                    known = (f"{item.reason}" if start == item.prefix
                             else f"one of its values starts with {start!r}")
                    yield self.violation(
                        facts,
                        item.line,
                        item.column,
                        f"{facts.node} calls `{item.text}`, which may load scope {scope.name} "
                        f"({known}); guard it with "
                        f"{guard_advice(project, scope)} "
                        "or make sure it cannot name the scope",
                        imported=start,
                        scope=scope.name,
                    )
