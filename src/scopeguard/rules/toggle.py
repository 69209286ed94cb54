"""SG4xx: a scope can be turned off by its feature toggle."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Execution, Violation
from .base import EXAMPLE_PYPROJECT, Example, Project, Rule, Verdict, toggle_spelling, ways_out


class ScopeWithoutToggle(Rule):
    """
    ## What it does
    Reports a scope registered without a `toggle`.

    ## Why is this bad
    An S0 module "can be turned off through a feature toggle that contains the dependency from
    the rest". Without a declared toggle, no guard can be checked and the scope cannot be turned
    off.

    ## Fix
    Define a toggle under `[tool.scopeguard.toggles.NAME]` with the spellings the code tests
    (`USE_X`, `TVM_USE_X`, a decorator) and set `toggle = "NAME"` on the scope.
    """

    code = "SG401"
    name = "scope-without-toggle"
    summary = "a scope has no feature toggle"
    INVALID = (
        Example(
            "",
            pyproject=EXAMPLE_PYPROJECT.replace('toggle = "msc"\n', ""),
        ),
    )
    VALID = (Example("", pyproject=EXAMPLE_PYPROJECT),)

    def check(self, project: Project) -> Iterator[Violation]:
        config_path = _config_relpath(project)
        for scope in project.config.scopes:
            if scope.toggle is None:
                yield Violation(
                    self.code,
                    config_path,
                    scope.line,
                    1,
                    f"scope {scope.name} has no toggle, so it cannot be turned off; define one under "
                    "[tool.scopeguard.toggles] and name it in the scope's `toggle`",
                    scope=scope.name,
                    severity=self.severity,
                )


class RootImportLoadsScope(Rule):
    """
    ## What it does
    Follows every import that runs at import time from each top-level package (`import tvm`)
    with the scope's toggle off, and reports a scope that is still loaded, with the chain of
    modules that loads it. Imports behind the scope's toggle and type-only imports are not
    followed; imports behind other toggles and `try`/`except ImportError` are, because they run.

    ## Why is this bad
    Turning the toggle off must contain the scope. If `import tvm` still loads it — often through
    an approved integration point that itself is imported unguarded — the toggle does not work.

    ## Fix
    Guard the first import of the chain that crosses into the scope's neighbourhood with the
    scope's toggle, or make the integration point load the scope lazily.
    """

    code = "SG402"
    name = "root-import-loads-scope"
    summary = "importing the top-level package loads a scope whose toggle is off"
    INVALID = (
        Example(
            "from tvm import relax\n",
            path="python/tvm/script/parser/__init__.py",
            also=(
                ("python/tvm/__init__.py", "from . import ir, script\n"),
                ("python/tvm/script/__init__.py", "from . import parser\n"),
            ),
        ),
    )
    VALID = (
        Example(
            "from tvm.support import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from tvm import relax\n",
            path="python/tvm/script/parser/__init__.py",
            also=(
                ("python/tvm/__init__.py", "from . import ir, script\n"),
                ("python/tvm/script/__init__.py", "from . import parser\n"),
            ),
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        graph = project.graph
        roots = sorted(m for m in graph.modules if "." not in m)
        for scope in project.config.scopes:
            if scope.toggle is None:
                continue

            def runs_with_toggle_off(site, toggle=scope.toggle):
                return site.execution is Execution.IMPORT and site.state_required(toggle) is not True

            best: list[str] | None = None
            for root in roots:
                if scope.contains(root):
                    continue
                chains = graph.shortest_chains(root, runs_with_toggle_off)
                for node, chain in chains.items():
                    if scope.contains(node) and (best is None or (len(chain), chain) < (len(best), best)):
                        best = chain
            if best is None:
                continue
            importer, entered = best[-2], best[-1]
            facts = graph.files.get(importer)
            sites = graph.sites_between(importer, entered, runs_with_toggle_off)
            if facts is None or not sites:
                continue
            site = min(sites, key=lambda s: (s.line, s.column))
            chain = " -> ".join(best)
            yield Violation(
                self.code,
                facts.path,
                site.line,
                site.column,
                f"`import {best[0]}` loads scope {scope.name} with toggle {scope.toggle} off: {chain}; "
                f"guard this import with "
                f"{toggle_spelling(project.config.toggle(scope.toggle))} or an earlier link of the chain",
                importer=importer,
                imported=entered,
                scope=scope.name,
                severity=self.severity,
                chain=tuple(best),
            )


class WrongToggleGuard(Rule):
    """
    ## What it does
    Reports an import of a scope from outside it that is guarded by a toggle, but not by the
    scope's own toggle (e.g. `if not _RUNTIME_ONLY:` around an import of `tvm.contrib.msc`).

    ## Why is this bad
    The guard looks like containment but tests the wrong switch: with `USE_MSC` off and the
    runtime-only switch at its default, the scope is still imported, and deleting it breaks the
    importer.

    ## Fix
    Test the scope's own toggle (it may be combined: `if not _RUNTIME_ONLY and USE_MSC:`).
    """

    code = "SG403"
    name = "wrong-toggle-guard"
    summary = "an import of a scope is guarded by another scope's toggle"
    INVALID = (Example("from tvm.support import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from tvm.contrib import msc\n"),)
    VALID = (
        Example(
            "from tvm.support import _RUNTIME_ONLY, USE_MSC\n\nif not _RUNTIME_ONLY and USE_MSC:\n"
            "    from tvm.contrib import msc\n"
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        for edge, scope, verdict in project.outside_imports():
            if verdict is not Verdict.WRONG_TOGGLE:
                continue
            found = ", ".join(sorted(edge.site.toggles_required_on))
            yield self.violation(
                edge.facts,
                edge.site.line,
                edge.site.column,
                f"{edge.importer} imports {edge.imported} (scope {scope.name}) behind toggle {found}, "
                f"not the scope's toggle {scope.toggle or '(none)'}; {ways_out(project, scope, edge.facts)}",
                imported=edge.imported,
                scope=scope.name,
            )


def _config_relpath(project: Project) -> str:
    import os

    if not project.config.config_path:
        return "pyproject.toml"
    return os.path.relpath(project.config.config_path, project.config.root).replace(os.sep, "/")


