"""What every rule shares: the Rule base class, its runnable examples, and the wording of guards
and of the ways out (what a site's guards miss, how to spell a toggle). The analysis they rest on
(Project, classify, Verdict) is `scopeguard.core`'s.

Rules carry their own VALID / INVALID examples (as Fixit's do). Each example is one file placed into
a small TVM-like example project (EXAMPLE_PROJECT below); the test suite runs every example, and
`scopeguard rule CODE` prints the first INVALID and VALID ones as "Example" and "Use instead", so the
documentation cannot drift from the behaviour.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ..analysis import Project
from ..base.model import FileFacts, ImportSite, Scope, Severity, Toggle, Violation

# The project every rule example is dropped into: TVM's shape, two scopes, the real toggles.
EXAMPLE_PYPROJECT = """\
[tool.scopeguard]
source_roots = ["python"]
extra_roots = ["tests/python"]

[tool.scopeguard.toggles.relax]
on_when_false = ["_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB"]

[tool.scopeguard.toggles.msc]
on_when_true = ["USE_MSC", "TVM_USE_MSC"]
decorators = ["tvm.testing.requires_msc"]

[[tool.scopeguard.scopes]]
name = "tvm.relax"
toggle = "relax"
allow = ["tvm.script.parser"]
extra_paths = ["tests/python/relax"]
ffi_prefixes = ["relax."]

[[tool.scopeguard.scopes]]
name = "tvm.contrib.msc"
toggle = "msc"
uses = ["tvm.relax"]
extra_paths = ["tests/python/contrib/test_msc"]
ffi_prefixes = ["msc."]
"""

EXAMPLE_FILES: dict[str, str] = {
    "python/tvm/__init__.py": "from . import ir\n",
    "python/tvm/ir/__init__.py": "",
    "python/tvm/ir/transform.py": "",
    "python/tvm/support.py": "USE_MSC = False\n_RUNTIME_ONLY = False\n",
    "python/tvm/script/__init__.py": "",
    "python/tvm/script/parser/__init__.py": "",
    "python/tvm/relax/__init__.py": "",
    "python/tvm/relax/expr.py": "",
    "python/tvm/contrib/__init__.py": "",
    "python/tvm/contrib/cutlass/__init__.py": "",
    "python/tvm/contrib/msc/__init__.py": "",
    "python/tvm/contrib/msc/core.py": "",
    "tests/python/ir/test_ir.py": "",
    "tests/python/relax/test_expr.py": "",
    "tests/python/contrib/test_msc/test_core.py": "",
}


@dataclass(frozen=True)
class Example:
    """One file dropped into the example project, replacing the file at `path`.

    `also` holds further (path, code) files the example needs; `pyproject`, when given, replaces
    the example project's configuration (for rules about the configuration itself).

    Change rules (SG5xx) judge a change, not a tree: their examples are a before/after pair.
    `before` holds the files as they were at BASE where they differ from the example project
    (None: the file did not exist); the change is everything between before_files() and files().
    """

    code: str
    path: str = "python/tvm/ir/transform.py"
    also: tuple[tuple[str, str], ...] = ()
    pyproject: str | None = None
    before: tuple[tuple[str, str | None], ...] = ()
    # INVALID examples: the lines (of `path`, or of pyproject.toml for configuration rules) where the
    # rule must fire, and nowhere else (as Fixit's `Invalid(range=...)`); the test suite checks them.
    lines: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Examples may be written as indented triple-quoted blocks: what the file holds is dedented.
        object.__setattr__(self, "code", textwrap.dedent(self.code))

    def files(self) -> dict[str, str]:
        """The example project's files with this example's dropped in."""
        return {**EXAMPLE_FILES, **dict(self.also), self.path: self.code}

    def before_files(self) -> dict[str, str]:
        """The example project as it was at BASE, for a change rule's example."""
        files = dict(EXAMPLE_FILES)
        for path, code in self.before:
            if code is None:
                files.pop(path, None)
            else:
                files[path] = code
        return files


