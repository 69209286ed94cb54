"""SG1xx: a scope stays isolated — it uses only the scopes it declares."""

from __future__ import annotations

from collections.abc import Iterator

from ..base.model import Execution, Violation
from ..analysis import Project
from .base import Example, Rule


class UndeclaredScopeUse(Rule):
    """
    ## What it does
    Reports code of one scope (its modules or its extra paths, such as its tests) that imports
    another scope not listed in its `uses`.

    ## Why is this bad
    An S0 module is isolated in its own namespace. An undeclared dependency between two scopes
    means that turning one off or deleting it silently breaks the other, and reviewers of either
    never agreed to the coupling.

    ## Fix
    Declare the dependency (`uses = ["tvm.relax"]` on the importing scope) if it is intended, or
    remove the import. Type-only imports (under `TYPE_CHECKING`) are not reported.
    """

    code = "SG101"
    name = "undeclared-scope-use"
    summary = "a scope imports another scope that it does not declare in `uses`"
    INVALID = (Example("from tvm.contrib import msc\n", path="python/tvm/relax/expr.py", lines=(1,)),)
    VALID = (Example("from tvm import relax\n", path="python/tvm/contrib/msc/core.py"),)

    def check(self, project: Project) -> Iterator[Violation]:
        for edge in project.graph.import_edges():
            target = project.config.scope_of(edge.imported)
            if target is None or edge.site.execution is Execution.NEVER:
                continue
            owner = project.owner(edge.facts)
            if owner is None or owner.name == target.name or target.name in owner.uses:
                continue
            yield self.violation(
                edge.facts,
                edge.site.line,
                edge.site.column,
                f"{edge.importer} (scope {owner.name}) imports {edge.imported} of scope {target.name}, "
                f"which {owner.name} does not declare in `uses`; add \"{target.name}\" to its `uses` "
                "or remove the import",
                imported=edge.imported,
                scope=target.name,
            )
