"""SG3xx: a scope is easily deprecated — deleting its folder breaks nothing else.

Each rule simulates deleting every scope in turn (`scopeguard.core.deletion`) with the scope's toggle
off. What is reported where, so that a line is not blamed twice:
- a direct import of the scope is SG201/SG202/SG101/SG403's business (that rule names the line);
- SG301 reports a module that fails at import time through *another* module (a chain), once, at
  the import that starts the chain — and only where its own package still imports, because a
  module inside a failing package is fixed by fixing the package;
- SG302 reports a call site whose lazy import reaches a module that fails at import time once the
  scope is gone (lazy imports of the scope itself are SG202);
- SG303 reports packaging and configuration files that name the scope.
Code that belongs to a scope declaring the deleted one in `uses` is not reported: that dependency
is declared, and the scope goes with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis import Project, format_chain
from ..base.model import Severity, Violation
from .base import Example, Rule, guard_advice, written_places


def _declared_user(project: Project, facts, scope) -> bool:
    owner = project.owner(facts)
    return owner is not None and scope.name in owner.uses


def _fix(project: Project, scope) -> str:
    if scope.toggle_written:  # its guards hold only once nothing turns it on (analysis/toggle_writes.py)
        return (f"remove the import-time write of toggle {scope.toggle} ({written_places(scope)}) so that its guards "
                f"hold, or move the code that needs it into {scope.name}")
    return f"guard a link of the chain with {guard_advice(project, scope)}, or move the code that needs it into {scope.name}"


class DeletionBreaksModule(Rule):
    """
    ## What it does
    Simulates deleting each scope (its folder and extra paths, with its toggle off) and reports a
    module outside it that then fails at import time through another module, with the chain:
    `tvm -> tvm.script -> tvm.script.parser.relax -> tvm.relax (deleted)`. The module may not
    import the scope at all. Reported at the import that starts the chain, once per module whose
    own package still imports.

    ## Why is this bad
    An S0 module must be "easily deprecated by removing its namespace, with no modules that come
    and depend on it". A chain of unguarded imports makes a module that never names the scope
    depend on it, so deleting the folder breaks `import` far away from it.

    ## Fix
    Guard one link of the chain with the scope's toggle (usually the import that enters the
    scope's neighbourhood), or make that import lazy. Direct imports of the scope are reported by
    SG201 on their own line.
    """

    code = "SG301"
    name = "deletion-breaks-module"
    summary = "deleting a scope breaks a module at import time, through a chain of imports"
    INVALID = (
        Example(
            "from tvm.ir import transform\n",
            path="python/tvm/driver/__init__.py",
            also=(("python/tvm/__init__.py", ""), ("python/tvm/ir/__init__.py", ""),
                  ("python/tvm/ir/transform.py", "from tvm.contrib import msc\n")),
            lines=(1,),
        ),
    )
    VALID = (
        Example(
            "from tvm.ir import transform\n",
            path="python/tvm/driver/__init__.py",
            also=(("python/tvm/__init__.py", ""), ("python/tvm/ir/__init__.py", ""),
                  ("python/tvm/ir/transform.py",
                   "from tvm.support import USE_MSC\n\nif USE_MSC:\n    from tvm.contrib import msc\n")),
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        for plan in project.deletion_plans:
            scope = plan.scope
            failing = {b.module for b in plan.broken}
            for item in plan.broken:
                if item.extra or item.via_package or item.direct:
                    continue  # tests follow their sources; direct imports are SG201's line
                parent = item.module.rpartition(".")[0]
                if parent in failing:
                    continue
                facts = project.graph.files.get(item.module)
                if facts is None or _declared_user(project, facts, scope):
                    continue
                chain = format_chain(item.chain)
                yield self.violation(
                    facts, item.line, item.column,
                    f"{item.module} fails at import time once scope {scope.name} is deleted: {chain}; "
                    + _fix(project, scope),
                    imported=item.chain[1], scope=scope.name, chain=item.chain,
                )


class DeletionBreaksCall(Rule):
    """
    ## What it does
    Reports an import inside a function, outside a scope, of a module that fails at import time
    once the scope is deleted (the function breaks when called). Lazy imports of the scope itself
    are SG202's.

    ## Why is this bad
    The module still imports after the deletion, so nothing fails until the function runs: the
    breakage surfaces late, in a code path tests may not cover.

    ## Fix
    Check the scope's toggle before the import (`if not USE_MSC: raise RuntimeError(...)`), or
    guard the chain that makes the imported module depend on the scope.
    """

    code = "SG302"
    name = "deletion-breaks-call"
    summary = "deleting a scope breaks a function whose lazy import reaches it"
    INVALID = (
        Example(
            "def run():\n    from tvm.driver import build\n    return build\n",
            path="python/tvm/ir/transform.py",
            also=(("python/tvm/driver/__init__.py", ""),
                  ("python/tvm/driver/build.py", "from tvm.contrib.msc import core\n")),
            lines=(2,),
        ),
    )
    VALID = (
        Example(
            "from tvm.support import USE_MSC\n\n\ndef run():\n    if not USE_MSC:\n        return None\n"
            "    from tvm.driver import build\n    return build\n",
            path="python/tvm/ir/transform.py",
            also=(("python/tvm/driver/__init__.py", ""),
                  ("python/tvm/driver/build.py", "from tvm.contrib.msc import core\n")),
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        for plan in project.deletion_plans:
            scope = plan.scope
            for item in plan.lazy:
                if len(item.chain) == 1:
                    continue  # a lazy import of the scope itself: SG202
                facts = project.graph.files.get(item.importer)
                if facts is None or _declared_user(project, facts, scope):
                    continue
                chain = format_chain(item.chain)
                yield self.violation(
                    facts, item.line, item.column,
                    f"{item.importer} imports {item.imported} inside a function, which fails once scope "
                    f"{scope.name} is deleted: {chain}; " + _fix(project, scope),
                    imported=item.imported, scope=scope.name, chain=item.chain,
                )


class PackagingNamesScope(Rule):
    """
    ## What it does
    Reports lines of packaging and configuration files (`pyproject.toml` outside
    `[tool.scopeguard]`, `setup.py`, `setup.cfg`, `MANIFEST.in`, at the project root and beside
    the source roots) that name a scope: its dotted name, its path or one of its extra paths.

    ## Why is this bad
    Deleting the scope's folder is then not enough: the package list, an entry point or a
    manifest still names it, and building or installing the project breaks.

    ## Fix
    Let packaging find packages (`find_packages`, `[tool.setuptools.packages.find]`) instead of
    listing the scope, and move scope-specific entry points behind the scope's toggle; or suppress
    the finding where the mention is intended and goes with the scope.
    """

    code = "SG303"
    name = "packaging-names-scope"
    summary = "a packaging or config file names a scope, so deleting its folder is not enough"
    severity = Severity.WARNING
    INVALID = (
        Example('from setuptools import setup\n\nsetup(packages=["tvm", "tvm.contrib.msc"])\n', path="setup.py", lines=(3,)),
    )
    VALID = (
        Example('from setuptools import find_packages, setup\n\nsetup(packages=find_packages("python"))\n',
                path="setup.py"),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        from ..collect.packaging import references

        if project.build is None:
            raise ValueError("SG303 needs the project's packaging facts: build the Project with pipeline.context()")
        for scope in project.config.scopes:
            for ref in references(project.build.packaging, scope):
                yield Violation(
                    self.code, ref.path, ref.line, 1,
                    f"{ref.why} ({scope.name}): `{ref.text}`; deleting the scope's folder leaves this behind",
                    scope=scope.name, imported=scope.name, severity=self.severity,
                )
