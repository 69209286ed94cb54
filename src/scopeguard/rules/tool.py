"""SG0xx: problems with the input itself. Reported as findings; the rest of the tree is analysed."""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis import Project
from ..base.model import FileFacts, Severity, Suppression, UnresolvedReason, Violation
from .base import EXAMPLE_PYPROJECT, Example, Rule


class UnparsableFile(Rule):
    """
    ## What it does
    Reports a file that could not be read or parsed (a syntax error, undecodable bytes, a file
    that cannot be opened).

    ## Why is this bad
    scopeguard cannot see the imports of a file it cannot parse, so a leak into a scope may hide
    there. Every other file is still analysed; this finding makes the gap visible instead of silent.

    ## Fix
    Fix the syntax error or the encoding, or exclude the file (`exclude` in `[tool.scopeguard]`)
    if it is not meant to be Python (a template, a Python 2 leftover).
    """

    code = "SG001"
    name = "unparsable-file"
    summary = "a file could not be read or parsed; its imports are unknown"
    INVALID = (Example("def transform(:\n    pass\n", lines=(1,)),)
    VALID = (Example("def transform():\n    pass\n"),)

    def check(self, project: Project) -> Iterator[Violation]:
        for facts in project.graph.files.values():
            if facts.error is not None:
                yield self.violation(facts, facts.error.line, facts.error.column, f"cannot analyse {facts.path}: {facts.error.reason}")


class RelativeImportBeyondRoot(Rule):
    """
    ## What it does
    Reports a relative import whose dots climb above the top-level package.

    ## Why is this bad
    Python raises `ImportError: attempted relative import beyond top-level package` when the
    module is imported, and scopeguard cannot tell which module was meant, so a scope boundary
    crossing may hide there.

    ## Fix
    Use one dot less per level, or an absolute import.
    """

    code = "SG002"
    name = "relative-import-beyond-root"
    summary = "a relative import climbs above the top-level package"
    INVALID = (Example("from .... import relax\n", lines=(1,)),)
    VALID = (Example("from .. import support\n"),)

    def check(self, project: Project) -> Iterator[Violation]:
        for facts in project.graph.files.values():
            for item in facts.unresolved:
                if item.reason is UnresolvedReason.BEYOND_ROOT:
                    yield self.violation(facts, item.line, item.column, f"`{item.text}` in {facts.node}: {item.reason}")


class _SuppressionRule(Rule):
    """Rules about `# scopeguard: ignore` comments: the engine (rules.run) judges them once every
    other rule has run, since only then is it known what each comment silences."""

    severity = Severity.WARNING

    def check(self, project: Project) -> Iterator[Violation]:
        return iter(())  # judged by rules.run

    def at(self, facts: FileFacts, item: Suppression, codes: list[str]) -> Violation:
        return self.violation(facts, item.line, item.column, self.describe(codes), imported=",".join(codes))

    def describe(self, codes: list[str]) -> str:
        raise NotImplementedError


class UnusedSuppression(_SuppressionRule):
    """
    ## What it does
    Reports a `# scopeguard: ignore[...]` comment, or a code in it, that silences no finding
    (like ruff's RUF100). A code is judged only if its rule runs in `check` (change rules SG5xx
    run only with `--diff`, so their codes are never reported here); a comment without codes is
    unused when it silences nothing at all.

    ## Why is this bad
    A stale suppression hides the next real finding on that statement, and tells readers that
    something is wrong where nothing is.

    ## Fix
    Remove the comment, or the unused code from it.
    """

    code = "SG003"
    name = "unused-suppression"
    summary = "a suppression comment silences nothing"
    INVALID = (Example("from tvm import ir  # scopeguard: ignore[SG201]: was an integration point\n", lines=(1,)),)
    VALID = (Example("from tvm.contrib import msc  # scopeguard: ignore[SG201]: integration point, reviewed\n"),)

    def describe(self, codes: list[str]) -> str:
        if codes == ["(all)"]:
            return "unused suppression: `# scopeguard: ignore` silences no finding here; remove it"
        return f"unused suppression of {', '.join(codes)}: nothing to silence here; remove it"


