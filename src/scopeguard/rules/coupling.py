"""Couplings no `import` statement shows: registry names, monkeypatches, opaque dynamic imports.

In TVM most coupling between Python modules goes through strings: packed functions are registered
and looked up by name (`register_global_func("relax.x")`, `get_global_func("relax.x")`,
`init_ffi_api("relax", __name__)`), and modules are loaded by computed names. A scope owns the
registry names under its own dotted name (`tvm.contrib.nnpack.`) and under its `ffi_prefixes`
(`relax.`); the longest matching prefix decides the owner of a name.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis import Project, Verdict, classify
from ..analysis.registry import may_own, name_owner, registry_name
from ..base.model import (
    TYPE_CHECKING,
    Execution,
    FileFacts,
    NameReference,
    ReferenceKind,
    Scope,
    Severity,
    UnresolvedReason,
    Violation,
)
from .base import Example, Rule, guard_advice

_LOOKUPS = (ReferenceKind.LOOKUP, ReferenceKind.INIT_API)


class UnguardedRegistryLookup(Rule):
    """
    ## What it does
    Reports code outside a scope that looks up one of the scope's registry names
    (`get_global_func("relax.x")`, `init_ffi_api("relax.transform", __name__)`) without a guard
    by the scope's toggle. A scope owns the names under its dotted name (`tvm.contrib.nnpack.`)
    and under its `ffi_prefixes`. Lookups that tolerate a missing name
    (`get_global_func(name, allow_missing=True)`), type-only code and the scope's `allow`
    entry points are not reported, nor lookups in a `try` whose handler catches the failure
    (`except ValueError`/`RuntimeError`/`AttributeError`, not re-raised); code of another scope
    is, unless it lists the scope in `uses`.

    ## Why is this bad
    The lookup couples the caller to the scope as tightly as an import does, but no import
    statement shows it: with the scope turned off or deleted, the lookup fails at run time
    ("Cannot find global function"), and import-only tools call the tree clean.

    ## Fix
    Guard the lookup with the scope's toggle, look it up with `allow_missing=True` and handle
    None, move the caller into the scope, or list it in the scope's `allow`.
    """

    code = "SG207"
    name = "unguarded-registry-lookup"
    summary = "outside code looks up a scope's registry names without its toggle"
    INVALID = (
        Example('import tvm\n\n\ndef legalize(mod):\n    return tvm.get_global_func("tvm.relax.legalize")(mod)\n', lines=(5,)),
    )
    VALID = (
        Example(
            "import tvm\nfrom tvm.support import _RUNTIME_ONLY\n\n\ndef legalize(mod):\n    if _RUNTIME_ONLY:\n"
            "        return mod\n"
            '    return tvm.get_global_func("tvm.relax.legalize")(mod)\n'
        ),
        Example('import tvm\n\nHAS_RELAX = tvm.get_global_func("tvm.relax.legalize", allow_missing=True) is not None\n'),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        config = project.config
        if not config.scopes:
            return
        for facts in project.graph.files.values():
            importer = project.owner(facts)
            for reference in facts.references:
                if reference.kind not in _LOOKUPS:
                    continue
                # f"relax.ext.{x}" lies under "relax." whatever x is: known start, known owner.
                owned = name_owner(config, registry_name(reference))
                if owned is None:
                    continue
                scope, prefix = owned
                if importer is not None and (importer.name == scope.name or scope.name in importer.uses):
                    continue
                if project.allowed(scope, facts):
                    continue
                verdict = classify(reference, scope)
                if verdict not in (Verdict.NONE, Verdict.WRONG_TOGGLE):
                    continue
                when = "at import time" if reference.execution is Execution.IMPORT else "when a function runs"
                who = f"{facts.node} (scope {importer.name})" if importer is not None else facts.node
                undeclared = f", which {importer.name} does not declare in `uses`" if importer is not None else ""
                guard = (
                    f" behind toggle {', '.join(sorted(reference.toggles_required_on))}, not the scope's"
                    if verdict is Verdict.WRONG_TOGGLE
                    else " without a guard"
                )
                yield self.violation(
                    facts,
                    reference.line,
                    reference.column,
                    f"{who} looks up {_shown(reference)} of scope {scope.name} (registry prefix {prefix!r}) "
                    f"{when} through `{reference.call}`{guard}{undeclared}; it fails once the scope is off or "
                    f"deleted: guard it with {guard_advice(project, scope)}, "
                    "pass allow_missing=True and handle None, or move it into the scope",
                    imported=reference.text,
                    scope=scope.name,
                )


def _scope_files(project: Project) -> Iterator[tuple[FileFacts, Scope]]:
    """The source files that belong to a scope (by module; its tests are judged as outside code)."""
    for facts in project.graph.files.values():
        scope = project.config.scope_of(facts.module) if not facts.extra else None
        if scope is not None:
            yield facts, scope


def _shown(reference: NameReference) -> str:
    return f"a name starting with {reference.text!r}" if reference.is_prefix else repr(reference.text)


class ForeignRegistration(Rule):
    """
    ## What it does
    Reports code of a scope that registers a name (`register_global_func("x.y")`,
    `register_object("x.Y")`) outside the names the scope owns: its dotted name
    (`tvm.contrib.msc.`) and its `ffi_prefixes`. A name under another scope's prefixes is always
    reported; a name that no scope owns only once the scope has declared its `ffi_prefixes`
    (before that, scopeguard cannot tell TVM's `relax.*` names from foreign ones).

    ## Why is this bad
    A registry is global. A scope that registers names in another namespace adds to (or
    overrides) an API that is not its own: code outside finds behaviour that appears and
    disappears with the scope, and deleting the scope silently removes functions others look up.

    ## Fix
    Register under the scope's own prefix; if the scope really owns the namespace, add the prefix
    to its `ffi_prefixes` (each prefix has one owner).
    """

    code = "SG102"
    name = "foreign-registration"
    summary = "a scope registers registry names outside its own prefixes"
    INVALID = (
        Example(
            'import tvm_ffi\n\n\n@tvm_ffi.register_global_func("transform.msc_fuse")\ndef fuse(mod):\n    return mod\n',
            path="python/tvm/contrib/msc/core.py",
            lines=(4,),
        ),
    )
    VALID = (
        Example(
            'import tvm_ffi\n\n\n@tvm_ffi.register_global_func("tvm.contrib.msc.fuse")\ndef fuse(mod):\n    return mod\n',
            path="python/tvm/contrib/msc/core.py",
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        config = project.config
        for facts, scope in _scope_files(project):
            for reference in facts.references:
                if reference.kind is not ReferenceKind.REGISTER or reference.execution is Execution.NEVER:
                    continue
                owned = name_owner(config, reference.text)
                if owned is not None and owned[0].name == scope.name:
                    continue
                if owned is None and not scope.ffi_prefixes:
                    # Until a scope declares its registry namespace, only a name that another scope
                    # owns is known to be foreign: TVM's `relax.*` names are tvm.relax's own, but
                    # scopeguard cannot know that without `ffi_prefixes = ["relax."]`.
                    continue
                if reference.is_prefix and may_own(scope, reference):
                    continue  # f"msc.{name}": only its start is known, and that start is the scope's
                other = f", a name of scope {owned[0].name} (prefix {owned[1]!r})" if owned is not None else ""
                prefixes = ", ".join(repr(p) for p in scope.owned_prefixes)
                yield self.violation(
                    facts,
                    reference.line,
                    reference.column,
                    f"{facts.node} (scope {scope.name}) registers {reference.text!r} through `{reference.call}`"
                    f"{other}, outside the scope's names ({prefixes}); register it under the scope's prefix, "
                    "or add the prefix to the scope's `ffi_prefixes` if the scope owns it",
                    imported=reference.text,
                    scope=scope.name,
                )


class MonkeypatchOutsideScope(Rule):
    """
    ## What it does
    Reports code of a scope that, when it is imported, assigns, deletes or `setattr`s an attribute
    of a module or class outside the scope (`tvm.ir.Op.fuse = f`, `setattr(IRModule, "x", f)`).
    Only objects reached through an import of the file are seen; changes inside functions run
    when called and are not reported.

    ## Why is this bad
    An S0 module must not change existing code. A monkeypatch at import time changes the
    behaviour of code outside the scope for everyone, as soon as anything imports the scope, and
    turning the toggle off or deleting the scope changes it back.

    ## Fix
    Subclass or wrap instead, register through an official extension point, or do the change in
    a function that callers opt into.
    """

    code = "SG103"
    name = "monkeypatch-outside-scope"
    summary = "a scope changes modules or classes outside it when imported"
    INVALID = (
        Example(
            "import tvm.ir.transform\n\n\ndef _fast_pass(mod):\n    return mod\n\n\n"
            "tvm.ir.transform.default_pass = _fast_pass\n",
            path="python/tvm/contrib/msc/core.py",
            lines=(8,),
        ),
    )
    VALID = (
        Example(
            "import tvm.ir.transform\n\n\ndef _fast_pass(mod):\n    return mod\n\n\n"
            "def enable():\n    tvm.ir.transform.default_pass = _fast_pass\n",
            path="python/tvm/contrib/msc/core.py",
        ),
    )

    def check(self, project: Project) -> Iterator[Violation]:
        for facts, scope in _scope_files(project):
            for patch in facts.patches:
                if patch.execution is not Execution.IMPORT or scope.contains(patch.target):
                    continue
                how = {"delete": "deletes", "delattr": "deletes"}.get(patch.how, "sets")
                yield self.violation(
                    facts,
                    patch.line,
                    patch.column,
                    f"{facts.node} (scope {scope.name}) {how} {patch.dotted} at import time: importing the scope "
                    "changes code outside it; subclass or wrap instead, or make the change in a function "
                    "callers opt into",
                    imported=patch.target,
                    scope=scope.name,
                )


class OpaqueDynamicImport(Rule):
    """
    ## What it does
    Reports, in code outside every scope, a dynamic import (`importlib.import_module(name)`,
    `__import__(name)`, `importlib.util.find_spec(name)`, `importlib.resources.files(pkg)`,
    `exec(code)`, a loader's `exec_module`) whose target scopeguard cannot know at all: no literal
    start, no module constant, no `__name__`, no value flow, no `[[tool.scopeguard.dynamic_imports]]`
    declaration. Also an import of a module under a project package that is not in the tree, when the
    project installs an import hook (`sys.meta_path.append(Finder())`, `sys.path_hooks`): the hook may
    serve it with any module (TVM's `tvm.script.parser.<dialect>`). Reported only when scopes are
    declared.

    ## When `check` reports it, and when it is left to `audit` and `delete-plan`
    A dynamic import is reported here only where its target may be a registered scope:

    1. **The value flow says so**: then it is not this rule's finding but SG205 (a value that names
       the scope, at the line that writes it) or SG206 (a known start that can begin a scope's name,
       including the start of one of its values: `self._module_name(b)` returning
       `f"matplotlib.backends.backend_{b}"` beside `b[9:]`).
    2. **The value flow says it cannot be a scope**: not reported (these claims are each checked
       against CPython in tests/test_precision_real.py). A loop variable over literal lists, tuples,
       comprehensions or module tables the file never changes; a `test*` function's parameter that
       `@pytest.mark.parametrize` fills with string literals (not `indirect`); a name whose values all start with a
       literal no scope begins with (`f"json.{x}"`, also when it is every `return` of the function
       whose result it imports); `importlib.util.find_spec(name)` of such values, judged by the
       parent it imports (it imports only that);
       `import_module(obj.__module__)` (the module that defined an existing object, already
       imported) unless the project assigns `__module__` a name in a scope or one it cannot read;
       the first dotted part of a name (`name.split(".")[0]`, `name.partition(".")[0]`, also
       through a local bound once): a top-level module, which loads a scope below it only through
       its own imports (edges judged where they are written), unless a scope is a whole top-level
       package;
       `importlib.metadata.entry_points()` (lists distributions' entry points, imports nothing itself)
       unless the project's own packaging names a scope; `eval(repr(x))` and exec/eval without
       builtins; `importlib.util.spec_from_file_location(name, path)`, which builds a spec and
       imports nothing (not even `name`'s parents) when the loader call that runs the spec
       (`spec.loader.exec_module(m)`) is a site of the same function: that call is the finding.
       A name read from the environment (`os.environ["X"]`) is *not* such a case: a variable can
       name any module, so it counts as unknown.
    3. **Nothing can be said of the value** (a parameter, a value computed at run time, the
       environment, a file's contents): reported where the site can run without the project's tests
       asking for it, that is
       - it **may run at import time** (module level, or a function the one project-wide import-time
         analysis reaches from some module's import), or
       - it is **reachable from outside code**: its function is in a module that code outside the
         project can import and call. Precisely, every function of a module that is not run by a
         test runner only; a private function counts (public functions reach it), and so does a
         `testing` package or `testing_utils` module (libraries ship them for other projects'
         tests). Modules run by a test runner only: files of `extra_roots` (`tests/`), `test_*`,
         `*_test`, `conftest` and `tests` modules, and modules inside a `tests` or `test` package.
         A value from outside code is the obvious case (a public function's parameter flowing to
         the argument: `def load(name): import_module(name)`), but a value the library computes
         (read from its configuration, a file, a registry outside code fills) is reported too:
         nothing says it cannot name a scope.

    The rest, a site of a test that runs only when the test does, is not reported by `check`: it is
    never silenced, `delete-plan SCOPE` and `audit SCOPE` list every unknown dynamic import with
    when it may run and why its target is unknown.

    ## Why is this bad
    It may load any module, scopes included, behind every toggle; no import-based check can tell.

    ## Fix
    Build the name from a literal prefix (`f"tvm.backend.{name}"`), which scopeguard can check
    against the scopes; declare what the site loads (`[[tool.scopeguard.dynamic_imports]]` with
    `path`, `function`, `call`, `loads` and `reason`); or suppress the finding with
    `# scopeguard: ignore[SG208]` and a reason once reviewed.
    """

    code = "SG208"
    name = "opaque-dynamic-import"
    summary = "a dynamic import whose target cannot be known at all"
    severity = Severity.WARNING
    INVALID = (Example("import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n", lines=(5,)),)
    VALID = (Example('import importlib\n\n\ndef load(name):\n    return importlib.import_module(f"tvm.ir.{name}")\n'),)

    def check(self, project: Project) -> Iterator[Violation]:
        from ..analysis.unknowns import dynamic_sites, may_run_at_import, run_by_test_runner_only, spec_run_elsewhere

        scopes = project.config.scopes
        if not scopes:
            return
        packaged = {s.name: project.packaging_entry_points(s) for s in scopes}
        sites = dynamic_sites(project.graph)
        for site in sites:
            facts = project.graph.files[site.node]
            if project.owner(facts) is not None:
                continue
            if site.entry_points:
                named = [s for s in scopes if packaged[s.name]]
                if not named:
                    continue  # lists other distributions' entry points: none can be the project's scopes
                where = ", ".join(packaged[named[0].name])
                yield self.violation(
                    facts, site.line, site.column,
                    f"{facts.node} calls `{site.text}`: an entry point it lists may load scope {named[0].name}, "
                    f"which the project's packaging names ({where}); guard the loading with the scope's toggle, "
                    "or review it and suppress with `# scopeguard: ignore[SG208]  reason`")
                continue
            if not site.unknown or site.reason not in (UnresolvedReason.NOT_LITERAL, UnresolvedReason.HOOKED):
                continue
            if any(scope.may_contain(start) and not project.allowed(scope, facts)
                   for start in site.alternatives for scope in scopes):
                continue  # a value it may take starts like a scope's name: SG206 says so, with that start
            if spec_run_elsewhere(site, sites):
                continue  # builds a spec, imports nothing: the loader call that runs it is the site
            if (site.only is not None or site.top_level) and not site.may_name_some(scopes):
                # `import_module(obj.__module__)`: an object's own module, already imported, or a
                # name the project assigns to `__module__`, none of them in a scope; or a top-level
                # name (`name.split(".")[0]`) while every scope lies below the top
                continue
            # Nothing is known of its target: worth a pre-commit finding only where it can matter
            # without being called on purpose (at import time), or where code outside the project
            # can call it (library code, not tests); the rest is delete-plan's and audit's context.
            if not (may_run_at_import(site) or not run_by_test_runner_only(facts)):
                continue  # a test's site, run only when the test runner calls it
            # what is known of when it runs, as the import-time analysis says it ("may run": a
            # function it reaches from some module's import, not a proof that it is called then)
            library = not run_by_test_runner_only(facts)
            if site.when.startswith("runs at import time") or (may_run_at_import(site) and not library):
                when = f"({site.when})"
            else:  # library code: that alone makes it reported; the analysis's "may" adds nothing sure
                when = "(in library code, which code outside the project can call)"
            if site.reason is UnresolvedReason.HOOKED:
                what = (f"{facts.node} imports {site.text}, which is not in the tree: the import hook the "
                        f"project installs (sys.meta_path) may serve it with any module {when}, so it may load a "
                        "scope behind every toggle; import the module it stands for by its own name, declare what "
                        "it loads in [[tool.scopeguard.dynamic_imports]], or review it and suppress with "
                        "`# scopeguard: ignore[SG208]  reason`")
            else:
                what = (f"{facts.node} calls `{site.text}` {when}: the module it loads cannot be known ({site.why}), "
                        "so it may load a scope behind every toggle; build the name from a literal prefix, declare "
                        "what it loads in [[tool.scopeguard.dynamic_imports]], or review it and suppress with "
                        "`# scopeguard: ignore[SG208]  reason`")
            yield self.violation(facts, site.line, site.column, what)
