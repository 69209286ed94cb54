"""SG4xx: a scope can be turned off by its feature toggle."""

from __future__ import annotations

from collections.abc import Iterator

from ..base.model import Execution, Severity, Violation
from ..analysis import Project, Verdict
from .base import EXAMPLE_PYPROJECT, Example, Rule, guard_advice, ways_out


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
            lines=(20,),
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
    followed; imports behind other toggles and `try`/`except ImportError` are, because they run —
    except the toggles of scopes that declare `uses = [scope]`: such a scope is off whenever the
    one it uses is.

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
            lines=(1,),
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

            # A scope that declares `uses = [scope]` cannot be on while the scope is off: its
            # toggle is off too, and imports behind it do not run.
            off = (scope.trusted_toggle, *(u.trusted_toggle for u in project.users(scope) if u.trusted_toggle))

            def runs_with_toggle_off(site, off=off):
                return site.execution is Execution.IMPORT and not any(site.state_required(t) is True for t in off)

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
                f"{guard_advice(project, scope)} or an earlier link of the chain",
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
    summary = "an import of a scope is guarded by a toggle that is not the scope's own"
    INVALID = (Example("from tvm.support import _RUNTIME_ONLY\n\nif not _RUNTIME_ONLY:\n    from tvm.contrib import msc\n", lines=(4,)),)
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
            required = sorted(edge.site.toggles_required_on)
            owners = {other.toggle: other.name for other in project.config.scopes if other.toggle}
            found = ", ".join(f"{name} (scope {owners[name]}'s toggle)" if name in owners else f"{name} (no scope's toggle)"
                              for name in required)
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


class ToggleWithoutSwitch(Rule):
    """
    ## What it does
    In a project built with CMake (a `CMakeLists.txt` or `*.cmake` at its root or under
    `cmake/`), reports a scope whose toggle has nothing behind it that a user can flip: none of
    the toggle's `on_when_true`/`on_when_false` spellings is a CMake option (`set(USE_MSC OFF)`,
    `option(...)`, `tvm_option(...)` in those files) or an environment variable the code reads
    or sets (`os.environ.get("TVM_USE_MSC")`). Projects without CMake files are not checked:
    there a constant in the code is the build configuration.

    ## Why is this bad
    A feature toggle "contains the dependency from the rest" only if it can be turned off. A
    toggle that is a constant in the code can be flipped only by editing the code, so the scope
    is in practice always on.

    ## Fix
    Declare a build option (`tvm_option(USE_MSC "Build with MSC" OFF)` and `set(USE_MSC OFF)` in
    cmake/config.cmake) or read an environment variable, and list its name among the toggle's
    spellings.
    """

    code = "SG404"
    name = "toggle-without-switch"
    summary = "a scope's toggle has no build option or environment variable behind it"
    severity = Severity.WARNING
    INVALID = (
        Example(
            "",
            pyproject=EXAMPLE_PYPROJECT,
            also=(("cmake/config.cmake", "# Whether to build with CUDA\nset(USE_CUDA OFF)\n"),),
            lines=(13, 20),
        ),
    )
    VALID = (
        Example(
            'import os\n\nUSE_MSC = False\n_RUNTIME_ONLY = os.environ.get("TVM_USE_RUNTIME_LIB", "0") == "1"\n',
            path="python/tvm/support.py",
            also=(("cmake/config.cmake", "# Whether to build MSC\nset(USE_MSC OFF)\n"),),
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        from ..collect import buildopts

        if project.build is None:
            raise ValueError("SG404 needs the project's CMake facts: build the Project with pipeline.context()")
        scopes = [s for s in project.config.scopes if s.toggle is not None]
        if not scopes:
            return
        if not project.build.cmake:
            return  # not built with CMake: a constant in the code is the build configuration
        options = buildopts.options(project.build)
        environment = buildopts.environment_variables(project.graph.files.values())
        config_path = _config_relpath(project)
        for scope in scopes:
            toggle = project.config.toggle(scope.toggle)
            if toggle is None:
                continue
            found, variables = buildopts.backing(toggle, options, environment)
            if found or variables:
                continue
            names = ", ".join(buildopts.switches(toggle)) or "(none: decorators only)"
            yield Violation(
                self.code,
                config_path,
                scope.line,
                1,
                f"scope {scope.name}: toggle {toggle.name} has no build option or environment variable behind "
                f"it (spellings {names}; no CMake `set`/`option` of that name, no os.environ read); declare "
                "one and list it among the toggle's spellings, or the scope cannot be turned off",
                scope=scope.name,
                severity=self.severity,
            )


class ToggleSpellingIsFunction(Rule):
    """
    ## What it does
    Reports a toggle spelling written as a plain name (`is_msc_enabled`) that the project defines
    as a function (`def is_msc_enabled(): ...`). Such a toggle is a predicate: write the spelling
    with parentheses (`is_msc_enabled()`), so that only a call reads it.

    ## Why is this bad
    `if is_msc_enabled:` tests the function object, which is always true: the import under it runs
    whatever the toggle says. With a plain-name spelling that line reads like a guard, and an
    advice to "guard it with `if is_msc_enabled:`" hides the very import it should stop.

    ## Fix
    Write the spelling as a call in the toggle's table (`on_when_true = ["is_msc_enabled()"]`);
    scopeguard then counts only calls as guards and spells its advice `if is_msc_enabled():`.
    """

    code = "SG405"
    name = "toggle-spelling-is-function"
    summary = "a toggle spelling written as a plain name names a function of the project"
    INVALID = (
        Example("def USE_MSC():\n    return False\n", path="python/tvm/support.py", lines=(1,)),
    )
    VALID = (Example("USE_MSC = False\n_RUNTIME_ONLY = False\n", path="python/tvm/support.py"),)

    def check(self, project: Project) -> Iterator[Violation]:
        plain: dict[str, list[str]] = {}
        for toggle in project.config.toggles:
            for spelling in (*toggle.on_when_true, *toggle.on_when_false):
                if not spelling.endswith(")") and spelling.replace(".", "").replace("_", "").isalnum():
                    plain.setdefault(spelling.rpartition(".")[2], []).append(toggle.name)
        if not plain:
            return
        for facts in project.graph.files.values():
            for function in facts.functions:
                names = plain.get(function.name)  # module-level functions only: a method is `Class.name`
                if names:
                    toggles = ", ".join(dict.fromkeys(names))
                    yield self.violation(
                        facts, function.line, 1,
                        f"{function.name} is a function, and toggle {toggles} spells it as a plain name: "
                        f"`if {function.name}:` tests the function object (always true), not the toggle; "
                        f"write the spelling `{function.name}()` in [tool.scopeguard.toggles.{names[0]}]",
                    )