class UnknownSuppressionCode(_SuppressionRule):
    """
    ## What it does
    Reports a code in a `# scopeguard: ignore[...]` comment that names no rule (`ignore[SG999]`,
    a typo, a code of another tool).

    ## Why is this bad
    The comment silences nothing the writer meant: the finding it was written for still fires,
    or will when the code appears.

    ## Fix
    Use a code that `scopeguard rule` lists (a prefix such as `SG2` covers a family).
    """

    code = "SG004"
    name = "unknown-suppression-code"
    summary = "a suppression comment names a code that is no rule"
    INVALID = (Example("from tvm import ir  # scopeguard: ignore[SG999]\n", lines=(1,)),)
    VALID = (Example("from tvm.contrib import msc  # scopeguard: ignore[SG201]\n"),)

    def describe(self, codes: list[str]) -> str:
        return f"unknown code(s) in suppression: {', '.join(codes)}; `scopeguard rule` lists the codes"


class SuppressionWithoutReason(_SuppressionRule):
    """
    ## What it does
    With `require_reason = true` in `[tool.scopeguard]`, reports a `# scopeguard: ignore[...]`
    comment that gives no reason after its codes (`# scopeguard: ignore[SG201]: reason`).

    ## Why is this bad
    A suppression is a decision; without its reason a reviewer cannot tell a reviewed
    integration point from a silenced leak.

    ## Fix
    Write the reason after the codes: `# scopeguard: ignore[SG201]: approved integration point`.
    """

    code = "SG005"
    name = "suppression-without-reason"
    summary = "a suppression comment gives no reason (with require_reason)"
    INVALID = (
        Example(
            "from tvm.contrib import msc  # scopeguard: ignore[SG201]\n",
            pyproject=EXAMPLE_PYPROJECT.replace('extra_roots = ["tests/python"]\n',
                                                'extra_roots = ["tests/python"]\nrequire_reason = true\n'),
            lines=(1,),
        ),
    )
    VALID = (
        Example(
            "from tvm.contrib import msc  # scopeguard: ignore[SG201]: approved integration point\n",
            pyproject=EXAMPLE_PYPROJECT.replace('extra_roots = ["tests/python"]\n',
                                                'extra_roots = ["tests/python"]\nrequire_reason = true\n'),
        ),
    )

    def describe(self, codes: list[str]) -> str:
        return "suppression without a reason: write it after the codes (`# scopeguard: ignore[CODE]: why`)"


class StaleDynamicImportDeclaration(Rule):
    """
    ## What it does
    Reports a `[[tool.scopeguard.dynamic_imports]]` declaration that matches no dynamic import of
    unknown target: no such file, or no call with that text in that function (the code was
    edited, moved or renamed, or the site's target became known).

    ## Why is this bad
    A declaration states what a site loads where the analysis cannot know, and replaces the
    site's "unknown". Once it matches nothing, it vouches for nothing: the site it was written
    for may have changed what it loads and be reported (or silently covered) differently.

    ## Fix
    Update `path`, `function` (the enclosing function, `Class.method`; "" at module level) and
    `call` (the call as `scopeguard delete-plan` shows it) to the site as it is now, review
    `loads` again, or remove the declaration.
    """

    code = "SG006"
    name = "stale-dynamic-import-declaration"
    summary = "a declaration of what a dynamic import loads matches no site"
    severity = Severity.WARNING
    INVALID = (
        Example(
            "",
            pyproject=EXAMPLE_PYPROJECT + '\n[[tool.scopeguard.dynamic_imports]]\npath = "python/tvm/ir/transform.py"\n'
                                          'function = "load"\ncall = "importlib.import_module(name)"\n'
                                          'loads = ["tvm.ir.*"]\nreason = "only IR modules"\n',
            lines=(29,),
        ),
    )
    VALID = (
        Example(
            "import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n",
            pyproject=EXAMPLE_PYPROJECT + '\n[[tool.scopeguard.dynamic_imports]]\npath = "python/tvm/ir/transform.py"\n'
                                          'function = "load"\ncall = "importlib.import_module(name)"\n'
                                          'loads = ["tvm.ir.*"]\nreason = "only IR modules"\n',
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        import os

        path = "pyproject.toml"
        if project.config.config_path:
            path = os.path.relpath(project.config.config_path, project.config.root).replace(os.sep, "/")
        for stale in project.stale_declarations:
            declared = stale.declaration
            yield Violation(
                self.code, path, declared.line or 1, 1,
                f"stale dynamic-import declaration (dynamic_imports[{declared.index}]): {stale.why}; update its "
                "path, function and call to the site as it is now (as `scopeguard delete-plan` shows it), or remove it",
                severity=self.severity,
            )