def describe_guards(site: ImportSite, scope: Scope) -> str:
    """Why the guards around a site do not protect the scope, for messages ("" when nothing to say)."""
    notes = []
    for guard in site.guards:
        if scope.toggle_written and (scope.toggle, True) in guard.knowledge:
            notes.append(f"`{guard.text}` does not keep it out: toggle {scope.toggle} is turned on at import time "
                         f"at {written_places(scope)}")
        elif scope.toggle is not None and (scope.toggle, False) in guard.knowledge:
            notes.append(f"`{guard.text}` runs it only while toggle {scope.toggle} is OFF")
        elif scope.toggle is not None and scope.toggle in guard.mentioned:
            notes.append(f"`{guard.text}` does not ensure toggle {scope.toggle} is on")
    return "; ".join(notes)


def written_places(scope: Scope, most: int = 3) -> str:
    """Where a scope's toggle is written at import time, for messages (the first few)."""
    places = scope.toggle_written
    more = f" and {len(places) - most} more" if len(places) > most else ""
    return ", ".join(places[:most]) + more


def ways_out(project: Project, scope: Scope, facts: FileFacts) -> str:
    """The ways to resolve an outside import of `scope`, as the end of a message."""
    if scope.toggle_written:
        return (f"remove the import-time write of toggle {scope.toggle} ({written_places(scope)}) so that its "
                f"guard holds, move it into {scope.name}, or add {facts.module} to the scope's `allow`")
    toggle = project.config.toggle(scope.toggle) if scope.toggle else None
    spelling = guard_advice(project, scope)
    if facts.extra:  # a test outside the scope's extra paths
        decorator = f"`@{toggle.decorators[0].rsplit('.', 1)[-1]}`, " if toggle and toggle.decorators else ""
        return f"guard it with {decorator}{spelling}, or move the test under the scope's `extra_paths`"
    return f"guard it with {spelling}, move it into {scope.name}, or add {facts.module} to the scope's `allow`"


def guard_advice(project: Project, scope: Scope) -> str:
    """The guard to advise for `scope` ("`if is_x():`"), saying first what must move when the
    toggle's own predicate is defined inside the scope (a guard could not import it otherwise)."""
    spelling = toggle_spelling(project.config.toggle(scope.toggle) if scope.toggle else None)
    inside = project.toggle_inside(scope)
    if inside is None:
        return spelling
    name, where = inside
    return (f"{spelling} once `{name}` is moved out of {scope.name} (it is defined at {where}, "
            f"inside the scope it guards: importing it from there loads the scope)")


def toggle_spelling(toggle: Toggle | None) -> str:
    """How to write a guard for `toggle`, for "use instead" advice."""
    if toggle is None:
        return "a feature toggle"
    if toggle.on_when_true:
        return f"`if {toggle.on_when_true[0]}:`"
    if toggle.on_when_false:
        return f"`if not {toggle.on_when_false[0]}:`"
    if toggle.decorators:
        return f"`@{toggle.decorators[0].rsplit('.', 1)[-1]}`"
    return f"toggle {toggle.name}"


class Rule:
    """Base class. Subclasses set the class attributes and implement check()."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()

    def check(self, project: Project) -> Iterator[Violation]:
        raise NotImplementedError

    def violation(self, facts: FileFacts, line: int, column: int, message: str, **extra) -> Violation:
        return Violation(self.code, facts.path, line, column, message, importer=facts.node, severity=self.severity, **extra)

    @classmethod
    def documentation(cls) -> str:
        """The rule's help: its docstring, then its first INVALID and VALID examples."""
        parts = [f"{cls.code} {cls.name} ({cls.severity.value})", "", inspect.cleandoc(cls.__doc__ or "")]
        if cls.INVALID:
            parts += ["", "## Example", "", _show(cls.INVALID[0])]
        if cls.VALID:
            parts += ["", "## Use instead", "", _show(cls.VALID[0])]
        return "\n".join(parts).rstrip() + "\n"


def _show(example: Example) -> str:
    if example.pyproject is not None:
        shown = [("pyproject.toml", example.pyproject)]
    else:
        shown = [*example.also, (example.path, example.code)]
    if example.before:  # a change: each file before, then after
        before = [(f"{path} at BASE", "# (absent)" if code is None else code or "# (empty)") for path, code in example.before]
        shown = before + [(f"{path} after the change", code or "# (empty)") for path, code in shown]
    blocks = []
    for title, text in shown:
        body = "\n".join("    " + line if line else "" for line in text.rstrip().splitlines())
        blocks.append(f"    # {title}\n{body}")
    return "\n\n".join(blocks)
